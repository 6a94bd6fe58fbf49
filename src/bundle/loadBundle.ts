import { createPublicKey, KeyObject, verify, type JsonWebKeyInput, type PrivateKeyInput, type PublicKeyInput } from "node:crypto";
import type { ErrorObject, ValidateFunction } from "ajv";
import { checkEngineOptionNames, checkOptionNames, checkOptions, Engine, ENGINE_OPTIONS, markVerified, readOptions, RUNTIME_SUPPORT, type EngineOptions } from "../runtime/engine.js";
import { describeKind } from "../runtime/schema.js";
import { describeText, describeThrown } from "../runtime/helpers.js";
import { unknownIrOps } from "../runtime/ir.js";
import { VERSION } from "../version.js";
import type { Bundle } from "./Bundle.js";
import { BUNDLE_FORMAT, CONTENT_HASH_PATTERN } from "./bundleSchema.js";
// Precompiled from bundleJsonSchema (bundleSchema.ts) by scripts/generate-validators.js: loading a
// bundle neither loads ajv nor compiles the schema.
import { validate as validateBundleCode } from "./bundleValidator.generated.js";
import { contentHash, InexactNumberError } from "./hash.js";
import { BUNDLE_CODES, type BundleCode } from "./errorCodes.js";
import { schemaTypeNameMistake } from "./typeNames.js";
import { encryptedKeyHint, isBlankKey, isPem, keyBytes, keyErrorText, keyFormMistake, publicKeyMistake, severalKeysMistake } from "./keys.js";

/** A bundle that must not run: malformed, tampered with, or not signed by the expected key. */
export class BundleError extends Error {
  /** Why, as a stable code (PC700–PC709, `BUNDLE_CODES`; docs/diagnostics.md), to branch on as on Node's `err.code`. */
  readonly code: BundleCode;
  constructor(message: string, code: BundleCode) {
    super(message);
    this.name = "BundleError";
    this.code = code;
  }
}

/**
 * A public key that cannot be read as one at all (not a key of the wrong algorithm): its message
 * is the library's, in the terms of `parsePublicKey`'s inputs; the CLI says it in a file's terms.
 */
export class UnreadableKeyError extends BundleError {
  constructor(message: string) {
    super(message, BUNDLE_CODES.unusableKey);
  }
}

const validateBundle = validateBundleCode as unknown as ValidateFunction;

/**
 * A public key in any form Node's `crypto.createPublicKey` reads: a `KeyObject`; PEM text as a
 * string or as bytes (`Buffer`, `Uint8Array`, `ArrayBuffer`); DER (SPKI) bytes; or an input
 * object such as `{ key, format: "der", type: "spki" }` or `{ key: jwk, format: "jwk" }`. A
 * private key is read as its public half.
 */
// (A private key stands for its public half: an encrypted one with its passphrase too.)
export type PublicKeySource = KeyObject | string | NodeJS.ArrayBufferView | ArrayBuffer | PublicKeyInput | PrivateKeyInput | JsonWebKeyInput;

export interface LoadOptions extends EngineOptions {
  /** When given, the bundle must carry an Ed25519 signature by this key. */
  readonly publicKey?: PublicKeySource;
  /**
   * When given (`"sha256:…"`, as `policyc build` prints it and a release records it), the bundle
   * must be the one of this content hash: a signature never expires, so without a pin an older
   * bundle the same key signed (or one of another policy set) loads in its place.
   */
  readonly contentHash?: string;
}

/** The options of verifyBundle and loadBundle that are theirs, not the engine's. */
const BUNDLE_OPTIONS = ["publicKey", "contentHash"] as const;

/**
 * Checks a bundle without running it: format, schema, content hash, signature, and the runtime
 * support its code calls. Throws `BundleError`. Takes `loadBundle`'s options, so one
 * `LoadOptions` object serves both: it uses `publicKey` and ignores the engine's options.
 */
export function verifyBundle(value: unknown, given: LoadOptions = {}): Bundle {
  const { value: checked } = verifySnapshot(value, given);
  return checked;
}

/**
 * `verifyBundle`, also giving the snapshot it checked (each top-level field read once): what a
 * further check of the bundle (`alsoCheck`, verifyBundleCode's) reads, not the value, whose
 * getters or proxy traps could show it something else. `value` is the value given, marked
 * checked by the snapshot's fields (`new Engine` takes it while it still shows them) once every
 * check, `alsoCheck` too, has passed: marked before a further check throws, it would run anyway.
 * @internal
 */
