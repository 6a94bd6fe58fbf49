import { hash } from "node:crypto";
import type { AskDecision, Decision, Effect, Grant } from "./decision.js";
import * as helpers from "./helpers.js";
import { compileGlob, matchCompiledGlob } from "./glob.js";
import { inIpRanges, ipRanges } from "./ipRange.js";
import { closestName, NameIndex } from "./closestName.js";
import { describeMs, roughlyAbove } from "./durationsForPeople.js";
import { RISK_RANK } from "./ir.js";
import type { CompiledPolicy, RuleInfo } from "./policy.js";
import { declaredOnly, undeclaredFieldsOf, type DeclaredArguments } from "./declaredFields.js";
import { describeKind, describeValue, MAX_NESTING, parseTime, startValidation, timeMistakeNote, ValidatorFactory, type Validator } from "./schema.js";
import { shapeOfFields, shapeOfType, type ValueShape } from "./declaredShape.js";
import { droppedLabels, expiredBecause, labelsAlwaysKept, labelsOf, onlyLabels, MAX_ASKED_CALLERS, MAX_ASKED_POLICIES, MAX_ASKING_RULES_KEPT, MAX_PENDING_ASKS, MAX_SESSION_ID_LENGTH, SessionState, SessionStore, UNDECLARED_LABEL_CHARS, WINDOW_RELOADED, WINDOW_TRIMMED, windowEntriesFor, type AskedCaller, type AskedUnder, type MoreAsks, type PendingAsk, type ReloadStats, type Revocation, type RevocationCause, isOperatorRevocation } from "./session.js";
import { contentHash, type BundleContent } from "./contentHash.js";
import { refusalDetail, refusedFor } from "./refusal.js";

/**
 * What the generated decision function of one tool reads.
 * @internal
 */
export interface EvalContext {
  readonly ready: true;
  /** The tool's compiled rules and checks. */
  readonly entry: ToolEntry;
  /** Whether this call repeats the previous one (undefined when the policy never asks). */
  readonly same: boolean | undefined;
  readonly agent: Record<string, unknown> | undefined;
  readonly user: Record<string, unknown> | undefined;
  readonly context: Record<string, unknown> | undefined;
  readonly args: Record<string, unknown>;
  readonly intent: string | undefined;
  readonly tool: string;
  /** Rank of the tool's declared risk. */
  readonly toolRisk: number;
  readonly now: number;
  /** Whether the request gave its time (`now` is then its own, not the engine's clock). */
  readonly dated: boolean;
  /** The engine's clock, read once for this attempt (NaN when it gave no usable time, or a replay did not read it): the session store's arrival time. */
  readonly clockReading: number;
  readonly s: SessionState;
  readonly repeats: number;
  /** Evaluation errors, created on the first one (most decisions have none). */
  errors: string[] | undefined;
  /** A fault noted while evaluating the current rule's condition (missing user or intent). */
  fault: string | undefined;
  /** Elements the quantifiers of the rule being evaluated have visited (see helpers.visiting). */
  visits: number;
  /** Characters the text tests in the quantifiers of the rule being evaluated have read (see helpers.MAX_SCANNED_CHARACTERS). */
  scanned: number;
}

/**
 * Per tool: the matched rules of the winning effect, either as rule indices (null when none
 * matched) or, for a tool whose generated entry has `maskRules`, as a bit mask over them (0
 * when none matched).
 * @internal
 */
export type ToolDecider = (c: EvalContext) => number[] | number | null;

/**
 * The runtime support the generated code calls (as `rt`); it uses nothing else of the runtime.
 * @internal
 */
export const RUNTIME_SUPPORT = deepFreeze({
  ...helpers,
  compileGlob,
  matchCompiledGlob,
  RISK_RANK,
  parseTime,
  shapeOfType,
  ipRanges,
  inIpRanges,
} as const);

/**
 * `value` frozen with everything reachable through its own properties (functions, their
 * `prototype`, RISK_RANK): every engine in the process hands the same RUNTIME_SUPPORT to its
 * bundle's code, so one bundle's code that replaced `rt.like` or lowered `rt.RISK_RANK.high`
 * would change how every other engine decides. (It cannot stop code that changes the realm's
 * own built-ins: that is why a bundle from elsewhere must be signed, README "Bundles you did
 * not build".)
 */
function deepFreeze<T extends object>(value: T): T {
  const seen = new Set<unknown>();
  // Without recursion: a compiled policy's conditions nest as deep as its author wrote them (markCompiled).
  const pending: unknown[] = [value];
  for (let i = 0; i < pending.length; i++) {
    const item = pending[i];
    if ((typeof item !== "object" && typeof item !== "function") || item === null || seen.has(item)) continue;
    seen.add(item);
    for (const key of Reflect.ownKeys(item)) {
      const descriptor = Object.getOwnPropertyDescriptor(item, key);
      // Strict functions' `caller` and `arguments` are accessors that throw; nothing to reach there.
      if (descriptor !== undefined && "value" in descriptor) pending.push(descriptor.value);
    }
    Object.freeze(item);
  }
  return value;
}
/**
 * `value`, plain data the compiler made (objects and arrays of objects, arrays and primitives,
 * no accessors), frozen with everything in it: deepFreeze's walk for such data, which pushes
 * only objects and reads values directly (at 1,000 rules, a compile's tens of thousands of IR
 * objects: deepFreeze's descriptor per key took a tenth of compileSources). Without recursion:
 * conditions nest as deep as their author wrote them.
 */
function freezeData<T extends object>(value: T): T {
  const seen = new Set<object>();
  const pending: object[] = [value];
  while (pending.length > 0) {
    const item = pending.pop()!;
    if (seen.has(item)) continue;
    seen.add(item);
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length; i++) {
        const element: unknown = item[i];
        if (typeof element === "object" && element !== null) pending.push(element);
      }
    } else {
      for (const key in item) {
        if (!Object.hasOwn(item, key)) continue;
        const field: unknown = (item as Record<string, unknown>)[key];
        if (typeof field === "object" && field !== null) pending.push(field);
      }
    }
    Object.freeze(item);
  }
  return value;
}

/**
 * The type of RUNTIME_SUPPORT.
 * @internal
 */
export type RuntimeSupport = typeof RUNTIME_SUPPORT;

/**
 * Each option left out or `undefined` is not set (its default applies): its type spells out
 * `| undefined`, so that under `exactOptionalPropertyTypes` a setting that may be unset
 * (`sessionIdleMs: config.idleMs`) passes on as it is, as the engine takes it.
 */
export interface EngineOptions {
  /**
   * The engine's clock (epoch ms), read once per attempt: the time of requests without `time`,
   * what `maxTimeSkewMs` checks request times against, and what frees and forgets idle
   * sessions (request dates never do). Default `Date.now`, which steps when the host's clock
   * does. Back: for as long as the step, attempts dated after it fail the `session.count` and
   * `session.called` windows closed (a `deny … revoke` matched only because a count reaches back
   * past the attempts kept denies without revoking). Ahead by more than `sessionIdleMs` (a VM resumed, NTP stepping it): a session
   * attempting during the step expires for good (its denial says how far the time moved), and
   * one of more than twice `sessionIdleMs` lets the sweep free the sessions idle through it;
   * one longer than `expiredSessionMs` is that much time passing (sessions idle that long by
   * the stepped clock are forgotten, their ids starting clean).
   * language.md §7 says what to pass instead: a clock that never steps. A clock that throws or
   * gives no finite number denies the requests that need it, naming it.
   */
  readonly clock?: (() => number) | undefined;
  /**
   * A session with no attempt for this long (ms, by its own request times) expires: its state
   * is freed and its later attempts are denied, not started afresh, until `expiredSessionMs`
   * after its last attempt (then the id starts a new, clean session). Default one hour. At most
   * 100 years (3,155,760,000,000 ms; a `RangeError` above it, `Infinity` included), as for
   * `expiredSessionMs` and `revokedSessionMs`.
   */
  readonly sessionIdleMs?: number | undefined;
  /**
   * How long an expired session is remembered (and its attempts denied) after its last attempt,
   * a denied one included, by the engine's clock (a request dated back cannot shorten it): its
   * id's next attempt after that starts a new session. Default one day. At most 100 years, as `sessionIdleMs`.
   */
  readonly expiredSessionMs?: number | undefined;
  /**
   * How long a revoked session is remembered (and its attempts denied) after its last attempt,
   * a denied one included, by the engine's clock (forgotten when its id next comes, or by the
   * first sweep after that: sweeps run every quarter of `sessionIdleMs`), whatever
   * `expiredSessionMs` says. Default forever: a revocation holds for
   * every later attempt. Set it to bound the memory revoked sessions keep where session ids are
   * never reused (measured: about 150 bytes each plus the session id; one revoked only through
   * evaluation errors keeps two of them, cut to 100 characters: up to about 750 bytes and 25
   * more for each rule that revoked it); once forgotten, the id starts a new session. At most
   * 100 years, as `sessionIdleMs`: leave it unset to remember revoked sessions forever.
   */
  readonly revokedSessionMs?: number | undefined;
  /**
   * Attempts a session's `session.count` window keeps at most. Default: 10,000, or more when the
   * policy compares a count with a larger number. A session that makes more attempts within
   * the longest `within` has its oldest ones dropped, and counts reaching back to them are
   * errors: rules reading them fail closed.
   */
  readonly maxWindowEntries?: number | undefined;
  /**
   * Live sessions kept at most. Past it, an attempt that would start a new session is denied
   * (never made room for by forgetting another session's state, which could hold a taint or a
   * revocation) until a session has been idle, by the clock, for more than `sessionIdleMs` plus
   * a margin (five minutes, or half of `sessionIdleMs` when that is shorter), looked for at
   * most once a second of the clock (a flood of new ids must not walk every session on every
   * attempt): to make room
   * sooner, raise it or lower `sessionIdleMs`. Default unbounded: set it when session ids come
   * from anything an agent can influence.
   */
  readonly maxSessions?: number | undefined;
  /**
   * How far (ms) a request's `time` may be from the engine's clock, ahead or behind; a request
   * further off is denied (and counted in its session, dated by the session's own attempts). Default unchecked, for replays of recorded traffic. Set it when
   * request times come from anywhere but the enforcement point's own clock: an agent that can
   * date its calls can spread them out to stay under every `session.count` limit.
   */
  readonly maxTimeSkewMs?: number | undefined;
  /**
   * The engine this one replaces (a reloaded policy or bundle): this engine takes over its
   * sessions — revocations, the data they touched, counts, asks awaiting approval — and the old
   * engine denies every attempt from then on. Without it a reload would start every session
   * afresh: revoked agents and tainted sessions would go on as new. When what the sessions kept
   * cannot answer the new policy's questions (a longer `session.count` window, a
   * `session.called` pattern that now matches a tool whose calls were not kept, …: see the
   * README's reload section and docs/language.md §7), running sessions end as expired ones
   * instead, saying why, and their agents start new sessions.
   */
  readonly sessionsFrom?: Engine | undefined;
}

/** What `Engine.stats()` returns: counts of the sessions an engine holds, for metrics. */
export interface EngineStats {
  /** Sessions whose state the engine keeps, as `maxSessions` counts them (revoked ones with state, and idle ones not yet swept, included). */
  readonly liveSessions: number;
  /** `EngineOptions.maxSessions`, or null when unbounded. */
  readonly maxSessions: number | null;
  /** Records of expired sessions remembered (their attempts are denied), revoked ones apart. */
  readonly expiredSessions: number;
  /** Revoked sessions remembered, live or expired. */
  readonly revokedSessions: number;
  /** True once a reload took the engine's sessions over (`sessionsFrom`): it denies every attempt. */
  readonly retired: boolean;
  /** What the reload that made this engine (`sessionsFrom`) did to the sessions it took over; null for an engine made without one. */
  readonly reload: ReloadStats | null;
}

/**
 * What revoked a session, for people (`Engine.session`, `Engine.revoke`): plain frozen data.
 * `by`: "rules" when `deny … revoke` rules did (their ids in `rules`, their reasons in `reasons`,
 * as the revoked session's denials give them), "operator" when `Engine.revoke` did (`rules`
 * empty, `reasons` the one reason its denials give: `revoked by an operator: "…"`, the
 * operator's text quoted, cut and with hidden characters escaped).
 */
export interface RevocationSummary {
  readonly by: "rules" | "operator";
  readonly rules: readonly string[];
  readonly reasons: readonly string[];
  /**
   * When (ISO 8601): the revoking request's `time`, or, for an operator's revocation, the
   * engine's clock when it was made; null when not known (a request without `time`, a clock
   * that gave no time).
   */
  readonly at: string | null;
  /** The tool of the attempt that revoked the session; null for an operator's revocation. */
  readonly tool: string | null;
}

/** What `Engine.revoke` did. */
export interface RevokeResult {
  /**
   * "revoked": this call revoked the session. "already-revoked": it was revoked before (by a rule
   * or an operator), and that first revocation stands unchanged (`revocation` shows it).
   * "refused": an id not seen yet is not revoked (`refusal` says why: the engine holds as many
   * ids revoked before their first attempt as it keeps, maxSessions or 100,000, or as many
   * sessions and records as it can, or its clock gave no time to keep a new record by when
   * revokedSessionMs is finite): retry, or make room.
   */
  readonly outcome: "revoked" | "already-revoked" | "refused";
  /** Whether the session is revoked now: false only when "refused". */
  readonly revoked: boolean;
  /** The revocation in force: this call's or the earlier one; null when "refused". */
  readonly revocation: RevocationSummary | null;
  /** Why the session was not revoked; null unless "refused". */
  readonly refusal: string | null;
}

/**
 * What `Engine.session` returns: a snapshot of one session, for dashboards and incident tickets
 * (plain frozen data, never live state).
 */
export interface SessionSummary {
  readonly session: string;
  /**
   * "live": the engine keeps the session's state, and its attempts are decided (denied, when
   * revoked). "ended": only the record of a session that expired (idle, or ended by a reload) or
   * was revoked before its first attempt is kept; its attempts are denied until it is forgotten.
   */
  readonly status: "live" | "ended";
  /** Its attempts (`session.calls`), and how many were denied; null when the engine keeps no state of it (ended). */
  readonly calls: number | null;
  readonly denials: number | null;
  /** When its first attempt arrived by the engine's clock (ISO 8601; `session.age` counts from it); null without state. */
  readonly firstSeen: string | null;
  /**
   * Its latest attempt: the latest request time of a live session; for an ended one, when the
   * engine's clock last saw it (its last attempt, a denied one included, or an operator's
   * revocation), which its memory (`expiredSessionMs`, `revokedSessionMs`) counts from.
   */
  readonly lastSeen: string | null;
  /** The intent it declared; null when none (or no state). */
  readonly intent: string | null;
  /** How many labels it holds (`session.labels`); null when the policy keeps none, or without state. */
  readonly labels: number | null;
  /**
   * The labels it holds (`session.labels`), sorted: what the calls it made went ahead with carried
   * and their tools returned (members of the label enum; any strings `context.labels` sent, within
   * the room a session keeps for them, when the policy does not type it by the enum). Null when
   * the compiled policy keeps no labels (no rule reads `session.labels`), or without state.
   */
  readonly labelNames: readonly string[] | null;
  /**
   * The tools it was allowed so far (`session.tools`: allowed, or asked and approved), sorted.
   * Null when the compiled policy keeps none (no rule reads `session.tools`), or without state.
   */
  readonly tools: readonly string[] | null;
  /**
   * The calls answered `ask` that await a person's approval (`Engine.approved` takes one ask of
   * a call at a time), the first 20 by when each was first asked (oldest first): a looping agent
   * can pile up many (the engine keeps up to 256). Empty once the session is revoked (by a rule
   * or an operator): `Engine.approved` refuses every ask of it. Null without state.
   */
  readonly pendingAsks: readonly PendingAskSummary[] | null;
  /**
   * How many calls await approval in all (`pendingAsks` lists the first of them); 0 once the
   * session is revoked; null without state. An ask past the 256 calls the engine keeps is not kept, nor counted: its decision said
   * it cannot be approved.
   */
  readonly pendingAskCount: number | null;
  /**
   * Whether labels its calls carried found no room (the 4,096 characters a session keeps of labels
   * that are neither members of the label enum nor returned by a tool): its own, so that a
   * `session.labels` test a label not kept could change is an evaluation error (fails closed) for
   * the rest of the session, or an ask's awaiting approval (approved, it marks the session; its
   * `pendingAsks` entry says so when listed). Once revoked, only its own. Null when the compiled
   * policy keeps no labels, or without state.
   */
  readonly labelsDropped: boolean | null;
  /**
   * Whether labels of the session's own calls (allowed, or approved) found no room: `labelsDropped`
   * without the asks awaiting approval, so its `session.labels` tests fail closed already. Null as
   * `labelsDropped` is.
   */
  readonly ownLabelsDropped: boolean | null;
  /**
   * How many asks were refused for want of room (the session already had 256 calls awaiting
   * approval): none was kept, nor is counted in `pendingAskCount`, and none can be approved (each
   * decision said so in its `errors`). Asks of a call already awaiting are kept. Null without state.
   */
  readonly asksNotKept: number | null;
  /**
   * Whether its `session.count` window overflowed (`maxWindowEntries`, by default at least 10,000
   * attempts) and let go of attempts inside the longest `within` of the attempt then made (or a
   * count reaching back past what it let go failed): a count reaching back to them is an
   * evaluation error (fails closed) until the window has moved past them. Not said of: the
   * routine letting go of attempts older than that (the window keeps them for two `within`s only
   * for attempts arriving late); a window kept at the policy's own numbers (N + 1 attempts for its
   * `> N`), whose counts stay exact past it; nor, after a reload to a policy needing more attempts,
   * what such a window let go before it (counts reaching back to it deny as the reload's doing,
   * WINDOW_RELOADED). An overflow before a reload is still said after it. Null when the policy
   * keeps no window, or without state.
   */
  readonly windowOverflowed: boolean | null;
  /**
   * Whether an attempt at an undeclared tool found no room for its name (the 1,024 characters a
   * session keeps of them): a `session.count` of a pattern reaching back to it is an evaluation
   * error (fails closed) until the window has moved past it. Null when the policy counts no
   * pattern's attempts (it keeps no tool per attempt), or without state.
   */
  readonly undeclaredToolsUnnamed: boolean | null;
  /**
   * Why an `ended` session ended: "idle" (it made no attempt for longer than `sessionIdleMs`, by
   * its request times or by the engine's clock), "reload" (a reload's policy could not take it
   * over), or "revoked-before-start" (an operator revoked the id before its first attempt: it
   * never started). Null while live. What the engine's record of it says: no more is kept.
   */
  readonly endCause: "idle" | "reload" | "revoked-before-start" | null;
  /**
   * Why it ended, for people: what its later attempts' denials give as the cause (for
   * "revoked-before-start", the reason its revocation gives: the operator's words, quoted). Null while live.
   */
  readonly endReason: string | null;
  /** What revoked it, or null. */
  readonly revoked: RevocationSummary | null;
}

