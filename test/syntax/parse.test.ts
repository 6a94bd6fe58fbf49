import { describe, expect, it } from "vitest";
import type * as A from "../../src/ast/nodes.js";
import { parse, MAX_NESTING } from "../../src/syntax/parse.js";
import { decodeString, encodeString } from "../../src/syntax/literals.js";
import { printable } from "../../src/diagnostics/printable.js";
import { CONTRACT_POLICY, DECLS } from "../fixtures.js";

/** Code, 1-based line and message of each diagnostic of a parse. */
function problems(text: string): { code: string; line: number; column: number; message: string; help?: string }[] {
  return parse(text, "t.policy").diagnostics.map((d) => {
    const { line, column } = d.span!.file.position(d.span!.start);
    return d.help === undefined ? { code: d.code, line, column, message: d.message } : { code: d.code, line, column, message: d.message, help: d.help };
  });
}

/** The diagnostics of a parse that reports one syntax error (PC103), as `problems` gives them. */
function syntaxError(line: number, column: number, message: string, help?: string): ReturnType<typeof problems> {
  return [help === undefined ? { code: "PC103", line, column, message } : { code: "PC103", line, column, message, help }];
}

function rulesOf(text: string): A.Rule[] {
  const result = parse(text, "t.policy");
  expect(result.diagnostics, JSON.stringify(problems(text))).toEqual([]);
  return result.ast.declarations.flatMap((d) => (d.kind === "PolicyDecl" ? [...d.rules] : []));
}

/** The `when` expression of `deny * when EXPR`, parsed. */
function when(expression: string): A.Expr {
  const [rule] = rulesOf(`policy p {\n  deny * when ${expression}\n}\n`);
  expect(rule?.when).toBeDefined();
  return rule!.when!;
}

describe("parse() never throws", () => {
  const inputs = [
    "",
    "\u0000\u0001\u0002",
    "policy",
    "policy p {",
    "policy p { deny",
    "policy p { deny * when",
    "policy p { deny * when (((",
    "policy p { deny * when a.b.c.d( }",
    "tool { risk }",
    '"'.repeat(1000),
    "/*".repeat(100),
    "}".repeat(1000),
    "(".repeat(20_000),
    "not ".repeat(20_000),
    "@".repeat(500),
    `policy p { deny * when ${"a and ".repeat(5000)}b }`,
    "\uFEFFenum E { a }",
    "enum E { a }\r\npolicy p {\r\n  deny * when true\r\n}\r\n",
  ];
  it.each(inputs.map((text, i) => ({ i, text })))("input #$i", ({ text }) => {
    const result = parse(text, "t.policy");
    expect(result.ast.kind).toBe("PolicyFile");
    for (const d of result.diagnostics) {
      expect(d.span).toBeDefined();
      expect(d.span!.start).toBeGreaterThanOrEqual(0);
      expect(d.span!.end).toBeGreaterThanOrEqual(d.span!.start);
      expect(d.span!.end).toBeLessThanOrEqual(text.length);
    }
  });

  it("parses the contract's declarations and rules without diagnostics", () => {
    expect(parse(DECLS).diagnostics).toEqual([]);
    expect(parse(CONTRACT_POLICY).diagnostics).toEqual([]);
  });
});

describe("syntax errors", () => {
  it("reports several mistakes in one run, each at its own line", () => {
    const text = [
      "policy p {", //                                  1
      '  allow when agent.team == "support"', //        2: no target
      "", //                                            3
      '  deny kb.search when agent.team == "a" and', // 4
      "", //                                            5
      '  deny * when agent.team = "sales"', //          6: `=` for `==`
      "", //                                            7
      '  ask http.get when (agent.team == "x"', //     8: unclosed paren, noticed on 9
      '  deny * when agent.team == "y"', //             9
      "}", //                                           10
    ].join("\n");
    const found = problems(text).filter((p) => p.code === "PC103");
    expect(found.length).toBeGreaterThanOrEqual(3);
    const lines = found.map((f) => f.line);
    expect(lines).toContain(2);
    expect(lines).toContain(6);
    expect(lines.some((l) => l === 8 || l === 9)).toBe(true);
  });

  it("three mistakes in three rules give at least three PC103 at the right lines", () => {
    const text = "policy p {\n  allow when true\n  deny kb.search when\n  ask http.get when agent.team = \"x\"\n}\n";
    const found = problems(text).filter((p) => p.code === "PC103");
    expect(found.length).toBeGreaterThanOrEqual(3);
    expect(found.map((f) => f.line)).toEqual(expect.arrayContaining([2, 3, 4]));
  });

  it("says a tool name is missing after `allow`", () => {
    const [first] = problems('policy p {\n  allow when agent.team == "support"\n}\n');
    expect(first).toMatchObject({ code: "PC103", line: 2, column: 9 });
    expect(first!.message).toContain("expected a tool name or pattern after `allow`");
    expect(first!.message).toContain("found `when`");
  });

  it("hints `==` when `=` is written", () => {
    const found = problems('policy p {\n  deny * when agent.team = "sales"\n}\n');
    expect(found[0]).toMatchObject({ code: "PC103", line: 2 });
    expect(found[0]!.message).toContain("comparison is written `==`");
  });

  it("the `==` reminder only where a `=` is in or after a condition, not in a declaration, a clause or an annotation", () => {
    for (const text of ['tool kb.search { risk = "low" }', "enum Label = public", 'policy p {\n  deny x grant "a" for = 5m\n}', 'policy p {\n  @name = "kb-read"\n  deny x\n}']) {
      for (const p of problems(text)) expect(p.message, text).not.toContain("comparison is written");
    }
    expect(problems('policy p {\n  deny * when (a = b)\n}')[0]!.message).toContain("comparison is written `==`");
    expect(problems('policy p {\n  @name = "kb-read"\n  deny x\n}')[0]!.help).toBe('annotations take their arguments in parentheses: `@name("kb-read")`');
  });

  it("help that depends on the place: other languages' words, `<>`, a word after `revoke` or `reason`, a `\"` inside a string", () => {
    const helpOf = (text: string) => problems(`policy p {\n  ${text}\n}\n`)[0]?.help;
    expect(helpOf('deny kb.search if agent.team == "x"')).toBe("conditions start with `when`: `deny kb.search when …`");
    expect(helpOf('deny kb.search where agent.team == "x"')).toBe("conditions start with `when`: `deny kb.search when …`");
    expect(helpOf('deny * when agent.team is "support"')).toBe("compare with `==`");
    expect(helpOf('deny * when agent.team <> "support"')).toBe('write `!=` for "not equal"');
    expect(helpOf("deny kb.search when true revoke session")).toBe("`revoke` takes nothing: it ends the session of the call it denies");
    expect(helpOf("deny email.send reason no external email")).toBe('the reason is a string: write it in double quotes, `reason "…"`');
    expect(helpOf('deny kb.search reason "say "no""')).toBe('a `"` ends the string: to put one inside, write `\\"`');
    // A misspelled keyword still gets its did-you-mean.
    expect(helpOf("deny kb.search wehn true")).toBe("did you mean `when`?");
    // A comma left out: between strings (a list, annotation arguments), and before `within`.
    expect(helpOf('deny * when agent.team in ["a" "b"]')).toBe('separate the two strings with a comma: `"a", "b"`');
    expect(helpOf('@controls("A" "B") deny kb.search')).toBe('separate the two strings with a comma: `"A", "B"`');
    expect(helpOf("deny kb.search when session.called(kb.search within 5m)")).toBe("a comma goes before `within`, as in `session.called(crm.lookup, within 10m)`");
    expect(helpOf("deny kb.search when session.count(kb.search within 5m) > 3")).toBe("a comma goes before `within`, as in `session.called(crm.lookup, within 10m)`");
  });

  it("a misspelled or capitalised declaration keyword where a declaration goes gets a did-you-mean", () => {
    const helpOf = (text: string) => problems(text).map((p) => [p.line, p.column, p.help]);
    expect(helpOf("polcy p {\n  allow kb.search\n}\n")).toEqual([[1, 1, "did you mean `policy`?"]]);
    expect(helpOf("Policy p {\n  allow kb.search\n}\n")).toEqual([[1, 1, "did you mean `policy`? keywords are lower case"]]);
    expect(helpOf("tol kb.reindex { risk low }\n")).toEqual([[1, 1, "did you mean `tool`?"]]);
    expect(helpOf("enum A { a }\nEnum Color { red, green }\n")).toEqual([[2, 1, "did you mean `enum`? keywords are lower case"]]);
  });

  it("`NOT`, `ANY` and `ALL` in capitals are read as names: the error is at them, not at the token after", () => {
    expect(problems('policy p {\n  deny * when agent.team == "x" and NOT agent.attested\n}\n')).toEqual([
      { code: "PC103", line: 2, column: 37, message: "`NOT` is read as a name: keywords are lower case", help: "did you mean `not`?" },
    ]);
    expect(problems('policy p {\n  deny * when ANY(r in user.roles: r == "x")\n}\n').map((p) => [p.column, p.help])).toEqual([[15, "did you mean `any`?"]]);
    expect(problems('policy p {\n  deny * when All(r in user.roles: r == "x")\n}\n').map((p) => [p.column, p.help])).toEqual([[15, "did you mean `all`?"]]);
    expect(problems("policy p {\n  deny * when Not (agent.attested)\n}\n").map((p) => [p.column, p.help])).toEqual([[15, "did you mean `not`?"]]);
  });

  it("a `;` gets the separator of the place it is in", () => {
    const helps = problems("enum E { a; b }\ntype T { a: int; b: int }\ntool t.a { args { q: string; l: int } }\npolicy p {\n  allow t.a;\n  deny t.a when any(x in [1;2]: true)\n}\n").map((p) => [p.line, p.help]);
    expect(helps).toEqual([
      [1, "members are separated by `,`"],
      [2, "attributes are separated by `,`"],
      [3, "attributes are separated by `,`"],
      [5, "rules need no separator: a rule ends where the next one starts"],
      [6, "list items are separated by `,`"],
    ]);
  });

  it("a number written with digit separators or an exponent: PC104 says how numbers are written", () => {
    expect(problems("policy p {\n  deny * when session.calls > 1_000\n}\n")[0]).toMatchObject({ code: "PC104", help: "numbers have no digit separators: write `1000`" });
    expect(problems("policy p {\n  deny * when session.calls > 1e3\n}\n")[0]).toMatchObject({ code: "PC104", help: "numbers are written in full: `1000`" });
  });

  it("names tokens by label, never by token class", () => {
    for (const text of ["enum E { a, }", "policy p { deny * when }", "tool a. { }", "policy p { @name(,) deny * }", "policy p { deny * when a == }"]) {
      for (const p of problems(text)) {
        expect(p.message).not.toMatch(/Identifier|Kw_|LParen|RBrace|EOF|StringLiteral/);
        expect(p.message.length, p.message).toBeLessThan(200);
      }
    }
  });

  it("says `the end of the file` when input stops early", () => {
    const found = problems("policy p {\n  deny * when agent.team ==");
    expect(found.some((p) => p.message.includes("the end of the file"))).toBe(true);
  });

  it("inside a policy, names what really follows an unfinished rule (`}`, the next rule), not the end of the file", () => {
    expect(problems("policy p { allow }").map((p) => p.message)).toEqual(["expected a tool name or pattern after `allow`, found `}`"]);
    expect(problems("policy p {\n  allow kb.search when\n  deny kb.search\n}").map((p) => p.message)).toEqual(["expected an expression after `when`, found `deny`"]);
  });

  it("does not chain comparisons, and says so", () => {
    expect(problems("policy p { deny * when a < b < c }").map((p) => p.code)).toContain("PC103");
    expect(problems("policy p {\n  deny * when session.calls > 1 < 3\n}")).toEqual([expect.objectContaining({ code: "PC103", line: 2, column: 33, help: "comparisons do not chain: write `a < b and b < c`" })]);
    // A comparison where a clause belongs is not a chain.
    expect(problems("policy p {\n  deny kb.search == 1\n}")[0]!.help).toBeUndefined();
  });

  it("a `*` inside a name segment of a tool pattern gets a hint, and the message names the token really before it", () => {
    const hint = (name: string) => `a pattern ends in \`.*\` after whole name segments, as in \`${name}.*\``;
    expect(problems("policy p {\n  deny sql*\n}")).toEqual([expect.objectContaining({ code: "PC103", line: 2, column: 11, help: hint("sql") })]);
    expect(problems("policy p {\n  deny sql.qu*\n}")[0]!.help).toBe(hint("sql"));
    expect(problems("policy p {\n  deny *.ddl\n}")[0]!.help).toContain(hint("sql"));
    expect(problems("intent i {\n  tools sql*\n  max_risk high\n}")).toEqual([
      { code: "PC103", line: 2, column: 12, message: "expected `}` after `sql`, found `*`", help: hint("sql") },
    ]);
  });

  it("reports an unexpected character with a hint (PC100)", () => {
    const found = problems("policy p {\n  deny * when a && b\n}\n");
    expect(found[0]).toMatchObject({ code: "PC100", line: 2, column: 17 });
    expect(found[0]!.help).toContain("`and`");
    expect(problems("policy p { deny * when a == 'x' }")[0]!.help).toContain("double quotes");
    expect(problems("policy p { deny * when a || b }")[0]!.help).toContain("`or`");
  });

  it("one mistake, one error: single quotes, `&&` and a stray character are not echoed by a PC103", () => {
    expect(problems("policy p {\n  @name('no-ddl-in-prod')\n  deny kb.x\n}")).toEqual([
      { code: "PC100", line: 2, column: 9, message: "unexpected character `'`", help: 'strings use double quotes: "no-ddl-in-prod"' },
    ]);
    expect(problems("policy p {\n  deny * when a && b\n}")).toEqual([{ code: "PC100", line: 2, column: 17, message: "unexpected character `&&`", help: "write `and`" }]);
    expect(problems('policy p {\n  deny * when "\u{1F600}" == \u{1F600}\n}')).toEqual([{ code: "PC100", line: 2, column: 23, message: "unexpected character `\u{1F600}`" }]);
  });

  it("an invisible or space-like character is named by its code point, with what to write instead (PC100)", () => {
    expect(problems("policy p {\n  deny * when a\u00a0and b\n}")).toEqual([{ code: "PC100", line: 2, column: 16, message: "unexpected character U+00A0 (no-break space)", help: "use an ordinary space" }]);
    expect(problems("policy p {\n  deny * when tru\u200be\n}")).toEqual([{ code: "PC100", line: 2, column: 18, message: "unexpected character U+200B (zero-width space)", help: "delete it: it cannot be seen, and probably came in with pasted text" }]);
    expect(problems("policy p {\n  deny * when a\u3000and b\n}")[0]).toMatchObject({ message: "unexpected character U+3000 (ideographic space)", help: "use an ordinary space" });
    expect(problems("policy p {\n  deny * when a\u2028and b\n}")[0]).toMatchObject({ message: "unexpected character U+2028 (line separator)", help: "use an ordinary line break" });
    expect(problems("policy p {\n  deny * when a\u0007and b\n}")[0]).toMatchObject({ message: "unexpected character U+0007 (a control character)" });
    expect(problems("policy p {\n  deny * when a\u00ad\n}")[0]).toMatchObject({ message: "unexpected character U+00AD (soft hyphen)" });
    // Letters drawn blank, and tag characters, are named and deleted as well.
    const deleteIt = "delete it: it cannot be seen, and probably came in with pasted text";
    expect(problems("policy p {\n  deny * when a\u2800\n}")[0]).toMatchObject({ message: "unexpected character U+2800 (braille pattern blank)", help: deleteIt });
    expect(problems("policy p {\n  deny * when a\uffa0\n}")[0]).toMatchObject({ message: "unexpected character U+FFA0 (halfwidth hangul filler)", help: deleteIt });
    expect(problems("policy p {\n  deny * when a\u{e0041}\n}")[0]).toMatchObject({ message: "unexpected character U+E0041 (a tag character)", help: deleteIt });
    // Visible characters are still shown as themselves.
    expect(problems("policy p {\n  deny * when équipe == 1\n}")[0]).toMatchObject({ message: "unexpected character `é`" });
  });

  it("a `#` comment is one error at the `#`, and its words are not parsed (PC100)", () => {
    const hash = { code: "PC100", message: "unexpected character `#`", help: "comments start with `//`" };
    expect(problems("# support rules\ntool kb.search {}\npolicy p {\n  # only support may search\n  allow kb.search when agent.team == \"support\" # the team\n  # no mail\n}\n")).toEqual([
      { ...hash, line: 1, column: 1 },
      { ...hash, line: 4, column: 3 },
      { ...hash, line: 5, column: 48 },
      { ...hash, line: 6, column: 3 },
    ]);
    expect(problems("tool a.b {} # the a tool\n")).toEqual([{ ...hash, line: 1, column: 13 }]);
    expect(problems('policy p {\n  #[name("kb")] allow kb.search\n}\n')).toEqual([{ code: "PC100", line: 2, column: 3, message: "unexpected character `#`", help: 'annotations start with `@`, as in `@name("kb-read")`' }]);
    // In a string or a `//` comment, `#` is text.
    expect(problems('policy p {\n  deny * when a == "#x" // #1\n}\n')).toEqual([]);
  });

  it("single quotes: the help keeps the string's escapes as written and escapes only its double quotes", () => {
    expect(problems("policy p {\n  deny * when a == 'a\\nb'\n}").map((p) => p.help)).toEqual(['strings use double quotes: "a\\nb"']);
    expect(problems("policy p {\n  deny * when a == 'say \"hi\"'\n}").map((p) => p.help)).toEqual(['strings use double quotes: "say \\"hi\\""']);
  });

  it("a missing `}` names the `{` left open; a `}` that closes a policy before its last rule says so", () => {
    // The `}` lined up with `tool` closes `tool`: the `{` of `args` is the one left open.
    expect(problems("tool sql.query {\n  args { database: string, limit?: int\n}\n\ntool sql.export {}\n")).toEqual([
      { code: "PC103", line: 3, column: 1, message: "expected `}` after `int`, found `}`", help: "the `{` of `args` opened at 2:8 is never closed: add `}` at the end of line 2" },
    ]);
    expect(problems("policy p {\n  allow kb.x\n")[0]!.help).toBe("the `{` of `policy p` opened at 1:10 is never closed: add `}` at the end of the file");
    const early = 'policy analyst {\n  allow kb.x\n    reason "ok"\n  }\n  @name("n")\n  deny kb.y\n    when context.env == prod\n}\n';
    expect(problems(early)).toEqual([
      { code: "PC103", line: 4, column: 3, message: "this `}` closes `policy analyst` early: rules follow it", help: "remove it: a policy's `}` goes after its last rule" },
    ]);
    // Annotations followed by a declaration, not a rule: the `}` was right, the annotation is what is misplaced.
    expect(problems('policy p { allow kb.x }\n@owner("sec")\npolicy q {\n  deny kb.x\n}\n')).toEqual([expect.objectContaining({ code: "PC103", line: 2, column: 1 })]);
  });

  it("reports an unterminated string once, at its opening quote (PC101)", () => {
    const found = problems('policy p {\n  deny * when agent.team == "sales\n}\n');
    expect(found.filter((p) => p.code === "PC101")).toEqual([expect.objectContaining({ line: 2, column: 29 })]);
  });

  it("reports an unterminated block comment (PC102)", () => {
    const found = problems("enum E { a }\n/* never closed\npolicy p { deny * }\n");
    expect(found).toEqual([expect.objectContaining({ code: "PC102", line: 2, column: 1 })]);
  });

  it("reports a malformed duration (PC104), with what to write when that is clear", () => {
    const cases = [
      ["5w", "write `35d`"],
      ["10mins", "did you mean `10m`?"],
      ["3sec", "did you mean `3s`?"],
      ["1min", "did you mean `1m`?"],
      ["2H", "did you mean `2h`? units are lower case"],
      ["1h30m", "write `90m`"],
      ["1d12h", "write `36h`"],
    ] as const;
    for (const [duration, help] of cases) {
      const found = problems(`policy p {\n  allow kb.search grant "x" for ${duration}\n}\n`);
      expect(found).toEqual([{ code: "PC104", line: 2, column: 33, message: `malformed duration \`${duration}\``, help }]);
    }
    const unknownUnit = problems("policy p { deny * when session.count(within 1y) > 3 }");
    expect(unknownUnit.map((p) => p.code)).toEqual(["PC104"]);
    expect(unknownUnit[0]!.help).toContain("5m");
  });

  it("hints at fractions, spaced units, negative numbers, misspelled keywords and separators", () => {
    const helpAt = (condition: string) => problems(`policy p {\n  deny * when ${condition}\n}`).map((p) => p.help);
    expect(helpAt("session.count(within 1.5h) > 1")).toEqual(["durations are whole numbers: write `90m`"]);
    expect(helpAt("session.calls > 1.5")).toEqual(["numbers are whole: the language has no fractions"]);
    expect(helpAt("session.count(within 1 m) > 1")).toEqual(["write the duration without a space: `1m`"]);
    expect(helpAt("session.calls > -1")).toEqual(["the language has no negative numbers"]);
    expect(helpAt("session.calls > 1 AND session.calls < 3")).toEqual(["did you mean `and`? keywords are lower case"]);
    expect(helpAt("session.calls > 1;")).toEqual(["rules need no separator: a rule ends where the next one starts"]);
    expect(problems("policy p {\n  alow kb.search\n}").map((p) => p.help)).toEqual(["did you mean `allow`?"]);
    expect(problems("policy p {\n  deny kb.search wehn true\n}").map((p) => p.help)).toEqual(["did you mean `when`?"]);
  });

  it("hints at a fraction or a spaced unit where a duration must come too (grant … for), where the error is at the number", () => {
    const grantFor = (duration: string) => problems(`policy p {\n  allow kb.search grant "x" for ${duration}\n}\n`);
    expect(grantFor("1.5h")).toEqual([{ code: "PC103", line: 2, column: 33, message: "expected a duration like `5m` after `for`, found `1`", help: "durations are whole numbers: write `90m`" }]);
    expect(grantFor("1.5s").map((p) => p.help)).toEqual(["durations are whole numbers: write `1500ms`"]);
    expect(grantFor("5 m")).toEqual([{ code: "PC103", line: 2, column: 33, message: "expected a duration like `5m` after `for`, found `5`", help: "write the duration without a space: `5m`" }]);
    expect(grantFor("1.5").map((p) => p.help)).toEqual(["numbers are whole: the language has no fractions"]);
    // The other places keep their help.
    const helpAt = (condition: string) => problems(`policy p {\n  deny * when ${condition}\n}`).map((p) => p.help);
    expect(helpAt("session.age > 1.5h")).toEqual(["durations are whole numbers: write `90m`"]);
    expect(helpAt("session.age > 5 m")).toEqual(["write the duration without a space: `5m`"]);
    expect(helpAt("session.count(within 1.5h) > 1")).toEqual(["durations are whole numbers: write `90m`"]);
  });

  it("accepts every duration unit", () => {
    for (const text of ["500ms", "30s", "5m", "2h", "1d"]) {
      const expr = when(`session.age > ${text}`);
      expect(expr).toMatchObject({ kind: "Binary", right: { kind: "DurationLiteral", text } });
    }
    expect(when("session.age > 2h")).toMatchObject({ right: { milliseconds: 7_200_000 } });
  });

  it("reports an invalid escape (PC105) and decodes valid JSON escapes", () => {
    expect(problems('policy p {\n  deny * when agent.team == "a\\qb"\n}\n')).toEqual([expect.objectContaining({ code: "PC105", line: 2 })]);
    expect(when('agent.team == "a\\"b\\\\c\\n\\u00e9"')).toMatchObject({ right: { kind: "StringLiteral", value: 'a"b\\c\né' } });
  });

  it("refuses nesting deeper than the limit (PC106) and accepts nesting at it", () => {
    const deep = `policy p {\n  deny * when ${"(".repeat(MAX_NESTING + 50)}true${")".repeat(MAX_NESTING + 50)}\n}\n`;
    const found = problems(deep);
    expect(found.map((p) => p.code)).toEqual(["PC106"]);
    expect(found[0]!.line).toBe(2);
    expect(problems(`policy p { deny * when ${"not ".repeat(MAX_NESTING + 5)}true }`).map((p) => p.code)).toEqual(["PC106"]);
    const fine = `policy p {\n  deny * when ${"(".repeat(MAX_NESTING - 5)}true${")".repeat(MAX_NESTING - 5)}\n}\n`;
    expect(problems(fine)).toEqual([]);
  });

  it("reports clauses out of order or repeated (PC107)", () => {
    const found = problems(['policy p {', '  deny * reason "x" when true', "  deny * when true when false", '  deny * revoke reason "r"', '  allow kb.search grant "a" for 5m unless false', "}"].join("\n"));
    expect(found.map((p) => [p.code, p.line])).toEqual([
      ["PC107", 2],
      ["PC107", 3],
      ["PC107", 4],
      ["PC107", 5],
    ]);
    expect(found[1]!.message).toContain("given twice");
    expect(found[1]!.help).toContain("`and`");
    expect(found[0]!.help).toContain("`when`, `unless`, `reason`, `grant`, `revoke`");
    expect(problems("tool t { risk low risk high }").map((p) => p.code)).toEqual(["PC107"]);
  });

  it("a `within` given twice in one call is PC107 at the second `within` (audit s15 #3: read as an argument, it lost its keyword); one before the pattern is fine", () => {
    const text = "tool email.send { risk low }\npolicy p {\n  deny email.send when session.count(within 10m, within /* c */ 1m) > 3\n}\n";
    expect(problems(text)).toEqual([{ code: "PC107", line: 3, column: 50, message: "`within` is given twice in this call", help: "keep one `within`: a call counts over one window" }]);
    expect(problems("tool email.send { risk low }\npolicy p {\n  deny email.send when session.count(email.*, within 10m, within 1m) > 3 and session.count(within 1m) > 9\n}\n").map((p) => [p.code, p.column])).toEqual([["PC107", 59]]);
    expect(problems("tool email.send { risk low }\npolicy p {\n  deny email.send when session.count(within 10m, email.*) > 3\n}\n")).toEqual([]);
  });

  it("a `risk` given twice, one of them with a `:`, is two mistakes: the `:` (PC103) and the second `risk` (PC107)", () => {
    const colon = { code: "PC103", line: 3, column: 7, message: "expected a name after `risk`, found `:`", help: "`risk` takes no `:`: write `risk high`" };
    const twice = { code: "PC107", line: 3, column: 3, message: "`risk` is given twice", help: "keep one `risk`" };
    expect(problems("tool kb.read {\n  risk low\n  risk: high\n}\n")).toEqual([colon, twice]);
    expect(problems("tool kb.read {\n  risk: low\n  risk high\n}\n").map((p) => [p.code, p.line, p.column])).toEqual([["PC103", 2, 7], ["PC107", 3, 3]]);
    expect(problems("tool kb.read {\n  args { a: int }\n  args: { b: int }\n}\n").map((p) => [p.code, p.line, p.column])).toEqual([["PC103", 3, 7], ["PC107", 3, 9]]);
    // A `:` whose item has another mistake in it is one error: the item is skipped whole.
    expect(problems('tool kb.read {\n  risk low\n  risk: "high"\n}\n').map((p) => [p.code, p.line, p.column])).toEqual([["PC103", 3, 7]]);
    expect(problems("tool kb.read {}\nintent s {\n  tools: kb.read, kb.*\n  max_risk: low\n}\n").map((p) => p.help)).toEqual(["`tools` takes no `:`: write `tools kb.read, kb.*`", "`max_risk` takes no `:`: write `max_risk low`"]);
  });

  it("reports a number out of range (PC108)", () => {
    expect(problems("policy p {\n  deny * when session.calls > 99999999999999999999\n}\n")).toEqual([expect.objectContaining({ code: "PC108", line: 2 })]);
  });
});

