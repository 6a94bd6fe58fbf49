import { describe, expect, it } from "vitest";
import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import { contentHash } from "../../src/bundle/hash.js";
import { loadBundle, verifyBundle } from "../../src/bundle/loadBundle.js";
import type { Bundle } from "../../src/bundle/Bundle.js";
import { Engine, RUNTIME_SUPPORT } from "../../src/runtime/engine.js";
import { compileFixture } from "../helpers.js";

/**
 * Bundles from elsewhere (audit of a multi-tenant operator): a bundle's code runs in the process,
 * so the engine takes no code nothing checked, shares nothing that code can change, and copies
 * no text that code throws into decisions as it is.
 */
const TEXT = `tool t { risk high args { s: string } }\npolicy p {\n  @name("a") allow t when args.s like "ok*"\n}\n`;
const SOURCES = [{ path: "p.policy", text: TEXT }];
const REQUEST = (s: string) => ({ time: "2026-11-30T10:00:00Z", session: "s", tool: "t", args: { s } });

declare global {
  // eslint-disable-next-line no-var
  var untrustedRan: unknown;
}

/** The bundle of TEXT as a file holds it, its code changed by `edit` and its hash made consistent again, as anyone can. */
function rehashed(edit: (code: string) => string): Bundle {
  const bundle = JSON.parse(serializeBundle(createBundle(compileFixture(TEXT), SOURCES))) as Bundle;
  (bundle as { code: string }).code = edit(bundle.code);
  (bundle.manifest as { contentHash: string }).contentHash = contentHash(bundle);
  return bundle;
}

describe("new Engine and values nothing checked", () => {
  it("refuses a checked bundle whose format and manifest were deleted (it would pass as a compiled policy), before its code runs", () => {
    const verified = verifyBundle(rehashed((code) => `globalThis.untrustedRan = 1;\n${code}`));
    delete globalThis.untrustedRan;
    const { format: _format, manifest: _manifest, ...stripped } = verified;
    expect(() => new Engine(stripped as never)).toThrow(TypeError);
    expect(() => new Engine(stripped as never)).toThrow(/^new Engine was given a compiled policy that the compiler did not make \(or one changed since, or a copy of one checked before the latest 1,000: copies are recognized by content for that many only\), and would run its code unchecked: to run a bundle file, use loadBundle/);
    expect(globalThis.untrustedRan).toBeUndefined();
  });

  it("refuses a compiled policy whose code was changed after the compiler made it, and takes the compiler's own and its copies", () => {
    const policy = compileFixture(TEXT);
    expect(new Engine(policy).decide(REQUEST("ok")).decision).toBe("allow");
    expect(new Engine(structuredClone(policy)).decide(REQUEST("ok")).decision).toBe("allow");
    const changed = { ...policy, code: `globalThis.untrustedRan = 2;\n${policy.code}` };
    expect(() => new Engine(changed)).toThrow(/^new Engine was given a compiled policy that the compiler did not make/);
    const rulesChanged = { ...policy, rules: policy.rules.map((rule) => ({ ...rule, reason: "changed" })) };
    expect(() => new Engine(rulesChanged)).toThrow(TypeError);
    expect(globalThis.untrustedRan).toBeUndefined();
  });

  it("says, past the number of checked contents it recognizes copies of, that a copy of an older one is refused, and takes the object checked", () => {
    const kept = verifyBundle(JSON.parse(serializeBundle(createBundle(compileFixture(TEXT), SOURCES))));
    const copy = structuredClone(kept);
    expect(new Engine(copy).decide(REQUEST("ok")).decision).toBe("allow");
    const policy = compileFixture(TEXT);
    // (Checked by verifyBundle: createBundle vouches for no hand-made policy.)
    for (let i = 0; i < 1_001; i++) verifyBundle(createBundle({ ...policy, code: `${policy.code}\n// ${i}` }, SOURCES));
    expect(new Engine(kept).decide(REQUEST("ok")).decision).toBe("allow");
    expect(() => new Engine(structuredClone(kept))).toThrow("or a copy of one checked before the latest 1,000: copies are recognized by content for that many only");
  });
});

