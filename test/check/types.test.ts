import { describe, expect, it } from "vitest";
import { analyze } from "../../src/check/analyze.js";
import { compileSources } from "../../src/compile/compile.js";
import { Engine } from "../../src/runtime/engine.js";
import { checkAlone, checkWithDecls, codesAndLines, describeDiagnostic, policyOf } from "../fixtures.js";

/** Checks rules (line 2, 3, … of `t.policy`) against the contract's declarations. */
function rules(...texts: string[]) {
  return checkWithDecls(policyOf(...texts));
}

/** Each rule, checked alone, gives exactly `code` on its line. */
function expectEach(code: string, texts: readonly string[]) {
  for (const text of texts) {
    const found = rules(text);
    expect(codesAndLines(found), `${text}\n${JSON.stringify(found, null, 1)}`).toEqual([[code, 2]]);
  }
}

/** A small schema of its own for argument and nested-optional tests. */
const EXTRA = [
  "type Payee { id: string, note?: string }",
  "tool pay.a { args { n: int, s: string, o?: string, p: Payee } }",
  "tool pay.b { args { n: string, s: string, o?: string } }",
  "tool pay.c { args { s: string } }",
  "user { id: string, payee?: Payee }",
].join("\n");

/** Checks `EXTRA` then a policy; lines are those of the policy block. */
function withExtra(...texts: string[]) {
  const found = checkAlone(`${EXTRA}\n${policyOf(...texts)}`);
  const offset = EXTRA.split("\n").length;
  return found.map((f) => (f.file === "t.policy" ? { ...f, line: f.line - offset } : f));
}

