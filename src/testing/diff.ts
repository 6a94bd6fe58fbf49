import { resolve } from "node:path";
import { Engine } from "../runtime/engine.js";
import type { Decision } from "../runtime/decision.js";
import type { CompiledPolicy } from "../runtime/policy.js";
import { describeReadError, readRecordingBatches } from "./readRecording.js";
import { mergeShareErrors, threadsFor, workerPool } from "./parallel.js";
import { shareFilter, type Share } from "./sessionOfLine.js";
import type { ReplayError } from "./replay.js";
import { decideRecorded, engineOptions } from "./decideRecorded.js";

/** One recorded request whose decision differs between the two policy versions. */
export interface DecisionChange {
  readonly file: string;
  readonly line: number;
  readonly session: string;
  readonly tool: string;
  readonly before: Decision;
  readonly after: Decision;
  /** `allow→deny` and so on. */
  readonly direction: string;
  /** The rule the change is attributed to: a rule that now decides (`+id`), or one that no longer does (`-id`). */
  readonly cause: string;
}

export interface DiffReport {
  lines: number;
  readonly changes: DecisionChange[];
  readonly directions: Map<string, number>;
  readonly byCause: Map<string, DecisionChange[]>;
  readonly errors: ReplayError[];
}

const STRICTNESS = { allow: 0, ask: 1, deny: 2 } as const;

/**
 * A stricter answer comes from a rule that now decides (`allow→deny`: the new deny); a looser one
 * from a rule that no longer does (`deny→allow`: the old deny, not the allow it used to override).
 */
function causeOf(before: Decision, after: Decision): string {
  const old = new Set(before.rules);
  const added = after.rules.filter((r) => !old.has(r)).map((r) => `+${r}`);
  const now = new Set(after.rules);
  const removed = before.rules.filter((r) => !now.has(r)).map((r) => `-${r}`);
  const stricter = STRICTNESS[after.decision] > STRICTNESS[before.decision];
  const cause = stricter ? (added[0] ?? removed[0]) : (removed[0] ?? added[0]);
  return cause ?? (after.rules.length === 0 ? "default deny" : "(same rules)");
}

/** What one share of a file's diff reports (posted back by a worker thread). */
export interface DiffShareReport {
  readonly lines: number;
  /** The first `maxChanges` changes of the share, in line order. */
  readonly changes: DecisionChange[];
  /** Every change, counted by direction. */
  readonly directions: [string, number][];
  readonly errors: ReplayError[];
}

export interface DiffShareOptions {
  readonly cwd?: string;
  readonly maxChanges?: number;
  /** Replay only the sessions of this share (set for each thread of a parallel diff). */
  readonly partition?: Share;
  /** Both engines' sessionIdleMs (see ReplayOptions). */
  readonly sessionIdleMs?: number;
}

/**
 * Replays one file (all of it, or one share of its sessions) through both versions, each with
 * its own engine and session state, as each would have run.
 */
export async function diffShare(before: CompiledPolicy, after: CompiledPolicy, file: string, options: DiffShareOptions = {}): Promise<DiffShareReport> {
  const filter = options.partition === undefined ? undefined : shareFilter(options.partition);
  const max = options.maxChanges ?? 10_000;
  const oldEngine = new Engine(before, engineOptions(options));
  const newEngine = new Engine(after, engineOptions(options));
  const changes: DecisionChange[] = [];
  const directions = new Map<string, number>();
  const errors: ReplayError[] = [];
  let lines = 0;
  try {
    for await (const batch of readRecordingBatches(resolve(options.cwd ?? ".", file), filter?.keep)) {
      for (const entry of batch) {
        if (filter?.belongsElsewhere(entry)) continue;
        if (!entry.ok) {
          errors.push({ file, line: entry.line, message: entry.error, kind: "input" });
          continue;
        }
        lines++;
        const a = decideRecorded(oldEngine, entry.request);
        const b = decideRecorded(newEngine, entry.request);
        if (a.decision === b.decision) continue;
        const direction = `${a.decision}→${b.decision}`;
        directions.set(direction, (directions.get(direction) ?? 0) + 1);
        if (changes.length < max) changes.push({ file, line: entry.line, session: entry.request["session"] as string, tool: entry.request["tool"] as string, before: a, after: b, direction, cause: causeOf(a, b) });
      }
    }
  } catch (error) {
    errors.push({ file, line: null, message: describeReadError(error), kind: "input" });
  }
  return { lines, changes, directions: [...directions], errors };
}

/**
 * Replays the same recordings through two policy versions side by side and collects every
 * decision that changes. A large recording is replayed on several threads, each taking a share
 * of the sessions (as `policyc test` does); the report is the same.
 */
export async function diffRecordings(before: CompiledPolicy, after: CompiledPolicy, files: readonly string[], options: { maxChanges?: number; cwd?: string; workers?: number; sessionIdleMs?: number } = {}): Promise<DiffReport> {
  const report: DiffReport = { lines: 0, changes: [], directions: new Map(), byCause: new Map(), errors: [] };
  const max = options.maxChanges ?? 10_000;
  for (const file of files) {
    const threads = threadsFor(file, { workers: options.workers, cwd: options.cwd });
    const shared = { cwd: options.cwd, maxChanges: max, sessionIdleMs: options.sessionIdleMs };
    let shares: DiffShareReport[];
    if (threads <= 1) shares = [await diffShare(before, after, file, shared)];
    else {
      const pool = workerPool();
      const others = Promise.all(Array.from({ length: threads - 1 }, (_, slot) => pool.run(slot, { kind: "diff", before, after, file, options: { ...shared, partition: { index: slot + 1, count: threads } } }) as Promise<DiffShareReport>));
      // Awaited below, after this thread's share: a worker failing meanwhile is not "unhandled".
      others.catch(() => undefined);
      shares = [await diffShare(before, after, file, { ...shared, partition: { index: 0, count: threads } }), ...(await others)];
    }
    for (const share of shares) {
      report.lines += share.lines;
      for (const [direction, n] of share.directions) report.directions.set(direction, (report.directions.get(direction) ?? 0) + n);
    }
    report.errors.push(...mergeShareErrors(shares.flatMap((s) => s.errors)));
    // Each share kept its first changes; together they hold the file's first ones, in line order.
    for (const change of shares.flatMap((s) => s.changes).sort((x, y) => x.line - y.line)) {
      if (report.changes.length >= max) break;
      report.changes.push(change);
      report.byCause.set(change.cause, [...(report.byCause.get(change.cause) ?? []), change]);
    }
  }
  return report;
}
