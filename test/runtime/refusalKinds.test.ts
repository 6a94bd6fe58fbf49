import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import type { Engine } from "../../src/runtime/engine.js";
import { noteRefusalKinds, refusalKindOf } from "../../src/runtime/refusal.js";

/**
 * The engine notes what kind of refusal a decision is (runtime/refusal.ts) only while a tool that
 * compares decisions asks for it (`policyc diff`): an enforcement point's engine pays nothing for
 * it on a refusal, which floods bring by the thousand (review r4 R2).
 */

const POLICY = `tool kb.search { args { query: string } }
policy p {
  allow kb.search
}
`;
const T0 = Date.parse("2026-11-30T09:00:00Z");
const engineOf = (): Engine => compile([{ path: "p.policy", text: POLICY }], { clock: () => T0, maxSessions: 1 });
const search = (session: string): Record<string, unknown> => ({ session, tool: "kb.search", args: { query: "x" } });

describe("refusal kinds", () => {
  it("are not noted by an engine unless asked", () => {
    const engine = engineOf();
    expect(engine.decide(search("s1")).decision).toBe("allow");
    const full = engine.decide(search("s2"));
    const invalid = engine.decide({ session: "s1", tool: "kb.search", args: {} });
    expect([full.decision, invalid.decision]).toEqual(["deny", "deny"]);
    expect([refusalKindOf(full), refusalKindOf(invalid)]).toEqual([undefined, undefined]);
  });

  it("are noted while asked, and no longer once every caller that asked stopped (stopping twice counts once)", () => {
    const engine = engineOf();
    engine.decide(search("s1"));
    const stopFirst = noteRefusalKinds();
    const stopSecond = noteRefusalKinds();
    try {
      expect(refusalKindOf(engine.decide(search("s2")))).toBe("session");
      expect(refusalKindOf(engine.decide({ session: "s1", tool: "kb.search", args: {} }))).toBe("request");
      stopFirst();
      stopFirst();
      expect(refusalKindOf(engine.decide(search("s3")))).toBe("session");
    } finally {
      stopSecond();
    }
    expect(refusalKindOf(engine.decide(search("s4")))).toBeUndefined();
  });

  it("include a request that is no JSON object, a refusal of the request (review r4 R5)", () => {
    const engine = engineOf();
    const stop = noteRefusalKinds();
    try {
      for (const input of [null, "text", [search("s1")]]) expect(refusalKindOf(engine.decide(input)), JSON.stringify(input)).toBe("request");
    } finally {
      stop();
    }
  });
});
