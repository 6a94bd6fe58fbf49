import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, it, expect } from "vitest";
import { parse } from "../src/syntax/parse.js";
import { CONFORMANCE, ROOT } from "./helpers.js";
import { KEYWORDS, NAMESPACE_KEYWORDS } from "../src/syntax/tokens.js";
// The parser of src/, not of dist/: the drift test holds whether or not `npm run build` has run.
import { grammarInstance } from "../src/syntax/grammar.js";
import { generateRailroad } from "../scripts/generate-grammar.js";

const read = (path: string) => readFileSync(new URL(`../${path}`, import.meta.url), "utf8");

const ebnf = read("grammar/policy.ebnf");
const tmText = read("grammar/policy.tmLanguage.json");

/** The keyword words of tokens.ts, e.g. `tools`, `containsAny`. */
const keywordWords = KEYWORDS.map((token) => {
  const word = token.name.replace(/^Kw_/, "");
  expect((token.PATTERN as RegExp).source).toBe(word);
  return word;
});

/** The quoted terminals of one EBNF production, e.g. `keyword = "enum" | … ;`. */
function terminalsOf(production: string): string[] {
  // A production runs from `name =` to the first `;` that is not inside quotes.
  const start = new RegExp(`^${production}\\s*=`, "m").exec(ebnf);
  expect(start, `policy.ebnf has no production \`${production}\``).not.toBeNull();
  const rest = ebnf.slice(start!.index + start![0].length);
  const body = /^(?:"[^"]*"|'[^']*'|\(\*[\s\S]*?\*\)|[^;"'(]|\((?!\*))*/.exec(rest)![0];
  return [...body.matchAll(/"([^"]*)"|'([^']*)'/g)].map((m) => m[1] ?? m[2]!);
}

/** Every regex (`match`, `begin`, `end`, `while`) of a TextMate grammar, with where it is. */
function regexesOf(node: unknown, path = "$"): { path: string; source: string }[] {
  if (Array.isArray(node)) return node.flatMap((item, i) => regexesOf(item, `${path}[${i}]`));
  if (node === null || typeof node !== "object") return [];
  const found: { path: string; source: string }[] = [];
  for (const [key, value] of Object.entries(node)) {
    if (["match", "begin", "end", "while"].includes(key) && typeof value === "string") found.push({ path: `${path}.${key}`, source: value });
    else found.push(...regexesOf(value, `${path}.${key}`));
  }
  return found;
}

