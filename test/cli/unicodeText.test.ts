import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, writeInto, type CliResult } from "../helpers.js";

/**
 * Non-ASCII text in reports (audit a2): hidden and bidirectional characters, Unicode
 * normalization, text cut inside a character, and where a caret points.
 */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-unicode-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a file into the temporary folder and returns its absolute path. */
const write = (name: string, content: string): string => writeInto(dir, name, content);

function run(...args: string[]): Promise<CliResult> {
  return cli(args, { cwd: dir });
}

/** Hidden (zero-width space) and bidirectional (right-to-left embedding) characters. */
const HIDDEN_OR_BIDI = /[\u200b\u202b]/;

const FS_READ = "tool fs.read {\n  risk low\n  args { path: string }\n}\n";

describe("every report shows a failure's text for people with hidden and bidirectional characters escaped", () => {
  const policy = `${FS_READ}\npolicy p {\n  @name("secret-deny")\n  deny fs.read\n    when args.path contains "x"\n    reason "no \\u202btest"\n}\n`;
  const recording = JSON.stringify({ session: "s", tool: "fs.read", args: { path: "/x\u200b" }, decision: "deny", rules: ["secret-deny"], reason: "wrong" }) + "\n";

  it("junit, tap and json, as pretty and github do; --json keeps the reasons exact", async () => {
    write("hidden.policy", policy);
    write("hidden.jsonl", recording);
    for (const reporter of ["pretty", "github", "junit", "tap"]) {
      const result = await run("test", "hidden.policy", "--replay", "hidden.jsonl", "--reporter", reporter);
      expect(result.code, reporter).toBe(1);
      expect(result.stdout, reporter).not.toMatch(HIDDEN_OR_BIDI);
      expect(result.stdout, reporter).toContain("\\u202btest");
    }
    const tap = await run("test", "hidden.policy", "--replay", "hidden.jsonl", "--reporter", "tap");
    expect(tap.stdout).toContain('  because: "secret-deny: `args.path contains \\"x\\"` was true (args.path is \\"/x\\\\u200b\\")"');
    const json = await run("test", "hidden.policy", "--replay", "hidden.jsonl", "--json");
    const report = JSON.parse(json.stdout) as { failures: { actual: { reasons: string[] }; explanation: string }[] };
    expect(report.failures[0]!.actual.reasons).toEqual(["no \u202btest"]);
    expect(report.failures[0]!.explanation).toBe('secret-deny: `args.path contains "x"` was true (args.path is "/x\\u200b")');
  });

  it("eval --json: each `shown` value is escaped as the text explanation shows it; the reasons stay exact", async () => {
    write("hidden.policy", policy);
    write("hidden.json", JSON.stringify({ session: "s", tool: "fs.read", args: { path: "/x\u200b" } }));
    const result = await run("eval", "hidden.policy", "--request", "hidden.json", "--json");
    const decision = JSON.parse(result.stdout) as { reasons: string[]; explanation: { rules: { reason: string | null; clauses: { evidence: { left: { shown: string } }[] }[] }[] } };
    expect(decision.reasons).toEqual(["no \u202btest"]);
    expect(decision.explanation.rules[0]!.clauses[0]!.evidence[0]!.left.shown).toBe('"/x\\u200b"');
    // The rule's reason is a value, as in `reasons`: exact.
    expect(JSON.stringify({ ...decision.explanation, rules: decision.explanation.rules.map((rule) => ({ ...rule, reason: null })) })).not.toMatch(HIDDEN_OR_BIDI);
  });
});

/** The first diagnostic `check` prints for a file of `text`: its line and its code frame. */
async function firstDiagnostic(name: string, text: string): Promise<string[]> {
  write(name, text);
  return (await run("check", name)).stdout.split("\n").slice(0, 4);
}