describe("PC300 type mismatch", () => {
  it("on a string used as a list, a number or an ordered value, says what was meant (audit s20 a1 L4)", () => {
    const helpOf = (condition: string) => rules(`deny * when ${condition}`).map((d) => [d.code, d.help]);
    expect(helpOf('"x" in agent.team')).toEqual([["PC300", '`in` asks whether a value is among a list\'s: for text inside the string, write `agent.team contains "x"`; for the whole string, `agent.team == "x"`']]);
    expect(helpOf("agent.team == 5")).toEqual([["PC300", '`agent.team` is a string: write the value in quotes, `agent.team == "5"`']]);
    expect(helpOf("agent.team < 5")).toEqual([["PC300", "strings have no order: compare `agent.team` with `==`, `!=`, `like` or `contains`"]]);
  });

  it("in every comparison operator", () => {
    expectEach("PC300", [
      'allow kb.search when agent.attested == "yes"', // ==
      'deny * when session.calls != "3"', // !=
      "deny * when agent.team < 3", // <
      'deny * when agent.team <= "b"', // <= on strings
      "deny * when session.age > 5", // > duration with int
      "deny * when agent.zone >= Label.pii", // >= members of two enums
      "deny * when 3 in user.roles", // in: element type
      'deny * when agent.team in "abc"', // in: not a collection
      "deny * when user.roles contains 3", // contains: element type
      "deny * when session.calls contains 1", // contains: not a collection
      'deny * when user.roles containsAny "a"', // containsAny: not a collection
      "deny * when context.labels containsAny user.roles", // containsAny: element types
      "deny * when user.roles containsAll [true]", // containsAll: element type
      'deny * when "a" containsAll user.roles', // containsAll: not a collection
      "deny kb.search when args.query like 3", // like: pattern not a string
    ]);
  });

  it("names the types and the operator, and suggests `true`/`false` for bools", () => {
    const [found] = rules('allow kb.search when agent.attested == "yes"');
    expect(found!.message).toBe("type mismatch: `==` compares a `bool` with a `string`");
    expect(found!.help).toContain("`true` or `false`");
    expect(found!.column).toBe(24);
  });

  it("in `not`, `and`/`or`, quantifiers, list literals, function arguments and `within`", () => {
    expectEach("PC300", [
      "deny * when not session.calls",
      "deny * when agent.attested and session.calls",
      "deny * when session.calls or agent.attested",
      "deny * when any(x in agent.team: true)",
      "deny * when any(x in user.roles: x)",
      'deny * when user.roles containsAny ["a", 1]',
      "deny * when url.host(3) == \"x\"",
      "deny * when session.count(within \"1m\") > 1",
      "deny * when session.called(\"a\" == \"b\")",
    ]);
  });

  it("`contains` on one value is reported first and alone, with the operator that fits; a bare member on the right resolves", () => {
    const [contains, ...others] = rules("deny * when agent.zone contains external");
    expect(others).toEqual([]);
    expect(contains).toMatchObject({ code: "PC300", message: "`contains` needs a set, a list or a string on the left, but this is a `Zone` member", help: "to compare one value, use `==`" });
    expect(rules("deny * when agent.zone containsAny [external, partner]")).toEqual([
      expect.objectContaining({ code: "PC300", help: "to test one value against several, use `in`: `agent.zone in [external, partner]`" }),
    ]);
    // A misspelled member is its own mistake, and gets its own did-you-mean.
    expect(codesAndLines(rules("deny * when agent.zone contains extrenal"))).toEqual([["PC300", 2], ["PC205", 2]]);
  });

  it("a quoted enum member or risk level: reported once, with help to drop the quotes (or the members, when the string is none)", () => {
    expect(rules('deny * when agent.zone == "external"')).toEqual([
      expect.objectContaining({ code: "PC300", message: "type mismatch: `==` compares a `Zone` member with a `string`", help: "write `external` (or `Zone.external`) without quotes" }),
    ]);
    expect(rules('deny * when context.labels containsAny ["pii", "secret"]')).toEqual([
      expect.objectContaining({ code: "PC300", message: 'this list must hold `Label` members, but `"pii"` and `"secret"` are strings', help: "write them without quotes: `pii`, `secret`" }),
    ]);
    expect(rules('deny * when agent.zone != "outside"')[0]!.help).toBe("`Zone` members are written without quotes, and `outside` is not one: they are `internal`, `partner`, `external`");
    expect(rules('deny * when agent.zone != "extrenal"')[0]!.help).toBe("`Zone` members are written without quotes, and `extrenal` is not one: did you mean `external`?");
    expect(rules('deny * when tool.risk == "high"')).toEqual([expect.objectContaining({ code: "PC302", help: "write `high` (or `Risk.high`) without quotes" })]);
    expect(rules('deny * when tool.risk in ["high", "critical"]')).toEqual([expect.objectContaining({ code: "PC300", message: 'this list must hold risk levels, but `"high"` and `"critical"` are strings' })]);
  });

  it("a number compared with a duration: help to write the unit", () => {
    expect(rules("deny * when session.age > 3600")).toEqual([expect.objectContaining({ code: "PC300", help: "write a duration with its unit, such as `1h` or `30s`" })]);
  });

  it("uses `an` before a name said with a vowel", () => {
    const checked = checkAlone('enum Env { dev }\ncontext { env: Env }\ntool t.x {}\npolicy p {\n  deny t.x when context.env == 3\n}');
    expect(checked.map((d) => d.message)).toEqual(["type mismatch: `==` compares an `Env` member with an `int`"]);
  });

  it("valid comparisons give nothing", () => {
    const valid = [
      'allow kb.search when agent.attested == true and agent.team != "x"',
      "allow kb.search when session.calls < 3 and session.calls <= 3 and session.denials > 0 and session.repeats >= 1",
      "allow kb.search when session.age > 5m and session.age <= 1d and now >= now",
      "allow kb.search when agent.zone < Zone.external and agent.zone >= internal",
      "allow kb.search when tool.risk >= low and intent.max_risk >= tool.risk",
      'allow kb.search when "admin" in user.roles and agent.zone in [internal, partner] and tool in intent.tools',
      'allow kb.search when user.roles contains "admin" and agent.team contains "sup" and intent.tools contains tool',
      'allow kb.search when user.roles containsAny ["a", "b"] and context.labels containsAny session.labels',
      "allow kb.search when session.labels containsAll [pii] and context.labels containsAll []",
      'allow kb.search when args.query like "how*" and tool like "kb.*" and intent like "support.*"',
    ];
    expect(rules(...valid)).toEqual([]);
  });
});

