import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import type { Decision, Grant } from "../../src/runtime/decision.js";
import { explain } from "../../src/runtime/explain.js";
import { AGENT, at, call, engineWith, likeReference as reference, request, USER } from "./fixtures.js";

/**
 * How a decision is made (language contract, section 5): most restrictive effect wins,
 * default deny, the winning rules with reasons and locations, grants, revocation,
 * validation before any rule, and failing closed on evaluation errors.
 */

/** Rules whose conditions are switched by the request's `context.env`, so one policy shows every outcome. */
const LADDER = [
  '  deny kb.search when context.env == "deny" reason "deny wins"',
  '  ask kb.search when context.env == "deny" or context.env == "ask" reason "ask next"',
  '  allow kb.search when context.env != "none"',
].join("\n");

function env(value: string, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return request({ context: { labels: [], env: value }, ...overrides });
}

describe("combining effects", () => {
  it("deny beats ask beats allow; nothing matched is a default deny", () => {
    const engine = engineWith(LADDER);
    expect(engine.decide(env("deny"))).toMatchObject({ decision: "deny", rules: ["p/1"], reasons: ["deny wins"] });
    expect(engine.decide(env("ask", { session: "s2" }))).toMatchObject({ decision: "ask", rules: ["p/2"], reasons: ["ask next"] });
    expect(engine.decide(env("allow", { session: "s3" }))).toMatchObject({ decision: "allow", rules: ["p/3"] });
    expect(engine.decide(env("none", { session: "s4" }))).toEqual({
      decision: "deny",
      rules: [],
      reasons: ["no rule allows kb.search"],
      locations: [],
      grants: [],
      revoked: false,
      errors: [],
    });
  });

  it("does not depend on the order of rules in the source", () => {
    const reversed = engineWith(LADDER.split("\n").reverse().join("\n"));
    expect(reversed.decide(env("deny")).decision).toBe("deny");
    expect(reversed.decide(env("ask", { session: "s2" })).decision).toBe("ask");
    expect(reversed.decide(env("allow", { session: "s3" })).decision).toBe("allow");
  });

  it("a tool no rule targets is denied by default, naming the tool", () => {
    const engine = engineWith("  allow kb.search");
    const decision = engine.decide(call("crm.lookup", 0));
    expect(decision.decision).toBe("deny");
    expect(decision.reasons).toEqual(["no rule allows crm.lookup"]);
    expect(decision.rules).toEqual([]);
  });

  it("lists every matched rule of the winning effect, with reasons and locations, and none of the others", () => {
    const engine = engineWith(
      [
        '  @name("first") deny kb.search when agent.team == "support" reason "one"',
        '  deny kb.search when agent.team == "nobody" reason "not matched"',
        "  deny kb.*, email.send when agent.attested",
        "  ask kb.search",
        "  allow kb.search",
      ].join("\n"),
    );
    const decision = engine.decide(request());
    expect(decision.decision).toBe("deny");
    expect(decision.rules).toEqual(["first", "p/3"]);
    expect(decision.reasons[0]).toBe("one");
    expect(decision.reasons[1]).toContain("p/3"); // no reason written: a default one naming the rule
    expect(decision.locations).toEqual(["t.policy:2:18", "t.policy:4:3"]);
  });

  it("a rule listing a tool twice (by name and by pattern) is reported once", () => {
    const engine = engineWith("  allow kb.search, kb.*, * grant \"kb\" for 1m");
    const decision = engine.decide(request());
    expect(decision.rules).toEqual(["p/1"]);
    expect(decision.grants).toEqual([{ scope: "kb", ttlSeconds: 60 }]);
  });
});

describe("grants", () => {
  const engine = engineWith(
    [
      '  allow kb.search grant "kb:read", "shared" for 5m',
      '  allow kb.search when agent.attested grant "shared", "audit" for 1m',
      '  allow kb.search when agent.team == "nobody" grant "never" for 1h',
      '  ask kb.search when context.env == "ask"',
    ].join("\n"),
  );

  it("are the union of the matched allow rules; a scope granted twice keeps the shorter ttl", () => {
    const decision = engine.decide(request());
    expect(decision.decision).toBe("allow");
    expect(decision.rules).toEqual(["p/1", "p/2"]);
    const byScope = Object.fromEntries(decision.grants.map((g) => [g.scope, g.ttlSeconds]));
    expect(byScope).toEqual({ "kb:read": 300, shared: 60, audit: 60 });
    expect(decision.grants).toHaveLength(3);
  });

  it("come only with allow", () => {
    expect(engine.decide(env("ask")).grants).toEqual([]);
  });

  it("are not shared state: changing a returned grant does not change the next decision", () => {
    const first = engine.decide(request({ session: "g1" }));
    try {
      (first.grants[0] as { ttlSeconds: number }).ttlSeconds = 999_999;
    } catch {
      // frozen is fine too
    }
    const second = engine.decide(request({ session: "g2" }));
    expect(second.grants.find((g) => g.scope === "kb:read")?.ttlSeconds).toBe(300);
  });
});