export function verifySnapshot(value: unknown, given: LoadOptions = {}, alsoCheck?: (snapshot: Bundle) => void): { value: Bundle; snapshot: Bundle } {
  // A misspelled `publicKey` (or a key passed as the options) would check no signature at all.
  checkOptionNames(given, { owner: "verifyBundle", known: [...BUNDLE_OPTIONS, ...ENGINE_OPTIONS], example: "publicKey", listed: `${BUNDLE_OPTIONS.join(", ")}, and loadBundle's engine options, which it checks and does not use (${ENGINE_OPTIONS.join(", ")})` });
  const options = readOptions(given, "verifyBundle");
  // A vetting step passes what loadBundle would refuse only to have the deploy fail: their values are checked too.
  const { publicKey: _key, contentHash: _pinned, ...engineOptions } = options;
  checkOptions(engineOptions);
  const snapshot = verifyWithKey(value, options, false);
  alsoCheck?.(snapshot);
  markVerified(snapshot, snapshot.manifest.contentHash);
  // The value given is the bundle returned (the caller's own object), marked by what was checked of it.
  markVerified(value as object, snapshot.manifest.contentHash, snapshot);
  return { value: value as Bundle, snapshot };
}

/** `verifyBundle` once the options' names are checked; the snapshot checked is marked when `mark` (else the caller marks it). */
function verifyWithKey(value: unknown, options: { publicKey?: PublicKeySource; contentHash?: string }, mark = true): Bundle {
  // The key first: a wrong key is a mistake whatever bundle comes. A `publicKey` that is there
  // but undefined is most likely an unset setting (`{ publicKey: process.env.KEY }`), and
  // skipping the signature check for it would fail open, so it is an error too.
  const key = "publicKey" in options ? parsePublicKey(options.publicKey) : undefined;
  // So is a pinned hash that is there but undefined or malformed: it would pin nothing.
  const pinned = "contentHash" in options ? parsePinnedHash(options.contentHash) : undefined;
  refuseUnparsed(value);
  try {
    // Checked, marked and returned: a snapshot, each field read once (a getter could show the
    // checks one `code` and the engine another). Its fields are the value's own.
    const bundle = verifyContent(snapshotOf(value), key, pinned);
    // `new Engine` runs the code of this bundle object (and of no bundle unchecked).
    if (mark) markVerified(bundle, bundle.manifest.contentHash);
    return bundle;
  } catch (error) {
    if (error instanceof BundleError) throw error;
    throw unreadable(error);
  }
}

/** How a bundle's content hash is had: said wherever a pin may be some other digest. */
const CONTENT_HASH_SOURCE = "a bundle's content hash is what `policyc build` prints and its `manifest.contentHash` holds, not a digest of the file's bytes (`sha256sum` of the file gives another)";

/**
 * A `contentHash` option as a bundle's manifest writes it (`sha256:` and 64 lowercase hex
 * digits; in capitals, or with spaces around it, it is the same hash); a `BundleError` for
 * anything else.
 */
function parsePinnedHash(given: unknown): string {
  if (typeof given === "string" && new RegExp(CONTENT_HASH_PATTERN, "i").test(given.trim())) return given.trim().toLowerCase();
  // 64 bare hex digits: a content hash without its prefix, or what `sha256sum` printed for the file.
  if (typeof given === "string" && /^[0-9a-f]{64}$/i.test(given.trim())) throw new BundleError(`the pinned content hash (contentHash) is 64 hex digits without \`sha256:\`: ${CONTENT_HASH_SOURCE}; if they are the content hash, add the \`sha256:\` prefix`, BUNDLE_CODES.pinnedHash);
  const what = typeof given === "string" ? (given.trim() === "" ? "empty" : "not a content hash") : `${describeKind(given)}, not a string`;
  throw new BundleError(`the pinned content hash (contentHash) is ${what}: give the hash as \`policyc build\` prints it and a bundle's \`manifest.contentHash\` holds it, "sha256:" and 64 hex digits, or leave \`contentHash\` out to load without pinning the bundle`, BUNDLE_CODES.pinnedHash);
}

