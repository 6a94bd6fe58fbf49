import { counted, diagnosticText, type DiagnosticJson } from "./render.js";
import { printable } from "./printable.js";
import { diagnosticAnnotation, workflowData, workflowProperty } from "./workflowCommands.js";
import { xmlAttribute, xmlText } from "./xmlText.js";

/** What `check`'s and `fmt`'s CI reports are made of: their diagnostics, and how CI names a file. */
export interface DiagnosticsReportInput {
  /** The verb, as test suites and titles name it: `policyc check`. */
  readonly verb: string;
  /** The files read, as messages name them: each is a test case of the JUnit report. */
  readonly files: readonly string[];
  /** Every diagnostic, as `--json` lists them, sorted by file and position. */
  readonly diagnostics: readonly DiagnosticJson[];
  /** Whether a warning fails the run (`--fail-on-warnings`): then it is a failure too. */
  readonly warningsFail: boolean;
  /** How CI names a file (`ciPaths`: relative to the repository root when it is known). */
  readonly ciPath: (file: string) => string;
  /** Whether a file is one CI can point at (not standard input). */
  readonly isRepositoryFile: (file: string) => boolean;
}

/**
 * The GitHub Actions report: `annotations` the verb makes of its own (`fmt --check`'s files), then
 * a workflow command per diagnostic, so the pull request shows each at its line, then `summary`
 * (what the pretty report ends with) for the log. Every diagnostic is annotated: GitHub shows the
 * first 10 errors and 10 warnings of a step, the log all of them.
 */
export function githubDiagnosticsReport(input: DiagnosticsReportInput, report: { annotations?: readonly string[]; summary: string }, write: (text: string) => void): void {
  const lines = input.diagnostics.map((d) => diagnosticAnnotation(d, { file: input.ciPath, isRepositoryFile: input.isRepositoryFile }));
  write([...(report.annotations ?? []), ...lines, printable(report.summary)].join("\n") + "\n");
}

/**
 * `fmt --check`'s annotation of a file that is not in canonical form, at the first line that
 * changes: `::error file=F,line=L,title=policyc fmt::…`. Standard input, no file in the
 * repository, is named in the message instead.
 */
export function unformattedAnnotation(input: DiagnosticsReportInput, file: { path: string; line: number; fromStandardInput: boolean }): string {
  if (file.fromStandardInput) return `::error title=${workflowProperty(`${input.verb}`)}::${workflowData(`standard input is not formatted: it first differs from the canonical layout at line ${file.line}; \`policyc fmt -\` prints it formatted`)}`;
  return `::error file=${workflowProperty(input.ciPath(file.path))},line=${file.line},title=${workflowProperty(input.verb)}::${workflowData(`\`${file.path}\` is not formatted: it first differs from the canonical layout at line ${file.line}; run \`policyc fmt --write\``)}`;
}

/**
 * The JUnit report: one test case per file read (and per path that could not be, and one for
 * diagnostics of no file), failing with its errors (and warnings, when they fail the run), in one
 * `<failure>` whose text lists each (`file:line:col: error[PC202]: …`), as CI test views show one
 * failure a case; the other warnings are the case's output.
 */
export function junitDiagnosticsReport(input: DiagnosticsReportInput, write: (text: string) => void): void {
  const fails = (d: DiagnosticJson): boolean => d.severity === "error" || input.warningsFail;
  // In file order, the files read first; a path that could not be read (PC001) has no file but is one case.
  const byFile = new Map<string | null, DiagnosticJson[]>(input.files.map((file) => [file, []]));
  for (const d of input.diagnostics) {
    const list = byFile.get(d.file);
    if (list === undefined) byFile.set(d.file, [d]);
    else list.push(d);
  }
  const cases: string[] = [];
  let failures = 0;
  for (const [file, diagnostics] of byFile) {
    const failing = diagnostics.filter(fails);
    const other = diagnostics.filter((d) => !fails(d));
    const name = xmlAttribute(printable(file ?? input.verb));
    const at = file !== null && input.isRepositoryFile(file) ? ` file="${xmlAttribute(input.ciPath(file))}"${failing[0]?.line != null ? ` line="${failing[0].line}"` : ""}` : "";
    const open = `    <testcase classname="${xmlAttribute(input.verb)}" name="${name}"${at}`;
    if (diagnostics.length === 0) {
      cases.push(`${open}/>\n`);
      continue;
    }
    let body = "";
    if (failing.length > 0) {
      failures++;
      const [first] = failing;
      const noun = failing.every((d) => d.severity === "error") ? "error" : failing.every((d) => d.severity !== "error") ? "warning" : "diagnostic";
      const message = failing.length === 1 ? first!.message : `${counted(failing.length, noun)} (first: ${first!.message})`;
      body += `      <failure message="${xmlAttribute(printable(message))}" type="${first!.code}">${xmlText(failing.map(diagnosticText).join("\n"))}</failure>\n`;
    }
    if (other.length > 0) body += `      <system-out>${xmlText(other.map(diagnosticText).join("\n"))}</system-out>\n`;
    cases.push(`${open}>\n${body}    </testcase>\n`);
  }
  const counts = `tests="${byFile.size}" failures="${failures}" errors="0"`;
  write(`<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${xmlAttribute(input.verb)}" ${counts}>\n  <testsuite name="${xmlAttribute(input.verb)}" ${counts}>\n${cases.join("")}  </testsuite>\n</testsuites>\n`);
}
