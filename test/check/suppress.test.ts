import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/check/analyze.js";
import { compileSources } from "../../src/compile/compile.js";
import { Engine } from "../../src/runtime/engine.js";
import { DECLS, checkWithDecls, codesAndLines, describeDiagnostic, policyOf } from "../fixtures.js";
import { cli } from "../helpers.js";
import { call } from "../runtime/fixtures.js";

/** `*:*` is a search engine's match-all query: compared as the text it is, it gets PC511. */
const MATCH_ALL = 'deny kb.search when args.query == "*:*"';

function analyzed(...rules: string[]) {
  return analyze([
    { path: "decls.policy", text: DECLS },
    { path: "t.policy", text: policyOf(...rules) },
  ]);
}

describe("@suppress: hides the named warnings of its own rule", () => {
  it("hides a PC511 on its rule and counts it as suppressed; the set stays ok", () => {
    expect(codesAndLines(checkWithDecls(policyOf(MATCH_ALL, "allow kb.search")))).toEqual([["PC511", 2]]);
    const result = analyzed(`@suppress("PC511") ${MATCH_ALL}`, "allow kb.search");
    expect(result.diagnostics).toEqual([]);
    expect(result.suppressed.map(describeDiagnostic).map((d) => [d.code, d.line])).toEqual([["PC511", 2]]);
    expect(result.ok).toBe(true);
  });

  it("only on that rule: the same warning on the next rule still shows", () => {
    const found = checkWithDecls(policyOf(`@suppress("PC511") ${MATCH_ALL}`, 'deny kb.search when args.query == "title:*"', "allow kb.search"));
    expect(codesAndLines(found)).toEqual([["PC511", 3]]);
  });

  it("only the codes it names: another warning on the rule still shows", () => {
    // PC506: "kb.serch" names no declared tool; PC511 is hidden, PC506 is not.
    const found = checkWithDecls(policyOf(`@suppress("PC511") deny kb.search when args.query == "*:*" or tool == "kb.serch"`, "allow kb.search"));
    expect(codesAndLines(found)).toEqual([["PC506", 2]]);
  });

  it("covers warnings anywhere in the rule: its annotations (PC504), effect (PC501) and strings (PC510, found by the parser)", () => {
    expect(codesAndLines(checkWithDecls(policyOf('@suppress("PC504") @Name("x") allow kb.search')))).toEqual([]);
    expect(codesAndLines(checkWithDecls(policyOf('@suppress("PC501") allow kb.search', "deny kb.*")))).toEqual([]);
    expect(codesAndLines(checkWithDecls(policyOf('@suppress("PC510") deny kb.search when args.query == "rm\u00a0-rf"', "allow kb.search")))).toEqual([]);
    // Without the suppression, each is reported.
    expect(codesAndLines(checkWithDecls(policyOf('@Name("x") allow kb.search')))).toEqual([["PC504", 2]]);
    expect(codesAndLines(checkWithDecls(policyOf("allow kb.search", "deny kb.*")))).toEqual([["PC501", 2]]);
    expect(codesAndLines(checkWithDecls(policyOf('deny kb.search when args.query == "rm\u00a0-rf"', "allow kb.search")))).toEqual([["PC510", 2]]);
  });

  it("may be repeated, and may name several codes: the lists add up", () => {
    const rule = '@suppress("PC511") @suppress("PC506") deny kb.search when args.query == "*:*" or tool == "kb.serch"';
    expect(codesAndLines(checkWithDecls(policyOf(rule, "allow kb.search")))).toEqual([]);
    expect(codesAndLines(checkWithDecls(policyOf(rule.replace('@suppress("PC511") @suppress("PC506")', '@suppress("PC506", "PC511")'), "allow kb.search")))).toEqual([]);
  });

  it("changes no decision, and is kept in the bundle's annotations", () => {
    const { policy } = compileSources([
      { path: "decls.policy", text: DECLS },
      { path: "t.policy", text: policyOf(`@suppress("PC511") ${MATCH_ALL}`, "allow kb.search") },
    ]);
    expect(policy!.rules[0]!.annotations).toEqual({ suppress: ["PC511"] });
    const engine = new Engine(policy!);
    expect(engine.decide(call("kb.search", 0, { args: { query: "*:*" } })).decision).toBe("deny");
    expect(engine.decide(call("kb.search", 1, { args: { query: "refunds" } })).decision).toBe("allow");
  });
});

