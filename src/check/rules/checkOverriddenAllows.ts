import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import type { CheckedRule } from "../program.js";
import { isUnconditional } from "./checkConstantConditions.js";

/** An `allow` whose every tool has an unconditional `deny` can never allow anything (PC501). */
export function checkOverriddenAllows(rules: readonly CheckedRule[], diagnostics: Diagnostic[]): void {
  const alwaysDenied = new Map<string, CheckedRule>();
  for (const checked of rules) {
    if (checked.rule.effect === "deny" && isUnconditional(checked.rule)) for (const tool of checked.tools) if (!alwaysDenied.has(tool)) alwaysDenied.set(tool, checked);
  }
  if (alwaysDenied.size === 0) return;
  for (const checked of rules) {
    if (checked.rule.effect !== "allow" || checked.tools.length === 0) continue;
    if (!checked.tools.every((t) => alwaysDenied.has(t))) continue;
    const denier = alwaysDenied.get(checked.tools[0]!)!;
    const { line } = denier.rule.span.file.position(denier.rule.span.start);
    diagnostics.push(
      diagnostic("PC501", `this \`allow\` never takes effect: \`${denier.id}\` denies ${checked.tools.length === 1 ? `\`${checked.tools[0]}\`` : "the same tools"} unconditionally`, checked.rule.effectSpan, `\`${denier.id}\` is at ${denier.rule.span.file.path}:${line}; deny wins over allow`),
    );
  }
}
