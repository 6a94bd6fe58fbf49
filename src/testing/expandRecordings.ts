import { readdirSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { globMatch } from "../runtime/glob.js";

/**
 * Expands `--replay` arguments: files as given, folders to their `*.jsonl` (recursively), and
 * quoted globs with `*` in the last segment (`recordings/*.jsonl`) or `**` for any depth.
 * Paths that exist nowhere are returned as missing so the caller can say so.
 */
export function expandRecordings(patterns: readonly string[]): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  for (const pattern of patterns) {
    if (pattern.includes("*")) {
      const recursive = pattern.includes("**");
      const root = pattern.slice(0, pattern.indexOf("*")).replace(/[^/]*$/, "") || ".";
      const found: string[] = [];
      walk(root, recursive || dirname(pattern).includes("*"), (path) => {
        if (recursive ? globMatch(pattern.replace(/\*\*\/?/g, "*"), path) : dirname(path) === dirname(pattern) && globMatch(basename(pattern), basename(path))) found.push(path);
      });
      if (found.length === 0) missing.push(pattern);
      files.push(...found.sort());
      continue;
    }
    let isDirectory = false;
    try {
      isDirectory = statSync(pattern).isDirectory();
    } catch {
      files.push(pattern); // the runner reports it as unreadable, with its name
      continue;
    }
    if (isDirectory) {
      const found: string[] = [];
      walk(pattern, true, (path) => {
        if (path.endsWith(".jsonl")) found.push(path);
      });
      if (found.length === 0) missing.push(`${pattern} (no .jsonl files)`);
      files.push(...found.sort());
    } else files.push(pattern);
  }
  return { files: [...new Set(files)], missing };
}

function walk(directory: string, recursive: boolean, visit: (path: string) => void): void {
  let entries;
  try {
    entries = readdirSync(directory, { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = directory === "." ? entry.name : join(directory, entry.name);
    if (entry.isDirectory()) {
      if (recursive && entry.name !== "node_modules" && !entry.name.startsWith(".")) walk(path, recursive, visit);
    } else if (entry.isFile()) visit(path);
  }
}
