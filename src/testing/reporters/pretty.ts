import { counted, type Palette } from "../../diagnostics/render.js";
import { errorCount, leftOutTotal, type CaseResult } from "../replay.js";
import { actualText, BAILED, coverageLines, differsText, lookAlikeNote, expectedText, failuresLeftOutText, noteLines, shownErrors, summaryLine, type ReporterInput, type Write } from "./shared.js";
import { recordingName } from "../recordingSource.js";
import { printable } from "../../diagnostics/printable.js";
import { SHOWN_ITEMS } from "../shortRequest.js";

/**
 * The default report: failures grouped by file and session, each with the line, the request in
 * short, expected (as the line has it) vs actual (rules and reasons) and the clauses that decided.
 */
export function prettyReport({ report, coverage, maxErrors }: ReporterInput, palette: Palette, write: Write): void {
  const out: string[] = [];
  // Text from recordings (file names, expected rules and reasons, lines quoted in errors) goes
  // through printable(): it must not recolour the terminal or start a `::warning::` line in CI.
  const errorsFound = errorCount(report);
  const { lines: errorLines, shown } = shownErrors(report.errors, leftOutTotal(report).errors, maxErrors, palette);
  // One by one: with a large --max-errors over many recordings, more than a call takes arguments.
  for (const line of errorLines) out.push(line);
  if (errorsFound > 0) out.push("");
  for (const note of noteLines(report)) out.push(`${palette.warning("note")}: ${printable(note)}`);
  if (report.notes.length > 0) out.push("");
  const byFile = new Map<string, Map<string, CaseResult[]>>();
  for (const failure of report.failures) {
    const sessions = byFile.get(failure.file) ?? new Map<string, CaseResult[]>();
    byFile.set(failure.file, sessions);
    sessions.set(failure.session, [...(sessions.get(failure.session) ?? []), failure]);
  }
  for (const [file, sessions] of byFile) {
    out.push(palette.bold(printable(recordingName(file))));
    for (const [session, failures] of sessions) {
      out.push(`  session ${printable(session)}`);
      for (const f of failures) {
        out.push(`    ${palette.error("✗")} line ${f.line}: ${f.request}${differsText(f)}`);
        out.push(`        expected ${printable(expectedText(f))}`);
        // (No reasons of the expected rules: the policy's now may not be what production said, as
        // when a rule kept its id and changed effect; a line's own reason is in `expected` above.)
        // Refused before any rule ran in production: why, as its log says.
        if (f.event === undefined) for (const reason of f.logged ?? []) out.push(`          logged: ${printable(reason)}`);
        out.push(`        actual   ${printable(actualText(f))}`);
        const lookAlike = lookAlikeNote(f);
        if (lookAlike !== undefined) out.push(`        (${lookAlike})`);
        if (f.event === undefined) {
          f.actual.rules.forEach((id, i) => out.push(`          ${printable(id)}: ${printable(f.actual.reasons[i] ?? "")}`));
          if (f.actual.rules.length === 0) out.push(`          ${printable(f.actual.reasons[0] ?? "")}`);
        }
        for (const line of (f.explanation ?? "").split("\n").filter(Boolean)) out.push(`        ${palette.dim("because")} ${printable(line)}`);
      }
    }
    const failuresLeftOut = failuresLeftOutText(report.leftOut.get(file)?.failures ?? 0);
    if (failuresLeftOut !== undefined) out.push(`  ${failuresLeftOut}`);
    out.push("");
  }
  if (coverage) {
    out.push(palette.bold("coverage"));
    for (const line of coverageLines(coverage, palette.warning)) out.push(`  ${line}`);
    out.push("");
  }
  if (report.bailed) out.push(BAILED);
  // Errors are listed first; on a long report say at the end that there were some (they set the exit code).
  const errors = errorsFound > 0 ? `; ${counted(errorsFound, "error")} (${errorsFound > shown ? `${shown.toLocaleString("en-US")} ` : ""}listed above)` : "";
  const files = report.files.length;
  const from = report.filesReplayed < files ? `${report.filesReplayed.toLocaleString("en-US")} of ${files.toLocaleString("en-US")} files` : counted(files, "file");
  out.push(`${report.lines.toLocaleString("en-US")} line${report.lines === 1 ? "" : "s"} replayed from ${from}${errors}`);
  out.push(summaryLine(report));
  write(out.join("\n") + "\n");
}
