import type { Decision } from "../runtime/decision.js";
import type { Engine, EngineOptions } from "../runtime/engine.js";

/**
 * Decides one recorded request as the enforcement point did. A line that says `"approved":
 * true` records that a person approved the call the engine asked about and it went ahead:
 * when the engine answers `ask` here too, it is told so (`Engine.approved`), and the call's
 * tool and data join the session as they did in production.
 */
export function decideRecorded(engine: Engine, request: unknown): Decision {
  const decision = engine.decide(request);
  if (decision.decision === "ask" && (request as Record<string, unknown>)["approved"] === true) engine.approved(request);
  return decision;
}

/** The engine options a replay sets (only those given: the engine's defaults stand for the rest). */
export function engineOptions(options: { readonly sessionIdleMs?: number }): EngineOptions {
  return options.sessionIdleMs === undefined ? {} : { sessionIdleMs: options.sessionIdleMs };
}