describe("code frames point at the character a message names", () => {
  it("PC105 for a raw tab in a string points at the tab, and the frame draws it there as `�`", async () => {
    expect(await firstDiagnostic("tab.policy", `${FS_READ}policy p { deny fs.read when args.path == "日本😀 long text\there" }\n`)).toEqual([
      "tab.policy:5:58: error[PC105]: a string cannot hold the control character U+0009 as is",
      "  |",
      '5 | policy p { deny fs.read when args.path == "日本😀 long text�here" }',
      "  |                                                            ^",
    ]);
  });

  it("a caret for a combining mark goes under the letter it is drawn on", async () => {
    expect(await firstDiagnostic("mark.policy", `${FS_READ}policy p {\n  allow fs.read when args.pa\u0301th == "x"\n}\n`)).toEqual([
      "mark.policy:6:29: error[PC100]: unexpected character U+0301 (a combining mark)",
      "  |",
      "6 |   allow fs.read when args.pa\u0301th == \"x\"",
      "  |                            ^",
    ]);
  });

  it("a long line is windowed by what the terminal draws, never inside a surrogate pair, with `…` where it is cut", async () => {
    const emoji = "😀".repeat(60);
    write("long.policy", `${FS_READ}policy p {\n  allow fs.read when args.path == "${emoji}" or args.paht == "${"日".repeat(100)}"\n}\n`);
    const result = await run("check", "long.policy");
    const frame = result.stdout.split("\n")[2]!;
    expect(frame).not.toMatch(/\ufffd|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/);
    expect(frame).toMatch(/^6 \| …😀+" or args\.paht == "日+…$/u);
    // 160 columns of the line between the two `…`.
    expect([...frame.slice(5, -1)].reduce((width, character) => width + (character === "😀" || character === "日" ? 2 : 1), 0)).toBeLessThanOrEqual(160);
  });

  it("a windowed line starts at a whole character: no accent drawn on the `…`, no half of an emoji ZWJ sequence", async () => {
    for (const [name, sequence] of [["marks", "e\u0301"], ["zwj", "\u{1f469}\u200d\u{1f4bb}"]] as const) {
      for (let shift = 0; shift < sequence.length; shift++) {
        const frame = (await firstDiagnostic(`window-${name}-${shift}.policy`, `${FS_READ}policy p { allow fs.read when args.path == "${"x".repeat(shift)}${sequence.repeat(80)}" and args.paht == "x" }\n`))[2]!;
        expect(frame.startsWith(`5 | …${sequence}`), `${name} ${shift}: ${frame}`).toBe(true);
        expect(frame.slice("5 | …".length).replaceAll(sequence, ""), `${name} ${shift}`).toBe('" and args.paht == "x" }');
      }
    }
  });
});

describe("variation selectors, noncharacters and private-use characters count as hidden (PC510, fmt)", () => {
  const policyWith = (strings: string[]): string => `tool shell.exec {\n  args { command: string }\n}\n\npolicy p {\n  deny shell.exec\n    when args.command in [${strings.map((s) => `"${s}"`).join(", ")}]\n}\n`;

  it("PC510 names a selector that draws nothing, a noncharacter and a private-use character, raw in a string", async () => {
    const hidden = ["rm\ufe0f -rf", "sudo\u{e0100} ", "a\ufffe", "b\u{10ffff}", "c\ue000", " \ufe00x", "\u1820\u180b\u180b"];
    write("selectors.policy", policyWith(hidden));
    const result = await run("check", "selectors.policy");
    const warnings = result.stdout.split("\n").filter((line) => line.includes("warning[PC510]"));
    expect(warnings.map((line) => line.replace(/^.*this string holds /, ""))).toEqual([
      "U+FE0F (a variation selector), which cannot be seen",
      "U+E0100 (a variation selector), which cannot be seen",
      "U+FFFE (a noncharacter), which cannot be seen",
      "U+10FFFF (a noncharacter), which cannot be seen",
      "U+E000 (a private-use character), which cannot be seen",
      "U+FE00 (a variation selector), which cannot be seen",
      // A second Mongolian selector follows the first, not a Mongolian letter.
      "U+180B (a variation selector), which cannot be seen",
    ]);
    // fmt keeps each as an escape (an escape written for it stays one), and the value is the same.
    const formatted = await run("fmt", "selectors.policy");
    // (Its line is wider than 100 columns: fmt puts the list one element a line.)
    expect(formatted.stdout).toContain(['"rm\\ufe0f -rf",', '"sudo\\udb40\\udd00 ",', '"a\\ufffe",', '"b\\udbff\\udfff",', '"c\\ue000",', '" \\ufe00x",', '"\u1820\u180b\\u180b"'].map((line) => `      ${line}`).join("\n"));
    write("selectors-escaped.policy", formatted.stdout);
    expect((await run("check", "selectors-escaped.policy")).stdout).toBe("ok: 1 file, 1 rule\n");
    expect((await run("fmt", "selectors-escaped.policy")).stdout).toBe(formatted.stdout);
  });

  it("a selector drawn with what is before it (an emoji, a keycap, a CJK ideograph's variant, a standardized variant) is ordinary text: no warning, kept raw by fmt", async () => {
    // Also Unicode's standardized variation sequences of other scripts and of math: Myanmar,
    // Phags-pa, `≩` with a vertical stroke, a slashed zero; a digit's emoji style; Mongolian.
    const drawn = ["❤️ love", "1️⃣ one", "☺︎ text style", "葛\u{e0100}城", "👩‍❤️‍👨", "\u1000\ufe00", "\ua856\ufe00", "\u2269\ufe00", "0\ufe00", "1\ufe0f", "\u1820\u180b"];
    write("drawn.policy", policyWith(drawn));
    expect((await run("check", "drawn.policy")).stdout).toBe("ok: 1 file, 1 rule\n");
    // Its line is wider than 100 columns, so fmt puts the list one element a line: each still raw.
    const formatted = (await run("fmt", "drawn.policy")).stdout;
    for (const text of drawn) expect(formatted).toContain(`      ${JSON.stringify(text)}`);
    write("drawn-formatted.policy", formatted);
    expect((await run("fmt", "drawn-formatted.policy")).stdout).toBe(formatted);
  });
});

