import type { IToken, TokenType } from "chevrotain";
import { tokenMatcher } from "./chevrotain.js";
import { diagnostic, type Diagnostic } from "../diagnostics/Diagnostic.js";
import { listed } from "../diagnostics/suggest.js";
import type { SourceFile } from "../source/SourceFile.js";
import { blockKeyword, EFFECT_KEYWORDS, NAMING_KEYWORDS, UNNAMED_BLOCKS } from "./declarationItems.js";
import { describeToken } from "./grammar.js";
import { annotationEnd, CLAUSE_KEYWORDS, CLOSERS, declarationShapeAt, LIST_OPERATORS, OPENERS, startsRule } from "./starts.js";
import { tokenSpan } from "./tokenSpan.js";
import * as T from "./tokens.js";

/** The closer of each opener, and its text. */
const CLOSER_OF: ReadonlyMap<unknown, { readonly type: TokenType; readonly image: string }> = new Map([
  [T.LBrace, { type: T.RBrace, image: "}" }],
  [T.LParen, { type: T.RParen, image: ")" }],
  [T.LBracket, { type: T.RBracket, image: "]" }],
  [T.Less, { type: T.Greater, image: ">" }],
]);

/** A bracket open at a point of the scan: its index in the tokens out, and the indentation (column of the first token) of its line. */
interface Open {
  readonly index: number;
  readonly indentation: number;
}

/** A bracket left open (`opener`, an index in the tokens out) and where its closer goes: before the token out at `at`. */
export interface Closing {
  readonly opener: number;
  readonly at: number;
}

/** Brackets left open that get their closers at one place, reported by one error. */
export interface Unclosed {
  /** The PC103, or undefined when an unterminated string or comment took the closers (its own error says it). */
  readonly diagnostic: Diagnostic | undefined;
  /** What comes where the first closer goes, as a message says it (`` `tool` ``, "the end of the file"). */
  readonly found: string;
  /** The brackets the diagnostic reports, each with the closer put in for it. */
  readonly brackets: readonly { readonly opener: IToken; readonly closer: IToken }[];
}

export interface ClosedBrackets {
  /** The tokens, with a closer put in for every bracket left open. */
  readonly tokens: IToken[];
  readonly unclosed: readonly Unclosed[];
  /** Each closer put in, and the error that reports it. */
  readonly closers: ReadonlyMap<IToken, Unclosed>;
  /**
   * A bracket of the wrong kind (`["a", "b")`, `url.host[args.url)`), read as the one meant, and a
   * declaration's `{` left out (`policy p` then its rules), put in: reported here.
   */
  readonly bracketMistakes: readonly Diagnostic[];
  /**
   * A `)` or `]` that closes nothing (`== "a")`), left out. Its opener may be missing before it
   * (`@name"x")`), where the parser reports an error: that error then says it (see parse.ts).
   */
  readonly strayClosers: readonly StrayCloser[];
}

/** A `)` or `]` that closes nothing: `before` is the token out before it. */
export interface StrayCloser {
  readonly closer: IToken;
  readonly before: IToken | undefined;
  readonly diagnostic: Diagnostic;
}

/**
 * Closes the brackets a file leaves open, where they were meant to close, so a block left open
 * is one error and what follows it is read as written. Left to the parser, a missing `}` made
 * the rest of the file part of the block: `agent { team: string` then `tool kb.read { … }` read
 * `tool` as an attribute and gave four errors, and the mistakes of the declarations after it
 * were never reported.
 *
 * A bracket is closed:
 * - where a declaration (`tool kb.read {`) starts a line, no more indented than the declaration
 *   the bracket is in: no declaration goes in another's block. Only a policy's `{` closed after
 *   it is kept open, for a declaration written among its rules (that mistake is reported as
 *   such); another's `}` after it then closes nothing, and the error names it;
 * - inside a rule's `(` or `[`, before a clause (`reason`, `unless`), or where a rule (`allow
 *   kb.read`, `@name(…)`) starts a line: a condition's or a list's bracket never spans clauses;
 *   an annotation's `(` also before a rule on its line (`@controls("ASI08"  deny *`);
 * - at the end of the file.
 * A `{` nested in the declaration (`args {`) closes earlier, before the first line indented no
 * more than its own that is not its `}`: its block ended there.
 *
 * The other bracket mistakes are read as meant too, each one error: a declaration's `{` left out
 * (`policy p` then its rules) is put in, a doubled opener (`{{`) or a `{` after `@` that nothing
 * closes (`@{name("x")`) left out, a `)` or `]` of the wrong kind read as the one meant, and one
 * that closes nothing left out.
 *
 * `unterminated`: the strings without their closing quote, which may hold the closer meant
 * (`@name("x)`); `commentToEnd`: an unterminated block comment hides the end of the file.
 */
