import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../src/runtime/engine.js";
import { bin, cli, compileFixture } from "../helpers.js";

// The README's "Decision logs" recipe, followed by a gateway written here: which fields a line
// holds (the request's own, never the object an agent sent), and how a log that spans a hot
// reload (`sessionsFrom`) replays.

const OLD = `enum Label { pii }
tool crm.lookup { risk low returns pii args { id: string } }
tool email.send { risk high args { to: list<string> } }
tool kb.search { risk low args { query: string } }
tool shell.exec { risk high args { cmd: string } }
policy p {
  @name("ask-lookup") ask crm.lookup reason "customer records need a supervisor"
  @name("pii-stays-inside") deny email.send when session.labels contains pii and any(r in args.to: not (r like "*@acme.com")) reason "customer data stays inside"
  @name("mail") allow email.send
  @name("rate") deny kb.search when session.count(within 1h) > 100 reason "too many searches"
  @name("search") allow kb.search
  @name("shell-rm") deny shell.exec when args.cmd like "rm *" reason "destructive command" revoke
}
`;
/** The next version: one more rule, deciding none of the log's calls. */
const NEXT = OLD.replace('@name("search") allow kb.search', '@name("search") allow kb.search\n  @name("no-shutdown") deny shell.exec when args.cmd like "shutdown*" reason "no shutdowns"');
/** A version that renames the revoking rule. */
const RENAMED = OLD.replace('@name("shell-rm")', '@name("shell-destroy")');
/** A version that reads sessions otherwise (another `session.count` window). */
const REWINDOWED = OLD.replace("session.count(within 1h) > 100", "session.count(within 2h) > 100");

let dir: string;
const paths: Record<string, string> = {};
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-log-recipe-"));
  for (const [name, text] of Object.entries({ OLD, NEXT, RENAMED, REWINDOWED })) writeFileSync((paths[name] = join(dir, `${name}.policy`)), text);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Line = Record<string, unknown>;

/** A gateway as the README describes it: its clock stamps `time`; it logs each decision, each approval and each operator's revocation, to the log file of the moment. */
class Gateway {
  now = Date.UTC(2025, 0, 6, 9, 0);
  engine: Engine;
  log: Line[] = [];
  constructor(
    text: string,
    /** What the log holds of a request: the recipe's fields, or the object as the agent sent it. */
    private readonly logged: (request: Line) => Line = ownFields,
  ) {
    this.engine = new Engine(compileFixture(text), { clock: () => this.now });
  }
  /** The agent's call, as it sent it (extra top-level fields included); the gateway stamps `time`. */
  call(sent: Line): Line {
    this.now += 60_000;
    const request = { ...sent, time: new Date(this.now).toISOString() };
    const decision = this.engine.decide(request);
    this.log.push({ ...this.logged(request), decision: decision.decision, rules: decision.rules, reasons: decision.reasons });
    return { decision: decision.decision, rules: decision.rules };
  }
  approve(asked: Line): void {
    this.now += 60_000;
    const approval = { ...ownFields(asked), time: new Date(this.now).toISOString() };
    const approved = this.engine.approved(approval);
    this.log.push({ event: "approval", ...approval, approved });
  }
  /** An operator's revocation, logged as the README says: a revocation line, `time` stamped when `revoke` was called. */
  revoke(sessionId: string, reason: string): void {
    this.now += 60_000;
    const revokedAt = new Date(this.now).toISOString();
    const result = this.engine.revoke(sessionId, reason);
    this.log.push({ event: "revocation", time: revokedAt, session: sessionId, reason, outcome: result.outcome });
  }
  /** A hot reload: the new engine takes the sessions over; the log starts a new file (what was logged so far is returned). */
  reload(text: string): Line[] {
    this.engine = new Engine(compileFixture(text), { clock: () => this.now, sessionsFrom: this.engine });
    const before = this.log;
    this.log = [];
    return before;
  }
}

/** The recipe: the request's own fields, copied one by one. */
function ownFields(request: Line): Line {
  const fields = ["time", "session", "agent", "user", "intent", "tool", "args", "context"].filter((name) => name in request);
  return Object.fromEntries(fields.map((name) => [name, request[name]]));
}

