import { describe, expect, it } from "vitest";
import { checkWithDecls, codesAndLines, policyOf } from "../fixtures.js";

/** Checker behaviour a mutation audit found unpinned (the mutant is named in each test's comment). */
describe("mutation gaps: checker", () => {
  // Mutant: checkUninhabitedTypes also reports records no request can hold.
  it("an unused record that needs itself is only unused (PC502, a warning), not also uninhabited (PC215, an error)", () => {
    const found = checkWithDecls(`type Chain { next: Chain }\n${policyOf("allow kb.search")}`);
    expect(codesAndLines(found)).toEqual([["PC502", 1]]);
  });

  // Mutant: checkUnusedDeclarations also reports a redeclared built-in type as unused.
  it("a redeclared built-in type is PC200 only, not also PC502", () => {
    const found = checkWithDecls(`enum Risk { a, b }\n${policyOf("allow kb.search")}`);
    expect(codesAndLines(found)).toEqual([["PC200", 1]]);
  });

  // Mutant: constantValue folds a comparison of values of different types (int == string) to false.
  it("a comparison of different types is a type error (PC300), not also an always-false condition (PC500)", () => {
    const found = checkWithDecls(policyOf('allow kb.search when 1 == "1"'));
    expect(codesAndLines(found)).toEqual([["PC300", 2]]);
  });
});
