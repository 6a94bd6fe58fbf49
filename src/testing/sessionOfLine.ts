import { decodeString } from "../syntax/literals.js";
import { walkTopLevelMembers } from "./spliceExpectation.js";
import { BACKSLASH, isJsonWhitespace, QUOTE } from "../diagnostics/jsonCharacters.js";

/**
 * The top-level `session` of a JSON line, found without parsing the whole line: the scan of its
 * top-level members that `--update` uses too (spliceExpectation.ts). Used to split a recording between replay workers by session
 * (sessions are independent, so each worker parses only its own lines). Returns undefined
 * whenever it cannot be sure what `JSON.parse` would make of it: not an object, no string
 * `session`, or the key twice (the parse keeps the last) — also written with escapes. Such a
 * line is parsed by every worker, and each keeps it only if the parsed session is its own.
 */
export function sessionOfLine(line: string): string | undefined {
  return attemptOfLine(line)?.session;
}

/** What a scan of a line's text reads of it (`attemptOfLine`); `event` is "approval" on an approval line, which moves no clock, "revocation" on a revocation line, which moves it to its time (`observeLine`). */
export type LineOutline = { session: string; tool?: string | null; time?: string | null; event?: string | null };

/**
 * The outline of the attempt a JSON line records, from one scan of its raw text: its session,
 * and its tool, time and event as JSON.parse would read them (a value that is not a string as
 * null, which the engine refuses as it would the parsed value; the last of a repeated key).
 * What `Engine.observe` needs to move the clock as deciding the line would, and whether the
 * line is an approval, which does not. Undefined when the scan cannot be sure of the session
 * (see `sessionOfLine`).
 */
export function attemptOfLine(line: string): LineOutline | undefined {
  let session: string | undefined;
  const attempt: LineOutline = { session: "" };
  const close = walkTopLevelMembers(line, (keyFrom, keyEnd, start, end) => {
    const key = outlineKey(line, keyFrom, keyEnd);
    if (key === null) return false;
    if (key === undefined) return true;
    // A string that does not decode is no string: null, which the engine refuses (never absent,
    // which would read the time from the wall clock).
    const value = (line.charCodeAt(start) === QUOTE ? decodeString(line.slice(start, end)) : undefined) ?? null;
    if (key !== "session") attempt[key] = value;
    // Twice (the parse keeps the last, written perhaps with escapes), or not a string: not sure.
    else if (session !== undefined || value === null) return false;
    else session = value;
    return true;
  });
  // Text after the object (`{…}{`) is no line JSON.parse takes: not sure of it either.
  if (close === undefined || session === undefined || !isBlankFrom(line, close + 1)) return undefined;
  attempt.session = session;
  return attempt;
}

/** The members of a line's outline (`LineOutline`). */
type OutlineKey = "session" | "tool" | "time" | "event";

/**
 * The key written from `from` (its opening quote) to `end` (past its closing quote), when it is
 * one the outline reads: decoded as JSON.parse reads it (`"sess\u0069on"` is `session`).
 * Undefined for another key, null when it does not decode.
 */
function outlineKey(line: string, from: number, end: number): OutlineKey | undefined | null {
  const length = end - from - 2;
  // (A backslash looked for in the key alone: searched to the line's end, each key of a line of
  // 800,000 keys walked the rest of it, and one such line took 40 s.)
  let escaped = false;
  for (let at = from + 1; at < end - 1 && !escaped; at++) escaped = line.charCodeAt(at) === BACKSLASH;
  if (!escaped) {
    // Most keys: compared where they stand, nothing sliced.
    if (length === 7 && line.startsWith("session", from + 1)) return "session";
    if (length === 4) {
      if (line.startsWith("tool", from + 1)) return "tool";
      if (line.startsWith("time", from + 1)) return "time";
    }
    if (length === 5 && line.startsWith("event", from + 1)) return "event";
    return undefined;
  }
  const key = decodeString(line.slice(from, end));
  if (key === undefined) return null;
  return key === "session" || key === "tool" || key === "time" || key === "event" ? key : undefined;
}

