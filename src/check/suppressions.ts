import type * as A from "../ast/nodes.js";
import { subexpressions } from "../ast/subexpressions.js";
import { diagnostic, hasErrors, type Diagnostic } from "../diagnostics/Diagnostic.js";
import { CODES, type Code } from "../diagnostics/codes.js";
import { holdsHiddenKind } from "../diagnostics/printable.js";
import { withinOneEdit } from "../diagnostics/suggest.js";

/**
 * Warnings `@suppress` cannot hide, since none is ever reported inside a rule: a file a folder
 * search did not read (PC007) is reported on its path, an unused declaration (PC502) and
 * unchecked labels (PC515) on declarations, "more diagnostics than shown" (PC503) on the output,
 * and a suppression that hides nothing (PC514) on the suppression itself.
 */
const NEVER_IN_A_RULE: ReadonlySet<Code> = new Set(["PC007", "PC502", "PC503", "PC514", "PC515"]);

/** The codes a rule's `@suppress` may name. */
const SUPPRESSIBLE: readonly Code[] = (Object.keys(CODES) as Code[]).filter((code) => CODES[code].severity === "warning" && !NEVER_IN_A_RULE.has(code));

/** Whether a rule's `@suppress` can hide a warning of `code` (one reported inside a rule). */
export function isSuppressible(code: Code): boolean {
  return SUPPRESSIBLE.includes(code);
}

/**
 * What is wrong with `text` as an argument of `@suppress`, if anything: it must be the code of a
 * warning that can be reported inside a rule. An error is never suppressible: a rule with one
 * does not build, and hiding it would only hide why.
 */
export function suppressionProblem(text: string): { message: string; help: string } | undefined {
  if ((SUPPRESSIBLE as readonly string[]).includes(text)) return undefined;
  const shown = JSON.stringify(text);
  if (Object.hasOwn(CODES, text)) {
    const code = text as Code;
    if (CODES[code].severity === "error") return { message: `${shown} is the code of an error, and \`@suppress\` hides only warnings`, help: "fix what the error says: a rule with an error does not build" };
    return { message: `${shown} is never reported inside a rule, so \`@suppress\` on a rule cannot hide it`, help: code === "PC502" ? "remove the unused declaration, or use it" : code === "PC515" ? "declare `context.labels` as a set of the label enum, as its help says" : "remove this code from `@suppress`" };
  }
  // One edit at most (`PC5111`, `pc511`): codes differ from each other by a digit, so a looser
  // match would name an unrelated warning.
  const upper = text.trim().toUpperCase();
  const meant = SUPPRESSIBLE.find((code) => code === upper) ?? SUPPRESSIBLE.find((code) => withinOneEdit(upper, code));
  return { message: `${shown} is not the code of a warning`, help: meant !== undefined ? `did you mean "${meant}"? (codes are written as \`check\` prints them)` : `write the code \`check\` prints in brackets, as in \`warning[PC511]\`: "PC511"` };
}

/** Where a rule starts (its first doc comment, annotation or effect) and ends, in one file. */
function contains(rule: A.Rule, place: NonNullable<Diagnostic["span"]>): boolean {
  return place.file.path === rule.span.file.path && place.start >= rule.span.start && place.start < rule.span.end;
}

/**
 * Hides the warnings each rule's `@suppress("PC…")` names, when they are reported inside that
 * rule (from its first annotation to its last clause): a warning the author has read and
 * decided about (a search engine's match-all query `"*:*"` compared as the text it is, PC511) stops
 * drowning the ones not yet read, and CI can hold the set to no warnings. Only that rule's
 * warnings of those codes go: the same warning on the next rule still shows.
 *
 * A suppression that hides nothing is a warning itself (PC514), since the rule changed or the
 * check got sharper, and left in place it would hide the next such warning without anyone
 * deciding about it. It is reported only when the set has no errors: an error can stop the
 * check that would have found the warning.
 *
 * A `@suppress("PC510")` on a rule whose strings hold a character of a kind PC510 names,
 * written as an escape (`"rm\u00a0-rf"`) or where it is drawn (a joiner in an emoji), is not
 * one: `fmt` prints the raw character the suppression was written for as that escape, or, when
 * only an escaped neighbour made it hidden, raw with that neighbour, and formatting must not
 * turn a clean file into a failing one. The suppression still covers the rule, as it did the
 * raw character.
 */
export function applySuppressions(rules: readonly A.Rule[], diagnostics: readonly Diagnostic[]): { diagnostics: Diagnostic[]; suppressed: Diagnostic[] } {
  const suppressions = rules.flatMap((rule) =>
    rule.annotations
      .filter((annotation) => annotation.name.name === "suppress")
      .flatMap((annotation) => annotation.args)
      .flatMap((code) => (code.kind === "StringLiteral" && suppressionProblem(code.value) === undefined ? [{ rule, code: code.value as Code, span: code.span, used: false }] : [])),
  );
  if (suppressions.length === 0) return { diagnostics: [...diagnostics], suppressed: [] };
  const kept: Diagnostic[] = [];
  const suppressed: Diagnostic[] = [];
  for (const d of diagnostics) {
    const span = d.span;
    const hiding = d.severity === "warning" && span !== undefined ? suppressions.filter((s) => s.code === d.code && contains(s.rule, span)) : [];
    for (const s of hiding) s.used = true;
    (hiding.length > 0 ? suppressed : kept).push(d);
  }
  if (!hasErrors(diagnostics)) {
    for (const s of suppressions) {
      if (!s.used && !(s.code === "PC510" && holdsHiddenCharacter(s.rule))) kept.push(diagnostic("PC514", `\`@suppress("${s.code}")\` hides no warning: this rule gets no ${s.code}`, s.span, "remove it: left in place, it would hide the next such warning on this rule before anyone reads it"));
    }
  }
  return { diagnostics: kept, suppressed };
}

/**
 * Whether one of a rule's strings (in its annotations, conditions, reason or grant) holds a
 * character of a kind PC510 names, raw or as an escape, wherever it stands. PC510 judges a string
 * as written: a raw joiner between an emoji written as an escape and a raw one gets it, and `fmt`
 * then prints the emoji raw and the joiner with it, as part of the picture that gets no PC510.
 * Judged on the string's value without regard to its neighbours, the exception holds both before
 * and after `fmt`. Walked without recursion: a long `or` chain is as deep in the AST as it is long.
 */
function holdsHiddenCharacter(rule: A.Rule): boolean {
  const strings: A.StringLiteral[] = [...(rule.reason ? [rule.reason] : []), ...(rule.grant?.scopes ?? [])];
  const pending: A.Expr[] = [...rule.annotations.flatMap((a) => a.args), ...(rule.when ? [rule.when] : []), ...(rule.unless ? [rule.unless] : [])];
  for (let node = pending.pop(); node !== undefined; node = pending.pop()) {
    if (node.kind === "StringLiteral") strings.push(node);
    // One at a time: a list literal of 150,000 members spread into one call exceeds the argument limit.
    for (const child of subexpressions(node)) pending.push(child);
  }
  return strings.some((string) => holdsHiddenKind(string.value));
}
