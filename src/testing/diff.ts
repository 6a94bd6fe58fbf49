import { INPUT_CODES } from "./inputCodes.js";
import type { Decision } from "../runtime/decision.js";
import type { CompiledPolicy, RuleInfo } from "../runtime/policy.js";
import { describeReadError, readRecordingBatches } from "./readRecording.js";
import { runShares, threadsFor } from "./parallel.js";
import { observeMalformed, shareFilter, type Share } from "./sessionOfLine.js";
import { keepShareErrors, lineError, lineErrorKeeper, MAX_NOTES_PER_FILE, type ErrorsLeftOut, type ReplayError, type ReplayNote } from "./replay.js";
import { RepeatedLines, repeatedLineNote } from "./repeatedLines.js";
import { decideRecorded, engineOptions, PassedOverLines, replayEngine, revokeRecorded, type RecordedEngineOptions } from "./decideRecorded.js";
import { recordingPath, recordingSource } from "./recordingSource.js";
import { grantsOf, sameGrants } from "./grants.js";
import { asNewIds, declarationChangeRead, inputsOf, matchRules, returnsChangedTools, revokingRuleOf, ruleCauseOf, SessionPart, sessionPartsChangedBy, staleBundleCauses, type RuleVersions } from "./diffCauses.js";
import { SessionChanges, type SessionChange } from "./diffSessions.js";
import { labelsOf } from "../runtime/session.js";
import { noteRefusalKinds, refusalDetail, refusalKindOf } from "../runtime/refusal.js";
import { isSessionPlaceholder, sessionLabel, toolLabel } from "./shortRequest.js";

/**
 * What of a decision changed, the first that applies. `effect`: allow, ask or deny. With the
 * same effect: `grants`, the credentials an allow hands out, or an ask once a person approves it
 * (`grantsOnApproval`), compared as a set of scope and lifetime: widening one is a loosening as
 * real as deny→allow; `revoke`, whether the session is
 * revoked. Those change what the enforcement point does, so they are always reported.
 * `rules` (other rules decide), `reason` (one of the same rules gives another reason) and `reason order`
 * (the same rules' reasons in another order, so joined into another text) change only what the
 * decision log and the caller are told; they are reported when asked for, since a renamed
 * rule, or a second deny that now also matches, changes every line it decides.
 */
export type ChangedPart = "effect" | "grants" | "revoke" | "rules" | "reason" | "reason order";

/** One recorded request whose decision differs between the two policy versions. */
export interface DecisionChange {
  readonly file: string;
  readonly line: number;
  readonly session: string;
  /** The line's tool, or what a logged refusal that named none had instead (`toolLabel`). */
  readonly tool: string;
  readonly before: Decision;
  readonly after: Decision;
  /** What of the decision changed: its effect, or with the same effect its grants, revocation, rules or reasons. */
  readonly changed: ChangedPart;
  /** `allow→deny` and so on; a change with the same effect names what changed: `allow→allow (grants)`. */
  readonly direction: string;
  /**
   * What the change is attributed to: a rule defined differently in the two versions (`~id`), a
   * rule that now decides (`+id`) or no longer does (`-id`), or one of the causes that are no
   * rule (`invalid request in NEW`, `~tool NAME`, …; see attributionOf).
   */
  readonly cause: string;
  /**
   * Set when the rule that decides on one side only (`rule`: `+id` or `-id`) is defined the same
   * in both versions, so that the change is its inputs': with `line`, the latest earlier change of
   * the session (in the same file) that altered a part of its state the deciding rules read,
   * whose cause `cause` is; without, the tool's declaration (`~tool NAME`).
   */
  readonly via?: { readonly rule: string; readonly line?: number };
  /**
   * When NEW's engine refused the line before any rule ran (refusalKindOf): the refusal's detail
   * (refusalDetail), which the listing shows, not the short reason the agent is told.
   */
  readonly refusal?: string;
  /** For a change of revocation, the rule that revokes (in NEW when the session is now revoked, else in OLD). */
  readonly revokingRule?: string;
  /**
   * For a change of effect, when this line's decision revokes its session in one version only
   * (`new`: NEW revokes it here, `old`: OLD did): every later attempt of the session changes with it.
   * Not set on a later attempt of a session revoked already, which is denied for it.
   */
  readonly revokes?: "new" | "old";
}

