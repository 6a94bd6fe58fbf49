import { existsSync, statSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { ReplayError } from "./replay.js";
import { ReplayWorkerPool } from "./workerPool.js";
import type { ReplayTask } from "./replayWorker.js";
import type { Share } from "./sessionOfLine.js";

/**
 * Below this size one thread is faster: every thread's engine warms up on its own (V8 compiles
 * the policy's functions once per thread, on the same cores), which a recording must be large
 * enough to repay (measured on 2 cores: 47 MB breaks even cold; 190 MB is 1.5x faster).
 */
export const PARALLEL_MIN_BYTES = 64 * 1024 * 1024;
const WORKER_SCRIPT = new URL("./replayWorker.js", import.meta.url);
let pool: ReplayWorkerPool | undefined;

/** The pool of worker threads `policyc test` and `policyc diff` share (started on first use). */
export function workerPool(): ReplayWorkerPool {
  return (pool ??= new ReplayWorkerPool(WORKER_SCRIPT));
}

/**
 * How many threads replay the recording at `path`: `workers` when given, else one per core (up
 * to 8) for a recording of PARALLEL_MIN_BYTES or more; always one when `oneThread` (a share
 * already, or a run that must go in line order), and for anything but a file, which every
 * thread could not read (each would see only part of a pipe).
 */
export function threadsFor(path: string, options: { readonly workers?: number; readonly oneThread?: boolean }): number {
  if (options.oneThread) return 1;
  const wanted = options.workers ?? Math.min(availableParallelism(), 8);
  if (wanted <= 1) return 1;
  // Running from sources (tests) there is no compiled worker script: stay on this thread.
  if (WORKER_SCRIPT.protocol !== "file:" || !existsSync(fileURLToPath(WORKER_SCRIPT))) return 1;
  try {
    const stat = statSync(path);
    if (!stat.isFile() || (options.workers === undefined && stat.size < PARALLEL_MIN_BYTES)) return 1;
  } catch {
    return 1; // unreadable: the single-thread path reports it
  }
  return wanted;
}

/**
 * Runs a file's `count` shares: the first on this thread (`here`), the others on pooled workers
 * (`task` says what each is to do); resolves to every share's result, in share order.
 */
export async function runShares<T>(count: number, here: (partition: Share) => Promise<T>, task: (partition: Share) => ReplayTask): Promise<T[]> {
  const pool = workerPool();
  const others = Promise.all(Array.from({ length: count - 1 }, (_, slot) => pool.run(slot, task({ index: slot + 1, count })) as Promise<T>));
  // Awaited below, after this thread's share: a worker failing meanwhile is not "unhandled".
  others.catch(() => undefined);
  return [await here({ index: 0, count }), ...(await others)];
}

/** The errors of a file's shares, in line order; a file that cannot be read (reported by every share) said once. */
export function mergeShareErrors(errors: readonly ReplayError[]): ReplayError[] {
  const seen = new Set<string>();
  const merged: ReplayError[] = [];
  for (const error of [...errors].sort((a, b) => (a.line ?? 0) - (b.line ?? 0))) {
    const key = `${error.line}:${error.message}`;
    if (!seen.has(key)) merged.push(error);
    seen.add(key);
  }
  return merged;
}
