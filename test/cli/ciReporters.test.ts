import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { bin, caseFolders, cli } from "../helpers.js";
import { expectGolden, runText } from "../goldens/golden.js";

// `policyc check --reporter` and `policyc fmt --check --reporter`: the reports a CI job reads on
// every pull request (GitHub's annotations, a JUnit test tab), as `policyc test` writes them.

/** Each case gets a folder of its own; paths in output are relative to it. */
const folder = caseFolders("policyc-ci-reporters-");

/** The test points of a TAP report, after checking its plan counts them: `ok`, the title, and the YAML block after a failing one. */
function tapPoints(tap: string): { ok: boolean; title: string; block: string }[] {
  const lines = tap.split("\n");
  expect(lines[0]).toBe("TAP version 13");
  const points: { ok: boolean; title: string; block: string }[] = [];
  for (const line of lines.slice(2)) {
    const point = /^(not )?ok (\d+) - (.*)$/.exec(line);
    if (point !== null) {
      expect(Number(point[2])).toBe(points.length + 1);
      points.push({ ok: point[1] === undefined, title: point[3]!, block: "" });
    } else if (line.startsWith("  ") && points.length > 0) points.at(-1)!.block += `${line}\n`;
    else expect(line === "" || line.startsWith("# "), line).toBe(true);
  }
  expect(lines[1]).toBe(`1..${points.length}`);
  return points;
}

/** An error with a help line (PC202), in a file whose name holds `,` and `%`. */
const BROKEN = 'agent { team: string }\ntool kb.search { args { query: string } }\npolicy p {\n  allow kb.search when agent.tema == "support"\n}\n';
/** A warning (PC502) and nothing else. */
const WARNED = "enum E { a }\n";
/** A warning whose message quotes a string holding `%` (PC519). */
const PERCENT = 'tool kb.search { args { query: string } }\npolicy p {\n  deny kb.search when session.labels contains "50%"\n}\n';

const CHECK_REPORTERS = ["pretty", "json", "github", "junit", "tap"] as const;