describe("createBundle and new Engine (review r1 M1, M2)", () => {
  it("does not vouch for a hand-made policy with altered code: new Engine refuses its bundle, and its code never runs", () => {
    const policy = compileFixture(TEXT);
    delete globalThis.untrustedRan;
    const altered = { ...policy, code: `globalThis.untrustedRan = "createBundle";\n${policy.code}` };
    const bundle = createBundle(altered, SOURCES);
    expect(() => new Engine(bundle)).toThrow(/^new Engine was given a bundle that verifyBundle did not check/);
    expect(() => new Engine(structuredClone(bundle))).toThrow(TypeError);
    expect(globalThis.untrustedRan).toBeUndefined();
    // The compiler's own policy (and a copy of it) is still vouched for, so its bundle runs.
    expect(new Engine(createBundle(policy, SOURCES)).decide(REQUEST("ok")).decision).toBe("allow");
    expect(new Engine(createBundle(structuredClone(policy), SOURCES)).decide(REQUEST("ok")).decision).toBe("allow");
  });

  it("does not vouch for a policy whose code is a getter, even one that shows the compiler's code first", () => {
    const policy = compileFixture(TEXT);
    let reads = 0;
    const shifty = { ...policy, get code() { reads++; return reads === 1 ? policy.code : `globalThis.untrustedRan = "getter";\n${policy.code}`; } };
    delete globalThis.untrustedRan;
    const bundle = createBundle(shifty as never, SOURCES);
    expect(() => new Engine(bundle)).toThrow(TypeError);
    expect(globalThis.untrustedRan).toBeUndefined();
  });

  it("new Engine refuses a policy or bundle whose code is a getter returning other code on each read, before any runs", () => {
    const policy = compileFixture(TEXT);
    const bundle = JSON.parse(serializeBundle(createBundle(policy, SOURCES))) as Bundle;
    const verified = verifyBundle(bundle);
    for (const honest of [policy, verified] as object[]) {
      let reads = 0;
      const shifty = Object.defineProperty({ ...honest }, "code", { enumerable: true, get: () => (reads++ === 0 ? (honest as { code: string }).code : `globalThis.untrustedRan = "engine";\n${(honest as { code: string }).code}`) });
      delete globalThis.untrustedRan;
      expect(() => new Engine(shifty as never)).toThrow(/whose `code` is a getter \(an accessor property\), which could show the check one value and the engine another/);
      expect(globalThis.untrustedRan).toBeUndefined();
    }
  });

  it("verifyBundle and loadBundle refuse a bundle whose code is a getter (PC701), before any of it runs", () => {
    const bundle = JSON.parse(serializeBundle(createBundle(compileFixture(TEXT), SOURCES))) as Bundle;
    let reads = 0;
    const shifty = Object.defineProperty({ ...bundle }, "code", { enumerable: true, get: () => (reads++ < 2 ? bundle.code : `globalThis.untrustedRan = "load";\n${bundle.code}`) });
    delete globalThis.untrustedRan;
    expect(() => verifyBundle(shifty)).toThrow(/^not a valid policyc bundle: its "code" is a getter/);
    let code: unknown;
    try {
      loadBundle(shifty);
    } catch (error) {
      code = (error as { code?: unknown }).code;
    }
    expect(code).toBe("PC701");
    expect(globalThis.untrustedRan).toBeUndefined();
  });

  it("takes the same unchanged object again without a new check, and one changed since is checked afresh", () => {
    const policy = compileFixture(TEXT);
    const first = new Engine(policy);
    expect(new Engine(policy).policy).toBe(first.policy);
    // (What the compiler made cannot be changed: a checked bundle, the caller's own object, can.)
    const bundle = verifyBundle(JSON.parse(serializeBundle(createBundle(policy, SOURCES))));
    const firstOfBundle = new Engine(bundle);
    expect(new Engine(bundle).policy).toBe(firstOfBundle.policy);
    (bundle as { code: string }).code = `globalThis.untrustedRan = "mutated";\n${bundle.code}`;
    delete globalThis.untrustedRan;
    expect(() => new Engine(bundle)).toThrow(/^new Engine was given a bundle that verifyBundle did not check/);
    expect(globalThis.untrustedRan).toBeUndefined();
  });
});

