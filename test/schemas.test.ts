import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { ROOT } from "./helpers.js";
// @ts-expect-error plain JavaScript script without type declarations
import { generatedSchemas } from "../scripts/generate-schemas.js";
// @ts-expect-error plain JavaScript script without type declarations
import { generatedValidators } from "../scripts/generate-validators.js";

describe("shipped JSON Schemas", () => {
  for (const [path, text] of Object.entries(generatedSchemas() as Record<string, string>)) {
    it(`${path} is up to date (run npm run generate)`, () => {
      expect(readFileSync(join(ROOT, path), "utf8"), `${path} is stale: run npm run generate`).toBe(text);
    });
  }
});

describe("precompiled validators", () => {
  for (const [path, text] of Object.entries(generatedValidators() as Record<string, string>)) {
    it(`${path} is up to date with its schema (run npm run generate)`, () => {
      expect(readFileSync(join(ROOT, path), "utf8"), `${path} is stale: run npm run generate`).toBe(text);
    });
  }
});
