import { createWriteStream, existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { once } from "node:events";
import { spawnSync } from "node:child_process";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BIN, ROOT } from "../helpers.js";

const DEMO_POLICY = "test/fixtures/replay/demo.policy";
const FULL = "test/fixtures/replay/full.jsonl";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-large-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function lines(text: string): string[] {
  return text.split("\n").filter((l) => l !== "");
}

describe("policyc test: a large recording", () => {
  it("a 100 MB recording streams in bounded memory", async () => {
    const file = join(dir, "big.jsonl");
    const chunk = lines(readFileSync(join(ROOT, FULL), "utf8")).slice(0, 4).join("\n") + "\n";
    const out = createWriteStream(file);
    let size = 0;
    let count = 0;
    while (size < 100 * 1024 * 1024) {
      if (!out.write(chunk)) await once(out, "drain");
      size += chunk.length;
      count += 4;
    }
    out.end();
    await once(out, "finish");
    // A 64 MB heap cannot hold the file: passing proves the recording is streamed.
    const args = ["--max-old-space-size=64", BIN, "test", DEMO_POLICY, "--replay", file];
    const env = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "" };
    const timed = existsSync("/usr/bin/time");
    // Run as a user would (pretty reporter: only failures are kept), reading the peak RSS when `time -v` is there.
    const result = timed ? spawnSync("/usr/bin/time", ["-v", process.execPath, ...args], { cwd: ROOT, encoding: "utf8", env }) : spawnSync(process.execPath, args, { cwd: ROOT, encoding: "utf8", env });
    expect(result.status, result.stderr).toBe(0);
    expect(lines(result.stdout).at(-1)).toBe(`${count} passed, 0 failed`);
    if (timed) {
      const rss = Number(/Maximum resident set size \(kbytes\): (\d+)/.exec(result.stderr)?.[1]);
      expect(rss).toBeLessThan(400 * 1024);
    }
    rmSync(file);
  }, 60_000);

  it("reporters that list every case (json, junit, tap) keep a case in short and write as they go: 30 MB in a 96 MB heap (keeping every case in full ran out of memory at 80 MB)", async () => {
    const file = join(dir, "listed.jsonl");
    const chunk = lines(readFileSync(join(ROOT, FULL), "utf8")).slice(0, 4).join("\n") + "\n";
    const count = 4 * Math.ceil((30 * 1024 * 1024) / chunk.length);
    const out = createWriteStream(file);
    for (let written = 0; written < count; written += 4) if (!out.write(chunk)) await once(out, "drain");
    out.end();
    await once(out, "finish");
    const env = { ...process.env, NO_COLOR: "1", FORCE_COLOR: "" };
    for (const reporter of ["json", "junit", "tap"]) {
      // Holding every case's arguments and decision, or the report as one string, does not fit in 96 MB.
      const result = spawnSync(process.execPath, ["--max-old-space-size=96", BIN, "test", DEMO_POLICY, "--replay", file, "--reporter", reporter], { cwd: ROOT, encoding: "utf8", env, maxBuffer: 1024 * 1024 * 1024 });
      expect(result.status, `${reporter}: ${result.stderr}`).toBe(0);
      if (reporter === "json") {
        const report = JSON.parse(result.stdout) as { passed: number; cases: { ok: boolean; request: string }[] };
        expect(report.passed).toBe(count);
        expect(report.cases).toHaveLength(count);
        expect(report.cases[0]).toMatchObject({ ok: true, request: 'kb.search query="refunds"' });
      } else expect(result.stdout.split(reporter === "tap" ? /^ok /m : /<testcase /).length - 1, reporter).toBe(count);
    }
    rmSync(file);
  }, 120_000);
});
