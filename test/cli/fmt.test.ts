import { spawnSync } from "node:child_process";
import { chmodSync, closeSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, openSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatFile, formatSource } from "../../src/ast/format.js";
import type { PolicyDecl } from "../../src/ast/nodes.js";
import { compileSources } from "../../src/compile/compile.js";
import { hasErrors } from "../../src/diagnostics/Diagnostic.js";
import { parse } from "../../src/syntax/parse.js";
import { policyLexer } from "../../src/syntax/tokens.js";
import { CONTRACT_POLICY, DECLS, policyText } from "../fixtures.js";
import { expectGolden, runText } from "../goldens/golden.js";
import { BIN, bin, binUnprivileged, CAN_RUN_UNPRIVILEGED, cli, CONFORMANCE, HAS_CONFORMANCE, ROOT } from "../helpers.js";

/** A deep copy without positions, so ASTs of differently laid-out texts compare equal. */
function stripSpans(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(stripSpans);
  if (value === null || typeof value !== "object") return value;
  const out: Record<string, unknown> = {};
  for (const [key, inner] of Object.entries(value)) {
    if (key === "span" || key === "effectSpan" || key === "keywordSpan") continue;
    out[key] = stripSpans(inner);
  }
  return out;
}

/** What `policyc fmt` prints for one file (the pure function under the verb). */
function fmt(text: string): string {
  const parsed = parse(text, "t.policy");
  expect(parsed.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return formatFile(parsed.ast, text, [...parsed.comments, ...parsed.docComments]);
}

/** The docs of each compiled rule, by id. */
function ruleDocs(text: string): Record<string, string | null> {
  const { policy, diagnostics } = compileSources([{ path: "t.policy", text }]);
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return Object.fromEntries(policy!.rules.map((r) => [r.id, r.docs]));
}

/**
 * Every comment of a text, in order, with runs of blank space made one space: the formatter
 * re-indents the continuation lines of block comments and trims line ends, and nothing else.
 */
function commentsOf(text: string): string[] {
  const parsed = parse(text);
  return [...parsed.comments, ...parsed.docComments].sort((a, b) => a.startOffset - b.startOffset).map((c) => c.image.replace(/\s+/g, " ").trim());
}

/**
 * fmt keeps the AST and every comment, and a second run changes nothing. Comments keep their
 * order unless told otherwise: items that fmt reorders (a tool's `risk`, `returns` and
 * `args`; an intent's `tools` and `max_risk`) take their comments with them.
 */
function expectRoundTrip(text: string, label: string, options: { commentsInOrder?: boolean } = {}): void {
  const before = parse(text, label);
  const formatted = formatFile(before.ast, text, [...before.comments, ...before.docComments]);
  const after = parse(formatted, label);
  expect(after.diagnostics, `${label}: the formatted text does not parse:\n${formatted}`).toEqual([]);
  expect(stripSpans(after.ast), `${label}: formatting changed the AST`).toEqual(stripSpans(before.ast));
  if (options.commentsInOrder === false) expect(commentsOf(formatted).sort(), `${label}: formatting lost comments`).toEqual(commentsOf(text).sort());
  else expect(commentsOf(formatted), `${label}: formatting lost or reordered comments`).toEqual(commentsOf(text));
  expect(formatFile(after.ast, formatted, [...after.comments, ...after.docComments]), `${label}: not idempotent`).toBe(formatted);
}

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-fmt-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const MESSY = [
  "/// Zones.",
  "enum  Zone{internal,external}",
  "agent{team:string",
  "zone:Zone}",
  "tool kb.search{risk low args{query:string}}",
  "policy p{",
  "// why this policy exists",
  '@name("kb")   allow kb.search when   agent.team=="x"   and',
  "  agent.zone==internal // trailing",
  '  reason   "r"',
  "}",
  "",
].join("\n");

const CANONICAL = [
  "/// Zones.",
  "enum Zone { internal, external }",
  "",
  "agent {",
  "  team: string",
  "  zone: Zone",
  "}",
  "",
  "tool kb.search {",
  "  risk low",
  "  args { query: string }",
  "}",
  "",
  "policy p {",
  "  // why this policy exists",
  '  @name("kb")',
  "  allow kb.search",
  '    when agent.team == "x"',
  "     and agent.zone == internal // trailing",
  '    reason "r"',
  "}",
  "",
].join("\n");

describe("policyc fmt", () => {
  it("prints the canonical form (golden)", async () => {
    writeFileSync(join(dir, "messy.policy"), MESSY);
    const result = await cli(["fmt", "messy.policy"], { cwd: dir });
    expect(result).toEqual({ code: 0, stdout: CANONICAL, stderr: "" });
    expect(readFileSync(join(dir, "messy.policy"), "utf8")).toBe(MESSY); // printing does not write
  });

  it("--check lists files that differ and exits 1; exits 0 when formatted", async () => {
    writeFileSync(join(dir, "a.policy"), MESSY);
    writeFileSync(join(dir, "b.policy"), CANONICAL);
    const failing = await cli(["fmt", "--check", "a.policy", "b.policy"], { cwd: dir });
    expect(failing.code).toBe(1);
    expect(failing.stdout).toBe("a.policy\n");
    expect(failing.stderr).toContain("1 file is not formatted");
    const passing = await cli(["fmt", "--check", "b.policy"], { cwd: dir });
    expect(passing).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(readFileSync(join(dir, "a.policy"), "utf8")).toBe(MESSY); // --check does not write
  });

  it("--check lists at most 100 files and counts the rest, with thousands separators; --json lists them all (audit s16 F6)", async () => {
    const estate = join(dir, "estate");
    mkdirSync(estate);
    for (let i = 0; i < 1_005; i++) writeFileSync(join(estate, `p${String(i).padStart(4, "0")}.policy`), MESSY);
    const result = await cli(["fmt", "--check", "estate"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout.split("\n").filter(Boolean)).toHaveLength(100);
    expect(result.stderr).toBe("1,005 files are not formatted (905 more not listed; `--json` lists them all); run `policyc fmt --write`\n");
    const json = await cli(["fmt", "--check", "--json", "estate"], { cwd: dir });
    expect((JSON.parse(json.stdout) as { files: { changed: boolean }[] }).files.filter((f) => f.changed)).toHaveLength(1_005);
  });

  it("a no-break space pasted into a string is printed as its escape, so --check fails on it; an escape written on purpose stays; emoji and Persian stay as they are", async () => {
    const policy = (string: string) => `tool sh.x {\n  args { c: string }\n}\n\npolicy p {\n  deny sh.x\n    when args.c.startsWith(${string})\n}\n`;
    writeFileSync(join(dir, "pasted.policy"), policy('"rm\u00a0-rf"'));
    writeFileSync(join(dir, "escaped.policy"), policy('"rm\\u00a0-rf"'));
    writeFileSync(join(dir, "text.policy"), policy('"\u{1f469}\u200d\u{1f4bb} \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 caf\u00e9"'));
    expect(await cli(["fmt", "pasted.policy"], { cwd: dir })).toEqual({ code: 0, stdout: policy('"rm\\u00a0-rf"'), stderr: "" });
    const check = await cli(["fmt", "--check", "pasted.policy", "escaped.policy", "text.policy"], { cwd: dir });
    expect([check.code, check.stdout]).toEqual([1, "pasted.policy\n"]);
  });

  it("--write lists the files it changed on standard output, one a line, and says how many it formatted and left unchanged on standard error (golden; monorepo review f3 #5)", async () => {
    mkdirSync(join(dir, "listed", "team"), { recursive: true });
    writeFileSync(join(dir, "listed/a.policy"), MESSY);
    writeFileSync(join(dir, "listed/b.policy"), CANONICAL);
    writeFileSync(join(dir, "listed/team/c.policy"), MESSY);
    const result = await cli(["fmt", "--write", "listed"], { cwd: dir });
    expectGolden("fmt-write", `${runText(result)}--- stderr ---\n${result.stderr}`);
    expect(result).toEqual({ code: 0, stdout: "listed/a.policy\nlisted/team/c.policy\n", stderr: "2 files formatted, 1 unchanged\n" });
    expect(await cli(["fmt", "--write", "listed"], { cwd: dir })).toEqual({ code: 0, stdout: "", stderr: "0 files formatted, 3 unchanged\n" });
  });

  it("--write rewrites files that differ, and then --check passes", async () => {
    writeFileSync(join(dir, "w.policy"), MESSY);
    writeFileSync(join(dir, "ok.policy"), CANONICAL);
    const before = statSync(join(dir, "ok.policy")).mtimeMs;
    const result = await cli(["fmt", "--write", "w.policy", "ok.policy"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result).toMatchObject({ stdout: "w.policy\n", stderr: "1 file formatted, 1 unchanged\n" });
    expect(readFileSync(join(dir, "w.policy"), "utf8")).toBe(CANONICAL);
    expect(statSync(join(dir, "ok.policy")).mtimeMs).toBe(before);
    expect((await cli(["fmt", "--check", "w.policy", "ok.policy"], { cwd: dir })).code).toBe(0);
  });

  it("keeps CRLF line ends (a Git for Windows checkout): a formatted CRLF file passes --check, --write writes CRLF", async () => {
    const crlf = (text: string): string => text.replace(/\n/g, "\r\n");
    writeFileSync(join(dir, "win.policy"), crlf(CANONICAL));
    expect(await cli(["fmt", "--check", "win.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "", stderr: "" });
    writeFileSync(join(dir, "winmessy.policy"), crlf(MESSY));
    expect((await cli(["fmt", "winmessy.policy"], { cwd: dir })).stdout).toBe(crlf(CANONICAL));
    expect((await cli(["fmt", "--write", "winmessy.policy"], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(dir, "winmessy.policy"), "utf8")).toBe(crlf(CANONICAL));
  });

  it("keeps a UTF-8 byte order mark as it keeps line ends: --check accepts a formatted file with one, --write, stdout and `-` keep it; output headed by paths leaves it out (audit s15 #4)", async () => {
    const bom = "\ufeff";
    const bytesOf = (name: string) => readFileSync(join(dir, name));
    writeFileSync(join(dir, "bom.policy"), `${bom}tool t {\n  risk low\n}\n`);
    writeFileSync(join(dir, "bom2.policy"), `${bom}tool t {risk low}\n`);
    writeFileSync(join(dir, "bomcrlf.policy"), `${bom}tool t {risk low}\r\n`);
    expect(await cli(["fmt", "--check", "bom.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "", stderr: "" });
    expect((await cli(["fmt", "--check", "bom2.policy"], { cwd: dir })).stdout).toBe("bom2.policy\n");
    expect(await cli(["fmt", "bom2.policy"], { cwd: dir })).toEqual({ code: 0, stdout: `${bom}tool t {\n  risk low\n}\n`, stderr: "" });
    expect((await cli(["fmt", "-"], { cwd: dir, stdin: `${bom}tool t {risk low}\n` })).stdout).toBe(`${bom}tool t {\n  risk low\n}\n`);
    expect((await cli(["fmt", "bom.policy", "bom2.policy"], { cwd: dir })).stdout).toBe("// bom.policy\ntool t {\n  risk low\n}\n\n// bom2.policy\ntool t {\n  risk low\n}\n\n");
    // --json's `formatted` is what --write writes, the mark included (docs/cli.md).
    expect(JSON.parse((await cli(["fmt", "--json", "bom2.policy"], { cwd: dir })).stdout)).toEqual({ ok: true, files: [{ path: "bom2.policy", changed: true, formatted: `${bom}tool t {\n  risk low\n}\n` }], excluded: [], diagnostics: [] });
    expect(await cli(["fmt", "--write", "bom.policy", "bom2.policy", "bomcrlf.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "bom2.policy\nbomcrlf.policy\n", stderr: "2 files formatted, 1 unchanged\n" });
    expect(bytesOf("bom2.policy").subarray(0, 4)).toEqual(Buffer.from([0xef, 0xbb, 0xbf, 0x74]));
    expect(bytesOf("bom2.policy").toString("utf8")).toBe(`${bom}tool t {\n  risk low\n}\n`);
    expect(bytesOf("bomcrlf.policy").toString("utf8")).toBe(`${bom}tool t {\r\n  risk low\r\n}\r\n`);
    expect(await cli(["fmt", "--check", "bom.policy", "bom2.policy", "bomcrlf.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "", stderr: "" });
    // The library keeps one a text starts with.
    const { format } = await import("../../src/index.js");
    expect(format(`${bom}tool t {risk low}\n`, "a.policy").text).toBe(`${bom}tool t {\n  risk low\n}\n`);
  });

  it("reads a lone CR as a line end, as the parser does, and writes LF: blank lines and block comments come out as from LF", async () => {
    const lf = "// header\n\n/// doc of A\nenum A { a }\n/* multi\n   line */\nenum C { c }\n";
    writeFileSync(join(dir, "lf.policy"), lf);
    writeFileSync(join(dir, "cr.policy"), lf.replace(/\n/g, "\r"));
    const fromLf = await cli(["fmt", "lf.policy"], { cwd: dir });
    expect(fromLf.stdout).not.toContain("\r");
    expect(await cli(["fmt", "cr.policy"], { cwd: dir })).toEqual(fromLf);
    expect((await cli(["fmt", "--check", "cr.policy"], { cwd: dir })).code).toBe(1);
  });

  it.skipIf(process.platform === "win32")("--write leaves a named pipe a pipe (exit 2), and says a hard link's other name keeps the old text", async () => {
    const fifo = join(dir, "pipe.policy");
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    // A writer in another process: reading the pipe blocks until it opens it.
    const run = spawnSync("sh", ["-c", `(printf '%s' "$TEXT" > pipe.policy &); exec "$NODE" "$BIN" fmt --write pipe.policy`], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", TEXT: MESSY, NODE: process.execPath, BIN } });
    expect({ code: run.status, stdout: run.stdout, stderr: run.stderr }).toEqual({ code: 2, stdout: "", stderr: "policyc fmt: cannot write `pipe.policy`: it is not a regular file (a named pipe or a device), and replacing it would remove it (left as it was)\n0 files formatted, 0 unchanged, 1 could not be written\n" });
    expect(lstatSync(fifo).isFIFO()).toBe(true);
    writeFileSync(join(dir, "h1.policy"), MESSY);
    linkSync(join(dir, "h1.policy"), join(dir, "h2.policy"));
    const linked = await cli(["fmt", "--write", "h1.policy"], { cwd: dir });
    expect(linked).toEqual({ code: 0, stdout: "h1.policy\n", stderr: "note: `h1.policy` was a hard link: another name of it, not given to fmt, still holds the old text (the file was replaced by a new one, not edited in place)\n1 file formatted, 0 unchanged\n" });
    expect(readFileSync(join(dir, "h1.policy"), "utf8")).toBe(CANONICAL);
    expect(readFileSync(join(dir, "h2.policy"), "utf8")).toBe(MESSY);
    // Every name formatted in the run: none keeps the old text, and there is no note (review r4 #7).
    mkdirSync(join(dir, "both"));
    writeFileSync(join(dir, "both", "a.policy"), MESSY);
    linkSync(join(dir, "both", "a.policy"), join(dir, "both", "b.policy"));
    expect(await cli(["fmt", "--write", "both"], { cwd: dir })).toEqual({ code: 0, stdout: "both/a.policy\nboth/b.policy\n", stderr: "2 files formatted, 0 unchanged\n" });
    expect(readFileSync(join(dir, "both", "b.policy"), "utf8")).toBe(CANONICAL);
    // Two names of three given: one note, for the file, saying how many keep the old text.
    writeFileSync(join(dir, "t1.policy"), MESSY);
    linkSync(join(dir, "t1.policy"), join(dir, "t2.policy"));
    linkSync(join(dir, "t1.policy"), join(dir, "t3.policy"));
    writeFileSync(join(dir, "t4.policy"), MESSY);
    linkSync(join(dir, "t4.policy"), join(dir, "t5.policy"));
    linkSync(join(dir, "t4.policy"), join(dir, "t6.policy"));
    const some = await cli(["fmt", "--write", "t1.policy", "t2.policy", "t4.policy"], { cwd: dir });
    expect(some.stderr).toBe("note: `t1.policy` was a hard link: another name of it, not given to fmt, still holds the old text (the file was replaced by a new one, not edited in place)\nnote: `t4.policy` was a hard link: 2 other names of it, not given to fmt, still hold the old text (the file was replaced by a new one, not edited in place)\n3 files formatted, 0 unchanged\n");
  });

  it("--write keeps a file's permissions and writes through a link; a file it cannot write is reported and left as it was (exit 2)", async () => {
    writeFileSync(join(dir, "real.policy"), MESSY);
    chmodSync(join(dir, "real.policy"), 0o640);
    symlinkSync(join(dir, "real.policy"), join(dir, "link.policy"));
    expect((await cli(["fmt", "--write", "link.policy"], { cwd: dir })).code).toBe(0);
    expect(lstatSync(join(dir, "link.policy")).isSymbolicLink()).toBe(true);
    expect(readFileSync(join(dir, "real.policy"), "utf8")).toBe(CANONICAL);
    expect(statSync(join(dir, "real.policy")).mode & 0o777).toBe(0o640);
    // A name so long that the temporary file's cannot be made (NAME_MAX) is reported as it is.
    const stuck = `${"s".repeat(240)}.policy`;
    writeFileSync(join(dir, stuck), MESSY);
    const result = await cli(["fmt", "--write", stuck], { cwd: dir });
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toBe(`policyc fmt: cannot write \`${stuck}\`: the name is too long (left as it was)\n0 files formatted, 0 unchanged, 1 could not be written\n`);
    expect(readFileSync(join(dir, stuck), "utf8")).toBe(MESSY);
    expect(readdirSync(dir).filter((name) => name.includes(".policyc-"))).toEqual([]);
    // What a killed run (in a container, where policyc is process 1 every time) left at the
    // temporary name policyc once used, a file or a planted link, is not in the way, and is left alone.
    writeFileSync(join(dir, "victim.txt"), "secret");
    writeFileSync(join(dir, "planted.policy"), MESSY);
    symlinkSync(join(dir, "victim.txt"), join(dir, "planted.policy.policyc-1.tmp"));
    writeFileSync(join(dir, "left.policy"), MESSY);
    writeFileSync(join(dir, "left.policy.policyc-1.tmp"), "left by a killed run\n");
    expect((await cli(["fmt", "--write", "planted.policy", "left.policy"], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(dir, "victim.txt"), "utf8")).toBe("secret");
    expect(readFileSync(join(dir, "planted.policy"), "utf8")).toBe(CANONICAL);
    expect(readFileSync(join(dir, "left.policy.policyc-1.tmp"), "utf8")).toBe("left by a killed run\n");
    expect(lstatSync(join(dir, "planted.policy.policyc-1.tmp")).isSymbolicLink()).toBe(true);
    // --json says so too: the report is made after the writes.
    const json = await cli(["fmt", "--write", "--json", stuck], { cwd: dir });
    expect(json.code).toBe(2);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, files: [{ path: stuck, changed: true, written: false }] });
  });

  it.skipIf(!CAN_RUN_UNPRIVILEGED)("--write of a writable file in a folder the user cannot write says the folder is why (the file is replaced, not edited in place) (audit a4 #9)", () => {
    const shared = mkdtempSync(join(tmpdir(), "policyc-fmt-locked-folder-"));
    try {
      writeFileSync(join(shared, "open.policy"), MESSY);
      chmodSync(join(shared, "open.policy"), 0o666);
      chmodSync(shared, 0o555);
      const result = binUnprivileged(["fmt", "--write", "open.policy"], { cwd: shared });
      expect(result).toEqual({
        code: 2,
        stdout: "",
        stderr: "policyc fmt: cannot write `open.policy`: permission denied to create a file in its folder (the file is replaced by a new one written beside it, not edited in place) (left as it was)\n0 files formatted, 0 unchanged, 1 could not be written\n",
      });
      expect(readFileSync(join(shared, "open.policy"), "utf8")).toBe(MESSY);
    } finally {
      chmodSync(shared, 0o755);
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it.skipIf(!CAN_RUN_UNPRIVILEGED)("--write refuses a file the user cannot write (read-only, or another user's), though its folder is writable: reported, left as it was with its owner, exit 2", () => {
    const shared = mkdtempSync(join(tmpdir(), "policyc-fmt-shared-"));
    try {
      chmodSync(shared, 0o777); // anyone may create and rename files here
      writeFileSync(join(shared, "locked.policy"), MESSY);
      chmodSync(join(shared, "locked.policy"), 0o444);
      writeFileSync(join(shared, "theirs.policy"), MESSY);
      // Writable by its owner alone: root, when the suite runs as root and policyc as nobody (as
      // another user, policyc cannot be run without root, so then the file is read-only too).
      chmodSync(join(shared, "theirs.policy"), process.getuid?.() === 0 ? 0o644 : 0o444);
      writeFileSync(join(shared, "open.policy"), MESSY);
      chmodSync(join(shared, "open.policy"), 0o666);
      const owner = statSync(join(shared, "theirs.policy")).uid;
      const result = binUnprivileged(["fmt", "--write", "locked.policy", "open.policy", "theirs.policy"], { cwd: shared });
      expect(result).toEqual({
        code: 2,
        stdout: "open.policy\n",
        stderr: "policyc fmt: cannot write `locked.policy`: permission denied (left as it was)\npolicyc fmt: cannot write `theirs.policy`: permission denied (left as it was)\n1 file formatted, 0 unchanged, 2 could not be written\n",
      });
      for (const name of ["locked.policy", "theirs.policy"]) {
        expect(readFileSync(join(shared, name), "utf8")).toBe(MESSY);
        expect(statSync(join(shared, name)).uid).toBe(owner);
      }
      expect(readFileSync(join(shared, "open.policy"), "utf8")).toBe(CANONICAL);
      expect(readdirSync(shared).sort()).toEqual(["locked.policy", "open.policy", "theirs.policy"]);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it("--write refuses a read-only file (no write permission for anyone) also as root, which the system lets write it: reported, left as it was, the others written, exit 2 (audit s15 #5)", async () => {
    // The suite runs as root in CI containers: this test then covers what `access` alone missed.
    writeFileSync(join(dir, "ro.policy"), MESSY);
    chmodSync(join(dir, "ro.policy"), 0o444);
    writeFileSync(join(dir, "rw.policy"), MESSY);
    const result = await cli(["fmt", "--write", "ro.policy", "rw.policy"], { cwd: dir });
    expect(result).toEqual({ code: 2, stdout: "rw.policy\n", stderr: "policyc fmt: cannot write `ro.policy`: permission denied (left as it was)\n1 file formatted, 0 unchanged, 1 could not be written\n" });
    expect(readFileSync(join(dir, "ro.policy"), "utf8")).toBe(MESSY);
    expect(statSync(join(dir, "ro.policy")).mode & 0o777).toBe(0o444);
    expect(readFileSync(join(dir, "rw.policy"), "utf8")).toBe(CANONICAL);
    // Writable by its owner alone is writable (by the owner, or by root).
    chmodSync(join(dir, "ro.policy"), 0o644);
    expect((await cli(["fmt", "--write", "ro.policy"], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(dir, "ro.policy"), "utf8")).toBe(CANONICAL);
  });

  it("leaves a file with syntax errors alone and reports it (exit 1)", async () => {
    const broken = "policy p {\n  allow when true\n}\n";
    writeFileSync(join(dir, "broken.policy"), broken);
    const result = await cli(["fmt", "--write", "broken.policy"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain("broken.policy:2:9: error[PC103]");
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/\n0 files formatted, 0 unchanged\n$/);
    expect(readFileSync(join(dir, "broken.policy"), "utf8")).toBe(broken);
  });

  it("leaves a call with `within` given twice alone (PC107), rather than printing the second window as an argument (audit s15 #3); moves one written before the pattern to the end", async () => {
    const twice = "tool email.send { risk low }\npolicy p {\n  deny email.send when session.count(within 10m, within 1m) > 3\n}\n";
    writeFileSync(join(dir, "twice.policy"), twice);
    const result = await cli(["fmt", "--write", "twice.policy"], { cwd: dir });
    expect([result.code, result.stdout]).toEqual([1, ""]);
    expect(result.stderr).toContain("twice.policy:3:50: error[PC107]: `within` is given twice in this call");
    expect(readFileSync(join(dir, "twice.policy"), "utf8")).toBe(twice);
    expect(fmt("tool email.send { risk low }\npolicy p {\n  deny email.send when session.count(within 10m, email.*) > 3\n}\n")).toContain("    when session.count(email.*, within 10m) > 3\n");
  });

  it("prints errors on stderr, so stdout stays the list CI reads (--check) or the formatted text, headed by its path when several files were given", async () => {
    writeFileSync(join(dir, "broken.policy"), "policy p {\n  allow when true\n}\n");
    writeFileSync(join(dir, "messy2.policy"), "tool   kb.search {}\n");
    const check = await cli(["fmt", "--check", "broken.policy", "messy2.policy"], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toBe("messy2.policy\n");
    expect(check.stderr).toContain("broken.policy:2:9: error[PC103]");
    const print = await cli(["fmt", "broken.policy", "messy2.policy"], { cwd: dir });
    expect(print.code).toBe(1);
    expect(print.stdout).toBe("// messy2.policy\ntool kb.search {}\n\n");
    expect(print.stderr).toContain("broken.policy:2:9: error[PC103]");
  });

  it("refuses --check with --write, and unreadable paths, with exit 2", async () => {
    expect((await cli(["fmt", "--check", "--write", "a.policy"], { cwd: dir })).code).toBe(2);
    const missing = await cli(["fmt", "nope.policy"], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(missing.stdout + missing.stderr).toContain("PC001");
  });

  it("--json reports per file", async () => {
    const result = await cli(["fmt", "--check", "--json", "a.policy", "ok.policy"], { cwd: dir });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { ok: boolean; files: { path: string; changed: boolean }[] };
    expect(report.ok).toBe(false);
    expect(report.files).toEqual([
      { path: "a.policy", changed: true, firstChangedLine: 2 },
      { path: "ok.policy", changed: false },
    ]);
  });

  it("--json lists syntax errors and path problems in `diagnostics` (as check --json does), and prints them on stderr too (docs/cli.md)", async () => {
    writeFileSync(join(dir, "broken-json.policy"), "policy p {\n  allow when true\n}\n");
    const result = await cli(["fmt", "--json", "broken-json.policy", "ok.policy"], { cwd: dir });
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { ok: boolean; files: { path: string }[]; diagnostics: unknown[] };
    expect(report.ok).toBe(false);
    expect(report.files.map((f) => f.path)).toEqual(["ok.policy"]);
    expect(report.diagnostics).toEqual([
      { code: "PC103", severity: "error", message: "expected a tool name or pattern after `allow`, found `when`", file: "broken-json.policy", line: 2, column: 9, end: { line: 2, column: 13 } },
    ]);
    expect(result.stderr).toContain("broken-json.policy:2:9: error[PC103]");
    const clean = await cli(["fmt", "--json", "ok.policy"], { cwd: dir });
    expect(JSON.parse(clean.stdout)).toMatchObject({ ok: true, diagnostics: [] });
    expect(clean.stderr).toBe("");
    const missing = await cli(["fmt", "--json", "nope.policy"], { cwd: dir });
    expect(missing.code).toBe(2);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, files: [], diagnostics: [{ code: "PC001", file: "nope.policy", line: null }] });
  });

  it("--write never rewrites the file behind standard input, by any of its names (review rx #4)", () => {
    const bin = join(import.meta.dirname, "../../bin/policyc.js");
    writeFileSync(join(dir, "behind.policy"), MESSY);
    for (const path of ["/dev/stdin", "/dev/fd/0", "behind.policy"]) {
      const input = openSync(join(dir, "behind.policy"), "r");
      const result = spawnSync(process.execPath, [bin, "fmt", "--write", path], { cwd: dir, stdio: [input, "pipe", "pipe"], encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      closeSync(input);
      expect(result.status, path).toBe(2);
      expect(result.stderr).toMatch(/^policyc fmt: --write rewrites files in place, but `.*` is (standard input, not a file it can rewrite|also what standard input reads)/);
      expect(readFileSync(join(dir, "behind.policy"), "utf8")).toBe(MESSY);
    }
    // Not redirected from it, the file is rewritten as usual.
    expect(spawnSync(process.execPath, [bin, "fmt", "--write", "behind.policy"], { cwd: dir, stdio: ["ignore", "pipe", "pipe"], encoding: "utf8" }).status).toBe(0);
    expect(readFileSync(join(dir, "behind.policy"), "utf8")).toBe(CANONICAL);
  });

  it("`-` formats standard input (an editor's format-on-save): printed on stdout, `--check -` exits 1 when it would change, `--write -` is bad usage; named `standard input`, as every message names it (review a4 F10)", async () => {
    expect(await cli(["fmt", "-"], { cwd: dir, stdin: MESSY })).toEqual({ code: 0, stdout: CANONICAL, stderr: "" });
    expect(bin(["fmt", "-"], { cwd: dir, stdin: MESSY })).toEqual({ code: 0, stdout: CANONICAL, stderr: "" }); // the process's own standard input
    expect(await cli(["fmt", "--check", "-"], { cwd: dir, stdin: MESSY })).toEqual({ code: 1, stdout: "standard input\n", stderr: "1 file is not formatted; `policyc fmt -` prints it formatted\n" });
    expect(await cli(["fmt", "--check", "-"], { cwd: dir, stdin: CANONICAL })).toEqual({ code: 0, stdout: "", stderr: "" });
    const write = await cli(["fmt", "--write", "-"], { cwd: dir, stdin: MESSY });
    expect(write).toEqual({ code: 2, stdout: "", stderr: "policyc fmt: --write rewrites files in place, and `-` is standard input: without --write the formatted text is printed on standard output\n" });
    expect(JSON.parse((await cli(["fmt", "--json", "-"], { cwd: dir, stdin: MESSY })).stdout)).toEqual({ ok: true, files: [{ path: "standard input", changed: true, formatted: CANONICAL }], excluded: [], diagnostics: [] });
    // Errors name it; nothing is printed on stdout, so an editor keeps its buffer.
    const broken = await cli(["fmt", "-"], { cwd: dir, stdin: "tool t {risk low\n" });
    expect(broken.code).toBe(1);
    expect(broken.stdout).toBe("");
    expect(broken.stderr).toContain("standard input:1:17: error[PC103]: ");
    // Read as a file is: empty, or not UTF-8, is unreadable input (exit 2).
    expect(await cli(["fmt", "-"], { cwd: dir, stdin: "" })).toMatchObject({ code: 2, stdout: "", stderr: expect.stringContaining("standard input: error[PC006]: `standard input` is empty") });
    expect(await cli(["fmt", "-"], { cwd: dir, stdin: Buffer.from([0xff, 0xfe, 0x74, 0x00]) })).toMatchObject({ code: 2, stderr: expect.stringContaining("standard input: error[PC002]: `standard input` is UTF-16 text, not UTF-8") });
    // Beside files, first, headed by its name as each file is.
    writeFileSync(join(dir, "beside.policy"), CANONICAL);
    expect(await cli(["fmt", "-", "beside.policy"], { cwd: dir, stdin: MESSY })).toEqual({ code: 0, stdout: `// standard input\n${CANONICAL}\n// beside.policy\n${CANONICAL}\n`, stderr: "" });
    expect(await cli(["fmt", "--check", "beside.policy", "-"], { cwd: dir, stdin: MESSY })).toMatchObject({ code: 1, stdout: "standard input\n" });
  });

  it("a file named `standard input` is an ordinary file: `--check` advises --write for it, and `-` beside it is still standard input (review r3 R2)", async () => {
    const folder = join(dir, "named-standard-input");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "standard input"), MESSY);
    expect(await cli(["fmt", "--check", "standard input"], { cwd: folder })).toEqual({ code: 1, stdout: "standard input\n", stderr: "1 file is not formatted; run `policyc fmt --write`\n" });
    expect(await cli(["fmt", "--check", "-", "standard input"], { cwd: folder, stdin: CANONICAL })).toEqual({ code: 1, stdout: "standard input\n", stderr: "1 file is not formatted; run `policyc fmt --write`\n" });
    expect(await cli(["fmt", "--check", "-", "standard input"], { cwd: folder, stdin: MESSY })).toEqual({ code: 1, stdout: "standard input\nstandard input\n", stderr: "2 files are not formatted; run `policyc fmt --write`\n" });
    const formatted = await cli(["fmt", "--check", "--", "-"], { cwd: folder, stdin: MESSY });
    expect(formatted.stderr).toBe("1 file is not formatted; `policyc fmt -` prints it formatted\n");
  });

  it("--check --reporter tap|junit: standard input and a file named `standard input` are two test cases, each failing for itself", async () => {
    const folder = join(dir, "named-standard-input-ci");
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, "standard input"), CANONICAL);
    const tap = await cli(["fmt", "--check", "--reporter", "tap", "-", "standard input"], { cwd: folder, stdin: MESSY });
    expect(tap.code).toBe(1);
    expect(tap.stdout).toMatch(/^1\.\.2$/m);
    expect(tap.stdout).toMatch(/^not ok 1 - standard input\n {2}---\n {2}message: "standard input is not formatted: /m);
    expect(tap.stdout).toMatch(/^ok 2 - standard input$/m);
    // The file fails for itself, with syntax errors (PC103 at its first line), standard input passes.
    writeFileSync(join(folder, "standard input"), "policy {\n");
    const junit = await cli(["fmt", "--check", "--reporter", "junit", "-", "standard input"], { cwd: folder, stdin: CANONICAL });
    expect(junit.code).toBe(1);
    expect(junit.stdout).toContain('tests="2" failures="1"');
    expect(junit.stdout).toContain('<testcase classname="policyc fmt" name="standard input"/>');
    expect(junit.stdout).toMatch(/<testcase classname="policyc fmt" name="standard input" file="standard input" line="1">\n {6}<failure message="[^"]*" type="PC1/);
  });

  it("formats `.policy` files of a folder in any letter case, and names a `NAME.policy.txt` it does not read (PC007, a warning: exit 0, `ok` true)", async () => {
    mkdirSync(join(dir, "cased"));
    writeFileSync(join(dir, "cased", "Deny.Policy"), CANONICAL);
    writeFileSync(join(dir, "cased", "deny.policy.txt"), MESSY);
    const result = await cli(["fmt", "--check", "cased"], { cwd: dir });
    expect(result).toEqual({ code: 0, stdout: "", stderr: "cased/deny.policy.txt: warning[PC007]: `cased/deny.policy.txt` is not read: a policy file must end in `.policy`\n = help: if it holds policies, rename it to `deny.policy`\n\n0 errors, 1 warning\n" });
    const json = JSON.parse((await cli(["fmt", "--json", "--check", "cased"], { cwd: dir })).stdout) as { ok: boolean; files: { path: string }[]; diagnostics: { code: string }[] };
    expect(json).toMatchObject({ ok: true, files: [{ path: "cased/Deny.Policy" }], diagnostics: [{ code: "PC007" }] });
  });
});

describe("formatting keeps comments", () => {
  it("plain, trailing, block and doc comments, in place", () => {
    const text = [
      "// file header",
      "",
      "/// The zones.",
      "enum Zone { a, b } // trailing on a declaration",
      "",
      "/* a block",
      "   comment */",
      "agent {",
      "  /// the team",
      "  team: string // trailing on a field",
      "  // before the last field",
      "  zone: Zone",
      "}",
      "",
      "tool t.x {",
      "  risk low // why low",
      "  args {",
      "    a: string",
      "    b?: int // optional because",
      "  }",
      "}",
      "",
      "policy p {",
      "  /// Rule docs.",
      '  @name("n") // after an annotation',
      "  deny t.x // after the targets",
      "    when agent.team == \"x\" // after when",
      '    reason "r" // after reason',
      "",
      "  // between rules",
      "  allow t.x",
      "  // at the end of the policy",
      "}",
      "// at the end of the file",
      "",
    ].join("\n");
    const formatted = fmt(text);
    expect(commentsOf(formatted)).toEqual(commentsOf(text));
    expect(formatted).toContain("/// The zones.\nenum Zone { a, b } // trailing on a declaration");
    expect(formatted).toContain("  team: string // trailing on a field");
    expect(formatted).toContain("  risk low // why low");
    expect(formatted).toContain("    b?: int // optional because");
    expect(formatted).toContain('    when agent.team == "x" // after when');
    expect(formatted.endsWith("// at the end of the file\n")).toBe(true);
    expectRoundTrip(text, "comments");
    const docs = parse(formatted).ast.declarations.flatMap((d) => (d.kind === "PolicyDecl" ? d.rules.map((r) => r.docs) : [d.docs]));
    expect(docs).toContainEqual(["Rule docs."]);
    expect(docs).toContainEqual(["The zones."]);
  });

  it("is idempotent on the contract's text", () => {
    expectRoundTrip(DECLS, "decls");
    expectRoundTrip(CONTRACT_POLICY, "contract policy");
    expect(fmt(fmt(CONTRACT_POLICY))).toBe(fmt(CONTRACT_POLICY));
  });

  it("breaks long conditions at top-level `and`/`or` and keeps them parseable", () => {
    const long = `policy p {\n  deny * when ${Array.from({ length: 12 }, (_, i) => `agent.attribute_${i} == "value ${i}"`).join(" and ")}\n}\n`;
    const formatted = fmt(long);
    expect(Math.max(...formatted.split("\n").map((l) => l.length))).toBeLessThanOrEqual(100);
    expectRoundTrip(long, "long");
  });

  it("keeps parentheses and string escapes", () => {
    const text = 'policy p {\n  deny * when (a or b) and c == "q\\"\\\\\\n\\u00e9"\n}\n';
    expect(fmt(text)).toContain('when (a or b) and c == "q\\"\\\\\\né"');
    expectRoundTrip(text, "escapes");
  });
});

/** Every `.policy` file under a folder, recursively. */
function policyFiles(root: string): string[] {
  if (!existsSync(root)) return [];
  const out: string[] = [];
  for (const entry of readdirSync(root, { withFileTypes: true })) {
    const path = join(root, entry.name);
    if (entry.isDirectory()) out.push(...policyFiles(path));
    else if (entry.name.endsWith(".policy")) out.push(path);
  }
  return out.sort();
}

describe("list literals one element a line (audit s20 a1 M3)", () => {
  const TOOL = "tool shell.exec { args { cmd: string, dir: string } }\n\n";

  it("keeps a list written one element a line so, each element's comment after it", () => {
    const text = `${TOOL}policy p { // coding agent\n  allow shell.exec\n    when args.cmd in [\n      "npm test",      // unit tests\n      "npm run lint",  // linter\n      "npm run build"  // build\n    ]\n}\n`;
    expect(fmt(text)).toBe(
      'tool shell.exec {\n  args { cmd: string, dir: string }\n}\n\npolicy p { // coding agent\n  allow shell.exec\n    when args.cmd in [\n      "npm test", // unit tests\n      "npm run lint", // linter\n      "npm run build" // build\n    ]\n}\n',
    );
    expectRoundTrip(text, "allow-list");
  });

  it("breaks the widest list of a line wider than 100 columns, and a list on one line that fits stays so", () => {
    const commands = ["npm test", "npm run lint", "npm run build", "npm run typecheck", "git status", "git diff", "git log --oneline", "ls -la"];
    const text = `${TOOL}policy p {\n  allow shell.exec when args.cmd in [${commands.map((c) => JSON.stringify(c)).join(", ")}] and args.dir in ["/a", "/b"]\n}\n`;
    const formatted = fmt(text);
    expect(formatted).toContain(`    when args.cmd in [\n${commands.map((c) => `      ${JSON.stringify(c)}`).join(",\n")}\n    ]\n     and args.dir in ["/a", "/b"]\n`);
    expect(Math.max(...formatted.split("\n").map((line) => line.length))).toBeLessThanOrEqual(100);
    expectRoundTrip(text, "long list");
    expect(fmt(`${TOOL}policy p {\n  allow shell.exec when args.cmd in ["a", "b"]\n}\n`)).toContain('    when args.cmd in ["a", "b"]\n');
  });

  it("keeps comments on lines of their own between elements, and a list inside a broken one on its element's line", () => {
    expectRoundTrip(`${TOOL}policy p {\n  allow shell.exec\n    when args.cmd in [ // the safe ones\n      "npm test",\n      // linting\n      "npm run lint"\n    ] and args.dir == "/repo"\n}\n`, "comment between elements");
    // fast-check's counterexample: an inner list broken for width made the outer ones look written so on the next run.
    expectRoundTrip(`policy context {\n  allow agent.a when not [] or not agent.size([[[session.called(*), "*@acme.com"]]] or agent.size() == agent.size()) has tools or []\n}\nintent a.a {\n  tools a.a\n}\n`, "nested lists");
  });
});

describe("list breaking, review r1 (LOW 3, LOW 4)", () => {
  const TOOL = "tool shell.exec { args { cmd: string, parts: list<list<string>> } }\n\n";

  it("breaks only a list whose own line is too wide: a line wide with the `or`s of many short lists keeps them (the breaking was quadratic)", () => {
    const lists = Array.from({ length: 300 }, (_, i) => `args.cmd in ["c${i}a", "c${i}b"]`).join(" or ");
    const text = `${TOOL}policy p {\n  allow shell.exec\n    when args.cmd == "x" and (${lists})\n}\n`;
    const formatted = fmt(text);
    // Breaking every small list to make the line fit printed 900 lines, and reprinted the line once per list.
    expect(formatted.split("\n").length).toBeLessThan(15);
    expectRoundTrip(text, "many short lists");
    // A list that makes its own line too wide is still broken, and the list beside it is not.
    const wide = `["${"a".repeat(71)}", "b"]`;
    expect(fmt(`${TOOL}policy p {\n  allow shell.exec when args.cmd in ${wide} or args.cmd in ["c", "d"]\n}\n`)).toContain(
      `    when args.cmd in [\n      "${"a".repeat(71)}",\n      "b"\n    ]\n      or args.cmd in ["c", "d"]\n`,
    );
  });

  it("keeps a list written one element a line inside an element of a broken list so, each comment with its element", () => {
    const text = `${TOOL}policy p {\n  allow shell.exec\n    when args.parts == [\n      [\n        "x", // inner x\n        "y"  // inner y\n      ],\n      ["z"] // z\n    ]\n}\n`;
    expect(fmt(text)).toContain('    when args.parts == [\n      [\n        "x", // inner x\n        "y" // inner y\n      ],\n      ["z"] // z\n    ]\n');
    expectRoundTrip(text, "nested allow-list");
    // An inner list written on one line stays on one line.
    expect(fmt(`${TOOL}policy p {\n  allow shell.exec\n    when args.parts == [\n      ["x", "y"], // xy\n      ["z"]\n    ]\n}\n`)).toContain('      ["x", "y"], // xy\n');
  });
});

describe("a heading's blank line inside a rule (review r1 LOW 5)", () => {
  it("is kept only above a declaration or a rule: not between an annotation and its effect, nor between the effect and `when`", () => {
    const text = "tool a.x {}\n\npolicy p {\n  @name(\"r1\")\n  // owner: infra\n\n  allow a.x\n    // checked below\n\n    when 1 == 1\n\n  // ===== Outbound =====\n\n  @name(\"r2\")\n  deny a.x\n}\n";
    expect(fmt(text)).toBe("tool a.x {}\n\npolicy p {\n  @name(\"r1\")\n  // owner: infra\n  allow a.x\n    // checked below\n    when 1 == 1\n\n  // ===== Outbound =====\n\n  @name(\"r2\")\n  deny a.x\n}\n");
    expectRoundTrip(text, "heading inside a rule");
  });
});

describe("a section heading's blank line (audit s20 a1 L1)", () => {
  it("is kept below a heading comment, at the top level and inside a policy, and fmt is idempotent there", () => {
    const text = "tool a.x {}\ntool b.y {}\n\n// ===== Declarations above, policies below =====\n\npolicy p {\n  allow a.x\n\n  // ===== Outbound =====\n\n  deny b.y\n}\n";
    expect(fmt(text)).toBe("tool a.x {}\n\ntool b.y {}\n\n// ===== Declarations above, policies below =====\n\npolicy p {\n  allow a.x\n\n  // ===== Outbound =====\n\n  deny b.y\n}\n");
    expectRoundTrip(text, "headings");
    // A comment right above its line stays so; a comment moved out of a line is no heading.
    expect(fmt("tool a.x {}\n\n// about p\npolicy p {\n  allow a.x\n}\n")).toContain("// about p\npolicy p {");
    expect(fmt('tool a.b {}\npolicy p {\n  allow a.b\n\n  @ /* c0\n     multi */ name("x")\n  deny a.b\n}\n')).toContain('  /* c0\n   multi */\n  @name("x")\n');
  });
});

describe("block comments over several lines", () => {
  it("move as one block, keeping their lines' relative indentation, and print the same the second time", () => {
    const text = "tool kb.search {}\n\npolicy p {\n  /* first\nsecond\n    indented\n\n   */\n  allow kb.search\n    /*\n\t * tabbed\r\n     */\n  allow kb.search when true\n}\n";
    expectRoundTrip(text, "block.policy");
    const formatted = fmt(text);
    expect(formatted).toContain("  /* first\n   second\n       indented\n\n      */\n");
    expect(formatted).not.toMatch(/[ \t]+\n/); // no trailing blanks, even on a comment's empty line
  });
});

describe("parse(fmt(x)) gives the AST of parse(x)", () => {
  const samples = policyFiles(join(ROOT, "samples"));
  it.runIf(samples.length > 0).each(samples.map((path) => ({ name: relative(ROOT, path), path })))("$name", ({ name, path }) => {
    expectRoundTrip(readFileSync(path, "utf8"), name);
  });

  const conformance = HAS_CONFORMANCE ? policyFiles(CONFORMANCE).filter((path) => !hasErrors(parse(readFileSync(path, "utf8")).diagnostics)) : [];
  it.runIf(conformance.length > 0).each(conformance.map((path) => ({ name: relative(CONFORMANCE, path), path })))("conformance $name", ({ name, path }) => {
    expectRoundTrip(readFileSync(path, "utf8"), name);
  });

  it("for generated policies (property)", () => {
    fc.assert(
      fc.property(policyText, (text) => {
        // The generator only writes valid syntax; a failure here is a generator bug, said plainly.
        const parsed = parse(text);
        if (hasErrors(parsed.diagnostics)) throw new Error(`generated text does not parse: ${parsed.diagnostics[0]!.message}\n${text}`);
        expectRoundTrip(text, "generated");
      }),
      { numRuns: 200 },
    );
  });
});

describe("comments between a declaration's name and its `{`", () => {
  const cases = [
    ["enum Zone /* c */ { a, b }\n", "enum Zone { a, b } /* c */\n"],
    ["enum Zone /* c */ { a, /* d */ b }\n", "enum Zone { /* c */\n  a, /* d */\n  b\n}\n"],
    ["type T\n// c\n{ a: int }\n", "// c\ntype T { a: int }\n"],
    ["agent // c\n{ team: string }\n", "agent { // c\n  team: string\n}\n"],
    ["tool kb.search /* legacy */ {}\n", "tool kb.search {} /* legacy */\n"],
    ["tool kb.search // legacy\n{}\n", "tool kb.search {} // legacy\n"],
    ["tool kb.search { args /* c */ { q: string } }\n", "tool kb.search {\n  args { q: string } /* c */\n}\n"],
    ["intent i /* c */ { tools kb.* }\n", "intent i { /* c */\n  tools kb.*\n}\n"],
    ["policy p // owner: sec\n{\n  allow kb.search\n}\n", "policy p { // owner: sec\n  allow kb.search\n}\n"],
  ] as const;
  it.each(cases)("%j", (text, expected) => {
    expect(fmt(text)).toBe(expected);
    expectRoundTrip(text, text);
  });
});

describe("a comment inside a rule's line stays with that rule", () => {
  it("at the end of the line when it was on the same source line", () => {
    const text = 'policy p {\n  allow kb.index grant "a", "b" for /* before dur */ 5m\n  @owner("me") deny kb.index\n}\n';
    expect(fmt(text)).toBe('policy p {\n  allow kb.index\n    grant "a", "b" for 5m /* before dur */\n\n  @owner("me")\n  deny kb.index\n}\n');
    expectRoundTrip(text, "grant");
  });

  it("above the line when it had a line of its own", () => {
    const text = 'policy p {\n  allow kb.index grant "a", "b" for\n    // why five minutes\n    5m\n  deny kb.index when (\n    // why\n    tool == kb.index)\n}\n';
    expect(fmt(text)).toBe('policy p {\n  allow kb.index\n    // why five minutes\n    grant "a", "b" for 5m\n\n  deny kb.index\n    // why\n    when (tool == kb.index)\n}\n');
    expectRoundTrip(text, "own line");
  });
});

describe("a comment written on a rule's last line stays with that rule, below that line (audit s15 #1)", () => {
  /** `text` formats to hold `printed`, its rules documented as `docs`, keeping its AST and comments. */
  function expectPrintedWithDocs(text: string, printed: string, docs: Record<string, string | null>): void {
    expect(fmt(text)).toContain(printed);
    expect(ruleDocs(fmt(text))).toEqual(docs);
    expectRoundTrip(text, text);
  }

  it("a second `//` for one printed line goes below it, not above the next rule (drift-real.policy)", async () => {
    const text = 'tool shell.exec {\n  risk high\n  args { command: string }\n}\n\npolicy shell {\n  deny shell.exec\n    when args.command.startsWith( // destructive commands\n      "rm -rf") // keep until INC-42 is closed\n\n  allow shell.exec\n}\n';
    const expected = 'tool shell.exec {\n  risk high\n  args { command: string }\n}\n\npolicy shell {\n  deny shell.exec\n    when args.command.startsWith("rm -rf") // destructive commands\n    // keep until INC-42 is closed\n\n  allow shell.exec\n}\n';
    expect(fmt(text)).toBe(expected);
    expect(fmt(expected)).toBe(expected);
    expectRoundTrip(text, "drift-real");
    writeFileSync(join(dir, "drift-real.policy"), text);
    expect(await cli(["fmt", "--write", "drift-real.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "drift-real.policy\n", stderr: "1 file formatted, 0 unchanged\n" });
    expect(readFileSync(join(dir, "drift-real.policy"), "utf8")).toBe(expected);
    expect(await cli(["fmt", "--check", "drift-real.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("so does a comment after a `//` inside the rule's tokens (drift4.policy), and one below a documented rule's targets", () => {
    const text = "policy p {\n  deny email.send, // outbound mail\n    crm.export /* bulk export */\n  deny kb.search\n}\n";
    const expected = "policy p {\n  deny email.send, crm.export // outbound mail\n    /* bulk export */\n\n  deny kb.search\n}\n";
    expect(fmt(text)).toBe(expected);
    expect(fmt(expected)).toBe(expected);
    expectRoundTrip(text, "drift4");
    const documented = "tool kb.search {}\ntool kb.article {}\npolicy p {\n  /// Last.\n  deny kb.search,\n    // why\n    kb.article\n  allow kb.search\n}\n";
    expectPrintedWithDocs(documented, "  /// Last.\n  deny kb.search, kb.article\n    // why\n\n  allow kb.search\n", { "p/1": "Last.", "p/2": null });
  });

  it("plain comments right below a rule, with a blank line after them, stay below it; with none, or after a blank line, they go above the next rule, as before", () => {
    const hugging = "policy p {\n  deny a\n    when tool == a // why\n    // see INC-42\n\n  // about b\n  deny b\n}\n";
    expect(fmt(hugging)).toBe(hugging);
    expect(fmt("policy p {\n  deny a\n  // about b\n  deny b\n}\n")).toBe("policy p {\n  deny a\n\n  // about b\n  deny b\n}\n");
    expect(fmt("policy p {\n  deny a\n\n  // about b\n  deny b\n}\n")).toBe("policy p {\n  deny a\n\n  // about b\n  deny b\n}\n");
    // A `///` there documents the next rule: it stays above it.
    expect(fmt("policy p {\n  deny a\n  /// b\n\n  deny b\n}\n")).toBe("policy p {\n  deny a\n\n  /// b\n  deny b\n}\n");
  });

  it("and at a declaration's end: a second comment goes below it, at the margin", () => {
    const text = "tool t // c1\n{} // c2\ntool u {}\n";
    expect(fmt(text)).toBe("tool t {} // c1\n// c2\n\ntool u {}\n");
    expectRoundTrip(text, "declaration");
  });

  it("a block comment that starts on a rule's last line and spans lines stays below it, with or without a blank line before the next rule (review r1 #1: ml.policy)", async () => {
    const decls = "tool a.b { risk low }\ntool c.d { risk low }\n\n";
    const text = `${decls}policy p {\n  deny a.b /* about a.b:\n     do not relax */\n  allow c.d\n}\n`;
    const expected = "tool a.b {\n  risk low\n}\n\ntool c.d {\n  risk low\n}\n\npolicy p {\n  deny a.b\n    /* about a.b:\n     do not relax */\n\n  allow c.d\n}\n";
    expect(fmt(text)).toBe(expected);
    expect(fmt(expected)).toBe(expected);
    expect(fmt(text.replace("relax */\n", "relax */\n\n"))).toBe(expected);
    expectRoundTrip(text, "ml");
    writeFileSync(join(dir, "ml.policy"), text);
    expect(await cli(["fmt", "--write", "ml.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "ml.policy\n", stderr: "1 file formatted, 0 unchanged\n" });
    expect(readFileSync(join(dir, "ml.policy"), "utf8")).toBe(expected);
    expect(await cli(["fmt", "--check", "ml.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "", stderr: "" });
    // What follows it on the line where it ends was written there too; a `///` there documents the next rule.
    const thenPlain = "policy p {\n  deny a /* m\n  */ // n\n  allow c\n}\n";
    expect(fmt(thenPlain)).toBe("policy p {\n  deny a\n    /* m\n     */\n    // n\n\n  allow c\n}\n");
    expectRoundTrip(thenPlain, "then plain");
    const thenDoc = "tool a {}\ntool c {}\npolicy p {\n  deny a /* m\n  */ /// about c\n  allow c\n}\n";
    expectPrintedWithDocs(thenDoc, "  deny a\n    /* m\n     */\n\n  /// about c\n  allow c\n", { "p/1": null, "p/2": "about c" });
  });

  it("below a policy's last rule too, at the clause indent, not at the `}`'s (audit a3 LOW-1: blk3.policy); a comment at the rule's indent, or after a blank line, stays above the `}`", async () => {
    const text = "policy p {\n  allow a.b when true /* one\n     two */\n}\ntool a.b {}\n";
    const expected = "policy p {\n  allow a.b\n    when true\n    /* one\n     two */\n}\n\ntool a.b {}\n";
    expect(fmt(text)).toBe(expected);
    expect(fmt(expected)).toBe(expected);
    expectRoundTrip(text, "blk3");
    writeFileSync(join(dir, "blk3.policy"), text);
    expect(await cli(["fmt", "--write", "blk3.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "blk3.policy\n", stderr: "1 file formatted, 0 unchanged\n" });
    expect(await cli(["fmt", "--check", "blk3.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "", stderr: "" });
    // Right below the rule and indented deeper than it, a comment is the rule's; at its indent, or after a blank line, the policy's.
    const deeper = "policy p {\n  allow a.b\n    when true\n    // about the when\n}\n";
    expect(fmt(deeper)).toBe(deeper);
    for (const policyLevel of ["policy p {\n  allow a.b\n    when true\n  // end of the rules\n}\n", "policy p {\n  allow a.b\n    when true\n\n  // end of the rules\n}\n"]) {
      expect(fmt(policyLevel)).toBe(policyLevel);
      expectRoundTrip(policyLevel, policyLevel);
    }
    // A tab is as deep as it looks (to the next multiple of 8 columns), not one column: below a rule indented with spaces, it is deeper.
    expect(fmt("policy p {\n  allow a.b\n    when true\n\t// tab-indented\n}\n")).toBe("policy p {\n  allow a.b\n    when true\n    // tab-indented\n}\n");
    expect(fmt("policy p {\n\tallow a.b\n\t\twhen true\n    // shallower than the tab\n}\n")).toBe("policy p {\n  allow a.b\n    when true\n  // shallower than the tab\n}\n");
    expect(fmt("policy p {\n  allow a.b when true\n\n    // after a blank line\n}\n")).toBe("policy p {\n  allow a.b\n    when true\n\n  // after a blank line\n}\n");
    // A `///` there documents nothing, below the rule or above the `}`: it stays above the `}`, as before.
    expect(fmt("policy p {\n  allow a.b when true // one\n    /// two\n}\n")).toBe("policy p {\n  allow a.b\n    when true // one\n  /// two\n}\n");
  });

  it("so does one at a declaration's end (mld.policy), and one on the last line of a rule whose `///` has a comment inside its targets", () => {
    const declaration = "tool a.b { risk low } /* about a.b:\n  keep */\ntool c.d { risk low }\n";
    expect(fmt(declaration)).toBe("tool a.b {\n  risk low\n}\n/* about a.b:\n keep */\n\ntool c.d {\n  risk low\n}\n");
    expectRoundTrip(declaration, "mld");
    const documented = "tool kb.search {}\ntool kb.article {}\npolicy p {\n  /// Last.\n  deny kb.search,\n    // why\n    kb.article /* see\n      INC-7 */\n  allow kb.search\n}\n";
    expectPrintedWithDocs(documented, "  /// Last.\n  deny kb.search, kb.article\n    // why\n    /* see\n     INC-7 */\n\n  allow kb.search\n", { "p/1": "Last.", "p/2": null });
  });

  it("plain comments on the lines of a rule with a `///` inside its targets stay below it too, the `///` with them while a plain one follows it (review r1 #2: d1.policy)", () => {
    const decls = "tool kb.search { risk low }\ntool crm.lookup { risk low }\n\n";
    const text = `${decls}policy p {\n  allow kb.search, // first\n    /// stray doc\n    crm.lookup // tail\n\n  deny crm.lookup\n}\n`;
    expectPrintedWithDocs(text, "  allow kb.search, crm.lookup\n    // first\n    /// stray doc\n    // tail\n\n  deny crm.lookup\n", { "p/1": null, "p/2": null });
    // Last below the rule, the `///` would document the next one: the file stays as it is (PC110), as before.
    const last = `${decls}policy p {\n  allow kb.search, // first\n    /// stray doc\n    crm.lookup\n\n  deny crm.lookup\n}\n`;
    const parsed = parse(last, "t.policy");
    expect(formatSource(parsed.ast, last, [...parsed.comments, ...parsed.docComments]).diagnostics.map((d) => d.code)).toEqual(["PC110"]);
  });

  it("for comments on a rule's own source lines, inserted after any token (property): each is printed in its rule's paragraph, and fmt(fmt(x)) == fmt(x)", () => {
    const sameLine = [" // cN\n", " /* cN */ ", " /* cN\n     multi */ "];
    const inserts = fc.array(fc.tuple(fc.nat(), fc.nat({ max: sameLine.length - 1 })), { minLength: 1, maxLength: 6 });
    // Also with no blank line between rules, as rules are often written.
    const policies = [CONTRACT_POLICY, CONTRACT_POLICY.replace(/\n\n/g, "\n")];
    fc.assert(
      fc.property(fc.constantFrom(...policies), inserts, (policy, chosen) => {
        const tokens = policyLexer.tokenize(policy).tokens;
        const rules = (parse(policy).ast.declarations[0] as PolicyDecl).rules;
        let text = policy;
        const owners = new Map<string, number>();
        // One comment per token: a second one after a line comment at the same token would start a
        // line of its own, no longer on the rule's source lines (a layout the property is not about).
        const at = chosen
          .map(([position, kind], n) => ({ token: tokens[position % tokens.length]!, comment: sameLine[kind]!.replace("N", String(n)), n }))
          .filter((insert, i, all) => all.findIndex((other) => other.token === insert.token) === i);
        for (const { token, comment, n } of [...at].sort((a, b) => b.token.startOffset - a.token.startOffset)) {
          text = text.slice(0, token.endOffset! + 1) + comment + text.slice(token.endOffset! + 1);
          const owner = rules.findIndex((r) => r.span.start <= token.startOffset && token.startOffset < r.span.end);
          if (owner >= 0) owners.set(`c${n}`, owner);
        }
        const formatted = fmt(text);
        expect(fmt(formatted), text).toBe(formatted);
        const printed = (parse(formatted).ast.declarations[0] as PolicyDecl).rules;
        for (const [name, owner] of owners) {
          const offset = formatted.search(new RegExp(`\\b${name}\\b`));
          const paragraph = [formatted.lastIndexOf("\n\n", offset), formatted.indexOf("\n\n", offset)];
          const start = printed[owner]!.span.start;
          expect(start > paragraph[0]! && (paragraph[1] === -1 || start < paragraph[1]!), `${name} left rule ${owner + 1}:\n${text}\n---\n${formatted}`).toBe(true);
        }
      }),
      { numRuns: 400 },
    );
  });
});

describe("doc comments", () => {
  it("a `///` after a rule on its line documents the next rule, and is printed above it", () => {
    const text = "tool kb.search {}\ntool kb.index {}\npolicy p {\n  allow kb.search /// trailing doc\n  allow kb.index\n}\n";
    const formatted = fmt(text);
    expect(formatted).toContain("  allow kb.search\n\n  /// trailing doc\n  allow kb.index\n");
    expect(ruleDocs(text)).toEqual({ "p/1": null, "p/2": "trailing doc" });
    expect(ruleDocs(formatted)).toEqual(ruleDocs(text));
    expectRoundTrip(text, "trailing doc");
  });

  it("a `///` that documents nothing stays where it documents nothing", () => {
    const text = 'tool kb.index {}\npolicy p {\n  deny kb.index when tool == kb.index /// doc2\n    reason "r"\n  allow kb.index\n}\n';
    expect(fmt(text)).toBe('tool kb.index {}\n\npolicy p {\n  deny kb.index\n    when tool == kb.index\n    /// doc2\n    reason "r"\n\n  allow kb.index\n}\n');
    expect(ruleDocs(fmt(text))).toEqual({ "p/1": null, "p/2": null });
    expectRoundTrip(text, "no owner");
  });

  it("a `///` after or among a rule's annotations stays there and keeps documenting the rule", () => {
    const text = 'tool kb.index {}\npolicy p {\n  /// before\n  @name("n") /// after the name\n  @owner("sec")\n  /// after the annotations\n  allow kb.index\n}\n';
    const formatted = fmt(text);
    expect(formatted).toBe('tool kb.index {}\n\npolicy p {\n  /// before\n  @name("n")\n  /// after the name\n  @owner("sec")\n  /// after the annotations\n  allow kb.index\n}\n');
    expect(ruleDocs(text)).toEqual({ n: "before\nafter the name\nafter the annotations" });
    expect(ruleDocs(formatted)).toEqual(ruleDocs(text));
    expectRoundTrip(text, "docs among annotations");
  });

  it("a plain comment on its own line inside a documented rule's targets or first annotation goes below that line, so the `///` keeps documenting the rule (was PC110)", async () => {
    const targets = 'tool kb.search {}\ntool kb.article {}\npolicy p {\n  /// Read-only tools.\n  allow kb.search,\n        // internal notes, see SEC-12\n        kb.article\n    when tool == kb.search\n\n  /// Last.\n  deny kb.search,\n    // why\n    kb.article\n}\n';
    expect(fmt(targets)).toBe('tool kb.search {}\n\ntool kb.article {}\n\npolicy p {\n  /// Read-only tools.\n  allow kb.search, kb.article\n    // internal notes, see SEC-12\n    when tool == kb.search\n\n  /// Last.\n  deny kb.search, kb.article\n    // why\n}\n');
    expect(ruleDocs(targets)).toEqual({ "p/1": "Read-only tools.", "p/2": "Last." });
    expect(ruleDocs(fmt(targets))).toEqual(ruleDocs(targets));
    expectRoundTrip(targets, "targets");
    const annotation = 'tool t {}\npolicy p {\n  /// Lets the agent call t.\n  @controls(\n    "OWASP-ASI01",\n    // layer two\n    "MAESTRO-L2"\n  )\n  @name("allow-t")\n  allow t\n}\n';
    expect(fmt(annotation)).toBe('tool t {}\n\npolicy p {\n  /// Lets the agent call t.\n  @controls("OWASP-ASI01", "MAESTRO-L2")\n  // layer two\n  @name("allow-t")\n  allow t\n}\n');
    expect(ruleDocs(fmt(annotation))).toEqual({ "allow-t": "Lets the agent call t." });
    expectRoundTrip(annotation, "annotation");
    writeFileSync(join(dir, "commented-targets.policy"), targets);
    expect(await cli(["fmt", "--write", "commented-targets.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "commented-targets.policy\n", stderr: "1 file formatted, 0 unchanged\n" });
    expect(await cli(["fmt", "--check", "commented-targets.policy"], { cwd: dir })).toEqual({ code: 0, stdout: "", stderr: "" });
  });

  it("PC110 for a `///` inside an annotation: on a line of its own it would document the rule", () => {
    const text = 'tool kb.index {}\npolicy p {\n  @name("n" /// inside\n  )\n  allow kb.index\n}\n';
    expect(ruleDocs(text)).toEqual({ n: null });
    const parsed = parse(text, "t.policy");
    const result = formatSource(parsed.ast, text, [...parsed.comments, ...parsed.docComments]);
    expect(result.text).toBe(text);
    expect(result.diagnostics.map((d) => [d.code, text.slice(d.span!.start, d.span!.end)])).toEqual([["PC110", "/// inside"]]);
  });

  it("PC110 when every place the layout has for a `///` that documents nothing would make it document an item", async () => {
    const text = "tool kb.search {}\npolicy p /// owner: sec\n{\n  allow kb.search\n}\n";
    const parsed = parse(text, "t.policy");
    const result = formatSource(parsed.ast, text, [...parsed.comments, ...parsed.docComments]);
    expect(result.text).toBe(text);
    expect(result.diagnostics.map((d) => [d.code, text.slice(d.span!.start, d.span!.end)])).toEqual([["PC110", "/// owner: sec"]]);
    writeFileSync(join(dir, "stray.policy"), text);
    const check = await cli(["fmt", "--check", "stray.policy"], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stderr).toContain("stray.policy:2:10: error[PC110]");
    const write = await cli(["fmt", "--write", "stray.policy"], { cwd: dir });
    expect(write.code).toBe(1);
    expect(readFileSync(join(dir, "stray.policy"), "utf8")).toBe(text);
  });
});

describe("comments inserted between any two tokens (property)", () => {
  /** Every kind of declaration and rule clause, an empty `args`, a trailing comma. */
  const WIDE = [
    "tool files.read {",
    "  risk high",
    "  returns pii",
    "  args { path: string, size?: int }",
    "}",
    "tool files.list { args {} }",
    "intent files.browse { tools files.* max_risk low }",
    "type Box { w: int, h: int, }",
    "enum Shade { light, dark }",
    "policy extra {",
    '  @owner("sec") @controls("A", "B")',
    "  allow files.read",
    '    when agent.team == "a" and (context.env == "prod" or not agent.attested)',
    '    unless args.path like "/etc/*"',
    '    grant "files:read", "files:list" for 5m',
    '  deny files.read when session.count(within 1m) > 3 reason "slow down" revoke',
    "  ask files.list",
    "}",
    "",
  ].join("\n");

  /** Comments of every kind, laid out every way; `N` becomes a number that tells them apart. */
  const COMMENTS = [" /* cN */ ", "/* cN */", " // cN\n", "\n// cN\n", "\n\n  // cN\n\n", " /* cN\n   more */ ", " /// dN\n", "\n/// dN\n", "\n\n  /// dN\n"];

  /** The text with comments put right after the chosen tokens (index 0: before the first). */
  function withComments(text: string, inserts: readonly (readonly [number, number])[]): string {
    const ends = [0, ...policyLexer.tokenize(text).tokens.map((t) => t.endOffset! + 1)];
    const at = inserts.map(([position, kind], n) => ({ offset: ends[position % ends.length]!, comment: COMMENTS[kind]!.replace("N", String(n)) }));
    let out = text;
    for (const { offset, comment } of [...at].sort((a, b) => b.offset - a.offset)) out = out.slice(0, offset) + comment + out.slice(offset);
    return out;
  }

  /** What compiling keeps of each rule (everything but its source location). */
  function compiledRules(text: string): unknown {
    const { policy, diagnostics } = compileSources([
      { path: "decls.policy", text: DECLS },
      { path: "t.policy", text },
    ]);
    expect(diagnostics.filter((d) => d.severity === "error"), text).toEqual([]);
    return policy!.rules.map(({ location: _location, ...rule }) => rule);
  }

  const inserts = fc.array(fc.tuple(fc.nat(), fc.nat({ max: COMMENTS.length - 1 })), { minLength: 1, maxLength: 6 });

  /**
   * fmt keeps the syntax tree (docs included), every comment (in order, unless told otherwise)
   * and the compiled rules, and is idempotent; or
   * it refuses with PC110, naming only doc comments.
   */
  function expectFormatsOrRefuses(text: string, compiles: boolean, commentsInOrder = true): void {
    const parsed = parse(text, "t.policy");
    expect(parsed.diagnostics.filter((d) => d.severity === "error"), text).toEqual([]);
    const result = formatSource(parsed.ast, text, [...parsed.comments, ...parsed.docComments]);
    if (result.diagnostics.length > 0) {
      for (const d of result.diagnostics) expect([d.code, text.slice(d.span!.start, d.span!.start + 3)], text).toEqual(["PC110", "///"]);
      return;
    }
    expectRoundTrip(text, `with comments:\n${text}\n---`, { commentsInOrder });
    if (compiles) expect(compiledRules(result.text)).toEqual(compiledRules(text));
  }

  it("in the contract's policy, compiled rules and docs unchanged", () => {
    fc.assert(fc.property(inserts, (chosen) => expectFormatsOrRefuses(withComments(CONTRACT_POLICY, chosen), true)), { numRuns: 300 });
  });

  it("in declarations and rules of every kind, compiled rules and docs unchanged", () => {
    fc.assert(fc.property(inserts, (chosen) => expectFormatsOrRefuses(withComments(WIDE, chosen), true)), { numRuns: 400 });
  });

  it("in tool and intent items that fmt puts in another order", () => {
    const reordered = "tool files.read {\n  args { path: string }\n  returns pii\n  risk high\n}\nintent files.browse { max_risk low tools files.* }\n";
    fc.assert(fc.property(inserts, (chosen) => expectFormatsOrRefuses(withComments(reordered, chosen), false, false)), { numRuns: 300 });
  });

  it("in the contract's declarations", () => {
    fc.assert(fc.property(inserts, (chosen) => expectFormatsOrRefuses(withComments(DECLS, chosen), false)), { numRuns: 200 });
  });

  it("in generated policies", () => {
    fc.assert(fc.property(policyText, inserts, (text, chosen) => expectFormatsOrRefuses(withComments(text, chosen), false)), { numRuns: 400 });
  });

  // Refusing every text would pass the properties above without checking anything.
  it("refuses only rarely: a `///` that documents nothing squeezed into an item's first line", () => {
    let refused = 0;
    const runs = 300;
    fc.assert(
      fc.property(inserts, (chosen) => {
        const text = withComments(WIDE, chosen);
        const parsed = parse(text);
        if (formatSource(parsed.ast, text, [...parsed.comments, ...parsed.docComments]).diagnostics.length > 0) refused++;
      }),
      { numRuns: runs, seed: 1 },
    );
    expect(refused).toBeLessThan(runs / 5);
  });
});

describe("the library's format (policyc's API for editors)", () => {
  it("is what policyc exports to format with, and keeps every comment, `///` included: the text `policyc fmt` writes", async () => {
    const api = await import("../../src/index.js");
    expect(Object.keys(api).filter((name) => /^format/.test(name))).toEqual(["format"]);
    const text = '/// Data labels.\nenum Label { public, secret }\ntool kb.search { args { q: string } } // the search\npolicy p {\n  /// Why this rule exists.\n  @name("search")\n     allow kb.search\n}\n';
    const result = api.format(text, "a.policy");
    expect(result).toEqual({ text: fmt(text), diagnostics: [] });
    expect(result.text).not.toBe(text);
    for (const comment of ["/// Data labels.", "/// Why this rule exists.", "// the search"]) expect(result.text).toContain(comment);
    expect(ruleDocs(result.text)).toEqual({ search: "Why this rule exists." });
  });

  it.each([
    ["a file being edited (a condition not finished)", 'tool kb.search { args { q: string } }\npolicy p {\n  allow kb.search\n    when args.q ==\n\n  deny kb.search\n    when args.q like "*secret*"\n    reason "no secrets"\n}\n', "PC103"],
    ["a stray character the parser skips", 'tool kb.search { args { q: string } }\npolicy p {\n  allow kb.search\n    when args.q == "café"é\n}\n', "PC100"],
  ])("refuses %s: the text unchanged, with the syntax errors", async (_, text, code) => {
    const { format } = await import("../../src/index.js");
    const result = format(text, "a.policy");
    expect(result.text).toBe(text);
    expect(result.diagnostics.map((d) => d.code)).toContain(code);
    expect(result.diagnostics.every((d) => d.severity === "error" && d.span?.file.path === "a.policy")).toBe(true);
  });

  it("refuses a doc comment the layout would move to another item (PC110), as policyc fmt does", async () => {
    const { format } = await import("../../src/index.js");
    const text = "tool kb.search {}\npolicy p /// owner: sec\n{\n  allow kb.search\n}\n";
    const result = format(text);
    expect(result.text).toBe(text);
    expect(result.diagnostics.map((d) => d.code)).toEqual(["PC110"]);
  });
});
