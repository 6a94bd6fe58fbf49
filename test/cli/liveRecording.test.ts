import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BIN, binEnvironment, ROOT } from "../helpers.js";

/**
 * A live logger that keeps the recording open and appends to it at chosen moments of `--update`,
 * every time at the same point: loaded before policyc (`--import`). `COPIED`: its text is
 * appended when the copy first reads the recording (after the temporary file was created);
 * `REPLACED`: just after the new file took the recording's place, through a descriptor opened
 * before, as a logger's O_APPEND descriptor goes on writing to the replaced file. A line split
 * between the two is one the logger had not finished when the copy reached the end.
 */
const LIVE_LOGGER = `
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
const TEMPORARY = /\\.policyc-[0-9a-f]+\\.tmp$/;
const { openSync, read, renameSync } = fs;
let copying = false;
fs.openSync = function (path, ...rest) {
  if (TEMPORARY.test(String(path))) copying = true;
  return openSync.call(fs, path, ...rest);
};
let copied = !process.env.COPIED;
fs.read = function (...args) {
  if (copying && !copied) {
    copied = true;
    fs.appendFileSync(process.env.RECORDING, process.env.COPIED);
  }
  return read.apply(fs, args);
};
let replaced = !process.env.REPLACED;
fs.renameSync = function (from, to) {
  if (!TEMPORARY.test(String(from)) || replaced) return renameSync.call(fs, from, to);
  replaced = true;
  const logger = openSync.call(fs, to, "a");
  renameSync.call(fs, from, to);
  fs.writeSync(logger, process.env.REPLACED);
  fs.closeSync(logger);
};
syncBuiltinESMExports();
`;

describe.skipIf(!existsSync(join(ROOT, "dist", "cli", "main.js")))("test --update on a recording a logger is still appending to (audit a4 #4)", () => {
  let dir: string;
  let recording: string;
  let stale: string;
  const line = (readFileSync(join(ROOT, "samples", "customer-support", "recordings", "happy-path.jsonl"), "utf8").split("\n")[0]!).replace('"session": "', '"session": "appended-') + "\n";
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), "policyc-live-"));
    cpSync(join(ROOT, "samples", "customer-support"), join(dir, "cs"), { recursive: true });
    writeFileSync(join(dir, "logger.mjs"), LIVE_LOGGER);
    recording = join(dir, "live.jsonl");
    stale = readFileSync(join(dir, "cs", "recordings", "attacks.jsonl"), "utf8").replaceAll('"decision": "allow"', '"decision": "ask"');
    writeFileSync(recording, stale);
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const update = (appended: { copied?: string; replaced?: string }) =>
    spawnSync(process.execPath, ["--import", join(dir, "logger.mjs"), BIN, "test", "cs", "--replay", "live.jsonl", "--update"], { cwd: dir, encoding: "utf8", env: binEnvironment({ RECORDING: recording, COPIED: appended.copied ?? "", REPLACED: appended.replaced ?? "" }) });
  const lostNote = (bytes: number): string =>
    `note: live.jsonl: ${bytes} bytes appended to it while --update replaced it are not in the recording: a writer that keeps the file open (a live logger) wrote them to the replaced file, or had not finished their line when it was replaced (an appended line is kept whole or not at all); stop the logger before --update, or update a copy`;
  const LOST_SUMMARY = "updated 1 recording with the actual decisions; review the diff; lines appended to it while it was replaced went to the replaced file and are lost (the notes say which)\n";

  it("a line appended while the recording was copied is kept, after the updated lines", () => {
    const run = update({ copied: line });
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("updated 1 recording with the actual decisions; review the diff\n");
    const text = readFileSync(recording, "utf8");
    expect(text.endsWith(line)).toBe(true);
    expect(text).not.toBe(stale + line);
  });

  it("a line appended after the recording was replaced is said to be lost, never a plain success", () => {
    const run = update({ replaced: line });
    expect(run.stderr).toBe(LOST_SUMMARY);
    expect(run.stdout).toContain(lostNote(Buffer.byteLength(line)));
    expect(readFileSync(recording, "utf8")).not.toContain("appended-");
  });

  it("a line the logger had not finished when the copy ended is left out whole, and said to be lost: the recording never ends halfway through a line (review r4 #2)", () => {
    const run = update({ copied: line.slice(0, 60), replaced: line.slice(60) });
    const text = readFileSync(recording, "utf8");
    expect(text.slice(-80)).not.toContain("appended-");
    expect(text.endsWith("}\n")).toBe(true);
    expect(run.stderr).toBe(LOST_SUMMARY);
    expect(run.stdout).toContain(lostNote(Buffer.byteLength(line)));
    // Every line of it still reads: the replay passes.
    const replay = spawnSync(process.execPath, [BIN, "test", "cs", "--replay", "live.jsonl"], { cwd: dir, encoding: "utf8", env: binEnvironment() });
    expect(replay.stderr).toBe("");
    expect(replay.status).toBe(0);
  });
});