/** A call awaiting approval in a session (`SessionSummary.pendingAsks`). */
export interface PendingAskSummary {
  readonly tool: string;
  /**
   * When the call was first asked (the earliest of its asks' times, whichever arrived first), and
   * last asked (ISO 8601, by the asking requests' times; null when none could be read as a date).
   * The engine cannot tell which ask an approval answers, so `firstAskedAt` and `rules` cover
   * every ask of the call since it was first asked, also those approvals have taken.
   */
  readonly firstAskedAt: string | null;
  readonly lastAskedAt: string | null;
  /** How many asks of the call await approval: each approval takes one. */
  readonly asks: number;
  /** The ids of the rules that asked it, over its asks (the latest 32, the earliest dropped past them). */
  readonly rules: readonly string[];
  /** Whether labels its asks carried found no room (see `SessionSummary.labelsDropped`): approved, the session is marked. */
  readonly labelsDropped: boolean;
}

/** How many calls awaiting approval `SessionSummary.pendingAsks` lists at most (it counts them all). */
const PENDING_ASKS_LISTED = 20;

/** A request `readAttempt` refused: the refusal, with what it could read of the attempt. */
type RefusedAttempt = { refused: Decision; sessionId?: string; tool?: string; clockReading?: number };

/**
 * The outcome of `Engine.prepare`: either a decision already (invalid, revoked) or a context to run rules on.
 * @internal
 */
export type Prepared = { readonly ready: false; readonly decision: Decision; readonly state?: SessionState; readonly now?: number; readonly clockReading?: number; readonly tool?: string; readonly revocation?: Revocation } | EvalContext;

/** What the generated code gives per tool: its rules, and a fast yes/no check of a request's shape. */
interface GeneratedTool {
  readonly decide: ToolDecider;
  readonly fits: (request: Record<string, unknown>) => boolean;
  /** Present when the policy reads `session.repeats` (bundles of older compilers lack it). */
  readonly sameArgs?: (previous: unknown, current: unknown, shape: ValueShape) => boolean;
  /** Present when `decide` reports a bit mask: the rule index of each bit. */
  readonly maskRules?: readonly number[];
  /**
   * Present when the tool has ask rules and allow rules that grant: those allow rules, as rule
   * index and rule function (bundles of older compilers lack it: their asks grant nothing on approval).
   */
  readonly onApproval?: readonly (readonly [number, (c: EvalContext) => boolean])[];
}

/** An allow rule that grants, run for an ask: its grants are what approving the call gives. */
interface GrantingAllow {
  readonly index: number;
  /** Its bit, for a tool that reports masks. */
  readonly bit: number;
  /** Its condition, failing closed (an error is reported and the rule does not match). */
  readonly matches: (c: EvalContext) => boolean;
}

/**
 * What the engine keeps per declared tool: its generated code, validators and shared decisions.
 * @internal
 */
export interface ToolEntry {
  readonly decide: ToolDecider;
  /**
   * True when the request fits the declared schema; false sends it to the validators for the
   * message. Undefined for code that checks requests without counting their values (see the
   * constructor): the validators, which count, check and word at once.
   */
  readonly fits: ((request: Record<string, unknown>) => boolean) | undefined;
  /** Whether a validated call's args deep-equal the previous call's (for `session.repeats`). */
  readonly sameArgs: (previous: unknown, current: unknown) => boolean;
  /** How its args compare (their declared fields): asks awaiting approval are found by it. */
  readonly argsShape: ValueShape;
  readonly validateArgs: Validator;
  /** The arguments a call must carry, for the reason when `args` is missing altogether. */
  readonly requiredArgs: readonly string[];
  readonly returns: readonly string[];
  readonly risk: number;
  /** Position among the declared tools (session windows store tools by it). */
  readonly ordinal: number;
  /** Shared decisions: the default deny, and per rule index the decision when only it matched. */
  readonly defaultDeny: Decision;
  /** Shared decisions by combination of matched rules (a trie over rule indices), bounded in size. */
  readonly decisions: SharedDecisions;
  sharedCount: number;
  /** For a tool that reports masks: the rule index of each bit, and the shared decisions by mask. */
  readonly maskRules: readonly number[] | undefined;
  readonly byMask: Map<number, SharedDecision>;
  /** The allow rules that grant, when the tool has ask rules too (else undefined: nothing to run for an ask). */
  readonly onApproval: readonly GrantingAllow[] | undefined;
  /** For a tool that reports masks: the bits of its ask rules. */
  readonly askBits: number;
  /** The reasons of its rules that write none, by rule index, as made (Engine.defaultReasonOf). */
  readonly defaultReasons: Map<number, string>;
  /** What its asks' keys start with (askKeyPrefix), made once. */
  readonly askPrefix: string;
}

type SharedDecision = { decision: Decision; revocation: RevocationCause | undefined };

interface SharedDecisions {
  readonly next: Map<number, SharedDecisions>;
  built: SharedDecision | undefined;
}

/** Freezes a decision deeply, so a shared one cannot be changed by whoever receives it. */
function freezeDecision(decision: Decision): Decision {
  for (const list of [decision.rules, decision.reasons, decision.locations, decision.errors]) Object.freeze(list);
  if (decision.decision === "ask") Object.freeze(decision.grantingRules);
  for (const grants of decision.decision === "ask" ? [decision.grants, decision.grantsOnApproval] : [decision.grants]) {
    for (const grant of grants) Object.freeze(grant);
    Object.freeze(grants);
  }
  return Object.freeze(decision);
}

/**
 * The generated functions of recently loaded policy code, by code text and schema. They are pure
 * (all state is in the evaluation context and the session), so engines of the same policy set
 * can share them, and with them the machine code V8 has optimized: a replay of many recordings,
 * or an enforcement point reloading its bundle, does not start cold again. The schema is part
 * of the key: the code reads the shapes of records from it when it is created, and two policy
 * sets whose code is the same text can differ only there (a field a `list` in one, a `set` in
 * the other). Bounded: a process that loads many policy sets keeps only the latest few.
 */
const generatedByCode = new Map<string, Map<string, GeneratedTool>>();
const MAX_CACHED_POLICIES = 4;

function instantiate(policy: CompiledPolicy): Map<string, GeneratedTool> {
  const key = `${JSON.stringify(policy.schema)}\n${policy.code}`;
  const cached = generatedByCode.get(key);
  if (cached) {
    // Most recently used last: eviction takes the policy set unused the longest.
    generatedByCode.delete(key);
    generatedByCode.set(key, cached);
    return cached;
  }
  // The generated code is a function body taking the runtime support and the schema.
  const create = new Function("rt", "schema", `"use strict";\n${policy.code}`) as (rt: RuntimeSupport, schema: CompiledPolicy["schema"]) => Map<string, GeneratedTool>;
  const generated = create(RUNTIME_SUPPORT, policy.schema);
  if (generatedByCode.size >= MAX_CACHED_POLICIES) generatedByCode.delete(generatedByCode.keys().next().value!);
  generatedByCode.set(key, generated);
  return generated;
}

/** What the request checks of code that counts the values it validates declare (compile/emitValidation.ts). */
const COUNTING_CHECKS = "\nlet valuesSeen = 0;\n";

/**
 * The line code declares when it reads `session.labels` only through helpers that fail closed
 * on a label the session did not keep (helpers.sessionLabels; compile/emitJavaScript.ts): code
 * built since labels are bounded. A whole line, which no policy string in the code can make up
 * (JSON holds no raw newline), as COUNTING_CHECKS.
 */
const BOUNDS_LABELS = "\n// session.labels is read through rt.sessionLabels and rt.hasSessionLabel, which fail closed on a label the session did not keep.\n";

const EMPTY: readonly never[] = Object.freeze([]);
/** Shared decisions kept per tool at most (one per combination of matched rules). */
const MAX_SHARED_DECISIONS = 512;
/** Unknown tools' and intents' reasons kept, each (Engine.unknownToolReasons, unknownIntentReasons). */
const MAX_REMEMBERED_UNKNOWN_NAMES = 256;

/**
 * Decides tool calls for one compiled policy set and keeps session state in memory. `decide`
 * is synchronous, never throws, and never allows on an error.
 */
export class Engine {
  /** The policy this engine runs: the fields of the one given, each read once when it was checked (the same object for every engine of the same unchanged policy). */
  readonly policy: CompiledPolicy;
  readonly rules: readonly RuleInfo[];
  /**
   * The sessions' state. Not part of the API (left out of the published types): its `clear()`
   * and `sweep()` forget revocations and taint, which would let a revoked agent start afresh.
   * Reload with `sessionsFrom` instead; the benchmarks reset it between runs.
   * @internal
   */
  readonly sessions: SessionStore;
  private readonly tools = new Map<string, ToolEntry>();
  /**
   * What `readAttempt` read of the attempt it accepted, for `prepare` (or `observe`) to take
   * at once: written in place, not returned as a new object, since every decision reads one
   * and the allocation (with its two boxed numbers) was a measurable part of a plain decision.
   * Nothing runs between the write and the read, so a re-entrant call cannot interleave.
   */
  private readonly attempt: { sessionId: string; tool: string; now: number; clockReading: number } = { sessionId: "", tool: "", now: Number.NaN, clockReading: Number.NaN };
  /**
   * The validators of the fields the enforcement point sets, in the order they are checked:
   * `quoting` words the detail for a decision's `errors` (the value given, an enum's members),
   * `withholding` the reason the agent is told, which names the field and its type only.
   */
  private readonly entityValidators: readonly { readonly name: "agent" | "context" | "user"; readonly required: boolean; readonly quoting: Validator | undefined; readonly withholding: Validator | undefined }[];
  private readonly intents: ReadonlySet<string>;
  private readonly clock: () => number;
  /**
   * Revocations made through errors, by their rules and errors (see `sharedRevocation`): one
   * object for the sessions revoked alike, as a decision without errors shares its own.
   */
  private readonly revocations = new Map<string, RevocationCause>();
  private readonly maxTimeSkewMs: number | undefined;
  /** A replay's engine (src/testing's `replayEngine`): its store goes by recorded times, not by the clock. */
  private readonly recordedTimesOnly: boolean;
  private readonly ruleById = new Map<string, number>();
  /**
   * The reason for an unknown tool, by name: its did-you-mean walks every declared tool, and
   * an agent that calls a made-up tool calls it again and again. Cleared when full (a flood of
   * distinct names costs what it cost without it).
   */
  private readonly unknownToolReasons = new Map<string, string>();
  /** The same for unknown intents: the agent chooses the intent as freely as the tool. */
  private readonly unknownIntentReasons = new Map<string, string>();
  /** The declared tools and intents for did-you-mean advice, indexed here, off any request's path. */
  private readonly toolNames: NameIndex;
  private readonly intentNames: NameIndex;
  /** The engine that took this one's sessions over (EngineOptions.sessionsFrom): approvals go to it. */
  private successor: Engine | undefined;
  /** What taking the sessions of `EngineOptions.sessionsFrom` over did to them (`stats().reload`). */
  private reloadStats: ReloadStats | null = null;

  /**
   * An engine for `policy`: what `compileSources` gives (its `policy`), or a bundle that
   * `verifyBundle` returned or `createBundle` made in this thread from the compiler's policy (or
   * a copy of one). Its code runs in this process, so a bundle read from a file goes through
   * `loadBundle(JSON.parse(text), { publicKey })`, which checks its hash and signature first; a
   * bundle no `verifyBundle` checked (`new Engine(JSON.parse(text))`) or changed since it was
   * checked, a compiled policy the compiler did not make, a value whose fields are getters, and
   * a value without the fields of a compiled policy, are refused with a `TypeError` before any
   * code runs. Its fields are read once (`engine.policy` is that snapshot).
   * Options that are not valid throw a `TypeError` or `RangeError` (see EngineOptions), and so
   * does a third argument, with a `TypeError`.
   */
  constructor(policy: CompiledPolicy, options?: EngineOptions);
  /**
   * A replay's engine (src/testing's `replayEngine`): see REPLAY_OF_RECORDED_TIMES. This
   * overload is left out of the published types, and the value it takes is not exported.
   * @internal
   */
  constructor(policy: CompiledPolicy, options: EngineOptions, replay: typeof REPLAY_OF_RECORDED_TIMES);
  constructor(givenPolicy: CompiledPolicy, given: EngineOptions = {}, replay?: unknown) {
    // The snapshot checked (each field read once), never `givenPolicy` again: see snapshotOf.
    const policy = checkCompiledPolicy(givenPolicy);
    this.policy = policy;
    // Read once, then checked and used: a getter cannot show the checks one value and the engine another.
    checkEngineOptionNames(given);
    const options = readOptions(given, "new Engine");
    checkOptions(options);
    checkReplayArgument(replay);
    this.rules = policy.rules;
    this.rules.forEach((r, i) => this.ruleById.set(r.id, i));
    this.clock = options.clock ?? Date.now;
    this.maxTimeSkewMs = options.maxTimeSkewMs;
    this.recordedTimesOnly = replay === REPLAY_OF_RECORDED_TIMES;
    const needed = windowEntriesFor(policy.rules.map((r) => r.ir));
    const windowEntries = options.maxWindowEntries ?? needed.entries;
    this.sessions = new SessionStore(policy.session, Object.keys(policy.schema.tools), {
      idleMs: options.sessionIdleMs,
      expiredMs: options.expiredSessionMs,
      revokedMs: options.revokedSessionMs,
      maxWindowEntries: windowEntries,
      maxSessions: options.maxSessions,
      // Code built before labels were bounded reads `session.labels` without failing closed on a
      // label not kept: its sessions keep every label, as they did (UNDECLARED_LABEL_CHARS).
      labelLimits: { alwaysKept: labelsAlwaysKept(policy.schema), maxChars: policy.code.includes(BOUNDS_LABELS) ? UNDECLARED_LABEL_CHARS : Number.POSITIVE_INFINITY, onlyLabels: onlyLabels(policy.schema) },
      countsSaturate: needed.literalOnly && windowEntries >= needed.entries,
      returns: new Map(Object.entries(policy.schema.tools).map(([name, tool]) => [name, tool.returns])),
      recordedTimesOnly: this.recordedTimesOnly,
    });
    const factory = new ValidatorFactory(policy.schema);
    const { agent, user, context } = policy.schema.entities;
    const withholding = new ValidatorFactory(policy.schema, false);
    this.entityValidators = [
      { name: "agent", required: true, quoting: agent && factory.forFields(agent, "agent"), withholding: agent && withholding.forFields(agent, "agent") },
      { name: "context", required: true, quoting: context && factory.forFields(context, "context"), withholding: context && withholding.forFields(context, "context") },
      { name: "user", required: false, quoting: user && factory.forFields(user, "user"), withholding: user && withholding.forFields(user, "user") },
    ];
    this.intents = new Set(Object.keys(policy.schema.intents));
    const generated = instantiate(policy);
    // Code built before the count came in (0.3.0 and before, and early 0.4.0 builds, whose
    // manifest says 0.4.0 too) checks requests without counting the values it visits
    // (MAX_VALIDATED_VALUES): objects shared between fields could make it run for hours. Its
    // requests are checked by the interpreted validators, which count them, instead.
    const countsValues = policy.code.includes(COUNTING_CHECKS);
    for (const [ordinal, [name, tool]] of Object.entries(policy.schema.tools).entries()) {
      const maskRules = generated.get(name)?.maskRules;
      const argsShape = shapeOfFields(policy.schema, tool.args);
      const bitOf = (index: number): number => (maskRules === undefined ? 0 : 2 ** maskRules.indexOf(index));
      this.tools.set(name, {
        ordinal,
        decide: generated.get(name)?.decide ?? (() => null),
        fits: countsValues ? (generated.get(name)?.fits ?? (() => false)) : undefined,
        sameArgs: sameArgsFor(generated.get(name)?.sameArgs, argsShape),
        argsShape,
        maskRules,
        byMask: new Map(),
        onApproval: generated.get(name)?.onApproval?.map(([index, matches]) => ({ index, bit: bitOf(index), matches })),
        askBits: (maskRules ?? []).filter((index) => this.rules[index]!.effect === "ask").reduce((bits, index) => bits | bitOf(index), 0),
        validateArgs: factory.forFields(tool.args, `${name} args`),
        requiredArgs: Object.entries(tool.args).filter(([, f]) => !f.optional).map(([arg]) => arg),
        returns: tool.returns,
        risk: RISK_RANK[tool.risk],
        defaultDeny: freezeDecision({ decision: "deny", rules: [], reasons: [defaultDenyReason(name)], locations: [], grants: [], revoked: false, errors: [] }),
        decisions: { next: new Map(), built: undefined },
        sharedCount: 0,
        defaultReasons: new Map(),
        askPrefix: askKeyPrefix(name),
      });
    }
    this.toolNames = new NameIndex(this.tools.keys());
    this.intentNames = new NameIndex(this.intents);
    // Last, once nothing can throw: a reload that fails leaves the old engine with its sessions.
    if (options.sessionsFrom !== undefined) {
      // A session whose declared intent the new policy dropped has no purpose left: it ends.
      this.reloadStats = this.sessions.adopt(options.sessionsFrom.sessions, (state) => state.intent === undefined || this.intents.has(state.intent));
      options.sessionsFrom.successor = this;
    }
  }

