import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { absentReadFault } from "../../src/runtime/helpers.js";
import { handEdited } from "../helpers.js";
import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import { loadBundle } from "../../src/bundle/loadBundle.js";
import { compileSources } from "../../src/index.js";
import { analyze } from "../../src/check/analyze.js";
import { compileProgram } from "../../src/compile/compileProgram.js";
import { Engine as EngineClass } from "../../src/runtime/engine.js";
import type { CompiledPolicy } from "../../src/runtime/policy.js";
import type { Decision, Grant } from "../../src/runtime/decision.js";
import type { Engine } from "../../src/runtime/engine.js";
import { explain, type Explanation } from "../../src/runtime/explain.js";
import { decidingSide } from "../../src/runtime/evidence.js";
import { SUPPORT_SOURCES, T0 } from "./fixtures.js";

/**
 * Differential test: the generated JavaScript must decide what the IR interpreter (the
 * reference semantics, reached through `explain`) predicts. For each random request, `explain`
 * runs first (it never changes session state), then `decide`, on the same engine, so both see
 * the same session.
 *
 * How `explain` reports: every rule targeting the tool, in source order, with `matched`
 * true / false / "error". The prediction applies the contract: a deny or ask rule that errors
 * matches (without revoking), an allow rule that errors does not; deny > ask > allow > default deny. The compiled
 * code stops at the first effect group that matched, so errors are predicted only from the
 * groups it evaluates: deny rules always, ask rules when no deny matched, allow rules when
 * neither did, and for an ask the allow rules that grant (their grants are its grantsOnApproval).
 */

/** A policy using every expression form of the language (every IR node; a test below checks). */
export const RICH = `enum Label { public, internal, pii, secret }
enum Zone { internal, partner, external }
type Destination { host: string, zone: Zone }
type Endpoint { url: string, zones: set<Zone> }
agent { id: string, team: string, zone: Zone, attested: bool, clearance: Risk, level: int, since: time, tags: list<string> }
user { id: string, roles: set<string>, email?: string }
context { destination?: Destination, labels: set<Label>, env: string, budget?: duration, deadline?: time }
tool crm.lookup { risk low returns pii args { customer_id: string } }
tool email.send { risk high args { to: list<string>, subject: string, body: string, cc?: list<string> } }
tool http.get { risk medium args { url: string, endpoints?: list<Endpoint> } }
tool kb.search { risk low returns internal args { query: string, pattern?: string, limit?: int } }
tool files.delete { risk critical args { path: string } }
intent support.reply { tools crm.lookup, email.send, kb.* max_risk high }
intent research { tools http.get, kb.* max_risk medium }
intent ops { tools files.*, kb.search max_risk critical }

policy rich {
  allow kb.search when args.query.lower().startsWith("how") or args.query.endsWith("?")
  deny kb.search when args has pattern and args.query like args.pattern reason "pattern"
  ask kb.search when args has limit and args.limit > 50 and args.limit <= 1000
  @name("clearance") allow crm.lookup when agent.clearance >= medium and (intent == support.reply or user.id == "u-1") grant "crm:read" for 5m
  deny email.send when any(r in args.to: email.domain(r) != "acme.com") and session.labels containsAny [pii, secret]
  deny email.send when args has cc and not all(c in args.cc: c like "*@acme.com")
  allow email.send when args.to.size() >= 1 and args.to.size() < 5 and user.roles contains "mailer" grant "mail", "crm:read" for 1m
  ask http.get when url.host(args.url) in ["example.org", "evil.example"] or (context has destination and context.destination.zone > internal)
  allow http.get when tool in intent.tools and tool.risk <= intent.max_risk
  deny http.get when args has endpoints and any(e in args.endpoints: e.zones contains external and not (e.url like "https://*"))
  @name("rate") deny * when session.count(within 10s) > 8 revoke
  deny * when session.count(kb.*, within 5s) >= 4
  ask * when session.called(crm.lookup, within 3s) and tool == email.send
  deny files.delete when not session.called(kb.*) or session.last != kb.search
  allow files.delete when agent.tags containsAll ["ops", "oncall"] and agent.attested and now >= agent.since
  deny * when session.repeats >= 2 and session.denials > 1
  allow * when session.tools contains crm.lookup and session.calls < 8 and session.age < 20s
  deny * when context has deadline and now > context.deadline
  allow kb.search when context has budget and context.budget >= 1m
  deny * when agent.zone in [partner, external] and intent != ops
  deny kb.search when args.query contains "drop"
  allow * when agent.tags == ["a", "b"]
  deny crm.lookup when user.roles containsAny ["banned"] unless agent.attested
  ask * when Label.secret in context.labels or context.labels == [pii, internal]
  deny kb.* when not (intent.tools contains tool)
  allow * when agent.level != 3 and agent.level >= 1 and user.id.size() > 0
  deny * when session.last == "" and agent.level > 5
  ask * when intent == research and session.called(http.get)
  deny email.send when user has email and user.email.endsWith("@evil.example") revoke
  allow crm.lookup when agent.team == "support" unless session.denials >= 2
  deny http.get when ip.inRange(url.host(args.url), ["10.0.0.0/8", "::1/128"]) or ip.inRange(url.host(args.url), "169.254.0.0/16")
}
`;

