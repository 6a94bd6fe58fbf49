import { createHash } from "node:crypto";

/** What the content hash of a bundle covers (see `contentBytes`): its fields but the hash and the signature. */
export interface BundleContent {
  readonly format: string;
  readonly manifest: { readonly compiler: string; readonly sources: readonly { readonly path: string; readonly sha256: string }[] };
  readonly schema: unknown;
  readonly session: unknown;
  readonly rules: unknown;
  readonly code: string;
}

/**
 * The bytes the content hash covers: the bundle without its hash and signature, its top-level
 * fields in a fixed order and nested objects in the order they hold (the compiler's, which is
 * deterministic), so the same sources always give the same hash. A tool that rewrites a bundle
 * with its keys reordered changes the hash: the bundle is then refused, never misread (the order
 * carries meaning: the generated code numbers the declared tools in the schema's order).
 * (In the runtime, not in bundle/: the engine digests what it is given to run by the same bytes.)
 */
export function contentBytes(bundle: BundleContent): string {
  const { manifest } = bundle;
  return JSON.stringify({ format: bundle.format, manifest: { compiler: manifest.compiler, sources: manifest.sources }, schema: bundle.schema, session: bundle.session, rules: bundle.rules, code: bundle.code }, exactNumber);
}

/**
 * A number in a bundle that JSON does not write back as it was read: `1e400` parses as
 * Infinity, which JSON writes as `null`, and `-0` is written `0`. Hashing such a value would
 * give the hash of other content (the `null` or `0` the compiler wrote), so a signed bundle could
 * be edited without its key; it cannot be hashed, and a bundle holding it is refused.
 */
export class InexactNumberError extends Error {
  constructor(readonly field: string, readonly value: number) {
    super(`its \`${field.slice(0, 40)}\` holds ${Object.is(value, -0) ? "-0, which JSON writes back as 0" : `${value > 0 ? "a number too large for JSON (read as Infinity)" : value < 0 ? "a number too small for JSON (read as -Infinity)" : "NaN"}, which JSON writes back as null`}, so no hash covers it as written`);
    this.name = "InexactNumberError";
  }
}

/** `JSON.stringify`'s replacer for `contentBytes`: every number as it is, or an `InexactNumberError`. */
function exactNumber(key: string, value: unknown): unknown {
  if (typeof value === "number" && (!Number.isFinite(value) || Object.is(value, -0))) throw new InexactNumberError(key, value);
  return value;
}

/** `sha256:` and the hex SHA-256 of `contentBytes`: what a bundle's manifest holds as its `contentHash`. */
export function contentHash(bundle: BundleContent): string {
  return `sha256:${createHash("sha256").update(contentBytes(bundle), "utf8").digest("hex")}`;
}
