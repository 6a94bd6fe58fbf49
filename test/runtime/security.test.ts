import fc from "fast-check";
import { afterEach, describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";
import type { Engine } from "../../src/runtime/engine.js";
import { explain } from "../../src/runtime/explain.js";
import { parseTime, timeMistakeNote } from "../../src/runtime/schema.js";
import { AGENT, ARGS, at, call, DECLS, engineWith, request, sourcesWith, T0, USER, viaBundle } from "./fixtures.js";

/**
 * Policy text stays data in the generated code, request data never reaches prototypes, and
 * hostile or huge requests are decided as the rules say: `decide` never throws and never
 * allows a request that does not fit the declarations.
 */

/** Strings that would break out of a JavaScript string, template, comment or HTML script if concatenated. */
const NASTY = [
  '"); globalThis.pwned = 1; ("',
  "'); globalThis.pwned = 2; ('",
  "${globalThis.pwned = 3}",
  "`+(globalThis.pwned = 4)+`",
  "</script><script>globalThis.pwned = 5</script>",
  "*/ globalThis.pwned = 6; /*",
  "line one\nline two\r\n\ttabbed",
  'back\\slash \\" \\n \\u0041',
  "\u2028\u2029 separators",
  "héllo wörld – ✓ 日本語 🎉 \u0000",
];

/**
 * A rule id made of `text`: ids cannot hold control characters (PC109: they are printed in logs
 * and CI reports), so those are replaced; quotes, `${…}`, `</script>` and the rest stay.
 */
const idOf = (text: string): string => text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, "·");

/** The text of a policy string literal holding `value` (JSON escapes, as the language defines). */
const literal = (value: string): string => JSON.stringify(value);

declare global {
  // eslint-disable-next-line no-var
  var pwned: unknown;
}

afterEach(() => {
  expect(globalThis.pwned).toBeUndefined();
  delete globalThis.pwned;
});

describe("policy strings stay data", () => {
  NASTY.forEach((text, i) => {
    describe(`string #${i} ${JSON.stringify(text).slice(0, 40)}`, () => {
      const rules = [
        `  @name(${literal(idOf(`deny ${text}`))}) deny kb.search when args.query == ${literal(`deny ${text}`)} reason ${literal(text)}`,
        `  @name(${literal(idOf(`like ${text}`))}) ask kb.search when args.query like ${literal(`like*${text}`)} reason ${literal(`asked ${text}`)}`,
        `  @name(${literal(idOf(text))}) allow kb.search grant ${literal(text)}, ${literal(`${text}/2`)} for 1m`,
      ].join("\n");

      for (const [how, make] of [
        ["compiled", (): Engine => engineWith(rules)],
        ["bundled", (): Engine => viaBundle(sourcesWith(rules))],
      ] as const) {
        it(`${how}: reasons, ids and grants equal the exact strings, and nothing runs`, () => {
          const engine = make();
          const denied = engine.decide(request({ args: { query: `deny ${text}` } }));
          expect(denied).toMatchObject({ decision: "deny", rules: [idOf(`deny ${text}`)], reasons: [text] });

          const asked = engine.decide(request({ session: "a", args: { query: `like, then ${text}` } }));
          expect(asked).toMatchObject({ decision: "ask", rules: [idOf(`like ${text}`)], reasons: [`asked ${text}`] });

          const allowed = engine.decide(request({ session: "b", args: { query: "anything" } }));
          expect(allowed.decision).toBe("allow");
          expect(allowed.rules).toEqual([idOf(text)]);
          expect(allowed.grants).toEqual([
            { scope: text, ttlSeconds: 60 },
            { scope: `${text}/2`, ttlSeconds: 60 },
          ]);
          // The like pattern is a glob (only `*` is special), not code or a regular expression.
          if (!text.includes("*")) expect(engine.decide(request({ session: "c", args: { query: `like${text.slice(1)}` } })).decision).toBe("allow");
        });
      }
    });
  });

  it("the ids of rules that fail while evaluating are reported as data too", () => {
    const id = '"); globalThis.pwned = 7; ("';
    const engine = engineWith(`  @name(${literal(id)}) deny kb.search when user.id == "x"`);
    const decision = engine.decide(request({ user: undefined }));
    expect(decision.rules).toEqual([id]);
    expect(decision.errors[0]!.startsWith(`${id}: `)).toBe(true);
  });
});

