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
});
