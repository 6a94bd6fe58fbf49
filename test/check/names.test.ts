import { describe, expect, it } from "vitest";
import { analyze } from "../../src/check/analyze.js";
import { DECLS, checkAlone, checkWithDecls, codesAndLines, describeDiagnostic, policyOf } from "../fixtures.js";

/** Checks one rule (line 2 of `t.policy`) against the contract's declarations. */
function rule(text: string) {
  return checkWithDecls(policyOf(text));
}

/** Asserts that `text` gives exactly one diagnostic, `code` at `line` of t.policy, and returns it. */
function single(found: ReturnType<typeof checkWithDecls>, code: string, line: number) {
  expect(codesAndLines(found), JSON.stringify(found, null, 1)).toEqual([[code, line]]);
  expect(found.filter((f) => f.file !== "t.policy")).toEqual([]);
  return found[0]!;
}

describe("declarations", () => {
  it("the contract's declarations and rules check clean", () => {
    expect(checkWithDecls("")).toEqual([]);
    const result = analyze([{ path: "decls.policy", text: DECLS }]);
    expect(result.ok).toBe(true);
    expect(result.diagnostics).toEqual([]);
  });

  it("PC201: an unknown type with a type argument is one error (not also PC214); `array<T>` is `list<T>`", () => {
    const found = checkAlone("enum Role { a }\nagent { roles: Set<Role>, tags: array<string>, deep: Vec<list<strin>> }\n");
    expect(found.map((f) => [f.code, f.message, f.help])).toEqual([
      ["PC201", "unknown type `Set`", "did you mean `set`?"],
      ["PC201", "unknown type `array`", "write `list<string>`"],
      ["PC201", "unknown type `Vec`", "write `list<list<strin>>`"],
      ["PC201", "unknown type `strin`", "did you mean `string`?"],
    ]);
    expect(checkAlone("agent { a: int<string> }\n").map((f) => f.code)).toEqual(["PC214"]);
  });

  it("PC200: duplicate declarations of every kind, pointing at the first", () => {
    const text = [
      "enum Zone { a }", //                          1
      "type Destination { a: int }", //              2
      "agent { q: int }", //                         3
      "tool kb.search { risk low }", //              4
      "intent support.reply { tools kb.* }", //      5
      "policy p { deny kb.search when false }", //   6
      "policy p { deny kb.search when false }", //   7
    ].join("\n");
    const found = checkWithDecls(text).filter((f) => f.code === "PC200");
    expect(found.map((f) => f.line)).toEqual([1, 2, 3, 4, 5, 7]);
    expect(found[0]!.message).toContain("`Zone`");
    expect(found[0]!.help).toBe("the first declaration is at decls.policy:3");
    expect(found[3]!.message).toContain("tool `kb.search`");
    expect(found[3]!.help).toMatch(/decls\.policy:\d+/);
    expect(found[5]!.help).toBe("the first declaration is at t.policy:6; a policy is one block: give this one a name of its own, or move its rules into the first");
  });

  it("PC200: duplicate members, attributes, and built-in type names", () => {
    expect(codesAndLines(checkAlone("enum E { a, b, a }\ntype T { x: E }\nagent { t: T }\n"))).toEqual([["PC200", 1]]);
    expect(codesAndLines(checkAlone("agent {\n  a: int\n  a: string\n}\n"))).toEqual([["PC200", 3]]);
    expect(codesAndLines(checkAlone("tool t { args { a: int, a: int } }\n"))).toEqual([["PC200", 1]]);
    expect(checkAlone("enum Risk { a }\n").map((f) => f.code)).toContain("PC200");
    expect(checkAlone("type string { a: int }\n").map((f) => f.code)).toContain("PC200");
  });

  it("PC200: a repeated member or attribute is said as every other duplicate, with where the first is, and its copies are not also unused (PC502) (audit a1 L5)", () => {
    const said = (text: string) => checkAlone(text).map((f) => [f.code, f.line, f.message, f.help]);
    expect(said("enum E { a, a, a }\nagent { e: E }\n")).toEqual([
      ["PC200", 1, "enum member `a` of `E` is declared more than once", "the first declaration is at t.policy:1:10"],
      ["PC200", 1, "enum member `a` of `E` is declared more than once", "the first declaration is at t.policy:1:10"],
    ]);
    expect(said("agent {\n  team: string\n  team: string\n}\n")).toEqual([["PC200", 3, "attribute `team` of `agent` is declared more than once", "the first declaration is at t.policy:2"]]);
    expect(said("enum Zone { a }\nenum Zone { b }\n").map(([code, line]) => [code, line])).toEqual([["PC502", 1], ["PC200", 2]]);
  });

  it("PC208, PC402, PC108, PC100 (a subtraction) and PC201 (no type close) say what to write (audit a1 L4)", () => {
    const helpOf = (text: string) => checkAlone(text).map((f) => [f.code, f.help]);
    const tools = "tool kb.search {}\ntool kb.read {}\n";
    expect(helpOf(`${tools}policy p {\n  allow kc.*\n}\n`)).toEqual([["PC208", "did you mean `kb.*`?"]]);
    expect(helpOf(`${tools}policy p {\n  allow kb.read grant "y" for 500ms\n}\n`)).toEqual([["PC402", "write `1s` or more, as in `for 1s`"]]);
    expect(helpOf(`${tools}policy p {\n  allow kb.read grant "y" for 999999999d\n}\n`)).toEqual([["PC108", "durations go up to 9007199254740991 milliseconds: `104249991d`"]]);
    expect(helpOf(`${tools}context { t: time }\npolicy p {\n  deny kb.search when context.t > context.t - 5m\n}\n`)).toEqual([["PC100", "the language has no arithmetic: compare the values themselves, or have the caller send the computed value (in `context`)"]]);
    expect(helpOf(`${tools}policy p {\n  deny kb.search when session.calls > -1\n}\n`)).toEqual([["PC100", "the language has no negative numbers"]]);
    expect(helpOf(`enum Zone { a }\nagent { m: map<string>, z: Zone }\n`)).toEqual([["PC201", "the types are `bool`, `int`, `string`, `duration`, `time`, `Risk`, `set<T>` and `list<T>`, and the declared `Zone`"]]);
  });

  it("PC201: unknown type, with a suggestion", () => {
    const found = checkAlone("enum Zone { a }\nagent {\n  zone: Zonee\n  home: Zone\n}\n");
    expect(codesAndLines(found)).toEqual([["PC201", 3]]);
    expect(found[0]!.help).toBe("did you mean `Zone`?");
    expect(checkAlone("agent { n: strng }")[0]).toMatchObject({ code: "PC201", help: "did you mean `string`?" });
    expect(checkAlone("agent { s: set<Nope> }")[0]).toMatchObject({ code: "PC201", message: "unknown type `Nope`" });
  });

  it("PC212: unknown risk level in a tool or an intent", () => {
    expect(codesAndLines(checkAlone("tool t {\n  risk severe\n}\n"))).toEqual([["PC212", 2]]);
    const found = checkAlone("tool t { risk hihg }\nintent i {\n  tools t\n  max_risk extreme\n}\n");
    expect(codesAndLines(found)).toEqual([
      ["PC212", 1],
      ["PC212", 4],
    ]);
    expect(found[0]!.help).toBe("did you mean `high`?");
  });

  it("PC213: unknown label in `returns`", () => {
    const found = checkWithDecls("tool t.x {\n  returns pi\n}\n");
    expect(codesAndLines(found)).toEqual([["PC213", 2]]);
    expect(found[0]!.help).toBe("did you mean `pii`?");
  });

  it("PC214: a collection without an element type, or a type argument where none is taken", () => {
    expect(codesAndLines(checkAlone("agent {\n  roles: set\n}\n"))).toEqual([["PC214", 2]]);
    expect(codesAndLines(checkAlone("agent {\n  n: int<string>\n}\n"))).toEqual([["PC214", 2]]);
    expect(checkAlone("agent { a: list<list<int>>, b: set<string> }\n")).toEqual([]);
  });

  it("PC215: an enum without members, used as a type", () => {
    const found = checkAlone("enum E { }\ncontext { e: E }\n");
    expect(codesAndLines(found)).toEqual([["PC215", 1]]);
    expect(found[0]!.message).toBe("enum `E` has no members, so no value has this type");
    expect(found[0]!.column).toBe(6);
    expect(found[0]!.help).toBe("`context.e` needs one, so every request is denied; declare its members, as in `enum E { a, b }`");
    expect(checkAlone("enum E {}\ntype R { e: E }\nuser { r: R }\n")[0]!.help).toMatch(/^`user\.r\.e` needs one, so every request that names a user is denied/);
    expect(checkAlone("enum E {}\ntool t { args { e: E } }\n")[0]!.help).toMatch(/^`args\.e` of `t` needs one, so every call of `t` is denied/);
    // Optional or in a collection, it is still a type without values: no consequence to name.
    expect(checkAlone("enum E {}\nagent { e?: E, s: set<E> }\n").map((f) => [f.code, f.help])).toEqual([["PC215", "declare its members, as in `enum E { a, b }`"]]);
    // Unused, it is only PC502.
    expect(codesAndLines(checkAlone("enum E {}\n"))).toEqual([["PC502", 1]]);
  });

  it("PC215: a record that needs another of itself through required attributes", () => {
    const found = checkAlone("type N { next: N }\ncontext { n: N }\n");
    expect(codesAndLines(found)).toEqual([["PC215", 1]]);
    expect(found[0]!.message).toBe("record type `N` has no possible value: its required `next` is a `N` again, without end");
    expect(found[0]!.help).toBe("`context.n` needs one, so every request is denied; make `next` optional (`next?: N`) or a list (`next: list<N>`)");
    const mutual = checkAlone("type A { x: int, b: B }\ntype B { a: A }\ntool t { args { a?: A } }\n");
    expect(codesAndLines(mutual)).toEqual([["PC215", 1]]);
    expect(mutual[0]!.message).toBe("record type `A` has no possible value: its required attributes lead back to it: `A.b` → `B.a` → `A`, without end");
    // A record that only holds such a type is not reported again.
    expect(codesAndLines(checkAlone("type N { next: N }\ntype M { n: N }\nagent { m: M }\n"))).toEqual([["PC215", 1]]);
    expect(codesAndLines(checkAlone("enum E {}\ntype M { e: E }\nagent { m: M }\n"))).toEqual([["PC215", 1]]);
  });

  it("PC215: not for self-references through an optional attribute or a collection", () => {
    expect(checkAlone("type N { v: int, next?: N }\ntype T { kids: list<T>, tags: set<T> }\ntype A { b?: B }\ntype B { a: A }\ncontext { n: N, t: T, b: B }\n")).toEqual([]);
  });

  it("PC201: other languages' names for the built-in types", () => {
    const found = checkAlone("agent { a: integer, b: number, c: str, d: datetime, e: float }\n");
    expect(found.map((f) => f.help)).toEqual(["did you mean `int`?", "did you mean `int`? numbers are whole", "did you mean `string`?", "did you mean `time`?", "numbers are whole: use `int` (or a `duration` for a length of time)"]);
    // A declared type close to the name comes first.
    expect(checkAlone("type Date { y: int }\nagent { d: date }\n").filter((f) => f.code === "PC201").map((f) => f.help)).toEqual(["did you mean `Date`?"]);
  });

  it("valid declarations with every built-in type give nothing", () => {
    const text = "enum E { a, b }\ntype R { e: E, o?: string }\nagent { b: bool, i: int, s: string, d: duration, t: time, r: Risk, st: set<E>, l: list<R>, x: R }\ntool t { risk critical returns a args { p: int } }\nintent i { tools t max_risk low }\n";
    expect(checkAlone(text)).toEqual([]);
  });
});

