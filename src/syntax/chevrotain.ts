/**
 * chevrotain's values, loaded from the single-file ES module build its package ships.
 *
 * Its package entry loads lodash-es as some 650 separate modules, which cost about 300 ms of
 * every CLI start (`policyc --version` included); the single-file build of the same release
 * loads in about 15 ms. That file is not in chevrotain's export map, so it is found next to
 * the entry; if a release moves it, the entry is used and only start-up is slower.
 *
 * It is loaded with `require()`, which loads an ES module without top-level await
 * synchronously (Node 20.19+ and 22.12+). An `await import()` here would make policyc's whole
 * module graph asynchronous, and `require("policyc")` from CommonJS would then fail with
 * ERR_REQUIRE_ASYNC_MODULE.
 *
 * Every module of policyc takes chevrotain's values from here, so there is one copy of its
 * classes (types may still come from "chevrotain": they are erased).
 */
import type * as Chevrotain from "chevrotain";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";

function loadChevrotain(): typeof Chevrotain {
  // Resolved from this file, as any dependency is, so a hoisted node_modules is found too.
  const require = createRequire(import.meta.url);
  const singleFile = join(dirname(require.resolve("chevrotain")), "..", "chevrotain.mjs");
  // Same folder, same installed release as the entry.
  return (existsSync(singleFile) ? require(singleFile) : require("chevrotain")) as typeof Chevrotain;
}

export const { createToken, CstParser, Lexer, tokenMatcher } = loadChevrotain();
