import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { loadBundle } from "../../src/bundle/loadBundle.js";
import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import { compileSources } from "../../src/compile/compile.js";
import { Engine } from "../../src/runtime/engine.js";
import { explain } from "../../src/runtime/explain.js";
import { clauseLines } from "../../src/testing/explanationText.js";
import { cli } from "../helpers.js";

/**
 * `path.normalize(s)` (language.md 5.10): a file path as the file system reads it, and an
 * evaluation error, which fails closed, for a path programs read differently. The same answers
 * from the generated code, a bundle, and the interpreter that explains.
 */
const SOURCES = [
  {
    path: "files.policy",
    text: [
      "tool fs.read { risk low args { path: string, want: string } }",
      "tool fs.write { risk medium args { path: string, content: string } }",
      "policy files {",
      '  @name("read") allow fs.read when path.normalize(args.path) == args.want',
      '  @name("etc") deny fs.write when path.normalize(args.path).startsWith("/etc/") reason "not /etc"',
      "  allow fs.write",
      "}",
      "",
    ].join("\n"),
  },
];

function engines(): [string, Engine][] {
  const { policy, diagnostics } = compileSources(SOURCES);
  if (!policy) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return [
    ["compiled", new Engine(policy)],
    ["bundle", loadBundle(JSON.parse(serializeBundle(createBundle(policy, SOURCES))))],
  ];
}

const NORMALIZED: [string, string][] = [
  ["/workspace/a.txt", "/workspace/a.txt"],
  ["/workspace//src/./app.ts", "/workspace/src/app.ts"],
  ["/workspace/a/b/../c/", "/workspace/a/c"],
  ["/workspace/../etc/passwd", "/etc/passwd"],
  ["/workspace/..", "/"],
  ["//etc/shadow", "/etc/shadow"],
  ["/", "/"],
  ["/workspace/.env", "/workspace/.env"],
  ["/workspace/..foo/x", "/workspace/..foo/x"],
  ["/workspace/100%.txt", "/workspace/100%.txt"],
  ["/workspace/Café/ÉTÉ", "/workspace/Café/ÉTÉ"],
];

/** Each refused path, and the words of the error that say why. */
const REFUSED: [string, string][] = [
  ["workspace/a.txt", "is not an absolute path"],
  ["", "is not an absolute path"],
  ["~/.ssh/id_rsa", "is not an absolute path"],
  ["C:/Windows/win.ini", "is not an absolute path"],
  ["/../etc/passwd", "has a `..` above the root"],
  ["/workspace/../../etc/passwd", "has a `..` above the root"],
  ["/workspace/a.txt\u0000/../../etc/passwd", "has a control character"],
  ["/workspace/.\t./etc", "has a control character"],
  ["/workspace/..\\..\\etc\\passwd", "has a backslash"],
  ["/workspace/%2e%2e/etc/passwd", "has a percent-encoded"],
  ["/workspace/%2E%2e%2Fetc", "has a percent-encoded"],
  ["/workspace/%252e%252e/etc", "has a percent-encoded"],
  ["/workspace/.git./hooks/pre-commit", "has a name ending in a dot or white space"],
  ["/workspace/.. /etc", "has a name ending in a dot or white space"],
  ["/workspace/...", "has a name ending in a dot or white space"],
  ["/workspace/.g\u200cit/config", "has an invisible character"],
  ["/workspace/\uff0e\uff0e/etc", "compatibility mapping"],
  ["/workspace/\u2024\u2024/etc", "compatibility mapping"],
  ["/workspace\uff0fetc", "compatibility mapping"],
  // Review r1, F7, F11: trailing white space of any kind (tools trim it), percent-encoded white space, lone surrogates.
  ["/workspace/cert.pem\u00a0", "has a name ending in a dot or white space"],
  ["/workspace/.git\u3000/hooks/pre-commit", "has a name ending in a dot or white space"],
  ["/workspace/.git%20/hooks/pre-commit", "has a percent-encoded"],
  ["/workspace/a%09b", "has a percent-encoded"],
  ["/workspace/\ud800.txt", "has a lone surrogate"],
];

describe("path.normalize", () => {
  for (const [name, engine] of engines()) {
    it(`reads a path as the file system does (${name})`, () => {
      for (const [path, want] of NORMALIZED) {
        const decision = engine.decide({ session: `n-${path}`, tool: "fs.read", args: { path, want } });
        expect([path, decision.decision, decision.errors]).toEqual([path, "allow", []]);
      }
    });

    it(`refuses a path programs read differently, failing closed both ways (${name})`, () => {
      for (const [path, why] of REFUSED) {
        // An allow on it does not match, whatever it is compared with ...
        const read = engine.decide({ session: `r-${path}`, tool: "fs.read", args: { path, want: "" } });
        expect([path, read.decision, read.rules]).toEqual([path, "deny", []]);
        expect(read.errors.join("\n"), path).toContain(why);
        expect(read.errors.join("\n"), path).toMatch(/^(?:read: )?path\.normalize: /);
        // ... and a deny on it matches.
        const write = engine.decide({ session: `w-${path}`, tool: "fs.write", args: { path, content: "" } });
        expect([path, write.decision, write.rules]).toEqual([path, "deny", ["etc"]]);
      }
    });
  }

  it("a deny-list on the normalised path holds for every spelling of the path", () => {
    const [[, engine]] = engines() as [[string, Engine]];
    for (const path of ["/etc/cron.d/x", "//etc/cron.d/x", "/tmp/../etc/cron.d/x", "/./etc/cron.d/x", "/etc//cron.d/./x"]) {
      expect([path, engine.decide({ session: path, tool: "fs.write", args: { path, content: "" } }).decision]).toEqual([path, "deny"]);
    }
    expect(engine.decide({ session: "ok", tool: "fs.write", args: { path: "/etcetera/x", content: "" } }).decision).toBe("allow");
  });

  it("explanations show the normalised path, and the error", () => {
    const [[, engine]] = engines() as [[string, Engine]];
    const [read] = explain(engine, { session: "e", tool: "fs.read", args: { path: "/workspace/../etc/passwd", want: "/workspace/x" } }).rules;
    expect(clauseLines(read!)).toEqual(['`path.normalize(args.path) == args.want` was false (path.normalize(args.path) is "/etc/passwd", args.want is "/workspace/x")']);
    const [etc] = explain(engine, { session: "e2", tool: "fs.write", args: { path: "/workspace/..\\x", content: "" } }).rules;
    expect(etc).toMatchObject({ id: "etc", matched: "error" });
    expect(clauseLines(etc!).join("\n")).toContain("has a backslash");
  });

  const dir = mkdtempSync(join(tmpdir(), "policyc-paths-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("through the CLI: eval explains a refused path, and a bundle that uses it names the function", async () => {
    writeFileSync(join(dir, "files.policy"), SOURCES[0]!.text);
    writeFileSync(join(dir, "r.json"), JSON.stringify({ session: "s", tool: "fs.write", args: { path: "workspace/../etc/x", content: "" } }));
    const result = await cli(["eval", "files.policy", "--request", "r.json"], { cwd: dir });
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("deny");
    expect(result.stdout).toContain('path.normalize: "workspace/../etc/x" is not an absolute path');
    expect(await cli(["build", "files.policy", "-o", "files.bundle.json"], { cwd: dir })).toMatchObject({ code: 0 });
  });
});