interface Prediction {
  decision: Decision["decision"];
  rules: string[];
  errorRules: string[];
  revoked: boolean;
  grants: Grant[];
  /** An ask's: undefined for the other effects. */
  grantsOnApproval?: Grant[];
}

/** The union of the rules' grants, each scope with its shortest lifetime. */
function grantsOf(engine: Engine, ids: readonly string[]): Grant[] {
  const grants = new Map<string, number>();
  for (const id of ids) for (const g of engine.rule(id)!.grants) grants.set(g.scope, Math.min(g.ttlSeconds, grants.get(g.scope) ?? Infinity));
  return [...grants].map(([scope, ttlSeconds]) => ({ scope, ttlSeconds }));
}

function predict(engine: Engine, explanation: Explanation): Prediction {
  const byEffect = (effect: string, accept: (m: boolean | "error") => boolean): string[] =>
    explanation.rules.filter((r) => r.effect === effect && accept(r.matched)).map((r) => r.id);
  const failed = (effect: string): string[] => byEffect(effect, (m) => m === "error");
  const deny = byEffect("deny", (m) => m !== false);
  const ask = byEffect("ask", (m) => m !== false);
  const allow = byEffect("allow", (m) => m === true);
  const granting = (id: string): boolean => engine.rule(id)!.grants.length > 0;
  const allowsRun = deny.length > 0 ? [] : ask.length > 0 ? failed("allow").filter(granting) : failed("allow");
  const errorRules = [...failed("deny"), ...(deny.length === 0 ? failed("ask") : []), ...allowsRun];
  // A deny … revoke rule revokes whether it matched or failed (language.md §5).
  const revoking = explanation.rules.filter((r) => r.effect === "deny" && r.matched !== false && engine.rule(r.id)!.revoke);
  if (deny.length > 0) return { decision: "deny", rules: deny, errorRules, revoked: revoking.length > 0, grants: [] };
  if (ask.length > 0) return { decision: "ask", rules: ask, errorRules, revoked: false, grants: [], grantsOnApproval: grantsOf(engine, allow) };
  if (allow.length > 0) return { decision: "allow", rules: allow, errorRules, revoked: false, grants: grantsOf(engine, allow) };
  return { decision: "deny", rules: [], errorRules, revoked: false, grants: [] };
}

/** Decides `requests` in order, comparing each decision with the interpreter's prediction. */
function compare(engine: Engine, requests: readonly unknown[]): void {
  requests.forEach((request, step) => {
    const explanation = explain(engine, request);
    const decision = engine.decide(request);
    const where = `step ${step}: ${JSON.stringify(request)}\n${JSON.stringify(decision)}\n${JSON.stringify(explanation.rules.map((r) => [r.id, r.matched]))}`;
    if (explanation.note !== null) {
      // Decided before any rule ran: invalid request or revoked session.
      expect(explanation.rules, where).toEqual([]);
      expect(decision.decision, where).toBe("deny");
      expect(decision.revoked, where).toBe(explanation.note.includes("revoked"));
      return;
    }
    expectEvidenceAgrees(explanation, where);
    const expected = predict(engine, explanation);
    expect(decision.decision, where).toBe(expected.decision);
    expect(decision.rules, where).toEqual(expected.rules);
    expect(decision.revoked, where).toBe(expected.revoked);
    expect(decision.errors.map((e) => e.slice(0, e.indexOf(": "))), where).toEqual(expected.errorRules);
    const sorted = (grants: readonly Grant[] | undefined): Grant[] | undefined => grants && [...grants].sort((a, b) => a.scope.localeCompare(b.scope));
    expect(sorted(decision.grants), where).toEqual(sorted(expected.grants));
    expect(sorted(decision.decision === "ask" ? decision.grantsOnApproval : undefined), where).toEqual(sorted(expected.grantsOnApproval));
  });
}

/**
 * A clause that is a membership or text test (or `not` of one) has the test's evidence first,
 * with the value the clause has (or its opposite), and a member only where one decides it.
 */
