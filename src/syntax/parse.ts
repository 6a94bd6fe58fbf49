import type { IRecognitionException, IToken, TokenType } from "chevrotain";
import { tokenMatcher } from "./chevrotain.js";
import type { Declaration, EnumDecl, PolicyFile, Rule } from "../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../diagnostics/Diagnostic.js";
import type { SourceFile } from "../source/SourceFile.js";
import { sourceFileOf } from "../source/sourceInputs.js";
import type { Span } from "../source/Span.js";
import { AstBuilder } from "./astBuilder.js";
import { attributesWithoutSeparator } from "./attributeSeparators.js";
import { EFFECT_KEYWORDS, mistakenItem } from "./declarationItems.js";
import { annotationEnd, annotationsEnd, CLAUSE_KEYWORDS, CLOSERS, DECLARATION_STARTS, declarationShapeAt, NAME_BEFORE, OPENERS, startsRule } from "./starts.js";
import { describeToken, firstErrorGrammar, grammarInstance, type PolicyGrammar } from "./grammar.js";
import { durationSuggestion } from "./literals.js";
import { quoteMistakes, type QuoteMistake } from "./quoteMistakes.js";
import { tokenSpan } from "./tokenSpan.js";
import { headOf } from "../runtime/cutText.js";
import { MAX_NESTING as MAX_REQUEST_NESTING } from "../runtime/schema.js";
import { dropStrayAts, quoteBareAnnotationArguments } from "./bareAnnotationArguments.js";
import { bidiControlDiagnostics, hasBidiControl, hiddenInStringDiagnostics, invisibleCharacterMessage } from "./hiddenCharacters.js";
import { capitalisedOperandKeyword, enumMemberWithoutComma, helpForSyntaxError, keywordAsQuantifierVariable, keywordValueHelp, keywordWrittenAsValue, quotedNameHelp, unclosedBrace, unclosedBracket } from "./syntaxHelp.js";
import * as T from "./tokens.js";
import { closeUnclosedBrackets, neverClosedHelp, type StrayCloser, type Unclosed } from "./unclosedBrackets.js";

/** Tokens that hold any character: a bidirectional control in one is reported (PC112). */
const TEXT_TOKENS = new Set<unknown>([T.StringLiteral, T.UnterminatedString, T.SingleQuotedString, T.BacktickQuotedString, T.CurlyQuotedString, T.UnterminatedBlockComment]);

/** A parser's message where a name is expected. */
const NAME_EXPECTED = /^expected (?:[^,]* )?a (?:tool )?name\b/;

/** The brackets whose "expected" closer gets a help naming the opener left open. */
const BRACKET_PAIRS: readonly (readonly [TokenType, TokenType])[] = [
  [T.LBrace, T.RBrace],
  [T.LParen, T.RParen],
  [T.LBracket, T.RBracket],
  [T.Less, T.Greater],
];

/** Deeper nesting than this is refused before parsing, so recursion can never exhaust the stack. */
export const MAX_NESTING = 100;
/** Syntax errors reported per file; after a few dozen, recovery mostly reports echoes. */
const MAX_SYNTAX_ERRORS_PER_FILE = 25;