export function closeUnclosedBrackets(tokens: readonly IToken[], file: SourceFile, unterminated: ReadonlySet<IToken>, commentToEnd: boolean): ClosedBrackets {
  const out: IToken[] = [];
  const open: Open[] = [];
  const unclosed: Unclosed[] = [];
  const closers = new Map<IToken, Unclosed>();
  const bracketMistakes: Diagnostic[] = [];
  const strayClosers: StrayCloser[] = [];
  /** Closers that go before a token already out (by its index there): put in at the end. */
  const earlier: { at: number; closer: IToken }[] = [];
  /** For each closing character, the index out of the last unterminated string that holds one. */
  const eaten = new Map<string, number>();
  let braceClosesAhead: ((i: number) => number) | undefined;
  /** The `(` and `[` that nothing closes: found when a doubled one is to be told from a nested one. */
  let unmatched: Set<IToken> | undefined;
  /** Whether the file has more `{` than `}`: then a `{` written right after `@` is the one left open. */
  let braceLeftOpen: boolean | undefined;
  /** The column of the first token of the line being read. */
  let indentation = 0;

  /**
   * The `}` after a declaration's block closed early that close nothing then (a `}` at the end of
   * the file, where a declaration in the block, unindented, shows the block was left open), left
   * out and named by the error of that block.
   */
  const extraBraces: { report: { -readonly [K in keyof Unclosed]: Unclosed[K] }; expected: number; braces: IToken[] }[] = [];
  /** Reports `closings` (in the order their closers go) and puts their closers in; `next`: the token after the closers that go at the end. */
  const close = (closings: readonly Closing[], next: IToken | undefined): Unclosed => {
    const tokenAt = (at: number): IToken | undefined => (at < out.length ? out[at] : next);
    const echo = (closing: Closing): boolean => (eaten.get(closerOf(out, closing.opener).image) ?? -1) > closing.opener || (tokenAt(closing.at) === undefined && commentToEnd);
    const reported = closings.filter((closing) => !echo(closing));
    const first = reported[0] ?? closings[0]!;
    const found = tokenAt(first.at);
    const after = realTokenBefore(out, first.at, closers);
    const foundText = found ? describeToken(found) : "the end of the file";
    const message = `expected \`${closerOf(out, first.opener).image}\` after ${describeToken(after)}, found ${foundText}`;
    const span = found ? { file, start: found.startOffset, end: found.endOffset! + 1 } : { file, start: after.endOffset! + 1, end: after.endOffset! + 1 };
    const brackets: { opener: IToken; closer: IToken }[] = [];
    const report: Unclosed = { diagnostic: reported.length > 0 ? diagnostic("PC103", message, span, neverClosedHelp(out, reported, tokenAt)) : undefined, found: foundText, brackets };
    unclosed.push(report);
    const end = out.length;
    for (const closing of closings) {
      const closer = bracketAfter(realTokenBefore(out, closing.at, closers), closerOf(out, closing.opener));
      if (reported.includes(closing)) brackets.push({ opener: out[closing.opener]!, closer });
      closers.set(closer, report);
      if (closing.at < end) earlier.push({ at: closing.at, closer });
      else out.push(closer);
    }
    return report;
  };

  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const head = braceMissingAt(tokens, i, unterminated, () => placeOf(out, open));
    if (head !== undefined) {
      // `policy p` then its rules, `args` then `path: string`: the `{` is put in, with the line of
      // the head. One that a name left open took (`policy "p {`) is that string's mistake.
      const name = tokens.slice(head + 1, i).map((t) => t.image).join("");
      const headText = name === "" ? tokens[head]!.image : `${tokens[head]!.image} ${name}`;
      if (!unterminated.has(tokens[i - 1]!)) bracketMistakes.push(diagnostic("PC103", `expected \`{\` after ${describeToken(tokens[i - 1]!)}, found ${describeToken(token)}`, tokenSpan(file, token), `the block of \`${headText}\` has no \`{\`: write \`${headText} {\``));
      out.push(bracketAfter(tokens[i - 1]!, { type: T.LBrace, image: "{" }));
      open.push({ index: out.length - 1, indentation });
    }
    const startsLine = i === 0 || tokens[i - 1]!.endLine! < token.startLine!;
    if (startsLine) indentation = token.startColumn!;
    const inRule = open.length > 0 && out[open[open.length - 1]!.index]!.tokenType !== T.LBrace;
    const clause = inRule && CLAUSE_KEYWORDS.has(token.tokenType) && !AFTER_NAME.has(tokens[i - 1]?.tokenType) && !closesOnLine(tokens, i, closerOf(out, open[open.length - 1]!.index).type);
    if (inRule && (clause || (startsLine && ruleStartsAt(tokens, i)) || ruleAfterAnnotationArgument(out, open, tokens, i))) {
      const closings: Closing[] = [];
      while (open.length > 0 && out[open[open.length - 1]!.index]!.tokenType !== T.LBrace) closings.push({ opener: open.pop()!.index, at: out.length });
      close(closings, token);
    } else if (startsLine && open.length > 0 && token.startColumn! <= open[0]!.indentation && declarationShapeAt(tokens, i)) {
      braceClosesAhead ??= closesAhead(tokens);
      const braces = open.filter((o) => out[o.index]!.tokenType === T.LBrace).length;
      const ahead = braceClosesAhead(i);
      // A declaration among a policy's rules, unindented, is that mistake (reported as such) when
      // a `}` after it closes the policy; no declaration goes in another's block.
      if (braces < open.length || braces > ahead || blockKeyword(out, open[0]!.index) !== "policy") {
        const report = close(closeAll(out, open), token);
        if (ahead > 0) extraBraces.push({ report, expected: ahead, braces: [] });
      }
    } else if (token.tokenType === T.RBrace && extraBraces.length > 0 && !open.some((o) => out[o.index]!.tokenType === T.LBrace)) {
      const extra = extraBraces.find((e) => e.braces.length < e.expected);
      if (extra !== undefined) {
        extra.braces.push(token);
        continue;
      }
    }
    if (unterminated.size > 0 && unterminated.has(token)) for (const character of "})]") if (token.image.includes(character)) eaten.set(character, out.length);
    // Compared one by one rather than looked up in OPENERS and CLOSERS: this runs on every token of every file.
    const type = token.tokenType;
    if (type === T.LBrace && tokens[i - 1]?.tokenType === T.At && (braceLeftOpen ??= leavesBraceOpen(tokens))) {
      // `@{name("x")`: the `{` closes nothing, so it would swallow the rules after it; left out.
      bracketMistakes.push(diagnostic("PC103", "expected a name after `@`, found `{`", tokenSpan(file, token), 'remove it: an annotation is `@` and its name, as in `@name("kb-read")`'));
      continue;
    }
    if ((type === T.LBrace || type === T.LParen || type === T.LBracket) && doubledOpener(tokens, i, () => (unmatched ??= unmatchedOpeners(tokens)))) {
      // `{{`, `@name(("x")`: one opener too many, left out.
      bracketMistakes.push(diagnostic("PC103", `one \`${token.image}\` too many`, tokenSpan(file, token), type === T.LBrace ? "remove it: a block opens with one `{`" : `remove it: only one \`${token.image}\` is closed`));
      continue;
    }
    if ((type === T.RParen || type === T.RBracket) && isMisplacedCloser(out, open, tokens, i)) {
      readMisplacedCloser(out, open, token, file, bracketMistakes, strayClosers);
      continue;
    }
    out.push(token);
    if (type === T.LBrace || type === T.LParen || type === T.LBracket) open.push({ index: out.length - 1, indentation });
    else if (type === T.RBrace || type === T.RParen || type === T.RBracket) popMatching(out, open, token);
  }
  if (open.length > 0) close(closeAll(out, open), undefined);
  for (const { report, braces } of extraBraces) {
    if (report.diagnostic === undefined || braces.length === 0) continue;
    const places = braces.map((brace) => `${brace.startLine}:${brace.startColumn}`);
    const nothing = braces.length === 1 ? `the \`}\` at ${places[0]} then closes nothing: remove it` : `the \`}\` at ${listed(places)} then close nothing: remove them`;
    report.diagnostic = { ...report.diagnostic, help: `${report.diagnostic.help}; ${nothing}` };
  }
  if (earlier.length === 0) return { tokens: out, unclosed, closers, bracketMistakes, strayClosers };
  // Stable: closers that go at one place stay innermost first.
  earlier.sort((a, b) => a.at - b.at);
  const merged: IToken[] = [];
  let next = 0;
  out.forEach((token, i) => {
    while (next < earlier.length && earlier[next]!.at === i) merged.push(earlier[next++]!.closer);
    merged.push(token);
  });
  return { tokens: merged, unclosed, closers, bracketMistakes, strayClosers };
}