  /**
   * Tells the engine that a call it answered `ask` for went ahead, a person having approved it:
   * the tool and its data join the session as an allowed call's do (`session.tools`,
   * `session.called`, and `session.labels` from its `context.labels` and the tool's `returns`),
   * so what it returned taints what the session does next, and the enforcement point mints the
   * ask decision's `grantsOnApproval` for the call once this returns true. It is not another
   * attempt. Only a call the session was answered `ask` for can be approved (also after later attempts: a person
   * may take a while), and once: the same tool with the same declared arguments (as
   * `session.repeats` compares them); its `context`, `user` and `time` may differ (`time`: when
   * the approval came; one dated at or before its ask is recorded at the ask's time plus the
   * wait the engine's clock measured since the ask, else at the ask's time, so one dated back cannot shorten a
   * `session.called(…, within D)` window), and the
   * asked call's `context.labels` join the session with the approval's. Returns false, changing
   * nothing, otherwise: for a call not awaiting approval (allowed, denied, never asked about,
   * or of other arguments), an invalid request, or a session that is unknown, expired or revoked.
   * On an engine whose sessions a reload took over (`sessionsFrom`), it approves on the engine
   * that has them now (an ask made before the reload is found by its arguments as the policy
   * that asked compared them). While an ask of the call made under another policy than the one
   * in force awaits (a reload that changed it since; policies compared by content), each such
   * ask is judged by the policy in force as it was asked (`askedRequest`: copies of the asked user,
   * agent and context taken at the ask), recording nothing, and the approval is refused when a deny matches (a
   * `deny … revoke` revokes the session too, as it would the call: the one change a `false`
   * can bring), when the call is invalid now, and when the ask offered grants on approval that
   * the policy in force no longer gives (the enforcement point mints the ask's
   * `grantsOnApproval`, never more than the policy in force gives). Never throws.
   * (`approvalRefusal` says why it would return false.)
   */
  approved(request: unknown): boolean {
    this.lastApprovalAtAsk = undefined;
    return this.approve(request, true) === undefined;
  }

  /**
   * The ask's time (epoch ms) when the last approval `approved` accepted was dated at or before
   * the ask it answers and, the engine's clock measuring no wait since (a replay's dated line
   * reads none), was recorded at the ask's time; else undefined. For the replay's note on such
   * an approval line: production recorded the call when the approval came.
   * @internal
   */
  approvalRecordedAtAsk(): number | undefined {
    return this.successor !== undefined ? this.successor.approvalRecordedAtAsk() : this.lastApprovalAtAsk;
  }

  /** See approvalRecordedAtAsk. */
  private lastApprovalAtAsk: number | undefined;

  /**
   * Why `approved(request)` would return false, changing nothing: the session's refusal (it
   * expired, or is revoked: by which rule), why the request is invalid, that no ask of the call
   * awaits approval in the session, or, for an ask made before a reload, what of the policy in
   * force refuses it (and whether approving it would revoke the session). Undefined when it would
   * accept the approval. For logs and replays that must say why an approval was refused;
   * `approved` itself stays a yes or no.
   */
  approvalRefusal(request: unknown): string | undefined {
    return this.approve(request, false);
  }

  /** `approved`, or with `apply` false only its verdict: undefined when accepted, else why not. */
  private approve(request: unknown, apply: boolean): string | undefined {
    // A person approves a call the engine before a reload asked about: the session is here now.
    if (this.successor !== undefined) return this.successor.approve(request, apply);
    // As a decision does: its own budgets, and nothing of the request kept once it returns.
    helpers.newDecision();
    try {
      const prepared = this.prepare(request, false, true);
      if (!prepared.ready) return approvalMustCarry(this.refusalBeforeRules(request, prepared));
      const sessionId = (request as Record<string, unknown>)["session"] as string;
      // (An explanation's fresh state: the engine holds no such session.)
      if (this.sessions.get(sessionId) !== prepared.s) return `session ${helpers.describeText(sessionId)} has made no attempt, so no ask of it awaits approval`;
      // Only a call the session was answered `ask` for, once each: never one that was allowed,
      // denied or not asked about at all, even of a tool with an ask awaiting approval (the
      // person approved that call, not another the agent or a mixed-up queue sends).
      const state = prepared.s;
      const found = pendingAskOf(state, prepared.tool, prepared.entry, prepared.args);
      if (found === undefined) return noAskFor(state, sessionId, prepared.tool);
      const [key, pending] = found;
      // Asks of the call made under another policy (a reload since): the policy in force must
      // still let each go ahead as it was asked, with no more than it offered (approvals are the
      // one way an old policy's answer could outlive a reload). The engine cannot tell which ask
      // an approval answers, so every such ask remaining is judged, until approved.
      if (pending.policy !== this.policy || pending.more?.older !== undefined) {
        const refusal = this.refusalOfAsksUnderOtherPolicies(request as Record<string, unknown>, sessionId, pending, apply);
        if (refusal !== undefined) return refusal;
      }
      if (!apply) return undefined;
      // Read before the session changes (request data may throw on reading).
      const sent = state.labels ? labelsOf(prepared.context?.["labels"]) : undefined;
      if (--pending.count === 0) state.asked!.delete(key);
      else settleOldestAsk(pending);
      // Its labels join the session's now (next), charged there: the room the ask was charged for
      // them is given back at every approval, and the ask holds them no longer (an ask made twice
      // and approved once would otherwise be charged twice, and the session drop labels it had room for).
      const carried = pending.labels;
      state.releaseLabels(pending.labelChars);
      pending.labels = undefined;
      pending.labelChars = 0;
      // The asked call's data, which the person saw, joins the session whatever the approval carries.
      // It went ahead when the approval came. An approval dated after its ask says when that was;
      // one dated at or before it (the asked request passed back unstamped, or a stale time) does
      // not, and the engine's clock does: by the wait it measured since the ask, added to the
      // ask's time, so a clock running ahead of the requests' times dates no call in their future
      // (a replay reads no clock for a dated line, and stays deterministic at the ask's time).
      // Never earlier than the ask, or a `session.called(…, within D)` deny would close early;
      // never at another attempt's time, which would widen an allow's window or invent a call dated ahead.
      const wentAhead = calledAt(prepared.now, pending, prepared.clockReading);
      this.lastApprovalAtAsk = prepared.now <= pending.askedAt && wentAhead === pending.askedAt ? pending.askedAt : undefined;
      this.sessions.ran(state, wentAhead, prepared.tool, prepared.entry.ordinal, carried === undefined ? sent : [...carried, ...(sent ?? [])], prepared.entry.returns);
      // A label of the asked call that found no room is data the session did not keep.
      if (pending.labelsDropped === true && state.labels !== undefined) state.labelsDropped = true;
      return undefined;
    } catch (error) {
      return `internal error while approving: ${helpers.describeThrown(error)}`;
    } finally {
      helpers.forgetDecision();
    }
  }

  /**
   * Why an approval is refused before any rule runs (`prepare` refused it): for a revoked
   * session, that it is revoked and by what, not the revoking rule's reason alone (which names
   * the call that revoked it, often of another tool); for a call the policy in force refuses as
   * invalid while an ask of the tool made under another policy awaits approval, that the policy
   * was reloaded since, but only when the reload is what makes it invalid: the tool is declared
   * no more, or declared otherwise (its arguments, the request's entities, records, enums or
   * intents). A request invalid by its own fault, under declarations as they were, gets the
   * refusal as it is.
   */
  private refusalBeforeRules(request: unknown, prepared: Prepared & { ready: false }): string | undefined {
    const { decision } = prepared;
    // For whoever approves: the refusal's detail (its `errors`), not the agent's short reason.
    const reason = refusalDetail(decision);
    if (decision.revoked) {
      const sessionId = (request as Record<string, unknown>)["session"];
      if (decision.rules.length === 0) return `${typeof sessionId === "string" ? `session ${helpers.describeText(sessionId)}` : "the session"} is ${decision.reasons[0]}, so no ask of it can be approved: every later attempt in it is denied`;
      const by = decision.rules.map((rule, i) => `${rule} (${decision.locations[i]}): ${decision.reasons[i]}`).join("; ");
      return `${typeof sessionId === "string" ? `session ${helpers.describeText(sessionId)}` : "the session"} is revoked (by ${by}${errorsOf(decision.errors)}), so no ask of it can be approved: every later attempt in it is denied`;
    }
    const state = prepared.state;
    const tool = prepared.tool;
    if (state?.asked === undefined || tool === undefined) return reason;
    const declaredNow = this.tools.has(tool) ? declarationsOf(this.policy, tool) : undefined;
    for (const pending of state.asked.values()) {
      if (pending.tool !== tool) continue;
      const policies = [pending.policy, ...(pending.more?.older?.map((older) => older.policy) ?? [])];
      if (!policies.some((policy) => policy === undefined || (!this.samePolicyAs(policy) && declarationsOf(policy as CompiledPolicy, tool) !== declaredNow))) continue;
      const sessionId = (request as Record<string, unknown>)["session"] as string;
      return `the policy was reloaded since session ${helpers.describeText(sessionId)} was asked about ${tool}, and the policy in force refuses the call: ${reason}; the approval cannot be taken`;
    }
    return reason;
  }

  /**
   * For a call whose asks awaiting approval include some made under another policy (the one the
   * engine before a reload ran): why the policy in force refuses the approval, or undefined.
   * Each such ask is judged as it was asked (`refusalOfAsk`), by every caller that made it;
   * asks made under a policy alike the one in force (`samePolicyAs`) are not judged again.
   */
  private refusalOfAsksUnderOtherPolicies(request: Record<string, unknown>, sessionId: string, pending: PendingAsk, apply: boolean): string | undefined {
    // A reload of the same policy: its asks are this policy's (and approving them costs no more).
    if (pending.policy !== this.policy && this.samePolicyAs(pending.policy)) pending.policy = this.policy;
    const judged: Pick<AskedUnder, "callers" | "callersDropped">[] = [];
    if (pending.policy !== this.policy) judged.push({ callers: callersOf(pending), callersDropped: pending.more?.callersDropped === true });
    for (const older of pending.more?.older ?? []) if (older.policy === undefined || !this.samePolicyAs(older.policy)) judged.push(older);
    for (const asks of judged) {
      if (asks.callersDropped) return `the policy was reloaded since session ${helpers.describeText(sessionId)} was asked about this ${request["tool"] as string} call, and it was asked by more callers (other user, agent or context.labels) than the engine keeps for one call (${MAX_ASKED_CALLERS}), so the policy in force cannot judge each ask: the approval cannot be taken`;
      for (const caller of asks.callers) {
        if (caller.unkept !== undefined) return `the policy was reloaded since session ${helpers.describeText(sessionId)} was asked about this ${request["tool"] as string} call, and the asked request's user, agent or context could not be kept when it was asked (${caller.unkept}), so the policy in force cannot judge that ask: the approval cannot be taken`;
        const refusal = this.refusalOfAsk(request, sessionId, caller, apply);
        if (refusal !== undefined) return refusal;
      }
    }
    return undefined;
  }

  /**
   * For an ask made under another policy: why the policy in force refuses its approval, or
   * undefined when it lets the call go ahead. It judges the call as it was asked
   * (`askedRequest`: the asked request's user, agent and context, its labels joined by the
   * approval's, with the approval's arguments, time and intent), its rules running as deciding
   * the call now would, recording nothing (as explanations do). Refused when the call is invalid
   * now, when a deny matches now (a default deny too): a `deny … revoke` revokes the session
   * when `apply` (the approval stands for the call going ahead now, which the policy in force
   * answers with a revocation). Refused too when the ask offered grants on approval that the
   * policy in force would not give (a scope it gives no more, or only for less time): the
   * enforcement point mints the ask decision's `grantsOnApproval`, which must never be more than
   * the policy in force gives. An allow now lets the approval stand.
   */
  private refusalOfAsk(request: Record<string, unknown>, sessionId: string, caller: AskedCaller, apply: boolean): string | undefined {
    const tool = request["tool"] as string;
    const since = `the policy was reloaded since session ${helpers.describeText(sessionId)} was asked about this ${tool} call, and the policy in force`;
    const c = this.prepare(askedRequest(request, caller), false);
    if (!c.ready) return `${since} refuses it as it was asked: ${refusalDetail(c.decision)}; the approval cannot be taken`;
    let result = c.entry.decide(c);
    if (result === null || result === 0) return `${since} denies it now (${defaultDenyReason(c.tool)}${errorsOf(c.errors)}): the approval cannot be taken`;
    if (c.entry.onApproval !== undefined) result = this.withGrantingAllows(result, c.entry.onApproval, c);
    const { decision, revocation } = typeof result === "number" ? this.decisionForMask(result, c) : this.decisionForRules(result, c);
    if (decision.decision === "deny") {
      const by = decision.rules.map((rule, i) => `${rule}: ${decision.reasons[i]}`).join("; ");
      if (revocation !== undefined && apply) {
        c.s.revoked = this.revocationRecord(revocation, decision, c);
        this.sessions.seenAt(c.s, c.now, c.clockReading);
      }
      const revokes = revocation === undefined ? "" : apply ? `, and revokes the session as ${revocation.rules.length === 1 ? "that rule does" : "those rules do"}` : `; approving it revokes the session (${revocation.rules.join(", ")} ${revocation.rules.length === 1 ? "revokes" : "revoke"})`;
      return `${since} denies it now (${by}${errorsOf(decision.errors)}): the approval cannot be taken${revokes}`;
    }
    const given = decision.decision === "ask" ? decision.grantsOnApproval : decision.grants;
    const beyond = caller.grants.filter((grant) => !given.some((now) => now.scope === grant.scope && now.ttlSeconds >= grant.ttlSeconds));
    if (beyond.length === 0) return undefined;
    return `${since} gives less on approval than the ask offered (${beyond.map(describeGrant).join(", ")}; it gives ${given.length === 0 ? "none" : given.map(describeGrant).join(", ")}), and the enforcement point mints the ask's grantsOnApproval: the approval cannot be taken, nor any of this call while that ask awaits (the engine cannot tell which of the call's asks an approval answers)`;
  }

  /**
   * Whether `policy` decides as this engine's does: the same object, or one with the same code,
   * rules, schema and session use (a reload of the same bundle, or of the same sources compiled
   * again), compared by content (`alikePolicies`).
   */
  private samePolicyAs(policy: unknown): boolean {
    return alikePolicies(policy, this.policy);
  }

  /**
   * The engine's clock (EngineOptions.clock), read once per attempt before anything changes:
   * everything in the decision that goes by the clock uses this reading. Epoch ms, or else
   * what the clock did instead ("gave NaN", "threw …"), for the reason of a refusal. Never
   * throws: a clock that throws is one that gave no time, so the attempt is still counted in its
   * session (a throw half-way through recording it would leave it out of its window).
   */
  private readClock(): number | string {
    let reading: unknown;
    try {
      reading = this.clock();
    } catch (error) {
      return `threw ${helpers.describeText(helpers.describeThrown(error))}`;
    }
    return typeof reading === "number" && Number.isFinite(reading) ? reading : `gave ${reading instanceof Date ? "a Date (return its getTime())" : describeValue(reading)}`;
  }

  /** Why a request dated `now` is too far from the engine's clock (`clock`, read by `readClock`) for maxTimeSkewMs, or undefined. */
  private skewed(now: number, clock: number | string): string | undefined {
    if (typeof clock === "string") return `the engine's clock ${clock}, so request.time cannot be checked against it (maxTimeSkewMs)`;
    const off = now - clock;
    if (Math.abs(off) <= this.maxTimeSkewMs!) return undefined;
    // Rounded so it still reads as more than the limit: "5 minutes … more than maxTimeSkewMs (5 minutes)" for a millisecond over would read as a contradiction.
    return `request.time is ${roughlyAbove(Math.abs(off), this.maxTimeSkewMs!)} ${off > 0 ? "ahead of" : "behind"} the engine's clock, more than maxTimeSkewMs (${describeMs(this.maxTimeSkewMs!)}) allows`;
  }

  /**
   * What the engine holds, for an operator's metrics and alerts: `liveSessions` (the sessions
   * whose state it keeps, as `maxSessions` counts them: revoked ones that still have state
   * included, and idle ones the sweep has not freed yet), `maxSessions` (null when unbounded:
   * `liveSessions` reaching it means new sessions are refused), `expiredSessions` (the records of
   * expired sessions it remembers, for `expiredSessionMs`), `revokedSessions` (the revoked
   * sessions it remembers, live or expired) and `retired` (true once a reload took its sessions
   * over: every attempt on it is denied, so traffic still reaching it is a bug in the swap).
   * Read-only, and never throws. `liveSessions` and `retired` cost nothing; the other two are
   * counted by walking the sessions held (300,000 take about 5 to 25 ms), so call it every few
   * seconds at most, not per decision.
   */
  stats(): EngineStats {
    const { expired, revoked } = this.sessions.census();
    const max = this.sessions.maxSessions;
    return { liveSessions: this.sessions.size, maxSessions: Number.isFinite(max) ? max : null, expiredSessions: expired, revokedSessions: revoked, retired: this.sessions.retired, reload: this.reloadStats };
  }