function verifyContent(value: unknown, key: KeyObject | undefined, pinned: string | undefined): Bundle {
  refuseOtherFormat(value);
  if (!validateBundle(value)) {
    throw new BundleError(`not a valid policyc bundle: ${bundleShapeMistake(validateBundle.errors?.[0])}${otherCompilerHint(value)}`, BUNDLE_CODES.invalidBundle);
  }
  const bundle = value as Bundle;
  // A type naming no declared record or enum (`{"record": "__proto__"}`) would have the runtime
  // validate requests by what every object inherits: no compiler writes one.
  const typeName = schemaTypeNameMistake(bundle.schema);
  if (typeName !== undefined) throw new BundleError(`not a valid policyc bundle: ${typeName}`, BUNDLE_CODES.invalidBundle);
  let expected: string;
  try {
    expected = contentHash(bundle);
  } catch (error) {
    // The compiler writes no such number: the content is not what was built (or signed).
    if (error instanceof InexactNumberError) throw new BundleError(`the bundle's content does not match its hash: ${error.message}; the compiler writes no such number, so it was changed after it was built: ship the bundle file byte for byte`, BUNDLE_CODES.contentChanged);
    throw error;
  }
  if (expected !== bundle.manifest.contentHash) throw new BundleError(`the bundle's content does not match its hash (manifest says ${bundle.manifest.contentHash}, content is ${expected}): it was changed after it was built, or rewritten with its keys in another order (as \`jq -S\` or a database's JSON column does), which the hash covers: ship the bundle file byte for byte`, BUNDLE_CODES.contentChanged);
  if (key !== undefined) {
    if (!bundle.signature) throw new BundleError("the bundle is not signed, but a public key was given: refusing to load it", BUNDLE_CODES.signature);
    let valid = false;
    try {
      valid = verify(null, Buffer.from(bundle.manifest.contentHash, "utf8"), key, Buffer.from(bundle.signature.value, "base64"));
    } catch {
      valid = false;
    }
    if (!valid) throw new BundleError("the bundle's signature does not match the given public key: refusing to load it", BUNDLE_CODES.signature);
  }
  // After the hash and signature checks: the pin then names the content this bundle really has.
  if (pinned !== undefined && bundle.manifest.contentHash !== pinned) throw new BundleError(`the bundle's content hash is ${bundle.manifest.contentHash}, not the pinned ${pinned} (contentHash): refusing to load it. It is another bundle (an older release, or another policy set), or the pin is some other digest: ${CONTENT_HASH_SOURCE}`, BUNDLE_CODES.pinnedHash);
  // A bundle of a newer policyc may call runtime support this runtime lacks: every rule using it
  // would fail (closed) on every call. Found here, before it runs, rather than in production traffic.
  const lacking = runtimeCallsOf(bundle.code).filter((name) => !Object.hasOwn(RUNTIME_SUPPORT, name));
  if (lacking.length > 0) {
    const named = lacking.slice(0, 5).map((name) => `rt.${name.slice(0, 40)}`).join(", ") + (lacking.length > 5 ? ` and ${lacking.length - 5} more` : "");
    throw new BundleError(`the bundle was built by ${shown(bundle.manifest.compiler)}, and its code calls ${named}, which ${thisRuntimeNextTo(bundle.manifest.compiler)} lacks: ${NEWER_BUNDLE_ADVICE}`, BUNDLE_CODES.otherCompiler);
  }
  // Nor may its conditions' IR hold an operation this runtime does not know: the windows of the
  // session counts under it would not be kept, and those rate limits would never trip (fail open).
  const unknownOps = unknownIrOps(bundle.rules.flatMap((rule) => (rule.ir === null ? [] : [rule.ir])));
  if (unknownOps.length > 0) {
    const named = unknownOps.slice(0, 5).map((op) => shown(op.slice(0, 40))).join(", ") + (unknownOps.length > 5 ? ` and ${unknownOps.length - 5} more` : "");
    throw new BundleError(`the bundle was built by ${shown(bundle.manifest.compiler)}, and its rules' conditions use ${named}, which ${thisRuntimeNextTo(bundle.manifest.compiler)} does not know: ${NEWER_BUNDLE_ADVICE}`, BUNDLE_CODES.otherCompiler);
  }
  // A bundle whose compiler decided some conditions so that it allowed what this one denies: it
  // would go on failing open in production, silently. Refused, with what to do.
  const unsafe = Object.hasOwn(UNSAFE_COMPILERS, bundle.manifest.compiler) ? UNSAFE_COMPILERS[bundle.manifest.compiler] : undefined;
  if (unsafe !== undefined) throw new BundleError(`the bundle was built by ${shown(bundle.manifest.compiler)}, whose code ${unsafe}: rebuild it with this policyc (${VERSION})`, BUNDLE_CODES.otherCompiler);
  return bundle;
}