describe("grants on approval", () => {
  // Reads are allowed with a short credential; some need a person's approval first.
  const engine = engineWith(
    [
      '  allow kb.search grant "kb:read", "shared" for 5m',
      '  allow kb.search when agent.attested grant "shared", "audit" for 1m',
      '  allow kb.search when agent.team == "nobody" grant "never" for 1h',
      '  @name("big") ask kb.search when context.env == "ask" reason "needs a person"',
      '  deny kb.search when context.env == "deny"',
    ].join("\n"),
  );
  const byScope = (grants: readonly Grant[]): Record<string, number> => Object.fromEntries(grants.map((g) => [g.scope, g.ttlSeconds]));
  const onApproval = (decision: Decision): readonly Grant[] => {
    if (decision.decision !== "ask") throw new Error(`expected an ask, got ${JSON.stringify(decision)}`);
    return decision.grantsOnApproval;
  };

  it("an ask carries the grants of the allow rules that matched, each scope with its shorter lifetime; it grants nothing itself", () => {
    const decision = engine.decide(env("ask"));
    expect(decision).toMatchObject({ decision: "ask", rules: ["big"], reasons: ["needs a person"], locations: ["t.policy:5:16"], grants: [], revoked: false, errors: [] });
    expect(byScope(onApproval(decision))).toEqual({ "kb:read": 300, shared: 60, audit: 60 });
    expect(onApproval(decision)).toHaveLength(3);
    // The approved call is the same request: it goes ahead with those credentials.
    expect(engine.approved(env("ask"))).toBe(true);
  });

  it("are only those of the allow rules that match the request", () => {
    const decision = engine.decide(env("ask", { session: "unattested", agent: { ...AGENT, attested: false } }));
    expect(onApproval(decision)).toEqual([{ scope: "kb:read", ttlSeconds: 300 }, { scope: "shared", ttlSeconds: 300 }]);
    // Named by the ids of the allow rules that gave them: not the one whose agent did not match.
    expect(decision.decision === "ask" && decision.grantingRules).toEqual(["p/1"]);
  });

  it("are empty when no allow rule that grants matched", () => {
    const asking = engineWith(['  ask kb.search', '  allow kb.search when agent.team == "nobody" grant "never" for 1h', "  allow kb.search"].join("\n"));
    expect(asking.decide(request())).toMatchObject({ decision: "ask", grants: [], grantsOnApproval: [], grantingRules: [], errors: [] });
    expect(engineWith("  ask kb.search").decide(request())).toMatchObject({ decision: "ask", grantsOnApproval: [] });
  });

  it("an allow rule whose condition fails gives nothing, and its error is reported with the ask", () => {
    const asking = engineWith(['  @name("mine") allow kb.search when user.id == "u-7" grant "mine" for 1m', '  allow kb.search grant "kb:read" for 5m', "  ask kb.search"].join("\n"));
    const decision = asking.decide(request({ user: null }));
    expect(decision).toMatchObject({ decision: "ask", rules: ["p/3"], grants: [] });
    expect(onApproval(decision)).toEqual([{ scope: "kb:read", ttlSeconds: 300 }]);
    expect(decision.errors).toEqual(["mine: the request has no user"]);
    // With the user, the same rule grants.
    expect(byScope(onApproval(asking.decide(request({ session: "with-user" }))))).toEqual({ mine: 60, "kb:read": 300 });
  });

  it("only allow rules that grant are evaluated for an ask: one without grants that fails is not reported", () => {
    const asking = engineWith(['  allow kb.search when user.id == "u-7"', "  ask kb.search"].join("\n"));
    expect(asking.decide(request({ user: null }))).toMatchObject({ decision: "ask", grantsOnApproval: [], errors: [] });
  });

  it("allow and deny decisions have none", () => {
    const allowed = engine.decide(env("allow", { session: "a" }));
    const denied = engine.decide(env("deny", { session: "d" }));
    expect(allowed.decision).toBe("allow");
    expect(denied).toMatchObject({ decision: "deny", grants: [] });
    expect("grantsOnApproval" in allowed).toBe(false);
    expect("grantsOnApproval" in denied).toBe(false);
  });

  it("are shared and frozen: changing a returned one does not change the next decision", () => {
    const first = engine.decide(env("ask", { session: "f1" }));
    expect(Object.isFrozen(onApproval(first))).toBe(true);
    expect(onApproval(first).every((g) => Object.isFrozen(g))).toBe(true);
    try {
      (onApproval(first)[0] as { ttlSeconds: number }).ttlSeconds = 999_999;
    } catch {
      // frozen: strict-mode code throws
    }
    const second = engine.decide(env("ask", { session: "f2" }));
    expect(second).toBe(first);
    expect(byScope(onApproval(second))["kb:read"]).toBe(300);
  });

  it("also for a tool with more rules than fit a bit mask", () => {
    const many = Array.from({ length: 31 }, (_, i) => `  allow kb.search when args.query == "q${i}"`);
    const asking = engineWith([...many, '  allow kb.search when args.query == "q" grant "kb:read" for 5m', '  allow kb.search grant "kb:read", "all" for 2m', '  ask kb.search when context.env == "ask"'].join("\n"));
    expect(onApproval(asking.decide(env("ask")))).toEqual([{ scope: "kb:read", ttlSeconds: 120 }, { scope: "all", ttlSeconds: 120 }]);
    expect(asking.decide(env("ask", { session: "s2" })).rules).toEqual(["p/34"]);
    expect(asking.decide(env("allow", { session: "s3" }))).toMatchObject({ decision: "allow", grants: [{ scope: "kb:read", ttlSeconds: 120 }, { scope: "all", ttlSeconds: 120 }] });
  });
});