/**
 * Where the brackets `open` close when the declaration they are in ends at the end of the tokens
 * out (which empties `open`): all there, but for a `{` nested in the declaration whose block ended
 * earlier, at the first line indented no more than its own that is not its `}` (`args {`, then
 * `risk high` lined up with `args`), or that is a `}` indented less (the tool's `}`, which then
 * closes the tool, as meant).
 */
function closeAll(out: readonly IToken[], open: Open[]): Closing[] {
  const bottom = open[0]!;
  const stack: Open[] = [bottom];
  const closings: Closing[] = [];
  let indentation = bottom.indentation;
  for (let j = bottom.index + 1; j < out.length; j++) {
    const token = out[j]!;
    if (token.startLine! > out[j - 1]!.endLine!) {
      indentation = token.startColumn!;
      for (;;) {
        const top = stack[stack.length - 1]!;
        const nested = stack.length > 1 && out[top.index]!.tokenType === T.LBrace && top.indentation > bottom.indentation;
        if (!nested || top.indentation < indentation || (top.indentation === indentation && token.tokenType === T.RBrace)) break;
        closings.push({ opener: stack.pop()!.index, at: j });
      }
    }
    if (OPENERS.has(token.tokenType)) stack.push({ index: j, indentation });
    else if (CLOSERS.has(token.tokenType)) popMatching(out, stack, token);
  }
  for (let k = stack.length - 1; k >= 0; k--) closings.push({ opener: stack[k]!.index, at: out.length });
  open.length = 0;
  return closings;
}

