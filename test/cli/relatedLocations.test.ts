import { describe, expect, it } from "vitest";
import { analyze } from "../../src/check/analyze.js";
import { caseFolders, cli } from "../helpers.js";
import { expectGolden, runText } from "../goldens/golden.js";

// A diagnostic about two places (a name declared twice, an allow a deny overrides) points at the
// second one as a related location: a `note:` frame in the pretty report, `related` in --json,
// `note:` lines in the CI reports; its help still names the place, as before.

/** Each case gets a folder of its own; paths in output are relative to it. */
const folder = caseFolders("policyc-related-");

/** The first declaration of `a` in one file, its repeat in another. */
const FIRST = "tool a {}\ntool b.x {}\n";
/** PC200 (across files), PC109, PC522, PC501, PC505, PC207, PC518 and one diagnostic with none (PC502). */
const SECOND = [
  "tool a {}",
  "enum Unused { u }",
  "policy p {",
  '  @name("r1") @name("r2") @controls("X", "X")',
  '  allow b.x when any(v in ["a"]: any(v in ["b"]: v == "b"))',
  "  deny b.*",
  '  @name("café") allow a',
  '  @name("cafe\u0301") allow a',
  '  @name("k") allow a',
  '  @name("k: x") allow a',
  "}",
  "",
].join("\n");
/** PC107: a clause given twice, and `within` given twice. */
const REPEATED_CLAUSE = 'tool a {}\npolicy p {\n  allow a when true when true\n  deny a when session.calls(a, within 1m, within 2m) > 3\n}\n';

