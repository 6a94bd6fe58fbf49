import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
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
    // A file named and excluded is said, not silently dropped (exclude review #4).
    expect(await run("check", "repo/schema.policy", "repo/team/allow.policy", "repo/team/wip.draft.policy", "--exclude", "*.draft.policy")).toEqual({ code: 0, stdout: "ok: 2 files, 1 rule\n", stderr: "policyc check: note: `repo/team/wip.draft.policy` is named but excluded (--exclude `*.draft.policy`): it is not read\n" });
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

  it("test, eval and diff --json list what it left out (`excluded`), as check, build and fmt --json do; the exit codes are the runs'", async () => {
    const check = JSON.parse((await run("check", "repo", ...EXCLUDED, "--json")).stdout) as { excluded: unknown[] };
    expect(check.excluded).toEqual([{ path: "repo/experimental", glob: "repo/experimental" }, { path: "repo/team/wip.draft.policy", glob: "*.draft.policy" }]);
    const tested = await run("test", "repo", ...EXCLUDED, "--replay", "replay.jsonl", "--json");
    expect(tested.code).toBe(0);
    expect(JSON.parse(tested.stdout).excluded).toEqual(check.excluded);
    const evaluated = await run("eval", "repo", ...EXCLUDED, "--request", "request.json", "--json");
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.stdout).excluded).toEqual(check.excluded);
    // Each entry says its side; a side given as a bundle leaves out nothing.
    expect((await run("build", "repo", ...EXCLUDED, "-o", "side.json")).code).toBe(0);
    const diffed = await run("diff", "side.json", "repo", ...EXCLUDED, "--replay", "replay.jsonl", "--json");
    expect(diffed.code).toBe(0);
    expect(JSON.parse(diffed.stdout).excluded).toEqual(check.excluded.map((entry) => ({ side: "new", ...(entry as object) })));
    // Without --exclude, an empty list, as check's.
    expect(JSON.parse((await run("test", "repo/schema.policy", "repo/team/allow.policy", "--replay", "replay.jsonl", "--json")).stdout).excluded).toEqual([]);
  });

  it("is refused beside a bundle, which has no files to leave out", async () => {
    const result = await run("eval", "--bundle", "out.json", "--exclude", "x", "--request", "request.json");
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("--exclude leaves out policy files, and a bundle has none: rebuild it with --exclude, or give the policy paths");
  });

  it("diff applies it to the side given as sources, and refuses it only when both sides are bundles (exclude review #5)", async () => {
    expect((await run("build", "repo", ...EXCLUDED, "-o", "old.json")).code).toBe(0);
    expect(await run("diff", "old.json", "repo", ...EXCLUDED, "--replay", "replay.jsonl")).toMatchObject({ code: 0 });
    expect(await run("diff", "repo", "old.json", ...EXCLUDED, "--replay", "replay.jsonl")).toMatchObject({ code: 0 });
    const both = await run("diff", "old.json", "old.json", "--exclude", "x", "--replay", "replay.jsonl");
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("--exclude leaves out policy files, and neither side is sources: give OLD or NEW as policy paths");
    // A glob is used when it matches on either side given as sources.
    mkdirSync(join(dir, "clean"), { recursive: true });
    for (const file of ["schema.policy", "team/allow.policy"]) writeFileSync(join(dir, "clean", file.replace("team/", "")), readFileSync(join(dir, "repo", file)));
    const onlyOne = await run("diff", "repo", "clean", ...EXCLUDED, "--replay", "replay.jsonl");
    expect(onlyOne.code, onlyOne.stderr).toBe(0);
  });

  it("same flags choose the same files in every verb, whether the path is given absolute or relative, from a subfolder (exclude review #1)", async () => {
    const sub = join(dir, "sub");
    mkdirSync(sub, { recursive: true });
    const repo = join(dir, "repo");
    const from = (...args: string[]) => cli(args, { cwd: sub });
    const spellings = [[`${repo}/experimental/**`], [`${repo}/experimental`], ["../repo/experimental"], ["experimental/"], ["./../repo/experimental/"], [`${repo}/experimental/`]];
    for (const path of [repo, "../repo"]) {
      for (const globs of spellings) {
        const flags = [...globs.flatMap((glob) => ["--exclude", glob]), "--exclude", "*.draft.policy"];
        const checked = await from("check", path, ...flags, "--json");
        expect(checked.code, `check ${path} ${flags.join(" ")}: ${checked.stderr}`).toBe(0);
        const files = (JSON.parse(checked.stdout) as { files: string[] }).files.map((file) => file.replace(/^.*repo\//, ""));
        const built = await from("build", path, ...flags, "-o", "same.json");
        expect(built.code, `build ${path} ${flags.join(" ")}: ${built.stderr}`).toBe(0);
        const shipped = (JSON.parse(readFileSync(join(sub, "same.json"), "utf8")) as { manifest: { sources: { path: string }[] } }).manifest.sources.map((s) => s.path.replace(/^.*repo\//, ""));
        expect(files, `${path} ${flags.join(" ")}`).toEqual(["schema.policy", "team/allow.policy"]);
        expect(shipped, `${path} ${flags.join(" ")}`).toEqual(files);
        expect((await from("test", path, ...flags, "--replay", "../replay.jsonl")).code).toBe(0);
      }
    }
  });

  it("a glob that matches no policy file or folder is a usage error in every verb (exclude review #2)", async () => {
    const runs = [
      ["check", "repo"],
      ["fmt", "--check", "repo"],
      ["build", "repo", "-o", "unmatched.json"],
      ["eval", "repo", "--request", "request.json"],
      ["test", "repo", "--replay", "replay.jsonl"],
      ["diff", "repo", "repo", "--replay", "replay.jsonl"],
    ];
    for (const args of runs) {
      const result = await run(...args, ...EXCLUDED, "--exclude", "experimentl");
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr, args.join(" ")).toBe(`policyc ${args[0]}: --exclude \`experimentl\` matched no policy file or folder under the paths given (mistyped?): a glob meant to leave rules out that leaves nothing out ships them\n`);
    }
    expect(existsSync(join(dir, "unmatched.json"))).toBe(false);
  });

  it("matches letter case as the folder search does: in any case (exclude review #2)", async () => {
    expect(await run("check", "repo", "--exclude", "*.DRAFT.policy", "--exclude", "Experimental")).toEqual({ code: 0, stdout: "ok: 2 files, 1 rule\n", stderr: "" });
  });

  it("refuses a glob it would read otherwise than meant: # and ! at its start, more than 1,000 characters, too many alternatives (exclude review #2)", async () => {
    const cases: [string, string][] = [
      ["#x", "--exclude `#x` starts with `#`, which minimatch reads as a comment matching nothing: write `[#]x` for a name starting with #"],
      ["!x", "--exclude `!x` starts with `!`, a negation: --exclude takes what to leave out, and leaving in the rest is what it does already"],
      ["a".repeat(1001), "--exclude takes a glob of at most 1,000 characters, not 1,001"],
      ["{1..2000}", "--exclude `{1..2000}` expands to more than 1,000 globs: give fewer alternatives in `{…}`"],
    ];
    for (const [glob, message] of cases) {
      for (const verb of ["check", "build"]) {
        const result = await run(verb, "repo", "--exclude", glob, ...(verb === "build" ? ["-o", "refused.json"] : []));
        expect(result, glob).toEqual({ code: 2, stdout: "", stderr: `policyc ${verb}: ${message}\n` });
      }
    }
  });

  it("does not walk an excluded folder: one that cannot be read inside it does not fail the run (exclude review #3)", async () => {
    // A folder named with a byte that is not UTF-8 cannot be opened by the name read, as one without permissions cannot (the tests run as root).
    try {
      mkdirSync(Buffer.concat([Buffer.from(join(dir, "repo", "experimental", "bad")), Buffer.from([0xff])]), { recursive: true });
    } catch {
      return; // a file system that refuses such names (APFS)
    }
    expect((await run("check", "repo", "--exclude", "*.draft.policy")).stdout).toContain("error[PC001]");
    expect(await run("check", "repo", ...EXCLUDED)).toEqual({ code: 0, stdout: "ok: 2 files, 1 rule\n", stderr: "" });
    expect(await run("check", "repo", "--exclude", "*.draft.policy", "--exclude", "repo/experimental/**")).toEqual({ code: 0, stdout: "ok: 2 files, 1 rule\n", stderr: "" });
    rmSync(join(dir, "repo", "experimental"), { recursive: true, force: true });
    mkdirSync(join(dir, "repo", "experimental"));
    writeFileSync(join(dir, "repo", "experimental", "x.policy"), "policy x {\n  deny kb.nothing\n}\n");
  });

  it("PC216's help does not tell the user to pass a file they passed but excluded (exclude review #4)", async () => {
    const result = await run("check", "repo/team/allow.policy", "repo/schema.policy", "--exclude", "schema.policy");
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("error[PC216]");
    expect(result.stdout).not.toContain("pass the files with the declarations too");
    expect(result.stdout).toContain("help: --exclude left out `repo/schema.policy`: if the declarations are there, narrow the glob");
  });

  it("is in each verb's --help", async () => {
    for (const verb of ["check", "fmt", "build", "eval", "test", "diff"]) expect((await run(verb, "--help")).stdout).toContain("--exclude <glob>");
  });
});
