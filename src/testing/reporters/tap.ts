import { actualText, BAILED, expectedText, shortRequest, summaryLine, type ReporterInput } from "./shared.js";
import { printable } from "../../diagnostics/printable.js";

function yamlString(text: string): string {
  return JSON.stringify(text);
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

/** TAP version 13: one test point per case, a YAML block for each failure. */
export function tapReport({ report, verdict }: ReporterInput): string {
  const runCheck = verdict?.runCheck;
  const out = ["TAP version 13", `1..${report.cases.length + report.errors.length + (runCheck ? 1 : 0)}`];
  let n = 0;
  for (const c of report.cases) {
    n++;
    const title = tapDescription(`${c.file}:${c.line} ${shortRequest(c)}`);
    if (c.ok) out.push(`ok ${n} - ${title}`);
    else {
      out.push(`not ok ${n} - ${title}`, "  ---", `  expected: ${yamlString(expectedText(c))}`, `  actual: ${yamlString(actualText(c))}`, `  reasons: ${yamlString(c.actual.reasons.join("; "))}`);
      if (c.explanation) out.push(`  because: ${yamlString(c.explanation)}`);
      out.push("  ...");
    }
  }
  for (const e of report.errors) {
    n++;
    out.push(`not ok ${n} - ${tapDescription(`${e.file}:${e.line ?? 0} invalid line`)}`, "  ---", `  message: ${yamlString(e.message)}`, "  ...");
  }
  if (runCheck) out.push(`not ok ${++n} - ${tapDescription(runCheck.name)}`, "  ---", `  message: ${yamlString(runCheck.message)}`, "  ...");
  out.push(`# ${summaryLine(report)}`);
  if (report.bailed) out.push(`Bail out! ${tapDescription(BAILED)}`);
  return out.join("\n") + "\n";
}
