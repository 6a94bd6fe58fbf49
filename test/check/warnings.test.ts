import { describe, expect, it } from "vitest";
import { analyze } from "../../src/check/analyze.js";
import { DECLS, checkAlone, checkWithDecls, codesAndLines, policyOf } from "../fixtures.js";

function rules(...texts: string[]) {
  return checkWithDecls(policyOf(...texts));
}

describe("PC500 condition is always false", () => {
  it("a constant-false `when` or constant-true `unless`", () => {
    for (const text of ["allow kb.search when 1 == 2", "allow kb.search when false", "allow kb.search when true and false", "allow kb.search when not true", 'allow kb.search when "a" == "b"', "allow kb.search when (1 > 2) or false", "allow kb.search unless true", "allow kb.search unless 1 < 2"]) {
      const found = rules(text);
      expect(codesAndLines(found), text).toEqual([["PC500", 2]]);
    }
  });

  it("is a warning: the set is still ok", () => {
    const result = analyze([{ path: "decls.policy", text: DECLS }, { path: "t.policy", text: policyOf("allow kb.search when 1 == 2") }]);
    expect(result.diagnostics.map((d) => [d.code, d.severity])).toEqual([["PC500", "warning"]]);
    expect(result.ok).toBe(true);
  });

  it("not for conditions that depend on the request", () => {
    expect(rules("allow kb.search when session.calls > 1 or false", "allow crm.lookup when true", "allow http.get unless false", "allow email.send when 1 == 1 and agent.attested")).toEqual([]);
  });
});

describe("PC501 allow overridden by an unconditional deny", () => {
  it("by a pattern, by `*`, and by `unless false`", () => {
    const found = rules("allow kb.search when agent.attested", "deny kb.*");
    expect(codesAndLines(found)).toEqual([["PC501", 2]]);
    expect(found[0]!.message).toContain("`p/2` denies `kb.search` unconditionally");
    expect(found[0]!.help).toContain("t.policy:3");
    expect(codesAndLines(rules("allow kb.search, crm.lookup", '@name("stop")', "deny *"))).toEqual([["PC501", 2]]);
    expect(codesAndLines(rules("allow kb.search", "deny kb.search unless false"))).toEqual([["PC501", 2]]);
  });

  it("across files", () => {
    const result = analyze([
      { path: "decls.policy", text: DECLS },
      { path: "a.policy", text: policyOf("allow kb.search") },
      { path: "b.policy", text: "policy q {\n  deny kb.search\n}\n" },
    ]);
    expect(result.diagnostics.map((d) => [d.code, d.span!.file.path])).toEqual([["PC501", "a.policy"]]);
  });

  it("not when the deny has a condition, or the allow reaches a tool the deny does not", () => {
    expect(rules("allow kb.search", "deny kb.search when agent.attested")).toEqual([]);
    expect(rules("allow kb.search, crm.lookup", "deny kb.search")).toEqual([]);
    expect(rules("allow kb.search", "ask kb.search")).toEqual([]);
  });
});

describe("PC502 unused declarations", () => {
  it("an enum or a record type nothing refers to", () => {
    const found = checkWithDecls("enum Unused { a, b }\ntype Spare { x: int }\n");
    expect(codesAndLines(found)).toEqual([
      ["PC502", 1],
      ["PC502", 2],
    ]);
    expect(found[0]!.message).toBe("`Unused` is declared but never used");
    expect(found[0]!.column).toBe(6);
  });

  it("an enum used as an attribute type, in a record, or by name in a condition is used", () => {
    expect(checkAlone("enum A { x }\ntype R { a: A }\nagent { r: R }\n")).toEqual([]);
    expect(checkAlone("enum Level { lo, hi }\ntool t {}\npolicy p {\n  deny t when Level.lo == Level.hi\n}\n").filter((f) => f.code === "PC502")).toEqual([]);
  });

  it("the label enum is used by `returns` and `session.labels`", () => {
    expect(checkAlone("enum Label { pii }\ntool t { returns pii }\n")).toEqual([]);
  });

  it("is a warning", () => {
    const result = analyze([{ path: "t.policy", text: "enum Unused { a }\n" }]);
    expect(result.ok).toBe(true);
    expect(result.diagnostics.map((d) => d.severity)).toEqual(["warning"]);
  });
});
