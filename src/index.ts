/**
 * policyc's library API (README.md, "The library"):
 *
 *   import { compile, loadBundle } from "policyc";
 *   const engine = loadBundle(JSON.parse(bundleText));   // validates the bundle first
 *   const d = engine.decide(request);
 */
export { compile, compileSources, PolicyError, type SourceInput } from "./compile/compile.js";
export { compileProgram } from "./compile/compileProgram.js";
export { analyze, type Analysis } from "./check/analyze.js";
export type { CheckedProgram, CheckedRule, EnumInfo, FieldInfo, IntentInfo, RecordShape, Resolution, Schema, ToolInfo, Type } from "./check/index.js";
export type { SessionValue } from "./check/resolution.js";
export { parse, type ParseOptions, type ParseResult } from "./syntax/parse.js";
// The syntax tree's node types, as `parse` gives them (every type of a public signature is exported).
export type * from "./ast/nodes.js";
export { format } from "./ast/formatSources.js";
export type { FormatResult } from "./ast/format.js";
export { createBundle, serializeBundle, bundleJsonSchema, BUNDLE_FORMAT, type PrivateKeySource } from "./bundle/index.js";
export * from "./runtime/index.js";
export type { Diagnostic, RelatedLocation } from "./diagnostics/Diagnostic.js";
export { CODES, type Code, type CodeInfo, type Severity } from "./diagnostics/codes.js";
export { SourceFile } from "./source/SourceFile.js";
export type { Span } from "./source/Span.js";
export { VERSION } from "./version.js";
// Needs the compiler, so it is here and not in `policyc/runtime`: a vetting step's, not an enforcement point's.
export { verifyBundleCode } from "./compile/verifyBundleCode.js";
