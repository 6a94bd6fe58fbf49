import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { analyze } from "../../src/check/analyze.js";
import { compileSources } from "../../src/compile/compile.js";
import { Engine } from "../../src/runtime/engine.js";
import { DECLS, checkAlone, checkWithDecls, codesAndLines, describeDiagnostic, policyOf } from "../fixtures.js";
import { AGENT, call } from "../runtime/fixtures.js";

function rules(...texts: string[]) {
  return checkWithDecls(policyOf(...texts));
}

/** The decision the rules `texts`, with the contract's declarations, give a call of `tool` (`overrides` as for `call`). */
function decisionOf(texts: string[], tool: string, overrides: Record<string, unknown> = {}): string {
  const { policy } = compileSources([
    { path: "decls.policy", text: DECLS },
    { path: "t.policy", text: policyOf(...texts) },
  ]);
  return new Engine(policy!).decide(call(tool, 0, overrides)).decision;
}

describe("PC500 condition is always false", () => {
  it("a constant-false `when` or constant-true `unless`", () => {
    for (const text of ["allow kb.search when 1 == 2", "allow kb.search when false", "allow kb.search when true and false", "allow kb.search when not true", 'allow kb.search when "a" == "b"', "allow kb.search when (1 > 2) or false", "allow kb.search unless true", "allow kb.search unless 1 < 2"]) {
      const found = rules(text);
      expect(codesAndLines(found), text).toEqual([["PC500", 2]]);
    }
  });

  it("string methods, `contains` and `like` on literals, as the runtime computes them", () => {
    for (const text of ['allow kb.search when "abc".size() == 2', 'allow kb.search when "ABC".lower() == "x"', 'allow kb.search when "ab".startsWith("b")', 'allow kb.search when "ab".endsWith("a")', 'allow kb.search when "abc" contains "z"', 'allow kb.search when "abc" like "b*"', 'allow kb.search unless "abc".size() == 3']) {
      expect(codesAndLines(rules(text)), text).toEqual([["PC500", 2]]);
    }
    expect(rules('allow kb.search when "abc".size() == 3 and "ABC".lower() == "abc" and "abc" like "a*" and "abc" contains "b"')).toEqual([]);
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

describe("PC501 allow overridden by an unconditional deny or ask", () => {
  it("by a pattern, by `*`, and by `unless false`", () => {
    const found = rules("allow kb.search when agent.attested", "deny kb.*");
    expect(codesAndLines(found)).toEqual([["PC501", 2]]);
    expect(found[0]!.message).toContain("`p/2` denies `kb.search` unconditionally");
    expect(found[0]!.help).toContain("t.policy:3");
    expect(codesAndLines(rules("allow kb.search, crm.lookup", '@name("stop")', "deny *"))).toEqual([["PC501", 2]]);
    expect(codesAndLines(rules("allow kb.search", "deny kb.search unless false"))).toEqual([["PC501", 2]]);
  });

  it("is not reported naming a rule whose id another rule has too (PC200 or PC207 says so; audit s20 a1 L5)", () => {
    const codes = (text: string) => checkAlone(text).map((d) => d.code);
    expect(codes("tool a.b {}\npolicy p { allow a.b }\npolicy p { deny a.b }\n")).toEqual(["PC200"]);
    expect(codes('tool a.b {}\npolicy p {\n  @name("x")\n  allow a.b\n  @name("x")\n  deny a.b\n}\n')).toEqual(["PC207"]);
  });

  it("across files", () => {
    const result = analyze([
      { path: "decls.policy", text: DECLS },
      { path: "a.policy", text: policyOf("allow kb.search") },
      { path: "b.policy", text: "policy q {\n  deny kb.search\n}\n" },
    ]);
    expect(result.diagnostics.map((d) => [d.code, d.span!.file.path])).toEqual([["PC501", "a.policy"]]);
  });

  it("by an unconditional `ask`: ask wins over allow, so an allow that grants nothing never takes effect", () => {
    const found = rules("allow kb.search when agent.attested", "ask kb.*");
    expect(codesAndLines(found)).toEqual([["PC501", 2]]);
    expect(found[0]!.message).toBe("this `allow` never takes effect: `p/2` is an unconditional `ask` for `kb.search`");
    expect(found[0]!.help).toBe("`p/2` is at t.policy:3; ask wins over allow");
    // The `*` covers tools no allow targets as well: PC513.
    expect(codesAndLines(rules("allow kb.search", "ask * when true"))).toEqual([["PC501", 2], ["PC513", 3]]);
  });

  it("not for an allow that grants, where only asks override it: an approved call gets its grants", () => {
    expect(rules('allow kb.search grant "kb:read" for 5m', "ask kb.*")).toEqual([]);
    expect(rules('allow kb.search, crm.lookup grant "read" for 5m', "ask kb.search", "deny crm.lookup")).toEqual([]);
    // Denied unconditionally, it never grants anything.
    const denied = rules('allow kb.search, crm.lookup grant "read" for 5m', "ask kb.search", "deny kb.search", "deny crm.lookup");
    expect(codesAndLines(denied)).toEqual([["PC501", 2]]);
    expect(denied[0]!.message).toBe("this `allow` never takes effect: every tool it targets has an unconditional `deny` (`p/3`, `p/4`)");
  });

  it("when the tools are overridden by several rules, it names them: denies before asks, each in source order", () => {
    const mixed = rules("allow kb.search, crm.lookup", "ask kb.search", "deny crm.lookup", "ask crm.lookup");
    expect(codesAndLines(mixed)).toEqual([["PC501", 2]]);
    expect(mixed[0]!.message).toBe("this `allow` never takes effect: every tool it targets has an unconditional `deny` or `ask` (`p/3`, `p/2`)");
    expect(mixed[0]!.help).toBe("`p/3` is at t.policy:4; deny and ask win over allow");
    const denies = rules("allow kb.search, crm.lookup", "deny kb.search", "deny crm.lookup");
    expect(denies[0]!.message).toBe("this `allow` never takes effect: every tool it targets has an unconditional `deny` (`p/2`, `p/3`)");
    expect(rules("allow kb.search", "ask kb.search", "deny kb.search")[0]!.message).toBe("this `allow` never takes effect: `p/3` denies `kb.search` unconditionally");
  });

  it("not when the deny or ask has a condition, or the allow reaches a tool they do not", () => {
    expect(rules("allow kb.search", "deny kb.search when agent.attested")).toEqual([]);
    expect(rules("allow kb.search", "ask kb.search when agent.attested", "ask kb.search unless agent.attested")).toEqual([]);
    expect(rules("allow kb.search, crm.lookup", "deny kb.search")).toEqual([]);
    expect(rules("allow kb.search, crm.lookup", "ask kb.search")).toEqual([]);
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

  it("a record no request can hold: one that only refers to itself, or is held only by unused records", () => {
    const found = checkAlone("type Lonely { self?: Lonely }\ntype Holder { l: Inner }\ntype Inner { x: int }\ntype Used { x: int }\nagent { u: Used }\n");
    expect(codesAndLines(found)).toEqual([
      ["PC502", 1],
      ["PC502", 2],
      ["PC502", 3],
    ]);
    expect(checkAlone("type Node { next?: Node }\ntool t { args { n: list<Node> } }\n")).toEqual([]);
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

describe("PC506 a string names no declared tool", () => {
  it("compared with `tool`, in a list `tool` is tested against, or looked for in `session.tools`", () => {
    const found = rules('deny * when tool == "kb.serch" or tool != "crm.lokup" or tool in [kb.search, "email.sned"] or session.tools contains "http.gett"');
    expect(found.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC506", 'no declared tool is named "kb.serch", so this comparison is never true', "did you mean `kb.search`?"],
      ["PC506", 'no declared tool is named "crm.lokup", so this comparison is always true', "did you mean `crm.lookup`?"],
      ["PC506", 'no declared tool is named "email.sned", so this element never matches', "did you mean `email.send`?"],
      ["PC506", 'no declared tool is named "http.gett", so this comparison is never true', "did you mean `http.get`?"],
    ]);
  });

  it("not for declared tools, nor for `session.last` (an attempt at an undeclared tool is still the last one), nor for other strings", () => {
    expect(rules('deny * when tool == "kb.search" or session.last == "" or session.last == "shell.exec" or (session.last) == "x.y" or session.last in ["shell.exec"] or agent.team == "kb.serch"')).toEqual([]);
  });
});

describe("PC506 for patterns, affixes and intents", () => {
  it("a `like` pattern no declared tool matches, with the pattern that would", () => {
    const found = rules('deny * when tool like "krm.*" or tool like "*.serch" or tool like "email.snd"');
    expect(found.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC506", 'no declared tool matches "krm.*", so this comparison is never true', 'did you mean "crm.*"?'],
      ["PC506", 'no declared tool matches "*.serch", so this comparison is never true', 'did you mean "*.search"?'],
      ["PC506", 'no declared tool matches "email.snd", so this comparison is never true', "did you mean `email.send`?"],
    ]);
  });

  it("startsWith, endsWith and contains text no declared tool has there", () => {
    const found = rules('deny * when tool.startsWith("krm.") or tool.endsWith(".serch") or tool contains "delete"');
    expect(found.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC506", 'no declared tool starts with "krm.", so this comparison is never true', "did you mean `crm.`?"],
      ["PC506", 'no declared tool ends with ".serch", so this comparison is never true', "did you mean `.search`?"],
      ["PC506", 'no declared tool contains "delete", so this comparison is never true', "the declared tools are `crm.lookup`, `email.send`, `http.get`, `kb.search`"],
    ]);
  });

  it("intent strings: ==, !=, in, like and startsWith", () => {
    const found = rules('deny * when intent == "reserach" or intent != "suport.reply" or intent in ["research", "ops"] or intent like "suport.*" or intent.startsWith("ops")');
    expect(found.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC506", 'no declared intent is named "reserach", so this comparison is never true', "did you mean `research`?"],
      ["PC506", 'no declared intent is named "suport.reply", so this comparison is always true', "did you mean `support.reply`?"],
      ["PC506", 'no declared intent is named "ops", so this element never matches', "name a declared intent, written without quotes (`intent == support.reply`), which the checker then checks"],
      ["PC506", 'no declared intent matches "suport.*", so this comparison is never true', 'did you mean "support.*"?'],
      ["PC506", 'no declared intent starts with "ops", so this comparison is never true', "the declared intents are `support.reply`, `research`"],
    ]);
  });

  it("a set without intents: any intent string", () => {
    const found = checkAlone('tool t.a {}\npolicy p {\n  deny t.a when intent == "x"\n}\n');
    expect(found.map((d) => [d.code, d.help])).toEqual([["PC506", "the set declares no intents"]]);
  });

  it("not for patterns, affixes and intents that fit a declared name, nor for `session.last`", () => {
    expect(rules('deny * when tool like "kb.*" or tool like "*.search" or tool like "*" or tool.startsWith("crm.") or tool.endsWith("get") or tool contains "mail"')).toEqual([]);
    expect(rules('deny * when intent == "research" or intent like "support.*" or intent in ["research"] or intent.endsWith("reply")')).toEqual([]);
    expect(rules('deny * when session.last like "shell.*" or session.last.startsWith("shell.")')).toEqual([]);
  });

  it("a pattern in another syntax is reported once, as PC508", () => {
    expect(codesAndLines(rules('deny * when tool like "%delete"'))).toEqual([["PC508", 2]]);
  });
});

describe("PC509 a condition no tool the rule targets passes", () => {
  // The contract's tools: crm.lookup (risk low), email.send (high), http.get (medium), kb.search (low).
  it("`tool ==` another tool, as an `and` term: the rule never matches", () => {
    const found = rules("deny kb.search when tool == email.send and agent.attested revoke");
    expect(found.map((f) => [f.code, f.line, f.column, f.message, f.help])).toEqual([
      ["PC509", 2, "  deny kb.search when ".length + 1, "`tool == email.send` is never true for the tool this rule targets, so the rule never matches", "it targets only `kb.search`: change the targets or the condition"],
    ]);
    const long = `tool in [${Array(8).fill("email.send").join(", ")}]`;
    expect(rules(`deny kb.search when ${long}`).map((f) => f.message)).toEqual(["this term is never true for the tool this rule targets, so the rule never matches"]);
    // Once a rule: the first such term is why it never matches.
    expect(rules("deny kb.search when agent.attested and tool == email.send and tool == http.get").map((f) => [f.code, f.message])).toEqual([["PC509", "`tool == email.send` is never true for the tool this rule targets, so the rule never matches"]]);
  });

  it("`in`, `contains`, `like`, `!=`, `not`, `or`, strings, and several targets", () => {
    const found = rules(
      "deny kb.search, crm.lookup when tool in [email.send, http.get]",
      "deny kb.search when [email.send, http.get] contains tool",
      'allow kb.search when tool like "crm.*"',
      'deny kb.search when tool contains "mail"',
      "deny kb.search when tool != kb.search",
      "deny kb.search when not (tool == kb.search)",
      "deny kb.search when agent.attested and (tool == email.send or tool == http.get)",
      'ask kb.search when tool == "email.send"',
    );
    expect(codesAndLines(found)).toEqual([2, 3, 4, 5, 6, 7, 8, 9].map((line) => ["PC509", line]));
    expect(found[0]!.message).toBe("`tool in [email.send, http.get]` is never true for any of the 2 tools this rule targets, so the rule never matches");
    expect(found[0]!.help).toBe("it targets `crm.lookup` and `kb.search`: change the targets or the condition");
    expect(found[6]!.message).toBe("`(tool == email.send or tool == http.get)` is never true for the tool this rule targets, so the rule never matches");
  });

  it("an `unless` every targeted tool passes, and `startsWith` / `endsWith` on the tool", () => {
    const found = rules("deny kb.search unless tool == kb.search", "deny kb.search when agent.attested unless tool.risk == low", 'deny kb.search when tool.startsWith("email.")', 'deny kb.search, crm.lookup when tool.endsWith(".get")');
    expect(codesAndLines(found)).toEqual([2, 3, 4, 5].map((line) => ["PC509", line]));
    expect(found[0]!.message).toBe("`unless tool == kb.search` is always true for the tool this rule targets, so the rule never matches");
    expect(found[0]!.column).toBe("  deny kb.search unless ".length + 1);
    expect(found[1]!.help).toBe("it targets only `kb.search` (risk low): change the targets or the condition");
    expect(found[2]!.message).toBe('`tool.startsWith("email.")` is never true for the tool this rule targets, so the rule never matches');
  });

  it("`tool.risk` compared with a risk level no targeted tool is declared with; the help gives their risks", () => {
    const found = rules("deny kb.search when tool.risk >= high", "deny kb.*, crm.lookup when tool.risk == Risk.medium", "deny * when tool.risk > high");
    expect(codesAndLines(found)).toEqual([
      ["PC509", 2],
      ["PC509", 3],
    ]);
    expect(found[0]!.help).toBe("it targets only `kb.search` (risk low): change the targets or the condition");
    expect(found[1]!.help).toBe("it targets `crm.lookup` (risk low) and `kb.search` (risk low): change the targets or the condition");
  });

  it("is a warning: the set is still ok", () => {
    const result = analyze([{ path: "decls.policy", text: DECLS }, { path: "t.policy", text: policyOf("deny kb.search when tool == email.send") }]);
    expect(result.diagnostics.map((d) => [d.code, d.severity])).toEqual([["PC509", "warning"]]);
    expect(result.ok).toBe(true);
  });

  it("not when a targeted tool passes, the term is not settled by the tool alone, or no declared tool passes", () => {
    expect(
      rules(
        "deny kb.search, email.send when tool == email.send",
        'deny kb.search when tool like "kb.*" and tool.risk <= medium',
        "deny kb.search when tool == email.send or agent.attested",
        "deny kb.search unless tool == email.send",
        'deny kb.search when tool.startsWith("kb.") unless tool.endsWith(".get")',
        "deny kb.search when tool in intent.tools",
        "deny kb.search when session.last == email.send",
        "deny kb.search when any(t in session.tools: tool == t)",
        // A guard for tools still to come: no declared tool is critical.
        "deny * when tool.risk >= critical",
        "deny kb.search when tool.risk > intent.max_risk",
      ),
    ).toEqual([]);
    // A string naming no declared tool is PC506's mistake, reported once.
    expect(codesAndLines(rules('deny kb.search when tool == "sql.query"'))).toEqual([["PC506", 2]]);
  });

  it("every rule it reports never matches at run time, for any tool the rule targets (property)", () => {
    const tools = ["crm.lookup", "email.send", "http.get", "kb.search"];
    const risks = ["low", "medium", "high", "critical"];
    const tool = fc.constantFrom(...tools);
    const atom = fc.oneof(
      fc.tuple(fc.constantFrom("==", "!="), tool).map(([op, t]) => `tool ${op} ${t}`),
      tool.map((t) => `tool == ${JSON.stringify(t)}`),
      fc.uniqueArray(tool, { minLength: 1, maxLength: 3 }).map((ts) => `tool in [${ts.join(", ")}]`),
      fc.uniqueArray(tool, { minLength: 1, maxLength: 3 }).map((ts) => `[${ts.join(", ")}] contains tool`),
      fc.constantFrom("kb.*", "*.send", "crm.*", "*", "http.get", "*.*p*").map((p) => `tool like ${JSON.stringify(p)}`),
      fc.constantFrom("kb", "mail", ".", "get").map((t) => `tool contains ${JSON.stringify(t)}`),
      fc.tuple(fc.constantFrom("startsWith", "endsWith"), fc.constantFrom("kb.", "email", ".send", "get", "h")).map(([method, t]) => `tool.${method}(${JSON.stringify(t)})`),
      fc.tuple(fc.constantFrom("==", "!=", "<", "<=", ">", ">="), fc.constantFrom(...risks)).map(([op, r]) => `tool.risk ${op} ${r}`),
      fc.constant("agent.attested"),
    );
    const condition: fc.Arbitrary<string> = fc.letrec<{ expr: string }>((tie) => ({
      expr: fc.oneof({ depthSize: "small", withCrossShrink: true }, atom, tie("expr").map((e) => `not (${e})`), fc.tuple(tie("expr"), fc.constantFrom("and", "or"), tie("expr")).map(([a, op, b]) => `(${a} ${op} ${b})`)),
    })).expr;
    const targets = fc.oneof(fc.uniqueArray(tool, { minLength: 1, maxLength: 3 }), fc.constant(["*"]), fc.constant(["kb.*"]));
    const terms = fc.array(condition, { minLength: 1, maxLength: 3 });
    let reported = 0;
    let matchedUnreported = 0;
    fc.assert(
      fc.property(targets, terms, fc.option(condition, { freq: 3 }), (targeted, chosen, unless) => {
        const text = `deny ${targeted.join(", ")} when ${chosen.join(" and ")}${unless === null ? "" : ` unless ${unless}`}`;
        const { policy, diagnostics } = compileSources([
          { path: "decls.policy", text: DECLS },
          { path: "t.policy", text: policyOf(text) },
        ]);
        expect(diagnostics.filter((d) => d.severity === "error"), text).toEqual([]);
        const warned = diagnostics.some((d) => d.code === "PC509");
        const engine = new Engine(policy!);
        const called = tools.filter((t) => targeted.some((target) => target === "*" || target === t || (target.endsWith(".*") && t.startsWith(target.slice(0, -1)))));
        const matches = called.some((t) => [true, false].some((attested) => engine.decide(call(t, 0, { agent: { ...AGENT, attested } })).rules.includes("p/1")));
        if (warned) {
          reported++;
          expect(matches, text).toBe(false);
        } else if (matches) matchedUnreported++;
      }),
      { numRuns: 400, seed: 7 },
    );
    // Both sides of the property were exercised.
    expect(reported).toBeGreaterThan(20);
    expect(matchedUnreported).toBeGreaterThan(20);
  });
});

describe("PC507 a lower-cased value compared with upper-case text", () => {
  it("==, !=, contains, like, startsWith and endsWith", () => {
    const found = rules('deny kb.search when args.query.lower() contains "DROP" or args.query.lower() != "Q" or "X" == args.query.lower() or args.query.lower() like "*Secret*" or args.query.lower().startsWith("Sel") or args.query.lower().endsWith("X")');
    expect(found.map((d) => d.code)).toEqual(["PC507", "PC507", "PC507", "PC507", "PC507", "PC507"]);
    expect(found[0]!.message).toBe('`lower()` leaves no upper-case letters, so comparing it with "DROP" is never true');
    expect(found[0]!.help).toBe('write the text in lower case: "drop"');
    expect(found[1]!.message).toContain("is always true");
  });

  it("in a list literal: each element with upper-case letters", () => {
    const found = rules('deny kb.search when args.query.lower() in ["DROP TABLE x", "drop y", "Z"]');
    expect(found.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC507", '`lower()` leaves no upper-case letters, so the element "DROP TABLE x" never matches', 'write the text in lower case: "drop table x"'],
      ["PC507", '`lower()` leaves no upper-case letters, so the element "Z" never matches', 'write the text in lower case: "z"'],
    ]);
    expect(found[1]!.column).toBe('  deny kb.search when args.query.lower() in ["DROP TABLE x", "drop y", '.length + 1);
  });

  it("not for lower-case text, nor without lower()", () => {
    expect(rules('deny kb.search when args.query.lower() contains "drop" or args.query contains "DROP" or args.query.lower() == "42"')).toEqual([]);
    expect(rules('deny kb.search when args.query.lower() in ["drop", "42"] or args.query in ["DROP"]')).toEqual([]);
  });
});

describe("PC507 url.host and email.domain compared with text they never return", () => {
  it("a scheme, a path, upper case, user information and a port, for url.host", () => {
    const found = rules('deny http.get when url.host(args.url) == "https://evil.com" or url.host(args.url).endsWith(".Evil.com") or url.host(args.url) == "evil.com/x" or url.host(args.url) == "bob@evil.com" or url.host(args.url) == "evil.com:8080" or url.host(args.url) == "bücher.de"');
    expect(found.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC507", '`url.host` returns the host alone, with no scheme, path, query or fragment, so comparing it with "https://evil.com" is never true', 'write the host alone: "evil.com"'],
      ["PC507", '`url.host` returns the host in lower case, so comparing it with ".Evil.com" is never true', 'write the text in lower case: ".evil.com"'],
      ["PC507", '`url.host` returns the host alone, with no scheme, path, query or fragment, so comparing it with "evil.com/x" is never true', 'write the host alone: "evil.com"'],
      ["PC507", '`url.host` returns the host alone, without the user information before an `@`, so comparing it with "bob@evil.com" is never true', 'write the host alone: "evil.com"'],
      ["PC507", '`url.host` returns the host without its port, so comparing it with "evil.com:8080" is never true', 'leave out the port: "evil.com"'],
      ["PC507", '`url.host` returns the host in its ASCII form (`bücher.de` is `xn--bcher-kva.de`), so comparing it with "bücher.de" is never true', 'write it in its ASCII form: "xn--bcher-kva.de"'],
    ]);
  });

  it("the `@`, upper case, other characters and extra dots, for email.domain", () => {
    const found = rules('deny email.send when any(r in args.to: email.domain(r) == "@evil.com" or email.domain(r) != "Acme.com" or email.domain(r) in ["acme.com", "evil.com."] or email.domain(r).startsWith(".") or email.domain(r) == "evil com")');
    expect(found.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC507", '`email.domain` returns the part after the `@`, so comparing it with "@evil.com" is never true', 'write the domain alone: "evil.com"'],
      ["PC507", '`email.domain` returns the domain in lower case, so comparing it with "Acme.com" is always true', 'write the text in lower case: "acme.com"'],
      ["PC507", '`email.domain` returns a domain with no leading or trailing dot and no empty label, so the element "evil.com." never matches', 'leave out the extra dots: "evil.com"'],
      ["PC507", '`email.domain` returns a domain with no leading or trailing dot and no empty label, so comparing it with "." is never true', undefined],
      ["PC507", '`email.domain` returns only letters, digits, `.`, `-` and `_`, so comparing it with "evil com" is never true', undefined],
    ]);
  });

  it("an IPv6 address without its brackets: url.host keeps them (`[::1]`), whatever the text is compared with", () => {
    const found = rules('deny http.get when url.host(args.url) == "::1" or url.host(args.url) in ["0:0:0:0:0:0:0:1", "::FFFF:127.0.0.1"] or url.host(args.url).startsWith("fe80::") or url.host(args.url).endsWith("::1")');
    expect(found.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC507", '`url.host` returns an IPv6 address in the brackets a URL writes it in (`[::1]`), so comparing it with "::1" is never true', 'write it in brackets: "[::1]"'],
      ["PC507", '`url.host` returns an IPv6 address in the brackets a URL writes it in (`[::1]`), so the element "0:0:0:0:0:0:0:1" never matches', 'write it in brackets: "[::1]"'],
      ["PC507", '`url.host` returns an IP address in one form only, and this one as `127.0.0.1`, so the element "::FFFF:127.0.0.1" never matches', 'write it in that form: "127.0.0.1"'],
      ["PC507", '`url.host` returns an IPv6 address in the brackets a URL writes it in (`[::1]`), so comparing it with "fe80::" is never true', 'write it in brackets: "[fe80::"'],
      ["PC507", '`url.host` returns an IPv6 address in the brackets a URL writes it in (`[::1]`), so comparing it with "::1" is never true', 'write it in brackets: "::1]"'],
    ]);
    // A host and port is still a port; an address inside the host is there as written.
    expect(rules('deny http.get when url.host(args.url) == "evil.com:443"')[0]!.message).toContain("without its port");
    expect(rules('deny http.get when url.host(args.url) contains "::1" or url.host(args.url) == "[::1]"')).toEqual([]);
  });

  it("a list literal that contains the call's value warns as `in` that list does, element by element", () => {
    const written = ['url.host(args.url) in ["bücher.de", "evil.com", "Evil.org"]', '["bücher.de", "evil.com", "Evil.org"] contains url.host(args.url)', '(["bücher.de", "evil.com", "Evil.org"]) contains (url.host(args.url))'];
    const found = written.map((condition) => rules(`deny http.get when ${condition}`).map((d) => [d.code, d.message, d.help]));
    expect(found[0]).toEqual([
      ["PC507", '`url.host` returns the host in its ASCII form (`bücher.de` is `xn--bcher-kva.de`), so the element "bücher.de" never matches', 'write it in its ASCII form: "xn--bcher-kva.de"'],
      ["PC507", '`url.host` returns the host in lower case, so the element "Evil.org" never matches', 'write the text in lower case: "evil.org"'],
    ]);
    expect(found[1]).toEqual(found[0]);
    expect(found[2]).toEqual(found[0]);
    expect(rules('deny email.send when any(r in args.to: ["Acme.com"] contains email.domain(r))').map((d) => d.message)).toEqual(['`email.domain` returns the domain in lower case, so the element "Acme.com" never matches']);
  });

  it("extra dots, for url.host too: one trailing dot is taken off, and an empty label is an evaluation error", () => {
    const found = rules('deny http.get when url.host(args.url) == "evil.example." or url.host(args.url).startsWith(".") or url.host(args.url) contains ".." or url.host(args.url) like ".*"');
    expect(found.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC507", '`url.host` returns a host with no leading or trailing dot and no empty label, so comparing it with "evil.example." is never true', 'leave out the extra dots: "evil.example"'],
      ["PC507", '`url.host` returns a host with no leading or trailing dot and no empty label, so comparing it with "." is never true', undefined],
      ["PC507", '`url.host` returns a host with no leading or trailing dot and no empty label, so comparing it with ".." is never true', undefined],
      ["PC507", '`url.host` returns a host with no leading or trailing dot and no empty label, so comparing it with ".*" is never true', undefined],
    ]);
  });

  it("like: the piece before the first `*` starts the value, the piece after the last ends it", () => {
    const found = rules('deny http.get when url.host(args.url) like "https://*.evil.com/*" or url.host(args.url) like "*:443"', 'deny email.send when any(r in args.to: email.domain(r) like "*@evil.com")');
    expect(found.map((d) => [d.code, d.line, d.help])).toEqual([
      ["PC507", 2, 'write the host alone: "*.evil.com"'],
      ["PC507", 2, undefined],
      ["PC507", 3, 'write the domain alone: "evil.com"'],
    ]);
  });

  it("not for text the call can return, however odd", () => {
    expect(rules('deny http.get when url.host(args.url) == "evil.com" or url.host(args.url) == "[::1]" or url.host(args.url) contains ":" or url.host(args.url) == "" or url.host(args.url) contains "." or url.host(args.url).endsWith(".com") or url.host(args.url) like "*.evil.com" or url.host(args.url).endsWith("]")')).toEqual([]);
    expect(rules('deny email.send when any(r in args.to: email.domain(r) == "acme.com" or email.domain(r) == "a_b-c.io" or email.domain(r).endsWith(".acme.com") or email.domain(r) like "*.acme.*")')).toEqual([]);
  });

  it("a variable named like the namespace is not the call", () => {
    const found = rules('deny * when any(url in user.roles: url == "HTTPS://x")');
    expect(found.map((d) => d.code)).toEqual(["PC505"]);
  });
});

describe("PC508 a `like` pattern written as SQL or a regular expression", () => {
  it("SQL's `%` and an all-`_` local part, with the `*` form", () => {
    const found = rules('deny email.send when any(r in args.to: r like "%@rival.com" or r like "_@rival.com" or r like "%admin%")');
    expect(found.map((d) => [d.code, d.message, d.help])).toEqual([
      // The `*` form of an address's domain is itself the weak test PC512 is about: the help says what is stronger.
      ["PC508", "this `like` pattern is written as in SQL (`%`), but `like` has one wildcard, `*`, and every other character matches itself", 'did you mean "*@rival.com"? (to test an address\'s domain, `email.domain(r) == "rival.com"` is stronger: PC512)'],
      ["PC508", "this `like` pattern is written as in SQL (`_`), but `like` has one wildcard, `*`, and every other character matches itself", 'did you mean "*@rival.com"? (to test an address\'s domain, `email.domain(r) == "rival.com"` is stronger: PC512)'],
      ["PC508", "this `like` pattern is written as in SQL (`%`), but `like` has one wildcard, `*`, and every other character matches itself", 'did you mean "*admin*"?'],
    ]);
    expect(found[0]!.column).toBe('  deny email.send when any(r in args.to: r like '.length + 1);
    expect(rules('deny email.send when any(r in args.to: not (r like "%@acme.com"))')[0]!.help).toBe('did you mean "*@acme.com"? (to test an address\'s domain, `email.domain(r) != "acme.com"` is stronger: PC512)');
  });

  it("regular expressions: `.*` with `\\.`, `^` or `$`, two `.*`, and classes", () => {
    const cases: [string, string, string][] = [
      ['".*\\\\.onion.*"', "`.*`, `\\\\.`", 'did you mean "*.onion*"?'],
      ['"^http://.*"', "`^`, `.*`", 'did you mean "http://*"?'],
      ['".*onion.*"', "`.*`", 'did you mean "*onion*"?'],
      ['"http://.*$"', "`.*`, `$`", 'did you mean "*http://*"?'],
      ['"\\\\.onion$"', "`\\\\.`, `$`", 'did you mean "*.onion"?'],
      ['".*@rival.com"', "`.*`", 'did you mean "*@rival.com*"?'],
      ['"^https?://.*"', "`^`, `.*`", 'write the pattern with `*` for any run of characters, as in "*@acme.com"'],
      ['"[Ss]ecret*"', "`[Ss]`", "`like` has no character classes: to ignore case, compare a `lower()`d value; for several spellings, join `like`s with `or`"],
      ['"*[^@]*@x.com"', "`[^@]`", "`like` has no character classes: to ignore case, compare a `lower()`d value; for several spellings, join `like`s with `or`"],
    ];
    for (const [pattern, constructs, help] of cases) {
      const found = rules(`deny http.get when args.url like ${pattern}`);
      expect(found.map((d) => [d.code, d.message, d.help]), pattern).toEqual([["PC508", `this \`like\` pattern is written as a regular expression (${constructs}), but \`like\` has one wildcard, \`*\`, and every other character matches itself`, help]]);
    }
  });

  it("not for globs whose `.`, `_`, `$`, `^`, `%` or brackets are text", () => {
    const globs = ["kb.*", "*.acme.com", "*_test", "*.*", "*.*.*", ".*", ".*rc", "*\\\\c$", "evil.com$", "*%2F*", "*%40*", "^1.2", "^*", "~*", "http://[::1]*", "*[REDACTED]*", "support.*", "*@acme.com", "*"];
    // Found by review: globs with several `.*` after names, and `%` beside a glob `*` (a format
    // string, percent-encoded bytes of letters only).
    globs.push("api.*.acme.*", "aws.*.iam.*", "*.tar.*.gz.*", "*%n*", "*%s%s%s*", "*%c0%af*", "*%ef%bc%8f*");
    for (const glob of globs) expect(rules(`deny http.get when args.url like ${JSON.stringify(glob)}`).filter((d) => d.code === "PC508"), glob).toEqual([]);
  });

  it("a pattern on a normalizing call is reported once, as PC508", () => {
    expect(codesAndLines(rules('deny http.get when url.host(args.url) like ".*\\\\.onion"'))).toEqual([["PC508", 2]]);
  });
});

describe("PC511 a glob `*` in a string compared as it is", () => {
  it("`contains` and `containsAny` on a list of strings, `in` a list, `==`: the help writes the `like` test", () => {
    const found = rules('deny http.get when args.url == "https://*.evil.com/*" or args.url != "*.onion*" or args.url in ["*.onion*", "x"] or "mail.*" in user.roles or user.roles contains "admin*" or user.roles containsAll ["a*", "b*"]');
    expect(found.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC511", "`==` compares this string as it is: `*` is a wildcard only in `like`, so here it matches only a `*`", 'write `args.url like "https://*.evil.com/*"`'],
      ["PC511", "`in` compares this string as it is: `*` is a wildcard only in `like`, so here it matches only a `*`", 'write `args.url like "*.onion*"` (one test for each pattern, joined with `or`)'],
      ["PC511", "`in` compares this string as it is: `*` is a wildcard only in `like`, so here it matches only a `*`", 'write `any(r in user.roles: r like "mail.*")`'],
      ["PC511", "`contains` compares this string as it is: `*` is a wildcard only in `like`, so here it matches only a `*`", 'write `any(r in user.roles: r like "admin*")`'],
      ["PC511", "`containsAll` compares this string as it is: `*` is a wildcard only in `like`, so here it matches only a `*`", 'write `any(r in user.roles: r like "a*")` (one test for each pattern, joined with `and`)'],
      ["PC511", "`containsAll` compares this string as it is: `*` is a wildcard only in `like`, so here it matches only a `*`", 'write `any(r in user.roles: r like "b*")` (one test for each pattern, joined with `and`)'],
    ]);
    expect(found[0]!.column).toBe("  deny http.get when args.url == ".length + 1);
  });

  it("an address's domain: the help writes `email.domain`, which `like \"*@…\"` is weaker than (PC512)", () => {
    const found = rules('deny email.send when args.to contains "*@evil.com" or args.to containsAny ["*@Rival.com"] or any(r in args.to: r == "*@evil.com" or r != "*@acme.com")');
    expect(found.map((d) => [d.code, d.help])).toEqual([
      ["PC511", 'write `any(t in args.to: email.domain(t) == "evil.com")`'],
      ["PC511", 'write `any(t in args.to: email.domain(t) == "rival.com")`'],
      ["PC511", 'write `email.domain(r) == "evil.com"`'],
    ]);
  });

  it("only where the `like` it writes makes the rule stricter: an exact allow-list with stars in it is sound, and widening it would let more through", () => {
    // Allow-lists of globs, commands, queries and schedules: `like` would allow `ls ; curl … | sh ; echo .log`.
    expect(rules('allow http.get when args.url in ["https://*.acme.com/*"] or args.url == "*.md" or user.roles contains "admin*" or args.url contains "*approved*"')).toEqual([]);
    // A deny's `!=`, or a test under `not` or `unless` in a deny: `not like` would deny less.
    expect(rules('deny http.get when args.url != "docs/*.md" or not (args.url == "*.onion*")')).toEqual([]);
    expect(rules('deny http.get unless args.url == "https://*.acme.com/*"')).toEqual([]);
    // The other way round they loosen the allow as written, and the rewrite tightens it.
    const found = rules('allow http.get when args.url != "*.exe" or not (args.url == "*.onion*")\n  allow email.send unless args.body contains "*password*"\n  deny http.get unless args.url != "*.onion*"');
    expect(found.map((d) => [d.code, d.line, d.help])).toEqual([
      ["PC511", 2, 'write `not (args.url like "*.exe")`'],
      ["PC511", 2, 'write `args.url like "*.onion*"`'],
      ["PC511", 3, 'write `args.body contains "password"`'],
      ["PC511", 4, 'write `not (args.url like "*.onion*")`'],
    ]);
  });

  it("reads the direction of a test through every `not`, `and`, `or` and quantifier around it, and offers nothing where it cannot read it", () => {
    // An allow under `not (A or B)` or `not any(…)` lets the wildcard through as written: warned.
    const allowed = rules('allow http.get when not (args.url == "*.exe" or args.url contains "*sudo*") and not any(r in user.roles: r == "guest*")');
    expect(allowed.map((d) => [d.code, d.help])).toEqual([
      ["PC511", 'write `args.url like "*.exe"`'],
      ["PC511", 'write `args.url contains "sudo"`'],
      ["PC511", 'write `r like "guest*"`'],
    ]);
    // A deny under `not (A or B)`: `like` would deny less. Inside another comparison: not read.
    expect(rules('deny http.get when not (args.url == "report-*.csv" or args.url == "summary-*.csv")')).toEqual([]);
    expect(rules('deny http.get when (args.url == "*.key") == false')).toEqual([]);
    // `not all(r != P)` in a deny is `any(r == P)`: the rewrite of `!=` makes it deny more, so it is offered.
    expect(rules('deny http.get when not all(r in user.roles: r != "admin*")').map((d) => [d.code, d.help])).toEqual([["PC511", 'write `not (r like "admin*")`']]);
  });

  it("`endsWith` of a name written as a glob (`\"*.pem\"`): the help drops the star; a star at the end of a `startsWith` is text", () => {
    expect(rules('deny http.get when args.url.endsWith("*.pem") or args.url.startsWith("rm -rf *")').map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC511", "`endsWith` compares the text as it is: `*` is a wildcard only in `like`, so a star here matches only a `*`", 'write `args.url.endsWith(".pem")`'],
    ]);
    // Where dropping it would loosen the rule (an allow), or nothing is after it: quiet.
    expect(rules('allow http.get when args.url.endsWith("*.pdf")', 'deny http.get when args.url.endsWith("*") or args.url.endsWith("* x")')).toEqual([]);
  });

  it("one star stuck to a name at the end a method leaves open: the end of a `startsWith` (`\"/etc/*\"`), either end of a `contains` (`\"*.env\"`); stars standing apart are text", () => {
    const found = rules('deny http.get when args.url.startsWith("/etc/*") or args.url contains "*.env" or args.url contains "secret_*" or args.url.endsWith("**.pem")');
    expect(found.map((d) => [d.code, d.help])).toEqual([
      ["PC511", 'write `args.url.startsWith("/etc/")`'],
      ["PC511", 'write `args.url contains ".env"`'],
      ["PC511", 'write `args.url contains "secret_"`'],
      ["PC511", 'write `args.url.endsWith(".pem")`'],
    ]);
    expect(found[1]!.message).toBe("`contains` finds the text anywhere already: `*` is a wildcard only in `like`, so a star here matches only a `*`");
    expect(rules('deny http.get when args.url.startsWith("rm -rf *") or args.url contains "SELECT *" or args.url contains "a*b" or args.url.startsWith("*foo") or args.url contains "*"')).toEqual([]);
    // In an allow, dropping the star would let more through: quiet.
    expect(rules('allow http.get when args.url.startsWith("/srv/*") or args.url contains "*.pdf"')).toEqual([]);
  });

  it("not for a star in brackets (`COUNT(*)`) or Markdown's bold (`**CONFIDENTIAL**`)", () => {
    expect(rules('deny http.get when args.url == "SELECT COUNT(*) FROM t" or args.url contains "**CONFIDENTIAL**"')).toEqual([]);
  });

  it("text looked for anywhere (`contains`, `startsWith`, `endsWith`) with a `*` at both ends", () => {
    const found = rules('deny email.send when args.body contains "*password*" or args.body.startsWith("*secret*") or args.subject contains "*a*b*"');
    expect(found.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC511", "`contains` finds the text anywhere already: `*` is a wildcard only in `like`, so these stars match only `*`s", 'write `args.body contains "password"`'],
      ["PC511", "`startsWith` compares the text as it is: `*` is a wildcard only in `like`, so these stars match only `*`s", 'write `args.body contains "secret"`'],
      ["PC511", "`contains` finds the text anywhere already: `*` is a wildcard only in `like`, so these stars match only `*`s", 'write `args.subject like "*a*b*"`'],
    ]);
  });

  it("reported once: a `*` in text a normalizing call is compared with is this mistake, not PC507", () => {
    expect(codesAndLines(rules('deny email.send when any(r in args.to: email.domain(r) == "*.evil.com")'))).toEqual([["PC511", 2]]);
  });

  it("not for `*` alone or as a word of its own, a `*` at one end of text looked for, `like`, or tool names (PC506's)", () => {
    expect(rules('deny email.send when args.body == "*" or args.body contains "rm -rf *" or args.body == "SELECT * FROM t" or args.body contains "*" or args.body like "*secret*" or args.to contains "*"')).toEqual([]);
    expect(rules('deny email.send when args.body contains "**" or user.roles containsAny ["*"]')).toEqual([]);
    expect(codesAndLines(rules('deny * when tool == "kb.*" or session.tools containsAny ["kb.*"]'))).toEqual([["PC506", 2], ["PC506", 2]]);
  });

  it("the deny it warns about never matches at run time, and the help's test does", () => {
    const decide = (condition: string) => decisionOf(["allow email.send", `deny email.send when ${condition}`], "email.send", { args: { to: ["eve@evil.com"], subject: "s", body: "the password is x" } });
    expect(decide('args.to contains "*@evil.com"')).toBe("allow");
    expect(decide('any(t in args.to: email.domain(t) == "evil.com")')).toBe("deny");
    expect(decide('args.body contains "*password*"')).toBe("allow");
    expect(decide('args.body contains "password"')).toBe("deny");
  });
});

