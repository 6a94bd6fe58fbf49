import type * as A from "../../ast/nodes.js";
import type { Diagnostic } from "../../diagnostics/Diagnostic.js";
import { checkPatternMatchesTools, type Schema } from "../schema.js";

/** Resolves a rule's targets to declared tools; a target matching none is PC203/PC208. */
export function checkRuleTargets(rule: A.Rule, schema: Schema, diagnostics: Diagnostic[]): string[] {
  const matched = new Set<string>();
  for (const target of rule.targets) for (const tool of checkPatternMatchesTools(target, schema.tools.keys(), diagnostics)) matched.add(tool);
  // Declaration order, so ids and generated code do not depend on target order.
  return [...schema.tools.keys()].filter((t) => matched.has(t));
}
