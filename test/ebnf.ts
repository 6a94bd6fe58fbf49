/**
 * Reads grammar/policy.ebnf (ISO 14977 as that file writes it) so tests can tie it to the parser
 * both ways: `sentenceGenerator` derives random sentences from it (each should parse), and
 * `recogniser` says whether it derives a token stream of the project's own lexer (each file that
 * parses should be derived). Test code only: the product never reads the EBNF.
 */
import type { IToken } from "chevrotain";
import { policyLexer } from "../src/syntax/tokens.js";

/** One EBNF expression. */
export type Node =
  | { readonly kind: "terminal"; readonly text: string }
  | { readonly kind: "special"; readonly text: string }
  | { readonly kind: "ref"; readonly name: string }
  | { readonly kind: "alternatives"; readonly items: readonly Node[] }
  | { readonly kind: "sequence"; readonly items: readonly Node[] }
  | { readonly kind: "optional"; readonly item: Node }
  | { readonly kind: "repetition"; readonly item: Node }
  | { readonly kind: "except"; readonly item: Node; readonly excluded: Node };

export type Rules = ReadonlyMap<string, Node>;

/** Productions that are single tokens: the syntactic sections (1–5) are written over them. */
const TOKEN_PRODUCTIONS = new Set(["identifier", "integer", "duration", "string"]);

/** The productions of an EBNF text, by name. Throws on what it cannot read (a broken grammar file). */
export function parseEbnf(text: string): Rules {
  const source = text.replace(/\(\*[\s\S]*?\*\)/g, " ");
  type Lexeme = { kind: "terminal" | "special" | "name" | "punct"; text: string };
  const lexemes: Lexeme[] = [];
  const pattern = /\s+|"([^"]*)"|'([^']*)'|\?([^?]*)\?|([a-z_][a-z_0-9]*)|([=|[\]{}();-])/y;
  while (pattern.lastIndex < source.length) {
    const at = pattern.lastIndex;
    const match = pattern.exec(source);
    if (!match) throw new Error(`policy.ebnf: cannot read ${JSON.stringify(source.slice(at, at + 30))}`);
    if (match[1] !== undefined || match[2] !== undefined) lexemes.push({ kind: "terminal", text: match[1] ?? match[2]! });
    else if (match[3] !== undefined) lexemes.push({ kind: "special", text: match[3].trim() });
    else if (match[4] !== undefined) lexemes.push({ kind: "name", text: match[4] });
    else if (match[5] !== undefined) lexemes.push({ kind: "punct", text: match[5] });
  }
  let i = 0;
  const isPunct = (text: string) => lexemes[i]?.kind === "punct" && lexemes[i]!.text === text;
  const expect = (text: string) => {
    if (!isPunct(text)) throw new Error(`policy.ebnf: expected \`${text}\`, found ${JSON.stringify(lexemes[i])}`);
    i++;
  };
  const alternatives = (): Node => {
    const items = [sequence()];
    while (isPunct("|")) {
      i++;
      items.push(sequence());
    }
    return items.length === 1 ? items[0]! : { kind: "alternatives", items };
  };
  const sequence = (): Node => {
    const items: Node[] = [];
    while (i < lexemes.length && !(lexemes[i]!.kind === "punct" && [";", "|", "]", "}", ")"].includes(lexemes[i]!.text))) items.push(except());
    return items.length === 1 ? items[0]! : { kind: "sequence", items };
  };
  const except = (): Node => {
    const item = primary();
    if (!isPunct("-")) return item;
    i++;
    return { kind: "except", item, excluded: primary() };
  };
  const primary = (): Node => {
    const lexeme = lexemes[i++];
    if (lexeme === undefined) throw new Error("policy.ebnf: unexpected end");
    if (lexeme.kind === "terminal") return { kind: "terminal", text: lexeme.text };
    if (lexeme.kind === "special") return { kind: "special", text: lexeme.text };
    if (lexeme.kind === "name") return { kind: "ref", name: lexeme.text };
    const close = { "[": "]", "{": "}", "(": ")" }[lexeme.text];
    if (close === undefined) throw new Error(`policy.ebnf: unexpected \`${lexeme.text}\``);
    const item = alternatives();
    expect(close);
    if (lexeme.text === "[") return { kind: "optional", item };
    if (lexeme.text === "{") return { kind: "repetition", item };
    return item;
  };
  const rules = new Map<string, Node>();
  while (i < lexemes.length) {
    const name = lexemes[i++]!;
    if (name.kind !== "name") throw new Error(`policy.ebnf: expected a production name, found ${JSON.stringify(name)}`);
    expect("=");
    if (rules.has(name.text)) throw new Error(`policy.ebnf: \`${name.text}\` is defined twice`);
    rules.set(name.text, alternatives());
    expect(";");
  }
  return rules;
}

