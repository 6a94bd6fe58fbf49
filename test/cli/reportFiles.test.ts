import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, copyFileSync, existsSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XMLValidator } from "fast-xml-parser";
import { BIN, bin, binEnvironment, ROOT, type CliResult } from "../helpers.js";

// `policyc test --reporter NAME=FILE`: a CI job writes the JUnit file its test tab reads and keeps
// the pretty report in its log, from one run.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-report-files-"));
  // The demo recording: two passes, one failure (line 3), one invalid line (4): exit 2.
  copyFileSync(join(ROOT, "test/fixtures/replay/demo.policy"), join(dir, "demo.policy"));
  copyFileSync(join(ROOT, "test/fixtures/replay/demo.jsonl"), join(dir, "demo.jsonl"));
  copyFileSync(join(ROOT, "test/fixtures/replay/full.jsonl"), join(dir, "full.jsonl"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const test = (...args: string[]): CliResult => bin(["test", "demo.policy", ...args], { cwd: dir });
const read = (name: string): string => readFileSync(join(dir, name), "utf8");

function expectNoStackTrace(result: CliResult): void {
  expect(`${result.stdout}${result.stderr}`).not.toMatch(/^\s+at |Error:/m);
}

describe("policyc test --reporter NAME=FILE", () => {
  it("writes each report to its file as it would write it to standard output, and the pretty report still goes to standard output; the exit code is the run's", () => {
    const alone = test("--replay", "demo.jsonl");
    const result = test("--replay", "demo.jsonl", "--reporter", "junit=reports/junit.xml", "--reporter", "tap=reports/run.tap", "--reporter", "json=run.json");
    expect(result.code).toBe(2);
    expect(result.code).toBe(alone.code);
    expect(result.stdout).toBe(alone.stdout);
    expect(result.stderr).toBe("");
    // A folder that is missing is made, as `build -o` makes it.
    expect(read("reports/junit.xml")).toBe(test("--replay", "demo.jsonl", "--reporter", "junit").stdout);
    expect(XMLValidator.validate(read("reports/junit.xml"))).toBe(true);
    expect(read("reports/run.tap")).toBe(test("--replay", "demo.jsonl", "--reporter", "tap").stdout);
    expect(JSON.parse(read("run.json"))).toMatchObject({ ok: false, passed: 2, failed: 1 });
    // No temporary file is left beside the reports.
    expect(readdirSync(join(dir, "reports")).sort()).toEqual(["junit.xml", "run.tap"]);
  });

  it("standard output takes the one report given no file (--json, --reporter tap, --reporter github=-)", () => {
    const json = test("--replay", "full.jsonl", "--json", "--reporter", "junit=j1.xml");
    expect(json.code).toBe(0);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: true });
    expect(read("j1.xml")).toMatch(/<testsuites name="policyc test" tests="\d+" failures="0" errors="0">/);
    const tap = test("--replay", "full.jsonl", "--reporter", "junit=j2.xml", "--reporter", "tap");
    expect(tap.stdout).toMatch(/^TAP version 13\n/);
    const dash = test("--replay", "full.jsonl", "--reporter", "github=-");
    expect(dash.stdout).toBe(test("--replay", "full.jsonl", "--reporter", "github").stdout);
  });

  it("the pretty report sent to a file is plain text, and then standard output has no report", () => {
    const result = bin(["test", "demo.policy", "--replay", "full.jsonl", "--reporter", "pretty=log.txt"], { cwd: dir, env: { NO_COLOR: "", FORCE_COLOR: "1" } });
    expect(result.code).toBe(0);
    expect(result.stdout).toBe("");
    expect(read("log.txt")).toMatch(/\n\d+ passed, 0 failed\n$/);
    expect(read("log.txt")).not.toContain("\u001b[");
  });

  it("a run that cannot start still writes the machine reports to their files, and the pretty one says why it did not start (no earlier log left there)", () => {
    writeFileSync(join(dir, "not-started.txt"), "an earlier run's log: 6 passed, 0 failed\n");
    const result = test("--replay", "missing.jsonl", "--reporter", "junit=not-started.xml", "--reporter", "pretty=not-started.txt");
    expect(result.code).toBe(2);
    expect(result.stderr).toBe("missing.jsonl: error[PC600]: no such file or folder\n");
    expect(read("not-started.xml")).toContain('<failure message="recordings not found or not readable: `missing.jsonl` (no such file or folder)" type="recordings"/>');
    expect(read("not-started.txt")).toBe("the run did not start: recordings not found or not readable: `missing.jsonl` (no such file or folder)\n");
    // A policy set that does not load (exit 1) and a report that cannot be written: exit 2, as for any report not written.
    writeFileSync(join(dir, "broken.policy"), "policy p {\n");
    const broken = bin(["test", "broken.policy", "--replay", "full.jsonl", "--reporter", "junit=full.jsonl/x.xml"], { cwd: dir });
    expect(broken.code).toBe(2);
    expect(broken.stderr).toMatch(/policyc test: cannot write the junit report to `full\.jsonl\/x\.xml`: `full\.jsonl` is a file, not a folder\n$/);
  });

  it("a name of standard output or error, or the file one is redirected to, is that stream: written through it, never replaced", () => {
    // `2> log.txt` with the pretty report on /dev/stderr: the log keeps the report and what comes after it.
    const log = openSync(join(dir, "log.txt"), "w");
    const run = spawnSync(process.execPath, [BIN, "test", "demo.policy", "--replay", "full.jsonl", "--session", "nope", "--json", "--reporter", "pretty=/dev/stderr"], { cwd: dir, stdio: ["ignore", "pipe", log], env: binEnvironment() });
    closeSync(log);
    expect(run.status).toBe(1);
    expect(JSON.parse(run.stdout.toString())).toMatchObject({ ok: false });
    expect(read("log.txt")).toBe("0 lines replayed from 1 file\n0 passed, 0 failed\npolicyc test: no line of the recordings has session `nope`\n");
    // `> out.txt` with a report given out.txt: standard output, so a second report there is refused.
    const out = openSync(join(dir, "out.txt"), "w");
    const twice = spawnSync(process.execPath, [BIN, "test", "demo.policy", "--replay", "full.jsonl", "--json", "--reporter", "junit=out.txt"], { cwd: dir, stdio: ["ignore", out, "pipe"] });
    closeSync(out);
    expect(twice.status).toBe(2);
    expect(twice.stderr.toString()).toBe("policyc test: --reporter junit=out.txt and --json both write to standard output: give one of them, or all but one a file (`--reporter json=FILE`)\n");
  });

  it("the file standard input is redirected from, when it is the recording replayed (`--replay - < rec.jsonl`), is an input: refused by any name", () => {
    writeFileSync(join(dir, "piped.jsonl"), read("full.jsonl"));
    for (const name of ["/dev/stdin", "/proc/self/fd/0", "piped-link.txt"]) {
      if (name === "piped-link.txt" && !existsSync(join(dir, name))) symlinkSync(join(dir, "piped.jsonl"), join(dir, name));
      const input = openSync(join(dir, "piped.jsonl"), "r");
      const run = spawnSync(process.execPath, [BIN, "test", "demo.policy", "--replay", "-", "--reporter", `junit=${name}`], { cwd: dir, stdio: [input, "pipe", "pipe"] });
      closeSync(input);
      expect(run.status, name).toBe(2);
      expect(run.stderr.toString(), name).toBe(`policyc test: --reporter junit=${name} would overwrite standard input, an input of this run: give the report another file\n`);
      expect(read("piped.jsonl"), name).toBe(read("full.jsonl"));
    }
  });

  it("the same report to the same file twice is one report", () => {
    const result = test("--replay", "full.jsonl", "--reporter", "junit=twice.xml", "--reporter", "junit=./twice.xml");
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(XMLValidator.validate(read("twice.xml"))).toBe(true);
  });

  it.each([
    [["--reporter", "junit", "--json"], "policyc test: --reporter junit and --json both write to standard output: give one of them, or all but one a file (`--reporter json=FILE`)"],
    [["--reporter", "tap", "--reporter", "pretty"], "policyc test: --reporter tap and --reporter pretty both write to standard output: give one of them, or all but one a file (`--reporter pretty=FILE`)"],
    [["--reporter", "junit=same.xml", "--reporter", "tap=./same.xml"], "policyc test: --reporter junit=same.xml and --reporter tap=./same.xml write to the same file: give each report its own"],
    [["--reporter", "junit="], "policyc test: --reporter junit= names no file (an unset variable?): give one (`--reporter junit=report.xml`), or leave out `=` for standard output"],
    [["--reporter", "json=out/"], "policyc test: --reporter json=out/ names a folder: give the report's file (`--reporter json=out/report.json`)"],
    [["--reporter", "xunit=r.xml"], "policyc test: unknown reporter `xunit` (use pretty, json, junit, tap, github; `NAME=FILE` writes that report to FILE)"],
    [["--reporter", "json=demo.jsonl"], "policyc test: --reporter json=demo.jsonl names a recording (`.jsonl`, `.ndjson`): a report written there would be replayed as one from a folder of recordings; give it another file (`.json`)"],
    [["--reporter", "tap=other.NDJSON"], "policyc test: --reporter tap=other.NDJSON names a recording (`.jsonl`, `.ndjson`): a report written there would be replayed as one from a folder of recordings; give it another file (`.tap`)"],
    [["--reporter", "junit=demo.policy"], "policyc test: --reporter junit=demo.policy names a policy file: a report written there would be read as policy source; give it another file"],
    [["--reporter", "junit=/dev/stdout", "--reporter", "pretty"], "policyc test: --reporter junit=/dev/stdout and --reporter pretty both write to standard output: give one of them, or all but one a file (`--reporter pretty=FILE`)"],
    [["--reporter", "junit=/dev/stderr", "--reporter", "tap=/dev/fd/2"], "policyc test: --reporter junit=/dev/stderr and --reporter tap=/dev/fd/2 both write to standard error: give one of them, or all but one a file (`--reporter tap=FILE`)"],
    [["--reporter", "junit=out\\"], "policyc test: --reporter junit=out\\ names a folder: give the report's file (`--reporter junit=out\\report.xml`)"],
    [["--reporter", "json=other.policy"], "policyc test: --reporter json=other.policy names a policy file: a report written there would be read as policy source; give it another file"],
  ])("bad usage %j: exit 2, said in one line, nothing written", (flags, message) => {
    const before = read("demo.jsonl");
    const result = test("--replay", "demo.jsonl", ...flags);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(`${message}\n`);
    expectNoStackTrace(result);
    expect(read("demo.jsonl")).toBe(before);
    expect(["same.xml", "out", "out\\", "other.policy", "other.NDJSON", "r.xml"].filter((name) => existsSync(join(dir, name)))).toEqual([]);
  });

  it("a report file that cannot be written (read-only, root too): the run says so and exits 2, the file left as it was, the other reports written", () => {
    writeFileSync(join(dir, "locked.xml"), "old report\n");
    chmodSync(join(dir, "locked.xml"), 0o444);
    const result = test("--replay", "full.jsonl", "--reporter", "junit=locked.xml", "--reporter", "tap=written.tap");
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/\d+ passed, 0 failed\n$/);
    expect(result.stderr).toBe("policyc test: cannot write the junit report to `locked.xml`: permission denied (left as it was)\n");
    // Said after every report is written: the tap report on standard output comes first.
    const ordered = test("--replay", "full.jsonl", "--reporter", "junit=locked.xml", "--reporter", "tap");
    expect(ordered.stdout).toMatch(/^TAP version 13\n/);
    expect(ordered.stderr).toBe("policyc test: cannot write the junit report to `locked.xml`: permission denied (left as it was)\n");
    expect(read("locked.xml")).toBe("old report\n");
    expect(read("written.tap")).toMatch(/^TAP version 13\n/);
  });

  it("a full disk (/dev/full) and a file where a folder should be: exit 2 with the reason, no stack trace", () => {
    writeFileSync(join(dir, "plain-file"), "");
    const result = test("--replay", "full.jsonl", "--reporter", "junit=plain-file/junit.xml", ...(existsSync("/dev/full") ? ["--reporter", "tap=/dev/full"] : []));
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("policyc test: cannot write the junit report to `plain-file/junit.xml`: `plain-file` is a file, not a folder\n");
    if (existsSync("/dev/full")) expect(result.stderr).toContain("policyc test: cannot write the tap report to `/dev/full`: no space left on the device\n");
    expectNoStackTrace(result);
  });
});