  /**
   * Revokes session `sessionId` now, an operator's decision from outside the policy: every later
   * attempt in it is denied as a `deny … revoke` rule's revocation denies them (`revoked: true`),
   * with no rule (`rules` and `locations` empty, which no rule's revocation has: that is how an
   * audit log tells it apart) and one reason, `revoked by an operator: "…"`, quoting `reason`
   * (cut to OPERATOR_REASON_CHARS characters, hidden characters and URL credentials escaped as in
   * every quoted text: the agent is told it too, so write nothing there it must not read). Asks
   * of the session awaiting approval can no longer be approved (`approved` refuses them, as for
   * any revoked session). It is kept as a rule's revocation is: for `revokedSessionMs` from now
   * and the session's later attempts (by default for ever), across reloads (`sessionsFrom`).
   * An id the engine does not hold yet is revoked too, before its first attempt, which is then
   * denied (a record the engine keeps among expired and revoked ones: `stats().revokedSessions`).
   * Such records are bounded apart from live sessions, so a flood of new sessions cannot keep an
   * operator from revoking one: at most `maxSessions` of them (100,000 without maxSessions,
   * MAX_REVOKED_BEFORE_START) are held at once; past that, or with the engine at its limit of
   * sessions and records together, the result says `refused` and why. It changes no other
   * session (no sweep for room), refused or not. A session revoked already keeps its first
   * revocation (`already-revoked`). Revocations giving the same reason share it, so a record
   * costs about its id and a small object. On an engine a reload retired, it
   * revokes on the engine that has the sessions now. A `sessionId` that is not a non-empty
   * string of at most 1,024 characters, or a `reason` that is not a string, is a `TypeError`
   * (a programming mistake); otherwise it never throws.
   */
  revoke(sessionId: string, reason: string): RevokeResult {
    checkSessionId(sessionId, "revoke(sessionId, reason)");
    if (typeof reason !== "string") throw new TypeError(`engine.revoke(sessionId, reason) takes the reason as a string, which its denials give (quoted) and the audit log keeps, not ${describeKind(reason)}`);
    if (this.successor !== undefined) return this.successor.revoke(sessionId, reason);
    const clock = this.readClock();
    const reading = typeof clock === "number" ? clock : Number.NaN;
    const revocation: Revocation = { ...this.operatorCause(reason), at: Math.abs(reading) <= MAX_DATE_MS ? reading : Number.NaN, tool: "" };
    const earlier = this.sessions.revokeFromOutside(sessionId, revocation, reading);
    if (earlier === undefined) return Object.freeze({ outcome: "revoked", revoked: true, revocation: summaryOfRevocation(revocation), refusal: null });
    if (typeof earlier !== "string") return Object.freeze({ outcome: "already-revoked", revoked: true, revocation: summaryOfRevocation(earlier), refusal: null });
    const why = earlier === "early full" ? this.sessions.revokedEarlyFullBecause : earlier === "full" ? this.sessions.storeFullBecause : `the engine's clock (EngineOptions.clock) ${clock as string} and no request came yet, so there is no time to keep the revocation from (revokedSessionMs)`;
    return Object.freeze({ outcome: "refused", revoked: false, revocation: null, refusal: `session ${helpers.describeText(sessionId)} cannot be revoked before its first attempt: ${why}` });
  }

  /**
   * A snapshot of session `sessionId` for dashboards and incident tickets (see SessionSummary):
   * plain frozen data, never live state; undefined for an id the engine holds nothing of (never
   * seen, or forgotten). Changes nothing: it reads the engine's clock to judge, as the session's
   * next lookup would, whether its state is freed or its record forgotten, but frees and forgets
   * nothing itself, so calling it never changes a decision. A session the clock has freed (status
   * "ended") reports no state (calls, intent, … null) whether or not a sweep has freed it yet,
   * so what it reports goes by that clock alone. On an engine a reload retired, it
   * reads the engine that has the sessions now. A `sessionId` that is not a non-empty string of
   * at most 1,024 characters is a `TypeError`; otherwise it never throws.
   */
  session(sessionId: string): SessionSummary | undefined {
    checkSessionId(sessionId, "session(sessionId)");
    if (this.successor !== undefined) return this.successor.session(sessionId);
    const clock = this.readClock();
    const held = this.sessions.inspect(sessionId, typeof clock === "number" ? clock : Number.NaN);
    if (held === undefined) return undefined;
    // An ended session reports no state (inspect gives only its record), whether or not a sweep
    // has freed it yet: the snapshot goes by the engine's clock alone.
    const { state, record } = held;
    const revoked = record?.revoked ?? state?.revoked;
    return Object.freeze({
      session: sessionId,
      status: record === undefined ? "live" : "ended",
      calls: state?.calls ?? null,
      denials: state?.denials ?? null,
      firstSeen: isoTime(state?.firstSeen),
      lastSeen: isoTime(record?.lastSeen ?? state?.lastSeen),
      intent: state?.intent ?? null,
      labels: state?.labels?.size ?? null,
      labelNames: sortedNames(state?.labels),
      tools: sortedNames(state?.tools),
      // A revoked session's asks can never be approved (Engine.approved refuses them): none await.
      pendingAsks: state === undefined ? null : revoked !== undefined ? NO_PENDING_ASKS : pendingAsksOf(state),
      pendingAskCount: state === undefined ? null : revoked !== undefined ? 0 : (state.asked?.size ?? 0),
      // What the session's bounds let go (each fails closed where it matters): read, never worked out on the decision path.
      labelsDropped: state?.labels === undefined ? null : revoked !== undefined ? state.labelsDropped : droppedLabels(state),
      ownLabelsDropped: state?.labels === undefined ? null : state.labelsDropped,
      asksNotKept: state?.asksNotKept ?? null,
      windowOverflowed: state?.windowOverflowed ?? null,
      undeclaredToolsUnnamed: state?.undeclaredToolsUnnamed ?? null,
      endCause: record === undefined ? null : record.beforeStart === true ? "revoked-before-start" : record.endedBy !== undefined ? "reload" : "idle",
      endReason: record === undefined ? null : record.beforeStart === true ? revokedBeforeStartBecause(revoked) : expiredBecause(record, this.sessions.idleMs),
      revoked: revoked === undefined ? null : summaryOfRevocation(revoked),
    });
  }

  /**
   * What an enforcement point may pass on to the tool after an allow (or an approved ask): a copy
   * of `args` holding only the arguments `tool` declares, and the paths of those left out
   * (`undeclared`: `bcc`, `to[0].note`; names only, values may be secret). No rule saw an
   * undeclared argument (docs/language.md section 7, step 2), so passing it on would let a `bcc`
   * past every rule on `to`. Nested: a declared record keeps its declared fields, every list or
   * set is a fresh array of its members, each so copied; other values (strings, numbers) are
   * kept as they are, so the copy shares no object or array with `args`: decide on a request
   * holding the copy, and pass the tool that same copy. Absent or null `args` are
   * no arguments. Undefined for a tool the policy does not declare, for `args` that are not an
   * object, and for arguments too big or deep to walk (all of which the engine refuses).
   * Never throws.
   */
  declaredArguments(tool: string, args: unknown): DeclaredArguments | undefined {
    try {
      if (typeof tool !== "string" || !Object.hasOwn(this.policy.schema.tools, tool)) return undefined;
      if (args === undefined || args === null) return { args: {}, undeclared: [] };
      if (typeof args !== "object" || Array.isArray(args)) return undefined;
      const copied = declaredOnly(this.policy.schema, this.policy.schema.tools[tool]!.args, args as Record<string, unknown>, "");
      return copied === undefined ? undefined : { args: copied.value, undeclared: copied.undeclared };
    } catch {
      // A getter of an in-process caller's object that throws: nothing to pass on.
      return undefined;
    }
  }

  /**
   * The paths of the undeclared fields in a request's `agent`, `user`, `context` and `args`
   * (`args.bcc`, `context.trace_id`), which every rule ignored: names only, for a log or an
   * explanation. Does not decide, and changes nothing. Never throws (an object whose getter
   * throws lists nothing).
   */
  undeclaredFields(request: unknown): readonly string[] {
    try {
      return undeclaredFieldsOf(this.policy.schema, request);
    } catch {
      return [];
    }
  }

  /** The rule with this id, for explanations and reports. */
  rule(id: string): RuleInfo | undefined {
    const index = this.ruleById.get(id);
    return index === undefined ? undefined : this.rules[index];
  }

  /** Decides one request and updates its session. Never throws. */
  decide(request: unknown): Decision {
    helpers.newDecision();
    try {
      return this.decideOrThrow(request);
    } catch (error) {
      return refusal("internal error while deciding", `internal error while deciding: ${helpers.describeThrown(error)}`);
    } finally {
      helpers.forgetDecision();
    }
  }

  private decideOrThrow(input: unknown): Decision {
    const prepared = this.prepare(input, true);
    if (!prepared.ready) {
      if (prepared.state) {
        // An invalid attempt is still an attempt: it ends (or continues) a run of identical calls.
        const args = (input as Record<string, unknown>)["args"] ?? {};
        const sameArgs = this.tools.get(prepared.tool!)?.sameArgs ?? helpers.sameArguments;
        const same = this.policy.session.repeats ? prepared.state.calls > 0 && prepared.state.lastTool === prepared.tool && sameArgs(prepared.state.lastArgs, args) : undefined;
        this.sessions.record(prepared.state, prepared.now!, prepared.clockReading!, prepared.tool!, this.tools.get(prepared.tool!)?.ordinal ?? -1, same, args, false, true, undefined, undefined);
      }
      return prepared.decision;
    }
    const matched = prepared.entry.decide(prepared);
    return this.conclude(matched, prepared);
  }

  /**
   * Moves the session store's clock as deciding `input` would, deciding nothing. A replay that
   * decides only some sessions' lines (one thread's share of a recording, `--session`, the
   * pass that explains failures) passes the other lines here: the sweep, which goes by the
   * latest time of any session, then expires and forgets sessions at the same points as in a
   * replay of the whole log, so the decisions are the same.
   * @internal
   */
  observe(input: unknown): void {
    if (this.readAttempt(input) !== undefined) return;
    const { now, clockReading } = this.attempt;
    // As in prepare: the request's (long) strings must not outlive the attempt.
    this.attempt.sessionId = this.attempt.tool = "";
    this.sessions.observe(now, clockReading);
  }

  /**
   * What every attempt needs before its session is looked up: an object with a session id, a
   * tool name and a readable time (its `time`, or the engine's clock), and the engine's clock
   * read once (`clockReading`, NaN when it gave no usable time): written to `attempt`, returning
   * nothing. Otherwise the refusal, as the session's revocation or the reason (a revoked session
   * stays revoked whatever is sent), with the session id when it is readable: the attempt is
   * still its session's (`prepare`).
   */
  private readAttempt(input: unknown): RefusedAttempt | undefined {
    if (input === null || typeof input !== "object" || Array.isArray(input)) return { refused: refusedFor("request", refusal("the request must be a JSON object")) };
    const request = input as Record<string, unknown>;
    const sessionId = request["session"];
    // The session id, time, agent, user, context and intent are the enforcement point's: the
    // agent is told which field is wrong, the value given goes to `errors` only.
    if (typeof sessionId !== "string" || sessionId === "") return { refused: refusedFor("request", sessionId === undefined ? refusal("request.session is missing: every request needs a session id string") : refusal("request.session must be a session id (a non-empty string)", `request.session must be a session id (a non-empty string), not ${describeValue(sessionId)}`)) };
    // Refused before its session is looked up: too long to be one (MAX_SESSION_ID_LENGTH), it has none to count in.
    if (sessionId.length > MAX_SESSION_ID_LENGTH) {
      const mustBe = `request.session must be a session id of at most ${MAX_SESSION_ID_LENGTH.toLocaleString("en-US")} characters`;
      return { refused: refusedFor("request", refusal(mustBe, `${mustBe}, not one of ${sessionId.length.toLocaleString("en-US")} (${helpers.describeText(sessionId)})`)) };
    }
    const tool = request["tool"];
    const dated = request["time"] !== undefined;
    // One reading per attempt, whatever needs it (an undated request, maxTimeSkewMs, the session
    // store). A replay's store goes by the recorded times: only its undated lines need the clock.
    const clock = dated && this.recordedTimesOnly && this.maxTimeSkewMs === undefined ? Number.NaN : this.readClock();
    const clockReading = typeof clock === "number" ? clock : Number.NaN;
    let now = Number.NaN;
    let unreadable: Decision | undefined;
    // (The tool is the agent's own: its reason may quote it.)
    if (typeof tool !== "string" || tool === "") unreadable = refusal(tool === undefined ? "request.tool is missing: every request names the tool being called" : `request.tool must be a tool name (a non-empty string), not ${describeValue(tool)}`);
    else if (!dated) {
      // The caller's clock (EngineOptions.clock): a broken one must deny, not count at NaN.
      if (typeof clock === "string") unreadable = refusal(CLOCK_UNUSABLE, clockUnusable(clock));
      else now = clock;
    } else {
      now = parseTime(request["time"]);
      if (Number.isNaN(now)) unreadable = refusal("request.time must be an RFC 3339 time", `request.time must be an RFC 3339 time${typeof request["time"] === "string" ? `, not ${helpers.describeText(request["time"])}` : ` string, not ${describeValue(request["time"])}`}${timeMistakeNote(request["time"])}`);
      // Without a reading, sessions would be freed and forgotten by the requests' own times (a
      // session dated days ahead would sweep away another's taint): nothing is decided until the
      // clock gives one. (A replay's dated lines go by their times, and read no clock.)
      else if (typeof clock === "string" && !this.recordedTimesOnly) unreadable = refusal(CLOCK_UNUSABLE, clockUnusable(clock));
      else if (this.maxTimeSkewMs !== undefined) {
        const skew = this.skewed(now, clock);
        if (skew !== undefined) unreadable = refusal("request.time is too far from the enforcement point's clock", skew);
      }
    }
    if (typeof tool !== "string" || unreadable !== undefined) {
      const known = this.sessions.peek(sessionId, Number.isFinite(now) ? now : this.sessions.latestSeen, clockReading);
      return { refused: known?.revoked ? revokedDecision(known.revoked) : refusedFor("request", unreadable!), sessionId, tool: typeof tool === "string" ? tool : "", clockReading };
    }
    this.attempt.sessionId = sessionId;
    this.attempt.tool = tool;
    this.attempt.now = now;
    this.attempt.clockReading = clockReading;
    return undefined;
  }

  /**
   * Everything before the rules run: shape checks, the session, revocation, validation and
   * the evaluation context. `create` is false for explanations, which must not change state;
   * `approving` is true for an approval (its refusals do not call it an attempt).
   * @internal
   */
  prepare(input: unknown, create: boolean, approving = false): Prepared {
    const refused = this.readAttempt(input);
    if (refused !== undefined) {
      // Still an attempt of its session, counted in `session.calls` and `session.denials`, so an
      // agent cannot make refused attempts unseen by sending a `time` the engine cannot read. It
      // has no time of its own: it counts at its session's (SessionStore.undated), moving no clock.
      // Without a session id, the request itself is refused (it is no JSON object, or names none).
      if (refused.sessionId === undefined) return { ready: false, decision: refusedFor("request", refused.refused) };
      const undated = create ? this.sessions.undated(refused.sessionId) : undefined;
      return undated === undefined ? { ready: false, decision: refused.refused } : { ready: false, decision: refused.refused, state: undated.state, now: undated.now, clockReading: refused.clockReading!, tool: refused.tool! };
    }
    const request = input as Record<string, unknown>;
    const { sessionId, tool, now, clockReading } = this.attempt;
    // Not kept past the attempt: a request's (long) strings must not outlive its decision.
    this.attempt.sessionId = this.attempt.tool = "";
    // (An explanation of a session the engine does not hold shows what deciding it would: a
    // fresh session, or the refusal of a full engine.)
    const state = create ? this.sessions.getOrCreate(sessionId, now, clockReading) : (this.sessions.peek(sessionId, now, clockReading) ?? (this.sessions.wouldAdmit(now, clockReading) ? this.sessions.startState(sessionId, now, clockReading) : null));
    if (state === null) {
      // A retired engine never takes an attempt again, for a session old or new: the reason says
      // where the session is decided now, not to wait (a caller that kept the old engine across
      // an `await` logs this).
      // The agent is told neither the engine's settings nor that other sessions fill it.
      const decision = this.sessions.retired
        ? refusal(RELOADING, `this engine handed its sessions over to a newer one (EngineOptions.sessionsFrom), which decides session ${helpers.describeText(sessionId)} from now on: this engine denies every attempt`)
        : refusal(AT_CAPACITY, `session ${helpers.describeText(sessionId)} cannot start: ${this.sessions.fullBecause}`);
      return { ready: false, decision: refusedFor("session", decision) };
    }
    if (state.revoked) {
      const decision = revokedDecision(state.revoked);
      // An expired revoked session has no state left to count the attempt in.
      // (The revocation itself too: an explanation says when, by which rule and on which tool.)
      return state instanceof SessionState ? { ready: false, decision, state, now, clockReading, tool, revocation: state.revoked } : { ready: false, decision, revocation: state.revoked };
    }
    if (!(state instanceof SessionState)) {
      const why = expiredBecause(state, this.sessions.idleMs, approving);
      const detail = `session ${helpers.describeText(sessionId)} has expired: ${why}, so what it did before (data it touched, counts) is gone and it cannot go on: ${expiredSessionEnds(this.sessions.expiredMs)}`;
      // The agent is told what to do, not why: a reload's detail describes the new policy's
      // labels and session.called patterns, an idle one the engine's settings (audit s20 a2 H1, M2).
      // Nor the session id: the enforcement point sets it (language.md §7: reasons quote no value it set); `errors` keep it.
      const reason = `the session ${state.endedBy !== undefined ? "has ended: the policy was reloaded;" : "has expired:"} start a new session`;
      return { ready: false, decision: refusedFor("session", refusal(reason, detail)) };
    }
    const entry = this.tools.get(tool);
    let invalid: Decision | undefined;
    try {
      invalid = entry ? this.validate(request, entry) : refusal(this.unknownToolReason(tool));
    } catch (error) {
      // A recursive record type lets a request nest as deep as it likes; validation recurses.
      // Deny it as invalid (and count the attempt) rather than as an internal error.
      if (!(error instanceof RangeError)) throw error;
      invalid = refusal("the request is nested too deeply to validate");
    }
    if (invalid !== undefined) return { ready: false, decision: refusedFor("request", invalid), state, now, clockReading, tool };
    // The intent is the session's (language.md §1): a request cannot switch the task's purpose,
    // and with it the tools the intent allows, in the middle of a session; one that names no
    // intent runs with the session's (leaving it out must not escape the rules that read it).
    const named = request["intent"];
    const intent = typeof named === "string" ? named : state.intent;
    if (typeof named === "string") {
      if (state.intent === undefined) {
        if (create) state.intent = intent;
      } else if (state.intent !== intent) {
        const detail = `session ${helpers.describeText(sessionId)} declared the intent ${state.intent}; a request cannot change it to ${intent} (start a new session for another task)`;
        const decision = refusal("the session cannot change its intent: start a new session for another task", detail);
        return { ready: false, decision: refusedFor("request", decision), state, now, clockReading, tool };
      }
    }

    const args = (request["args"] ?? {}) as Record<string, unknown>;
    let same: boolean | undefined;
    let repeats = 0;
    if (this.policy.session.repeats) {
      same = state.calls > 0 && state.lastTool === tool && entry!.sameArgs(state.lastArgs, args);
      if (same) repeats = state.run;
    }
    return {
      ready: true,
      entry: entry!,
      same,
      agent: request["agent"] as Record<string, unknown> | undefined,
      user: request["user"] as Record<string, unknown> | undefined,
      context: request["context"] as Record<string, unknown> | undefined,
      args,
      intent,
      tool,
      toolRisk: entry!.risk,
      now,
      dated: request["time"] !== undefined,
      clockReading,
      s: state,
      repeats,
      // Every field present from the start: one object shape keeps the generated code monomorphic.
      fault: undefined,
      errors: undefined,
      visits: 0,
      scanned: 0,
    };
  }

