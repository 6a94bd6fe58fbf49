import { chunkedWriter, summaryLine, type ReporterInput, type Write } from "./shared.js";
import { recordingName } from "../recordingSource.js";
import { printableLines } from "../../diagnostics/printable.js";
import { leftOutTotal, type CaseResult, type ListedCase } from "../replay.js";

/**
 * A failed case; an approval or revocation line's says so (`"event": "approval"`, `"event": "revocation"`, as the line does). Its
 * values (rule ids, reasons, decisions) are exact; its `explanation`, text for people, shows a
 * hidden or bidirectional character as the pretty report does (an escape).
 */
function failureJson(c: CaseResult): Record<string, unknown> {
  return { file: recordingName(c.file), line: c.line, session: c.session, tool: c.tool, ...(c.event ? { event: c.event } : {}), ok: c.ok, mismatches: c.mismatches, expected: c.expect, ...(c.event === undefined && c.logged !== undefined ? { logged: c.logged } : {}), actual: c.actual, ...(c.explanation ? { explanation: printableLines(c.explanation) } : {}) };
}

/** A listed case: a passed one in short (as it is kept), a failed one in full. */
function caseJson(c: ListedCase): Record<string, unknown> {
  return c.ok && !("mismatches" in c) ? { file: recordingName(c.file), line: c.line, session: c.session, tool: c.tool, ...(c.event ? { event: c.event } : {}), ok: true, request: c.request } : failureJson(c as CaseResult);
}

/** `value` as JSON.stringify(…, null, 2) writes it, for a place `depth` levels deep. */
function indented(value: unknown, depth: number): string {
  return JSON.stringify(value, null, 2).replace(/\n/g, "\n" + "  ".repeat(depth));
}

/**
 * One JSON document (as JSON.stringify with an indent of 2 would write it): verdict, counts,
 * errors, failures, every case when listed, coverage. Written a case at a time, so a report of
 * a large recording is never one string.
 */
export function jsonReport({ report, coverage, verdict, policy, excluded }: ReporterInput, out: Write): void {
  const { write, flush } = chunkedWriter(out);
  let first = true;
  const field = (name: string, value: unknown): void => {
    write(`${first ? "{\n" : ",\n"}  ${JSON.stringify(name)}: ${indented(value, 1)}`);
    first = false;
  };
  const list = <T>(name: string, items: readonly T[], toJson: (item: T) => unknown): void => {
    write(`,\n  ${JSON.stringify(name)}: [`);
    items.forEach((item, i) => write(`${i === 0 ? "\n" : ",\n"}    ${indented(toJson(item), 2)}`));
    write(items.length === 0 ? "]" : "\n  ]");
  };
  field("ok", verdict?.ok ?? (report.failed === 0 && report.errors.length === 0));
  if (verdict?.reason !== undefined) field("reason", verdict.reason);
  if (verdict?.inputCode !== undefined) field("code", verdict.inputCode);
  // The policy set judged, when it loaded: what a report kept as evidence is evidence of.
  if (policy !== undefined) field("policy", policy);
  if (excluded !== undefined) field("excluded", excluded);
  field("bailed", report.bailed);
  field("summary", summaryLine(report));
  field("passed", report.passed);
  field("failed", report.failed);
  field("lines", report.lines);
  field("files", report.files.map(recordingName));
  const leftOut = leftOutTotal(report);
  list("errors", report.errors, (e) => ({ ...e, file: recordingName(e.file) }));
  field("errorsLeftOut", leftOut.errors);
  list("notes", report.notes, (n) => ({ ...n, file: recordingName(n.file) }));
  field("notesLeftOut", report.notesLeftOut);
  list("failures", report.failures, failureJson);
  field("failuresLeftOut", leftOut.failures);
  list("cases", report.cases, caseJson);
  if (coverage) field("coverage", coverage);
  // Only when the policy set did not load, as `check --json` lists them.
  if (verdict?.diagnostics !== undefined) field("diagnostics", verdict.diagnostics);
  write("\n}\n");
  flush();
}
