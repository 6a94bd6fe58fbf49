import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { decideColor } from "../../src/cli/io.js";
import { BIN, bin, cli, ROOT } from "../helpers.js";

/**
 * The command line says the same thing the same way whichever verb says it (review a4): streams,
 * colour, number options, did-you-mean, help against behaviour, and names.
 */
const S = join(ROOT, "samples", "customer-support");
const RECORDING = join(S, "recordings", "attacks.jsonl");
const REQUEST = join(S, "requests", "pii-email.jsonl");
const dir = mkdtempSync(join(tmpdir(), "policyc-consistency-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("colour follows NO_COLOR, FORCE_COLOR and TERM as cli.md § Colour says (review a4 F2)", () => {
  it.each([
    [{}, true, true],
    [{}, false, false],
    [{ FORCE_COLOR: "0" }, true, false],
    [{ FORCE_COLOR: "false" }, true, false],
    [{ FORCE_COLOR: "FALSE" }, true, false],
    [{ FORCE_COLOR: "1" }, false, true],
    [{ FORCE_COLOR: "" }, false, true],
    [{ FORCE_COLOR: "3" }, false, true],
    [{ TERM: "dumb" }, true, false],
    [{ TERM: "dumb", FORCE_COLOR: "1" }, true, true],
    [{ TERM: "xterm-256color" }, true, true],
    [{ NO_COLOR: "1", FORCE_COLOR: "1" }, true, false],
    [{ NO_COLOR: "" }, true, true],
    // Not as Node reads it (Node: off), as cli.md says (review r3 R5).
    [{ FORCE_COLOR: "no" }, false, true],
  ] as const)("%j on a terminal: %s → %s", (env, isTty, coloured) => {
    expect(decideColor(env, isTty, false)).toBe(coloured);
    expect(decideColor(env, isTty, true)).toBe(false);
  });

  it("the help, README and cli.md say that FORCE_COLOR beats TERM=dumb, and claim no agreement with Node (review r3 R5)", async () => {
    const help = (await cli(["--help"])).stdout.replace(/\s+/g, " ");
    expect(help).toContain("never with --no-color, NO_COLOR, FORCE_COLOR=0 or (unless FORCE_COLOR is set) TERM=dumb; any other FORCE_COLOR forces it");
    expect(readFileSync(join(ROOT, "README.md"), "utf8").replace(/\s+/g, " ")).toContain("never with `--no-color`, `NO_COLOR`, `FORCE_COLOR=0` or (unless `FORCE_COLOR` is set) `TERM=dumb`");
    const colour = readFileSync(join(ROOT, "docs", "cli.md"), "utf8").replace(/\s+/g, " ");
    expect(colour).toContain("unless `FORCE_COLOR` forced it in rule 3");
    expect(colour).not.toContain("as Node and chalk read it");
    expect(readFileSync(join(ROOT, "src", "cli", "io.ts"), "utf8")).not.toContain("As Node (`hasColors()`) and chalk read these variables");
  });

  it.skipIf(!existsSync("/usr/bin/script") || !existsSync(join(ROOT, "dist", "cli", "main.js")))("FORCE_COLOR=0 and TERM=dumb leave a terminal plain (through script(1))", () => {
    writeFileSync(join(dir, "synerr.policy"), "enum A { a, \n");
    const env = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== "NO_COLOR" && name !== "FORCE_COLOR")), TERM: "xterm" };
    const onTerminal = (prefix: string): string => spawnSync("/usr/bin/script", ["-qc", `${prefix} ${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} fmt synerr.policy`, "/dev/null"], { cwd: dir, env, encoding: "utf8" }).stdout;
    expect(onTerminal("")).toContain("\u001b[31m\u001b[1merror[PC103]");
    for (const prefix of ["FORCE_COLOR=0", "FORCE_COLOR=false", "TERM=dumb"]) {
      const shown = onTerminal(prefix);
      expect(shown, prefix).toContain("error[PC103]");
      expect(shown, prefix).not.toContain("\u001b[");
    }
  });
});

