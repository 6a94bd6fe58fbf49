import type { CstNode, IToken } from "chevrotain";
import type * as A from "../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../diagnostics/Diagnostic.js";
import type { SourceFile } from "../source/SourceFile.js";
import type { Span } from "../source/Span.js";
import { decodeString, DURATION_UNITS, parseDuration } from "./literals.js";
import * as T from "./tokens.js";

type Child = CstNode | IToken;

/** Text that holds no token: blank space and comments. */
const ONLY_BLANKS_AND_COMMENTS = /^(?:\s|\/\/[^\r\n]*|\/\*(?:[^*]|\*(?!\/))*\*\/)*$/;

function isToken(child: Child): child is IToken {
  return (child as IToken).image !== undefined;
}

/**
 * Turns the CST into the AST. Recovery may leave holes in the CST; the builder fills them
 * with `ErrorExpr` or skips the node, and never throws (the syntax errors are already reported).
 */
export class AstBuilder {
  readonly diagnostics: Diagnostic[] = [];
  private readonly docTokens: IToken[];
  private docIndex = 0;

  constructor(
    private readonly file: SourceFile,
    docTokens: readonly IToken[],
  ) {
    this.docTokens = [...docTokens].sort((a, b) => a.startOffset - b.startOffset);
  }

  // ── helpers ───────────────────────────────────────────────────────────────

  private span(start: number, end: number): Span {
    const safeStart = Number.isFinite(start) ? start : 0;
    const safeEnd = Number.isFinite(end) ? Math.max(end, safeStart) : safeStart;
    return { file: this.file, start: safeStart, end: safeEnd };
  }

  private tokenSpan(token: IToken): Span {
    return this.span(token.startOffset, (token.endOffset ?? token.startOffset) + 1);
  }

  private nodeSpan(node: CstNode): Span {
    const location = node.location;
    if (location && Number.isFinite(location.startOffset)) return this.span(location.startOffset, (location.endOffset ?? location.startOffset) + 1);
    const tokens = this.tokensOf(node);
    if (tokens.length === 0) return this.span(0, 0);
    return this.span(tokens[0]!.startOffset, tokens[tokens.length - 1]!.endOffset! + 1);
  }

  private tokensOf(node: CstNode): IToken[] {
    const out: IToken[] = [];
    for (const list of Object.values(node.children)) {
      for (const child of list) {
        if (isToken(child)) {
          if (Number.isFinite(child.startOffset) && !child.isInsertedInRecovery) out.push(child);
        } else out.push(...this.tokensOf(child));
      }
    }
    return out.sort((a, b) => a.startOffset - b.startOffset);
  }

  private nodes(node: CstNode, key: string): CstNode[] {
    return (node.children[key] ?? []).filter((c): c is CstNode => !isToken(c));
  }

  private node(node: CstNode, key: string): CstNode | undefined {
    return this.nodes(node, key)[0];
  }

  private tokens(node: CstNode, key: string): IToken[] {
    return (node.children[key] ?? []).filter((c): c is IToken => isToken(c) && !c.isInsertedInRecovery && Number.isFinite(c.startOffset));
  }

  private token(node: CstNode, key: string): IToken | undefined {
    return this.tokens(node, key)[0];
  }

  /** The first token of a node, found without collecting the whole subtree (hot: every name). */
  private onlyToken(node: CstNode): IToken | undefined {
    let first: IToken | undefined;
    for (const key in node.children) {
      for (const child of node.children[key]!) {
        const token = isToken(child) ? (child.isInsertedInRecovery || !Number.isFinite(child.startOffset) ? undefined : child) : this.onlyToken(child);
        if (token && (first === undefined || token.startOffset < first.startOffset)) first = token;
      }
    }
    return first;
  }

