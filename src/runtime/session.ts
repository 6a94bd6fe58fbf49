/**
 * Per-session state, kept in memory by the engine and by `policyc test` replays alike. Only
 * what the compiled policy reads is kept (`SessionUse`), and windows hold only twice the longest
 * `within` in the policy (and at most `maxWindowEntries` attempts), so a session costs about a
 * kilobyte.
 */
import { globMatch } from "./glob.js";
import type { Grant } from "./decision.js";
import type { ValueShape } from "./declaredShape.js";
import { describeMs, roughlyAbove } from "./durationsForPeople.js";
import { childrenOf, type IrExpr } from "./ir.js";
import { EvaluationError } from "./evaluationError.js";
import type { RuntimeSchema } from "./schema.js";

/**
 * The longest session id the engine takes. An id names a session, it holds no data: a longer one
 * is refused as an invalid request, outside any session. The sessions and their records are
 * kept in `Map`s by id, where ids of 16,384 characters or more would collide (V8 hashes such a
 * string by its length alone, longText.ts): 2,000 of them made each decide take 3.6 ms.
 */
export const MAX_SESSION_ID_LENGTH = 1024;

/** What the policy reads from the session; computed by the compiler, stored in the bundle. */
export interface SessionUse {
  readonly labels: boolean;
  readonly tools: boolean;
  readonly repeats: boolean;
  /** Keep attempt times for `session.count(… within D)`: the longest D in ms, 0 when unused. */
  readonly windowMs: number;
  /** Keep the tool of each windowed attempt (some `count` has a pattern). */
  readonly windowTools: boolean;
  /**
   * The tool lists of the `session.called(PATTERN…)` in the policy, one per distinct pattern:
   * the session keeps the latest allowed times per pattern (CALLED_TIMES_KEPT), so a check
   * reads a few numbers.
   */
  readonly called: readonly (readonly string[])[];
}


/**
 * Sessions not started yet whose attempts without a usable time a store keeps the number of (see
 * `SessionStore.undated`): the latest counted. Past them the one counted longest ago is
 * forgotten, so ids that never start cannot stop a later session's from counting. Not by time:
 * these attempts have none, and any clock they were judged by (the store's, which request times
 * move) would let a request of another session dated in the past make them stale. Each costs a
 * few dozen bytes (its id and a count), so 10,000 of them hold well under a megabyte.
 */
const MAX_UNDATED_EARLY = 10_000;

/** How far ahead of the engine's clock a request's time may move the store's (see `SessionStore.latest`). */
const FUTURE_SLACK_MS = 5 * 60 * 1000;
/**
 * Sessions and expired records a store holds at most, together. A JavaScript Map holds at most
 * 2^24 entries; past that, recording an expired or revoked session would fail and its state be
 * lost, so a new session is refused well before (fail closed, as with `maxSessions`).
 */
export const MAX_STORED_SESSIONS = 16_000_000;
/**
 * Ids revoked before their first attempt (`Engine.revoke`) a store holds at once when
 * `maxSessions` is not set (else `maxSessions` of them): each is a record kept as long as a
 * revocation (by default for ever), which nothing but the operator's calls makes, so a loop
 * revoking new ids would otherwise fill the heap long before the store's limit.
 */
export const MAX_REVOKED_BEFORE_START = 100_000;
/**
 * `context.labels` as sent (declared or not): only string items are labels. Read into an array
 * first, so request data that throws on reading leaves the session as it was.
 */
export function labelsOf(labels: unknown): string[] | undefined {
  return Array.isArray(labels) ? labels.filter((label): label is string => typeof label === "string") : undefined;
}

/**
 * Attempts a session's window keeps by default, at least (more when the policy compares a
 * count with a larger number: see `windowEntriesFor`). A flooding session cannot make the
 * window grow past it; its counts over the dropped stretch become faults (fail closed).
 */
export const DEFAULT_WINDOW_ENTRIES = 10_000;

/**
 * Allowed times a session keeps per `session.called` pattern: the latest by date. One would do
 * if attempts arrived in time order; these answer `within D` exactly for an attempt that
 * arrives after this many later-dated calls of the pattern, and past them it fails closed.
 */
export const CALLED_TIMES_KEPT = 8;

/** The fault of a `session.called(…, within D)` that the allowed times a session keeps cannot answer. */
export const CALLED_DROPPED = `session.called: the latest ${CALLED_TIMES_KEPT} allowed calls of the pattern the session keeps are all dated after this attempt, and an earlier one it let go could fall within the window`;

/**
 * The fault of a `session.called(…, within D)` for an attempt dated before an allowed call of
 * its pattern (`tools`, when the caller names them) and after none in its window: the session
 * cannot tell whether that call came first. Requests dated out of order, or a wall clock that
 * stepped back, get here; failing closed keeps a `deny … when session.called(…)` matching.
 */
export function calledLaterFault(tools?: readonly string[]): string {
  return `session.called: an allowed call of ${toolsNamed(tools)} is dated after this attempt, and none in the window before it: which came first cannot be told (request times out of order, or a clock that stepped back)`;
}

/** A `session.called` pattern's tools for people: one or two by name, more as the first two and how many others. */
function toolsNamed(tools: readonly string[] | undefined): string {
  if (tools === undefined || tools.length === 0) return "the pattern";
  if (tools.length <= 2) return tools.join(" or ");
  return `${tools[0]}, ${tools[1]} or ${tools.length - 2} more tool${tools.length === 3 ? "" : "s"}`;
}

/** The fault of a `session.count` that reaches back past attempts an overflowing window dropped. */
export const WINDOW_OVERFLOW = "session.count: the session made more attempts in this window than the engine keeps (maxWindowEntries)";

/**
 * The fault of a `session.count` that reaches back past attempts a window kept short for the
 * policy before a reload let go (N + 1 attempts for its `> N`: see `windowEntriesFor`), when the
 * policy in force compares counts with a larger number (`SessionStore.adopt`). The reload, not
 * the session, left the count untold: a `deny … revoke` denies without revoking (Engine).
 */
export const WINDOW_RELOADED = "session.count: the policy was reloaded, and the attempts of this window the session made before the reload were kept only as far as the old policy's counts needed (a smaller number than this count is compared with), so how many there were cannot be told";

/**
 * Characters of undeclared tool names a session keeps, together, so that a `session.count` of
 * a pattern counts its attempts at undeclared tools whose names match (`kb.*` and an undeclared
 * `kb.export`). An agent can send any number of names, so past it an attempt's tool is not
 * kept, and counts of a pattern reaching back to that attempt fail closed.
 */
export const UNDECLARED_TOOL_CHARS = 1024;

/** The fault of `session.last` after an attempt at an undeclared tool whose name is too long to keep (SessionState.last). */
export const LAST_NOT_KEPT = `session.last: the previous attempt was at an undeclared tool whose name is longer than the ${UNDECLARED_TOOL_CHARS.toLocaleString("en-US")} characters a session keeps of one, so which tool it was cannot be told`;

/** The fault of a `session.count` of a pattern that reaches back to an attempt at an undeclared tool whose name the session did not keep. */
export const UNDECLARED_UNNAMED = `session.count: the session made attempts at more undeclared tools in this window than it keeps the names of (${UNDECLARED_TOOL_CHARS} characters), and one of them could match the pattern`;

/**
 * Characters of labels a session keeps that are no member of the label enum (language.md §3.7:
 * strings the request sent, when `context.labels` is not typed by the enum), together, in
 * `session.labels` and in its asks awaiting approval; each counts one more than its length. An
 * agent can send any number of them, a few at a time, so past it a label is not kept and the
 * session is marked (`labelsDropped`): a test of `session.labels` that a label not kept could
 * change fails closed. Members of the label enum and the tools' `returns` labels are always kept
 * (they are few, and the policy's own).
 */
export const UNDECLARED_LABEL_CHARS = 4096;

/** The fault of a `session.labels` test that a label the session did not keep could change (see UNDECLARED_LABEL_CHARS). */
export const LABELS_NOT_KEPT = `session.labels: the session's calls carried more than ${UNDECLARED_LABEL_CHARS.toLocaleString("en-US")} characters of labels that are neither members of the label enum nor returned by a tool, so later ones were not kept, and one of them could change this test; this holds for the rest of the session. Declaring context.labels as a set of the label enum refuses unknown labels instead (language.md §3.7)`;

/**
 * Which labels a session keeps whatever their number (`alwaysKept`: the label enum's members
 * and the tools' `returns` labels), and how many characters of others (`maxChars`: see
 * UNDECLARED_LABEL_CHARS; no limit for a bundle whose code cannot fail closed on a label not
 * kept, see Engine). One per store, shared by its sessions.
 */
export interface LabelLimits {
  readonly alwaysKept: ReadonlySet<string>;
  readonly maxChars: number;
  /**
   * The only labels a session can take on and a rule can name, when `context.labels` is declared
   * as a set or list of an enum (its members: requests with others are refused): see
   * `retiredLabel`. Undefined when any label can come.
   */
  readonly onlyLabels?: ReadonlySet<string>;
}

/** Keeps every label: a session made outside a store. */
const EVERY_LABEL: LabelLimits = { alwaysKept: new Set(), maxChars: Number.POSITIVE_INFINITY };

/**
 * The labels a policy's sessions always keep (see LabelLimits): the members of its label enum
 * (the element enum of `context.labels`, else the enum named `Label`) and the labels its tools
 * return.
 */
export function labelsAlwaysKept(schema: RuntimeSchema): ReadonlySet<string> {
  const labelEnum = declaredLabelEnum(schema) ?? "Label";
  return new Set([...(schema.enums[labelEnum] ?? []), ...Object.values(schema.tools).flatMap((tool) => tool.returns)]);
}

/** The members of the enum `context.labels` is declared a set or list of (the only labels then: see LabelLimits.onlyLabels), or undefined. */
export function onlyLabels(schema: RuntimeSchema): ReadonlySet<string> | undefined {
  const labelEnum = declaredLabelEnum(schema);
  return labelEnum === undefined ? undefined : new Set(schema.enums[labelEnum] ?? []);
}

/** The enum `context.labels` is declared a set or list of, or undefined. */
function declaredLabelEnum(schema: RuntimeSchema): string | undefined {
  const type = schema.entities.context?.["labels"]?.type;
  const element = type !== undefined && typeof type === "object" ? ("set" in type ? type.set : "list" in type ? type.list : undefined) : undefined;
  return element !== undefined && typeof element === "object" && "enum" in element ? element.enum : undefined;
}

/**
 * The label that keeps a session carried to a policy whose only labels are `limits.onlyLabels`
 * from going on, or undefined: a label it holds that is none of them (the label enum renamed or dropped it, or
 * the old policy took any label), which no rule of the new policy can name, so a rule meant for
 * what it stood for (`pii` renamed `personal`) would take the session as without it.
 */
function retiredLabel(state: SessionState, limits: LabelLimits): string | undefined {
  const only = limits.onlyLabels;
  if (only === undefined || state.labels === undefined) return undefined;
  for (const label of state.labels) if (!only.has(label)) return label;
  return undefined;
}

/** Why a session holding `label` (retiredLabel) cannot go on. */
function retiredLabelReason(label: string): string {
  return `the session holds the label ${JSON.stringify(label)}, which is not a member of the label enum now (renamed or removed?), so no rule can test it and a rule meant for what it stood for would take the session as without it`;
}

/** How the reason of a session a reload ended for reading sessions differently begins. */
const RELOADED_DIFFERENTLY = "the policy was reloaded and reads sessions differently: ";

/** The fault of a `session.count` for an attempt that arrived after the window let go of attempts dated before it. */
export const WINDOW_TRIMMED = "session.count: this attempt is dated more than the longest window before attempts already seen, and the attempts just before it were already let go";

/**
 * The window size a policy needs so that its counts decide exactly: every count compared with a
 * number N needs N + 1 attempts kept (this one is counted apart). `literalOnly`: every count is
 * compared with a number, so once a window of that size overflows, the count it gives (at least
 * the window's size) is above every such number and each comparison still comes out as it would
 * with every attempt kept. Then, when every count is of all tools, that size is all a window
 * keeps: a session flooding `session.count(within 1m) > 30` holds 31 attempts, not thousands.
 * A count of some tools cannot stand for the true one once attempts of other tools pushed its
 * own out, so with one (or a count compared with anything but a number) a window keeps at least
 * the default.
 */
