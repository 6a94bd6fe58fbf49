import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import { explain } from "../../src/runtime/explain.js";
import { callSite, lowerAt, newDecision } from "../../src/runtime/helpers.js";
import type { Engine } from "../../src/runtime/engine.js";

/**
 * Edges of declared-type comparisons and three-valued evaluation found in review: each case is
 * decided the same by the generated code (`decide`) and the IR interpreter (`explain`), and
 * whichever way round its operands or terms are written.
 */
function engineFor(text: string): Engine {
  return compile([{ path: "p.policy", text }]);
}

/**
 * The rules the generated code matched, after checking the interpreter matched the same. A
 * request whose getters change with each read (`exhaustsStack`) is given as a function, so each
 * of the two sees a fresh one.
 */
function decided(engine: Engine, request: Record<string, unknown> | (() => Record<string, unknown>)): { decision: string; rules: readonly string[] } {
  const fresh = typeof request === "function" ? request : () => request;
  const traced = explain(engine, fresh()).rules.filter((r) => r.matched !== false).map((r) => r.id);
  const decision = engine.decide(fresh());
  for (const id of decision.rules) expect(traced).toContain(id);
  return { decision: decision.decision, rules: decision.rules };
}

/**
 * A `Node` whose `next` reads as absent for validation (its first read) and then throws as a
 * stack overflow would: what a comparison that runs out of stack looks like to the engine. A
 * request can no longer nest deep enough for that (512 lists and records at most), but a host
 * may call decide from deep in its own stack, so the engine still copes with it.
 */
function exhaustsStack(): Record<string, unknown> {
  let reads = 0;
  return {
    name: "x",
    get next(): unknown {
      if (reads++ === 0) return undefined;
      throw new RangeError("Maximum call stack size exceeded");
    },
  };
}

describe("a session's set as a member of a request's list", () => {
  const text = `context { labels: set<string> }
tool src { risk low args { } }
tool t { risk low args { sets: list<set<string>>, xs: list<string> } }
policy p {
  allow src
  @name("any") deny t when args.sets containsAny [session.labels]
  @name("all") deny t when all(x in args.xs: session.labels in args.sets) and args.xs.size() > 1
  allow t
}
`;
  it.each([3, 16, 17, 100])("is found in a list of %i sets (short lists scanned, long ones indexed)", (n) => {
    const engine = engineFor(text);
    engine.decide({ session: "s", tool: "src", context: { labels: ["pii"] }, args: {} });
    const sets = [...Array.from({ length: n - 1 }, (_, i) => [`x${i}`]), ["pii", "pii"]];
    expect(decided(engine, { session: "s", tool: "t", context: { labels: [] }, args: { sets, xs: ["a", "b"] } })).toEqual({ decision: "deny", rules: ["any", "all"] });
  });
});

describe("operands compared as the type both sides share", () => {
  const text = `tool t { risk low args { a: list<set<string>>, b: list<list<string>> } }
policy p {
  @name("ab") allow t when args.a == args.b
  @name("ba") allow t when args.b == args.a
  @name("any-ab") allow t when args.a containsAny args.b
  @name("any-ba") allow t when args.b containsAny args.a
}
`;
  it("list<set<T>> against list<list<T>>: the inner collections compare as sets, either way round", () => {
    const engine = engineFor(text);
    expect(decided(engine, { session: "s", tool: "t", args: { a: [["x", "y"]], b: [["y", "x"]] } }).rules).toEqual(["ab", "ba", "any-ab", "any-ba"]);
  });
});

describe("a list literal holding a set, compared with a list of lists", () => {
  // Every form of the audit's `args.pairs containsAny [args.pair]` (audit V, F5), both ways round:
  // the literal holds a set, so its lists compare with it as sets, as `args.pair in args.pairs` does.
  const forms = [
    "args.pair in args.pairs",
    "args.pairs contains args.pair",
    "args.pairs containsAny [args.pair]",
    "[args.pair] containsAny args.pairs",
    "args.pairs containsAll [args.pair]",
    "[args.pair] containsAll args.pairs",
    "args.pairs == [args.pair]",
    "[args.pair] == args.pairs",
    "not (args.pairs != [args.pair])",
    "not ([args.pair] != args.pairs)",
    "[args.pair] contains args.list",
    "args.list in [args.pair]",
    "args.pair in [args.list]",
    "[args.list] contains args.pair",
    "any(p in args.pairs: p == args.pair)",
    // (A literal that mixes a set with list literals, `[["z"], args.pair]`, is PC300: see test/check/types.test.ts.)
  ];
  const engine = engineFor(`tool t { risk low args { pairs: list<list<string>>, pair: set<string>, list: list<string> } }
policy p {
${forms.map((form, i) => `  @name("f${i}") allow t when ${form}`).join("\n")}
}
`);
  it.each(forms.map((form, i) => [form, i] as const))("%s holds for the same members in another order", (_, i) => {
    expect(decided(engine, { session: "s", tool: "t", args: { pairs: [["a", "b"]], pair: ["b", "a", "b"], list: ["b", "a"] } }).rules).toContain(`f${i}`);
  });
  it("and none holds for other members", () => {
    expect(decided(engine, { session: "s", tool: "t", args: { pairs: [["a", "b"]], pair: ["a", "c"], list: ["c", "d"] } })).toEqual({ decision: "deny", rules: [] });
  });
});

