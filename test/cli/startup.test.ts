import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, cli, modulesLoadedBy, ROOT } from "../helpers.js";
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
    expect(await cli(["help", "chek"])).toEqual({ code: 2, stdout: "", stderr: "policyc: no command `chek` to show help for (the commands: check, fmt, build, eval, test, diff)\n" });
    const unknown = await cli(["chek"]);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain("error: unknown command 'chek'");
    expect(unknown.stderr).toContain("(Did you mean check?)");
    expect((await cli([])).code).toBe(2);
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
});