describe("one-edit mistakes get the edit as their help", () => {
  const first = (text: string) => problems(text)[0];

  it("declarations: a `:` after a keyword, a body word of another language, `string[]`, `risk` for `Risk`, a trailing comma in an enum", () => {
    expect(first("tool kb.reindex { risk: low }")?.help).toBe("`risk` takes no `:`: write `risk low`");
    expect(first("tool kb.reindex {\n  args: { path: string }\n}")?.help).toBe("`args` takes no `:`: write `args { … }`");
    expect(first("tool kb.reindex {}\nintent ops { tools: kb.reindex }")?.help).toBe("`tools` takes no `:`: write `tools kb.reindex`");
    expect(first("tool kb.reindex {}\nintent ops { tools: [kb.reindex, kb.search] }")?.help).toBe("`tools` takes no `:`: write `tools kb.reindex, kb.search`");
    expect(first("tool kb.reindex {\n  arguments { path: string }\n}")?.help).toBe("did you mean `args`? a `tool` declares `risk`, `returns` and `args`");
    expect(first("tool kb.reindex {}\nintent ops { tool kb.reindex }")?.help).toBe("did you mean `tools`? an `intent` declares `tools` and `max_risk`");
    expect(first("tool kb.reindex {\n  args { paths: string[] }\n}")?.help).toBe("a list is written `list<string>`");
    expect(first("agent { clearance: risk }")?.help).toBe("the type of risk levels is `Risk`, with a capital");
    expect(problems("enum Color { red, green, }")).toEqual([expect.objectContaining({ code: "PC103", help: "an enum's members take no `,` after the last one" })]);
    // Audit s20 a1 M4: a `,` left out between members is asked for, not only the `}`.
    expect(problems("enum Color { red green, blue }")).toEqual(syntaxError(1, 18, "expected `,` or `}` after `red`, found `green`", "separate members with `,`: `red, green`"));
    expect(problems("enum Color {\n  red\n  green\n}")).toEqual(syntaxError(3, 3, "expected `,` or `}` after `red`, found `green`", "separate members with `,`: `red, green`"));
  });

  it("a tool's and an intent's bodies: `=`, brackets, quotes, other words for their keywords, a description, a rule", () => {
    const helps = (text: string) => problems(text).map((p) => [p.line, p.column, p.help]);
    const TOOL = "a `tool` declares `risk`, `returns` and `args`";
    const INTENT = "an `intent` declares `tools` and `max_risk`";
    expect(helps("tool kb.read {\n  risk = low\n}")).toEqual([[2, 8, "`risk` takes no `=`: write `risk low`"]]);
    expect(helps('tool kb.read {\n  risk: "high"\n}')).toEqual([[2, 7, "`risk` takes no `:`: write `risk high`"]]);
    expect(helps("tool kb.read {\n  risk: Risk.low\n}")).toEqual([[2, 7, "`risk` takes no `:`: write `risk low`"]]);
    expect(helps("tool kb.read {\n  returns [pii, secret]\n}")).toEqual([[2, 11, "`returns` takes its list without brackets: write `returns pii, secret`"]]);
    expect(helps("tool kb.read {}\nintent s { tools [kb.read] }")).toEqual([[2, 18, "`tools` takes its list without brackets: write `tools kb.read`"]]);
    expect(helps('tool kb.read {}\nintent s { tools "kb.read" }')).toEqual([[2, 18, "names are written without quotes: `tools kb.read`"]]);
    expect(helps('tool "kb.read" {}')).toEqual([[1, 6, "names are written without quotes: `tool kb.read`"]]);
    expect(helps("tool kb.read {\n  level high\n}")).toEqual([[2, 3, `did you mean \`risk\`? ${TOOL}`]]);
    expect(helps("tool kb.read {\n  labels pii\n}")).toEqual([[2, 3, `did you mean \`returns\`? ${TOOL}`]]);
    expect(helps('tool kb.read {\n  description "reads the knowledge base"\n}')).toEqual([[2, 3, `describe it in a \`///\` doc comment on the line before \`tool\`; ${TOOL}`]]);
    expect(helps("tool kb.read {}\nintent s {\n  tools kb.read\n  risk high\n}")).toEqual([[4, 3, `did you mean \`max_risk\`? ${INTENT}`]]);
    expect(helps("tool kb.read {}\nintent s {\n  allow kb.read\n}")).toEqual([[3, 3, `rules go inside \`policy NAME { … }\`; ${INTENT}`]]);
  });

  it("where a rule starts: other languages' effects, `rule`, `default`, `else`, braces", () => {
    const found = (rule: string) => problems(`policy p {\n  ${rule}\n  deny kb.search\n}\n`).map((p) => [p.line, p.column, p.help]);
    expect(found("permit kb.search")).toEqual([[2, 3, "write `allow`"]]);
    expect(found("forbid kb.search")).toEqual([[2, 3, "write `deny`"]]);
    expect(found("rule r1 { allow kb.search }")).toEqual([[2, 3, 'a rule starts with `allow`, `ask` or `deny` and has no name of its own: `@name("…")` on the line before gives its id']]);
    expect(found("default deny")).toEqual([[2, 3, "a call that no rule allows is denied already; to allow what no rule denies, write `allow *`"]]);
    // The effect after `else` is part of that mistake, not a rule of its own without targets.
    expect(found("allow kb.search when agent.attested else deny")).toEqual([[2, 39, "a rule has no `else`: write the other case as a rule of its own (a call that no rule allows is denied)"]]);
    // A name or a name's last part spelled `else` ends a rule like any other: the next rule is one.
    const clean = (text: string) => expect(problems(text), text).toEqual([]);
    clean("tool fallback.else { risk low }\npolicy p {\n  allow fallback.else\n  deny fallback.else\n}\n");
    clean("enum Branch { then, else }\ntool git.push { risk high args { b: Branch } }\npolicy p {\n  deny git.push\n    when args.b == Branch.else\n  allow git.push\n}\n");
    clean("tool else { risk low }\ntool t { risk low }\npolicy p {\n  allow else\n  deny t\n  allow t, else\n  deny t\n}\n");
    // Braces around a rule's clauses or a condition: one error, the braces and what is in them skipped.
    expect(found("allow kb.search {\n    when agent.attested\n  }")).toEqual([[2, 19, "a rule takes no braces: its clauses follow its targets, as in `allow kb.search when …`"]]);
    expect(found("allow kb.search when { agent.attested }")).toEqual([[2, 24, "a condition takes no braces: write `when agent.attested`"]]);
  });

  it("rules: a quoted target, targets without a `,`, a scope unquoted or in brackets, a lifetime without its unit", () => {
    const helpOf = (rule: string) => first(`policy p {\n  ${rule}\n}\n`)?.help;
    expect(helpOf('deny "kb.search"')).toBe("tool names are written without quotes: `kb.search`");
    expect(helpOf("deny kb.search email.send")).toBe("targets are separated by `,`: `kb.search, email.send`");
    expect(helpOf('allow kb.search grant kb:read for 5m')).toBe('a scope is a string: `grant "kb:read" for …`');
    expect(helpOf('allow kb.search grant ["kb:read", "kb:write"] for 5m')).toBe('scopes are written without brackets: `grant "kb:read", "kb:write" for …`');
    expect(helpOf('allow kb.search grant "kb:read" for 300')).toBe("a lifetime is a duration: write it with its unit, as in `300s`");
    expect(helpOf('allow kb.search grant "kb:read" for 5 minutes')).toBe("a duration is one word, a number and a unit: did you mean `5m`?");
    // A misspelled clause is not a second target.
    expect(helpOf("deny kb.search wehn true")).toBe("did you mean `when`?");
  });

  it("conditions: `has` as a function or before a path, a `(` never closed", () => {
    const helpOf = (condition: string) => first(`policy p {\n  deny * when ${condition}\n}\n`)?.help;
    expect(helpOf("has(context.destination)")).toBe("`has` goes between the record and the attribute: `context has destination`");
    expect(helpOf("context has destination.zone")).toBe("`has` tests one attribute: write `context has destination and context.destination has zone`");
    expect(problems("policy p {\n  deny kb.search when (session.calls > 100 or session.denials > 3\n  allow kb.search\n}\n")).toEqual([
      { code: "PC103", line: 3, column: 3, message: "expected `)` after `3`, found `allow`", help: "the `(` opened at 2:23 is never closed: add `)` at the end of line 2" },
    ]);
    // A `(` closed later is not the mistake: here a missing `,` is.
    expect(first('policy p {\n  @controls("A" "B") allow kb.search\n}\n')?.help).toBe('separate the two strings with a comma: `"A", "B"`');
  });

  it("characters: a `-` in a name is one error with the name written with `_`; curly quotes, `~` and non-ASCII letters", () => {
    expect(problems("tool github.create-pull-request { risk high }")).toEqual([
      { code: "PC100", line: 1, column: 19, message: "unexpected character `-`", help: "names are letters, digits and `_`, never `-`: write `github.create_pull_request`; a tool is then requested by that name too" },
    ]);
    expect(problems("policy kb-rules {\n  allow kb.search\n}\n").map((p) => p.help)).toEqual(["names are letters, digits and `_`, never `-`: write `kb_rules`"]);
    expect(problems("policy p {\n  deny * when session.calls > -1\n}\n").map((p) => p.help)).toEqual(["the language has no negative numbers"]);
    expect(problems("policy p {\n  allow kb.search when agent.team == \u201csupport\u201d\n}\n")).toEqual([
      { code: "PC100", line: 2, column: 38, message: "unexpected character `\u201c`", help: 'strings use straight double quotes: "support"' },
    ]);
    expect(first('policy p {\n  deny http.get when args.url ~= "x"\n}\n')?.help).toBe('match a pattern with `like` and `*`, as in `args.url like "*evil*"`, or compare with `==`');
    expect(first("agent { \u00e9quipe: string }")?.help).toBe("names are ASCII letters, digits and `_`; other text goes in strings");
  });

  it("an enum written as a union is one error with the enum in braces", () => {
    expect(problems("enum Color = red | green\ntool kb.read {}\n")).toEqual(syntaxError(1, 12, "expected `{`, found `=`", "an enum lists its members in braces: write `enum Color { red, green }`"));
    expect(problems('enum Color = "red", "green"\n')[0]!.help).toBe("an enum lists its members in braces: write `enum Color { red, green }`");
    expect(problems('type Color = "red" | "green"\n')).toEqual(syntaxError(1, 12, "expected `{`, found `=`", "a type of a few values is an enum: write `enum Color { red, green }`"));
    // Each member on a line of its own, the `;` of TypeScript: the same one error.
    const braces = "an enum lists its members in braces: write `enum Color { red, green }`";
    expect(problems("enum Color =\n  | red\n  | green\ntool kb.read {}\n")).toEqual(syntaxError(1, 12, "expected `{`, found `=`", braces));
    expect(problems("enum Color =\r\n  | red\r\n  | green\r\n")).toEqual(syntaxError(1, 12, "expected `{`, found `=`", braces));
    expect(problems('type Color =\n  | "red"\n  | "green";\n')).toEqual(syntaxError(1, 12, "expected `{`, found `=`", "a type of a few values is an enum: write `enum Color { red, green }`"));
    // A `|` after the union is a mistake of its own.
    expect(problems("enum Color =\n  | red\n  | green\npolicy p {\n  deny * when a | b\n}\n").map((p) => [p.code, p.line])).toEqual([["PC100", 5], ["PC103", 1]]);
    expect(problems("type Address = { street: string }\n")).toEqual(syntaxError(1, 14, "expected `{`, found `=`", "`type` takes no `=`: write `type Address { … }`"));
    // A `|` elsewhere is still its own mistake.
    expect(problems("enum Color = red | green\npolicy p { deny * when a | b }\n").map((p) => [p.code, p.line])).toEqual([
      ["PC100", 2],
      ["PC103", 1],
    ]);
  });
});

