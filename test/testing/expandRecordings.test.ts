import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expandRecordings } from "../../src/testing/expandRecordings.js";
import { STANDARD_INPUT } from "../../src/testing/recordingSource.js";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-expand-"));
  for (const name of ["logs/b.jsonl", "logs/a.jsonl", "logs/notes.txt", "logs/mon/day.jsonl", "logs/tue/day.jsonl", "logs/tue/deep/day.jsonl", "logs/.hidden/x.jsonl", "logs/.git/y.jsonl", "empty/readme.md"]) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), "");
  }
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

const expand = (...patterns: string[]) => expandRecordings(patterns, dir);

describe("expandRecordings", () => {
  it("keeps files as given, in the order given, once each", () => {
    expect(expand("logs/b.jsonl", "logs/a.jsonl", "logs/b.jsonl")).toEqual({ files: ["logs/b.jsonl", "logs/a.jsonl"], missing: [] });
  });

  it("takes an argument that names an existing file or folder the glob it spells does not match as that name; one the glob matches is a glob, as in bash", () => {
    const tree = mkdtempSync(join(tmpdir(), "policyc-literal-"));
    try {
      for (const name of ["run1.jsonl", "run[1].jsonl", "logs1/a.jsonl", "logs[1]/b.jsonl", "star/*.jsonl", "star/x.jsonl", "**/*.jsonl", "logs*/c.jsonl", "logs2/d.jsonl", "a[!x].jsonl", "ab.jsonl"]) {
        mkdirSync(join(tree, name, ".."), { recursive: true });
        writeFileSync(join(tree, name), "");
      }
      const inTree = (pattern: string) => expandRecordings([pattern], tree);
      expect(inTree("run[1].jsonl")).toEqual({ files: ["run[1].jsonl"], missing: [] });
      expect(inTree("run\\[1\\].jsonl")).toEqual({ files: ["run[1].jsonl"], missing: [] });
      expect(inTree("run[0-9].jsonl")).toEqual({ files: ["run1.jsonl"], missing: [] });
      expect(inTree("logs[1]")).toEqual({ files: [join("logs[1]", "b.jsonl")], missing: [] });
      expect(inTree("a[!x].jsonl")).toEqual({ files: ["a[!x].jsonl"], missing: [] });
      // A glob that matches its own spelling takes every match, the file of that name among them.
      expect(inTree("star/*.jsonl")).toEqual({ files: ["star/*.jsonl", "star/x.jsonl"], missing: [] });
      expect(inTree("./star/*.jsonl")).toEqual({ files: ["star/*.jsonl", "star/x.jsonl"], missing: [] });
      expect(inTree("star/?.jsonl")).toEqual({ files: ["star/*.jsonl", "star/x.jsonl"], missing: [] });
      expect(inTree("**/*.jsonl").files).toEqual(["**/*.jsonl", "a[!x].jsonl", "ab.jsonl", "logs*/c.jsonl", "logs2/d.jsonl", join("logs[1]", "b.jsonl"), "logs1/a.jsonl", "run1.jsonl", "run[1].jsonl", "star/*.jsonl", "star/x.jsonl"].sort());
      // A folder it names by its own spelling is searched as a folder is; the glob's other matches are files.
      expect(inTree("logs*")).toEqual({ files: ["logs*/c.jsonl"], missing: [] });
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });

  it("names a path where nothing is as missing, as a glob that matches nothing (review a4 F4); a broken link goes to the runner, which says what it points to", () => {
    expect(expand("nope.jsonl")).toEqual({ files: [], missing: [{ place: "nope.jsonl", why: "no such file or folder" }] });
    expect(expand("logs/a.jsonl/x.jsonl")).toEqual({ files: [], missing: [{ place: "logs/a.jsonl/x.jsonl", why: "no such file or folder" }] });
  });

  it("standard input is its marker, kept once; a file named `standard input` is a path like any other (review r3 R2)", () => {
    expect(expand(STANDARD_INPUT, "logs/a.jsonl", STANDARD_INPUT)).toEqual({ files: [STANDARD_INPUT, "logs/a.jsonl"], missing: [] });
    expect(expand("standard input")).toEqual({ files: [], missing: [{ place: "standard input", why: "no such file or folder" }] });
    writeFileSync(join(dir, "standard input"), "");
    try {
      expect(expand("standard input", "stand*", STANDARD_INPUT)).toEqual({ files: ["standard input", STANDARD_INPUT], missing: [] });
    } finally {
      rmSync(join(dir, "standard input"));
    }
  });

  it("a path that cannot be looked at (a loop of links) is not \"no such file\": it goes to the runner, which says why (review r3 R3)", () => {
    symlinkSync("loop", join(dir, "loop"));
    try {
      expect(expand("loop/a.jsonl")).toEqual({ files: ["loop/a.jsonl"], missing: [] });
    } finally {
      rmSync(join(dir, "loop"));
    }
  });

  it("expands a folder to its .jsonl files, recursively and sorted, hidden folders included, version control's skipped", () => {
    expect(expand("logs").files).toEqual(["logs/.hidden/x.jsonl", "logs/a.jsonl", "logs/b.jsonl", "logs/mon/day.jsonl", "logs/tue/day.jsonl", "logs/tue/deep/day.jsonl"]);
    expect(expand("empty")).toEqual({ files: [], missing: [{ place: "empty", why: "a folder without .jsonl or .ndjson files" }] });
  });

  it("expands a quoted glob in the last segment", () => {
    expect(expand("logs/*.jsonl").files).toEqual(["logs/a.jsonl", "logs/b.jsonl"]);
    expect(expand("./logs/*.jsonl").files).toEqual(["logs/a.jsonl", "logs/b.jsonl"]);
    expect(expand(join(dir, "logs", "a*")).files).toEqual([join(dir, "logs", "a.jsonl")]);
  });

  it("a `*` in a folder segment matches one folder; `**` any depth", () => {
    expect(expand("logs/*/day.jsonl").files).toEqual(["logs/mon/day.jsonl", "logs/tue/day.jsonl"]);
    expect(expand("logs/**/day.jsonl").files).toEqual(["logs/mon/day.jsonl", "logs/tue/day.jsonl", "logs/tue/deep/day.jsonl"]);
  });

  it("`**` is zero or more whole folders; every other segment matches one name, its `*` never crossing a `/`", () => {
    const tree = mkdtempSync(join(tmpdir(), "policyc-globstar-"));
    try {
      for (const name of ["top.jsonl", "rec/2025/prod-a.jsonl", "rec/nonprod-old/broken.jsonl", "rec/prod-b.jsonl", "rec/a/b/one.jsonl", "rec/ab/x.jsonl", "rec/b/two.jsonl", "rec/a/b/c/deep.jsonl", "rec/notes.txt"]) {
        mkdirSync(join(tree, name, ".."), { recursive: true });
        writeFileSync(join(tree, name), "");
      }
      const inTree = (pattern: string): string[] => expandRecordings([pattern], tree).files;
      // The audit's cases: a segment's text does not run into the folder before it.
      expect(inTree("rec/**/prod-*.jsonl")).toEqual(["rec/2025/prod-a.jsonl", "rec/prod-b.jsonl"]);
      expect(inTree("rec/**/b/*.jsonl")).toEqual(["rec/a/b/one.jsonl", "rec/b/two.jsonl"]);
      // At the start (top-level files included), in the middle, and at the end (every file below, at any depth).
      expect(inTree("**/*.jsonl")).toEqual(["rec/2025/prod-a.jsonl", "rec/a/b/c/deep.jsonl", "rec/a/b/one.jsonl", "rec/ab/x.jsonl", "rec/b/two.jsonl", "rec/nonprod-old/broken.jsonl", "rec/prod-b.jsonl", "top.jsonl"]);
      expect(inTree("**/one.jsonl")).toEqual(["rec/a/b/one.jsonl"]);
      expect(inTree("rec/a/**/*.jsonl")).toEqual(["rec/a/b/c/deep.jsonl", "rec/a/b/one.jsonl"]);
      expect(inTree("rec/a/**")).toEqual(["rec/a/b/c/deep.jsonl", "rec/a/b/one.jsonl"]);
      expect(inTree("rec/**/c/**/*.jsonl")).toEqual(["rec/a/b/c/deep.jsonl"]);
      // `**` inside a name is a `*`, as in bash: it stays in that name.
      expect(inTree("rec/prod**.jsonl")).toEqual(["rec/prod-b.jsonl"]);
      expect(expandRecordings(["rec/**/nonprod-new/*.jsonl"], tree)).toEqual({ files: [], missing: [{ place: "rec/**/nonprod-new/*.jsonl", why: "nothing matches" }] });
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });

  it("a folder's recordings are .jsonl and .ndjson files in any letter case (all JSON Lines)", () => {
    const tree = mkdtempSync(join(tmpdir(), "policyc-extensions-"));
    try {
      for (const name of ["rec/happy.jsonl", "rec/nested/ATTACKS.JSONL", "rec/nested/attacks.ndjson", "rec/Day.NDJson", "rec/notes.json", "rec/old.jsonl.bak"]) {
        mkdirSync(join(tree, name, ".."), { recursive: true });
        writeFileSync(join(tree, name), "");
      }
      expect(expandRecordings(["rec"], tree)).toEqual({ files: ["rec/Day.NDJson", "rec/happy.jsonl", "rec/nested/ATTACKS.JSONL", "rec/nested/attacks.ndjson"], missing: [] });
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
  });

  it("reports a glob that matches nothing as missing", () => {
    expect(expand("logs/*.json")).toEqual({ files: [], missing: [{ place: "logs/*.json", why: "nothing matches" }] });
    expect(expand("nowhere/*.jsonl")).toEqual({ files: [], missing: [{ place: "nowhere/*.jsonl", why: "nothing matches" }] });
  });

  it("follows symbolic links to recordings and folders, once each, and lists a broken link (so reading it reports it)", () => {
    mkdirSync(join(dir, "linked/real"), { recursive: true });
    writeFileSync(join(dir, "linked/real/r.jsonl"), "");
    writeFileSync(join(dir, "outside.jsonl"), "");
    symlinkSync(join(dir, "outside.jsonl"), join(dir, "linked/link.jsonl"));
    symlinkSync(join(dir, "linked"), join(dir, "linked/real/loop"));
    symlinkSync(join(dir, "nowhere.jsonl"), join(dir, "linked/broken.jsonl"));
    expect(expand("linked").files).toEqual(["linked/broken.jsonl", "linked/link.jsonl", "linked/real/r.jsonl"]);
    // The same recording by two names (a link, another spelling) is replayed once.
    expect(expand("outside.jsonl", "linked/link.jsonl", "./outside.jsonl").files).toEqual(["outside.jsonl"]);
  });
});
