import type { IToken } from "chevrotain";
import { diagnostic, type Diagnostic } from "../diagnostics/Diagnostic.js";
import type { SourceFile } from "../source/SourceFile.js";
import { EFFECT_KEYWORDS, NAMING_KEYWORDS } from "./declarationItems.js";
import { DECLARATION_STARTS } from "./starts.js";
import { tokenSpan } from "./tokenSpan.js";
import * as T from "./tokens.js";

/**
 * One `"` missing, or one too many, on a line that ends in an unterminated string. The lexer pairs
 * the quotes after it the wrong way round: the words of a string read as names and the code
 * between two strings as a string, so every error from the mistake to the end of the line (or of
 * the line the string was meant to end on) is an echo of it, and one diagnostic says it all.
 */
export interface QuoteMistake {
  /** Errors from this offset up to `end` are echoes of the mistake. */
  readonly from: number;
  /** The offset just past the (last) unterminated string of the mistake. */
  readonly end: number;
  /** The unterminated strings the mistake makes, whose own PC101 `diagnostic` replaces. */
  readonly unterminated: readonly IToken[];
  readonly diagnostic: Diagnostic;
}

/** Keywords a name follows, where a `"` is a mistake of its own (`tool kb.search"`), not a string missing its other `"`. */
const NAME_KEYWORDS = new Set<unknown>([...NAMING_KEYWORDS, ...EFFECT_KEYWORDS, T.Kw.tools, T.Kw.risk, T.Kw.returns, T.Kw.max_risk]);

/** Tokens after which `reason` is a name (`args.reason`, `@reason`, `context has reason`). */
const AFTER_NAME = new Set<unknown>([T.Dot, T.At, T.Kw.has]);

/** Characters that end a word looking back from a `"`: what comes before a string in code. */
const BEFORE_WORD = /[\s"'[\](){},=<>!]/;

/**
 * The quote mistakes of a file, by each line they cover: looked for on the lines that end in an
 * unterminated string, only when there are any. On a line, from the left:
 * - a string that ends where code starts (`"OWASP-ASI01, "`, `"a or x == "`), directly followed by
 *   a word or another character code does not put there: its closing `"` is missing (or is a `'`
 *   or a curly quote), and it ended at the `"` that opens the next string;
 * - a string of a separator only (`", "`) directly after a word: that word lacks its opening `"`
 *   (`[b", "c"]`), and so does a word the unterminated string directly follows (`== support"`);
 *   after a keyword a name follows (`tool kb.search"`), the `"` is one too many;
 * - a word between a string and the unterminated one (`"sup"port"`): a `"` inside the string.
 * Otherwise the string may go on on the next line (`reason "line one` then `line two"`): a string
 * cannot span lines.
 */
export function quoteMistakes(tokens: readonly IToken[], file: SourceFile): Map<number, QuoteMistake> {
  const found = new Map<number, QuoteMistake>();
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    if (token.tokenType !== T.UnterminatedString || found.has(token.startLine!)) continue;
    let first = i;
    while (first > 0 && tokens[first - 1]!.endLine === token.startLine) first--;
    const mistake = onItsLine(tokens, first, i, file) ?? acrossLines(tokens, i, file);
    if (mistake === undefined) continue;
    const last = mistake.unterminated[mistake.unterminated.length - 1]!;
    for (let line = file.position(mistake.from).line; line <= last.startLine!; line++) found.set(line, mistake);
  }
  return found;
}

/** A line that ends in an unterminated string, as the mistakes on it are looked for. */
interface Line {
  readonly tokens: readonly IToken[];
  /** The index of its first token. */
  readonly first: number;
  /** The index of the unterminated string. */
  readonly at: number;
  readonly file: SourceFile;
}

/** The mistake `diagnostic` reports, whose echoes start at `from` and run to the end of `line`. */
function mistakeOn(line: Line, from: number, diagnostic: Diagnostic): QuoteMistake {
  const unterminated = line.tokens[line.at]!;
  return { from, end: unterminated.endOffset! + 1, unterminated: [unterminated], diagnostic };
}