/** The changes attributed to one cause: every one counted, the first ones kept as examples. */
export interface CauseGroup {
  count: number;
  /** Every change of this cause, counted by direction (`allow→deny`, …). */
  readonly directions: Map<string, number>;
  /** How many of them an unchanged rule made because of an earlier change of the session (`via` with a line). */
  carried: number;
  /**
   * Examples: the first change of each direction, then the first others (changes of effect
   * before the rest), at most `maxExamplesPerCause` (unless there are more directions); listed
   * changes of effect first, each kind in file and line order.
   */
  readonly changes: DecisionChange[];
}

export interface DiffReport {
  lines: number;
  /** Every change, counted by direction. */
  readonly directions: Map<string, number>;
  readonly byCause: Map<string, CauseGroup>;
  /** Errors, at most MAX_ERRORS_PER_FILE about lines per file (replay.ts), in line order, as `policyc test` keeps them. */
  readonly errors: ReplayError[];
  /** The errors past that limit, counted only (`errors` plus these are all the errors found). */
  readonly errorsLeftOut: ErrorsLeftOut;
  /** A recording that compared nothing (no request line), which a total beside others would hide. */
  readonly notes: ReplayNote[];
}

/** Examples kept per cause unless told otherwise: enough to look into, bounded however many lines change. */
export const DEFAULT_EXAMPLES_PER_CAUSE = 1_000;

/** Sides of a diff, as each change is attributed. */
interface Versions {
  readonly before: CompiledPolicy;
  readonly after: CompiledPolicy;
  readonly rules: RuleVersions;
  readonly staleBundles: ReadonlyMap<string, string>;
  /** The tools whose returned labels differ between the versions (see returnsChangedTools). */
  readonly returnsChanged: ReadonlySet<string>;
}

/** What attribution asks of the line's session: the latest earlier change that altered one of `parts`, and the first tool that went ahead in it with other returned labels. */
interface SessionHistory {
  readonly earlier: (parts: number) => SessionChange | undefined;
  readonly labelsFrom: () => string | undefined;
  /** Whether each version had revoked the session before this line: it then denies the line for that, before looking at the request. */
  readonly revokedEarlier: { readonly old: boolean; readonly now: boolean };
}

/**
 * The cause of a change (see ruleCauseOf). A request one version refuses as invalid (its schema
 * changed) is that, unless the other version had revoked the session earlier: that one denied
 * without looking at the request, so what differs is the revocation, attributed as below like any
 * deny of a revoked session (its revoking rule, or through the session's history). A version
 * whose engine refused the session itself (expired, or it could not start: see refusalKindOf),
 * or denied it as revoked earlier, decided from whether the engine still holds the session: the
 * change is the latest earlier change of the session's revocation, else of an engine's refusal of
 * it in one version (SessionPart.HELD, `earlier`), whose cause it carries; without one,
 * the engines hold other sessions because of changes elsewhere (`engine state in NEW`). When the
 * rule found decides on one side only but is defined identically in both, the rule did not
 * change, its inputs did. Of what the deciding rules of both decisions read (inputsOf): the
 * line's tool declared otherwise in what they read (its risk, an argument they read); else the
 * session's state, when they read a part of it that an earlier change of the session altered:
 * the latest such change (`earlier`), whose cause it carries; else, when they read its labels and
 * an earlier call of a tool whose returned labels differ went ahead in it, that tool's
 * declaration (`~tool NAME`); else the rule marked `(unchanged rule)` (the other declarations it
 * reads differ: an intent, an enum).
 */
