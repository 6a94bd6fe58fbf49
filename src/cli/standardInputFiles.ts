import { fstatSync, statSync, type BigIntStats } from "node:fs";
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
 * or the regular file standard input is redirected from. `words.render` prints the line at the
 * file refused (as an input error with its code); without it the line is said as it is.
 */
export function refuseRewriteOfStream(files: readonly string[], cwd: string, io: Io, words: { readonly refusal: string; readonly notAFile: (what: string) => string; readonly readByStandardInput: (file: string) => string; readonly otherStreamsToo: boolean; readonly render?: (file: string, text: string) => string }): string | undefined {
  const input = standardInputFile();
  let why = "";
  const stream = files.find((file) => {
    if (file === STANDARD_INPUT) {
      why = words.notAFile("standard input is a stream");
      return true;
    }
    const path = resolve(cwd, file);
    if (namesStandardInput(file, cwd)) {
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
  if (stream !== undefined) io.err(`${(words.render ?? ((_file: string, text: string) => text))(stream, `${words.refusal}, but ${why}`)}\n`);
  return stream;
}

/** Whether a recording or request path names standard input (`-` as the verbs take it, `/dev/stdin`, `/dev/fd/0`, `/proc/self/fd/0`). */
export function namesStandardInput(file: string, cwd: string): boolean {
  if (file === STANDARD_INPUT) return true;
  const path = resolve(cwd, file);
  return STANDARD_INPUT_ALIASES.has(path) || path === STANDARD_INPUT_PATH;
}

/** The device and inode of the regular file standard input reads from, or undefined when it is none (a pipe, a terminal, closed). */
function standardInputFile(): { dev: bigint; ino: bigint } | undefined {
  return descriptorIdentity(0, { filesOnly: true });
}

/** What tells one open file, pipe or terminal from another: its device and inode, as text. */
export type Identity = string;

/**
 * The identity of what file descriptor `fd` is open on (a file, a pipe, a terminal), or undefined
 * when it is closed, or is a file on a file system without inode numbers (0), where no file can
 * be told from another. `filesOnly`: undefined too for anything but a regular file.
 */
export function descriptorIdentity(fd: number, options: { filesOnly?: boolean } = {}): ({ dev: bigint; ino: bigint } & { key: Identity }) | undefined {
  try {
    return identityOf(fstatSync(fd, { bigint: true }), options);
  } catch {
    return undefined;
  }
}

/** The identity of what `path` names, links followed (see descriptorIdentity), or undefined when nothing is there. */
export function pathIdentity(path: string): Identity | undefined {
  try {
    return identityOf(statSync(path, { bigint: true }), {})?.key;
  } catch {
    return undefined;
  }
}

function identityOf(stat: BigIntStats, options: { filesOnly?: boolean }): ({ dev: bigint; ino: bigint } & { key: Identity }) | undefined {
  if (stat.ino === 0n || (options.filesOnly && !stat.isFile())) return undefined;
  return { dev: stat.dev, ino: stat.ino, key: `${stat.dev}:${stat.ino}` };
}
