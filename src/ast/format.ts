import type { IToken } from "chevrotain";
import { encodeString } from "../syntax/literals.js";
import { chainTermsOf } from "./chains.js";
import type * as A from "./nodes.js";
import { printExpr } from "./printExpr.js";

/** Lines longer than this get their top-level `and`/`or` chains broken, one term a line. */
export const MAX_WIDTH = 100;

/**
 * The canonical layout of a policy file. Comments (plain and `///`) are re-attached by source
 * position: each goes before the first item that starts after it, or stays at the end of the
 * line of the item it trailed. Formatting is idempotent, and parsing the output gives the same
 * AST (a property test checks both).
 */
export function formatFile(ast: A.PolicyFile, text: string, comments: readonly IToken[]): string {
  return new Formatter(text, comments).file(ast);
}

class Formatter {
  private readonly lines: string[] = [];
  private readonly comments: IToken[];
  private next = 0;

  constructor(
    private readonly text: string,
    comments: readonly IToken[],
  ) {
    this.comments = [...comments].sort((a, b) => a.startOffset - b.startOffset);
  }

  private lineOf(offset: number): number {
    let line = 0;
    for (let i = 0; i < offset && i < this.text.length; i++) if (this.text.charCodeAt(i) === 10) line++;
    return line;
  }

