import { createPrivateKey } from "node:crypto";

/*
 * What reading a signing or public key shares. Key material never goes into a message: build
 * and CI scripts log exceptions, and a private key in a log trusts every bundle anyone builds
 * with it. So values are named by their kind ("a Buffer", "a string": `describeKind`), never shown.
 */

/** The bytes of a key given as bytes (`Buffer`, `Uint8Array`, `DataView`, `ArrayBuffer`), or undefined for any other value. */
export function keyBytes(given: unknown): Buffer | undefined {
  if (given instanceof ArrayBuffer) return Buffer.from(given);
  return ArrayBuffer.isView(given) ? Buffer.from(given.buffer, given.byteOffset, given.byteLength) : undefined;
}

/**
 * Whether bytes hold PEM text (a `-----BEGIN` line, perhaps after a UTF-8 byte order mark, which
 * Windows editors and PowerShell 5.1 write, and whitespace).
 */
export function isPem(bytes: Buffer): boolean {
  return /^(?:\xef\xbb\xbf)?\s*-----BEGIN /.test(bytes.subarray(0, 64).toString("latin1"));
}

/** Whether a key given as a string or bytes has nothing in it but whitespace (an empty key file). */
export function isBlankKey(given: string | Buffer): boolean {
  return (typeof given === "string" ? given : given.toString("latin1")).trim() === "";
}

/**
 * What Node's crypto said about a key it could not read, without the value: its argument
 * checks end with `Received …` and the start of the value given (`Received type string
 * ('MC4CAQAwBQYDK2VwBCIE...')`), which may be key material.
 */
export function keyErrorText(error: unknown): string {
  const message = error instanceof Error && typeof error.message === "string" ? error.message : "";
  const withoutValue = message.replace(/\.?\s*Received[\s\S]*$/, "");
  return withoutValue === "" ? "it is not a key Node's crypto reads" : withoutValue;
}

/**
 * Why a key that did not parse is an encrypted private key (PEM `ENCRYPTED PRIVATE KEY`, or a
 * legacy `Proc-Type: 4,ENCRYPTED` header), as a sentence; undefined for any other key. Node's
 * own message for it ("interrupted or cancelled") says nothing of the passphrase.
 */
export function encryptedKeyHint(given: unknown): string | undefined {
  const source = given !== null && typeof given === "object" && "key" in given ? (given as { key: unknown }).key : given;
  const bytes = typeof source === "string" ? Buffer.from(source.slice(0, 4096), "latin1") : keyBytes(source)?.subarray(0, 4096);
  if (bytes === undefined || !/-----BEGIN ENCRYPTED PRIVATE KEY-----|Proc-Type: 4,ENCRYPTED/.test(bytes.toString("latin1"))) return undefined;
  return "it is an encrypted private key: give it with its passphrase ({ key, passphrase }, as crypto.createPrivateKey reads it), or decrypt it first (openssl pkey -in key.pem -out plain.pem)";
}

/** Whether `read` (a crypto call reading a key) succeeds. */
export function parses(read: () => unknown): boolean {
  try {
    read();
    return true;
  } catch {
    return false;
  }
}

/** Whether key text is an OpenSSH public key (ssh-keygen's `.pub` line: `ssh-ed25519 AAAA… me@host`). */
export function isOpenSshPublicKey(text: string): boolean {
  return /^(?:\xef\xbb\xbf|\ufeff)?\s*(?:ssh-(?:ed25519|rsa|dss)|ecdsa-sha2-\S+|sk-\S+@openssh\.com) [A-Za-z0-9+/]/.test(text);
}

/**
 * What a public key that did not parse is instead, in the user's terms, when it is a key of
 * another kind people mistake for one (OpenSSH's formats, a DER private key); undefined
 * otherwise. Node's own message for these is an OpenSSL code (`error:1E08010C:DECODER…`).
 */