describe("like matches literally", () => {
  const SPECIAL = "a.b[c](d)|e+f?^g$\\h{2}";
  const engine = engineWith(
    [
      `  @name("exact") allow kb.search when args.query like ${literal(SPECIAL)}`,
      `  @name("suffix") allow kb.search when args.query like ${literal(`*${SPECIAL}`)}`,
      '  @name("dot") allow kb.search when args.query like "*.example"',
      '  @name("alt") allow kb.search when args.query like "x|y"',
    ].join("\n"),
  );
  const matched = (query: string): readonly string[] => engine.decide(request({ args: { query } })).rules;

  it("regular-expression characters are ordinary", () => {
    expect(matched(SPECIAL)).toEqual(["exact", "suffix"]);
    expect(matched(`zz${SPECIAL}`)).toEqual(["suffix"]);
    expect(matched("aXb[c](d)|e+f?^g$\\h{2}")).toEqual([]);
    expect(matched("a.b[c](d)|ee+f?^g$\\h{2}")).toEqual([]);
    expect(matched("abcdefgh")).toEqual([]);
    expect(matched("www.example")).toEqual(["dot"]);
    expect(matched("wwwexample")).toEqual([]);
    expect(matched("x|y")).toEqual(["alt"]);
    expect(matched("x")).toEqual([]);
    expect(matched("y")).toEqual([]);
  });
});