  /** Comments before `offset` go on their own lines, at `indent`; a blank line before one in the source is kept. */
  private leading(offset: number, indent: string): void {
    while (this.next < this.comments.length && this.comments[this.next]!.startOffset < offset) {
      const comment = this.comments[this.next++]!;
      const before = this.text.slice(0, comment.startOffset);
      const blankBefore = /\n[ \t]*\n[ \t]*$/.test(before) && this.lines.length > 0 && this.lines[this.lines.length - 1] !== "" && !/\{$/.test(this.lines[this.lines.length - 1]!);
      if (blankBefore) this.lines.push("");
      for (const line of comment.image.split("\n")) this.lines.push(indent + line.trimEnd().replace(/^\s+/, line === comment.image.split("\n")[0] ? "" : " "));
    }
  }

  /** A comment that starts on the same source line as `endOffset` stays at the end of the last printed line. */
  private trailing(endOffset: number): void {
    const comment = this.comments[this.next];
    if (!comment || comment.image.includes("\n")) return;
    const between = this.text.slice(endOffset, comment.startOffset);
    if (between.includes("\n") || !/^[\s,]*$/.test(between)) return;
    this.lines[this.lines.length - 1] += ` ${comment.image.trimEnd()}`;
    this.next++;
  }

  /** Emits one printed line for a source item, with its comments. */
  private item(start: number, end: number, indent: string, text: string): void {
    this.leading(start, indent);
    const [first, ...rest] = text.split("\n");
    this.lines.push(indent + first);
    for (const line of rest) this.lines.push(line === "" ? "" : indent + line);
    this.trailing(end);
  }

  private blank(): void {
    if (this.lines.length > 0 && this.lines[this.lines.length - 1] !== "") this.lines.push("");
  }

  file(ast: A.PolicyFile): string {
    for (const decl of ast.declarations) {
      this.blank();
      this.declaration(decl);
    }
    this.leading(Number.POSITIVE_INFINITY, "");
    while (this.lines.length > 0 && this.lines[this.lines.length - 1] === "") this.lines.pop();
    return this.lines.join("\n") + "\n";
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

  /** Whether any comment starts inside the span: then the item must be printed one part a line. */
  private hasCommentsIn(span: { start: number; end: number }): boolean {
    return this.comments.some((c, i) => i >= this.next && c.startOffset > span.start && c.startOffset < span.end);
  }

  private enumDecl(decl: A.EnumDecl): void {
    const inline = decl.members.length === 0 ? `enum ${decl.name.name} {}` : `enum ${decl.name.name} { ${decl.members.map((m) => m.name.name).join(", ")} }`;
    if (!this.hasCommentsIn(decl.span) && inline.length <= MAX_WIDTH) return this.item(decl.span.start, decl.span.end, "", inline);
    this.item(decl.span.start, decl.name.span.end, "", `enum ${decl.name.name} {`);
    decl.members.forEach((member, i) => this.item(member.span.start, member.span.end, "  ", member.name.name + (i < decl.members.length - 1 ? "," : "")));
    this.close(decl.span.end, "");
  }

  private close(end: number, indent: string): void {
    this.leading(end - 1, indent + "  ");
    this.lines.push(indent + "}");
    this.trailing(end);
  }

  private field(field: A.Field): string {
    return `${field.name.name}${field.optional ? "?" : ""}: ${printType(field.type)}`;
  }

  /** `type`/`agent`/`user`/`context`: short comment-free types stay on one line; entities always one field a line. */
  private fieldsDecl(head: string, span: A.Declaration["span"], fields: readonly A.Field[], mayInline: boolean): void {
    const inline = `${head} { ${fields.map((f) => this.field(f)).join(", ")} }`;
    if (mayInline && !this.hasCommentsIn(span) && inline.length <= MAX_WIDTH && fields.length > 0) return this.item(span.start, span.end, "", inline);
    this.item(span.start, span.start + head.length, "", `${head} {`);
    for (const field of fields) this.item(field.span.start, field.span.end, "  ", this.field(field));
    this.close(span.end, "");
  }

  private toolDecl(decl: A.ToolDecl): void {
    this.item(decl.span.start, decl.name.span.end, "", `tool ${decl.name.text} {`);
    if (decl.risk) this.item(decl.risk.span.start - 5, decl.risk.span.end, "  ", `risk ${decl.risk.name}`);
    if (decl.returns.length > 0) this.item(decl.returns[0]!.span.start - 8, decl.returns[decl.returns.length - 1]!.span.end, "  ", `returns ${decl.returns.map((r) => r.name).join(", ")}`);
    if (decl.args) {
      const args = decl.args;
      const start = args[0]?.span.start ?? decl.name.span.end;
      const end = args[args.length - 1]?.span.end ?? start;
      const inline = `args { ${args.map((f) => this.field(f)).join(", ")} }`;
      // A comment after the last argument but before the block's `}` is inside the block too:
      // inlining would move it past the `}`, and the next run would then move it again.
      const blockEnd = this.closingBraceEnd(end);
      if (args.length === 0) this.item(start, end, "  ", "args {}");
      else if (!this.hasCommentsIn({ start, end: blockEnd }) && inline.length + 2 <= MAX_WIDTH) this.item(start, end, "  ", inline);
      else {
        this.item(start, start, "  ", "args {");
        for (const field of args) this.item(field.span.start, field.span.end, "    ", this.field(field));
        this.leading(blockEnd - 1, "    ");
        this.lines.push("  }");
      }
    }
    this.close(decl.span.end, "");
  }

  /** Offset just past the `}` that closes a block whose last item ends at `from` (blank space, commas and comments skipped). */
  private closingBraceEnd(from: number): number {
    let i = from;
    for (;;) {
      while (i < this.text.length && /[\s,]/.test(this.text[i]!)) i++;
      const comment = this.comments.find((c) => c.startOffset === i);
      if (!comment) break;
      i = comment.endOffset! + 1;
    }
    return this.text[i] === "}" ? i + 1 : from;
  }

  private intentDecl(decl: A.IntentDecl): void {
    this.item(decl.span.start, decl.name.span.end, "", `intent ${decl.name.text} {`);
    if (decl.tools.length > 0) this.item(decl.tools[0]!.span.start, decl.tools[decl.tools.length - 1]!.span.end, "  ", `tools ${decl.tools.map((t) => t.text).join(", ")}`);
    if (decl.maxRisk) this.item(decl.maxRisk.span.start, decl.maxRisk.span.end, "  ", `max_risk ${decl.maxRisk.name}`);
    this.close(decl.span.end, "");
  }

  private policyDecl(decl: A.PolicyDecl): void {
    this.item(decl.span.start, decl.name.span.end, "", `policy ${decl.name.name} {`);
    decl.rules.forEach((rule, i) => {
      if (i > 0) this.blank();
      this.rule(rule);
    });
    this.close(decl.span.end, "");
  }

  private rule(rule: A.Rule): void {
    for (const annotation of rule.annotations) {
      const args = annotation.args.length > 0 ? `(${annotation.args.map((a) => (a.kind === "StringLiteral" ? encodeString(a.value) : printExpr(a))).join(", ")})` : "";
      this.item(annotation.span.start, annotation.span.end, "  ", `@${annotation.name.name}${args}`);
    }
    const lastTarget = rule.targets[rule.targets.length - 1];
    this.item(rule.effectSpan.start, lastTarget?.span.end ?? rule.effectSpan.end, "  ", `${rule.effect} ${rule.targets.map((t) => t.text).join(", ")}`);
    if (rule.when) this.condition("when", rule.when);
    if (rule.unless) this.condition("unless", rule.unless);
    if (rule.reason) this.item(rule.reason.span.start, rule.reason.span.end, "    ", `reason ${encodeString(rule.reason.value)}`);
    if (rule.grant) this.item(rule.grant.span.start, rule.grant.span.end, "    ", `grant ${rule.grant.scopes.map((s) => encodeString(s.value)).join(", ")} for ${rule.grant.ttl.text}`);
    if (rule.revoke) this.item(rule.revoke.span.start, rule.revoke.span.end, "    ", "revoke");
  }

  /** `when X`; too long a line breaks at the top-level `and`/`or`, one term a line. */
  private condition(keyword: "when" | "unless", expr: A.Expr): void {
    const start = expr.span.start - keyword.length - 1;
    const oneLine = `${keyword} ${printExpr(expr)}`;
    const operator = expr.kind === "Binary" && (expr.operator === "and" || expr.operator === "or") ? expr.operator : undefined;
    // Break when too long, or when the author already broke it: a chain laid out one term a line stays so.
    const authorBroke = this.text.slice(expr.span.start, expr.span.end).includes("\n");
    if (!operator || (4 + oneLine.length <= MAX_WIDTH && !authorBroke)) return this.item(start, expr.span.end, "    ", oneLine);
    const terms = chainTermsOf(expr, operator);
    this.item(start, terms[0]!.span.end, "    ", `${keyword} ${printExpr(terms[0]!)}`);
    const pad = " ".repeat(Math.max(0, keyword.length + 1 - operator.length - 1));
    for (const term of terms.slice(1)) this.item(term.span.start, term.span.end, "    ", `${pad}${operator} ${printExpr(term)}`);
  }
}

export function printType(type: A.TypeRef): string {
  return type.argument ? `${type.name.name}<${printType(type.argument)}>` : type.name.name;
}
