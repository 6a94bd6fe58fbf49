import { chmodSync, chownSync, cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { cli, ROOT } from "../helpers.js";

/** Another user's files, as a checkout mounted from the host is for root in a CI container. */
const HOST_USER = { uid: 1000, gid: 1000 };
const ownerOf = (path: string): { uid: number; gid: number } => {
  const { uid, gid } = statSync(path);
  return { uid, gid };
};

describe.skipIf(process.getuid?.() !== 0)("a file policyc rewrites keeps its owner and group", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "policyc-owner-"));
    cpSync(join(ROOT, "samples", "customer-support"), join(dir, "cs"), { recursive: true });
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it("fmt --write", async () => {
    const file = join(dir, "z.policy");
    writeFileSync(file, "tool   t {risk low}\n");
    chmodSync(file, 0o664);
    chownSync(file, HOST_USER.uid, HOST_USER.gid);
    expect(await cli(["fmt", "--write", "z.policy"], { cwd: dir })).toMatchObject({ code: 0, stdout: "z.policy\n", stderr: "1 file formatted, 0 unchanged\n" });
    expect(readFileSync(file, "utf8")).toContain("\n  risk");
    expect(ownerOf(file)).toEqual(HOST_USER);
    expect(statSync(file).mode & 0o777).toBe(0o664);
  });

  it("test --update", async () => {
    const recording = join(dir, "cs", "recordings", "attacks.jsonl");
    writeFileSync(recording, readFileSync(recording, "utf8").replaceAll('"decision": "allow"', '"decision": "ask"'));
    chownSync(recording, HOST_USER.uid, HOST_USER.gid);
    const run = await cli(["test", "cs", "--replay", recording, "--update"], { cwd: dir });
    expect(run.stderr).toContain("updated 1 recording");
    expect(ownerOf(recording)).toEqual(HOST_USER);
  });

  it("build over an existing bundle", async () => {
    expect((await cli(["build", "cs", "-o", "b.json"], { cwd: dir })).code).toBe(0);
    chownSync(join(dir, "b.json"), HOST_USER.uid, HOST_USER.gid);
    writeFileSync(join(dir, "cs", "extra.policy"), "tool extra.thing {risk low}\n");
    expect((await cli(["build", "cs", "-o", "b.json"], { cwd: dir })).code).toBe(0);
    expect(readFileSync(join(dir, "b.json"), "utf8")).toContain("extra.thing");
    expect(ownerOf(join(dir, "b.json"))).toEqual(HOST_USER);
  });
});