describe("collections of collections", () => {
  const NESTED = "context { ceilings: list<list<Risk>>, blackout: list<time>, frozen: list<time>, grid: list<list<time>>, to: list<string> }\ntool t.a {}\n";

  it("a list literal is one element of a list of lists, and a list of paths may hold collections", () => {
    const found = checkAlone(
      `${NESTED}${policyOf(
        "deny t.a when context.ceilings contains [high, critical]",
        "deny t.a when [low] in context.ceilings",
        "deny t.a when context.blackout in [context.blackout]",
        "deny t.a when context.blackout in [context.frozen, context.blackout]",
        "deny t.a when context.blackout in context.grid and context.grid contains context.frozen",
      )}`,
    );
    expect(found).toEqual([]);
  });

  it("a list of values on the right of `in` for a collection is still the one mistake it was", () => {
    const found = checkAlone(`${NESTED}${policyOf('deny t.a when context.to in ["eve@evil.example"]')}`);
    expect(found.map((f) => [f.code, f.message])).toEqual([["PC300", "`in` asks whether one value is among the list's, but this is a `list<string>`"]]);
  });
});

describe("one mistake, one error: follow-on errors of a failed operand", () => {
  it("a list on the right of `contains`: one PC300 naming containsAny/containsAll; its names resolve as the collection's", () => {
    const found = rules("deny * when context.labels contains [pii, secret]");
    expect(found.map((f) => [f.code, f.message, f.help])).toEqual([["PC300", "`contains` looks for one element, not a list of them", "to test several, use `containsAny` (any of them) or `containsAll` (all of them)"]]);
    expect(found[0]!.column).toBe("  deny * when context.labels contains ".length + 1);
    expect(rules("deny * when context.labels containsAny [pii, secret] or context.labels contains pii")).toEqual([]);
  });

  it("a list on the left of `in` [a list]: one PC300 naming containsAny/containsAll, not one per element", () => {
    const found = rules('deny * when user.roles in ["admin", "root"]', "deny * when context.labels in [pii, secret]");
    expect(found.map((f) => [f.code, f.line, f.message, f.help])).toEqual([
      ["PC300", 2, "`in` asks whether one value is among the list's, but this is a `set<string>`", "to ask whether any of its items is in the list, write `containsAny` for `in`; whether all of them are, `containsAll`"],
      ["PC300", 3, "`in` asks whether one value is among the list's, but this is a `set<Label>`", "to ask whether any of its items is in the list, write `containsAny` for `in`; whether all of them are, `containsAll`"],
    ]);
    expect(found[0]!.column).toBe("  deny * when ".length + 1);
    expect(rules('deny * when user.roles containsAny ["admin", "root"]', "deny * when context.labels containsAll [pii, secret]")).toEqual([]);
  });

  it("a bare name where a string is expected: quote it; no `list<unknown>` in any message", () => {
    const found = rules("deny * when user.roles contains [admin] or agent.team == support");
    expect(found.map((f) => [f.code, f.help])).toEqual([
      ["PC300", "to test several, use `containsAny` (any of them) or `containsAll` (all of them)"],
      ["PC206", 'strings are written in quotes: "admin"'],
      ["PC206", 'strings are written in quotes: "support"'],
    ]);
    expect(JSON.stringify(found)).not.toContain("unknown>");
  });

  it("a left side that failed: the bare names on the right are not guessed at", () => {
    const found = rules("deny * when labels contains pii or labels containsAny [pii, secret]");
    expect(found.map((f) => [f.code, f.message, f.help])).toEqual([
      ["PC206", "unknown name `labels`", "did you mean `context.labels` or `session.labels`?"],
      ["PC206", "unknown name `labels`", "did you mean `context.labels` or `session.labels`?"],
    ]);
  });

  it("a right side that failed: the bare names of a list on the left are not guessed at", () => {
    expect(rules("deny * when [pii, secret] == context.labelz").map((f) => [f.code, f.message])).toEqual([["PC202", "unknown attribute `labelz` of `context`"]]);
  });

  it("an attribute without its entity, `null`, and `TRUE`, get help that says so", () => {
    expect(rules('deny * when team == "x"').map((f) => f.help)).toEqual(["did you mean `agent.team`?"]);
    expect(rules("deny * when context.env == null").map((f) => [f.code, f.help])).toEqual([["PC206", "there is no `null`: test whether an optional attribute is present with `has`, as in `context has destination`"]]);
    for (const word of ["TRUE", "True", "False"]) expect(rules(`deny * when agent.attested == ${word}`).map((f) => [f.code, f.help]), word).toEqual([["PC206", `did you mean \`${word.toLowerCase()}\`? keywords are lower case`]]);
  });
});

