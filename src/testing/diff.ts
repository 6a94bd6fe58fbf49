import type { Decision } from "../runtime/decision.js";
import type { CompiledPolicy, RuleInfo } from "../runtime/policy.js";
import { describeReadError, readRecordingBatches } from "./readRecording.js";
import { runShares, threadsFor } from "./parallel.js";
import { observeLine, observeMalformed, shareFilter, type Share } from "./sessionOfLine.js";
import { keepShareErrors, lineError, lineErrorKeeper, type ErrorsLeftOut, type ReplayError, type ReplayNote } from "./replay.js";
import { decideRecorded, engineOptions, replayEngine, type RecordedEngineOptions } from "./decideRecorded.js";
import { recordingPath, recordingSource } from "./recordingSource.js";
import { grantingRulesOf, grantsOf, sameGrants } from "./grants.js";
import { sessionLabel, toolLabel } from "./shortRequest.js";

/**
 * What of a decision changed, the first that applies. `effect`: allow, ask or deny. With the
 * same effect: `grants`, the credentials an allow hands out, or an ask once a person approves it
 * (`grantsOnApproval`), compared as a set of scope and lifetime: widening one is a loosening as
 * real as deny→allow; `revoke`, whether the session is
 * revoked. Those change what the enforcement point does, so they are always reported.
 * `rules` (other rules decide) and `reason` (the same rules give other reasons) change only what
 * the decision log and the caller are told; they are reported when asked for, since a renamed
 * rule, or a second deny that now also matches, changes every line it decides.
 */
export type ChangedPart = "effect" | "grants" | "revoke" | "rules" | "reason";

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
  /** The rule the change is attributed to: a rule that now decides (`+id`), or one that no longer does (`-id`). */
  readonly cause: string;
}