  /** `///` lines directly before `offset` (only blank space or plain comments between). */
  private docsBefore(offset: number): string[] {
    const docs: string[] = [];
    while (this.docIndex < this.docTokens.length && this.docTokens[this.docIndex]!.startOffset < offset) {
      const token = this.docTokens[this.docIndex]!;
      const between = this.file.text.slice(token.endOffset! + 1, offset);
      // Doc comments belong to the next item only if nothing but blank space or other doc lines follow.
      // Trailing blanks are dropped: they are invisible, and the formatter trims them anyway.
      if (/^[\s]*(\/\/\/[^\n]*\s*)*$/.test(between)) docs.push(token.image.replace(/^\/\/\/ ?/, "").trimEnd());
      else docs.length = 0;
      this.docIndex++;
    }
    return docs;
  }

  private identifier(node: CstNode | IToken | undefined, fallback: Span): A.Identifier {
    if (node === undefined) return { kind: "Identifier", name: "", span: fallback };
    const token = isToken(node) ? node : this.onlyToken(node);
    if (!token) return { kind: "Identifier", name: "", span: fallback };
    return { kind: "Identifier", name: token.image, span: this.tokenSpan(token) };
  }

  private qualifiedName(node: CstNode | undefined, fallback: Span): A.QualifiedName {
    if (!node) return { kind: "QualifiedName", text: "", span: fallback };
    const tokens = this.tokensOf(node);
    return { kind: "QualifiedName", text: tokens.map((t) => t.image).join(""), span: this.nodeSpan(node) };
  }

  private toolPattern(node: CstNode): A.ToolPattern {
    const tokens = this.tokensOf(node);
    return { kind: "ToolPattern", text: tokens.map((t) => t.image).join(""), span: this.nodeSpan(node) };
  }

  // ── declarations ──────────────────────────────────────────────────────────

  buildFile(cst: CstNode | undefined): A.PolicyFile {
    const declarations: A.Declaration[] = [];
    if (cst) {
      for (const declaration of this.nodes(cst, "declaration")) {
        const built = this.declaration(declaration);
        if (built) declarations.push(built);
      }
    }
    return { kind: "PolicyFile", path: this.file.path, declarations, span: this.span(0, this.file.text.length) };
  }

  declaration(node: CstNode): A.Declaration | undefined {
    const [inner] = Object.values(node.children).flat() as CstNode[];
    if (!inner || isToken(inner)) return undefined;
    switch (inner.name) {
      case "enumDecl":
        return this.enumDecl(inner);
      case "typeDecl":
        return this.typeDecl(inner);
      case "entityDecl":
        return this.entityDecl(inner);
      case "toolDecl":
        return this.toolDecl(inner);
      case "intentDecl":
        return this.intentDecl(inner);
      case "policyDecl":
        return this.policyDecl(inner);
      default:
        return undefined;
    }
  }

  private enumDecl(node: CstNode): A.EnumDecl {
    const span = this.nodeSpan(node);
    const docs = this.docsBefore(span.start);
    const members = this.tokens(node, "AnyName").map((m): A.EnumMember => {
      const memberSpan = this.tokenSpan(m);
      return { kind: "EnumMember", docs: this.docsBefore(memberSpan.start), name: this.identifier(m, memberSpan), span: memberSpan };
    });
    return { kind: "EnumDecl", name: this.identifier(this.token(node, "Identifier"), span), members, docs, span };
  }

  private fields(block: CstNode | undefined): A.Field[] {
    if (!block) return [];
    return this.nodes(block, "field").map((f): A.Field => {
      const span = this.nodeSpan(f);
      const docs = this.docsBefore(span.start);
      return {
        kind: "Field",
        name: this.identifier(this.token(f, "AnyName"), span),
        optional: this.tokens(f, "Question").length > 0,
        type: this.typeRef(this.node(f, "typeRef"), span),
        docs,
        span,
      };
    });
  }

  private typeRef(node: CstNode | undefined, fallback: Span): A.TypeRef {
    if (!node) return { kind: "TypeRef", name: { kind: "Identifier", name: "", span: fallback }, span: fallback };
    const span = this.nodeSpan(node);
    const argumentNode = this.node(node, "typeRef");
    const name = this.identifier(this.token(node, "Identifier"), span);
    return argumentNode ? { kind: "TypeRef", name, argument: this.typeRef(argumentNode, span), span } : { kind: "TypeRef", name, span };
  }

