import { readLimited } from "../source/readLimited.js";
import { MAX_BUNDLE_BYTES, MAX_KEY_BYTES } from "./inputLimits.js";
import { resolve } from "node:path";
import type { KeyObject } from "node:crypto";
import { engineForBundle, parsePublicKey, verifyBundle, BundleError, UnreadableKeyError } from "../bundle/loadBundle.js";
import { BUNDLE_CODES, type BundleCode } from "../bundle/errorCodes.js";
import { encryptedKeyHint, publicKeyMistake } from "../bundle/keys.js";
import { jwkOf, jwkSetOf, KEY_TEXT } from "./signingKey.js";
import type { Bundle } from "../bundle/Bundle.js";
import { compileSources } from "../compile/compile.js";
import { hasErrors, sortDiagnostics, type Diagnostic } from "../diagnostics/Diagnostic.js";
import type { CompiledPolicy } from "../runtime/policy.js";
import { builtByThisPolicyc, checkBundleCode } from "../compile/verifyBundleCode.js";
import { describeFsError, loadSources, type Excluded } from "../source/loadSources.js";
import { hasExtension } from "../source/fileNames.js";
import { EXIT, type ExitCode } from "./exitCodes.js";
import { jsonMistake } from "../diagnostics/jsonMistake.js";
import { looksLikeUtf16, utf16Refusal, withoutByteOrderMark } from "../source/textEncoding.js";
import { emptyValueMessage, excludedNamedNote, isBlank, withExcludedDeclarationsHelp } from "./options.js";
import { ExcludeGlobs } from "../source/exclude.js";
import { bundleIdentity, lazyIdentity, sourcesIdentity } from "./policyIdentity.js";
import type { PolicyIdentity } from "../testing/reporters/shared.js";
import { misplacedPolicyPath, wrongSlotOfText, type RecordingOption } from "./wrongSlot.js";

/** A policy to decide with, from sources or a bundle, or why there is none (with the exit code to use). */
export type LoadedPolicy = {
  ok: true;
  policy: CompiledPolicy;
  /** Which set this is, for machine-readable reports: computed when first asked for (lazyIdentity); undefined when it could not be. */
  identity: () => PolicyIdentity | undefined;
  excluded: readonly Excluded[];
  note?: string;
} | { ok: false; code: ExitCode; diagnostics: readonly Diagnostic[]; message?: string; inputError?: InputError };

/** A bundle or key file refused (`place: error[CODE]: message`), as `check` prints a diagnostic's first line. */
export interface InputError {
  /** The file, as given. */
  readonly place: string;
  /** PC700–PC708 (BUNDLE_CODES). */
  readonly code: BundleCode;
  readonly message: string;
  /** The file is no bundle at all (a policy source, a recording, a JSON string): a usage mistake, for `verify`'s exit code. */
  readonly unusable?: true;
}

/**
 * Compiles policy paths, or reads and verifies a bundle when `bundle` is given (or the one path
 * ends in .json). `recordings`: where the verb takes recordings, for a message about one given
 * as a policy path or as the bundle (default `--replay`).
 */
