import { handEdited } from "../helpers.js";
import { describe, expect, it } from "vitest";
import { explain } from "../../src/runtime/explain.js";
import type { IrExpr } from "../../src/runtime/ir.js";
import { Engine } from "../../src/runtime/engine.js";
import { call, engineWith, policyWith, request } from "./fixtures.js";

/**
 * Behaviour a mutation audit found unpinned: each test fails on one small change of the
 * runtime that no other test noticed (the mutant is named in the test's comment). Each fails
 * on its mutant and passes on the code as it is.
 */
describe("mutation gaps: sessions, intents and approvals", () => {
  // Mutant: prepare() sets state.intent also when create is false (explain).
  it("explain does not declare the session's intent: a later decide may still name any intent", () => {
    const engine = engineWith("  allow kb.search");
    // The session starts without an intent.
    expect(engine.decide(call("kb.search", 0, { intent: undefined })).decision).toBe("allow");
    // Explaining a request that names `research` changes nothing …
    expect(explain(engine, call("kb.search", 1000, { intent: "research" })).note).toBeNull();
    expect(engine.sessions.get("s")!.intent).toBeUndefined();
    // … so the first request that names an intent declares it.
    expect(engine.decide(call("kb.search", 2000, { intent: "support.reply" })).decision).toBe("allow");
    expect(engine.decide(call("kb.search", 3000, { intent: "research" })).errors[0]).toContain("declared the intent support.reply");
  });

  // Mutant: approved() passes no context.labels to the session, only the tool's `returns`.
  it("an approved call's context.labels taint the session, as an allowed call's do", () => {
    const engine = engineWith(['  @name("secret-asks") ask kb.search when context.labels contains secret', "  allow kb.search", '  @name("no-leak") deny email.send when session.labels contains secret', "  allow email.send"].join("\n"));
    const search = call("kb.search", 0, { context: { labels: ["secret"], env: "prod" } });
    expect(engine.decide(search).decision).toBe("ask");
    expect(engine.approved(search)).toBe(true);
    expect(engine.decide(call("email.send", 1000))).toMatchObject({ decision: "deny", rules: ["no-leak"] });
  });

  // Mutant: conclude() records a default deny with denied=false.
  it("a default deny counts in session.denials like a rule's deny", () => {
    const engine = engineWith('  @name("clean") allow crm.lookup when session.denials == 0\n  allow kb.search when args.query != "nope"');
    expect(engine.decide(call("kb.search", 0, { args: { query: "nope" } }))).toMatchObject({ decision: "deny", rules: [] });
    expect(engine.sessions.get("s")!.denials).toBe(1);
    expect(engine.decide(call("crm.lookup", 1000)).decision).toBe("deny");
    expect(engine.decide(call("crm.lookup", 1000, { session: "fresh" })).decision).toBe("allow");
  });

  // Mutant: apply() sets the pending asks of a tool to 1 instead of adding one.
  it("every ask awaits its own approval: two asks of one tool can both be approved, and no more", () => {
    const engine = engineWith('  @name("ask-lookup") ask crm.lookup');
    expect(engine.decide(call("crm.lookup", 0)).decision).toBe("ask");
    expect(engine.decide(call("crm.lookup", 1000)).decision).toBe("ask");
    expect(engine.approved(call("crm.lookup", 0))).toBe(true);
    expect(engine.approved(call("crm.lookup", 1000))).toBe(true);
    expect(engine.approved(call("crm.lookup", 1000))).toBe(false);
  });

  // Mutant: prepare() returns a revoked session's decision without its state, so the attempt is not recorded.
  it("attempts in a revoked session are still attempts: counted as calls and denials", () => {
    const engine = engineWith('  @name("stop") deny kb.search when args.query == "stop" revoke\n  allow kb.search');
    expect(engine.decide(call("kb.search", 0, { args: { query: "stop" } })).revoked).toBe(true);
    expect(engine.decide(call("kb.search", 1000))).toMatchObject({ decision: "deny", rules: ["stop"], revoked: true });
    expect(engine.sessions.get("s")).toMatchObject({ calls: 2, denials: 2 });
  });

  // Mutant: record() sets lastSeen to every attempt's time, so an attempt dated earlier moves it back.
  it("an attempt dated earlier than the last one does not make the session look idle sooner", () => {
    const engine = engineWith("  allow kb.search", { sessionIdleMs: 1000 });
    expect(engine.decide(call("kb.search", 5000)).decision).toBe("allow");
    expect(engine.decide(call("kb.search", 0)).decision).toBe("allow"); // out of time order (merged logs)
    expect(engine.decide(call("kb.search", 5500)).decision).toBe("allow"); // 500 ms after the latest attempt
    expect(engine.sessions.get("s")!.lastSeen).toBe(Date.parse(String(call("kb.search", 5500)["time"])));
  });
});

