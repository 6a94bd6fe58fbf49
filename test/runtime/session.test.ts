import { describe, expect, it } from "vitest";
import type { Decision } from "../../src/runtime/decision.js";
import type { Engine, EngineOptions } from "../../src/runtime/engine.js";
import { explain } from "../../src/runtime/explain.js";
import { SessionState, SessionStore } from "../../src/runtime/session.js";
import { ARGS, at, call, engineWith, request, stampedClock, T0 } from "./fixtures.js";

/**
 * Every session member (language contract, section 4), observed through compiled decisions.
 * A "probe" is a named `allow *` rule per value (`@name("calls=3") … when session.calls == 3`):
 * every matched allow rule is in `decision.rules`, so the rules of an allowed call read out the
 * session's values. `kb.search` with query "deny" / "ask" is denied / asked, to make attempts
 * of each kind.
 */
const CONTROL = ['  deny kb.search when args.query == "deny" reason "asked to deny"', '  ask kb.search when args.query == "ask"'];

function probes(label: string, expr: string, values: readonly (number | string)[]): string[] {
  return values.map((v) => `  @name(${JSON.stringify(`${label}=${v}`)}) allow * when ${expr} == ${typeof v === "number" ? v : v}`);
}

function flags(names: Record<string, string>): string[] {
  return Object.entries(names).map(([name, condition]) => `  @name(${JSON.stringify(name)}) allow * when ${condition}`);
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i);

function engine(lines: readonly string[], options?: EngineOptions): Engine {
  return engineWith([...CONTROL, ...lines, '  @name("any") allow *'].join("\n"), options);
}

/** The value a family of probes read out of an allowed decision (undefined when none matched). */
function read(decision: Decision, label: string): string | undefined {
  expect(decision.decision, JSON.stringify(decision)).toBe("allow");
  const hits = decision.rules.filter((r) => r.startsWith(`${label}=`)).map((r) => r.slice(label.length + 1));
  expect(hits.length, `${label}: ${JSON.stringify(decision.rules)}`).toBeLessThanOrEqual(1);
  return hits[0];
}

/** The flags (named conditions) that held for an allowed decision. */
function held(decision: Decision, names: Record<string, string>): string[] {
  expect(decision.decision, JSON.stringify(decision)).toBe("allow");
  return decision.rules.filter((r) => Object.hasOwn(names, r)).sort();
}

const kb = (ms: number, query = "q", overrides: Record<string, unknown> = {}): Record<string, unknown> => call("kb.search", ms, { args: { query }, ...overrides });

describe("session.calls", () => {
  it("counts earlier attempts of every kind, this one excluded", () => {
    const e = engine(probes("calls", "session.calls", range(10)));
    expect(read(e.decide(kb(0)), "calls")).toBe("0");
    expect(read(e.decide(kb(1)), "calls")).toBe("1");
    expect(e.decide(kb(2, "deny")).decision).toBe("deny");
    expect(e.decide(kb(3, "ask")).decision).toBe("ask");
    expect(e.decide(kb(4, "q", { tool: "no.such.tool" })).decision).toBe("deny"); // invalid, still an attempt
    expect(read(e.decide(kb(5)), "calls")).toBe("5");
    // Per session.
    expect(read(e.decide(kb(6, "q", { session: "other" })), "calls")).toBe("0");
  });
});

describe("session.count", () => {
  const names = [...probes("all", "session.count(within 10s)", range(12).slice(1)), ...probes("kb", "session.count(kb.*, within 10s)", range(12))];

  it("counts attempts at most D before this one, this one included (window edges)", () => {
    const e = engine(names);
    expect(read(e.decide(kb(0)), "all")).toBe("1"); // this one
    expect(read(e.decide(kb(5_000)), "all")).toBe("2");
    expect(read(e.decide(kb(10_000)), "all")).toBe("3"); // t=0 is exactly 10s before: inside
    expect(read(e.decide(kb(10_001)), "all")).toBe("3"); // t=0 has left the window
    expect(read(e.decide(kb(20_001)), "all")).toBe("2"); // 10_001 (exactly 10s) and this one
  });

  it("counts denied and asked attempts too", () => {
    const e = engine(names);
    e.decide(kb(0, "deny"));
    e.decide(kb(1, "ask"));
    expect(read(e.decide(kb(2)), "all")).toBe("3");
  });

  it("with a pattern, counts only attempts of matching tools, this one only if it matches", () => {
    const e = engine(names);
    expect(read(e.decide(call("crm.lookup", 0)), "kb")).toBe("0"); // crm.lookup is not kb.*
    expect(read(e.decide(kb(1)), "kb")).toBe("1");
    expect(read(e.decide(call("crm.lookup", 2)), "kb")).toBe("1");
    const d = e.decide(kb(3));
    expect(read(d, "kb")).toBe("2");
    expect(read(d, "all")).toBe("4");
    expect(read(e.decide(kb(10_001)), "kb")).toBe("3"); // t=1 (exactly 10s before) and t=3, and this one
  });
});