/**
 * A bundle's top-level fields, each read once into a plain object (a value that is no plain
 * object is left to the schema check to refuse); a `BundleError` for a field that is an accessor
 * property (a getter), which no parsed bundle has.
 */
function snapshotOf(value: unknown): unknown {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const snapshot: Record<string, unknown> = {};
  for (const name of Object.keys(value)) {
    const descriptor = Object.getOwnPropertyDescriptor(value, name)!;
    if (!("value" in descriptor)) throw new BundleError(`not a valid policyc bundle: its ${shown(name)} is a getter (an accessor property), which could show the checks one value and the engine another: pass the parsed JSON`, BUNDLE_CODES.invalidBundle);
    // (Defined, not assigned: a `__proto__` key of the parsed JSON stays a field, for the schema check to refuse.)
    Object.defineProperty(snapshot, name, { value: descriptor.value, enumerable: true, writable: true, configurable: true });
  }
  return snapshot;
}

/**
 * This runtime as a refusal names it next to `compiler`, the policyc that built a bundle needing
 * what this runtime lacks: a bundle naming this very version was built by a later build of it
 * (between releases), so the message says so rather than name one version twice.
 */
function thisRuntimeNextTo(compiler: string): string {
  return compiler === `policyc ${VERSION}` ? `this runtime (an earlier build of policyc ${VERSION})` : `this runtime (policyc ${VERSION})`;
}

/**
 * What to do with a bundle that needs what this runtime lacks: run it on the runtime of the
 * policyc that built it first, as rebuilding it with this policyc gives up what the newer one
 * added, fixes included.
 */
const NEWER_BUNDLE_ADVICE = "load it with the runtime of the policyc that built it, or rebuild it with this policyc";

/** JSON Schema's type names, as a person says them. */
const TYPE_WORDS: Readonly<Record<string, string>> = { object: "an object", string: "a string", null: "null", array: "a list", boolean: "true or false", number: "a number", integer: "a whole number" };

/**
 * What the schema refuses in a bundle, in policyc's words rather than Ajv's (`must have required
 * property 'manifest'`): where, as a reader names it (`the bundle`, `manifest.contentHash`,
 * `rules[0]`), and what is wrong there (audit a1 F4).
 */
function bundleShapeMistake(error: ErrorObject | undefined): string {
  if (error === undefined) return "it does not have the shape of a bundle";
  const steps = error.instancePath.split("/").slice(1);
  const where = steps.length === 0 ? "the bundle" : `\`${steps.map((step, i) => (/^\d+$/.test(step) ? `[${step}]` : `${i === 0 ? "" : "."}${step}`)).join("")}\``;
  const params = error.params as { missingProperty?: string; additionalProperty?: string; type?: string | string[]; limit?: number; allowedValues?: unknown[]; allowedValue?: unknown };
  switch (error.keyword) {
    case "required":
      return `${where} lacks \`${params.missingProperty}\``;
    case "additionalProperties":
      return `${where} has ${shown(String(params.additionalProperty))}, which a bundle of this policyc does not have`;
    case "type":
      return `${where} must be ${([] as string[]).concat(params.type ?? []).map((type) => TYPE_WORDS[type] ?? type).join(" or ")}`;
    case "minLength":
      return `${where} must not be empty`;
    case "minimum":
      return `${where} must be at least ${params.limit}`;
    case "enum":
      return `${where} must be one of ${(params.allowedValues ?? []).map((allowed) => JSON.stringify(allowed)).join(", ")}`;
    case "const":
      return `${where} must be ${JSON.stringify(params.allowedValue)}`;
    case "pattern":
      return error.instancePath === "/signature/value" ? `${where} must be an Ed25519 signature (64 bytes) in base64, as \`policyc build --sign\` writes it` : `${where} is not written as a bundle writes it`;
    default:
      return `${where} does not have the shape a bundle gives it`;
  }
}

/**
 * For a bundle the schema refuses: when another policyc built it (a newer one writes fields this
 * runtime does not know), which one, and what to do; else nothing.
 */
function otherCompilerHint(value: unknown): string {
  const manifest: unknown = value !== null && typeof value === "object" ? (value as { manifest?: unknown }).manifest : undefined;
  const compiler: unknown = manifest !== null && typeof manifest === "object" ? (manifest as { compiler?: unknown }).compiler : undefined;
  if (typeof compiler !== "string" || compiler === `policyc ${VERSION}`) return "";
  return ` (it was built by ${shown(compiler.slice(0, 80))}, and this runtime is policyc ${VERSION}: rebuild it with this policyc, or load it with the runtime of the policyc that built it)`;
}

