#!/usr/bin/env node
// The README's main job: check every bundled scenario and replay its recordings with coverage,
// then run the tool-gateway example and replay the decision log it writes.
// Plain JavaScript over the built CLI, so it runs right after `npm install`.
import { spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readdirSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const bin = join(root, "bin", "policyc.js");
const samples = join(root, "samples");
let failed = 0;

function run(args) {
  console.log(`\n$ policyc ${args.join(" ")}`);
  const result = spawnSync(process.execPath, [bin, ...args], { cwd: root, stdio: "inherit" });
  if (result.status !== 0) failed++;
}

for (const name of readdirSync(samples).sort()) {
  const folder = join("samples", name);
  if (!existsSync(join(root, folder)) || !readdirSync(join(root, folder)).some((f) => f.endsWith(".policy"))) continue;
  console.log(`\n== ${name}`);
  run(["check", folder]);
  const recordings = existsSync(join(root, folder, "recordings")) ? readdirSync(join(root, folder, "recordings")).filter((f) => f.endsWith(".jsonl")) : [];
  if (recordings.length > 0) run(["test", folder, "--replay", join(folder, "recordings"), "--coverage", "--min-coverage", "100"]);
}
// Not a scenario (it holds no policy): an enforcement point built on one, whose log must replay.
const work = mkdtempSync(join(tmpdir(), "policyc-samples-"));
const log = join(work, "decisions.jsonl");
console.log(`\n== gateway\n\n$ node samples/gateway/gateway.mjs --log ${log}`);
const gateway = spawnSync(process.execPath, [join("samples", "gateway", "gateway.mjs"), "--log", log], { cwd: root, stdio: "inherit" });
if (gateway.status !== 0) failed++;
else run(["test", join("samples", "finance-agent"), "--replay", log]);
rmSync(work, { recursive: true, force: true });

console.log(failed === 0 ? "\nall samples passed" : `\n${failed} sample step(s) failed`);
process.exitCode = failed === 0 ? 0 : 1;
