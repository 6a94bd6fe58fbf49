import type { Effect, Grant } from "./decision.js";
import type { IrExpr } from "./ir.js";
import type { RuntimeSchema } from "./schema.js";
import type { SessionUse } from "./session.js";

/** A rule as the runtime and tools see it (the `rules` of a bundle). */
export interface RuleInfo {
  readonly id: string;
  readonly policy: string;
  readonly effect: Effect;
  /** Targets as written (`*`, `kb.*`, `email.send`). */
  readonly targets: readonly string[];
  /** Declared tools the targets match. */
  readonly tools: readonly string[];
  readonly reason: string | null;
  readonly grants: readonly Grant[];
  readonly revoke: boolean;
  /** `@controls(…)` values. */
  readonly controls: readonly string[];
  /** Every other annotation, `@key("value", …)` → `{ key: ["value", …] }`. */
  readonly annotations: Readonly<Record<string, readonly string[]>>;
  readonly docs: string | null;
  /** `file:line:col` of the rule's effect keyword. */
  readonly location: string;
  /** The condition (`when` and not `unless`) as written, and resolved; null when the rule has none. */
  readonly condition: string | null;
  /** The top-level clauses of the condition as written (`and` terms of `when`, then `unless X`). */
  readonly clauses: readonly string[];
  readonly ir: IrExpr | null;
}

/** Everything needed to decide: what a bundle carries besides its manifest. */
export interface CompiledPolicy {
  readonly schema: RuntimeSchema;
  readonly rules: readonly RuleInfo[];
  readonly session: SessionUse;
  /** JavaScript source of the decision functions (see compile/emitJavaScript.ts). */
  readonly code: string;
}