describe("PC506 for `containsAny` and `containsAll` on `session.tools`, as for `contains`", () => {
  it("each element of the list", () => {
    const found = rules('deny * when session.tools containsAny ["mail.*", "kb.search"] or session.tools containsAll ["kb.serch"]');
    expect(found.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC506", 'no declared tool is named "mail.*", so this element never matches', "name a declared tool, written without quotes (`tool == kb.search`), which the checker then checks"],
      ["PC506", 'no declared tool is named "kb.serch", so this element never matches', "did you mean `kb.search`?"],
    ]);
  });
});

describe("PC512 an address's domain tested on its text (`like \"*@domain\"`, `endsWith`)", () => {
  it("an address at any subdomain (`*@*.acme.com`): the help tests the domain's end with `email.domain`", () => {
    const found = rules('deny email.send when any(r in args.to: not (r like "*@*.Acme.com")) or any(r in args.to: r like "*@*.evil.com")');
    expect(found.map((d) => [d.code, d.help])).toEqual([
      ["PC512", 'write `not (email.domain(r).endsWith(".acme.com"))` for `not (r like "*@*.Acme.com")`: `email.domain` refuses such text with an evaluation error, which fails closed'],
      ["PC512", 'write `email.domain(r).endsWith(".evil.com")`: `email.domain` reads the domain as mail systems do, and refuses text that is not one plain address with an evaluation error, which fails closed'],
    ]);
    expect(rules('deny email.send when any(r in args.to: not (email.domain(r).endsWith(".acme.com")))')).toEqual([]);
  });

  it("not in an `ask`, which is stricter than an allow and looser than a default deny: neither `email.domain`'s error nor a wider `like` is safe to offer there (PC511 and PC512 stay quiet)", () => {
    expect(rules('ask email.send when any(r in args.to: r like "*@partner.example")')).toEqual([]);
    expect(rules('ask email.send when args.to contains "*@partner.example"')).toEqual([]);
    expect(rules('allow email.send', 'ask email.send unless all(r in args.to: r like "*@acme.com")')).toEqual([]);
    // An exact list of commands that need a person: `like` would also ask about `rm -rf /tmp/build/* ; curl … | sh`, which was denied.
    expect(rules('ask email.send when args.to contains "rm -rf /tmp/build/*" or args.to contains "*.tmp"')).toEqual([]);
  });

  it("the help writes `email.domain`: `!=` for the operand of `not`, `==` otherwise", () => {
    const found = rules('deny email.send when any(r in args.to: not (r like "*@acme.com")) or any(r in args.to: r like "*@Evil.com.")');
    expect(found.map((d) => [d.code, d.message, d.help])).toEqual([
      ["PC512", 'this pattern also matches text holding several addresses that ends with one at acme.com, such as "eve@evil.example, bob@acme.com", which a mailer reads as two recipients', 'write `email.domain(r) != "acme.com"` for `not (r like "*@acme.com")`: `email.domain` refuses such text with an evaluation error, which fails closed'],
      ["PC512", 'this pattern misses addresses at evil.com written another way, such as "eve@EVIL.COM", "eve@evil.com" or "eve@evil.com.", which a mailer delivers to evil.com too', 'write `email.domain(r) == "evil.com"`: `email.domain` reads the domain as mail systems do, and refuses text that is not one plain address with an evaluation error, which fails closed'],
    ]);
    expect(found[0]!.column).toBe("  deny email.send when any(r in args.to: not (r like ".length + 1);
  });

  it("in a deny-list, where matching more is harmless, the message names what the pattern misses: case, a trailing dot, a display name (audit V, F6)", () => {
    const found = rules('deny email.send when any(r in args.to: r like "*@evil.com")', 'allow email.send unless any(r in args.to: r like "*@EVIL.COM")', 'allow email.send when not (args.to containsAny ["x"]) and all(r in args.to: not (r like "*@evil.com"))');
    const missing = 'this pattern misses addresses at evil.com written another way, such as "eve@EVIL.COM", "eve@evil.com." or "Eve <eve@evil.com>", which a mailer delivers to evil.com too';
    const reads = "`email.domain` reads the domain as mail systems do, and refuses text that is not one plain address with an evaluation error, which fails closed";
    expect(found.map((d) => [d.code, d.line, d.message, d.help])).toEqual([
      ["PC512", 2, missing, `write \`email.domain(r) == "evil.com"\`: ${reads}`],
      ["PC512", 3, missing.replace('"eve@EVIL.COM", "eve@evil.com." or', '"eve@evil.com", "eve@evil.com." or'), `write \`email.domain(r) == "evil.com"\`: ${reads}`],
      // The `like` holding keeps the allow from applying: the same hole, written under `not`.
      ["PC512", 4, missing, `write \`email.domain(r) != "evil.com"\` for \`not (r like "*@evil.com")\`: ${reads}`],
    ]);
  });

  it("endsWith of `@domain` as the `like` it means: in both directions, under `not`, with the same help", () => {
    const found = rules(
      'deny email.send when any(r in args.to: r.endsWith("@evil.com") or r.endsWith(".Evil.com"))',
      'allow email.send when all(r in args.to: r.endsWith("@acme.com"))',
      'deny email.send when any(r in args.to: not (r.endsWith("@acme.com")))',
      'deny kb.search when user.id.endsWith("@evil.com")',
    );
    expect(found.map((d) => [d.code, d.line, d.message, d.help])).toEqual([
      ["PC512", 2, 'this test misses addresses at evil.com written another way, such as "eve@EVIL.COM", "eve@evil.com." or "Eve <eve@evil.com>", which a mailer delivers to evil.com too', 'write `email.domain(r) == "evil.com"`: `email.domain` reads the domain as mail systems do, and refuses text that is not one plain address with an evaluation error, which fails closed'],
      ["PC512", 3, 'this test also matches text holding several addresses that ends with one at acme.com, such as "eve@evil.example, bob@acme.com", which a mailer reads as two recipients', 'write `email.domain(r) == "acme.com"`: `email.domain` refuses such text with an evaluation error, which fails closed'],
      ["PC512", 4, 'this test also matches text holding several addresses that ends with one at acme.com, such as "eve@evil.example, bob@acme.com", which a mailer reads as two recipients', 'write `email.domain(r) != "acme.com"` for `not (r.endsWith("@acme.com"))`: `email.domain` refuses such text with an evaluation error, which fails closed'],
      ["PC512", 5, 'this test misses addresses at evil.com written another way, such as "eve@EVIL.COM", "eve@evil.com." or "Eve <eve@evil.com>", which a mailer delivers to evil.com too', 'write `email.domain(user.id) == "evil.com"`: `email.domain` reads the domain as mail systems do, and refuses text that is not one plain address with an evaluation error, which fails closed'],
    ]);
    expect(found[0]!.column).toBe('  deny email.send when any(r in args.to: r.endsWith('.length + 1);
  });

  it("not for endsWith on a host or other text (`.evil.com`), a lower()d value, url.host or email.domain, in an `ask`, or where its direction is not read", () => {
    // `.evil.com` may end a host or a path even in a field named `to`: `email.domain` reads such text as no address, so its rewrite would let a deny-listed host through.
    expect(rules('deny email.send when any(r in args.to: r.endsWith(".evil.com"))', 'deny kb.search when user.id.endsWith(".onion")')).toEqual([]);
    expect(rules('deny http.get when args.url.endsWith(".evil.com") or url.host(args.url).endsWith(".evil.com")', "deny kb.search when context has destination and context.destination.host.endsWith(\".evil.com\")")).toEqual([]);
    expect(rules('deny email.send when any(r in args.to: r.lower().endsWith("@evil.com") or email.domain(r).endsWith(".evil.com") or r.endsWith("evil.com") or r.startsWith("@evil.com"))')).toEqual([]);
    expect(rules('ask email.send when any(r in args.to: r.endsWith("@evil.com"))')).toEqual([]);
    expect(rules('deny email.send when any(r in args.to: r.endsWith("@evil.com") == true)')).toEqual([]);
  });

  it("the forms it names pass the deny-list as written at run time, and `email.domain` denies each of them", () => {
    for (const recipient of ["eve@EVIL.COM", "eve@evil.com.", "Eve <eve@evil.com>"]) {
      const decide = (condition: string) => decisionOf(["allow email.send", `deny email.send when any(r in args.to: ${condition})`], "email.send", { args: { to: [recipient], subject: "s", body: "b" } });
      expect([decide('r like "*@evil.com"'), decide('r.endsWith("@evil.com")'), decide('email.domain(r) == "evil.com"')], recipient).toEqual(["allow", "allow", "deny"]);
    }
  });

  it("not for other patterns, nor where PC507 or PC508 says what is wrong", () => {
    expect(rules('deny email.send when any(r in args.to: r like "bob@acme.com" or r like "*acme.com" or r like "*@acme.com*")')).toEqual([]);
    expect(codesAndLines(rules('deny email.send when any(r in args.to: email.domain(r) like "*@acme.com" or r like "%@acme.com")'))).toEqual([["PC507", 2], ["PC508", 2]]);
  });

  it("the text it names passes the `like` at run time, and `email.domain` fails closed on it", () => {
    const decide = (condition: string) => decisionOf(["allow email.send", `deny email.send when any(r in args.to: ${condition})`], "email.send", { args: { to: ["eve@evil.example, bob@acme.com"], subject: "s", body: "b" } });
    expect(decide('not (r like "*@acme.com")')).toBe("allow");
    expect(decide('email.domain(r) != "acme.com"')).toBe("deny");
  });
});

