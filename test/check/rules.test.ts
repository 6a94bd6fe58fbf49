import { describe, expect, it } from "vitest";
import { analyze } from "../../src/check/analyze.js";
import { DECLS, checkWithDecls, codesAndLines, describeDiagnostic, policyOf } from "../fixtures.js";

function rules(...texts: string[]) {
  return checkWithDecls(policyOf(...texts));
}

describe("PC400 `grant` only on `allow`", () => {
  it("on `deny` and `ask`, at the grant clause", () => {
    const found = checkWithDecls('policy p {\n  deny kb.search\n    when agent.team == "sales"\n    grant "kb:read" for 5m\n}\n');
    expect(codesAndLines(found)).toEqual([["PC400", 4]]);
    expect(found[0]!.message).toBe("`grant` is only allowed on `allow` rules, not on `deny`");
    expect(codesAndLines(rules('ask kb.search when agent.attested grant "kb:read" for 5m'))).toEqual([["PC400", 2]]);
  });

  it("on `allow` it is fine, with one or several scopes", () => {
    expect(rules('allow kb.search when agent.attested grant "kb:read" for 5m', 'allow crm.lookup when agent.attested grant "crm:read", "crm:list" for 1h')).toEqual([]);
  });
});

describe("PC401 `revoke` only on `deny`", () => {
  it("on `allow` and `ask`, at the revoke clause", () => {
    const found = checkWithDecls('policy p {\n  allow kb.search\n    when agent.team == "support"\n    revoke\n}\n');
    expect(codesAndLines(found)).toEqual([["PC401", 4]]);
    expect(found[0]!.message).toBe("`revoke` is only allowed on `deny` rules, not on `allow`");
    expect(codesAndLines(rules("ask kb.search when agent.attested revoke"))).toEqual([["PC401", 2]]);
  });

  it("on `deny` it is fine", () => {
    expect(rules('deny kb.search when agent.attested reason "r" revoke')).toEqual([]);
  });
});

describe("PC402 grant lifetime", () => {
  it("shorter than a second", () => {
    for (const ttl of ["0s", "0ms", "500ms", "999ms"]) {
      const found = rules(`allow kb.search when agent.attested grant "kb:read" for ${ttl}`);
      expect(codesAndLines(found), ttl).toEqual([["PC402", 2]]);
      expect(found[0]!.message).toContain(ttl);
    }
  });

  it("a second or more is fine", () => {
    expect(rules('allow kb.search when agent.attested grant "kb:read" for 1000ms', 'allow crm.lookup when agent.attested grant "x" for 1s', 'allow http.get when agent.attested grant "x" for 30d')).toEqual([]);
  });
});

describe("PC403 empty grant scope", () => {
  it("an empty or blank scope, at the scope, beside valid ones", () => {
    const found = rules('allow kb.search when agent.attested grant "kb:read", "" for 5m');
    expect(codesAndLines(found)).toEqual([["PC403", 2]]);
    expect(found[0]!.message).toBe("a grant scope must not be empty");
    // policyOf indents rules by two spaces; columns start at 1.
    expect(found[0]!.column).toBe('  allow kb.search when agent.attested grant "kb:read", '.length + 1);
    const blank = rules('allow kb.search when agent.attested grant "   " for 5m');
    expect(codesAndLines(blank)).toEqual([["PC403", 2]]);
    expect(blank[0]!.message).toBe("a grant scope must not be blank");
  });

  it("is reported even when the grant is misplaced", () => {
    expect(codesAndLines(rules('deny kb.search when agent.attested grant "" for 5m')).map(([code]) => code).sort()).toEqual(["PC400", "PC403"]);
  });
});

describe("PC109 annotations", () => {
  it("`@name` needs exactly one non-empty string", () => {
    for (const annotation of ["@name(42)", '@name("")', "@name", '@name("a", "b")', '@name("  ")']) {
      expect(codesAndLines(rules(annotation, "deny kb.search when agent.attested")), annotation).toEqual([["PC109", 2]]);
      // Said one way whatever is wrong, with an id made of this rule, not another's (audit a1 L6).
      expect(rules(annotation, "deny kb.search when agent.attested").map((f) => [f.message, f.help]), annotation).toEqual([["`@name` takes exactly one non-empty string", 'write the rule\'s id in quotes, as in `@name("deny-kb-search")`']]);
    }
  });

  it("`@controls` needs ids; annotations are not repeated (except `@controls`)", () => {
    expect(codesAndLines(rules("@controls", "deny kb.search when agent.attested"))).toEqual([["PC109", 2]]);
    for (const annotation of ['@controls("")', '@controls("A", "  ")']) {
      const found = rules(annotation, "deny kb.search when agent.attested");
      expect(codesAndLines(found), annotation).toEqual([["PC109", 2]]);
      expect(found[0]!.message).toBe("a control id must not be empty");
    }
    expect(codesAndLines(rules('@name("a")', '@name("b")', "deny kb.search when agent.attested"))).toEqual([["PC109", 3]]);
    expect(codesAndLines(rules("@owner(true)", "deny kb.search when agent.attested"))).toEqual([["PC109", 2]]);
    expect(rules('@controls("A")', '@controls("B", "C")', '@owner("me")', "@experimental", "deny kb.search when agent.attested")).toEqual([]);
  });

  it("the annotation gives the rule its id, and metadata is kept", () => {
    const result = analyze([
      { path: "decls.policy", text: DECLS },
      { path: "t.policy", text: policyOf('@name("pii")', '@controls("OWASP-ASI03")', "deny email.send when agent.attested", "deny kb.search when agent.attested") },
    ]);
    expect(result.ok).toBe(true);
    expect(result.program!.rules.map((r) => r.id)).toEqual(["pii", "p/2"]);
    expect(result.program!.rules[0]!.rule.annotations.map((a) => a.name.name)).toEqual(["name", "controls"]);
  });
});

