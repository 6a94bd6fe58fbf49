/**
 * Deterministic generators for the benchmark: a policy-set model (declarations + rules built
 * from a small catalogue of condition "atoms"), its policyc source text, request mixes and
 * JSON Lines recordings. Every other target (the hand-written function, Cedar, Cerbos) renders
 * the same model, so all of them implement the same policy.
 *
 * An atom is a plain object `{ k: kind, ...params }`; a rule's condition is a list of clauses
 * `{ atom, neg }` — the `when` terms joined by `and`, then at most one negated clause (`unless`).
 */

/** mulberry32: a small seeded PRNG, so every run generates the same sets and requests. */
export function prng(seed) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  const rng = {
    next,
    int: (lo, hi) => lo + Math.floor(next() * (hi - lo + 1)),
    pick: (list) => list[Math.floor(next() * list.length)],
    chance: (p) => next() < p,
    shuffle(list) {
      const out = [...list];
      for (let i = out.length - 1; i > 0; i--) {
        const j = Math.floor(next() * (i + 1));
        [out[i], out[j]] = [out[j], out[i]];
      }
      return out;
    },
  };
  return rng;
}

export const RISK_RANK = { low: 0, medium: 1, high: 2, critical: 3 };
export const LABELS = ["public", "internal", "pii", "secret"];
export const ZONES = ["internal", "partner", "external"];

const TEAMS = ["support", "sales", "eng", "finance", "ops", "research", "legal", "hr", "security", "marketing"];
// Namespaces avoid the language's keywords; each gets up to six tools.
const NAMESPACES = [
  "crm", "email", "http", "kb", "fs", "db", "git", "slack", "calendar", "payments", "shell", "s3",
  "jira", "docs", "billing", "search", "browser", "github", "drive", "tickets", "wiki", "analytics",
  "ledger", "vault", "chat", "sms", "maps", "translate", "images", "audio", "backup", "deploy",
  "monitor", "inventory", "hrm", "payroll",
];

/** Tool kinds: their arguments (name → type), risk and verbs. */
export const KINDS = {
  lookup: { risk: "low", verbs: ["lookup", "get", "describe"], args: { id: "string" } },
  search: { risk: "low", verbs: ["search", "list", "find"], args: { query: "string", limit: "int" } },
  read: { risk: "medium", verbs: ["read", "open", "export"], args: { path: "string" } },
  fetch: { risk: "medium", verbs: ["fetch", "download", "crawl"], args: { url: "string" } },
  query: { risk: "medium", verbs: ["query", "select", "report"], args: { sql: "string", database: "string" } },
  message: { risk: "high", verbs: ["send", "post", "notify"], args: { to: "list<string>", subject: "string", body: "string" } },
  write: { risk: "high", verbs: ["write", "upload", "update"], args: { path: "string", size: "int" } },
  transfer: { risk: "critical", verbs: ["transfer", "refund", "charge"], args: { amount: "int", currency: "string", account: "string" } },
  run: { risk: "critical", verbs: ["run", "exec", "deploy"], args: { command: "string", argv: "list<string>" } },
};
const KIND_NAMES = Object.keys(KINDS);
const PII_NAMESPACES = new Set(["crm", "hrm", "payroll", "tickets", "email", "chat"]);

/** Tools for a policy set of `rules` rules: about eight rules per tool, 3 to 200 tools. */
export function toolCountFor(rules) {
  return Math.max(3, Math.min(200, Math.round(rules / 8)));
}

/**
 * Generates the model of a policy set with exactly `rules` rules.
 * @param {{ rules: number, seed?: number, tools?: number }} options
 */
