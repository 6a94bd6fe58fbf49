import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import { explain } from "../../src/runtime/explain.js";
import type { Engine } from "../../src/runtime/engine.js";
import { viaBundle } from "./fixtures.js";

/**
 * Risks and times held in collections compare as the scalar forms do: risks by level, times by
 * the instant they name. A read of `set<Risk>` or `list<time>` used to stay text while a risk
 * literal or `tool.risk` is a rank and `now` is milliseconds, so `tool.risk in
 * context.blocked_risks` and `any(b in context.blackout: b > now)` were false whatever the
 * request held, and deny rules written with them never fired.
 */
const DECLS = `type Window { start: time, days: set<time> }
context { blocked_risks: set<Risk>, ceilings: list<list<Risk>>, blackout: list<time>, frozen: set<time>, window: Window, freeze: list<Window> }
tool db.drop { risk critical args { table: string } }
tool kb.search { risk low args { query: string } }
tool sched.run { risk medium args { at: time, job: string, also: list<time>, window: Window } }
`;

const BASE_CONTEXT = { blocked_risks: [], ceilings: [], blackout: [], frozen: [], window: { start: "2026-01-01T00:00:00Z", days: [] }, freeze: [] };
const TIME = "2026-12-20T09:00:00Z";

function engines(rules: string): Engine[] {
  const sources = [{ path: "m.policy", text: `${DECLS}policy m {\n${rules}\n}\n` }];
  return [compile(sources), viaBundle(sources)];
}

function request(tool: string, args: Record<string, unknown>, context: Record<string, unknown> = {}, session = "s"): Record<string, unknown> {
  return { session, time: TIME, tool, args, context: { ...BASE_CONTEXT, ...context } };
}

const SCHEDULE = { at: "2026-12-25T00:00:00Z", job: "backup", also: [], window: { start: "2026-01-01T00:00:00Z", days: [] } };

/** The rules that matched, by the compiled decision and by the explanation (which must agree), for each engine. */
function matched(rules: string, req: Record<string, unknown>): string[] {
  const answers = engines(rules).map((engine) => {
    const decided = engine.decide(req);
    expect(decided.errors).toEqual([]);
    const explained = explain(engine, req)
      .rules.filter((rule) => rule.matched && rule.effect === "deny")
      .map((rule) => rule.id);
    expect(decided.decision === "deny" ? decided.rules : []).toEqual(explained);
    return explained;
  });
  expect(answers[1]).toEqual(answers[0]);
  return answers[0]!;
}

describe("risks in collections", () => {
  const RULES = [
    "  allow db.drop, kb.search",
    '  @name("in-set") deny * when tool.risk in context.blocked_risks reason "blocked risk"',
    '  @name("any-eq") deny * when any(r in context.blocked_risks: r == tool.risk) reason "blocked risk"',
    '  @name("any-ge") deny * when any(r in context.blocked_risks: tool.risk >= r) reason "at or over a blocked risk"',
    '  @name("contains-literal") deny * when context.blocked_risks contains critical reason "critical blocked"',
    '  @name("nested") deny * when any(row in context.ceilings: tool.risk in row) reason "nested"',
  ].join("\n");

  it("a blocked risk level in a set<Risk> is found by `in`, `contains` and quantifiers", () => {
    expect(matched(RULES, request("db.drop", { table: "t" }, { blocked_risks: ["critical"] }))).toEqual(["in-set", "any-eq", "any-ge", "contains-literal"]);
    expect(matched(RULES, request("kb.search", { query: "q" }, { blocked_risks: ["critical"] }))).toEqual(["contains-literal"]);
    expect(matched(RULES, request("kb.search", { query: "q" }, { blocked_risks: ["medium", "high"] }))).toEqual([]);
    expect(matched(RULES, request("db.drop", { table: "t" }, { blocked_risks: ["medium"] }))).toEqual(["any-ge"]);
  });

  it("members of nested collections are converted at every depth", () => {
    expect(matched(RULES, request("db.drop", { table: "t" }, { ceilings: [["low"], ["high", "critical"]] }))).toEqual(["nested"]);
    const pair = `${RULES}\n  @name("pair") deny * when context.ceilings contains [high, critical] reason "that pair"`;
    expect(matched(pair, request("kb.search", { query: "q" }, { ceilings: [["medium"], ["high", "critical"]] }))).toEqual(["pair"]);
    expect(matched(pair, request("kb.search", { query: "q" }, { ceilings: [["critical", "high"]] }))).toEqual([]);
    expect(matched(RULES, request("db.drop", { table: "t" }, { ceilings: [["low"], ["high"]] }))).toEqual([]);
  });

  it("an explanation spells the members as risk levels, not ranks", () => {
    const [engine] = engines(RULES);
    const text = JSON.stringify(explain(engine!, request("db.drop", { table: "t" }, { blocked_risks: ["high", "critical"] })).rules.find((rule) => rule.id === "any-eq"));
    expect(text).toContain('\\"critical\\"');
    expect(text).not.toMatch(/\[2,3\]|= 3\b/);
  });
});

