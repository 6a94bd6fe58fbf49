import { readdirSync, statSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { globMatch } from "../runtime/glob.js";

/**
 * Expands `--replay` arguments: files as given, folders to their `*.jsonl` (recursively), and
 * quoted globs with `*` in the last segment (`recordings/*.jsonl`) or `**` for any depth.
 * Paths that exist nowhere are returned as missing so the caller can say so. Relative paths are
 * taken from `cwd` (the CLI's working folder) and come back spelled as the user gave them.
 */
export function expandRecordings(patterns: readonly string[], cwd = process.cwd()): { files: string[]; missing: string[] } {
  const files: string[] = [];
  const missing: string[] = [];
  for (const pattern of patterns) {
    if (pattern.includes("*")) {
      const recursive = pattern.includes("**");
      const root = pattern.slice(0, pattern.indexOf("*")).replace(/[^/]*$/, "") || ".";
      const found: string[] = [];
      walk(cwd, root, recursive || dirname(pattern).includes("*"), (path) => {
        if (recursive ? globMatch(pattern.replace(/\*\*\/?/g, "*"), path) : dirname(path) === dirname(pattern) && globMatch(basename(pattern), basename(path))) found.push(path);
      });
      if (found.length === 0) missing.push(pattern);
      files.push(...found.sort());
      continue;
    }
    let isDirectory = false;
    try {
      isDirectory = statSync(resolve(cwd, pattern)).isDirectory();
    } catch {
      files.push(pattern); // the runner reports it as unreadable, with its name
      continue;
    }
    if (isDirectory) {
      const found: string[] = [];
      walk(cwd, pattern, true, (path) => {
        if (path.endsWith(".jsonl")) found.push(path);
      });
      if (found.length === 0) missing.push(`${pattern} (no .jsonl files)`);
      files.push(...found.sort());
    } else files.push(pattern);
  }
  return { files: [...new Set(files)], missing };
}

function walk(cwd: string, directory: string, recursive: boolean, visit: (path: string) => void): void {
  let entries;
  try {
    entries = readdirSync(resolve(cwd, directory), { withFileTypes: true });
  } catch {
    return;
  }
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const path = directory === "." ? entry.name : join(directory, entry.name);
    if (entry.isDirectory()) {
      if (recursive && entry.name !== "node_modules" && !entry.name.startsWith(".")) walk(cwd, path, recursive, visit);
    } else if (entry.isFile()) visit(path);
  }
}