export function loadPolicy(paths: readonly string[], cwd: string, options: { bundle?: string; publicKey?: string; recordings?: RecordingOption; verb?: string; exclude?: readonly string[] | ExcludeGlobs | undefined; vetOnly?: boolean; warn?: (warning: InputError) => void } = {}): LoadedPolicy {
  const recordings = options.recordings ?? "--replay";
  // Either sources or a bundle: a path given beside --bundle would be silently ignored.
  if (options.bundle !== undefined && paths.length > 0) return usage(`give policy paths or --bundle, not both (got ${paths.map((p) => `\`${p}\``).join(", ")} and --bundle \`${options.bundle}\`)`);
  // Only a single `.json` path is a bundle: beside other paths it would be parsed as policy
  // source and fail with a puzzling syntax error at its first `{`.
  const jsonPaths = options.bundle === undefined && paths.length > 1 ? paths.filter(isBundlePath) : [];
  if (jsonPaths.length > 0) {
    const named = jsonPaths.map((p) => `\`${p}\``).join(", ");
    return usage(`${named} ${jsonPaths.length === 1 ? "looks like a bundle" : "look like bundles"}, but only a single \`.json\` path is read as a bundle (or --bundle FILE): give one bundle, or only policy files and folders`);
  }
  const bundlePath = bundlePathOf(paths, options.bundle);
  // A bundle's files were chosen when it was built: an --exclude that left out nothing would mislead.
  if (bundlePath !== undefined && options.exclude !== undefined && (options.exclude instanceof ExcludeGlobs || options.exclude.length > 0)) return usage("--exclude leaves out policy files, and a bundle has none: rebuild it with --exclude, or give the policy paths");
  if (bundlePath !== undefined) return loadBundleFile(bundlePath, options.publicKey, cwd, recordings, options.vetOnly === true, options.warn);
  // Sources have no signature: accepting a key and checking nothing would be a false assurance.
  if (options.publicKey !== undefined) return usage("--public-key checks a bundle's signature, and policy sources have none: give the bundle with --bundle FILE");
  const misplaced = misplacedPolicyPath(paths, cwd, recordings);
  if (misplaced !== undefined) return usage(misplaced);
  const loaded = loadSources(paths, cwd, { folderCommand: (folder) => `policyc ${options.verb ?? "check"} ${folder}${options.verb === undefined ? "" : " …"}`, exclude: options.exclude });
  if (loaded.diagnostics.length > 0) return { ok: false, code: EXIT.usage, diagnostics: loaded.diagnostics };
  if (loaded.usage !== undefined) return usage(loaded.usage);
  const { policy, diagnostics } = compileSources(loaded.files);
  if (!policy || hasErrors(diagnostics)) return { ok: false, code: EXIT.failure, diagnostics: sortDiagnostics(withExcludedDeclarationsHelp(diagnostics, loaded.excluded)) };
  // Warnings are `policyc check`'s to show: test, eval and diff report on decisions.
  const note = excludedNamedNote(loaded.excluded);
  return { ok: true, policy, identity: lazyIdentity(() => sourcesIdentity(policy, loaded.files, cwd)), excluded: loaded.excluded, ...(note === undefined ? {} : { note }) };
}

/** The bundle that policy arguments name: `--bundle FILE`, or a single path ending in `.json`. */
export function bundlePathOf(paths: readonly string[], bundle?: string): string | undefined {
  return bundle ?? (paths.length === 1 && isBundlePath(paths[0]!) ? paths[0] : undefined);
}

/** A path ending in `.json`, in any letter case (`build -o B.JSON` writes one, as Windows tools name files). */
function isBundlePath(path: string): boolean {
  return hasExtension(path, ".json");
}

function usage(message: string): LoadedPolicy {
  return { ok: false, code: EXIT.usage, diagnostics: [], message };
}

/**
 * A bundle or key file refused, with its code (exit 2, as a usage error). `message` keeps the
 * one-line form (`` `b.json`: … ``) that `--json`'s `reason` and the reports' run checks show.
 */
function refused(error: InputError): LoadedPolicy {
  return { ok: false, code: EXIT.usage, diagnostics: [], message: error.message.includes(`\`${error.place}\``) ? error.message : `\`${error.place}\`: ${error.message}`, inputError: error };
}

/**
 * Reads the key of `--public-key FILE` (relative to `cwd`): PEM, DER or JWK, Ed25519. An empty path
 * is refused, not read as "no key": checking no signature must never be what a typo asks for.
 * A file that holds no key is said in a file's terms, not the library's (a KeyObject, an input
 * object) nor OpenSSL's (an error code).
 */
