import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cpuMilliseconds } from "../helpers.js";
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

  it("reads an approval line (`\"event\": \"approval\"`): no decision, what Engine.approved returned as its expectation", () => {
    const line = parseRecordingLine('{"event":"approval","time":"2025-01-01T10:00:00Z","session":"s","tool":"t","args":{},"approved":true,"reasons":["kept as logged"]}', 4);
    expect(line).toMatchObject({ ok: true, line: 4, approval: { approved: true } });
    expect(line.ok && "expect" in line).toBe(false);
    expect(parseRecordingLine('{"event":"approval","session":"s","tool":"t","approved":false}', 1)).toMatchObject({ ok: true, approval: { approved: false } });
    // The older form, `approved` on an attempt's line, is an attempt still.
    const ask = parseRecordingLine('{"session":"s","tool":"t","decision":"ask","approved":true}', 1);
    expect(ask.ok && ask.approval).toBeUndefined();
    expect(ask).toMatchObject({ ok: true, expect: { decision: "ask" } });
  });

  it("says why an approval line is malformed: a decision on it, no `approved`, another event, a misspelled `event`", () => {
    const approval = '"event":"approval","session":"s","tool":"t"';
    expect(error(parseRecordingLine(`{${approval},"approved":true,"decision":"ask"}`, 1))).toMatch(/^an approval line \(`"event": "approval"`\) cannot have `decision`: an approval decides nothing/);
    expect(error(parseRecordingLine(`{${approval},"approved":true,"decision":"ask","rules":[]}`, 1))).toMatch(/cannot have `decision` and `rules`:/);
    expect(error(parseRecordingLine(`{${approval},"approved":true,"decision":"ask","rules":[],"reason":"r"}`, 1))).toMatch(/cannot have `decision`, `rules`, `reason`:/);
    // Without a decision beside it, `rules` is the approval's mistake, not a missing decision.
    expect(error(parseRecordingLine(`{${approval},"approved":true,"rules":[]}`, 1))).toMatch(/cannot have `rules`:/);
    expect(error(parseRecordingLine(`{${approval}}`, 1))).toMatch(/^an approval line \(`"event": "approval"`\) needs `"approved"`: what `engine\.approved\(request\)` returned/);
    expect(error(parseRecordingLine(`{${approval},"approved":"yes"}`, 1))).toBe('`approved` must be true or false, not the string "yes"');
    expect(error(parseRecordingLine('{"event":"Approval","session":"s","tool":"t","approved":true}', 1))).toMatch(/^`event` must be "approval" or "revocation": did you mean "approval"\?/);
    expect(error(parseRecordingLine('{"event":"attempt","session":"s","tool":"t"}', 1))).toMatch(/^`event` must be "approval" or "revocation" \(it marks a person's approval or an operator's revocation; an attempt has no `event`/);
    expect(error(parseRecordingLine('{"Event":"approval","session":"s","tool":"t","approved":true}', 1))).toMatch(/^`Event` looks like a misspelled `event`, which would replay a person's approval as an attempt/);
    expect(error(parseRecordingLine('{"session":"s","tool":"t","decision":"allow","evnt":"x"}', 1))).toMatch(/^`evnt` looks like a misspelled `event`/);
  });

  it("takes a decision log's line for a request the engine refused (deny, rules []) with request fields of any type, as it was logged", () => {
    const logged = '{"time":1764491700,"session":"s","agent":"bot","tool":"t","args":"T-1","context":null,"decision":"deny","rules":[],"reasons":["request.args must be an object"]}';
    const line = parseRecordingLine(logged, 3);
    expect(line).toMatchObject({ ok: true, line: 3, expect: { decision: "deny", rules: [] } });
    expect(line.ok && line.request).toEqual(JSON.parse(logged));
    // Anything else on it must still fit, and another expectation is a mistake written by hand.
    expect(error(parseRecordingLine('{"session":"s","tool":"t","args":"x","decision":"deny","rules":[],"reason":5}', 1))).toBe('`reason` must be a string: write it in quotes, "5"');
    expect(error(parseRecordingLine('{"session":"s","tool":"t","args":"x","decision":"allow","rules":[]}', 1))).toBe("`args` must be an object, not the string \"x\"");
    expect(error(parseRecordingLine('{"session":"s","tool":"t","args":"x","decision":"deny","rules":["r"]}', 1))).toBe("`args` must be an object, not the string \"x\"");
    // A deny without `rules` is told how a refusal is written.
    expect(error(parseRecordingLine('{"session":"s","tool":"t","args":"x","decision":"deny"}', 1))).toBe('`args` must be an object, not the string "x" (a line that records the engine refusing such a request replays with `"rules": []` beside its `"decision": "deny"`)');
  });

  it("takes a logged refusal whose request named no tool (missing, null, empty, not a string); any other such line is malformed, with its hint (audit T, F1)", () => {
    for (const tool of ["", ',"tool":null', ',"tool":""', ',"tool":["a.x"]', ',"tool":7']) {
      const logged = `{"session":"s"${tool},"args":{},"decision":"deny","rules":[]}`;
      expect(parseRecordingLine(logged, 2), logged).toMatchObject({ ok: true, line: 2, request: JSON.parse(logged), expect: { decision: "deny", rules: [] } });
      // What else it has must still fit.
      expect(error(parseRecordingLine(logged.slice(0, -1) + ',"reason":5}', 1)), logged).toBe('`reason` must be a string: write it in quotes, "5"');
    }
    expect(error(parseRecordingLine('{"session":"s","tool":null,"decision":"allow"}', 1))).toBe("`tool` must be a string, not null");
    expect(error(parseRecordingLine('{"session":"s","tool":null,"decision":"deny","rules":["r"]}', 1))).toBe("`tool` must be a string, not null");
    expect(error(parseRecordingLine('{"session":"s","tool":null}', 1))).toBe("`tool` must be a string, not null");
    expect(error(parseRecordingLine('{"session":"s","decision":"allow"}', 1))).toBe("the line has no `tool`");
    const hint = ' (a line that records the engine refusing such a request replays with `"rules": []` beside its `"decision": "deny"`)';
    expect(error(parseRecordingLine('{"session":"s","decision":"deny"}', 1))).toBe(`the line has no \`tool\`${hint}`);
    expect(error(parseRecordingLine('{"session":"s","tool":[],"decision":"deny"}', 1))).toBe(`\`tool\` must be a string, not a list${hint}`);
    expect(error(parseRecordingLine('{"session":"s","tool":"","decision":"deny"}', 1))).toMatch(/^`tool` .*beside its `"decision": "deny"`\)$/);
  });

  it("says why a line cannot be a request", () => {
    expect(error(parseRecordingLine("{oops", 1))).toMatch(/^not JSON at column 2: unexpected `oops` where a property name in double quotes belongs$/);
    expect(error(parseRecordingLine("[]", 1))).toBe("a recording line must be a JSON object, not an array");
    expect(error(parseRecordingLine("null", 1))).toBe("a recording line must be a JSON object, not null");
    expect(error(parseRecordingLine("7", 1))).toBe("a recording line must be a JSON object, not number");
    expect(error(parseRecordingLine('{"session":"s"}', 1))).toBe("the line has no `tool`");
    expect(error(parseRecordingLine('{"tool":"t"}', 1))).toBe("the line has no `session`");
    expect(error(parseRecordingLine('{"session":"s","tool":"t","decision":"permit"}', 1))).toBe('`decision` must be one of "allow", "ask", "deny"');
    expect(error(parseRecordingLine('{"session":"s","tool":"t","args":[]}', 1))).toBe("`args` must be an object, not a list");
    expect(error(parseRecordingLine('{"session":"s","tool":"t","intent":7}', 1))).toBe("`intent` must be a string or null, not the number 7");
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
    for await (const batch of readRecordingBatches(file, undefined, { maxLineBytes: 1_000_000 })) lines.push(...batch);
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

describe("readRecordingBatches: UTF-16 appended to a UTF-8 recording (PowerShell 5.1's `>>`)", () => {
  const good = JSON.stringify({ session: "a", tool: "t", args: { q: "x" } });
  async function read(content: Buffer, chunkBytes: number, pieceBytes?: number): Promise<RecordingLine[]> {
    const file = join(dir, "appended16.jsonl");
    writeFileSync(file, content);
    const lines: RecordingLine[] = [];
    for await (const batch of readRecordingBatches(file, undefined, { chunkBytes, pieceBytes })) lines.push(...batch);
    return lines;
  }

  it("is named as UTF-16 at its line, from a line's start or within a last line without a line end, whatever the chunks", async () => {
    const utf16 = Buffer.from(`${good}\r\n`, "utf16le");
    const cases = [
      { content: Buffer.concat([Buffer.from(`${good}\n${good}\n`), utf16]), line: 3, said: /^the file is UTF-16 text from this line on/ },
      { content: Buffer.concat([Buffer.from(`${good}\n${good}`), utf16]), line: 2, said: /^the line has no line end after its UTF-8 text, and UTF-16 text follows it/ },
      { content: Buffer.concat([Buffer.from(`${good}\n${good}`), Buffer.from([0xff, 0xfe]), utf16]), line: 2, said: /^the line has no line end after its UTF-8 text, and UTF-16 text follows it/ },
      // The file's only line, saved without a line end (as Notepad saves it): not "a binary file" (review r7).
      { content: Buffer.concat([Buffer.from(good), utf16]), line: 1, said: /^the line has no line end after its UTF-8 text, and UTF-16 text follows it/ },
    ];
    for (const { content, line, said } of cases) {
      for (const [chunkBytes, pieceBytes] of [[1], [7], [16], [64], [100], [1000], [1000, 5], [1000, 50]] as const) {
        const lines = await read(content, chunkBytes, pieceBytes);
        expect(lines.map((l) => l.ok), `chunks of ${chunkBytes}, pieces of ${pieceBytes}`).toEqual([...Array<boolean>(line - 1).fill(true), false]);
        expect(error(lines.at(-1)!), `chunks of ${chunkBytes}, pieces of ${pieceBytes}`).toMatch(said);
        expect(lines.at(-1)!.line).toBe(line);
      }
    }
  });
});

describe("readRecordingBatches: a long line read in many pieces", () => {
  it("is held in time linear in its length, whether it is read or refused as too long", async () => {
    const file = join(dir, "long-line.jsonl");
    const long = JSON.stringify({ session: "a", tool: "t", args: { q: "x".repeat(3_000_000) } });
    writeFileSync(file, `${long}\n${JSON.stringify({ session: "b", tool: "t" })}\n`);
    // Pieces of 64 bytes: 47,000 of them for the line (joined at every piece, ~70 GB were copied).
    for (const maxLineBytes of [4 * 1_048_576, 2 * 1_048_576]) {
      const started = cpuMilliseconds();
      const lines: RecordingLine[] = [];
      for await (const batch of readRecordingBatches(file, undefined, { chunkBytes: 4096, pieceBytes: 64, maxLineBytes })) lines.push(...batch);
      expect(cpuMilliseconds() - started, `a limit of ${maxLineBytes} bytes`).toBeLessThan(5_000);
      expect(lines.map((l) => [l.line, l.ok])).toEqual([[1, maxLineBytes > long.length], [2, true]]);
      if (maxLineBytes < long.length) expect(error(lines[0]!)).toBe("the line is longer than 2 MB: not read");
    }
  });
});

describe("readRecordingBatches: a binary file", () => {
  it("names the offset of its NUL byte in the file, whatever the pieces a read is cut into", async () => {
    const file = join(dir, "binary.jsonl");
    writeFileSync(file, Buffer.concat([Buffer.from("   \n\n\nxx"), Buffer.from([0]), Buffer.from("yy\n")]));
    for (const [chunkBytes, pieceBytes] of [[1000, 1], [1000, 2], [1000, 3], [1000, 64]]) {
      const read = async (): Promise<void> => {
        for await (const batch of readRecordingBatches(file, undefined, { chunkBytes, pieceBytes })) void batch;
      };
      await expect(read(), `reads of ${chunkBytes}, pieces of ${pieceBytes}`).rejects.toThrow("it contains a NUL byte at offset 8");
    }
  });
});

describe("readRecordingBatches: a JSON object written over several lines among one-line requests", () => {
  const good = (session: string): string => JSON.stringify({ session, tool: "t", args: { q: "x" } });
  const pretty = (value: unknown, indent = ""): string[] => JSON.stringify(value, null, 2).split("\n").map((line) => indent + line);
  /** Every entry as [line, ok, endLine] (endLine only on an error about several lines). */
  const outline = (lines: readonly RecordingLine[]): unknown[] => lines.map((l) => (!l.ok && l.endLine !== undefined ? [l.line, l.ok, l.endLine] : [l.line, l.ok]));
  async function read(content: string, limits?: { chunkBytes?: number; pieceBytes?: number }): Promise<RecordingLine[]> {
    const file = join(dir, "several.jsonl");
    writeFileSync(file, content);
    const lines: RecordingLine[] = [];
    for await (const batch of readRecordingBatches(file, undefined, limits)) lines.push(...batch);
    return lines;
  }
  // Two pasted requests (the second indented, with a blank line and CRLF), a pretty array, a
  // request cut short, a truly broken line, and a pasted request that ends the file (no newline).
  const content = [
    good("a"),
    ...pretty({ session: "b", tool: "t", args: { q: "x", list: [{ id: 1 }, { id: 2 }] } }),
    good("c"),
    ...pretty({ session: "d", tool: "t" }, "    ").map((line, i) => (i === 1 ? `${line}\r\n` : line)),
    good("e"),
    ...pretty([{ session: "f", tool: "t" }]),
    '{"session":"g","tool":"t","args":{"q":"x"}',
    good("h"),
    "not json",
    good("i"),
    ...pretty({ session: "j", tool: "t" }),
  ].join("\n");
  const expected = [[1, true], [2, false, 16], [17, true], [18, false, 22], [23, true], [24, false, 29], [30, false], [31, true], [32, false], [33, true], [34, false, 37]];

  it("is one error at its first line that names its lines, and the good lines after it are read", async () => {
    const lines = await read(content);
    expect(outline(lines)).toEqual(expected);
    expect(error(lines[1]!)).toBe("lines 2–16 are one JSON object written over several lines: put it on one line (`jq -c` writes it so); joined, the lines parse as a JSON object");
    expect(error(lines[5]!)).toBe("lines 24–29 are one JSON array written over several lines: put each request in it on a line of its own (`jq -c '.[]'` writes them so); joined, the lines parse as a JSON array");
    // A request cut short opens an object that the next good line shows never was one: reported alone, as any broken line.
    expect(error(lines[6]!)).toMatch(/^not JSON at column \d+: the line ends before its JSON value does$/);
    expect(error(lines[8]!)).toBe("not JSON at column 1: unexpected `not`");
    expect(error(lines[10]!)).toBe("lines 34–37 are one JSON object written over several lines: put it on one line (`jq -c` writes it so); joined, the lines parse as a JSON object");
    // The value's own lines are not replayed: the one-line object inside the first is no request.
    expect(lines.filter((l) => l.ok).map((l) => l.ok && l.request["session"])).toEqual(["a", "c", "e", "h", "i"]);
  });

  it("is the same whatever the chunks the file is read in: a value may span several", async () => {
    for (const chunkBytes of [1, 7, 64, 333]) expect(outline(await read(content, { chunkBytes })), `chunks of ${chunkBytes} bytes`).toEqual(expected);
  });

  it("is the same whatever the pieces a read is cut into (lines and values spanning pieces, a piece without a line end)", async () => {
    for (const pieceBytes of [1, 7, 40, 64, 333]) expect(outline(await read(content, { pieceBytes })), `pieces of ${pieceBytes} bytes`).toEqual(expected);
    const lines = await read(content, { chunkBytes: 100, pieceBytes: 30 });
    expect(outline(lines)).toEqual(expected);
    expect(lines.filter((l) => l.ok).map((l) => l.ok && l.request["session"])).toEqual(["a", "c", "e", "h", "i"]);
  });

  it("does not quote V8's excerpt of the joined lines, cut short or not (it would show their line breaks as escapes)", async () => {
    for (const tool of ["'t'", "'a-tool-name-long-enough-for-v8-to-cut-its-excerpt-short'"]) {
      const lines = await read([good("a"), "{", '  "session": "b",', `  "tool": ${tool}`, "}"].join("\n"));
      expect(error(lines[1]!), tool).toBe("lines 2–5 are one JSON object written over several lines: put it on one line (`jq -c` writes it so); joined, the lines are not JSON either at line 4, column 11: unexpected `'` (JSON strings take double quotes)");
    }
  });

  it("says where lines that do not parse joined go wrong, and a comma before a closing bracket", async () => {
    const lines = await read([good("a"), "{", '  "session": "b",', '  "tool": "t",', "}", good("c")].join("\n"));
    expect(outline(lines)).toEqual([[1, true], [2, false, 5], [6, true]]);
    expect(error(lines[1]!)).toBe("lines 2–5 are one JSON object written over several lines: put it on one line (`jq -c` writes it so); joined, the lines are not JSON either at line 5, column 1: unexpected `}` where a property name in double quotes belongs (a comma before `}` or `]` is not JSON: remove it)");
  });

  it("a value the file ends inside: its lines are reported each on its own, as before", async () => {
    const lines = await read([good("a"), "{", '  "session": "b",', '  "tool": "t"'].join("\n") + "\n");
    expect(outline(lines)).toEqual([[1, true], [2, false], [3, false], [4, false]]);
  });

  it("is held only up to a bound: a longer one is one error all the same, at its first line, not parsed joined", async () => {
    const long = pretty({ session: "b", tool: "t", args: { list: Array.from({ length: 1500 }, (_, i) => i) } });
    const lines = await read([good("a"), ...long, good("c")].join("\n"));
    expect(outline(lines)).toEqual([[1, true], [2, false, long.length + 1], [long.length + 2, true]]);
    expect(error(lines[1]!)).toBe(`lines 2–${long.length + 1} are one JSON object written over several lines: put it on one line (\`jq -c\` writes it so) (more than 1000 lines or 1 MB: not read as one)`);
    // Past the bound, one that does not end is still one error, up to the next request.
    const cut = await read([good("a"), ...long.slice(0, -3), good("c")].join("\n"));
    expect(outline(cut)).toEqual([[1, true], [2, false, long.length - 2], [long.length - 1, true]]);
    expect(error(cut[1]!)).toMatch(/^lines 2–\d+ start one JSON object written over several lines that does not end: /);
  });
});
