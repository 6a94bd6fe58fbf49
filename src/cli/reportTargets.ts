import { statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { printable } from "../diagnostics/printable.js";
import { plainPalette, type Palette } from "../diagnostics/render.js";
import { describeFsError } from "../source/loadSources.js";
import { hasExtension } from "../source/fileNames.js";
import { afterSignalsDelivered, holdInterrupts, makeFolders, NotWritableError, startWriting } from "../source/replaceFile.js";
import { isRecordingName } from "../testing/expandRecordings.js";
import type { Io } from "./io.js";
import { descriptorIdentity, pathIdentity, type Identity } from "./standardInputFiles.js";

/** The reports `test` writes (and `fmt`): every one but SARIF. */
export const REPORTERS = ["pretty", "json", "junit", "tap", "github"] as const;
/** Every report a verb writes: SARIF (code-scanning alerts) only `check` writes, of its diagnostics. */
const ALL_REPORTERS = [...REPORTERS, "sarif"] as const;
export type Reporter = (typeof ALL_REPORTERS)[number];
const isReporter = (name: string): name is Reporter => (ALL_REPORTERS as readonly string[]).includes(name);
/** How each report's file is usually named, for the example in a message. */
const REPORT_EXTENSIONS: Readonly<Record<Reporter, string>> = { pretty: "txt", json: "json", junit: "xml", tap: "tap", github: "txt", sarif: "sarif" };

/** A report a run writes: its reporter, and where. */
export interface ReportTarget<R extends Reporter = Reporter> {
  readonly reporter: R;
  /** Standard output or standard error, or a file (as the user wrote it, relative to the working folder). */
  readonly to: "stdout" | "stderr" | { readonly file: string };
}

/** The names of standard output and standard error as files: a report given one is written to the stream itself. */
const STREAM_NAMES: ReadonlyMap<string, "stdout" | "stderr"> = new Map([
  ["/dev/stdout", "stdout"],
  ["/dev/fd/1", "stdout"],
  ["/proc/self/fd/1", "stdout"],
  ["/dev/stderr", "stderr"],
  ["/dev/fd/2", "stderr"],
  ["/proc/self/fd/2", "stderr"],
]);

/**
 * The reports `--reporter NAME[=FILE]` (repeatable) and `--json` ask for. A CI job wants the
 * JUnit file its test tab reads and the pretty report in its log from one run, so a reporter
 * given a file writes there; standard output takes at most one report, and the pretty one when
 * every report named goes to a file (unless the pretty one is among them). `FILE` `-`, a name of
 * standard output (`/dev/stdout`) or the file it is redirected to is standard output; a name of
 * standard error, or its file, is standard error: written through the stream, never replaced
 * (which would lose the rest of what goes there). Or the usage mistake. `reporters` are the
 * verb's, pretty and json among them: `test` and `fmt` take `REPORTERS`, `check` those and `sarif`.
 */
export function reportTargets<R extends Reporter = (typeof REPORTERS)[number]>(values: readonly string[], json: boolean, cwd: string, reporters: readonly R[] = REPORTERS as readonly Reporter[] as readonly R[]): { targets: ReportTarget<R>[] } | { error: string } {
  const known = (name: string): name is R => (reporters as readonly string[]).includes(name);
  const targets: ReportTarget<R>[] = [];
  const flags: string[] = [];
  for (const value of values) {
    const equals = value.indexOf("=");
    const name = equals < 0 ? value : value.slice(0, equals);
    const file = equals < 0 ? undefined : value.slice(equals + 1);
    if (!known(name)) return { error: `${isReporter(name) ? `the \`${name}\` reporter is not offered here` : `unknown reporter \`${printable(name)}\``} (use ${reporters.join(", ")}; \`NAME=FILE\` writes that report to FILE)` };
    const example = `\`--reporter ${name}=${file !== undefined && /[\\/]$/.test(file) ? printable(file) : ""}report.${REPORT_EXTENSIONS[name]}\``;
    if (file !== undefined && file.trim() === "") return { error: `--reporter ${name}= names no file (an unset variable?): give one (${example}), or leave out \`=\` for standard output` };
    if (file !== undefined && /[\\/]$/.test(file)) return { error: `--reporter ${printable(value)} names a folder: give the report's file (${example})` };
    targets.push({ reporter: name, to: file === undefined || file === "-" ? "stdout" : (streamNamed(resolve(cwd, file)) ?? { file }) });
    flags.push(`--reporter ${printable(value)}`);
  }
  if (json) {
    targets.push({ reporter: "json" as R, to: "stdout" });
    flags.push("--json");
  }
  // The same report to the same place twice is one report (as any option given the same value twice).
  const unique: ReportTarget<R>[] = [];
  const uniqueFlags: string[] = [];
  for (let i = 0; i < targets.length; i++) {
    const target = targets[i]!;
    const first = unique.findIndex((other) => placeOf(other, cwd) === placeOf(target, cwd));
    if (first < 0) {
      unique.push(target);
      uniqueFlags.push(flags[i]!);
    } else if (unique[first]!.reporter !== target.reporter) {
      const both = `${uniqueFlags[first]!} and ${flags[i]!}`;
      if (typeof target.to !== "string") return { error: `${both} write to the same file: give each report its own` };
      const stream = target.to === "stdout" ? "standard output" : "standard error";
      return { error: `${both} both write to ${stream}: give one of them, or all but one a file (\`--reporter ${target.reporter}=FILE\`)` };
    }
  }
  if (!unique.some((target) => target.to === "stdout" || target.reporter === "pretty")) unique.unshift({ reporter: "pretty" as R, to: "stdout" });
  return { targets: unique };
}

/** Standard output or standard error, when `path` is one of their names or the file, pipe or terminal one of them writes to. */
function streamNamed(path: string): "stdout" | "stderr" | undefined {
  const named = STREAM_NAMES.get(path);
  if (named !== undefined) return named;
  const identity = pathIdentity(path);
  if (identity === undefined) return undefined;
  if (identity === descriptorIdentity(1)?.key) return "stdout";
  if (identity === descriptorIdentity(2)?.key) return "stderr";
  return undefined;
}

/** Where a report goes, compared: a stream, or the file's identity (its absolute path when it does not exist yet). */
function placeOf(target: ReportTarget, cwd: string): string {
  if (typeof target.to === "string") return target.to;
  const path = resolve(cwd, target.to.file);
  return pathIdentity(path) ?? path;
}

/**
 * The first report whose file is one of the run's inputs (a recording, a policy file, the
 * bundle, the public key, the file standard input reads when it is a recording), which writing it
 * would destroy, or a file a later run would take as one (a `.policy` file, a recording), as a
 * usage message; else undefined.
 */
export function reportOverwritingInput(targets: readonly ReportTarget[], inputs: readonly string[], cwd: string, options: { readsStandardInput: boolean }): string | undefined {
  // Files only: a folder of policies or recordings given as a report's file fails to be written, and says so.
  const inputPlaces = new Map<Identity, string>();
  for (const input of inputs) {
    const identity = isFile(resolve(cwd, input)) ? pathIdentity(resolve(cwd, input)) : undefined;
    if (identity !== undefined) inputPlaces.set(identity, `\`${printable(input)}\``);
  }
  const standardInput = options.readsStandardInput ? descriptorIdentity(0) : undefined;
  if (standardInput !== undefined) inputPlaces.set(standardInput.key, "standard input");
  for (const target of targets) {
    if (typeof target.to === "string") continue;
    const flag = `--reporter ${target.reporter}=${printable(target.to.file)}`;
    // A file in a folder given as a policy path or a recording folder is an input of the next run.
    if (hasExtension(target.to.file, ".policy")) return `${flag} names a policy file: a report written there would be read as policy source; give it another file`;
    if (isRecordingName(target.to.file)) return `${flag} names a recording (\`.jsonl\`, \`.ndjson\`): a report written there would be replayed as one from a folder of recordings; give it another file (\`.${REPORT_EXTENSIONS[target.reporter]}\`)`;
    const identity = pathIdentity(resolve(cwd, target.to.file));
    const input = identity === undefined ? undefined : inputPlaces.get(identity);
    if (input !== undefined) return `${flag} would overwrite ${input}, an input of this run: give the report another file`;
  }
  return undefined;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false;
  }
}

