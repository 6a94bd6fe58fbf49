import { counted } from "../diagnostics/render.js";
import type { Command } from "commander";
import { analyze } from "../check/analyze.js";
import { isSuppressible } from "../check/suppressions.js";
import { hasErrors, sortDiagnostics } from "../diagnostics/Diagnostic.js";
import { loadSources } from "../source/loadSources.js";
import { EXIT, type ExitCode } from "./exitCodes.js";
import type { Io } from "./io.js";
import { reportDiagnostics } from "./report.js";
import { addExclude, addMaxErrors, parseMaxErrors, reportExcluded, withExcludedDeclarationsHelp, type ExcludeOption } from "./options.js";

const UNREAD_DECLARATIONS_HELP = "some of the files given could not be read (see their errors): the declarations may be in them, so fix those first";

export interface CheckOptions extends ExcludeOption {
  json?: boolean;
  maxErrors?: string;
  failOnWarnings?: boolean;
}

/**
 * `policyc check PATH…`: parse and type-check; exit 0 clean (warnings allowed, unless
 * `--fail-on-warnings`), 1 errors, 2 unreadable input.
 */
export function checkVerb(io: Io, paths: string[], options: CheckOptions): ExitCode {
  const loaded = loadSources(paths, io.cwd, { folderCommand: (folder) => `policyc check ${folder}`, exclude: options.exclude });
  const excludeRefused = reportExcluded("check", loaded, io);
  if (excludeRefused !== undefined) return excludeRefused;
  const analysis = loaded.diagnostics.length === 0 || loaded.files.length > 0 ? analyze(loaded.files) : undefined;
  // A file that could not be read may be the one with the declarations: PC216's usual advice
  // (pass it too) would send the user the wrong way when they did.
  const analyzed = withExcludedDeclarationsHelp(analysis?.diagnostics ?? [], loaded.excluded).map((d) => (d.code === "PC216" && loaded.diagnostics.length > 0 ? { ...d, help: UNREAD_DECLARATIONS_HELP } : d));
  const diagnostics = sortDiagnostics([...loaded.diagnostics, ...loaded.warnings, ...analyzed]);
  const rules = analysis?.program?.rules.length ?? 0;
  const suppressed = analysis?.suppressed.length ?? 0;
  reportDiagnostics(io, diagnostics, { json: options.json ?? false, max: parseMaxErrors(options.maxErrors), extra: { files: loaded.files.map((f) => f.path), rules, suppressed }, warningsFail: options.failOnWarnings ?? false });
  if (loaded.diagnostics.length > 0) return EXIT.usage;
  if (hasErrors(diagnostics)) return EXIT.failure;
  const warnings = diagnostics.length;
  if (!options.json) {
    const hidden = suppressed ? ` (${suppressed} suppressed)` : "";
    const warned = warnings ? `, ${counted(warnings, "warning")}${hidden}` : suppressed ? `, no warnings${hidden}` : "";
    // `@suppress` hides only warnings reported inside a rule; a passed-over file (PC007) is fixed by renaming or removing it.
    const suppressible = diagnostics.some((d) => isSuppressible(d.code));
    const advice = suppressible ? `fix ${warnings === 1 ? "it" : "them"}, or hide one that is known and meant with \`@suppress("PC…")\` on its rule` : `fix ${warnings === 1 ? "it" : "them"}: ${warnings === 1 ? "it is" : "they are"} not on a rule, so \`@suppress\` cannot hide ${warnings === 1 ? "it" : "them"}`;
    if (options.failOnWarnings && warnings > 0) io.out(`${io.palette.error("failed")}: ${counted(warnings, "warning")} with --fail-on-warnings (${advice})\n`);
    else io.out(`${io.palette.ok("ok")}: ${counted(loaded.files.length, "file")}, ${counted(rules, "rule")}${warned}\n`);
  }
  return options.failOnWarnings && warnings > 0 ? EXIT.failure : EXIT.ok;
}

export function registerCheck(program: Command, io: Io, finish: (code: ExitCode | Promise<ExitCode>) => void): void {
  addMaxErrors(
    addExclude(
      program
      .command("check")
      .description("parse and type-check policies; print diagnostics with file:line:col, a code frame and a code")
      .argument("<paths...>", "policy files or folders (searched for *.policy)")
      .option("--json", "print one JSON document with every diagnostic")
      .option("--fail-on-warnings", "exit 1 when there are warnings (a rule's @suppress(\"PC…\") hides one that is known and meant)"),
    ),
  ).action((paths: string[], options: CheckOptions) => finish(checkVerb(io, paths, options)));
}
