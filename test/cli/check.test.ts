import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DECLS, policyOf } from "../fixtures.js";
import { BIN, binEnvironment, cli, type CliResult } from "../helpers.js";
import type { DiagnosticJson } from "../../src/diagnostics/render.js";

/** Every case writes into one temporary folder; paths in output are relative to it. */
let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-check-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, content: string | Uint8Array): string {
  writeFileSync(join(dir, name), content);
  return name;
}

function check(...args: string[]): Promise<CliResult> {
  return cli(["check", ...args], { cwd: dir });
}

/** A user mistake must never surface as a crash: no stack frames, no `SomeError:` lines. */
function expectNoStackTrace(result: CliResult): void {
  for (const text of [result.stdout, result.stderr]) {
    expect(text).not.toMatch(/^\s+at /m);
    expect(text).not.toMatch(/^\w*Error:/m);
    expect(text).not.toContain("internal error");
  }
}

// The JSON shape is the renderer's own type: the test reads what `--json` promises.
type JsonDiagnostic = DiagnosticJson;
interface JsonReport {
  ok: boolean;
  errors: number;
  warnings: number;
  files: string[];
  rules: number;
  diagnostics: JsonDiagnostic[];
}

const SMALL = 'enum E { a }\nagent { team: string }\ntool kb.search { args { query: string } }\npolicy p {\n  allow kb.search when agent.tema == "support"\n}\n';

