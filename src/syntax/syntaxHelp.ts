import { ownEntry } from "../diagnostics/ownEntry.js";
import type { IToken, TokenType } from "chevrotain";
import { tokenMatcher } from "./chevrotain.js";
import { closestName, listed } from "../diagnostics/suggest.js";
import { ATTRIBUTE_BLOCKS, BODY_KEYWORDS, EFFECT_KEYWORDS, ENTITY_KEYWORDS, NAMING_KEYWORDS, blockKeyword, openBraceBefore } from "./declarationItems.js";
import { DURATION_UNITS, durationSuggestion, durationText } from "./literals.js";
import { LIST_OPERATORS } from "./starts.js";
import * as T from "./tokens.js";

/** Operators that compare two values; a second one after a comparison is a chain (`a < b < c`). */
const COMPARISONS = new Set<unknown>([T.EqEq, T.NotEq, T.Less, T.LessEq, T.Greater, T.GreaterEq, T.Kw.in, T.Kw.contains, T.Kw.containsAny, T.Kw.containsAll, T.Kw.like]);

/** Tokens that end a term of a condition, looking back from a comparison operator. */
const TERM_STARTS = new Set<unknown>([T.Kw.when, T.Kw.unless, T.Kw.and, T.Kw.or, T.Kw.not, T.Comma, T.Colon]);

/** Whether the term before `tokens[index]` already has a comparison (`1 < x` before a second `<`). */
function termHasComparison(tokens: readonly IToken[], index: number): boolean {
  let depth = 0;
  for (let i = index - 1; i >= 0; i--) {
    const type = tokens[i]!.tokenType;
    if (type === T.RParen || type === T.RBracket) depth++;
    else if (type === T.LParen || type === T.LBracket) {
      if (depth === 0) return false;
      depth--;
    } else if (depth === 0 && TERM_STARTS.has(type)) return false;
    else if (depth === 0 && COMPARISONS.has(type)) return true;
  }
  return false;
}

function isName(token: IToken): boolean {
  return tokenMatcher(token, T.AnyName);
}

function adjacent(before: IToken, after: IToken): boolean {
  return before.endOffset! + 1 === after.startOffset;
}

/**
 * The dotted name directly before `tokens[end]` (`sql`, `sql.q`), without the last segment when
 * there are several: the segments a `.*` can follow (`sql.q*` means tools starting with `sql.q`,
 * which no pattern says; `sql.*` is the nearest one that does).
 */
function wholeSegmentsBefore(tokens: readonly IToken[], end: number): string | undefined {
  const segments: string[] = [];
  let i = end - 1;
  while (i >= 0 && isName(tokens[i]!)) {
    segments.unshift(tokens[i]!.image);
    if (i >= 2 && tokens[i - 1]!.tokenType === T.Dot && adjacent(tokens[i - 1]!, tokens[i]!) && adjacent(tokens[i - 2]!, tokens[i - 1]!)) i -= 2;
    else break;
  }
  if (segments.length === 0) return undefined;
  return (segments.length > 1 ? segments.slice(0, -1) : segments).join(".");
}

/** Keywords a misspelled word in a rule most likely meant (`alow`, `wehn`, `AND`). */
const RULE_KEYWORDS = ["allow", "ask", "deny", "when", "unless", "reason", "grant", "for", "revoke", "and", "or", "not", "in", "contains", "containsAny", "containsAll", "like", "has", "within", "true", "false"];

/** Keywords a misspelled or capitalised word where a declaration goes meant (`polcy`, `Enum`, `tol`). */
const DECLARATION_KEYWORDS = ["enum", "type", "agent", "user", "context", "tool", "intent", "policy"];

/** Keywords that start an operand (`not x`, `any(…)`): in capitals they are read as a name. */
const OPERAND_KEYWORDS: ReadonlySet<string> = new Set(["not", "any", "all"]);

/** "did you mean `k`?", with the reminder that keywords are lower case when only the case differs. */
function keywordSuggestion(word: string, keyword: string): string {
  return keyword === word.toLowerCase() ? `did you mean \`${keyword}\`? keywords are lower case` : `did you mean \`${keyword}\`?`;
}

/**
 * A keyword that starts an operand written in capitals (`and NOT agent.attested`, `ANY(r in …)`)
 * is read as a name, so the syntax error comes at the token after it, which is not the mistake.
 * Returns the error to report at the word itself, when the token before `tokens[index]` is one.
 */
export function capitalisedOperandKeyword(tokens: readonly IToken[], index: number): { word: IToken; message: string; help: string } | undefined {
  const word = tokens[index - 1];
  const found = tokens[index];
  if (!word || !found || word.tokenType !== T.Identifier || !(found.tokenType === T.LParen || isName(found))) return undefined;
  const keyword = word.image.toLowerCase();
  if (!OPERAND_KEYWORDS.has(keyword) || word.image === keyword) return undefined;
  return { word, message: `\`${word.image}\` is read as a name: keywords are lower case`, help: `did you mean \`${keyword}\`?` };
}

/**
 * `any(tool in …)`, `all(args in …)`: a keyword where a quantifier's variable is named. Returns
 * the error to report at it, when `tokens[index]` is one after `any(` or `all(`.
 */
export function keywordAsQuantifierVariable(tokens: readonly IToken[], index: number): { word: IToken; message: string; help: string } | undefined {
  const word = tokens[index];
  const [quantifier, open] = [tokens[index - 2], tokens[index - 1]];
  if (!word || !quantifier || open?.tokenType !== T.LParen || word.tokenType === T.Identifier || !/^[A-Za-z_]\w*$/.test(word.image)) return undefined;
  if ((quantifier.image !== "any" && quantifier.image !== "all") || quantifier.tokenType === T.Identifier) return undefined;
  return { word, message: `\`${word.image}\` is a keyword and cannot name a variable`, help: `give the variable another name, as in \`${quantifier.image}(${word.image.charAt(0)} in …: …)\`` };
}

