import { readdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { cli, ROOT, SCENARIOS } from "./helpers.js";

// The bundled scenarios are the README's main job: each must check clean, be formatted, replay
// its recordings with every rule covered, and explain its example requests.
it("finds the three scenarios (and not the gateway example) in samples/", () => {
  expect(SCENARIOS).toEqual(["coding-agent", "customer-support", "finance-agent"]);
});

describe.each(SCENARIOS)("samples/%s", (name) => {
  const folder = join("samples", name);

  it("checks clean and is formatted", async () => {
    const check = await cli(["check", folder]);
    expect(check.code, check.stdout).toBe(0);
    expect(check.stdout).not.toMatch(/warning/);
    const fmt = await cli(["fmt", "--check", folder]);
    expect(fmt.code, fmt.stdout + fmt.stderr).toBe(0);
  });

  it("passes its recordings with 100% rule coverage", async () => {
    const result = await cli(["test", folder, "--replay", join(folder, "recordings"), "--coverage", "--min-coverage", "100"]);
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toMatch(/100% of \d+ rules covered/);
    expect(result.stdout.trimEnd().split("\n").pop()).toMatch(/^\d+ passed, 0 failed$/);
  });

  it("explains every example request", async () => {
    for (const request of readdirSync(join(ROOT, folder, "requests")).filter((f) => f.endsWith(".jsonl"))) {
      const result = await cli(["eval", folder, "--request", join(folder, "requests", request)]);
      expect(result.code, request).toBe(0);
      // After the history of the request's session, when it has earlier lines.
      expect(result.stdout, request).toMatch(/^(history[^\n]*\n(?: {2}[^\n]*\n)*)?(allow|ask|deny) /);
    }
  });
});
