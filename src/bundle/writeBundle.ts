import { createPrivateKey, KeyObject, sign } from "node:crypto";
import type { CompiledPolicy } from "../runtime/policy.js";
import { VERSION } from "../version.js";
import type { Bundle } from "./Bundle.js";
import { BUNDLE_FORMAT } from "./bundleSchema.js";
import { contentHash, sha256Hex } from "./hash.js";

/** Wraps a compiled policy in a bundle: format, manifest with hashes, and an optional signature. */
export function createBundle(policy: CompiledPolicy, sources: readonly { path: string; text: string }[], options: { privateKey?: KeyObject | string } = {}): Bundle {
  const unsigned = {
    format: BUNDLE_FORMAT,
    manifest: { compiler: `policyc ${VERSION}`, contentHash: "", sources: sources.map((s) => ({ path: s.path, sha256: sha256Hex(s.text) })) },
    schema: policy.schema,
    session: policy.session,
    rules: policy.rules,
    code: policy.code,
  } as const;
  const hash = contentHash(unsigned as unknown as Bundle);
  const bundle: Bundle = { ...unsigned, manifest: { ...unsigned.manifest, contentHash: hash } };
  // Only a key left out means unsigned: an empty one (an empty key file) is an error, not a quiet
  // fallback to a bundle nobody can verify.
  if (options.privateKey === undefined) return bundle;
  if (typeof options.privateKey !== "string" && !(options.privateKey instanceof KeyObject)) throw new TypeError(`the signing key must be a PEM string or a KeyObject, not ${String(options.privateKey)}`);
  if (typeof options.privateKey === "string" && options.privateKey.trim() === "") throw new TypeError("the signing key is empty");
  const key = typeof options.privateKey === "string" ? createPrivateKey(options.privateKey) : options.privateKey;
  if (key.asymmetricKeyType !== "ed25519") throw new TypeError(`the signing key is ${key.asymmetricKeyType ?? "not an asymmetric key"}, not Ed25519`);
  return { ...bundle, signature: { algorithm: "ed25519", value: sign(null, Buffer.from(hash, "utf8"), key).toString("base64") } };
}

/** The bundle as text: fixed key order and layout, so the same sources give byte-identical files. */
export function serializeBundle(bundle: Bundle): string {
  return JSON.stringify(bundle, null, 2) + "\n";
}
