import type { RiskLevel } from "../runtime/ir.js";

/** The types of the policy language, as the checker and the compiler see them. */
export type Type =
  | { readonly kind: "bool" }
  | { readonly kind: "int" }
  | { readonly kind: "string" }
  | { readonly kind: "duration" }
  | { readonly kind: "time" }
  | { readonly kind: "risk" }
  | { readonly kind: "set"; readonly element: Type }
  | { readonly kind: "list"; readonly element: Type }
  | { readonly kind: "enum"; readonly name: string }
  | { readonly kind: "record"; readonly name: string }
  /** The name of the tool being called (compares with tool names and strings). */
  | { readonly kind: "tool" }
  /** The name of the session's declared intent. */
  | { readonly kind: "intent" }
  /** `intent.tools`: the intent's tool patterns; `tool in intent.tools` matches against them. */
  | { readonly kind: "toolset" }
  /** `args` of the rule's targeted tools. */
  | { readonly kind: "args" }
  /** Names that only lead somewhere: `session`, `url`, `email`, an enum's name, `Risk`. */
  | { readonly kind: "namespace"; readonly name: string }
  /**
   * The element of an empty list literal `[]`: compatible with anything (`args.l == []`), but,
   * unlike `error`, not a reported mistake, so a quantifier binding it says so (PC300).
   */
  | { readonly kind: "empty" }
  /** A poisoned expression whose error is already reported; compatible with anything. */
  | { readonly kind: "error" };

export const BOOL: Type = { kind: "bool" };
export const INT: Type = { kind: "int" };
export const STRING: Type = { kind: "string" };
export const DURATION: Type = { kind: "duration" };
export const TIME: Type = { kind: "time" };
export const RISK: Type = { kind: "risk" };
export const TOOL: Type = { kind: "tool" };
export const INTENT: Type = { kind: "intent" };
export const TOOLSET: Type = { kind: "toolset" };
export const ERROR: Type = { kind: "error" };
export const EMPTY: Type = { kind: "empty" };

/** Risk levels, lowest first; the order is the comparison order. */
export const RISK_LEVELS: readonly RiskLevel[] = ["low", "medium", "high", "critical"];
export type { RiskLevel };

/** How a type is spelled in messages: `set<Label>`, `string`, `Risk`. */
export function typeToString(type: Type): string {
  switch (type.kind) {
    case "set":
    case "list":
      return `${type.kind}<${typeToString(type.element)}>`;
    case "enum":
    case "record":
      return type.name;
    case "risk":
      return "Risk";
    case "tool":
      return "tool name";
    case "intent":
      return "intent name";
    case "toolset":
      return "tool patterns";
    case "namespace":
      return `\`${type.name}\``;
    case "empty":
      return "nothing";
    case "error":
      return "unknown";
    default:
      return type.kind;
  }
}

/** Tool and intent names behave as strings for `like`, methods and comparison with a string. */
export function isStringLike(type: Type): boolean {
  return type.kind === "string" || type.kind === "tool" || type.kind === "intent" || type.kind === "error";
}

export function isCollection(type: Type): type is { kind: "set" | "list"; element: Type } {
  return type.kind === "set" || type.kind === "list";
}

/** Whether values of the two types can be compared with `==` or share a collection. */
export function compatible(a: Type, b: Type): boolean {
  if (a.kind === "error" || b.kind === "error" || a.kind === "empty" || b.kind === "empty") return true;
  if (isStringLike(a) && isStringLike(b)) return a.kind === b.kind || a.kind === "string" || b.kind === "string";
  if (isCollection(a) && isCollection(b)) return compatible(a.element, b.element);
  if (a.kind !== b.kind) return false;
  if ((a.kind === "enum" || a.kind === "record") && (b.kind === "enum" || b.kind === "record")) return a.name === b.name;
  return true;
}

/**
 * The type values of the compatible types `a` and `b` are compared as: a set where either has
 * one, at any depth (`list<set<T>>` against `list<list<T>>` compares the inner collections as
 * sets), so the answer does not depend on which operand is written first (language.md 5.5);
 * otherwise `a`, unless its error left it unknown.
 */
export function comparedType(a: Type, b: Type): Type {
  if (isCollection(a) && isCollection(b)) return { kind: a.kind === "set" || b.kind === "set" ? "set" : "list", element: comparedType(a.element, b.element) };
  return a.kind === "error" || a.kind === "empty" ? b : a;
}