export function windowEntriesFor(conditions: readonly (IrExpr | null)[]): { entries: number; literalOnly: boolean } {
  let largest = 0;
  let counts = 0;
  let compared = 0;
  let someTools = false;
  const stack = conditions.filter((c): c is IrExpr => c !== null);
  while (stack.length > 0) {
    const e = stack.pop()!;
    if (e.op === "count") {
      counts++;
      if (e.tools !== null) someTools = true;
    }
    if (e.op === "compare") {
      for (const [side, other] of [[e.left, e.right], [e.right, e.left]] as const) {
        if (side.op === "count" && other.op === "const" && typeof other.value === "number" && Number.isFinite(other.value)) {
          largest = Math.max(largest, Math.ceil(other.value) + 1);
          compared++;
        }
      }
    }
    for (const child of childrenOf(e)) stack.push(child);
  }
  const literalOnly = compared === counts;
  return { entries: literalOnly && !someTools ? Math.max(1, largest) : Math.max(DEFAULT_WINDOW_ENTRIES, largest), literalOnly };
}

/** Asks awaiting approval a session keeps at most (see `PendingAsk`). */
export const MAX_PENDING_ASKS = 256;

/**
 * Calls answered `ask` with the same tool and declared arguments, awaiting a person's approval.
 * The asked calls' `context.labels` are kept (when the policy reads `session.labels`), each once
 * and only those the session does not hold yet, within the session's room for labels
 * (UNDECLARED_LABEL_CHARS): approved, the call's data joins the session whatever the approval's
 * request carries.
 */
export interface PendingAsk {
  readonly tool: string;
  /**
   * How the tool's arguments compared when it was asked (the key hashes them so): after a
   * reload that compares them otherwise (a `list` now a `set`), the approval finds the ask by it.
   */
  readonly argsShape: ValueShape;
  count: number;
  /**
   * When the call was first asked (the earliest of its asks' request times, epoch ms, whichever
   * arrived first), as it awaits approval now: for an incident responder (Engine.session), who
   * sees which asks have waited longest. An approval cannot say which ask it answers, so it stays
   * while any ask of the call awaits (as `rules` does).
   */
  firstAskedAt: number;
  /**
   * The ids of the rules that asked the call, over its asks (the latest MAX_ASKING_RULES_KEPT): for
   * an incident responder (Engine.session). Most asks of a call are asked by the same rules, whose
   * array the shared decision holds, so keeping them copies nothing.
   */
  rules: readonly string[];
  /**
   * When the latest ask of the call was made (its request's time, epoch ms): an approval cannot
   * come before the ask it answers, so the approved call is recorded no earlier (Engine.approved).
   */
  askedAt: number;
  /**
   * The engine's clock reading at that ask (NaN when it gave none): an approval that does not
   * say when it came is dated the wait the clock measured after the ask (Engine.approved), so a
   * clock that runs ahead of or behind the requests' times shifts nothing.
   */
  askedClock: number;
  /** Its labels, added to in place as the call is asked again (copying them on each ask was quadratic). */
  labels: Set<string> | undefined;
  /** Set when a label of an ask of this call found no room (UNDECLARED_LABEL_CHARS): approved, the session is marked `labelsDropped`. */
  labelsDropped?: boolean;
  /**
   * The room its labels were charged (`roomForLabel`), given back as it was charged when the ask
   * is settled: counted again under a reloaded policy that always keeps fewer labels, approvals
   * would give back room never charged, and the session's labels outgrow the cap.
   */
  labelChars: number;
  /**
   * The policy its latest asks were made under (the engine's CompiledPolicy: the store knows no
   * policies) and, below, who made the first of them and what it offered: after a reload that
   * changed the policy, an approval is judged by the policy in force as the call was asked.
   * Plain fields, not a side table: every ask writes them (see Engine.approved).
   */
  policy: unknown;
  /**
   * The first of those asks' `user`, `agent` and `context` (AskedCaller: copies taken when it
   * was asked, limited to the fields the asking policy declares), the parts of the asked call
   * its approval cannot stand in for.
   */
  user: Record<string, unknown> | undefined;
  agent: Record<string, unknown> | undefined;
  context: Record<string, unknown> | undefined;
  askedLabels: readonly string[] | undefined;
  unkept: string | undefined;
  /** The grants on approval the asks of that caller offered, each scope with its longest lifetime. */
  grants: readonly Grant[];
  /** Other callers of those asks, and asks of the call made under other policies: most asks have none. */
  more: MoreAsks | undefined;
}

/** Who made an ask (PendingAsk): the asked request's parts the policy in force judges after a reload. */
export interface AskedCaller {
  /** Copies (plain data) of the asked request's declared `user`, `agent` and `context` fields (`labels` apart), taken when it was asked. */
  readonly user: Record<string, unknown> | undefined;
  readonly agent: Record<string, unknown> | undefined;
  readonly context: Record<string, unknown> | undefined;
  /** The asked `context.labels`, each once (bounded as a session's labels are). */
  readonly askedLabels: readonly string[] | undefined;
  /** Why the asked data could not be kept (too large, or it threw on reading): an approval after a reload is refused. */
  readonly unkept: string | undefined;
  grants: readonly Grant[];
}

/** Asks of one call made under one policy (or, past MAX_ASKED_POLICIES, several: `policy` undefined). */
export interface AskedUnder {
  policy: unknown;
  count: number;
  readonly callers: AskedCaller[];
  /** More callers asked than MAX_ASKED_CALLERS: they cannot all be judged after a reload. */
  callersDropped: boolean;
}

/** PendingAsk's rarer parts: callers of its latest asks beyond the first, and older asks. */
export interface MoreAsks {
  readonly callers: AskedCaller[];
  callersDropped: boolean;
  /** Asks made under other policies than the latest asks' (before a reload), oldest first, until approved. */
  older: AskedUnder[] | undefined;
}

/** Ids of the rules that asked a call a PendingAsk keeps: a reload's rules could otherwise add to them for ever. */
export const MAX_ASKING_RULES_KEPT = 32;

/** Distinct callers of a call's asks under one policy kept (PendingAsk); past them, judged as unknown (refused after a reload). */
export const MAX_ASKED_CALLERS = 8;
/** Policies a call's pending asks are kept apart by; past them, asks under later policies are merged with the newest older entry, of unknown policy from then on. */
export const MAX_ASKED_POLICIES = 4;

/**
 * What revoked a session, repeated by every later denial in it: the `deny … revoke` rules of the
 * revoking decision that matched cleanly, or, when every one matched only through an evaluation
 * error (fails closed), all of those with their errors. Never one picked by source order: the
 * order of rules never changes a decision (language.md §7), and a rule matched only by an error
 * must not stand, without its error, for one whose condition held. An operator's revocation
 * (`Engine.revoke`) is kept the same way, so the check every attempt makes first covers it: no
 * rule (`rules`, `locations` and `errors` empty, which no rule's revocation is), its one reason
 * saying who revoked and why (see isOperatorRevocation).
 */
export interface Revocation {
  /** The revoking rules; none for an operator's revocation. */
  readonly rules: readonly string[];
  readonly reasons: readonly string[];
  readonly locations: readonly string[];
  /** The errors through which the rules named matched (none when they matched cleanly). */
  readonly errors: readonly string[];
  /**
   * When the revoking attempt came (epoch ms; NaN when the request gave no time: the engine's
   * clock then says when a replay ran, not when production revoked) and its tool: what an
   * explanation of a later attempt says. For an operator's revocation, the engine's clock when
   * it was made (NaN when it gave no time).
   */
  readonly at: number;
  /** The revoking attempt's tool; "" for an operator's revocation, which is no attempt. */
  readonly tool: string;
}

/** Whether `revocation` is an operator's (`Engine.revoke`): the only kind no rule made. */
export function isOperatorRevocation(revocation: Revocation): boolean {
  return revocation.rules.length === 0;
}

/** What revoked a session, shared by the sessions revoked alike (Revocation without when and on which tool). */
export type RevocationCause = Omit<Revocation, "at" | "tool">;

/**
 * What a session carried past a reload keeps for it (SessionState.afterReload). Made by the
 * reload, never by a decision; shared by the sessions a reload carried alike when
 * `reloadedUpTo` says nothing (one record per reload and `calledForgotten`, not per session).
 */
export interface AfterReload {
  /**
   * The newest attempt time a window kept short for the policy before a reload let go, when the
   * policy in force needs more: while `droppedUpTo` is no later (nothing dropped since), a count
   * reaching back to it is untold because of the reload (WINDOW_RELOADED). -Infinity: none.
   */
  readonly reloadedUpTo: number;
  /**
   * Tools the session may have called under a policy before a reload whose allowed times it let
   * go because a later policy did not declare them: a policy whose `session.called` pattern
   * matches one again cannot take the session as never having called it. Each with the labels
   * it returned under the policy that let it go (ForgottenCalls).
   */
  readonly calledForgotten: ForgottenCalls | undefined;
}

export class SessionState {
  /**
   * Epoch ms the session started at (`session.age` counts from it): the engine's clock when its
   * first attempt arrived (see `SessionStore.startState`). Never lowered by an attempt dated
   * earlier, the first or a later one, or one back-dated request would make a session old
   * enough to pass a `deny … when session.age < D`.
   */
  readonly firstSeen: number;
  lastSeen: number;
  calls = 0;
  denials = 0;
  /**
   * The tool of the latest attempt ("" before the first), for `session.last` and
   * `session.repeats`: a declared tool's name as the schema spells it, or an undeclared one's
   * while it fits in UNDECLARED_TOOL_CHARS (the agent chooses it, at any length). Past that,
   * undefined: which tool it was cannot be told (see `last`). Always kept, whatever the policy
   * reads, so a reload to a policy that reads it finds it true.
   */
  lastTool: string | undefined = "";
  /**
   * `session.last` for the interpreter and for the code of bundles built before
   * helpers.sessionLast: past an undeclared tool's name too long to keep, an evaluation error
   * until the next attempt (thrown, caught per term or per rule), so a `deny`/`ask` testing it
   * matches and an `allow` does not. Never "" then: that would make the session look new, and a
   * probe at a long name would wipe what the last tool was.
   */
  get last(): string {
    const tool = this.lastTool;
    if (tool === undefined) throw new EvaluationError(LAST_NOT_KEPT);
    return tool;
  }
  labels: Set<string> | undefined;
  /**
   * Set once a label of an allowed or approved call found no room (UNDECLARED_LABEL_CHARS): a
   * `session.labels` test that a label not kept could change is then an evaluation error.
   */
  labelsDropped = false;
  /** Characters of kept labels, in `labels` and in `asked`, that count against UNDECLARED_LABEL_CHARS (each one more than its length). */
  labelChars = 0;
  /** Which labels the session keeps (set by its store: see LabelLimits). */
  labelLimits: LabelLimits = EVERY_LABEL;
  tools: Set<string> | undefined;
  /** Arguments of the previous attempt, and how many identical attempts in a row ended with it. */
  lastArgs: unknown;
  run = 0;
  /**
   * Attempt times inside the longest window, oldest first, from index `head` on: expired
   * entries are skipped by moving `head` and compacted away in batches, so recording an
   * attempt does not shift the whole window every time. (Entries before `head` are expired:
   * `windowSize` is the number of live ones.)
   * @internal
   */
  times: number[] | undefined;
  /**
   * The tool of each windowed attempt, as its ordinal (position among the declared tools); an
   * undeclared tool as -2 - its index in `undeclaredTools`, or -1 when its name was not kept.
   */
  windowTools: number[] | undefined;
  /** The names of the undeclared tools of windowed attempts (at most UNDECLARED_TOOL_CHARS characters). */
  undeclaredTools: string[] | undefined;
  /** Characters of `undeclaredTools`, together. */
  private undeclaredChars = 0;
  /** The newest time of a windowed attempt at an undeclared tool whose name was not kept (-1 in `windowTools`). */
  unnamedUpTo = Number.NEGATIVE_INFINITY;
  /** Index of the oldest live entry of `times` (and `windowTools`). */
  head = 0;
  /**
   * The newest attempt time dropped because the window was full while it was still inside the
   * longest `within`: counts reaching back to it or earlier would be too low.
   */
  droppedUpTo = Number.NEGATIVE_INFINITY;
  /**
   * The newest attempt time let go because it fell out of the longest window of a later-dated
   * attempt: an attempt dated before it that arrives late cannot be counted exactly.
   */
  trimmedUpTo = Number.NEGATIVE_INFINITY;
  /**
   * Whether the window overflowed where a count could notice (`windowOverflowed`): it let go of
   * an attempt inside the longest `within` of the attempt then made, and its counts did not
   * saturate (or it counts some tools); or a count reaching back past what it let go failed
   * (an attempt arriving late). Not `droppedUpTo`, which also holds the routine letting go of
   * attempts kept past one window only for late ones. Set on those rare branches only.
   */
  overflowNoticed = false;
  /**
   * What the session keeps only for having been carried past a reload (`SessionStore.adopt`),
   * none for a session that never was: one field, read off the hot path (see AfterReload).
   */
  afterReload: AfterReload | undefined;
  /**
   * Whether an overflowing window's count may stand for the true one (see `windowEntriesFor`).
   * Not readonly: a session handed to an engine whose counts need more (`SessionStore.adopt`)
   * loses it, so its counts reaching back past what it dropped fail closed.
   */
  countsSaturate: boolean;
  /**
   * Per `session.called` pattern (index in `SessionUse.called`), the latest allowed times, in
   * time order (at most CALLED_TIMES_KEPT), and the latest of those let go to keep them so
   * (none: -Infinity). Made on the first allowed call of a pattern: a session that never makes
   * one costs nothing for them.
   */
  calledAt: (number[] | undefined)[] | undefined;
  calledDroppedUpTo: (number | undefined)[] | undefined;
  revoked: Revocation | undefined;
  /** The intent the session declared: the first one a valid request named (a session has one purpose). */
  intent: string | undefined;
  /**
   * The attempts answered `ask` and not yet approved, by the asked call (`askKey`: its tool
   * and declared arguments): what `Engine.approved` may approve, once each. A person may
   * approve while the agent goes on with other calls.
   */
  asked: Map<string, PendingAsk> | undefined;
  /**
   * Asks refused for want of room (`asked` full, MAX_PENDING_ASKS): none of them can be approved.
   * A count, not a flag, for an incident responder (Engine.session): added to only on that rare branch.
   */
  asksNotKept = 0;

