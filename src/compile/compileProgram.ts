import type * as A from "../ast/nodes.js";
import { printExpr } from "../ast/printExpr.js";
import type { CheckedProgram, CheckedRule } from "../check/program.js";
import { markCompiled } from "../runtime/engine.js";
import type { CompiledPolicy, RuleInfo } from "../runtime/policy.js";
import type { RuntimeSchema } from "../runtime/schema.js";
import type { SessionUse } from "../runtime/session.js";
import { analyzeSessionUse } from "./analyzeSessionUse.js";
import { buildRuntimeSchema } from "./buildRuntimeSchema.js";
import { emitJavaScript } from "./emitJavaScript.js";
import { indexRulesByTool } from "./indexRulesByTool.js";
import { ConditionLowering, ruleClauses } from "./lowerConditions.js";

/**
 * The compiler: named passes in order over a checked program (which must have no errors).
 *   1. lowerRules        — each rule's metadata and its condition in the decision IR
 *   2. analyzeSessionUse — which session state the conditions read (runtime keeps only that)
 *   3. buildRuntimeSchema — the declarations as the runtime validates requests
 *   4. indexRulesByTool  — rules grouped per declared tool and effect (constant-time dispatch)
 *   5. emitJavaScript    — small functions per rule and per tool
 */
export function compileProgram(program: CheckedProgram): CompiledPolicy {
  const rules = lowerRules(program);
  const session = analyzeSessionUse(rules.map((r) => r.ir));
  const schema = buildRuntimeSchema(program.schema);
  const code = emitRulesCode(rules, schema, session);
  const policy = { schema, rules, session, code };
  // `new Engine` runs the code of what the compiler made (and copies of it), and of no hand-made policy.
  markCompiled(policy);
  return policy;
}

/**
 * Passes 4 and 5: the code this policyc emits for rules, the tools dispatched in the schema's
 * order. One piece, so that what a bundle's code (verifyBundleCode) and its rules' text
 * (ruleTextMismatch) are compared with is emitted exactly as compileProgram emits it.
 */
export function emitRulesCode(rules: readonly RuleInfo[], schema: RuntimeSchema, session: SessionUse): string {
  return emitJavaScript(rules, indexRulesByTool(rules, Object.keys(schema.tools)), schema, session);
}

/**
 * Pass 1: each checked rule as the bundle carries it, its readable fields (targets, condition,
 * clauses) as the source wrote them and its condition lowered to the IR. Also what a bundle's
 * rule text is compared with (ruleTextMismatch): it must derive the same way.
 */
export function lowerRules(program: CheckedProgram): RuleInfo[] {
  const lowering = new ConditionLowering(program);
  return program.rules.map((checked) => ruleInfo(checked, lowering.rule(checked.rule)));
}

function ruleInfo(checked: CheckedRule, ir: RuleInfo["ir"]): RuleInfo {
  const { rule } = checked;
  const { line, column } = rule.effectSpan.file.position(rule.effectSpan.start);
  const annotations: Record<string, string[]> = {};
  let controls: string[] = [];
  for (const annotation of rule.annotations) {
    const values = annotation.args.map((a) => (a.kind === "DurationLiteral" ? a.text : String(a.value)));
    if (annotation.name.name === "name") continue;
    if (annotation.name.name === "controls") controls = [...controls, ...values];
    else {
      // Own properties only: `@constructor(…)` or `@__proto__(…)` would otherwise read (and
      // spread) what the prototype holds, and crash the compiler.
      const key = annotation.name.name;
      const earlier = Object.hasOwn(annotations, key) ? annotations[key]! : [];
      Object.defineProperty(annotations, key, { value: [...earlier, ...values], enumerable: true, writable: true, configurable: true });
    }
  }
  return {
    id: checked.id,
    policy: checked.policy,
    effect: rule.effect,
    targets: rule.targets.map((t) => t.text),
    tools: checked.tools,
    reason: rule.reason?.value ?? null,
    grants: rule.grant ? rule.grant.scopes.map((s) => ({ scope: s.value, ttlSeconds: Math.floor(rule.grant!.ttl.milliseconds / 1000) })) : [],
    revoke: rule.revoke !== undefined,
    controls,
    annotations,
    docs: rule.docs.length > 0 ? rule.docs.join("\n") : null,
    location: `${rule.effectSpan.file.path}:${line}:${column}`,
    condition: conditionText(rule),
    // An `unless` clause is written as such: explanations show "unless `X` was false".
    clauses: ruleClauses(rule).map((c) => (c.negated ? `unless ${printExpr(c.expr)}` : printExpr(c.expr))),
    ir,
  };
}

function conditionText(rule: A.Rule): string | null {
  const parts: string[] = [];
  if (rule.when) parts.push(`when ${printExpr(rule.when)}`);
  if (rule.unless) parts.push(`unless ${printExpr(rule.unless)}`);
  return parts.length > 0 ? parts.join(" ") : null;
}