function attributionOf(before: Decision, after: Decision, changed: ChangedPart, tool: string, history: SessionHistory, versions: Versions): Pick<DecisionChange, "cause" | "via"> {
  if (refusalKindOf(after) === "request" && !history.revokedEarlier.old) return { cause: "invalid request in NEW" };
  if (refusalKindOf(before) === "request" && !history.revokedEarlier.now) return { cause: "invalid request in OLD" };
  // No rule changed: the same rules decide, in the order the set now has them.
  if (changed === "reason order") return { cause: "(rule order)" };
  const stale = changed === "grants" && after.decision === "ask" ? versions.staleBundles.get(tool) : undefined;
  if (stale !== undefined) return { cause: stale };
  const found = ruleCauseOf(before, after, changed, versions.rules);
  const refusedSession = refusalKindOf(after) === "session" ? "NEW" : refusalKindOf(before) === "session" ? "OLD" : undefined;
  if ((refusedSession !== undefined || history.revokedEarlier.old || history.revokedEarlier.now) && (found === undefined || found.unchanged)) {
    // Whether an engine still holds a session, or refuses it, follows from its revocation (a
    // revoked session is forgotten sooner, a live one expires), else from an earlier refusal of
    // it in one version (one engine started it afresh later, or never): a change of what rules
    // read of it (its denials, the calls that ran) decides neither, and is no cause of this.
    const carrier = history.earlier(SessionPart.REVOKED) ?? history.earlier(SessionPart.HELD);
    if (carrier !== undefined) return { cause: carrier.cause, ...(found !== undefined ? { via: { rule: found.cause, line: carrier.line } } : {}) };
    if (refusedSession !== undefined) return { cause: `engine state in ${refusedSession}` };
  }
  if (found === undefined) return { cause: after.rules.length === 0 ? "default deny" : "(same rules)" };
  if (!found.unchanged) return { cause: found.cause };
  const read = inputsOf(before, after, versions.rules);
  if (declarationChangeRead(versions.before, versions.after, tool, read)) return { cause: `~tool ${tool}`, via: { rule: found.cause } };
  const carrier = history.earlier(read.session);
  if (carrier !== undefined) return { cause: carrier.cause, via: { rule: found.cause, line: carrier.line } };
  const labelsFrom = (read.session & SessionPart.LABELS) !== 0 ? history.labelsFrom() : undefined;
  if (labelsFrom !== undefined) return { cause: `~tool ${labelsFrom}`, via: { rule: found.cause } };
  return { cause: `${found.cause} (unchanged rule)` };
}

/** What changed between the two decisions of a request; undefined when nothing reported did. */
function changedPart(before: Decision, after: Decision, ruleChanges: boolean, versions: RuleVersions): ChangedPart | undefined {
  if (before.decision !== after.decision) return "effect";
  if (!sameGrants(grantsOf(before), grantsOf(after))) return "grants";
  if (before.revoked !== after.revoked) return "revoke";
  if (!ruleChanges) return undefined;
  // As sets: moving a rule within its file (which reorders a decision's rules) changes nothing,
  // and neither does renumbering one with a positional id.
  const asSet = (list: readonly string[]): string => JSON.stringify([...new Set(list)].sort());
  const oldIds = asNewIds(before.rules, versions);
  if (asSet(oldIds) !== asSet(after.rules)) return "rules";
  // Rule by rule: a rule gives another reason (`reason`), or the same rules give theirs in
  // another order, which joins them into another text (`reason order`). A rule without a
  // reason gives one that names its id, which a renumbered rule changes: that is no change of it.
  const reasonOf = (decision: Decision, ids: readonly string[], rules: ReadonlyMap<string, RuleInfo>): Map<string, string> => new Map(ids.map((id, index) => [id, rules.get(decision.rules[index]!)?.reason === null ? "\u0000" : (decision.reasons[index] ?? "")]));
  const [was, now] = [reasonOf(before, oldIds, versions.old), reasonOf(after, after.rules, versions.now)];
  if ([...was].some(([id, reason]) => now.get(id) !== reason)) return "reason";
  // Reasons that are no rule's (a refusal before any rule gives one and names none).
  if (JSON.stringify(before.reasons.slice(before.rules.length)) !== JSON.stringify(after.reasons.slice(after.rules.length))) return "reason";
  if (JSON.stringify(oldIds) !== JSON.stringify(after.rules) && before.reasons.join("; ") !== after.reasons.join("; ")) return "reason order";
  return undefined;
}