describe("an int compared with a duration: the help names the side written in the wrong form", () => {
  it("a bare number where a duration goes needs a unit; a duration where a count goes needs none", () => {
    expect(rules("deny * when session.age > 3600").map((f) => f.help)).toEqual(["write a duration with its unit, such as `1h` or `30s`"]);
    expect(rules("deny * when session.count(within 1m) > 1m").map((f) => f.help)).toEqual(["`session.count(within 1m)` is a number: compare it with a number, without a unit"]);
    expect(rules("deny * when session.calls == session.age").map((f) => f.help)).toEqual([undefined]);
  });
});

describe("one-edit mistakes in comparisons get the edit as their help", () => {
  const helpOf = (condition: string) => rules(`deny * when ${condition}`).map((f) => [f.code, f.help]);

  it("a list compared as one of its elements: `contains` for `==`, `any(…)` for `like` and an ordering", () => {
    expect(rules('deny email.send when args.to == "bob@evil.com"').map((f) => f.help)).toEqual(['to test whether `args.to` holds it, write `args.to contains "bob@evil.com"`']);
    expect(rules('deny email.send when args.to != "bob@evil.com"').map((f) => f.help)).toEqual(['to test that `args.to` does not hold it, write `not (args.to contains "bob@evil.com")`']);
    // An address's domain is tested with `email.domain`, which `like "*@acme.com"` is weaker than (PC512).
    expect(rules('deny email.send when args.to like "*@acme.com"').map((f) => [f.code, f.help])).toEqual([["PC301", 'to test its elements, write `any(t in args.to: email.domain(t) == "acme.com")` (or `all(…)`)']]);
    expect(rules('deny email.send when args.to like "*@*.acme.com"').map((f) => [f.code, f.help])).toEqual([["PC301", 'to test its elements, write `any(t in args.to: email.domain(t).endsWith(".acme.com"))` (or `all(…)`)']]);
    expect(rules('deny email.send when args.to like "*@*.acme.*"').map((f) => [f.code, f.help])).toEqual([["PC301", 'to test its elements, write `any(t in args.to: t like "*@*.acme.*")` (or `all(…)`)']]);
    expect(helpOf("session.labels >= pii")).toEqual([["PC300", "to test its elements, write `any(l in session.labels: l >= pii)` (or `all(…)`)"]]);
  });

  it("a number or a duration in quotes; a time compared with a string", () => {
    expect(helpOf('session.count(within 1m) >= "30"')).toEqual([["PC300", "a number is written without quotes: `30`"]]);
    expect(helpOf('session.age > "8h"')).toEqual([["PC300", "a duration is written without quotes: `8h`"]]);
    expect(helpOf('now > "2025-01-01T00:00:00Z"')).toEqual([["PC300", "there are no time literals: compare a time with another time, such as `now` or a `time` attribute"]]);
  });

  it("a method without `()`, an operator called as a method, another language's request root", () => {
    expect(rules("deny email.send when args.to.size > 20").map((f) => [f.code, f.help])).toEqual([["PC202", "`size` is a method: write `args.to.size()`"]]);
    expect(rules('deny http.get when args.url.contains("evil")').map((f) => [f.code, f.help])).toEqual([["PC211", '`contains` is an operator: write `args.url contains "evil"`']]);
    expect(helpOf("context.has(destination)")).toEqual([["PC211", "`has` is an operator: write `context has destination`"]]);
    expect(helpOf('input.tool == "kb.search"')).toEqual([["PC206", "the request's parts are names of their own: write `tool`"]]);
    expect(helpOf('ctx.env == "prod"')).toEqual([["PC206", "did you mean `context`?"]]);
  });
});