describe("names in rules", () => {
  it("PC202: unknown attribute of an entity, with a suggestion", () => {
    const found = single(rule('allow kb.search when agent.tema == "support"'), "PC202", 2);
    expect(found.message).toBe("unknown attribute `tema` of `agent`");
    expect(found.help).toBe("did you mean `team`?");
    expect(found.column).toBe(30);
  });

  it("PC202: unknown attribute of a record, of `tool`, of `intent`, and in `has`", () => {
    expect(single(rule('ask http.get when context has destination and context.destination.hots == "x"'), "PC202", 2).help).toBe("did you mean `host`?");
    expect(single(rule("deny * when tool.rsik > low"), "PC202", 2).help).toBe("did you mean `risk`?");
    expect(single(rule("deny * when tool.risk > intent.max_rsik"), "PC202", 2).help).toBe("did you mean `max_risk`?");
    expect(single(rule("deny * when context has destinaton"), "PC202", 2).help).toBe("did you mean `destination`?");
  });

  it("PC202: unknown argument, with a suggestion or the list of arguments", () => {
    expect(single(rule('allow kb.search when args.qurey == "x"'), "PC202", 2).help).toBe("did you mean `query`?");
    expect(single(rule('allow http.get when args.zzz == "x"'), "PC202", 2).help).toBe("`http.get` takes `url`");
  });

  it("PC203: unknown tool as a target, in an intent, and as a value", () => {
    const found = single(rule('allow email.sned when agent.team == "support"'), "PC203", 2);
    expect(found.message).toBe("unknown tool `email.sned`");
    expect(found.help).toBe("did you mean `email.send`?");
    expect(codesAndLines(checkWithDecls("intent x.y {\n  tools kb.serch\n}\n"))).toEqual([["PC203", 2]]);
    expect(single(rule("deny * when tool == kb.serch"), "PC203", 2).help).toBe("did you mean `kb.search`?");
    expect(single(rule("deny * when tool in [kb.serch, crm.lookup]"), "PC203", 2).help).toBe("did you mean `kb.search`?");
  });

  it("PC204: unknown intent, with a suggestion", () => {
    const found = single(rule("allow kb.search when intent == suport.reply"), "PC204", 2);
    expect(found.message).toBe("unknown intent `suport.reply`");
    expect(found.help).toBe("did you mean `support.reply`?");
  });

  it("PC205: unknown enum member (bare or qualified) and unknown risk level", () => {
    const bare = single(rule("allow kb.search when agent.zone == externall"), "PC205", 2);
    expect(bare.message).toBe("`externall` is not a member of `Zone`");
    expect(bare.help).toBe("did you mean `external`?");
    expect(single(rule("allow kb.search when agent.zone == Zone.externa"), "PC205", 2).help).toBe("did you mean `external`?");
    expect(single(rule("deny * when session.labels contains pi"), "PC205", 2).help).toBe("did you mean `pii`?");
    expect(single(rule("deny * when tool.risk > hgih"), "PC212", 2).help).toBe("did you mean `high`?");
    expect(single(rule("deny * when tool.risk > Risk.huge"), "PC212", 2).help).toBe("did you mean `high`?");
    expect(single(rule("deny * when context.labels containsAny [pii, secrett]"), "PC205", 2).help).toBe("did you mean `secret`?");
  });

  it("PC206: unknown name, with a suggestion or a hint about what it is", () => {
    const found = single(rule('allow kb.search when agnt.team == "x"'), "PC206", 2);
    expect(found.message).toBe("unknown name `agnt`");
    expect(found.help).toBe("did you mean `agent`?");
    expect(single(rule("deny * when external"), "PC206", 2).help).toContain("member of `Zone`");
    expect(single(rule("deny * when kb.search"), "PC206", 2).message).toContain("is a tool name");
    expect(single(rule("deny * when support.reply"), "PC206", 2).message).toContain("is an intent name");
    expect(single(rule('deny * when any(r in args.to: x == "a")'.replace("args.to", "user.roles")), "PC206", 2).message).toBe("unknown name `x`");
  });

  it("an enum member spelled `enum type policy risk returns tools max_risk` may be written bare; one spelled like a request's part names that part (language.md 2.2)", () => {
    const words = ["enum", "type", "policy", "risk", "returns", "tools", "max_risk"];
    const declarations = `enum Kind { ${words.join(", ")}, tool, agent, other }\nagent { team: string }\ntool kb.search { risk low  args { k: Kind } }\n`;
    expect(checkAlone(`${declarations}policy p {\n${words.map((w) => `  deny kb.search when args.k == ${w}\n`).join("")}  allow kb.search\n}\n`)).toEqual([]);
    const parts = checkAlone(`${declarations}policy p {\n  deny kb.search when args.k == tool\n  deny kb.search when args.k == agent\n  allow kb.search\n}\n`);
    expect(parts.map((f) => [f.code, f.line])).toEqual([["PC300", 5], ["PC300", 6]]);
  });

  it("PC206: a bare `risk`, `max_risk` or `tools` is the attribute of the request's part (review r6 L4)", () => {
    expect(single(rule("deny * when risk >= high"), "PC206", 2)).toMatchObject({ message: "unknown name `risk`", help: "did you mean `tool.risk`?" });
    expect(single(rule("deny * when max_risk == high"), "PC206", 2).help).toBe("did you mean `intent.max_risk`?");
    expect(single(rule("deny * when tools contains kb.search"), "PC206", 2).help).toBe("did you mean `intent.tools` or `session.tools`?");
  });

  it("PC206: a member of several enums names them all, or the one the names written beside it show is meant", () => {
    const helpOf = (condition: string) => single(rule(`deny * when ${condition}`), "PC206", 2).help;
    // The contract's `Label` and `Zone` both have `internal`; only `Zone` has `external` and `partner`, only `Label` has `pii`.
    expect(helpOf("any(z in [internal, external]: z == agent.zone)")).toBe("`internal` is a member of `Label` and `Zone`, and only `Zone` also has `external`: write `Zone.internal` or compare it with a `Zone` attribute");
    expect(rule("deny * when any(z in [Zone.internal, external]: z == agent.zone)")).toEqual([]);
    expect(helpOf("any(l in [internal, pii]: session.labels contains l)")).toBe("`internal` is a member of `Label` and `Zone`, and only `Label` also has `pii`: write `Label.internal` or compare it with a `Label` attribute");
    expect(helpOf("internal == partner")).toBe("`internal` is a member of `Label` and `Zone`, and only `Zone` also has `partner`: write `Zone.internal` or compare it with a `Zone` attribute");
    const both = "`internal` is a member of `Label` and `Zone`: write `Label.internal` or `Zone.internal`, or compare it with a `Label` or `Zone` attribute";
    expect(helpOf("internal")).toBe(both);
    expect(helpOf("any(x in [internal, pii, partner]: true)")).toBe(both);
    expect(helpOf("any(x in [internal, nosuch]: true)")).toBe(both);
    // Compared with a string, the member name was meant as text.
    expect(helpOf("agent.team == internal")).toBe('strings are written in quotes: "internal"');
  });

  it("PC206: a bare name compared with a string gets the quotes before a did-you-mean to a root of a like spelling", () => {
    // `main` is one edit from the `email` namespace: the branch name was meant (audit s20 a1 M2).
    const policy = (condition: string) => `tool git.push { args { branch: string } }\npolicy p {\n  deny git.push when ${condition}\n}\n`;
    const helps = (condition: string) => checkAlone(policy(condition)).filter((d) => d.code === "PC206").map((d) => d.help);
    expect(helps("args.branch == main")).toEqual(['strings are written in quotes: "main"']);
    expect(helps("args.branch in [main, prod]")).toEqual(['strings are written in quotes: "main"', 'strings are written in quotes: "prod"']);
    expect(helps("args.branch == url")).toEqual(['if the text was meant, strings are written in quotes: "url"']);
    // A quantifier's variable one edit away is still the likelier meaning.
    expect(helps('any(branch in ["a"]: args.branch == brnch)')).toEqual(["did you mean `branch`?"]);
  });

  it("PC206: a member of an enum that is not the label enum, compared with labels that are strings, says where the label enum comes from", () => {
    const set = (context: string, condition: string) => `enum Labels { public, pii }\ncontext { ${context} }\ntool mail.read { returns pi }\ntool mail.send {}\npolicy p {\n  deny mail.send when ${condition}\n}\n`;
    const expected = (name: string, make = "rename `Labels` to `Label`, or declare `context.labels` as `set<Labels>`") =>
      `\`${name}\` is a member of \`Labels\`, but labels are strings here: the label enum is the enum named \`Label\` or the element type of \`context.labels\`, and this set has neither; ${make}, to have labels checked (or write the string "${name}")`;
    const found = checkAlone(set("env: string", "session.labels contains pii")).filter((d) => d.code === "PC206");
    expect(found.map((d) => d.help)).toEqual([expected("pii")]);
    // With `context.labels` declared, renaming the enum would not help: its element type decides.
    const declared = "declare `context.labels` as `set<Labels>`";
    const inContext = checkAlone(set("labels: set<string>", "context.labels containsAny [pii, public] or (session.labels) contains pii")).filter((d) => d.code === "PC206");
    expect(inContext.map((d) => d.help)).toEqual([expected("pii", declared), expected("public", declared), expected("pii", declared)]);
    // Compared with another string, the member name was still meant as text.
    expect(checkAlone(set("env: string", "context.env == pii")).find((d) => d.code === "PC206")!.help).toBe('strings are written in quotes: "pii"');
    // The variable of a quantifier over the labels is a label too, however deep.
    const quantified = checkAlone(set("env: string", 'any(l in session.labels: l == pii) or any(x in ["a"]: any(l in session.labels: pii == l))')).filter((d) => d.code === "PC206");
    expect(quantified.map((d) => d.help)).toEqual([expected("pii"), expected("pii")]);
    // A variable of the same name over other text is not.
    expect(checkAlone(set("env: string", 'any(l in session.labels: any(l in ["x"]: l == pii))')).find((d) => d.code === "PC206")!.help).toBe('strings are written in quotes: "pii"');
  });

  it("PC206: a namespace or an enum's name written as a value (it would reach the compiler as nothing)", () => {
    const both = rule("deny * when Zone == Zone");
    expect(codesAndLines(both)).toEqual([["PC206", 2], ["PC206", 2]]);
    expect(both[0]!.message).toBe("`Zone` is not a value: it is an enum; name one of its members, as in `Zone.internal`");
    expect(single(rule("deny * when Risk == high"), "PC206", 2).message).toContain("name a risk level");
    expect(single(rule('deny * when session == "x"'), "PC206", 2).message).toContain("`session.calls`");
    expect(single(rule("deny * when any(x in [url]: true)"), "PC206", 2).message).toContain("url.host(args.url)");
    expect(single(rule('deny * when email contains "x"'), "PC206", 2).message).toContain("email.domain(r)");
    expect(rule('deny http.get when Zone.external == Zone.internal or Risk.high > low or session.calls > 1 or url.host(args.url) == "x"')).toEqual([]);
  });

  it("`ip` is a namespace like `url` and `email`: its function is checked, and a tool named `ip.…` stays a tool name", () => {
    expect(single(rule('deny * when ip == "x"'), "PC206", 2).message).toBe('`ip` is not a value: call its function, as in `ip.inRange(url.host(args.url), "10.0.0.0/8")`');
    expect(single(rule('deny http.get when ip.inRang(url.host(args.url), "10.0.0.0/8")'), "PC211", 2).help).toBe("did you mean `inRange`?");
    expect(single(rule("deny * when ip.inRange"), "PC211", 2).message).toContain("is a function");
    expect(single(rule('deny http.get when ip.inRange(url.host(args.url))'), "PC210", 2).message).toBe("`ip.inRange` takes 2 arguments, but 1 was given");
    expect(single(rule('deny http.get when ip.inRange(args.url.size(), "10.0.0.0/8")'), "PC300", 2).message).toBe("`ip.inRange` tests a string (an address, as `url.host(args.url)` returns it), but this is an `int`");
    expect(rule('deny http.get when ip.inRange(url.host(args.url), "10.0.0.0/8") and not ip.inRange(url.host(args.url), ["10.1.0.0/16", "fd00::/8"])')).toEqual([]);
    const tools = checkAlone('tool ip.lookup { args { host: string } }\npolicy p {\n  allow ip.lookup when tool == ip.lookup and ip.inRange(args.host, ("10.0.0.0/8"))\n  deny * when tool in [ip.lookup]\n}\n');
    expect(tools).toEqual([]);
  });

  it("PC307: an `ip.inRange` range that is not a CIDR written in the policy, with the range meant", () => {
    const found = single(rule('deny http.get when ip.inRange(url.host(args.url), ["10.0.0.0/8", "192.168.1.1/16"])'), "PC307", 2);
    expect(found.message).toBe('"192.168.1.1/16" is not an IP range: `192.168.1.1` has bits set after the first 16');
    expect(found.help).toBe('write "192.168.0.0/16", the range it is in');
    expect(single(rule('deny http.get when ip.inRange(url.host(args.url), "[fe80::]/10")'), "PC307", 2).help).toBe('write "fe80::/10"');
    expect(single(rule('deny http.get when ip.inRange(url.host(args.url), "127.0.0.1")'), "PC307", 2).help).toBe('write "127.0.0.1/32" for the one address');
    expect(single(rule('deny http.get when ip.inRange(url.host(args.url), "10.0.0.0/40")'), "PC307", 2).message).toContain("from 0 to 32");
    expect(single(rule('deny http.get when ip.inRange(url.host(args.url), "10.0.0/8")'), "PC307", 2).message).toBe('"10.0.0/8" is not an IP range: `10.0.0` is not an IPv4 or IPv6 address');
    expect(single(rule('deny http.get when ip.inRange(url.host(args.url), [])'), "PC307", 2).message).toBe("`ip.inRange` with no ranges is never true");
    expect(single(rule('deny http.get when ip.inRange(url.host(args.url), "/8")'), "PC307", 2).message).toBe('"/8" is not an IP range: there is no address before the `/`');
    for (const ranges of ["args.url", '["10.0.0.0/8", args.url]', "(args.url)"]) expect(single(rule(`deny http.get when ip.inRange(url.host(args.url), ${ranges})`), "PC307", 2).message, ranges).toContain("takes its ranges written in the policy");
  });

  it("PC206: an entity that was never declared", () => {
    expect(codesAndLines(checkAlone('tool t {}\npolicy p {\n  deny t when agent.team == "x"\n}\n'))).toEqual([["PC206", 3]]);
  });

  it("PC207: duplicate rule ids across the set", () => {
    const found = checkWithDecls(policyOf('@name("same")', 'allow kb.search when agent.team == "support"', '@name("same")', 'deny kb.search when agent.team == "sales"'));
    expect(codesAndLines(found)).toEqual([["PC207", 4]]);
    expect(found[0]!.help).toContain("t.policy:2");
    const other = analyze([
      { path: "decls.policy", text: DECLS },
      { path: "a.policy", text: policyOf('@name("x")', "deny kb.search when agent.attested") },
      { path: "b.policy", text: policyOf('@name("x")', "deny http.get when agent.attested").replace("policy p", "policy q") },
    ]).diagnostics;
    expect(other.map((d) => [d.code, d.span!.file.path])).toEqual([["PC207", "b.policy"]]);
  });

  it("PC207: a rule id that is another's followed by `: ` (a decision's errors, written `ID: message`, could not tell them apart), whichever comes first", () => {
    for (const [a, b] of [["rate", "rate: host"], ["rate: host", "rate"], ["a: b", "a: b: c"]]) {
      const found = checkWithDecls(policyOf(`@name(${JSON.stringify(a)})`, "deny kb.search when session.calls > 3", `@name(${JSON.stringify(b)})`, "deny kb.search when session.calls > 5"));
      const longer = a.length > b.length ? a : b;
      expect(found.map((d) => [d.code, d.message]), `${a} / ${b}`).toEqual([["PC207", `the rule id \`${longer}\` is the rule id \`${longer.slice(0, longer.lastIndexOf(": "))}\` followed by \`: \`, and a decision's errors (written \`ID: message\`) could not tell the two rules apart`]]);
      expect(codesAndLines(found)).toEqual([["PC207", a === longer ? 2 : 4]]);
    }
    // `: ` alone, or another punctuation, is no clash.
    expect(checkWithDecls(policyOf('@name("rate")', "deny kb.search when session.calls > 3", '@name("rate:host")', "deny kb.search when session.calls > 5"))).toEqual([]);
    expect(checkWithDecls(policyOf('@name("rate: host")', "deny kb.search when session.calls > 3", '@name("limit: host")', "deny kb.search when session.calls > 5"))).toEqual([]);
  });

  it("one policy written in two files is one PC200, not also a PC207 per rule of the second; its `@name`s are still checked", () => {
    const found = analyze([
      { path: "decls.policy", text: DECLS },
      { path: "a.policy", text: policyOf('@name("x")', "deny kb.search when agent.attested", "deny http.get when agent.attested") },
      { path: "b.policy", text: policyOf("deny kb.search when agent.attested", '@name("x")', "deny http.get when agent.attested") },
    ]).diagnostics.map(describeDiagnostic);
    expect(found.map((d) => [d.code, d.file, d.line])).toEqual([
      ["PC200", "b.policy", 1],
      ["PC207", "b.policy", 3],
    ]);
    expect(found[0]!.help).toBe("the first declaration is at a.policy:1; a policy is one block: give this one a name of its own, or move its rules into the first");
  });

  it("a bare keyword-named enum member (a syntax error) gets a help naming the enum, declared in another file of the set too", () => {
    const result = analyze([
      { path: "schema.policy", text: "enum Kind { all, deny, ok }\nenum Verdict { deny }\nagent { kind: Kind }\ntool a.b {}\n" },
      { path: "rules.policy", text: "policy p {\n  allow a.b when agent.kind in [ok, deny]\n  deny a.b when agent.kind == all\n}\n" },
    ]);
    expect(result.diagnostics.map((d) => [d.code, d.span!.file.path, d.help])).toEqual([
      ["PC103", "rules.policy", "`deny` is a keyword: the enum member is written with its enum's name, `Kind.deny` or `Verdict.deny`"],
      ["PC103", "rules.policy", "`all` is a keyword: the enum member is written with its enum's name, `Kind.all`"],
    ]);
  });

  it("rule ids: explicit names and POLICY/N are unique across policies", () => {
    const result = analyze([
      { path: "decls.policy", text: DECLS },
      { path: "t.policy", text: 'policy a {\n  deny kb.search when agent.attested\n  @name("n")\n  deny http.get when agent.attested\n  deny crm.lookup when agent.attested\n}\npolicy b {\n  deny kb.search when agent.attested\n}\n' },
    ]);
    expect(result.diagnostics).toEqual([]);
    expect(result.program!.rules.map((r) => r.id)).toEqual(["a/1", "n", "a/3", "b/1"]);
  });

  it("PC208: a pattern that matches no declared tool (target, intent, session call)", () => {
    expect(single(rule("allow nope.*"), "PC208", 2).message).toBe("the pattern `nope.*` matches no declared tool");
    expect(codesAndLines(checkWithDecls("intent x.y {\n  tools zz.*\n}\n"))).toEqual([["PC208", 2]]);
    single(rule("deny * when session.count(nope.*, within 1m) > 3"), "PC208", 2);
    single(rule("deny * when session.called(nope.*)"), "PC208", 2);
  });

  it("PC208: an empty string pattern in a session call matches no tool", () => {
    for (const text of ['deny * when session.called("")', 'deny * when session.called("", within 1h)', 'deny * when session.count("", within 1m) > 3']) {
      const found = single(rule(text), "PC208", 2);
      expect(found.message, text).toBe('the empty pattern `""` matches no tool');
      expect(found.column, text).toBe(text.indexOf('""') + 3);
    }
    expect(rule('deny * when session.called("kb.*") or session.count("*search", within 1m) > 3')).toEqual([]);
  });

  it("PC209: unknown session member, with a suggestion", () => {
    const found = single(rule("deny * when session.cals > 3"), "PC209", 2);
    expect(found.message).toBe("unknown session member `cals`");
    expect(found.help).toBe("did you mean `calls`?");
    expect(single(rule("deny * when session.cont(within 1m) > 3"), "PC209", 2).help).toBe("did you mean `count`?");
  });

  it("PC210: wrong number of arguments or a misplaced `within`", () => {
    const cases = [
      "deny * when session.count() > 3",
      "deny * when session.count > 3",
      "deny * when session.calls() > 3",
      "deny * when session.called()",
      "deny * when session.count(kb.*, crm.*, within 1m) > 3",
      'deny * when url.host() == "x"',
      'deny * when url.host("a", "b") == "x"',
      'deny http.get when args.url.lower("x") == "x"',
      'deny http.get when args.url.startsWith() ',
      'deny http.get when args.url.startsWith("a", within 1m)',
    ];
    for (const text of cases) single(rule(text), "PC210", 2);
    expect(rule("deny * when session.count() > 3")[0]!.message).toContain("within");
  });

  it("PC210: a window without `within` says so, with the call as it should be, at the window", () => {
    const cases: [string, string, string][] = [
      ["deny * when session.count(1m) > 30", "`session.count` needs `within` before its window", "write `session.count(within 1m)`"],
      ["deny * when session.count(email.*, 1h) > 50", "`session.count` needs `within` before its window", "write `session.count(email.*, within 1h)`"],
      ["deny * when session.count(1h, email.*) > 50", "`session.count` needs `within` before its window", "write `session.count(email.*, within 1h)`"],
      ["deny * when session.called(crm.lookup, 10m)", "`session.called` needs `within` before its window", "write `session.called(crm.lookup, within 10m)`"],
      ["deny * when session.called(10m)", "`session.called` needs a tool name or pattern, and `within` before its window", "write `session.called(crm.lookup, within 10m)`"],
    ];
    for (const [text, message, help] of cases) {
      const found = single(rule(text), "PC210", 2);
      expect([found.message, found.help], text).toEqual([message, help]);
      expect(found.column, text).toBe(text.search(/\d+[mh]\)|\d+[mh],/) + 3);
    }
  });

  it("PC211: unknown method or function, with what exists", () => {
    const found = single(rule('allow kb.search when args.query.upper() == "X"'), "PC211", 2);
    expect(found.message).toBe("a `string` has no method `upper`");
    expect(found.help).toBe("a `string` has `startsWith()`, `endsWith()`, `lower()`, `size()`");
    expect(single(rule('deny http.get when url.hots(args.url) == "x"'), "PC211", 2).help).toBe("did you mean `host`?");
    expect(single(rule('deny * when email.domain == "x"'), "PC211", 2).message).toContain("is a function");
    expect(single(rule('deny * when user.roles.lower() == "x"'), "PC211", 2).help).toBe("a `set<string>` has `size()`");
    single(rule('deny * when agent.attested.startsWith("x")'), "PC211", 2);
  });

  it("PC211: a `time` has no methods (`now.hour()`): the help says to send a time-of-day window in `context` (audit O, F8)", () => {
    for (const text of ["deny * when now.hour() < 9", "deny * when now.weekday() == 6"]) {
      const found = single(rule(text), "PC211", 2);
      expect(found.message, text).toMatch(/^a `time` has no method `(hour|weekday)`$/);
      expect(found.help, text).toBe("a `time` has no hour, weekday or time zone: have the enforcement point send a time-of-day window in `context`, as a flag (`business_hours: bool`) or as its bounds (`opens: time`) to compare `now` with (language reference, section 3.1)");
    }
  });

  it("PC211: tool and intent names have no `size()`, as the reference says; strings and collections do", () => {
    for (const text of ["deny * when tool.size() > 3", "deny * when intent.size() > 3", "deny * when session.last.size() > 3", "deny * when any(t in session.tools: t.size() > 3)"]) {
      const found = single(rule(text), "PC211", 2);
      expect(found.message, text).toMatch(/^an? `(tool|intent) name` has no method `size`$/);
      expect(found.help, text).toMatch(/has `startsWith\(\)`, `endsWith\(\)`, `lower\(\)`$/);
    }
    expect(rule("deny * when tool.lower().size() > 3 or agent.team.size() > 3 or session.tools.size() > 3 or user.roles.size() > 3")).toEqual([]);
  });

  it("valid names, paths and calls give no diagnostic", () => {
    const rules = [
      'allow kb.search when agent.team == "support" and agent.id like "spiffe://acme.com/*" and agent.attested',
      'allow kb.search when user.id == "u" and "admin" in user.roles and context.env == "prod"',
      "allow kb.search when agent.zone == external and agent.zone != Zone.partner",
      "allow kb.search when intent == support.reply and tool == kb.search and tool in intent.tools",
      "allow kb.search when tool.risk <= intent.max_risk and tool.risk < critical and tool.risk >= Risk.low",
      "allow email.send when session.last == email.send and session.tools contains email.send and tool != kb.search",
      "allow email.send when tool in [email.send, kb.search] and session.count(email.*, within 1m) < 5",
      "allow email.send when session.called(crm.lookup) and session.called(crm.*, within 1h) and session.count(*, within 10s) < 3",
      "allow email.send when session.calls < 100 and session.denials < 3 and session.repeats < 2 and session.age < 1d",
      'allow email.send when args.to.size() < 5 and args.subject.size() < 100 and args.body.lower().startsWith("hi")',
      'allow http.get when url.host(args.url) == "acme.com" and args.url.endsWith(".pdf")',
      'allow email.send when all(r in args.to: email.domain(r) == "acme.com")',
      "allow kb.search when now > now",
      "allow kb.search when context.labels containsAll [public] and [internal, partner] contains agent.zone",
    ];
    expect(checkWithDecls(policyOf(...rules))).toEqual([]);
  });
});