describe("standard output holds what a verb produces; diagnostics of policies that do not load go to standard error (review a4 F3)", () => {
  it.each(["eval", "test", "diff", "build"])("%s: a policy set that does not load is reported on stderr, stdout stays empty", async (verb) => {
    const missing = join(dir, "nope.policy");
    const args = { eval: ["eval", missing, "-r", REQUEST], test: ["test", missing, "--replay", RECORDING], diff: ["diff", missing, S, "--replay", RECORDING], build: ["build", missing, "-o", join(dir, "out.json")] }[verb]!;
    const result = await cli(args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("error[PC001]: cannot read");
  });

  it("build --json: a policy set that does not load or compile gives the document on stdout and the diagnostics on stderr too; -o - keeps stdout empty (review r3 R4)", async () => {
    mkdirSync(join(dir, "er"), { recursive: true });
    writeFileSync(join(dir, "er", "schema.policy"), readFileSync(join(S, "schema.policy"), "utf8"));
    writeFileSync(join(dir, "er", "err.policy"), 'policy p {\n  deny nosuch.tool reason "r"\n}\n');
    for (const [source, code] of [[join(dir, "nope.policy"), 2], [join(dir, "er"), 1]] as const) {
      const result = await cli(["build", source, "-o", join(dir, "er-out.json"), "--json"]);
      expect(result.code, source).toBe(code);
      expect(JSON.parse(result.stdout), source).toMatchObject({ ok: false, errors: 1 });
      expect(result.stderr, source).toMatch(/error\[PC\d{3}\]/);
      const piped = await cli(["build", source, "-o", "-", "--json"]);
      expect([piped.code, piped.stdout], source).toEqual([code, ""]);
      expect(JSON.parse(piped.stderr), source).toMatchObject({ ok: false, errors: 1 });
    }
  });

  it("build --json: a signing key that cannot be read or used gives {ok: false, reason} on stdout, as eval's unreadable request does (review r3 R4)", async () => {
    for (const [key, reason] of [[join(dir, "missing.pem"), /^cannot read signing key `.*missing\.pem`: no such file/], ["/dev/null", /empty/]] as const) {
      const result = await cli(["build", S, "-o", join(dir, "signed.json"), "--sign", key, "--json"]);
      expect(result.code, key).toBe(2);
      const document = JSON.parse(result.stdout) as { ok: boolean; reason: string; code: string };
      expect(document.ok, key).toBe(false);
      expect(document.reason, key).toMatch(reason);
      expect(result.stderr, key).toBe(`${key}: error[${document.code}]: ${document.reason}\n`);
    }
  });

  it("check prints them on stdout: its diagnostics are its report", async () => {
    const result = await cli(["check", join(dir, "nope.policy")]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("error[PC001]");
  });

  it("eval --json prints a JSON document for a request that cannot be read or is not valid, as for policies that do not load", async () => {
    writeFileSync(join(dir, "bad.json"), "{bad");
    writeFileSync(join(dir, "empty.json"), "");
    const cases: [string[], string, string][] = [
      [["-r", join(dir, "nope.json")], "", `cannot read request \`${join(dir, "nope.json")}\`: no such file or folder`],
      [["-r", join(dir, "bad.json")], "", `\`${join(dir, "bad.json")}\`: not JSON at `],
      [["-r", join(dir, "empty.json")], "", `\`${join(dir, "empty.json")}\`: the request is empty`],
      [["-r", "-"], "", "standard input: the request is empty"],
      [["-r", join(S, "schema.policy")], "", "is a policy file, not a request"],
    ];
    for (const [args, stdin, reason] of cases) {
      const result = await cli(["eval", S, ...args, "--json"], { stdin });
      expect(result.code, reason).toBe(2);
      const document = JSON.parse(result.stdout) as { ok: boolean; reason: string; code: string };
      expect(document.ok).toBe(false);
      expect(document.reason).toContain(reason);
      // Text: the request's place, its code (as --json gives it), then the message.
      expect(document.code).toMatch(/^PC60[0-2]$/);
      expect(result.stderr).toMatch(new RegExp(`^(standard input|[^\\n]*\\.(json|policy)): error\\[${document.code}\\]: `));
      // Without --json, the message only, on stderr.
      expect(await cli(["eval", S, ...args], { stdin })).toEqual({ code: 2, stdout: "", stderr: result.stderr });
    }
  });

  it("a request and a bundle that are not JSON, or empty, are said alike", async () => {
    writeFileSync(join(dir, "bad-bundle.json"), "{bad");
    writeFileSync(join(dir, "empty-bundle.json"), "  \n");
    expect((await cli(["eval", "--bundle", join(dir, "bad-bundle.json"), "-r", REQUEST])).stderr).toMatch(/^[^:]*bad-bundle\.json: error\[PC700\]: not JSON at (line \d+, )?column \d+: /);
    expect((await cli(["eval", "--bundle", join(dir, "empty-bundle.json"), "-r", REQUEST])).stderr).toBe(`${join(dir, "empty-bundle.json")}: error[PC700]: the bundle is empty\n`);
  });

  it("a usage error prints no JSON, only its message", async () => {
    const result = await cli(["eval", S, "--json"]);
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toContain("--request");
  });
});

describe("a policy folder after --replay gets the hint a policy file gets (review a4 F5)", () => {
  const hint = "`" + S + "` is a folder of policy files, but --replay takes every argument after it as a recording: put policy paths before --replay\n";

  it("test --replay R POLICIES/", async () => {
    expect(await cli(["test", "--replay", RECORDING, S])).toEqual({ code: 2, stdout: "", stderr: `policyc test: ${hint}` });
  });

  it("diff --replay R OLD/ NEW/", async () => {
    expect(await cli(["diff", "--replay", RECORDING, S, S])).toEqual({ code: 2, stdout: "", stderr: `policyc diff: ${hint}` });
  });

  it("a folder of recordings given after policy paths is read as recordings, whatever else it holds", async () => {
    const mixed = join(dir, "mixed");
    mkdirSync(mixed, { recursive: true });
    writeFileSync(join(mixed, "notes.policy"), "// not read as a recording\n");
    writeFileSync(join(mixed, "calls.jsonl"), readFileSync(RECORDING, "utf8"));
    const result = await cli(["test", S, "--replay", mixed]);
    expect(result.code, result.stderr).toBe(0);
  });

  it("without a policy folder, the usual message", async () => {
    expect(await cli(["test", "--replay", RECORDING])).toEqual({ code: 2, stdout: "", stderr: "policyc test: give policy paths or --bundle FILE\n" });
  });
});

describe("--max-errors says what it takes as every number option does (review a4 F6)", () => {
  const verbs = [["check", S], ["fmt", S], ["build", S, "-o", join(dir, "b.json")], ["eval", S, "-r", REQUEST], ["test", S, "--replay", RECORDING], ["diff", S, S, "--replay", RECORDING]];

  it.each(verbs)("%s", async (...args) => {
    const verb = args[0]!;
    for (const value of ["abc", "0", "1.5", "-1"]) {
      expect(await cli([...args, `--max-errors=${value}`]), value).toEqual({ code: 2, stdout: "", stderr: `policyc ${verb}: --max-errors takes a whole number of at least 1, not \`${value}\`\n` });
    }
    for (const value of ["", " "]) {
      expect(await cli([...args, "--max-errors", value])).toEqual({ code: 2, stdout: "", stderr: `policyc ${verb}: --max-errors was given an empty value (an unset variable?)\n` });
    }
    expect((await cli([...args, "--max-errors", "7"])).code).not.toBe(2);
  });
});

describe("did-you-mean (review a4 F7)", () => {
  it("help for a mistyped verb names the likely one", async () => {
    expect((await cli(["help", "chek"])).stderr).toContain(": did you mean `check`?");
    expect((await cli(["help", "Test"])).stderr).toContain(": did you mean `test`?");
  });

  it("an option in other letter case names the option", async () => {
    expect(await cli(["check", S, "--JSON"])).toEqual({ code: 2, stdout: "", stderr: "policyc check: unknown option `--JSON`: did you mean `--json`?\n" });
    expect((await cli(["test", S, "--replay", RECORDING, "--Max-Errors=3"])).stderr).toBe("policyc test: unknown option `--Max-Errors=3`: did you mean `--max-errors`?\n");
  });

  it("a global option in other letter case names it too (review r3)", async () => {
    expect(await cli(["check", S, "--NO-COLOR"])).toEqual({ code: 2, stdout: "", stderr: "policyc check: unknown option `--NO-COLOR`: did you mean `--no-color`?\n" });
    expect((await cli(["check", "--VERSION"])).stderr).toBe("policyc check: unknown option `--VERSION`: did you mean `--version`?\n");
  });

  it("the verb's own flag given a value is told it takes none, not sent to other verbs (review r3)", async () => {
    expect(await cli(["check", S, "--json=1"])).toEqual({ code: 2, stdout: "", stderr: "policyc check: unknown option `--json=1`\n(`--json` takes no value: give `--json` alone)\n" });
    expect((await cli(["fmt", S, "--write=yes"])).stderr).toBe("policyc fmt: unknown option `--write=yes`\n(`--write` takes no value: give `--write` alone)\n");
    // Another verb's flag is still sent to its verbs.
    expect((await cli(["check", S, "--write=1"])).stderr).toBe("policyc check: unknown option `--write=1`\n(`--write` is an option of `policyc fmt`, not of `policyc check`)\n");
  });
});

describe("help says what the options do (review a4 F8)", () => {
  const help = async (verb: string): Promise<string> => (await cli([verb, "--help"])).stdout.replace(/\s+/g, " ");

  it("--jobs: its range, and the flags that replay on one thread", async () => {
    expect(await help("test")).toContain("threads per recording, 1 to 64 (default: one per core, up to 8, for recordings of 64 MB or more; else 1; always 1 with --update, --bail or --max-sessions)");
    expect(await help("diff")).toContain("threads per recording, 1 to 64 (default: one per core, up to 8, for recordings of 64 MB or more; else 1; always 1 with --max-sessions)");
  });

  it("--max-window-entries: its default", async () => {
    expect(await help("test")).toContain("default: one more than the largest number a count is compared with, or 10000 or more");
  });
});

describe("the coverage table's id column is capped (review a4 F9)", () => {
  it("one very long rule id overflows its own row, not every row", async () => {
    const long = `r-${"x".repeat(199)}`;
    writeFileSync(join(dir, "long.policy"), `tool t { risk low }\npolicy p {\n  @name("${long}")\n  deny t reason "no"\n  @name("short")\n  allow t\n}\n`);
    writeFileSync(join(dir, "long.jsonl"), '{"session":"s","tool":"t","args":{},"decision":"deny"}\n');
    const result = await cli(["test", "long.policy", "--replay", "long.jsonl", "--coverage"], { cwd: dir });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const rows = result.stdout.split("\n").filter((line) => line.startsWith("  r-") || line.startsWith("  short"));
    expect(rows).toEqual([`  ${long}       1`, `  short${" ".repeat(35)}       0  never decided a line`]);
  });
});

describe("standard input has one name (review a4 F10)", () => {
  it("fmt, eval and test call it standard input", async () => {
    expect((await cli(["fmt", "-"], { stdin: "" })).stderr).toContain("standard input: error[PC006]: `standard input` is empty");
    expect((await cli(["eval", S, "-r", "-"], { stdin: "" })).stderr).toBe("standard input: error[PC602]: the request is empty\n");
    // The real binary: a replay reads the process's own standard input.
    const replay = bin(["test", S, "--replay", "-", "--allow-empty"], { stdin: "" });
    expect(replay.stdout).toContain("note: standard input: the recording has no lines");
    expect(replay.stdout + replay.stderr).not.toContain("/dev/stdin");
  });
});
