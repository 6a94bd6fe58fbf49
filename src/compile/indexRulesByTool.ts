import type { RuleInfo } from "../runtime/policy.js";

/** For one tool: the indices of the rules that target it, by effect, in source order. */
export interface ToolRules {
  readonly tool: string;
  readonly deny: readonly number[];
  readonly ask: readonly number[];
  readonly allow: readonly number[];
}

export interface DispatchPlan {
  readonly tools: readonly ToolRules[];
}

/**
 * Pass 3: resolves every rule's targets to the declared tools (done by the checker) and
 * groups rules per tool, so a decision costs one map lookup however many rules the set has.
 */
export function indexRulesByTool(rules: readonly RuleInfo[], toolNames: readonly string[]): DispatchPlan {
  const byTool = new Map(toolNames.map((t) => [t, { tool: t, deny: [] as number[], ask: [] as number[], allow: [] as number[] }]));
  rules.forEach((rule, index) => {
    for (const tool of rule.tools) byTool.get(tool)?.[rule.effect].push(index);
  });
  return { tools: [...byTool.values()] };
}