describe("policyc check: pretty output", () => {
  it("prints file:line:col, the code, the message, a code frame and help (golden)", async () => {
    const result = await check(write("g.policy", SMALL));
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      [
        "g.policy:1:6: warning[PC502]: `E` is declared but never used",
        "  |",
        "1 | enum E { a }",
        "  |      ^",
        "  = help: remove it, or use it as the type of an attribute",
        "",
        "g.policy:5:30: error[PC202]: unknown attribute `tema` of `agent`",
        "  |",
        '5 |   allow kb.search when agent.tema == "support"',
        "  |                              ^^^^",
        "  = help: did you mean `team`?",
        "note: `team`, declared here",
        " --> g.policy:2:9",
        "  |",
        "2 | agent { team: string }",
        "  |         ------------",
        "",
        "1 error, 1 warning",
        "",
      ].join("\n"),
    );
    expect(result.stderr).toBe("");
  });

  it("a Trojan Source string: PC112, and the frame shows its bidirectional controls as `�`, so the terminal cannot reorder the line", async () => {
    const result = await check(write("trojan.policy", 'agent { team: string }\ntool kb.search {}\npolicy p {\n  deny kb.search when agent.team == "support\u202e \u2066// only contractors\u2069 \u2066"\n}\n'));
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('4 |   deny kb.search when agent.team == "support� �// only contractors� �"\n  |                                             ^\n');
    expect(result.stdout).not.toMatch(/[\u202a-\u202e\u2066-\u2069]/);
  });

  it("a no-break space pasted into a deny's string: PC510, a warning at the character's own line and column, exit 0; with --json too (golden)", async () => {
    const path = write("nbsp.policy", 'tool shell.exec {\n  args { cmd: string }\n}\n\npolicy p {\n  allow shell.exec\n\n  deny shell.exec\n    when args.cmd.startsWith("rm\u00a0-rf")\n}\n');
    expect(await check(path)).toEqual({
      code: 0,
      stdout: [
        "nbsp.policy:9:33: warning[PC510]: this string holds U+00A0 (no-break space), which looks like an ordinary space but is not one",
        "  |",
        '9 |     when args.cmd.startsWith("rm\u00a0-rf")',
        "  |                                 ^",
        '  = help: type an ordinary space instead; if you mean it, write the string as `"rm\\u00a0-rf"`',
        "",
        "0 errors, 1 warning",
        "ok: 1 file, 2 rules, 1 warning",
        "",
      ].join("\n"),
      stderr: "",
    });
    const json = await check(path, "--json");
    expect(json.code).toBe(0);
    expect((JSON.parse(json.stdout) as { diagnostics: unknown[] }).diagnostics).toEqual([
      expect.objectContaining({ code: "PC510", severity: "warning", line: 9, column: 33, message: "this string holds U+00A0 (no-break space), which looks like an ordinary space but is not one" }),
    ]);
    // Written as the escape, the same string gives no warning.
    expect(await check(write("escaped.policy", 'tool shell.exec {\n  args { cmd: string }\n}\npolicy p {\n  deny shell.exec when args.cmd.startsWith("rm\\u00a0-rf")\n}\n'))).toEqual({ code: 0, stdout: "ok: 1 file, 1 rule\n", stderr: "" });
  });

  it("an audit's mail policy: a glob in `contains`, the weak `like \"*@domain\"` and an `ask *` over a tool no allow targets are warnings (PC511, PC512, PC513), exit 0 (--json)", async () => {
    const path = write(
      "mail.policy",
      [
        "tool mail.send { risk high args { to: list<string>, body: string } }",
        "tool contacts.export { risk high }",
        "policy p {",
        "  allow mail.send",
        '  deny mail.send when args.to contains "*@evil.com" or args.body contains "*password*"',
        '  deny mail.send when any(r in args.to: not (r like "*@acme.com"))',
        "  ask * when session.age > 8h",
        "}",
        "",
      ].join("\n"),
    );
    const json = await check(path, "--json");
    expect(json.code).toBe(0);
    const report = JSON.parse(json.stdout) as { ok: boolean; diagnostics: { code: string; line: number; column: number; help: string }[] };
    expect(report.ok).toBe(true);
    expect(report.diagnostics.map((d) => [d.code, d.line, d.column, d.help])).toEqual([
      ["PC511", 5, 40, 'write `any(t in args.to: email.domain(t) == "evil.com")`'],
      ["PC511", 5, 75, 'write `args.body contains "password"`'],
      ["PC512", 6, 53, 'write `email.domain(r) != "acme.com"` for `not (r like "*@acme.com")`: `email.domain` refuses such text with an evaluation error, which fails closed'],
      ["PC513", 7, 7, "to refuse it, write `deny`; to ask only about allowed tools, narrow the targets"],
    ]);
    expect((await check(path)).stdout).toMatch(/\n0 errors, 4 warnings\nok: 1 file, 4 rules, 4 warnings\n$/);
  });

  it("a C1 control in a string (U+009B, a terminal's CSI): PC510, and the frame shows it as `�`, never raw", async () => {
    const result = await check(write("csi.policy", 'agent { team: string }\ntool kb.search {}\npolicy p {\n  deny kb.search when agent.team == "x\u009b2J"\n}\n'));
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('csi.policy:4:39: warning[PC510]: this string holds U+009B (a control character), which cannot be seen\n  |\n4 |   deny kb.search when agent.team == "x�2J"\n  |                                       ^\n');
    expect(result.stdout).not.toMatch(/[\u0080-\u009f]/);
  });

  it("a `#` comment line: one PC100 with the `//` help, and nothing from its words", async () => {
    const result = await check(write("hash.policy", "# support rules\ntool kb.search {}\n"));
    expect(result.stdout).toBe(["hash.policy:1:1: error[PC100]: unexpected character `#`", "  |", "1 | # support rules", "  | ^", "  = help: comments start with `//`", "", "1 error, 0 warnings", ""].join("\n"));
  });

  it("a misspelled word in an intent's body: one error, and `tool kb.read` is not read as a tool declaration (golden)", async () => {
    const result = await check(write("intent.policy", "tool kb.read { risk low }\nintent support { tool kb.read }\n"));
    expect(result).toEqual({
      code: 1,
      stdout: [
        "intent.policy:2:18: error[PC103]: expected `}` after `{`, found `tool`",
        "  |",
        "2 | intent support { tool kb.read }",
        "  |                  ^^^^",
        "  = help: did you mean `tools`? an `intent` declares `tools` and `max_risk`",
        "",
        "1 error, 0 warnings",
        "",
      ].join("\n"),
      stderr: "",
    });
  });

  it("a block left open: one error, at the declaration after it, naming its `{` and where its `}` goes (golden)", async () => {
    const result = await check(write("open.policy", 'agent { team: string\n\ntool kb.read { risk low }\n\npolicy p {\n  allow kb.read when agent.team == "support"\n}\n'));
    expect(result).toEqual({
      code: 1,
      stdout: [
        "open.policy:3:1: error[PC103]: expected `}` after `string`, found `tool`",
        "  |",
        "3 | tool kb.read { risk low }",
        "  | ^^^^",
        "  = help: the `{` of `agent` opened at 1:7 is never closed: add `}` before `tool` at 3:1",
        "",
        "1 error, 0 warnings",
        "",
      ].join("\n"),
      stderr: "",
    });
  });

  it("a block left open whose `}` comes at the end of the file: one error, which says that `}` closes nothing (golden)", async () => {
    const result = await check(write("stray.policy", "agent { team: string\ntool kb.read { risk low }\n}\n"));
    expect(result).toEqual({
      code: 1,
      stdout: [
        "stray.policy:2:1: error[PC103]: expected `}` after `string`, found `tool`",
        "  |",
        "2 | tool kb.read { risk low }",
        "  | ^^^^",
        "  = help: the `{` of `agent` opened at 1:7 is never closed: add `}` before `tool` at 2:1; the `}` at 3:1 then closes nothing: remove it",
        "",
        "1 error, 0 warnings",
        "",
      ].join("\n"),
      stderr: "",
    });
  });

  it("puts the caret under the whole span", async () => {
    const result = await check(write("decls.policy", DECLS), write("span.policy", policyOf('allow kb.search when agent.attested == "yes"')));
    expect(result.code).toBe(1);
    const lines = result.stdout.split("\n");
    const header = lines.findIndex((l) => l.startsWith("span.policy:2:24: error[PC300]: "));
    expect(header).toBeGreaterThanOrEqual(0);
    expect(lines[header + 2]).toBe('2 |   allow kb.search when agent.attested == "yes"');
    expect(lines[header + 3]).toBe("  |                        " + "^".repeat('agent.attested == "yes"'.length));
    expect(lines[header + 4]).toMatch(/^ {2}= help: /);
  });

  it("lines the caret up by what the terminal draws: two columns for CJK and emoji, none for a combining accent", async () => {
    const frameOf = async (name: string, text: string) => {
      const lines = (await check("decls.policy", write(name, policyOf(text)))).stdout.split("\n");
      return [lines[2]!, lines[3]!];
    };
    await check(write("decls.policy", DECLS));
    expect(await frameOf("wide.policy", 'deny kb.search when agent.team == "サポート😀" and agent.tema == "x"')).toEqual([
      '2 |   deny kb.search when agent.team == "サポート😀" and agent.tema == "x"',
      "  |   " + " ".repeat('deny kb.search when agent.team == "'.length + 10 + '" and agent.'.length) + "^^^^",
    ]);
    expect(await frameOf("accents.policy", 'deny kb.search when agent.team == "e\u0301\u0301\u0301" and agent.tema == "x"')).toEqual([
      '2 |   deny kb.search when agent.team == "e\u0301\u0301\u0301" and agent.tema == "x"',
      "  |   " + " ".repeat('deny kb.search when agent.team == "e" and agent.'.length) + "^^^^",
    ]);
    // サポート is four characters of two columns, 😀 one of two; the underline covers what is drawn of the span.
    const [, underline] = await frameOf("span.policy", 'deny kb.search when agent.attested == "日本"');
    expect(underline).toBe("  |   " + " ".repeat("deny kb.search when ".length) + "^".repeat('agent.attested == "日本"'.length + 2));
  });

  it("a file with carriage returns alone between lines: line and column as an editor shows them, and the frame shows that line", async () => {
    const result = await check(write("cr.policy", 'agent { team: string }\rtool kb.search {}\rpolicy p {\r  deny kb.search when agent.tema == "x"\r}\r'), "--json");
    expect(JSON.parse(result.stdout).diagnostics.map((d: JsonDiagnostic) => [d.line, d.column, d.end])).toEqual([[4, 29, { line: 4, column: 33 }]]);
    const pretty = await check("cr.policy");
    expect(pretty.stdout.split("\n").slice(0, 4)).toEqual(["cr.policy:4:29: error[PC202]: unknown attribute `tema` of `agent`", "  |", '4 |   deny kb.search when agent.tema == "x"', "  |                             ^^^^"]);
  });

  it("exit 0 and an ok line for a clean set; warnings do not fail", async () => {
    const clean = await check(write("decls.policy", DECLS));
    expect(clean).toEqual({ code: 0, stdout: "ok: 1 file, 0 rules\n", stderr: "" });
    const warned = await check("decls.policy", write("warn.policy", policyOf("allow kb.search when 1 == 2")));
    expect(warned.code).toBe(0);
    expect(warned.stdout).toContain("warn.policy:2:24: warning[PC500]: ");
    expect(warned.stdout).toMatch(/ok: 2 files, 1 rule, 1 warning\n$/);
  });

  it("follows symbolic links in folders (a linked file's rules are part of the set); a broken link is PC001", async () => {
    mkdirSync(join(dir, "linkset"), { recursive: true });
    mkdirSync(join(dir, "elsewhere"), { recursive: true });
    write("linkset/decls.policy", DECLS);
    write("elsewhere/deny.policy", policyOf("deny kb.search"));
    symlinkSync(join(dir, "elsewhere/deny.policy"), join(dir, "linkset/deny.policy"));
    symlinkSync(join(dir, "linkset"), join(dir, "linkset/loop")); // walked once
    symlinkSync(join(dir, "linkset/decls.policy"), join(dir, "linkset/same-decls.policy")); // the same file: read once
    expect(await check("linkset")).toMatchObject({ code: 0, stdout: "ok: 2 files, 1 rule\n" });
    symlinkSync(join(dir, "elsewhere/gone.policy"), join(dir, "linkset/gone.policy"));
    const broken = await check("linkset");
    expect(broken.code).toBe(2);
    expect(broken.stdout).toContain(`error[PC001]: cannot read \`linkset/gone.policy\`: it is a symbolic link to \`${join(dir, "elsewhere/gone.policy")}\`, which does not exist (a broken link)`);
  });

  it("a file a folder search passes over is named once, however many of the paths given reach it (PC007)", async () => {
    mkdirSync(join(dir, "overlap", "team"), { recursive: true });
    write("overlap/team/a.policy", DECLS);
    write("overlap/team/old.policy.bak", "policy q {\n  deny kb.search\n}\n");
    const result = await check("overlap/", "overlap/team/", "overlap/");
    expect(result.code).toBe(0);
    expect(result.stdout.match(/warning\[PC007\]/g)).toHaveLength(1);
  });

  it("a folder search reads `.policy` in any letter case, and names the files saved as `NAME.policy.txt` or left as copies (PC007, a warning) rather than skip them without a word", async () => {
    mkdirSync(join(dir, "cased"), { recursive: true });
    write("cased/main.policy", 'agent { team: string }\ntool t { risk low }\npolicy p {\n  allow t when agent.team == "x"\n}\n');
    write("cased/Deny.Policy", 'policy q {\n  deny t when agent.team == "x" reason "blocked"\n}\n');
    write("cased/more.POLICY", 'policy r {\n  deny t when agent.team == "y"\n}\n');
    write("cased/extra.policy.txt", "policy s {\n  deny t\n}\n");
    write("cased/main.policy~", "policy old {\n  allow t\n}\n");
    // Other files, also ones whose names hold `.policy`, are passed over without a word.
    write("cased/README.md", "# rules\n");
    write("cased/support.policy.json", "{}\n");
    write("cased/notes.policyholders", "x\n");
    const result = await check("cased");
    expect(result).toEqual({
      code: 0,
      stdout: [
        "cased/extra.policy.txt: warning[PC007]: `cased/extra.policy.txt` is not read: a policy file must end in `.policy`",
        " = help: if it holds policies, rename it to `extra.policy`",
        "",
        "cased/main.policy~: warning[PC007]: `cased/main.policy~` is not read: a policy file must end in `.policy`",
        " = help: if it is an old copy of `main.policy`, delete it or move it out of the folder",
        "",
        "0 errors, 2 warnings",
        "ok: 3 files, 3 rules, 2 warnings",
        "",
      ].join("\n"),
      stderr: "",
    });
    const json = JSON.parse((await check("cased", "--json")).stdout) as JsonReport & { files: string[] };
    expect(json.files).toEqual(["cased/Deny.Policy", "cased/main.policy", "cased/more.POLICY"]);
    expect(json.diagnostics.map((d) => [d.code, d.severity, d.file, d.line])).toEqual([
      ["PC007", "warning", "cased/extra.policy.txt", null],
      ["PC007", "warning", "cased/main.policy~", null],
    ]);
    expect((await check("cased", "--fail-on-warnings")).code).toBe(1);
    // The deny rule of `Deny.Policy` is in the set a verb decides with.
    const decided = await cli(["eval", "cased", "--request", "-"], { cwd: dir, stdin: JSON.stringify({ session: "s", agent: { team: "x" }, tool: "t", args: {} }) });
    expect(decided.stdout).toMatch(/^deny t[\s\S]*by q\/1 \(deny, cased\/Deny\.Policy:2:3\)/);
    // A file named on the command line is read whatever its name.
    expect(await check("cased/main.policy", "cased/extra.policy.txt")).toMatchObject({ code: 0, stdout: expect.stringContaining("`s/1` is at cased/extra.policy.txt:2") });
  });

  it("names a chain of links to its end, and PC216 does not send the user for declarations a file it could not read may hold", async () => {
    mkdirSync(join(dir, "chain"), { recursive: true });
    symlinkSync("nowhere.policy", join(dir, "chain", "b.policy"));
    symlinkSync("b.policy", join(dir, "chain", "a.policy"));
    const chained = await check("chain/a.policy");
    expect(chained.code).toBe(2);
    expect(chained.stdout).toContain("cannot read `chain/a.policy`: it is a symbolic link to `b.policy`, itself a link to `nowhere.policy`, which does not exist (a broken link)");
    mkdirSync(join(dir, "u16"), { recursive: true });
    writeFileSync(join(dir, "u16", "schema.policy"), Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("tool kb.search { args { q: string } }\n", "utf16le")]));
    writeFileSync(join(dir, "u16", "rules.policy"), "policy p {\n  allow kb.search\n}\n");
    const unread = await check("u16");
    expect(unread.code).toBe(2);
    expect(unread.stdout).toContain("error[PC216]");
    expect(unread.stdout).toContain("help: some of the files given could not be read (see their errors): the declarations may be in them, so fix those first");
    expect(unread.stdout).not.toContain("pass the files with the declarations too");
  });

  it("passes over an editor's lock file in a folder (Emacs's `.#NAME`, a link to nothing), and names one given by itself as a broken link", async () => {
    mkdirSync(join(dir, "editing"));
    write("editing/decls.policy", DECLS);
    symlinkSync("alice@laptop.4242:1764480000", join(dir, "editing/.#decls.policy"));
    expect(await check("editing")).toEqual({ code: 0, stdout: "ok: 1 file, 0 rules\n", stderr: "" });
    const named = await check("editing/.#decls.policy");
    expect(named.code).toBe(2);
    expect(named.stdout).toContain("error[PC001]: cannot read `editing/.#decls.policy`: it is a symbolic link to `alice@laptop.4242:1764480000`, which does not exist (a broken link)");
    // Any other link to nothing is still reported: a policy file it should have named may be missing.
    symlinkSync("renamed.policy", join(dir, "editing/rules.policy"));
    expect((await check("editing")).stdout).toContain("cannot read `editing/rules.policy`: it is a symbolic link to `renamed.policy`, which does not exist (a broken link)");
    write("editing/r.jsonl", "");
    symlinkSync("missing.jsonl", join(dir, "editing/gone.jsonl"));
    symlinkSync("alice@laptop.4242:1764480000", join(dir, "editing/.#r.jsonl"));
    const replay = await cli(["test", "editing/decls.policy", "--replay", "editing"], { cwd: dir });
    expect(replay.code).toBe(2);
    expect(replay.stdout).toContain("editing/gone.jsonl: error[PC600]: it is a symbolic link to `missing.jsonl`, which does not exist (a broken link)");
    expect(replay.stdout).not.toContain(".#r.jsonl");
    expectNoStackTrace(named);
    expectNoStackTrace(replay);
  });

  it("checks folders recursively, as one set", async () => {
    mkdirSync(join(dir, "set", "nested"), { recursive: true });
    write("set/decls.policy", DECLS);
    write("set/nested/rules.policy", policyOf("allow kb.search when agent.attested"));
    write("set/README.md", "not a policy");
    const result = await check("set");
    expect(result).toMatchObject({ code: 0, stdout: "ok: 2 files, 1 rule\n" });
  });

  it("searches hidden folders and node_modules too (a deny rule there must not be left out); only version control's folders are skipped", async () => {
    for (const sub of [".security", "node_modules/pkg", ".git", ".svn"]) mkdirSync(join(dir, "hidden", sub), { recursive: true });
    write("hidden/decls.policy", DECLS);
    write("hidden/.security/deny.policy", 'policy guard {\n  deny kb.search when args.query like "*password*"\n}\n');
    write("hidden/node_modules/pkg/shared.policy", "policy shared {\n  allow kb.search\n}\n");
    write("hidden/.draft.policy", "policy draft {\n  ask kb.search when agent.attested\n}\n");
    write("hidden/.git/ignored.policy", "this is not read");
    write("hidden/.svn/ignored.policy", "this is not read");
    expect(await check("hidden")).toMatchObject({ code: 0, stdout: "ok: 4 files, 3 rules\n" });
  });

  it("caps the number of diagnostics shown", async () => {
    const many = policyOf(...Array.from({ length: 10 }, (_, i) => `allow kb.search when agent.tem${i} == "x"`));
    write("decls.policy", DECLS);
    write("many.policy", many);
    const result = await check("decls.policy", "many.policy", "--max-errors", "2");
    expect(result.code).toBe(1);
    expect(result.stdout.match(/error\[PC202\]/g)).toHaveLength(2);
    expect(result.stdout).toContain("warning[PC503]: 8 more diagnostics not shown (8 errors, 0 warnings); use --max-errors N to see more\n");
    expect(result.stdout).toMatch(/10 errors, 0 warnings\n$/);
    const all = await check("decls.policy", "many.policy");
    expect(all.stdout.match(/error\[PC202\]/g)).toHaveLength(10);
    expect(all.stdout).not.toContain("not shown");
  });

  it("fills the cap with errors first, so warnings before an error never hide it, and keeps position order (audit a1 F1)", async () => {
    const unusedEnums = Array.from({ length: 5 }, (_, i) => `enum U${i} { a }`);
    write("late.policy", [...unusedEnums, "tool kb.search {}", "policy p {", "  allow zz", "  allow yy", "}", ""].join("\n"));
    const result = await check("late.policy", "--max-errors", "3");
    expect(result.code).toBe(1);
    const shownCodes = [...result.stdout.matchAll(/(\d+):\d+: (?:error|warning)\[(PC\d+)\]/g)].map((m) => `${m[1]}:${m[2]}`);
    expect(shownCodes).toEqual(["1:PC502", "8:PC203", "9:PC203"]);
    expect(result.stdout).toContain("warning[PC503]: 4 more diagnostics not shown (0 errors, 4 warnings); use --max-errors N to see more\n");
    expect(result.stdout).toMatch(/2 errors, 5 warnings\n$/);
    const one = await check("late.policy", "--max-errors", "1");
    expect(one.stdout).toContain("error[PC203]: unknown tool `zz`");
    expect(one.stdout).toContain("warning[PC503]: 6 more diagnostics not shown (1 error, 5 warnings); use --max-errors N to see more\n");
  });

  it("rejects a bad --max-errors as usage (exit 2)", async () => {
    const result = await check("decls.policy", "--max-errors", "zero");
    expect(result.code).toBe(2);
    expectNoStackTrace(result);
  });
});