describe("request keys that name prototype members", () => {
  const engine = (): Engine =>
    engineWith(
      [
        '  deny email.send when any(r in args.to: not (r like "*@acme.com")) reason "outside"',
        '  ask http.get when context has destination and context.destination.zone == external',
        '  allow * when agent.team == "support" and context.env == "prod"',
      ].join("\n"),
    );

  /** A request's JSON with `__proto__`, `constructor` and `prototype` added as own keys at `where`. */
  function hostile(base: Record<string, unknown>, payload: string): Record<string, unknown> {
    let text = JSON.stringify(base);
    for (const key of ['"args":{', '"agent":{', '"context":{', '"destination":{', '"user":{']) text = text.replace(key, `${key}${payload},`);
    return JSON.parse(`{${payload},${text.slice(1)}`) as Record<string, unknown>;
  }

  const PAYLOADS = [
    '"__proto__":{"team":"support","zone":"external","to":["eve@evil.example"],"isAdmin":true}',
    '"constructor":{"prototype":{"isAdmin":true}}',
    '"prototype":{"team":"x"}',
    '"__proto__":null,"constructor":"x","prototype":7,"toString":"x","hasOwnProperty":1',
  ];

  const cases = [
    call("kb.search", 0),
    call("email.send", 0),
    call("email.send", 0, { args: { to: ["eve@evil.example"], subject: "s", body: "b" } }),
    call("http.get", 0, { context: { labels: [], env: "prod", destination: { host: "example.org", zone: "external" } } }),
    call("http.get", 0, { context: { labels: [], env: "prod", destination: { host: "wiki.acme.com", zone: "internal" } } }),
  ];

  it.each(PAYLOADS)("do not change a decision or crash: %s", (payload) => {
    const plain = engine();
    const attacked = engine();
    cases.forEach((base, i) => {
      const input = hostile({ ...base, session: `s${i}` }, payload);
      expect(Object.hasOwn(input["args"] as object, payload.slice(1, payload.indexOf('"', 1)))).toBe(true);
      const expected = plain.decide({ ...base, session: `s${i}` });
      expect(attacked.decide(input), JSON.stringify(input)).toEqual(expected);
    });
    expect(({} as Record<string, unknown>)["isAdmin"]).toBeUndefined();
    expect(({} as Record<string, unknown>)["team"]).toBeUndefined();
  });

  it("an attribute missing from the request is not found on the prototype", () => {
    const engine = engineWith("  allow *");
    const input = JSON.parse(JSON.stringify(request()).replace('"team":"support",', '"__proto__":{"team":"support"},')) as Record<string, unknown>;
    expect(engine.decide(input)).toMatchObject({ decision: "deny", reasons: ["request.agent.team is missing"] });
  });

  it("a policy may declare attributes, arguments and tools named after prototype members", () => {
    const text = [
      "agent { constructor: string, toString?: string, __proto__: string }",
      "tool constructor { args { prototype: string, hasOwnProperty?: int } }",
      "tool __proto__ { args { q: string } }",
      "intent __proto__ { tools constructor, __proto__ }",
      "policy p {",
      '  allow constructor when agent.constructor == "c" and args.prototype == "p" and not (agent has toString) and not (args has hasOwnProperty)',
      '  allow __proto__ when agent.__proto__ == "x" and intent == __proto__',
      "}",
    ].join("\n");
    for (const engine of [compile([{ path: "x.policy", text }]), viaBundle([{ path: "x.policy", text }])]) {
      const decide = (json: string): ReturnType<Engine["decide"]> => engine.decide(JSON.parse(json));
      expect(decide('{"session":"a","tool":"constructor","agent":{"constructor":"c","__proto__":"y"},"args":{"prototype":"p"}}').decision).toBe("allow");
      expect(decide('{"session":"b","tool":"constructor","agent":{"constructor":"c","__proto__":"y","toString":"t"},"args":{"prototype":"p"}}').decision).toBe("deny");
      expect(decide('{"session":"c","tool":"constructor","agent":{"constructor":"c","__proto__":"y"},"args":{"prototype":"p","hasOwnProperty":1}}').decision).toBe("deny");
      expect(decide('{"session":"d","tool":"constructor","agent":{"__proto__":"y"},"args":{"prototype":"p"}}').reasons).toEqual(["request.agent.constructor is missing"]);
      expect(decide('{"session":"e","tool":"constructor","agent":{"constructor":"c"},"args":{"prototype":"p"}}').reasons).toEqual(["request.agent.__proto__ is missing"]);
      expect(decide('{"session":"f","tool":"constructor","agent":{"constructor":"c","__proto__":5},"args":{"prototype":"p"}}').reasons[0]).toContain("request.agent.__proto__");
      expect(decide('{"session":"g","tool":"__proto__","intent":"__proto__","agent":{"constructor":"c","__proto__":"x"},"args":{"q":"q"}}').decision).toBe("allow");
      expect(decide('{"session":"h","tool":"toString","agent":{"constructor":"c","__proto__":"x"},"args":{"q":"q"}}').reasons[0]).toContain("unknown tool");
      expect(decide('{"session":"i","tool":"__proto__","intent":"constructor","agent":{"constructor":"c","__proto__":"x"},"args":{"q":"q"}}').errors[0]).toContain("unknown intent");
    }
  });

  it("annotations named after prototype members are kept as metadata", () => {
    const engine = engineWith('  @constructor("c") @__proto__("p") @toString("t") allow kb.search');
    expect(JSON.stringify(engine.rules[0]!.annotations)).toBe('{"constructor":["c"],"__proto__":["p"],"toString":["t"]}');
    expect(engine.decide(request()).decision).toBe("allow");
  });
});

