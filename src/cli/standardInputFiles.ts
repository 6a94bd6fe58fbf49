import { fstatSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { printable } from "../diagnostics/printable.js";
import { STANDARD_INPUT } from "../testing/recordingSource.js";
import type { Io } from "./io.js";

/**
 * Standard input by its names, for the verbs that rewrite files in place (`test --update`,
 * `fmt --write`): what was read from a stream is never written over the file behind it.
 */

/** Standard input's own name, which `--replay` takes as `-`. */
export const STANDARD_INPUT_PATH = "/dev/stdin";

/** The other names of standard input (a file descriptor's), refused by --update whatever fd 0 is, even closed. */
const STANDARD_INPUT_ALIASES = new Set(["/dev/fd/0", "/proc/self/fd/0"]);

/**
 * The first of `files` a verb that rewrites files in place (`test --update`, `fmt --write`) must
 * not rewrite, said on stderr as `words` say it; undefined when there is none: standard input
 * (`STANDARD_INPUT`, or a name of it such as `/dev/stdin`, whatever fd 0 is), a pipe or a device,
 * or the regular file standard input is redirected from.
 */
export function refuseRewriteOfStream(files: readonly string[], cwd: string, io: Io, words: { readonly refusal: string; readonly notAFile: (what: string) => string; readonly readByStandardInput: (file: string) => string; readonly otherStreamsToo: boolean }): string | undefined {
  const input = standardInputFile();
  let why = "";
  const stream = files.find((file) => {
    if (file === STANDARD_INPUT) {
      why = words.notAFile("standard input is a stream");
      return true;
    }
    const path = resolve(cwd, file);
    if (STANDARD_INPUT_ALIASES.has(path) || path === STANDARD_INPUT_PATH) {
      why = words.notAFile(`\`${printable(file)}\` is standard input`);
      return true;
    }
    let stat;
    try {
      stat = statSync(path, { bigint: true });
    } catch {
      return false; // missing: the verb reports it
    }
    if (stat.isDirectory()) return false; // a folder's files are the verb's to list
    if (!stat.isFile()) {
      // (fmt reads a named pipe as its source and then refuses to replace it, saying so.)
      if (!words.otherStreamsToo) return false;
      why = words.notAFile(`\`${printable(file)}\` is a pipe or a device`);
    } else if (input !== undefined && stat.dev === input.dev && stat.ino === input.ino) why = words.readByStandardInput(file);
    else return false;
    return true;
  });
  if (stream !== undefined) io.err(`${words.refusal}, but ${why}\n`);
  return stream;
}

/** The device and inode of the regular file standard input reads from, or undefined when it is none (a pipe, a terminal, closed). */
function standardInputFile(): { dev: bigint; ino: bigint } | undefined {
  try {
    const stat = fstatSync(0, { bigint: true });
    // Some file systems give no inode numbers (0): no file there can be told from another.
    return stat.isFile() && stat.ino !== 0n ? { dev: stat.dev, ino: stat.ino } : undefined;
  } catch {
    return undefined;
  }
}
