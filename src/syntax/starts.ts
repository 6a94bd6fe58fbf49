import type { IToken } from "chevrotain";
import { tokenMatcher } from "./chevrotain.js";
import { EFFECT_KEYWORDS, ENTITY_KEYWORDS } from "./declarationItems.js";
import * as T from "./tokens.js";

/** The keywords that start a declaration: the parser splits a file where declarations and rules start. */
export const DECLARATION_STARTS = new Set<unknown>([T.Kw.enum, T.Kw.type, T.Kw.agent, T.Kw.user, T.Kw.context, T.Kw.tool, T.Kw.intent, T.Kw.policy]);
/** Brackets: a declaration or a rule holds its own balanced. */
export const OPENERS = new Set<unknown>([T.LBrace, T.LParen, T.LBracket]);
export const CLOSERS = new Set<unknown>([T.RBrace, T.RParen, T.RBracket]);

/** Operators whose right side is a list, in `[…]`. */
export const LIST_OPERATORS: ReadonlySet<unknown> = new Set([T.Kw.in, T.Kw.containsAny, T.Kw.containsAll]);

/** The keywords that start a rule's clauses. */
export const CLAUSE_KEYWORDS = new Set<unknown>([T.Kw.when, T.Kw.unless, T.Kw.reason, T.Kw.grant, T.Kw.revoke]);

/** Tokens after which a declaration keyword is a name (`tool agent.delegate`, `intent context.search`, `policy user`). */
export const NAME_BEFORE = new Set<unknown>([T.Dot, T.Kw.tool, T.Kw.intent, T.Kw.policy]);

/**
 * Whether a declaration starts at `tokens[i]` by its whole shape, `agent {` or `tool kb.search {`,
 * not by its keyword alone: among rules, `agent`, `tool` and `intent` are also a condition's values
 * (`agent.team`, `tool == kb.search`), and no `{` ever comes in a rule.
 */
export function declarationShapeAt(tokens: readonly IToken[], i: number): boolean {
  const keyword = tokens[i]!;
  if (!DECLARATION_STARTS.has(keyword.tokenType)) return false;
  const previous = tokens[i - 1]?.tokenType;
  if (previous === T.Dot || previous === T.At || previous === T.Kw.has || NAME_BEFORE.has(previous)) return false;
  // `returns internal,` then `tool args {`: a label of the list, before the tool's `args`. Any
  // other `,` before a declaration's shape is a block whose `}` was forgotten (`port: int,` then
  // `tool kb.search {`), whose help says where the `}` goes.
  if (tokens[i + 1]?.tokenType === T.Kw.args && inReturnsList(tokens, i)) return false;
  let next = i + 1;
  if (!ENTITY_KEYWORDS.has(keyword.tokenType)) {
    if (!tokens[next] || !tokenMatcher(tokens[next]!, T.AnyName)) return false;
    next++;
    while (tokens[next]?.tokenType === T.Dot && tokens[next + 1] && tokenMatcher(tokens[next + 1]!, T.AnyName)) next += 2;
  }
  return tokens[next]?.tokenType === T.LBrace;
}

/** Whether `tokens[i]` follows `returns` or `returns a, b,`: it would be the list's next label. */
function inReturnsList(tokens: readonly IToken[], i: number): boolean {
  let j = i - 1;
  while (tokens[j]?.tokenType === T.Comma && tokens[j - 1] !== undefined && tokenMatcher(tokens[j - 1]!, T.AnyName)) j -= 2;
  return tokens[j]?.tokenType === T.Kw.returns;
}

/** Whether a rule starts at `i`: an effect, or annotations followed by one (not by a declaration). */
export function startsRule(tokens: readonly IToken[], i: number): boolean {
  if (EFFECT_KEYWORDS.has(tokens[i]!.tokenType)) return true;
  if (tokens[i]!.tokenType !== T.At) return false;
  const end = annotationsEnd(tokens, i, tokens.length);
  return end !== undefined && end < tokens.length && EFFECT_KEYWORDS.has(tokens[end]!.tokenType);
}

/**
 * The index just past the annotation starting at `start` (`@name`, `@name(…)`), or undefined when
 * its `(` is not closed before `limit` (or, `onItsLine`, on the line of its `@`).
 */
export function annotationEnd(tokens: readonly IToken[], start: number, limit: number, onItsLine = false): number | undefined {
  const end = start + 2;
  if (end >= limit || tokens[end]!.tokenType !== T.LParen) return Math.min(end, limit);
  let depth = 0;
  for (let i = end; i < limit && (!onItsLine || tokens[i]!.startLine === tokens[start]!.startLine); i++) {
    const type = tokens[i]!.tokenType;
    if (OPENERS.has(type)) depth++;
    else if (CLOSERS.has(type) && --depth === 0) return i + 1;
  }
  return undefined;
}

/** The index just past a run of well-formed annotations starting at `start`, or undefined when one is not closed. */
export function annotationsEnd(tokens: readonly IToken[], start: number, limit: number): number | undefined {
  let end: number | undefined = start;
  while (end !== undefined && end < limit && tokens[end]!.tokenType === T.At) end = annotationEnd(tokens, end, limit);
  return end;
}
