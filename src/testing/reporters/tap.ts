import { actualText, BAILED, lookAlikeNote, chunkedWriter, coverageLines, diagnosticErrors, diagnosticTitle, codedMessage, errorPlace, errorTitle, expectedText, leftOutLines, noteLines, policyIdentityText, summaryLine, type ReporterInput, type Write } from "./shared.js";
import { recordingName } from "../recordingSource.js";
import { printable, printableLines, withoutLogCommand } from "../../diagnostics/printable.js";

/**
 * A YAML double-quoted string. JSON's escapes are YAML's, but JSON leaves NEL, the C1 controls
 * and U+2028/U+2029 raw, which YAML 1.1 parsers read as line breaks: those are escaped too. So is
 * the second `#` of `##[` (a GitHub Actions command anywhere in a log line), which reads back as `#`.
 */
export function yamlString(text: string): string {
  return withoutLogCommand(JSON.stringify(text).replace(/[\u0080-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`));
}

/**
 * A test point's description. Its text comes from recordings (file names, arguments, error
 * messages): control characters are shown as escapes, so a newline cannot start a forged test
 * point, and `\` and `#` are escaped as TAP 13 says, so `x # SKIP` in an argument is not read
 * as a directive that turns a failure into a skip.
 */
export function tapDescription(text: string): string {
  return printable(text).replace(/\\/g, "\\\\").replace(/#/g, "\\#");
}

/** TAP version 13: one test point per case, a YAML block for each failure; written a point at a time. */
export function tapReport({ report, coverage, verdict, policy }: ReporterInput, out: Write): void {
  const { write, flush } = chunkedWriter(out);
  const runChecks = verdict?.runChecks ?? [];
  const policyErrors = diagnosticErrors(verdict);
  write(`TAP version 13\n1..${report.cases.length + report.errors.length + policyErrors.length + runChecks.length}\n`);
  // The policy set judged, as a comment (no test point), when it loaded.
  if (policy !== undefined) write(`# policy: ${tapDescription(policyIdentityText(policy))}\n`);
  let n = 0;
  for (const c of report.cases) {
    n++;
    const title = tapDescription(`${recordingName(c.file)}:${c.line} ${c.request}`);
    if (c.ok) write(`ok ${n} - ${title}\n`);
    else {
      // Text for people, shown as the pretty report shows it (a hidden or bidirectional character as an escape).
      write(`not ok ${n} - ${title}\n  ---\n  expected: ${yamlString(printable(expectedText(c)))}\n${c.event === undefined && c.logged !== undefined ? `  logged: ${yamlString(printable(c.logged.join("; ")))}\n` : ""}  actual: ${yamlString(printable(actualText(c)))}\n${c.event !== undefined ? "" : `  reasons: ${yamlString(printable(c.actual.reasons.join("; ")))}\n`}`);
      const lookAlike = lookAlikeNote(c);
      if (lookAlike !== undefined) write(`  note: ${yamlString(lookAlike)}\n`);
      if (c.explanation) write(`  because: ${yamlString(printableLines(c.explanation))}\n`);
      write("  ...\n");
    }
  }
  for (const e of report.errors) write(`not ok ${++n} - ${tapDescription(`${errorPlace(e)} ${errorTitle(e)}`)}\n  ---\n  message: ${yamlString(codedMessage(e))}\n  ...\n`);
  for (const d of policyErrors) write(`not ok ${++n} - ${tapDescription(diagnosticTitle(d))}\n  ---\n  code: ${d.code}\n  message: ${yamlString(d.message)}\n${d.help !== undefined ? `  help: ${yamlString(d.help)}\n` : ""}  ...\n`);
  for (const runCheck of runChecks) write(`not ok ${++n} - ${tapDescription(runCheck.name)}\n  ---\n  message: ${yamlString(runCheck.message)}\n  ...\n`);
  // Notes and coverage as comments, which TAP consumers show and never count as test points.
  for (const note of noteLines(report)) write(`# note: ${tapDescription(note)}\n`);
  // Failures and errors past the limits have no test point: the plan counts those listed, and this says how many more there were.
  for (const [file, counts] of report.leftOut) for (const line of leftOutLines(counts)) write(`# not listed: ${tapDescription(`${recordingName(file)}: ${line}`)}\n`);
  if (coverage) write(["coverage", ...coverageLines(coverage).map((line) => `  ${line}`)].map((line) => `# ${line}\n`).join(""));
  write(`# ${summaryLine(report)}\n`);
  if (report.bailed) write(`Bail out! ${tapDescription(BAILED)}\n`);
  flush();
}