function readPublicKeyFile(path: string, cwd: string, recordings: RecordingOption): { ok: true; key: KeyObject } | { ok: false; message: string; code?: BundleCode } {
  if (isBlank(path)) return { ok: false, message: emptyValueMessage("--public-key") };
  let bytes: Buffer;
  try {
    bytes = readLimited(resolve(cwd, path), MAX_KEY_BYTES);
  } catch (error) {
    return { ok: false, code: BUNDLE_CODES.unreadableFile, message: `cannot read public key \`${path}\`: ${describeFsError(error)}` };
  }
  // What Windows PowerShell 5.1's `Get-Content pub.pem > key.pem` writes: a PEM in Notepad, no key
  // to the library. (A DER key never looks so: its first byte is 0x30 and its second a length.)
  if (looksLikeUtf16(bytes)) return { ok: false, code: BUNDLE_CODES.unreadableFile, message: utf16Refusal(KEY_TEXT) };
  // An empty file is no key to read (PC700, as an empty bundle file is); an empty key given to
  // the library as a value is an unusable key (PC704).
  if (bytes.toString("utf8").trim() === "") return { ok: false, code: BUNDLE_CODES.unreadableFile, message: "the public key file is empty" };
  const misplaced = wrongSlotOfText(path, bytes.subarray(0, 1024).toString("utf8"), "key", recordings);
  if (misplaced !== undefined) return { ok: false, code: BUNDLE_CODES.unusableKey, message: `${misplaced} (${PUBLIC_KEY_FILE})` };
  // A key set as published: its one key; of several, which one signs is not for us to guess.
  const set = jwkSetOf(bytes);
  if (set !== undefined && set.length !== 1) return { ok: false, code: BUNDLE_CODES.unusableKey, message: `it is a JSON Web Key Set of ${set.length} keys, and one key is read: give the one key whose private key signs the bundles you load` };
  const jwk = set?.[0] ?? jwkOf(bytes);
  try {
    return { ok: true, key: parsePublicKey(jwk === undefined ? bytes : { key: jwk, format: "jwk" }) };
  } catch (error) {
    if (error instanceof UnreadableKeyError) return { ok: false, code: error.code, message: unreadablePublicKey(bytes, jwk !== undefined, path) };
    if (error instanceof BundleError) return { ok: false, code: error.code, message: error.message };
    throw error;
  }
}

/** What `--public-key` takes. */
const KEY_FILES = "a PEM, DER or JSON Web Key file";
const PUBLIC_KEY_FILE = `expected an Ed25519 public key: ${KEY_FILES}`;

