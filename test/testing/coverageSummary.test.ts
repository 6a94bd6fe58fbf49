import { describe, expect, it } from "vitest";
import type { RuleInfo } from "../../src/runtime/policy.js";
import type { ReplayReport } from "../../src/testing/replay.js";
import { coverageSummary } from "../../src/testing/reporters/shared.js";

/** A report in which every rule but `uncovered` of `count` decided a line. */
function summary(count: number, uncovered: number): ReturnType<typeof coverageSummary> {
  const rules = Array.from({ length: count }, (_, i) => ({ id: `r${i}`, location: `p.policy:${i + 1}:1` }) as RuleInfo);
  const coverage = new Map(rules.map((r, i) => [r.id, i < uncovered ? 0 : 1]));
  return coverageSummary({ coverage, unasserted: new Map() } as ReplayReport, rules);
}

describe("coverage percent", () => {
  it("is rounded down, so one rule never decided never shows as 100% (and --min-coverage 100 fails)", () => {
    expect(summary(2_000, 1).percent).toBe(99.9);
    expect(summary(20_000, 1).percent).toBe(99.9);
    expect(summary(3, 1).percent).toBe(66.6);
    expect(summary(3, 0).percent).toBe(100);
    expect(summary(0, 0)).toMatchObject({ percent: 0, noRules: true });
    expect(summary(2_000, 1).uncovered).toEqual(["r0"]);
  });
});
