import { createHash } from "node:crypto";
import type { Bundle } from "./Bundle.js";

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * The bytes the content hash covers: the bundle without its hash and signature, its top-level
 * fields in a fixed order and nested objects in the order they hold (the compiler's, which is
 * deterministic), so the same sources always give the same hash. A tool that rewrites a bundle
 * with its keys reordered changes the hash: the bundle is then refused, never misread (the order
 * carries meaning: the generated code numbers the declared tools in the schema's order).
 */
export function contentBytes(bundle: Omit<Bundle, "signature">): string {
  const { manifest, ...rest } = bundle;
  return JSON.stringify({ format: rest.format, manifest: { compiler: manifest.compiler, sources: manifest.sources }, schema: rest.schema, session: rest.session, rules: rest.rules, code: rest.code });
}

export function contentHash(bundle: Omit<Bundle, "signature">): string {
  return `sha256:${sha256Hex(contentBytes(bundle))}`;
}
