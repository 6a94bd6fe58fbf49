import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import { explain } from "../../src/runtime/explain.js";
import type { Engine } from "../../src/runtime/engine.js";
import { viaBundle } from "./fixtures.js";

/**
 * "Undeclared extra fields are ignored" (language.md §5) holds for comparisons too: equality,
 * membership and `session.repeats` look at declared fields only, so a request cannot slip past
 * a rule by adding a field the policy never declared. Sets count their distinct members.
 * Each case is checked through the generated code and the IR interpreter (`explain`).
 */
const SOURCES = [
  {
    path: "net.policy",
    text: `type Dest { host: string, port: int, tls?: bool }
agent { id: string, home: Dest }
context { seen: set<Dest> }
tool net.call { risk low args { to: Dest, hops: list<Dest>, via?: set<Dest>, approvers?: set<string>, peers?: list<Dest> } }
policy p {
  @name("loop") deny net.call when args.hops contains agent.home reason "loop"
  @name("seen") ask net.call when context.seen contains args.to
  @name("two-person") allow net.call when args has approvers and args.approvers.size() >= 2
  @name("vias") deny net.call when args has via and args.via.size() > 2 reason "too many hops"
  @name("via-home") deny net.call when args has via and args.via containsAny [agent.home] reason "via home"
  @name("peer-seen") ask net.call when args has peers and any(x in args.peers: x in context.seen)
  @name("home") allow net.call when args.to == agent.home
}
`,
  },
] as const;

const HOME = { host: "home.acme.com", port: 443 };

function call(args: Record<string, unknown>, context: Record<string, unknown> = { seen: [] }, session = "s"): Record<string, unknown> {
  return { session, tool: "net.call", time: "2026-11-29T10:00:00Z", agent: { id: "a", home: HOME }, context, args: { to: { host: "x.example", port: 1 }, hops: [], ...args } };
}

/** The rules that decided, from the generated code, after checking the interpreter agrees. */
function rulesOf(engine: Engine, request: Record<string, unknown>): readonly string[] {
  const matched = explain(engine, request).rules.filter((r) => r.matched === true).map((r) => r.id);
  const decision = engine.decide(request);
  for (const id of decision.rules) expect(matched).toContain(id);
  return decision.rules;
}

describe.each([
  ["compiled from sources", () => compile([...SOURCES])],
  ["loaded from a bundle", () => viaBundle([...SOURCES])],
])("declared fields decide comparisons (%s)", (_, make) => {
  it("a record with an undeclared extra field equals the same declared fields", () => {
    const e = make();
    expect(rulesOf(e, call({ to: { ...HOME, note: "x" } }))).toEqual(["home"]);
    expect(rulesOf(e, call({ to: { ...HOME, port: 80 } }))).toEqual([]);
  });

  it("an absent optional field and a null one are the same; a present one differs", () => {
    const e = make();
    expect(rulesOf(e, call({ to: { ...HOME, tls: null } }))).toEqual(["home"]);
    expect(rulesOf(e, call({ to: { ...HOME, tls: true } }))).toEqual([]);
  });

  it("membership of records ignores undeclared fields, in lists and in sets", () => {
    const e = make();
    expect(rulesOf(e, call({ hops: [{ ...HOME, trace: 1 }] }))).toEqual(["loop"]);
    expect(rulesOf(e, call({}, { seen: [{ host: "x.example", port: 1, note: "n" }] }))).toEqual(["seen"]);
    expect(rulesOf(e, call({ via: [{ ...HOME, z: 0 }] }))).toEqual(["via-home"]);
  });

  it("the size of a set counts distinct members (a request's set may repeat them)", () => {
    const e = make();
    expect(rulesOf(e, call({ approvers: ["alice", "bob"] }))).toEqual(["two-person"]);
    expect(rulesOf(e, call({ approvers: ["alice", "alice"] }))).toEqual([]);
    const hop = { host: "h", port: 1 };
    expect(rulesOf(e, call({ via: [hop, { ...hop, extra: 1 }, { ...hop }] }))).toEqual([]);
    expect(rulesOf(e, call({ via: [hop, { host: "h", port: 2 }, { host: "h", port: 3 }] }))).toEqual(["vias"]);
  });

  it("a membership test inside a quantifier over long lists answers as over short ones (indexed, not quadratic)", () => {
    const e = make();
    const peers = Array.from({ length: 100_000 }, (_, i) => ({ host: `p${i}`, port: i }));
    const seen = Array.from({ length: 100_000 }, (_, i) => ({ host: `s${i}`, port: i, note: "n" }));
    expect(e.decide(call({ peers }, { seen })).rules).toEqual([]);
    expect(e.decide(call({ peers }, { seen: [...seen, { host: "p99999", port: 99_999, note: "late" }] })).rules).toEqual(["peer-seen"]);
    expect(e.decide(call({ peers: peers.slice(0, 3) }, { seen: [{ host: "p2", port: 2 }] })).rules).toEqual(["peer-seen"]);
  });
});