describe("url.host and email.domain read what a client or a mailer would", () => {
  const rules = [
    '  @name("allow-github") allow http.get when url.host(args.url) == "github.com"',
    '  @name("deny-evil") deny http.get when url.host(args.url) == "evil.example"',
    '  @name("inside") allow email.send when all(r in args.to: email.domain(r) == "acme.com")',
    '  @name("outside") deny email.send when any(r in args.to: email.domain(r) == "evil.example")',
  ].join("\n");
  const get = (url: string): Record<string, unknown> => call("http.get", 0, { args: { url } });
  const mail = (...to: string[]): Record<string, unknown> => call("email.send", 0, { args: { to, subject: "s", body: "b" } });

  it.each([
    ["a plain URL", "https://github.com/acme/repo", "allow", ["allow-github"]],
    ["a trailing dot (the same DNS name)", "https://GitHub.com./acme", "allow", ["allow-github"]],
    ["a deny-listed host with a trailing dot", "https://evil.example./x", "deny", ["deny-evil"]],
    ["a backslash before @ (WHATWG: github.com; curl and Python: evil.example)", "https://github.com\\@evil.example/exfil", "deny", ["deny-evil"]],
    ["user information before the host", "https://github.com@evil.example/", "deny", ["deny-evil"]],
    ["a tab inside", "https://git\thub.com/", "deny", ["deny-evil"]],
    ["two trailing dots (one taken off would leave evil.example.)", "https://evil.example../x", "deny", ["deny-evil"]],
    ["two dots inside the host", "https://github..com/", "deny", ["deny-evil"]],
    ["a leading dot", "https://.github.com/", "deny", ["deny-evil"]],
    ["an IPv6 host (no labels to be empty)", "https://[::1]/", "deny", []],
    ["not a URL", "github.com/acme", "deny", []],
  ])("%s", (_, url, decision, rulesMatched) => {
    for (const engine of [engineWith(rules), viaBundle(sourcesWith(rules))]) expect(engine.decide(get(url))).toMatchObject({ decision, rules: rulesMatched });
  });

  it("an ambiguous URL is an evaluation error: deny and ask rules match, allow rules do not, and the decision says why", () => {
    const decision = engineWith(rules).decide(get("https://github.com\\@evil.example/exfil"));
    expect(decision.errors.join(" ")).toContain("URL parsers disagree on its host");
  });

  it.each([
    ["one address inside", ["bob@acme.com", "ANN@ACME.COM."], "allow", ["inside"]],
    ["two addresses in one string (a mailer sends to both)", ["billing@evil.example, security@acme.com"], "deny", ["outside"]],
    ["an address in angle brackets before @", ["<eve@evil.example>@acme.com"], "deny", ["outside"]],
    ["a header injected after a line break", ["eve@evil.example\r\nbcc: x@acme.com"], "deny", ["outside"]],
    ["no @ at all", ["acme.com"], "deny", []],
  ])("email.domain: %s", (_, to, decision, rulesMatched) => {
    for (const engine of [engineWith(rules), viaBundle(sourcesWith(rules))]) expect(engine.decide(mail(...to))).toMatchObject({ decision, rules: rulesMatched });
  });
});