/** Why the key file at `path` holds no public key the library reads, in a file's terms, starting with its name. */
function unreadablePublicKey(bytes: Buffer, isJwk: boolean, path: string): string {
  if (isJwk) return `\`${path}\` holds a JSON Web Key that is not an Ed25519 public key (expected \`"kty": "OKP"\`, \`"crv": "Ed25519"\` and \`"x"\`)`;
  if (encryptedKeyHint(bytes) !== undefined) return `\`${path}\` is an encrypted private key: give the public key (\`openssl pkey -in ${path} -pubout -out public.pem\` writes it)`;
  if (/^[{[]/.test(withoutByteOrderMark(bytes.subarray(0, 64).toString("utf8")).trimStart())) return `\`${path}\` holds no JSON Web Key (${PUBLIC_KEY_FILE})`;
  // OpenSSH keys and DER private keys: the library says what they are, with the openssl command.
  const mistake = publicKeyMistake(bytes);
  return mistake !== undefined ? mistake : `\`${path}\` holds no Ed25519 public key (expected ${KEY_FILES})`;
}

/**
 * Paths are relative to `cwd` (the verb's working folder, like policy paths), and reported as
 * given. The bundle's code must be what this policyc emits from its rules (checkBundleCode):
 * eval explains a decision by the rules while the code makes it, and test and diff report by
 * rule, so code that decides otherwise would make every report lie. A bundle another policyc
 * built whose code this one does not emit is refused by `verify` (`vetOnly`, which runs none of
 * its code), and by the other verbs unless its signature was checked (--public-key): its code
 * may be that policyc's honest output, which only that policyc can tell, and only a signature
 * says who vouches for it. Signed and checked, it is used, with a warning given to `warn`
 * before any of its code runs (a verb without `warn` refuses it).
 */
function loadBundleFile(path: string, publicKeyPath: string | undefined, cwd: string, recordings: RecordingOption, vetOnly: boolean, warn: ((warning: InputError) => void) | undefined): LoadedPolicy {
  let publicKey: KeyObject | undefined;
  if (publicKeyPath !== undefined) {
    const read = readPublicKeyFile(publicKeyPath, cwd, recordings);
    if (!read.ok) return read.code === undefined ? usage(read.message) : refused({ place: publicKeyPath, code: read.code, message: read.message });
    publicKey = read.key;
  }
  let bytes: Buffer;
  try {
    bytes = readLimited(resolve(cwd, path), MAX_BUNDLE_BYTES);
  } catch (error) {
    return refused({ place: path, code: BUNDLE_CODES.unreadableFile, message: `cannot read bundle \`${path}\`: ${describeFsError(error)}` });
  }
  // What `policyc build -o - > bundle.json` writes in Windows PowerShell 5.1; what it writes
  // when told to write UTF-8 (a byte order mark first) is read.
  if (looksLikeUtf16(bytes)) return refused({ place: path, code: BUNDLE_CODES.unreadableFile, message: utf16Refusal("a bundle is UTF-8 JSON") });
  const text = withoutByteOrderMark(bytes.toString("utf8"));
  // A policy file or a recording given as the bundle is named as what it is, not as bad JSON.
  const misplaced = wrongSlotOfText(path, text, "bundle", recordings);
  if (misplaced !== undefined) return refused({ place: path, code: BUNDLE_CODES.invalidBundle, message: misplaced, unusable: true });
  // Said as a request's and a recording's faults are (`FILE: not JSON: …`, `FILE: the request is empty`).
  if (text.trim() === "") return refused({ place: path, code: BUNDLE_CODES.unreadableFile, message: "the bundle is empty" });
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return refused({ place: path, code: BUNDLE_CODES.unreadableFile, message: `not JSON ${jsonMistake(text)}` });
  }
  // A file holding a JSON string was parsed, as any bundle file is: the library's advice for a
  // bundle passed as its text ("pass JSON.parse(text)") is not for it. Said as for `42` or `[]`.
  if (typeof value === "string") return refused({ place: path, code: BUNDLE_CODES.invalidBundle, message: "not a valid policyc bundle: the bundle must be an object, and the file holds a JSON string", unusable: true });
  try {
    const bundle: Bundle = verifyBundle(value, publicKey === undefined ? {} : { publicKey });
    const warning = otherCompilersCode(bundle, path, vetOnly || warn === undefined, publicKey !== undefined);
    // Said before anything of the bundle runs: its code runs as the engine is made.
    if (warning !== undefined) warn!(warning);
    if (!vetOnly) engineForBundle(bundle); // refuses code that does not load, before any verb runs it
    // A signature nobody checked may as well be forged (a changed bundle keeps its old one): said,
    // so an operator who left the key out does not take the bundle for a checked one.
    const identity = lazyIdentity(() => bundleIdentity(bundle, path, publicKey !== undefined));
    // A bundle's files were chosen when it was built: --exclude left out none of them (it is refused with one).
    if (bundle.signature !== undefined && publicKey === undefined) return { ok: true, policy: bundle, identity, excluded: [], note: `\`${path}\` is signed, but its signature was not checked: give --public-key KEY.pem to check it` };
    return { ok: true, policy: bundle, identity, excluded: [] };
  } catch (error) {
    // JSON that is no object at all (`42`, `[]`, `null`) is no bundle: a usage mistake, as a policy file given as one is.
    const notObject = value === null || typeof value !== "object" || Array.isArray(value);
    if (error instanceof BundleError) return refused({ place: path, code: error.code, message: error.message, ...(notObject ? { unusable: true as const } : {}) });
    return refused({ place: path, code: BUNDLE_CODES.invalidBundle, message: `invalid key or bundle: ${(error as Error).message}` });
  }
}

/**
 * Checks the bundle's code against what this policyc emits and its rules' text against what they
 * run (throwing PC701 for rules no policyc compiles, PC707, PC709, and PC708 or another policyc's
 * PC709 when `strict` or when no signature was checked); for another policyc's signed bundle
 * whose code or text differs, the warning the verb prints before it runs.
 */
function otherCompilersCode(bundle: Bundle, path: string, strict: boolean, signatureChecked: boolean): InputError | undefined {
  try {
    checkBundleCode(bundle, signatureChecked);
    return undefined;
  } catch (error) {
    // Another policyc's rule text (PC709) may be that one's honest printing, as its code may be its honest output (PC708).
    const otherCompilers = error instanceof BundleError && (error.code === BUNDLE_CODES.codeOfOtherCompiler || (error.code === BUNDLE_CODES.ruleTextDiffers && !builtByThisPolicyc(bundle)));
    if (strict || !otherCompilers) throw error;
    const unchecked = error.code === BUNDLE_CODES.codeOfOtherCompiler ? "its code is" : "its rules' text is";
    if (!signatureChecked) throw new BundleError(`${error.message}. Refusing to run it unsigned: ${unchecked} checked by no one (anyone can write a bundle that claims another policyc). Give --public-key KEY.pem to run a bundle its builder signed`, error.code);
    return { place: path, code: error.code, message: `${error.message}. Its signature was checked, so it runs as signed; its decisions come from its code and its explanations from its rules: if they disagree, rebuild it` };
  }
}
