import type { FunctionName } from "../runtime/ir.js";
import type { RiskLevel } from "./types.js";

/** Session members read as values (`session.calls`); `count` and `called` are calls. */
export const SESSION_VALUES = ["calls", "denials", "labels", "tools", "repeats", "age", "last"] as const;
export type SessionValue = (typeof SESSION_VALUES)[number];
export const SESSION_CALLS = ["count", "called"] as const;

export const STRING_METHODS = ["startsWith", "endsWith", "lower", "size"] as const;
export const FUNCTIONS = { url: ["host"], email: ["domain"], path: ["normalize"], ip: ["inRange"] } as const;

/**
 * What a name, member or call in a condition means, as decided by the checker. The compiler
 * reads only these, never re-deriving meaning from spelling.
 */
export type Resolution =
  | { readonly kind: "entity"; readonly entity: "agent" | "user" | "context" }
  | { readonly kind: "args" }
  | { readonly kind: "toolName" }
  | { readonly kind: "intentName" }
  | { readonly kind: "now" }
  | { readonly kind: "namespace" }
  | { readonly kind: "local"; readonly name: string }
  /** An attribute of a record, an entity or the arguments. */
  | { readonly kind: "field"; readonly name: string; readonly optional: boolean }
  | { readonly kind: "toolRisk" }
  | { readonly kind: "intentTools" }
  | { readonly kind: "intentMaxRisk" }
  | { readonly kind: "sessionValue"; readonly member: SessionValue }
  /** An enum member, a risk level, a tool or an intent name written in the policy. */
  | { readonly kind: "enumMember"; readonly enumName: string; readonly member: string }
  | { readonly kind: "riskLevel"; readonly level: RiskLevel }
  | { readonly kind: "toolConstant"; readonly name: string }
  | { readonly kind: "intentConstant"; readonly name: string }
  | { readonly kind: "sessionCount"; readonly pattern?: string; readonly withinMs: number }
  | { readonly kind: "sessionCalled"; readonly pattern: string; readonly withinMs?: number }
  | { readonly kind: "method"; readonly name: (typeof STRING_METHODS)[number] }
  | { readonly kind: "function"; readonly name: FunctionName }
  /** `ip.inRange(s, R)`: the ranges, CIDRs written in the policy and checked (PC307). */
  | { readonly kind: "ipInRange"; readonly ranges: readonly string[] };
