// Writes grammar/railroad.html: railroad diagrams of the parser in src/syntax/grammar.ts.
// Run with `npm run generate` (it builds first: run as a script, this reads the compiled parser in
// dist/). The output is deterministic (no timestamps), so test/grammar.test.ts can check that the
// committed file is up to date by comparing it with generateRailroad() of the parser in src/.
import { createHash } from "node:crypto";
import { readFileSync, realpathSync, writeFileSync } from "node:fs";
import { resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { createSyntaxDiagramsCode } from "chevrotain";

/** Where the diagrams are written, relative to this script. */
export const RAILROAD_PATH = fileURLToPath(new URL("../grammar/railroad.html", import.meta.url));

/** The installed copy of the renderer's files that the page loads from unpkg (the same version, so the same bytes). */
const LOCAL_DIAGRAMS = new URL("../node_modules/chevrotain/diagrams/", import.meta.url);

/**
 * The HTML of the railroad diagrams of `parser` (a PolicyGrammar). The page loads chevrotain's
 * renderer from unpkg, pinned to the installed version; each script and the stylesheet carry a
 * Subresource Integrity hash of the installed file, so a browser runs only those exact bytes.
 */
export function generateRailroad(parser) {
  const html = createSyntaxDiagramsCode(parser.getSerializedGastProductions());
  return html.replace(/(<(?:script src|link rel='stylesheet' href)=')(https:\/\/unpkg\.com\/chevrotain@[^/]+\/diagrams\/)([^']+)'/g, (_whole, head, _base, file) => {
    const hash = createHash("sha384").update(readFileSync(new URL(file, LOCAL_DIAGRAMS))).digest("base64");
    return `${head}${_base}${file}' integrity='sha384-${hash}' crossorigin='anonymous'`;
  });
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
  const { grammarInstance } = await import("../dist/syntax/grammar.js");
  writeFileSync(RAILROAD_PATH, generateRailroad(grammarInstance()));
  console.log(`wrote ${RAILROAD_PATH}`);
}
