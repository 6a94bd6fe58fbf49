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
