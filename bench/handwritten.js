/**
 * Generates "the physical limit": the JavaScript a careful engineer would write by hand for a
 * generated policy set — one function per tool behind a Map, plain JS conditions, a Map of
 * sessions keeping only what the policy reads, and request validation equivalent to the
 * engine's (required attributes and arguments present, with the right JS types and enum
 * members). It follows language.md sections 4–5: deny > ask > allow > default deny; a
 * condition that reads `user.*` when the request has no user fails closed; `session.count`
 * includes this attempt; `session.repeats` counts identical attempts immediately before this
 * one; labels taint on allow only; a matched revoking deny voids the session — unless it matched
 * only because its condition failed to evaluate (policyc's reading: a malformed request must
 * not end a session).
 *
 * `handwrittenSource(model)` returns the source of an ES module exporting
 * `createDecider(): { decide(request), reset() }`.
 */
import { LABELS, RISK_RANK, ZONES } from "./generate.js";

const s = JSON.stringify;

/** Which session state the policy reads (the hand-written code keeps only that). */
export function sessionUse(model) {
  const use = { labels: false, repeats: false, windowMs: 0, windowNs: false, called: false };
  for (const rule of model.rules) {
    for (const { atom } of rule.clauses) {
      if (atom.k === "sessionLabels") use.labels = true;
      if (atom.k === "repeats") use.repeats = true;
      if (atom.k === "count" || atom.k === "countNs") use.windowMs = Math.max(use.windowMs, atom.ms);
      if (atom.k === "countNs") use.windowNs = true;
      if (atom.k === "called") use.called = true;
    }
  }
  return use;
}

/** Inline JS for `subject like pattern` (only `*` is special). */
function globJs(subject, pattern) {
  const parts = pattern.split("*");
  if (parts.length === 1) return `(${subject} === ${s(pattern)})`;
  const prefix = parts[0];
  const suffix = parts[parts.length - 1];
  const middle = parts.slice(1, -1).filter((p) => p.length > 0);
  const terms = [];
  if (prefix && suffix) terms.push(`${subject}.length >= ${prefix.length + suffix.length}`);
  if (prefix) terms.push(`${subject}.startsWith(${s(prefix)})`);
  if (suffix) terms.push(`${subject}.endsWith(${s(suffix)})`);
  if (middle.length === 1 && !suffix) terms.push(`${subject}.indexOf(${s(middle[0])}, ${prefix.length}) >= 0`);
  else if (middle.length > 0) terms.push(`globMiddle(${subject}, ${prefix.length}, ${s(middle)}, ${suffix.length})`);
  return terms.length ? `(${terms.join(" && ")})` : "true";
}

function readsUser(atom) {
  return atom.k === "userRole";
}

