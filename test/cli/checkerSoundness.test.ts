import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/check/analyze.js";
import { compileSources } from "../../src/compile/compile.js";
import { compileProgram } from "../../src/compile/compileProgram.js";
import { Engine } from "../../src/runtime/engine.js";
import { explain } from "../../src/runtime/explain.js";
import type { DiagnosticJson } from "../../src/diagnostics/render.js";
import { cli, type CliResult } from "../helpers.js";

/**
 * Mistakes the checker once let through (audit a3, session 15): each is now refused by
 * `policyc check` with a code and a span, and never reaches the compiler as an internal error.
 */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-soundness-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Declarations shared by the cases: records with optional fields, a tool reading them. */
const DECLS = `enum Zone { internal, external }
type Destination { host: string, zone: Zone }
type Rec { name: string, destination?: Destination }
tool t.x { risk high args { recs: list<Rec>, s: string, l: list<string>, n: int } }
tool kb.search { risk low args { query: string } }
`;

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

/** `policyc check --json` of the declarations and `rules` in one policy. */
async function check(rules: string): Promise<{ result: CliResult; diagnostics: DiagnosticJson[] }> {
  const file = write(`case${Math.random().toString(36).slice(2)}.policy`, `${DECLS}policy p {\n${rules}\n}\n`);
  const result = await cli(["check", "--json", file], { cwd: dir });
  return { result, diagnostics: (JSON.parse(result.stdout) as { diagnostics: DiagnosticJson[] }).diagnostics };
}

const errorsOf = (diagnostics: readonly DiagnosticJson[]): string[] => diagnostics.filter((d) => d.severity === "error").map((d) => d.code);

/** `deny t.x when CONDITION` fails `check` (exit 1) with exactly one diagnostic, which has `expected`; returns it. */
async function expectOnly(condition: string, expected: Partial<DiagnosticJson>): Promise<DiagnosticJson> {
  const { result, diagnostics } = await check(`  deny t.x when ${condition}`);
  expect(result.code, condition).toBe(1);
  expect(diagnostics, condition).toHaveLength(1);
  expect(diagnostics[0], condition).toMatchObject(expected);
  return diagnostics[0]!;
}

/** The audit's request: one record with a destination, one without. */
const REQUEST = { session: "s1", tool: "t.x", args: { recs: [{ name: "a", destination: { host: "h", zone: "internal" } }, { name: "b" }], s: "x", l: [], n: 1 } };

describe("a quantifier that reuses a variable's name does not inherit its guards (F1)", () => {
  const SHADOWED = "any(x in args.recs: x has destination and all(x in args.recs: x.destination.zone == internal))";

  it("the inner unguarded read is PC303, in an ask and in a deny … revoke", async () => {
    for (const rule of [`  allow t.x\n  ask t.x when ${SHADOWED}`, `  allow t.x\n  deny t.x when ${SHADOWED} revoke`]) {
      const { result, diagnostics } = await check(rule);
      expect(result.code, result.stdout).toBe(1);
      const pc303 = diagnostics.find((d) => d.code === "PC303")!;
      expect(pc303.message).toBe("`destination` is optional and may be absent: guard it with `x has destination`");
      // The inner `x.destination`, not the outer guard.
      expect(pc303.line).toBe(8);
      expect(pc303.column).toBe(rule.split("\n")[1]!.indexOf("x.destination.zone") + 1);
    }
  });

  it("so does the `not (x has f) or …` form of the guard", async () => {
    const { diagnostics } = await check("  deny t.x when any(x in args.recs: not (x has destination) or any(x in args.recs: x.destination.zone == internal))");
    expect(errorsOf(diagnostics)).toEqual(["PC303"]);
  });

  it("a guard on a root is dropped where a variable hides that root; other guards still hold", async () => {
    expect(errorsOf((await check("  deny t.x when any(r in args.recs: r has destination and any(x in args.recs: r.destination.zone == internal))")).diagnostics)).toEqual([]);
    expect(errorsOf((await check("  deny t.x when any(r in args.recs: r has destination and any(y in args.recs: y.destination.zone == internal))")).diagnostics)).toEqual(["PC303"]);
  });

  it("past the checker, the engine fails closed where its explanation says the rule failed", () => {
    // The compiled code once read `x.destination.zone` of the record without one as absent, and
    // allowed the call that its own explanation said a deny … revoke matched (failing closed).
    for (const [effect, decision, revoked] of [["ask", "ask", false], ["deny", "deny", true]] as const) {
      const text = `${DECLS}policy p {\n  allow t.x\n  ${effect} t.x when ${SHADOWED}${effect === "deny" ? " revoke" : ""}\n}\n`;
      const analysis = analyze([{ path: "p.policy", text }]);
      expect(analysis.ok).toBe(false);
      const policy = compileProgram(analysis.program!);
      const decided = new Engine(policy).decide(REQUEST);
      const explained = explain(new Engine(policy), REQUEST);
      expect(explained.rules.map((r) => [r.id, r.matched])).toEqual([["p/1", true], ["p/2", "error"]]);
      expect({ decision: decided.decision, rules: decided.rules, revoked: decided.revoked }).toEqual({ decision, rules: ["p/2"], revoked });
      expect(decided.errors).toEqual(['p/2: cannot read "zone": the value it belongs to is absent']);
    }
  });
});

