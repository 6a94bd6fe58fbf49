import { cpSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, ROOT } from "../helpers.js";

/** Files given in the wrong slot are named for what they are, with where they go (exit 2). */
let dir: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "policyc-wrong-slot-"));
  cpSync(join(ROOT, "samples", "coding-agent"), join(dir, "ca"), { recursive: true });
  cpSync(join(ROOT, "samples", "coding-agent", "recordings", "happy-path.jsonl"), join(dir, "rec.jsonl"));
  cpSync(join(ROOT, "samples", "coding-agent", "requests", "force-push-main.jsonl"), join(dir, "req.jsonl"));
  expect((await cli(["build", "ca", "-o", "bundle.json"], { cwd: dir })).code).toBe(0);
  cpSync(join(dir, "bundle.json"), join(dir, "bundle.txt"));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

describe("a file in the wrong slot", () => {
  const cases: [string[], string][] = [
    [["test", "rec.jsonl", "--replay", "ca/recordings"], "policyc test: `rec.jsonl` is a recording (JSON Lines), not a policy file: give it with --replay, after the policy paths\n"],
    [["diff", "rec.jsonl", "ca", "--replay", "ca/recordings"], "policyc diff: `rec.jsonl` is a recording (JSON Lines), not a policy file: give it with --replay, after the policy paths\n"],
    [["eval", "rec.jsonl", "--request", "req.jsonl"], "policyc eval: `rec.jsonl` is a recording (JSON Lines), not a policy file: give it with --request\n"],
    [["test", "bundle.txt", "--replay", "rec.jsonl"], "policyc test: `bundle.txt` is a policyc bundle, not a policy file: give it with --bundle FILE\n"],
    [["eval", "ca", "--request", "bundle.json"], "policyc eval: `bundle.json` is a policyc bundle, not a request: give it with --bundle FILE\n"],
    [["eval", "ca", "--request", "ca/schema.policy"], "policyc eval: `ca/schema.policy` is a policy file, not a request: give policy files and folders as paths\n"],
    [["eval", "--bundle", "ca/schema.policy", "--request", "req.jsonl"], "policyc eval: `ca/schema.policy` is a policy file, not a bundle: give policy files and folders as paths, without --bundle\n"],
    [["eval", "--bundle", "rec.jsonl", "--request", "req.jsonl"], "policyc eval: `rec.jsonl` is a recording (JSON Lines), not a bundle: give it with --request\n"],
    [["test", "--bundle", "rec.jsonl", "--replay", "rec.jsonl"], "policyc test: `rec.jsonl` is a recording (JSON Lines), not a bundle: give it with --replay\n"],
  ];
  for (const [args, stderr] of cases) {
    it(`${args.join(" ")}: exit 2, saying what the file is`, async () => {
      expect(await cli(args, { cwd: dir })).toEqual({ code: 2, stdout: "", stderr });
    });
  }

  it("the files in their own slots work as before", async () => {
    expect((await cli(["test", "ca", "--replay", "rec.jsonl"], { cwd: dir })).code).toBe(0);
    expect((await cli(["test", "--bundle", "bundle.json", "--replay", "rec.jsonl"], { cwd: dir })).code).toBe(0);
    expect((await cli(["eval", "--bundle", "bundle.json", "--request", "req.jsonl"], { cwd: dir })).code).toBe(0);
  });

  it("check, fmt and build given a bundle or a recording: the syntax error at its first `{` says what the file is", async () => {
    const check = await cli(["check", "bundle.json", "rec.jsonl"], { cwd: dir });
    expect(check.code).toBe(1);
    expect(check.stdout).toContain("bundle.json:1:1: error[PC103]");
    expect(check.stdout).toContain("= help: `bundle.json` is a policyc bundle, not policy text: `policyc test` and `policyc eval` read a bundle with --bundle\n");
    expect(check.stdout).toContain("= help: `rec.jsonl` is a recording (JSON Lines), not policy text: `policyc test` and `policyc diff` read recordings with --replay, after the policy paths\n");
    expect((await cli(["fmt", "rec.jsonl"], { cwd: dir })).stderr).toContain("is a recording (JSON Lines), not policy text");
  });
});
