import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../helpers.js";

/**
 * `--exclude GLOB` (monorepo review f3 #4): the verbs that read policy paths leave out the files
 * a glob matches, by their path as shown or by one of its folders.
 */
let dir: string;
const TOOLS = "agent { team: string }\ntool kb.search {}\ntool kb.delete {}\n";
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-exclude-"));
  const files: Record<string, string> = {
    "repo/schema.policy": TOOLS,
    "repo/team/allow.policy": 'policy team {\n  allow kb.search, kb.delete when agent.team == "a"\n}\n',
    // A draft that does not check, and a folder of experiments that does not either.
    "repo/team/wip.draft.policy": "policy draft {\n  allow kb.serch\n}\n",
    "repo/experimental/x.policy": "policy x {\n  deny kb.nothing\n}\n",
    "repo/experimental/old.policy.bak": "policy old {\n  deny kb.search\n}\n",
    "request.json": JSON.stringify({ session: "s", agent: { team: "a" }, tool: "kb.delete", args: {} }),
    "replay.jsonl": `${JSON.stringify({ session: "s", agent: { team: "a" }, tool: "kb.delete", args: {}, decision: "allow" })}\n`,
  };
  for (const [name, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, name)), { recursive: true });
    writeFileSync(join(dir, name), text);
  }
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const run = (...args: string[]) => cli(args, { cwd: dir });
const EXCLUDED = ["--exclude", "*.draft.policy", "--exclude", "repo/experimental"];

describe("--exclude GLOB", () => {
  it("check: leaves out files a glob matches by name, path or folder, and their PC007; repeatable", async () => {
    expect((await run("check", "repo")).code).toBe(1);
    expect(await run("check", "repo", ...EXCLUDED)).toEqual({ code: 0, stdout: "ok: 2 files, 1 rule\n", stderr: "" });
    expect(await run("check", "repo", "--exclude=**/wip.*", "--exclude", "experimental")).toEqual({ code: 0, stdout: "ok: 2 files, 1 rule\n", stderr: "" });
    const json = JSON.parse((await run("check", "repo", ...EXCLUDED, "--json")).stdout) as { files: string[] };
    expect(json.files).toEqual(["repo/schema.policy", "repo/team/allow.policy"]);
  });

  it("check: a folder whose every policy file is excluded is PC004, said so", async () => {
    const result = await run("check", "repo/experimental", "--exclude", "x.policy");
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("repo/experimental: error[PC004]: every `.policy` file under `repo/experimental` is excluded (--exclude)");
  });

  it("files named on the command line are left out too, and when every one is, that is PC004, not an empty set checked ok", async () => {
    expect(await run("check", "repo/schema.policy", "repo/team/allow.policy", "repo/team/wip.draft.policy", "--exclude", "*.draft.policy")).toEqual({ code: 0, stdout: "ok: 2 files, 1 rule\n", stderr: "" });
    const none = await run("check", "repo/team/wip.draft.policy", "--exclude", "*.draft.policy");
    expect(none.code).toBe(2);
    expect(none.stdout).toContain("repo/team/wip.draft.policy: error[PC004]: every policy file given is excluded (--exclude): `repo/team/wip.draft.policy`");
    expect((await run("build", "repo/team/wip.draft.policy", "--exclude", "*.draft.policy", "-o", "none.json")).code).toBe(2);
  });

  it("build, eval, test, diff and fmt take it too", async () => {
    const built = await run("build", "repo", ...EXCLUDED, "-o", "out.json");
    expect(built.code, built.stderr).toBe(0);
    expect((JSON.parse(readFileSync(join(dir, "out.json"), "utf8")) as { manifest: { sources: { path: string }[] } }).manifest.sources.map((s) => s.path)).toEqual(["repo/schema.policy", "repo/team/allow.policy"]);
    expect((await run("eval", "repo", ...EXCLUDED, "--request", "request.json")).stdout).toMatch(/^allow kb\.delete/);
    expect((await run("test", "repo", ...EXCLUDED, "--replay", "replay.jsonl")).code).toBe(0);
    expect((await run("diff", "repo", "repo", ...EXCLUDED, "--replay", "replay.jsonl")).code).toBe(0);
    // The two files read are not in canonical form; the excluded ones (one does not parse) are not listed.
    expect(await run("fmt", "--check", "repo", ...EXCLUDED)).toEqual({ code: 1, stdout: "repo/schema.policy\nrepo/team/allow.policy\n", stderr: "2 files are not formatted; run `policyc fmt --write`\n" });
  });

  it("is refused beside a bundle, which has no files to leave out", async () => {
    const result = await run("eval", "--bundle", "out.json", "--exclude", "x", "--request", "request.json");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--exclude leaves out policy files, and a bundle has none: rebuild it with --exclude, or give the policy paths");
  });

  it("is in each verb's --help", async () => {
    for (const verb of ["check", "fmt", "build", "eval", "test", "diff"]) expect((await run(verb, "--help")).stdout).toContain("--exclude <glob>");
  });
});
