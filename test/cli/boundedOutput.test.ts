import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { XMLValidator } from "fast-xml-parser";
import { ROOT, bin, type CliResult } from "../helpers.js";
import { expectGolden, runText } from "../goldens/golden.js";

// What one recording line supplies (its tool, argument names, the rules, reason and grants it
// expects) is any length and any number: the reports show it in short, so a line of a few
// megabytes cannot make a CI log of a hundred. Grouping and --grep still use the text itself.
const POLICY = join(ROOT, "test/fixtures/replay/demo.policy");
const DIFF_OLD = join(ROOT, "test/fixtures/replay/diff/old.policy");
const DIFF_NEW = join(ROOT, "test/fixtures/replay/diff/new.policy");
const REPORTERS = ["pretty", "json", "junit", "tap", "github"];

const dir = mkdtempSync(join(tmpdir(), "policyc-bounded-output-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function recording(name: string, lines: readonly unknown[]): string {
  writeFileSync(join(dir, name), lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
  return name;
}

const TIME = "2026-01-05T09:00:00Z";
const LONG_TOOL = "x".repeat(100_000);
const MANY_RULES = ["kb-for-support", ...Array.from({ length: 4_999 }, (_, i) => (i % 1_000 === 7 ? `long-${"r".repeat(10_000)}-${i}` : `made-up-${i}`))];
const LONG_REASON = "y".repeat(100_000);
const MANY_GRANTS = Array.from({ length: 30 }, (_, i) => ({ scope: `${"s".repeat(1_000)}:${i}`, ttlSeconds: 60 }));

const LINES = recording("long-strings.jsonl", [
  // An undeclared 100,000-character tool, expecting nothing: an error that names it in short.
  { time: TIME, session: "s1", agent: { team: "support" }, tool: LONG_TOOL, args: {} },
  // The same tool expecting a rule's deny: a case (no declared tool is close), which fails; its
  // argument's 1,000-character name is shown in short too.
  { time: TIME, session: "s2", agent: { team: "support" }, tool: LONG_TOOL, args: { ["k".repeat(1_000)]: 1 }, decision: "deny", rules: ["made-up"] },
  // 5,000 expected rules, some 10,000 characters long: listed 20, explained 20, and counted.
  { time: TIME, session: "s3", agent: { team: "support" }, tool: "kb.search", args: { query: "q" }, decision: "allow", rules: MANY_RULES },
  // A 100,000-character reason and 30 grants of 1,000-character scopes.
  { time: TIME, session: "s4", agent: { team: "support" }, tool: "kb.search", args: { query: "q" }, decision: "allow", rules: ["kb-for-support"], reason: LONG_REASON, grants: MANY_GRANTS },
]);

const run = (file: string, ...extra: string[]): CliResult => bin(["test", POLICY, "--replay", file, ...extra], { cwd: dir });

interface JsonReport {
  failed: number;
  errors: { message: string }[];
  failures: { tool: string; expected: { rules?: string[]; reason?: string; grants?: unknown[] }; explanation?: string }[];
}

describe("policyc test: a line's own strings and lists are shown in short", () => {
  it("in every reporter (goldens), with the exit code of the failures; JSON keeps the line's data", () => {
    const results = REPORTERS.map((reporter) => run(LINES, "--reporter", reporter));
    for (const [i, result] of results.entries()) {
      expect(result.code, REPORTERS[i]).toBe(1);
      expect(result.stderr, REPORTERS[i]).toBe("");
    }
    const texts = results.filter((_, i) => REPORTERS[i] !== "json");
    expectGolden("test-long-line-strings", texts.map((result, i) => `=== --reporter ${REPORTERS.filter((r) => r !== "json")[i]}\n${runText(result)}`).join("\n"));
    // The recording is 1.2 MB; each text report a few kilobytes.
    for (const result of texts) expect(result.stdout.length).toBeLessThan(25_000);
    const [pretty, json, junit] = results.map((result) => result.stdout);
    expect(pretty).toContain(`unknown tool \`${"x".repeat(79)}…\` of 100,000 characters: the policy set declares no such tool`);
    expect(pretty).toContain(`… and 4,980 more]`);
    expect(pretty).toContain("because … and 4,979 more expected rules that are not rules for kb.search");
    expect(XMLValidator.validate(junit!)).toBe(true);
    // JSON is for machines: the expectation as the line has it (its size follows the recording's), the explanation in short.
    const report = JSON.parse(json!) as JsonReport;
    expect(report.failed).toBe(3);
    expect(report.failures[0]!.tool).toBe(LONG_TOOL);
    expect(report.failures[1]!.expected.rules).toEqual(MANY_RULES);
    expect(report.failures[1]!.explanation!.split("\n")).toHaveLength(1 + 20 + 1);
    expect([report.failures[2]!.expected.reason, report.failures[2]!.expected.grants]).toEqual([LONG_REASON, MANY_GRANTS]);
  });

  it("--grep searches the whole tool name, not the part shown, and two long names are two tools", () => {
    const tool = (end: string): string => `${"z".repeat(200)}${end}`;
    const file = recording("long-names.jsonl", [
      { time: TIME, session: "s1", agent: { team: "support" }, tool: tool("first"), args: {}, decision: "deny", rules: [] },
      { time: TIME, session: "s2", agent: { team: "support" }, tool: tool("second"), args: {}, decision: "deny", rules: [] },
    ]);
    const passed = (result: CliResult): number => (JSON.parse(result.stdout) as { passed: number }).passed;
    const grepped = run(file, "--grep", "second", "--reporter", "json");
    expect([grepped.code, passed(grepped)]).toEqual([0, 1]);
    expect(passed(run(file, "--grep", "z".repeat(150), "--reporter", "json"))).toBe(2);
  });

  it("nor is an argument's value or a session that is not a string, cut at an odd place (review r5)", () => {
    const file = recording("emoji-args.jsonl", [{ time: TIME, session: "s1", agent: { team: "support" }, tool: "kb.search", args: { query: `a${"😀".repeat(600)}` }, decision: "deny" }]);
    const result = run(file);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`query="a${"😀".repeat(17)}…`);
    expect(result.stdout).not.toContain("\ufffd");
  });

  it("a name is not cut inside a character written as two (an emoji)", () => {
    // 79 characters shown: 39 emoji and the first half of the 40th would be a lone surrogate.
    const file = recording("emoji.jsonl", [{ time: TIME, session: "s1", agent: { team: "support" }, tool: "😀".repeat(100), args: {} }]);
    const result = run(file);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`unknown tool \`${"😀".repeat(39)}…\` of 200 characters`);
    // (The engine's own quote of it, in the hint, escapes the half it cuts: `\ud83d`.)
    // A lone half would reach the log as U+FFFD.
    expect(result.stdout).not.toContain("\ufffd");
  });
});

