import { createPrivateKey, createPublicKey, type KeyObject } from "node:crypto";
import { resolve } from "node:path";
import { isOpenSshPublicKey, parses, severalKeysMistake } from "../bundle/keys.js";
import { BUNDLE_CODES, type BundleCode } from "../bundle/errorCodes.js";
import { describeFsError } from "../source/loadSources.js";
import { readLimited } from "../source/readLimited.js";
import { MAX_KEY_BYTES } from "./inputLimits.js";
import { kindName, kindOfText } from "../source/fileKind.js";
import { looksLikeUtf16, utf16Refusal } from "../source/textEncoding.js";

/** What a key file's text must be, for `--sign` and `--public-key` (a UTF-16 one is refused, as every other input is). */
export const KEY_TEXT = "a key file's PEM or JSON Web Key text is read as UTF-8";

const EXPECTED = "expected an Ed25519 private key in PEM or as a JSON Web Key";

/**
 * A key file holding a JSON Web Key (`{"kty": "OKP", "crv": "Ed25519", …}`, as cloud key
 * services export keys): its object, else undefined (PEM, DER, or no key at all).
 */
export function jwkOf(bytes: Buffer): Record<string, unknown> | undefined {
  return jsonOf(bytes, (value) => typeof value["kty"] === "string");
}

/**
 * A key file holding a JSON Web Key Set (`{"keys": [...]}`, as keys are published): its keys,
 * else undefined.
 */
export function jwkSetOf(bytes: Buffer): unknown[] | undefined {
  const set = jsonOf(bytes, (value) => Array.isArray(value["keys"]));
  return set === undefined ? undefined : (set["keys"] as unknown[]);
}

/** A file's JSON object when `fits` it, else undefined (PEM, DER, no JSON, another JSON value). */
function jsonOf(bytes: Buffer, fits: (value: Record<string, unknown>) => boolean): Record<string, unknown> | undefined {
  const text = bytes.toString("utf8").trim();
  if (!text.startsWith("{")) return undefined;
  try {
    const value: unknown = JSON.parse(text);
    return value !== null && typeof value === "object" && !Array.isArray(value) && fits(value as Record<string, unknown>) ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Reads the private key of `build --sign FILE` (relative to `cwd`). When the file holds no
 * private key PEM Node can read, the message says what it holds instead, in the user's terms
 * (a public key, an encrypted, DER or OpenSSH key, no key at all), not OpenSSL's error code.
 * The key's algorithm is `createBundle`'s to check (an RSA key: "the signing key is an RSA key").
 */
export function readSigningKey(path: string, cwd: string): { ok: true; key: KeyObject } | { ok: false; code: BundleCode; message: string } {
  let bytes: Buffer;
  try {
    bytes = readLimited(resolve(cwd, path), MAX_KEY_BYTES);
  } catch (error) {
    return { ok: false, code: BUNDLE_CODES.unreadableFile, message: `cannot read signing key \`${path}\`: ${describeFsError(error)}` };
  }
  const cannot = (why: string, expected = EXPECTED): { ok: false; code: BundleCode; message: string } => ({ ok: false, code: BUNDLE_CODES.unusableKey, message: `cannot sign with \`${path}\`: ${why} (${expected})` });
  // What Windows PowerShell 5.1's `Get-Content key.pem > k.pem` writes (see loadEngine's public key).
  if (looksLikeUtf16(bytes)) return { ok: false, code: BUNDLE_CODES.unreadableFile, message: `cannot sign with \`${path}\`: ${utf16Refusal(KEY_TEXT)}` };
  const text = bytes.toString("utf8");
  // An empty key file once built an unsigned bundle; it is a mistake, not "unsigned".
  // An empty file cannot be read as a key at all: PC700, as an empty bundle file is.
  if (text.trim() === "") return { ok: false, code: BUNDLE_CODES.unreadableFile, message: `cannot sign with \`${path}\`: the signing key file is empty (${EXPECTED})` };
  // A bundle, a policy or a recording given as the key is named as what it is.
  const kind = kindOfText(text.slice(0, 1024), path);
  if (kind !== "unknown") return cannot(`it is ${kindName(kind)}, not a key`);
  // Said as --public-key says it of a file of several keys.
  const several = severalKeysMistake(bytes, "signing key");
  if (several !== undefined) return { ok: false, code: BUNDLE_CODES.unusableKey, message: `cannot sign with \`${path}\`: ${several}` };
  const jwk = jwkOf(bytes);
  try {
    return { ok: true, key: jwk === undefined ? createPrivateKey(text) : createPrivateKey({ key: jwk, format: "jwk" }) };
  } catch {
    // Said below in the user's terms: OpenSSL's message is a code (error:1E08010C:DECODER…).
  }
  const isPublic = { ok: false as const, code: BUNDLE_CODES.unusableKey, message: `\`${path}\` is a public key: --sign takes the Ed25519 private key (the public one is for --public-key)` };
  // A JWK's private part is its `d`.
  if (jwk !== undefined) return jwk["d"] === undefined ? isPublic : cannot("its JSON Web Key cannot be read as an Ed25519 private key", `${EXPECTED} or as a JWK (\`"kty": "OKP", "crv": "Ed25519"\` with \`d\`)`);
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(text)?.[1];
  if (label === undefined) {
    if (isOpenSshPublicKey(text)) return isPublic;
    // Not PEM: a DER (binary) key, or no key at all (a policy file, a JWK, random bytes).
    if (parses(() => createPublicKey({ key: bytes, format: "der", type: "spki" }))) return isPublic;
    if (parses(() => createPrivateKey({ key: bytes, format: "der", type: "pkcs8" }))) return cannot("it is a DER (binary) key", `${EXPECTED}: \`openssl pkey -inform DER -in ${path} -out key.pem\` converts it`);
    return cannot("it holds no PEM key");
  }
  if (label.endsWith("PUBLIC KEY")) return isPublic;
  if (label === "CERTIFICATE") return cannot("it is a certificate, which holds a public key");
  if (label.includes("ENCRYPTED") || /^Proc-Type: *4, *ENCRYPTED/m.test(text)) return cannot("the key is encrypted, and --sign takes no passphrase", `${EXPECTED}, unencrypted: \`openssl pkey -in ${path} -out key.pem\` writes one`);
  if (label === "OPENSSH PRIVATE KEY") return cannot("it is an OpenSSH key (ssh-keygen's own format)", `${EXPECTED}, \`-----BEGIN PRIVATE KEY-----\``);
  return cannot(label.includes("PRIVATE KEY") ? `its \`${label}\` block cannot be read (damaged or cut short?)` : `it holds a \`${label}\` block, not a private key`);
}
