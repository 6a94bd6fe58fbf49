import type { Effect } from "../runtime/decision.js";
import type { Span } from "../source/Span.js";

/**
 * The AST: plain readonly data with a `kind` and a `span`. Walk it with an exhaustive
 * `switch (node.kind)`; the compiler and the checker never look at tokens or the CST.
 */

export interface Identifier {
  readonly kind: "Identifier";
  readonly name: string;
  readonly span: Span;
}

/** A dotted name such as `crm.lookup` or `support.reply`. */
export interface QualifiedName {
  readonly kind: "QualifiedName";
  readonly text: string;
  readonly span: Span;
}

/** A tool name or a pattern: `crm.lookup`, `kb.*`, `*`. */
export interface ToolPattern {
  readonly kind: "ToolPattern";
  readonly text: string;
  readonly span: Span;
}

export interface TypeRef {
  readonly kind: "TypeRef";
  readonly name: Identifier;
  readonly argument?: TypeRef;
  readonly span: Span;
}

export interface Field {
  readonly kind: "Field";
  readonly name: Identifier;
  readonly optional: boolean;
  readonly type: TypeRef;
  readonly docs: readonly string[];
  readonly span: Span;
}

export interface EnumMember {
  readonly kind: "EnumMember";
  readonly name: Identifier;
  readonly docs: readonly string[];
  readonly span: Span;
}

export interface EnumDecl {
  readonly kind: "EnumDecl";
  readonly name: Identifier;
  readonly members: readonly EnumMember[];
  readonly docs: readonly string[];
  readonly span: Span;
}

export interface TypeDecl {
  readonly kind: "TypeDecl";
  readonly name: Identifier;
  readonly fields: readonly Field[];
  readonly docs: readonly string[];
  readonly span: Span;
}

export type EntityName = "agent" | "user" | "context";

/** `agent { … }`, `user { … }`, `context { … }`: the request's attribute schema. */
export interface EntityDecl {
  readonly kind: "EntityDecl";
  readonly entity: EntityName;
  readonly keywordSpan: Span;
  readonly fields: readonly Field[];
  readonly docs: readonly string[];
  readonly span: Span;
}

export interface ToolDecl {
  readonly kind: "ToolDecl";
  readonly name: QualifiedName;
  readonly risk?: Identifier;
  readonly returns: readonly Identifier[];
  /** Absent when the tool has no `args` block (then it takes no arguments). */
  readonly args?: readonly Field[];
  readonly docs: readonly string[];
  readonly span: Span;
}

export interface IntentDecl {
  readonly kind: "IntentDecl";
  readonly name: QualifiedName;
  readonly tools: readonly ToolPattern[];
  readonly maxRisk?: Identifier;
  readonly docs: readonly string[];
  readonly span: Span;
}

/** A rule's effect, as a decision names it. */
export type { Effect } from "../runtime/decision.js";

export interface Annotation {
  readonly kind: "Annotation";
  readonly name: Identifier;
  readonly args: readonly Literal[];
  readonly span: Span;
}

/** A rule's `grant` clause (what it mints for an allowed call is the runtime's `Grant`). */
export interface GrantClause {
  readonly kind: "Grant";
  readonly scopes: readonly StringLiteral[];
  readonly ttl: DurationLiteral;
  readonly span: Span;
}

export interface Revoke {
  readonly kind: "Revoke";
  readonly span: Span;
}

export interface Rule {
  readonly kind: "Rule";
  readonly effect: Effect;
  readonly effectSpan: Span;
  readonly targets: readonly ToolPattern[];
  readonly when?: Expr;
  readonly unless?: Expr;
  readonly reason?: StringLiteral;
  readonly grant?: GrantClause;
  readonly revoke?: Revoke;
  readonly annotations: readonly Annotation[];
  readonly docs: readonly string[];
  readonly span: Span;
}

