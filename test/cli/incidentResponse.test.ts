import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { cli } from "../helpers.js";

/**
 * Explaining a decision log after an incident (auditor a1, session 16): a forgotten revocation,
 * a line explained without its history, a rotated log, where a revocation happened, durations,
 * a membership hidden by a cut, a logged refusal's reason, a change that revokes.
 */
let dir: string;

const DECLS = `enum Label { public, secret }
agent { id: string }
context { labels: set<Label>, known_for: duration, allowed: list<string> }
tool http.get { risk low args { url: string } }
tool fs.read { risk low returns secret args { path: string } }
tool shell.run { risk high args { cmd: string } }
intent dev { tools http.get, fs.read, shell.run max_risk high }
`;
const RULES = (rate: number, repeats: number): string => `policy gw {
  @name("base")
  allow * when agent.id == "a1"

  @name("rate")
  deny * when session.count(within 1m) > ${rate}
    reason "more than ${rate} calls a minute"
    revoke

  @name("loop")
  deny * when session.repeats >= ${repeats}
    reason "same call three times"
    revoke

  @name("old")
  ask shell.run when session.age > 1m and context.known_for < 30d reason "old session, new context"

  @name("listed")
  deny http.get when not (args.url in context.allowed) reason "not listed"
}
`;

/** A line as the sample gateway logs it. */
// A long list of the request's, so its shown value is cut.
const ALLOWED = Array.from({ length: 12 }, (_, i) => `https://long-host-name-${i}.example.com/`);

function line(time: string, session: string, tool: string, args: Record<string, unknown>, logged: Record<string, unknown>, extra: Record<string, unknown> = {}): string {
  return JSON.stringify({ agent: { id: "a1" }, context: { labels: [], known_for: 3_600_000, allowed: ALLOWED }, intent: "dev", time: `2026-11-30T${time}Z`, session, tool, args, grants: [], revoked: false, ...logged, ...extra });
}
const allowed = { decision: "allow", rules: ["base"] };