/** A parsed file: its AST (when parsing got that far), plain comments for the formatter, diagnostics. */
export interface ParseResult {
  readonly file: SourceFile;
  readonly ast: PolicyFile;
  /** `//` and block comments, in order; the formatter re-attaches them. */
  readonly comments: readonly IToken[];
  /** `///` doc comments, in order (also attached to AST nodes as `docs`). */
  readonly docComments: readonly IToken[];
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * Lexes and parses one source file. Never throws for the text: every problem in it is returned
 * as a diagnostic, and recovery lets one run report several syntax errors. (A text that is not
 * a string is a `TypeError`, see sourceInputs.ts.)
 */
export interface ParseOptions {
  /**
   * The enums of the whole set that have a member of this name (a file's own enums are found
   * without it), for the help when a keyword-named member is written bare (`== deny`).
   */
  readonly enumsWithMember?: (member: string) => readonly string[];
}

export function parse(source: SourceFile | string, path = "<input>", options: ParseOptions = {}): ParseResult {
  const file = sourceFileOf(source, path);
  const diagnostics: Diagnostic[] = [];
  const empty: PolicyFile = { kind: "PolicyFile", path: file.path, declarations: [], span: { file, start: 0, end: file.text.length } };
  try {
    const lexed = T.policyLexer.tokenize(file.text);
    /** A `"` missing or one too many, by the lines it covers: found when there is a mistake to look at. */
    let mistakenQuotes: Map<number, QuoteMistake> | undefined;
    const quoteMistakeOn = (line: number): QuoteMistake | undefined => (mistakenQuotes ??= quoteMistakes(lexed.tokens, file)).get(line);
    /** Whether `offset`, on `line`, is in what a mistaken `"` turned inside out: an echo of it. */
    const echoesQuoteMistake = (offset: number, line: number): boolean => {
      const mistake = quoteMistakeOn(line);
      return mistake !== undefined && offset >= mistake.from && offset < mistake.end;
    };
    /** The end of a hyphenated name already reported: its other `-` say nothing new. */
    let hyphenatedNameEnd = -1;
    let unions: UnionLines | undefined;
    for (const error of lexed.errors) {
      const character = file.text.slice(error.offset, error.offset + (error.length || 1));
      // A run with a bidirectional control is PC112, below.
      if (hasBidiControl(character)) continue;
      if (error.offset < hyphenatedNameEnd) continue;
      if (echoesQuoteMistake(error.offset, file.position(error.offset).line)) continue;
      if ((character === "|" || character === ";") && (unions ??= new UnionLines(lexed.tokens, file.text)).holds(error.offset)) continue;
      const hyphenated = hyphenatedName(file.text, error.offset);
      if (hyphenated) {
        hyphenatedNameEnd = hyphenated.end;
        diagnostics.push(diagnostic("PC100", "unexpected character `-`", { file, start: error.offset, end: error.offset + 1 }, hyphenated.help));
        continue;
      }
      const span = { file, start: error.offset, end: error.offset + Math.max(1, Math.min(error.length, 20)) };
      const invisible = invisibleCharacterMessage(character);
      if (invisible) diagnostics.push(diagnostic("PC100", invisible.message, span, invisible.help));
      else {
        const shown = character.length > 20 ? headOf(character, 20) + "…" : character;
        const help = character.startsWith(";") ? separatorHint(lexed.tokens, error.offset) : hintForFirstCharacter(character, file.text, error.offset);
        diagnostics.push(diagnostic("PC100", `unexpected character ${codeSpan(shown)}`, span, help));
      }
      if (diagnostics.length >= MAX_SYNTAX_ERRORS_PER_FILE) break;
    }
    const hashComments = lexed.groups["hashComments"] ?? [];
    for (const comment of hashComments) {
      // `#[name("x")]` is an attribute in Rust's style, not a comment: say how annotations are written.
      const help = comment.image.startsWith("#[") ? 'annotations start with `@`, as in `@name("kb-read")`' : "comments start with `//`";
      diagnostics.push(diagnostic("PC100", "unexpected character `#`", { file, start: comment.startOffset, end: comment.startOffset + 1 }, help));
    }
    /**
     * A syntax error at the first token after an unexpected character is that character's echo
     * (`a && b` leaves `a b`; a `😀` operand leaves `==` without one): the PC100 says it all.
     */
    const followsUnexpectedCharacter = (before: IToken | undefined, at: IToken | undefined): boolean => {
      if (!before) return false;
      const from = before.endOffset! + 1;
      const to = at && Number.isFinite(at.startOffset) ? at.startOffset : file.text.length;
      return lexed.errors.some((e) => e.offset >= from && e.offset < to);
    };
    const holdsUnexpectedCharacter = (from: IToken, to: IToken): boolean => lexed.errors.some((e) => e.offset > from.startOffset && e.offset < to.endOffset!);
    const tokens: IToken[] = [];
    /** Strings without their closing `"`: one may hold the `)` or `}` meant to close a bracket. */
    const unterminated = new Set<IToken>();
    /**
     * The strings whose quotes are reported, and where: one left open that is a mistake of its own
     * (PC101), one in other quotes (PC100). Where a name goes, that report says to write it without.
     */
    const quotingReports = new Map<IToken, number>();
    let commentToEnd = false;
    /** The last string in other quotes reported: the line it is on, the quotes it should have, and its diagnostic. */
    let misquoted: { line: number; quotes: string; position: number } | undefined;
    let depth = 0;
    let notRun = 0;
    /** How many `<`s of a type (`list<list<…`) are open: they nest by one parser rule each, as brackets do. */
    let typeRun = 0;
    let tooDeep = false;
    for (const token of lexed.tokens) {
      switch (token.tokenType) {
        case T.UnterminatedString: {
          const mistake = quoteMistakeOn(token.startLine!);
          if (mistake === undefined || !mistake.unterminated.includes(token)) diagnostics.push(diagnostic("PC101", "unterminated string", tokenSpan(file, token), unterminatedHelp(token)));
          else if (mistake.unterminated[0] === token) diagnostics.push(mistake.diagnostic);
          // Keep parsing as if it were closed, so one missing quote gives one error.
          tokens.push({ ...token, tokenType: T.StringLiteral, tokenTypeIdx: T.StringLiteral.tokenTypeIdx! });
          unterminated.add(tokens[tokens.length - 1]!);
          if (mistake === undefined) quotingReports.set(tokens[tokens.length - 1]!, diagnostics.length - 1);
          continue;
        }
        case T.SingleQuotedString:
        case T.BacktickQuotedString:
        case T.CurlyQuotedString: {
          const { meant, quotes, wrong } = misquotedString(token);
          const sameLine = misquoted !== undefined && misquoted.line === token.startLine && misquoted.quotes === quotes ? misquoted.position : undefined;
          // The strings of a line pasted with other quotes (`[“a”, “b”]`) are one error, which writes them all.
          if (sameLine !== undefined) diagnostics[sameLine] = { ...diagnostics[sameLine]!, help: `${diagnostics[sameLine]!.help}, ${meant}` };
          else if (!echoesQuoteMistake(token.startOffset, token.startLine!)) {
            misquoted = { line: token.startLine!, quotes, position: diagnostics.length };
            diagnostics.push(diagnostic("PC100", `unexpected character ${codeSpan(wrong)}`, tokenSpan(file, token), `strings use ${quotes}: ${meant}`));
          }
          // Parse on as the string that was meant, so the quotes give one error, not one per word.
          tokens.push({ ...token, image: meant, tokenType: T.StringLiteral, tokenTypeIdx: T.StringLiteral.tokenTypeIdx! });
          if (misquoted !== undefined && misquoted.line === token.startLine) quotingReports.set(tokens[tokens.length - 1]!, misquoted.position);
          continue;
        }
        case T.UnterminatedBlockComment:
          diagnostics.push(diagnostic("PC102", "unterminated block comment", { file, start: token.startOffset, end: token.startOffset + 2 }, "close it with `*/`"));
          commentToEnd = true;
          continue;
        case T.MalformedDuration:
          diagnostics.push(diagnostic("PC104", `malformed duration \`${token.image}\``, tokenSpan(file, token), durationSuggestion(token.image) ?? "a duration is a whole number and a unit: `500ms`, `30s`, `5m`, `2h`, `1d`"));
          tokens.push({ ...token, tokenType: T.Duration, tokenTypeIdx: T.Duration.tokenTypeIdx! });
          continue;
      }
      if (token.tokenType === T.LParen || token.tokenType === T.LBracket || token.tokenType === T.LBrace) depth++;
      else if (token.tokenType === T.RParen || token.tokenType === T.RBracket || token.tokenType === T.RBrace) depth = Math.max(0, depth - 1);
      notRun = token.tokenType === T.Kw.not ? notRun + 1 : token.tokenType === T.LParen ? notRun : 0;
      if (!tooDeep && depth + notRun > MAX_NESTING) {
        tooDeep = true;
        diagnostics.push(diagnostic("PC106", `expression nested more than ${MAX_NESTING} levels deep`, tokenSpan(file, token), "split the condition into simpler parts"));
      }
      // A type's `<` follows `list` or `set` (the only types that take one), which follows the `<`
      // of the type around it: a run of `list <` / `set <` pairs is one type nested that deep. Any
      // other `<` is a comparison and ends the run, so `x < x < …`, which does not parse, keeps
      // the parser's "comparisons do not chain" rather than being called a deep type.
      if (token.tokenType === T.Less) typeRun = isTypeConstructor(tokens[tokens.length - 1]) ? (tokens[tokens.length - 2]?.tokenType === T.Less ? typeRun + 1 : 1) : 0;
      if (!tooDeep && typeRun > MAX_REQUEST_NESTING) {
        tooDeep = true;
        diagnostics.push(diagnostic("PC106", `type nested more than ${MAX_REQUEST_NESTING} levels deep`, tokenSpan(file, token), `no request may nest lists and records more than ${MAX_REQUEST_NESTING} levels deep (deeper, it is denied): declare a shallower type`));
      }
      tokens.push(token);
    }
    const docComments = lexed.groups["docs"] ?? [];
    const comments = lexed.groups["comments"] ?? [];
    const textHolders = [...lexed.tokens.filter((t) => TEXT_TOKENS.has(t.tokenType)), ...comments, ...docComments, ...hashComments];
    diagnostics.push(...bidiControlDiagnostics(file, textHolders, lexed.errors.map((e) => ({ offset: e.offset, length: e.length || 1 }))));
    diagnostics.push(...hiddenInStringDiagnostics(file, lexed.tokens.filter((t) => t.tokenType === T.StringLiteral)));
    if (tooDeep) return { file, ast: empty, comments, docComments, diagnostics };

    const closed = closeUnclosedBrackets(tokens, file, unterminated, commentToEnd);
    /** Where each bracket left open is reported among the diagnostics, for the parser's error at its closer. */
    const unclosedAt = new Map<Unclosed, number>();
    const bracketMistakes = closed.bracketMistakes.slice(0, MAX_SYNTAX_ERRORS_PER_FILE);
    diagnostics.push(...bracketMistakes);
    for (const unclosed of closed.unclosed) {
      if (unclosed.diagnostic === undefined || bracketMistakes.length + unclosedAt.size >= MAX_SYNTAX_ERRORS_PER_FILE) continue;
      unclosedAt.set(unclosed, diagnostics.length);
      diagnostics.push(unclosed.diagnostic);
    }
    const parser = grammarInstance();
    const builder = new AstBuilder(file, docComments);
    const declarations: Declaration[] = [];
    let syntaxErrors = bracketMistakes.length + unclosedAt.size;
    let skips = 0;
    /** Errors that are a keyword written as a value: their help names enums, known at the end. */
    const keywordValues: { position: number; keyword: string }[] = [];
    /** The `)` and `]` that close nothing whose missing opener a syntax error before them reports. */
    const strayReported = new Set<StrayCloser>();
    /** The brackets left open whose error already took the parser's message at their closer. */
    const merged = new Set<Unclosed>();
    /** The brackets left open whose error repeats one of the parser's (see `echoesParserError`): left out. */
    const echoes = new Set<Unclosed>();
    /** The chunks (rules) whose quantifier names its variable with a keyword: their later errors follow from it. */
    const keywordVariableIn = new Set<readonly IToken[]>();
    /** Reports one syntax error of `chunk`; false once the file has reported as many as it may. */
    const report = (error: IRecognitionException, chunk: readonly IToken[], following: IToken | undefined): boolean => {
      if (syntaxErrors++ >= MAX_SYNTAX_ERRORS_PER_FILE) return false;
      let message = error.message;
      let at = tokenSpan(file, error.token);
      if (error.token.tokenType.name === "EOF") {
        // At the end of a chunk, point just after its last real token rather than at nothing,
        // and name what really comes next (`}`, the next rule), not "the end of the file".
        const last = chunk[chunk.length - 1];
        if (last) at = { file, start: last.endOffset! + 1, end: last.endOffset! + 1 };
        if (following) message = message.replace(/found the end of the file$/, `found ${describeToken(following)}`);
      }
      if (Number.isFinite(error.token.startOffset) && echoesQuoteMistake(error.token.startOffset, error.token.startLine!)) return true;
      const index = chunk.indexOf(error.token);
      // A string left open or in other quotes where a name goes (`tools "kb.read }`, `policy “p”`):
      // its PC101 or PC100 tells to write the name without quotes.
      const quoting = quotingReports.get(error.token);
      if (quoting !== undefined && index > 0) {
        const help = quotedNameHelp(chunk, index) ?? (NAME_EXPECTED.test(message) ? "names are written without quotes" : undefined);
        if (help !== undefined) {
          diagnostics[quoting] = { ...diagnostics[quoting]!, help };
          return true;
        }
      }
      // A string without its closing `"` took the rest of its line: what was expected there is in it.
      if (index !== 0 && unterminated.has(chunk[index > 0 ? index - 1 : chunk.length - 1]!)) return true;
      if (index !== 0 && followsUnexpectedCharacter(chunk[index > 0 ? index - 1 : chunk.length - 1], index > 0 ? error.token : following)) return true;
      const reported = (error as { previousToken?: IToken }).previousToken;
      const previous = chunk[index - 1];
      // Recovery inside a repetition skips tokens before it builds the message, which then
      // names the last skipped token as the one before the error (`expected } after *, found *`).
      if (previous && reported && reported !== previous && reported.tokenType.name !== "EOF") {
        message = message.replace(` after ${describeToken(reported)}, found`, ` after ${describeToken(previous)}, found`);
      }
      // `enum Color { red green }`: the `,` is what the member lacks, more likely than the `}`.
      if (index > 0 && enumMemberWithoutComma(chunk, index)) message = message.replace(/^expected `\}`/, "expected `,` or `}`");
      // At the end of a rule, the token found is the policy's `}`.
      const found = error.token.tokenType.name === "EOF" ? following : error.token;
      const leftOpen = found && closed.closers.get(found);
      if (leftOpen) {
        // At a closer put in for a bracket left open, what was unfinished before it is the first
        // mistake there: that bracket's error says it, with what the file has there.
        const position = unclosedAt.get(leftOpen);
        const foundText = ` found ${describeToken(found)}`;
        if (position !== undefined && message.endsWith(foundText) && !merged.has(leftOpen)) {
          merged.add(leftOpen);
          diagnostics[position] = { ...diagnostics[position]!, message: `${message.slice(0, -foundText.length)} found ${leftOpen.found}` };
        }
        return true;
      }
      // At the end of the chunk, the token found is the one after it (`== deny`: a `deny` starts
      // a rule); one followed by a `.` (`== deny.all`) is a dotted name, not a member.
      const keyword = index >= 0 ? keywordWrittenAsValue(chunk, index) : following && file.text.charAt(following.endOffset! + 1) !== "." ? keywordWrittenAsValue([...chunk, following], chunk.length) : undefined;
      if (keyword !== undefined) keywordValues.push({ position: diagnostics.length, keyword });
      const misCased = index > 0 ? capitalisedOperandKeyword(chunk, index) : undefined;
      if (misCased) {
        diagnostics.push(diagnostic("PC103", misCased.message, tokenSpan(file, misCased.word), misCased.help));
        return true;
      }
      // The parser's recovery past the keyword reads the quantifier's `:` as a mistake of its own.
      if (keywordVariableIn.has(chunk)) return true;
      const keywordVariable = index > 1 ? keywordAsQuantifierVariable(chunk, index) : undefined;
      if (keywordVariable) {
        keywordVariableIn.add(chunk);
        diagnostics.push(diagnostic("PC103", keywordVariable.message, tokenSpan(file, keywordVariable.word), keywordVariable.help));
        return true;
      }
      const end = index < 0 ? chunk.length : index;
      const pair = BRACKET_PAIRS.find(([, closer]) => message.startsWith(`expected ${closer.LABEL}`));
      const unclosed = pair === undefined ? undefined : pair[0] === T.LBrace ? unclosedBrace(chunk) : unclosedBracket(chunk, end, pair[0], pair[1]);
      const help = (index >= 0 ? helpForSyntaxError(chunk, index, message.startsWith("expected a declaration")) : undefined) ?? (unclosed ? neverClosedHelp(chunk, [{ opener: chunk.indexOf(unclosed), at: end }], (i) => chunk[i] ?? following) : undefined);
      for (const unclosed of unclosedAt.keys()) if (echoesParserError(unclosed, error.token, message)) echoes.add(unclosed);
      // A `)` or `]` after the error that closes nothing lacks its opener, likely where the error is (`@name"x")`).
      const stray = closed.strayClosers.find((s) => !strayReported.has(s) && s.closer.startOffset > at.start && s.before !== undefined && chunk.includes(s.before));
      if (stray !== undefined) strayReported.add(stray);
      diagnostics.push(diagnostic("PC103", message, at, help ?? (stray && strayHelp(stray))));
      return true;
    };
    /**
     * `following`: the token after the chunk in the file (the chunk's own end is not the file's).
     * A mistake inside a declaration's block is reported, its item skipped and the declaration
     * parsed again (see `mistakenItem`), so the parser's own recovery cannot turn the words of
     * that one mistake into more errors; messages and help still read the tokens as written.
     * Those parses look for the next error only, so they stop at it: recovering through every
     * error after it each time cost seconds on a file with a thousand mistakes.
     */
    const parseChunk = <T>(chunk: IToken[], entry: (grammar: PolicyGrammar) => T, following: IToken | undefined): T => {
      parser.input = chunk;
      let cst = entry(parser);
      let errors = parser.errors;
      let input = chunk;
      for (;;) {
        const [first] = errors;
        // Each skip parses the declaration again: a file gets as many as it may report errors.
        const skipped = first && syntaxErrors < MAX_SYNTAX_ERRORS_PER_FILE && skips++ < MAX_SYNTAX_ERRORS_PER_FILE ? mistakenItem(input, input.indexOf(first.token), first.message.startsWith("expected `}`")) : undefined;
        if (skipped === undefined) break;
        // An item with an unexpected character in it (`team: string | int`) has its PC100 already.
        if (!holdsUnexpectedCharacter(input[skipped.from]!, input[Math.max(skipped.to - 1, input.indexOf(first!.token))]!)) report(first!, chunk, following);
        input = [...input.slice(0, skipped.from), ...input.slice(skipped.to)];
        const untilError = firstErrorGrammar();
        untilError.input = input;
        cst = entry(untilError);
        errors = untilError.errors;
      }
      // The rest of the errors, and a whole tree, come from the parser's own recovery.
      if (input !== chunk && errors.length > 0) {
        parser.input = input;
        cst = entry(parser);
        errors = parser.errors;
      }
      for (const error of errors) if (!report(error, chunk, following)) break;
      return cst;
    };
    // Declarations, and the rules of a policy, are parsed one at a time: each CST is turned into
    // AST and dropped at once, so a 10,000-rule set never holds a giant CST (that cost seconds of GC).
    const { chunks, strayCloses, rulesOutsidePolicies } = splitDeclarations(quoteBareAnnotationArguments(dropStrayAts(closed.tokens, file, diagnostics), file, diagnostics));
    for (const { brace, policyName } of strayCloses) {
      diagnostics.push(diagnostic("PC103", `this \`}\` closes \`policy ${policyName?.image ?? ""}\` early: rules follow it`, tokenSpan(file, brace), "remove it: a policy's `}` goes after its last rule"));
    }
    /**
     * Parses the rules of a policy (or of rules written outside one) one at a time. A declaration
     * among them is reported once, by `misplaced`, and parsed as the declaration it is, so the
     * rules around it, and the rules that use what it declares, give no follow-on errors.
     */
    const parseRules = (split: SplitRules, after: IToken | undefined, misplaced: (keyword: IToken) => Diagnostic): { rules: Rule[]; declarations: Declaration[] } => {
      for (const annotation of split.trailing) diagnostics.push(trailingAnnotationDiagnostic(file, annotation));
      const rules: Rule[] = [];
      const declared: Declaration[] = [];
      split.body.forEach((part, i) => {
        const following = split.body[i + 1]?.tokens[0] ?? after;
        if (part.declaration) {
          diagnostics.push(misplaced(part.tokens[0]!));
          declared.push(...builder.buildFile(parseChunk(part.tokens, (grammar) => grammar.file(), following)).declarations);
        } else rules.push(builder.rule(parseChunk(part.tokens, (grammar) => grammar.rule(), following)));
      });
      return { rules, declarations: declared };
    };
    chunks.forEach((chunk, index) => {
      const after = chunks[index + 1]?.[0];
      const split = chunk[0]?.tokenType === T.Kw.policy ? splitPolicy(chunk) : undefined;
      if (split) {
        builder.skipDocsBefore(chunk[0]!.startOffset);
        const inPolicy = parseRules(split, split.close, (keyword) => declarationInPolicyDiagnostic(file, keyword, chunk[1]!));
        declarations.push(builder.policyFromRules(chunk[0]!, chunk[1]!, split.close, inPolicy.rules), ...inPolicy.declarations);
      } else if (rulesOutsidePolicies.has(chunk)) {
        // A `}` that closes nothing ends rules whose `policy NAME {` was left out: the help says so.
        const closeOnly = chunk[chunk.length - 1]!.tokenType === T.RBrace && splitRules(chunk, 0, chunk.length) === undefined;
        const outside = splitRules(chunk, 0, closeOnly ? chunk.length - 1 : chunk.length) ?? { body: [{ tokens: chunk, declaration: false }], trailing: [] };
        diagnostics.push(ruleOutsidePolicyDiagnostic(file, chunk, closeOnly));
        // Parsed for their own syntax errors; they belong to no policy, so they are not kept.
        parseRules(outside, after, (keyword) => declarationInPolicyDiagnostic(file, keyword, undefined));
      } else {
        const cst = parseChunk(chunk, (grammar) => grammar.file(), after);
        declarations.push(...builder.buildFile(cst).declarations);
      }
    });
    for (const stray of closed.strayClosers) if (!strayReported.has(stray) && syntaxErrors++ < MAX_SYNTAX_ERRORS_PER_FILE) diagnostics.push(stray.diagnostic);
    for (const { position, keyword } of keywordValues) {
      const own = declarations.filter((d): d is EnumDecl => d.kind === "EnumDecl" && d.members.some((m) => m.name.name === keyword)).map((d) => d.name.name);
      const enums = [...new Set([...own, ...(options.enumsWithMember?.(keyword) ?? [])])];
      const { message, span } = diagnostics[position]!;
      diagnostics[position] = diagnostic("PC103", message, span, keywordValueHelp(keyword, enums));
    }
    const ast: PolicyFile = { kind: "PolicyFile", path: file.path, declarations, span: { file, start: 0, end: file.text.length } };
    const echoed = new Set([...echoes].map((unclosed) => diagnostics[unclosedAt.get(unclosed)!]));
    const kept = echoed.size === 0 ? diagnostics : diagnostics.filter((d) => !echoed.has(d));
    // After a syntax error, items were skipped or recovered, and fields may only seem to share a line.
    const hasSyntaxErrors = kept.some((d) => d.severity === "error");
    kept.push(...builder.diagnostics, ...(hasSyntaxErrors ? [] : attributesWithoutSeparator(file, declarations)));
    return { file, ast, comments, docComments, diagnostics: dedupe(kept) };
  } catch (error) {
    // A bug or an exhausted stack must still come out as a diagnostic, never as a crash.
    const message = error instanceof RangeError ? "input nested too deeply to parse" : `internal error while parsing: ${String(error)}`;
    diagnostics.push(diagnostic(error instanceof RangeError ? "PC106" : "PC103", message, { file, start: 0, end: 0 }));
    return { file, ast: empty, comments: [], docComments: [], diagnostics };
  }
}

/**
 * The help of a PC101: close the string on its line; a string that ends in `\"` (`"C:\temp\"`)
 * escaped the `"` meant to close it.
 */
/** Whether a token is the name of a type that takes an element type in `<…>`: `list` or `set`. */
function isTypeConstructor(token: IToken | undefined): boolean {
  return token?.tokenType === T.Identifier && (token.image === "list" || token.image === "set");
}

function unterminatedHelp(token: IToken): string {
  if (/(?:^|[^\\])(?:\\\\)*\\"\s*$/.test(token.image)) return 'a `\\"` is a `"` inside the string, not its end: to end a string with a backslash, write `\\\\"`';
  return 'add the closing `"` on the same line';
}

/**
 * Whether the parser's error `message` at `token` already says the mistake of the one bracket
 * left open `unclosed`, whose closer the file then does not lack: the error is at the opener
 * (`tool.risk [<= low`), or at the word it is written into (`po{licy`), so that opener is one
 * too many; or it asks for the closer of that `(` or `[` inside it (`any(r in …: r.lower( ==
 * …))`: the `)` missing is that of `lower(`, which took the one of `any(`).
 */
function echoesParserError(unclosed: Unclosed, token: IToken, message: string): boolean {
  // With more brackets left open, the error says one mistake of several.
  if (unclosed.brackets.length !== 1) return false;
  const { opener, closer } = unclosed.brackets[0]!;
  if (token === opener || token.endOffset! + 1 === opener.startOffset) return true;
  // In a block, "expected `}`" is how the parser reports any item it cannot read, not a `}` missing.
  return opener.tokenType !== T.LBrace && message.startsWith(`expected \`${closer.image}\``) && token.startOffset > opener.startOffset && token.startOffset <= closer.startOffset;
}

/** The help of the syntax error before a `)` or `]` that closes nothing, whose opener is missing. */
function strayHelp(stray: StrayCloser): string {
  const opener = stray.closer.tokenType === T.RParen ? "(" : "[";
  return `the \`${stray.closer.image}\` at ${stray.closer.startLine}:${stray.closer.startColumn} closes no \`${opener}\`: add the \`${opener}\` it closes`;
}

/** PC103 for rules written where declarations go, outside any `policy` block. */
function ruleOutsidePolicyDiagnostic(file: SourceFile, chunk: readonly IToken[], closeOnly: boolean): Diagnostic {
  const effect = chunk.find((token) => EFFECT_KEYWORDS.has(token.tokenType)) ?? chunk[0]!;
  const help = closeOnly ? "rules go inside `policy NAME { … }`: write `policy NAME {` before the first rule" : "rules go inside `policy NAME { … }`: write `policy NAME {` before the first rule and `}` after the last";
  return diagnostic("PC103", `expected a declaration, found a rule (\`${effect.image}\`) outside any policy`, tokenSpan(file, effect), help);
}

/** PC103 for a declaration written among rules; `policyName`: the policy it is in, if any. */
function declarationInPolicyDiagnostic(file: SourceFile, keyword: IToken, policyName: IToken | undefined): Diagnostic {
  const where = policyName ? ` inside \`policy ${policyName.image}\`` : " among rules";
  const help = keyword.tokenType === T.Kw.policy && policyName
    ? `policies do not nest: close \`policy ${policyName.image}\` with \`}\` before this one`
    : `declarations go outside policy blocks${policyName ? `: move it above \`policy ${policyName.image} {\`` : ""}`;
  return diagnostic("PC103", `expected a rule (\`allow\`, \`ask\` or \`deny\`), found a declaration (\`${keyword.image}\`)${where}`, tokenSpan(file, keyword), help);
}

/**
 * A string in other quotes (`'text'`, `“text”`, `"text'`, `"""text"""`): the string it means, in
 * double quotes, the quotes a string has, and the quote written wrong (one end may be a straight
 * `"`: the other is the mistake).
 */
function misquotedString(token: IToken): { meant: string; quotes: string; wrong: string } {
  const image = token.image;
  const triple = /^('{3}|"{3})/.exec(image)?.[1];
  if (triple !== undefined) return { meant: doubleQuoted(image.slice(3, -3)), quotes: triple.startsWith('"') ? "one double quote at each end" : "double quotes", wrong: triple };
  const quotes = token.tokenType === T.CurlyQuotedString ? "straight double quotes" : "double quotes";
  return { meant: doubleQuoted(image.slice(1, -1)), quotes, wrong: image.startsWith('"') ? image.slice(-1) : image.charAt(0) };
}

/**
 * The text of a single-quoted string in double quotes, its escapes as written (`'a\nb'` means a
 * newline, as in `"a\nb"`): only a `"` not already escaped gets a backslash.
 */
function doubleQuoted(body: string): string {
  let out = '"';
  let backslashes = 0;
  for (const character of body) {
    out += character === '"' && backslashes % 2 === 0 ? '\\"' : character;
    backslashes = character === "\\" ? backslashes + 1 : 0;
  }
  return out + '"';
}

/** PC111: an annotation after a rule on its line, which describes the next rule (or nothing). */
function trailingAnnotationDiagnostic(file: SourceFile, trailing: TrailingAnnotation): Diagnostic {
  const first = trailing.annotation[0]!;
  const last = trailing.annotation[trailing.annotation.length - 1]!;
  const span: Span = { file, start: first.startOffset, end: last.endOffset! + 1 };
  const text = file.text.slice(span.start, span.end);
  const shown = text.length > 40 ? text.slice(0, 40) + "…" : text;
  const head = `\`${shown}\` follows the \`${trailing.follows.image}\` rule on this line, but`;
  const message = trailing.describes
    ? `${head} an annotation describes the rule after it (here the \`${trailing.describes.image}\` rule on line ${trailing.describes.startLine})`
    : trailing.continues
      ? `${head} annotations go before a rule's \`allow\`, \`ask\` or \`deny\` (the \`${trailing.continues.image}\` on line ${trailing.continues.startLine} still belongs to the \`${trailing.follows.image}\` rule)`
      : `${head} an annotation describes the rule after it, and none follows`;
  return diagnostic("PC111", message, span, "put annotations on their own line before the rule they describe");
}

/**
 * The text of each enum written as a union of other languages (`enum Color = red | green`,
 * TypeScript's `type Color = "red" | "green";`, or with each `| member` on a line of its own):
 * the syntax error at the `=` says how to write it, so the `|` after it, and a `;` that ends it,
 * are part of that one mistake. Asked in the order of the text.
 */
class UnionLines {
  /** Each union, from its `=` to the end of its last line. */
  private readonly unions: { start: number; end: number }[] = [];
  private next = 0;

  constructor(tokens: readonly IToken[], text: string) {
    for (let i = 2; i < tokens.length; i++) {
      const keyword = tokens[i - 2]!.tokenType;
      if (tokens[i]!.tokenType !== T.SingleEq || (keyword !== T.Kw.enum && keyword !== T.Kw.type) || !tokenMatcher(tokens[i - 1]!, T.AnyName)) continue;
      // The line of the `=`, and the lines after it that start with `|`.
      let end = lineEnd(text, tokens[i]!.startOffset);
      for (PIPE_FIRST.lastIndex = end + 1; end < text.length && PIPE_FIRST.test(text); PIPE_FIRST.lastIndex = end + 1) end = lineEnd(text, end + 1);
      this.unions.push({ start: tokens[i]!.startOffset, end });
    }
  }

  /** Whether `offset` is in a union after its `=`; offsets must come in order. */
  holds(offset: number): boolean {
    while (this.next + 1 < this.unions.length && this.unions[this.next + 1]!.start < offset) this.next++;
    const union = this.unions[this.next];
    return union !== undefined && union.start < offset && offset < union.end;
  }
}

/** A line whose first character, after blanks, is `|`: tested where the line starts. */
const PIPE_FIRST = /[ \t]*\|/y;

/** The offset of the `\n` that ends the line of `offset`, or the end of the text. */
function lineEnd(text: string, offset: number): number {
  const end = text.indexOf("\n", offset);
  return end < 0 ? text.length : end;
}

/** Advice for the first unexpected character of a run (the lexer reports `&&` as one run), given the text after it. */
function hintForCharacter(character: string, after: string): string | undefined {
  const next = after.charAt(0);
  if (character === "-" && /[0-9]/.test(next)) return "the language has no negative numbers";
  // A `'` that no `'` closes on its line: the word after it was meant as a string (`== 'support`).
  if (character === "'") return `strings use double quotes: "${/^[^\s'",)\]}]*/.exec(after)![0] || "text"}"`;
  if (character === "&") return "write `and`";
  if (character === "|") return "write `or`";
  if (character === "!") return "write `not` (or `!=` for inequality)";
  if (character === "`") return 'strings use double quotes: "text"';
  if (character === "+") return "the language has no `+`: strings are not joined, nor numbers added";
  if (character === "~") return 'match a pattern with `like` and `*`, as in `args.url like "*evil*"`, or compare with `==`';
  if (/\p{L}/u.test(character)) return "names are ASCII letters, digits and `_`; other text goes in strings";
  return undefined;
}

/** hintForCharacter for the first character (a whole one: `𝔘` is two UTF-16 units) of a run at `offset` of `text`. */
function hintForFirstCharacter(run: string, text: string, offset: number): string | undefined {
  const first = String.fromCodePoint(run.codePointAt(0)!);
  // `context.t - 5m`: a `-` between two operands is a subtraction, which the language does not have.
  if (first === "-" && /[\w)\]"][ \t]*$/.test(text.slice(Math.max(0, offset - 40), offset)) && /^[ \t]+[\w("]/.test(text.slice(offset + 1, offset + 41))) {
    return "the language has no arithmetic: compare the values themselves, or have the caller send the computed value (in `context`)";
  }
  return hintForCharacter(first, text.slice(offset + first.length, offset + first.length + 40));
}

