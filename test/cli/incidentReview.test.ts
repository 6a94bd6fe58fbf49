import { spawnSync } from "node:child_process";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { contentHash } from "../../src/bundle/index.js";
import type { BundleContent } from "../../src/runtime/contentHash.js";
import { cli } from "../helpers.js";

/** The review of the incident-response fixes (reviewer r4, session 16): each finding's case. */
let dir: string;
const run = (args: string[], stdin?: string) => cli(args, { cwd: dir, ...(stdin !== undefined ? { stdin } : {}) });
const write = (name: string, text: string): void => writeFileSync(join(dir, name), text);

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-review-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("diff of a bundle built before durations were marked in the IR (0.6.0)", () => {
  const HEAD = `agent { id: string }\ntool t.run { risk low args { timeout: duration, n: string } }\npolicy p {\n`;
  const OLD = `  allow t.run when agent.id == "a"\n  deny t.run when args.timeout > 90s reason "too long"\n  deny t.run when args.n == "bad" reason "bad n"\n}\n`;
  const NEW = `  deny t.run when args.n == "evil" reason "evil n"\n` + OLD;
  const requests = [1000, 100_000].flatMap((timeout) => ["ok", "evil", "bad"].map((n) => JSON.stringify({ session: `s${n}${timeout}`, tool: "t.run", agent: { id: "a" }, args: { timeout, n } })));

  it("pairs the renumbered duration rule with the same rule, not an edited one", async () => {
    mkdirSync(join(dir, "pos-old"));
    mkdirSync(join(dir, "pos-new"));
    write("pos-old/p.policy", HEAD + OLD);
    write("pos-new/p.policy", HEAD + NEW);
    write("pos.jsonl", requests.join("\n") + "\n");
    expect((await run(["build", "pos-old", "-o", "old.json"])).code).toBe(0);
    // A 0.6.0 bundle: its IR has no `unit`.
    const bundle = readFileSync(join(dir, "old.json"), "utf8");
    const unit = /,\s*"unit": "duration"/g;
    expect(bundle).toMatch(unit);
    const old060 = JSON.parse(bundle.replace(unit, "")) as BundleContent & { manifest: { contentHash: string } };
    old060.manifest.contentHash = contentHash(old060);
    write("old060.json", JSON.stringify(old060, null, 2));
    for (const old of ["old.json", "old060.json"]) {
      const result = await run(["diff", old, "pos-new", "--replay", "pos.jsonl", "--rule-changes"]);
      expect(result.stderr).toBe("");
      expect(result.stdout).toContain("+p/1  2 changes");
      expect(result.stdout).not.toContain("~p/1");
      // The renumbering p/2 → p/3 is no change of decision.
      expect(result.stdout).not.toContain("p/2 → p/3");
    }
  });
});

const DURATIONS = `agent { id: string }
context { waits: list<duration>, g: set<string>, groups: list<set<string>> }
tool t.run { risk low args { timeout: duration } }
policy p {
  @name("base")
  allow t.run when agent.id == "a"
  @name("waits")
  deny t.run when args.timeout in context.waits reason "waits"
  @name("grp")
  deny t.run when context.g in context.groups reason "group"
}
`;
type Operand = { whole?: string };
type EvalJson = { explanation: { rules: { id: string; clauses: { evidence: { value?: unknown; lookedUp?: { members: number; index: number | null }; left: Operand; right: Operand }[] }[] }[] } };

describe("eval --json of a long collection of durations", () => {
  it("gives `whole` as JSON, each duration its text as a string", async () => {
    write("d.policy", DURATIONS);
    const waits = Array.from({ length: 300 }, (_, i) => (i + 1) * 1000);
    const request = { session: "s", tool: "t.run", agent: { id: "a" }, args: { timeout: 120_000 }, context: { waits, g: [], groups: [] } };
    const result = await run(["eval", "d.policy", "-r", "-", "--json"], JSON.stringify(request));
    const json = JSON.parse(result.stdout) as EvalJson;
    const evidence = json.explanation.rules.find((r) => r.id === "waits")!.clauses[0]!.evidence[0]!;
    const whole = JSON.parse(evidence.right.whole!) as string[];
    expect(whole).toHaveLength(300);
    expect(whole.slice(0, 2)).toEqual(["1s", "2s"]);
    expect(whole[119]).toBe("2m");
    expect(evidence.lookedUp).toEqual({ members: 300, index: 119 });
  });
});