export function generatePolicySet({ rules: ruleCount, seed = 1, tools: toolCount = toolCountFor(ruleCount) }) {
  const rng = prng(seed * 7919 + ruleCount);
  // Tools, six per namespace, the first namespaces' kinds spread so every kind appears early.
  const nsCount = Math.ceil(toolCount / 6);
  if (nsCount > NAMESPACES.length) throw new Error("too many tools for the namespace list");
  const tools = [];
  const namespaces = [];
  for (let n = 0; n < nsCount; n++) {
    const ns = NAMESPACES[n];
    const count = Math.min(6, toolCount - tools.length);
    const kinds = rng.shuffle(KIND_NAMES).slice(0, count);
    // Keep the smallest sets free of critical tools' extremes: a 3-tool set is lookup/search/message.
    if (toolCount <= 3) kinds.splice(0, kinds.length, "lookup", "search", "message");
    const nsTools = [];
    for (const kind of kinds) {
      const info = KINDS[kind];
      const verb = rng.pick(info.verbs);
      const name = `${ns}.${verb}`;
      const returns = kind === "lookup" || kind === "read" || kind === "query" ? (PII_NAMESPACES.has(ns) ? ["pii"] : ["internal"]) : kind === "search" ? ["internal"] : [];
      const tool = { name, ns, verb, kind, risk: info.risk, returns, args: info.args, index: tools.length };
      tools.push(tool);
      nsTools.push(tool);
    }
    namespaces.push({ name: ns, team: TEAMS[n % TEAMS.length], tools: nsTools });
  }
  const toolByName = new Map(tools.map((t) => [t.name, t]));
  const teams = [...new Set(namespaces.map((n) => n.team))];

  // Intents: per team, `TEAM.work` (its namespaces, up to the riskiest of their tools) and
  // `TEAM.browse` (the same namespaces, low-risk only).
  const intents = [];
  for (const team of teams) {
    const owned = namespaces.filter((n) => n.team === team);
    const patterns = owned.map((n) => `${n.name}.*`);
    const ownedTools = owned.flatMap((n) => n.tools.map((t) => t.name));
    const maxRisk = Object.keys(RISK_RANK)[Math.max(...owned.flatMap((n) => n.tools.map((t) => RISK_RANK[t.risk])))];
    intents.push({ name: `${team}.work`, team, patterns, tools: ownedTools, maxRisk });
    intents.push({ name: `${team}.browse`, team, patterns, tools: ownedTools, maxRisk: "low" });
  }

  // Rules. Globals first (policy `guardrails`), then per namespace (policy `p_NS`).
  const globals = [
    { named: "rate", effect: "deny", targets: ["*"], clauses: [{ atom: { k: "count", ms: 60000, n: 30 } }], reason: "more than 30 calls a minute", revoke: true, controls: ["OWASP-ASI02"] },
    { named: "loop", effect: "deny", targets: ["*"], clauses: [{ atom: { k: "repeats", n: 4 } }], reason: "the same call five times in a row", revoke: true },
    { named: "off-intent", effect: "deny", targets: ["*"], clauses: [{ atom: { k: "offIntent" } }], reason: "this tool does not serve the declared intent", controls: ["OWASP-ASI01", "MAESTRO-L3"] },
    { named: "risk-escalation", effect: "deny", targets: ["*"], clauses: [{ atom: { k: "riskOverIntent" } }], reason: "riskier than the declared intent allows", revoke: true },
  ];
  const perNs = new Map(namespaces.map((n) => [n.name, []]));
  const ownerOf = (tool) => namespaces.find((n) => n.name === tool.ns).team;
  // One base allow per tool, so the normal calls of the owning team are allowed.
  for (const tool of tools) {
    const team = ownerOf(tool);
    const clauses = [{ atom: rng.chance(0.7) ? { k: "teamEq", v: team } : { k: "teamIn", vs: [team, rng.pick(TEAMS)] } }];
    if (clauses[0].atom.k === "teamIn") clauses[0].atom.vs = [team, otherTeam(rng, team)];
    if (rng.chance(0.3)) clauses.push({ atom: { k: "attested" } });
    perNs.get(tool.ns).push({ named: rng.chance(0.5) ? `${tool.name}.allow` : null, effect: "allow", targets: [tool.name], clauses, grant: rng.chance(0.4) ? { scopes: [`${tool.ns}:${tool.verb}`], ttl: pickTtl(rng) } : null });
  }
  const extras = ruleCount - globals.length - tools.length;
  if (extras < 0) throw new Error(`${ruleCount} rules are too few for ${tools.length} tools`);
  const counters = new Map();
  for (let k = 0; k < extras; k++) {
    const tool = tools[k % tools.length];
    const ns = namespaces.find((n) => n.name === tool.ns);
    const team = ns.team;
    const shape = rng.next();
    let targets;
    let single = false;
    if (shape < 0.75 || ns.tools.length < 2) {
      targets = [tool.name];
      single = true;
    } else if (shape < 0.9) targets = [`${tool.ns}.*`];
    else targets = [tool.name, rng.pick(ns.tools.filter((t) => t !== tool)).name];
    const roll = rng.next();
    // The first extras cover every effect, so even a 10-rule set asks sometimes.
    const effect = k < 3 ? ["ask", "deny", "allow"][k] : roll < 0.4 ? "deny" : roll < 0.55 ? "ask" : "allow";
    const rule = { effect, targets, clauses: [], named: null };
    const key = `${tool.name}.${effect}`;
    const n = (counters.get(key) ?? 0) + 1;
    counters.set(key, n);
    if (rng.chance(0.35)) rule.named = `${key}-${n}`;
    if (effect === "allow") {
      rule.clauses.push({ atom: normalAtom(rng, team, tool, single) });
      if (rng.chance(0.5)) {
        const second = normalAtom(rng, team, tool, single);
        if (JSON.stringify(second) !== JSON.stringify(rule.clauses[0].atom)) rule.clauses.push({ atom: second });
      }
      if (rng.chance(0.15)) rule.clauses.push({ atom: { k: "labelsContain", v: "secret" }, neg: true });
      if (rng.chance(0.4)) rule.grant = { scopes: rng.chance(0.8) ? [`${tool.ns}:${tool.verb}`] : [`${tool.ns}:${tool.verb}`, `${tool.ns}:audit`], ttl: pickTtl(rng) };
      if (rng.chance(0.2)) rule.meta = [["owner", team]];
    } else {
      const suspicious = suspiciousAtoms(rng, tool, single, effect);
      if (rng.chance(0.4) && !suspicious.some((a) => a.k === "envEq")) rule.clauses.push({ atom: { k: "envIn", vs: ["prod", "staging"] } });
      rule.clauses.push(...suspicious.map((atom) => ({ atom })));
      if (effect === "deny" && rng.chance(0.2)) rule.clauses.push({ atom: rng.chance(0.5) ? { k: "userRole", v: "admin" } : { k: "teamEq", v: "security" }, neg: true });
      rule.reason = rng.chance(0.85) ? reasonFor(suspicious[suspicious.length - 1], tool) : null;
      if (effect === "deny" && rng.chance(0.03) && k >= 3) rule.revoke = true;
      if (effect === "deny" && rng.chance(0.3)) rule.controls = [rng.pick(["OWASP-ASI03", "OWASP-ASI05", "MAESTRO-L3", "NIST-AC-6"])];
      if (rng.chance(0.2)) rule.doc = `Generated ${effect} rule for ${targets.join(", ")}.`;
    }
    perNs.get(tool.ns).push(rule);
  }

  // Ids and the resolved tools of every rule, in the order the files are given to the compiler.
  const rules = [];
  const addPolicy = (policy, list) => {
    list.forEach((rule, i) => {
      rule.policy = policy;
      rule.id = rule.named ?? `${policy}/${i + 1}`;
      rule.index = rules.length;
      rule.tools = resolveTargets(rule.targets, tools);
      rules.push(rule);
    });
  };
  addPolicy("guardrails", globals);
  for (const ns of namespaces) addPolicy(`p_${ns.name}`, perNs.get(ns.name));

  const agents = [];
  for (const team of teams) {
    agents.push({ id: `spiffe://acme.com/agents/${team}-bot`, team, zone: "internal", attested: true, level: 3 });
    agents.push({ id: `spiffe://acme.com/agents/${team}-junior`, team, zone: "internal", attested: true, level: 1 });
    agents.push({ id: `spiffe://partner.example/agents/${team}-contractor`, team, zone: "partner", attested: false, level: 2 });
  }
  return { ruleCount, seed, tools, toolByName, namespaces, teams, intents, rules, agents, perNs, globals };
}

