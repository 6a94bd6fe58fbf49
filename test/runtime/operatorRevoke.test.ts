import { describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";
import type { Decision, Engine, RevokeResult, SessionSummary } from "../../src/runtime/index.js";
import { explain } from "../../src/runtime/explain.js";
import { SessionStore } from "../../src/runtime/session.js";

/**
 * `Engine.revoke` and `Engine.session`: an incident responder stops a misbehaving agent's session
 * from outside the policy, and reads what the engine holds of it for the ticket.
 */
const POLICY = [
  {
    path: "p.policy",
    text: `enum Label { public, secret }
context { labels: set<Label> }
tool t { risk low args { q: string } }
intent triage { tools t }
policy p {
  @name("ok") allow t
  @name("check") ask t when args.q == "ask" reason "a person looks first"
  @name("kill") deny t when args.q == "kill" reason "kill switch" revoke
  @name("no-leak") deny t when session.labels contains secret and args.q == "leak"
}
`,
  },
];
const T0 = Date.parse("2026-11-30T10:00:00Z");
const iso = (ms: number): string => new Date(ms).toISOString();

/** An engine whose clock the test moves (`clock.now`), and requests stamped with it. */
function setup(options: Record<string, unknown> = {}): { engine: Engine; clock: { now: number }; attempt: (session: string, q?: string, labels?: string[]) => Record<string, unknown> } {
  const clock = { now: T0 };
  const engine = compile(POLICY, { clock: () => clock.now, ...options });
  const attempt = (session: string, q = "x", labels: string[] = []): Record<string, unknown> => ({ time: iso(clock.now), session, tool: "t", intent: "triage", args: { q }, context: { labels } });
  return { engine, clock, attempt };
}

const OPERATOR_DENIAL = (reason: string): Decision => ({ decision: "deny", rules: [], reasons: [reason], locations: [], grants: [], revoked: true, errors: [] });

describe("Engine.revoke", () => {
  it("revokes a live session now: every later attempt is denied as revoked, with no rule and the operator's reason", () => {
    const { engine, clock, attempt } = setup();
    expect(engine.decide(attempt("s")).decision).toBe("allow");
    clock.now += 60_000;
    const result = engine.revoke("s", "INC-7: exfiltration");
    expect(result).toEqual({ outcome: "revoked", revoked: true, revocation: { by: "operator", rules: [], reasons: ['revoked by an operator: "INC-7: exfiltration"'], at: iso(T0 + 60_000), tool: null }, refusal: null } satisfies RevokeResult);
    expect(Object.isFrozen(result) && Object.isFrozen(result.revocation) && Object.isFrozen(result.revocation!.reasons)).toBe(true);
    clock.now += 1_000;
    // An allowed call, a rule's own deny and a refusal alike: the revocation answers first.
    for (const q of ["x", "kill", "leak"]) expect(engine.decide(attempt("s", q))).toEqual(OPERATOR_DENIAL('revoked by an operator: "INC-7: exfiltration"'));
    expect(engine.decide({ ...attempt("s"), time: "yesterday" })).toEqual(OPERATOR_DENIAL('revoked by an operator: "INC-7: exfiltration"'));
    // Other sessions go on.
    expect(engine.decide(attempt("other")).decision).toBe("allow");
    expect(engine.stats()).toMatchObject({ liveSessions: 2, revokedSessions: 1 });
    // The explanation of a later attempt says an operator revoked it, and when.
    expect(explain(engine, attempt("s")).note).toBe(`the session was revoked at ${iso(T0 + 60_000)} by an operator (Engine.revoke): every later attempt is denied`);
  });

  it("quotes the reason visibly and cut short: hidden characters escaped, URL credentials masked, at most OPERATOR_REASON_CHARS", () => {
    const { engine } = setup();
    const reason = (id: string, text: string): string => {
      engine.revoke(id, text);
      return engine.decide({ session: id, tool: "t", intent: "triage", args: { q: "x" }, context: { labels: [] } }).reasons[0]!;
    };
    expect(reason("a", "agent said \u202eevil\u202c\nsee https://user:hunter2@logs.example/x")).toBe('revoked by an operator: "agent said \\u202eevil\\u202c\\nsee https://***@logs.example/x"');
    expect(reason("b", "")).toBe("revoked by an operator");
    const long = reason("c", `${"y".repeat(1_000)}`);
    expect(long).toBe(`revoked by an operator: "${"y".repeat(497)}..."`);
    // Never half an emoji at the cut.
    const emoji = reason("d", `${"y".repeat(496)}😀${"z".repeat(100)}`);
    expect(emoji).toBe(`revoked by an operator: "${"y".repeat(496)}..."`);
  });

  it("revokes an id the engine does not hold yet: its first attempt is denied, it never starts", () => {
    const { engine, clock, attempt } = setup();
    expect(engine.session("early")).toBeUndefined();
    expect(engine.revoke("early", "agent key leaked")).toMatchObject({ outcome: "revoked", revoked: true, revocation: { by: "operator", at: iso(T0) } });
    expect(engine.stats()).toMatchObject({ liveSessions: 0, revokedSessions: 1, expiredSessions: 0 });
    clock.now += 5_000;
    expect(engine.decide(attempt("early"))).toEqual(OPERATOR_DENIAL('revoked by an operator: "agent key leaked"'));
    // Refused attempts without a usable time are denied for it too.
    expect(engine.decide({ session: "early", tool: "t" })).toEqual(OPERATOR_DENIAL('revoked by an operator: "agent key leaked"'));
    expect(engine.stats()).toMatchObject({ liveSessions: 0, revokedSessions: 1 });
    expect(engine.session("early")).toEqual({ session: "early", status: "ended", calls: null, denials: null, firstSeen: null, lastSeen: iso(T0 + 5_000), intent: null, labels: null, revoked: { by: "operator", rules: [], reasons: ['revoked by an operator: "agent key leaked"'], at: iso(T0), tool: null } } satisfies SessionSummary);
  });

  it("keeps the revocation as long as a rule's: revokedSessionMs after the last attempt, then the id starts afresh", () => {
    const { engine, clock, attempt } = setup({ revokedSessionMs: 60 * 60_000 });
    engine.revoke("early", "r");
    engine.decide(attempt("live"));
    engine.revoke("live", "r");
    clock.now += 59 * 60_000;
    expect(engine.decide(attempt("early")).revoked).toBe(true);
    expect(engine.decide(attempt("live")).revoked).toBe(true);
    // An hour after the last (denied) attempt, both are forgotten, as a rule's revocation is.
    clock.now += 61 * 60_000;
    expect(engine.decide(attempt("early"))).toMatchObject({ decision: "allow", revoked: false });
    expect(engine.decide(attempt("live"))).toMatchObject({ decision: "allow", revoked: false });
  });

  it("revoking twice keeps the first revocation and says so; a rule's revocation stands too", () => {
    const { engine, clock, attempt } = setup();
    engine.revoke("s", "first");
    clock.now += 1_000;
    const again = engine.revoke("s", "second");
    expect(again).toEqual({ outcome: "already-revoked", revoked: true, revocation: { by: "operator", rules: [], reasons: ['revoked by an operator: "first"'], at: iso(T0), tool: null }, refusal: null });
    expect(engine.decide(attempt("s")).reasons).toEqual(['revoked by an operator: "first"']);
    expect(engine.decide(attempt("r", "kill"))).toMatchObject({ decision: "deny", rules: ["kill"], revoked: true });
    expect(engine.revoke("r", "too late")).toEqual({ outcome: "already-revoked", revoked: true, revocation: { by: "rules", rules: ["kill"], reasons: ["kill switch"], at: iso(clock.now), tool: "t" }, refusal: null });
    expect(engine.decide(attempt("r"))).toMatchObject({ rules: ["kill"], reasons: ["kill switch"] });
  });

  it("an engine at maxSessions still revokes an id not seen yet (records are not live sessions); a store at its size limit refuses and says so", () => {
    const { engine, attempt } = setup({ maxSessions: 1 });
    expect(engine.decide(attempt("a")).decision).toBe("allow");
    expect(engine.decide(attempt("b")).reasons[0]).toMatch(/at capacity/);
    expect(engine.revoke("b", "r").outcome).toBe("revoked");
    expect(engine.decide(attempt("b"))).toMatchObject({ revoked: true, reasons: ['revoked by an operator: "r"'] });

    // The store's limit of sessions and records together (16 million), made small here.
    const full = setup();
    (full.engine as unknown as { sessions: SessionStore }).sessions = new SessionStore(full.engine.sessions.use, ["t"], { storeLimit: 2 });
    expect(full.engine.decide(full.attempt("a")).decision).toBe("allow");
    expect(full.engine.revoke("b", "r").outcome).toBe("revoked");
    const refused = full.engine.revoke("c", "r");
    expect(refused).toEqual({
      outcome: "refused",
      revoked: false,
      revocation: null,
      refusal: 'session "c" cannot be revoked before its first attempt: the engine already holds 2 live, expired and revoked sessions, as many as it can keep, and makes room only as expired and revoked sessions are forgotten (expiredSessionMs and revokedSessionMs after their last attempt): lower those',
    });
    expect(full.engine.stats()).toMatchObject({ liveSessions: 1, revokedSessions: 1 });
    // A session it holds is revoked at capacity all the same.
    expect(full.engine.revoke("a", "r").outcome).toBe("revoked");
  });

  it("refuses bad arguments with a TypeError that says what to pass, changing nothing", () => {
    const { engine, attempt } = setup();
    engine.decide(attempt("s"));
    const ids = "a non-empty string of at most 1,024 characters";
    const bad = (call: () => unknown, message: string): void => expect(call).toThrow(new TypeError(message));
    bad(() => engine.revoke(undefined as unknown as string, "r"), `engine.revoke(sessionId, reason) takes a session id as request.session carries it, ${ids}, not undefined`);
    bad(() => engine.revoke(7 as unknown as string, "r"), `engine.revoke(sessionId, reason) takes a session id as request.session carries it, ${ids}, not a number`);
    bad(() => engine.revoke("", "r"), `engine.revoke(sessionId, reason) takes a session id as request.session carries it, ${ids}, not an empty string`);
    bad(() => engine.revoke("x".repeat(1_025), "r"), `engine.revoke(sessionId, reason) takes a session id as request.session carries it, ${ids}, not one of 1,025 characters`);
    bad(() => engine.revoke("s", undefined as unknown as string), "engine.revoke(sessionId, reason) takes the reason as a string, which its denials give (quoted) and the audit log keeps, not undefined");
    bad(() => engine.revoke("s", { why: "x" } as unknown as string), "engine.revoke(sessionId, reason) takes the reason as a string, which its denials give (quoted) and the audit log keeps, not an object");
    bad(() => engine.session(null as unknown as string), `engine.session(sessionId) takes a session id as request.session carries it, ${ids}, not null`);
    expect(engine.stats()).toMatchObject({ liveSessions: 1, revokedSessions: 0 });
    expect(engine.decide(attempt("s")).decision).toBe("allow");
    // The longest id a request may carry is taken.
    expect(engine.revoke("x".repeat(1_024), "r").outcome).toBe("revoked");
  });

  it("an ask awaiting approval can no longer be approved once the session is revoked", () => {
    const { engine, clock, attempt } = setup();
    const asked = attempt("s", "ask");
    expect(engine.decide(asked).decision).toBe("ask");
    expect(engine.approvalRefusal(asked)).toBeUndefined();
    engine.revoke("s", "stop it");
    clock.now += 1_000;
    expect(engine.approvalRefusal(asked)).toBe('session "s" is revoked by an operator: "stop it", so no ask of it can be approved: every later attempt in it is denied');
    expect(engine.approved(asked)).toBe(false);
    expect(engine.session("s")).toMatchObject({ calls: 1, labels: 0 });
  });

  it("survives a reload (sessionsFrom), and an engine a reload retired revokes and reads on the one that has the sessions now", () => {
    const { engine: old, clock, attempt } = setup();
    old.decide(attempt("live"));
    old.revoke("live", "one");
    old.revoke("early", "two");
    const reloaded = compile(POLICY, { clock: () => clock.now, sessionsFrom: old });
    expect(reloaded.stats()).toMatchObject({ revokedSessions: 2 });
    expect(reloaded.decide(attempt("live"))).toEqual(OPERATOR_DENIAL('revoked by an operator: "one"'));
    expect(reloaded.decide(attempt("early"))).toEqual(OPERATOR_DENIAL('revoked by an operator: "two"'));
    expect(old.revoke("late", "three").outcome).toBe("revoked");
    expect(reloaded.decide(attempt("late"))).toEqual(OPERATOR_DENIAL('revoked by an operator: "three"'));
    expect(old.session("live")).toEqual(reloaded.session("live"));
    expect(old.session("live")).toMatchObject({ status: "live", calls: 2, revoked: { by: "operator" } });
    // And past a second reload.
    const again = compile(POLICY, { clock: () => clock.now, sessionsFrom: reloaded });
    expect(again.decide(attempt("early")).reasons).toEqual(['revoked by an operator: "two"']);
  });
});

describe("Engine.session", () => {
  it("gives a frozen snapshot: counts, times, intent, labels and revocation, never live state", () => {
    const { engine, clock, attempt } = setup();
    expect(engine.decide(attempt("s", "x", ["secret"])).decision).toBe("allow");
    clock.now += 30_000;
    expect(engine.decide(attempt("s", "leak")).decision).toBe("deny");
    const summary = engine.session("s")!;
    expect(summary).toEqual({ session: "s", status: "live", calls: 2, denials: 1, firstSeen: iso(T0), lastSeen: iso(T0 + 30_000), intent: "triage", labels: 1, revoked: null } satisfies SessionSummary);
    expect(Object.isFrozen(summary)).toBe(true);
    expect(() => {
      (summary as { calls: number | null }).calls = 0;
    }).toThrow(TypeError);
    // Later attempts change the engine's state, not the snapshot taken.
    clock.now += 1_000;
    engine.decide(attempt("s", "kill"));
    expect(summary.calls).toBe(2);
    const revoked = engine.session("s")!;
    expect(revoked).toMatchObject({ calls: 3, denials: 2, revoked: { by: "rules", rules: ["kill"], reasons: ["kill switch"], at: iso(clock.now), tool: "t" } });
    expect(Object.isFrozen(revoked.revoked) && Object.isFrozen(revoked.revoked!.rules) && Object.isFrozen(revoked.revoked!.reasons)).toBe(true);
    expect(engine.session("nobody")).toBeUndefined();
    // An ended session: its record (state freed after idling), then forgotten.
    const idle = setup();
    idle.engine.decide(idle.attempt("i"));
    idle.clock.now += 3 * 3_600_000;
    expect(idle.engine.session("i")).toMatchObject({ status: "ended", lastSeen: iso(T0), revoked: null });
    idle.clock.now += 25 * 3_600_000;
    expect(idle.engine.session("i")).toBeUndefined();
  });

  it("reports an ended session alike whether or not a sweep has freed its state: no state fields either way", () => {
    const { engine, clock, attempt } = setup();
    engine.decide(attempt("i"));
    engine.decide(attempt("i"));
    clock.now = T0 + 3 * 3_600_000;
    const before = engine.session("i");
    expect(before).toEqual({ session: "i", status: "ended", calls: null, denials: null, firstSeen: null, lastSeen: iso(T0), intent: null, labels: null, revoked: null } satisfies SessionSummary);
    // Another session's attempt runs the regular sweep, which frees i's state.
    engine.decide(attempt("other"));
    expect(engine.session("i")).toEqual(before);
  });

  it("reading sessions never changes a decision: the same traffic decides alike with and without session() between its requests", () => {
    const run = (read: boolean): unknown[] => {
      const { engine, clock, attempt } = setup({ sessionIdleMs: 60 * 60_000, expiredSessionMs: 3 * 60 * 60_000, revokedSessionMs: 4 * 60 * 60_000, maxSessions: 3 });
      const out: unknown[] = [];
      const ids = ["a", "b", "c", "d", "e"];
      // Steps across the idle time, twice it (the sweep's), and the memory of expired and revoked sessions.
      const steps = [0, 10 * 60_000, 61 * 60_000, 5_000, 121 * 60_000, 30_000, 3 * 60 * 60_000 + 1, 1_000, 4 * 60 * 60_000, 500];
      let i = 0;
      for (const step of steps) {
        for (const id of ids) {
          clock.now += step;
          if (read) for (const other of ids) out.push(engine.session(other)?.status ?? "none");
          const q = ["x", "leak", "kill", "ask", "x"][i++ % 5]!;
          if (i % 7 === 0) engine.revoke(id, "op");
          out.push(engine.decide(attempt(id, q, i % 3 === 0 ? ["secret"] : [])));
          out.push(engine.stats());
        }
      }
      return read ? out.filter((entry) => typeof entry !== "string") : out;
    };
    const plain = run(false);
    expect(run(true)).toEqual(plain);
    // The traffic reaches expiry, capacity, revocation and forgetting, so the comparison means something.
    const reasons = plain.flatMap((entry) => ((entry as Decision).reasons ?? []) as string[]).join("\n");
    for (const seen of ["has expired", "at capacity", "kill switch", "revoked by an operator"]) expect(reasons).toContain(seen);
  });
});
