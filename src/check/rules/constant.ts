import type * as A from "../../ast/nodes.js";
import { chainTerms } from "../expressions.js";
import { compareScalars } from "../../runtime/helpers.js";

/** The value of an expression made only of literals, or undefined when it depends on the request. */
export function constantValue(expr: A.Expr): boolean | number | string | undefined {
  switch (expr.kind) {
    case "BoolLiteral":
    case "IntLiteral":
    case "StringLiteral":
      return expr.value;
    case "DurationLiteral":
      return expr.milliseconds;
    case "Paren":
      return constantValue(expr.expression);
    case "Not": {
      const value = constantValue(expr.operand);
      return typeof value === "boolean" ? !value : undefined;
    }
    case "Binary": {
      if (expr.operator === "and" || expr.operator === "or") {
        const values = chainTerms(expr, expr.operator).map(constantValue);
        const absorbing = expr.operator === "or";
        if (values.includes(absorbing)) return absorbing;
        return values.every((v) => v === !absorbing) ? !absorbing : undefined;
      }
      const left = constantValue(expr.left);
      const right = constantValue(expr.right);
      if (left === undefined || right === undefined || typeof left !== typeof right) return undefined;
      switch (expr.operator) {
        case "==":
        case "!=":
        case "<":
        case "<=":
        case ">":
        case ">=":
          return compareScalars(expr.operator, left, right);
        default:
          return undefined;
      }
    }
    default:
      return undefined;
  }
}
