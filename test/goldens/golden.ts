import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";

/** The folder that holds the golden files (`test/goldens/<name>.txt`). */
export const GOLDENS = dirname(fileURLToPath(import.meta.url));

/**
 * Compares `actual` with the golden file `test/goldens/<name>.txt`. With `UPDATE_GOLDENS=1` the
 * file is (re)written instead, so a deliberate output change is one command plus a reviewed diff.
 * A missing golden fails (rather than being created silently) so CI never passes on nothing.
 */
export function expectGolden(name: string, actual: string): void {
  const path = join(GOLDENS, `${name}.txt`);
  if (process.env["UPDATE_GOLDENS"] === "1") {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`no golden file ${path}: run the tests with UPDATE_GOLDENS=1 to create it`);
  expect(actual).toBe(readFileSync(path, "utf8"));
}

/** A CLI run as a golden records both the exit code and stdout. */
export function runText(result: { code: number; stdout: string }): string {
  return `exit code: ${result.code}\n--- stdout ---\n${result.stdout}`;
}
