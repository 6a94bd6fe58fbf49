import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { Decision } from "../../src/runtime/decision.js";
import { LineEdits, rewriteRecording } from "../../src/testing/rewriteRecording.js";

/** The same decision for each of `lines` (in increasing order). */
function editsOf(lines: Iterable<number>, decision: Decision): LineEdits {
  const edits = new LineEdits();
  for (const line of lines) edits.add(line, decision);
  return edits;
}
import { spliceExpectation, topLevelMembers } from "../../src/testing/spliceExpectation.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-rewrite-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const DENY: Decision = { decision: "deny", rules: ["r1"], reasons: ["no \"way\""], locations: [], grants: [], revoked: false, errors: [] } as unknown as Decision;

describe("topLevelMembers", () => {
  it("finds each top-level value's range: strings with escapes, nested values, primitives; keys decoded", () => {
    const text = '\ufeff { "a" : "x\\"}" , "dec\\u0069sion":{"b":[1,{"c":"]"}]},"n":-1.5e3,"t":true }  ';
    const scanned = topLevelMembers(text)!;
    expect(scanned.members.map((m) => [m.key, text.slice(m.start, m.end)])).toEqual([
      ["a", '"x\\"}"'],
      ["decision", '{"b":[1,{"c":"]"}]}'],
      ["n", "-1.5e3"],
      ["t", "true"],
    ]);
    expect(text[scanned.close]).toBe("}");
    expect(topLevelMembers("{}")).toEqual({ members: [], close: 1 });
    expect(topLevelMembers("[1]")).toBeUndefined();
    expect(topLevelMembers('{"a":')).toBeUndefined();
  });
});

describe("spliceExpectation", () => {
  it("replaces decision, rules and reason where they stand (every occurrence), adds the missing ones at the end, keeps the rest", () => {
    expect(spliceExpectation('{"decision":"allow","x":1e400,"decision":"ask" ,"reason":"old"}', DENY)).toBe('{"decision":"deny","x":1e400,"decision":"deny" ,"reason":"no \\"way\\"","rules":["r1"]}');
    expect(spliceExpectation('{"tool":"t"}', DENY)).toBe('{"tool":"t","decision":"deny","rules":["r1"]}');
    expect(spliceExpectation("{ }", DENY)).toBe('{ "decision":"deny","rules":["r1"]}');
    expect(spliceExpectation("not json", DENY)).toBeUndefined();
  });

  it("removes an older-form approved from a line it rewrites to a deny, wherever it stands and however often: the line stays JSON", () => {
    const cases: [string, string][] = [
      ['{"approved":true,"approved":false,"tool":"a","decision":"ask"}', '{"tool":"a","decision":"deny","rules":["r1"]}'],
      ['{ "approved": true , "approved": true, "tool":"a" }', '{ "tool":"a","decision":"deny","rules":["r1"] }'],
      ['{"approved":true,"tool":"a","decision":"ask","rules":["q"]}', '{"tool":"a","decision":"deny","rules":["r1"]}'],
      ['{"tool":"a","approved":true,"approved":true,"decision":"ask"}', '{"tool":"a","decision":"deny","rules":["r1"]}'],
      ['{"tool":"a","approved":true,"decision":"ask","approved":true}', '{"tool":"a","decision":"deny","rules":["r1"]}'],
      ['{"tool":"a","decision":"ask","rules":["q"],"approved":true}', '{"tool":"a","decision":"deny","rules":["r1"]}'],
      ['{"tool":"a", "approved" : true , "decision":"ask"}', '{"tool":"a" , "decision":"deny","rules":["r1"]}'],
      ['{"approved":true}', '{"decision":"deny","rules":["r1"]}'],
      ['{"approved":true,"approved":false}', '{"decision":"deny","rules":["r1"]}'],
      ['  {"tool":"a","approved":true}  ', '  {"tool":"a","decision":"deny","rules":["r1"]}  '],
    ];
    for (const [line, rewritten] of cases) {
      const spliced = spliceExpectation(line, DENY);
      expect(spliced).toBe(rewritten);
      expect(() => JSON.parse(spliced!)).not.toThrow();
    }
  });
});

describe("rewriteRecording", () => {
  it("copies a recording of several chunks byte for byte but the edited lines, wherever they fall", async () => {
    const lineText = (i: number): string => `{"session":"s${i}","tool":"t","args":{"pad":"${"x".repeat(i % 977)}"}}`;
    const count = 8000; // about 4 MB: edited lines fall across the 1 MB chunks
    const edited = new Set([1, 2, 1999, 2000, 4001, 5555, count]);
    const original = Array.from({ length: count }, (_, i) => lineText(i + 1) + (i % 3 === 0 ? "\r\n" : "\n")).join("");
    const file = join(dir, "many.jsonl");
    writeFileSync(file, original);
    const outcome = await rewriteRecording(file, editsOf([...edited].sort((a, b) => a - b), DENY));
    expect(outcome).toEqual({ rewritten: true, appendedAfter: 0 });
    const expected = Array.from({ length: count }, (_, i) => (edited.has(i + 1) ? lineText(i + 1).slice(0, -1) + ',"decision":"deny","rules":["r1"]}' : lineText(i + 1)) + (i % 3 === 0 ? "\r\n" : "\n")).join("");
    expect(readFileSync(file, "utf8") === expected).toBe(true);
  });

  it("edits every line of a bootstrap, past the edit list's growth, each with its own decision", async () => {
    const ALLOW = Object.freeze({ ...DENY, decision: "allow", rules: ["r2"] }) as Decision;
    const count = 10_000;
    const file = join(dir, "bootstrap.jsonl");
    writeFileSync(file, Array.from({ length: count }, (_, i) => `{"session":"s${i}","tool":"t"}\n`).join(""));
    const edits = new LineEdits();
    for (let line = 1; line <= count; line++) edits.add(line, line % 2 === 0 ? ALLOW : Object.freeze(DENY));
    expect(await rewriteRecording(file, edits)).toEqual({ rewritten: true, appendedAfter: 0 });
    const lines = readFileSync(file, "utf8").split("\n");
    expect(lines[0]).toBe('{"session":"s0","tool":"t","decision":"deny","rules":["r1"]}');
    expect(lines[count - 1]).toBe(`{"session":"s${count - 1}","tool":"t","decision":"allow","rules":["r2"]}`);
  });

  it("a line that is no longer an object (the file changed meanwhile): the recording is left as it was", async () => {
    const file = join(dir, "changed.jsonl");
    writeFileSync(file, '{"tool":"t"}\nnot json\n');
    const outcome = await rewriteRecording(file, editsOf([2], DENY));
    expect(outcome).toEqual({ rewritten: false, error: "not updated: line 2 changed while it was replayed (it is no longer a JSON object)" });
    expect(readFileSync(file, "utf8")).toBe('{"tool":"t"}\nnot json\n');
  });
});
