import type * as A from "../ast/nodes.js";
import type { Resolution } from "./resolution.js";
import type { Schema } from "./schema.js";
import type { Type } from "./types.js";

/** A rule after checking: its id, the tools its targets resolve to, and its source. */
export interface CheckedRule {
  /** `@name("…")`, or `POLICY/N` counting rules in the policy from 1. */
  readonly id: string;
  readonly policy: string;
  readonly rule: A.Rule;
  /** Declared tools matched by the targets, in declaration order. */
  readonly tools: readonly string[];
}

/** The output of the checker: what the compiler needs and nothing it must re-derive. */
export interface CheckedProgram {
  readonly schema: Schema;
  readonly rules: readonly CheckedRule[];
  readonly types: ReadonlyMap<A.Expr, Type>;
  readonly resolutions: ReadonlyMap<A.Expr, Resolution>;
  readonly files: readonly A.PolicyFile[];
}
