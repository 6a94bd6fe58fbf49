import { handEdited } from "../helpers.js";
import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { analyzeSessionUse } from "../../src/compile/analyzeSessionUse.js";
import { compileSources } from "../../src/compile/compile.js";
import { MAX_DISPATCHER_SOURCE } from "../../src/compile/emitJavaScript.js";
import { indexRulesByTool } from "../../src/compile/indexRulesByTool.js";
import { Engine } from "../../src/runtime/engine.js";
import { compileGlob, globMatch, matchCompiledGlob } from "../../src/runtime/glob.js";
import type { CompiledPolicy } from "../../src/runtime/policy.js";
import { engineWith, likeReference as reference, policyWith, request } from "../runtime/fixtures.js";

/**
 * The compiler's passes (src/compile/compileProgram.ts): per-tool dispatch, data-safe code
 * generation, linear-time globs, and session-use analysis.
 */

const TOOLS = 40;
const RULES = 1000;

/** 40 tools and 1,000 rules: rule i targets tool i % 40 and matches only when `args.n == i`; one `deny *` at the end. */
function bigPolicy(): CompiledPolicy {
  let text = "";
  for (let t = 0; t < TOOLS; t++) text += `tool svc${t}.op { args { n: int } }\n`;
  text += "policy big {\n";
  for (let i = 0; i < RULES; i++) text += `  ${i % 3 === 0 ? "deny" : i % 3 === 1 ? "ask" : "allow"} svc${i % TOOLS}.op when args.n == ${i}\n`;
  text += '  @name("stop") deny * when args.n < 0\n}\n';
  const { policy, diagnostics } = compileSources([{ path: "big.policy", text }]);
  if (!policy) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return policy;
}

declare global {
  // eslint-disable-next-line no-var
  var __policycCalls: number[] | undefined;
}

afterEach(() => {
  delete globalThis.__policycCalls;
});

