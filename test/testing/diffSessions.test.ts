import { describe, expect, it } from "vitest";
import type { Engine } from "../../src/runtime/engine.js";
import { SessionPart } from "../../src/testing/diffCauses.js";
import { SessionChanges } from "../../src/testing/diffSessions.js";

/** Engines that hold only the sessions in `held` (what matters to SessionChanges of an engine). */
function enginesHolding(held: ReadonlySet<string>): Engine[] {
  return [{ sessions: { holds: (id: string) => held.has(id) } } as unknown as Engine];
}

describe("diff: the changes a session carries", () => {
  it("are the latest change that altered each part of the state", () => {
    const changes = new SessionChanges(enginesHolding(new Set(["s1"])));
    changes.record("s1", SessionPart.RAN | SessionPart.LABELS, { line: 1, cause: "~lookup" });
    changes.record("s1", SessionPart.RAN | SessionPart.DENIALS, { line: 2, cause: "~search" });
    expect(changes.latest("s1", SessionPart.LABELS)).toEqual({ line: 1, cause: "~lookup" });
    expect(changes.latest("s1", SessionPart.LABELS | SessionPart.RAN)).toEqual({ line: 2, cause: "~search" });
    // Nothing altered the counts, and a rule that reads nothing of the session is carried by nothing.
    expect(changes.latest("s1", SessionPart.ATTEMPTS)).toBeUndefined();
    expect(changes.latest("s1", 0)).toBeUndefined();
  });

  it("are forgotten with the session, so memory follows the sessions the engines hold, not the recording's length", () => {
    const held = new Set<string>();
    const changes = new SessionChanges(enginesHolding(held));
    for (let n = 0; n < 100_000; n++) {
      // Each session is held for its own line and the next 9 sessions' lines, then forgotten.
      held.add(`s${n}`);
      held.delete(`s${n - 10}`);
      changes.beforeLine(`s${n}`);
      changes.record(`s${n}`, SessionPart.RAN, { line: n + 1, cause: "~lookup" });
    }
    expect(changes.size).toBeLessThanOrEqual(4_096 + 1);
    expect(changes.latest("s99999", SessionPart.RAN)).toEqual({ line: 100_000, cause: "~lookup" });
    // A session the engines forgot starts afresh at its next line: nothing of before is carried.
    changes.record("s5", SessionPart.RAN, { line: 1, cause: "~old" });
    changes.beforeLine("s5");
    expect(changes.latest("s5", SessionPart.RAN)).toBeUndefined();
  });
});
