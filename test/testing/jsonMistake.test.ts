import { describe, expect, it } from "vitest";
import { jsonMistake } from "../../src/diagnostics/jsonMistake.js";

describe("jsonMistake: where text JSON.parse refuses stops being JSON (audit a1 F4)", () => {
  it("finds a mistake in every text JSON.parse refuses, never V8's wording or a piece of the text", () => {
    const valid = ['{"session":"s","tool":"kb.search","args":{"n":-1.5e3,"ok":[true,false,null],"q":"a\\u00e9\\n"}}', '[1, {"a": []}, "x"]'];
    let seed = 7;
    const random = (n: number): number => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    const pieces = ['"', "{", "}", "[", "]", ",", ":", "\\", "x", "t", "n", "-", ".", "e", "0", "1", " ", "\n", "'", "`", "\u0001"];
    let refused = 0;
    for (let i = 0; i < 3000; i++) {
      const base = valid[i % valid.length]!;
      const at = random(base.length + 1);
      const text = random(2) === 0 ? base.slice(0, at) + pieces[random(pieces.length)]! + base.slice(at) : base.slice(0, at) + base.slice(at + 1 + random(3));
      try {
        JSON.parse(text);
        continue;
      } catch {
        refused++;
      }
      const said = jsonMistake(text);
      expect(said, text).toMatch(/^at (?:line \d+, )?column \d+: (?:unexpected |invalid escape |U\+|the (?:line|text) ends )/);
      expect(said, text).not.toMatch(/is not valid JSON|Unexpected token|\n/);
      expect(said, text).not.toBe(`at column ${text.length + 1}: unexpected end`);
    }
    expect(refused).toBeGreaterThan(1000);
  });

  it("counts lines from where the joined lines start", () => {
    expect(jsonMistake('{\n  "a": 1,\n}', 23)).toBe("at line 25, column 1: unexpected `}` where a property name in double quotes belongs");
  });
});
