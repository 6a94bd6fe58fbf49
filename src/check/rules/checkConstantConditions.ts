import type * as A from "../../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import { constantValue } from "./constant.js";

/** A rule that can never match is almost always a mistake: warn (PC500). */
export function checkConstantConditions(rule: A.Rule, diagnostics: Diagnostic[]): void {
  if (rule.when && constantValue(rule.when) === false) {
    diagnostics.push(diagnostic("PC500", "this condition is always false, so the rule never matches", rule.when.span));
  }
  if (rule.unless && constantValue(rule.unless) === true) {
    diagnostics.push(diagnostic("PC500", "this `unless` is always true, so the rule never matches", rule.unless.span));
  }
}

/** True when the rule has no condition that could stop it from matching. */
export function isUnconditional(rule: A.Rule): boolean {
  const whenTrue = rule.when === undefined || constantValue(rule.when) === true;
  const unlessFalse = rule.unless === undefined || constantValue(rule.unless) === false;
  return whenTrue && unlessFalse;
}