describe("dispatch by tool", () => {
  const policy = bigPolicy();

  it("emits one function per rule (r<N>), one per tool (t<N>) with its request check (q<N>), and a map from tool name to them", () => {
    const ruleFunctions = policy.code.match(/^function r\d+\(c\)/gm) ?? [];
    const toolFunctions = policy.code.match(/^function t\d+\(c\)/gm) ?? [];
    expect(ruleFunctions).toHaveLength(RULES + 1);
    expect(toolFunctions).toHaveLength(TOOLS);
    for (let i = 0; i <= RULES; i++) expect(policy.code).toContain(`function r${i}(c)`);
    for (let t = 0; t < TOOLS; t++) expect(policy.code).toContain(`[${JSON.stringify(`svc${t}.op`)}, { decide: t${t}, fits: q${t}, maskRules: [`);
    // No function grows with the rule count: the largest tool function calls its own rules only.
    const largest = Math.max(...policy.code.split(/\n(?=function )/).map((f) => f.length));
    // A tool's dispatcher inlines only that tool's ~25 conditions: far below the ~120 KiB at
    // which V8 stops optimizing a function, whatever the size of the set.
    expect(largest).toBeLessThan(16_000);
  });

  it("reports matches as a bit mask up to 30 rules per tool and as rule indices beyond; both decide alike", () => {
    // One deny rule, then `allows` allow rules where rule a<k> matches when args.n >= k.
    const policyFor = (allows: number): CompiledPolicy => {
      let text = 'tool kb.search { args { n: int } }\npolicy p {\n  @name("d") deny kb.search when args.n == 99\n';
      for (let k = 0; k < allows; k++) text += `  @name("a${k}") allow kb.search when args.n >= ${k}\n`;
      const { policy } = compileSources([{ path: "p.policy", text: `${text}}\n` }]);
      return policy!;
    };
    for (const [allows, masked] of [
      [29, true],
      [30, false],
    ] as const) {
      const policy = policyFor(allows);
      expect(policy.code.includes("maskRules"), `${allows + 1} rules`).toBe(masked);
      const engine = new Engine(policy);
      const decide = (n: number, session: string) => engine.decide({ session, tool: "kb.search", args: { n } });
      for (const n of [-1, 0, 5, 28, 29, 99]) {
        const decision = decide(n, `s${n}`);
        const expected = n === 99 ? ["d"] : Array.from({ length: Math.min(n + 1, allows) }, (_, k) => `a${k}`).filter(() => n >= 0);
        expect(decision.rules, `${allows + 1} rules, n = ${n}`).toEqual(expected);
        expect(decision.decision).toBe(n === 99 ? "deny" : n < 0 ? "deny" : "allow");
        // Decisions without errors are shared: the same combination gives the same frozen object.
        if (n >= 0) expect(decide(n, `t${n}`)).toBe(decision);
      }
    }
  });

  it("the plan gives each tool exactly the rules that target it, by effect, in source order", () => {
    const plan = indexRulesByTool(policy.rules, Object.keys(policy.schema.tools));
    expect(plan.tools).toHaveLength(TOOLS);
    for (const entry of plan.tools) {
      const t = Number(/svc(\d+)\.op/.exec(entry.tool)![1]);
      const mine = (effect: string): number[] => policy.rules.flatMap((r, i) => (r.effect === effect && r.tools.includes(entry.tool) ? [i] : []));
      expect(entry.deny).toEqual(mine("deny"));
      expect(entry.ask).toEqual(mine("ask"));
      expect(entry.allow).toEqual(mine("allow"));
      expect([...entry.deny, ...entry.ask, ...entry.allow].every((i) => i === RULES || i % TOOLS === t)).toBe(true);
      expect(entry.deny).toContain(RULES); // `deny *` is in every tool's list
    }
  });

  it("decide runs only the rules of the requested tool", () => {
    // Instrument each rule function to record that it ran.
    // The fast dispatchers (t<N>) inline conditions; route through the rule-by-rule ones (s<N>,
    // the same plan) so each rule's function can record that it ran.
    const code = policy.code
      .replace(/^function t(\d+)\(c\) \{/gm, "function t$1(c) { return s$1(c);")
      .replace(/^function r(\d+)\(c\) \{/gm, "function r$1(c) { globalThis.__policycCalls.push($1);");
    const engine = new Engine(handEdited({ ...policy, code }));
    const plan = indexRulesByTool(policy.rules, Object.keys(policy.schema.tools));
    for (const t of [0, 7, TOOLS - 1]) {
      const entry = plan.tools.find((e) => e.tool === `svc${t}.op`)!;
      // Nothing matches: every rule of the tool runs (deny, then ask, then allow groups), no other.
      globalThis.__policycCalls = [];
      expect(engine.decide({ session: `none${t}`, tool: `svc${t}.op`, args: { n: 5000 } }).decision).toBe("deny");
      expect(globalThis.__policycCalls).toEqual([...entry.deny, ...entry.ask, ...entry.allow]);
      // A deny matched: the ask and allow groups are skipped.
      const denyIndex = entry.deny[0]!;
      globalThis.__policycCalls = [];
      expect(engine.decide({ session: `deny${t}`, tool: `svc${t}.op`, args: { n: denyIndex } })).toMatchObject({ decision: "deny", rules: [`big/${denyIndex + 1}`] });
      expect(globalThis.__policycCalls).toEqual(entry.deny);
      // An allow rule of this tool.
      const allowIndex = entry.allow[0]!;
      globalThis.__policycCalls = [];
      expect(engine.decide({ session: `allow${t}`, tool: `svc${t}.op`, args: { n: allowIndex } })).toMatchObject({ decision: "allow", rules: [`big/${allowIndex + 1}`] });
      expect(new Set(globalThis.__policycCalls)).toEqual(new Set([...entry.deny, ...entry.ask, ...entry.allow]));
    }
  });

  it("decides the 1,000-rule set correctly for every rule", () => {
    const engine = new Engine(policy);
    for (let i = 0; i < RULES; i += 37) {
      const effect = i % 3 === 0 ? "deny" : i % 3 === 1 ? "ask" : "allow";
      expect(engine.decide({ session: `s${i}`, tool: `svc${i % TOOLS}.op`, args: { n: i } })).toMatchObject({ decision: effect, rules: [`big/${i + 1}`] });
    }
    expect(engine.decide({ session: "neg", tool: "svc3.op", args: { n: -1 } })).toMatchObject({ decision: "deny", rules: ["stop"] });
  });
});

describe("a tool with many rules", () => {
  const MANY = 1500;
  const EFFECTS = ["deny", "ask", "allow"];
  /**
   * `kb.search` with 1,500 rules: rule i has effect EFFECTS[i % 3] and matches when `args.n == i`;
   * every tenth is three-valued (reads the user), and every fiftieth from 4 on also matches
   * when `args.q` names its effect, so that rules in every chunk match together. Then a
   * `deny *`, and `kb.other` with one rule.
   */
  const policy = ((): CompiledPolicy => {
    let text = "user { id: string }\ntool kb.search { args { n: int, q: string } }\ntool kb.other { args { n: int } }\npolicy many {\n";
    for (let i = 0; i < MANY; i++) {
      const condition = i % 10 === 0 ? `(user.id == "u${i}" or args.n == ${i}) and args.q.lower() != "x"` : i % 50 === 4 ? `args.n == ${i} or args.q == "${EFFECTS[i % 3]}"` : `args.n == ${i}`;
      text += `  ${EFFECTS[i % 3]} kb.search when ${condition}\n`;
    }
    text += '  @name("stop") deny * when args.n < 0\n  allow kb.other when args.n == 1\n}\n';
    const { policy, diagnostics } = compileSources([{ path: "many.policy", text }]);
    if (!policy) throw new Error(diagnostics.map((d) => d.message).join("\n"));
    return policy;
  })();
  const request = (n: number, session = `s${n}`): unknown => ({ session, tool: "kb.search", user: { id: "u" }, args: { n, q: "q" } });

  it("is dispatched through chunks of bounded size: no generated function is above MAX_DISPATCHER_SOURCE", () => {
    const functions = policy.code.split(/\n(?=function )/);
    const sizes = new Map(functions.map((f) => [/^function (\w+)/.exec(f)?.[1], f.length]));
    // The bound counts the rules' code; a function's frame (header, locals, return) comes on top.
    for (const [name, size] of sizes) expect(size, name).toBeLessThanOrEqual(MAX_DISPATCHER_SOURCE + 200);
    expect([...sizes.keys()].filter((name) => /^t0_\d+$/.test(name ?? "")).length).toBeGreaterThan(3);
    expect([...sizes.keys()].filter((name) => /^s0_\d+$/.test(name ?? "")).length).toBeGreaterThan(1);
    // A small tool keeps one dispatcher.
    expect([...sizes.keys()].filter((name) => name?.startsWith("t1"))).toEqual(["t1"]);
  });

  it("decides every rule as written, deny before ask before allow, inlined or rule by rule", () => {
    const ruleByRule = { ...policy, code: policy.code.replace(/^function t(\d+)\(c\) \{/gm, "function t$1(c) { return s$1(c);") };
    for (const engine of [new Engine(policy), new Engine(handEdited(ruleByRule))]) {
      for (let i = 0; i < MANY; i += 7) expect(engine.decide(request(i)), `rule ${i}`).toMatchObject({ decision: EFFECTS[i % 3], rules: [`many/${i + 1}`] });
      for (const effect of EFFECTS) {
        const named = Array.from({ length: MANY }, (_, i) => i).filter((i) => i % 50 === 4 && EFFECTS[i % 3] === effect);
        const decision = engine.decide({ ...(request(MANY + 1) as object), args: { n: MANY + 1, q: effect } });
        expect(decision, effect).toMatchObject({ decision: effect, rules: named.map((i) => `many/${i + 1}`) });
      }
      expect(engine.decide(request(MANY + 1))).toMatchObject({ decision: "deny", rules: [] });
      expect(engine.decide(request(-1))).toMatchObject({ decision: "deny", rules: ["stop"] });
      // A deny in the first chunk (many/1, by the user) and an ask in the last (many/1481, by n): the deny decides alone.
      expect(engine.decide({ ...(request(1480) as object), user: { id: "u0" } })).toMatchObject({ decision: "deny", rules: ["many/1"] });
      // No user: the three-valued rules fail closed; the deny ones match with an error, in every chunk.
      const noUser = engine.decide({ session: "nobody", tool: "kb.search", args: { n: MANY + 1, q: "q" } });
      expect(noUser.decision).toBe("deny");
      expect(noUser.rules).toEqual(Array.from({ length: MANY / 30 }, (_, k) => `many/${k * 30 + 1}`));
    }
  });

  it("splits a tool of few rules with long conditions too, its matches a bit mask across the chunks", () => {
    // 25 rules of about 3 KB each, so each effect group spans two chunks: rule k matches when
    // `args.n == k`, or when `args.q` is the long text ending in its effect's index.
    const long = "q".repeat(3000);
    let text = "tool kb.search { args { n: int, q: string } }\npolicy few {\n";
    for (let k = 0; k < 25; k++) text += `  ${EFFECTS[k % 3]} kb.search when args.n == ${k} or args.q == "${long}${k % 3}"\n`;
    const { policy: few } = compileSources([{ path: "few.policy", text: `${text}}\n` }]);
    expect(few!.code).toMatch(/^function t0_1\(c, m\)/m);
    expect(few!.code).toContain("maskRules");
    const engine = new Engine(few!);
    for (let k = 0; k < 25; k++) expect(engine.decide({ session: `n${k}`, tool: "kb.search", args: { n: k, q: "" } })).toMatchObject({ decision: EFFECTS[k % 3], rules: [`few/${k + 1}`] });
    EFFECTS.forEach((effect, index) => {
      const named = Array.from({ length: 25 }, (_, k) => k).filter((k) => k % 3 === index);
      expect(engine.decide({ session: effect, tool: "kb.search", args: { n: -1, q: `${long}${index}` } })).toMatchObject({ decision: effect, rules: named.map((k) => `few/${k + 1}`) });
    });
  });

  it("runs the groups in order, all of a group's rules, and stops after the first group that matched", () => {
    const code = policy.code
      .replace(/^function t(\d+)\(c\) \{/gm, "function t$1(c) { return s$1(c);")
      .replace(/^function r(\d+)\(c\) \{/gm, "function r$1(c) { globalThis.__policycCalls.push($1);");
    const engine = new Engine(handEdited({ ...policy, code }));
    const entry = indexRulesByTool(policy.rules, Object.keys(policy.schema.tools)).tools.find((e) => e.tool === "kb.search")!;
    globalThis.__policycCalls = [];
    engine.decide(request(MANY + 1));
    expect(globalThis.__policycCalls).toEqual([...entry.deny, ...entry.ask, ...entry.allow]);
    globalThis.__policycCalls = [];
    expect(engine.decide(request(4)).decision).toBe("ask");
    expect(globalThis.__policycCalls).toEqual([...entry.deny, ...entry.ask]);
  });
});

describe("policy strings enter the generated code through JSON.stringify", () => {
  const STRINGS = ["line one\nline two", 'quote " and \\ backslash', "${template}", "</script>", "*/ comment end", "\u2028 separator", "naïve ✓ 日本"];

  it("string literals, like patterns and rule ids appear JSON-escaped, never raw", () => {
    // Ids cannot hold control characters (PC109): theirs are replaced; the rest of each string stays.
    const idOf = (s: string, i: number): string => `id ${i} ${s}`.replace(/[\u0000-\u001f\u2028\u2029]/g, "·");
    const rules = STRINGS.map((s, i) => `  @name(${JSON.stringify(idOf(s, i))}) deny kb.search when args.query == ${JSON.stringify(s)} or args.query like ${JSON.stringify(`*${s}*x*`)} reason ${JSON.stringify(`reason ${s}`)}`).join("\n");
    const policy = policyWith(rules);
    expect(policy.code).not.toContain("line one\nline two");
    expect(policy.code).not.toContain("reason line one");
    for (const [i, s] of STRINGS.entries()) {
      expect(policy.code).toContain(JSON.stringify(s));
      // A glob with three stars stays a compiled glob, so its whole pattern is in the code.
      expect(policy.code).toContain(JSON.stringify(`*${s}*x*`));
      expect(policy.code).toContain(JSON.stringify(`${idOf(s, i)}: `));
    }
    // And the rules keep the exact texts as data.
    expect(policy.rules.map((r) => r.reason)).toEqual(STRINGS.map((s) => `reason ${s}`));
    const engine = new Engine(policy);
    STRINGS.forEach((s, i) => expect(engine.decide(request({ session: `s${i}`, args: { query: s } })).rules).toEqual([idOf(s, i)]));
  });

  it("the generated code has no newline inside any string", () => {
    const policy = policyWith('  deny kb.search when args.query == "a\\nb" reason "x\\ny"\n  allow kb.search when args.query like "*\\n*"');
    // Every line of the code is complete JavaScript tokens: no line ends inside a string literal.
    for (const line of policy.code.split("\n")) expect((line.match(/(?<!\\)"/g) ?? []).length % 2, line).toBe(0);
  });
});

describe("like is linear-time", () => {
  it("a 100 KB subject against *a*a*a*a*b is decided correctly (no backtracking blow-up)", () => {
    const engine = engineWith('  @name("hit") deny kb.search when args.query like "*a*a*a*a*b"\n  allow kb.search');
    const many = "a".repeat(100_000);
    expect(engine.decide(request({ args: { query: many } })).decision).toBe("allow");
    expect(engine.decide(request({ session: "2", args: { query: `${many}b` } })).rules).toEqual(["hit"]);
    expect(engine.decide(request({ session: "3", args: { query: `${many}ba` } })).decision).toBe("allow");
    expect(engine.decide(request({ session: "4", args: { query: `${"ab".repeat(50_000)}` } })).rules).toEqual(["hit"]);
    expect(engine.decide(request({ session: "5", args: { query: `aaab${"c".repeat(100_000)}` } })).decision).toBe("allow");
  });

  it("agrees with a backtracking reference matcher (property)", () => {
    const alphabet = fc.constantFrom("a", "b", "*", ".", "?");
    fc.assert(
      fc.property(fc.array(alphabet, { maxLength: 8 }).map((a) => a.join("")), fc.array(fc.constantFrom("a", "b", "."), { maxLength: 10 }).map((a) => a.join("")), (pattern, text) => {
        expect(globMatch(pattern, text)).toBe(reference(pattern, text));
        expect(matchCompiledGlob(compileGlob(pattern), text)).toBe(reference(pattern, text));
      }),
      // Cases a random seed may miss: parts that must not share characters (a middle part
      // reusing the suffix's), an empty text, a pattern of stars only.
      { numRuns: 3000, examples: [["*ab*b", "ab"], ["a*ab", "ab"], ["*aa*a", "aa"], ["**", ""], ["a*", ""], ["*.*", "a.b"]] },
    );
  });
});

describe("session-use analysis", () => {
  const use = (rules: string): CompiledPolicy["session"] => policyWith(rules).session;

  it("keeps nothing for a policy that reads no session state", () => {
    expect(use('  allow kb.search when agent.team == "support"')).toEqual({ labels: false, tools: false, repeats: false, windowMs: 0, windowTools: false, called: [] });
  });

  it("keeps only what is read", () => {
    expect(use("  deny * when session.labels contains pii").labels).toBe(true);
    expect(use("  deny * when session.calls > 3")).toMatchObject({ labels: false, tools: false, repeats: false, windowMs: 0 });
    expect(use("  deny * when session.tools contains crm.lookup")).toMatchObject({ tools: true, labels: false });
    expect(use("  deny * when session.repeats > 3")).toMatchObject({ repeats: true, labels: false });
    expect(use("  deny * when session.called(crm.lookup)")).toMatchObject({ called: [["crm.lookup"]], windowMs: 0 });
    expect(use("  deny * when session.count(within 1m) > 3 or session.count(within 2h) > 100")).toMatchObject({ windowMs: 2 * 3600 * 1000, windowTools: false });
    expect(use("  deny * when session.count(kb.*, within 30s) > 3")).toMatchObject({ windowMs: 30_000, windowTools: true });
  });

  it("finds uses nested anywhere in a condition, including unless and quantifiers", () => {
    expect(use("  deny email.send when any(r in args.to: session.labels contains pii and r like \"*\")").labels).toBe(true);
    expect(use("  deny * unless not (session.tools contains kb.search)").tools).toBe(true);
    expect(analyzeSessionUse([null, { op: "not", operand: { op: "session", member: "repeats" } }])).toMatchObject({ repeats: true });
  });

  it("a policy without session.labels keeps no label set at run time", () => {
    const engine = engineWith("  allow kb.search when session.calls < 10");
    expect(engine.policy.session.labels).toBe(false);
    engine.decide(request({ context: { labels: ["pii", "secret"], env: "prod" } }));
    expect(engine.sessions.get("s")!.labels).toBeUndefined();
  });
});

describe("lowering", () => {
  it("flattens `when A and B unless C` into clauses, for explanations", () => {
    const policy = policyWith('  deny kb.search when agent.team == "x" and (agent.attested or context.env == "prod") unless session.calls > 3');
    const [rule] = policy.rules;
    expect(rule!.clauses).toEqual(['agent.team == "x"', '(agent.attested or context.env == "prod")', "unless session.calls > 3"]);
    expect(rule!.ir).toMatchObject({ op: "and", terms: [{ op: "compare" }, { op: "or" }, { op: "not" }] });
    expect(rule!.condition).toBe('when agent.team == "x" and (agent.attested or context.env == "prod") unless session.calls > 3');
  });

  it("makes constants concrete: risks to ranks, durations to ms, patterns to the tools they match", () => {
    const policy = policyWith("  deny * when tool.risk >= high and session.count(kb.*, within 90s) > 2 and session.called(crm.*)");
    const text = JSON.stringify(policy.rules[0]!.ir);
    expect(text).toContain('{"op":"const","value":2}'); // high
    expect(text).toContain('"withinMs":90000');
    expect(text).toContain('"tools":["kb.search"]');
    expect(text).toContain('"tools":["crm.lookup"]');
  });

  it("rules carry metadata: ids, targets, tools, grants in seconds, controls, annotations, docs, locations", () => {
    const policy = policyWith('  /// Why.\n  @name("r") @controls("A", "B") @owner("sec") allow kb.*, crm.lookup grant "g" for 2m');
    expect(policy.rules[0]).toMatchObject({
      id: "r",
      effect: "allow",
      targets: ["kb.*", "crm.lookup"],
      tools: expect.arrayContaining(["kb.search", "crm.lookup"]),
      grants: [{ scope: "g", ttlSeconds: 120 }],
      controls: ["A", "B"],
      annotations: { owner: ["sec"] },
      docs: "Why.",
      location: "t.policy:3:48",
      revoke: false,
      condition: null,
      ir: null,
    });
  });
});