export interface PolicyDecl {
  readonly kind: "PolicyDecl";
  readonly name: Identifier;
  readonly rules: readonly Rule[];
  readonly docs: readonly string[];
  readonly span: Span;
}

export type Declaration = EnumDecl | TypeDecl | EntityDecl | ToolDecl | IntentDecl | PolicyDecl;

/** One parsed `.policy` file. */
export interface PolicyFile {
  readonly kind: "PolicyFile";
  readonly path: string;
  readonly declarations: readonly Declaration[];
  readonly span: Span;
}

// ── Expressions ─────────────────────────────────────────────────────────────

export interface BoolLiteral {
  readonly kind: "BoolLiteral";
  readonly value: boolean;
  readonly span: Span;
}

export interface IntLiteral {
  readonly kind: "IntLiteral";
  readonly value: number;
  readonly span: Span;
}

export interface StringLiteral {
  readonly kind: "StringLiteral";
  readonly value: string;
  readonly span: Span;
}

export interface DurationLiteral {
  readonly kind: "DurationLiteral";
  /** As written, e.g. `5m`. */
  readonly text: string;
  readonly milliseconds: number;
  readonly span: Span;
}

export type Literal = BoolLiteral | IntLiteral | StringLiteral | DurationLiteral;

export interface ListLiteral {
  readonly kind: "ListLiteral";
  readonly elements: readonly Expr[];
  readonly span: Span;
}

/** A bare name: a path root (`agent`, `session`, `now`…), a bound variable, an enum member… */
export interface NameRef {
  readonly kind: "NameRef";
  readonly name: string;
  readonly span: Span;
}

/** `*` standing alone: only meaningful as a tool pattern argument (`session.count(*, within 1m)`). */
export interface Wildcard {
  readonly kind: "Wildcard";
  readonly span: Span;
}

/** `object.property`; `property` is `*` in a pattern such as `crm.*`. */
export interface Member {
  readonly kind: "Member";
  readonly object: Expr;
  readonly property: Identifier;
  readonly span: Span;
}

/** `callee.method(args…)` or `url.host(s)`; `within D` is kept apart from the positional arguments. */
export interface Call {
  readonly kind: "Call";
  readonly callee: Member;
  readonly args: readonly Expr[];
  readonly within?: Expr;
  readonly span: Span;
}

export interface Not {
  readonly kind: "Not";
  readonly operand: Expr;
  readonly span: Span;
}

export type BinaryOperator = "or" | "and" | "==" | "!=" | "<" | "<=" | ">" | ">=" | "in" | "contains" | "containsAny" | "containsAll" | "like";

export interface Binary {
  readonly kind: "Binary";
  readonly operator: BinaryOperator;
  readonly left: Expr;
  readonly right: Expr;
  readonly span: Span;
}

/** `object has attribute`. */
export interface Has {
  readonly kind: "Has";
  readonly object: Expr;
  readonly attribute: Identifier;
  readonly span: Span;
}

/** `any(x in L: body)` / `all(x in L: body)`. */
export interface Quantifier {
  readonly kind: "Quantifier";
  readonly quantifier: "any" | "all";
  readonly variable: Identifier;
  readonly collection: Expr;
  readonly body: Expr;
  readonly span: Span;
}

/** Parentheses as written; kept so the formatter reproduces them and spans stay honest. */
export interface Paren {
  readonly kind: "Paren";
  readonly expression: Expr;
  readonly span: Span;
}

/** Stands where recovery from a syntax error left nothing to build. Never reaches the checker. */
export interface ErrorExpr {
  readonly kind: "ErrorExpr";
  readonly span: Span;
}

export type Expr = Literal | ListLiteral | NameRef | Wildcard | Member | Call | Not | Binary | Has | Quantifier | Paren | ErrorExpr;

export type Node = PolicyFile | Declaration | Field | EnumMember | TypeRef | Rule | Annotation | GrantClause | Revoke | Identifier | QualifiedName | ToolPattern | Expr;