describe("huge and deep requests", () => {
  const MB = "x".repeat(1024 * 1024);

  function deepObject(depth: number): unknown {
    let value: unknown = "bottom";
    for (let i = 0; i < depth; i++) value = { x: value, list: [i] };
    return value;
  }

  it("a 1 MB tool name, intent, time or session id is quoted cut short in reasons and errors (a decision log line stays small)", () => {
    const engine = engineWith("  allow kb.search", { sessionIdleMs: 1_000, clock: () => T0 + 365 * 24 * 60 * 60 * 1000 });
    const refusals = [
      engine.decide(request({ tool: MB })),
      engine.decide(request({ intent: MB })),
      engine.decide(request({ time: MB })),
    ];
    engine.decide(request({ session: MB }));
    refusals.push(engine.decide(request({ session: MB, time: at(5_000) }))); // expired
    for (const d of refusals) {
      expect(d.decision).toBe("deny");
      expect(JSON.stringify(d).length).toBeLessThan(1_000);
      expect(d.errors[0]).toContain(`"${"x".repeat(77)}..."`);
    }
  });

  it("a 1 MB argument string is decided as the rules say", () => {
    const engine = engineWith(['  deny kb.search when args.query like "*evil*" reason "evil"', "  allow kb.search when args.query.size() > 1000000"].join("\n"));
    expect(engine.decide(request({ args: { query: MB } })).decision).toBe("allow");
    expect(engine.decide(request({ args: { query: `${MB}evil${MB}` } })).reasons).toEqual(["evil"]);
    expect(engine.decide(request({ args: { query: "short" } })).decision).toBe("deny");
  });

  it("a 10,000-deep undeclared argument is ignored, also by session.repeats (it compares declared arguments)", () => {
    const engine = engineWith(['  @name("loop") deny kb.search when session.repeats >= 2', "  allow kb.search"].join("\n"));
    const deep = deepObject(10_000);
    const parsed = JSON.parse(`${'{"a":['.repeat(10_000)}1${"]}".repeat(10_000)}`) as unknown;
    expect(engine.decide(request({ args: { query: "q", extra: deep } }))).toMatchObject({ decision: "allow", errors: [] });
    expect(engine.decide(request({ args: { query: "q", extra: parsed }, time: "2026-11-29T10:00:01Z" }))).toMatchObject({ decision: "allow", errors: [] });
    expect(engine.decide(request({ args: { query: "q", extra: deep }, time: "2026-11-29T10:00:02Z" }))).toMatchObject({ decision: "deny", rules: ["loop"], errors: [] });
  });

  it("a declared string argument given a 10,000-deep object is denied, naming the argument", () => {
    const engine = engineWith(['  deny kb.search when session.repeats >= 2', "  allow kb.search"].join("\n"));
    const decision = engine.decide(request({ args: { query: deepObject(10_000) } }));
    expect(decision).toMatchObject({ decision: "deny", rules: [] });
    expect(decision.reasons[0]).toContain("request.args.query");
  });

  it("10,000-deep undeclared fields in agent and context are ignored", () => {
    const engine = engineWith("  allow kb.search");
    expect(engine.decide(request({ agent: { ...AGENT, extra: deepObject(10_000) }, context: { labels: [], env: "prod", extra: deepObject(10_000) } })).decision).toBe("allow");
  });

  it("a 10,000-deep value of a recursive record type is decided without crashing, and counted", () => {
    const text = 'type Node { v: string, next?: Node }\ntool t.x { args { n: Node } }\npolicy p {\n  allow t.x when args.n.v == "a" and session.calls < 5\n}\n';
    const engine = compile([{ path: "x.policy", text }]);
    let n: Record<string, unknown> = { v: "a" };
    for (let i = 0; i < 10_000; i++) n = { v: "b", next: n };
    const decision = engine.decide({ session: "s", tool: "t.x", args: { n } });
    expect(decision).toMatchObject({ decision: "deny", rules: [] });
    // Deeper than requests may nest (MAX_NESTING): refused as invalid, before any rule runs.
    expect(decision.reasons[0]).toMatch(/is nested more than 512 lists and records deep$/);
    expect(decision.reasons[0]).not.toMatch(/internal error/);
    expect(engine.sessions.get("s")!.calls).toBe(1);
    expect(engine.decide({ session: "s", tool: "t.x", args: { n: { v: "a", next: { v: "b" } } } }).decision).toBe("allow");
  });

  it("lists and records nest at most 512 deep: deeper is refused as invalid, the same on every call, and explain agrees", () => {
    const text = 'type Node { name: string, next?: Node }\ntool t.run { risk low args { nodes: list<Node>, other: Node } }\npolicy d {\n  @name("same") allow t.run when any(n in args.nodes: n == args.other)\n}\n';
    const chain = (depth: number): Record<string, unknown> => {
      let node: Record<string, unknown> = { name: "x" };
      for (let i = 1; i < depth; i++) node = { name: "a", next: node };
      return node;
    };
    // `other` is record level 1, `nodes` a list at level 1 with records at level 2: a chain of
    // 511 records in the list reaches level 512; one more is too deep.
    for (const [depth, decision] of [[511, "allow"], [512, "deny"], [2_440, "deny"]] as const) {
      const engine = compile([{ path: "d.policy", text }]);
      const explained = explain(engine, { session: "s", tool: "t.run", args: { nodes: [chain(depth)], other: chain(depth) } });
      for (let run = 0; run < 4; run++) {
        const d = engine.decide({ session: `s${run}`, tool: "t.run", args: { nodes: [chain(depth)], other: chain(depth) } });
        expect(d.decision, `${depth} deep, run ${run}`).toBe(decision);
        if (decision === "deny") expect(d.reasons[0]).toMatch(/^request\.args\.nodes\[0\]\.next.*….*\.next is nested more than 512 lists and records deep$/);
      }
      expect(explained.note !== null, `${depth} deep: explain refuses as decide does`).toBe(decision === "deny");
    }
  });

  it("an argument that contains itself does not hang the session key", () => {
    const engine = engineWith(['  deny kb.search when session.repeats >= 1', "  allow kb.search"].join("\n"));
    const args: Record<string, unknown> = { query: "q" };
    args["self"] = args;
    expect(engine.decide(request({ args })).decision).toBe("allow");
    expect(engine.decide(request({ args, time: "2026-11-29T10:00:01Z" })).decision).toBe("deny");
  });
});

