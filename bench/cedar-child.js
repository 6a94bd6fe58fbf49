/**
 * Child process for the Cedar measurements (run by bench/cedar.js with
 * `--no-turbo-inline-js-wasm-calls`). Reads the workload files, and for each policy set:
 * preparses it once, warms up, times `statefulIsAuthorized` over the calls (median of three
 * runs) and checks Cedar's decisions against policyc's. Prints one JSON report on stdout.
 *
 *   node --no-turbo-inline-js-wasm-calls bench/cedar-child.js WORKLOAD.json…
 */
import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const require = createRequire(join(fileURLToPath(new URL(".", import.meta.url)), "..", "package.json"));
const cedar = require("@cedar-policy/cedar-wasm/nodejs");
// One workload file per policy-set size (written by bench/decide-child.js).
const sizes = process.argv.slice(2).map((file) => JSON.parse(readFileSync(file, "utf8")));

function decisionOf(answer, effects) {
  if (answer.type !== "success") return { decision: "error", detail: answer.errors.map((e) => e.message).join("; ") };
  const { decision, diagnostics } = answer.response;
  if (diagnostics.errors.length > 0 && process.env.CEDAR_DEBUG) console.error(JSON.stringify(diagnostics.errors.slice(0, 2)));
  if (decision === "deny") return { decision: "deny" };
  return { decision: diagnostics.reason.some((id) => effects[id]?.effect === "ask") ? "ask" : "allow" };
}

const report = [];
for (const size of sizes) {
  const setId = `bench-${size.rules}`;
  const t0 = process.hrtime.bigint();
  const parsed = cedar.preparsePolicySet(setId, { staticPolicies: size.policies });
  const preparseMs = Number(process.hrtime.bigint() - t0) / 1e6;
  if (parsed.type !== "success") {
    report.push({ rules: size.rules, error: `preparsePolicySet failed: ${parsed.errors.map((e) => e.message).slice(0, 3).join("; ")}` });
    continue;
  }
  const calls = size.calls.map((c) => ({ ...c, preparsedPolicySetId: setId }));
  // Agreement with policyc, and warm-up.
  let agree = 0;
  const disagreements = [];
  calls.forEach((call, i) => {
    const got = decisionOf(cedar.statefulIsAuthorized(call), size.effects);
    if (got.decision === size.expected[i]) agree++;
    else if (disagreements.length < 3) disagreements.push({ i, cedar: got, policyc: size.expected[i], tool: call.resource.id });
  });
  const runs = [];
  for (let run = 0; run < 3; run++) {
    let sink = 0;
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls.length; i++) sink += cedar.statefulIsAuthorized(calls[i]).type.length;
    runs.push(Number(process.hrtime.bigint() - start) / calls.length);
    if (sink === 0) console.error("unreachable");
  }
  runs.sort((a, b) => a - b);
  report.push({ rules: size.rules, nsPerDecision: runs[1], calls: calls.length, agree, preparseMs, disagreements });
}
process.stdout.write(JSON.stringify({ version: cedar.getCedarVersion?.(), report }));
