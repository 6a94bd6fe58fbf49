import { parseDuration } from "../syntax/literals.js";
import { statSync } from "node:fs";
import { resolve } from "node:path";
import type { Io } from "./io.js";
import { STANDARD_INPUT } from "../testing/recordingSource.js";

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
export const REPLAY_HELP = "recordings: .jsonl (or .ndjson) files, folders of them, quoted globs (** for any folders), or - for standard input (takes every argument after it: give policy paths first)";
export const SESSION_IDLE_HELP = "expire a session after this long without an attempt, as the enforcement point does (a duration: 90m, 8h; default 1h)";

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
    const ms = parseDuration(flags.sessionIdle);
    if (ms === undefined || ms <= 0) {
      io.err(`policyc ${verb}: --session-idle takes a duration such as 90m, 8h or 2d (more than zero), not \`${flags.sessionIdle}\`\n`);
      return undefined;
    }
    parsed.sessionIdleMs = ms;
  }
  return parsed;
}


/**
 * The `--replay` values (`-` read as `/dev/stdin`), or undefined after saying why on stderr:
 * none given, or a policy file among them (`--replay` takes every argument after it, so
 * `--replay a.jsonl p.policy` reads the policy as a recording).
 */
export function recordingsOf(verb: string, replay: readonly string[] | undefined, io: Io): readonly string[] | undefined {
  if (!replay || replay.length === 0) {
    io.err(`policyc ${verb}: say which recordings to replay with --replay FILE… (files, folders of .jsonl or .ndjson files, globs, or - for standard input)\n`);
    return undefined;
  }
  const policy = replay.find((value) => value.endsWith(".policy"));
  if (policy !== undefined) {
    io.err(`policyc ${verb}: \`${policy}\` is a policy file, but --replay takes every argument after it as a recording: put policy paths before --replay\n`);
    return undefined;
  }
  return replay.map((value) => (value === "-" ? STANDARD_INPUT : value));
}

/**
 * The first recording `--update` could not rewrite because it is not a file (standard input, a
 * pipe, a device), said on stderr before anything is replayed; undefined when there is none.
 */
export function refuseUpdateOfStream(files: readonly string[], cwd: string, io: Io): string | undefined {
  const stream = files.find((file) => {
    // Standard input redirected from a file is a file, but rewriting it is not what `-` asked for.
    if (file === STANDARD_INPUT) return true;
    try {
      return !statSync(resolve(cwd, file)).isFile();
    } catch {
      return false; // missing: the replay reports it
    }
  });
  if (stream !== undefined) io.err(`policyc test: --update rewrites recordings in place, but \`${stream}\` is standard input, a pipe or a device, not a file it can rewrite: save the recording to a file and update that\n`);
  return stream;
}
