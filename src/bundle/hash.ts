import { createHash } from "node:crypto";
import type { Bundle } from "./Bundle.js";

export function sha256Hex(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("hex");
}

/**
 * The bytes the content hash covers: the bundle without its hash and signature, serialized
 * with a fixed key order, so the same sources always give the same hash.
 */
export function contentBytes(bundle: Omit<Bundle, "signature">): string {
  const { manifest, ...rest } = bundle;
  return JSON.stringify({ format: rest.format, manifest: { compiler: manifest.compiler, sources: manifest.sources }, schema: rest.schema, session: rest.session, rules: rest.rules, code: rest.code });
}

export function contentHash(bundle: Omit<Bundle, "signature">): string {
  return `sha256:${sha256Hex(contentBytes(bundle))}`;
}
