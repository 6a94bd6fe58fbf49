import type * as A from "../ast/nodes.js";
import { subexpressions } from "../ast/subexpressions.js";
import { diagnostic, type Diagnostic } from "../diagnostics/Diagnostic.js";
import { MAX_NESTING } from "../syntax/parse.js";
import { ExpressionChecker } from "./expressions.js";
import type { CheckedProgram, CheckedRule } from "./program.js";
import { checkAnnotations } from "./rules/checkAnnotations.js";
import { checkAsksOfDeniedTools } from "./rules/checkAsksOfDeniedTools.js";
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
        const tooDeep = [rule.when, rule.unless].map((condition) => condition && pastNestingLimit(condition)).find((node) => node !== undefined);
        if (tooDeep !== undefined) diagnostics.push(diagnostic("PC106", `expression nested more than ${MAX_NESTING} levels deep`, tooDeep.span, "split the condition into simpler parts (each call of a chain such as `x.lower().lower()` is a level)"));
        else try {
          if (rule.when) expressions.checkCondition(rule.when, emptyScope, whenContext);
          if (rule.unless) {
            // `unless U` runs only when `when W` held, so W's `has` guards cover U.
            const guards = rule.when ? expressions.guardsFrom(rule.when) : [];
            expressions.checkCondition(rule.unless, { locals: new Map(), guards: new Set(guards) }, unlessContext);
          }
        } catch (error) {
          if (!(error instanceof RangeError)) throw error;
          diagnostics.push(diagnostic("PC106", "this condition is nested too deeply to check", rule.span, "split it into simpler rules"));
        }
        checkConstantConditions(rule, diagnostics);
        const checked = { id, policy: decl.name.name, rule, tools };
        checkTargetContradictions(checked, schema, expressions.resolutions, diagnostics);
        rules.push(checked);
      });
    }
  }

  checkRuleIds(idSpans, diagnostics);
  checkOverriddenAllows(rules, diagnostics);
  checkAsksOfDeniedTools(rules, schema, expressions.resolutions, diagnostics);
  checkUncheckedLabels(schema, expressions.resolutions, diagnostics);
  checkTestedLabels(rules, schema, expressions.resolutions, diagnostics);
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
 * The first node of `condition` more than MAX_NESTING levels deep, counted as the parser counts
 * (brackets and `not`s, section PC106) and also one level per call of a chain
 * (`x.lower().lower()…`), whose brackets the parser sees one pair at a time. The generated code
 * nests each call in the next, and a chain of a thousand would check and build, then overflow
 * the stack in `decide` (failing closed, but never deciding). Walked without recursion: a long
 * `or` chain is as deep in the AST as it is long.
 */
function pastNestingLimit(condition: A.Expr): A.Expr | undefined {
  const pending: [A.Expr, number][] = [[condition, 0]];
  for (let next = pending.pop(); next !== undefined; next = pending.pop()) {
    const [node, outer] = next;
    const depth = node.kind === "Call" || node.kind === "Paren" || node.kind === "ListLiteral" || node.kind === "Quantifier" || node.kind === "Not" ? outer + 1 : outer;
    if (depth > MAX_NESTING) return node;
    for (const child of subexpressions(node)) pending.push([child, depth]);
  }
  return undefined;
}
