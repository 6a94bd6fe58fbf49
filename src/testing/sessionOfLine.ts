import { decodeString } from "../syntax/literals.js";

/**
 * The top-level `session` of a JSON line, found without parsing the whole line: a scan that
 * tracks strings and nesting. Used to split a recording between replay workers by session
 * (sessions are independent, so each worker parses only its own lines). Returns undefined
 * whenever it cannot be sure what `JSON.parse` would make of it: not an object, no string
 * `session`, or the key twice (the parse keeps the last) — also written with escapes. Such a
 * line is parsed by every worker, and each keeps it only if the parsed session is its own.
 */
export function sessionOfLine(line: string): string | undefined {
  let i = 0;
  const n = line.length;
  while (i < n && line.charCodeAt(i) <= 32) i++;
  if (line.charCodeAt(i) !== 123 /* { */) return undefined;
  let depth = 0;
  let session: string | undefined;
  let expectKey = false;
  for (; i < n; i++) {
    const ch = line.charCodeAt(i);
    if (ch === 34 /* " */) {
      const end = stringEnd(line, i);
      if (end < 0) return undefined;
      if (depth === 1 && expectKey && isSessionKey(line, i, end)) {
        if (session !== undefined) return undefined; // twice: the parse keeps the last
        // Skip `:` and read the value.
        let j = end + 1;
        while (j < n && line.charCodeAt(j) <= 32) j++;
        if (line.charCodeAt(j) !== 58 /* : */) return undefined;
        j++;
        while (j < n && line.charCodeAt(j) <= 32) j++;
        if (line.charCodeAt(j) !== 34) return undefined;
        const valueEnd = stringEnd(line, j);
        if (valueEnd < 0) return undefined;
        session = decodeString(line.slice(j, valueEnd + 1));
        if (session === undefined) return undefined;
        i = valueEnd;
        expectKey = false;
        continue;
      }
      i = end;
      expectKey = false;
    } else if (ch === 123 || ch === 91) {
      depth++;
      expectKey = ch === 123 && depth === 1;
    } else if (ch === 125 || ch === 93) depth--;
    else if (ch === 44 /* , */ && depth === 1) expectKey = true;
  }
  return session;
}

/** Whether the string token line[start..end] (quotes included) is the key `session`, escapes and all. */
function isSessionKey(line: string, start: number, end: number): boolean {
  if (end - start === 8) return line.startsWith('"session"', start);
  // `"sess\u0069on"` is the same key to JSON.parse.
  if (end - start <= 8) return false;
  const escape = line.indexOf("\\", start);
  return escape !== -1 && escape < end && decodeString(line.slice(start, end + 1)) === "session";
}

/** Index of the closing quote of the string starting at `start`, or -1. */
function stringEnd(line: string, start: number): number {
  for (let i = start + 1; i < line.length; i++) {
    const ch = line.charCodeAt(i);
    if (ch === 92 /* \ */) i++;
    else if (ch === 34) return i;
  }
  return -1;
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
 * one share and every malformed line reported by exactly one. `keep` runs on the raw text, so a
 * share parses only its own sessions' lines, and those whose session the scan cannot be sure of;
 * `belongsElsewhere` then drops, after parsing, a line another share owns. Malformed lines belong
 * to the owner of the session the scan read, else to the first share.
 */
export function shareFilter(share: Share): { keep: (line: string) => boolean; belongsElsewhere: (line: { ok: boolean; text: string; request?: Record<string, unknown> }) => boolean } {
  const owner = (session: string): boolean => partitionOf(session, share.count) === share.index;
  return {
    keep: (line) => {
      const session = sessionOfLine(line);
      return session === undefined || owner(session);
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
