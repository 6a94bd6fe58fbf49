#!/usr/bin/env node
// Writes the JSON Schemas the package ships (schemas/*.json) from their TypeScript sources,
// so tools that validate bundles or recordings outside policyc read the same rules.
// Run after `npm run build`; a test fails when the committed files are stale.
import { mkdirSync, realpathSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { bundleJsonSchema } from "../dist/bundle/bundleSchema.js";
import { recordingLineSchema } from "../dist/testing/recordingSchema.js";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");

/** The files and their contents, as the test compares them. */
export function generatedSchemas() {
  return {
    "schemas/bundle.schema.json": JSON.stringify(bundleJsonSchema, null, 2) + "\n",
    "schemas/recording.schema.json": JSON.stringify(recordingLineSchema, null, 2) + "\n",
  };
}

if (process.argv[1] && realpathSync(process.argv[1]) === realpathSync(fileURLToPath(import.meta.url))) {
  mkdirSync(join(root, "schemas"), { recursive: true });
  for (const [path, text] of Object.entries(generatedSchemas())) writeFileSync(join(root, path), text);
  console.log("wrote schemas/bundle.schema.json, schemas/recording.schema.json");
}
