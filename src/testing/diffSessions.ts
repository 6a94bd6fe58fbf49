import type { Engine } from "../runtime/engine.js";
import { SessionPart } from "./diffCauses.js";

/** A change of a session's decision that altered its state: a later change its state carries is attributed to its cause. */
export interface SessionChange {
  readonly line: number;
  readonly cause: string;
}

const PARTS = Object.values(SessionPart);

/** Sessions whose changes are kept before the first sweep for sessions both engines forgot. */
const FIRST_SWEEP_AT = 4096;

/**
 * Per session, the latest change of its decision that altered each part of its state (see
 * SessionPart), kept while either engine holds the session: once both have forgotten it (a day
 * after it went idle, by default), its next attempt starts it afresh in both, and what it carried
 * is gone. So memory follows the sessions the engines hold, not the length of the recording.
 */
export class SessionChanges {
  /** Session → per part (index of its bit), the latest change that altered it. */
  private readonly bySession = new Map<string, (SessionChange | undefined)[]>();
  private sweepAt = FIRST_SWEEP_AT;

  constructor(private readonly engines: readonly Engine[]) {}

  /**
   * Call before deciding a line of `session`: forgets what it carried when no engine holds it
   * any longer. (The same whatever share of the sessions a thread decides: every thread's
   * engines expire and forget sessions at the same lines.)
   */
  beforeLine(session: string): void {
    if (this.bySession.has(session) && !this.held(session)) this.bySession.delete(session);
  }

  /** The latest change of the session that altered one of `parts`, if any. */
  latest(session: string, parts: number): SessionChange | undefined {
    const changes = this.bySession.get(session);
    if (changes === undefined || parts === 0) return undefined;
    let found: SessionChange | undefined;
    PARTS.forEach((part, index) => {
      const change = changes[index];
      if ((parts & part) !== 0 && change !== undefined && (found === undefined || change.line > found.line)) found = change;
    });
    return found;
  }

  /** Notes a change of the session's decision that altered `parts` of its state. */
  record(session: string, parts: number, change: SessionChange): void {
    if (parts === 0) return;
    let changes = this.bySession.get(session);
    if (changes === undefined) {
      this.bySession.set(session, (changes = []));
      if (this.bySession.size > this.sweepAt) this.sweep();
    }
    PARTS.forEach((part, index) => {
      if ((parts & part) !== 0) changes[index] = change;
    });
  }

  /** Sessions with changes kept (for tests). */
  get size(): number {
    return this.bySession.size;
  }

  private held(session: string): boolean {
    return this.engines.some((engine) => engine.sessions.holds(session));
  }

  /** Drops the sessions no engine holds; the next sweep comes when as many again are kept (amortized O(1) per session). */
  private sweep(): void {
    for (const session of this.bySession.keys()) if (!this.held(session)) this.bySession.delete(session);
    this.sweepAt = Math.max(FIRST_SWEEP_AT, 2 * this.bySession.size);
  }
}