describe("PC507 an IP address written in a form url.host never returns", () => {
  it("names the one form url.host returns, as the help", () => {
    const found = rules('deny http.get when url.host(args.url) in ["[::ffff:169.254.169.254]", "0177.0.0.1", "2130706433", "127.1", "0x7f000001", "[0:0:0:0:0:0:0:1]"]');
    expect(found.map((d) => [d.code, d.help])).toEqual([
      ["PC507", 'write it in that form: "169.254.169.254"'],
      ["PC507", 'write it in that form: "127.0.0.1"'],
      ["PC507", 'write it in that form: "127.0.0.1"'],
      ["PC507", 'write it in that form: "127.0.0.1"'],
      ["PC507", 'write it in that form: "127.0.0.1"'],
      ["PC507", 'write it in that form: "[::1]"'],
    ]);
    expect(found[0]!.message).toBe('`url.host` returns an IP address in one form only, and this one as `169.254.169.254`, so the element "[::ffff:169.254.169.254]" never matches');
  });

  it("not for addresses in that form, or names", () => {
    expect(rules('deny http.get when url.host(args.url) in ["169.254.169.254", "[::1]", "[fd00:ec2::254]", "10.0.0.1", "example.com", "deadbeef.example"]')).toEqual([]);
  });
});

describe("PC516 a URL's host tested on its text (`startsWith`, `like`, `contains`) where holding loosens the rule (audit O, F6)", () => {
  const reads = "`url.host` reads the host as HTTP clients do, and refuses a URL with user information (`…@evil.example`) with an evaluation error, which fails closed";

  it("a start that leaves the host open: the message names a longer host and user information, the help tests `url.host` and keeps the scheme", () => {
    const found = rules('allow http.get when args.url.startsWith("https://api.acme.com")');
    expect(found.map((d) => [d.code, d.line, d.message, d.help])).toEqual([
      ["PC516", 2, 'this test reads the URL as text, so it also holds for URLs on other hosts, such as "https://api.acme.com.evil.example/" or "https://api.acme.com@evil.example/"', `write \`url.host(args.url) == "api.acme.com" and args.url.startsWith("https://")\`: ${reads}`],
    ]);
    expect(found[0]!.column).toBe("  allow http.get when args.url.startsWith(".length + 1);
  });

  it("a `like` pattern: a star ending the host runs into another host, a star before it over the `/` or `?` that ends the real one; `*.` gets `endsWith`", () => {
    const found = rules('allow http.get when args.url like "https://*.acme.com/*"', 'allow http.get when args.url like "https://api.acme.com*"', 'allow http.get when args.url like "https://*.acme.com/v1/*"', 'allow http.get when args.url like "https://api-*.acme.com/*"');
    expect(found.map((d) => [d.line, d.message.replace(/.*such as /, ""), d.help!.replace(`: ${reads}`, "")])).toEqual([
      [2, '"https://evil.example/.acme.com/" or "https://evil.example?.acme.com/"', 'write `url.host(args.url).endsWith(".acme.com") and args.url.startsWith("https://")`'],
      [3, '"https://api.acme.com.evil.example/" or "https://api.acme.com@evil.example/"', 'write `url.host(args.url) == "api.acme.com" and args.url.startsWith("https://")`'],
      [4, '"https://evil.example/.acme.com/v1/" or "https://evil.example?.acme.com/v1/"', 'write `url.host(args.url).endsWith(".acme.com") and args.url.startsWith("https://")`, and test the path apart from the host'],
      [5, '"https://api-evil.example/.acme.com/" or "https://api-evil.example?.acme.com/"', 'write `url.host(args.url) like "api-*.acme.com" and args.url.startsWith("https://")`'],
    ]);
  });

  it("`contains` finds a URL in another URL's query; under `not` in a deny the help writes the negation", () => {
    const found = rules('allow http.get when args.url contains "https://api.acme.com/"', 'deny http.get when not (args.url.startsWith("https://api.acme.com"))');
    expect(found.map((d) => [d.line, d.message.replace(/.*such as /, ""), d.help!.replace(`: ${reads}`, "")])).toEqual([
      [2, '"https://evil.example/?next=https://api.acme.com/"', 'write `url.host(args.url) == "api.acme.com" and args.url.startsWith("https://")`'],
      [3, '"https://api.acme.com.evil.example/" or "https://api.acme.com@evil.example/"', 'write `not (url.host(args.url) == "api.acme.com" and args.url.startsWith("https://"))` for `not (args.url.startsWith("https://api.acme.com"))`'],
    ]);
  });

  it("what the warning says is true: the allow lets those URLs through, and the help's test does not", () => {
    for (const url of ["https://api.acme.com.evil.example/", "https://api.acme.com@evil.example/"]) {
      expect(decisionOf(['allow http.get when args.url.startsWith("https://api.acme.com")'], "http.get", { args: { url } }), url).toBe("allow");
      expect(decisionOf(['allow http.get when url.host(args.url) == "api.acme.com" and args.url.startsWith("https://")'], "http.get", { args: { url } }), url).toBe("deny");
    }
    expect(decisionOf(['allow http.get when url.host(args.url) == "api.acme.com" and args.url.startsWith("https://")'], "http.get", { args: { url: "https://api.acme.com/v1/x" } })).toBe("allow");
  });

  it("quiet where the host is pinned (a `/` after it), for a scheme alone or any host, where the test tightens the rule, in an `ask`, and on `url.host` or upper-case text after `lower()` (PC507's)", () => {
    expect(rules('allow http.get when args.url.startsWith("https://api.acme.com/") or args.url like "https://api.acme.com/*" or args.url like "https://api.acme.com"', 'allow http.get when args.url.startsWith("https://") or args.url like "https://*/*" or args.url.startsWith("https://api.acme.com:8443/")')).toEqual([]);
    expect(rules('deny http.get when args.url.startsWith("https://evil.com") or args.url like "https://*.evil.com/*"', 'allow http.get unless args.url contains "https://evil.com"', 'ask http.get when args.url.startsWith("https://partner.example")')).toEqual([]);
    expect(codesAndLines(rules('allow http.get when url.host(args.url).startsWith("https://api.acme.com") or args.url.lower().startsWith("https://API.acme.com")'))).toEqual([["PC507", 2], ["PC507", 2]]);
  });

  it("a host left open after a dot: an IPv4 start gets ip.inRange with the range it means, a name a list of hosts (review 5)", () => {
    const found = rules('allow http.get when args.url.startsWith("http://10.")', 'allow http.get when args.url like "http://192.168.*/*"', 'allow http.get when args.url.startsWith("https://docs.")');
    expect(found.map((d) => [d.line, d.help!.replace(/: `url.host` reads.*/, "")])).toEqual([
      [2, 'write `ip.inRange(url.host(args.url), "10.0.0.0/8") and args.url.startsWith("http://")`'],
      [3, 'write `ip.inRange(url.host(args.url), "192.168.0.0/16") and args.url.startsWith("http://")`'],
      [4, 'write `url.host(args.url) in ["docs.com"] and args.url.startsWith("https://")`, listing every host meant (a host left open after a dot, `docs.*`, matches any domain)'],
    ]);
    const rule = 'allow http.get when ip.inRange(url.host(args.url), "10.0.0.0/8") and args.url.startsWith("http://")';
    expect(["http://10.1.2.3/x", "http://10.evil.example/", "http://10.@evil.example/"].map((url) => decisionOf([rule], "http.get", { args: { url } }))).toEqual(["allow", "deny", "deny"]);
  });

  it("the start of an IPv4 address tested on url.host's text, where holding loosens the rule: ip.inRange is the help (review 5)", () => {
    const found = rules('allow http.get when url.host(args.url) like "10.*"', 'allow http.get when url.host(args.url).startsWith("192.168.")', 'deny http.get when not (url.host(args.url).startsWith("10."))');
    expect(found.map((d) => [d.code, d.line, d.help])).toEqual([
      ["PC516", 2, 'write `ip.inRange(url.host(args.url), "10.0.0.0/8")`: `ip.inRange` tests the address, and no name is in a range'],
      ["PC516", 3, 'write `ip.inRange(url.host(args.url), "192.168.0.0/16")`: `ip.inRange` tests the address, and no name is in a range'],
      ["PC516", 4, 'write `not (ip.inRange(url.host(args.url), "10.0.0.0/8"))` for `not (url.host(args.url).startsWith("10."))`: `ip.inRange` tests the address, and no name is in a range'],
    ]);
    expect(found[0]!.message).toBe('this test reads the host as text, so it also holds for names that start the same way, such as "10.evil.example", whose owner points them anywhere');
    // A deny-list matching names too is harmless; other patterns are not an address's start.
    expect(rules('deny http.get when url.host(args.url) like "10.*"', 'allow http.get when url.host(args.url) like "10.*.example" or url.host(args.url).startsWith("10") or url.host(args.url) like "010.*"')).toEqual([]);
    expect([decisionOf(['allow http.get when url.host(args.url) like "10.*"'], "http.get", { args: { url: "http://10.evil.example/" } }), decisionOf(['allow http.get when ip.inRange(url.host(args.url), "10.0.0.0/8")'], "http.get", { args: { url: "http://10.evil.example/" } })]).toEqual(["allow", "deny"]);
  });

  it("a star in the scheme runs over a whole URL (`*://*.acme.com/*`): the help tests the host and pins `https://`, stricter than the star", () => {
    const found = rules('allow http.get when args.url like "http*://api.acme.com/*"', 'allow http.get when args.url like "*://*.acme.com/*"');
    expect(found.map((d) => [d.line, d.message.replace(/.*such as /, ""), d.help!.replace(/: `url.host` reads.*/, "")])).toEqual([
      [2, '"https://evil.example/?u=httpa://api.acme.com/a"', 'write `url.host(args.url) == "api.acme.com" and args.url.startsWith("https://")`'],
      [3, '"https://evil.example/?u=a://a.acme.com/a"', 'write `url.host(args.url).endsWith(".acme.com") and args.url.startsWith("https://")`'],
    ]);
    expect(decisionOf(['allow http.get when args.url like "*://*.acme.com/*"'], "http.get", { args: { url: "https://evil.example/?u=a://a.acme.com/a" } })).toBe("allow");
    expect(rules('allow http.get when args.url like "*://*/*"')).toEqual([]);
  });

  it("a port pinned without the `/` after it runs on into user information; a pattern that ends at its host; a star after a dot is part of the host (review 3)", () => {
    const found = rules('allow http.get when args.url.startsWith("https://api.acme.com:8443")', 'allow http.get when args.url like "https://*.acme.com"', 'allow http.get when args.url like "https://docs.acme.*/*"');
    expect(found.map((d) => [d.line, d.message.replace(/.*such as /, ""), d.help!.replace(/: `url.host` reads.*/, "")])).toEqual([
      [2, '"https://api.acme.com:8443@evil.example/"', 'write `url.host(args.url) == "api.acme.com" and args.url.startsWith("https://api.acme.com:8443/")`'],
      [3, '"https://evil.example/.acme.com" or "https://evil.example?.acme.com"', 'write `url.host(args.url).endsWith(".acme.com") and args.url.startsWith("https://")`'],
      [4, '"https://docs.acme.evil.example/" or "https://docs.acme.@evil.example/"', 'write `url.host(args.url) in ["docs.acme.com"] and args.url.startsWith("https://")`, listing every host meant (a host left open after a dot, `docs.*`, matches any domain)'],
    ]);
    // What the warning says is true, and the help's test refuses it.
    const url = "https://api.acme.com:8443@evil.example/";
    expect(decisionOf(['allow http.get when args.url.startsWith("https://api.acme.com:8443")'], "http.get", { args: { url } })).toBe("allow");
    expect(decisionOf(['allow http.get when url.host(args.url) == "api.acme.com" and args.url.startsWith("https://api.acme.com:8443/")'], "http.get", { args: { url } })).toBe("deny");
    expect(decisionOf(['allow http.get when url.host(args.url) == "api.acme.com" and args.url.startsWith("https://api.acme.com:8443/")'], "http.get", { args: { url: "https://api.acme.com:8443/v1" } })).toBe("allow");
  });
});

