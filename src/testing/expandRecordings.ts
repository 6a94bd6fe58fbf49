import { lstatSync, statSync } from "node:fs";
import { Minimatch } from "minimatch";
import { dirname, join, normalize, relative, resolve } from "node:path";
import { printable } from "../diagnostics/printable.js";
import { describeFsError, uniqueFiles, walkFolder } from "../source/loadSources.js";
import { hasExtension, pathForLineStart } from "../source/fileNames.js";
import { STANDARD_INPUT } from "./recordingSource.js";

/**
 * Expands `--replay` arguments: files as given, folders to their recordings (recursively: see
 * isRecordingName), and quoted globs matched segment by segment as bash's globstar does: `*`
 * and `?` stay inside one folder or file name (`recordings/*.jsonl`, `day?.jsonl`), `[…]` is one
 * character of a set (`day[0-9].jsonl`, `[!x]*`), and a `**` segment is any number of whole
 * folders (`recordings/**\/*.jsonl`). An argument that names an existing file or folder which
 * the glob it spells does not match is that file or folder: `run[1].jsonl` (as tab completion
 * writes it) is never read as a glob that takes `run1.jsonl` instead. Every other argument with
 * glob characters is a glob, as bash reads it: one that matches its own spelling (`logs/*.jsonl`
 * beside a file literally named so) takes all its matches, that file among them.
 * `run\[1\].jsonl` is the glob's way to say the literal name, since `\` escapes a pattern character.
 * Files that do not exist, globs that match nothing, folders without recordings and folders that cannot be read (whose
 * recordings would otherwise be silently left out) are returned in `missing`, described
 * for people (\`logs/*.jsonl\` (nothing matches)), so the caller can say so. Relative paths are
 * taken from `cwd` (the CLI's working folder) and come back spelled as the user gave them.
 */
export function expandRecordings(patterns: readonly string[], cwd = process.cwd()): { files: string[]; missing: MissingRecording[] } {
  const files: string[] = [];
  const missing: MissingRecording[] = [];
  for (const pattern of patterns) {
    if (pattern === STANDARD_INPUT) {
      files.push(pattern);
      continue;
    }
    // Not the working folder: an empty argument is usually an unset shell variable.
    if (pattern.trim() === "") {
      missing.push({ place: "", why: "an empty path (an unset variable?; `.` names this folder)" });
      continue;
    }
    // `./a/*.jsonl` walks to `a/x.jsonl`: compare normalized spellings.
    const glob = normalize(pattern);
    const matcher = new Minimatch(glob, BASH_GLOB);
    // A glob, unless it names an existing file or folder that it does not match itself
    // (`run[1].jsonl`, whose `[1]` is the character `1`): that one is the file the user picked, as
    // tab completion spelled it, and never `run1.jsonl` beside it. A glob that matches its own
    // spelling (a file literally named `logs/*.jsonl`) is expanded, as bash does, and that file is
    // one of its matches, so no recording beside it is left out.
    const literal = namesSomething(resolve(cwd, pattern));
    if (GLOB_CHARACTER.test(pattern) && (!literal || matcher.match(glob))) {
      const root = glob.slice(0, glob.search(GLOB_CHARACTER)).replace(/[^/]*$/, "") || ".";
      const found: string[] = [];
      walk(cwd, root, glob.includes("**") || GLOB_CHARACTER.test(dirname(glob)), (path) => {
        if (matcher.match(path)) found.push(path);
      }, missing);
      // The walk lists files: a folder the glob names by its own spelling (`logs*`) is searched as a folder is.
      if (literal && isFolder(resolve(cwd, pattern))) walk(cwd, pattern, true, (path) => {
        if (isRecordingName(path)) found.push(path);
      }, missing);
      if (found.length === 0) missing.push({ place: printable(pattern), why: "nothing matches" });
      files.push(...found.sort());
      continue;
    }
    let isDirectory = false;
    try {
      isDirectory = statSync(resolve(cwd, pattern)).isDirectory();
    } catch {
      // Nothing there at all (a typo) is said with the folders and globs that hold nothing,
      // before any replay, as every other file option's is. A broken link, or a file that
      // cannot be reached (a folder on the way the user may not enter, a loop of links), is the
      // runner's to report, with its name and why, as one that fails mid-read.
      if (isAbsent(resolve(cwd, pattern))) missing.push({ place: printable(pattern), why: "no such file or folder" });
      else files.push(pattern);
      continue;
    }
    if (isDirectory) {
      const found: string[] = [];
      let compressed = 0;
      walk(cwd, pattern, true, (path) => {
        if (isRecordingName(path)) found.push(path);
        else if (isCompressedRecordingName(path)) compressed++;
      }, missing);
      if (found.length === 0) missing.push({ place: printable(pattern), why: `a folder without .jsonl or .ndjson files${compressedNote(compressed)}` });
      files.push(...found.sort());
    } else files.push(pattern);
  }
  // One recording named twice (a link beside it, `./a.jsonl` and `a.jsonl`) is replayed once;
  // every report names it as spelled here, so never as the start of a CI workflow command.
  // Standard input (`- -`, `- /dev/stdin`) is one recording too: its marker resolves to a path
  // with a NUL in it, which no file's real path equals.
  return { files: uniqueFiles(files, cwd).map(pathForLineStart), missing };
}

