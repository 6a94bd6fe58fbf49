import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../helpers.js";

/**
 * `policyc test` and `policyc diff` behaviour a mutation audit found unpinned (the mutant is
 * named in each test's comment). Policies and recordings are written to a temporary folder.
 */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-mutation-gaps-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: string): string {
  const path = join(dir, name);
  writeFileSync(path, content);
  return path;
}

const DECLS = ["agent {", "  team: string", "}", "tool kb.search {", "  risk low", "  args { query: string }", "}", "tool http.get {", "  args { url: string }", "}", ""].join("\n");
const line = (session: string, tool: string, args: Record<string, unknown>, extra: Record<string, unknown> = {}): string =>
  JSON.stringify({ time: "2026-01-05T09:00:00Z", session, agent: { team: "support" }, tool, args, ...extra });

describe("mutation gaps: policyc test", () => {
  // Mutant: coverageSummary rounds the percentage (66.67 -> 66.7) instead of cutting it (66.6).
  it("coverage is rounded down: 2 of 3 rules is 66.6%, which does not reach --min-coverage 66.7", async () => {
    const policy = write("cover.policy", `${DECLS}policy p {\n  @name("a") allow kb.search when args.query == "a"\n  @name("b") allow kb.search when args.query == "b"\n  @name("never") ask http.get\n}\n`);
    const recording = write("cover.jsonl", [line("s", "kb.search", { query: "a" }, { decision: "allow" }), line("s", "kb.search", { query: "b" }, { decision: "allow" })].join("\n") + "\n");
    const covered = await cli(["test", policy, "--replay", recording, "--coverage"]);
    expect(covered.code).toBe(0);
    expect(covered.stdout).toContain("66.6% of 3 rules covered");
    const gated = await cli(["test", policy, "--replay", recording, "--min-coverage", "66.7"]);
    expect(gated.code).toBe(1);
    expect(gated.stderr).toContain("rule coverage 66.6% is below --min-coverage 66.7%");
  });
  // Mutant: judge exits 2 for malformed lines only when every error is one.
  it("a malformed line exits 2 even when another line names an unknown tool (exit 1 on its own)", async () => {
    const policy = write("errors.policy", `${DECLS}policy p {\n  allow kb.search\n}\n`);
    const unknownTool = line("s", "no.such.tool", {}, { decision: "deny" });
    const mixed = write("mixed.jsonl", ["{not json", unknownTool].join("\n") + "\n");
    const alone = write("unknown-only.jsonl", unknownTool + "\n");
    expect((await cli(["test", policy, "--replay", alone])).code).toBe(1);
    const result = await cli(["test", policy, "--replay", mixed]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("no.such.tool");
  });

  // Mutant: spliceExpectation writes only the first reason into a line's `reason`.
  it("--update writes every deciding rule's reason, joined with `; `, into a line that has a `reason`", async () => {
    const policy = write("reasons.policy", `${DECLS}policy p {\n  @name("one") deny kb.search reason "first"\n  @name("two") deny kb.search reason "second"\n}\n`);
    const recording = write("reasons.jsonl", line("s", "kb.search", { query: "q" }, { decision: "allow", reason: "stale" }) + "\n");
    expect((await cli(["test", policy, "--replay", recording, "--update"])).code).toBe(0);
    expect(JSON.parse(readFileSync(recording, "utf8"))).toMatchObject({ decision: "deny", rules: ["one", "two"], reason: "first; second" });
    expect((await cli(["test", policy, "--replay", recording])).code).toBe(0);
  });
});

describe("mutation gaps: policyc diff", () => {
  // Mutant: STRICTNESS ranks ask above deny, so ask→deny reads as a looser answer.
  it("ask→deny is a stricter answer: the change is the new deny rule's (+id), not the old ask's", async () => {
    const before = write("old.policy", `${DECLS}policy p {\n  @name("fetch-asks") ask http.get\n}\n`);
    const after = write("new.policy", `${DECLS}policy p {\n  @name("fetch-asks") ask http.get\n  @name("block") deny http.get when args.url like "*evil*"\n}\n`);
    const recording = write("fetch.jsonl", line("s", "http.get", { url: "https://evil.example/" }) + "\n");
    const result = await cli(["diff", before, after, "--replay", recording, "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { directions: Record<string, number>; byCause: Record<string, { count: number }> };
    expect(report.directions).toEqual({ "ask→deny": 1 });
    expect(Object.keys(report.byCause)).toEqual(["+block"]);
  });
});