describe("PC301 `like` and string methods on non-strings", () => {
  it("`like` on a bool, an int, an enum member, a set", () => {
    const found = rules('deny * when agent.attested like "*"');
    expect(codesAndLines(found)).toEqual([["PC301", 2]]);
    expect(found[0]!.message).toBe("`like` matches strings, but this is a `bool`");
    expect(found[0]!.column).toBe(15);
    expectEach("PC301", ['deny * when session.calls like "1*"', 'deny * when agent.zone like "ext*"', 'deny * when user.roles like "*"']);
  });

  it("string methods on non-strings are unknown methods (PC211)", () => {
    expectEach("PC211", ['deny * when agent.attested.startsWith("x")', 'deny * when session.calls.endsWith("1")', 'deny * when agent.zone.lower() == "x"']);
  });
});

describe("PC302 Risk against something else", () => {
  it("in ordering and equality, on either side", () => {
    expectEach("PC302", ["deny * when tool.risk > 3", 'deny * when tool.risk == "high"', "deny * when 3 < intent.max_risk", "deny * when tool.risk != agent.zone"]);
    const [found] = rules("deny * when tool.risk > 3");
    expect(found!.message).toBe("`Risk` can only be compared with a `Risk`, not an `int`");
    expect(found!.help).toContain("`low`, `medium`, `high`, `critical`");
  });
});

describe("PC303 optional attributes need a `has` guard", () => {
  it("reports an unguarded read", () => {
    const found = rules("ask http.get when context.destination.zone == external");
    expect(codesAndLines(found)).toEqual([["PC303", 2]]);
    expect(found[0]!.message).toBe("`destination` is optional and may be absent: guard it with `context has destination`");
  });

  it("accepts a guard earlier in the same `and` chain", () => {
    expect(rules("ask http.get when context has destination and context.destination.zone == external")).toEqual([]);
    expect(rules('ask http.get when agent.attested and context has destination and agent.team == "x" and context.destination.host == "h"')).toEqual([]);
    expect(rules('ask http.get when (context has destination and agent.attested) and context.destination.host == "h"')).toEqual([]);
    expect(rules('ask http.get when context has destination and any(r in user.roles: context.destination.host == r)')).toEqual([]);
  });

  it("accepts a guard in `when` for a read in `unless`", () => {
    expect(rules("ask http.get when context has destination unless context.destination.zone == internal")).toEqual([]);
  });

  it("accepts a guard under a double negation, and a negated `or` of negated guards (De Morgan)", () => {
    expect(rules("ask http.get when not (not (context has destination)) and context.destination.zone == external")).toEqual([]);
    expect(rules("ask http.get when not not (context has destination) and context.destination.zone == external")).toEqual([]);
    expect(rules("ask http.get when not (not (context has destination) or agent.attested) and context.destination.zone == external")).toEqual([]);
    expect(rules("deny http.get when not (not (not (context has destination))) or context.destination.zone == external")).toEqual([]);
    // A single negation still guards nothing for the terms after an `and`.
    expectEach("PC303", ["ask http.get when not (not (not (context has destination))) and context.destination.zone == external"]);
  });

  it("accepts `not (x has f) or x.f…`", () => {
    expect(rules("deny http.get when not (context has destination) or context.destination.zone == external")).toEqual([]);
    expect(rules("deny http.get unless not (context has destination) or context.destination.zone == internal")).toEqual([]);
  });

  it("rejects a guard that does not cover the read", () => {
    expectEach("PC303", [
      "ask http.get when context.destination.zone == external and context has destination", // after, not before
      "ask http.get when context has destination or context.destination.zone == external", // `or`
      "ask http.get when not (context has destination) and context.destination.zone == external", // negated
      "ask http.get when (context has destination or agent.attested) and context.destination.zone == external", // inside an `or`
      "ask http.get unless context.destination.zone == internal", // `unless` without a `when` guard
    ]);
  });

  it("says so when the guard is written but under `or` (audit s20 a1 L3)", () => {
    const [found] = rules("deny http.get when context has destination or context.destination.zone == external");
    expect(found).toMatchObject({
      code: "PC303",
      message: "`destination` is optional and may be absent: the guard `context has destination` is under `or`, so it does not cover this read",
      help: "an `or` reads this when the guard is false: write `context has destination and context.destination…`, or `not (context has destination) or context.destination…` to include its absence",
    });
    // Inside a term after the `or`, too; and with no guard written, the plain message.
    expect(rules("deny http.get when context has destination or (agent.attested and context.destination.zone == external)")[0]!.message).toContain("is under `or`");
    expect(rules("deny http.get when agent.attested or context.destination.zone == external")[0]!.message).toBe("`destination` is optional and may be absent: guard it with `context has destination`");
  });

  it("nested optionals need a guard at each level; optional arguments too", () => {
    expect(withExtra('deny * when user has payee and user.payee has note and user.payee.note == "x"')).toEqual([]);
    expect(codesAndLines(withExtra('deny * when user has payee and user.payee.note == "x"'))).toEqual([["PC303", 2]]);
    expect(codesAndLines(withExtra('deny pay.a when args.o == "x"'))).toEqual([["PC303", 2]]);
    expect(withExtra('deny pay.a, pay.b when args has o and args.o == "x"')).toEqual([]);
    expect(withExtra('deny pay.a when args.p.note.size() > 0 and false').map((f) => f.code)).toContain("PC303");
  });
});