describe("revoke", () => {
  const rules = [
    '  @name("kill") deny kb.search when args.query == "rm -rf" reason "destructive" revoke',
    '  deny kb.search when args.query == "bad" reason "plain deny"',
    "  allow kb.search, crm.lookup",
  ].join("\n");

  it("a matched deny with revoke revokes the session; every later attempt is denied by that rule", () => {
    const engine = engineWith(rules);
    expect(engine.decide(call("kb.search", 0)).decision).toBe("allow");
    const revoking = engine.decide(call("kb.search", 1000, { args: { query: "rm -rf" } }));
    expect(revoking).toMatchObject({ decision: "deny", rules: ["kill"], reasons: ["destructive"], revoked: true });
    for (const later of [call("kb.search", 2000), call("crm.lookup", 3000), call("email.send", 4000), { session: "s", tool: "no.such.tool" }]) {
      const decision = engine.decide(later);
      expect(decision).toMatchObject({ decision: "deny", rules: ["kill"], reasons: ["destructive"], revoked: true, grants: [] });
      expect(decision.locations).toEqual(["t.policy:2:17"]);
    }
    // Other sessions are untouched.
    expect(engine.decide(call("kb.search", 5000, { session: "other" }))).toMatchObject({ decision: "allow", revoked: false });
  });

  it("a deny without revoke does not revoke", () => {
    const engine = engineWith(rules);
    expect(engine.decide(call("kb.search", 0, { args: { query: "bad" } }))).toMatchObject({ decision: "deny", revoked: false });
    expect(engine.decide(call("kb.search", 1000)).decision).toBe("allow");
  });

  it("revokes even when a deny rule without revoke matched alongside", () => {
    const engine = engineWith(['  deny kb.search reason "always"', '  @name("kill") deny kb.search when agent.attested revoke'].join("\n"));
    expect(engine.decide(request())).toMatchObject({ decision: "deny", rules: ["p/1", "kill"], revoked: true });
    expect(engine.decide(request({ time: at(1) }))).toMatchObject({ rules: ["kill"], revoked: true });
  });
});

describe("validation before rules", () => {
  // `deny *` with an always-erroring condition would show if rules ran; they must not.
  const engine = engineWith("  allow *");

  function denied(input: unknown, ...fragments: string[]): Decision {
    const decision = engine.decide(input);
    expect(decision.decision, JSON.stringify(decision)).toBe("deny");
    expect(decision.rules).toEqual([]);
    expect(decision.grants).toEqual([]);
    expect(decision.errors.length).toBeGreaterThan(0);
    // The detail is in `errors`; `reasons` (what the agent is told) may leave out values the enforcement point set.
    for (const fragment of fragments) expect(decision.errors.join(" "), JSON.stringify(decision)).toContain(fragment);
    return decision;
  }

  it("a valid request is allowed (control)", () => {
    expect(engine.decide(request()).decision).toBe("allow");
    for (const tool of ["crm.lookup", "email.send", "http.get", "kb.search"]) expect(engine.decide(call(tool, 0)).decision, tool).toBe("allow");
  });

  it("denies a request that is not an object", () => {
    for (const input of [null, undefined, 42, "kb.search", true, [], [request()]]) denied(input, "object");
  });

  it("denies a request without a session or a tool", () => {
    denied({ ...request(), session: undefined }, "request.session");
    denied({ ...request(), session: 7 }, "request.session");
    denied({ ...request(), tool: undefined }, "request.tool");
    denied({ ...request(), tool: ["kb.search"] }, "request.tool");
  });

  it("denies an unknown tool or intent, naming it", () => {
    denied(request({ tool: "kb.delete" }), "kb.delete", "tool");
    denied(request({ intent: "world.domination" }), "world.domination", "intent");
    denied(request({ intent: 3 }), "request.intent");
  });

  it("denies a missing or ill-typed declared attribute, naming the field", () => {
    denied(request({ agent: undefined }), "request.agent");
    denied(request({ agent: "bot" }), "request.agent");
    denied(request({ agent: { ...AGENT, team: undefined } }), "request.agent.team");
    denied(request({ agent: { ...AGENT, attested: "yes" } }), "request.agent.attested");
    denied(request({ agent: { ...AGENT, zone: "mars" } }), "request.agent.zone");
    denied(request({ context: undefined }), "request.context");
    denied(request({ context: { env: "prod" } }), "request.context.labels");
    denied(request({ context: { labels: ["pii", "top-secret"], env: "prod" } }), "request.context.labels[1]");
    denied(request({ context: { labels: [], env: "prod", destination: { host: "x" } } }), "request.context.destination.zone");
    denied(request({ user: { id: "u", roles: "admin" } }), "request.user.roles");
    denied(request({ time: "yesterday" }), "request.time");
  });

  it("denies a missing or ill-typed argument, naming it", () => {
    denied(call("email.send", 0, { args: { to: "eve@evil.example", subject: "s", body: "b" } }), "request.args.to");
    denied(call("email.send", 0, { args: { to: [1], subject: "s", body: "b" } }), "request.args.to[0]");
    denied(call("email.send", 0, { args: { to: [], body: "b" } }), "request.args.subject");
    denied(call("kb.search", 0, { args: undefined }), "request.args is missing: kb.search takes `query`");
    denied(call("kb.search", 0, { args: "q" }), "request.args");
    denied(call("kb.search", 0, { args: { query: null } }), "request.args.query");
  });

  it("allows optional parts to be absent: user, destination", () => {
    expect(engine.decide(request({ user: undefined })).decision).toBe("allow");
    expect(engine.decide(request({ context: { labels: ["pii"], env: "prod" } })).decision).toBe("allow");
  });

  it("ignores undeclared extra fields everywhere", () => {
    const rules = engineWith('  allow kb.search when agent.team == "support" and context.env == "prod"\n  deny kb.search when args.query == "x"');
    const plain = rules.decide(request({ session: "a" }));
    const extra = rules.decide(
      request({
        session: "b",
        extra: { anything: [1, 2] },
        agent: { ...AGENT, nickname: "bob", team: "support" },
        user: { ...USER, shoe_size: 44 },
        args: { query: "q", limit: 10, nested: { deep: [null] } },
        context: { labels: [], env: "prod", destination: { host: "kb.acme.com", zone: "internal", port: 443 }, trace: "t" },
      }),
    );
    expect(extra).toEqual(plain);
    expect(extra.decision).toBe("allow");
  });
});

