import { readLimited } from "../source/readLimited.js";
import { MAX_BUNDLE_BYTES, MAX_KEY_BYTES } from "./inputLimits.js";
import { resolve } from "node:path";
import { engineForBundle, verifyBundle, BundleError } from "../bundle/loadBundle.js";
import type { Bundle } from "../bundle/Bundle.js";
import { compileSources } from "../compile/compile.js";
import { hasErrors, sortDiagnostics, type Diagnostic } from "../diagnostics/Diagnostic.js";
import type { CompiledPolicy } from "../runtime/policy.js";
import { describeFsError, loadSources } from "../source/loadSources.js";
import { EXIT, type ExitCode } from "./exitCodes.js";

/** A policy to decide with, from sources or a bundle, or why there is none (with the exit code to use). */
export type LoadedPolicy = { ok: true; policy: CompiledPolicy; label: string; warnings: readonly Diagnostic[] } | { ok: false; code: ExitCode; diagnostics: readonly Diagnostic[]; message?: string };

/** Compiles policy paths, or reads and verifies a bundle when `bundlePath` is given (or a path ends in .json). */
export function loadPolicy(paths: readonly string[], cwd: string, options: { bundle?: string; publicKey?: string } = {}): LoadedPolicy {
  // Either sources or a bundle: a path given beside --bundle would be silently ignored.
  if (options.bundle !== undefined && paths.length > 0) return usage(`give policy paths or --bundle, not both (got ${paths.map((p) => `\`${p}\``).join(", ")} and --bundle \`${options.bundle}\`)`);
  const bundlePath = options.bundle ?? (paths.length === 1 && paths[0]!.endsWith(".json") ? paths[0] : undefined);
  if (bundlePath !== undefined) return loadBundleFile(bundlePath, options.publicKey, cwd);
  // Sources have no signature: accepting a key and checking nothing would be a false assurance.
  if (options.publicKey !== undefined) return usage("--public-key checks a bundle's signature, and policy sources have none: give the bundle with --bundle FILE");
  const loaded = loadSources(paths, cwd);
  if (loaded.diagnostics.length > 0) return { ok: false, code: EXIT.usage, diagnostics: loaded.diagnostics };
  const { policy, diagnostics } = compileSources(loaded.files);
  if (!policy || hasErrors(diagnostics)) return { ok: false, code: EXIT.failure, diagnostics: sortDiagnostics(diagnostics) };
  return { ok: true, policy, label: paths.join(" "), warnings: diagnostics };
}

function usage(message: string): LoadedPolicy {
  return { ok: false, code: EXIT.usage, diagnostics: [], message };
}

/** Paths are relative to `cwd` (the verb's working folder, like policy paths), and reported as given. */
function loadBundleFile(path: string, publicKeyPath: string | undefined, cwd: string): LoadedPolicy {
  let text: string;
  try {
    text = readLimited(resolve(cwd, path), MAX_BUNDLE_BYTES).toString("utf8");
  } catch (error) {
    return { ok: false, code: EXIT.usage, diagnostics: [], message: `cannot read bundle \`${path}\`: ${describeFsError(error)}` };
  }
  let publicKey: string | undefined;
  if (publicKeyPath !== undefined) {
    try {
      publicKey = readLimited(resolve(cwd, publicKeyPath), MAX_KEY_BYTES).toString("utf8");
    } catch (error) {
      return { ok: false, code: EXIT.usage, diagnostics: [], message: `cannot read public key \`${publicKeyPath}\`: ${describeFsError(error)}` };
    }
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, code: EXIT.usage, diagnostics: [], message: `\`${path}\` is not JSON: ${(error as Error).message}` };
  }
  try {
    const bundle: Bundle = verifyBundle(value, publicKey === undefined ? {} : { publicKey });
    engineForBundle(bundle); // refuses code that does not load, before any verb runs it
    return { ok: true, policy: bundle, label: path, warnings: [] };
  } catch (error) {
    if (error instanceof BundleError) return { ok: false, code: EXIT.usage, diagnostics: [], message: `\`${path}\`: ${error.message}` };
    return { ok: false, code: EXIT.usage, diagnostics: [], message: `\`${path}\`: invalid key or bundle: ${(error as Error).message}` };
  }
}
