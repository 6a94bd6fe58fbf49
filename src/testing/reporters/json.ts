import { summaryLine, type ReporterInput } from "./shared.js";
import type { CaseResult } from "../replay.js";

function caseJson(c: CaseResult): Record<string, unknown> {
  return { file: c.file, line: c.line, session: c.session, tool: c.tool, ok: c.ok, mismatches: c.mismatches, expected: c.expect, actual: c.actual, ...(c.explanation ? { explanation: c.explanation } : {}) };
}

/** One JSON document: counts, errors, failures (and every case when kept), coverage. */
export function jsonReport({ report, coverage, verdict }: ReporterInput): string {
  return (
    JSON.stringify(
      {
        ok: verdict?.ok ?? (report.failed === 0 && report.errors.length === 0),
        ...(verdict?.reason !== undefined ? { reason: verdict.reason } : {}),
        bailed: report.bailed,
        summary: summaryLine(report),
        passed: report.passed,
        failed: report.failed,
        lines: report.lines,
        files: report.files,
        errors: report.errors,
        failures: report.failures.map(caseJson),
        cases: report.cases.map(caseJson),
        ...(coverage ? { coverage } : {}),
      },
      null,
      2,
    ) + "\n"
  );
}
