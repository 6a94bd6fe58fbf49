import { afterAll, beforeAll } from "vitest";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runWith } from "../src/cli/main.js";
import { compileSources } from "../src/compile/compile.js";
import type { CompiledPolicy } from "../src/runtime/policy.js";
import { createBundle } from "../src/bundle/writeBundle.js";
import { verifyBundle } from "../src/bundle/loadBundle.js";
import { sign, type KeyObject } from "node:crypto";
import type { Bundle } from "../src/bundle/Bundle.js";
import { plainPalette } from "../src/diagnostics/render.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The shared conformance cases; tests that need them skip when the folder is absent. */
export const CONFORMANCE = resolve(ROOT, "..", "shared", "conformance");
export const HAS_CONFORMANCE = existsSync(CONFORMANCE);
export const BIN = join(ROOT, "bin", "policyc.js");

/**
 * Milliseconds of CPU this test process has used so far. The tests that guard against a
 * quadratic blow-up (seconds, where a linear pass takes milliseconds) time the work by it,
 * not by the wall clock: on a machine busy with other work the wall clock runs several
 * times slower than the work, and such a test would fail for a reason that is not ours.
 */
export function cpuMilliseconds(): number {
  const used = process.cpuUsage();
  return (used.user + used.system) / 1000;
}
/**
 * The policy scenarios in samples/: the folders that hold `.policy` files, as `npm run samples`
 * finds them (samples/gateway is an embedding example over one of them, not a scenario).
 */
export const SCENARIOS = readdirSync(join(ROOT, "samples"), { withFileTypes: true })
  .filter((entry) => entry.isDirectory() && readdirSync(join(ROOT, "samples", entry.name)).some((file) => file.endsWith(".policy")))
  .map((entry) => entry.name)
  .sort();

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command line in-process (fast), with plain output and the given working folder. */
export async function cli(args: string[], options: { cwd?: string; stdin?: string | Buffer; env?: Record<string, string> } = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runWith(
    { out: (s) => (stdout += s), err: (s) => (stderr += s), palette: plainPalette, errPalette: plainPalette, cwd: options.cwd ?? ROOT, readStdin: () => Buffer.from(options.stdin ?? ""), env: options.env ?? {} },
    args,
  );
  return { code, stdout, stderr };
}

/**
 * The variables under which policyc writes otherwise (GitHub's `file=` paths, the `--update`
 * warning): left out of `bin`'s environment unless a test sets them, so the suite reports the
 * same when it runs in CI.
 */
const CI_VARIABLES = ["CI", "GITHUB_ACTIONS", "GITHUB_WORKSPACE"];

/** The environment `bin` runs in: this one without CI variables, with NO_COLOR set, and `env` over it. */
export function binEnvironment(env: Record<string, string> = {}): NodeJS.ProcessEnv {
  return { ...Object.fromEntries(Object.entries(process.env).filter(([name]) => !CI_VARIABLES.includes(name))), NO_COLOR: "1", FORCE_COLOR: "", ...env };
}

/** Runs the real binary (built `dist/`), as a user or CI would, with NO_COLOR set (and no CI variables unless given). */
export function bin(args: string[], options: { cwd?: string; stdin?: string | Buffer; env?: Record<string, string> } = {}): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    input: options.stdin ?? "",
    encoding: "utf8",
    env: binEnvironment(options.env),
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/** The user the permission tests run policyc as when the suite runs as root: `nobody`. */
const UNPRIVILEGED = ["--reuid=65534", "--regid=65534", "--clear-groups"];
const IS_ROOT = process.getuid?.() === 0;

/**
 * Whether `binUnprivileged` can run: always for a user other than root; for root (whom the
 * system lets write a read-only file, or anyone's) only through `setpriv`.
 */
export const CAN_RUN_UNPRIVILEGED = !IS_ROOT || spawnSync("setpriv", ["--version"]).status === 0;

/**
 * Runs the real binary as `bin` does, but as a user the permission bits apply to: the current
 * one, or `nobody` (through setpriv) when the suite runs as root. The working folder and the
 * files it writes must then be open to that user (the caller sets their modes).
 */