  /**
   * When the latest attempt arrived (`SessionStore.storeTime`: the engine's clock then; in a
   * replay, the latest time recorded by then): what the sweep judges idleness by, so neither a
   * session dated far ahead nor one dated far back is kept forever or freed (and forgotten)
   * before it has been idle in real time.
   */
  storeSeen: number;

  constructor(now: number, use: SessionUse, countsSaturate = false, storeNow = now, startedAt = now) {
    this.countsSaturate = countsSaturate;
    this.firstSeen = startedAt;
    this.lastSeen = now;
    this.storeSeen = storeNow;
    if (use.labels) this.labels = new Set();
    if (use.tools) this.tools = new Set();
    if (use.windowMs > 0) this.times = [];
    if (use.windowTools) this.windowTools = [];
  }

  /**
   * Makes room for `label` among the labels the session keeps (UNDECLARED_LABEL_CHARS): always
   * for one of the label enum or a tool's `returns`; else while its characters fit, which it
   * charges. False when it does not fit: the caller marks what lost it.
   */
  roomForLabel(label: string): boolean {
    if (this.labelLimits.alwaysKept.has(label)) return true;
    if (this.labelChars + label.length + 1 > this.labelLimits.maxChars) return false;
    this.labelChars += label.length + 1;
    return true;
  }

  /** Gives back `chars` of the room `roomForLabel` charged (an ask's labels, once approved: see PendingAsk.labelChars). */
  releaseLabels(chars: number): void {
    // (Never below nothing: a reload to a policy that keeps no labels started the count afresh.)
    this.labelChars = Math.max(0, this.labelChars - chars);
  }

  /** Adds a label to `session.labels` (the session's taint), or marks the session when it finds no room (`labelsDropped`). */
  keepLabel(label: string): void {
    const labels = this.labels;
    if (labels === undefined || labels.has(label)) return;
    if (this.roomForLabel(label)) labels.add(label);
    else this.labelsDropped = true;
  }

  /**
   * Why `session.labels contains label` cannot be answered, or undefined: it is not kept, and
   * it could be one the session found no room for (it is no label the session always keeps).
   */
  labelFault(label: unknown): string | undefined {
    if (!this.labelsDropped || this.labels?.has(label as string) === true) return undefined;
    return typeof label === "string" && this.labelLimits.alwaysKept.has(label) ? undefined : LABELS_NOT_KEPT;
  }

  /** Attempts currently in the window. */
  get windowSize(): number {
    return this.times ? this.times.length - this.head : 0;
  }

  /**
   * The window's entry for an attempt at `tool`, which the policy does not declare, at `now`:
   * its name kept once (while names fit in UNDECLARED_TOOL_CHARS), else -1 (see `unnamedUpTo`).
   */
  undeclaredOrdinal(tool: string, now: number): number {
    const names = (this.undeclaredTools ??= []);
    let index = names.indexOf(tool);
    if (index < 0) {
      if (this.undeclaredChars + tool.length > UNDECLARED_TOOL_CHARS) {
        if (now > this.unnamedUpTo) this.unnamedUpTo = now;
        return -1;
      }
      this.undeclaredChars += tool.length;
      index = names.push(tool) - 1;
    }
    return -2 - index;
  }

  /**
   * Attempts of the window at or after `since` (this attempt excluded), optionally only of the
   * tools whose ordinal is set in `tools` (a mask: one array read per attempt, no hashing), and
   * of the undeclared tools whose names match `pattern` (the code of bundles built before it was
   * passed leaves it out: undeclared tools are not counted then).
   */
  countSince(since: number, tools: Uint8Array | null, pattern?: string): number {
    const times = this.times;
    if (!times) return 0;
    // Times are in order: find the first one at or after `since` by binary search. Attempts
    // that arrived out of order with a later time count too ("at most D before this one's"):
    // the stricter reading, for limits.
    let low = this.head;
    let high = times.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (times[mid]! < since) low = mid + 1;
      else high = mid;
    }
    if (tools === null) return times.length - low;
    const windowTools = this.windowTools!;
    let count = 0;
    // Whether each undeclared name matches, worked out once per count (1 yes, 2 no).
    let undeclared: Uint8Array | undefined;
    for (let i = low; i < times.length; i++) {
      const ordinal = windowTools[i]!;
      if (ordinal >= 0) {
        if (tools[ordinal] === 1) count++;
      } else if (ordinal < -1 && pattern !== undefined) {
        const index = -2 - ordinal;
        undeclared ??= new Uint8Array(this.undeclaredTools!.length);
        if (undeclared[index] === 0) undeclared[index] = globMatch(pattern, this.undeclaredTools![index]!) ? 1 : 2;
        if (undeclared[index] === 1) count++;
      }
    }
    return count;
  }

  /**
   * Why a count back to `since` would be too low, or undefined: a window that overflowed
   * maxWindowEntries, or that already let go of attempts dated before this one (which arrived
   * late), or whose attempts at undeclared tools back to `since` include one whose name it did
   * not keep (a count of `pattern`), no longer holds every attempt back to `since`; the rule
   * then fails closed. `settledBy`: for a count compared with a number, how many attempts held
   * (this one apart) settle the comparison whatever else there was. (Except a
   * count of every tool when the window is large enough for every number the policy compares
   * counts with: the count saturates above them all, so each comparison still comes out right.)
   * The generated code and the interpreter both ask this.
   */
  windowFault(since: number, tools: Uint8Array | null, pattern?: string, settledBy?: number): string | undefined {
    // (Which of the two is worked out only on a fault: an untold count costs no more than before.)
    if (since <= this.droppedUpTo && (tools !== null || !this.countsSaturate)) {
      if (this.droppedUpTo > (this.afterReload?.reloadedUpTo ?? Number.NEGATIVE_INFINITY)) {
        // (Whatever let it go, a count that fails for it is an overflow the summary must tell.)
        this.overflowNoticed = true;
        return WINDOW_OVERFLOW;
      }
      // The attempts a reload let go only add to what the window holds: when that already
      // settles the comparison (`settledBy`, see ir.countSettledAt), its answer is certain, and
      // a flood after the reload revokes as soon as the attempts held show it.
      if (settledBy === undefined || this.countSince(since, tools, pattern) < settledBy) return WINDOW_RELOADED;
    }
    if (since <= this.trimmedUpTo) return WINDOW_TRIMMED;
    if (pattern !== undefined && since <= this.unnamedUpTo) return UNDECLARED_UNNAMED;
    return undefined;
  }

  /**
   * Whether the window overflowed where a count can notice (`overflowNoticed`). Null without a
   * window. For an incident responder (Engine.session): it reads what overflows already set. What
   * a window kept at an old policy's numbers let go before a reload is not the session's
   * overflow: counts reaching back to it deny as the reload's doing (WINDOW_RELOADED).
   */
  get windowOverflowed(): boolean | null {
    return this.times === undefined ? null : this.overflowNoticed;
  }

  /** Whether an attempt at an undeclared tool found no room for its name (UNDECLARED_TOOL_CHARS); null when the window keeps no tools. */
  get undeclaredToolsUnnamed(): boolean | null {
    return this.windowTools === undefined ? null : this.unnamedUpTo > Number.NEGATIVE_INFINITY;
  }

  /**
   * Whether a count back to `since` that windowFault let through may be short of the attempts
   * made: the window let go of one dated at or after `since` (it keeps as many as the policy's
   * numbers need, which still settles each comparison). An explanation then shows the count as
   * a lower bound.
   */
  countMayBeMore(since: number): boolean {
    return since <= this.droppedUpTo;
  }

  /**
   * Whether an allowed call matching `session.called` pattern number `index` is dated in
   * [`since`, `now`]: within the window of an attempt at `now`, never after it (a precondition
   * such as `allow … when session.called(…, within 5m)` must not be met by a call dated ahead).
   * Without a window (`since` -Infinity) any allowed call so far counts, whatever its date.
   * (`now` is left out by the code of bundles built before it was passed: no upper bound.)
   */
  calledSince(index: number, since: number, now = Number.POSITIVE_INFINITY): boolean {
    const times = this.calledAt?.[index];
    if (times === undefined || times.length === 0) return false;
    if (since === Number.NEGATIVE_INFINITY) return true;
    let at = times.length - 1;
    while (at >= 0 && times[at]! > now) at--;
    return at >= 0 && times[at]! >= since;
  }

  /**
   * Why `calledSince` cannot answer for an attempt at `now`, or undefined: none of the times
   * kept falls in the window [`since`, `now`], and either one let go (to keep only the latest)
   * could, or one kept is dated after `now`. The rule then fails closed whatever its effect: an
   * `allow` gated on the call is not met, and a `deny` or `ask` on it still matches (without
   * this, a call dated a millisecond after the attempt, or a clock stepping back, would lift
   * it). `tools`: the pattern's, named in the fault. The generated code (through
   * `rt.calledFault`) and the interpreter both ask this.
   */
  calledFault(index: number, since: number, now: number, tools?: readonly string[]): string | undefined {
    // Only a kept call dated after `now` can lead to a fault: the times let go are all older than
    // those kept (the oldest goes), so with the latest kept at or before `now` either it is in
    // the window or no call is, and `calledSince` (which the caller asks next) answers exactly.
    // In order, then, the kept times are looked at once per check, not scanned twice.
    const times = this.calledAt?.[index];
    if (times === undefined || times.length === 0 || !(times[times.length - 1]! > now)) return undefined;
    if (this.calledSince(index, since, now)) return undefined;
    const dropped = this.calledDroppedUpTo?.[index];
    return dropped !== undefined && since <= dropped ? CALLED_DROPPED : calledLaterFault(tools);
  }
}

/** Adds an allowed time to a `session.called` pattern's, keeping the latest CALLED_TIMES_KEPT. */
function keepCalled(state: SessionState, index: number, patterns: number, now: number): void {
  // Allocated at their exact sizes (an empty array grown by an assignment reserves room for
  // more): a session that calls a pattern's tool once keeps one small array for it.
  const all = (state.calledAt ??= new Array<number[] | undefined>(patterns));
  const times = all[index];
  if (times === undefined) {
    all[index] = [now];
    return;
  }
  let at = times.length;
  while (at > 0 && times[at - 1]! > now) at--;
  if (times[at - 1] === now) return; // the same time twice answers nothing more
  if (at === times.length) times.push(now);
  else times.splice(at, 0, now);
  if (times.length > CALLED_TIMES_KEPT) {
    const dropped = times.shift()!;
    const droppedUpTo = (state.calledDroppedUpTo ??= new Array<number | undefined>(patterns));
    if (dropped > (droppedUpTo[index] ?? Number.NEGATIVE_INFINITY)) droppedUpTo[index] = dropped;
  }
}

/**
 * How the sessions of a policy reading them as `from` does (declaring `fromTools`) carry over
 * to one reading them as `to` (see `SessionStore.adopt`): per `session.called` pattern of `to`,
 * the patterns of `from` whose kept times make up its own; or why what a session kept cannot
 * answer `to`'s questions. A pattern's times are the allowed calls of its tools, so a pattern
 * matching the tools of several old ones (or of one, in any order) takes their latest times
 * together; a tool `from` did not declare was denied as unknown, so it has no allowed call to
 * add under `from` (calls under a policy before it: SessionState.afterReload). Anything else `to` reads must have been kept: the labels, the tools, the repeats, and
 * windows at least as long as its longest `within`.
 */