/** Production forgot the revocation after an hour (revokedSessionMs): the last call was allowed. */
const FORGOTTEN = [
  line("10:00:00", "s3", "fs.read", { path: "/a" }, allowed),
  line("10:00:30", "s3", "fs.read", { path: "/a" }, allowed),
  line("10:01:10", "s3", "fs.read", { path: "/a" }, { decision: "deny", rules: ["loop"], revoked: true }),
  line("10:01:20", "s3", "http.get", { url: ALLOWED[5] }, { decision: "deny", rules: ["loop"], revoked: true }),
  line("14:00:00", "s3", "http.get", { url: ALLOWED[6] }, allowed),
];
/** Four calls a minute: the fourth revokes under `rate` 3. */
const RATE = [
  line("10:00:00", "s1", "http.get", { url: ALLOWED[0] }, allowed),
  line("10:00:10", "s1", "http.get", { url: ALLOWED[1] }, allowed),
  line("10:00:20", "s1", "http.get", { url: ALLOWED[2] }, allowed),
  line("10:01:00", "s1", "http.get", { url: ALLOWED[3] }, { decision: "deny", rules: ["rate"], revoked: true }),
  line("10:01:05", "s1", "http.get", { url: ALLOWED[4] }, { decision: "deny", rules: ["rate"], revoked: true }),
];

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-incident-"));
  const write = (name: string, text: string): void => writeFileSync(join(dir, name), text);
  for (const [folder, rate, repeats] of [["p0", 5, 5], ["p1", 3, 2]] as const) {
    write(`${folder}.policy`, `${DECLS}\n${RULES(rate, repeats)}`);
  }
  write("forgotten.jsonl", FORGOTTEN.join("\n") + "\n");
  write("rate.jsonl", RATE.join("\n") + "\n");
  write("rot1.jsonl", RATE.slice(0, 3).join("\n") + "\n");
  write("rot2.jsonl", RATE.slice(3).join("\n") + "\n");
  write("skew.jsonl", line("10:00:00", "k", "fs.read", { path: "/a" }, { decision: "deny", rules: [], reasons: ["request.time is 11.4 hours behind the engine's clock, more than maxTimeSkewMs (1 minute) allows"] }) + "\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const run = (args: string[], stdin?: string) => cli(args, { cwd: dir, ...(stdin !== undefined ? { stdin } : {}) });

describe("a revocation production forgot (revokedSessionMs)", () => {
  it("test notes the engine options, and says where and when the session was revoked", async () => {
    const result = await run(["test", "p1.policy", "--replay", "forgotten.jsonl"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("note: forgotten.jsonl:5: its outcome can depend on the engine options");
    expect(result.stdout).toMatch(/because the session was revoked at 2026-11-30T10:01:10\.000Z by loop \(p1\.policy:\d+:\d+\) on fs\.read: every later attempt is denied \(the revoking attempt is line 3\)/);
    const same = await run(["test", "p1.policy", "--replay", "forgotten.jsonl", "--revoked-session", "1h", "--expired-session", "1h"]);
    expect(same.code).toBe(0);
  });

  it("eval of the whole log says the last line differs from the log, with the same note", async () => {
    const result = await run(["eval", "p1.policy", "-r", "forgotten.jsonl"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toContain("policyc eval: note: forgotten.jsonl:5 (the last): the log says allow [base]; this replay gives deny [loop], revoked\n");
    expect(result.stderr).toContain("policyc eval: note: its outcome can depend on the engine options");
    // The note says it is revoked already: not said again, as on the revoking call.
    expect(result.stdout).not.toContain("the session is revoked");
  });
});

describe("eval of one log line", () => {
  it("says the line records another decision, and that its session had no history", async () => {
    const result = await run(["eval", "p1.policy", "-r", "-"], RATE[3]);
    expect(result.stdout.split("\n")[0]).toBe("allow http.get (session s1)");
    expect(result.stderr).toBe(
      "policyc eval: note: the request: the log says deny [rate], revoked; this replay gives allow [base]\n" +
        "policyc eval: note: no history for session s1: its state starts empty here (no earlier calls, labels or revocation); to explain it as line N of a log FILE, give FILE up to that line: head -n N FILE | policyc eval … -r -\n",
    );
  });

  it("with the log up to it, agrees, and says nothing", async () => {
    const result = await run(["eval", "p1.policy", "-r", "-"], RATE.slice(0, 4).join("\n"));
    expect(result.stdout.split("\n")[0]).toBe("history of session s1: 3 earlier lines");
    expect(result.stdout.split("\n")[4]).toBe("deny http.get (session s1)");
    expect(result.stderr).toBe("");
  });

  it("compares the history's recorded decisions too", async () => {
    const result = await run(["eval", "p0.policy", "-r", "-"], RATE.slice(0, 5).join("\n"));
    expect(result.stderr).toContain("policyc eval: note: standard input:4: the log says deny [rate], revoked; this replay gives allow [base]\n");
    expect(result.stderr).not.toContain("no history");
  });

  it("a later call of a revoked session says when, by which rule and on which tool, and the rule's reason", async () => {
    const result = await run(["eval", "p1.policy", "-r", "-"], RATE.join("\n"));
    expect(result.stdout).toContain("  line 4, 2026-11-30T10:01:00Z: deny http.get by rate; revokes the session (rate): more than 3 calls a minute\n");
    expect(result.stdout).toMatch(/\ndeny http\.get \(session s1\)\n {2}the session was revoked at 2026-11-30T10:01:00\.000Z by rate \(p1\.policy:\d+:\d+\) on http\.get: every later attempt is denied\n {4}reason: more than 3 calls a minute\n$/);
  });
});

describe("explanations", () => {
  it("show durations as durations, and where a member is in a collection shown cut", async () => {
    const shell = line("10:02:30", "s1", "shell.run", { cmd: "ls" }, {});
    const result = await run(["eval", "p1.policy", "-r", "-"], [RATE[0], shell].join("\n"));
    // (With the line before it: the session's age names the attempt that started it.)
    expect(result.stdout).toContain("`session.age > 1m` was true (150s > 1m; session.age: first attempt at line 1, 2026-11-30T10:00:00Z)");
    expect(result.stdout).toContain("`context.known_for < 30d` was true (1h < 30d)");
    const listed = await run(["eval", "p1.policy", "-r", "-"], line("10:00:00", "s9", "http.get", { url: "https://long-host-name-7.example.com/" }, {}));
    expect(listed.stdout).toContain('context.allowed[7] is "https://long-host-name-7.example.com/"');
    const unlisted = await run(["eval", "p1.policy", "-r", "-", "--json"], line("10:00:00", "s9", "http.get", { url: "https://elsewhere.example/" }, {}));
    const json = JSON.parse(unlisted.stdout) as { explanation: { rules: { id: string; clauses: { evidence: { lookedUp?: unknown; left: { whole?: string }; right: { whole?: string } }[] }[] }[] } };
    const evidence = json.explanation.rules.find((r) => r.id === "listed")!.clauses[0]!.evidence[0]!;
    expect(evidence.lookedUp).toEqual({ members: 12, index: null });
    expect(JSON.parse(evidence.right.whole!)).toHaveLength(12);
    const text = await run(["eval", "p1.policy", "-r", "-"], line("10:00:00", "s9", "http.get", { url: "https://elsewhere.example/" }, {}));
    expect(text.stdout).toContain('"https://elsewhere.example/" is none of the 12 members of context.allowed');
  });
});

describe("test on a log production refused before any rule ran", () => {
  it("shows the logged reason, and no engine-options note for a skewed clock", async () => {
    const result = await run(["test", "p1.policy", "--replay", "skew.jsonl"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("        expected deny []; grants none; session not revoked\n          logged: request.time is 11.4 hours behind the engine's clock, more than maxTimeSkewMs (1 minute) allows\n");
    expect(result.stdout).not.toContain("engine options");
    const json = JSON.parse((await run(["test", "p1.policy", "--replay", "skew.jsonl", "--reporter", "json"])).stdout) as { failures: { logged?: string[] }[] };
    expect(json.failures[0]!.logged).toEqual(["request.time is 11.4 hours behind the engine's clock, more than maxTimeSkewMs (1 minute) allows"]);
  });
});

describe("a log rotated in the middle of a session", () => {
  it("test notes that the failing session has lines in the earlier recording", async () => {
    const result = await run(["test", "p1.policy", "--replay", "rot1.jsonl", "rot2.jsonl"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("note: rot2.jsonl:1: session s1 has lines in rot1.jsonl (its last line there at 2026-11-30T10:00:20.000Z) too: each recording replays from fresh sessions");
    const joined = await run(["test", "p1.policy", "--replay", "rate.jsonl"]);
    expect(joined.code).toBe(0);
  });
});

describe("diff", () => {
  it("says which change of effect revokes the session", async () => {
    const result = await run(["diff", "p0.policy", "p1.policy", "--replay", "rate.jsonl"]);
    expect(result.stdout).toContain("rate.jsonl:4  allow→deny  http.get (session s1)  more than 3 calls a minute; revokes the session\n");
    expect(result.stdout).toContain("rate.jsonl:5  allow→deny  http.get (session s1)  more than 3 calls a minute\n");
    const back = await run(["diff", "p1.policy", "p0.policy", "--replay", "rate.jsonl"]);
    expect(back.stdout).toContain("; no longer revokes the session\n");
  });
});
