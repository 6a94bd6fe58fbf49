import { globMatch } from "../runtime/glob.js";
import { lexicalPath, refusedInPath } from "../runtime/helpers.js";

/**
 * A file path tested on its text (PC517): `args.path.startsWith("/workspace/")`, `args.path like
 * "/workspace/*"`, `args.path == "/etc/shadow"`. The file system reads `.` and `..` segments and
 * repeated `/`s, the text test does not: where the test holding loosens the rule,
 * `/workspace/../etc/passwd` starts like a workspace path and is /etc/passwd; where it tightens
 * the rule, `//etc/shadow` and `/tmp/../etc/shadow` are /etc/shadow and do not start with
 * `/etc/`. `path.normalize` reads the path as the file system does.
 */

/** How the text is tested: as the path's start, end or any part, as a `like` pattern, or as the whole path (`==`, `in`). */
export type PathTextTest = "startsWith" | "endsWith" | "contains" | "like" | "whole";

export interface PathTextHole {
  /** Paths the test gets wrong, at most two (see `pathTextHole`). */
  readonly missed: readonly string[];
  /** The first of them as the file system reads it. */
  readonly readAs: string;
}

/**
 * Paths the test gets wrong: ones it holds for outside the folder it names (when `loosens`), or
 * the same path written otherwise that it misses (when it tightens). Undefined when the text is
 * no absolute path with a folder in it (`/`, `/giphy`: a chat command starts so too), holds what
 * `path.normalize` refuses or is already in another spelling (`/a/../b`), or the test is one
 * normalizing cannot change.
 */
export function pathTextHole(test: PathTextTest, text: string, loosens: boolean): PathTextHole | undefined {
  const start = test === "like" ? text.split("*")[0]! : text;
  if (!/^\/[^/\s*]+\//.test(start) || text.includes("://") || /(?:^|\/)\.{1,2}(?:\/|$)|\/\//.test(text)) return undefined;
  // A star outside `like` is text, and a path rarely holds one: PC511's, when it is a slip. Text
  // `path.normalize` refuses makes the rewrite never hold: PC507's.
  if ((test !== "like" && text.includes("*")) || refusedInPath(text) !== undefined || /[.\s]\//.test(text) || (test === "whole" && /[.\s]$/.test(text))) return undefined;
  const missed = loosens ? climbedOut(test, text, start) : respelled(test, text);
  return missed.length === 0 ? undefined : { missed: missed.slice(0, 2), readAs: lexicalPath(missed[0]!) ?? missed[0]! };
}

/** A path that climbs out of the folder the start names with `..`, and still passes the test. */
function climbedOut(test: PathTextTest, text: string, start: string): string[] {
  // `==` holds for the one path written, and a name looked for at the end is not a folder.
  if (test === "whole" || test === "endsWith") return [];
  // Up out of every folder the start names, then into /etc; a pattern's other pieces after it.
  const up = "../".repeat(start.split("/").filter((segment) => segment !== "").length);
  const tail = test === "like" ? text.split("*").slice(1).map((piece, i) => `${i === 0 ? "passwd" : "x"}${piece}`).join("") : "passwd";
  const escaped = `${start}${start.endsWith("/") ? "" : "/"}${up}etc/${tail}`;
  return passes(test, text, escaped) ? [escaped] : [];
}

/** The same path written otherwise (`//etc/x`, `/tmp/../etc/x`, `/etc/./x`), which the test misses. */
function respelled(test: PathTextTest, text: string): string[] {
  const filled = test === "like" ? text.replace(/\*+/g, "x") : text;
  const lastSlash = filled.lastIndexOf("/");
  const candidates = [`/${filled}`, `/tmp/..${filled}`, `${filled.slice(0, lastSlash)}/.${filled.slice(lastSlash)}`, `${filled.slice(0, lastSlash)}/${filled.slice(lastSlash)}`];
  return candidates.filter((candidate) => !passes(test, text, candidate));
}

/** Whether the text test holds for `path`. */
function passes(test: PathTextTest, text: string, path: string): boolean {
  switch (test) {
    case "like":
      return globMatch(text, path);
    case "startsWith":
      return path.startsWith(text);
    case "endsWith":
      return path.endsWith(text);
    case "contains":
      return path.includes(text);
    case "whole":
      return path === text;
  }
}

/** The test as policy text: `subject` tested against `literal` (JSON text), or against `list` for `in`. */
export function testText(test: PathTextTest, subject: string, literal: string, operator: string | undefined, list: string | undefined): string {
  switch (test) {
    case "like":
    case "contains":
      return `${subject} ${test} ${literal}`;
    case "whole":
      return `${subject} ${operator ?? "=="} ${list ?? literal}`;
    default:
      return `${subject}.${test}(${literal})`;
  }
}

/**
 * The test written on `path.normalize`, which never returns a trailing `/`: where a start or a
 * pattern names a folder (`"/etc/"`, `"/proc/*"`) and the test tightens the rule, the folder
 * itself (`/etc/`, which the text test matched) needs a test of its own.
 */
export function normalizedTest(test: PathTextTest, path: string, text: string, loosens: boolean, operator: string | undefined, list: string | undefined): string {
  const written = testText(test, path, JSON.stringify(test === "whole" ? (lexicalPath(text) ?? text) : text), operator, list);
  const folder = test === "startsWith" && text.endsWith("/") ? text.slice(0, -1) : test === "like" && /^[^*]+\/\*$/.test(text) ? text.slice(0, -2) : undefined;
  return folder === undefined || loosens ? written : `(${path} == ${JSON.stringify(folder)} or ${written})`;
}