describe("PC513 an `ask` pattern over tools no `allow` targets", () => {
  it("names the tools (a few, then how many more) at the pattern", () => {
    const found = rules("allow kb.search", "ask * when session.denials >= 5");
    expect(found.map((d) => [d.code, d.line, d.column, d.message, d.help])).toEqual([
      ["PC513", 3, 7, "`*` covers `crm.lookup`, `email.send` and `http.get`, which no `allow` rule targets: for them this `ask` turns the default deny into a request for approval", "to refuse them, write `deny`; to ask only about allowed tools, narrow the targets"],
    ]);
    const one = rules("allow kb.search, crm.lookup, email.send", "ask kb.*, http.* when session.age > 8h");
    expect(one.map((d) => [d.code, d.column, d.message])).toEqual([["PC513", 13, "`http.*` covers `http.get`, which no `allow` rule targets: for it this `ask` turns the default deny into a request for approval"]]);
    const many = checkAlone(`tool a.a {}\ntool a.b {}\ntool a.c {}\ntool a.d {}\ntool a.e {}\n${policyOf("ask a.* when true")}`);
    expect(many.map((d) => d.message)).toEqual(["`a.*` covers `a.a`, `a.b`, `a.c` and 2 more, which no `allow` rule targets: for them this `ask` turns the default deny into a request for approval"]);
  });

  it("not for tools an allow targets (with any condition, in any file), named targets, tools the condition picks out or rules out, or other effects", () => {
    expect(rules("allow * when agent.attested", "ask * when session.denials >= 5")).toEqual([]);
    expect(rules("allow kb.search", "ask http.get", "ask crm.lookup, email.send when session.age > 8h")).toEqual([]);
    expect(rules("allow kb.search", "ask * when tool == http.get or tool in [crm.lookup, email.send]", "ask * unless tool != kb.search")).toEqual([]);
    expect(rules("allow kb.search", "ask * when tool.risk >= medium")).toEqual([]);
    expect(codesAndLines(rules("allow kb.search", "ask * when tool.risk >= medium or agent.attested"))).toEqual([["PC513", 3]]);
    expect(rules("allow kb.search", 'ask * when tool like "kb.*" and agent.attested', "deny * when session.denials >= 5")).toEqual([]);
    // An unconditional deny refuses its tools whatever the ask says (deny wins); a conditional one does not.
    expect(rules("allow kb.search", "deny crm.lookup, email.send, http.get", "ask * when session.denials >= 3")).toEqual([]);
    expect(codesAndLines(rules("allow kb.search", "deny crm.lookup, email.send", "deny http.get when agent.attested", "ask * when session.denials >= 3"))).toEqual([["PC513", 5]]);
    // Nor one an unconditional ask already asks about.
    expect(rules("allow kb.search", "deny crm.lookup, email.send", "ask http.get", "ask * when session.denials >= 3")).toEqual([]);
    // An `ask *` with no condition is reported as `ask * when true` is: it does not exempt its own
    // tools (nor, as a pattern, another ask's).
    expect(codesAndLines(rules("allow kb.search", "ask *"))).toEqual([["PC501", 2], ["PC513", 3]]);
    expect(codesAndLines(rules("allow kb.search", "deny crm.lookup, email.send", "ask *", "ask * when session.denials >= 3"))).toEqual([["PC501", 2], ["PC513", 4], ["PC513", 5]]);
    expect(rules("allow kb.search", "ask *")[1]!.message).toBe("`*` covers `crm.lookup`, `email.send` and `http.get`, which no `allow` rule targets: for them this `ask` turns the default deny into a request for approval");
    const result = analyze([
      { path: "decls.policy", text: DECLS },
      { path: "a.policy", text: policyOf("ask * when session.denials >= 5") },
      { path: "b.policy", text: "policy q {\n  allow crm.lookup, email.send, http.get, kb.search when agent.attested\n}\n" },
    ]);
    expect(result.diagnostics).toEqual([]);
  });

  it("a condition that only leaves tools out (`tool != X`, `not (tool in [...])`, `not (tool like ...)`) picks none in: still reported", () => {
    for (const exclusion of ["tool != kb.search", "not (tool in [kb.search])", 'not (tool like "kb.*")', "not (tool == kb.search or tool == crm.lookup)"]) {
      expect(codesAndLines(rules("allow kb.search", `ask * when ${exclusion} and session.denials >= 3`)), exclusion).toEqual([["PC513", 3]]);
    }
    // A risk test picks a class of tools in however it is written, as `tool.risk >= medium` does.
    for (const risk of ["tool.risk != low", "not (tool.risk < medium)", "tool.risk >= medium"]) expect(rules("allow kb.search", `ask * when ${risk}`), risk).toEqual([]);
    // Picking in under two negations is picking in.
    expect(rules("allow kb.search", "ask * when not (tool != http.get) and session.denials >= 3", "deny crm.lookup, email.send")).toEqual([]);
  });

  it("the ask it warns about turns a default deny into an ask at run time", () => {
    const asked = ["allow kb.search", "ask * when agent.attested"];
    expect(decisionOf(asked, "http.get")).toBe("ask");
    expect(decisionOf(asked, "http.get", { agent: { ...AGENT, attested: false } })).toBe("deny");
  });
});

