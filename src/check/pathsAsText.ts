import { globMatch } from "../runtime/glob.js";

/**
 * A file path tested on its text (PC517): `args.path.startsWith("/workspace/")`, `args.path like
 * "/workspace/*"`, `args.path == "/etc/shadow"`. The file system reads `.` and `..` segments and
 * repeated `/`s, the text test does not: where the test holding loosens the rule,
 * `/workspace/../etc/passwd` starts like a workspace path and is /etc/passwd; where it tightens
 * the rule, `//etc/shadow` and `/tmp/../etc/shadow` are /etc/shadow and do not start with
 * `/etc/`. `path.normalize` reads the path as the file system does.
 */

/** How the text is tested: as the path's start, as a `like` pattern, or as the whole path (`==`, `in`). */
export type PathTextTest = "startsWith" | "like" | "whole";

/**
 * Paths the test gets wrong, at most two: ones it holds for outside the folder it names (when
 * `loosens`), or the same path written otherwise that it misses (when it tightens). Undefined when
 * the text is no absolute path (`/` and a name), or the test is one normalizing cannot change.
 */
export function pathTextHole(test: PathTextTest, text: string, loosens: boolean): string[] | undefined {
  const start = test === "like" ? text.split("*")[0]! : text;
  // An absolute path with a name in it: not `/` alone, a `//host` or a URL, nor text already in
  // another spelling (`/a/../b`), which is a test of its own.
  if (!/^\/[^/\s*]/.test(start) || text.includes("://") || /(?:^|\/)\.{1,2}(?:\/|$)|\/\//.test(text)) return undefined;
  // A star outside `like` is text, and a path rarely holds one: PC511's, when it is a slip.
  if (test !== "like" && text.includes("*")) return undefined;
  if (loosens) {
    // `==` holds for the one path written: only a start leaves room for `..`.
    if (test === "whole") return undefined;
    // Up out of every folder the start names, then into /etc; a pattern's other pieces after it.
    const up = "../".repeat(start.split("/").filter((segment) => segment !== "").length);
    const tail = test === "like" ? text.split("*").slice(1).map((piece, i) => `${i === 0 ? "passwd" : "x"}${piece}`).join("") : "passwd";
    const escaped = `${start}${start.endsWith("/") ? "" : "/"}${up}etc/${tail}`;
    const holds = test === "like" ? globMatch(text, escaped) : escaped.startsWith(text);
    return holds ? [escaped] : undefined;
  }
  // The same path written otherwise, which the test misses.
  const filled = test === "like" ? text.replace(/\*+/g, "x") : text;
  const lastSlash = filled.lastIndexOf("/");
  const candidates = [`/${filled}`, `/tmp/..${filled}`, `${filled.slice(0, lastSlash)}/.${filled.slice(lastSlash)}`];
  const missed = candidates.filter((candidate) => (test === "like" ? !globMatch(text, candidate) : test === "startsWith" ? !candidate.startsWith(text) : candidate !== text));
  return missed.length > 0 ? missed.slice(0, 2) : undefined;
}