describe("failing closed on evaluation errors", () => {
  it("a decision with errors is a fresh, unfrozen object each call, alike for the same rules and errors, and still revokes each session", () => {
    const engine = engineWith(['  @name("root") deny kb.search when user.id == "root" reason "no root" revoke', '  allow kb.search grant "kb:read" for 5m'].join("\n"));
    const first = engine.decide(request({ session: "e1", user: undefined }));
    const second = engine.decide(request({ session: "e2", user: undefined }));
    expect(first).toEqual({ decision: "deny", rules: ["root"], reasons: ["no root"], locations: [expect.any(String)], grants: [], revoked: true, errors: ["root: the request has no user"] });
    expect(second).toEqual(first);
    expect(second).not.toBe(first);
    expect(Object.isFrozen(first)).toBe(false);
    expect(Object.isFrozen(first.errors)).toBe(false);
    expect(second.errors).not.toBe(first.errors);
    // Changing what one call got changes nothing for the next.
    (first.errors as string[]).push("mine");
    (first as { decision: string }).decision = "allow";
    expect(engine.decide(request({ session: "e3", user: undefined }))).toEqual(second);
    // Each session was revoked by its own decision, at its own time and tool.
    for (const id of ["e1", "e2", "e3"]) expect(engine.decide(request({ session: id }))).toMatchObject({ decision: "deny", rules: ["root"], revoked: true });
    // Another error is another decision: the allow's grant comes with its own error.
    const other = engineWith(['  allow kb.search when user.id == "u-7" grant "mine" for 1m', '  allow kb.search grant "kb:read" for 5m'].join("\n"));
    expect(other.decide(request({ session: "o1", user: undefined }))).toMatchObject({ decision: "allow", rules: ["p/2"], grants: [{ scope: "kb:read", ttlSeconds: 300 }], errors: ["p/1: the request has no user"] });
    expect(other.decide(request({ session: "o2", user: null }))).toMatchObject({ decision: "allow", rules: ["p/2"], errors: ["p/1: the request has no user"] });
  });

  it("the same tool and matched rules reached through different errors: each decision, and each revoked session's later denials, show their own errors", () => {
    // A guard for any future sharing of decisions with errors: its key must include the errors,
    // which quote request data (here the URL the agent made), not only the tool and the rules.
    const engine = engineWith(['  deny http.get when url.host(args.url) == "evil.com" reason "evil" revoke', "  allow http.get"].join("\n"));
    const web = (session: string, url: string) => request({ session, tool: "http.get", intent: "research", user: USER, args: { url } });
    const one = engine.decide(web("one", "https://u:p@evil.com/"));
    const two = engine.decide(web("two", "https://evil.com\\x/"));
    expect(one).toMatchObject({ decision: "deny", rules: ["p/1"], revoked: true });
    expect(two).toMatchObject({ decision: "deny", rules: ["p/1"], revoked: true });
    expect(one.errors).toEqual([expect.stringContaining("user information")]);
    expect(two.errors).toEqual([expect.stringContaining("ambiguous")]);
    expect(two.errors).not.toEqual(one.errors);
    // Later attempts, even clean ones, are denied with the error that revoked their own session.
    for (const [session, error] of [["two", "ambiguous"], ["one", "user information"], ["two", "ambiguous"]] as const) {
      const later = engine.decide(web(session, "https://x.com/"));
      expect(later).toMatchObject({ decision: "deny", rules: ["p/1"], revoked: true });
      expect(later.errors).toEqual([expect.stringContaining(error)]);
    }
  });

  it("a deny rule whose condition errors matches, and the error is reported", () => {
    const engine = engineWith(['  @name("off") deny kb.search when not (tool in intent.tools) reason "off intent"', "  allow kb.search"].join("\n"));
    const decision = engine.decide(request({ intent: undefined }));
    expect(decision).toMatchObject({ decision: "deny", rules: ["off"], reasons: ["off intent"] });
    expect(decision.errors).toHaveLength(1);
    expect(decision.errors[0]).toMatch(/^off: .*intent/);
    // With an intent, it evaluates normally.
    expect(engine.decide(request({ session: "s2" }))).toMatchObject({ decision: "allow", errors: [] });
  });

  it("an ask rule whose condition errors matches (user.* with no user)", () => {
    const engine = engineWith(['  ask kb.search when user.id == "root"', "  allow kb.search"].join("\n"));
    const decision = engine.decide(request({ user: undefined }));
    expect(decision).toMatchObject({ decision: "ask", rules: ["p/1"] });
    expect(decision.errors[0]).toMatch(/^p\/1: .*user/);
    expect(engine.decide(request({ session: "s2" })).decision).toBe("allow");
  });

  it("an ask rule whose condition throws matches in the rule-by-rule code too, where the tool's code goes when a read throws", () => {
    const engine = compile([{ path: "p.policy", text: 'tool t { risk low args { n: int } }\npolicy p {\n  @name("big") ask t when args.n > 3\n  allow t\n}\n' }]);
    // Read 1 is validation's; read 2 (the tool's code, conditions inlined) throws, so the rules run
    // again one function each, where read 3 throws too: the ask rule fails there. Later reads
    // (keeping the ask for its approval) answer.
    let reads = 0;
    const args = {
      get n(): number {
        reads++;
        if (reads === 2 || reads === 3) throw new Error("gone");
        return 1;
      },
    };
    expect(engine.decide({ session: "s", tool: "t", args })).toMatchObject({ decision: "ask", rules: ["big"], errors: ["big: evaluation failed: gone"] });
    expect(reads).toBeGreaterThan(3);
    expect(engine.decide({ session: "s", tool: "t", args: { n: 1 } })).toMatchObject({ decision: "allow", errors: [] });
  });

  it("an allow rule whose condition errors does not match", () => {
    const engine = engineWith('  allow kb.search when user.id == "u-7" grant "kb" for 1m');
    const decision = engine.decide(request({ user: undefined }));
    expect(decision).toMatchObject({ decision: "deny", rules: [], reasons: ["no rule allows kb.search"], grants: [] });
    expect(decision.errors[0]).toMatch(/^p\/1: .*user/);
  });

  it("an allow rule that errors does not stop another allow rule from matching; the error is still reported", () => {
    const engine = engineWith(['  allow kb.search when user.id == "u-7" grant "user" for 1m', '  allow kb.search when agent.attested grant "agent" for 1m'].join("\n"));
    const decision = engine.decide(request({ user: undefined }));
    expect(decision).toMatchObject({ decision: "allow", rules: ["p/2"], grants: [{ scope: "agent", ttlSeconds: 60 }] });
    expect(decision.errors).toHaveLength(1);
  });

  it("`has` guards do not error without the optional part", () => {
    const engine = engineWith(['  deny kb.search when context has destination and context.destination.zone == external', "  allow kb.search"].join("\n"));
    expect(engine.decide(request({ intent: undefined }))).toMatchObject({ decision: "allow", errors: [] });
  });

  it("a deny … revoke rule that fails for want of the request's intent revokes too (language.md §5: errors make a deny match)", () => {
    const engine = engineWith(['  @name("risk") deny kb.search when tool.risk > intent.max_risk or agent.team == "rogue" revoke', "  allow kb.search"].join("\n"));
    expect(engine.decide(request({ intent: undefined }))).toMatchObject({ decision: "deny", rules: ["risk"], revoked: true });
    expect(engine.decide(request({ time: at(1) }))).toMatchObject({ decision: "deny", rules: ["risk"], revoked: true });
  });

  it("an agent cannot steer a rule into a missing user to dodge its revocation", () => {
    const engine = engineWith(['  @name("loop") deny * when session.repeats >= 3 and not ("ops" in user.roles) revoke', "  allow kb.search, crm.lookup"].join("\n"));
    const noUser = (ms: number, tool = "kb.search"): Record<string, unknown> => request({ user: undefined, time: at(ms), tool, args: tool === "kb.search" ? { query: "same" } : { customer_id: "c1" } });
    for (let i = 0; i < 3; i++) expect(engine.decide(noUser(i)).decision).toBe("allow");
    expect(engine.decide(noUser(3))).toMatchObject({ decision: "deny", rules: ["loop"], revoked: true });
    expect(engine.decide(noUser(4, "crm.lookup"))).toMatchObject({ decision: "deny", rules: ["loop"], revoked: true });
  });

  it("later denials name the revoking rules that matched cleanly, whatever their order in the source (review a5 F2)", () => {
    const banned = '  @name("r2") deny kb.search when "banned" in user.roles reason "R2" revoke';
    const query = '  @name("r1") deny kb.search when args.query == "x" reason "R1" revoke';
    const rest = ['  @name("d3") deny kb.search when args.query == "x" reason "D3"', "  allow kb.search"];
    for (const order of [[banned, query], [query, banned]]) {
      const engine = engineWith([...order, ...rest].join("\n"));
      const revoking = engine.decide(request({ user: undefined, args: { query: "x" } }));
      expect(revoking).toMatchObject({ decision: "deny", revoked: true, errors: ["r2: the request has no user"] });
      // r2 matched only because the request had no user: r1, whose condition held, stands for the revocation.
      expect(engine.decide(request({ time: at(1), user: { ...USER, roles: [] } }))).toEqual({ decision: "deny", rules: ["r1"], reasons: ["R1"], locations: [expect.any(String)], grants: [], revoked: true, errors: [] });
    }
  });

  it("a revocation by rules that all matched through errors names each of them with its error", () => {
    const first = '  @name("nouser") deny kb.search when "banned" in user.roles reason "banned user" revoke';
    const second = '  @name("nointent") deny kb.search when tool.risk > intent.max_risk reason "too risky" revoke';
    for (const order of [[first, second], [second, first]]) {
      const engine = engineWith([...order, "  allow kb.search"].join("\n"));
      engine.decide(request({ user: undefined, intent: undefined }));
      const later = engine.decide(request({ time: at(1) }));
      expect(later).toMatchObject({ decision: "deny", revoked: true });
      expect([...later.rules].sort()).toEqual(["nointent", "nouser"]);
      expect(later.reasons).toEqual(later.rules.map((rule) => (rule === "nouser" ? "banned user" : "too risky")));
      expect([...later.errors].sort()).toEqual([expect.stringMatching(/^nointent: /), expect.stringMatching(/^nouser: the request has no user/)]);
    }
  });

  it("a revocation keeps two of its errors, cut short, so a revoked record stays small whatever the request quoted (review r2 #4)", () => {
    const rules = [1, 2, 3].map((k) => `  @name("host${k}") deny http.get when url.host(args.url) != "api.example" reason "exfiltration" revoke`);
    const engine = engineWith([...rules, "  allow http.get, kb.search"].join("\n"));
    // (The invisible characters, escaped, make the errors long; they are in the path, as the user information is shown as `***`.)
    const url = `https://u@api.example/\u202e${"\u202e".repeat(70)}${"y".repeat(500)}`;
    const revoking = engine.decide(request({ tool: "http.get", args: { url } }));
    expect(revoking).toMatchObject({ decision: "deny", revoked: true, rules: ["host1", "host2", "host3"] });
    expect(revoking.errors).toHaveLength(3);
    expect(revoking.errors[0]!.length).toBeGreaterThan(200); // the revoking decision has them in full
    const later = engine.decide(request({ time: at(1) }));
    expect(later).toMatchObject({ decision: "deny", revoked: true, rules: ["host1", "host2", "host3"] });
    expect(later.errors).toHaveLength(2);
    for (const [index, error] of later.errors.entries()) {
      expect(error).toHaveLength(100);
      expect(error.endsWith("...")).toBe(true);
      expect(revoking.errors[index]!.startsWith(error.slice(0, -3))).toBe(true);
    }
  });

  it("an agent cannot dodge a revoke rule with ambiguous input beside a missing user", () => {
    const engine = engineWith(['  @name("evil") deny http.get when url.host(args.url) == "evil.example" or user.id == "mallory" revoke', "  allow http.get, kb.search"].join("\n"));
    const sneaky = engine.decide(request({ tool: "http.get", args: { url: "https://a@b@evil.example/x" }, user: undefined }));
    expect(sneaky).toMatchObject({ decision: "deny", rules: ["evil"], revoked: true });
    expect(engine.decide(request({ time: at(1), user: undefined }))).toMatchObject({ decision: "deny", rules: ["evil"], revoked: true });
  });

  it("an agent cannot dodge a revoke rule with input a function refuses as ambiguous", () => {
    const engine = engineWith(['  @name("off-site") deny http.get when url.host(args.url) != "wiki.acme.com" revoke', "  allow http.get, kb.search"].join("\n"));
    const fetch = (url: string, ms: number): Record<string, unknown> => request({ tool: "http.get", args: { url }, time: at(ms) });
    expect(engine.decide(fetch("https://wiki.acme.com/x", 0))).toMatchObject({ decision: "allow" });
    const sneaky = engine.decide(fetch("https://wiki.acme.com@evil.example/x", 1));
    expect(sneaky).toMatchObject({ decision: "deny", rules: ["off-site"], revoked: true });
    expect(sneaky.errors.join(" ")).toContain("user information");
    expect(engine.decide(request({ time: at(2) }))).toMatchObject({ decision: "deny", rules: ["off-site"], revoked: true });
  });
});