function otherTeam(rng, team) {
  return rng.pick(TEAMS.filter((t) => t !== team));
}

function pickTtl(rng) {
  return rng.pick([
    { text: "5m", seconds: 300 },
    { text: "15m", seconds: 900 },
    { text: "1h", seconds: 3600 },
    { text: "90s", seconds: 90 },
  ]);
}

/** Tools a list of targets matches (patterns are `*` or `ns.*`). */
export function resolveTargets(targets, tools) {
  const out = new Set();
  for (const target of targets) {
    if (target === "*") tools.forEach((t) => out.add(t.name));
    else if (target.endsWith(".*")) tools.filter((t) => t.name.startsWith(target.slice(0, -1))).forEach((t) => out.add(t.name));
    else out.add(target);
  }
  return tools.filter((t) => out.has(t.name)).map((t) => t.name);
}

/** An atom usually true for the owning team's ordinary calls. */
function normalAtom(rng, team, tool, single) {
  const r = rng.next();
  if (single && r < 0.25) {
    switch (tool.kind) {
      case "message":
        return { k: "allInside", arg: "to", domain: "acme.com" };
      case "fetch":
        return { k: "argLike", arg: "url", pattern: "https://*.acme.com/*" };
      case "transfer":
        return { k: "argIntLe", arg: "amount", n: 1000 };
      case "search":
        return { k: "argIntLe", arg: "limit", n: 500 };
      case "read":
      case "write":
        return { k: "argStarts", arg: "path", prefix: "/home/" };
      case "query":
        return { k: "argStrIn", arg: "database", vs: ["analytics", "crm", "events"] };
      case "run":
        return { k: "argStrIn", arg: "command", vs: ["ls", "cat", "grep", "make"] };
      default:
        return { k: "argLike", arg: "id", pattern: "c-*" };
    }
  }
  return rng.pick([
    { k: "teamEq", v: team },
    { k: "teamIn", vs: [team, otherTeam(rng, team)] },
    { k: "attested" },
    { k: "zoneNe", v: "external" },
    { k: "levelGe", n: rng.int(1, 2) },
    { k: "idLike", pattern: "spiffe://acme.com/agents/*" },
    { k: "envIn", vs: ["prod", "staging"] },
    { k: "intentEq", v: `${team}.work` },
    { k: "userRole", v: "operator" },
    { k: "called", ns: tool.ns, ms: rng.chance(0.5) ? 600000 : null },
    { k: "labelsContain", v: "secret", not: true },
  ]);
}