describe("a mistake inside a declaration's block is one error: its item is skipped, the items after it still parsed", () => {
  const TOOLS_HELP = "did you mean `tools`? an `intent` declares `tools` and `max_risk`";
  const ARGS_HELP = "did you mean `args`? a `tool` declares `risk`, `returns` and `args`";
  const RISK_TYPE_HELP = "the type of risk levels is `Risk`, with a capital";

  it("`tool` for an intent's `tools` is not read as a tool declaration", () => {
    expect(problems("tool kb.read { risk low }\nintent support { tool kb.read }")).toEqual([
      { code: "PC103", line: 2, column: 18, message: "expected `}` after `{`, found `tool`", help: TOOLS_HELP },
    ]);
    expect(problems("intent support {\n  tool kb.read\n  max_risk high\n}")).toEqual([
      { code: "PC103", line: 2, column: 3, message: "expected `}` after `{`, found `tool`", help: TOOLS_HELP },
    ]);
  });

  it("`arguments { … }` (or `params`, `inputs`) for a tool's `args` leaves no `}` behind", () => {
    for (const word of ["arguments", "argument", "params", "parameters", "inputs"]) {
      expect(problems(`tool kb.read {\n  ${word} { path: string }\n}`)).toEqual([
        { code: "PC103", line: 2, column: 3, message: `expected \`}\` after \`{\`, found \`${word}\``, help: ARGS_HELP },
      ]);
    }
    // With an item after it, and after a well-formed `args` block.
    expect(problems("tool kb.read {\n  /// what it takes\n  arguments { path: string }\n  risk low\n}").map((p) => [p.code, p.line, p.column])).toEqual([["PC103", 3, 3]]);
    expect(problems("tool kb.read {\n  args { path: string }\n  arguments { x: int }\n}").map((p) => [p.code, p.line, p.column])).toEqual([["PC103", 3, 3]]);
  });

  it("`risk` for the type `Risk` ends its attribute: the next attribute parses", () => {
    expect(problems("agent { clearance: risk }")).toEqual([{ code: "PC103", line: 1, column: 20, message: "expected a name after `:`, found `risk`", help: RISK_TYPE_HELP }]);
    expect(problems("agent {\n  clearance: risk\n  team: string\n}")).toEqual([{ code: "PC103", line: 2, column: 14, message: "expected a name after `:`, found `risk`", help: RISK_TYPE_HELP }]);
    expect(problems("context {\n  labels: set<Label>,\n  risk: risk\n}").map((p) => [p.code, p.line, p.column])).toEqual([["PC103", 3, 9]]);
  });

  it("other attribute mistakes, one error each, with the attribute as it is written: `=`, a quoted name, `optional`, `set(…)`, a value for a type", () => {
    expect(problems("agent {\n  team = string\n  zone: Zone\n}")).toEqual(syntaxError(2, 8, "expected `:`, found `=`", "an attribute's type follows a `:`: write `team: string`"));
    expect(problems("type Dest {\n  host: string\n  port = int\n}")).toEqual(syntaxError(3, 8, "expected `:`, found `=`", "an attribute's type follows a `:`: write `port: int`"));
    expect(problems('agent {\n  "team": string\n  zone: Zone\n}')).toEqual(syntaxError(2, 3, 'expected `}` after `{`, found `"team"`', "an attribute's name is written without quotes: `team`"));
    expect(problems("tool kb.read {\n  args {\n    path: string\n    optional limit: int\n  }\n}")).toEqual(syntaxError(4, 14, "expected `:` after `optional`, found `limit`", "an optional attribute has a `?` after its name: `limit?: int`"));
    expect(problems("agent {\n  team: string?\n}")).toEqual(syntaxError(2, 15, "expected `}` after `string`, found `?`", "an optional attribute has a `?` after its name: `team?: string`"));
    // Two attributes on one line need a `,` between them, as language.md 3.3 says (audit s20 a1 L7); a line break will do.
    const oneLine = "separate attributes with `,` or put each on a line of its own: `a: string, b: int`";
    expect(problems("type T { a: string b: int }")).toEqual(syntaxError(1, 20, "expected `,` or a line break after `a: string`, found `b`", oneLine));
    expect(problems("tool x.y {\n  args { a: string b: int }\n}")).toEqual(syntaxError(2, 20, "expected `,` or a line break after `a: string`, found `b`", oneLine));
    expect(problems("type T {\n  a: string // why\n  b: int\n}\nagent { a: string, b: int, }")).toEqual([]);
    // TypeScript's place for it after a generic type (audit s20 a1 M4).
    expect(problems("type T { cc: list<string>? }")).toEqual(syntaxError(1, 26, "expected `}` after `>`, found `?`", "an optional attribute has a `?` after its name: `cc?: list<string>`"));
    expect(problems("agent {\n  roles: set(string)\n  zone: Zone\n}")).toEqual(syntaxError(2, 13, "expected `}` after `set`, found `(`", "a set is written `set<string>`"));
    expect(problems("user {\n  roles: list[string]\n}")).toEqual(syntaxError(2, 14, "expected `}` after `list`, found `[`", "a list is written `list<string>`"));
    expect(problems("agent {\n  roles: [string]\n  zone: Zone\n}")).toEqual(syntaxError(2, 10, "expected a name after `:`, found `[`", "a list is written `list<string>`"));
    expect(problems('agent {\n  team: "support"\n  zone: Zone\n}')).toEqual(
      syntaxError(2, 9, 'expected a name after `:`, found `"support"`', 'an attribute is declared with its type, as in `team: string`; a rule compares its value, as in `agent.team == "support"`'),
    );
    expect(problems("type Limits { max: 10 }")).toEqual(syntaxError(1, 20, "expected a name after `:`, found `10`", "an attribute is declared with its type, as in `max: int`"));
    expect(problems("tool kb.read {\n  args { limit: int = 10 }\n}")).toEqual(syntaxError(2, 21, "expected `}`, found `=`", "an attribute has no default value: declare it optional, `limit?: int`, and test it with `has` in rules"));
    expect(problems("agent {\n  roles: set<string\n  zone: Zone\n}")).toEqual(syntaxError(3, 3, "expected `>` after `string`, found `zone`", "the `<` of `set` opened at 2:13 is never closed: add `>` at the end of line 2"));
    expect(problems("agent { roles: set<string team: string }")).toEqual(syntaxError(1, 27, "expected `>` after `string`, found `team`", "the `<` of `set` opened at 1:19 is never closed: add `>` after `string`"));
    expect(problems("agent Bot {\n  team: string\n}")).toEqual(syntaxError(1, 7, "expected `{` after `agent`, found `Bot`", "`agent` takes no name: one `agent { … }` block declares the attributes of every request's agent"));
  });

  it("an attribute with an unexpected character in it has its PC100 and no PC103", () => {
    expect(problems("agent {\n  team: string | int\n  zone: Zone\n}")).toEqual([{ code: "PC100", line: 2, column: 16, message: "unexpected character `|`", help: "write `or`" }]);
  });

  it("independent mistakes are each reported: in other declarations, in other items of the same block, inside `args: { … }`", () => {
    const text = [
      "tool kb.read {", //                                  1
      "  arguments { path: string }", //                    2: `args`
      "}", //                                               3
      "intent support { tool kb.read }", //                 4: `tools`
      "policy p {", //                                      5
      '  allow kb.read when agent.team = "x"', //           6: `==`
      "}", //                                               7
    ].join("\n");
    expect(problems(text)).toEqual([
      { code: "PC103", line: 2, column: 3, message: "expected `}` after `{`, found `arguments`", help: ARGS_HELP },
      { code: "PC103", line: 4, column: 18, message: "expected `}` after `{`, found `tool`", help: TOOLS_HELP },
      { code: "PC103", line: 6, column: 33, message: "expected a rule clause (`when`, `unless`, `reason`, `grant`, `revoke`), a new rule or `}`, found `=` (comparison is written `==`)" },
    ]);
    expect(problems("tool kb.read {\n  rsik low\n  retrns pii\n}")).toEqual([
      { code: "PC103", line: 2, column: 3, message: "expected `}` after `{`, found `rsik`", help: "did you mean `risk`? a `tool` declares `risk`, `returns` and `args`" },
      { code: "PC103", line: 3, column: 3, message: "expected `}` after `low`, found `retrns`", help: "did you mean `returns`? a `tool` declares `risk`, `returns` and `args`" },
    ]);
    expect(problems("agent {\n  clearance: risk,\n  team: string[], zone: Zone\n}")).toEqual([
      { code: "PC103", line: 2, column: 14, message: "expected a name after `:`, found `risk`", help: RISK_TYPE_HELP },
      { code: "PC103", line: 3, column: 15, message: "expected `}` after `string`, found `[`", help: "a list is written `list<string>`" },
    ]);
    expect(problems("tool kb.read {\n  args: { path: string[] }\n}")).toEqual([
      { code: "PC103", line: 2, column: 7, message: "expected `{` after `args`, found `:`", help: "`args` takes no `:`: write `args { … }`" },
      { code: "PC103", line: 2, column: 23, message: "expected `}` after `string`, found `[`", help: "a list is written `list<string>`" },
    ]);
  });

  it("a word written twice is one item; a body keyword starting the line after a `,` starts one, so its mistake is reported too", () => {
    const RETURNS = { code: "PC103", line: 3, column: 19, message: "expected `}` after `returns`, found `public`" };
    expect(problems("tool kb.search {\n  risk low\n  returns returns public\n  args { query: string }\n}\n")).toEqual([RETURNS]);
    expect(problems("tool kb.search {\n  risk low,\n  returns returns public\n  args { query: string }\n}\n")).toEqual([
      { code: "PC103", line: 2, column: 11, message: "expected `}` after `low`, found `,`" },
      RETURNS,
    ]);
    expect(problems("intent support {\n  tools fs.read, http.fetch,,\n  max_risk medium @\n}\n")).toEqual([
      { code: "PC103", line: 2, column: 29, message: "expected a tool name or pattern after `,`, found `,`", help: "one `,` too many: remove it" },
      { code: "PC103", line: 3, column: 19, message: "expected `}` after `medium`, found `@`" },
    ]);
  });

  it("many mistaken items: one error each, up to the file's limit of 25", () => {
    const text = `agent {\n${Array.from({ length: 400 }, (_, i) => `  a${i} = string`).join("\n")}\n}\n`;
    expect(problems(text).map((p) => [p.code, p.line, p.column])).toEqual(Array.from({ length: 25 }, (_, i) => ["PC103", i + 2, i < 10 ? 6 : i < 100 ? 7 : 8]));
  });
});