describe("mutation gaps: session.count windows that overflow", () => {
  // Mutant: windowFault lets a count of some tools saturate like a count of every tool.
  it("after the window overflows, a count of one tool's attempts fails closed: the other tools' flood cannot push them out of the count", () => {
    const rules = ['  @name("kb-rate") deny kb.search when session.count(kb.search, within 1h) > 100', "  allow kb.search", "  allow crm.lookup"].join("\n");
    const engine = engineWith(rules);
    for (let i = 0; i < 150; i++) engine.decide(call("kb.search", i));
    expect(engine.decide(call("kb.search", 150))).toMatchObject({ decision: "deny", rules: ["kb-rate"], errors: [] });
    // 10,000 other calls fill the window (the default size here): the kb.search attempts are dropped.
    for (let i = 0; i < 10_000; i++) engine.decide(call("crm.lookup", 1000 + i));
    const after = engine.decide(call("kb.search", 20_000));
    expect(after).toMatchObject({ decision: "deny", rules: ["kb-rate"] });
    expect(after.errors.join(" ")).toContain("maxWindowEntries");
  });

  // Mutant: windowFault compares `since < droppedUpTo` (the newest dropped attempt, exactly D before, would not count).
  it("a count reaching back exactly to the newest attempt the window dropped fails closed (edges included)", () => {
    const rules = ['  @name("burst") deny kb.search when session.count(within 10s) > 4', "  allow kb.search"].join("\n");
    const engine = engineWith(rules, { maxWindowEntries: 3 });
    for (const ms of [0, 1000, 2000, 3000]) expect(engine.decide(call("kb.search", ms)).decision).toBe("allow");
    // The attempt at 0 was dropped; 10 s later the window starts exactly there.
    const edge = engine.decide(call("kb.search", 10_000));
    expect(edge).toMatchObject({ decision: "deny", rules: ["burst"] });
    expect(edge.errors.join(" ")).toContain("maxWindowEntries");
  });

  // Mutant: windowEntriesFor says literalOnly even when a count is compared with a request value.
  it("a count compared with a request value does not saturate when the window overflows: it fails closed", () => {
    const rules = ['  @name("quota") deny bulk.op when session.count(within 1h) > args.limit', "  allow bulk.op"].join("\n");
    const engine = engineWith(rules, undefined, "\ntool bulk.op {\n  risk low\n  args { limit: int }\n}\n");
    const bulk = (ms: number): Record<string, unknown> => call("kb.search", ms, { tool: "bulk.op", args: { limit: 10_001 }, intent: undefined });
    for (let i = 0; i < 10_004; i++) engine.decide(bulk(i * 10));
    // 10,005 attempts in the hour, more than the limit: the window (10,000) cannot count them all.
    const over = engine.decide(bulk(100_050));
    expect(over).toMatchObject({ decision: "deny", rules: ["quota"] });
    expect(over.errors.join(" ")).toContain("maxWindowEntries");
  });

  // Mutant: windowEntriesFor counts only literals written on the right of a comparison.
  it("a count compared with a number written on the left keeps a window as large as that number needs", () => {
    const engine = engineWith('  @name("quota") allow kb.search when 12000 >= session.count(within 1d)');
    for (let i = 0; i < 10_500; i++) {
      const decision = engine.decide(call("kb.search", i));
      if (decision.decision !== "allow") throw new Error(`attempt ${i}: ${decision.decision} ${decision.errors.join("; ")}`);
    }
    expect(engine.sessions.get("s")!.windowSize).toBe(10_500);
  });
});

