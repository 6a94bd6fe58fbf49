import { resolve } from "node:path";
import type { Command } from "commander";
import { firstChangedLine, formatSources, type FormattedFile } from "../ast/formatSources.js";
import { githubDiagnosticsReport, junitDiagnosticsReport, tapDiagnosticsReport, unformattedAnnotation, unformattedFailure, type DiagnosticsReportInput } from "../diagnostics/ciReports.js";
import { ciPaths, isRepositoryFile } from "../testing/reporters/shared.js";
import { reportOverwritingInput, reportTargets, writeReports } from "./reportTargets.js";
import { hasErrors, sortDiagnostics } from "../diagnostics/Diagnostic.js";
import { describeFsError, loadSources, loadStandardInput, type LoadedSources } from "../source/loadSources.js";
import { replaceEach } from "../source/replaceFile.js";
import { EXIT, type ExitCode } from "./exitCodes.js";
import { onStandardError, type Io } from "./io.js";
import { reportDiagnostics } from "./report.js";
import { namedForWhatItIs } from "./wrongSlot.js";
import { refuseRewriteOfStream } from "./standardInputFiles.js";
import { addExclude, addMaxErrors, excludedJson, gatherValues, parseMaxErrors, reportExcluded, type ExcludeOption } from "./options.js";
import { counted, diagnosticToJson } from "../diagnostics/render.js";
import { printable } from "../diagnostics/printable.js";
import { withoutByteOrderMark } from "../source/textEncoding.js";

/** The reports `fmt --reporter` writes: github, junit and tap only with --check (each says which files differ, and where). */
export const FMT_REPORTERS = ["pretty", "json", "junit", "tap", "github"] as const;
/** The reports of what --check found: without it there is no difference to report. */
const CHECK_ONLY_REPORTERS: readonly string[] = ["github", "junit", "tap"];

export interface FmtOptions extends ExcludeOption {
  check?: boolean;
  write?: boolean;
  json?: boolean;
  reporter?: string[];
  maxErrors?: string;
}

/** For the help of a glob given as a policy path: the folder, with the options as given. */
const FMT_FOLDER = { folderCommand: (folder: string) => `policyc fmt ${folder} …` };

/** Files `fmt --check` and `fmt --write` list at most (`--json` lists all). */
const MAX_LISTED_FILES = 100;

/**
 * `policyc fmt PATH…`: print the canonical form; `--check` lists files that differ (exit 1);
 * `--write` rewrites them. `-` is standard input (what an editor formatting on save pipes),
 * named `standard input` in diagnostics.
 */