describe("PC304 arguments must be in every targeted tool with one type", () => {
  it("reports an argument missing from one target, naming it", () => {
    const found = rules('allow email.send, kb.search when args.query == "x"');
    expect(codesAndLines(found)).toEqual([["PC304", 2]]);
    expect(found[0]!.message).toContain("`email.send` has no argument `query`");
  });

  it("reports an argument whose type differs between targets", () => {
    const found = withExtra("deny pay.a, pay.b when args.n == 1");
    expect(codesAndLines(found)).toEqual([["PC304", 2]]);
    expect(found[0]!.message).toContain("its type differs");
  });

  it("through a pattern and through `*`", () => {
    expect(codesAndLines(withExtra('deny pay.* when args.o == "x"'))).toEqual([["PC304", 2]]);
    expect(codesAndLines(rules('deny * when args.url == "x"'))).toEqual([["PC304", 2]]);
  });

  it("accepts an argument shared with one type", () => {
    expect(withExtra('deny pay.* when args.s == "x"')).toEqual([]);
    expect(withExtra('deny pay.a, pay.b when args.s like "x*"')).toEqual([]);
  });
});

describe("PC305 conditions must be bools", () => {
  it("in `when` and `unless`", () => {
    expectEach("PC305", ["deny * when agent.team", "deny * when session.calls", "deny kb.search unless args.query", "deny * when [true]", 'deny * when "yes"']);
    expect(rules("deny * when agent.team")[0]!.message).toBe("a condition must be a bool, but this is a `string`");
  });
});

describe("PC306 `has` needs something with attributes", () => {
  it("on a string, a number, a set", () => {
    expectEach("PC306", ["deny * when agent.team has x", "deny * when session.calls has x", "deny * when user.roles has x"]);
  });

  it("on entities, records and args it is fine", () => {
    expect(rules("deny * when context has destination")).toEqual([]);
    expect(withExtra("deny pay.a when args has o")).toEqual([]);
  });
});

describe("PC300: a list literal holding both sets and lists", () => {
  it("is refused: compared as one type, the list would lose its order or the set gain one", () => {
    const found = analyze([{ path: "t.policy", text: 'tool shell.exec { args { argv: list<string>, extra: set<string> } }\npolicy p {\n  allow shell.exec when args.argv in [["cp", "build/app", "dist/app"], args.extra]\n}\n' }]).diagnostics.map(describeDiagnostic);
    expect(found.map((d) => [d.code, d.line, d.column, d.message, d.help])).toEqual([
      ["PC300", 3, 38, "this list holds both sets and lists, which compare differently (a set ignoring order and repeats, a list in order)", 'write a test for each, joined with `or`, as in `x == ["a", "b"] or x == args.tags`'],
    ]);
  });

  it("a literal of sets alone, compared with lists, compares as sets (both operand orders agree)", () => {
    const { policy } = compileSources([{ path: "t.policy", text: "tool t { args { pairs: list<list<string>>, pair: set<string> } }\npolicy p {\n  @name(\"a\") allow t when args.pairs containsAny [args.pair]\n  @name(\"b\") allow t when args.pair in args.pairs\n}\n" }]);
    const decision = new Engine(policy!).decide({ session: "s", tool: "t", args: { pairs: [["a", "b"]], pair: ["b", "a"] } });
    expect(decision).toMatchObject({ decision: "allow", rules: ["a", "b"] });
  });
});
