import { describe, expect, it } from "vitest";
import { engineWith, request } from "../runtime/fixtures.js";

/** Compiler behaviour a mutation audit found unpinned (the mutant is named in each test's comment). */
describe("mutation gaps: compiler", () => {
  // Mutant: compileProgram rounds a grant's lifetime up (Math.ceil) instead of down.
  it("a grant's ttlSeconds is its lifetime in whole seconds, rounded down (never longer than written)", () => {
    const engine = engineWith('  allow kb.search grant "kb:read" for 1500ms');
    expect(engine.decide(request()).grants).toEqual([{ scope: "kb:read", ttlSeconds: 1 }]);
  });

  // Mutant: lowerConditions turns session.count(*, …) into a count of every declared tool by name,
  // which does not saturate like session.count(within …) once the window overflows.
  it("session.count(*, within D) is session.count(within D): past a full window it still decides, as literals allow", () => {
    const engine = engineWith('  allow kb.search\n  @name("warm") allow crm.lookup when session.count(*, within 1d) > 5');
    const at = (i: number): string => new Date(Date.UTC(2026, 10, 29) + i).toISOString();
    for (let i = 0; i < 10_050; i++) engine.decide(request({ time: at(i) }));
    expect(engine.decide(request({ time: at(10_050), tool: "crm.lookup", args: { customer_id: "42" } }))).toMatchObject({ decision: "allow", rules: ["warm"], errors: [] });
  });
});