describe("a quantifier over the empty list is PC300, never an internal error (F2)", () => {
  it("`[]` and an inner `[]` of `[[]]` are refused by check, with the variable and what the quantifier always is", async () => {
    const cases: [string, string][] = [
      ["any(x in []: x.foo.bar == 1)", "`any` over an empty list: `x` has no type, and the `any` is always false"],
      ['all(x in []: x.size() > "a")', "`all` over an empty list: `x` has no type, and the `all` is always true"],
      ['any(x in []: x.lower() == "a")', "`any` over an empty list: `x` has no type, and the `any` is always false"],
      ["any(x in [[]]: any(y in x: y.foo == 1))", "`any` over an empty list: `y` has no type, and the `any` is always false"],
    ];
    for (const [condition, message] of cases) {
      const found = await expectOnly(condition, { code: "PC300", message });
      // The span is the collection the variable ranges over.
      const collection = condition.includes("[[]]") ? "x" : "[]";
      expect(found.column, condition).toBe("  deny t.x when ".length + condition.indexOf(` in ${collection}:`) + 5);
    }
  });

  it("eval and build say so too, with exit 1", async () => {
    const file = write("empty.policy", `${DECLS}policy p {\n  deny t.x when any(x in []: x.foo.bar == 1)\n}\n`);
    write("request.json", JSON.stringify(REQUEST));
    for (const args of [["eval", file, "--request", "request.json"], ["build", file, "-o", "out"]]) {
      const result = await cli(args, { cwd: dir });
      expect(result.code, args[0]).toBe(1);
      expect(result.stdout + result.stderr, args[0]).toContain("error[PC300]: `any` over an empty list");
      expect(result.stdout + result.stderr, args[0]).not.toContain("internal error");
    }
  });

  it("an element of `[[]]` is described as an empty list, not `list<unknown>`", async () => {
    const { diagnostics } = await check("  deny t.x when any(x in [[]]: x.foo == 1)");
    expect(diagnostics.map((d) => d.message)).toEqual(["an empty list (`[]`) has no attribute `foo`"]);
  });

  it("`[[]]` is described as holding only empty lists, and `[]` misused gets no help suggesting a form that never matches (review r4 R5)", async () => {
    const cases: [string, string, string][] = [
      ["[[]] contains args.n", "PC300", "a list that holds only empty lists cannot contain an `int`"],
      ['[] like "a"', "PC301", "`like` matches strings, but this is an empty list (`[]`)"],
      ["args.n == []", "PC300", "type mismatch: `==` compares an `int` with an empty list (`[]`)"],
    ];
    for (const [condition, code, message] of cases) {
      const { diagnostics } = await check(`  deny t.x when ${condition}`);
      expect(diagnostics.map((d) => [d.code, d.message, d.help]), condition).toEqual([[code, message, undefined]]);
    }
    // A list that has elements keeps its help.
    expect((await check('  deny t.x when args.l like "a"')).diagnostics.map((d) => d.help)).toEqual(['to test its elements, write `any(l in args.l: l like "a")` (or `all(…)`)']);
  });

  it("`[]` still compares with collections of any type, and decides", async () => {
    for (const condition of ["args.l == []", "[] == args.recs", 'args.s in []', "[] contains args.s", "args.recs containsAny []", '[[], ["a"]] contains args.l', '[].size() == 0']) {
      const { result, diagnostics } = await check(`  allow t.x\n  deny t.x when ${condition}`);
      expect(errorsOf(diagnostics), condition).toEqual([]);
      expect(result.code, condition).toBe(0);
    }
    const file = write("compare.policy", `${DECLS}policy p {\n  allow t.x\n  deny t.x when args.l == [] and [[], ["a"]] contains args.l\n}\n`);
    write("request.json", JSON.stringify(REQUEST));
    const result = await cli(["eval", file, "--request", "request.json", "--json"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ decision: "deny", rules: ["p/2"], errors: [] });
  });
});

