import { afterEach, describe, expect, it, vi } from "vitest";
import type { Bundle } from "../../src/bundle/Bundle.js";
import { contentHash } from "../../src/bundle/hash.js";
import { BundleError, loadBundle } from "../../src/bundle/loadBundle.js";
import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import { compile, compileSources } from "../../src/compile/compile.js";
import { Engine } from "../../src/runtime/engine.js";
import { replayEngine } from "../../src/testing/decideRecorded.js";
import { call, stampedClock, SUPPORT_SOURCES, T0 } from "./fixtures.js";

/**
 * Engine options are the caller's to get right: bad ones are refused when the engine is made,
 * with the same RangeError or TypeError whichever way it is made (`new Engine`, `compile`,
 * `loadBundle`), and never blamed on the bundle.
 */

function bundleJson(): Bundle {
  const { policy } = compileSources(SUPPORT_SOURCES);
  return JSON.parse(serializeBundle(createBundle(policy!, SUPPORT_SOURCES))) as Bundle;
}

/** Every way to make an engine with these options. */
function makers(): [string, (options: object) => unknown][] {
  const { policy } = compileSources(SUPPORT_SOURCES);
  return [
    ["new Engine", (options) => new Engine(policy!, options)],
    ["compile", (options) => compile(SUPPORT_SOURCES, options)],
    ["loadBundle", (options) => loadBundle(bundleJson(), options)],
  ];
}

function thrownBy(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  return undefined;
}

declare global {
  // eslint-disable-next-line no-var
  var optionsPwned: unknown;
}

afterEach(() => {
  delete globalThis.optionsPwned;
  vi.restoreAllMocks();
});

describe("numeric options", () => {
  const cases: [object, RegExp][] = [
    [{ sessionIdleMs: 0 }, /^EngineOptions\.sessionIdleMs must be a positive number of milliseconds, not 0$/],
    [{ sessionIdleMs: -1 }, /sessionIdleMs .* not -1$/],
    [{ expiredSessionMs: Number.NaN }, /expiredSessionMs .* not NaN$/],
    [{ maxWindowEntries: 0 }, /^EngineOptions\.maxWindowEntries must be a whole number of at least 1, not 0$/],
    [{ maxWindowEntries: 1.5 }, /maxWindowEntries .* not 1\.5$/],
    // At most 100 years (audit s20 a4 F5): Infinity is no lifetime, and forever is the unset revokedSessionMs.
    [{ sessionIdleMs: Number.POSITIVE_INFINITY }, /^EngineOptions\.sessionIdleMs must be at most 100 years \(3,155,760,000,000 ms\), not Infinity$/],
    [{ expiredSessionMs: 1e300 }, /^EngineOptions\.expiredSessionMs must be at most 100 years \(3,155,760,000,000 ms\), not about 3\.2e\+289 years$/],
    // 285,000 years was accepted, and the store never made room under maxSessions (review r3 R4).
    [{ sessionIdleMs: Number.MAX_SAFE_INTEGER }, /^EngineOptions\.sessionIdleMs must be at most 100 years \(3,155,760,000,000 ms\), not about 285,000 years$/],
    [{ revokedSessionMs: Number.POSITIVE_INFINITY }, /^EngineOptions\.revokedSessionMs must be at most 100 years .*, not Infinity: leave it unset to remember revoked sessions forever$/],
  ];

  it("are refused with a RangeError, also by loadBundle (not a BundleError blaming the bundle)", () => {
    for (const [name, make] of makers()) {
      for (const [options, message] of cases) {
        const error = thrownBy(() => make(options));
        expect(error, `${name} ${JSON.stringify(options)}`).toBeInstanceOf(RangeError);
        expect(error).not.toBeInstanceOf(BundleError);
        expect((error as Error).message, name).toMatch(message);
      }
    }
  });
});

