import { generateKeyPairSync } from "node:crypto";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { Bundle } from "../src/bundle/Bundle.js";
import { BUNDLE_CODES } from "../src/bundle/errorCodes.js";
import { BundleError, loadBundle, verifyBundle } from "../src/bundle/loadBundle.js";
import { createBundle, serializeBundle } from "../src/bundle/writeBundle.js";
import { compileSources } from "../src/compile/compile.js";
import { INPUT_CODES } from "../src/testing/inputCodes.js";
import { ROOT } from "./helpers.js";
import { SUPPORT_SOURCES } from "./runtime/fixtures.js";

/**
 * The codes of errors outside `policyc check` (recordings, requests, bundles, keys) are stable
 * like check's: each is documented, and the documentation names no other.
 */
const CODES_OUTSIDE_CHECK = [...Object.values(INPUT_CODES), ...Object.values(BUNDLE_CODES)];

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    return statSync(path).isDirectory() ? sourceFiles(path) : path.endsWith(".ts") ? [path] : [];
  });
}

describe("the codes of recording, request, bundle and key errors", () => {
  const catalogue = readFileSync(join(ROOT, "docs", "diagnostics.md"), "utf8");
  const documented = [...catalogue.matchAll(/^## (PC[67]\d\d) — /gm)].map((m) => m[1]!);

  it("each has a section in docs/diagnostics.md, and every PC6xx/PC7xx section is one of them", () => {
    expect([...documented].sort()).toEqual([...CODES_OUTSIDE_CHECK].sort());
  });

  it("the ranges table lists them", () => {
    expect(catalogue).toMatch(/^\| PC600–PC604 \|/m);
    expect(catalogue).toMatch(/^\| PC700–PC709 \|/m);
  });

  it("are written in one place each (inputCodes.ts, errorCodes.ts), not as literals elsewhere in the source", () => {
    const literal = /["'`]PC[67]\d\d["'`]/;
    const elsewhere = sourceFiles(join(ROOT, "src")).filter((path) => !/(inputCodes|errorCodes)\.ts$/.test(path) && literal.test(readFileSync(path, "utf8")));
    expect(elsewhere).toEqual([]);
  });
});

describe("BundleError's code (library)", () => {
  const built = (options: Parameters<typeof createBundle>[2] = {}): Bundle => JSON.parse(serializeBundle(createBundle(compileSources(SUPPORT_SOURCES).policy!, SUPPORT_SOURCES, options))) as Bundle;
  const thrown = (run: () => unknown): BundleError => {
    try {
      run();
    } catch (error) {
      expect(error).toBeInstanceOf(BundleError);
      return error as BundleError;
    }
    throw new Error("expected a BundleError");
  };

  it("an edited bundle is PC702", () => {
    const bundle = built();
    const edited = { ...bundle, rules: bundle.rules.slice(1) };
    expect(thrown(() => loadBundle(edited)).code).toBe("PC702");
  });

  it("an unsigned bundle with a public key is PC703, one signed by another key too", () => {
    const { publicKey } = generateKeyPairSync("ed25519");
    expect(thrown(() => loadBundle(built(), { publicKey })).code).toBe("PC703");
    const other = generateKeyPairSync("ed25519");
    expect(thrown(() => verifyBundle(built({ privateKey: other.privateKey }), { publicKey })).code).toBe("PC703");
  });

  it("a value that is no bundle is PC701, an unusable key PC704, a malformed pin PC706", () => {
    expect(thrown(() => loadBundle({ format: "nope" })).code).toBe("PC701");
    expect(thrown(() => loadBundle(built(), { publicKey: "" })).code).toBe("PC704");
    expect(thrown(() => loadBundle(built(), { contentHash: "sha256:xyz" })).code).toBe("PC706");
  });

  it("BUNDLE_CODES is exported from policyc and policyc/runtime, so a caller can branch on a code by name (review F5)", async () => {
    const main = await import("../src/index.js");
    const runtime = await import("../src/runtime/index.js");
    expect(main.BUNDLE_CODES).toEqual(BUNDLE_CODES);
    expect(runtime.BUNDLE_CODES).toEqual(BUNDLE_CODES);
    const bundle = built();
    expect(thrown(() => runtime.loadBundle({ ...bundle, rules: bundle.rules.slice(1) })).code).toBe(runtime.BUNDLE_CODES.contentChanged);
  });
});