/** Whether a call adds labels to its session when it goes ahead: its `context.labels`, or labels its tool returns in either version. */
function carriesLabels(request: Readonly<Record<string, unknown>>, tool: string, versions: Versions): boolean {
  const context = request["context"];
  const sent = context !== null && typeof context === "object" ? labelsOf((context as Record<string, unknown>)["labels"]) : undefined;
  const returns = (policy: CompiledPolicy): number => (Object.hasOwn(policy.schema.tools, tool) ? policy.schema.tools[tool]!.returns.length : 0);
  return (sent !== undefined && sent.length > 0) || returns(versions.before) > 0 || returns(versions.after) > 0;
}

/** `allow→deny`; with the same effect, what changed too: `allow→allow (grants)`. */
function directionOf(before: Decision, after: Decision, changed: ChangedPart): string {
  const direction = `${before.decision}→${after.decision}`;
  return changed === "effect" ? direction : `${direction} (${changed})`;
}

/** What one share of a file's diff reports (posted back by a worker thread). */
export interface DiffShareReport {
  readonly lines: number;
  /** The first `maxExamplesPerCause` changes of each cause and direction in the share, in line order. */
  readonly changes: DecisionChange[];
  /** Every change, counted by cause and direction. */
  readonly counts: [cause: string, direction: string, count: number][];
  /** Per cause, the changes carried by session state from an earlier change (see DecisionChange.via). */
  readonly carried: [cause: string, count: number][];
  /** The share's first errors about lines (MAX_ERRORS_PER_FILE), and its unreadable file. */
  readonly errors: ReplayError[];
  /** The share's errors past them, counted only. */
  readonly errorsLeftOut: ErrorsLeftOut;
  /** Notes on the share's lines (a line repeated byte for byte), in line order, the first MAX_NOTES_PER_FILE. */
  readonly notes: ReplayNote[];
  /** The share's notes past them, counted only. */
  readonly notesLeftOut: number;
}

/** How to diff one file, and both engines' options (see ReplayOptions). */
export interface DiffShareOptions extends RecordedEngineOptions {
  readonly cwd?: string;
  readonly maxExamplesPerCause?: number;
  /** Replay only the sessions of this share (set for each thread of a parallel diff). */
  readonly partition?: Share;
  /** The absolute path the file's bytes are read from, when not the file itself (see ReplayOptions). */
  readonly source?: string;
  /** Also report decisions where only the deciding rules or their reasons change (see ChangedPart). */
  readonly ruleChanges?: boolean;
}

/**
 * Replays one file (all of it, or one share of its sessions) through both versions, each with
 * its own engine and session state, as each would have run.
 */
export async function diffShare(before: CompiledPolicy, after: CompiledPolicy, file: string, options: DiffShareOptions = {}): Promise<DiffShareReport> {
  // Attribution tells the engines' refusals of a session from invalid requests (refusalKindOf),
  // which engines note only when asked: from before the engines are built to the last decision.
  const stopNoting = noteRefusalKinds();
  try {
    return await diffEveryLine(before, after, file, options);
  } finally {
    stopNoting();
  }
}

