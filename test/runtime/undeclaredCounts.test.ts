import { describe, expect, it } from "vitest";
import { loadBundle } from "../../src/bundle/loadBundle.js";
import { createBundle } from "../../src/bundle/writeBundle.js";
import { compile, compileSources } from "../../src/compile/compile.js";
import type { Engine } from "../../src/runtime/engine.js";
import { explain } from "../../src/runtime/explain.js";
import type { IrExpr } from "../../src/runtime/ir.js";
import type { CompiledPolicy } from "../../src/runtime/policy.js";
import { UNDECLARED_TOOL_CHARS, UNDECLARED_UNNAMED } from "../../src/runtime/session.js";

/**
 * `session.count(PATTERN, within D)` counts every attempt whose tool name matches the pattern,
 * declared or not (contract §4; README: "an unknown tool is an attempt its session counts"), so a
 * per-family limit with `revoke` trips on a flood of calls to a tool of the family the policy
 * does not declare yet.
 */

const policyWith = (pattern: string): string => `tool kb.search { args { query: string } }
tool kb.index { args { path: string } }
policy limits {
  allow kb.*
  @name("kb-rate") deny kb.* when session.count(${pattern}, within 1m) > 3 reason "more than 3 kb calls a minute" revoke
  @name("all-rate") deny kb.* when session.count(within 1m) > 3
}
`;
const T0 = Date.parse("2026-11-30T09:00:00Z");
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const call = (tool: string, seconds: number, session = "s"): Record<string, unknown> => ({ session, tool, time: at(seconds), args: tool === "kb.search" ? { query: "x" } : { q: "x" } });
const engineFor = (pattern: string): Engine => compile([{ path: "p.policy", text: policyWith(pattern) }], { clock: () => T0 });

/** `kb-rate`'s count as explained (the interpreter) and as decided (the generated code). */
function countAfter(engine: Engine, tools: readonly string[]): { explained: string | undefined; decided: readonly string[]; revoked: boolean } {
  tools.forEach((tool, i) => engine.decide(call(tool, i)));
  const request = call("kb.search", tools.length);
  const evidence = explain(engine, request).rules.find((rule) => rule.id === "kb-rate")?.clauses[0]?.evidence?.[0];
  const explained = evidence?.kind === "comparison" ? `(${evidence.left.shown} > ${evidence.right.shown})` : undefined;
  const decision = engine.decide(request);
  return { explained, decided: decision.rules, revoked: decision.revoked };
}

