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
    expect(messages('@suppress("PC300") allow kb.search')).toEqual([["PC109", "\"PC300\" is the code of an error, and `@suppress` hides only warnings", "fix what the error says: a rule with an error does not build"]]);
  });

  it("text that is no code is refused, with a did-you-mean only one edit away", () => {
    expect(messages('@suppress("PC5111") allow kb.search')).toEqual([["PC109", '"PC5111" is not the code of a warning', 'did you mean "PC511"? (codes are written as `check` prints them)']]);
    expect(messages('@suppress("pc511") allow kb.search')[0]![2]).toBe('did you mean "PC511"? (codes are written as `check` prints them)');
    expect(messages('@suppress("PC999") allow kb.search')).toEqual([["PC109", '"PC999" is not the code of a warning', 'write the code `check` prints in brackets, as in `warning[PC511]`: "PC511"']]);
  });

  it("a warning never reported inside a rule is refused (PC502, PC503, PC514)", () => {
    for (const code of ["PC502", "PC503", "PC514"]) {
      expect(messages(`@suppress("${code}") allow kb.search`).map(([c, m]) => [c, m])).toEqual([["PC109", `"${code}" is never reported inside a rule, so \`@suppress\` on a rule cannot hide it`]]);
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

describe("@suppress(\"PC510\") and fmt (audit s15 #2): formatted output checks as clean as the input", () => {
  const withString = (string: string) => `tool shell.exec {\n  risk high\n  args { command: string }\n}\n\npolicy p {\n  @suppress("PC510")\n  deny shell.exec\n    when args.command == ${string}\n}\n`;
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), "policyc-suppress-fmt-"));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("a raw no-break space, suppressed, passes --fail-on-warnings before and after `fmt --write` prints it as `\\u00a0`", async () => {
    writeFileSync(join(dir, "nbsp.policy"), withString('"rm\u00a0-rf"'));
    expect(await cli(["check", "--fail-on-warnings", "nbsp.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "ok: 1 file, 1 rule, no warnings (1 suppressed)\n", stderr: "" });
    expect(await cli(["fmt", "--write", "nbsp.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "nbsp.policy\n", stderr: "1 file formatted, 0 unchanged\n" });
    expect(readFileSync(join(dir, "nbsp.policy"), "utf8")).toBe(withString('"rm\\u00a0-rf"'));
    expect(await cli(["check", "--fail-on-warnings", "nbsp.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "ok: 1 file, 1 rule\n", stderr: "" });
  });

  it("in any of the rule's strings (a reason, a grant scope, an annotation); without such a character the suppression is still PC514, and so is one naming another code", () => {
    for (const rule of ['@suppress("PC510") deny kb.search reason "no\\u200bpe"', '@suppress("PC510") @name("a\\u00a0b") deny kb.search', '@suppress("PC510") allow kb.search grant "kb:\\u2060read" for 5m']) {
      expect(checkWithDecls(policyOf(rule)).map((f) => f.code), rule).toEqual([]);
    }
    expect(checkWithDecls(policyOf('@suppress("PC510") deny kb.search when args.query == "rm -rf"')).map((f) => f.code)).toEqual(["PC514"]);
    expect(checkWithDecls(policyOf('@suppress("PC511") deny kb.search when args.query == "rm\\u00a0-rf"')).map((f) => f.code)).toEqual(["PC514"]);
    // A joiner inside an emoji is part of the picture, but written next to an escaped emoji it is PC510, and fmt prints the emoji raw (below).
    expect(checkWithDecls(policyOf('@suppress("PC510") deny kb.search when args.query == "\\ud83d\\udc69\\u200d\\ud83d\\udcbb"')).map((f) => f.code)).toEqual([]);
  });

  it("a raw joiner or tag character made hidden only by a neighbour written as an escape passes before and after `fmt --write` prints the neighbour raw, and the joiner with it (review r1 #3: zwj.policy)", async () => {
    const cases = [
      ['"\\ud83d\\udc68\u200d\u{1f469}"', '"\u{1f468}\u200d\u{1f469}"'],
      ['"\\u0645\u200c\u06cc"', '"\u0645\u200c\u06cc"'],
      ['"\u{1f3f4}\u{e0041}\\udb40\\udc7f"', '"\u{1f3f4}\u{e0041}\u{e007f}"'],
    ];
    for (const [written, printed] of cases) {
      writeFileSync(join(dir, "zwj.policy"), withString(written!));
      expect(await cli(["check", "--fail-on-warnings", "zwj.policy"], { cwd: dir }), written).toEqual({ code: 0, stdout: "ok: 1 file, 1 rule, no warnings (1 suppressed)\n", stderr: "" });
      expect(await cli(["fmt", "--write", "zwj.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "zwj.policy\n", stderr: "1 file formatted, 0 unchanged\n" });
      expect(readFileSync(join(dir, "zwj.policy"), "utf8")).toBe(withString(printed!));
      expect(await cli(["check", "--fail-on-warnings", "zwj.policy"], { cwd: dir }), printed).toEqual({ code: 0, stdout: "ok: 1 file, 1 rule\n", stderr: "" });
    }
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
