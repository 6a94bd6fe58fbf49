import { parentPort, workerData } from "node:worker_threads";
import type { CompiledPolicy } from "../runtime/policy.js";
import { replayFile, type ReplayOptions, type ReplayReport, type WorkerReport } from "./replay.js";

/**
 * A replay worker: replays the sessions of its share of one recording with its own engine and
 * posts the results to the thread that started it (see `replayInWorkers` in replay.ts).
 */
const { policy, file, options } = workerData as { policy: CompiledPolicy; file: string; options: ReplayOptions };
const report: ReplayReport = { files: [file], passed: 0, failed: 0, lines: 0, cases: [], failures: [], errors: [], coverage: new Map(policy.rules.map((r) => [r.id, 0])), ruleIds: [], bailed: false };
await replayFile(policy, file, options, report, new Set(Object.keys(policy.schema.tools)));
const message: WorkerReport = { passed: report.passed, failed: report.failed, lines: report.lines, cases: report.cases, failures: report.failures, errors: report.errors, coverage: [...report.coverage] };
parentPort!.postMessage(message);
