import { spawnSync } from "node:child_process";
import { generateKeyPairSync } from "node:crypto";
import { chmodSync, existsSync, linkSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import type { Bundle } from "../../src/bundle/Bundle.js";
import { loadBundle } from "../../src/bundle/loadBundle.js";
import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import { compileSources } from "../../src/compile/compile.js";
import { analyze } from "../../src/check/analyze.js";
import { emitTypeScript, policyDocs } from "../../src/compile/emitTypeScript.js";
import { bin, binUnprivileged, CAN_RUN_UNPRIVILEGED, cli, ROOT, type CliResult } from "../helpers.js";
import { VERSION } from "../../src/version.js";
import { call, DECLS, SUPPORT_RULES as CONTRACT_RULES } from "../runtime/fixtures.js";

/**
 * The contract's rules with the address test PC512 suggests, so that a build prints no warning
 * and its output is the summary alone (the contract's own form and its warning:
 * test/conformance.test.ts, docs/cli.md).
 */
const SUPPORT_RULES = CONTRACT_RULES.replace('not (r like "*@acme.com")', 'email.domain(r) != "acme.com"');

/** What an earlier build left (only its start matters: a rebuild replaces a policyc bundle). */
const OLD_BUNDLE = '{\n  "format": "policyc-bundle/1",\n  "rules": []\n}\n';

/** `policyc build`: goldens with exit codes, run in a temporary folder. */
let dir: string;
let publicPem: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-build-"));
  write("decls.policy", DECLS);
  write("support.policy", SUPPORT_RULES);
  write("bad.policy", "tool a.b { args { x: strin } }\n");
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  write("key.pem", privateKey.export({ type: "pkcs8", format: "pem" }) as string);
  publicPem = publicKey.export({ type: "spki", format: "pem" }) as string;
  write("public.pem", publicPem);
  write("rsa.pem", generateKeyPairSync("rsa", { modulusLength: 1024 }).privateKey.export({ type: "pkcs8", format: "pem" }) as string);
  writeFileSync(join(dir, "public.der"), publicKey.export({ type: "spki", format: "der" }));
  writeFileSync(join(dir, "key.der"), privateKey.export({ type: "pkcs8", format: "der" }));
  write("encrypted.pem", privateKey.export({ type: "pkcs8", format: "pem", cipher: "aes-256-cbc", passphrase: "secret" }) as string);
  write("cut.pem", (privateKey.export({ type: "pkcs8", format: "pem" }) as string).slice(0, 50));
  write("rsa-public.pem", generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "pkcs1", format: "pem" }) as string);
  write("garbage.pem", "not a key\n");
  write("a-bundle.json", OLD_BUNDLE);
  write("empty.pem", "");
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string | Buffer): void {
  writeFileSync(join(dir, name), text);
}

function read(name: string): string {
  return readFileSync(join(dir, name), "utf8");
}

function build(...args: string[]): Promise<CliResult> {
  return cli(["build", ...args], { cwd: dir });
}

function expectNoStackTrace(result: CliResult): void {
  for (const text of [result.stdout, result.stderr]) {
    expect(text).not.toMatch(/^\s+at /m);
    expect(text).not.toContain("internal error");
  }
}

/** The bundle the build should write for the two support files, computed with the library. */
function expectedBundle(): Bundle {
  const sources = [
    { path: "decls.policy", text: DECLS },
    { path: "support.policy", text: SUPPORT_RULES },
  ];
  const { policy } = compileSources(sources);
  return createBundle(policy!, sources);
}

/** The policy.ts the build should write beside that bundle, named `bundleFile`. */
function expectedModule(bundleFile: string): string {
  const { program } = analyze([
    { path: "decls.policy", text: DECLS },
    { path: "support.policy", text: SUPPORT_RULES },
  ]);
  return emitTypeScript(expectedBundle().schema, { bundleFile, docs: policyDocs(program!.files) });
}

