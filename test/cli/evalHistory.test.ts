import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli, type CliResult } from "../helpers.js";
import { expectGolden, runText } from "../goldens/golden.js";
import { call, DECLS, engineWith, sourcesWith, stampedClock, SUPPORT_RULES, viaBundle } from "../runtime/fixtures.js";
import { explain, type Explanation } from "../../src/runtime/explain.js";
import type { Engine } from "../../src/runtime/engine.js";
import type { Decision } from "../../src/runtime/decision.js";
import { SessionTimeline } from "../../src/testing/sessionHistory.js";

/**
 * `policyc eval` with a history: the earlier lines of the explained request's session, with what
 * each changed (labels, a revocation, an approval), and the lines that explain the session
 * values its deciding clauses read. Goldens record the exit code and standard output.
 */
let dir: string;

const jsonl = (lines: readonly unknown[]): string => lines.map((line) => JSON.stringify(line)).join("\n") + "\n";
const LEAK = { to: ["bob@acme.com", "eve@evil.example"], subject: "Refund", body: "Hi" };

/** Rules over the session's calls, last call, counts and denials, for their provenance. */
const SESSION_POLICY = [
  "policy h {",
  '  @name("base") allow *',
  '  @name("after-lookup") deny kb.search when session.called(crm.*) and session.last == email.send',
  '  @name("busy") deny http.get when session.count(kb.*, within 1m) >= 3',
  '  @name("stubborn") deny email.send when session.denials >= 2',
  '  @name("mail-needs-ok") ask email.send when session.tools contains crm.lookup',
  "}",
  "",
].join("\n");

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-eval-history-"));
  write("decls.policy", DECLS);
  write("support.policy", SUPPORT_RULES);
  write("session.policy", SESSION_POLICY);
  write("single.json", JSON.stringify(call("crm.lookup", 0, { session: "s1" })));
  // The support example: a lookup taints the session with pii, a line of another session, then an email outside is denied.
  write(
    "taint.jsonl",
    jsonl([
      call("crm.lookup", 0, { session: "s1" }),
      call("kb.search", 500, { session: "other" }),
      call("kb.search", 1000, { session: "s1" }),
      call("email.send", 2000, { session: "s1" }),
      call("email.send", 3000, { session: "s1", args: LEAK }),
    ]),
  );
  // The same search five times: the loop rule revokes the session, then an operator revokes it (already), and a later lookup is denied.
  write(
    "revoked.jsonl",
    jsonl([
      ...[0, 1, 2, 3, 4].map((i) => call("kb.search", i * 1000, { session: "s1" })),
      { event: "revocation", time: "2026-11-29T10:00:06.000Z", session: "s1", reason: "INC-1: loop", outcome: "already-revoked" },
      call("crm.lookup", 7000, { session: "s1" }),
    ]),
  );
  // An operator's revocation, alone in its session's history.
  write(
    "operator.jsonl",
    jsonl([call("kb.search", 0, { session: "s2" }), { event: "revocation", time: "2026-11-29T10:00:01.000Z", session: "s2", reason: "INC-2: exfiltration suspected", outcome: "revoked" }, call("kb.search", 2000, { session: "s2" })]),
  );
  // 30 searches, then the request: the history shows the last 20.
  write("long.jsonl", jsonl([...Array.from({ length: 30 }, (_, i) => call("kb.search", i * 1000, { session: "s1", args: { query: `q${i}` } })), call("email.send", 31_000, { session: "s1" })]));
  // Session values: a lookup, an approved email, searches, denied mails, then a search after an email.
  write(
    "facts.jsonl",
    jsonl([
      call("crm.lookup", 0, { session: "s3" }),
      call("email.send", 1000, { session: "s3" }),
      { event: "approval", ...call("email.send", 2000, { session: "s3" }), approved: true },
      call("kb.search", 3000, { session: "s3" }),
      call("kb.search", 4000, { session: "s3" }),
      call("kb.search", 5000, { session: "s3" }),
      call("http.get", 6000, { session: "s3" }),
      call("email.send", 7000, { session: "s3" }),
    ]),
  );
  write("broken.jsonl", `${JSON.stringify(call("crm.lookup", 0, { session: "s1" }))}\nnot json\n${JSON.stringify(call("kb.search", 0, { session: "s1" }))}\n`);
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): void {
  writeFileSync(join(dir, name), text);
}

function evaluate(args: string[]): Promise<CliResult> {
  return cli(["eval", ...args], { cwd: dir });
}

const SUPPORT = ["decls.policy", "support.policy"];

/** `last` explained after `first` in session s1, as eval replays them: the timeline, the explanation and the decision. */
function explainedAfter(engine: Engine, first: Record<string, unknown>, last: Record<string, unknown>): { timeline: SessionTimeline; explained: Explanation; decision: Decision } {
  const timeline = new SessionTimeline(engine, "s1", () => []);
  timeline.step(first, 1)(engine.decide(first), undefined, undefined);
  const explained = explain(engine, last);
  const decision = engine.decide(last);
  timeline.decided(2);
  return { timeline, explained, decision };
}

