import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import { explain } from "../../src/runtime/explain.js";
import type { Evidence } from "../../src/runtime/evidence.js";
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
tool mail.send { risk high args { to: list<string>, subject: string, msgs: list<Msg>, a: int, b: int, due: time } }
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
  agent: { id: "x", team: "sales", zone: "secret" },
  tool: "mail.send",
  args: { to: ["a@acme.com", "b@acme.com", "eve@evil.example"], subject: "q", msgs: MSGS, a: 3, b: 4, due: "2025-01-01T00:00:00Z" },
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

describe("evidence of a clause", () => {
  it("the deciding element of a quantifier under `not`, with its path and index", () => {
    expect(evidenceOf('not all(r in args.to: r like "*@acme.com")')).toEqual([element("all", "args.to[2]", 2, "eve@evil.example")]);
  });

  it("nested quantifiers over lists of records: each element on the way, the inner one by its full path", () => {
    expect(evidenceOf('any(m in args.msgs: any(a in m.atts: a.tags contains "secret"))')).toEqual([element("any", "args.msgs[1]", 1, MSGS[1]), element("any", "args.msgs[1].atts[1]", 1, MSGS[1]!.atts[1])]);
    // all: the first element that did not hold, and the comparison that failed for it.
    expect(evidenceOf("all(m in args.msgs: all(a in m.atts: a.size < 1000))")).toEqual([
      element("all", "args.msgs[1]", 1, MSGS[1]),
      element("all", "args.msgs[1].atts[1]", 1, MSGS[1]!.atts[1]),
      { kind: "comparison", text: "a.size < 1000", operator: "<", value: false, left: { text: "args.msgs[1].atts[1].size", shown: "2048", constant: false }, right: { text: "1000", shown: "1000", constant: true } },
    ]);
  });

  it("the term that settled an `or` (as written), then what settled that term", () => {
    expect(evidenceOf('args.subject == "x" or any(r in args.to: r like "*evil*")')).toEqual([{ kind: "term", operator: "or", index: 1, text: 'any(r in args.to: r like "*evil*")' }, element("any", "args.to[2]", 2, "eve@evil.example")]);
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
    const engine = compile(sources('  deny mail.send when args.subject == "x" or any(r in args.to: r like "*evil*")'));
    (engine.rules[0] as { clauses: readonly string[] }).clauses = ['(unbalanced "or'];
    expect(explain(engine, REQUEST).rules[0]!.clauses[0]!.evidence).toEqual([{ kind: "term", operator: "or", index: 1, text: null }, element("any", "args.to[2]", 2, "eve@evil.example")]);
  });
});
