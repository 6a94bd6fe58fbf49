import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import type { Span } from "../../source/Span.js";

/** Rule ids must be unique across the set: decisions and coverage name rules by id. */
export function checkRuleIds(rules: readonly { id: string; span: Span }[], diagnostics: Diagnostic[]): void {
  const first = new Map<string, Span>();
  for (const rule of rules) {
    const previous = first.get(rule.id);
    if (previous) {
      const { line } = previous.file.position(previous.start);
      diagnostics.push(diagnostic("PC207", `the rule id \`${rule.id}\` is already used`, rule.span, `the first rule with this id is at ${previous.file.path}:${line}; rule ids must be unique across the set`));
    } else first.set(rule.id, rule.span);
  }
}