describe("mutation gaps: absent and null", () => {
  // Mutant: the generated `has` tests `!== undefined`, so an attribute sent as null is present.
  it("decide: an optional attribute sent as null is not there (`has` is false), so `unless … has` still denies", () => {
    const engine = engineWith('  @name("needs-destination") deny http.get unless context has destination\n  allow http.get');
    const get = call("http.get", 0, { context: { labels: [], env: "prod", destination: null } });
    expect(engine.decide(get)).toMatchObject({ decision: "deny", rules: ["needs-destination"] });
  });

  // Mutant: present() (the interpreter's `has`, so explain) reads a null attribute as present.
  it("explain reads `has` as decide does: an optional attribute sent as null is not there", () => {
    const engine = engineWith('  @name("external") ask http.get when context has destination\n  allow http.get');
    const get = call("http.get", 0, { context: { labels: [], env: "prod", destination: null } });
    const rule = explain(engine, get).rules.find((r) => r.id === "external")!;
    expect(rule.matched).toBe(false);
    expect(rule.clauses[0]).toMatchObject({ value: false });
    expect(engine.decide(get).decision).toBe("allow");
  });

  // Mutant: userOf treats only an undefined user as missing; a null one is then read and throws.
  it("a request with user null is one without a user: a missing-user fault that another term settles does not fail the rule", () => {
    const engine = engineWith('  @name("mine") allow kb.search when user.id == "u-7" or args.query == "q"');
    for (const [session, user] of [["absent", undefined], ["null", null]] as const) {
      expect(engine.decide(request({ session, user })), session).toMatchObject({ decision: "allow", rules: ["mine"], errors: [] });
      expect(engine.decide(request({ session: `${session}-2`, user, args: { query: "x" } })), session).toMatchObject({ decision: "deny", errors: ["mine: the request has no user"] });
    }
  });
});

describe("mutation gaps: url.host, email.domain and like", () => {
  const rules = [
    '  @name("allow-github") allow http.get when url.host(args.url) == "github.com"',
    '  @name("inside") allow email.send when all(r in args.to: email.domain(r) == "acme.com")',
    '  @name("outside") deny email.send when any(r in args.to: email.domain(r) == "evil.example")',
  ].join("\n");

  // Mutant: urlHost drops the test for an `@` before the host that leaves user and password empty.
  it("a URL with empty user information before its host (`https://@github.com/`) is an evaluation error, never allowed", () => {
    const decision = engineWith(rules).decide(call("http.get", 0, { args: { url: "https://@github.com/" } }));
    expect(decision).toMatchObject({ decision: "deny", rules: [] });
    expect(decision.errors.join(" ")).toContain("user information before its host");
  });

  // Mutant: emailDomain drops the "more than one @" test (the last `@` would give acme.com).
  it("an address with two @ (`eve@evil.example@acme.com`) is an evaluation error: the deny matches, the allow does not", () => {
    const decision = engineWith(rules).decide(call("email.send", 0, { args: { to: ["eve@evil.example@acme.com"], subject: "s", body: "b" } }));
    expect(decision).toMatchObject({ decision: "deny", rules: ["outside"] });
    expect(decision.errors.join(" ")).toContain("is not a single plain e-mail address");
  });

  // Mutant: matchCompiledGlob lets a middle part run into the suffix (`*ab*b` would match "ab").
  it("like: each part of a glob takes its own characters, a middle part never reusing the suffix's", () => {
    const engine = engineWith('  @name("ab-b") allow kb.search when args.query like "*ab*b"');
    const search = (query: string, session: string): string => engine.decide(request({ args: { query }, session })).decision;
    expect(search("ab", "a")).toBe("deny");
    expect(search("xab", "b")).toBe("deny");
    expect(search("abb", "c")).toBe("allow");
    expect(search("ab-b", "d")).toBe("allow");
  });
});

describe("mutation gaps: request times", () => {
  // Mutant: the fast RFC 3339 path takes every year divisible by 4 as a leap year.
  it("request.time: 29 February of a century year that is not a leap year is no time (2100), of one that is (2000) is", () => {
    const engine = engineWith("  allow kb.search");
    expect(engine.decide(request({ time: "2100-02-29T00:00:00Z" })).reasons[0]).toContain("request.time must be an RFC 3339 time");
    expect(engine.decide(request({ time: "1900-02-29T12:00:00.5Z", session: "t" })).reasons[0]).toContain("request.time must be an RFC 3339 time");
    expect(engine.decide(request({ time: "2000-02-29T00:00:00Z", session: "u" })).decision).toBe("allow");
  });

  // Mutant: parseUtcTime scales a two-digit fraction as a one-digit one and back (.5 as 50 ms).
  it("request.time fractions of one, two and three digits are read as tenths, hundredths and thousandths", () => {
    // The session starts at the engine's clock when its first attempt arrives: the first request's time.
    const engine = engineWith('  @name("old") deny kb.search when session.age >= 400ms\n  allow kb.search', { clock: () => Date.UTC(2026, 10, 29, 10, 0, 0) });
    expect(engine.decide(request({ time: "2026-11-29T10:00:00Z" })).decision).toBe("allow");
    expect(engine.decide(request({ time: "2026-11-29T10:00:00.05Z" })).decision).toBe("allow"); // 50 ms
    expect(engine.decide(request({ time: "2026-11-29T10:00:00.5Z" }))).toMatchObject({ decision: "deny", rules: ["old"] }); // 500 ms
    expect(engine.sessions.get("s")!.lastSeen).toBe(Date.UTC(2026, 10, 29, 10, 0, 0, 500));
  });
});

