import { spawn, spawnSync } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileSources } from "../../src/compile/compile.js";
import type { CompiledPolicy } from "../../src/runtime/policy.js";
import { compileFixture } from "../helpers.js";
import { compareDecision, replayRecordings, type ListedCase, type ReplayOptions } from "../../src/testing/replay.js";
import { recordingSource } from "../../src/testing/recordingSource.js";

/** Every session may make two calls; the third and later are denied (session state decides). */
const POLICY = `agent {
  team: string
}

tool kb.search {
  risk low
  args { query: string }
}

tool email.send {
  args { to: list<string> }
}

policy p {
  @name("search")
  allow kb.search

  @name("search-support")
  allow kb.search
    when agent.team == "support"

  @name("mail")
  allow email.send

  @name("third-call")
  deny *
    when session.calls >= 2
    reason "at most two calls"

  @name("no-outside-mail")
  deny email.send
    when any(r in args.to: not (r like "*@acme.com"))
    reason "mail stays inside"
}
`;

let policy: CompiledPolicy;
let dir: string;
beforeAll(() => {
  policy = compileFixture(POLICY);
  dir = mkdtempSync(join(tmpdir(), "policyc-replay-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

interface Line {
  session: string;
  tool?: string;
  team?: string;
  args?: Record<string, unknown>;
  decision?: string;
  rules?: string[];
  reason?: string;
}

let counter = 0;
/** Writes a recording (one request per line) and returns its path. */
function recording(lines: readonly Line[]): string {
  const path = join(dir, `r${++counter}.jsonl`);
  const text = lines.map(({ session, tool = "kb.search", team = "sales", args, decision, rules, reason }) =>
    JSON.stringify({ session, agent: { team }, tool, args: args ?? (tool === "kb.search" ? { query: "q" } : { to: ["a@acme.com"] }), ...(decision ? { decision } : {}), ...(rules ? { rules } : {}), ...(reason !== undefined ? { reason } : {}) }),
  );
  writeFileSync(path, text.join("\n") + "\n");
  return path;
}

/** What differed: nothing for a passed case (listed in short). */
function mismatchesOf(c: ListedCase): readonly string[] {
  return c.ok ? [] : c.mismatches;
}

function replay(files: string[], options: ReplayOptions = {}) {
  return replayRecordings(policy, files, { listCases: true, ...options });
}

describe("replayRecordings", () => {
  it("replays files in the order given, lines in file order", async () => {
    const a = recording([{ session: "a1", decision: "allow" }, { session: "a2", decision: "allow" }]);
    const b = recording([{ session: "b1", decision: "allow" }]);
    const report = await replay([b, a]);
    expect(report.files).toEqual([b, a]);
    expect(report.cases.map((c) => [c.file, c.line])).toEqual([
      [b, 1],
      [a, 1],
      [a, 2],
    ]);
    expect([report.passed, report.failed, report.lines]).toEqual([3, 0, 3]);
  });

  it("keeps separate state per session", async () => {
    const file = recording([
      { session: "s1", decision: "allow" },
      { session: "s2", decision: "allow" },
      { session: "s1", decision: "allow" },
      { session: "s2", decision: "allow" },
      { session: "s1", decision: "deny", rules: ["third-call"] },
      { session: "s3", decision: "allow" },
    ]);
    const report = await replay([file]);
    expect(report.failures).toEqual([]);
    expect(report.passed).toBe(6);
  });

  it("keeps separate state per file: a session id in the next file starts fresh", async () => {
    const first = recording([{ session: "s" }, { session: "s" }, { session: "s", decision: "deny", rules: ["third-call"] }]);
    const second = recording([{ session: "s", decision: "allow", rules: ["search"] }]);
    const report = await replay([first, second]);
    expect(report.failures).toEqual([]);
    // Both pass: deny for the third call in the first file, allow for the first in the second.
    expect(report.cases.map((c) => [c.line, c.ok])).toEqual([
      [3, true],
      [1, true],
    ]);
  });

  it("lines without expectations still advance the session state", async () => {
    const file = recording([{ session: "s" }, { session: "s" }, { session: "s", decision: "deny", rules: ["third-call"], reason: "at most two calls" }]);
    const report = await replay([file]);
    expect(report.lines).toBe(3);
    expect(report.cases).toHaveLength(1);
    expect(report.cases[0]!).toMatchObject({ line: 3, ok: true });
  });

  it("with a session filter, only that session runs, and its state is the same", async () => {
    const file = recording([{ session: "x" }, { session: "y" }, { session: "x" }, { session: "y", decision: "allow" }, { session: "x", decision: "deny" }]);
    const report = await replay([file], { session: "x" });
    expect(report.lines).toBe(3);
    expect(report.cases.map((c) => [c.line, c.ok])).toEqual([[5, true]]);
  });

  it("compares `rules` as a set", async () => {
    const file = recording([
      { session: "a", team: "support", decision: "allow", rules: ["search-support", "search"] },
      { session: "b", team: "support", decision: "allow", rules: ["search", "search-support"] },
      { session: "c", team: "support", decision: "allow", rules: ["search"] },
      { session: "d", team: "support", decision: "allow", rules: ["search", "search-support", "mail"] },
      { session: "e", team: "support", decision: "allow" },
    ]);
    const report = await replay([file]);
    expect(report.cases.map((c) => [c.line, c.ok, mismatchesOf(c)])).toEqual([
      [1, true, []],
      [2, true, []],
      [3, false, ["rules"]],
      [4, false, ["rules"]],
      [5, true, []],
    ]);
  });

  it("compares `reason` as text: one deciding rule's reason, or all of them joined with `; `", async () => {
    const outside = { tool: "email.send", args: { to: ["eve@evil.example"] } };
    const file = recording([
      { session: "a", ...outside, decision: "deny", reason: "mail stays inside" },
      { session: "b", ...outside, decision: "deny", reason: "Mail stays inside" },
      { session: "c", ...outside, decision: "deny", reason: "mail stays" },
      { session: "d" },
      { session: "d" },
      { session: "d", ...outside, decision: "deny", reason: "at most two calls; mail stays inside" },
      { session: "e" },
      { session: "e" },
      { session: "e", ...outside, decision: "deny", reason: "at most two calls" },
      { session: "f", decision: "deny", reason: "" },
    ]);
    const report = await replay([file]);
    expect(report.cases.map((c) => [c.line, mismatchesOf(c)])).toEqual([
      [1, []],
      [2, ["reason"]],
      [3, ["reason"]],
      [6, []],
      [9, []],
      [10, ["decision", "reason"]],
    ]);
  });

  it("counts coverage per deciding rule and keeps only failures unless asked", async () => {
    const file = recording([{ session: "a", decision: "allow" }, { session: "b", decision: "deny" }]);
    const report = await replayRecordings(policy, [file]);
    expect(report.cases).toEqual([]);
    expect(report.failures.map((f) => f.line)).toEqual([2]);
    expect(report.failures[0]!.explanation).toContain("search");
    expect(report.ruleIds).toEqual(["search", "search-support", "mail", "third-call", "no-outside-mail"]);
    // The failed line 2 covers nothing: the rule that decided it is not what it expects.
    expect(Object.fromEntries(report.coverage)).toEqual({ search: 1, "search-support": 0, mail: 0, "third-call": 0, "no-outside-mail": 0 });
    expect(Object.fromEntries(report.unasserted)).toEqual({ search: 0, "search-support": 0, mail: 0, "third-call": 0, "no-outside-mail": 0 });
  });

  it("a failure explains the rules that decided and, labelled, the rules the line expected that did not", async () => {
    const file = recording([
      { session: "a", tool: "email.send", args: { to: ["bob@acme.com", "eve@evil.example"] }, decision: "allow", rules: ["mail"] },
      { session: "b", tool: "email.send", args: { to: ["eve@evil.example"] }, decision: "allow", rules: ["search"] },
    ]);
    const report = await replayRecordings(policy, [file]);
    expect(report.failures.map((f) => f.explanation)).toEqual([
      'no-outside-mail: `any(r in args.to: not (r like "*@acme.com"))` was true for args.to[1] = "eve@evil.example"\nthe expected rule mail (allow) matched: no condition: it always matches',
      'no-outside-mail: `any(r in args.to: not (r like "*@acme.com"))` was true for args.to[0] = "eve@evil.example"\nthe expected rule search is not one of the rules for email.send',
    ]);
  });

  it("a rule an evaluation error decided is said to have matched because of it, in the words eval uses", async () => {
    const compiled = compileSources([
      {
        path: "e.policy",
        text: 'user { id: string, roles: set<string> }\ntool kb.search { risk low args { query: string } }\ntool email.send { risk high args { to: list<string> } }\npolicy e {\n  @name("contractors") ask kb.search unless "employee" in user.roles\n  allow kb.search\n  @name("admins") allow email.send when "admin" in user.roles\n}\n',
      },
    ]);
    const file = recording([
      { session: "a", decision: "allow" },
      { session: "b", tool: "email.send", decision: "allow" },
    ]);
    const report = await replayRecordings(compiled.policy!, [file]);
    expect(report.failures.map((f) => f.explanation)).toEqual([
      // (The lines' `agent`, which these policies do not declare, is named as ignored.)
      'contractors matched because its condition could not be evaluated (fails closed): unless `"employee" in user.roles` failed: the request has no user\nignored, as the policies do not declare them (no rule saw them): agent',
      // No rule decided: every rule considered, an allow that failed as eval says it.
      'admins (allow) could not be evaluated: `"admin" in user.roles` failed: the request has no user\nignored, as the policies do not declare them (no rule saw them): agent',
    ]);
  });

  it("counts coverage of decisions made for one line too: in a revoked session, with evaluation errors", async () => {
    const compiled = compileSources([
      {
        path: "r.policy",
        text: `agent { team: string }\nuser { id: string }\ntool kb.search { args { query: string } }\npolicy r {\n  @name("kill") deny kb.search when args.query == "kill" revoke\n  @name("needs-user") deny kb.search when user.id == "x"\n  @name("ok") allow kb.search\n}\n`,
      },
    ]);
    const line = (query: string, user?: object): string => JSON.stringify({ session: "s", agent: { team: "t" }, ...(user ? { user } : {}), tool: "kb.search", args: { query } });
    const file = join(dir, "revoked.jsonl");
    // No user: `needs-user` fails closed (an error, so a decision of its own); then a revocation and two denied lines.
    writeFileSync(file, [line("a"), line("b", { id: "u" }), line("kill", { id: "u" }), line("c", { id: "u" }), line("d", { id: "u" })].join("\n") + "\n");
    const report = await replayRecordings(compiled.policy!, [file]);
    // The lines expect nothing: counted apart, as lines without expectations, not as covered.
    expect(Object.fromEntries(report.unasserted)).toEqual({ kill: 3, "needs-user": 1, ok: 1 });
    expect(Object.fromEntries(report.coverage)).toEqual({ kill: 0, "needs-user": 0, ok: 0 });
    // The same lines expecting what they get: covered.
    const expected = join(dir, "revoked-expected.jsonl");
    const decisions = [["deny", ["needs-user"]], ["allow", ["ok"]], ["deny", ["kill"]], ["deny", ["kill"]], ["deny", ["kill"]]] as const;
    writeFileSync(expected, readFileSync(file, "utf8").trimEnd().split("\n").map((l, i) => l.replace(/\}$/, `,"decision":"${decisions[i]![0]}","rules":${JSON.stringify(decisions[i]![1])}}`)).join("\n") + "\n");
    const asserted = await replayRecordings(compiled.policy!, [expected]);
    expect(asserted.failures).toEqual([]);
    expect(Object.fromEntries(asserted.coverage)).toEqual({ kill: 3, "needs-user": 1, ok: 1 });
  });

  it("reports malformed lines and unreadable files as errors, and keeps going", async () => {
    const file = join(dir, "mixed.jsonl");
    writeFileSync(file, ['{"session":"s","agent":{"team":"x"},"tool":"kb.search","args":{"query":"q"},"decision":"allow"}', "not json", "", '{"session":"s","tool":"no.such","agent":{"team":"x"},"args":{},"decision":"deny"}'].join("\n"));
    const report = await replay([file, join(dir, "missing.jsonl")]);
    expect(report.errors.map((e) => [e.line, e.kind])).toEqual([
      [2, "input"],
      [4, "mismatch"],
      [null, "input"],
    ]);
    expect(report.errors[1]!.message).toContain("`no.such`");
    expect(report.errors[2]!.message).toBe("no such file or folder");
    // The line naming an undeclared tool is an error, not a case as well.
    expect(report.passed).toBe(1);
  });

  it("a named pipe is replayed once, like the same lines in a file, and explained; `update` cannot rewrite it and says so", async () => {
    const file = recording([{ session: "a", decision: "allow" }, { session: "a", decision: "deny" }, { session: "a", decision: "allow" }]);
    const fromFile = await replay([file]);
    for (const update of [false, true]) {
      // A pipe each: one whose last reader is still closing would take the next writer's bytes.
      const fifo = join(dir, `pipe${++counter}`);
      expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
      const writer = spawn("sh", ["-c", `cat "${file}" > "${fifo}"`]);
      const written = once(writer, "exit");
      const report = await replay([fifo], { update });
      await written;
      expect(report.lines).toBe(3);
      expect([report.passed, report.failed]).toEqual([fromFile.passed, fromFile.failed]);
      expect(report.failures.map((f) => [f.line, f.explanation])).toEqual(fromFile.failures.map((f) => [f.line, f.explanation]));
      expect(report.failures[0]!.explanation).toBeDefined();
      expect(report.errors).toEqual(update ? [{ file: fifo, line: null, message: "cannot update it: it is standard input, a pipe or a device, not a file that can be rewritten", kind: "input", code: "PC604" }] : []);
      expect(report.notUpdated).toEqual(update ? [fifo] : []);
    }
  });

  it("a piped recording is copied into a folder of its own, up to a size: past it, a clear error and nothing left behind", async () => {
    const fifo = join(dir, `pipe${++counter}`);
    expect(spawnSync("mkfifo", [fifo]).status).toBe(0);
    const temp = mkdtempSync(join(dir, "tmp-"));
    const before = process.env["TMPDIR"];
    process.env["TMPDIR"] = temp;
    try {
      const writer = spawn("sh", ["-c", `head -c 5000 /dev/zero > "${fifo}"`]);
      const written = once(writer, "exit");
      const source = await recordingSource(fifo, ".", 1024 * 1024 * 0.001);
      await written;
      expect(source.error).toBe("it is larger than 0.001 MB, more than a piped recording may be: save it to a file and replay that");
      expect(readdirSync(temp)).toEqual([]);
      // Within the size: a copy inside a folder made for it, removed by release(). (Another pipe:
      // the first may still have its reader, closing, which would take these bytes with it.)
      const other = join(dir, `pipe${++counter}`);
      expect(spawnSync("mkfifo", [other]).status).toBe(0);
      const small = spawn("sh", ["-c", `printf '{}\\n' > "${other}"`]);
      const smallWritten = once(small, "exit");
      const copy = await recordingSource(other, ".");
      await smallWritten;
      expect(copy.error).toBeUndefined();
      expect(readFileSync(copy.path, "utf8")).toBe("{}\n");
      expect(copy.path.startsWith(join(temp, "policyc-"))).toBe(true);
      copy.release();
      expect(readdirSync(temp)).toEqual([]);
    } finally {
      if (before === undefined) delete process.env["TMPDIR"];
      else process.env["TMPDIR"] = before;
    }
  });

  it("reads relative paths from `cwd`", async () => {
    const file = recording([{ session: "a", decision: "allow" }]);
    const report = await replay([file.slice(dir.length + 1)], { cwd: dir });
    expect(report.errors).toEqual([]);
    expect(report.passed).toBe(1);
  });
});

describe("compareDecision", () => {
  const decision = { decision: "deny" as const, rules: ["a", "b"], reasons: ["ra", "rb"], grants: [], revoked: false, errors: [] };
  it("compares the decision, rules as a set, and reason as text", () => {
    expect(compareDecision({ decision: "deny" }, decision as never)).toEqual([]);
    expect(compareDecision({ decision: "allow" }, decision as never)).toEqual(["decision"]);
    expect(compareDecision({ decision: "deny", rules: ["b", "a"] }, decision as never)).toEqual([]);
    expect(compareDecision({ decision: "deny", rules: ["a"] }, decision as never)).toEqual(["rules"]);
    expect(compareDecision({ decision: "deny", reason: "rb" }, decision as never)).toEqual([]);
    expect(compareDecision({ decision: "deny", reason: "ra; rb" }, decision as never)).toEqual([]);
    expect(compareDecision({ decision: "deny", reason: "r" }, decision as never)).toEqual(["reason"]);
  });
});