/** Atoms usually false for ordinary calls (what deny and ask rules look for). */
function suspiciousAtoms(rng, tool, single, effect) {
  if (single && rng.chance(effect === "ask" ? 0.4 : 0.7)) {
    switch (tool.kind) {
      case "message":
        return rng.pick([
          [{ k: "sessionLabels", v: "pii" }, { k: "anyOutside", arg: "to", domain: "acme.com" }],
          [{ k: "anyOutside", arg: "to", domain: "acme.com" }],
          [{ k: "argSizeGt", arg: "to", n: 10 }],
        ]);
      case "fetch":
        return [{ k: "argLike", arg: "url", pattern: "https://*.acme.com/*", not: true }];
      case "transfer":
        return rng.pick([[{ k: "argIntGt", arg: "amount", n: effect === "ask" ? 1000 : 5000 }], [{ k: "argStrIn", arg: "currency", vs: ["USD", "EUR"], not: true }], [{ k: "countNs", ns: tool.ns, ms: 600000, n: 80 }]]);
      case "search":
        return rng.pick([[{ k: "argIntGt", arg: "limit", n: 1000 }], [{ k: "argLike", arg: "query", pattern: "*password*" }]]);
      case "read":
        return rng.pick([[{ k: "argLike", arg: "path", pattern: "/etc/*" }], [{ k: "argStarts", arg: "path", prefix: "/root/" }]]);
      case "write":
        return rng.pick([[{ k: "argLike", arg: "path", pattern: "/etc/*" }], [{ k: "argIntGt", arg: "size", n: 100000000 }]]);
      case "query":
        return rng.pick([[{ k: "argLike", arg: "sql", pattern: "*DROP *" }], [{ k: "argEq", arg: "database", v: "payroll" }]]);
      case "run":
        return [{ k: "argStrIn", arg: "command", vs: ["rm", "sudo", "curl"] }];
      default:
        return [{ k: "argLike", arg: "id", pattern: "admin-*" }];
    }
  }
  if (effect === "ask")
    return [
      rng.pick([
        { k: "labelsContain", v: "pii" },
        { k: "destZone", v: "partner" },
        { k: "destHostNotLike", pattern: "*.acme.com" },
        { k: "envEq", v: "dev" },
        { k: "userRole", v: "intern" },
      ]),
    ];
  return [
    rng.pick([
      { k: "labelsContain", v: "secret" },
      { k: "destZone", v: "external" },
      { k: "destHostNotLike", pattern: "*.acme.com" },
      { k: "attested", not: true },
      { k: "zoneEq", v: "external" },
      { k: "sessionLabels", v: "secret" },
      { k: "denialsGt", n: 10 },
      { k: "callsGt", n: 500 },
      { k: "ageGt", ms: 8 * 3600000, text: "8h" },
      { k: "userRole", v: "intern" },
    ]),
  ];
}

