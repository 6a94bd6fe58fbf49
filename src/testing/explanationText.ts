import type { Palette } from "../diagnostics/render.js";
import { printable } from "../diagnostics/printable.js";
import type { Decision } from "../runtime/decision.js";
import { decidingSide, isCut, showValue, type ComparedOperand, type Evidence } from "../runtime/evidence.js";
import type { Explanation, RuleTrace } from "../runtime/explain.js";
import type { ClauseTrace } from "../runtime/interpret.js";

/**
 * A clause's evidence after its value, in words: ` by \`TERM\`` for the term that settled an
 * `and`/`or`, ` for PATH = VALUE` for a quantifier's deciding element or the member that decided a
 * `containsAny`/`containsAll`, and the compared and tested values in parentheses (`(31 > 30)`,
 * `(agent.team is "sales")`, `(session.labels is ["pii"])`).
 */
function evidenceText(evidence: readonly Evidence[]): string {
  let text = "";
  let compared: string[] = [];
  // Elements the line names, by path, and whether their value is shown whole (not cut): a test
  // of one (`r like "*@acme.com"` for args.to[1]) or of a part of one shown whole adds nothing.
  const shownPaths = new Map<string, boolean>();
  const flush = (): void => {
    if (compared.length > 0) text += ` (${compared.join(", ")})`;
    compared = [];
  };
  // `unnamed`: how to name an element without a path (a member of a list literal needs no name).
  const forElement = (path: string | null, shown: string, unnamed: string | null): void => {
    flush();
    const name = path ?? unnamed;
    text += ` for ${name === null ? shown : `${name} = ${shown}`}`;
    if (path !== null) shownPaths.set(path, !isCut(shown));
  };
  evidence.forEach((piece, i) => {
    if (piece.kind === "comparison" || piece.kind === "membership" || piece.kind === "text") {
      if (piece.kind === "membership" && piece.member !== undefined && !insideNext(piece.member.path, evidence[i + 1])) forElement(piece.member.path, piece.member.shown, null);
      const shown = withProvenance(piece.kind === "comparison" ? comparisonText(piece, shownPaths) : testText(piece, shownPaths), [piece.left, piece.right]);
      // An `or` of tests of one value (`args.s.startsWith("x") or args.s like "z*"`) names it once.
      if (shown !== null && !compared.includes(shown)) compared.push(shown);
      return;
    }
    flush();
    if (piece.kind === "term") text += piece.text !== null ? ` by \`${piece.text}\`` : ` by its ${ordinal(piece.index + 1)} term`;
    // An element inside the next one shown (args.msgs[1], then args.msgs[1].atts[1]) is named by its path.
    else if (!insideNext(piece.path, evidence[i + 1])) forElement(piece.path, piece.shown, `element ${piece.index}`);
  });
  flush();
  return text;
}

/** Whether the element at `path` holds the element or member the next piece names (so that one is named instead). */
function insideNext(path: string | null, next: Evidence | undefined): boolean {
  const inner = next?.kind === "element" ? next.path : next?.kind === "membership" ? (next.member?.path ?? null) : null;
  return path !== null && inner !== null && inner.startsWith(`${path}.`);
}

/**
 * The values a comparison compared: both sides of an ordering (`31 > 30`); for an equality with a
 * constant, the other side (`agent.team is "sales"`), unless the result already says it
 * (`agent.team == "support"` was true) or the line shows that side already (a quantifier's
 * element: `r != "x@acme.com"` for args.to[1] = "y@acme.com"); null when there is nothing to add.
 */