describe("texts that look alike but differ", () => {
  const policy = `${FS_READ}\npolicy p {\n  @name("caf\u00e9")\n  deny fs.read when args.path == "3"\n\n  @name("cafe\u0301")\n  deny fs.read when args.path == "4"\n\n  @name("a\\u200bb")\n  deny fs.read when args.path == "5"\n\n  @name("ab")\n  deny fs.read when args.path == "6"\n}\n`;

  it("PC518 warns on rule ids equal once composed (NFC) and without characters that are not drawn", async () => {
    write("alike.policy", policy);
    const result = await run("check", "alike.policy");
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n").filter((line) => line.includes("[PC518]"))).toEqual([
      "alike.policy:10:3: warning[PC518]: the rule id `cafe\u0301` looks like `caf\u00e9`, the id of the rule at alike.policy:7, but differs in Unicode normalization: this id is NFD, that one NFC",
      "alike.policy:16:3: warning[PC518]: the rule id `ab` looks like `a\\u200bb`, the id of the rule at alike.policy:13, but differs in characters that are not drawn",
    ]);
  });

  it("PC518 tells apart ids that look different: a drawn joiner, selector or flag's tags are part of the id, and a no-break space is a space", async () => {
    const ids = ["deny-\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}", "deny-\u{1f3f4}\u{e0067}\u{e0062}\u{e0077}\u{e006c}\u{e0073}\u{e007f}", "dev \u{1f469}\u200d\u{1f4bb}", "dev \u{1f469}\u{1f4bb}", "love \u2764\ufe0f", "love \u2764", "read docs", "readdocs", "read\\u00a0docs"];
    write("distinct.policy", `${FS_READ}\npolicy p {\n${ids.map((id, i) => `  @name("${id}")\n  deny fs.read when args.path == "${i}"\n`).join("")}}\n`);
    const result = await run("check", "--fail-on-warnings", "distinct.policy");
    // Only the no-break space against the ordinary one, named for what it is (not "not drawn").
    expect(result.stdout.split("\n").filter((line) => line.includes("warning["))).toEqual([
      "distinct.policy:23:3: warning[PC518]: the rule id `read\\u00a0docs` looks like `read docs`, the id of the rule at distinct.policy:19, but differs in space characters",
    ]);
    // Two flags are two ids in `test` too: no note that they look alike.
    write("distinct.jsonl", JSON.stringify({ session: "s", tool: "fs.read", args: { path: "1" }, decision: "deny", rules: [ids[0]] }) + "\n");
    const replay = await run("test", "distinct.policy", "--replay", "distinct.jsonl");
    expect(replay.stdout).toContain(`actual   deny [${ids[1]}]`);
    expect(replay.stdout).not.toContain("look alike");
  });

  it("a failure whose expected and actual texts look alike says how they differ, in every text report", async () => {
    write("alike.policy", policy);
    write("alike.jsonl", JSON.stringify({ session: "s", tool: "fs.read", args: { path: "4" }, decision: "deny", rules: ["caf\u00e9"] }) + "\n");
    const note = "expected and actual look alike but differ in Unicode normalization: expected is NFC, actual NFD";
    for (const reporter of ["pretty", "github", "junit", "tap"]) {
      const result = await run("test", "alike.policy", "--replay", "alike.jsonl", "--reporter", reporter);
      expect(result.stdout, reporter).toContain(note);
    }
    expect((await run("test", "alike.policy", "--replay", "alike.jsonl")).stdout).toContain(`        actual   deny [cafe\u0301]\n        (${note})\n`);
  });
});

