import { resolve } from "node:path";
import { Engine } from "../runtime/engine.js";
import type { Decision } from "../runtime/decision.js";
import type { CompiledPolicy } from "../runtime/policy.js";
import { describeReadError, readRecording } from "./readRecording.js";
import type { ReplayError } from "./replay.js";

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

/**
 * Replays the same recordings through two policy versions side by side (each with its own
 * session state, as each would have run) and collects every decision that changes.
 */
export async function diffRecordings(before: CompiledPolicy, after: CompiledPolicy, files: readonly string[], options: { maxChanges?: number; cwd?: string } = {}): Promise<DiffReport> {
  const report: DiffReport = { lines: 0, changes: [], directions: new Map(), byCause: new Map(), errors: [] };
  const max = options.maxChanges ?? 10_000;
  for (const file of files) {
    const oldEngine = new Engine(before);
    const newEngine = new Engine(after);
    try {
      for await (const entry of readRecording(resolve(options.cwd ?? ".", file))) {
        if (!entry.ok) {
          report.errors.push({ file, line: entry.line, message: entry.error, kind: "input" });
          continue;
        }
        report.lines++;
        const a = oldEngine.decide(entry.request);
        const b = newEngine.decide(entry.request);
        if (a.decision === b.decision) continue;
        const direction = `${a.decision}→${b.decision}`;
        report.directions.set(direction, (report.directions.get(direction) ?? 0) + 1);
        const cause = causeOf(a, b);
        const change: DecisionChange = { file, line: entry.line, session: entry.request["session"] as string, tool: entry.request["tool"] as string, before: a, after: b, direction, cause };
        if (report.changes.length < max) {
          report.changes.push(change);
          report.byCause.set(cause, [...(report.byCause.get(cause) ?? []), change]);
        }
      }
    } catch (error) {
      report.errors.push({ file, line: null, message: describeReadError(error), kind: "input" });
    }
  }
  return report;
}