describe("a bracket left open is one error, and what follows it is still read", () => {
  /** The kinds of the declarations parsed, in order. */
  const kinds = (text: string): string[] => parse(text, "t.policy").ast.declarations.map((d) => d.kind);
  const EQUALS = "expected a rule clause (`when`, `unless`, `reason`, `grant`, `revoke`), a new rule or `}`, found `=` (comparison is written `==`)";

  it("a declaration's `{` left open closes before the next declaration that starts a line, which is read as written", () => {
    const text = 'agent { team: string\n\ntool kb.read { risk low }\npolicy p {\n  allow kb.read when agent.team == "x"\n}\n';
    expect(problems(text)).toEqual(syntaxError(3, 1, "expected `}` after `string`, found `tool`", "the `{` of `agent` opened at 1:7 is never closed: add `}` before `tool` at 3:1"));
    expect(kinds(text)).toEqual(["EntityDecl", "ToolDecl", "PolicyDecl"]);
    expect(problems("tool kb.read {\n  risk low\ntool kb.write { risk high }\n")).toEqual(syntaxError(3, 1, "expected `}` after `low`, found `tool`", "the `{` of `tool kb.read` opened at 1:14 is never closed: add `}` before `tool` at 3:1"));
    expect(problems("intent support {\n  tools kb.read\n\npolicy p {\n  allow kb.read\n}")).toEqual(syntaxError(4, 1, "expected `}` after `read`, found `policy`", "the `{` of `intent support` opened at 1:16 is never closed: add `}` before `policy` at 4:1"));
    expect(problems("type Address {\n  street: string\nenum Zone { internal, external }\n")).toEqual(syntaxError(3, 1, "expected `}` after `string`, found `enum`", "the `{` of `type Address` opened at 1:14 is never closed: add `}` before `enum` at 3:1"));
    expect(problems("enum Zone {\n  internal, external\nagent { zone: Zone }\n")).toEqual(syntaxError(3, 1, "expected `}` after `external`, found `agent`", "the `{` of `enum Zone` opened at 1:11 is never closed: add `}` before `agent` at 3:1"));
  });

  it("a `{` left open whose `}` comes after the declarations that follow it: one error, which names that `}` too", () => {
    const text = "agent { team: string\ntool kb.read { risk low }\n}\n";
    expect(problems(text)).toEqual(syntaxError(2, 1, "expected `}` after `string`, found `tool`", "the `{` of `agent` opened at 1:7 is never closed: add `}` before `tool` at 2:1; the `}` at 3:1 then closes nothing: remove it"));
    expect(kinds(text)).toEqual(["EntityDecl", "ToolDecl"]);
    expect(problems("enum Zone {\n  internal, external\nagent { zone: Zone }\npolicy p {\n  allow kb.read\n}\n}\n}\n")).toEqual(
      syntaxError(3, 1, "expected `}` after `external`, found `agent`", "the `{` of `enum Zone` opened at 1:11 is never closed: add `}` before `agent` at 3:1; the `}` at 7:1 and 8:1 then close nothing: remove them"),
    );
    expect(problems("tool a.b {\n  args {\n    x: int\ntool c.d {}\n}\n")).toEqual(
      syntaxError(4, 1, "expected `}` after `int`, found `tool`", "the `{` of `args` opened at 2:8 and the `{` of `tool a.b` opened at 1:10 are never closed: add two `}` before `tool` at 4:1; the `}` at 5:1 then closes nothing: remove it"),
    );
    // In a policy, a declaration before its `}` is one written among its rules.
    expect(problems("policy p {\n  allow x\ntool kb.reindex { risk low }\n}\n")).toEqual(syntaxError(3, 1, "expected a rule (`allow`, `ask` or `deny`), found a declaration (`tool`) inside `policy p`", "declarations go outside policy blocks: move it above `policy p {`"));
  });

  it("the mistakes of the declarations after it are still reported", () => {
    const text = 'agent { team: string\n\ntool kb.read { risk low }\nintent support { tool kb.read }\npolicy p {\n  allow kb.read when agent.team = "x"\n}\n';
    expect(problems(text)).toEqual([
      { code: "PC103", line: 3, column: 1, message: "expected `}` after `string`, found `tool`", help: "the `{` of `agent` opened at 1:7 is never closed: add `}` before `tool` at 3:1" },
      { code: "PC103", line: 4, column: 18, message: "expected `}` after `{`, found `tool`", help: "did you mean `tools`? an `intent` declares `tools` and `max_risk`" },
      { code: "PC103", line: 6, column: 33, message: EQUALS },
    ]);
  });

  it("a policy's `{` left open closes before the next policy, or at the end of the file; its rules' mistakes are still reported", () => {
    expect(problems('policy p {\n  allow kb.read\npolicy q {\n  deny kb.write\n  allow kb.read when agent.team = "x"\n}\n')).toEqual([
      { code: "PC103", line: 3, column: 1, message: "expected `}` after `read`, found `policy`", help: "the `{` of `policy p` opened at 1:10 is never closed: add `}` before `policy` at 3:1" },
      { code: "PC103", line: 5, column: 33, message: EQUALS },
    ]);
    expect(problems('policy p {\n  allow kb.read when agent.team = "x"\n  deny kb.write\n')).toEqual([
      { code: "PC103", line: 3, column: 16, message: "expected `}` after `write`, found the end of the file", help: "the `{` of `policy p` opened at 1:10 is never closed: add `}` at the end of the file" },
      { code: "PC103", line: 2, column: 33, message: EQUALS },
    ]);
  });

  it("a `{` nested in a declaration closes where its lines come back to its indentation: `args {` left open in a tool", () => {
    expect(problems("tool email.send {\n  args {\n    to: list<string>\n  risk high\n}\ntool kb.read { risk low }\n")).toEqual(syntaxError(4, 3, "expected `}` after `>`, found `risk`", "the `{` of `args` opened at 2:8 is never closed: add `}` before `risk` at 4:3"));
    // The tool's own `}` missing too: two braces, one error.
    expect(problems("tool email.send {\n  args {\n    to: list<string>\n  risk high\n")).toEqual(syntaxError(4, 3, "expected `}` after `>`, found `risk`", "the `{` of `args` opened at 2:8 and the `{` of `tool email.send` opened at 1:17 are never closed: add `}` before `risk` at 4:3 and `}` at the end of the file"));
  });

  it("a rule's `(` or `[` left open closes before the next rule that starts a line, whose mistakes are still reported", () => {
    const text = 'tool email.send { args { to: list<string> } }\npolicy p {\n  deny email.send when any(r in args.to: r like "*@x.com"\n  allow email.send when agent.team = "x"\n}\n';
    expect(problems(text)).toEqual([
      { code: "PC103", line: 4, column: 3, message: 'expected `)` after `"*@x.com"`, found `allow`', help: "the `(` opened at 3:27 is never closed: add `)` at the end of line 3" },
      { code: "PC103", line: 4, column: 36, message: EQUALS },
    ]);
    expect(problems('policy p {\n  allow kb.read when agent.team in ["a", "b"\n  deny kb.write\n}\n')).toEqual(syntaxError(3, 3, 'expected `]` after `"b"`, found `deny`', "the `[` opened at 2:36 is never closed: add `]` at the end of line 2"));
    // An annotation's `(`, before the next annotation.
    expect(problems('policy p {\n  @controls("A"\n  @name("n")\n  allow kb.read\n}\n')).toEqual(syntaxError(3, 3, 'expected `)` after `"A"`, found `@`', "the `(` opened at 2:12 is never closed: add `)` at the end of line 2"));
    expect(problems("policy p {\n  deny kb.write when (a\n")).toEqual(syntaxError(2, 24, "expected `)` after `a`, found the end of the file", "the `(` opened at 2:22 and the `{` of `policy p` opened at 1:10 are never closed: add `)` at the end of line 2 and `}` at the end of the file"));
  });

  it("what is unfinished before the missing closer is said in the same error", () => {
    expect(problems("agent {\n  team:\ntool kb.read {}\n")).toEqual(syntaxError(3, 1, "expected a name after `:`, found `tool`", "the `{` of `agent` opened at 1:7 is never closed: add `}` before `tool` at 3:1"));
    expect(problems("policy p {\n  deny kb.write when (a or\n  allow kb.read\n}\n")).toEqual(syntaxError(3, 3, "expected an expression after `or`, found `allow`", "the `(` opened at 2:22 is never closed: add `)` at the end of line 2"));
    expect(problems("policy p { deny * when")).toEqual(syntaxError(1, 23, "expected an expression after `when`, found the end of the file", "the `{` of `policy p` opened at 1:10 is never closed: add `}` at the end of the file"));
    expect(problems("agent {\n  roles: set<string\n\ntool kb.read {}\n")).toEqual(syntaxError(4, 1, "expected `>` after `string`, found `tool`", "the `{` of `agent` opened at 1:7 is never closed: add `}` before `tool` at 4:1"));
  });

  it("a string or a comment left open that took the closer has its own error only", () => {
    expect(problems('policy p {\n  @name("n)\n  allow kb.read\n}\n')).toEqual([{ code: "PC101", line: 2, column: 9, message: "unterminated string", help: 'add the closing `"` on the same line' }]);
    expect(problems("policy p {\n  allow kb.read /* note\n}\n")).toEqual([{ code: "PC102", line: 2, column: 17, message: "unterminated block comment", help: "close it with `*/`" }]);
    // A string that took no closer: the `}` is missing as well.
    expect(problems('policy p {\n  deny kb.write when agent.team == "b\n')).toEqual([
      { code: "PC101", line: 2, column: 36, message: "unterminated string", help: 'add the closing `"` on the same line' },
      { code: "PC103", line: 2, column: 38, message: 'expected `}` after `"b`, found the end of the file', help: "the `{` of `policy p` opened at 1:10 is never closed: add `}` at the end of the file" },
    ]);
  });

  it("a string without its closing `\"` is one error: what it took from its line (a `)`, a `]`, `for 5m`) is not reported again", () => {
    const PC101 = { code: "PC101", message: "unterminated string", help: 'add the closing `"` on the same line' };
    expect(problems('policy p {\n  allow kb.read when agent.team in ["a", "b]\n}\n')).toEqual([{ ...PC101, line: 2, column: 42 }]);
    expect(problems('policy p {\n  allow kb.read grant "kb:read for 5m\n  @name("n")\n  deny kb.write\n}\n')).toEqual([{ ...PC101, line: 2, column: 23 }]);
  });

  it("a string whose closing `\"` is missing before the next string is one error at it, saying where the `\"` goes", () => {
    const help = (word: string): string => `add the closing \`"\` after \`${word}\`: as written, the string ends at the \`"\` that opens the next one`;
    expect(problems('policy p {\n  @controls("OWASP-ASI01, "OWASP-ASI02")\n  allow kb.read\n}\n')).toEqual([{ code: "PC101", line: 2, column: 13, message: "unterminated string", help: help("OWASP-ASI01") }]);
    // The next rules are still read, and their mistakes reported.
    expect(problems('policy p {\n  allow kb.read when agent.team in ["support, "sales"]\n  deny kb.write when agent.team = "x"\n}\n')).toEqual([
      { code: "PC101", line: 2, column: 37, message: "unterminated string", help: help("support") },
      { code: "PC103", line: 3, column: 33, message: EQUALS },
    ]);
  });

  it("a `{` left open, then a block's `{` left out further on: the two mistakes, each once", () => {
    const tools = ["read", "write", "delete"].map((name) => `tool kb.${name} {\n  risk low\n  args { id: string }\n}\n\n`).join("");
    const text = `enum Zone { internal, external }\n\ntype Destination { host: string, zone: Zone\n\nagent {\n  id: string\n}\n\n${tools}intent support\n  tools kb.read\n}\n\npolicy p {\n  allow kb.read\n}\n`;
    expect(problems(text)).toEqual([
      { code: "PC103", line: 25, column: 3, message: "expected `{` after `support`, found `tools`", help: "the block of `intent support` has no `{`: write `intent support {`" },
      { code: "PC103", line: 5, column: 1, message: "expected `}` after `Zone`, found `agent`", help: "the `{` of `type Destination` opened at 3:18 is never closed: add `}` before `agent` at 5:1" },
    ]);
  });

  it("a bracket the parser already reports, one too many or whose closer another took, gets no second error", () => {
    const CLAUSE = "expected a rule clause (`when`, `unless`, `reason`, `grant`, `revoke`), a new rule or `}`";
    // A stray `{` in a word, a stray `[`: the fix is to remove it, not to add a closer at the end.
    expect(problems("tool kb.read { risk low }\n\npo{licy p {\n  allow kb.read\n}\n")).toEqual(syntaxError(3, 1, "expected a declaration (`enum`, `type`, `agent`, `user`, `context`, `tool`, `intent` or `policy`), found `po`"));
    expect(problems('policy p {\n  allow kb.read\n    when tool.risk [<= low\n    reason "fine"\n\n  deny kb.read\n}\n')).toEqual(syntaxError(3, 20, `${CLAUSE}, found \`[\``));
    // `lower(` took the `)` of `any(`: the one `)` missing is reported once, at `lower(`.
    expect(problems('policy p {\n  deny email.send\n    when any(r in args.to: r.lower( == "a")\n    reason "x"\n}\n')).toEqual(syntaxError(3, 37, "expected `)` after `(`, found `==`"));
    // In a block, "expected `}`" is an item the parser cannot read, not the `}` left out: both are said.
    expect(problems("tool a.b {\n  risk low\n  returns pii x\n  args { q: string }\ntool c.d { risk low }\n")).toEqual([
      { code: "PC103", line: 5, column: 1, message: "expected `}` after `}`, found `tool`", help: "the `{` of `tool a.b` opened at 1:10 is never closed: add `}` before `tool` at 5:1" },
      { code: "PC103", line: 3, column: 15, message: "expected `}` after `pii`, found `x`" },
    ]);
    // Two `)` missing are two mistakes.
    expect(problems('policy p {\n  deny email.send\n    when any(r in args.to: r.lower( == "a"\n    reason "x"\n}\n')).toEqual([
      { code: "PC103", line: 4, column: 5, message: `${CLAUSE}, found \`reason\``, help: "the `(` opened at 3:35 and the `(` opened at 3:13 are never closed: add two `)` at the end of line 3" },
      { code: "PC103", line: 3, column: 37, message: "expected `)` after `(`, found `==`" },
    ]);
  });

  it("an annotation broken by a bracket is one error: the rules after it are still read, and their mistakes reported", () => {
    const rules = (first: string): string => `policy session_guards {\n  @name("loop")\n  ${first}\n    when session.repeats >= 3\n    reason "stuck"\n    revoke\n\n  @name("off-intent")\n  deny *\n    when not (tool in intent.tools)\n    reason "off"\n    reason "again"\n}\n`;
    const twice = (line: number): ReturnType<typeof problems>[number] => ({ code: "PC107", line, column: 5, message: "`reason` is given twice in this rule" });
    // A `{` right after `@` closes nothing: it took the rules after it into a block.
    expect(problems(rules('@{controls("OWASP-ASI08")\n  deny *'))).toEqual([
      { code: "PC103", line: 3, column: 4, message: "expected a name after `@`, found `{`", help: 'remove it: an annotation is `@` and its name, as in `@name("kb-read")`' },
      twice(13),
    ]);
    // The `)` and the line break after the argument deleted: the rule on its line is not part of the annotation.
    expect(problems(rules('@controls("OWASP-ASI08"  deny *'))).toEqual([
      { code: "PC103", line: 3, column: 28, message: "expected `)` after `\"OWASP-ASI08\"`, found `deny`", help: "the `(` opened at 3:12 is never closed: add `)` after `\"OWASP-ASI08\"`" },
      twice(12),
    ]);
    const parsed = parse(rules('@controls("OWASP-ASI08"  deny *'), "t.policy").ast.declarations[0] as A.PolicyDecl;
    expect(parsed.rules.map((rule) => rule.annotations.map((a) => a.name.name))).toEqual([["name", "controls"], ["name"]]);
  });

  it("a clause keyword in a list closed on its line is a value written wrong, not where the list ends", () => {
    expect(problems("enum Why { grant, other }\npolicy p {\n  deny t.x\n    when args.why in [other, grant]\n  allow t.x\n}\n")).toEqual([
      { code: "PC103", line: 4, column: 30, message: "expected an expression after `,`, found `grant`", help: "`grant` is a keyword: the enum member is written with its enum's name, `Why.grant`" },
      { code: "PC103", line: 4, column: 35, message: "expected a string after `grant`, found `]`" },
    ]);
  });

  it("a declaration among a policy's rules is not where the policy ends when its `}` comes later, even unindented", () => {
    expect(problems("policy p {\n  allow x\ntool kb.reindex { risk low }\n  allow y\n}\n")).toEqual(syntaxError(3, 1, "expected a rule (`allow`, `ask` or `deny`), found a declaration (`tool`) inside `policy p`", "declarations go outside policy blocks: move it above `policy p {`"));
    // Indented more than the policy, it is among its rules even when the `}` is missing.
    expect(problems("policy p {\n  allow x\n  tool kb.reindex { risk low }\n  allow y\n")).toEqual([
      { code: "PC103", line: 4, column: 10, message: "expected `}` after `y`, found the end of the file", help: "the `{` of `policy p` opened at 1:10 is never closed: add `}` at the end of the file" },
      { code: "PC103", line: 3, column: 3, message: "expected a rule (`allow`, `ask` or `deny`), found a declaration (`tool`) inside `policy p`", help: "declarations go outside policy blocks: move it above `policy p {`" },
    ]);
  });
});