/**
 * Whether the `)` or `]` at `tokens[i]` is not the closer of the innermost bracket open (in
 * `out`), but is not what closes an outer one either: none of its kind is open, or one is and
 * another closer of its kind follows on its line (`any(r in ["a", "b"): …)`: the first `)` was
 * meant to be `]`).
 */
function isMisplacedCloser(out: readonly IToken[], open: readonly Open[], tokens: readonly IToken[], i: number): boolean {
  const type = tokens[i]!.tokenType;
  const innermost = open[open.length - 1];
  if (innermost !== undefined && closerOf(out, innermost.index).type === type) return false;
  if (!open.some((o) => closerOf(out, o.index).type === type)) return true;
  if (innermost === undefined || out[innermost.index]!.tokenType === T.LBrace) return false;
  for (let j = i + 1; tokens[j] !== undefined && tokens[j]!.startLine === tokens[i]!.startLine; j++) if (tokens[j]!.tokenType === type) return true;
  return false;
}

/**
 * Whether the opener `tokens[i]` doubles the one right before it, written with no space: `{{`,
 * which nothing takes; `((` or `[[` when no closer in the file closes the first of them
 * (`@name(("x")`), while one closes the second (`((a) or b)` is two, each closed).
 */
function doubledOpener(tokens: readonly IToken[], i: number, unmatched: () => ReadonlySet<IToken>): boolean {
  const token = tokens[i]!;
  const before = tokens[i - 1];
  if (before?.tokenType !== token.tokenType || before.endOffset! + 1 !== token.startOffset) return false;
  return token.tokenType === T.LBrace || (unmatched().has(before) && !unmatched().has(token));
}