  /**
   * The revocation a session keeps, shared with the sessions revoked by the same rules through
   * the same errors (kept cut short, keptErrors): each would otherwise keep its own arrays and
   * error strings (up to about 750 bytes a record where a shared one costs 150). At most
   * MAX_SHARED_DECISIONS kept, the map emptied when full, since errors can quote request data.
   */
  private sharedRevocation(revocation: RevocationCause): RevocationCause {
    return this.sharedCause(JSON.stringify([revocation.rules, revocation.errors]), revocation);
  }

  /** The cause kept under `key` in `revocations`, else `cause`, kept there from now on. */
  private sharedCause(key: string, cause: RevocationCause): RevocationCause {
    const shared = this.revocations.get(key);
    if (shared !== undefined) return shared;
    if (this.revocations.size >= MAX_SHARED_DECISIONS) this.revocations.clear();
    this.revocations.set(key, cause);
    return cause;
  }

  /**
   * What an operator's revocation giving `reason` keeps but for when (`Engine.revoke`): one
   * frozen object shared by the sessions revoked with the same reason (kept with the rules'
   * causes, by a key no rules' cause has), so each revoked id costs its record and a small
   * object, not its own copy of a reason of up to OPERATOR_REASON_CHARS characters.
   */
  private operatorCause(reason: string): RevocationCause {
    const text = operatorReason(reason);
    // (A rules' cause is keyed by a JSON array: "[…".)
    return this.sharedCause(`operator\n${text}`, Object.freeze({ rules: EMPTY, reasons: Object.freeze([text]), locations: EMPTY, errors: EMPTY }));
  }

  /**
   * What a session revoked by `decision` keeps: its cause (the rules, reasons and errors of a
   * revocation through errors shared with the sessions revoked alike, sharedRevocation), and
   * when and on which tool, which are the session's own.
   */
  private revocationRecord(revocation: RevocationCause, decision: Decision, c: EvalContext): Revocation {
    return { ...(decision.errors.length > 0 ? this.sharedRevocation(revocation) : revocation), at: c.dated ? c.now : Number.NaN, tool: c.tool };
  }

  /** Turns the matched rules into the decision and updates the session. */
  private conclude(result: number[] | number | null, c: EvalContext): Decision {
    const { errors, entry } = c;
    if (result === null || result === 0) {
      this.sessions.record(c.s, c.now, c.clockReading, c.tool, entry.ordinal, c.same, c.args, false, true, undefined, undefined);
      return errors ? { ...entry.defaultDeny, errors } : entry.defaultDeny;
    }
    if (entry.onApproval !== undefined) result = this.withGrantingAllows(result, entry.onApproval, c);
    return this.apply(typeof result === "number" ? this.decisionForMask(result, c) : this.decisionForRules(result, c), c);
  }

  /**
   * For an ask, the matched rules and the tool's allow rules that grant and match too (the
   * tool's dispatcher stops at the ask rules): buildDecision makes their grants the ask's
   * `grantsOnApproval`. As matched rules, not grants, so a decision stays shared per combination.
   * Only asks of tools with such rules pay for it. A failing allow rule does not match (fails
   * closed) and its error is reported with the ask's: the approver learns why it gives nothing.
   */
  private withGrantingAllows(result: number[] | number, granting: readonly GrantingAllow[], c: EvalContext): number[] | number {
    if (typeof result === "number") {
      if ((result & c.entry.askBits) === 0) return result;
      for (const rule of granting) if (rule.matches(c)) result |= rule.bit;
      return result;
    }
    if (this.rules[result[0]!]!.effect !== "ask") return result;
    for (const rule of granting) if (rule.matches(c)) result.push(rule.index);
    return result;
  }

  /**
   * The decision for matched rules given as indices. Without errors it depends only on which
   * rules matched: built once per combination and shared (frozen, so no caller can change what
   * the next one gets), found through a trie keyed by the rule indices (no key strings built).
   */
  private decisionForRules(matched: number[], c: EvalContext): SharedDecision {
    const { errors, entry } = c;
    if (errors !== undefined) return this.buildDecision(matched, c, errors);
    let node = entry.decisions;
    for (const index of matched) {
      let next = node.next.get(index);
      if (next === undefined) {
        if (entry.sharedCount >= MAX_SHARED_DECISIONS) {
          entry.decisions.next.clear();
          entry.sharedCount = 0;
        }
        next = { next: new Map(), built: undefined };
        node.next.set(index, next);
        entry.sharedCount++;
      }
      node = next;
    }
    if (node.built === undefined) {
      node.built = this.buildDecision(matched, c, undefined);
      freezeDecision(node.built.decision);
    }
    return node.built;
  }

  /** The decision for matched rules given as a bit mask: shared ones are found with one lookup. */
  private decisionForMask(mask: number, c: EvalContext): SharedDecision {
    const { errors, entry } = c;
    let built = errors === undefined ? entry.byMask.get(mask) : undefined;
    if (built === undefined) {
      const rules = entry.maskRules!;
      const matched: number[] = [];
      for (let bit = 0; bit < rules.length; bit++) if ((mask & (1 << bit)) !== 0) matched.push(rules[bit]!);
      built = this.buildDecision(matched, c, errors);
      if (errors === undefined) {
        freezeDecision(built.decision);
        if (entry.byMask.size >= MAX_SHARED_DECISIONS) entry.byMask.clear();
        entry.byMask.set(mask, built);
      }
    }
    return built;
  }

  /** Revokes the session when the decision says so, records the attempt, and returns the decision. */
  private apply({ decision, revocation }: SharedDecision, c: EvalContext): Decision {
    const state = c.s;
    const allowed = decision.decision === "allow";
    // Request data is read before the session changes: data that throws on reading (a getter,
    // a proxy) makes `decide` deny with an internal error and leaves the session as it was.
    // (Only when the session keeps labels: otherwise nothing reads them.)
    const labels = allowed && state.labels ? labelsOf(c.context?.["labels"]) : undefined;
    // An ask awaits approval as the call it is: its tool and declared arguments, and its data.
    const asking = decision.decision === "ask" ? askKey(c.entry.askPrefix, c.args, c.entry.argsShape) : undefined;
    const askedLabels = asking !== undefined && state.labels ? labelsOf(c.context?.["labels"]) : undefined;
    if (revocation) state.revoked = this.revocationRecord(revocation, decision, c);
    this.sessions.record(state, c.now, c.clockReading, c.tool, c.entry.ordinal, c.same, c.args, allowed, decision.decision === "deny", labels, allowed ? c.entry.returns : undefined);
    // An ask the session has no room to keep can never be approved: the decision says so, for the
    // person who would otherwise be shown it (a copy: decisions are shared; this is rare).
    if (asking !== undefined && !awaitApproval(state, asking, c, askedLabels, this.policy, decision as AskDecision)) return { ...decision, errors: [...decision.errors, UNKEPT_ASK] };
    return decision;
  }

  /**
   * The decision for matched rules: all of one effect, or an ask's rules followed by the allow
   * rules that give it grants on approval (withGrantingAllows), which only give their grants.
   */
  private buildDecision(matched: readonly number[], c: EvalContext, errors: string[] | undefined): SharedDecision {
    const { tool } = c;
    const effect = this.rules[matched[0]!]!.effect;
    const rules: string[] = [];
    const reasons: string[] = [];
    const locations: string[] = [];
    let grants: Grant[] | undefined;
    // The matched `deny … revoke` rules: those whose condition held, and those matched only
    // through an evaluation error (its errors start with the rule's id).
    const revokingCleanly: number[] = [];
    const revokingByError: number[] = [];
    // An ask's allow rules that grant: named, so coverage and audit logs see what gave the grants.
    const grantingRules: string[] = [];
    for (const index of matched) {
      const rule = this.rules[index]!;
      if (rule.grants.length > 0) grants = mergeGrants(grants, rule.grants);
      if (rule.effect !== effect) {
        grantingRules.push(rule.id);
        continue;
      }
      rules.push(rule.id);
      reasons.push(rule.reason ?? this.defaultReasonOf(index, c.entry, tool));
      locations.push(rule.location);
      // Also when it matched because its condition failed (docs/language.md section 7, step 5:
      // errors make a deny match, and a matched deny … revoke revokes). Whatever failed — a URL the agent made
      // ambiguous, a flood past the window, or a user or intent the request lacks, which the
      // agent can make the rule reach or not through the rule's other terms — the rule revokes.
      // Except when its only error is a count reaching back past the attempts its session
      // keeps (WINDOW_TRIMMED): the engine's own memory bound, not anything the session did,
      // left the count untold, so the rule denies this attempt (fails closed) without revoking,
      // and its reason says so rather than claim its condition held. So, revoking or not, when
      // its only error is a count a reload left untold (WINDOW_RELOADED: a window kept short for
      // the old policy's smaller number), which no session's conduct brought about.
      const own = errors === undefined ? OWN_NONE : ownErrors(errors, rule.id);
      const reloaded = own === OWN_RELOADED;
      if (reloaded) reasons[reasons.length - 1] = untoldSinceReloadReason(rule.revoke);
      if (!rule.revoke || reloaded) continue;
      if (own === OWN_NONE) revokingCleanly.push(rules.length - 1);
      else if (own === OWN_TRIMMED) reasons[reasons.length - 1] = UNTOLD_COUNT_REASON;
      else revokingByError.push(rules.length - 1);
    }
    const revocation = revocationOf(revokingCleanly.length > 0 ? revokingCleanly : revokingByError, rules, reasons, locations, errors);
    const revoked = revocation !== undefined;
    if (effect === "ask") return { decision: { decision: effect, rules, reasons, locations, grants: EMPTY, grantsOnApproval: grants ?? EMPTY, grantingRules: grantingRules.length > 0 ? grantingRules : EMPTY, revoked, errors: errors ?? EMPTY }, revocation };
    return { decision: { decision: effect, rules, reasons, locations, grants: effect === "allow" && grants ? grants : EMPTY, revoked, errors: errors ?? EMPTY }, revocation };
  }

  /**
   * The reason of a rule that writes none, for a tool: made once per rule and tool and kept in
   * the tool's entry. A shared decision is built once anyway; a decision with errors is built
   * afresh each time (its errors are its own), and would make the same text again.
   */
  private defaultReasonOf(index: number, entry: ToolEntry, tool: string): string {
    let reason = entry.defaultReasons.get(index);
    if (reason === undefined) entry.defaultReasons.set(index, (reason = defaultReason(this.rules[index]!.effect, this.rules[index]!.id, tool)));
    return reason;
  }

  /** Indices of the rules that target a tool, in source order (for explanations). @internal */
  rulesFor(tool: string): number[] {
    const out: number[] = [];
    this.rules.forEach((r, i) => {
      if (r.tools.includes(tool)) out.push(i);
    });
    return out;
  }

  /** Why a request for `tool`, which the policy set does not declare, is denied (see unknownToolReasons). */
  private unknownToolReason(tool: string): string {
    return remembered(this.unknownToolReasons, tool, () => `${unknownToolReasonStart(tool)}: the policy set declares no such tool${meantOf(tool, this.toolNames)}`);
  }

  /** Why a request for `intent`, which the policy set does not declare, is denied (see unknownIntentReasons). */
  private unknownIntentReason(intent: string): string {
    return remembered(this.unknownIntentReasons, intent, () => `unknown intent ${helpers.describeText(intent)}: the policy set declares no such intent${meantOf(intent, this.intentNames)}`);
  }

  /** Checks the request against the declared schema; returns the refusal naming the bad field. */
  private validate(request: Record<string, unknown>, entry: ToolEntry): Decision | undefined {
    if (entry.fits === undefined) return this.explainInvalid(request, entry);
    if (entry.fits(request)) return undefined;
    // The generated check refused the request: it stays refused even if the interpreted
    // validators, which only word the reason, find nothing (a getter that answers differently
    // on a second read, a value inherited through the prototype) — never allow on a disagreement.
    return this.explainInvalid(request, entry) ?? refusal("the request does not fit the declared schema");
  }

  /**
   * The refusal of a request that does not fit: the interpreted validators name the field. For
   * the fields the enforcement point sets (agent, context, user, intent) the reason names the
   * field only and `errors` has the value given (the agent sent none of it); for `args`, the
   * agent's own, the reason is the detail.
   */
  private explainInvalid(request: Record<string, unknown>, entry: ToolEntry): Decision | undefined {
    startValidation();
    for (const { name, required, quoting, withholding } of this.entityValidators) {
      if (quoting === undefined || withholding === undefined) continue;
      const value = request[name];
      if (value === undefined || (!required && value === null)) {
        if (required) return refusal(`request.${name} is missing`);
        continue;
      }
      const detail = quoting(value, `request.${name}`);
      if (detail) {
        startValidation();
        return refusal(withholding(value, `request.${name}`) ?? `request.${name} does not fit the declared schema`, detail);
      }
    }
    const intent = request["intent"];
    if (intent !== undefined && intent !== null) {
      if (typeof intent !== "string") return refusal("request.intent must be the name of a declared intent");
      if (!this.intents.has(intent)) return refusal("request.intent must be the name of a declared intent", this.unknownIntentReason(intent));
    }
    const args = request["args"];
    if (args === undefined || args === null) {
      const required = entry.requiredArgs;
      return required.length === 0 ? undefined : refusal(`request.args is missing: ${String(request["tool"])} takes ${required.map((name) => `\`${name}\``).join(", ")}`);
    }
    const invalidArgs = entry.validateArgs(args, "request.args");
    return invalidArgs === undefined ? undefined : refusal(invalidArgs);
  }
}

/** ` (did you mean "kb.search"?)` for a name close to a declared one, else nothing: said to the agent and its developers. */
function meantOf(name: string, known: NameIndex): string {
  const meant = name.length <= 200 ? known.closest(name) : undefined;
  return meant === undefined ? "" : ` (did you mean ${JSON.stringify(meant)}?)`;
}

/**
 * The reason kept for `name` in `reasons`, else `reason()` kept: an agent that sends a made-up
 * name sends it again and again. Cleared when full (a flood of distinct names costs what it cost
 * without it, which NameIndex bounds), and only names of a name's length are kept (a request's
 * megabyte of a name is not).
 */
function remembered(reasons: Map<string, string>, name: string, reason: () => string): string {
  let known = reasons.get(name);
  if (known === undefined) {
    known = reason();
    if (name.length <= 200) {
      if (reasons.size >= MAX_REMEMBERED_UNKNOWN_NAMES) reasons.clear();
      reasons.set(name, known);
    }
  }
  return known;
}

/** The reason of a rule that writes none. @internal */
export function defaultReason(effect: Effect, id: string, tool: string): string {
  switch (effect) {
    case "allow":
      return `${tool} is allowed by ${id}`;
    case "ask":
      return `${tool} needs a human's approval (${id})`;
    case "deny":
      return `${tool} is denied by ${id}`;
  }
}

/**
 * Digests of the content (code, rules, schema, session) of the bundles `verifyBundle` checked
 * (hash, signature, runtime support) or `createBundle` made, and of the compiled policies the
 * compiler made (`markCompiled`): the only values whose code the constructor runs. Kept by
 * content, not by object: a copy of a checked bundle or of a compiled policy (spread,
 * `structuredClone`) is taken, and one whose code was changed afterwards is refused. A bundle is
 * digested with its manifest and a compiled policy without (a distinct format), so a bundle
 * stripped of its `format` and `manifest` is neither: stripping them is no way around the check.
 * Per thread: a worker's copy goes through its own `loadBundle`. The oldest are forgotten past
 * MAX_VERIFIED_CONTENTS, so a process that reloads bundles for months holds a bounded set; the
 * very objects checked are remembered apart, with their digest, for as long as they live
 * (`verifiedObjects`), so a value kept in use is never forgotten, while a copy of one checked
 * before the latest MAX_VERIFIED_CONTENTS is refused (its refusal says so).
 */
const verifiedContents = new Set<string>();
const verifiedObjects = new WeakMap<object, VerifiedValue>();
const MAX_VERIFIED_CONTENTS = 1000;

/**
 * What was checked of a value `verifiedObjects` remembers: its digest and the snapshot the
 * engine runs (its fields as they were read once). Given the same object again with the same
 * fields (the same `code` string, the same `schema`, `rules`, `session`… objects), an engine
 * takes that snapshot without digesting the policy again: a replay makes an engine per share and
 * a reload one per policy set, and a 2,000-rule policy costs tens of milliseconds to digest. A
 * field replaced since (`policy.code = …`) is digested afresh. The snapshot is frozen, as it is
 * both what the next engine compares with and `engine.policy`, which its host holds: were it
 * writable, setting `engine.policy.code` and the value's `code` to the same text would pass the
 * comparison. (The insides of the fields are not compared: a rule's effect or a tool's declared
 * arguments decide as much as `code` does, so what the compiler made is deep-frozen
 * (markCompiled), and a bundle's objects are its host's, who checked them.)
 */
interface VerifiedValue {
  readonly digest: string;
  readonly snapshot: PolicySnapshot;
}

/** The fields of a compiled policy or bundle the engine and the digest read, each read once (snapshotOf). */
type PolicySnapshot = CompiledPolicy & Partial<Record<(typeof BUNDLE_ONLY_FIELDS)[number], unknown>>;

/** A bundle's fields beyond a compiled policy's: kept in the snapshot, as the digest covers `format` and `manifest`. */
const BUNDLE_ONLY_FIELDS = ["format", "manifest", "signature"] as const;
const SNAPSHOT_FIELDS = ["schema", "session", "rules", "code", ...BUNDLE_ONLY_FIELDS] as const;