/**
 * A `--replay` argument that gave no recording (PC600 when printed): `place` is the path as the
 * user gave it, made printable ("" for an empty argument), `why` says what is wrong with it.
 */
export interface MissingRecording {
  readonly place: string;
  readonly why: string;
}

/** The missing recordings in one phrase, for a report's reason: `` `a.jsonl` (no such file or folder), `logs` (…) ``. */
export function missingRecordingsText(missing: readonly MissingRecording[]): string {
  return `recordings not found or not readable: ${missing.map(({ place, why }) => (place === "" ? why : `\`${place}\` (${why})`)).join(", ")}`;
}

/**
 * A file a folder search takes as a recording: JSON Lines, under either of its usual extensions
 * and in any letter case (`ATTACKS.JSONL`, `day.ndjson`), so none is skipped without a word.
 */
export function isRecordingName(path: string): boolean {
  return hasExtension(path, ".jsonl", ".ndjson");
}

/** A rotated, gzip-compressed log (`app.jsonl.gz`), which a folder search does not take as a recording. */
function isCompressedRecordingName(path: string): boolean {
  return hasExtension(path, ".jsonl.gz", ".ndjson.gz");
}

/** What a folder without recordings holds instead, when it holds compressed ones: why none is read, and how to replay them. */
function compressedNote(count: number): string {
  if (count === 0) return "";
  if (count === 1) return ": it holds a gzip-compressed one, which is not read: `gunzip` it, or `zcat` it into --replay -";
  return `: it holds ${count} gzip-compressed ones, which are not read: \`gunzip\` them, or \`zcat\` them into --replay -`;
}

/** Whether `path` is a folder (or a link to one). */
function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** Whether a file, folder or link (a broken one too, which the runner then reports by name) is at `path`. */
function namesSomething(path: string): boolean {
  return !isAbsent(path);
}

/**
 * Whether nothing at all is at `path`: no such name, or a file where a folder on the way should
 * be. A path that cannot be looked at (permission denied, a loop of links) may name something:
 * it is not "no such file", which would send the user looking for a typo.
 */
function isAbsent(path: string): boolean {
  try {
    lstatSync(path);
    return false;
  } catch (error) {
    const code = (error as { code?: string }).code;
    return code === "ENOENT" || code === "ENOTDIR";
  }
}

/** What makes an argument a glob: bash's pattern characters. */
const GLOB_CHARACTER = /[*?[]/;

/**
 * Globs as bash's globstar matches them (with minimatch): a `**` segment stands for zero or more
 * whole segments (`a/**\/b` matches `a/b` and `a/x/y/b`, and `a/**` every file below `a`); every
 * other segment matches exactly one segment, so its `*` never crosses a `/` (`**\/prod-*` does
 * not match `nonprod-old/x`). Hidden folders are searched, as a folder's are. Braces, `!(…)` and
 * the like are not bash globs (the shell expands braces before policyc sees them): literal here.
 */
const BASH_GLOB = { dot: true, nobrace: true, noext: true, nonegate: true, nocomment: true } as const;

/** Files under `directory` (following links; a broken link is listed, so reading it reports it), spelled from `directory`. */
function walk(cwd: string, directory: string, recursive: boolean, visit: (path: string) => void, unreadable: MissingRecording[]): void {
  const absolute = resolve(cwd, directory);
  const spelled = (path: string): string => join(directory, relative(absolute, path));
  walkFolder(
    absolute,
    (path) => visit(spelled(path)),
    (folder, error) => {
      // A glob's folder that does not exist is "nothing matches", said by the caller.
      if (folder === absolute && (error as { code?: string }).code === "ENOENT") return;
      unreadable.push({ place: printable(spelled(folder)), why: `cannot read the folder: ${describeFsError(error)}` });
    },
    recursive,
  );
}