async function diffEveryLine(before: CompiledPolicy, after: CompiledPolicy, file: string, options: DiffShareOptions): Promise<DiffShareReport> {
  const filter = options.partition === undefined ? undefined : shareFilter(options.partition);
  const max = options.maxExamplesPerCause ?? DEFAULT_EXAMPLES_PER_CAUSE;
  const versions: Versions = { before, after, rules: matchRules(before, after), staleBundles: staleBundleCauses(before, after), returnsChanged: returnsChangedTools(before, after) };
  const oldEngine = replayEngine(before, options);
  const newEngine = replayEngine(after, options);
  // Each session's changes that altered its state, which its later lines carry.
  const sessionChanges = new SessionChanges([oldEngine, newEngine]);
  const changes: DecisionChange[] = [];
  // cause → direction → count (the first `max` of each are kept as examples).
  const counts = new Map<string, Map<string, number>>();
  const carried = new Map<string, number>();
  const errors: ReplayError[] = [];
  const errorsLeftOut: ErrorsLeftOut = { errors: 0, inputErrors: 0 };
  // Past the first errors, the malformed lines of a file of garbage are counted, as `policyc test` counts them.
  const lineProblem = lineErrorKeeper(errors, () => errorsLeftOut);
  let lines = 0;
  // The sessions each version has revoked so far: a revoked decision of a session not yet among them is the revoking one.
  const revokedOld = new Set<unknown>();
  const revokedNew = new Set<unknown>();
  const notes: ReplayNote[] = [];
  let notesLeftOut = 0;
  const repeated = new RepeatedLines();
  // The lines of other threads' sessions (their revocations of sessions not started yet included).
  const passedOver = new PassedOverLines();
  try {
    for await (const batch of readRecordingBatches(recordingPath(file, options), filter?.elsewhere)) {
      for (const entry of batch) {
        // Said by the thread that decides the line (a repeat is of the same session: the same thread).
        const repeats = repeated.of(entry);
        if (repeats !== undefined && entry.ok === true && !filter?.belongsElsewhere(entry)) {
          if (notes.length < MAX_NOTES_PER_FILE) notes.push({ file, line: entry.line, message: repeatedLineNote(entry.line, repeats) });
          else notesLeftOut++;
        }
        if (entry.ok === false) observeMalformed(entry.text, oldEngine, newEngine);
        // Another thread decides it: each engine's clock still moves as in a replay of the whole log.
        if (entry.ok === "elsewhere" || filter?.belongsElsewhere(entry)) {
          const attempt = entry.ok === "elsewhere" ? entry.attempt : entry.ok ? entry.request : undefined;
          if (attempt !== undefined) passedOver.tell(attempt, oldEngine, newEngine);
          continue;
        }
        if (!entry.ok) {
          lineProblem(lineError(file, entry));
          continue;
        }
        if (entry.approval !== undefined) {
          // A person's approval arriving: each version is told of it, and accepts it if its
          // session awaits it. It is no decision: a change it brings shows in the lines after it.
          oldEngine.approved(entry.request);
          newEngine.approved(entry.request);
          continue;
        }
        if (entry.revocation !== undefined) {
          // An operator's revocation: each version is told of it, and each revokes the session
          // alike (it is no rule's): the session's later lines are denied in both.
          if (revokeRecorded(oldEngine, entry.request).revoked) revokedOld.add(entry.request["session"]);
          if (revokeRecorded(newEngine, entry.request).revoked) revokedNew.add(entry.request["session"]);
          continue;
        }
        lines++;
        const session = sessionLabel(entry.request["session"]);
        const inSession = !isSessionPlaceholder(session);
        const heldBefore = inSession ? sessionChanges.beforeLine(session) : undefined;
        const a = decideRecorded(oldEngine, entry.request);
        const b = decideRecorded(newEngine, entry.request);
        if (heldBefore !== undefined) sessionChanges.afterLine(session, heldBefore);
        const revokesOld = a.revoked && !revokedOld.has(entry.request["session"]);
        const revokesNew = b.revoked && !revokedNew.has(entry.request["session"]);
        if (revokesOld) revokedOld.add(entry.request["session"]);
        if (revokesNew) revokedNew.add(entry.request["session"]);
        const changed = changedPart(a, b, options.ruleChanges ?? false, versions.rules);
        const tool = toolLabel(entry.request["tool"]);
        // A call that goes ahead (or may, once approved) in either version adds the labels its tool returns to the session: other ones, for these tools.
        const returnsOther = inSession && versions.returnsChanged.has(tool) && (a.decision !== "deny" || b.decision !== "deny");
        if (changed === undefined) {
          if (returnsOther) sessionChanges.labelsReturned(session, tool);
          continue;
        }
        const direction = directionOf(a, b, changed);
        const history: SessionHistory = {
          earlier: (parts) => (inSession ? sessionChanges.latest(session, parts) : undefined),
          labelsFrom: () => (inSession ? sessionChanges.labelsFrom(session) : undefined),
          revokedEarlier: { old: a.revoked && !revokesOld, now: b.revoked && !revokesNew },
        };
        const { cause, via } = attributionOf(a, b, changed, tool, history, versions);
        if (returnsOther) sessionChanges.labelsReturned(session, tool);
        // Only a change of effect or revocation changes what the session remembers (other rules,
        // reasons or grants do not), and so the report is the same with or without --rule-changes.
        if (inSession && (changed === "effect" || changed === "revoke")) {
          const [kindOld, kindNew] = [refusalKindOf(a), refusalKindOf(b)];
          const refusedSession = kindOld === "session" || kindNew === "session" ? SessionPart.HELD : 0;
          const changedParts = sessionPartsChangedBy(a, b, kindOld !== undefined || kindNew !== undefined, carriesLabels(entry.request, tool, versions)) | refusedSession;
          // The revocation itself changes at the line that revokes in one version only; a later
          // deny of the session as revoked carries that change on (it alters the rest, not it).
          const parts = revokesOld !== revokesNew ? changedParts : changedParts & ~SessionPart.REVOKED;
          sessionChanges.record(session, parts, { line: entry.line, cause });
        }
        const byDirection = counts.get(cause) ?? new Map<string, number>();
        counts.set(cause, byDirection);
        // The changes of this cause and direction before this one: as many are kept as examples, up to `max`.
        const earlierOnes = byDirection.get(direction) ?? 0;
        byDirection.set(direction, earlierOnes + 1);
        if (via?.line !== undefined) carried.set(cause, (carried.get(cause) ?? 0) + 1);
        if (earlierOnes < max) {
          const revokingRule = changed === "revoke" ? revokingRuleOf(a, b, versions.rules) : undefined;
          const revokes = changed !== "effect" || revokesOld === revokesNew ? undefined : revokesNew ? "new" : "old";
          changes.push({ file, line: entry.line, session, tool, before: a, after: b, changed, direction, cause, ...(via !== undefined ? { via } : {}), ...(revokingRule !== undefined ? { revokingRule } : {}), ...(revokes !== undefined ? { revokes } : {}), ...(refusalKindOf(b) !== undefined ? { refusal: refusalDetail(b) } : {}) });
        }
      }
    }
  } catch (error) {
    errors.push({ file, line: null, message: describeReadError(error, file, "diff"), kind: "input", code: INPUT_CODES.unreadableFile });
  }
  return { lines, changes, counts: [...counts].flatMap(([cause, byDirection]) => [...byDirection].map(([direction, n]): [string, string, number] => [cause, direction, n])), carried: [...carried], errors, errorsLeftOut, notes, notesLeftOut };
}

