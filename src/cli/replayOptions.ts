import { parseDuration } from "../syntax/literals.js";
import { readdirSync } from "node:fs";
import { printable } from "../diagnostics/printable.js";
import { resolve } from "node:path";
import type { Command } from "commander";
import type { Io } from "./io.js";
import { refuseRewriteOfStream, STANDARD_INPUT_PATH } from "./standardInputFiles.js";
import { STANDARD_INPUT } from "../testing/recordingSource.js";
import { isPolicyFileName } from "../source/loadSources.js";
import type { RecordedEngineOptions } from "../testing/decideRecorded.js";
import { MAX_SESSION_LIFETIME_MS } from "../runtime/engine.js";
import { missingRecordingsText, type MissingRecording } from "../testing/expandRecordings.js";
import { INPUT_CODES } from "../testing/inputCodes.js";
import { renderInputError } from "../diagnostics/render.js";

/**
 * The options that say how recordings are replayed, shared by `test`, `diff` and `eval`:
 * `--jobs N` (threads per recording, 1 to 64), and the engine options of the enforcement point
 * that recorded the traffic, so a replay decides as it did: `--session-idle D`,
 * `--expired-session D` and `--revoked-session D` (sessionIdleMs, expiredSessionMs and
 * revokedSessionMs, written as policy durations such as `90m` or `8h`), `--max-window-entries N`
 * and `--max-sessions N`.
 */
export interface ReplayFlags {
  jobs?: string;
  sessionIdle?: string;
  expiredSession?: string;
  revokedSession?: string;
  maxWindowEntries?: string;
  maxSessions?: string;
}

/** `--jobs`'s help; `oneThread`: the verb's flags under which each recording replays on one thread. */
export function jobsHelp(oneThread: readonly string[]): string {
  return `threads per recording, 1 to 64 (default: one per core, up to 8, for recordings of 64 MB or more; else 1; always 1 with ${oneThread.join(", ").replace(/, ([^,]*)$/, " or $1")})`;
}
export const REPLAY_HELP = "recordings: .jsonl (or .ndjson) files, folders of them, quoted globs (** for any folders), or - for standard input (takes every argument after it: give policy paths first)";

/** The engine options' flags: the flag, its help, the ReplayFlags field it fills, the engine option it sets, and what it takes. */
const ENGINE_FLAGS = [
  { flag: "--session-idle <duration>", field: "sessionIdle", option: "sessionIdleMs", takes: "duration", help: "expire a session after this long without an attempt, as the enforcement point does (a duration: 90m, 8h; default 1h)" },
  { flag: "--expired-session <duration>", field: "expiredSession", option: "expiredSessionMs", takes: "duration", help: "remember an expired session (and deny its attempts) this long after its last attempt, as the enforcement point does (default 1d)" },
  { flag: "--revoked-session <duration>", field: "revokedSession", option: "revokedSessionMs", takes: "duration", help: "remember a revoked session this long after its last attempt, as the enforcement point does (a duration, or forever: the default)" },
  { flag: "--max-window-entries <n>", field: "maxWindowEntries", option: "maxWindowEntries", takes: "count", help: "attempts a session.count window keeps, as the enforcement point sets it (beyond it counts fail closed; default: one more than the largest number a count is compared with, or 10000 or more: see language.md)" },
  { flag: "--max-sessions <n>", field: "maxSessions", option: "maxSessions", takes: "count", help: "live sessions kept at most, as the enforcement point sets it (past it new sessions are denied)" },
] as const satisfies readonly { flag: string; field: keyof ReplayFlags; option: keyof RecordedEngineOptions; takes: "duration" | "count"; help: string }[];

/** Adds the engine options' flags (`--session-idle`, `--max-sessions`, …) to a verb that replays recorded requests. */
export function withEngineFlags(command: Command): Command {
  for (const { flag, help } of ENGINE_FLAGS) command.option(flag, help);
  return command;
}

const DAY_MS = 86_400_000;
/** `--revoked-session forever`: the engine's default, a revoked session never forgotten. */
const FOREVER = "forever";

/** The flags as numbers (those given); undefined, after saying why on stderr, when one is not valid. */
export function parseReplayFlags(verb: string, flags: ReplayFlags, io: Io): ({ workers?: number } & RecordedEngineOptions) | undefined {
  const parsed: { workers?: number } & { -readonly [K in keyof RecordedEngineOptions]?: number } = {};
  if (flags.jobs !== undefined) {
    const jobs = Number(flags.jobs);
    if (!/^[0-9]+$/.test(flags.jobs) || jobs < 1 || jobs > 64) {
      io.err(`policyc ${verb}: --jobs takes a number of threads from 1 to 64, not \`${flags.jobs}\`\n`);
      return undefined;
    }
    parsed.workers = jobs;
  }
  for (const { flag, field, option, takes } of ENGINE_FLAGS) {
    const text = flags[field];
    // The engine's default, said as the help says it, so a script can pass it explicitly.
    if (text === undefined || (field === "revokedSession" && text === FOREVER)) continue;
    const name = flag.split(" ")[0];
    const value = takes === "duration" ? parseDuration(text) : /^[0-9]+$/.test(text) ? Number(text) : undefined;
    // The durations are the session lifetimes, at most 100 years (MAX_SESSION_LIFETIME_MS).
    const overLifetime = takes === "duration" && value !== undefined && value > MAX_SESSION_LIFETIME_MS;
    if (value === undefined || !(value > 0) || !Number.isSafeInteger(value) || overLifetime) {
      // A number too large is told the bound it passed, not one it meets.
      const tooLarge = takes === "duration" ? overLifetime || (value === undefined && /^[0-9]+(?:ms|s|m|h|d)$/.test(text)) : value !== undefined && value > 0 && !Number.isSafeInteger(value);
      const wanted = takes === "duration" ? (tooLarge ? `a duration of at most ${MAX_SESSION_LIFETIME_MS / DAY_MS}d (100 years)` : `a duration such as 90m, 8h or 2d (more than zero)${field === "revokedSession" ? `, or ${FOREVER}` : ""}`) : `a whole number of at least 1${tooLarge ? ` and at most ${Number.MAX_SAFE_INTEGER}` : ""}`;
      io.err(`policyc ${verb}: ${name} takes ${wanted}, not \`${text}\`\n`);
      return undefined;
    }
    parsed[option] = value;
  }
  return parsed;
}


