import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import { viaBundle } from "./fixtures.js";

/**
 * `engine.declaredArguments(tool, args)` and `engine.undeclaredFields(request)` (audit s22 f2
 * #1, #2): no rule sees an undeclared field (docs/language.md section 7, step 2), so an enforcement point passes the
 * tool the declared arguments only, and a person is told which fields were ignored.
 */
const SOURCES = [
  {
    path: "mail.policy",
    text: `type Addr { email: string, name?: string }
type Part { name: string, parts?: list<Part> }
agent { id: string }
context { labels: set<string> }
tool email.send { risk high args { to: list<Addr>, subject: string, cc?: set<Addr>, tags?: list<string>, part?: Part, plain?: Addr } }
policy p {
  @name("inside") allow email.send when all(a in args.to: a.email.endsWith("@acme.com"))
}
`,
  },
] as const;

describe.each([
  ["compiled", () => compile(SOURCES)],
  ["from a bundle", () => viaBundle(SOURCES)],
])("declared arguments (%s)", (_name, engineOf) => {
  const engine = engineOf();
  const request = (args: unknown): Record<string, unknown> => ({ session: "s", tool: "email.send", agent: { id: "bot" }, context: { labels: [] }, args });

  it("leaves out an undeclared argument the rules never saw, and names it", () => {
    const args = { to: [{ email: "ann@acme.com" }], subject: "hi", bcc: ["eve@evil.example"] };
    expect(engine.decide(request(args)).decision).toBe("allow");
    expect(engine.declaredArguments("email.send", args)).toEqual({ args: { to: [{ email: "ann@acme.com" }], subject: "hi" }, undeclared: ["bcc"] });
  });

  it("walks declared records, lists and sets of records, and recursive records: their undeclared fields are left out by path", () => {
    const args = {
      to: [{ email: "ann@acme.com", note: "x" }, { email: "bob@acme.com" }],
      subject: "hi",
      cc: [{ email: "c@acme.com", name: "C", phone: "1" }],
      tags: ["a", "b"],
      part: { name: "p", secret: 1, parts: [{ name: "q", parts: [{ name: "r", x: true }] }] },
      plain: { email: "d@acme.com", "bad key": 2 },
    };
    const declared = engine.declaredArguments("email.send", args);
    expect(declared?.undeclared).toEqual(["to[0].note", "cc[0].phone", "part.secret", "part.parts[0].parts[0].x", 'plain["bad key"]']);
    expect(declared?.args).toEqual({
      to: [{ email: "ann@acme.com" }, { email: "bob@acme.com" }],
      subject: "hi",
      cc: [{ email: "c@acme.com", name: "C" }],
      tags: ["a", "b"],
      part: { name: "p", parts: [{ name: "q", parts: [{ name: "r" }] }] },
      plain: { email: "d@acme.com" },
    });
    // A copy: the caller's object is left as it was.
    expect(args.to[0]).toEqual({ email: "ann@acme.com", note: "x" });
  });

  it("keeps an own `__proto__` argument out without touching the copy's prototype", () => {
    const args = JSON.parse('{"to": [], "subject": "s", "__proto__": {"polluted": true}}') as Record<string, unknown>;
    const declared = engine.declaredArguments("email.send", args);
    expect(declared?.undeclared).toEqual(["__proto__"]);
    expect(Object.getPrototypeOf(declared?.args)).toBe(Object.prototype);
    expect((declared?.args as Record<string, unknown>)["polluted"]).toBeUndefined();
  });

  it("has nothing for an undeclared tool, arguments that are not an object, or arguments too deep to walk; none for absent ones", () => {
    expect(engine.declaredArguments("email.sendx", {})).toBeUndefined();
    expect(engine.declaredArguments("email.send", "to=eve")).toBeUndefined();
    expect(engine.declaredArguments("email.send", [])).toBeUndefined();
    expect(engine.declaredArguments("email.send", null)).toEqual({ args: {}, undeclared: [] });
    let part: Record<string, unknown> = { name: "leaf" };
    for (let i = 0; i < 600; i++) part = { name: `p${i}`, parts: [part] };
    expect(engine.declaredArguments("email.send", { to: [], subject: "s", part })).toBeUndefined();
    const throwing = Object.defineProperty({ to: [], subject: "s" }, "cc", { enumerable: true, get: () => { throw new Error("boom"); } });
    expect(engine.declaredArguments("email.send", throwing)).toBeUndefined();
  });

  it("lists the undeclared fields of a request's agent, user, context and args, without deciding otherwise", () => {
    const args = { to: [{ email: "ann@acme.com", note: "secret-value" }], subject: "hi", bcc: ["eve@evil.example"] };
    const withExtras = { ...request(args), agent: { id: "bot", token: "t0ps3cret" }, context: { labels: [], trace_id: "abc" }, user: { id: "u" } };
    expect(engine.undeclaredFields(withExtras)).toEqual(["agent.token", "user", "context.trace_id", "args.to[0].note", "args.bcc"]);
    expect(engine.undeclaredFields(request({ to: [], subject: "s" }))).toEqual([]);
    // Names only: no value of the request appears.
    expect(JSON.stringify(engine.undeclaredFields(withExtras))).not.toMatch(/secret|t0ps3cret|evil|abc/);
    // An undeclared tool's arguments are not told apart; a request that is no object has none.
    expect(engine.undeclaredFields({ ...request({ x: 1 }), tool: "nope" })).toEqual([]);
    expect(engine.undeclaredFields("nope")).toEqual([]);
  });

  it("lists every undeclared field of a request with hundreds of thousands of them, not none (audit s22 g2 #1)", () => {
    const args: Record<string, unknown> = { to: [], subject: "s" };
    for (let i = 0; i < 200_000; i++) args[`x${i}`] = 1;
    const found = engine.undeclaredFields(request(args));
    expect(found).toHaveLength(200_000);
    expect(found[0]).toBe("args.x0");
    expect(found[199_999]).toBe("args.x199999");
  });

  it("copies arguments exactly when the engine can validate them: at the values limit, and not one past it (audit s22 g2 #2)", () => {
    // 500,000 addresses are 1,000,000 values as the engine counts them (each list member, and each record in it).
    const to = Array.from({ length: 500_000 }, () => ({ email: "a@acme.com" }));
    expect(engine.decide(request({ to, subject: "s" })).decision).toBe("allow");
    expect(engine.declaredArguments("email.send", { to, subject: "s" })?.args["to"]).toHaveLength(500_000);
    to.push({ email: "a@acme.com" });
    expect(engine.decide({ ...request({ to, subject: "s" }), session: "s2" })).toMatchObject({ decision: "deny", rules: [] });
    expect(engine.declaredArguments("email.send", { to, subject: "s" })).toBeUndefined();
  });

  it("copies every declared list and set, of plain values too: the copy shares no array with the caller's arguments (audit s22 g2 #3)", () => {
    const args = { to: [{ email: "ann@acme.com" }], subject: "hi", tags: ["a", "b"] };
    const copy = engine.declaredArguments("email.send", args)!.args as { to: unknown[]; tags: string[] };
    expect(copy).toEqual({ to: [{ email: "ann@acme.com" }], subject: "hi", tags: ["a", "b"] });
    expect(copy.tags).not.toBe(args.tags);
    expect(copy.to).not.toBe(args.to);
    expect(copy.to[0]).not.toBe(args.to[0]);
    args.tags.push("c");
    expect(copy.tags).toEqual(["a", "b"]);
  });
});
