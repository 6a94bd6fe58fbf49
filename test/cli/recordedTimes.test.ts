import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from "vitest";
import { compile } from "../../src/compile/compile.js";
import { cli } from "../helpers.js";

// A replay judges idleness by the recorded times alone (audit T, F4): an enforcement point caps
// the clock its sweep goes by at its wall clock, but a replay's wall clock has nothing to do with
// the recording, so a hand-written recording dated ahead gives the same result today as once its
// dates have passed. Today is faked (Date), never the real date.

const POLICY = `tool a.x { args { n: int } }
policy p {
  @name("many") deny * when session.calls >= 3
  @name("ok") allow a.x
}
`;
const START = Date.parse("2027-03-01T00:00:00Z");
const DAY = 24 * 3600_000;
/** Session s makes an attempt, then another a day, an hour and a millisecond later: its expired record (kept a day past the hour) is forgotten, so the id starts afresh. */
const LINES = [START, START + DAY + 3600_000 + 1].map((time) => JSON.stringify({ time: new Date(time).toISOString(), session: "s", tool: "a.x", args: { n: 0 }, decision: "allow", rules: ["ok"] }));
/** The days the replay runs on: before the recording's dates (as when it was written), and after. */
const TODAYS = [Date.parse("2026-11-30T00:00:00Z"), Date.parse("2028-01-01T00:00:00Z")];

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-recorded-times-"));
  writeFileSync(join(dir, "p.policy"), POLICY);
  writeFileSync(join(dir, "future.jsonl"), LINES.join("\n") + "\n");
  writeFileSync(join(dir, "history.jsonl"), LINES.map((line) => line.replace(/,"decision".*\}$/, "}")).join("\n") + "\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));
afterEach(() => {
  vi.useRealTimers();
});

describe("a replay judges idleness by the recorded times alone", () => {
  it("an enforcement point whose clock stands still keeps the expired record, whatever the dates (what the replay must not copy)", () => {
    // Only time passing on the engine's clock forgets a session (language.md §7): both lines
    // arrive at the same moment of it, before the dates or after them.
    const answers = TODAYS.map((today) => {
      const engine = compile([{ path: "p.policy", text: POLICY }], { clock: () => today });
      return LINES.map((line) => engine.decide(JSON.parse(line)).decision);
    });
    expect(answers).toEqual([["allow", "deny"], ["allow", "deny"]]);
  });

  it("policyc test, diff and eval give the same result for a recording dated ahead, before and after its dates", async () => {
    for (const today of TODAYS) {
      vi.useFakeTimers({ toFake: ["Date"], now: today });
      const at = new Date(today).toISOString();
      const test = await cli(["test", join(dir, "p.policy"), "--replay", join(dir, "future.jsonl")]);
      expect(test.stdout, at).toBe("2 lines replayed from 1 file\n2 passed, 0 failed\n");
      expect(test.code, at).toBe(0);
      const diff = await cli(["diff", join(dir, "p.policy"), join(dir, "p.policy"), "--replay", join(dir, "future.jsonl"), "--json"]);
      expect(JSON.parse(diff.stdout), at).toMatchObject({ lines: 2, changed: 0 });
      const evaluated = await cli(["eval", join(dir, "p.policy"), "--request", join(dir, "history.jsonl"), "--json"]);
      expect(JSON.parse(evaluated.stdout), at).toMatchObject({ decision: "allow", rules: ["ok"] });
      vi.useRealTimers();
    }
  });
});