describe("policyc build", () => {
  it("names a source outside the build folder relative to it, never by the host's absolute path (audit s20 a2 M6)", async () => {
    const outside = mkdtempSync(join(tmpdir(), "policyc-outside-"));
    const inside = join(outside, "work", "site");
    mkdirSync(inside, { recursive: true });
    writeFileSync(join(outside, "p.policy"), 'tool kb.search { risk low args { q: string } }\npolicy p {\n  @name("search") allow kb.search\n}\n');
    const result = await cli(["build", join(outside, "p.policy"), "-o", "bundle.json"], { cwd: inside });
    expect(result.code, result.stderr).toBe(0);
    const bundle = JSON.parse(readFileSync(join(inside, "bundle.json"), "utf8")) as Bundle;
    expect(bundle.manifest.sources.map((source) => source.path)).toEqual([join("..", "..", "p.policy")]);
    expect(loadBundle(bundle).decide({ session: "s", tool: "kb.search", args: { q: "x" } }).locations).toEqual([`${join("..", "..", "p.policy")}:3:19`]);
    rmSync(outside, { recursive: true, force: true });
  });

  it("writes a bundle and says so (golden, exit 0)", async () => {
    const result = await build("decls.policy", "support.policy", "-o", "bundle.json");
    const hash = expectedBundle().manifest.contentHash;
    expect(result).toEqual({ code: 0, stdout: `built bundle.json: 8 rules, 4 tools, ${hash}\n`, stderr: "" });
    expect(read("bundle.json")).toBe(serializeBundle(expectedBundle()));
    const engine = loadBundle(JSON.parse(read("bundle.json")));
    expect(engine.decide(call("crm.lookup", 0))).toMatchObject({ decision: "allow", rules: ["lookup-for-tickets"] });
  });

  it("-o - writes the bundle on stdout and the summary on stderr; with --target ts it is bad usage (exit 2)", async () => {
    const hash = expectedBundle().manifest.contentHash;
    expect(await build("decls.policy", "support.policy", "-o", "-")).toEqual({ code: 0, stdout: serializeBundle(expectedBundle()), stderr: `built standard output: 8 rules, 4 tools, ${hash}\n` });
    const json = await build("decls.policy", "support.policy", "-o", "-", "--json");
    expect(json.stdout).toBe(serializeBundle(expectedBundle()));
    expect(JSON.parse(json.stderr)).toMatchObject({ ok: true, written: ["-"], contentHash: hash });
    const ts = await build("decls.policy", "support.policy", "-o", "-", "--target", "ts");
    expect(ts).toMatchObject({ code: 2, stdout: "" });
    expect(ts.stderr).toContain("standard output (-) cannot hold both");
    expect(existsSync(join(dir, "-"))).toBe(false);
  });

  it.each(["-", "/dev/stdout"])("-o %s with errors, an unreadable or empty source: nothing on stdout, the diagnostics (human or JSON) on stderr (review a4 F1)", async (output) => {
    const failed = await build("bad.policy", "-o", output);
    expect(failed).toMatchObject({ code: 1, stdout: "" });
    expect(failed.stderr).toContain("bad.policy:1:22: error[PC201]");
    const json = await build("bad.policy", "-o", output, "--json");
    expect(json).toMatchObject({ code: 1, stdout: "" });
    expect(JSON.parse(json.stderr)).toMatchObject({ ok: false, errors: 1 });
    const missing = await build("missing.policy", "-o", output);
    expect(missing).toMatchObject({ code: 2, stdout: "" });
    expect(missing.stderr).toContain("cannot read `missing.policy`");
    const empty = mkdtempSync(join(tmpdir(), "policyc-build-empty-"));
    try {
      const none = await cli(["build", empty, "-o", output], { cwd: dir });
      expect(none).toMatchObject({ code: 2, stdout: "" });
      expect(none.stderr).toContain("PC004");
    } finally {
      rmSync(empty, { recursive: true, force: true });
    }
  });

  it.each(["/dev/stdout", "/dev/fd/1", "/proc/self/fd/1"])("-o %s is -o -: the summary goes to stderr, so a pipe gets the bundle alone (review r3)", async (output) => {
    const hash = expectedBundle().manifest.contentHash;
    expect(await build("decls.policy", "support.policy", "-o", output)).toEqual({ code: 0, stdout: serializeBundle(expectedBundle()), stderr: `built standard output: 8 rules, 4 tools, ${hash}\n` });
  });

  it("shows an -o it refuses with its control characters escaped: one line on stderr", async () => {
    const refused = await build("decls.policy", "support.policy", "--target", "ts", "-o", "a\n::error::b.ts");
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/^policyc build: `a\\u000a::error::b\.ts` names a TypeScript file/);
    expect(refused.stderr.trimEnd().split("\n")).toHaveLength(1);
  });

  it("shows a written file's name with its control characters escaped, and takes B.JSON for a bundle file with --target ts", async () => {
    const named = await build("decls.policy", "support.policy", "-o", "b\n::warning::x.json");
    expect(named.code).toBe(0);
    expect(named.stdout).toMatch(/^built b\\u000a::warning::x\.json: 8 rules/);
    expect(named.stdout.split("\n")).toHaveLength(2);
    const upper = await build("decls.policy", "support.policy", "-o", "B.JSON", "--target", "ts");
    expect(upper.code).toBe(0);
    expect(existsSync(join(dir, "B.JSON"))).toBe(true);
    expect(statSync(join(dir, "B.JSON")).isFile()).toBe(true);
    expect(existsSync(join(dir, "policy.ts"))).toBe(true);
  });

  it("writes byte-identical bundles for the same sources", async () => {
    await build("decls.policy", "support.policy", "-o", "one.json");
    await build("decls.policy", "support.policy", "-o", "two.json");
    expect(read("two.json")).toBe(read("one.json"));
    // Named in another order: the same set, the same bytes.
    await build("support.policy", "decls.policy", "-o", "three.json");
    expect(read("three.json")).toBe(read("one.json"));
    // A file named twice (a link beside it) is read once, by the same name whatever the order.
    symlinkSync(join(dir, "support.policy"), join(dir, "alias.policy"));
    await build("decls.policy", "support.policy", "alias.policy", "-o", "four.json");
    await build("alias.policy", "support.policy", "decls.policy", "-o", "five.json");
    expect(read("five.json")).toBe(read("four.json"));
    expect((JSON.parse(read("four.json")) as Bundle).manifest.sources.map((s) => s.path)).toEqual(["alias.policy", "decls.policy"]);
  });

  it("writes byte-identical bundles however the same sources' paths are spelled (folder, `./folder/`, absolute, `..`, the files one by one, a folder and one of its files; audit s22 f4)", async () => {
    mkdirSync(join(dir, "spelled"), { recursive: true });
    writeFileSync(join(dir, "spelled/decls.policy"), DECLS);
    writeFileSync(join(dir, "spelled/support.policy"), SUPPORT_RULES);
    const spellings = [["spelled"], ["./spelled/"], [join(dir, "spelled")], [`${join(dir, "spelled")}/`], ["spelled/../spelled"], ["spelled//"], ["spelled/support.policy", "./spelled/decls.policy"], ["spelled", "spelled/decls.policy"]];
    const bundles = await Promise.all(spellings.map(async (paths, i) => {
      expect(await build(...paths, "-o", `spelled-${i}.json`), paths.join(" ")).toMatchObject({ code: 0 });
      return read(`spelled-${i}.json`);
    }));
    for (const [i, bundle] of bundles.entries()) expect(bundle, spellings[i]!.join(" ")).toBe(bundles[0]);
    expect((JSON.parse(bundles[0]!) as Bundle).manifest.sources.map((s) => s.path)).toEqual(["spelled/decls.policy", "spelled/support.policy"]);
  });

  // Records holding records are validated by functions named and written from a work list
  // (fix of s19 audit a3 finding 3), in an order of their own since 0.10.0 (review r4 MEDIUM 1):
  // that order must come of the sources alone, not of the order the files are named in, nor of
  // the order the types are declared in.
  it("writes byte-identical bundles for records holding records, whatever order the files are named in; the code does not depend on the order the types are declared in", async () => {
    const types = ["type A { b: B, c: C, l: list<B>, s?: set<E> }", "type B { d: D, e?: E }", "type C { z: int, a?: A }", "type D { w: int, b?: B }", "enum E { x, y }"];
    const tools = "agent { id: string, home?: C }\ntool t { risk low args { a: A } }\ntool u { risk low args { d: D, c: C } }\npolicy p {\n  allow t when args.a.c.z == 1\n  deny u when args.d.w == 2\n}\n";
    mkdirSync(join(dir, "records"), { recursive: true });
    writeFileSync(join(dir, "records/types.policy"), `${types.join("\n")}\n`);
    writeFileSync(join(dir, "records/tools.policy"), tools);
    for (const [order, output] of [[["types", "tools"], "one"], [["types", "tools"], "two"], [["tools", "types"], "three"]] as const) {
      expect(await build(...order.map((name) => `records/${name}.policy`), "-o", `records/${output}.json`)).toMatchObject({ code: 0 });
    }
    expect(read("records/two.json")).toBe(read("records/one.json"));
    expect(read("records/three.json")).toBe(read("records/one.json"));
    // The types declared in the reverse order: other sources (and so another content hash), the same code.
    writeFileSync(join(dir, "records/types.policy"), `${[...types].reverse().join("\n")}\n`);
    expect(await build("records/types.policy", "records/tools.policy", "-o", "records/reversed.json")).toMatchObject({ code: 0 });
    const code = (name: string): string => (JSON.parse(read(`records/${name}.json`)) as Bundle).code;
    expect(code("reversed")).toBe(code("one"));
    expect(code("one")).toMatch(/function y\d+\(v, d\)/);
  });

  it("refuses to write the bundle over one of its sources (exit 2, the source kept)", async () => {
    write("victim.policy", SUPPORT_RULES);
    const result = await build("decls.policy", "victim.policy", "-o", "victim.policy");
    expect(result).toEqual({ code: 2, stdout: "", stderr: "policyc build: `victim.policy` is one of the policy sources: writing the bundle there would overwrite it\n" });
    expect(read("victim.policy")).toBe(SUPPORT_RULES);
    expect((await build("decls.policy", "victim.policy", "-o", `./sub/../victim.policy`)).code).toBe(2);
  });

  it("refuses an -o that is a hard link to a source (another name, the same file)", async () => {
    write("linked.policy", SUPPORT_RULES);
    linkSync(join(dir, "linked.policy"), join(dir, "hard.json"));
    const result = await build("decls.policy", "linked.policy", "-o", "hard.json");
    expect(result).toEqual({ code: 2, stdout: "", stderr: "policyc build: `hard.json` is one of the policy sources: writing the bundle there would overwrite it\n" });
    expect(read("linked.policy")).toBe(SUPPORT_RULES);
  });

  it("refuses an -o that is the --sign key, by any path (relative, absolute, a symbolic or hard link), for either target: exit 2, the key kept", async () => {
    mkdirSync(join(dir, "keys"));
    const key = read("key.pem");
    write("keys/signing.pem", key);
    symlinkSync("signing.pem", join(dir, "keys", "link.pem"));
    linkSync(join(dir, "keys", "signing.pem"), join(dir, "keys", "hard.pem"));
    for (const output of ["keys/signing.pem", "./keys/sub/../signing.pem", join(dir, "keys", "signing.pem"), "keys/link.pem", "keys/hard.pem"]) {
      const result = await build("decls.policy", "support.policy", "--sign", "keys/signing.pem", "-o", output);
      expect(result).toEqual({ code: 2, stdout: "", stderr: `policyc build: \`${output}\` is the signing key (--sign): writing the bundle there would overwrite it\n` });
    }
    expect((await build("decls.policy", "support.policy", "--sign", "keys/link.pem", "-o", "keys/hard.pem")).code).toBe(2);
    // --target ts: the bundle beside policy.ts, or policy.ts itself.
    linkSync(join(dir, "keys", "signing.pem"), join(dir, "keys", "key-bundle.json"));
    const bundle = await build("decls.policy", "support.policy", "--sign", "keys/signing.pem", "--target", "ts", "-o", "keys/key-bundle.json");
    expect(bundle).toEqual({ code: 2, stdout: "", stderr: "policyc build: `keys/key-bundle.json` is the signing key (--sign): writing the bundle there would overwrite it\n" });
    expect(existsSync(join(dir, "keys", "policy.ts"))).toBe(false);
    mkdirSync(join(dir, "typed-key"));
    write("typed-key/policy.ts", key);
    const module = await build("decls.policy", "support.policy", "--sign", "typed-key/policy.ts", "--target", "ts", "-o", "typed-key/");
    expect(module).toEqual({ code: 2, stdout: "", stderr: `policyc build: \`${join("typed-key", "policy.ts")}\` is the signing key (--sign): writing the typed module there would overwrite it\n` });
    for (const name of ["keys/signing.pem", "keys/hard.pem", "keys/key-bundle.json", "typed-key/policy.ts"]) expect(read(name)).toBe(key);
    expect(existsSync(join(dir, "typed-key", "bundle.json"))).toBe(false);
  });

  it("-o ending in / or naming an existing folder writes bundle.json in it (the folder created if need be)", async () => {
    const hash = expectedBundle().manifest.contentHash;
    const fresh = await build("decls.policy", "support.policy", "-o", "into/new/");
    expect(fresh).toEqual({ code: 0, stdout: `built ${join("into", "new", "bundle.json")}: 8 rules, 4 tools, ${hash}\n`, stderr: "" });
    expect(statSync(join(dir, "into", "new")).isDirectory()).toBe(true);
    expect(read("into/new/bundle.json")).toBe(serializeBundle(expectedBundle()));
    mkdirSync(join(dir, "existing"));
    const existing = await build("decls.policy", "support.policy", "-o", "existing");
    expect(existing).toEqual({ code: 0, stdout: `built ${join("existing", "bundle.json")}: 8 rules, 4 tools, ${hash}\n`, stderr: "" });
    expect(read("existing/bundle.json")).toBe(serializeBundle(expectedBundle()));
    // --target ts treats a folder named like a bundle file as the folder it is.
    mkdirSync(join(dir, "typed.json"));
    expect((await build("decls.policy", "support.policy", "--target", "ts", "-o", "typed.json")).code).toBe(0);
    expect(readdirSync(join(dir, "typed.json")).sort()).toEqual(["bundle.json", "policy.ts"]);
  });

  it("-o DIR/ through a symbolic link to a folder that is not there says it is a broken link, not that it exists (review r4 #2)", async () => {
    symlinkSync(join(dir, "no-such-share", "policies"), join(dir, "dangling"));
    expect(await build("decls.policy", "support.policy", "-o", "dangling/")).toEqual({ code: 2, stdout: "", stderr: `policyc build: cannot write \`dangling/\`: it is a symbolic link to \`${join(dir, "no-such-share", "policies")}\`, which does not exist (a broken link)\n` });
    expect(await build("decls.policy", "support.policy", "-o", "dangling/sub/")).toEqual({ code: 2, stdout: "", stderr: "policyc build: cannot write `dangling/sub/`: no such file or folder\n" });
  });

  it("-o naming a folder under a file (`afile/`, `afile/sub/`) says plainly that the file is not a folder, for either target: exit 2, nothing written (audit a2 #7)", async () => {
    write("afile", "mine\n");
    for (const target of ["js", "ts"]) {
      for (const output of ["afile/", "afile/sub/", "afile/sub/b.json"]) {
        expect(await build("decls.policy", "support.policy", "--target", target, "-o", output), `${target} ${output}`).toEqual({ code: 2, stdout: "", stderr: `policyc build: cannot write \`${output}\`: \`afile\` is a file, not a folder\n` });
      }
    }
    expect(read("afile")).toBe("mine\n");
  });

  it("a bundle.json or policy.ts that is a folder is named, not the output folder asked for (audit a4 #6)", async () => {
    mkdirSync(join(dir, "fo", "bundle.json"), { recursive: true });
    expect(await build("decls.policy", "support.policy", "-o", "fo/")).toEqual({ code: 2, stdout: "", stderr: `policyc build: cannot write \`${join("fo", "bundle.json")}\`: it is a folder\n` });
    mkdirSync(join(dir, "fo2", "policy.ts"), { recursive: true });
    expect(await build("decls.policy", "support.policy", "--target", "ts", "-o", "fo2/")).toEqual({ code: 2, stdout: "", stderr: `policyc build: cannot write \`${join("fo2", "policy.ts")}\`: it is a folder\n` });
    expect(existsSync(join(dir, "fo2", "bundle.json"))).toBe(false);
  });

  it("the file in the way of -o is named by the path up to it as given, not by its last part alone: `a/notes`, `/dev/null` (review r3 #4)", async () => {
    mkdirSync(join(dir, "a"));
    write("a/notes", "mine\n");
    expect(await build("decls.policy", "support.policy", "-o", "a/notes/x/")).toEqual({ code: 2, stdout: "", stderr: "policyc build: cannot write `a/notes/x/`: `a/notes` is a file, not a folder\n" });
    expect(await build("decls.policy", "support.policy", "--target", "ts", "-o", "./a/../a/notes/x/y/")).toEqual({ code: 2, stdout: "", stderr: "policyc build: cannot write `./a/../a/notes/x/y/`: `a/notes` is a file, not a folder\n" });
    // Given absolute, named absolute.
    const absolute = join(dir, "a", "notes", "x") + "/";
    expect(await build("decls.policy", "support.policy", "-o", absolute)).toEqual({ code: 2, stdout: "", stderr: `policyc build: cannot write \`${absolute}\`: \`${join(dir, "a", "notes")}\` is a file, not a folder\n` });
    if (existsSync("/dev/null")) {
      expect(await build("decls.policy", "support.policy", "-o", "/dev/null/x/")).toEqual({ code: 2, stdout: "", stderr: "policyc build: cannot write `/dev/null/x/`: `/dev/null` is not a folder\n" });
    }
    expect(read("a/notes")).toBe("mine\n");
  });

  it.skipIf(!existsSync("/proc/self"))("-o under /proc (where Node's recursive mkdir loops for ever) fails at once: exit 2, cannot write (audit a2 #4)", () => {
    for (const target of ["js", "ts"]) {
      const started = Date.now();
      const result = spawnSync(process.execPath, [join(ROOT, "bin", "policyc.js"), "build", "decls.policy", "--target", target, "-o", "/proc/policyc-nope/deeper/"], { cwd: dir, encoding: "utf8", timeout: 20_000, env: { ...process.env, NO_COLOR: "1" } });
      expect(result.signal, `${target}: killed after ${Date.now() - started} ms`).toBeNull();
      expect({ code: result.status, stderr: result.stderr }).toEqual({ code: 2, stderr: "policyc build: cannot write `/proc/policyc-nope/deeper/`: no such file or folder\n" });
    }
  });

  it("rebuilding over a bundle replaces it whole: its permissions kept, a link kept a link, no temporary file left", async () => {
    write("old.json", OLD_BUNDLE);
    chmodSync(join(dir, "old.json"), 0o640);
    symlinkSync("old.json", join(dir, "old-link.json"));
    expect((await build("decls.policy", "support.policy", "-o", "old-link.json")).code).toBe(0);
    expect(read("old.json")).toBe(serializeBundle(expectedBundle()));
    expect(lstatSync(join(dir, "old-link.json")).isSymbolicLink()).toBe(true);
    expect(statSync(join(dir, "old.json")).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir).filter((name) => name.includes(".tmp"))).toEqual([]);
  });

  it("refuses to replace an existing file that is not a policyc bundle (another policy, a README, a recording, notes): exit 2, the file kept", async () => {
    mkdirSync(join(dir, "keep", "dir"), { recursive: true });
    const files = {
      "keep/other.policy": ["tool x { risk low }\n", "is a policy file, not a policyc bundle"],
      "keep/README.md": ["# Read me\n", "is not a policyc bundle"],
      "keep/happy-path.jsonl": ['{"tool": "x", "decision": "allow"}\n', "is a recording (JSON Lines), not a policyc bundle"],
      "keep/notes.txt": ["important\n", "is not a policyc bundle"],
      "keep/request.json": ['{"tool": "x"}\n', "is not a policyc bundle"],
    };
    for (const [name, [text, what]] of Object.entries(files)) {
      write(name, text);
      expect(await build("decls.policy", "support.policy", "-o", name)).toEqual({ code: 2, stdout: "", stderr: `policyc build: \`${name}\` exists and ${what}: refusing to replace it; remove it first if it may go, or give -o another file or a folder\n` });
      expect(read(name)).toBe(text);
    }
    // A folder's bundle.json too; nothing is written beside it.
    write("keep/dir/bundle.json", "not a bundle\n");
    expect((await build("decls.policy", "support.policy", "-o", "keep/dir/", "--target", "ts")).code).toBe(2);
    expect(readdirSync(join(dir, "keep", "dir"))).toEqual(["bundle.json"]);
    // What it may replace: a bundle (rebuilt), an empty file, a device, standard output, a folder.
    write("keep/empty.json", "");
    for (const output of ["keep/empty.json", "keep/empty.json", "/dev/null", "-", "keep/"]) expect((await build("decls.policy", "support.policy", "-o", output)).code, output).toBe(0);
    expect(read("keep/empty.json")).toBe(serializeBundle(expectedBundle()));
    expect(read("keep/bundle.json")).toBe(serializeBundle(expectedBundle()));
  });

  it("replaces a bundle saved as UTF-16 (PowerShell 5.1's `>`), one with its keys sorted (`jq -S`), and a file of white space only (review r4 #4)", async () => {
    mkdirSync(join(dir, "forms"));
    const bundle = serializeBundle(expectedBundle());
    const sorted = (value: unknown): unknown => (Array.isArray(value) ? value.map(sorted) : value !== null && typeof value === "object" ? Object.fromEntries(Object.entries(value).sort(([a], [b]) => (a < b ? -1 : 1)).map(([k, v]) => [k, sorted(v)])) : value);
    const big = Buffer.from("\ufeff" + bundle, "utf16le");
    const forms: Record<string, string | Buffer> = {
      "forms/utf16le.json": big,
      "forms/utf16be.json": Buffer.from(big).swap16(),
      "forms/sorted.json": JSON.stringify(sorted(JSON.parse(bundle)), null, 2) + "\n",
      "forms/blank.json": " \n\t\r\n",
      "forms/blank-long.json": " ".repeat(10_000) + "\n",
      "forms/small-sorted.json": '{"code": "", "format": "policyc-bundle/1"}\n',
    };
    for (const [name, content] of Object.entries(forms)) {
      write(name, content);
      expect((await build("decls.policy", "support.policy", "-o", name)).code, name).toBe(0);
      expect(read(name), name).toBe(bundle);
    }
    // UTF-16 text that is no bundle is still kept, and the refusal says what encoding it is in.
    write("forms/notes.txt", Buffer.from("\ufeffimportant\n", "utf16le"));
    expect(await build("decls.policy", "support.policy", "-o", "forms/notes.txt")).toEqual({ code: 2, stdout: "", stderr: "policyc build: `forms/notes.txt` exists and is not a policyc bundle (it is UTF-16 text): refusing to replace it; remove it first if it may go, or give -o another file or a folder\n" });
    // JSON that only carries a bundle inside it is not one.
    write("forms/request.json", JSON.stringify({ tool: "deploy", args: { body: JSON.parse(bundle) } }));
    expect((await build("decls.policy", "support.policy", "-o", "forms/request.json")).code).toBe(2);
  });

  it("a file left at a temporary name by a killed run (in a container policyc is process 1 every time) is not in the way, and is left alone", async () => {
    mkdirSync(join(dir, "killed"));
    write("killed/bundle.json.policyc-1.tmp", "left by a killed run\n");
    write(`killed/bundle.json.policyc-${process.pid}.tmp`, "left by a killed run\n");
    const result = await build("decls.policy", "support.policy", "-o", "killed/bundle.json");
    expect(result.code).toBe(0);
    expect(read("killed/bundle.json")).toBe(serializeBundle(expectedBundle()));
    expect(readdirSync(join(dir, "killed")).sort()).toEqual(["bundle.json", "bundle.json.policyc-1.tmp", `bundle.json.policyc-${process.pid}.tmp`].sort());
    expect(read("killed/bundle.json.policyc-1.tmp")).toBe("left by a killed run\n");
  });

  it("-o over a read-only bundle (no write permission for anyone) is refused also as root, which the system lets write it: exit 2, the bundle as it was (audit s15 #5)", async () => {
    write("ro-bundle.json", OLD_BUNDLE);
    chmodSync(join(dir, "ro-bundle.json"), 0o444);
    expect(await build("decls.policy", "support.policy", "-o", "ro-bundle.json")).toEqual({ code: 2, stdout: "", stderr: "policyc build: cannot write `ro-bundle.json`: permission denied (left as it was)\n" });
    expect(read("ro-bundle.json")).toBe(OLD_BUNDLE);
    expect(readdirSync(dir).filter((name) => name.startsWith("ro-bundle.json."))).toEqual([]);
  });

  it.skipIf(!CAN_RUN_UNPRIVILEGED)("-o over an existing bundle the user cannot write (read-only) is refused: exit 2, the bundle as it was", () => {
    const shared = mkdtempSync(join(tmpdir(), "policyc-build-shared-"));
    try {
      chmodSync(shared, 0o777);
      for (const name of ["decls.policy", "support.policy"]) writeFileSync(join(shared, name), read(name));
      writeFileSync(join(shared, "locked.json"), OLD_BUNDLE);
      chmodSync(join(shared, "locked.json"), 0o444);
      const result = binUnprivileged(["build", "decls.policy", "support.policy", "-o", "locked.json"], { cwd: shared });
      expect(result).toEqual({ code: 2, stdout: "", stderr: "policyc build: cannot write `locked.json`: permission denied (left as it was)\n" });
      expect(readFileSync(join(shared, "locked.json"), "utf8")).toBe(OLD_BUNDLE);
      expect(readdirSync(shared).sort()).toEqual(["decls.policy", "locked.json", "support.policy"]);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it.skipIf(!CAN_RUN_UNPRIVILEGED)("--target ts with a read-only policy.ts names that file, not the -o folder: exit 2, both files as they were", () => {
    const shared = mkdtempSync(join(tmpdir(), "policyc-build-module-"));
    try {
      chmodSync(shared, 0o777);
      for (const name of ["decls.policy", "support.policy"]) writeFileSync(join(shared, name), read(name));
      expect(binUnprivileged(["build", "decls.policy", "support.policy", "--target", "ts", "-o", "out/"], { cwd: shared }).code).toBe(0);
      const before = readFileSync(join(shared, "out", "bundle.json"), "utf8");
      chmodSync(join(shared, "out", "policy.ts"), 0o444);
      writeFileSync(join(shared, "support.policy"), read("support.policy") + "\npolicy extra {\n  deny kb.search\n}\n");
      const result = binUnprivileged(["build", "decls.policy", "support.policy", "--target", "ts", "-o", "out/"], { cwd: shared });
      expect(result).toEqual({ code: 2, stdout: "", stderr: "policyc build: cannot write `out/policy.ts`: permission denied (left as it was)\n" });
      expect(readFileSync(join(shared, "out", "bundle.json"), "utf8")).toBe(before);
    } finally {
      rmSync(shared, { recursive: true, force: true });
    }
  });

  it("--sign signs with an Ed25519 PEM key; the bundle loads with the public key", async () => {
    const result = await build("decls.policy", "support.policy", "-o", "signed.json", "--sign", "key.pem");
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^built signed\.json: 8 rules, 4 tools, sha256:[0-9a-f]{64}, signed\n$/);
    const bundle = JSON.parse(read("signed.json")) as Bundle;
    expect(bundle.signature?.algorithm).toBe("ed25519");
    expect(() => loadBundle(bundle, { publicKey: publicPem })).not.toThrow();
    expect(bundle.manifest.contentHash).toBe(expectedBundle().manifest.contentHash);
  });

  it("--sign refuses a file of several PEM keys, as --public-key does (exit 2, nothing written) (audit s19 F4)", async () => {
    write("two-keys.pem", read("key.pem") + (generateKeyPairSync("ed25519").privateKey.export({ type: "pkcs8", format: "pem" }) as string));
    expect(await build("decls.policy", "support.policy", "-o", "two-signed.json", "--sign", "two-keys.pem")).toEqual({ code: 2, stdout: "", stderr: "two-keys.pem: error[PC704]: cannot sign with `two-keys.pem`: the signing key holds 2 PEM private keys, and one is read: the first alone would sign, perhaps not the one you meant. Give the one private key to sign with\n" });
    expect(existsSync(join(dir, "two-signed.json"))).toBe(false);
  });

  it("--sign takes a file of the private key and its public key, in either order: there is one key to sign with (review s19 #3)", async () => {
    for (const [name, text] of [["pair.pem", read("key.pem") + read("public.pem")], ["pair-public-first.pem", read("public.pem") + read("key.pem")]] as const) {
      write(name, text);
      expect(await build("decls.policy", "support.policy", "-o", `${name}.json`, "--sign", name)).toMatchObject({ code: 0, stderr: "" });
      expect(() => loadBundle(JSON.parse(read(`${name}.json`)), { publicKey: publicPem })).not.toThrow();
    }
    // Beside a public key, two private keys are still two to choose between.
    write("pair-and-another.pem", read("public.pem") + read("two-keys.pem"));
    expect(await build("decls.policy", "support.policy", "-o", "k.json", "--sign", "pair-and-another.pem")).toMatchObject({ code: 2, stderr: expect.stringContaining("the signing key holds 2 PEM private keys") });
  });

  it("--target ts -o DIR writes bundle.json and policy.ts", async () => {
    const result = await build("decls.policy", "support.policy", "--target", "ts", "-o", "out");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`built ${join("out", "bundle.json")}, ${join("out", "policy.ts")}: 8 rules, 4 tools, ${expectedBundle().manifest.contentHash}\n`);
    expect(read("out/bundle.json")).toBe(serializeBundle(expectedBundle()));
    expect(read("out/policy.ts")).toBe(expectedModule("bundle.json"));
    expect(read("out/policy.ts")).toContain('readonly tool: "email.send";');
  });

  it("--target ts -o FILE.json writes the bundle there and policy.ts beside it", async () => {
    const result = await build("decls.policy", "support.policy", "--target", "ts", "-o", "typed/support.json");
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(`built ${join("typed", "support.json")}, ${join("typed", "policy.ts")}: 8 rules, 4 tools, ${expectedBundle().manifest.contentHash}\n`);
    expect(read("typed/support.json")).toBe(serializeBundle(expectedBundle()));
    expect(read("typed/policy.ts")).toBe(expectedModule("support.json"));
  });

  it("--target ts refuses to replace a policy.ts that policyc did not generate (golden, exit 2, nothing written)", async () => {
    mkdirSync(join(dir, "app"));
    write("app/policy.ts", "// hand-written: wraps the engine for our gateway\nexport function guard() {}\n");
    const result = await build("decls.policy", "support.policy", "--target", "ts", "-o", "app/support.bundle.json");
    expect(result).toEqual({
      code: 2,
      stdout: "",
      stderr: `policyc build: \`${join("app", "policy.ts")}\` was not generated by policyc (its first line is not \`// Generated by policyc …\`), and --target ts would replace it: move that file, or build into another folder (-o DIR/)\n`,
    });
    expectNoStackTrace(result);
    expect(read("app/policy.ts")).toBe("// hand-written: wraps the engine for our gateway\nexport function guard() {}\n");
    expect(readdirSync(join(dir, "app"))).toEqual(["policy.ts"]);
    // The folder form too; the default target never writes policy.ts, so it builds there.
    expect((await build("decls.policy", "--target", "ts", "-o", "app/")).code).toBe(2);
    expect((await build("decls.policy", "-o", "app/")).code).toBe(0);
    expect(read("app/policy.ts")).toMatch(/^\/\/ hand-written/);
  });

  it("--target ts: a second bundle built into the folder of another is refused while the first is there (golden, exit 2); the same bundle rebuilds", async () => {
    expect((await build("decls.policy", "support.policy", "--target", "ts", "-o", "shared/support.bundle.json")).code).toBe(0);
    const module = read("shared/policy.ts");
    const second = await build("decls.policy", "--target", "ts", "-o", "shared/finance.bundle.json");
    expect(second).toEqual({
      code: 2,
      stdout: "",
      stderr: `policyc build: \`${join("shared", "policy.ts")}\` holds the types of \`${join("shared", "support.bundle.json")}\`, which is beside it: writing those of \`${join("shared", "finance.bundle.json")}\` there would replace them; build each bundle into a folder of its own (-o DIR/)\n`,
    });
    expectNoStackTrace(second);
    expect(read("shared/policy.ts")).toBe(module);
    expect(existsSync(join(dir, "shared", "finance.bundle.json"))).toBe(false);
    // The folder form writes bundle.json: another bundle as well.
    expect((await build("decls.policy", "--target", "ts", "-o", "shared/")).code).toBe(2);
    // Rebuilding the bundle the module belongs to replaces it.
    const bundle = read("shared/support.bundle.json");
    expect((await build("decls.policy", "--target", "ts", "-o", "shared/support.bundle.json")).code).toBe(0);
    expect(read("shared/support.bundle.json")).not.toBe(bundle);
    // Once that bundle is gone, its module is left over, and another bundle may take the name.
    rmSync(join(dir, "shared", "support.bundle.json"));
    expect((await build("decls.policy", "support.policy", "--target", "ts", "-o", "shared/finance.bundle.json")).code).toBe(0);
    expect(read("shared/policy.ts")).toBe(expectedModule("finance.bundle.json"));
  });

  it("a js build beside the policy.ts an earlier --target ts build generated for that bundle writes the bundle and points the module out on stderr (left in place); not one of another bundle's, nor a hand-written one", async () => {
    expect((await build("decls.policy", "--target", "ts", "-o", "was-typed/")).code).toBe(0);
    const module = read("was-typed/policy.ts");
    const hash = expectedBundle().manifest.contentHash;
    const note = `note: \`${join("was-typed", "policy.ts")}\` was generated by an earlier --target ts build of \`${join("was-typed", "bundle.json")}\`, and this build did not update it: its types may no longer match the bundle; rebuild with --target ts, or remove it\n`;
    const plain = await build("decls.policy", "support.policy", "-o", "was-typed/");
    expect(plain).toEqual({ code: 0, stdout: `built ${join("was-typed", "bundle.json")}: 8 rules, 4 tools, ${hash}\n`, stderr: note });
    expect((await build("decls.policy", "support.policy", "-o", "was-typed/bundle.json", "--json")).stderr).toBe(note);
    expect(read("was-typed/policy.ts")).toBe(module);
    // Rebuilt with --target ts, it is the bundle's again; a module of another bundle beside it, or your own, is not this build's to mention.
    expect((await build("decls.policy", "support.policy", "--target", "ts", "-o", "was-typed/")).stderr).toBe("");
    expect((await build("decls.policy", "support.policy", "-o", "was-typed/other.json")).stderr).toBe("");
    write("was-typed/policy.ts", "export const mine = 1;\n");
    expect((await build("decls.policy", "support.policy", "-o", "was-typed/")).stderr).toBe("");
  });

  it("--target ts: a policy.ts that cannot be read to check is refused, and says why (golden, exit 2)", async () => {
    mkdirSync(join(dir, "loop"));
    symlinkSync("policy.ts", join(dir, "loop", "policy.ts"));
    const result = await build("decls.policy", "--target", "ts", "-o", "loop/");
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(new RegExp(`^policyc build: cannot read \`${join("loop", "policy.ts")}\` to check that policyc generated it: .+\n$`));
    expectNoStackTrace(result);
    expect(readdirSync(join(dir, "loop"))).toEqual(["policy.ts"]);
  });

  it("--target ts: an -o ending like a TypeScript file, or naming an existing file, is bad usage (golden, exit 2, nothing created)", async () => {
    const shape = "with --target ts, -o names a folder (it receives bundle.json and policy.ts) or the bundle's .json file (policy.ts is written beside it)";
    const module = await build("decls.policy", "--target", "ts", "-o", "gen/policy.ts");
    expect(module).toEqual({ code: 2, stdout: "", stderr: `policyc build: \`gen/policy.ts\` names a TypeScript file, but ${shape}: -o ${join("gen", "/")} writes ${join("gen", "policy.ts")}\n` });
    expectNoStackTrace(module);
    expect(existsSync(join(dir, "gen"))).toBe(false);
    for (const name of ["types.mts", "types.cts", "types.d.ts"]) expect((await build("decls.policy", "--target", "ts", "-o", name)).code).toBe(2);
    write("plain", "not a folder\n");
    const file = await build("decls.policy", "--target", "ts", "-o", "plain");
    expect(file).toEqual({ code: 2, stdout: "", stderr: `policyc build: \`plain\` is a file, but ${shape}\n` });
    expect(read("plain")).toBe("not a folder\n");
    // An existing folder is a folder whatever its name.
    mkdirSync(join(dir, "typed.ts"));
    expect((await build("decls.policy", "--target", "ts", "-o", "typed.ts")).code).toBe(0);
    expect(readdirSync(join(dir, "typed.ts")).sort()).toEqual(["bundle.json", "policy.ts"]);
  });

  it("missing folders before the bundle file are created for either target", async () => {
    const hash = expectedBundle().manifest.contentHash;
    expect(await build("decls.policy", "support.policy", "-o", "deep/er/b.json")).toEqual({ code: 0, stdout: `built ${join("deep", "er", "b.json")}: 8 rules, 4 tools, ${hash}\n`, stderr: "" });
    expect(read("deep/er/b.json")).toBe(serializeBundle(expectedBundle()));
    expect((await build("decls.policy", "support.policy", "--target", "ts", "-o", "deep/est/b.json")).code).toBe(0);
    expect(readdirSync(join(dir, "deep", "est")).sort()).toEqual(["b.json", "policy.ts"]);
  });

  it("--target ts: a bundle name holding a line break stays inside the header comment", async () => {
    expect((await build("decls.policy", "--target", "ts", "-o", "odd/a\nb.json")).code).toBe(0);
    const [header, next] = read("odd/policy.ts").split("\n");
    expect(header).toBe("// Generated by policyc with a\\u000ab.json. Do not edit: rebuild from the policy sources.");
    expect(next).toMatch(/^\/\*\*/);
    expect((await build("decls.policy", "--target", "ts", "-o", "odd/a\nb.json")).code).toBe(0);
  });

  it("--target ts writes byte-identical files for the same sources, and renames a type TypeScript reserves", async () => {
    write("reserved.policy", "/// What to install.\ntype package { name: string }\nenum class { a }\ntool pkg.install { risk high args { p: package, c?: class } }\npolicy p { allow pkg.install }\n");
    expect((await build("reserved.policy", "--target", "ts", "-o", "ts-one")).code).toBe(0);
    expect((await build("reserved.policy", "--target", "ts", "-o", "ts-two")).code).toBe(0);
    expect(read("ts-two/policy.ts")).toBe(read("ts-one/policy.ts"));
    expect(read("ts-two/bundle.json")).toBe(read("ts-one/bundle.json"));
    expect(read("ts-one/policy.ts")).toContain('/** What to install. */\nexport type package_ = {');
    expect(read("ts-one/policy.ts")).toContain('readonly "p": package_;\n    readonly "c"?: class_ | null | undefined;');
  });

  it("--target ts writes the bundle and policy.ts both or neither: a policy.ts that cannot be written leaves the previous bundle", async () => {
    expect((await build("decls.policy", "--target", "ts", "-o", "pair")).code).toBe(0);
    const [bundle, module] = [read("pair/bundle.json"), read("pair/policy.ts")];
    // policy.ts a link to a file whose temporary file cannot be made (its name would be too
    // long, NAME_MAX): the bundle staged beside it is not renamed into place.
    const far = `${"m".repeat(240)}.ts`;
    write(far, module);
    rmSync(join(dir, "pair", "policy.ts"));
    symlinkSync(join(dir, far), join(dir, "pair", "policy.ts"));
    const blocked = await build("decls.policy", "support.policy", "--target", "ts", "-o", "pair");
    expect(blocked.code).toBe(2);
    expect(blocked.stderr).toBe("policyc build: cannot write `pair`: the name is too long\n");
    expectNoStackTrace(blocked);
    expect([read("pair/bundle.json"), read(far)]).toEqual([bundle, module]);
    // The bundle's temporary file is gone too.
    expect(readdirSync(join(dir, "pair")).sort()).toEqual(["bundle.json", "policy.ts"]);
    expect(readdirSync(dir).filter((name) => name.includes(".policyc-"))).toEqual([]);
    // policy.ts a folder: written in place, before the bundle is renamed, it fails first.
    rmSync(join(dir, "pair", "policy.ts"));
    mkdirSync(join(dir, "pair", "policy.ts"));
    const folder = await build("decls.policy", "support.policy", "--target", "ts", "-o", "pair");
    expect(folder.code).toBe(2);
    expect(read("pair/bundle.json")).toBe(bundle);
    expect(readdirSync(join(dir, "pair")).sort()).toEqual(["bundle.json", "policy.ts"]);
  });

  it("--target ts: an emitter failure is an internal error (main reports it), thrown before anything is written", async () => {
    expect((await build("decls.policy", "--target", "ts", "-o", "emit")).code).toBe(0);
    const [bundle, module] = [read("emit/bundle.json"), read("emit/policy.ts")];
    vi.doMock("../../src/compile/emitTypeScript.js", () => ({
      policyDocs: () => ({}),
      fieldsNamedLikeObjectMembers: () => [],
      emitTypeScript: () => {
        throw new Error("the emitter broke");
      },
    }));
    try {
      await expect(build("decls.policy", "support.policy", "--target", "ts", "-o", "emit")).rejects.toThrow("the emitter broke");
    } finally {
      vi.doUnmock("../../src/compile/emitTypeScript.js");
    }
    expect([read("emit/bundle.json"), read("emit/policy.ts")]).toEqual([bundle, module]);
    expect(readdirSync(join(dir, "emit")).sort()).toEqual(["bundle.json", "policy.ts"]);
  });

  it("--json prints a summary and nothing else", async () => {
    const result = await build("decls.policy", "support.policy", "-o", "j.json", "--json");
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      written: ["j.json"],
      contentHash: expectedBundle().manifest.contentHash,
      policyc: VERSION,
      rules: 8,
      signed: false,
      excluded: [],
      ok: true,
      errors: 0,
      warnings: 0,
      diagnostics: [],
    });
  });

  it("policy errors: exit 1 with diagnostics, and no bundle written (golden)", async () => {
    const result = await build("bad.policy", "-o", "bad.json");
    expect(result.code).toBe(1);
    // On standard error, as every verb but check prints diagnostics: standard output holds the summary of a build.
    expect(result.stdout).toBe("");
    expect(result.stderr).toBe(
      [
        "bad.policy:1:22: error[PC201]: unknown type `strin`",
        "  |",
        "1 | tool a.b { args { x: strin } }",
        "  |                      ^^^^^",
        "  = help: did you mean `string`?",
        "",
        "1 error, 0 warnings",
        "",
      ].join("\n"),
    );
    expect(existsSync(join(dir, "bad.json"))).toBe(false);
    const json = await build("bad.policy", "-o", "bad.json", "--json");
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, errors: 1, diagnostics: [{ code: "PC201", file: "bad.policy", line: 1, column: 22 }] });
  });

  it.each([
    [["decls.policy", "support.policy"], /-o FILE/],
    [["decls.policy", "support.policy", "-o", "k.json", "--sign", "missing.pem"], /cannot read signing key `missing\.pem`/],
    [["decls.policy", "support.policy", "-o", "k.json", "--sign", "garbage.pem"], /^garbage\.pem: error\[PC704\]: cannot sign with `garbage\.pem`: it holds no PEM key \(expected an Ed25519 private key in PEM or as a JSON Web Key\)\n$/],
    [["decls.policy", "support.policy", "-o", "k.json", "--sign", "support.policy"], /^support\.policy: error\[PC704\]: cannot sign with `support\.policy`: it is a policy file, not a key \(expected an Ed25519 private key in PEM or as a JSON Web Key\)\n$/],
    // Said with the prefix of every other --sign failure (review r4 #6).
    [["decls.policy", "support.policy", "-o", "k.json", "--sign", "a-bundle.json"], /^a-bundle\.json: error\[PC704\]: cannot sign with `a-bundle\.json`: it is a policyc bundle, not a key \(expected an Ed25519 private key in PEM or as a JSON Web Key\)\n$/],
    // A public key given by mistake once got OpenSSL's code (error:1E08010C:DECODER routines::unsupported).
    [["decls.policy", "support.policy", "-o", "k.json", "--sign", "public.pem"], /^public\.pem: error\[PC704\]: `public\.pem` is a public key: --sign takes the Ed25519 private key \(the public one is for --public-key\)\n$/],
    [["decls.policy", "support.policy", "-o", "k.json", "--sign", "public.der"], /^public\.der: error\[PC704\]: `public\.der` is a public key: --sign takes the Ed25519 private key/],
    [["decls.policy", "support.policy", "-o", "k.json", "--sign", "rsa-public.pem"], /^rsa-public\.pem: error\[PC704\]: `rsa-public\.pem` is a public key/],
    [["decls.policy", "support.policy", "-o", "k.json", "--sign", "key.der"], /cannot sign with `key\.der`: it is a DER \(binary\) key \(expected an Ed25519 private key in PEM or as a JSON Web Key: `openssl pkey -inform DER -in key\.der -out key\.pem` converts it\)/],
    [["decls.policy", "support.policy", "-o", "k.json", "--sign", "encrypted.pem"], /cannot sign with `encrypted\.pem`: the key is encrypted, and --sign takes no passphrase/],
    [["decls.policy", "support.policy", "-o", "k.json", "--sign", "cut.pem"], /cannot sign with `cut\.pem`: its `PRIVATE KEY` block cannot be read \(damaged or cut short\?\)/],
    [["decls.policy", "support.policy", "-o", "k.json", "--sign", "rsa.pem"], /cannot sign with `rsa\.pem`: the signing key is an RSA key, not Ed25519 \(expected an Ed25519 private key in PEM or as a JSON Web Key\)/],
    // An empty key file once built an unsigned bundle and exited 0.
    [["decls.policy", "support.policy", "-o", "k.json", "--sign", "empty.pem"], /^empty\.pem: error\[PC700\]: cannot sign with `empty\.pem`: the signing key file is empty \(expected an Ed25519 private key in PEM or as a JSON Web Key\)\n$/],
    [["decls.policy", "support.policy", "-o", "k.json", "--target", "wasm"], /unknown target `wasm`/],
    // A missing folder is created; a file where the folder should be is not replaced.
    [["decls.policy", "support.policy", "-o", "support.policy/k.json"], /cannot write `support\.policy\/k\.json`: /],
  ])("bad usage or unreadable input exits 2: %j", async (args, message) => {
    const result = await build(...args);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
    expect(result.stderr).toMatch(/^policyc build: |^\S+: error\[PC70[04]\]: /);
    expectNoStackTrace(result);
    expect(result.stderr).not.toContain("error:"); // no OpenSSL codes
    expect(existsSync(join(dir, "k.json"))).toBe(false);
  });

  it("an unreadable source exits 2", async () => {
    const result = await build("missing.policy", "-o", "m.json");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("cannot read `missing.policy`");
    expectNoStackTrace(result);
  });

  it("the built binary agrees (golden, NO_COLOR, no stack traces)", () => {
    const ok = bin(["build", "decls.policy", "support.policy", "-o", "bin.json"], { cwd: dir });
    expect(ok).toMatchObject({ code: 0, stdout: `built bin.json: 8 rules, 4 tools, ${expectedBundle().manifest.contentHash}\n`, stderr: "" });
    expect(read("bin.json")).toBe(serializeBundle(expectedBundle()));
    const failed = bin(["build", "bad.policy", "-o", "bin-bad.json"], { cwd: dir });
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe("");
    expect(failed.stderr).toContain("bad.policy:1:22: error[PC201]");
    expect(failed.stderr).not.toMatch(/\u001b\[/);
    const usage = bin(["build", "decls.policy", "-o", "x.json", "--sign", "missing.pem"], { cwd: dir });
    expect(usage.code).toBe(2);
    expectNoStackTrace(usage);
  });
});

