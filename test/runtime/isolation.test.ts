import { spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { describe, expect, it } from "vitest";
import { modulesLoadedBy, ROOT } from "../helpers.js";

/**
 * The runtime is what enforcement points ship (architecture.md): `policyc/runtime` must load
 * without the parser, the checker, the compiler or their dependencies.
 */
const DIST = join(ROOT, "dist");
const ENTRY = join(DIST, "runtime", "index.js");
const BUILT = existsSync(ENTRY);

/** Module specifiers of static imports, re-exports, dynamic imports and `require` calls in a built .js file. */
function specifiers(code: string): string[] {
  const out: string[] = [];
  const patterns = [/^\s*(?:import|export)\s[^;]*?\sfrom\s*["']([^"']+)["']/gms, /^\s*import\s*["']([^"']+)["']/gm, /\bimport\(\s*["']([^"']+)["']\s*\)/g, /\brequire\(\s*["']([^"']+)["']\s*\)/g];
  for (const pattern of patterns) for (const match of code.matchAll(pattern)) out.push(match[1]!);
  return out;
}

/** Every file and package reachable from `entry`. */
function importGraph(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const queue = [entry];
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (files.has(file)) continue;
    files.add(file);
    for (const specifier of specifiers(readFileSync(file, "utf8"))) {
      if (specifier.startsWith(".")) {
        const target = resolve(dirname(file), specifier);
        expect(existsSync(target), `${relative(ROOT, file)} imports missing ${specifier}`).toBe(true);
        queue.push(target);
      } else packages.add(specifier.startsWith("@") ? specifier.split("/").slice(0, 2).join("/") : specifier.split("/")[0]!);
    }
  }
  return { files, packages };
}

describe.skipIf(!BUILT)("policyc/runtime stands alone", () => {
  it("reaches nothing under dist/syntax, dist/check, dist/compile or dist/ast, and neither chevrotain nor ts-morph", () => {
    const { files, packages } = importGraph(ENTRY);
    const reached = [...files].map((f) => relative(DIST, f).split("\\").join("/"));
    expect(reached).toContain("runtime/engine.js");
    expect(reached).toContain("bundle/loadBundle.js");
    for (const folder of ["syntax/", "check/", "compile/", "ast/", "cli/", "testing/"]) expect(reached.filter((f) => f.startsWith(folder)), folder).toEqual([]);
    for (const name of ["chevrotain", "ts-morph", "commander", "chalk"]) expect(packages.has(name), name).toBe(false);
    // What it may use: node built-ins only. The precompiled bundle validator inlines ajv's
    // helpers: a gateway bundled into one file has no node_modules to find them in.
    expect([...packages].filter((p) => !p.startsWith("node:")).sort()).toEqual([]);
  });

  it("the scanner sees imports (control: the main entry does reach the compiler)", () => {
    const { files, packages } = importGraph(join(DIST, "index.js"));
    expect([...files].some((f) => f.includes(`${join("dist", "compile")}`))).toBe(true);
    expect(packages.has("chevrotain")).toBe(true);
  });

  it('package.json exports "./runtime", and import("policyc/runtime") resolves to it', () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { name: string; exports: Record<string, { default: string; types: string }> };
    expect(pkg.exports["./runtime"]).toMatchObject({ default: "./dist/runtime/index.js", types: "./dist/runtime/index.d.ts" });
    const script = [
      'const runtime = await import("policyc/runtime");',
      'const resolved = import.meta.resolve("policyc/runtime");',
      "console.log(JSON.stringify({ resolved, exports: Object.keys(runtime).sort() }));",
    ].join("\n");
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: ROOT, encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
    const { resolved, exports } = JSON.parse(result.stdout) as { resolved: string; exports: string[] };
    expect(resolved.endsWith("/dist/runtime/index.js")).toBe(true);
    expect(exports).toEqual(expect.arrayContaining(["Engine", "loadBundle", "verifyBundle", "BundleError", "explain"]));
    expect(exports).not.toContain("compile");
    // The constructor's replay value is src/testing's alone (an enforcement point must not have it).
    expect(exports).not.toContain("REPLAY_OF_RECORDED_TIMES");
  });

  it("loading the runtime alone does not load the compiler's packages", () => {
    const { status, stderr, loaded } = modulesLoadedBy('await import("policyc/runtime");');
    expect(status, stderr).toBe(0);
    expect(loaded.some((url) => url.endsWith("/dist/runtime/engine.js"))).toBe(true);
    expect(loaded.filter((url) => /\/(chevrotain|ts-morph)\/|\/dist\/(syntax|check|compile|ast)\//.test(url))).toEqual([]);
  });
});
