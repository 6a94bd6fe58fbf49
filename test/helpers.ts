import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { runWith } from "../src/cli/main.js";
import { plainPalette } from "../src/diagnostics/render.js";

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), "..");
/** The shared conformance cases; tests that need them skip when the folder is absent. */
export const CONFORMANCE = resolve(ROOT, "..", "shared", "conformance");
export const HAS_CONFORMANCE = existsSync(CONFORMANCE);
export const BIN = join(ROOT, "bin", "policyc.js");

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a command line in-process (fast), with plain output and the given working folder. */
export async function cli(args: string[], options: { cwd?: string; stdin?: string } = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const code = await runWith(
    { out: (s) => (stdout += s), err: (s) => (stderr += s), palette: plainPalette, cwd: options.cwd ?? ROOT, readStdin: () => options.stdin ?? "" },
    args,
  );
  return { code, stdout, stderr };
}

/** Runs the real binary (built `dist/`), as a user or CI would, with NO_COLOR set. */
export function bin(args: string[], options: { cwd?: string; stdin?: string; env?: Record<string, string> } = {}): CliResult {
  const result = spawnSync(process.execPath, [BIN, ...args], {
    cwd: options.cwd ?? ROOT,
    input: options.stdin ?? "",
    encoding: "utf8",
    env: { ...process.env, NO_COLOR: "1", FORCE_COLOR: "", ...options.env },
    maxBuffer: 256 * 1024 * 1024,
  });
  return { code: result.status ?? -1, stdout: result.stdout, stderr: result.stderr };
}

/**
 * Runs an ES module script in a fresh Node process (working folder: the project) and returns
 * every module URL it loaded, through a loader hook (module.register runs it in its own thread).
 */
export function modulesLoadedBy(script: string): { status: number | null; stderr: string; loaded: string[] } {
  const folder = mkdtempSync(join(tmpdir(), "policyc-loaded-"));
  const log = join(folder, "loaded.txt");
  const hooks = [
    'import { appendFileSync } from "node:fs";',
    "let file;",
    "export function initialize(data) { file = data.file; }",
    'export async function load(url, context, next) { appendFileSync(file, url + "\\n"); return next(url, context); }',
  ].join("\n");
  const register = [
    'import { register } from "node:module";',
    `register(${JSON.stringify(`data:text/javascript,${encodeURIComponent(hooks)}`)}, { data: { file: ${JSON.stringify(log)} } });`,
  ].join("\n");
  try {
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", `${register}\n${script}`], { cwd: ROOT, encoding: "utf8" });
    const loaded = existsSync(log) ? readFileSync(log, "utf8").split("\n").filter(Boolean) : [];
    return { status: result.status, stderr: result.stderr, loaded };
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