/**
 * The `--replay` values (`-` and `/dev/stdin` as `STANDARD_INPUT`), or undefined after saying why on stderr:
 * none given, or a policy file among them (`--replay` takes every argument after it, so
 * `--replay a.jsonl p.policy` reads the policy as a recording).
 */
export function recordingsOf(verb: string, replay: readonly string[] | undefined, io: Io): readonly string[] | undefined {
  if (!replay || replay.length === 0) {
    io.err(`policyc ${verb}: say which recordings to replay with --replay FILE… (files, folders of .jsonl or .ndjson files, globs, or - for standard input)\n`);
    return undefined;
  }
  const policy = policyAmongRecordings(verb, replay);
  if (policy !== undefined) {
    io.err(policy);
    return undefined;
  }
  // `/dev/stdin` is standard input as `-` is: read through the process's own stream, named
  // `standard input`, one recording with `-` (not two), and never rewritten by --update.
  return replay.map((value) => (value === "-" || value === STANDARD_INPUT_PATH ? STANDARD_INPUT : value));
}

/**
 * Why a policy file among the `--replay` values is wrong there, or undefined when there is none.
 * Also said for `diff --replay r.jsonl old.policy new.policy`, which commander refuses first for
 * want of OLD and NEW. With `noPolicyPaths` (the verb was given none: `test --replay r.jsonl
 * policies/`), a folder that holds policy files is named too: the usual way to give a policy set,
 * swallowed by --replay. Beside policy paths such a folder may well hold recordings too.
 */
export function policyAmongRecordings(verb: string, replay: readonly string[], options: { cwd?: string; noPolicyPaths?: boolean } = {}): string | undefined {
  const policy = replay.find(isPolicyFileName);
  const advice = "but --replay takes every argument after it as a recording: put policy paths before --replay";
  if (policy !== undefined) return `policyc ${verb}: \`${printable(policy)}\` is a policy file, ${advice}\n`;
  if (!options.noPolicyPaths) return undefined;
  const folder = replay.find((value) => holdsPolicyFiles(resolve(options.cwd ?? ".", value)));
  return folder === undefined ? undefined : `policyc ${verb}: \`${printable(folder)}\` is a folder of policy files, ${advice}\n`;
}

/** Whether `path` is a folder with a policy file directly in it. */
function holdsPolicyFiles(path: string): boolean {
  try {
    return readdirSync(path, { withFileTypes: true }).some((entry) => !entry.isDirectory() && isPolicyFileName(entry.name));
  } catch {
    return false; // not a folder, or not readable: the recordings' reader says so
  }
}

/**
 * Says on stderr, one line each, which `--replay` arguments gave no recording, as a recording
 * that cannot be read is said (`missing.jsonl: error[PC600]: no such file or folder`), and
 * returns the phrase a report gives as the reason the run did not start.
 */
export function reportMissingRecordings(missing: readonly MissingRecording[], io: Io): string {
  for (const { place, why } of missing) io.err(`${renderInputError(place, INPUT_CODES.unreadableFile, why, io.errPalette)}\n`);
  return missingRecordingsText(missing);
}

/**
 * The first recording `--update` could not rewrite, said on stderr before anything is replayed;
 * undefined when there is none. Not a file: standard input, a pipe, a device. Nor standard input
 * redirected from a file (`< log.jsonl`), by any name (`-`, `/dev/stdin`, `/dev/fd/0`, the
 * file's own): rewriting the file behind standard input is not what reading standard input asked
 * for, and writing the file policyc is reading from is how logs get lost.
 */
export function refuseUpdateOfStream(files: readonly string[], cwd: string, io: Io): string | undefined {
  const notAFile = (what: string): string => `${what}, not a file it can rewrite: save the recording to a file and update that`;
  return refuseRewriteOfStream(files, cwd, io, {
    refusal: "--update rewrites recordings in place",
    // Said as a recording --update cannot rewrite is (PC604), at the recording's name.
    render: (file, text) => renderInputError(file === STANDARD_INPUT ? "standard input" : printable(file), INPUT_CODES.notUpdatable, text, io.errPalette),
    notAFile,
    readByStandardInput: (file) => `\`${printable(file)}\` is also what standard input reads (\`<\` redirects it), which it never rewrites: give the file as a --replay path only`,
    otherStreamsToo: true,
  });
}

