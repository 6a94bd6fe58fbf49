import { ownEntry } from "../diagnostics/ownEntry.js";
import type { IToken, TokenType } from "chevrotain";
import { tokenMatcher } from "./chevrotain.js";
import * as T from "./tokens.js";

/** Declarations whose `{` follows a name (`tool kb.search {`); the others' follows their keyword (`agent {`, `args {`). */
export const NAMING_KEYWORDS: ReadonlySet<unknown> = new Set([T.Kw.enum, T.Kw.type, T.Kw.tool, T.Kw.intent, T.Kw.policy]);
export const ENTITY_KEYWORDS: ReadonlySet<unknown> = new Set([T.Kw.agent, T.Kw.user, T.Kw.context]);
/** Keywords whose block follows them, with no name: `agent {`, `args {`. */
export const UNNAMED_BLOCKS: ReadonlySet<unknown> = new Set([...ENTITY_KEYWORDS, T.Kw.args]);
export const EFFECT_KEYWORDS: ReadonlySet<unknown> = new Set([T.Kw.allow, T.Kw.ask, T.Kw.deny]);

/** The index of the innermost `{` left open before `tokens[index]`, or -1. */
export function openBraceBefore(tokens: readonly IToken[], index: number): number {
  let depth = 0;
  for (let i = index - 1; i >= 0; i--) {
    const type = tokens[i]!.tokenType;
    if (type === T.RBrace) depth++;
    else if (type === T.LBrace && depth-- === 0) return i;
  }
  return -1;
}

/**
 * The keyword whose block the `{` at `brace` opens: `tool`, `intent`, `enum`, `type`, `policy`
 * (back over the declared name, `kb.search`), or `agent`, `user`, `context`, `args`.
 */
export function blockKeyword(tokens: readonly IToken[], brace: number): string | undefined {
  // `args: {` (a `:` of JSON's habit) still opens the attributes of `args`.
  const written = tokens[brace - 1]?.tokenType === T.Colon || tokens[brace - 1]?.tokenType === T.SingleEq ? brace - 1 : brace;
  const before = tokens[written - 1];
  // `tool agent {` declares a tool named `agent`: the word before the `{` is then a name.
  if (before && UNNAMED_BLOCKS.has(before.tokenType) && !NAMING_KEYWORDS.has(tokens[written - 2]?.tokenType) && tokens[written - 2]?.tokenType !== T.Dot) return before.image;
  let j = brace - 1;
  while (j >= 0 && (tokenMatcher(tokens[j]!, T.AnyName) || tokens[j]!.tokenType === T.Dot) && !NAMING_KEYWORDS.has(tokens[j]!.tokenType)) j--;
  return j >= 0 && NAMING_KEYWORDS.has(tokens[j]!.tokenType) ? tokens[j]!.image : undefined;
}

/** The keywords that start the items of a tool's and an intent's body. */
export const BODY_KEYWORDS: Readonly<Record<string, readonly TokenType[] | undefined>> = {
  tool: [T.Kw.risk, T.Kw.returns, T.Kw.args],
  intent: [T.Kw.tools, T.Kw.max_risk],
};
/** Blocks of attributes (`team: string`), separated by `,` or line breaks, as `blockKeyword` names them. */
export const ATTRIBUTE_BLOCKS: ReadonlySet<string> = new Set(["agent", "user", "context", "type", "args"]);

/** Tokens that continue the item before them even at the start of a line. */
const CONTINUING = new Set<unknown>([T.Comma, T.Dot, T.LBrace, T.Colon, T.Greater]);

/**
 * Where the items of the block opened at `open` and closed at `close` start: at the first
 * token, after a `,` between attributes, at a body keyword of a tool or an intent (`risk`,
 * `tools`) that starts a line or follows no `,` and no body keyword, and at a line break that no
 * `,` before it continues; never inside brackets.
 */
function itemStarts(tokens: readonly IToken[], open: number, close: number, keyword: string): number[] {
  const bodyKeywords = ownEntry(BODY_KEYWORDS, keyword);
  const starts = [open + 1];
  let depth = 0;
  for (let i = open + 1; i < close; i++) {
    const token = tokens[i]!;
    const previous = tokens[i - 1]!;
    if (depth === 0 && i > open + 1) {
      const afterComma = previous.tokenType === T.Comma;
      const newLine = token.startLine! > previous.endLine!;
      const startsLine = newLine && !afterComma && !CONTINUING.has(token.tokenType);
      // A body keyword after a `,` starts an item only on a line of its own (`risk low,` then
      // `returns public`); right after another (`returns returns public`) it is that one's value.
      const byKeyword = bodyKeywords?.includes(token.tokenType) === true && (newLine || (!afterComma && !bodyKeywords.includes(previous.tokenType))) && previous.tokenType !== T.Dot;
      if (startsLine || byKeyword || (afterComma && bodyKeywords === undefined)) starts.push(i);
    }
    if (token.tokenType === T.LBrace || token.tokenType === T.LParen || token.tokenType === T.LBracket) depth++;
    else if (token.tokenType === T.RBrace || token.tokenType === T.RParen || token.tokenType === T.RBracket) depth = Math.max(0, depth - 1);
  }
  return starts;
}

