import { existsSync, lstatSync, readdirSync, readlinkSync, realpathSync, statSync, type Dirent } from "node:fs";
import { InputTooLarge, readLimited } from "./readLimited.js";
import { basename, dirname, isAbsolute, join, relative, resolve } from "node:path";
import { pathDiagnostic, diagnostic, type Diagnostic } from "../diagnostics/Diagnostic.js";
import { SourceFile } from "./SourceFile.js";
import { APPEND_AS_UTF8, appendedUtf16Start, looksLikeUtf16, SAVE_AS_UTF8 } from "./textEncoding.js";
import { hasExtension, pathForLineStart } from "./fileNames.js";
import { FolderNotWritableError, NotAFolderError } from "./replaceFile.js";
import { describeThrown } from "../runtime/helpers.js";
import { ExcludeGlobs } from "./exclude.js";

/** Larger files are refused: a policy set this big is a generated mistake, and CI should say so fast. */
export const MAX_FILE_BYTES = 4 * 1024 * 1024;

export interface LoadedSources {
  readonly files: SourceFile[];
  /** Problems with paths and bytes (PC001–PC006). Any of them means exit code 2. */
  readonly diagnostics: Diagnostic[];
  /** Files a folder search did not read although their names say policy (PC007): warnings, never fatal. */
  readonly warnings: Diagnostic[];
  /** What `--exclude` left out: policy files, and folders not searched (shown as reports name files). */
  readonly excluded: readonly Excluded[];
  /**
   * A usage error (exit 2) when `exclude` was given as globs: one that left nothing out. Given
   * as ExcludeGlobs, the caller checks them once every set of the run is loaded (diff's sides).
   */
  readonly usage?: string;
}

/** A file or folder an `--exclude` glob left out. */
export interface Excluded {
  readonly path: string;
  readonly glob: string;
  /** A file named on the command line, not found in a folder. */
  readonly named: boolean;
}

const utf8 = new TextDecoder("utf-8", { fatal: true });

/** What names standard input (`policyc fmt -`) in diagnostics, as every message of policyc names it (`eval -r -`, `test --replay -`). */
export const STANDARD_INPUT_NAME = "standard input";

/** PC005 for a source of `bytes` bytes (more than the limit). */
function tooLarge(path: string, bytes: number): Diagnostic {
  return pathDiagnostic("PC005", `\`${path}\` is ${(bytes / 1_048_576).toFixed(1)} MB; policy files are limited to ${MAX_FILE_BYTES / 1_048_576} MB`, path, "split the set into several files");
}

/** Decodes bytes as a policy source, or says why they cannot be one. */
export function decodeSource(path: string, bytes: Uint8Array): SourceFile | Diagnostic {
  if (bytes.length > MAX_FILE_BYTES) return tooLarge(path, bytes.length);
  // Before the NUL check: UTF-16 text is full of zero bytes, and it is not binary.
  if (looksLikeUtf16(bytes)) return pathDiagnostic("PC002", `\`${path}\` is UTF-16 text, not UTF-8`, path, SAVE_AS_UTF8);
  const nul = bytes.indexOf(0);
  if (nul >= 0) return appendedUtf16(path, bytes, nul) ?? pathDiagnostic("PC003", `\`${path}\` looks like a binary file (it contains a NUL byte at offset ${nul})`, path);
  try {
    const text = utf8.decode(bytes);
    return new SourceFile(path, text, bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf);
  } catch {
    // Find the first bad byte so the message can point at it.
    const good = lengthOfValidUtf8Prefix(bytes);
    const prefix = new TextDecoder().decode(bytes.subarray(0, good));
    const file = new SourceFile(path, prefix);
    return diagnostic("PC002", `\`${path}\` is not valid UTF-8 (bad byte 0x${bytes[good]!.toString(16).padStart(2, "0")})`, { file, start: prefix.length, end: prefix.length }, "save the file as UTF-8");
  }
}

/**
 * PC002 where UTF-16 text after UTF-8 text begins (see appendedUtf16Start: what Windows
 * PowerShell 5.1's `>>` appends to a UTF-8 file, at a line's start or, after a last line without
 * a line end, within it), `nul` being the first NUL byte. It is not binary, and its line and
 * column tell where the appended text begins. Undefined otherwise.
 */