function comparisonText(comparison: Evidence & { kind: "comparison" }, shownPaths: ReadonlyMap<string, boolean>): string | null {
  const { left, right, operator, value } = comparison;
  const both = `${valueOf(left)} ${operator} ${valueOf(right)}`;
  if (operator !== "==" && operator !== "!=") return both;
  if (left.constant && right.constant) return null;
  const unshown = (side: ComparedOperand): boolean => side.text === null || !alreadyShown(side.text, shownPaths);
  if (left.constant || right.constant) {
    const read = left.constant ? right : left;
    if (value === (operator === "==") || !unshown(read)) return null;
    return is(read) ?? both;
  }
  const sides = [is(left), is(right)];
  if (sides[0] === null || sides[1] === null) return both;
  const shown = [left, right].filter(unshown).map((side) => is(side)!);
  return shown.length > 0 ? shown.join(", ") : null;
}

/**
 * The values a membership or text test looked at: each side read from the request or computed
 * (`session.labels is ["pii","internal"]`, `args.url is "https://docs.acme.com/x"`), but not a
 * side the line already shows (see alreadyShown) or the side a deciding member was named in;
 * both values with the operator when a side's text is unknown; null when there is nothing to add
 * (both sides written in the policy).
 */
function testText(test: Evidence & { kind: "membership" | "text" }, shownPaths: ReadonlyMap<string, boolean>): string | null {
  const { left, right, operator } = test;
  const read = [left, right].filter((side) => !side.constant);
  if (read.length === 0) return null;
  if (read.some((side) => side.text === null)) {
    if (operator === "inRange") return `ip.inRange(${left.shown}, ${right.shown})`;
    return operator === "startsWith" || operator === "endsWith" ? `${left.shown}.${operator}(${right.shown})` : `${left.shown} ${operator} ${right.shown}`;
  }
  const named = test.kind === "membership" && (test.member?.path ?? null) !== null ? (decidingSide(test.operator, test.value) === "left" ? left : right) : null;
  const shown = read.filter((side) => side !== named && !alreadyShown(side.text!, shownPaths)).map(is);
  // A collection shown cut may hide the answer: where the element is in it, or that it is not.
  if (test.kind === "membership" && test.lookedUp !== undefined) shown.push(lookedUpText(test));
  return shown.length > 0 ? shown.join(", ") : null;
}

/** `intent.tools[4] is "payments.send"`, or `"payments.send" is none of intent.tools' 12 members`. */
function lookedUpText(test: Evidence & { kind: "membership" }): string {
  const [element, collection] = test.operator === "in" ? [test.left, test.right] : [test.right, test.left];
  const { members, index } = test.lookedUp!;
  const name = collection.text === null || collection.text.length > 200 ? "the collection" : collection.text;
  if (index !== null) return /^[\w.[\]]+$/.test(name) ? `${name}[${index}] is ${element.shown}` : `${element.shown} is member ${index} of ${name}`;
  return `${element.shown} is none of the ${members.toLocaleString("en-US")} members of ${name}`;
}

/** Whether the line shows the value at `path`: it names that element, or one holding it whose value it shows whole. */
function alreadyShown(path: string, shownPaths: ReadonlyMap<string, boolean>): boolean {
  if (shownPaths.has(path)) return true;
  for (const [element, whole] of shownPaths) if (whole && (path.startsWith(`${element}.`) || path.startsWith(`${element}[`))) return true;
  return false;
}

function is(operand: ComparedOperand): string | null {
  return operand.text === null ? null : `${operand.text} is ${valueOf(operand)}${operand.provenance !== undefined ? `: ${operand.provenance.text}` : ""}`;
}

/**
 * `shown` (what a comparison or test showed, or null) with the provenance of each operand it did
 * not name with \`is\` (an ordering shows values alone: `4 > 30`; an equality the result already
 * says shows nothing): `4 > 30; session.count(within 1m): lines 1 and 2, and this one`.
 */
function withProvenance(shown: string | null, operands: readonly ComparedOperand[]): string | null {
  const unsaid = operands.filter((side) => side.provenance !== undefined && side.text !== null && !(shown ?? "").includes(`${side.text} is `));
  if (unsaid.length === 0) return shown;
  return [shown, ...unsaid.map((side) => `${side.text!}: ${side.provenance!.text}`)].filter((part) => part !== null).join("; ");
}

