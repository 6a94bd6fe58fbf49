import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { expect } from "vitest";
import { VERSION } from "../../src/version.js";

/**
 * `actual` with the policy set's identity masked where reports name it, and nowhere else: the
 * content hash of `"contentHash"` (JSON), the `policy.contentHash` property (JUnit) and the
 * `# policy:` line (TAP), and the policyc version of `"policyc"`, `policy.policyc` and that line,
 * which change with every release (the version is in the manifest the hash covers). Each distinct
 * hash gets its number (`sha256:<hash#1>`, `<hash#2>`), so a golden still shows which are equal;
 * a version other than this policyc's is left as it is. Tests of the identity compare it with `build`'s.
 */
export function withIdentityMasked(actual: string): string {
  const numbers = new Map<string, number>();
  const hashes = actual.replace(/("contentHash": "|<property name="policy\.contentHash" value="|^# policy: )sha256:([0-9a-f]{64})/gm, (_, before: string, hash: string) => {
    if (!numbers.has(hash)) numbers.set(hash, numbers.size + 1);
    return `${before}sha256:<hash#${numbers.get(hash)!}>`;
  });
  const versions: readonly [string, string][] = [
    [`"policyc": ${JSON.stringify(VERSION)}`, `"policyc": "<version>"`],
    [`<property name="policy.policyc" value="${VERSION}"/>`, `<property name="policy.policyc" value="<version>"/>`],
  ];
  const masked = versions.reduce((text, [shown, mask]) => text.split(shown).join(mask), hashes);
  return masked.replace(/^(# policy: sha256:<hash#\d+> from .*, policyc )(.*)$/gm, (line: string, before: string, version: string) => (version === VERSION ? `${before}<version>` : line));
}

/** The folder that holds the golden files (`test/goldens/<name>.txt`). */
export const GOLDENS = dirname(fileURLToPath(import.meta.url));

/**
 * Compares `shown` with the golden file `test/goldens/<name>.txt`. With `UPDATE_GOLDENS=1` the
 * file is (re)written instead, so a deliberate output change is one command plus a reviewed diff.
 * A missing golden fails (rather than being created silently) so CI never passes on nothing.
 * The policy set's identity is masked where reports name it (withIdentityMasked).
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