describe("undeclared context.labels", () => {
  const text = "context { env: string }\ntool kb.search { returns pii args { query: string } }\npolicy p {\n  deny kb.search when session.labels contains \"secret\"\n  allow kb.search\n}\n";

  it("anything but a list of strings is ignored, and never breaks the decision", () => {
    const engine = compile([{ path: "x.policy", text }]);
    for (const labels of [5, "secret", { 0: "secret" }, null, [1, { a: 1 }], "s"]) {
      const decision = engine.decide({ session: "s", tool: "kb.search", args: { query: "q" }, context: { env: "prod", labels } });
      expect(decision, JSON.stringify(labels)).toMatchObject({ decision: "allow", errors: [] });
    }
    engine.decide({ session: "s", tool: "kb.search", args: { query: "q" }, context: { env: "prod", labels: ["secret"] } });
    expect(engine.decide({ session: "s", tool: "kb.search", args: { query: "q" }, context: { env: "prod" } }).decision).toBe("deny");
  });
});

describe("requests that cannot be decided", () => {
  const engine = engineWith("  allow *");

  it("are denied with a reason", () => {
    for (const [input, fragment] of [
      [null, "object"],
      ["kb.search", "object"],
      [[], "object"],
      [{ session: "s", agent: AGENT, context: { labels: [], env: "prod" }, args: ARGS["kb.search"] }, "request.tool"],
      [{ tool: "kb.search", agent: AGENT, context: { labels: [], env: "prod" }, args: ARGS["kb.search"] }, "request.session"],
      [{ ...request(), session: "" }, "request.session"],
    ] as const) {
      const decision = engine.decide(input);
      expect(decision.decision).toBe("deny");
      expect(decision.reasons.join(" ")).toContain(fragment);
    }
  });

  it("explain with something other than an Engine says so, naming no internal method (audit s20 a4 F7)", () => {
    for (const [notAnEngine, kind] of [[{}, "an object"], [undefined, "undefined"], [engine.policy, "an object"]] as const) {
      expect(explain(notAnEngine as unknown as Engine, request())).toEqual({ tool: null, note: `explain needs an Engine (from new Engine, compile or loadBundle) as its first argument, not ${kind}`, rules: [] });
    }
    expect(explain(engine, request()).note).toBeNull();
  });

  it("name what is wrong with session, tool and time: missing, or present with the wrong type", () => {
    const reason = (input: Record<string, unknown>): string => engine.decide(input).errors.join(" ");
    const { session: _session, ...noSession } = request();
    const { tool: _tool, ...noTool } = request();
    expect(reason(noSession)).toBe("request.session is missing: every request needs a session id string");
    expect(reason(request({ session: 5 }))).toBe("request.session must be a session id (a non-empty string), not the number 5");
    expect(reason(noTool)).toBe("request.tool is missing: every request names the tool being called");
    expect(reason(request({ tool: new String("kb.search") }))).toBe("request.tool must be a tool name (a non-empty string), not an object");
    expect(reason(request({ time: "yesterday" }))).toBe('request.time must be an RFC 3339 time, not "yesterday"');
    expect(reason(request({ time: new Date(0) }))).toBe("request.time must be an RFC 3339 time string, not an object");
    // Common mistakes say what they are (and are still refused): no UTC offset, as Python's naive isoformat() writes; an epoch number, by its magnitude.
    const noOffset = ' (it has no UTC offset: add the offset of the clock it came from, "Z" or "+00:00" for UTC; Python\'s isoformat() of a naive datetime writes none)';
    expect(reason(request({ time: "2026-11-29T10:00:00.123456" }))).toBe(`request.time must be an RFC 3339 time, not "2026-11-29T10:00:00.123456"${noOffset}`);
    expect(reason(request({ time: "2026-11-29 10:00:00" }))).toBe(`request.time must be an RFC 3339 time, not "2026-11-29 10:00:00"${noOffset}`);
    expect(reason(request({ time: "2026-11-29T10:00:00+02" }))).toBe('request.time must be an RFC 3339 time, not "2026-11-29T10:00:00+02"');
    expect(reason(request({ time: 1764410401000 }))).toBe('request.time must be an RFC 3339 time string, not the number 1764410401000 (read as epoch milliseconds, it would be "2025-11-29T10:00:01Z")');
    expect(reason(request({ time: 1764410401.5 }))).toBe('request.time must be an RFC 3339 time string, not the number 1764410401.5 (read as epoch seconds, it would be "2025-11-29T10:00:01.500Z")');
    expect(reason(request({ time: "1764410401000000" }))).toBe('request.time must be an RFC 3339 time, not "1764410401000000" (read as epoch microseconds, it would be "2025-11-29T10:00:01Z")');
    // A small number is more likely a count or a duration than a time in 1970: no time is suggested for it.
    expect(reason(request({ time: 30 }))).toBe("request.time must be an RFC 3339 time string, not the number 30");
    expect(reason(request({ time: 0.5 }))).toBe("request.time must be an RFC 3339 time string, not the number 0.5");
    expect(reason(request({ time: "30" }))).toBe('request.time must be an RFC 3339 time, not "30"');
    expect(reason(request({ time: 5e10 }))).toBe("request.time must be an RFC 3339 time string, not the number 50000000000");
  });

  it("a time with a mistake named is still refused, and naming it never throws, for any value", () => {
    // Values near the mistakes named: epoch numbers of any size and sign, digit strings, times without an offset.
    const digits = fc.string({ unit: fc.constantFrom("0", "1", "5", "9", "."), maxLength: 30 });
    const naive = fc.date({ noInvalidDate: true }).map((date) => date.toISOString().slice(0, 19));
    const value = fc.oneof(fc.anything(), fc.double(), fc.integer(), fc.bigInt(), digits, naive, fc.string());
    let session = 0;
    fc.assert(
      fc.property(value, (time) => {
        const note = timeMistakeNote(time);
        if (note !== "") expect(Number.isNaN(parseTime(time)), note).toBe(true);
        // A new session each time, so no earlier call's time is compared with this one.
        const decision = engine.decide(request({ session: `t${session++}`, time }));
        // (An undefined time is no time given, which a request may leave out.)
        if (time !== undefined && Number.isNaN(parseTime(time))) expect(decision.decision, note).toBe("deny");
        if (note !== "") expect(decision.errors.join(" ")).toContain(note);
      }),
      { numRuns: 2000 },
    );
  });

  it("in a revoked session, are answered with the revoking rule (revoked: true), whatever is wrong with them", () => {
    const revoking = engineWith(['  @name("stop") deny kb.search when args.query == "stop" reason "stopped" revoke', "  allow *"].join("\n"));
    expect(revoking.decide(request({ args: { query: "stop" } }))).toMatchObject({ decision: "deny", revoked: true });
    const { tool: _tool, ...noTool } = request();
    for (const input of [request({ time: "not a time" }), noTool, request({ tool: 7 }), request({ tool: "no.such" }), request({ args: {} })]) {
      expect(revoking.decide(input), JSON.stringify(input)).toMatchObject({ decision: "deny", rules: ["stop"], reasons: ["stopped"], revoked: true });
    }
  });

  it("throwing getters and proxies are denied, not thrown", () => {
    const trap = new Proxy({}, { get: () => { throw new Error("boom"); }, has: () => { throw new Error("boom"); }, ownKeys: () => { throw new Error("boom"); } });
    const getter = { ...request(), get args(): never { throw new Error("boom"); } };
    // Values that cannot even be turned into a message: no toString, a throwing message getter.
    const throwing = (thrown: () => unknown): Record<string, unknown> => {
      const agent = { id: "spiffe://acme.com/agents/support-bot", zone: "internal", attested: true };
      Object.defineProperty(agent, "team", { enumerable: true, get: () => { throw thrown(); } });
      return request({ agent });
    };
    const silentError = new Error("x");
    Object.defineProperty(silentError, "message", { get: () => { throw Object.create(null); } });
    const odd = [throwing(() => Object.create(null)), throwing(() => silentError), throwing(() => Symbol("s")), throwing(() => new Proxy({}, { getPrototypeOf: () => { throw new Error("proto"); } }))];
    for (const input of [trap, getter, request({ agent: trap }), request({ args: trap }), ...odd]) {
      let decision;
      expect(() => (decision = engine.decide(input))).not.toThrow();
      expect(decision!.decision).toBe("deny");
    }
  });
});