export async function fmtVerb(io: Io, paths: string[], options: FmtOptions): Promise<ExitCode> {
  if (options.check && options.write) {
    io.err("policyc fmt: use either --check or --write, not both\n");
    return EXIT.usage;
  }
  const asked = reportTargets(options.reporter ?? [], options.json ?? false, io.cwd, FMT_REPORTERS);
  if ("error" in asked) {
    io.err(`policyc fmt: ${asked.error}\n`);
    return EXIT.usage;
  }
  const targets = asked.targets;
  // Annotations and test cases say where a file differs: without --check there is no difference to point at.
  const checkOnly = options.check ? undefined : targets.find((target) => CHECK_ONLY_REPORTERS.includes(target.reporter));
  if (checkOnly !== undefined) {
    io.err(`policyc fmt: --reporter ${checkOnly.reporter} ${checkOnly.reporter === "github" ? "annotates" : "reports"} the files that are not formatted: give --check too\n`);
    return EXIT.usage;
  }
  const fromStandardInput = paths.includes("-");
  if (fromStandardInput && options.write) {
    io.err("policyc fmt: --write rewrites files in place, and `-` is standard input: without --write the formatted text is printed on standard output\n");
    return EXIT.usage;
  }
  // A name of standard input (`/dev/stdin`), or the file it is redirected from, is not rewritten:
  // what was read from a stream is printed (fmt -), never written over the file behind it.
  if (options.write && refuseRewriteOfStream(paths, io.cwd, io, { refusal: "policyc fmt: --write rewrites files in place", notAFile: (what) => `${what}, not a file it can rewrite: \`policyc fmt -\` prints standard input formatted`, readByStandardInput: (file) => `\`${printable(file)}\` is also what standard input reads (\`<\` redirects it), which it never rewrites: give the file as a path only`, otherStreamsToo: false }) !== undefined) return EXIT.usage;
  const overwritten = reportOverwritingInput(targets, paths.filter((path) => path !== "-"), io.cwd, { readsStandardInput: fromStandardInput });
  if (overwritten !== undefined) {
    io.err(`policyc fmt: ${overwritten}\n`);
    return EXIT.usage;
  }
  const input = fromStandardInput ? loadStandardInput(io.readStdin) : undefined;
  const loaded = withStandardInput(input, loadSources(paths.filter((path) => path !== "-"), io.cwd, { ...FMT_FOLDER, exclude: options.exclude }));
  const excludeRefused = reportExcluded("fmt", loaded, io);
  if (excludeRefused !== undefined) return excludeRefused;
  // Standard input formatted apart, so it is told from the files by what it is, not by its name
  // (a file may be named `standard input`); each file is formatted on its own either way.
  const fromInput = formatSources(input?.files ?? []);
  const fromFiles = formatSources(loaded.files.slice(input?.files.length ?? 0));
  const formatted = [...fromInput.formatted, ...fromFiles.formatted];
  const diagnostics = [...fromInput.diagnostics, ...fromFiles.diagnostics];
  const problems = namedForWhatItIs(sortDiagnostics([...loaded.diagnostics, ...loaded.warnings, ...diagnostics]), io.cwd);
  const changed = formatted.filter((f) => f.changed);
  // Written before anything is reported, so the report (JSON included) says what happened.
  const unwritten = new Set<string>();
  if (options.write) {
    // Paths are shown relative to the working folder; written through it, not the process's.
    const results = await replaceEach(changed.map((file) => ({ path: resolve(io.cwd, file.path), text: file.formatted })));
    changed.forEach((file, index) => {
      const { error, namesKeepingOldText: kept } = results[index]!;
      if (error !== undefined) {
        unwritten.add(file.path);
        io.err(`policyc fmt: cannot write \`${printable(file.path)}\`: ${describeFsError(error)} (left as it was)\n`);
      } else if (kept > 0) {
        // Replaced, not edited in place (a failure leaves the file whole): its hard links are split.
        io.err(`${io.errPalette.warning("note")}: \`${printable(file.path)}\` was a hard link: ${kept === 1 ? "another name of it, not given to fmt, still holds" : `${kept} other names of it, not given to fmt, still hold`} the old text (the file was replaced by a new one, not edited in place)\n`);
      }
    });
  }
  // On standard error: standard output carries the formatted text, the list of unformatted
  // files (which CI steps read line by line) or a report.
  if (problems.length > 0) reportDiagnostics(onStandardError(io), problems, { json: false, max: parseMaxErrors(options.maxErrors) });
  const pretty = targets.some((target) => target.reporter === "pretty");
  const written = changed.filter((file) => !unwritten.has(file.path));
  // Standard input cannot be rewritten: printing it formatted is the fix there.
  const advice = changed.every((file) => fromInput.formatted.includes(file)) ? "`policyc fmt -` prints it formatted" : "run `policyc fmt --write`";
  const notFormatted = `${changed.length.toLocaleString("en-US")} file${changed.length === 1 ? " is" : "s are"} not formatted`;
  // What the pretty report leaves unlisted (past MAX_LISTED_FILES), for its summary on standard error.
  let listedOnly = "";
  const reported = await writeReports("fmt", targets, io, (reporter, out) => {
    if (reporter === "json") {
      const files = formatted.map((f) => ({ path: f.path, changed: f.changed, ...(f.changed && (options.check || options.write) ? { firstChangedLine: firstChangedLine(f) } : {}), ...(options.write ? { written: f.changed && !unwritten.has(f.path) } : {}), ...(options.check || options.write ? {} : { formatted: f.formatted }) }));
      out(JSON.stringify({ ok: !hasErrors(problems) && unwritten.size === 0 && (!options.check || changed.length === 0), files, excluded: excludedJson(loaded.excluded), diagnostics: problems.map(diagnosticToJson) }, null, 2) + "\n");
    } else if (reporter === "github" || reporter === "junit" || reporter === "tap") {
      // Every file read is a test case, in order, those with syntax errors (which have no canonical form) too.
      // Standard input first (withStandardInput), then the files: a case each, told apart by what
      // was read, not by name (a file may be named `standard input`).
      const inputCount = input?.files.length ?? 0;
      const indexOf = (file: FormattedFile): number => loaded.files.findIndex((source, index) => source.path === file.path && (index < inputCount) === fromInput.formatted.includes(file));
      const diagnosticFiles = problems.map((d) => {
        const index = d.span === undefined ? -1 : loaded.files.indexOf(d.span.file);
        return index < 0 ? undefined : index;
      });
      const ci: DiagnosticsReportInput = { verb: "policyc fmt", files: loaded.files.map((f) => f.path), diagnostics: problems.map(diagnosticToJson), diagnosticFiles, warningsFail: false, ciPath: ciPaths(io.cwd, io.env["GITHUB_WORKSPACE"]), isRepositoryFile: (file, index) => (index === undefined ? !(input?.files.some((f) => f.path === file) ?? false) : index >= inputCount) && isRepositoryFile(file) };
      const unformatted = changed.map((file) => ({ path: file.path, line: firstChangedLine(file), fromStandardInput: fromInput.formatted.includes(file), index: indexOf(file) }));
      const summary = changed.length > 0 ? `${notFormatted}; ${advice}` : `ok: ${counted(formatted.length, "file")}, all formatted`;
      // A file not in canonical form fails its test case, at the first line that changes.
      const failures = new Map(unformatted.map((file) => [file.index, unformattedFailure(ci, file)]));
      if (reporter === "github") githubDiagnosticsReport(ci, { annotations: unformatted.map((file) => unformattedAnnotation(ci, file)), summary }, out);
      else if (reporter === "junit") junitDiagnosticsReport(ci, out, failures);
      else tapDiagnosticsReport(ci, summary, out, failures);
    } else if (options.write) listedOnly = listPaths(out, written);
    else if (options.check) listedOnly = listPaths(out, changed);
    else {
      // Headed by its path whenever several files were given, also when only one of them could be
      // formatted; a byte order mark only means something at the start of a file, so it is left out there.
      const headed = loaded.files.length > 1;
      for (const file of formatted) out(headed ? `// ${printable(file.path)}\n${withoutByteOrderMark(file.formatted)}\n` : file.formatted);
    }
  });
  if (pretty && options.write) {
    // What was rewritten, as --check lists what would be (a script can `git add` them), and
    // the count on standard error.
    const notWritten = unwritten.size > 0 ? `, ${unwritten.size.toLocaleString("en-US")} could not be written` : "";
    io.err(`${counted(written.length, "file")} formatted, ${(formatted.length - changed.length).toLocaleString("en-US")} unchanged${notWritten}${listedOnly}\n`);
  } else if (pretty && options.check && changed.length > 0) io.err(`${notFormatted}${listedOnly}; ${advice}\n`);
  if (unwritten.size > 0 || !reported) return EXIT.usage;
  if (loaded.diagnostics.length > 0) return EXIT.usage;
  if (hasErrors(problems)) return EXIT.failure;
  if (options.check && changed.length > 0) return EXIT.failure;
  return EXIT.ok;
}

