import { randomBytes } from "node:crypto";
import { accessSync, chmodSync, closeSync, constants, fchownSync, lstatSync, mkdirSync, openSync, realpathSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, isAbsolute, relative, resolve } from "node:path";
import { printable } from "../diagnostics/printable.js";

/**
 * The temporary file is created, never opened if it exists (`wx`): a link planted at its
 * name must not send the new text anywhere else, and a file already there is someone else's.
 */
export const TEMPORARY_FLAG = "wx";

/** Names tried for a temporary file before giving up: each is random, so a second is already rare. */
const TEMPORARY_NAME_ATTEMPTS = 8;

/**
 * A file the user may not write (read-only, or another user's) that was asked to be replaced.
 * Replacing it would work, since a rename needs only the folder's permission, but it would undo
 * the lock (a version control system's read-only checkout) or take the file from its owner, so
 * it is refused as `gofmt -w` and `prettier --write` refuse it. `code` is the file system's
 * answer (EACCES, EROFS), so it is described as any error is. A file with no write permission
 * for anyone is read-only for root too (a CI container), though the system lets root write it.
 */
export class NotWritableError extends Error {
  readonly code: string | undefined;

  constructor(
    readonly path: string,
    cause: unknown,
  ) {
    super(`cannot write ${path}`, { cause });
    this.code = (cause as { code?: string }).code;
  }
}

/**
 * A file the user may write, in a folder the user may not: the new text goes to a temporary file
 * beside it, which cannot be created there. "Permission denied" alone would send the user to the
 * file's permissions, which allow it.
 */
export class FolderNotWritableError extends Error {
  readonly code: string | undefined;

  constructor(cause: unknown) {
    super("permission denied to create a file in its folder (the file is replaced by a new one written beside it, not edited in place)", { cause });
    this.code = (cause as { code?: string }).code;
  }
}

/** A file asked to be replaced that is not a regular file (a named pipe, a device): it is left as it is. */
export class NotRegularFileError extends Error {
  constructor(readonly path: string) {
    super("it is not a regular file (a named pipe or a device), and replacing it would remove it");
  }
}

/** The temporary files being written now (and folders of our own making), removed if the process is interrupted meanwhile. */
const pendingTemporaries = new Map<string, { readonly folder: boolean }>();
/** Ctrl-C, a CI runner's or `timeout`'s SIGTERM, and the SIGHUP of a terminal or SSH session that went away. */
const INTERRUPTS = ["SIGINT", "SIGTERM", "SIGHUP"] as const;

/**
 * An interrupt (INTERRUPTS) while a temporary file is being written: the target is
 * still as it was, so only the temporary file is left to remove; then the signal ends the
 * process as it would have without this handler (its exit status says "interrupted").
 */
function removeTemporariesAndRaise(signal: NodeJS.Signals): void {
  for (const [path, { folder }] of pendingTemporaries) {
    try {
      // A folder only when this process made it (mkdtemp): its content is ours too.
      rmSync(path, { force: true, recursive: folder });
    } catch {
      // Not ours to remove (a folder in the way), or already gone.
    }
  }
  pendingTemporaries.clear();
  for (const name of INTERRUPTS) process.removeListener(name, removeTemporariesAndRaise);
  listening = false;
  try {
    process.kill(process.pid, signal);
  } catch {
    // Windows raises only SIGINT, SIGTERM and SIGKILL (its console closing is SIGHUP here): end by SIGTERM.
    process.kill(process.pid, "SIGTERM");
  }
}

/** Whether `removeTemporariesAndRaise` listens for INTERRUPTS now. */
let listening = false;
/** Counts `trackTemporary` and `holdInterrupts` calls: the listeners are removed only after turns with none. */
let tracked = 0;
/** The `holdInterrupts` not released yet: while there are any, the listeners stay. */
let holds = 0;

function listen(): void {
  if (!listening) for (const name of INTERRUPTS) process.on(name, removeTemporariesAndRaise);
  listening = true;
}

/** Removes `path` if the process is interrupted before `untrackTemporary(path)`. */
export function trackTemporary(path: string, kind: { readonly folder: boolean } = { folder: false }): void {
  listen();
  tracked++;
  pendingTemporaries.set(path, kind);
}

/**
 * Stops removing `path` on an interrupt. The listeners stay a little longer (`stopListening`).
 */
