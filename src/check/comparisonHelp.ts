import type * as A from "../ast/nodes.js";
import { printExpr } from "../ast/printExpr.js";
import { parseDuration } from "../syntax/literals.js";
import { elementName, matchWritten, unparenthesized } from "./literalComparisons.js";
import { compatible, isCollection, type Type } from "./types.js";

/**
 * Help for a comparison whose two sides do not fit, when the fix is one obvious edit that the
 * type error alone does not name: a list compared as if it were one of its elements, or a
 * number or duration written in quotes. `domainHelp`: whether it may write `email.domain` for
 * an address pattern (not in an `ask`, see `RuleContext.effect`).
 */
export function comparisonHelp(expr: A.Binary, left: Type, right: Type, domainHelp: boolean): string | undefined {
  return elementwiseHelp(expr, left, right, domainHelp) ?? quotedValueHelp(expr, left, right);
}

/**
 * `args.to == "bob@evil.com"`, `args.to like "*@acme.com"`, `session.labels >= pii`: the writer
 * meant the list's elements. `==` means "holds it" (`contains`); `like` and an ordering mean
 * "one of them does" (`any`).
 */
function elementwiseHelp(expr: A.Binary, left: Type, right: Type, domainHelp: boolean): string | undefined {
  // Not for `[]`, which holds nothing: the forms suggested would never match (or are PC300).
  const listOnLeft = isCollection(left) && left.element.kind !== "empty" && compatible(left.element, right);
  const listOnRight = expr.operator !== "like" && isCollection(right) && right.element.kind !== "empty" && compatible(right.element, left);
  if (!listOnLeft && !listOnRight) return undefined;
  const [list, value] = listOnLeft ? [expr.left, expr.right] : [expr.right, expr.left];
  const [listText, valueText] = [printExpr(list), printExpr(value)];
  if (expr.operator === "==") return `to test whether \`${listText}\` holds it, write \`${listText} contains ${valueText}\``;
  if (expr.operator === "!=") return `to test that \`${listText}\` does not hold it, write \`not (${listText} contains ${valueText})\``;
  if (!["like", "<", "<=", ">", ">="].includes(expr.operator)) return undefined;
  const element = elementName(list);
  // `args.to like "*@acme.com"`: an address's domain is tested with `email.domain` (PC512).
  const pattern = unparenthesized(value);
  const test =
    expr.operator === "like" && pattern.kind === "StringLiteral"
      ? matchWritten(element, pattern.value, false, domainHelp)
      : listOnLeft
        ? `${element} ${expr.operator} ${valueText}`
        : `${valueText} ${expr.operator} ${element}`;
  return `to test its elements, write \`any(${element} in ${listText}: ${test})\` (or \`all(…)\`)`;
}

/** `session.count(within 1m) >= "30"`, `session.age > "8h"`: a number or duration in quotes is a string. */
function quotedValueHelp(expr: A.Binary, left: Type, right: Type): string | undefined {
  const [quoted, other] = right.kind === "string" ? [unparenthesized(expr.right), left] : left.kind === "string" ? [unparenthesized(expr.left), right] : [undefined, undefined];
  if (quoted?.kind !== "StringLiteral" || other === undefined) return undefined;
  const text = quoted.value.trim();
  if (other.kind === "int" && /^[0-9]+$/.test(text)) return `a number is written without quotes: \`${text}\``;
  if (other.kind === "duration" && parseDuration(text) !== undefined) return `a duration is written without quotes: \`${text}\``;
  if (other.kind === "time") return "there are no time literals: compare a time with another time, such as `now` or a `time` attribute";
  return undefined;
}
