import { chmodSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";

/**
 * Replacing a file's contents the safe way: the new text goes to a temporary file beside the
 * real file (a symbolic link is followed, so the link stays a link), which then takes its place
 * with the same permissions. A failure (no space, no permission) leaves the file as it was,
 * never half written. Used whole (`replaceFile`) or streamed (`--update` of a recording).
 */
export class Replacement {
  private constructor(
    readonly target: string,
    readonly temporary: string,
    readonly mode: number,
  ) {}

  /** Starts replacing the file at `path`. Throws the file-system error when it cannot be found. */
  static of(path: string): Replacement {
    const target = realpathSync(path);
    return new Replacement(target, `${target}.policyc-${process.pid}.tmp`, statSync(target).mode & 0o7777);
  }

  /** Puts the temporary file, now written, in the target's place. Throws the file-system error. */
  commit(): void {
    chmodSync(this.temporary, this.mode);
    renameSync(this.temporary, this.target);
  }

  /** Drops the temporary file: the target stays as it was. */
  abandon(): void {
    try {
      rmSync(this.temporary, { force: true });
    } catch {
      // Nothing more to do: the target itself was not touched.
    }
  }
}

/** Replaces a file's contents (see `Replacement`). Throws the file-system error. */
export function replaceFile(path: string, text: string): void {
  const replacement = Replacement.of(path);
  try {
    writeFileSync(replacement.temporary, text, { mode: replacement.mode });
    replacement.commit();
  } catch (error) {
    replacement.abandon();
    throw error;
  }
}