describe("ask and the session", () => {
  it("ask counts as an attempt, is not a denial, and does not join the session's tools or labels", () => {
    const engine = engineWith(
      [
        "  ask crm.lookup",
        "  allow kb.search",
        '  @name("seen") deny kb.search when session.calls != 1 or session.denials != 0 or session.tools contains crm.lookup or session.labels contains pii or session.called(crm.lookup)',
        '  @name("last") deny kb.search when session.last != crm.lookup',
      ].join("\n"),
    );
    expect(engine.decide(call("crm.lookup", 0)).decision).toBe("ask");
    expect(engine.decide(call("kb.search", 1000))).toMatchObject({ decision: "allow", errors: [] });
  });

  it("a deny is a denial; allows and asks are not", () => {
    const engine = engineWith(
      [
        "  allow kb.search",
        "  deny crm.lookup",
        "  ask email.send",
        '  @name("check") deny http.get when session.denials != 1 or session.calls != 3',
        "  allow http.get",
      ].join("\n"),
    );
    expect(engine.decide(call("kb.search", 0)).decision).toBe("allow");
    expect(engine.decide(call("crm.lookup", 1)).decision).toBe("deny");
    expect(engine.decide(call("email.send", 2)).decision).toBe("ask");
    expect(engine.decide(call("http.get", 3))).toMatchObject({ decision: "allow", errors: [] });
  });
});