function reasonFor(atom, tool) {
  switch (atom.k) {
    case "anyOutside":
      return "customer data may not leave acme.com";
    case "labelsContain":
    case "sessionLabels":
      return `${atom.v} data may not flow into ${tool.name}`;
    case "destZone":
    case "destHostNotLike":
      return "calls to outside destinations need review";
    case "argIntGt":
      return `${atom.arg} above ${atom.n}`;
    case "userRole":
      return `not for ${atom.v}s`;
    default:
      return `${atom.k} guard on ${tool.name}`;
  }
}

// ---------------------------------------------------------------------------------------------
// policyc source text
// ---------------------------------------------------------------------------------------------

function str(s) {
  return JSON.stringify(s);
}

/** An atom in the policy language. */
export function policyAtom(a) {
  const text = policyAtomPositive(a);
  return a.not ? `not (${text})` : text;
}

function policyAtomPositive(a) {
  switch (a.k) {
    case "teamEq":
      return `agent.team == ${str(a.v)}`;
    case "teamIn":
      return `agent.team in [${a.vs.map(str).join(", ")}]`;
    case "attested":
      return "agent.attested";
    case "zoneNe":
      return `agent.zone != ${a.v}`;
    case "zoneEq":
      return `agent.zone == ${a.v}`;
    case "levelGe":
      return `agent.level >= ${a.n}`;
    case "idLike":
      return `agent.id like ${str(a.pattern)}`;
    case "envIn":
      return `context.env in [${a.vs.map(str).join(", ")}]`;
    case "envEq":
      return `context.env == ${str(a.v)}`;
    case "intentEq":
      return `intent == ${a.v}`;
    case "userRole":
      return `${str(a.v)} in user.roles`;
    case "called":
      return a.ms === null ? `session.called(${a.ns}.*)` : `session.called(${a.ns}.*, within ${a.ms / 60000}m)`;
    case "labelsContain":
      return `context.labels contains ${a.v}`;
    case "sessionLabels":
      return `session.labels contains ${a.v}`;
    case "destZone":
      return `context has destination and context.destination.zone == ${a.v}`;
    case "destHostNotLike":
      return `context has destination and not (context.destination.host like ${str(a.pattern)})`;
    case "denialsGt":
      return `session.denials > ${a.n}`;
    case "callsGt":
      return `session.calls > ${a.n}`;
    case "ageGt":
      return `session.age > ${a.text}`;
    case "count":
      return `session.count(within ${a.ms / 60000}m) > ${a.n}`;
    case "countNs":
      return `session.count(${a.ns}.*, within ${a.ms / 60000}m) > ${a.n}`;
    case "repeats":
      return `session.repeats >= ${a.n}`;
    case "offIntent":
      return "not (tool in intent.tools)";
    case "riskOverIntent":
      return "tool.risk > intent.max_risk";
    case "anyOutside":
      return `any(r in args.${a.arg}: not (r like ${str("*@" + a.domain)}))`;
    case "allInside":
      return `all(r in args.${a.arg}: r like ${str("*@" + a.domain)})`;
    case "argLike":
      return `args.${a.arg} like ${str(a.pattern)}`;
    case "argStarts":
      return `args.${a.arg}.startsWith(${str(a.prefix)})`;
    case "argIntGt":
      return `args.${a.arg} > ${a.n}`;
    case "argIntLe":
      return `args.${a.arg} <= ${a.n}`;
    case "argStrIn":
      return `args.${a.arg} in [${a.vs.map(str).join(", ")}]`;
    case "argEq":
      return `args.${a.arg} == ${str(a.v)}`;
    case "argSizeGt":
      return `args.${a.arg}.size() > ${a.n}`;
    default:
      throw new Error(`unknown atom ${a.k}`);
  }
}

