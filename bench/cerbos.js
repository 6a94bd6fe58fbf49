/**
 * The same policy as Cerbos resource policies (one per tool namespace; the tool's verb is the
 * action), and a Cerbos test suite of recorded requests with policyc's decisions as the
 * expected effects (Cerbos has no `ask`: ask and deny both expect EFFECT_DENY). Session values
 * come from bench/tracker.js and travel as resource attributes; the agent is the principal.
 * `cerbos compile` then parses, compiles and runs the suite, which is what `policyc test
 * --replay` does for policyc.
 */
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SessionTracker, intentMaxRisk, toolFacts } from "./tracker.js";

const q = JSON.stringify;
const HERE = fileURLToPath(new URL(".", import.meta.url));

/** The cerbos binary shipped by @cerbos/cerbos-linux-x64, or a reason it is not usable. */
export function cerbosBinary() {
  if (process.platform !== "linux" || process.arch !== "x64") return { error: `@cerbos/cerbos-linux-x64 needs linux-x64, this is ${process.platform}-${process.arch}` };
  let dir;
  try {
    dir = join(createRequire(join(HERE, "..", "package.json")).resolve("@cerbos/cerbos-linux-x64/package.json"), "..");
  } catch {
    return { error: "@cerbos/cerbos-linux-x64 not installed (npm i --no-save @cerbos/cerbos-linux-x64@0.55.0)" };
  }
  const binary = join(dir, "cerbos-linux-x64");
  if (!existsSync(binary)) return { error: `no binary at ${binary}` };
  const run = spawnSync(binary, ["--version"], { encoding: "utf8" });
  if (run.status !== 0) return { error: `${binary} --version failed: ${run.error?.message ?? run.stderr}` };
  return { binary, version: run.stdout.split("\n")[0].trim() };
}

/** `like` as CEL over the string `x` (patterns here have at most one middle part). */
function celGlob(x, pattern) {
  const parts = pattern.split("*");
  if (parts.length === 1) return `${x} == ${q(pattern)}`;
  const terms = [];
  if (parts[0]) terms.push(`${x}.startsWith(${q(parts[0])})`);
  if (parts[parts.length - 1]) terms.push(`${x}.endsWith(${q(parts[parts.length - 1])})`);
  for (const middle of parts.slice(1, -1)) if (middle) terms.push(`${x}.contains(${q(middle)})`);
  return terms.length ? `(${terms.join(" && ")})` : "true";
}

function atomCel(atom) {
  switch (atom.k) {
    case "teamEq":
      return `P.attr.team == ${q(atom.v)}`;
    case "teamIn":
      return `P.attr.team in ${q(atom.vs)}`;
    case "attested":
      return "P.attr.attested == true";
    case "zoneNe":
      return `P.attr.zone != ${q(atom.v)}`;
    case "zoneEq":
      return `P.attr.zone == ${q(atom.v)}`;
    case "levelGe":
      return `P.attr.level >= ${atom.n}`;
    case "idLike":
      return celGlob("P.attr.sid", atom.pattern);
    case "envIn":
      return `R.attr.env in ${q(atom.vs)}`;
    case "envEq":
      return `R.attr.env == ${q(atom.v)}`;
    case "intentEq":
      return `(has(R.attr.intent) && R.attr.intent == ${q(atom.v)})`;
    case "userRole":
      return `${q(atom.v)} in R.attr.user.roles`;
    case "called":
      return `R.attr.session.called_${atom.ms === null ? atom.ns : `${atom.ns}_${atom.ms}`} == true`;
    case "labelsContain":
      return `${q(atom.v)} in R.attr.labels`;
    case "sessionLabels":
      return `${q(atom.v)} in R.attr.session.labels`;
    case "destZone":
      return `(has(R.attr.destination) && R.attr.destination.zone == ${q(atom.v)})`;
    case "destHostNotLike":
      return `(has(R.attr.destination) && !${celGlob("R.attr.destination.host", atom.pattern)})`;
    case "denialsGt":
      return `R.attr.session.denials > ${atom.n}`;
    case "callsGt":
      return `R.attr.session.calls > ${atom.n}`;
    case "ageGt":
      return `R.attr.session.age_ms > ${atom.ms}`;
    case "count":
      return `R.attr.session.count_${atom.ms} > ${atom.n}`;
    case "countNs":
      return `R.attr.session.count_${atom.ns}_${atom.ms} > ${atom.n}`;
    case "repeats":
      return `R.attr.session.repeats >= ${atom.n}`;
    case "offIntent":
      return "(!has(R.attr.intent) || !(R.attr.intent in R.attr.tool_intents))";
    case "riskOverIntent":
      return "(!has(R.attr.intent) || R.attr.tool_risk > R.attr.intent_max_risk)";
    case "anyOutside":
      return `R.attr.args.${atom.arg}.exists(r, !r.endsWith(${q("@" + atom.domain)}))`;
    case "allInside":
      return `R.attr.args.${atom.arg}.all(r, r.endsWith(${q("@" + atom.domain)}))`;
    case "argLike":
      return celGlob(`R.attr.args.${atom.arg}`, atom.pattern);
    case "argStarts":
      return `R.attr.args.${atom.arg}.startsWith(${q(atom.prefix)})`;
    case "argIntGt":
      return `R.attr.args.${atom.arg} > ${atom.n}`;
    case "argIntLe":
      return `R.attr.args.${atom.arg} <= ${atom.n}`;
    case "argStrIn":
      return `R.attr.args.${atom.arg} in ${q(atom.vs)}`;
    case "argEq":
      return `R.attr.args.${atom.arg} == ${q(atom.v)}`;
    case "argSizeGt":
      return `size(R.attr.args.${atom.arg}) > ${atom.n}`;
    default:
      throw new Error(`unknown atom ${atom.k}`);
  }
}

