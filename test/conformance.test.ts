import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { bin, cli, CONFORMANCE, HAS_CONFORMANCE } from "./helpers.js";

/**
 * The shared conformance cases (see errors/README.md there): the support policy checks
 * with no error (its weak address test gets PC512, a warning), `decls.policy` alone checks clean, and each other case, checked with `decls.policy`,
 * fails with a diagnostic naming the case file at its `// expect-error-line: N`.
 */
const ERRORS = join(CONFORMANCE, "errors");

function errorCases(): { name: string; path: string; line: number }[] {
  if (!HAS_CONFORMANCE) return [];
  return readdirSync(ERRORS)
    .filter((name) => name.endsWith(".policy") && name !== "decls.policy")
    .sort()
    .map((name) => {
      const path = join(ERRORS, name);
      const first = readFileSync(path, "utf8").split("\n")[0] ?? "";
      const match = /^\/\/\s*expect-error-line:\s*(\d+)/.exec(first);
      if (!match) throw new Error(`${name}: the first line must be \`// expect-error-line: N\``);
      return { name, path, line: Number(match[1]) };
    });
}

interface JsonReport {
  ok: boolean;
  errors: number;
  warnings: number;
  diagnostics: { code: string; severity: string; file: string; line: number }[];
}

describe.skipIf(!HAS_CONFORMANCE)("conformance", () => {
  const cases = errorCases();

  it("finds error cases to run", () => {
    expect(cases.length).toBeGreaterThan(0);
  });

  it("support/support.policy checks with no error, and only the warning its `like \"*@acme.com\"` is meant to get (PC512)", async () => {
    const result = await cli(["check", join(CONFORMANCE, "support", "support.policy"), "--json"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    const report = JSON.parse(result.stdout) as JsonReport;
    expect(report.diagnostics.map((d) => [d.code, d.severity])).toEqual([["PC512", "warning"]]);
    expect(report.ok).toBe(true);
  });

  it("errors/decls.policy alone checks clean", async () => {
    const result = await cli(["check", join(ERRORS, "decls.policy"), "--json"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect((JSON.parse(result.stdout) as JsonReport).diagnostics).toEqual([]);
  });

  it.each(errorCases())("errors/$name fails at line $line", async ({ name, path, line }) => {
    const result = await cli(["check", join(ERRORS, "decls.policy"), path]);
    expect(result.code, result.stdout + result.stderr).toBe(1);
    expect(result.stdout).toContain(`${name}:${line}:`);
    // The same through --json: an error in the case file at the expected line.
    const json = await cli(["check", join(ERRORS, "decls.policy"), path, "--json"]);
    expect(json.code).toBe(1);
    const report = JSON.parse(json.stdout) as JsonReport;
    const hits = report.diagnostics.filter((d) => d.severity === "error" && d.file.endsWith(name) && d.line === line);
    expect(hits.length, JSON.stringify(report.diagnostics, null, 2)).toBeGreaterThan(0);
  });

  it("the built binary agrees (clean support policy, one failing case)", () => {
    const clean = bin(["check", join(CONFORMANCE, "support", "support.policy")]);
    expect(clean.code, clean.stdout + clean.stderr).toBe(0);
    expect(clean.stdout).toMatch(/^ok: 1 file/m);

    const [first] = cases;
    const failing = bin(["check", join(ERRORS, "decls.policy"), first!.path]);
    expect(failing.code, failing.stdout + failing.stderr).toBe(1);
    expect(failing.stdout).toContain(`${first!.name}:${first!.line}:`);
    expect(failing.stdout).not.toMatch(/\u001b\[/); // NO_COLOR: no escape codes
    expect(failing.stderr).not.toMatch(/^\s+at /m);
  });
});