/** A positive atom as JS; variables in scope: a c u g s now intent rep. */
function atomJs(atom, tool) {
  switch (atom.k) {
    case "teamEq":
      return `a.team === ${s(atom.v)}`;
    case "teamIn":
      return `(${atom.vs.map((v) => `a.team === ${s(v)}`).join(" || ")})`;
    case "attested":
      return "a.attested === true";
    case "zoneNe":
      return `a.zone !== ${s(atom.v)}`;
    case "zoneEq":
      return `a.zone === ${s(atom.v)}`;
    case "levelGe":
      return `a.level >= ${atom.n}`;
    case "idLike":
      return globJs("a.id", atom.pattern);
    case "envIn":
      return `(${atom.vs.map((v) => `c.env === ${s(v)}`).join(" || ")})`;
    case "envEq":
      return `c.env === ${s(atom.v)}`;
    case "intentEq":
      return `intent === ${s(atom.v)}`;
    case "userRole":
      return `u.roles.includes(${s(atom.v)})`;
    case "called":
      return atom.ms === null ? `s.called.has(${s(atom.ns)})` : `(s.called.get(${s(atom.ns)}) ?? -Infinity) >= now - ${atom.ms}`;
    case "labelsContain":
      return `c.labels.includes(${s(atom.v)})`;
    case "sessionLabels":
      return `s.labels.has(${s(atom.v)})`;
    case "destZone":
      return `(c.destination != null && c.destination.zone === ${s(atom.v)})`;
    case "destHostNotLike":
      return `(c.destination != null && !${globJs("c.destination.host", atom.pattern)})`;
    case "denialsGt":
      return `s.denials > ${atom.n}`;
    case "callsGt":
      return `s.calls > ${atom.n}`;
    case "ageGt":
      return `now - s.first > ${atom.ms}`;
    case "count":
      return `countSince(s, now - ${atom.ms}) + 1 > ${atom.n}`;
    case "countNs":
      return `countNsSince(s, now - ${atom.ms}, ${s(atom.ns)}) + ${tool.ns === atom.ns ? 1 : 0} > ${atom.n}`;
    case "repeats":
      return `rep >= ${atom.n}`;
    case "offIntent":
      return `(typeof intent !== "string" || !IN_${tool.index}.has(intent))`;
    case "riskOverIntent":
      return `(typeof intent !== "string" || ${RISK_RANK[tool.risk]} > INTENT_MAX.get(intent))`;
    case "anyOutside":
      return `anyNotEndsWith(g.${atom.arg}, ${s("@" + atom.domain)})`;
    case "allInside":
      return `allEndWith(g.${atom.arg}, ${s("@" + atom.domain)})`;
    case "argLike":
      return globJs(`g.${atom.arg}`, atom.pattern);
    case "argStarts":
      return `g.${atom.arg}.startsWith(${s(atom.prefix)})`;
    case "argIntGt":
      return `g.${atom.arg} > ${atom.n}`;
    case "argIntLe":
      return `g.${atom.arg} <= ${atom.n}`;
    case "argStrIn":
      return `(${atom.vs.map((v) => `g.${atom.arg} === ${s(v)}`).join(" || ")})`;
    case "argEq":
      return `g.${atom.arg} === ${s(atom.v)}`;
    case "argSizeGt":
      return `g.${atom.arg}.length > ${atom.n}`;
    default:
      throw new Error(`unknown atom ${atom.k}`);
  }
}

/**
 * A rule's condition for one tool: its clauses joined by `&&`. A clause that reads `user` when
 * the request has none is an evaluation error: the whole rule then fails closed (a deny or
 * ask matches, an allow does not) and the error is reported, as language.md section 5 says.
 */
function conditionJs(rule, tool, failValue = String(rule.effect !== "allow")) {
  let code = "true";
  for (let i = rule.clauses.length - 1; i >= 0; i--) {
    const { atom, neg } = rule.clauses[i];
    let text = atomJs(atom, tool);
    if (atom.not) text = `!(${text})`;
    if (neg) text = `!(${text})`;
    const rest = code === "true" ? text : `${text} && ${code}`;
    code = readsUser(atom) ? `(u == null ? ((err ??= []).push(${s(`${rule.id}: the request has no user`)}), ${failValue}) : (${rest}))` : rest;
  }
  return code;
}

/** Validation of one declared type: returns JS that is true when `v` is ILL-typed. */
function badTypeJs(v, type) {
  switch (type) {
    case "string":
      return `typeof ${v} !== "string"`;
    case "int":
      return `!Number.isSafeInteger(${v})`;
    case "bool":
      return `typeof ${v} !== "boolean"`;
    case "list<string>":
    case "set<string>":
      return `!isStringList(${v})`;
    default:
      throw new Error(`no validator for ${type}`);
  }
}

function argsEqualJs(tool) {
  const terms = Object.entries(tool.args).map(([name, type]) => (type.startsWith("list<") ? `sameList(x.${name}, y.${name})` : `x.${name} === y.${name}`));
  return `x !== null && typeof x === "object" && ${terms.join(" && ")}`;
}

function defaultReason(effect, id, tool) {
  return effect === "allow" ? `${tool} is allowed by ${id}` : effect === "ask" ? `${tool} needs a human's approval (${id})` : `${tool} is denied by ${id}`;
}

/**
 * The module source of the hand-written decision function for `model`. `locations` (rule id →
 * `file:line:col`, e.g. from the compiled policy) fills the decisions' `locations` as
 * constants; without it they are placeholders.
 */