describe("values nested too deeply to compare", () => {
  const decls = `type Node { name: string, next?: Node }
agent { ok: bool }
tool t { risk low args { a: Node, b?: Node } }
`;
  it.each(["args.a == args.b and agent.ok", "agent.ok and args.a == args.b"])("%s: a false term settles it, whichever side failed", (condition) => {
    const engine = engineFor(`${decls}policy p {\n  @name("d") deny t when args has b and ${condition}\n  @name("ok") allow t\n}\n`);
    expect(decided(engine, () => ({ session: "s", tool: "t", agent: { ok: false }, args: { a: exhaustsStack(), b: exhaustsStack() } }))).toEqual({ decision: "allow", rules: ["ok"] });
  });

  it("session.repeats: calls too deep to compare count as repeats, so a nonce beside them does not break the loop", () => {
    const engine = engineFor(`${decls}policy p {\n  @name("loop") deny t when session.repeats >= 2 revoke\n  allow t\n}\n`);
    const calls = [0, 1, 2].map((i) => engine.decide({ session: "s", tool: "t", time: `2026-11-29T10:00:0${i}Z`, agent: { ok: true }, args: { a: exhaustsStack(), nonce: i } }).decision);
    expect(calls).toEqual(["allow", "allow", "deny"]);
  });
});

describe("size() of a declared set inside a quantifier", () => {
  it("is counted once per decision, not once per element (40,000 recipients decide at once)", () => {
    const engine = engineFor(`tool t { risk low args { to: set<string>, cc: set<string> } }
policy p {
  @name("big-cc") deny t when any(r in args.to: args.cc.size() > 50000 and r like "*@evil.example")
  @name("ok") allow t
}
`);
    const to = Array.from({ length: 40_000 }, (_, i) => `u${i}@acme.com`);
    expect(engine.decide({ session: "s", tool: "t", args: { to, cc: to } }).rules).toEqual(["ok"]);
    expect(engine.decide({ session: "s", tool: "t", args: { to: [...to, "x@evil.example"], cc: [...to, ...Array.from({ length: 10_001 }, (_, i) => `c${i}`)] } }).rules).toEqual(["big-cc"]);
  });
});

describe("re-entering decide from a getter in the request", () => {
  it("does not disturb the outer decision: a missing user still fails the allow rule", () => {
    const engine = engineFor(`agent { x: bool }
user { flag: bool }
tool t { risk low args { } }
policy p {
  allow t when user.flag and agent.x
}
`);
    const plain = { session: "other", tool: "t", agent: { x: true }, user: { flag: true }, args: {} };
    const agent = {
      get x(): boolean {
        engine.decide(plain);
        return true;
      },
    };
    expect(engine.decide({ session: "s", tool: "t", agent, args: {} })).toMatchObject({ decision: "deny", errors: ["p/1: the request has no user"] });
  });
});

describe("an undeclared label ordered against an enum", () => {
  it("has no rank: the comparison is false, in the generated code and the interpreter alike", () => {
    const engine = engineFor(`enum Label { public, internal, secret }
tool src { risk low args { } }
tool t { risk low args { } }
policy p {
  allow src
  @name("low") deny t when any(l in session.labels: l < internal)
  @name("ok") allow t
}
`);
    engine.decide({ session: "s", tool: "src", context: { labels: ["bogus"] }, args: {} });
    expect(decided(engine, { session: "s", tool: "t", args: {} })).toEqual({ decision: "allow", rules: ["ok"] });
  });
});

