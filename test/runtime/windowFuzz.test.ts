import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileSources } from "../../src/index.js";
import { Engine } from "../../src/runtime/engine.js";
import type { CompiledPolicy } from "../../src/runtime/policy.js";

/** Fuzzer: the reduced window (windowEntriesFor) decides as a window that keeps everything, or fails closed. */
const T0 = Date.parse("2026-11-29T10:00:00Z");
const rule = fc.tuple(fc.constantFrom("deny", "ask", "allow"), fc.constantFrom("2s", "10s", "1m"), fc.constantFrom(">", ">=", "<", "<=", "==", "!="), fc.oneof(fc.integer({ min: -1, max: 8 }).map(String), fc.constantFrom("2.5", "0.5"))).map(
  ([effect, within, op, n]) => `  ${effect} * when session.count(within ${within}) ${op} ${n}`,
);
const policy = fc.array(rule, { minLength: 1, maxLength: 3 }).map((rules) => `tool a.x { risk low args { n: int } }\ntool b.y { risk low args { n: int } }\npolicy p {\n  allow a.x\n${rules.join("\n")}\n}\n`);
const cache = new Map<string, CompiledPolicy | null>();
const compiled = (t: string): CompiledPolicy | null => {
  if (!cache.has(t)) cache.set(t, compileSources([{ path: "p.policy", text: t }]).policy ?? null);
  return cache.get(t)!;
};
const rank = { allow: 0, ask: 1, deny: 2 } as const;

describe("review: reduced windows", () => {
  it("decide as an unbounded window, or fail closed", () => {
    fc.assert(
      fc.property(policy, fc.array(fc.record({ tool: fc.constantFrom("a.x", "b.y"), gap: fc.constantFrom(0, 50, 400, 1500, 7000), back: fc.constantFrom(0, 0, 0, 300, 1200, 9000, 70000), session: fc.constantFrom("s", "s", "t") }), { minLength: 5, maxLength: 80, size: "max" }), (text, steps) => {
        const p = compiled(text);
        if (!p) return;
        const small = new Engine(p, { clock: () => T0 });
        const parsed = [...text.matchAll(/(deny|ask|allow) \* when session.count\(within (\d+)(s|m)\) (\S+) (\S+)/g)].map((m) => ({ effect: m[1]!, ms: Number(m[2]) * (m[3] === "m" ? 60_000 : 1000), op: m[4]!, n: Number(m[5]) }));
        const history = new Map<string, number[]>();
        const truth = (session: string, tool: string, t: number): string => {
          const seen = history.get(session) ?? [];
          const hits = parsed.filter((r) => {
            const c = seen.filter((x) => x >= t - r.ms).length + 1;
            return r.op === ">" ? c > r.n : r.op === ">=" ? c >= r.n : r.op === "<" ? c < r.n : r.op === "<=" ? c <= r.n : r.op === "==" ? c === r.n : c !== r.n;
          });
          if (hits.some((h) => h.effect === "deny")) return "deny";
          if (hits.some((h) => h.effect === "ask")) return "ask";
          if (tool === "a.x" || hits.some((h) => h.effect === "allow")) return "allow";
          return "deny";
        };
        const big = new Engine(p, { clock: () => T0, maxWindowEntries: 1_000_000 });
        let ms = 0;
        for (const s of steps) {
          ms += s.gap;
          const r = { session: s.session, tool: s.tool, args: { n: 1 }, time: new Date(T0 + ms - s.back).toISOString() };
          const a = small.decide(r);
          const b = big.decide(r);
          const t = T0 + ms - s.back;
          const want = truth(s.session, s.tool, t);
          history.set(s.session, [...(history.get(s.session) ?? []), t]);
          const where = `${text}\n${JSON.stringify(r)}\nsmall ${JSON.stringify(a)}\nbig ${JSON.stringify(b)}`;
          for (const [name, d] of [["small", a], ["big", b]] as const) {
            if (d.errors.length > 0) expect(d.decision !== "allow" || want === "allow", `${name} vs truth ${want}\n${where}`).toBe(true);
            else expect(d.decision, `${name} vs truth ${want}\n${where}`).toBe(want);
          }
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 1000) },
    );
  });
});
