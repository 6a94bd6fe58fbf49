import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseRecordingLine, readRecording, readRecordingBatches, type RecordingLine } from "../../src/testing/readRecording.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-read-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function error(line: RecordingLine): string {
  expect(line.ok).toBe(false);
  return line.ok ? "" : line.error;
}

describe("parseRecordingLine", () => {
  it("takes the expectation out of a line: decision, rules, reason", () => {
    const line = parseRecordingLine('{"session":"s","tool":"t","decision":"deny","rules":["b","a"],"reason":"no"}', 3);
    expect(line).toMatchObject({ ok: true, line: 3, expect: { decision: "deny", rules: ["b", "a"], reason: "no" } });
    const plain = parseRecordingLine('{"session":"s","tool":"t","extra":{"kept":true}}', 1);
    expect(plain.ok && plain.expect).toBeUndefined();
    expect(plain.ok && plain.request["extra"]).toEqual({ kept: true });
  });

  it("says why a line cannot be a request", () => {
    expect(error(parseRecordingLine("{oops", 1))).toMatch(/^not JSON: /);
    expect(error(parseRecordingLine("[]", 1))).toBe("a recording line must be a JSON object, not an array");
    expect(error(parseRecordingLine("null", 1))).toBe("a recording line must be a JSON object, not null");
    expect(error(parseRecordingLine("7", 1))).toBe("a recording line must be a JSON object, not number");
    expect(error(parseRecordingLine('{"session":"s"}', 1))).toBe("the line has no `tool`");
    expect(error(parseRecordingLine('{"tool":"t"}', 1))).toBe("the line has no `session`");
    expect(error(parseRecordingLine('{"session":"s","tool":"t","decision":"permit"}', 1))).toBe('`decision` must be one of "allow", "ask", "deny"');
    expect(error(parseRecordingLine('{"session":"s","tool":"t","args":[]}', 1))).toBe("`args` must be object");
    expect(error(parseRecordingLine('{"session":"s","tool":"t","decision":"deny","rules":["a","b","a"]}', 1))).toBe('`rules` lists "a" twice (it is a set)');
    expect(error(parseRecordingLine('{"session":"s","tool":"t","decision":"deny","rules":["a",1]}', 1))).toBe("`rules.1` must be string");
  });
});

describe("readRecording", () => {
  it("streams lines with their numbers, skipping blank lines; CRLF and a BOM are fine", async () => {
    const file = join(dir, "r.jsonl");
    writeFileSync(file, '\ufeff{"session":"s","tool":"a"}\r\n\r\n   \r\n{"session":"s","tool":"b"}\r\nnope\r\n');
    const lines: RecordingLine[] = [];
    for await (const line of readRecording(file)) lines.push(line);
    expect(lines.map((l) => [l.line, l.ok])).toEqual([
      [1, true],
      [4, true],
      [5, false],
    ]);
    expect(lines[2]!.text).toBe("nope");
  });
});

describe("readRecordingBatches: a line too long to hold", () => {
  it("is reported with its number and skipped (its text not kept), and the lines after it are read", async () => {
    const ok = '{"session":"s","tool":"t"}';
    const long = `{"session":"s","tool":"t","args":{"x":"${"y".repeat(3_000_000)}"}}`; // spans several 1 MB chunks
    const file = join(dir, "long.jsonl");
    writeFileSync(file, [ok, long, ok, long].join("\n") + "\n" + ok);
    const lines: RecordingLine[] = [];
    for await (const batch of readRecordingBatches(file, undefined, 1_000_000)) lines.push(...batch);
    expect(lines.map((l) => [l.line, l.ok])).toEqual([[1, true], [2, false], [3, true], [4, false], [5, true]]);
    expect(error(lines[1]!)).toBe("the line is longer than 1000000 bytes: not read");
    expect(lines[1]).toMatchObject({ text: "" });
  });
});

describe("readRecordingBatches: bytes that are not UTF-8", () => {
  it("are reported on their line, never read as replacement characters; multi-byte text across chunks is fine", async () => {
    const file = join(dir, "bytes.jsonl");
    const ok = Buffer.from('{"session":"s","tool":"t","args":{"x":"日本語 ✓"}}\n');
    const filler = Buffer.from(`{"session":"f","tool":"t","args":{"x":"${"é".repeat(600_000)}"}}\n`); // crosses the 1 MB chunk edge inside characters
    writeFileSync(file, Buffer.concat([ok, Buffer.from('{"session":"s\xff","tool":"t"}\n', "latin1"), filler, ok, Buffer.from('{"session":"s\xfe","tool":"t"}', "latin1")]));
    const lines: RecordingLine[] = [];
    for await (const batch of readRecordingBatches(file)) lines.push(...batch);
    expect(lines.map((l) => [l.line, l.ok])).toEqual([[1, true], [2, false], [3, true], [4, true], [5, false]]);
    expect(error(lines[1]!)).toBe("the line is not valid UTF-8");
    expect(lines[3]!.ok && lines[3]!.request["args"]).toEqual({ x: "日本語 ✓" });
  });
});
