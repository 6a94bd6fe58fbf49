import { parentPort } from "node:worker_threads";
import type { CompiledPolicy } from "../runtime/policy.js";
import { replayShare, type ReplayOptions, type WorkerReport } from "./replay.js";

/**
 * A replay worker of the pool in workerPool.ts: for each task it replays the sessions of one
 * share of a recording with its own engine and posts the results back. It lives as long as the
 * process, so a second recording (or a second run in the same process) finds it started and
 * its code already optimized.
 */
export interface ReplayTask {
  readonly id: number;
  readonly policy: CompiledPolicy;
  readonly file: string;
  readonly options: ReplayOptions;
}

export type ReplayTaskResult = { readonly id: number; readonly report: WorkerReport } | { readonly id: number; readonly error: string };

parentPort!.on("message", (task: ReplayTask) => {
  void replayShare(task.policy, task.file, task.options).then(
    (report) => parentPort!.postMessage({ id: task.id, report } satisfies ReplayTaskResult),
    (error: unknown) => parentPort!.postMessage({ id: task.id, error: error instanceof Error ? error.message : String(error) } satisfies ReplayTaskResult),
  );
});