describe("PC216: a set that declares no tools", () => {
  const rulesFile = 'policy support {\n  allow crm.lookup when agent.team == "support" and intent == support.reply\n  deny email.send, kb.* when session.labels contains pii\n  deny * when session.count(within 1m) > 30\n}\n';

  it("a rules file checked without its schema file: one error at the first target, none of the errors it explains", () => {
    expect(checkAlone(rulesFile)).toEqual([
      {
        code: "PC216",
        file: "t.policy",
        line: 2,
        column: 9,
        message: "the set declares nothing but policies: every tool, attribute, intent and label the rules name is unknown",
        help: "pass the files with the declarations too, as in `policyc check schema.policy rules.policy`, or the folder that holds them",
      },
    ]);
  });

  it("with other declarations but no tools, only the errors about targets (and intents, when none is declared) are left out", () => {
    const found = checkAlone(`agent { team: string }\n${rulesFile.replace("agent.team", "agent.tema")}`);
    expect(found.map((f) => [f.code, f.line])).toEqual([
      ["PC216", 3],
      ["PC202", 3],
      ["PC206", 4],
    ]);
    expect(found[0]!.message).toBe("the set declares no tools: every rule's target is unknown");
  });

  it("not for a set with a tool, nor for declarations alone", () => {
    expect(checkAlone("tool kb.search {}\npolicy p {\n  allow kb.serch\n}\n").map((f) => f.code)).toEqual(["PC203"]);
    expect(checkAlone("agent { team: string }\n")).toEqual([]);
  });
});