describe("a `\"` missing, one too many or of another kind is one error", () => {
  /** The one diagnostic of `rule` written in a policy after declarations, as `problems` gives it, line and column in the rule's line. */
  const inRule = (rule: string) => problems(`tool fs.read { args { path: string } }\ntool email.send { args { to: list<string> } }\nagent { team: string }\npolicy p {\n  ${rule}\n  deny kb.write\n}\n`);
  const PC101 = (column: number, help: string, message = "unterminated string") => ({ code: "PC101", line: 5, column, message, help });
  const AS_WRITTEN = 'as written, the string ends at the `"` that opens the next one';

  it("a name in quotes left open (`tools \"kb.read }`, or to the end of its line) is one PC101 that says to write it without quotes", () => {
    const help = "names are written without quotes: `tools kb.read`";
    expect(problems('intent support { tools "kb.read }\n')).toEqual([{ code: "PC101", line: 1, column: 24, message: "unterminated string", help }]);
    expect(problems('intent support {\n  tools "kb.read\n}\n')).toEqual([{ code: "PC101", line: 2, column: 9, message: "unterminated string", help }]);
    expect(problems('intent support { tools kb.read, "kb.search }\n').map((p) => p.help)).toEqual(["names are written without quotes: `tools kb.read, kb.search`"]);
    expect(problems('tool "kb.search { risk low }\n').map((p) => p.help)).toEqual(["names are written without quotes: `tool kb.search`"]);
    expect(problems('tool kb.search { risk "low }\n').map((p) => p.help)).toEqual(["a risk level is written without quotes: `risk low`"]);
    expect(problems('agent { "team: string }\n').map((p) => p.help)).toEqual(["an attribute's name is written without quotes: `team`"]);
    expect(problems('agent { team: "string }\n').map((p) => p.help)).toEqual(["a type is written without quotes: `team: string`"]);
    expect(problems('enum Zone { "internal, external }\n').map((p) => p.help)).toEqual(["an enum's members are names, written without quotes: `enum Zone { internal, external }`"]);
  });

  it("names in quotes, closed, get the same help, with every name of the list", () => {
    expect(problems('intent support { tools "kb.read", "kb.search" }\n').map((p) => p.help)).toEqual(["names are written without quotes: `tools kb.read, kb.search`"]);
    expect(problems('tool kb.read { risk "low" }\n').map((p) => p.help)).toEqual(["a risk level is written without quotes: `risk low`"]);
    expect(problems('enum Zone { "internal", "external" }\n').map((p) => p.help)).toEqual(["an enum's members are names, written without quotes: `enum Zone { internal, external }`"]);
    expect(problems('agent { team: "string" }\n').map((p) => p.help)).toEqual(["a type is written without quotes: `team: string`"]);
  });

  it("a string without its opening `\"` is one error that names it", () => {
    expect(inRule('allow fs.read when agent.team in [b", "c"]')).toEqual([PC101(37, 'add the opening `"` before `b`', 'the string `b"` has no opening `"`')]);
    expect(inRule('deny email.send when args.to containsAny [a@x.com", "b@x.com"]')).toEqual([PC101(45, 'add the opening `"` before `a@x.com`', 'the string `a@x.com"` has no opening `"`')]);
    expect(inRule('allow fs.read when agent.team in ["a", b"]')).toEqual([PC101(42, 'add the opening `"` before `b`', 'the string `b"` has no opening `"`')]);
    expect(inRule('allow fs.read when agent.team == support"')).toEqual([PC101(36, 'add the opening `"` before `support`', 'the string `support"` has no opening `"`')]);
    expect(inRule('@name(kb-read")\n  allow fs.read')).toEqual([PC101(9, 'add the opening `"` before `kb-read`', 'the string `kb-read"` has no opening `"`')]);
    expect(inRule("deny fs.read reason a person's approval is needed\"")).toEqual([PC101(23, 'add the opening `"` before `a`', 'the reason has no opening `"`')]);
    // Where a name goes, the `"` is one too many.
    expect(problems('tool kb.search" { risk low }\n')).toEqual([{ code: "PC101", line: 1, column: 15, message: "unterminated string", help: 'remove the `"` after `kb.search`: names are written without quotes' }]);
  });

  it("a string whose closing `\"` is missing where code follows it is one error, at the `\"` that closes it", () => {
    expect(inRule('deny fs.read when args.path like "*/../* or args.path.endsWith("/..")')).toEqual([PC101(36, `add the closing \`"\` after \`*/../*\`: ${AS_WRITTEN}`)]);
    expect(inRule('allow fs.read when agent.team == "a or agent.team == "b"')).toEqual([PC101(36, `add the closing \`"\` after \`a\`: ${AS_WRITTEN}`)]);
    expect(inRule('allow fs.read when agent.team == "a\' or agent.team == "b"')).toEqual([PC101(36, `replace the \`'\` after \`a\` with \`"\`: ${AS_WRITTEN}`)]);
    expect(inRule('allow fs.read when agent.team == "a\u201d or agent.team == "b"')).toEqual([PC101(36, `replace the \`\u201d\` after \`a\` with \`"\`: ${AS_WRITTEN}`)]);
  });

  it("a `\"` inside a string, or one too many next to one, is one error", () => {
    expect(inRule('allow fs.read when agent.team == "sup"port"')).toEqual([{ code: "PC103", line: 5, column: 40, message: "the `\"` before `port` ends the string", help: 'to put a `"` inside a string, write `\\"`: `"sup\\"port"`' }]);
    expect(inRule('@name("kb-read"")\n  allow fs.read')).toEqual([PC101(18, 'remove this `"`: the string before it, `"kb-read"`, is already closed')]);
    expect(inRule('@controls("A"", "B")\n  allow fs.read')).toEqual([PC101(16, 'remove this `"`: the string before it, `"A"`, is already closed')]);
    expect(inRule('@name(""kb-read")\n  allow fs.read')).toEqual([PC101(9, 'one `"` too many: remove one of the two before `kb-read`')]);
  });

  it("a string that goes on on the next line is one error", () => {
    expect(inRule('deny fs.read reason "one line\n    and another"')).toEqual([PC101(23, 'a string cannot span lines: close it on line 5, or write `\\n` where a line break goes in it')]);
    // A rule on the next line is not the rest of the string.
    expect(inRule('deny fs.read reason "one\n  deny email.send reason "two').map((p) => [p.line, p.help])).toEqual([
      [5, 'add the closing `"` on the same line'],
      [6, 'add the closing `"` on the same line'],
    ]);
  });

  it("a string in quotes of another kind, or with one end straight, is one PC100 read as the string meant", () => {
    // A backtick is written in a code span as Markdown writes it, not as three backticks (audit a1 L2).
    const PC100 = (column: number, character: string, help: string) => ({ code: "PC100", line: 5, column, message: character === "`" ? "unexpected character `` ` ``" : `unexpected character \`${character}\``, help });
    const straight = 'strings use straight double quotes: "support"';
    expect(inRule('allow fs.read when agent.team == \u201csupport"')).toEqual([PC100(36, "\u201c", straight)]);
    expect(inRule('allow fs.read when agent.team == "support\u201d')).toEqual([PC100(36, "\u201d", straight)]);
    expect(inRule("allow fs.read when agent.team == \u00absupport\u00bb")).toEqual([PC100(36, "\u00ab", straight)]);
    expect(inRule("allow fs.read when agent.team == `support`")).toEqual([PC100(36, "`", 'strings use double quotes: "support"')]);
    // The strings of a line, pasted so, are one error that writes them all.
    expect(inRule("allow fs.read when agent.team in [`a`, `b`]")).toEqual([PC100(37, "`", 'strings use double quotes: "a", "b"')]);
    expect(inRule("allow fs.read when agent.team in [\u201ca\u201d, \u201cb\u201d, 'c']").map((p) => p.help)).toEqual(['strings use straight double quotes: "a", "b"', 'strings use double quotes: "c"']);
    expect(inRule("allow fs.read when agent.team == 'support\"")).toEqual([PC100(36, "'", 'strings use double quotes: "support"')]);
    expect(inRule("deny fs.read when args.path like \"*/.ssh/*'")).toEqual([PC100(36, "'", 'strings use double quotes: "*/.ssh/*"')]);
    expect(inRule("allow fs.read when agent.team == 'support")).toEqual([PC100(36, "'", 'strings use double quotes: "support"')]);
    // An apostrophe in a word neither starts nor ends a string.
    expect(inRule("deny fs.read reason 'the developer's files'")).toEqual([PC100(23, "'", "strings use double quotes: \"the developer's files\"")]);
    expect(inRule("deny fs.read reason \"the users' files\"")).toEqual([]);
    expect(inRule("deny fs.read reason \"don't")).toEqual([PC101(23, 'add the closing `"` on the same line')]);
    expect(inRule("deny fs.read reason \u201cdon\u2019t do that\u201d")).toEqual([PC100(23, "\u201c", 'strings use straight double quotes: "don\u2019t do that"')]);
    // Python's triple quotes.
    expect(inRule(`deny fs.read reason ${"'".repeat(3)}no${"'".repeat(3)}`)).toEqual([PC100(23, "'".repeat(3), 'strings use double quotes: "no"')]);
    expect(inRule(`deny fs.read reason ${'"'.repeat(3)}no${'"'.repeat(3)}`)).toEqual([PC100(23, '"'.repeat(3), 'strings use one double quote at each end: "no"')]);
    // Where a name goes, the one error says to write it without quotes.
    expect(problems("enum Zone { 'internal', 'external' }\n")).toEqual([{ code: "PC100", line: 1, column: 13, message: "unexpected character `'`", help: "an enum's members are names, written without quotes: `enum Zone { internal, external }`" }]);
    expect(problems("policy \u201cp\u201d {\n  allow kb.read\n}\n").map((p) => [p.code, p.help])).toEqual([["PC100", "names are written without quotes: `policy p`"]]);
    expect(problems('policy "p {\n  allow kb.read\n}\n').map((p) => [p.code, p.help])).toEqual([["PC101", "names are written without quotes: `policy p`"]]);
  });

  it("a bracket of the wrong kind, one that closes nothing, a list in other brackets, two `,` in a row: one error each", () => {
    const PC103 = (column: number, message: string, help: string) => ({ code: "PC103", line: 5, column, message, help });
    expect(inRule('allow fs.read when agent.team in ["a", "b")')).toEqual([PC103(45, 'expected `]` after `"b"`, found `)`', "the `[` opened at 5:36 is closed with `]`, not `)`")]);
    expect(inRule('allow fs.read when (agent.team == "a"]')).toEqual([PC103(40, 'expected `)` after `"a"`, found `]`', "the `(` opened at 5:22 is closed with `)`, not `]`")]);
    expect(inRule('allow fs.read when any(r in ["a", "b"): r == "x")')).toEqual([PC103(40, 'expected `]` after `"b"`, found `)`', "the `[` opened at 5:31 is closed with `]`, not `)`")]);
    expect(inRule('@controls("A", "B"]\n  allow fs.read')).toEqual([PC103(21, 'expected `)` after `"B"`, found `]`', "the `(` opened at 5:12 is closed with `)`, not `]`")]);
    expect(inRule('allow fs.read when agent.team == "a")')).toEqual([PC103(39, "this `)` closes no `(`", "remove it, or add the `(` it closes")]);
    expect(inRule('allow fs.read when agent.team in {"a", "b"}')).toEqual([PC103(36, "expected an expression after `in`, found `{`", 'a list is written in square brackets: `["a", "b"]`')]);
    expect(inRule('allow fs.read when agent.team in ("a", "b")')).toEqual([PC103(40, 'expected `)` after `"a"`, found `,`', 'a list is written in square brackets: `["a", "b"]`')]);
    expect(inRule('allow fs.read when agent.team in ["a",, "b"]')).toEqual([PC103(41, "expected an expression after `,`, found `,`", "one `,` too many: remove it")]);
    expect(inRule('allow fs.read when agent.team in ["a", "b",]')).toEqual([PC103(46, "expected an expression after `,`, found `]`", "a list takes no `,` after its last item")]);
    expect(inRule('allow fs.read grant "fs:read" for "5m"')).toEqual([PC103(37, 'expected a duration like `5m` after `for`, found `"5m"`', "a duration is written without quotes: `for 5m`")]);
    expect(inRule('deny fs.read when args.path == "a" + "b"')).toEqual([{ code: "PC100", line: 5, column: 38, message: "unexpected character `+`", help: "the language has no `+`: strings are not joined, nor numbers added" }]);
    expect(problems("policy p {\n  allow kb.read\n}\n}\n")).toEqual(syntaxError(4, 1, "expected a declaration (`enum`, `type`, `agent`, `user`, `context`, `tool`, `intent` or `policy`), found `}`", "this `}` closes no `{`: remove it"));
    // A `)` that closes an outer `(` is read so: the `[` is the one left open.
    expect(inRule('allow fs.read when any(r in ["a", "b": r == "x")').map((p) => [p.code, p.column])).toEqual([["PC103", 40]]);
  });

  it("a bracket of the wrong kind by its place, a doubled opener, an opener left out: one error each", () => {
    expect(inRule('allow fs.read when url.host[args.path) == "x"')).toEqual([{ code: "PC103", line: 5, column: 30, message: "expected `(` after `host`, found `[`", help: "a call's arguments go in parentheses: `host(…)`" }]);
    expect(inRule('@name["kb-read")\n  allow fs.read')).toEqual([{ code: "PC103", line: 5, column: 8, message: "expected `(` after `name`, found `[`", help: "an annotation's arguments go in parentheses: `@name(…)`" }]);
    expect(inRule('allow fs.read when agent.team in ("a", "b"]')).toEqual([{ code: "PC103", line: 5, column: 36, message: "expected `[` after `in`, found `(`", help: "a list is written in square brackets: `[…]`" }]);
    expect(inRule('@name(("kb-read")\n  allow fs.read')).toEqual([{ code: "PC103", line: 5, column: 9, message: "one `(` too many", help: "remove it: only one `(` is closed" }]);
    expect(problems("policy p {{\n  allow kb.read\n}\n")).toEqual([{ code: "PC103", line: 1, column: 11, message: "one `{` too many", help: "remove it: a block opens with one `{`" }]);
    // Parentheses that are each closed are not doubled, even when the first closes on a later line.
    expect(inRule('allow fs.read when ((agent.team == "a") or agent.team == "b")')).toEqual([]);
    expect(inRule('allow fs.read when agent.team.size((agent.team.size()) == 1,\n    agent.team.size()) == 1')).toEqual([]);
    // An opener left out before a `)` that closes nothing: the error where it is missing says so.
    expect(inRule('@name"kb-read")\n  allow fs.read')).toEqual([{ code: "PC103", line: 5, column: 8, message: 'expected `allow`, `ask` or `deny` after `name`, found `"kb-read"`', help: "the `)` at 5:17 closes no `(`: add the `(` it closes" }]);
    expect(inRule('allow fs.read when agent.team in "a", "b"]').map((p) => p.help)).toEqual(["the `]` at 5:44 closes no `[`: add the `[` it closes"]);
  });

  it("brackets of the wrong kind and left out count toward the file's limit of 25 syntax errors", () => {
    expect(problems(`policy p {\n${'  deny * when a in ["x")\n'.repeat(400)}}\n`)).toHaveLength(25);
    expect(problems(Array.from({ length: 400 }, (_, i) => `tool t${i}.x\n  risk low\n}\n`).join(""))).toHaveLength(25);
  });

  it("a declaration's `{` left out is one error, put in where its block starts", () => {
    const missing = (line: number, column: number, after: string, found: string, head: string) => syntaxError(line, column, `expected \`{\` after \`${after}\`, found \`${found}\``, `the block of \`${head}\` has no \`{\`: write \`${head} {\``);
    expect(problems("policy p\n  allow kb.read\n  deny kb.write\n}\n")).toEqual(missing(2, 3, "p", "allow", "policy p"));
    expect(problems("tool kb.read\n  risk low\n}\n")).toEqual(missing(2, 3, "read", "risk", "tool kb.read"));
    expect(problems("tool kb.read {}\nintent support\n  tools kb.read\n}\n")).toEqual(missing(3, 3, "support", "tools", "intent support"));
    expect(problems("agent\n  team: string\n}\n")).toEqual(missing(2, 3, "agent", "team", "agent"));
    expect(problems("type Address\n  street: string\n}\n")).toEqual(missing(2, 3, "Address", "street", "type Address"));
    expect(problems("enum Zone internal, external }\n")).toEqual(missing(1, 11, "Zone", "internal", "enum Zone"));
    // In a rule, `tool` and `args` are values, whatever follows them on the next line.
    expect(problems("tool kb.read { args { a: string } }\npolicy p {\n  allow kb.read when (agent.team == \"a\" or\n    tool\n    or args.a == \"b\")\n}\n")).toEqual([]);
    // `args`'s: its `}` no longer closes the tool, whose `}` closes nothing.
    expect(problems("tool fs.read {\n  args\n    path: string\n  }\n  risk low\n}\n")).toEqual(missing(3, 5, "args", "path", "args"));
    expect(problems("tool fs.read { args path: string }\n}\n")).toEqual(missing(1, 21, "args", "path", "args"));
  });

  it("a backslash: a path's `\\` is written `\\\\` (PC105); a string that ends in `\\\"` is left open (PC101), and that is the one error", () => {
    expect(inRule('deny fs.read when args.path == "C:\\temp\\x"')).toEqual([
      { code: "PC105", line: 5, column: 34, message: "invalid escape in string", help: 'strings use JSON escapes: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX; a `\\` itself is written `\\\\`, as in `"C:\\\\temp\\\\x"`' },
    ]);
    expect(inRule("deny fs.read reason \"it\\'s late\"").map((p) => p.help)).toEqual(['strings use JSON escapes: \\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX; a `\'` is written as is: `"it\'s late"`']);
    expect(inRule('deny fs.read when args.path == "\\x41"').map((p) => p.help)).toEqual(["strings use JSON escapes: \\\" \\\\ \\/ \\b \\f \\n \\r \\t \\uXXXX; write `\\x41` as `\\u0041`"]);
    expect(inRule('deny fs.read when args.path == "C:\\\\temp\\"')).toEqual([PC101(34, 'a `\\"` is a `"` inside the string, not its end: to end a string with a backslash, write `\\\\"`')]);
  });
});

