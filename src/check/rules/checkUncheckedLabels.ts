import type * as A from "../../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import type { Resolution } from "../resolution.js";
import type { Schema } from "../schema.js";

/**
 * `session.labels` read in a set with a label enum whose `context` block does not declare
 * `labels` (PC515, language.md 3.7 case 2). The labels requests send in `context.labels` still
 * join the session, but unchecked: one sent in another case (`"PII"`), or in another shape (a bare
 * string `"pii"`), adds no taint, and a rule such as `deny email.send when session.labels
 * contains pii` then allows without a word. Declared, a label that is no member is refused.
 * Reported once, at the first read.
 */
export function checkUncheckedLabels(schema: Schema, resolutions: ReadonlyMap<A.Expr, Resolution>, diagnostics: Diagnostic[]): void {
  if (schema.labelEnum === undefined || schema.entities.get("context")?.fields.has("labels") === true) return;
  for (const [expr, resolution] of resolutions) {
    if (resolution.kind !== "sessionValue" || resolution.member !== "labels") continue;
    const type = `set<${schema.labelEnum}>`;
    diagnostics.push(
      diagnostic(
        "PC515",
        "`session.labels` holds the labels requests send in `context.labels`, which the `context` block does not declare: they are not checked, so a label sent in another case (`\"PII\"`) or shape (a bare string) adds no taint, silently",
        expr.span,
        `declare \`labels: ${type}\` in the \`context\` block (or \`labels?: ${type}\` when requests may leave it out): a request sending a label that is no member of \`${schema.labelEnum}\` is then refused`,
      ),
    );
    return;
  }
}
