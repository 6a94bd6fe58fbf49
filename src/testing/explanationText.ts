import type { Palette } from "../diagnostics/render.js";
import type { Decision } from "../runtime/decision.js";
import type { Explanation, RuleTrace } from "../runtime/explain.js";
import type { ClauseTrace } from "../runtime/interpret.js";

/** A value as a person reads it in an explanation: short JSON, sets as lists. */
export function showValue(value: unknown): string {
  const plain = value instanceof Set ? [...value] : value;
  let text: string;
  try {
    text = JSON.stringify(plain) ?? String(plain);
  } catch {
    text = "(too deeply nested to show)";
  }
  return text.length > 60 ? text.slice(0, 57) + "…" : text;
}

function clauseLine(clause: ClauseTrace): string {
  // An `unless X` clause carries X's own value (see Interpreter.traceClauses).
  const unless = clause.text.startsWith("unless ");
  const text = unless ? clause.text.slice("unless ".length) : clause.text;
  const prefix = unless ? "unless " : "";
  if (clause.error) return `${prefix}\`${text}\` failed: ${clause.error}`;
  const witness = clause.witness !== undefined ? ` for ${showValue(clause.witness)}` : "";
  return `${prefix}\`${text}\` was ${showValue(clause.value)}${witness}`;
}

/** One line per clause of a rule, or a note for a rule without a condition. */
export function clauseLines(trace: RuleTrace): string[] {
  if (trace.clauses.length === 0) return ["no condition: it always matches"];
  return trace.clauses.map(clauseLine);
}

/** The clauses of a rule on one line: "`a` was true; `b` was false". */
export function clauseSummary(trace: RuleTrace): string {
  return clauseLines(trace).join("; ");
}

/**
 * The human explanation of a decision: the deciding rules with every clause's value, then the
 * other rules that were considered and why they did not decide.
 */
export function renderExplanation(decision: Decision, explanation: Explanation, palette: Palette, header?: string): string {
  const colour = decision.decision === "allow" ? palette.ok : decision.decision === "ask" ? palette.warning : palette.error;
  const lines = [`${colour(decision.decision)}${header ? ` ${header}` : explanation.tool ? ` ${explanation.tool}` : ""}`];
  if (explanation.note) lines.push(`  ${explanation.note}`);
  const deciding = new Set(decision.rules);
  for (const trace of explanation.rules.filter((r) => deciding.has(r.id))) {
    lines.push(`  by ${palette.bold(trace.id)} (${trace.effect}, ${trace.location})`);
    if (trace.reason) lines.push(`    reason: ${trace.reason}`);
    for (const line of clauseLines(trace)) lines.push(`    ${line}`);
  }
  if (decision.rules.length === 0 && !explanation.note) lines.push(`  ${decision.reasons[0] ?? "no rule decided"}`);
  for (const grant of decision.grants) lines.push(`  grant ${grant.scope} for ${grant.ttlSeconds}s`);
  if (decision.revoked) lines.push(`  ${palette.error("the session is revoked")}`);
  for (const error of decision.errors) if (!explanation.note?.includes(error)) lines.push(`  error: ${error}`);
  const others = explanation.rules.filter((r) => !deciding.has(r.id));
  if (others.length > 0) {
    lines.push(`  ${palette.dim("also considered:")}`);
    for (const trace of others) {
      const verdict = trace.matched === "error" ? "could not be evaluated" : trace.matched ? "matched" : "did not match";
      lines.push(`    ${trace.id} (${trace.effect}) ${verdict}: ${clauseSummary(trace)}`);
    }
  }
  return lines.join("\n");
}