  private typeDecl(node: CstNode): A.TypeDecl {
    const span = this.nodeSpan(node);
    const docs = this.docsBefore(span.start);
    return { kind: "TypeDecl", name: this.identifier(this.token(node, "Identifier"), span), fields: this.fields(this.node(node, "fieldBlock")), docs, span };
  }

  private entityDecl(node: CstNode): A.EntityDecl {
    const span = this.nodeSpan(node);
    const docs = this.docsBefore(span.start);
    const keyword = this.tokensOf(node)[0]!;
    return { kind: "EntityDecl", entity: keyword.image as A.EntityName, keywordSpan: this.tokenSpan(keyword), fields: this.fields(this.node(node, "fieldBlock")), docs, span };
  }

  /** Reports a tool or intent item given twice (`risk low … risk high`), pointing at the first (`first`). */
  private once<T>(current: T | undefined, word: string, at: Span, first: Span): boolean {
    if (current === undefined) return true;
    this.diagnostics.push(diagnostic("PC107", `\`${word}\` is given twice`, at, `keep one \`${word}\``, [{ span: first, message: `the first \`${word}\`` }]));
    return false;
  }

  private toolDecl(node: CstNode): A.ToolDecl {
    const span = this.nodeSpan(node);
    const docs = this.docsBefore(span.start);
    const name = this.qualifiedName(this.node(node, "qualifiedName"), span);
    let risk: A.Identifier | undefined;
    let returns: A.Identifier[] | undefined;
    let args: A.Field[] | undefined;
    const riskIdentifiers = this.tokens(node, "Identifier");
    const riskKeywords = this.tokens(node, "Kw_risk");
    for (const [i, keyword] of riskKeywords.entries()) {
      if (this.once(risk, "risk", this.tokenSpan(keyword), this.tokenSpan(riskKeywords[0]!))) risk = this.identifier(riskIdentifiers[i], this.tokenSpan(keyword));
    }
    const returnsKeywords = this.tokens(node, "Kw_returns");
    if (returnsKeywords.length > 0) {
      // Every `returns` list names labels; all the names after `returns` keywords are anyName nodes.
      returns = this.tokens(node, "AnyName").map((n) => this.identifier(n, span));
      for (const extra of returnsKeywords.slice(1)) this.once(returns, "returns", this.tokenSpan(extra), this.tokenSpan(returnsKeywords[0]!));
    }
    const blocks = this.nodes(node, "fieldBlock");
    for (const [i, block] of blocks.entries()) {
      if (i === 0) args = this.fields(block);
      else this.once(args, "args", this.nodeSpan(block), this.nodeSpan(blocks[0]!));
    }
    const decl: { -readonly [K in keyof A.ToolDecl]: A.ToolDecl[K] } = { kind: "ToolDecl", name, returns: returns ?? [], docs, span };
    if (risk) decl.risk = risk;
    if (args) decl.args = args;
    return decl;
  }

  private intentDecl(node: CstNode): A.IntentDecl {
    const span = this.nodeSpan(node);
    const docs = this.docsBefore(span.start);
    const name = this.qualifiedName(this.node(node, "qualifiedName"), span);
    const toolsKeywords = this.tokens(node, "Kw_tools");
    for (const extra of toolsKeywords.slice(1)) this.once(true, "tools", this.tokenSpan(extra), this.tokenSpan(toolsKeywords[0]!));
    const riskKeywords = this.tokens(node, "Kw_max_risk");
    for (const extra of riskKeywords.slice(1)) this.once(true, "max_risk", this.tokenSpan(extra), this.tokenSpan(riskKeywords[0]!));
    const maxRiskToken = this.token(node, "Identifier");
    const decl: { -readonly [K in keyof A.IntentDecl]: A.IntentDecl[K] } = { kind: "IntentDecl", name, tools: this.nodes(node, "toolPattern").map((p) => this.toolPattern(p)), docs, span };
    if (maxRiskToken && riskKeywords.length > 0) decl.maxRisk = this.identifier(maxRiskToken, span);
    return decl;
  }