function expectEvidenceAgrees(explanation: Explanation, where: string): void {
  for (const clause of explanation.rules.flatMap((r) => r.clauses)) {
    const text = clause.text.replace(/^unless /, "");
    for (const piece of clause.evidence ?? []) {
      if (piece.kind === "membership" && piece.member !== undefined) expect(decidingSide(piece.operator, piece.value), where).not.toBeNull();
    }
    const first = clause.evidence?.[0];
    if (first === undefined || (first.kind !== "membership" && first.kind !== "text")) continue;
    if (first.text === text) expect(first.value, where).toBe(clause.value);
    if (text === `not (${first.text})` || text === `not ${first.text}`) expect(first.value, where).toBe(!clause.value);
  }
}

/**
 * An engine whose tool functions call every rule of the tool, in source order, and report all
 * that matched (instead of stopping at the first effect that did): its `decision.rules` show
 * each rule's compiled result, to compare rule by rule. Only a probe: every rule is a deny to
 * it (a decision lists the rules of one effect), while each rule's function still fails
 * closed as its own effect says.
 */
function everyRuleEngine(policy: CompiledPolicy): Engine {
  const cut = policy.code.lastIndexOf("\nreturn new Map([");
  expect(cut).toBeGreaterThan(0);
  // Each tool keeps its generated request check (q<N>, in declaration order) and gets a decider
  // that runs every rule instead of stopping at the first effect that matched.
  const entries = Object.keys(policy.schema.tools).map((tool, index) => {
    const calls = policy.rules.flatMap((rule, i) => (rule.tools.includes(tool) ? [`if (r${i}(c)) m.push(${i});`] : []));
    return `  [${JSON.stringify(tool)}, { fits: q${index}, decide: (c) => { const m = []; ${calls.join(" ")} return m.length > 0 ? m : null; } }]`;
  });
  return new EngineClass(handEdited({ ...policy, rules: policy.rules.map((rule) => ({ ...rule, effect: "deny" })), code: `${policy.code.slice(0, cut)}\nreturn new Map([\n${entries.join(",\n")}\n]);\n` }));
}

/** Rule by rule: every rule's compiled result equals the interpreter's (errors counted as the contract says). */
function compareEveryRule(engine: Engine, requests: readonly unknown[], policy: CompiledPolicy): void {
  const effects = new Map(policy.rules.map((rule) => [rule.id, rule.effect]));
  requests.forEach((request, step) => {
    const explanation = explain(engine, request);
    const decision = engine.decide(request);
    if (explanation.note !== null) return;
    const where = `step ${step}: ${JSON.stringify(request)}\n${JSON.stringify(explanation.rules.map((r) => [r.id, r.matched, r.clauses]))}`;
    const matched = explanation.rules.filter((r) => (effects.get(r.id) === "allow" ? r.matched === true : r.matched !== false)).map((r) => r.id);
    expect(decision.rules, where).toEqual(matched);
    expect(decision.errors.map((e) => e.slice(0, e.indexOf(": "))), where).toEqual(explanation.rules.filter((r) => r.matched === "error").map((r) => r.id));
  });
}

// ── Random requests ─────────────────────────────────────────────────────────────────────────

const zone = fc.constantFrom("internal", "partner", "external");
const label = fc.constantFrom("public", "internal", "pii", "secret");
const email = fc.constantFrom("bob@acme.com", "ann@acme.com", "eve@evil.example", "x@gmail.com", "no-at-sign", "@acme.com", "CAPS@ACME.COM");
const query = fc.constantFrom("how to refund", "HOW?", "How it works", "refund?", "drop table", "q", "", "same", "a*b", "kb");
const url = fc.constantFrom("https://example.org/x", "http://evil.example", "https://wiki.acme.com/", "not a url", "ftp://example.org", "http://10.1.2.3/", "http://[::ffff:a9fe:a9fe]/", "http://10.evil.example/", "http://[::1]:8/", "http://a@10.0.0.1/");
const time = (ms: number): string => new Date(T0 + ms).toISOString();
/**
 * An optional value: left out, or sent as null (which the contract reads as absent: `has` is
 * false, a null `user` is no user). Without the nulls a mutation audit found three places where
 * generated code and interpreter could disagree on them unnoticed.
 */
const maybe = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | undefined | null> =>
  fc.oneof({ weight: 4, arbitrary: arb }, { weight: 1, arbitrary: fc.constant(undefined) }, { weight: 1, arbitrary: fc.constant(null) });

/** Occasionally a wrong value, so validation paths are compared too. */
const sometimesWrong = <T>(arb: fc.Arbitrary<T>): fc.Arbitrary<T | number | null | string[]> =>
  fc.oneof({ weight: 30, arbitrary: arb }, { weight: 1, arbitrary: fc.constantFrom(7, null, ["x"]) });

