import { closeSync, fstatSync, openSync, readSync } from "node:fs";

/** Input larger than a reader accepts: refused before it is all in memory. */
export class InputTooLarge extends Error {
  readonly code = "ETOOLARGE";
  constructor(readonly limit: number) {
    super(`it is larger than ${limit >= 1_048_576 ? `${limit / 1_048_576} MB` : `${limit} bytes`}`);
    this.name = "InputTooLarge";
  }
}

const CHUNK = 1 << 16;
const pause = new Int32Array(new SharedArrayBuffer(4));

/**
 * Reads a whole file (or an open descriptor, such as 0 for standard input) of at most `limit`
 * bytes. Unlike `readFileSync` it stops as soon as the input is too large, so `/dev/zero`, a
 * runaway pipe or a device cannot take all memory: it throws `InputTooLarge`. Other failures
 * throw the file-system error.
 */
export function readLimited(file: string | number, limit: number): Buffer {
  const fd = typeof file === "number" ? file : openSync(file, "r");
  try {
    // A regular file opened here says its size: one over the limit is refused at once, not read
    // up to it (seconds, and the limit's worth of memory). Pipes and devices say none; the loop
    // stops them. Not a descriptor given open (standard input): it may be a file already read
    // partway (a script reads a header, then hands its standard input on), whose size is not what
    // is left to read; the loop stops it too.
    if (typeof file === "string") {
      const stats = fstatSync(fd);
      if (stats.isFile() && stats.size > limit) throw new InputTooLarge(limit);
    }
    const chunks: Buffer[] = [];
    let total = 0;
    for (;;) {
      const buffer = Buffer.allocUnsafe(CHUNK);
      let read: number;
      try {
        read = readSync(fd, buffer, 0, CHUNK, null);
      } catch (error) {
        // A non-blocking pipe with nothing yet: wait a little and read again.
        if ((error as { code?: string }).code === "EAGAIN") {
          Atomics.wait(pause, 0, 0, 10);
          continue;
        }
        throw error;
      }
      if (read === 0) break;
      total += read;
      if (total > limit) throw new InputTooLarge(limit);
      chunks.push(read === CHUNK ? buffer : buffer.subarray(0, read));
    }
    return Buffer.concat(chunks, total);
  } finally {
    if (typeof file !== "number") closeSync(fd);
  }
}
