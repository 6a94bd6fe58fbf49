/**
 * `policyc/runtime`: what enforcement points ship. Loads bundles and decides; imports nothing
 * from the parser, the checker or the compiler (a test checks the import graph).
 */
export { Engine, type EngineOptions, type EngineStats, type RevocationSummary, type PendingAskSummary, type RevokeResult, type SessionSummary } from "./engine.js";
export type { AskDecision, Attributes, Decision, DecisionFields, Effect, Grant, Request, SettledDecision } from "./decision.js";
export type { CompiledPolicy, RuleInfo } from "./policy.js";
export type { FieldJson, FieldsJson, RuntimeSchema, TypeJson } from "./schema.js";
export type { IrExpr, RiskLevel, ValueConversion } from "./ir.js";
export type { ReloadStats, SessionUse } from "./session.js";
export type { DeclaredArguments } from "./declaredFields.js";
export { explain, type Explanation, type RuleTrace } from "./explain.js";
export type { ClauseTrace } from "./interpret.js";
export type { ClauseSessionRead, ComparedOperand, Evidence, SessionRead } from "./evidence.js";
export { loadBundle, verifyBundle, BundleError, type LoadOptions, type PublicKeySource } from "../bundle/loadBundle.js";
// `BundleError`'s codes (PC700–PC709), so a caller can name the type of `error.code` and branch on its values.
export { BUNDLE_CODES, type BundleCode } from "../bundle/errorCodes.js";
export type { Bundle } from "../bundle/Bundle.js";
