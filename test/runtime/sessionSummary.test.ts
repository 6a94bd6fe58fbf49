import { describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";
import type { Engine, SessionSummary } from "../../src/runtime/index.js";

/**
 * What `Engine.session` tells an incident responder beyond counts: the calls awaiting a person's
 * approval, the labels and tools the session holds by name, and why an ended session ended.
 */
/** The declarations both policies share, and their first rules. */
const DECLARATIONS = `enum Label { public, secret }
context { labels: set<Label> }
tool t { risk low args { q: string } }
tool u { risk low args { q: string } }
intent triage { tools t, u }
policy p {
  @name("ok") allow t, u
  @name("check") ask t when args.q like "ask*" reason "a person looks first"
`;
const POLICY = `${DECLARATIONS}  @name("double-check") ask t when args.q == "ask-twice" reason "two people look"
  @name("after-u") ask t when session.tools contains u and args.q == "ask-again" reason "u came first"
  @name("no-leak") deny t when session.labels contains secret and args.q == "leak"
  @name("rv") deny u when args.q == "boom" revoke
}
`;
/** The same tools and first rules, reading no session: nothing of it is kept by name. */
const STATELESS = `${DECLARATIONS}}
`;
const T0 = Date.parse("2026-11-30T10:00:00Z");
const iso = (ms: number): string => new Date(ms).toISOString();

function setup(text = POLICY, options: Record<string, unknown> = {}): { engine: Engine; clock: { now: number }; call: (session: string, tool: string, q: string, labels?: string[]) => Record<string, unknown> } {
  const clock = { now: T0 };
  const engine = compile([{ path: "p.policy", text }], { clock: () => clock.now, ...options });
  const call = (session: string, tool: string, q: string, labels: string[] = []): Record<string, unknown> => ({ time: iso(clock.now), session, tool, intent: "triage", args: { q }, context: { labels } });
  return { engine, clock, call };
}

describe("Engine.session: asks awaiting approval", () => {
  it("lists each asked call with its tool, when it was asked, the asking rules and how many asks await; approval takes them away", () => {
    const { engine, clock, call } = setup();
    expect(engine.session("s")).toBeUndefined();
    expect(engine.decide(call("s", "t", "x")).decision).toBe("allow");
    expect(engine.session("s")).toMatchObject({ pendingAsks: [], pendingAskCount: 0 });
    const once = call("s", "t", "ask-once");
    expect(engine.decide(once).decision).toBe("ask");
    clock.now += 10_000;
    const twice = call("s", "t", "ask-twice");
    expect(engine.decide(twice)).toMatchObject({ decision: "ask", rules: ["check", "double-check"] });
    clock.now += 5_000;
    engine.decide(call("s", "t", "ask-twice"));
    const summary = engine.session("s")!;
    expect(summary.pendingAskCount).toBe(2);
    expect(summary.pendingAsks).toEqual([
      { tool: "t", firstAskedAt: iso(T0), lastAskedAt: iso(T0), asks: 1, rules: ["check"], labelsDropped: false },
      { tool: "t", firstAskedAt: iso(T0 + 10_000), lastAskedAt: iso(T0 + 15_000), asks: 2, rules: ["check", "double-check"], labelsDropped: false },
    ]);
    expect(Object.isFrozen(summary.pendingAsks) && summary.pendingAsks!.every((ask) => Object.isFrozen(ask) && Object.isFrozen(ask.rules))).toBe(true);
    // One approval takes one ask of a call: the call stays listed until none of it awaits.
    clock.now += 1_000;
    expect(engine.approved({ ...twice, time: iso(clock.now) })).toBe(true);
    expect(engine.session("s")!.pendingAsks!.map((ask) => ask.asks)).toEqual([1, 1]);
    expect(engine.approved({ ...twice, time: iso(clock.now) })).toBe(true);
    expect(engine.approved({ ...once, time: iso(clock.now) })).toBe(true);
    expect(engine.session("s")).toMatchObject({ pendingAsks: [], pendingAskCount: 0 });
    // The snapshot taken before is not live.
    expect(summary.pendingAskCount).toBe(2);
  });

  it("gathers the rules that asked a call over its asks", () => {
    const { engine, clock, call } = setup();
    expect(engine.decide(call("s", "t", "ask-again"))).toMatchObject({ decision: "ask", rules: ["check"] });
    clock.now += 1_000;
    expect(engine.decide(call("s", "u", "x")).decision).toBe("allow");
    clock.now += 1_000;
    expect(engine.decide(call("s", "t", "ask-again"))).toMatchObject({ decision: "ask", rules: ["check", "after-u"] });
    expect(engine.session("s")!.pendingAsks).toEqual([{ tool: "t", firstAskedAt: iso(T0), lastAskedAt: iso(T0 + 2_000), asks: 2, rules: ["check", "after-u"], labelsDropped: false }]);
  });

  it("keeps when a call was first asked as the earliest of its asks' times, not the first to arrive", () => {
    const { engine, clock, call } = setup();
    clock.now = T0 + 60_000;
    engine.decide(call("s", "t", "ask"));
    clock.now = T0;
    engine.decide(call("s", "t", "ask"));
    expect(engine.session("s")!.pendingAsks).toEqual([{ tool: "t", firstAskedAt: iso(T0), lastAskedAt: iso(T0 + 60_000), asks: 2, rules: ["check"], labelsDropped: false }]);
    // The engine cannot tell which ask an approval answers: what is listed covers every ask since the call was first asked.
    clock.now = T0 + 61_000;
    expect(engine.approved(call("s", "t", "ask"))).toBe(true);
    expect(engine.session("s")!.pendingAsks).toEqual([{ tool: "t", firstAskedAt: iso(T0), lastAskedAt: iso(T0 + 60_000), asks: 1, rules: ["check"], labelsDropped: false }]);
  });

  it("keeps the ids of the latest 32 rules to ask a call, dropping the earliest", () => {
    const { engine, clock, call } = setup();
    expect(engine.decide(call("s", "t", "ask")).decision).toBe("ask");
    let current = engine;
    for (let i = 0; i < 40; i++) {
      clock.now += 10;
      current = compile([{ path: "p.policy", text: POLICY.replace('@name("check")', `@name("r${i}")`) }], { clock: () => clock.now, sessionsFrom: current });
      expect(current.decide(call("s", "t", "ask"))).toMatchObject({ decision: "ask", rules: [`r${i}`] });
    }
    const [ask] = current.session("s")!.pendingAsks!;
    expect(ask).toMatchObject({ asks: 41, rules: Array.from({ length: 32 }, (_, i) => `r${i + 8}`) });
  });

  it("lists none once the session is revoked, by a rule or an operator: no ask of it can be approved", () => {
    const { engine, clock, call } = setup();
    for (const session of ["by-rule", "by-operator"]) expect(engine.decide(call(session, "t", "ask")).decision).toBe("ask");
    clock.now += 1_000;
    expect(engine.decide(call("by-rule", "u", "boom"))).toMatchObject({ decision: "deny", revoked: true });
    expect(engine.revoke("by-operator", "INC-7").outcome).toBe("revoked");
    for (const session of ["by-rule", "by-operator"]) {
      expect(engine.session(session)).toMatchObject({ status: "live", pendingAsks: [], pendingAskCount: 0, revoked: { by: session === "by-rule" ? "rules" : "operator" } });
      expect(engine.approved(call(session, "t", "ask"))).toBe(false);
    }
  });

  it("lists the first 20 asked calls, oldest first by when they were first asked, and counts them all", () => {
    const { engine, clock, call } = setup();
    // Asked in arrival order 0..29, the first one dated last.
    for (let i = 0; i < 30; i++) {
      clock.now = T0 + (i === 0 ? 60_000 : i * 1_000);
      expect(engine.decide(call("loop", "t", `ask-${i}`)).decision).toBe("ask");
    }
    const summary = engine.session("loop")!;
    expect(summary.pendingAskCount).toBe(30);
    expect(summary.pendingAsks).toHaveLength(20);
    expect(summary.pendingAsks!.map((ask) => ask.firstAskedAt)).toEqual(Array.from({ length: 20 }, (_, i) => iso(T0 + (i + 1) * 1_000)));
  });

  it("is null for an ended session", () => {
    const { engine, clock, call } = setup();
    engine.decide(call("s", "t", "ask"));
    clock.now += 3 * 3_600_000;
    expect(engine.session("s")).toMatchObject({ status: "ended", pendingAsks: null, pendingAskCount: null });
  });
});

describe("Engine.session: labels and tools by name", () => {
  it("names the labels the session holds and the tools it was allowed, sorted, when the policy keeps them", () => {
    const { engine, clock, call } = setup();
    expect(engine.decide(call("s", "u", "x", ["secret"])).decision).toBe("allow");
    clock.now += 1_000;
    expect(engine.decide(call("s", "t", "x", ["public"])).decision).toBe("allow");
    // Denied and asked calls add no tool, nor their labels (until approved).
    expect(engine.decide(call("s", "t", "leak")).decision).toBe("deny");
    const summary = engine.session("s")!;
    expect(summary).toMatchObject({ labels: 2, labelNames: ["public", "secret"], tools: ["t", "u"] });
    expect(Object.isFrozen(summary.labelNames) && Object.isFrozen(summary.tools)).toBe(true);
  });

  it("names whatever strings requests sent when context.labels is not typed by the label enum", () => {
    const { engine, call } = setup(POLICY.replace("context { labels: set<Label> }", "context { labels: set<string> }"));
    expect(engine.decide(call("s", "t", "x", ["sk-live-TOKEN", "user@example.com"])).decision).toBe("allow");
    expect(engine.session("s")!.labelNames).toEqual(["sk-live-TOKEN", "user@example.com"]);
  });

  it("is null when the compiled policy does not keep them, and for an ended session", () => {
    const { engine, clock, call } = setup(STATELESS);
    engine.decide(call("s", "t", "x", ["secret"]));
    expect(engine.session("s")).toMatchObject({ status: "live", labels: null, labelNames: null, tools: null, pendingAskCount: 0 });
    const kept = setup();
    kept.engine.decide(kept.call("s", "t", "x", ["secret"]));
    kept.clock.now += 3 * 3_600_000;
    expect(kept.engine.session("s")).toMatchObject({ status: "ended", labelNames: null, tools: null });
    expect(clock.now).toBe(T0);
  });
});

describe("Engine.session: why an ended session ended", () => {
  it("is null while live", () => {
    const { engine, call } = setup();
    engine.decide(call("s", "t", "x"));
    expect(engine.session("s")).toMatchObject({ status: "live", endCause: null, endReason: null });
  });

  it("says it went idle, by the engine's clock, whether or not a sweep freed it, and by its own times once an attempt found it idle", () => {
    const { engine, clock, call } = setup();
    engine.decide(call("i", "t", "x"));
    engine.decide(call("j", "t", "x"));
    clock.now += 3 * 3_600_000;
    const before = engine.session("i")!;
    expect(before).toMatchObject({ status: "ended", endCause: "idle" });
    expect(before.endReason).toBe("the engine's clock (in a replay, the recorded times) moved 3 hours past its last attempt with no attempt in between, so the engine freed its state (sessionIdleMs is 1 hour): it went idle, or the clock stepped ahead by that much");
    engine.decide(call("other", "t", "x"));
    expect(engine.session("i")).toEqual(before);
    // An attempt dated past the idle time finds j idle by its own times (the engine's clock moved less).
    const late = setup();
    late.engine.decide(late.call("j", "t", "x"));
    expect(late.engine.decide({ ...late.call("j", "t", "x"), time: iso(T0 + 2 * 3_600_000) }).decision).toBe("deny");
    expect(late.engine.session("j")).toMatchObject({ status: "ended", endCause: "idle", endReason: expect.stringMatching(/^its attempt is dated 2 hours after its previous one .* more than sessionIdleMs \(1 hour\) allows/) });
  });

  it("says a reload ended it, and why", () => {
    const { engine, clock, call } = setup();
    engine.decide(call("s", "t", "x"));
    const reloaded = compile([{ path: "p.policy", text: POLICY.replace("intent triage { tools t, u }", "intent other { tools t, u }") }], { clock: () => clock.now, sessionsFrom: engine });
    expect(reloaded.session("s")).toMatchObject({ status: "ended", endCause: "reload", endReason: "the policy was reloaded without the intent it declared", calls: null });
  });

  it("says it was revoked before its first attempt, with the reason its denials give, also after attempts on it", () => {
    const { engine, clock, call } = setup();
    engine.revoke("early", "key leaked");
    const expected = { status: "ended", endCause: "revoked-before-start", endReason: 'revoked by an operator: "key leaked"', revoked: { by: "operator" } };
    expect(engine.session("early")).toMatchObject(expected);
    clock.now += 1_000;
    // What its denials give as the cause.
    expect(engine.decide(call("early", "t", "x"))).toMatchObject({ decision: "deny", reasons: [expected.endReason] });
    expect(engine.session("early")).toMatchObject(expected);
  });

  it("gives every field of an ended session, frozen", () => {
    const { engine } = setup();
    engine.revoke("early", "key leaked");
    const summary = engine.session("early")!;
    expect(summary).toEqual({
      session: "early",
      status: "ended",
      calls: null,
      denials: null,
      firstSeen: null,
      lastSeen: iso(T0),
      intent: null,
      labels: null,
      labelNames: null,
      tools: null,
      pendingAsks: null,
      pendingAskCount: null,
      labelsDropped: null,
      ownLabelsDropped: null,
      asksNotKept: null,
      windowOverflowed: null,
      undeclaredToolsUnnamed: null,
      endCause: "revoked-before-start",
      endReason: 'revoked by an operator: "key leaked"',
      revoked: { by: "operator", rules: [], reasons: ['revoked by an operator: "key leaked"'], at: iso(T0), tool: null },
    } satisfies SessionSummary);
    expect(Object.isFrozen(summary)).toBe(true);
  });
});

describe("Engine.session: what the engine could not keep of a session (its bounds, where it fails closed)", () => {
  /** Labels as strings (not the enum, which is always kept): 40 labels of 100 characters fill the room (4,096). */
  const STRING_LABELS = POLICY.replace("context { labels: set<Label> }", "context { labels: set<string> }");
  const many = (prefix: string, count: number): string[] => Array.from({ length: count }, (_, i) => `${prefix}${String(i).padStart(99 - prefix.length, "0")}`);

  it("says a live session lost none of its state, and gives null for what the policy keeps none of", () => {
    const { engine, call } = setup(STRING_LABELS);
    engine.decide(call("s", "t", "x", ["a"]));
    expect(engine.session("s")).toMatchObject({ labelsDropped: false, ownLabelsDropped: false, asksNotKept: 0, windowOverflowed: null, undeclaredToolsUnnamed: null });
    const stateless = setup(STATELESS);
    stateless.engine.decide(stateless.call("s", "t", "x", ["secret"]));
    expect(stateless.engine.session("s")).toMatchObject({ labelsDropped: null, ownLabelsDropped: null, asksNotKept: 0, windowOverflowed: null, undeclaredToolsUnnamed: null });
  });

  it("says when labels found no room: the session's own (its session.labels tests fail closed) or an ask's awaiting approval", () => {
    const { engine, call } = setup(STRING_LABELS);
    expect(engine.decide(call("s", "t", "x", many("a", 41))).decision).toBe("allow");
    expect(engine.session("s")).toMatchObject({ labelsDropped: true, ownLabelsDropped: true });
    // An ask's labels that found no room: approved, they would mark the session; the ask says which.
    expect(engine.decide(call("a", "t", "ask-1", many("b", 41))).decision).toBe("ask");
    expect(engine.decide(call("a", "t", "ask-2", ["c"])).decision).toBe("ask");
    const asked = engine.session("a")!;
    expect(asked).toMatchObject({ labelsDropped: true, ownLabelsDropped: false });
    expect(asked.pendingAsks!.map((ask) => ask.labelsDropped)).toEqual([true, false]);
    // Once revoked, no ask can be approved: only the session's own labels count.
    engine.revoke("a", "INC-9");
    expect(engine.session("a")).toMatchObject({ labelsDropped: false, ownLabelsDropped: false, pendingAsks: [] });
  });

  it("counts the asks refused for want of room past the 256 calls a session keeps awaiting approval", () => {
    const { engine, call } = setup();
    for (let i = 0; i < 256; i++) expect(engine.decide(call("s", "t", `ask-${i}`)).errors).toEqual([]);
    expect(engine.session("s")).toMatchObject({ pendingAskCount: 256, asksNotKept: 0 });
    expect(engine.decide(call("s", "t", "ask-more")).errors).toEqual([expect.stringContaining("this ask cannot be approved")]);
    engine.decide(call("s", "t", "ask-more"));
    engine.decide(call("s", "t", "ask-other"));
    // An ask of a call kept already is kept (counted on that call).
    engine.decide(call("s", "t", "ask-0"));
    expect(engine.session("s")).toMatchObject({ pendingAskCount: 256, asksNotKept: 3 });
  });

  it("says when an overflowing window let go of attempts a count could reach back to, not when a count saturates at the policy's own numbers", () => {
    const COUNTED = `tool t { risk low args { q: string } }
tool kb.search { risk low args { q: string } }
policy p {
  allow t, kb.*
  deny t when session.count(within 1m) > 3
}
`;
    // Kept at the policy's own numbers (4 attempts for its > 3), the count stays exact past them.
    const saturating = setup(COUNTED);
    for (let i = 0; i < 10; i++) saturating.engine.decide(saturating.call("s", "t", "x"));
    expect(saturating.engine.session("s")).toMatchObject({ windowOverflowed: false });
    const small = setup(COUNTED, { maxWindowEntries: 2 });
    for (let i = 0; i < 2; i++) small.engine.decide(small.call("s", "t", "x"));
    expect(small.engine.session("s")).toMatchObject({ windowOverflowed: false });
    small.engine.decide(small.call("s", "t", "x"));
    expect(small.engine.session("s")).toMatchObject({ windowOverflowed: true });
    // A count of some tools: kept names of undeclared tools up to 1,024 characters, past them not.
    const named = setup(COUNTED.replace("session.count(within 1m)", "session.count(kb.*, within 1m)"));
    named.engine.decide(named.call("s", "kb.other", "x"));
    expect(named.engine.session("s")).toMatchObject({ windowOverflowed: false, undeclaredToolsUnnamed: false });
    named.engine.decide(named.call("s", `kb.${"x".repeat(1_024)}`, "x"));
    expect(named.engine.session("s")).toMatchObject({ windowOverflowed: false, undeclaredToolsUnnamed: true });
  });

  it("says nothing of a window that let go only of attempts older than the longest within (kept for twice it, for late attempts)", () => {
    const DAY = `tool kb.search { risk low args { q: string } }
intent triage { tools kb.search }
policy p {
  allow kb.*
  deny kb.search when session.count(kb.*, within 24h) > 8000
}
`;
    // 10,050 calls 13 s apart: about 6,646 in any 24 hours, but more than the 10,000 kept over 48.
    const day = setup(DAY);
    for (let i = 0; i < 10_050; i++) {
      expect(day.engine.decide(day.call("s", "kb.search", "x")).errors).toEqual([]);
      day.clock.now += 13_000;
    }
    expect(day.engine.session("s")).toMatchObject({ windowOverflowed: false });
    const MINUTE = `tool t { risk low args { q: string } }
intent triage { tools t }
policy p {
  allow t
  deny t when session.count(within 1m) > 100
}
`;
    // 3 attempts kept, 25 s apart: what is let go is older than a minute.
    const apart = setup(MINUTE, { maxWindowEntries: 3 });
    for (let i = 0; i < 6; i++) {
      expect(apart.engine.decide(apart.call("s", "t", "x")).errors).toEqual([]);
      apart.clock.now += 25_000;
    }
    expect(apart.engine.session("s")).toMatchObject({ windowOverflowed: false });
    // 10 s apart: the fourth lets go of an attempt inside its minute, and the next one's count fails closed.
    const close = setup(MINUTE, { maxWindowEntries: 3 });
    for (let i = 0; i < 3; i++) {
      close.engine.decide(close.call("s", "t", "x"));
      close.clock.now += 10_000;
    }
    expect(close.engine.session("s")).toMatchObject({ windowOverflowed: false });
    expect(close.engine.decide(close.call("s", "t", "x")).errors).toEqual([]);
    expect(close.engine.session("s")).toMatchObject({ windowOverflowed: true });
    close.clock.now += 10_000;
    expect(close.engine.decide(close.call("s", "t", "x")).errors).toEqual([expect.stringContaining("maxWindowEntries")]);
    // An attempt arriving late whose minute reaches back past what an on-time one let go: its count fails closed, and the flag says so.
    const late = setup(MINUTE, { maxWindowEntries: 3 });
    for (let i = 0; i < 4; i++) {
      late.engine.decide(late.call("s", "t", "x"));
      late.clock.now += 25_000;
    }
    expect(late.engine.session("s")).toMatchObject({ windowOverflowed: false });
    const early = { ...late.call("s", "t", "x"), time: iso(T0 + 30_000) };
    expect(late.engine.decide(early).errors).toEqual([expect.stringContaining("maxWindowEntries")]);
    expect(late.engine.session("s")).toMatchObject({ windowOverflowed: true });
  });

  it("after a reload: a window kept at the old policy's numbers is no overflow; one that overflowed before says so still", () => {
    const counted = (n: number): string => `tool t { risk low args { q: string } }
policy p {
  allow t
  deny t when session.count(within 1m) > ${n}
}
`;
    const clock = { now: T0 };
    const call = (): Record<string, unknown> => ({ time: iso(clock.now), session: "s", tool: "t", args: { q: "x" } });
    const saturating = compile([{ path: "p.policy", text: counted(3) }], { clock: () => clock.now });
    for (let i = 0; i < 6; i++) {
      clock.now += 1_000;
      saturating.decide(call());
    }
    expect(saturating.session("s")).toMatchObject({ windowOverflowed: false });
    const reloaded = compile([{ path: "p.policy", text: counted(10) }], { clock: () => clock.now, sessionsFrom: saturating });
    expect(reloaded.session("s")).toMatchObject({ windowOverflowed: false });
    // Its counts reaching back past what the old window let go deny (the reload's doing), and say nothing of an overflow.
    clock.now += 1_000;
    expect(reloaded.decide(call()).errors).toEqual([expect.stringContaining("reload")]);
    expect(reloaded.session("s")).toMatchObject({ windowOverflowed: false });
    // A window that overflowed before the reload still says so after it.
    const small = compile([{ path: "p.policy", text: counted(100) }], { clock: () => clock.now, maxWindowEntries: 3 });
    for (let i = 0; i < 4; i++) {
      clock.now += 1_000;
      small.decide({ ...call(), session: "o" });
    }
    expect(small.session("o")).toMatchObject({ windowOverflowed: true });
    const after = compile([{ path: "p.policy", text: counted(200) }], { clock: () => clock.now, maxWindowEntries: 3, sessionsFrom: small });
    expect(after.session("o")).toMatchObject({ windowOverflowed: true });
  });

  it("is null for an ended session", () => {
    const { engine, clock, call } = setup(STRING_LABELS);
    engine.decide(call("s", "t", "x", many("a", 41)));
    clock.now += 3 * 3_600_000;
    expect(engine.session("s")).toMatchObject({ status: "ended", labelsDropped: null, ownLabelsDropped: null, asksNotKept: null, windowOverflowed: null, undeclaredToolsUnnamed: null });
  });
});
