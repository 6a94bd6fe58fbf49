import { Project, ts, type Diagnostic, type DiagnosticMessageChain } from "ts-morph";
import { beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/check/analyze.js";
import { BUILTIN_TYPES } from "../../src/check/schema.js";
import { compile, compileSources } from "../../src/compile/compile.js";
import { emitTypeScript, policyDocs } from "../../src/compile/emitTypeScript.js";
import type { RuntimeSchema } from "../../src/runtime/schema.js";
import { isKeyword } from "../../src/syntax/tokens.js";
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
function typeCheck(module: string, usages: Record<string, string>): Record<string, string[]> {
  const project = new Project({ useInMemoryFileSystem: true, compilerOptions: { strict: true, noEmit: true } });
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
    expect(module).toContain("readonly args?: Record<string, never> | null;");
    expect(module).toContain("export type UserAttributes = Record<string, never>;");
    expect(module).toContain("export type Empty = Record<string, never>;");
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
    expect(module).toContain("  /**\n   * The TCP port.\n   *\n   * An int: a whole number from -(2^53 - 1) to 2^53 - 1 (`Number.isSafeInteger`).\n   */\n  readonly \"port\"?: number | null;");
    expect(module).toContain("  /** Ints: whole numbers from -(2^53 - 1) to 2^53 - 1 (`Number.isSafeInteger`). */\n  readonly \"ports\"?: readonly number[] | null;");
    expect(module).toContain("/**\n * The request's `agent` attributes.\n *\n * Who calls.\n */\nexport type AgentAttributes = {");
    expect(module).toContain("  /** Workload id. */\n  readonly \"id\": string;");
    expect(module).toContain("  /** Durations: whole numbers of milliseconds from 0 to 2^53 - 1 (`7200000` is two hours). */\n  readonly \"waits\"?: readonly number[] | null;");
    expect(module).toContain("  /**\n   * How long the payee has been known.\n   *\n   * A duration: a whole number of milliseconds from 0 to 2^53 - 1 (`7200000` is two hours).\n   */\n  readonly \"known_for\": number;");
    expect(module).toContain("  /** A time: an RFC 3339 string (`2026-01-01T09:00:00Z`). */\n  readonly \"at\"?: string | null;");
    expect(module).toContain("/**\n * Sends one e-mail.\n * Never outside acme.com.\n *\n * A call of `email.send` (risk high).\n */\nexport type EmailSendRequest = ");
    expect(module).toContain("    /** Recipients. */\n    readonly \"to\": readonly Host[];");
    expect(module).toContain("/**\n * The declared intents.\n *\n * - `support`: Answering customers.\n */\nexport type IntentName = \"support\";");
    expect(module).not.toContain("Host name");
  });
});
