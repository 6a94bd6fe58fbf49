/**
 * Per-session state, kept in memory by the engine and by `policyc test` replays alike. Only
 * what the compiled policy reads is kept (`SessionUse`), and windows are only as long as the
 * longest `within` in the policy, so a session costs a few hundred bytes.
 */

/** What the policy reads from the session; computed by the compiler, stored in the bundle. */
export interface SessionUse {
  readonly labels: boolean;
  readonly tools: boolean;
  readonly repeats: boolean;
  /** Keep attempt times for `session.count(… within D)`: the longest D in ms, 0 when unused. */
  readonly windowMs: number;
  /** Keep the tool of each windowed attempt (some `count` has a pattern). */
  readonly windowTools: boolean;
  /**
   * The tool lists of the `session.called(PATTERN…)` in the policy, one per distinct pattern:
   * the session keeps the last allowed time per pattern, so a check is one array read.
   */
  readonly called: readonly (readonly string[])[];
}


/** How far ahead of the wall clock a request's time may move the sweep's clock. */
const FUTURE_SLACK_MS = 5 * 60 * 1000;

/** Attempts remembered per session for windows, at most; counts saturate there. */
export const MAX_WINDOW_ENTRIES = 4096;

export interface Revocation {
  readonly rule: string;
  readonly reason: string;
  readonly location: string;
}

export class SessionState {
  /** Epoch ms of the first attempt. */
  readonly firstSeen: number;
  lastSeen: number;
  calls = 0;
  denials = 0;
  last = "";
  labels: Set<string> | undefined;
  tools: Set<string> | undefined;
  /** Arguments of the previous attempt, and how many identical attempts in a row ended with it. */
  lastArgs: unknown;
  run = 0;
  /**
   * Attempt times inside the longest window, oldest first, from index `head` on: expired
   * entries are skipped by moving `head` and compacted away in batches, so recording an
   * attempt does not shift the whole window every time. (Entries before `head` are expired:
   * `windowSize` is the number of live ones.)
   * @internal
   */
  times: number[] | undefined;
  /** The tool of each windowed attempt, as its ordinal (position among the declared tools). */
  windowTools: number[] | undefined;
  /** Index of the oldest live entry of `times` (and `windowTools`). */
  head = 0;
  /** Last allowed time per `session.called` pattern (index in `SessionUse.called`). */
  calledAt: number[] | undefined;
  revoked: Revocation | undefined;

  constructor(now: number, use: SessionUse) {
    this.firstSeen = now;
    this.lastSeen = now;
    if (use.labels) this.labels = new Set();
    if (use.tools) this.tools = new Set();
    if (use.windowMs > 0) this.times = [];
    if (use.windowTools) this.windowTools = [];
    if (use.called.length > 0) this.calledAt = new Array<number>(use.called.length).fill(Number.NEGATIVE_INFINITY);
  }

  /** Attempts currently in the window. */
  get windowSize(): number {
    return this.times ? this.times.length - this.head : 0;
  }

  /**
   * Attempts of the window at or after `since` (this attempt excluded), optionally only of the
   * tools whose ordinal is set in `tools` (a mask: one array read per attempt, no hashing).
   */
  countSince(since: number, tools: Uint8Array | null): number {
    const times = this.times;
    if (!times) return 0;
    // Times are in order: find the first one at or after `since` by binary search.
    let low = this.head;
    let high = times.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if (times[mid]! < since) low = mid + 1;
      else high = mid;
    }
    if (tools === null) return times.length - low;
    const windowTools = this.windowTools!;
    let count = 0;
    for (let i = low; i < times.length; i++) if (tools[windowTools[i]!] === 1) count++;
    return count;
  }

  /** Whether an allowed call matching `session.called` pattern number `index` happened at or after `since`. */
  calledSince(index: number, since: number): boolean {
    const at = this.calledAt?.[index];
    // Never called is -Infinity, which must not count even when `since` is -Infinity (no window).
    return at !== undefined && at !== Number.NEGATIVE_INFINITY && at >= since;
  }
}

/** A session store with idle expiry driven by request time, so replays behave like production. */
export class SessionStore {
  private readonly sessions = new Map<string, SessionState>();
  /** Per tool ordinal, the `session.called` patterns (indices) it matches. */
  private readonly patternsByOrdinal: readonly (readonly number[])[];
  private lastSweep = Number.NEGATIVE_INFINITY;
  /** The latest request time seen (the clock the sweep goes by). */
  private latest = Number.NEGATIVE_INFINITY;

