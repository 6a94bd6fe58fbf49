import type * as A from "../../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import { listed } from "../../diagnostics/suggest.js";
import type { CheckedRule } from "../program.js";
import type { Resolution } from "../resolution.js";
import { toolsMatching, type Schema, type ToolInfo } from "../schema.js";
import { RISK_LEVELS } from "../types.js";
import { isUnconditional } from "./checkConstantConditions.js";
import { constantValue } from "./constant.js";
import { toolOnlyValue } from "./checkTargetContradictions.js";

/**
 * What stands for a tool declared later under a pattern: each `*` replaced by a segment no
 * tool can be declared with (it is no identifier), so no name in the policy equals it.
 */
const NEW_SEGMENT = "(new)";

const HELP = 'add a `when` that says who may call them, or name the tools; if every one is meant, write `@suppress("PC521")` before the rule';

/**
 * An `allow` whose patterns cover every tool (`*`), a whole namespace (a pattern ending in `.*`:
 * `payments.*`, `kb.*.*`) or, together, every declared tool, with no condition that says who
 * may call (PC521): none, one that is always true, or one that reads only the tool (`unless
 * tool == payments.refund`, `when tool.risk <= critical`), which picks tools, not callers. Such a
 * rule allows what nobody decided on: every tool declared later (a new `payments.payout` added
 * to the shared schema by another team) is allowed by it too, and in a monorepo the rule and the
 * declaration are rarely reviewed together. One warning a rule, at its first broad pattern: its
 * patterns are one decision. A rule meant so is kept with `@suppress("PC521")`.
 */
export function checkBroadAllows({ rule, tools }: CheckedRule, schema: Schema, resolutions: ReadonlyMap<A.Expr, Resolution>, diagnostics: Diagnostic[]): void {
  const patterns = rule.targets.filter((target) => target.text.includes("*"));
  // A rule that names each of its tools decided on each: that is what the help asks for.
  if (rule.effect !== "allow" || tools.length === 0 || patterns.length === 0) return;
  const unconditional = isUnconditional(rule);
  const lets = unconditional ? () => true : letsThrough(rule, resolutions);
  const allowed = new Set<string>();
  for (const name of tools) {
    const value = lets(schema.tools.get(name)!);
    if (value === undefined) return;
    if (value) allowed.add(name);
  }
  // A pattern is open when a tool declared later under it, of any risk, is allowed too.
  const open = patterns.filter(
    (target) => (target.text === "*" || target.text.endsWith(".*")) && RISK_LEVELS.every((risk) => lets({ name: target.text.replaceAll("*", NEW_SEGMENT), risk }) === true),
  );
  const everyDeclared = allowed.size === schema.tools.size;
  if (open.length === 0 && !everyDeclared) return;
  const condition = unconditional ? "with no condition" : "and its condition reads only the tool";
  const span = (open[0] ?? patterns[0]!).span;
  if (open.length === 0) {
    const written = rule.targets.map((target) => target.text).join(", ");
    diagnostics.push(diagnostic("PC521", `\`allow ${written}\` allows every declared tool, ${condition}`, span, HELP));
    return;
  }
  const everyTool = open.some((target) => target.text === "*");
  // Each pattern matched once, against the rule's own tools: the union is what the rule allows.
  const covered = everyTool ? tools : [...new Set(open.flatMap((target) => toolsMatching(target.text, tools)))];
  const leftOut = covered.filter((name) => !allowed.has(name)).length;
  const butLeftOut = leftOut > 0 ? ` but the ${leftOut} its condition leaves out` : "";
  const scope = everyTool ? `every tool${butLeftOut}` : `every tool of ${listed(open.map((target) => `\`${target.text.slice(0, -2)}\``))}${butLeftOut} (${covered.length - leftOut} declared)`;
  const later = everyTool ? "every tool declared later" : `every tool declared later under ${open.length === 1 ? "it" : "them"}`;
  diagnostics.push(diagnostic("PC521", `\`allow ${open.map((target) => target.text).join(", ")}\` allows ${scope}, ${condition}: ${later} is allowed too`, span, HELP));
}

/**
 * Whether a rule's `when` and `unless` let a call of `tool` through, when each is constant or
 * decided by the tool alone; undefined when one reads more.
 */
function letsThrough(rule: A.Rule, resolutions: ReadonlyMap<A.Expr, Resolution>): (tool: Pick<ToolInfo, "name" | "risk">) => boolean | undefined {
  const clause = (expr: A.Expr | undefined, passes: boolean) => {
    if (expr === undefined) return () => true;
    const constant = constantValue(expr);
    if (typeof constant === "boolean") return () => constant === passes;
    return (tool: Pick<ToolInfo, "name" | "risk">) => {
      const value = toolOnlyValue(expr, tool, resolutions);
      return value === undefined ? undefined : value === passes;
    };
  };
  const when = clause(rule.when, true);
  const unless = clause(rule.unless, false);
  return (tool) => {
    const [a, b] = [when(tool), unless(tool)];
    return a === undefined || b === undefined ? undefined : a && b;
  };
}
