import type { IToken } from "chevrotain";
import * as T from "./tokens.js";

/**
 * A string whose closing `"` is missing in the middle of its line, before the next string
 * (`@controls("OWASP-ASI01, "OWASP-ASI02")`): it ends at the `"` that opens the next string, so
 * that string's words read as names and its closing `"` opens a string that runs to the end of the
 * line. Every error on the line after the string is an echo of the one missing `"`.
 */
export interface MissingQuote {
  /** The string as the lexer read it (`"OWASP-ASI01, "`). */
  readonly string: IToken;
  /** Its text before the separator it ran into (`OWASP-ASI01`): the closing `"` goes after it. */
  readonly closesAfter: string;
  /** The offset just past the string that runs to the end of the line. */
  readonly end: number;
}

/**
 * The strings whose closing `"` is missing before the next string, by line: a string directly
 * followed by a word, on a line that ends in an unterminated string.
 */
export function missingQuotes(tokens: readonly IToken[], text: string): Map<number, MissingQuote> {
  const found = new Map<number, MissingQuote>();
  if (!tokens.some((token) => token.tokenType === T.UnterminatedString)) return found;
  /** The first string of the line being read that a word directly follows. */
  let runOn: IToken | undefined;
  for (const token of tokens) {
    if (runOn !== undefined && token.startLine !== runOn.startLine) runOn = undefined;
    if (token.tokenType === T.StringLiteral && runOn === undefined && /[A-Za-z0-9_]/.test(text.charAt(token.endOffset! + 1))) runOn = token;
    if (token.tokenType !== T.UnterminatedString || runOn === undefined) continue;
    // What it ran into is a separator, `, ` or ` `: without one (`"a"b`) it is some other mistake.
    const closesAfter = /^"(.*?)[\s,]+"$/.exec(runOn.image)?.[1];
    if (closesAfter) found.set(runOn.startLine!, { string: runOn, closesAfter, end: token.endOffset! + 1 });
    runOn = undefined;
  }
  return found;
}
