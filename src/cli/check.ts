import { counted } from "../diagnostics/render.js";
import type { Command } from "commander";
import { analyze } from "../check/analyze.js";
import { isSuppressible } from "../check/suppressions.js";
import { hasErrors, sortDiagnostics, type Diagnostic } from "../diagnostics/Diagnostic.js";
import { githubDiagnosticsReport, junitDiagnosticsReport, tapDiagnosticsReport, type DiagnosticsReportInput } from "../diagnostics/ciReports.js";
import { sarifDiagnosticsReport } from "../diagnostics/sarif.js";
import { loadSources } from "../source/loadSources.js";
import { VERSION } from "../version.js";
import { ciPaths, isRepositoryFile, repositoryRoot } from "../testing/reporters/shared.js";
import { EXIT, type ExitCode } from "./exitCodes.js";
import type { Io } from "./io.js";
import { diagnosticsJson, reportDiagnostics } from "./report.js";
import { reportOverwritingInput, reportTargets, writeReports } from "./reportTargets.js";
import { addExclude, addMaxErrors, excludedJson, gatherValues, parseMaxErrors, reportExcluded, withExcludedDeclarationsHelp, type ExcludeOption } from "./options.js";

const UNREAD_DECLARATIONS_HELP = "some of the files given could not be read (see their errors): the declarations may be in them, so fix those first";

/** The reports `check --reporter` writes. */
export const CHECK_REPORTERS = ["pretty", "json", "junit", "tap", "github", "sarif"] as const;

export interface CheckOptions extends ExcludeOption {
  json?: boolean;
  reporter?: string[];
  maxErrors?: string;
  failOnWarnings?: boolean;
}

/**
 * `policyc check PATH…`: parse and type-check; exit 0 clean (warnings allowed, unless
 * `--fail-on-warnings`), 1 errors, 2 unreadable input (or a report that could not be written).
 */
export async function checkVerb(io: Io, paths: string[], options: CheckOptions): Promise<ExitCode> {
  const asked = reportTargets(options.reporter ?? [], options.json ?? false, io.cwd, CHECK_REPORTERS);
  if ("error" in asked) {
    io.err(`policyc check: ${asked.error}\n`);
    return EXIT.usage;
  }
  const overwritten = reportOverwritingInput(asked.targets, paths, io.cwd, { readsStandardInput: false });
  if (overwritten !== undefined) {
    io.err(`policyc check: ${overwritten}\n`);
    return EXIT.usage;
  }
  const loaded = loadSources(paths, io.cwd, { folderCommand: (folder) => `policyc check ${folder}`, exclude: options.exclude });
  const excludeRefused = reportExcluded("check", loaded, io);
  if (excludeRefused !== undefined) return excludeRefused;
  const analysis = loaded.diagnostics.length === 0 || loaded.files.length > 0 ? analyze(loaded.files) : undefined;
  // A file that could not be read may be the one with the declarations: PC216's usual advice
  // (pass it too) would send the user the wrong way when they did.
  const analyzed = withExcludedDeclarationsHelp(analysis?.diagnostics ?? [], loaded.excluded).map((d) => (d.code === "PC216" && loaded.diagnostics.length > 0 ? { ...d, help: UNREAD_DECLARATIONS_HELP } : d));
  const diagnostics = sortDiagnostics([...loaded.diagnostics, ...loaded.warnings, ...analyzed]);
  const files = loaded.files.map((f) => f.path);
  const rules = analysis?.program?.rules.length ?? 0;
  const suppressed = analysis?.suppressed.length ?? 0;
  const warningsFail = options.failOnWarnings ?? false;
  const warnings = diagnostics.filter((d) => d.severity !== "error").length;
  const code = loaded.diagnostics.length > 0 ? EXIT.usage : hasErrors(diagnostics) ? EXIT.failure : warningsFail && warnings > 0 ? EXIT.failure : EXIT.ok;
  // Worked out once, for whichever reports are asked for.
  let ci: DiagnosticsReportInput | undefined;
  const ciInput = (): DiagnosticsReportInput => (ci ??= { verb: "policyc check", files, diagnostics: diagnosticsJson(io, diagnostics), warningsFail, ciPath: ciPaths(io.cwd, io.env["GITHUB_WORKSPACE"]), isRepositoryFile });
  const written = await writeReports("check", asked.targets, io, (reporter, out, palette) => {
    const reportIo: Io = { ...io, out, palette };
    if (reporter === "pretty") prettyCheckReport(reportIo, diagnostics, { files, rules, suppressed, warningsFail, max: parseMaxErrors(options.maxErrors) });
    else if (reporter === "json") reportDiagnostics(reportIo, diagnostics, { json: true, extra: { files, rules, suppressed, excluded: excludedJson(loaded.excluded) }, warningsFail });
    else if (reporter === "github") githubDiagnosticsReport(ciInput(), { summary: closingText(diagnostics, { files, rules, suppressed, warningsFail }) }, out);
    else if (reporter === "tap") tapDiagnosticsReport(ciInput(), closingText(diagnostics, { files, rules, suppressed, warningsFail }), out);
    else if (reporter === "sarif") sarifDiagnosticsReport({ ...ciInput(), version: VERSION, suppressed: diagnosticsJson(io, analysis?.suppressed ?? []), executionSuccessful: loaded.diagnostics.length === 0, cwd: io.cwd, root: repositoryRoot(io.cwd, io.env["GITHUB_WORKSPACE"]) }, out);
    else junitDiagnosticsReport(ciInput(), out);
  });
  // A report CI was to read that is missing fails the run, as in `policyc test`.
  return written ? code : EXIT.usage;
}

