import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import type { Engine, EngineOptions } from "../../src/runtime/engine.js";
import { explain } from "../../src/runtime/explain.js";

/**
 * A request the engine refuses before reading it in full (an unreadable or skewed `time`, no
 * `tool`) is still an attempt of its session (contract §5, step 8: "the attempt is counted"),
 * so an agent that can set `time` cannot make refused attempts unseen by `session.denials`
 * (audit S, finding 4). It has no time of its own: it counts at its session's latest attempt
 * (a session it would start counts it in calls and denials from its first dated attempt),
 * moving no clock.
 */

const POLICY = `tool kb.search { args { query: string } }
policy p {
  @name("search") allow kb.search
  @name("too-many-denials") deny * when session.denials >= 3 reason "3 refusals: session revoked" revoke
  @name("calls") deny * when session.calls >= 10
}
`;
const T0 = Date.parse("2026-11-30T09:00:00Z");
const at = (seconds: number): string => new Date(T0 + seconds * 1000).toISOString();
const search = (session: string, time: unknown): Record<string, unknown> => ({ session, time, tool: "kb.search", args: { query: "x" } });
const engineWith = (options: EngineOptions = {}): Engine => compile([{ path: "p.policy", text: POLICY }], { clock: () => T0, ...options });
const UNREADABLE: readonly unknown[] = ["yesterday", "2026-11-30 09:00", 1764493200];

