/**
 * What enforcement points send: one tool call an agent is about to make (section 1 of the
 * contract). A `null` user, intent or args is taken as absent, as the engine does.
 */
export interface Request {
  time?: string;
  session: string;
  agent?: Record<string, unknown>;
  user?: Record<string, unknown> | null;
  intent?: string | null;
  tool: string;
  args?: Record<string, unknown> | null;
  context?: Record<string, unknown>;
}

/** A short-lived credential the enforcement point should mint for an allowed call. */
export interface Grant {
  readonly scope: string;
  readonly ttlSeconds: number;
}

export type Effect = "allow" | "ask" | "deny";

/** The answer for one request. `rules` and `reasons` are parallel; `locations` too. */
export interface Decision {
  readonly decision: Effect;
  /** Ids of every matched rule of the winning effect (none for a default deny or an invalid request). */
  readonly rules: readonly string[];
  readonly reasons: readonly string[];
  /** `file:line:col` of each rule in `rules`. */
  readonly locations: readonly string[];
  readonly grants: readonly Grant[];
  /** True when the session is revoked (by this decision or an earlier one). */
  readonly revoked: boolean;
  /**
   * Validation and evaluation errors. An `allow` may carry errors of allow rules that failed
   * (and so did not match) when another allow rule matched.
   */
  readonly errors: readonly string[];
}