describe("a session pattern that is a value of the request says so (F3)", () => {
  it("for a request path, the session, a quantifier's variable and `tool`, with the help that fits", async () => {
    const cases: [string, string, string][] = [
      ["session.called(args.s)", "`args.s` is a value of the request", "write the tool's name, as in `session.called(t.x)`"],
      ["session.count(args.s, within 1m) > 1", "`args.s` is a value of the request", "write the tool's name, as in `session.count(t.x, within 1m)`"],
      ["session.called(session.last)", "`session.last` is a value of the session", "write the tool's name, as in `session.called(t.x)`"],
      ["any(x in args.l: session.called(x))", "`x` is the variable of a quantifier, a value of the request", "write the tool's name, as in `session.called(t.x)`"],
      ["session.called(tool)", "`tool` is the name of the tool being called, a value of the request", "to ask whether the tool being called was allowed before in the session, write `session.tools contains tool`"],
    ];
    for (const [condition, what, help] of cases) {
      const { result, diagnostics } = await check(`  deny t.x when ${condition}`);
      expect(result.code, condition).toBe(1);
      const method = condition.includes("count") ? "count" : "called";
      expect(diagnostics.map((d) => [d.code, d.message, d.help]), condition).toEqual([["PC300", `the pattern of \`session.${method}\` is written in the policy (a tool name, a pattern like \`kb.*\`, or a string), but ${what}`, help]]);
    }
  });

  it("with several targets the help names no one tool; a declared tool or a pattern is still a pattern", async () => {
    const { diagnostics } = await check("  deny t.x, kb.search when session.called(args.s)");
    expect(diagnostics.map((d) => d.help)).toEqual(["write the tool's name, a pattern like `kb.*`, or a string holding a glob"]);
    for (const condition of ["session.called(kb.search)", "session.called(kb.*)", 'session.called("kb.*")', "any(kb in args.l: session.called(kb.search))"]) {
      expect(errorsOf((await check(`  deny t.x when ${condition}`)).diagnostics), condition).toEqual([]);
    }
    // A tool whose name starts like a request root is a tool.
    const file = write("userTool.policy", "tool user.lookup { args { id: string } }\npolicy p {\n  deny user.lookup when session.called(user.lookup)\n}\n");
    expect((await cli(["check", file], { cwd: dir })).code).toBe(0);
  });

  it("takes the `within` before the pattern too, meaning the same (F9, as language.md 5.11 says)", () => {
    const irOf = (condition: string): unknown => compileSources([{ path: "p.policy", text: `${DECLS}policy p {\n  deny t.x when ${condition}\n}\n` }]).policy!.rules[0]!.ir;
    expect(irOf("session.count(within 1m, kb.*) > 1")).toEqual(irOf("session.count(kb.*, within 1m) > 1"));
    expect(irOf("session.called(within 5m, kb.search)")).toEqual(irOf("session.called(kb.search, within 5m)"));
  });

  it("counts a `within` among the arguments given (F9)", async () => {
    const { diagnostics } = await check("  deny t.x when session.called(kb.search, t.x, within 1m)");
    expect(diagnostics.map((d) => d.message)).toContain("`session.called` takes one tool pattern and an optional `within D`, but 3 arguments were given");
    // A second `within` is PC107, which says so.
    const twice = await check('  deny t.x when session.called("kb.search", within 1m, within 2m)');
    expect(twice.diagnostics.map((d) => [d.code, d.message])).toEqual([["PC107", "`within` is given twice in this call"]]);
  });
});

