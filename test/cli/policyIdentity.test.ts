import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { XMLParser } from "fast-xml-parser";
import { ROOT, cli } from "../helpers.js";
import { writeKeys } from "./signing.js";
import { VERSION } from "../../src/version.js";

// The machine-readable reports of `test`, `eval` and `diff` name the policy set they judged by the
// hash `policyc build` prints, so a report kept as evidence says what it is evidence of.

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-identity-"));
  copyFileSync(join(ROOT, "test/fixtures/replay/demo.policy"), join(dir, "demo.policy"));
  // The demo's passing lines only: its exit codes are the run's, not the fixture's broken line's.
  const demo = readFileSync(join(ROOT, "test/fixtures/replay/demo.jsonl"), "utf8").split("\n");
  writeFileSync(join(dir, "calls.jsonl"), `${demo[0]}\n${demo[1]}\n`);
  writeFileSync(join(dir, "request.json"), demo[0]!);
  // Another policy set, for diff's other side: one rule more.
  mkdirSync(join(dir, "next"));
  writeFileSync(join(dir, "next", "demo.policy"), `${readFileSync(join(dir, "demo.policy"), "utf8")}\npolicy extra {\n  @name("no-http")\n  deny http.get\n}\n`);
  writeKeys(dir);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** The hash `policyc build` prints for PATHS built in `cwd` (and the bundle written to `out`). */
async function builtHash(paths: string[], out: string, options: { cwd?: string; sign?: boolean } = {}): Promise<string> {
  const result = await cli(["build", ...paths, "-o", out, ...(options.sign ? ["--sign", join(dir, "key.pem")] : [])], { cwd: options.cwd ?? dir });
  expect(result.code, result.stderr).toBe(0);
  const hash = /(sha256:[0-9a-f]{64})/.exec(result.stdout)?.[1];
  expect(hash, result.stdout).toBeDefined();
  return hash!;
}

