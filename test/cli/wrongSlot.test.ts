import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
    [["diff", "rec.jsonl", "ca", "--replay", "ca/recordings"], "policyc diff: OLD: `rec.jsonl` is a recording (JSON Lines), not a policy file: give it with --replay, after the policy paths\n"],
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

describe("the sniff refuses only what it is sure of (review r4 #1)", () => {
  const firstRequest = (): Record<string, unknown> => JSON.parse(readFileSync(join(dir, "req.jsonl"), "utf8").split("\n")[0]!) as Record<string, unknown>;

  it("a request whose arguments carry a bundle object is decided, not called a bundle (and so is a history)", async () => {
    const request = { ...firstRequest(), tool: "http.fetch", args: { method: "POST", url: "https://deploy.acme.com/policies", body: { format: "policyc-bundle/1", note: "deploy" } } };
    writeFileSync(join(dir, "deploy.json"), JSON.stringify(request, null, 2));
    writeFileSync(join(dir, "deploy.jsonl"), JSON.stringify(request) + "\n");
    for (const file of ["deploy.json", "deploy.jsonl"]) {
      const result = await cli(["eval", "ca", "--request", file], { cwd: dir });
      expect(result.stderr, file).not.toContain("is a policyc bundle");
      expect(result.stdout, file).toContain("deny http.fetch");
    }
  });

  it("a request starting with a comment, or YAML, is not JSON (not a policy file)", async () => {
    writeFileSync(join(dir, "commented.json"), `// the force-push case\n${JSON.stringify(firstRequest())}\n`);
    writeFileSync(join(dir, "notes.yaml"), "user: bob\n");
    const commented = await cli(["eval", "ca", "--request", "commented.json"], { cwd: dir });
    expect(commented.code).toBe(2);
    expect(commented.stderr).toMatch(/^policyc eval: `commented\.json`: not JSON at /);
    const yaml = await cli(["eval", "ca", "--request", "notes.yaml"], { cwd: dir });
    expect(yaml.code).toBe(2);
    expect(yaml.stderr).toMatch(/^policyc eval: `notes\.yaml`: not JSON at /);
    // Policy text after its comments is still named for what it is.
    writeFileSync(join(dir, "rules.txt"), "// rules\n/* more */\ntool t { risk low }\n");
    expect((await cli(["eval", "ca", "--request", "rules.txt"], { cwd: dir })).stderr).toBe("policyc eval: `rules.txt` is a policy file, not a request: give policy files and folders as paths\n");
  });
});