describe("PC505 a quantifier variable hides a name", () => {
  it("an enclosing quantifier's variable", () => {
    const found = rules('deny * when any(x in user.roles: all(x in context.labels: x != secret))');
    expect(codesAndLines(found)).toEqual([["PC505", 2]]);
    expect(found[0]!.message).toBe("inside this `all`, `x` hides the `x` of the enclosing `any` (line 2)");
    expect(found[0]!.column).toBe("  deny * when any(x in user.roles: all(".length + 1);
  });

  it("built-ins, enums, risk levels, enum members, tool and intent names", () => {
    const cases: [string, string][] = [
      ['deny * when any(now in user.roles: now == "a")', "the built-in `now`"],
      ['deny * when any(session in user.roles: session == "a")', "the built-in `session`"],
      ['deny * when any(url in user.roles: url == "a")', "the built-in `url`"],
      ['deny email.send when any(email in args.to: email == "a")', "the built-in `email`"],
      ['deny * when any(Risk in user.roles: Risk == "a")', "the built-in `Risk`"],
      ['deny * when any(Zone in user.roles: Zone == "a")', "the enum `Zone`"],
      ['deny * when any(high in user.roles: high == "a")', "the risk level `high`"],
      ['deny * when any(pii in user.roles: pii == "a")', "the member `pii` of `Label`"],
      ['deny * when any(internal in user.roles: internal == "a")', "the member `internal` of `Label` and `Zone`"],
      ['deny * when any(research in user.roles: research == "a")', "the intent name `research`"],
    ];
    for (const [text, hidden] of cases) {
      const found = rules(text);
      expect(codesAndLines(found), text).toEqual([["PC505", 2]]);
      expect(found[0]!.message, text).toMatch(new RegExp(`^inside this \`any\`, the variable \`\\w+\` hides ${hidden.replace(/[.*]/g, "\\$&")}$`));
    }
  });

  it("the first part of a dotted tool name is a natural variable name: no warning (`file` of `file.read`)", () => {
    expect(rules('deny * when any(crm in user.roles: crm == "a")')).toEqual([]);
  });

  it("an error the hiding causes says which variable it is", () => {
    const found = rules('deny * when any(url in user.roles: url.host(url) == "a")');
    expect(codesAndLines(found)).toEqual([["PC505", 2], ["PC211", 2]]);
    expect(found[1]!.help).toBe("`url` here is the quantifier variable of the `any` at line 2, which hides the built-in `url`: rename the variable");
    const member = rules("deny * when any(session in user.roles: session.calls > 3)");
    expect(codesAndLines(member)).toEqual([["PC505", 2], ["PC202", 2]]);
    expect(member[1]!.help).toContain("`session` here is the quantifier variable");
  });

  it("not for sibling quantifiers or distinct names; a warning only", () => {
    expect(rules('deny * when any(x in user.roles: x == "a") or any(x in context.labels: x == pii)', "deny * when any(r in user.roles: all(s in user.roles: r == s))")).toEqual([]);
    const result = analyze([{ path: "decls.policy", text: DECLS }, { path: "t.policy", text: policyOf('deny * when any(url in user.roles: url == "a")') }]);
    expect(result.ok).toBe(true);
  });
});