/** Whether `tokens` hold more `{` than `}`. */
function leavesBraceOpen(tokens: readonly IToken[]): boolean {
  let depth = 0;
  for (const token of tokens) depth += token.tokenType === T.LBrace ? 1 : token.tokenType === T.RBrace ? -1 : 0;
  return depth > 0;
}

/**
 * Whether `tokens[i]` starts a rule inside an annotation's `(` left open, on the annotation's
 * line (`@controls("ASI08"  deny *`): after an argument, only `,` or `)` may come, so the effect
 * and its target are the next rule, not part of the annotation.
 */
function ruleAfterAnnotationArgument(out: readonly IToken[], open: readonly Open[], tokens: readonly IToken[], i: number): boolean {
  const opener = open[open.length - 1]!.index;
  if (out[opener]!.tokenType !== T.LParen || out[opener - 2]?.tokenType !== T.At) return false;
  const before = tokens[i - 1]!.tokenType;
  const target = tokens[i + 1];
  return EFFECT_KEYWORDS.has(tokens[i]!.tokenType) && before !== T.LParen && before !== T.Comma && target !== undefined && (target.tokenType === T.Star || tokenMatcher(target, T.AnyName));
}

/** The `(` and `[` of `tokens` that no closer of their kind closes, each kind paired apart. */
function unmatchedOpeners(tokens: readonly IToken[]): Set<IToken> {
  const unmatched = new Set<IToken>();
  const parens: IToken[] = [];
  const brackets: IToken[] = [];
  for (const token of tokens) {
    const type = token.tokenType;
    if (type === T.LParen) parens.push(token);
    else if (type === T.LBracket) brackets.push(token);
    else if (type === T.RParen) parens.pop();
    else if (type === T.RBracket) brackets.pop();
  }
  for (const token of [...parens, ...brackets]) unmatched.add(token);
  return unmatched;
}

/**
 * Reads a `)` or `]` that is not the closer of the innermost bracket open (see `isMisplacedCloser`):
 * one that closes nothing is left out, in `strayClosers`; else the bracket of the wrong kind, the
 * opener by its place (`url.host[…)`) or the closer, is read as the one meant, and reported.
 */
function readMisplacedCloser(out: IToken[], open: Open[], closer: IToken, file: SourceFile, bracketMistakes: Diagnostic[], strayClosers: StrayCloser[]): void {
  const innermost = open[open.length - 1];
  if (innermost === undefined || out[innermost.index]!.tokenType === T.LBrace) {
    const opener = closer.tokenType === T.RParen ? "(" : "[";
    strayClosers.push({ closer, before: out[out.length - 1], diagnostic: diagnostic("PC103", `this \`${closer.image}\` closes no \`${opener}\``, tokenSpan(file, closer), `remove it, or add the \`${opener}\` it closes`) });
    return;
  }
  const opener = out[innermost.index]!;
  const meantOpener = openerMeant(out, innermost.index);
  if (meantOpener !== undefined && CLOSER_OF.get(meantOpener)?.type === closer.tokenType) {
    bracketMistakes.push(wrongOpenerDiagnostic(out, innermost.index, file));
    out[innermost.index] = { ...opener, tokenType: meantOpener, tokenTypeIdx: meantOpener.tokenTypeIdx! };
    out.push(closer);
  } else {
    bracketMistakes.push(wrongCloserDiagnostic(out, innermost, closer, file));
    const meant = closerOf(out, innermost.index);
    out.push({ ...closer, tokenType: meant.type, tokenTypeIdx: meant.type.tokenTypeIdx! });
  }
  open.pop();
}

/** The keywords of a block of attributes (`name: type`), whose `{` follows the keyword or the declared name. */
const ATTRIBUTE_KEYWORDS: ReadonlySet<unknown> = new Set([T.Kw.agent, T.Kw.user, T.Kw.context, T.Kw.args, T.Kw.type]);

