import { createReadStream, createWriteStream, mkdtempSync, rmSync, statSync } from "node:fs";
import { Transform } from "node:stream";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { pipeline } from "node:stream/promises";
import { describeFsError } from "../source/loadSources.js";
import { TEMPORARY_FLAG, trackTemporary, untrackTemporary } from "../source/replaceFile.js";

/** Where a recording's bytes are read from, for as long as its replay needs them. */
export interface RecordingSource {
  /** The absolute path to read: the recording itself, or a copy of a pipe's bytes. */
  readonly path: string;
  /** True when `path` is a copy (of standard input, a pipe or a device): it cannot be updated. */
  readonly copied: boolean;
  /** Why the bytes could not be copied, when they could not (the replay reports it). */
  readonly error?: string;
  /** Removes the copy, if any. */
  release(): void;
}

/**
 * Standard input as a recording (what `--replay -` and `--replay /dev/stdin` stand for): a
 * marker, not a name. It starts with a NUL character, which no path can hold (neither one given
 * on a command line nor one a folder or a glob lists), so no file is ever taken for standard
 * input, nor standard input for a file: a file named `standard input` is an ordinary one. A
 * string rather than a symbol, since recordings' names travel to worker threads and into JSON
 * reports, which a symbol would not survive. Shown as `standard input` (`recordingName`) only
 * where a name is printed; read from `/dev/stdin` (or the process's own stream).
 */
export const STANDARD_INPUT = "\0standard input";
const STANDARD_INPUT_PATH = "/dev/stdin";

/** How a report or a message names the recording `file`: as given, and standard input as `standard input`. */
export function recordingName(file: string): string {
  return file === STANDARD_INPUT ? "standard input" : file;
}

/** The absolute path a replay reads `file` from: its copy (`source`) when it has one, else the file. */
export function recordingPath(file: string, options: { readonly cwd?: string; readonly source?: string }): string {
  return options.source ?? (file === STANDARD_INPUT ? STANDARD_INPUT_PATH : resolve(options.cwd ?? ".", file));
}

/**
 * A recording read from standard input, a pipe or a device is copied up to this size: a runaway
 * producer (`yes`, `/dev/zero`) must not fill the disk (or, where the temporary folder is in
 * memory, the RAM). A larger log is replayed from a file.
 */
export const MAX_PIPED_RECORDING_BYTES = 1024 * 1024 * 1024;
const GB = 1024 * 1024 * 1024;

/**
 * The recording `file` (relative to `cwd`) as something that can be read more than once. A
 * file is read where it is. Standard input, a pipe or a device can be read only once, but a
 * replay reads a recording once per thread, and again to explain its failures: their bytes are
 * first copied, streamed, to a temporary file in a folder of its own (unguessable, and removed
 * by `release` or if the run is interrupted), so a piped log is replayed exactly as the same
 * log in a file would be.
 */
export async function recordingSource(file: string, cwd = ".", maxBytes = MAX_PIPED_RECORDING_BYTES): Promise<RecordingSource> {
  const path = file === STANDARD_INPUT ? STANDARD_INPUT_PATH : resolve(cwd, file);
  const direct: RecordingSource = { path, copied: false, release: () => undefined };
  try {
    const stat = statSync(path);
    if (stat.isFile() || stat.isDirectory()) return direct;
  } catch {
    return direct; // missing or unreadable: reading it reports why
  }
  let folder: string;
  try {
    folder = mkdtempSync(join(tmpdir(), "policyc-"));
  } catch (error) {
    return { path, copied: true, error: `cannot read it through a temporary copy in ${tmpdir()}: ${describeFsError(error)}`, release: () => undefined };
  }
  trackTemporary(folder, { folder: true });
  const release = (): void => {
    rmSync(folder, { recursive: true, force: true });
    untrackTemporary(folder);
  };
  const copy = join(folder, "recording.jsonl");
  let copied = 0;
  const bounded = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      copied += chunk.length;
      done(copied > maxBytes ? new TooLarge() : null, chunk);
    },
  });
  try {
    // Standard input through the process's own stream: a socket (what Node gives a child's
    // piped input) cannot be opened again by its /dev/stdin name (ENXIO).
    await pipeline(path === STANDARD_INPUT_PATH ? process.stdin : createReadStream(path), bounded, createWriteStream(copy, { flags: TEMPORARY_FLAG, mode: 0o600 }));
  } catch (error) {
    release();
    const why = error instanceof TooLarge ? `it is larger than ${maxBytes >= GB ? `${maxBytes / GB} GB` : `${maxBytes / 1024 / 1024} MB`}, more than a piped recording may be: save it to a file and replay that` : `cannot read it through a temporary copy in ${tmpdir()}: ${describeFsError(error)}`;
    return { path: copy, copied: true, error: why, release: () => undefined };
  }
  return { path: copy, copied: true, release };
}

class TooLarge extends Error {}
