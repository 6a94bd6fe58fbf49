import { actualText, expectedText, shortRequest, summaryLine, type ReporterInput } from "./shared.js";

function yamlString(text: string): string {
  return JSON.stringify(text);
}

/** TAP version 13: one test point per case, a YAML block for each failure. */
export function tapReport({ report }: ReporterInput): string {
  const out = ["TAP version 13", `1..${report.cases.length + report.errors.length}`];
  let n = 0;
  for (const c of report.cases) {
    n++;
    const title = `${c.file}:${c.line} ${shortRequest(c)}`;
    if (c.ok) out.push(`ok ${n} - ${title}`);
    else {
      out.push(`not ok ${n} - ${title}`, "  ---", `  expected: ${yamlString(expectedText(c))}`, `  actual: ${yamlString(actualText(c))}`, `  reasons: ${yamlString(c.actual.reasons.join("; "))}`);
      if (c.explanation) out.push(`  because: ${yamlString(c.explanation)}`);
      out.push("  ...");
    }
  }
  for (const e of report.errors) {
    n++;
    out.push(`not ok ${n} - ${e.file}:${e.line ?? 0} invalid line`, "  ---", `  message: ${yamlString(e.message)}`, "  ...");
  }
  out.push(`# ${summaryLine(report)}`);
  return out.join("\n") + "\n";
}