describe("attempts out of time order", () => {
  it("are counted where their time puts them, so later attempts stay in the window", () => {
    const e = engine(probes("all", "session.count(within 10s)", range(8).slice(1)));
    expect(read(e.decide(kb(0)), "all")).toBe("1");
    expect(read(e.decide(kb(20_000)), "all")).toBe("1");
    // A late attempt dated 5_000: t=0 (within its 10 s) and 20_000 (dated later) count, and it.
    expect(read(e.decide(kb(5_000)), "all")).toBe("3");
    expect(read(e.decide(kb(21_000)), "all")).toBe("2"); // 20_000 and this one: 5_000 is 16 s before
    expect(read(e.decide(kb(24_000)), "all")).toBe("3");
    // Dated more than one window before the newest attempt (45 s), an attempt may have lost what
    // it should count (t=0 went when 21_000 came): an error, so the probes (allow rules) fail closed.
    e.decide(kb(45_000));
    const late = e.decide(kb(1_000));
    expect(late.rules).toEqual(["any"]);
    expect(late.errors.join(" ")).toContain("dated more than the longest window before attempts already seen");
  });

  it("a count reaching back past what the session keeps denies without revoking, saying why (review a5 F3)", () => {
    const e = engineWith('  @name("rate") deny * when session.count(within 1m) > 30 reason "more than 30 calls a minute" revoke\n  allow kb.search');
    expect(e.decide(kb(0)).decision).toBe("allow");
    expect(e.decide(kb(180_000)).decision).toBe("allow");
    const late = e.decide(kb(30_000));
    expect(late).toMatchObject({ decision: "deny", rules: ["rate"], revoked: false });
    expect(late.errors).toEqual(["rate: session.count: this attempt is dated more than the longest window before attempts already seen, and the attempts just before it were already let go"]);
    expect(late.reasons).toEqual([
      "its session.count cannot be told: the request is dated so far before the latest attempt of its session that the count reaches back past the attempts the session still keeps (request times out of order, or a clock that stepped back), so it is denied (fails closed) without revoking the session",
    ]);
    // The session goes on: three calls are no flood.
    expect(e.decide(kb(181_000))).toMatchObject({ decision: "allow", revoked: false });
  });

  it("a back-dated request still revokes through a deny … revoke whose condition held, as before (review r2 #1)", () => {
    const e = engineWith(
      [
        '  @name("rate") deny * when session.count(within 1m) > 30 reason "more than 30 calls a minute" revoke',
        '  @name("exfil") deny http.get when args.url == "https://evil.example/" reason "exfiltration" revoke',
        "  allow kb.search, http.get",
      ].join("\n"),
    );
    e.decide(kb(0));
    e.decide(kb(180_000));
    // Dated before what the window keeps: `rate` fails closed, `exfil` holds and revokes.
    const late = e.decide(call("http.get", 30_000, { args: { url: "https://evil.example/" } }));
    expect(late).toMatchObject({ decision: "deny", rules: ["rate", "exfil"], revoked: true });
    expect(late.reasons[1]).toBe("exfiltration");
    expect(e.decide(kb(181_000))).toMatchObject({ decision: "deny", rules: ["exfil"], revoked: true, errors: [] });
  });

  it("a late request whose rules read no count reaching back is decided as usual (review r2 #2)", () => {
    const e = engineWith('  deny kb.search when args.query == "shadow" and session.count(kb.search, within 1s) > 5\n  allow kb.search, http.get');
    e.decide(kb(0));
    e.decide(kb(500));
    e.decide(kb(3_000)); // lets 0 and 500 go (2 s kept)
    // 1.6 s late: a count of kb.search would reach past the attempts kept, but nothing reads it.
    expect(e.decide(call("http.get", 1_400))).toMatchObject({ decision: "allow", errors: [] });
    expect(e.decide(kb(1_400, "other"))).toMatchObject({ decision: "allow", errors: [] });
    expect(e.decide(kb(1_400, "shadow"))).toMatchObject({ decision: "deny", revoked: false });
  });

  it("undated requests after one dated ahead are decided as usual, never denied as out of order (review r2 #2)", () => {
    let clock = T0;
    const e = engineWith('  @name("burst") deny kb.search when session.count(kb.search, within 10s) > 20\n  @name("flaky") deny * when session.denials >= 2 revoke\n  allow kb.search, http.get', { clock: () => clock, maxTimeSkewMs: 30_000 });
    const undated = (tool: string): Record<string, unknown> => {
      const { time: _, ...rest } = call(tool, 0);
      return rest;
    };
    expect(e.decide(undated("kb.search")).decision).toBe("allow");
    clock += 1_000;
    expect(e.decide(kb(clock - T0 + 25_000)).decision).toBe("allow"); // a replica's clock 25 s ahead
    for (const step of [1_000, 5_000, 1_000, 1_000]) {
      clock += step;
      expect(e.decide(undated("http.get"))).toMatchObject({ decision: "allow", revoked: false });
    }
  });

  it("an approval dated before what the window keeps is accepted, as it reads no count (review r2 #2)", () => {
    const e = engineWith("  deny kb.search when session.count(kb.search, within 1m) > 30\n  ask http.get\n  allow kb.search");
    expect(e.decide(call("http.get", 0)).decision).toBe("ask");
    e.decide(kb(60_000));
    e.decide(kb(130_000)); // lets the ask at 0 go
    expect(e.approved(call("http.get", 50_000))).toBe(true);
  });

  it("session.called keeps the latest allowed time", () => {
    const e = engine(flags({ recent: "session.called(crm.lookup, within 10s)" }));
    e.decide(call("crm.lookup", 30_000));
    e.decide(call("crm.lookup", 1_000)); // arrives late
    expect(held(e.decide(kb(35_000)), { recent: "" })).toEqual(["recent"]);
  });
});

describe("session.denials", () => {
  it("counts denied attempts only, this one excluded", () => {
    const e = engine(probes("denials", "session.denials", range(6)));
    expect(read(e.decide(kb(0)), "denials")).toBe("0");
    e.decide(kb(1, "deny"));
    e.decide(kb(2, "ask"));
    expect(read(e.decide(kb(3)), "denials")).toBe("1");
    e.decide(kb(4, "deny"));
    e.decide(kb(5, "q", { agent: "not an object" })); // invalid: denied
    expect(read(e.decide(kb(6)), "denials")).toBe("3");
  });
});

describe("session.labels", () => {
  const names = { pii: "session.labels contains pii", secret: "session.labels contains secret", internal: "session.labels contains internal", public: "session.labels contains public" };
  const labelled = (tool: string, ms: number, labels: string[], query?: string): Record<string, unknown> =>
    call(tool, ms, { context: { labels, env: "prod" }, ...(query ? { args: { query } } : {}) });

  it("is the taint of allowed calls: their context.labels and their tools' returns, this call excluded", () => {
    const e = engine(Object.values(flags(names)));
    expect(held(e.decide(labelled("kb.search", 0, ["secret"])), names)).toEqual([]); // its own labels are not visible yet
    expect(held(e.decide(labelled("kb.search", 1, [])), names)).toEqual(["secret"]);
    expect(held(e.decide(labelled("crm.lookup", 2, ["internal"])), names)).toEqual(["secret"]); // crm.lookup returns pii
    expect(held(e.decide(labelled("kb.search", 3, [])), names)).toEqual(["internal", "pii", "secret"]);
  });

  it("ignores denied and asked calls", () => {
    const e = engine([...flags(names), "  ask crm.lookup"]);
    expect(e.decide(labelled("kb.search", 0, ["secret"], "deny")).decision).toBe("deny");
    expect(e.decide(labelled("kb.search", 1, ["internal"], "ask")).decision).toBe("ask");
    expect(e.decide(labelled("crm.lookup", 2, ["public"])).decision).toBe("ask"); // returns pii, but asked
    expect(held(e.decide(labelled("kb.search", 3, [])), names)).toEqual([]);
  });
});

describe("session.tools", () => {
  const names = { crm: "session.tools contains crm.lookup", kb: "session.tools contains kb.search", mail: "session.tools contains email.send" };

  it("is the set of tools allowed so far, this call excluded", () => {
    const e = engine([...flags(names), '  deny email.send when args.subject == "deny"']);
    expect(held(e.decide(kb(0)), names)).toEqual([]);
    expect(held(e.decide(call("crm.lookup", 1)), names)).toEqual(["kb"]);
    expect(e.decide(call("email.send", 2, { args: { ...ARGS["email.send"], subject: "deny" } })).decision).toBe("deny");
    expect(held(e.decide(kb(3)), names)).toEqual(["crm", "kb"]);
  });
});

