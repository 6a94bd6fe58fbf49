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
    expect(engine.stats()).toEqual({ liveSessions: 0, maxSessions: 10, expiredSessions: 0, revokedSessions: 0, retired: false } satisfies EngineStats);
    for (const id of ["a", "b", "c"]) expect(engine.decide(attempt(id)).decision).toBe("allow");
    expect(engine.decide(attempt("c", "kill")).revoked).toBe(true);
    expect(engine.stats()).toEqual({ liveSessions: 3, maxSessions: 10, expiredSessions: 0, revokedSessions: 1, retired: false });
    // Two hours on, "b" comes back expired (its record is kept); "a" and revoked "c" keep their
    // state until the sweep frees it (idle for twice sessionIdleMs): "c" is live and revoked.
    now += 2 * 3_600_000;
    expect(engine.decide(attempt("b")).reasons[0]).toMatch(/^session "b" has expired/);
    expect(engine.decide(attempt("d")).decision).toBe("allow");
    expect(engine.stats()).toEqual({ liveSessions: 3, maxSessions: 10, expiredSessions: 1, revokedSessions: 1, retired: false });
    // Three hours more: a new session's attempt sweeps "a", "c" and "d" into records.
    now += 3 * 3_600_000;
    expect(engine.decide(attempt("e")).decision).toBe("allow");
    const later = engine.stats();
    expect(later).toEqual({ liveSessions: 1, maxSessions: 10, expiredSessions: 3, revokedSessions: 1, retired: false });
    // A reload: the new engine holds them all, the old one is retired and holds none.
    const reloaded = compile(POLICY, { clock, sessionsFrom: engine });
    expect(reloaded.stats()).toEqual({ ...later, maxSessions: null });
    expect(engine.stats()).toEqual({ liveSessions: 0, maxSessions: 10, expiredSessions: 0, revokedSessions: 0, retired: true });
  });

  it("changes nothing", () => {
    const engine = compile(POLICY, { clock: () => T0 });
    engine.decide(attempt("a", "kill"));
    const before = engine.stats();
    expect([engine.stats(), engine.stats()]).toEqual([before, before]);
    expect(engine.decide(attempt("a")).revoked).toBe(true);
  });
});
