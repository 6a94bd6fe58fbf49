import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import { explain } from "../../src/runtime/explain.js";
import { constantList, containsAll, containsAny, containsAt, compareSite, forgetDecision, newDecision, MAX_WALKED_VALUES, type FaultNote, type ValueShape } from "../../src/runtime/helpers.js";
import { cpuMilliseconds } from "../helpers.js";
import { viaBundle } from "./fixtures.js";

/**
 * `containsAny` / `containsAll` against a list literal of the policy: the literal is a constant
 * of the generated module whose index is made once and kept across decisions (rt.constantList),
 * as the `Set` of an `in` against a literal is. It used to be a new array at every decision,
 * indexed again each time: a literal of 10,000 domains cost about a millisecond per decision
 * whatever the request held (audit s19 a3 #4). The answers must not change at all: the
 * differential tests below hold the kept index to the literal indexed afresh, as the old code did.
 */

const blocklist = (n: number) => Array.from({ length: n }, (_, i) => `blocked${i}.example`);

describe("a list literal compared with containsAny / containsAll", () => {
  const literal = JSON.stringify(blocklist(100_000));
  const text = `agent { id: string }
tool mail.send { risk low args { to: list<string>, cc: set<string> } }
policy p {
  @name("any") deny mail.send when args.to containsAny ${literal} reason "blocked"
  @name("all") deny mail.send when ${literal} containsAll args.cc reason "all blocked"
  @name("ok") allow mail.send
}
`;
  const engine = compile([{ path: "p.policy", text }]);
  const request = (i: number, to: string[], cc: string[] = ["x"]) => ({ session: `s${i}`, agent: { id: "a" }, tool: "mail.send", args: { to, cc } });

  it("is indexed once, not at every decision: its cost follows the request's lists", () => {
    expect(engine.decide(request(0, ["bob@acme.com"], ["x"])).decision).toBe("allow");
    const started = cpuMilliseconds();
    for (let i = 1; i <= 100; i++) engine.decide(request(i, ["bob@acme.com"], ["x"]));
    // Indexed afresh, 100 decisions took 1.5 to 4 seconds (two indexes of 100,000 members each).
    expect(cpuMilliseconds() - started).toBeLessThan(400);
  });

  it("decides as before", () => {
    expect(engine.decide(request(1, ["blocked99999.example"])).rules).toEqual(["any"]);
    expect(engine.decide(request(2, ["bob@acme.com"], ["blocked7.example", "blocked8.example"])).rules).toEqual(["all"]);
    expect(engine.decide(request(3, ["bob@acme.com"], ["blocked7.example", "bob@acme.com"])).rules).toEqual(["ok"]);
  });
});

/** What a call gave: its answer, the fault it noted, or the message it threw. */
function outcome(call: (note: FaultNote | undefined) => boolean, noted: boolean): string {
  const note: FaultNote | undefined = noted ? { fault: undefined } : undefined;
  try {
    const answer = call(note);
    return `${answer}${note?.fault !== undefined ? ` fault: ${note.fault}` : ""}`;
  } catch (error) {
    return `threw ${(error as Error).message}`;
  }
}

const scalar = fc.oneof(
  fc.constantFrom(0, -0, 1, 2, 1.5, Number.NaN, Number.POSITIVE_INFINITY, "", "0", "1", "a", "b", "A", true, false, null, undefined),
  fc.constantFrom("2026-01-01T00:00:00Z", "2026-01-01T01:00:00+01:00", "2026-01-01T00:00:00.000Z", "not a time"),
  fc.string({ maxLength: 3 }),
  fc.integer({ min: -3, max: 40 }),
);
/** A request's value as it may reach the helpers: scalars, lists (nested), records, sets, or nothing. */
const value: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("list"), tie("record"), tie("set")),
  list: fc.array(tie("value"), { maxLength: 24 }),
  record: fc.dictionary(fc.constantFrom("a", "b", "c"), tie("value"), { maxKeys: 3 }),
  set: fc.array(scalar, { maxLength: 5 }).map((members) => new Set(members)),
})).value;
/** A literal's members, as the compiler writes them: booleans, numbers and strings (40 at most, past the 16 from which a list's index is kept). */
const members = fc.array(fc.oneof(fc.constantFrom(0, 1, 2, 1.5, "", "0", "1", "a", "b", true, false, "2026-01-01T00:00:00Z"), fc.string({ maxLength: 2 }), fc.integer({ min: -3, max: 40 })), { maxLength: 40 });
const SHAPES: (ValueShape | null)[] = [null, { time: true }, { set: null }, { set: { time: true } }, { list: { time: true } }, { fields: [["a", null], ["b", { time: true }]] }];