/**
 * A `-` inside a name (`create-pull-request`, `kb-rules`): one error for the whole name, with
 * the name as it can be written (no help after `reason`, whose error says to quote the words).
 * Returns undefined for any other `-`.
 */
function hyphenatedName(text: string, offset: number): { start: number; end: number; help?: string } | undefined {
  const isNameCharacter = (c: string): boolean => /[A-Za-z0-9_]/.test(c);
  if (text.charAt(offset) !== "-" || !isNameCharacter(text.charAt(offset - 1)) || !/[A-Za-z_]/.test(text.charAt(offset + 1))) return undefined;
  let start = offset;
  while (start > 0 && /[A-Za-z0-9_.-]/.test(text.charAt(start - 1))) start--;
  let end = offset + 1;
  while (end < text.length && /[A-Za-z0-9_.-]/.test(text.charAt(end))) end++;
  // After `reason`, the words were meant as a string, which that error says.
  if (/\breason\s+$/.test(text.slice(Math.max(0, start - 20), start))) return { start, end };
  const written = text.slice(start, end).replace(/-/g, "_");
  // A tool name with a `-` (common in MCP) cannot be written at all: the requests must use the spelling with `_`.
  const tool = written.includes(".") ? "; a tool is then requested by that name too" : "";
  return { start, end, help: `names are letters, digits and \`_\`, never \`-\`: write \`${written}\`${tool}` };
}

