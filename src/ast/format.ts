import type { IToken } from "chevrotain";
import { diagnostic, type Diagnostic } from "../diagnostics/Diagnostic.js";
import { encodeString } from "../syntax/literals.js";
import { DocComment, Kw, LBrace, policyLexer, RBrace } from "../syntax/tokens.js";
import { chainTermsOf } from "./chains.js";
import type * as A from "./nodes.js";
import { printExpr } from "./printExpr.js";
import { subexpressions } from "./subexpressions.js";

/** Lines longer than this get their top-level `and`/`or` chains broken, one term a line. */
export const MAX_WIDTH = 100;

/** A file in canonical layout, or why it cannot be given one without changing what it means. */
export interface FormatResult {
  /** The canonical text; the input text, unchanged, when there are diagnostics. */
  readonly text: string;
  /**
   * What keeps the file as it is: its syntax errors (see `format`), or PC110 for each doc
   * comment that the layout would make document a different item.
   */
  readonly diagnostics: readonly Diagnostic[];
}

/**
 * The canonical layout of a parsed policy file, keeping every comment in `comments`: a parse
 * result's `comments` and `docComments` both (a `///` left out is lost), of a file without
 * syntax errors (where the parser recovered, the AST holds placeholders). The library exports
 * `format` (formatSources.ts), which parses and checks both.
 *
 * Comments are placed by the source tokens around them, never by where an item's span is
 * guessed to end: each printed line owns the source from its first token up to the first
 * token of the next line in the source. A one-line plain comment on the same source line as
 * the token before it stays at the end of the printed line; other comments go on lines of
 * their own, above the line they were written inside (below it when that line starts an item
 * the `///` above it documents: a plain comment between them would end what it documents), or
 * above the next line when written after the line's last token (below the line instead when it
 * ends a rule or declaration and the comment came with it: see `placeComments`). Printed so,
 * every comment is found in the same place by the next run, which makes formatting idempotent,
 * and no comment drifts into another rule.
 *
 * Doc comments are never printed at the end of a line: the parser gives a `///` to the item
 * that starts after it (`allow a /// x` on one line, `allow b` on the next: `x` documents
 * `allow b`), so it is printed on its own line above that item. A `///` that documents
 * nothing in the source but would document an item wherever the layout can put it (written
 * inside a declaration's first line, say) is reported as PC110 and the file left as it is.
 */
export function formatSource(ast: A.PolicyFile, text: string, comments: readonly IToken[]): FormatResult {
  return new Formatter(ast, text, comments).format();
}

/**
 * The canonical layout of a policy file (see {@link formatSource}). A file that cannot be
 * formatted without changing what a doc comment documents is returned unchanged.
 */
export function formatFile(ast: A.PolicyFile, text: string, comments: readonly IToken[]): string {
  return formatSource(ast, text, comments).text;
}

/** One printed line of code; `from` is the offset of its first source token. */
interface CodeLine {
  readonly kind: "line";
  readonly from: number;
  readonly indent: string;
  readonly text: string;
  /** Indentation of comments printed on their own lines before it (deeper before a `}`). */
  readonly commentIndent: string;
}

type Entry = CodeLine | { readonly kind: "blank" };

/**
 * Where comments go: on their own lines before a line, at the end of a line, on their own
 * lines right below a line (the last line of a rule or declaration: see `placeComments`), or
 * at the end of the file.
 */
interface Placement {
  readonly before: Map<CodeLine, IToken[]>;
  readonly after: Map<CodeLine, IToken[]>;
  readonly below: Map<CodeLine, IToken[]>;
  readonly atEnd: IToken[];
}

/** Where a rule's clauses (`when`, `reason`…) are printed, and the comments kept below a rule's last line. */
const CLAUSE_INDENT = "    ";

class Formatter {
  private readonly entries: Entry[] = [];
  private readonly comments: IToken[];
  /** The file's tokens other than comments, in source order. */
  private readonly tokens: IToken[];
  /**
   * Offsets a `///` right before documents an item at: where a declaration, field, enum member
   * or rule starts, and a rule's later annotations and its effect keyword (the parser gives a
   * `///` there to the rule as well).
   */
  private readonly docAnchors = new Set<number>();
  /**
   * Offsets of the items printed after a blank line: every declaration but the first, every
   * rule but a policy's first. The comments that came with the line before such an item are
   * kept below that line, so they do not read as the item's (see `placeComments`).
   */
  private readonly itemsAfterBlank = new Set<number>();
  /**
   * The `}` of each policy with rules (its offset), and where its last rule starts: the
   * comments that came with that rule's last line are kept below it too, at the clause indent,
   * not above the `}`, where they would read as the `}`'s (see `placeComments`).
   */
  private readonly lastRuleOfPolicyEnd = new Map<number, number>();
  /**
   * Where each declaration and each rule starts (a rule: at its first annotation, or its effect
   * when it has none): the only lines a heading's blank line is kept above (see `headingAbove`).
   */
  private readonly itemStarts = new Set<number>();

