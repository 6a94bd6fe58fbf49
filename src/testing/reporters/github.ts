import { diagnosticAnnotation, workflowData as data, workflowProperty as property } from "../../diagnostics/workflowCommands.js";
import { NO_SELECTED_LINE, UNASSERTED_ONLY, actualText, BAILED, lookAlikeNote, coverageLines, coverageTotal, differsText, errorTitle, expectedText, isRepositoryFile, leftOutLines, notesLeftOutText, summaryLine, type ReporterInput, type Write } from "./shared.js";
import { recordingName } from "../recordingSource.js";

/** Warning annotations the coverage adds at most (GitHub shows 10 a step). */
const MAX_COVERAGE_WARNINGS = 10;

/** Annotations pointing at the recording line, then the summary. */
export function githubReport({ report, coverage, verdict, ciPath = (file) => file }: ReporterInput, write: Write): void {
  const out: string[] = [];
  // `file=` relative to the repository root when it is known (GitHub reads it from there).
  const file = (path: string): string => `file=${property(ciPath(path))}`;
  // `file=…,line=…,` (and `endLine=…,` for an error about several lines) for a recording in the
  // repository; for standard input the line goes in the title instead.
  const place = (path: string, line: number | null, endLine?: number): { property: string; title: string } =>
    isRepositoryFile(path) ? { property: `${file(path)}${line !== null ? `,line=${line}` : ""}${endLine !== undefined ? `,endLine=${endLine}` : ""},`, title: "" } : { property: "", title: `${recordingName(path)}${line !== null ? ` line ${line}` : ""}: ` };
  for (const e of report.errors) {
    const at = place(e.file, e.line, e.endLine);
    out.push(`::error ${at.property}title=${property(`policyc test: ${at.title}${errorTitle(e)} (${e.code})`)}::${data(e.message)}`);
  }
  for (const f of report.failures) {
    const at = place(f.file, f.line);
    out.push(`::error ${at.property}title=${property(`policyc test: ${at.title}${f.request}${differsText(f)}`)}::${data(`expected ${expectedText(f)}${f.event === undefined && f.logged !== undefined ? ` (logged: ${f.logged.join("; ")})` : ""}, got ${actualText(f)}${lookAlikeNote(f) !== undefined ? ` (${lookAlikeNote(f)})` : ""}${f.explanation ? `\n${f.explanation}` : ""}`)}`);
  }
  for (const n of report.notes) {
    const at = place(n.file, n.line);
    out.push(`::notice ${at.property}title=${property(`policyc test: ${at.title}note`)}::${data(n.message)}`);
  }
  const leftOut = notesLeftOutText(report);
  if (leftOut !== undefined) out.push(`::notice title=${property("policyc test: note")}::${data(leftOut)}`);
  // Failures and errors past the limits: counted at their recording, so the log says the annotations are not all.
  for (const [path, counts] of report.leftOut) {
    const at = place(path, null);
    for (const line of leftOutLines(counts)) out.push(`::notice ${at.property}title=${property(`policyc test: ${at.title}not annotated`)}::${data(line)}`);
  }
  // A policy set that did not load: each diagnostic at its place in the policy, as `policyc check` reports it.
  for (const d of verdict?.diagnostics ?? []) out.push(diagnosticAnnotation(d, { file: ciPath, isRepositoryFile }));
  for (const runCheck of verdict?.runChecks ?? []) out.push(`::error title=${property(`policyc test: ${runCheck.name}${runCheck.code !== undefined ? ` (${runCheck.code})` : ""}`)}::${data(runCheck.message)}`);
  if (report.bailed) out.push(`::warning title=${property("policyc test: --bail")}::${data(BAILED)}`);
  if (coverage) {
    // The table in the log; a rule that decided no line annotated where it is written.
    // Each row starts with `|`: the runner takes a line that starts with `::` (after spaces) for a
    // workflow command, and rule ids are any text a policy names them (`##[`, a command anywhere
    // in a line, is escaped by printable).
    out.push("coverage", ...coverageLines(coverage).map((line) => `  | ${line}`));
    // GitHub shows 10 warning annotations a step and drops the rest without a word: past that,
    // 9 rules are annotated and one more warning counts the others.
    const uncovered = coverage.rules.filter((rule) => rule.lines === 0);
    // A rule that decided only lines without expectations is warned about as such: what it does is asserted by no test.
    const annotated = uncovered.length > MAX_COVERAGE_WARNINGS ? uncovered.slice(0, MAX_COVERAGE_WARNINGS - 1) : uncovered;
    for (const rule of annotated) {
      // (`s`: a source's name may hold a line break.)
      const place = /^(.*):(\d+):\d+$/s.exec(rule.location);
      out.push(`::warning ${place ? `${file(place[1]!)},line=${place[2]},` : ""}title=${property("policyc test: coverage")}::${data(rule.unassertedLines > 0 ? `rule ${rule.id} ${UNASSERTED_ONLY}: no test case asserts it` : `rule ${rule.id} ${coverage.selection ? NO_SELECTED_LINE : "decided no recorded line"}`)}`);
    }
    const more = uncovered.length - annotated.length;
    if (more > 0) out.push(`::warning title=${property("policyc test: coverage")}::${data(`${more.toLocaleString("en-US")} more rules no test case covers, not annotated (GitHub shows 10 warnings a step): the coverage table in the log marks each`)}`);
    out.push(`::notice title=${property("policyc test: coverage")}::${data(coverageTotal(coverage))}`);
  }
  out.push(summaryLine(report));
  write(out.join("\n") + "\n");
}
