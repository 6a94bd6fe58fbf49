/**
 * Session values for engines without session state (Cedar, Cerbos): an enforcement point
 * would compute them and pass them in the request. Follows language.md section 4 and is fed
 * the decisions policyc made, so the stateless engines see the same session as policyc.
 */
import { RISK_RANK } from "./generate.js";

/** The session values a model's rules read, as keys of the snapshot. */
export function sessionKeys(model) {
  const keys = { counts: new Set(), countNs: new Set(), called: new Set() };
  for (const rule of model.rules)
    for (const { atom } of rule.clauses) {
      if (atom.k === "count") keys.counts.add(atom.ms);
      if (atom.k === "countNs") keys.countNs.add(`${atom.ns}_${atom.ms}`);
      if (atom.k === "called") keys.called.add(atom.ms === null ? atom.ns : `${atom.ns}_${atom.ms}`);
    }
  return keys;
}

export class SessionTracker {
  constructor(model) {
    this.model = model;
    this.keys = sessionKeys(model);
    this.sessions = new Map();
  }

  /** Whether the request is valid as policyc validates it (bench requests break in known ways). */
  static isValid(model, request) {
    const tool = model.toolByName.get(request.tool);
    if (!tool) return false;
    if (typeof request.agent?.team !== "string") return false;
    if (!Array.isArray(request.context?.labels) || request.context.labels.some((l) => !["public", "internal", "pii", "secret"].includes(l))) return false;
    for (const [name, type] of Object.entries(tool.args)) {
      const v = request.args?.[name];
      if (type === "int" ? !Number.isSafeInteger(v) : type === "string" ? typeof v !== "string" : !Array.isArray(v)) return false;
    }
    return true;
  }

  state(id, now) {
    let s = this.sessions.get(id);
    if (!s) {
      s = { first: now, calls: 0, denials: 0, attempts: [], labels: new Set(), calledAt: new Map(), lastKey: undefined, run: 0, revoked: false };
      this.sessions.set(id, s);
    }
    return s;
  }

  /** The session values as this attempt sees them (counts include it). */
  snapshot(request) {
    const now = Date.parse(request.time);
    const s = this.state(request.session, now);
    const tool = this.model.toolByName.get(request.tool);
    const key = JSON.stringify([request.tool, request.args]);
    const snap = { calls: s.calls, denials: s.denials, age_ms: now - s.first, repeats: key === s.lastKey ? s.run : 0, labels: [...s.labels], revoked: s.revoked };
    for (const ms of this.keys.counts) snap[`count_${ms}`] = s.attempts.filter((a) => a.time >= now - ms).length + 1;
    for (const k of this.keys.countNs) {
      const [ns, ms] = k.split("_");
      snap[`count_${k}`] = s.attempts.filter((a) => a.time >= now - Number(ms) && a.ns === ns).length + (tool?.ns === ns ? 1 : 0);
    }
    for (const k of this.keys.called) {
      const [ns, ms] = k.split("_");
      const at = s.calledAt.get(ns);
      snap[`called_${k}`] = at !== undefined && (ms === undefined || at >= now - Number(ms));
    }
    return snap;
  }

  /** Records the attempt after policyc decided it. */
  update(request, decision) {
    const now = Date.parse(request.time);
    const s = this.state(request.session, now);
    const tool = this.model.toolByName.get(request.tool);
    const key = JSON.stringify([request.tool, request.args]);
    s.calls++;
    if (decision.decision === "deny") s.denials++;
    if (key === s.lastKey) s.run++;
    else {
      s.lastKey = key;
      s.run = 1;
    }
    s.attempts.push({ time: now, ns: tool?.ns ?? "" });
    if (decision.decision === "allow") {
      for (const l of request.context.labels) s.labels.add(l);
      for (const l of tool.returns) s.labels.add(l);
      s.calledAt.set(tool.ns, now);
    }
    if (decision.revoked) s.revoked = true;
  }
}

/** Intents that list a tool, and the tool's risk rank (what a PEP knows from the schema). */
export function toolFacts(model, tool) {
  return { risk: RISK_RANK[tool.risk], intents: model.intents.filter((i) => i.tools.includes(tool.name)).map((i) => i.name) };
}

export function intentMaxRisk(model, name) {
  const intent = model.intents.find((i) => i.name === name);
  return intent ? RISK_RANK[intent.maxRisk] : -1;
}