describe("policyc check --reporter", () => {
  it("writes each report with the exit code the check has (golden, NO_COLOR): errors exit 1, warnings alone 0, and 1 with --fail-on-warnings", () => {
    const failing = folder({ "a,b%.policy": BROKEN, "warn.policy": WARNED });
    const warned = folder({ "warn.policy": WARNED });
    const runs = [
      ...CHECK_REPORTERS.map((reporter) => [`errors, --reporter ${reporter}`, bin(["check", ".", "--reporter", reporter], { cwd: failing })] as const),
      ...CHECK_REPORTERS.map((reporter) => [`warning only, --reporter ${reporter}`, bin(["check", ".", "--reporter", reporter], { cwd: warned })] as const),
      ...(["github", "junit", "tap"] as const).map((reporter) => [`warning only, --fail-on-warnings --reporter ${reporter}`, bin(["check", ".", "--fail-on-warnings", "--reporter", reporter], { cwd: warned })] as const),
    ];
    expect(runs.map(([, result]) => result.code)).toEqual([1, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1]);
    for (const [label, result] of runs) expect(result.stderr, label).toBe("");
    expectGolden("check-reporters", runs.map(([label, result]) => `=== ${label}\n${runText(result)}`).join("\n"));
  });

  it("--json is --reporter json, and the pretty report is what check printed before", async () => {
    const dir = folder({ "a.policy": BROKEN, "warn.policy": WARNED });
    const json = await cli(["check", ".", "--json"], { cwd: dir });
    expect(await cli(["check", ".", "--reporter", "json"], { cwd: dir })).toEqual(json);
    expect(await cli(["check", ".", "--reporter", "pretty"], { cwd: dir })).toEqual(await cli(["check", "."], { cwd: dir }));
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, errors: 1, warnings: 1, files: ["a.policy", "warn.policy"] });
  });

  it("github: one workflow command per diagnostic, at its place with its end, `::warning` for a warning, `policyc` and the code as title, the help on a line of its own", async () => {
    const dir = folder({ "a.policy": BROKEN, "warn.policy": WARNED });
    const result = await cli(["check", ".", "--reporter", "github"], { cwd: dir });
    expect(result).toEqual({
      code: 1,
      stdout: [
        "::error file=a.policy,line=4,col=30,endLine=4,endColumn=34,title=policyc PC202::unknown attribute `tema` of `agent`%0Ahelp: did you mean `team`?%0Anote: `team`, declared here: a.policy:1:9",
        "::warning file=warn.policy,line=1,col=6,endLine=1,endColumn=7,title=policyc PC502::`E` is declared but never used%0Ahelp: remove it, or use it as the type of an attribute",
        "1 error, 1 warning",
        "",
      ].join("\n"),
      stderr: "",
    });
  });

  it("the github title of a diagnostic is `policyc PCxxx` in every verb that annotates one (check, fmt --check, test of a policy set that does not load)", async () => {
    const dir = folder({ "a.policy": BROKEN, "calls.jsonl": "" });
    const title = /^::error file=a\.policy,line=4,col=30,endLine=4,endColumn=34,title=policyc PC202::/m;
    const check = await cli(["check", "a.policy", "--reporter", "github"], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toMatch(title);
    const fmt = await cli(["fmt", "--check", "a.policy", "--reporter", "github"], { cwd: dir });
    expect(fmt.code).toBe(1);
    expect(fmt.stdout).toMatch(/^::error file=a\.policy,line=\d+,title=policyc fmt::/m);
    const broken = folder({ "a.policy": "policy p {\n  allow\n}\n" });
    const syntax = await cli(["fmt", "--check", "a.policy", "--reporter", "github"], { cwd: broken });
    expect(syntax.code).toBe(1);
    expect(syntax.stdout).toMatch(/^::error file=a\.policy,line=\d+,col=\d+,(?:endLine=\d+,endColumn=\d+,)?title=policyc PC1\d\d::/m);
    const test = await cli(["test", "a.policy", "--replay", "calls.jsonl", "--reporter", "github"], { cwd: dir });
    expect(test.code).toBe(1);
    expect(test.stdout).toMatch(title);
  });

  it("github escapes `%`, `,` and `:` in `file=` and `title=`, and `%`, CR and LF in the message, as GitHub documents", async () => {
    const dir = folder({ "a,b%:c.policy": BROKEN, "pct.policy": PERCENT });
    mkdirSync(join(dir, "no\npolicies"));
    const named = await cli(["check", "a,b%:c.policy", "--reporter", "github"], { cwd: dir });
    expect(named.stdout.split("\n")[0]).toBe("::error file=a%2Cb%25%3Ac.policy,line=4,col=30,endLine=4,endColumn=34,title=policyc PC202::unknown attribute `tema` of `agent`%0Ahelp: did you mean `team`?%0Anote: `team`, declared here: a,b%25:c.policy:1:9");
    const percent = await cli(["check", "pct.policy", "--reporter", "github"], { cwd: dir });
    expect(percent.code).toBe(0);
    expect(percent.stdout).toMatch(/^::warning file=pct\.policy,line=3,col=47,endLine=3,endColumn=52,title=policyc PC519::no tool `returns` "50%25" and [^\n]*%0Ahelp: [^\n]*\nok: 1 file, 1 rule, 1 warning\n$/);
    // In the message, only `%` and line breaks are escaped: the place a help names keeps its `,` and `:`.
    const both = await cli(["check", "a,b%:c.policy", "pct.policy", "--reporter", "github"], { cwd: dir });
    expect(both.stdout).toContain("title=policyc PC200::tool `kb.search` is declared more than once%0Ahelp: the first declaration is at a,b%25:c.policy:2%0Anote: first declared here: a,b%25:c.policy:2:6\n");
    // A path with a line break, in a property and in the message: one line still, the break as %0A.
    const empty = await cli(["check", "no\npolicies", "--reporter", "github"], { cwd: dir });
    expect(empty).toEqual({ code: 2, stdout: "::error file=no%0Apolicies,title=policyc PC004::no `.policy` files under `no%0Apolicies`%0Ahelp: policy files end in `.policy`\n1 error, 0 warnings\n", stderr: "" });
  });

  it("github names files relative to GITHUB_WORKSPACE when the check runs in a folder of it, as test's annotations do", async () => {
    const dir = folder({ "rules/a.policy": BROKEN });
    const result = await cli(["check", "a.policy", "--reporter", "github"], { cwd: join(dir, "rules"), env: { GITHUB_WORKSPACE: dir } });
    expect(result.stdout.split("\n")[0]).toMatch(/^::error file=rules\/a\.policy,line=4,/);
  });

  it("tap: a test point per policy file (and per path that could not be read), `not ok` with its errors for a file that has any, warnings as comments; the exit code is the check's", async () => {
    const dir = folder({ "a.policy": BROKEN, "clean.policy": "tool t { risk low }\n", "warn.policy": WARNED });
    const result = await cli(["check", "a.policy", "clean.policy", "warn.policy", "missing.policy", "--reporter", "tap"], { cwd: dir });
    expect(result.code).toBe(2); // a path that could not be read, as in every reporter
    const points = tapPoints(result.stdout);
    expect(points.map(({ ok, title }) => [ok, title])).toEqual([[false, "a.policy"], [true, "clean.policy"], [true, "warn.policy"], [false, "missing.policy"]]);
    expect(points[0]!.block).toContain("  message: \"unknown attribute `tema` of `agent`\"\n  type: \"PC202\"\n");
    expect(result.stdout).toContain("ok 3 - warn.policy\n# warn.policy:1:6: warning[PC502]: `E` is declared but never used\n# help: remove it, or use it as the type of an attribute\n");
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe("# 2 errors, 1 warning");
    // Warnings fail a point under --fail-on-warnings, as the run.
    const warned = await cli(["check", "warn.policy", "--fail-on-warnings", "--reporter", "tap"], { cwd: dir });
    expect(warned.code).toBe(1);
    expect(tapPoints(warned.stdout).map(({ ok }) => ok)).toEqual([false]);
    const clean = await cli(["check", "clean.policy", "--reporter", "tap"], { cwd: dir });
    expect(clean).toEqual({ code: 0, stdout: "TAP version 13\n1..1\nok 1 - clean.policy\n# ok: 1 file, 0 rules\n", stderr: "" });
  });

  it("junit: valid XML, one test case per policy file, failing with its errors; warnings are the case's output unless --fail-on-warnings", async () => {
    const dir = folder({ "a.policy": `${BROKEN}policy q {\n  allow kb.search when agent.x == 1\n}\n`, "clean.policy": "tool t { risk low }\n", "warn.policy": WARNED });
    const result = await cli(["check", ".", "--reporter", "junit"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(XMLValidator.validate(result.stdout)).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(result.stdout) as { testsuites: { tests: string; failures: string; testsuite: { testcase: { name: string; file?: string; failure?: { message: string; type: string; "#text": string }; "system-out"?: string }[] } } };
    expect(parsed.testsuites).toMatchObject({ tests: "3", failures: "1" });
    const cases = parsed.testsuites.testsuite.testcase;
    expect(cases.map((c) => c.name)).toEqual(["a.policy", "clean.policy", "warn.policy"]);
    expect(cases[0]!.failure).toMatchObject({ message: "2 errors (first: unknown attribute `tema` of `agent`)", type: "PC202" });
    expect(cases[0]!.failure!["#text"]).toContain("a.policy:4:30: error[PC202]: unknown attribute `tema` of `agent`\nhelp: did you mean `team`?\nnote: `team`, declared here: a.policy:1:9\na.policy:7:");
    expect(cases[1]).toEqual({ classname: "policyc check", name: "clean.policy", file: "clean.policy" });
    expect(cases[2]!.failure).toBeUndefined();
    expect(cases[2]!["system-out"]).toContain("warn.policy:1:6: warning[PC502]");
    const strict = await cli(["check", "warn.policy", "--fail-on-warnings", "--reporter", "junit"], { cwd: dir });
    expect(strict.code).toBe(1);
    expect(strict.stdout).toContain('<failure message="`E` is declared but never used" type="PC502">');
  });

  it("junit escapes what XML cannot hold: `&`, `<`, `\"` of a name and a line break in a path", async () => {
    const dir = folder({ 'a&<"b.policy': BROKEN });
    mkdirSync(join(dir, "no\npolicies"));
    const result = await cli(["check", ".", "no\npolicies", "--reporter", "junit"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(XMLValidator.validate(result.stdout)).toBe(true);
    expect(result.stdout).toContain('name="a&amp;&lt;&quot;b.policy" file="a&amp;&lt;&quot;b.policy"');
    expect(result.stdout).toContain('<testcase classname="policyc check" name="no\\u000apolicies" file="no&#10;policies">');
  });

  it("NAME=FILE writes that report to the file and keeps the pretty report on standard output; repeated, each to its own; the exit code is the check's", async () => {
    const dir = folder({ "a.policy": BROKEN });
    const pretty = await cli(["check", "a.policy"], { cwd: dir });
    const result = await cli(["check", "a.policy", "--reporter", "junit=reports/check.xml", "--reporter", "github=gh.txt"], { cwd: dir });
    expect(result).toEqual(pretty);
    expect(readFileSync(join(dir, "reports/check.xml"), "utf8")).toBe((await cli(["check", "a.policy", "--reporter", "junit"], { cwd: dir })).stdout);
    expect(readFileSync(join(dir, "gh.txt"), "utf8")).toBe((await cli(["check", "a.policy", "--reporter", "github"], { cwd: dir })).stdout);
  });

  it("usage errors exit 2 before anything is checked: an unknown reporter, two reports to standard output, a report over a policy file", async () => {
    const dir = folder({ "a.policy": BROKEN });
    expect(await cli(["check", "a.policy", "--reporter", "tapp"], { cwd: dir })).toEqual({ code: 2, stdout: "", stderr: "policyc check: unknown reporter `tapp` (use pretty, json, junit, tap, github, sarif; `NAME=FILE` writes that report to FILE)\n" });
    expect(await cli(["check", "a.policy", "--reporter", "github", "--json"], { cwd: dir })).toEqual({ code: 2, stdout: "", stderr: "policyc check: --reporter github and --json both write to standard output: give one of them, or all but one a file (`--reporter json=FILE`)\n" });
    const over = await cli(["check", "a.policy", "--reporter", "junit=a.policy"], { cwd: dir });
    expect(over.code).toBe(2);
    expect(over.stderr).toContain("--reporter junit=a.policy names a policy file");
    expect(readFileSync(join(dir, "a.policy"), "utf8")).toBe(BROKEN);
  });
});

describe("--json lists what --exclude left out", () => {
  it("check --json and build --json: `excluded`, each path with the glob that left it out (empty without --exclude)", async () => {
    const dir = folder({ "rules/a.policy": "tool t { risk low }\n", "rules/wip.draft.policy": BROKEN, "rules/drafts/b.policy": BROKEN });
    const checked = JSON.parse((await cli(["check", "rules", "--json", "--exclude", "*.draft.policy", "--exclude", "drafts"], { cwd: dir })).stdout) as { ok: boolean; files: string[]; excluded: unknown };
    expect(checked.ok).toBe(true);
    expect(checked.files).toEqual(["rules/a.policy"]);
    expect(checked.excluded).toEqual([
      { path: "rules/drafts", glob: "drafts" },
      { path: "rules/wip.draft.policy", glob: "*.draft.policy" },
    ]);
    const built = await cli(["build", "rules", "-o", "out.json", "--json", "--exclude", "*.draft.policy", "--exclude", "drafts"], { cwd: dir });
    expect(built.code).toBe(0);
    expect((JSON.parse(built.stdout) as { excluded: unknown }).excluded).toEqual(checked.excluded);
    // A build that fails lists them too.
    const failed = await cli(["build", "rules", "-o", "out.json", "--json", "--exclude", "*.draft.policy"], { cwd: dir });
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ ok: false, excluded: [{ path: "rules/wip.draft.policy", glob: "*.draft.policy" }] });
    expect(JSON.parse((await cli(["check", "rules/a.policy", "--json"], { cwd: dir })).stdout)).toMatchObject({ excluded: [] });
  });
});

describe("policyc fmt --check --reporter github, junit, tap", () => {
  const MESSY = "tool t {risk low}\n";
  const TRAILING = "tool u {\n  risk low\n}\n\n\n";
  const CANONICAL = "tool v {\n  risk low\n}\n";

  it("annotates each file not formatted at the first line that differs, and syntax errors at their place; exit 1 as --check (golden, NO_COLOR)", () => {
    const dir = folder({ "a.policy": MESSY, "b,%.policy": TRAILING, "ok.policy": CANONICAL, "bad.policy": "tool {" });
    const result = bin(["fmt", "--check", ".", "--reporter", "github"], { cwd: dir });
    expect(result.code).toBe(1);
    const passing = bin(["fmt", "--check", "ok.policy", "--reporter", "github"], { cwd: dir });
    expect(passing.code).toBe(0);
    expectGolden("fmt-check-github", `=== not formatted, a syntax error\n${runText(result)}--- stderr ---\n${result.stderr}=== formatted\n${runText(passing)}--- stderr ---\n${passing.stderr}`);
  });

  it("escapes the path in `file=` and the message; standard input has no `file=`", async () => {
    const dir = folder({ "x,y%.policy": TRAILING });
    const result = await cli(["fmt", "--check", "x,y%.policy", "--reporter", "github"], { cwd: dir });
    expect(result.stdout.split("\n")[0]).toBe("::error file=x%2Cy%25.policy,line=4,title=policyc fmt::`x,y%25.policy` is not formatted: it first differs from the canonical layout at line 4; run `policyc fmt --write`");
    const piped = await cli(["fmt", "--check", "-", "--reporter", "github"], { cwd: dir, stdin: MESSY });
    expect(piped).toEqual({ code: 1, stdout: "::error title=policyc fmt::standard input is not formatted: it first differs from the canonical layout at line 1; `policyc fmt -` prints it formatted\n1 file is not formatted; `policyc fmt -` prints it formatted\n", stderr: "" });
  });

  it("the line is the first that changes: a missing final newline is the last line's, a CRLF file formatted is not flagged", async () => {
    const dir = folder({ "nl.policy": "tool v {\n  risk low\n}", "crlf.policy": "tool v {\r\n  risk low\r\n}\r\n", "mid.policy": "tool v {\n  risk low\n}\ntool w {risk low}\n" });
    const result = await cli(["fmt", "--check", ".", "--reporter", "github"], { cwd: dir });
    expect(result.stdout.split("\n").filter((line) => line.startsWith("::")).map((line) => /file=([^,]*),line=(\d+)/.exec(line)!.slice(1).join(":"))).toEqual(["mid.policy:4", "nl.policy:3"]);
    expect((JSON.parse((await cli(["fmt", "--check", ".", "--json"], { cwd: dir })).stdout) as { files: unknown[] }).files).toEqual([
      { path: "crlf.policy", changed: false },
      { path: "mid.policy", changed: true, firstChangedLine: 4 },
      { path: "nl.policy", changed: true, firstChangedLine: 3 },
    ]);
  });

  it("junit and tap: a test case per file, failing at the first line that differs when it is not formatted, or with its syntax errors; exit 1 as --check", async () => {
    const dir = folder({ "messy.policy": MESSY, "trailing.policy": TRAILING, "canonical.policy": CANONICAL, "broken.policy": "policy p {\n  allow\n}\n" });
    const files = ["broken.policy", "canonical.policy", "messy.policy", "trailing.policy"];
    const junit = await cli(["fmt", "--check", ...files, "--reporter", "junit"], { cwd: dir });
    expect(junit.code).toBe(1);
    expect(XMLValidator.validate(junit.stdout)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", isArray: (name) => name === "testcase" }).parse(junit.stdout) as { testsuites: { "@tests": string; "@failures": string; testsuite: { testcase: { "@name": string; "@line"?: string; failure?: { "@message": string; "@type": string } }[] } } };
    const cases = doc.testsuites.testsuite.testcase;
    expect([doc.testsuites["@tests"], doc.testsuites["@failures"]]).toEqual(["4", "3"]);
    const byName = new Map(cases.map((c) => [c["@name"], c]));
    expect(byName.get("canonical.policy")!.failure).toBeUndefined();
    expect(byName.get("messy.policy")).toMatchObject({ "@line": "1", failure: { "@type": "policyc fmt", "@message": "`messy.policy` is not formatted: it first differs from the canonical layout at line 1; run `policyc fmt --write`" } });
    expect(byName.get("trailing.policy")).toMatchObject({ "@line": "4", failure: { "@type": "policyc fmt" } });
    expect(byName.get("broken.policy")!.failure!["@type"]).toMatch(/^PC1\d\d$/);
    const tap = await cli(["fmt", "--check", ...files, "--reporter", "tap"], { cwd: dir });
    expect(tap.code).toBe(1);
    const points = tapPoints(tap.stdout);
    expect(points.map(({ ok, title }) => [ok, title])).toEqual([[false, "broken.policy"], [true, "canonical.policy"], [false, "messy.policy"], [false, "trailing.policy"]]);
    expect(points[2]!.block).toContain("  message: \"`messy.policy` is not formatted: it first differs from the canonical layout at line 1; run `policyc fmt --write`\"\n  type: \"policyc fmt\"\n");
    expect(tap.stdout.trimEnd().split("\n").at(-1)).toBe("# 2 files are not formatted; run `policyc fmt --write`");
    // All formatted: every case passes, exit 0.
    const passing = await cli(["fmt", "--check", "canonical.policy", "--reporter", "tap"], { cwd: dir });
    expect(passing).toEqual({ code: 0, stdout: "TAP version 13\n1..1\nok 1 - canonical.policy\n# ok: 1 file, all formatted\n", stderr: "" });
  });

  it("keeps the list on standard output when the annotations go to a file; github, junit and tap without --check are usage errors", async () => {
    const dir = folder({ "a.policy": MESSY });
    const list = await cli(["fmt", "--check", "a.policy"], { cwd: dir });
    expect(await cli(["fmt", "--check", "a.policy", "--reporter", "github=gh.txt"], { cwd: dir })).toEqual(list);
    expect(readFileSync(join(dir, "gh.txt"), "utf8")).toMatch(/^::error file=a\.policy,line=1,/);
    expect(await cli(["fmt", "a.policy", "--reporter", "github"], { cwd: dir })).toEqual({ code: 2, stdout: "", stderr: "policyc fmt: --reporter github annotates the files that are not formatted: give --check too\n" });
    for (const reporter of ["junit", "tap"]) expect(await cli(["fmt", "a.policy", "--reporter", reporter], { cwd: dir })).toEqual({ code: 2, stdout: "", stderr: `policyc fmt: --reporter ${reporter} reports the files that are not formatted: give --check too\n` });
    expect(await cli(["fmt", "--write", "a.policy", "--reporter", "tap"], { cwd: dir })).toMatchObject({ code: 2, stdout: "" });
    expect(readFileSync(join(dir, "a.policy"), "utf8")).toBe(MESSY);
  });
});
