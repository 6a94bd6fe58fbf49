export type { Bundle } from "./Bundle.js";
export { BUNDLE_FORMAT, bundleJsonSchema } from "./bundleSchema.js";
export { loadBundle, verifyBundle, BundleError, type LoadOptions, type PublicKeySource } from "./loadBundle.js";
export { createBundle, serializeBundle, type PrivateKeySource } from "./writeBundle.js";
export { contentHash } from "./hash.js";