describe("policyc check --json", () => {
  it("prints one JSON document with every diagnostic", async () => {
    const result = await check(write("j.policy", SMALL), "--json");
    expect(result.code).toBe(1);
    expect(result.stderr).toBe("");
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report).toMatchObject({ ok: false, errors: 1, warnings: 1, files: ["j.policy"], rules: 1 });
    expect(report.diagnostics).toEqual([
      { code: "PC502", severity: "warning", message: "`E` is declared but never used", file: "j.policy", line: 1, column: 6, end: { line: 1, column: 7 }, help: "remove it, or use it as the type of an attribute" },
      { code: "PC202", severity: "error", message: "unknown attribute `tema` of `agent`", file: "j.policy", line: 5, column: 30, end: { line: 5, column: 34 }, help: "did you mean `team`?", related: [{ file: "j.policy", line: 2, column: 9, end: { line: 2, column: 21 }, message: "`team`, declared here" }] },
    ]);
  });

  it("is valid JSON, with ok true, for a clean set", async () => {
    const result = await check(write("decls.policy", DECLS), "--json");
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ ok: true, errors: 0, warnings: 0, diagnostics: [] });
  });

  it("is valid JSON for unreadable input too (exit 2)", async () => {
    const result = await check("nope.policy", "--json");
    expect(result.code).toBe(2);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.diagnostics).toEqual([expect.objectContaining({ code: "PC001", file: "nope.policy", line: null, column: null, end: null })]);
  });

  it("is not capped by --max-errors", async () => {
    write("many2.policy", policyOf(...Array.from({ length: 5 }, (_, i) => `allow kb.search when agent.tem${i} == "x"`)));
    const result = await check("decls.policy", "many2.policy", "--json", "--max-errors", "2");
    expect((JSON.parse(result.stdout) as JsonReport).diagnostics).toHaveLength(5);
  });
});

