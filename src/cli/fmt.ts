import { resolve } from "node:path";
import type { Command } from "commander";
import { formatSources } from "../ast/formatSources.js";
import { hasErrors, sortDiagnostics } from "../diagnostics/Diagnostic.js";
import { describeFsError, loadSources, loadStandardInput, type LoadedSources } from "../source/loadSources.js";
import { replaceEach } from "../source/replaceFile.js";
import { EXIT, type ExitCode } from "./exitCodes.js";
import { onStandardError, type Io } from "./io.js";
import { reportDiagnostics } from "./report.js";
import { namedForWhatItIs } from "./wrongSlot.js";
import { refuseRewriteOfStream } from "./standardInputFiles.js";
import { addExclude, addMaxErrors, parseMaxErrors, reportExcluded, type ExcludeOption } from "./options.js";
import { counted, diagnosticToJson } from "../diagnostics/render.js";
import { printable } from "../diagnostics/printable.js";
import { withoutByteOrderMark } from "../source/textEncoding.js";

export interface FmtOptions extends ExcludeOption {
  check?: boolean;
  write?: boolean;
  json?: boolean;
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
  const fromStandardInput = paths.includes("-");
  if (fromStandardInput && options.write) {
    io.err("policyc fmt: --write rewrites files in place, and `-` is standard input: without --write the formatted text is printed on standard output\n");
    return EXIT.usage;
  }
  // A name of standard input (`/dev/stdin`), or the file it is redirected from, is not rewritten:
  // what was read from a stream is printed (fmt -), never written over the file behind it.
  if (options.write && refuseRewriteOfStream(paths, io.cwd, io, { refusal: "policyc fmt: --write rewrites files in place", notAFile: (what) => `${what}, not a file it can rewrite: \`policyc fmt -\` prints standard input formatted`, readByStandardInput: (file) => `\`${printable(file)}\` is also what standard input reads (\`<\` redirects it), which it never rewrites: give the file as a path only`, otherStreamsToo: false }) !== undefined) return EXIT.usage;
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
  if (options.json) {
    const files = formatted.map((f) => ({ path: f.path, changed: f.changed, ...(options.write ? { written: f.changed && !unwritten.has(f.path) } : {}), ...(options.check || options.write ? {} : { formatted: f.formatted }) }));
    io.out(JSON.stringify({ ok: !hasErrors(problems) && unwritten.size === 0 && (!options.check || changed.length === 0), files, diagnostics: problems.map(diagnosticToJson) }, null, 2) + "\n");
  }
  // On standard error: standard output carries the formatted text, the list of unformatted
  // files (which CI steps read line by line) or the JSON document.
  if (problems.length > 0) reportDiagnostics(onStandardError(io), problems, { json: false, max: parseMaxErrors(options.maxErrors) });
  if (options.write) {
    if (!options.json) {
      // What was rewritten, as --check lists what would be (a script can `git add` them), and
      // the count on standard error.
      const written = changed.filter((file) => !unwritten.has(file.path));
      const listedOnly = listPaths(io, written);
      const notWritten = unwritten.size > 0 ? `, ${unwritten.size.toLocaleString("en-US")} could not be written` : "";
      io.err(`${counted(written.length, "file")} formatted, ${(formatted.length - changed.length).toLocaleString("en-US")} unchanged${notWritten}${listedOnly}\n`);
    }
    if (unwritten.size > 0) return EXIT.usage;
  } else if (options.check) {
    if (!options.json) {
      const listedOnly = listPaths(io, changed);
      // Standard input cannot be rewritten: printing it formatted is the fix there.
      const advice = changed.every((file) => fromInput.formatted.includes(file)) ? "`policyc fmt -` prints it formatted" : "run `policyc fmt --write`";
      if (changed.length > 0) io.err(`${changed.length.toLocaleString("en-US")} file${changed.length === 1 ? " is" : "s are"} not formatted${listedOnly}; ${advice}\n`);
    }
  } else if (!options.json) {
    // Headed by its path whenever several files were given, also when only one of them could be
    // formatted; a byte order mark only means something at the start of a file, so it is left out there.
    const headed = loaded.files.length > 1;
    for (const file of formatted) io.out(headed ? `// ${printable(file.path)}\n${withoutByteOrderMark(file.formatted)}\n` : file.formatted);
  }
  if (loaded.diagnostics.length > 0) return EXIT.usage;
  if (hasErrors(problems)) return EXIT.failure;
  if (options.check && changed.length > 0) return EXIT.failure;
  return EXIT.ok;
}

/**
 * Lists files on standard output, one path per line, its control characters escaped: a newline
 * in a file name must not add a line. At most MAX_LISTED_FILES of them (an estate never
 * formatted has thousands), standard output holding only paths; returns what the caller's line on
 * standard error adds when some were not listed ("" when all were).
 */
function listPaths(io: Io, files: readonly { path: string }[]): string {
  for (const file of files.slice(0, MAX_LISTED_FILES)) io.out(`${printable(file.path)}\n`);
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
      .option("--json", "print a JSON document instead")),
  ).action((paths: string[], options: FmtOptions) => finish(fmtVerb(io, paths, options)));
}