/** An independent check that a value fits the contract's declarations (the ones in fixtures.ts). */
function fitsDeclarations(value: unknown): boolean {
  const isObject = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === "object" && !Array.isArray(v);
  const str = (v: unknown): boolean => typeof v === "string";
  const has = (o: Record<string, unknown>, k: string): boolean => Object.hasOwn(o, k) && o[k] !== undefined && o[k] !== null;
  const zone = (v: unknown): boolean => v === "internal" || v === "partner" || v === "external";
  if (!isObject(value)) return false;
  const r = value;
  if (typeof r["session"] !== "string" || r["session"] === "") return false;
  if (r["time"] !== undefined && (typeof r["time"] !== "string" || Number.isNaN(Date.parse(r["time"])))) return false;
  const agent = r["agent"];
  if (!isObject(agent) || !str(agent["id"]) || !str(agent["team"]) || !zone(agent["zone"]) || typeof agent["attested"] !== "boolean") return false;
  const context = r["context"];
  if (!isObject(context) || !str(context["env"]) || !Array.isArray(context["labels"])) return false;
  if (!(context["labels"] as unknown[]).every((l) => ["public", "internal", "pii", "secret"].includes(l as string))) return false;
  if (has(context, "destination")) {
    const d = context["destination"];
    if (!isObject(d) || !str(d["host"]) || !zone(d["zone"])) return false;
  }
  const user = r["user"];
  if (user !== undefined && user !== null && (!isObject(user) || !str(user["id"]) || !Array.isArray(user["roles"]) || !(user["roles"] as unknown[]).every(str))) return false;
  const intent = r["intent"];
  if (intent !== undefined && intent !== null && intent !== "support.reply" && intent !== "research") return false;
  const args = r["args"];
  if (!isObject(args)) return false;
  switch (r["tool"]) {
    case "crm.lookup":
      return str(args["customer_id"]);
    case "email.send":
      return Array.isArray(args["to"]) && (args["to"] as unknown[]).every(str) && str(args["subject"]) && str(args["body"]);
    case "http.get":
      return str(args["url"]);
    case "kb.search":
      return str(args["query"]);
    default:
      return false;
  }
}