describe("session.repeats", () => {
  it("counts the identical attempts immediately before this one", () => {
    const e = engine(probes("repeats", "session.repeats", range(8)));
    expect(read(e.decide(kb(0, "same")), "repeats")).toBe("0");
    expect(read(e.decide(kb(1, "same")), "repeats")).toBe("1");
    e.decide(kb(2, "ask")); // a different call breaks the run
    expect(read(e.decide(kb(3, "same")), "repeats")).toBe("0");
    expect(read(e.decide(kb(4, "same")), "repeats")).toBe("1");
    expect(read(e.decide(kb(5, "same")), "repeats")).toBe("2");
    // Same args, other tool: not a repeat.
    expect(read(e.decide(call("crm.lookup", 6, { args: { customer_id: "same" } })), "repeats")).toBe("0");
  });

  it("compares arguments by deep equality: key order does not matter, list order does", () => {
    const e = engine(probes("repeats", "session.repeats", range(8)));
    const mail = (ms: number, args: Record<string, unknown>): Record<string, unknown> => call("email.send", ms, { args });
    expect(read(e.decide(mail(0, { to: ["a@acme.com", "b@acme.com"], subject: "s", body: "b", meta: { x: 1, y: [1, { p: 1, q: 2 }] } })), "repeats")).toBe("0");
    expect(read(e.decide(mail(1, { meta: { y: [1, { q: 2, p: 1 }], x: 1 }, body: "b", subject: "s", to: ["a@acme.com", "b@acme.com"] })), "repeats")).toBe("1");
    const parsed = JSON.parse('{"body":"b","meta":{"x":1,"y":[1,{"p":1,"q":2}]},"subject":"s","to":["a@acme.com","b@acme.com"]}') as Record<string, unknown>;
    expect(read(e.decide(mail(2, parsed)), "repeats")).toBe("2");
    expect(read(e.decide(mail(3, { to: ["b@acme.com", "a@acme.com"], subject: "s", body: "b", meta: { x: 1, y: [1, { p: 1, q: 2 }] } })), "repeats")).toBe("0");
  });

  it("compares declared sets as sets, at any depth: reordered set items are a repeat, reordered list items are not", () => {
    const decls = "\ntype Target { labels: set<string>, path: list<string>, inner?: Target }\ntool tag.apply { args { tags: set<string>, targets: list<Target> } }\n";
    const e = engineWith(["  @name(\"loop\") deny tag.apply when session.repeats >= 2", "  allow tag.apply"].join("\n"), undefined, decls);
    const tag = (ms: number, args: Record<string, unknown>): Record<string, unknown> => request({ tool: "tag.apply", intent: undefined, time: at(ms), args });
    const target = (labels: string[], path: string[], inner?: unknown): Record<string, unknown> => ({ labels, path, ...(inner ? { inner } : {}) });
    expect(e.decide(tag(0, { tags: ["a", "b"], targets: [target(["x", "y"], ["p", "q"], target(["m", "n"], []))] })).decision).toBe("allow");
    expect(e.decide(tag(1, { tags: ["b", "a", "a"], targets: [target(["y", "x"], ["p", "q"], target(["n", "m"], []))] })).decision).toBe("allow");
    // Third identical call (sets reordered at every level): a loop.
    expect(e.decide(tag(2, { targets: [target(["x", "y", "x"], ["p", "q"], target(["m", "n"], []))], tags: ["a", "b"] }))).toMatchObject({ decision: "deny", rules: ["loop"] });
    // A list in another order is another call; so is a different set.
    expect(e.decide(tag(3, { tags: ["a", "b"], targets: [target(["x", "y"], ["q", "p"])] })).decision).toBe("allow");
    expect(e.decide(tag(4, { tags: ["a", "b"], targets: [target(["x", "y"], ["q", "p"])] })).decision).toBe("allow");
    expect(e.decide(tag(5, { tags: ["a", "c"], targets: [target(["x", "y"], ["q", "p"])] })).decision).toBe("allow");
  });

  it("compares large sets by their members (40,000 items reversed are a repeat), and so does an invalid attempt", () => {
    const decls = "\ntool tag.apply { args { tags: set<string> } }\n";
    const e = engineWith(['  @name("loop") deny tag.apply when session.repeats >= 2', "  allow tag.apply"].join("\n"), undefined, decls);
    const tag = (ms: number, tags: unknown, extra: Record<string, unknown> = {}): Record<string, unknown> => request({ tool: "tag.apply", intent: undefined, time: at(ms), args: { tags }, ...extra });
    const big = Array.from({ length: 40_000 }, (_, i) => `t${i}`);
    expect(e.decide(tag(0, big)).decision).toBe("allow");
    expect(e.decide(tag(1, [...big].reverse())).decision).toBe("allow");
    expect(e.decide(tag(2, big))).toMatchObject({ decision: "deny", rules: ["loop"] });
    // An invalid attempt (no agent) with the set reordered continues the run too.
    const f = engineWith(['  @name("loop") deny tag.apply when session.repeats >= 3', "  allow tag.apply"].join("\n"), undefined, decls);
    f.decide(tag(0, ["a", "b"]));
    f.decide(tag(1, ["b", "a"]));
    expect(f.decide(tag(2, ["b", "a"], { agent: undefined })).decision).toBe("deny");
    expect(f.decide(tag(3, ["a", "b"]))).toMatchObject({ decision: "deny", rules: ["loop"] });
  });

  it("compares sets of records holding sets by their members at every level, in linear time", () => {
    const decls = "\ntype Tag { k: int }\ntype Item { tags: set<Tag>, name: string }\ntool tag.items { args { items: set<Item> } }\n";
    const e = engineWith(['  @name("loop") deny tag.items when session.repeats >= 2', "  allow tag.items"].join("\n"), undefined, decls);
    const call = (ms: number, items: unknown): Record<string, unknown> => request({ tool: "tag.items", intent: undefined, time: at(ms), args: { items } });
    const items = Array.from({ length: 160 }, (_, i) => ({ name: `n${i}`, tags: Array.from({ length: 160 }, (_, j) => ({ k: j })) }));
    const shuffled = [...items].reverse().map((item) => ({ tags: [...item.tags].reverse(), name: item.name }));
    expect(e.decide(call(0, items)).decision).toBe("allow");
    expect(e.decide(call(1, shuffled)).decision).toBe("allow");
    expect(e.decide(call(2, items))).toMatchObject({ decision: "deny", rules: ["loop"] });
  });

  it("containsAny / containsAll over long request lists give the same answers as over short ones", () => {
    const decls = "\ntool tag.many { args { a: list<string>, b: list<string> } }\n";
    const e = engineWith(['  @name("any") allow tag.many when args.a containsAny args.b', '  @name("all") allow tag.many when args.a containsAll args.b'].join("\n"), undefined, decls);
    const call = (a: string[], b: string[]): Record<string, unknown> => request({ tool: "tag.many", intent: undefined, args: { a, b } });
    const a = Array.from({ length: 40_000 }, (_, i) => `x${i}`);
    expect(e.decide(call(a, [...a].reverse())).rules).toEqual(["any", "all"]);
    expect(e.decide(call(a, ["nope", "x39999"])).rules).toEqual(["any"]);
    expect(e.decide(call(a, Array.from({ length: 40_000 }, (_, i) => `y${i}`))).decision).toBe("deny");
  });

  it("compares declared arguments only: an undeclared extra one (a nonce, a page) neither breaks nor starts a run", () => {
    const e = engine(probes("repeats", "session.repeats", range(8)));
    expect(read(e.decide(kb(0, "same", { args: { query: "same", page: 1 } })), "repeats")).toBe("0");
    expect(read(e.decide(kb(1, "same", { args: { query: "same", page: 2 } })), "repeats")).toBe("1");
    expect(read(e.decide(kb(2, "same", { args: { page: 2, query: "same", nonce: "a1" } })), "repeats")).toBe("2");
    expect(read(e.decide(kb(3, "same", { args: { query: "same" } })), "repeats")).toBe("3");
    expect(read(e.decide(kb(4, "other", { args: { query: "other", page: 1 } })), "repeats")).toBe("0");
  });

  it("counts denied attempts too (the context is not part of the call); an invalid attempt continues or breaks the run", () => {
    const e = engine(['  @name("block") deny kb.search when context.env == "blocked"', ...probes("repeats", "session.repeats", range(8))]);
    const blocked = { context: { labels: [], env: "blocked" } };
    expect(e.decide(kb(0, "x", blocked)).decision).toBe("deny");
    expect(e.decide(kb(1, "x", blocked)).decision).toBe("deny");
    expect(read(e.decide(kb(2, "x")), "repeats")).toBe("2");
    expect(e.decide(kb(3, "x", { agent: "not an object" })).decision).toBe("deny"); // invalid, same tool and args
    expect(read(e.decide(kb(4, "x")), "repeats")).toBe("4");
    expect(e.decide(kb(5, "x", { tool: "no.such.tool" })).decision).toBe("deny"); // an attempt of another tool
    expect(read(e.decide(kb(6, "x")), "repeats")).toBe("0");
  });
});

