import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, cli, modulesLoadedBy, ROOT } from "../helpers.js";
import { paletteFor } from "../../src/cli/io.js";
import { plainPalette } from "../../src/diagnostics/render.js";
import { runWith } from "../../src/cli/main.js";
import { VERSION } from "../../src/version.js";

/**
 * Start-up cost is paid on every `policyc` run (editors on save, pre-commit hooks, CI steps).
 * chevrotain's package entry loads lodash-es as ~650 modules (~300 ms); policyc loads its
 * single-file build instead (src/syntax/chevrotain.ts).
 */
describe.skipIf(!existsSync(join(ROOT, "dist", "cli", "main.js")))("CLI start-up", () => {
  it("checks a policy set loading chevrotain as one file, without lodash-es's modules", () => {
    const script = [
      `process.argv = [process.argv[0], ${JSON.stringify(BIN)}, "check", "samples/customer-support"];`,
      `await import(${JSON.stringify(`file://${BIN}`)});`,
    ].join("\n");
    const { status, stderr, loaded } = modulesLoadedBy(script);
    expect(status, stderr).toBe(0);
    const chevrotain = loaded.filter((url) => url.includes("/chevrotain/"));
    expect(chevrotain.map((url) => url.slice(url.indexOf("/chevrotain/")))).toEqual(["/chevrotain/lib/chevrotain.mjs"]);
    expect(loaded.filter((url) => url.includes("/lodash-es/"))).toEqual([]);
  });
});

