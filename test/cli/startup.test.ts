import { existsSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BIN, modulesLoadedBy, ROOT } from "../helpers.js";

/**
 * Start-up cost is paid on every `policyc` run (editors on save, pre-commit hooks, CI steps).
 * chevrotain's package entry loads lodash-es as ~650 modules (~300 ms); policyc loads its
 * single-file build instead (src/syntax/chevrotain.ts).
 */
describe.skipIf(!existsSync(join(ROOT, "dist", "cli", "main.js")))("CLI start-up", () => {
  it("checks a policy set loading chevrotain as one file, without lodash-es's modules", () => {
    const script = [
      `process.argv = [process.argv[0], ${JSON.stringify(BIN)}, "check", "samples/customer-support"];`,
      `await import(${JSON.stringify(`file://${BIN}`)});`,
    ].join("\n");
    const { status, stderr, loaded } = modulesLoadedBy(script);
    expect(status, stderr).toBe(0);
    const chevrotain = loaded.filter((url) => url.includes("/chevrotain/"));
    expect(chevrotain.map((url) => url.slice(url.indexOf("/chevrotain/")))).toEqual(["/chevrotain/lib/chevrotain.mjs"]);
    expect(loaded.filter((url) => url.includes("/lodash-es/"))).toEqual([]);
  });
});