function ruleCerbos(rule, ns) {
  // As in bench/cedar.js: a clause reading a missing `user` makes the whole rule fail closed.
  let condition = null;
  for (let i = rule.clauses.length - 1; i >= 0; i--) {
    const { atom, neg } = rule.clauses[i];
    let text = atomCel(atom);
    if (atom.not) text = `!(${text})`;
    if (neg) text = `!(${text})`;
    const rest = condition === null ? text : `${text} && ${condition}`;
    condition = atom.k === "userRole" ? (rule.effect === "allow" ? `(has(R.attr.user) && ${rest})` : `(!has(R.attr.user) || (${rest}))`) : rest;
  }
  const clauses = condition === null ? [] : [condition];
  const actions = rule.targets.some((t) => t === "*" || t.endsWith(".*")) ? ["*"] : rule.targets.filter((t) => t.startsWith(`${ns}.`)).map((t) => t.slice(ns.length + 1));
  const out = { actions, effect: rule.effect === "allow" ? "EFFECT_ALLOW" : "EFFECT_DENY", roles: ["*"], name: `r${rule.index}` };
  if (clauses.length) out.condition = { match: { expr: clauses.join(" && ") } };
  return out;
}

/** One resource policy per namespace (JSON, which Cerbos reads as YAML). */
export function cerbosPolicies(model) {
  const files = {};
  for (const ns of model.namespaces) {
    const rules = [{ actions: ["*"], effect: "EFFECT_DENY", roles: ["*"], name: "revoked", condition: { match: { expr: "R.attr.session.revoked == true" } } }];
    for (const rule of model.rules) if (rule.tools.some((t) => t.startsWith(`${ns.name}.`))) rules.push(ruleCerbos(rule, ns.name));
    files[`${ns.name}.yaml`] = { apiVersion: "api.cerbos.dev/v1", resourcePolicy: { version: "default", resource: ns.name, rules } };
  }
  return files;
}

/**
 * The test suite: the first `count` valid requests of `requests`, each a test case with
 * policyc's decision as its expected effect.
 */
export function cerbosSuite(model, engine, requests, count) {
  engine.sessions.clear();
  const tracker = new SessionTracker(model);
  const principals = {};
  const resources = {};
  const tests = [];
  for (const request of requests) {
    if (tests.length >= count) break;
    const valid = SessionTracker.isValid(model, request);
    const snapshot = valid ? tracker.snapshot(request) : null;
    const decision = engine.decide(request);
    tracker.update(request, decision);
    if (!valid) continue;
    const tool = model.toolByName.get(request.tool);
    const agent = request.agent;
    const principal = `a_${agent.id.replace(/[^A-Za-z0-9]+/g, "_")}`;
    principals[principal] ??= { id: agent.id, roles: ["agent"], attr: { sid: agent.id, team: agent.team, zone: agent.zone, attested: agent.attested, level: agent.level } };
    const facts = toolFacts(model, tool);
    const attr = { env: request.context.env, labels: request.context.labels, args: request.args, session: snapshot, tool_risk: facts.risk, tool_intents: facts.intents };
    if (request.context.destination) attr.destination = request.context.destination;
    if (request.user) attr.user = request.user;
    if (request.intent !== undefined) {
      attr.intent = request.intent;
      attr.intent_max_risk = intentMaxRisk(model, request.intent);
    }
    const resource = `req${tests.length}`;
    resources[resource] = { id: resource, kind: tool.ns, attr };
    tests.push({
      name: `request ${tests.length}`,
      input: { principals: [principal], resources: [resource], actions: [tool.verb] },
      expected: [{ principal, resource, actions: { [tool.verb]: decision.decision === "allow" ? "EFFECT_ALLOW" : "EFFECT_DENY" } }],
    });
  }
  engine.sessions.clear();
  return { name: "ReplayedRequests", description: "requests replayed from a generated recording", principals, resources, tests };
}

/** Writes the policies and the suite under `dir` and times `cerbos compile dir` (median of `runs`). */
export function runCerbos(binary, dir, policies, suite, runs = 1) {
  mkdirSync(dir, { recursive: true });
  for (const [name, policy] of Object.entries(policies)) writeFileSync(join(dir, name), JSON.stringify(policy, null, 1));
  writeFileSync(join(dir, "replay_test.yaml"), JSON.stringify(suite, null, 1));
  const times = [];
  let last;
  for (let i = 0; i < runs; i++) {
    const start = process.hrtime.bigint();
    last = spawnSync(binary, ["compile", "--output=json", "--no-color", dir], { encoding: "utf8", maxBuffer: 256 * 1024 * 1024, env: { ...process.env, CERBOS_NO_TELEMETRY: "1" } });
    times.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  times.sort((a, b) => a - b);
  const summary = summarize(last.stdout);
  return { ms: times[Math.floor(times.length / 2)], status: last.status, summary, stderr: last.stderr?.slice(0, 2000), stdout: summary ? undefined : last.stdout?.slice(0, 2000) };
}

/** Test counts from `cerbos compile --output=json` (its `testResults.summary`). */
function summarize(stdout) {
  try {
    const report = JSON.parse(stdout);
    const summary = report.summary ?? report.testResults?.summary;
    if (!summary) return { tests: 0, passed: 0, failed: 0, overall: "none", compileErrors: report.compileErrors ?? null };
    const count = (name) => summary.resultCounts?.find((c) => c.result === name)?.count ?? 0;
    return { tests: summary.testsCount ?? 0, passed: count("RESULT_PASSED"), failed: summary.testsCount - count("RESULT_PASSED"), overall: summary.overallResult };
  } catch {
    return null;
  }
}
