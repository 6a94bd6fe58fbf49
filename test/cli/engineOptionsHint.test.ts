import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../src/runtime/engine.js";
import { ENGINE_OPTIONS_HINT } from "../../src/testing/replay.js";
import { cli, compileFixture } from "../helpers.js";

// A log written by an engine with other options than the replay's (a shorter sessionIdleMs)
// fails where a session's expiry decides: the report says which flags set those options
// (embedding audit a1, finding 4).

const POLICY = `tool vault.get { risk high args { name: string } }
tool http.post { risk medium args { url: string } }
policy p {
  @name("vault-ask") ask vault.get
  @name("post") allow http.post
}
`;

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-options-hint-"));
  writeFileSync(join(dir, "p.policy"), POLICY);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** What a gateway whose engine expires sessions after 10 minutes logs: an ask, other traffic, the approval 35 minutes later (refused), and a later attempt (expired). */
function productionLog(): string[] {
  let now = Date.parse("2026-11-30T10:00:00Z");
  const engine = new Engine(compileFixture(POLICY), { sessionIdleMs: 600_000, clock: () => now });
  const lines: string[] = [];
  const decide = (request: Record<string, unknown>): void => {
    const decision = engine.decide(request);
    lines.push(JSON.stringify({ ...request, decision: decision.decision, rules: decision.rules }));
  };
  const at = (minutes: number): string => new Date(Date.parse("2026-11-30T10:00:00Z") + minutes * 60_000).toISOString();
  decide({ time: at(0), session: "s", tool: "vault.get", args: { name: "db" } });
  now += 35 * 60_000;
  decide({ time: at(35), session: "o", tool: "http.post", args: { url: "x" } });
  const approval = { time: at(35), session: "s", tool: "vault.get", args: { name: "db" } };
  lines.push(JSON.stringify({ event: "approval", ...approval, approved: engine.approved(approval) }));
  decide({ time: at(36), session: "s", tool: "http.post", args: { url: "x" } });
  return lines;
}

describe("policyc test: a failure that the engine options can explain", () => {
  it("names the flags that set them, and passes with them", async () => {
    const lines = productionLog();
    expect(lines.map((line) => JSON.parse(line).approved ?? JSON.parse(line).rules)).toEqual([["vault-ask"], ["post"], false, []]);
    writeFileSync(join(dir, "late.jsonl"), lines.join("\n") + "\n");
    const result = await cli(["test", "p.policy", "--replay", "late.jsonl"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain(`note: late.jsonl:3: ${ENGINE_OPTIONS_HINT}\n`);
    expect(result.stdout).toContain(`note: late.jsonl:4: ${ENGINE_OPTIONS_HINT}\n`);
    expect(ENGINE_OPTIONS_HINT).toContain("--session-idle, --expired-session, --revoked-session, --max-sessions");
    const replayed = await cli(["test", "p.policy", "--replay", "late.jsonl", "--session-idle", "10m"], { cwd: dir });
    expect(replayed.stdout).toBe("4 lines replayed from 1 file\n4 passed, 0 failed\n");
  });

  it("says nothing of them for a failure the rules decide", async () => {
    writeFileSync(join(dir, "rules.jsonl"), JSON.stringify({ time: "2026-11-30T10:00:00Z", session: "s", tool: "http.post", args: { url: "x" }, decision: "deny", rules: ["post"] }) + "\n");
    const result = await cli(["test", "p.policy", "--replay", "rules.jsonl"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain("--session-idle");
  });

  it("nor for a logged refusal whose reason says it was invalid, as against a schema changed since", async () => {
    writeFileSync(join(dir, "int.policy"), `tool fs.read { risk low args { path: int } }\npolicy p { @name("ok") allow fs.read }\n`);
    const refusal = { time: "2026-11-30T10:00:00Z", session: "s", tool: "fs.read", args: { path: 5 }, decision: "deny", rules: [] };
    writeFileSync(join(dir, "schema.jsonl"), JSON.stringify({ ...refusal, reason: "request.args.path must be a string, not the number 5" }) + "\n");
    const result = await cli(["test", "int.policy", "--replay", "schema.jsonl"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).not.toContain("--session-idle");
    // Without a logged reason, expiry or room may still explain it.
    writeFileSync(join(dir, "bare.jsonl"), JSON.stringify(refusal) + "\n");
    expect((await cli(["test", "int.policy", "--replay", "bare.jsonl"], { cwd: dir })).stdout).toContain(`note: bare.jsonl:1: ${ENGINE_OPTIONS_HINT}\n`);
  });
});
