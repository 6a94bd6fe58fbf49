import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll } from "vitest";

/**
 * The recordings a test file writes, each in a folder of its own made before its tests and
 * removed after them: `recording(lines)` writes the lines as JSON Lines and gives the path,
 * `folder()` the folder (for a file of a chosen name), and `rewritten(lines, update)` writes the
 * lines' text as given, lets `update` rewrite the file (a replay with `update: true`), and gives
 * the file, what `update` returned and the file's lines after it.
 */
export function temporaryRecordings(prefix: string): {
  recording: (lines: readonly Record<string, unknown>[]) => string;
  folder: () => string;
  rewritten: <R>(lines: readonly string[], update: (file: string) => Promise<R>) => Promise<{ file: string; report: R; after: string[] }>;
} {
  let dir: string | undefined;
  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => rmSync(dir!, { recursive: true, force: true }));
  let counter = 0;
  return {
    recording: (lines) => {
      const path = join(dir!, `r${++counter}.jsonl`);
      writeFileSync(path, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
      return path;
    },
    folder: () => dir!,
    rewritten: async (lines, update) => {
      const file = join(dir!, `update${++counter}.jsonl`);
      writeFileSync(file, lines.join("\n") + "\n");
      const report = await update(file);
      return { file, report, after: readFileSync(file, "utf8").split("\n") };
    },
  };
}

/** A time `minutes` after 09:00 on a day long past (so no wall clock caps the replay's). */
export const at = (minutes: number): string => new Date(Date.UTC(2025, 0, 6, 9, minutes)).toISOString();
