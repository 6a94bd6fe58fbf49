import { handEdited } from "../helpers.js";
import fc from "fast-check";
import { describe, expect, it, vi } from "vitest";
import { compileSources } from "../../src/index.js";
import { Engine } from "../../src/runtime/engine.js";
import type { CompiledPolicy } from "../../src/runtime/policy.js";
import { explain, type Explanation } from "../../src/runtime/explain.js";

/**
 * Fuzzer: random policies of nested quantifiers over lower(), url.host and email.domain
 * (inner/outer variables, faults, repeated inputs), and random requests; `decide` must answer
 * what `explain` predicts (explain first: it changes nothing).
 */
const DECLS = `tool mail { risk low args { to: list<string>, cc: list<string>, urls: list<string>, s: string } }
context { blocked: list<string>, hosts: list<string> }
`;
const LISTS = ["args.to", "args.cc", "args.urls", "context.blocked", "context.hosts"];

function predict(engine: Engine, explanation: Explanation): { decision: string; rules: string[]; errorRules: string[] } {
  const by = (effect: string, accept: (m: boolean | "error") => boolean): string[] => explanation.rules.filter((r) => r.effect === effect && accept(r.matched)).map((r) => r.id);
  const failed = (effect: string): string[] => by(effect, (m) => m === "error");
  const deny = by("deny", (m) => m !== false);
  const ask = by("ask", (m) => m !== false);
  const allow = by("allow", (m) => m === true);
  const errorRules = [...failed("deny"), ...(deny.length === 0 ? failed("ask") : []), ...(deny.length === 0 && ask.length === 0 ? failed("allow") : [])];
  if (deny.length > 0) return { decision: "deny", rules: deny, errorRules };
  if (ask.length > 0) return { decision: "ask", rules: ask, errorRules };
  if (allow.length > 0) return { decision: "allow", rules: allow, errorRules };
  return { decision: "deny", rules: [], errorRules };
}

const str = (vars: string[]): fc.Arbitrary<string> => {
  const base = fc.constantFrom(...vars, "args.s");
  return fc.oneof(
    base.map((v) => `email.domain(${v})`),
    base.map((v) => `url.host(${v})`),
    base.map((v) => `${v}.lower()`),
    base.map((v) => `email.domain(${v}).lower()`),
    base.map((v) => `url.host(${v}.lower())`),
    base,
    fc.constantFrom('"acme.com"', '"evil.example"', '""'),
  );
};

const boolOf = (vars: string[], depth: number): fc.Arbitrary<string> => {
  const leaf = fc.oneof(
    fc.tuple(str(vars), fc.constantFrom("==", "!="), str(vars)).map(([a, op, b]) => `${a} ${op} ${b}`),
    fc.tuple(str(vars), fc.constantFrom(...LISTS)).map(([a, l]) => `${a} in ${l}`),
    str(vars).map((a) => `${a}.endsWith(".com")`),
  );
  if (depth >= 3) return leaf;
  const name = `x${depth}`;
  return fc.oneof(
    { weight: 2, arbitrary: leaf },
    { weight: 3, arbitrary: fc.tuple(fc.constantFrom("any", "all"), fc.constantFrom(...LISTS), boolOf([...vars, name], depth + 1)).map(([q, l, b]) => `${q}(${name} in ${l}: ${b})`) },
    { weight: 1, arbitrary: fc.tuple(boolOf(vars, depth + 1), fc.constantFrom("and", "or"), boolOf(vars, depth + 1)).map(([a, op, b]) => `(${a} ${op} ${b})`) },
    { weight: 1, arbitrary: boolOf(vars, depth + 1).map((b) => `not (${b})`) },
  );
};

const rule = fc.tuple(fc.constantFrom("allow", "deny", "ask"), boolOf([], 0)).map(([effect, cond]) => `  ${effect} mail when ${cond}`);
const policyText = fc.array(rule, { minLength: 1, maxLength: 5 }).map((rules) => `policy m {\n${rules.join("\n")}\n}\n`);

const VALUES = ["bob@acme.com", "BOB@ACME.COM", "eve@evil.example", "a@b.com, c@acme.com", "x@bücher.de", "x@ｅｖｉｌ。com", "acme.com", "ACME.com", "evil.example", "https://acme.com/x", "HTTPS://EVIL.EXAMPLE/", "https://acme.com\\@evil.example", "https://u:p@acme.com/", "not a url", "", "@", "x@", "x@acme.com."];
const list = fc.array(fc.constantFrom(...VALUES), { maxLength: 5 });
const request = fc.record({ to: list, cc: list, urls: list, s: fc.constantFrom(...VALUES), blocked: list, hosts: list }).map((r) => ({
  session: "s",
  tool: "mail",
  args: { to: r.to, cc: r.cc, urls: r.urls, s: r.s },
  context: { blocked: r.blocked, hosts: r.hosts },
}));

