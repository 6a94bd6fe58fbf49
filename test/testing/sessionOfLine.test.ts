import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { attemptOfLine, observeLine, observeMalformed, partitionOf, sessionOfLine } from "../../src/testing/sessionOfLine.js";
import { cpuMilliseconds } from "../helpers.js";

describe("sessionOfLine (routing lines to replay workers)", () => {
  it("finds the top-level session of any JSON object, whatever comes before it", () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue()), fc.string(), fc.dictionary(fc.string(), fc.jsonValue()), (before, session, after) => {
        const { session: _a, ...head } = before;
        const { session: _b, ...tail } = after;
        const line = JSON.stringify({ ...head, nested: { session: "not this one", list: [{ session: "nor this" }] }, session, ...tail });
        expect(sessionOfLine(line)).toBe(session);
      }),
      { numRuns: 500 },
    );
  });

  it("finds where long strings end, quotes escaped by runs of backslashes of either parity, across the point where the scan starts jumping from quote to quote", () => {
    // Strings of every length around the jump (32 characters), ending in runs of 0 to 5 backslashes before a quote.
    for (let length = 25; length <= 40; length++) {
      for (let run = 0; run <= 5; run++) {
        const text = "x".repeat(length) + "\\".repeat(run) + '"' + "y".repeat(length);
        const line = JSON.stringify({ note: text, args: { q: text, list: [text, { session: text }] }, session: `s-${length}-${run}`, tool: text });
        expect(attemptOfLine(line)).toEqual({ session: `s-${length}-${run}`, tool: text });
      }
    }
  });

  it("reads escapes and spacing the way JSON.parse does", () => {
    expect(sessionOfLine('{ "tool" : "x", "session" : "s\\u0031" }')).toBe("s1");
    expect(sessionOfLine('{"a":"\\"session\\":\\"fake\\"","session":"real"}')).toBe("real");
  });

  it("gives undefined when it cannot be sure: the key twice (JSON.parse keeps the last), also spelled with escapes", () => {
    expect(sessionOfLine('{"session":"a","tool":"x","session":"b"}')).toBeUndefined();
    expect(sessionOfLine('{"session":"a","sess\\u0069on":"b"}')).toBeUndefined();
    expect(sessionOfLine('{"tool":"x","sess\\u0069on":"b"}')).toBe("b");
    // A value that reads "session" is not a key.
    expect(sessionOfLine('{"tool":"session","session":"s"}')).toBe("s");
  });

  it("never names a session other than the one JSON.parse reads (lines with repeated and escaped keys)", () => {
    const key = fc.constantFrom('"session"', '"sess\\u0069on"', '"tool"', '"args"', '"s"');
    const value = fc.oneof(fc.string().map((v) => JSON.stringify(v)), fc.jsonValue().map((v) => JSON.stringify(v)));
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 6 }), (pairs) => {
        const line = `{${pairs.map(([k, v]) => `${k}:${v}`).join(",")}}`;
        const found = sessionOfLine(line);
        if (found !== undefined) expect(found).toBe((JSON.parse(line) as { session: unknown }).session);
      }),
      { numRuns: 1000 },
    );
  });

  it("gives undefined for lines without a top-level string session", () => {
    for (const line of ["", "not json", "[1,2]", '{"session":1}', '{"args":{"session":"x"}}', '{"session":"unterminated']) expect(sessionOfLine(line)).toBeUndefined();
  });

  it("partitions sessions stably across workers", () => {
    for (const session of ["a", "s1", "日本"]) expect(partitionOf(session, 2)).toBe(partitionOf(session, 2));
    expect(new Set(Array.from({ length: 100 }, (_, i) => partitionOf(`s${i}`, 2)))).toEqual(new Set([0, 1]));
  });
});

describe("attemptOfLine (what a replay thread's engine observes of another thread's line)", () => {
  it("reads session, tool and time as JSON.parse would: escapes decoded, the last of a repeated key, a value that is not a string as null", () => {
    expect(attemptOfLine('{"time":"2025-01-01T10:00:00Z","session":"s","tool":"kb.search","args":{"time":"x","tool":"y"}}')).toEqual({ session: "s", tool: "kb.search", time: "2025-01-01T10:00:00Z" });
    expect(attemptOfLine('{"session":"s\\u0031","tool":"a","tool":"b","time":17}')).toEqual({ session: "s1", tool: "b", time: null });
    expect(attemptOfLine('{"session":"s","tool":{"name":"x"}}')).toEqual({ session: "s", tool: null });
    expect(attemptOfLine('{"session":"s"}')).toEqual({ session: "s" });
  });

  it("reads an approval line's event, as JSON.parse would, so that no thread moves its clock for it", () => {
    expect(attemptOfLine('{"event":"approval","time":"2025-01-01T10:00:00Z","session":"s","tool":"kb.search","approved":true}')).toEqual({ event: "approval", session: "s", tool: "kb.search", time: "2025-01-01T10:00:00Z" });
    expect(attemptOfLine('{"ev\u0065nt":"appro\u0076al","session":"s","tool":"t"}')).toMatchObject({ event: "approval" });
    expect(attemptOfLine('{"event":"approval","session":"s","event":7}')).toEqual({ session: "s", event: null });
    expect(attemptOfLine('{"session":"s","args":{"event":"approval"}}')).toEqual({ session: "s" });
    const observed: unknown[] = [];
    const engine = { observe: (input: unknown): void => void observed.push(input) };
    observeMalformed('{"event":"approval","session":"s","tool":"t","time":"2025-01-01T10:00:00Z","decision":"ask"}', engine);
    observeLine({ event: "approval", session: "s", tool: "t", time: "2025-01-01T10:00:00Z" }, engine);
    expect(observed).toEqual([]);
    observeLine({ event: "Approval", session: "s", tool: "t" }, engine);
    observeMalformed('{"session":"s","tool":"t","decision":"Allow"}', engine);
    expect(observed).toHaveLength(2);
  });

  it("is undefined for a line JSON.parse would refuse in ways that leave a bracket open or text after the object: a bare value holding a bracket, a second object", () => {
    for (const line of ['{"session":"s2","tool":"kb.search","x":a{}', '{"session":"s2","x":a[1]}', '{"session":"s2","x":tr"ue"}', '{"session":"s2","tool":"t"}{', '{"session":"s2"} x']) {
      expect(attemptOfLine(line), line).toBeUndefined();
    }
    // What JSON.parse takes, whitespace after the object included, is still read.
    expect(attemptOfLine('{"session":"s2","n":-1.5e3,"b":true} \t')).toEqual({ session: "s2" });
  });

  it("is undefined wherever sessionOfLine is (the line is then parsed)", () => {
    for (const line of ["", "not json", "[1,2]", '{"session":1}', '{"session":"a","session":"b"}', '{"tool":"x"}', '{"session":"unterminated']) {
      expect(attemptOfLine(line), line).toBeUndefined();
      expect(sessionOfLine(line), line).toBeUndefined();
    }
  });
});

describe("attemptOfLine on a line of very many keys (review r8)", () => {
  it("scans it in time linear in its length: 400,000 keys in well under a second", () => {
    const line = `{${Array.from({ length: 400_000 }, (_, i) => `"k${i}":1,`).join("")}"session":"s","tool":"t"}`;
    const start = cpuMilliseconds();
    expect(attemptOfLine(line)).toEqual({ session: "s", tool: "t" });
    // (Generous: a backslash looked for past each key to the line's end made this minutes.)
    expect(cpuMilliseconds() - start).toBeLessThan(2_000);
  });
});
