/**
 * Child process: how long an enforcement point takes from a cold start to its first decision,
 * as a sidecar or a serverless tool gateway pays it on every start. Times, in this fresh
 * process: importing `policyc/runtime`, reading and `loadBundle` (schema, hash), and the first
 * `decide`. Prints one JSON object.
 *
 *   node bench/coldstart-child.js BUNDLE REQUEST_JSON
 */
import { readFileSync } from "node:fs";

const [bundleFile, requestText] = process.argv.slice(2);
const t0 = process.hrtime.bigint();
const { loadBundle } = await import("../dist/runtime/index.js");
const t1 = process.hrtime.bigint();
const engine = loadBundle(JSON.parse(readFileSync(bundleFile, "utf8")));
const t2 = process.hrtime.bigint();
const decision = engine.decide(JSON.parse(requestText));
const t3 = process.hrtime.bigint();
const ms = (a, b) => Number(b - a) / 1e6;
process.stdout.write(JSON.stringify({ importMs: ms(t0, t1), loadMs: ms(t1, t2), firstDecideMs: ms(t2, t3), decision: decision.decision }));