/** A small seeded generator (xorshift32): the same seed gives the same sentences on every run. */
export function seededRandom(seed: number): { next(): number; below(n: number): number; pick<T>(items: readonly T[]): T } {
  let state = (Math.imul(seed, 2654435761) ^ 0x9e3779b9) >>> 0 || 1;
  const next = () => {
    state ^= state << 13;
    state >>>= 0;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 4294967296;
  };
  for (let k = 0; k < 20; k++) next();
  return { next, below: (n) => Math.floor(next() * n), pick: (items) => items[Math.floor(next() * items.length)]! };
}

/**
 * Characters for the `? … ?` sets of the lexical section, chosen to probe the lexer: comment
 * openers inside strings, non-ASCII, DEL, U+2028. Keyed by the set's words in policy.ebnf.
 */
const SPECIAL_CHOICES: Record<string, readonly string[]> = {
  '"A" to "Z", "a" to "z"': ["A", "C", "X", "Z", "a", "b", "q", "x", "z"],
  "any character except '\"', \"\\\" and U+0000 to U+001F": ["a", " ", "/", "*", "//", "/*", "*/", "é", "😀", "\u007f", "'", "`", "#", "\u2028", "when", "\u00a0"],
};

/** Productions that nest: past the depth limit, their alternatives that recurse are not drawn. */
const RECURSIVE = new Set(["expression", "or_expr", "and_expr", "not_expr", "comparison", "postfix", "primary", "list", "quantifier", "type_ref", "call_arguments", "argument"]);
/** Where a level of nesting starts: the depth counts these, so every level of an expression's precedence is reached. */
const NESTING = new Set(["expression", "type_ref"]);

/**
 * Random sentences of the grammar as token texts: syntactic productions are expanded token by
 * token, lexical ones (identifier, integer, duration, string) character by character from
 * section 6, and `identifier - keyword` by drawing again.
 */