describe("comparisons inside a quantifier over long collections", () => {
  const N = 50_000;
  const many = (prefix: string): string[] => Array.from({ length: N }, (_, i) => `${prefix}${i}`);
  it.each<[string, Record<string, unknown>, string]>([
    ["any(x in args.us: args.s == args.s2)", { us: many("u"), s: many("s"), s2: [...many("s")].reverse() }, "deny"],
    ["any(x in args.us: args.s containsAny args.s2)", { us: many("u"), s: many("s"), s2: [...many("t"), "s7"] }, "deny"],
    ["any(x in args.ps: x.tags == args.s)", { ps: [...Array.from({ length: N }, () => ({ tags: ["a"] })), { tags: [...many("s")].reverse() }], s: many("s") }, "deny"],
    ["any(x in args.ps: args.s containsAll x.tags)", { ps: Array.from({ length: N }, (_, i) => ({ tags: [`s${i}`, "zz"] })), s: many("s") }, "allow"],
    ["any(a in args.us: any(l in [args.s, args.s2]: a in l))", { us: many("u"), s: many("s"), s2: [...many("t"), "u49999"] }, "deny"],
  ])("%s: decided once per decision, not once per element (%#)", (condition, args, expected) => {
    const engine = engineFor(`type P { tags: set<string> }
tool t { risk low args { us: list<string>, s: set<string>, s2: set<string>, ps: list<P> } }
policy p {
  deny t when ${condition}
  allow t
}
`);
    expect(engine.decide({ session: "s", tool: "t", args: { us: [], s: [], s2: [], ps: [], ...args } }).decision).toBe(expected);
  });
});

describe("re-review edges", () => {
  it("a request dated ahead cannot expire a live session when sessionIdleMs is short (the slack is at most half of it)", () => {
    const T = Date.parse("2025-01-01T00:00:00Z");
    let now = T;
    const engine = compile([{ path: "p.policy", text: "tool t { risk low args { } }\npolicy p { allow t }\n" }], { sessionIdleMs: 120_000, clock: () => now });
    const at = (ms: number): string => new Date(T + ms).toISOString();
    engine.decide({ session: "victim", tool: "t", time: at(0), args: {} });
    now = T + 30_000;
    engine.decide({ session: "attacker", tool: "t", time: at(330_000), args: {} });
    now = T + 60_000;
    expect(engine.decide({ session: "victim", tool: "t", time: at(60_000), args: {} }).decision).toBe("allow");
  });

  it("a comparison too deep to make, inside a quantifier, is made once per decision", () => {
    const engine = engineFor(`type Node { name: string, next?: Node }
tool t { risk low args { us: list<string>, a: Node, b: Node } }
policy p { allow t when all(x in args.us: args.a != args.b) }
`);
    const decision = engine.decide({ session: "s", tool: "t", args: { us: Array.from({ length: 10_000 }, (_, i) => `u${i}`), a: exhaustsStack(), b: exhaustsStack() } });
    expect(decision).toMatchObject({ decision: "deny", errors: ["p/1: the input is nested too deeply to evaluate"] });
  });

  it("explaining a new session on a full engine shows the refusal decide gives", () => {
    const engine = compile([{ path: "p.policy", text: "tool t { risk low args { } }\npolicy p { allow t }\n" }], { maxSessions: 1 });
    engine.decide({ session: "a", tool: "t", args: {} });
    expect(explain(engine, { session: "b", tool: "t", args: {} }).note).toContain("cannot start");
    expect(engine.decide({ session: "b", tool: "t", args: {} }).decision).toBe("deny");
  });

  it("explaining a new session on a full engine that the sweep would make room for shows the decision decide gives", () => {
    // Requests stamped with the engine's clock: by it, "a" is idle ten minutes later.
    let wall = Date.parse("2026-11-29T10:00:00Z");
    const engine = compile([{ path: "p.policy", text: "tool t { risk low args { } }\npolicy p { allow t }\n" }], { maxSessions: 1, sessionIdleMs: 60_000, clock: () => wall });
    engine.decide({ session: "a", tool: "t", args: {}, time: "2026-11-29T10:00:00Z" });
    wall = Date.parse("2026-11-29T10:10:00Z");
    const later = { session: "b", tool: "t", args: {}, time: "2026-11-29T10:10:00Z" };
    const explanation = explain(engine, later);
    expect(explanation.note).toBeNull();
    expect(explanation.rules.map((r) => [r.id, r.matched])).toEqual([["p/1", true]]);
    expect(engine.decide(later).decision).toBe("allow");
  });
});

