import { isAbsolute, relative, resolve, sep } from "node:path";
import { braceExpand, Minimatch } from "minimatch";
import { printable } from "../diagnostics/printable.js";

/** Longer globs are refused: none is meant, and minimatch's work grows with the length. */
export const MAX_EXCLUDE_GLOB_LENGTH = 1000;
/** The most globs one `--exclude` may expand to through `{…}` (`{1..100000}` is 100,000 matchers). */
const MAX_EXPANSIONS = 1000;

/**
 * Why `--exclude GLOB` would not do what it says, or undefined. minimatch reads a glob starting
 * with `#` as a comment and one starting with `!` as a negation: either would leave out other
 * files than the user named, silently.
 */
export function excludeGlobMistake(glob: string): string | undefined {
  if (glob.length > MAX_EXCLUDE_GLOB_LENGTH) return `--exclude takes a glob of at most ${MAX_EXCLUDE_GLOB_LENGTH.toLocaleString("en-US")} characters, not ${glob.length.toLocaleString("en-US")}`;
  const shown = printable(glob);
  if (glob.startsWith("#")) return `--exclude \`${shown}\` starts with \`#\`, which minimatch reads as a comment matching nothing: write \`[#]${printable(glob.slice(1))}\` for a name starting with #`;
  if (glob.startsWith("!")) return `--exclude \`${shown}\` starts with \`!\`, a negation: --exclude takes what to leave out, and leaving in the rest is what it does already`;
  if (braceExpand(glob, { braceExpandMax: MAX_EXPANSIONS + 1 }).length > MAX_EXPANSIONS) return `--exclude \`${shown}\` expands to more than ${MAX_EXCLUDE_GLOB_LENGTH.toLocaleString("en-US")} globs: give fewer alternatives in \`{…}\``;
  return undefined;
}

/** A path with `/` between its names, as globs are written on every system. */
function posix(path: string): string {
  return sep === "/" ? path : path.split(sep).join("/");
}

interface Glob {
  /** As the user gave it, for messages. */
  readonly given: string;
  /** Whether it names a path (has a `/` once normalised), not a name to match anywhere. */
  readonly isPath: boolean;
  readonly matcher: Minimatch;
}

/**
 * The `--exclude` globs of one run, each compiled once, with the ones that left something out.
 * A glob is matched, in any letter case (as `.policy` is: the same flags must choose the same
 * files on a case-insensitive macOS or Windows disk and on Linux CI), against a file's or
 * folder's path relative to the working folder and against its path relative to the policy path
 * it was found under; a glob without `/` against its name. It is normalised first: an absolute
 * one is taken relative to the working folder, `./` and a trailing `/` are dropped. A folder it
 * matches is left out with everything under it (the walk does not enter it).
 */
export class ExcludeGlobs {
  private readonly globs: readonly Glob[];
  private readonly used = new Set<string>();

  constructor(globs: readonly string[], cwd: string) {
    this.globs = globs.map((given) => {
      let glob = posix(given);
      if (isAbsolute(given)) glob = posix(relative(cwd, resolve(cwd, given))) || ".";
      glob = glob.replace(/^(?:\.\/)+/, "").replace(/\/+$/, "");
      return { given, isPath: glob.includes("/"), matcher: new Minimatch(glob, { dot: true, nocase: true }) };
    });
  }

  /**
   * The glob that leaves out the entry at `fromCwd` (relative to the working folder), found at
   * `fromPath` under a policy path (undefined for the path itself), or undefined. Its own path
   * only: the walk does not enter an excluded folder, so a match of a folder above it was seen there.
   */
  match(fromCwd: string, fromPath: string | undefined): string | undefined {
    const paths = [posix(fromCwd), ...(fromPath === undefined || fromPath === "" ? [] : [posix(fromPath)])];
    const name = paths[0]!.slice(paths[0]!.lastIndexOf("/") + 1);
    const glob = this.globs.find((g) => (g.isPath ? paths.some((path) => g.matcher.match(path)) : name !== "" && name !== "." && name !== ".." && g.matcher.match(name)));
    if (glob !== undefined) this.used.add(glob.given);
    return glob?.given;
  }

  /**
   * The glob that leaves out a policy path given (`fromCwd`) or a folder above it inside the
   * working folder, or undefined. Not the folders above the working folder: `--exclude tmp`
   * must not leave out everything under `/tmp/checkout`.
   */
  matchPathGiven(fromCwd: string): string | undefined {
    const parts = posix(fromCwd).split("/");
    for (let end = 1; end <= parts.length; end++) {
      if (parts[end - 1] === ".." || parts[end - 1] === "." || parts[end - 1] === "" || (end < parts.length && parts[0] === "..")) continue;
      const glob = this.match(parts.slice(0, end).join("/"), undefined);
      if (glob !== undefined) return glob;
    }
    return undefined;
  }

  /** The usage error for the globs that left nothing out, or undefined when each did. */
  unmatched(): string | undefined {
    const unused = this.globs.filter((glob) => !this.used.has(glob.given)).map((glob) => `\`${printable(glob.given)}\``);
    if (unused.length === 0) return undefined;
    return `--exclude ${unused.join(", --exclude ")} matched no policy file or folder under the paths given (mistyped?): a glob meant to leave rules out that leaves nothing out ships them`;
  }
}