describe("equality of collections", () => {
  const engine = engineWith(
    [
      '  @name("labels") allow kb.search when context.labels == [pii, internal]',
      '  @name("roles") allow kb.search when user.roles != ["admin", "ops"]',
      '  @name("to") allow email.send when args.to == ["a@acme.com", "b@acme.com"]',
    ].join("\n"),
  );
  const labels = (value: string[], session: string): readonly string[] => engine.decide(request({ session, context: { labels: value, env: "prod" } })).rules;

  it("sets compare as sets: order and repeats do not matter", () => {
    expect(labels(["pii", "internal"], "a")).toContain("labels");
    expect(labels(["internal", "pii"], "b")).toContain("labels");
    expect(labels(["pii", "internal", "pii"], "c")).toContain("labels");
    expect(labels(["pii"], "d")).not.toContain("labels");
    expect(labels(["pii", "internal", "secret"], "e")).not.toContain("labels");
    expect(engine.decide(request({ session: "f", user: { id: "u", roles: ["ops", "admin"] } })).rules).not.toContain("roles");
    expect(engine.decide(request({ session: "g", user: { id: "u", roles: ["ops"] } })).rules).toContain("roles");
  });

  it("lists compare in order", () => {
    const send = (to: string[], session: string): string => engine.decide(call("email.send", 0, { session, args: { to, subject: "s", body: "b" } })).decision;
    expect(send(["a@acme.com", "b@acme.com"], "h")).toBe("allow");
    expect(send(["b@acme.com", "a@acme.com"], "i")).toBe("deny");
  });
});