const richArgs: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  "crm.lookup": fc.record({ customer_id: sometimesWrong(fc.constantFrom("42", "7")) }),
  "email.send": fc.record({ to: fc.array(email, { maxLength: 6 }), subject: fc.constant("s"), body: fc.constant("b"), cc: maybe(fc.array(email, { maxLength: 3 })) }, { requiredKeys: ["to", "subject", "body"] }),
  "http.get": fc.record(
    { url, endpoints: maybe(fc.array(fc.record({ url, zones: fc.uniqueArray(zone, { maxLength: 3 }) }), { maxLength: 3 })) },
    { requiredKeys: ["url"] },
  ),
  "kb.search": fc.record({ query: sometimesWrong(query), pattern: maybe(fc.constantFrom("*", "how*", "*?", "drop*", "q")), limit: maybe(fc.constantFrom(10, 51, 1000, 1001)) }, { requiredKeys: ["query"] }),
  "files.delete": fc.record({ path: fc.constantFrom("/tmp/x", "/etc/passwd") }),
};

const richAgent = fc.record({
  id: fc.constant("spiffe://acme.com/agents/bot"),
  team: fc.constantFrom("support", "ops", "research"),
  zone: sometimesWrong(zone),
  attested: fc.boolean(),
  clearance: fc.constantFrom("low", "medium", "high", "critical"),
  level: fc.integer({ min: 0, max: 7 }),
  since: fc.constantFrom(time(-1000), time(5000), time(3_600_000)),
  tags: fc.oneof(fc.constant(["a", "b"]), fc.constant(["b", "a"]), fc.constant(["ops", "oncall", "x"]), fc.constant(["ops"]), fc.constant([])),
});

const richUser = maybe(fc.record({ id: fc.constantFrom("u-1", ""), roles: fc.uniqueArray(fc.constantFrom("mailer", "banned", "admin"), { maxLength: 2 }), email: maybe(email) }, { requiredKeys: ["id", "roles"] }));

const richContext = fc.record(
  {
    labels: fc.oneof(fc.uniqueArray(label, { maxLength: 3 }), fc.constant(["pii", "internal"]), fc.constant(["internal", "pii"])),
    env: fc.constant("prod"),
    destination: maybe(fc.record({ host: fc.constant("h"), zone })),
    budget: maybe(fc.constantFrom(1000, 60_000, 120_000)),
    deadline: maybe(fc.constantFrom(time(2000), time(60_000))),
  },
  { requiredKeys: ["labels", "env"] },
);

const richTool = fc.constantFrom("crm.lookup", "email.send", "http.get", "kb.search", "kb.search", "files.delete");

/** One request: `tool`'s args; the time is filled in by `sequence`. */
const richRequest = richTool.chain((tool) =>
  fc.record({
    session: fc.constantFrom("s1", "s1", "s2"),
    tool: fc.oneof({ weight: 40, arbitrary: fc.constant(tool) }, { weight: 1, arbitrary: fc.constant("kb.unknown") }),
    agent: richAgent,
    user: richUser,
    intent: fc.oneof({ weight: 3, arbitrary: fc.constantFrom("support.reply", "research", "ops") }, { weight: 1, arbitrary: fc.constantFrom(undefined, null, "nope") }),
    args: richArgs[tool]!,
    context: richContext,
  }),
);

/** Requests in time order: each 0–3 s after the previous, so windows and ages vary. */
function sequence<T extends Record<string, unknown>>(request: fc.Arbitrary<T>): fc.Arbitrary<Record<string, unknown>[]> {
  return fc.array(fc.tuple(request, fc.constantFrom(0, 500, 1000, 3000)), { minLength: 1, maxLength: 14 }).map((steps) => {
    let ms = 0;
    return steps.map(([r, gap]) => {
      ms += gap;
      return { ...stripUndefined(r), time: time(ms) };
    });
  });
}

function stripUndefined(value: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
}

// The support policy's requests, over the contract's declarations.
const supportArgs: Record<string, fc.Arbitrary<Record<string, unknown>>> = {
  "crm.lookup": fc.record({ customer_id: fc.constantFrom("42", "7") }),
  "email.send": fc.record({ to: sometimesWrong(fc.array(email, { maxLength: 3 })), subject: fc.constant("s"), body: fc.constant("b") }),
  "http.get": fc.record({ url }),
  "kb.search": fc.record({ query: fc.constantFrom("same", "other") }),
};
const supportRequest = fc.constantFrom("crm.lookup", "email.send", "http.get", "kb.search", "kb.search").chain((tool) =>
  fc.record({
    session: fc.constantFrom("s1", "s1", "s2"),
    tool: fc.constant(tool),
    agent: fc.record({ id: fc.constant("a"), team: fc.constantFrom("support", "sales"), zone, attested: fc.boolean() }),
    user: maybe(fc.record({ id: fc.constant("u"), roles: fc.constant([]) })),
    intent: fc.constantFrom("support.reply", "research", undefined),
    args: supportArgs[tool]!,
    context: fc.record({ labels: fc.uniqueArray(label, { maxLength: 2 }), env: fc.constant("prod"), destination: maybe(fc.record({ host: fc.constant("h"), zone })) }, { requiredKeys: ["labels", "env"] }),
  }),
);

