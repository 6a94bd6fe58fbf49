import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import type { Span } from "../../source/Span.js";

/**
 * Rule ids must be unique across the set: decisions and coverage name rules by id. They must
 * also be told apart in a decision's errors, each written `ID: message`: an id that is another
 * rule's followed by `: ` (`rate` and `rate: host`) makes the errors of one read as the other's,
 * and which rule a revocation's error came from decides whether it revokes.
 */
export function checkRuleIds(rules: readonly { id: string; span: Span }[], diagnostics: Diagnostic[]): void {
  const first = new Map<string, Span>();
  const where = (span: Span): string => `${span.file.path}:${span.file.position(span.start).line}`;
  for (const rule of rules) {
    const previous = first.get(rule.id);
    if (previous) diagnostics.push(diagnostic("PC207", `the rule id \`${rule.id}\` is already used`, rule.span, `the first rule with this id is at ${where(previous)}; rule ids must be unique across the set`));
    else first.set(rule.id, rule.span);
  }
  for (const [id, span] of first) {
    for (let at = id.indexOf(": "); at >= 0; at = id.indexOf(": ", at + 1)) {
      const shorter = first.get(id.slice(0, at));
      if (shorter === undefined) continue;
      const message = `the rule id \`${id}\` is the rule id \`${id.slice(0, at)}\` followed by \`: \`, and a decision's errors (written \`ID: message\`) could not tell the two rules apart`;
      diagnostics.push(diagnostic("PC207", message, span, `the other rule is at ${where(shorter)}; rename one (\`${id.replace(/: /g, " - ")}\`, say)`));
      break;
    }
  }
}