describe("a tool or intent name is no text for url, email, path and ip functions (F5)", () => {
  it("is PC300 naming what the function reads", async () => {
    const cases: [string, string][] = [
      ['path.normalize(tool) == "/a"', "`path.normalize` reads a path from a string, but `tool` is a tool name, which is never one"],
      ['ip.inRange(tool, "10.0.0.0/8")', "`ip.inRange` reads an IP address from a string, but `tool` is a tool name, which is never one"],
      ['url.host(intent) == "a.com"', "`url.host` reads a URL from a string, but `intent` is an intent name, which is never one"],
      ['email.domain(session.last) == "a.com"', "`email.domain` reads an email address from a string, but `session.last` is a tool name, which is never one"],
    ];
    for (const [condition, message] of cases) await expectOnly(condition, { code: "PC300", message });
    expect(errorsOf((await check('  deny t.x when path.normalize(args.s) == "/a" or url.host(args.s) == "a.com"')).diagnostics)).toEqual([]);
  });
});

describe("a list compared with a value of another type is one error, the comparison's (F4)", () => {
  it("PC302 once for a list of numbers compared with a risk, with its help", async () => {
    const { result, diagnostics } = await check("  deny * when tool.risk in [1, 2]");
    expect(result.code).toBe(1);
    expect(diagnostics.map((d) => [d.code, d.message, d.help])).toEqual([["PC302", "`Risk` can only be compared with a `Risk`, not an `int`", "compare with a risk level: `low`, `medium`, `high`, `critical`"]]);
    expect(diagnostics[0]!.column).toBe("  deny * when tool.risk in [".length + 1);
  });

  it("PC300 once for the list, naming its elements, with the bool's help", async () => {
    const bool = await check('  deny t.x when args.n in ["a", 2, "b"] or args.l == [1]');
    expect(bool.diagnostics.map((d) => d.message)).toEqual(["this list's elements are compared with an `int`, but `\"a\"` and `\"b\"` are not", "this list's elements are compared with a `string`, but `1` is an `int`"]);
    const file = write("attested.policy", "agent { attested: bool }\ntool kb.search {}\npolicy p {\n  allow kb.search when agent.attested in [\"yes\"]\n}\n");
    const { stdout } = await cli(["check", "--json", file], { cwd: dir });
    expect((JSON.parse(stdout) as { diagnostics: DiagnosticJson[] }).diagnostics.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC300", "this list's elements are compared with a `bool`, but `\"yes\"` is a `string`", "compare a bool with `true` or `false`, or use it directly as a condition"],
    ]);
  });

  it("`intent.tools containsAny [...]` is one error, about `intent.tools`, not the list", async () => {
    const file = write("intent.policy", `${DECLS}intent i { tools t.x }\npolicy p {\n  deny t.x when intent.tools containsAny ["t.x"]\n}\n`);
    const { stdout } = await cli(["check", "--json", file], { cwd: dir });
    expect((JSON.parse(stdout) as { diagnostics: DiagnosticJson[] }).diagnostics.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC300", "`containsAny` needs a set or a list on the left, but this is `intent.tools` (the intent's tool patterns)", "ask about one tool at a time: `intent.tools contains kb.search`, or `tool in intent.tools` for the tool being called"],
    ]);
  });
});

