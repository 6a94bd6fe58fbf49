import type { Command } from "commander";
import type { Bundle } from "../bundle/Bundle.js";
import { BUNDLE_CODES } from "../bundle/errorCodes.js";
import { printable } from "../diagnostics/printable.js";
import { EXIT, type ExitCode } from "./exitCodes.js";
import type { Io } from "./io.js";
import { loadPolicy } from "./loadEngine.js";
import { notLoadedJson, reportLoadNote, reportNotLoaded } from "./report.js";
import type { DiagnosticJson } from "../diagnostics/render.js";

export interface VerifyOptions {
  publicKey?: string;
  json?: boolean;
}

/** One bundle's result in `verify --json`'s `bundles`, in the order given. */
export type VerifiedBundleJson =
  | { path: string; ok: true; contentHash: string; compiler: string; signature: "checked" | "not checked" | "unsigned"; notes: string[] }
  | { path: string; ok: false; code: string | null; reason: string };

/**
 * `policyc verify BUNDLE…`: each bundle checked as loading it checks it (schema, content hash,
 * signature with --public-key), its rules' conditions checked strictly, its code compared
 * with what this policyc emits from the bundle's own rules, schema and session, and its rules'
 * text with what they run (PC709), running none of it: the vetting step for bundles built elsewhere (README, "Bundles you did not build"). Exit 0
 * when every bundle passed, 1 when one was refused for what it holds, 2 when a file or key could
 * not be read or is no bundle at all (a usage mistake), whichever is worse.
 */
export function verifyVerb(io: Io, paths: readonly string[], options: VerifyOptions): ExitCode {
  if (paths.length === 0) {
    io.err("policyc verify: give the bundle files to verify\n");
    return EXIT.usage;
  }
  let exit: ExitCode = EXIT.ok;
  const results: VerifiedBundleJson[] = [];
  const diagnostics: DiagnosticJson[] = [];
  for (const path of paths) {
    const loaded = loadPolicy([], io.cwd, { verb: "verify", bundle: path, vetOnly: true, ...(options.publicKey !== undefined ? { publicKey: options.publicKey } : {}) });
    if (!loaded.ok) {
      if (!options.json) reportNotLoaded("verify", loaded, io);
      const json = notLoadedJson(loaded);
      results.push({ path, ok: false, code: json.code ?? null, reason: json.reason });
      if (loaded.inputError !== undefined) diagnostics.push({ code: loaded.inputError.code, severity: "error", message: loaded.inputError.message, file: loaded.inputError.place, line: null, column: null, end: null });
      exit = worse(exit, loaded.inputError?.unusable === true || unusableCode(loaded.inputError?.code) ? EXIT.usage : EXIT.failure);
      continue;
    }
    const bundle = loaded.policy as Bundle;
    const signature = options.publicKey !== undefined ? "checked" : bundle.signature !== undefined ? "not checked" : "unsigned";
    results.push({ path, ok: true, contentHash: bundle.manifest.contentHash, compiler: bundle.manifest.compiler, signature, notes: loaded.note === undefined ? [] : [loaded.note] });
    if (options.json) continue;
    reportLoadNote("verify", loaded, io);
    const said = signature === "checked" ? "signature checked" : signature === "not checked" ? "signature not checked" : "unsigned";
    io.out(`${printable(path)}: verified: ${bundle.manifest.contentHash}, ${printable(bundle.manifest.compiler)}, ${said}; its code is what this policyc emits from its rules, and its rules' text what they run\n`);
  }
  // As `check --json`: one document on standard output, \`ok\`, counts, and the refusals as diagnostics.
  if (options.json) io.out(JSON.stringify({ ok: exit === EXIT.ok, errors: diagnostics.length, warnings: 0, bundles: results, diagnostics }, null, 2) + "\n");
  return exit;
}

/** A refusal that is no verdict on a bundle (exit 2): a file or key that cannot be read. */
function unusableCode(code: string | undefined): boolean {
  return code === undefined || code === BUNDLE_CODES.unreadableFile || code === BUNDLE_CODES.unusableKey;
}

/** The exit code of a run with both results: a usage mistake (2) over a refusal (1) over success. */
function worse(a: ExitCode, b: ExitCode): ExitCode {
  return a === EXIT.usage || b === EXIT.usage ? EXIT.usage : a === EXIT.failure || b === EXIT.failure ? EXIT.failure : EXIT.ok;
}

export function registerVerify(program: Command, io: Io, finish: (code: ExitCode) => void): void {
  program
    .command("verify")
    .description("check bundles without running them: hash, signature, their rules, that their code is what this policyc emits from their rules, and that their rules' text compiles to what they run (exit 0 all passed, 1 one refused, a JSON object that is no bundle too; 2 a file unreadable or no bundle at all, JSON that is no object among them, or a key unusable)")
    .argument("[bundles...]", "bundle files (.json), as policyc build wrote them")
    .option("--public-key <file>", "require each bundle to be signed by this Ed25519 public key (PEM, DER or JSON Web Key)")
    .option("--json", "print one JSON document: ok, errors, warnings, each bundle's result (bundles) and the refusals (diagnostics)")
    .action((paths: string[], options: VerifyOptions) => finish(verifyVerb(io, paths, options)));
}