describe("policyc check: bad input gives a diagnostic, never a crash", () => {
  async function expectDiagnostic(args: string[], code: string, exit: number): Promise<CliResult> {
    const result = await check(...args);
    expect(result.code, result.stdout + result.stderr).toBe(exit);
    expect(result.stdout).toContain(`[${code}]`);
    expectNoStackTrace(result);
    const json = await check(...args, "--json");
    expect(json.code).toBe(exit);
    expect((JSON.parse(json.stdout) as JsonReport).diagnostics.map((d) => d.code)).toContain(code);
    return result;
  }

  it("an empty file: PC006, exit 2", async () => {
    write("empty.policy", "");
    write("blank.policy", "  \n\n\t\n");
    await expectDiagnostic(["empty.policy"], "PC006", 2);
    await expectDiagnostic(["blank.policy"], "PC006", 2);
  });

  it("a binary file: PC003, exit 2", async () => {
    write("image.policy", Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0xff, 0xfe]));
    const result = await expectDiagnostic(["image.policy"], "PC003", 2);
    expect(result.stdout).toContain("image.policy: error[PC003]: ");
  });

  it("invalid UTF-8: PC002 with the line and column of the bad byte, exit 2", async () => {
    const bytes = Buffer.concat([Buffer.from('enum E { a }\npolicy p {\n  deny * when agent.team == "caf'), Buffer.from([0xe9]), Buffer.from('"\n}\n')]);
    write("latin1.policy", bytes);
    const result = await expectDiagnostic(["latin1.policy"], "PC002", 2);
    expect(result.stdout).toContain("latin1.policy:3:33: error[PC002]: ");
    expect(result.stdout).toContain("0xe9");
  });

  it("an unterminated comment: PC102, exit 1", async () => {
    write("comment.policy", "enum E { a }\n/* never closed\npolicy p { deny * }\n");
    const result = await expectDiagnostic(["comment.policy"], "PC102", 1);
    expect(result.stdout).toContain("comment.policy:2:1: error[PC102]: unterminated block comment");
  });

  it("an unterminated string: PC101, exit 1", async () => {
    write("string.policy", 'tool t {}\npolicy p {\n  deny t reason "never closed\n}\n');
    const result = await expectDiagnostic(["string.policy"], "PC101", 1);
    expect(result.stdout).toContain("string.policy:3:17: error[PC101]: unterminated string");
  });

  it("5,000 nested parentheses: PC106, exit 1", async () => {
    write("deep.policy", `tool t {}\npolicy p {\n  deny t when ${"(".repeat(5000)}true${")".repeat(5000)}\n}\n`);
    const result = await expectDiagnostic(["deep.policy"], "PC106", 1);
    expect(result.stdout).toContain("deep.policy:3:");
    // The code frame of a 10,000-character line is windowed, not printed whole.
    expect(Math.max(...result.stdout.split("\n").map((l) => l.length))).toBeLessThan(300);
  });

  it("1,380 chained calls: PC106 at the chain, exit 1; 100 check, and decide", async () => {
    // Generated code nests each call in the next: a chain the checker took would overflow the
    // stack in every decision of its tool.
    const chained = (calls: number): string => `tool t { args { q: string } }\npolicy p {\n  allow t when args.q${".lower()".repeat(calls)} == "x"\n}\n`;
    write("chain.policy", chained(1380));
    const result = await expectDiagnostic(["chain.policy"], "PC106", 1);
    expect(result.stdout).toContain("chain.policy:3:16: error[PC106]: expression nested more than 100 levels deep");
    write("chain100.policy", chained(100));
    expect(await check("chain100.policy")).toMatchObject({ code: 0, stdout: "ok: 1 file, 1 rule\n" });
    write("chain.request.json", '{ "session": "s", "tool": "t", "args": { "q": "X" } }');
    const decided = await cli(["eval", "chain100.policy", "-r", "chain.request.json", "--json"], { cwd: dir });
    expect(JSON.parse(decided.stdout)).toMatchObject({ decision: "allow", errors: [] });
  });

  it("a 10 MB file: PC005, exit 2", async () => {
    write("big.policy", Buffer.alloc(10 * 1024 * 1024, " "));
    await expectDiagnostic(["big.policy"], "PC005", 2);
  });

  it.skipIf(!existsSync("/dev/zero"))("an endless input (/dev/zero) is refused at the size limit, not read forever: PC005, exit 2", async () => {
    const result = await expectDiagnostic(["/dev/zero"], "PC005", 2);
    expect(result.stdout).toContain("`/dev/zero` is larger than 4 MB");
  });

  it("a missing path: PC001, exit 2", async () => {
    const result = await expectDiagnostic(["missing.policy"], "PC001", 2);
    expect(result.stdout).toContain("missing.policy: error[PC001]: cannot read `missing.policy`: no such file or folder");
  });

  it("an empty path (an unset shell variable) is PC001, not the working folder", async () => {
    const result = await expectDiagnostic([""], "PC001", 2);
    expect(result.stdout).toContain("an empty path was given");
  });

  it("a folder with no .policy files: PC004, exit 2", async () => {
    mkdirSync(join(dir, "nothing-here"), { recursive: true });
    write("nothing-here/notes.txt", "x");
    const result = await expectDiagnostic(["nothing-here"], "PC004", 2);
    expect(result.stdout).toContain("no `.policy` files under `nothing-here`");
  });

  it("names paths given absolutely, inside the working folder, relative to it in PC001, PC004 and PC007 too, as every other diagnostic does (monorepo review f3 #2)", async () => {
    mkdirSync(join(dir, "absolute", "rules"), { recursive: true });
    mkdirSync(join(dir, "absolute", "empty"), { recursive: true });
    write("absolute/rules/a.policy", "enum E { a }\n");
    write("absolute/rules/b.policy.txt", "x\n");
    const result = await check(join(dir, "absolute/rules"), join(dir, "absolute/empty"), join(dir, "absolute/missing.policy"));
    expect(result).toEqual({
      code: 2,
      stdout: [
        "absolute/empty: error[PC004]: no `.policy` files under `absolute/empty`",
        " = help: policy files end in `.policy`",
        "",
        "absolute/missing.policy: error[PC001]: cannot read `absolute/missing.policy`: no such file or folder",
        "",
        "absolute/rules/a.policy:1:6: warning[PC502]: `E` is declared but never used",
        "  |",
        "1 | enum E { a }",
        "  |      ^",
        "  = help: remove it, or use it as the type of an attribute",
        "",
        "absolute/rules/b.policy.txt: warning[PC007]: `absolute/rules/b.policy.txt` is not read: a policy file must end in `.policy`",
        " = help: if it holds policies, rename it to `b.policy`",
        "",
        "2 errors, 2 warnings",
        "",
      ].join("\n"),
      stderr: "",
    });
  });

  it("names a policy file reached through a symbolic link by the path it was reached by, not the link's target (monorepo review f3 #3)", async () => {
    mkdirSync(join(dir, "reached", "team"), { recursive: true });
    mkdirSync(join(dir, "shared-rules"), { recursive: true });
    write("reached/decls.policy", DECLS);
    write("shared-rules/common.policy", policyOf("allow kb.serch"));
    symlinkSync(join(dir, "shared-rules/common.policy"), join(dir, "reached/team/common.policy"));
    const result = await check("reached");
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^reached\/team\/common\.policy:2:9: error\[PC203\]/);
    expect(result.stdout).not.toContain("shared-rules");
  });

  it("a folder reads only its `.policy` files; a file of another name named on the command line (a shell's `rules/*`) is read, and its first error says why (monorepo review f3 #3)", async () => {
    mkdirSync(join(dir, "globbed"), { recursive: true });
    write("globbed/a.policy", DECLS);
    write("globbed/README.md", "# Rules\n\nWhat the policies are for.\n");
    write("globbed/NOTES", "these rules are owned by security\n");
    expect(await check("globbed")).toMatchObject({ code: 0, stdout: "ok: 1 file, 0 rules\n" });
    const result = await check("globbed/NOTES", "globbed/README.md", "globbed/a.policy");
    expect(result.code).toBe(1);
    const helps = result.stdout.split("\n").filter((line) => line.includes("is not a `.policy` file"));
    expect(helps).toEqual([
      "  = help: `globbed/NOTES` is not a `.policy` file, but a file named on the command line is read as policy text whatever its name (a shell's `globbed/*` names every file): name the folder, `globbed`, to read only its `.policy` files",
      "  = help: comments start with `//` — and `globbed/README.md` is not a `.policy` file, but a file named on the command line is read as policy text whatever its name (a shell's `globbed/*` names every file): name the folder, `globbed`, to read only its `.policy` files",
    ]);
  });

  it("the help for a file not named `.policy` comes after a help the error had, and is not given for a pipe or a file under /dev (pc521 review #4)", async () => {
    mkdirSync(join(dir, "typo"), { recursive: true });
    write("typo/RULES", "toll kb.search {}\n");
    const typo = await check("typo/RULES");
    expect(typo.code).toBe(1);
    expect(typo.stdout).toContain(
      "  = help: did you mean `tool`? — and `typo/RULES` is not a `.policy` file, but a file named on the command line is read as policy text whatever its name (a shell's `typo/*` names every file): name the folder, `typo`, to read only its `.policy` files\n",
    );
    // Process substitution names a pipe under /dev/fd: no folder holds the text.
    const piped = spawnSync("bash", ["-c", `"$0" "$1" check <(printf 'these rules are owned by security\\n')`, process.execPath, BIN], { cwd: dir, encoding: "utf8", timeout: 20_000, env: binEnvironment() });
    expect(piped.status).toBe(1);
    expect(piped.stdout).toMatch(/^\/dev\/fd\/\d+:1:1: error\[PC103\]/);
    expect(piped.stdout).not.toContain("name the folder");
  });

  it("an unconditional `allow payments.*` warns (PC521): exit 0, 1 under --fail-on-warnings, 0 again with @suppress(\"PC521\") (monorepo review f3 #1)", async () => {
    const open = write("broad.policy", "tool payments.refund { risk high }\ntool payments.charge { risk high }\npolicy p {\n  allow payments.*\n}\n");
    expect((await check(open)).stdout).toContain("broad.policy:4:9: warning[PC521]: `allow payments.*` allows every tool of `payments` (2 declared), with no condition");
    expect((await check(open)).code).toBe(0);
    expect((await check(open, "--fail-on-warnings")).code).toBe(1);
    const meant = write("broad-meant.policy", 'tool payments.refund { risk high }\npolicy p {\n  @suppress("PC521")\n  allow payments.*\n}\n');
    expect(await check(meant, "--fail-on-warnings")).toEqual({ code: 0, stdout: "ok: 1 file, 1 rule, no warnings (1 suppressed)\n", stderr: "" });
  });

  it("unreadable input wins over policy errors: exit 2", async () => {
    write("bad-rule.policy", policyOf("allow nope"));
    const result = await check("bad-rule.policy", "missing.policy");
    expect(result.code).toBe(2);
    expectNoStackTrace(result);
  });
});