describe("session.count(PATTERN) and undeclared tools", () => {
  it("counts attempts at undeclared tools whose names match the pattern, as a tool pattern and as a string glob", () => {
    for (const pattern of ["kb.*", '"kb*"']) {
      const counted = countAfter(engineFor(pattern), ["kb.export", "kb.export", "kb.export"]);
      expect(counted.decided, pattern).toEqual(["kb-rate", "all-rate"]);
      expect(counted.revoked, pattern).toBe(true);
      expect(counted.explained, pattern).toContain("(4 > 3)");
    }
  });

  it("does not count undeclared tools the pattern does not match", () => {
    const counted = countAfter(engineFor("kb.*"), ["crm.export", "kbx", "crm.export"]);
    expect(counted.decided).toEqual(["all-rate"]);
    expect(counted.revoked).toBe(false);
    expect(counted.explained).toContain("(1 > 3)");
  });

  it("keeps at most UNDECLARED_TOOL_CHARS characters of names per session; past them a pattern's count reaching back fails closed", () => {
    // (Without `revoke`, to show the count exact again once the window has moved on.)
    const engine = compile([{ path: "p.policy", text: policyWith("kb.*").replace(" revoke", "") }], { clock: () => T0 });
    const name = (i: number): string => `other.${String(i).padStart(94, "0")}`; // 100 characters each
    const names = Array.from({ length: UNDECLARED_TOOL_CHARS / 100 + 1 }, (_, i) => name(i));
    names.forEach((tool, i) => engine.decide({ ...call(tool, 0), time: new Date(T0 + i).toISOString() }));
    expect(explain(engine, call("kb.search", 1)).rules.find((rule) => rule.id === "kb-rate")?.matched).toBe("error");
    const failed = engine.decide(call("kb.search", 1));
    expect(failed).toMatchObject({ decision: "deny", rules: ["kb-rate", "all-rate"] });
    expect(failed.errors).toEqual([expect.stringContaining(UNDECLARED_UNNAMED)]);
    // Once the window no longer reaches back to the unnamed attempt, the count is exact again.
    expect(engine.decide(call("kb.search", 70))).toMatchObject({ decision: "allow", errors: [] });
    // Another session keeps names of its own.
    expect(engine.decide(call("kb.search", 1, "other"))).toMatchObject({ decision: "allow", errors: [] });
  });

  it("one name longer than UNDECLARED_TOOL_CHARS is not kept either: an agent cannot hide an attempt from a pattern's count behind a long name", () => {
    const engine = engineFor("kb.*");
    const long = `kb.${"x".repeat(UNDECLARED_TOOL_CHARS)}`;
    expect(engine.decide(call(long, 0)).decision).toBe("deny");
    const failed = engine.decide(call("kb.search", 10));
    // The undeclared attempt could have been a kb.* one: the rate limit fails closed (and revokes).
    expect(failed).toMatchObject({ decision: "deny", rules: ["kb-rate"], revoked: true });
    expect(failed.errors).toEqual([`kb-rate: ${UNDECLARED_UNNAMED}`]);
    // A name that fits is kept and counted exactly.
    const short = engineFor("kb.*");
    expect(short.decide(call("kb.export", 0)).decision).toBe("deny");
    expect(short.decide(call("kb.search", 10))).toMatchObject({ decision: "allow", errors: [] });
  });

  it("a bundle built before the pattern was kept still loads and decides, counting only declared tools as it did", () => {
    const compiled = compileSources([{ path: "p.policy", text: policyWith("kb.*") }]).policy!;
    const withoutPattern = (e: IrExpr | null): IrExpr | null => (e === null ? null : (JSON.parse(JSON.stringify(e), (key, value: unknown) => (key === "pattern" ? undefined : value)) as IrExpr));
    // (Then the pattern, and what settles the comparison (passed since), were not passed.)
    const settledBy = [', "kb.*", 3)', ', "kb.*", 4 - (["kb.search","kb.index"].includes(c.tool) ? 1 : 0))'];
    for (const passed of settledBy) expect(compiled.code).toContain(passed);
    const old: CompiledPolicy = { ...compiled, rules: compiled.rules.map((rule) => ({ ...rule, ir: withoutPattern(rule.ir) })), code: settledBy.reduce((code, passed) => code.replaceAll(passed, ")"), compiled.code) };
    const engine = loadBundle(JSON.parse(JSON.stringify(createBundle(old, [{ path: "p.policy", text: policyWith("kb.*") }]))), { clock: () => T0 });
    const counted = countAfter(engine, ["kb.export", "kb.export", "kb.export"]);
    expect(counted.decided).toEqual(["all-rate"]);
    expect(counted.explained).toContain("(1 > 3)");
  });

  it("after a reload, attempts at a tool the new policy no longer declares still count by name", () => {
    const before = compile([{ path: "p.policy", text: policyWith("kb.*") }], { clock: () => T0 });
    ["kb.index", "kb.index", "kb.index"].forEach((tool, i) => before.decide({ ...call(tool, i), args: { path: "x" } }));
    const withoutIndex = policyWith("kb.*").replace("tool kb.index { args { path: string } }\n", "");
    const after = compile([{ path: "p.policy", text: withoutIndex }], { clock: () => T0, sessionsFrom: before });
    expect(after.decide(call("kb.search", 3))).toMatchObject({ decision: "deny", rules: ["kb-rate", "all-rate"], revoked: true });
  });
});
