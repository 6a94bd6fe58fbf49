import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";
import type { Engine } from "../../src/runtime/engine.js";
import { CONFORMANCE, HAS_CONFORMANCE } from "../helpers.js";
import { viaBundle } from "./fixtures.js";

/**
 * The shared support recording, replayed line by line in file order: every expected decision,
 * and every expected rule set (compared as a set), must come out — from a compiled engine and
 * from the same policy shipped through a serialized bundle.
 */
const SUPPORT = join(CONFORMANCE, "support");

interface Line {
  readonly number: number;
  readonly request: Record<string, unknown>;
  readonly decision?: string;
  readonly rules?: readonly string[];
  readonly reason?: string;
}

function recording(): Line[] {
  return readFileSync(join(SUPPORT, "support.jsonl"), "utf8")
    .split("\n")
    .map((text, i) => ({ text, number: i + 1 }))
    .filter(({ text }) => text.trim() !== "")
    .map(({ text, number }) => {
      const { decision, rules, reason, ...request } = JSON.parse(text) as Record<string, unknown>;
      return { number, request, decision: decision as string | undefined, rules: rules as string[] | undefined, reason: reason as string | undefined };
    });
}

function sources(): { path: string; text: string }[] {
  return [{ path: "support.policy", text: readFileSync(join(SUPPORT, "support.policy"), "utf8") }];
}

function replay(engine: Engine): void {
  const lines = recording();
  expect(lines.length).toBeGreaterThan(0);
  for (const line of lines) {
    const decision = engine.decide(line.request);
    const where = `support.jsonl:${line.number} ${JSON.stringify(decision)}`;
    if (line.decision !== undefined) expect(decision.decision, where).toBe(line.decision);
    if (line.rules !== undefined) expect(new Set(decision.rules), where).toEqual(new Set(line.rules));
    if (line.reason !== undefined) expect(decision.reasons, where).toContain(line.reason);
    // Invariants the contract states for every decision.
    if (decision.rules.length > 0) expect(decision.rules.length, where).toBe(decision.reasons.length);
    else expect(decision.reasons.length, where).toBe(1); // default deny or invalid request: one reason
    if (decision.decision !== "allow") expect(decision.grants, where).toEqual([]);
  }
}

describe.skipIf(!HAS_CONFORMANCE)("support recording", () => {
  it("replays through compile([...]).decide", () => {
    replay(compile(sources()));
  });

  it("replays through a serialized and reloaded bundle", () => {
    replay(viaBundle(sources()));
  });

  it("gives the same decisions either way, field for field", () => {
    const direct = compile(sources());
    const bundled = viaBundle(sources());
    for (const line of recording()) expect(bundled.decide(line.request), `line ${line.number}`).toEqual(direct.decide(line.request));
  });
});