/**
 * Words of other policy and query languages, and what they are here. Checked before the
 * misspelled-keyword guess, which would offer whatever keyword is one edit away (`if`: `in`).
 */
const FOREIGN_KEYWORDS: Readonly<Record<string, string>> = {
  if: "conditions start with `when`: `deny kb.search when …`",
  where: "conditions start with `when`: `deny kb.search when …`",
  is: "compare with `==`",
  eq: "compare with `==`",
  ne: "compare with `!=`",
  matches: "match a pattern with `like` and `*`: `args.url like \"*.onion\"`",
  // Where a rule starts: Cedar's effects, a rule's keyword or name, and defaults.
  permit: "write `allow`",
  forbid: "write `deny`",
  rule: 'a rule starts with `allow`, `ask` or `deny` and has no name of its own: `@name("…")` on the line before gives its id',
  default: "a call that no rule allows is denied already; to allow what no rule denies, write `allow *`",
  else: "a rule has no `else`: write the other case as a rule of its own (a call that no rule allows is denied)",
};

/**
 * Help that depends on the token before the error more than on the one found: a `=` after an
 * annotation's key, `<>` for "not equal", a word after `revoke` (which takes none) or after
 * `reason` (which takes a string), and a string that a `"` inside it ended early.
 */
function helpForPlace(tokens: readonly IToken[], index: number): string | undefined {
  const found = tokens[index]!;
  const previous = tokens[index - 1]!;
  if (found.tokenType === T.SingleEq && isName(previous) && tokens[index - 2]?.tokenType === T.At) {
    const value = tokens[index + 1]?.tokenType === T.StringLiteral ? tokens[index + 1]!.image : '"…"';
    return `annotations take their arguments in parentheses: \`@${previous.image}(${value})\``;
  }
  if (found.tokenType === T.Greater && previous.tokenType === T.Less && adjacent(previous, found)) return "write `!=` for \"not equal\"";
  if (previous.tokenType === T.Kw.revoke && isName(found) && found.startLine === previous.endLine) return "`revoke` takes nothing: it ends the session of the call it denies";
  if (previous.tokenType === T.Kw.reason && found.tokenType !== T.StringLiteral) return "the reason is a string: write it in double quotes, `reason \"…\"`";
  if (previous.tokenType === T.StringLiteral && adjacent(previous, found) && (isName(found) || found.tokenType === T.StringLiteral)) return 'a `"` ends the string: to put one inside, write `\\"`';
  // Lists, annotation arguments and call arguments are separated by commas.
  if (found.tokenType === T.StringLiteral && previous.tokenType === T.StringLiteral) return `separate the two strings with a comma: \`${previous.image}, ${found.image}\``;
  if (found.tokenType === T.RBracket && previous.tokenType === T.Comma) return "a list takes no `,` after its last item";
  if (found.tokenType === T.Kw.within && previous.tokenType !== T.LParen && previous.tokenType !== T.Comma) return "a comma goes before `within`, as in `session.called(crm.lookup, within 10m)`";
  return undefined;
}

/** Declaration keywords that take their value without a `:` (`risk low`, `args { … }`, `tools a, b`). */
const NO_COLON_AFTER = new Set<unknown>(Object.values(BODY_KEYWORDS).flat());

/** The words people write in a tool's and an intent's bodies for the keywords there. */
const BODY_SYNONYMS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  tool: {
    arguments: "args",
    argument: "args",
    params: "args",
    parameters: "args",
    inputs: "args",
    input: "args",
    max_risk: "risk",
    risk_level: "risk",
    level: "risk",
    labels: "returns",
    label: "returns",
    output: "returns",
    outputs: "returns",
  },
  intent: { tool: "tools", maxrisk: "max_risk", max_risk_level: "max_risk", risk: "max_risk", allowed_tools: "tools" },
};

/** Words for a declaration's description, which a doc comment gives. */
const DESCRIPTION_WORDS: ReadonlySet<string> = new Set(["description", "desc", "doc", "docs", "summary"]);

/** The keyword (`tool`, `intent`, `enum`, `args`…) whose `{` is the innermost one open before `tokens[index]`. */
function blockOwner(tokens: readonly IToken[], index: number): string | undefined {
  const brace = openBraceBefore(tokens, index);
  return brace < 0 ? undefined : blockKeyword(tokens, brace);
}

/** The text of `tokens[from..to)` as written, one space where there was any. */
function textOf(tokens: readonly IToken[], from: number, to: number): string {
  let text = "";
  for (let i = from; i < to; i++) text += (i > from && !adjacent(tokens[i - 1]!, tokens[i]!) ? " " : "") + tokens[i]!.image;
  return text;
}

/** The built-in types, which an attribute's type in quotes (`team: "string"`) names. */
const BUILT_IN_TYPES: ReadonlySet<string> = new Set(["bool", "int", "string", "duration", "time", "Risk"]);

/**
 * The text of a string where a name goes: all of it, or, for a string left open (which runs to
 * the end of its line, `"kb.read }`), the name it starts with.
 */
function quotedName(token: IToken): string | undefined {
  if (T.isTerminatedString(token.image)) return token.image.slice(1, -1);
  return /^"([A-Za-z_*][A-Za-z0-9_.*]*)/.exec(token.image)?.[1];
}

/**
 * The names of a list in quotes from `tokens[index]` (`tools "kb.read", "kb.search"`), each as
 * written without them, up to the first item that is neither a name nor a string.
 */