export function carryOver(from: SessionUse, fromTools: readonly string[], to: SessionUse): (readonly number[])[] | string {
  if (to.labels && !from.labels) return "it reads session.labels, which the session did not keep";
  if (to.tools && !from.tools) return "it reads session.tools, which the session did not keep";
  if (to.repeats && !from.repeats) return "it reads session.repeats, which the session did not keep";
  if (to.windowMs > from.windowMs) return `its session.count windows reach back ${describeMs(to.windowMs)}, further than the ${describeMs(from.windowMs)} the session kept attempts for`;
  if (to.windowTools && !from.windowTools) return "it counts attempts of some tools (session.count with a pattern), and the session did not keep which tool each attempt was of";
  const declared = new Set(fromTools);
  const plan: (readonly number[])[] = [];
  for (const tools of to.called) {
    const matches = new Set(tools);
    const sources = from.called.flatMap((old, index) => (old.every((tool) => matches.has(tool)) ? [index] : []));
    const covered = new Set(sources.flatMap((index) => from.called[index]!));
    const missing = tools.find((tool) => declared.has(tool) && !covered.has(tool));
    if (missing !== undefined) return `a session.called pattern now matches ${missing}, whose allowed calls the session did not keep for it`;
    plan.push(sources);
  }
  return plan;
}

/**
 * Why a session that did not keep some of its labels (`droppedLabels`) cannot go on under a
 * store keeping labels as `to`, after one keeping them as `from` (see `SessionStore.adopt`), or
 * undefined when it can. A test of a label the session does not hold fails closed unless the
 * label is one its store always keeps (SessionState.labelFault): a label the new policy always
 * keeps and the old one did not (it joined the label enum, or a tool now `returns` it) may be
 * one the session dropped, and would be taken as known absent. And code built before labels
 * were bounded (no limit: see Engine) reads `session.labels` without failing closed at all.
 */
function droppedLabelsCarry(from: LabelLimits, to: LabelLimits): string | undefined {
  if (to.maxChars === Number.POSITIVE_INFINITY) {
    return "its bundle was built before labels were bounded and reads session.labels without failing closed on labels the session did not keep, and the session did not keep some (rebuild the bundle)";
  }
  const newlyKept = [...to.alwaysKept].filter((label) => !from.alwaysKept.has(label));
  if (newlyKept.length === 0) return undefined;
  const named = newlyKept.length > 3 ? `${newlyKept.slice(0, 3).join(", ")}, …` : newlyKept.join(", ");
  return `it always keeps labels the old policy did not (${named}: members of its label enum, or labels its tools return), and the session did not keep some labels its calls carried, which could be among them`;
}

/** Whether a session did not keep some labels of its calls: of its own, or of an ask awaiting approval (which would mark it, approved). */
export function droppedLabels(state: SessionState): boolean {
  if (state.labelsDropped) return true;
  if (state.asked !== undefined) for (const pending of state.asked.values()) if (pending.labelsDropped === true) return true;
  return false;
}

/**
 * Tools whose allowed calls a session let go at a reload to a policy that did not declare them,
 * each with the labels it returned under the policy that let it go: a session that called it
 * then took them on, and `session.labels` carried them on (a policy reading them ends sessions
 * that did not keep them), so a rollback that declares it again with those labels taints no
 * session anew. None when that policy did not read `session.labels` (nothing was kept then).
 */
type ForgottenCalls = ReadonlyMap<string, readonly string[]>;

/**
 * The tools whose allowed calls a session carried past a reload to a store declaring `toTools`
 * (by name: their ordinals) may have made and no longer keeps the times of: those it let go
 * before (`forgotten`), and `lost`, the old policy's tools the new one does not declare (none of
 * its patterns can keep them) that it may have called. A tool the new policy declares
 * leaves the set: the next reload's `carryOver` asks of it as of any tool declared before.
 */
function forgottenFrom(forgotten: ForgottenCalls | undefined, lost: readonly (readonly [string, readonly string[]])[], toTools: ReadonlyMap<string, number>): ForgottenCalls | undefined {
  const after = new Map([...(forgotten ?? []), ...lost].filter(([tool]) => !toTools.has(tool)));
  return after.size === 0 ? undefined : after;
}

/**
 * Why a session cannot go on under a policy whose `session.called` patterns match `matchedAnew`
 * (tools the old policy did not declare), or undefined: one of them is a tool whose calls it let
 * go at an earlier reload (calledForgotten: a rollback to a policy that declares it again), and
 * it may have called it. Its `session.tools`, when kept, says whether it did: a policy reading
 * it ends the sessions that did not keep it, so a session keeping it kept it from its start.
 */
function forgottenCallMatched(state: SessionState, matchedAnew: ReadonlySet<string>): string | undefined {
  const forgotten = state.afterReload?.calledForgotten;
  if (forgotten === undefined) return undefined;
  for (const tool of forgotten.keys()) {
    if (!matchedAnew.has(tool) || (state.tools !== undefined && !state.tools.has(tool))) continue;
    return `a session.called pattern now matches ${tool}, whose allowed calls the session let go at an earlier reload to a policy that did not declare it`;
  }
  return undefined;
}

/** Per tool both policies declare, the labels it returns under `to` and did not under `from`. */
function returnsGained(from: ReadonlyMap<string, readonly string[]>, to: ReadonlyMap<string, readonly string[]>): (readonly [string, readonly string[]])[] {
  const gained: (readonly [string, readonly string[]])[] = [];
  for (const [tool, labels] of to) {
    const before = from.get(tool);
    const added = before === undefined ? [] : labels.filter((label) => !before.includes(label));
    if (added.length > 0) gained.push([tool, added]);
  }
  return gained;
}

/**
 * The labels a session carried over takes on because tools it called before the reload return
 * them now (`gained`; for a tool whose calls it let go at an earlier reload, calledForgotten,
 * those it returns under `toReturns` and did not when its calls were let go), or why it cannot go on: it did not keep whether it called
 * such a tool, and its `session.labels` could lack what those calls returned (fails closed).
 */
function returnsTaint(state: SessionState, fromCalled: readonly (readonly string[])[], gained: readonly (readonly [string, readonly string[]])[], toReturns: ReadonlyMap<string, readonly string[]>): string[] | string {
  const taint: string[] = [];
  // (Only those beyond what it returned when its calls were let go: a session that called it
  // holds those already.)
  const forgotten = [...(state.afterReload?.calledForgotten ?? [])].flatMap(([tool, carried]) => {
    const labels = (toReturns.get(tool) ?? []).filter((label) => !carried.includes(label));
    return labels.length > 0 ? [[tool, labels] as const] : [];
  });
  for (const [tool, labels] of [...gained, ...forgotten]) {
    const called = whetherCalled(state, tool, fromCalled);
    if (called === false) continue;
    if (called === undefined) return `${tool} now returns ${labels.join(", ")}, and the session did not keep whether it called ${tool} (session.tools, or a session.called pattern of that tool alone), so its session.labels could lack what those calls returned`;
    taint.push(...labels);
  }
  return taint;
}

/**
 * Whether a session made an allowed call of `tool` (which the old policy, reading
 * `session.called` patterns `fromCalled`, declared), or undefined when it did not keep that: its
 * `session.tools` says; else a pattern matching the tool with no time kept says it did not (every
 * allowed call of a pattern's tools keeps one), and one of that tool alone with a time that it did.
 */
function whetherCalled(state: SessionState, tool: string, fromCalled: readonly (readonly string[])[]): boolean | undefined {
  if (state.tools !== undefined) return state.tools.has(tool);
  let called: boolean | undefined;
  fromCalled.forEach((tools, index) => {
    if (!tools.includes(tool)) return;
    const times = state.calledAt?.[index];
    if (times === undefined || times.length === 0) called = false;
    else if (called === undefined && tools.every((each) => each === tool)) called = true;
  });
  return called;
}

/** Makes a session's state the one a store reading sessions as `use` keeps, given how `carryOver` carries it. */
function carryState(state: SessionState, use: SessionUse, called: readonly (readonly number[])[]): void {
  if (!use.labels) {
    state.labels = undefined;
    state.labelsDropped = false;
    state.labelChars = 0;
  }
  if (!use.tools) state.tools = undefined;
  if (!use.repeats) {
    state.lastArgs = undefined;
    state.run = 0;
  }
  if (use.windowMs === 0) state.times = undefined;
  if (!use.windowTools) {
    state.windowTools = undefined;
    state.undeclaredTools = undefined;
  }
  const oldAt = state.calledAt ?? [];
  const oldDropped = state.calledDroppedUpTo ?? [];
  state.calledAt = undefined;
  state.calledDroppedUpTo = undefined;
  called.forEach((sources, index) => {
    // The latest times of the patterns together (a time in two of them is one call).
    const times = [...new Set(sources.flatMap((old) => oldAt[old] ?? []))].sort((a, b) => a - b);
    let dropped = Math.max(Number.NEGATIVE_INFINITY, ...sources.map((old) => oldDropped[old] ?? Number.NEGATIVE_INFINITY));
    if (times.length > CALLED_TIMES_KEPT) dropped = Math.max(dropped, times[times.length - CALLED_TIMES_KEPT - 1]!);
    if (times.length > 0) (state.calledAt ??= new Array<number[] | undefined>(called.length))[index] = times.slice(-CALLED_TIMES_KEPT);
    if (dropped > Number.NEGATIVE_INFINITY) (state.calledDroppedUpTo ??= new Array<number | undefined>(called.length))[index] = dropped;
  });
}

/**
 * A session whose state was freed: it went idle for longer than the engine's `sessionIdleMs`.
 * Its later attempts are denied (with its revocation, if it was revoked), never started
 * afresh: a session that forgot the data it touched must not carry on.
 */
export interface ExpiredSession {
  /** The time of its last attempt (attempts on an expired session keep it remembered). */
  lastSeen: number;
  readonly revoked: Revocation | undefined;
  /** Why it ended, when not by going idle: a reload whose policy could not take it over. */
  readonly endedBy?: string;
  /**
   * How long it had made no attempt when it expired by going idle: by its request times (the
   * attempt that found it idle, `idleByClock` false) or by the engine's clock (the sweep). For
   * the reason, which says how far the time moved rather than claim the session sat idle: a
   * clock that stepped ahead ends a session the same way.
   */
  readonly idleFor?: number;
  readonly idleByClock?: boolean;
  /**
   * The sessionIdleMs it went idle by, when a reload handed it to a store with another one
   * (`SessionStore.adopt`): its reason says what it went idle by, not what the new store would.
   */
  readonly idleMs?: number;
  /** Set on the record of an id revoked before its first attempt (`Engine.revoke`): counted against `revokedEarlyLimit`. */
  readonly beforeStart?: true;
}

/**
 * Why a session expired, for the denial of its later attempts (`idleMs`: its store's
 * sessionIdleMs): how it ended, saying how far the time moved past its last attempt, which an
 * idle session and a clock that stepped ahead both do. `approving`: for an approval (which is
 * no attempt of the session) rather than an attempt.
 */
export function expiredBecause(gone: ExpiredSession, storeIdleMs: number, approving = false): string {
  if (gone.endedBy !== undefined) return gone.endedBy;
  const idleMs = gone.idleMs ?? storeIdleMs;
  const limit = `sessionIdleMs (${describeMs(idleMs)})`;
  if (gone.idleFor === undefined) return `it made no attempt for more than ${describeMs(idleMs)} (sessionIdleMs)`;
  if (gone.idleByClock === true) {
    return `the engine's clock (in a replay, the recorded times) moved ${roughlyAbove(gone.idleFor, idleMs)} past its last attempt with no attempt in between, so the engine freed its state (sessionIdleMs is ${describeMs(idleMs)}): it went idle, or the clock stepped ahead by that much`;
  }
  const dated = approving ? `this approval is dated ${roughlyAbove(gone.idleFor, idleMs)} after the session's last attempt` : `its attempt is dated ${roughlyAbove(gone.idleFor, idleMs)} after its previous one`;
  return `${dated} (the request's time, or the engine's clock for a request without one), more than ${limit} allows: it made no attempt in between, or the clock stepped ahead by that much`;
}

export interface SessionLifetimes {
  /** A session without an attempt for this long (ms, by its own request times) expires. Default one hour. */
  readonly idleMs?: number;
  /** How long an expired session is remembered after its last attempt. Default one day. */
  readonly expiredMs?: number;
  /** How long a revoked session is remembered after its last attempt. Default forever (language.md §5: every later attempt is denied). */
  readonly revokedMs?: number;
  /** Attempts a window keeps at most (see `DEFAULT_WINDOW_ENTRIES`). */
  readonly maxWindowEntries?: number;
  /** Whether counts of an overflowing window saturate exactly (see `windowEntriesFor`). */
  readonly countsSaturate?: boolean;
  /** Live sessions kept at most: past it a new session is refused (see `getOrCreate`). Default unbounded. */
  readonly maxSessions?: number;
  /** Which labels sessions keep (see LabelLimits). Default every label. */
  readonly labelLimits?: LabelLimits;
  /** The labels each declared tool `returns` (for a reload: see `SessionStore.adopt`). Default none. */
  readonly returns?: ReadonlyMap<string, readonly string[]>;
  /** Sessions and expired records held at most, together (default MAX_STORED_SESSIONS; smaller in tests). @internal */
  readonly storeLimit?: number;
  /**
   * Judge idleness by request times alone, never by the engine's clock (see `storeTime` and
   * `horizonAt`): a replay of recorded traffic, whose times the wall clock it runs by has
   * nothing to do with (a recording dated ahead must give the same result before and after its
   * dates). Set by src/testing only: an enforcement point goes by its clock. @internal
   */
  readonly recordedTimesOnly?: boolean;
}

