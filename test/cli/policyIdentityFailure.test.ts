import { copyFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from "vitest";

// A set from sources is named by the hash of the bundle build would write (createBundle): made to
// fail here, as a fault of it would, to hold the verbs to judging and reporting without the name
// rather than failing; and counted, to hold them to computing it only for a report that prints it.
const bundles = vi.hoisted(() => ({ made: 0, fail: false }));
vi.mock("../../src/bundle/writeBundle.js", async (original) => {
  const actual = await original<typeof import("../../src/bundle/writeBundle.js")>();
  return {
    ...actual,
    createBundle: (...args: Parameters<typeof actual.createBundle>) => {
      bundles.made++;
      if (bundles.fail) throw new Error("a fault of createBundle");
      return actual.createBundle(...args);
    },
  };
});

const { ROOT, cli } = await import("../helpers.js");

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-identity-failure-"));
  copyFileSync(join(ROOT, "test/fixtures/replay/demo.policy"), join(dir, "demo.policy"));
  const demo = readFileSync(join(ROOT, "test/fixtures/replay/demo.jsonl"), "utf8").split("\n");
  writeFileSync(join(dir, "calls.jsonl"), `${demo[0]}\n${demo[1]}\n`);
  writeFileSync(join(dir, "request.json"), demo[0]!);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});
beforeEach(() => {
  bundles.made = 0;
  bundles.fail = false;
});

describe("the policy's identity, computed only when a report prints it, and never failing the verb", () => {
  it("test, eval and diff with their text reports (and test's github) compute no bundle", async () => {
    expect((await cli(["test", "demo.policy", "--replay", "calls.jsonl"], { cwd: dir })).code).toBe(0);
    expect((await cli(["test", "demo.policy", "--replay", "calls.jsonl", "--reporter", "github"], { cwd: dir })).code).toBe(0);
    expect((await cli(["eval", "demo.policy", "--request", "request.json"], { cwd: dir })).code).toBe(0);
    expect((await cli(["diff", "demo.policy", "demo.policy", "--replay", "calls.jsonl"], { cwd: dir })).code).toBe(0);
    expect(bundles.made).toBe(0);
  });

  it("test with json, junit and tap reports to files computes it once", async () => {
    const result = await cli(["test", "demo.policy", "--replay", "calls.jsonl", "--reporter", "json=r.json", "--reporter", "junit=r.xml", "--reporter", "tap=r.tap"], { cwd: dir });
    expect(result.code, result.stderr).toBe(0);
    expect(bundles.made).toBe(1);
    expect(readFileSync(join(dir, "r.tap"), "utf8")).toMatch(/^# policy: sha256:/m);
  });

  it("when it cannot be computed, the reports leave the policy out and the exit codes are the run's", async () => {
    bundles.fail = true;
    const json = await cli(["test", "demo.policy", "--replay", "calls.jsonl", "--json"], { cwd: dir });
    expect(json.code, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout)).not.toHaveProperty("policy");
    const tap = await cli(["test", "demo.policy", "--replay", "calls.jsonl", "--reporter", "tap"], { cwd: dir });
    expect(tap.code).toBe(0);
    expect(tap.stdout).not.toContain("# policy:");
    const junit = await cli(["test", "demo.policy", "--replay", "calls.jsonl", "--reporter", "junit"], { cwd: dir });
    expect(junit.code).toBe(0);
    expect(junit.stdout).not.toContain("policy.contentHash");
    const evaluated = await cli(["eval", "demo.policy", "--request", "request.json", "--json"], { cwd: dir });
    expect(evaluated.code).toBe(0);
    expect(JSON.parse(evaluated.stdout)).not.toHaveProperty("policy");
    const diffed = await cli(["diff", "demo.policy", "demo.policy", "--replay", "calls.jsonl", "--json"], { cwd: dir });
    expect(diffed.code).toBe(0);
    expect(JSON.parse(diffed.stdout).policies).toEqual({});
  });
});
