import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Engine } from "../../src/runtime/engine.js";
import { explain } from "../../src/runtime/explain.js";
import { MAX_VALIDATED_VALUES } from "../../src/runtime/schema.js";
import { canonicalKey, declaredKey, equal, has, sameArguments, TOO_MANY_VALUES_TO_COMPARE } from "../../src/runtime/helpers.js";
import { compileFixture, cpuMilliseconds, handEdited } from "../helpers.js";

/**
 * A request built in process can share one object between several fields: 40 levels of a
 * recursive record whose two children are one object are 80 objects, and 2^40 values along
 * every path. Validation and every later walk of request values count values along paths and
 * stop at a budget (language.md §7), so `decide` stays bounded and fails closed, never throws.
 */
const POLICY = `type Node { name: string, kids: list<Node> }
type Pair { left?: Pair, right?: Pair }
tool tree.put { risk low args { root: Node, n: int } }
tool tree.pair { risk low args { root: Pair } }
tool tree.same { risk low args { a: Node, b: Node } }
policy t {
  @name("put") allow tree.put
  @name("pair") allow tree.pair
  @name("same") deny tree.same when args.a == args.b reason "same trees"
  @name("differ") allow tree.same
  @name("loop") deny * when session.repeats >= 2 reason "loop" revoke
}
`;

/** 2^depth leaves, built from depth + 1 objects. */
function sharedTree(depth: number): unknown {
  let node: unknown = { name: "d", kids: [] };
  for (let i = 0; i < depth; i++) node = { name: "d", kids: [node, node] };
  return node;
}

function sharedPairs(depth: number): unknown {
  let node: unknown = {};
  for (let i = 0; i < depth; i++) node = { left: node, right: node };
  return node;
}

function request(session: string, tool: string, args: unknown, second = 0): Record<string, unknown> {
  return { time: `2026-11-30T10:00:${String(second).padStart(2, "0")}Z`, session, tool, args };
}

/** `decide`, failing the test when it takes more than `ms`. */
function timed(engine: Engine, input: Record<string, unknown>, ms = 3000): ReturnType<Engine["decide"]> {
  const start = cpuMilliseconds();
  const decision = engine.decide(input);
  expect(cpuMilliseconds() - start).toBeLessThan(ms);
  return decision;
}