describe("related locations", () => {
  it("the pretty report shows a `note:` frame per related place after the help, underlined with `-` (golden)", async () => {
    const dir = folder({ "first.policy": FIRST, "second.policy": SECOND, "clause.policy": REPEATED_CLAUSE });
    const twice = await cli(["check", "first.policy", "second.policy"], { cwd: dir });
    const clause = await cli(["check", "clause.policy"], { cwd: dir });
    expect([twice.code, clause.code]).toEqual([1, 1]);
    expect(twice.stderr + clause.stderr).toBe("");
    expectGolden("check-related", `${runText(twice)}\n${runText(clause)}`);
  });

  it("--json lists `related` after `help`, only on a diagnostic that has related places", async () => {
    const dir = folder({ "first.policy": FIRST, "second.policy": SECOND });
    const { stdout } = await cli(["check", "first.policy", "second.policy", "--json"], { cwd: dir });
    const diagnostics = JSON.parse(stdout).diagnostics as Record<string, unknown>[];
    const duplicate = diagnostics.find((d) => d["code"] === "PC200")!;
    expect(Object.keys(duplicate)).toEqual(["code", "severity", "message", "file", "line", "column", "end", "help", "related"]);
    expect(duplicate["related"]).toEqual([{ file: "first.policy", line: 1, column: 6, end: { line: 1, column: 7 }, message: "first declared here" }]);
    const unused = diagnostics.find((d) => d["code"] === "PC502")!;
    expect(Object.keys(unused)).not.toContain("related");
    expect(diagnostics.filter((d) => d["related"] !== undefined).map((d) => d["code"])).toEqual(["PC200", "PC109", "PC522", "PC501", "PC505", "PC518", "PC207"]);
  });

  it("--max-errors counts a diagnostic with its notes as one", async () => {
    const dir = folder({ "first.policy": FIRST, "second.policy": SECOND });
    const { stdout } = await cli(["check", "first.policy", "second.policy", "--max-errors", "1"], { cwd: dir });
    expect(stdout.match(/^\S+: (error|warning)\[/gm)).toHaveLength(1);
    expect(stdout).toContain("note: first declared here\n --> first.policy:1:6\n");
    expect(stdout).toContain("warning[PC503]: 7 more diagnostics not shown (2 errors, 5 warnings)");
  });

  it("JUnit, TAP and GitHub reports say each related place on a `note:` line", async () => {
    const dir = folder({ "first.policy": FIRST, "second.policy": SECOND });
    const junit = await cli(["check", "first.policy", "second.policy", "--reporter", "junit"], { cwd: dir });
    expect(junit.stdout).toContain("second.policy:1:6: error[PC200]: tool `a` is declared more than once\nhelp: the first declaration is at first.policy:1\nnote: first declared here: first.policy:1:6\n");
    const tap = await cli(["check", "first.policy", "second.policy", "--reporter", "tap"], { cwd: dir });
    expect(tap.stdout).toContain("help: the first declaration is at first.policy:1\\nnote: first declared here: first.policy:1:6");
    expect(tap.stdout).toContain("# note: the `deny` that overrides it (`p/2`): second.policy:6:3\n");
    const github = await cli(["check", "first.policy", "second.policy", "--reporter", "github"], { cwd: dir });
    expect(github.stdout).toContain("::error file=second.policy,line=1,col=6,endLine=1,endColumn=7,title=policyc PC200::tool `a` is declared more than once%0Ahelp: the first declaration is at first.policy:1%0Anote: first declared here: first.policy:1:6\n");
  });

  it("PC207 points at the other rule in both its forms: an id used twice (the first use) and an id that is another's followed by `: ` (that other rule)", async () => {
    const ids = ["tool a {}", "policy p {", '  @name("d") allow a', '  @name("k") allow a', '  @name("d") allow a', '  @name("k: x") allow a', "}", ""].join("\n");
    const dir = folder({ "ids.policy": ids });
    const { stdout } = await cli(["check", "ids.policy", "--json"], { cwd: dir });
    const taken = (JSON.parse(stdout).diagnostics as { code: string; line: number; message: string; related?: { line: number; message: string }[] }[]).filter((d) => d.code === "PC207");
    expect(taken.map((d) => [d.line, d.message.split(",")[0], d.related?.map((r) => [r.line, r.message])])).toEqual([
      [5, "the rule id `d` is already used", [[3, "first used here"]]],
      [6, "the rule id `k: x` is the rule id `k` followed by `: `", [[4, "the rule `k`"]]],
    ]);
  });

  it("the library's diagnostics carry `related` with spans a caller can place", () => {
    const analysis = analyze([
      { path: "first.policy", text: FIRST },
      { path: "second.policy", text: SECOND },
    ]);
    const duplicate = analysis.diagnostics.find((d) => d.code === "PC200")!;
    expect(duplicate.related).toHaveLength(1);
    const [first] = duplicate.related!;
    expect(first!.message).toBe("first declared here");
    expect(first!.span.file.path).toBe("first.policy");
    expect(first!.span.file.text.slice(first!.span.start, first!.span.end)).toBe("a");
    const overridden = analysis.diagnostics.find((d) => d.code === "PC501")!;
    expect(overridden.related!.map((r) => [r.message, r.span.file.text.slice(r.span.start, r.span.end)])).toEqual([["the `deny` that overrides it (`p/2`)", "deny"]]);
    expect(analysis.diagnostics.find((d) => d.code === "PC502")!.related).toBeUndefined();
  });

  /** Each related place of the diagnostics `code` gives for `text`: its line, message and the text it spans. */
  function relatedOf(text: string, code: string): [number, string, [number, string, string][] | undefined][] {
    const analysis = analyze([{ path: "r.policy", text }]);
    const lineOf = (offset: number): number => text.slice(0, offset).split("\n").length;
    return analysis.diagnostics
      .filter((d) => d.code === code)
      .map((d) => [lineOf(d.span!.start), d.message, d.related?.map((r) => [lineOf(r.span.start), r.message, text.slice(r.span.start, r.span.end)] as [number, string, string])]);
  }

  it("PC505 points at the declaration of the tool, intent or enum a quantifier variable hides; a built-in has no place", () => {
    const text = [
      "enum Zone { inner, outer }",
      "tool fetch { args { urls: list<string> } }",
      "intent triage { tools fetch }",
      "policy p {",
      '  allow fetch when any(fetch in args.urls: fetch == "a")',
      '  deny fetch when any(triage in args.urls: triage == "b")',
      '  deny fetch when any(Zone in args.urls: Zone == "c")',
      '  deny fetch when any(outer in args.urls: outer == "d")',
      '  deny fetch when any(session in args.urls: session == "e")',
      "}",
      "",
    ].join("\n");
    expect(relatedOf(text, "PC505")).toEqual([
      [5, "inside this `any`, the variable `fetch` hides the tool name `fetch`", [[2, "the tool `fetch`, declared here", "fetch"]]],
      [6, "inside this `any`, the variable `triage` hides the intent name `triage`", [[3, "the intent `triage`, declared here", "triage"]]],
      [7, "inside this `any`, the variable `Zone` hides the enum `Zone`", [[1, "the enum `Zone`, declared here", "Zone"]]],
      [8, "inside this `any`, the variable `outer` hides the member `outer` of `Zone`", [[1, "the member `outer` of `Zone`, declared here", "outer"]]],
      [9, "inside this `any`, the variable `session` hides the built-in `session`", undefined],
    ]);
  });

  it("PC202 points at the attribute its did-you-mean suggests, or at the quantifier variable its help names", () => {
    const text = [
      "agent { team: string }",
      "type Dest { host: string }",
      "tool send { args { to: list<Dest>, subject: string, tags: list<string> } }",
      "policy p {",
      '  allow send when agent.tema == "x"',
      '  deny send when args.subjet == "y"',
      '  deny send when any(d in args.to: d.hots == "z")',
      '  deny send when any(session in args.tags: session.calls > 3)',
      '  deny send when agent.zzzzzzzz == "w"',
      "}",
      "",
    ].join("\n");
    expect(relatedOf(text, "PC202")).toEqual([
      // (The attribute's declaration as a whole, as PC200 points at a first one.)
      [5, "unknown attribute `tema` of `agent`", [[1, "`team`, declared here", "team: string"]]],
      [6, "unknown argument `subjet`", [[3, "`subject`, declared here", "subject: string"]]],
      [7, "unknown attribute `hots` of `Dest`", [[2, "`host`, declared here", "host: string"]]],
      [8, "a `string` has no attribute `calls`", [[8, "the quantifier variable `session`", "session"]]],
      [9, "unknown attribute `zzzzzzzz` of `agent`", undefined],
    ]);
  });

  it("PC107 points at the first of a tool's or an intent's item given twice", () => {
    const text = ["tool a {", "  risk low", "  risk high", "}", "intent i {", "  tools a", "  tools a", "}", "policy p {", "  allow a", "}", ""].join("\n");
    expect(relatedOf(text, "PC107")).toEqual([
      [3, "`risk` is given twice", [[2, "the first `risk`", "risk"]]],
      [7, "`tools` is given twice", [[6, "the first `tools`", "tools"]]],
    ]);
  });
  it("PC107 points at the first `args`, `returns` and `max_risk` given twice", () => {
    const text = ["tool a {", "  args {", "    q: string", "  }", "  args { r: int }", "  returns x", "  returns y", "}", "intent i { tools a max_risk low max_risk high }", "policy p {", "  allow a", "}", ""].join("\n");
    expect(relatedOf(text, "PC107")).toEqual([
      [5, "`args` is given twice", [[2, "the first `args`", "{\n    q: string\n  }"]]],
      [7, "`returns` is given twice", [[6, "the first `returns`", "returns"]]],
      [9, "`max_risk` is given twice", [[9, "the first `max_risk`", "max_risk"]]],
    ]);
  });

  it("places in another file: PC505 at each enum declaring the member hidden and at the tool, PC202 at the attribute or argument suggested", () => {
    const decls = ["enum Zone { inner, outer }", "enum Ring { outer, core }", "agent { team: string }", "tool fetch { args { urls: list<string>, subject: string } }", "intent triage { tools fetch }", ""].join("\n");
    const rules = ["policy p {", '  allow fetch when agent.tema == "x"', '  deny fetch when any(outer in args.urls: outer == "d")', '  deny fetch when args.subjet == "y"', '  deny fetch when any(fetch in args.urls: fetch == "a")', "}", ""].join("\n");
    const analysis = analyze([
      { path: "decls.policy", text: decls },
      { path: "rules.policy", text: rules },
    ]);
    const place = (span: { file: { path: string; text: string }; start: number }): string => `${span.file.path}:${span.file.text.slice(0, span.start).split("\n").length}`;
    const of = (code: string): [string, string, [string, string, string][] | undefined][] =>
      analysis.diagnostics.filter((d) => d.code === code).map((d) => [place(d.span!), d.message, d.related?.map((r) => [place(r.span), r.message, r.span.file.text.slice(r.span.start, r.span.end)] as [string, string, string])]);
    expect(of("PC505")).toEqual([
      ["rules.policy:3", "inside this `any`, the variable `outer` hides the member `outer` of `Zone` and `Ring`", [
        ["decls.policy:1", "the member `outer` of `Zone`, declared here", "outer"],
        ["decls.policy:2", "the member `outer` of `Ring`, declared here", "outer"],
      ]],
      ["rules.policy:5", "inside this `any`, the variable `fetch` hides the tool name `fetch`", [["decls.policy:4", "the tool `fetch`, declared here", "fetch"]]],
    ]);
    expect(of("PC202")).toEqual([
      ["rules.policy:2", "unknown attribute `tema` of `agent`", [["decls.policy:3", "`team`, declared here", "team: string"]]],
      ["rules.policy:4", "unknown argument `subjet`", [["decls.policy:4", "`subject`, declared here", "subject: string"]]],
    ]);
  });

  it("PC211 on a method of a quantifier variable that hides a built-in points at the variable its help names", () => {
    const text = ["tool http.get { args { urls: list<string> } }", "policy p {", '  deny http.get when any(url in args.urls: url.host(url) == "x")', "}", ""].join("\n");
    expect(relatedOf(text, "PC211")).toEqual([[3, "a `string` has no method `host`", [[3, "the quantifier variable `url`", "url"]]]]);
  });
});