export function sentenceGenerator(rules: Rules, seed: number, maxDepth = 3): (start: string) => string[] {
  const random = seededRandom(seed);
  const rule = (name: string): Node => {
    const node = rules.get(name);
    if (!node) throw new Error(`policy.ebnf has no production \`${name}\``);
    return node;
  };
  const recursive = (node: Node): boolean => {
    if (node.kind === "ref") return RECURSIVE.has(node.name);
    if (node.kind === "sequence") return node.items.some(recursive);
    if (node.kind === "alternatives") return node.items.every(recursive);
    return false;
  };
  const spelled = (node: Node, text: string): boolean => {
    if (node.kind === "ref") return spelled(rule(node.name), text);
    if (node.kind === "alternatives") return node.items.some((item) => spelled(item, text));
    if (node.kind === "terminal") return node.text === text;
    throw new Error(`policy.ebnf: cannot exclude a ${node.kind}`);
  };
  const characters = (node: Node, depth: number): string => {
    switch (node.kind) {
      case "terminal":
        return node.text;
      case "special": {
        const choices = SPECIAL_CHOICES[node.text];
        if (!choices) throw new Error(`no characters for ? ${node.text} ?`);
        return random.pick(choices);
      }
      case "ref":
        return characters(rule(node.name), depth + 1);
      case "alternatives":
        return characters(random.pick(node.items), depth);
      case "sequence":
        return node.items.map((item) => characters(item, depth)).join("");
      case "optional":
        return random.next() < 0.5 ? characters(node.item, depth) : "";
      case "repetition": {
        let text = "";
        for (let n = random.below(depth > 3 ? 2 : 5); n > 0; n--) text += characters(node.item, depth);
        return text;
      }
      case "except":
        for (let attempt = 0; attempt < 50; attempt++) {
          const text = characters(node.item, depth);
          if (!spelled(node.excluded, text)) return text;
        }
        throw new Error("policy.ebnf: could not draw a text outside the excluded set");
    }
  };
  const tokens = (node: Node, depth: number, out: string[]): void => {
    switch (node.kind) {
      case "terminal":
        out.push(node.text);
        return;
      case "ref":
        if (TOKEN_PRODUCTIONS.has(node.name)) out.push(characters(rule(node.name), 0));
        else tokens(rule(node.name), NESTING.has(node.name) ? depth + 1 : depth, out);
        return;
      case "alternatives": {
        const simple = depth > maxDepth ? node.items.filter((item) => !recursive(item)) : [];
        tokens(random.pick(simple.length > 0 ? simple : node.items), depth, out);
        return;
      }
      case "sequence":
        for (const item of node.items) tokens(item, depth, out);
        return;
      case "optional":
        if (depth <= maxDepth && random.next() < 0.5) tokens(node.item, depth, out);
        return;
      case "repetition":
        // Fewer repetitions the deeper the nesting, so a sentence stays a few hundred tokens.
        for (let n = depth > maxDepth ? 0 : random.below(Math.max(2, 4 - depth)); n > 0; n--) tokens(node.item, depth, out);
        return;
      default:
        throw new Error(`policy.ebnf: a ${node.kind} outside the lexical grammar`);
    }
  };
  return (start) => {
    const out: string[] = [];
    tokens({ kind: "ref", name: start }, 0, out);
    return out;
  };
}

/** The lexer's punctuation tokens: terminals spelled as their text. */
const PUNCTUATION = new Set(["LBrace", "RBrace", "LParen", "RParen", "LBracket", "RBracket", "Comma", "Colon", "Dot", "Question", "Star", "At", "EqEq", "NotEq", "LessEq", "GreaterEq", "Less", "Greater"]);

/** A grammar symbol of the recogniser: a terminal (a token text, or `<identifier>` etc.) or a nonterminal. */
type GrammarSymbol = { readonly terminal: true; readonly text: string } | { readonly terminal: false; readonly name: string };

/**
 * Whether the EBNF derives a text, over the project's own tokens: an Earley recogniser from
 * production `start`. Identifiers, integers, durations and strings are single tokens (the
 * lexical section is the lexer's business, tested elsewhere); keywords are their words.
 */