export function untrackTemporary(path: string): void {
  if (!pendingTemporaries.delete(path) || pendingTemporaries.size > 0) return;
  void stopListening();
}

/**
 * Listens for INTERRUPTS until the returned `release` is called, for work that writes one file
 * after another (`replaceEach`, `writeFilesSafely`, `--update`'s rewrite): between two files no
 * temporary is tracked, and listeners removed and added again there would drop a signal that
 * came in between. `release` resolves once the listeners are gone (or kept by other work).
 */
export function holdInterrupts(): () => Promise<void> {
  listen();
  tracked++;
  holds++;
  let released = false;
  return () => {
    if (released) return Promise.resolve();
    released = true;
    holds--;
    return stopListening();
  };
}

/**
 * Removes the listeners, a little later: a signal is handed to them only between turns of the
 * event loop, so one that came while a file was written synchronously (`fmt --write`, a build)
 * is still pending here; removed in this turn, they would leave Node to drop it, and the run
 * would go on as if it never came. Kept until a poll of the loop has passed
 * (`afterSignalsDelivered`), the handler gets it, finds no temporary left (the file is in place
 * or removed), and ends the process by that signal. Kept for good when a file was tracked or
 * an interrupt held meanwhile, or one is still held.
 */
function stopListening(): Promise<void> {
  const trackedSoFar = tracked;
  return afterSignalsDelivered().then(() => {
    if (tracked !== trackedSoFar || holds > 0 || pendingTemporaries.size > 0 || !listening) return;
    for (const name of INTERRUPTS) process.removeListener(name, removeTemporariesAndRaise);
    listening = false;
  });
}

/**
 * Resolves once the event loop has polled for events (signals among them) after this call: code
 * running in an I/O callback (an ES module being evaluated) reaches the next `setImmediate`
 * before any poll, the second one only after one.
 */
export function afterSignalsDelivered(): Promise<void> {
  return new Promise((delivered) => setImmediate(() => setImmediate(delivered)));
}

/**
 * Replacing a file's contents the safe way: the new text goes to a temporary file beside the
 * real file (a symbolic link is followed, so the link stays a link), which then takes its place
 * with the same permissions, owner and group (as far as the user may give them). A failure (no space, no permission) leaves the file as it was,
 * never half written. Used whole (`replaceFile`) or streamed (`--update` of a recording).
 */
export class Replacement {
  /** Whether `descriptor` is still this object's to close (not yet closed, nor handed to a stream). */
  private ownsDescriptor = true;

  private constructor(
    readonly target: string,
    /** The temporary file, created by this process (empty, open as `descriptor`). */
    readonly temporary: string,
    /** The target's permissions, given to the new file; undefined for a new file (the umask decides). */
    readonly mode: number | undefined,
    private readonly descriptor: number,
  ) {}

  /**
   * Starts replacing the file at `path`; `commit` or `abandon` ends it (until then an interrupt
   * removes the temporary file). Throws `NotWritableError` for a file the user may not write,
   * else the file-system error (it cannot be found, the temporary file cannot be created).
   */
  static of(path: string): Replacement {
    const target = realpathSync(path);
    const stats = statSync(target);
    // A named pipe or a device read as a file would be replaced by a regular file, and gone.
    if (!stats.isFile()) throw new NotRegularFileError(target);
    const mode = stats.mode & 0o7777;
    try {
      accessSync(target, constants.W_OK);
    } catch (error) {
      throw new NotWritableError(target, error);
    }
    // Root passes `access` for every file: the mode bits say whether it was locked.
    if ((mode & 0o222) === 0) throw new NotWritableError(target, Object.assign(new Error(`${target} is read-only`), { code: "EACCES" }));
    try {
      return Replacement.beside(target, mode, { uid: stats.uid, gid: stats.gid });
    } catch (error) {
      const code = (error as { code?: string }).code;
      throw code === "EACCES" || code === "EPERM" ? new FolderNotWritableError(error) : error;
    }
  }

  /** Starts writing a file that does not exist yet the same way, so it never appears half written. */
  static ofNew(path: string): Replacement {
    return Replacement.beside(resolve(path), undefined);
  }