/** The changes attributed to one cause: every one counted, the first ones kept as examples. */
export interface CauseGroup {
  count: number;
  /** Every change of this cause, counted by direction (`allow→deny`, …). */
  readonly directions: Map<string, number>;
  /** The first changes (at most `maxExamplesPerCause`), in file and line order. */
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

const STRICTNESS = { allow: 0, ask: 1, deny: 2 } as const;

/**
 * The ids of rules both versions have but define differently (effect, targets, condition,
 * reason, grants or revoke): a change they take part in is theirs (`~id`).
 */
export function changedRules(before: CompiledPolicy, after: CompiledPolicy): ReadonlySet<string> {
  const definition = (r: RuleInfo): string => JSON.stringify([r.effect, r.tools, r.ir, r.reason, r.grants, r.revoke]);
  const old = new Map(before.rules.map((r) => [r.id, definition(r)]));
  return new Set(after.rules.filter((r) => old.has(r.id) && old.get(r.id) !== definition(r)).map((r) => r.id));
}

/**
 * Per tool, the side that is a bundle built before asks carried grants on approval: it gives
 * every ask of the tool none, and that is the change, not a rule (its code has no `onApproval`
 * for the tools that ask and have allow rules that grant).
 */
function staleBundleCauses(before: CompiledPolicy, after: CompiledPolicy): ReadonlyMap<string, string> {
  const causes = new Map<string, string>();
  for (const [side, policy] of [["OLD", before], ["NEW", after]] as const) {
    if (policy.code.includes("onApproval:")) continue;
    const asking = new Set(policy.rules.filter((r) => r.effect === "ask").flatMap((r) => r.tools));
    for (const rule of policy.rules) if (rule.effect === "allow" && rule.grants.length > 0) for (const tool of rule.tools) if (asking.has(tool) && !causes.has(tool)) causes.set(tool, `${side} is a bundle built by a policyc whose asks give no grants on approval: rebuild it`);
  }
  return causes;
}

/**
 * What changed an ask's grants on approval when its ask rules are the same on both sides: of the
 * allow rules that gave them (`grantingRules`), one defined differently in the two versions
 * (`~id`), else one that gives them only now (`+id`) or no longer (`-id`).
 */
function approvalGrantCause(before: Decision, after: Decision, redefinedRules: ReadonlySet<string>): string | undefined {
  const was = grantingRulesOf(before);
  const now = grantingRulesOf(after);
  const redefined = [...now, ...was].find((id) => redefinedRules.has(id));
  if (redefined !== undefined) return `~${redefined}`;
  const added = now.find((id) => !was.includes(id));
  if (added !== undefined) return `+${added}`;
  const removed = was.find((id) => !now.includes(id));
  return removed === undefined ? undefined : `-${removed}`;
}

/**
 * The cause of a change. A request one version refuses as invalid (its schema changed) is
 * that. Otherwise a stricter answer comes from a rule of the new decision (`allow→deny`: the new
 * deny; a deny that now revokes the session: the revoking rule); a looser one, or one of the same
 * effect (other grants, other rules), from a rule of the old decision (`deny→allow`: the old
 * deny, not the allow it used to override): the first one defined differently in the two
 * versions (`~id`) or not in the other decision (`+id`, `-id`); else one of the other side.
 */
function causeOf(before: Decision, after: Decision, redefinedRules: ReadonlySet<string>, approvalGrantCause: string | undefined): string {
  if (refusedAsInvalid(after)) return "invalid request in NEW";
  if (refusedAsInvalid(before)) return "invalid request in OLD";
  // A deny that now revokes the session is stricter than the deny it was.
  const stricter = STRICTNESS[after.decision] > STRICTNESS[before.decision] || (after.revoked && !before.revoked);
  const old = new Set(before.rules);
  const now = new Set(after.rules);
  // The side that explains the change is searched whole first: a loosened deny is the cause of
  // its deny→allow even when the allow that now decides was edited too (its grants, say).
  const cause = stricter ? (changedAmong(after.rules, old, "+", redefinedRules) ?? changedAmong(before.rules, now, "-", redefinedRules)) : (changedAmong(before.rules, now, "-", redefinedRules) ?? changedAmong(after.rules, old, "+", redefinedRules));
  return cause ?? approvalGrantCause ?? (after.rules.length === 0 ? "default deny" : "(same rules)");
}

/** The first of one side's `rules` defined differently in the other version (`~id`), or absent from the other side's decision (`+id`/`-id`). */
function changedAmong(rules: readonly string[], otherSide: ReadonlySet<string>, sign: "+" | "-", redefinedRules: ReadonlySet<string>): string | undefined {
  for (const id of rules) {
    if (redefinedRules.has(id)) return `~${id}`;
    if (!otherSide.has(id)) return `${sign}${id}`;
  }
  return undefined;
}

/** What changed between the two decisions of a request; undefined when nothing reported did. */
function changedPart(before: Decision, after: Decision, ruleChanges: boolean): ChangedPart | undefined {
  if (before.decision !== after.decision) return "effect";
  if (!sameGrants(grantsOf(before), grantsOf(after))) return "grants";
  if (before.revoked !== after.revoked) return "revoke";
  if (!ruleChanges) return undefined;
  // As sets: moving a rule within its file (which reorders a decision's rules) changes nothing.
  const asSet = (list: readonly string[]): string => JSON.stringify([...new Set(list)].sort());
  if (asSet(before.rules) !== asSet(after.rules)) return "rules";
  if (asSet(before.reasons) !== asSet(after.reasons)) return "reason";
  return undefined;
}


/** `allow→deny`; with the same effect, what changed too: `allow→allow (grants)`. */
function directionOf(before: Decision, after: Decision, changed: ChangedPart): string {
  const direction = `${before.decision}→${after.decision}`;
  return changed === "effect" ? direction : `${direction} (${changed})`;
}

/**
 * A deny no rule gave whose reason is its error: the request did not fit the version's schema
 * (or was not a request at all). A default deny with an allow rule's evaluation error is not one.
 */
function refusedAsInvalid(decision: Decision): boolean {
  return decision.decision === "deny" && decision.rules.length === 0 && decision.errors.length > 0 && decision.errors[0] === decision.reasons[0];
}

/** What one share of a file's diff reports (posted back by a worker thread). */
export interface DiffShareReport {
  readonly lines: number;
  /** The first `maxExamplesPerCause` changes of each cause in the share, in line order. */
  readonly changes: DecisionChange[];
  /** Every change, counted by cause and direction. */
  readonly counts: [cause: string, direction: string, count: number][];
  /** The share's first errors about lines (MAX_ERRORS_PER_FILE), and its unreadable file. */
  readonly errors: ReplayError[];
  /** The share's errors past them, counted only. */
  readonly errorsLeftOut: ErrorsLeftOut;
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
  const filter = options.partition === undefined ? undefined : shareFilter(options.partition);
  const max = options.maxExamplesPerCause ?? DEFAULT_EXAMPLES_PER_CAUSE;
  const redefined = changedRules(before, after);
  const staleBundles = staleBundleCauses(before, after);
  const oldEngine = replayEngine(before, options);
  const newEngine = replayEngine(after, options);
  const changes: DecisionChange[] = [];
  // cause → direction → count; and how many examples each cause has kept.
  const counts = new Map<string, Map<string, number>>();
  const kept = new Map<string, number>();
  const errors: ReplayError[] = [];
  const errorsLeftOut: ErrorsLeftOut = { errors: 0, inputErrors: 0 };
  // Past the first errors, the malformed lines of a file of garbage are counted, as `policyc test` counts them.
  const lineProblem = lineErrorKeeper(errors, () => errorsLeftOut);
  let lines = 0;
  try {
    for await (const batch of readRecordingBatches(recordingPath(file, options), filter?.elsewhere)) {
      for (const entry of batch) {
        if (entry.ok === false) observeMalformed(entry.text, oldEngine, newEngine);
        // Another thread decides it: each engine's clock still moves as in a replay of the whole log.
        if (entry.ok === "elsewhere" || filter?.belongsElsewhere(entry)) {
          const attempt = entry.ok === "elsewhere" ? entry.attempt : entry.ok ? entry.request : undefined;
          if (attempt !== undefined) observeLine(attempt, oldEngine, newEngine);
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
        lines++;
        const a = decideRecorded(oldEngine, entry.request);
        const b = decideRecorded(newEngine, entry.request);
        const changed = changedPart(a, b, options.ruleChanges ?? false);
        if (changed === undefined) continue;
        const direction = directionOf(a, b, changed);
        const tool = toolLabel(entry.request["tool"]);
        const cause = causeOf(a, b, redefined, changed === "grants" && b.decision === "ask" ? (staleBundles.get(tool) ?? approvalGrantCause(a, b, redefined)) : undefined);
        const byDirection = counts.get(cause) ?? new Map<string, number>();
        counts.set(cause, byDirection);
        byDirection.set(direction, (byDirection.get(direction) ?? 0) + 1);
        const examples = kept.get(cause) ?? 0;
        if (examples < max) {
          kept.set(cause, examples + 1);
          changes.push({ file, line: entry.line, session: sessionLabel(entry.request["session"]), tool, before: a, after: b, changed, direction, cause });
        }
      }
    }
  } catch (error) {
    errors.push({ file, line: null, message: describeReadError(error), kind: "input" });
  }
  return { lines, changes, counts: [...counts].flatMap(([cause, byDirection]) => [...byDirection].map(([direction, n]): [string, string, number] => [cause, direction, n])), errors, errorsLeftOut };
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
    if (group === undefined) report.byCause.set(cause, (group = { count: 0, directions: new Map(), changes: [] }));
    return group;
  };
  for (const file of files) {
    const source = await recordingSource(file, options.cwd);
    if (source.error !== undefined) {
      report.errors.push({ file, line: null, message: source.error, kind: "input" });
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
    }
    // The file's first errors, as one thread keeps them; those past them counted.
    keepShareErrors(shares.flatMap((s) => s.errors), report.errors, report.errorsLeftOut);
    for (const share of shares) {
      report.errorsLeftOut.errors += share.errorsLeftOut.errors;
      report.errorsLeftOut.inputErrors += share.errorsLeftOut.inputErrors;
    }
    // Each share kept the first examples of each cause; together they hold the file's first ones, in line order.
    for (const change of shares.flatMap((s) => s.changes).sort((x, y) => x.line - y.line)) {
      const group = groupOf(change.cause);
      if (group.changes.length < max) group.changes.push(change);
    }
  }
  // Directions in a fixed order, whichever thread saw one first.
  const sorted = (counts: Map<string, number>): Map<string, number> => new Map([...counts].sort(([a], [b]) => (a < b ? -1 : 1)));
  return { ...report, directions: sorted(report.directions), byCause: new Map([...report.byCause].map(([cause, group]) => [cause, { ...group, directions: sorted(group.directions) }])) };
}
