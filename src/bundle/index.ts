export type { Bundle } from "./Bundle.js";
export { BUNDLE_FORMAT, bundleJsonSchema } from "./bundleSchema.js";
export { loadBundle, verifyBundle, BundleError, type LoadOptions, type PublicKeySource } from "./loadBundle.js";
// `BundleError`'s codes (PC700–PC709), so a caller can name the type of `error.code` and branch on its values.
export { BUNDLE_CODES, type BundleCode } from "./errorCodes.js";
export { createBundle, serializeBundle, type PrivateKeySource } from "./writeBundle.js";
export { contentHash } from "./hash.js";
