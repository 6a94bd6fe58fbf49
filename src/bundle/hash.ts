import { createHash } from "node:crypto";
import type { Bundle } from "./Bundle.js";

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * The text the content hash covers: the bundle without its hash and signature, in a canonical
 * form — every object's keys sorted (by UTF-16 code units, as `Array.prototype.sort` does), at
 * every level; arrays in their order — so the hash is the same for equal content in any key
 * order. A tool that stores or rewrites a bundle with its keys re-ordered (`jq -S`, a Postgres
 * `jsonb` column) leaves it loadable, and its signature valid; any change to a value, a key or
 * an array's order changes the hash.
 */
export function contentBytes(bundle: Omit<Bundle, "signature">): string {
  return canonicalJson(hashedContent(bundle));
}

/** What the content hash covers: the bundle but its hash and signature, the top level in a fixed order. */
function hashedContent(bundle: Omit<Bundle, "signature">): object {
  const { manifest, ...rest } = bundle;
  return { format: rest.format, manifest: { compiler: manifest.compiler, sources: manifest.sources }, schema: rest.schema, session: rest.session, rules: rest.rules, code: rest.code };
}

export function contentHash(bundle: Omit<Bundle, "signature">): string {
  return `sha256:${sha256Hex(contentBytes(bundle))}`;
}

/**
 * The hash bundles carried before it was taken over the canonical form: over the keys in the
 * order the compiler wrote them (the top level in a fixed order). A bundle built then still
 * loads; re-ordering its keys changes this hash.
 */
export function orderedContentHash(bundle: Omit<Bundle, "signature">): string {
  return `sha256:${sha256Hex(JSON.stringify(hashedContent(bundle)))}`;
}

/** JSON text of data with every object's keys sorted, no whitespace; what `JSON.stringify` leaves out (undefined), left out. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    let text = "[";
    for (let i = 0; i < value.length; i++) text += `${i > 0 ? "," : ""}${value[i] === undefined ? "null" : canonicalJson(value[i])}`;
    return `${text}]`;
  }
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  let text = "{";
  for (const key of Object.keys(value).sort()) {
    const field = (value as Record<string, unknown>)[key];
    if (field === undefined) continue;
    text += `${text.length > 1 ? "," : ""}${JSON.stringify(key)}:${canonicalJson(field)}`;
  }
  return `${text}}`;
}
