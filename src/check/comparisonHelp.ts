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
  return elementwiseHelp(expr, left, right, domainHelp) ?? quotedValueHelp(expr, left, right) ?? stringSideHelp(expr, left, right);
}

/**
 * A string compared as something it is not (audit s20 a1 L4): `"x" in agent.team` (`in` asks
 * about a list; text inside a string is `contains`), `agent.team == 5` (a number where the
 * string's value goes), `agent.team < 5` (strings have no order).
 */
function stringSideHelp(expr: A.Binary, left: Type, right: Type): string | undefined {
  const [leftText, rightText] = [printExpr(expr.left), printExpr(expr.right)];
  if (expr.operator === "in" && right.kind === "string" && left.kind === "string") return `\`in\` asks whether a value is among a list's: for text inside the string, write \`${rightText} contains ${leftText}\`; for the whole string, \`${rightText} == ${leftText}\``;
  if (left.kind !== "string" && right.kind !== "string") return undefined;
  const [text, other] = left.kind === "string" ? [leftText, unparenthesized(expr.right)] : [rightText, unparenthesized(expr.left)];
  if (["<", "<=", ">", ">="].includes(expr.operator)) return `strings have no order: compare \`${text}\` with \`==\`, \`!=\`, \`like\` or \`contains\``;
  if ((expr.operator === "==" || expr.operator === "!=") && other.kind === "IntLiteral") return `\`${text}\` is a string: write the value in quotes, \`${text} ${expr.operator} "${other.value}"\``;
  return undefined;
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
