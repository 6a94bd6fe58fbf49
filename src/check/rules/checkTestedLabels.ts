import type * as A from "../../ast/nodes.js";
import { subexpressions } from "../../ast/subexpressions.js";
import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import { lookAlikeForm } from "../../diagnostics/printable.js";
import { unparenthesized } from "../literalComparisons.js";
import type { CheckedRule } from "../program.js";
import type { Resolution } from "../resolution.js";
import type { Schema } from "../schema.js";
import { isName } from "../../syntax/tokens.js";

/**
 * A label tested in `session.labels` that can never stand for the taint a rule means (PC519), in
 * a set with no label enum (with one, labels are its members, checked as such, and PC515 covers
 * `context.labels`). There labels are plain strings, compared exactly, and two mistakes check
 * clean: a string that differs only in case, spacing or hidden characters from a label a tool
 * `returns` (`"PII"` where `crm.lookup` returns `pii`: the rule never sees that tool's taint),
 * and a string no tool returns while the `context` block declares no `labels`, so only an
 * undeclared, unchecked `context.labels` could ever bring it. Only tests that name the label
 * itself are read (`session.labels contains "x"`, `"x" in session.labels`, `containsAny` /
 * `containsAll` of a list of strings): a label the context declares (`labels: set<string>`) may
 * come from requests, so a string no tool returns is not reported then, unless it looks like one
 * a tool does return and the same test does not name that label as returned too
 * (`containsAny ["pii", "PII"]` sees the tool's data through `"pii"`).
 */
export function checkTestedLabels(rules: readonly CheckedRule[], schema: Schema, resolutions: ReadonlyMap<A.Expr, Resolution>, diagnostics: Diagnostic[]): void {
  if (schema.labelEnum !== undefined) return;
  const returnedBy = new Map<string, string>();
  for (const tool of schema.tools.values()) for (const label of tool.returns) if (!returnedBy.has(label)) returnedBy.set(label, tool.name);
  const contextDeclaresLabels = schema.entities.get("context")?.fields.has("labels") === true;
  const isSessionLabels = (expr: A.Expr): boolean => {
    const resolution = resolutions.get(unparenthesized(expr));
    return resolution?.kind === "sessionValue" && resolution.member === "labels";
  };
  // `literals`: the strings of one test (a list's, or one alone). A look-alike of a returned
  // label tested beside that label itself does not keep the test from seeing the tool's data:
  // it is only another spelling, which requests may send when the context declares labels.
  const report = (literals: readonly A.StringLiteral[]): void => {
    for (const literal of literals) reportLabel(literal, literals);
  };
  const reportLabel = (literal: A.StringLiteral, test: readonly A.StringLiteral[]): void => {
    const label = literal.value;
    if (returnedBy.has(label)) return;
    const folded = foldedLabel(label);
    const alike = [...returnedBy.keys()].find((returned) => foldedLabel(returned) === folded);
    if (alike !== undefined && !test.some((other) => other.value === alike)) {
      diagnostics.push(diagnostic("PC519", `${JSON.stringify(label)} is tested in \`session.labels\`, but the label \`${returnedBy.get(alike)}\` returns is ${JSON.stringify(alike)}: labels are compared exactly, so this test never sees that tool's data`, literal.span, `write ${JSON.stringify(alike)}, as \`returns\` spells it (or declare \`enum Label { … }\`, whose members every label is checked against)`));
      return;
    }
    if (contextDeclaresLabels) return;
    diagnostics.push(diagnostic("PC519", `no tool \`returns\` ${JSON.stringify(label)} and the \`context\` block declares no \`labels\`: only a request's undeclared, unchecked \`context.labels\` could bring it into \`session.labels\`, so this test may never hold`, literal.span, `${isName(label) ? `add \`returns ${label}\` to` : "return it from"} the tools whose data it marks, or declare \`labels: set<string>\` in the \`context\` block when requests send it (better: an \`enum Label\` and \`labels: set<Label>\`, so a misspelt label is refused)`));
  };
  // Walked with a work list, not recursion: an `and`/`or` chain of thousands of terms is as deep
  // in the AST as it is long (finding 1 of the s19 robustness audit).
  const visit = (root: A.Expr): void => {
    const pending: A.Expr[] = [root];
    for (let expr = pending.pop(); expr !== undefined; expr = pending.pop()) {
      if (expr.kind === "Binary") {
        const { operator, left, right } = expr;
        if ((operator === "contains" || operator === "containsAny" || operator === "containsAll") && isSessionLabels(left)) report(labelLiterals(right));
        else if (operator === "in" && isSessionLabels(right)) report(labelLiterals(left));
      } else if (expr.kind === "Call") {
        // `session.labels.containsAny([...])` written as a method.
        if ((expr.callee.property.name === "contains" || expr.callee.property.name === "containsAny" || expr.callee.property.name === "containsAll") && isSessionLabels(expr.callee.object)) for (const arg of expr.args) report(labelLiterals(arg));
      } else if (expr.kind === "Member" || expr.kind === "Has") continue;
      // Children in reverse, so they are visited in source order, as the reports were before
      // (one at a time: a list of 150,000 hosts is too many arguments for one `push`).
      const children = labelTestChildren(expr);
      for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!);
    }
  };
  for (const { rule } of rules) {
    if (rule.when) visit(rule.when);
    if (rule.unless) visit(rule.unless);
  }
}

/** What a label test can hide in: like `subexpressions`, but a call's callee is only its object and a `within` window is not looked into. */
function labelTestChildren(expr: A.Expr): readonly A.Expr[] {
  if (expr.kind === "Call") return [expr.callee.object, ...expr.args];
  return subexpressions(expr);
}

/** The string literals `expr` names as labels: itself, or the strings of a list literal. */
function labelLiterals(expr: A.Expr): A.StringLiteral[] {
  const bare = unparenthesized(expr);
  if (bare.kind === "StringLiteral") return [bare];
  if (bare.kind === "ListLiteral") return bare.elements.map(unparenthesized).filter((element): element is A.StringLiteral => element.kind === "StringLiteral");
  return [];
}

/** A label as a reader takes it: without hidden characters, spaces as one, composed, trimmed and in lower case. */
function foldedLabel(label: string): string {
  return lookAlikeForm(label).normalize("NFKC").trim().replace(/\s+/g, " ").toLowerCase();
}