/** What a compiled policy (no manifest) is digested as: no bundle has this format, so no bundle's digest is one of these. */
const COMPILED_POLICY_FORMAT = "policyc-compiled-policy (not a bundle)";

/**
 * Marks a bundle `verifyBundle` checked or `createBundle` made, whose `contentHash` (the digest of
 * what it runs, worked out by the caller's check) is `digest`, so that `new Engine` takes it and
 * its copies (bundle/loadBundle.ts, bundle/writeBundle.ts). `fields`: the plain snapshot of
 * `bundle` the caller checked (by default `bundle`, which must then be a plain value the caller
 * made): `new Engine` takes `bundle` again only while it shows those very fields.
 * @internal
 */
export function markVerified(bundle: object, digest: string, fields: object = bundle): void {
  remember(bundle, digest, snapshotOf(fields));
  verifiedContents.delete(digest);
  verifiedContents.add(digest);
  if (verifiedContents.size > MAX_VERIFIED_CONTENTS) verifiedContents.delete(verifiedContents.values().next().value!);
}

function remember(value: object, digest: string, snapshot: PolicySnapshot): void {
  // Shallow and once per check: a field of the snapshot replaced would be taken unchecked.
  verifiedObjects.set(value, { digest, snapshot: Object.freeze(snapshot) });
}

/**
 * Marks a compiled policy the compiler made (compile/compileProgram.ts), so that `new Engine`
 * takes it and its copies, and nothing else without a manifest: a hand-made or altered compiled
 * policy, or a bundle with its `format` and `manifest` deleted, would run code nobody checked.
 * Deep-frozen first (once per compile): `new Engine` takes the same object again without a
 * digest, and a rule's `effect` or a tool's arguments changed in place would change its decisions
 * (and createBundle's bundle of it) with no new check. A changed copy (`structuredClone`) is
 * digested, and refused.
 * @internal
 */
export function markCompiled(policy: CompiledPolicy): void {
  freezeData(policy);
  markVerified(policy, digestOf(snapshotOf(policy))!);
}

/**
 * Marks the very object `policy` as vouched for, without digesting it: for a replay's engine
 * (testing/decideRecorded.ts), whose policy the CLI checked before the replay (compiled from
 * sources, or a bundle whose code it compared with its rules) and a worker thread received as a
 * copy. Only that object, as it is now; no copy of it (nothing is added to `verifiedContents`).
 * @internal
 */
export function vouchForCompiled(policy: CompiledPolicy): void {
  const snapshot = snapshotOf(policy);
  remember(policy, "", snapshot);
}

/**
 * When the compiled-policy fields of `value` (schema, session, rules, code: a bundle's format and
 * manifest left out) are, by their digest, those of a policy the compiler made in this thread
 * (markCompiled, of the latest MAX_VERIFIED_CONTENTS), their snapshot (each field read once, see
 * snapshotOf); else undefined (a getter among its fields too). For `createBundle`, which marks
 * only the bundles of such policies, and wraps the snapshot. Always digests (no identity
 * shortcut: a bundle is made once, and what it vouches for must be what the compiler wrote).
 * @internal
 */
