import { childrenOf, type IrExpr } from "../runtime/ir.js";
import type { SessionUse } from "../runtime/session.js";

/**
 * Pass 2: finds which session state the conditions read, so the runtime keeps only that:
 * no label set for a policy that never reads `session.labels`, windows only as long as the
 * longest `within`.
 */
export function analyzeSessionUse(conditions: readonly (IrExpr | null)[]): SessionUse {
  const use = { labels: false, tools: false, repeats: false, windowMs: 0, windowTools: false, called: [] as (readonly string[])[] };
  const calledKeys = new Set<string>();
  const stack: IrExpr[] = conditions.filter((c): c is IrExpr => c !== null);
  while (stack.length > 0) {
    const expr = stack.pop()!;
    switch (expr.op) {
      case "session":
        if (expr.member === "labels") use.labels = true;
        if (expr.member === "tools") use.tools = true;
        if (expr.member === "repeats") use.repeats = true;
        break;
      case "count":
        use.windowMs = Math.max(use.windowMs, expr.withinMs);
        if (expr.tools !== null) use.windowTools = true;
        break;
      case "called": {
        const key = JSON.stringify(expr.tools);
        if (!calledKeys.has(key)) {
          calledKeys.add(key);
          use.called.push(expr.tools);
        }
        break;
      }
    }
    for (const child of childrenOf(expr)) stack.push(child);
  }
  return use;
}

/**
 * The labels conditions test in `session.labels` by name: the strings of `session.labels
 * contains "x"`, `"x" in session.labels` and `session.labels containsAny ["x", "y"]` (or
 * `containsAll`), each once, sorted.
 */
export function labelsTestedInSession(conditions: readonly (IrExpr | null)[]): string[] {
  const labels = new Set<string>();
  const isSessionLabels = (expr: IrExpr): boolean => expr.op === "session" && expr.member === "labels";
  const add = (expr: IrExpr): void => {
    if (expr.op === "const" && typeof expr.value === "string") labels.add(expr.value);
    else if (expr.op === "list") expr.items.forEach(add);
  };
  const stack: IrExpr[] = conditions.filter((c): c is IrExpr => c !== null);
  while (stack.length > 0) {
    const expr = stack.pop()!;
    if (expr.op === "contains" && isSessionLabels(expr.collection)) add(expr.element);
    else if (expr.op === "in" && isSessionLabels(expr.collection)) add(expr.element);
    else if ((expr.op === "containsAny" || expr.op === "containsAll") && isSessionLabels(expr.left)) add(expr.right);
    // One at a time: a list literal of 150,000 members spread into one call exceeds the argument limit.
    for (const child of childrenOf(expr)) stack.push(child);
  }
  return [...labels].sort();
}