interface CheckSummary {
  readonly files: readonly string[];
  readonly rules: number;
  readonly suppressed: number;
  readonly warningsFail: boolean;
}

/** The human report: the diagnostics (at most `max`), then, unless they end with the count of errors, the closing line. */
function prettyCheckReport(io: Io, diagnostics: readonly Diagnostic[], summary: CheckSummary & { max: number }): void {
  reportDiagnostics(io, diagnostics, { json: false, max: summary.max });
  const closing = closingLine(diagnostics, summary);
  if (closing.status !== undefined) io.out(`${closing.status === "ok" ? io.palette.ok("ok") : io.palette.error("failed")}: ${closing.text}\n`);
}

/** The closing line as plain text: `ok: 1 file, 8 rules`. */
function closingText(diagnostics: readonly Diagnostic[], summary: CheckSummary): string {
  const closing = closingLine(diagnostics, summary);
  return closing.status === undefined ? closing.text : `${closing.status}: ${closing.text}`;
}

/**
 * The line a report ends with: `ok: 2 files, 9 rules, 1 warning (2 suppressed)`, `failed: 1
 * warning with --fail-on-warnings (…)`, or when there are errors the count (`1 error, 0 warnings`,
 * which the pretty report's diagnostics end with already).
 */
function closingLine(diagnostics: readonly Diagnostic[], summary: CheckSummary): { status?: "ok" | "failed"; text: string } {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  const warnings = diagnostics.length - errors;
  if (errors > 0) return { text: `${counted(errors, "error")}, ${counted(warnings, "warning")}` };
  const hidden = summary.suppressed ? ` (${summary.suppressed} suppressed)` : "";
  const warned = warnings ? `, ${counted(warnings, "warning")}${hidden}` : summary.suppressed ? `, no warnings${hidden}` : "";
  // `@suppress` hides only warnings reported inside a rule; a passed-over file (PC007) is fixed by renaming or removing it.
  const suppressible = diagnostics.some((d) => isSuppressible(d.code));
  const advice = suppressible ? `fix ${warnings === 1 ? "it" : "them"}, or hide one that is known and meant with \`@suppress("PC…")\` on its rule` : `fix ${warnings === 1 ? "it" : "them"}: ${warnings === 1 ? "it is" : "they are"} not on a rule, so \`@suppress\` cannot hide ${warnings === 1 ? "it" : "them"}`;
  if (summary.warningsFail && warnings > 0) return { status: "failed", text: `${counted(warnings, "warning")} with --fail-on-warnings (${advice})` };
  return { status: "ok", text: `${counted(summary.files.length, "file")}, ${counted(summary.rules, "rule")}${warned}` };
}

export function registerCheck(program: Command, io: Io, finish: (code: ExitCode | Promise<ExitCode>) => void): void {
  addMaxErrors(
    addExclude(
      program
      .command("check")
      .description("parse and type-check policies; print diagnostics with file:line:col, a code frame and a code")
      .argument("<paths...>", "policy files or folders (searched for *.policy)")
      .option("--reporter <name[=file]>", `report format: ${CHECK_REPORTERS.join(", ")} (default: pretty); github prints a workflow command per diagnostic (an annotation on the pull request), junit a test case per policy file, tap a test point per policy file, sarif one SARIF 2.1.0 log (a code-scanning alert per diagnostic, for GitHub's upload-sarif); NAME=FILE writes that report to FILE instead of standard output, and the option may be repeated (--reporter junit=check.xml keeps the pretty report on standard output)`, gatherValues)
      .option("--json", "same as --reporter json: one JSON document with every diagnostic, the files read and those --exclude left out")
      .option("--fail-on-warnings", "exit 1 when there are warnings (a rule's @suppress(\"PC…\") hides one that is known and meant)"),
    ),
  ).action((paths: string[], options: CheckOptions) => finish(checkVerb(io, paths, options)));
}
