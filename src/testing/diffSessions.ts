import type { Engine } from "../runtime/engine.js";
import type { SessionState } from "../runtime/session.js";
import { SessionPart } from "./diffCauses.js";

/** A change of a session's decision that altered its state: a later change its state carries is attributed to its cause. */
export interface SessionChange {
  readonly line: number;
  readonly cause: string;
}

const PARTS = Object.values(SessionPart);

/** Per engine, the live state it held of a session before a line was decided (see SessionChanges.beforeLine). */
export type HeldBefore = readonly (SessionState | undefined)[];

/** Sessions whose changes are kept before the first sweep for sessions both engines forgot. */
const FIRST_SWEEP_AT = 4096;

/**
 * Per session, the latest change of its decision that altered each part of its state (see
 * SessionPart), kept while either engine holds the session: once both have forgotten it (a day
 * after it went idle, by default), its next attempt starts it afresh in both, and what it carried
 * is gone. So memory follows the sessions the engines hold, not the length of the recording.
 */
export class SessionChanges {
  /**
   * Session → per part (index of its bit), the latest change that altered it; and `labelsFrom`,
   * the first tool whose returned labels differ between the versions that went ahead in it.
   */
  private readonly bySession = new Map<string, { readonly parts: (SessionChange | undefined)[]; labelsFrom?: string }>();
  private sweepAt = FIRST_SWEEP_AT;

  constructor(private readonly engines: readonly Engine[]) {}

  /**
   * Call before deciding a line of `session`: what each engine holds of it then, for `afterLine`.
   */
  beforeLine(session: string): HeldBefore {
    return this.engines.map((engine) => engine.sessions.get(session));
  }

  /**
   * Call after deciding the line (before `latest`): forgets what the session carried when every
   * engine started it afresh or holds nothing of it. Judged after the decision, since the sweep
   * that forgets idle sessions runs inside it: a session back after a day may be forgotten and
   * started anew by its own line. (The same whatever share of the sessions a thread decides:
   * every thread's engines expire and forget sessions at the same lines.)
   */
  afterLine(session: string, before: HeldBefore): void {
    if (!this.bySession.has(session)) return;
    const afresh = this.engines.every((engine, index) => {
      const now = engine.sessions.get(session);
      return now === undefined ? !engine.sessions.holds(session) : now !== before[index];
    });
    if (afresh) this.bySession.delete(session);
  }

  /** The latest change of the session that altered one of `parts`, if any. */
  latest(session: string, parts: number): SessionChange | undefined {
    const changes = this.bySession.get(session)?.parts;
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
    const changes = this.entryOf(session).parts;
    PARTS.forEach((part, index) => {
      if ((parts & part) !== 0) changes[index] = change;
    });
  }

  /**
   * Notes a call of `tool`, whose returned labels differ between the versions, that went ahead
   * in the session (in either version): the labels the session holds differ from then on.
   */
  labelsReturned(session: string, tool: string): void {
    const entry = this.entryOf(session);
    entry.labelsFrom ??= tool;
  }

  /** The first tool of the session that went ahead with other returned labels in the two versions, if any. */
  labelsFrom(session: string): string | undefined {
    return this.bySession.get(session)?.labelsFrom;
  }

  private entryOf(session: string): { readonly parts: (SessionChange | undefined)[]; labelsFrom?: string } {
    let entry = this.bySession.get(session);
    if (entry === undefined) {
      this.bySession.set(session, (entry = { parts: [] }));
      if (this.bySession.size > this.sweepAt) this.sweep();
    }
    return entry;
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
