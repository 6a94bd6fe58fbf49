import { beforeAll, describe, expect, it } from "vitest";
import type { CompiledPolicy } from "../../src/runtime/policy.js";
import { compileFixture } from "../helpers.js";
import { at, temporaryRecordings } from "./recordingFiles.js";
import { diffRecordings } from "../../src/testing/diff.js";
import { replayRecordings, type ReplayOptions } from "../../src/testing/replay.js";

// Approval lines (`"event": "approval"`): a person's approval arriving after later calls of its
// session, told to the engine at its place in the recording, and compared with what
// `Engine.approved` returned in production.

const POLICY = `enum Label { pii }
tool crm.lookup { risk low returns pii args { id: string } }
tool email.send { risk high args { to: list<string> } }
tool kb.search { risk low args { query: string } }
policy p {
  @name("ask-lookup") ask crm.lookup reason "customer records need a supervisor"
  @name("pii-stays-inside") deny email.send when session.labels contains pii and any(r in args.to: not (r like "*@acme.com")) reason "customer data stays inside"
  @name("mail") allow email.send
  @name("search") allow kb.search
}
`;

let policy: CompiledPolicy;
beforeAll(() => {
  policy = compileFixture(POLICY);
});
const { recording, rewritten } = temporaryRecordings("policyc-approval-lines-");
const lookup = (session: string, minutes: number): Record<string, unknown> => ({ time: at(minutes), session, tool: "crm.lookup", args: { id: "42" } });
const mail = (session: string, minutes: number): Record<string, unknown> => ({ time: at(minutes), session, tool: "email.send", args: { to: ["eve@evil.example"] } });
const search = (session: string, minutes: number): Record<string, unknown> => ({ time: at(minutes), session, tool: "kb.search", args: { query: "q" } });
const approval = (request: Record<string, unknown>, minutes: number, approved: boolean): Record<string, unknown> => ({ event: "approval", ...request, time: at(minutes), approved });
const expecting = (request: Record<string, unknown>, decision: string, rules: string[]): Record<string, unknown> => ({ ...request, decision, rules });

function replay(file: string, options: ReplayOptions = {}) {
  return replayRecordings(policy, [file], { listCases: true, ...options });
}

/** A late approval: the ask (line 1), a call of its session meanwhile (2), another session (3), the approval (4), a call after it (5). */
const LATE = (): Record<string, unknown>[] => [
  expecting(lookup("s", 0), "ask", ["ask-lookup"]),
  expecting(mail("s", 1), "allow", ["mail"]),
  expecting(search("t", 2), "allow", ["search"]),
  approval(lookup("s", 0), 3, true),
  expecting(mail("s", 4), "deny", ["pii-stays-inside"]),
];

