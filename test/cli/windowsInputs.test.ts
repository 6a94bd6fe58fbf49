import { createHash } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { ROOT, bin, cli, writeInto } from "../helpers.js";
import { writeKeys } from "./signing.js";

/**
 * Inputs from Windows and mixed environments (audit a6): file names with glob characters, CRLF
 * and BOM checkouts, UTF-16 files, names that a CI log reads as commands.
 */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-windows-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Writes a file into the temporary folder and returns its absolute path. */
const write = (name: string, content: string | Buffer): string => writeInto(dir, name, content);

const POLICY = `agent { id: string }
context { env: string }
tool kb.search { risk low args { query: string } }
policy p {
  allow kb.search when context.env == "dev"
}
`;

/** One recorded search in `env`, expecting `allow`: it passes under POLICY exactly when env is "dev". */
function searchIn(env: string): string {
  return `{"session":"s","time":"2026-01-01T00:00:00Z","agent":{"id":"a"},"tool":"kb.search","args":{"query":"x"},"context":{"env":"${env}"},"decision":"allow"}\n`;
}

describe("a --replay argument that names an existing file is that file, even when it reads as a glob", () => {
  /** `run[1].jsonl` (fails) beside `run1.jsonl` (passes), which the glob `run[1].jsonl` matches. */
  function brackets(folder: string): void {
    write(`${folder}/p.policy`, POLICY);
    write(`${folder}/run1.jsonl`, searchIn("dev"));
    write(`${folder}/run[1].jsonl`, searchIn("prod"));
  }

  it("test replays the named file, and `\\[` escapes the bracket to say the same", async () => {
    brackets("glob-test");
    const cwd = join(dir, "glob-test");
    for (const [name, spelled] of [["run[1].jsonl", "run[1].jsonl"], ["./run[1].jsonl", "./run[1].jsonl"], ["run\\[1\\].jsonl", "run[1].jsonl"]]) {
      const result = await cli(["test", "p.policy", "--replay", name!, "--json"], { cwd });
      expect(result.code, name).toBe(1);
      expect(JSON.parse(result.stdout), name).toMatchObject({ files: [spelled], passed: 0, failed: 1 });
    }
    // A glob that names no file is still a glob.
    const glob = await cli(["test", "p.policy", "--replay", "run[0-9].jsonl", "--json"], { cwd });
    expect(glob.code).toBe(0);
    expect(JSON.parse(glob.stdout)).toMatchObject({ files: ["run1.jsonl"], passed: 1, failed: 0 });
    // So do the machine reporters: JUnit's suite is the named file.
    const junit = await cli(["test", "p.policy", "--replay", "run[1].jsonl", "--reporter", "junit"], { cwd });
    expect(junit.stdout).toContain('<testsuite name="run[1].jsonl"');
  });

  it("a folder whose name reads as a glob is that folder", async () => {
    write("glob-folder/p.policy", POLICY);
    write("glob-folder/logs[1]/a.jsonl", searchIn("prod"));
    write("glob-folder/logs1/a.jsonl", searchIn("dev"));
    const result = await cli(["test", "p.policy", "--replay", "logs[1]", "--json"], { cwd: join(dir, "glob-folder") });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ files: [join("logs[1]", "a.jsonl")], failed: 1 });
  });

  it("diff compares the named file", async () => {
    brackets("glob-diff");
    const cwd = join(dir, "glob-diff");
    write("glob-diff/new.policy", POLICY.replace('"dev"', '"prod"'));
    const result = await cli(["diff", "p.policy", "new.policy", "--replay", "run[1].jsonl", "--json"], { cwd });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { changed: number; byCause: Record<string, { changes: { file: string; direction: string }[] }> };
    expect(report.changed).toBe(1);
    expect(Object.values(report.byCause).flatMap((group) => group.changes)).toEqual([expect.objectContaining({ file: "run[1].jsonl", direction: "deny→allow" })]);
  });

  it("--update rewrites the named file and leaves the one the glob would match alone", async () => {
    brackets("glob-update");
    const cwd = join(dir, "glob-update");
    const result = await cli(["test", "p.policy", "--replay", "run[1].jsonl", "--update"], { cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("updated 1 recording");
    expect(readFileSync(join(cwd, "run[1].jsonl"), "utf8")).toContain('"decision":"deny"');
    expect(readFileSync(join(cwd, "run1.jsonl"), "utf8")).toBe(searchIn("dev"));
  });
});

