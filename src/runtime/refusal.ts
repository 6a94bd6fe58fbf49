import type { Decision } from "./decision.js";

/**
 * What refused a request before any rule ran. `request`: the request itself (it does not fit the
 * schema, names no session or tool, has an unreadable time, switches its session's intent).
 * `session`: the engine's state of its session, whatever the request said (the session expired,
 * or could not start because the engine is full or retired). A decision does not show which (both
 * are a deny with no rule whose reason is the error, and their wording may change), so the engine
 * notes it as it refuses; `refusalKindOf` reads it back for tools that compare decisions.
 */
export type RefusalKind = "request" | "session";

// Keyed by the decision object the engine returns: nothing is added to the decision itself (its
// shape is the enforcement point's API), and a decision the engine did not make has no kind.
const kinds = new WeakMap<Decision, RefusalKind>();

/** Notes that the engine refused with `decision` before any rule ran, and why (see RefusalKind). */
export function refusedFor<D extends Decision>(kind: RefusalKind, decision: D): D {
  kinds.set(decision, kind);
  return decision;
}

/** The kind of refusal `decision` is, as the engine that returned it noted; undefined for a decision rules made (or a copy). */
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
