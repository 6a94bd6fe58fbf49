import { actualReasons, actualText, lookAlikeNote, loggedLines, chunkedWriter, coverageLines, diagnosticErrors, diagnosticTitle, codedMessage, errorTitle, expectedText, isRepositoryFile, leftOutLines, type PolicyIdentity, type ReporterInput, type Write } from "./shared.js";
import { recordingName } from "../recordingSource.js";
import { printable, printableLines } from "../../diagnostics/printable.js";
import { xmlAttribute, xmlText as xml } from "../../diagnostics/xmlText.js";
import { diagnosticText } from "../../diagnostics/render.js";
import { errorCount } from "../replay.js";

/**
 * JUnit XML, as CI systems read it: a suite per recording file, a case per line with an
 * expectation, and one per error. Written a case at a time (the counts come first, from a pass
 * that only counts), so a report of a large recording is never one string.
 */
export function junitReport({ report, coverage, verdict, policy, ciPath = (file) => file }: ReporterInput, out: Write): void {
  const { write, flush } = chunkedWriter(out);
  // `file` as GitLab and others read it: relative to the repository root when it is known, the
  // real path (a line break in it a reference; only what XML cannot hold shown as an escape).
  // Standard input has none, as in GitHub's annotations: no file in the repository to link to.
  // Names keep the path as given, as the log has it.
  const fileAttribute = (file: string): string => (isRepositoryFile(file) ? ` file="${xmlAttribute(ciPath(file))}"` : "");
  const runChecks = verdict?.runChecks ?? [];
  const policyErrors = diagnosticErrors(verdict);
  const extra = runChecks.length + policyErrors.length;
  const counts = new Map(report.files.map((f) => [f, { cases: 0, failures: 0, errors: 0 }]));
  for (const c of report.cases) {
    const count = counts.get(c.file);
    if (count === undefined) continue;
    count.cases++;
    if (!c.ok) count.failures++;
  }
  for (const e of report.errors) {
    const count = counts.get(e.file);
    if (count !== undefined) count.errors++;
  }
  // The counts are the true totals: failures and errors past the limits count though they are not listed (the suite's output says so).
  for (const [file, leftOut] of report.leftOut) {
    const count = counts.get(file);
    if (count === undefined) continue;
    count.cases += leftOut.failures;
    count.failures += leftOut.failures;
    count.errors += leftOut.errors;
  }
  const errors = errorCount(report);
  // The policy set judged, as properties of every suite (where CI systems read them), when it loaded.
  const policyLines = policyProperties(policy);
  const properties = policyLines === "" ? "" : `    <properties>\n${policyLines}    </properties>\n`;
  write(`<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="policyc test" tests="${report.passed + report.failed + errors + extra}" failures="${report.failed + extra}" errors="${errors}">\n`);
  // Cases are in file order, a file's cases together.
  let next = 0;
  for (const [file, count] of counts) {
    write(`  <testsuite name="${xmlAttribute(printable(recordingName(file)))}" tests="${count.cases + count.errors}" failures="${count.failures}" errors="${count.errors}">\n${properties}`);
    for (; next < report.cases.length && report.cases[next]!.file === file; next++) {
      const c = report.cases[next]!;
      const classname = xmlAttribute(`${printable(recordingName(file))}.${printable(c.session)}`);
      const name = xmlAttribute(`line ${c.line}: ${c.request}`);
      // `file` and `line`, as pytest writes them: GitLab and others link a case to its place.
      const place = `${fileAttribute(file)} line="${c.line}"`;
      if (c.ok) write(`    <testcase classname="${classname}" name="${name}"${place}/>\n`);
      else {
        write(`    <testcase classname="${classname}" name="${name}"${place}>\n`);
        // Shown as the pretty report shows them: a hidden or bidirectional character in a rule id,
        // reason or value as an escape, so a CI test viewer neither hides nor reorders it.
        write(`      <failure message="${xmlAttribute(printable(`expected ${expectedText(c)}, got ${actualText(c)}`))}" type="${xmlAttribute(c.mismatches.join(","))}">${xml(`${printable(recordingName(file))}:${c.line}\nexpected ${printable(expectedText(c))}\n${loggedLines(c)}actual   ${printable(actualText(c))}\n${lookAlikeNote(c) !== undefined ? `(${lookAlikeNote(c)})\n` : ""}${actualReasons(c).map(printable).join("\n")}\n${printableLines(c.explanation ?? "")}`)}</failure>\n`);
        write("    </testcase>\n");
      }
    }
    for (const e of report.errors) {
      if (e.file !== file) continue;
      write(`    <testcase classname="${xmlAttribute(printable(recordingName(file)))}" name="${xmlAttribute(e.line === null ? errorTitle(e) : `line ${e.line}: ${errorTitle(e)}`)}"${fileAttribute(file)}${e.line === null ? "" : ` line="${e.line}"`}>\n`);
      write(`      <error message="${xmlAttribute(codedMessage(e))}" type="${e.code}"/>\n`);
      write("    </testcase>\n");
    }
    // Notes are no tests: the suite's output, which CI systems show beside its cases (after them, as the JUnit schema orders it).
    const notes = report.notes.filter((n) => n.file === file).map((n) => `note: ${printable(recordingName(file))}${n.line !== null ? `:${n.line}` : ""}: ${n.message}`);
    notes.push(...leftOutLines(report.leftOut.get(file)));
    if (notes.length > 0) write(`    <system-out>${xml(notes.join("\n"))}</system-out>\n`);
    write("  </testsuite>\n");
  }
  if (policyErrors.length > 0) {
    // A policy set that did not load: each error a failing case at its place, as `policyc check` reports it.
    write(`  <testsuite name="policyc check" tests="${policyErrors.length}" failures="${policyErrors.length}" errors="0">\n`);
    for (const d of policyErrors) {
      const place = d.file !== null ? `${fileAttribute(d.file)}${d.line !== null ? ` line="${d.line}"` : ""}` : "";
      write(`    <testcase classname="policyc check" name="${xmlAttribute(printable(diagnosticTitle(d)))}"${place}>\n`);
      write(`      <failure message="${xmlAttribute(printable(d.message))}" type="${d.code}">${xml(diagnosticText(d))}</failure>\n`);
      write("    </testcase>\n");
    }
    write("  </testsuite>\n");
  }
  if (runChecks.length > 0) {
    // Failures of the run as a whole, in a suite of their own, where CI test views look.
    write(`  <testsuite name="policyc test" tests="${runChecks.length}" failures="${runChecks.length}" errors="0">\n${properties}`);
    for (const runCheck of runChecks) {
      write(`    <testcase classname="policyc test" name="${xmlAttribute(runCheck.name)}">\n`);
      write(`      <failure message="${xmlAttribute(runCheck.message)}" type="${xmlAttribute(runCheck.name)}"/>\n`);
      write("    </testcase>\n");
    }
    write("  </testsuite>\n");
  }
  if (coverage) {
    // Coverage is no test: a suite of none, with the figures as properties and the table as its output.
    write(`  <testsuite name="policyc test coverage" tests="0" failures="0" errors="0">\n    <properties>\n${policyLines}`);
    write(`      <property name="coverage.percent" value="${coverage.percent}"/>\n`);
    // As JSON's `noRules`: a 0 of no rules is no figure, and a CI view of the properties alone should tell.
    if (coverage.noRules) write('      <property name="coverage.noRules" value="true"/>\n');
    for (const rule of coverage.rules) write(`      <property name="${xmlAttribute(`coverage.rule.${rule.id}`)}" value="${rule.lines}"/>\n`);
    // Apart: the rules no test case covers that decided lines without expectations, with how many.
    for (const rule of coverage.rules) if (rule.lines === 0 && rule.unassertedLines > 0) write(`      <property name="${xmlAttribute(`coverage.unassertedOnly.${rule.id}`)}" value="${rule.unassertedLines}"/>\n`);
    // By control: its covered rules of its rules, as `1/2`.
    for (const control of coverage.controls) write(`      <property name="${xmlAttribute(`coverage.control.${control.id}`)}" value="${control.rules.length - control.uncovered.length}/${control.rules.length}"/>\n`);
    write(`    </properties>\n    <system-out>${xml(coverageLines(coverage).join("\n"))}</system-out>\n  </testsuite>\n`);
  }
  write("</testsuites>\n");
  flush();
}

/** `<property>` lines naming the policy set judged (`policy.contentHash`, `policy.policyc`, `policy.from`, and a bundle's `policy.bundle`, `policy.signed`, `policy.signatureChecked`); "" when it did not load. */
function policyProperties(policy: PolicyIdentity | undefined): string {
  if (policy === undefined) return "";
  return Object.entries(policy)
    .map(([name, value]) => `      <property name="policy.${name}" value="${xmlAttribute(String(value))}"/>\n`)
    .join("");
}
