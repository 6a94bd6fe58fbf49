export { checkProgram } from "./check.js";
export type { CheckedProgram, CheckedRule } from "./program.js";
export type { Schema, ToolInfo, IntentInfo, RecordShape, FieldInfo, EnumInfo } from "./schema.js";
export type { Resolution } from "./resolution.js";
export { type Type, typeToString, RISK_LEVELS, type RiskLevel } from "./types.js";
export { analyze, type Analysis } from "./analyze.js";