  constructor(
    private readonly ast: A.PolicyFile,
    private readonly text: string,
    comments: readonly IToken[],
  ) {
    this.comments = [...comments].sort((a, b) => a.startOffset - b.startOffset);
    // The AST keeps few keyword positions (`risk`, `when`, `args`…); the tokens give them exactly.
    this.tokens = policyLexer.tokenize(text).tokens;
  }

  format(): FormatResult {
    for (const [i, decl] of this.ast.declarations.entries()) {
      if (i > 0) this.itemsAfterBlank.add(decl.span.start);
      this.blank();
      this.itemStarts.add(decl.span.start);
      if (decl.kind === "PolicyDecl") for (const rule of decl.rules) this.itemStarts.add(rule.annotations[0]?.span.start ?? rule.effectSpan.start);
      this.declaration(decl);
      this.noteDocAnchors(decl);
    }
    const placement = this.placeComments();
    const misplaced = this.docsChangingOwner(placement);
    if (misplaced.length > 0) {
      const diagnostics = misplaced.map((doc) =>
        diagnostic(
          "PC110",
          "`fmt` cannot place this doc comment: here it documents nothing, but on a line of its own it would document the item below it",
          { file: this.ast.span.file, start: doc.startOffset, end: doc.endOffset! + 1 },
          "move it to the line above the item it describes, or make it a plain `//` comment",
        ),
      );
      return { text: this.text, diagnostics };
    }
    return { text: this.render(placement), diagnostics: [] };
  }

  // ── layout: the lines of code, in print order ──────────────────────────────

  private line(from: number, indent: string, text: string, commentIndent = indent): void {
    this.entries.push({ kind: "line", from, indent, text, commentIndent });
  }

  /** A block's closing `}`; comments before it belong inside the block. */
  private close(braceOffset: number, indent: string): void {
    this.line(braceOffset, indent, "}", indent + "  ");
  }

  private blank(): void {
    if (this.entries.length > 0 && this.entries[this.entries.length - 1]!.kind !== "blank") this.entries.push({ kind: "blank" });
  }

  /**
   * The column of `offset` in the source, as a terminal shows it: a tab goes to the next multiple
   * of 8, so a tab-indented comment below a rule indented with spaces is as deep as it looks.
   */
  private columnOf(offset: number): number {
    const lineStart = Math.max(this.text.lastIndexOf("\n", offset - 1), this.text.lastIndexOf("\r", offset - 1)) + 1;
    let column = 0;
    for (let i = lineStart; i < offset; i++) column = this.text.charCodeAt(i) === 9 ? column - (column % 8) + 8 : column + 1;
    return column;
  }