/** The mistake on `line`, looked for from its left. */
function onItsLine(tokens: readonly IToken[], first: number, at: number, file: SourceFile): QuoteMistake | undefined {
  const line: Line = { tokens, first, at, file };
  const reason = reasonWithoutOpeningQuote(line);
  if (reason !== undefined) return reason;
  for (let i = first; i < at; i++) {
    const mistake = tokens[i]!.tokenType === T.StringLiteral ? mistakeAfterString(line, i) : undefined;
    if (mistake !== undefined) return mistake;
  }
  const word = wordBefore(file.text, tokens[at]!.startOffset, tokens, at);
  if (word === undefined) return undefined;
  const string = tokens[word.tokenBefore];
  if (string?.tokenType !== T.StringLiteral || string.endOffset !== word.start - 1) return missingOpeningQuote(line, word, tokens[at]!.startOffset);
  // `"sup"port"`: the `"` after `sup` was meant inside the string.
  const meant = `${string.image.slice(0, -1)}\\"${word.text}"`;
  const inside = { file, start: string.endOffset!, end: string.endOffset! + 1 };
  return mistakeOn(line, word.start, diagnostic("PC103", `the \`"\` before \`${word.text}\` ends the string`, inside, `to put a \`"\` inside a string, write \`\\"\`: \`${meant}\``));
}

/** `reason words"`: the reason's text without its opening `"`, up to the `"` that was meant to close it. */
function reasonWithoutOpeningQuote(line: Line): QuoteMistake | undefined {
  const { tokens, first, at, file } = line;
  let reason = first;
  while (reason < at && (tokens[reason]!.tokenType !== T.Kw.reason || AFTER_NAME.has(tokens[reason - 1]?.tokenType))) reason++;
  const after = tokens[reason + 1];
  if (reason >= at || after === tokens[at] || after?.tokenType === T.StringLiteral) return undefined;
  const reasonEnd = tokens[reason]!.endOffset! + 1;
  const start = reasonEnd + /^\s*/.exec(file.text.slice(reasonEnd))![0].length;
  const word = /^\S*/.exec(file.text.slice(start))![0];
  return mistakeOn(line, start, diagnostic("PC101", "the reason has no opening `\"`", { file, start, end: start + word.length }, `add the opening \`"\` before \`${word}\``));
}

/**
 * The mistake that the string `tokens[i]` shows: a `"` right after it (`"abc""`) or doubled
 * before it (`""abc"`); a separator in quotes after a word (`b", "`), which lacks its opening
 * `"`; or a string that ran on into code, which lacks its closing `"`.
 */
