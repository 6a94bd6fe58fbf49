import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { VERSION } from "../../src/version.js";

/**
 * `actual` with the policy set's identity masked: its content hash (`sha256:…`) and the policyc
 * version, which reports name the policy set by and which change with every release (the
 * version is in the manifest the hash covers). Tests of the identity compare it with `build`'s.
 */
export function withIdentityMasked(actual: string): string {
  return actual.replace(/sha256:[0-9a-f]{64}/g, "sha256:<content hash>").split(VERSION).join("<version>");
}

/** The folder that holds the golden files (`test/goldens/<name>.txt`). */
export const GOLDENS = dirname(fileURLToPath(import.meta.url));

/**
 * Compares `shown` with the golden file `test/goldens/<name>.txt`. With `UPDATE_GOLDENS=1` the
 * file is (re)written instead, so a deliberate output change is one command plus a reviewed diff.
 * A missing golden fails (rather than being created silently) so CI never passes on nothing.
 * The policy set's hash and the version are masked (withIdentityMasked).
 */
export function expectGolden(name: string, shown: string): void {
  const actual = withIdentityMasked(shown);
  const path = join(GOLDENS, `${name}.txt`);
  if (process.env["UPDATE_GOLDENS"] === "1") {
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, actual);
    return;
  }
  if (!existsSync(path)) throw new Error(`no golden file ${path}: run the tests with UPDATE_GOLDENS=1 to create it`);
  expect(actual).toBe(readFileSync(path, "utf8"));
}

/** A CLI run as a golden records both the exit code and stdout. */
export function runText(result: { code: number; stdout: string }): string {
  return `exit code: ${result.code}\n--- stdout ---\n${result.stdout}`;
}