describe("a kept index of a list literal answers as the literal indexed afresh", () => {
  it("containsAny and containsAll, either side, noting or throwing, over decisions and within one", () => {
    fc.assert(
      fc.property(members, fc.array(value, { minLength: 1, maxLength: 6 }), fc.constantFrom(...SHAPES), fc.boolean(), (items, others, shape, noted) => {
        const kept = constantList([...items]);
        for (const [i, other] of others.entries()) {
          // A new decision now and then; otherwise the same one (a request's long list is kept indexed within it).
          if (i % 2 === 0) newDecision();
          for (const all of [false, true]) {
            const helper = all ? containsAll : containsAny;
            const fresh = [outcome((note) => helper(other, [...items], shape, note), noted), outcome((note) => helper([...items], other, shape, note), noted)];
            const now = [outcome((note) => helper(other, kept, shape, note), noted), outcome((note) => helper(kept, other, shape, note), noted)];
            expect(now, fc.stringify({ items, other, shape, all })).toEqual(fresh);
            // Inside a quantifier: a site remembers its last operands and answer, asked again with the kept literal.
            const site = compareSite();
            const atFresh = outcome((note) => containsAt(compareSite(), note!, all, other, [...items], shape), true);
            expect(outcome((note) => containsAt(site, note!, all, other, kept, shape), true)).toEqual(atFresh);
            expect(outcome((note) => containsAt(site, note!, all, other, kept, shape), true)).toEqual(atFresh);
          }
        }
        forgetDecision();
      }),
      { numRuns: Number(process.env.RUNS ?? 2000) },
    );
  });

  it("fails past the walk's budget exactly where the literal indexed afresh did", () => {
    // The literal alone fits; with the request's list the comparison walks one value too many.
    const items = Array.from({ length: MAX_WALKED_VALUES - 10 }, (_, i) => i);
    const kept = constantList([...items]);
    newDecision();
    for (const [length, fails] of [
      [10, false],
      [11, true],
    ] as const) {
      const other = Array.from({ length }, (_, i) => -1 - i);
      const fresh = outcome((note) => containsAny(other, [...items], null, note), true);
      expect(fresh.includes("fault"), fresh).toBe(fails);
      expect(outcome((note) => containsAny(other, kept, null, note), true)).toBe(fresh);
      expect(outcome((note) => containsAll(kept, other, null, note), true)).toBe(outcome((note) => containsAll([...items], other, null, note), true));
    }
    forgetDecision();
  });
});

describe("generated code against the interpreter (explain), which indexes literals afresh", () => {
  const DECLS = `enum Tag { red, green, blue }
agent { id: string }
context { labels: set<Tag> }
type Item { tags: list<string>, ns: set<int> }
tool t { risk low args { tags: list<string>, ns: set<int>, colours: set<Tag>, items: list<Item> } }
`;
  const RULES = [
    `deny t when args.tags containsAny ${JSON.stringify(["a", "b", ...blocklist(20)])}`,
    `deny t when ${JSON.stringify(["a", "b", "c"])} containsAll args.tags`,
    "deny t when args.ns containsAny [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18]",
    "deny t when args.ns containsAll [1, 2]",
    "ask t when args.colours containsAny [red, blue]",
    "ask t when [red, green] containsAll args.colours",
    'ask t when any(i in args.items: i.tags containsAny ["a", "z"] or [3, 4] containsAll i.ns)',
    'ask t when all(i in args.items: i.tags containsAll ["a"]) and args.items.size() > 0',
    "allow t when session.labels containsAny [red] or args.tags containsAny []",
    "allow t when not (args.ns containsAll [])",
  ];
  const text = fc.subarray(RULES, { minLength: 1 }).map((rules) => `${DECLS}policy p {\n${rules.map((rule) => `  ${rule}`).join("\n")}\n}\n`);
  const word = fc.constantFrom("a", "b", "c", "z", "blocked3.example", "");
  const number = fc.integer({ min: 0, max: 20 });
  const args = fc.record({
    tags: fc.array(word, { maxLength: 25 }),
    ns: fc.array(number, { maxLength: 20 }),
    colours: fc.array(fc.constantFrom("red", "green", "blue"), { maxLength: 3 }),
    items: fc.array(fc.record({ tags: fc.array(word, { maxLength: 3 }), ns: fc.array(number, { maxLength: 3 }) }), { maxLength: 4 }),
  });
  const cache = new Map<string, ReturnType<typeof compile>[]>();

  it("decide matches the rules explain finds, through compile and through a bundle", () => {
    fc.assert(
      fc.property(text, fc.array(fc.tuple(args, fc.array(fc.constantFrom("red", "green", "blue"), { maxLength: 2 })), { minLength: 1, maxLength: 4 }), (policy, requests) => {
        if (!cache.has(policy)) cache.set(policy, [compile([{ path: "p.policy", text: policy }]), viaBundle([{ path: "p.policy", text: policy }])]);
        for (const engine of cache.get(policy)!) {
          for (const [i, [a, labels]] of requests.entries()) {
            const request = { session: `s${i}`, agent: { id: "x" }, tool: "t", args: a, context: { labels } };
            const explained = explain(engine, request);
            const decided = engine.decide(request);
            expect(decided.errors).toEqual([]);
            // The winning effect's rules that matched (no rule fails here): deny over ask over allow, else the default deny.
            const matched = (effect: string) => explained.rules.filter((rule) => rule.effect === effect && rule.matched === true).map((rule) => rule.id);
            const effect = ["deny", "ask", "allow"].find((each) => matched(each).length > 0);
            const where = JSON.stringify({ policy, request });
            expect(decided.decision, where).toBe(effect ?? "deny");
            expect(decided.rules, where).toEqual(effect === undefined ? [] : matched(effect));
          }
        }
      }),
      { numRuns: Number(process.env.RUNS ?? 300) },
    );
  });
});