/**
 * Compilers whose bundles this runtime refuses, and why: their code allows calls that the same
 * policy, built by this version, denies. (Bundles of older compilers that only lack something,
 * and fail closed for it, still load. Those of 0.2.0, 0.3.0 and early builds of 0.4.0 need no entry for a
 * `session.called(…, within D)` lifted by a call dated after the attempt: their code asks the
 * session's `calledFault`, which this runtime answers with the error, as it does for bundles
 * built now through `rt.calledFault`.)
 */
const UNSAFE_COMPILERS: Readonly<Record<string, string>> = {
  "policyc 0.1.0": "allows calls this version denies: a rule reading a bare `intent` when the session names none did not fail closed (`allow … when intent != research`), risks or times in a set or list never compared equal (`deny * when tool.risk in context.blocked_risks` never matched), a `session.called(…, within D)` was met by a call dated after the attempt, and a `session.count` of a pattern missed attempts at undeclared tools",
};

/**
 * Text from the bundle (its compiler string, a name its code calls) in a message, before the
 * bundle is trusted (its signature may not have been checked yet): quoted, cut short, and its
 * control characters escaped, so it cannot write lines of its own into a log.
 */
function shown(text: string): string {
  return describeText(text);
}

/**
 * The text or bytes of a bundle file, where the parsed bundle belongs (the parameter takes any
 * value, so TypeScript lets `loadBundle(readFileSync(path, "utf8"))` through): refused, saying
 * what to pass, rather than with the schema's "must be object", which reads as if the file were
 * bad. Not parsed here: the hash covers the bundle's content, and the caller's parse (with the
 * caller's choice of decoding) is what is checked, as for any other bundle object.
 */
function refuseUnparsed(value: unknown): void {
  let what: string | undefined;
  try {
    what = typeof value === "string" ? "its text (a string)" : ArrayBuffer.isView(value) || value instanceof ArrayBuffer ? `its bytes (${describeKind(value)})` : undefined;
  } catch (error) {
    // `instanceof` reads the prototype, which a revoked proxy refuses to give.
    throw unreadable(error);
  }
  if (what === undefined) return;
  const parse = typeof value === "string" ? "JSON.parse(text)" : 'JSON.parse(readFileSync(path, "utf8"))';
  throw new TypeError(`a bundle is passed as the object its JSON holds, not as ${what}: pass ${parse}`);
}

/**
 * A bundle of another format (`policyc-bundle/2`), named with the format found and the one this
 * runtime reads (the schema check would only say "must be equal to constant"). Any other value
 * is no policyc bundle, and the schema check says what is wrong with it.
 */
function refuseOtherFormat(value: unknown): void {
  if (typeof value !== "object" || value === null) return;
  const { format, manifest } = value as { format?: unknown; manifest?: { compiler?: unknown } };
  if (typeof format !== "string" || format === BUNDLE_FORMAT || !format.startsWith(BUNDLE_FORMAT.slice(0, BUNDLE_FORMAT.indexOf("/") + 1))) return;
  const compiler = typeof manifest === "object" && manifest !== null && typeof manifest.compiler === "string" ? ` (built by ${shown(manifest.compiler)})` : "";
  throw new BundleError(`the bundle's format is ${JSON.stringify(format.slice(0, 100))}${compiler}, and this runtime (policyc ${VERSION}) reads ${JSON.stringify(BUNDLE_FORMAT)}: build the bundle with the policyc of this runtime`, BUNDLE_CODES.otherCompiler);
}

/**
 * The runtime support the generated code calls (\`rt.name\`), outside its string literals and
 * comments (a policy's string constant may well read "rt.example.com").
 */
