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

/**
 * Replays one line of a recorded history as production went: an approval line (`"event":
 * "approval"`, a person's approval arriving after the lines before it) is told to the engine
 * (`Engine.approved`); any other line is decided (`decideRecorded`).
 */
export function replayRecorded(engine: Engine, request: unknown): void {
  if (request !== null && typeof request === "object" && (request as Record<string, unknown>)["event"] === "approval") engine.approved(request);
  else decideRecorded(engine, request);
}

/** The engine options a replay sets (only those given: the engine's defaults stand for the rest). */
export function engineOptions(options: { readonly sessionIdleMs?: number }): EngineOptions {
  return options.sessionIdleMs === undefined ? {} : { sessionIdleMs: options.sessionIdleMs };
}
