import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileSources } from "../../src/index.js";
import { Engine } from "../../src/runtime/engine.js";
import type { CompiledPolicy } from "../../src/runtime/policy.js";
import { explain } from "../../src/runtime/explain.js";
import { carryOver } from "../../src/runtime/session.js";

/**
 * Fuzzer for EngineOptions.sessionsFrom. Policies read sessions only through
 * session.count (no revoke, no session.tools/labels/called/denials), so a session's state does
 * not depend on the decisions: after a reload to P2 (sessionsFrom), every decision must equal
 * that of an engine of P2 that saw the whole history from the start. P2 may declare the tools in
 * another order, drop one, or change the limits (literal or not).
 */
const T0 = Date.parse("2026-11-29T10:00:00Z");
const TOOLS = ["a.x", "b.y", "c.z"];
const toolDecl = (name: string): string => `tool ${name} { risk low args { n: int } }`;

const countExpr = fc.tuple(fc.constantFrom("", "", "", "", "a.x, ", "b.y, ", "a.x, c.z, ", "*, "), fc.constantFrom("1m"));
const limit = fc.oneof(fc.integer({ min: 0, max: 12 }).map(String), fc.constant("args.n"));
const ruleArb = fc.tuple(fc.constantFrom("deny", "ask", "allow"), fc.constantFrom("*", "a.x", "b.y"), countExpr, fc.constantFrom(">", ">=", "<", "=="), limit).map(
  ([effect, tool, [tools, within], op, n]) => `  ${effect} ${tool} when session.count(${tools}within ${within}) ${op} ${n}`,
);
const policyArb = fc.record({
  rules: fc.array(ruleArb, { minLength: 1, maxLength: 4 }),
  order: fc.constantFrom([0, 1, 2], [2, 1, 0], [1, 0, 2]),
  dropC: fc.boolean(),
});

function text(p: { rules: string[]; order: readonly number[]; dropC: boolean }, rulesFrom?: string[]): string {
  const tools = p.order.map((i) => TOOLS[i]!).filter((t) => !(p.dropC && t === "c.z"));
  const rules = (rulesFrom ?? p.rules).filter((r) => !(p.dropC && r.includes("c.z")));
  return `${tools.map(toolDecl).join("\n")}\npolicy p {\n  allow *\n${rules.join("\n")}\n}\n`;
}

const cache = new Map<string, CompiledPolicy | null>();
function compiled(t: string): CompiledPolicy | null {
  if (!cache.has(t)) cache.set(t, compileSources([{ path: "p.policy", text: t }]).policy ?? null);
  return cache.get(t)!;
}

const step = fc.record({ tool: fc.constantFrom("a.x", "b.y", "a.x"), gap: fc.constantFrom(0, 100, 300, 1000), n: fc.integer({ min: 0, max: 12 }), back: fc.constantFrom(0, 0, 0, 3000) });

