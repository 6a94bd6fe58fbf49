import type { Decision } from "./decision.js";

/**
 * What refused a request before any rule ran. `request`: the request itself (it is no JSON
 * object, it does not fit the schema, names no session or tool, has an unreadable time, switches
 * its session's intent). `session`: the engine's state of its session, whatever the request said
 * (the session expired, or could not start because the engine is full or retired). A decision
 * does not show which (both are a deny with no rule whose reason is the error, and their wording
 * may change), so the engine notes it as it refuses; `refusalKindOf` reads it back for tools that
 * compare decisions. (An internal error while deciding is neither, and has no kind.)
 */
export type RefusalKind = "request" | "session";

// Keyed by the decision object the engine returns: nothing is added to the decision itself (its
// shape is the enforcement point's API), and a decision the engine did not make has no kind.
const kinds = new WeakMap<Decision, RefusalKind>();

// How many callers want refusals noted now (see noteRefusalKinds). Noting costs a WeakMap entry
// per refusal, which more than doubles the cost of a refusal, and only `policyc diff` reads
// them: an enforcement point's engine, refusing a flood of sessions when full, pays one test.
// A count, not a flag, so that diffs running side by side (a test runner's) do not turn it off
// for each other; module state, so each worker thread starts with it off and turns it on itself.
let noters = 0;

/**
 * Notes the kind of every refusal from now until the returned function is called (once; call it
 * in a `finally`): for a tool that compares decisions with refusalKindOf, around the decisions it
 * compares. Without it, refusalKindOf says nothing.
 * @internal
 */
export function noteRefusalKinds(): () => void {
  noters++;
  let stopped = false;
  return () => {
    if (!stopped) noters--;
    stopped = true;
  };
}

/** Notes that the engine refused with `decision` before any rule ran, and why (see RefusalKind), when noteRefusalKinds asked for it. */
export function refusedFor<D extends Decision>(kind: RefusalKind, decision: D): D {
  if (noters > 0) kinds.set(decision, kind);
  return decision;
}

/** The kind of refusal `decision` is, as the engine that returned it noted (see noteRefusalKinds); undefined for a decision rules made (or a copy). */
export function refusalKindOf(decision: Decision): RefusalKind | undefined {
  return kinds.get(decision);
}

/**
 * What an author, operator or approver reads of a refusal before any rule ran: its detail (the
 * decision's first error), which may quote the values the enforcement point set and the engine's
 * settings, where the agent is told the short reason only (audit s20 a2).
 */
export function refusalDetail(decision: Decision): string {
  return decision.errors[0] ?? decision.reasons[0] ?? "";
}
