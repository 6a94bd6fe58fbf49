import type { Decision } from "../runtime/decision.js";
import { shownList } from "./shortRequest.js";

/** The decision a log line recorded (`decision`, and when it has them `rules` and `revoked`), as `policyc eval` compares it. */
export interface RecordedDecision {
  readonly decision: "allow" | "ask" | "deny";
  readonly rules?: readonly string[];
  readonly revoked?: boolean;
}

/** The decision a line records, or undefined for a line that records none (a request written by hand, an approval line). */
export function recordedDecisionOf(line: unknown): RecordedDecision | undefined {
  if (line === null || typeof line !== "object" || Array.isArray(line)) return undefined;
  const { decision, rules, revoked } = line as Record<string, unknown>;
  if (decision !== "allow" && decision !== "ask" && decision !== "deny") return undefined;
  const ruleList = Array.isArray(rules) && rules.every((id) => typeof id === "string") ? { rules: rules as string[] } : {};
  return { decision, ...ruleList, ...(typeof revoked === "boolean" ? { revoked } : {}) };
}

/**
 * `the log says deny [risk-escalation], revoked; this replay gives allow [finance-read]`, when
 * the decision differs from the one the line records (in its effect, its rules or, when the line
 * says, whether the session is revoked); undefined when it is the same.
 */
export function recordedDifference(recorded: RecordedDecision, actual: Decision): string | undefined {
  const sameRules = recorded.rules === undefined || sameIds(recorded.rules, actual.rules);
  const sameRevocation = recorded.revoked === undefined || recorded.revoked === actual.revoked;
  if (recorded.decision === actual.decision && sameRules && sameRevocation) return undefined;
  const revocation = (revoked: boolean | undefined): string => (revoked === true ? ", revoked" : "");
  const logged = `${recorded.decision}${recorded.rules !== undefined ? ` [${shownList(recorded.rules)}]` : ""}${revocation(recorded.revoked)}`;
  return `the log says ${logged}; this replay gives ${actual.decision} [${shownList(actual.rules)}]${revocation(actual.revoked)}`;
}

/** Whether two lists of rule ids hold the same ids, as sets (`["rate", "rate"]` is not `["rate", "loop"]`). */
function sameIds(a: readonly string[], b: readonly string[]): boolean {
  const left = new Set(a);
  const right = new Set(b);
  return left.size === right.size && [...left].every((id) => right.has(id));
}