/** A compared value as shown: a count known only as a lower bound (ComparedOperand.atLeast) says so. */
function valueOf(operand: ComparedOperand): string {
  return operand.atLeast === true ? `at least ${operand.shown}` : operand.shown;
}

function ordinal(n: number): string {
  const suffix = n % 100 >= 11 && n % 100 <= 13 ? "th" : (["th", "st", "nd", "rd"][n % 10] ?? "th");
  return `${n}${suffix}`;
}

/**
 * Longest clause text an explanation line shows, in characters: a clause with a list of a
 * hundred thousand hosts written out stays one readable line (`--json` keeps it whole).
 */
const SHOWN_CLAUSE_LENGTH = 400;

/**
 * `evidence` with every value read from the request, or computed from one, shown as `…`
 * (`policyc test --hide-values`: a decision log's arguments hold tokens and personal data); the
 * values written in the policy, and the paths that name what was read, stay.
 */
function withValuesHidden(evidence: readonly Evidence[]): Evidence[] {
  const hidden = (operand: ComparedOperand): ComparedOperand => {
    if (operand.constant) return operand;
    const { whole: _whole, ...named } = operand;
    return { ...named, shown: HIDDEN_VALUE };
  };
  return evidence.map((piece): Evidence => {
    if (piece.kind === "element") return { ...piece, shown: HIDDEN_VALUE };
    if (piece.kind === "comparison" || piece.kind === "text") return { ...piece, left: hidden(piece.left), right: hidden(piece.right) };
    if (piece.kind === "membership") {
      // A member with no path is one of a list written in the policy.
      const member = piece.member === undefined || piece.member.path === null ? piece.member : { ...piece.member, shown: HIDDEN_VALUE };
      return { ...piece, left: hidden(piece.left), right: hidden(piece.right), ...(member !== undefined ? { member } : {}) };
    }
    return piece;
  });
}

/** What a value hidden by `--hide-values` is shown as. */
export const HIDDEN_VALUE = "…";

function clauseLine(clause: ClauseTrace, hideValues: boolean): string {
  // An `unless X` clause carries X's own value (see Interpreter.traceClauses).
  const unless = clause.text.startsWith("unless ");
  const written = unless ? clause.text.slice("unless ".length) : clause.text;
  const text = written.length > SHOWN_CLAUSE_LENGTH ? `${written.slice(0, SHOWN_CLAUSE_LENGTH - 1)}…` : written;
  const prefix = unless ? "unless " : "";
  if (clause.error) return `${prefix}\`${text}\` failed: ${clause.error}`;
  const evidence = clause.evidence ?? [];
  // Session values no operand shows (a bare `session.called(…)`), with the lines that explain them (eval's history).
  const provenance = (clause.provenance ?? []).map((found) => ` (${found.of === written ? "" : `${found.of}: `}${found.text})`).join("");
  return `${prefix}\`${text}\` was ${showValue(clause.value)}${evidenceText(hideValues ? withValuesHidden(evidence) : evidence)}${provenance}`;
}

/** One line per clause of a rule, or a note for a rule without a condition; `hideValues`: see withValuesHidden. */
export function clauseLines(trace: RuleTrace, hideValues = false): string[] {
  if (trace.clauses.length === 0) return ["no condition: it always matches"];
  return trace.clauses.map((clause) => clauseLine(clause, hideValues));
}

/** The clauses of a rule on one line: "`a` was true; `b` was false". */
export function clauseSummary(trace: RuleTrace, hideValues = false): string {
  return clauseLines(trace, hideValues).join("; ");
}

/**
 * How a rule fared, in words. An error counts as a match for a deny or ask rule (it fails
 * closed) and as no match for an allow rule; either way the rule "could not be evaluated".
 */
export function verdictOf(trace: RuleTrace): string {
  if (trace.matched === "error") return trace.effect === "allow" ? "could not be evaluated" : FAILED_CLOSED;
  return trace.matched ? "matched" : "did not match";
}

