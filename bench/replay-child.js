/**
 * Child process: one replay of a recording in a fresh process, as a CI job runs `policyc test`
 * (the policy set compiled from sources first, not timed). Prints one JSON object.
 *
 *   node bench/replay-child.js RULES RECORDING
 */
import { compileSources } from "../dist/index.js";
import { replayRecordings } from "../dist/testing/replay.js";
import { generatePolicySet, policySources } from "./generate.js";

const [rules, file] = [Number(process.argv[2]), process.argv[3]];
const { policy } = compileSources(policySources(generatePolicySet({ rules })));
const start = process.hrtime.bigint();
const report = await replayRecordings(policy, [file]);
const ms = Number(process.hrtime.bigint() - start) / 1e6;
process.stdout.write(JSON.stringify({ ms, passed: report.passed, failed: report.failed, lines: report.lines }));