describe("options of the wrong kind", () => {
  const cases: [unknown, RegExp][] = [
    [{ sessionIdleMs: "3600000" }, /^EngineOptions\.sessionIdleMs must be a positive number of milliseconds, not the string "3600000"$/],
    [{ revokedSessionMs: "1000" }, /revokedSessionMs .* not the string "1000"$/],
    [{ expiredSessionMs: null }, /expiredSessionMs .* not null$/],
    [{ maxTimeSkewMs: true }, /^EngineOptions\.maxTimeSkewMs must be a number of milliseconds \(0 or more\), not the value true$/],
    [{ maxSessions: "2" }, /^EngineOptions\.maxSessions must be a whole number of at least 1, not the string "2"$/],
    [{ maxWindowEntries: 10n }, /^EngineOptions\.maxWindowEntries must be a whole number of at least 1, not the bigint 10n$/],
  ];

  it("are refused with a TypeError that shows the value as what it is, however the engine is made", () => {
    for (const [name, make] of makers()) {
      for (const [options, message] of cases) {
        const error = thrownBy(() => make(options as object));
        expect(error, `${name} ${String(Object.keys(options as object))}`).toBeInstanceOf(TypeError);
        expect(error).not.toBeInstanceOf(BundleError);
        expect((error as Error).message, name).toMatch(message);
      }
    }
  });

  it("options that are a string, a Buffer or an array (a key passed as the options) say the options must be an object", () => {
    for (const [name, make] of makers()) {
      for (const [options, kind] of [[Buffer.from("-----BEGIN PUBLIC KEY-----"), "a Buffer"], ["-----BEGIN PUBLIC KEY-----", "a string"], [["k"], "an array"]] as const) {
        const error = thrownBy(() => make(options as never));
        expect(error, name).toBeInstanceOf(TypeError);
        expect((error as Error).message, name).toBe(`the options must be an object such as { ${name === "loadBundle" ? "publicKey" : "sessionIdleMs"} }, not ${kind}`);
      }
    }
  });
});