describe("a membership shown cut, found by the language's equality", () => {
  it("gives the member the test found: a set equal in another order", async () => {
    write("d.policy", DURATIONS);
    const groups = [...Array.from({ length: 100 }, (_, i) => [`x${i}`, `y${i}`]), ["b", "a"]];
    const request = { session: "s", tool: "t.run", agent: { id: "a" }, args: { timeout: 1000 }, context: { waits: [], g: ["a", "b"], groups } };
    const json = JSON.parse((await run(["eval", "d.policy", "-r", "-", "--json"], JSON.stringify(request))).stdout) as EvalJson;
    const evidence = json.explanation.rules.find((r) => r.id === "grp")!.clauses[0]!.evidence[0]!;
    expect(evidence.value).toBe(true);
    expect(evidence.lookedUp).toEqual({ members: 101, index: 100 });
    const text = await run(["eval", "d.policy", "-r", "-"], JSON.stringify(request));
    expect(text.stdout).not.toContain("none of");
    expect(text.stdout).toContain("context.groups[100]");
  });
});

describe("a rotated log with many continued sessions", () => {
  it("gives one note for the recording, within its notes, naming a few sessions and counting the rest", async () => {
    write("twice.policy", `agent { id: string }\ntool t.run { risk low args { n: string } }\npolicy p {\n  @name("base")\n  allow t.run when agent.id == "a"\n  @name("again")\n  deny t.run when session.count(within 1h) >= 2 reason "again"\n}\n`);
    const at = (time: string, i: number, decision: string, rules: string[]) => JSON.stringify({ session: `s${i}`, tool: "t.run", agent: { id: "a" }, args: { n: "x" }, time: `2026-11-30T${time}Z`, decision, rules });
    const ids = Array.from({ length: 150 }, (_, i) => i);
    write("rot-a.jsonl", ids.map((i) => at("10:00:00", i, "allow", ["base"])).join("\n") + "\n");
    write("rot-b.jsonl", ids.map((i) => at("10:00:30", i, "deny", ["again"])).join("\n") + "\n");
    const result = await run(["test", "twice.policy", "--replay", "rot-a.jsonl", "rot-b.jsonl", "--reporter", "json"]);
    expect(result.code).toBe(1);
    const json = JSON.parse(result.stdout) as { notes: { file: string; line: number; message: string }[]; notesLeftOut: number };
    const rotated = json.notes.filter((n) => n.message.includes("earlier recordings"));
    expect(rotated).toHaveLength(1);
    expect(rotated[0]!.line).toBe(1);
    expect(rotated[0]!.message).toMatch(/^sessions s0 \(its last line in rot-a\.jsonl at 2026-11-30T10:00:00\.000Z\), s1 \(.*\), s2 \(.*\) and \d+ more have lines in earlier recordings too/);
    expect(json.notes.filter((n) => n.file === "rot-b.jsonl").length).toBeLessThanOrEqual(20);
  });

  it("names standard input as such when the earlier recording was read from it (review rx #3)", () => {
    const at = (time: string, decision: string, rules: string[]) => JSON.stringify({ session: "s1", tool: "t.run", agent: { id: "a" }, args: { n: "x" }, time: `2026-11-30T${time}Z`, decision, rules });
    write("rot-c.jsonl", at("10:00:30", "deny", ["again"]) + "\n");
    write("rot-stdin.jsonl", at("10:00:00", "allow", ["base"]) + "\n");
    const bin = fileURLToPath(new URL("../../bin/policyc.js", import.meta.url));
    for (const reporter of ["json", "pretty"]) {
      // Standard input redirected from a file (a pipe's copy is not read again for the note).
      const input = openSync(join(dir, "rot-stdin.jsonl"), "r");
      const result = spawnSync(process.execPath, [bin, "test", "twice.policy", "--replay", "-", "rot-c.jsonl", "--reporter", reporter], { cwd: dir, stdio: [input, "pipe", "pipe"], encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      closeSync(input);
      expect(result.status).toBe(1);
      expect(result.stdout + result.stderr).toContain("session s1 has lines in standard input (its last line there at 2026-11-30T10:00:00.000Z)");
      expect(result.stdout + result.stderr).not.toMatch(/\\u0000|\0/);
    }
  });
});

const RATE_POLICY = `agent { id: string }
tool http.get { risk low args { url: string } }
policy gw {
  @name("base")
  allow * when agent.id == "a1"
  @name("rate")
  deny * when session.count(within 1m) > 3 reason "more than 3 calls a minute" revoke
}
`;
const logLine = (time: string | null, session: string, logged: Record<string, unknown>) =>
  JSON.stringify({ agent: { id: "a1" }, ...(time === null ? {} : { time: `2026-11-30T${time}Z` }), session, tool: "http.get", args: { url: "https://x.example/" }, grants: [], revoked: false, ...logged });
const ALLOWED = { decision: "allow", rules: ["base"] };

describe("eval of a log up to a line (head -n N LOG | policyc eval … -r -)", () => {
  it("says nothing when the line is its session's first and the replay agrees with the log", async () => {
    write("rate.policy", RATE_POLICY);
    const result = await run(["eval", "rate.policy", "-r", "-"], logLine("10:00:00", "s1", ALLOWED));
    expect(result.stdout.split("\n")[0]).toBe("allow http.get (session s1)");
    expect(result.stderr).toBe("");
  });

  it("notes the first 20 differing history lines, then how many more", async () => {
    write("rate.policy", RATE_POLICY);
    const lines = Array.from({ length: 30 }, (_, i) => logLine(`10:${String(10 + i).padStart(2, "0")}:00`, `h${i}`, { decision: "ask", rules: [] }));
    const result = await run(["eval", "rate.policy", "-r", "-"], [...lines, logLine("11:00:00", "z", ALLOWED)].join("\n"));
    const notes = result.stderr.split("\n").filter((l) => l.startsWith("policyc eval: note: standard input:"));
    expect(notes).toHaveLength(20);
    expect(result.stderr).toContain("policyc eval: note: and 10 more history lines differ from the log");
  });
});

describe("a session revoked by an undated request", () => {
  it("says no time for the revocation (the replay's clock is not production's)", async () => {
    const strict = RATE_POLICY.replace("> 3", "> 2");
    write("strict.policy", strict);
    const undated = [0, 1, 2].map(() => logLine(null, "u", ALLOWED));
    undated.push(logLine(null, "u", { decision: "deny", rules: ["rate"], revoked: true }));
    // Expected allowed: fails, explained by the revocation.
    write("undated.jsonl", [...undated, logLine(null, "u", ALLOWED)].join("\n") + "\n");
    const result = await run(["test", "strict.policy", "--replay", "undated.jsonl"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("because the session was revoked by rate (strict.policy:");
    expect(result.stdout).not.toMatch(/revoked at \d/);
    const history = await run(["eval", "strict.policy", "-r", "-"], [...undated, logLine(null, "u", {})].join("\n"));
    expect(history.stdout).toMatch(/the session was revoked by rate \(strict\.policy:\d+:\d+\) on http\.get/);
  });
});

describe("a log line's recorded rules against the replay's", () => {
  it("compares them as sets: [rate, rate] is not [rate, loop]", async () => {
    write("two.policy", RATE_POLICY.replace(/}\n$/, '  @name("loop")\n  deny * when session.count(within 1m) > 3 reason "loop" revoke\n}\n'));
    const lines = [0, 1, 2].map((i) => logLine(`10:00:0${i}`, "t", ALLOWED));
    const result = await run(["eval", "two.policy", "-r", "-"], [...lines, logLine("10:00:03", "t", { decision: "deny", rules: ["rate", "rate"], revoked: true })].join("\n"));
    expect(result.stdout.split("\n")[4]).toBe("deny http.get (session t)");
    expect(result.stderr).toContain("the log says deny [rate, rate], revoked; this replay gives deny [rate, loop], revoked");
  });
});
