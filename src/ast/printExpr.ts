import { encodeString } from "../syntax/literals.js";
import type * as A from "./nodes.js";

/**
 * Prints an expression in canonical spacing. Parentheses are printed exactly where the
 * source had them (they are `Paren` nodes), so printing never changes meaning. `printed`
 * gives the text of some subexpressions instead (fmt marks the lists it breaks over lines).
 */
export function printExpr(expr: A.Expr, printed?: ReadonlyMap<A.Expr, string>): string {
  const own = printed?.get(expr);
  if (own !== undefined) return own;
  const print = (inner: A.Expr): string => printExpr(inner, printed);
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
      return `[${expr.elements.map((element) => print(element)).join(", ")}]`;
    case "NameRef":
      return expr.name;
    case "Wildcard":
      return "*";
    case "Member":
      return `${print(expr.object)}.${expr.property.name}`;
    case "Call": {
      const args = expr.args.map((arg) => print(arg));
      if (expr.within) args.push(`within ${print(expr.within)}`);
      return `${print(expr.callee)}(${args.join(", ")})`;
    }
    case "Not":
      return `not ${print(expr.operand)}`;
    case "Binary": {
      // Chains are printed iteratively: a 10,000-term `and` must not exhaust the stack.
      const parts: string[] = [];
      let current: A.Expr = expr;
      while (current.kind === "Binary" && (current.operator === "and" || current.operator === "or") && current.operator === expr.operator) {
        parts.push(print(current.right));
        current = current.left;
      }
      if (parts.length > 0) {
        parts.push(print(current));
        return parts.reverse().join(` ${expr.operator} `);
      }
      return `${print(expr.left)} ${expr.operator} ${print(expr.right)}`;
    }
    case "Has":
      return `${print(expr.object)} has ${expr.attribute.name}`;
    case "Quantifier":
      return `${expr.quantifier}(${expr.variable.name} in ${print(expr.collection)}: ${print(expr.body)})`;
    case "Paren":
      return `(${print(expr.expression)})`;
    case "ErrorExpr":
      return "<error>";
  }
}