const HOUR_MS = 60 * 60 * 1000;

/** How long a session lives without an attempt unless `sessionIdleMs` says otherwise. */
export const DEFAULT_SESSION_IDLE_MS = HOUR_MS;

/**
 * The expired records a sweep is to forget, ordered by when (a binary heap): a sweep takes those
 * due instead of walking every record held, which included every revoked session ever seen
 * (kept for ever by default) and made each sweep of a long replay, or of an engine running for
 * months, cost as much as all the revocations so far (a 1.3-million-line replay spent 18 of its
 * 26 s sweeping). A record kept for ever is not queued. An entry can be early (an attempt on the
 * expired session since moved its `lastSeen` on, which only grows: the sweep puts it back) or
 * stale (its record was replaced: the sweep drops it), never late, so a record is forgotten at
 * the first sweep past its time, as when every record was walked.
 */
class ForgetQueue {
  private entries: { at: number; id: string; record: ExpiredSession }[] = [];

  /** Queues `record` (kept under `id`) to be forgotten once a sweep's horizon passes `at`; one kept for ever (`at` not finite) is not queued. */
  offer(id: string, record: ExpiredSession, at: number): void {
    if (!Number.isFinite(at)) return;
    const entries = this.entries;
    let i = entries.length;
    entries.push({ at, id, record });
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (entries[parent]!.at <= at) break;
      entries[i] = entries[parent]!;
      i = parent;
    }
    entries[i] = { at, id, record };
  }

  /** The earliest entry due before `horizon` (`at < horizon`), taken out of the queue; undefined when none is. */
  takeBefore(horizon: number): { at: number; id: string; record: ExpiredSession } | undefined {
    const entries = this.entries;
    const top = entries[0];
    if (top === undefined || !(top.at < horizon)) return undefined;
    const last = entries.pop()!;
    if (entries.length > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= entries.length) break;
        const right = left + 1;
        const child = right < entries.length && entries[right]!.at < entries[left]!.at ? right : left;
        if (entries[child]!.at >= last.at) break;
        entries[i] = entries[child]!;
        i = child;
      }
      entries[i] = last;
    }
    return top;
  }

  clear(): void {
    this.entries = [];
  }
}

/** What a reload (`EngineOptions.sessionsFrom`) did to the live sessions it took over, for the operator's log. */
export interface ReloadStats {
  /** Sessions the new engine took over and holds, as `liveSessions` counts them (revoked ones with state, and idle ones not yet swept, included). */
  readonly carriedSessions: number;
  /** Of those, the sessions the reload gave a label they did not hold: a tool they called returns it now and did not then. */
  readonly taintedSessions: number;
  /** Sessions the reload ended as expired ones (the policy reads sessions differently, or dropped their intent); revoked ones apart, which stay revoked. */
  readonly endedSessions: number;
  /** Why those ended, the reason that ended the most sessions first: at most 8 reasons, each with the sessions it ended. */
  readonly endReasons: readonly { readonly reason: string; readonly sessions: number }[];
}

/** How many distinct reasons `ReloadStats.endReasons` lists: an operator's log needs the main ones. */
export const MAX_END_REASONS = 8;

/** How many of the labels a reload retired `ReloadStats.endReasons` names. */
const RETIRED_LABELS_NAMED = 3;

/**
 * Counts the sessions a reload ended, by reason. Sessions that hold labels the label enum no
 * longer has share one reason naming a few of them: such labels may be as many as the sessions
 * (agent-chosen labels of a `set<string>` now a `set<Label>`), and a reason per label would
 * cost the reload a map entry per session and tell the operator nothing.
 */
class EndReasons {
  private readonly byReason = new Map<string, number>();
  private retiredSessions = 0;
  private readonly retiredLabels: string[] = [];

  add(reason: string): void {
    this.byReason.set(reason, (this.byReason.get(reason) ?? 0) + 1);
  }

  addRetired(label: string): void {
    this.retiredSessions++;
    if (this.retiredLabels.length < RETIRED_LABELS_NAMED && !this.retiredLabels.includes(label)) this.retiredLabels.push(label);
  }

  stats(carriedSessions: number, taintedSessions: number): ReloadStats {
    const reasons = [...this.byReason].map(([reason, sessions]) => ({ reason, sessions }));
    if (this.retiredSessions > 0) {
      const named = this.retiredLabels.map((label) => JSON.stringify(label)).join(", ");
      // One label ("it") or several ("them"): one session holds one (retiredLabel), read as its decisions read it.
      const which =
        this.retiredSessions === 1 ? retiredLabelReason(this.retiredLabels[0]!)
        : this.retiredLabels.length === 1 ? `sessions hold the label ${named}, which is not a member of the label enum now (renamed or removed?), so no rule can test it and a rule meant for what it stood for would take each of them as without it`
        : `sessions hold labels that are not members of the label enum now (renamed or removed?), among them ${named}, so no rule can test them and a rule meant for what they stood for would take each session as without them`;
      reasons.push({ reason: `${RELOADED_DIFFERENTLY}${which}`, sessions: this.retiredSessions });
    }
    let endedSessions = 0;
    for (const { sessions } of reasons) endedSessions += sessions;
    const endReasons = reasons.sort((a, b) => b.sessions - a.sessions || (a.reason < b.reason ? -1 : 1)).slice(0, MAX_END_REASONS).map((entry) => Object.freeze(entry));
    // Frozen: every stats() call hands out this one object.
    return Object.freeze({ carriedSessions, taintedSessions, endedSessions, endReasons: Object.freeze(endReasons) });
  }
}

/**
 * A session store with two clocks, each ruling its own decisions:
 * - request times (`now`) decide: windows, `session.age`, and whether a session went idle
 *   between two of its own attempts (`idleAt`), so a replay decides as production did;
 * - the engine's clock, read once per attempt and passed in (`reading`), frees and forgets
 *   sessions (`storeTime`, `horizonAt`, the sweep): only real time does, so request dates can
 *   neither keep a session alive forever nor get it (or another) freed or forgotten early. In a
 *   replay (`recordedTimesOnly`) the recorded times stand for it, so a replay is the same
 *   whenever it runs; so do they when the engine's clock gives no usable time.
 */
export class SessionStore {
  private readonly sessions = new Map<string, SessionState>();
  private readonly expired = new Map<string, ExpiredSession>();
  /** The expired records a sweep is to forget, by when (see ForgetQueue): every record set in `expired` is offered to it (`remember`). */
  private readonly forgetting = new ForgetQueue();
  /**
   * Per session not yet started, its attempts without a usable time (see `undated`): denied
   * attempts its state starts with. In the order they were last counted, the longest ago first.
   * At most MAX_UNDATED_EARLY.
   */
  private readonly undatedEarly = new Map<string, number>();
  /** Per tool ordinal, the `session.called` patterns (indices) it matches. */
  private readonly patternsByOrdinal: readonly (readonly number[])[];
  /** The sweep's clock (`horizonAt`) at the last sweep. */
  private lastSweep = Number.NEGATIVE_INFINITY;
  /** When the store, full (maxSessions), last swept to make room. */
  private lastRoomSweep = Number.NEGATIVE_INFINITY;
  /**
   * The latest request time seen, capped at the engine's clock plus `futureSlackMs` (in a
   * replay, not capped): the sweep's clock in a replay, or when the engine's clock gives no
   * usable time; "now" for a request without a usable time of its own.
   */
  private latest = Number.NEGATIVE_INFINITY;

  /** The latest request time seen (capped, see `latest`): "now" for a request without a usable time of its own. */
  get latestSeen(): number {
    return this.latest;
  }
  /** See `SessionLifetimes.recordedTimesOnly`. */
  private readonly recordedTimesOnly: boolean;
  readonly idleMs: number;
  readonly expiredMs: number;
  readonly revokedMs: number;
  readonly maxWindowEntries: number;
  readonly maxSessions: number;
  private readonly storeLimit: number;
  /** Records of ids revoked before their first attempt (`beforeStart`) held at most: `maxSessions`, or MAX_REVOKED_BEFORE_START. */
  readonly revokedEarlyLimit: number;
  /** Records of ids revoked before their first attempt held now (`remember` and `forgetRecord` keep it). */
  private revokedEarly = 0;
  /** How far ahead of the engine's clock request times may move the store's (see `latest`). */
  private readonly futureSlackMs: number;
  private readonly countsSaturate: boolean;
  /** Which labels its sessions keep (see LabelLimits). */
  readonly labelLimits: LabelLimits;
  /** The labels each declared tool returns (see SessionLifetimes.returns). */
  private readonly returns: ReadonlyMap<string, readonly string[]>;

  constructor(
    readonly use: SessionUse,
    /** The declared tools, in declaration order. */
    private readonly toolNames: readonly string[],
    lifetimes: SessionLifetimes = {},
  ) {
    this.patternsByOrdinal = toolNames.map((name) => use.called.flatMap((tools, index) => (tools.includes(name) ? [index] : [])));
    this.idleMs = lifetimes.idleMs ?? DEFAULT_SESSION_IDLE_MS;
    this.expiredMs = lifetimes.expiredMs ?? 24 * HOUR_MS;
    this.revokedMs = lifetimes.revokedMs ?? Number.POSITIVE_INFINITY;
    this.maxWindowEntries = lifetimes.maxWindowEntries ?? DEFAULT_WINDOW_ENTRIES;
    this.recordedTimesOnly = lifetimes.recordedTimesOnly ?? false;
    this.countsSaturate = lifetimes.countsSaturate ?? false;
    this.maxSessions = lifetimes.maxSessions ?? Number.POSITIVE_INFINITY;
    this.storeLimit = lifetimes.storeLimit ?? MAX_STORED_SESSIONS;
    this.revokedEarlyLimit = Number.isFinite(this.maxSessions) ? this.maxSessions : MAX_REVOKED_BEFORE_START;
    this.labelLimits = lifetimes.labelLimits ?? EVERY_LABEL;
    this.returns = lifetimes.returns ?? new Map();
    // At most half the idle time: the sweep for room frees sessions idle for the idle time and
    // the slack, and a request dated ahead by the slack moves the store's clock (the sweep's
    // while the engine's clock gives no usable time), so the sweep still frees only sessions
    // idle for longer than the idle time.
    this.futureSlackMs = Math.min(FUTURE_SLACK_MS, this.idleMs / 2);
  }

  /** Live sessions (expired ones are not counted). */
  get size(): number {
    return this.sessions.size;
  }

  /** Records of expired and revoked sessions held (what `expiredMs` and `revokedMs` bound). */
  get recordCount(): number {
    return this.expired.size;
  }

  /**
   * For an operator's metrics (Engine.stats): the expired sessions' records kept (revoked ones
   * apart) and the revoked sessions remembered, live or expired. One walk over the sessions
   * held: revocations are set on the sessions themselves, which no counter follows.
   */
  census(): { expired: number; revoked: number } {
    let expired = 0;
    let revoked = 0;
    for (const state of this.sessions.values()) if (state.revoked !== undefined) revoked++;
    for (const gone of this.expired.values()) if (gone.revoked !== undefined) revoked++;
    else expired++;
    return { expired, revoked };
  }

  /** The live state of a session, if it has one (for inspection; expiry is not judged here). */
  get(id: string): SessionState | undefined {
    return this.sessions.get(id);
  }

  /**
   * Whether the store still holds anything of a session: its live state or its expired (or
   * revoked) record. Once it holds nothing, the session's next attempt starts it afresh.
   */
  holds(id: string): boolean {
    return this.sessions.has(id) || this.expired.has(id);
  }

