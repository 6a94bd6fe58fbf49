import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BIN, ROOT } from "../helpers.js";

/**
 * An interrupt that arrives while a temporary file is being written, every time and at the same
 * point: loaded before policyc (`--import`), it sends the process the signal in `SIGNAL` when
 * the first temporary file is created (after policyc started listening for it), so the test
 * does not race a `kill` against the writes.
 */
const INTERRUPT_AT_FIRST_TEMPORARY = `
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
const open = fs.openSync;
let sent = false;
fs.openSync = function (path, ...rest) {
  const descriptor = open.call(fs, path, ...rest);
  if (!sent && /\\.policyc-[0-9a-f]+\\.tmp$/.test(String(path))) {
    sent = true;
    process.kill(process.pid, process.env.SIGNAL);
  }
  return descriptor;
};
syncBuiltinESMExports();
`;

/** Counts how often policyc starts and stops listening for SIGINT, and says so on standard error at exit. */
const COUNT_LISTENERS = `
import fs from "node:fs";
const { on, removeListener } = process;
let adds = 0;
let removes = 0;
process.on = function (name, ...rest) {
  if (name === "SIGINT") adds++;
  return on.call(this, name, ...rest);
};
process.removeListener = function (name, ...rest) {
  if (name === "SIGINT") removes++;
  return removeListener.call(this, name, ...rest);
};
on.call(process, "exit", () => fs.writeSync(2, \`SIGINT listeners added \${adds}, removed \${removes}\\n\`));
`;

const UNFORMATTED = (n: number): string => `tool   t${n} {risk low}\n`;

describe.skipIf(!existsSync(join(ROOT, "dist", "cli", "main.js")))("an interrupt while files are written", () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "policyc-interrupt-"));
    writeFileSync(join(dir, "interrupt.mjs"), INTERRUPT_AT_FIRST_TEMPORARY);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const interrupted = (args: string[], signal: NodeJS.Signals) => spawnSync(process.execPath, ["--import", join(dir, "interrupt.mjs"), BIN, ...args], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", SIGNAL: signal } });
  const temporariesIn = (folder: string): string[] => readdirSync(folder).filter((name) => name.endsWith(".tmp"));

  it.each(["SIGINT", "SIGTERM", "SIGHUP"] as const)("fmt --write stops after the file being written on %s, and ends by the signal", (signal) => {
    mkdirSync(join(dir, "p"));
    for (let n = 1; n <= 5; n++) writeFileSync(join(dir, "p", `f${n}.policy`), UNFORMATTED(n));
    const run = interrupted(["fmt", "--write", "p"], signal);
    expect(run.signal).toBe(signal);
    expect(run.stdout).toBe("");
    // The only file: the signal is acted on before the summary too.
    writeFileSync(join(dir, "one.policy"), UNFORMATTED(1));
    expect(interrupted(["fmt", "--write", "one.policy"], signal)).toMatchObject({ signal, stdout: "" });
    const texts = readdirSync(join(dir, "p")).filter((name) => name.endsWith(".policy")).map((name) => readFileSync(join(dir, "p", name), "utf8"));
    // The file being written when the signal came is in place, whole; the others are untouched.
    expect(texts.filter((text) => text.includes("\n  risk")).length).toBe(1);
    expect(texts.filter((text) => /^tool {3}t\d \{risk low\}\n$/.test(text)).length).toBe(4);
    expect(temporariesIn(join(dir, "p"))).toEqual([]);
  });

  it("fmt --write listens for interrupts from the first file to past the last, never dropping them between two files (review r4 #1)", () => {
    // Listeners removed after a file and added again for the next would drop a signal that came in between.
    writeFileSync(join(dir, "count.mjs"), COUNT_LISTENERS);
    mkdirSync(join(dir, "p"));
    for (let n = 1; n <= 100; n++) writeFileSync(join(dir, "p", `f${n}.policy`), UNFORMATTED(n));
    const run = spawnSync(process.execPath, ["--import", join(dir, "count.mjs"), BIN, "fmt", "--write", "p"], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
    expect(run).toMatchObject({ status: 0, stderr: "100 files formatted, 0 unchanged\nSIGINT listeners added 1, removed 1\n" });
    expect(run.stdout.split("\n").filter((line) => line !== "")).toHaveLength(100);
  });

  it("build ends by the signal once the bundle and policy.ts are both in place (written whole)", () => {
    cpSync(join(ROOT, "samples", "customer-support"), join(dir, "cs"), { recursive: true });
    const run = interrupted(["build", "cs", "--target", "ts", "-o", "out/"], "SIGTERM");
    expect(run.signal).toBe("SIGTERM");
    expect(JSON.parse(readFileSync(join(dir, "out", "bundle.json"), "utf8"))).toHaveProperty("rules");
    expect(existsSync(join(dir, "out", "policy.ts"))).toBe(true);
    expect(temporariesIn(join(dir, "out"))).toEqual([]);
  });

  it("test --update leaves the recording as it was and ends by the signal", () => {
    cpSync(join(ROOT, "samples", "customer-support"), join(dir, "cs"), { recursive: true });
    const recording = join(dir, "cs", "recordings", "attacks.jsonl");
    const before = readFileSync(recording, "utf8").replaceAll('"decision": "allow"', '"decision": "ask"');
    writeFileSync(recording, before);
    const run = interrupted(["test", "cs", "--replay", recording, "--update"], "SIGINT");
    expect(run.signal).toBe("SIGINT");
    expect(readFileSync(recording, "utf8")).toBe(before);
    expect(temporariesIn(join(dir, "cs", "recordings"))).toEqual([]);
  });
  it("test --reporter NAME=FILE: an interrupt while the report files are written ends the run by the signal, no temporary file left (review r0)", () => {
    cpSync(join(ROOT, "samples", "customer-support"), join(dir, "cs"), { recursive: true });
    const run = interrupted(["test", "cs", "--replay", join(dir, "cs", "recordings"), "--reporter", "junit=reports/a.xml", "--reporter", "tap=reports/a.tap"], "SIGTERM");
    expect(run.signal).toBe("SIGTERM");
    // The report being written when the signal came is in place, whole; the one after it is not written.
    expect(readFileSync(join(dir, "reports", "a.xml"), "utf8")).toMatch(/<\/testsuites>\n$/);
    expect(existsSync(join(dir, "reports", "a.tap"))).toBe(false);
    expect(temporariesIn(join(dir, "reports"))).toEqual([]);
  });
});
