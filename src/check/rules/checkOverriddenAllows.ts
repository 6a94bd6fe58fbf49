import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import type { CheckedRule } from "../program.js";
import { isUnconditional } from "./checkConstantConditions.js";

/**
 * An `allow` whose every tool has an unconditional `deny` or `ask` can never allow anything
 * (PC501): deny wins over ask, and ask over allow, so the call is refused or goes to a human.
 * An allow that grants still takes effect where it is only asked: an approved call gets its
 * grants (an ask's `grantsOnApproval`), so for it only unconditional denies count.
 */
export function checkOverriddenAllows(rules: readonly CheckedRule[], diagnostics: Diagnostic[]): void {
  const alwaysDenied = new Map<string, CheckedRule>();
  const alwaysAsked = new Map<string, CheckedRule>();
  for (const checked of rules) {
    if (checked.rule.effect === "allow" || !isUnconditional(checked.rule)) continue;
    const overriders = checked.rule.effect === "deny" ? alwaysDenied : alwaysAsked;
    for (const tool of checked.tools) if (!overriders.has(tool)) overriders.set(tool, checked);
  }
  if (alwaysDenied.size === 0 && alwaysAsked.size === 0) return;
  // Ids used by more than one rule (a policy declared twice, one `@name` on two rules) are
  // PC200 or PC207 already; a PC501 naming one would name the allow's own id as its overrider
  // (`p/1` denies what `p/1` allows), which explains nothing (audit s20 a1 L5).
  const rulesById = new Map<string, number>();
  for (const checked of rules) rulesById.set(checked.id, (rulesById.get(checked.id) ?? 0) + 1);
  for (const checked of rules) {
    if (checked.rule.effect !== "allow" || checked.tools.length === 0) continue;
    // For each tool, the rule that decides it: a deny, else (for an allow that grants nothing) an ask.
    const asked = checked.rule.grant === undefined ? alwaysAsked : undefined;
    const overrider = (tool: string): CheckedRule | undefined => alwaysDenied.get(tool) ?? asked?.get(tool);
    if (!checked.tools.every((t) => overrider(t) !== undefined)) continue;
    // Denies before asks (a deny decides), each in source order.
    const by = [...new Set(checked.tools.map((t) => overrider(t)!))].sort((a, b) => Number(a.rule.effect !== "deny") - Number(b.rule.effect !== "deny") || rules.indexOf(a) - rules.indexOf(b));
    if (by.some((r) => rulesById.get(r.id)! > 1)) continue;
    const first = by[0]!;
    const effects = new Set(by.map((r) => r.rule.effect));
    let cause: string;
    if (by.length === 1) {
      const what = checked.tools.length === 1 ? `\`${checked.tools[0]}\`` : "the same tools";
      cause = first.rule.effect === "deny" ? `\`${first.id}\` denies ${what} unconditionally` : `\`${first.id}\` is an unconditional \`ask\` for ${what}`;
    } else {
      const names = by.slice(0, 3).map((r) => `\`${r.id}\``).join(", ") + (by.length > 3 ? ` and ${by.length - 3} more` : "");
      cause = `every tool it targets has an unconditional ${(["deny", "ask"] as const).filter((e) => effects.has(e)).map((e) => `\`${e}\``).join(" or ")} (${names})`;
    }
    const { line } = first.rule.span.file.position(first.rule.span.start);
    // Each rule the message names, at its effect keyword (`deny`, `ask`), as the allow is pointed at by its own.
    const overriders = by.slice(0, 3).map((r) => ({ span: r.rule.effectSpan, message: `the \`${r.rule.effect}\` that overrides it (\`${r.id}\`)` }));
    const wins = effects.size === 2 ? "deny and ask win over allow" : `${first.rule.effect} wins over allow`;
    diagnostics.push(diagnostic("PC501", `this \`allow\` never takes effect: ${cause}`, checked.rule.effectSpan, `\`${first.id}\` is at ${first.rule.span.file.path}:${line}; ${wins}`, overriders));
  }
}
