import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { BIN, ROOT } from "../helpers.js";

/**
 * A live logger that keeps the recording open and appends a line (`LINE`) at a chosen moment of
 * `--update`, every time at the same point: loaded before policyc (`--import`). `WHEN=copied`:
 * when the copy has read the recording to its end (after the temporary file was created);
 * `WHEN=replaced`: just after the new file took the recording's place, through a descriptor
 * opened before, as a logger's O_APPEND descriptor goes on writing to the replaced file.
 */
const LIVE_LOGGER = `
import fs from "node:fs";
import { syncBuiltinESMExports } from "node:module";
const TEMPORARY = /\\.policyc-[0-9a-f]+\\.tmp$/;
const { openSync, read, renameSync } = fs;
let copying = false;
let appended = false;
fs.openSync = function (path, ...rest) {
  if (TEMPORARY.test(String(path))) copying = true;
  return openSync.call(fs, path, ...rest);
};
if (process.env.WHEN === "copied") {
  fs.read = function (fd, ...rest) {
    const callback = rest.pop();
    return read.call(fs, fd, ...rest, (error, bytesRead, buffer) => {
      if (!error && bytesRead === 0 && copying && !appended) {
        appended = true;
        fs.appendFileSync(process.env.RECORDING, process.env.LINE);
      }
      callback(error, bytesRead, buffer);
    });
  };
}
if (process.env.WHEN === "replaced") {
  fs.renameSync = function (from, to) {
    if (!TEMPORARY.test(String(from)) || appended) return renameSync.call(fs, from, to);
    appended = true;
    const logger = openSync.call(fs, to, "a");
    renameSync.call(fs, from, to);
    fs.writeSync(logger, process.env.LINE);
    fs.closeSync(logger);
  };
}
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

  const update = (when: "copied" | "replaced") =>
    spawnSync(process.execPath, ["--import", join(dir, "logger.mjs"), BIN, "test", "cs", "--replay", "live.jsonl", "--update"], { cwd: dir, encoding: "utf8", env: { ...process.env, NO_COLOR: "1", WHEN: when, RECORDING: recording, LINE: line } });

  it("a line appended while the recording was copied is kept, after the updated lines", () => {
    const run = update("copied");
    expect(run.status).toBe(0);
    expect(run.stderr).toBe("updated 1 recording with the actual decisions; review the diff\n");
    const text = readFileSync(recording, "utf8");
    expect(text.endsWith(line)).toBe(true);
    expect(text).not.toBe(stale + line);
  });

  it("a line appended after the recording was replaced is said to be lost, never a plain success", () => {
    const run = update("replaced");
    expect(run.stderr).toBe("updated 1 recording with the actual decisions; review the diff; lines appended to it while it was replaced went to the replaced file and are lost (the notes say which)\n");
    expect(run.stdout).toContain(`note: live.jsonl: ${Buffer.byteLength(line)} bytes were appended to it after --update replaced it`);
    expect(readFileSync(recording, "utf8")).not.toContain("appended-");
  });
});
