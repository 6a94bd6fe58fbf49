import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import { explain } from "../../src/runtime/explain.js";
import type { ComparedOperand, Evidence } from "../../src/runtime/evidence.js";
import { showValue } from "../../src/runtime/evidence.js";
import { viaBundle } from "./fixtures.js";

/**
 * The evidence of an explained clause: the deciding element of every quantifier evaluated on the
 * way (with its path in the request), the term that settled an `and`/`or`, and the values a
 * comparison compared; the same from sources and from a bundle (which carries the IR and texts).
 */
const DECLS = `enum Zone { public, internal, secret }
type Att { name: string, tags: list<string>, size: int }
type Msg { to: list<string>, atts: list<Att> }
agent { id: string, team: string, zone: Zone }
tool mail.send { risk high args { to: list<string>, subject: string, msgs: list<Msg>, a: int, b: int, due: time, cc: list<string>, url: string, pattern: string } }
`;

function sources(rules: string): { path: string; text: string }[] {
  return [{ path: "e.policy", text: `${DECLS}policy e {\n${rules}\n}\n` }];
}

const MSGS = [
  { to: ["a@acme.com"], atts: [{ name: "readme.txt", tags: ["public"], size: 5 }] },
  { to: ["b@acme.com", "c@acme.com"], atts: [{ name: "notes.txt", tags: ["internal"], size: 500 }, { name: "keys.pem", tags: ["secret"], size: 2048 }] },
];
const REQUEST = {
  session: "s",
  time: "2026-01-01T10:00:00Z",
  agent: { id: "spiffe://evil/x", team: "sales", zone: "secret" },
  tool: "mail.send",
  args: { to: ["a@acme.com", "b@acme.com", "eve@evil.example"], subject: "q", msgs: MSGS, a: 3, b: 4, due: "2025-01-01T00:00:00Z", cc: ["a@acme.com"], url: "https://docs.acme.com/x", pattern: "*q*" },
};

/** The evidence of the one clause of the one rule `condition` makes, from sources and from a bundle (the same). */
function evidenceOf(condition: string, request: Record<string, unknown> = REQUEST): readonly Evidence[] | undefined {
  const found = [compile(sources(`  deny mail.send when ${condition}`)), viaBundle(sources(`  deny mail.send when ${condition}`))].map((engine) => {
    const [rule] = explain(engine, request).rules;
    expect(rule!.clauses).toHaveLength(1);
    return rule!.clauses[0]!.evidence;
  });
  expect(found[1]).toEqual(found[0]);
  return found[0];
}

const element = (quantifier: "any" | "all", path: string, index: number, value: unknown): Evidence => ({ kind: "element", quantifier, path, index, shown: showValue(value) });
/** An operand as the evidence shows it: read from the request at `text`, or written in the policy (`text` as written). */
const read = (text: string | null, value: unknown): ComparedOperand => ({ text, shown: showValue(value), constant: false });
const written = (text: string | null, value: unknown): ComparedOperand => ({ text, shown: showValue(value), constant: true });
/** The evidence of `r like "*evil*"` for an element `value` at `path`. */
const likeOf = (text: string | null, path: string, value: string, pattern: string, matched: boolean): Evidence => ({ kind: "text", text, operator: "like", value: matched, left: read(path, value), right: written(text === null ? null : JSON.stringify(pattern), pattern) });

