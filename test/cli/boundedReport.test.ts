import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { ROOT, bin, type CliResult } from "../helpers.js";
import { expectGolden, runText } from "../goldens/golden.js";

// Failures and errors past 100 per recording are counted, not kept: a recording that fails or is
// garbage on every line replays in bounded memory, and every report says how many it left out.
const POLICY = join(ROOT, "test/fixtures/replay/demo.policy");
const REPORTERS = ["pretty", "json", "junit", "tap", "github"];

const dir = mkdtempSync(join(tmpdir(), "policyc-bounded-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A recording in the temporary folder, named relative to it (the reports name it so). */
function recording(name: string, lines: readonly string[]): string {
  writeFileSync(join(dir, name), lines.join("\n") + "\n");
  return name;
}

const search = (session: string, decision: string): string => `{"time":"2026-01-05T09:00:00Z","session":"${session}","agent":{"team":"support"},"tool":"kb.search","args":{"query":"q"},"decision":"${decision}","rules":["kb-for-support"]}`;
/** A tool one letter from a declared one, expecting nothing: an error of kind `mismatch` (exit 1 on its own). */
const typo = (session: string): string => `{"time":"2026-01-05T09:00:00Z","session":"${session}","agent":{"team":"support"},"tool":"kb.serch","args":{"query":"q"}}`;

// 100 unknown tools (exit 1), then 5 lines that are not JSON (exit 2) past the limit, then a case that passes.
const ERRORS = recording("many-errors.jsonl", [...Array.from({ length: 100 }, (_, i) => typo(`t${i}`)), ...Array.from({ length: 5 }, () => "not json"), search("ok", "allow")]);
// 103 failing cases (kb-for-support allows them) and two that pass.
const FAILURES = recording("many-failures.jsonl", [search("first", "allow"), ...Array.from({ length: 103 }, (_, i) => search(`f${i}`, "deny")), search("last", "allow")]);

const run = (file: string, ...extra: string[]): CliResult => bin(["test", POLICY, "--replay", file, ...extra], { cwd: dir });

/** A report's first `head` and last `tail` lines, the ones between counted: what a golden needs of a long report. */
function ends(text: string, head: number, tail: number): string {
  const lines = text.split("\n");
  if (lines.length <= head + tail) return text;
  return [...lines.slice(0, head), `[… ${lines.length - head - tail} lines …]`, ...lines.slice(-tail)].join("\n");
}

interface JsonReport {
  ok: boolean;
  reason: string;
  passed: number;
  failed: number;
  errors: { line: number | null; kind: string; message: string }[];
  errorsLeftOut: number;
  failures: { line: number }[];
  failuresLeftOut: number;
  cases: { line: number; ok: boolean }[];
}

describe("policyc test: a recording with many errors or failures keeps the first 100 of each, and counts the rest", () => {
  it("lists the first 100 errors and counts the rest in every reporter (goldens); a malformed line left out still exits 2", () => {
    const results = REPORTERS.map((reporter) => run(ERRORS, "--reporter", reporter));
    expectGolden("test-many-errors", results.map((result, i) => `=== --reporter ${REPORTERS[i]}\n${ends(runText(result), 6, 8)}`).join("\n"));
    for (const [i, result] of results.entries()) {
      expect(result.code, REPORTERS[i]).toBe(2);
      expect(result.stderr, REPORTERS[i]).toBe("");
    }
    const [pretty, json, junit, tap, github] = results.map((result) => result.stdout);
    // The text reporter shows --max-errors of them (default 50), and says how many it did not.
    expect(pretty!.match(/^.*?: error\[PC6\d\d\]: /gm)).toHaveLength(50);
    expect(pretty).toContain("… and 55 more errors not shown (use --max-errors to see more; at most 100 are listed per recording)");
    expect(pretty).toContain("101 lines replayed from 1 file; 105 errors (50 listed above)");
    const report = JSON.parse(json!) as JsonReport;
    expect(report.errors).toHaveLength(100);
    expect(report.errors.every((e) => e.kind === "mismatch")).toBe(true);
    expect([report.errorsLeftOut, report.passed, report.failed, report.reason]).toEqual([5, 1, 0, "105 errors in the recordings (malformed or unreadable input)"]);
    expect(XMLValidator.validate(junit!)).toBe(true);
    expect(junit).toContain('<testsuites name="policyc test" tests="106" failures="0" errors="105">');
    expect(junit).toContain('<testsuite name="many-errors.jsonl" tests="106" failures="0" errors="105">');
    expect(junit).toContain("<system-out>… and 5 more errors (at most 100 are listed per recording)</system-out>");
    expect(tap).toContain("1..101\n");
    expect(tap).toContain("# not listed: many-errors.jsonl: … and 5 more errors (at most 100 are listed per recording)\n");
    expect(github!.match(/^::error /gm)).toHaveLength(100);
    expect(github).toContain("::notice file=many-errors.jsonl,title=policyc test%3A not annotated::… and 5 more errors (at most 100 are listed per recording)");
  });

  it("an error about a whole recording is shown whatever --max-errors, after another recording's line errors (review r2)", () => {
    // A broken link: a recording that does not exist at all is refused before the replay.
    if (!existsSync(join(dir, "missing.jsonl"))) symlinkSync("nowhere.jsonl", join(dir, "missing.jsonl"));
    const result = bin(["test", POLICY, "--replay", ERRORS, "missing.jsonl", "--max-errors", "3"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(result.stdout.match(/^many-errors\.jsonl:\d+: error\[PC603\]: /gm)).toHaveLength(3);
    expect(result.stdout).toMatch(/^missing\.jsonl: error\[PC600\]: it is a symbolic link to `nowhere\.jsonl`, which does not exist/m);
    expect(result.stdout).toContain("… and 102 more errors not shown (use --max-errors to see more; at most 100 are listed per recording)");
  });

  it("--max-errors sets how many the text reporter shows, up to the 100 kept", () => {
    const three = run(ERRORS, "--max-errors", "3");
    expect(three.code).toBe(2);
    expect(three.stdout.match(/^.*?: error\[PC6\d\d\]: /gm)).toHaveLength(3);
    expect(three.stdout).toContain("… and 102 more errors not shown (use --max-errors to see more; at most 100 are listed per recording)");
    const all = run(ERRORS, "--max-errors", "500");
    expect(all.stdout.match(/^.*?: error\[PC6\d\d\]: /gm)).toHaveLength(100);
    expect(all.stdout).toContain("… and 5 more errors not shown (at most 100 are listed per recording)");
    // All shown: nothing more to say.
    const few = run(recording("two-errors.jsonl", ["not json", "not json", search("ok", "allow")]));
    expect(few.stdout).not.toContain("not shown");
    expect(few.stdout).toContain("1 line replayed from 1 file; 2 errors (listed above)");
  });

  it("lists the first 100 failures and counts the rest in every reporter (goldens), with the true counts and exit code", () => {
    const results = REPORTERS.map((reporter) => run(FAILURES, "--reporter", reporter));
    expectGolden("test-many-failures", results.map((result, i) => `=== --reporter ${REPORTERS[i]}\n${ends(runText(result), 6, 8)}`).join("\n"));
    for (const [i, result] of results.entries()) {
      expect(result.code, REPORTERS[i]).toBe(1);
      expect(result.stderr, REPORTERS[i]).toBe("");
      if (REPORTERS[i] !== "junit") expect(result.stdout, REPORTERS[i]).toContain("2 passed, 103 failed");
    }
    const [pretty, json, junit, tap, github] = results.map((result) => result.stdout);
    expect(pretty!.match(/✗ line /g)).toHaveLength(100);
    expect(pretty).toContain("  … and 3 more failed cases (at most 100 are listed per recording)");
    const report = JSON.parse(json!) as JsonReport;
    expect(report.failures.map((f) => f.line)).toEqual(Array.from({ length: 100 }, (_, i) => i + 2));
    expect([report.failuresLeftOut, report.errorsLeftOut, report.reason]).toEqual([3, 0, "103 cases failed"]);
    // The cases listed: every pass, and the failures kept.
    expect(report.cases.map((c) => c.line)).toEqual([1, ...Array.from({ length: 100 }, (_, i) => i + 2), 105]);
    expect(XMLValidator.validate(junit!)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@" }).parse(junit!) as { testsuites: Record<string, string> & { testsuite: Record<string, string> & { testcase: unknown[] } } };
    // The counts are the true totals; the cases listed are fewer, and the suite's output says so.
    for (const element of [doc.testsuites, doc.testsuites.testsuite]) expect([element["@tests"], element["@failures"], element["@errors"]]).toEqual(["105", "103", "0"]);
    expect(doc.testsuites.testsuite.testcase).toHaveLength(102);
    expect(junit).toContain("<system-out>… and 3 more failed cases (at most 100 are listed per recording)</system-out>");
    expect(tap).toContain("1..102\n");
    expect(tap!.match(/^not ok /gm)).toHaveLength(100);
    expect(tap).toContain("# not listed: many-failures.jsonl: … and 3 more failed cases (at most 100 are listed per recording)\n");
    expect(github!.match(/^::error /gm)).toHaveLength(100);
    expect(github).toContain("::notice file=many-failures.jsonl,title=policyc test%3A not annotated::… and 3 more failed cases (at most 100 are listed per recording)");
  });

  it("a parallel replay keeps the same first 100 and counts the same rest as one thread", () => {
    for (const file of [ERRORS, FAILURES]) {
      const one = JSON.parse(run(file, "--json", "--jobs", "1").stdout) as JsonReport;
      const three = JSON.parse(run(file, "--json", "--jobs", "3").stdout) as JsonReport;
      expect(three).toEqual(one);
      expect(one.errorsLeftOut + one.failuresLeftOut).toBeGreaterThan(0);
    }
  });

  it("a JSON document written over hundreds of lines is still one error, on any number of threads", () => {
    const requests = Array.from({ length: 300 }, (_, i) => ({ session: `s${i}`, agent: { team: "support" }, tool: "kb.search", args: { query: "q" } }));
    writeFileSync(join(dir, "requests.jsonl"), JSON.stringify(requests, null, 2) + "\n");
    for (const jobs of ["1", "3"]) {
      const result = run("requests.jsonl", "--json", "--jobs", jobs);
      expect(result.code).toBe(2);
      const report = JSON.parse(result.stdout) as JsonReport;
      expect(report.errors.map((e) => [e.line, e.message.slice(0, 40)])).toEqual([[null, "it is one JSON document written over sev"]]);
      expect(report.errorsLeftOut).toBe(0);
    }
  });

  it("--update writes every failing line, those left out of the report too", () => {
    const file = recording("update-many.jsonl", Array.from({ length: 150 }, (_, i) => search(`u${i}`, "deny")));
    const updated = run(file, "--update");
    expect(updated.code).toBe(0);
    expect(updated.stdout).toContain("… and 50 more failed cases (at most 100 are listed per recording)");
    expect(readFileSync(join(dir, file), "utf8").split("\n").filter((line) => line.includes('"decision":"allow"'))).toHaveLength(150);
    const again = run(file);
    expect([again.code, again.stdout.trim().split("\n").at(-1)]).toEqual([0, "150 passed, 0 failed"]);
  });
});
