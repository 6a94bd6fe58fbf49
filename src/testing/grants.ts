import type { Decision, Grant } from "../runtime/decision.js";
import { durationText } from "../syntax/literals.js";
import { sortedDistinct } from "../runtime/helpers.js";
import { shownList, shownText } from "./shortRequest.js";

/**
 * The same credentials, in any order: as sets of scope and lifetime pairs (the engine gives
 * each scope once, with its shortest lifetime; a recording that lists one twice means it once).
 */
export function sameGrants(a: readonly Grant[], b: readonly Grant[]): boolean {
  // Most decisions grant nothing: no need to spell those out, line after line.
  if (a.length === 0 && b.length === 0) return true;
  // (Repeats dropped once sorted, not by a Set, where long scopes of one length collide: runtime/longText.ts.)
  const spelled = (grants: readonly Grant[]): string => JSON.stringify(sortedDistinct(grants.map((g) => JSON.stringify([g.scope, g.ttlSeconds]))));
  return spelled(a) === spelled(b);
}

/**
 * `crm:read for 5m, crm:write for 1m`, or `none`: credentials as a person reads them. A line's
 * own grants are any number of scopes of any length: the first few are listed, each cut (`shownList`).
 */
export function grantsText(grants: readonly Grant[]): string {
  return shownList(grants.map((g) => `${shownText(g.scope)} for ${durationText(g.ttlSeconds * 1000)}`), (text) => text) || "none";
}

const NONE: readonly never[] = Object.freeze([]);

/**
 * The credentials a person's approval of the decision mints: an ask's `grantsOnApproval`; an
 * allow or a deny has none (nothing is asked), so a line expecting some of one fails.
 */
export function grantsOnApprovalOf(decision: Decision): readonly Grant[] {
  return decision.decision === "ask" ? decision.grantsOnApproval : NONE;
}

/** The allow rules whose grants an ask gives on approval; none for an allow or a deny. */
export function grantingRulesOf(decision: Decision): readonly string[] {
  return decision.decision === "ask" ? decision.grantingRules : NONE;
}

/** The credentials a decision gives the call: an allow's at once, an ask's once a person approves it. */
export function grantsOf(decision: Decision): readonly Grant[] {
  return decision.decision === "ask" ? decision.grantsOnApproval : decision.grants;
}
