/**
 * Child process for one policy-set size of the decide benchmark, so that each size runs in a
 * fresh V8 (as an enforcement point runs one policy set): type feedback from the other sizes
 * cannot help or hurt it.
 *
 *   node bench/decide-child.js RULES TMPDIR [CEDAR_LIMIT]
 *
 * Checks that policyc and the hand-written function agree on every decision of the request
 * mix, times both (interleaved rounds), and with CEDAR_LIMIT > 0 writes the Cedar workload for
 * this size to TMPDIR/cedar-RULES.json. Prints one JSON object.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { compile } from "../dist/index.js";
import { cedarPolicies, cedarWorkload } from "./cedar.js";
import { generatePolicySet, generateRequests, policySources } from "./generate.js";
import { loadHandwritten } from "./handwritten.js";
import { cpuShare, elapsedMs, now, nsPerDecision } from "./timing.js";

const rules = Number(process.argv[2]);
const dir = process.argv[3];
const cedarLimit = Number(process.argv[4] ?? 0);

const model = generatePolicySet({ rules });
const engine = compile(policySources(model));
const hw = await loadHandwritten(model, dir, new Map(engine.rules.map((r) => [r.id, r.location])));
const requests = generateRequests(model, { sessions: 64, calls: 32 });

const problems = [];
if (engine.rules.map((r) => r.id).join("\n") !== model.rules.map((r) => r.id).join("\n")) problems.push("the engine's rule order differs from the generator's");

// Correctness: every decision of the mix, from empty sessions. Compared: the decision, its
// rules, reasons (when rules decided it: validation messages are worded differently),
// locations, grants (an ask's on approval too), revocation and errors.
const sorted = (list) => [...list].sort().join(" / ");
const key = (d) =>
  `${d.decision} | rules ${sorted(d.rules)} | reasons ${d.rules.length ? sorted(d.reasons) : "-"} | locations ${sorted(d.locations)} | grants ${sorted(d.grants.map((g) => `${g.scope}:${g.ttlSeconds}`))} | on approval ${sorted((d.grantsOnApproval ?? []).map((g) => `${g.scope}:${g.ttlSeconds}`))} | revoked ${d.revoked} | errors ${d.rules.length ? sorted(d.errors) : d.errors.length > 0}`;
const rulesOfTool = new Map(model.tools.map((t) => [t.name, model.rules.filter((r) => r.tools.includes(t.name)).length]));
const counts = { allow: 0, ask: 0, deny: 0 };
let mismatches = 0;
let targeted = 0;
let matched = 0;
engine.sessions.clear();
hw.reset();
for (const request of requests) {
  const a = engine.decide(request);
  const b = hw.decide(request);
  counts[a.decision]++;
  targeted += rulesOfTool.get(request.tool) ?? 0;
  matched += a.rules.length;
  if (key(a) !== key(b) && mismatches++ < 5) problems.push(`policyc and the hand-written function disagree on\n   ${JSON.stringify(request)}\n   policyc:      ${key(a)}\n   hand-written: ${key(b)}`);
}

const share = cpuShare();
const timedFrom = now();
const [p, h] = nsPerDecision(
  [
    { name: "policyc", decide: (r) => engine.decide(r), reset: () => engine.sessions.clear() },
    { name: "hand-written", decide: hw.decide, reset: hw.reset },
  ],
  requests,
);
const wallMs = elapsedMs(timedFrom);
const cpu = share();

let cedarFile = null;
if (cedarLimit > 0) {
  const { policies, effects } = cedarPolicies(model);
  const { calls, expected } = cedarWorkload(model, engine, requests, cedarLimit);
  cedarFile = join(dir, `cedar-${rules}.json`);
  writeFileSync(cedarFile, JSON.stringify({ rules, policies, effects, calls, expected }));
}

process.stdout.write(
  JSON.stringify({
    rules,
    tools: model.tools.length,
    requests: requests.length,
    targeted: targeted / requests.length,
    matched: matched / requests.length,
    counts,
    mismatches,
    problems,
    policyc: p.ns,
    handwritten: h.ns,
    policycCpu: p.cpuNs,
    handwrittenCpu: h.cpuNs,
    warmupPasses: { policyc: p.warmupPasses, handwritten: h.warmupPasses },
    warmupCut: p.warmupCut,
    wallMs,
    cpuShare: cpu,
    cedarFile,
  }),
);