describe("short forms of non-ASCII text", () => {
  it("eval cuts a value with emoji between characters, never inside one (no `�`, no lone `\\ud83d`)", async () => {
    write("cut.policy", `${FS_READ}\npolicy p {\n  allow fs.read when args.path == "/x"\n}\n`);
    write("cut.json", JSON.stringify({ session: "s", tool: "fs.read", args: { path: "a".repeat(23) + "😀".repeat(40) } }));
    const text = await run("eval", "cut.policy", "--request", "cut.json");
    expect(text.stdout).toContain(`(args.path is "${"a".repeat(23)}${"😀".repeat(16)}…)`);
    const json = await run("eval", "cut.policy", "--request", "cut.json", "--json");
    const shown = (JSON.parse(json.stdout) as { explanation: { rules: { clauses: { evidence: { left: { shown: string } }[] }[] }[] } }).explanation.rules[0]!.clauses[0]!.evidence[0]!.left.shown;
    expect(shown).toBe(`"${"a".repeat(23)}${"😀".repeat(16)}…`);
    for (const output of [text.stdout, json.stdout]) expect(output).not.toMatch(/\ufffd|\\ud83d/);
  });

  it("the --coverage table lines its counts up by what the terminal draws (CJK ids, combining accents)", async () => {
    write("cov.policy", `${FS_READ}\npolicy p {\n  @name("ascii-rule-name")\n  deny fs.read when args.path == "1"\n\n  @name("秘密の規則")\n  allow fs.read\n\n  @name("cafe\u0301-x")\n  deny fs.read when args.path == "2"\n}\n`);
    write("cov.jsonl", JSON.stringify({ session: "s", tool: "fs.read", args: { path: "3" }, decision: "allow" }) + "\n");
    const result = await run("test", "cov.policy", "--replay", "cov.jsonl", "--coverage");
    const rows = result.stdout.split("\n").filter((line) => /^ {2}\S.* {2,}\d+/.test(line));
    expect(rows).toEqual(["  ascii-rule-name       0  never decided a line", "  秘密の規則" + " ".repeat(12) + "1", "  cafe\u0301-x                0  never decided a line"]);
  });

  it("PC100 gives its help for a letter beyond U+FFFF in a name, as for one within it", async () => {
    write("astral.policy", `${FS_READ}\npolicy p {\n  allow fs.read when args.p\u{1d518}th == "x"\n}\n`);
    const result = await run("check", "astral.policy");
    expect(result.stdout).toContain("  = help: names are ASCII letters, digits and `_`; other text goes in strings\n");
  });
});

describe("test --update writes what a review of the diff can see", () => {
  it("a reason with a bidirectional control and a line separator is written with JSON escapes: the same value, read back", async () => {
    write("update.policy", `${FS_READ}\npolicy p {\n  @name("r\\u200b")\n  deny fs.read\n    reason "no \\u202e here\\u2028next"\n}\n`);
    const recording = write("update.jsonl", JSON.stringify({ session: "s", tool: "fs.read", args: { path: "x" }, decision: "deny", rules: ["old"], reason: "old" }) + "\n");
    expect((await run("test", "update.policy", "--replay", "update.jsonl", "--update")).code).toBe(0);
    const written = readFileSync(recording, "utf8");
    expect(written).toBe('{"session":"s","tool":"fs.read","args":{"path":"x"},"decision":"deny","rules":["r\\u200b"],"reason":"no \\u202e here\\u2028next"}\n');
    expect(JSON.parse(written)).toMatchObject({ rules: ["r\u200b"], reason: "no \u202e here\u2028next" });
    expect((await run("test", "update.policy", "--replay", "update.jsonl")).code).toBe(0);
  });
});