export function checkedPolicy(value: unknown): CompiledPolicy | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return undefined;
  try {
    const { schema, session, rules, code } = snapshotOf(value);
    const snapshot = { schema, session, rules, code } as PolicySnapshot;
    const digest = digestOf(snapshot);
    return digest !== undefined && verifiedContents.has(digest) ? snapshot : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The fields of `value` the engine and the digest read, each read once into a plain object: the
 * check and the engine then see the same values, where a getter (`get code() { … }`) could show
 * the check one code and the engine another. An accessor property among them is refused with a
 * `TypeError`: a compiled policy and a bundle are plain data.
 */
function snapshotOf(value: object): PolicySnapshot {
  const snapshot: Record<string, unknown> = {};
  for (const name of SNAPSHOT_FIELDS) {
    const descriptor = Reflect.getOwnPropertyDescriptor(value, name);
    if (descriptor === undefined) continue;
    if (!("value" in descriptor)) throw new TypeError(`new Engine was given a policy whose \`${name}\` is a getter (an accessor property), which could show the check one value and the engine another: ${USE_LOAD_BUNDLE}`);
    snapshot[name] = descriptor.value;
  }
  return snapshot as unknown as PolicySnapshot;
}

/** Whether two snapshots hold the same fields: the same strings and the same objects. */
function sameSnapshot(a: PolicySnapshot, b: PolicySnapshot): boolean {
  return SNAPSHOT_FIELDS.every((name) => a[name] === b[name]);
}

/**
 * The digest a value is marked by: a bundle's content hash when it has a `format` or a
 * `manifest`, else the hash of its compiled policy's content; undefined for a value that cannot
 * be digested (a BigInt inside, a throwing getter inside).
 */
function digestOf(snapshot: PolicySnapshot): string | undefined {
  try {
    if (Object.hasOwn(snapshot, "format") || Object.hasOwn(snapshot, "manifest")) return contentHash(snapshot as unknown as BundleContent);
    return contentHash({ format: COMPILED_POLICY_FORMAT, manifest: { compiler: "", sources: [] }, schema: snapshot.schema, session: snapshot.session, rules: snapshot.rules, code: snapshot.code });
  } catch {
    return undefined;
  }
}

/**
 * The snapshot to run when `value` is one `markVerified` saw (or `vouchForCompiled` vouched for),
 * its fields unchanged since (no digest), else when its content's digest is that of one it saw,
 * or of a copy of one it saw lately (one digest); undefined when it is neither. Once per engine,
 * never per decision. A value taken is remembered with its snapshot, so the next engine of the
 * same object (a replay's next share, a reload) digests nothing, and runs the same snapshot.
 */
function isVerified(value: object, snapshot: PolicySnapshot): PolicySnapshot | undefined {
  const known = verifiedObjects.get(value);
  if (known !== undefined && sameSnapshot(known.snapshot, snapshot)) return known.snapshot;
  const digest = digestOf(snapshot);
  if (digest === undefined) return undefined;
  if (known?.digest !== digest && !verifiedContents.has(digest)) return undefined;
  remember(value, digest, snapshot);
  return snapshot;
}

/**
 * When an approved call went ahead (epoch ms): at the approval's `time` when that is after its
 * ask (`askedAt`, the latest ask of the call); otherwise, the approval not saying when it came,
 * at the ask's time plus the wait the engine's clock measured from that ask to this approval (in
 * production, when the approval came, on the requests' clock), else at the ask's time (a
 * replay's dated line reads no clock).
 */
function calledAt(approvalTime: number, ask: { readonly askedAt: number; readonly askedClock: number }, clockReading: number): number {
  if (approvalTime > ask.askedAt) return approvalTime;
  const waited = clockReading - ask.askedClock;
  return Number.isFinite(waited) && waited > 0 ? ask.askedAt + waited : ask.askedAt;
}

/**
 * Why no request is decided while the engine's clock gives no usable time (`what` it did instead,
 * from readClock): the same for a request with a `time` and one without, since only the clock
 * frees and forgets idle sessions, and what to do about it.
 */
function clockUnusable(what: string): string {
  return `the engine's clock (EngineOptions.clock) ${what}, not a time in epoch milliseconds, so no request is decided, dated or not (only the engine's clock frees and forgets idle sessions): give the engine a clock that returns a number, such as () => Date.now()`;
}

/** What to do instead, said by every refusal of `checkCompiledPolicy`. */
const USE_LOAD_BUNDLE = "to run a bundle file, use loadBundle(JSON.parse(text), { publicKey }), which checks its hash and signature before its code runs; new Engine takes what compileSources gives (its `policy`), a bundle verifyBundle returned or createBundle made in this thread, or a copy of one (of the latest 1,000 checked)";

/**
 * Why a value was not taken, true past MAX_VERIFIED_CONTENTS too: a copy of a value checked
 * before the latest of them is no longer recognized by content (the value itself still is).
 */
const OR_STALE_COPY = `or one changed since, or a copy of one checked before the latest ${MAX_VERIFIED_CONTENTS.toLocaleString("en-US")}: copies are recognized by content for that many only`;

/**
 * Refuses, with a `TypeError`, what is not a compiled policy before any of its code runs: a
 * bundle no `verifyBundle` checked nor `createBundle` made, a compiled policy the compiler did
 * not make, or either changed since (`new Engine(JSON.parse(bundleText))` would run its code with
 * neither hash nor signature checked; checked by content, so a recent copy passes), and a value
 * without the fields the engine reads (which would fail deep inside with a JavaScript internals
 * message). Once per engine, never per decision.
 */
function checkCompiledPolicy(policy: unknown): CompiledPolicy {
  if (policy === null || typeof policy !== "object" || Array.isArray(policy)) throw new TypeError(`new Engine takes a compiled policy, not ${describeKind(policy)}: ${USE_LOAD_BUNDLE}`);
  // Every field read once; the checks and the engine use this snapshot only.
  const fields = snapshotOf(policy);
  const isBundle = Object.hasOwn(fields, "format") || Object.hasOwn(fields, "manifest");
  // The shape first for a compiled policy, so that its message names what is missing; a bundle's
  // check comes first, as a bundle's fields are the bundle's, whoever wrote them.
  const checked = isBundle ? isVerified(policy, fields) : undefined;
  if (isBundle && checked === undefined) throw new TypeError(`new Engine was given a bundle that verifyBundle did not check (${OR_STALE_COPY}), and would run its code unchecked: ${USE_LOAD_BUNDLE}`);
  const problem = compiledPolicyProblem(fields as unknown as Record<string, unknown>);
  if (problem !== undefined) throw new TypeError(`new Engine takes a compiled policy, and ${problem}: ${USE_LOAD_BUNDLE}`);
  const taken = checked ?? isVerified(policy, fields);
  if (taken === undefined) throw new TypeError(`new Engine was given a compiled policy that the compiler did not make (${OR_STALE_COPY}), and would run its code unchecked: ${USE_LOAD_BUNDLE}`);
  return taken;
}

/**
 * What an object lacks of the fields of a compiled policy the engine reads (`its \`code\` is
 * undefined, not …`), or undefined: for `new Engine` and `createBundle`, which would otherwise
 * fail deep inside with a JavaScript internals message, or wrap garbage in a bundle.
 * @internal
 */
export function compiledPolicyProblem(fields: Record<string, unknown>): string | undefined {
  const schema = fields["schema"] as Record<string, unknown> | undefined;
  return typeof fields["code"] !== "string" ? `its \`code\` is ${describeKind(fields["code"])}, not the string of generated JavaScript`
    : !helpers.isRecord(schema) ? `its \`schema\` is ${describeKind(schema)}, not an object`
    : !Array.isArray(fields["rules"]) ? `its \`rules\` is ${describeKind(fields["rules"])}, not an array`
    : !helpers.isRecord(fields["session"]) ? `its \`session\` is ${describeKind(fields["session"])}, not an object`
    : (["entities", "records", "enums", "tools", "intents"] as const).map((part) => (helpers.isRecord(schema[part]) ? undefined : `its \`schema.${part}\` is ${describeKind(schema[part])}, not an object`)).find((text) => text !== undefined);
}

/**
 * The constructor's third argument that makes a replay's engine: its session store judges
 * idleness by the recorded times alone (`SessionLifetimes.recordedTimesOnly`), not by the clock,
 * so a replay decides as the log says it happened. Not an EngineOptions name, nor anything an
 * enforcement point can pass: only src/testing (`replayEngine`) imports it, and neither
 * src/index.ts nor src/runtime/index.ts exports it. A symbol, so no value a caller makes (such
 * as `{ recordedTimesOnly: true }`) can stand for it: `new Engine` refuses any other third argument.
 * @internal
 */
export const REPLAY_OF_RECORDED_TIMES: unique symbol = Symbol("policyc replay: recorded times only");

/** Refuses a third constructor argument that is not REPLAY_OF_RECORDED_TIMES, with a `TypeError`: it would otherwise be ignored without a word. */
function checkReplayArgument(replay: unknown): void {
  if (replay !== undefined && replay !== REPLAY_OF_RECORDED_TIMES) throw new TypeError(`new Engine takes two arguments, the policy and its EngineOptions, not a third (${describeKind(replay)})`);
}

/**
 * The names EngineOptions has, at run time (the compiler checks this lists every one, and no
 * other). Exported for `verifyBundle`, which accepts and ignores them.
 * @internal
 */
export const ENGINE_OPTIONS: readonly string[] = Object.keys({ clock: true, sessionIdleMs: true, expiredSessionMs: true, revokedSessionMs: true, maxWindowEntries: true, maxSessions: true, maxTimeSkewMs: true, sessionsFrom: true } satisfies Record<keyof EngineOptions, true>);

const YEAR_MS = 365.25 * 24 * 60 * 60 * 1000;

/**
 * The longest `sessionIdleMs`, `expiredSessionMs` and `revokedSessionMs`: 100 years. Longer is
 * forever to any host (leave `revokedSessionMs` unset for that), and keeps the store's sums of
 * them exact and its messages readable.
 */
export const MAX_SESSION_LIFETIME_MS = 100 * YEAR_MS;

/**
 * Refuses options that are not an object, a name that is not an option (a typo) and an option
 * of the wrong kind (a string where a number belongs, a clock that is no function) with a
 * `TypeError`, and a number that would quietly switch a protection off (a window of 0 entries
 * counts nothing; a negative idle time expires every session) with a `RangeError`: a
 * programming mistake, thrown at once. Exported so
 * `engineForBundle` can tell the caller's mistakes from the bundle's before it loads any code.
 * @internal
 */
export function checkOptions(options: EngineOptions): void {
  checkEngineOptionNames(options);
  // Called for every request without a `time`: a clock that is not a function would deny them all.
  if (options.clock !== undefined && typeof options.clock !== "function") throw new TypeError(`EngineOptions.clock must be a function returning epoch milliseconds, not ${typeof options.clock === "string" ? JSON.stringify(options.clock) : String(options.clock)}`);
  for (const name of ["sessionIdleMs", "expiredSessionMs", "revokedSessionMs"] as const) {
    checkNumber(options, name, "a positive number of milliseconds", (ms) => ms > 0);
    // Infinity (or 285,000 years) is no lifetime: the store would never make room (maxSessions),
    // and its refusals would promise room "after more than Infinity ms" (or a number past 2^53,
    // which sums round). Forever is the unset revokedSessionMs.
    const ms = options[name];
    if (ms !== undefined && ms > MAX_SESSION_LIFETIME_MS) {
      const years = ms / YEAR_MS;
      const given = Number.isFinite(ms) ? `about ${years < 1e9 ? years.toLocaleString("en-US", { maximumSignificantDigits: 3 }) : years.toPrecision(2)} years` : String(ms);
      throw new RangeError(`EngineOptions.${name} must be at most 100 years (${MAX_SESSION_LIFETIME_MS.toLocaleString("en-US")} ms), not ${given}${name === "revokedSessionMs" ? ": leave it unset to remember revoked sessions forever" : ""}`);
    }
  }
  checkNumber(options, "maxTimeSkewMs", "a number of milliseconds (0 or more)", (ms) => ms >= 0 && ms < Number.POSITIVE_INFINITY);
  checkNumber(options, "maxSessions", "a whole number of at least 1", (count) => Number.isSafeInteger(count) && count >= 1);
  checkNumber(options, "maxWindowEntries", "a whole number of at least 1", (count) => Number.isSafeInteger(count) && count >= 1);
  const from = options.sessionsFrom;
  if (from !== undefined && !(from instanceof Engine)) throw new TypeError(`EngineOptions.sessionsFrom must be the Engine whose sessions to take over, not ${describeValue(from)}`);
  // Taking from an engine already emptied would start every session afresh (revocations lost).
  if (from?.sessions.retired) throw new TypeError("EngineOptions.sessionsFrom: that engine already handed its sessions over to another one; take them from the engine that has them now");
}

/**
 * A numeric option: a value that is not a number (a setting read from the environment as the
 * string "3600000") is a `TypeError` that shows it as what it is; a number out of range a `RangeError`.
 */
function checkNumber(options: EngineOptions, name: "sessionIdleMs" | "expiredSessionMs" | "revokedSessionMs" | "maxTimeSkewMs" | "maxSessions" | "maxWindowEntries", expected: string, valid: (value: number) => boolean): void {
  const value: unknown = options[name];
  if (value === undefined) return;
  if (typeof value !== "number") throw new TypeError(`EngineOptions.${name} must be ${expected}, not ${describeValue(value)}`);
  if (!valid(value)) throw new RangeError(`EngineOptions.${name} must be ${expected}, not ${value}`);
}

/**
 * The options, their names checked (`checkOptionNames`), as a plain object read once: each of
 * the caller's own properties (non-enumerable ones too, as `"publicKey" in options` sees them)
 * is read here and nowhere else. So a getter or proxy trap that throws is a `TypeError` naming
 * the option (the caller's mistake, as a misspelled name is), never its raw error from deep
 * inside; and a getter that answers otherwise on each read cannot pass the checks with one value
 * and be used with another (a `maxWindowEntries` of 100 when checked, 0 when the engine keeps
 * it; a `publicKey` there when checked, gone when the signature is). Shared by `new Engine`,
 * `loadBundle` and `verifyBundle`.
 * @internal
 */
export function readOptions<Options extends EngineOptions>(options: Options, owner: string): Options {
  const copy: Record<string, unknown> = {};
  let name: string | undefined;
  try {
    for (name of Object.getOwnPropertyNames(options)) copy[name] = (options as Record<string, unknown>)[name];
  } catch (error) {
    throw new TypeError(`the options of ${owner} cannot be read: ${name === undefined ? "listing their names" : `reading \`${name}\``} threw: ${helpers.describeThrown(error)}`);
  }
  return copy as Options;
}

/**
 * `checkOptionNames` for EngineOptions, and for `alsoKnown` names beside them (`loadBundle`'s `publicKey`).
 * @internal
 */
export function checkEngineOptionNames(options: unknown, alsoKnown: readonly string[] = []): void {
  checkOptionNames(options, { owner: "EngineOptions", known: [...ENGINE_OPTIONS, ...alsoKnown], example: alsoKnown[0] ?? "sessionIdleMs" });
}

/**
 * Refuses, with a `TypeError`, options that are not a plain object (a key or a Buffer passed
 * where `{ publicKey }` belongs) and a name that is not an option: a misspelled name
 * (`maxSesions`, `publickey`) would leave the protection it meant to set switched off. Shared by
 * everything that takes options (the engine, `loadBundle`, `verifyBundle`, `createBundle`).
 * @internal
 */
export function checkOptionNames(options: unknown, { owner, known, example = known[0]!, listed = known.join(", ") }: { owner: string; known: readonly string[]; example?: string; listed?: string }): void {
  // Any realm's plain object: not an array, a Buffer, a KeyObject or another class's instance.
  // (Read through proxy traps that may throw, a revoked proxy's: the caller's mistake, said so.)
  let plain: boolean;
  let names: string[] = [];
  try {
    const prototype: unknown = typeof options === "object" && options !== null ? Object.getPrototypeOf(options) : undefined;
    plain = prototype === null || (prototype !== undefined && Object.getPrototypeOf(prototype) === null);
    if (plain) names = Object.keys(options as object);
  } catch (error) {
    throw new TypeError(`the options cannot be read: ${helpers.describeThrown(error)}`);
  }
  if (!plain) throw new TypeError(`the options must be an object such as { ${example} }, not ${describeKind(options)}`);
  for (const name of names) {
    if (known.includes(name)) continue;
    const meant = closestName(name, known);
    throw new TypeError(`${owner} has no option \`${name}\`${meant === undefined ? "" : `: did you mean \`${meant}\`?`} (the options are ${listed})`);
  }
}

/**
 * How `session.repeats` compares a tool's arguments: by their declared fields only (an
 * undeclared extra argument, a nonce, must not make a loop look like progress). The generated
 * comparison starts with a quick reject on the required scalar arguments.
 */
function sameArgsFor(generated: GeneratedTool["sameArgs"], shape: ValueShape): (previous: unknown, current: unknown) => boolean {
  if (generated !== undefined) return (previous, current) => generated(previous, current, shape);
  return (previous, current) => helpers.sameArguments(previous, current, shape);
}

/**
 * The asked call as `Engine.approved` finds it again: its tool and declared arguments (as
 * `session.repeats` compares them): its text when short, else its hash, so that an ask
 * awaiting approval takes no more memory however large its arguments. (Computing it walks them once, as validating them
 * did: an ask of a 1 MB argument takes milliseconds, which a person's approval dwarfs.)
 * `prefix`: the tool's (askKeyPrefix), made once per tool rather than per ask.
 */
function askKey(prefix: string, args: unknown, shape: ValueShape): string {
  const call = prefix + helpers.declaredKey(args, shape);
  // A short call is its own key (no hash to compute: most asks are of a few small arguments);
  // a longer one is kept as its SHA-256. The first character tells the two kinds apart.
  return call.length <= ASK_KEY_TEXT_MAX ? `=${call}` : `#${hash("sha256", call, "base64")}`;
}

/** What the asks of `tool` are keyed by before their arguments (askKey): its name as JSON and `|`. */
function askKeyPrefix(tool: string): string {
  return `${JSON.stringify(tool)}|`;
}

/**
 * A refusal of an approval for a field of the request (`request.agent is missing`, `request.time
 * must be …`), prefixed with what an approval is: an enforcement point that passes only the
 * fields that find the asked call (tool, args, session) learns it must pass the whole request.
 * Other refusals (the session expired or revoked, nothing asked) are as they are.
 */
function approvalMustCarry(refusal: string | undefined): string | undefined {
  if (refusal === undefined || !refusal.startsWith("request.")) return refusal;
  return `an approval is the asked request itself (its agent, context, user…) with time stamped when the approval came: ${refusal}`;
}

/**
 * What an expired session's denial tells the enforcement point: how long the id stays denied and
 * that it then starts clean, and that a new session forgets the old one's taint, so the agent's
 * conversation (with the data it touched) must not be carried into one.
 */
function expiredSessionEnds(expiredMs: number): string {
  return `its id is denied for expiredSessionMs (${describeMs(expiredMs)}) after its last attempt and then starts a new session that knows none of it, so start a new session only with an agent context that holds none of the data this one touched (not this conversation carried on under a new id)`;
}

/** What to do once a session holds MAX_PENDING_ASKS calls awaiting approval: those past them cannot be approved. */
const PENDING_ASKS_NEXT_STEP = "ask again once earlier asks of the session are approved";

/** In an ask decision's `errors` when the session had no room to keep the ask (MAX_PENDING_ASKS): no one can approve it. */
const UNKEPT_ASK = `this ask cannot be approved: the session already has ${MAX_PENDING_ASKS} calls awaiting approval, the most the engine keeps; ${PENDING_ASKS_NEXT_STEP}`;

/** The longest text of a call kept as its own ask key: about the size of the hash it saves. */
const ASK_KEY_TEXT_MAX = 64;

/**
 * Records an ask awaiting approval (Engine.approved). Asks of the same call are counted;
 * at most MAX_PENDING_ASKS calls are kept, and past them a new one is not (it cannot be
 * approved): no number of later asks can push out one a person may be looking at (and with it
 * the data it returns, once approved and the call goes ahead).
 */
function awaitApproval(state: SessionState, key: string, c: EvalContext, labels: string[] | undefined, policy: CompiledPolicy, decision: AskDecision): boolean {
  const grants = decision.grantsOnApproval;
  const asked = (state.asked ??= new Map());
  let pending = asked.get(key);
  if (pending === undefined) {
    if (asked.size >= MAX_PENDING_ASKS) {
      state.asksNotKept++;
      return false;
    }
    // Who asked and under which policy, as plain fields (every ask writes them; see PendingAsk).
    const caller = callerOf(policy, c, grants, state.labelLimits.alwaysKept);
    asked.set(key, (pending = { tool: c.tool, argsShape: c.entry.argsShape, count: 0, firstAskedAt: c.now, rules: keptRules(decision.rules), askedAt: c.now, askedClock: c.clockReading, labels: undefined, labelChars: 0, policy, user: caller.user, agent: caller.agent, context: caller.context, askedLabels: caller.askedLabels, unkept: caller.unkept, grants, more: undefined }));
  } else {
    noteAsk(pending, policy, c, grants, state.labelLimits.alwaysKept);
    // (The same array when the same rules asked, as a shared decision holds it: nothing to do.)
    if (pending.rules !== decision.rules) pending.rules = joinedRules(pending.rules, decision.rules);
    // The earliest ask's time, whichever arrived first (requests can arrive out of their order).
    if (c.now < pending.firstAskedAt || Number.isNaN(pending.firstAskedAt)) pending.firstAskedAt = c.now;
    // The latest ask's time: an approval of the call comes after it, whichever ask it answers.
    if (c.now > pending.askedAt) {
      pending.askedAt = c.now;
      pending.askedClock = c.clockReading;
    }
  }
  pending.count++;
  if (labels === undefined) return true;
  // Each label once, and none the session holds already (its labels only grow): `context.labels`
  // as sent may repeat a label any number of times, and 256 asks would keep each copy. Several
  // asks of one call: approved, each brings the data any of them carried (the stricter reading),
  // so their labels gather in one set, added to in place. A label that finds no room in the
  // session's (UNDECLARED_LABEL_CHARS) marks the ask: approved, it marks the session.
  for (const label of labels) {
    if (state.labels?.has(label) === true || pending.labels?.has(label) === true) continue;
    const charged = state.labelChars;
    if (state.roomForLabel(label)) {
      (pending.labels ??= new Set()).add(label);
      pending.labelChars += state.labelChars - charged;
    } else pending.labelsDropped = true;
  }
  return true;
}

/**
 * A decision's rule ids as an ask keeps them: the frozen array a shared decision holds, or a
 * copy of a fresh decision's (one with errors), which is the caller's to change; the last
 * MAX_ASKING_RULES_KEPT of more.
 */
function keptRules(rules: readonly string[]): readonly string[] {
  if (rules.length > MAX_ASKING_RULES_KEPT) return rules.slice(-MAX_ASKING_RULES_KEPT);
  return Object.isFrozen(rules) ? rules : [...rules];
}

/**
 * The ids of `kept` and those of `more` not among them, the latest MAX_ASKING_RULES_KEPT (the
 * earliest dropped: the rules asking it now matter most; `kept` itself when `more` adds none).
 */
function joinedRules(kept: readonly string[], more: readonly string[]): readonly string[] {
  // (Asked again by rules it holds, which a fresh decision's array often is: no array made.)
  if (more.every((id) => kept.includes(id))) return kept;
  return [...kept, ...more.filter((id) => !kept.includes(id))].slice(-MAX_ASKING_RULES_KEPT);
}

/**
 * Notes an ask of a call already awaiting approval (before its count goes up): under the policy
 * of its latest asks (or one alike, `alikePolicies`), by their caller or another one; under
 * another policy (a reload since), the asks so far become older ones (`MoreAsks.older`), kept
 * with their callers and grants until approved, and this one starts the latest.
 */
function noteAsk(pending: PendingAsk, policy: CompiledPolicy, c: EvalContext, grants: readonly Grant[], alwaysKept: ReadonlySet<string>): void {
  if (pending.policy !== policy) {
    if (!alikePolicies(pending.policy, policy)) return startAsksUnder(pending, policy, callerOf(policy, c, grants, alwaysKept));
    pending.policy = policy;
  }
  // Most asks again are the same caller's: compared with the kept copies field by declared
  // field, copying nothing (a copy is made only for a caller not seen yet).
  if (sameAsAsked(pending, policy, c)) {
    pending.grants = longerGrants(pending.grants, grants);
    return;
  }
  const more = (pending.more ??= { callers: [], callersDropped: false, older: undefined });
  for (const known of more.callers) {
    if (!sameAsAsked(known, policy, c)) continue;
    known.grants = longerGrants(known.grants, grants);
    return;
  }
  if (more.callers.length < MAX_ASKED_CALLERS - 1) more.callers.push(callerOf(policy, c, grants, alwaysKept));
  else more.callersDropped = true;
}

/** Adds a caller to asks of one policy, or joins its grants to an equal one's; past MAX_ASKED_CALLERS, marks them (refused after a reload). */
function addCaller(asks: { readonly callers: AskedCaller[]; callersDropped: boolean }, caller: AskedCaller, room = MAX_ASKED_CALLERS - 1): void {
  for (const known of asks.callers) {
    if (!sameCaller(known, caller)) continue;
    known.grants = longerGrants(known.grants, caller.grants);
    return;
  }
  if (asks.callers.length < room) asks.callers.push(caller);
  else asks.callersDropped = true;
}

/** The latest asks' callers (PendingAsk's first, then the others). */
function callersOf(pending: PendingAsk): AskedCaller[] {
  return [{ user: pending.user, agent: pending.agent, context: pending.context, askedLabels: pending.askedLabels, unkept: pending.unkept, grants: pending.grants }, ...(pending.more?.callers ?? [])];
}

/**
 * An ask under another policy than the latest asks': they move to the older asks (joining ones
 * of a policy alike theirs; past MAX_ASKED_POLICIES, the newest older entry takes them, its
 * policy unknown from then on, so it is always judged), and this ask starts the latest.
 */
function startAsksUnder(pending: PendingAsk, policy: CompiledPolicy, caller: AskedCaller): void {
  const more: MoreAsks = (pending.more ??= { callers: [], callersDropped: false, older: undefined });
  const older = (more.older ??= []);
  let olderCount = 0;
  for (const asks of older) olderCount += asks.count;
  const latest: AskedUnder = { policy: pending.policy, count: pending.count - olderCount, callers: callersOf(pending), callersDropped: more.callersDropped };
  const alike = older.find((asks) => asks.policy !== undefined && alikePolicies(asks.policy, latest.policy));
  if (alike === undefined && older.length < MAX_ASKED_POLICIES) older.push(latest);
  else {
    const into = alike ?? older[older.length - 1]!;
    if (alike === undefined) into.policy = undefined;
    into.count += latest.count;
    into.callersDropped ||= latest.callersDropped;
    for (const caller of latest.callers) addCaller(into, caller, MAX_ASKED_CALLERS);
  }
  pending.policy = policy;
  pending.user = caller.user;
  pending.agent = caller.agent;
  pending.context = caller.context;
  pending.askedLabels = caller.askedLabels;
  pending.unkept = caller.unkept;
  pending.grants = caller.grants;
  more.callers.length = 0;
  more.callersDropped = false;
}

/** After an approval of a call still asked more times: the oldest ask is the one taken (older asks are judged at every approval until then). */
function settleOldestAsk(pending: PendingAsk): void {
  const older = pending.more?.older;
  if (older === undefined) return;
  if (--older[0]!.count === 0) older.shift();
  if (older.length === 0) pending.more!.older = undefined;
}

/**
 * The call as it was asked by `caller`, for the policy in force to judge after a reload: the
 * asked request's `user`, `agent` and `context` as they were when it was asked (copies: an
 * enforcement point that updates its objects in place changes no past ask), with the
 * approval's `context.labels` joining the asked ones (both join the session when it goes
 * ahead). The rest is the approval's: `args` (the ask's own are not kept; they are the same as
 * the asking policy compared them, which is how the ask was found), `time` (the call goes ahead
 * now) and `intent` (the session's either way).
 */
function askedRequest(approval: Record<string, unknown>, caller: AskedCaller): Record<string, unknown> {
  const asked: Record<string, unknown> = { session: approval["session"], tool: approval["tool"] };
  for (const name of ["args", "time", "intent"]) if (approval[name] !== undefined) asked[name] = approval[name];
  if (caller.user !== undefined) asked["user"] = caller.user;
  if (caller.agent !== undefined) asked["agent"] = caller.agent;
  const sentContext = approval["context"];
  const sent = uniqueLabels(typeof sentContext === "object" && sentContext !== null ? (sentContext as Record<string, unknown>)["labels"] : undefined);
  const had = caller.askedLabels;
  const labels = had === undefined ? sent : sent === undefined ? had : [...had, ...sent.filter((label) => !had.includes(label))];
  if (caller.context !== undefined || labels !== undefined) asked["context"] = labels === undefined ? caller.context : { ...caller.context, labels };
  return asked;
}

/** Values of one caller's user, agent and context an ask copies at most; past them it keeps none (refused after a reload). */
const MAX_ASKED_CALLER_VALUES = 1_024;

/**
 * Who made an ask, as copies taken when it was asked: `user`, `agent` and `context` limited to
 * the fields the asking policy's schema declares (the request was validated against it, so they
 * are small; `context.labels` apart), as plain data, and `context.labels` each once, bounded as
 * a session's labels are (UNDECLARED_LABEL_CHARS, the label enum's members aside). What cannot be
 * copied (too large, or data that throws on reading) is not kept, and the caller is marked
 * `unkept`: an approval after a reload is then refused, saying so.
 */
function callerOf(policy: CompiledPolicy, c: EvalContext, grants: readonly Grant[], alwaysKept: ReadonlySet<string>): AskedCaller {
  const { user, agent, context } = policy.schema.entities;
  try {
    const budget = { values: MAX_ASKED_CALLER_VALUES };
    const askedLabels = uniqueLabels(c.context?.["labels"]);
    let chars = 0;
    for (const label of askedLabels ?? []) if (!alwaysKept.has(label) && (chars += label.length + 1) > UNDECLARED_LABEL_CHARS) throw new RangeError(`its context.labels are more than a session keeps (${UNDECLARED_LABEL_CHARS} characters)`);
    return { user: declaredCopy(c.user, user, budget), agent: declaredCopy(c.agent, agent, budget), context: declaredCopy(c.context, context, budget, "labels"), askedLabels, unkept: undefined, grants };
  } catch (error) {
    return { user: undefined, agent: undefined, context: undefined, askedLabels: undefined, unkept: helpers.describeThrown(error), grants };
  }
}

/** `labels` as sent, each string once (first seen first), or undefined when not a list. */
function uniqueLabels(labels: unknown): string[] | undefined {
  const all = labelsOf(labels);
  // Sized to fit (a filtered list's room grows past its items; kept per pending ask, it adds up).
  return all === undefined ? undefined : all.length < 2 ? all.slice() : Array.from(new Set(all));
}

const declaredNames = new WeakMap<Record<string, unknown>, readonly string[]>();

/** The field names an entity declares, listed once per schema (asks read them on every ask). */
function namesOf(fields: Record<string, unknown>): readonly string[] {
  let names = declaredNames.get(fields);
  if (names === undefined) declaredNames.set(fields, (names = Object.keys(fields)));
  return names;
}

/** A plain-data copy of an entity's declared fields (`except` aside), or undefined when the request has none or the schema declares none. */
function declaredCopy(value: Record<string, unknown> | undefined, fields: Record<string, unknown> | undefined, budget: { values: number }, except?: string): Record<string, unknown> | undefined {
  if (value === undefined || value === null || typeof value !== "object" || fields === undefined) return undefined;
  let copy: Record<string, unknown> | undefined;
  for (const name of namesOf(fields)) if (name !== except && Object.hasOwn(value, name)) (copy ??= {})[name] = plainCopy(value[name], budget, 0);
  // (A context whose only field is `labels` keeps nothing here: they are kept apart.)
  return copy ?? (except === undefined ? {} : undefined);
}

function plainCopy(value: unknown, budget: { values: number }, depth: number): unknown {
  if (--budget.values < 0) throw new RangeError(`its user, agent and context hold more than ${MAX_ASKED_CALLER_VALUES} values`);
  if (typeof value !== "object" || value === null) return value;
  if (depth > MAX_NESTING) throw new RangeError("its data is nested too deeply");
  if (Array.isArray(value)) {
    const copy = new Array<unknown>(value.length);
    for (let i = 0; i < value.length; i++) copy[i] = plainCopy(value[i], budget, depth + 1);
    return copy;
  }
  const copy: Record<string, unknown> = {};
  for (const name of Object.keys(value)) copy[name] = plainCopy((value as Record<string, unknown>)[name], budget, depth + 1);
  return copy;
}

/** Whether an ask under `policy` was made by the caller whose copies `known` holds (the copies compared with the request, field by declared field). */
function sameAsAsked(known: AskedCaller | PendingAsk, policy: CompiledPolicy, c: EvalContext): boolean {
  if (known.unkept !== undefined) return false;
  const { user, agent, context } = policy.schema.entities;
  try {
    const sent = c.context?.["labels"];
    const had = known.askedLabels;
    if (had === undefined ? Array.isArray(sent) : !Array.isArray(sent) || !sameLabels(had, sent)) return false;
    return sameDeclared(known.user, c.user, user) && sameDeclared(known.agent, c.agent, agent) && sameDeclared(known.context, c.context, context, "labels");
  } catch {
    // Request data that throws on reading (a getter, a proxy): another caller (judged on its own).
    return false;
  }
}

/** Whether the strings of `sent` are the labels `had` holds (each once, in first-seen order). */
function sameLabels(had: readonly string[], sent: readonly unknown[]): boolean {
  let at = 0;
  for (let i = 0; i < sent.length; i++) {
    const label = sent[i];
    if (typeof label !== "string") continue;
    if (at < had.length && had[at] === label) at++;
    else if (!had.includes(label)) return false;
  }
  return at === had.length;
}

/** Whether a kept copy (declaredCopy) equals the request's declared fields. */
function sameDeclared(copy: Record<string, unknown> | undefined, value: Record<string, unknown> | undefined, fields: Record<string, unknown> | undefined, except?: string): boolean {
  if (value === undefined || value === null || typeof value !== "object" || fields === undefined) return copy === undefined;
  if (copy === undefined && except === undefined) return false;
  for (const name of namesOf(fields)) {
    if (name === except) continue;
    const kept = copy !== undefined && Object.hasOwn(copy, name);
    if (kept !== Object.hasOwn(value, name) || (kept && !sameData(copy![name], value[name], 0))) return false;
  }
  return true;
}

/** Whether two kept callers are the same (their copies equal). */
function sameCaller(known: AskedCaller, other: AskedCaller): boolean {
  if (known.unkept !== undefined || other.unkept !== undefined) return false;
  return sameData(known.askedLabels, other.askedLabels, 0) && sameData(known.user, other.user, 0) && sameData(known.agent, other.agent, 0) && sameData(known.context, other.context, 0);
}

/** Whether two request values are equal as data (JSON-like: lists, records, scalars). */
function sameData(a: unknown, b: unknown, depth: number): boolean {
  if (a === b) return true;
  if (typeof a !== "object" || typeof b !== "object" || a === null || b === null || depth > MAX_NESTING) return false;
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (!sameData(a[i], b[i], depth + 1)) return false;
    return true;
  }
  if (Array.isArray(b)) return false;
  let names = 0;
  for (const name in a) {
    if (!Object.hasOwn(a, name)) continue;
    names++;
    if (!Object.hasOwn(b, name) || !sameData((a as Record<string, unknown>)[name], (b as Record<string, unknown>)[name], depth + 1)) return false;
  }
  for (const name in b) if (Object.hasOwn(b, name)) names--;
  return names === 0;
}

