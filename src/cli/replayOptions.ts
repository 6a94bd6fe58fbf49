import type { Io } from "./io.js";

/**
 * The options that say how recordings are replayed, shared by `test`, `diff` and `eval`:
 * `--jobs N` (threads per recording, 1 to 64) and `--session-idle D` (the engine's
 * sessionIdleMs, written as a policy duration such as `90m` or `8h`, so a replay expires sessions
 * when the enforcement point that recorded the traffic did).
 */
export interface ReplayFlags {
  jobs?: string;
  sessionIdle?: string;
}

export const JOBS_HELP = "threads per recording (default: one per core, up to 8, for recordings of 64 MB or more; else 1)";
export const SESSION_IDLE_HELP = "expire a session after this long without an attempt, as the enforcement point does (a duration: 90m, 8h; default 1h)";

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** The flags as numbers (those given); undefined, after saying why on stderr, when one is not valid. */
export function parseReplayFlags(verb: string, flags: ReplayFlags, io: Io): { workers?: number; sessionIdleMs?: number } | undefined {
  const parsed: { workers?: number; sessionIdleMs?: number } = {};
  if (flags.jobs !== undefined) {
    const jobs = Number(flags.jobs);
    if (!/^[0-9]+$/.test(flags.jobs) || jobs < 1 || jobs > 64) {
      io.err(`policyc ${verb}: --jobs takes a number of threads from 1 to 64, not \`${flags.jobs}\`\n`);
      return undefined;
    }
    parsed.workers = jobs;
  }
  if (flags.sessionIdle !== undefined) {
    const match = /^([0-9]+)(ms|s|m|h|d)$/.exec(flags.sessionIdle);
    const ms = match ? Number(match[1]) * UNIT_MS[match[2]!]! : Number.NaN;
    if (!(Number.isSafeInteger(ms) && ms > 0)) {
      io.err(`policyc ${verb}: --session-idle takes a duration such as 90m, 8h or 2d (more than zero), not \`${flags.sessionIdle}\`\n`);
      return undefined;
    }
    parsed.sessionIdleMs = ms;
  }
  return parsed;
}