describe("policyc diff: a recording of garbage keeps its first 100 errors, as policyc test does", () => {
  // 250 lines that are not JSON, then a request.
  const GARBAGE = "garbage.jsonl";
  writeFileSync(join(dir, GARBAGE), "not json\n".repeat(250) + '{"session":"s","agent":{"team":"sales"},"tool":"kb.search","args":{"query":"q"}}\n');
  const diff = (...extra: string[]): CliResult => bin(["diff", DIFF_OLD, DIFF_NEW, "--replay", GARBAGE, ...extra], { cwd: dir });

  it("shows --max-errors of them (default 50), says how many more it found, and exits 2 (golden)", () => {
    const shown = diff();
    const three = diff("--max-errors", "3");
    expectGolden("diff-many-errors", [`=== default\n${runText(shown)}`, `=== --max-errors 3\n${runText(three)}`].join("\n"));
    for (const result of [shown, three]) expect([result.code, result.stderr]).toEqual([2, ""]);
    expect(shown.stdout.match(/^.*?: error\[PC6\d\d\]: /gm)).toHaveLength(50);
    expect(shown.stdout).toContain("… and 200 more errors not shown (use --max-errors to see more; at most 100 are listed per recording)");
    const all = diff("--max-errors", "500");
    expect(all.stdout.match(/^.*?: error\[PC6\d\d\]: /gm)).toHaveLength(100);
    expect(all.stdout).toContain("… and 150 more errors not shown (at most 100 are listed per recording)");
  });

  it("--json lists the first 100 and counts the rest in errorsLeftOut; on several threads the same", () => {
    for (const jobs of ["1", "2"]) {
      const result = diff("--json", "--jobs", jobs);
      expect(result.code, jobs).toBe(2);
      const report = JSON.parse(result.stdout) as { ok: boolean; lines: number; changed: number; errors: { line: number }[]; errorsLeftOut: number };
      expect([report.ok, report.lines, report.changed, report.errorsLeftOut], jobs).toEqual([false, 1, 1, 150]);
      expect(report.errors.map((e) => e.line), jobs).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    }
  });

  it("a malformed line past the first 100 still exits 2", () => {
    const file = "late-garbage.jsonl";
    const good = '{"session":"s","agent":{"team":"sales"},"tool":"kb.search","args":{"query":"q"}}\n';
    writeFileSync(join(dir, file), "not json\n".repeat(100) + good + "not json\n");
    const result = bin(["diff", DIFF_OLD, DIFF_NEW, "--replay", file, "--json"], { cwd: dir });
    expect(result.code).toBe(2);
    expect((JSON.parse(result.stdout) as { errorsLeftOut: number }).errorsLeftOut).toBe(1);
  });
});