export function publicKeyMistake(given: unknown): string | undefined {
  const bytes = typeof given === "string" ? Buffer.from(given.slice(0, 4096), "latin1") : keyBytes(given);
  if (bytes === undefined) return undefined;
  const head = bytes.subarray(0, 4096).toString("latin1");
  const wanted = "give the Ed25519 public key as PEM (`-----BEGIN PUBLIC KEY-----`), DER or a JSON Web Key: `openssl pkey -in signing.pem -pubout -out public.pem` writes it from the key `policyc build --sign` takes";
  // A short line without PEM armour that names a key file: the path, where its content belongs.
  if (typeof given === "string" && given.length < 4096 && !/[\n-]{5}/.test(given) && /\.(?:pem|pub|der|key|jwk|json)\s*$|^\.{0,2}\//i.test(given.trim())) return "it looks like a file path: give the key itself, readFileSync(path)";
  if (isOpenSshPublicKey(head)) return `it is an OpenSSH public key (ssh-keygen's \`.pub\` format): ${wanted}`;
  if (/^(?:\xef\xbb\xbf)?\s*\{/.test(head)) return "it is JSON text: give a JSON Web Key as an object, `{ key: JSON.parse(text), format: \"jwk\" }`, as crypto.createPublicKey reads it (of a key set, `{\"keys\": […]}`, the one key that signs)";
  if (/-----BEGIN OPENSSH PRIVATE KEY-----/.test(head)) return `it is an OpenSSH private key (ssh-keygen's own format), not a public key: ${wanted}`;
  if (!isPem(bytes) && parses(() => createPrivateKey({ key: bytes, format: "der", type: "pkcs8" }))) return `it is a DER (binary) private key, not a public key: ${wanted}`;
  return undefined;
}

/**
 * The number of PEM key blocks in a key given as text or bytes (not parameters or certificates:
 * `openssl ecparam -genkey` writes `EC PARAMETERS` before its key), or with `privateOnly` of its
 * private-key blocks. A file of two public keys (the old and the new one, during a rotation) would
 * be read as its first alone, and a bundle signed with the other refused as wrongly signed: such a
 * file is refused, saying why.
 */
export function pemBlockCount(given: string | Buffer, privateOnly = false): number {
  const text = typeof given === "string" ? given : given.toString("latin1");
  return text.match(privateOnly ? /-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----/g : /-----BEGIN [A-Z0-9 ]*KEY-----/g)?.length ?? 0;
}

/**
 * Why a key given as text or bytes is refused when it holds several PEM keys (see
 * `pemBlockCount`), or undefined for one: Node reads the first alone. For a public key, a bundle
 * signed with another would be refused. For a signing key, only its private keys count: Node
 * reads the first private key, so one private key beside public keys (a key pair in one file,
 * in either order) signs with it, and of several private keys the first would sign, perhaps not
 * the one meant (the old key, during a rotation), and the bundles then fail to verify where they load.
 */
export function severalKeysMistake(given: string | Buffer, role: "public key" | "signing key"): string | undefined {
  const blocks = pemBlockCount(given, role === "signing key");
  if (blocks <= 1) return undefined;
  if (role === "signing key") return `the signing key holds ${blocks} PEM private keys, and one is read: the first alone would sign, perhaps not the one you meant. Give the one private key to sign with`;
  return `the public key holds ${blocks} PEM keys, and one key is read: the first alone would be checked, and a bundle signed with another refused. Give the one key whose private key signs the bundles you load`;
}

/**
 * What a key the library could not read is, when it is one of the forms people commonly have in
 * hand, as a sentence; undefined otherwise. A JSON Web Key Set (`{ keys: [jwk] }`, what a key
 * endpoint serves), a bare JSON Web Key object (`{ kty, crv, x }`), which
 * Node reads only inside `{ key: jwk, format: "jwk" }` (its own message is about `key.key`); and,
 * for a public key, 32 raw bytes, the form KMS and libsodium give an Ed25519 key in (OpenSSL's
 * message is an ASN.1 code).
 */
export function keyFormMistake(given: unknown, role: "public key" | "signing key"): string | undefined {
  // A key endpoint serves a set; Node reads one key (and its message is about `key.key`).
  if (isJwkSet(given)) return `it is a JSON Web Key Set (\`{ keys: [...] }\`), and a ${role} is one key: pass ${role === "public key" ? "the one whose private key signs the bundles" : "the one to sign with"}, as \`{ key: jwks.keys[0], format: "jwk" }\``;
  if (isBareJwk(given)) return `it is a JSON Web Key object given bare: pass \`{ key: jwk, format: "jwk" }\`, as crypto.${role === "public key" ? "createPublicKey" : "createPrivateKey"} reads it`;
  const bytes = role === "public key" ? keyBytes(given) : undefined;
  if (bytes?.length === 32) return 'it is 32 raw bytes, an Ed25519 public key without the DER wrapping Node reads: wrap it as a JSON Web Key, `{ key: { kty: "OKP", crv: "Ed25519", x: Buffer.from(bytes).toString("base64url") }, format: "jwk" }`';
  return undefined;
}

/** A plain object with a `keys` array and no `key`: a JSON Web Key Set where one key belongs. */
function isJwkSet(given: unknown): boolean {
  return given !== null && typeof given === "object" && !ArrayBuffer.isView(given) && Array.isArray((given as { keys?: unknown }).keys) && !("key" in given);
}

/** A plain object with a `kty` and no `key`: a JSON Web Key where an input object belongs. */
function isBareJwk(given: unknown): boolean {
  return given !== null && typeof given === "object" && !ArrayBuffer.isView(given) && !(given instanceof ArrayBuffer) && "kty" in given && !("key" in given);
}