describe("evidence of a clause", () => {
  it("the deciding element of a quantifier under `not`, with its path and index", () => {
    expect(evidenceOf('not all(r in args.to: r like "*@acme.com")')).toEqual([element("all", "args.to[2]", 2, "eve@evil.example"), likeOf('r like "*@acme.com"', "args.to[2]", "eve@evil.example", "*@acme.com", false)]);
  });

  it("nested quantifiers over lists of records: each element on the way, the inner one by its full path", () => {
    expect(evidenceOf('any(m in args.msgs: any(a in m.atts: a.tags contains "secret"))')).toEqual([
      element("any", "args.msgs[1]", 1, MSGS[1]),
      element("any", "args.msgs[1].atts[1]", 1, MSGS[1]!.atts[1]),
      { kind: "membership", text: 'a.tags contains "secret"', operator: "contains", value: true, left: read("args.msgs[1].atts[1].tags", ["secret"]), right: written('"secret"', "secret") },
    ]);
    // all: the first element that did not hold, and the comparison that failed for it.
    expect(evidenceOf("all(m in args.msgs: all(a in m.atts: a.size < 1000))")).toEqual([
      element("all", "args.msgs[1]", 1, MSGS[1]),
      element("all", "args.msgs[1].atts[1]", 1, MSGS[1]!.atts[1]),
      { kind: "comparison", text: "a.size < 1000", operator: "<", value: false, left: { text: "args.msgs[1].atts[1].size", shown: "2048", constant: false }, right: { text: "1000", shown: "1000", constant: true } },
    ]);
  });

  it("the term that settled an `or` (as written), then what settled that term", () => {
    expect(evidenceOf('args.subject == "x" or any(r in args.to: r like "*evil*")')).toEqual([
      { kind: "term", operator: "or", index: 1, text: 'any(r in args.to: r like "*evil*")' },
      element("any", "args.to[2]", 2, "eve@evil.example"),
      likeOf('r like "*evil*"', "args.to[2]", "eve@evil.example", "*evil*", true),
    ]);
    expect(evidenceOf("not (args.a == 3 and args.b == 9)")).toEqual([
      { kind: "term", operator: "and", index: 1, text: "args.b == 9" },
      { kind: "comparison", text: "args.b == 9", operator: "==", value: false, left: { text: "args.b", shown: "4", constant: false }, right: { text: "9", shown: "9", constant: true } },
    ]);
  });

  it("an `or` that did not hold: what made each term false, and no term named as if it settled the whole", () => {
    // The `and` term was false by its second comparison, which is shown; its first held and is not.
    const evidence = evidenceOf('args.a == 1 or (args.b == 4 and args.subject == "z")');
    expect(evidence?.map((e) => e.kind)).toEqual(["comparison", "comparison"]);
    expect(evidence?.map((e) => (e.kind === "comparison" ? e.text : null))).toEqual(["args.a == 1", 'args.subject == "z"']);
  });

  it("compared values as the policy spells them: risks and enum members by name, times as RFC 3339", () => {
    const shown = (condition: string): string[] | undefined => evidenceOf(condition)?.flatMap((e) => (e.kind === "comparison" ? [e.left.shown, e.right.shown] : []));
    expect(shown("tool.risk > medium")).toEqual(['"high"', '"medium"']);
    expect(shown("agent.zone > internal")).toEqual(['"secret"', '"internal"']);
    expect(shown("args.due < now")).toEqual(['"2025-01-01T00:00:00.000Z"', '"2026-01-01T10:00:00.000Z"']);
    expect(shown("session.count(within 1m) > 30")).toEqual(["1", "30"]);
  });

  it("values are shortened, so a huge argument keeps the explanation short", () => {
    const evidence = evidenceOf('args.subject == "x"', { ...REQUEST, args: { ...REQUEST.args, subject: "y".repeat(1_000_000) } });
    expect(JSON.stringify(evidence).length).toBeLessThan(300);
  });

  it("nothing where nothing decided: an `any` that found nothing, an `all` that held", () => {
    expect(evidenceOf('any(r in args.to: r like "*@nowhere")')).toBeUndefined();
    expect(evidenceOf('all(r in args.to: r like "*@*")')).toBeUndefined();
  });

  it("a clause text that does not fit the IR (an edited bundle) leaves texts out, never throws", () => {
    // (A loaded bundle's rules, which its host can change: what the compiler made is frozen.)
    const engine = viaBundle(sources('  deny mail.send when args.subject == "x" or any(r in args.to: r like "*evil*")'));
    (engine.rules[0] as { clauses: readonly string[] }).clauses = ['(unbalanced "or'];
    expect(explain(engine, REQUEST).rules[0]!.clauses[0]!.evidence).toEqual([{ kind: "term", operator: "or", index: 1, text: null }, element("any", "args.to[2]", 2, "eve@evil.example"), likeOf(null, "args.to[2]", "eve@evil.example", "*evil*", true)]);
  });
});