function runtimeCallsOf(code: string): string[] {
  const names = new Set<string>();
  for (const match of code.matchAll(/"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|\/\/[^\n]*|\/\*[\s\S]*?\*\/|(?<![\w$.])rt\.([A-Za-z_$][\w$]*)/g)) {
    if (match[1] !== undefined) names.add(match[1]);
  }
  return [...names];
}

/** What reading a bundle threw, as a `BundleError`: the value is not the JSON data a bundle is. */
function unreadable(error: unknown): BundleError {
  // The IR is recursive, and so are its validation and hashing: a bundle nested absurdly deep overflows them.
  if (error instanceof RangeError && /call stack/i.test(error.message)) return new BundleError("not a valid policyc bundle: it is nested too deeply", BUNDLE_CODES.invalidBundle);
  // Only an object that is not plain data (a throwing getter or proxy trap) gets here.
  return new BundleError(`not a valid policyc bundle: reading it threw: ${describeThrown(error)}`, BUNDLE_CODES.invalidBundle);
}

/** The Ed25519 public key to check signatures with, from any `PublicKeySource`; a `BundleError` for anything else. */
export function parsePublicKey(given: unknown): KeyObject {
  let key: KeyObject;
  try {
    key = toPublicKey(given);
  } catch (error) {
    if (error instanceof BundleError) throw error;
    throw new UnreadableKeyError(`the public key cannot be read as a public key (PEM, DER, JWK or a KeyObject): ${encryptedKeyHint(given) ?? keyFormMistake(given, "public key") ?? publicKeyMistake(given) ?? keyErrorText(error)}`);
  }
  if (key.asymmetricKeyType !== "ed25519") throw new BundleError(`the public key is ${key.asymmetricKeyType ? `an ${key.asymmetricKeyType.toUpperCase()} key` : "not an asymmetric key"}, not Ed25519: bundles are signed with Ed25519`, BUNDLE_CODES.unusableKey);
  return key;
}

/** A key in PEM holding several blocks (see `pemBlockCount`) is refused, saying why. */
function refuseSeveralKeys(given: string | Buffer): void {
  const several = severalKeysMistake(given, "public key");
  if (several !== undefined) throw new BundleError(several, BUNDLE_CODES.unusableKey);
}

function toPublicKey(given: unknown): KeyObject {
  if (given === undefined || given === null) throw new BundleError(`the public key is ${String(given)}: give the key (PEM, DER, JWK or a KeyObject), or leave \`publicKey\` out to load without checking a signature`, BUNDLE_CODES.unusableKey);
  if (given instanceof KeyObject) {
    if (given.type === "secret") throw new BundleError("the public key is a secret (symmetric) key, not Ed25519: bundles are signed with Ed25519", BUNDLE_CODES.unusableKey);
    return given.type === "public" ? given : createPublicKey(given);
  }
  if (typeof given === "string") {
    if (isBlankKey(given)) throw new BundleError("the public key is empty", BUNDLE_CODES.unusableKey);
    refuseSeveralKeys(given);
    return createPublicKey(given);
  }
  const bytes = keyBytes(given);
  if (bytes === undefined) return createPublicKey(given as PublicKeyInput | JsonWebKeyInput);
  if (isBlankKey(bytes)) throw new BundleError("the public key is empty", BUNDLE_CODES.unusableKey);
  refuseSeveralKeys(bytes);
  // createPublicKey reads bytes as PEM unless told otherwise; bytes that are not PEM text are DER.
  return createPublicKey(isPem(bytes) ? bytes : { key: bytes, format: "der", type: "spki" });
}

/**
 * An engine for a verified bundle. Its code passed the hash (and signature) check, but a hash
 * is only a checksum: code edited and re-hashed by hand may not even parse. That is a bad
 * bundle, refused as one.
 */
export function engineForBundle(bundle: Bundle, options: EngineOptions = {}): Engine {
  // Bad options are the caller's mistake, not the bundle's: their RangeError or TypeError
  // comes out as it is, and before any of the bundle's code runs.
  checkOptions(options);
  try {
    return new Engine(bundle, options);
  } catch (error) {
    throw new BundleError(`the bundle's code does not load: ${describeThrown(error)}`, BUNDLE_CODES.otherCompiler);
  }
}

/**
 * Validates a bundle (JSON Schema with ajv, content hash, signature when a key is given) and
 * returns an engine for it. Throws `BundleError` for a bad bundle or key, before any of the
 * bundle's code runs, and when its code does not load; engine options that are not valid throw
 * the `RangeError` or `TypeError` the engine would.
 */
export function loadBundle(value: unknown, given: LoadOptions = {}): Engine {
  // The names first, as verifyBundle does: a misspelled `publicKey` would check no signature.
  checkEngineOptionNames(given, BUNDLE_OPTIONS);
  const options = readOptions(given, "loadBundle");
  const bundle = verifyWithKey(value, options);
  const { publicKey: _key, contentHash: _pinned, ...engineOptions } = options;
  // The snapshot checked, never the value again.
  return engineForBundle(bundle, engineOptions);
}

