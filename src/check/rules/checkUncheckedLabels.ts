import type * as A from "../../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import type { Resolution } from "../resolution.js";
import type { Schema } from "../schema.js";
import { isCollection, typeToString } from "../types.js";

/**
 * `session.labels` read in a set with a label enum (`enum Label`) while `context.labels` is not
 * declared as a collection of it (PC515, language.md 3.7 case 2). The labels requests send in
 * `context.labels` still join the session, but unchecked: one sent in another case (`"PII"`), or
 * in another shape (a bare string `"pii"`), adds no taint, and a rule such as `deny email.send
 * when session.labels contains pii` then allows without a word. Declared, a label that is no
 * member is refused. Reported once for the set, at the declaration to change (the `labels`
 * attribute, or the label enum when there is none): it is about the schema, not one rule, so no
 * rule's `@suppress` hides it.
 */
export function checkUncheckedLabels(schema: Schema, resolutions: ReadonlyMap<A.Expr, Resolution>, diagnostics: Diagnostic[]): void {
  const labelEnum = schema.labelEnum === undefined ? undefined : schema.enums.get(schema.labelEnum);
  if (labelEnum === undefined) return;
  const field = schema.entities.get("context")?.fields.get("labels");
  if (field !== undefined && isCollection(field.type) && field.type.element.kind === "enum" && field.type.element.name === labelEnum.name) return;
  if (![...resolutions.values()].some((resolution) => resolution.kind === "sessionValue" && resolution.member === "labels")) return;
  const type = `set<${labelEnum.name}>`;
  const unchecked = "so the labels requests send are not checked against it: one sent in another case (`\"PII\"`) or shape (a bare string) adds no taint to `session.labels`, silently";
  const refused = `a request sending a label that is no member of \`${labelEnum.name}\` is then refused`;
  if (field !== undefined) {
    diagnostics.push(diagnostic("PC515", `\`context.labels\` is declared as \`${typeToString(field.type)}\`, not as a set of the label enum \`${labelEnum.name}\`, ${unchecked}`, field.span, `declare it as \`labels${field.optional ? "?" : ""}: ${type}\`: ${refused}`));
    return;
  }
  // With no `context` block, "the `context` block" would send the reader looking for one.
  const hasContextBlock = schema.entities.has("context");
  diagnostics.push(
    diagnostic(
      "PC515",
      `\`${labelEnum.name}\` is the label enum and rules read \`session.labels\`, but ${hasContextBlock ? "the `context` block does not declare `labels`" : "the set has no `context` block to declare `labels`"}, ${unchecked}`,
      labelEnum.decl.name.span,
      `declare \`labels: ${type}\` in ${hasContextBlock ? "the" : "a"} \`context\` block (or \`labels?: ${type}\` when requests may leave it out): ${refused}`,
    ),
  );
}
