import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import { lookAlikeDifference, lookAlikeForm } from "../../diagnostics/printable.js";
import type { Span } from "../../source/Span.js";

/**
 * Rule ids must be unique across the set: decisions and coverage name rules by id (PC207). They
 * must also be told apart in a decision's errors, each written `ID: message`: an id that is
 * another rule's followed by `: ` (`rate` and `rate: host`) makes the errors of one read as the
 * other's, and which rule a revocation's error came from decides whether it revokes (PC207 too).
 * Two ids that differ but look alike (`café` typed on macOS, decomposed, and on Windows,
 * composed; `ab` and `a` zero-width space `b`) are a warning, PC518: a recording or a report
 * names one where the other is meant, and no reader sees why it fails.
 */
export function checkRuleIds(rules: readonly { id: string; span: Span }[], diagnostics: Diagnostic[]): void {
  const first = new Map<string, Span>();
  const firstLookingAlike = new Map<string, { id: string; span: Span }>();
  for (const rule of rules) {
    const previous = first.get(rule.id);
    if (previous) {
      diagnostics.push(diagnostic("PC207", `the rule id \`${rule.id}\` is already used`, rule.span, `the first rule with this id is at ${placeOf(previous)}; rule ids must be unique across the set`, [{ span: previous, message: "first used here" }]));
      continue;
    }
    first.set(rule.id, rule.span);
    const looks = lookAlikeForm(rule.id);
    const alike = firstLookingAlike.get(looks);
    if (alike === undefined) firstLookingAlike.set(looks, rule);
    else {
      const how = lookAlikeDifference(rule.id, alike.id, ["this id", "that one"])!;
      diagnostics.push(diagnostic("PC518", `the rule id \`${rule.id}\` looks like \`${alike.id}\`, the id of the rule at ${placeOf(alike.span)}, but differs in ${how}`, rule.span, "give the rules ids that can be told apart, or write this id as the other is written", [{ span: alike.span, message: "the rule whose id it looks like" }]));
    }
  }
  for (const [id, span] of first) {
    for (let at = id.indexOf(": "); at >= 0; at = id.indexOf(": ", at + 1)) {
      const shorter = first.get(id.slice(0, at));
      if (shorter === undefined) continue;
      const message = `the rule id \`${id}\` is the rule id \`${id.slice(0, at)}\` followed by \`: \`, and a decision's errors (written \`ID: message\`) could not tell the two rules apart`;
      diagnostics.push(diagnostic("PC207", message, span, `the other rule is at ${placeOf(shorter)}; rename one (\`${id.replace(/: /g, " - ")}\`, say)`, [{ span: shorter, message: `the rule \`${id.slice(0, at)}\`` }]));
      break;
    }
  }
}

function placeOf(span: Span): string {
  return `${span.file.path}:${span.file.position(span.start).line}`;
}