  /**
   * Creates the temporary file beside `target`, under a random name: the process id alone repeats
   * (a container's process is number 1 on every run), so a file left by a killed run would be in
   * the way. A name already taken is left alone, whoever made it, and another one is tried.
   */
  private static beside(target: string, mode: number | undefined, owner?: { readonly uid: number; readonly gid: number }): Replacement {
    for (let attempt = 1; ; attempt++) {
      const temporary = `${target}.policyc-${randomBytes(6).toString("hex")}.tmp`;
      // Tracked before it exists: until a handler is installed, an interrupt ends the process at
      // once, and would leave the file. Untracked in the same turn if it was not ours to create
      // (the handler runs between turns, so it never sees someone else's name).
      trackTemporary(temporary);
      let descriptor: number;
      try {
        descriptor = openSync(temporary, TEMPORARY_FLAG, mode);
      } catch (error) {
        untrackTemporary(temporary);
        if ((error as { code?: string }).code === "EEXIST" && attempt < TEMPORARY_NAME_ATTEMPTS) continue;
        throw error;
      }
      if (owner !== undefined) giveOwner(descriptor, owner);
      return new Replacement(target, temporary, mode, descriptor);
    }
  }

  /** Writes text to the temporary file, after what was written before. Throws the file-system error. */
  write(text: string): void {
    writeFileSync(this.descriptor, text);
  }

  /** The temporary file's descriptor, for a stream that writes it and then closes it itself. */
  handOverDescriptor(): number {
    this.ownsDescriptor = false;
    return this.descriptor;
  }

  /** Puts the temporary file, now written, in the target's place. Throws the file-system error. */
  commit(): void {
    if (this.mode !== undefined) chmodSync(this.temporary, this.mode);
    this.closeDescriptor();
    renameSync(this.temporary, this.target);
    untrackTemporary(this.temporary);
  }

  /** Drops the temporary file (this process created it): the target stays as it was. */
  abandon(): void {
    untrackTemporary(this.temporary);
    try {
      this.closeDescriptor();
    } catch {
      // Closed already, or never usable: the file is removed all the same.
    }
    try {
      rmSync(this.temporary, { force: true });
    } catch {
      // Nothing more to do: the target itself was not touched.
    }
  }

  private closeDescriptor(): void {
    if (!this.ownsDescriptor) return;
    this.ownsDescriptor = false;
    closeSync(this.descriptor);
  }
}

/**
 * Gives the new file the replaced one's owner and group, as `sed -i` does: root in a CI container
 * rewriting a checkout mounted from the host would otherwise leave files its user cannot write.
 * A user other than root cannot give a file away: then the group alone is kept when the user is
 * in it, else the new file is the user's, as any file the user writes.
 * Before the mode is set (`commit`): a change of owner clears the set-user-ID bit.
 */
function giveOwner(descriptor: number, owner: { readonly uid: number; readonly gid: number }): void {
  for (const [uid, gid] of [[owner.uid, owner.gid], [-1, owner.gid]] as const) {
    try {
      fchownSync(descriptor, uid, gid);
      return;
    } catch {
      // Not the user's to give (EPERM), an owner the system does not map (EINVAL): the next, or none.
    }
  }
}

/** Replaces a file's contents (see `Replacement`). Throws the file-system error. */
export function replaceFile(path: string, text: string): void {
  staged(Replacement.of(path), text).place();
}

/**
 * Replaces each file's contents as `replaceFile` does, each on its own: a failure leaves that
 * file as it was (its `error`), and the others are still written. A file is replaced by a new
 * one, not edited in place, so the other names of a hard link keep the old text:
 * `namesKeepingOldText` counts those not among `files` (on the first of the files that share
 * them; 0 when it cannot be told, or when every name was written here). It listens for
 * interrupts from the first file to past the last (`holdInterrupts`), and after each file lets
 * the event loop turn, so an interrupt that came while one was written ends the process there
 * (see `stopListening`), and the files after it stay as they were.
 */
