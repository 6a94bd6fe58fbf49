import { createHash } from "node:crypto";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import { cli } from "../helpers.js";

// A decision log's line for a request without a readable session id (missing, "", a number,
// null, a list) is a refusal like any other (`"decision": "deny", "rules": []`), which the README
// says to log: the replay decides it (the engine refuses it outside any session, as in
// production) and compares its expectation with that refusal, instead of failing the run as
// malformed (embedding audit a1, finding 2).

const POLICY = `tool a.x { args { n: int } }
policy p {
  @name("many") deny * when session.calls >= 2
  @name("ok") allow a.x when args.n >= 0
}
`;
const SESSIONS: readonly (readonly [string, unknown])[] = [["missing", undefined], ["empty", ""], ["a number", 12], ["null", null], ["a list", ["s"]], ["longer than an id may be", "s".repeat(1025)]];
const at = (second: number): string => `2026-01-01T00:00:0${second}Z`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-session-less-"));
  writeFileSync(join(dir, "p.policy"), POLICY);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What an enforcement point logs for session s, with a request whose `session` is as given in the middle. */
function decisionLog(session: unknown): string[] {
  const engine = compile([{ path: "p.policy", text: POLICY }]);
  const requests = [
    { time: at(0), session: "s", tool: "a.x", args: { n: 0 } },
    { time: at(1), ...(session === undefined ? {} : { session }), tool: "a.x", args: { n: 0 } },
    { time: at(2), session: "s", tool: "a.x", args: { n: 0 } },
    { time: at(3), session: "s", tool: "a.x", args: { n: 0 } },
  ];
  return requests.map((request) => {
    const decision = engine.decide(request);
    return JSON.stringify({ ...request, decision: decision.decision, rules: decision.rules, reason: decision.reasons[0], revoked: decision.revoked });
  });
}

describe("policyc test: a logged refusal of a request without a readable session id", () => {
  it("replays as production decided it, outside any session, on any number of threads and with --session", async () => {
    for (const [name, session] of SESSIONS) {
      const lines = decisionLog(session);
      // The refusal counted in no session: s reached `many` only at its third attempt.
      expect(lines.map((line) => JSON.parse(line).rules), name).toEqual([["ok"], [], ["ok"], ["many"]]);
      const path = join(dir, "log.jsonl");
      writeFileSync(path, lines.join("\n") + "\n");
      for (const jobs of ["1", "3"]) {
        const result = await cli(["test", join(dir, "p.policy"), "--replay", path, "--jobs", jobs]);
        expect(result.stdout, `${name}, --jobs ${jobs}`).toBe("4 lines replayed from 1 file\n4 passed, 0 failed\n");
        expect(result.code).toBe(0);
      }
      const one = await cli(["test", join(dir, "p.policy"), "--replay", path, "--session", "s"]);
      expect(one.stdout, name).toBe("3 lines replayed from 1 file\n3 passed, 0 failed\n");
    }
  });

  it("a failing one is reported with what it had for a session", async () => {
    const path = join(dir, "failing.jsonl");
    writeFileSync(path, JSON.stringify({ time: at(0), tool: "a.x", args: { n: 0 }, decision: "deny", rules: [], reason: "something else" }) + "\n" + JSON.stringify({ time: at(0), session: 7, tool: "a.x", args: { n: 0 }, decision: "deny", rules: [], reason: "x" }) + "\n");
    const result = await cli(["test", join(dir, "p.policy"), "--replay", path, "--reporter", "json"]);
    expect(result.code).toBe(1);
    const cases = (JSON.parse(result.stdout) as { failures: { session: string; actual: { reasons: string[] } }[] }).failures;
    expect(cases.map((c) => c.session)).toEqual(["(no session)", "(session: 7)"]);
    expect(cases[0]!.actual.reasons).toEqual(["request.session is missing: every request needs a session id string"]);
  });

  it("one whose id is too long is reported by its length and digest, not echoed whole", async () => {
    const path = join(dir, "long.jsonl");
    const line = (id: string): string => JSON.stringify({ time: at(0), session: id, tool: "a.x", args: { n: 0 }, decision: "allow" });
    writeFileSync(path, [line("a".repeat(20_000) + "1"), line("a".repeat(20_000) + "2"), line("a".repeat(1024))].join("\n") + "\n");
    const result = await cli(["test", join(dir, "p.policy"), "--replay", path, "--reporter", "json"]);
    expect(result.code).toBe(1);
    const cases = (JSON.parse(result.stdout) as { failures: { session: string; actual: { reasons: string[]; errors: string[] } }[] }).failures;
    // Shown by their length and digest: two such ids are two sessions still.
    const label = (id: string): string => `(session: "${"a".repeat(36)}… of 20,001 characters, SHA-256 ${createHash("sha256").update(id).digest("base64")})`;
    expect(cases.map((c) => c.session)).toEqual([label("a".repeat(20_000) + "1"), label("a".repeat(20_000) + "2")]);
    expect(cases[0]!.actual.errors).toEqual([`request.session must be a session id of at most 1,024 characters, not one of 20,001 ("${"a".repeat(77)}...")`]);
    expect(result.stdout.length).toBeLessThan(10_000); // (the ids alone are 40,000 characters)
  });

  it("a real session named like a label is not grouped with the lines that had none", async () => {
    const path = join(dir, "named.jsonl");
    const line = (session: unknown): string => JSON.stringify({ time: at(0), ...(session === undefined ? {} : { session }), tool: "a.x", args: { n: 0 }, decision: "deny", rules: [], reason: "x" });
    writeFileSync(path, [line("(no session)"), line(undefined), line("(session: 7)"), line(7)].join("\n") + "\n");
    const result = await cli(["test", join(dir, "p.policy"), "--replay", path, "--reporter", "json"]);
    expect(result.code).toBe(1);
    const cases = (JSON.parse(result.stdout) as { failures: { session: string }[] }).failures;
    expect(cases.map((c) => c.session)).toEqual(['(session: "(no session)")', "(no session)", '(session: "(session: 7)")', "(session: 7)"]);
  });

  it("a line that expects anything else, or is malformed besides, is still an input error", async () => {
    const path = join(dir, "malformed.jsonl");
    writeFileSync(path, ['{"session":12,"tool":"a.x","decision":"allow"}', '{"session":"","tool":"a.x","decision":"deny"}', '{"tool":"a.x"}', '{"tool":"a.x","decision":"deny","rules":[],"reason":5}', '{"event":"approval","tool":"a.x","approved":true}'].join("\n") + "\n");
    const result = await cli(["test", join(dir, "p.policy"), "--replay", path]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain('malformed.jsonl:1: error[PC602]: `session` must be a string: write it in quotes, "12"\n');
    expect(result.stdout).toContain('malformed.jsonl:2: error[PC602]: `session` must NOT have fewer than 1 characters (a line that records the engine refusing such a request replays with `"rules": []` beside its `"decision": "deny"`)\n');
    expect(result.stdout).toContain("malformed.jsonl:3: error[PC602]: the line has no `session`\n");
    expect(result.stdout).toContain('malformed.jsonl:4: error[PC602]: `reason` must be a string: write it in quotes, "5"\n');
    expect(result.stdout).toContain("malformed.jsonl:5: error[PC602]: the line has no `session`\n");
  });
});
