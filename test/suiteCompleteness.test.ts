import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONFORMANCE, HAS_CONFORMANCE, ROOT } from "./helpers.js";

/**
 * Some suites skip when what they need is absent (dist/ for the package and isolation tests,
 * ../shared/conformance for the conformance cases). Where it must be present, its absence fails
 * here instead of turning those suites into silent skips.
 */
describe("the suite runs every test it has", () => {
  it("has dist/ when run by `npm test` (pretest builds it), so the package and runtime-isolation tests run", () => {
    if (process.env["npm_lifecycle_event"] === "test") expect(existsSync(join(ROOT, "dist", "index.js")), "dist/index.js is missing: `npm test` builds it first").toBe(true);
  });

  it("has the shared conformance cases in CI", () => {
    if (process.env["CI"]) expect(HAS_CONFORMANCE, `${CONFORMANCE} is missing: CI always provides it`).toBe(true);
  });
});