describe("PC504 annotations that look like a mistyped keyword", () => {
  it("a mis-cased or misspelled `@name` or `@controls`: metadata, with a warning", () => {
    const result = analyze([{ path: "decls.policy", text: DECLS }, { path: "t.policy", text: policyOf('@Name("kb")', "deny kb.search when agent.attested", '@nmae("h")', "deny http.get when agent.attested") }]);
    expect(result.ok).toBe(true);
    expect(result.program!.rules.map((r) => r.id)).toEqual(["p/1", "p/2"]);
    const found = result.diagnostics.map(describeDiagnostic);
    expect(codesAndLines(found)).toEqual([["PC504", 2], ["PC504", 4]]);
    expect(found[0]!.message).toBe("`@Name` is not `@name`: it is kept as metadata and does not set the rule's id, which is `p/1`");
    expect(found[0]!.help).toBe("did you mean `@name`? annotation keys are case-sensitive");
    expect([found[0]!.column, found[1]!.help]).toEqual([3, "did you mean `@name`?"]);
    for (const key of ["@NAME", "@names", "@nam", "@Controls", "@control", "@contrlos", "@controlls"]) {
      expect(codesAndLines(rules(`${key}("x")`, "deny kb.search when agent.attested")), key).toEqual([["PC504", 2]]);
    }
    expect(rules('@control("A")', "deny kb.search when agent.attested")[0]!.message).toContain("not counted among the rule's controls");
  });

  it("names the id the rule really has", () => {
    expect(rules('@name("real")', '@Name("typo")', "deny kb.search when agent.attested")[0]!.message).toContain("which is `real`");
  });

  it("a clause written as an annotation", () => {
    for (const key of ["@reason", "@Reason", "@revoke", "@grant", "@WHEN", "@when", "@unless"]) {
      const found = rules(`${key}("x")`, "deny kb.search when agent.attested");
      expect(codesAndLines(found), key).toEqual([["PC504", 2]]);
      expect(found[0]!.message, key).toMatch(/^`@\w+` is kept as metadata: it is not the rule's `(reason|revoke|grant|when|unless)` clause$/);
    }
    expect(rules('@Reason("x")', "deny kb.search when agent.attested")[0]!.help).toBe('did you mean the `reason` clause? write the clause after the targets, as in `deny email.send reason "…"`');
  });

  it("another language's id key (Cedar's `@id`) on a rule without `@name`", () => {
    for (const key of ["@id", "@ID", "@rule", "@ruleId", "@rule_id"]) {
      const found = rules(`${key}("kb-read")`, "deny kb.search when agent.attested");
      expect(codesAndLines(found), key).toEqual([["PC504", 2]]);
      expect(found[0]!.message, key).toBe(`\`${key}\` is not \`@name\`: it is kept as metadata and does not set the rule's id, which is \`p/1\``);
    }
    expect(rules('@id("kb-read")', "deny kb.search when agent.attested")[0]!.help).toBe('did you mean `@name`? a rule\'s id is given with `@name("kb-read")`');
    // With a `@name`, an `@id` is deliberate metadata; `@title` and `@description` describe a rule.
    expect(rules('@name("kb-read")', '@id("SEC-42")', '@title("t")', '@description("d")', "deny kb.search when agent.attested")).toEqual([]);
  });

  it("free-form metadata keys stay silent", () => {
    expect(rules('@owner("security")', '@ticket("SEC-42")', "@experimental", '@note("n")', '@team("t")', '@id("x")', '@severity("high")', '@controls("A")', '@name("n")', "deny kb.search when agent.attested")).toEqual([]);
    // Words near a clause keyword are ordinary metadata: only the keyword itself is a mistake.
    expect(rules('@revoked("2024-01-10")', '@grants("ops")', '@then("x")', '@season("q4")', "deny kb.search when agent.attested")).toEqual([]);
  });
});

describe("targets", () => {
  it("resolve to declared tools in declaration order", () => {
    const result = analyze([{ path: "decls.policy", text: DECLS }, { path: "t.policy", text: policyOf("deny kb.*, crm.lookup, email.send when agent.attested", "deny * when agent.attested") }]);
    expect(result.program!.rules.map((r) => r.tools)).toEqual([
      ["crm.lookup", "email.send", "kb.search"],
      ["crm.lookup", "email.send", "http.get", "kb.search"],
    ]);
  });
});

describe("type checking waits for a clean parse", () => {
  it("a syntax error is reported alone, without follow-on type errors", () => {
    const found = rules('allow when agent.tema == "x"');
    expect(found.map((f) => f.code)).toEqual(["PC103"]);
    const result = analyze([{ path: "t.policy", text: "policy p { allow when true }" }]);
    expect(result.ok).toBe(false);
    expect(result.program).toBeUndefined();
  });
});