function namesFrom(tokens: readonly IToken[], index: number): string {
  const names: string[] = [];
  for (let i = index; tokens[i] !== undefined; ) {
    const token = tokens[i]!;
    let next = i + 1;
    let name: string | undefined;
    if (token.tokenType === T.StringLiteral && !T.isTerminatedString(token.image)) {
      // A string left open took the rest of its line, and the names on it: `"internal, external }`.
      names.push(...token.image.slice(1).split(",").map((item) => item.replace(/[\s"}\]]+/g, "")).filter((item) => /^[A-Za-z_*][A-Za-z0-9_.*]*$/.test(item)));
      break;
    }
    if (token.tokenType === T.StringLiteral) name = quotedName(token);
    else if (isName(token) || token.tokenType === T.Star) {
      while (tokens[next]?.tokenType === T.Dot && tokens[next + 1] && (isName(tokens[next + 1]!) || tokens[next + 1]!.tokenType === T.Star)) next += 2;
      name = textOf(tokens, i, next);
    }
    if (name === undefined) break;
    names.push(name);
    if (tokens[next]?.tokenType !== T.Comma) break;
    i = next + 1;
  }
  return names.join(", ");
}

/** The keyword of the list `tokens[index]` is an item of after a `,` (`tools a, b`), looking back over its items. */
function listKeywordBefore(tokens: readonly IToken[], index: number): IToken | undefined {
  let i = index - 1;
  while (i >= 0 && (tokens[i]!.tokenType === T.Comma || tokens[i]!.tokenType === T.Dot || tokens[i]!.tokenType === T.StringLiteral || tokens[i]!.tokenType === T.Star || (isName(tokens[i]!) && !BODY_KEYWORD_TOKENS.has(tokens[i]!.tokenType)))) i--;
  return tokens[i];
}
const BODY_KEYWORD_TOKENS: ReadonlySet<unknown> = new Set(Object.values(BODY_KEYWORDS).flat());

/**
 * Help for a string written where a name goes, the mistake of JSON's habit: a declaration's name
 * (`tool "kb.read"`), a list of tools or labels (`tools "kb.read", "kb.search"`), a risk level, a
 * rule's target, an attribute's name or type (`"team": string`, `team: "string"`), an enum's
 * members. A string left open there (`tools "kb.read }`) gets the same help, for the name it starts with.
 */
export function quotedNameHelp(tokens: readonly IToken[], index: number): string | undefined {
  const found = tokens[index]!;
  const previous = tokens[index - 1];
  if (found.tokenType !== T.StringLiteral || previous === undefined) return undefined;
  const name = quotedName(found);
  if (name === undefined || name === "") return undefined;
  if (index === 1 && NAMING_KEYWORDS.has(previous.tokenType)) return `names are written without quotes: \`${previous.image} ${name}\``;
  const list = previous.tokenType === T.Comma ? listKeywordBefore(tokens, index) : previous;
  if (list?.tokenType === T.Kw.tools || list?.tokenType === T.Kw.returns) {
    const start = tokens.indexOf(list) + 1;
    return `names are written without quotes: \`${list.image} ${namesFrom(tokens, start)}\``;
  }
  if (previous.tokenType === T.Kw.risk || previous.tokenType === T.Kw.max_risk) return `a risk level is written without quotes: \`${previous.image} ${name}\``;
  if ((previous.tokenType === T.Kw.for || previous.tokenType === T.Kw.within) && /^[0-9]+(?:ms|s|m|h|d)$/.test(name)) return `a duration is written without quotes: \`${previous.image} ${name}\``;
  if (EFFECT_KEYWORDS.has(previous.tokenType) || (previous.tokenType === T.Comma && targetsBefore(tokens, index - 1))) return `tool names are written without quotes: \`${name}\``;
  const owner = blockOwner(tokens, index);
  if (owner === "enum" && (previous.tokenType === T.LBrace || previous.tokenType === T.Comma)) {
    const open = openBraceBefore(tokens, index);
    return `an enum's members are names, written without quotes: \`${textOf(tokens, 0, open)} { ${namesFrom(tokens, open + 1)} }\``;
  }
  if (owner === undefined || !ATTRIBUTE_BLOCKS.has(owner)) return undefined;
  const attributeStart = previous.tokenType === T.LBrace || previous.tokenType === T.Comma || previous.endLine! < found.startLine!;
  if (attributeStart && (tokens[index + 1]?.tokenType === T.Colon || !T.isTerminatedString(found.image))) return `an attribute's name is written without quotes: \`${name}\``;
  if (previous.tokenType === T.Colon && BUILT_IN_TYPES.has(name) && tokens[index - 2] && isName(tokens[index - 2]!)) return `a type is written without quotes: \`${tokens[index - 2]!.image}: ${name}\``;
  return undefined;
}

/**
 * Help for a mistake in a declaration: a `:` or `=` after a keyword (`risk: low`, JSON and
 * YAML's habit), a list in brackets after one (`tools [a, b]`), a word a tool's or an intent's
 * body does not have (`arguments`, `tool` for `tools`, `description`, a rule), a name given to
 * `agent`, a trailing comma in an enum, and the mistakes of attributes (`helpInAttribute`).
 */
function helpInDeclaration(tokens: readonly IToken[], index: number): string | undefined {
  const found = tokens[index]!;
  const previous = tokens[index - 1]!;
  const next = tokens[index + 1];
  if ((found.tokenType === T.Colon || found.tokenType === T.SingleEq) && NO_COLON_AFTER.has(previous.tokenType)) {
    let end = index + 2;
    while (tokens[end]?.tokenType === T.Dot && tokens[end + 1] && adjacent(tokens[end - 1]!, tokens[end]!)) end += 2;
    // `tools: [a, b]`: a list in JSON's way, whose items are written bare.
    const close = next?.tokenType === T.LBracket ? tokens.findIndex((t, i) => i > index && t.tokenType === T.RBracket) : -1;
    const list = previous.tokenType === T.Kw.tools || previous.tokenType === T.Kw.returns;
    const value = next?.tokenType === T.LBrace ? "{ … }" : close > 0 ? textOf(tokens, index + 2, close) : list && next ? namesFrom(tokens, index + 1) || "…" : next ? textOf(tokens, index + 1, Math.min(end, tokens.length)) : "…";
    // `risk: Risk.low`, `risk = "high"`: levels and names are written bare there.
    return `\`${previous.image}\` takes no \`${found.image}\`: write \`${previous.image} ${value.replace(/^Risk\./, "").replace(/"/g, "")}\``;
  }
  if (found.tokenType === T.LBracket && (previous.tokenType === T.Kw.tools || previous.tokenType === T.Kw.returns)) {
    const close = tokens.findIndex((t, i) => i > index && t.tokenType === T.RBracket);
    return `\`${previous.image}\` takes its list without brackets: write \`${previous.image} ${close > index + 1 ? textOf(tokens, index + 1, close) : "…"}\``;
  }
  if (found.tokenType === T.SingleEq && index === 2 && (tokens[0]!.tokenType === T.Kw.enum || tokens[0]!.tokenType === T.Kw.type)) return helpForEquals(tokens, index);
  if (index === 1 && ENTITY_KEYWORDS.has(previous.tokenType) && next?.tokenType === T.LBrace) {
    return `\`${previous.image}\` takes no name: one \`${previous.image} { … }\` block declares the attributes of every request's ${previous.image}`;
  }
  if (found.tokenType === T.LBracket && next?.tokenType === T.RBracket && isName(previous) && adjacent(previous, found)) return `a list is written \`list<${previous.image}>\``;
  if (found.tokenType === T.RBrace && previous.tokenType === T.Comma && blockOwner(tokens, index) === "enum") return "an enum's members take no `,` after the last one";
  if (enumMemberWithoutComma(tokens, index)) return `separate members with \`,\`: \`${previous.image}, ${found.image}\``;
  const owner = blockOwner(tokens, index);
  if (owner !== undefined && ATTRIBUTE_BLOCKS.has(owner)) return helpInAttribute(tokens, index, owner);
  const keywords = owner === undefined || !isName(found) ? undefined : ownEntry(BODY_KEYWORDS, owner)?.map((type) => type.name.slice("Kw_".length));
  if (owner !== undefined && keywords !== undefined && (previous.tokenType === T.LBrace || previous.tokenType === T.RBrace || previous.tokenType === T.Identifier || isName(previous))) {
    const declares = `${owner === "intent" ? "an" : "a"} \`${owner}\` declares ${keywords.map((k) => `\`${k}\``).join(", ").replace(/, ([^,]*)$/, " and $1")}`;
    if (EFFECT_KEYWORDS.has(found.tokenType)) return `rules go inside \`policy NAME { … }\`; ${declares}`;
    const word = found.image.toLowerCase();
    if (DESCRIPTION_WORDS.has(word)) return `describe it in a \`///\` doc comment on the line before \`${owner}\`; ${declares}`;
    const synonyms = ownEntry(BODY_SYNONYMS, owner);
    const meant = (synonyms === undefined ? undefined : ownEntry(synonyms, word)) ?? closestName(word, keywords);
    if (meant !== undefined && meant !== found.image) return `did you mean \`${meant}\`? ${declares}`;
  }
  return undefined;
}

/**
 * `enum Color { red green }`: a member where a `,` or the `}` goes, whose error ("expected `}`")
 * would leave out the `,` the author forgot.
 */
export function enumMemberWithoutComma(tokens: readonly IToken[], index: number): boolean {
  const [previous, found] = [tokens[index - 1], tokens[index]];
  return previous !== undefined && found !== undefined && isName(previous) && isName(found) && blockOwner(tokens, index) === "enum";
}

/**
 * `enum Color = red | green`, `type Color = "red" | "green"` (a union, as in TypeScript), `enum
 * Color = red, green`: an enum lists its members in braces. `type Address = { … }`: a record
 * type takes no `=`.
 */
function helpForEquals(tokens: readonly IToken[], index: number): string {
  const [keyword, name, , next] = [tokens[0]!, tokens[1]!, tokens[2], tokens[3]];
  if (next?.tokenType === T.LBrace) return `\`${keyword.image}\` takes no \`=\`: write \`${keyword.image} ${name.image} { … }\``;
  // The members as written after the `=` (its `|` are no tokens, and may start the lines after
  // it), up to what is no member, quoted ones unquoted.
  const members: string[] = [];
  for (let i = index + 1; i < tokens.length; i++) {
    const member = tokens[i]!.tokenType === T.StringLiteral ? tokens[i]!.image.slice(1, -1) : isName(tokens[i]!) ? tokens[i]!.image : undefined;
    if (member !== undefined && /^[A-Za-z_][A-Za-z0-9_]*$/.test(member)) members.push(member);
    else if (tokens[i]!.tokenType !== T.Comma && tokens[i]!.tokenType !== T.StringLiteral) break;
  }
  const written = `enum ${name.image} { ${members.length > 0 ? members.join(", ") : "…"} }`;
  return keyword.tokenType === T.Kw.enum ? `an enum lists its members in braces: write \`${written}\`` : `a type of a few values is an enum: write \`${written}\``;
}

/**
 * Help for a mistake in an attribute (`name: type`, in `agent`, `user`, `context`, a `type` or
 * `args`): `=` for `:`, a quoted name, `optional` or a `?` after the type for the `?` after the
 * name, `string[]`, `set(…)` and `[…]` for `list<…>`, `risk` for `Risk`, a value for a type.
 */
function helpInAttribute(tokens: readonly IToken[], index: number, owner: string): string | undefined {
  const found = tokens[index]!;
  const previous = tokens[index - 1]!;
  const next = tokens[index + 1];
  const type = next && isName(next) ? next.image : "string";
  if (found.tokenType === T.SingleEq && tokens[index - 2]?.tokenType === T.Colon) {
    const name = tokens[index - 3]?.tokenType === T.Question ? tokens[index - 4] : tokens[index - 3];
    return `an attribute has no default value: declare it optional, \`${name?.image ?? "…"}?: ${previous.image}\`, and test it with \`has\` in rules`;
  }
  if (found.tokenType === T.SingleEq && isName(previous)) return `an attribute's type follows a \`:\`: write \`${previous.image}: ${type}\``;
  if (previous.image === "optional" && isName(found) && next?.tokenType === T.Colon) {
    const after = tokens[index + 2];
    return `an optional attribute has a \`?\` after its name: \`${found.image}?: ${after && isName(after) ? after.image : "…"}\``;
  }
  // `cc: string?`, `cc: list<string>?` (TypeScript's and Kotlin's place for it): the type runs back to the `:`.
  if (found.tokenType === T.Question) {
    let colon = index - 1;
    while (colon > 0 && (isName(tokens[colon]!) || tokens[colon]!.tokenType === T.Less || tokens[colon]!.tokenType === T.Greater || tokens[colon]!.tokenType === T.Comma)) colon--;
    const name = tokens[colon - 1];
    if (colon < index - 1 && tokens[colon]!.tokenType === T.Colon && name && isName(name)) return `an optional attribute has a \`?\` after its name: \`${name.image}?: ${textOf(tokens, colon + 1, index)}\``;
  }
  // `set(string)`, `list[string]`, `[string]`: the element type goes in `<…>`.
  const element = next && isName(next) ? next.image : "…";
  if ((found.tokenType === T.LParen || found.tokenType === T.LBracket) && (previous.image === "set" || previous.image === "list")) return `a ${previous.image} is written \`${previous.image}<${element}>\``;
  if (found.tokenType === T.LBracket && previous.tokenType === T.Colon) return `a list is written \`list<${element}>\``;
  if (found.tokenType === T.Kw.risk && previous.tokenType === T.Colon) return "the type of risk levels is `Risk`, with a capital";
  if (VALUE_TOKENS.has(found.tokenType) && previous.tokenType === T.Colon && tokens[index - 2] && isName(tokens[index - 2]!)) {
    const attribute = tokens[index - 2]!.image;
    const rule = owner === "type" ? "" : `; a rule compares its value, as in \`${owner}.${attribute} == ${found.image}\``;
    return `an attribute is declared with its type, as in \`${attribute}: ${VALUE_TYPES.get(found.tokenType)}\`${rule}`;
  }
  return undefined;
}

/** Values written where an attribute's type goes, and the type each has. */
const VALUE_TYPES = new Map<unknown, string>([
  [T.StringLiteral, "string"],
  [T.Integer, "int"],
  [T.Duration, "duration"],
  [T.Kw.true, "bool"],
  [T.Kw.false, "bool"],
]);
const VALUE_TOKENS: ReadonlySet<unknown> = new Set(VALUE_TYPES.keys());

/**
 * Help for a mistake in a rule's targets and clauses: a target in quotes, two targets without a
 * `,`, a scope without quotes or in brackets, a lifetime without its unit.
 */
function helpInRule(tokens: readonly IToken[], index: number): string | undefined {
  const found = tokens[index]!;
  const previous = tokens[index - 1]!;
  if (found.tokenType === T.LBrace && (previous.tokenType === T.Kw.when || previous.tokenType === T.Kw.unless)) {
    const close = tokens.findIndex((t, i) => i > index && t.tokenType === T.RBrace);
    const condition = close > index + 1 ? textOf(tokens, index + 1, close) : "";
    return `a condition takes no braces: write \`${previous.image} ${condition.length > 0 && condition.length <= 40 ? condition : "…"}\``;
  }
  if (found.tokenType === T.LBrace && targetsBefore(tokens, index)) return "a rule takes no braces: its clauses follow its targets, as in `allow kb.search when …`";
  // `in {"a", "b"}`, `in ("a", "b")`: a list of other languages.
  const list = listInOtherBrackets(tokens, index);
  if (list !== undefined) return `a list is written in square brackets: \`[${list}]\``;
  if (found.tokenType === T.Comma && previous.tokenType === T.Comma) return "one `,` too many: remove it";
  // `deny kb.search email.send`; a word that is a misspelled clause (`wehn`) gets its own help.
  const dotted = tokens[index + 1]?.tokenType === T.Dot;
  if (dotted && isName(found) && !CLAUSE_TOKENS.has(found.tokenType) && (isName(previous) || previous.tokenType === T.Star) && targetsBefore(tokens, index) && closestName(found.image, RULE_KEYWORDS) === undefined) {
    let end = index + 1;
    while (tokens[end]?.tokenType === T.Dot && tokens[end + 1] && (isName(tokens[end + 1]!) || tokens[end + 1]!.tokenType === T.Star)) end += 2;
    return `targets are separated by \`,\`: \`${recordBefore(tokens, index)}, ${textOf(tokens, index, end)}\``;
  }
  if (previous.tokenType === T.Kw.grant) {
    const end = tokens.findIndex((t, i) => i > index && t.tokenType === T.Kw.for);
    const scopeEnd = end < 0 ? index + 1 : end;
    if (found.tokenType === T.LBracket) {
      const scopes = tokens.slice(index + 1, scopeEnd).filter((t) => t.tokenType === T.StringLiteral).map((t) => t.image);
      return `scopes are written without brackets: \`grant ${scopes.join(", ") || '"…"'} for …\``;
    }
    if (isName(found)) return `a scope is a string: \`grant ${JSON.stringify(textOf(tokens, index, scopeEnd))} for …\``;
  }
  // A bare number (`for 300`); `for 1.5h` and `for 5 m` get their help from durationHelpAhead.
  const after = tokens[index + 1]?.tokenType;
  if (previous.tokenType === T.Kw.for && found.tokenType === T.Integer && after !== T.Identifier && after !== T.Dot) return `a lifetime is a duration: write it with its unit, as in \`${found.image}s\``;
  return undefined;
}

/**
 * The items of a list written in braces or parentheses after `in`, `containsAny` or `containsAll`,
 * when the syntax error at `tokens[index]` is its `{`, or a `,` in its `(`; else undefined.
 */
function listInOtherBrackets(tokens: readonly IToken[], index: number): string | undefined {
  const found = tokens[index]!.tokenType;
  const open = found === T.LBrace ? index : found === T.Comma ? bracketOpenBefore(tokens, index) : -1;
  const opener = tokens[open]?.tokenType;
  if (open < 1 || (opener !== T.LBrace && opener !== T.LParen) || !LIST_OPERATORS.has(tokens[open - 1]!.tokenType)) return undefined;
  const closer = opener === T.LBrace ? T.RBrace : T.RParen;
  const close = tokens.findIndex((t, i) => i > open && t.tokenType === closer);
  const items = close > open + 1 ? textOf(tokens, open + 1, close) : "…";
  return items.length <= 40 ? items : "…";
}

/** The index of the innermost bracket (`(`, `[` or `{`) left open before `tokens[index]`, or -1. */
function bracketOpenBefore(tokens: readonly IToken[], index: number): number {
  let depth = 0;
  for (let i = index - 1; i >= 0; i--) {
    const type = tokens[i]!.tokenType;
    if (type === T.RParen || type === T.RBracket || type === T.RBrace) depth++;
    else if ((type === T.LParen || type === T.LBracket || type === T.LBrace) && depth-- === 0) return i;
  }
  return -1;
}

const CLAUSE_TOKENS = new Set<unknown>([T.Kw.when, T.Kw.unless, T.Kw.reason, T.Kw.grant, T.Kw.for, T.Kw.revoke]);

/** Whether `tokens[0..end)` ends in a rule's effect and targets (names, `.`, `*` and `,` after the effect). */
function targetsBefore(tokens: readonly IToken[], end: number): boolean {
  for (let i = end - 1; i >= 0; i--) {
    const type = tokens[i]!.tokenType;
    if (EFFECT_KEYWORDS.has(type) && (i === 0 || tokens[i - 1]!.tokenType !== T.Dot)) return true;
    if (CLAUSE_TOKENS.has(type) || !(isName(tokens[i]!) || type === T.Dot || type === T.Star || type === T.Comma)) return false;
  }
  return false;
}

/**
 * Help for `has` written as in other languages: as a function (`has(context.destination)`), or
 * with a path after it (`context has destination.zone`), where it takes one attribute's name.
 */
function helpForHas(tokens: readonly IToken[], index: number): string | undefined {
  const found = tokens[index]!;
  if (found.tokenType === T.Kw.has && tokens[index + 1]?.tokenType === T.LParen) {
    const close = tokens.findIndex((t, i) => i > index && t.tokenType === T.RParen);
    const path = close < 0 ? [] : tokens.slice(index + 2, close);
    const lastDot = path.map((t) => t.tokenType).lastIndexOf(T.Dot);
    if (lastDot > 0 && lastDot < path.length - 1) return `\`has\` goes between the record and the attribute: \`${textOf(path, 0, lastDot)} has ${textOf(path, lastDot + 1, path.length)}\``;
    return "`has` goes between the record and the attribute: `context has destination`";
  }
  if (found.tokenType === T.Dot && tokens[index - 2]?.tokenType === T.Kw.has) {
    const record = recordBefore(tokens, index - 2);
    const attribute = tokens[index - 1]!.image;
    const rest = tokens[index + 1] && isName(tokens[index + 1]!) ? tokens[index + 1]!.image : "…";
    return `\`has\` tests one attribute: write \`${record} has ${attribute} and ${record}.${attribute} has ${rest}\``;
  }
  return undefined;
}

/** The dotted path that ends just before `tokens[end]` (`context.destination`). */
function recordBefore(tokens: readonly IToken[], end: number): string {
  let start = end - 1;
  while (start >= 2 && tokens[start - 1]!.tokenType === T.Dot && isName(tokens[start - 2]!)) start -= 2;
  return start >= 0 ? textOf(tokens, start, end) : "…";
}

/** `1.5h`: the tokens `1` `.` `5h`, written without spaces; the help says what to write instead. */
function fractionHelp(whole: IToken, fraction: IToken): string {
  const match = /^([0-9]+)(ms|s|m|h|d)?$/.exec(fraction.image);
  if (!match?.[2]) return "numbers are whole: the language has no fractions";
  const milliseconds = Number(`${whole.image}.${match[1]}`) * DURATION_UNITS[match[2]]!;
  return Number.isSafeInteger(milliseconds) && milliseconds > 0 ? `durations are whole numbers: write \`${durationText(milliseconds)}\`` : "durations are whole numbers: use a smaller unit";
}

/**
 * Advice for a syntax error at `tokens[index]`, for the mistakes people make most: a `*` inside
 * a name segment (`sql*`, `*.ddl`), chained comparisons (`1 < x < 3`), a misspelled keyword,
 * and durations written as `1.5h` or `1 m`.
 */
export function helpForSyntaxError(tokens: readonly IToken[], index: number, declarationExpected = false): string | undefined {
  const found = tokens[index];
  const previous = tokens[index - 1];
  if (!found) return undefined;
  if (declarationExpected && found.tokenType === T.RBrace) return "this `}` closes no `{`: remove it";
  if (found.tokenType === T.Dot && previous !== undefined && QUANTIFIERS.has(previous.tokenType)) return quantifierNamespaceHelp(tokens, index - 1);
  const byPlace = previous ? quotedNameHelp(tokens, index) ?? helpForPlace(tokens, index) ?? helpInDeclaration(tokens, index) ?? helpInRule(tokens, index) : undefined;
  if (byPlace !== undefined) return byPlace;
  const forHas = helpForHas(tokens, index);
  if (forHas !== undefined) return forHas;
  if (found.tokenType === T.Identifier && !(previous?.tokenType === T.Integer && Object.hasOwn(DURATION_UNITS, found.image))) {
    const meant = ownEntry(FOREIGN_KEYWORDS, found.image.toLowerCase());
    if (meant !== undefined) return meant;
    // Where a declaration goes, a declaration keyword is the likelier one (`tol` is two edits from `for`).
    const keyword = (declarationExpected ? closestName(found.image, DECLARATION_KEYWORDS) : undefined) ?? closestName(found.image, RULE_KEYWORDS);
    if (keyword !== undefined) return keywordSuggestion(found.image, keyword);
  }
  if (!previous) return undefined;
  if (found.tokenType === T.Star && isName(previous) && adjacent(previous, found)) {
    return `a pattern ends in \`.*\` after whole name segments, as in \`${wholeSegmentsBefore(tokens, index)}.*\``;
  }
  if (found.tokenType === T.Dot && previous.tokenType === T.Star && adjacent(previous, found)) {
    return "a pattern ends in `.*` after whole name segments, as in `sql.*`; `*` cannot stand for the start of a name";
  }
  if (COMPARISONS.has(found.tokenType) && termHasComparison(tokens, index)) {
    return `comparisons do not chain: write \`a < b and b < c\``;
  }
  const afterOperand = endsOperand(previous);
  // `args.s not in ["a"]`: `not` goes before the whole test.
  const next = tokens[index + 1];
  if (found.tokenType === T.Kw.not && afterOperand && next !== undefined && NEGATED_AFTER_NOT.has(next.image)) return `there is no \`not ${next.image}\`: write \`not\` before the whole test, as in \`not (x ${next.image} …)\``;
  if (found.tokenType === T.Star && afterOperand && !adjacent(previous, found)) return "the language has no arithmetic: compute the value where the request is made and send it (in `context` or `args`), or compare with a constant";
  if (found.tokenType === T.LBracket && afterOperand && adjacent(previous, found)) return "the language has no indexing: test the elements with `any(x in L: …)` or `all(x in L: …)`, or the collection with `contains`";
  if (found.tokenType === T.LParen && previous.tokenType === T.Identifier && FUNCTION_STYLE_METHODS.has(previous.image)) {
    const close = tokens.findIndex((token, i) => i > index && token.tokenType === T.RParen);
    const argument = tokens.slice(index + 1, close);
    const path = close > index + 1 && argument.every((token) => isName(token) || token.tokenType === T.Dot) ? argument.map((token) => token.image).join("") : "args.to";
    const method = previous.image === "lower" ? "lower" : "size";
    return `\`${previous.image}\` is no function: write the method after the value, as in \`${path}.${method}()\``;
  }
  const beforeDot = tokens[index - 2];
  if ((found.tokenType === T.Integer || found.tokenType === T.Duration) && previous.tokenType === T.Dot && beforeDot?.tokenType === T.Integer && adjacent(beforeDot, previous) && adjacent(previous, found)) {
    return fractionHelp(beforeDot, found);
  }
  if (found.tokenType === T.Identifier && Object.hasOwn(DURATION_UNITS, found.image) && previous.tokenType === T.Integer) return `write the duration without a space: \`${previous.image}${found.image}\``;
  return durationHelpAhead(tokens, index);
}

/** Operators written after `not` by those who say "not in": none of them takes one. */
const NEGATED_AFTER_NOT: ReadonlySet<string> = new Set(["in", "contains", "containsAny", "containsAll", "like", "has"]);

/** Methods written as functions (`size(args.to)`, `lower(args.q)`). */
const FUNCTION_STYLE_METHODS: ReadonlySet<string> = new Set(["size", "len", "length", "count", "lower"]);

/** Whether `token` can end an operand: a name, a literal, or a closing bracket. */
function endsOperand(token: IToken): boolean {
  return isName(token) || token.tokenType === T.Integer || token.tokenType === T.Duration || token.tokenType === T.StringLiteral || token.tokenType === T.RParen || token.tokenType === T.RBracket;
}

/**
 * Where a duration must come (`grant "x" for 1.5h`, `for 5 m`), the error is at the number, not
 * at the fraction or the unit after it: the help looks ahead from there.
 */
function durationHelpAhead(tokens: readonly IToken[], index: number): string | undefined {
  const [found, next, after] = [tokens[index]!, tokens[index + 1], tokens[index + 2]];
  if (found.tokenType !== T.Integer || next === undefined) return undefined;
  if (next.tokenType === T.Dot && (after?.tokenType === T.Integer || after?.tokenType === T.Duration) && adjacent(found, next) && adjacent(next, after)) return fractionHelp(found, after);
  if (next.tokenType === T.Identifier && Object.hasOwn(DURATION_UNITS, next.image)) return `write the duration without a space: \`${found.image}${next.image}\``;
  // `for 5 minutes`: the unit spelled out, after a space.
  const spelled = next.tokenType === T.Identifier ? durationSuggestion(`${found.image}${next.image}`) : undefined;
  if (spelled !== undefined) return `a duration is one word, a number and a unit: ${spelled}`;
  return undefined;
}

/** Keywords that are a value of their own (`tool`, `true`) or start one (`not x`, `any(…)`). */
const EXPRESSION_KEYWORDS = new Set<unknown>([T.Kw.agent, T.Kw.user, T.Kw.context, T.Kw.tool, T.Kw.intent, T.Kw.args, T.Kw.true, T.Kw.false, T.Kw.not, T.Kw.any, T.Kw.all]);
const QUANTIFIERS = new Set<unknown>([T.Kw.any, T.Kw.all]);
const KEYWORDS = new Set<unknown>(T.KEYWORDS);

/**
 * `any.thing` in a condition: a tool whose name starts with `any` or `all`, which there start a
 * quantifier (`any(x in …)`). Every other keyword that may start a tool name may start one in
 * a condition too; these two are written as a string, which `tool ==` and `session.called` take.
 */
function quantifierNamespaceHelp(tokens: readonly IToken[], start: number): string {
  let end = start;
  while (tokens[end + 1]?.tokenType === T.Dot && tokens[end + 2] && (tokenMatcher(tokens[end + 2]!, T.AnyName) || tokens[end + 2]!.tokenType === T.Star)) end += 2;
  const name = tokens.slice(start, end + 1).map((t) => t.image).join("");
  return `\`${tokens[start]!.image}\` starts a quantifier here (\`${tokens[start]!.image}(x in list: …)\`); a tool whose name starts with it is written as a string in a condition: \`"${name}"\``;
}

/** Whether `tokens[at]` is where a value goes: after a comparison, or an item of a `[…]` list. */
function valueExpectedAt(tokens: readonly IToken[], at: number): boolean {
  const before = tokens[at - 1];
  if (!before) return false;
  if (COMPARISONS.has(before.tokenType)) return true;
  if (before.tokenType !== T.LBracket && before.tokenType !== T.Comma) return false;
  let depth = 0;
  for (let i = at - 1; i >= 0; i--) {
    const type = tokens[i]!.tokenType;
    if (type === T.RParen || type === T.RBracket) depth++;
    else if (type === T.LParen || type === T.LBracket) {
      if (depth === 0) return type === T.LBracket;
      depth--;
    }
  }
  return false;
}

/**
 * The keyword written where a value goes, when that is the syntax error at `tokens[index]`:
 * `agent.kind == deny`, `[ok, deny]`, or `== all` with no `(` after it. An enum member may be
 * named like a keyword, but then it is written with its enum's name (`Kind.deny`).
 */
export function keywordWrittenAsValue(tokens: readonly IToken[], index: number): string | undefined {
  const found = tokens[index];
  // `deny.all` is a dotted name (a tool's, say), not a member written bare.
  const dotted = tokens[index + 1]?.tokenType === T.Dot;
  if (found && !dotted && KEYWORDS.has(found.tokenType) && !EXPRESSION_KEYWORDS.has(found.tokenType) && valueExpectedAt(tokens, index)) return found.image;
  const previous = tokens[index - 1];
  // `== any.thing` is a tool's name, not a member written bare (see quantifierNamespaceHelp).
  if (previous && QUANTIFIERS.has(previous.tokenType) && found?.tokenType !== T.LParen && found?.tokenType !== T.Dot && valueExpectedAt(tokens, index - 1)) return previous.image;
  return undefined;
}

/** The help for a keyword written as a value; `enums`: the declared enums that have a member so named. */
export function keywordValueHelp(keyword: string, enums: readonly string[]): string {
  if (enums.length === 0) return `\`${keyword}\` is a keyword: an enum member of that name is written with its enum's name, as in \`Kind.${keyword}\``;
  const written = enums.map((name) => `\`${name}.${keyword}\``);
  return `\`${keyword}\` is a keyword: the enum member is written with its enum's name, ${listed(written, "or")}`;
}

/**
 * The `{` of a declaration's tokens that most likely lacks its `}`, when one is left open: one
 * whose `}` is lined up with an outer block rather than with it (`args { a: int`, then a `}` at
 * the tool's indentation that took the tool's `}`), else the innermost `{` left open.
 */
export function unclosedBrace(tokens: readonly IToken[]): IToken | undefined {
  const open: IToken[] = [];
  let misaligned: IToken | undefined;
  /** The column of the first token of each line seen so far (the line's indentation). */
  const indentation = new Map<number, number>();
  for (const token of tokens) {
    if (!indentation.has(token.startLine!)) indentation.set(token.startLine!, token.startColumn!);
    if (token.tokenType === T.LBrace) open.push(token);
    else if (token.tokenType === T.RBrace) {
      const opener = open.pop();
      const startsLine = indentation.get(token.startLine!) === token.startColumn;
      if (opener && startsLine && opener.startLine !== token.startLine && indentation.get(opener.startLine!) !== token.startColumn) misaligned ??= opener;
    }
  }
  if (open.length === 0) return undefined;
  return misaligned ?? open[open.length - 1];
}

/**
 * The `(` before `tokens[end]` that no `)` closes, for "expected `)`" (a condition's parenthesis
 * never closed); the same for `[` and `]`, or `<` and `>` (`set<string`). One closed later
 * (`@controls("a" "b")`, a missing `,`) is not the mistake.
 */
export function unclosedBracket(tokens: readonly IToken[], end: number, opener: TokenType, closer: TokenType): IToken | undefined {
  const open: IToken[] = [];
  for (const token of tokens) {
    if (token.tokenType === opener) open.push(token);
    else if (token.tokenType === closer) open.pop();
  }
  const before = tokens[end]?.startOffset ?? Infinity;
  return open.filter((token) => token.startOffset < before).at(-1);
}