describe("PC519: a label tested in session.labels that no tool returns, in a set without a label enum", () => {
  const set = (context: string, rules: string, returns = "returns pii") => analyze([{ path: "t.policy", text: `context { ${context} }\ntool crm.lookup { ${returns} }\ntool email.send {}\npolicy p {\n  allow crm.lookup, email.send\n  ${rules}\n}\n` }]);
  const found = (result: ReturnType<typeof analyze>) => result.diagnostics.map(describeDiagnostic).map((d) => [d.code, d.line, d.column, d.message]);

  it("warns of a label that differs from a returned one only in case, spacing or hidden characters, at the string, whatever the context declares", () => {
    expect(found(set("env: string", 'deny email.send when session.labels contains "PII"'))).toEqual([["PC519", 6, 48, '"PII" is tested in `session.labels`, but the label `crm.lookup` returns is "pii": labels are compared exactly, so this test never sees that tool\'s data']]);
    expect(set("env: string, labels: set<string>", 'deny email.send when "Pii" in session.labels').diagnostics.map((d) => d.code)).toEqual(["PC519"]);
    expect(set("env: string", 'deny email.send when session.labels containsAny [" pii", "p\\u200bii", "pii"]').diagnostics.map((d) => d.code)).toEqual(["PC519", "PC519"]);
  });

  it("is quiet of a look-alike tested beside the label as returned, which the test sees the tool's data through; without context labels it is a label no tool returns", () => {
    expect(set("env: string, labels: set<string>", 'deny email.send when session.labels containsAny ["pii", "PII"]').diagnostics).toEqual([]);
    expect(set("env: string, labels: set<string>", 'deny email.send when session.labels containsAll ["PII", "pii"]').diagnostics).toEqual([]);
    // Beside another test that names "pii", "PII" alone is still a test that never sees the data.
    expect(set("env: string, labels: set<string>", 'deny email.send when session.labels contains "pii" or session.labels contains "PII"').diagnostics.map((d) => d.code)).toEqual(["PC519"]);
    expect(found(set("env: string", 'deny email.send when session.labels containsAny ["pii", "PII"]')).map((d) => d[3])).toEqual(["no tool `returns` \"PII\" and the `context` block declares no `labels`: only a request's undeclared, unchecked `context.labels` could bring it into `session.labels`, so this test may never hold"]);
  });

  it("warns of a label no tool returns when the context declares no labels, and not when it does (requests may send it)", () => {
    expect(found(set("env: string", 'deny email.send when session.labels contains "secret"'))[0]?.[3]).toBe("no tool `returns` \"secret\" and the `context` block declares no `labels`: only a request's undeclared, unchecked `context.labels` could bring it into `session.labels`, so this test may never hold");
    expect(set("env: string, labels: set<string>", 'deny email.send when session.labels contains "secret"').diagnostics).toEqual([]);
  });

  it("is quiet for a label as returned, for tests that do not name the label, and in a set with a label enum", () => {
    expect(set("env: string", 'deny email.send when session.labels contains "pii" or session.labels.size() > 3').diagnostics).toEqual([]);
    expect(set("env: string", 'deny email.send when any(l in session.labels: l.lower() == "pii")').diagnostics).toEqual([]);
    const withEnum = analyze([{ path: "t.policy", text: "enum Label { pii }\ncontext { labels: set<Label> }\ntool crm.lookup { returns pii }\ntool email.send {}\npolicy p {\n  allow crm.lookup, email.send\n  deny email.send when session.labels contains pii\n}\n" }]);
    expect(withEnum.diagnostics).toEqual([]);
  });

  it("a rule's @suppress hides it", () => {
    expect(set("env: string", '@suppress("PC519") deny email.send when session.labels contains "PII"').diagnostics).toEqual([]);
  });
});