/**
 * The examples of a cause: the first change of each direction, so that an effect that flips is
 * never hidden behind many lines that only revoke, then the first others, changes of effect
 * before the rest, `max` in all (or one per direction when there are more); listed changes of
 * effect first, each kind in file and line order. `byDirection` lists each direction's first changes; `place` numbers them in that order.
 */
function examplesOf(byDirection: ReadonlyMap<string, readonly DecisionChange[]>, max: number, place: ReadonlyMap<DecisionChange, number>): DecisionChange[] {
  const byPlace = (x: DecisionChange, y: DecisionChange): number => place.get(x)! - place.get(y)!;
  const isEffect = (change: DecisionChange): number => (change.changed === "effect" ? 0 : 1);
  const chosen = new Set([...byDirection.values()].map((changes) => changes[0]!));
  for (const change of [...byDirection.values()].flat().sort((x, y) => isEffect(x) - isEffect(y) || byPlace(x, y))) {
    if (chosen.size >= max) break;
    chosen.add(change);
  }
  return [...chosen].sort((x, y) => isEffect(x) - isEffect(y) || byPlace(x, y));
}

/**
 * Replays the same recordings through two policy versions side by side and collects every
 * decision that changes. A large recording is replayed on several threads, each taking a share
 * of the sessions (as `policyc test` does); the report is the same.
 */