function policyRule(rule) {
  const lines = [];
  if (rule.doc) lines.push(`  /// ${rule.doc}`);
  if (rule.named) lines.push(`  @name(${str(rule.named)})`);
  if (rule.controls) lines.push(`  @controls(${rule.controls.map(str).join(", ")})`);
  for (const [key, value] of rule.meta ?? []) lines.push(`  @${key}(${str(value)})`);
  lines.push(`  ${rule.effect} ${rule.targets.join(", ")}`);
  const when = rule.clauses.filter((c) => !c.neg).map((c) => wrap(policyAtom(c.atom)));
  const unless = rule.clauses.filter((c) => c.neg);
  if (when.length > 0) lines.push(`    when ${when.join("\n     and ")}`);
  if (unless.length > 0) lines.push(`    unless ${policyAtom(unless[0].atom)}`);
  if (rule.reason) lines.push(`    reason ${str(rule.reason)}`);
  if (rule.grant) lines.push(`    grant ${rule.grant.scopes.map(str).join(", ")} for ${rule.grant.ttl.text}`);
  if (rule.revoke) lines.push("    revoke");
  return lines.join("\n");
}

/** Parenthesizes a clause that is itself an `or` (none are, today) — kept for safety. */
function wrap(text) {
  return / or /.test(text) ? `(${text})` : text;
}

/** The declarations file. */
export function schemaText(model) {
  const out = [
    "/// Data classification labels, lowest to highest.",
    `enum Label { ${LABELS.join(", ")} }`,
    `enum Zone  { ${ZONES.join(", ")} }`,
    "",
    "type Destination { host: string, zone: Zone }",
    "",
    "agent {",
    "  id: string            // SPIFFE ID",
    "  team: string",
    "  zone: Zone",
    "  attested: bool",
    "  level: int",
    "}",
    "",
    "user {",
    "  id: string",
    "  roles: set<string>",
    "}",
    "",
    "context {",
    "  destination?: Destination",
    "  labels: set<Label>",
    "  env: string",
    "}",
    "",
  ];
  for (const tool of model.tools) {
    const args = Object.entries(tool.args).map(([n, t]) => `${n}: ${t}`).join(", ");
    out.push(`tool ${tool.name} {`, `  risk ${tool.risk}`);
    if (tool.returns.length) out.push(`  returns ${tool.returns.join(", ")}`);
    out.push(`  args { ${args} }`, "}", "");
  }
  for (const intent of model.intents) out.push(`intent ${intent.name} {`, `  tools ${intent.patterns.join(", ")}`, `  max_risk ${intent.maxRisk}`, "}", "");
  return out.join("\n");
}