/**
 * Where a declaration's `{` is left out, at `tokens[i]`, the first token of its block: the index
 * of the declaration's keyword, which starts a line (or, for `args`, follows a `{`); else
 * undefined. The block's start shows it: a rule after `policy p`, `risk` after `tool t`, `tools`
 * after `intent i`, an attribute (`path: string`) after `agent`, `args` or `type T`, a member
 * and a `,` after `enum E`. A name left open that took the `{` (`policy "p {`, in
 * `unterminated`) counts as the name. `place`: where `tokens[i]` is, asked last; a declaration
 * goes at the top level, `args` in a tool's block (in a rule, `tool` and `args` are values).
 */
function braceMissingAt(tokens: readonly IToken[], i: number, unterminated: ReadonlySet<IToken>, place: () => "top" | "tool" | undefined): number | undefined {
  const token = tokens[i]!;
  let head = i - 1;
  if (head < 0 || tokens[head]!.tokenType === T.LBrace) return undefined;
  if (!UNNAMED_BLOCKS.has(tokens[head]!.tokenType)) {
    while (head >= 2 && tokens[head - 1]!.tokenType === T.Dot && tokenMatcher(tokens[head - 2]!, T.AnyName)) head -= 2;
    const named = tokenMatcher(tokens[head]!, T.AnyName) || (unterminated.has(tokens[head]!) && tokens[head]!.image.includes("{"));
    if (!named || !NAMING_KEYWORDS.has(tokens[head - 1]?.tokenType)) return undefined;
    head--;
  }
  const keyword = tokens[head]!.tokenType;
  const before = tokens[head - 1];
  if (before !== undefined && before.endLine === tokens[head]!.startLine && !(keyword === T.Kw.args && before.tokenType === T.LBrace)) return undefined;
  const next = tokens[i + 1];
  const attribute = tokenMatcher(token, T.AnyName) && (next?.tokenType === T.Colon || (next?.tokenType === T.Question && tokens[i + 2]?.tokenType === T.Colon));
  const starts =
    keyword === T.Kw.policy ? startsRule(tokens, i)
    : keyword === T.Kw.tool ? token.tokenType === T.Kw.risk || token.tokenType === T.Kw.returns || token.tokenType === T.Kw.args
    : keyword === T.Kw.intent ? token.tokenType === T.Kw.tools || token.tokenType === T.Kw.max_risk
    : keyword === T.Kw.enum ? tokenMatcher(token, T.AnyName) && (next?.tokenType === T.Comma || next?.tokenType === T.RBrace)
    : ATTRIBUTE_KEYWORDS.has(keyword) && attribute;
  return starts && place() === (keyword === T.Kw.args ? "tool" : "top") ? head : undefined;
}

/** Where the token after the tokens `out` is: at the top level, right in a tool's block, or elsewhere. */
function placeOf(out: readonly IToken[], open: readonly Open[]): "top" | "tool" | undefined {
  const innermost = open[open.length - 1];
  if (innermost === undefined) return "top";
  return out[innermost.index]!.tokenType === T.LBrace && blockKeyword(out, innermost.index) === "tool" ? "tool" : undefined;
}

/**
 * The opener the bracket at `out[at]` must be by its place, when it is not: a `(` right after a
 * name (a call, `url.host(…)`), a `[` after `in`, `containsAny` or `containsAll` (a list).
 */
function openerMeant(out: readonly IToken[], at: number): TokenType | undefined {
  const bracket = out[at]!;
  const before = out[at - 1];
  if (before === undefined) return undefined;
  if (bracket.tokenType === T.LBracket && tokenMatcher(before, T.AnyName) && before.endOffset! + 1 === bracket.startOffset) return T.LParen;
  if (bracket.tokenType === T.LParen && LIST_OPERATORS.has(before.tokenType)) return T.LBracket;
  return undefined;
}

/** The bracket at `out[at]`, which a closer of the other kind closes, is the one of the wrong kind (`url.host[args.url)`): PC103 at it. */
function wrongOpenerDiagnostic(out: readonly IToken[], at: number, file: SourceFile): Diagnostic {
  const bracket = out[at]!;
  const before = out[at - 1]!;
  const call = bracket.tokenType === T.LBracket;
  const message = `expected \`${call ? "(" : "["}\` after ${describeToken(before)}, found \`${bracket.image}\``;
  const annotation = out[at - 2]?.tokenType === T.At;
  const help = !call ? "a list is written in square brackets: `[…]`" : annotation ? `an annotation's arguments go in parentheses: \`@${before.image}(…)\`` : `a call's arguments go in parentheses: \`${before.image}(…)\``;
  return diagnostic("PC103", message, tokenSpan(file, bracket), help);
}

