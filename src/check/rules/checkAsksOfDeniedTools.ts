import type * as A from "../../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import { listed } from "../../diagnostics/suggest.js";
import { globMatch } from "../../runtime/glob.js";
import type { CheckedRule } from "../program.js";
import type { Resolution } from "../resolution.js";
import type { Schema } from "../schema.js";
import { calledToolVerdict } from "./checkTargetContradictions.js";

/** How many tools the message names before "and N more". */
const SHOWN_TOOLS = 3;

/**
 * An `ask` whose pattern (`*`, `mail.*`) covers a tool that no `allow` rule targets (PC513).
 * Such a tool is denied by default, and ask wins over the default deny (language.md section 7),
 * so for it the rule turns a refusal into a request for approval: `ask * when session.denials
 * >= 5` escalates an agent that keeps trying a forbidden tool to a human instead of refusing it.
 * A tool the ask names (`ask http.get`), or picks out by its condition (`when tool ==
 * http.get`, `when tool.risk >= high`), is an approval-only tool by design and is left alone;
 * so is one an unconditional `deny` refuses (deny wins over ask), or one an unconditional `ask`
 * names (an unconditional `ask *` is itself reported).
 */
export function checkAsksOfDeniedTools(rules: readonly CheckedRule[], schema: Schema, resolutions: ReadonlyMap<A.Expr, Resolution>, diagnostics: Diagnostic[]): void {
  const allowed = new Set(rules.filter((checked) => checked.rule.effect === "allow").flatMap((checked) => checked.tools));
  // A tool an unconditional deny targets is refused whatever the ask says (deny wins).
  const alwaysDenied = new Set(rules.filter((checked) => checked.rule.effect === "deny" && !checked.rule.when && !checked.rule.unless).flatMap((checked) => checked.tools));
  // A tool an unconditional ask names is approval-only by design: asked about whatever this ask
  // says. Only named: a tool an unconditional `ask *` covers is what this check is about, in that
  // rule itself (which would otherwise exempt its own tools) as in any other.
  const alwaysAsked = new Set(rules.filter((checked) => checked.rule.effect === "ask" && !checked.rule.when && !checked.rule.unless).flatMap((checked) => checked.rule.targets.filter((target) => !target.text.includes("*")).map((target) => target.text)));
  for (const { rule, tools } of rules) {
    if (rule.effect !== "ask") continue;
    const patterns = rule.targets.filter((target) => target.text.includes("*"));
    const named = new Set(rule.targets.filter((target) => !target.text.includes("*")).map((target) => target.text));
    const denied = tools.filter((tool) => !allowed.has(tool) && !alwaysDenied.has(tool) && !alwaysAsked.has(tool) && !named.has(tool) && calledToolVerdict(rule, schema.tools.get(tool)!, resolutions) === undefined);
    const target = patterns.find((pattern) => denied.some((tool) => globMatch(pattern.text, tool)));
    if (target === undefined) continue;
    const shown = denied.slice(0, SHOWN_TOOLS).map((tool) => `\`${tool}\``);
    if (denied.length > SHOWN_TOOLS) shown.push(`${denied.length - SHOWN_TOOLS} more`);
    const them = denied.length === 1 ? "it" : "them";
    diagnostics.push(
      diagnostic(
        "PC513",
        `\`${target.text}\` covers ${listed(shown)}, which no \`allow\` rule targets: for ${them} this \`ask\` turns the default deny into a request for approval`,
        target.span,
        `to refuse ${them}, write \`deny\`; to ask only about allowed tools, narrow the targets`,
      ),
    );
  }
}