describe("option names", () => {
  it("a misspelled or unknown name is refused with a TypeError naming the likely one, however the engine is made (it would leave a protection off)", () => {
    for (const [name, make] of makers()) {
      const typo = thrownBy(() => make({ maxSesions: 2 }));
      expect(typo, name).toBeInstanceOf(TypeError);
      expect(typo).not.toBeInstanceOf(BundleError);
      expect((typo as Error).message, name).toMatch(/^EngineOptions has no option `maxSesions`: did you mean `maxSessions`\? \(the options are clock, sessionIdleMs, expiredSessionMs, revokedSessionMs, maxWindowEntries, maxSessions, maxTimeSkewMs/);
      expect((thrownBy(() => make({ maxTimeSkewMS: 1000 })) as Error).message, name).toContain("did you mean `maxTimeSkewMs`?");
      expect((thrownBy(() => make({ bogus: 1 })) as Error).message, name).toMatch(/^EngineOptions has no option `bogus` \(the options are /);
    }
    // publicKey is loadBundle's own option, and only its own.
    expect((thrownBy(() => loadBundle(bundleJson(), { publicKey: undefined, sessionIdleMs: 1000 })) as Error).message).toContain("the public key is undefined");
    expect((thrownBy(() => compile(SUPPORT_SOURCES, { publicKey: "k" } as never)) as Error).message).toMatch(/^EngineOptions has no option `publicKey`/);
    // A misspelled publicKey checked no signature: refused, before the bundle's code runs.
    const typo = thrownBy(() => loadBundle(bundleJson(), { publicKy: "k" } as never));
    expect(typo).toBeInstanceOf(TypeError);
    expect((typo as Error).message).toContain("did you mean `publicKey`?");
  });

  it("every documented option is accepted", () => {
    for (const [name, make] of makers()) {
      const engine = make({ clock: () => T0, sessionIdleMs: 1000, expiredSessionMs: 1000, revokedSessionMs: 1000, maxWindowEntries: 10, maxSessions: 10, maxTimeSkewMs: 1000 }) as Engine;
      expect(engine.decide(call("crm.lookup", 0, { session: "s1" })).decision, name).toBe("allow");
    }
  });
});

describe("options are read once, however the engine is made (audit s20 a4 F2)", () => {
  /** Options whose `name` reads `checked` the first time and `used` every time after (a lazily parsed config). */
  function changing(name: string, checked: unknown, used: unknown): object {
    let reads = 0;
    return Object.defineProperty({ clock: () => T0 }, name, { enumerable: true, get: () => (reads++ === 0 ? checked : used) });
  }

  it("a getter that answers otherwise after the checks cannot switch a bound off", () => {
    for (const [name, make] of makers()) {
      const bounded = make(changing("maxSessions", 1, "lots")) as Engine;
      expect(["s1", "s2", "s3"].map((session) => bounded.decide(call("crm.lookup", 0, { session })).decision), name).toEqual(["allow", "deny", "deny"]);
      expect(bounded.stats().maxSessions, name).toBe(1);
      expect(() => make(changing("maxWindowEntries", 0, 100)), name).toThrow(RangeError);
      expect(() => make(changing("sessionIdleMs", "abc", 60_000)), name).toThrow(TypeError);
    }
  });

  it("a getter that throws is a TypeError naming the option, as from loadBundle", () => {
    for (const [name, make] of makers()) {
      const options = Object.defineProperty({}, "sessionIdleMs", { enumerable: true, get: () => { throw new Error("boom"); } });
      // Each names the function the caller called (review r3 R3: compile's said "new Engine").
      const owner = name;
      expect(() => make(options), name).toThrow(new TypeError(`the options of ${owner} cannot be read: reading \`sessionIdleMs\` threw: boom`));
    }
  });
});

describe("clock", () => {
  it("that is not a function is refused with a TypeError when the engine is made", () => {
    for (const [name, make] of makers()) {
      for (const clock of [5, "x", null, {}, true, Date.now()]) {
        const error = thrownBy(() => make({ clock }));
        expect(error, `${name} clock ${String(clock)}`).toBeInstanceOf(TypeError);
        expect(error).not.toBeInstanceOf(BundleError);
        expect((error as Error).message).toMatch(/^EngineOptions\.clock must be a function returning epoch milliseconds, not /);
      }
    }
    expect((thrownBy(() => loadBundle(bundleJson(), { clock: "x" as never })) as Error).message).toBe('EngineOptions.clock must be a function returning epoch milliseconds, not "x"');
  });

  it("a function is used for requests without a time, left out is the wall clock", () => {
    const { time: _time, ...timeless } = call("crm.lookup", 0, { session: "s1" });
    void _time;
    for (const [name, make] of makers()) {
      let calls = 0;
      const engine = make({ clock: () => (calls++, T0) }) as Engine;
      expect(engine.decide(timeless).decision, name).toBe("allow");
      expect(calls, name).toBeGreaterThan(0);
      expect((make({}) as Engine).decide(timeless).errors, name).toEqual([]);
      expect((make({ clock: undefined }) as Engine).decide(timeless).errors, name).toEqual([]);
    }
  });
});

describe("loadBundle", () => {
  /** A bundle whose code is `code`, with its hash made to match (as someone editing it by hand would). */
  function rehashed(code: string): Bundle {
    const bundle = bundleJson();
    (bundle as { code: string }).code = code;
    (bundle.manifest as { contentHash: string }).contentHash = contentHash(bundle);
    return bundle;
  }

  it("checks the options before any of the bundle's code runs", () => {
    const bundle = rehashed(`globalThis.optionsPwned = 1;\n${bundleJson().code}`);
    expect(thrownBy(() => loadBundle(bundle, { sessionIdleMs: 0 }))).toBeInstanceOf(RangeError);
    expect(thrownBy(() => loadBundle(bundle, { clock: 5 as never }))).toBeInstanceOf(TypeError);
    expect(globalThis.optionsPwned).toBeUndefined();
    // The control: with good options the code does run.
    loadBundle(bundle, { sessionIdleMs: 1000 });
    expect(globalThis.optionsPwned).toBe(1);
  });

  it("still refuses a bundle whose code does not load as a BundleError, with good options", () => {
    const error = thrownBy(() => loadBundle(rehashed("throw new RangeError('from the bundle')"), { sessionIdleMs: 1000, clock: () => T0 }));
    expect(error).toBeInstanceOf(BundleError);
    expect((error as Error).message).toBe("the bundle's code does not load: from the bundle");
  });

  it("a bad bundle is a BundleError before bad options are looked at", () => {
    expect(thrownBy(() => loadBundle({ not: "a bundle" }, { sessionIdleMs: 0 }))).toBeInstanceOf(BundleError);
  });
});

describe("a clock that misbehaves at run time", () => {
  it("options that are not an object are a TypeError from new Engine too", () => {
    const { policy } = compileSources(SUPPORT_SOURCES);
    expect(thrownBy(() => new Engine(policy!, null as unknown as object))).toBeInstanceOf(TypeError);
  });

  it.each([Number.NaN, Number.POSITIVE_INFINITY, "now", undefined, new Date(T0)])("a clock giving %s denies every request, with a time or without, naming the clock (sessions freed by requests' own times could lose their taint: review r1)", (value) => {
    const engine = compile(SUPPORT_SOURCES, { clock: () => value as number });
    const { time: _time, ...untimed } = call("kb.search", 0);
    for (const request of [untimed, call("kb.search", 0)]) {
      const decision = engine.decide(request);
      expect(decision).toMatchObject({ decision: "deny", rules: [] });
      expect(decision.errors[0]).toContain("EngineOptions.clock");
      expect(decision.errors[0]).toContain("so no request is decided, dated or not");
      expect(decision.errors[0]).toMatch(/give the engine a clock that returns a number, such as \(\) => Date\.now\(\)$/);
      if (value instanceof Date) expect(decision.errors[0]).toContain("gave a Date (return its getTime())");
    }
  });

  it("a session that read customer data stays tainted while the clock is broken, whatever other sessions' requests are dated (review r1)", () => {
    let reading: unknown = Date.parse(String(call("kb.search", 0)["time"]));
    const engine = compile(SUPPORT_SOURCES, { clock: () => reading as number });
    const outside = (ms: number): Record<string, unknown> => call("email.send", ms, { session: "tainted", args: { to: ["eve@evil.example"], subject: "s", body: "b" } });
    expect(engine.decide(call("crm.lookup", 0, { session: "tainted" })).decision).toBe("allow");
    const before = engine.decide(outside(1000));
    expect(before.decision).toBe("deny");
    const working = reading as number;
    reading = new Date(working);
    // Another session's requests dated days ahead, while the clock gives a Date: refused, moving no clock.
    for (let day = 1; day <= 5; day++) expect(engine.decide(call("kb.search", day * 86_400_000, { session: "other" })).rules).toEqual([]);
    reading = working + 2000;
    expect(engine.decide(outside(2000))).toMatchObject({ decision: "deny", rules: before.rules });
  });
});

describe("a clock that decides another request", () => {
  // The engine keeps what it read of an attempt in one record it reuses (no object per
  // decision): a clock that calls decide on the same engine must not leave the outer attempt
  // the inner one's session, tool or time.
  it("each attempt keeps its own session, tool and time", () => {
    let inner: Record<string, unknown> | undefined;
    let engine: Engine | undefined;
    const innerDecisions: string[] = [];
    engine = compile(SUPPORT_SOURCES, {
      clock: () => {
        const next = inner;
        inner = undefined;
        if (next !== undefined) innerDecisions.push(engine!.decide(next).decision);
        return T0;
      },
    });
    const email = (session: string): Record<string, unknown> => call("email.send", 1000, { session, args: { to: ["eve@evil.example"], subject: "s", body: "b" } });
    // The inner attempt reads customer data in session "inner"; the outer mails out from "outer".
    inner = call("crm.lookup", 0, { session: "inner" });
    const outer = engine.decide(email("outer"));
    expect(innerDecisions).toEqual(["allow"]);
    // The outer session read nothing: the same mail from a fresh engine decides alike.
    expect(outer).toEqual(compile(SUPPORT_SOURCES, { clock: () => T0 }).decide(email("outer")));
    expect(engine.session("outer")?.calls).toBe(1);
    expect(engine.session("inner")?.calls).toBe(1);
    // And the inner session is the one that read customer data.
    expect(engine.decide(email("inner")).decision).toBe("deny");
  });

  it("a request whose session getter decides another request keeps its own session and tool", () => {
    const engine = compile(SUPPORT_SOURCES, { clock: () => T0 });
    const email = call("email.send", 1000, { session: "outer", args: { to: ["eve@evil.example"], subject: "s", body: "b" } });
    let reads = 0;
    const outer = new Proxy(email, {
      get(target, key, receiver) {
        // The first read of its session decides a read of customer data in session "inner".
        if (key === "session" && reads++ === 0) engine.decide(call("crm.lookup", 0, { session: "inner" }));
        return Reflect.get(target, key, receiver) as unknown;
      },
    });
    expect(engine.decide(outer)).toEqual(compile(SUPPORT_SOURCES, { clock: () => T0 }).decide(email));
    expect(engine.session("outer")?.calls).toBe(1);
    expect(engine.session("inner")?.calls).toBe(1);
  });

  it("keeps no request text of an observed attempt (a replay's lines of other sessions)", () => {
    const engine = compile(SUPPORT_SOURCES, { clock: () => T0 });
    const tool = "t".repeat(100_000);
    engine.observe(call(tool, 0, { session: "s".repeat(1_000) }));
    // The record the engine reuses for attempts holds no string of it (test-only peek at a private field).
    expect((engine as unknown as { attempt: { sessionId: string; tool: string } }).attempt).toMatchObject({ sessionId: "", tool: "" });
  });
});

describe("a third argument to new Engine", () => {
  // Replays judge idleness by the recorded times (src/testing's replayEngine passes a value only
  // it can reach). Were that a plain object, an enforcement point could pass it and have a
  // request's own time, not its clock, decide when sessions expire.
  const HOUR = 3_600_000;
  /** The decisions on two kb.search calls dated a minute apart, the engine's clock 3 hours on at the second. */
  function decisions(make: (clock: () => number) => Engine): string[] {
    let now = T0;
    const engine = make(() => now);
    const first = engine.decide(call("kb.search", 0)).decision;
    now = T0 + 3 * HOUR;
    return [first, engine.decide(call("kb.search", 60_000)).decision];
  }

  it("that looks like the replay's switch ({ recordedTimesOnly: true }) is refused with a TypeError; undefined is no argument", () => {
    const { policy } = compileSources(SUPPORT_SOURCES);
    for (const third of [{ recordedTimesOnly: true }, true, Symbol("policyc replay: recorded times only"), null, {}]) {
      const error = thrownBy(() => Reflect.construct(Engine, [policy!, { clock: () => T0 }, third]));
      expect(error, String(third)).toBeInstanceOf(TypeError);
      expect((error as Error).message).toMatch(/^new Engine takes two arguments, the policy and its EngineOptions, not a third \(/);
    }
    expect((thrownBy(() => Reflect.construct(Engine, [policy!, {}, { recordedTimesOnly: true }])) as Error).message).toBe("new Engine takes two arguments, the policy and its EngineOptions, not a third (an object)");
    // The engine's clock, not the request's time, expires the session: as with two arguments.
    expect(decisions((clock) => new Engine(policy!, { clock }))).toEqual(["allow", "deny"]);
    expect(decisions((clock) => Reflect.construct(Engine, [policy!, { clock }, undefined]) as Engine)).toEqual(["allow", "deny"]);
  });

  it("replays (src/testing's replayEngine) still go by the recorded times, where the clock would expire the session", () => {
    const { policy } = compileSources(SUPPORT_SOURCES);
    // A replay's engine takes no clock option: its clock is Date.now, here the test's.
    const replayed = decisions((clock) => {
      vi.spyOn(Date, "now").mockImplementation(clock);
      return replayEngine(policy!, {});
    });
    expect(replayed).toEqual(["allow", "allow"]);
    expect(decisions((clock) => new Engine(policy!, { clock }))).toEqual(["allow", "deny"]);
  });
});

describe("maxTimeSkewMs and maxSessions (opt-in limits for untrusted request times and session ids)", () => {
  const WALL = T0 + 60_000;
  const at = (ms: number): string => new Date(WALL + ms).toISOString();

  it("a request dated further from the clock than maxTimeSkewMs is denied, ahead or behind; within it, decided", () => {
    const engine = compile(SUPPORT_SOURCES, { clock: () => WALL, maxTimeSkewMs: 5 * 60_000 });
    expect(engine.decide({ ...call("kb.search", 0), time: at(4 * 60_000) }).decision).toBe("allow");
    expect(engine.decide({ ...call("kb.search", 0), time: at(-5 * 60_000) }).decision).toBe("allow");
    const ahead = engine.decide({ ...call("kb.search", 0), time: at(15 * 60_000) });
    expect(ahead).toMatchObject({ decision: "deny", rules: [] });
    expect(ahead.errors[0]).toBe("request.time is 15 minutes ahead of the engine's clock, more than maxTimeSkewMs (5 minutes) allows");
    expect(engine.decide({ ...call("kb.search", 0), time: at(-2 * 3_600_000) }).errors[0]).toContain("2 hours behind");
    // A millisecond past the limit reads as past it, not as the limit itself (audit a5, L1).
    expect(engine.decide({ ...call("kb.search", 0), time: at(5 * 60_000 + 1) }).errors[0]).toBe("request.time is just over 5 minutes ahead of the engine's clock, more than maxTimeSkewMs (5 minutes) allows");
    expect(engine.decide({ ...call("kb.search", 0), time: at(-(5 * 60_000 + 1)) }).errors[0]).toContain("just over 5 minutes behind");
    expect(engine.decide({ ...call("kb.search", 0), time: at(5 * 60_000 + 29_000) }).errors[0]).toContain("5.5 minutes ahead");
    // Without the option, recorded times of any age are decided (replays).
    expect(compile(SUPPORT_SOURCES, { clock: () => WALL }).decide({ ...call("kb.search", 0), time: at(-30 * 86_400_000) }).decision).toBe("allow");
  });

  it("past maxSessions live sessions, a new session is denied; known sessions go on, and idle ones make room", () => {
    const engine = compile(SUPPORT_SOURCES, { maxSessions: 2, sessionIdleMs: 60_000, clock: stampedClock });
    expect(engine.decide(call("kb.search", 0, { session: "a" })).decision).toBe("allow");
    expect(engine.decide(call("kb.search", 1000, { session: "b" })).decision).toBe("allow");
    const refused = engine.decide(call("kb.search", 2000, { session: "c" }));
    expect(refused).toMatchObject({ decision: "deny", rules: [] });
    expect(refused.errors[0]).toBe('session "c" cannot start: the engine already holds 2 live sessions (maxSessions), and makes room only once a session has made no attempt for more than 90 seconds by its clock (sessionIdleMs, 1 minute, and a margin of 30 seconds), looking for one at most once a second of that clock: raise maxSessions, or lower sessionIdleMs');
    expect(engine.decide(call("kb.search", 3000, { session: "a" })).decision).toBe("allow");
    // Both sessions idle for more than sessionIdleMs and the slack for requests dated ahead
    // (half of it here), though not twice it: swept to make room, and "c" may start.
    expect(engine.decide(call("kb.search", 100_000, { session: "c" })).decision).toBe("allow");
  });

  it("the maxSessions refusal says when room is made and which option to change, true at the default idle time (review a2 #5)", () => {
    const engine = compile(SUPPORT_SOURCES, { maxSessions: 1, clock: stampedClock });
    expect(engine.decide(call("kb.search", 0, { session: "a" })).decision).toBe("allow");
    const minutes = (m: number, session: string) => engine.decide(call("kb.search", m * 60_000, { session }));
    // At 61 minutes "a" has expired for its own attempts, but still holds its room: the reason says so.
    expect(minutes(61, "d61").errors[0]).toBe('session "d61" cannot start: the engine already holds 1 live session (maxSessions), and makes room only once a session has made no attempt for more than 65 minutes by its clock (sessionIdleMs, 1 hour, and a margin of 5 minutes), looking for one at most once a second of that clock: raise maxSessions, or lower sessionIdleMs');
    expect(minutes(64, "d64").decision).toBe("deny");
    expect(minutes(66, "d66").decision).toBe("allow");
  });

  it("room is looked for at most once a second of the clock, as the refusal says: a session just past the idle time and margin makes room within that second (audit a5, M3)", () => {
    const engine = compile(SUPPORT_SOURCES, { maxSessions: 1, clock: stampedClock });
    expect(engine.decide(call("kb.search", 0, { session: "a" })).decision).toBe("allow");
    const at = (ms: number) => engine.decide(call("kb.search", ms, { session: `n${ms}` }));
    const limit = 65 * 60_000;
    expect(at(limit).errors[0]).toMatch(/looking for one at most once a second of that clock/);
    // Looked at the limit: a millisecond later "a" is idle enough, but the next look is a second on.
    expect(at(limit + 1).decision).toBe("deny");
    expect(at(limit + 999).decision).toBe("deny");
    expect(at(limit + 1_000).decision).toBe("allow");
  });

  it("after the wall clock steps ahead and is corrected, neither sweep frees a session active by the corrected clock", () => {
    let wall = WALL;
    const engine = compile(SUPPORT_SOURCES, { clock: () => wall, maxSessions: 3, sessionIdleMs: 600_000 });
    // Stamped by the engine's clock, as a gateway without times of its own sends them.
    const now = (session: string): Record<string, unknown> => call("kb.search", 0, { session, time: undefined });
    for (const session of ["a", "b"]) expect(engine.decide(now(session)).decision).toBe("allow");
    wall += 20 * 60_000; // a VM resumed, NTP stepped: one request while the clock is 20 minutes ahead
    expect(engine.decide(now("probe")).decision).toBe("allow");
    wall -= 20 * 60_000 - 2_000; // corrected
    for (const session of ["a", "b"]) expect(engine.decide(now(session)).decision).toBe("allow");
    // Full: the sweep for room finds a and b active 0 s ago, the probe dated ahead: none is idle.
    wall += 2_000;
    expect(engine.decide(now("newcomer")).errors[0]).toMatch(/^session "newcomer" cannot start/);
    for (const session of ["a", "b"]) expect(engine.decide(now(session)).decision).toBe("allow");
    // Once a and b are idle by the corrected clock (and the slack), they make room as before.
    wall += 16 * 60_000;
    expect(engine.decide(now("newcomer")).decision).toBe("allow");
  });

  it.each([
    ["maxTimeSkewMs", -1],
    ["maxTimeSkewMs", Number.NaN],
    ["maxTimeSkewMs", Number.POSITIVE_INFINITY],
    ["maxSessions", 0],
    ["maxSessions", 1.5],
  ])("%s: %s is a RangeError", (name, value) => {
    for (const [, make] of makers()) expect(thrownBy(() => make({ [name]: value }))).toBeInstanceOf(RangeError);
  });
});
