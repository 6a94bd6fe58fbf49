import { generateKeyPairSync } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Bundle } from "../../src/bundle/Bundle.js";
import { contentHash } from "../../src/bundle/hash.js";

/** Writes `key.pem` (private), `public.pem` and `other.pem` (another pair's public key) into `dir`. */
export function writeKeys(dir: string): void {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  writeFileSync(join(dir, "key.pem"), privateKey.export({ type: "pkcs8", format: "pem" }));
  writeFileSync(join(dir, "public.pem"), publicKey.export({ type: "spki", format: "pem" }));
  writeFileSync(join(dir, "other.pem"), generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }));
}

/**
 * Writes a forgery of the bundle at `from` to `to`: code added that sets `globalThis.forgedRan`
 * when it loads, and the content hash recomputed, as anyone can; the signature (if any) is the
 * original one, so only a signature check tells.
 */
export function forgeBundle(from: string, to: string): void {
  const bundle = JSON.parse(readFileSync(from, "utf8")) as Bundle;
  (bundle as { code: string }).code = `globalThis.forgedRan = true;\n${bundle.code}`;
  (bundle.manifest as { contentHash: string }).contentHash = contentHash(bundle);
  writeFileSync(to, JSON.stringify(bundle));
}

declare global {
  // eslint-disable-next-line no-var
  var forgedRan: unknown;
}
