import { describe, expect, it } from "vitest";
import { compileSources } from "../../src/compile/compile.js";
import { Engine } from "../../src/runtime/engine.js";
import { checkAlone } from "../fixtures.js";

/**
 * PC517 (a file path tested on its text) and PC507 for `path.normalize` (text it never
 * returns): what each reports, what it leaves alone, and that what it says is true.
 */
const TOOLS = "tool fs.read { risk low args { path: string } }\ntool fs.write { risk medium args { path: string, content: string } }\n";

function warnings(...rules: string[]) {
  return checkAlone(`${TOOLS}policy p {\n${rules.map((rule) => `  ${rule}`).join("\n")}\n}\n`).filter((d) => d.code.startsWith("PC5"));
}

function decide(rules: string[], path: string, tool = "fs.read"): string {
  const { policy, diagnostics } = compileSources([{ path: "p.policy", text: `${TOOLS}policy p {\n${rules.join("\n")}\n}\n` }]);
  if (!policy) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return new Engine(policy).decide({ session: "s", tool, args: { path, content: "" } }).decision;
}

const READS = "`path.normalize` reads `.`, `..` and repeated `/` as the file system does, and refuses a relative path, a backslash, a control character or a percent-encoded dot with an evaluation error, which fails closed";

describe("PC517 a file path tested on its text", () => {
  it("a start or a pattern where holding loosens the rule: `..` climbs out of the folder", () => {
    const found = warnings('allow fs.read when args.path.startsWith("/workspace/")', 'allow fs.read when args.path like "/home/agent/*.txt"', 'allow fs.read when args.path.startsWith("/srv/data")');
    expect(found.map((d) => [d.code, d.line, d.message, d.help])).toEqual([
      ["PC517", 4, 'this test reads the path as text, so it also holds for paths outside the folder it names, such as "/workspace/../etc/passwd", which the file system reads as "/etc/passwd"', `write \`path.normalize(args.path).startsWith("/workspace/")\`: ${READS}`],
      ["PC517", 5, 'this test reads the path as text, so it also holds for paths outside the folder it names, such as "/home/agent/../../etc/passwd.txt", which the file system reads as "/etc/passwd.txt"', `write \`path.normalize(args.path) like "/home/agent/*.txt"\`: ${READS}`],
      ["PC517", 6, 'this test reads the path as text, so it also holds for paths outside the folder it names, such as "/srv/data/../../etc/passwd", which the file system reads as "/etc/passwd"', `write \`path.normalize(args.path).startsWith("/srv/data")\`: ${READS}`],
    ]);
  });

  it("where holding tightens the rule (a deny-list, an allow's `not`): the same path written another way escapes", () => {
    const found = warnings('deny fs.read when args.path.startsWith("/etc/")', 'deny fs.read when args.path == "/etc/shadow"', 'deny fs.read when args.path in ["/root/.ssh/id_rsa", "/etc/shadow"]', 'allow fs.read when not (args.path like "/proc/*")', 'allow fs.read when args.path != "/etc/shadow"');
    expect(found.map((d) => [d.line, d.message.replace(/.*such as /, ""), d.help!.replace(`: ${READS}`, "")])).toEqual([
      // The normalised path has no trailing `/`: the folder itself needs a test of its own.
      [4, '"//etc/" or "/tmp/../etc/", which the file system reads as "/etc"', 'write `(path.normalize(args.path) == "/etc" or path.normalize(args.path).startsWith("/etc/"))`'],
      [5, '"//etc/shadow" or "/tmp/../etc/shadow", which the file system reads as "/etc/shadow"', 'write `path.normalize(args.path) == "/etc/shadow"`'],
      [6, '"//root/.ssh/id_rsa" or "/tmp/../root/.ssh/id_rsa", which the file system reads as "/root/.ssh/id_rsa"', 'write `path.normalize(args.path) in ["/root/.ssh/id_rsa", "/etc/shadow"]`'],
      [7, '"//proc/x" or "/tmp/../proc/x", which the file system reads as "/proc/x"', 'write `not (path.normalize(args.path) == "/proc" or path.normalize(args.path) like "/proc/*")` for `not (args.path like "/proc/*")`'],
      [8, '"//etc/shadow" or "/tmp/../etc/shadow", which the file system reads as "/etc/shadow"', 'write `path.normalize(args.path) != "/etc/shadow"`'],
    ]);
    expect(found.every((d) => d.message.startsWith("this test reads the path as text, so it misses the same path written another way"))).toBe(true);
  });

  it("not for an exact allow-list, a normalised path, `/` alone, relative or URL text, text already in another spelling, or an ask", () => {
    expect(
      warnings(
        'allow fs.read when args.path == "/srv/data.csv"',
        'allow fs.read when args.path in ["/srv/a.csv", "/srv/b.csv"]',
        'allow fs.read when path.normalize(args.path).startsWith("/workspace/")',
        'deny fs.read when path.normalize(args.path) == "/etc/shadow"',
        'allow fs.read when args.path.startsWith("/")',
        'deny fs.read when args.path.startsWith("src/")',
        'deny fs.read when args.path.startsWith("//server/share")',
        'deny fs.read when args.path like "*/.ssh/*"',
        'deny fs.read when args.path like "*/../*"',
        'ask fs.read when args.path.startsWith("/etc/")',
        'deny fs.read when args.path contains "/etc/"',
        'allow fs.read when args.path.startsWith("/srv/*")',
      ),
    ).toEqual([]);
  });

  it("what it says is true: the text test lets those paths through, and the help's test does not", () => {
    expect(decide(['allow fs.read when args.path.startsWith("/workspace/")'], "/workspace/../etc/passwd")).toBe("allow");
    expect(decide(['allow fs.read when path.normalize(args.path).startsWith("/workspace/")'], "/workspace/../etc/passwd")).toBe("deny");
    for (const path of ["//etc/shadow", "/tmp/../etc/shadow"]) {
      expect(decide(['deny fs.read when args.path == "/etc/shadow"', "allow fs.read"], path)).toBe("allow");
      expect(decide(['deny fs.read when path.normalize(args.path) == "/etc/shadow"', "allow fs.read"], path)).toBe("deny");
    }
  });

  it("`contains` in either direction and `endsWith` in a deny-list (review r1, F2)", () => {
    const found = warnings('allow fs.read when args.path contains "/workspace/"', 'deny fs.read when args.path.endsWith("/etc/shadow")', 'deny fs.read when args.path contains "/etc/shadow"');
    expect(found.map((d) => [d.line, d.message.replace(/.*such as /, ""), d.help!.replace(`: ${READS}`, "")])).toEqual([
      [4, '"/workspace/../etc/passwd", which the file system reads as "/etc/passwd"', 'write `path.normalize(args.path) contains "/workspace/"`'],
      [5, '"/etc/./shadow" or "/etc//shadow", which the file system reads as "/etc/shadow"', 'write `path.normalize(args.path).endsWith("/etc/shadow")`'],
      [6, '"/etc/./shadow" or "/etc//shadow", which the file system reads as "/etc/shadow"', 'write `path.normalize(args.path) contains "/etc/shadow"`'],
    ]);
    // Text looked for anywhere or at the end is as often in a URL or a message: only a value named as a path (review r3, B1).
    const quiet = checkAlone(`tool http.get { risk low args { url: string } }\ntool chat.post { risk low args { text: string, channel: string } }\npolicy p {\n  deny http.get when args.url.endsWith("/admin/users")\n  deny chat.post when args.text contains "/etc/passwd"\n  allow chat.post when args.text contains "/deploy/staging"\n  deny chat.post when args.channel.endsWith("/ops/alerts")\n}\n`);
    expect(quiet).toEqual([]);
    // An allow on an end names a file, not a folder; a folder looked for anywhere cannot be respelled around.
    expect(warnings('allow fs.read when args.path.endsWith("/notes/todo.txt")', 'deny fs.read when args.path contains "/etc/"')).toEqual([]);
    expect(decide(['deny fs.read when args.path.endsWith("/etc/shadow")', "allow fs.read"], "/etc//shadow")).toBe("allow");
    expect(decide(['deny fs.read when path.normalize(args.path).endsWith("/etc/shadow")', "allow fs.read"], "/etc//shadow")).toBe("deny");
  });

  it("the help for a folder in a deny-list also tests the folder itself, which the normalised path has without its `/` (review r1, F1)", () => {
    const rule = (test: string) => [`deny fs.read when ${test}`, "allow fs.read"];
    for (const path of ["/etc/", "//etc", "/etc/.", "//etc/", "/tmp/../etc/", "/etc/passwd"]) {
      expect([path, decide(rule('(path.normalize(args.path) == "/etc" or path.normalize(args.path).startsWith("/etc/"))'), path)]).toEqual([path, "deny"]);
    }
    expect(decide(rule('(path.normalize(args.path) == "/etc" or path.normalize(args.path).startsWith("/etc/"))'), "/etcetera/x")).toBe("allow");
  });

  it("not for a `lower()`d normalised path, text `path.normalize` refuses, or `/name` alone (review r1, F3, F4, F9)", () => {
    expect(
      warnings(
        'allow fs.read when path.normalize(args.path).lower().startsWith("/workspace/")',
        'deny fs.read when path.normalize(args.path).lower() == "/etc/shadow"',
        'deny fs.read when args.path == "/srv/file."',
        'deny fs.read when args.path.startsWith("/srv/v1./")',
        'deny fs.read when args.path.startsWith("/srv/%2e/")',
        'allow fs.read when args.path.startsWith("/giphy")',
      ),
    ).toEqual([]);
    // A name with a dot at the end of the text may go on (`/data/v1.2`): what the file system reads is named.
    expect(warnings('allow fs.read when args.path.startsWith("/data/v1.")').map((d) => d.message.replace(/.*such as /, ""))).toEqual(['"/data/v1./../../etc/passwd", which the file system reads as "/etc/passwd"']);
  });

  it("a quantifier variable named `path`: no PC505, and PC517's help says to rename it (review r1, F5)", () => {
    const found = checkAlone(`tool fs.read { risk low args { paths: list<string> } }\npolicy p {\n  allow fs.read when all(path in args.paths: path.startsWith("/workspace/"))\n}\n`);
    expect(found.map((d) => [d.code, d.help?.replace(/: `path.normalize` reads.*/, "")])).toEqual([["PC517", "rename the variable `path`, which hides `path.normalize` inside its quantifier, and test `path.normalize(…)` of it"]]);
    expect(checkAlone(`tool fs.read { risk low args { paths: list<string> } }\npolicy p {\n  allow fs.read when all(p in args.paths: path.normalize(p).startsWith("/workspace/"))\n}\n`)).toEqual([]);
  });

  it("can be suppressed on a rule that guards paths otherwise", () => {
    expect(warnings('@suppress("PC517") allow fs.read when args.path.startsWith("/workspace/") and not (args.path contains "..")')).toEqual([]);
  });
});

