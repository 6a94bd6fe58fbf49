import { mkdirSync, realpathSync, statSync } from "node:fs";
import { writeFilesSafely } from "../source/replaceFile.js";
import type { KeyObject } from "node:crypto";
import { basename, dirname, join, resolve, sep } from "node:path";
import type { Command } from "commander";
import { createBundle, serializeBundle } from "../bundle/writeBundle.js";
import { compileSources } from "../compile/compile.js";
import { type Diagnostic, sortDiagnostics } from "../diagnostics/Diagnostic.js";
import type { Bundle } from "../bundle/Bundle.js";
import { describeFsError, loadSources } from "../source/loadSources.js";
import { EXIT, type ExitCode } from "./exitCodes.js";
import type { Io } from "./io.js";
import { reportDiagnostics } from "./report.js";
import { readSigningKey } from "./signingKey.js";

export interface BuildOptions {
  output?: string;
  sign?: string;
  target?: string;
  json?: boolean;
}

/**
 * Where the files go. `-o` names a folder when it ends in `/` or is an existing folder: the
 * folder (created if need be) receives `bundle.json`, and with `--target ts` `policy.ts` too.
 * Otherwise it names the bundle file; with `--target ts`, a name that does not end in `.json`
 * is a folder as well, and `policy.ts` goes beside a `.json` one.
 */
function outputsFor(output: string, target: "js" | "ts", cwd: string): { bundle: string; module?: string; folder?: string } {
  if (namesFolder(output, cwd) || (target === "ts" && !output.endsWith(".json"))) {
    const bundle = join(output, "bundle.json");
    return target === "js" ? { bundle, folder: output } : { bundle, module: join(output, "policy.ts"), folder: output };
  }
  return target === "js" ? { bundle: output } : { bundle: output, module: join(dirname(output), "policy.ts") };
}

function namesFolder(output: string, cwd: string): boolean {
  if (output.endsWith("/") || output.endsWith(sep)) return true;
  try {
    return statSync(resolve(cwd, output)).isDirectory();
  } catch {
    return false;
  }
}

/** `policyc build PATH… -o FILE`: writes a bundle (and, with `--target ts`, the typed request module). */
export async function buildVerb(io: Io, paths: string[], options: BuildOptions): Promise<ExitCode> {
  const target = options.target ?? "js";
  if (target !== "js" && target !== "ts") {
    io.err(`policyc build: unknown target \`${target}\` (use js or ts)\n`);
    return EXIT.usage;
  }
  if (!options.output) {
    io.err("policyc build: say where to write the bundle with -o FILE, or -o DIR/ for DIR/bundle.json (with --target ts, -o FILE.json or -o DIR)\n");
    return EXIT.usage;
  }
  // `-o -`: the bundle on standard output (to pipe it to an upload), everything else on standard error.
  const toStdout = options.output === "-";
  if (toStdout && target === "ts") {
    io.err("policyc build: with --target ts, -o names a folder or a .json file (policy.ts is written beside the bundle); standard output (-) cannot hold both\n");
    return EXIT.usage;
  }
  let privateKey: KeyObject | undefined;
  if (options.sign !== undefined) {
    // Relative to the verb's working folder (like the policy paths), not the process's.
    const read = readSigningKey(options.sign, io.cwd);
    if (!read.ok) {
      io.err(`policyc build: ${read.message}\n`);
      return EXIT.usage;
    }
    privateKey = read.key;
  }
  const loaded = loadSources(paths, io.cwd);
  if (loaded.diagnostics.length > 0) {
    reportDiagnostics(io, sortDiagnostics(loaded.diagnostics), { json: options.json ?? false });
    return EXIT.usage;
  }
  // Writing the bundle over one of its own sources (`-o rules.policy`) would lose the source.
  const files = toStdout ? { bundle: "-" } : outputsFor(options.output, target, io.cwd);
  const outputs = files.module === undefined ? [files.bundle] : [files.bundle, files.module];
  const clobbered = toStdout ? undefined : outputs.find((out) => loaded.files.some((file) => sameFile(resolve(io.cwd, out), resolve(io.cwd, file.path))));
  if (clobbered !== undefined) {
    io.err(`policyc build: \`${clobbered}\` is one of the policy sources: writing the bundle there would overwrite it\n`);
    return EXIT.usage;
  }
  // The checked program too: its declarations' doc comments go into policy.ts.
  const { policy, program, diagnostics } = compileSources(loaded.files);
  if (!policy || !program) {
    reportDiagnostics(io, diagnostics, { json: options.json ?? false });
    return EXIT.failure;
  }
  let bundle;
  try {
    bundle = createBundle(policy, loaded.files, privateKey === undefined ? {} : { privateKey });
  } catch (error) {
    // Only signing reads user input here; anything else is ours, and main reports it as such.
    if (privateKey === undefined) throw error;
    io.err(`policyc build: cannot sign with \`${options.sign}\`: ${(error as Error).message.split("\n")[0]} (expected an Ed25519 private key in PEM or as a JSON Web Key)\n`);
    return EXIT.usage;
  }
  if (toStdout) {
    io.out(serializeBundle(bundle));
    return reportBuilt({ ...io, out: io.err }, bundle, diagnostics, ["-"], options.json ?? false);
  }
  const texts = [{ path: resolve(io.cwd, files.bundle), text: serializeBundle(bundle) }];
  if (files.module !== undefined) {
    // Loaded only here: ts-morph takes about a second to load, and every verb would pay it.
    // Emitted before anything is written: an emitter failure is ours (main reports it), and
    // must not leave a new bundle beside the previous build's policy.ts.
    const { emitTypeScript, policyDocs } = await import("../compile/emitTypeScript.js");
    texts.push({ path: resolve(io.cwd, files.module), text: emitTypeScript(bundle.schema, { bundleFile: basename(files.bundle), docs: policyDocs(program.files) }) });
  }
  try {
    // Written relative to the verb's working folder; reported as the user wrote them. Each file
    // is written under a temporary name and then renamed, so an enforcement point reloading the
    // bundle never reads half of it; the bundle and policy.ts are both written before either
    // is renamed, so a failure leaves both as they were.
    if (files.folder !== undefined) mkdirSync(resolve(io.cwd, files.folder), { recursive: true });
    if (files.module !== undefined) mkdirSync(dirname(texts[0]!.path), { recursive: true });
    writeFilesSafely(texts);
  } catch (error) {
    io.err(`policyc build: cannot write \`${options.output}\`: ${describeFsError(error)}\n`);
    return EXIT.usage;
  }
  return reportBuilt(io, bundle, diagnostics, outputs, options.json ?? false);
}

