import { parentPort } from "node:worker_threads";
import type { CompiledPolicy } from "../runtime/policy.js";
import { diffShare, type DiffShareOptions } from "./diff.js";
import { replayShare, type ReplayOptions } from "./replay.js";

/**
 * A worker of the pool in workerPool.ts: for each task it replays the sessions of one share of a
 * recording with its own engines (`policyc test`, or both sides of `policyc diff`) and posts the
 * results back. It is kept until idle for a while, so a second recording (or a second run in
 * the same process) finds it started and its code already optimized.
 */
export type ReplayTask =
  | { readonly kind: "replay"; readonly policy: CompiledPolicy; readonly file: string; readonly options: ReplayOptions }
  | { readonly kind: "diff"; readonly before: CompiledPolicy; readonly after: CompiledPolicy; readonly file: string; readonly options: DiffShareOptions };

export type ReplayTaskResult = { readonly id: number; readonly report: unknown } | { readonly id: number; readonly error: string };

function run(task: ReplayTask): Promise<unknown> {
  return task.kind === "replay" ? replayShare(task.policy, task.file, task.options) : diffShare(task.before, task.after, task.file, task.options);
}

const messageOf = (error: unknown): string => (error instanceof Error ? error.message : String(error));

parentPort!.on("message", ({ id, task }: { id: number; task: ReplayTask }) => {
  void run(task).then(
    (report) => {
      try {
        parentPort!.postMessage({ id, report } satisfies ReplayTaskResult);
      } catch (error) {
        // A report that cannot be copied (nested deeper than the stack): say so, or the task waits for ever.
        parentPort!.postMessage({ id, error: `its report could not be sent back (${messageOf(error)})` } satisfies ReplayTaskResult);
      }
    },
    (error: unknown) => parentPort!.postMessage({ id, error: messageOf(error) } satisfies ReplayTaskResult),
  );
});
