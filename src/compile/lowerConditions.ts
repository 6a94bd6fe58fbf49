import type * as A from "../ast/nodes.js";
import type { CheckedProgram } from "../check/program.js";
import { comparedType, type Type } from "../check/types.js";
import { chainTermsOf } from "../ast/chains.js";
import { RISK_RANK, type IrExpr, type ValueConversion } from "../runtime/ir.js";
import { globMatch } from "../runtime/glob.js";
import type { TypeJson } from "../runtime/schema.js";
import { comparedTypeJson } from "./buildRuntimeSchema.js";

/**
 * Pass 1: lowers a checked condition to the decision IR, reading only the checker's
 * resolutions and types. Constants are made concrete here: risk levels become ranks,
 * durations milliseconds, tool patterns the declared tools they match.
 */
export class ConditionLowering {
  constructor(private readonly program: CheckedProgram) {}

  private typeOf(expr: A.Expr): Type | undefined {
    return this.program.types.get(expr);
  }

  private conversion(type: Type | undefined): ValueConversion {
    if (type?.kind === "risk") return "risk";
    if (type?.kind === "time") return "time";
    return "none";
  }

  /** A read of an attribute: risks and times (also as the members of collections) converted; durations marked for explanations. */
  private read(object: IrExpr, name: string, type: Type | undefined): IrExpr {
    const members = membersOf(type);
    // (Durations need no conversion: requests send them in ms, as conditions compare them.)
    const unit = members?.kind === "duration" ? ({ unit: "duration" } as const) : {};
    if (members !== type) {
      const convert = this.conversion(members);
      return convert === "none" ? { op: "get", object, name, convert, ...unit } : { op: "get", object, name, convert, each: true };
    }
    return { op: "get", object, name, convert: this.conversion(type), ...unit };
  }

  private toolsMatching(pattern: string): string[] {
    return [...this.program.schema.tools.keys()].filter((t) => globMatch(pattern, t));
  }

  /**
   * `when W1 and W2 unless U` → `W1 and W2 and not U`, flat, so explanations can show each
   * clause; null when the rule has no condition.
   */
  rule(rule: A.Rule): IrExpr | null {
    const terms = ruleClauses(rule).map((clause) => (clause.negated ? ({ op: "not", operand: this.lower(clause.expr) } as const) : this.lower(clause.expr)));
    if (terms.length === 0) return null;
    return terms.length === 1 ? terms[0]! : { op: "and", terms };
  }

  lower(expr: A.Expr): IrExpr {
    const resolution = this.program.resolutions.get(expr);
    switch (expr.kind) {
      case "BoolLiteral":
      case "IntLiteral":
      case "StringLiteral":
        return { op: "const", value: expr.value };
      case "DurationLiteral":
        return { op: "const", value: expr.milliseconds };
      case "Paren":
        return this.lower(expr.expression);
      case "ListLiteral":
        return { op: "list", items: expr.elements.map((e) => this.lower(e)) };
      case "Not":
        return { op: "not", operand: this.lower(expr.operand) };
      case "Has":
        return { op: "has", object: this.lower(expr.object), name: expr.attribute.name };
      case "Quantifier":
        return { op: "quantifier", kind: expr.quantifier, variable: expr.variable.name, collection: this.lower(expr.collection), body: this.lower(expr.body) };
      case "Binary":
        return this.binary(expr);
      case "NameRef":
      case "Member":
      case "Call":
        if (!resolution) throw new Error(`unresolved ${expr.kind} reached the compiler`);
        return this.resolved(expr, resolution);
      case "Wildcard":
      case "ErrorExpr":
        throw new Error(`${expr.kind} reached the compiler`);
    }
  }

  private resolved(expr: A.NameRef | A.Member | A.Call, resolution: NonNullable<ReturnType<CheckedProgram["resolutions"]["get"]>>): IrExpr {
    switch (resolution.kind) {
      case "entity":
        return { op: "root", root: resolution.entity };
      case "args":
        return { op: "root", root: "args" };
      case "toolName":
        return { op: "tool" };
      case "intentName":
        return { op: "intent" };
      case "now":
        return { op: "now" };
      case "local": {
        // A member of a collection of risks or times, converted when the collection was read.
        // (Durations are marked alike, for explanations.)
        const members = membersOf(this.typeOf(expr));
        const unit = members?.kind === "duration" ? "duration" : this.conversion(members);
        return unit === "none" ? { op: "local", name: resolution.name } : { op: "local", name: resolution.name, unit };
      }
      case "field":
        return this.read(this.lower((expr as A.Member).object), resolution.name, this.typeOf(expr));
      case "toolRisk":
        return { op: "toolRisk" };
      case "intentTools":
        return { op: "intentTools" };
      case "intentMaxRisk":
        return { op: "intentMaxRisk" };
      case "sessionValue":
        return { op: "session", member: resolution.member };
      case "enumMember":
        return { op: "const", value: resolution.member };
      case "riskLevel":
        return { op: "const", value: RISK_RANK[resolution.level] };
      case "toolConstant":
      case "intentConstant":
        return { op: "const", value: resolution.name };
      case "sessionCount":
        if (resolution.pattern === undefined || resolution.pattern === "*") return { op: "count", tools: null, withinMs: resolution.withinMs };
        return { op: "count", tools: this.toolsMatching(resolution.pattern), withinMs: resolution.withinMs, pattern: resolution.pattern };
      case "sessionCalled":
        return { op: "called", tools: this.toolsMatching(resolution.pattern), withinMs: resolution.withinMs ?? null };
      case "method": {
        const call = expr as A.Call;
        const objectType = this.typeOf(call.callee.object);
        // A request sends a set as a list, maybe with repeats: its size counts distinct members.
        const members = resolution.name === "size" && objectType?.kind === "set" ? comparedTypeJson(objectType.element) : null;
        return { op: "method", name: resolution.name, object: this.lower(call.callee.object), args: call.args.map((a) => this.lower(a)), ...(members !== null ? { members } : {}) };
      }
      case "function":
        return { op: "call", name: resolution.name, arg: this.lower((expr as A.Call).args[0]!) };
      case "ipInRange":
        return { op: "ipInRange", subject: this.lower((expr as A.Call).args[0]!), ranges: resolution.ranges };
      case "namespace":
        throw new Error("a namespace reached the compiler");
    }
  }

