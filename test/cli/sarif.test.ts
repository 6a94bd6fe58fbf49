import { readFileSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { Ajv } from "ajv";
import { describe, expect, it } from "vitest";
import { VERSION } from "../../src/version.js";
import { caseFolders, cli } from "../helpers.js";
import { expectGolden, runText } from "../goldens/golden.js";

// `policyc check --reporter sarif`: one SARIF 2.1.0 log for GitHub code scanning (upload-sarif),
// checked against the OASIS schema (2.1.0-rtm.5, the schema 2.1.0 was published with), vendored
// in test/fixtures/sarif: its README says where it comes from and why it is a copy, LICENSE its
// licence (MIT, Microsoft Corporation).

/** Each case gets a folder of its own; paths in output are relative to it. */
const folder = caseFolders("policyc-sarif-");

/**
 * The SARIF 2.1.0 schema, validated with the project's ajv: the file is draft-04, which ajv 8
 * does not take, but uses nothing draft-04 reads otherwise (no boolean `exclusiveMinimum`), so
 * without its `$schema` and `id` it is read as the draft ajv does (its language pattern,
 * `^[a-zA-Z]{2}|^[a-zA-Z]{2}-[a-zA-Z]{2}]?$`, is a regular expression only without the `u` flag).
 */
const validate = (() => {
  const schema = JSON.parse(readFileSync(new URL("../fixtures/sarif/sarif-2.1.0-rtm.5.schema.json", import.meta.url), "utf8")) as Record<string, unknown>;
  delete schema["$schema"];
  delete schema["id"];
  return new Ajv({ strict: false, allErrors: true, validateFormats: false, unicodeRegExp: false }).compile(schema);
})();

/** The log, after checking it against the schema. */
function sarifLog(text: string): { runs: [SarifRun] } & Record<string, unknown> {
  const log = JSON.parse(text);
  expect(validate(log) ? [] : validate.errors).toEqual([]);
  return log;
}
interface SarifRun {
  tool: { driver: { name: string; version: string; rules: { id: string; name: string; shortDescription: { text: string }; defaultConfiguration: { level: string } }[]; notifications?: { id: string }[] } };
  invocations: { executionSuccessful: boolean; toolExecutionNotifications?: Record<string, unknown>[] }[];
  results: Record<string, any>[];
}

/** policyc's version masked, as goldens mask it elsewhere: it changes with every release; and the case's folder, `%SRCROOT%`, which is temporary. */
function masked(text: string): string {
  return text
    .split(`"version": "${VERSION}"`)
    .join(`"version": "<version>"`)
    .split(`"semanticVersion": "${VERSION}"`)
    .join(`"semanticVersion": "<version>"`)
    .replace(/("%SRCROOT%": \{\s*"uri": )"file:\/\/[^"]*\/"/g, '$1"file:///<case folder>/"');
}

const CLEAN = 'agent { team: string }\ntool kb.search { args { query: string } }\npolicy p {\n  allow kb.search when agent.team == "support"\n}\n';
/** An error with related places in two files (PC200), a warning with one (PC501), a warning with none (PC502), and a warning `@suppress` hides (PC521). */
const FIRST = "tool kb.search {}\ntool kb.read {}\n";
const SECOND = ["tool kb.search {}", "enum Unused { u }", "policy p {", "  allow kb.search", "  deny kb.*", '  @suppress("PC521")', "  allow kb.*", "}", ""].join("\n");

/** Brackets in messages: a rule id `x\]` (PC501's message, help and note name it), a tool name like an index, and one like a link. */
const BRACKETS = ['tool kb.search {}', "policy p {", "  allow kb.search", '  @name("x\\\\]") deny kb.*', '  deny * when tool == "a[1]"', '  deny * when tool == "x[y](1)"', "}", ""].join("\n");

describe("policyc check --reporter sarif", () => {
  it("writes one SARIF 2.1.0 log that the schema accepts, with the check's exit code (goldens: clean, errors and warnings with related places, an unreadable path)", async () => {
    const clean = await cli(["check", ".", "--reporter", "sarif"], { cwd: folder({ "p.policy": CLEAN }) });
    const broken = await cli(["check", "first.policy", "second.policy", "--reporter", "sarif"], { cwd: folder({ "first.policy": FIRST, "second.policy": SECOND }) });
    const unreadable = await cli(["check", "p.policy", "missing.policy", "--reporter", "sarif"], { cwd: folder({ "p.policy": CLEAN }) });
    expect([clean.code, broken.code, unreadable.code]).toEqual([0, 1, 2]);
    expect(clean.stderr + broken.stderr + unreadable.stderr).toBe("");
    for (const result of [clean, broken, unreadable]) sarifLog(result.stdout);
    // The schema does refuse a log that is not SARIF (a driver with no name).
    expect(validate({ version: "2.1.0", runs: [{ tool: { driver: {} } }] })).toBe(false);
    expectGolden("check-sarif-clean", masked(runText(clean)));
    expectGolden("check-sarif-errors", masked(runText(broken)));
    expectGolden("check-sarif-unreadable", masked(runText(unreadable)));
  });

  it("names the driver, lists each code that occurs once with its catalogue title and level, and points results at them", async () => {
    const { stdout } = await cli(["check", "first.policy", "second.policy", "--reporter", "sarif"], { cwd: folder({ "first.policy": FIRST, "second.policy": SECOND }) });
    const log = sarifLog(stdout);
    expect(log["$schema"]).toBe("https://json.schemastore.org/sarif-2.1.0.json");
    expect(log["version"]).toBe("2.1.0");
    expect(log.runs).toHaveLength(1);
    const [run] = log.runs;
    expect(run.tool.driver.name).toBe("policyc");
    expect(run.tool.driver.version).toBe(VERSION);
    expect(run.tool.driver.rules.map((r) => [r.id, r.name, r.shortDescription.text, r.defaultConfiguration.level])).toEqual([
      ["PC200", "DuplicateDeclaration", "duplicate declaration", "error"],
      ["PC501", "AllowAlwaysOverriddenByAnUnconditionalDenyOrAsk", "allow always overridden by an unconditional deny or ask", "warning"],
      ["PC502", "UnusedDeclaration", "unused declaration", "warning"],
      ["PC521", "AllowOfEveryToolOrAWholeNamespaceWithNoCondition", "`allow` of every tool or a whole namespace with no condition", "warning"],
    ]);
    for (const result of run.results) expect(run.tool.driver.rules[result["ruleIndex"]]!.id).toBe(result["ruleId"]);
    const duplicate = run.results.find((r) => r["ruleId"] === "PC200")!;
    expect(duplicate["level"]).toBe("error");
    expect(duplicate["message"].text).toBe("tool `kb.search` is declared more than once\nhelp: the first declaration is at first.policy:1\nnote: [first declared here](1)");
    expect(duplicate["locations"][0].physicalLocation).toEqual({ artifactLocation: { uri: "second.policy", uriBaseId: "%SRCROOT%" }, region: { startLine: 1, startColumn: 6, endLine: 1, endColumn: 15 } });
    expect(duplicate["relatedLocations"]).toEqual([{ id: 1, physicalLocation: { artifactLocation: { uri: "first.policy", uriBaseId: "%SRCROOT%" }, region: { startLine: 1, startColumn: 6, endLine: 1, endColumn: 15 } }, message: { text: "first declared here" } }]);
    expect(run.results.find((r) => r["ruleId"] === "PC502")!["relatedLocations"]).toBeUndefined();
    // Brackets of the text stay as they are (SARIF 2.1.0 §3.11.6: outside a link's text they need
    // no escape, and `\[` there would show its backslash), but for the `]` of a `](` that would
    // make a link of the text; in a note's link text `\`, `[` and `]` are escaped.
    const brackets = await cli(["check", "b.policy", "--reporter", "sarif"], { cwd: folder({ "b.policy": BRACKETS }) });
    expect(sarifLog(brackets.stdout).runs[0].results.map((r) => r["message"].text)).toEqual([
      "this `allow` never takes effect: `x\\]` denies `kb.search` unconditionally\nhelp: `x\\]` is at b.policy:4; deny wins over allow\nnote: [the `deny` that overrides it (`x\\\\\\]`)](1)",
      'no declared tool is named "a[1]", so this comparison is never true\nhelp: name a declared tool, written without quotes (`tool == kb.search`), which the checker then checks',
      'no declared tool is named "x[y\\](1)", so this comparison is never true\nhelp: name a declared tool, written without quotes (`tool == kb.search`), which the checker then checks',
    ]);
    // The warning `@suppress` hid is a result, suppressed in the source; the others are not suppressed.
    expect(run.results.filter((r) => r["suppressions"] !== undefined).map((r) => [r["ruleId"], r["suppressions"][0].kind])).toEqual([["PC521", "inSource"]]);
    expect(run.invocations).toEqual([{ executionSuccessful: true }]);
  });

  it("a path that cannot be read is a tool execution notification (code scanning takes a result only at a line of a file), and the run is not successful", async () => {
    const { stdout, code } = await cli(["check", "p.policy", "missing.policy", "--reporter", "sarif"], { cwd: folder({ "p.policy": CLEAN }) });
    expect(code).toBe(2);
    const [run] = sarifLog(stdout).runs;
    expect(run.results).toEqual([]);
    expect(run.tool.driver.rules).toEqual([]);
    expect(run.tool.driver.notifications!.map((n) => n.id)).toEqual(["PC001"]);
    expect(run.invocations).toEqual([
      {
        executionSuccessful: false,
        toolExecutionNotifications: [{ level: "error", message: { text: "missing.policy: cannot read `missing.policy`: no such file or folder" }, descriptor: { id: "PC001", index: 0 }, locations: [{ physicalLocation: { artifactLocation: { uri: "missing.policy", uriBaseId: "%SRCROOT%" } } }] }],
      },
    ]);
  });

  it("names files relative to GITHUB_WORKSPACE with `/`, percent-encoded; columns are UTF-16 code units, as policyc counts them", async () => {
    const line = "  deny kb.search /* 😀 */ when agnt.x == 1";
    const dir = folder({ "rules/a,b% c.policy": `tool kb.search {}\npolicy p {\n${line}\n}\n` });
    const { stdout } = await cli(["check", ".", "--reporter", "sarif"], { cwd: join(dir, "rules"), env: { GITHUB_WORKSPACE: dir } });
    const [run] = sarifLog(stdout).runs;
    const [result] = run.results;
    expect(result!["ruleId"]).toBe("PC206");
    // `😀` is two UTF-16 code units: `agnt` starts at column 32, as `--json` says.
    const json = JSON.parse((await cli(["check", ".", "--json"], { cwd: join(dir, "rules") })).stdout).diagnostics[0];
    expect(result!["locations"][0].physicalLocation).toEqual({ artifactLocation: { uri: "rules/a%2Cb%25%20c.policy", uriBaseId: "%SRCROOT%" }, region: { startLine: json.line, startColumn: json.column, endLine: json.end.line, endColumn: json.end.column } });
    expect(json.column).toBe(line.indexOf("agnt") + 1);
    expect(json.column).toBe(32);
  });

  it("names files relative to the repository root (GITHUB_WORKSPACE, else the working folder), which originalUriBaseIds gives as %SRCROOT%; a file outside it is a `file:` URI with no uriBaseId", async () => {
    const dir = folder({ "repo/policies/p.policy": "tool kb.search {}\npolicy p {\n  deny kb.search when agnt.x == 1\n}\n", "outside/o.policy": "tool kb.read {}\npolicy o {\n  deny kb.read when agnt.y == 1\n}\n" });
    const repo = join(dir, "repo");
    const outside = pathToFileURL(join(dir, "outside/o.policy")).href;
    const located = (stdout: string) => {
      const [run] = sarifLog(stdout).runs as [SarifRun & { originalUriBaseIds: unknown }];
      return { base: run.originalUriBaseIds, files: run.results.map((r) => r["locations"][0].physicalLocation.artifactLocation) };
    };
    // From a subfolder of the repository, with GITHUB_WORKSPACE set: repository-relative, and a `../` path out of it a `file:` URI.
    const sub = await cli(["check", "p.policy", "../../outside/o.policy", "--reporter", "sarif"], { cwd: join(repo, "policies"), env: { GITHUB_WORKSPACE: repo } });
    expect(located(sub.stdout)).toEqual({ base: { "%SRCROOT%": { uri: pathToFileURL(repo + "/").href } }, files: [{ uri: outside }, { uri: "policies/p.policy", uriBaseId: "%SRCROOT%" }] });
    // Without GITHUB_WORKSPACE the root is the working folder: `../` leaves it.
    const here = await cli(["check", "policies/p.policy", "../outside/o.policy", "--reporter", "sarif"], { cwd: repo });
    expect(located(here.stdout)).toEqual({ base: { "%SRCROOT%": { uri: pathToFileURL(repo + "/").href } }, files: [{ uri: outside }, { uri: "policies/p.policy", uriBaseId: "%SRCROOT%" }] });
    // An absolute path outside it.
    const absolute = await cli(["check", join(dir, "outside/o.policy"), "--reporter", "sarif"], { cwd: repo, env: { GITHUB_WORKSPACE: repo } });
    expect(located(absolute.stdout).files).toEqual([{ uri: outside }]);
  });

  it("a related place in a file outside the repository is a `file:` URI too", async () => {
    const dir = folder({ "repo/second.policy": "tool kb.search {}\n", "outside/first.policy": "tool kb.search {}\n" });
    const { stdout } = await cli(["check", "../outside/first.policy", "second.policy", "--reporter", "sarif"], { cwd: join(dir, "repo"), env: { GITHUB_WORKSPACE: join(dir, "repo") } });
    const duplicate = sarifLog(stdout).runs[0].results.find((r) => r["ruleId"] === "PC200")!;
    expect(duplicate["locations"][0].physicalLocation.artifactLocation).toEqual({ uri: "second.policy", uriBaseId: "%SRCROOT%" });
    expect(duplicate["relatedLocations"][0].physicalLocation.artifactLocation).toEqual({ uri: pathToFileURL(join(dir, "outside/first.policy")).href });
  });

  it("--fail-on-warnings fails the run but leaves a warning at level `warning`: the level is its severity, the exit code the run's", async () => {
    const dir = folder({ "p.policy": "tool kb.search {}\nenum Unused { u }\npolicy p {\n  allow kb.search when true\n}\n" });
    const strict = await cli(["check", "p.policy", "--fail-on-warnings", "--reporter", "sarif"], { cwd: dir });
    expect(strict.code).toBe(1);
    const [run] = sarifLog(strict.stdout).runs;
    expect(run.results.map((r) => [r["ruleId"], r["level"]])).toEqual([["PC502", "warning"]]);
    expect(run.tool.driver.rules.map((r) => r.defaultConfiguration.level)).toEqual(["warning"]);
  });

  it("sarif=FILE writes the log to a file and keeps the pretty report on standard output; only `check` offers it", async () => {
    const dir = folder({ "p.policy": CLEAN, "calls.jsonl": "" });
    const written = await cli(["check", "p.policy", "--reporter", "sarif=reports/policyc.sarif"], { cwd: dir });
    expect(written).toEqual({ code: 0, stdout: "ok: 1 file, 1 rule\n", stderr: "" });
    expect(sarifLog(readFileSync(join(dir, "reports/policyc.sarif"), "utf8")).runs[0].results).toEqual([]);
    const test = await cli(["test", "p.policy", "--replay", "calls.jsonl", "--reporter", "sarif"], { cwd: dir });
    expect(test).toEqual({ code: 2, stdout: "", stderr: "policyc test: the `sarif` reporter is not offered here (use pretty, json, junit, tap, github; `NAME=FILE` writes that report to FILE)\n" });
    const fmt = await cli(["fmt", "--check", "p.policy", "--reporter", "sarif"], { cwd: dir });
    expect(fmt.code).toBe(2);
    expect(fmt.stderr).toContain("the `sarif` reporter is not offered here");
  });
});