/** Grants joined, each scope with its longer lifetime (all that asks of one caller might mint); the same array when nothing is added. */
function longerGrants(current: readonly Grant[], more: readonly Grant[]): readonly Grant[] {
  return current === more || more.length === 0 ? current : mergeGrants([...current], more, "longer");
}

/**
 * Whether two policies decide alike: the same object, or the same code, rules, schema and
 * session use (a reload of the same bundle, or of the same sources compiled again). Compared
 * by a fingerprint worked out once per policy; only asks and approvals across a reload ask.
 */
function alikePolicies(a: unknown, b: unknown): boolean {
  // Code first: a changed rule changes it, and comparing two strings costs far less than
  // fingerprinting two whole policies (on the decision path, at the first approval after a reload).
  if (a === b) return true;
  if (a === undefined || b === undefined || (a as CompiledPolicy).code !== (b as CompiledPolicy).code) return false;
  return fingerprintOf(a as CompiledPolicy) === fingerprintOf(b as CompiledPolicy);
}

const fingerprints = new WeakMap<CompiledPolicy, string>();

function fingerprintOf(policy: CompiledPolicy): string {
  let print = fingerprints.get(policy);
  if (print === undefined) {
    print = hash("sha256", JSON.stringify([policy.code, policy.rules, policy.schema, policy.session]), "base64");
    fingerprints.set(policy, print);
  }
  return print;
}

/** What a policy declares that a request of `tool` is validated by: another one can make a request invalid that was not. */
function declarationsOf(policy: CompiledPolicy, tool: string): string {
  const { entities, records, enums, intents, tools } = policy.schema;
  return JSON.stringify([entities, records, enums, intents, tools[tool] ?? null]);
}

/** `shell for 60s`, as explanations write a grant. */
function describeGrant(grant: Grant): string {
  return `${helpers.describeText(grant.scope)} for ${grant.ttlSeconds}s`;
}

/** `; its errors: …` for a decision's errors, or nothing. */
function errorsOf(errors: readonly string[] | undefined): string {
  return errors === undefined || errors.length === 0 ? "" : `; its errors: ${errors.join("; ")}`;
}

/**
 * The ask awaiting approval of a call, and its key: found by the call's arguments as this policy
 * compares them, or else as the policy that asked did. A reload since may compare the tool's
 * arguments otherwise (a `list` now a `set`, another record), and the ask's key hashes them the
 * old way (the arguments themselves are not kept, so it cannot be made anew): the person approved
 * the call as it was compared then. Only on a miss, once per shape the tool's asks were made with.
 */
function pendingAskOf(state: SessionState, tool: string, entry: ToolEntry, args: unknown): [string, PendingAsk] | undefined {
  const asked = state.asked;
  if (asked === undefined) return undefined;
  // The tool entry's prefix, as the decision that asked used (buildDecision): one source of the key's text.
  const prefix = entry.askPrefix;
  const argsShape = entry.argsShape;
  const key = askKey(prefix, args, argsShape);
  const pending = asked.get(key);
  if (pending !== undefined) return [key, pending];
  const tried = new Set([argsShape]);
  for (const ask of asked.values()) {
    if (ask.tool !== tool || tried.has(ask.argsShape)) continue;
    tried.add(ask.argsShape);
    const asKey = askKey(prefix, args, ask.argsShape);
    const then = asked.get(asKey);
    if (then !== undefined) return [asKey, then];
  }
  return undefined;
}

/** Why a call has no ask awaiting approval: none of the tool at all, or only of other calls. */
function noAskFor(state: SessionState, sessionId: string, tool: string): string {
  let others = 0;
  for (const pending of state.asked?.values() ?? []) if (pending.tool === tool) others += pending.count;
  const session = `session ${helpers.describeText(sessionId)}`;
  const full = state.asksNotKept > 0 ? `; the session also made more asks awaiting approval than the engine keeps (${MAX_PENDING_ASKS} calls), and those past them cannot be approved (${PENDING_ASKS_NEXT_STEP})` : "";
  if (others === 0) return `${session} has no ask awaiting approval for ${tool} (no call to it was answered ask, or each was approved already${full})`;
  return `${session} has no ask awaiting approval for this ${tool} call: only a call answered ask can be approved, with the same declared arguments, and the ${others === 1 ? "ask" : `${others} asks`} of ${tool} awaiting approval ${others === 1 ? "is" : "are"} for other arguments${full}`;
}

/**
 * The reason of a default deny, when no rule allowed the call (replays tell it from refusals by it).
 * @internal
 */
export function defaultDenyReason(tool: string): string {
  return `no rule allows ${tool}`;
}

/**
 * How the reason for a call of an undeclared tool starts (replays find logged refusals by it).
 * @internal
 */
export function unknownToolReasonStart(tool: string): string {
  return `unknown tool ${helpers.describeText(tool)}`;
}

/**
 * The reason of a `deny … revoke` rule matched only because its `session.count` reaches back past
 * the attempts its session keeps (see buildDecision): its own reason ("more than 30 calls a
 * minute") would claim a count that could not be made.
 */
const UNTOLD_COUNT_REASON =
  "its session.count cannot be told: the request is dated so far before the latest attempt of its session that the count reaches back past the attempts the session still keeps (request times out of order, or a clock that stepped back), so it is denied (fails closed) without revoking the session";

/**
 * The reason of a rule matched only because its `session.count` reaches back past attempts a
 * reload left uncounted (WINDOW_RELOADED, see buildDecision): its own reason ("more than 10
 * calls in 10m") would claim a count that could not be made. `revoke`: it is a `deny … revoke`.
 */
function untoldSinceReloadReason(revoke: boolean): string {
  return `its session.count cannot be told since the policy was reloaded: the session's attempts before the reload were kept only as far as the old policy's counts needed (a smaller number), so the rule matches (fails closed)${revoke ? " without revoking the session" : ""} until its window no longer reaches back to them`;
}

/** What a matched rule's own errors (those starting with its id and `: `) are (ownErrors). */
const OWN_NONE = 0;
const OWN_RELOADED = 1;
const OWN_TRIMMED = 2;
const OWN_OTHER = 3;

/**
 * Whether rule `id` has errors among `errors`, and whether they are all the count a reload left
 * untold (WINDOW_RELOADED) or all the count the window trimmed (WINDOW_TRIMMED): read in one
 * pass without making the prefix or a filtered list (a decision with errors is built for each
 * attempt, and most of its rules have none of them).
 */
function ownErrors(errors: readonly string[], id: string): number {
  let own = OWN_NONE;
  const start = id.length + 2;
  for (const error of errors) {
    if (error.length < start || error.charCodeAt(id.length) !== 58 || error.charCodeAt(id.length + 1) !== 32 || !error.startsWith(id)) continue;
    const kind = error.length === start + WINDOW_RELOADED.length && error.endsWith(WINDOW_RELOADED) ? OWN_RELOADED : error.length === start + WINDOW_TRIMMED.length && error.endsWith(WINDOW_TRIMMED) ? OWN_TRIMMED : OWN_OTHER;
    if (own === OWN_NONE) own = kind;
    // Errors of more than one kind: not an untold count alone (every error of the rule must be
    // one), so the rule revokes through its error. Unreachable today, and so untested: the
    // generated code records at most one error per rule per evaluation (emitJavaScript.ts: a rule
    // keeps the first fault it notes, `c.fault ??=`, and `faulted` records that one). Kept so that
    // code recording more could not make a rule with a real error pass for an untold count (not
    // revoke, or give the untold count as its reason).
    else if (own !== kind) return OWN_OTHER;
  }
  return own;
}

/**
 * What a decision revokes its session by (see Revocation): the revoking rules at `positions` of
 * the decision's `rules` (those that matched cleanly, else those matched through an error), with
 * their reasons, locations and errors; undefined when none revokes.
 */
function revocationOf(positions: readonly number[], rules: readonly string[], reasons: readonly string[], locations: readonly string[], errors: readonly string[] | undefined): RevocationCause | undefined {
  if (positions.length === 0) return undefined;
  const named = positions.map((at) => rules[at]!);
  return {
    rules: named,
    reasons: positions.map((at) => reasons[at]!),
    locations: positions.map((at) => locations[at]!),
    errors: errors === undefined ? EMPTY : keptErrors(errors.filter((error) => named.some((id) => error.startsWith(`${id}: `)))),
  };
}

/** How many of its errors a revocation keeps, and how many characters of each (see keptErrors). */
export const REVOCATION_ERRORS_KEPT = 2;
export const REVOCATION_ERROR_CHARS = 100;

/**
 * The errors a revocation keeps, for the later denials of its session: the first
 * REVOCATION_ERRORS_KEPT, each cut to REVOCATION_ERROR_CHARS characters, copied apart from the
 * request's data. Errors quote request data (a URL the agent made ambiguous), so each session
 * revoked through a different one would otherwise keep its own long texts for as long as the
 * revocation is remembered (by default forever); the revoking decision itself has them in full.
 */
function keptErrors(errors: readonly string[]): readonly string[] {
  if (errors.length === 0) return EMPTY;
  return errors.slice(0, REVOCATION_ERRORS_KEPT).map((error) => {
    let text = error;
    if (text.length > REVOCATION_ERROR_CHARS) {
      let end = REVOCATION_ERROR_CHARS - 1;
      // Never half a surrogate pair.
      if (/[\uD800-\uDBFF]/.test(text.charAt(end - 1))) end--;
      text = `${text.slice(0, end - 2)}...`;
    }
    // A fresh flat string: a slice or concatenation would keep the whole request string it came from.
    return JSON.parse(JSON.stringify(text)) as string;
  });
}

/** Characters of an operator's reason (`Engine.revoke`) a revocation quotes: its denials repeat it, and it is kept as long as the revocation. */
export const OPERATOR_REASON_CHARS = 500;

/** The reason an operator's revocation gives (Engine.revoke): who revoked, and their text quoted visibly (helpers.describeText). */
function operatorReason(reason: string): string {
  return reason === "" ? "revoked by an operator" : `revoked by an operator: ${helpers.describeText(reason, OPERATOR_REASON_CHARS)}`;
}

/** The largest epoch ms a Date holds: a clock giving more (nanoseconds) gives no date. */
const MAX_DATE_MS = 8.64e15;

/** `ms` as an ISO 8601 time, or null when it is none (undefined, NaN, beyond a Date). */
function isoTime(ms: number | undefined): string | null {
  return ms !== undefined && Math.abs(ms) <= MAX_DATE_MS ? new Date(ms).toISOString() : null;
}

/**
 * Why a session revoked before its first attempt ended (SessionSummary.endReason): the reason its
 * denials give, its operator's revocation's (the words the operator gave, quoted).
 */
function revokedBeforeStartBecause(revocation: Revocation | undefined): string {
  return revocation?.reasons[0] ?? operatorReason("");
}

/** SessionSummary.pendingAsks of a revoked session: none can be approved. */
const NO_PENDING_ASKS: readonly PendingAskSummary[] = Object.freeze([]);

/** A session's labels or tools by name, sorted and frozen (SessionSummary); null when the policy keeps none. */
function sortedNames(names: ReadonlySet<string> | undefined): readonly string[] | null {
  return names === undefined ? null : Object.freeze([...names].sort());
}

/**
 * The calls awaiting approval in a session (SessionSummary.pendingAsks): the first
 * PENDING_ASKS_LISTED by when each was first asked, in the order asked when alike (or undated).
 */
function pendingAsksOf(state: SessionState): readonly PendingAskSummary[] {
  const asks = [...(state.asked?.values() ?? [])];
  // (A stable sort: asks dated alike stay in the order they were asked. Undated last: NaN compares as nothing.)
  const when = (ask: PendingAsk): number => (Number.isFinite(ask.firstAskedAt) ? ask.firstAskedAt : Number.POSITIVE_INFINITY);
  asks.sort((a, b) => when(a) - when(b) || 0);
  return Object.freeze(
    asks.slice(0, PENDING_ASKS_LISTED).map((ask) => Object.freeze({ tool: ask.tool, firstAskedAt: isoTime(ask.firstAskedAt), lastAskedAt: isoTime(ask.askedAt), asks: ask.count, rules: Object.freeze([...ask.rules]), labelsDropped: ask.labelsDropped === true })),
  );
}

/** A revocation for people (RevocationSummary), frozen. */
function summaryOfRevocation(revocation: Revocation): RevocationSummary {
  const operator = isOperatorRevocation(revocation);
  return Object.freeze({ by: operator ? "operator" : "rules", rules: Object.freeze([...revocation.rules]), reasons: Object.freeze([...revocation.reasons]), at: isoTime(revocation.at), tool: operator ? null : revocation.tool });
}

/** Refuses, with a `TypeError`, a session id `Engine.revoke` or `Engine.session` cannot hold (`method`: how it is called): what `request.session` takes. */
function checkSessionId(sessionId: unknown, method: string): void {
  if (typeof sessionId === "string" && sessionId !== "" && sessionId.length <= MAX_SESSION_ID_LENGTH) return;
  const given = typeof sessionId === "string" ? (sessionId === "" ? "an empty string" : `one of ${sessionId.length.toLocaleString("en-US")} characters`) : describeKind(sessionId);
  throw new TypeError(`engine.${method} takes a session id as request.session carries it, a non-empty string of at most ${MAX_SESSION_ID_LENGTH.toLocaleString("en-US")} characters, not ${given}`);
}

/** The answer to every attempt in a revoked session: deny, with the rules that revoked it, their reasons and the errors they matched through. */
function revokedDecision(revoked: Revocation): Decision {
  return { decision: "deny", rules: [...revoked.rules], reasons: [...revoked.reasons], locations: [...revoked.locations], grants: EMPTY, revoked: true, errors: [...revoked.errors] };
}

/**
 * A deny before any rule ran (`rules` empty): `reason` is what the agent may be told, a fixed
 * wording that says what happened and what it can do; `detail`, in `errors`, is for the audit
 * log and the operator, and may quote the values the enforcement point set and the engine's
 * settings (audit s20 a2).
 */
function refusal(reason: string, detail: string = reason): Decision {
  return { decision: "deny", rules: [], reasons: [reason], locations: [], grants: EMPTY, revoked: false, errors: [detail] };
}

/** The reasons of refusals that come of the enforcement point, not of the request. */
const AT_CAPACITY = "the enforcement point is at capacity: try again later";
const RELOADING = "the enforcement point is switching to a reloaded policy: try again";
const CLOCK_UNUSABLE = "the enforcement point cannot read its clock: try again later";

/**
 * The union of grants; a scope granted twice keeps the shorter lifetime (least privilege), or
 * the `longer` one (all that asks of one call awaiting approval might mint, see longerGrants).
 * Copies, so a caller changing a decision's grants cannot change the compiled rules.
 */
function mergeGrants(current: Grant[] | undefined, more: readonly Grant[], keep: "shorter" | "longer" = "shorter"): Grant[] {
  const merged = current ?? [];
  for (const grant of more) {
    const existing = merged.findIndex((g) => g.scope === grant.scope);
    if (existing < 0) merged.push({ scope: grant.scope, ttlSeconds: grant.ttlSeconds });
    else if (keep === "shorter" ? grant.ttlSeconds < merged[existing]!.ttlSeconds : grant.ttlSeconds > merged[existing]!.ttlSeconds) merged[existing] = { scope: grant.scope, ttlSeconds: grant.ttlSeconds };
  }
  return merged;
}
