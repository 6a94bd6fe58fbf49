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
  @name("family") deny * when session.count(a.*, within 3s) >= 4
  @name("ok") allow * when session.count(within 20s) < 8
}
`;

/** `a.z` is not declared: denied as unknown, and still an attempt `session.count(a.*, …)` counts. */
interface Attempt {
  readonly ms: number;
  readonly tool: "a.x" | "b.y" | "a.z";
}

/** The exact decision: counts over every earlier-arrived attempt dated at most W before this one (later-dated ones too). */
function reference(history: readonly Attempt[], now: Attempt): { decision: string; rules: string[] } {
  if (now.tool === "a.z") return { decision: "deny", rules: [] };
  const matches = (tool: string, pattern?: string): boolean => pattern === undefined || (pattern.endsWith("*") ? tool.startsWith(pattern.slice(0, -1)) : tool === pattern);
  const count = (withinMs: number, pattern?: string): number => history.filter((h) => h.ms >= now.ms - withinMs && matches(h.tool, pattern)).length + (matches(now.tool, pattern) ? 1 : 0);
  const deny = [count(10_000) > 5 ? "rate" : "", count(5_000, "a.x") >= 3 ? "a-rate" : "", count(3_000, "a.*") >= 4 ? "family" : ""].filter(Boolean);
  if (deny.length > 0) return { decision: "deny", rules: deny };
  return count(20_000) < 8 ? { decision: "allow", rules: ["ok"] } : { decision: "deny", rules: [] };
}

const attempts = fc.array(fc.record({ step: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 3_000 }) }, { weight: 1, arbitrary: fc.integer({ min: -30_000, max: 30_000 }) }), tool: fc.constantFrom<Attempt["tool"]>("a.x", "b.y", "a.z") }), { minLength: 1, maxLength: 40 });

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