  private binary(expr: A.Binary): IrExpr {
    const { operator } = expr;
    if (operator === "and" || operator === "or") return { op: operator, terms: chainTermsOf(expr, operator).map((t) => this.lower(t)) };
    const left = this.lower(expr.left);
    const right = this.lower(expr.right);
    const leftType = this.typeOf(expr.left);
    switch (operator) {
      case "==":
      case "!=": {
        const rightType = this.typeOf(expr.right);
        // A set attribute arrives as a JSON array: `context.labels == [pii, internal]` must not
        // depend on the order (or repeats) the enforcement point sent it in.
        const set = leftType?.kind === "set" || rightType?.kind === "set";
        if (!isStructured(leftType) && !isStructured(rightType)) return { op: "compare", operator, left, right, deep: false };
        return { op: "compare", operator, left, right, deep: true, ...(set ? { set: true } : {}), ...shapeOf(merged(leftType, rightType)) };
      }
      case "<":
      case "<=":
      case ">":
      case ">=":
        if (leftType?.kind === "enum") {
          const members = this.program.schema.enums.get(leftType.name)?.members ?? [];
          return { op: "compare", operator, left: { op: "enumRank", members, value: left }, right: { op: "enumRank", members, value: right }, deep: false };
        }
        return { op: "compare", operator, left, right, deep: false };
      case "in":
        return isStructured(leftType) ? { op: "in", element: left, collection: right, deep: true, ...shapeOf(merged(leftType, elementOf(this.typeOf(expr.right)))) } : { op: "in", element: left, collection: right };
      case "contains": {
        const isString = leftType?.kind === "string" || leftType?.kind === "tool" || leftType?.kind === "intent";
        const elementType = this.typeOf(expr.right);
        return isStructured(elementType) ? { op: "contains", collection: left, element: right, string: isString, deep: true, ...shapeOf(merged(elementOf(leftType), elementType)) } : { op: "contains", collection: left, element: right, string: isString };
      }
      case "containsAny":
      case "containsAll": {
        const element = merged(elementOf(leftType), elementOf(this.typeOf(expr.right)));
        return { op: operator, left, right, ...(isStructured(element) ? shapeOf(element) : {}) };
      }
      case "like":
        return { op: "like", subject: left, pattern: right };
    }
  }
}

/** The innermost member type of a collection (of a `list<set<T>>`, T); the type itself when it is no collection. */
function membersOf(type: Type | undefined): Type | undefined {
  return type !== undefined && (type.kind === "set" || type.kind === "list") ? membersOf(type.element) : type;
}

function elementOf(type: Type | undefined): Type | undefined {
  return type !== undefined && (type.kind === "set" || type.kind === "list") ? type.element : undefined;
}

/** The type two compatible operands are compared as (see `comparedType`), when either is known. */
function merged(a: Type | undefined, b: Type | undefined): Type | undefined {
  return a === undefined || b === undefined ? (a ?? b) : comparedType(a, b);
}

/** `{ shape }`: the declared type compared values have, when it has a spelling (spread into IR nodes). */
function shapeOf(type: Type | undefined): { shape?: TypeJson } {
  const json = type === undefined ? null : comparedTypeJson(type);
  return json === null ? {} : { shape: json };
}

function isStructured(type: Type | undefined): boolean {
  return type !== undefined && (type.kind === "set" || type.kind === "list" || type.kind === "record");
}

/** The top-level clauses of a rule's condition: the `and` terms of `when`, then `unless` negated. */
export function ruleClauses(rule: A.Rule): { expr: A.Expr; negated: boolean }[] {
  const clauses: { expr: A.Expr; negated: boolean }[] = [];
  if (rule.when) for (const term of chainTermsOf(rule.when, "and")) clauses.push({ expr: term, negated: false });
  if (rule.unless) clauses.push({ expr: rule.unless, negated: true });
  return clauses;
}