/**
 * Writes each report: `write` writes `reporter`'s report through `out`, in pieces, coloured by
 * `palette`. A report to a file is written as `build -o` writes a bundle (missing folders made,
 * a temporary file renamed into place: never half written; plain text, no colour). The files
 * that could not be written are said on standard error after every report is written. Returns
 * false when one could not be.
 */
export async function writeReports<R extends Reporter>(verb: string, targets: readonly ReportTarget<R>[], io: Io, write: (reporter: R, out: (text: string) => void, palette: Palette) => void): Promise<boolean> {
  // From before the first report file to a turn past the last, as `replaceEach` writes files,
  // and a turn of the event loop after each: an interrupt while one is written ends the run
  // there (that file in place, or its temporary file removed), and the files after it stay as they were.
  const release = targets.some((target) => typeof target.to !== "string") ? holdInterrupts() : undefined;
  const failures: string[] = [];
  try {
    for (const target of targets) {
      if (target.to === "stdout") write(target.reporter, io.out, io.palette);
      else if (target.to === "stderr") write(target.reporter, io.err, io.errPalette);
      else {
        const file = target.to.file;
        const failure = writeReportFile(file, io.cwd, (out) => write(target.reporter, out, plainPalette));
        if (failure !== undefined) failures.push(`policyc ${verb}: cannot write the ${target.reporter} report to \`${printable(file)}\`: ${describeFsError(failure)}${failure instanceof NotWritableError ? " (left as it was)" : ""}\n`);
        await afterSignalsDelivered();
      }
    }
  } finally {
    await release?.();
  }
  for (const failure of failures) io.err(failure);
  return failures.length === 0;
}

/** Writes one report file (`path` as given, relative to `cwd`); the error that stopped it, or undefined. */
function writeReportFile(path: string, cwd: string, write: (out: (text: string) => void) => void): unknown {
  let file;
  try {
    // Named in messages as the user wrote it (`plain-file` is a file, not a folder).
    makeFolders(dirname(path), cwd);
    file = startWriting(resolve(cwd, path));
  } catch (error) {
    return error;
  }
  let failure: unknown;
  write((text) => {
    if (failure !== undefined) return;
    try {
      file.write(text);
    } catch (error) {
      failure = error;
    }
  });
  if (failure !== undefined) {
    file.abandon();
    return failure;
  }
  try {
    file.finish();
  } catch (error) {
    return error;
  }
  return undefined;
}
