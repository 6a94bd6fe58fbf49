import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileSources } from "../../src/index.js";
import { Engine } from "../../src/runtime/engine.js";
import type { CompiledPolicy } from "../../src/runtime/policy.js";
import type { SessionState } from "../../src/runtime/session.js";
import { cpuMilliseconds } from "../helpers.js";

/**
 * A session's `session.count` window keeps its attempts in time order. An attempt dated before
 * the latest one is put in its place by binary search and spliced in there (dated before them
 * all, it goes into room kept before the window), rather than found by a scan from the end: the
 * scan cost most of each such attempt (audit s19 a3 #5). The splice still moves the attempts
 * after it, a fast memory move (documented in language.md, section 7; review r3). Decisions must not change at all: the differential test
 * below decides every sequence with the way it was done before as well.
 */

/** The window's insertion as it was before (SessionStore.addToWindow up to 0.9.0's audit s19), the reference. */
function addToWindowBefore(this: { use: { windowMs: number }; maxWindowEntries: number }, state: SessionState, times: number[], now: number, toolOrdinal: number): void {
  const horizon = now - 2 * this.use.windowMs;
  const tools = state.windowTools;
  let head = state.head;
  while (head < times.length && times[head]! < horizon) head++;
  if (head > state.head) state.trimmedUpTo = Math.max(state.trimmedUpTo, times[head - 1]!);
  if (times.length - head >= this.maxWindowEntries) {
    const keep = this.maxWindowEntries - 1;
    state.droppedUpTo = Math.max(state.droppedUpTo, times[times.length - keep - 1]!);
    head = times.length - keep;
  }
  if (head > 0 && head * 2 >= times.length) {
    times.splice(0, head);
    tools?.splice(0, head);
    head = 0;
  }
  state.head = head;
  let at = times.length;
  while (at > head && times[at - 1]! > now) at--;
  if (at === times.length) {
    times.push(now);
    tools?.push(toolOrdinal);
  } else {
    times.splice(at, 0, now);
    tools?.splice(at, 0, toolOrdinal);
  }
}

const T0 = Date.parse("2026-11-29T10:00:00Z");
const DECLS = "tool a.x { risk low args { n: int } }\ntool a.y { risk low args { n: int } }\ntool b.z { risk low args { n: int } }\n";
const rule = fc
  .tuple(fc.constantFrom("deny", "ask", "allow"), fc.constantFrom("", "a.*, ", "b.z, ", "a.x, ", "*.y, "), fc.constantFrom("2s", "10s", "1m"), fc.constantFrom(">", ">=", "<", "=="), fc.integer({ min: 0, max: 12 }), fc.boolean())
  .map(([effect, pattern, within, op, n, revoke]) => `  ${effect} * when session.count(${pattern}within ${within}) ${op} ${n}${revoke && effect === "deny" ? " revoke" : ""}`);
const policy = fc.array(rule, { minLength: 1, maxLength: 4 }).map((rules) => `${DECLS}policy p {\n  allow a.x, b.z\n${rules.join("\n")}\n}\n`);
const cache = new Map<string, CompiledPolicy>();
const compiled = (text: string): CompiledPolicy => {
  if (!cache.has(text)) cache.set(text, compileSources([{ path: "p.policy", text }]).policy!);
  return cache.get(text)!;
};

/** Each session's live window (times and tools from `head` on): what counts read. */
function windows(engine: Engine): string {
  const sessions = (engine.sessions as unknown as { sessions: Map<string, SessionState> }).sessions;
  return JSON.stringify([...sessions].map(([id, state]) => [id, state.times?.slice(state.head), state.windowTools?.slice(state.head), state.droppedUpTo, state.trimmedUpTo]));
}

describe("a session.count window, attempts arriving in any order", () => {
  it("decides as the window scanned and spliced did, in and out of order, with many tools and overflowing windows", () => {
    const step = fc.record({
      tool: fc.constantFrom("a.x", "a.y", "b.z", "a.w", "c.v"),
      // Forward, a little back, or before all the rest (a run of each, by repeats of one kind).
      gap: fc.constantFrom(0, 1, 30, 400, 1500, 7000),
      back: fc.constantFrom(0, 0, 1, 5, 300, 1200, 9000, 70_000, 200_000),
      session: fc.constantFrom("s", "s", "s", "t"),
      undated: fc.constantFrom(false, false, false, false, true),
    });
    fc.assert(
      fc.property(policy, fc.constantFrom(undefined, 1, 2, 3, 5, 8, 20), fc.constantFrom(undefined, 60_000), fc.array(step, { minLength: 5, maxLength: 120, size: "max" }), fc.boolean(), (text, maxWindowEntries, maxTimeSkewMs, steps, descending) => {
        const p = compiled(text);
        let clock = T0;
        const options = { clock: () => clock, maxWindowEntries, maxTimeSkewMs };
        const before = new Engine(p, options);
        (before.sessions as unknown as { addToWindow: typeof addToWindowBefore }).addToWindow = addToWindowBefore;
        const now = new Engine(p, options);
        let ms = 0;
        for (const [i, s] of steps.entries()) {
          ms += s.gap;
          clock = T0 + ms;
          // `descending`: every other attempt dated before all the others so far (a millisecond per attempt).
          const time = descending && i % 2 === 1 ? T0 - i : T0 + ms - s.back;
          const request = { session: s.session, tool: s.tool, args: { n: i }, ...(s.undated ? {} : { time: new Date(time).toISOString() }) };
          const a = before.decide(request);
          const b = now.decide(request);
          expect(b, `${text}\nstep ${i}: ${JSON.stringify(request)}`).toEqual(a);
        }
        expect(windows(now)).toBe(windows(before));
      }),
      { numRuns: Number(process.env.RUNS ?? 500) },
    );
  });

  it("costs about the same whatever order the attempts are dated in", () => {
    const text = `${DECLS}policy p {\n  allow a.x\n  deny * when session.count(within 1d) > 100000 reason "daily cap"\n}\n`;
    const timed = (dateOf: (i: number) => number): number => {
      const engine = new Engine(compiled(text), { clock: () => T0, maxTimeSkewMs: 300_000 });
      const started = cpuMilliseconds();
      for (let i = 0; i < 100_000; i++) engine.decide({ session: "s", tool: "a.x", args: { n: i }, time: new Date(dateOf(i)).toISOString() });
      return cpuMilliseconds() - started;
    };
    const forward = timed((i) => T0 - 200_000 + i);
    // Each a millisecond before the last: moving the whole window for each took 10–30 times as long.
    const backward = timed((i) => T0 - i);
    expect(backward).toBeLessThan(3 * forward + 300);
  });
});