describe("the command line itself", () => {
  it("--version prints the version; help for a verb is exit 0", async () => {
    const version = await cli(["--version"]);
    expect(version).toMatchObject({ code: 0, stdout: `${VERSION}\n` });
    const help = await cli(["help", "check"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: policyc check/);
  });

  it("help for a verb that does not exist, an unknown verb, no verb: exit 2 with a message", async () => {
    expect(await cli(["help", "chek"])).toEqual({ code: 2, stdout: "", stderr: "policyc: no command `chek` to show help for: did you mean `check`? (the commands: check, fmt, build, eval, test, diff, verify)\n" });
    expect((await cli(["help", "nothinglike"])).stderr).not.toContain("did you mean");
    const unknown = await cli(["chek"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("policyc: unknown command `chek`");
    expect(unknown.stderr).toContain(": did you mean `check`?");
    expect((await cli([])).code).toBe(2);
  });

  it("--help and the README list every case of cli.md's exit code table (audit a1 L7)", async () => {
    const help = (await cli(["--help"])).stdout.replace(/\s+/g, " ");
    const readme = readFileSync(join(ROOT, "README.md"), "utf8").replace(/\s+/g, " ").replace(/`/g, "");
    for (const text of [help, readme]) {
      for (const exitCase of ["check --fail-on-warnings", "fmt --check", "diff --exit-code", "nothing to compare", "unreadable input", "output that cannot be written"]) expect(text).toContain(exitCase);
    }
  });

  it("commander's messages are worded as policyc's: backticks, lower case, no full stop, the did-you-mean on its line (audit a1 L3)", async () => {
    expect((await cli(["diff", "a", "b", "c", "--replay", "x.jsonl"])).stderr).toBe("policyc diff: too many arguments for `diff`: it takes 2, not 3\n");
    expect((await cli(["check"])).stderr).toBe("policyc check: missing required argument `paths`\n");
    expect((await cli(["eval", "--bundle"])).stderr).toBe("policyc eval: option `--bundle <file>` needs a value\n");
    expect((await cli(["chek"])).stderr).toBe("policyc: unknown command `chek`: did you mean `check`?\n");
  });

  it("the global --no-color changes neither the answer to no verb nor to help for an unknown verb (audit a1 F2)", async () => {
    const bare = await cli([]);
    const help = await cli(["--help"]);
    expect(bare).toEqual({ code: 2, stdout: "", stderr: help.stdout });
    expect(bare.stderr).toContain("Exit codes:");
    expect(await cli(["--no-color"])).toEqual(bare);
    const mistyped = await cli(["help", "chek"]);
    expect(await cli(["--no-color", "help", "chek"])).toEqual(mistyped);
    expect(await cli(["help", "--no-color", "chek"])).toEqual(mistyped);
  });
});

describe("a file whose name starts with `-`", () => {
  it("is read as an unknown option, and the message says how to give it (./NAME), which then works, as does giving it after --", async () => {
    const dir = mkdtempSync(join(tmpdir(), "policyc-dash-"));
    try {
      writeFileSync(join(dir, "-x.policy"), "tool kb.search {}\npolicy p {\n  allow kb.search\n}\n");
      expect(await cli(["check", "-x.policy"], { cwd: dir })).toEqual({ code: 2, stdout: "", stderr: "policyc check: unknown option `-x.policy`\n(`-x.policy` is a file here: give it as `./-x.policy`)\n" });
      // Added to what commander and policyc said of the flag, never instead of it.
      writeFileSync(join(dir, "--jsn"), "");
      writeFileSync(join(dir, "--write"), "");
      expect((await cli(["check", "./-x.policy", "--jsn"], { cwd: dir })).stderr).toBe("policyc check: unknown option `--jsn`: did you mean `--json`?\n(`--jsn` is a file here: give it as `./--jsn`)\n");
      expect((await cli(["check", "./-x.policy", "--write"], { cwd: dir })).stderr).toBe("policyc check: unknown option `--write`\n(`--write` is an option of `policyc fmt`, not of `policyc check`)\n(`--write` is a file here: give it as `./--write`)\n");
      expect((await cli(["check", "./-x.policy"], { cwd: dir })).code).toBe(0);
      expect((await cli(["check", "--", "-x.policy"], { cwd: dir })).code).toBe(0);
      // No such file: commander's message as it is.
      expect((await cli(["check", "-y.policy"], { cwd: dir })).stderr).toBe("policyc check: unknown option `-y.policy`\n");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("an option of another verb", () => {
  it("is named with the verbs it belongs to; a near miss of no other verb's flag keeps commander's did-you-mean", async () => {
    const cases: [string[], string][] = [
      [["check", "--write", "x.policy"], "(`--write` is an option of `policyc fmt`, not of `policyc check`)"],
      [["fmt", "--fail-on-warnings=1", "x.policy"], "(`--fail-on-warnings` is an option of `policyc check`, not of `policyc fmt`)"],
      [["check", "-o", "x", "y.policy"], "(`-o` is an option of `policyc build`, not of `policyc check`)"],
      [["eval", "--replay", "x.jsonl"], "(`--replay` is an option of `policyc test` and `policyc diff`, not of `policyc eval`)"],
      // One edit from `--version`: the verb that has the flag is the better hint, and commander's is dropped.
      [["diff", "--session", "s1"], "(`--session` is an option of `policyc test`, not of `policyc diff`)"],
    ];
    for (const [args, hint] of cases) {
      const result = await cli(args);
      expect(result, args.join(" ")).toEqual({ code: 2, stdout: "", stderr: `policyc ${args[0]}: unknown option \`${args[1]}\`\n${hint}\n` });
    }
    expect(await cli(["check", "--jsn", "x.policy"])).toEqual({ code: 2, stdout: "", stderr: "policyc check: unknown option `--jsn`: did you mean `--json`?\n" });
    expect(await cli(["check", "--nosuch", "x.policy"])).toEqual({ code: 2, stdout: "", stderr: "policyc check: unknown option `--nosuch`\n" });
    // Two names equally close: commander's "one of --jobs, --json", each name in backticks (audit r1 F2).
    for (const typo of ["--josns", "--jobson"]) expect(await cli(["test", typo, "x"]), typo).toEqual({ code: 2, stdout: "", stderr: `policyc test: unknown option \`${typo}\`: did you mean \`--jobs\` or \`--json\`?\n` });
  });
});

describe.skipIf(!existsSync("/dev/full") || !existsSync(join(ROOT, "dist", "cli", "main.js")))("output that cannot be written", () => {
  it("a full disk under the output exits 2 with one line, not a stack trace and exit 1 (which CI reads as a failed test)", () => {
    for (const args of ["check samples/customer-support --json", "test samples/customer-support --replay samples/customer-support --reporter junit"]) {
      const run = spawnSync("sh", ["-c", `node "${BIN}" ${args} > /dev/full`], { cwd: ROOT, encoding: "utf8" });
      expect(run.status, args).toBe(2);
      expect(run.stderr).toBe("policyc: cannot write to standard output: no space left on the device (what was written is cut short)\n");
    }
  });

  it("build -o - to a device that fails says so and never that it built (nor `\"ok\": true`)", () => {
    for (const args of ["build samples/customer-support -o -", "build samples/customer-support -o - --json"]) {
      const run = spawnSync("sh", ["-c", `node "${BIN}" ${args} > /dev/full`], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      expect(run.status, args).toBe(2);
      expect(run.stderr, args).toBe("policyc: cannot write to standard output: no space left on the device (what was written is cut short)\n");
    }
  });
});

/**
 * A disk with a little room left: the first writes to standard output take what fits, the next
 * one fails (ENOSPC), as on a nearly full file system. Loaded before policyc (`--import`), it
 * replaces `fs.writeSync` for file descriptor 1 only.
 */
const NEARLY_FULL_DISK = `
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
const write = fs.writeSync;
let room = Number(process.env.ROOM);
fs.writeSync = function (fd, buffer, offset = 0, length = buffer.length - offset, ...rest) {
  if (fd !== 1 || typeof buffer === "string") return write.call(fs, fd, buffer, offset, length, ...rest);
  if (room === 0) throw Object.assign(new Error("ENOSPC: no space left on device, write"), { code: "ENOSPC", errno: -28, syscall: "write" });
  const written = write.call(fs, fd, buffer, offset, Math.min(length, room));
  room -= written;
  return written;
};
syncBuiltinESMExports();
`;

describe.skipIf(!existsSync(join(ROOT, "dist", "cli", "main.js")))("standard output redirected to a file on a nearly full disk", () => {
  it("build -o -, fmt and eval --json exit 2 saying the output is cut short, never 0 with part of it", () => {
    const dir = mkdtempSync(join(tmpdir(), "policyc-short-write-"));
    try {
      writeFileSync(join(dir, "full.mjs"), NEARLY_FULL_DISK);
      const runs = [
        ["build", "samples/coding-agent", "-o", "-"],
        ["build", "samples/coding-agent", "-o", "/dev/stdout"],
        ["fmt", "samples/coding-agent/schema.policy"],
        ["eval", "samples/coding-agent", "--request", "samples/coding-agent/requests/force-push-main.jsonl", "--json"],
      ];
      for (const args of runs) {
        const whole = spawnSync(process.execPath, [BIN, ...args], { cwd: ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
        expect(whole.status, args.join(" ")).toBe(0);
        const half = Math.floor(Buffer.byteLength(whole.stdout) / 2);
        const output = join(dir, "out");
        const fd = openSync(output, "w");
        let run;
        try {
          run = spawnSync(process.execPath, ["--import", join(dir, "full.mjs"), BIN, ...args], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", fd, "pipe"], env: { ...process.env, NO_COLOR: "1", ROOM: String(half) } });
        } finally {
          closeSync(fd);
        }
        expect(run.status, args.join(" ")).toBe(2);
        expect(run.stderr).toContain("policyc: cannot write to standard output: no space left on the device (what was written is cut short)\n");
        expect(run.stderr).not.toContain("built");
        expect(statSync(output).size).toBe(half);
        // With room for all of it, the same run writes all of it.
        const roomy = openSync(output, "w");
        try {
          run = spawnSync(process.execPath, ["--import", join(dir, "full.mjs"), BIN, ...args], { cwd: ROOT, encoding: "utf8", stdio: ["ignore", roomy, "pipe"], env: { ...process.env, NO_COLOR: "1", ROOM: String(10 * whole.stdout.length) } });
        } finally {
          closeSync(roomy);
        }
        expect(run.status, args.join(" ")).toBe(0);
        expect(readFileSync(output, "utf8")).toBe(whole.stdout);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("colour is decided for each stream", () => {
  const SYNTAX_ERROR = "enum A { a, \n";

  it("what a verb reports on standard error is coloured by standard error's palette, what it prints by standard output's", async () => {
    const dir = mkdtempSync(join(tmpdir(), "policyc-colour-"));
    try {
      writeFileSync(join(dir, "synerr.policy"), SYNTAX_ERROR);
      const run = async (palette: "out" | "err"): Promise<{ stdout: string; stderr: string }> => {
        let stdout = "";
        let stderr = "";
        const coloured = paletteFor(true);
        const io = { out: (s: string) => (stdout += s), err: (s: string) => (stderr += s), palette: palette === "out" ? coloured : plainPalette, errPalette: palette === "err" ? coloured : plainPalette, cwd: dir, readStdin: () => Buffer.alloc(0), env: {} };
        expect(await runWith(io, ["fmt", "synerr.policy"])).toBe(1);
        return { stdout, stderr };
      };
      // fmt's errors go to standard error (standard output holds the formatted text).
      expect((await run("err")).stderr).toContain("\u001b[31m\u001b[1merror[PC103]");
      expect((await run("out")).stderr).toMatch(/^synerr\.policy:1:\d+: error\[PC103\]/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  describe.skipIf(!existsSync("/usr/bin/script") || !existsSync(join(ROOT, "dist", "cli", "main.js")))("on a terminal (through script(1))", () => {
    it("standard error redirected to a file stays plain when standard output is a terminal, and is coloured on a terminal when standard output is redirected", () => {
      const dir = mkdtempSync(join(tmpdir(), "policyc-tty-"));
      try {
        writeFileSync(join(dir, "synerr.policy"), SYNTAX_ERROR);
        // On a terminal that shows colour (TERM=dumb turns it off).
        const env = { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== "NO_COLOR" && name !== "FORCE_COLOR")), TERM: "xterm" };
        const onTerminal = (command: string): string => spawnSync("/usr/bin/script", ["-qc", command, "/dev/null"], { cwd: dir, env, encoding: "utf8" }).stdout;
        onTerminal(`${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} fmt synerr.policy 2>err.log`);
        expect(readFileSync(join(dir, "err.log"), "utf8")).toMatch(/^synerr\.policy:1:\d+: error\[PC103\]/);
        const terminal = onTerminal(`${JSON.stringify(process.execPath)} ${JSON.stringify(BIN)} fmt synerr.policy >out.txt`);
        expect(terminal).toContain("\u001b[31m\u001b[1merror[PC103]");
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });
  });
});

describe.skipIf(!existsSync(join(ROOT, "dist", "cli", "main.js")))("a working folder that was removed", () => {
  /** Runs policyc from inside a folder removed just before (a CI checkout cleaned under the step). */
  const inRemovedFolder = (args: string[]): { status: number | null; stdout: string; stderr: string } => {
    const dir = mkdtempSync(join(tmpdir(), "policyc-gone-"));
    try {
      const quoted = args.map((arg) => JSON.stringify(arg)).join(" ");
      return spawnSync("sh", ["-c", `mkdir gone && cd gone && rmdir ../gone && exec "$NODE" "$BIN_PATH" ${quoted}`], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", NODE: process.execPath, BIN_PATH: BIN } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  };
  const sample = join(ROOT, "samples", "customer-support");

  it("says so in one line and exits 2 for every verb, never with a stack trace", () => {
    for (const args of [["check", sample], ["build", sample, "-o", "-"], ["test", sample], ["fmt", "--check", sample], ["check", "--jsn"], ["eval", sample, "--request", join(sample, "recordings", "attacks.jsonl")]]) {
      const run = inRemovedFolder(args);
      expect(run.status, args.join(" ")).toBe(2);
      expect(run.stderr, args.join(" ")).toBe("policyc: the working folder no longer exists (it was removed): cd to an existing folder and run it again\n");
    }
  });

  it("still answers --version and --help", () => {
    expect(inRemovedFolder(["--version"])).toMatchObject({ status: 0, stdout: `${VERSION}\n`, stderr: "" });
    expect(inRemovedFolder(["check", "--help"])).toMatchObject({ status: 0, stderr: "" });
  });
});