let files = 0;
function file(lines: readonly Line[]): string {
  const path = join(dir, `log${++files}.jsonl`);
  writeFileSync(path, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
  return path;
}

const lookup = { session: "b", tool: "crm.lookup", args: { id: "42" } };
const mailOut = { session: "b", tool: "email.send", args: { to: ["eve@evil.example"] } };
const search = (session: string): Line => ({ session, tool: "kb.search", args: { query: "q" } });
const remove = { session: "a", tool: "shell.exec", args: { cmd: "rm -rf /" } };

describe("a decision log holds the request's own fields, not the object an agent sent", () => {
  // The agent's calls carry fields `decide` ignores, which a recording line reads as its own.
  const scenario = (gateway: Gateway): void => {
    gateway.call({ ...search("b"), reason: "looks fine" });
    gateway.call({ ...lookup, approved: true }); // ask: nobody approves it
    gateway.call(mailOut); // allowed: the session touched no customer data
  };

  it("logged field by field, the log replays green", async () => {
    const gateway = new Gateway(OLD);
    scenario(gateway);
    expect(gateway.log.map((l) => l["decision"])).toEqual(["allow", "ask", "allow"]);
    const result = await cli(["test", paths["OLD"]!, "--replay", file(gateway.log)]);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain("3 passed, 0 failed");
  });

  it("logged as sent, an agent's `reason` fails its line and its `\"approved\": true` replays an approval nobody gave", async () => {
    const gateway = new Gateway(OLD, (request) => request);
    scenario(gateway);
    const result = await cli(["test", paths["OLD"]!, "--replay", file(gateway.log)]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain('expected allow [search] ("looks fine")');
    // The replay approved the lookup: the session holds customer data, and the email is denied.
    expect(result.stdout).toMatch(/✗ line 3: email\.send[^\n]*\n\s+expected allow \[mail\]\n\s+actual\s+deny \[pii-stays-inside\]/);
  });
});

describe("an agent's own `event` on a request logged as sent", () => {
  it("is refused (PC602), never replayed as an operator's revocation of its session, also when the log is recorded without decisions and then updated", async () => {
    const gateway = new Gateway(OLD, (request) => request);
    gateway.call(search("b"));
    // The agent marks its own attempt as an operator's revocation, with a reason.
    gateway.call({ ...search("b"), event: "revocation", reason: "hi" });
    gateway.call(search("b"));
    // Recorded as sent, no decision yet: `--update` would write what the replay decides.
    const recorded = gateway.log.map(({ decision: _decision, rules: _rules, reasons: _reasons, ...sent }) => sent);
    const path = file(recorded);
    const result = await cli(["test", paths["OLD"]!, "--replay", path, "--update"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toMatch(/:2: error\[PC602\]: a revocation line \(`"event": "revocation"`\) names no tool: is this an attempt with an `event` field of its own\? /);
    // The line is left as it was (no `outcome` written into it), and the session was not revoked:
    // its next line is updated with the allow production gave, not an operator's revoked denial.
    const updated = readFileSync(path, "utf8").split("\n").map((line) => (line === "" ? undefined : (JSON.parse(line) as Line)));
    expect(updated[1]).toEqual(recorded[1]);
    expect([updated[0]?.["decision"], updated[2]?.["decision"], updated[2]?.["rules"]]).toEqual(["allow", "allow", ["search"]]);
    // With its decision logged, the same line is refused the same way.
    const logged = await cli(["test", paths["OLD"]!, "--replay", file(gateway.log)]);
    expect(logged.code).toBe(2);
    expect(logged.stdout).toMatch(/:2: error\[PC602\]: a revocation line \(`"event": "revocation"`\) names no tool: /);
  });
});

describe("an operator's revocation, logged as a revocation line", () => {
  it("replays green: the session's later lines are denied as in production; without the line they fail", async () => {
    const gateway = new Gateway(OLD);
    gateway.call(search("b"));
    gateway.revoke("b", "INC-4411: exfiltration suspected");
    gateway.call(search("b"));
    gateway.call(search("c"));
    expect(gateway.log.map((l) => l["outcome"] ?? l["decision"])).toEqual(["allow", "revoked", "deny", "allow"]);
    const result = await cli(["test", paths["OLD"]!, "--replay", file(gateway.log)]);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain("4 passed, 0 failed");
    const without = await cli(["test", paths["OLD"]!, "--replay", file(gateway.log.filter((l) => l["event"] === undefined))]);
    expect(without.code).toBe(1);
    expect(without.stdout).toMatch(/✗ line 2: kb\.search[^\n]*\n\s+expected deny \[\]\n\s+logged: revoked by an operator: "INC-4411: exfiltration suspected"\n\s+actual\s+allow \[search\]/);
  });
});

describe("a log that spans a hot reload: a new file at the reload, replayed after the old one", () => {
  /**
   * Before the reload: session a revoked, session b asked about a lookup. After it (on `next`):
   * the lookup approved, b's email out denied (its data joined the session), a still denied, c new.
   */
  function spanning(next: string): { before: string; after: string; afterLines: Line[]; gateway: Gateway } {
    const gateway = new Gateway(OLD);
    gateway.call(remove);
    gateway.call(search("b"));
    gateway.call(lookup);
    const before = gateway.reload(next);
    gateway.approve(lookup);
    gateway.call(mailOut);
    gateway.call(search("a"));
    gateway.call(search("b"));
    gateway.call(search("c"));
    return { before: file(before), after: file(gateway.log), afterLines: gateway.log, gateway };
  }
  const joined = (before: string, after: string): string => readFileSync(before, "utf8") + readFileSync(after, "utf8");

  it("the old log replays against the old policy; the new log alone misses the state the sessions carried over", async () => {
    const { before, after } = spanning(NEXT);
    const old = await cli(["test", paths["OLD"]!, "--replay", before]);
    expect(old.code, old.stdout).toBe(0);
    expect(old.stdout).toContain("3 passed, 0 failed");
    const alone = await cli(["test", paths["NEXT"]!, "--replay", after]);
    expect(alone.code).toBe(1);
    expect(alone.stdout).toContain("so no ask of it awaits approval"); // the ask was before the reload
    expect(alone.stdout).toMatch(/session a\n\s+✗ line 3/); // its revocation too
  });

  it("`cat before.jsonl after.jsonl | policyc test NEW --replay -` replays both exactly when NEW decides the old lines as OLD did", () => {
    const { before, after, afterLines } = spanning(NEXT);
    // What production answered after the reload: the approval accepted, the email denied, a still revoked.
    expect(afterLines.map((l) => l["approved"] ?? l["decision"])).toEqual([true, "deny", "deny", "allow", "allow"]);
    const result = bin(["test", paths["NEXT"]!, "--replay", "-"], { stdin: joined(before, after) });
    expect(result.code, result.stdout + result.stderr).toBe(0);
    expect(result.stdout).toContain("8 passed, 0 failed");
    const diff = bin(["diff", paths["OLD"]!, paths["NEXT"]!, "--rule-changes", "--exit-code", "--replay", before]);
    expect(diff.code, diff.stdout).toBe(0);
  });

  it("a session revoked before the reload is answered with the old policy's rule: a renamed revoking rule fails those lines, and diff names them", async () => {
    const { before, after, afterLines, gateway } = spanning(RENAMED);
    const revoked = afterLines.find((l) => l["session"] === "a")!;
    expect({ decision: revoked["decision"], rules: revoked["rules"] }).toEqual({ decision: "deny", rules: ["shell-rm"] });
    expect(gateway.engine.rule("shell-rm")).toBeUndefined();
    const result = await cli(["test", paths["RENAMED"]!, "--replay", file([...readLines(before), ...afterLines])]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("6 passed, 2 failed");
    expect(result.stdout.match(/expected deny \[shell-rm\]\n\s+actual\s+deny \[shell-destroy\]/g)).toHaveLength(2);
    const diff = await cli(["diff", paths["OLD"]!, paths["RENAMED"]!, "--rule-changes", "--replay", before]);
    expect(diff.stdout).toContain("deny→deny (rules)");
  });

  it("a reload to a policy that reads sessions otherwise ends running sessions as expired: the joined replay does not reproduce that", async () => {
    const { before, afterLines } = spanning(REWINDOWED);
    const b = afterLines.filter((l) => l["session"] === "b" && l["event"] === undefined);
    expect(b.map((l) => [l["decision"], l["rules"]])).toEqual([["deny", []], ["deny", []]]);
    expect(String(b[0]!["reasons"])).toContain("has ended: the policy was reloaded");
    const result = await cli(["test", paths["REWINDOWED"]!, "--replay", file([...readLines(before), ...afterLines])]);
    expect(result.code).toBe(1);
  });
});

function readLines(path: string): Line[] {
  return readFileSync(path, "utf8")
    .split("\n")
    .filter((l) => l !== "")
    .map((l) => JSON.parse(l) as Line);
}