  /**
   * Revokes session `id` from outside its attempts (`Engine.revoke`, an operator's decision),
   * keeping `revocation` where a `deny … revoke` keeps its own, so the check every attempt makes
   * first covers it: on the session's live state, else on its record (that it expired, or a new
   * one for an id not seen yet, which its first attempt finds: it never starts, and it counts
   * against `revokedEarlyLimit`, and with the sessions against the store's size limit). The id
   * is settled first as an attempt's lookup settles it (`settleFreed`, `settleExpired`); no
   * other session is touched (no sweep for room: an operator's call must not end sessions,
   * least of all when it is refused). The engine's clock `reading` starts how long it is
   * remembered (`revokedMs`, as after a revoking attempt), without moving the session's own
   * times. Returns the revocation that stood already (kept: the first one stands), "early full"
   * when `revokedEarlyLimit` new records are held already, "full" when the store is at its size
   * limit, "no time" when a new record kept for a while (`revokedMs` finite) has no time to be
   * remembered from (the engine's clock gave none, and no request came yet), or undefined once
   * revoked.
   */
  revokeFromOutside(id: string, revocation: Revocation, reading: number): Revocation | "early full" | "full" | "no time" | undefined {
    const seen = this.outsideTime(reading);
    const horizon = this.horizonAt(seen, reading);
    const state = this.liveOrSettled(id, horizon);
    if (state !== undefined) {
      if (state.revoked !== undefined) return state.revoked;
      state.revoked = revocation;
      if (seen > state.storeSeen) state.storeSeen = seen;
      return undefined;
    }
    const gone = this.expired.get(id);
    if (gone !== undefined) {
      if (gone.revoked !== undefined) return gone.revoked;
      // (A new record: the sweep's queue drops the old one's entry as replaced.)
      this.remember(id, { ...gone, lastSeen: Math.max(gone.lastSeen, seen), revoked: revocation });
      return undefined;
    }
    // (Kept for ever, a record needs no time: its first attempt's, if any, is kept from then on.)
    if (!Number.isFinite(seen) && Number.isFinite(this.revokedMs)) return "no time";
    if (this.revokedEarly >= this.revokedEarlyLimit) return "early full";
    if (this.sessions.size + this.expired.size >= this.storeLimit) return "full";
    // Its attempts without a usable time so far count in no state now.
    this.undatedEarly.delete(id);
    // (No time yet: -Infinity, which the first attempt's time replaces.)
    this.remember(id, { lastSeen: Number.isFinite(seen) ? seen : Number.NEGATIVE_INFINITY, revoked: revocation, beforeStart: true });
    return undefined;
  }

  /**
   * What the store holds of session `id`, changing nothing (`Engine.session`): its live state,
   * or once it has ended, only its record (that it expired, or was revoked before it started), as
   * the engine's clock `reading` judges them, the way `peek` does: undefined for an id the next
   * lookup would forget (or never saw), and for a live state the next lookup would free, the
   * record it would leave (whether or not a sweep has freed it yet). Not judged by request times (`idleAt`): without a request, there
   * is none to judge by, so a session idle past `idleMs` by its own times shows live until its
   * next attempt finds it expired.
   */
  inspect(id: string, reading: number): { readonly state: SessionState; readonly record?: undefined } | { readonly state?: undefined; readonly record: ExpiredSession } | undefined {
    const horizon = this.horizonAt(this.outsideTime(reading), reading);
    const state = this.sessions.get(id);
    let gone = this.expired.get(id);
    if (state !== undefined) {
      if (!this.freedBy(state, horizon, 2 * this.idleMs)) return { state };
      gone = { lastSeen: state.storeSeen, revoked: state.revoked, idleFor: horizon - state.storeSeen, idleByClock: true };
    }
    return gone === undefined || this.pastMemory(gone, horizon) ? undefined : { record: gone };
  }

  /**
   * A session's state for an attempt at `now` (the engine's clock reading `reading`), without
   * changing anything (for explanations): its live state, its expired record, or undefined for
   * a session never seen or one `getOrCreate` would forget first (see `settleFreed`: an attempt a
   * day or more after the last starts a new session, and its explanation must say what
   * deciding it does).
   */
  peek(id: string, now: number, reading: number): SessionState | ExpiredSession | undefined {
    // What `getOrCreate` makes of this session, sweep due or not (see `settleFreed`).
    const horizon = this.horizonAt(now, reading);
    const forgotten = (gone: ExpiredSession): boolean => this.pastMemory(gone, horizon);
    const state = this.sessions.get(id);
    if (state !== undefined) {
      if (this.freedBy(state, horizon, 2 * this.idleMs)) {
        const gone: ExpiredSession = { lastSeen: state.storeSeen, revoked: state.revoked, idleFor: horizon - state.storeSeen, idleByClock: true };
        return forgotten(gone) ? undefined : gone;
      }
      return this.idleAt(state, now) ? { lastSeen: state.lastSeen, revoked: state.revoked, idleFor: now - state.lastSeen, idleByClock: false } : state;
    }
    const gone = this.expired.get(id);
    return gone !== undefined && forgotten(gone) ? undefined : gone;
  }

  /**
   * The store's clock (`latest`) once an attempt at `now` has moved it: capped at the engine's
   * clock reading plus the slack, so a request dated far ahead cannot carry it there; not
   * capped in a replay (`recordedTimesOnly`), nor when the engine's clock gave no usable time.
   */
  private latestAt(now: number, reading: number): number {
    if (!(now > this.latest)) return this.latest;
    return this.recordedTimesOnly || !Number.isFinite(reading) ? now : Math.min(now, reading + this.futureSlackMs);
  }

  /**
   * The store's time of a call from outside any attempt (Engine.revoke, Engine.session), which
   * has no request time: the engine's clock reading, or in a replay, the latest time recorded
   * (the recorded times are its clock) once there is one, and without a usable reading, the
   * latest time the store has seen. (A replay's revocation before any recorded time is dated by
   * the reading, as an undated attempt there is: it is not refused for want of time.)
   */
  private outsideTime(reading: number): number {
    if (!Number.isFinite(reading)) return this.latest;
    return this.recordedTimesOnly && Number.isFinite(this.latest) ? this.latest : reading;
  }

  /**
   * The live state of `id` when the sweep's clock at `horizon` has not freed it; otherwise
   * undefined, once the id is settled as every lookup settles it (`settleFreed`, `settleExpired`),
   * so that its record, if it still has one, is in `expired`.
   */
  private liveOrSettled(id: string, horizon: number): SessionState | undefined {
    const state = this.sessions.get(id);
    if (state !== undefined) {
      if (!this.freedBy(state, horizon, 2 * this.idleMs)) return state;
      this.settleFreed(id, state, horizon);
    } else this.settleExpired(id, horizon);
    return undefined;
  }

  /**
   * The clock the sweeps judge idleness by, for an attempt at `now` arriving when the engine's
   * clock reads `reading`: that reading, so only real time frees and forgets sessions, whatever
   * the requests are dated (ahead, or days back: a host clock that lags, an agent dating its
   * calls back). After the engine's clock stepped back it is behind the sessions' arrivals, so
   * it frees none sooner than without the step. In a replay (`recordedTimesOnly`), and when the
   * engine's clock gave no usable time, the store's clock (`latestAt`) stands for it.
   */
  private horizonAt(now: number, reading: number): number {
    return !this.recordedTimesOnly && Number.isFinite(reading) ? reading : this.latestAt(now, reading);
  }

  /**
   * Whether the regular sweep is due at `horizon`: a quarter of the idle time since the last,
   * or the sweep's clock went back by as much (the engine's clock stepped back, after it stepped
   * ahead: waiting for it to catch up with the step would leave every session in memory until then).
   */
  private sweepDue(horizon: number): boolean {
    return Math.abs(horizon - this.lastSweep) > this.idleMs / 4;
  }

  /**
   * The store's time of an attempt at `now` arriving when the engine's clock reads `reading`:
   * what the sweep judges a session's idleness and an expired record's age by (`horizonAt`
   * goes by the same clock). That reading, so only real time expires and forgets a session: a
   * request dated far back cannot get its session freed and forgotten at the next sweep (its
   * taint, counts and revocation lost, its id starting afresh), nor one dated ahead keep it.
   * In a replay (`recordedTimesOnly`) the recorded times are the clock: an attempt arrives at
   * the latest time recorded so far, whatever its own date. (With no usable reading of the
   * engine's clock, its date alone, capped at the store's clock.) Call after `observe`.
   */
  private storeTime(now: number, reading: number): number {
    if (this.recordedTimesOnly) return this.latest;
    return Number.isFinite(reading) ? reading : Math.min(now, this.latest);
  }

  /**
   * Moves the store's clock to an attempt at `now` (see `latestAt`) and sweeps when a sweep is
   * due: what every attempt does first, whichever session it is of. `reading` is the engine's
   * clock read once for the attempt (NaN when it gave no usable time, or a replay did not read it).
   */
  observe(now: number, reading: number): void {
    // (peek works this out without changing anything, for explanations: keep the two alike.)
    this.latest = this.latestAt(now, reading);
    const horizon = this.horizonAt(now, reading);
    if (this.sweepDue(horizon)) this.sweep(horizon);
  }

  /**
   * The state for an attempt at `now` (the engine's clock reading `reading`, see `observe`):
   * the live one, a new one, or the record of an expired session; null when a new session would
   * exceed `maxSessions` even after a sweep (refused, never made room for by forgetting another
   * session's state).
   */
  getOrCreate(id: string, now: number, reading: number): SessionState | ExpiredSession | null {
    this.observe(now, reading);
    const state = this.liveOrSettled(id, this.horizonAt(now, reading));
    // Expiry is judged by the session's own clock, so one session's traffic does not change
    // another's decisions (and replaying sessions apart gives the same answers).
    if (state !== undefined) return this.idleAt(state, now) ? this.expire(id, state, this.storeTime(now, reading), now - state.lastSeen, false) : state;
    // An expired (or revoked) session stays denied until the engine's clock forgets it (`settleFreed`,
    // or the sweep): never by a request's own time, which the agent's side could date ahead to
    // get a clean session.
    const gone = this.expired.get(id);
    if (gone !== undefined) {
      // Each denied attempt keeps the record for expiredSessionMs more ("after its last
      // attempt"), by the store's time: attempts dated far ahead cannot keep it forever.
      const seen = this.storeTime(now, reading);
      if (seen > gone.lastSeen) gone.lastSeen = seen;
      return gone;
    }
    if (this.full()) {
      // Full: sweep for sessions gone idle, but at most once a second of the sweep's clock, so
      // a flood of new session ids cannot make every attempt walk every session (and again at
      // once when the clock went back, or it would wait for the clock to catch up).
      // (Every session idle longer than sessionIdleMs goes, not only those idle for twice it:
      // room for a new session outweighs the margin kept for merged logs out of order.)
      this.sweepForRoom(this.horizonAt(now, reading));
      if (this.full()) return null;
    }
    const fresh = this.startState(id, now, reading);
    this.undatedEarly.delete(id);
    this.sessions.set(id, fresh);
    return fresh;
  }

  /**
   * What a sweep at `horizon` would make of session `id` alone, whether or not one is due: its
   * live state, which `freedBy` frees once idle for twice the idle time, kept as an expired
   * record (or dropped once past its memory, `pastMemory`), and below, a record forgotten once
   * past its memory. Run on every lookup (getOrCreate, which tests `freedBy` itself to look the
   * session up once; peek judges alike without changing anything), so whether an attempt on
   * an id long idle or expired starts a new session goes by the engine's clock alone, not by
   * whether another session's attempt happened to run the sweep shortly before (which would
   * leave the record to be found, its memory extended by this attempt, and the id denied for
   * another expiredSessionMs).
   */
  private settleFreed(id: string, state: SessionState, horizon: number): void {
    if (this.pastMemory({ lastSeen: state.storeSeen, revoked: state.revoked }, horizon)) this.sessions.delete(id);
    else this.expire(id, state, state.storeSeen, horizon - state.storeSeen, true);
  }

  /** `settleFreed` for an id with no live state: its expired record is forgotten once past its memory. */
  private settleExpired(id: string, horizon: number): void {
    const gone = this.expired.get(id);
    // (Its entry in the sweep's queue stays: the sweep skips a record no longer kept.)
    if (gone !== undefined && this.pastMemory(gone, horizon)) this.forgetRecord(id, gone);
  }

  /**
   * Where and when to count an attempt that has no usable time of its own (an unreadable or
   * skewed `time`, a broken engine clock, no `tool`): in its live session at that session's
   * latest attempt time. It moves no clock: the sweep's, another session's expiry, the
   * session's own `session.age` and idle time all stay as they were, and a replay counts it
   * alike (the engine's clock, the wall clock there, would not). A session it would start has no
   * time to start at (dated at another session's time, it would start old: `session.age`
   * already past a `deny … when session.age < 10m`, its probes outside every window): it is
   * counted here, as a denied attempt the session starts with once a dated attempt starts it
   * (`undatedEarly`), and undefined returned; so it is when there is nothing to count it in (an
   * expired or revoked record, a full store).
   */
  undated(id: string): { state: SessionState; now: number } | undefined {
    const live = this.sessions.get(id);
    if (live !== undefined) return { state: live, now: live.lastSeen };
    if (this.expired.has(id) || this.full()) return undefined;
    const early = this.undatedEarly.get(id) ?? 0;
    // Full: the count made longest ago goes, so a new session's attempts are always counted.
    if (early === 0 && this.undatedEarly.size >= MAX_UNDATED_EARLY) this.undatedEarly.delete(this.undatedEarly.keys().next().value!);
    // Moved to the end: the map stays in the order counts were last made.
    this.undatedEarly.delete(id);
    this.undatedEarly.set(id, early + 1);
    return undefined;
  }