describe("PC515: session.labels read while context.labels is not declared", () => {
  const set = (context: string, rules: string) => analyze([{ path: "t.policy", text: `enum Label { public, pii }\ncontext { ${context} }\ntool crm.lookup { returns pii }\ntool email.send {}\npolicy p {\n  allow crm.lookup, email.send\n  ${rules}\n}\n` }]);

  it("warns once for the set, at the label enum, with the declaration to add as help", () => {
    const result = set("env: string", "deny email.send when session.labels contains pii\n  deny crm.lookup when session.labels contains pii");
    expect(result.diagnostics.map(describeDiagnostic).map((d) => [d.code, d.line, d.column, d.message, d.help])).toEqual([
      [
        "PC515",
        1,
        6,
        "`Label` is the label enum and rules read `session.labels`, but the `context` block does not declare `labels`, so the labels requests send are not checked against it: one sent in another case (`\"PII\"`) or shape (a bare string) adds no taint to `session.labels`, silently",
        "declare `labels: set<Label>` in the `context` block (or `labels?: set<Label>` when requests may leave it out): a request sending a label that is no member of `Label` is then refused",
      ],
    ]);
  });

  it("with no `context` block, says the set has none and to declare `labels` in a new one, not in \"the\" block (review r2 LOW 4)", () => {
    const result = analyze([{ path: "t.policy", text: "enum Label { public, pii }\ntool crm.lookup { returns pii }\ntool email.send {}\npolicy p {\n  allow crm.lookup, email.send\n  deny email.send when session.labels contains pii\n}\n" }]);
    expect(result.diagnostics.map(describeDiagnostic).map((d) => [d.code, d.line, d.message.split(", so ")[0], d.help])).toEqual([
      [
        "PC515",
        1,
        "`Label` is the label enum and rules read `session.labels`, but the set has no `context` block to declare `labels`",
        "declare `labels: set<Label>` in a `context` block (or `labels?: set<Label>` when requests may leave it out): a request sending a label that is no member of `Label` is then refused",
      ],
    ]);
  });

  it("warns at `context.labels` when it is declared, but not as a collection of the label enum", () => {
    const result = set("env: string, labels?: set<string>", "deny email.send when session.labels contains pii");
    expect(result.diagnostics.map(describeDiagnostic).map((d) => [d.code, d.line, d.message.split(",")[0], d.help])).toEqual([
      ["PC515", 2, "`context.labels` is declared as `set<string>`", "declare it as `labels?: set<Label>`: a request sending a label that is no member of `Label` is then refused"],
    ]);
  });

  it("is about the schema, not a rule: no rule's @suppress hides it, and naming it there is PC109", () => {
    const result = set("env: string", '@suppress("PC515") deny email.send when session.labels contains pii');
    expect(result.diagnostics.map((d) => d.code)).toEqual(["PC515", "PC109"]);
  });

  it("is quiet when context declares labels (required or optional), when no rule reads session.labels, and when there is no label enum", () => {
    expect(set("env: string, labels: set<Label>", "deny email.send when session.labels contains pii").diagnostics).toEqual([]);
    expect(set("env: string, labels?: set<Label>", "deny email.send when session.labels contains pii").diagnostics).toEqual([]);
    expect(set("env: string", 'deny email.send when context.env == "x"').diagnostics).toEqual([]);
    // (Without a label enum, a label no tool returns and no context declares is PC519's.)
    const strings = analyze([{ path: "t.policy", text: 'context { env: string }\ntool email.send {}\npolicy p {\n  allow email.send\n  deny email.send when session.labels contains "pii"\n}\n' }]);
    expect(strings.diagnostics.map((d) => d.code)).toEqual(["PC519"]);
  });

  it("the fix it names works: declared labels?, a wrong-case label is refused and a missing one is fine", () => {
    const { policy } = compileSources([{ path: "t.policy", text: "enum Label { public, pii }\ncontext { env: string, labels?: set<Label> }\ntool crm.lookup {}\ntool email.send {}\npolicy p {\n  allow crm.lookup, email.send\n  deny email.send when session.labels contains pii\n}\n" }]);
    const engine = new Engine(policy!);
    const request = (session: string, tool: string, labels?: unknown) => ({ session, tool, args: {}, agent: {}, context: labels === undefined ? { env: "x" } : { env: "x", labels } });
    expect(engine.decide(request("a", "crm.lookup")).decision).toBe("allow");
    expect(engine.decide(request("b", "crm.lookup", ["PII"])).errors).toEqual(['request.context.labels[0] must be a member of Label (public, pii), not the string "PII"']);
    expect(engine.decide(request("c", "crm.lookup", ["pii"])).decision).toBe("allow");
    expect(engine.decide(request("c", "email.send")).decision).toBe("deny");
  });
});

