/**
 * chevrotain's values, loaded from the single-file ES module build its package ships.
 *
 * Its package entry loads lodash-es as some 650 separate modules, which cost about 300 ms of
 * every CLI start (`policyc --version` included); the single-file build of the same release
 * loads in about 15 ms. That file is not in chevrotain's export map, so it is found next to
 * the entry; if a release moves it, the entry is used and only start-up is slower.
 *
 * Every module of policyc takes chevrotain's values from here, so there is one copy of its
 * classes (types may still come from "chevrotain": they are erased).
 */
import type * as Chevrotain from "chevrotain";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";

async function loadChevrotain(): Promise<typeof Chevrotain> {
  try {
    const entry = createRequire(import.meta.url).resolve("chevrotain");
    const singleFile = join(dirname(entry), "..", "chevrotain.mjs");
    // Same folder, same installed release as the entry.
    if (existsSync(singleFile)) return (await import(pathToFileURL(singleFile).href)) as typeof Chevrotain;
  } catch {
    // Fall through to the package entry.
  }
  return import("chevrotain");
}

const chevrotain = await loadChevrotain();

export const { createToken, CstParser, Lexer, tokenMatcher } = chevrotain;