const cache = new Map<string, CompiledPolicy | null>();
function compiled(text: string): CompiledPolicy | null {
  if (!cache.has(text)) {
    const { policy } = compileSources([{ path: "d.policy", text: DECLS }, { path: "r.policy", text }]);
    cache.set(text, policy ?? null);
  }
  return cache.get(text)!;
}

describe("review: decide equals explain with memoized calls", () => {
  it("random policies and requests", () => {
    let compiledCount = 0;
    fc.assert(
      fc.property(policyText, fc.array(request, { minLength: 1, maxLength: 6 }), (text, requests) => {
        const policy = compiled(text);
        if (policy === null) return;
        compiledCount++;
        const engine = new Engine(policy);
        const plainCode = policy.code.replace(/rt\.(lowerAt|urlHostAt|emailDomainAt)\(K\d+,/g, "rt.$1(rt.callSite(),");
        const plain = new Engine(handEdited({ ...policy, code: plainCode }));
        for (const req of requests) {
          const reference = plain.decide(structuredClone(req));
          const ex = explain(engine, req);
          const d = engine.decide(req);
          const where = `${text}\n${JSON.stringify(req)}\n${JSON.stringify(d)}\n${JSON.stringify(ex.rules.map((r) => [r.id, r.matched]))} ${ex.note}`;
          expect(ex.note, where).toBeNull();
          const p = predict(engine, ex);
          expect(d.decision, where).toBe(p.decision);
          expect({ ...d }, where).toEqual({ ...reference });
          expect([...d.rules], where).toEqual(p.rules);
          expect(d.errors.map((e) => e.slice(0, e.indexOf(": "))), where).toEqual(p.errorRules);
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 400) },
    );
    console.log("compiled", compiledCount, "distinct", cache.size);
    expect(compiledCount).toBeGreaterThan(50);
  });
});

describe("url.host and email.domain outside quantifiers", () => {
  // 100 rules asking for the host of the same URL and 100 for the domain of the same address.
  let text = "policy many {\n";
  for (let k = 0; k < 100; k++) text += `  deny mail when url.host(args.s) == "h${k}.example"\n  ask mail when email.domain(args.s) == "d${k}.example" reason "d${k}"\n`;
  const policy = compiled(`${text}  allow mail when args.s != ""\n}\n`)!;
  const mail = (s: string, session = "s"): unknown => ({ session, tool: "mail", args: { to: [], cc: [], urls: [], s }, context: { blocked: [], hosts: [] } });

  it("decide equals explain for 200 rules over one input, each rule noting the fault of an ambiguous one", () => {
    const inputs = ["https://h57.example/x", "HTTPS://H3.EXAMPLE", "x@d42.example", "x@D99.EXAMPLE", "https://acme.com\\@h1.example", "a@b.com, c@d2.example", "https://ok.example", "not a url", ""];
    for (const input of inputs) {
      const engine = new Engine(policy);
      const ex = explain(engine, mail(input));
      const d = engine.decide(mail(input));
      const p = predict(engine, ex);
      expect({ decision: d.decision, rules: [...d.rules], errorRules: d.errors.map((e) => e.slice(0, e.indexOf(": "))) }, input).toEqual(p);
    }
    const ambiguous = new Engine(policy).decide(mail("https://acme.com\\@h1.example"));
    expect(ambiguous.decision).toBe("deny");
    expect(ambiguous.errors).toHaveLength(100);
    expect(ambiguous.rules).toHaveLength(100);
  });

  it("works out each input once per decision, whichever rules ask", () => {
    const engine = new Engine(policy);
    const Url = globalThis.URL;
    let parsed = 0;
    vi.stubGlobal("URL", class extends Url { constructor(...args: ConstructorParameters<typeof URL>) { super(...args); parsed++; } });
    try {
      expect(engine.decide(mail("https://ok.example/a")).decision).toBe("allow");
      expect(parsed).toBe(1);
      // A new decision works it out again: the memory is the decision's.
      expect(engine.decide(mail("https://ok.example/a", "t")).decision).toBe("allow");
      expect(parsed).toBe(2);
    } finally {
      vi.unstubAllGlobals();
    }
  });
});