function mistakeAfterString(line: Line, i: number): QuoteMistake | undefined {
  const { tokens, file } = line;
  const string = tokens[i]!;
  const next = tokens[i + 1]!;
  const body = string.image.slice(1, -1);
  const followedByCode = !/^[\s,)\]}:;]/.test(file.text.charAt(string.endOffset! + 1));
  if (next.startOffset === string.endOffset! + 1 && (next.tokenType === T.StringLiteral || i + 1 === line.at)) {
    const extra = { file, start: next.startOffset, end: next.startOffset + 1 };
    return mistakeOn(line, next.startOffset, diagnostic("PC101", "unterminated string", extra, `remove this \`"\`: the string before it, \`${shortened(string.image)}\`, is already closed`));
  }
  if (body === "" && followedByCode) {
    const word = /^[^\s"]*/.exec(file.text.slice(string.endOffset! + 1))![0];
    return mistakeOn(line, string.startOffset, diagnostic("PC101", "unterminated string", tokenSpan(file, string), `one \`"\` too many: remove one of the two before \`${word}\``));
  }
  const word = /^[\s,]+$/.test(body) ? wordBefore(file.text, string.startOffset, tokens, i) : undefined;
  if (word !== undefined) return missingOpeningQuote(line, word, string.startOffset);
  if (/[\s,([]$/.test(body) && followedByCode) return missingClosingQuote(line, string);
  return undefined;
}

/**
 * The word directly before the `"` that starts `tokens[at]` (`b` in `[b", …`, `a@x.com`,
 * `kb-read`), back to a space or a bracket; undefined when there is none, or it is a keyword
 * (`reason"…"`). `tokenBefore`: the index of the last token before it.
 */
function wordBefore(text: string, quote: number, tokens: readonly IToken[], at: number): { start: number; text: string; tokenBefore: number } | undefined {
  let start = quote;
  while (start > 0 && !BEFORE_WORD.test(text.charAt(start - 1))) start--;
  const word = text.slice(start, quote);
  if (word === "" || T.isKeyword(word)) return undefined;
  let tokenBefore = at - 1;
  while (tokenBefore >= 0 && tokens[tokenBefore]!.startOffset >= start) tokenBefore--;
  // After the closing `"` of a string, the word is one of the other mistakes.
  if (text.charAt(start - 1) === '"' && tokens[tokenBefore]?.tokenType !== T.StringLiteral) return undefined;
  return { start, text: word, tokenBefore };
}

/** A string as a message shows it: its start, when it is long. */
function shortened(string: string): string {
  return string.length > 30 ? `${string.slice(0, 29)}…"` : string;
}

/** `[b", "c"]`, `== support"`: the word before the `"` at `quote` lacks its opening `"`; after `tool` or `risk`, the `"` is one too many. */
function missingOpeningQuote(line: Line, word: { start: number; text: string; tokenBefore: number }, quote: number): QuoteMistake {
  const { file } = line;
  if (NAME_KEYWORDS.has(line.tokens[word.tokenBefore]?.tokenType)) {
    return mistakeOn(line, word.start, diagnostic("PC101", "unterminated string", { file, start: quote, end: quote + 1 }, `remove the \`"\` after \`${word.text}\`: names are written without quotes`));
  }
  return mistakeOn(line, word.start, diagnostic("PC101", `the string \`${word.text}"\` has no opening \`"\``, { file, start: word.start, end: quote + 1 }, `add the opening \`"\` before \`${word.text}\``));
}

/** The end of a string's text inside a string that ran on into code: a quote of another kind, or where the code starts. */
const WRONG_QUOTE_OR_CODE = /^(.*?\S)(?:(['’”“])(?![A-Za-z0-9_])|\s*(?:[,)\]]|==|!=|<=|>=)|\s+(?:and|or)\b)/;
/** A quote of another kind that ends a string's text (`"OWASP-ASI01', "`). */
const WRONG_QUOTE_AT_END = /^(.*\S)(['’”])$/;
/** The end of code before a string (`==`, `(`, `in`): a string that ends so holds code. */
const ENDS_IN_CODE = /(?:==|!=|<=|>=|[<>([]|\b(?:in|like|contains|containsAny|containsAll))$/;

/**
 * `"OWASP-ASI01, "OWASP-ASI02"`: the string's closing `"` is missing (`string` ends at the `"`
 * that opens the next string). The help says where it goes: before the separator the string ends
 * in or, when code ran into it (`"a or x == "`), before that code; or that a quote of another
 * kind (`"a' or x == "`) was meant to be it.
 */
function missingClosingQuote(line: Line, string: IToken): QuoteMistake {
  const { file } = line;
  const body = string.image.slice(1, -1);
  const trimmed = body.replace(/[\s,]+$/, "");
  const textEnd = ENDS_IN_CODE.test(trimmed) ? WRONG_QUOTE_OR_CODE.exec(body) : (WRONG_QUOTE_AT_END.exec(trimmed) ?? [trimmed, trimmed]);
  const asWritten = 'as written, the string ends at the `"` that opens the next one';
  if (!textEnd?.[1]) return mistakeOn(line, string.startOffset + 1, diagnostic("PC101", "unterminated string", tokenSpan(file, string), `add the closing \`"\` where the string ends: ${asWritten}`));
  const [, after, wrong] = textEnd;
  const span = { file, start: string.startOffset, end: string.startOffset + 1 + after.length + (wrong ? 1 : 0) };
  const help = wrong ? `replace the \`${wrong}\` after \`${after}\` with \`"\`: ${asWritten}` : `add the closing \`"\` after \`${after}\`: ${asWritten}`;
  return mistakeOn(line, string.startOffset + 1, diagnostic("PC101", "unterminated string", span, help));
}

/**
 * `reason "line one` then `line two"`: the unterminated string `tokens[at]` goes on on the next
 * line, whose only `"` ends it. Not when that line starts a rule or a declaration.
 */
function acrossLines(tokens: readonly IToken[], at: number, file: SourceFile): QuoteMistake | undefined {
  const opened = tokens[at]!;
  let j = at + 1;
  while (tokens[j] !== undefined && tokens[j]!.startLine === opened.startLine! + 1 && tokens[j]!.tokenType !== T.UnterminatedString) {
    const token = tokens[j]!;
    if (token.tokenType === T.StringLiteral || (j === at + 1 && (EFFECT_KEYWORDS.has(token.tokenType) || DECLARATION_STARTS.has(token.tokenType) || token.tokenType === T.At || token.tokenType === T.RBrace))) return undefined;
    j++;
  }
  const closing = tokens[j];
  if (closing?.tokenType !== T.UnterminatedString || closing.startLine !== opened.startLine! + 1) return undefined;
  return {
    from: opened.startOffset + 1,
    end: closing.endOffset! + 1,
    unterminated: [opened, closing],
    diagnostic: diagnostic("PC101", "unterminated string", { file, start: opened.startOffset, end: opened.endOffset! + 1 }, `a string cannot span lines: close it on line ${opened.startLine}, or write \`\\n\` where a line break goes in it`),
  };
}
