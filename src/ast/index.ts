export type * from "./nodes.js";
export { formatFile, printType, MAX_WIDTH } from "./format.js";
export { printExpr } from "./printExpr.js";
export { chainTermsOf } from "./chains.js";
