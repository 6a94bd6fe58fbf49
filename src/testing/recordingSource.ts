import { createReadStream, createWriteStream, rmSync, statSync } from "node:fs";
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

let copies = 0;
const STANDARD_INPUT = "/dev/stdin";

/**
 * The recording `file` (relative to `cwd`) as something that can be read more than once. A
 * file is read where it is. Standard input, a pipe or a device can be read only once, but a
 * replay reads a recording once per thread, and again to explain its failures: their bytes are
 * first copied, streamed, to a temporary file (removed by `release`, or if the run is
 * interrupted), so a piped log is replayed exactly as the same log in a file would be.
 */
export async function recordingSource(file: string, cwd = "."): Promise<RecordingSource> {
  const path = resolve(cwd, file);
  const direct: RecordingSource = { path, copied: false, release: () => undefined };
  try {
    const stat = statSync(path);
    if (stat.isFile() || stat.isDirectory()) return direct;
  } catch {
    return direct; // missing or unreadable: reading it reports why
  }
  const copy = join(tmpdir(), `policyc-recording-${process.pid}-${++copies}.jsonl`);
  const release = (): void => {
    rmSync(copy, { force: true });
    untrackTemporary(copy);
  };
  trackTemporary(copy);
  try {
    // Standard input through the process's own stream: a socket (what Node gives a child's
    // piped input) cannot be opened again by its /dev/stdin name (ENXIO).
    await pipeline(path === STANDARD_INPUT ? process.stdin : createReadStream(path), createWriteStream(copy, { flags: TEMPORARY_FLAG, mode: 0o600 }));
  } catch (error) {
    release();
    return { path: copy, copied: true, error: `cannot read it through a temporary copy in ${tmpdir()}: ${describeFsError(error)}`, release: () => undefined };
  }
  return { path: copy, copied: true, release };
}