describe("@suppress: what it cannot do (PC109, PC504, PC514)", () => {
  const messages = (...rules: string[]) => checkWithDecls(policyOf(...rules)).filter((f) => f.file === "t.policy").map((f) => [f.code, f.message, f.help]);

  it("an error's code is refused: errors cannot be hidden", () => {
    expect(messages('@suppress("PC300") allow kb.search')).toEqual([["PC109", "PC300 is an error, and `@suppress` hides only warnings", "fix what the error says: a rule with an error does not build"]]);
  });

  it("text that is no code is refused, with a did-you-mean only one edit away", () => {
    expect(messages('@suppress("PC5111") allow kb.search')).toEqual([["PC109", '"PC5111" is not the code of a warning', 'did you mean "PC511"? (codes are written as `check` prints them)']]);
    expect(messages('@suppress("pc511") allow kb.search')[0]![2]).toBe('did you mean "PC511"? (codes are written as `check` prints them)');
    expect(messages('@suppress("PC999") allow kb.search')).toEqual([["PC109", '"PC999" is not the code of a warning', 'write the code `check` prints in brackets, as in `warning[PC511]`: "PC511"']]);
  });

  it("a warning never reported inside a rule is refused (PC502, PC503, PC514)", () => {
    for (const code of ["PC502", "PC503", "PC514"]) {
      expect(messages(`@suppress("${code}") allow kb.search`).map(([c, m]) => [c, m])).toEqual([["PC109", `${code} is never reported inside a rule, so \`@suppress\` on a rule cannot hide it`]]);
    }
  });

  it("needs a code, and codes are strings", () => {
    expect(messages("@suppress allow kb.search").map(([c, m]) => [c, m])).toEqual([["PC109", "`@suppress` needs at least one warning code"]]);
    expect(messages("@suppress(511) allow kb.search").map(([c, m]) => [c, m])).toEqual([["PC109", "`@suppress` takes strings, as in `@suppress(\"…\")`"]]);
  });

  it("a misspelled @suppress is PC504: it is metadata and hides nothing", () => {
    const found = messages(`@supress("PC511") ${MATCH_ALL}`, "allow kb.search");
    expect(found.map(([c]) => c)).toEqual(["PC504", "PC511"]);
    expect(found[0]!.slice(1)).toEqual(["`@supress` is not `@suppress`: it is kept as metadata and hides no warning", "did you mean `@suppress`?"]);
  });

  it("a suppression that hides nothing is PC514, at its code", () => {
    const found = checkWithDecls(policyOf('@suppress("PC511") allow kb.search'));
    expect(found.map((f) => [f.code, f.line, f.column, f.message])).toEqual([["PC514", 2, 13, '`@suppress("PC511")` hides no warning: this rule gets no PC511']]);
  });

  it("PC514 waits while the set has errors: an error can stop the check that would find the warning", () => {
    const found = checkWithDecls(policyOf('@suppress("PC511") allow kb.search when agent.tema == "x"'));
    expect(found.map((f) => f.code)).toEqual(["PC202"]);
  });
});