describe("the intent is the session's", () => {
  const rules = ['  @name("in-intent") allow * when tool in intent.tools', '  @name("off") deny * when not (tool in intent.tools)'].join("\n");

  it("a request cannot change the intent a session declared: denied with a reason, counted, and the session goes on", () => {
    const engine = engineWith(rules);
    expect(engine.decide(call("kb.search", 0, { intent: "support.reply" })).decision).toBe("allow");
    const switched = engine.decide(call("http.get", 1000, { intent: "research" }));
    expect(switched).toMatchObject({ decision: "deny", rules: [], revoked: false });
    expect(switched.errors[0]).toBe('session "s" declared the intent support.reply; a request cannot change it to research (start a new session for another task)');
    expect(engine.sessions.get("s")!.calls).toBe(2);
    expect(engine.decide(call("kb.search", 2000, { intent: "support.reply" })).decision).toBe("allow");
    // Another session may have another purpose.
    expect(engine.decide(call("http.get", 3000, { session: "t", intent: "research" })).decision).toBe("allow");
  });

  it("a request that names no intent runs with the session's: leaving it out escapes no rule that reads it", () => {
    const engine = engineWith(['  @name("no-mail-in-support") deny email.send when intent == support.reply', "  allow *"].join("\n"));
    expect(engine.decide(call("kb.search", 0, { intent: "support.reply" })).decision).toBe("allow");
    for (const [i, intent] of [undefined, null].entries()) {
      expect(engine.decide(call("email.send", 1000 * (i + 1), { intent })), String(intent)).toMatchObject({ decision: "deny", rules: ["no-mail-in-support"] });
    }
  });

  it("a session that never names an intent fails closed on a bare `intent`, as on `intent.tools`", () => {
    const engine = engineWith(['  @name("not-research") allow email.send when intent != research', '  @name("no-research-mail") deny kb.search when intent == research'].join("\n"));
    for (const intent of [undefined, null]) {
      const session = `none-${String(intent)}`;
      expect(engine.decide(call("email.send", 0, { intent, session }))).toMatchObject({ decision: "deny", rules: [], errors: ["not-research: the request names no intent"] });
      expect(engine.decide(call("kb.search", 1000, { intent, session }))).toMatchObject({ decision: "deny", rules: ["no-research-mail"], errors: ["no-research-mail: the request names no intent"] });
    }
    expect(engine.decide(call("email.send", 0, { intent: "support.reply", session: "named" })).decision).toBe("allow");
    const explained = explain(engine, call("email.send", 0, { intent: undefined, session: "fresh" })).rules.find((rule) => rule.id === "not-research")!;
    expect(explained).toMatchObject({ matched: "error" });
    expect(JSON.stringify(explained)).toContain("the request names no intent");
  });

  it("the first request that names a known intent declares it; one without an intent, or an invalid one, does not", () => {
    const engine = engineWith(rules);
    expect(engine.decide(call("kb.search", 0, { intent: undefined })).decision).toBe("deny");
    expect(engine.decide(call("kb.search", 1000, { intent: "no.such" })).errors[0]).toContain("no.such");
    expect(engine.decide(call("http.get", 2000, { intent: "research" })).decision).toBe("allow");
    expect(engine.decide(call("kb.search", 3000, { intent: "support.reply" })).errors[0]).toContain("declared the intent research");
  });
});

describe("an approved ask (Engine.approved)", () => {
  const rules = [
    '  @name("ask-lookup") ask crm.lookup',
    '  @name("pii-stays-inside") deny email.send when session.labels contains pii and any(r in args.to: not (r like "*@acme.com"))',
    '  @name("after-lookup") allow email.send when session.called(crm.lookup)',
  ].join("\n");
  const outside = { args: { to: ["eve@evil.example"], subject: "s", body: "b" } };

  it("taints the session with the tool's data, and counts as having called it", () => {
    const engine = engineWith(rules);
    const lookup = call("crm.lookup", 0);
    expect(engine.decide(lookup).decision).toBe("ask");
    expect(engine.decide(call("email.send", 1000, outside)).decision).toBe("deny"); // never called crm.lookup
    expect(engine.approved(call("email.send", 1500))).toBe(false); // not what was asked about
    expect(engine.approved(lookup)).toBe(true); // also after the agent went on with another call
    expect(engine.approved(lookup)).toBe(false); // once
    expect(engine.decide(call("crm.lookup", 1500)).decision).toBe("ask");
    expect(engine.decide(call("email.send", 2000, outside))).toMatchObject({ decision: "deny", rules: ["pii-stays-inside"] });
    expect(engine.decide(call("email.send", 3000)).decision).toBe("allow");
    expect(engine.sessions.get("s")!.calls).toBe(5); // approvals are not attempts
  });

  it("changes nothing, and says so, for an invalid request or a session that is unknown or revoked", () => {
    const engine = engineWith(`${rules}\n  @name("stop") deny kb.search revoke`);
    expect(engine.approved(call("crm.lookup", 0))).toBe(false); // no such session yet
    expect(engine.sessions.get("s")).toBeUndefined();
    engine.decide(call("crm.lookup", 0));
    expect(engine.approved({ session: "s", tool: "crm.lookup" })).toBe(false); // invalid: no agent, no args
    expect(engine.approved("crm.lookup")).toBe(false);
    engine.decide(call("kb.search", 1000));
    expect(engine.approved(call("crm.lookup", 2000))).toBe(false); // revoked
    expect(engine.sessions.get("s")!.labels?.has("pii") ?? false).toBe(false);
  });

  it("says why it would refuse an approval (approvalRefusal), changing nothing", () => {
    const engine = engineWith(`${rules}\n  @name("stop") deny kb.search revoke`);
    const lookup = call("crm.lookup", 0);
    expect(engine.approvalRefusal(lookup)).toBe('session "s" has made no attempt, so no ask of it awaits approval');
    expect(engine.sessions.get("s")).toBeUndefined();
    engine.decide(call("email.send", 0));
    expect(engine.approvalRefusal(call("email.send", 500))).toBe('session "s" has no ask awaiting approval for email.send (no call to it was answered ask, or each was approved already)');
    expect(engine.decide(lookup).decision).toBe("ask");
    // Asked as often as wanted, it approves nothing: the approval is still there to make.
    expect([engine.approvalRefusal(lookup), engine.approvalRefusal(lookup)]).toEqual([undefined, undefined]);
    expect(engine.sessions.get("s")!.labels?.has("pii") ?? false).toBe(false);
    expect(engine.approved(lookup)).toBe(true);
    expect(engine.approvalRefusal(lookup)).toContain("has no ask awaiting approval for crm.lookup");
    expect(engine.approvalRefusal(call("crm.lookup", 500, { args: { customer_id: 42 } }))).toMatch(/^an approval is the asked request itself \(its agent, context, user…\) with time stamped when the approval came: request\.args\.customer_id must be a string/); // invalid: why, as `decide` says it, after what an approval is
    engine.decide(call("crm.lookup", 1000));
    engine.decide(call("kb.search", 2000));
    // Revoked: that it is, by which rule, with the revocation's reason (of the kb.search that revoked it).
    const revocation = engine.decide(call("kb.search", 3000));
    expect(engine.approvalRefusal(call("crm.lookup", 3000))).toBe(`session "s" is revoked (by stop (${revocation.locations[0]}): ${revocation.reasons[0]}), so no ask of it can be approved: every later attempt in it is denied`);
    expect(engine.approved(call("crm.lookup", 3000))).toBe(false);
  });

  it("refuses an approval that comes after the session expired, saying so", () => {
    const engine = engineWith(rules, { sessionIdleMs: 60_000 });
    engine.decide(call("crm.lookup", 0));
    expect(engine.approvalRefusal(call("crm.lookup", 61_000))).toMatch(/^session "s" has expired/);
    expect(engine.approved(call("crm.lookup", 61_000))).toBe(false);
    expect(engine.approved(call("crm.lookup", 30_000))).toBe(true);
  });
});