export function recogniser(rules: Rules, start = "file"): (text: string) => { derived: boolean; stuckAt?: IToken } {
  // The EBNF as plain BNF: each nonterminal has alternatives, each a list of symbols.
  const bnf = new Map<string, GrammarSymbol[][]>();
  let fresh = 0;
  const symbol = (node: Node): GrammarSymbol => {
    if (node.kind === "terminal") return { terminal: true, text: node.text };
    if (node.kind === "ref") return TOKEN_PRODUCTIONS.has(node.name) ? { terminal: true, text: `<${node.name}>` } : { terminal: false, name: node.name };
    const name = `#${fresh++}`;
    bnf.set(name, alternativesOf(node, name));
    return { terminal: false, name };
  };
  const alternativesOf = (node: Node, self: string): GrammarSymbol[][] => {
    switch (node.kind) {
      case "alternatives":
        return node.items.flatMap((item) => alternativesOf(item, self));
      case "sequence":
        return [node.items.map(symbol)];
      case "optional":
        return [[], ...alternativesOf(node.item, self)];
      case "repetition": {
        // `{ a }` as `R = ε | a R`, R being a fresh nonterminal.
        const name = `#${fresh++}`;
        bnf.set(name, [[], ...alternativesOf(node.item, name).map((items) => [...items, { terminal: false as const, name }])]);
        return [[{ terminal: false, name }]];
      }
      default:
        return [[symbol(node)]];
    }
  };
  const pending = [start];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (bnf.has(name)) continue;
    const node = rules.get(name);
    if (!node) throw new Error(`policy.ebnf has no production \`${name}\``);
    bnf.set(name, alternativesOf(node, name));
    for (const alternatives of [...bnf.values()]) for (const items of alternatives) for (const s of items) if (!s.terminal && !s.name.startsWith("#") && !bnf.has(s.name)) pending.push(s.name);
  }
  const nullable = new Set<string>();
  for (let changed = true; changed; ) {
    changed = false;
    for (const [name, alternatives] of bnf) {
      if (!nullable.has(name) && alternatives.some((items) => items.every((s) => !s.terminal && nullable.has(s.name)))) {
        nullable.add(name);
        changed = true;
      }
    }
  }
  const terminalOf = (token: IToken): string => {
    const type = token.tokenType.name;
    if (type === "Identifier") return "<identifier>";
    if (type === "Integer") return "<integer>";
    if (type === "Duration") return "<duration>";
    if (type === "StringLiteral") return "<string>";
    if (type.startsWith("Kw_")) return type.slice(3);
    // Punctuation is its text; any other token (a stray `=`, a string in single quotes) matches no terminal.
    return PUNCTUATION.has(type) ? token.image : `<${type}>`;
  };
  type Item = { readonly name: string; readonly alternative: number; readonly dot: number; readonly origin: number };
  return (text) => {
    const lexed = policyLexer.tokenize(text);
    if (lexed.errors.length > 0) return { derived: false };
    const tokens = lexed.tokens;
    const terminals = tokens.map(terminalOf);
    const sets: Map<string, Item>[] = Array.from({ length: tokens.length + 1 }, () => new Map());
    const add = (set: number, item: Item): boolean => {
      const key = `${item.name}|${item.alternative}|${item.dot}|${item.origin}`;
      if (sets[set]!.has(key)) return false;
      sets[set]!.set(key, item);
      return true;
    };
    bnf.get(start)!.forEach((_, alternative) => add(0, { name: start, alternative, dot: 0, origin: 0 }));
    let reached = 0;
    for (let position = 0; position <= tokens.length; position++) {
      const items = [...sets[position]!.values()];
      const push = (item: Item) => {
        if (add(position, item)) items.push(item);
      };
      for (let q = 0; q < items.length; q++) {
        const item = items[q]!;
        const symbols = bnf.get(item.name)![item.alternative]!;
        const next = symbols[item.dot];
        if (next === undefined) {
          // Complete: advance every item of the origin set that waited for this nonterminal.
          for (const waiting of [...sets[item.origin]!.values()]) {
            const after = bnf.get(waiting.name)![waiting.alternative]![waiting.dot];
            if (after && !after.terminal && after.name === item.name) push({ ...waiting, dot: waiting.dot + 1 });
          }
        } else if (!next.terminal) {
          bnf.get(next.name)!.forEach((_, alternative) => push({ name: next.name, alternative, dot: 0, origin: position }));
          if (nullable.has(next.name)) push({ ...item, dot: item.dot + 1 });
        } else if (position < tokens.length && next.text === terminals[position]) {
          add(position + 1, { ...item, dot: item.dot + 1 });
        }
      }
      if (sets[position]!.size > 0) reached = position;
    }
    const derived = [...sets[tokens.length]!.values()].some((item) => item.name === start && item.origin === 0 && item.dot === bnf.get(start)![item.alternative]!.length);
    return derived ? { derived } : { derived, stuckAt: tokens[reached] };
  };
}

/** The terminals of the syntactic productions reachable from `start` (keywords, punctuation): what sentences of it can spell. */
export function syntacticTerminals(rules: Rules, start = "file"): Set<string> {
  const terminals = new Set<string>();
  const seen = new Set<string>();
  const visit = (node: Node): void => {
    switch (node.kind) {
      case "terminal":
        terminals.add(node.text);
        return;
      case "ref":
        if (TOKEN_PRODUCTIONS.has(node.name) || seen.has(node.name)) return;
        seen.add(node.name);
        visit(rules.get(node.name)!);
        return;
      case "alternatives":
      case "sequence":
        node.items.forEach(visit);
        return;
      case "optional":
      case "repetition":
        visit(node.item);
        return;
      default:
        return;
    }
  };
  visit({ kind: "ref", name: start });
  return terminals;
}
