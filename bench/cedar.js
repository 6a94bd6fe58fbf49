/**
 * The same policy in Cedar (the stateless part): one Cedar policy per rule; `ask` rules are
 * `permit` policies whose ids say "ask" (deny > ask > allow falls out of Cedar's forbid-wins
 * plus a look at the determining policies); session values computed by the enforcement point
 * (bench/tracker.js) travel in the context; the agent is the principal entity, the tool the
 * resource entity (child of its namespace, with its risk and intents).
 *
 * Conditions that read `user` carry explicit `context has user` guards so that they fail
 * closed like policyc's (Cedar skips an erroring policy instead).
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { SessionTracker, intentMaxRisk, toolFacts } from "./tracker.js";

const q = JSON.stringify;
const HERE = fileURLToPath(new URL(".", import.meta.url));

/** Where cedar-wasm's Node build is, or null when it is not installed. */
export function cedarInstalled() {
  try {
    // The package's `exports` has no "./package.json": resolve its Node build instead.
    const require = createRequire(join(HERE, "..", "package.json"));
    const entry = require.resolve("@cedar-policy/cedar-wasm/nodejs");
    const version = JSON.parse(readFileSync(join(entry, "..", "package.json"), "utf8")).version;
    return existsSync(entry) ? { entry, version } : null;
  } catch {
    return null;
  }
}

function cedarGlob(pattern) {
  // Cedar patterns: `*` is the wildcard, `\*` a literal star; otherwise string escapes.
  return q(pattern);
}

function atomCedar(atom) {
  switch (atom.k) {
    case "teamEq":
      return `principal.team == ${q(atom.v)}`;
    case "teamIn":
      return `${q(atom.vs)}.contains(principal.team)`;
    case "attested":
      return "principal.attested";
    case "zoneNe":
      return `principal.zone != ${q(atom.v)}`;
    case "zoneEq":
      return `principal.zone == ${q(atom.v)}`;
    case "levelGe":
      return `principal.level >= ${atom.n}`;
    case "idLike":
      return `principal.sid like ${cedarGlob(atom.pattern)}`;
    case "envIn":
      return `${q(atom.vs)}.contains(context.env)`;
    case "envEq":
      return `context.env == ${q(atom.v)}`;
    case "intentEq":
      return `(context has intent && context.intent == ${q(atom.v)})`;
    case "userRole":
      return `context.user.roles.contains(${q(atom.v)})`;
    case "called":
      return `context.session.called_${atom.ms === null ? atom.ns : `${atom.ns}_${atom.ms}`}`;
    case "labelsContain":
      return `context.labels.contains(${q(atom.v)})`;
    case "sessionLabels":
      return `context.session.labels.contains(${q(atom.v)})`;
    case "destZone":
      return `(context has destination && context.destination.zone == ${q(atom.v)})`;
    case "destHostNotLike":
      return `(context has destination && !(context.destination.host like ${cedarGlob(atom.pattern)}))`;
    case "denialsGt":
      return `context.session.denials > ${atom.n}`;
    case "callsGt":
      return `context.session.calls > ${atom.n}`;
    case "ageGt":
      return `context.session.age_ms > ${atom.ms}`;
    case "count":
      return `context.session.count_${atom.ms} > ${atom.n}`;
    case "countNs":
      return `context.session.count_${atom.ns}_${atom.ms} > ${atom.n}`;
    case "repeats":
      return `context.session.repeats >= ${atom.n}`;
    case "offIntent":
      return "(!(context has intent) || !resource.intents.contains(context.intent))";
    case "riskOverIntent":
      return "(!(context has intent) || resource.risk > context.intent_max_risk)";
    case "anyOutside":
      return `!(${q([atom.domain])}.containsAll(context.args.${atom.arg}_domains))`;
    case "allInside":
      return `${q([atom.domain])}.containsAll(context.args.${atom.arg}_domains)`;
    case "argLike":
      return `context.args.${atom.arg} like ${cedarGlob(atom.pattern)}`;
    case "argStarts":
      return `context.args.${atom.arg} like ${cedarGlob(atom.prefix + "*")}`;
    case "argIntGt":
      return `context.args.${atom.arg} > ${atom.n}`;
    case "argIntLe":
      return `context.args.${atom.arg} <= ${atom.n}`;
    case "argStrIn":
      return `${q(atom.vs)}.contains(context.args.${atom.arg})`;
    case "argEq":
      return `context.args.${atom.arg} == ${q(atom.v)}`;
    case "argSizeGt":
      return `context.args.${atom.arg}_count > ${atom.n}`;
    default:
      throw new Error(`unknown atom ${atom.k}`);
  }
}