describe("an approval line", () => {
  it("is told to the engine at its place: the calls before it do not see the approved call's data, the calls after it do", async () => {
    const report = await replay(recording(LATE()));
    expect(report.failures).toEqual([]);
    expect([report.passed, report.failed, report.lines]).toEqual([5, 0, 5]);
    // A case of its own, listed as an approval; it decides no rule, so it credits none.
    expect(report.cases[3]).toEqual({ file: expect.any(String), line: 4, session: "s", tool: "crm.lookup", event: "approval", request: 'approval of crm.lookup id="42"', ok: true });
    expect(Object.fromEntries(report.coverage)).toEqual({ "ask-lookup": 1, "pii-stays-inside": 1, mail: 1, search: 1 });
    // The same approval on the ask's line (the older form) comes too early for line 2.
    const early = await replay(recording([{ ...LATE()[0], approved: true }, ...LATE().slice(1, 3), LATE()[4]!]));
    expect(early.failures.map((f) => f.line)).toEqual([2]);
  });

  it("is told to the engine again in the pass that explains a failure of its session", async () => {
    const lines = LATE();
    lines[4] = expecting(mail("s", 4), "allow", ["mail"]);
    const report = await replay(recording(lines));
    expect(report.failures.map((f) => f.line)).toEqual([5]);
    expect(report.failures[0]!.explanation).toContain('pii-stays-inside: `session.labels contains pii` was true (session.labels is ["pii"])');
  });

  it("that production accepted but the replay refuses fails as a case, saying why; one production refused passes when refused", async () => {
    const report = await replay(recording([...LATE(), approval(lookup("s", 0), 5, true), approval(lookup("t", 0), 6, true), approval(lookup("s", 0), 7, false)]));
    expect([report.passed, report.failed]).toEqual([6, 2]);
    expect(report.failures.map((f) => [f.line, f.event, f.expect, f.actual, f.mismatches])).toEqual([
      [6, "approval", { approved: true }, { approved: false, reason: 'session "s" has no ask awaiting approval for crm.lookup (no call to it was answered ask, or each was approved already)' }, ["approved"]],
      [7, "approval", { approved: true }, { approved: false, reason: 'session "t" has no ask awaiting approval for crm.lookup (no call to it was answered ask, or each was approved already)' }, ["approved"]],
    ]);
    // Nothing to explain clause by clause: the reason says it.
    expect(report.failures.map((f) => f.explanation)).toEqual([undefined, undefined]);
  });

  it("that production refused but the replay accepts fails as a case, and the call's data then joins the session, as in the replay", async () => {
    const lines = LATE();
    lines[3] = approval(lookup("s", 0), 3, false);
    const report = await replay(recording(lines));
    expect(report.failures.map((f) => [f.line, f.expect, f.actual])).toEqual([[4, { approved: false }, { approved: true }]]);
  });

  it("in a session that expired before the approval came is refused, as in production", async () => {
    const lines = [expecting(lookup("s", 0), "ask", ["ask-lookup"]), approval(lookup("s", 0), 61, false), expecting(mail("s", 62), "deny", [])];
    expect((await replay(recording(lines))).failures).toEqual([]);
    const accepted = await replay(recording([lines[0]!, approval(lookup("s", 0), 61, true)]));
    expect(accepted.failures[0]!.actual).toEqual({ approved: false, reason: expect.stringMatching(/^session "s" has expired: this approval is dated 61 minutes after the session's last attempt .*, more than sessionIdleMs \(1 hour\) allows/) });
    expect((await replay(recording([lines[0]!, approval(lookup("s", 0), 61, true)]), { sessionIdleMs: 2 * 3_600_000 })).failures).toEqual([]);
  });

  it("naming a tool the policy set does not declare is an error (no ask of it can await approval), like an attempt's", async () => {
    const report = await replay(recording([expecting(lookup("s", 0), "ask", ["ask-lookup"]), approval({ ...lookup("s", 0), tool: "crm.lokup" }, 1, true)]));
    expect(report.errors).toEqual([{ file: expect.any(String), line: 2, message: "unknown tool `crm.lokup` (did you mean `crm.lookup`?): the policy set declares no such tool, so no ask of it can await approval", kind: "mismatch", code: "PC603" }]);
    expect([report.passed, report.failed]).toEqual([1, 0]);
  });

  it("--session: replayed only with its session; --grep: a case only when its tool matches, told to the engine either way", async () => {
    const file = recording([...LATE(), approval(lookup("t", 0), 6, true)]);
    const only = await replay(file, { session: "t" });
    expect([only.lines, only.passed, only.failed]).toEqual([2, 1, 1]);
    expect(only.failures.map((f) => f.line)).toEqual([6]);
    const mailOnly = await replay(file, { grep: "email" });
    // The approval of line 4 was told to the engine: line 5, a case, sees the data.
    expect([mailOnly.passed, mailOnly.failed, mailOnly.cases.map((c) => c.line)]).toEqual([2, 0, [2, 5]]);
    const lookups = await replay(file, { grep: "crm" });
    expect(lookups.cases.map((c) => [c.line, c.ok])).toEqual([
      [1, true],
      [4, true],
      [6, false],
    ]);
  });

  it("--bail stops at a failed approval", async () => {
    const report = await replay(recording([approval(lookup("s", 0), 0, true), ...LATE()]), { bail: true });
    expect([report.bailed, report.lines, report.passed, report.failed]).toEqual([true, 1, 0, 1]);
  });

  it("--update writes into a failed approval line its `approved` and nothing else (no decision), and leaves a passing one as it was", async () => {
    const lines = [...LATE(), approval(lookup("s", 0), 5, true)].map((line) => JSON.stringify(line));
    // A decision-less attempt beside them gets its decision, as always.
    lines.push(JSON.stringify(search("t", 6)));
    const { file, report, after } = await rewritten(lines, (path) => replay(path, { update: true }));
    expect(report.updated).toEqual([file]);
    expect(after.slice(0, 5)).toEqual(lines.slice(0, 5));
    expect(after[5]).toBe(lines[5]!.replace('"approved":true', '"approved":false'));
    expect(after[6]).toBe(lines[6]!.replace(/}$/, ',"decision":"allow","rules":["search"]}'));
    expect((await replay(file)).failures).toEqual([]);
  });

  it("moves no engine's clock: an approval dated hours ahead expires no other session, whether its session is replayed, left out (--session) or replayed again to explain a failure", async () => {
    // Session b's approval is dated 5 hours on (a merged log out of order; too late for b,
    // expired by then): were the clock moved there, the sweep would expire session a, and its
    // line 4 would be denied.
    const lines = [
      expecting(search("a", 0), "allow", ["search"]),
      expecting(lookup("b", 1), "ask", ["ask-lookup"]),
      approval(lookup("b", 1), 300, false),
      expecting(search("a", 30), "allow", ["search"]),
      // Fails on purpose, so the explanation pass replays session a.
      expecting(mail("a", 31), "deny", ["pii-stays-inside"]),
    ];
    const file = recording(lines);
    for (const options of [{}, { session: "a" }]) {
      const report = await replay(file, options);
      expect(report.failures.map((f) => f.line), JSON.stringify(options)).toEqual([5]);
      expect(report.failures[0]!.explanation).toContain("the expected rule pii-stays-inside (deny) did not match");
    }
  });
});

describe("policyc diff with approval lines", () => {
  it("tells both versions of each approval: a version that no longer asks refuses it, and the lines after it show the change; approvals are not counted as decisions", async () => {
    const file = recording(LATE());
    const same = await diffRecordings(policy, policy, [file]);
    expect([same.lines, [...same.directions]]).toEqual([4, []]);
    const noAsk = compileFixture(POLICY.replace('ask crm.lookup reason "customer records need a supervisor"', "allow crm.lookup"));
    const changed = await diffRecordings(policy, noAsk, [file]);
    // Allowed at once, the lookup's data is in the session for line 2 too.
    expect([...changed.directions]).toEqual([
      ["allow→deny", 1],
      ["ask→allow", 1],
    ]);
    expect([...changed.byCause.values()].flatMap((group) => group.changes.map((c) => c.line)).sort()).toEqual([1, 2]);
  });
});

describe("an approval line dated at or before its ask (review r5b)", () => {
  it("is noted: the replay counts the call from the ask's time, production from when the approval came", async () => {
    const stale = await replay(recording([expecting(lookup("s", 0), "ask", ["ask-lookup"]), approval(lookup("s", 0), 0, true), expecting(search("s", 1), "allow", ["search"])]));
    expect(stale.failed).toBe(0);
    expect(stale.notes.map((n) => [n.line, n.message])).toEqual([[2, "this approval is dated at or before the ask it answers (2025-01-06T09:00:00.000Z): the replay counts the call from the ask's time, where production counted it from when the approval came, so a later session.called(…, within D) can replay otherwise; write the time the approval came in the line"]]);
    // Another call of the tool asked later (other arguments) is not the ask this approval answers: nothing to note (review r6).
    const other = (session: string, minutes: number) => ({ ...lookup(session, minutes), args: { id: "43" } });
    const two = await replay(recording([expecting(lookup("u", 0), "ask", ["ask-lookup"]), expecting(other("u", 10), "ask", ["ask-lookup"]), approval(lookup("u", 0), 5, true), expecting(search("u", 16), "allow", ["search"])]));
    expect(two.notes).toEqual([]);
    // Dated when it came: nothing to note.
    const stamped = await replay(recording([expecting(lookup("t", 0), "ask", ["ask-lookup"]), approval(lookup("t", 0), 5, true), expecting(search("t", 6), "allow", ["search"])]));
    expect(stamped.notes).toEqual([]);
  });
});