/** A read-only file system for the test (a tmpfs remounted read-only), where the suite runs as root and may mount; else undefined. */
function readOnlyFileSystem(): string | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const at = mkdtempSync(join(tmpdir(), "policyc-rofs-"));
  const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=1m,ro", "tmpfs", at]).status === 0;
  if (!mounted) rmSync(at, { recursive: true, force: true });
  return mounted ? at : undefined;
}

describe("build -o on a read-only file system", () => {
  const readOnly = readOnlyFileSystem();
  afterAll(() => {
    if (readOnly === undefined) return;
    spawnSync("umount", [readOnly]);
    rmSync(readOnly, { recursive: true, force: true });
  });

  it.skipIf(readOnly === undefined)("says the file system is read-only for a folder to create (exit 2), not that there is no such file", async () => {
    for (const output of [`${readOnly}/new/`, `${readOnly}/new/deeper/bundle.json`, `${readOnly}/bundle.json`]) {
      expect(await build("decls.policy", "support.policy", "-o", output)).toEqual({ code: 2, stdout: "", stderr: `policyc build: cannot write \`${output}\`: the file system is read-only\n` });
    }
  });
});

describe("keys as JSON Web Keys (as cloud key services export them)", () => {
  it("--sign takes a private JWK and --public-key a public one; a public JWK given to --sign is named as such", async () => {
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    write("key.jwk", JSON.stringify(privateKey.export({ format: "jwk" })));
    write("public.jwk", JSON.stringify(publicKey.export({ format: "jwk" }), null, 2));
    const signed = await build("decls.policy", "support.policy", "-o", "jwk-signed.json", "--sign", "key.jwk");
    expect(signed.code, signed.stderr).toBe(0);
    expect(signed.stdout).toMatch(/, signed\n$/);
    const request = JSON.stringify(call("crm.lookup", 0));
    const checked = await cli(["eval", "--bundle", "jwk-signed.json", "--public-key", "public.jwk", "--request", "-"], { cwd: dir, stdin: request });
    expect(checked.code, checked.stderr).toBe(0);
    const other = generateKeyPairSync("ed25519").publicKey.export({ format: "jwk" });
    write("other.jwk", JSON.stringify(other));
    const wrong = await cli(["eval", "--bundle", "jwk-signed.json", "--public-key", "other.jwk", "--request", "-"], { cwd: dir, stdin: request });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("signature does not match");
    const publicToSign = await build("decls.policy", "support.policy", "-o", "never.json", "--sign", "public.jwk");
    expect(publicToSign).toMatchObject({ code: 2, stderr: "public.jwk: error[PC704]: `public.jwk` is a public key: --sign takes the Ed25519 private key (the public one is for --public-key)\n" });
  });
});