/**
 * Lists files through `out`, one path per line, its control characters escaped: a newline
 * in a file name must not add a line. At most MAX_LISTED_FILES of them (an estate never
 * formatted has thousands), the list holding only paths; returns what the caller's line on
 * standard error adds when some were not listed ("" when all were).
 */
function listPaths(out: (text: string) => void, files: readonly { path: string }[]): string {
  for (const file of files.slice(0, MAX_LISTED_FILES)) out(`${printable(file.path)}\n`);
  const unlisted = files.length - MAX_LISTED_FILES;
  return unlisted > 0 ? ` (${unlisted.toLocaleString("en-US")} more not listed; \`--json\` lists them all)` : "";
}

/** The files of the other paths, and standard input's text (when read) before them. */
function withStandardInput(input: LoadedSources | undefined, files: LoadedSources): LoadedSources {
  if (input === undefined) return files;
  return { files: [...input.files, ...files.files], diagnostics: [...input.diagnostics, ...files.diagnostics], warnings: files.warnings, excluded: files.excluded, ...(files.usage === undefined ? {} : { usage: files.usage }) };
}

export function registerFmt(program: Command, io: Io, finish: (code: ExitCode | Promise<ExitCode>) => void): void {
  addMaxErrors(
    addExclude(program
      .command("fmt")
      .description("print policies in canonical form; --check fails on a difference, --write rewrites")
      .argument("<paths...>", "policy files or folders (searched for *.policy), or - for standard input")
      .option("--check", "list files that are not formatted (at most 100; --json lists all) and exit 1 if any")
      .option("--write", "rewrite files in place, and list those it changed (at most 100; --json lists all)")
      .option("--reporter <name[=file]>", `report format: ${FMT_REPORTERS.join(", ")} (default: pretty, the text or list of files); with --check, github prints an annotation at the first line that differs of each file not formatted, junit a test case and tap a test point per file, failing when it is not formatted; NAME=FILE writes that report to FILE instead of standard output, and the option may be repeated`, gatherValues)
      .option("--json", "same as --reporter json: a JSON document instead")),
  ).action((paths: string[], options: FmtOptions) => finish(fmtVerb(io, paths, options)));
}