/** The summary of a build that was written: JSON, or one line after any warnings. */
function reportBuilt(io: Io, bundle: Bundle, diagnostics: readonly Diagnostic[], written: readonly string[], json: boolean): ExitCode {
  if (json) {
    reportDiagnostics(io, diagnostics, { json: true, extra: { written, contentHash: bundle.manifest.contentHash, rules: bundle.rules.length, signed: bundle.signature !== undefined } });
  } else {
    if (diagnostics.length > 0) reportDiagnostics(io, diagnostics, { json: false });
    io.out(`${io.palette.ok("built")} ${written[0] === "-" ? "standard output" : written.join(", ")}: ${bundle.rules.length} rules, ${Object.keys(bundle.schema.tools).length} tools, ${bundle.manifest.contentHash}${bundle.signature ? ", signed" : ""}\n`);
  }
  return EXIT.ok;
}

/**
 * Whether two paths name the same file: the same path through symbolic links, or the same
 * device and inode (a hard link has a name of its own). False when either does not exist.
 */
function sameFile(a: string, b: string): boolean {
  try {
    if (realpathSync(a) === realpathSync(b)) return true;
    const [one, other] = [statSync(a, { bigint: true }), statSync(b, { bigint: true })];
    // Some file systems give no inode numbers (0): there the real paths are all there is.
    return one.ino !== 0n && one.ino === other.ino && one.dev === other.dev;
  } catch {
    return a === b;
  }
}

export function registerBuild(program: Command, io: Io, finish: (code: ExitCode | Promise<ExitCode>) => void): void {
  program
    .command("build")
    .description("compile policies into a bundle for enforcement points")
    .argument("<paths...>", "policy files or folders (searched for *.policy)")
    .option("-o, --output <path>", "bundle file to write, - for standard output, or a folder (ending in / or existing) to write bundle.json in (with --target ts: a folder, or a .json file with policy.ts beside it)")
    .option("--target <target>", "js (bundle only) or ts (bundle.json and a typed policy.ts)", "js")
    .option("--sign <key.pem>", "sign the bundle with this Ed25519 private key")
    .option("--json", "print a JSON summary instead")
    .action((paths: string[], options: BuildOptions) => finish(buildVerb(io, paths, options)));
}
