import { createHash } from "node:crypto";

/**
 * The hex SHA-256 a bundle's manifest records for a source: of its UTF-8 text with a leading
 * byte order mark removed and every line end (`\r\n`, `\r`) written `\n`. A policy means the
 * same whatever its line ends, so a Windows checkout (git's `autocrlf`, a file saved by Notepad)
 * and a Linux one of the same commit build byte-identical bundles, and a release's recorded hash
 * matches either build. An LF file without a BOM hashes as `sha256sum` hashes it.
 */
export function sourceHash(text: string): string {
  return createHash("sha256").update(text.replace(/^\uFEFF/, "").replace(/\r\n?/g, "\n"), "utf8").digest("hex");
}

export { contentBytes, contentHash, InexactNumberError } from "../runtime/contentHash.js";