  /**
   * The state a new session starts with for an attempt at `now` (the engine's clock reading
   * `reading`), kept nowhere (`getOrCreate` keeps it; an explanation shows it): with the
   * attempts without a usable time it made before (see `undated`), however long before: they
   * have no time to be judged old by. It starts (`session.age` counts from) at the clock's
   * reading, whatever the attempt is dated: a first attempt dated back must not make the session
   * old at once (opening a `deny … when session.age < 10m`), nor one dated ahead hold
   * `session.age` at 0 while the session goes on in real time (`deny * when session.age > 1h`
   * never firing). In a replay, or without a usable reading, at its date.
   */
  startState(id: string, now: number, reading: number): SessionState {
    const startedAt = !this.recordedTimesOnly && Number.isFinite(reading) ? reading : now;
    const fresh = new SessionState(now, this.use, this.countsSaturate, this.storeTime(now, reading), startedAt);
    fresh.labelLimits = this.labelLimits;
    const early = this.undatedEarly.get(id);
    if (early !== undefined) fresh.calls = fresh.denials = early;
    return fresh;
  }

  /** Whether a new session must wait for room: `maxSessions` live ones, or the store at its size limit (or its sessions gone to another store). */
  private full(): boolean {
    return this.handedOver || this.sessions.size >= this.maxSessions || this.sessions.size + this.expired.size >= this.storeLimit;
  }

  /**
   * Why a new session is refused (see `getOrCreate`): which limit the store has reached, when
   * it makes room (what the sweep for room frees), and which option makes room sooner.
   */
  get fullBecause(): string {
    if (this.sessions.size >= this.maxSessions) {
      // More than maxSessions when a reload lowered it: the sessions carried over are all kept.
      const live = this.sessions.size;
      const count = live === this.maxSessions ? `${live} live session${live === 1 ? "" : "s"} (maxSessions)` : `${live} live sessions, more than maxSessions (${this.maxSessions}) since a reload lowered it (the sessions it carried over are kept)`;
      return `the engine already holds ${count}, and makes room only once a session has made no attempt for more than ${describeMs(this.idleMs + this.futureSlackMs)} by its clock (sessionIdleMs, ${describeMs(this.idleMs)}, and a margin of ${describeMs(this.futureSlackMs)}), looking for one at most once a second of that clock: raise maxSessions, or lower sessionIdleMs`;
    }
    return this.storeFullBecause;
  }

  /** Why the store takes no new session or record: it is at its size limit (see `fullBecause`). */
  get storeFullBecause(): string {
    return `the engine already holds ${this.storeLimit.toLocaleString("en-US")} live, expired and revoked sessions, as many as it can keep, and makes room only as expired and revoked sessions are forgotten (expiredSessionMs and revokedSessionMs after their last attempt): lower those`;
  }

  /** Why an id not seen yet cannot be revoked (`revokeFromOutside`'s "early full"): as many are held as `revokedEarlyLimit` allows. */
  get revokedEarlyFullBecause(): string {
    const limit = this.revokedEarlyLimit.toLocaleString("en-US");
    const which = Number.isFinite(this.maxSessions) ? `maxSessions, ${limit}` : `${limit} without maxSessions`;
    const kept = Number.isFinite(this.revokedMs) ? `forgets them ${describeMs(this.revokedMs)} after their last attempt (revokedSessionMs)` : "keeps them for ever (revokedSessionMs)";
    return `the engine already holds ${this.revokedEarly.toLocaleString("en-US")} sessions revoked before their first attempt, as many as it keeps (${which}), and ${kept}: revoke sessions once they have started, raise maxSessions, or lower revokedSessionMs`;
  }

  /**
   * Whether `getOrCreate` would start a new session for an attempt at `now` (the engine's
   * clock reading `reading`), changing nothing (for explanations): room to spare, or room the
   * sweep of a full store would make.
   */
  wouldAdmit(now: number, reading: number): boolean {
    if (!this.full()) return true;
    if (this.handedOver) return false;
    const horizon = this.horizonAt(now, reading);
    // What `getOrCreate` would sweep first: the sweep for room when its once-a-second allows,
    // else the regular sweep when it is due (it frees less: sessions idle for twice the idle
    // time, where the sweep for room frees those idle for the idle time and the slack).
    const idleFor = !(Math.abs(horizon - this.lastRoomSweep) < 1000) ? this.idleMs + this.futureSlackMs : this.sweepDue(horizon) ? 2 * this.idleMs : undefined;
    if (idleFor === undefined) return false;
    // Idle sessions make live room and become expired records; records past their time
    // (those just made included) make room in the store as a whole.
    let live = this.sessions.size;
    let stored = this.sessions.size + this.expired.size;
    for (const state of this.sessions.values()) {
      if (!this.freedBy(state, horizon, idleFor)) continue;
      live--;
      if (this.pastMemory({ lastSeen: state.storeSeen, revoked: state.revoked }, horizon)) stored--;
    }
    for (const gone of this.expired.values()) if (this.pastMemory(gone, horizon)) stored--;
    return live < this.maxSessions && stored < this.storeLimit;
  }

  /** Whether a live session has gone idle by an attempt at `now` (its own clock). */
  private idleAt(state: SessionState, now: number): boolean {
    return now - state.lastSeen > this.idleMs;
  }

  /**
   * Frees a session's state, keeping the record that it expired (and any revocation): the
   * record is written first, so a failure to write it leaves the session as it was, never gone.
   */
  private expire(id: string, state: SessionState, lastSeen: number, idleFor: number, idleByClock: boolean): ExpiredSession {
    const gone: ExpiredSession = { lastSeen, revoked: state.revoked, idleFor, idleByClock };
    this.remember(id, gone);
    this.sessions.delete(id);
    return gone;
  }

  /**
   * Whether a sweep at `horizon` forgets an expired record: `revokedMs` (a revoked one) or
   * `expiredMs` have passed since its last attempt, by the store's clock. Each option alone
   * says how long its records are kept, so an operator bounds the memory of revoked sessions by
   * `revokedSessionMs`, shorter than `expiredSessionMs` or not.
   */
  private pastMemory(gone: Pick<ExpiredSession, "lastSeen" | "revoked">, horizon: number): boolean {
    return horizon - gone.lastSeen > (gone.revoked ? this.revokedMs : this.expiredMs);
  }

  /**
   * Whether a sweep at `horizon` freeing sessions idle for more than `idleFor` frees `state`:
   * also a revoked one that `revokedMs` would forget by then (shorter than `idleFor`), so a
   * revoked session is gone once `revokedSessionMs` have passed, its full state included.
   */
  private freedBy(state: SessionState, horizon: number, idleFor: number): boolean {
    const idle = horizon - state.storeSeen;
    return idle > idleFor || (state.revoked !== undefined && idle > this.revokedMs);
  }

  /**
   * Frees the state of sessions idle at `horizon` (the sweep's clock, see `horizonAt`) for more
   * than `idleFor`, by default twice the idle time, keeping only the record that they expired;
   * forgets expired records past their time. The margin of one more idle time keeps decisions
   * the same when requests of different sessions arrive somewhat out of time order (merged
   * logs, replays on several threads). Runs at most every quarter of the idle time (`sweepDue`).
   */
  sweep(horizon: number, idleFor = 2 * this.idleMs): void {
    this.lastSweep = horizon;
    for (const [id, state] of this.sessions) if (this.freedBy(state, horizon, idleFor)) this.expire(id, state, state.storeSeen, horizon - state.storeSeen, true);
    // Records due by the queue, each forgotten as `pastMemory` says; one not past it yet (an
    // attempt since kept it remembered) goes back into the queue once the due ones are taken.
    const notYet: { id: string; record: ExpiredSession }[] = [];
    for (let due = this.forgetting.takeBefore(horizon); due !== undefined; due = this.forgetting.takeBefore(horizon)) {
      if (this.expired.get(due.id) !== due.record) continue; // replaced since
      if (this.pastMemory(due.record, horizon)) this.forgetRecord(due.id, due.record);
      else notYet.push(due);
    }
    for (const { id, record } of notYet) this.forgetting.offer(id, record, this.forgetAt(record));
  }

  /**
   * The sweep of a full store for room for a new session (`getOrCreate`; never for an
   * operator's revocation, which must not end other sessions): every session idle for longer
   * than the idle time and the slack is freed, at most once a second of the sweep's clock
   * (`horizon`), so a flood of new ids cannot make every attempt walk every session (and again
   * at once when that clock went back).
   */
  private sweepForRoom(horizon: number): void {
    if (Math.abs(horizon - this.lastRoomSweep) < 1000) return;
    this.lastRoomSweep = horizon;
    this.sweep(horizon, this.idleMs + this.futureSlackMs);
  }

  /** Keeps the record of an expired session, and offers it to the sweep's queue (`forgetting`). */
  private remember(id: string, gone: ExpiredSession): void {
    const replaced = this.expired.get(id);
    if (replaced?.beforeStart) this.revokedEarly--;
    if (gone.beforeStart) this.revokedEarly++;
    this.expired.set(id, gone);
    this.forgetting.offer(id, gone, this.forgetAt(gone));
  }

  /** Forgets the record `gone` of session `id` (`settleExpired`, the sweep). */
  private forgetRecord(id: string, gone: ExpiredSession): void {
    if (gone.beforeStart) this.revokedEarly--;
    this.expired.delete(id);
  }

  /**
   * From when a sweep may forget `gone` (`pastMemory` decides), as its last attempt stands now:
   * a little before its time — a millisecond, or a few units in the last place of times so
   * large that a millisecond is lost in rounding (a clock giving nanoseconds) — so the queue is
   * never late (early is harmless); Infinity for a record kept for ever.
   */
  private forgetAt(gone: ExpiredSession): number {
    const due = gone.lastSeen + (gone.revoked ? this.revokedMs : this.expiredMs);
    return due - Math.max(1, Math.abs(due) * 2 ** -48);
  }

  clear(): void {
    this.sessions.clear();
    this.expired.clear();
    this.revokedEarly = 0;
    this.forgetting.clear();
    this.undatedEarly.clear();
  }

  /** Set once this store's sessions went to another store (`adopt`): it refuses every attempt from then on. */
  private handedOver = false;

  /** Whether this store's sessions went to another store (see `adopt`). */
  get retired(): boolean {
    return this.handedOver;
  }

