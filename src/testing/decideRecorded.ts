import type { Decision } from "../runtime/decision.js";
import { Engine, REPLAY_OF_RECORDED_TIMES, vouchForCompiled, type EngineOptions, type RevokeResult } from "../runtime/engine.js";
import { parseTime } from "../runtime/schema.js";
import { observeLine, type LineOutline } from "./sessionOfLine.js";
import type { CompiledPolicy } from "../runtime/policy.js";

/**
 * Decides one recorded request as the enforcement point did. A line that records `"decision":
 * "ask"` and says `"approved": true` (the older form) records that a person approved the call
 * the engine asked about and it went ahead: when the engine answers `ask` here too, it is told
 * so (`Engine.approved`), and the call's tool and data join the session as they did in
 * production. Never on a line that records another decision: production approved nothing there.
 */
export function decideRecorded(engine: Engine, request: unknown, noted?: (approval: ApprovalOutcome) => void): Decision {
  const decision = engine.decide(request);
  const line = request as Record<string, unknown>;
  if (decision.decision === "ask" && line["approved"] === true && line["decision"] === "ask") approve(engine, request, true, noted);
  return decision;
}

/**
 * Replays one line of a recorded history as production went: an approval line (`"event":
 * "approval"`, a person's approval arriving after the lines before it) is told to the engine
 * (`Engine.approved`), and so is a revocation line (`"event": "revocation"`, an operator's
 * `Engine.revoke`, see `revokeRecorded`); any other line is decided (`decideRecorded`). `noted`
 * hears what became of each approval the line records, `revoked` what `Engine.revoke` returned.
 * Returns the decision (none for an approval or revocation line).
 */
export function replayRecorded(engine: Engine, request: unknown, noted?: (approval: ApprovalOutcome) => void, revoked?: (result: RevokeResult) => void): Decision | undefined {
  const line = request as Record<string, unknown> | null;
  if (line !== null && typeof line === "object" && line["event"] === "approval") approve(engine, request, line["approved"] === true, noted);
  else if (line !== null && typeof line === "object" && line["event"] === "revocation") {
    const result = revokeRecorded(engine, line);
    revoked?.(result);
  } else return decideRecorded(engine, request, noted);
  return undefined;
}

/**
 * Tells the engine of a revocation line (`"event": "revocation"`, checked by `eventLineError`):
 * its clock moved to the line's time first (`observeLine`), which is when production's
 * `Engine.revoke` read the clock, then `Engine.revoke(session, reason)`. What it returned.
 */
export function revokeRecorded(engine: Engine, line: Readonly<Record<string, unknown>>): RevokeResult {
  observeLine(line, engine);
  const clock = replayClocks.get(engine);
  // The time the revocation is dated (`Engine.session`'s `revoked.at`, an explanation's "revoked
  // at"): the line's, not the wall clock's. Undated, the clock an undated attempt reads here
  // (the wall clock), so that it is never refused for want of a time to be kept from.
  if (clock !== undefined && line["time"] !== undefined) clock.reading = parseTime(line["time"]);
  try {
    return engine.revoke(line["session"] as string, line["reason"] as string);
  } finally {
    if (clock !== undefined) clock.reading = undefined;
  }
}

/**
 * The lines of the sessions a replay pass does not decide (another thread's share, another
 * session's under `--session`, those the pass that explains failures leaves out), told to its
 * engine as far as they bear on the sessions it decides: each moves the engine's clock
 * (`observeLine`), and an operator's revocation of a session none of whose attempts has come
 * yet is made as well, unreported (`revokeRecorded`): it takes one of the engine's places for
 * sessions revoked before their first attempt (MAX_REVOKED_BEFORE_START, maxSessions), as it
 * does in a replay of the whole log on one engine, so a revocation the pass decides is refused
 * or not as there. (Of a started session it takes none there: the engine, which never saw it
 * start, is not told.) Keeps the ids of the passed-over sessions that started.
 */
export class PassedOverLines {
  private readonly started = new Set<string>();

  /** `line`, a request or the outline a scan read of it (`attemptOfLine`), passed over by `engines`. */
  tell(line: Readonly<Record<string, unknown>> | LineOutline, ...engines: readonly Engine[]): void {
    const fields = line as Readonly<Record<string, unknown>>;
    const session = fields["session"];
    const event = fields["event"];
    // (A revocation line read whole and well-formed: a scan's outline has no `reason`, see shareFilter.)
    if (event === "revocation" && typeof session === "string" && !this.started.has(session) && typeof fields["reason"] === "string") {
      for (const engine of engines) revokeRecorded(engine, fields);
      return;
    }
    if (event === undefined && typeof session === "string") this.started.add(session);
    observeLine(line, ...engines);
  }
}

