import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Project, ts, type Diagnostic, type DiagnosticMessageChain } from "ts-morph";
import { beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/check/analyze.js";
import { BUILTIN_TYPES } from "../../src/check/schema.js";
import { compile, compileSources } from "../../src/compile/compile.js";
import { emitTypeScript, policyDocs } from "../../src/compile/emitTypeScript.js";
import type { RuntimeSchema } from "../../src/runtime/schema.js";
import { MODULE_NAMES } from "../../src/compile/typeScriptNames.js";
import { isKeyword } from "../../src/syntax/tokens.js";
import { loadBundle } from "../../src/bundle/loadBundle.js";
import type { Engine } from "../../src/runtime/engine.js";
import { cli, cpuMilliseconds, ROOT } from "../helpers.js";
import { AGENT, SUPPORT_SOURCES } from "../runtime/fixtures.js";

/**
 * `emitTypeScript` (for `policyc build --target ts`): the module type-checks under `strict`, and
 * a request that does not fit the declarations is a compile error for the tool author.
 */

function schemaOf(sources: readonly { path: string; text: string }[]): RuntimeSchema {
  const { policy, diagnostics } = compileSources(sources);
  if (!policy) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return policy.schema;
}

/** The module `policyc build --target ts` writes for these sources: the schema's types, the declarations' docs. */
function moduleOf(sources: readonly { path: string; text: string }[]): string {
  const program = analyze(sources).program;
  if (!program) throw new Error("the sources do not check");
  return emitTypeScript(schemaOf(sources), { docs: policyDocs(program.files) });
}

/** Type-checks the emitted module with usage files in one in-memory program; returns diagnostics per file. */
function typeCheck(module: string, usages: Record<string, string>, options: { lib?: string[]; exactOptionalPropertyTypes?: boolean; isolatedDeclarations?: boolean; declaration?: boolean } = {}): Record<string, string[]> {
  const project = new Project({ useInMemoryFileSystem: true, compilerOptions: { strict: true, noEmit: true, ...options } });
  project.createSourceFile("/policy.ts", module);
  for (const [name, text] of Object.entries(usages)) project.createSourceFile(`/${name}.ts`, text);
  const flatten = (chain: DiagnosticMessageChain): string => [chain.getMessageText(), ...(chain.getNext() ?? []).map(flatten)].join("\n  ");
  const messages = (diagnostics: readonly Diagnostic[]): string[] =>
    diagnostics.map((d) => {
      const text = d.getMessageText();
      return typeof text === "string" ? text : flatten(text);
    });
  const out: Record<string, string[]> = { policy: messages(project.getSourceFileOrThrow("/policy.ts").getPreEmitDiagnostics()) };
  for (const name of Object.keys(usages)) out[name] = messages(project.getSourceFileOrThrow(`/${name}.ts`).getPreEmitDiagnostics());
  return out;
}

const HEADER = 'import type { Request, ToolName, Zone, Risk } from "./policy";\n';
const AGENT_TEXT = JSON.stringify(AGENT);
const CONTEXT_TEXT = '{ labels: ["pii"], env: "prod", destination: { host: "h", zone: "external" } }';
const usage = (fields: string): string => `${HEADER}export const r: Request = { session: "s", agent: ${AGENT_TEXT}, context: ${CONTEXT_TEXT}, ${fields} };\n`;

describe("emitTypeScript", () => {
  const module = emitTypeScript(schemaOf(SUPPORT_SOURCES), { bundleFile: "bundle.json" });
  let results: Record<string, string[]> = {};

  beforeAll(() => {
    results = typeCheck(module, {
    ok: [
      usage('tool: "email.send", intent: "support.reply", time: "2026-01-01T00:00:00Z", args: { to: ["bob@acme.com"], subject: "s", body: "b" }'),
      `export const more: Request[] = [
        { session: "s", agent: ${AGENT_TEXT}, context: { labels: [], env: "x" }, tool: "kb.search", args: { query: "q" } },
        { session: "s", agent: ${AGENT_TEXT}, context: { labels: [], env: "x" }, user: { id: "u", roles: ["a"] }, tool: "crm.lookup", args: { customer_id: "42" } },
      ];
      export const tool: ToolName = "http.get";
      export const zone: Zone = "partner";
      export const risk: Risk = "critical";
      export function narrow(request: Request): string {
        if (request.tool === "email.send") return request.args.to.join(",") + request.args.subject;
        return request.tool;
      }`,
    ].join("\n"),
    wrongTool: usage('tool: "email.sned", args: { to: [], subject: "s", body: "b" }'),
    missingArg: usage('tool: "email.send", args: { to: [], body: "b" }'),
    wrongType: usage('tool: "email.send", args: { to: "bob@acme.com", subject: "s", body: "b" }'),
    otherToolsArgs: usage('tool: "kb.search", args: { to: [], subject: "s", body: "b" }'),
    wrongEnum: `${HEADER}export const r: Request = { session: "s", agent: { ...${AGENT_TEXT}, zone: "mars" }, context: ${CONTEXT_TEXT}, tool: "kb.search", args: { query: "q" } };\n`,
    wrongIntent: usage('tool: "kb.search", intent: "world.domination", args: { query: "q" }'),
    missingAgent: `${HEADER}export const r: Request = { session: "s", context: ${CONTEXT_TEXT}, tool: "kb.search", args: { query: "q" } };\n`,
    wrongLabel: `${HEADER}export const r: Request = { session: "s", agent: ${AGENT_TEXT}, context: { labels: ["top-secret"], env: "prod" }, tool: "kb.search", args: { query: "q" } };\n`,
    });
  });

  it("the module itself has no errors under strict", () => {
    expect(results["policy"]).toEqual([]);
    expect(module).toContain("Generated by policyc with bundle.json");
  });

  it("accepts correct requests, and narrows args by tool", () => {
    expect(results["ok"]).toEqual([]);
  });

  it.each([
    ["wrongTool", /email\.sned/],
    ["missingArg", /subject/],
    ["wrongType", /string\[\]|not assignable/],
    ["otherToolsArgs", /to|query/],
    ["wrongEnum", /mars|not assignable/],
    ["wrongIntent", /world\.domination|not assignable/],
    ["missingAgent", /agent/],
    ["wrongLabel", /top-secret|not assignable/],
  ])("rejects %s", (name, pattern) => {
    const messages = results[name]!;
    expect(messages.length, name).toBeGreaterThan(0);
    expect(messages.join("\n")).toMatch(pattern);
  });

  it("declared names that collide with the module's own, or are not identifiers, still give a valid module; the module's names stay", () => {
    const text = [
      "enum ToolName { a, b }",
      "enum Request { x }",
      "enum Request_ { y }",
      "type RequestBase { v: ToolName }",
      "agent { r: Request, q?: Request_, __proto__?: string }",
      "tool constructor { args { __proto__: string, n?: int } }",
      "tool a.b_c.d { args { x: list<RequestBase> } }",
      "intent i { tools constructor }",
      "policy p { allow * }",
    ].join("\n");
    const weird = emitTypeScript(schemaOf([{ path: "w.policy", text }]));
    const checked = typeCheck(weird, {
      use: `import type { Request } from "./policy";
        export const ok: Request = { session: "s", agent: { r: "x" }, tool: "constructor", args: { "__proto__": "p" } };
        export const ok2: Request = { session: "s", agent: { r: "x", q: "y" }, tool: "a.b_c.d", intent: "i", args: { x: [{ v: "a" }] } };`,
      bad: `import type { Request } from "./policy";
        export const bad: Request = { session: "s", agent: { r: "x" }, tool: "a.b_c.d", args: { x: [{ v: "low" }] } };`,
    });
    expect(checked["policy"]).toEqual([]);
    expect(checked["use"]).toEqual([]);
    expect(checked["bad"]!.length).toBeGreaterThan(0);
    // A declared name the module uses gets `_` appended; one that is free keeps its name.
    expect(weird).toContain('export type Request__ = "x";');
    expect(weird).toContain('export type Request_ = "y";');
    expect(weird).toContain('export type ToolName_ = "a" | "b";');
    expect(weird).toContain("export type RequestBase_ = {");
    expect(weird).toContain('export type ToolName = "constructor" | "a.b_c.d";');
    expect(weird).toContain("export type Request = ConstructorRequest | ABCDRequest;");
  });

  it("a tool whose name gives a module name (`_` gives `Request`) yields it: `Request` stays the union", () => {
    const text = 'tool _ { }\ntool __ { }\ntool request { }\ntool email.send { args { to: string } }\npolicy p { allow * }\n';
    const module = emitTypeScript(schemaOf([{ path: "t.policy", text }]));
    const checked = typeCheck(module, {
      use: `import type { Request } from "./policy";
        export const all: Request[] = [{ session: "s", tool: "email.send", args: { to: "a" } }, { session: "s", tool: "_" }, { session: "s", tool: "__" }];`,
    });
    expect(checked).toEqual({ policy: [], use: [] });
    expect(module).toContain("export type Request = Request_ | Request__ | RequestRequest | EmailSendRequest;");
  });

  it("of two tools whose names give one type name, the one whose name sorts first gets it, whatever the declaration and file order (audit a2 #7)", () => {
    const lower = "tool email.send { args { to: string } }\n";
    const upper = "tool Email.Send { args { recipient: string } }\ntool email_send { }\npolicy p { allow * }\n";
    const modules = [
      moduleOf([{ path: "a.policy", text: lower }, { path: "b.policy", text: upper }]),
      moduleOf([{ path: "z.policy", text: lower }, { path: "b.policy", text: upper }]),
      moduleOf([{ path: "one.policy", text: upper.replace("policy p", `${lower}policy p`) }]),
    ];
    for (const module of modules) {
      expect(module).toMatch(/export type EmailSendRequest = RequestBase & \{\n {2}readonly tool: "Email\.Send";/);
      expect(module).toMatch(/export type EmailSendRequest_ = RequestBase & \{\n {2}readonly tool: "email\.send";/);
      expect(module).toMatch(/export type EmailSendRequest__ = RequestBase & \{\n {2}readonly tool: "email_send";/);
      expect(typeCheck(module, {})).toEqual({ policy: [] });
    }
  });

  it("every TypeScript keyword the policy language allows as a type name gives a module that compiles under strict, renamed with `_` where TypeScript reserves it", () => {
    const keywords: string[] = [];
    for (let kind = ts.SyntaxKind.FirstKeyword; kind <= ts.SyntaxKind.LastKeyword; kind++) keywords.push(ts.tokenToString(kind)!);
    const words = keywords.filter((word) => !isKeyword(word) && !BUILTIN_TYPES.has(word));
    expect(words).toEqual(expect.arrayContaining(["package", "interface", "class", "number", "keyof", "readonly", "infer", "unique", "await", "from", "of"]));
    // Each word declared once as an enum and once as a record (in two policy sets), used by a
    // record field, a list element and a tool argument, required and optional.
    const asEnums = words.map((w) => `enum ${w} { a }`);
    const asRecords = words.map((w) => `type ${w} { self?: ${w}, n: int }`);
    const uses = (declared: string[]): string =>
      [
        ...declared,
        `type Uses { ${words.map((w, i) => `f${i}: ${w}, g${i}?: list<${w}>`).join(", ")} }`,
        `tool t { args { u: Uses, ${words.map((w, i) => `a${i}?: set<${w}>`).join(", ")} } }`,
        "policy p { allow t }",
      ].join("\n");
    for (const declared of [asEnums, asRecords]) {
      const module = emitTypeScript(schemaOf([{ path: "k.policy", text: uses(declared) }]));
      const renamed = words.filter((w) => !module.includes(`export type ${w} = `));
      const imports = words.map((w) => (renamed.includes(w) ? `${w}_` : w));
      const checked = typeCheck(module, { use: `import type { ${imports.join(", ")} } from "./policy";\nexport type All = ${imports.join(" | ")};\n` });
      expect(checked).toEqual({ policy: [], use: [] });
      for (const w of renamed) expect(module).toContain(`export type ${w}_ = `);
      // Exactly the words TypeScript would refuse there are renamed.
      expect(renamed).toEqual(expect.arrayContaining(["package", "interface", "static", "let", "yield", "implements", "await", "default", "number", "boolean", "unknown", "never", "object", "symbol", "bigint", "undefined", "keyof", "readonly", "infer"]));
      expect(renamed).not.toContain("from");
      expect(renamed).not.toContain("of");
    }
    // Rebuilding gives the same text.
    expect(emitTypeScript(schemaOf([{ path: "k.policy", text: uses(asEnums) }]))).toBe(emitTypeScript(schemaOf([{ path: "k.policy", text: uses(asEnums) }])));
  });

  it("names no global type: an enum or record named after any type the TypeScript library declares (`Record`, `Array`, `Readonly`…) keeps its name, and the module still compiles", () => {
    // The global types in scope of a module with the latest library (without the DOM's hundreds of
    // names, which would make the test slow and add no kind of name the others lack).
    const lib = ["lib.esnext.d.ts"];
    const scope = new Project({ useInMemoryFileSystem: true, compilerOptions: { strict: true, noEmit: true, lib } });
    const probe = scope.createSourceFile("/probe.ts", "export {};\n");
    const globals = scope.getTypeChecker().compilerObject.getSymbolsInScope(probe.compilerNode, ts.SymbolFlags.Type).map((symbol) => symbol.name);
    const words = [...new Set(globals)].filter((name) => /^[A-Za-z_][A-Za-z0-9_]*$/.test(name) && !isKeyword(name) && !BUILTIN_TYPES.has(name) && !/^[a-z]/.test(name) && !(MODULE_NAMES as readonly string[]).includes(name)).sort();
    expect(words).toEqual(expect.arrayContaining(["Record", "Array", "ReadonlyArray", "Readonly", "Partial", "Object", "String", "Number", "Boolean", "Function", "Promise", "Map", "Set"]));
    // Everything the module writes that could name a type: an empty record, entity and args, an
    // optional field, lists and sets, records and enums in fields and args.
    const uses = (declared: string[]): string =>
      [
        ...declared,
        "type Nothing { }",
        "user { }",
        `agent { ${words.map((w, i) => `f${i}?: ${w}, g${i}?: list<${w}>`).join(", ")} }`,
        `context { n: Nothing, s?: set<string>, d?: duration }`,
        "tool clock.now { }",
        `tool t { args { ${words.map((w, i) => `a${i}?: set<${w}>`).join(", ")} } }`,
        "policy p { allow * }",
      ].join("\n");
    for (const declared of [words.map((w) => `enum ${w} { a }`), words.map((w) => `type ${w} { self?: ${w}, n: int }`)]) {
      const module = moduleOf([{ path: "g.policy", text: uses(declared) }]);
      for (const w of words) expect(module).toContain(`export type ${w} = `);
      const checked = typeCheck(module, {
        use: `import type { Request, ${words.join(", ")} } from "./policy";
          export type All = ${words.join(" | ")};
          export const now: Request = { session: "s", agent: {}, user: {}, context: { n: {}, s: ["x"] }, tool: "clock.now", args: {} };`,
      }, { lib });
      expect(checked).toEqual({ policy: [], use: [] });
    }
  });

  it("types the `context.labels` the engine takes as taint when the context block does not declare `labels` and rules read session.labels: a request sending them compiles, and editors suggest the `Label` members (audit a2 #3; review r3 #1, #3)", async () => {
    const rules = [
      "tool files.read { returns secret args { path: string } }",
      "tool http.post { args { url: string } }",
      "policy p {",
      "  allow files.read",
      "  allow http.post",
      '  deny http.post when session.labels contains "secret" reason "no exfil"',
      "}",
    ].join("\n");
    const folder = mkdtempSync(join(tmpdir(), "policyc-ts-labels-"));
    try {
      const built = async (name: string, text: string): Promise<{ module: string; engine: Engine; bundle: { session: { labels: boolean } } }> => {
        writeFileSync(join(folder, `${name}.policy`), text);
        const result = await cli(["build", `${name}.policy`, "--target", "ts", "-o", `${name}/`], { cwd: folder });
        expect(result.code, result.stderr).toBe(0);
        const bundle = JSON.parse(readFileSync(join(folder, name, "bundle.json"), "utf8"));
        return { module: readFileSync(join(folder, name, "policy.ts"), "utf8"), engine: loadBundle(bundle), bundle };
      };
      const sends = (module: string, context: string): string[] =>
        typeCheck(module, { use: `import type { Request } from "./policy";\nexport const r: Request = { session: "s", ${context}tool: "http.post", args: { url: "u" } };\n` })["use"]!;
      // Case 2 of language.md 3.7: the enum `Label`, no context block.
      const { module: labelled, engine, bundle } = await built("labelled", `enum Label { public, secret }\n${rules.replace('"secret"', "secret")}`);
      expect(bundle.session.labels).toBe(true);
      expect(labelled).toContain('readonly "labels"?: readonly (Label | (string & {}))[] | null | undefined;');
      expect(labelled).toContain("readonly context?: ContextAttributes | undefined;");
      expect(sends(labelled, 'context: { labels: ["secret"] }, ')).toEqual([]);
      expect(sends(labelled, 'context: { labels: ["Secret", "other"] }, ')).toEqual([]);
      expect(sends(labelled, "")).toEqual([]);
      expect(sends(labelled, 'context: { labels: "secret" }, ').length).toBeGreaterThan(0);
      expect(sends(labelled, 'context: { labels: [1] }, ').length).toBeGreaterThan(0);
      expect(sends(labelled, 'context: { env: "prod" }, ').length).toBeGreaterThan(0);
      // `string & {}` keeps the members from being absorbed into `string`: an editor suggests them.
      const editor = new Project({ useInMemoryFileSystem: true, compilerOptions: { strict: true, noEmit: true } });
      editor.createSourceFile("/policy.ts", labelled);
      const probe = 'import type { Request } from "./policy";\nexport const r: Request = { session: "s", context: { labels: ["';
      editor.createSourceFile("/use.ts", `${probe}"] }, tool: "http.post", args: { url: "u" } };\n`);
      const completions = editor.getLanguageService().compilerObject.getCompletionsAtPosition("/use.ts", probe.length, {});
      expect(completions?.entries.map((e) => e.name).sort()).toEqual(["public", "secret"]);
      // It compiles under the strictest settings an embedder may use.
      const strict = { exactOptionalPropertyTypes: true, isolatedDeclarations: true, declaration: true };
      expect(typeCheck(labelled, { use: 'import type { Request } from "./policy";\nexport const r: Request = { session: "s", context: { labels: ["secret", "x"] }, tool: "http.post", args: { url: "u" } };\n' }, strict)).toEqual({ policy: [], use: [] });
      // The labels the types let through are the taint that makes the next call a deny.
      expect(engine.decide({ session: "s", tool: "http.post", args: { url: "u" }, context: { labels: ["secret"] } }).decision).toBe("allow");
      expect(engine.decide({ session: "s", tool: "http.post", args: { url: "u" } }).decision).toBe("deny");
      // Case 3: no label enum, labels are strings; a context block without `labels` gets it as well.
      const strings = (await built("strings", `context { env: string }\n${rules}`)).module;
      expect(strings).toContain('readonly "labels"?: readonly string[] | null | undefined;');
      expect(sends(strings, 'context: { env: "prod", labels: ["secret"] }, ')).toEqual([]);
      expect(sends(strings, 'context: { labels: ["secret"] }, ').length).toBeGreaterThan(0);
      // Declared labels are typed as declared.
      expect((await built("declared", `enum Label { public, secret }\ncontext { labels: set<Label> }\n${rules.replace('"secret"', "secret")}`)).module).toContain('readonly "labels": readonly Label[];');
      // No rule reads session.labels: the engine keeps no labels, with or without a label enum, so nothing is added.
      expect((await built("unread", "tool t { }\npolicy p { allow t }\n")).module).not.toContain("labels");
      const unreadEnum = await built("unreadEnum", "enum Label { public, secret }\ntool t { returns secret }\ntool u { }\npolicy p { allow t\n allow u }\n");
      expect(unreadEnum.bundle.session.labels).toBe(false);
      expect(unreadEnum.module).not.toContain('"labels"');
      expect(unreadEnum.module).not.toContain("ContextAttributes");
      expect(typeCheck(unreadEnum.module, { use: 'import type { Request } from "./policy";\nexport const r: Request = { session: "s", context: { labels: ["secret"] }, tool: "u" };\n' })["use"]!.length).toBeGreaterThan(0);
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  it("the `context.labels` JSDoc's advice to have requests checked works as written, with or without a `context` block or a `Label` enum (audit s19 a2 LOW 3)", () => {
    const rules = (label: string): string => `tool t { returns pii }\ntool u { }\npolicy p {\n  allow t, u\n  deny u when session.labels contains ${label}\n}\n`;
    const cases = [
      // Case 3 of language.md 3.7: no `Label` enum, labels are strings.
      { text: rules('"pii"'), says: ["The set has no `context` block", 'declare the labels as an enum, `enum Label { … }`, and `labels: set<Label>` in a `context` block (language.md, section 3.7); rules then name labels as members: `pii`, not `"pii"`.'], followed: `enum Label { pii }\ncontext { labels: set<Label> }\n${rules("pii")}` },
      { text: `context { env: string }\n${rules('"pii"')}`, says: ["The `context` block does not declare `labels`", "declare the labels as an enum, `enum Label { … }`, and `labels: set<Label>` in the `context` block"], followed: `enum Label { pii }\ncontext { env: string, labels: set<Label> }\n${rules("pii")}` },
      // Case 2: the `Label` enum.
      { text: `enum Label { pii }\n${rules("pii")}`, says: ["The set has no `context` block", "To have requests checked, declare `labels: set<Label>` in a `context` block (language.md, section 3.7)."], followed: `enum Label { pii }\ncontext { labels: set<Label> }\n${rules("pii")}` },
      { text: `enum Label { pii }\ncontext { env: string }\n${rules("pii")}`, says: ["The `context` block does not declare `labels`", "To have requests checked, declare `labels: set<Label>` in the `context` block (language.md, section 3.7)."], followed: `enum Label { pii }\ncontext { env: string, labels: set<Label> }\n${rules("pii")}` },
    ];
    for (const { text, says, followed } of cases) {
      const module = emitTypeScript(schemaOf([{ path: "l.policy", text }]), { readsSessionLabels: true });
      for (const words of says) expect(module, text).toContain(words);
      expect(analyze([{ path: "l.policy", text: followed }]).diagnostics.filter((d) => d.severity === "error"), followed).toEqual([]);
      expect(emitTypeScript(schemaOf([{ path: "l.policy", text: followed }]), { readsSessionLabels: true })).toContain('readonly "labels": readonly Label[];');
    }
  });

  it("an optional field named like a member TypeScript gives every object (`constructor`, `toString`…) cannot be left out of a typed value: its JSDoc and a build note say to write null, which compiles and the engine takes as absent (audit a2 #2); a `__proto__` field's JSDoc says to write the key computed (#6)", async () => {
    const names = Object.getOwnPropertyNames(Object.prototype);
    const text = [
      `type Box { n: int, ${names.map((name) => `${name}?: int`).join(", ")} }`,
      ...names.map((name, i) => `tool t${i} { args { a: string, ${name}?: int, box?: Box } }`),
      "tool proto { args { __proto__: string } }",
      "policy p { allow * }",
    ].join("\n");
    const sources = [{ path: "o.policy", text }];
    const module = moduleOf(sources);
    const engine = compile(sources);
    const request = (i: number, args: string): string => `{ session: "s", tool: "t${i}", args: { a: "x"${args} } }`;
    const everyNameNull = names.map((name, i) => `[${JSON.stringify(name)}]: ${i % 2 === 0 ? "null" : "undefined"}`).join(", ");
    const cases: Record<string, string> = {};
    names.forEach((name, i) => {
      cases[`out_${name}`] = request(i, "");
      cases[`null_${name}`] = request(i, `, [${JSON.stringify(name)}]: null, box: { n: 1, ${everyNameNull} }`);
    });
    cases["proto_computed"] = '{ session: "s", tool: "proto", args: { ["__proto__"]: "x" } }';
    const checked = typeCheck(module, Object.fromEntries(Object.entries(cases).map(([name, value]) => [name, `import type { Request } from "./policy";\nexport const r: Request = ${value};\n`])), { exactOptionalPropertyTypes: true });
    expect(checked["policy"]).toEqual([]);
    // Exactly the members of TypeScript's `Object` interface make a value without them fail.
    expect(names.filter((name) => checked[`out_${name}`]!.length > 0).sort()).toEqual(["constructor", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable", "toLocaleString", "toString", "valueOf"]);
    for (const [name, value] of Object.entries(cases)) {
      expect(engine.decide((0, eval)(`(${value})`)).decision, name).toBe("allow");
      if (!name.startsWith("out_")) expect(checked[name], name).toEqual([]);
    }
    expect(module).toContain('   * Every TypeScript object has a `toString` (from `Object`), so a value that leaves this field out does not compile: write `"toString": null` (or `undefined`) instead, which the engine takes as absent.\n   */\n  readonly "toString"?: number | null | undefined;');
    expect(module.match(/Every TypeScript object has/g)).toHaveLength(14);
    expect(module).toContain('/** In an object literal, write this key computed, `["__proto__"]: …`: `__proto__: …` or `"__proto__": …` sets the object\'s prototype instead, and the engine finds the field missing. Parsed JSON holds it as a field. */\n    readonly "__proto__": string;');
    // The build names them in a note (a required one is fine).
    const folder = mkdtempSync(join(tmpdir(), "policyc-ts-members-"));
    try {
      writeFileSync(join(folder, "m.policy"), "type Box { valueOf?: int }\ncontext { toString?: string, constructor: bool }\ntool t { args { constructor?: int, b?: Box } }\npolicy p { allow t }\n");
      expect(await cli(["build", "m.policy", "--target", "ts", "-o", "gen/"], { cwd: folder })).toEqual({
        code: 0,
        stdout: expect.stringMatching(/^built /),
        stderr: "note: in `gen/policy.ts`, optional fields named like a member every TypeScript object has (`context.toString`, `Box.valueOf`, `args.constructor of t`) cannot be left out of a typed value: write each as `null` instead, which the engine takes as absent\n",
      });
      expect((await cli(["build", "m.policy", "-o", "js/"], { cwd: folder })).stderr).toBe("");
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  });

  const NULLS = [
    "/// Where a message goes.",
    "type Dest { host: string, port?: int }",
    "agent { id: string, team?: string }",
    "user { id: string, nick?: string }",
    "context { dest?: Dest, known_for: duration, seen?: list<time> }",
    "intent support { tools * }",
    "tool email.send { args { to: list<string>, cc?: list<string> } }",
    "tool ping { args { note?: string } }",
    "policy p { allow * }",
  ].join("\n");

  it("types null as the engine takes it: absent for an optional field, refused for a required one", () => {
    const base = '"session": "s", "agent": { "id": "a" }, "context": { "known_for": 0 }';
    const cases: Record<string, string> = {
      optionalFieldsNull: `{ "session": "s", "agent": { "id": "a", "team": null }, "user": { "id": "u", "nick": null }, "context": { "dest": null, "known_for": 0, "seen": null }, "tool": "email.send", "args": { "to": [], "cc": null } }`,
      optionalRecordFieldNull: `{ "session": "s", "agent": { "id": "a" }, "context": { "dest": { "host": "h", "port": null }, "known_for": 0 }, "tool": "ping", "args": { "note": null } }`,
      requiredArgNull: `{ ${base}, "tool": "email.send", "args": { "to": null } }`,
      requiredContextFieldNull: `{ "session": "s", "agent": { "id": "a" }, "context": { "known_for": null }, "tool": "ping" }`,
      requiredRecordFieldNull: `{ ${base.replace('"known_for": 0', '"known_for": 0, "dest": { "host": null }')}, "tool": "ping" }`,
      contextNull: `{ "session": "s", "agent": { "id": "a" }, "context": null, "tool": "ping" }`,
      timeNull: `{ ${base}, "time": null, "tool": "ping" }`,
      listElementNull: `{ ${base}, "tool": "email.send", "args": { "to": [null] } }`,
      userIntentNull: `{ ${base}, "user": null, "intent": null, "tool": "ping" }`,
      argsNullNoneRequired: `{ ${base}, "tool": "ping", "args": null }`,
      argsNullSomeRequired: `{ ${base}, "tool": "email.send", "args": null }`,
      argsAbsentSomeRequired: `{ ${base}, "tool": "email.send" }`,
    };
    const engine = compile([{ path: "n.policy", text: NULLS }]);
    const checked = typeCheck(moduleOf([{ path: "n.policy", text: NULLS }]), Object.fromEntries(Object.entries(cases).map(([name, text]) => [name, `import type { Request } from "./policy";\nexport const r: Request = ${text};\n`])));
    expect(checked["policy"]).toEqual([]);
    const verdicts = Object.fromEntries(Object.entries(cases).map(([name, text]) => [name, { engine: engine.decide(JSON.parse(text)).decision === "allow", types: checked[name]!.length === 0 }]));
    for (const [name, verdict] of Object.entries(verdicts)) expect(verdict.types, `${name}: ${checked[name]!.join("; ")}`).toBe(verdict.engine);
    expect(verdicts["optionalFieldsNull"]!.engine).toBe(true);
    expect(verdicts["requiredArgNull"]!.engine).toBe(false);
    expect(verdicts["userIntentNull"]!.engine).toBe(true);
    expect(verdicts["argsNullNoneRequired"]!.engine).toBe(true);
  });

  it("types undefined as the engine takes it, absent, under exactOptionalPropertyTypes: an optional field, time, user, intent, args of a tool that requires none (audit a2 #5); a generated Request is still policyc's own Request", () => {
    const base = 'session: "s", agent: { id: "a" }, context: { known_for: 0 }';
    const cases: Record<string, string> = {
      optionalFieldsUndefined: '{ session: "s", time: undefined, intent: undefined, agent: { id: "a", team: undefined }, user: { id: "u", nick: undefined }, context: { dest: undefined, known_for: 0, seen: undefined }, tool: "email.send", args: { to: [], cc: undefined } }',
      optionalRecordFieldUndefined: '{ session: "s", agent: { id: "a" }, context: { dest: { host: "h", port: undefined }, known_for: 0 }, tool: "ping", args: { note: undefined } }',
      userArgsUndefined: `{ ${base}, user: undefined, tool: "ping", args: undefined }`,
      requiredArgUndefined: `{ ${base}, tool: "email.send", args: { to: undefined } }`,
      requiredContextFieldUndefined: '{ session: "s", agent: { id: "a" }, context: { known_for: undefined }, tool: "ping" }',
      argsUndefinedSomeRequired: `{ ${base}, tool: "email.send", args: undefined }`,
    };
    const engine = compile([{ path: "n.policy", text: NULLS }]);
    const module = moduleOf([{ path: "n.policy", text: NULLS }]);
    const checked = typeCheck(
      module,
      {
        ...Object.fromEntries(Object.entries(cases).map(([name, text]) => [name, `import type { Request } from "./policy";\nexport const r: Request = ${text};\n`])),
        decision: readFileSync(join(ROOT, "src", "runtime", "decision.ts"), "utf8"),
        passedOn: `import type { Request } from "./policy";
          import type { Request as LibraryRequest } from "./decision";
          export function send(input: { cc?: string[]; at?: string; note?: string }): Request {
            return { session: "s", time: input.at, agent: { id: "a" }, context: { known_for: 0 }, tool: "email.send", args: { to: [], cc: input.cc } };
          }
          export const asLibrary = (request: Request): LibraryRequest => request;`,
        // README (upgrading from 0.5.0): a library Request copied into an embedder's own type
        // needs `| undefined` on its optional fields under exactOptionalPropertyTypes.
        copiedOut: `import type { Request } from "./decision";
          interface Logged { time?: string | undefined; session: string; tool: string; intent?: string | null | undefined }
          export const log = (request: Request): Logged => request;`,
        copiedOutNarrow: `import type { Request } from "./decision";
          interface Logged { time?: string; session: string; tool: string }
          export const log = (request: Request): Logged => request;`,
      },
      { exactOptionalPropertyTypes: true },
    );
    expect(checked["policy"]).toEqual([]);
    expect(checked["passedOn"]).toEqual([]);
    expect(checked["copiedOut"]).toEqual([]);
    expect(checked["copiedOutNarrow"]!.join("\n")).toContain("exactOptionalPropertyTypes");
    expect(module).toContain('readonly "cc"?: readonly string[] | null | undefined;');
    expect(module).toContain("readonly time?: string | undefined;");
    const verdicts = Object.fromEntries(Object.entries(cases).map(([name, text]) => [name, { engine: engine.decide((0, eval)(`(${text})`)).decision === "allow", types: checked[name]!.length === 0 }]));
    for (const [name, verdict] of Object.entries(verdicts)) expect(verdict.types, `${name}: ${checked[name]!.join("; ")}`).toBe(verdict.engine);
    expect(verdicts["optionalFieldsUndefined"]!.engine).toBe(true);
    expect(verdicts["userArgsUndefined"]!.engine).toBe(true);
    expect(verdicts["requiredArgUndefined"]!.engine).toBe(false);
  });

  it("types a tool without arguments, an empty entity and an empty record as an object without fields: a string, a number or a list there is refused, as the engine refuses it", () => {
    const text = "type Empty { }\nuser { }\ntool clock.now { risk low }\ntool tag { args { e?: Empty } }\npolicy p { allow * }\n";
    const cases: Record<string, string> = {
      argsEmpty: '{ "session": "s", "tool": "clock.now", "args": {} }',
      argsNull: '{ "session": "s", "tool": "clock.now", "args": null }',
      userEmpty: '{ "session": "s", "user": {}, "tool": "clock.now" }',
      recordEmpty: '{ "session": "s", "tool": "tag", "args": { "e": {} } }',
      argsJsonText: '{ "session": "s", "tool": "clock.now", "args": "{}" }',
      argsNumber: '{ "session": "s", "tool": "clock.now", "args": 5 }',
      argsList: '{ "session": "s", "tool": "clock.now", "args": [] }',
      userText: '{ "session": "s", "user": "bob", "tool": "clock.now" }',
      recordText: '{ "session": "s", "tool": "tag", "args": { "e": "x" } }',
      recordList: '{ "session": "s", "tool": "tag", "args": { "e": [] } }',
    };
    const sources = [{ path: "e.policy", text }];
    const module = moduleOf(sources);
    expect(module).toContain("readonly args?: { readonly [key: string]: never } | null | undefined;");
    expect(module).toContain("export type UserAttributes = { readonly [key: string]: never };");
    expect(module).toContain("export type Empty = { readonly [key: string]: never };");
    const engine = compile(sources);
    const checked = typeCheck(module, Object.fromEntries(Object.entries(cases).map(([name, request]) => [name, `import type { Request } from "./policy";\nexport const r: Request = ${request};\n`])));
    expect(checked["policy"]).toEqual([]);
    const verdicts = Object.fromEntries(Object.keys(cases).map((name) => [name, { engine: engine.decide(JSON.parse(cases[name]!)).decision, types: checked[name]!.length === 0 }]));
    expect(verdicts).toEqual({
      argsEmpty: { engine: "allow", types: true },
      argsNull: { engine: "allow", types: true },
      userEmpty: { engine: "allow", types: true },
      recordEmpty: { engine: "allow", types: true },
      argsJsonText: { engine: "deny", types: false },
      argsNumber: { engine: "deny", types: false },
      argsList: { engine: "deny", types: false },
      userText: { engine: "deny", types: false },
      recordText: { engine: "deny", types: false },
      recordList: { engine: "deny", types: false },
    });
  });

  it("keeps a doc comment's `@word` as text, not a JSDoc tag: an editor shows the whole comment, and `@deprecated` in prose deprecates nothing (audit s19 a2 LOW 1)", () => {
    const text = [
      "/// Posts to a chat channel; agents never mention @here or @channel.",
      "/// Replies go to bob@acme.com (`@ops` on call).",
      "tool chat.post { risk medium args { channel: string, /// Not @deprecated, only rare.\n text: string } }",
      "/// Old shape, @deprecated and kept.",
      "type R { x: string }",
      "tool t { args { r: R } }",
      "policy p { allow * }",
    ].join("\n");
    const module = moduleOf([{ path: "j.policy", text }]);
    expect(module).toContain("/**\n * Posts to a chat channel; agents never mention \\@here or \\@channel.\n * Replies go to bob@acme.com (`@ops` on call).\n *\n * A call of `chat.post` (risk medium).\n */");
    const editor = new Project({ useInMemoryFileSystem: true, compilerOptions: { strict: true, noEmit: true } });
    editor.createSourceFile("/policy.ts", module);
    const use = 'import type { ChatPostRequest, R } from "./policy";\nexport const r: R = { x: "" };\nexport const text = (c: ChatPostRequest): string => c.args.text;\n';
    editor.createSourceFile("/use.ts", use);
    const service = editor.getLanguageService().compilerObject;
    const hover = (name: string): { docs: string; tags: string[] } => {
      const info = service.getQuickInfoAtPosition("/use.ts", use.lastIndexOf(name));
      return { docs: (info?.documentation ?? []).map((part) => part.text).join(""), tags: (info?.tags ?? []).map((tag) => tag.name) };
    };
    expect(hover("ChatPostRequest)")).toEqual({ docs: "Posts to a chat channel; agents never mention \\@here or \\@channel.\nReplies go to bob@acme.com (`@ops` on call).\n\nA call of `chat.post` (risk medium).", tags: [] });
    expect(hover("R =")).toEqual({ docs: "Old shape, \\@deprecated and kept.", tags: [] });
    expect(hover("text;")).toEqual({ docs: "Not \\@deprecated, only rare.", tags: [] });
    expect(service.getSuggestionDiagnostics("/use.ts").map((d) => d.code)).not.toContain(6385);
  });

  it("emits the module of 2,000 tools in time linear in the tools (audit s19 a2 MEDIUM 1: 77 s of CPU when each declaration re-parsed the module)", () => {
    const tools = Array.from({ length: 2_000 }, (_, i) => `tool ns.t${i} { risk low args { a: string, n?: int } }`);
    const schema = schemaOf([{ path: "many.policy", text: `${tools.join("\n")}\npolicy p { allow * }\n` }]);
    const started = cpuMilliseconds();
    const module = emitTypeScript(schema);
    expect(cpuMilliseconds() - started).toBeLessThan(8_000);
    expect(module).toContain("export type NsT1999Request = RequestBase & {");
    expect(module).toContain("export type Request = NsT0Request | NsT1Request | ");
  });

  it("notes what ints, durations and times take in nested sets and lists too, where the engine checks them as at the top (audit s19 a2 LOW 4)", () => {
    const text = "tool nest.lists { risk low args { ll: list<list<int>>, sd?: set<list<duration>>, lt: list<set<list<time>>>, ls: list<list<string>> } }\npolicy p { allow * }\n";
    const module = moduleOf([{ path: "n.policy", text }]);
    expect(module).toContain('    /** Ints: whole numbers from -(2^53 - 1) to 2^53 - 1 (`Number.isSafeInteger`). */\n    readonly "ll": readonly (readonly number[])[];');
    expect(module).toContain('    /** Durations: whole numbers of milliseconds from 0 to 2^53 - 1 (`7200000` is two hours). */\n    readonly "sd"?: readonly (readonly number[])[] | null | undefined;');
    expect(module).toContain('    /** Times: RFC 3339 strings (`2026-01-01T09:00:00Z`). */\n    readonly "lt": readonly (readonly (readonly string[])[])[];');
    expect(module).toContain('\n    readonly "ls": readonly (readonly string[])[];');
    expect(module).not.toContain('*/\n    readonly "ls"');
    // The fraction the note warns of is what the engine refuses.
    const decision = compile([{ path: "n.policy", text }]).decide({ session: "s", tool: "nest.lists", args: { ll: [[1.5]], lt: [], ls: [] } });
    expect(decision.decision).toBe("deny");
    expect(decision.reasons.join("\n")).toContain("request.args.ll[0][0] must be an int");
  });

  it("notes on `session` what its type cannot say and the engine refuses: an empty id and one over 1,024 characters (audit s19 a2 LOW 5)", () => {
    const sources = [{ path: "s.policy", text: "tool t { risk low }\npolicy p { allow t }\n" }];
    const module = moduleOf(sources);
    expect(module).toContain("  /** The session id, issued by the enforcement point (never chosen by the agent): a non-empty string of at most 1,024 characters (JavaScript's `length`). */\n  readonly session: string;");
    const engine = compile(sources);
    expect(["", "s".repeat(1_025), "s".repeat(1_024)].map((session) => engine.decide({ session, tool: "t" }).decision)).toEqual(["deny", "deny", "allow"]);
  });

  it("carries the policy's doc comments as JSDoc, with the range of ints and the unit of durations and times", () => {
    const text = [
      "/// Zones a host can be in.",
      "enum Zone {",
      "  /// Ours.",
      "  internal,",
      "  external",
      "}",
      "/// A host. A comment that says */ export type X = 1; /* must not end the JSDoc.",
      "type Host { /// Lower case.\n name: string, zone: Zone, /// The TCP port.\n port?: int, ports?: list<int> }",
      "/// Who calls.",
      "agent { /// Workload id.\n id: string, waits?: set<duration> }",
      "context { /// How long the payee has been known.\n known_for: duration, at?: time }",
      "/// Sends one e-mail.",
      "/// Never outside acme.com.",
      "tool email.send { risk high args { /// Recipients.\n to: list<Host> } }",
      "/// Answering customers.",
      "intent support { tools * }",
      "policy p { allow * }",
    ].join("\n");
    const module = moduleOf([{ path: "d.policy", text }]);
    expect(typeCheck(module, {})["policy"]).toEqual([]);
    expect(module).toContain("/**\n * Zones a host can be in.\n *\n * - `internal`: Ours.\n */\nexport type Zone = ");
    expect(module).toContain("/** A host. A comment that says *\\/ export type X = 1; /* must not end the JSDoc. */\nexport type Host = {");
    expect(module).toContain("  /** Lower case. */\n  readonly \"name\": string;");
    // TypeScript's number takes 2.5 and 2 ** 53, which the engine denies for an int.
    expect(module).toContain("  /**\n   * The TCP port.\n   *\n   * An int: a whole number from -(2^53 - 1) to 2^53 - 1 (`Number.isSafeInteger`).\n   */\n  readonly \"port\"?: number | null | undefined;");
    expect(module).toContain("  /** Ints: whole numbers from -(2^53 - 1) to 2^53 - 1 (`Number.isSafeInteger`). */\n  readonly \"ports\"?: readonly number[] | null | undefined;");
    expect(module).toContain("/**\n * The request's `agent` attributes.\n *\n * Who calls.\n */\nexport type AgentAttributes = {");
    expect(module).toContain("  /** Workload id. */\n  readonly \"id\": string;");
    expect(module).toContain("  /** Durations: whole numbers of milliseconds from 0 to 2^53 - 1 (`7200000` is two hours). */\n  readonly \"waits\"?: readonly number[] | null | undefined;");
    expect(module).toContain("  /**\n   * How long the payee has been known.\n   *\n   * A duration: a whole number of milliseconds from 0 to 2^53 - 1 (`7200000` is two hours).\n   */\n  readonly \"known_for\": number;");
    expect(module).toContain("  /** A time: an RFC 3339 string (`2026-01-01T09:00:00Z`). */\n  readonly \"at\"?: string | null | undefined;");
    expect(module).toContain("/**\n * Sends one e-mail.\n * Never outside acme.com.\n *\n * A call of `email.send` (risk high).\n */\nexport type EmailSendRequest = ");
    expect(module).toContain("    /** Recipients. */\n    readonly \"to\": readonly Host[];");
    expect(module).toContain("/**\n * The declared intents.\n *\n * - `support`: Answering customers.\n */\nexport type IntentName = \"support\";");
    expect(module).not.toContain("Host name");
  });
});