/** Whether `text` holds only JSON whitespace from `from` on. */
function isBlankFrom(text: string, from: number): boolean {
  for (let at = from; at < text.length; at++) if (!isJsonWhitespace(text.charCodeAt(at))) return false;
  return true;
}

/**
 * Moves `engines`' clocks for a line of the recording that they do not replay (another
 * thread's, another session's under `--session`): as deciding it would (`Engine.observe`), by
 * its request or the outline a scan read (`attemptOfLine`). An approval line moves nothing, as
 * `Engine.approved` moves no clock in production either. A revocation line moves the clocks to
 * its `time` as an attempt so dated would: production's `Engine.revoke` read the enforcement
 * point's clock then, for which a replay has only the recorded times (undated, it moves nothing:
 * it comes at the time of the lines before it, never at the wall clock's).
 */
export function observeLine(line: Readonly<Record<string, unknown>> | LineOutline, ...engines: readonly { observe(input: unknown): void }[]): void {
  const event = line["event"];
  if (event === "approval") return;
  if (event === "revocation") {
    if (typeof line["time"] !== "string") return;
    // `observe` reads an attempt, which names a tool: a revocation names none, and the tool is
    // never looked up there, so a name no tool has stands for it.
    const dated = { session: line["session"], tool: REVOCATION_STAND_IN_TOOL, time: line["time"] };
    for (const engine of engines) engine.observe(dated);
    return;
  }
  for (const engine of engines) engine.observe(line);
}

/** The tool a revocation line is observed with (`observeLine`): no tool's name (a name has no spaces). */
const REVOCATION_STAND_IN_TOOL = "(revocation)";

/**
 * Moves `engines`' clocks for a line that is not decided because it is malformed, by what a
 * scan of its text reads (`attemptOfLine`), exactly as a replay thread does for another
 * thread's line it passes over unparsed: whichever thread meets the line, and whether or not it
 * was parsed, the clocks move the same way, so the decisions of a replay do not depend on
 * `--jobs`. (The request itself may well have reached the enforcement point: often only its
 * expectation is malformed.)
 */
export function observeMalformed(text: string, ...engines: readonly { observe(input: unknown): void }[]): void {
  const attempt = attemptOfLine(text);
  if (attempt !== undefined) observeLine(attempt, ...engines);
}

/** Which of `count` workers replays a session: a stable string hash (FNV-1a). */
export function partitionOf(session: string, count: number): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < session.length; i++) {
    hash ^= session.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 0) % count;
}

/** One share of a recording replayed on several threads: share `index` of `count`. */
export interface Share {
  readonly index: number;
  readonly count: number;
}

/**
 * How one share of a parallel replay picks its lines, so that every line is decided by exactly
 * one share and every malformed line reported by exactly one. `elsewhere` runs on the raw text,
 * so a share parses only its own sessions' lines, and those whose session the scan cannot be
 * sure of; it gives the outline of another share's attempt, which the share's engine observes
 * (its clock moves as in a replay of the whole log). `belongsElsewhere` then drops, after
 * parsing, a line another share owns. Malformed lines belong to the owner of the session the
 * scan read, else to the first share.
 */
export function shareFilter(share: Share): { elsewhere: (line: string) => Record<string, unknown> | undefined; belongsElsewhere: (line: { ok: boolean; text: string; request?: Record<string, unknown> }) => boolean } {
  const owner = (session: string): boolean => partitionOf(session, share.count) === share.index;
  return {
    elsewhere: (line) => {
      const attempt = attemptOfLine(line);
      // A revocation line is read whole on every thread (they are few): each thread's engine is
      // told of a well-formed one of a session not started yet (PassedOverLines), never of a malformed one.
      return attempt === undefined || owner(attempt.session) || attempt.event === "revocation" ? undefined : attempt;
    },
    belongsElsewhere: (line) => {
      if (!line.ok) {
        const scanned = sessionOfLine(line.text);
        return scanned === undefined ? share.index !== 0 : !owner(scanned);
      }
      const session = line.request?.["session"];
      return typeof session === "string" ? !owner(session) : share.index !== 0;
    },
  };
}