describe("policy text in CI logs", () => {
  it("refuses a rule or control id with a control character (PC109), and no message or help prints one raw: no line can start a CI workflow command", async () => {
    const forged = "::error file=README.md,line=1::all policy tests passed";
    write("forged.policy", `tool kb.search {}\npolicy p {\n  @name("ok\\n${forged}")\n  @controls("A\\u001b[31m")\n  deny kb.search\n}\n`);
    write("literal.policy", `enum St { open, closed }\ntool t.x { args { s: St } }\npolicy p { allow t.x when args.s == "clsoed\\n${forged}\\u001b[31m" }\n`);
    const result = await check("forged.policy");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("forged.policy:3:9: error[PC109]: a rule id cannot hold a control character (a line break, a tab, an escape)");
    expect(result.stdout).toContain("forged.policy:4:13: error[PC109]: a control id cannot hold a control character");
    // A help that quotes a string literal as it reads shows its line break and escape as escapes.
    const literal = await check("literal.policy");
    expect(literal.code).toBe(1);
    expect(literal.stdout).toContain("\\u000a::error");
    for (const output of [result.stdout, literal.stdout]) {
      for (const line of output.split("\n")) expect(line.startsWith("::")).toBe(false);
      expect(output).not.toContain("\u001b");
    }
  });

  it("a file name with a line break or an escape is shown escaped in check's, fmt --check's and fmt's output: no file name can start a CI workflow command or recolour the terminal", async () => {
    const name = "x\n::warning file=README.md,line=1::injected by a file name\n\u001b[2Ky.policy";
    const shown = "x\\u000a::warning file=README.md,line=1::injected by a file name\\u000a\\u001b[2Ky.policy";
    mkdirSync(join(dir, "named"));
    write(join("named", name), "enum A { a }\n");
    write(join("named", "b.policy"), "enum  B { b }\n");
    const checked = await check("named");
    expect(checked.code).toBe(0);
    expect(checked.stdout).toContain(`named/${shown}:1:6: warning[PC502]`);
    const listed = await cli(["fmt", "--check", "named"], { cwd: dir });
    expect(listed).toMatchObject({ code: 1, stdout: `named/b.policy\n` });
    write(join("named", name), "enum  A { a }\n");
    const both = await cli(["fmt", "--check", "named"], { cwd: dir });
    expect(both).toMatchObject({ code: 1, stdout: `named/b.policy\nnamed/${shown}\n` });
    const printed = await cli(["fmt", "named"], { cwd: dir });
    expect(printed.code).toBe(0);
    expect(printed.stdout).toContain(`// named/${shown}\nenum A {`);
    for (const output of [checked.stdout, listed.stdout, both.stdout, printed.stdout]) {
      for (const line of output.split("\n")) expect(line.startsWith("::")).toBe(false);
      expect(output).not.toContain("\u001b");
    }
    for (const result of [checked, listed, both, printed]) expectNoStackTrace(result);
  });
});