export function binUnprivileged(args: string[], options: { cwd: string }): CliResult {
  if (!IS_ROOT) return bin(args, options);
  const result = spawnSync("setpriv", [...UNPRIVILEGED, process.execPath, BIN, ...args], { cwd: options.cwd, encoding: "utf8", env: binEnvironment() });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs a script in a fresh Node process (an ES module unless `type` says "commonjs"; working
 * folder: the project unless `cwd` says otherwise) and returns the URL of every module it
 * loaded, in order. The modules are seen through the inspector (each script V8 parses), not a
 * loader hook: hooks registered with module.register do not see modules loaded by `require()`,
 * and policyc loads chevrotain that way (src/syntax/chevrotain.ts).
 */
export function modulesLoadedBy(script: string, options: { type?: "module" | "commonjs"; cwd?: string } = {}): { status: number | null; stderr: string; loaded: string[] } {
  const folder = mkdtempSync(join(tmpdir(), "policyc-loaded-"));
  const log = join(folder, "loaded.json");
  // process.getBuiltinModule works in both kinds of script; the list is written at exit, so a
  // script that ends with process.exit is still seen whole.
  const watch = [
    "{",
    '  const session = new (process.getBuiltinModule("node:inspector").Session)();',
    "  const urls = [];",
    "  session.connect();",
    '  session.on("Debugger.scriptParsed", (event) => { if (event.params.url) urls.push(event.params.url); });',
    '  session.post("Debugger.enable");',
    `  process.on("exit", () => process.getBuiltinModule("node:fs").writeFileSync(${JSON.stringify(log)}, JSON.stringify(urls)));`,
    "}",
  ].join("\n");
  try {
    const result = spawnSync(process.execPath, [`--input-type=${options.type ?? "module"}`, "-e", `${watch}\n${script}`], { cwd: options.cwd ?? ROOT, encoding: "utf8" });
    const loaded = existsSync(log) ? [...new Set(JSON.parse(readFileSync(log, "utf8")) as string[])] : [];
    return { status: result.status, stderr: result.stderr, loaded };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}

/** A test's policy set compiled from one text; a fixture with an error fails the test, never passes as a test of something else. */
export function compileFixture(text: string): CompiledPolicy {
  const { policy, diagnostics } = compileSources([{ path: "p.policy", text }]);
  const errors = diagnostics.filter((d) => d.severity === "error");
  if (errors.length > 0 || policy === undefined) throw new Error(`the fixture policy does not compile: ${errors.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return policy;
}

/**
 * A compiled policy changed by hand (an older compiler's code, a hand-edited rule), as `new Engine`
 * takes it: built into a bundle and checked by `verifyBundle`, as a policy author's own pipeline
 * would, since the engine runs the code of no compiled policy the compiler did not make (and
 * `createBundle` vouches for no other).
 */
export function handEdited(policy: CompiledPolicy): Bundle {
  return verifyBundle(createBundle(policy, []));
}

/** `bundle` signed (again) with `key`, as its builder would sign it after an edit (over its manifest's content hash). */
export function resigned(bundle: Bundle, key: KeyObject): Bundle {
  return { ...bundle, signature: { algorithm: "ed25519", value: sign(null, Buffer.from(bundle.manifest.contentHash, "utf8"), key).toString("base64") } };
}

/** Writes `content` to `name` inside the folder `dir` (making the folders on the way) and returns its absolute path. */
export function writeInto(dir: string, name: string, content: string | Buffer): string {
  const path = join(dir, name);
  mkdirSync(join(path, ".."), { recursive: true });
  writeFileSync(path, content);
  return path;
}

/**
 * A folder per test case under one temporary folder, made before the file's tests and removed
 * after them: `folder({ "a.policy": "…" })` writes the files (making their folders) and returns
 * the case's folder, so the paths a report names are relative to it.
 */
export function caseFolders(prefix: string): (files: Record<string, string>) => string {
  let root = "";
  let cases = 0;
  beforeAll(() => {
    root = mkdtempSync(join(tmpdir(), prefix));
  });
  afterAll(() => {
    rmSync(root, { recursive: true, force: true });
  });
  return (files) => {
    const dir = join(root, `case${cases++}`);
    mkdirSync(dir);
    for (const [name, text] of Object.entries(files)) writeInto(dir, name, text);
    return dir;
  };
}
