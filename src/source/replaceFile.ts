import { chmodSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";

/**
 * Replaces a file's contents the safe way: the new text goes to a temporary file beside it,
 * which then takes its place with the same permissions. A failure (no space, no permission)
 * leaves the file as it was, never half written; a symbolic link stays a link. Throws the
 * file-system error.
 */
export function replaceFile(path: string, text: string): void {
  const target = realpathSync(path);
  const mode = statSync(target).mode & 0o7777;
  const temporary = `${target}.policyc-${process.pid}.tmp`;
  try {
    writeFileSync(temporary, text, { mode });
    chmodSync(temporary, mode);
    renameSync(temporary, target);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw error;
  }
}