describe("PEM keys saved with a UTF-8 byte order mark (Notepad, PowerShell 5.1's `-Encoding UTF8`)", () => {
  it("are read as without one: --sign, --public-key, and loadBundle given the file's bytes", async () => {
    const bom = "\ufeff";
    write("key-bom.pem", bom + read("key.pem"));
    write("public-bom.pem", bom + publicPem);
    const signed = await build("decls.policy", "support.policy", "-o", "bom-signed.json", "--sign", "key-bom.pem");
    expect(signed.code, signed.stderr).toBe(0);
    const request = JSON.stringify(call("crm.lookup", 0));
    const checked = await cli(["eval", "--bundle", "bom-signed.json", "--public-key", "public-bom.pem", "--request", "-"], { cwd: dir, stdin: request });
    expect(checked, checked.stderr).toMatchObject({ code: 0, stderr: "" });
    expect(checked.stdout).toMatch(/^allow crm\.lookup/);
    const bundle: unknown = JSON.parse(read("bom-signed.json"));
    expect(loadBundle(bundle, { publicKey: readFileSync(join(dir, "public-bom.pem")) }).decide(call("crm.lookup", 0)).decision).toBe("allow");
    // A key file with a BOM still has its signature checked.
    write("other-bom.pem", bom + (generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }) as string));
    const wrong = await cli(["eval", "--bundle", "bom-signed.json", "--public-key", "other-bom.pem", "--request", "-"], { cwd: dir, stdin: request });
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain("signature does not match");
    expectNoStackTrace(wrong);
  });
});

describe("build: files a folder search passes over", () => {
  it("names a policy file saved under another name (PC007), and builds what it read", async () => {
    const folder = mkdtempSync(join(tmpdir(), "policyc-build-pc007-"));
    try {
      writeFileSync(join(folder, "a.policy"), "tool t { risk low }\npolicy p { allow t }\n");
      writeFileSync(join(folder, "Deny.POLICY"), "policy q { deny t }\n");
      writeFileSync(join(folder, "b.policy.txt"), "policy r { deny t }\n");
      const result = await cli(["build", ".", "-o", "out.json"], { cwd: folder });
      expect(result.code).toBe(0);
      expect(result.stderr).toContain("b.policy.txt: warning[PC007]: `b.policy.txt` is not read: a policy file must end in `.policy`");
      expect(result.stdout).toMatch(/^built out\.json: 2 rules, 1 tool, sha256:[0-9a-f]+\n$/);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });
});