/** The policy set as source files: declarations, guardrails, one file per namespace. */
export function policySources(model) {
  const sources = [{ path: "schema.policy", text: schemaText(model) }];
  sources.push({ path: "guardrails.policy", text: `policy guardrails {\n${model.globals.map(policyRule).join("\n\n")}\n}\n` });
  for (const ns of model.namespaces) {
    const rules = model.perNs.get(ns.name);
    if (rules.length === 0) continue;
    sources.push({ path: `${ns.name}.policy`, text: `// Rules for the ${ns.name} tools (owner: ${ns.team}).\npolicy p_${ns.name} {\n${rules.map(policyRule).join("\n\n")}\n}\n` });
  }
  return sources;
}

// ---------------------------------------------------------------------------------------------
// Requests and recordings
// ---------------------------------------------------------------------------------------------

const WORDS = ["refund", "invoice", "policy", "order", "shipping", "contract", "renewal", "outage", "roadmap", "budget", "quarterly", "onboarding"];

function iso(ms) {
  return new Date(ms).toISOString();
}

/** Benign (or, with `odd`, suspicious) arguments for a tool. */
function argsFor(rng, tool, odd) {
  switch (tool.kind) {
    case "lookup":
      return { id: odd ? `admin-${rng.int(1, 9)}` : `c-${rng.int(1, 5000)}` };
    case "search":
      return { query: odd && rng.chance(0.5) ? "admin password" : `${rng.pick(WORDS)} ${rng.pick(WORDS)}`, limit: odd ? 5000 : rng.int(5, 100) };
    case "read":
      return { path: odd ? rng.pick(["/etc/passwd", "/root/.ssh/id_rsa"]) : `/home/agent/${rng.pick(WORDS)}-${rng.int(1, 99)}.txt` };
    case "write":
      return { path: odd ? "/etc/cron.d/job" : `/home/agent/out-${rng.int(1, 999)}.txt`, size: odd ? 200000000 : rng.int(100, 100000) };
    case "fetch":
      return { url: odd ? `https://${rng.pick(["evil.example", "pastebin.example"])}/x/${rng.int(1, 99)}` : `https://${rng.pick(["docs", "wiki", "api"])}.acme.com/page/${rng.int(1, 999)}` };
    case "query":
      return { sql: odd ? "DROP TABLE users" : `SELECT * FROM ${rng.pick(WORDS)} LIMIT ${rng.int(1, 50)}`, database: odd ? "payroll" : rng.pick(["analytics", "crm", "events"]) };
    case "message": {
      const to = [];
      const n = odd && rng.chance(0.3) ? 12 : rng.int(1, 3);
      for (let i = 0; i < n; i++) to.push(`${rng.pick(["ann", "bob", "cy", "dee", "eve"])}${rng.int(1, 99)}@acme.com`);
      if (odd) to.push(`someone${rng.int(1, 9)}@${rng.pick(["gmail.example", "evil.example"])}`);
      return { to, subject: `Re: ${rng.pick(WORDS)}`, body: `About the ${rng.pick(WORDS)}: see ticket ${rng.int(1, 99999)}.` };
    }
    case "transfer":
      return { amount: odd ? rng.pick([2000, 9000]) : rng.int(10, 900), currency: odd && rng.chance(0.3) ? "BTC" : rng.pick(["USD", "EUR"]), account: `acct-${rng.int(1, 999)}` };
    case "run":
      return { command: odd ? rng.pick(["rm", "sudo", "curl"]) : rng.pick(["ls", "cat", "grep", "make"]), argv: odd ? ["-rf", "/"] : ["-l", `dir${rng.int(1, 9)}`] };
  }
  throw new Error(`unknown kind ${tool.kind}`);
}

/** An invalid variant of a valid request (the engine must deny it before any rule runs). */
function breakRequest(rng, request, model) {
  const copy = structuredClone(request);
  switch (rng.int(0, 4)) {
    case 0: {
      const names = Object.keys(copy.args);
      delete copy.args[names[0]];
      break;
    }
    case 1: {
      const names = Object.keys(copy.args);
      copy.args[names[0]] = 42.5;
      break;
    }
    case 2:
      copy.tool = `${model.tools[0].ns}.nonexistent`;
      break;
    case 3:
      copy.context.labels = ["confidential"];
      break;
    default:
      delete copy.agent.team;
  }
  return copy;
}