describe("policyc check: suppressed counts and --fail-on-warnings", () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "policyc-suppress-"));
    writeFileSync(join(dir, "decls.policy"), DECLS);
    writeFileSync(join(dir, "hidden.policy"), policyOf(`@suppress("PC511") ${MATCH_ALL}`, "allow kb.search"));
    writeFileSync(join(dir, "shown.policy"), policyOf(MATCH_ALL, "allow kb.search"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("the ok line counts the hidden warnings", async () => {
    const result = await cli(["check", "decls.policy", "hidden.policy"], { cwd: dir });
    expect(result).toEqual({ code: 0, stdout: "ok: 2 files, 2 rules, no warnings (1 suppressed)\n", stderr: "" });
  });

  it("--fail-on-warnings: exit 1 on a warning, with the reason on the last line", async () => {
    const result = await cli(["check", "--fail-on-warnings", "decls.policy", "shown.policy"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("shown.policy:2:37: warning[PC511]");
    expect(result.stdout.trimEnd().split("\n").slice(-2)).toEqual(["0 errors, 1 warning", 'failed: 1 warning with --fail-on-warnings (fix it, or hide one that is known and meant with `@suppress("PC…")` on its rule)']);
  });

  it("--fail-on-warnings: exit 0 when every warning is suppressed", async () => {
    const result = await cli(["check", "--fail-on-warnings", "decls.policy", "hidden.policy"], { cwd: dir });
    expect(result.code).toBe(0);
  });

  it("--json: `suppressed`, and `ok` false when warnings fail the run", async () => {
    const failing = await cli(["check", "--json", "--fail-on-warnings", "decls.policy", "shown.policy"], { cwd: dir });
    expect(failing.code).toBe(1);
    expect(JSON.parse(failing.stdout)).toMatchObject({ ok: false, errors: 0, warnings: 1, suppressed: 0 });
    const passing = await cli(["check", "--json", "decls.policy", "hidden.policy"], { cwd: dir });
    expect(passing.code).toBe(0);
    expect(JSON.parse(passing.stdout)).toMatchObject({ ok: true, errors: 0, warnings: 0, suppressed: 1, diagnostics: [] });
  });

  it("fmt keeps the annotation", async () => {
    const result = await cli(["fmt", "hidden.policy"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('  @suppress("PC511")\n  deny kb.search\n');
    expect(readFileSync(join(dir, "hidden.policy"), "utf8")).toContain("@suppress");
  });
});

describe("PC515: session.labels read while context.labels is not declared", () => {
  const set = (context: string, rules: string) => analyze([{ path: "t.policy", text: `enum Label { public, pii }\ncontext { ${context} }\ntool crm.lookup { returns pii }\ntool email.send {}\npolicy p {\n  allow crm.lookup, email.send\n  ${rules}\n}\n` }]);

  it("warns once for the set, at the label enum, with the declaration to add as help", () => {
    const result = set("env: string", "deny email.send when session.labels contains pii\n  deny crm.lookup when session.labels contains pii");
    expect(result.diagnostics.map(describeDiagnostic).map((d) => [d.code, d.line, d.column, d.message, d.help])).toEqual([
      [
        "PC515",
        1,
        6,
        "`Label` is the label enum and rules read `session.labels`, but the `context` block does not declare `labels`, so the labels requests send are not checked against it: one sent in another case (`\"PII\"`) or shape (a bare string) adds no taint to `session.labels`, silently",
        "declare `labels: set<Label>` in the `context` block (or `labels?: set<Label>` when requests may leave it out): a request sending a label that is no member of `Label` is then refused",
      ],
    ]);
  });

  it("warns at `context.labels` when it is declared, but not as a collection of the label enum", () => {
    const result = set("env: string, labels?: set<string>", "deny email.send when session.labels contains pii");
    expect(result.diagnostics.map(describeDiagnostic).map((d) => [d.code, d.line, d.message.split(",")[0], d.help])).toEqual([
      ["PC515", 2, "`context.labels` is declared as `set<string>`", "declare it as `labels?: set<Label>`: a request sending a label that is no member of `Label` is then refused"],
    ]);
  });

  it("is about the schema, not a rule: no rule's @suppress hides it, and naming it there is PC109", () => {
    const result = set("env: string", '@suppress("PC515") deny email.send when session.labels contains pii');
    expect(result.diagnostics.map((d) => d.code)).toEqual(["PC515", "PC109"]);
  });

  it("is quiet when context declares labels (required or optional), when no rule reads session.labels, and when there is no label enum", () => {
    expect(set("env: string, labels: set<Label>", "deny email.send when session.labels contains pii").diagnostics).toEqual([]);
    expect(set("env: string, labels?: set<Label>", "deny email.send when session.labels contains pii").diagnostics).toEqual([]);
    expect(set("env: string", 'deny email.send when context.env == "x"').diagnostics).toEqual([]);
    const strings = analyze([{ path: "t.policy", text: 'context { env: string }\ntool email.send {}\npolicy p {\n  allow email.send\n  deny email.send when session.labels contains "pii"\n}\n' }]);
    expect(strings.diagnostics).toEqual([]);
  });

  it("the fix it names works: declared labels?, a wrong-case label is refused and a missing one is fine", () => {
    const { policy } = compileSources([{ path: "t.policy", text: "enum Label { public, pii }\ncontext { env: string, labels?: set<Label> }\ntool crm.lookup {}\ntool email.send {}\npolicy p {\n  allow crm.lookup, email.send\n  deny email.send when session.labels contains pii\n}\n" }]);
    const engine = new Engine(policy!);
    const request = (session: string, tool: string, labels?: unknown) => ({ session, tool, args: {}, agent: {}, context: labels === undefined ? { env: "x" } : { env: "x", labels } });
    expect(engine.decide(request("a", "crm.lookup")).decision).toBe("allow");
    expect(engine.decide(request("b", "crm.lookup", ["PII"])).reasons).toEqual(['request.context.labels[0] must be a member of Label (public, pii), not the string "PII"']);
    expect(engine.decide(request("c", "crm.lookup", ["pii"])).decision).toBe("allow");
    expect(engine.decide(request("c", "email.send")).decision).toBe("deny");
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