describe("rules outside a policy, declarations inside one", () => {
  it("rules at the top level are one error at the first, with the help to put them in a policy", () => {
    const text = 'allow kb.search when agent.team == "support"\ndeny email.send when session.labels contains pii\n';
    expect(problems(text)).toEqual([
      {
        code: "PC103",
        line: 1,
        column: 1,
        message: "expected a declaration, found a rule (`allow`) outside any policy",
        help: "rules go inside `policy NAME { … }`: write `policy NAME {` before the first rule and `}` after the last",
      },
    ]);
  });

  it("`agent`, `tool` and `intent` in their conditions are values, not declarations; a declaration after them is one", () => {
    const text = 'enum E { a }\n@name("x")\nallow kb.search when agent.team == "x" and tool == kb.search\n  and intent == support\nagent { team: string }\ntool kb.search {}\n';
    const result = parse(text, "t.policy");
    expect(result.diagnostics.map((d) => [d.code, d.span!.file.position(d.span!.start).line])).toEqual([["PC103", 3]]);
    expect(result.ast.declarations.map((d) => d.kind)).toEqual(["EnumDecl", "EntityDecl", "ToolDecl"]);
  });

  it("their own syntax errors are reported too; a `}` that closes nothing means the header was left out", () => {
    expect(problems('allow kb.search when agent.team = "x"\n').map((p) => [p.line, p.message])).toEqual([
      [1, "expected a declaration, found a rule (`allow`) outside any policy"],
      [1, "expected a rule clause (`when`, `unless`, `reason`, `grant`, `revoke`), a new rule or `}`, found `=` (comparison is written `==`)"],
    ]);
    expect(problems("  allow kb.search\n  deny email.send\n}\n")).toEqual([expect.objectContaining({ line: 1, help: "rules go inside `policy NAME { … }`: write `policy NAME {` before the first rule" })]);
  });

  it("a declaration inside a policy is one error, read as the declaration it is; the rules around it parse", () => {
    const result = parse("policy p {\n  allow kb.reindex\n  tool kb.reindex { risk low }\n  deny kb.reindex when tool == kb.reindex\n}\n", "t.policy");
    expect(problems("policy p {\n  allow kb.reindex\n  tool kb.reindex { risk low }\n  deny kb.reindex when tool == kb.reindex\n}\n")).toEqual([
      {
        code: "PC103",
        line: 3,
        column: 3,
        message: "expected a rule (`allow`, `ask` or `deny`), found a declaration (`tool`) inside `policy p`",
        help: "declarations go outside policy blocks: move it above `policy p {`",
      },
    ]);
    expect(result.ast.declarations.map((d) => (d.kind === "PolicyDecl" ? `policy ${d.rules.length}` : d.kind))).toEqual(["policy 2", "ToolDecl"]);
    expect(problems("policy p {\n  agent { team: string }\n}\n").map((p) => p.message)).toEqual(["expected a rule (`allow`, `ask` or `deny`), found a declaration (`agent`) inside `policy p`"]);
  });

  it("a policy inside a policy: policies do not nest", () => {
    expect(problems("policy p {\n  allow kb.search\n  policy q {\n    deny kb.search\n  }\n}\n").map((p) => [p.line, p.help])).toEqual([[3, "policies do not nest: close `policy p` with `}` before this one"]]);
  });
});

describe("PC109: an `@` alone before a rule (audit a1 F3)", () => {
  it("is one error at the `@`, whose help removes it, and the rule after it parses as written", () => {
    const stray = { code: "PC109", line: 2, column: 3, message: '`@` must be followed by an annotation name, as in `@name("…")`' };
    expect(problems("policy p {\n  @\n  allow kb.x\n}\n")).toEqual([{ ...stray, help: "remove the `@` before `allow`: a rule starts with its effect" }]);
    expect(problems("policy p {\n  @deny * when true\n}\n")).toEqual([{ ...stray, help: "remove the `@` before `deny`: a rule starts with its effect" }]);
    // An annotation named like an effect, before a rule, is metadata: not this mistake.
    expect(problems('policy p {\n  @ask deny kb.x\n  @deny("x") allow kb.y\n}\n')).toEqual([]);
  });
});

describe("PC109: an annotation argument written as a name", () => {
  it("is one error, with the argument quoted, and parsing goes on as if it were", () => {
    expect(problems('policy p {\n  @name(kb_read)\n  allow kb.x\n}\n')).toEqual([{ code: "PC109", line: 2, column: 9, message: "`@name` takes strings, not names", help: 'write `@name("kb_read")`' }]);
    expect(problems("policy p {\n  @severity(high) allow kb.x\n}\n")).toEqual([{ code: "PC109", line: 2, column: 13, message: "`@severity` takes strings, not names", help: 'write `@severity("high")`' }]);
    expect(problems("policy p {\n  @name(kb.read)\n  allow kb.x\n}\n").map((p) => p.help)).toEqual(['write `@name("kb.read")`']);
  });

  it("hyphenated ids are one argument, and their hyphens give no PC100; among several arguments, each is quoted", () => {
    expect(problems('policy p {\n  @controls(OWASP-ASI03, "x", MAESTRO-L3)\n  allow kb.x\n}\n')).toEqual([
      { code: "PC109", line: 2, column: 13, message: "`@controls` takes strings, not names", help: 'write it in quotes: "OWASP-ASI03"' },
      { code: "PC109", line: 2, column: 31, message: "`@controls` takes strings, not names", help: 'write it in quotes: "MAESTRO-L3"' },
    ]);
    expect(problems("policy p {\n  @name(kb-read)\n  allow kb.x\n}\n").map((p) => p.code)).toEqual(["PC109"]);
  });

  it("not for literals (the checker reports those), nor for a name that is not an argument", () => {
    expect(problems('policy p {\n  @name(42) @flag(true) @x("a", 1)\n  allow kb.x\n}\n')).toEqual([]);
    expect(problems("policy p {\n  @name(kb read)\n  allow kb.x\n}\n").map((p) => p.code)).toEqual(["PC103"]);
  });
});

describe("PC112: bidirectional control characters", () => {
  it("in a string: one error at the first, naming each, with the escape to write instead", () => {
    expect(problems('policy p {\n  deny * when a == "support\u202e \u2066// only contractors\u2069 \u2066"\n}\n')).toEqual([
      {
        code: "PC112",
        line: 2,
        column: 28,
        message: "this string holds the bidirectional control characters U+202E (right-to-left override), U+2066 (left-to-right isolate) and U+2069 (pop directional isolate), which can make the code display in another order than it is read",
        help: "remove them; to put one in a string on purpose, write it as an escape, such as `\\u202e`",
      },
    ]);
  });

  it("in comments of every kind, in a single-quoted or unterminated string, and outside any token", () => {
    const one = (holder: string, name: string) => `this ${holder} holds ${name}, a bidirectional control character that can make the code display in another order than it is read`;
    expect(problems("policy p {\n  allow kb.x /* \u202e } deny kb.y */\n}\n")).toEqual([{ code: "PC112", line: 2, column: 17, message: one("comment", "U+202E (right-to-left override)"), help: "remove it" }]);
    expect(problems("// a \u200f note\n/// doc \u202d\ntool a.b {}\n").map((p) => [p.line, p.message])).toEqual([
      [1, one("comment", "U+200F (right-to-left mark)")],
      [2, one("doc comment", "U+202D (left-to-right override)")],
    ]);
    expect(problems("# a \u202e\ntool a.b {}\n").map((p) => p.code)).toEqual(["PC100", "PC112"]);
    expect(problems("policy p {\n  deny * when a == 'x\u202a'\n}\n").map((p) => p.code)).toEqual(["PC100", "PC112"]);
    // A string in curly quotes or backticks is a string too.
    for (const quoted of ["\u201cx\u202a\u201d", "`x\u202a`"]) expect(problems(`policy p {\n  deny * when a == ${quoted}\n}\n`).map((p) => [p.code, p.message.split(" holds")[0]])).toEqual([["PC100", quoted.startsWith("`") ? "unexpected character `` ` ``" : "unexpected character `" + quoted.charAt(0) + "`"], ["PC112", "this string"]]);
    expect(problems('policy p {\n  deny * when a == "x\u202b\n}\n').map((p) => p.code)).toEqual(["PC101", "PC112"]);
    expect(problems("policy p {\n  deny * when a \u2067== b\n}\n")).toEqual([
      { code: "PC112", line: 2, column: 17, message: "unexpected U+2067 (right-to-left isolate), a bidirectional control character that can make the code display in another order than it is read", help: "remove it" },
    ]);
  });

  it("what policyc writes never holds one raw: fmt's strings and printed request text escape them", () => {
    expect(encodeString("a\u202eb\u2066")).toBe('"a\\u202eb\\u2066"');
    expect(decodeString(encodeString("a\u202eb"))).toBe("a\u202eb");
    expect(problems(`policy p {\n  deny * when a == ${encodeString("x\u202e")}\n}\n`)).toEqual([]);
    expect(printable("tool\u202e.x\u001b")).toBe("tool\\u202e.x\\u001b");
  });

  it("not for an escape, which anyone can see, nor for other non-ASCII text", () => {
    expect(problems('policy p {\n  deny * when a == "\\u202e" or a == "שלום עולם" or a == "サポート" // مرحبا\n}\n')).toEqual([]);
  });
});

