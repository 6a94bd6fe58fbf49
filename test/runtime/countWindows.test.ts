import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";

/**
 * `session.count` against a reference that keeps every attempt forever, for random request
 * orders (late and early attempts) and small windows (`maxWindowEntries`): the engine either
 * gives the reference's exact decision, or reports an error and fails closed. Never an allow
 * the reference would deny.
 */
const POLICY = `
tool a.x { args { q: string } }
tool b.y { args { q: string } }
policy p {
  @name("rate") deny * when session.count(within 10s) > 5
  @name("a-rate") deny * when session.count(a.x, within 5s) >= 3
  @name("ok") allow * when session.count(within 20s) < 8
}
`;

interface Attempt {
  readonly ms: number;
  readonly tool: "a.x" | "b.y";
}

/** The exact decision: counts over every earlier-arrived attempt dated at most W before this one (later-dated ones too). */
function reference(history: readonly Attempt[], now: Attempt): { decision: string; rules: string[] } {
  const count = (withinMs: number, tool?: string): number => history.filter((h) => h.ms >= now.ms - withinMs && (tool === undefined || h.tool === tool)).length + (tool === undefined || now.tool === tool ? 1 : 0);
  const deny = [count(10_000) > 5 ? "rate" : "", count(5_000, "a.x") >= 3 ? "a-rate" : ""].filter(Boolean);
  if (deny.length > 0) return { decision: "deny", rules: deny };
  return count(20_000) < 8 ? { decision: "allow", rules: ["ok"] } : { decision: "deny", rules: [] };
}

const attempts = fc.array(fc.record({ step: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 3_000 }) }, { weight: 1, arbitrary: fc.integer({ min: -30_000, max: 30_000 }) }), tool: fc.constantFrom<"a.x" | "b.y">("a.x", "b.y") }), { minLength: 1, maxLength: 40 });

describe("session.count windows against an exact reference", () => {
  it("exact without errors; with errors, failing closed", () => {
    fc.assert(
      fc.property(attempts, fc.option(fc.integer({ min: 1, max: 12 }), { nil: undefined }), (steps, maxWindowEntries) => {
        const engine = compile([{ path: "p.policy", text: POLICY }], maxWindowEntries === undefined ? {} : { maxWindowEntries });
        const history: Attempt[] = [];
        let ms = 1_000_000;
        for (const step of steps) {
          ms += step.step;
          const now: Attempt = { ms, tool: step.tool };
          const decision = engine.decide({ session: "s", tool: now.tool, args: { q: "q" }, time: new Date(Date.UTC(2026, 10, 29) + now.ms).toISOString() });
          const expected = reference(history, now);
          if (decision.errors.length === 0) expect({ decision: decision.decision, rules: [...decision.rules].sort() }).toEqual({ decision: expected.decision, rules: expected.rules.sort() });
          else expect(decision.decision === "allow" && expected.decision !== "allow").toBe(false);
          history.push(now);
        }
      }),
      { numRuns: 400 },
    );
  });
});
