import type * as A from "./nodes.js";

/** The terms of a left-nested `and`/`or` chain, walked without recursion so long chains are safe. */
export function chainTermsOf(expr: A.Expr, operator: "and" | "or"): A.Expr[] {
  const terms: A.Expr[] = [];
  let current = expr;
  while (current.kind === "Binary" && current.operator === operator) {
    terms.push(current.right);
    current = current.left;
  }
  terms.push(current);
  return terms.reverse();
}