describe("a --replay glob that matches its own spelling takes every match, as bash expands it, the file of that name among them", () => {
  /** `logs/*.jsonl` (a file of that name, passes) beside `logs/run1.jsonl` (fails) and `logs/run[1].jsonl` (fails). */
  function starFile(folder: string): string {
    write(`${folder}/p.policy`, POLICY);
    write(`${folder}/logs/*.jsonl`, searchIn("dev"));
    write(`${folder}/logs/run1.jsonl`, searchIn("prod"));
    write(`${folder}/logs/run[1].jsonl`, searchIn("prod"));
    return join(dir, folder);
  }
  const all = ["logs/*.jsonl", "logs/run1.jsonl", "logs/run[1].jsonl"];

  it("test replays all of them (and `**/*.jsonl` beside a folder named `**` too), so a failing one is not passed over", async () => {
    const cwd = starFile("self-test");
    const result = await cli(["test", "p.policy", "--replay", "logs/*.jsonl", "--json"], { cwd });
    expect(result.code).toBe(1);
    expect(JSON.parse(result.stdout)).toMatchObject({ files: all, passed: 1, failed: 2 });
    write("self-test/**/*.jsonl", searchIn("dev"));
    const globstar = await cli(["test", "p.policy", "--replay", "**/*.jsonl", "--json"], { cwd });
    expect(globstar.code).toBe(1);
    expect(JSON.parse(globstar.stdout)).toMatchObject({ files: ["**/*.jsonl", ...all], passed: 2, failed: 2 });
  });

  it("diff compares all of them", async () => {
    const cwd = starFile("self-diff");
    write("self-diff/new.policy", POLICY.replace('"dev"', '"prod"'));
    const result = await cli(["diff", "p.policy", "new.policy", "--replay", "logs/*.jsonl", "--json"], { cwd });
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as { changed: number; byCause: Record<string, { changes: { file: string }[] }> };
    expect(report.changed).toBe(3);
    expect(Object.values(report.byCause).flatMap((group) => group.changes.map((change) => change.file)).sort()).toEqual(all);
  });

  it("--update rewrites all of them", async () => {
    const cwd = starFile("self-update");
    const result = await cli(["test", "p.policy", "--replay", "logs/*.jsonl", "--update"], { cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(result.stderr).toContain("updated 2 of 3 recordings");
    for (const name of ["run1.jsonl", "run[1].jsonl"]) expect(readFileSync(join(cwd, "logs", name), "utf8"), name).toContain('"decision":"deny"');
    expect(readFileSync(join(cwd, "logs", "*.jsonl"), "utf8")).toBe(searchIn("dev"));
  });
});

describe("build: a bundle does not depend on its sources' line ends or byte order mark", () => {
  it("LF, CRLF, CR and BOM copies of a policy give byte-identical bundles; an LF source's hash is sha256sum's", async () => {
    const lf = readFileSync(join(ROOT, "test/fixtures/replay/demo.policy"), "utf8");
    expect(lf).not.toContain("\r");
    const copies = { lf, crlf: lf.replace(/\n/g, "\r\n"), cr: lf.replace(/\n/g, "\r"), bom: `\uFEFF${lf.replace(/\n/g, "\r\n")}`, mixed: lf.replace(/\n/, "\r\n") };
    const bundles = new Map<string, string>();
    for (const [name, text] of Object.entries(copies)) {
      write(`eol-${name}/demo.policy`, text);
      const result = await cli(["build", "demo.policy", "-o", "bundle.json"], { cwd: join(dir, `eol-${name}`) });
      expect(result.code, result.stderr).toBe(0);
      bundles.set(name, readFileSync(join(dir, `eol-${name}`, "bundle.json"), "utf8"));
    }
    for (const [name, bundle] of bundles) expect(bundle, name).toBe(bundles.get("lf"));
    const manifest = (JSON.parse(bundles.get("lf")!) as { manifest: { sources: { path: string; sha256: string }[] } }).manifest;
    expect(manifest.sources).toEqual([{ path: "demo.policy", sha256: createHash("sha256").update(readFileSync(join(dir, "eol-lf", "demo.policy"))).digest("hex") }]);
  });
});

describe("a UTF-16 key file is refused as UTF-16, with how to save it as UTF-8", () => {
  const utf16le = (text: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);
  const utf16beWithoutMark = (text: string): Buffer => Buffer.from(text, "utf16le").swap16();

  it("--sign (build), and --public-key (test, eval, diff); a UTF-8 key with a BOM and CRLF still works", async () => {
    const cwd = join(dir, "keys16");
    mkdirSync(cwd, { recursive: true });
    writeKeys(cwd);
    write("keys16/p.policy", POLICY);
    write("keys16/r.jsonl", searchIn("dev"));
    write("keys16/request.json", searchIn("dev"));
    const privatePem = readFileSync(join(cwd, "key.pem"), "utf8");
    const publicPem = readFileSync(join(cwd, "public.pem"), "utf8");
    write("keys16/key16.pem", utf16le(privatePem));
    write("keys16/public16.pem", utf16le(publicPem));
    write("keys16/public16be.pem", utf16beWithoutMark(publicPem));
    write("keys16/keybom.pem", `\uFEFF${privatePem.replace(/\n/g, "\r\n")}`);
    write("keys16/publicbom.pem", `\uFEFF${publicPem.replace(/\n/g, "\r\n")}`);
    const advice = "it is UTF-16 text, and a key file's PEM or JSON Web Key text is read as UTF-8: save it as UTF-8 (PowerShell: `Out-File -Encoding utf8`, or `Set-Content -Encoding utf8`)";

    expect(await cli(["build", "p.policy", "-o", "signed16.json", "--sign", "key16.pem"], { cwd })).toEqual({ code: 2, stdout: "", stderr: `key16.pem: error[PC700]: cannot sign with \`key16.pem\`: ${advice}\n` });
    expect(existsSync(join(cwd, "signed16.json"))).toBe(false);
    expect((await cli(["build", "p.policy", "-o", "signed.json", "--sign", "keybom.pem"], { cwd })).code).toBe(0);

    for (const key of ["public16.pem", "public16be.pem"]) {
      for (const args of [["test", "--bundle", "signed.json", "--replay", "r.jsonl"], ["eval", "--bundle", "signed.json", "--request", "request.json"], ["diff", "signed.json", "signed.json", "--replay", "r.jsonl"]]) {
        const result = await cli([...args, "--public-key", key], { cwd });
        expect(result, `${args[0]} ${key}`).toEqual({ code: 2, stdout: "", stderr: `${key}: error[PC700]: ${advice}\n` });
      }
    }
    expect((await cli(["test", "--bundle", "signed.json", "--replay", "r.jsonl", "--public-key", "publicbom.pem"], { cwd })).code).toBe(0);
  });
});

describe("UTF-16 text appended to a UTF-8 file (PowerShell 5.1's `>>`) is named as UTF-16, at its line", () => {
  const appended = (utf8: string, utf16: string): Buffer => Buffer.concat([Buffer.from(utf8), Buffer.from(utf16, "utf16le")]);

  it("a recording: the lines before it replay; its line's error names UTF-16 and how to append as UTF-8 (exit 2)", async () => {
    const cwd = join(dir, "appended16");
    write("appended16/p.policy", POLICY);
    write("appended16/r.jsonl", appended(searchIn("dev").replace("\n", "\r\n") + searchIn("dev").replace("\n", "\r\n"), searchIn("prod").replace("\n", "\r\n")));
    const result = await cli(["test", "p.policy", "--replay", "r.jsonl"], { cwd });
    expect(result.code).toBe(2);
    expect(result.stdout).toContain(
      "r.jsonl:3: error[PC601]: the file is UTF-16 text from this line on (what Windows PowerShell 5.1's `>>` appends to a UTF-8 file), and a recording is UTF-8 JSON Lines: the rest of the file is not read; remove the UTF-16 lines and append them again as UTF-8 (PowerShell: `Add-Content -Encoding utf8`, or `Out-File -Append -Encoding utf8`)\n",
    );
    expect(result.stdout).not.toContain("NUL");
    expect(result.stdout).toMatch(/2 passed, 0 failed\n$/);
    // After a last line without a line end, UTF-16 starts within that line: said so, and that the line is not read.
    write("appended16/within.jsonl", appended(searchIn("dev") + searchIn("dev").trimEnd(), searchIn("prod").replace("\n", "\r\n")));
    const within = await cli(["test", "p.policy", "--replay", "within.jsonl"], { cwd });
    expect(within.code).toBe(2);
    expect(within.stdout).toContain(
      "within.jsonl:2: error[PC601]: the line has no line end after its UTF-8 text, and UTF-16 text follows it (what Windows PowerShell 5.1's `>>` appends to a UTF-8 file), and a recording is UTF-8 JSON Lines: the line and the rest of the file are not read; remove the UTF-16 lines and append them again as UTF-8",
    );
    expect(within.stdout).toMatch(/1 passed, 0 failed\n$/);
    // The zeros a crash leaves are still binary data, not UTF-16, after a line end or not.
    write("appended16/zeros-within.jsonl", Buffer.concat([Buffer.from(searchIn("dev") + searchIn("dev").trimEnd()), Buffer.alloc(16)]));
    expect((await cli(["test", "p.policy", "--replay", "zeros-within.jsonl"], { cwd })).stdout).toContain("zeros-within.jsonl:2: error[PC601]: the line holds NUL bytes");
    write("appended16/zeros.jsonl", Buffer.concat([Buffer.from(searchIn("dev")), Buffer.alloc(16)]));
    expect((await cli(["test", "p.policy", "--replay", "zeros.jsonl"], { cwd })).stdout).toContain("zeros.jsonl:2: error[PC601]: the line holds NUL bytes");
  });

  it("a policy: PC002 at the first UTF-16 line, not PC003 at a byte offset", async () => {
    const cwd = join(dir, "appended16");
    write("appended16/app.policy", appended(POLICY.replace(/\n/g, "\r\n"), "// appended\r\n"));
    const result = await cli(["check", "app.policy", "--json"], { cwd });
    expect(result.code).toBe(2);
    expect((JSON.parse(result.stdout) as { diagnostics: unknown[] }).diagnostics).toEqual([
      expect.objectContaining({ code: "PC002", line: 7, column: 1, message: "`app.policy` is UTF-16 text from line 7 on (what Windows PowerShell 5.1's `>>` appends to a UTF-8 file), not UTF-8" }),
    ]);
    // After a last line without a line end (Notepad saves none, `>>` adds none), UTF-16 starts within it: at its line and column.
    const noFinalLineEnd = POLICY.replace(/\n/g, "\r\n").replace(/\r\n$/, "");
    const utf16be = (text: string): Buffer => Buffer.from(text, "utf16le").swap16();
    for (const [name, bytes] of [
      ["within.policy", appended(noFinalLineEnd, "// appended\r\n")],
      ["withinbom.policy", Buffer.concat([Buffer.from(noFinalLineEnd), Buffer.from([0xff, 0xfe]), Buffer.from("// appended\r\n", "utf16le")])],
      ["withinbe.policy", Buffer.concat([Buffer.from(noFinalLineEnd), utf16be("// appended\r\n")])],
    ] as const) {
      write(`appended16/${name}`, bytes);
      const within = await cli(["check", name, "--json"], { cwd });
      expect(within.code, name).toBe(2);
      expect((JSON.parse(within.stdout) as { diagnostics: unknown[] }).diagnostics, name).toEqual([
        expect.objectContaining({ code: "PC002", line: 6, column: 2, message: `\`${name}\` is UTF-16 text from line 6 on (what Windows PowerShell 5.1's \`>>\` appends to a UTF-8 file), not UTF-8` }),
      ]);
    }
    write("appended16/binary.policy", Buffer.concat([Buffer.from(POLICY), Buffer.alloc(8)]));
    expect((await cli(["check", "binary.policy"], { cwd })).stdout).toContain("error[PC003]: `binary.policy` looks like a binary file");
  });
});

describe("a file name that starts with `::` never starts a line as a GitHub Actions workflow command", () => {
  /** Whether any line of `text` starts, after white space, with `::` (what the runner reads as a command). */
  const commandLines = (text: string): string[] => text.split("\n").filter((line) => /^\s*::/.test(line));

  it("check, fmt --check, build, test and diff show it as ./::…", async () => {
    const cwd = join(dir, "commands");
    write("commands/::warning::fake.policy", POLICY.replace("context.env", "context.envx"));
    write("commands/  ::notice::spaced.policy", POLICY.replace("allow kb.search", "allow   kb.search"));
    write("commands/ok/::x.policy", POLICY);
    write("commands/::error title=Injected::all tests passed.jsonl", searchIn("prod"));
    const check = await cli(["check", "::warning::fake.policy"], { cwd });
    expect(check.stdout).toMatch(/^\.\/::warning::fake\.policy:5:32: error\[PC202\]/);
    const missing = await cli(["check", "::gone.policy"], { cwd });
    expect(missing.stdout).toMatch(/^\.\/::gone\.policy: error\[PC001\]/);
    const fmt = await cli(["fmt", "--check", "  ::notice::spaced.policy", "::warning::fake.policy"], { cwd });
    expect(fmt.stdout).toBe("./  ::notice::spaced.policy\n./::warning::fake.policy\n");
    expect((await cli(["build", "ok", "-o", "bundle.json"], { cwd })).code).toBe(0);
    const bundle = JSON.parse(readFileSync(join(cwd, "bundle.json"), "utf8")) as { manifest: { sources: { path: string }[] }; rules: { location: string }[] };
    expect(bundle.manifest.sources.map((source) => source.path)).toEqual([join("ok", "::x.policy")]);
    const recording = "::error title=Injected::all tests passed.jsonl";
    const test = await cli(["test", join("ok", "::x.policy"), "--replay", recording], { cwd });
    expect(test.code).toBe(1);
    expect(test.stdout.startsWith(`./${recording}\n  session s\n`), test.stdout).toBe(true);
    write("commands/new.policy", POLICY.replace('"dev"', '"prod"'));
    const diff = await cli(["diff", join("ok", "::x.policy"), "new.policy", "--replay", recording], { cwd });
    expect(diff.stdout).toContain(`  ./${recording}:1  deny→allow`);
    for (const result of [check, missing, fmt, test, diff]) expect(commandLines(result.stdout + result.stderr)).toEqual([]);
  });

  it("`##[` (a command anywhere in a line) in a file name, a rule id or a policy line is shown as `#\\u0023[` by check, fmt --check, test and diff", async () => {
    const cwd = join(dir, "legacy-commands");
    const forged = POLICY.replace("allow kb.search", '@name("r##[error]id") allow kb.search');
    write("legacy-commands/y##[error]p.policy", forged.replace("context.env", "context.envx"));
    write("legacy-commands/f##[warning]f.policy", forged.replace("allow kb.search", "allow   kb.search"));
    write("legacy-commands/ok/p.policy", forged);
    write("legacy-commands/new.policy", forged.replace('"dev"', '"prod"'));
    // Its first line fails (the rule allows it), so its explanation names the rule; the second is not JSON.
    write("legacy-commands/x##[error]forged.jsonl", searchIn("dev").replace('"allow"', '"deny"') + "{not json\n");
    const check = await cli(["check", "y##[error]p.policy"], { cwd });
    expect(check.stdout).toMatch(/^y#\\u0023\[error\]p\.policy:5:\d+: error\[PC202\]/);
    expect(check.stdout).toContain('@name("r#\\u0023[error]id")');
    const fmt = await cli(["fmt", "--check", "f##[warning]f.policy"], { cwd });
    expect(fmt.stdout).toBe("f#\\u0023[warning]f.policy\n");
    const test = await cli(["test", join("ok", "p.policy"), "--coverage", "--replay", "x##[error]forged.jsonl"], { cwd });
    expect(test.code).toBe(2);
    expect(test.stdout + test.stderr).toContain("x#\\u0023[error]forged.jsonl:2: ");
    expect(test.stdout).toContain("r#\\u0023[error]id");
    const diff = await cli(["diff", join("ok", "p.policy"), "new.policy", "--replay", "x##[error]forged.jsonl"], { cwd });
    expect(diff.stdout).toContain("x#\\u0023[error]forged.jsonl:1");
    for (const result of [check, fmt, test, diff]) expect(result.stdout + result.stderr).not.toContain("##[");
    // What is read back keeps it: fmt writes the id as it is.
    expect((await cli(["fmt", join("ok", "p.policy")], { cwd })).stdout).toContain('@name("r##[error]id")');
  });

  it("a rule id or reason that starts with `::` is shown with its first colon escaped wherever a report puts it first on a line (the coverage table)", async () => {
    const cwd = join(dir, "rule-commands");
    write("rule-commands/p.policy", POLICY.replace("allow kb.search", '@name("::error::forged") allow kb.search'));
    write("rule-commands/r.jsonl", searchIn("dev"));
    const test = await cli(["test", "p.policy", "--coverage", "--replay", "r.jsonl"], { cwd });
    expect(test.code).toBe(0);
    expect(test.stdout).toContain("  \\u003a:error::forged ");
    expect(commandLines(test.stdout + test.stderr)).toEqual([]);
    // What is read back keeps it: fmt writes the id as it is.
    expect((await cli(["fmt", "p.policy"], { cwd })).stdout).toContain('@name("::error::forged")');
  });

  it("JUnit's failure text and message escape `##[` and a line-leading `::` from rule ids and reasons, as the rest of the report does (review r7)", async () => {
    const cwd = join(dir, "junit-commands");
    write("junit-commands/p.policy", POLICY.replace("allow kb.search", '@name("::error::x##[y") deny kb.search when context.env == "dev" reason "::warning::bad ##[error]z"\n  allow kb.search'));
    write("junit-commands/r.jsonl", searchIn("dev"));
    const junit = await cli(["test", "p.policy", "--reporter", "junit", "--replay", "r.jsonl"], { cwd });
    expect(junit.code).toBe(1);
    expect(junit.stdout).toContain("\\u003a:warning::bad #\\u0023[error]z");
    expect(junit.stdout).not.toContain("##[");
    expect(commandLines(junit.stdout)).toEqual([]);
  });

  it("a code frame of a line that starts with `::` keeps its caret under the span (it follows the gutter, so only `##[` is escaped there)", async () => {
    const cwd = join(dir, "frame-commands");
    write("frame-commands/h.policy", "tool kb.s { risk low args { q\n:: string } }\npolicy main {\n  allow kb.s\n}\n");
    const check = await cli(["check", "h.policy"], { cwd });
    expect(check.code).toBe(1);
    expect(check.stdout).toContain("2 | :: string } }\n  |  ^\n");
  });
});

describe("control characters in file names and reasons, as the CI reporters write them", () => {
  const REASONED = `agent { id: string }
context { env: string }
tool kb.search { risk low args { query: string } }
policy p {
  deny kb.search when context.env == "prod" reason "a\\u0001b\\u001b[31mred\\u009b32mgreen\\u007fdel"
  allow kb.search
}
`;

  it("GitHub: a CR in a file name is %0D (the real path), as LF is %0A", async () => {
    const cwd = join(dir, "github-cr");
    write("github-cr/p.policy", POLICY);
    const name = "r\r4\n.jsonl";
    write(`github-cr/${name}`, searchIn("prod"));
    const result = await cli(["test", "p.policy", "--replay", name, "--reporter", "github"], { cwd });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("::error file=r%0D4%0A.jsonl,line=1,");
    expect(result.stdout).not.toContain("\\u000d");
  });

  it("GitHub: the coverage warning at a rule keeps its file= when the source's name holds a line break", async () => {
    const cwd = join(dir, "github-coverage");
    write("github-coverage/n\nl.policy", POLICY.replace("allow kb.search when", "allow kb.search when true and"));
    expect((await cli(["build", "n\nl.policy", "-o", "bundle.json"], { cwd })).code).toBe(0);
    write("github-coverage/r.jsonl", searchIn("prod").replace('"decision":"allow"', '"decision":"deny"'));
    const result = await cli(["test", "bundle.json", "--replay", "r.jsonl", "--coverage", "--reporter", "github"], { cwd });
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain("::warning file=n%0Al.policy,line=5,title=policyc test%3A coverage::rule p/1 decided no recorded line");
  });

  it("JUnit: `file` is the real path (line breaks as references, what XML cannot hold as an escape); a reason's control characters are escaped, not dropped", async () => {
    const cwd = join(dir, "junit-controls");
    write("junit-controls/p.policy", REASONED);
    const name = "c\u0001t\u0085l\n.jsonl";
    write(`junit-controls/${name}`, searchIn("prod"));
    const result = await cli(["test", "p.policy", "--replay", name, "--reporter", "junit"], { cwd });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(' file="c\\u0001t&#133;l&#10;.jsonl" line="1"');
    // DEL and the C1 controls too (U+009B is a terminal's CSI), which XML could hold raw.
    expect(result.stdout).toContain("\nactual   deny [p/1]\na\\u0001b\\u001b[31mred\\u009b32mgreen\\u007fdel\n");
    expect(result.stdout).not.toMatch(/[\u007f-\u009f]/);
    expect(XMLValidator.validate(result.stdout)).toBe(true);
    const parsed = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "", htmlEntities: true }).parse(result.stdout) as { testsuites: { testsuite: { testcase: { file: string } } } };
    expect(parsed.testsuites.testsuite.testcase.file).toBe("c\\u0001t\u0085l\n.jsonl");
  });

  it("JUnit: a recording read from standard input has no `file`, as GitHub's annotations have none", () => {
    write("junit-stdin/p.policy", POLICY);
    const result = bin(["test", "p.policy", "--replay", "-", "--reporter", "junit"], { cwd: join(dir, "junit-stdin"), stdin: searchIn("prod") + searchIn("dev") });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('<testcase classname="standard input.s" name="line 1: kb.search query=&quot;x&quot;" line="1">');
    expect(result.stdout).not.toContain("file=");
  });
});

describe("policy paths are not globs", () => {
  it("a quoted `*.policy` (as PowerShell and cmd pass it on) that names no file says to name the folder", async () => {
    write("no-glob/p.policy", POLICY);
    const result = await cli(["check", "*.policy"], { cwd: join(dir, "no-glob") });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("*.policy: error[PC001]: cannot read `*.policy`: no such file or folder\n = help: policy paths are not globs: name the folder (`policyc check .`), which is searched for `.policy` files\n\n1 error, 0 warnings\n");
  });

  it("the help names the verb in use and the glob's folder", async () => {
    const cwd = join(dir, "no-glob");
    write("no-glob/r.jsonl", searchIn("dev"));
    const help = async (args: string[]): Promise<string> => {
      const result = await cli(args, { cwd });
      expect(result.code, args.join(" ")).toBe(2);
      return /help: (.*)/.exec(result.stdout + result.stderr)?.[1] ?? "";
    };
    const named = (command: string): string => `policy paths are not globs: name the folder (\`${command}\`), which is searched for \`.policy\` files`;
    expect(await help(["build", "rules/*.policy", "-o", "b.json"])).toBe(named("policyc build rules …"));
    expect(await help(["check", "rules/team/**/*.policy"])).toBe(named("policyc check rules/team"));
    expect(await help(["fmt", "--check", "rules\\*.policy"])).toBe(named("policyc fmt rules …"));
    expect(await help(["test", "*.policy", "--replay", "r.jsonl"])).toBe(named("policyc test . …"));
    expect(await help(["diff", "old/*.policy", "p.policy", "--replay", "r.jsonl"])).toBe(named("policyc diff old …"));
    expect(await help(["eval", "/rules/x?.policy", "--request", "r.jsonl"])).toBe(named("policyc eval /rules …"));
  });
});
