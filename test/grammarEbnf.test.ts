import { readdirSync, readFileSync, existsSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { parse } from "../src/index.js";
import { parseEbnf, recogniser, seededRandom, sentenceGenerator, syntacticTerminals, type Rules } from "./ebnf.js";
import { CONFORMANCE, ROOT } from "./helpers.js";

/**
 * grammar/policy.ebnf says it is normative: it states the language exactly as the parser accepts
 * it. These tests hold it to that both ways, so a change to either that the other does not follow
 * fails: every sentence the EBNF derives parses (sampled, seeded), and every policy the repository
 * ships that parses — samples, fixtures, conformance cases, docs examples — is derived by the EBNF.
 */

/** How many sentences each generation test derives; `EBNF_SENTENCES=100000` for a deep run. */
const SENTENCES = Number(process.env["EBNF_SENTENCES"] ?? 1200);

const ebnfText = readFileSync(join(ROOT, "grammar", "policy.ebnf"), "utf8");

/**
 * Errors the EBNF does not describe by design, each said in its comments: a repeated or
 * out-of-order clause (PC107, see `rule`) and a number past its limit (PC108).
 */
const DOCUMENTED_LIMITS = new Set(["PC107", "PC108"]);

/** Syntax errors (PC1xx) of a text, but those in `allowed`. */
function syntaxErrors(text: string, allowed: ReadonlySet<string> = DOCUMENTED_LIMITS): string[] {
  return parse(text, "generated.policy")
    .diagnostics.filter((d) => d.severity === "error" && d.code.startsWith("PC1") && !allowed.has(d.code))
    .map((d) => `${d.code} ${d.message}`);
}

/** No exception: a text the EBNF must derive has no syntax error at all (a PC107 example is the normative form's exception). */
const NONE: ReadonlySet<string> = new Set();

/** What may stand between two tokens: the EBNF says white space and comments, anywhere. */
const SEPARATORS = [" ", " ", " ", "\n", "  ", "\n  ", " /* c */ ", " // c\n", "\t", "\r\n"];
const WITH_LINE_BREAK = SEPARATORS.filter((s) => s.includes("\n"));

/**
 * The tokens of a sentence joined into a text. Two documented exceptions to "white space is
 * ignored" (policy.ebnf, `annotation` and `field_block`): an annotation that ends the line of the
 * rule before it is PC111, so an annotation after a rule starts its own line here; and two
 * fields need a `,` or a line break between them, so a field right after another's type does.
 */
function joinTokens(tokens: readonly string[], seed: number): string {
  const random = seededRandom(seed ^ 0x5eed);
  const needsLineBreak = (i: number): boolean => (tokens[i] === "@" && tokens[i - 1] !== "{") || fieldAfterType(tokens, i);
  return tokens.map((token, i) => (i === 0 ? "" : needsLineBreak(i) ? random.pick(WITH_LINE_BREAK) : random.pick(SEPARATORS)) + token).join("");
}

/**
 * Whether `tokens[i]` starts a field (a name before `:` or `?:`) right after the end of the
 * previous field's type (a type's name or its `>`), with no `,` between. In a quantifier a name
 * before `:` follows `in` or a `.`, and no condition has a `?`.
 */
function fieldAfterType(tokens: readonly string[], i: number): boolean {
  const [before, next] = [tokens[i - 1] ?? "", tokens[i + 1]];
  if ((next !== ":" && next !== "?") || !/^[A-Za-z_]\w*$/.test(tokens[i]!)) return false;
  return before === ">" || (/^[A-Za-z_]\w*$/.test(before) && before !== "in");
}

function sentences(rules: Rules, start: string, count: number, firstSeed = 1): { seed: number; text: string }[] {
  const out: { seed: number; text: string }[] = [];
  for (let seed = firstSeed; seed < firstSeed + count; seed++) out.push({ seed, text: joinTokens(sentenceGenerator(rules, seed)(start), seed) });
  return out;
}

/** The sentences of `count` seeds the parser rejects, each with its first errors. */
function rejected(rules: Rules, start: string, count: number): string[] {
  const failures: string[] = [];
  for (const { seed, text } of sentences(rules, start, count)) {
    const errors = syntaxErrors(text);
    if (errors.length > 0) failures.push(`seed ${seed}: ${JSON.stringify(text)}\n  ${errors.slice(0, 2).join("\n  ")}`);
  }
  return failures;
}

/** Every `.policy` file under a folder. */
function policyFiles(folder: string): string[] {
  if (!existsSync(folder)) return [];
  return readdirSync(folder, { recursive: true, encoding: "utf8" })
    .filter((name) => name.endsWith(".policy"))
    .sort()
    .map((name) => join(folder, name));
}

/** The code blocks of a Markdown file that hold policy text: `policy`, `policy-fragment` or no info string. */
function policyBlocks(path: string): { line: number; text: string }[] {
  const blocks: { line: number; text: string }[] = [];
  const markdown = readFileSync(path, "utf8");
  for (const match of markdown.matchAll(/^```([\w-]*)[^\n]*\n([\s\S]*?)^```/gm)) {
    if (["policy", "policy-fragment", ""].includes(match[1]!)) blocks.push({ line: markdown.slice(0, match.index).split("\n").length, text: match[2]! });
  }
  return blocks;
}

const DOCS = [
  ...readdirSync(join(ROOT, "docs"))
    .filter((name) => name.endsWith(".md"))
    .map((name) => join(ROOT, "docs", name)),
  join(ROOT, "README.md"),
];

describe("grammar/policy.ebnf and the parser", () => {
  const rules = parseEbnf(ebnfText);
  const derives = recogniser(rules);

  it("reads as EBNF, with the productions the tests start from", () => {
    for (const name of ["file", "rule", "expression", "identifier", "string", "duration"]) expect(rules.has(name), name).toBe(true);
  });

  it("generates sentences that use every keyword and punctuation of the syntactic grammar", () => {
    const used = new Set<string>();
    for (let seed = 1; seed <= 300; seed++) for (const token of sentenceGenerator(rules, seed)("file")) used.add(token);
    const unused = [...syntacticTerminals(rules)].filter((terminal) => !used.has(terminal));
    expect(unused, "the generator never reaches these terminals: the parse tests would not notice a change to them").toEqual([]);
  });

  it(`derives only sentences that parse (${SENTENCES} seeded sentences of \`file\`)`, () => {
    expect(rejected(rules, "file", SENTENCES)).toEqual([]);
  });

  it(`derives only policies that parse (${SENTENCES / 2} seeded sentences of \`policy_decl\`)`, () => {
    expect(rejected(rules, "policy_decl", SENTENCES / 2)).toEqual([]);
  });

  it("derives every sample, fixture and conformance policy that parses", () => {
    const files = [...policyFiles(join(ROOT, "samples")), ...policyFiles(join(ROOT, "test", "fixtures")), ...policyFiles(CONFORMANCE)];
    expect(files.length).toBeGreaterThan(10);
    const notDerived: string[] = [];
    let checked = 0;
    for (const path of files) {
      const text = readFileSync(path, "utf8");
      if (syntaxErrors(text, NONE).length > 0) continue;
      checked++;
      const result = derives(text);
      if (!result.derived) notDerived.push(`${relative(ROOT, path)}: stuck at ${result.stuckAt?.startLine}:${result.stuckAt?.startColumn} ${JSON.stringify(result.stuckAt?.image)}`);
    }
    expect(checked).toBeGreaterThan(10);
    expect(notDerived).toEqual([]);
  });

  it("derives every policy example of the docs that parses (alone, or as the rules of a policy)", () => {
    const notDerived: string[] = [];
    let checked = 0;
    for (const path of DOCS) {
      for (const block of policyBlocks(path)) {
        // A fragment is rules (wrapped in a policy to parse) or declarations; an expression fragment parses as neither and is skipped.
        const text = [block.text, `policy p {\n${block.text}\n}\n`].find((candidate) => syntaxErrors(candidate, NONE).length === 0);
        if (text === undefined) continue;
        checked++;
        const result = derives(text);
        if (!result.derived) notDerived.push(`${relative(ROOT, path)}:${block.line}: stuck at ${result.stuckAt?.startLine}:${result.stuckAt?.startColumn} ${JSON.stringify(result.stuckAt?.image)}`);
      }
    }
    expect(checked).toBeGreaterThan(50);
    expect(notDerived).toEqual([]);
  });

  it("tells the recogniser's answer apart: it rejects what the grammar does not derive", () => {
    expect(derives("tool kb.search { risk low }\npolicy p { allow kb.search when args.q == \"x\" }").derived).toBe(true);
    expect(derives("policy p { allow }").derived).toBe(false);
    expect(derives("enum E { a, b, }").derived).toBe(false);
    expect(derives("policy p { allow x when a < b < c }").derived).toBe(false);
  });
});
