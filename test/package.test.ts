import { spawnSync } from "node:child_process";
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { ModuleKind, ModuleResolutionKind, Project, ScriptTarget, type CompilerOptions, type Diagnostic, type DiagnosticMessageChain } from "ts-morph";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compileSources, createBundle, serializeBundle } from "../src/index.js";
import { cli, modulesLoadedBy, ROOT, SCENARIOS } from "./helpers.js";

/**
 * policyc as npm publishes and installs it: the files `npm pack` takes, laid out as a
 * dependency is (node_modules/policyc, its own dependencies hoisted beside it, not inside it),
 * used from CommonJS and from ES modules in fresh Node processes.
 */

const BUILT = existsSync(join(ROOT, "dist", "index.js"));

/** Paths (relative to the package root) of the files `npm pack` would publish; no build, nothing written. */
function packedFiles(): string[] {
  const result = spawnSync("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: ROOT, encoding: "utf8" });
  if (result.status !== 0) throw new Error(`npm pack failed: ${result.stderr}`);
  return (JSON.parse(result.stdout) as { files: { path: string }[] }[])[0]!.files.map((file) => file.path);
}

describe("the published package", () => {
  it("carries LICENSE, the full text of the Apache License 2.0 that package.json declares", () => {
    const pkg = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")) as { license: string };
    expect(pkg.license).toBe("Apache-2.0");
    expect(packedFiles()).toEqual(expect.arrayContaining(["LICENSE", "README.md", "package.json"]));
    const text = readFileSync(join(ROOT, "LICENSE"), "utf8");
    expect(text).toMatch(/^\s*Apache License\n\s*Version 2\.0, January 2004\n/);
    for (const heading of ["1. Definitions.", "9. Accepting Warranty or Additional Liability.", "END OF TERMS AND CONDITIONS"]) expect(text).toContain(heading);
  });
});

/**
 * A TypeScript program (strict, no emit) of these files. skipLibCheck only spares checking
 * node's and the dependencies' own .d.ts (seconds); the files are checked in full against
 * policyc's declarations.
 */
function typeChecked(files: readonly string[], options: Pick<CompilerOptions, "module" | "moduleResolution" | "declaration" | "exactOptionalPropertyTypes">): Project {
  const project = new Project({ compilerOptions: { strict: true, noEmit: true, skipLibCheck: true, target: ScriptTarget.ES2022, ...options } });
  for (const file of files) project.addSourceFileAtPath(file);
  return project;
}

/** A program's type errors, each as `FILE:LINE message`. */
function typeErrors(project: Project): string[] {
  const flatten = (chain: DiagnosticMessageChain): string => [chain.getMessageText(), ...(chain.getNext() ?? []).map(flatten)].join("\n  ");
  const text = (diagnostic: Diagnostic): string => {
    const message = diagnostic.getMessageText();
    return `${diagnostic.getSourceFile()?.getFilePath() ?? ""}:${diagnostic.getLineNumber() ?? ""} ${typeof message === "string" ? message : flatten(message)}`;
  };
  return project.getPreEmitDiagnostics().map(text);
}

const POLICY = 'tool kb.search { args { query: string } }\npolicy p {\n  deny kb.search when args.query == "secret" reason "no"\n  allow kb.search\n}\n';

describe.skipIf(!BUILT)("policyc installed as a dependency", () => {
  let app = "";

  beforeAll(() => {
    // An application folder: the packed files copied to node_modules/policyc (copies, so that
    // modules resolve from there and not from this repository), and every package of this
    // repository's node_modules linked beside it, as npm hoists dependencies.
    app = mkdtempSync(join(tmpdir(), "policyc-app-"));
    const modules = join(app, "node_modules");
    for (const file of packedFiles()) {
      mkdirSync(join(modules, "policyc", file, ".."), { recursive: true });
      cpSync(join(ROOT, file), join(modules, "policyc", file));
    }
    for (const name of readdirSync(join(ROOT, "node_modules"))) {
      if (name.startsWith(".") || name === "policyc") continue;
      symlinkSync(realpathSync(join(ROOT, "node_modules", name)), join(modules, name), "dir");
    }
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  it('require("policyc") and require("policyc/runtime") work from CommonJS: compile, bundle, load, decide', () => {
    const script = [
      'const policyc = require("policyc");',
      'const runtime = require("policyc/runtime");',
      `const sources = [{ path: "p.policy", text: ${JSON.stringify(POLICY)} }];`,
      "const engine = policyc.compile(sources);",
      "const { policy } = policyc.compileSources(sources);",
      "const loaded = runtime.loadBundle(JSON.parse(policyc.serializeBundle(policyc.createBundle(policy, sources))));",
      'const ask = (e, query) => e.decide({ session: query, tool: "kb.search", args: { query } }).decision;',
      "console.log(JSON.stringify({",
      '  main: require.resolve("policyc"), runtime: require.resolve("policyc/runtime"),',
      "  compile: typeof policyc.compile, loadBundle: typeof policyc.loadBundle, runtimeLoadBundle: typeof runtime.loadBundle,",
      "  runtimeHasCompile: 'compile' in runtime, sameEngine: policyc.Engine === runtime.Engine,",
      '  compiled: [ask(engine, "secret"), ask(engine, "docs")], loaded: [ask(loaded, "secret"), ask(loaded, "docs")],',
      "}));",
    ].join("\n");
    const result = spawnSync(process.execPath, ["-e", script], { cwd: app, encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
    expect(result.stderr).toBe("");
    expect(JSON.parse(result.stdout)).toEqual({
      main: realpathSync(join(app, "node_modules", "policyc", "dist", "index.js")),
      runtime: realpathSync(join(app, "node_modules", "policyc", "dist", "runtime", "index.js")),
      compile: "function",
      loadBundle: "function",
      runtimeLoadBundle: "function",
      runtimeHasCompile: false,
      sameEngine: true,
      compiled: ["deny", "allow"],
      loaded: ["deny", "allow"],
    });
  });

  it("finds chevrotain's single-file build in the hoisted node_modules, from CommonJS and from an ES module, without lodash-es", () => {
    const cjs = modulesLoadedBy('require("policyc").parse("policy p { allow * }", "p.policy");', { type: "commonjs", cwd: app });
    const esm = modulesLoadedBy('const { parse } = await import("policyc"); parse("policy p { allow * }", "p.policy");', { cwd: app });
    const ours = pathToFileURL(join(realpathSync(app), "node_modules", "policyc", "dist", "syntax", "chevrotain.js")).href;
    for (const { status, stderr, loaded } of [cjs, esm]) {
      expect(status, stderr).toBe(0);
      expect(loaded).toContain(ours);
      const chevrotain = loaded.filter((url) => url.includes("/chevrotain/"));
      expect(chevrotain.map((url) => url.slice(url.indexOf("/chevrotain/")))).toEqual(["/chevrotain/lib/chevrotain.mjs"]);
      expect(loaded.filter((url) => url.includes("/lodash-es/"))).toEqual([]);
    }
  });

  it("an embedder's TypeScript (strict) may pass each sample's `policyc build --target ts` requests, and its own interface-typed attributes, where policyc's Request is expected, and does not see the engine's internals", async () => {
    const files: string[] = [];
    for (const sample of SCENARIOS) {
      const out = join(app, "generated", sample);
      const build = await cli(["build", join("samples", sample), "--target", "ts", "-o", out]);
      expect(build.code, build.stderr).toBe(0);
      const folder = join(ROOT, "samples", sample, "requests");
      const requests = readdirSync(folder)
        .flatMap((file) => readFileSync(join(folder, file), "utf8").split("\n"))
        .filter((line) => line.trim() !== "");
      expect(requests.length, sample).toBeGreaterThan(0);
      // The sample's requests, typed as the generated module says, handed to code typed with the library's Request.
      const program = [
        'import type { Request } from "policyc";',
        'import type { Request as RuntimeRequest } from "policyc/runtime";',
        'import type * as Generated from "./policy.js";',
        `const requests: readonly Generated.Request[] = [\n${requests.map((line) => `  ${line},`).join("\n")}\n];`,
        "declare function decide(request: Request): void;",
        "for (const request of requests) decide(request);",
        "export const first: Request = requests[0]!;",
        "export const all: readonly RuntimeRequest[] = requests;",
        "declare const member: Generated.Request;",
        "export const one: Request = member;",
      ].join("\n");
      writeFileSync(join(out, "embed.ts"), `${program}\n`);
      files.push(join(out, "embed.ts"));
    }
    expect(files.length).toBeGreaterThanOrEqual(3);
    // The session store is no part of the published types: its clear() would forget revocations.
    // Nor is the replay's constructor: it lets recorded times, not the clock, expire sessions.
    const internals = [
      'import { Engine, type CompiledPolicy } from "policyc/runtime";',
      "declare const engine: Engine;",
      "// @ts-expect-error engine.sessions is internal",
      "engine.sessions.clear();",
      "// @ts-expect-error engine.rulesFor is internal (explain's)",
      'engine.rulesFor("t");',
      "export const rules: number = engine.rules.length;",
      "declare const policy: CompiledPolicy;",
      "export const made = new Engine(policy, {});",
      "// @ts-expect-error new Engine takes no third argument",
      "export const replaying = new Engine(policy, {}, { recordedTimesOnly: true });",
      "// @ts-expect-error the replay's value is not exported",
      'export { REPLAY_OF_RECORDED_TIMES } from "policyc/runtime";',
    ].join("\n");
    writeFileSync(join(app, "internals.ts"), `${internals}\n`);
    files.push(join(app, "internals.ts"));
    // An enforcement point's own types are often interfaces (no index signature): a Request takes
    // them, and still refuses what the engine refuses: a string (raw JSON arguments), a list, a Map.
    const attributes = [
      'import type { Attributes, Request } from "policyc";',
      "interface AgentIdentity { id: string; team: string; attested: boolean }",
      "interface CallContext { labels: string[]; env: string }",
      "interface SendArgs { to: readonly string[]; length: number }",
      "declare const agent: AgentIdentity;",
      "declare const context: CallContext;",
      "declare const args: SendArgs;",
      'export const request: Request = { session: "s", tool: "email.send", agent, user: agent, context, args };',
      'export const literal: Request = { session: "s", tool: "t", agent: { id: "a" }, args: {} };',
      "export const all: readonly Attributes[] = [agent, context, args, { a: 1 }, {}];",
      "// @ts-expect-error the arguments' raw JSON text",
      'export const text: Request = { session: "s", tool: "t", args: "{}" };',
      "// @ts-expect-error a list",
      'export const list: Request = { session: "s", tool: "t", args: [] };',
      "// @ts-expect-error a Map",
      'export const map: Request = { session: "s", tool: "t", agent: new Map<string, string>() };',
      "// @ts-expect-error a number",
      'export const number: Request = { session: "s", tool: "t", context: 5 };',
    ].join("\n");
    writeFileSync(join(app, "attributes.ts"), `${attributes}\n`);
    files.push(join(app, "attributes.ts"));
    // An incident responder's calls (Engine.revoke, Engine.session), typed from both entry points.
    const operator = [
      'import type { PendingAskSummary, RevocationSummary, RevokeResult, SessionSummary } from "policyc";',
      'import type { RevokeResult as RuntimeRevokeResult, SessionSummary as RuntimeSessionSummary } from "policyc/runtime";',
      'import { Engine } from "policyc/runtime";',
      "declare const engine: Engine;",
      'export const result: RevokeResult = engine.revoke("s", "INC-7");',
      "export const same: RuntimeRevokeResult = result;",
      'export const outcome: "revoked" | "already-revoked" | "refused" = result.outcome;',
      'export const summary: SessionSummary | undefined = engine.session("s");',
      "export const again: RuntimeSessionSummary | undefined = summary;",
      "export const cause: RevocationSummary | null | undefined = summary?.revoked;",
      'export const waiting: readonly PendingAskSummary[] | null | undefined = summary?.pendingAsks;',
      'export const ended: "idle" | "reload" | "revoked-before-start" | null | undefined = summary?.endCause;',
      "// @ts-expect-error a snapshot is read-only",
      "if (summary !== undefined) summary.calls = 0;",
      "// @ts-expect-error its lists too",
      'if (summary?.tools) summary.tools.push("t");',
    ].join("\n");
    writeFileSync(join(app, "operator.ts"), `${operator}\n`);
    files.push(join(app, "operator.ts"));
    writeFileSync(join(app, "package.json"), JSON.stringify({ name: "embedder", private: true, type: "module" }));
    const project = typeChecked(files, { module: ModuleKind.NodeNext, moduleResolution: ModuleResolutionKind.NodeNext });
    expect(typeErrors(project)).toEqual([]);
    // The library's Request came from the installed package's own declarations.
    expect(project.getSourceFile(join(app, "node_modules", "policyc", "dist", "runtime", "decision.d.ts"))).toBeDefined();
  });

  it("a library built on policyc can publish declarations: every type its functions give has a name policyc exports (no TS2742), and each imports by that name", () => {
    const folder = join(app, "declarations");
    mkdirSync(folder, { recursive: true });
    const program = [
      'import { analyze, BUNDLE_CODES, CODES, compileSources, loadBundle, parse, type Diagnostic } from "policyc";',
      'import { loadBundle as loadRuntime } from "policyc/runtime";',
      "export const lint = (path: string, text: string) => compileSources([{ path, text }]);",
      "export const checked = (text: string) => analyze([{ path: \"p.policy\", text }]).program;",
      "export const firstRule = (text: string) => {",
      "  const declaration = parse(text, \"p.policy\").ast.declarations[0];",
      "  return declaration?.kind === \"PolicyDecl\" ? declaration.rules[0] : undefined;",
      "};",
      "export const grantOf = (text: string) => firstRule(text)?.grant;",
      "export const conditionTypes = (text: string) => lint(\"p.policy\", text).program?.types;",
      "export const resolutions = (text: string) => lint(\"p.policy\", text).program?.resolutions;",
      "export const toolsOf = (bundle: unknown) => loadBundle(bundle).policy.schema.tools;",
      "export const conditionOf = (bundle: unknown) => loadRuntime(bundle).policy.rules[0]?.ir;",
      "export const severityOf = (diagnostic: Diagnostic) => diagnostic.severity;",
      "export const spanOf = (diagnostic: Diagnostic) => diagnostic.span;",
      "export const infoOf = (code: keyof typeof CODES) => CODES[code];",
      'export const bundleCodeOf = (error: import("policyc/runtime").BundleError): import("policyc/runtime").BundleCode | undefined => (error.code === BUNDLE_CODES.contentChanged ? error.code : undefined);',
      'export const pinned: import("policyc").BundleCode = BUNDLE_CODES.pinnedHash;',
      'export type Named = [import("policyc").Severity, import("policyc").Span, import("policyc").CheckedProgram, import("policyc").PolicyFile, import("policyc").Rule, import("policyc").Expr,',
      '  import("policyc").GrantClause, import("policyc").Grant, import("policyc").Effect, import("policyc").TypeJson, import("policyc").IrExpr, import("policyc").RiskLevel,',
      '  import("policyc/runtime").TypeJson, import("policyc/runtime").FieldsJson, import("policyc/runtime").IrExpr, import("policyc/runtime").RiskLevel];',
    ].join("\n");
    writeFileSync(join(folder, "lib.ts"), `${program}\n`);
    const project = typeChecked([join(folder, "lib.ts")], { module: ModuleKind.NodeNext, moduleResolution: ModuleResolutionKind.NodeNext, declaration: true });
    expect(typeErrors(project)).toEqual([]);
  });

  it("the engine options take `undefined` for not set in their types too, as the engine does: under exactOptionalPropertyTypes a setting that may be unset passes on as it is; `publicKey: undefined`, which loadBundle refuses, stays a type error (audit s19 a2 LOW 2)", async () => {
    const folder = join(app, "engineOptions");
    mkdirSync(folder, { recursive: true });
    const program = [
      'import { compile, loadBundle, verifyBundle, type EngineOptions, type LoadOptions } from "policyc";',
      'import { Engine, loadBundle as loadRuntime } from "policyc/runtime";',
      "declare const setting: number | undefined;",
      "declare const clock: (() => number) | undefined;",
      "declare const previous: Engine | undefined;",
      "const options: EngineOptions = { clock, sessionIdleMs: setting, expiredSessionMs: setting, revokedSessionMs: setting, maxWindowEntries: setting, maxSessions: setting, maxTimeSkewMs: setting, sessionsFrom: previous };",
      'export const compiled = compile([{ path: "p.policy", text: "" }], { sessionIdleMs: setting, maxSessions: setting });',
      "export const loaded = (bundle: unknown) => loadBundle(bundle, { ...options, maxTimeSkewMs: setting });",
      "export const runtime = (bundle: unknown) => loadRuntime(bundle, options);",
      "export const vetted = (bundle: unknown, publicKey: string) => verifyBundle(bundle, { ...options, publicKey });",
      "declare const key: string | undefined;",
      "// @ts-expect-error loadBundle refuses a publicKey that is undefined (leave it out to load without checking a signature)",
      "export const unchecked: LoadOptions = { publicKey: key };",
    ].join("\n");
    writeFileSync(join(folder, "options.ts"), `${program}\n`);
    writeFileSync(join(folder, "package.json"), JSON.stringify({ name: "options", private: true, type: "module" }));
    const project = typeChecked([join(folder, "options.ts")], { module: ModuleKind.NodeNext, moduleResolution: ModuleResolutionKind.NodeNext, exactOptionalPropertyTypes: true });
    expect(typeErrors(project)).toEqual([]);
    // And at run time: every option undefined is the defaults.
    const { compile } = (await import(pathToFileURL(join(app, "node_modules", "policyc", "dist", "index.js")).href)) as typeof import("../src/index.js");
    const unset = { clock: undefined, sessionIdleMs: undefined, expiredSessionMs: undefined, revokedSessionMs: undefined, maxWindowEntries: undefined, maxSessions: undefined, maxTimeSkewMs: undefined, sessionsFrom: undefined };
    expect(compile([{ path: "p.policy", text: POLICY }], unset).decide({ session: "s", tool: "kb.search", args: { query: "q" } }).decision).toBe("allow");
  });

  it('TypeScript types "policyc" and "policyc/runtime" under the resolution of "module": "commonjs" (node10) too', () => {
    const folder = join(app, "node10");
    mkdirSync(folder, { recursive: true });
    const program = [
      'import { compile } from "policyc";',
      'import { loadBundle, type Decision } from "policyc/runtime";',
      'import runtime = require("policyc/runtime");',
      "export const load: typeof runtime.loadBundle = loadBundle;",
      'export const decision: Decision["decision"] = compile([{ path: "p.policy", text: "" }]).decide({ session: "s", tool: "t" }).decision;',
      "// @ts-expect-error the runtime has no compiler",
      "runtime.compile;",
    ].join("\n");
    writeFileSync(join(folder, "a.ts"), `${program}\n`);
    const project = typeChecked([join(folder, "a.ts")], { module: ModuleKind.CommonJS, moduleResolution: ModuleResolutionKind.Node10 });
    expect(typeErrors(project)).toEqual([]);
    expect(project.getSourceFile(join(app, "node_modules", "policyc", "dist", "runtime", "index.d.ts"))).toBeDefined();
  });

  it("the JSON Schemas and the grammar files are reached by the package name (import, require), and nothing else in their folders' place", () => {
    const script = [
      'import { createRequire } from "node:module";',
      'import { readFileSync } from "node:fs";',
      'import { bundleJsonSchema } from "policyc";',
      "const require = createRequire(`${process.cwd()}/`);",
      'const json = async (name) => (await import(name, { with: { type: "json" } })).default;',
      "const refused = (name) => { try { require.resolve(name); return false; } catch (error) { return error.code; } };",
      "console.log(JSON.stringify({",
      '  recording: await json("policyc/schemas/recording.schema.json"),',
      '  bundle: require("policyc/schemas/bundle.schema.json"),',
      '  bundleIsTheApis: JSON.stringify(require("policyc/schemas/bundle.schema.json")) === JSON.stringify(bundleJsonSchema),',
      '  textMate: await json("policyc/grammar/policy.tmLanguage.json"),',
      '  ebnf: readFileSync(require.resolve("policyc/grammar/policy.ebnf"), "utf8"),',
      '  internal: refused("policyc/dist/cli/main.js"),',
      "}));",
    ].join("\n");
    const result = spawnSync(process.execPath, ["--input-type=module", "-e", script], { cwd: app, encoding: "utf8" });
    expect(result.status, result.stderr).toBe(0);
    const read = (file: string): unknown => JSON.parse(readFileSync(join(ROOT, file), "utf8"));
    expect(JSON.parse(result.stdout)).toEqual({
      recording: read("schemas/recording.schema.json"),
      bundle: read("schemas/bundle.schema.json"),
      bundleIsTheApis: true,
      textMate: read("grammar/policy.tmLanguage.json"),
      ebnf: readFileSync(join(ROOT, "grammar", "policy.ebnf"), "utf8"),
      internal: "ERR_PACKAGE_PATH_NOT_EXPORTED",
    });
  });
});

describe.skipIf(!BUILT)("policyc/runtime with no other package beside it", () => {
  // A gateway bundled into one file (esbuild, rollup) or shipped without node_modules has the
  // runtime's own code and nothing else: a bundler follows static imports only, never a
  // require made at run time (the bundle validator once loaded ajv's ucs2length that way, and
  // such a gateway crashed at start-up). Here node_modules holds policyc alone, so any run-time
  // load of another package fails, as it would in such a bundle.
  let app = "";

  beforeAll(() => {
    app = mkdtempSync(join(tmpdir(), "policyc-runtime-alone-"));
    for (const file of packedFiles()) {
      mkdirSync(join(app, "node_modules", "policyc", file, ".."), { recursive: true });
      cpSync(join(ROOT, file), join(app, "node_modules", "policyc", file));
    }
    const sources = [{ path: "p.policy", text: POLICY }];
    const { policy } = compileSources(sources);
    writeFileSync(join(app, "bundle.json"), serializeBundle(createBundle(policy!, sources)));
  });
  afterAll(() => rmSync(app, { recursive: true, force: true }));

  it("loads and checks a bundle, decides and explains, loading only node's modules and policyc's own runtime files", () => {
    const script = [
      'const { loadBundle, verifyBundle, explain } = await import("policyc/runtime");',
      'const bundle = JSON.parse(process.getBuiltinModule("node:fs").readFileSync("bundle.json", "utf8"));',
      "const engine = loadBundle(bundle);",
      'const request = (query) => ({ session: query, tool: "kb.search", args: { query } });',
      "const refusal = (change) => { try { loadBundle(change(bundle)); return \"loaded\"; } catch (error) { return error.name; } };",
      "const seen = JSON.stringify({",
      '  decisions: [engine.decide(request("secret")).decision, engine.decide(request("docs")).decision],',
      '  explained: explain(engine, request("secret")).rules.length,',
      "  verified: typeof verifyBundle(bundle),",
      // An empty rule id breaks the schema's minLength, the check that needed ajv's ucs2length.
      '  emptyRuleId: refusal((b) => ({ ...b, rules: [{ ...b.rules[0], id: "" }, ...b.rules.slice(1)] })),',
      "});",
      `const expected = ${JSON.stringify(JSON.stringify({ decisions: ["deny", "allow"], explained: 2, verified: "object", emptyRuleId: "BundleError" }))};`,
      "if (seen !== expected) throw new Error(`saw ${seen}`);",
    ].join("\n");
    const { status, stderr, loaded } = modulesLoadedBy(script, { cwd: app });
    expect(status, stderr).toBe(0);
    expect(stderr).toBe("");
    const ours = pathToFileURL(join(realpathSync(app), "node_modules", "policyc", "dist")).href;
    const outside = loaded.filter((url) => !url.startsWith("node:") && !url.startsWith(`${ours}/`) && !/\/\[eval\d*\]$/.test(url));
    expect(outside).toEqual([]);
    expect(loaded).toContain(`${ours}/bundle/bundleValidator.generated.js`);
  });
});