describe("third review", () => {
  it("no flood of later asks pushes out an ask awaiting approval: approved, its data taints the session; never approved, it leaves none", () => {
    const engine = engineFor(`enum Label { public, pii }
context { labels: set<Label> }
tool crm { risk low returns pii args { id: string } }
tool web { risk low args { q: string } }
tool mail { risk high args { to: string } }
policy p {
  ask crm
  ask web
  @name("tainted") deny mail when session.labels contains pii
  allow mail
}
`);
    const r = (tool: string, args: Record<string, unknown>): Record<string, unknown> => ({ session: "s", tool, args, context: { labels: [] } });
    expect(engine.decide(r("crm", { id: "1" })).decision).toBe("ask");
    for (let i = 0; i < 100; i++) expect(engine.decide(r("web", { q: `q${i}` })).decision).toBe("ask");
    // Not approved (yet): no taint.
    expect(engine.decide(r("mail", { to: "x" })).decision).toBe("allow");
    expect(engine.approved(r("crm", { id: "1" }))).toBe(true);
    expect(engine.decide(r("mail", { to: "x" })).rules).toEqual(["tainted"]);
    // Once each: the one ask of crm is approved already.
    expect(engine.approved(r("crm", { id: "1" }))).toBe(false);
  });

  it.each([
    "args.p in args.ps",
    "args.ps contains args.p",
    "any(x in args.ps: x == args.p)",
    "any(x in args.ps: x.tags containsAny args.s)",
    "any(x in args.ps: x.tags containsAll args.s)",
  ])("%s: a record holding a 20,000-member set is indexed once per decision", (condition) => {
    const engine = engineFor(`type P { x: int, tags: set<string> }
tool t { risk low args { p: P, ps: list<P>, s: set<string> } }
policy p {
  @name("hit") deny t when ${condition}
  allow t
}
`);
    const tags = Array.from({ length: 20_000 }, (_, i) => `t${i}`);
    const ps = Array.from({ length: 20_000 }, (_, i) => ({ x: i, tags: [`t${i}`] }));
    expect(engine.decide({ session: "s", tool: "t", args: { p: { x: -1, tags }, ps, s: tags } }).decision).toBe(condition.includes("containsAny") ? "deny" : "allow");
  });
});

describe("one index per list and decision", () => {
  it("a set too deep to count, sized inside a quantifier, fails once per decision, not once per element", () => {
    const engine = engineFor(`type Node { name: string, next?: Node }
tool t { risk low args { us: list<string>, ns: set<Node> } }
policy p { allow t when all(x in args.us: args.ns.size() < 1000000) }
`);
    const decision = engine.decide({ session: "s", tool: "t", args: { us: Array.from({ length: 5_000 }, (_, i) => `u${i}`), ns: [exhaustsStack(), { name: "a" }] } });
    expect(decision).toMatchObject({ decision: "deny", errors: ["p/1: the input is nested too deeply to evaluate"] });
  });
});