export function handwrittenSource(model, locations) {
  const use = sessionUse(model);
  const out = [];
  const ruleConst = (rule) => `R${rule.index}`;
  out.push(`// Hand-written decision function for a ${model.rules.length}-rule policy set (generated by bench/handwritten.js).`);
  out.push(`const EMPTY = Object.freeze([]);`);
  out.push(`const RFC3339 = /^\\d{4}-\\d{2}-\\d{2}[Tt ]\\d{2}:\\d{2}:\\d{2}(\\.\\d+)?([Zz]|[+-]\\d{2}:\\d{2})$/;`);
  out.push(`const LABEL = new Set(${s(LABELS)});`);
  out.push(`const ZONE = new Set(${s(ZONES)});`);
  out.push(`const INTENT_MAX = new Map(${s(model.intents.map((i) => [i.name, RISK_RANK[i.maxRisk]]))});`);
  out.push(`const WINDOW_MS = ${use.windowMs};`);
  out.push(`const IDLE_MS = 3600000, REVOKED_IDLE_MS = 86400000;`);
  for (const rule of model.rules) {
    const grants = rule.grant ? `[${rule.grant.scopes.map((scope) => `{ scope: ${s(scope)}, ttlSeconds: ${rule.grant.ttl.seconds} }`).join(", ")}]` : "EMPTY";
    const location = locations?.get(rule.id) ?? `${rule.policy}:${rule.index}`;
    out.push(`const ${ruleConst(rule)} = { id: ${s(rule.id)}, effect: ${s(rule.effect)}, reason: ${rule.reason ? s(rule.reason) : "null"}, location: ${s(location)}, grants: ${grants}, revoke: ${rule.revoke === true} };`);
  }
  for (const tool of model.tools) {
    const intents = model.intents.filter((i) => i.tools.includes(tool.name)).map((i) => i.name);
    out.push(`const IN_${tool.index} = new Set(${s(intents)});`);
    out.push(`const RET_${tool.index} = ${s(tool.returns)};`);
  }
  out.push(`
// Times: the form enforcement points send (YYYY-MM-DDTHH:MM:SS[.mmm]Z, a real calendar day)
// is read digit by digit; anything else takes the general path (the RFC 3339 pattern, then
// Date.parse), so exactly the same strings are accepted, with the same values.
const DAYS_IN_MONTH = [0, 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];
function digits(t, from, count) {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const c = t.charCodeAt(i) - 48;
    if (c < 0 || c > 9) return -1;
    n = n * 10 + c;
  }
  return n;
}
function parseTime(t) {
  const length = t.length;
  if ((length === 20 || (length === 24 && t.charCodeAt(19) === 46)) && t.charCodeAt(length - 1) === 90 && t.charCodeAt(4) === 45 && t.charCodeAt(7) === 45 && t.charCodeAt(10) === 84 && t.charCodeAt(13) === 58 && t.charCodeAt(16) === 58) {
    const y = digits(t, 0, 4), mo = digits(t, 5, 2), d = digits(t, 8, 2), h = digits(t, 11, 2), mi = digits(t, 14, 2), sec = digits(t, 17, 2);
    const ms = length === 24 ? digits(t, 20, 3) : 0;
    if (y >= 1000 && mo >= 1 && mo <= 12 && d >= 1 && (d <= 28 || d <= DAYS_IN_MONTH[mo] && (mo !== 2 || (y % 4 === 0 && (y % 100 !== 0 || y % 400 === 0)))) && h >= 0 && h < 24 && mi >= 0 && mi < 60 && sec >= 0 && sec < 60 && ms >= 0)
      return Date.UTC(y, mo - 1, d, h, mi, sec, ms);
  }
  return RFC3339.test(t) ? Date.parse(t) : NaN;
}
function isStringList(v) {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (typeof v[i] !== "string") return false;
  return true;
}
function isLabelSet(v) {
  if (!Array.isArray(v)) return false;
  for (let i = 0; i < v.length; i++) if (!LABEL.has(v[i])) return false;
  return true;
}
function sameList(x, y) {
  if (!Array.isArray(x) || x.length !== y.length) return false;
  for (let i = 0; i < x.length; i++) if (x[i] !== y[i]) return false;
  return true;
}
function anyNotEndsWith(list, suffix) {
  for (let i = 0; i < list.length; i++) if (!list[i].endsWith(suffix)) return true;
  return false;
}
function allEndWith(list, suffix) {
  for (let i = 0; i < list.length; i++) if (!list[i].endsWith(suffix)) return false;
  return true;
}
function globMiddle(text, from, middles, suffixLength) {
  let position = from;
  const limit = text.length - suffixLength;
  for (const part of middles) {
    const found = text.indexOf(part, position);
    if (found < 0 || found + part.length > limit) return false;
    position = found + part.length;
  }
  return true;
}
function mergeGrants(current, more) {
  const merged = current === EMPTY ? [] : current;
  for (const grant of more) {
    let found = -1;
    for (let i = 0; i < merged.length; i++) if (merged[i].scope === grant.scope) { found = i; break; }
    if (found < 0) merged.push(grant);
    else if (grant.ttlSeconds < merged[found].ttlSeconds) merged[found] = grant;
  }
  return merged;
}
function invalid(message) {
  const reasons = [message];
  return { decision: "deny", rules: EMPTY, reasons, locations: EMPTY, grants: EMPTY, revoked: false, errors: reasons };
}

class Session {
  constructor(now) {
    this.first = now;
    this.lastSeen = now;
    this.calls = 0;
    this.denials = 0;
    this.revoked = null;
    ${use.repeats ? 'this.lastTool = ""; this.lastArgs = undefined; this.run = 0;' : ""}
    ${use.windowMs > 0 ? "this.times = [];" : ""}
    ${use.windowNs ? "this.ns = [];" : ""}
    ${use.labels ? "this.labels = new Set();" : ""}
    ${use.called ? "this.called = new Map();" : ""}
  }
}

function countSince(s, since) {
  const times = s.times;
  let count = 0;
  for (let i = times.length - 1; i >= 0 && times[i] >= since; i--) count++;
  return count;
}
function countNsSince(s, since, ns) {
  const times = s.times;
  let count = 0;
  for (let i = times.length - 1; i >= 0 && times[i] >= since; i--) if (s.ns[i] === ns) count++;
  return count;
}

/** Counts the attempt; on allow, its labels and namespace join the session. */
function record(s, now, tool, ns, args, same, allowed, denied, labels, returns) {
  s.calls++;
  if (now > s.lastSeen) s.lastSeen = now;
  if (denied) s.denials++;
  ${use.repeats ? "if (same) s.run++; else { s.lastTool = tool; s.lastArgs = args; s.run = 1; }" : ""}
  ${
    use.windowMs > 0
      ? `const times = s.times;
  const horizon = now - WINDOW_MS;
  let drop = 0;
  while (drop < times.length && times[drop] < horizon) drop++;
  if (drop > 0) { times.splice(0, drop); ${use.windowNs ? "s.ns.splice(0, drop);" : ""} }
  times.push(now);
  ${use.windowNs ? "s.ns.push(ns);" : ""}`
      : ""
  }
  if (allowed) {
    ${use.labels ? "for (let i = 0; i < labels.length; i++) s.labels.add(labels[i]);\n    for (let i = 0; i < returns.length; i++) s.labels.add(returns[i]);" : ""}
    ${use.called ? "s.called.set(ns, now);" : ""}
  }
}

function finish(s, now, tool, ns, args, same, effect, m, c, returns, err, granting = null) {
  const n = m.length;
  const rules = new Array(n);
  const reasons = new Array(n);
  const locations = new Array(n);
  let grants = EMPTY;
  let revoking = null;
  for (let i = 0; i < n; i++) {
    const r = m[i];
    rules[i] = r.id;
    reasons[i] = r.reason;
    locations[i] = r.location;
    if (r.grants !== EMPTY) grants = mergeGrants(grants, r.grants);
    if (r.revoke) (revoking ??= []).push(r);
  }
  // Every revoking rule that matched names the revocation, in the decision's order (language.md §7).
  if (revoking !== null) s.revoked = { rules: revoking.map((r) => r.id), reasons: revoking.map((r) => r.reason), locations: revoking.map((r) => r.location) };
  const allowed = effect === "allow";
  record(s, now, tool, ns, args, same, allowed, effect === "deny", allowed ? c.labels : null, allowed ? returns : null);
  if (effect === "ask") {
    // The grants a person's approval gives: those of the allow rules that grant and matched.
    let onApproval = EMPTY;
    if (granting !== null) for (let i = 0; i < granting.length; i++) onApproval = mergeGrants(onApproval, granting[i].grants);
    return { decision: effect, rules, reasons, locations, grants: EMPTY, grantsOnApproval: onApproval, revoked: revoking !== null, errors: err ?? EMPTY };
  }
  return { decision: effect, rules, reasons, locations, grants: allowed ? grants : EMPTY, revoked: revoking !== null, errors: err ?? EMPTY };
}

/** Agent, context, user and intent: the checks every tool shares. Returns a message or undefined. */
function validateCommon(req) {
  const a = req.agent;
  if (a === undefined) return "request.agent is missing";
  if (a === null || typeof a !== "object" || Array.isArray(a)) return "request.agent must be an object";
  if (typeof a.id !== "string") return "request.agent.id must be a string";
  if (typeof a.team !== "string") return "request.agent.team must be a string";
  if (typeof a.zone !== "string" || !ZONE.has(a.zone)) return "request.agent.zone must be a Zone";
  if (typeof a.attested !== "boolean") return "request.agent.attested must be a bool";
  if (!Number.isSafeInteger(a.level)) return "request.agent.level must be an int";
  const c = req.context;
  if (c === undefined) return "request.context is missing";
  if (c === null || typeof c !== "object" || Array.isArray(c)) return "request.context must be an object";
  const d = c.destination;
  if (d != null) {
    if (typeof d !== "object" || Array.isArray(d)) return "request.context.destination must be an object";
    if (typeof d.host !== "string") return "request.context.destination.host must be a string";
    if (typeof d.zone !== "string" || !ZONE.has(d.zone)) return "request.context.destination.zone must be a Zone";
  }
  if (!isLabelSet(c.labels)) return "request.context.labels must be a set<Label>";
  if (typeof c.env !== "string") return "request.context.env must be a string";
  const u = req.user;
  if (u != null) {
    if (typeof u !== "object" || Array.isArray(u)) return "request.user must be an object";
    if (typeof u.id !== "string") return "request.user.id must be a string";
    if (!isStringList(u.roles)) return "request.user.roles must be a set<string>";
  }
  const intent = req.intent;
  if (intent != null && (typeof intent !== "string" || !INTENT_MAX.has(intent))) return "request.intent must name a declared intent";
  return undefined;
}
`);

  // One function per tool: validate its arguments, then its rules deny-first.
  for (const tool of model.tools) {
    const rules = model.rules.filter((r) => r.tools.includes(tool.name));
    const groups = { deny: rules.filter((r) => r.effect === "deny"), ask: rules.filter((r) => r.effect === "ask"), allow: rules.filter((r) => r.effect === "allow") };
    const name = s(tool.name);
    const ns = s(tool.ns);
    const lines = [];
    // Per tool, each rule with its reason spelled out (a constant: the tool is known here).
    for (const rule of rules) {
      const reason = rule.reason ?? defaultReason(rule.effect, rule.id, tool.name);
      lines.push(`const ${ruleConst(rule)}_${tool.index} = { ...${ruleConst(rule)}, reason: ${s(reason)} };`);
      if (rule.revoke) lines.push(`const ${ruleConst(rule)}_${tool.index}_failed = { ...${ruleConst(rule)}_${tool.index}, revoke: false };`);
    }
    if (use.repeats) lines.push(`function eq_${tool.index}(x, y) {`, `  return ${argsEqualJs(tool)};`, `}`);
    lines.push(`function tool_${tool.index}(req, s, now) {`);
    lines.push(`  const g = req.args;`);
    lines.push(`  if (g == null) return reject(s, now, ${name}, ${ns}, g, "request.args is missing");`);
    lines.push(`  if (typeof g !== "object" || Array.isArray(g)) return reject(s, now, ${name}, ${ns}, g, "request.args must be an object");`);
    for (const [arg, type] of Object.entries(tool.args)) lines.push(`  if (${badTypeJs(`g.${arg}`, type)}) return reject(s, now, ${name}, ${ns}, g, ${s(`request.args.${arg} must be a ${type}`)});`);
    lines.push(`  const a = req.agent, c = req.context, u = req.user, intent = req.intent;`);
    if (use.repeats) lines.push(`  const same = s.lastTool === ${name} && eq_${tool.index}(s.lastArgs, g);`, `  const rep = same ? s.run : 0;`);
    else lines.push(`  const same = false;`);
    lines.push(`  let m = null;`, `  let err = null;`);
    for (const effect of ["deny", "ask", "allow"]) {
      for (const rule of groups[effect]) {
        const constant = `${ruleConst(rule)}_${tool.index}`;
        // A revoking deny that matched only because its condition failed denies without revoking.
        if (rule.revoke && rule.clauses.some((c) => readsUser(c.atom))) lines.push(`  { const v = ${conditionJs(rule, tool, "2")}; if (v) (m ??= []).push(v === 2 ? ${constant}_failed : ${constant}); }`);
        else lines.push(`  if (${conditionJs(rule, tool)}) (m ??= []).push(${constant});`);
      }
      // An ask also evaluates the allow rules that grant: what it gives once a person approves.
      const granting = effect === "ask" ? groups.allow.filter((r) => r.grant) : [];
      if (granting.length > 0) {
        lines.push(`  if (m !== null) {`, `    let ga = null;`);
        for (const rule of granting) lines.push(`    if (${conditionJs(rule, tool)}) (ga ??= []).push(${ruleConst(rule)}_${tool.index});`);
        lines.push(`    return finish(s, now, ${name}, ${ns}, g, same, "ask", m, c, RET_${tool.index}, err, ga);`, `  }`);
      } else if (groups[effect].length > 0) lines.push(`  if (m !== null) return finish(s, now, ${name}, ${ns}, g, same, ${s(effect)}, m, c, RET_${tool.index}, err);`);
    }
    lines.push(`  record(s, now, ${name}, ${ns}, g, same, false, true, null, null);`);
    lines.push(`  return { decision: "deny", rules: EMPTY, reasons: [${s(`no rule allows ${tool.name}`)}], locations: EMPTY, grants: EMPTY, revoked: false, errors: err ?? EMPTY };`);
    lines.push(`}`);
    out.push(lines.join("\n"));
  }
  out.push(`const TOOLS = new Map([\n${model.tools.map((t) => `  [${s(t.name)}, { decide: tool_${t.index}, ns: ${s(t.ns)} }]`).join(",\n")}\n]);`);
  out.push(`
let sessions = new Map();
let lastSweep = -Infinity;

function reject(s, now, tool, ns, args, message) {
  record(s, now, tool, ns, args, false, false, true, null, null);
  return invalid(message);
}

function sweep(now) {
  lastSweep = now;
  for (const [id, state] of sessions) if (now - state.lastSeen > (state.revoked !== null ? REVOKED_IDLE_MS : IDLE_MS)) sessions.delete(id);
}

/** Decides one request and updates its session. */
function decide(req) {
  if (req === null || typeof req !== "object" || Array.isArray(req)) return invalid("the request must be a JSON object");
  const sid = req.session;
  if (typeof sid !== "string" || sid === "") return invalid("request.session is missing");
  const tool = req.tool;
  if (typeof tool !== "string" || tool === "") return invalid("request.tool is missing");
  const time = req.time;
  let now;
  if (time === undefined) now = Date.now();
  else {
    if (typeof time !== "string") return invalid("request.time must be an RFC 3339 time");
    now = parseTime(time);
    if (now !== now) return invalid("request.time must be an RFC 3339 time");
  }
  if (now - lastSweep > IDLE_MS / 4) sweep(now);
  let s = sessions.get(sid);
  if (s === undefined) {
    s = new Session(now);
    sessions.set(sid, s);
  }
  if (s.revoked !== null) {
    record(s, now, tool, "", req.args, false, false, true, null, null);
    return { decision: "deny", rules: s.revoked.rules, reasons: s.revoked.reasons, locations: s.revoked.locations, grants: EMPTY, revoked: true, errors: EMPTY };
  }
  const entry = TOOLS.get(tool);
  if (entry === undefined) return reject(s, now, tool, "", req.args, "unknown tool " + JSON.stringify(tool));
  const message = validateCommon(req);
  if (message !== undefined) return reject(s, now, tool, entry.ns, req.args, message);
  return entry.decide(req, s, now);
}

export function createDecider() {
  sessions = new Map();
  lastSweep = -Infinity;
  return {
    decide,
    reset() {
      sessions = new Map();
      lastSweep = -Infinity;
    },
    get size() {
      return sessions.size;
    },
  };
}
`);
  return out.join("\n");
}

/** Writes the module to a temporary file and imports it. */
export async function loadHandwritten(model, dir, locations) {
  const { writeFileSync } = await import("node:fs");
  const { join } = await import("node:path");
  const { pathToFileURL } = await import("node:url");
  const file = join(dir, `handwritten-${model.rules.length}-${model.seed}.mjs`);
  writeFileSync(file, handwrittenSource(model, locations));
  const module = await import(pathToFileURL(file).href);
  return Object.assign(module.createDecider(), { file });
}