export async function replaceEach(files: readonly { readonly path: string; readonly text: string }[]): Promise<{ error?: unknown; namesKeepingOldText: number }[]> {
  // Before any is replaced: a replaced name no longer shares the old file.
  const inodes = files.map((file) => {
    try {
      const stats = statSync(file.path, { bigint: true });
      // Some file systems give no inode numbers (0): there the links cannot be told apart.
      return stats.ino === 0n ? undefined : { key: `${stats.dev}:${stats.ino}`, names: Number(stats.nlink) };
    } catch {
      return undefined; // replacing it fails, and says why
    }
  });
  const namesHere = new Map<string, number>();
  for (const inode of inodes) if (inode !== undefined) namesHere.set(inode.key, (namesHere.get(inode.key) ?? 0) + 1);
  const told = new Set<string>();
  const results: { error?: unknown; namesKeepingOldText: number }[] = [];
  const release = holdInterrupts();
  try {
    for (const [index, file] of files.entries()) {
      results.push(replacedAlone(file, inodes[index], namesHere, told));
      await afterSignalsDelivered();
    }
  } finally {
    // Only after a turn past the last file: an interrupt during it ends the run before its summary.
    await release();
  }
  return results;
}

function replacedAlone(file: { readonly path: string; readonly text: string }, inode: { key: string; names: number } | undefined, namesHere: ReadonlyMap<string, number>, told: Set<string>): { error?: unknown; namesKeepingOldText: number } {
  try {
    replaceFile(file.path, file.text);
  } catch (error) {
    return { error, namesKeepingOldText: 0 };
  }
  if (inode === undefined || told.has(inode.key)) return { namesKeepingOldText: 0 };
  told.add(inode.key);
  return { namesKeepingOldText: Math.max(0, inode.names - namesHere.get(inode.key)!) };
}

/**
 * Writes a file whether or not it exists: an existing file is replaced as `replaceFile` does, a
 * new one is written under a temporary name and then renamed, so a reader (an enforcement point
 * reloading a bundle) never sees it half written. Anything else that is there (a device such as
 * /dev/stdout, a pipe) is written to as it is; a folder fails (EISDIR). Throws the file-system error.
 */
export function writeFileSafely(path: string, text: string): void {
  writeFilesSafely([{ path, text }]);
}

/**
 * Writes files that go together (a bundle and the module typed from it) as `writeFileSafely`
 * writes one, both or neither: every new text is written under its temporary name first, and
 * only when all are written do they take their places, so a failure (no space, no permission)
 * leaves every file as it was. What cannot be staged (a device, a dangling symbolic link) is
 * written just before the renames. Only a rename failing after another (a race with someone
 * else changing the folder) could leave some in place. Throws the file-system error.
 */
export function writeFilesSafely(files: readonly { readonly path: string; readonly text: string }[]): void {
  const release = holdInterrupts();
  try {
    writeStagedTogether(files);
  } finally {
    void release();
  }
}

function writeStagedTogether(files: readonly { readonly path: string; readonly text: string }[]): void {
  const staged: Staged[] = [];
  try {
    for (const { path, text } of files) staged.push(stage(path, text));
  } catch (error) {
    for (const file of staged) file.abandon();
    throw error;
  }
  // The writes that can fail for ordinary reasons first, while nothing has been replaced yet.
  const ordered = [...staged.filter((file) => !file.renames), ...staged.filter((file) => file.renames)];
  let placed = 0;
  try {
    for (const file of ordered) {
      file.place();
      placed++;
    }
  } catch (error) {
    for (const file of ordered.slice(placed)) file.abandon();
    throw error;
  }
}

/** A file being written in pieces (`startWriting`): `finish` puts it in place, `abandon` drops it. */
export interface FileInWriting {
  /** Writes the next piece. Throws the file-system error (then only `abandon` is left to call). */
  write(text: string): void;
  /** Puts the file, now written, in place. Throws the file-system error (the target is left as it was). */
  finish(): void;
  /** Drops what was written: the target stays as it was. */
  abandon(): void;
}

/**
 * Starts writing a file whether or not it exists, in pieces, as `writeFileSafely` writes one
 * whole: a report too large to hold as one string (a JUnit report of millions of cases) goes to
 * its temporary file piece by piece, and a reader never sees it half written. A device or a pipe
 * is written to as it is. Throws the file-system error (`NotWritableError` for a read-only file).
 */
export function startWriting(path: string): FileInWriting {
  const how = howToWrite(path);
  return how === "in place" ? writingInPlace(path) : writingReplacement(how === "new" ? Replacement.ofNew(path) : Replacement.of(path));
}

/**
 * How a file is written safely: `replace` an existing regular file, write a `new` one under a
 * temporary name, or write `in place` what cannot be replaced (a device, a pipe) and a dangling
 * symbolic link, which stays a link (the file is created where it points). Throws the
 * file-system error of anything else.
 */