describe("session.repeats compares declared arguments only", () => {
  const sources = [
    {
      path: "kb.policy",
      text: `type Page { n: int, size?: int }
tool kb.search { risk low args { query: string, page?: Page, tags?: set<string> } }
policy p {
  @name("loop") deny kb.search when session.repeats >= 2 revoke
  allow kb.search
}
`,
    },
  ];
  const kb = (args: Record<string, unknown>, second: number): Record<string, unknown> => ({ session: "s", tool: "kb.search", time: `2026-11-29T10:00:0${second}Z`, args });

  it.each([
    ["a nonce", (i: number) => ({ query: "q", nonce: i })],
    ["an undeclared field in a declared record", (i: number) => ({ query: "q", page: { n: 1, trace: i } })],
    ["a set's order and repeats", (i: number) => ({ query: "q", tags: i % 2 ? ["a", "b", "a"] : ["b", "a"] })],
  ])("%s does not make a loop look like progress", (_, args) => {
    for (const engine of [compile(sources), viaBundle(sources)]) {
      expect(engine.decide(kb(args(0), 0)).decision).toBe("allow");
      expect(engine.decide(kb(args(1), 1)).decision).toBe("allow");
      expect(engine.decide(kb(args(2), 2))).toMatchObject({ decision: "deny", rules: ["loop"], revoked: true });
    }
  });

  it("a declared argument that changes breaks the run", () => {
    const engine = compile(sources);
    for (let i = 0; i < 5; i++) expect(engine.decide(kb({ query: "q", page: { n: i } }, i)).decision).toBe("allow");
  });
});

describe("a quantifier variable may hold a session set (a JavaScript Set, not a list)", () => {
  const sources = [
    {
      path: "loc.policy",
      text: `enum Label { public, pii }
tool kb.search { risk low returns pii args { query: string } }
tool mail.send { risk low args { to: string } }
policy p {
  @name("tainted") deny mail.send when any(t in [session.labels]: t contains pii)
  @name("sizes") ask mail.send when all(t in [session.labels]: t.size() == 1 and any(x in t: x != public)) and all(t in [session.tools]: kb.search in t)
  allow *
}
`,
    },
  ];

  it("membership, size and quantifiers over it work, without an evaluation error", () => {
    for (const engine of [compile(sources), viaBundle(sources)]) {
      const mail = { session: "s", tool: "mail.send", time: "2026-11-29T10:00:00Z", args: { to: "x" } };
      expect(engine.decide(mail)).toMatchObject({ decision: "allow", errors: [] });
      engine.decide({ ...mail, tool: "kb.search", args: { query: "q" } });
      expect(engine.decide(mail)).toMatchObject({ decision: "deny", rules: ["tainted"], errors: [] });
      expect(explain(engine, mail).rules.filter((r) => r.matched === true).map((r) => r.id)).toEqual(["tainted", "sizes", "p/3"]);
    }
  });
});
