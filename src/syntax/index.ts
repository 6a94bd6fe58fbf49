export { parse, type ParseResult, MAX_NESTING } from "./parse.js";
export { PolicyGrammar, grammarInstance } from "./grammar.js";
export { parseDuration, decodeString, encodeString, DURATION_UNITS } from "./literals.js";