describe("a keyword naming a quantifier's variable is one error, at it (F9)", () => {
  it("for `tool`, `args`, `context`, and no follow-on error at the `:`", async () => {
    for (const [condition, word, help] of [
      ['any(tool in args.l: tool == "a")', "tool", "give the variable another name, as in `any(t in …: …)`"],
      ['all(args in args.l: args == "a") and args.n > 1', "args", "give the variable another name, as in `all(a in …: …)`"],
      ['any(context in args.l: context == "a")', "context", "give the variable another name, as in `any(c in …: …)`"],
    ] as const) {
      const { result, diagnostics } = await check(`  deny t.x when ${condition}`);
      expect(result.code, condition).toBe(1);
      expect(diagnostics.map((d) => [d.code, d.message, d.help, d.column]), condition).toEqual([["PC103", `\`${word}\` is a keyword and cannot name a variable`, help, "  deny t.x when any(".length + 1]]);
    }
  });
});

describe("messages the audit found unclear (F9, F11)", () => {
  it("`length` or `count` of a list or string points to `size()`", async () => {
    const { diagnostics } = await check("  deny t.x when args.l.length > 3 or args.s.count > 3");
    expect(diagnostics.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC202", "a `list<string>` has no attribute `length`", "write `args.l.size()` for the number of elements"],
      ["PC202", "a `string` has no attribute `count`", "write `args.s.size()` for the number of characters"],
    ]);
  });

  it("`intent.tools` is named as such, not as \"a `tool patterns`\"", async () => {
    const file = write("patterns.policy", `${DECLS}intent i { tools t.x }\npolicy p {\n  deny t.x when intent.tools.size() > 3\n}\n`);
    const { stdout } = await cli(["check", "--json", file], { cwd: dir });
    expect((JSON.parse(stdout) as { diagnostics: DiagnosticJson[] }).diagnostics.map((d) => d.message)).toEqual(["`intent.tools` (the intent's tool patterns) has no method `size`"]);
  });
});

describe("two bare risk levels compared (F9)", () => {
  it("get the help to write `Risk.low`", async () => {
    const { diagnostics } = await check("  deny t.x when low > medium");
    expect(diagnostics.map((d) => [d.code, d.message, d.help])).toEqual([["PC206", "unknown name `low`", "with nothing that is a `Risk` beside it, a risk level is written `Risk.low`"]]);
  });
});

describe("common forms of other languages get a help (F11)", () => {
  it("`not in`, arithmetic, indexing and a method written as a function", async () => {
    const cases: [string, string][] = [
      ['args.s not in ["a"]', "there is no `not in`: write `not` before the whole test, as in `not (x in …)`"],
      ['args.s not like "a*"', "there is no `not like`: write `not` before the whole test, as in `not (x like …)`"],
      ["args.n > 10 * 2", "the language has no arithmetic: compute the value where the request is made and send it (in `context` or `args`), or compare with a constant"],
      ['args.l[0] == "a"', "the language has no indexing: test the elements with `any(x in L: …)` or `all(x in L: …)`, or the collection with `contains`"],
      ["size(args.l) > 3", "`size` is no function: write the method after the value, as in `args.l.size()`"],
      ['lower(args.s) == "a"', "`lower` is no function: write the method after the value, as in `args.s.lower()`"],
    ];
    for (const [condition, help] of cases) await expectOnly(condition, { code: "PC103", help });
  });
});