describe("session.age", () => {
  it("is the time since the session's first attempt", () => {
    // (The engine's clock reads each request's time, as at an enforcement point stamping it: a
    // session starts when its first attempt arrives by that clock.)
    const e = engine(flags({ zero: "session.age == 0ms", second: "session.age == 1s", minute: "session.age >= 1m" }), { clock: stampedClock });
    const names = { zero: "", second: "", minute: "" };
    expect(held(e.decide(kb(0)), names)).toEqual(["zero"]);
    expect(held(e.decide(kb(1_000)), names)).toEqual(["second"]);
    expect(held(e.decide(kb(59_999)), names)).toEqual([]);
    expect(held(e.decide(kb(60_000)), names)).toEqual(["minute"]);
  });

  it("starts at the first attempt even when it was denied", () => {
    const e = engine(flags({ second: "session.age == 1s" }), { clock: stampedClock });
    e.decide(kb(0, "deny"));
    expect(held(e.decide(kb(1_000)), { second: "" })).toEqual(["second"]);
  });
});

describe("session.called", () => {
  const names = { ever: "session.called(crm.lookup)", recent: "session.called(crm.lookup, within 1m)", kb: "session.called(kb.*)" };

  it("is true after an allowed call of a matching tool (within D, edges included); asks and denials do not count", () => {
    const e = engine([...flags(names), '  ask crm.lookup when args.customer_id == "ask"', '  deny crm.lookup when args.customer_id == "deny"']);
    expect(e.decide(call("crm.lookup", 0, { args: { customer_id: "ask" } })).decision).toBe("ask");
    expect(e.decide(call("crm.lookup", 1, { args: { customer_id: "deny" } })).decision).toBe("deny");
    expect(held(e.decide(call("http.get", 2)), names)).toEqual([]); // neither counts
    expect(held(e.decide(call("crm.lookup", 1_000)), names)).toEqual([]); // this call excluded
    expect(held(e.decide(call("http.get", 2_000)), names)).toEqual(["ever", "recent"]);
    expect(held(e.decide(call("http.get", 61_000)), names)).toEqual(["ever", "recent"]); // exactly 1m after
    expect(held(e.decide(call("http.get", 61_001)), names)).toEqual(["ever"]);
    expect(held(e.decide(kb(62_000)), names)).toEqual(["ever"]);
    expect(held(e.decide(kb(63_000)), names)).toEqual(["ever", "kb"]);
  });
});

describe("session.last", () => {
  it('is the tool of the previous attempt, "" for the first', () => {
    const names = { none: 'session.last == ""', kb: "session.last == kb.search", crm: "session.last == crm.lookup" };
    const e = engine(flags(names));
    expect(held(e.decide(call("crm.lookup", 0)), names)).toEqual(["none"]);
    expect(held(e.decide(kb(1)), names)).toEqual(["crm"]);
    expect(e.decide(kb(2, "deny")).decision).toBe("deny");
    e.decide(call("crm.lookup", 3, { args: { customer_id: 7 } })); // invalid, still an attempt of crm.lookup
    expect(held(e.decide(kb(4)), names)).toEqual(["crm"]);
    expect(held(e.decide(kb(5)), names)).toEqual(["kb"]);
  });
});