describe("policy identity in machine-readable reports", () => {
  it("test --json names the sources by the hash build prints, the policyc version and `sources`; the exit code is the run's", async () => {
    const hash = await builtHash(["demo.policy"], "built.json");
    const result = await cli(["test", "demo.policy", "--replay", "calls.jsonl", "--json"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).policy).toEqual({ contentHash: hash, policyc: VERSION, from: "sources" });
  });

  it("sources given by an absolute path outside the working folder have the hash build prints there (build names them relative)", async () => {
    const inside = join(dir, "elsewhere");
    mkdirSync(inside);
    const source = join(dir, "demo.policy");
    const hash = await builtHash([source], "out.json", { cwd: inside });
    const result = await cli(["test", source, "--replay", join(dir, "calls.jsonl"), "--json"], { cwd: inside });
    expect(JSON.parse(result.stdout).policy.contentHash).toBe(hash);
    // Not the hash of the set under the absolute name.
    expect(hash).not.toBe(await builtHash(["demo.policy"], "again.json"));
  });

  it("a set mixing an absolute path outside the working folder with a relative one has build's hash, and builds the same bundle however its files are spelled", async () => {
    const outside = join(dir, "outside");
    const cwd = join(dir, "cwd");
    mkdirSync(outside);
    mkdirSync(cwd);
    copyFileSync(join(dir, "demo.policy"), join(outside, "a.policy"));
    writeFileSync(join(outside, "b.policy"), 'policy extra {\n  @name("no-http")\n  deny http.get\n}\n');
    // Typed so that the order of the spellings (`../` before `/`) is not the order of build's names (`../outside/a` before `../outside/b`).
    const mixed = [join(outside, "a.policy"), "../outside/b.policy"];
    const hash = await builtHash(mixed, "../mixed.json", { cwd });
    const result = await cli(["test", ...mixed, "--replay", join(dir, "calls.jsonl"), "--json"], { cwd });
    expect(result.code, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout).policy.contentHash).toBe(hash);
    expect(await builtHash(["../outside/a.policy", "../outside/b.policy"], "../relative.json", { cwd })).toBe(hash);
    expect(readFileSync(join(dir, "relative.json"), "utf8")).toBe(readFileSync(join(dir, "mixed.json"), "utf8"));
  });

  it("a bundle is named by its manifest's hash, its path, and whether it is signed and its signature checked", async () => {
    const hash = await builtHash(["demo.policy"], "signed.json", { sign: true });
    const unchecked = await cli(["test", "--bundle", "signed.json", "--replay", "calls.jsonl", "--json"], { cwd: dir });
    expect(unchecked.code).toBe(0);
    expect(JSON.parse(unchecked.stdout).policy).toEqual({ contentHash: hash, policyc: VERSION, from: "bundle", bundle: "signed.json", signed: true, signatureChecked: false });
    const checked = await cli(["test", "--bundle", "signed.json", "--public-key", "public.pem", "--replay", "calls.jsonl", "--json"], { cwd: dir });
    expect(JSON.parse(checked.stdout).policy).toEqual({ contentHash: hash, policyc: VERSION, from: "bundle", bundle: "signed.json", signed: true, signatureChecked: true });
    const unsignedHash = await builtHash(["demo.policy"], "unsigned.json");
    const unsigned = await cli(["test", "unsigned.json", "--replay", "calls.jsonl", "--json"], { cwd: dir });
    expect(JSON.parse(unsigned.stdout).policy).toEqual({ contentHash: unsignedHash, policyc: VERSION, from: "bundle", bundle: "unsigned.json", signed: false, signatureChecked: false });
  });

  it("test --reporter junit gives every suite the policy's properties", async () => {
    const hash = await builtHash(["demo.policy"], "built.json");
    const result = await cli(["test", "demo.policy", "--replay", "calls.jsonl", "--reporter", "junit", "--coverage"], { cwd: dir });
    expect(result.code).toBe(0);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "@", isArray: (name) => ["testsuite", "property"].includes(name) }).parse(result.stdout) as { testsuites: { testsuite: { "@name": string; properties: { property: { "@name": string; "@value": string }[] } }[] } };
    const suites = doc.testsuites.testsuite;
    expect(suites.map((suite) => suite["@name"])).toEqual(["calls.jsonl", "policyc test coverage"]);
    for (const suite of suites) {
      const properties = Object.fromEntries(suite.properties.property.map((p) => [p["@name"], p["@value"]]));
      expect(properties).toMatchObject({ "policy.contentHash": hash, "policy.policyc": VERSION, "policy.from": "sources" });
    }
  });

  it("test --reporter tap names the policy in a comment after the plan", async () => {
    const hash = await builtHash(["demo.policy"], "built.json");
    const result = await cli(["test", "demo.policy", "--replay", "calls.jsonl", "--reporter", "tap"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n").slice(0, 3)).toEqual(["TAP version 13", "1..2", `# policy: ${hash} from sources, policyc ${VERSION}`]);
    await builtHash(["demo.policy"], "signed.json", { sign: true });
    const bundled = await cli(["test", "--bundle", "signed.json", "--public-key", "public.pem", "--replay", "calls.jsonl", "--reporter", "tap"], { cwd: dir });
    expect(bundled.stdout).toMatch(/^# policy: sha256:[0-9a-f]{64} from bundle `signed.json` \(signed, signature checked\), policyc /m);
  });

  it("a run whose recordings cannot be read still names the policy in its JSON report", async () => {
    const hash = await builtHash(["demo.policy"], "built.json");
    const result = await cli(["test", "demo.policy", "--replay", "missing.jsonl", "--json"], { cwd: dir });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout).policy.contentHash).toBe(hash);
  });

  it("eval --json names the policy that decided", async () => {
    const hash = await builtHash(["demo.policy"], "built.json");
    const result = await cli(["eval", "demo.policy", "--request", "request.json", "--json"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout).policy).toEqual({ contentHash: hash, policyc: VERSION, from: "sources" });
  });

  it("diff --json names both sides", async () => {
    const oldHash = await builtHash(["demo.policy"], "old.json");
    const newHash = await builtHash(["next"], "new.json");
    const sources = await cli(["diff", "demo.policy", "next", "--replay", "calls.jsonl", "--json"], { cwd: dir });
    expect(sources.code).toBe(0);
    expect(JSON.parse(sources.stdout).policies).toEqual({ old: { contentHash: oldHash, policyc: VERSION, from: "sources" }, new: { contentHash: newHash, policyc: VERSION, from: "sources" } });
    const bundles = await cli(["diff", "old.json", "new.json", "--replay", "calls.jsonl", "--json"], { cwd: dir });
    expect(JSON.parse(bundles.stdout).policies).toMatchObject({ old: { contentHash: oldHash, from: "bundle", bundle: "old.json" }, new: { contentHash: newHash, from: "bundle", bundle: "new.json" } });
  });

  it("build --json says which policyc built the bundle", async () => {
    const result = await cli(["build", "demo.policy", "-o", "b.json", "--json"], { cwd: dir });
    expect(JSON.parse(result.stdout)).toMatchObject({ policyc: VERSION, contentHash: JSON.parse(readFileSync(join(dir, "b.json"), "utf8")).manifest.contentHash });
  });
});