function appendedUtf16(path: string, bytes: Uint8Array, nul: number): Diagnostic | undefined {
  const start = appendedUtf16Start(bytes, nul, true);
  if (start === undefined || start === 0) return undefined;
  const before = utf8.decode(bytes.subarray(0, start));
  const file = new SourceFile(path, before);
  const { line } = file.position(before.length);
  return diagnostic("PC002", `\`${path}\` is UTF-16 text from line ${line} on (what Windows PowerShell 5.1's \`>>\` appends to a UTF-8 file), not UTF-8`, { file, start: before.length, end: before.length }, APPEND_AS_UTF8);
}

function lengthOfValidUtf8Prefix(bytes: Uint8Array): number {
  let low = 0;
  let high = bytes.length;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    try {
      utf8.decode(bytes.subarray(0, mid));
      low = mid;
    } catch {
      // A prefix may end inside a valid multi-byte character; accept if a few more bytes complete it.
      let ok = false;
      for (let extra = 1; extra <= 3 && mid + extra <= bytes.length; extra++) {
        try {
          utf8.decode(bytes.subarray(0, mid + extra));
          ok = true;
          break;
        } catch {
          /* keep looking */
        }
      }
      if (ok) low = mid;
      else high = mid - 1;
    }
  }
  return low;
}

/**
 * What a folder entry is, following symbolic links (a linked policy file is part of the set: a
 * rule silently dropped could be the one that denies). `broken`: a link to nothing.
 */
export function entryKind(folder: string, entry: Dirent): "file" | "folder" | "broken" | "other" {
  if (!entry.isSymbolicLink()) return entry.isFile() ? "file" : entry.isDirectory() ? "folder" : "other";
  try {
    const target = statSync(join(folder, entry.name));
    return target.isFile() ? "file" : target.isDirectory() ? "folder" : "other";
  } catch {
    return "broken";
  }
}

/**
 * Whether a link to nothing is an editor's lock file: Emacs makes `.#NAME` beside a file with
 * unsaved changes, as a link to `user@host.pid:time`. It holds no policy and goes away when the
 * file is saved, so a folder walk passes over it rather than failing the run; any other link to
 * nothing is reported.
 */
function isEditorLock(name: string): boolean {
  return name.startsWith(".#");
}

/**
 * Version control's own folders: they never hold a working file, and can be large. Every other
 * folder is searched, hidden ones and node_modules included: a policy set is every `.policy`
 * file under the paths (language.md), and a deny rule in `.security/` silently left out would
 * fail open.
 */
const VERSION_CONTROL_FOLDERS: ReadonlySet<string> = new Set([".git", ".hg", ".svn"]);

/**
 * Walks a folder tree (sorted, skipping version control's folders), following links, once per
 * real folder. A folder that cannot be read is handed to `unreadable` and the walk goes on: the
 * caller must report it, since the files in it would otherwise be silently missing.
 */
