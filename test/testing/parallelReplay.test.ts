import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, describe, expect, it } from "vitest";
import { ROOT } from "../helpers.js";

// The worker script exists only in the build, so this test drives the built module.
const dist = await import(join(ROOT, "dist", "testing", "replay.js"));
const { compileSources } = await import(join(ROOT, "dist", "index.js"));

const POLICY = `
agent { team: string }
context { labels: set<string> }
tool kb.search { args { query: string } }
tool mail.send { args { to: string } }
policy p {
  @name("loop") deny * when session.repeats >= 2 reason "loop" revoke
  @name("search") allow kb.search when agent.team == "support"
  @name("mail") allow mail.send when session.called(kb.search) and agent.team == "support"
}
`;

const dir = mkdtempSync(join(tmpdir(), "policyc-parallel-"));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("replaying a large recording on several threads", () => {
  it("gives the same report as one thread: counts, failures and errors in line order, coverage", async () => {
    const { policy } = compileSources([{ path: "p.policy", text: POLICY }]);
    const lines: string[] = [];
    const base = { agent: { team: "support" }, context: { labels: [] } };
    for (let s = 0; lines.length < 60_000; s++) {
      const session = `s${s}`;
      lines.push(JSON.stringify({ ...base, session, tool: "mail.send", args: { to: "a" }, decision: "deny", rules: [] }));
      lines.push(JSON.stringify({ ...base, session, tool: "kb.search", args: { query: `q${s}` }, decision: "allow", rules: ["search"] }));
      lines.push(JSON.stringify({ ...base, session, tool: "mail.send", args: { to: "a" }, decision: "allow", rules: ["mail"] }));
      // Wrong on purpose in some sessions: the third identical call is a loop, not an allow.
      lines.push(JSON.stringify({ ...base, session, tool: "mail.send", args: { to: "a" }, decision: s % 500 === 0 ? "allow" : "deny", rules: s % 500 === 0 ? ["mail"] : ["loop"] }));
      if (s % 1000 === 7) lines.push("not json");
    }
    const file = join(dir, "big.jsonl");
    writeFileSync(file, lines.join("\n").padEnd(9 * 1024 * 1024, "\n") + "\n");
    const single = await dist.replayRecordings(policy, [file], { workers: 1 });
    const parallel = await dist.replayRecordings(policy, [file], { workers: 2 });
    // The workers stay in a pool: a second run finds them started and gives the same report.
    const again = await dist.replayRecordings(policy, [file], { workers: 2 });
    expect({ passed: again.passed, failed: again.failed, lines: again.lines, errors: again.errors }).toEqual({ passed: parallel.passed, failed: parallel.failed, lines: parallel.lines, errors: parallel.errors });
    expect(single.failed).toBeGreaterThan(0);
    expect(single.errors.length).toBeGreaterThan(0);
    expect({ passed: parallel.passed, failed: parallel.failed, lines: parallel.lines }).toEqual({ passed: single.passed, failed: single.failed, lines: single.lines });
    expect(parallel.failures.map((f: { line: number }) => f.line)).toEqual(single.failures.map((f: { line: number }) => f.line));
    expect(parallel.errors).toEqual(single.errors);
    expect([...parallel.coverage]).toEqual([...single.coverage]);
    // Failures are explained in both (the explanation pass runs on the main thread).
    expect(parallel.failures[0].explanation).toBe(single.failures[0].explanation);
  });
  it("routes a line by the session JSON.parse reads, even with the key written twice or with escapes", async () => {
    const { policy } = compileSources([{ path: "p.policy", text: POLICY }]);
    const base = '"agent":{"team":"support"},"context":{"labels":[]},"tool":"kb.search","args":{"query":"same"}';
    // Session b loops (and is revoked) over three lines; two of them name b only as their last key.
    const lines = [
      `{"session":"b",${base},"decision":"allow"}`,
      `{"session":"a",${base},"session":"b","decision":"allow"}`,
      `{"sess\\u0069on":"a",${base},"session":"b","decision":"deny","rules":["loop"]}`,
      `{"session":"b",${base},"decision":"deny","rules":["loop"]}`,
      `{"session":"a",${base},"decision":"allow","rules":["search"]}`,
    ];
    const file = join(dir, "keys.jsonl");
    writeFileSync(file, lines.join("\n") + "\n");
    const single = await dist.replayRecordings(policy, [file], { workers: 1 });
    expect({ passed: single.passed, failed: single.failed, errors: single.errors }).toEqual({ passed: 5, failed: 0, errors: [] });
    for (const workers of [2, 3]) {
      const parallel = await dist.replayRecordings(policy, [file], { workers });
      expect({ passed: parallel.passed, failed: parallel.failed, lines: parallel.lines, errors: parallel.errors }, `${workers} threads`).toEqual({ passed: 5, failed: 0, lines: 5, errors: [] });
    }
  });

  it("reports every malformed line, whichever share owns its session", async () => {
    const { policy } = compileSources([{ path: "p.policy", text: POLICY }]);
    const base = '"agent":{"team":"support"},"context":{"labels":[]},"tool":"kb.search","args":{"query":"q"}';
    // Valid JSON with a readable session, but not a valid line: only its session's owner parses it.
    const lines = Array.from({ length: 16 }, (_, i) => `{"session":"s-${i}",${base},"decision":"${i % 2 === 0 ? "permit" : "allow"}"}`);
    const file = join(dir, "malformed.jsonl");
    writeFileSync(file, lines.join("\n") + "\n");
    const single = await dist.replayRecordings(policy, [file], { workers: 1 });
    expect(single.errors.map((e: { line: number }) => e.line)).toEqual([1, 3, 5, 7, 9, 11, 13, 15]);
    for (const workers of [2, 4]) {
      const parallel = await dist.replayRecordings(policy, [file], { workers });
      expect(parallel.errors, `${workers} threads`).toEqual(single.errors);
      expect(parallel.passed).toBe(single.passed);
    }
  });

  it("a request written over several lines is one error on any number of threads, said once, and the lines after it replay alike", async () => {
    const { policy } = compileSources([{ path: "p.policy", text: POLICY }]);
    const base = { agent: { team: "support" }, context: { labels: [] }, tool: "kb.search", args: { query: "q" }, decision: "allow", rules: ["search"] };
    const lines: string[] = [];
    for (let s = 0; s < 40; s++) {
      lines.push(JSON.stringify({ ...base, session: `s${s}` }));
      // Pasted pretty-printed, in many sessions (so every share owns some), one holding a line
      // that is a whole request of another session on its own (which a share would pass over).
      if (s % 4 === 1) lines.push(...JSON.stringify({ ...base, session: `s${s}`, args: { query: "q", inner: [{ session: `s${s + 1}`, tool: "kb.search" }] } }, null, 2).replace(/\{\n\s*"session": "(s\d+)",\n\s*"tool": "kb.search"\n\s*\}/, '{"session":"$1","tool":"kb.search"}').split("\n"));
      if (s % 9 === 4) lines.push(`{"session":"s${s}","tool":"kb.search"`); // cut short: its own error
      // Malformed lines a scan could take for a whole request of their session while leaving a
      // bracket open: a bare value holding a bracket, a second object after the first. They open
      // a value, swallowing the next request, on every thread alike.
      if (s === 20) lines.push(`{"session":"s${s}","tool":"kb.search","x":a{}`, ` ${JSON.stringify({ ...base, session: `s${s + 1}` })}`, "}");
      if (s === 30) lines.push(`{"session":"s${s}","tool":"kb.search"}{`, ` ${JSON.stringify({ ...base, session: `s${s + 1}` })}`, "}");
    }
    const file = join(dir, "several-lines.jsonl");
    writeFileSync(file, lines.join("\n") + "\n");
    const single = await dist.replayRecordings(policy, [file], { workers: 1 });
    const grouped = single.errors.filter((e: { endLine?: number }) => e.endLine !== undefined);
    expect(grouped).toHaveLength(11);
    expect(single.errors).toHaveLength(17);
    expect(single.passed).toBe(41); // the request after the second object replays
    for (const workers of [2, 3]) {
      const parallel = await dist.replayRecordings(policy, [file], { workers });
      expect({ passed: parallel.passed, failed: parallel.failed, lines: parallel.lines, errors: parallel.errors }, `${workers} threads`).toEqual({ passed: single.passed, failed: single.failed, lines: single.lines, errors: single.errors });
    }
    const diff = await import(join(ROOT, "dist", "testing", "diff.js"));
    for (const workers of [1, 3]) expect((await diff.diffRecordings(policy, policy, [file], { workers })).errors, `diff on ${workers} threads`).toEqual(single.errors);
  });

  it("diff: the same report on several threads as on one (changes in line order, directions, errors)", async () => {
    const diff = await import(join(ROOT, "dist", "testing", "diff.js"));
    const before = compileSources([{ path: "p.policy", text: POLICY }]).policy;
    const after = compileSources([{ path: "q.policy", text: POLICY.replace('allow mail.send when session.called(kb.search) and agent.team == "support"', 'deny mail.send when session.called(kb.search)') }]).policy;
    const base = { agent: { team: "support" }, context: { labels: [] } };
    const lines: string[] = [];
    for (let s = 0; s < 3_000; s++) {
      lines.push(JSON.stringify({ ...base, session: `s${s}`, tool: "kb.search", args: { query: `q${s}` } }));
      lines.push(JSON.stringify({ ...base, session: `s${s}`, tool: "mail.send", args: { to: "a" } }));
      if (s % 700 === 3) lines.push(`{"session":"s${s}","tool":"kb.search","args":"not an object"}`);
    }
    const file = join(dir, "diff.jsonl");
    writeFileSync(file, lines.join("\n") + "\n");
    type Group = { count: number; directions: Map<string, number>; changes: { line: number; cause: string }[] };
    const summary = (r: { lines: number; directions: Map<string, number>; errors: unknown[]; byCause: Map<string, Group> }) => ({
      lines: r.lines,
      directions: [...r.directions],
      errors: r.errors,
      byCause: [...r.byCause].map(([cause, g]) => [cause, g.count, [...g.directions], g.changes.map((c) => `${c.line}:${c.cause}`)]),
    });
    const single = summary(await diff.diffRecordings(before, after, [file], { workers: 1, maxExamplesPerCause: 1_000 }));
    expect(single.directions).toEqual([["allow→deny", 3_000]]);
    expect(single.byCause.map(([cause, count, directions, changes]) => [cause, count, directions, (changes as string[]).length])).toEqual([["~mail", 3_000, [["allow→deny", 3_000]], 1_000]]);
    expect(single.errors).toHaveLength(5);
    for (const workers of [2, 3]) expect(summary(await diff.diffRecordings(before, after, [file], { workers, maxExamplesPerCause: 1_000 })), `${workers} threads`).toEqual(single);
    // Asking for rule changes reaches every thread: a renamed rule changes who decides each search.
    const renamed = compileSources([{ path: "q.policy", text: POLICY.replace('@name("search")', '@name("kb")') }]).policy;
    for (const workers of [1, 2]) {
      const report = await diff.diffRecordings(before, renamed, [file], { workers, maxExamplesPerCause: 1_000, ruleChanges: true });
      expect([...report.directions], `${workers} threads`).toEqual([["allow→allow (rules)", 3_000]]);
    }
  });

  it("diff: the same causes on several threads as on one when sessions are forgotten and their ids come back days later", async () => {
    const diff = await import(join(ROOT, "dist", "testing", "diff.js"));
    const policy = (lookup: string): string =>
      `enum Label { public, pii }\ntool crm.lookup {\n  returns pii\n  args { id: string }\n}\ntool email.send {\n  args { to: string }\n}\npolicy p {\n  @name("lookup")\n  allow crm.lookup${lookup}\n\n  @name("send")\n  allow email.send\n\n  @name("no-pii-out")\n  deny email.send\n    when session.labels contains pii\n}\n`;
    const before = compileSources([{ path: "p.policy", text: policy("") }]).policy;
    const after = compileSources([{ path: "p.policy", text: policy('\n    when args.id != "7"') }]).policy;
    const lines: string[] = [];
    // Three days two days apart (each session forgotten in between), 1,500 sessions each, the same ids every day.
    for (let day = 0; day < 3; day++) {
      for (let s = 0; s < 1_500; s++) {
        const time = (second: number): string => new Date(Date.UTC(2026, 9, 1 + 2 * day, 0, 0, 0) + (2 * s + second) * 1000).toISOString();
        lines.push(JSON.stringify({ time: time(0), session: `s${s}`, tool: "crm.lookup", args: { id: s % 3 === 0 ? "7" : "8" } }));
        lines.push(JSON.stringify({ time: time(1), session: `s${s}`, tool: "email.send", args: { to: "eve@evil.example" } }));
      }
    }
    const file = join(dir, "days.jsonl");
    writeFileSync(file, lines.join("\n") + "\n");
    type Change = { line: number; direction: string; via?: { line?: number } };
    const causes = (r: { byCause: Map<string, { count: number; carried: number; changes: Change[] }> }) => [...r.byCause].map(([cause, g]) => [cause, g.count, g.carried, g.changes.map((c) => `${c.line} ${c.direction} ${c.via?.line ?? ""}`)]);
    const single = await diff.diffRecordings(before, after, [file], { workers: 1, maxExamplesPerCause: 10_000 });
    // Each day the lookup denied carries the mail of its own session that day, never one of days before.
    expect(causes(single).map(([cause, count, carried]) => [cause, count, carried])).toEqual([["~lookup", 3_000, 1_500]]);
    for (const change of single.byCause.get("~lookup").changes as Change[]) if (change.via !== undefined) expect(change.via.line).toBe(change.line - 1);
    for (const workers of [2, 3]) expect(causes(await diff.diffRecordings(before, after, [file], { workers, maxExamplesPerCause: 10_000 })), `${workers} threads`).toEqual(causes(single));
  });

  it("a merged log out of time order by more than the idle time: every thread count, --session and the explanations see the sessions expire at the same lines", async () => {
    // The engine's sweep goes by the latest time of any session: B's attempt at 13:00 expires A,
    // idle since 10:00, before A's late line dated 10:30 arrives. A thread or a selection that
    // decides only A's lines must move its clock with B's lines too, or A looks alive there.
    const { policy } = compileSources([{ path: "p.policy", text: POLICY }]);
    const minute = 60_000;
    const line = (at: number, session: string, expect = ""): string => `{"time":"${new Date(Date.parse("2025-01-01T10:00:00Z") + at * minute).toISOString()}","session":"${session}","agent":{"team":"support"},"context":{"labels":[]},"tool":"kb.search","args":{"query":"q${at}"}${expect}}`;
    const lines: string[] = [];
    // Each round four hours after the last: A at 0, B at +3 h, A's late line at +30 min, B again.
    for (let i = 0, t = 0; i < 200; i++, t += 240) {
      const [a, b] = [`A${i}`, `B${i}`];
      lines.push(line(t, a), line(t + 180, b), line(t + 30, a, ',"decision":"allow"'), line(t + 181, b, ',"decision":"allow"'));
    }
    const file = join(dir, "merged.jsonl");
    writeFileSync(file, lines.join("\n") + "\n");
    const outline = (r: { passed: number; failed: number; failures: { line: number; actual: { reasons: string[] }; explanation?: string }[] }) => ({
      passed: r.passed,
      failed: r.failed,
      failures: r.failures.map((f) => [f.line, f.actual.reasons[0], f.explanation]),
    });
    const single = outline(await dist.replayRecordings(policy, [file], { workers: 1, explainLimit: 1_000 }));
    expect(single.failed).toBe(200);
    expect(single.failures[0]).toEqual([3, "the session has expired: start a new session", expect.stringMatching(/^the request was denied before any rule ran: session "A0" has expired/)]);
    for (const workers of [2, 3, 4]) expect(outline(await dist.replayRecordings(policy, [file], { workers, explainLimit: 1_000 })), `${workers} threads`).toEqual(single);
    const onlyA0 = await dist.replayRecordings(policy, [file], { session: "A0" });
    expect(outline(onlyA0)).toEqual({ passed: 0, failed: 1, failures: [single.failures[0]] });
    // diff: both engines of each thread observe the other threads' lines (an unchanged policy: no change).
    const diff = await import(join(ROOT, "dist", "testing", "diff.js"));
    for (const workers of [1, 3]) expect((await diff.diffRecordings(policy, policy, [file], { workers })).directions.size, `${workers} threads`).toBe(0);
  });

  it("approval lines move no thread's clock: one dated hours on, well-formed, malformed or with its session written twice, expires no session on any number of threads", async () => {
    const { policy } = compileSources([{ path: "p.policy", text: "tool kb.search { args { query: string } }\ntool crm.lookup { args { id: string } }\npolicy p {\n  @name(\"search\") allow kb.search\n  @name(\"ask-lookup\") ask crm.lookup\n}\n" }]);
    const minute = 60_000;
    const time = (at: number): string => new Date(Date.parse("2025-01-01T10:00:00Z") + at * minute).toISOString();
    const lines: string[] = [];
    // Each round: A searches; B's lookup is asked and approved at once; an approval for B dated
    // five hours on (too late: refused), or malformed, or with its session written twice; A's
    // next search half an hour on, allowed: it would find A expired were the clock moved by the approval.
    for (let i = 0, t = 0; i < 150; i++, t += 480) {
      const [a, b] = [`A${i}`, `B${i}`];
      const asked = `"session":"${b}","tool":"crm.lookup","args":{"id":"${i}"}`;
      const late = [
        `{"event":"approval","time":"${time(t + 300)}",${asked},"approved":false}`,
        `{"event":"approval","time":"${time(t + 300)}",${asked},"approved":true,"decision":"ask"}`, // malformed: an approval decides nothing
        `{"session":"${a}","event":"approval","time":"${time(t + 300)}",${asked},"approved":false}`, // the scan cannot tell whose: every thread parses it
      ][i % 3]!;
      lines.push(
        `{"time":"${time(t)}","session":"${a}","tool":"kb.search","args":{"query":"q"}}`,
        `{"time":"${time(t + 1)}",${asked},"decision":"ask"}`,
        `{"event":"approval","time":"${time(t + 2)}",${asked},"approved":true}`,
        late,
        `{"time":"${time(t + 30)}","session":"${a}","tool":"kb.search","args":{"query":"q"},"decision":"allow"}`,
      );
    }
    const file = join(dir, "approvals-merged.jsonl");
    writeFileSync(file, lines.join("\n") + "\n");
    const outline = (r: { passed: number; failed: number; lines: number; errors: unknown[]; failures: { line: number }[] }) => ({ passed: r.passed, failed: r.failed, lines: r.lines, errors: r.errors, failures: r.failures.map((f) => f.line) });
    const single = outline(await dist.replayRecordings(policy, [file], { workers: 1 }));
    expect(single).toMatchObject({ passed: 550, failed: 0, lines: 700, failures: [] });
    expect(single.errors).toHaveLength(50);
    for (const workers of [2, 3, 4]) expect(outline(await dist.replayRecordings(policy, [file], { workers })), `${workers} threads`).toEqual(single);
    const onlyA0 = await dist.replayRecordings(policy, [file], { session: "A0" });
    expect([onlyA0.passed, onlyA0.failed]).toEqual([1, 0]);
    const diff = await import(join(ROOT, "dist", "testing", "diff.js"));
    for (const workers of [1, 3]) {
      const report = await diff.diffRecordings(policy, policy, [file], { workers });
      expect([report.lines, report.directions.size, report.errors.length], `diff on ${workers} threads`).toEqual([450, 0, 50]);
    }
  });

  it("revocation lines go to the thread of their session, and move every thread's clock to their time: the same report on any number of threads", async () => {
    const { policy } = compileSources([{ path: "p.policy", text: 'tool kb.search { args { query: string } }\npolicy p {\n  @name("search") allow kb.search\n}\n' }]);
    const minute = 60_000;
    const time = (at: number): string => new Date(Date.parse("2025-01-01T10:00:00Z") + at * minute).toISOString();
    const search = (session: string, at: number, expected: string): string => `{"time":"${time(at)}","session":"${session}","tool":"kb.search","args":{"query":"q"},${expected}}`;
    const revokedDenial = '"decision":"deny","rules":[],"reason":"revoked by an operator: \\"INC-1\\"","revoked":true';
    const lines: string[] = [];
    // Each round: A and B search; B is revoked (dated, undated, or before C's first attempt) and
    // its next search is denied; then a revocation of X dated two hours on (well-formed or not)
    // moves every clock there, so A's line dated half an hour on finds A freed: expired.
    for (let i = 0, t = 0; i < 150; i++, t += 480) {
      const [a, b, c, x] = [`A${i}`, `B${i}`, `C${i}`, `X${i}`];
      const revoked = [b, b, c][i % 3]!;
      lines.push(
        search(a, t, '"decision":"allow","rules":["search"]'),
        search(b, t + 1, '"decision":"allow","rules":["search"]'),
        i % 3 === 1 ? `{"event":"revocation","session":"${revoked}","reason":"INC-1","outcome":"revoked"}` : `{"event":"revocation","time":"${time(t + 2)}","session":"${revoked}","reason":"INC-1","outcome":"revoked"}`,
        search(revoked, t + 3, revokedDenial),
        i % 2 === 0 ? `{"event":"revocation","time":"${time(t + 121)}","session":"${x}","reason":"INC-2"}` : `{"event":"revocation","time":"${time(t + 121)}","session":"${x}"}`, // malformed: no reason
        search(a, t + 30, '"decision":"deny","rules":[]'),
      );
    }
    const file = join(dir, "revocations-merged.jsonl");
    writeFileSync(file, lines.join("\n") + "\n");
    const outline = (r: { passed: number; failed: number; lines: number; errors: unknown[]; failures: { line: number }[] }) => ({ passed: r.passed, failed: r.failed, lines: r.lines, errors: r.errors, failures: r.failures.map((f) => f.line) });
    const single = outline(await dist.replayRecordings(policy, [file], { workers: 1 }));
    expect(single).toMatchObject({ passed: 750, failed: 0, lines: 825, failures: [] });
    expect(single.errors).toHaveLength(75);
    for (const workers of [2, 3, 4]) expect(outline(await dist.replayRecordings(policy, [file], { workers })), `${workers} threads`).toEqual(single);
    const onlyA0 = await dist.replayRecordings(policy, [file], { session: "A0" });
    expect([onlyA0.passed, onlyA0.failed]).toEqual([2, 0]);
    const diff = await import(join(ROOT, "dist", "testing", "diff.js"));
    for (const workers of [1, 3]) {
      const report = await diff.diffRecordings(policy, policy, [file], { workers });
      expect([report.lines, report.directions.size, report.errors.length], `diff on ${workers} threads`).toEqual([600, 0, 75]);
    }
  });

  it("every thread tells its engine of every revocation of a session not started yet: the engines hold as many sessions revoked before their first attempt as one replay's, past its limit too", async () => {
    const { policy } = compileSources([{ path: "p.policy", text: 'tool kb.search { args { query: string } }\npolicy p {\n  @name("search") allow kb.search\n}\n' }]);
    const t0 = Date.parse("2025-01-05T09:00:00Z");
    const revocation = (i: number, session: string): string => JSON.stringify({ event: "revocation", time: new Date(t0 + i).toISOString(), session, reason: "INC", outcome: "revoked" });
    // Started sessions first (revoked live: none of the limit's places), then 100,000 revoked
    // before their first attempt (MAX_REVOKED_BEFORE_START), then ten more, which are refused.
    const lines: string[] = [];
    for (let i = 0; i < 20; i++) lines.push(JSON.stringify({ time: new Date(t0).toISOString(), session: `live${i}`, tool: "kb.search", args: { query: "q" }, decision: "allow", rules: ["search"] }));
    for (let i = 0; i < 20; i++) lines.push(revocation(i, `live${i}`));
    for (let i = 0; i < 100_010; i++) lines.push(revocation(20 + i, `x${i}`));
    const file = join(dir, "early-revocations.jsonl");
    writeFileSync(file, lines.join("\n") + "\n");
    const outline = (r: { passed: number; failed: number; failures: { line: number; actual: unknown }[]; cases: unknown[] }) => ({ passed: r.passed, failed: r.failed, failures: r.failures.map((f) => [f.line, f.actual]), cases: r.cases.length });
    const single = outline(await dist.replayRecordings(policy, [file], { workers: 1, listCases: true }));
    expect([single.failures.length, single.cases]).toEqual([10, 100_050]);
    expect(single.failures[0]).toEqual([40 + 100_001, { outcome: "refused", refusal: expect.stringContaining("already holds 100,000 sessions revoked before their first attempt") }]);
    // No thread reports another's revocation (a case, a failure): only the owner does.
    for (const workers of [2, 3]) expect(outline(await dist.replayRecordings(policy, [file], { workers, listCases: true })), `${workers} threads`).toEqual(single);
    // So does a replay of one session (--session), whose engine is told of the others' revocations alike.
    const only = await dist.replayRecordings(policy, [file], { session: "x100005" });
    expect([only.passed, only.failed, only.failures.map((f: { line: number }) => f.line)]).toEqual([0, 1, [40 + 100_006]]);
  });

  it("malformed lines move every thread's clock alike: a schema error, NaN, a time that does not decode", async () => {
    const { policy } = compileSources([{ path: "p.policy", text: POLICY }]);
    const minute = 60_000;
    const time = (at: number): string => new Date(Date.parse("2025-01-01T10:00:00Z") + at * minute).toISOString();
    const base = '"agent":{"team":"support"},"context":{"labels":[]},"tool":"kb.search"';
    const lines: string[] = [];
    for (let i = 0, t = 0; i < 150; i++, t += 240) {
      const [a, b] = [`A${i}`, `B${i}`];
      const late = [
        `{"time":"${time(t + 180)}","session":"${b}",${base},"args":{"query":"q"},"decision":"Allow"}`, // not in the schema
        `{"time":"${time(t + 180)}","session":"${b}",${base},"args":{"query":"q","n":NaN}}`, // not JSON
        `{"time":"${time(t + 180)}	","session":"${b}",${base},"args":{"query":"q"}}`, // a raw tab: the time does not decode
      ][i % 3]!;
      lines.push(`{"time":"${time(t)}","session":"${a}",${base},"args":{"query":"q${t}"}}`, late, `{"time":"${time(t + 30)}","session":"${a}",${base},"args":{"query":"q${t}"},"decision":"allow"}`);
    }
    const file = join(dir, "malformed-merged.jsonl");
    writeFileSync(file, lines.join("\n") + "\n");
    // Errors past the first 100 of the file are counted, not kept: `errorCount` has them all.
    const outline = (r: { passed: number; failed: number; errors: unknown[]; failures: { line: number }[] }) => ({ passed: r.passed, failed: r.failed, errors: dist.errorCount(r) as number, kept: r.errors.length, failures: r.failures.map((f) => f.line) });
    const single = outline(await dist.replayRecordings(policy, [file], { workers: 1 }));
    // The schema error and the NaN line moved the clock three hours on (A's late line finds it
    // expired); the time that does not decode moved nothing.
    expect(single).toMatchObject({ passed: 50, failed: 100, errors: 150, kept: 100 });
    for (const workers of [2, 3]) expect(outline(await dist.replayRecordings(policy, [file], { workers })), `${workers} threads`).toEqual(single);
    const diff = await import(join(ROOT, "dist", "testing", "diff.js"));
    const strict = compileSources([{ path: "q.policy", text: POLICY.replace('allow kb.search when agent.team == "support"', 'allow kb.search when agent.team == "support" and session.calls < 1') }]).policy;
    const changes = async (workers: number) => [...(await diff.diffRecordings(policy, strict, [file], { workers })).directions];
    const oneThread = await changes(1);
    expect(oneThread.length).toBeGreaterThan(0);
    for (const workers of [2, 3]) expect(await changes(workers), `diff on ${workers} threads`).toEqual(oneThread);
  });

  it("a failing line whose arguments nest thousands deep is reported alike on any number of threads (a worker's report is never too deep to send back)", async () => {
    const { policy } = compileSources([{ path: "p.policy", text: POLICY }]);
    // An undeclared field the engine ignores, nested deeper than structured cloning (recursive)
    // copies within a thread's stack, and deeper than JSON.stringify writes within it.
    for (const depth of [5_000, 50_000]) {
      const deep = `${"[".repeat(depth)}${"]".repeat(depth)}`;
      const file = join(dir, `deep-${depth}.jsonl`);
      // Sessions spread over every share: some failing line is a worker's.
      const lines = Array.from({ length: 8 }, (_, s) => `{"agent":{"team":"support"},"context":{"labels":[]},"session":"d${s}","tool":"kb.search","args":{"extra":${deep},"query":"q"},"decision":"deny"}`);
      writeFileSync(file, lines.join("\n") + "\n");
      const single = await dist.replayRecordings(policy, [file], { workers: 1 });
      expect(single.failed).toBe(8);
      expect(single.failures[0].request).toBe('kb.search extra=[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[… query="q"');
      for (const workers of [2, 3]) {
        const parallel = await dist.replayRecordings(policy, [file], { workers });
        expect(parallel.failures.map((f: { line: number; request: string }) => [f.line, f.request]), `${depth} deep on ${workers} threads`).toEqual(single.failures.map((f: { line: number; request: string }) => [f.line, f.request]));
      }
    }
  });

  it("a worker's report this thread cannot read, or one the worker cannot send, rejects its task: the run never waits for ever", async () => {
    const { ReplayWorkerPool } = await import(join(ROOT, "dist", "testing", "workerPool.js"));
    // A stand-in worker answering with a report nested `depth` deep: deep enough that this
    // thread cannot read it (a messageerror), or that the worker cannot even copy it.
    const script = join(dir, "deep-worker.mjs");
    writeFileSync(script, 'import { parentPort } from "node:worker_threads";\nparentPort.on("message", ({ id, task }) => { let report = []; for (let i = 0; i < task.depth; i++) report = [report]; parentPort.postMessage({ id, report }); });\n');
    const pool = new ReplayWorkerPool(pathToFileURL(script));
    await expect(pool.run(0, { depth: 6_000 })).rejects.toThrow(/could not be read back/);
    await expect(pool.run(1, { depth: 100_000 })).rejects.toThrow(/exited|stack/);
    // A sound report still comes back, on a fresh worker.
    await expect(pool.run(0, { depth: 2 })).resolves.toEqual([[[]]]);
  });

  it("rejects, and lets the process exit, when a share cannot be handed to a worker", async () => {
    const { policy } = compileSources([{ path: "p.policy", text: POLICY }]);
    const file = join(dir, "small.jsonl");
    writeFileSync(file, JSON.stringify({ agent: { team: "support" }, context: { labels: [] }, session: "s", tool: "kb.search", args: { query: "q" }, decision: "allow" }) + "\n");
    // A function cannot be copied to another thread.
    await expect(dist.replayRecordings({ ...policy, notCloneable: () => 1 }, [file], { workers: 2 })).rejects.toThrow(/could not be cloned/);
    // The pool still works afterwards.
    const report = await dist.replayRecordings(policy, [file], { workers: 2 });
    expect(report.passed).toBe(1);
  });
});