describe("grammar/railroad.html", () => {
  it("is what scripts/generate-grammar.js produces from the current parser", () => {
    let committed = "";
    try {
      committed = read("grammar/railroad.html");
    } catch {
      // A missing file is reported as stale below.
    }
    const fresh = generateRailroad(grammarInstance());
    expect(fresh).toContain("serializedGrammar");
    expect(committed === fresh, "grammar/railroad.html is stale: run npm run generate").toBe(true);
  });

  it("is deterministic", () => {
    expect(generateRailroad(grammarInstance())).toBe(generateRailroad(grammarInstance()));
  });

  it("loads each script and the stylesheet from a pinned version with a Subresource Integrity hash", () => {
    const html = generateRailroad(grammarInstance());
    const loads = [...html.matchAll(/<(?:script src|link rel='stylesheet' href)='([^']+)'([^>]*)>/g)];
    expect(loads.length).toBe(5);
    for (const [, url, attributes] of loads) {
      expect(url).toMatch(/^https:\/\/unpkg\.com\/chevrotain@\d+\.\d+\.\d+\//);
      expect(attributes, url).toMatch(/ integrity='sha384-[A-Za-z0-9+/]{64}' crossorigin='anonymous'/);
    }
  });
});

describe("grammar/policy.ebnf", () => {
  it("has every keyword of tokens.ts as a quoted terminal", () => {
    const missing = keywordWords.filter((word) => !ebnf.includes(`"${word}"`) && !ebnf.includes(`'${word}'`));
    expect(missing, `keywords missing from grammar/policy.ebnf: ${missing.join(", ")}`).toEqual([]);
  });

  it("lists exactly the keywords of tokens.ts in its `keyword` production", () => {
    expect([...terminalsOf("keyword")].sort()).toEqual([...keywordWords].sort());
  });

  it("lists exactly the NAMESPACE_KEYWORDS of tokens.ts in `namespace_keyword`", () => {
    const words = NAMESPACE_KEYWORDS.map((token) => token.name.replace(/^Kw_/, ""));
    expect([...terminalsOf("namespace_keyword")].sort()).toEqual([...words].sort());
  });

  it("says it is normative and names the parser", () => {
    expect(ebnf).toMatch(/NORMATIVE/);
    expect(ebnf).toContain("src/syntax/grammar.ts");
  });

  it("defines every production it uses", () => {
    const withoutComments = ebnf.replace(/\(\*[\s\S]*?\*\)/g, " ").replace(/"[^"]*"|'[^']*'|\?[^?]*\?/g, " ");
    const defined = new Set([...withoutComments.matchAll(/^([a-z_]+)\s*=/gm)].map((m) => m[1]!));
    const used = new Set([...withoutComments.matchAll(/\b([a-z_]+)\b/g)].map((m) => m[1]!));
    const undefinedNames = [...used].filter((name) => !defined.has(name));
    expect(undefinedNames).toEqual([]);
  });
});

describe("grammar/policy.tmLanguage.json", () => {
  const grammar = JSON.parse(tmText) as { scopeName: string; fileTypes: string[]; patterns: unknown[]; repository: Record<string, unknown> };
  const regexes = regexesOf(grammar);

  it("is a TextMate grammar for .policy files", () => {
    expect(grammar.scopeName).toBe("source.policy");
    expect(grammar.fileTypes).toEqual(["policy"]);
    expect(grammar.patterns.length).toBeGreaterThan(0);
    expect(regexes.length).toBeGreaterThan(20);
  });

  it("mentions every keyword of tokens.ts in a regex", () => {
    const missing = keywordWords.filter((word) => !regexes.some(({ source }) => new RegExp(`(?<![A-Za-z0-9_])${word}(?![A-Za-z0-9_])`).test(source)));
    expect(missing, `keywords missing from grammar/policy.tmLanguage.json: ${missing.join(", ")}`).toEqual([]);
  });

  it("has regexes that compile as JavaScript and avoid Oniguruma-only syntax", () => {
    // \A \z \Z \G \h \H, inline options, atomic groups and possessive quantifiers mean
    // something else (or nothing) in JavaScript; the grammar keeps to the shared subset.
    const onigurumaOnly = /\\[AzZGhH]|\(\?[imx-]+[:)]|\(\?>|[*+?}]\+/;
    for (const { path, source } of regexes) {
      expect(onigurumaOnly.test(source.replace(/\\\\/g, "")), `${path} uses Oniguruma-only syntax: ${source}`).toBe(false);
      expect(() => new RegExp(source), `${path} does not compile: ${source}`).not.toThrow();
    }
  });

  it("includes only repository entries that exist", () => {
    const includes = [...tmText.matchAll(/"include":\s*"#([^"]+)"/g)].map((m) => m[1]!);
    expect(includes.length).toBeGreaterThan(0);
    for (const name of includes) expect(grammar.repository, `#${name}`).toHaveProperty([name]);
  });

  it("tells durations, malformed durations and integers apart", () => {
    const numbers = grammar.repository.numbers as { patterns: { name: string; match: string }[] };
    const scopeOf = (text: string) => numbers.patterns.find((p) => new RegExp(`^(?:${p.match})$`).test(text))?.name;
    expect(scopeOf("500ms")).toBe("constant.numeric.duration.policy");
    expect(scopeOf("5m")).toBe("constant.numeric.duration.policy");
    expect(scopeOf("1d")).toBe("constant.numeric.duration.policy");
    expect(scopeOf("5w")).toBe("invalid.illegal.duration.policy");
    expect(scopeOf("10mins")).toBe("invalid.illegal.duration.policy");
    expect(scopeOf("30")).toBe("constant.numeric.integer.policy");
  });

  it("gives each effect its own scope", () => {
    const targets = grammar.repository["rule-targets"] as { beginCaptures: Record<string, { name: string }> };
    const scopes = Object.values(targets.beginCaptures).map((c) => c.name);
    expect(new Set(scopes).size).toBe(3);
    for (const effect of ["allow", "ask", "deny"]) expect(scopes.some((s) => s.includes(`.${effect}.`))).toBe(true);
  });
});

describe("grammar/policy.tmLanguage.json: where a declaration's scope starts", () => {
  const grammar = JSON.parse(tmText) as { repository: Record<string, { begin?: string; match?: string }> };
  /** The declaration patterns and the AST kind each stands for. Those with `begin` open a scope that only a `}` ends. */
  const DECLARATIONS: Record<string, string> = {
    "enum-declaration": "EnumDecl",
    "type-declaration": "TypeDecl",
    "entity-declaration": "EntityDecl",
    "tool-declaration": "ToolDecl",
    "intent-declaration": "IntentDecl",
    "policy-declaration": "PolicyDecl",
  };

  /** Policy texts with declarations and conditions: every file shipped, the docs' examples, and the audit's repro cases. */
  function texts(): { name: string; text: string }[] {
    const files = (folder: string) =>
      existsSync(folder)
        ? readdirSync(folder, { recursive: true, encoding: "utf8" })
            .filter((f) => f.endsWith(".policy"))
            .map((f) => ({ name: join(folder, f), text: readFileSync(join(folder, f), "utf8") }))
        : [];
    const docs = ["docs/language.md", "README.md"].flatMap((path) =>
      [...read(path).matchAll(/^```policy\n([\s\S]*?)^```/gm)].map((m, i) => ({ name: `${path} block ${i + 1}`, text: m[1]! })),
    );
    return [...files(join(ROOT, "samples")), ...files(join(ROOT, "test", "fixtures")), ...files(CONFORMANCE), ...docs, ...REPROS];
  }

  /** Conditions whose words `type`, `enum`, `agent`, `policy` once opened a declaration's scope that swallowed the rest of the file (audit a5 M2). */
  const REPROS = [
    `agent { team: string, type?: string }\ntool http.get { risk low  args { url: string } }\npolicy p {\n  deny http.get when agent has type\n  allow http.get when args.url like "https://*.acme.com/*"\n  deny * when agent.team == "x"\n}\n`,
    `policy p {\n  deny x when\n    agent\n      .team == "x"\n  allow y /* a */ , z when not args.flag\n}\n`,
    `tool type.check { risk low }\ntool kb.search { risk low }\npolicy p {\n  deny * when tool == type.check\n  allow kb.search reason "ok // fine"\n}\n`,
    `enum Kind { type, enum }\ntool kb.search { risk low  args { kind: Kind } }\npolicy p {\n  deny kb.search when args.kind == type or\n    args.kind in [enum, type]\n  allow kb.search when agent has type and\n    true\n}\n`,
    `tool policy.update { risk high }\npolicy p {\n  deny policy.update when tool == "policy.update"\n}\n`,
    // A continuation line that starts with a member named `type` or `enum` before an operator (review r6 L1): a type's or enum's name is never a keyword.
    `enum Kind { type, enum, other }\ntool kb.search { risk low  args { kind: Kind, url: string } }\npolicy p {\n  deny kb.search when args.kind ==\n    type or\n    args.kind == other\n  deny kb.search when args.kind in [other,\n    enum and\n    true]\n  allow kb.search when args.url like "https://*.acme.com/*"\n}\n`,
    // A member named `policy` before an operator at a line's end; a policy named by a keyword, before its `{`.
    `enum Kind { policy, other }\ntool kb.search { risk low  args { k: Kind } }\npolicy p {\n  deny kb.search when args.k == policy or\n    args.k == other\n  allow kb.search\n}\npolicy or {\n  deny kb.search\n}\n`,
  ].map((text, i) => ({ name: `repro ${i + 1}`, text }));

  // A limit of a grammar that reads a line at a time: `agent`, `user` or `context` opens its
  // scope only with its `{` on the same line. Alone on its line it may be a condition's value
  // (`when` then `agent` then `.team == "x"`), and a scope opened there would swallow the rest of
  // the file; so `agent` with its `{` on the next line (valid, never in the files shipped) is
  // highlighted as a value and its fields as plain names (review r6 L2). A policy whose name is a
  // keyword likewise needs its `{` on the name's line (`policy or {`).
  it("a declaration pattern matches only where a declaration of its kind starts, and at every one that starts a line", () => {
    const problems: string[] = [];
    let declarationsSeen = 0;
    for (const { name, text } of texts()) {
      const result = parse(text, "t.policy");
      if (result.diagnostics.some((d) => d.severity === "error" && d.code.startsWith("PC1"))) continue;
      const lineStarts = [0, ...[...text.matchAll(/\n/g)].map((m) => m.index + 1)];
      const starts = new Map<string, string>();
      for (const declaration of result.ast.declarations) {
        const line = lineStarts.filter((offset) => offset <= declaration.span.start).length - 1;
        starts.set(`${line}:${declaration.span.start - lineStarts[line]!}`, declaration.kind);
      }
      const lines = text.split("\n");
      const matched = new Set<string>();
      for (const [pattern, kind] of Object.entries(DECLARATIONS)) {
        const entry = grammar.repository[pattern]!;
        const regex = new RegExp(entry.begin ?? entry.match!, "g");
        lines.forEach((line, index) => {
          for (const match of line.matchAll(regex)) {
            const column = match.index + match[0].length - match[0].trimStart().length;
            const key = `${index}:${column}`;
            matched.add(key);
            if (starts.get(key) !== kind) problems.push(`${name}:${index + 1}:${column + 1}: ${pattern} matches ${JSON.stringify(line.trim())}, where ${starts.get(key) ?? "no declaration"} starts`);
          }
        });
      }
      for (const [key, kind] of starts) {
        const [line, column] = key.split(":").map(Number) as [number, number];
        declarationsSeen++;
        if (lines[line]!.slice(0, column).trim() === "" && !matched.has(key)) problems.push(`${name}:${line + 1}: the ${kind} at the start of ${JSON.stringify(lines[line]!.trim())} gets no declaration scope`);
      }
    }
    expect(declarationsSeen).toBeGreaterThan(100);
    expect(problems).toEqual([]);
  });
});