export function walkFolder(folder: string, visit: (path: string, kind: "file" | "broken") => void, unreadable: (path: string, error: unknown) => void, recursive = true, seen = new Set<string>(), skip: (folder: string) => boolean = () => false): void {
  let entries: Dirent[];
  try {
    const real = realpathSync(folder);
    if (seen.has(real)) return; // a link back up the tree
    seen.add(real);
    entries = readdirSync(folder, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  } catch (error) {
    unreadable(folder, error);
    return;
  }
  for (const entry of entries) {
    const path = join(folder, entry.name);
    const kind = entryKind(folder, entry);
    if (kind === "broken" && isEditorLock(entry.name)) continue;
    if (kind === "folder") {
      // An excluded folder is not entered: what is in it, unreadable folders included, is not the set's.
      if (recursive && !VERSION_CONTROL_FOLDERS.has(entry.name) && !skip(path)) walkFolder(path, visit, unreadable, recursive, seen, skip);
    } else if (kind === "file" || kind === "broken") visit(path, kind);
  }
}

/** A policy file's name: `.policy` in any letter case (`Deny.Policy`, `RULES.POLICY`), as Windows and macOS tools save it. */
export function isPolicyFileName(path: string): boolean {
  return hasExtension(path, ".policy");
}

/**
 * A name that says policy with something after it: what Notepad saves with extensions hidden
 * (`rules.policy.txt`), and the copies editors and merge tools leave (`rules.policy~`, `.bak`,
 * `.orig`, `.old`). A folder search does not read them, but says so (PC007): when such a file is
 * the only one holding a deny rule, that rule is missing from the set. Other names that merely
 * contain `.policy` (`support.policy.json`, a bundle) are not policy sources and go unmentioned.
 */
const POLICY_SAVED_UNDER_ANOTHER_NAME = /\.policy(?:~|\.(?:txt|text|bak|backup|orig|old|save|copy))$/i;

/** The PC007 warning for a file a folder search passed over although its name says policy. */
function notReadWarning(shown: string, absolute: string): Diagnostic {
  const meant = basename(shown).replace(/(\.policy)(?:~|\.[^.]*)$/i, "$1");
  const copy = existsSync(join(dirname(absolute), meant));
  const help = copy ? `if it is an old copy of \`${meant}\`, delete it or move it out of the folder` : `if it holds policies, rename it to \`${meant}\``;
  return pathDiagnostic("PC007", `\`${shown}\` is not read: a policy file must end in \`.policy\``, shown, help);
}

/** How the caller's command reads a policy set. */
export interface LoadOptions {
  /**
   * The command that reads the policies of `folder` (`policyc build rules`), for the help of a
   * glob given as a policy path: the verb in use. `policyc check FOLDER` when not given.
   */
  readonly folderCommand?: (folder: string) => string;
  /**
   * Name a source outside the working folder relative to it too (`../../x/p.policy`), not as
   * given: `policyc build`, whose bundle's locations and manifest must not ship the build host's
   * absolute paths (audit s20 a2 M6). A path with no relative form (on another Windows drive)
   * stays as given.
   */
  readonly relativeOutside?: boolean;
  /**
   * `--exclude` globs (ExcludeGlobs says how they match): the files and folders they match are
   * left out of the set, and not named in PC007. Globs that match nothing are the result's `usage`;
   * an ExcludeGlobs shared by several loads is checked by the caller.
   */
  readonly exclude?: readonly string[] | ExcludeGlobs | undefined;
}

const checkFolder = (folder: string): string => `policyc check ${folder}`;

/**
 * The folder part of a glob, before its first segment with a pattern character (`rules` of
 * `rules/*.policy` or `rules\**\x.policy`, as PowerShell users write it; `.` of `*.policy`).
 */
function globFolder(glob: string): string {
  const plain = glob.slice(0, glob.search(/[*?[]/));
  const end = Math.max(plain.lastIndexOf("/"), plain.lastIndexOf("\\"));
  return end < 0 ? "." : end === 0 ? plain[0]! : plain.slice(0, end);
}

/**
 * Expands paths (files or folders, searched for `*.policy` in any letter case) to the files of a
 * policy set, sorted by the names a bundle gives them (bundleSourceName).
 * Relative paths are taken from `cwd` (the CLI's working folder, which tests set), not from the
 * process's; the files come back spelled from the paths as the user gave them.
 */
export function expandPolicyPaths(paths: readonly string[], cwd = process.cwd(), options: LoadOptions = {}): { files: string[]; diagnostics: Diagnostic[]; warnings: Diagnostic[]; excluded: Excluded[] } {
  const files: string[] = [];
  const diagnostics: Diagnostic[] = [];
  const warnings: Diagnostic[] = [];
  const excluded: Excluded[] = [];
  const globs = excludeGlobsOf(options.exclude, cwd);
  // A file passed over is named once, however many of the paths reach it (`rules/ rules/team/`).
  const passedOver = new Set<string>();
  for (const path of paths) {
    // Not the working folder: an empty argument is usually an unset shell variable.
    if (path.trim() === "") {
      diagnostics.push(pathDiagnostic("PC001", "an empty path was given (an unset variable?); name the files or folders, `.` for this folder", path));
      continue;
    }
    const absolute = resolve(cwd, path);
    // Named as every diagnostic of a file names it (displayPath): relative to the working folder
    // when inside it, so an absolute path a monorepo's script passes is not shown half one way.
    const shownPath = displayPath(path, cwd, options.relativeOutside);
    let isDirectory: boolean;
    try {
      isDirectory = statSync(absolute).isDirectory();
    } catch (error) {
      // PowerShell and cmd pass `*.policy` on unexpanded, where a Unix shell would have expanded it.
      const glob = /[*?[]/.test(path) && (error as { code?: string }).code === "ENOENT" ? `policy paths are not globs: name the folder (\`${(options.folderCommand ?? checkFolder)(globFolder(path))}\`), which is searched for \`.policy\` files` : undefined;
      diagnostics.push(pathDiagnostic("PC001", `cannot read \`${shownPath}\`: ${describeFsError(error)}`, shownPath, glob));
      continue;
    }
    // Matched by where the file is, not by how reports spell it (build names a path outside the
    // working folder `../x`, the other verbs as given): the same flags choose the same files in every verb.
    const fromCwd = relative(cwd, absolute);
    const givenExcluded = globs?.matchPathGiven(fromCwd);
    if (!isDirectory) {
      if (givenExcluded === undefined) files.push(path);
      else excluded.push({ path: shownPath, glob: givenExcluded, named: true });
      continue;
    }
    if (givenExcluded !== undefined) {
      excluded.push({ path: shownPath, glob: givenExcluded, named: true });
      diagnostics.push(excludedFolder(shownPath));
      continue;
    }
    const found: string[] = [];
    let excludedHere = 0;
    let unreadable = 0;
    const shownAt = (entry: string): string => join(shownPath, relative(absolute, entry));
    /** The glob that leaves out the file or folder at `entry` (counted and listed), or undefined. */
    const exclusion = (entry: string): string | undefined => {
      const glob = globs?.match(relative(cwd, entry), relative(absolute, entry));
      if (glob !== undefined) excluded.push({ path: shownAt(entry), glob, named: false });
      return glob;
    };
    // A broken link named *.policy is kept: reading it reports it (PC001) rather than dropping it.
    walkFolder(
      absolute,
      (file) => {
        // The name first: most files are neither policy files nor named like one, and no glob is tried on them.
        const policy = isPolicyFileName(file);
        if (!policy && !POLICY_SAVED_UNDER_ANOTHER_NAME.test(basename(file))) return;
        if (exclusion(file) !== undefined) {
          if (policy) excludedHere++;
        } else if (policy) found.push(file);
        else if (!passedOver.has(file)) {
          passedOver.add(file);
          warnings.push(notReadWarning(shownAt(file), file));
        }
      },
      (folder, error) => {
        unreadable++;
        const shown = shownAt(folder);
        diagnostics.push(pathDiagnostic("PC001", `cannot read \`${shown}\`: ${describeFsError(error)}`, shown));
      },
      true,
      new Set<string>(),
      (folder) => {
        if (exclusion(folder) === undefined) return false;
        excludedHere++;
        return true;
      },
    );
    if (found.length === 0 && unreadable === 0) {
      diagnostics.push(excludedHere > 0 ? excludedFolder(shownPath) : pathDiagnostic("PC004", `no \`.policy\` files under \`${shownPath}\``, shownPath, "policy files end in `.policy`"));
    }
    files.push(...found.map((f) => join(path, relative(absolute, f))));
  }
  // Files named only to be excluded would leave an empty set, which checks and builds "ok".
  const named = excluded.filter((entry) => entry.named).map((entry) => entry.path);
  if (files.length === 0 && diagnostics.length === 0 && named.length > 0) {
    diagnostics.push(pathDiagnostic("PC004", `every policy file given is excluded (--exclude): \`${named.join("`, `")}\``, named[0]!, "give fewer or narrower --exclude globs"));
  }
  // In one order whatever the order and spelling of the arguments: that of the names a bundle
  // gives the files (bundleSourceName), so the same files give the same bundle bytes however
  // they are typed (`/abs/x.policy` or `../x.policy`), and every verb reads them in build's order.
  // One file named twice (through a link, or two spellings) is read once, by its first name in that order.
  const key = new Map(files.map((file) => [file, bundleSourceName(file, cwd)]));
  const byName = (a: string, b: string): number => compareText(key.get(a)!, key.get(b)!) || compareText(a, b);
  const sorted = files.sort(byName);
  return { files: uniqueFiles(sorted, cwd), diagnostics, warnings, excluded };
}

/** PC004 for a folder given whose policy files (or itself) an --exclude glob leaves out. */
function excludedFolder(shownPath: string): Diagnostic {
  return pathDiagnostic("PC004", `every \`.policy\` file under \`${shownPath}\` is excluded (--exclude)`, shownPath, "give fewer or narrower --exclude globs, or leave the folder out");
}

/** The run's compiled globs: those given, or compiled once here from their text. */
function excludeGlobsOf(exclude: LoadOptions["exclude"], cwd: string): ExcludeGlobs | undefined {
  if (exclude === undefined || exclude instanceof ExcludeGlobs) return exclude;
  return exclude.length === 0 ? undefined : new ExcludeGlobs(exclude, cwd);
}

/** The files, each real file once (the first name of it kept). */
export function uniqueFiles(files: readonly string[], cwd: string): string[] {
  const seen = new Set<string>();
  return files.filter((file) => {
    let key: string;
    try {
      key = realpathSync(resolve(cwd, file));
    } catch {
      key = resolve(cwd, file); // reading it reports it
    }
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/** Reads every policy file under the given paths. Never throws. */
export function loadSources(paths: readonly string[], cwd = process.cwd(), options: LoadOptions = {}): LoadedSources {
  // Compiled here when given as text, so the globs that matched nothing are known once the paths are expanded.
  const globs = excludeGlobsOf(options.exclude, cwd);
  const { files: found, diagnostics, warnings, excluded } = expandPolicyPaths(paths, cwd, { ...options, exclude: globs });
  // A problem with the paths is said first: the files a glob was meant for may be in a folder that could not be read.
  const usage = globs === undefined || globs === options.exclude || diagnostics.length > 0 ? undefined : globs.unmatched();
  const files: SourceFile[] = [];
  for (const path of found) {
    const absolute = resolve(cwd, path);
    // Refused by its size before it is read, saying how large it is; a file that cannot be
    // stat'ed is left to the read, which reports why.
    let size = 0;
    try {
      size = statSync(absolute).size;
    } catch {
      /* reported below */
    }
    const shown = options.relativeOutside === true ? bundleSourceName(path, cwd) : displayPath(path, cwd);
    const source = size > MAX_FILE_BYTES ? tooLarge(shown, size) : readSource(shown, () => readLimited(absolute, MAX_FILE_BYTES));
    if (source instanceof SourceFile) files.push(source);
    else diagnostics.push(source);
  }
  return { files, diagnostics, warnings, excluded, ...(usage === undefined ? {} : { usage }) };
}

/**
 * Standard input as the one source of a set (`policyc fmt -`), named `standard input` in diagnostics,
 * with the checks a file gets. `read` is the verb's way to standard input. Never throws.
 */
export function loadStandardInput(read: () => Uint8Array): LoadedSources {
  const source = readSource(STANDARD_INPUT_NAME, read);
  return source instanceof SourceFile ? { files: [source], diagnostics: [], warnings: [], excluded: [] } : { files: [], diagnostics: [source], warnings: [], excluded: [] };
}

/**
 * The bytes `read` gives, as a policy source named `shown`, or why they cannot be one (PC001,
 * PC002, PC003, PC005, PC006), each naming it so.
 */
function readSource(shown: string, read: () => Uint8Array): SourceFile | Diagnostic {
  let bytes: Uint8Array;
  try {
    bytes = read();
  } catch (error) {
    if (error instanceof InputTooLarge) return pathDiagnostic("PC005", `\`${shown}\` is larger than ${MAX_FILE_BYTES / 1_048_576} MB; policy files are limited to ${MAX_FILE_BYTES / 1_048_576} MB`, shown, "split the set into several files");
    return pathDiagnostic("PC001", `cannot read \`${shown}\`: ${describeFsError(error)}`, shown);
  }
  const decoded = decodeSource(shown, bytes);
  if (decoded instanceof SourceFile && decoded.text.trim() === "") return pathDiagnostic("PC006", `\`${decoded.path}\` is empty`, decoded.path, "a policy file holds declarations and `policy` blocks");
  return decoded;
}

/**
 * Paths as the user would type them: relative to the working folder when inside it, and never
 * starting with `::` (see pathForLineStart), which every report of the file then shows.
 */
export function displayPath(path: string, cwd = process.cwd(), relativeOutside = false): string {
  const rel = relative(cwd, resolve(cwd, path));
  if (relativeOutside && rel !== "" && !isAbsolute(rel)) return pathForLineStart(rel);
  return pathForLineStart(rel === "" || rel.startsWith("..") || rel.startsWith("/") ? path : rel);
}

/**
 * The name a bundle gives a source (`policyc build`, and the hash of a set read from sources):
 * relative to the working folder even outside it (`../x.policy`, see LoadOptions.relativeOutside).
 * Files are ordered by it (expandPolicyPaths), so the order is the one build writes.
 */
export function bundleSourceName(path: string, cwd = process.cwd()): string {
  return displayPath(path, cwd, true);
}

const compareText = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * Why a file that is not there (ENOENT, with the error's `path`) could not be read when it is a
 * link to nothing: `ls` lists it, so "no such file" would puzzle. Undefined for any other error.
 */
export function brokenLinkText(error: unknown): string | undefined {
  const path = (error as { code?: string; path?: unknown }).path;
  if ((error as { code?: string }).code !== "ENOENT" || typeof path !== "string") return undefined;
  try {
    if (!lstatSync(path).isSymbolicLink()) return undefined;
    // A chain of links (an editor's lock file pointing at another): named to its end, which is what is missing.
    const chain = [readlinkSync(path)];
    let at = resolve(dirname(path), chain[0]!);
    for (let hops = 0; hops < 8; hops++) {
      try {
        if (!lstatSync(at).isSymbolicLink()) break;
      } catch {
        break;
      }
      chain.push(readlinkSync(at));
      at = resolve(dirname(at), chain[chain.length - 1]!);
    }
    const [first, ...rest] = chain.map((target) => `\`${target}\``);
    return `it is a symbolic link to ${first}${rest.map((target) => `, itself a link to ${target}`).join("")}, which does not exist (a broken link)`;
  } catch {
    return undefined;
  }
}

/**
 * Why a file found in a folder (or named on the command line) is not there when opened: its
 * name is not UTF-8, and the name read for it, with U+FFFD in place of the bad bytes, names no
 * file. Undefined for any other error.
 */
export function notUtf8NameText(error: unknown): string | undefined {
  const path = (error as { path?: unknown }).path;
  if (typeof path !== "string" || !path.includes("\uFFFD") || existsSync(path)) return undefined;
  return "its name is not valid UTF-8 (shown with \uFFFD for the bad bytes), and cannot be opened by the name read: rename it";
}

export function describeFsError(error: unknown): string {
  if (error instanceof FolderNotWritableError) return error.message;
  const code = (error as { code?: string }).code;
  switch (code) {
    case "ENOENT":
      return brokenLinkText(error) ?? notUtf8NameText(error) ?? "no such file or folder";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "EISDIR":
    case "ERR_FS_EISDIR":
      return "it is a folder";
    case "ENOTDIR":
      return error instanceof NotAFolderError ? error.message : "a part of the path is not a folder";
    case "ELOOP":
      return "too many symbolic links (a link loop?)";
    case "EEXIST": {
      // Said of the file that is in the way (a temporary file's name, say), not of the one asked about.
      const path = (error as { path?: string }).path;
      return path === undefined ? "it already exists" : `\`${basename(path)}\` already exists`;
    }
    case "ENOSPC":
      return "no space left on the device";
    case "EROFS":
      return "the file system is read-only";
    case "EIO":
      return "an input/output error";
    case "ENAMETOOLONG":
      return "the name is too long";
    case "EMFILE":
    case "ENFILE":
      return "too many open files";
    case "ETOOLARGE":
      return (error as Error).message;
    default:
      return code ?? describeThrown(error);
  }
}