/**
 * Whether the item whose `:` (or `=`) is at `colon`, up to `end`, is well formed without it: the
 * `{` of `args`, one name after `risk` or `max_risk`, a list of names or patterns after `tools`
 * or `returns`. Else the item is skipped whole, so what else is wrong in it gives no second error.
 */
function readsWithoutColon(tokens: readonly IToken[], colon: number, end: number): boolean {
  const keyword = tokens[colon - 1]?.tokenType;
  const value = tokens.slice(colon + 1, end);
  if (keyword === T.Kw.args) return value[0]?.tokenType === T.LBrace;
  if (keyword === T.Kw.risk || keyword === T.Kw.max_risk) return value.length === 1 && tokenMatcher(value[0]!, T.AnyName);
  if (keyword !== T.Kw.tools && keyword !== T.Kw.returns) return false;
  // Names and patterns separated by `,`: `kb.read, sql.*`.
  const inList = (token: IToken): boolean => token.tokenType === T.Comma || token.tokenType === T.Dot || token.tokenType === T.Star || tokenMatcher(token, T.AnyName);
  return value.length > 0 && value.every(inList) && value[value.length - 1]!.tokenType !== T.Comma;
}

/** The index of the `}` that closes the `{` at `open`, or -1. */
function closingBrace(tokens: readonly IToken[], open: number): number {
  let depth = 0;
  for (let i = open; i < tokens.length; i++) {
    const type = tokens[i]!.tokenType;
    if (type === T.LBrace) depth++;
    else if (type === T.RBrace && --depth === 0) return i;
  }
  return -1;
}

/**
 * Recovery from a syntax error at `tokens[index]` inside a declaration (or a rule): the tokens
 * to skip before parsing it again, or undefined to leave the parser's own recovery.
 *
 * The parser resynchronizes at a token that may follow the declaration, and inside a block that
 * is often a word of the mistake itself: `intent support { tool kb.read }` ended the intent at
 * `tool` and read `tool kb.read }` as a tool declaration, a second error for one mistake. So the
 * item the error is in is skipped whole: an attribute of `agent`, `user`, `context`, a `type`
 * or `args`, or an item of a tool's or an intent's body (`arguments { … }`, `tool kb.read`).
 * What follows it is still parsed, so a mistake in another item is still reported.
 *
 * `expectsBlockEnd`: the parser wanted the block's `}` (a whole item was read, and the error is
 * a word that starts none); else it was inside an item, and an error at the start of the next
 * line is the item before it left unfinished (`roles: set<string`, then a line break).
 */
export function mistakenItem(tokens: readonly IToken[], index: number, expectsBlockEnd: boolean): { from: number; to: number } | undefined {
  if (index < 0) return undefined;
  // A rule takes no braces (`allow kb.search { when … }`, `when { … }`): the block, and the
  // `when` or `unless` it was meant for, are skipped whole.
  // A list in braces (`in {"a", "b"}`) is skipped with its operator, so the condition is still read.
  if (tokens[index]!.tokenType === T.LBrace && (tokens[0]!.tokenType === T.At || EFFECT_KEYWORDS.has(tokens[0]!.tokenType))) {
    const close = closingBrace(tokens, index);
    const before = tokens[index - 1]!.tokenType;
    const clause = before === T.Kw.when || before === T.Kw.unless || before === T.Kw.in || before === T.Kw.containsAny || before === T.Kw.containsAll;
    return { from: clause ? index - 1 : index, to: close < 0 ? tokens.length : close + 1 };
  }
  const open = openBraceBefore(tokens, index);
  // `agent Bot { … }`: an entity takes no name; skipping it, its attributes are still checked.
  if (open < 0) return index === 1 && ENTITY_KEYWORDS.has(tokens[0]!.tokenType) && tokens[2]?.tokenType === T.LBrace ? { from: 1, to: 2 } : undefined;
  const keyword = blockKeyword(tokens, open);
  if (keyword === undefined || (ownEntry(BODY_KEYWORDS, keyword) === undefined && !ATTRIBUTE_BLOCKS.has(keyword))) return undefined;
  // A block left open is the mistake, which the parser reports at its end: nothing to skip.
  const close = closingBrace(tokens, open);
  if (close < 0) return undefined;
  const starts = itemStarts(tokens, open, close, keyword);
  // `args: { … }`, `risk: high`, `tools: a, b`: only the `:` is skipped, so the item is still
  // read: the attributes after it are checked, and a `risk` given twice is reported (PC107).
  if ((tokens[index]!.tokenType === T.Colon || tokens[index]!.tokenType === T.SingleEq) && readsWithoutColon(tokens, index, starts.find((start) => start > index) ?? close)) return { from: index, to: index + 1 };
  const itemOf = (i: number): number => starts.filter((start) => start <= i).at(-1)!;
  const unfinished = index === close || (!expectsBlockEnd && starts.includes(index));
  if (unfinished && index - 1 === open) return undefined;
  const from = itemOf(unfinished ? index - 1 : index);
  const to = unfinished ? index : (starts.find((start) => start > index) ?? close);
  return from < to ? { from, to } : undefined;
}