describe("PC520 shell command allowed by how it starts (audit s20 a1 L2)", () => {
  const shell = (rule: string) => checkAlone(`tool shell.exec { args { cmd: string, dir: string } }\npolicy p {\n  ${rule}\n}\n`).map((d) => d.code);
  it("warns of `like \"…*\"` and startsWith on a command where the test allows, and @suppress hides it", () => {
    expect(shell('allow shell.exec when args.cmd like "npm *"')).toEqual(["PC520"]);
    expect(shell('allow shell.exec when args.cmd.startsWith("git ")')).toEqual(["PC520"]);
    expect(shell('deny shell.exec unless args.cmd like "npm *"')).toEqual(["PC520"]);
    expect(shell('@suppress("PC520")\n  allow shell.exec when args.cmd like "npm *"')).toEqual([]);
  });

  it("is silent for whole commands, for a deny, and for an argument that is no command", () => {
    expect(shell('allow shell.exec when args.cmd in ["npm test", "npm run lint"]')).toEqual([]);
    expect(shell('deny shell.exec when args.cmd like "rm *"')).toEqual([]);
    expect(shell('allow shell.exec when args.dir like "src*"')).toEqual([]);
  });

  it("is silent for an argument named `shell` (a shell's program, not a command line), and where PC517 already reports the path's start (review r1 LOW 6)", () => {
    const terminal = (rule: string) => checkAlone(`tool term.open { args { shell: string, cmd: string } }\npolicy p {\n  ${rule}\n}\n`).map((d) => d.code);
    expect(terminal('allow term.open when args.shell like "bash*"')).toEqual([]);
    expect(terminal('allow term.open when args.cmd like "/bin/*"')).toEqual(["PC517"]);
    expect(terminal('allow term.open when args.cmd.startsWith("/usr/bin/")')).toEqual(["PC517"]);
    expect(terminal('allow term.open when args.cmd like "git *"')).toEqual(["PC520"]);
  });
});

/** The diagnostics of `rules`, one a line, in a policy after the declarations `decls`. */
const checkRulesAfter = (decls: string, rules: readonly string[]) => checkAlone(`${decls}policy p {\n  ${rules.join("\n  ")}\n}\n`);

describe("PC521 an unconditional `allow` of every tool or of a whole namespace (monorepo review f3)", () => {
  const decls = "tool payments.refund { risk high }\ntool payments.charge { risk high }\ntool kb.search {}\n";
  const found = (...rule: string[]) => checkRulesAfter(decls, rule).map((d) => [d.code, d.line, d.column, d.message]);
  it("warns at the pattern of `allow *` and `allow NS.*` without a condition, or with one always true", () => {
    expect(found("allow *")).toEqual([["PC521", 5, 9, "`allow *` allows every tool, with no condition: every tool declared later is allowed too"]]);
    expect(found("allow kb.search, payments.*")).toEqual([["PC521", 5, 20, "`allow payments.*` allows every tool of `payments` (2 declared), with no condition: every tool declared later under it is allowed too"]]);
    expect(found("allow payments.* when true").map((d) => d[0])).toEqual(["PC521"]);
    expect(found("allow payments.* when 1 == 1 unless false").map((d) => d[0])).toEqual(["PC521"]);
    expect(found("allow payments.*\n    grant \"pay\" for 1m").map((d) => d[0])).toEqual(["PC521"]);
  });

  it("is silent with a condition, for a named tool, for deny and ask, for a part of a namespace, and under @suppress", () => {
    expect(found("allow payments.* when session.calls < 10")).toEqual([]);
    expect(found("allow * unless session.denials > 3")).toEqual([]);
    expect(found("allow payments.refund, payments.charge, kb.search")).toEqual([]);
    expect(found("deny payments.*")).toEqual([]);
    expect(found('@suppress("PC521")\n  allow *')).toEqual([]);
    expect(checkAlone("tool a.b.read {}\ntool a.c.read {}\ntool a.c.write {}\npolicy p {\n  allow a.*.read\n}\n")).toEqual([]);
  });

  it("warns of a pattern that covers every declared tool, whatever its shape", () => {
    expect(checkAlone("tool a.b.read {}\ntool a.c.read {}\npolicy p {\n  allow a.*.read\n}\n").map((d) => [d.code, d.message])).toEqual([
      ["PC521", "`allow a.*.read` allows every declared tool, with no condition"],
    ]);
  });
});

describe("PC521 a condition that reads only the tool, and a rule's targets taken together (pc521 review)", () => {
  const decls = "tool payments.refund { risk high }\ntool payments.charge { risk high }\ntool kb.search {}\ntool kb.index.build {}\n";
  const found = (...rule: string[]) =>
    checkRulesAfter(decls, rule)
      .filter((d) => d.code === "PC521")
      .map((d) => [d.line, d.column, d.message]);
  it("warns of an allow whose `when` or `unless` reads only the tool, and says so", () => {
    expect(found("allow * unless tool == payments.refund")).toEqual([[6, 9, "`allow *` allows every tool but the 1 its condition leaves out, and its condition reads only the tool: every tool declared later is allowed too"]]);
    expect(found("allow * when tool != payments.refund")).toEqual([[6, 9, "`allow *` allows every tool but the 1 its condition leaves out, and its condition reads only the tool: every tool declared later is allowed too"]]);
    expect(found('allow kb.* when tool like "kb.*"')).toEqual([[6, 9, "`allow kb.*` allows every tool of `kb` (2 declared), and its condition reads only the tool: every tool declared later under it is allowed too"]]);
    expect(found("allow * when tool.risk <= critical")).toEqual([[6, 9, "`allow *` allows every tool, and its condition reads only the tool: every tool declared later is allowed too"]]);
    expect(found("allow kb.* when tool == tool")).toEqual([[6, 9, "`allow kb.*` allows every tool of `kb` (2 declared), and its condition reads only the tool: every tool declared later under it is allowed too"]]);
  });

  it("is silent when the tool-only condition picks named tools or a risk class, or when the condition reads more than the tool", () => {
    expect(found("allow * when tool == kb.search")).toEqual([]);
    expect(found("allow * when tool in [kb.search, payments.charge]")).toEqual([]);
    expect(found("allow * when tool.risk <= low")).toEqual([]);
    expect(found("allow * unless tool == payments.refund or session.calls > 3")).toEqual([]);
    expect(found("allow * when tool != payments.refund and session.calls < 10")).toEqual([]);
    expect(found("allow payments.* when false")).toEqual([]);
  });

  it("takes a pattern ending in `.*` as namespace-wide, and targets that together cover every declared tool", () => {
    expect(found("allow kb.*.*")).toEqual([[6, 9, "`allow kb.*.*` allows every tool of `kb.*` (1 declared), with no condition: every tool declared later under it is allowed too"]]);
    expect(checkAlone("tool a.b.read {}\ntool a.c.write {}\npolicy p {\n  allow a.*.read, a.*.write\n}\n").map((d) => [d.code, d.column, d.message])).toEqual([
      ["PC521", 9, "`allow a.*.read, a.*.write` allows every declared tool, with no condition"],
    ]);
    expect(checkAlone("tool a.b.read {}\ntool a.c.write {}\npolicy p {\n  allow a.c.write, a.*.read\n}\n").map((d) => [d.code, d.column, d.message])).toEqual([
      ["PC521", 20, "`allow a.c.write, a.*.read` allows every declared tool, with no condition"],
    ]);
    // Naming every tool is deciding on each: the help asks for just that.
    expect(found("allow payments.refund, payments.charge, kb.search, kb.index.build")).toEqual([]);
  });

  it("gives one warning per rule, at its first broad pattern, for the union of its targets", () => {
    expect(found("allow *, kb.*")).toEqual([[6, 9, "`allow *, kb.*` allows every tool, with no condition: every tool declared later is allowed too"]]);
    expect(found("allow kb.*, *")).toEqual([[6, 9, "`allow kb.*, *` allows every tool, with no condition: every tool declared later is allowed too"]]);
    expect(found("allow kb.search, payments.*, kb.*")).toEqual([
      [6, 20, "`allow payments.*, kb.*` allows every tool of `payments` and `kb` (4 declared), with no condition: every tool declared later under them is allowed too"],
    ]);
  });
});

describe("PC522 control id given twice on a rule (audit s22 f4)", () => {
  const controls = (text: string) => checkAlone(`tool kb.search {}\ntool mail.send {}\npolicy p {\n${text}\n}\n`);
  it("warns at the second mention, in one list or across repeated `@controls`, and @suppress hides it", () => {
    const inOneList = controls('  @controls("OWASP-ASI03", "MAESTRO-L3", "OWASP-ASI03")\n  allow kb.search');
    expect(inOneList.map((d) => [d.code, d.message])).toEqual([["PC522", '`@controls` names "OWASP-ASI03" twice on this rule']]);
    expect(inOneList[0]).toMatchObject({ line: 4, column: 42 });
    expect(controls('  @controls("A")\n  @controls("B", "A")\n  allow kb.search').map((d) => d.code)).toEqual(["PC522"]);
    expect(controls('  @suppress("PC522")\n  @controls("A", "A")\n  allow kb.search')).toEqual([]);
  });

  it("is silent for distinct ids, ids that differ in case, and two rules that implement the same control", () => {
    expect(controls('  @controls("A", "B")\n  @controls("C")\n  allow kb.search')).toEqual([]);
    expect(controls('  @controls("asi03", "ASI03")\n  allow kb.search')).toEqual([]);
    expect(controls('  @controls("A")\n  allow kb.search\n  @controls("A")\n  deny mail.send')).toEqual([]);
  });
});
