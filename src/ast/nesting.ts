import { diagnostic, type Diagnostic } from "../diagnostics/Diagnostic.js";
import { MAX_NESTING } from "../syntax/parse.js";
import type * as A from "./nodes.js";
import { subexpressions } from "./subexpressions.js";

/**
 * The PC106 of a rule whose `when` or `unless` is nested more than MAX_NESTING levels deep, or
 * undefined. `policyc check` reports it, and `policyc fmt` leaves such a file alone with it: the
 * passes after the parser (the checker's and the printer's) walk conditions by recursion, and
 * a chain of thousands of calls would exhaust their stack.
 */
export function nestingDiagnostic(rule: A.Rule): Diagnostic | undefined {
  const tooDeep = [rule.when, rule.unless].map((condition) => condition && pastNestingLimit(condition)).find((node) => node !== undefined);
  if (tooDeep === undefined) return undefined;
  return diagnostic("PC106", `expression nested more than ${MAX_NESTING} levels deep`, tooDeep.span, "split the condition into simpler parts (each call of a chain such as `x.lower().lower()` is a level)");
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
