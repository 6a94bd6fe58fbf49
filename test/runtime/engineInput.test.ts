import { describe, expect, it } from "vitest";
import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import { loadBundle, verifyBundle } from "../../src/bundle/loadBundle.js";
import { Engine } from "../../src/runtime/engine.js";
import { compileFixture } from "../helpers.js";

/**
 * `new Engine(policy)` runs the policy's code: it takes a compiled policy or a bundle that
 * `verifyBundle` checked, and refuses, with a `TypeError` naming `loadBundle`, a bundle read
 * from a file without checks and a value that is no compiled policy (embedding audit a1, finding 6).
 */
const TEXT = `tool t { risk low args { n: int } }\npolicy p { allow t }\n`;
const REQUEST = { time: "2026-11-30T10:00:00Z", session: "s", tool: "t", args: { n: 1 } };

declare global {
  // eslint-disable-next-line no-var
  var engineInputRan: unknown;
  // eslint-disable-next-line no-var
  var engineInputChanged: unknown;
}

function bundleText(): string {
  const policy = compileFixture(TEXT);
  return serializeBundle(createBundle(policy, [{ path: "p.policy", text: TEXT }]));
}

describe("new Engine", () => {
  it("takes what compileSources gives, a copy of it, and a bundle verifyBundle returned", () => {
    const policy = compileFixture(TEXT);
    expect(new Engine(policy).decide(REQUEST).decision).toBe("allow");
    expect(new Engine({ ...policy }).decide(REQUEST).decision).toBe("allow");
    expect(new Engine(verifyBundle(JSON.parse(bundleText()))).decide(REQUEST).decision).toBe("allow");
    expect(loadBundle(JSON.parse(bundleText())).decide(REQUEST).decision).toBe("allow");
  });

  it("refuses a bundle no verifyBundle checked, before its code runs, saying to use loadBundle", () => {
    const bundle = JSON.parse(bundleText()) as Record<string, unknown>;
    bundle["code"] = `globalThis.engineInputRan = 1;\n${bundle["code"] as string}`;
    expect(() => new Engine(bundle as never)).toThrow(TypeError);
    expect(() => new Engine(bundle as never)).toThrow(/^new Engine was given a bundle that verifyBundle did not check \(or one changed since, or a copy of one checked before the latest 1,000: copies are recognized by content for that many only\), and would run its code unchecked: to run a bundle file, use loadBundle\(JSON\.parse\(text\), \{ publicKey \}\)/);
    expect(globalThis.engineInputRan).toBeUndefined();
  });

  it("takes createBundle's output and copies of a checked bundle, and refuses a checked bundle whose content changed, before its code runs", () => {
    const policy = compileFixture(TEXT);
    expect(new Engine(createBundle(policy, [])).decide(REQUEST).decision).toBe("allow");
    const verified = verifyBundle(JSON.parse(bundleText()));
    expect(new Engine({ ...verified }).decide(REQUEST).decision).toBe("allow");
    expect(new Engine(structuredClone(verified)).decide(REQUEST).decision).toBe("allow");
    const changed = verifyBundle(JSON.parse(bundleText()));
    (changed as { code: string }).code = `globalThis.engineInputChanged = 1;\n${changed.code}`;
    expect(() => new Engine(changed)).toThrow(/^new Engine was given a bundle that verifyBundle did not check \(or one changed since, or a copy of one checked before the latest 1,000: copies are recognized by content for that many only\), and would run its code unchecked: to run a bundle file, use loadBundle/);
    expect(globalThis.engineInputChanged).toBeUndefined();
    const ruleChanged = { ...verified, rules: verified.rules.map((rule) => ({ ...rule, reason: "changed" })) };
    expect(() => new Engine(ruleChanged)).toThrow(TypeError);
  });

  it("refuses a checked bundle whose manifest changed (the digest is the content hash), and a value with a bundle's format but no manifest, with the same TypeError", () => {
    const verified = verifyBundle(JSON.parse(bundleText()));
    const otherCompiler = { ...verified, manifest: { ...verified.manifest, compiler: "policyc 9.9.9" } };
    expect(() => new Engine(otherCompiler)).toThrow(/^new Engine was given a bundle that verifyBundle did not check \(or one changed since, /);
    const { manifest: _manifest, ...withoutManifest } = verified;
    expect(() => new Engine(withoutManifest as never)).toThrow(/^new Engine was given a bundle that verifyBundle did not check/);
  });

  it("takes a checked bundle kept in use however many others were checked since, but not once it changed (review r6)", () => {
    const kept = verifyBundle(JSON.parse(bundleText()));
    const policy = compileFixture(TEXT);
    for (let i = 0; i < 1_001; i++) createBundle({ ...policy, code: `${policy.code}\n// ${i}` }, [{ path: "p.policy", text: TEXT }]);
    expect(new Engine(kept).decide(REQUEST).decision).toBe("allow");
    (kept as { code: string }).code += "\n// changed";
    expect(() => new Engine(kept)).toThrow(/did not check \(or one changed since, /);
  });

  it("refuses a value that is no compiled policy with a TypeError naming what is wrong, not a JavaScript internals message", () => {
    const policy = compileFixture(TEXT);
    const cases: [unknown, RegExp][] = [
      [null, /^new Engine takes a compiled policy, not null: to run a bundle file, use loadBundle/],
      [JSON.stringify(policy), /^new Engine takes a compiled policy, not a string:/],
      [{ ...policy, code: undefined }, /^new Engine takes a compiled policy, and its `code` is undefined, not the string of generated JavaScript: .*use loadBundle/],
      [{ ...policy, schema: [] }, /its `schema` is an array, not an object/],
      [{ ...policy, rules: {} }, /its `rules` is an object, not an array/],
      [{ ...policy, session: null }, /its `session` is null, not an object/],
      [{ ...policy, schema: { ...policy.schema, tools: undefined } }, /its `schema\.tools` is undefined, not an object/],
    ];
    for (const [value, message] of cases) expect(() => new Engine(value as never)).toThrow(message);
    for (const [value] of cases) expect(() => new Engine(value as never)).toThrow(TypeError);
  });
});