/**
 * A `;` is a separator of other languages: between rules (nothing separates them), between the
 * attributes of a record, the members of an enum or the items of a list (a `,` does), by the
 * brackets it is in. Inside parentheses nothing is certain: no help.
 */
function separatorHint(tokens: readonly IToken[], offset: number): string | undefined {
  const open: number[] = [];
  for (let i = 0; i < tokens.length && tokens[i]!.startOffset < offset; i++) {
    if (OPENERS.has(tokens[i]!.tokenType)) open.push(i);
    else if (CLOSERS.has(tokens[i]!.tokenType)) open.pop();
  }
  const at = open[open.length - 1];
  if (at === undefined) return RULE_SEPARATOR_HINT;
  const opener = tokens[at]!.tokenType;
  if (opener === T.LBracket) return "list items are separated by `,`";
  if (opener === T.LParen) return undefined;
  const owner = tokens[at - 1]?.tokenType;
  const declaration = tokens[at - 2]?.tokenType;
  if (owner === T.Kw.args || owner === T.Kw.agent || owner === T.Kw.user || owner === T.Kw.context || declaration === T.Kw.type) return "attributes are separated by `,`";
  if (declaration === T.Kw.enum) return "members are separated by `,`";
  return RULE_SEPARATOR_HINT;
}