/** A `)` or `]` that closes the bracket `innermost`, of the other kind (`["a", "b")`): PC103, which names that bracket. */
function wrongCloserDiagnostic(out: readonly IToken[], innermost: Open, closer: IToken, file: SourceFile): Diagnostic {
  const bracket = out[innermost.index]!;
  const meant = closerOf(out, innermost.index).image;
  const message = `expected \`${meant}\` after ${describeToken(out[out.length - 1]!)}, found \`${closer.image}\``;
  return diagnostic("PC103", message, tokenSpan(file, closer), `the \`${bracket.image}\` opened at ${bracket.startLine}:${bracket.startColumn} is closed with \`${meant}\`, not \`${closer.image}\``);
}

/** Pops the bracket `closer` closes and those left open inside it; a `}` that closes nothing open is left to the parser. */
function popMatching(out: readonly IToken[], open: Open[], closer: IToken): void {
  for (let k = open.length - 1; k >= 0; k--) {
    if (CLOSER_OF.get(out[open[k]!.index]!.tokenType)?.type === closer.tokenType) {
      open.length = k;
      return;
    }
  }
}

/**
 * Whether a closer of the kind `closer` on the line of `tokens[i]`, after it, closes a bracket
 * open before it: then a clause keyword there (`in [other, grant]`) is a value written wrong, in
 * a bracket that is closed, whose error the parser gives.
 */
function closesOnLine(tokens: readonly IToken[], i: number, closer: TokenType): boolean {
  const opener = [...CLOSER_OF].find(([, c]) => c.type === closer)![0];
  let depth = 0;
  for (let j = i + 1; tokens[j] !== undefined && tokens[j]!.startLine === tokens[i]!.startLine; j++) {
    if (tokens[j]!.tokenType === opener) depth++;
    else if (tokens[j]!.tokenType === closer && depth-- === 0) return true;
  }
  return false;
}

/** Tokens after which a clause keyword is a name (`args.reason`, `context has reason`, `@reason`). */
const AFTER_NAME = new Set<unknown>([T.Dot, T.Kw.has, T.At]);

/**
 * For each index, how many of the `{` open before it a `}` after it closes: the depth there less
 * the lowest depth after it.
 */
function closesAhead(tokens: readonly IToken[]): (i: number) => number {
  const depth = new Int32Array(tokens.length + 1);
  for (let i = 0; i < tokens.length; i++) depth[i + 1] = depth[i]! + (tokens[i]!.tokenType === T.LBrace ? 1 : tokens[i]!.tokenType === T.RBrace ? -1 : 0);
  const lowest = new Int32Array(tokens.length + 1);
  lowest[tokens.length] = depth[tokens.length]!;
  for (let i = tokens.length - 1; i >= 0; i--) lowest[i] = Math.min(depth[i]!, lowest[i + 1]!);
  return (i) => depth[i]! - lowest[i]!;
}

/**
 * Whether a rule starts at `tokens[i]`, which starts a line: an effect and its first target
 * (`allow kb.read`, `deny *`), or annotations, each whole on its line, before one.
 */
function ruleStartsAt(tokens: readonly IToken[], i: number): boolean {
  let at: number | undefined = i;
  while (at !== undefined && tokens[at]?.tokenType === T.At) at = annotationEnd(tokens, at, tokens.length, true);
  const target = at === undefined ? undefined : tokens[at + 1];
  // After `.`, `has` or `@`, an effect word may be a name (`(agent has` then `deny and true)`):
  // it starts a rule only before what starts a tool's name (`(agent has` then `allow kb.search`,
  // a condition left unfinished), not before an operator.
  const targetStart = AFTER_NAME.has(tokens[i - 1]?.tokenType) ? T.ToolNameStart : T.AnyName;
  return at !== undefined && EFFECT_KEYWORDS.has(tokens[at]?.tokenType) && target !== undefined && (target.tokenType === T.Star || tokenMatcher(target, targetStart));
}

