import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import { globMatch } from "../../src/runtime/glob.js";
import { parseTime } from "../../src/runtime/schema.js";

/**
 * Behaviour a mutation-testing audit found no test pinning: each test here fails when the
 * named piece of the runtime is broken in the way the audit broke it.
 */

const T0 = Date.parse("2026-11-29T10:00:00Z");
const at = (minutes: number): string => new Date(T0 + minutes * 60_000).toISOString();
const engineFor = (text: string, options = {}): ReturnType<typeof compile> => compile([{ path: "p.policy", text }], { clock: () => T0, ...options });

describe("request times (parseTime)", () => {
  it("knows which years are leap years: 2000 and 2024 are, 1900 and 2100 are not", () => {
    expect(parseTime("2000-02-29T00:00:00Z")).toBe(Date.UTC(2000, 1, 29));
    expect(parseTime("2024-02-29T00:00:00Z")).toBe(Date.UTC(2024, 1, 29));
    expect(parseTime("1900-02-29T00:00:00Z")).toBeNaN();
    expect(parseTime("2100-02-29T00:00:00Z")).toBeNaN();
  });

  it("reads fractions of a second as such, with Z or an offset", () => {
    expect(parseTime("2026-11-29T10:00:00.5Z")).toBe(T0 + 500);
    expect(parseTime("2026-11-29T10:00:00.123Z")).toBe(T0 + 123);
    expect(parseTime("2026-11-29T10:00:00.5+05:30")).toBe(T0 - 330 * 60_000 + 500);
  });

  it("refuses an offset that is no offset (+99:99), and a request dated so is denied", () => {
    expect(parseTime("2026-11-29T10:00:00+99:99")).toBeNaN();
    expect(parseTime("2026-11-29T10:00:00+05:60")).toBeNaN();
    const engine = engineFor("tool t { risk low args { } }\npolicy p { allow t }\n");
    expect(engine.decide({ session: "s", tool: "t", args: {}, time: "2026-11-29T10:00:00+99:99" }).reasons[0]).toContain("request.time must be an RFC 3339 time");
  });
});

describe("like", () => {
  it("a middle part never overlaps the suffix: a*bc*c does not match abc", () => {
    expect(globMatch("a*bc*c", "abc")).toBe(false);
    expect(globMatch("a*bc*c", "abcc")).toBe(true);
    expect(globMatch("a*b*b", "ab")).toBe(false);
    expect(globMatch("a*b*b", "abb")).toBe(true);
  });
});

describe("functions and equality", () => {
  const engine = engineFor(`tool m { risk low args { to: string, u: string, l: list<string> } }
policy p {
  @name("dom") allow m when email.domain(args.to) == "x.com"
  @name("host") allow m when url.host(args.u) == "h.com"
  @name("list") allow m when args.l == ["a"]
}
`);
  const m = (args: Record<string, unknown>): ReturnType<typeof engine.decide> => engine.decide({ session: "s", tool: "m", args: { to: "", u: "", l: [], ...args } });

  it("email.domain refuses an address with two @ (which domain would a mail system pick?)", () => {
    expect(m({ to: "a@b@x.com" })).toMatchObject({ decision: "deny", errors: ['dom: email.domain: "a@b@x.com" is not a single plain e-mail address'] });
    expect(m({ to: "a@x.com" }).decision).toBe("allow");
  });

  it("url.host refuses user information before the host, even empty", () => {
    expect(m({ u: "https://@h.com/" }).errors[0]).toContain("has user information before its host");
    expect(m({ u: "https://h.com/" }).decision).toBe("allow");
  });

  it("lists of different lengths are not equal, whatever their common prefix", () => {
    expect(m({ l: ["a", "b"] }).decision).toBe("deny");
    expect(m({ l: ["a"] }).decision).toBe("allow");
  });
});

describe("decisions", () => {
  it("a deny carries no grant of an allow rule that also matched (no credentials with a refusal)", () => {
    const engine = engineFor(`tool t { risk low args { n: int } }
policy p {
  @name("ok") allow t grant "t:read" for 5m
  @name("no") deny t when args.n > 1
  @name("check") ask t when args.n == 1
}
`);
    expect(engine.decide({ session: "s", tool: "t", args: { n: 0 } })).toMatchObject({ decision: "allow", grants: [{ scope: "t:read", ttlSeconds: 300 }] });
    expect(engine.decide({ session: "s", tool: "t", args: { n: 2 } })).toMatchObject({ decision: "deny", grants: [] });
    expect(engine.decide({ session: "s", tool: "t", args: { n: 1 } })).toMatchObject({ decision: "ask", grants: [] });
  });

  it("a grant's lifetime in whole seconds is rounded down, never up (1500ms is 1 s)", () => {
    const engine = engineFor('tool t { risk low args { } }\npolicy p { allow t grant "t" for 1500ms }\n');
    expect(engine.decide({ session: "s", tool: "t", args: {} }).grants).toEqual([{ scope: "t", ttlSeconds: 1 }]);
  });
});

describe("sessions", () => {
  it("a default deny counts in session.denials", () => {
    const engine = engineFor(`tool a { risk low args { } }
tool b { risk low args { } }
policy p {
  @name("b-ok") allow b
  @name("after-denial") deny b when session.denials >= 1
}
`);
    expect(engine.decide({ session: "s", tool: "a", args: {} })).toMatchObject({ decision: "deny", rules: [] });
    expect(engine.decide({ session: "s", tool: "b", args: {} })).toMatchObject({ decision: "deny", rules: ["after-denial"] });
  });

  it("two asks of one tool await two approvals, each approved once", () => {
    const engine = engineFor('tool t { risk low args { n: int } }\npolicy p { ask t }\n');
    const call = (n: number): Record<string, unknown> => ({ session: "s", tool: "t", args: { n } });
    expect(engine.decide(call(1)).decision).toBe("ask");
    expect(engine.decide(call(2)).decision).toBe("ask");
    expect([engine.approved(call(1)), engine.approved(call(2)), engine.approved(call(3))]).toEqual([true, true, false]);
  });

  it("an attempt dated before the latest does not move the session's last attempt back (it would expire early)", () => {
    const engine = engineFor('tool t { risk low args { } }\npolicy p { allow t }\n');
    const call = (minutes: number): Record<string, unknown> => ({ session: "s", tool: "t", args: {}, time: at(minutes) });
    expect(engine.decide(call(0)).decision).toBe("allow");
    expect(engine.decide(call(50)).decision).toBe("allow");
    expect(engine.decide(call(10)).decision).toBe("allow"); // late, out of order
    // 50 minutes after the latest attempt (50): not idle for an hour.
    expect(engine.decide(call(100)).decision).toBe("allow");
  });

  it("a count of some tools reaching back past attempts the window dropped is an error (fail closed), however the window filled", () => {
    const engine = engineFor(`tool a { risk low args { } }
tool b { risk low args { } }
policy p {
  @name("b-ok") allow b
  @name("a-ok") allow a
  @name("few-b") deny b when session.count(b, within 1h) > 3
}
`, { maxWindowEntries: 5 });
    for (let i = 0; i < 10; i++) engine.decide({ session: "s", tool: "a", args: {}, time: at(i) });
    const decision = engine.decide({ session: "s", tool: "b", args: {}, time: at(11) });
    expect(decision).toMatchObject({ decision: "deny", rules: ["few-b"] });
    expect(decision.errors.join(" ")).toContain("maxWindowEntries");
  });
});