  constructor(
    readonly use: SessionUse,
    /** The declared tools, in declaration order. */
    toolNames: readonly string[],
    /** Sessions idle this long are forgotten. */
    readonly idleMs = 60 * 60 * 1000,
    /** Revoked sessions are remembered longer, so an agent cannot wait out a revocation. */
    readonly revokedIdleMs = 24 * 60 * 60 * 1000,
  ) {
    this.patternsByOrdinal = toolNames.map((name) => use.called.flatMap((tools, index) => (tools.includes(name) ? [index] : [])));
  }

  get size(): number {
    return this.sessions.size;
  }

  get(id: string): SessionState | undefined {
    return this.sessions.get(id);
  }

  getOrCreate(id: string, now: number): SessionState {
    if (now > this.latest) this.latest = now;
    if (this.latest - this.lastSweep > this.idleMs / 4) this.sweep();
    let state = this.sessions.get(id);
    // Expiry is judged by the session's own clock only, so one session's traffic never changes
    // another's decisions (and replaying sessions apart gives the same answers).
    if (state !== undefined && now - state.lastSeen > (state.revoked ? this.revokedIdleMs : this.idleMs)) state = undefined;
    if (state === undefined) {
      state = new SessionState(now, this.use);
      this.sessions.set(id, state);
    }
    return state;
  }

  /**
   * Frees sessions idle longer than their limit, judged against the latest request time seen.
   * That time is capped at the wall clock plus five minutes, so one request dated far in the
   * future cannot wipe every session (revocations included). Runs at most every quarter of the
   * idle time.
   */
  sweep(): void {
    const horizon = Math.min(this.latest, Date.now() + FUTURE_SLACK_MS);
    this.lastSweep = horizon;
    for (const [id, state] of this.sessions) {
      const limit = state.revoked ? this.revokedIdleMs : this.idleMs;
      if (horizon - state.lastSeen > limit) this.sessions.delete(id);
    }
  }

  clear(): void {
    this.sessions.clear();
  }

  /**
   * Records an attempt after its decision: counted always; on allow, its tool and labels join
   * the session; a denial is counted; windows drop entries older than the longest `within`.
   */
  /**
   * `toolOrdinal` is the tool's position among the declared tools (-1 for an unknown tool): the
   * engine knows it, so recording costs no lookup by name.
   */
  record(state: SessionState, now: number, tool: string, toolOrdinal: number, same: boolean | undefined, args: unknown, allowed: boolean, denied: boolean, labels: unknown, returns: readonly string[] | undefined): void {
    state.calls++;
    if (now > state.lastSeen) state.lastSeen = now;
    state.last = tool;
    if (denied) state.denials++;
    // `same` is undefined when the policy never reads `session.repeats`.
    if (same !== undefined) {
      if (same) state.run++;
      else {
        state.lastArgs = args;
        state.run = 1;
      }
    }
    const times = state.times;
    if (times) this.addToWindow(state, times, now, toolOrdinal);
    if (allowed) {
      state.tools?.add(tool);
      // The latest allowed time per pattern, whatever order the attempts arrive in.
      const calledAt = state.calledAt;
      if (calledAt) for (const index of this.patternsByOrdinal[toolOrdinal] ?? []) if (calledAt[index]! < now) calledAt[index] = now;
      if (state.labels) {
        // `context.labels` as sent (declared or not): only string items are labels.
        if (Array.isArray(labels)) for (const label of labels) if (typeof label === "string") state.labels.add(label);
        if (returns) for (const label of returns) state.labels.add(label);
      }
    }
  }

  /** Adds an attempt to the window, after dropping the attempts older than the longest `within`. */
  private addToWindow(state: SessionState, times: number[], now: number, toolOrdinal: number): void {
    const horizon = now - this.use.windowMs;
    const tools = state.windowTools;
    let head = state.head;
    while (head < times.length && times[head]! < horizon) head++;
    if (times.length - head >= MAX_WINDOW_ENTRIES) head = times.length - MAX_WINDOW_ENTRIES + 1;
    // Compact once the dead prefix is as long as the live part: amortized O(1) per attempt.
    if (head > 0 && head * 2 >= times.length) {
      times.splice(0, head);
      tools?.splice(0, head);
      head = 0;
    }
    state.head = head;
    // Kept in time order, which `countSince` relies on: an attempt whose time is earlier than
    // the last one's (clock skew, concurrent calls) is inserted in place, not appended, or the
    // attempts after it would fall out of the count.
    let at = times.length;
    while (at > head && times[at - 1]! > now) at--;
    if (at === times.length) {
      times.push(now);
      tools?.push(toolOrdinal);
    } else {
      times.splice(at, 0, now);
      tools?.splice(at, 0, toolOrdinal);
    }
  }
}