describe("attempts without a usable time", () => {
  it("count as denials of their session, on an engine that has seen no time yet (the audit's repro)", () => {
    const engine = engineWith();
    for (const time of UNREADABLE) expect(engine.decide(search("s", time))).toMatchObject({ decision: "deny", rules: [], revoked: false });
    const request = search("s", at(3));
    expect(explain(engine, request).rules.find((rule) => rule.id === "too-many-denials")?.matched).toBe(true);
    expect(engine.decide(request)).toMatchObject({ decision: "deny", rules: ["too-many-denials"], revoked: true });
  });

  it("count in a session already running, and in one they start once the engine has seen a time", () => {
    const engine = engineWith();
    expect(engine.decide(search("running", at(0))).decision).toBe("allow");
    for (const session of ["running", "new"]) {
      for (const time of UNREADABLE) engine.decide(search(session, time));
      expect(engine.decide(search(session, at(5))), session).toMatchObject({ decision: "deny", rules: ["too-many-denials"], revoked: true });
    }
  });

  it("start no session: one dated at another session's time would start old (session.age past a `deny … when session.age < 10m`)", () => {
    const policy = `tool pay { args { n: int } }\npolicy p {\n  allow pay\n  @name("young") deny pay when session.age < 10m reason "a session must run 10 minutes before it may pay"\n}\n`;
    const engine = compile([{ path: "p.policy", text: policy }], { clock: () => T0 + 3_600_000 });
    const pay = (session: string, time: unknown): Record<string, unknown> => ({ session, time, tool: "pay", args: { n: 1 } });
    expect(engine.decide(pay("old", at(0))).rules).toEqual(["young"]);
    expect(engine.decide(pay("new", "garbage")).rules).toEqual([]);
    expect(engine.decide(pay("new", at(1800)))).toMatchObject({ decision: "deny", rules: ["young"] });
    // Started by its dated attempt, when that arrived by the engine's clock.
    expect(engine.sessions.get("new")).toMatchObject({ calls: 2, denials: 2, firstSeen: T0 + 3_600_000 });
  });

  it("count whatever made them unreadable: no tool, a time too far from the engine's clock (maxTimeSkewMs)", () => {
    const engine = engineWith({ maxTimeSkewMs: 60_000 });
    engine.decide({ session: "s", time: at(0), args: {} });
    engine.decide({ session: "s", time: at(1), tool: 7, args: {} });
    expect(engine.decide(search("s", at(3600))).errors[0]).toMatch(/ahead of the engine's clock/);
    expect(engine.decide(search("s", at(3)))).toMatchObject({ decision: "deny", rules: ["too-many-denials"], revoked: true });
  });

  it("count in session.calls too; a request without a readable session id counts nowhere", () => {
    const engine = engineWith();
    const noSession = { time: at(0), tool: "kb.search", args: { query: "x" } };
    expect(engine.decide(search("s", at(0))).decision).toBe("allow");
    for (let i = 0; i < 5; i++) expect(engine.decide(noSession).reasons[0]).toMatch(/request.session is missing/);
    expect(engine.decide(search("s", at(1))).decision).toBe("allow");
    for (let i = 0; i < 8; i++) engine.decide(search("s", "yesterday"));
    // 2 dated and 8 undated attempts: 10 calls, 8 denials.
    expect(engine.decide(search("s", at(2))).rules).toEqual(["too-many-denials", "calls"]);
  });

  it("count in session.count windows at their session's latest attempt", () => {
    const engine = compile([{ path: "p.policy", text: `tool kb.search { args { query: string } }\npolicy p {\n  @name("search") allow kb.search\n  @name("burst") deny * when session.count(within 1m) > 3\n}\n` }], { clock: () => T0 });
    expect(engine.decide(search("s", at(0))).decision).toBe("allow");
    for (const time of UNREADABLE) engine.decide(search("s", time));
    // 4 attempts dated at 0s, this one at 30s: 5 within the minute.
    expect(engine.decide(search("s", at(30))).rules).toEqual(["burst"]);
    // At 100s the window reaches back to 40s: only the one at 30s and this one.
    expect(engine.decide(search("s", at(100))).rules).toEqual(["search"]);
  });

  it("move no clock: they neither keep their session alive nor expire another one", () => {
    // The engine's clock far ahead of the requests' times (a replay runs so: its clock is the wall clock).
    const engine = engineWith({ clock: () => T0 + 10 * 24 * 3600_000, sessionIdleMs: 3600_000 });
    expect(engine.decide(search("a", at(0))).decision).toBe("allow");
    expect(engine.decide(search("b", at(0))).decision).toBe("allow");
    // Undated attempts of b at its own latest time: a goes on, and b's idle time still runs from its last dated attempt.
    engine.decide(search("b", "yesterday"));
    expect(engine.decide(search("a", at(60))).decision).toBe("allow");
    engine.decide(search("b", "yesterday"));
    expect(engine.decide(search("b", at(3601))).errors[0]).toMatch(/session "b" has expired/);
  });

  it("a revoked session stays revoked, and an explanation changes nothing", () => {
    const engine = engineWith();
    for (const time of UNREADABLE) engine.decide(search("s", time));
    engine.decide(search("s", at(0)));
    expect(explain(engine, search("s", "yesterday")).note).toMatch(/revoked by too-many-denials/);
    expect(engine.decide(search("s", "yesterday"))).toMatchObject({ decision: "deny", rules: ["too-many-denials"], revoked: true });
    const fresh = engineWith();
    expect(explain(fresh, search("s", "yesterday")).note).toMatch(/request.time must be/);
    expect(fresh.decide(search("s", at(0))).decision).toBe("allow");
  });

  describe("of sessions not started yet (counted for the latest 10,000 such sessions, however long before they start)", () => {
    const HOUR = 3600;
    // The wall clock a month after the requests: the store's clock follows their times.
    const engineWith = (options: EngineOptions = {}): Engine => compile([{ path: "p.policy", text: POLICY }], { clock: () => T0 + 30 * 24 * HOUR * 1000, ...options });
    const flood = (engine: Engine, count: number, prefix = "junk"): void => {
      for (let i = 0; i < count; i++) engine.decide(search(`${prefix}${i}`, "bad"));
    };

    it("of ids that never start do not stop a later session's from counting: past 10,000 the one counted longest ago goes (audit T, F3)", () => {
      const engine = engineWith();
      flood(engine, 10_001);
      for (let day = 0; day < 5; day++) engine.decide(search(`busy${day}`, at(day * 24 * HOUR)));
      for (let i = 0; i < 3; i++) engine.decide(search("victim", "bad"));
      expect(engine.decide(search("victim", at(4 * 24 * HOUR + 60)))).toMatchObject({ decision: "deny", rules: ["too-many-denials"] });
      // The latest 10,000 are kept: junk1 was pushed out (by junk10000 and the victim), junk9999 was not.
      expect(engine.decide(search("junk1", at(4 * 24 * HOUR + 61))).rules).toEqual(["search"]);
      expect(engine.decide(search("junk9999", at(4 * 24 * HOUR + 62)))).toMatchObject({ decision: "allow" });
      expect(engine.sessions.get("junk9999")).toMatchObject({ calls: 2, denials: 1 });
    });

    it("count however long before the session starts, whatever times other sessions' requests carry (audit X: a quiet hour, then another session dated in the past)", () => {
      for (const other of [at(30 * 60), "1970-01-01T00:00:00Z", at(2 * HOUR - 61 * 60)]) {
        const engine = engineWith();
        engine.decide(search("busy", at(0)));
        for (let i = 0; i < 3; i++) engine.decide(search("s", "bad"));
        engine.decide(search("other", other));
        expect(engine.decide(search("s", at(2 * HOUR))), other).toMatchObject({ decision: "deny", rules: ["too-many-denials"], revoked: true });
      }
      // Days later too: the attempts have no time to be judged old by.
      const engine = engineWith();
      for (let i = 0; i < 3; i++) engine.decide(search("s", "bad"));
      engine.decide(search("busy", at(0)));
      expect(engine.decide(search("s", at(3 * 24 * HOUR))).rules).toEqual(["too-many-denials"]);
    });

    it("carry over a reload (sessionsFrom)", () => {
      const old = engineWith();
      old.decide(search("busy", at(0)));
      for (let i = 0; i < 3; i++) old.decide(search("s", "bad"));
      const reloaded = engineWith({ sessionsFrom: old });
      expect(reloaded.decide(search("s", at(2 * HOUR))).rules).toEqual(["too-many-denials"]);
    });
  });
});
