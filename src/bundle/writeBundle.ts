import { createPrivateKey, createPublicKey, KeyObject, sign, type JsonWebKeyInput, type PrivateKeyInput } from "node:crypto";
import { checkedPolicy, checkOptionNames, compiledPolicyProblem, markVerified } from "../runtime/engine.js";
import { isRecord } from "../runtime/helpers.js";
import { describeKind } from "../runtime/schema.js";
import type { CompiledPolicy } from "../runtime/policy.js";
import { VERSION } from "../version.js";
import type { Bundle } from "./Bundle.js";
import { BUNDLE_FORMAT } from "./bundleSchema.js";
import { contentHash, sourceHash } from "./hash.js";
import { encryptedKeyHint, isBlankKey, isPem, keyBytes, keyErrorText, keyFormMistake, parses, pemBlockCount, severalKeysMistake } from "./keys.js";

/**
 * A private key in any form Node's `crypto.createPrivateKey` reads, as `loadBundle`'s
 * `publicKey` takes a public one: a `KeyObject`; PEM text as a string or as bytes
 * (`readFileSync("key.pem")`); DER (PKCS #8) bytes; or an input object such as
 * `{ key: jwk, format: "jwk" }`.
 */
export type PrivateKeySource = KeyObject | string | NodeJS.ArrayBufferView | ArrayBuffer | PrivateKeyInput | JsonWebKeyInput;

/** Wraps a compiled policy in a bundle: format, manifest with hashes, and an optional signature. */
export function createBundle(policy: CompiledPolicy, sources: readonly { path: string; text: string }[], options: { privateKey?: PrivateKeySource } = {}): Bundle {
  // A misspelled `privateKey` would build a bundle nobody can verify, for a pipeline that meant to sign.
  checkOptionNames(options, { owner: "createBundle", known: ["privateKey"] });
  // Nor is anything but a compiled policy and its sources wrapped.
  const problem = policy === null || typeof policy !== "object" || Array.isArray(policy) ? `not ${describeKind(policy)}` : compiledPolicyProblem(policy as unknown as Record<string, unknown>);
  if (problem !== undefined) throw new TypeError(`createBundle takes a compiled policy (what compileSources gives as its \`policy\`), ${problem.startsWith("not ") ? problem : `and ${problem}`}`);
  // (Every index read, holes too: `every` skips the holes of a sparse array, which the manifest would keep as nulls.)
  if (!Array.isArray(sources) || Array.from(sources as unknown[]).some((source) => !(isRecord(source) && typeof source["path"] === "string" && typeof source["text"] === "string"))) {
    throw new TypeError("createBundle takes the sources the policy was compiled from, as [{ path, text }] (its manifest records their hashes), as its second argument");
  }
  // What the compiler made (or a copy of it), by its digest, whichever object it is: only its bundle is marked checked, below.
  const checked = checkedPolicy(policy);
  const fields = checked ?? policy;
  const unsigned = {
    format: BUNDLE_FORMAT,
    manifest: { compiler: `policyc ${VERSION}`, contentHash: "", sources: sources.map((s) => ({ path: s.path, sha256: sourceHash(s.text) })) },
    schema: fields.schema,
    session: fields.session,
    rules: fields.rules,
    code: fields.code,
  } as const;
  const hash = contentHash(unsigned);
  const bundle: Bundle = { ...unsigned, manifest: { ...unsigned.manifest, contentHash: hash } };
  // Only a key left out means unsigned: an empty one (an empty key file) or one that is there but
  // undefined (`{ privateKey: process.env.KEY }`, unset) is an error, not a quiet fallback to a
  // bundle nobody can verify.
  // A compiled policy the compiler made: `new Engine` runs its bundle (and copies) as it runs what
  // compileSources gives. A hand-made or altered one is wrapped but not vouched for: its bundle
  // runs once loadBundle has checked it (its signature, for a bundle from elsewhere), like any file's.
  if (checked !== undefined) markVerified(bundle, hash);
  if (!("privateKey" in options)) return bundle;
  const key = parsePrivateKey(options.privateKey);
  return { ...bundle, signature: { algorithm: "ed25519", value: sign(null, Buffer.from(hash, "utf8"), key).toString("base64") } };
}

/** A key createBundle refuses on its own account (the rest comes from Node's crypto, reworded). */
class SigningKeyMistake extends TypeError {
  override name = "TypeError";
}

/**
 * The Ed25519 key to sign with, from any `PrivateKeySource`; a `TypeError` for anything else
 * that names the kind of value given and never shows it.
 */
function parsePrivateKey(given: unknown): KeyObject {
  let key: KeyObject;
  try {
    key = toPrivateKey(given);
  } catch (error) {
    if (error instanceof SigningKeyMistake) throw error;
    throw new SigningKeyMistake(`the signing key cannot be read as a private key (PEM, DER, JWK or a KeyObject): ${encryptedKeyHint(given) ?? keyFormMistake(given, "signing key") ?? keyErrorText(error)}`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new SigningKeyMistake(`the signing key is ${key.asymmetricKeyType ? `an ${key.asymmetricKeyType.toUpperCase()} key` : "not an asymmetric key"}, not Ed25519`);
  return key;
}

function toPrivateKey(given: unknown): KeyObject {
  const publicGiven = new SigningKeyMistake("the signing key is a public key: sign with the Ed25519 private key (the public one is for loadBundle's `publicKey`)");
  if (given instanceof KeyObject) {
    if (given.type === "secret") throw new SigningKeyMistake("the signing key is a secret (symmetric) key, not Ed25519: bundles are signed with Ed25519");
    if (given.type === "public") throw publicGiven;
    return given;
  }
  if (typeof given === "string" || keyBytes(given) !== undefined) {
    const text = typeof given === "string" ? given : keyBytes(given)!;
    if (isBlankKey(text)) throw new SigningKeyMistake("the signing key is empty");
    const several = severalKeysMistake(text, "signing key");
    if (several !== undefined) throw new SigningKeyMistake(several);
    const pem = typeof text === "string" || isPem(text);
    // A public key alone; beside a private key (a key pair in one file), the private key signs.
    if (pem && pemBlockCount(text, true) === 0 && /-----BEGIN [A-Z ]*PUBLIC KEY-----/.test(text.toString("latin1"))) throw publicGiven;
    if (!pem && parses(() => createPublicKey({ key: text, format: "der", type: "spki" }))) throw publicGiven;
    // createPrivateKey reads bytes as PEM unless told otherwise; bytes that are not PEM text are DER.
    return createPrivateKey(pem ? text : { key: text, format: "der", type: "pkcs8" });
  }
  if (typeof given !== "object" || given === null || Array.isArray(given)) throw new SigningKeyMistake(`the signing key must be a private key (PEM as a string or bytes, DER bytes, a JWK input object or a KeyObject), not ${describeKind(given)}`);
  return createPrivateKey(given as PrivateKeyInput | JsonWebKeyInput);
}

/** The bundle as text: fixed key order and layout, so the same sources give byte-identical files. */
export function serializeBundle(bundle: Bundle): string {
  return JSON.stringify(bundle, null, 2) + "\n";
}
