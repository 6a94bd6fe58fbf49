import { spawnSync } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";

/** policyc as npm publishes it: the files `npm pack` takes. */

/** Paths (relative to the package root) of the files `npm pack` would publish; no build, nothing written. */
function packedFiles(): string[] {
  const result = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`npm pack failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path);
}

describe("the published package", () => {
  it("carries LICENSE, the full text of the Apache License 2.0 that package.json declares", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { license: string };
    expect(pkg.license).toBe("Apache-2.0");
    expect(packedFiles()).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json"]));
    const text = readFileSync(join(ROOT, "LICENSE"), "utf8");
    expect(text).toMatch(/^\s*Apache License\n\s*Version 2\.0, January 2004\n/);
    for (const heading of ["1. Definitions.", "9. Accepting Warranty or Additional Liability.", "END OF TERMS AND CONDITIONS"]) expect(text).toContain(heading);
  });
});