export async function diffRecordings(before: CompiledPolicy, after: CompiledPolicy, files: readonly string[], options: { maxExamplesPerCause?: number; cwd?: string; workers?: number; ruleChanges?: boolean } & RecordedEngineOptions = {}): Promise<DiffReport> {
  const report: DiffReport = { lines: 0, directions: new Map(), byCause: new Map(), errors: [], errorsLeftOut: { errors: 0, inputErrors: 0 }, notes: [] };
  const max = options.maxExamplesPerCause ?? DEFAULT_EXAMPLES_PER_CAUSE;
  const groupOf = (cause: string): CauseGroup => {
    let group = report.byCause.get(cause);
    if (group === undefined) report.byCause.set(cause, (group = { count: 0, directions: new Map(), carried: 0, changes: [] }));
    return group;
  };
  // cause → direction → its first changes, in file and line order.
  const examples = new Map<string, Map<string, DecisionChange[]>>();
  const place = new Map<DecisionChange, number>();
  for (const file of files) {
    const source = await recordingSource(file, options.cwd);
    if (source.error !== undefined) {
      report.errors.push({ file, line: null, message: source.error, kind: "input", code: INPUT_CODES.unreadableFile });
      continue;
    }
    // maxSessions counts the live sessions of every share: one thread sees them all.
    const threads = threadsFor(source.path, { workers: options.workers, oneThread: options.maxSessions !== undefined });
    const shared: DiffShareOptions = { cwd: options.cwd, maxExamplesPerCause: max, ...engineOptions(options), ruleChanges: options.ruleChanges, ...(source.copied ? { source: source.path } : {}) };
    let shares: DiffShareReport[];
    try {
      if (threads <= 1) shares = [await diffShare(before, after, file, shared)];
      else {
        shares = await runShares<DiffShareReport>(
          threads,
          (partition) => diffShare(before, after, file, { ...shared, partition }),
          (partition) => ({ kind: "diff", before, after, file, options: { ...shared, partition } }),
        );
      }
    } finally {
      source.release();
    }
    const fileLines = shares.reduce((sum, share) => sum + share.lines, 0);
    // An empty log (a failed download, a freshly rotated file) compares nothing: "0 changes" from
    // it is no evidence, and beside other recordings it would go unseen. Its errors say more.
    if (fileLines === 0 && shares.every((share) => share.errors.length === 0 && share.errorsLeftOut.errors === 0)) report.notes.push({ file, line: null, message: "the recording has no request lines: it compares nothing" });
    for (const share of shares) {
      report.lines += share.lines;
      for (const [cause, direction, n] of share.counts) {
        const group = groupOf(cause);
        group.count += n;
        group.directions.set(direction, (group.directions.get(direction) ?? 0) + n);
        report.directions.set(direction, (report.directions.get(direction) ?? 0) + n);
      }
      for (const [cause, n] of share.carried) groupOf(cause).carried += n;
    }
    // The file's first notes on lines, in line order, as one thread keeps them.
    const lineNotes = shares.flatMap((share) => share.notes).sort((x, y) => (x.line ?? 0) - (y.line ?? 0));
    report.notes.push(...lineNotes.slice(0, MAX_NOTES_PER_FILE));
    // Past them, a count: a file of one line copied 10,000 times is said in 21 lines.
    const moreNotes = lineNotes.length - MAX_NOTES_PER_FILE + shares.reduce((sum, share) => sum + share.notesLeftOut, 0);
    if (moreNotes > 0) report.notes.push({ file, line: null, message: `… and ${moreNotes.toLocaleString("en-US")} more lines that repeat the line before them byte for byte` });
    // The file's first errors, as one thread keeps them; those past them counted.
    keepShareErrors(shares.flatMap((s) => s.errors), report.errors, report.errorsLeftOut);
    for (const share of shares) {
      report.errorsLeftOut.errors += share.errorsLeftOut.errors;
      report.errorsLeftOut.inputErrors += share.errorsLeftOut.inputErrors;
    }
    // Each share kept the first examples of each cause and direction; together they hold the file's first ones, in line order.
    for (const change of shares.flatMap((s) => s.changes).sort((x, y) => x.line - y.line)) {
      const byDirection = examples.get(change.cause) ?? new Map<string, DecisionChange[]>();
      examples.set(change.cause, byDirection);
      const kept = byDirection.get(change.direction) ?? [];
      byDirection.set(change.direction, kept);
      if (kept.length < max) {
        kept.push(change);
        place.set(change, place.size);
      }
    }
  }
  for (const [cause, byDirection] of examples) groupOf(cause).changes.push(...examplesOf(byDirection, max, place));
  // Directions in a fixed order, whichever thread saw one first.
  const sorted = (counts: Map<string, number>): Map<string, number> => new Map([...counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  return { ...report, directions: sorted(report.directions), byCause: new Map([...report.byCause].map(([cause, group]) => [cause, { ...group, directions: sorted(group.directions) }])) };
}
