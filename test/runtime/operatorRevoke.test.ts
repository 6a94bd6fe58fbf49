import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";
import type { Decision, Engine, RevokeResult, SessionSummary } from "../../src/runtime/index.js";
import { explain } from "../../src/runtime/explain.js";
import { MAX_REVOKED_BEFORE_START, SessionStore } from "../../src/runtime/session.js";

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
    expect(engine.session("early")).toEqual({ session: "early", status: "ended", calls: null, denials: null, firstSeen: null, lastSeen: iso(T0 + 5_000), intent: null, labels: null, labelNames: null, tools: null, pendingAsks: null, pendingAskCount: null, labelsDropped: null, ownLabelsDropped: null, asksNotKept: null, windowOverflowed: null, undeclaredToolsUnnamed: null, endCause: "revoked-before-start", endReason: 'revoked by an operator: "agent key leaked"', revoked: { by: "operator", rules: [], reasons: ['revoked by an operator: "agent key leaked"'], at: iso(T0), tool: null } } satisfies SessionSummary);
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

  it("holds at most maxSessions ids revoked before their first attempt: past that it refuses, and says why; sessions it holds are revoked all the same", () => {
    const { engine, clock, attempt } = setup({ maxSessions: 3, revokedSessionMs: 60 * 60_000 });
    engine.decide(attempt("live"));
    for (const id of ["e1", "e2", "e3"]) expect(engine.revoke(id, "flood").outcome).toBe("revoked");
    expect(engine.revoke("e4", "flood")).toEqual({
      outcome: "refused",
      revoked: false,
      revocation: null,
      refusal: 'session "e4" cannot be revoked before its first attempt: the engine already holds 3 sessions revoked before their first attempt, as many as it keeps (maxSessions, 3), and forgets them 1 hour after their last attempt (revokedSessionMs): revoke sessions once they have started, raise maxSessions, or lower revokedSessionMs',
    } satisfies RevokeResult);
    expect(engine.decide(attempt("e4")).decision).toBe("allow");
    // A session that has started is revoked at the cap, and one revoked already says so.
    expect(engine.revoke("live", "r").outcome).toBe("revoked");
    expect(engine.revoke("e1", "again").outcome).toBe("already-revoked");
    // Ids revoked early still count once their first attempt is denied, until forgotten.
    expect(engine.decide(attempt("e1")).revoked).toBe(true);
    expect(engine.revoke("e5", "flood").outcome).toBe("refused");
    clock.now += 61 * 60_000;
    engine.decide(attempt("sweeper"));
    expect(engine.revoke("e5", "flood").outcome).toBe("revoked");
    // The count goes with the records across a reload.
    const reloaded = compile(POLICY, { clock: () => clock.now, sessionsFrom: engine, maxSessions: 3 });
    expect(reloaded.revoke("e6", "flood").outcome).toBe("revoked");
    expect(reloaded.revoke("e7", "flood").outcome).toBe("revoked");
    expect(reloaded.revoke("e8", "flood").outcome).toBe("refused");
  });

  it("without maxSessions, holds MAX_REVOKED_BEFORE_START (100,000) ids revoked before their first attempt, each costing its id and a small object", () => {
    expect(MAX_REVOKED_BEFORE_START).toBe(100_000);
    const { engine } = setup();
    // Reasons alike are kept once: a record does not carry its own copy of a long reason.
    const reason = `automated: detector alert ${"x".repeat(500)}`;
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as () => void;
    gc();
    const before = process.memoryUsage().heapUsed;
    const MEASURED = 20_000;
    for (let i = 0; i < MEASURED; i++) expect(engine.revoke(`flood-${i}`, reason).outcome).toBe("revoked");
    gc();
    const perRecord = (process.memoryUsage().heapUsed - before) / MEASURED;
    // About 270 bytes (the id, its map entry, its record); a copy of the reason each was over 1,000.
    expect(perRecord).toBeLessThan(600);
    let i = MEASURED;
    for (; i < MAX_REVOKED_BEFORE_START; i++) if (engine.revoke(`flood-${i}`, reason).outcome !== "revoked") break;
    expect(i).toBe(MAX_REVOKED_BEFORE_START);
    expect(engine.revoke("one-more", reason).refusal).toBe(
      'session "one-more" cannot be revoked before its first attempt: the engine already holds 100,000 sessions revoked before their first attempt, as many as it keeps (100,000 without maxSessions), and keeps them for ever (revokedSessionMs): revoke sessions once they have started, raise maxSessions, or lower revokedSessionMs',
    );
    expect(engine.stats()).toMatchObject({ revokedSessions: 100_000 });
  });

  it("never changes another session: a store at its size limit refuses without sweeping for room", () => {
    const run = (revoke: boolean): { revoked: string | undefined; decision: Decision } => {
      const { engine, clock, attempt } = setup();
      (engine as unknown as { sessions: SessionStore }).sessions = new SessionStore(engine.sessions.use, ["t"], { storeLimit: 2 });
      engine.decide(attempt("a"));
      engine.decide(attempt("b"));
      // The engine's clock moves 70 minutes, past the idle time and the sweep for room's margin.
      clock.now = T0 + 70 * 60_000;
      const revoked = revoke ? engine.revoke("c", "op").outcome : undefined;
      // a's next call, dated 50 minutes after its last: within sessionIdleMs by its own times.
      return { revoked, decision: engine.decide({ ...attempt("a"), time: iso(T0 + 50 * 60_000) }) };
    };
    const plain = run(false);
    expect(plain.decision).toMatchObject({ decision: "allow" });
    expect(run(true)).toEqual({ revoked: "refused", decision: plain.decision });
  });

  it("a clock giving no time still revokes an id not seen yet when revocations are kept for ever; when they are kept for a while, it refuses", () => {
    // A clock that gives no time (a Date) until fixed: the engine decides no request meanwhile.
    const broken = { yes: true };
    const at = { now: T0 };
    const noClock = { clock: (): number => (broken.yes ? (new Date() as unknown as number) : at.now) };
    const { engine, attempt } = setup(noClock);
    expect(engine.revoke("s", "r")).toEqual({ outcome: "revoked", revoked: true, revocation: { by: "operator", rules: [], reasons: ['revoked by an operator: "r"'], at: null, tool: null }, refusal: null });
    expect(engine.session("s")).toMatchObject({ status: "ended", lastSeen: null, revoked: { by: "operator" } });
    broken.yes = false;
    expect(engine.decide(attempt("s"))).toEqual(OPERATOR_DENIAL('revoked by an operator: "r"'));
    // Its first attempt gives the record its time.
    expect(engine.session("s")).toMatchObject({ status: "ended", lastSeen: iso(T0) });
    broken.yes = true;
    const kept = setup({ ...noClock, revokedSessionMs: 60 * 60_000 });
    expect(kept.engine.revoke("s", "r")).toMatchObject({ outcome: "refused", revoked: false });
    expect(kept.engine.revoke("s", "r").refusal).toMatch(/^session "s" cannot be revoked before its first attempt: the engine's clock \(EngineOptions\.clock\) .* and no request came yet, so there is no time to keep the revocation from \(revokedSessionMs\)$/);
    broken.yes = false;
    expect(kept.engine.decide(kept.attempt("s")).decision).toBe("allow");
  });

  it("revoking an expired session switches its record to the revoked lifetime", () => {
    const { engine, clock, attempt } = setup();
    engine.decide(attempt("e"));
    clock.now += 70 * 60_000;
    expect(engine.decide(attempt("e")).reasons[0]).toMatch(/has expired/);
    expect(engine.revoke("e", "after the fact")).toMatchObject({ outcome: "revoked", revocation: { by: "operator", at: iso(clock.now) } });
    // Past expiredSessionMs (a day), an expired record is forgotten; a revoked one is kept for ever.
    clock.now += 25 * 3_600_000;
    expect(engine.decide(attempt("e"))).toEqual(OPERATOR_DENIAL('revoked by an operator: "after the fact"'));
    const plain = setup();
    plain.engine.decide(plain.attempt("e"));
    plain.clock.now += 70 * 60_000;
    plain.engine.decide(plain.attempt("e"));
    plain.clock.now += 25 * 3_600_000;
    expect(plain.engine.decide(plain.attempt("e")).decision).toBe("allow");
  });

  it("revoking a live session its next lookup would free keeps the revocation on the record that lookup leaves", () => {
    const { engine, clock, attempt } = setup();
    engine.decide(attempt("l"));
    engine.decide(attempt("l"));
    // Three hours by the engine's clock, no sweep yet: the next lookup frees the state (twice the idle time).
    clock.now += 3 * 3_600_000;
    expect(engine.revoke("l", "late")).toMatchObject({ outcome: "revoked" });
    // (Remembered from the revocation on, as after a denied attempt.)
    expect(engine.session("l")).toMatchObject({ status: "ended", calls: null, lastSeen: iso(clock.now), revoked: { by: "operator", reasons: ['revoked by an operator: "late"'] } });
    expect(engine.decide(attempt("l"))).toEqual(OPERATOR_DENIAL('revoked by an operator: "late"'));
    clock.now += 25 * 3_600_000;
    expect(engine.decide(attempt("l")).revoked).toBe(true);
  });

  it("a reload that ends a session an operator revoked keeps it revoked", () => {
    const { engine: old, clock, attempt } = setup();
    old.decide(attempt("s"));
    old.revoke("s", "stop");
    // The new policy no longer has the intent the session declared: the reload ends it.
    const reloaded = compile([{ path: "p.policy", text: POLICY[0]!.text.replace("intent triage", "intent other") }], { clock: () => clock.now, sessionsFrom: old });
    expect(reloaded.stats().reload).toMatchObject({ carriedSessions: 0 });
    expect(reloaded.session("s")).toMatchObject({ status: "ended", calls: null, revoked: { by: "operator", reasons: ['revoked by an operator: "stop"'] } });
    expect(reloaded.decide({ ...attempt("s"), intent: "other" })).toEqual(OPERATOR_DENIAL('revoked by an operator: "stop"'));
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
    expect(summary).toEqual({ session: "s", status: "live", calls: 2, denials: 1, firstSeen: iso(T0), lastSeen: iso(T0 + 30_000), intent: "triage", labels: 1, labelNames: ["secret"], tools: null, pendingAsks: [], pendingAskCount: 0, labelsDropped: false, ownLabelsDropped: false, asksNotKept: 0, windowOverflowed: null, undeclaredToolsUnnamed: null, endCause: null, endReason: null, revoked: null } satisfies SessionSummary);
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
    expect(before).toEqual({ session: "i", status: "ended", calls: null, denials: null, firstSeen: null, lastSeen: iso(T0), intent: null, labels: null, labelNames: null, tools: null, pendingAsks: null, pendingAskCount: null, labelsDropped: null, ownLabelsDropped: null, asksNotKept: null, windowOverflowed: null, undeclaredToolsUnnamed: null, endCause: "idle", endReason: expect.stringContaining("so the engine freed its state (sessionIdleMs is 1 hour)"), revoked: null } satisfies SessionSummary);
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