describe("property: decide never throws and never allows what does not fit", () => {
  const engine = engineWith("  allow *");
  const support = engineWith(
    [
      '  deny email.send when any(r in args.to: not (r like "*@acme.com"))',
      '  allow * when agent.team == "support"',
      "  deny * when not (tool in intent.tools)",
      "  deny * when session.repeats >= 3 revoke",
    ].join("\n"),
  );

  /** A valid request with one part replaced by a random value. */
  const mutated = fc
    .tuple(
      fc.constantFrom(...Object.keys(ARGS)),
      fc.constantFrom("session", "tool", "time", "agent", "user", "intent", "args", "context", "agent.team", "agent.zone", "agent.attested", "context.labels", "context.destination", "args.query", "args.to", "args.customer_id", "args.url", "user.roles"),
      fc.oneof(fc.jsonValue(), fc.anything()),
    )
    .map(([tool, path, value]) => {
      const base = JSON.parse(JSON.stringify(call(tool, 0, { user: USER }))) as Record<string, Record<string, unknown>>;
      const [head, tail] = path.split(".") as [string, string | undefined];
      if (tail === undefined) (base as Record<string, unknown>)[head] = value;
      else if (base[head] && typeof base[head] === "object") base[head]![tail] = value;
      return base as unknown;
    });

  it("for random JSON values and mutated requests", () => {
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue(), fc.anything(), mutated, mutated.map((v) => JSON.parse(JSON.stringify(v ?? null)) as unknown)), (input) => {
        for (const e of [engine, support]) {
          let decision;
          expect(() => (decision = e.decide(input))).not.toThrow();
          const d = decision as unknown as ReturnType<Engine["decide"]>;
          expect(["allow", "ask", "deny"]).toContain(d.decision);
          if (d.decision === "allow") expect(fitsDeclarations(input), JSON.stringify(input)).toBe(true);
          if (d.decision !== "allow") expect(d.grants).toEqual([]);
        }
      }),
      { numRuns: 400 },
    );
  });

  it("the reference check agrees with the engine on valid requests (control)", () => {
    // A fresh engine: the random requests above may have expired session "s" (dated far apart).
    const fresh = engineWith("  allow *");
    for (const tool of Object.keys(ARGS)) {
      expect(fitsDeclarations(call(tool, 0))).toBe(true);
      expect(fresh.decide(call(tool, 0)).decision).toBe("allow");
    }
    expect(DECLS).toContain("tool kb.search");
  });
});