/**
 * One session's attempts. `kind` shapes the session: "normal", "burst" (a call a second, until
 * the rate limit revokes it), "loop" (ends with the same call five times).
 */
function sessionRequests(rng, model, id, start, calls, kind) {
  const team = rng.pick(model.teams);
  const teamAgents = model.agents.filter((a) => a.team === team);
  const r = rng.next();
  const agent = { ...(r < 0.85 ? teamAgents[0] : r < 0.95 ? teamAgents[1] : teamAgents[2]) };
  const withinRisk = (intent) => intent.tools.map((t) => model.toolByName.get(t)).filter((t) => RISK_RANK[t.risk] <= RISK_RANK[intent.maxRisk]);
  const browse = model.intents.find((i) => i.name === `${team}.browse`);
  // A browsing session (low-risk tools only) where the team has low-risk tools.
  const intent = rng.chance(0.08) && withinRisk(browse).length > 0 ? browse : model.intents.find((i) => i.name === `${team}.work`);
  const userRoll = rng.next();
  const user = userRoll < 0.08 ? undefined : { id: `u-${rng.int(1, 400)}`, roles: userRoll < 0.18 ? ["admin", "operator"] : userRoll < 0.21 ? ["intern"] : ["operator"] };
  const candidates = withinRisk(intent);
  const out = [];
  let t = start;
  let previous;
  for (let i = 0; i < calls; i++) {
    t += kind === "burst" ? 1000 : rng.int(2500, 6000);
    const looping = kind === "loop" && i >= calls - 5 && previous;
    if (looping || (previous && rng.chance(0.02))) {
      out.push({ ...structuredClone(previous), time: iso(t) });
      continue;
    }
    const odd = rng.chance(0.03);
    const tool = rng.chance(0.01) ? rng.pick(model.tools) : rng.pick(candidates);
    const labelRoll = rng.next();
    const labels = labelRoll < 0.004 ? ["secret"] : labelRoll < 0.1 ? ["pii"] : labelRoll < 0.5 ? ["internal"] : labelRoll < 0.6 ? ["public", "internal"] : [];
    const destRoll = rng.next();
    const context = { labels, env: rng.chance(0.8) ? "prod" : rng.chance(0.75) ? "staging" : "dev" };
    if (destRoll < 0.03) context.destination = { host: rng.pick(["api.partner.example", "evil.example"]), zone: rng.pick(["partner", "external"]) };
    else if (destRoll < 0.3) context.destination = { host: `${rng.pick(["svc", "db", "mail"])}.acme.com`, zone: "internal" };
    const request = { time: iso(t), session: id, agent, intent: intent.name, tool: tool.name, args: argsFor(rng, tool, odd), context };
    if (user) request.user = user;
    previous = request;
    out.push(rng.chance(0.01) ? breakRequest(rng, request, model) : request);
  }
  return out;
}

/**
 * A request mix: `sessions` sessions of about `calls` attempts each, interleaved by time.
 * One session in 32 is a burst (rate-limited), one in 32 ends in a loop.
 */
export function generateRequests(model, { sessions = 64, calls = 32, seed = 7, prefix = "s" } = {}) {
  const rng = prng(seed * 104729 + model.ruleCount);
  const base = Date.UTC(2026, 10, 29, 9, 0, 0);
  const all = [];
  for (let s = 0; s < sessions; s++) {
    const kind = s % 32 === 5 ? "burst" : s % 32 === 17 ? "loop" : "normal";
    const start = base + Math.floor((s * 600000) / Math.max(1, sessions / 8)) + rng.int(0, 5000);
    all.push(...sessionRequests(rng, model, `${prefix}${s}`, start, kind === "burst" ? calls + 4 : calls, kind));
  }
  // Interleave by time (stable for equal times), as an enforcement point's log would be.
  return all.map((r, i) => ({ r, i })).sort((a, b) => (a.r.time < b.r.time ? -1 : a.r.time > b.r.time ? 1 : a.i - b.i)).map((x) => x.r);
}