describe("engine.policy and what the compiler made cannot be changed under the check (review r2 findings 1, 2)", () => {
  it("engine.policy is frozen: setting its code and the checked value's to the same text runs neither", () => {
    const bundle = verifyBundle(JSON.parse(serializeBundle(createBundle(compileFixture(TEXT), SOURCES))));
    const engine = new Engine(bundle);
    const evil = `globalThis.untrustedRan = "engine.policy";\n${bundle.code}`;
    expect(Object.isFrozen(engine.policy)).toBe(true);
    expect(() => ((engine.policy as { code: string }).code = evil)).toThrow(TypeError);
    (bundle as { code: string }).code = evil;
    delete globalThis.untrustedRan;
    expect(() => new Engine(bundle)).toThrow(/^new Engine was given a bundle that verifyBundle did not check/);
    expect(globalThis.untrustedRan).toBeUndefined();
  });

  it("what compileSources gives is deep-frozen: a rule's effect or a tool's arguments cannot be changed in place", () => {
    const policy = compileFixture(`tool t { risk high args { s: string } }\npolicy p {\n  @name("d") deny t when args.s like "bad*"\n  @name("a") allow t\n}\n`);
    const request = { time: "2026-11-30T10:00:00Z", session: "s", tool: "t", args: { s: "bad" } };
    expect(() => ((policy.rules[0] as { effect: string }).effect = "allow")).toThrow(TypeError);
    expect(() => ((policy.schema.tools["t"]!.args as Record<string, unknown>)["s"] = { type: "int", optional: true })).toThrow(TypeError);
    expect(() => ((policy as { code: string }).code = "")).toThrow(TypeError);
    expect(new Engine(policy).decide(request).decision).toBe("deny");
    expect(new Engine(createBundle(policy, SOURCES)).decide(request).decision).toBe("deny");
    // A copy changed is another policy: neither it nor its bundle is taken.
    const copy = structuredClone(policy) as unknown as { rules: { effect: string }[] };
    copy.rules[0]!.effect = "allow";
    expect(() => new Engine(copy as never)).toThrow(/^new Engine was given a compiled policy that the compiler did not make/);
    expect(() => new Engine(createBundle(copy as never, SOURCES))).toThrow(/^new Engine was given a bundle that verifyBundle did not check/);
  });

  it("createBundle digests what it is given: a checked bundle changed in place is not vouched for", () => {
    const bundle = verifyBundle(JSON.parse(serializeBundle(createBundle(compileFixture(TEXT), SOURCES))));
    new Engine(bundle);
    (bundle.rules[0] as { effect: string }).effect = "deny";
    expect(() => new Engine(createBundle(bundle, SOURCES))).toThrow(/^new Engine was given a bundle that verifyBundle did not check/);
    // Its honest copy is what the compiler made: vouched for.
    expect(new Engine(createBundle(compileFixture(TEXT), SOURCES)).decide(REQUEST("ok")).decision).toBe("allow");
  });
});

describe("the runtime support every engine shares", () => {
  it("is frozen deeply: a bundle's code that replaces or changes it changes no other engine's decisions", () => {
    const honest = loadBundle(rehashed((code) => code));
    expect(honest.decide(REQUEST("no")).decision).toBe("deny");
    const support = RUNTIME_SUPPORT as unknown as Record<string, unknown>;
    const startsWith = support["startsWith"];
    const high = RUNTIME_SUPPORT.RISK_RANK.high;
    // Each attempt in its own try: the code is strict, so a write to a frozen object throws.
    const attempts = [
      "rt.startsWith = () => true;",
      "rt.matchCompiledGlob = () => true;",
      'Object.defineProperty(rt, "startsWith", { value: () => true });',
      "rt.RISK_RANK.high = 0;",
      "rt.startsWith.call = () => true;",
      "rt.compileGlob.prototype.x = 1;",
    ];
    const tampering = rehashed((code) => `${attempts.map((attempt) => `try { ${attempt} } catch { globalThis.untrustedRan = (globalThis.untrustedRan ?? 0) + 1; }`).join("\n")}\n${code}`);
    delete globalThis.untrustedRan;
    loadBundle(tampering);
    expect(globalThis.untrustedRan).toBe(attempts.length);
    expect(support["startsWith"]).toBe(startsWith);
    expect(RUNTIME_SUPPORT.RISK_RANK.high).toBe(high);
    expect(Object.isFrozen(RUNTIME_SUPPORT)).toBe(true);
    expect(honest.decide(REQUEST("no")).decision).toBe("deny");
    expect(loadBundle(rehashed((code) => code)).decide(REQUEST("no")).decision).toBe("deny");
  });
});

describe("text thrown by a bundle's code", () => {
  const NOISE = `\u001b[31m\n::error::forged\r${"x".repeat(100_000)}`;

  it("reaches a decision's errors cut short and with its control characters escaped, from a rule's condition", () => {
    const engine = loadBundle(rehashed((code) => code.replaceAll('rt.startsWith(cArgs["s"], "ok")', `(() => { throw new Error(${JSON.stringify(NOISE)}); })()`)));
    const d = engine.decide(REQUEST("ok"));
    expect(d.decision).toBe("deny");
    expect(d.errors).toHaveLength(1);
    expect(d.errors[0]!.length).toBeLessThan(1_200);
    expect(d.errors[0]).not.toMatch(/[\u0000-\u001f\u007f]/);
    expect(d.errors[0]).toContain("\\u001b[31m\\u000a::error::forged\\u000d");
    expect(d.errors[0]).toMatch(/… \(99,\d{3} more characters\)$/);
  });

  it("and from a tool's decider, which throws out of the decision", () => {
    const engine = loadBundle(rehashed((code) => code.replace(/decide: t0/, `decide: () => { throw new Error(${JSON.stringify(NOISE)}); }`)));
    const d = engine.decide(REQUEST("ok"));
    expect(d.decision).toBe("deny");
    expect(d.errors[0]!.startsWith("internal error while deciding: \\u001b[31m\\u000a::error::forged")).toBe(true);
    expect(d.errors[0]!.length).toBeLessThan(1_200);
    expect(d.errors.join("")).not.toMatch(/[\u0000-\u001f\u007f]/);
  });
});
