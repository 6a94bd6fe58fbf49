import type * as A from "../../ast/nodes.js";
import { chainTerms } from "../expressions.js";
import { compareScalars, lower } from "../../runtime/helpers.js";
import { globMatch } from "../../runtime/glob.js";

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
        case "contains":
          return typeof left === "string" && typeof right === "string" ? left.includes(right) : undefined;
        case "like":
          return typeof left === "string" && typeof right === "string" ? globMatch(right, left) : undefined;
        default:
          return undefined;
      }
    }
    case "Call":
      return constantMethod(expr);
    default:
      return undefined;
  }
}

/** `"abc".size()`, `"A".lower()`, `"ab".startsWith("a")`: a string method on literals, as the runtime computes it. */
function constantMethod(expr: A.Call): number | string | boolean | undefined {
  const object = constantValue(expr.callee.object);
  if (typeof object !== "string" || expr.within) return undefined;
  const args = expr.args.map(constantValue);
  switch (expr.callee.property.name) {
    case "size":
      return args.length === 0 ? object.length : undefined;
    case "lower":
      return args.length === 0 ? lower(object) : undefined;
    case "startsWith":
      return args.length === 1 && typeof args[0] === "string" ? object.startsWith(args[0]) : undefined;
    case "endsWith":
      return args.length === 1 && typeof args[0] === "string" ? object.endsWith(args[0]) : undefined;
    default:
      return undefined;
  }
}