  /**
   * Takes over every session of `from` (another engine's store, of the policy before a reload),
   * which refuses every attempt from then on, so a call still in flight on the old engine is
   * denied rather than decided against a session that is no longer there. Sessions keep their
   * state when what they kept answers every question this policy asks of sessions (see
   * `carryOver`: the order of rules, declarations and patterns never matters, and a tool the old
   * policy did not declare had no allowed call to keep; a tool's attempts in a window follow it
   * by name, wherever it is now declared; a tool that now returns a label taints the sessions that
   * called it). When it cannot (a longer `session.count` window, a `session.called` pattern that
   * now matches a tool whose calls were not kept, here or at an earlier reload (calledForgotten),
   * a tool now returning a label when the session did not keep whether it called it, …) each live
   * session ends as an expired one, with that reason, so its later attempts are denied and the
   * agent starts a new session; so does a session `fits` refuses (one that declared an intent
   * the new policy no longer has). Revocations and expired records are kept either way.
   */
  adopt(from: SessionStore, fits: (state: SessionState) => boolean = () => true): ReloadStats {
    let carriedSessions = 0;
    let taintedSessions = 0;
    const ended = new EndReasons();
    const carry = carryOver(from.use, from.toolNames, this.use);
    const labelsUnanswered = this.use.labels ? droppedLabelsCarry(from.labelLimits, this.labelLimits) : undefined;
    const ordinal = new Map(this.toolNames.map((name, i) => [name, i]));
    const moved = from.toolNames.map((name) => ordinal.get(name) ?? -1);
    const renumber = moved.some((to, i) => to !== i);
    // The old windows kept fewer attempts than this policy's counts need (a larger number).
    const windowShort = from.maxWindowEntries < this.maxWindowEntries;
    const declaredBefore = new Set(from.toolNames);
    // Tools this policy's `session.called` patterns match that the old policy did not declare:
    // a session that called one under a policy before it let those calls go (calledForgotten).
    const matchedAnew = new Set(this.use.called.flat().filter((tool) => !declaredBefore.has(tool)));
    // Labels tools return now that they did not under the old policy: the calls made before the
    // reload brought them too (only asked when this policy reads session.labels).
    const gained = this.use.labels ? returnsGained(from.returns, this.returns) : [];
    // The old policy's tools this one does not declare: their calls' times go (calledForgotten).
    // With the labels each returned, which sessions that called it took on (only kept when the
    // old policy read session.labels).
    const undeclaredNow = from.toolNames.filter((tool) => !ordinal.has(tool));
    const returnedBy = new Map(undeclaredNow.map((tool) => [tool, from.use.labels ? (from.returns.get(tool) ?? []) : []]));
    // Sessions carried alike share one map (by the map they had and the tools added to it).
    const forgottenAfter = new Map<ForgottenCalls | undefined, Map<string, ForgottenCalls | undefined>>();
    // One AfterReload per map for the sessions with no reloadedUpTo of their own.
    const afterReloads = new Map<ForgottenCalls, AfterReload>();
    const sharedRecord = (calledForgotten: ForgottenCalls): AfterReload => {
      let record = afterReloads.get(calledForgotten);
      if (record === undefined) afterReloads.set(calledForgotten, (record = { reloadedUpTo: Number.NEGATIVE_INFINITY, calledForgotten }));
      return record;
    };
    // A record that went idle under another sessionIdleMs keeps it, for its reason (only then:
    // a record costs no more for a reload that keeps the idle time).
    for (const [id, gone] of from.expired) this.remember(id, gone.endedBy !== undefined || gone.idleMs !== undefined || from.idleMs === this.idleMs ? gone : { ...gone, idleMs: from.idleMs });
    // The counts of sessions not started yet go on counting here.
    for (const [id, early] of from.undatedEarly) this.undatedEarly.set(id, early);
    for (const [id, state] of from.sessions) {
      const labelsLost = typeof carry === "string" || !droppedLabels(state) ? undefined : labelsUnanswered;
      const forgottenMatched = typeof carry === "string" ? undefined : forgottenCallMatched(state, matchedAnew);
      const taint = typeof carry === "string" || !this.use.labels ? [] : returnsTaint(state, from.use.called, gained, this.returns);
      const retired = typeof carry === "string" || !this.use.labels ? undefined : retiredLabel(state, this.labelLimits);
      const endedForLabel = typeof carry !== "string" && labelsLost === undefined && forgottenMatched === undefined ? retired : undefined;
      const differently = typeof carry === "string" ? carry : (labelsLost ?? forgottenMatched ?? (endedForLabel !== undefined ? retiredLabelReason(endedForLabel) : typeof taint === "string" ? taint : undefined));
      if (typeof carry === "string" || differently !== undefined || !fits(state)) {
        const endedBy = differently !== undefined ? `${RELOADED_DIFFERENTLY}${differently}` : "the policy was reloaded without the intent it declared";
        this.remember(id, { lastSeen: state.storeSeen, revoked: state.revoked, endedBy });
        // (A revoked session stays revoked: the reload ended nothing of it.)
        if (state.revoked === undefined) {
          if (endedForLabel !== undefined) ended.addRetired(endedForLabel);
          else ended.add(endedBy);
        }
        continue;
      }
      // A window the old engine kept shorter (N + 1 attempts for its `> N`) cannot stand for this
      // policy's counts (a larger number, or one compared with something else). What it let go
      // so far is the reload's doing, not the session's: counts reaching back to it deny without
      // revoking (WINDOW_RELOADED); what an overflow drops from now on is the session's again.
      const losesSaturation = state.countsSaturate && !(this.countsSaturate && !windowShort);
      if (losesSaturation) state.countsSaturate = false;
      // (Worth keeping only while nothing was dropped after it: droppedUpTo only grows.)
      const upTo = losesSaturation || windowShort ? state.droppedUpTo : (state.afterReload?.reloadedUpTo ?? Number.NEGATIVE_INFINITY);
      const reloadedUpTo = upTo >= state.droppedUpTo ? upTo : Number.NEGATIVE_INFINITY;
      // (Only the tools it may have called: a pattern of the old policy may say it did not. Asked
      // before its times are carried over to the new policy's patterns.)
      const lost = undeclaredNow.filter((tool) => whetherCalled(state, tool, from.use.called) !== false);
      const tools = state.windowTools;
      // A tool the new policy no longer declares is kept by name, as an undeclared one is.
      if (renumber && tools) for (let i = state.head; i < tools.length; i++) if (tools[i]! >= 0) tools[i] = moved[tools[i]!]! >= 0 ? moved[tools[i]!]! : state.undeclaredOrdinal(from.toolNames[tools[i]!]!, state.times![i]!);
      carryState(state, this.use, carry);
      // Labels the new policy always keeps and the old one counted stay counted: the room only
      // shrinks. A session that dropped labels got here only if the new policy always keeps no
      // label the old one did not (droppedLabelsCarry), so none it dropped is taken as known absent.
      state.labelLimits = this.labelLimits;
      // (Always kept: a tool's `returns` labels never need room.)
      if (typeof taint !== "string") {
        // (Tainted: it took on a label it did not hold, not one its calls or context brought already.)
        if (taint.some((label) => state.labels === undefined || !state.labels.has(label))) taintedSessions++;
        for (const label of taint) state.keepLabel(label);
      }
      carriedSessions++;
      let forgotten = state.afterReload?.calledForgotten;
      if (forgotten !== undefined || undeclaredNow.length > 0) {
        const alike = forgottenAfter.get(forgotten) ?? new Map<string, ForgottenCalls | undefined>();
        forgottenAfter.set(forgotten, alike);
        const key = lost.join("\n");
        if (!alike.has(key)) alike.set(key, forgottenFrom(forgotten, lost.map((tool) => [tool, returnedBy.get(tool)!] as const), ordinal));
        forgotten = alike.get(key);
      }
      state.afterReload = reloadedUpTo !== Number.NEGATIVE_INFINITY ? { reloadedUpTo, calledForgotten: forgotten } : forgotten === undefined ? undefined : sharedRecord(forgotten);
      this.sessions.set(id, state);
    }
    this.latest = Math.max(this.latest, from.latest);
    this.lastSweep = Math.max(this.lastSweep, from.lastSweep);
    from.sessions.clear();
    from.expired.clear();
    from.revokedEarly = 0;
    from.forgetting.clear();
    from.undatedEarly.clear();
    from.handedOver = true;
    return ended.stats(carriedSessions, taintedSessions);
  }

  /**
   * Records an attempt at `now` (the engine's clock reading `reading`, as given to
   * `getOrCreate`) after its decision: counted always; on allow, its tool and labels join
   * the session; a denial is counted; windows drop entries older than the longest `within`.
   * `toolOrdinal` is the tool's position among the declared tools (-1 for an unknown tool): the
   * engine knows it, so recording costs no lookup by name (but for an unknown tool, whose name
   * the window keeps when a count has a pattern).
   */
  record(state: SessionState, now: number, reading: number, tool: string, toolOrdinal: number, same: boolean | undefined, args: unknown, allowed: boolean, denied: boolean, labels: readonly string[] | undefined, returns: readonly string[] | undefined): void {
    // No clock is read here: the engine read it once, before the session changed (a clock that
    // throws half-way would leave the attempt counted but out of its window).
    state.calls++;
    this.seenAt(state, now, reading);
    if (denied) state.denials++;
    state.lastTool = toolOrdinal >= 0 ? this.toolNames[toolOrdinal]! : tool.length <= UNDECLARED_TOOL_CHARS ? tool : undefined;
    // `same` is undefined when the policy never reads `session.repeats`.
    if (same !== undefined) {
      if (same) state.run++;
      else {
        state.lastArgs = args;
        state.run = 1;
      }
    }
    const times = state.times;
    if (times) this.addToWindow(state, times, now, toolOrdinal < 0 && state.windowTools ? state.undeclaredOrdinal(tool, now) : toolOrdinal);
    if (allowed) this.ran(state, now, tool, toolOrdinal, labels, returns);
  }

  /**
   * Moves the session's latest time to `now` (and the store's, by the reading): what an attempt
   * does, and a revocation made by an approval, which is no attempt, so that how long the
   * revoked session is remembered (`revokedMs`) counts from the revocation, not from an attempt
   * made long before it.
   */
  seenAt(state: SessionState, now: number, reading: number): void {
    const arrived = this.storeTime(now, reading);
    if (now > state.lastSeen) state.lastSeen = now;
    if (arrived > state.storeSeen) state.storeSeen = arrived;
  }

  /**
   * A call that went ahead (allowed, or asked and approved): its tool joins `session.tools` and
   * `session.called`, and its data (`context.labels`, the tool's `returns`) the session's labels.
   */
  ran(state: SessionState, now: number, tool: string, toolOrdinal: number, sent: readonly string[] | undefined, returns: readonly string[] | undefined): void {
    // `sent`: the call's `context.labels` (labelsOf), read by the caller before anything
    // changed: request data that throws on reading (a proxy) must leave the session as it was,
    // never marked as having called the tool without the tool's taint.
    state.tools?.add(tool);
    // The latest allowed times per pattern, in time order whatever order the attempts arrive in.
    for (const index of this.patternsByOrdinal[toolOrdinal] ?? []) keepCalled(state, index, this.use.called.length, now);
    if (!state.labels) return;
    if (sent) for (const label of sent) state.keepLabel(label);
    if (returns) for (const label of returns) state.keepLabel(label);
  }

  /** Adds an attempt to the window, after dropping the attempts older than the longest `within`. */
  private addToWindow(state: SessionState, times: number[], now: number, toolOrdinal: number): void {
    // Kept for twice the longest window: an attempt that arrives late, dated up to one window
    // before the newest, still finds every attempt it must count.
    const horizon = now - 2 * this.use.windowMs;
    const tools = state.windowTools;
    let head = state.head;
    while (head < times.length && times[head]! < horizon) head++;
    if (head > state.head) state.trimmedUpTo = Math.max(state.trimmedUpTo, times[head - 1]!);
    if (times.length - head >= this.maxWindowEntries) {
      const keep = this.maxWindowEntries - 1;
      const dropped = times[times.length - keep - 1]!;
      state.droppedUpTo = Math.max(state.droppedUpTo, dropped);
      // Kept for two windows, the window routinely lets go of attempts older than one: only one
      // inside the window of the attempt made now is an overflow its counts can notice.
      if (dropped >= now - this.use.windowMs && (tools !== undefined || !state.countsSaturate)) state.overflowNoticed = true;
      head = times.length - keep;
    }
    // Compact once the dead prefix is as long as the live part: amortized O(1) per attempt.
    if (head > 0 && head * 2 >= times.length) {
      times.splice(0, head);
      tools?.splice(0, head);
      head = 0;
    }
    // Kept in time order, which `countSince` relies on: an attempt whose time is earlier than
    // the last one's (clock skew, concurrent calls) is inserted in place, not appended, or the
    // attempts after it would fall out of the count. Its place (after every attempt at or
    // before `now`) is found by binary search, and it is spliced in there (a move of the
    // attempts after it in memory, about 10 µs for 100,000), or written into the free slot
    // before the window when it is dated before them all. A scan from the end made every
    // attempt dated a little before the last (a millisecond each, within maxTimeSkewMs) read
    // the whole window: 35–300 µs a decision at 100,000–300,000 attempts (audit s19 a3 #5).
    const end = times.length;
    if (end === head || times[end - 1]! <= now) {
      state.head = head;
      times.push(now);
      tools?.push(toolOrdinal);
      return;
    }
    const at = firstAfter(times, head, end, now);
    if (at === head) {
      if (head === 0) head = makeRoomBefore(state, times, tools);
      state.times![head - 1] = now;
      if (state.windowTools) state.windowTools[head - 1] = toolOrdinal;
      state.head = head - 1;
      return;
    }
    state.head = head;
    times.splice(at, 0, now);
    tools?.splice(at, 0, toolOrdinal);
  }
}

/** The first index in [`low`, `high`) of sorted `times` holding a time after `now` (`high` if none). */
function firstAfter(times: readonly number[], low: number, high: number, now: number): number {
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (times[mid]! <= now) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Puts free slots before a session's window (which starts at index 0), half its length (at
 * least one), for attempts dated before all of it: each then costs one write, and the copy
 * made here is amortized over the half-length of them it makes room for. Half, so that the
 * compaction of addToWindow (once the room before the window is as long as the window) does
 * not take the room straight back. Returns where the window starts now.
 */
function makeRoomBefore(state: SessionState, times: number[], tools: number[] | undefined): number {
  const room: number[] = [];
  // Pushed (not `new Array(n)`), so the copies stay packed arrays; what the room holds is never read.
  for (let i = Math.max(1, times.length >> 1); i > 0; i--) room.push(0);
  state.times = room.concat(times);
  if (tools) state.windowTools = room.concat(tools);
  return room.length;
}