/** Compiled once; each run gets a fresh engine (fresh sessions) over it. */
function compiled(sources: readonly { path: string; text: string }[]): CompiledPolicy {
  const { policy, diagnostics } = compileSources(sources);
  if (!policy) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return policy;
}

describe("compiled decisions equal the IR interpreter's", () => {
  const richSources = [{ path: "rich.policy", text: RICH }];
  const rich = compiled(richSources);
  const support = compiled(SUPPORT_SOURCES);
  const bundled = loadBundle(JSON.parse(serializeBundle(createBundle(rich, richSources)))).policy;
  const fresh = (policy: CompiledPolicy): Engine => new EngineClass(policy);

  it("the rich policy uses every IR node", () => {
    const engine = fresh(rich);
    const ops = new Set<string>();
    const walk = (node: unknown): void => {
      if (node === null || typeof node !== "object") return;
      if (Array.isArray(node)) return node.forEach(walk);
      const record = node as Record<string, unknown>;
      if (typeof record["op"] === "string") ops.add(record["op"]);
      Object.values(record).forEach(walk);
    };
    engine.rules.forEach((r) => walk(r.ir));
    const ALL = ["const", "list", "root", "tool", "toolRisk", "intent", "intentTools", "intentMaxRisk", "now", "local", "get", "has", "not", "and", "or", "compare", "enumRank", "in", "contains", "containsAny", "containsAll", "like", "quantifier", "session", "count", "called", "method", "call", "ipInRange"];
    expect([...ops].sort()).toEqual([...ALL].sort());
  });

  it("for random request sequences against the support policy", () => {
    fc.assert(
      fc.property(sequence(supportRequest), (requests) => {
        compare(fresh(support), requests);
      }),
      { numRuns: 200 },
    );
  });

  it("for random request sequences against a policy using every expression form", () => {
    fc.assert(
      fc.property(sequence(richRequest), (requests) => {
        compare(fresh(rich), requests);
      }),
      { numRuns: 300 },
    );
  });

  it("rule by rule, for random request sequences against the rich policy", () => {
    fc.assert(
      fc.property(sequence(richRequest), (requests) => {
        compareEveryRule(everyRuleEngine(rich), requests, rich);
      }),
      { numRuns: 300 },
    );
  });

  it("the same through a bundle", () => {
    fc.assert(
      fc.property(sequence(richRequest), (requests) => {
        compare(fresh(bundled), requests);
      }),
      { numRuns: 100 },
    );
  });

  it("for random request sequences against a tool of over 1,500 rules (its dispatcher in chunks), inlined or rule by rule", () => {
    // The rich policy 84 times over: kb.search has 18 rules in each copy.
    const body = RICH.slice(RICH.indexOf("policy rich {") + "policy rich {".length, RICH.lastIndexOf("}"));
    const copies = Array.from({ length: 84 }, (_, k) => `policy rich${k} {${body.replace(/@name\("(\w+)"\)/g, `@name("$1${k}")`)}}\n`);
    const many = compiled([{ path: "rich.policy", text: RICH.slice(0, RICH.indexOf("policy rich {")) + copies.join("") }]);
    expect(many.rules.filter((rule) => rule.tools.includes("kb.search")).length).toBeGreaterThan(1500);
    expect(many.code).toMatch(/^function t\d+_\d+\(c, m\)/m);
    const ruleByRule = handEdited({ ...many, code: many.code.replace(/^function t(\d+)\(c\) \{/gm, "function t$1(c) { return s$1(c);") });
    fc.assert(
      fc.property(sequence(richRequest), (requests) => {
        compare(fresh(many), requests);
        compare(fresh(ruleByRule), requests);
      }),
      { numRuns: 15 },
    );
  });

  it("for text tests in quantifiers that run over their rule's budget of characters, or just stay within it", () => {
    // A megabyte body read about 100 times: the budget (100,000,000 characters) runs out on the
    // 100th or 101st search, and the first element that settles a quantifier may come before.
    const scans = compiled([
      {
        path: "scans.policy",
        text: `tool t { risk low args { body: string, words: list<string>, flag: bool } }
policy scans {
  deny t when any(w in args.words: args.body contains w) and args.flag
  ask t when args.flag or any(w in args.words: w == "stop" or args.body like w)
  allow t when all(w in args.words: not args.body.startsWith(w) or w == "x")
  allow t when any(w in args.words: args.body.endsWith(w)) and any(w in args.words: args.body like "*y*")
  deny t when any(w in args.words: args.body like "x*y*x") unless args.flag
}
`,
      },
    ]);
    const request = fc.record({
      length: fc.constantFrom(10, 999_999, 1_000_000, 1_000_001),
      count: fc.constantFrom(0, 1, 99, 100, 101, 140),
      // No filler starts with x: searching the body of x for one reads it fast (the budget is what counts).
      filler: fc.constantFrom("y", "yx", "*y*", "y*", "*yx", "y*x*y", "zz"),
      special: fc.constantFrom("x", "stop", "*x*", "xx*", "x*x"),
      at: fc.nat(150),
      flag: fc.boolean(),
    });
    let over = 0;
    fc.assert(
      fc.property(fc.array(request, { minLength: 1, maxLength: 3 }), (steps) => {
        const requests = steps.map(({ length, count, filler, special, at, flag }, i) => ({
          session: "s",
          tool: "t",
          time: time(i * 1000),
          args: { body: "x".repeat(length), words: Array.from({ length: count }, (_, k) => (k === at ? special : filler)), flag },
        }));
        compare(fresh(scans), requests);
        compareEveryRule(everyRuleEngine(scans), requests, scans);
        const engine = fresh(scans);
        for (const r of requests) if (engine.decide(r).errors.some((e) => e.includes("100,000,000 characters"))) over++;
      }),
      { numRuns: 40, seed: 7 },
    );
    // Control: the requests do run over the budget, often.
    expect(over).toBeGreaterThan(5);
  });

  it("for sessions whose labels ran past the room they have, read every way", () => {
    const labelled = compiled([
      {
        path: "labels.policy",
        text: `context { labels: set<string> }
tool u { risk low returns internal args { n: int } }
tool t { risk low args { flag: bool, l: string } }
policy labels {
  allow u
  deny t when session.labels contains "a-1" and args.flag
  ask t when args.l in session.labels or session.labels contains "internal"
  allow t when session.labels.size() < 60 or args.flag
  deny t when any(x in session.labels: x == args.l) unless args.flag
  allow t when session.labels containsAny ["b-3", args.l] and not (session.labels contains args.l)
}
`,
      },
    ]);
    const step = fc.oneof(
      fc.record({ tool: fc.constant("u"), args: fc.record({ n: fc.nat(3) }), context: fc.record({ labels: fc.tuple(fc.constantFrom("a", "b", "c"), fc.constantFrom(1, 5, 40, 130)).map(([prefix, n]) => Array.from({ length: n }, (_, i) => `${prefix}-${i}`.padEnd(i % 3 === 0 ? 3 : 32, "_"))) }) }),
      fc.record({ tool: fc.constant("t"), args: fc.record({ flag: fc.boolean(), l: fc.constantFrom("a-1", "b-3", "internal", "zz", "c-0") }), context: fc.constant({ labels: [] }) }),
    );
    let dropped = 0;
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 10 }), (steps) => {
        const requests = steps.map((r, i) => ({ ...r, session: "s", time: time(i * 1000) }));
        compare(fresh(labelled), requests);
        compareEveryRule(everyRuleEngine(labelled), requests, labelled);
        const engine = fresh(labelled);
        for (const r of requests) if (engine.decide(r).errors.some((e) => e.includes("session.labels: the session's calls carried more than 4,096 characters of labels"))) dropped++;
      }),
      { numRuns: 150, seed: 7 },
    );
    // Control: sessions do run past their room for labels, and tests of their labels fail.
    expect(dropped).toBeGreaterThan(5);
  });

  it("for reads through absent optional records that slipped past the checker (its PC303 bypassed)", () => {
    // The checker demands a `has` guard before such a read; were one ever missed (as a shadowed
    // quantifier variable once inherited its outer namesake's guard), the compiled code must still
    // fail closed as the interpreter does, not read the absent record's fields as absent.
    const text = `${RICH.slice(0, RICH.indexOf("policy rich {"))}
policy unguarded {
  allow *
  ask http.get when context.destination.zone == external
  deny kb.search when context.destination.host == "h" revoke
  deny http.get when args has endpoints and any(e in args.endpoints: e has url and all(e in args.endpoints: context.destination.zone != internal))
  deny crm.lookup when user.email.size() > 3 and context.destination.zone > internal
  ask email.send when any(x in [context]: x has destination and all(x in [context]: x.destination.zone == partner))
}
`;
    const analysis = analyze([{ path: "unguarded.policy", text }]);
    expect(analysis.diagnostics.filter((d) => d.severity === "error").map((d) => d.code)).toContain("PC303");
    const unguarded = compileProgram(analysis.program!);
    let failed = 0;
    fc.assert(
      fc.property(sequence(richRequest), (requests) => {
        compare(fresh(unguarded), requests);
        compareEveryRule(everyRuleEngine(unguarded), requests, unguarded);
        const engine = fresh(unguarded);
        for (const r of requests) if (engine.decide(r).errors.some((e) => e.includes("the value it belongs to is absent"))) failed++;
      }),
      { numRuns: 150, seed: 7 },
    );
    // Control: the reads do meet absent records.
    expect(failed).toBeGreaterThan(5);
  });

  it("for values of a missing user read inside quantifiers, where another term settles the rule (review r4 R1)", () => {
    // `[user.home]` with no user holds the stand-in's absent value: the read of its `zone` is an
    // evaluation error, as in the interpreter, which a later (or earlier) term of an `and` / `or`
    // or another element of a quantifier settles. It once threw, and the whole rule failed closed
    // (and again one level down, through a variable bound to a list literal's element: review r4b).
    // `agent.home.host` is read as it stands: validation made the required record present.
    const text = `enum Zone { internal, partner, external }
type Destination { host: string, zone: Zone }
agent { id: string, home: Destination }
user { id: string, home: Destination }
tool t.x { risk high args { n: int } }
intent support.reply { tools t.x max_risk high }
policy absent {
  allow t.x when any(x in [user.home]: x.zone == internal) or args.n > 3
  allow t.x when args.n > 3 or any(u in [user]: u.home.zone == internal)
  deny t.x when any(x in [user.home, agent.home]: x.zone == partner) and args.n > 100
  deny t.x when args.n > 100 and all(x in [agent.home, user.home]: x.zone != internal)
  ask t.x when not any(x in [user.home]: x.zone == external) and args.n == 50
  ask t.x when not (any(x in [user.home]: x.zone == external) or args.n != 7)
  allow t.x when any(x in [user.home, agent.home]: x.zone == internal or args.n == 1)
  deny t.x when any(x in [user.home]: any(y in [x, x]: y.zone == external) and args.n == 2)
  deny t.x when all(u in [user]: u.home.zone == external) or args.n == 8 revoke
  allow t.x when any(l in [[user.home, agent.home]]: any(h in l: h.zone == internal)) or args.n > 3
  deny t.x when any(l in [[user.home, agent.home]]: any(h in l: h.zone == internal)) and args.n > 100
  deny t.x when agent.home.host == "h" and any(x in [user.home]: x.host == "h") and args.n == 5
}
`;
    const policy = compiled([{ path: "absent.policy", text }]);
    const destination = fc.record({ host: fc.constant("h"), zone });
    const request = fc.record({
      session: fc.constantFrom("s1", "s2"),
      tool: fc.constant("t.x"),
      intent: fc.constant("support.reply"),
      agent: fc.record({ id: fc.constant("a"), home: destination }),
      user: maybe(fc.record({ id: fc.constant("u"), home: destination })),
      args: fc.record({ n: fc.constantFrom(0, 1, 2, 5, 7, 8, 50, 200) }),
      context: fc.constant({}),
    });
    let settled = 0;
    fc.assert(
      fc.property(sequence(request), (requests) => {
        compare(fresh(policy), requests);
        compareEveryRule(everyRuleEngine(policy), requests, policy);
        const engine = everyRuleEngine(policy);
        for (const r of requests) {
          const decision = engine.decide(r);
          if (r.user == null && decision.rules.includes("absent/1") && !decision.errors.some((e) => e.startsWith("absent/1:"))) settled++;
        }
      }),
      { numRuns: 200, seed: 11 },
    );
    // Control: without a user, the first rule matches through the term that settles it.
    expect(settled).toBeGreaterThan(5);
  });

  it("for ip.inRange of a value that is no bare host, where another term, an `unless` or a later element settles the rule (audit s20 a5 #1)", () => {
    // ip.inRange of a URL or an address with `@` is an evaluation error. The generated code once
    // threw it, so the whole rule failed closed: a false term no longer settled its `and`, a
    // true `unless` no longer settled the rule, and an `any` missed a later element that holds.
    const text = `tool t.x { risk high args { s: string, to: list<string>, n: int } }
policy ranges {
  @name("ok") allow t.x when args.n == 0
  @name("and") deny t.x when ip.inRange(args.s, "10.0.0.0/8") and args.n > 100
  @name("unless") deny t.x when ip.inRange(args.s, "10.0.0.0/8") unless args.n == 0
  @name("or") ask t.x when args.n == 7 or ip.inRange(args.s, ["10.0.0.0/8", "::1/128"])
  @name("any") allow t.x when any(r in args.to: ip.inRange(r, "10.0.0.0/8"))
  @name("all") deny t.x when all(r in args.to: not ip.inRange(r, "10.0.0.0/8")) and args.n == 5
  @name("not") deny t.x when not ip.inRange(args.s, "10.0.0.0/8") and args.n == 9 revoke
}
`;
    const policy = compiled([{ path: "ranges.policy", text }]);
    const host = fc.constantFrom("10.0.0.1", "192.168.1.1", "http://10.0.0.1/", "a@10.0.0.1", "10.0.0.1/x", "a@acme.com", "[::1]", "name.example", "x".repeat(300));
    const request = fc.record({
      session: fc.constantFrom("s1", "s2"),
      tool: fc.constant("t.x"),
      args: fc.record({ s: host, to: fc.array(host, { maxLength: 3 }), n: fc.constantFrom(0, 1, 5, 7, 9, 200) }),
    });
    fc.assert(
      fc.property(sequence(request), (requests) => {
        compare(fresh(policy), requests);
        compareEveryRule(everyRuleEngine(policy), requests, policy);
      }),
      { numRuns: 300, seed: 20 },
    );
    // The three shapes of the audit, each alone, decided through Engine.decide: the call is allowed by `ok`.
    const decided = (rules: string, args: Record<string, unknown>): Decision =>
      fresh(compiled([{ path: "shape.policy", text: `tool t.x { risk high args { s: string, to: list<string>, n: int } }\npolicy shape {\n${rules}\n}\n` }])).decide({ session: "s", tool: "t.x", args });
    const andSettled = decided('@name("ok") allow t.x\n@name("d") deny t.x when ip.inRange(args.s, "10.0.0.0/8") and args.n > 100', { s: "http://10.0.0.1/", to: [], n: 0 });
    expect(andSettled).toMatchObject({ decision: "allow", rules: ["ok"], errors: [] });
    const unlessSettled = decided('@name("ok") allow t.x\n@name("d") deny t.x when ip.inRange(args.s, "10.0.0.0/8") unless args.n == 0', { s: "a@10.0.0.1", to: [], n: 0 });
    expect(unlessSettled).toMatchObject({ decision: "allow", rules: ["ok"], errors: [] });
    const laterElement = decided('@name("ok") allow t.x when any(r in args.to: ip.inRange(r, "10.0.0.0/8"))', { s: "", to: ["a@acme.com", "10.0.0.1"], n: 0 });
    expect(laterElement).toMatchObject({ decision: "allow", rules: ["ok"], errors: [] });
  });

  it("reads required fields of required records as they stand: validation made them present, so no fault check and no three-valued path (review r4b F2)", () => {
    const text = `type Destination { host: string, zone?: string }
type Target { name: string }
agent { id: string, home: Destination }
tool t.x { risk high args { a: Target, n: int } }
policy required {
  deny t.x when agent.home.host == "h" and args.a.name == "g" and args.n > 3
  deny t.x when (agent.home has zone and agent.home.zone == "z") or args.n > 9
  allow t.x
}
`;
    const policy = compiled([{ path: "required.policy", text }]);
    expect(policy.code).not.toContain(JSON.stringify(absentReadFault("host")).slice(1, -1));
    // `args.a.name` too, in its tool's dispatcher; the rule's own function, the fallback, does
    // not know the tool there, so it checks.
    expect(policy.code.split(JSON.stringify(absentReadFault("name")).slice(1, -1)).length - 1).toBe(1);
    // …where the rule cannot fail either: the dispatcher tests it plainly; only the rule's own function names it to a fault.
    expect(policy.code.split('"required/1: "').length - 1).toBe(1);
    // A guarded optional field of a present record is read as it stands too.
    expect(policy.code).not.toContain(JSON.stringify(absentReadFault("zone")).slice(1, -1));
    const engine = fresh(policy);
    expect(engine.decide({ session: "s", tool: "t.x", agent: { id: "a", home: { host: "h" } }, args: { a: { name: "g" }, n: 5 } })).toMatchObject({ decision: "deny", rules: ["required/1"], errors: [] });
  });

  it("the generators reach every effect, errors and revocations (control)", () => {
    const seen = new Set<string>();
    fc.assert(
      fc.property(sequence(richRequest), (requests) => {
        const engine = fresh(rich);
        for (const request of requests) {
          const d = engine.decide(request);
          seen.add(d.decision);
          if (d.errors.length > 0 && d.rules.length > 0) seen.add("error");
          if (d.revoked) seen.add("revoked");
          if (d.grants.length > 0) seen.add("grants");
          if (d.decision === "ask" && d.grantsOnApproval.length > 0) seen.add("grantsOnApproval");
          if (d.decision === "ask" && d.errors.some((e) => engine.rule(e.slice(0, e.indexOf(": ")))?.effect === "allow")) seen.add("ask with an allow's error");
        }
      }),
      { numRuns: 300, seed: 42 },
    );
    expect([...seen].sort()).toEqual(["allow", "ask", "ask with an allow's error", "deny", "error", "grants", "grantsOnApproval", "revoked"]);
  });
});
