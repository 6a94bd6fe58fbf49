import { beforeAll, describe, expect, it } from "vitest";
import type { CompiledPolicy } from "../../src/runtime/policy.js";
import { compileFixture } from "../helpers.js";
import { at, temporaryRecordings } from "./recordingFiles.js";
import { diffRecordings } from "../../src/testing/diff.js";
import { replayRecordings, type ReplayOptions } from "../../src/testing/replay.js";
import { parseRecordingLine } from "../../src/testing/readRecording.js";

// Revocation lines (`"event": "revocation"`): an operator's `engine.revoke(session, reason)`,
// told to the engine at its place in the recording, so the session's later lines are denied as
// in production, and compared with what `engine.revoke` returned there (`outcome`).

const POLICY = `tool kb.search { risk low args { query: string } }
tool email.send { risk high args { to: list<string> } }
policy p {
  @name("search") allow kb.search
  @name("mail") allow email.send
}
`;

let policy: CompiledPolicy;
beforeAll(() => {
  policy = compileFixture(POLICY);
});
const { recording, rewritten } = temporaryRecordings("policyc-revocation-lines-");
const search = (session: string, minutes: number): Record<string, unknown> => ({ time: at(minutes), session, tool: "kb.search", args: { query: "q" } });
const revocation = (session: string, minutes: number, fields: Record<string, unknown> = {}): Record<string, unknown> => ({ event: "revocation", time: at(minutes), session, reason: "INC-4411: exfiltration suspected", ...fields });
const allowed = (request: Record<string, unknown>): Record<string, unknown> => ({ ...request, decision: "allow", rules: ["search"] });
/** How a decision log writes an attempt of a session an operator revoked. */
const REVOKED_DENIAL = { decision: "deny", rules: [], reason: 'revoked by an operator: "INC-4411: exfiltration suspected"', revoked: true };
const denied = (request: Record<string, unknown>): Record<string, unknown> => ({ ...request, ...REVOKED_DENIAL });

function replay(file: string, options: ReplayOptions = {}) {
  return replayRecordings(policy, [file], { listCases: true, ...options });
}

/** Session s is revoked at line 3, between its allowed search (1) and its denied one (4); session t goes on (2, 5). */
const INCIDENT = (): Record<string, unknown>[] => [allowed(search("s", 0)), allowed(search("t", 1)), revocation("s", 2, { outcome: "revoked" }), denied(search("s", 3)), allowed(search("t", 4))];

