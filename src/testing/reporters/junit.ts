import { actualText, expectedText, shortRequest, type ReporterInput } from "./shared.js";
import type { CaseResult } from "../replay.js";

function xml(text: string): string {
  // Characters XML 1.0 cannot hold at all are dropped; the rest escaped.
  // eslint-disable-next-line no-control-regex
  return text.replace(/[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd]/gu, "").replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** JUnit XML, as CI systems read it: a suite per recording file, a case per line with an expectation. */
export function junitReport({ report }: ReporterInput): string {
  const byFile = new Map<string, CaseResult[]>(report.files.map((f) => [f, []]));
  for (const c of report.cases) byFile.get(c.file)?.push(c);
  const errorsByFile = new Map<string, number>();
  for (const e of report.errors) errorsByFile.set(e.file, (errorsByFile.get(e.file) ?? 0) + 1);
  const out = ['<?xml version="1.0" encoding="UTF-8"?>', `<testsuites name="policyc test" tests="${report.passed + report.failed}" failures="${report.failed}" errors="${report.errors.length}">`];
  for (const [file, cases] of byFile) {
    const failures = cases.filter((c) => !c.ok).length;
    out.push(`  <testsuite name="${xml(file)}" tests="${cases.length}" failures="${failures}" errors="${errorsByFile.get(file) ?? 0}">`);
    for (const c of cases) {
      const name = `line ${c.line}: ${shortRequest(c)}`;
      if (c.ok) out.push(`    <testcase classname="${xml(`${file}.${c.session}`)}" name="${xml(name)}"/>`);
      else {
        out.push(`    <testcase classname="${xml(`${file}.${c.session}`)}" name="${xml(name)}">`);
        out.push(`      <failure message="${xml(`expected ${expectedText(c)}, got ${actualText(c)}`)}" type="${xml(c.mismatches.join(","))}">${xml(`${file}:${c.line}\nexpected ${expectedText(c)}\nactual   ${actualText(c)}\n${c.actual.reasons.join("\n")}\n${c.explanation ?? ""}`)}</failure>`);
        out.push("    </testcase>");
      }
    }
    for (const e of report.errors.filter((e) => e.file === file)) {
      out.push(`    <testcase classname="${xml(file)}" name="${xml(`line ${e.line ?? 0}: invalid`)}">`);
      out.push(`      <error message="${xml(e.message)}"/>`);
      out.push("    </testcase>");
    }
    out.push("  </testsuite>");
  }
  out.push("</testsuites>");
  return out.join("\n") + "\n";
}
