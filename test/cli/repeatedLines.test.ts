import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../helpers.js";

/**
 * A recording line written twice in a row, byte for byte (a log shipper's retry), replays as a
 * second attempt: `test` and `diff` say so, naming the lines, and decide as before (audit s22 f2 #4).
 */
let dir: string;

const POLICY = `tool kb.search { risk low args { q: string } }
policy p {
  @name("base") allow kb.search
  @name("loop") deny kb.search when session.repeats >= 2
}
`;
const NEW_POLICY = POLICY.replace("session.repeats >= 2", "session.repeats >= 1");

const line = (second: number, q: string, decision: string, rules: string[]): string => JSON.stringify({ time: `2026-11-30T10:00:0${second}Z`, session: "s", tool: "kb.search", args: { q }, decision, rules });
const A = line(1, "a", "allow", ["base"]);
const B = line(2, "b", "allow", ["base"]);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-repeated-lines-"));
  writeFileSync(join(dir, "p.policy"), POLICY);
  writeFileSync(join(dir, "new.policy"), NEW_POLICY);
  // Line 3 repeats line 2; lines 5 and 6 repeat line 4 (a blank line between is no line of the log).
  writeFileSync(join(dir, "log.jsonl"), [A, B, B, line(3, "c", "allow", ["base"]), "", line(3, "c", "allow", ["base"]), line(3, "c", "allow", ["base"])].join("\n") + "\n");
  // The same call again, but not the same bytes (another time): no retry of the shipper.
  writeFileSync(join(dir, "distinct.jsonl"), [A, line(2, "a", "allow", ["base"])].join("\n") + "\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[]) => cli(args, { cwd: dir });
const WARNING = (line: number, of: number): string => `repeats line ${of} byte for byte (a log shipper's retry writes a line twice?): replayed as another attempt, which session.count, session.repeats and the lines after it count; if the call was made once, delete line ${line}`;

describe("a line repeated byte for byte", () => {
  it("test says so, naming the lines, in the text report and in --reporter json; the decisions are as before", async () => {
    const result = await run(["test", "p.policy", "--replay", "log.jsonl"]);
    expect(result.stdout).toContain(`note: log.jsonl:3: ${WARNING(3, 2)}\n`);
    expect(result.stdout).toContain(`note: log.jsonl:6: ${WARNING(6, 4)}\n`);
    expect(result.stdout).toContain(`note: log.jsonl:7: ${WARNING(7, 4)}\n`);
    // Line 7 is the third `c` in a row: loop denies it, and the log says allow, as before the warning.
    expect(result.stdout).toContain("5 passed, 1 failed");
    expect(result.code).toBe(1);
    const json = JSON.parse((await run(["test", "p.policy", "--replay", "log.jsonl", "--reporter", "json"])).stdout) as { notes: { file: string; line: number; message: string }[] };
    expect(json.notes).toEqual([
      { file: "log.jsonl", line: 3, message: WARNING(3, 2) },
      { file: "log.jsonl", line: 6, message: WARNING(6, 4) },
      { file: "log.jsonl", line: 7, message: WARNING(7, 4) },
    ]);
  });

  it("the same call at another time is no repeat of the line", async () => {
    const result = await run(["test", "p.policy", "--replay", "distinct.jsonl"]);
    expect(result.stdout).not.toContain("byte for byte");
    expect(result.code).toBe(0);
  });

  it("diff says so too, with the line, in text and --json", async () => {
    const result = await run(["diff", "p.policy", "new.policy", "--replay", "log.jsonl"]);
    expect(result.stdout).toContain(`note: log.jsonl:3: ${WARNING(3, 2)}\n`);
    expect(result.stdout).toContain(`note: log.jsonl:7: ${WARNING(7, 4)}\n`);
    const json = JSON.parse((await run(["diff", "p.policy", "new.policy", "--replay", "log.jsonl", "--json"])).stdout) as { notes: unknown[]; lines: number };
    expect(json.lines).toBe(6);
    expect(json.notes).toEqual([
      { file: "log.jsonl", line: 3, message: WARNING(3, 2) },
      { file: "log.jsonl", line: 6, message: WARNING(6, 4) },
      { file: "log.jsonl", line: 7, message: WARNING(7, 4) },
    ]);
  });
});