function ruleCedar(rule) {
  // From the last clause back: reaching a clause that reads `user` without one makes the whole
  // rule fail closed (policyc: an evaluation error matches a deny/ask and not an allow).
  let condition = null;
  for (let i = rule.clauses.length - 1; i >= 0; i--) {
    const { atom, neg } = rule.clauses[i];
    let text = atomCedar(atom);
    if (atom.not) text = `!(${text})`;
    if (neg) text = `!(${text})`;
    const rest = condition === null ? text : `${text} && ${condition}`;
    condition = atom.k === "userRole" ? (rule.effect === "allow" ? `(context has user && ${rest})` : `(!(context has user) || (${rest}))`) : rest;
  }
  const clauses = condition === null ? [] : [condition];
  let scope = "resource";
  if (rule.targets.length === 1 && rule.targets[0] !== "*") {
    const target = rule.targets[0];
    scope = target.endsWith(".*") ? `resource in Namespace::${q(target.slice(0, -2))}` : `resource == Tool::${q(target)}`;
  } else if (rule.targets.length > 1) clauses.unshift(`(${rule.targets.map((t) => `resource == Tool::${q(t)}`).join(" || ")})`);
  const effect = rule.effect === "deny" ? "forbid" : "permit";
  const annotations = [`@rule(${q(rule.id)})`];
  if (rule.reason) annotations.push(`@reason(${q(rule.reason)})`);
  return `${annotations.join("\n")}\n${effect} (principal, action == Action::"call", ${scope})${clauses.length ? `\nwhen { ${clauses.join(" && ")} }` : ""};`;
}

/** Cedar policies keyed by policy id (`r` + rule index), and what each id means. */
export function cedarPolicies(model) {
  const policies = {};
  const effects = {};
  for (const rule of model.rules) {
    policies[`r${rule.index}`] = ruleCedar(rule);
    effects[`r${rule.index}`] = { effect: rule.effect, id: rule.id };
  }
  return { policies, effects };
}

/** A Cedar authorization call for one request (session values from the tracker). */
export function cedarCall(model, request, snapshot) {
  const tool = model.toolByName.get(request.tool);
  const facts = toolFacts(model, tool);
  const args = { ...request.args };
  for (const [name, type] of Object.entries(tool.args)) {
    if (type.startsWith("list<")) {
      args[`${name}_domains`] = request.args[name].map((r) => (r.lastIndexOf("@") < 0 ? "" : r.slice(r.lastIndexOf("@") + 1)));
      args[`${name}_count`] = request.args[name].length;
    }
  }
  const context = { env: request.context.env, labels: request.context.labels, args, session: snapshot };
  if (request.context.destination) context.destination = request.context.destination;
  if (request.user) context.user = request.user;
  if (request.intent !== undefined) {
    context.intent = request.intent;
    context.intent_max_risk = intentMaxRisk(model, request.intent);
  }
  const agent = request.agent;
  return {
    principal: { type: "Agent", id: agent.id },
    action: { type: "Action", id: "call" },
    resource: { type: "Tool", id: tool.name },
    context,
    entities: [
      { uid: { type: "Agent", id: agent.id }, attrs: { sid: agent.id, team: agent.team, zone: agent.zone, attested: agent.attested, level: agent.level }, parents: [] },
      { uid: { type: "Tool", id: tool.name }, attrs: facts, parents: [{ type: "Namespace", id: tool.ns }] },
    ],
  };
}

/**
 * Builds the Cedar workload for one policy set: runs policyc over the requests (to feed the
 * session tracker, as an enforcement point would), and keeps the first `limit` valid,
 * not-revoked requests with policyc's decision for the agreement check.
 */
export function cedarWorkload(model, engine, requests, limit) {
  engine.sessions.clear();
  const tracker = new SessionTracker(model);
  const calls = [];
  const expected = [];
  for (const request of requests) {
    const valid = SessionTracker.isValid(model, request);
    const snapshot = valid ? tracker.snapshot(request) : null;
    const decision = engine.decide(request);
    if (valid && !snapshot.revoked && calls.length < limit) {
      calls.push(cedarCall(model, request, snapshot));
      expected.push(decision.decision);
    }
    tracker.update(request, decision);
  }
  engine.sessions.clear();
  return { calls, expected };
}

/**
 * Runs the Cedar measurements in a child process (`--no-turbo-inline-js-wasm-calls`: on Node
 * 20 a hot loop into cedar-wasm crashed V8 without it). Resolves to the child's JSON report.
 */
export function runCedarChild(workloadFiles, timeoutMs = 120000) {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ["--no-turbo-inline-js-wasm-calls", join(HERE, "cedar-child.js"), ...workloadFiles], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (d) => (out += d));
    child.stderr.on("data", (d) => (err += d));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      try {
        if (code !== 0) throw new Error(`exit ${code ?? signal}`);
        resolve(JSON.parse(out));
      } catch (e) {
        resolve({ error: `cedar child failed (${e.message}): ${err.trim().split("\n").slice(-3).join(" | ")}` });
      }
    });
  });
}

