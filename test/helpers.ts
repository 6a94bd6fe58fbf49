import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
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
