import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import { cli } from "../helpers.js";

// A decision log's line for a request that named no tool (missing, null, "", not a string) is a
// refusal like any other (`"decision": "deny", "rules": []`): the replay decides it, so it counts
// in its session as it did in production and in `policyc eval` (audit T, F1), and everything that
// shows a line's tool shows what it had instead.

const POLICY = `tool a.x { args { n: int } }
tool a.y { args { n: int } }
policy p {
  @name("many") deny * when session.calls >= 3
  @name("again") deny a.y when session.last == "a.x"
  @name("neg") deny * when args.n < 0 revoke
  @name("ok") allow a.x, a.y when args.n >= 0
}
`;
const TOOLS: readonly (readonly [string, unknown])[] = [["missing", undefined], ["null", null], ["empty", ""], ["a list", ["a.x"]], ["a number", 7]];
const at = (second: number): string => `2026-01-01T00:00:0${second}Z`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-tool-less-"));
  writeFileSync(join(dir, "p.policy"), POLICY);
  writeFileSync(join(dir, "keep.policy"), POLICY.replace(" revoke\n", "\n"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** The log an enforcement point writes for session s (and a neighbour t): a.x, a request with `tool` as given, a.y, a.x twice. */
function decisionLog(tool: unknown): string[] {
  const engine = compile([{ path: "p.policy", text: POLICY }]);
  const requests = [
    { time: at(0), session: "s", tool: "a.x", args: { n: 0 } },
    { time: at(1), session: "s", ...(tool === undefined ? {} : { tool }), args: { n: 0 } },
    { time: at(1), session: "t", tool: "a.x", args: { n: 0 } },
    { time: at(2), session: "s", tool: "a.y", args: { n: 0 } },
    { time: at(3), session: "s", tool: "a.x", args: { n: 0 } },
  ];
  return requests.map((request) => {
    const decision = engine.decide(request);
    return JSON.stringify({ ...request, decision: decision.decision, rules: decision.rules });
  });
}

describe("policyc test: a logged refusal of a request without a tool name", () => {
  it("replays as production decided it, counted in its session (calls, last), on any number of threads and with --session", async () => {
    for (const [name, tool] of TOOLS) {
      const lines = decisionLog(tool);
      // What the engine decided: the refusal counted, so session.last was "" for a.y, and the fourth attempt hit `many`.
      expect(lines.map((line) => JSON.parse(line).rules), name).toEqual([["ok"], [], ["ok"], ["ok"], ["many"]]);
      const path = join(dir, "log.jsonl");
      writeFileSync(path, lines.join("\n") + "\n");
      for (const jobs of ["1", "3"]) {
        const result = await cli(["test", join(dir, "p.policy"), "--replay", path, "--jobs", jobs]);
        expect(result.stdout, `${name}, --jobs ${jobs}`).toBe("5 lines replayed from 1 file\n5 passed, 0 failed\n");
        expect(result.code).toBe(0);
      }
      const one = await cli(["test", join(dir, "p.policy"), "--replay", path, "--session", "s"]);
      expect(one.stdout, name).toBe("4 lines replayed from 1 file\n4 passed, 0 failed\n");
      // eval of the same history agrees.
      writeFileSync(join(dir, "history.jsonl"), lines.filter((line) => JSON.parse(line).session === "s").map((line) => line.replace(/,"decision".*\}$/, "}")).join("\n") + "\n");
      const evaluated = await cli(["eval", join(dir, "p.policy"), "--request", join(dir, "history.jsonl"), "--json"]);
      expect(JSON.parse(evaluated.stdout), name).toMatchObject({ decision: "deny", rules: ["many"] });
    }
  });

  it("shows what the request had for a tool in every report, is found by it with --grep, and --update writes what production decided", async () => {
    const lines = decisionLog(null);
    const path = join(dir, "shown.jsonl");
    // Line 2 expects another reason, as a hand edit might: it fails, and is shown with its tool.
    writeFileSync(path, [lines[0], lines[1]!.replace(/\}$/, ',"reason":"no tool"}'), ...lines.slice(2)].join("\n") + "\n");
    const pretty = await cli(["test", join(dir, "p.policy"), "--replay", path]);
    expect(pretty.stdout).toContain("line 2: (tool: null) n=0");
    expect(pretty.code).toBe(1);
    for (const reporter of ["json", "junit", "tap", "github"]) {
      const result = await cli(["test", join(dir, "p.policy"), "--replay", path, "--reporter", reporter]);
      // (GitHub's annotations escape the colon.)
      expect(result.stdout, reporter).toContain(reporter === "json" ? '"tool": "(tool: null)"' : reporter === "github" ? "(tool%3A null) n=0" : "(tool: null) n=0");
    }
    const grep = await cli(["test", join(dir, "p.policy"), "--replay", path, "--grep", "(tool", "--reporter", "tap"]);
    // One test point (after the comment that names the policy set).
    expect(grep.stdout).toMatch(/^TAP version 13\n1\.\.1\n# policy: sha256:[0-9a-f]{64} from sources, policyc [^\n]*\nnot ok 1 - /);
    expect(grep.stdout.split(/^(?:not )?ok \d+ /m)).toHaveLength(2);
    const missing = join(dir, "missing.jsonl");
    writeFileSync(missing, decisionLog(undefined).join("\n") + "\n");
    expect((await cli(["test", join(dir, "p.policy"), "--replay", "missing.jsonl", "--grep", "(no tool)", "--reporter", "tap"], { cwd: dir })).stdout.replace(/^# policy: .*\n/m, "")).toBe("TAP version 13\n1..1\nok 1 - missing.jsonl:2 (no tool) n=0\n# 1 passed, 0 failed\n");
    // --update writes into the last line, which expects nothing yet, the deny production decided (not an allow).
    const update = join(dir, "update.jsonl");
    writeFileSync(update, [...lines.slice(0, -1), lines.at(-1)!.replace(',"decision":"deny","rules":["many"]', "")].join("\n") + "\n");
    await cli(["test", join(dir, "p.policy"), "--replay", update, "--update"]);
    expect(readFileSync(update, "utf8")).toBe(lines.join("\n") + "\n");
  });

  it("policyc diff shows it by what it had for a tool", async () => {
    const path = join(dir, "revoked.jsonl");
    // As a log of keep.policy has them: p.policy's `neg` revokes the session, keep.policy's does not.
    const line = (tool: unknown, n: number, second: number, rules: string): string => JSON.stringify({ time: at(second), session: "s", ...(tool === undefined ? {} : { tool }), args: { n } }).slice(0, -1) + `,"decision":"deny","rules":${rules}}`;
    writeFileSync(path, [line("a.x", -1, 0, '["neg"]'), line(null, 0, 1, "[]"), line(undefined, 0, 2, "[]")].join("\n") + "\n");
    const result = await cli(["diff", join(dir, "p.policy"), join(dir, "keep.policy"), "--replay", path]);
    expect(result.stdout).toContain("(tool: null) (session s)");
    expect(result.stdout).toContain("(no tool) (session s)");
    expect(result.code).toBe(0);
  });

  it("a line that expects anything else, or nothing, is malformed, with how a refusal is written", async () => {
    const path = join(dir, "malformed.jsonl");
    writeFileSync(path, ['{"session":"s","tool":null,"decision":"allow"}', '{"session":"s","decision":"deny"}', '{"session":"s","tool":""}'].join("\n") + "\n");
    const result = await cli(["test", join(dir, "p.policy"), "--replay", path]);
    expect(result.code).toBe(2);
    expect(result.stdout).toContain("malformed.jsonl:1: error[PC602]: `tool` must be a string, not null\n");
    expect(result.stdout).toContain('malformed.jsonl:2: error[PC602]: the line has no `tool` (a line that records the engine refusing such a request replays with `"rules": []` beside its `"decision": "deny"`)\n');
    expect(result.stdout).toContain("malformed.jsonl:3: error[PC602]: `tool` must NOT have fewer than 1 characters\n");
  });
});
