export type * from "./nodes.js";
export { formatFile, formatSource, printType, MAX_WIDTH, type FormatResult } from "./format.js";
export { printExpr } from "./printExpr.js";
export { chainTermsOf } from "./chains.js";