  /** A policy whose rules were parsed one by one (see parse.ts); `header` is `policy NAME {`. */
  policyFromRules(keyword: IToken, name: IToken, close: IToken | undefined, rules: readonly A.Rule[]): A.PolicyDecl {
    const span = this.span(keyword.startOffset, (close ?? keyword).endOffset! + 1);
    const docs = this.docsBefore(span.start);
    return { kind: "PolicyDecl", name: this.identifier(name, span), rules, docs, span };
  }

  /** Doc comments before an offset are consumed in source order; chunked parsing calls this to keep the order. */
  skipDocsBefore(offset: number): void {
    this.docsBefore(offset);
  }

  private policyDecl(node: CstNode): A.PolicyDecl {
    const span = this.nodeSpan(node);
    const docs = this.docsBefore(span.start);
    const name = this.identifier(this.token(node, "AnyName"), span);
    const rules = this.nodes(node, "rule").map((r) => this.rule(r));
    return { kind: "PolicyDecl", name, rules, docs, span };
  }

  private literal(node: CstNode): A.Literal {
    const token = this.onlyToken(node);
    const span = token ? this.tokenSpan(token) : this.nodeSpan(node);
    if (!token) return { kind: "BoolLiteral", value: false, span };
    return this.literalToken(token);
  }

  private literalToken(token: IToken): A.Literal {
    const span = this.tokenSpan(token);
    switch (token.tokenType.name) {
      case "Kw_true":
        return { kind: "BoolLiteral", value: true, span };
      case "Kw_false":
        return { kind: "BoolLiteral", value: false, span };
      case "Integer": {
        const value = Number(token.image);
        if (!Number.isSafeInteger(value)) this.diagnostics.push(diagnostic("PC108", `the number \`${token.image}\` is too large`, span, `numbers go up to ${Number.MAX_SAFE_INTEGER}`));
        return { kind: "IntLiteral", value: Number.isSafeInteger(value) ? value : 0, span };
      }
      case "Duration":
        return this.durationToken(token);
      default:
        return this.stringToken(token);
    }
  }

  private durationToken(token: IToken): A.DurationLiteral {
    const span = this.tokenSpan(token);
    const milliseconds = parseDuration(token.image);
    // Malformed units were reported by the lexer front (PC104); a huge number is PC108.
    if (milliseconds === undefined && /^[0-9]+(ms|s|m|h|d)$/.test(token.image)) {
      const unit = /[a-z]+$/.exec(token.image)![0];
      const largest = Math.floor(Number.MAX_SAFE_INTEGER / DURATION_UNITS[unit]!);
      this.diagnostics.push(diagnostic("PC108", `the duration \`${token.image}\` is too large`, span, `durations go up to ${Number.MAX_SAFE_INTEGER} milliseconds: \`${largest}${unit}\``));
    }
    return { kind: "DurationLiteral", text: token.image, milliseconds: milliseconds ?? 0, span };
  }

  private stringToken(token: IToken): A.StringLiteral {
    const span = this.tokenSpan(token);
    let raw = token.image;
    // An unterminated string (already reported, PC101) ends without its `"`, or with an escaped
    // one (`"C:\temp\"`): decode what is there, closed.
    if (!T.isTerminatedString(raw)) raw = raw.replace(/\\$/, "") + '"';
    const value = decodeString(raw);
    if (value === undefined) {
      // eslint-disable-next-line no-control-regex
      const control = /[\u0000-\u001f]/.exec(raw);
      // At the character itself, as PC112 and PC510 point (a tab in a long string is found there).
      if (control) this.diagnostics.push(diagnostic("PC105", `a string cannot hold the control character U+${control[0].charCodeAt(0).toString(16).padStart(4, "0").toUpperCase()} as is`, this.span(token.startOffset + control.index, token.startOffset + control.index + 1), "write it as an escape, such as \\t or \\u0009"));
      else {
        this.diagnostics.push(diagnostic("PC105", "invalid escape in string", span, `strings use JSON escapes: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX; ${escapeHelp(raw)}`));
      }
      return { kind: "StringLiteral", value: raw.slice(1, -1), span };
    }
    return { kind: "StringLiteral", value, span };
  }

