import { printable } from "../../diagnostics/printable.js";
import { actualText, BAILED, errorTitle, expectedText, shortRequest, summaryLine, type ReporterInput, type Write } from "./shared.js";

/**
 * GitHub Actions workflow commands escape `%`, CR and LF in data, and `,` and `:` in properties
 * too. Other control characters (ESC, which recolours the log) are shown as escapes; the lines
 * of a multi-line message stay lines.
 */
function data(text: string): string {
  return text.split("\n").map(printable).join("\n").replace(/%/g, "%25").replace(/\n/g, "%0A");
}
function property(text: string): string {
  return data(text).replace(/:/g, "%3A").replace(/,/g, "%2C");
}

/** Annotations pointing at the recording line, then the summary. */
export function githubReport({ report, verdict }: ReporterInput, write: Write): void {
  const out: string[] = [];
  for (const e of report.errors) out.push(`::error file=${property(e.file)}${e.line !== null ? `,line=${e.line}` : ""},title=${property(`policyc test: ${errorTitle(e)}`)}::${data(e.message)}`);
  for (const f of report.failures) {
    out.push(`::error file=${property(f.file)},line=${f.line},title=${property(`policyc test: ${shortRequest(f)}`)}::${data(`expected ${expectedText(f)}, got ${actualText(f)}${f.explanation ? `\n${f.explanation}` : ""}`)}`);
  }
  if (verdict?.runCheck) out.push(`::error title=${property(`policyc test: ${verdict.runCheck.name}`)}::${data(verdict.runCheck.message)}`);
  if (report.bailed) out.push(`::warning title=${property("policyc test: --bail")}::${data(BAILED)}`);
  out.push(summaryLine(report));
  write(out.join("\n") + "\n");
}
