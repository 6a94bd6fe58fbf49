import { encodeString } from "../syntax/literals.js";
import type * as A from "./nodes.js";

/**
 * Prints an expression in canonical spacing. Parentheses are printed exactly where the
 * source had them (they are `Paren` nodes), so printing never changes meaning.
 */
export function printExpr(expr: A.Expr): string {
  switch (expr.kind) {
    case "BoolLiteral":
      return String(expr.value);
    case "IntLiteral":
      return String(expr.value);
    case "StringLiteral":
      return encodeString(expr.value);
    case "DurationLiteral":
      return expr.text;
    case "ListLiteral":
      return `[${expr.elements.map(printExpr).join(", ")}]`;
    case "NameRef":
      return expr.name;
    case "Wildcard":
      return "*";
    case "Member":
      return `${printExpr(expr.object)}.${expr.property.name}`;
    case "Call": {
      const args = expr.args.map(printExpr);
      if (expr.within) args.push(`within ${printExpr(expr.within)}`);
      return `${printExpr(expr.callee)}(${args.join(", ")})`;
    }
    case "Not":
      return `not ${printExpr(expr.operand)}`;
    case "Binary": {
      // Chains are printed iteratively: a 10,000-term `and` must not exhaust the stack.
      const parts: string[] = [];
      let current: A.Expr = expr;
      while (current.kind === "Binary" && (current.operator === "and" || current.operator === "or") && current.operator === expr.operator) {
        parts.push(printExpr(current.right));
        current = current.left;
      }
      if (parts.length > 0) {
        parts.push(printExpr(current));
        return parts.reverse().join(` ${expr.operator} `);
      }
      return `${printExpr(expr.left)} ${expr.operator} ${printExpr(expr.right)}`;
    }
    case "Has":
      return `${printExpr(expr.object)} has ${expr.attribute.name}`;
    case "Quantifier":
      return `${expr.quantifier}(${expr.variable.name} in ${printExpr(expr.collection)}: ${printExpr(expr.body)})`;
    case "Paren":
      return `(${printExpr(expr.expression)})`;
    case "ErrorExpr":
      return "<error>";
  }
}