describe("PC507 for path.normalize: text it never returns", () => {
  it("a trailing `/`, an empty, `.` or `..` segment, a relative path, a backslash, `\"\"`", () => {
    const found = warnings(
      'deny fs.read when path.normalize(args.path) == "/workspace/secrets/"',
      'deny fs.read when path.normalize(args.path).startsWith("workspace/")',
      'deny fs.read when path.normalize(args.path) contains "/../"',
      'deny fs.read when path.normalize(args.path) == ""',
      'deny fs.read when path.normalize(args.path).endsWith("\\\\.ssh")',
      'deny fs.read when path.normalize(args.path) like "/etc//*"',
      'deny fs.read when path.normalize(args.path) == "/.git."',
    );
    expect(found.map((d) => [d.code, d.line, d.help])).toEqual([
      ["PC507", 4, 'write the path as it returns it: "/workspace/secrets"'],
      ["PC507", 5, undefined],
      ["PC507", 6, undefined],
      ["PC507", 7, undefined],
      ["PC507", 8, undefined],
      ["PC507", 9, 'write the path as it returns it: "/etc/*"'],
      ["PC507", 10, undefined],
    ]);
    expect(found[0]!.message).toBe('`path.normalize` returns a path with no empty, `.` or `..` segment, no name ending in a dot or white space, and no trailing `/`, so comparing it with "/workspace/secrets/" is never true');
  });

  it("a name ending in a dot or white space where its end shows, what it refuses anywhere; no correction that says nothing (review r1, F8)", () => {
    const found = warnings(
      'deny fs.read when path.normalize(args.path).endsWith(".")',
      'deny fs.read when path.normalize(args.path) like "*.git. /*"',
      'deny fs.read when path.normalize(args.path) contains "//"',
      'deny fs.read when path.normalize(args.path) == "/a/\u200cb"',
      'deny fs.read when path.normalize(args.path) == "/a/\uff0e\uff0e/b"',
      'deny fs.read when path.normalize(args.path) == "/a/../b"',
    ).filter((d) => d.code === "PC507");
    expect(found.map((d) => [d.code, d.line, d.help])).toEqual([
      ["PC507", 4, undefined],
      ["PC507", 5, undefined],
      ["PC507", 6, undefined],
      ["PC507", 7, undefined],
      ["PC507", 8, undefined],
      ["PC507", 9, 'write the path as it returns it: "/b"'],
    ]);
  });

  it("not for text it can return: an open end may go on into a name", () => {
    expect(warnings('deny fs.read when path.normalize(args.path).startsWith("/workspace/.")', 'deny fs.read when path.normalize(args.path).startsWith("/etc/")', 'deny fs.read when path.normalize(args.path) contains "/.ssh/"', 'deny fs.read when path.normalize(args.path) == "/"', 'deny fs.read when path.normalize(args.path).endsWith("/.env")', 'deny fs.read when path.normalize(args.path) like "*/.git/*"')).toEqual([]);
  });
});