/** How an explanation's note about an attempt in a session revoked earlier starts (explain.ts). */
const REVOKED_NOTE_START = "the session was revoked";

/** The words for a deny or ask rule that matched because its condition failed. */
export const FAILED_CLOSED = "matched because its condition could not be evaluated (fails closed)";

/** Undeclared fields an explanation names at most (a request may carry a million), then a count. */
const SHOWN_UNDECLARED = 20;

/**
 * The line that names the undeclared fields of a request (`Engine.undeclaredFields`), which no
 * rule saw, or undefined when there are none: by path only, as their values may be secret.
 */
export function undeclaredFieldsLine(paths: readonly string[]): string | undefined {
  if (paths.length === 0) return undefined;
  const more = paths.length > SHOWN_UNDECLARED ? ` … and ${(paths.length - SHOWN_UNDECLARED).toLocaleString("en-US")} more` : "";
  return `ignored, as the policies do not declare them (no rule saw them): ${paths.slice(0, SHOWN_UNDECLARED).join(", ")}${more}`;
}

/**
 * The human explanation of a decision: the deciding rules with every clause's value, then the
 * other rules that were considered and why they did not decide. Text from the request (in notes,
 * evidence and errors) is made printable: a terminal shows its control characters as escapes.
 */
export function renderExplanation(decision: Decision, explanation: Explanation, palette: Palette, header?: string, undeclared: readonly string[] = []): string {
  const colour = decision.decision === "allow" ? palette.ok : decision.decision === "ask" ? palette.warning : palette.error;
  const lines = [`${colour(decision.decision)}${header ? ` ${header}` : explanation.tool ? ` ${printable(explanation.tool)}` : ""}`];
  if (explanation.note) lines.push(`  ${printable(explanation.note)}`);
  for (const reason of explanation.revokedFor ?? []) lines.push(`    reason: ${printable(reason)}`);
  const deciding = new Set(decision.rules);
  for (const trace of explanation.rules.filter((r) => deciding.has(r.id))) {
    lines.push(`  by ${palette.bold(printable(trace.id))} (${trace.effect}, ${printable(trace.location)})`);
    if (trace.reason) lines.push(`    reason: ${printable(trace.reason)}`);
    if (trace.matched === "error") lines.push(`    ${FAILED_CLOSED}:`);
    for (const line of clauseLines(trace)) lines.push(`    ${printable(line)}`);
  }
  if (decision.rules.length === 0 && !explanation.note) lines.push(`  ${printable(decision.reasons[0] ?? "no rule decided")}`);
  for (const grant of decision.grants) lines.push(`  grant ${printable(grant.scope)} for ${grant.ttlSeconds}s`);
  if (decision.decision === "ask") {
    for (const grant of decision.grantsOnApproval) lines.push(`  on approval, grant ${printable(grant.scope)} for ${grant.ttlSeconds}s`);
    if (decision.grantingRules.length > 0) lines.push(`  (the grants of ${decision.grantingRules.map(printable).join(", ")})`);
  }
  // (On a later attempt the note says so already, and when: said again it would read as the revoking call.)
  if (decision.revoked && !explanation.note?.startsWith(REVOKED_NOTE_START)) lines.push(`  ${palette.error("the session is revoked")}`);
  for (const error of decision.errors) if (!explanation.note?.includes(error)) lines.push(`  error: ${printable(error)}`);
  const ignored = undeclaredFieldsLine(undeclared);
  if (ignored !== undefined) lines.push(`  ${printable(ignored)}`);
  const others = explanation.rules.filter((r) => !deciding.has(r.id));
  if (others.length > 0) {
    lines.push(`  ${palette.dim("also considered:")}`);
    for (const trace of others) lines.push(`    ${trace.id} (${trace.effect}) ${verdictOf(trace)}: ${printable(clauseSummary(trace))}`);
  }
  return lines.join("\n");
}
