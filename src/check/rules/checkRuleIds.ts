import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import { lookAlikeDifference, lookAlikeForm } from "../../diagnostics/printable.js";
import type { Span } from "../../source/Span.js";

/**
 * Rule ids must be unique across the set: decisions and coverage name rules by id (PC207). Two
 * ids that differ but look alike (`café` typed on macOS, decomposed, and on Windows, composed;
 * `ab` and `a` zero-width space `b`) are a warning, PC518: a recording or a report names one
 * where the other is meant, and no reader sees why it fails.
 */
export function checkRuleIds(rules: readonly { id: string; span: Span }[], diagnostics: Diagnostic[]): void {
  const first = new Map<string, Span>();
  const firstLookingAlike = new Map<string, { id: string; span: Span }>();
  for (const rule of rules) {
    const previous = first.get(rule.id);
    if (previous) {
      diagnostics.push(diagnostic("PC207", `the rule id \`${rule.id}\` is already used`, rule.span, `the first rule with this id is at ${placeOf(previous)}; rule ids must be unique across the set`));
      continue;
    }
    first.set(rule.id, rule.span);
    const looks = lookAlikeForm(rule.id);
    const alike = firstLookingAlike.get(looks);
    if (alike === undefined) firstLookingAlike.set(looks, rule);
    else {
      const how = lookAlikeDifference(rule.id, alike.id, ["this id", "that one"])!;
      diagnostics.push(diagnostic("PC518", `the rule id \`${rule.id}\` looks like \`${alike.id}\`, the id of the rule at ${placeOf(alike.span)}, but differs in ${how}`, rule.span, "give the rules ids that can be told apart, or write this id as the other is written"));
    }
  }
}

function placeOf(span: Span): string {
  return `${span.file.path}:${span.file.position(span.start).line}`;
}