describe("mutation gaps: request data and hand-edited bundles", () => {
  // Mutant: listIndex reuses a long list's index in a later decision (it is per decision only).
  it("a caller that changes a long list between two decisions gets the list as it is now", () => {
    const engine = engineWith(['  @name("no-eve") deny email.send when args.to containsAny ["eve@evil.example"]', "  allow email.send"].join("\n"));
    const to = Array.from({ length: 20 }, (_, i) => `user${i}@acme.com`);
    const mail = call("email.send", 0, { args: { to, subject: "s", body: "b" } });
    expect(engine.decide(mail).decision).toBe("allow");
    to[7] = "eve@evil.example"; // the same array, changed in place
    expect(engine.decide({ ...mail, time: call("email.send", 1000)["time"] })).toMatchObject({ decision: "deny", rules: ["no-eve"] });
  });

  // Mutant: buildDecision gives the matched rules' grants whatever the effect. The checker refuses
  // `grant` on a deny (PC400), so only a bundle edited by hand has one: the runtime still mints nothing.
  it("a deny never carries grants, even from a rule that has some (a hand-edited bundle)", () => {
    const policy = policyWith('  @name("no") deny kb.search when args.query == "no"\n  allow kb.search grant "kb:read" for 5m');
    const rules = policy.rules.map((r) => (r.id === "no" ? { ...r, grants: [{ scope: "kb:admin", ttlSeconds: 3600 }] } : r));
    const engine = new Engine(handEdited({ ...policy, rules }));
    expect(engine.decide(request({ args: { query: "no" } }))).toMatchObject({ decision: "deny", rules: ["no"], grants: [] });
    expect(engine.decide(request({ session: "t" }))).toMatchObject({ decision: "allow", grants: [{ scope: "kb:read", ttlSeconds: 300 }] });
  });
});

describe("mutation gaps: comparisons of bundles whose IR carries no `shape` (older compilers)", () => {
  /** The IR as a compiler from before `shape` wrote it: structured comparisons without their declared type. */
  function withoutShapes(e: IrExpr): IrExpr {
    return JSON.parse(JSON.stringify(e), (key, value: unknown) => (key === "shape" ? undefined : value)) as IrExpr;
  }
  function explainedValue(rules: string, req: Record<string, unknown>, extraDecls = ""): unknown {
    const policy = policyWith(rules, extraDecls);
    const engine = new Engine(handEdited({ ...policy, rules: policy.rules.map((r) => ({ ...r, ir: r.ir && withoutShapes(r.ir) })) }));
    return explain(engine, req).rules[0]!.clauses[0]!.value;
  }

  // Mutant: equal() compares lists of different lengths by their common prefix.
  it("lists of different lengths are not equal", () => {
    const mail = (to: string[]): Record<string, unknown> => call("email.send", 0, { args: { to, subject: "s", body: "b" } });
    expect(explainedValue('  deny email.send when args.to == ["a@acme.com", "b@acme.com"]', mail(["a@acme.com"]))).toBe(false);
    expect(explainedValue('  deny email.send when args.to == ["a@acme.com", "b@acme.com"]', mail(["a@acme.com", "b@acme.com"]))).toBe(true);
  });

  // Mutant: sameRecords ignores keys only the right-hand record has.
  it("records compare by all their keys, both ways", () => {
    const decls = "\ntool copy {\n  risk low\n  args { from: Destination, to: Destination }\n}\n";
    const copy = (from: object, to: object): Record<string, unknown> => call("kb.search", 0, { tool: "copy", intent: undefined, args: { from, to } });
    const a = { host: "a.example", zone: "internal" };
    expect(explainedValue("  deny copy when args.from == args.to", copy(a, { ...a }), decls)).toBe(true);
    expect(explainedValue("  deny copy when args.from == args.to", copy(a, { ...a, port: 1 }), decls)).toBe(false);
  });
});
