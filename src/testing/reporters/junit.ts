import { actualText, expectedText, shortRequest, type ReporterInput } from "./shared.js";
import type { CaseResult } from "../replay.js";
import { printable } from "../../diagnostics/printable.js";

/** Text content: characters XML 1.0 cannot hold at all (most controls, lone surrogates) are dropped; the rest escaped. */
function xml(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** An attribute value: as text, and with newlines and tabs as references, which attribute normalisation would turn into spaces. */
function xmlAttribute(text: string): string {
  return xml(text).replace(/\n/g, "&#10;").replace(/\r/g, "&#13;").replace(/\t/g, "&#9;");
}

/** JUnit XML, as CI systems read it: a suite per recording file, a case per line with an expectation, and one per error. */
export function junitReport({ report, verdict }: ReporterInput): string {
  const runCheck = verdict?.runCheck;
  const extra = runCheck ? 1 : 0;
  const byFile = new Map<string, CaseResult[]>(report.files.map((f) => [f, []]));
  for (const c of report.cases) byFile.get(c.file)?.push(c);
  const errorsByFile = new Map<string, number>();
  for (const e of report.errors) errorsByFile.set(e.file, (errorsByFile.get(e.file) ?? 0) + 1);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="policyc test" tests="${report.passed + report.failed + report.errors.length + extra}" failures="${report.failed + extra}" errors="${report.errors.length}">`];
  for (const [file, cases] of byFile) {
    const failures = cases.filter((c) => !c.ok).length;
    const errors = errorsByFile.get(file) ?? 0;
    out.push(`  <testsuite name="${xmlAttribute(printable(file))}" tests="${cases.length + errors}" failures="${failures}" errors="${errors}">`);
    for (const c of cases) {
      const classname = xmlAttribute(`${printable(file)}.${printable(c.session)}`);
      const name = xmlAttribute(`line ${c.line}: ${shortRequest(c)}`);
      if (c.ok) out.push(`    <testcase classname="${classname}" name="${name}"/>`);
      else {
        out.push(`    <testcase classname="${classname}" name="${name}">`);
        out.push(`      <failure message="${xmlAttribute(`expected ${expectedText(c)}, got ${actualText(c)}`)}" type="${xmlAttribute(c.mismatches.join(","))}">${xml(`${printable(file)}:${c.line}\nexpected ${expectedText(c)}\nactual   ${actualText(c)}\n${c.actual.reasons.join("\n")}\n${c.explanation ?? ""}`)}</failure>`);
        out.push("    </testcase>");
      }
    }
    for (const e of report.errors.filter((e) => e.file === file)) {
      out.push(`    <testcase classname="${xmlAttribute(printable(file))}" name="${xmlAttribute(`line ${e.line ?? 0}: invalid`)}">`);
      out.push(`      <error message="${xmlAttribute(e.message)}"/>`);
      out.push("    </testcase>");
    }
    out.push("  </testsuite>");
  }
  if (runCheck) {
    // A failure of the run as a whole, in a suite of its own, where CI test views look.
    out.push('  <testsuite name="policyc test" tests="1" failures="1" errors="0">');
    out.push(`    <testcase classname="policyc test" name="${xmlAttribute(runCheck.name)}">`);
    out.push(`      <failure message="${xmlAttribute(runCheck.message)}" type="${xmlAttribute(runCheck.name)}"/>`);
    out.push("    </testcase>");
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}