const RULE_SEPARATOR_HINT = "rules need no separator: a rule ends where the next one starts";

/** Recovery can report the same place twice; keep the first message per offset. */
function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics.filter((d) => {
    const key = `${d.code}:${d.span?.start}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * Splits tokens at declaration keywords outside any brackets. Text that fits nowhere stays with
 * its neighbours, where the parser reports it. A `}` that closes a policy just before another
 * rule (an annotation or an effect) closed it early: it is left out, so the rules after it stay
 * in the policy, and returned in `strayCloses` to be reported.
 *
 * Rules written at the top level, outside any policy (what a reader of the rule examples writes
 * first), are kept together up to the next declaration, and returned in `rulesOutsidePolicies`:
 * there, `agent` in `when agent.team == …` is a condition's value, not an `agent { }`
 * declaration, so only a declaration's whole shape ends them.
 */
function splitDeclarations(tokens: readonly IToken[]): { chunks: IToken[][]; strayCloses: { brace: IToken; policyName: IToken | undefined }[]; rulesOutsidePolicies: ReadonlySet<IToken[]> } {
  const chunks: IToken[][] = [];
  const strayCloses: { brace: IToken; policyName: IToken | undefined }[] = [];
  const rulesOutsidePolicies = new Set<IToken[]>();
  let current: IToken[] = [];
  let depth = 0;
  const startChunk = (): void => {
    if (current.length > 0) chunks.push(current);
    current = [];
  };
  for (let i = 0; i < tokens.length; i++) {
    const token = tokens[i]!;
    const previous = current[current.length - 1];
    if (depth === 0 && rulesOutsidePolicies.has(current)) {
      if (declarationShapeAt(tokens, i)) startChunk();
    } else if (depth === 0 && previous?.tokenType === T.RBrace && current[0]?.tokenType === T.Kw.policy && startsRule(tokens, i)) {
      strayCloses.push({ brace: current.pop()!, policyName: current[1] });
      depth = 1;
    } else if (depth === 0 && (previous === undefined || (previous.tokenType === T.RBrace && current[0]?.tokenType !== T.Kw.policy)) && startsRule(tokens, i)) {
      // A rule where a declaration goes, after a whole declaration (or at the start): the rules
      // that follow are held together until the next declaration.
      startChunk();
      rulesOutsidePolicies.add(current);
    } else if (depth === 0 && DECLARATION_STARTS.has(token.tokenType) && previous !== undefined && !NAME_BEFORE.has(previous.tokenType)) {
      startChunk();
    }
    if (OPENERS.has(token.tokenType)) depth++;
    else if (CLOSERS.has(token.tokenType)) depth = Math.max(0, depth - 1);
    current.push(token);
  }
  startChunk();
  return { chunks, strayCloses, rulesOutsidePolicies };
}

/**
 * An annotation written after a rule on the rule's own line (`allow a.x @name("x")`). It reads as
 * part of that rule, but annotations describe the rule after them, so it is reported (PC111).
 */
interface TrailingAnnotation {
  /** The tokens of the first annotation of the run, `@` to `)`. */
  readonly annotation: readonly IToken[];
  /** The effect of the rule the annotation follows on its line. */
  readonly follows: IToken;
  /** The effect of the rule the annotation would describe, when one comes next (neither this nor `continues` at the end of the policy). */
  readonly describes?: IToken;
  /** The clause keyword that comes next instead (`when` on the following line): it continues `follows`'s rule. */
  readonly continues?: IToken;
}

/** A rule's tokens, or a declaration's written among rules (reported, and kept as a declaration). */
interface RulePart {
  readonly tokens: IToken[];
  readonly declaration: boolean;
}

/** Rules and the annotations that trail them (see `splitRules`). */
interface SplitRules {
  readonly body: RulePart[];
  readonly trailing: TrailingAnnotation[];
}

/**
 * Splits `policy NAME { rules }` into its rules (see `splitRules`). Returns undefined when the
 * header or the braces are not well formed: then the whole declaration goes through the parser,
 * which reports what is wrong.
 */
function splitPolicy(chunk: readonly IToken[]): (SplitRules & { close: IToken }) | undefined {
  if (chunk.length < 4 || !tokenMatcher(chunk[1]!, T.AnyName) || chunk[2]!.tokenType !== T.LBrace) return undefined;
  const close = chunk[chunk.length - 1]!;
  if (close.tokenType !== T.RBrace) return undefined;
  const split = splitRules(chunk, 3, chunk.length - 1);
  return split && { ...split, close };
}

/** Tokens after which a name is an operand (`args.branch == else`, `agent has else`): an enum member or attribute called `else`, not the mistake. */
const OPERAND_BEFORE: ReadonlySet<TokenType | undefined> = new Set([T.EqEq, T.NotEq, T.LessEq, T.GreaterEq, T.Less, T.Greater, T.Kw.in, T.Kw.contains, T.Kw.containsAny, T.Kw.containsAll, T.Kw.like, T.Kw.has]);

/**
 * Whether `tokens[index]` is an `else` written after a rule's condition (`… else deny`): not a
 * name or a name's last part (`allow else`, `allow fallback.else`, `Branch.else`, `a, else`).
 */
function mistakenElse(tokens: readonly IToken[], index: number): boolean {
  const before = tokens[index - 1]?.tokenType;
  return tokens[index]?.image === "else" && before !== T.Dot && before !== T.Comma && !EFFECT_KEYWORDS.has(before) && !OPERAND_BEFORE.has(before);
}

/**
 * Splits `tokens[from..to)` into rules: a rule starts at an annotation or an effect outside any
 * brackets (an effect word after `@`, `.` or `has` is a name, not a new rule). A declaration
 * written among the rules (`tool kb.reindex {}` inside a policy) is a part of its own, so the
 * rules around it still parse as rules. Returns undefined when the brackets are not balanced.
 *
 * Annotations written at the end of a rule's line are collected as `trailing`. Followed by a
 * rule, they stay with it (that is what they mean) and are reported. Followed by a clause of the
 * rule they trail (`deny x @name("n")` then `when …`), or by the end of the rules, they are
 * left out of the rules, so the clause still parses as the rule's own and the one mistake gives
 * one error. Followed by anything else, they are left to the parser.
 */
function splitRules(tokens: readonly IToken[], from: number, to: number): SplitRules | undefined {
  const body: RulePart[] = [];
  const trailing: TrailingAnnotation[] = [];
  let current: IToken[] = [];
  let inDeclaration = false;
  let effect: IToken | undefined;
  let depth = 0;
  const startPart = (declaration: boolean): void => {
    if (current.length > 0) body.push({ tokens: current, declaration: inDeclaration });
    current = [];
    effect = undefined;
    inDeclaration = declaration;
  };
  for (let i = from; i < to; i++) {
    const token = tokens[i]!;
    const previous = tokens[i - 1]?.tokenType;
    if (depth === 0 && declarationShapeAt(tokens, i)) startPart(true);
    else if (depth === 0) {
      const startsAnnotation = token.tokenType === T.At;
      // After `@`, `.`, `has`, `,` or the effect that starts the rule, an effect word is a name
      // (`allow deny.all`); after an effect word that was a name (`Kind.deny`), it starts a rule.
      // After `else`, it is part of that mistake, which the `else` reports, not a rule of its own.
      // After an annotation named `has` (`@has allow x`), it starts the annotated rule.
      const afterHas = previous === T.Kw.has && tokens[i - 2]?.tokenType !== T.At;
      const startsEffect = EFFECT_KEYWORDS.has(token.tokenType) && previous !== T.At && previous !== T.Dot && !afterHas && previous !== T.Comma && !mistakenElse(tokens, i - 1) && (effect === undefined || tokens[i - 1] !== effect);
      const end = startsAnnotation && effect && token.startLine === tokens[i - 1]!.endLine ? annotationsEnd(tokens, i, to) : undefined;
      if (end !== undefined && effect) {
        const annotation = tokens.slice(i, annotationEnd(tokens, i, end));
        const next = tokens[end];
        if (end === to || CLAUSE_KEYWORDS.has(next!.tokenType)) {
          trailing.push(end === to ? { annotation, follows: effect } : { annotation, follows: effect, continues: next! });
          i = end - 1;
          continue;
        }
        // Followed by a rule on the same line (`allow t @name("b") deny u`), the annotation leads
        // that rule, as written; only one that ends its line reads as the previous rule's.
        if (EFFECT_KEYWORDS.has(next!.tokenType) && next!.startLine !== tokens[end - 1]!.endLine) trailing.push({ annotation, follows: effect, describes: next! });
      }
      if ((startsAnnotation || startsEffect) && (effect || inDeclaration)) startPart(false);
      if (startsEffect) effect = token;
    }
    if (OPENERS.has(token.tokenType)) depth++;
    else if (CLOSERS.has(token.tokenType)) {
      depth--;
      if (depth < 0) return undefined;
    }
    current.push(token);
  }
  if (depth !== 0) return undefined;
  startPart(false);
  return { body, trailing };
}

/**
 * `text` as a code span in a message: in backticks, or, when it holds one, in two with spaces
 * (`` ` ``), as Markdown writes it, so the message reads right and renders right where it is
 * shown as Markdown (an editor's hover, a GitHub annotation) (audit a1 L2).
 */
function codeSpan(text: string): string {
  return text.includes("`") ? `\`\` ${text} \`\`` : `\`${text}\``;
}