describe("policyc eval: the session's history", () => {
  it("a single request: no history, the output as it was, in text and --json (golden)", async () => {
    const result = await evaluate([...SUPPORT, "-r", "single.json"]);
    expectGolden("eval-history-single", runText(result));
    expect(result.stdout).not.toContain("history");
    const json = await evaluate([...SUPPORT, "-r", "single.json", "--json"]);
    expect(Object.keys(JSON.parse(json.stdout) as object)).not.toContain("history");
  });

  it("a lookup taints the session with pii, then an email outside is denied: the history says which line brought pii (golden)", async () => {
    const result = await evaluate([...SUPPORT, "-r", "taint.jsonl"]);
    expect(result.code).toBe(0);
    expectGolden("eval-history-taint", runText(result));
    expect(result.stdout).toContain("(session.labels is [\"pii\"]: pii returned by crm.lookup at line 1)");
    expect(result.stdout).toMatch(/^history of session s1: 3 earlier lines \(and 1 line of other sessions\)\n/);
  });

  it("a revocation by a rule and an operator's revocation line show in the history (golden)", async () => {
    const result = await evaluate([...SUPPORT, "-r", "revoked.jsonl"]);
    expect(result.code).toBe(0);
    expectGolden("eval-history-revoked", runText(result));
    expect(result.stdout).toContain("line 5, 2026-11-29T10:00:04.000Z: deny kb.search by loop; revokes the session (loop): the same call five times in a row");
    expect(result.stdout).toContain(`line 6, 2026-11-29T10:00:06.000Z: revocation by an operator ("INC-1: loop"): already-revoked`);
    const operator = await evaluate([...SUPPORT, "-r", "operator.jsonl"]);
    expect(operator.stdout).toContain('line 2, 2026-11-29T10:00:01.000Z: revocation by an operator ("INC-2: exfiltration suspected"): revoked');
  });

  it("a long history shows the session's last 20 lines and says how many were left out (golden)", async () => {
    const result = await evaluate([...SUPPORT, "-r", "long.jsonl"]);
    expect(result.code).toBe(0);
    expectGolden("eval-history-long", runText(result));
    const lines = result.stdout.split("\n");
    expect(lines[0]).toBe("history of session s1: 30 earlier lines, the last 20 shown");
    expect(lines[1]).toBe("  … 10 earlier lines of the session not shown");
    expect(lines[2]).toMatch(/^ {2}line 11, /);
    expect(lines.filter((line) => /^ {2}line \d+, /.test(line))).toHaveLength(20);
  });

  it("--json: a history entry per earlier line of the session, and the provenance next to the values (golden)", async () => {
    const result = await evaluate([...SUPPORT, "-r", "taint.jsonl", "--json"]);
    expect(result.code).toBe(0);
    expectGolden("eval-history-json", runText(result));
    const document = JSON.parse(result.stdout) as { history: unknown[]; explanation: { rules: { id: string; clauses: { evidence?: { left: unknown }[] }[] }[] } };
    expect(document.history).toEqual([
      { line: 1, time: "2026-11-29T10:00:00.000Z", tool: "crm.lookup", decision: "allow", rules: ["lookup-for-tickets"], labelsAdded: ["pii"] },
      { line: 3, time: "2026-11-29T10:00:01.000Z", tool: "kb.search", decision: "allow", rules: ["support/2"], labelsAdded: [] },
      { line: 4, time: "2026-11-29T10:00:02.000Z", tool: "email.send", decision: "allow", rules: ["support/2"], labelsAdded: [] },
    ]);
    const leak = document.explanation.rules.find((rule) => rule.id === "pii-stays-inside")!;
    expect(leak.clauses[0]!.evidence![0]!.left).toEqual({ text: "session.labels", shown: '["pii"]', constant: false, provenance: { text: "pii returned by crm.lookup at line 1", lines: [1] } });
    const revoked = JSON.parse((await evaluate([...SUPPORT, "-r", "operator.jsonl", "--json"])).stdout) as { history: unknown[] };
    expect(revoked.history[1]).toEqual({ line: 2, time: "2026-11-29T10:00:01.000Z", tool: null, decision: null, rules: [], labelsAdded: [], revoked: { by: "operator", rules: [], reasons: ['revoked by an operator: "INC-2: exfiltration suspected"'] }, event: "revocation", outcome: "revoked", reason: "INC-2: exfiltration suspected" });
  });

  it("names the lines behind session.called, session.last, session.count, session.denials and session.tools", async () => {
    const lines = async (upTo: number): Promise<string> => {
      write("part.jsonl", (await import("node:fs")).readFileSync(join(dir, "facts.jsonl"), "utf8").split("\n").slice(0, upTo).join("\n") + "\n");
      const result = await evaluate(["decls.policy", "session.policy", "-r", "part.jsonl"]);
      expect(result.code).toBe(0);
      return result.stdout;
    };
    // Line 2 asks; line 3 approves it: the email went ahead.
    const approved = await lines(4);
    expect(approved).toContain("  line 2, 2026-11-29T10:00:01.000Z: ask email.send by mail-needs-ok\n");
    expect(approved).toContain("  line 3, 2026-11-29T10:00:02.000Z: approval of email.send: taken\n");
    expect(approved).toContain("`session.called(crm.*)` was true (crm.lookup allowed at line 1)");
    expect(approved).toContain("`session.last == email.send` was true (session.last: the attempt at line 2)");
    const busy = await lines(7);
    expect(busy).toContain("`session.count(kb.*, within 1m) >= 3` was true (3 >= 3; session.count(kb.*, within 1m): 3 attempts from line 4 to line 6)");
    const stubborn = await lines(8);
    expect(stubborn).toContain("`session.denials >= 2` was true (2 >= 2; session.denials: denied at lines 4 and 7)");
    const asked = await lines(2);
    expect(asked).toContain('(session.tools is ["crm.lookup"]: crm.lookup at line 1)');
  });

  it("repeats name the lines repeated", async () => {
    write("loop.jsonl", jsonl([...[0, 1, 2, 3].map((i) => call("kb.search", i * 1000, { session: "s5" })), call("kb.search", 4000, { session: "s5" })]));
    const loop = await evaluate([...SUPPORT, "-r", "loop.jsonl"]);
    expect(loop.stdout).toContain("`session.repeats >= 4` was true (4 >= 4; session.repeats: the same call at lines 1, 2, 3 and 4)");
  });

  it("a session that starts over: a row says so, and no provenance names a line of the earlier run", async () => {
    const CLEAN = ["policy c {", '  @name("base") allow *', '  @name("clean") deny kb.search when not (session.labels contains public)', "}", ""].join("\n");
    write("clean.policy", CLEAN);
    const DAY = 86_400_000;
    // The explained request starts a new run: its state is empty, so pii from line 1 explains nothing.
    write("over-last.jsonl", jsonl([call("crm.lookup", 0, { session: "s6" }), call("kb.search", 3 * DAY, { session: "s6" })]));
    const last = await evaluate(["decls.policy", "clean.policy", "-r", "over-last.jsonl", "--session-idle", "10m"]);
    expect(last.code).toBe(0);
    expect(last.stdout).toContain("(session.labels is [])");
    expect(last.stdout).not.toContain("at line 1)");
    expect(last.stdout).toContain("  session starts over at line 2 (the request explained): the earlier state expired\n");
    // A restart between earlier lines: the row before line 3, `startsRun` in --json.
    write("over-mid.jsonl", jsonl([call("crm.lookup", 0, { session: "s6" }), call("kb.search", 2 * 3_600_000, { session: "s6" }), call("kb.search", 3 * DAY, { session: "s6" }), call("kb.search", 3 * DAY + 1000, { session: "s6" })]));
    const mid = await evaluate(["decls.policy", "clean.policy", "-r", "over-mid.jsonl"]);
    expect(mid.stdout).toMatch(/deny kb\.search: the session has expired[^\n]*\n {2}session starts over at line 3: the earlier state expired\n {2}line 3, /);
    expect(mid.stdout).toContain("(session.labels is [])");
    const json = JSON.parse((await evaluate(["decls.policy", "clean.policy", "-r", "over-mid.jsonl", "--json"])).stdout) as { history: { line: number; startsRun?: boolean; reason?: string }[] };
    expect(json.history.map((entry) => entry.startsRun ?? false)).toEqual([false, false, true]);
    expect(json.history[1]!.reason).toBe("the session has expired: start a new session");
    // A revocation forgotten (revokedSessionMs) before the request: said so.
    write("over-revoked.jsonl", jsonl([call("crm.lookup", 0, { session: "s7" }), { event: "revocation", time: "2026-11-29T10:00:01.000Z", session: "s7", reason: "INC-3" }, call("kb.search", 3 * DAY, { session: "s7" })]));
    const revoked = await evaluate(["decls.policy", "clean.policy", "-r", "over-revoked.jsonl", "--revoked-session", "1d"]);
    expect(revoked.stdout).toContain("  session starts over at line 3 (the request explained): the earlier revocation was forgotten\n");
    expect(revoked.stdout).not.toContain("at line 1)");
  });

  it("a session that starts over at the very time its forgotten run began (another session moved the clock): told by its attempt count", async () => {
    const DAY = 86_400_000;
    const RESTART = ["policy r {", '  @name("base") allow *', '  @name("need-lookup") deny email.send when not session.called(crm.*)', '  @name("tl") deny http.get when session.tools contains kb.search', '  @name("cl") deny email.send when session.called(kb.*)', "}", ""].join("\n");
    write("restart.policy", RESTART);
    // The request explained starts over: a lookup, another session 3 days on, then an email of s1 dated as the lookup.
    write("rs1.jsonl", jsonl([call("crm.lookup", 0, { session: "s1" }), call("kb.search", 3 * DAY, { session: "s2" }), call("email.send", 0, { session: "s1" })]));
    const last = await evaluate(["decls.policy", "restart.policy", "-r", "rs1.jsonl"]);
    expect(last.code).toBe(0);
    expect(last.stdout).toContain("  session starts over at line 3 (the request explained): the earlier state expired\n");
    expect(last.stdout).toContain("    `not session.called(crm.*)` was true\n");
    expect(last.stdout).not.toContain("at line 1");
    // An earlier line starts over: the lines named are of the new run (line 3), not the forgotten one (line 1).
    const research = { session: "s1", intent: "research" };
    write("rs4.jsonl", jsonl([call("kb.search", 0, research), call("kb.search", 3 * DAY, { ...research, session: "s2" }), call("kb.search", 0, research), call("http.get", 2000, research)]));
    const tools = await evaluate(["decls.policy", "restart.policy", "-r", "rs4.jsonl"]);
    expect(tools.stdout).toContain("  session starts over at line 3: the earlier state expired\n  line 3, ");
    expect(tools.stdout).toContain("(session.tools is [\"kb.search\"]: kb.search at line 3)");
    write("rs5.jsonl", jsonl([call("kb.search", 0, { session: "s1" }), call("kb.search", 3 * DAY, { session: "s2" }), call("kb.search", 0, { session: "s1" }), call("email.send", 2000, { session: "s1" })]));
    const called = await evaluate(["decls.policy", "restart.policy", "-r", "rs5.jsonl"]);
    expect(called.stdout).toContain("`session.called(kb.*)` was true (kb.search allowed at line 3)\n");
    const json = JSON.parse((await evaluate(["decls.policy", "restart.policy", "-r", "rs5.jsonl", "--json"])).stdout) as { history: { line: number; startsRun?: boolean }[] };
    expect(json.history.map((entry) => entry.startsRun ?? false)).toEqual([false, true]);
  });

  it("a bare session.called clause whose truth says no call was found names no line", () => {
    const engine = engineWith(['  @name("base") allow *', '  @name("need") deny email.send when not session.called(crm.*)', '  @name("seen") deny email.send when (session.called(crm.*))'].join("\n"));
    const timeline = new SessionTimeline(engine, "s1", () => []);
    const lookup = call("crm.lookup", 0, { session: "s1" });
    const stepped = timeline.step(lookup, 1);
    stepped(engine.decide(lookup), undefined, undefined);
    const mail = call("email.send", 1000, { session: "s1" });
    const explained = explain(engine, mail);
    const decision = engine.decide(mail);
    timeline.decided(2);
    const provenanceOf = (explanation: typeof explained, rule: string): unknown => explanation.rules.find((trace) => trace.id === rule)!.clauses[0]!.provenance;
    // As decided: `session.called(crm.*)` was true, line 1 named (`not …` false; in parentheses, true).
    const named = timeline.withProvenance(explained, ["need", "seen"], mail);
    expect(provenanceOf(named, "need")).toEqual([{ of: "session.called(crm.*)", text: "crm.lookup allowed at line 1", lines: [1] }]);
    expect(provenanceOf(named, "seen")).toEqual([{ of: "session.called(crm.*)", text: "crm.lookup allowed at line 1", lines: [1] }]);
    expect(decision.rules).toEqual(["seen"]);
    // Clauses whose truth says the call found nothing (as an explanation of an earlier run's state would): no line named.
    const flipped = { ...explained, rules: explained.rules.map((trace) => (trace.id === "base" ? trace : { ...trace, clauses: trace.clauses.map((clause) => ({ ...clause, value: !(clause.value as boolean) })) })) };
    const contradicted = timeline.withProvenance(flipped, ["need", "seen"], mail);
    expect(provenanceOf(contradicted, "need")).toBeUndefined();
    expect(provenanceOf(contradicted, "seen")).toBeUndefined();
  });

  it("lines without a session are counted apart from other sessions' lines", async () => {
    const { session: _, ...sessionless } = call("kb.search", 500);
    write("nosession.jsonl", jsonl([call("kb.search", 0, { session: "other" }), sessionless, call("crm.lookup", 1000, { session: "s1" })]));
    const result = await evaluate([...SUPPORT, "-r", "nosession.jsonl"]);
    expect(result.stdout).toMatch(/^history: no earlier line of session s1 \(and 1 line of other sessions, 1 line without a session\)\n/);
  });

  it("a session id the engine refuses (empty, over 1,024 characters): the invalid-request denial, no history, text and --json", async () => {
    for (const id of ["", "x".repeat(1025)]) {
      write("invalid.jsonl", jsonl([call("crm.lookup", 0, { session: id }), call("kb.search", 1000, { session: id })]));
      const text = await evaluate([...SUPPORT, "-r", "invalid.jsonl"]);
      expect(text.code).toBe(0);
      expect(text.stderr).not.toContain("internal error");
      expect(text.stdout).toMatch(/^deny/);
      expect(text.stdout).not.toContain("history");
      const json = await evaluate([...SUPPORT, "-r", "invalid.jsonl", "--json"]);
      expect(json.code).toBe(0);
      const document = JSON.parse(json.stdout) as { decision: string; history?: unknown };
      expect(document.decision).toBe("deny");
      expect(document.history).toBeUndefined();
    }
  });

  it("labels from context.labels are told apart from those the tool returns", async () => {
    write("ctx.jsonl", jsonl([call("kb.search", 0, { session: "s8", context: { labels: ["pii"], env: "prod" } }), call("email.send", 1000, { session: "s8", args: LEAK })]));
    const context = await evaluate([...SUPPORT, "-r", "ctx.jsonl"]);
    expect(context.stdout).toContain("(session.labels is [\"pii\"]: pii in context.labels at line 1 (kb.search))");
    const returned = await evaluate([...SUPPORT, "-r", "taint.jsonl"]);
    expect(returned.stdout).toContain("(session.labels is [\"pii\"]: pii returned by crm.lookup at line 1)");
    write("both.jsonl", jsonl([call("crm.lookup", 0, { session: "s8", context: { labels: ["pii"], env: "prod" } }), call("email.send", 1000, { session: "s8", args: LEAK })]));
    const both = await evaluate([...SUPPORT, "-r", "both.jsonl"]);
    expect(both.stdout).toContain("(session.labels is [\"pii\"]: pii returned by crm.lookup and in context.labels at line 1)");
    // An approval line: the approved call's context.labels.
    const external = { session: "s8", intent: "research", context: { labels: ["pii"], env: "prod", destination: { zone: "external", host: "example.org" } } };
    write("approved.jsonl", jsonl([call("http.get", 0, external), { event: "approval", ...call("http.get", 1000, external), approved: true }, call("email.send", 2000, { session: "s8", intent: "research", args: LEAK })]));
    const approved = await evaluate([...SUPPORT, "-r", "approved.jsonl"]);
    expect(approved.stdout).toContain("  line 2, 2026-11-29T10:00:01.000Z: approval of http.get: taken; adds label pii\n");
    expect(approved.stdout).toContain("(session.labels is [\"pii\"]: pii in context.labels at line 1 (the ask of http.get, approved at line 2, whose context.labels held it too))");
    // The ask alone carried pii: the approval line released it, and the ask's line is named.
    write("asked.jsonl", jsonl([call("http.get", 0, external), { event: "approval", ...call("http.get", 1000, { ...external, context: { ...external.context, labels: [] } }), approved: true }, call("email.send", 2000, { session: "s8", intent: "research", args: LEAK })]));
    const asked = await evaluate([...SUPPORT, "-r", "asked.jsonl"]);
    expect(asked.stdout).toContain("(session.labels is [\"pii\"]: pii in context.labels at line 1 (the ask of http.get, approved at line 2))");
    const json = JSON.parse((await evaluate([...SUPPORT, "-r", "asked.jsonl", "--json"])).stdout) as unknown;
    expect(JSON.stringify(json)).toContain('"lines":[1,2]');
  });

  it("a line that hit one of the session's bounds says so, with the Engine.session field it set; other lines are as before", async () => {
    // Labels as strings (4,096 characters kept), a count of a pattern (1,024 characters of undeclared tool names), a window of 3 attempts.
    write(
      "bounds.policy",
      [
        "context { labels: set<string> }",
        "tool t { risk low args { q: string } }",
        "tool kb.search { risk low args { q: string } }",
        "policy b {",
        "  allow t",
        '  deny t when session.labels contains "secret" and args.q == "leak"',
        "  deny t when session.count(kb.*, within 1m) > 100",
        '  ask t when args.q == "ask"',
        "}",
        "",
      ].join("\n"),
    );
    const line = (ms: number, q: string, labels: string[] = [], tool = "t"): Record<string, unknown> => ({ time: new Date(Date.parse("2026-11-29T10:00:00Z") + ms).toISOString(), session: "b1", tool, args: { q }, context: { labels } });
    const long = (prefix: string): string[] => Array.from({ length: 41 }, (_, i) => `${prefix}${String(i).padStart(99 - prefix.length, "0")}`);
    write("bounds.jsonl", jsonl([line(0, "x", ["public"]), line(1000, "x", long("a")), line(2000, "ask", long("b")), line(3000, "x", [], `kb.${"x".repeat(1_100)}`), line(4000, "x"), line(5000, "leak")]));
    const result = await evaluate(["bounds.policy", "-r", "bounds.jsonl"]);
    expect(result.code).toBe(0);
    const history = result.stdout.split("\n").filter((text) => text.startsWith("  line "));
    expect(history[0]).toBe("  line 1, 2026-11-29T10:00:00.000Z: allow t by b/1; adds label public");
    expect(history[1]).toMatch(/^ {2}line 2, 2026-11-29T10:00:01.000Z: allow t by b\/1; adds labels .* and 30 more; a label found no room: the session keeps 4,096 characters of labels, and its session.labels tests fail closed from here \(labelsDropped\)$/);
    // The ask's labels found no room either, but the session had lost some already: nothing new to say.
    expect(history[2]).toBe("  line 3, 2026-11-29T10:00:02.000Z: ask t by b/4");
    expect(history[3]).toMatch(/: deny kb\.x+…: .*; the undeclared tool's name found no room: the session keeps 1,024 characters of them, and counts of a pattern reaching back to this attempt fail closed \(undeclaredToolsUnnamed\)$/);
    // (Its count reaching back to the unnamed attempt fails closed.)
    expect(history[4]).toBe("  line 5, 2026-11-29T10:00:04.000Z: deny t by b/3");
    const json = JSON.parse((await evaluate(["bounds.policy", "-r", "bounds.jsonl", "--json"])).stdout) as { history: { line: number; limitsHit?: string[] }[] };
    expect(json.history.map((entry) => entry.limitsHit ?? [])).toEqual([[], ["labelsDropped"], [], ["undeclaredToolsUnnamed"], []]);
    // Asks past the 256 calls a session keeps awaiting approval, and a window that overflowed.
    write("many-asks.policy", ["tool t { risk low args { q: string } }", "tool u { risk low args { n: int } }", "policy m {", "  allow t", "  ask u", "  deny t when session.count(within 1m) > 1000", "}", ""].join("\n"));
    write("many-asks.jsonl", jsonl([...Array.from({ length: 257 }, (_, i) => ({ ...line(i, "x"), tool: "u", args: { n: i } })), line(300, "x")]));
    const asks = await evaluate(["many-asks.policy", "-r", "many-asks.jsonl", "--max-window-entries", "200"]);
    const asksHistory = asks.stdout.split("\n").filter((text) => text.startsWith("  line "));
    // The text shows the last 20 lines: the row for those left out names the bounds they hit.
    expect(asks.stdout.split("\n").filter((text) => text.startsWith("  … "))).toEqual(["  … 237 earlier lines of the session not shown (windowOverflowed at line 201)"]);
    write("more-asks.jsonl", jsonl([...Array.from({ length: 260 }, (_, i) => ({ ...line(i, "x"), tool: "u", args: { n: i } })), ...Array.from({ length: 21 }, (_, i) => line(400 + i, "x"))]));
    const more = (await evaluate(["many-asks.policy", "-r", "more-asks.jsonl", "--max-window-entries", "200"])).stdout.split("\n");
    expect(more.filter((text) => text.startsWith("  … "))).toEqual(["  … 260 earlier lines of the session not shown (windowOverflowed at line 201, asksNotKept at line 257 and 3 later lines)"]);
    // An ask whose labels found no room, in a session that kept all of its own: approved, they mark it.
    write("ask-labels.jsonl", jsonl([{ ...line(0, "ask", long("c")), session: "b2" }, { ...line(1000, "x"), session: "b2" }]));
    const asked = (await evaluate(["bounds.policy", "-r", "ask-labels.jsonl"])).stdout.split("\n").filter((text) => text.startsWith("  line "));
    expect(asked).toEqual(["  line 1, 2026-11-29T10:00:00.000Z: ask t by b/4; a label the ask carried found no room: the session keeps 4,096 characters of labels, and once the call is approved its session.labels tests fail closed (labelsDropped)"]);
    // The session's own labels finding no room after an ask's had: that line says so too.
    write("own-after-ask.jsonl", jsonl([{ ...line(0, "ask", long("d")), session: "b3" }, { ...line(1000, "x", ["secret", ...long("e")]), session: "b3" }, { ...line(2000, "leak"), session: "b3" }]));
    const own = (await evaluate(["bounds.policy", "-r", "own-after-ask.jsonl"])).stdout.split("\n").filter((text) => text.startsWith("  line "));
    expect(own[0]).toMatch(/: ask t by b\/4; a label the ask carried found no room: .*once the call is approved its session.labels tests fail closed \(labelsDropped\)$/);
    expect(own[1]).toMatch(/: allow t by b\/1; adds labels? .*; a label found no room: the session keeps 4,096 characters of labels, and its session.labels tests fail closed from here \(labelsDropped\)$/);
    const ownJson = JSON.parse((await evaluate(["bounds.policy", "-r", "own-after-ask.jsonl", "--json"])).stdout) as { history: { line: number; limitsHit?: string[] }[] };
    expect(ownJson.history.map((entry) => entry.limitsHit ?? [])).toEqual([["labelsDropped"], ["labelsDropped"]]);
    const hits = JSON.parse((await evaluate(["many-asks.policy", "-r", "many-asks.jsonl", "--max-window-entries", "200", "--json"])).stdout) as { history: { line: number; limitsHit?: string[] }[] };
    expect(hits.history.flatMap((entry) => (entry.limitsHit ?? []).map((limit) => `${entry.line}: ${limit}`))).toEqual(["201: windowOverflowed", "257: asksNotKept"]);
    expect(asksHistory[asksHistory.length - 1]).toMatch(/^ {2}line 257, .*: ask u by m\/2; the ask was not kept: the session already has 256 calls awaiting approval, and none past them can be approved \(asksNotKept\)$/);
  });

  it("--json caps the history at its last 1,000 lines and a provenance's lines at 20, with how many were left out", async () => {
    // 1,005 searches 3 s apart (20 a minute: under the rate rule), then one more.
    write("many.jsonl", jsonl(Array.from({ length: 1006 }, (_, i) => call("kb.search", i * 3000, { session: "s9", args: { query: `q${i}` } }))));
    const many = JSON.parse((await evaluate([...SUPPORT, "-r", "many.jsonl", "--json"])).stdout) as { history: { line: number }[]; historyOmitted?: number };
    expect(many.history).toHaveLength(1000);
    expect(many.history[0]!.line).toBe(6);
    expect(many.historyOmitted).toBe(5);
    // 30 searches within a minute, then the 31st: the rate rule's count names 30 lines, 20 of them in `lines`.
    write("rate.jsonl", jsonl(Array.from({ length: 31 }, (_, i) => call("kb.search", i * 100, { session: "s10", args: { query: `q${i}` } }))));
    const rate = JSON.parse((await evaluate([...SUPPORT, "-r", "rate.jsonl", "--json"])).stdout) as { explanation: { rules: { id: string; clauses: { evidence?: { left: { provenance?: { lines: number[]; linesOmitted?: number } } }[] }[] }[] } };
    const provenance = rate.explanation.rules.find((rule) => rule.id === "rate")!.clauses[0]!.evidence![0]!.left.provenance!;
    expect(provenance.lines).toEqual(Array.from({ length: 20 }, (_, i) => i + 1));
    expect(provenance.linesOmitted).toBe(10);
  });

  // (This one passes with the regular expressions too: the compiler normalises a clause's text, dropping comments and
  // line breaks and spacing it its own way, so most spellings reach sessionHistory alike. It guards the spellings the
  // normalised text keeps: a quoted pattern, `within 90s`, doubled parentheses, `not(…)`.)
  it("provenance does not depend on how a clause is spelled (the compiler's normalised text; a quoted pattern, a window, parentheses, not(…))", async () => {
    const SPELLED = [
      "policy sp {",
      '  @name("base") allow *',
      '  @name("plain") deny email.send when session.called(crm.*)',
      '  @name("comment") deny email.send when session.called( crm.* /* the lookups */ )',
      '  @name("newline") deny email.send when session.called(',
      "      crm.*",
      "    )",
      '  @name("quoted") deny email.send when session.called("crm.*", within 90s)',
      '  @name("doubled") deny email.send when ((session.called(crm.*)))',
      '  @name("negated") deny email.send when not(session.called(kb.*))',
      '  @name("counted") deny email.send when session.count("crm.*" , within 90000ms) >= 1',
      "}",
      "",
    ].join("\n");
    write("spelled.policy", SPELLED);
    write("spelled.jsonl", jsonl([call("crm.lookup", 0, { session: "s11" }), call("email.send", 1000, { session: "s11" })]));
    const result = await evaluate(["decls.policy", "spelled.policy", "-r", "spelled.jsonl"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("`session.called(crm.*)` was true (crm.lookup allowed at line 1)\n");
    expect(result.stdout).toContain('`session.called("crm.*", within 90s)` was true (crm.lookup allowed at line 1)\n');
    expect(result.stdout).toContain("`((session.called(crm.*)))` was true (session.called(crm.*): crm.lookup allowed at line 1)\n");
    // kb.* was never called: `not(…)` is true because the call found nothing, so no line is named.
    expect(result.stdout).toContain("`not (session.called(kb.*))` was true\n");
    expect(result.stdout).toContain('(1 >= 1; session.count("crm.*", within 90000ms): line 1)');
    const json = JSON.parse((await evaluate(["decls.policy", "spelled.policy", "-r", "spelled.jsonl", "--json"])).stdout) as { explanation: { rules: { id: string; clauses: { provenance?: { lines: number[] }[] }[] }[] } };
    const lines = (id: string): unknown => json.explanation.rules.find((rule) => rule.id === id)!.clauses[0]!.provenance?.map((found) => found.lines);
    for (const id of ["plain", "comment", "newline", "quoted", "doubled"]) expect(lines(id)).toEqual([[1]]);
    expect(lines("negated")).toBeUndefined();
  });

  it("a string in a clause that spells a session value is no read of it: no provenance for session.labels or session.called there", async () => {
    const STRINGS = [
      "policy st {",
      '  @name("base") allow *',
      '  @name("pii") deny email.send when session.labels contains pii and args.subject != ""',
      '  @name("labels-text") deny email.send when args.subject != "session.labels"',
      '  @name("called-text") deny email.send when args.subject != "session.called(crm.*)"',
      "}",
      "",
    ].join("\n");
    write("strings.policy", STRINGS);
    write("strings.jsonl", jsonl([call("crm.lookup", 0, { session: "s12" }), call("email.send", 1000, { session: "s12" })]));
    const result = await evaluate(["decls.policy", "strings.policy", "-r", "strings.jsonl"]);
    expect(result.code).toBe(0);
    // The rule that reads session.labels names the line; the clauses that only spell it in a string name none.
    expect(result.stdout).toContain('(session.labels is ["pii"]: pii returned by crm.lookup at line 1)');
    expect(result.stdout).toContain('`args.subject != "session.labels"` was true (args.subject is "s")\n');
    expect(result.stdout).toContain('`args.subject != "session.called(crm.*)"` was true (args.subject is "s")\n');
  });

  it("the explain trace says which session values a clause reads, from the IR: kind, a call's tools and window in ms, and a clause that is a session.called alone", () => {
    const engine = engineWith(
      [
        '  @name("base") allow *',
        '  @name("need") deny email.send when not(session.called("crm.*", within 90s))',
        '  @name("busy") deny email.send when session.count(kb.*, within 1m) >= 3 or session.labels contains pii',
        '  @name("spelled") deny email.send when args.subject == "session.labels"',
      ].join("\n"),
    );
    const explained = explain(engine, call("email.send", 0, { session: "s1" }));
    const clause = (rule: string) => explained.rules.find((trace) => trace.id === rule)!.clauses[0]!;
    expect(clause("need").sessionReads).toEqual([{ read: { kind: "called", tools: ["crm.lookup"], withinMs: 90_000 }, text: 'session.called("crm.*", within 90s)' }]);
    expect(clause("need").calledAlone).toEqual({ negated: true });
    expect(clause("busy").sessionReads).toEqual([
      { read: { kind: "count", tools: ["kb.search"], pattern: "kb.*", withinMs: 60_000 }, text: "session.count(kb.*, within 1m)" },
      { read: { kind: "labels" }, text: "session.labels" },
    ]);
    expect(clause("busy").calledAlone).toBeUndefined();
    const evidence = clause("busy").evidence!.find((piece) => piece.kind === "comparison")!;
    expect(evidence.kind === "comparison" && evidence.left.session).toEqual({ kind: "count", tools: ["kb.search"], pattern: "kb.*", withinMs: 60_000 });
    expect(clause("spelled").sessionReads).toBeUndefined();
  });

  it("provenance is found from the trace's reads, whatever the clause text says (a newer compiler's spelling)", () => {
    const engine = engineWith(['  @name("base") allow *', '  @name("seen") deny email.send when session.called(crm.*)', '  @name("busy") deny email.send when session.count(crm.*, within 1m) >= 1'].join("\n"));
    const mail = call("email.send", 1000, { session: "s1" });
    const { timeline, explained, decision } = explainedAfter(engine, call("crm.lookup", 0, { session: "s1" }), mail);
    // Every text respelled as no regular expression of today's syntax reads it.
    const respell = (text: string | null): string | null => (text === null ? null : text.replace("session.called(crm.*)", "session.called { pattern: 'crm.*' }").replace("session.count(crm.*, within 1m)", "session.count { pattern: 'crm.*', window: PT1M }"));
    const respelled = {
      ...explained,
      rules: explained.rules.map((trace) => ({
        ...trace,
        clauses: trace.clauses.map((clause) => ({
          ...clause,
          text: respell(clause.text)!,
          ...(clause.sessionReads !== undefined ? { sessionReads: clause.sessionReads.map((found) => ({ ...found, text: respell(found.text) })) } : {}),
          ...(clause.evidence !== undefined ? { evidence: clause.evidence.map((piece) => (piece.kind === "comparison" ? { ...piece, text: respell(piece.text), left: { ...piece.left, text: respell(piece.left.text) } } : piece)) } : {}),
        })),
      })),
    };
    const named = timeline.withProvenance(respelled, decision.rules, mail);
    const rule = (id: string) => named.rules.find((trace) => trace.id === id)!.clauses[0]!;
    expect(rule("seen").provenance).toEqual([{ of: "session.called { pattern: 'crm.*' }", text: "crm.lookup allowed at line 1", lines: [1] }]);
    const count = rule("busy").evidence![0]!;
    expect(count.kind === "comparison" && count.left.provenance).toEqual({ text: "line 1", lines: [1] });
  });

  it("session.calls names the attempts it counted, session.age the first attempt, when they agree with the value the rule saw", async () => {
    const AGED = ["policy ag {", '  @name("base") allow *', '  @name("many") deny kb.search when session.calls >= 3', '  @name("old") deny kb.search when session.age >= 2s', "}", ""].join("\n");
    write("aged.policy", AGED);
    write("aged.jsonl", jsonl([call("kb.search", 0, { session: "s13" }), call("crm.lookup", 1000, { session: "s13" }), call("kb.search", 2000, { session: "s13" }), call("kb.search", 3000, { session: "s13" })]));
    const result = await evaluate(["decls.policy", "aged.policy", "-r", "aged.jsonl"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("`session.calls >= 3` was true (3 >= 3; session.calls: 3 attempts from line 1 to line 3)\n");
    expect(result.stdout).toContain("`session.age >= 2s` was true (3s >= 2s; session.age: first attempt at line 1, 2026-11-29T10:00:00.000Z)\n");
    const json = JSON.parse((await evaluate(["decls.policy", "aged.policy", "-r", "aged.jsonl", "--json"])).stdout) as { explanation: { rules: { id: string; clauses: { evidence?: { left: { provenance?: unknown } }[] }[] }[] } };
    const left = (id: string): unknown => json.explanation.rules.find((rule) => rule.id === id)!.clauses[0]!.evidence![0]!.left.provenance;
    expect(left("many")).toEqual({ text: "3 attempts from line 1 to line 3", lines: [1, 2, 3] });
    expect(left("old")).toEqual({ text: "first attempt at line 1, 2026-11-29T10:00:00.000Z", lines: [1] });
  });

  it("session.calls and session.age name no line when the value the rule saw is not the history's", () => {
    // The session starts when its first attempt arrives by the engine's clock: here, each request's time, as in eval's replay.
    const engine = engineWith(['  @name("base") allow *', '  @name("many") deny kb.search when session.calls >= 1', '  @name("old") deny kb.search when session.age >= 1s'].join("\n"), { clock: stampedClock });
    const last = call("kb.search", 2000, { session: "s1" });
    const { timeline, explained, decision } = explainedAfter(engine, call("kb.search", 0, { session: "s1" }), last);
    const provenance = (explanation: typeof explained, id: string): unknown => {
      const piece = explanation.rules.find((trace) => trace.id === id)!.clauses[0]!.evidence![0]!;
      return piece.kind === "comparison" ? piece.left.provenance : undefined;
    };
    const named = timeline.withProvenance(explained, decision.rules, last);
    expect(provenance(named, "many")).toEqual({ text: "line 1", lines: [1] });
    expect(provenance(named, "old")).toEqual({ text: "first attempt at line 1, 2026-11-29T10:00:00.000Z", lines: [1] });
    // Values other than the history's (as an earlier run's would be): no line.
    const other = { ...explained, rules: explained.rules.map((trace) => ({ ...trace, clauses: trace.clauses.map((clause) => ({ ...clause, evidence: clause.evidence?.map((piece) => (piece.kind === "comparison" ? { ...piece, left: { ...piece.left, shown: piece.left.shown === "1" ? "2" : "5s" } } : piece)) })) })) };
    const contradicted = timeline.withProvenance(other, decision.rules, last);
    expect(provenance(contradicted, "many")).toBeUndefined();
    expect(provenance(contradicted, "old")).toBeUndefined();
  });

  it("an approval dated at or before its ask: session.called counts the call from the ask's time, as the engine does, so names the call it counted", async () => {
    const rules = ["policy ap {", '  @name("base") allow *', '  @name("a") ask email.send when args.subject == "x"', '  @name("d") deny kb.search when session.called(email.send, within 5m)', "}", ""].join("\n");
    write("ap.policy", rules);
    const asked = { session: "s14", args: { to: ["bob@acme.com"], subject: "x", body: "b" } };
    // Line 2 asks at 10:06; line 3 approves it dated 10:01 (before the ask): the engine records the call at 10:06, after
    // the request explained (10:04), so the call it found in the window is line 1's.
    write("ap.jsonl", jsonl([call("email.send", 0, { session: "s14" }), call("email.send", 360_000, asked), { event: "approval", ...call("email.send", 60_000, asked), approved: true }, call("kb.search", 240_000, { session: "s14" })]));
    const result = await evaluate(["decls.policy", "ap.policy", "-r", "ap.jsonl"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("`session.called(email.send, within 5m)` was true (email.send allowed at line 1)\n");
    const json = JSON.parse((await evaluate(["decls.policy", "ap.policy", "-r", "ap.jsonl", "--json"])).stdout) as { explanation: { rules: { id: string; clauses: { provenance?: { lines: number[] }[] }[] }[] } };
    expect(json.explanation.rules.find((rule) => rule.id === "d")!.clauses[0]!.provenance).toEqual([{ of: "session.called(email.send, within 5m)", text: "email.send allowed at line 1", lines: [1] }]);
  });

  it("a clause that failed gets no provenance, in text or --json (an approval dated before its ask; a window of calls dated after the request)", async () => {
    const rules = ["policy fl {", '  @name("base") allow *', '  @name("a") ask email.send when args.subject == "x"', '  @name("d") deny kb.search when session.called(email.send, within 5m)', '  @name("c") deny kb.search when session.called(crm.lookup, within 5m)', "}", ""].join("\n");
    write("fl.policy", rules);
    const asked = { session: "s15", args: { to: ["bob@acme.com"], subject: "x", body: "b" } };
    write("fl.jsonl", jsonl([call("email.send", 360_000, asked), { event: "approval", ...call("email.send", 60_000, asked), approved: true }, call("kb.search", 240_000, { session: "s15" })]));
    const lookups = Array.from({ length: 8 }, (_, i) => call("crm.lookup", 601_000 + i * 1000, { session: "s16" }));
    write("fl2.jsonl", jsonl([call("crm.lookup", 0, { session: "s16" }), ...lookups, call("kb.search", 240_000, { session: "s16" })]));
    for (const [input, rule] of [["fl.jsonl", "d"], ["fl2.jsonl", "c"]] as const) {
      const result = await evaluate(["decls.policy", "fl.policy", "-r", input]);
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/` failed: session\.called: /);
      expect(result.stdout).not.toMatch(/(allowed|approved) at line/);
      const json = JSON.parse((await evaluate(["decls.policy", "fl.policy", "-r", input, "--json"])).stdout) as { explanation: { rules: { id: string; clauses: { error?: string; provenance?: unknown }[] }[] } };
      const clause = json.explanation.rules.find((found) => found.id === rule)!.clauses[0]!;
      expect(clause.error).toBeDefined();
      expect(clause.provenance).toBeUndefined();
    }
  });

  it("session.count's provenance counts the attempts at undeclared tools its pattern matches, as the engine does", async () => {
    const rules = ["policy ud {", '  @name("base") allow *', '  @name("glob") deny kb.search when session.count(kb.*, within 1m) >= 3', '  @name("exact") deny kb.search when session.count(kb.search, within 1m) >= 2', "}", ""].join("\n");
    write("ud.policy", rules);
    // kb.export is declared nowhere: denied, but its attempt is counted by kb.*, not by kb.search.
    write("ud.jsonl", jsonl([call("kb.search", 0, { session: "s17" }), call("kb.export", 1000, { session: "s17", args: {} }), call("kb.search", 2000, { session: "s17" }), call("kb.search", 3000, { session: "s17" })]));
    const result = await evaluate(["decls.policy", "ud.policy", "-r", "ud.jsonl"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("(4 >= 3; session.count(kb.*, within 1m): 3 attempts from line 1 to line 3, and this one)");
    expect(result.stdout).toContain("(3 >= 2; session.count(kb.search, within 1m): lines 1 and 3, and this one)");
  });

  it("session.age names no attempt when the run's first attempt is undated, and the run's own first attempt after a restart", async () => {
    write("age0.policy", ["policy age0 {", '  @name("base") allow *', '  @name("old") deny kb.search when session.age >= 0ms', "}", ""].join("\n"));
    const undated = { ...call("kb.search", 0, { session: "s18" }) };
    delete undated["time"];
    write("age0.jsonl", jsonl([undated, call("kb.search", 1000, { session: "s18" }), call("kb.search", 3000, { session: "s18" })]));
    const first = await evaluate(["decls.policy", "age0.policy", "-r", "age0.jsonl"]);
    expect(first.code).toBe(0);
    expect(first.stdout).toContain("`session.age >= 0ms` was true (");
    expect(first.stdout).not.toContain("session.age: first attempt");
    write("age1.policy", ["policy age1 {", '  @name("base") allow *', '  @name("old") deny kb.search when session.age >= 1s', "}", ""].join("\n"));
    write("age1.jsonl", jsonl([call("kb.search", 0, { session: "s19" }), call("kb.search", 7_200_000, { session: "s19" }), call("kb.search", 7_203_000, { session: "s19" })]));
    const restarted = await evaluate(["decls.policy", "age1.policy", "-r", "age1.jsonl", "--session-idle", "1m", "--expired-session", "1m"]);
    expect(restarted.code).toBe(0);
    expect(restarted.stdout).toContain("session starts over at line 2: the earlier state expired\n");
    expect(restarted.stdout).toContain("(3s >= 1s; session.age: first attempt at line 2, 2026-11-29T12:00:00.000Z)");
  });

  it("an explanation's session reads are the engine's no more: changing one changes no later explanation", () => {
    // Through a bundle: a loaded bundle's IR is not frozen, as what compileSources gives is.
    const engine = viaBundle(sourcesWith(['  @name("base") allow *', '  @name("d") deny kb.search when session.called(crm.*) or session.count(kb.*, within 1m) >= 5'].join("\n")));
    const request = call("kb.search", 0, { session: "s1" });
    const reads = (explained: Explanation) => explained.rules.find((rule) => rule.id === "d")!.clauses[0]!.sessionReads!;
    const before = reads(explain(engine, request));
    for (const { read } of before) {
      if (read.kind === "called" || read.kind === "count") {
        try {
          (read.tools as string[]).push("email.send");
        } catch {
          // Frozen: refused, as it should be.
        }
      }
    }
    expect(reads(explain(engine, request))).toEqual([
      { read: { kind: "called", tools: ["crm.lookup"], withinMs: null }, text: "session.called(crm.*)" },
      { read: { kind: "count", tools: ["kb.search"], pattern: "kb.*", withinMs: 60_000 }, text: "session.count(kb.*, within 1m)" },
    ]);
  });

  it("bad input keeps its errors, with the line at fault", async () => {
    const result = await evaluate([...SUPPORT, "-r", "broken.jsonl"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("broken.jsonl:2: error[PC601]: not JSON");
  });
});