describe("values shared between fields", () => {
  const policy = compileFixture(POLICY);

  it("a recursive record whose children are one object, 40 levels deep, is denied at once, naming the field", () => {
    const engine = new Engine(policy);
    const decision = timed(engine, request("s", "tree.put", { root: sharedTree(40), n: 1 }));
    expect(decision.decision).toBe("deny");
    expect(decision.reasons).toEqual([`the request holds more than 1,000,000 values to validate (request.args.root: 1,000,002 when the count stopped; list members and records, counted along every path: an object shared by several fields counts once for each)`]);
    expect(decision.errors).toEqual(decision.reasons);
  });

  it("so is one of records alone (no list), and of both arguments together", () => {
    const engine = new Engine(policy);
    expect(timed(engine, request("s", "tree.pair", { root: sharedPairs(40) })).reasons[0]).toMatch(/^the request holds more than 1,000,000 values to validate \(request\.args\.root: [\d,]+ when the count stopped;/);
    // 17 levels are 2^18 - 1 records and 2^18 - 2 list members: each argument alone fits, together they do not.
    expect(timed(engine, request("s1", "tree.same", { a: sharedTree(17), b: { name: "x", kids: [] } })).decision).toBe("allow");
    const decision = timed(engine, request("s2", "tree.same", { a: sharedTree(17), b: sharedTree(17) }));
    expect(decision.reasons[0]).toMatch(/^the request holds more than 1,000,000 values to validate \(request\.args\.a: 524,285, request\.args\.b: [\d,]+ when the count stopped;/);
  });

  it("a shared value within the budget is decided as its copy is", () => {
    const engine = new Engine(policy);
    const shared = sharedTree(12);
    expect(timed(engine, request("s", "tree.put", { root: shared, n: 1 })).decision).toBe("allow");
    expect(timed(engine, request("c", "tree.put", { root: JSON.parse(JSON.stringify(shared)) as unknown, n: 1 })).decision).toBe("allow");
    // `==` on two records walks them along every path too.
    expect(timed(engine, request("e", "tree.same", { a: sharedTree(12), b: sharedTree(12) })).rules).toEqual(["same"]);
    expect(explain(engine, request("e2", "tree.same", { a: sharedTree(12), b: sharedTree(12) })).rules.map((rule) => [rule.id, rule.matched])).toEqual([
      ["same", true],
      ["differ", true],
      ["loop", false],
    ]);
  });

  it("a wide list counts its members: past the budget it is denied, below it allowed", () => {
    const engine = new Engine(compileFixture(`tool t { risk low args { xs: list<int> } }\npolicy p { allow t }\n`));
    expect(timed(engine, request("s", "t", { xs: new Array(MAX_VALIDATED_VALUES).fill(1) })).decision).toBe("allow");
    expect(timed(engine, request("s", "t", { xs: new Array(MAX_VALIDATED_VALUES + 1).fill(1) })).reasons[0]).toMatch(/^the request holds more than 1,000,000 values to validate \(request\.args\.xs: 1,000,001 when the count stopped;/);
  });

  it("the reason names the fields that hold the values, largest first, not the small one the count ran out in", () => {
    const engine = new Engine(compileFixture(`type Node { name: string, kids: list<Node> }
agent { id: string, tags: list<string> }
tool t { risk low args { a: Node, b?: list<Node>, to?: list<string>, cc?: list<string> } }
policy p { @name("ok") allow t when args.a.name == "d" }
`));
    const agent = (tags: number) => ({ id: "a", tags: new Array(tags).fill("x") });
    const tiny = { name: "d", kids: [] };
    const viaAgent = timed(engine, { ...request("s", "t", { a: tiny }), agent: agent(MAX_VALIDATED_VALUES) });
    expect(viaAgent.decision).toBe("deny");
    expect(viaAgent.reasons[0]).toMatch(/^the request holds more than 1,000,000 values to validate \(request\.agent\.tags: 1,000,000, request\.args\.a: 1 when the count stopped;/);
    const spread = timed(engine, { ...request("s2", "t", { a: tiny, to: new Array(500_000).fill("x"), cc: new Array(500_000).fill("y") }), agent: agent(1) });
    expect(spread.reasons[0]).toMatch(/^the request holds more than 1,000,000 values to validate \(request\.args\.to: 500,000, request\.args\.cc: 500,000 when the count stopped, request\.agent\.tags: 1, request\.args\.a: 1;/);
    expect(explain(engine, { ...request("s3", "t", { a: tiny }), agent: agent(MAX_VALIDATED_VALUES) }).note).toContain("request.agent.tags: 1,000,000");
  });

  it("session.repeats compares invalid calls' shared arguments in bounded time", () => {
    const engine = new Engine(policy);
    // Distinct objects of the same shape each time: no `===` shortcut.
    for (let i = 0; i < 3; i++) expect(timed(engine, request("r", "tree.put", { root: sharedTree(40), n: 1 }, i)).reasons[0]).toMatch(/^the request holds more than 1,000,000 values to validate \(request\.args\.root: /);
    expect(timed(engine, request("r", "tree.put", { root: { name: "x", kids: [] }, n: 1 }, 5)).decision).toBe("allow");
  });

  it("an undeclared tool's arguments are compared in bounded time too", () => {
    const engine = new Engine(policy);
    for (let i = 0; i < 3; i++) {
      const decision = timed(engine, request("u", "tree.other", { root: sharedTree(40) }, i));
      expect(decision.decision).toBe("deny");
    }
  });

  it("every walk of values no validation counted stops at its budget: comparisons fail closed, a repeat is assumed", () => {
    const a = sharedTree(40);
    const b = sharedTree(40);
    const start = cpuMilliseconds();
    expect(sameArguments({ root: a }, { root: b })).toBe(true);
    const note = { fault: undefined as string | undefined };
    expect(has([a], b, null, note)).toBe(false);
    expect(note.fault).toBe(TOO_MANY_VALUES_TO_COMPARE);
    expect(() => equal(a, b)).toThrow();
    expect(() => canonicalKey("t", a)).toThrow();
    // Each walk has its own budget: one that ran out does not make the next fail.
    expect(equal(sharedTree(10), sharedTree(10))).toBe(true);
    expect(cpuMilliseconds() - start).toBeLessThan(5000);
  });

  it("bundles of older compilers, whose checks do not count, are checked by the counting validators", () => {
    // policyc 0.3.0's code: the same checks without the count.
    const code = policy.code
      .replace(/ \|\| \(valuesSeen \+= v\.length\) > \d+/g, "")
      .replace(/ && \+\+valuesSeen <= \d+/g, "")
      .replace(/\n {2}valuesSeen = 0;/g, "")
      .replace("\nlet valuesSeen = 0;", "");
    expect(policy.code).toContain("\nlet valuesSeen = 0;\n"); // what the engine recognizes counting code by
    expect(code).not.toContain("valuesSeen");
    const engine = new Engine(handEdited({ ...policy, code }));
    expect(timed(engine, request("s", "tree.put", { root: sharedTree(40), n: 1 })).reasons[0]).toMatch(/^the request holds more than 1,000,000 values to validate \(request\.args\.root: /);
    expect(timed(engine, request("t", "tree.put", { root: sharedTree(3), n: 1 })).decision).toBe("allow");
    expect(timed(engine, request("t", "tree.put", { root: { name: 1, kids: [] }, n: 1 }, 1)).reasons).toEqual(["request.args.root.name must be a string, not the number 1"]);
  });
});

/** Strings of any UTF-16 code units (lone surrogates, controls, quotes, non-ASCII), and -0 among the numbers. */
const anyText = fc.string({ unit: "binary" });
const anyScalar = fc.oneof(anyText, fc.double(), fc.constant(-0), fc.integer(), fc.boolean());
/** Field names an enforcement point could declare or send: any text, quotes, backslashes and Object.prototype's names. */
const fieldName = fc.oneof(anyText, fc.constantFrom("__proto__", "constructor", "toString", "hasOwnProperty", '"', 'a"b', "\\", "", "to"));

/**
 * The record key as the general walk wrote it before quoted names were made once per shape:
 * each declared own field present and not null, in the shape's order, as `"name":` and its
 * key. Written here from canonicalKey alone, so a key text the fast path gets wrong differs.
 */
function walkedRecordKey(value: Record<string, unknown>, fields: readonly (readonly [string, null])[]): string {
  const parts: string[] = [];
  for (const [name] of fields) {
    const member = Object.hasOwn(value, name) ? value[name] : undefined;
    if (member !== undefined && member !== null) parts.push(`${JSON.stringify(name)}:${canonicalKey("", member)}`);
  }
  return `{${parts.join(",")}}`;
}

describe("the key of a value of no declared shape (an ask's scalar and list<string> arguments)", () => {
  it("is the general walk's text, however it is made: an ask keyed before an upgrade is found after it", () => {
    fc.assert(
      fc.property(fc.oneof(anyScalar, fc.array(anyText), fc.array(fc.oneof(anyText, fc.integer(), fc.constant(-0), fc.constant(null))), fc.anything()), (value) => {
        expect(declaredKey(value, null)).toBe(canonicalKey("", value));
      }),
      { numRuns: 2000 },
    );
    expect(declaredKey({ to: ["a@x", 'q"\n'], n: 3 }, { fields: [["n", null], ["to", null]] })).toBe('{"n":""|3,"to":""|["a@x","q\\"\\n"]}');
    // -0 is written as JSON writes it, "0", on both paths (alone and in a list).
    expect(declaredKey(-0, null)).toBe(canonicalKey("", -0));
    expect(declaredKey([-0, "a"], null)).toBe(canonicalKey("", [-0, "a"]));
    // A lone surrogate is escaped, not replaced: two such texts keep two keys.
    expect(declaredKey(["\ud800"], null)).not.toBe(declaredKey(["\udc00"], null));
    expect(declaredKey(["\ud800"], null)).toBe(canonicalKey("", ["\ud800"]));
  });

  it("of a record of declared fields whose names hold quotes, backslashes or __proto__, is the general walk's text field by field", () => {
    const records = (names: readonly string[]) =>
      fc.array(
        fc.tuple(...names.map(() => fc.option(fc.oneof(anyScalar, fc.array(anyText), fc.anything()), { nil: undefined }))).map((members) => {
          // Own fields, as JSON.parse makes them (`__proto__` too); an absent one is no field at all.
          const record: Record<string, unknown> = {};
          names.forEach((name, i) => {
            if (members[i] !== undefined) Object.defineProperty(record, name, { value: members[i], enumerable: true, writable: true, configurable: true });
          });
          return record;
        }),
        { minLength: 1, maxLength: 4 },
      );
    fc.assert(
      fc.property(
        fc.uniqueArray(fieldName, { minLength: 1, maxLength: 6 }).chain((names) => fc.tuple(fc.constant(names), records(names))),
        ([names, values]) => {
          const fields = [...names].sort().map((name) => [name, null] as const);
          // One shape for several values: its quoted names are made once and reused.
          for (const value of values) expect(declaredKey(value, { fields })).toBe(walkedRecordKey(value, fields));
        },
      ),
      { numRuns: 1000 },
    );
    // A declared `__proto__` the record does not have is absent, not Object.prototype.
    expect(declaredKey({ to: "x" }, { fields: [["__proto__", null], ["to", null]] })).toBe('{"to":""|"x"}');
    expect(declaredKey(JSON.parse('{"__proto__":"p","a\\"b":1}'), { fields: [["__proto__", null], ['a"b', null]] })).toBe('{"__proto__":""|"p","a\\"b":""|1}');
  });
});