describe("attempts out of time order (clock skew, merged logs)", () => {
  it("session.age is measured from the first attempt as it arrived, never negative: a back-dated request does not age a session (review a5 F1)", () => {
    const e = engine([...flags({ negative: "session.age < 0s" }), ...probes("age", "session.age", ["0s", "50s"])], { clock: stampedClock });
    e.decide(kb(100_000));
    expect(held(e.decide(kb(50_000)), { negative: "" })).toEqual([]);
    expect(read(e.decide(kb(100_000)), "age")).toBe("0s");
    expect(read(e.decide(kb(150_000)), "age")).toBe("50s");
  });

  it("session.age starts at the engine's clock when the first attempt arrived, however that attempt is dated (review r2 #3, audit a5 H2)", () => {
    let clock = T0;
    const rules = '  @name("max-life") deny * when session.age > 1h reason "at most one hour" revoke\n  @name("young") deny kb.search when session.age < 10m and args.query == "young" reason "too young"\n  allow kb.search';
    const e = engineWith(rules, { clock: () => clock });
    const undated = (query = "q"): Record<string, unknown> => {
      const { time: _, ...rest } = kb(0, query);
      return rest;
    };
    // Dated 20 minutes ahead of the engine's clock: the session starts at the clock's reading
    // (so this attempt is 20 minutes into it).
    expect(e.decide(kb(20 * 60_000)).decision).toBe("allow");
    clock += 30 * 60_000;
    expect(e.decide(undated()).decision).toBe("allow");
    clock += 31 * 60_000;
    expect(e.decide(undated())).toMatchObject({ decision: "deny", rules: ["max-life"], revoked: true });
    // Dated behind the clock: it starts at the clock too, so neither that first request nor a
    // later one dated earlier makes it older.
    clock = T0 + 10 * 60_000;
    const f = engineWith(rules, { clock: () => clock });
    expect(f.decide(kb(5 * 60_000, "q", { session: "t" })).decision).toBe("allow");
    expect(f.decide(kb(-50 * 60_000, "q", { session: "t" })).decision).toBe("allow");
    expect(f.decide(kb(6 * 60_000, "young", { session: "t" })).rules).toEqual(["young"]);
  });

  it("session.age against a model: the clock's reading at the first arrival to each request's date, never negative, whatever either is dated (audit a5 H2)", () => {
    const M = 60_000;
    // Each request dated this far from the engine's clock when it arrives (undefined: no time).
    const offsets = [undefined, 0, 1, -1, 5 * M, -5 * M, -30 * M];
    for (const first of offsets) {
      for (const arrives of [10 * M - 1, 10 * M, 10 * M + 1, 20 * M]) {
        for (const later of offsets) {
          let clock = T0;
          const e = engineWith('  @name("young") deny kb.search when session.age < 10m reason "too young"\n  allow kb.search', { clock: () => clock });
          const dated = (offset: number | undefined): Record<string, unknown> => {
            const { time: _, ...undated } = kb(0);
            return offset === undefined ? undated : { ...undated, time: new Date(clock + offset).toISOString() };
          };
          e.decide(dated(first));
          clock = T0 + arrives;
          const age = Math.max(0, clock + (later ?? 0) - T0);
          const young = e.decide(dated(later)).rules.includes("young");
          expect(young, `first dated ${first}, the next arriving at ${arrives} dated ${later}`).toBe(age < 10 * M);
        }
      }
    }
  });

  it("a back-dated first request does not make its session older: the next, undated, is still young by the clock (audit a5 H2)", () => {
    let clock = T0;
    const e = engineWith('  @name("young") deny kb.search when session.age < 10m reason "too young"\n  allow kb.search', { clock: () => clock });
    const { time: _, ...undated } = kb(0);
    expect(e.decide({ ...undated, time: new Date(T0 - 30 * 60_000).toISOString() }).rules).toEqual(["young"]);
    clock += 60_000;
    expect(e.decide(undated).rules).toEqual(["young"]);
    // The explanation agrees, and so does a session that started undated.
    expect(explain(e, undated).rules.find((r) => r.id === "young")!.matched).toBe(true);
    clock += 9 * 60_000;
    expect(e.decide(undated).decision).toBe("allow");
  });

  it("a back-dated request cannot open a deny … when session.age < D", () => {
    const e = engineWith('  @name("young") deny kb.search when session.age < 10m reason "too young"\n  allow kb.search', { clock: stampedClock });
    expect(e.decide(kb(15 * 60_000)).rules).toEqual(["young"]);
    expect(e.decide(kb(5 * 60_000)).rules).toEqual(["young"]);
    expect(e.decide(kb(16 * 60_000)).rules).toEqual(["young"]);
    expect(e.decide(kb(25 * 60_001)).decision).toBe("allow");
  });
});

