import { Worker } from "node:worker_threads";
import type { ReplayTask, ReplayTaskResult } from "./replayWorker.js";

interface PooledWorker {
  readonly worker: Worker;
  readonly pending: Map<number, { resolve: (report: unknown) => void; reject: (error: Error) => void }>;
  /** Ends the worker once it has been idle a while (a long-lived process does not keep it). */
  idleTimer: NodeJS.Timeout | undefined;
}

/** How long an idle worker is kept for the next recording. */
const IDLE_MS = 30_000;

/**
 * Replay workers kept between recordings (until idle for IDLE_MS). Starting a worker and warming
 * its engine costs about as much as replaying tens of thousands of lines, so a run that replays
 * several large recordings pays it once. Idle workers do not keep the process alive.
 */
export class ReplayWorkerPool {
  private readonly workers: PooledWorker[] = [];
  private nextId = 0;

  constructor(private readonly script: URL) {}

  /** Runs one task (one share of a recording) on worker `slot` (started on first use); resolves to its report. */
  run(slot: number, task: ReplayTask): Promise<unknown> {
    const pooled = this.workers[slot] ?? this.start(slot);
    const id = this.nextId++;
    return new Promise<unknown>((resolve, reject) => {
      clearTimeout(pooled.idleTimer);
      pooled.pending.set(id, { resolve, reject });
      // While a task is out, the worker keeps the process alive (the caller awaits it).
      pooled.worker.ref();
      try {
        pooled.worker.postMessage({ id, task });
      } catch (error) {
        // Not sent (a value that cannot be cloned): nothing will answer, so settle it here.
        pooled.pending.delete(id);
        this.settled(slot, pooled);
        reject(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  /** After a task ends: an idle worker no longer keeps the process alive, and ends after a while. */
  private settled(slot: number, pooled: PooledWorker): void {
    if (pooled.pending.size > 0) return;
    pooled.worker.unref();
    clearTimeout(pooled.idleTimer);
    pooled.idleTimer = setTimeout(() => this.retire(slot, pooled), IDLE_MS);
    pooled.idleTimer.unref();
  }

  /**
   * Ends an idle worker. It leaves the pool first: until its `exit` event it would still be found
   * there, and a task given to it in that window would die with it.
   */
  private retire(slot: number, pooled: PooledWorker): void {
    if (this.workers[slot] === pooled) delete this.workers[slot];
    void pooled.worker.terminate();
  }

  private start(slot: number): PooledWorker {
    const worker = new Worker(this.script);
    const pooled: PooledWorker = { worker, pending: new Map(), idleTimer: undefined };
    this.workers[slot] = pooled;
    worker.unref();
    worker.on("message", (result: ReplayTaskResult) => {
      const task = pooled.pending.get(result.id);
      if (!task) return;
      pooled.pending.delete(result.id);
      this.settled(slot, pooled);
      if ("error" in result) task.reject(new Error(`replay worker ${slot}: ${result.error}`));
      else task.resolve(result.report);
    });
    const fail = (error: Error): void => {
      // A worker that died is replaced on next use; its tasks fail.
      if (this.workers[slot] === pooled) delete this.workers[slot];
      clearTimeout(pooled.idleTimer);
      for (const task of pooled.pending.values()) task.reject(error);
      pooled.pending.clear();
    };
    worker.on("error", fail);
    // A report this thread cannot read (nested deeper than its stack): no task would ever settle
    // and the run would wait for ever. The worker's state is unknown after it: end it too.
    worker.on("messageerror", (error) => {
      fail(new Error(`replay worker ${slot}: its report could not be read back (${error.message})`));
      void worker.terminate();
    });
    worker.on("exit", (code) => fail(new Error(`replay worker ${slot} exited with code ${code}`)));
    return pooled;
  }
}