describe("PC510: an invisible or space-like character in a string", () => {
  const deny = (string: string) => `policy p {\n  deny * when a == "${string}"\n}\n`;
  const codes = (string: string) => problems(deny(string)).map((p) => p.code);

  it("a no-break space: a warning at the character itself, naming it, with the string written with the escape", () => {
    expect(problems('policy p {\n  deny shell.exec\n    when args.cmd.startsWith("rm\u00a0-rf")\n}\n')).toEqual([
      {
        code: "PC510",
        line: 3,
        column: 33,
        message: "this string holds U+00A0 (no-break space), which looks like an ordinary space but is not one",
        help: 'type an ordinary space instead; if you mean it, write the string as `"rm\\u00a0-rf"`',
      },
    ]);
    expect(parse(deny("rm\u00a0-rf"), "t.policy").diagnostics.map((d) => d.severity)).toEqual(["warning"]);
  });

  it("an invisible one: delete it; several kinds in one string: one warning at the first, naming each", () => {
    expect(problems(deny("rm\u200b-rf"))).toEqual([
      { code: "PC510", line: 2, column: 23, message: "this string holds U+200B (zero-width space), which cannot be seen", help: 'delete it; if you mean it, write the string as `"rm\\u200b-rf"`' },
    ]);
    expect(problems(deny("a\u2009b\u3000c\u2009"))).toEqual([
      { code: "PC510", line: 2, column: 22, message: "this string holds U+2009 (thin space) and U+3000 (ideographic space), which look like ordinary spaces but are not", help: 'type an ordinary space instead; if you mean them, write the string as `"a\\u2009b\\u3000c\\u2009"`' },
    ]);
    expect(problems(deny("x\u00ad\u00a0y")).map((p) => [p.column, p.message, p.help])).toEqual([
      [22, "this string holds U+00AD (soft hyphen) and U+00A0 (no-break space), which cannot be seen or told from an ordinary space", 'type an ordinary space or delete them; if you mean them, write the string as `"x\\u00ad\\u00a0y"`'],
    ]);
    // A long string: the escape alone.
    expect(problems(deny(`${"x".repeat(70)}\ufeff`)).map((p) => [p.column, p.help])).toEqual([[91, "delete it; if you mean it, write it as an escape, such as `\\ufeff`"]]);
  });

  it("every kind: other spaces, joiners, format and control characters JSON allows, fillers, and tag characters (hidden text)", () => {
    const hidden = ["\u1680", "\u2000", "\u2005", "\u200a", "\u202f", "\u205f", "\u3000", "\u200c", "\u200d", "\u2060", "\u2063", "\ufeff", "\u034f", "\u180e", "\u115f", "\u3164", "\uffa0", "\u2800", "\u007f", "\u009b", "\u2028", "\u2029", "\u{e0041}"];
    for (const character of hidden) expect(codes(`a${character}b`), JSON.stringify(character)).toEqual(["PC510"]);
    // ASCII smuggled in tag characters, which no editor shows: named, at the first, and escaped as JSON does.
    expect(problems(deny("ok\u{e0069}\u{e0067}\u{e006e}")).map((p) => [p.column, p.message, p.help])).toEqual([
      [23, "this string holds U+E0069 (a tag character), U+E0067 (a tag character) and U+E006E (a tag character), which cannot be seen", 'delete them; if you mean them, write the string as `"ok\\udb40\\udc69\\udb40\\udc67\\udb40\\udc6e"`'],
    ]);
    // A long run of them: the first three named.
    expect(problems(deny([..."ignore all"].map((c) => String.fromCodePoint(0xe0000 + c.codePointAt(0)!)).join(""))).map((p) => p.message)).toEqual([
      "this string holds U+E0069 (a tag character), U+E0067 (a tag character), U+E006E (a tag character) and 6 others, which cannot be seen",
    ]);
    // A joiner between Latin letters, or after an emoji at the end, joins nothing that is drawn.
    for (const string of ["pass\u200dword", "pass\u200cword", "\u{1f469}\u200d", "\u200d\u{1f4bb}", "\u{1f3f4}\u{e0067}\u{e0062}"]) expect(codes(string), JSON.stringify(string)).toEqual(["PC510"]);
  });

  it("not for an escape, nor for ordinary non-ASCII text: accents, CJK, emoji and their joiners, the joiners of Persian and Devanagari, a subdivision flag", () => {
    const text = ["\\u00a0\\u200b", "café", "cafe\u0301", "サポート 支持", "☕", "\u{1f469}\u200d\u{1f4bb}", "\u{1f468}\u{1f3fd}\u200d\u{1f469}\u200d\u{1f467}", "\u2764\ufe0f\u200d\u{1f525}", "\u{1f3f3}\ufe0f\u200d\u{1f308}", "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645", "\u0915\u094d\u200d\u0937", "\u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f}", "1\ufe0f\u20e3"];
    for (const string of text) expect(codes(string), JSON.stringify(string)).toEqual([]);
    // Outside strings, in comments, such characters are prose (and outside any token, PC100).
    expect(problems("// a\u00a0note\u200b\ntool a.b {}\n")).toEqual([]);
  });

  it("in strings of every kind: annotations, reasons and grant scopes", () => {
    expect(problems('policy p {\n  @name("kb\u00a0read")\n  allow kb.x reason "ok\u200b" grant "kb:\u2060read" for 5m\n}\n').map((p) => [p.code, p.line, p.column])).toEqual([
      ["PC510", 2, 12],
      ["PC510", 3, 24],
      ["PC510", 3, 37],
    ]);
  });

  it("a raw control character below U+0020 is PC105 and a bidirectional control PC112, not also PC510", () => {
    expect(codes("a\tb")).toEqual(["PC105"]);
    expect(codes("a\u202eb")).toEqual(["PC112"]);
    expect(codes("a\u202e\u00a0b")).toEqual(["PC112", "PC510"]);
  });

  it("printed text shows them as escapes, as it does control and bidirectional characters; ordinary non-ASCII text stays as it is", () => {
    expect(printable("rm\u00a0-rf \u200b\u00ad\ufeff\u3000 ok\u{e0041}")).toBe("rm\\u00a0-rf \\u200b\\u00ad\\ufeff\\u3000 ok\\udb40\\udc41");
    const text = "café cafe\u0301 サポート \u{1f469}\u200d\u{1f4bb} \u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645 \u{1f3f4}\u{e0067}\u{e0062}\u{e0073}\u{e0063}\u{e0074}\u{e007f} \u0600\u0661";
    expect(printable(text)).toBe(text);
    expect(printable("pass\u200dword \u{1f469}\u200d")).toBe("pass\\u200dword \\u{1f469}\\u200d".replace("\\u{1f469}", "\u{1f469}"));
  });
});

describe("PC111: an annotation on the line of the rule before it", () => {
  const help = "put annotations on their own line before the rule they describe";

  it("is reported at the annotation, naming the rule it follows and the rule it would describe", () => {
    expect(problems('policy p {\n  allow a.x @name("allow-x")\n  deny a.y\n}')).toEqual([
      { code: "PC111", line: 2, column: 13, message: '`@name("allow-x")` follows the `allow` rule on this line, but an annotation describes the rule after it (here the `deny` rule on line 3)', help },
    ]);
  });

  it("followed by a clause of the rule before it, says annotations go before the effect, and the clause still parses as that rule's", () => {
    const text = 'policy p {\n  deny sql.ddl @name("no-ddl")\n    when context.env == prod\n    reason "no ddl"\n  @name("next")\n  allow sql.query\n}';
    expect(problems(text)).toEqual([
      { code: "PC111", line: 2, column: 16, message: '`@name("no-ddl")` follows the `deny` rule on this line, but annotations go before a rule\'s `allow`, `ask` or `deny` (the `when` on line 3 still belongs to the `deny` rule)', help },
    ]);
  });

  it("at the end of the policy, says it describes no rule", () => {
    expect(problems('policy p {\n  allow a.x @owner("me") @ticket("T-1")\n}')).toEqual([
      { code: "PC111", line: 2, column: 13, message: '`@owner("me")` follows the `allow` rule on this line, but an annotation describes the rule after it, and none follows', help },
    ]);
  });

  it("a one-line policy, each rule with its annotations before it, is fine", () => {
    expect(problems('policy p { @name("a") allow a.x @name("b") deny a.y }')).toEqual([]);
    expect(rulesOf('policy p { @name("a") allow a.x @name("b") deny a.y }').map((r) => r.annotations[0]!.args.map((x) => x.kind === "StringLiteral" && x.value))).toEqual([["a"], ["b"]]);
  });

  it("annotations on their own line, or before a rule on its line, are fine", () => {
    expect(rulesOf('policy p {\n  allow a.x\n  @name("y") deny a.y\n  @name("z")\n  deny a.z\n}').map((r) => r.annotations.map((a) => a.args.map((x) => x.kind === "StringLiteral" && x.value)))).toEqual([[], [["y"]], [["z"]]]);
  });
});

describe("expressions (language.md section 4)", () => {
  it("literals", () => {
    expect(when("true")).toMatchObject({ kind: "BoolLiteral", value: true });
    expect(when("false")).toMatchObject({ kind: "BoolLiteral", value: false });
    expect(when("session.calls > 42")).toMatchObject({ right: { kind: "IntLiteral", value: 42 } });
    expect(when('agent.team == "x"')).toMatchObject({ right: { kind: "StringLiteral", value: "x" } });
    expect(when('user.roles containsAny ["a", "b"]')).toMatchObject({
      kind: "Binary",
      operator: "containsAny",
      right: { kind: "ListLiteral", elements: [{ kind: "StringLiteral", value: "a" }, { kind: "StringLiteral", value: "b" }] },
    });
    expect(when("user.roles containsAll []")).toMatchObject({ operator: "containsAll", right: { kind: "ListLiteral", elements: [] } });
  });

  it("enum members, bare and qualified", () => {
    expect(when("agent.zone == external")).toMatchObject({ right: { kind: "NameRef", name: "external" } });
    expect(when("agent.zone == Zone.external")).toMatchObject({
      right: { kind: "Member", object: { kind: "NameRef", name: "Zone" }, property: { name: "external" } },
    });
  });

  it("paths", () => {
    expect(when('context.destination.host == "x"')).toMatchObject({
      left: { kind: "Member", property: { name: "host" }, object: { kind: "Member", property: { name: "destination" }, object: { kind: "NameRef", name: "context" } } },
    });
    for (const path of ["agent.team", "user.id", "args.url", "tool", "tool.risk", "intent", "intent.tools", "intent.max_risk", "now"]) {
      const expr = when(`${path} == ${path}`);
      expect(expr).toMatchObject({ kind: "Binary", operator: "==" });
    }
  });

  it("every comparison operator", () => {
    for (const operator of ["==", "!=", "<", "<=", ">", ">=", "in", "contains", "containsAny", "containsAll", "like"] as const) {
      expect(when(`a ${operator} b`)).toMatchObject({ kind: "Binary", operator, left: { kind: "NameRef", name: "a" }, right: { kind: "NameRef", name: "b" } });
    }
  });

  it("`has`", () => {
    expect(when("context has destination")).toMatchObject({ kind: "Has", object: { kind: "NameRef", name: "context" }, attribute: { name: "destination" } });
    expect(when("r has f")).toMatchObject({ kind: "Has", attribute: { name: "f" } });
  });

  it("`like`", () => {
    expect(when('r like "*@acme.com"')).toMatchObject({ kind: "Binary", operator: "like", right: { kind: "StringLiteral", value: "*@acme.com" } });
  });

  it("precedence: or < and < not < comparison", () => {
    expect(when("a or b and c")).toMatchObject({ kind: "Binary", operator: "or", right: { kind: "Binary", operator: "and" } });
    expect(when("a and b or c")).toMatchObject({ kind: "Binary", operator: "or", left: { kind: "Binary", operator: "and" } });
    expect(when("not a == b")).toMatchObject({ kind: "Not", operand: { kind: "Binary", operator: "==" } });
    expect(when("not a and b")).toMatchObject({ kind: "Binary", operator: "and", left: { kind: "Not" } });
    expect(when("(a or b) and c")).toMatchObject({ kind: "Binary", operator: "and", left: { kind: "Paren", expression: { operator: "or" } } });
    // `and` chains nest to the left.
    expect(when("a and b and c")).toMatchObject({ operator: "and", left: { operator: "and", left: { name: "a" } }, right: { name: "c" } });
  });

  it("quantifiers", () => {
    expect(when('any(r in args.to: not (r like "*@acme.com"))')).toMatchObject({
      kind: "Quantifier",
      quantifier: "any",
      variable: { name: "r" },
      collection: { kind: "Member", property: { name: "to" } },
      body: { kind: "Not", operand: { kind: "Paren" } },
    });
    expect(when("all(x in L: x)")).toMatchObject({ kind: "Quantifier", quantifier: "all" });
  });

  it("methods and functions", () => {
    expect(when("args.to.size() > 1")).toMatchObject({ left: { kind: "Call", callee: { property: { name: "size" } }, args: [] } });
    expect(when('args.url.startsWith("https://")')).toMatchObject({ kind: "Call", callee: { property: { name: "startsWith" } }, args: [{ kind: "StringLiteral" }] });
    expect(when('args.url.endsWith("x")')).toMatchObject({ kind: "Call", callee: { property: { name: "endsWith" } } });
    expect(when('agent.team.lower() == "x"')).toMatchObject({ left: { kind: "Call", callee: { property: { name: "lower" } } } });
    expect(when('url.host(args.url) == "acme.com"')).toMatchObject({
      left: { kind: "Call", callee: { object: { kind: "NameRef", name: "url" }, property: { name: "host" } }, args: [{ kind: "Member", property: { name: "url" } }] },
    });
    expect(when('email.domain(r) == "acme.com"')).toMatchObject({ left: { kind: "Call", callee: { object: { name: "email" }, property: { name: "domain" } } } });
  });

  it("session members and calls", () => {
    expect(when("session.count(within 1m) > 30")).toMatchObject({ left: { kind: "Call", args: [], within: { kind: "DurationLiteral", text: "1m" } } });
    expect(when("session.count(email.*, within 1m) > 3")).toMatchObject({
      left: {
        kind: "Call",
        callee: { object: { name: "session" }, property: { name: "count" } },
        args: [{ kind: "Member", object: { kind: "NameRef", name: "email" }, property: { name: "*" } }],
        within: { kind: "DurationLiteral", milliseconds: 60_000 },
      },
    });
    expect(when("session.count(*, within 10s) > 3")).toMatchObject({ left: { args: [{ kind: "Wildcard" }] } });
    expect(when("session.called(crm.lookup)")).toMatchObject({ kind: "Call", args: [{ kind: "Member" }] });
    expect(when("session.called(crm.lookup, within 1h)")).toMatchObject({ kind: "Call", within: { text: "1h" } });
    // A comment after `within` is not a token: the duration is still the window, not a pattern.
    expect(when("session.count(within /* a minute */ 1m) > 30")).toMatchObject({ left: { args: [], within: { text: "1m" } } });
    expect(when("session.called(crm.lookup, within // an hour\n 1h)")).toMatchObject({ kind: "Call", args: [{ kind: "Member" }], within: { text: "1h" } });
    for (const member of ["calls", "denials", "labels", "tools", "repeats", "age", "last"]) {
      expect(when(`session.${member} == x`)).toMatchObject({ left: { kind: "Member", property: { name: member } } });
    }
  });

  it("an enum member spelled like an effect, written qualified, ends a rule that another rule follows", () => {
    // The `deny` of `Kind.deny` is a name, so the `deny` after it starts a rule (it was taken for a name too).
    const text = "enum Kind { allow, deny, ok }\nagent { kind: Kind }\ntool a.b {}\npolicy p {\n  allow a.b when agent.kind == Kind.deny\n  deny a.b when agent.kind == Kind.allow\n  ask a.b\n}\n";
    expect(problems(text)).toEqual([]);
    expect(rulesOf(text).map((r) => r.effect)).toEqual(["allow", "deny", "ask"]);
  });

  it("an enum member spelled like a keyword is written qualified; a bare one gets a help naming its enum", () => {
    const decls = "enum Kind { all, deny, ok }\nagent { kind: Kind }\ntool a.b {}\n";
    const rules = (condition: string) => `${decls}policy p {\n  allow a.b when ${condition}\n  deny a.b when agent.kind == Kind.ok\n}\n`;
    expect(problems(rules("agent.kind in [Kind.all, Kind.deny]"))).toEqual([]);
    const help = (name: string) => `\`${name}\` is a keyword: the enum member is written with its enum's name, \`Kind.${name}\``;
    expect(problems(rules("agent.kind == all"))).toEqual([{ code: "PC103", line: 5, column: 35, message: "expected `(` after `all`, found `deny`", help: help("all") }]);
    expect(problems(rules("agent.kind in [ok, deny]"))).toEqual([{ code: "PC103", line: 5, column: 37, message: "expected an expression after `,`, found `deny`", help: help("deny") }]);
    expect(problems(rules("agent.kind in [deny, ok]"))[0]).toMatchObject({ column: 33, help: help("deny") });
    expect(problems(rules("agent.kind != deny"))[0]).toMatchObject({ line: 5, column: 31, message: "expected an expression after `!=`, found `deny`", help: help("deny") });
    expect(problems(rules("agent.kind in [all]"))[0]).toMatchObject({ help: help("all") });
    // No enum in the file has the member: the help still says how such a member is written.
    expect(problems("policy p {\n  deny * when agent.kind == all\n}\n")[0]!.help).toBe("`all` is a keyword: an enum member of that name is written with its enum's name, as in `Kind.all`");
    // A keyword that is a value of its own, a quantifier that is one, or a dotted name get no such help.
    expect(problems("policy p {\n  deny * when all(x in args.l: x == 1) and session.calls > 1 AND true\n}\n").map((p) => p.help)).toEqual(["did you mean `and`? keywords are lower case"]);
    expect(problems("policy p {\n  ask kb.search when tool == deny.all\n}\n").every((p) => p.help === undefined)).toBe(true);
  });

  it("tool names made of keywords parse as targets", () => {
    const [rule] = rulesOf("policy p {\n  allow agent.delegate, context.search, tools.list, kb.*\n}\n");
    expect(rule!.targets.map((t) => t.text)).toEqual(["agent.delegate", "context.search", "tools.list", "kb.*"]);
  });

  it("tool, intent and policy names made of keywords parse as declarations", () => {
    const text = "tool agent.delegate {}\ntool kb.user { args { type: string } }\nintent context.search {\n  tools agent.*, kb.user\n}\npolicy context {\n  allow agent.delegate\n}\nagent { team: string }\n";
    const result = parse(text);
    expect(result.diagnostics).toEqual([]);
    expect(result.ast.declarations.map((d) => `${d.kind} ${"name" in d ? ("text" in d.name ? d.name.text : d.name.name) : d.entity}`)).toEqual([
      "ToolDecl agent.delegate",
      "ToolDecl kb.user",
      "IntentDecl context.search",
      "PolicyDecl context",
      "EntityDecl agent",
    ]);
  });
});