  /** Index of the first token that starts at or after `offset`. */
  private tokenIndexAt(offset: number): number {
    let low = 0;
    let high = this.tokens.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.tokens[middle]!.startOffset < offset) low = middle + 1;
      else high = middle;
    }
    return low;
  }

  /** Offset of the token just before `offset`: the keyword before a clause's expression, the operator before a chain term. */
  private tokenBefore(offset: number): number {
    return this.tokens[this.tokenIndexAt(offset) - 1]?.startOffset ?? offset;
  }

  private declaration(decl: A.Declaration): void {
    switch (decl.kind) {
      case "EnumDecl":
        return this.enumDecl(decl);
      case "TypeDecl":
        return this.fieldsDecl(`type ${decl.name.name}`, decl.span, decl.fields, true);
      case "EntityDecl":
        return this.fieldsDecl(decl.entity, decl.span, decl.fields, false);
      case "ToolDecl":
        return this.toolDecl(decl);
      case "IntentDecl":
        return this.intentDecl(decl);
      case "PolicyDecl":
        return this.policyDecl(decl);
    }
  }

  /**
   * Whether a comment starts strictly between a block's `{` and `}`: then the block is printed
   * one part a line. (A comment before the `{` ends up beside or above the block's first
   * line whatever the layout, so it does not count: counting it would break the block, move
   * the comment out, and the next run would join the block again.)
   */
  private hasCommentsIn(start: number, end: number): boolean {
    let low = 0;
    let high = this.comments.length;
    while (low < high) {
      const middle = (low + high) >> 1;
      if (this.comments[middle]!.startOffset <= start) low = middle + 1;
      else high = middle;
    }
    return low < this.comments.length && this.comments[low]!.startOffset < end;
  }

  /** Offset of the first `{` after `offset`: the one that opens a declaration's block. */
  private openingBrace(offset: number): number {
    let i = this.tokenIndexAt(offset);
    while (i < this.tokens.length && this.tokens[i]!.tokenType !== LBrace) i++;
    return this.tokens[i]?.startOffset ?? offset;
  }

  private enumDecl(decl: A.EnumDecl): void {
    const inline = decl.members.length === 0 ? `enum ${decl.name.name} {}` : `enum ${decl.name.name} { ${decl.members.map((m) => m.name.name).join(", ")} }`;
    if (!this.hasCommentsIn(this.openingBrace(decl.span.start), decl.span.end - 1) && inline.length <= MAX_WIDTH) return this.line(decl.span.start, "", inline);
    this.line(decl.span.start, "", `enum ${decl.name.name} {`);
    decl.members.forEach((member, i) => this.line(member.span.start, "  ", member.name.name + (i < decl.members.length - 1 ? "," : "")));
    this.close(decl.span.end - 1, "");
  }

  private field(field: A.Field): string {
    return `${field.name.name}${field.optional ? "?" : ""}: ${printType(field.type)}`;
  }

  /** `type`/`agent`/`user`/`context`: short comment-free types stay on one line; entities always one field a line. */
  private fieldsDecl(head: string, span: A.Declaration["span"], fields: readonly A.Field[], mayInline: boolean): void {
    const inline = `${head} { ${fields.map((f) => this.field(f)).join(", ")} }`;
    if (mayInline && !this.hasCommentsIn(this.openingBrace(span.start), span.end - 1) && inline.length <= MAX_WIDTH && fields.length > 0) return this.line(span.start, "", inline);
    this.line(span.start, "", `${head} {`);
    for (const field of fields) this.line(field.span.start, "  ", this.field(field));
    this.close(span.end - 1, "");
  }

  /** An empty block without comments inside, as `tool kb.reindex {}`: one line. */
  private emptyBlock(span: A.Declaration["span"], head: string, empty: boolean): boolean {
    if (!empty || this.hasCommentsIn(this.openingBrace(span.start), span.end - 1)) return false;
    this.line(span.start, "", `${head} {}`);
    return true;
  }

  private toolDecl(decl: A.ToolDecl): void {
    if (this.emptyBlock(decl.span, `tool ${decl.name.text}`, !decl.risk && decl.returns.length === 0 && !decl.args)) return;
    this.line(decl.span.start, "", `tool ${decl.name.text} {`);
    if (decl.risk) this.line(this.tokenBefore(decl.risk.span.start), "  ", `risk ${decl.risk.name}`);
    if (decl.returns.length > 0) this.line(this.tokenBefore(decl.returns[0]!.span.start), "  ", `returns ${decl.returns.map((r) => r.name).join(", ")}`);
    const block = decl.args ? this.argsBlock(decl) : undefined;
    if (decl.args && block) {
      const args = decl.args;
      const inline = `args { ${args.map((f) => this.field(f)).join(", ")} }`;
      if (args.length === 0) this.line(block.keyword, "  ", "args {}");
      else if (!this.hasCommentsIn(block.open, block.close) && inline.length + 2 <= MAX_WIDTH) this.line(block.keyword, "  ", inline);
      else {
        this.line(block.keyword, "  ", "args {");
        for (const field of args) this.line(field.span.start, "    ", this.field(field));
        this.close(block.close, "  ");
      }
    }
    this.close(decl.span.end - 1, "");
  }

  /** Offsets of a tool's `args`, its `{` and its `}`: the `args` keyword followed by `{` directly in the tool's body. */
  private argsBlock(decl: A.ToolDecl): { keyword: number; open: number; close: number } | undefined {
    let depth = 0;
    for (let i = this.tokenIndexAt(decl.span.start); i < this.tokens.length && this.tokens[i]!.startOffset < decl.span.end; i++) {
      const token = this.tokens[i]!;
      const next = this.tokens[i + 1];
      if (depth === 1 && token.tokenType === Kw.args && next?.tokenType === LBrace) {
        // Fields hold no braces, so the first `}` closes the block.
        let close = i + 2;
        while (close < this.tokens.length && this.tokens[close]!.tokenType !== RBrace) close++;
        return { keyword: token.startOffset, open: next.startOffset, close: this.tokens[close]?.startOffset ?? decl.span.end - 1 };
      }
      if (token.tokenType === LBrace) depth++;
      else if (token.tokenType === RBrace) depth--;
    }
    return undefined;
  }

  private intentDecl(decl: A.IntentDecl): void {
    if (this.emptyBlock(decl.span, `intent ${decl.name.text}`, decl.tools.length === 0 && !decl.maxRisk)) return;
    this.line(decl.span.start, "", `intent ${decl.name.text} {`);
    if (decl.tools.length > 0) this.line(this.tokenBefore(decl.tools[0]!.span.start), "  ", `tools ${decl.tools.map((t) => t.text).join(", ")}`);
    if (decl.maxRisk) this.line(this.tokenBefore(decl.maxRisk.span.start), "  ", `max_risk ${decl.maxRisk.name}`);
    this.close(decl.span.end - 1, "");
  }

  private policyDecl(decl: A.PolicyDecl): void {
    if (this.emptyBlock(decl.span, `policy ${decl.name.name}`, decl.rules.length === 0)) return;
    this.line(decl.span.start, "", `policy ${decl.name.name} {`);
    decl.rules.forEach((rule, i) => {
      if (i > 0) {
        this.blank();
        this.itemsAfterBlank.add(rule.span.start);
      }
      this.rule(rule);
    });
    const lastRule = decl.rules[decl.rules.length - 1];
    if (lastRule !== undefined) this.lastRuleOfPolicyEnd.set(decl.span.end - 1, lastRule.span.start);
    this.close(decl.span.end - 1, "");
  }

  private rule(rule: A.Rule): void {
    for (const annotation of rule.annotations) {
      const args = annotation.args.length > 0 ? `(${annotation.args.map((a) => (a.kind === "StringLiteral" ? encodeString(a.value) : printExpr(a))).join(", ")})` : "";
      this.line(annotation.span.start, "  ", `@${annotation.name.name}${args}`);
    }
    this.line(rule.effectSpan.start, "  ", `${rule.effect} ${rule.targets.map((t) => t.text).join(", ")}`);
    if (rule.when) this.condition("when", rule.when);
    if (rule.unless) this.condition("unless", rule.unless);
    if (rule.reason) this.line(this.tokenBefore(rule.reason.span.start), "    ", `reason ${encodeString(rule.reason.value)}`);
    if (rule.grant) this.line(rule.grant.span.start, "    ", `grant ${rule.grant.scopes.map((s) => encodeString(s.value)).join(", ")} for ${rule.grant.ttl.text}`);
    if (rule.revoke) this.line(rule.revoke.span.start, "    ", "revoke");
  }

  /** `when X`; too long a line breaks at the top-level `and`/`or`, one term a line. */
  private condition(keyword: "when" | "unless", expr: A.Expr): void {
    const from = this.tokenBefore(expr.span.start);
    const oneLine = `${keyword} ${printExpr(expr)}`;
    const operator = expr.kind === "Binary" && (expr.operator === "and" || expr.operator === "or") ? expr.operator : undefined;
    // Break when too long, or when the author already broke it: a chain laid out one term a line stays so.
    const authorBroke = this.text.slice(expr.span.start, expr.span.end).includes("\n");
    if (!operator || (4 + oneLine.length <= MAX_WIDTH && !authorBroke)) return this.conditionLine(from, `${keyword} `, expr);
    const terms = chainTermsOf(expr, operator);
    this.conditionLine(from, `${keyword} `, terms[0]!);
    const pad = " ".repeat(Math.max(0, keyword.length + 1 - operator.length - 1));
    for (const term of terms.slice(1)) this.conditionLine(this.tokenBefore(term.span.start), `${pad}${operator} `, term);
  }

  /**
   * One line of a condition, `prefix` then `expr`, with list literals one element a line (an
   * allow-list of commands, each with its comment after it): those the author wrote so, and
   * each other list of two or more elements whose own line is wider than MAX_WIDTH, the line
   * it is printed on when the other lists of the line are broken (from the `]` of the list
   * before it, or the line's start, to the `[` of the list after it, or the line's end). A
   * line wide for other reasons (a parenthesised `or` of many short lists) keeps its lists:
   * breaking them would not make it fit. The line is printed once, whatever the number of its
   * lists. `[` ends a line, each element is a line of its own (its comments stay with it), and
   * `]` starts the line that goes on with the rest, at the indent of the line with the `[`.
   * A second run finds the lists broken here written so, and the others' own lines as wide as
   * before: idempotent.
   */
  private conditionLine(from: number, prefix: string, expr: A.Expr): void {
    const { written, others } = this.listsOf(expr);
    const candidates = [...written, ...others.filter((list) => list.elements.length > 1)].sort((a, b) => a.span.start - b.span.start);
    const writtenSet = new Set(written);
    const indent = CLAUSE_INDENT + /^ */.exec(prefix)![0];
    const pieces = this.piecesAround(prefix + printExpr(expr, this.marksFor(candidates)));
    const broken = candidates.filter((list, i) => {
      if (writtenSet.has(list)) return true;
      const ownLine = `${i === 0 ? "" : "]"}${pieces[i]}${printExpr(list)}${pieces[i + 1]}${i === candidates.length - 1 ? "" : "["}`;
      return (i === 0 ? CLAUSE_INDENT : indent).length + ownLine.length > MAX_WIDTH;
    });
    for (const line of this.linesWithLists(from, CLAUSE_INDENT, indent, prefix, expr, "", broken)) this.line(line.from, line.indent, line.text);
  }

  /** Each list of `lists` printed as a mark no string holds (a string prints NUL as `\u0000`), to split the printed text there. */
  private marksFor(lists: readonly A.ListLiteral[]): Map<A.Expr, string> {
    return new Map<A.Expr, string>(lists.map((list, i) => [list, `\u0000${i}\u0000`]));
  }

  /** The text between the marks of `marksFor`: one piece more than there are lists marked. */
  private piecesAround(printed: string): string[] {
    return printed.split(/\u0000\d+\u0000/);
  }

  /**
   * The printed lines of `head`, `expr` and `tail` with the lists of `broken` (in source order)
   * one element a line: the first line at `firstIndent`, the `]` lines at `indent`, the elements
   * two columns deeper. An element's own lists written one element a line are broken so too,
   * two columns deeper again, so a comment inside one stays with its element.
   */
  private linesWithLists(from: number, firstIndent: string, indent: string, head: string, expr: A.Expr, tail: string, broken: readonly A.ListLiteral[]): { from: number; indent: string; text: string }[] {
    if (broken.length === 0) return [{ from, indent: firstIndent, text: head + printExpr(expr) + tail }];
    const pieces = this.piecesAround(head + printExpr(expr, this.marksFor(broken)) + tail);
    const lines: { from: number; indent: string; text: string }[] = [];
    let lineFrom = from;
    broken.forEach((list, i) => {
      lines.push(i === 0 ? { from: lineFrom, indent: firstIndent, text: `${pieces[0]}[` } : { from: lineFrom, indent, text: `]${pieces[i]}[` });
      list.elements.forEach((element, j) => {
        const comma = j < list.elements.length - 1 ? "," : "";
        const elementIndent = `${indent}  `;
        lines.push(...this.linesWithLists(element.span.start, elementIndent, elementIndent, "", element, comma, this.listsOf(element).written));
      });
      lineFrom = list.span.end - 1;
    });
    lines.push({ from: lineFrom, indent, text: `]${pieces[broken.length]}` });
    return lines;
  }

  /**
   * The outermost list literals of `expr`, in source order: those written one element a line,
   * and the others. A list inside another goes with its element (see `linesWithLists`).
   */
  private listsOf(expr: A.Expr): { written: A.ListLiteral[]; others: A.ListLiteral[] } {
    const written: A.ListLiteral[] = [];
    const others: A.ListLiteral[] = [];
    // Iterative, as printExpr is: a 10,000-term chain must not exhaust the stack.
    const pending: A.Expr[] = [expr];
    while (pending.length > 0) {
      const node = pending.pop()!;
      if (node.kind === "ListLiteral" && node.elements.length > 0) {
        (this.writtenOneElementALine(node) ? written : others).push(node);
        continue;
      }
      pending.push(...[...subexpressions(node)].reverse());
    }
    return { written, others };
  }

  /**
   * Whether a line break comes between a list's own parts (after its `[`, between two elements,
   * before its `]`), not only inside an element: a list inside a broken one is not broken by it.
   */
  private writtenOneElementALine(list: A.ListLiteral): boolean {
    const bounds = [list.span.start + 1, ...list.elements.flatMap((element) => [element.span.start, element.span.end]), list.span.end - 1];
    for (let i = 0; i < bounds.length; i += 2) if (/[\r\n]/.test(this.text.slice(bounds[i], bounds[i + 1]))) return true;
    return false;
  }

  private noteDocAnchors(decl: A.Declaration): void {
    this.docAnchors.add(decl.span.start);
    switch (decl.kind) {
      case "EnumDecl":
        for (const member of decl.members) this.docAnchors.add(member.span.start);
        break;
      case "TypeDecl":
      case "EntityDecl":
        for (const field of decl.fields) this.docAnchors.add(field.span.start);
        break;
      case "ToolDecl":
        for (const field of decl.args ?? []) this.docAnchors.add(field.span.start);
        break;
      case "PolicyDecl":
        for (const rule of decl.rules) {
          this.docAnchors.add(rule.span.start);
          for (const annotation of rule.annotations) this.docAnchors.add(annotation.span.start);
          this.docAnchors.add(rule.effectSpan.start);
        }
        break;
      case "IntentDecl":
        break;
    }
  }

  // ── comments ────────────────────────────────────────────────────────────────

  /**
   * Gives each comment its place. A line owns the source from its first token to the first
   * token of the line after it in the source (not in print order: a tool's `risk` is printed
   * first wherever it was written). Comments before the first line go before it.
   *
   * Comments between the tokens of one line stay with that line: at its end when they can
   * (each on the source line of the token before it, and one-line plain comments), else all
   * of them on their own lines above it, so none drifts into the next rule. Comments after
   * the line's last token end it while they can, and the rest go above the next line.
   *
   * Except before an item printed after a blank line (a rule but a policy's first, a
   * declaration but the first): there the line is the last of the item before, and what
   * came with it stays below it, on lines of its own, rather than above the next item, where
   * it would read as that item's. That is a comment that cannot end the line though it was
   * written on the line's own source line (a second `//` when the line joins several source
   * lines; a block comment that starts there and spans lines, and what follows it where it
   * ends), the comments written between the line's tokens when they go on lines of their own
   * (a `///` among them too, while a plain comment follows it), and the comments written on
   * the lines right below it (no blank line between) when a blank line separates them from
   * what follows. Printed below the line with no blank line between them, and followed by the
   * blank line before the item, they are found in the same place by the next run. Below a
   * policy's last rule, the line before its `}`, the same, but of the comments on the lines
   * right below it, only those indented deeper than the rule (as they are printed there); one
   * at the rule's indent, or after a blank line, is about the policy's end: above the `}`.
   */
  private placeComments(): Placement {
    const lines = this.entries.filter((e): e is CodeLine => e.kind === "line").sort((a, b) => a.from - b.from);
    const placement: Placement = { before: new Map(), after: new Map(), below: new Map(), atEnd: [] };
    let waiting: IToken[] = [];
    let index = 0;
    const owned = (end: number): IToken[] => {
      const found: IToken[] = [];
      while (index < this.comments.length && this.comments[index]!.startOffset < end) found.push(this.comments[index++]!);
      return found;
    };
    lines.forEach((line, i) => {
      const end = lines[i + 1]?.from ?? Number.POSITIVE_INFINITY;
      const endsItem = this.itemsAfterBlank.has(end);
      // Of the comments after the line that cannot end it, those kept below it, and the rest, for above the next line.
      const keep = (withLine: readonly IToken[], after: readonly IToken[]): [IToken[], IToken[]] => {
        if (endsItem) return this.keptBelow(withLine, after, end);
        const ruleStart = this.lastRuleOfPolicyEnd.get(end);
        if (ruleStart === undefined) return [[], [...withLine, ...after]];
        // A policy's last rule: those written on or inside the line, and those on the lines right
        // below it indented deeper than the rule (as they are printed there, so a second run keeps
        // them); one at the rule's indent, or after a blank line, is about the policy's end.
        let hugging = 0;
        while (hugging < after.length && !this.blankLineBefore(after[hugging]!.startOffset) && this.columnOf(after[hugging]!.startOffset) > this.columnOf(ruleStart)) hugging++;
        const [below, rest] = this.keptBelow([...withLine, ...after.slice(0, hugging)], [], end);
        return [below, [...rest, ...after.slice(hugging)]];
      };
      waiting.push(...owned(line.from));
      const inside = owned(this.tokenBefore(end));
      const tail = owned(end);
      let candidates = [...inside, ...tail];
      if (!inside.every((c) => this.staysAtLineEnd(c))) {
        // Above the line, unless that would change what a `///` documents: make one written
        // inside the line document the line's item, or come between the item and the `///`
        // above it (a rule's doc comment, with a `//` inside its target list below it). Then
        // below the line, with what follows it, so the comments keep their order.
        const documented = waiting[waiting.length - 1]?.tokenType === DocComment;
        const insideDocs = inside.some((c) => c.tokenType === DocComment);
        if ((documented || insideDocs) && this.docAnchors.has(line.from)) {
          placement.before.set(line, waiting);
          placement.after.set(line, []);
          // A `///` printed last below the line would document the next item: `keptBelow` leaves it above it.
          const onLine = this.writtenOnLine(tail);
          const [below, rest] = keep([...inside, ...tail.slice(0, onLine)], tail.slice(onLine));
          placement.below.set(line, below);
          waiting = rest;
          return;
        }
        waiting.push(...inside);
        candidates = tail;
      }
      placement.before.set(line, waiting);
      const trailing: IToken[] = [];
      const spilled: IToken[] = [];
      const ownLines: IToken[] = [];
      for (const comment of candidates) {
        // Once one comment goes on its own line (or a `//` ends the line), the later ones follow it, so their order is kept.
        const lineEnded = spilled.length > 0 || ownLines.length > 0 || trailing.some((c) => c.image.startsWith("//"));
        if (!lineEnded && this.staysAtLineEnd(comment)) trailing.push(comment);
        else if (ownLines.length === 0 && this.staysAtLineEnd(comment)) spilled.push(comment);
        else ownLines.push(comment);
      }
      placement.after.set(line, trailing);
      // Those of `ownLines` written on the line (a block comment spanning lines, starting there) are a prefix of it, as of `tail`.
      const onLine = Math.max(0, this.writtenOnLine(tail) - (tail.length - ownLines.length));
      const [below, rest] = keep([...spilled, ...ownLines.slice(0, onLine)], ownLines.slice(onLine));
      placement.below.set(line, below);
      waiting = rest;
    });
    placement.atEnd.push(...waiting, ...owned(Number.POSITIVE_INFINITY));
    return placement;
  }

  /**
   * Of the comments after the last line of an item that cannot end that line, those kept
   * below it (see `placeComments`), and the rest, for above the next item: all of `withLine`
   * (written on or inside the line), then the comments of `after` written right below the
   * line, when a blank line comes after them (`next`: the offset of the next item); but never
   * a `///` last.
   */
  private keptBelow(withLine: readonly IToken[], after: readonly IToken[], next: number): [IToken[], IToken[]] {
    let hugging = 0;
    while (hugging < after.length && !this.blankLineBefore(after[hugging]!.startOffset)) hugging++;
    // Without a blank line after them, they are as close to the next item: they stay above it.
    const kept = [...withLine, ...(this.blankLineBefore(after[hugging]?.startOffset ?? next) ? after.slice(0, hugging) : [])];
    // A `///` printed last below the line would document the next item, across the blank line
    // before it: it goes above that item, and what follows it too, so the order is kept. (One
    // with a plain comment after it documents nothing, there as where it was written.)
    let taken = kept.length;
    while (taken > 0 && kept[taken - 1]!.tokenType === DocComment) taken--;
    return [kept.slice(0, taken), [...kept.slice(taken), ...after.slice(kept.length - withLine.length)]];
  }

  /**
   * How many of `tail` (comments after a line's last token) are written on that token's source
   * line: each starts on the line where the token or the comment before it ends (a block
   * comment may span lines). A `///` ends them: written there, it documents the next item.
   */
  private writtenOnLine(tail: readonly IToken[]): number {
    if (tail.length === 0) return 0;
    let from = this.tokens[this.tokenIndexAt(tail[0]!.startOffset) - 1]?.endOffset ?? -1;
    let count = 0;
    for (const comment of tail) {
      if (comment.tokenType === DocComment || /[\r\n]/.test(this.text.slice(from + 1, comment.startOffset))) break;
      from = comment.endOffset!;
      count++;
    }
    return count;
  }

  /** A one-line plain comment on the same source line as the token before it. */
  private staysAtLineEnd(comment: IToken): boolean {
    if (comment.tokenType === DocComment || /[\r\n]/.test(comment.image)) return false;
    const previous = this.tokens[this.tokenIndexAt(comment.startOffset) - 1];
    return previous !== undefined && !/[\r\n]/.test(this.text.slice(previous.endOffset! + 1, comment.startOffset));
  }

  /**
   * Doc comments that would document another item after formatting. In the source, a `///`
   * documents the item whose first token follows it with only blank space and other `///`
   * lines between (the parser's rule); in the output, the same holds for the comments printed
   * on their own lines right before a line that starts an item.
   */
  private docsChangingOwner(placement: Placement): IToken[] {
    const documenting = new Set<IToken>();
    for (const [line, before] of placement.before) {
      if (!this.docAnchors.has(line.from)) continue;
      for (let i = before.length - 1; i >= 0 && before[i]!.tokenType === DocComment; i--) documenting.add(before[i]!);
    }
    return this.comments.filter((c) => c.tokenType === DocComment && this.documentsInSource(c) !== documenting.has(c));
  }

  private documentsInSource(doc: IToken): boolean {
    const next = this.tokens[this.tokenIndexAt(doc.startOffset)];
    if (!next || !this.docAnchors.has(next.startOffset)) return false;
    return /^(?:\s|\/\/\/[^\r\n]*)*$/.test(this.text.slice(doc.endOffset! + 1, next.startOffset));
  }

  // ── output ──────────────────────────────────────────────────────────────────

  private render(placement: Placement): string {
    const out: string[] = [];
    for (const entry of this.entries) {
      if (entry.kind === "blank") {
        if (out.length > 0 && out[out.length - 1] !== "") out.push("");
        continue;
      }
      const before = placement.before.get(entry) ?? [];
      for (const comment of before) this.ownLine(out, comment, entry.commentIndent);
      if (this.headingAbove(entry, before)) out.push("");
      const trailing = (placement.after.get(entry) ?? []).map((c) => ` ${c.image.trimEnd()}`).join("");
      out.push(entry.indent + entry.text + trailing);
      // A rule's comments at its clauses' indent; a declaration's at the margin, as the declaration.
      for (const comment of placement.below.get(entry) ?? []) this.ownLine(out, comment, entry.indent === "" ? "" : CLAUSE_INDENT, false);
    }
    for (const comment of placement.atEnd) this.ownLine(out, comment, "");
    while (out.length > 0 && out[out.length - 1] === "") out.pop();
    return out.join("\n") + "\n";
  }

  /**
   * A comment on its own lines; a blank line before it in the source is kept (but never right
   * after a `{`, nor among the comments kept below a line: one would part them from the line).
   */
  private ownLine(out: string[], comment: IToken, indent: string, keepBlankLine = true): void {
    const last = out[out.length - 1];
    if (keepBlankLine && this.blankLineBefore(comment.startOffset) && last !== undefined && last !== "" && !last.endsWith("{")) out.push("");
    const [first, ...rest] = comment.image.split("\n");
    out.push(indent + first!.trimEnd());
    // Continuation lines of a block comment move as one block to one space past the comment's
    // indent, keeping their indentation relative to each other (commented-out rules stay
    // readable); blank ones stay blank. Printed again, they are where they were: idempotent.
    const lines = rest.map((line) => line.trimEnd());
    const margin = Math.min(...lines.filter((line) => line !== "").map((line) => line.length - line.trimStart().length));
    for (const line of lines) out.push(line === "" ? "" : `${indent} ${line.slice(margin)}`);
  }

  /**
   * Whether the comments printed above `line` end with a heading that a blank line parted from
   * the line in the source (`// ===== Outbound =====`, then a blank line, then a group of
   * rules): the blank line is kept, or the heading would read as the comment of that one line.
   * Only above a line that starts a declaration or a rule: inside a rule (between an annotation
   * and the effect, or the effect and `when`) a blank line would part the rule in two. Not
   * after a `///` either, which documents the line below it either way.
   */
  private headingAbove(line: CodeLine, above: readonly IToken[]): boolean {
    const last = above[above.length - 1];
    // A comment written inside the line (`@ /* c */ name("x")`) and moved above it is no heading.
    if (last === undefined || last.tokenType === DocComment || !this.itemStarts.has(line.from) || last.endOffset! >= line.from) return false;
    return this.text.slice(last.endOffset! + 1, line.from).trim() === "" && this.blankLineBefore(line.from);
  }

  private blankLineBefore(offset: number): boolean {
    let i = offset - 1;
    let breaks = 0;
    while (i >= 0 && /[ \t\r\n]/.test(this.text[i]!)) {
      if (this.text[i] === "\n") breaks++;
      i--;
    }
    return breaks >= 2;
  }
}

export function printType(type: A.TypeRef): string {
  return type.argument ? `${type.name.name}<${printType(type.argument)}>` : type.name.name;
}