/**
 * What each replay engine's clock (`EngineOptions.clock`) reads: the wall clock (for undated
 * attempt and revocation lines, as ever), but while a dated revocation line is told to it, that
 * line's time (`revokeRecorded`), which is what production's `Engine.revoke` read.
 */
const replayClocks = new WeakMap<Engine, { reading: number | undefined }>();

/**
 * What became of an approval a history records: whether the history says it went ahead
 * (`"approved": true`), whether the engine accepted it here, and why not when it did not.
 */
export interface ApprovalOutcome {
  readonly recorded: boolean;
  readonly accepted: boolean;
  readonly refusal: string | undefined;
}

function approve(engine: Engine, request: unknown, recorded: boolean, noted: ((approval: ApprovalOutcome) => void) | undefined): void {
  const accepted = engine.approved(request);
  // Refused, nothing changed: the reason is the one the refusal had.
  noted?.({ recorded, accepted, refusal: accepted || noted === undefined ? undefined : engine.approvalRefusal(request) });
}

/**
 * The engine options that change decisions and that a replay can set as the enforcement point
 * that recorded the traffic did (`--session-idle`, `--expired-session`, `--revoked-session`,
 * `--max-window-entries`, `--max-sessions`). Not `maxTimeSkewMs` nor `clock`: a log does not
 * hold the enforcement point's clock at each line, only the times it stamped.
 */
export type RecordedEngineOptions = Pick<EngineOptions, "sessionIdleMs" | "expiredSessionMs" | "revokedSessionMs" | "maxWindowEntries" | "maxSessions">;

const RECORDED_ENGINE_OPTIONS = ["sessionIdleMs", "expiredSessionMs", "revokedSessionMs", "maxWindowEntries", "maxSessions"] as const satisfies readonly (keyof RecordedEngineOptions)[];

/**
 * The engine options a replay sets, picked from `options` (only those given: the engine's
 * defaults stand for the rest; and only these, so the result can go to a worker thread).
 */
export function engineOptions(options: RecordedEngineOptions): RecordedEngineOptions {
  const picked: Record<string, number> = {};
  for (const name of RECORDED_ENGINE_OPTIONS) if (options[name] !== undefined) picked[name] = options[name];
  return picked;
}

/**
 * The engine a replay of recorded traffic decides with (`policyc test`, `diff`, `eval`'s
 * history): the enforcement point's options (`engineOptions`), and idleness judged by the
 * recorded times alone, where an enforcement point goes by its clock, so a recording dated
 * ahead gives the same result before and after its dates pass. (Lines without `time` still
 * take the engine's clock.)
 */
export function replayEngine(policy: CompiledPolicy, options: RecordedEngineOptions): Engine {
  // Only the compiled policy, vouched for: the CLI checked the bundle (or compiled the sources)
  // before the replay, but a worker thread gets a copy, which its own thread never checked and
  // `new Engine` would refuse. One compiled policy per policy object, vouched for once: the
  // engines of a replay's shares then take it without digesting it (a 2,000-rule policy costs
  // tens of milliseconds to digest), and share its identity (Engine.samePolicyAs).
  const clock: { reading: number | undefined } = { reading: undefined };
  const engine = new Engine(compiledOf(policy), { ...engineOptions(options), clock: () => clock.reading ?? Date.now() }, REPLAY_OF_RECORDED_TIMES);
  replayClocks.set(engine, clock);
  return engine;
}

const compiledPolicies = new WeakMap<CompiledPolicy, CompiledPolicy>();

/** `policy`'s compiled-policy fields alone (a bundle's `format` and `manifest` left out), made and vouched for once per object. */
function compiledOf(policy: CompiledPolicy): CompiledPolicy {
  const { schema, rules, session, code } = policy;
  const made = compiledPolicies.get(policy);
  if (made !== undefined && made.schema === schema && made.rules === rules && made.session === session && made.code === code) return made;
  const compiled = { schema, rules, session, code };
  vouchForCompiled(compiled);
  compiledPolicies.set(policy, compiled);
  return compiled;
}
