import { describe, expect, it } from "vitest";
import { compileFixture } from "../helpers.js";
import { MAX_PAIRING_CELLS, matchRules } from "../../src/testing/diffCauses.js";

/** A policy of `n` unnamed rules `allow t.x when args.n == "<i><suffix>"`, after `head` (rules of other targets). */
function unnamedRules(n: number, suffix: string, head: readonly string[] = []): string {
  const rules = Array.from({ length: n }, (_, i) => `  allow t.x when args.n == "${i}${suffix}"`);
  return `tool t.x {\n  risk low\n  args { n: string }\n}\ntool t.y {\n  risk low\n  args { n: string }\n}\npolicy p {\n${[...head, ...rules].join("\n")}\n}\n`;
}

describe("diff: pairing the unnamed rules of a mass edit", () => {
  // More rules on each side than the longest common subsequence's table takes: paired in linear time and memory.
  const n = Math.ceil(Math.sqrt(MAX_PAIRING_CELLS)) + 50;

  it("pairs every edited rule where it stands, past the bound of the exact pairing", () => {
    const versions = matchRules(compileFixture(unnamedRules(n, "")), compileFixture(unnamedRules(n, "b")));
    expect(versions.newIdOf.size).toBe(n);
    for (let i = 1; i <= n; i++) expect(versions.newIdOf.get(`p/${i}`)).toBe(`p/${i}`);
    expect(versions.redefined.size).toBe(n);
  });

  it("past the bound, a rule of other targets inserted on top is added, and the edited rules below it are paired in order", () => {
    const versions = matchRules(compileFixture(unnamedRules(n, "")), compileFixture(unnamedRules(n, "b", ["  deny t.y"])));
    expect(versions.oldIdOf.has("p/1")).toBe(false);
    expect(versions.newIdOf.get("p/1")).toBe("p/2");
    expect(versions.newIdOf.get(`p/${n}`)).toBe(`p/${n + 1}`);
    expect(versions.newIdOf.size).toBe(n);
  });

});