  rule(node: CstNode): A.Rule {
    const span = this.nodeSpan(node);
    // A `///` among the annotations or right after them documents the rule too (Rust takes doc
    // comments on either side of attributes): all of them, in source order.
    const docs = this.docsBefore(span.start);
    const annotations = this.nodes(node, "annotation").map((a): A.Annotation => {
      const annotationSpan = this.nodeSpan(a);
      docs.push(...this.docsBefore(annotationSpan.start));
      return { kind: "Annotation", name: this.identifier(this.token(a, "AnyName"), annotationSpan), args: this.nodes(a, "literal").map((l) => this.literal(l)), span: annotationSpan };
    });
    const effectToken = this.token(node, "Kw_allow") ?? this.token(node, "Kw_ask") ?? this.token(node, "Kw_deny");
    const effect = (effectToken?.image ?? "deny") as A.Effect;
    const effectSpan = effectToken ? this.tokenSpan(effectToken) : span;
    docs.push(...this.docsBefore(effectSpan.start));
    const targetsNode = this.node(node, "targets");
    const targets = targetsNode ? this.nodes(targetsNode, "toolPattern").map((t) => this.toolPattern(t)) : [];

    const rule: { -readonly [K in keyof A.Rule]: A.Rule[K] } = { kind: "Rule", effect, effectSpan, targets, annotations, docs, span };
    const order = ["when", "unless", "reason", "grant", "revoke"] as const;
    let lastIndex = -1;
    // Each clause's keyword, where the rule first gives it: a repeat's diagnostic points there too.
    const firstKeywords = new Map<string, Span>();
    for (const clause of this.nodes(node, "ruleClause")) {
      const keyword = this.clauseKeyword(clause);
      if (!keyword) continue;
      const word = keyword.image as (typeof order)[number];
      const index = order.indexOf(word);
      const clauseSpan = this.nodeSpan(clause);
      const first = firstKeywords.get(word);
      if (rule[word] !== undefined && first !== undefined) {
        this.diagnostics.push(diagnostic("PC107", `\`${word}\` is given twice in this rule`, this.tokenSpan(keyword), word === "when" ? "join the conditions with `and`" : undefined, [{ span: first, message: `the first \`${word}\`` }]));
        continue;
      }
      firstKeywords.set(word, this.tokenSpan(keyword));
      if (index < lastIndex) {
        this.diagnostics.push(diagnostic("PC107", `\`${word}\` must come before \`${order[lastIndex]}\``, this.tokenSpan(keyword), "clauses go in the order `when`, `unless`, `reason`, `grant`, `revoke`"));
      }
      lastIndex = Math.max(lastIndex, index);
      switch (word) {
        case "when":
        case "unless":
          rule[word] = this.expression(this.node(clause, "expression"), clauseSpan);
          break;
        case "reason": {
          const text = this.token(clause, "StringLiteral");
          rule.reason = text ? this.stringToken(text) : { kind: "StringLiteral", value: "", span: clauseSpan };
          break;
        }
        case "grant": {
          const durationToken = this.token(clause, "Duration");
          rule.grant = {
            kind: "Grant",
            scopes: this.tokens(clause, "StringLiteral").map((t) => this.stringToken(t)),
            ttl: durationToken ? this.durationToken(durationToken) : { kind: "DurationLiteral", text: "0s", milliseconds: 0, span: clauseSpan },
            span: clauseSpan,
          };
          break;
        }
        case "revoke":
          rule.revoke = { kind: "Revoke", span: clauseSpan };
          break;
      }
    }
    return rule;
  }

  private static readonly LITERAL_TOKENS = ["StringLiteral", "Integer", "Duration", "Kw_true", "Kw_false"];
  private static readonly CLAUSE_KEYWORDS = ["Kw_when", "Kw_unless", "Kw_reason", "Kw_grant", "Kw_revoke"];