describe("fifth review", () => {
  it("a request the generated check refuses stays refused when the worded validators find nothing (a getter that answers differently twice)", () => {
    const engine = engineFor("tool t { risk low args { n: int } }\npolicy p { allow t }\n");
    let reads = 0;
    const args = {
      get n(): unknown {
        return reads++ === 0 ? "not an int" : 5;
      },
    };
    const decision = engine.decide({ session: "s", tool: "t", args });
    expect(decision).toMatchObject({ decision: "deny", rules: [] });
    expect(decision.reasons[0]).toBe("the request does not fit the declared schema");
  });

  it("a decision's errors and reasons are separate arrays", () => {
    const engine = engineFor("tool t { risk low args { } }\npolicy p { allow t }\n");
    const decision = engine.decide({ session: "s", tool: "nope" });
    expect(decision.errors).toEqual(decision.reasons);
    (decision.errors as string[]).push("changed");
    expect(decision.reasons).toHaveLength(1);
  });

  it("labels that throw when the session reads them (after validation) leave the session as it was", () => {
    // (The session keeps labels only for a policy that reads them.)
    const engine = engineFor(`enum Label { pii }
context { labels: set<Label> }
tool t { risk low args { q: string } }
policy p {
  allow t
  deny t when session.labels contains pii reason "tainted"
}
`);
    // Validation reads the items; taking them into the session filters them.
    const labels = new Proxy(["pii"], {
      get(target, key, receiver): unknown {
        if (key === "filter") throw new Error("boom");
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    const decision = engine.decide({ session: "s", tool: "t", args: { q: "x" }, context: { labels } });
    expect(decision).toMatchObject({ decision: "deny" });
    expect(decision.errors.join(" ")).toContain("internal error");
    expect(engine.sessions.get("s")!.calls).toBe(0);
  });
});

describe("security re-audit", () => {
  it("a long string lowered inside a quantifier is lowered once per decision, not once per element", () => {
    const engine = engineFor("tool a { risk low args { l: list<string>, s: string } }\npolicy p {\n  allow a\n  deny a when any(x in args.l: x.lower() == args.s.lower())\n}\n");
    const l = Array.from({ length: 20_000 }, (_, i) => `v${i}`);
    expect(engine.decide({ session: "s", tool: "a", args: { l, s: "\u0130".repeat(200_000) } })).toMatchObject({ decision: "allow", errors: [] });
    expect(engine.decide({ session: "t", tool: "a", args: { l, s: "V19999" } })).toMatchObject({ decision: "deny", rules: ["p/2"] });
  });

  it("a rule whose quantifiers would visit more than 1,000,000 elements fails closed", () => {
    const engine = engineFor("tool a { risk low args { l: list<string> } }\npolicy p {\n  allow a\n  deny a when any(x in args.l: any(y in args.l: x != y and x == y))\n}\n");
    const decision = engine.decide({ session: "s", tool: "a", args: { l: Array.from({ length: 30_000 }, (_, i) => `v${i}`) } });
    expect(decision).toMatchObject({ decision: "deny", rules: ["p/2"] });
    expect(decision.errors.join(" ")).toContain("the request is too large to evaluate: this rule's quantifiers would visit more than 1,000,000 elements");
    // Below the budget the same rule decides as written.
    expect(engine.decide({ session: "t", tool: "a", args: { l: Array.from({ length: 900 }, (_, i) => `v${i}`) } })).toMatchObject({ decision: "allow", errors: [] });
  });

  it("a spent budget is a fault like any other: a term that settles the rule does, in either order, and explain agrees", () => {
    const l = Array.from({ length: 1_001 }, (_, i) => `v${i}`);
    for (const condition of ['any(x in args.l: any(y in args.l: x == "zz" and y == "zz")) and args.flag', 'args.flag and any(x in args.l: any(y in args.l: x == "zz" and y == "zz"))']) {
      const engine = engineFor(`tool t { risk low args { l: list<string>, flag: bool } }\npolicy p {\n  deny t when ${condition} revoke\n  allow t\n}\n`);
      const request = { session: "s", tool: "t", args: { l, flag: false } };
      expect(explain(engine, request).rules.map((r) => r.matched), condition).toEqual([false, true]);
      expect(engine.decide(request), condition).toMatchObject({ decision: "allow", revoked: false });
      // With the flag set nothing settles it: the spent budget makes the rule an error, which fails closed.
      const flagged = engine.decide({ ...request, session: "f", args: { l, flag: true } });
      expect(flagged, condition).toMatchObject({ decision: "deny", rules: ["p/1"], revoked: true });
      expect(flagged.errors.join(" ")).toContain("more than 1,000,000 elements");
    }
  });

  it("long run-time like patterns that take turns are each compiled once per decision", () => {
    const engine = engineFor("tool t { risk low args { subs: list<string>, pats: list<string> } }\npolicy p {\n  allow t when any(s in args.subs: any(p in args.pats: s like p))\n}\n");
    const pats = ["ab*".repeat(33_000), "cd*".repeat(33_000)];
    // Within the rule's budget of characters (each match charges the subject and the pattern).
    expect(engine.decide({ session: "s", tool: "t", args: { subs: Array.from({ length: 500 }, () => "zz"), pats } })).toMatchObject({ decision: "deny", errors: [] });
    // Past it the rule fails closed, quickly.
    const refused = engine.decide({ session: "t", tool: "t", args: { subs: Array.from({ length: 20_000 }, () => "zz"), pats } });
    expect(refused).toMatchObject({ decision: "deny", rules: [] });
    expect(refused.errors.join(" ")).toContain("would read more than 100,000,000 characters");
  });

  it("each rule has its own budget: a rule that spends its own never makes another fail (or revoke), in either order, and explain agrees", () => {
    const big = { session: "s", tool: "a", args: { l: Array.from({ length: 1_500 }, (_, i) => `l${i}`), m: Array.from({ length: 1_500 }, (_, i) => `m${i}`) } };
    const heavy = '@name("D1") deny a when any(x in args.l: any(y in args.m: x == y))';
    const light = '@name("D2") deny a when any(x in args.l: x == "zz") revoke';
    for (const rules of [[heavy, light], [light, heavy]]) {
      const engine = engineFor(`tool a { risk low args { l: list<string>, m: list<string> } }\npolicy p {\n  ${rules.join("\n  ")}\n  allow a\n}\n`);
      expect(explain(engine, big).rules.map((r) => [r.id, r.matched])).toEqual(rules.map((r) => [r === heavy ? "D1" : "D2", r === heavy ? "error" : false]).concat([["p/3", true]]));
      expect(engine.decide(big)).toMatchObject({ decision: "deny", rules: ["D1"], revoked: false });
    }
  });

  it.each(["eve@\uff45\uff56\uff49\uff4c.com", "eve@evil\u3002com", "eve@evil.com\u00ad", "eve@ev\u2060il.com", "eve@EVIL.com"])("email.domain reads %j as evil.com, as a mail system would", (address) => {
    const engine = engineFor('tool m { risk low args { to: string } }\npolicy p {\n  @name("no-evil") deny m when email.domain(args.to) == "evil.com"\n  allow m\n}\n');
    expect(engine.decide({ session: "s", tool: "m", args: { to: address } })).toMatchObject({ decision: "deny", rules: ["no-evil"] });
  });

  it.each(["bob@acme.com/evil.com", "bob@acme.com?x", "bob@acme.com#x", "bob@%61cme.com", "bob@0x7f.1", "bob@acme.com..", "bob@.acme.com"])("email.domain refuses %j, which a URL host parser would read as another domain", (address) => {
    const engine = engineFor('tool m { risk low args { to: string } }\npolicy p {\n  @name("inside") allow m when email.domain(args.to) == "acme.com" or email.domain(args.to) == "127.0.0.1"\n}\n');
    const decision = engine.decide({ session: "s", tool: "m", args: { to: address } });
    expect(decision.decision).toBe("deny");
    expect(decision.errors.join(" ")).toContain("has no valid domain");
  });

  it.each([
    ["git+https://b\u00fccher.de/r.git", "xn--bcher-kva.de"],
    ["ssh://b\u00fccher.de/r.git", "xn--bcher-kva.de"],
    ["git+https://\uff45\uff56\uff49\uff4c.example/r.git", "evil.example"],
    ["git://evil\u3002example/r.git", "evil.example"],
    ["git+https://%65vil.example/r.git", "evil.example"],
    ["ssh://EVIL.example./r.git", "evil.example"],
    ["ssh://0x7f.1/x", "127.0.0.1"],
    ["redis://0177.0.0.1:6379/0", "127.0.0.1"],
  ])("url.host of %j, a scheme WHATWG keeps the host of opaque, is %j, the host its client connects to", (repo, host) => {
    const engine = engineFor('tool git.clone { risk low args { repo: string } }\npolicy p {\n  @name("blocked") deny git.clone when url.host(args.repo) in ["xn--bcher-kva.de", "evil.example", "127.0.0.1"]\n  allow git.clone\n}\n');
    expect(engine.decide({ session: "s", tool: "git.clone", args: { repo } })).toMatchObject({ decision: "deny", rules: ["blocked"], errors: [] });
  });

  it.each(["ssh://evil%2Fexample/x", "ssh://evil%40example/x", "ssh://evil%3Aexample/x", "ssh://evil%zzexample/x", "ssh://evil%2520example/x", "ssh://evil%00example/x", "ssh://evil%20example/x"])("url.host of %j, whose opaque host decodes to no plain host name, is an evaluation error", (repo) => {
    const engine = engineFor('tool git.clone { risk low args { repo: string } }\npolicy p {\n  @name("inside") allow git.clone when url.host(args.repo).endsWith("example")\n}\n');
    const decision = engine.decide({ session: "s", tool: "git.clone", args: { repo } });
    expect(decision.decision).toBe("deny");
    expect(decision.errors.join(" ")).toContain("is not a plain host name");
  });

  it.each(["ssh://git.acme.com#@evil.example/r.git", "ssh://git.acme.com?@evil.example/r.git", "git+ssh://git.acme.com:22#@evil.example/r.git", "https://git.acme.com?x=a@evil.example", "https://evil.example;.acme.com/x", "https://evil.example'.acme.com/x", "https://evil.example%22.acme.com/x", "redis://cache.evil.example%3B.acme.com:6379/0", "ssh://evil.example%7B.acme.com/x"])("url.host of %j, which a client reads as another host, is an evaluation error: an allow-list on it never allows", (url) => {
    const engine = engineFor('tool fetch { risk low args { url: string } }\npolicy p {\n  @name("ours") allow fetch when url.host(args.url) == "git.acme.com" or url.host(args.url).endsWith(".acme.com")\n}\n');
    const decision = engine.decide({ session: "s", tool: "fetch", args: { url } });
    expect(decision.decision).toBe("deny");
    expect(decision.errors.join(" ")).toMatch(/user information before its host|a character no host name has/);
  });

  it.each([["https://acme.com/?q=a@b", "acme.com"], ["https://[::1]:8080/", "[::1]"], ["https://a_b.acme.com/", "a_b.acme.com"], ["http://127.0.0.1:80/", "127.0.0.1"]])("url.host of %j is still %j", (url, host) => {
    const engine = engineFor(`tool fetch { risk low args { url: string } }\npolicy p {\n  @name("ours") allow fetch when url.host(args.url) == ${JSON.stringify(host)}\n}\n`);
    expect(engine.decide({ session: "s", tool: "fetch", args: { url } })).toMatchObject({ decision: "allow", errors: [] });
  });

  it.each(["http://[::ffff:169.254.169.254]/latest/meta-data/", "http://[::ffff:a9fe:a9fe]/", "http://[0:0:0:0:0:ffff:a9fe:a9fe]/", "redis://[::ffff:169.254.169.254]:6379/0", "http://169.254.169.254/", "http://2852039166/", "http://0xa9.0xfe.0xa9.0xfe/"])("url.host of %j is 169.254.169.254: an IPv4-mapped IPv6 address is the IPv4 address a client connects to", (url) => {
    const engine = engineFor('tool fetch { risk low args { url: string } }\npolicy p {\n  allow fetch\n  @name("metadata") deny fetch when url.host(args.url) == "169.254.169.254"\n}\n');
    expect(engine.decide({ session: "s", tool: "fetch", args: { url } })).toMatchObject({ decision: "deny", rules: ["metadata"], errors: [] });
  });

  it.each(["https://api.acme\u2064.com/x", "https://api.acme.com\u{e0100}/x", "https://api.acme.com\u00ad/x", "ssh://git.acme\u200d.com/r.git"])("url.host of %j, with an invisible character in its host that one client drops and another keeps, is an evaluation error", (url) => {
    const engine = engineFor('tool fetch { risk low args { url: string } }\npolicy p {\n  @name("ours") allow fetch when url.host(args.url) == "api.acme.com" or url.host(args.url) == "git.acme.com"\n}\n');
    const decision = engine.decide({ session: "s", tool: "fetch", args: { url } });
    expect(decision.decision).toBe("deny");
    expect(decision.errors.join(" ")).toContain("has an invisible character in its host");
  });

  it("an invisible character after the host (in the path or query) is the path's business: url.host reads the host", () => {
    const engine = engineFor('tool fetch { risk low args { url: string } }\npolicy p {\n  @name("ours") allow fetch when url.host(args.url) == "api.acme.com"\n}\n');
    expect(engine.decide({ session: "s", tool: "fetch", args: { url: "https://api.acme.com/a\u00adb?q=\u200d" } })).toMatchObject({ decision: "allow", errors: [] });
  });

  it("intent.tools holds the declared tools its patterns cover: an undeclared name is in no intent (docs 5.6), in decide and explain alike", () => {
    const engine = engineFor('tool kb.search { risk low args { query: string } }\ntool agent.delegate { risk low args { target: string } }\nintent research { tools kb.*, agent.delegate }\npolicy p {\n  @name("in-purpose") allow agent.delegate when args.target in intent.tools\n}\n');
    const request = (target: string) => ({ session: target, tool: "agent.delegate", intent: "research", args: { target } });
    expect(engine.decide(request("kb.search")).decision).toBe("allow");
    expect(engine.decide(request("kb.export")).decision).toBe("deny");
    expect(explain(engine, request("kb.export")).rules.map((r) => r.matched)).toEqual([false]);
  });

  it("a run-time `like` pattern too long to cache is compiled once for all the elements of a quantifier", () => {
    const engine = engineFor("tool a { risk low args { l: list<string>, p: string } }\npolicy p {\n  allow a\n  deny a when any(x in args.l: x like args.p)\n}\n");
    // 300 matches charge 300 × (5 + 300,001) characters: within the rule's budget.
    const l = Array.from({ length: 300 }, (_, i) => `v${i}`);
    expect(engine.decide({ session: "s", tool: "a", args: { l, p: "*a".repeat(150_000) + "*" } })).toMatchObject({ decision: "allow", errors: [] });
    expect(explain(engine, { session: "t", tool: "a", args: { l, p: "*a".repeat(150_000) + "*" } }).rules.map((r) => r.matched)).toEqual([true, false]);
    // 4,000 would charge 1.2 billion: the deny fails closed, in the generated code and in explain.
    const more = Array.from({ length: 4_000 }, (_, i) => `v${i}`);
    expect(engine.decide({ session: "u", tool: "a", args: { l: more, p: "*a".repeat(150_000) + "*" } })).toMatchObject({ decision: "deny", rules: ["p/2"] });
    expect(explain(engine, { session: "v", tool: "a", args: { l: more, p: "*a".repeat(150_000) + "*" } }).rules.map((r) => r.matched)).toEqual([true, "error"]);
  });

  it("email.domain gives the ASCII form of an international domain, as url.host does, and refuses one that maps to several", () => {
    const engine = engineFor('tool m { risk low args { to: string, u: string } }\npolicy p {\n  @name("same") allow m when email.domain(args.to) == url.host(args.u)\n}\n');
    expect(engine.decide({ session: "s", tool: "m", args: { to: "x@b\u00fccher.de", u: "https://b\u00fccher.de/" } })).toMatchObject({ decision: "allow" });
    const split = engine.decide({ session: "t", tool: "m", args: { to: "x@evil.com\uff0cacme.com", u: "https://acme.com/" } });
    expect(split.decision).toBe("deny");
    expect(split.errors.join(" ")).toContain("has no valid domain");
  });
});

describe("soak audit", () => {
  const NESTED = `context { blocked: list<string> }
tool mail { risk low args { to: list<string> } }
policy p {
  @name("blocked") deny mail when any(d in context.blocked: any(r in args.to: email.domain(r) == d))
  @name("shouted") deny mail when any(d in context.blocked: any(r in args.to: r.lower() == d))
  @name("ok") allow mail
}
`;

  it("url.host, email.domain and lower() on the inner variable of nested quantifiers answer every element, remembered across outer elements", () => {
    const engine = engineFor(NESTED);
    const blocked = Array.from({ length: 300 }, (_, i) => `blocked${i}.example`);
    const to = Array.from({ length: 300 }, (_, i) => `user${i}@Domain${i}.example`);
    const decide = (request: Record<string, unknown>): unknown => engine.decide(request);
    expect(decide({ session: "a", tool: "mail", args: { to }, context: { blocked } })).toMatchObject({ decision: "allow", rules: ["ok"], errors: [] });
    // The last recipient of the last outer element, and one the first outer element matches.
    expect(decide({ session: "b", tool: "mail", args: { to: [...to, "x@BLOCKED299.example"] }, context: { blocked } })).toMatchObject({ decision: "deny", rules: ["blocked"] });
    expect(decide({ session: "c", tool: "mail", args: { to: [...to, "blocked0.example"] }, context: { blocked } })).toMatchObject({ decision: "deny", rules: ["shouted"] });
    for (const [session, args] of [["d", { to: [...to, "x@BLOCKED299.example"] }], ["e", { to }]] as const) {
      const request = { session, tool: "mail", args, context: { blocked } };
      const explanation = explain(engine, request);
      expect(explanation.rules.map((r) => [r.id, r.matched]), session).toEqual(engine.decide(request).rules.includes("blocked") ? [["blocked", true], ["shouted", false], ["ok", true]] : [["blocked", false], ["shouted", false], ["ok", true]]);
    }
  });

  it("an address email.domain refuses is an error each time a rule reads it, also when its answer is remembered: the deny matches (fail closed)", () => {
    const engine = engineFor(NESTED);
    const to = ["a@ok.example", "eve@evil.example,acme.com", "b@ok.example"];
    const request = { session: "s", tool: "mail", args: { to }, context: { blocked: ["x.example", "y.example", "z.example"] } };
    const decision = engine.decide(request);
    expect(decision).toMatchObject({ decision: "deny", rules: ["blocked"] });
    expect(decision.errors.join(" ")).toContain("is not a single plain e-mail address");
    expect(explain(engine, { ...request, session: "t" }).rules.map((r) => [r.id, r.matched])).toEqual([["blocked", "error"], ["shouted", false], ["ok", true]]);
  });

  it("what a call site remembers of a decision's request is let go when the next decision starts, not when the site next runs", () => {
    const site = callSite();
    const note = { fault: undefined };
    newDecision();
    expect([lowerAt(site, note, "A"), lowerAt(site, note, "B"), lowerAt(site, note, "A")]).toEqual(["a", "b", "a"]);
    expect(site.seen?.size).toBeGreaterThan(0);
    newDecision();
    expect(site.seen).toBeUndefined();
  });
});
