/**
 * What enforcement points send: one tool call an agent is about to make (docs/language.md,
 * section 7). A `null` user, intent or args is taken as absent, as the engine does, and so is
 * any field that is `undefined` (spelled out, so that a caller under `exactOptionalPropertyTypes`
 * may pass its own optional values on).
 */
export interface Request {
  time?: string | undefined;
  session: string;
  agent?: Attributes | undefined;
  user?: Attributes | null | undefined;
  intent?: string | null | undefined;
  tool: string;
  args?: Attributes | null | undefined;
  context?: Attributes | undefined;
}

/**
 * The attributes of a request (its `agent`, `user`, `context` and `args`): an object of named
 * values, a record or a value of an interface type (an interface has no index signature, so
 * `Record<string, unknown>` would refuse it). Not a list, a `Set` or a `Map` (anything
 * iterable), which the engine refuses.
 */
export type Attributes = { readonly [name: string]: unknown } | (object & { readonly [Symbol.iterator]?: never });

/** A short-lived credential the enforcement point should mint for an allowed call. */
export interface Grant {
  readonly scope: string;
  readonly ttlSeconds: number;
}

export type Effect = "allow" | "ask" | "deny";

/**
 * The answer for one request. `rules` and `reasons` are parallel; `locations` too. An `ask`
 * carries `grantsOnApproval` besides (narrow on `decision === "ask"` to read it).
 */
export type Decision = SettledDecision | AskDecision;

/** What every decision has. */
export interface DecisionFields {
  readonly decision: Effect;
  /** Ids of every matched rule of the winning effect (none for a default deny, an invalid request, or a session an operator revoked). */
  readonly rules: readonly string[];
  readonly reasons: readonly string[];
  /** `file:line:col` of each rule in `rules`. */
  readonly locations: readonly string[];
  /** The credentials to mint for the call: only an `allow` has any. */
  readonly grants: readonly Grant[];
  /** True when the session is revoked (by this decision or an earlier one, or by an operator with `Engine.revoke`: then `rules` is empty). */
  readonly revoked: boolean;
  /**
   * Validation and evaluation errors. An `allow` may carry errors of allow rules that failed
   * (and so did not match) when another allow rule matched; an `ask` those of the rules that
   * made it ask (an ask rule that failed matches: show these to whoever approves) and of the
   * granting allow rules that failed (and so give nothing on approval). In a revoked session's
   * later denials, not this request's errors but those the revoking rules matched through, from
   * the request that revoked it (its first two, each cut to 100 characters; none when a rule
   * whose condition held revoked it).
   */
  readonly errors: readonly string[];
}

/** An `allow` or a `deny`. */
export interface SettledDecision extends DecisionFields {
  readonly decision: "allow" | "deny";
}

/** An `ask`: a person decides, and the call goes ahead only once they approve (`Engine.approved`). */
export interface AskDecision extends DecisionFields {
  readonly decision: "ask";
  /**
   * The credentials to mint if a person approves the call: the grants of the `allow` rules that
   * matched the same request (each scope once, with its shortest lifetime). Empty when none did.
   * Nothing may be minted before the approval.
   */
  readonly grantsOnApproval: readonly Grant[];
  /** Ids of the `allow` rules whose grants make up `grantsOnApproval` (coverage counts them for the line). */
  readonly grantingRules: readonly string[];
}