  /** A clause's keyword, read directly: collecting the tokens of a long condition would be wasted work. */
  private clauseKeyword(clause: CstNode): IToken | undefined {
    for (const key of AstBuilder.CLAUSE_KEYWORDS) {
      const token = this.token(clause, key);
      if (token) return token;
    }
    return undefined;
  }

  // ── expressions ───────────────────────────────────────────────────────────

  private errorExpr(span: Span): A.ErrorExpr {
    return { kind: "ErrorExpr", span };
  }

  expression(node: CstNode | undefined, fallback: Span): A.Expr {
    if (!node) return this.errorExpr(fallback);
    switch (node.name) {
      case "expression":
      case "andExpression": {
        const operator = node.name === "expression" ? "or" : "and";
        const parts = this.nodes(node, node.name === "expression" ? "andExpression" : "notExpression");
        if (parts.length === 0) return this.errorExpr(this.nodeSpan(node));
        let left = this.expression(parts[0], this.nodeSpan(node));
        for (const part of parts.slice(1)) {
          const right = this.expression(part, this.nodeSpan(part));
          left = { kind: "Binary", operator, left, right, span: this.span(left.span.start, right.span.end) };
        }
        return left;
      }
      case "notExpression": {
        const notToken = this.token(node, "Kw_not");
        if (notToken) {
          const operand = this.expression(this.node(node, "notExpression"), this.nodeSpan(node));
          return { kind: "Not", operand, span: this.span(notToken.startOffset, Math.max(operand.span.end, notToken.endOffset! + 1)) };
        }
        return this.expression(this.node(node, "comparison"), this.nodeSpan(node));
      }
      case "comparison":
        return this.comparison(node);
      case "postfix":
        return this.postfix(node);
      default:
        return this.errorExpr(this.nodeSpan(node));
    }
  }

  private static readonly OPERATORS: Record<string, A.BinaryOperator> = {
    EqEq: "==",
    NotEq: "!=",
    Less: "<",
    LessEq: "<=",
    Greater: ">",
    GreaterEq: ">=",
    Kw_in: "in",
    Kw_contains: "contains",
    Kw_containsAny: "containsAny",
    Kw_containsAll: "containsAll",
    Kw_like: "like",
  };

  private comparison(node: CstNode): A.Expr {
    const operands = this.nodes(node, "postfix");
    const span = this.nodeSpan(node);
    const left = this.expression(operands[0], span);
    const hasToken = this.token(node, "Kw_has");
    if (hasToken) {
      const attribute = this.identifier(this.token(node, "AnyName"), this.tokenSpan(hasToken));
      return { kind: "Has", object: left, attribute, span: this.span(left.span.start, Math.max(attribute.span.end, hasToken.endOffset! + 1)) };
    }
    for (const key in node.children) {
      const operator = AstBuilder.OPERATORS[key];
      if (operator && this.token(node, key)) {
        const right = this.expression(operands[1], span);
        return { kind: "Binary", operator, left, right, span: this.span(left.span.start, right.span.end) };
      }
    }
    return left;
  }