/** The closer the bracket at `out[opener]` takes. */
function closerOf(out: readonly IToken[], opener: number): { readonly type: TokenType; readonly image: string } {
  return CLOSER_OF.get(out[opener]!.tokenType)!;
}

/** A bracket put in just after `after`: of no width, so every span stays inside the text. */
function bracketAfter(after: IToken, closer: { readonly type: TokenType; readonly image: string }): IToken {
  const end = after.endOffset!;
  return { image: closer.image, startOffset: end + 1, endOffset: end, startLine: after.endLine, endLine: after.endLine, startColumn: after.endColumn! + 1, endColumn: after.endColumn, tokenType: closer.type, tokenTypeIdx: closer.type.tokenTypeIdx! };
}

/** The last token out before `at` that the file holds (not a closer put in). */
function realTokenBefore(out: readonly IToken[], at: number, closers: ReadonlyMap<IToken, Unclosed>): IToken {
  let i = at - 1;
  while (i > 0 && closers.has(out[i]!)) i--;
  return out[i]!;
}

/**
 * "the `{` of `agent` opened at 1:7 is never closed: add `}` before `tool` at 3:1": each bracket
 * and where its closer goes. A `{` closes before the token that follows its block; a `(`, a `[`
 * or a `<`, which a condition, a list or a type opens, after its last item (at the end of its line).
 */
export function neverClosedHelp(out: readonly IToken[], closings: readonly Closing[], tokenAt: (at: number) => IToken | undefined): string {
  const brackets = closings.map(({ opener }) => `${bracketName(out, opener)} opened at ${out[opener]!.startLine}:${out[opener]!.startColumn}`);
  const places = closings.map(({ opener, at }) => {
    const closer = `\`${closerOf(out, opener).image}\``;
    const next = tokenAt(at);
    const last = out[at - 1]!;
    if (out[opener]!.tokenType !== T.LBrace) return next?.startLine === last.endLine ? `${closer} after ${describeToken(last)}` : `${closer} at the end of line ${last.endLine}`;
    if (next === undefined) return `${closer} at the end of the file`;
    // Before a `}` (that closes an outer block, lined up with it), at the end of the line before it.
    return next.tokenType === T.RBrace ? `${closer} at the end of line ${last.endLine}` : `${closer} before ${describeToken(next)} at ${next.startLine}:${next.startColumn}`;
  });
  if (brackets.length === 1) return `${brackets[0]} is never closed: add ${places[0]}`;
  // Closers that go at one place are said once: "two `}` before `tool` at 4:1".
  const counted: { place: string; count: number }[] = [];
  for (const place of places) {
    const last = counted[counted.length - 1];
    if (last?.place === place) last.count++;
    else counted.push({ place, count: 1 });
  }
  return `${listed(brackets)} are never closed: add ${listed(counted.map(({ place, count }) => (count === 1 ? place : `${NUMBERS[count] ?? count} ${place}`)))}`;
}

const NUMBERS: readonly (string | undefined)[] = [undefined, "one", "two", "three", "four"];

/** "the `{` of `tool kb.read`", "the `{` of `args`", "the `<` of `set`", "the `(`". */
function bracketName(out: readonly IToken[], opener: number): string {
  const bracket = `the \`${out[opener]!.image}\``;
  const before = out[opener - 1];
  if (out[opener]!.tokenType === T.Less && before && tokenMatcher(before, T.AnyName)) return `${bracket} of \`${before.image}\``;
  if (out[opener]!.tokenType !== T.LBrace) return bracket;
  const keyword = blockKeyword(out, opener);
  if (keyword === undefined) return bracket;
  // A declaration's name, back to its keyword (`tool kb.read {`); `agent {` and `args {` have none.
  let start = opener - 1;
  while (start > 0 && (tokenMatcher(out[start]!, T.AnyName) || out[start]!.tokenType === T.Dot) && !NAMING_KEYWORDS.has(out[start]!.tokenType)) start--;
  const name = NAMING_KEYWORDS.has(out[start]!.tokenType) && out[start]!.image === keyword ? out.slice(start + 1, opener).map((t) => t.image).join("") : "";
  return `${bracket} of \`${keyword}${name ? ` ${name}` : ""}\``;
}

