import { readFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { analyze } from "../src/check/analyze.js";
import type { Diagnostic } from "../src/diagnostics/Diagnostic.js";
import { renderDiagnostic, diagnosticToJson } from "../src/diagnostics/render.js";
import { CONTRACT_POLICY, DECLS, policyText } from "./fixtures.js";
import { CONFORMANCE, HAS_CONFORMANCE } from "./helpers.js";

/**
 * The front end must survive any input: `analyze` never throws, and every diagnostic it
 * returns points inside its file, so renderers and editors can always show it.
 */

/** The support policy of the shared conformance set, or the contract's own text without it. */
const BASE = HAS_CONFORMANCE ? readFileSync(join(CONFORMANCE, "support", "support.policy"), "utf8") : `${DECLS}\n${CONTRACT_POLICY}`;

/** The tokens of the base text (names, numbers, strings, comments, punctuation, blank runs). */
const TOKENS = [...new Set(BASE.match(/\s+|\/\/\/?[^\n]*|\/\*|\*\/|"(?:[^"\\\n]|\\.)*"?|[A-Za-z_][A-Za-z0-9_]*|[0-9]+[A-Za-z]*|==|!=|<=|>=|[^\s]/g) ?? [])];

/** Characters that tend to break lexers: quotes, comment openers, NUL, surrogates, line breaks. */
const NASTY = ['"', "\\", "/*", "*/", "//", "///", "\u0000", "\uD800", "\uDC00", "\r", "\n", "\u2028", "\uFEFF", "(", ")", "{", "}", "[", "]", "@", "`", "'", "é", "💥", "9".repeat(30), "5w"];

const fragment = fc.oneof(fc.constantFrom(...TOKENS), fc.constantFrom(...NASTY), fc.string({ unit: "binary", maxLength: 4 }));

type Edit = { kind: "insert" | "delete" | "replace"; at: number; length: number; text: string };
const edit: fc.Arbitrary<Edit> = fc.record({
  kind: fc.constantFrom("insert", "delete", "replace"),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
  length: fc.integer({ min: 1, max: 12 }),
  text: fragment,
});

function applyEdits(text: string, edits: readonly Edit[]): string {
  let out = text;
  for (const e of edits) {
    const at = Math.min(out.length, Math.floor(e.at * out.length));
    if (e.kind === "insert") out = out.slice(0, at) + e.text + out.slice(at);
    else if (e.kind === "delete") out = out.slice(0, at) + out.slice(at + e.length);
    else out = out.slice(0, at) + e.text + out.slice(at + e.length);
  }
  return out;
}

/** Runs the front end and checks every diagnostic is well placed and renders. */
function expectWellFormed(sources: { path: string; text: string }[]): void {
  let diagnostics: readonly Diagnostic[];
  try {
    diagnostics = analyze(sources).diagnostics;
  } catch (error) {
    throw new Error(`analyze threw ${String(error)} on:\n${sources.map((s) => JSON.stringify(s.text)).join("\n")}`);
  }
  for (const d of diagnostics) {
    // Only an unreadable path (PC001–PC006, never raised here) has no span: every policy mistake points at its text.
    expect(d.span, `${d.code} ${d.message} has no span`).toBeDefined();
    const { file, start, end } = d.span!;
    const where = `${d.code} ${d.message} [${start}, ${end}) in ${file.path} (${file.text.length} chars)`;
    expect(sources.some((s) => s.path === file.path && s.text === file.text), where).toBe(true);
    expect(Number.isInteger(start) && Number.isInteger(end), where).toBe(true);
    expect(0 <= start && start <= end && end <= file.text.length, where).toBe(true);
    const position = file.position(start);
    expect(position.line >= 1 && position.column >= 1, where).toBe(true);
    expect(d.message.length, where).toBeGreaterThan(0);
    // A help looked up in a table by the user's word must be the table's, never an inherited value.
    if (d.help !== undefined) expect(typeof d.help, where).toBe("string");
    // Rendering must not fail either (code frames of odd lines, JSON of odd positions).
    expect(renderDiagnostic(d)).toContain(`[${d.code}]`);
    expect(diagnosticToJson(d).line).toBe(position.line);
  }
}

describe("fuzz: the front end never throws and places every diagnostic in its file", () => {
  it("the base text itself", () => {
    expectWellFormed([{ path: "support.policy", text: BASE }]);
    expect(analyze([{ path: "support.policy", text: BASE }]).ok).toBe(true);
  });

  it("names every object inherits (`__proto__`, `constructor`) where the help tables look up a word", () => {
    const names = ["__proto__", "constructor", "toString", "hasOwnProperty", "valueOf"];
    for (const name of names) {
      for (const text of [name, `${name} x`, `tool a.b {}\npolicy p { allow a.b when 5 ${name} }`, `tool a.b { ${name} }`, `intent i { ${name} }`, `agent { x: ${name} }`, `agent { x: ${name.toUpperCase()} }`, `tool a.b {}\npolicy p { deny a.b when session.age > 5 ${name} }`, `tool a.b {}\npolicy p { deny a.b when session.age > 5${name} }`, `enum ${name} { a }\npolicy p { deny * when ${name} == a }`]) {
        expectWellFormed([{ path: "t.policy", text }]);
      }
    }
  });

  it("random strings", () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: "binary", maxLength: 200 }), fc.array(fragment, { maxLength: 60 }).map((parts) => parts.join(""))), (text) => {
        expectWellFormed([{ path: "t.policy", text }]);
      }),
      { numRuns: 150 },
    );
  });

  it("mutations of the support policy (insert, delete, replace characters and tokens)", () => {
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 5 }), (edits) => {
        expectWellFormed([{ path: "support.policy", text: applyEdits(BASE, edits) }]);
      }),
      { numRuns: 300 },
    );
  });

  it("mutations of rules checked against intact declarations (reaches the type checker)", () => {
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 3 }), (edits) => {
        expectWellFormed([
          { path: "decls.policy", text: DECLS },
          { path: "rules.policy", text: applyEdits(CONTRACT_POLICY, edits) },
        ]);
      }),
      { numRuns: 300 },
    );
  });

  it("generated policies with random expressions against the contract's declarations", () => {
    fc.assert(
      fc.property(policyText, (text) => {
        expectWellFormed([
          { path: "decls.policy", text: DECLS },
          { path: "gen.policy", text },
        ]);
      }),
      { numRuns: 150 },
    );
  });
});
