import { describe, expect, it } from "vitest";
import { compile, explain } from "../../src/index.js";
import { parseTime } from "../../src/runtime/schema.js";

const POLICY = `
tool kb.search { args { q: string } }
intent work { tools kb.* }
policy p {
  @name("stop") deny kb.search when args.q == "stop" reason "stop" revoke
  @name("prefix") deny kb.search when intent.startsWith("wo") and args.q == "intent"
  @name("first") allow kb.search when session.calls == 0
  @name("rest") allow kb.search when session.calls < 3 and args.q != "intent"
}
`;
const at = (time: string, session: string, q: string, extra: Record<string, unknown> = {}) => ({ time, session, tool: "kb.search", args: { q }, ...extra });

describe("sessions are independent of each other's traffic", () => {
  it("a request dated far in the future does not wipe other sessions or their revocations", () => {
    const engine = compile([{ path: "p.policy", text: POLICY }]);
    expect(engine.decide(at("2026-11-29T10:00:00Z", "victim", "stop")).revoked).toBe(true);
    engine.decide(at("2099-01-01T00:00:00Z", "attacker", "x"));
    expect(engine.decide(at("2026-11-29T10:00:05Z", "victim", "x"))).toMatchObject({ decision: "deny", rules: ["stop"], revoked: true });
  });

  it("whether a session has expired depends on its own times only", () => {
    const alone = compile([{ path: "p.policy", text: POLICY }], { sessionIdleMs: 60 * 60 * 1000 });
    alone.decide(at("2026-11-29T00:00:00Z", "a", "x"));
    const withOther = compile([{ path: "p.policy", text: POLICY }], { sessionIdleMs: 60 * 60 * 1000 });
    withOther.decide(at("2026-11-29T00:00:00Z", "a", "x"));
    withOther.decide(at("2026-11-29T00:59:00Z", "b", "x"));
    // 65 minutes after its last call, session a has expired either way.
    for (const engine of [alone, withOther]) expect(engine.decide(at("2026-11-29T01:05:00Z", "a", "x")).errors[0]).toMatch(/^session "a" has expired/);
  });

  it("requests of other sessions up to an idle time later do not expire a session early (merged logs, replays on threads)", () => {
    const engine = compile([{ path: "p.policy", text: POLICY }], { sessionIdleMs: 60 * 60 * 1000 });
    engine.decide(at("2026-11-29T10:00:00Z", "a", "x"));
    engine.decide(at("2026-11-29T11:55:00Z", "b", "x")); // sweeps, but a is idle less than twice the idle time
    expect(engine.decide(at("2026-11-29T10:30:00Z", "a", "x")).rules).toEqual(["rest"]);
  });
});

describe("string operations on a missing intent", () => {
  it("are errors that fail closed, in the compiled code and in explanations alike", () => {
    const engine = compile([{ path: "p.policy", text: POLICY }]);
    const request = at("2026-11-29T10:00:00Z", "s", "intent");
    const trace = explain(engine, request).rules.find((r) => r.id === "prefix")!;
    const decision = engine.decide(request);
    expect(trace.matched).toBe("error");
    expect(decision).toMatchObject({ decision: "deny", rules: ["prefix"], errors: ["prefix: the request names no intent"] });
  });
});

describe("request times", () => {
  it("refuse impossible calendar dates in every RFC 3339 form", () => {
    for (const time of ["2024-02-30T00:00:00Z", "2024-02-30T00:00:00+01:00", "2026-11-29T24:00:00+01:00", "2026-11-29T10:00:00+25:00", "2026-02-29T00:00:00.5Z"]) expect(parseTime(time), time).toBeNaN();
    expect(parseTime("2024-02-29T10:00:00+00:00")).toBe(Date.UTC(2024, 1, 29, 10));
    expect(parseTime("2026-11-29T10:00:00.123456Z")).toBe(Date.parse("2026-11-29T10:00:00.123456Z"));
  });

  it("read a leap second at the end of a UTC day as the next day's first instant, and refuse a second of 60 anywhere else", () => {
    expect(parseTime("2016-12-31T23:59:60Z")).toBe(Date.UTC(2017, 0, 1));
    expect(parseTime("2016-12-31T23:59:60.5Z")).toBe(Date.UTC(2017, 0, 1) + 500);
    expect(parseTime("2017-01-01T00:59:60+01:00")).toBe(Date.UTC(2017, 0, 1));
    for (const time of ["2016-12-31T23:58:60Z", "2016-12-31T12:59:60Z", "2016-12-31T23:59:61Z"]) expect(parseTime(time), time).toBeNaN();
  });

  it("read years 0000-0099 as those years with a space for the `T` too (Date.parse reads `0040-06-15 12:00:00Z` as 2040)", () => {
    const utc = (y: number, month: number, day: number, hour: number) => {
      const date = new Date(0);
      date.setUTCFullYear(y, month - 1, day);
      date.setUTCHours(hour);
      return date.getTime();
    };
    for (const separator of ["T", "t", " "]) {
      expect(parseTime(`0040-06-15${separator}12:00:00Z`), separator).toBe(utc(40, 6, 15, 12));
      expect(parseTime(`0001-06-15${separator}12:00:00Z`), separator).toBe(utc(1, 6, 15, 12));
      expect(parseTime(`0012-06-15${separator}12:00:00+02:00`), separator).toBe(utc(12, 6, 15, 10));
      expect(parseTime(`0000-01-01${separator}00:00:00.250Z`), separator).toBe(utc(0, 1, 1, 0) + 250);
      expect(parseTime(`0099-12-31${separator}23:59:60Z`), separator).toBe(utc(100, 1, 1, 0));
    }
    expect(parseTime("0040-06-15 12:00:00Z")).not.toBe(parseTime("2040-06-15T12:00:00Z"));
  });
});