describe("a revocation line", () => {
  it("is told to the engine at its place: the session's later lines are denied as revoked by an operator, other sessions go on", async () => {
    const report = await replay(recording(INCIDENT()));
    expect(report.failures).toEqual([]);
    expect([report.passed, report.failed, report.lines]).toEqual([5, 0, 5]);
    expect(report.cases[2]).toEqual({ file: expect.any(String), line: 3, session: "s", tool: "(no tool)", event: "revocation", request: "revocation of session s", ok: true });
    // It decides no rule: coverage counts none for it.
    expect(Object.fromEntries(report.coverage)).toEqual({ search: 3, mail: 0 });
    // Without it, line 4's expected denial fails: the line is what makes the replay production's.
    const without = await replay(recording(INCIDENT().filter((_, i) => i !== 2)));
    expect(without.failures.map((f) => [f.line, f.mismatches])).toEqual([[3, ["decision", "rules", "reason", "revoked"]]]);
  });

  it("whose outcome differs from what engine.revoke returned in the replay fails as a case, saying expected and got, with the engine's refusal", async () => {
    const lines = [...INCIDENT(), revocation("s", 5, { outcome: "revoked" }), revocation("u", 6, { outcome: "already-revoked" })];
    const report = await replay(recording(lines));
    expect([report.passed, report.failed]).toEqual([5, 2]);
    expect(report.failures.map((f) => [f.line, f.event, f.request, f.expect, f.actual, f.mismatches])).toEqual([
      [6, "revocation", "revocation of session s", { outcome: "revoked" }, { outcome: "already-revoked" }, ["outcome"]],
      [7, "revocation", "revocation of session u", { outcome: "already-revoked" }, { outcome: "revoked" }, ["outcome"]],
    ]);
    // Nothing to explain clause by clause.
    expect(report.failures.map((f) => f.explanation)).toEqual([undefined, undefined]);
    // The engine's refusal is the actual outcome's reason: with maxSessions 1 it holds one session revoked before its first attempt.
    const refused = await replay(recording([revocation("b", 1, { outcome: "revoked" }), revocation("c", 2, { outcome: "revoked" })]), { maxSessions: 1 });
    expect(refused.failures.map((f) => [f.line, f.actual])).toEqual([[2, { outcome: "refused", refusal: expect.stringMatching(/^session "c" cannot be revoked before its first attempt: /) }]]);
    expect(refused.notes.map((n) => n.line)).toEqual([2]);
  });

  it("without `time`, reads the clock an undated attempt reads there (the wall clock): never refused for want of time, also first, with revokedSessionMs", async () => {
    const undatedFirst = [{ event: "revocation", session: "b", reason: "INC-1", outcome: "revoked" }, { ...search("b", 1), decision: "deny", rules: [], reason: 'revoked by an operator: "INC-1"', revoked: true }];
    for (const options of [{ revokedSessionMs: 3_600_000 }, { revokedSessionMs: 3_600_000, workers: 2 }, {}]) {
      const report = await replay(recording(undatedFirst), options);
      expect([report.failures, report.notes, report.passed], JSON.stringify(options)).toEqual([[], [], 2]);
    }
    // Dated by that clock, as an undated attempt's revocation is.
    const before = Date.now();
    const explained = await replay(recording([undatedFirst[0]!, allowed(search("b", 1))]), { revokedSessionMs: 3_600_000 });
    const when = /^the session was revoked at (\S+) by an operator/.exec(explained.failures[0]?.explanation ?? "")?.[1];
    expect(Date.parse(when ?? "")).toBeGreaterThanOrEqual(before - 1000);
  });

  it("of a session not seen yet revokes it before its first attempt, as engine.revoke does", async () => {
    const report = await replay(recording([revocation("new", 0, { outcome: "revoked" }), denied(search("new", 1)), allowed(search("other", 2))]));
    expect(report.failures).toEqual([]);
    expect([report.passed, report.failed]).toEqual([3, 0]);
  });

  it("without `outcome` is told to the engine but is no case; without `time` it comes after the lines before it, moving no clock", async () => {
    const lines = INCIDENT();
    lines[2] = { event: "revocation", session: "s", reason: "INC-4411: exfiltration suspected" };
    const report = await replay(recording(lines));
    expect(report.failures).toEqual([]);
    expect([report.passed, report.failed, report.lines]).toEqual([4, 0, 5]);
  });

  it("moves the engine's clock to its time, which is when engine.revoke read the clock in production: the revocation is kept from then, and idleness judged by it", async () => {
    // Revoked at 10:00 for half an hour (revokedSessionMs): its first attempt at 10:10 is denied.
    const kept = [allowed(search("a", 0)), revocation("new", 60, { outcome: "revoked" }), denied(search("new", 70))];
    expect((await replay(recording(kept), { revokedSessionMs: 30 * 60_000 })).failures).toEqual([]);
    // A line dated before the revocation but written after it came after it: at 11:01 session a,
    // idle since 09:00, was freed (two hours idle), so its line dated 09:30 finds it expired.
    const expired = [allowed(search("a", 0)), revocation("x", 121, { outcome: "revoked" }), { ...search("a", 30), decision: "deny", rules: [] }];
    for (const options of [{}, { session: "a" }]) expect((await replay(recording(expired), options)).failures, JSON.stringify(options)).toEqual([]);
    // Without the revocation's time, the clock stays at 09:00, and the line is allowed.
    const undated = expired.map((line, i) => (i === 1 ? { ...line, time: undefined } : line));
    expect((await replay(recording(undated))).failures.map((f) => f.line)).toEqual([3]);
  });

  it("malformed is an error at its line (PC602) that says what to write", () => {
    const errorOf = (line: Record<string, unknown>): string | undefined => {
      const parsed = parseRecordingLine(JSON.stringify(line), 7);
      return parsed.ok ? undefined : `${parsed.code} ${parsed.error}`;
    };
    const { session: _session, ...noSession } = revocation("s", 0);
    const { reason: _reason, ...noReason } = revocation("s", 0);
    expect(errorOf(noSession)).toBe('PC602 a revocation line (`"event": "revocation"`) needs `"session"`: the session id passed to `engine.revoke(session, reason)`');
    expect(errorOf(noReason)).toBe('PC602 a revocation line (`"event": "revocation"`) needs `"reason"`: the reason passed to `engine.revoke(session, reason)`, which the session\'s later denials quote');
    expect(errorOf(revocation("s", 0, { session: 12 }))).toBe("PC602 `session` must be a session id (a non-empty string of at most 1,024 characters), not the number 12");
    expect(errorOf(revocation("s", 0, { reason: ["INC"] }))).toBe("PC602 `reason` must be a string, not a list");
    expect(errorOf(revocation("s", 0, { time: 1764491700 }))).toMatch(/^PC602 `time` must be an RFC 3339 time in a string, not a number/);
    expect(errorOf(revocation("s", 0, { time: "yesterday" }))).toBe('PC602 `time` must be an RFC 3339 time, such as "2026-11-30T09:15:00Z", not "yesterday"');
    expect(errorOf(revocation("s", 0, { outcome: "Revoked" }))).toBe('PC602 `outcome` must be one of "revoked", "already-revoked", "refused": did you mean "revoked"?');
    expect(errorOf(revocation("s", 0, { outcome: true }))).toBe('PC602 `outcome` must be one of "revoked", "already-revoked", "refused"');
    expect(errorOf(revocation("s", 0, { decision: "deny", revoked: true }))).toMatch(/^PC602 a revocation line \(`"event": "revocation"`\) cannot have `decision` and `revoked`: /);
    expect(errorOf(revocation("s", 0, { approved: true }))).toMatch(/^PC602 a revocation line \(`"event": "revocation"`\) cannot have `approved`: /);
    expect(errorOf(revocation("s", 0, { outcom: "revoked" }))).toMatch(/^PC602 `outcom` looks like a misspelled `outcome`/);
    expect(errorOf({ ...revocation("s", 0), event: "revokation" })).toBe('PC602 `event` must be "approval" or "revocation": did you mean "revocation"? (it marks a person\'s approval or an operator\'s revocation; an attempt has no `event`, and a field of your own needs another name)');
    const { event: _event, ...unmarked } = revocation("s", 0);
    expect(errorOf({ Event: "revocation", ...unmarked })).toBe('PC602 `Event` looks like a misspelled `event`: spell it `event` (`"event": "revocation"` marks a revocation line; a field of your own must not be one letter away from it)');
    // An attempt's fields: an attempt whose request carried `event` of its own (an agent controls
    // its top-level fields), never replayed as an operator's revocation.
    const attemptLike = /^PC602 a revocation line \(`"event": "revocation"`\) names no tool: is this an attempt with an `event` field of its own\? /;
    expect(errorOf(revocation("s", 0, { tool: "kb.search", args: { query: "b" } }))).toMatch(attemptLike);
    expect(errorOf(revocation("s", 0, { tool: "kb.search", args: { query: "b" } }))).toContain("it cannot have `tool` and `args`");
    for (const field of ["tool", "args", "agent", "user", "intent", "context"]) expect(errorOf(revocation("s", 0, { [field]: null })), field).toMatch(attemptLike);
    // Named so before any expectation it has too.
    expect(errorOf(revocation("s", 0, { tool: "kb.search", decision: "deny" }))).toMatch(attemptLike);
    // Fields of a log's own beside them are ignored, as on an approval line.
    expect(errorOf(revocation("s", 0, { operator: "alice", ticket: "INC-4411" }))).toBeUndefined();
  });

  it("--session: replayed only with its session (another session's moves the clock alone); --grep: a case only when its reason holds the text, told to the engine either way", async () => {
    const file = recording(INCIDENT());
    const s = await replay(file, { session: "s" });
    expect([s.lines, s.passed, s.failed]).toEqual([3, 3, 0]);
    const t = await replay(file, { session: "t" });
    expect([t.lines, t.passed, t.failed]).toEqual([2, 2, 0]);
    const byIncident = await replay(file, { grep: "INC-4411" });
    expect(byIncident.cases.map((c) => c.line)).toEqual([3]);
    const byTool = await replay(file, { grep: "kb.search" });
    // Line 3 was told to the engine: line 4, a case, is denied.
    expect([byTool.passed, byTool.failed, byTool.cases.map((c) => c.line)]).toEqual([4, 0, [1, 2, 4, 5]]);
  });

  it("--update writes the actual `outcome` into a failed revocation line, and into one without it, and nothing else", async () => {
    const lines = [...INCIDENT(), revocation("s", 5, { outcome: "revoked" }), revocation("t", 6)].map((line) => JSON.stringify(line));
    const { file, report, after } = await rewritten(lines, (path) => replay(path, { update: true }));
    expect(report.updated).toEqual([file]);
    expect(after.slice(0, 5)).toEqual(lines.slice(0, 5));
    expect(after[5]).toBe(lines[5]!.replace('"outcome":"revoked"', '"outcome":"already-revoked"'));
    expect(after[6]).toBe(lines[6]!.replace(/}$/, ',"outcome":"revoked"}'));
    expect((await replay(file)).failures).toEqual([]);
  });

  it("is replayed again in the pass that explains a later failure of its session", async () => {
    const lines = INCIDENT();
    lines[3] = allowed(search("s", 3));
    const report = await replay(recording(lines));
    expect(report.failures.map((f) => f.line)).toEqual([4]);
    // Revoked when the line says, not when the replay ran.
    expect(report.failures[0]!.explanation).toBe("the session was revoked at 2025-01-06T09:02:00.000Z by an operator (Engine.revoke): every later attempt is denied");
  });
});

describe("policyc diff with revocation lines", () => {
  it("tells both versions of each revocation, and counts none as a decision", async () => {
    const file = recording(INCIDENT());
    const same = await diffRecordings(policy, policy, [file]);
    expect([same.lines, [...same.directions]]).toEqual([4, []]);
    // A version that denies searches: lines 1, 2 and 5 change, line 4 (revoked in both) does not.
    const denying = compileFixture(POLICY.replace('@name("search") allow kb.search', '@name("search") deny kb.search'));
    const changed = await diffRecordings(policy, denying, [file]);
    expect([...changed.byCause.values()].flatMap((group) => group.changes.map((c) => c.line)).sort()).toEqual([1, 2, 5]);
  });
});
