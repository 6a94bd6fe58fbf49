import { realpathSync, statSync } from "node:fs";
import { dirname, resolve } from "node:path";
import { printable } from "../diagnostics/printable.js";
import { plainPalette, type Palette } from "../diagnostics/render.js";
import { describeFsError } from "../source/loadSources.js";
import { hasExtension } from "../source/fileNames.js";
import { makeFolders, NotWritableError, startWriting } from "../source/replaceFile.js";
import type { Io } from "./io.js";

export const REPORTERS = ["pretty", "json", "junit", "tap", "github"] as const;
export type Reporter = (typeof REPORTERS)[number];
const isReporter = (name: string): name is Reporter => (REPORTERS as readonly string[]).includes(name);
/** How each report's file is usually named, for the example in a message. */
const REPORT_EXTENSIONS: Readonly<Record<Reporter, string>> = { pretty: "txt", json: "json", junit: "xml", tap: "tap", github: "txt" };

/** A report a run writes: its reporter, and its file (none: standard output). */
export interface ReportTarget {
  readonly reporter: Reporter;
  /** As the user wrote it, relative to the working folder; undefined for standard output. */
  readonly file?: string;
}

/**
 * The reports `--reporter NAME[=FILE]` (repeatable) and `--json` ask for. A CI job wants the
 * JUnit file its test tab reads and the pretty report in its log from one run, so a reporter
 * given a file writes there; standard output takes at most one report, and the pretty one when
 * every report named goes to a file (unless the pretty one is among them). `FILE` `-` is
 * standard output. Or the usage mistake.
 */
export function reportTargets(values: readonly string[], json: boolean, cwd: string): { targets: ReportTarget[] } | { error: string } {
  const targets: ReportTarget[] = [];
  const flags: string[] = [];
  for (const value of values) {
    const equals = value.indexOf("=");
    const name = equals < 0 ? value : value.slice(0, equals);
    const file = equals < 0 ? undefined : value.slice(equals + 1);
    if (!isReporter(name)) return { error: `unknown reporter \`${printable(name)}\` (use ${REPORTERS.join(", ")}; \`NAME=FILE\` writes that report to FILE)` };
    if (file !== undefined && file.trim() === "") return { error: `--reporter ${name}= names no file (an unset variable?): give one (\`--reporter ${name}=report.${REPORT_EXTENSIONS[name]}\`), or leave out \`=\` for standard output` };
    if (file !== undefined && /[\\/]$/.test(file)) return { error: `--reporter ${printable(value)} names a folder: give the report's file (\`--reporter ${name}=${printable(file)}report.${REPORT_EXTENSIONS[name]}\`)` };
    targets.push(file === undefined || file === "-" ? { reporter: name } : { reporter: name, file });
    flags.push(`--reporter ${printable(value)}`);
  }
  if (json) {
    targets.push({ reporter: "json" });
    flags.push("--json");
  }
  // The same report to the same place twice is one report (as any option given the same value twice).
  const unique: ReportTarget[] = [];
  const uniqueFlags: string[] = [];
  for (let i = 0; i < targets.length; i++) {
    const target = targets[i]!;
    const first = unique.findIndex((other) => placeOf(other, cwd) === placeOf(target, cwd));
    if (first < 0) {
      unique.push(target);
      uniqueFlags.push(flags[i]!);
    } else if (unique[first]!.reporter !== target.reporter) {
      const both = `${uniqueFlags[first]!} and ${flags[i]!}`;
      return { error: target.file === undefined ? `${both} both write to standard output: give one of them, or all but one a file (\`--reporter ${target.reporter}=FILE\`)` : `${both} write to the same file: give each report its own` };
    }
  }
  if (!unique.some((target) => target.file === undefined || target.reporter === "pretty")) unique.unshift({ reporter: "pretty" });
  return { targets: unique };
}

/** Where a report goes, compared: `-` for standard output, else the file's absolute path, links followed. */
function placeOf(target: ReportTarget, cwd: string): string {
  return target.file === undefined ? "-" : realPlace(resolve(cwd, target.file));
}

/**
 * The first report whose file is one of the run's inputs (a recording, a policy file, the
 * bundle, the public key), which writing it would destroy, as a usage message; else undefined.
 */
export function reportOverwritingInput(targets: readonly ReportTarget[], inputs: readonly string[], cwd: string): string | undefined {
  // Files only: a folder of policies or recordings given as a report's file fails to be written, and says so.
  const inputPlaces = new Map(inputs.filter((input) => isFile(resolve(cwd, input))).map((input) => [realPlace(resolve(cwd, input)), input]));
  for (const target of targets) {
    if (target.file === undefined) continue;
    // A policy file in a folder given as a policy path is an input too, and the next run would read the report as policy source.
    if (hasExtension(target.file, ".policy")) return `--reporter ${target.reporter}=${printable(target.file)} names a policy file: a report written there would be read as policy source; give it another file`;
    const input = inputPlaces.get(realPlace(resolve(cwd, target.file)));
    if (input !== undefined) return `--reporter ${target.reporter}=${printable(target.file)} would overwrite \`${printable(input)}\`, an input of this run: give the report another file`;
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

/** A path with its links followed, or as it is when it does not exist (yet). */
function realPlace(path: string): string {
  try {
    return realpathSync(path);
  } catch {
    return path;
  }
}

/**
 * Writes each report: `write` writes `reporter`'s report through `out`, in pieces, coloured by
 * `palette`. A report to a file is written as `build -o` writes a bundle (missing folders made,
 * a temporary file renamed into place: never half written; plain text, no colour). Returns false
 * when a file could not be written (each said on standard error).
 */
export function writeReports(targets: readonly ReportTarget[], io: Io, write: (reporter: Reporter, out: (text: string) => void, palette: Palette) => void): boolean {
  let allWritten = true;
  for (const target of targets) {
    if (target.file === undefined) {
      write(target.reporter, io.out, io.palette);
      continue;
    }
    const failure = writeReportFile(target.file, io.cwd, (out) => write(target.reporter, out, plainPalette));
    if (failure === undefined) continue;
    allWritten = false;
    io.err(`policyc test: cannot write the ${target.reporter} report to \`${printable(target.file)}\`: ${describeFsError(failure)}${failure instanceof NotWritableError ? " (left as it was)" : ""}\n`);
  }
  return allWritten;
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