describe("evidence of a membership or text test", () => {
  const membership = (text: string, operator: "in" | "contains" | "containsAny" | "containsAll", value: boolean, left: ComparedOperand, right: ComparedOperand, member?: { path: string | null; index: number; value: unknown }): Evidence => ({
    kind: "membership",
    text,
    operator,
    value,
    left,
    right,
    ...(member === undefined ? {} : { member: { path: member.path, index: member.index, shown: showValue(member.value) } }),
  });
  const textTest = (text: string, operator: "contains" | "like" | "startsWith" | "endsWith", value: boolean, left: ComparedOperand, right: ComparedOperand): Evidence => ({ kind: "text", text, operator, value, left, right });
  const TO = REQUEST.args.to;

  it("`in` and `contains` of a collection: both sides as written, left to right, held or not", () => {
    expect(evidenceOf('args.subject in ["q", "r"]')).toEqual([membership('args.subject in ["q", "r"]', "in", true, read("args.subject", "q"), written('["q", "r"]', ["q", "r"]))]);
    expect(evidenceOf('"zed@x" in args.to')).toEqual([membership('"zed@x" in args.to', "in", false, written('"zed@x"', "zed@x"), read("args.to", TO))]);
    expect(evidenceOf('args.to contains "eve@evil.example"')).toEqual([membership('args.to contains "eve@evil.example"', "contains", true, read("args.to", TO), written('"eve@evil.example"', "eve@evil.example"))]);
    // Risks as the policy spells them, on both sides, as comparisons show them.
    expect(evidenceOf("tool.risk in [medium, critical]")).toEqual([membership("tool.risk in [medium, critical]", "in", false, read("tool.risk", "high"), written("[medium, critical]", ["medium", "critical"]))]);
  });

  it("`containsAny` that held names the first member of its left side that the right side has, by its path (none for a list literal)", () => {
    expect(evidenceOf('args.to containsAny ["eve@evil.example", "b@acme.com"]')).toEqual([
      membership('args.to containsAny ["eve@evil.example", "b@acme.com"]', "containsAny", true, read("args.to", TO), written('["eve@evil.example", "b@acme.com"]', ["eve@evil.example", "b@acme.com"]), { path: "args.to[1]", index: 1, value: "b@acme.com" }),
    ]);
    expect(evidenceOf('["zed@x", "eve@evil.example"] containsAny args.to')?.[0]).toMatchObject({ value: true, member: { path: null, index: 1, shown: '"eve@evil.example"' } });
    // One that did not hold has no member: none is in common.
    expect(evidenceOf('args.to containsAny ["zed@x"]')).toEqual([membership('args.to containsAny ["zed@x"]', "containsAny", false, read("args.to", TO), written('["zed@x"]', ["zed@x"]))]);
  });

  it("`containsAll` that did not hold names the first member of its right side that the left side lacks; one that held names none", () => {
    expect(evidenceOf('args.to containsAll ["a@acme.com", "zed@x", "yak@x"]')?.[0]).toMatchObject({ operator: "containsAll", value: false, member: { path: null, index: 1, shown: '"zed@x"' } });
    expect(evidenceOf("args.cc containsAll args.to")).toEqual([membership("args.cc containsAll args.to", "containsAll", false, read("args.cc", ["a@acme.com"]), read("args.to", TO), { path: "args.to[1]", index: 1, value: "b@acme.com" })]);
    expect(evidenceOf("args.to containsAll args.cc")).toEqual([membership("args.to containsAll args.cc", "containsAll", true, read("args.to", TO), read("args.cc", ["a@acme.com"]))]);
  });

  it("text tests: `contains` of a string, `like`, `startsWith`, `endsWith`, with the text tested and the pattern", () => {
    expect(evidenceOf('args.subject contains "q"')).toEqual([textTest('args.subject contains "q"', "contains", true, read("args.subject", "q"), written('"q"', "q"))]);
    expect(evidenceOf('args.url like "https://*.evil.com/*"')).toEqual([textTest('args.url like "https://*.evil.com/*"', "like", false, read("args.url", "https://docs.acme.com/x"), written('"https://*.evil.com/*"', "https://*.evil.com/*"))]);
    expect(evidenceOf("args.subject like args.pattern")).toEqual([textTest("args.subject like args.pattern", "like", true, read("args.subject", "q"), read("args.pattern", "*q*"))]);
    expect(evidenceOf('agent.id.startsWith("spiffe://acme.com/")')).toEqual([textTest('agent.id.startsWith("spiffe://acme.com/")', "startsWith", false, read("agent.id", "spiffe://evil/x"), written('"spiffe://acme.com/"', "spiffe://acme.com/"))]);
    // A computed operand is named as written; a method name inside a string does not confuse the cut.
    expect(evidenceOf('url.host(args.url).endsWith(".endsWith(")')).toEqual([textTest('url.host(args.url).endsWith(".endsWith(")', "endsWith", false, read("url.host(args.url)", "docs.acme.com"), written('".endsWith("', ".endsWith("))]);
    expect(evidenceOf('url.host(args.url).endsWith(".acme.com")')?.[0]).toMatchObject({ value: true, left: { text: "url.host(args.url)", shown: '"docs.acme.com"' } });
  });

  it("inside quantifiers, under `not` and in an `or`: the test that decided, with operands and members by their paths", () => {
    const MSG = MSGS[1]!;
    expect(evidenceOf('any(m in args.msgs: m.to containsAny ["c@acme.com"])')).toEqual([
      element("any", "args.msgs[1]", 1, MSG),
      membership('m.to containsAny ["c@acme.com"]', "containsAny", true, read("args.msgs[1].to", MSG.to), written('["c@acme.com"]', ["c@acme.com"]), { path: "args.msgs[1].to[1]", index: 1, value: "c@acme.com" }),
    ]);
    expect(evidenceOf('not all(r in args.to: r in args.cc or r.endsWith("@acme.com"))')).toEqual([
      element("all", "args.to[2]", 2, "eve@evil.example"),
      membership("r in args.cc", "in", false, read("args.to[2]", "eve@evil.example"), read("args.cc", ["a@acme.com"])),
      textTest('r.endsWith("@acme.com")', "endsWith", false, read("args.to[2]", "eve@evil.example"), written('"@acme.com"', "@acme.com")),
    ]);
  });

  it("under `not (…)`, a test's and a comparison's text is as written, without the parentheses", () => {
    expect(evidenceOf('not (args.subject contains "q")')).toEqual([textTest('args.subject contains "q"', "contains", true, read("args.subject", "q"), written('"q"', "q"))]);
    expect(evidenceOf("not (args.a == 3)")?.[0]).toMatchObject({ kind: "comparison", text: "args.a == 3", value: true });
  });

  it("an `unless` clause: the test of its own value", () => {
    const engine = compile(sources('  deny mail.send when args.a == 3 unless args.to containsAll ["a@acme.com", "zed@x"]'));
    const [, unless] = explain(engine, REQUEST).rules[0]!.clauses;
    expect(unless).toMatchObject({ text: 'unless args.to containsAll ["a@acme.com", "zed@x"]', value: false, evidence: [{ kind: "membership", operator: "containsAll", value: false, member: { path: null, index: 1, shown: '"zed@x"' } }] });
  });

  it("values are cut as showValue cuts them, however long the collection", () => {
    const to = Array.from({ length: 100_000 }, (_, i) => `user${i}@acme.com`).concat("eve@evil.example");
    const [evidence] = evidenceOf('args.to containsAny ["eve@evil.example"]', { ...REQUEST, args: { ...REQUEST.args, to } })!;
    expect(evidence).toMatchObject({ value: true, left: { text: "args.to", shown: showValue(to) }, member: { path: "args.to[100000]", index: 100_000, shown: '"eve@evil.example"' } });
    expect(JSON.stringify(evidence).length).toBeLessThan(500);
    const subject = "q".repeat(1_000_000);
    expect(evidenceOf('args.subject like "*q"', { ...REQUEST, args: { ...REQUEST.args, subject } })?.[0]).toMatchObject({ value: true, left: { shown: showValue(subject) } });
    expect(showValue(subject).length).toBeLessThanOrEqual(60);
  });

  it("a test whose text does not fit the IR (an edited bundle) keeps its values without texts, never throws", () => {
    const engine = viaBundle(sources('  deny mail.send when args.to containsAny ["eve@evil.example"]'));
    (engine.rules[0] as { clauses: readonly string[] }).clauses = ["args.to containsAny"];
    expect(explain(engine, REQUEST).rules[0]!.clauses[0]!.evidence).toEqual([
      membership("args.to containsAny", "containsAny", true, read("args.to", TO), written(null, ["eve@evil.example"]), { path: "args.to[2]", index: 2, value: "eve@evil.example" }),
    ]);
  });
});

describe("a shown value cut short", () => {
  it("is never cut inside an escape (`\\u0001`, `\\\"`, `\\\\`) nor a character beyond U+FFFF: what is shown before the … is whole JSON text", () => {
    for (let pad = 45; pad < 62; pad++) {
      for (const tail of ["\u0001".repeat(5), '"'.repeat(8), "\\".repeat(8), "\u2028\u00e9😀".repeat(4)]) {
        const value = "a".repeat(pad) + tail;
        const shown = showValue(value);
        if (!shown.endsWith("…")) continue;
        const head = shown.slice(0, -1);
        expect(JSON.stringify(value).startsWith(head), `${pad} ${JSON.stringify(tail)}: ${shown}`).toBe(true);
        // Closed with a quote, the head is a JSON string: no escape, nor pair, was cut in half.
        expect(() => JSON.parse(`${head}"`), `${pad} ${JSON.stringify(tail)}: ${shown}`).not.toThrow();
        expect(value.startsWith(JSON.parse(`${head}"`) as string)).toBe(true);
      }
    }
  });
});
