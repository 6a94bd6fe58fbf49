import { describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";
import type { EngineStats } from "../../src/runtime/index.js";

/**
 * `Engine.stats()`: what an operator alerts on without reaching into the session store —
 * `maxSessions` saturated, revocations piling up, traffic still reaching an engine a reload retired.
 */
const POLICY = [{ path: "p.policy", text: `tool t { risk low args { q: string } }\npolicy p {\n  @name("ok") allow t\n  @name("kill") deny t when args.q == "kill" revoke\n}\n` }];
const T0 = Date.parse("2026-11-30T10:00:00Z");
const attempt = (session: string, q = "x"): Record<string, unknown> => ({ session, tool: "t", args: { q } });

describe("Engine.stats", () => {
  it("counts live, expired and revoked sessions, says maxSessions and whether a reload retired the engine", () => {
    let now = T0;
    const clock = (): number => now;
    const engine = compile(POLICY, { clock, maxSessions: 10 });
    expect(engine.stats()).toEqual({ liveSessions: 0, maxSessions: 10, expiredSessions: 0, revokedSessions: 0, retired: false, reload: null } satisfies EngineStats);
    for (const id of ["a", "b", "c"]) expect(engine.decide(attempt(id)).decision).toBe("allow");
    expect(engine.decide(attempt("c", "kill")).revoked).toBe(true);
    expect(engine.stats()).toEqual({ liveSessions: 3, maxSessions: 10, expiredSessions: 0, revokedSessions: 1, retired: false, reload: null });
    // Two hours on, "b" comes back expired (its record is kept); "a" and revoked "c" keep their
    // state until the sweep frees it (idle for twice sessionIdleMs): "c" is live and revoked.
    now += 2 * 3_600_000;
    expect(engine.decide(attempt("b")).errors[0]).toMatch(/^session "b" has expired/);
    expect(engine.decide(attempt("d")).decision).toBe("allow");
    expect(engine.stats()).toEqual({ liveSessions: 3, maxSessions: 10, expiredSessions: 1, revokedSessions: 1, retired: false, reload: null });
    // Three hours more: a new session's attempt sweeps "a", "c" and "d" into records.
    now += 3 * 3_600_000;
    expect(engine.decide(attempt("e")).decision).toBe("allow");
    const later = engine.stats();
    expect(later).toEqual({ liveSessions: 1, maxSessions: 10, expiredSessions: 3, revokedSessions: 1, retired: false, reload: null });
    // A reload: the new engine holds them all, the old one is retired and holds none.
    const reloaded = compile(POLICY, { clock, sessionsFrom: engine });
    // (The one live session, "e", goes on; the records of expired ones are not live sessions to carry.)
    expect(reloaded.stats()).toEqual({ ...later, maxSessions: null, reload: { carriedSessions: 1, taintedSessions: 0, endedSessions: 0, endReasons: [] } });
    expect(engine.stats()).toEqual({ liveSessions: 0, maxSessions: 10, expiredSessions: 0, revokedSessions: 0, retired: true, reload: null });
  });

  it("says what a reload did to the sessions it took over: carried, tainted, ended and why; labels the enum dropped share one reason, revoked sessions are not ended by it", () => {
    // Ten labels a later policy renames: a session holding one ends.
    const labels = Array.from({ length: 10 }, (_, i) => `l${i}`);
    const policy = (members: readonly string[]): { path: string; text: string }[] => [
      { path: "p.policy", text: `enum Label { ${members.join(", ")} }\ncontext { labels: set<Label> }\ntool t { risk low args { q: string } }\npolicy p {\n  allow t\n  deny t when session.labels contains ${members[0]} and args.q == "x"\n  @name("kill") deny t when args.q == "kill" revoke\n}\n` },
    ];
    const old = compile(policy(labels), { clock: () => T0 });
    const sessions = [["a", "l0"], ["b", "l0"], ...labels.slice(1).map((label) => [`s-${label}`, label]), ["clean", undefined]] as const;
    for (const [id, label] of sessions) expect(old.decide({ ...attempt(id), context: { labels: label === undefined ? [] : [label] } }).decision).toBe("allow");
    // A revoked session that holds one stays revoked: the reload ends nothing of it.
    expect(old.decide({ ...attempt("revoked"), context: { labels: ["l5"] } }).decision).toBe("allow");
    expect(old.decide({ ...attempt("revoked", "kill"), context: { labels: [] } }).revoked).toBe(true);
    const renamed = compile(policy(labels.map((label) => `${label}x`)), { clock: () => T0, sessionsFrom: old });
    const reload = renamed.stats().reload!;
    expect(reload).toEqual({
      carriedSessions: 1,
      taintedSessions: 0,
      endedSessions: 11,
      endReasons: [{ reason: 'the policy was reloaded and reads sessions differently: sessions hold labels that are not members of the label enum now (renamed or removed?), among them "l0", "l1", "l2", so no rule can test them and a rule meant for what they stood for would take each session as without them', sessions: 11 }],
    });
    expect(renamed.decide(attempt("revoked"))).toMatchObject({ decision: "deny", rules: ["kill"], revoked: true });
    expect(renamed.decide(attempt("s-l3")).errors[0]).toMatch(/^session "s-l3" has expired: the policy was reloaded and reads sessions differently: the session holds the label "l3", which is not a member of the label enum now/);
    // Every stats() call hands out the same object: nobody may change it.
    expect([Object.isFrozen(reload), Object.isFrozen(reload.endReasons), Object.isFrozen(reload.endReasons[0])]).toEqual([true, true, true]);
    expect(renamed.stats().reload).toBe(reload);
  });

  it("an end reason for one label says \"it\", as the session's decisions do; for several, \"them\" (audit s20 a4 F6)", () => {
    const policy = (members: string): { path: string; text: string }[] => [{ path: "p.policy", text: `enum Label { ${members} }\ncontext { labels: set<Label> }\ntool t { risk low args { q: string } }\npolicy p {\n  allow t\n  deny t when session.labels contains a and args.q == \"x\"\n}\n` }];
    const reasonAfter = (holders: readonly string[]): string => {
      const old = compile(policy("a, b"), { clock: () => T0 });
      for (const id of holders) old.decide({ ...attempt(id), context: { labels: ["b"] } });
      return compile(policy("a"), { clock: () => T0, sessionsFrom: old }).stats().reload!.endReasons[0]!.reason;
    };
    const one = reasonAfter(["s1"]);
    expect(one).toBe('the policy was reloaded and reads sessions differently: the session holds the label "b", which is not a member of the label enum now (renamed or removed?), so no rule can test it and a rule meant for what it stood for would take the session as without it');
    expect(reasonAfter(["s1", "s2"])).toBe('the policy was reloaded and reads sessions differently: sessions hold the label "b", which is not a member of the label enum now (renamed or removed?), so no rule can test it and a rule meant for what it stood for would take each of them as without it');
  });

  it("changes nothing", () => {
    const engine = compile(POLICY, { clock: () => T0 });
    engine.decide(attempt("a", "kill"));
    const before = engine.stats();
    expect([engine.stats(), engine.stats()]).toEqual([before, before]);
    expect(engine.decide(attempt("a")).revoked).toBe(true);
  });
});