describe("times in collections", () => {
  const RULES = [
    "  allow sched.run",
    '  @name("in-list") deny sched.run when args.at in context.blackout reason "blackout"',
    '  @name("in-set") deny sched.run when args.at in context.frozen reason "frozen"',
    '  @name("contains") deny sched.run when context.blackout contains args.at reason "blackout"',
    '  @name("future") deny sched.run when any(b in context.blackout: b > now and b < args.at) reason "a blackout before the run"',
    '  @name("all-past") deny sched.run when all(d in args.also: d < now) and args.also.size() > 0 reason "all in the past"',
    '  @name("covers") deny sched.run when args.also containsAll context.frozen and context.frozen.size() > 0 reason "covers the freeze"',
  ].join("\n");

  it("a time in a list or set is found whatever the spelling of the instant", () => {
    for (const spelling of ["2026-12-25T00:00:00Z", "2026-12-25T00:00:00.000Z", "2026-12-25T01:00:00+01:00", "2026-12-24T19:00:00-05:00"]) {
      expect(matched(RULES, request("sched.run", SCHEDULE, { blackout: [spelling], frozen: [spelling] }))).toEqual(["in-list", "in-set", "contains"]);
    }
    expect(matched(RULES, request("sched.run", SCHEDULE, { blackout: ["2026-12-26T00:00:00Z"], frozen: ["2026-12-24T00:00:00Z"] }))).toEqual([]);
  });

  it("members compare with `now` and with scalar times by instant", () => {
    expect(matched(RULES, request("sched.run", SCHEDULE, { blackout: ["2026-12-22T00:00:00Z"] }))).toEqual(["future"]);
    expect(matched(RULES, request("sched.run", { ...SCHEDULE, also: ["2026-12-01T00:00:00Z", "2026-12-19T23:59:59Z"] }))).toEqual(["all-past"]);
    expect(matched(RULES, request("sched.run", { ...SCHEDULE, also: ["2026-12-01T00:00:00Z", "2026-12-21T00:00:00Z"] }))).toEqual([]);
  });

  it("set operations compare instants, not text", () => {
    const also = ["2027-01-01T01:00:00+01:00", "2027-01-02T00:00:00.000Z"];
    expect(matched(RULES, request("sched.run", { ...SCHEDULE, also }, { frozen: ["2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z"] }))).toEqual(["covers"]);
    expect(matched(RULES, request("sched.run", { ...SCHEDULE, also }, { frozen: ["2027-01-03T00:00:00Z"] }))).toEqual([]);
  });

  it("records with times are equal when their times name the same instants", () => {
    const rules = [
      "  allow sched.run",
      '  @name("same-window") deny sched.run when args.window == context.window reason "the frozen window"',
      '  @name("in-freeze") deny sched.run when args.window in context.freeze reason "a frozen window"',
    ].join("\n");
    const window = { start: "2027-01-01T00:00:00Z", days: ["2027-01-01T00:00:00Z", "2027-01-02T00:00:00Z"] };
    const respelled = { start: "2027-01-01T01:00:00+01:00", days: ["2027-01-02T00:00:00.000Z", "2027-01-01T00:00:00Z"] };
    expect(matched(rules, request("sched.run", { ...SCHEDULE, window: respelled }, { window, freeze: [{ start: "2026-01-01T00:00:00Z", days: [] }, window] }))).toEqual(["same-window", "in-freeze"]);
    expect(matched(rules, request("sched.run", { ...SCHEDULE, window: { ...respelled, start: "2027-01-01T01:00:00Z" } }, { window, freeze: [window] }))).toEqual([]);
  });

  it("an explanation spells converted members as RFC 3339 times", () => {
    const [engine] = engines(RULES);
    const text = JSON.stringify(explain(engine!, request("sched.run", SCHEDULE, { blackout: ["2026-12-22T00:00:00Z"] })).rules.find((rule) => rule.id === "future"));
    expect(text).toContain("2026-12-22T00:00:00.000Z");
    expect(text).not.toContain("1797");
  });
});

describe("session.repeats and times", () => {
  it("a call that respells a time argument repeats the previous one", () => {
    for (const engine of engines(['  allow sched.run', '  @name("loop") deny sched.run when session.repeats >= 1 reason "the same call again"'].join("\n"))) {
      expect(engine.decide(request("sched.run", SCHEDULE)).decision).toBe("allow");
      const again = engine.decide(request("sched.run", { ...SCHEDULE, at: "2026-12-25T01:00:00+01:00" }));
      expect(again).toMatchObject({ decision: "deny", rules: ["loop"] });
      expect(engine.decide(request("sched.run", { ...SCHEDULE, at: "2026-12-25T00:00:01Z" }, {}, "s")).decision).toBe("allow");
    }
  });
});

describe("a long collection of times read inside a quantifier", () => {
  it("is converted once per decision, not once per element (reads of its members stay linear)", () => {
    const rules = ["  allow sched.run", '  @name("overlap") deny sched.run when any(b in context.blackout: b in context.frozen) reason "overlap"'].join("\n");
    const size = 400;
    const times = Array.from({ length: size }, (_, i) => new Date(Date.UTC(2027, 0, 1) + i * 60_000).toISOString());
    for (const engine of engines(rules)) {
      let reads = 0;
      const counted = new Proxy(times, {
        get(target, key, receiver) {
          if (typeof key === "string" && /^\d+$/.test(key)) reads++;
          return Reflect.get(target, key, receiver);
        },
      });
      // No overlap: every element of blackout is looked up in frozen.
      const blackout = times.map((time) => new Date(Date.parse(time) + 30_000).toISOString());
      const decision = engine.decide(request("sched.run", SCHEDULE, { blackout, frozen: counted }));
      expect(decision).toMatchObject({ decision: "allow" });
      // Validation reads each member, the conversion reads each once more: far below size².
      expect(reads).toBeLessThan(10 * size);
    }
  });
});

describe("request text in reasons", () => {
  it("shows bidirectional and C1 controls and line separators escaped, so a log or an approver reads it in order", () => {
    const [engine] = engines("  allow kb.search");
    const reason = engine!.decide({ session: "s", time: TIME, tool: "kb.\u202esearch\u009b\u2028", args: {} }).reasons[0]!;
    expect(reason).toContain("kb.\\u202esearch\\u009b\\u2028");
    expect(reason).not.toMatch(/[\u202e\u009b\u2028]/);
  });
});