  private postfix(node: CstNode): A.Expr {
    const span = this.nodeSpan(node);
    let result = this.primary(this.node(node, "primary"), span);
    // Children of a postfix come in source order per kind; merge them by offset.
    const names = this.tokens(node, "AnyName");
    const stars = this.tokens(node, "Star");
    const calls = this.nodes(node, "callArguments");
    const steps: Child[] = names.length + stars.length + calls.length === names.length ? names : [...names, ...stars, ...calls].sort((a, b) => (isToken(a) ? a.startOffset : this.nodeSpan(a).start) - (isToken(b) ? b.startOffset : this.nodeSpan(b).start));
    for (const step of steps) {
      if (isToken(step)) {
        const property: A.Identifier = { kind: "Identifier", name: step.image, span: this.tokenSpan(step) };
        result = { kind: "Member", object: result, property, span: this.span(result.span.start, property.span.end) };
      } else {
        const callSpan = this.nodeSpan(step);
        const end = this.span(result.span.start, callSpan.end);
        if (result.kind !== "Member") {
          result = this.errorExpr(end);
          continue;
        }
        const args: A.Expr[] = [];
        let within: A.Expr | undefined;
        let firstWithin: Span | undefined;
        // `within` arguments are tokens followed by an expression; pair them by offset. Comments
        // may stand between the keyword and its expression (`within /* per minute */ 1m`).
        const withinTokens = this.tokens(step, "Kw_within");
        for (const argument of this.nodes(step, "expression")) {
          const argSpan = this.nodeSpan(argument);
          const expr = this.expression(argument, argSpan);
          const keyword = withinTokens.find((t) => t.endOffset! < argSpan.start && ONLY_BLANKS_AND_COMMENTS.test(this.file.text.slice(t.endOffset! + 1, argSpan.start)));
          if (keyword === undefined) args.push(expr);
          else if (within === undefined) {
            within = expr;
            firstWithin = this.tokenSpan(keyword);
          }
          // A call counts over one window: read as an argument, a second one would lose its
          // keyword (and `fmt` would print `within 10m, within 1m` as `1m, within 10m`).
          else this.diagnostics.push(diagnostic("PC107", "`within` is given twice in this call", this.tokenSpan(keyword), "keep one `within`: a call counts over one window", firstWithin === undefined ? undefined : [{ span: firstWithin, message: "the first `within`" }]));
        }
        const call: { -readonly [K in keyof A.Call]: A.Call[K] } = { kind: "Call", callee: result, args, span: end };
        if (within) call.within = within;
        result = call;
      }
    }
    return result;
  }

  private primary(node: CstNode | undefined, fallback: Span): A.Expr {
    if (!node) return this.errorExpr(fallback);
    const root = this.token(node, "RootName");
    if (root) return { kind: "NameRef", name: root.image, span: this.tokenSpan(root) };
    for (const key of AstBuilder.LITERAL_TOKENS) {
      const token = this.token(node, key);
      if (token) return this.literalToken(token);
    }
    const span = this.nodeSpan(node);
    const quantifier = this.node(node, "quantifier");
    if (quantifier) return this.quantifier(quantifier);
    if (this.token(node, "LParen")) {
      return { kind: "Paren", expression: this.expression(this.node(node, "expression"), span), span };
    }
    if (this.token(node, "LBracket")) {
      return { kind: "ListLiteral", elements: this.nodes(node, "expression").map((e) => this.expression(e, span)), span };
    }
    if (this.token(node, "Star")) return { kind: "Wildcard", span };
    return this.errorExpr(span);
  }

  private quantifier(node: CstNode): A.Expr {
    const span = this.nodeSpan(node);
    const [collection, body] = this.nodes(node, "expression");
    return {
      kind: "Quantifier",
      quantifier: this.token(node, "Kw_all") ? "all" : "any",
      variable: this.identifier(this.token(node, "Identifier"), span),
      collection: this.expression(collection, span),
      body: this.expression(body, span),
      span,
    };
  }
}

/**
 * What to write for the first invalid escape of the string `raw`: `\'` is a `'` as is, `\x41`
 * is `\u0041`; any other means a backslash, as in a path written as is (`"C:\temp\x"`, whose
 * `\t` is a tab as written): all of them doubled.
 */
function escapeHelp(raw: string): string {
  // Each escape, valid ones ungrouped: the first grouped one is the first invalid, `\xHH` or one character.
  const invalid = [...raw.matchAll(/\\(?:["\\/bfnrt]|u[0-9A-Fa-f]{4})|\\(x[0-9A-Fa-f]{2}|.)/g)].find((escape) => escape[1] !== undefined)?.[1];
  if (invalid === "'") return `a \`'\` is written as is: \`${raw.replace(/\\'/g, "'")}\``;
  if (invalid !== undefined && invalid.length === 3) return `write \`\\${invalid}\` as \`\\u00${invalid.slice(1)}\``;
  return `a \`\\\` itself is written \`\\\\\`, as in \`"${raw.slice(1, -1).replace(/\\/g, "\\\\")}"\``;
}