describe("like: `*` matches any run of characters, every other character only itself (language.md §4)", () => {
  // The pattern written in the policy (a glob compiled with the code), and one known only at run
  // time, sent in the request and matched inside a quantifier (rt.likeAt, which takes shortcuts
  // for exact patterns, `*x`, `x*` and `*x*`).
  const engine = compile([
    {
      path: "p.policy",
      text: `context { patterns: list<string> }
tool t { risk low args { s: string } }
policy p {
  @name("ab-ba") allow t when args.s like "ab*ba"
  @name("report") allow t when args.s like "report?*.pdf"
  @name("sent") allow t when any(x in context.patterns: args.s like x)
}
`,
    },
  ]);
  const matched = (s: string, patterns: readonly string[] = []): readonly string[] => engine.decide({ session: "s", tool: "t", args: { s }, context: { patterns } }).rules;

  it("written in the policy: the prefix and the suffix never share characters, and `?` is an ordinary character", () => {
    expect(matched("aba")).toEqual([]);
    expect(matched("abba")).toEqual(["ab-ba"]);
    expect(matched("ab-ba")).toEqual(["ab-ba"]);
    expect(matched("abab")).toEqual([]);
    expect(matched("report.pdf")).toEqual([]);
    expect(matched("report1.pdf")).toEqual([]);
    expect(matched("report?.pdf")).toEqual(["report"]);
    expect(matched("report?2026.pdf")).toEqual(["report"]);
  });

  it("sent in the request: the same cases, and `**`, `*`, the empty pattern and an exact one, case-sensitive", () => {
    for (const [s, pattern, expected] of [
      ["aba", "ab*ba", false],
      ["abba", "ab*ba", true],
      ["report.pdf", "report?*.pdf", false],
      ["report1.pdf", "report?*.pdf", false],
      ["report?x.pdf", "report?*.pdf", true],
      ["/etc/passwd", "**", true],
      ["", "**", true],
      ["", "*", true],
      ["/etc/passwd", "*", true],
      ["", "", true],
      ["a", "", false],
      ["a", "a", true],
      ["A", "a", false],
      ["/ETC/passwd", "/etc/passwd", false],
      ["/etc/passwd", "/etc/*", true],
      ["/ETC/passwd", "/etc/*", false],
      ["x.y", "*.*", true],
      ["xy", "x.y", false],
      ["a.b[c](d)|e+f?^g$\\h{2}", "a.b[c](d)|e+f?^g$\\h{2}", true],
      ["aXb[c](d)|e+f?^g$\\h{2}", "a.b[c](d)|e+f?^g$\\h{2}", false],
      ["ab", "a?", false],
    ] as const) {
      expect(matched(s, [pattern]).includes("sent"), `${JSON.stringify(s)} like ${JSON.stringify(pattern)}`).toBe(expected);
    }
  });

  it("sent in the request, agrees with the reference matcher (property)", () => {
    const text = (alphabet: string[], maxLength: number): fc.Arbitrary<string> => fc.array(fc.constantFrom(...alphabet), { maxLength }).map((a) => a.join(""));
    fc.assert(
      fc.property(text(["a", "A", "b", "*", ".", "?", "[", "\\"], 7), text(["a", "A", "b", ".", "?", "[", "\\"], 9), (pattern, s) => {
        expect(matched(s, [pattern]).includes("sent"), `${JSON.stringify(s)} like ${JSON.stringify(pattern)}`).toBe(reference(pattern, s));
      }),
      { numRuns: 2000, examples: [["**", "aAb"], ["**", ""], ["*", ""], ["", ""], ["", "a"], ["a", "A"], ["A", "a"], ["a", "a"], ["ab*ba", "aba"], ["a?*b", "ab"], ["*.*", "a.b"], ["***", "a"], ["*a*", "A"]] },
    );
  });
});