describe("review: sessionsFrom keeps decisions as a full-history engine of the new policy", () => {
  it("random limits, tool orders and reload points", () => {
    let tried = 0;
    fc.assert(
      fc.property(policyArb, policyArb, fc.array(step, { minLength: 30, maxLength: 120, size: "max" }), fc.double({ min: 0, max: 1, noNaN: true }), (p1, p2, steps, at) => {
        const t1 = text({ ...p1, dropC: false });
        const t2 = text(p2);
        const c1 = compiled(t1);
        const c2 = compiled(t2);
        if (!c1 || !c2) return;
        if (typeof carryOver(c1.session, Object.keys(c1.schema.tools), c2.session) === "string") return; // the kept state cannot answer P2: sessions end (documented)
        tried++;
        const clock = (): number => T0;
        const old = new Engine(c1, { clock });
        const reference = new Engine(c2, { clock });
        let ms = 0;
        const cut = Math.floor(at * steps.length);
        let current = old;
        steps.forEach((s, i) => {
          ms += s.gap;
          const request = { session: "s", tool: s.tool, args: { n: s.n }, time: new Date(T0 + ms - s.back).toISOString() };
          if (i === cut) current = new Engine(c2, { clock, sessionsFrom: old });
          const expected = reference.decide(request);
          const ex = i >= cut ? explain(current, request) : undefined;
          const got = current.decide(request);
          if (i >= cut) {
            const where = `P1:\n${t1}\nP2:\n${t2}\nstep ${i} (reload at ${cut}): ${JSON.stringify(request)}\nreloaded: ${JSON.stringify(got)}\nfull history: ${JSON.stringify(expected)}`;
            const rank = { allow: 0, ask: 1, deny: 2 } as const; if (got.errors.length > 0 && rank[got.decision] >= rank[expected.decision]) return; // failed closed
            expect({ decision: got.decision, rules: [...got.rules], errors: got.errors.length }, where).toEqual({ decision: expected.decision, rules: [...expected.rules], errors: expected.errors.length });
            expect(ex!.note, where).toBeNull();
          }
        });
      }),
      { numRuns: Number(process.env.RUNS ?? 500) },
    );
    console.log("compared", tried);
  });

  it("session.called: a reload that declares new tools and reorders rules and declarations keeps sessions, deciding as the new policy with the whole history", () => {
    const OLD_TOOLS = ["kb.search", "kb.fetch", "crm.lookup"];
    const NEW_TOOLS = ["kb.list", "crm.note"];
    const calledRule = fc.tuple(fc.constantFrom("deny", "ask"), fc.constantFrom("*", "kb.fetch", "crm.*"), fc.constantFrom("not ", ""), fc.constantFrom("kb.*", "kb.search", "crm.*", "*", "kb.list"), fc.constantFrom("", ", within 1m")).map(
      ([effect, tool, not, pattern, within]) => `${effect} ${tool} when ${not}session.called(${pattern}${within})`,
    );
    // Named, so that a rule keeps its id wherever it moves.
    const named = (rules: readonly string[]): string[] => rules.map((rule, i) => `  @name("r${i}") ${rule}`);
    const source = (tools: readonly string[], rules: readonly string[]): string => `${tools.map((t) => `tool ${t} { risk low args { n: int } }`).join("\n")}\npolicy p {\n  allow *\n${rules.join("\n")}\n}\n`;
    const steps = fc.array(fc.record({ tool: fc.nat(4), gap: fc.constantFrom(0, 10_000, 40_000), back: fc.constantFrom(0, 0, 0, 20_000) }), { minLength: 20, maxLength: 80 });
    let tried = 0;
    fc.assert(
      fc.property(fc.array(calledRule, { minLength: 1, maxLength: 4 }).map(named), fc.shuffledSubarray([...OLD_TOOLS, ...NEW_TOOLS], { minLength: 5 }), fc.boolean(), steps, fc.double({ min: 0, max: 1, noNaN: true }), (rules, newOrder, reverseRules, history, at) => {
        const c1 = compiled(source(OLD_TOOLS, rules));
        const c2 = compiled(source(newOrder, reverseRules ? [...rules].reverse() : rules));
        if (!c1 || !c2) return;
        tried++;
        const clock = (): number => T0;
        const old = new Engine(c1, { clock });
        const reference = new Engine(c2, { clock });
        const cut = Math.floor(at * history.length);
        let current = old;
        let ms = 0;
        history.forEach((step, i) => {
          ms += step.gap;
          // Before the reload, only the old policy's tools: a tool it did not declare would be denied there, allowed by the reference.
          const tool = i < cut ? OLD_TOOLS[step.tool % 3]! : [...OLD_TOOLS, ...NEW_TOOLS][step.tool]!;
          const request = { session: "s", tool, args: { n: 1 }, time: new Date(T0 + ms - step.back).toISOString() };
          if (i === cut) current = new Engine(c2, { clock, sessionsFrom: old });
          const expected = reference.decide(request);
          const got = current.decide(request);
          const where = `P1:\n${source(OLD_TOOLS, rules)}\nstep ${i} (reload at ${cut}): ${JSON.stringify(request)}\nreloaded: ${JSON.stringify(got)}\nfull history: ${JSON.stringify(expected)}`;
          const rank = { allow: 0, ask: 1, deny: 2 } as const;
          if (got.errors.length > 0 && rank[got.decision] >= rank[expected.decision]) return; // failed closed
          // (Matched rules are listed in source order, which the reload may change.)
          expect({ decision: got.decision, rules: [...got.rules].sort() }, where).toEqual({ decision: expected.decision, rules: [...expected.rules].sort() });
        });
      }),
      { numRuns: Number(process.env.RUNS ?? 300) },
    );
    expect(tried).toBeGreaterThan(100);
  });
});
