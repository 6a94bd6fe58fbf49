import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import { cli } from "../helpers.js";

// A request with an unreadable `time` is an attempt its session counts (language.md §6 step 8),
// dated by its session's own times, never by the engine's clock: a decision log of such
// refusals (`"decision": "deny", "rules": []`) replays as the enforcement point decided, on any
// number of threads, whenever the replay runs (its clock is the wall clock) and however far the
// log's times are from it.

const POLICY = `tool kb.search { args { query: string } }
policy p {
  @name("search") allow kb.search
  @name("too-many-denials") deny * when session.denials >= 3 reason "3 refusals: session revoked" revoke
  @name("burst") deny * when session.count(within 1m) > 6
}
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-undated-"));
  writeFileSync(join(dir, "p.policy"), POLICY);
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/**
 * The log an enforcement point whose clock reads `t0` writes: sessions whose refused attempts
 * come before any dated one (`early`), between dated ones (`a`) and after another session's
 * (`late`), interleaved.
 */
function decisionLog(t0: number): { text: string; lines: number } {
  const engine = compile([{ path: "p.policy", text: POLICY }], { clock: () => t0 });
  const at = (seconds: number): string => new Date(t0 + seconds * 1000).toISOString();
  const requests: Record<string, unknown>[] = [
    { session: "early", time: "yesterday" },
    { session: "early", time: 1764493200 },
    { session: "a", time: at(0) },
    { session: "early", time: "2026-11-30 09:00" },
    { session: "late", time: null },
    { session: "a", time: "soon" },
    { session: "late", time: "yesterday" },
    { session: "a", time: at(1) },
    { session: "late", time: 17 },
    { session: "early", time: at(2) },
    { session: "late", time: at(3) },
    { session: "a", time: at(4) },
    { session: "a", time: at(5) },
  ].map((request) => ({ ...request, tool: "kb.search", args: { query: "x" } }));
  const lines = requests.map((request) => {
    const decision = engine.decide(request);
    return JSON.stringify({ ...request, decision: decision.decision, rules: decision.rules, revoked: decision.revoked });
  });
  return { text: lines.join("\n") + "\n", lines: lines.length };
}

describe("policyc test: logged refusals of requests without a readable time", () => {
  it("count in their sessions, and replay the same on any number of threads, for a log dated long ago or years ahead", async () => {
    for (const t0 of [Date.parse("2020-03-01T09:00:00Z"), Date.parse("2031-03-01T09:00:00Z")]) {
      const log = decisionLog(t0);
      // What the engine decided: the refusals counted, so `early` and `late` are revoked at their first dated attempt.
      expect(log.text).toContain('"session":"early","time":"' + new Date(t0 + 2000).toISOString() + '","tool":"kb.search","args":{"query":"x"},"decision":"deny","rules":["too-many-denials"],"revoked":true}');
      expect(log.text).toContain('"session":"late","time":"' + new Date(t0 + 3000).toISOString() + '","tool":"kb.search","args":{"query":"x"},"decision":"deny","rules":["too-many-denials"],"revoked":true}');
      const path = join(dir, `log-${t0}.jsonl`);
      writeFileSync(path, log.text);
      for (const jobs of ["1", "2", "3"]) {
        const result = await cli(["test", join(dir, "p.policy"), "--replay", path, "--jobs", jobs]);
        expect(result.stdout, `--jobs ${jobs}`).toBe(`${log.lines} lines replayed from 1 file\n${log.lines} passed, 0 failed\n`);
        expect(result.code).toBe(0);
      }
      const late = await cli(["test", join(dir, "p.policy"), "--replay", path, "--session", "late"]);
      expect(late.stdout).toBe("4 lines replayed from 1 file\n4 passed, 0 failed\n");
      expect(late.code).toBe(0);
    }
  });

  it("of over 1,000 sessions before they start replay the same on one thread, on three and with --session (audit T, F2)", async () => {
    const engine = compile([{ path: "p.policy", text: POLICY }]);
    const sessions = Array.from({ length: 1001 }, (_, i) => `u${i}`);
    // Each session refused three times, then its first dated attempt.
    const requests = [...sessions, ...sessions, ...sessions].map((session) => ({ session, time: "not a time" })).concat(sessions.map((session) => ({ session, time: "2026-01-01T00:00:00Z" }))).map((request) => ({ ...request, tool: "kb.search", args: { query: "x" } }));
    const lines = requests.map((request) => {
      const decision = engine.decide(request);
      return JSON.stringify({ ...request, decision: decision.decision, rules: decision.rules });
    });
    // Every session's refusals counted, the 1,001st's too.
    expect(lines.at(-1)).toContain('"decision":"deny","rules":["too-many-denials"]');
    const path = join(dir, "many.jsonl");
    writeFileSync(path, lines.join("\n") + "\n");
    for (const jobs of ["1", "3"]) {
      const result = await cli(["test", join(dir, "p.policy"), "--replay", path, "--jobs", jobs]);
      expect(result.stdout, `--jobs ${jobs}`).toBe("4,004 lines replayed from 1 file\n4004 passed, 0 failed\n");
    }
    expect((await cli(["test", join(dir, "p.policy"), "--replay", path, "--session", "u1000"])).stdout).toBe("4 lines replayed from 1 file\n4 passed, 0 failed\n");
  });

  it("a replay that expects the refusals uncounted fails: exit 1", async () => {
    const path = join(dir, "uncounted.jsonl");
    const line = (time: unknown, expectation: string): string => JSON.stringify({ session: "s", time, tool: "kb.search", args: { query: "x" } }).slice(0, -1) + expectation + "}";
    writeFileSync(path, [line("2026-11-30T09:00:00Z", ',"decision":"allow"'), line("yesterday", ',"decision":"deny","rules":[]'), line(5, ',"decision":"deny","rules":[]'), line("now", ',"decision":"deny","rules":[]'), line("2026-11-30T09:00:01Z", ',"decision":"allow"')].join("\n") + "\n");
    const result = await cli(["test", join(dir, "p.policy"), "--replay", path]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("expected allow");
    expect(result.stdout).toContain("because too-many-denials: `session.denials >= 3` was true (3 >= 3)");
  });
});
