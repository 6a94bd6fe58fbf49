import { describe, expect, it } from "vitest";
import { jsonMistake } from "../../src/diagnostics/jsonMistake.js";
import { cpuMilliseconds } from "../helpers.js";

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
    let placed = 0;
    for (let i = 0; i < 3000; i++) {
      const base = valid[i % valid.length]!;
      const at = random(base.length + 1);
      const text = random(2) === 0 ? base.slice(0, at) + pieces[random(pieces.length)]! + base.slice(at) : base.slice(0, at) + base.slice(at + 1 + random(3));
      let v8Said: string;
      try {
        JSON.parse(text);
        continue;
      } catch (error) {
        v8Said = (error as Error).message;
        refused++;
      }
      const said = jsonMistake(text);
      expect(said, text).toMatch(/^at (?:line \d+, )?column \d+: (?:unexpected |invalid escape |U\+|the (?:line|text) ends )/);
      expect(said, text).not.toMatch(/is not valid JSON|Unexpected token|\n/);
      // "unexpected end" is what the reader says of text it read to the end as JSON: never of refused text, one line or several (audit r1 F5).
      expect(said, text).not.toMatch(/: unexpected end$/);
      // Where V8 gives a place, the mistake is found there or before it (a bad escape at its `\`, a string at the word before it), never after.
      const v8Offset = /at position (\d+)/.exec(v8Said)?.[1];
      if (v8Offset !== undefined) {
        const before = text.slice(0, Number(v8Offset));
        const v8Line = before.split("\n").length;
        const v8Column = before.length - before.lastIndexOf("\n");
        const [, line = "1", column] = /^at (?:line (\d+), )?column (\d+)/.exec(said)!;
        expect(Number(line) < v8Line || (Number(line) === v8Line && Number(column) <= v8Column), `${text} | ${v8Said} | ${said}`).toBe(true);
        placed++;
      }
    }
    expect(placed).toBeGreaterThan(200);
    expect(refused).toBeGreaterThan(1000);
  });

  it("reads nesting of any depth without running out of stack (audit r1 F1)", () => {
    const depth = 100_000;
    expect(jsonMistake("[".repeat(depth))).toBe(`at column ${depth + 1}: the line ends before its JSON value does`);
    expect(jsonMistake(`${'{"a":'.repeat(depth)}1${"}".repeat(depth - 1)}`)).toBe(`at column ${6 * depth + 1}: the line ends before its JSON value does`);
    expect(jsonMistake(`${"[{\"a\":".repeat(depth)}0]`)).toBe(`at column ${6 * depth + 2}: unexpected \`]\` where \`,\` or \`}\` belongs`);
    expect(jsonMistake(`${"[\n".repeat(depth)}x`)).toBe(`at line ${depth + 1}, column 1: unexpected \`x\``);
  });

  it("reads a long bad line in a time of the order of JSON.parse's refusal of it, not several times that (audit r1 F3)", () => {
    // A recording's line can be tens of MB (logged attack payloads), and is read again only once JSON.parse has refused it.
    const texts = [`${"1".repeat(8 * 1024 * 1024)}x`, `${" ".repeat(8 * 1024 * 1024)}x`];
    const fastest = (work: () => void): number => {
      let best = Infinity;
      for (let run = 0; run < 3; run++) {
        const start = cpuMilliseconds();
        work();
        best = Math.min(best, cpuMilliseconds() - start);
      }
      return best;
    };
    const parse = fastest(() => {
      for (const text of texts) expect(() => JSON.parse(text)).toThrow(SyntaxError);
    });
    const read = fastest(() => {
      for (const text of texts) expect(jsonMistake(text)).toMatch(/: unexpected `x`/);
    });
    // Measured: about 4 times JSON.parse's time (10 ms at least) with character codes, 17 times with a regex per character.
    expect(read).toBeLessThan(8 * Math.max(parse, 10));
  });

  it("counts lines from where the joined lines start", () => {
    expect(jsonMistake('{\n  "a": 1,\n}', 23)).toBe("at line 25, column 1: unexpected `}` where a property name in double quotes belongs");
  });
});