describe("policy files as Windows tools save them", () => {
  it("a UTF-16 policy file (with or without a byte order mark) is PC002 saying to save it as UTF-8, not a binary file (PC003)", async () => {
    const text = "enum A { a }\r\n";
    write("utf16.policy", Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]));
    write("utf16be.policy", Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from(text, "utf16le").swap16()]));
    write("utf16-no-bom.policy", Buffer.from(text, "utf16le"));
    for (const file of ["utf16.policy", "utf16be.policy", "utf16-no-bom.policy"]) {
      const result = await check(file);
      expect(result).toEqual({ code: 2, stderr: "", stdout: `${file}: error[PC002]: \`${file}\` is UTF-16 text, not UTF-8\n = help: save it as UTF-8 (PowerShell: \`Out-File -Encoding utf8\`, or \`Set-Content -Encoding utf8\`)\n\n1 error, 0 warnings\n` });
    }
    // A file with zero bytes that is not UTF-16 text is still binary.
    write("image.policy", Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 0x0d]));
    expect((await check("image.policy")).stdout).toContain("error[PC003]");
  });
});

/** Makes a file whose name is not UTF-8 (`bad\xff.policy`) in a new folder; undefined where the file system refuses such names (APFS). */
function notUtf8Named(folder: string): string | undefined {
  mkdirSync(folder, { recursive: true });
  try {
    writeFileSync(Buffer.concat([Buffer.from(`${folder}/bad`), Buffer.from([0xff]), Buffer.from(".policy")]), DECLS);
    return join(folder, "bad\uFFFD.policy");
  } catch {
    return undefined;
  }
}

describe("a file whose name is not UTF-8", () => {
  it("is reported as such (PC001, exit 2), not as a file that does not exist", async () => {
    const folder = join(dir, "not-utf8-name");
    const shown = notUtf8Named(folder);
    if (shown === undefined) return;
    for (const args of [["check", "not-utf8-name"], ["check", "not-utf8-name/bad\uFFFD.policy"], ["fmt", "--check", "not-utf8-name"]]) {
      const result = await cli(args, { cwd: dir });
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stdout + result.stderr).toContain("not-utf8-name/bad\uFFFD.policy: error[PC001]: cannot read `not-utf8-name/bad\uFFFD.policy`: its name is not valid UTF-8 (shown with \uFFFD for the bad bytes), and cannot be opened by the name read: rename it");
    }
  });
});
