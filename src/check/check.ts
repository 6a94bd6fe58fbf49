import type * as A from "../ast/nodes.js";
import { nestingDiagnostic } from "../ast/nesting.js";
import { diagnostic, type Diagnostic } from "../diagnostics/Diagnostic.js";
import { isPlausiblyTooDeep, isStackExhausted } from "../diagnostics/stackExhausted.js";
import { ExpressionChecker } from "./expressions.js";
import type { CheckedProgram, CheckedRule } from "./program.js";
import { checkAnnotations } from "./rules/checkAnnotations.js";
import { checkAsksOfDeniedTools } from "./rules/checkAsksOfDeniedTools.js";
import { checkBroadAllows } from "./rules/checkBroadAllows.js";
import { checkConstantConditions } from "./rules/checkConstantConditions.js";
import { checkOverriddenAllows } from "./rules/checkOverriddenAllows.js";
import { checkRuleClauses } from "./rules/checkRuleClauses.js";
import { checkRuleIds } from "./rules/checkRuleIds.js";
import { checkRuleTargets } from "./rules/checkRuleTargets.js";
import { checkTargetContradictions } from "./rules/checkTargetContradictions.js";
import { checkToolsDeclared } from "./rules/checkToolsDeclared.js";
import { checkUncheckedLabels } from "./rules/checkUncheckedLabels.js";
import { checkTestedLabels } from "./rules/checkTestedLabels.js";
import { checkUninhabitedTypes, recordsRequestsCanHold } from "./rules/checkUninhabitedTypes.js";
import { checkUnusedDeclarations } from "./rules/checkUnusedDeclarations.js";
import { buildSchema } from "./schema.js";

/**
 * Type-checks a parsed policy set. The order matters: the schema comes first (rules are typed
 * against it), then each rule (targets before conditions, since `args` is typed by the
 * targets), then the checks that look across rules (ids, overridden allows, unused types).
 */
export function checkProgram(files: readonly A.PolicyFile[]): { program: CheckedProgram; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const { schema, diagnostics: schemaDiagnostics, typeUses } = buildSchema(files);
  diagnostics.push(...schemaDiagnostics);
  checkUninhabitedTypes(schema, files, typeUses, diagnostics);
  const expressions = new ExpressionChecker(schema, diagnostics);
  const rules: CheckedRule[] = [];
  /** The rules the passes across rules read: those without a PC106. */
  const walkable: CheckedRule[] = [];
  const idSpans: { id: string; span: A.Rule["span"] }[] = [];

  const policyNames = new Set<string>();
  for (const file of files) {
    for (const decl of file.declarations) {
      if (decl.kind !== "PolicyDecl") continue;
      // A second policy of a name is PC200 already: its default ids repeat the first one's, and
      // a PC207 for each of its rules would say the same thing again.
      const repeated = policyNames.has(decl.name.name);
      policyNames.add(decl.name.name);
      decl.rules.forEach((rule, index) => {
        const defaultId = `${decl.name.name}/${index + 1}`;
        const name = checkAnnotations(rule, defaultId, diagnostics);
        const id = name ?? defaultId;
        const nameAnnotation = rule.annotations.find((a) => a.name.name === "name");
        if (name !== undefined || !repeated) idSpans.push({ id, span: nameAnnotation?.span ?? rule.effectSpan });
        const tools = checkRuleTargets(rule, schema, diagnostics);
        checkRuleClauses(rule, diagnostics);
        const whenContext = { tools, effect: rule.effect, clause: "when" } as const;
        const unlessContext = { tools, effect: rule.effect, clause: "unless" } as const;
        const emptyScope = { locals: new Map(), guards: new Set<string>() };
        const checked = { id, policy: decl.name.name, rule, tools };
        const tooDeep = nestingDiagnostic(rule);
        if (tooDeep !== undefined) diagnostics.push(tooDeep);
        // A rule past the nesting limit is left out of every later pass: they walk its condition
        // by recursion, and a chain of thousands of calls would exhaust their stack.
        const checkedWhole =
          tooDeep === undefined &&
          withinStack(rule, files, diagnostics, () => {
            if (rule.when) expressions.checkCondition(rule.when, emptyScope, whenContext);
            if (rule.unless) {
              // `unless U` runs only when `when W` held, so W's `has` guards cover U.
              const guards = rule.when ? expressions.guardsFrom(rule.when) : [];
              expressions.checkCondition(rule.unless, { locals: new Map(), guards: new Set(guards) }, unlessContext);
            }
            checkConstantConditions(rule, diagnostics);
            checkTargetContradictions(checked, schema, expressions.resolutions, diagnostics);
            checkBroadAllows(checked, schema, expressions.resolutions, diagnostics);
          });
        if (checkedWhole) walkable.push(checked);
        rules.push(checked);
      });
    }
  }

  checkRuleIds(idSpans, diagnostics);
  checkOverriddenAllows(walkable, diagnostics);
  checkAsksOfDeniedTools(walkable, schema, expressions.resolutions, diagnostics);
  checkUncheckedLabels(schema, expressions.resolutions, diagnostics);
  checkTestedLabels(walkable, schema, expressions.resolutions, diagnostics);
  // A record is used when a request can hold one: one that only refers to itself (`next?:
  // Lonely`) or is held only by other unused records is not.
  const heldRecords = recordsRequestsCanHold(schema);
  const used = new Set([...typeUses, ...expressions.usedEnums].filter((name) => !schema.records.has(name) || heldRecords.has(name)));
  checkUnusedDeclarations(files, used, diagnostics);

  const program = { schema, rules, types: expressions.types, resolutions: expressions.resolutions, files };
  // Last, since it replaces the errors of a set checked without its schema file by one.
  const noTools = checkToolsDeclared(files);
  return { program, diagnostics: noTools ? [noTools.diagnostic, ...noTools.withoutFollowOns(diagnostics)] : diagnostics };
}

/**
 * Runs the passes over one rule's conditions; a stack they exhaust (a shape of condition the
 * nesting limit did not foresee) is that rule's PC106, never an internal error. False then. A
 * rule too shallow to exhaust it is a bug in a pass, and stays a crash to be reported.
 */
function withinStack(rule: A.Rule, files: readonly A.PolicyFile[], diagnostics: Diagnostic[], passes: () => void): boolean {
  try {
    passes();
    return true;
  } catch (error) {
    if (!isStackExhausted(error) || !isPlausiblyTooDeep(files, rule)) throw error;
    diagnostics.push(diagnostic("PC106", "this condition is nested too deeply to check", rule.span, "split it into simpler rules"));
    return false;
  }
}
