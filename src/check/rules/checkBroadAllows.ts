import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import type { CheckedRule } from "../program.js";
import { toolsMatching, type Schema } from "../schema.js";
import { isUnconditional } from "./checkConstantConditions.js";

/** A pattern that stands for a whole namespace: `payments.*`, `kb.index.*` (one `*`, last). */
const NAMESPACE_PATTERN = /^([^*]+)\.\*$/;

/**
 * An `allow` whose pattern covers every tool (`*`), a whole namespace (`payments.*`) or every
 * declared tool, with no condition or one that is always true (PC521). Such a rule allows what
 * nobody decided on: every tool declared later (a new `payments.payout` added to the shared
 * schema by another team) is allowed by it too, and in a monorepo the rule and the declaration
 * are rarely reviewed together. A rule meant so is kept with `@suppress("PC521")`.
 */
export function checkBroadAllows({ rule, tools }: CheckedRule, schema: Schema, diagnostics: Diagnostic[]): void {
  if (rule.effect !== "allow" || tools.length === 0 || !isUnconditional(rule)) return;
  const help = 'add a `when` that says who may call them, or name the tools; if every one is meant, write `@suppress("PC521")` before the rule';
  for (const target of rule.targets) {
    if (!target.text.includes("*")) continue;
    const namespace = NAMESPACE_PATTERN.exec(target.text)?.[1];
    let message: string | undefined;
    if (target.text === "*") message = "`allow *` allows every tool, with no condition: every tool declared later is allowed too";
    else if (namespace !== undefined) {
      const count = toolsMatching(target.text, schema.tools.keys()).length;
      message = `\`allow ${target.text}\` allows every tool of \`${namespace}\` (${count} declared), with no condition: every tool declared later under it is allowed too`;
    } else if (toolsMatching(target.text, schema.tools.keys()).length === schema.tools.size) message = `\`allow ${target.text}\` allows every declared tool, with no condition`;
    if (message !== undefined) diagnostics.push(diagnostic("PC521", message, target.span, help));
  }
}