describe("session lifetime and memory", () => {
  it("expires a session idle longer than sessionIdleMs (by its own times): later attempts are denied, not started afresh", () => {
    const e = engine(probes("calls", "session.calls", range(5)), { sessionIdleMs: 1_000, expiredSessionMs: 10_000, clock: stampedClock });
    expect(read(e.decide(kb(0)), "calls")).toBe("0");
    expect(read(e.decide(kb(900)), "calls")).toBe("1");
    expect(read(e.decide(kb(1_900)), "calls")).toBe("2"); // idle 1,000 ms: not more, kept
    const expired = e.decide(kb(3_000));
    expect(expired).toMatchObject({ decision: "deny", rules: [], revoked: false, reasons: ["the session has expired: start a new session"] });
    expect(expired.errors[0]).toBe('session "s" has expired: its attempt is dated 1.1 seconds after its previous one (the request\'s time, or the engine\'s clock for a request without one), more than sessionIdleMs (1 second) allows: it made no attempt in between, or the clock stepped ahead by that much, so what it did before (data it touched, counts) is gone and it cannot go on: its id is denied for expiredSessionMs (10 seconds) after its last attempt and then starts a new session that knows none of it, so start a new session only with an agent context that holds none of the data this one touched (not this conversation carried on under a new id)');
    // Attempts on an expired session keep it remembered; other sessions are not affected.
    expect(e.decide(kb(12_000)).decision).toBe("deny");
    expect(read(e.decide(kb(12_001, "q", { session: "b" })), "calls")).toBe("0");
    // Remembered for expiredSessionMs after its last attempt (forgotten by the first sweep
    // after that); then the id starts a new session.
    expect(e.decide(kb(21_900)).decision).toBe("deny");
    expect(read(e.decide(kb(32_000)), "calls")).toBe("0");
  });

  it("explain sees a session as decide will: live, expired, or forgotten by the sweep decide runs first (a new session)", () => {
    // Gaps after the session's last attempt (idle 1 s, expired records kept 10 s): live, idle,
    // idle past the sweep's margin, and forgotten (an attempt a day later starts afresh).
    for (const gap of [500, 1_500, 2_500, 5_000, 11_500, 12_500, 30_000]) {
      for (const otherSessionFirst of [false, true]) {
        const e = engine(probes("calls", "session.calls", range(5)), { sessionIdleMs: 1_000, expiredSessionMs: 10_000 });
        e.decide(kb(0));
        if (otherSessionFirst) e.decide(kb(gap - 1, "q", { session: "other" })); // the sweep has run already
        const explained = explain(e, kb(gap));
        const decided = e.decide(kb(gap));
        const expired = /has expired/.test(decided.reasons[0] ?? "");
        expect({ gap, otherSessionFirst, note: explained.note !== null }).toEqual({ gap, otherSessionFirst, note: expired });
        if (!expired) expect(explained.rules.filter((r) => r.matched === true).map((r) => r.id)).toEqual(decided.rules);
      }
    }
  });

  it("explain moves its idea of the clock as decide would when the wall clock steps back", () => {
    let wall = T0 + 100_000;
    const e = engine(probes("calls", "session.calls", range(5)), { sessionIdleMs: 1_000, expiredSessionMs: 1_000, clock: () => wall });
    e.decide(kb(0));
    wall = T0; // stepped back: the limit on request times worked out before still holds
    const explained = explain(e, kb(10_000));
    const decided = e.decide(kb(10_000));
    // By the stepped-back wall clock the session went idle 500 ms ago (not twice the idle time):
    // the sweep keeps its record, and its own clock expires it, in both.
    expect(decided.errors[0]).toMatch(/^session "s" has expired/);
    expect(explained.note).toMatch(/has expired/);
    // Five seconds later by the wall clock: gone for good, forgotten by the sweep decide runs first: a new session, in both.
    wall = T0;
    const later = engine(probes("calls", "session.calls", range(5)), { sessionIdleMs: 1_000, expiredSessionMs: 1_000, clock: () => wall });
    later.decide(kb(0));
    wall = T0 + 5_000;
    const explainedLater = explain(later, kb(10_000));
    expect(read(later.decide(kb(10_000)), "calls")).toBe("0");
    expect(explainedLater.note).toBeNull();
    // But a session that arrived when the wall clock read later than it does now is not
    // forgotten: no time has passed by the engine's clock (only that forgets a session), so it
    // is expired by its own clock, in both.
    wall = T0 + 100_000;
    const stepped = engine(probes("calls", "session.calls", range(5)), { sessionIdleMs: 1_000, expiredSessionMs: 1_000, clock: () => wall });
    stepped.decide(kb(0));
    wall = T0 + 5_000;
    const explainedStepped = explain(stepped, kb(10_000));
    expect(stepped.decide(kb(10_000)).errors[0]).toMatch(/^session "s" has expired/);
    expect(explainedStepped.note).toMatch(/has expired/);
  });

  it("observe moves the clock as deciding the request would, deciding nothing: the same sweeps, the same later decisions", () => {
    const opts = { sessionIdleMs: 1_000, expiredSessionMs: 10_000, clock: stampedClock };
    const decided = engine(probes("calls", "session.calls", range(5)), opts);
    const observed = engine(probes("calls", "session.calls", range(5)), opts);
    for (const e of [decided, observed]) e.decide(kb(0));
    decided.decide(kb(2_500, "q", { session: "other" }));
    observed.observe(kb(2_500, "q", { session: "other" }));
    // Both swept s (idle for more than twice the idle time by the latest time seen): its late
    // attempt dated 900 ms after its last is denied as expired in both; `other` exists only where decided.
    for (const e of [decided, observed]) expect(e.decide(kb(900)).errors[0]).toMatch(/^session "s" has expired/);
    expect(observed.sessions.get("other")).toBeUndefined();
    expect(decided.sessions.get("other")).toBeDefined();
    // What decide refuses before it looks at sessions moves nothing.
    const quiet = engine(probes("calls", "session.calls", range(5)), opts);
    quiet.decide(kb(0));
    for (const bad of [null, [], { session: "x", tool: "kb.search", time: "yesterday" }, { tool: "kb.search", time: at(2_500) }, { session: "x", time: at(2_500) }]) quiet.observe(bad);
    expect(read(quiet.decide(kb(900)), "calls")).toBe("1");
  });

  it("frees the state of idle sessions (keeping only that they expired) and forgets them later", () => {
    const e = engine(probes("calls", "session.calls", range(5)), { sessionIdleMs: 1_000, expiredSessionMs: 10_000, clock: stampedClock });
    e.decide(kb(0));
    e.decide(kb(100, "q", { session: "b" }));
    e.decide(kb(2_500, "q", { session: "c" })); // sweeps: a and b idle for more than twice the idle time
    expect(e.sessions.get("s")).toBeUndefined();
    expect(e.sessions.size).toBe(1);
    expect(e.decide(kb(2_600)).decision).toBe("deny");
    e.decide(kb(30_000, "q", { session: "c" })); // sweeps the expired records too
    expect(read(e.decide(kb(30_001)), "calls")).toBe("0");
  });

  it("keeps revocations for ever by default: every later attempt is denied (language.md §5)", () => {
    const e = engineWith('  @name("kill") deny kb.search when args.query == "kill" revoke\n  allow kb.search', { sessionIdleMs: 1_000, clock: () => T0 + 3 * 365 * 24 * 60 * 60 * 1000 });
    expect(e.decide(kb(0, "kill"))).toMatchObject({ decision: "deny", revoked: true });
    for (let day = 1; day <= 400; day += 7) e.decide(kb(day * 24 * 60 * 60 * 1000, "q", { session: "other" })); // sweeps
    expect(e.decide(kb(2 * 365 * 24 * 60 * 60 * 1000))).toMatchObject({ decision: "deny", rules: ["kill"], revoked: true });
  });

  it("keeps revocations for revokedSessionMs when set", () => {
    // Requests stamped with the engine's clock: its time passing forgets the revocation.
    const e = engineWith('  @name("kill") deny kb.search when args.query == "kill" revoke\n  allow kb.search', { sessionIdleMs: 1_000, revokedSessionMs: 7 * 24 * 60 * 60 * 1000, clock: stampedClock });
    expect(e.decide(kb(0, "kill"))).toMatchObject({ decision: "deny", revoked: true });
    e.decide(kb(60_000, "q", { session: "other" })); // sweeps
    expect(e.decide(kb(60_001))).toMatchObject({ decision: "deny", rules: ["kill"], revoked: true });
    // A day later, and six days after that (attempts keep it remembered): still revoked.
    const dayLater = 60_001 + 24 * 60 * 60 * 1000 + 1;
    e.decide(kb(dayLater, "q", { session: "other" }));
    expect(e.decide(kb(dayLater + 1))).toMatchObject({ decision: "deny", rules: ["kill"], revoked: true });
    expect(e.decide(kb(dayLater + 6 * 24 * 60 * 60 * 1000))).toMatchObject({ decision: "deny", rules: ["kill"], revoked: true });
    // Seven days of silence (and the sweep's margin of one idle time): forgotten.
    expect(e.decide(kb(dayLater + 13 * 24 * 60 * 60 * 1000 + 2_000))).toMatchObject({ decision: "allow", revoked: false });
  });

  it("revokedSessionMs alone bounds how long revoked sessions are kept, shorter than expiredSessionMs too (review a2 #3)", () => {
    const hour = 60 * 60 * 1000;
    let wall = T0;
    const e = engineWith('  @name("kill") deny kb.search when args.query == "kill" revoke\n  allow kb.search', { revokedSessionMs: hour, clock: () => wall });
    const revoked = 1_000;
    for (let i = 0; i < revoked; i++) expect(e.decide(kb(0, "kill", { session: `r${i}`, time: undefined }))).toMatchObject({ decision: "deny", revoked: true });
    e.decide(kb(0, "q", { session: "quiet", time: undefined }));
    expect(e.sessions.size).toBe(revoked + 1);
    // Within the hour every revocation holds.
    wall = T0 + 59 * 60_000;
    expect(e.decide(kb(0, "q", { session: "r0", time: undefined }))).toMatchObject({ decision: "deny", rules: ["kill"], revoked: true });
    // An hour after their last attempt (and the next sweep, every quarter of sessionIdleMs) the
    // store holds nothing of the others: neither their state nor a record. r0 attempted later.
    wall = T0 + hour + 15 * 60_000 + 1;
    e.decide(kb(0, "q", { session: "other", time: undefined }));
    expect(e.sessions.holds("r1")).toBe(false);
    expect(e.sessions.holds("r0")).toBe(true);
    expect(e.sessions.size + e.sessions.recordCount).toBe(3); // r0, quiet (idle, not yet freed), other
    // The merely expired session is kept for expiredSessionMs (one day): still denied as expired.
    wall = T0 + 3 * hour;
    expect(e.decide(kb(0, "q", { session: "quiet", time: undefined })).reasons[0]).toMatch(/has expired/);
    expect(e.decide(kb(0, "q", { session: "r0", time: undefined })).decision).toBe("allow"); // 2 h after its last attempt: a new session
  });

  it("without revokedSessionMs, revoked sessions are kept for ever: a record each, after their state is freed", () => {
    let wall = T0;
    const e = engineWith('  @name("kill") deny kb.search when args.query == "kill" revoke\n  allow kb.search', { clock: () => wall });
    for (let i = 0; i < 100; i++) e.decide(kb(0, "kill", { session: `r${i}`, time: undefined }));
    wall = T0 + 30 * 24 * 60 * 60 * 1000;
    e.decide(kb(0, "q", { session: "other", time: undefined }));
    expect(e.sessions.size).toBe(1);
    expect(e.sessions.recordCount).toBe(100);
    expect(e.decide(kb(0, "q", { session: "r7", time: undefined }))).toMatchObject({ decision: "deny", rules: ["kill"], revoked: true });
  });

  it("sessions dated far ahead of the wall clock are swept once idle by it: they cannot hold maxSessions for ever", () => {
    let wall = T0;
    const e = engineWith("  allow kb.search", { sessionIdleMs: 60 * 60 * 1000, maxSessions: 2, clock: () => wall });
    const yearAhead = 365 * 24 * 60 * 60 * 1000;
    expect(e.decide(kb(yearAhead, "q", { session: "a" })).decision).toBe("allow");
    expect(e.decide(kb(yearAhead, "q", { session: "b" })).decision).toBe("allow");
    expect(e.decide(kb(0, "q", { session: "honest" })).errors[0]).toContain("cannot start");
    wall = T0 + 3 * 60 * 60 * 1000;
    expect(e.decide(kb(3 * 60 * 60 * 1000, "q", { session: "honest" })).decision).toBe("allow");
    expect(e.sessions.size).toBe(1);
    // The far-ahead sessions were expired, not forgotten: they stay refused for expiredSessionMs.
    expect(e.decide(kb(yearAhead + 1, "q", { session: "a" })).reasons[0]).toMatch(/has expired/);
  });

  it("a store at its size limit refuses new sessions (fail closed) and keeps every revocation it holds", () => {
    // The engine's clock at each arrival (the third argument) is the attempt's time.
    const store = new SessionStore(engineWith("  allow kb.search").sessions.use, ["kb.search"], { idleMs: 1000, storeLimit: 3 });
    const revoked = store.getOrCreate("r", T0, T0) as SessionState;
    revoked.revoked = { rules: ["kill"], reasons: ["killed"], locations: ["p:1:1"], errors: [], at: T0, tool: "kb.search" };
    expect(store.getOrCreate("a", T0, T0)).not.toBeNull();
    expect(store.getOrCreate("b", T0, T0)).not.toBeNull();
    expect(store.getOrCreate("c", T0, T0)).toBeNull();
    expect(store.fullBecause).toBe("the engine already holds 3 live, expired and revoked sessions, as many as it can keep, and makes room only as expired and revoked sessions are forgotten (expiredSessionMs and revokedSessionMs after their last attempt): lower those");
    // Hours later all three are idle: expired, their records kept (the revocation for ever), so still no room.
    const hours = T0 + 3 * 60 * 60 * 1000;
    expect(store.getOrCreate("c", hours, hours)).toBeNull();
    expect(store.getOrCreate("r", hours, hours)).toMatchObject({ revoked: { rules: ["kill"] } });
    // A day and more later the merely expired records are forgotten: room again; the revocation stays.
    const later = T0 + 30 * 60 * 60 * 1000;
    expect(store.getOrCreate("c", later, later)).not.toBeNull();
    expect(store.getOrCreate("r", later, later)).toMatchObject({ revoked: { rules: ["kill"] } });
  });

  it("a request dated ahead cannot get a revoked or expired session a clean start", () => {
    const e = engineWith('  @name("kill") deny kb.search when args.query == "kill" revoke\n  allow kb.search', { sessionIdleMs: 1_000, clock: () => T0 });
    expect(e.decide(kb(0, "kill"))).toMatchObject({ decision: "deny", revoked: true });
    const nineDays = 9 * 24 * 60 * 60 * 1000;
    for (const ms of [2 * 60 * 60 * 1000, nineDays, nineDays + 1, 5_000]) expect(e.decide(kb(ms)), String(ms)).toMatchObject({ decision: "deny", rules: ["kill"], revoked: true });
    // The same for an expired session, and for other sessions' requests dated ahead.
    e.decide(kb(0, "q", { session: "b" }));
    expect(e.decide(kb(nineDays, "q", { session: "b" })).reasons[0]).toMatch(/has expired/);
    e.decide(kb(30 * nineDays, "q", { session: "c" }));
    expect(e.decide(kb(6_000, "q", { session: "b" })).reasons[0]).toMatch(/has expired/);
    expect(e.decide(kb(6_001))).toMatchObject({ decision: "deny", rules: ["kill"] });
  });

  it("keeps as many attempts as the policy's largest count needs: a limit of 5,000 a day fires", () => {
    // More than DEFAULT_WINDOW_ENTRIES / 2 of one tool, then another tool: neither count is cut short.
    const e = engineWith(['  @name("flood") deny kb.search when session.count(within 1d) > 12000', '  @name("after") deny crm.lookup when session.count(kb.search, within 1d) >= 11000', "  allow *"].join("\n"));
    let first: number | undefined;
    for (let i = 0; i < 12_500; i++) if (e.decide(kb(i * 1000)).decision === "deny" && first === undefined) first = i;
    expect(first).toBe(12_000); // the 12,001st attempt
    expect(e.decide(call("crm.lookup", 12_500_000))).toMatchObject({ decision: "deny", rules: ["after"] });
    expect(e.sessions.get("s")!.windowSize).toBeGreaterThan(12_000);
  });

  it("a flood past the window: counts compared with numbers still decide exactly, so a revoke rule revokes when (and only when) its condition holds", () => {
    const rules = ['  @name("flood") deny kb.search when args.query == "drop" and session.count(within 1h) > 100 revoke', "  allow kb.search"].join("\n");
    const e = engineWith(rules);
    for (let i = 0; i < 10_050; i++) expect(e.decide(kb(i)).revoked).toBe(false); // the window (101 attempts) overflows: nothing revoked
    const drop = e.decide(kb(10_050, "drop"));
    expect(drop).toMatchObject({ decision: "deny", rules: ["flood"], revoked: true, errors: [] });
    // With a window smaller than the policy's numbers, the count is an error: the rule fails
    // closed, and revokes (a flood past the window must not dodge the revocation).
    const small = engineWith(rules, { maxWindowEntries: 50 });
    for (let i = 0; i < 60; i++) small.decide(kb(i));
    const failed = small.decide(kb(60, "drop"));
    expect(failed).toMatchObject({ decision: "deny", rules: ["flood"], revoked: true });
    expect(failed.errors.join(" ")).toContain("maxWindowEntries");
  });

  it("a flooding session keeps only the attempts its counts need: N + 1 when every count is of all tools and compared with a number, else at least 10,000", () => {
    const flood = (rules: string): number => {
      const e = engineWith(rules);
      let denied = 0;
      for (let i = 0; i < 12_000; i++) if (e.decide(kb(i)).decision === "deny") denied++;
      expect(denied, rules).toBe(12_000 - 30); // exact: the 31st attempt in the hour and later
      return e.sessions.get("s")!.windowSize;
    };
    expect(flood("  @name(\"rate\") deny kb.search when session.count(within 1h) > 30\n  allow kb.search")).toBeLessThanOrEqual(31);
    // A count of some tools needs the attempts of the others kept too.
    expect(flood("  @name(\"rate\") deny kb.search when session.count(kb.*, within 1h) > 30\n  allow kb.search")).toBe(10_000);
  });

  it("refuses options that would switch a protection off", () => {
    for (const maxWindowEntries of [0, -1, 0.5, Number.NaN]) expect(() => engineWith("  allow kb.search", { maxWindowEntries }), String(maxWindowEntries)).toThrow(/maxWindowEntries must be a whole number of at least 1/);
    for (const sessionIdleMs of [0, -5, Number.NaN]) expect(() => engineWith("  allow kb.search", { sessionIdleMs }), String(sessionIdleMs)).toThrow(/sessionIdleMs must be a positive number/);
    expect(() => engineWith("  allow kb.search", { revokedSessionMs: -1 })).toThrow(/revokedSessionMs/);
  });

  it("bounds the window at maxWindowEntries; counts reaching past what it dropped fail closed", () => {
    const rules = [
      '  @name("rate") deny kb.search when session.count(within 1h) > 100000',
      '  @name("burst") deny kb.search when session.count(within 1s) > 100000',
      '  @name("quota") allow crm.lookup when session.count(within 1h) < 100000',
      '  @name("kb-quota") allow crm.lookup when session.count(kb.search, within 1h) < 100000',
      "  allow kb.search",
    ].join("\n");
    const e = engineWith(rules, { maxWindowEntries: 50 });
    for (let i = 0; i < 49; i++) expect(e.decide(kb(i * 1000)).decision).toBe("allow");
    const state = e.sessions.get("s")!;
    // Now a full window: the oldest attempts are dropped from here on.
    for (let i = 49; i < 200; i++) e.decide(kb(i * 1000));
    expect(state.windowSize).toBeLessThanOrEqual(50);
    expect(state.times!.length).toBeLessThanOrEqual(100);
    // A count over the hour would be too low: the deny rule matches on the error...
    const denied = e.decide(kb(200_000));
    expect(denied).toMatchObject({ decision: "deny", rules: ["rate"] });
    expect(denied.errors.join(" ")).toContain("maxWindowEntries");
    // ...the allow rules do not (tool-filtered counts too), so the call is denied...
    const quota = e.decide(call("crm.lookup", 201_000));
    expect(quota.decision).toBe("deny");
    expect(quota.errors).toHaveLength(2);
    // ...while a count over a stretch the window still holds whole (the last second) is exact.
    expect(denied.rules).not.toContain("burst");
  });

  it("drops window entries older than twice the longest within (late attempts find what they count)", () => {
    const e = engineWith("  allow kb.search when session.count(within 1s) < 1000");
    for (let i = 0; i < 100; i++) e.decide(kb(i * 100));
    const state = e.sessions.get("s")!;
    expect(state.windowSize).toBeLessThanOrEqual(21);
    expect(state.times!.length).toBeLessThanOrEqual(42);
  });

  it("keeps only the state the policy reads", () => {
    const e = engineWith("  allow kb.search when session.calls < 100");
    e.decide(kb(0));
    const state = e.sessions.get("s")!;
    expect(state.labels).toBeUndefined();
    expect(state.tools).toBeUndefined();
    expect(state.times).toBeUndefined();
    expect(state.calledAt).toBeUndefined();
    expect(state.lastArgs).toBeUndefined();
  });

  it("uses the engine's clock for requests without a time", () => {
    let now = Date.parse("2026-01-01T00:00:00Z");
    const e = engine(flags({ minute: "session.age >= 1m" }), { clock: () => now });
    const untimed = { ...request(), time: undefined };
    expect(e.decide(untimed).rules).not.toContain("minute");
    now += 60_000;
    expect(e.decide(untimed).rules).toContain("minute");
  });
});