function howToWrite(path: string): "replace" | "new" | "in place" {
  try {
    return statSync(path).isFile() ? "replace" : "in place";
  } catch (error) {
    if ((error as { code?: string }).code !== "ENOENT") throw error;
    return isLink(path) ? "in place" : "new";
  }
}

function writingReplacement(replacement: Replacement): FileInWriting {
  return {
    write: (text) => replacement.write(text),
    finish: () => {
      try {
        replacement.commit();
      } catch (error) {
        replacement.abandon();
        throw error;
      }
    },
    abandon: () => replacement.abandon(),
  };
}

function writingInPlace(path: string): FileInWriting {
  const descriptor = openSync(path, "w");
  let open = true;
  const close = (): void => {
    if (open) closeSync(descriptor);
    open = false;
  };
  return { write: (text) => writeFileSync(descriptor, text), finish: close, abandon: () => { try { close(); } catch { /* nothing more to drop */ } } };
}

/** A file's new text, ready to `place`; `abandon` drops it instead. */
interface Staged {
  /** True when `place` renames a temporary file already written (false: it writes the text). */
  readonly renames: boolean;
  place(): void;
  abandon(): void;
}

function stage(path: string, text: string): Staged {
  const how = howToWrite(path);
  return how === "in place" ? writtenInPlace(path, text) : staged(how === "new" ? Replacement.ofNew(path) : Replacement.of(path), text);
}

function writtenInPlace(path: string, text: string): Staged {
  return { renames: false, place: () => writeFileSync(path, text), abandon: () => {} };
}

function staged(replacement: Replacement, text: string): Staged {
  try {
    replacement.write(text);
  } catch (error) {
    replacement.abandon();
    throw error;
  }
  const place = (): void => {
    try {
      replacement.commit();
    } catch (error) {
      replacement.abandon();
      throw error;
    }
  };
  return { renames: true, place, abandon: () => replacement.abandon() };
}

function isLink(path: string): boolean {
  try {
    return lstatSync(path).isSymbolicLink();
  } catch {
    return false;
  }
}

/**
 * A folder to write in is a file (or a device, a pipe): `-o notes.txt/` where `notes.txt` is a
 * file. Named by `shown`, the path up to it as the user wrote it (`/dev/null` for
 * `-o /dev/null/x/`), not its last part alone, which says little when it is `null` or `notes`.
 */
export class NotAFolderError extends Error {
  readonly code = "ENOTDIR";

  constructor(
    readonly path: string,
    shown: string,
    isFile: boolean,
  ) {
    super(`\`${printable(shown)}\` is ${isFile ? "a file, " : ""}not a folder`);
  }
}

/**
 * Creates `folder` (absolute, or relative to `cwd`) and the folders missing on the way, one at
 * a time, never with Node's
 * recursive mkdir: on procfs (`/proc/nope/`) that loops for ever at full CPU, since every
 * attempt says "no such file" (ENOENT). Creating the first missing folder on its own fails at
 * once, for the real reason (ENOENT there, EROFS on a read-only file system, EACCES). Something
 * on the way that is not a folder is a `NotAFolderError`, named as `folder` names it: absolute
 * when `folder` is, else relative to `cwd`. A symbolic link to a folder that is
 * not there counts as missing, and creating it would fail with EEXIST: the first error (no such
 * file), which `describeFsError` tells as a broken link when `folder` is the link, is thrown instead.
 */
export function makeFolders(folder: string, cwd: string): void {
  const missing: string[] = [];
  let first: unknown;
  for (let at = resolve(cwd, folder); ; at = dirname(at)) {
    let stats;
    try {
      stats = statSync(at);
    } catch (error) {
      first ??= error;
      const code = (error as { code?: string }).code;
      // ENOTDIR: a file further up, found on the way.
      if ((code !== "ENOENT" && code !== "ENOTDIR") || isLink(at) || dirname(at) === at) throw first;
      missing.push(at);
      continue;
    }
    if (!stats.isDirectory()) throw new NotAFolderError(at, isAbsolute(folder) ? at : relative(cwd, at), stats.isFile());
    break;
  }
  for (const path of missing.reverse()) {
    try {
      mkdirSync(path);
    } catch (error) {
      // Made meanwhile (another build into the same folder): as good as made here.
      if ((error as { code?: string }).code !== "EEXIST" || !isFolder(path)) throw error;
    }
  }
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
