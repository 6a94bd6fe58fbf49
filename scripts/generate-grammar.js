// Writes grammar/railroad.html: railroad diagrams of the parser in src/syntax/grammar.ts.
// Run with `npm run generate` (it builds first: this script reads the compiled parser in dist/).
// The output is deterministic (no timestamps), so test/grammar.test.ts can check that the
// committed file is up to date by comparing it with generateRailroad().
import { realpathSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createSyntaxDiagramsCode } from "chevrotain";
import { grammarInstance } from "../dist/syntax/grammar.js";

/** Where the diagrams are written, relative to this script. */
export const RAILROAD_PATH = fileURLToPath(new URL("../grammar/railroad.html", import.meta.url));

/** The HTML of the railroad diagrams of the current parser. */
export function generateRailroad() {
  const parser = grammarInstance();
  // The diagrams load chevrotain's renderer scripts from its default CDN location.
  return createSyntaxDiagramsCode(parser.getSerializedGastProductions());
}

function isMain() {
  if (!process.argv[1]) return false;
  try {
    return realpathSync(fileURLToPath(import.meta.url)) === realpathSync(resolve(process.argv[1]));
  } catch {
    return false;
  }
}

if (isMain()) {
  writeFileSync(RAILROAD_PATH, generateRailroad());
  console.log(`wrote ${RAILROAD_PATH}`);
}