describe("rules", () => {
  it("keeps doc comments on rules and declarations", () => {
    const text = `/// Labels.\n/// Two lines.\nenum Label { a }\n\npolicy p {\n  /// Customer data never leaves acme.com by email.\n  @name("pii")\n  deny email.send\n\n  // a plain comment\n  allow kb.search\n}\n`;
    const result = parse(text);
    expect(result.diagnostics).toEqual([]);
    const [label, policy] = result.ast.declarations;
    expect(label!.docs).toEqual(["Labels.", "Two lines."]);
    const rules = (policy as A.PolicyDecl).rules;
    expect(rules[0]!.docs).toEqual(["Customer data never leaves acme.com by email."]);
    expect(rules[1]!.docs).toEqual([]);
    expect(result.comments.map((c) => c.image)).toEqual(["// a plain comment"]);
  });

  it("a doc comment among or after a rule's annotations documents the rule, joined in source order", () => {
    const rules = rulesOf('policy p {\n  /// before\n  @name("a")\n  /// between\n  @owner("sec") /// same line\n  /// after\n  deny kb.search\n  @name("b")\n  /// only after\n  allow kb.search\n}\n');
    expect(rules.map((r) => r.docs)).toEqual([["before", "between", "same line", "after"], ["only after"]]);
  });

  it("a doc comment inside an annotation's parentheses documents nothing", () => {
    const rules = rulesOf('policy p {\n  @name(/// inside\n  "a")\n  deny kb.search\n}\n');
    expect(rules[0]!.docs).toEqual([]);
  });

  it("a doc comment separated by code does not attach to a later rule", () => {
    const rules = rulesOf("policy p {\n  /// first\n  deny kb.search\n  allow kb.search\n}\n");
    expect(rules[0]!.docs).toEqual(["first"]);
    expect(rules[1]!.docs).toEqual([]);
  });

  it("keeps annotations in order with their arguments", () => {
    const [rule] = rulesOf('policy p {\n  @name("pii-stays-inside")\n  @controls("OWASP-ASI03", "MAESTRO-L3")\n  @owner("team-a")\n  @experimental\n  deny email.send\n}\n');
    expect(rule!.annotations.map((a) => [a.name.name, a.args.map((x) => (x.kind === "StringLiteral" ? x.value : x.kind))])).toEqual([
      ["name", ["pii-stays-inside"]],
      ["controls", ["OWASP-ASI03", "MAESTRO-L3"]],
      ["owner", ["team-a"]],
      ["experimental", []],
    ]);
  });

  it("builds every clause", () => {
    const [allow, deny] = rulesOf(
      'policy p {\n  allow crm.lookup, kb.*\n    when a\n    unless b\n    reason "why"\n    grant "crm:read", "kb:read" for 5m\n  deny *\n    revoke\n}\n',
    );
    expect(allow).toMatchObject({
      effect: "allow",
      targets: [{ text: "crm.lookup" }, { text: "kb.*" }],
      when: { kind: "NameRef", name: "a" },
      unless: { kind: "NameRef", name: "b" },
      reason: { value: "why" },
      grant: { scopes: [{ value: "crm:read" }, { value: "kb:read" }], ttl: { text: "5m", milliseconds: 300_000 } },
    });
    expect(deny).toMatchObject({ effect: "deny", targets: [{ text: "*" }], revoke: { kind: "Revoke" } });
  });

  it("spans point at the source", () => {
    const text = 'policy p {\n  ask http.get when agent.team == "x"\n}\n';
    const [rule] = rulesOf(text);
    expect(text.slice(rule!.effectSpan.start, rule!.effectSpan.end)).toBe("ask");
    expect(text.slice(rule!.targets[0]!.span.start, rule!.targets[0]!.span.end)).toBe("http.get");
    expect(text.slice(rule!.when!.span.start, rule!.when!.span.end)).toBe('agent.team == "x"');
  });

  it("parses declarations", () => {
    const result = parse(DECLS);
    const kinds = result.ast.declarations.map((d) => d.kind);
    expect(kinds).toEqual(["EnumDecl", "EnumDecl", "TypeDecl", "EntityDecl", "EntityDecl", "EntityDecl", "ToolDecl", "ToolDecl", "ToolDecl", "ToolDecl", "IntentDecl", "IntentDecl"]);
    const crm = result.ast.declarations[6] as A.ToolDecl;
    expect(crm).toMatchObject({ name: { text: "crm.lookup" }, risk: { name: "low" }, returns: [{ name: "pii" }], args: [{ name: { name: "customer_id" }, type: { name: { name: "string" } } }] });
    const context = result.ast.declarations[5] as A.EntityDecl;
    expect(context.fields[0]).toMatchObject({ name: { name: "destination" }, optional: true });
    expect(context.fields[1]).toMatchObject({ optional: false, type: { name: { name: "set" }, argument: { name: { name: "Label" } } } });
    const intent = result.ast.declarations[10] as A.IntentDecl;
    expect(intent).toMatchObject({ name: { text: "support.reply" }, tools: [{ text: "crm.lookup" }, { text: "email.send" }, { text: "kb.*" }], maxRisk: { name: "high" } });
  });
});

describe("names spelled like a word that starts something else (found by deriving sentences from grammar/policy.ebnf)", () => {
  const clean = (text: string) => expect(problems(text)).toEqual([]);

  it("an annotation named `has` leads the rule after it; the next rule is a rule of its own", () => {
    const rules = rulesOf("policy p { @has allow x deny y }\n");
    expect(rules.map((r) => r.effect)).toEqual(["allow", "deny"]);
    expect(rules[0]!.annotations.map((a) => a.name.name)).toEqual(["has"]);
    expect(rulesOf("policy p {\n  @has\n  allow x\n  deny y\n}\n").map((r) => r.effect)).toEqual(["allow", "deny"]);
  });

  it("an enum member `else` written bare is an operand, not the `… else deny` mistake", () => {
    clean("enum Branch { main, else }\ntool repo.push { risk low  args { branch: Branch } }\npolicy p {\n  deny repo.push when args.branch == else\n  allow repo.push\n}\n");
    clean("policy p {\n  deny x when agent has else\n  allow x\n}\n");
  });

  it("a `returns` label named `tool`, `type` or `intent` at column 1, then `args {`, stays in the tool's block", () => {
    for (const label of ["tool", "type", "intent"]) {
      clean(`tool kb.search {\nreturns internal,\n${label} args { q: string }\n}\n`);
      clean(`tool kb.search {\nreturns\n${label} args { q: string }\n}\n`);
    }
  });

  it("a declaration after any other `,` is one whose block's `}` was forgotten: the help says where the `}` goes (review r6 M1)", () => {
    expect(problems("type Destination {\n  host: string,\n  port: int,\n\ntool kb.search { risk low  args { d: Destination } }\npolicy p { allow kb.search }\n")).toEqual(
      syntaxError(5, 1, "expected `}` after `,`, found `tool`", "the `{` of `type Destination` opened at 1:18 is never closed: add `}` before `tool` at 5:1"),
    );
    expect(problems("agent {\n  team: string,\n  attested: bool,\n\nuser { id: string }\ntool kb.search { risk low }\npolicy p { allow kb.search when agent.attested }\n")).toEqual(
      syntaxError(5, 1, "expected `}` after `,`, found `user`", "the `{` of `agent` opened at 1:7 is never closed: add `}` before `user` at 5:1"),
    );
    expect(problems("enum E { a, b,\ntype T { x: int }\n")).toEqual(syntaxError(2, 1, "expected a name after `,`, found `type`", "the `{` of `enum E` opened at 1:8 is never closed: add `}` before `type` at 2:1"));
    expect(problems("tool kb.search { risk low\n  returns internal,\ntool email.send { risk high }\n")).toEqual(
      syntaxError(3, 1, "expected a name after `,`, found `tool`", "the `{` of `tool kb.search` opened at 1:16 is never closed: add `}` before `tool` at 3:1"),
    );
    expect(problems("tool kb.search { risk low }\npolicy p {\n  allow kb.search,\npolicy q { allow kb.search }\n")).toEqual(
      syntaxError(4, 1, "expected a tool name or pattern after `,`, found `policy`", "the `{` of `policy p` opened at 2:10 is never closed: add `}` before `policy` at 4:1"),
    );
  });

  it("an effect word after `has` or `.` at the start of a line, inside brackets, is a name, not a new rule", () => {
    clean("policy p {\n  deny x when (agent has\ndeny and true)\n}\n");
    clean("policy p {\n  deny x when (agent.\nask == 1)\n}\n");
  });

  it("but one before a tool's name starts the next rule: an unfinished `(agent has` or `(agent.` gets the unclosed `(`'s help (review r6 M2)", () => {
    const unfinished = (condition: string) => `tool kb.search { risk low }\ntool email.send { risk high }\nagent { team: string }\npolicy p {\n  deny email.send when (${condition}\n  allow kb.search\n}\n`;
    const help = "the `(` opened at 5:24 is never closed: add `)` at the end of line 5";
    expect(problems(unfinished("agent has"))).toEqual(syntaxError(6, 3, "expected a name after `has`, found `allow`", help));
    expect(problems(unfinished("agent."))).toEqual(syntaxError(6, 3, "expected a name or `*` after `.`, found `allow`", help));
    expect(problems(unfinished("agent has team or agent has"))).toEqual([expect.objectContaining({ line: 6, column: 3, help: expect.stringContaining("never closed: add `)` at the end of line 5") })]);
  });
});

describe("tools whose first segment is a namespace keyword, in conditions", () => {
  it("are named in a condition as they are targeted: `tool == policy.update`, `session.called(type.*, …)`, in a list", () => {
    for (const namespace of ["enum", "type", "policy", "risk", "returns", "tools", "max_risk"]) {
      const [rule] = rulesOf(`policy p {\n  deny kb.search when tool == ${namespace}.update or session.called(${namespace}.*, within 1h) or tool in [${namespace}.x, kb.y]\n}\n`);
      expect(rule!.when).toMatchObject({ kind: "Binary", operator: "or", left: { left: { kind: "Binary", operator: "==", right: { kind: "Member", object: { kind: "NameRef", name: namespace }, property: { name: "update" } } } } });
    }
  });

  it("`any.` and `all.` start a quantifier there: the help says to write the tool's name as a string", () => {
    const [problem] = problems("policy p {\n  deny kb.search when tool == any.thing\n}\n");
    expect(problem).toMatchObject({ code: "PC103", message: "expected `(` after `any`, found `.`", help: '`any` starts a quantifier here (`any(x in list: …)`); a tool whose name starts with it is written as a string in a condition: `"any.thing"`' });
    const [inCall] = problems("policy p {\n  deny kb.search when session.called(all.jobs.*, within 1h)\n}\n");
    expect(inCall).toMatchObject({ code: "PC103", help: '`all` starts a quantifier here (`all(x in list: …)`); a tool whose name starts with it is written as a string in a condition: `"all.jobs.*"`' });
    expect(problems('policy p {\n  deny kb.search when tool == "any.thing" or session.called("all.jobs.*", within 1h)\n}\n')).toEqual([]);
  });
});
