import type { TokenType } from "chevrotain";
import { createToken, Lexer } from "./chevrotain.js";

/**
 * The tokens of the policy language. Every token has a `LABEL` so parser messages say
 * "expected a tool name", never "expected Identifier".
 */
/**
 * Token categories let one CONSUME accept a family of tokens (any name, a name that may start
 * a tool name, a path root) instead of a large OR rebuilt on every call.
 */
export const AnyName = createToken({ name: "AnyName", pattern: Lexer.NA, label: "a name" });
export const ToolNameStart = createToken({ name: "ToolNameStart", pattern: Lexer.NA, label: "a tool name" });
export const RootName = createToken({ name: "RootName", pattern: Lexer.NA, label: "a name" });

export const Identifier = createToken({ name: "Identifier", pattern: /[A-Za-z_][A-Za-z0-9_]*/, label: "a name", categories: [AnyName, ToolNameStart, RootName] });

/** Whether `text` is one name as `Identifier` reads it (a label or member written bare), not quoted text such as `pii-data`. */
export function isName(text: string): boolean {
  return /^[A-Za-z_][A-Za-z0-9_]*$/.test(text);
}

/** Keywords that may start a tool name (`agent.delegate`, `context.search`), never clause words. */
const NAMESPACE_WORDS = new Set(["enum", "type", "agent", "user", "context", "tool", "intent", "policy", "risk", "returns", "args", "tools", "max_risk", "any", "all"]);
/**
 * Keywords that may start a path in an expression: the request's parts, and the namespace
 * keywords that may start a tool name, so a tool that can be a rule's target (`allow
 * policy.update`) can be named in its condition too (`tool == policy.update`). Only `any` and
 * `all` cannot, since `any(` starts a quantifier; such a tool is written as a string there.
 */
const ROOT_WORDS = new Set(["agent", "user", "context", "tool", "intent", "args", "enum", "type", "policy", "risk", "returns", "tools", "max_risk"]);

const keywordTokens: TokenType[] = [];
function keyword(word: string): TokenType {
  const categories = [AnyName];
  if (NAMESPACE_WORDS.has(word)) categories.push(ToolNameStart);
  if (ROOT_WORDS.has(word)) categories.push(RootName);
  const token = createToken({ name: `Kw_${word}`, pattern: new RegExp(word), longer_alt: Identifier, label: `\`${word}\``, categories });
  keywordTokens.push(token);
  return token;
}

export const WhiteSpace = createToken({ name: "WhiteSpace", pattern: /[ \t\r\n\uFEFF]+/, group: Lexer.SKIPPED });
export const DocComment = createToken({ name: "DocComment", pattern: /\/\/\/[^\n\r]*/, group: "docs" });
export const LineComment = createToken({ name: "LineComment", pattern: /\/\/[^\n\r]*/, group: "comments" });
export const BlockComment = createToken({ name: "BlockComment", pattern: /\/\*[\s\S]*?\*\//, group: "comments", line_breaks: true });
/**
 * `# text`: a comment as Rego, YAML and shell write it. Lexed to the end of the line so it is
 * reported once (PC100) and its words are not parsed as policy.
 */
export const HashComment = createToken({ name: "HashComment", pattern: /#[^\n\r]*/, group: "hashComments" });
/** Matched only when no `*\/` follows: reported as PC102 by the parser front. */
export const UnterminatedBlockComment = createToken({ name: "UnterminatedBlockComment", pattern: /\/\*[\s\S]*/, line_breaks: true, label: "an unterminated comment" });

export const StringLiteral = createToken({ name: "StringLiteral", pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*"/, label: "a string" });
const WHOLE_STRING = new RegExp(`^${(StringLiteral.PATTERN as RegExp).source}$`);
/**
 * Whether `image` is a whole string, as `StringLiteral` lexes one: an unterminated string, which
 * the parser reads as a string after reporting it (PC101), is not.
 */
export function isTerminatedString(image: string): boolean {
  return WHOLE_STRING.test(image);
}
/** A string with no closing quote on its line: reported as PC101. */
export const UnterminatedString = createToken({ name: "UnterminatedString", pattern: /"(?:[^"\\\r\n]|\\[^\r\n])*\\?/, label: "an unterminated string" });

/**
 * After a `"` that another quote closes (`"text'`, `"text”`): what must follow for that quote to
 * be the string's end, not a character inside it (`"don't`, `"the users' files`): the end of
 * the line, a closer, a `,` or a clause word, and no `"` later on the line.
 */
const MISMATCHED_CLOSE = String.raw`(?=[ \t]*(?:[)\]},\r\n]|$|(?:and|or|when|unless|reason|grant|for|revoke)\b))(?=[^"\r\n]*(?:[\r\n]|$))`;

/**
 * `'text'`: a string in the wrong quotes, lexed whole so it is reported once (PC100) and parsed as
 * a string. So is one whose quotes do not match, `'text"`, or `"text'` when no `"` follows on its
 * line (else it is a string that holds an apostrophe). A `'` inside a word (`don't`) neither starts
 * nor ends one. Python's triple quotes, `'''text'''` and `"""text"""`, are one too.
 */
export const SingleQuotedString = createToken({ name: "SingleQuotedString", pattern: new RegExp(`'''[^\\r\\n]*?'''|"""[^\\r\\n]*?"""|(?<![A-Za-z0-9_])'(?:(?:[^'\\r\\n]|'(?=[A-Za-z0-9_]))*'(?![A-Za-z0-9_])|(?:[^'"\\r\\n]|'(?=[A-Za-z0-9_]))*")|"[^"'\\\\\\r\\n]*'${MISMATCHED_CLOSE}`), label: "a string in single quotes" });
/** `` `text` ``: a string in backticks, as in JavaScript or Markdown; reported once (PC100) and parsed as a string. */
export const BacktickQuotedString = createToken({ name: "BacktickQuotedString", pattern: /`[^`\r\n]*`/, label: "a string in backticks" });
/**
 * `“text”`, `«text»`: a string in typographic quotes (pasted from a document or chat), reported
 * once (PC100) and parsed as a string. One end may be straight (`“text"`, or `"text”` when no `"`
 * follows on its line): an editor that makes quotes curly as they are typed changes one of them.
 */
export const CurlyQuotedString = createToken({
  name: "CurlyQuotedString",
  pattern: new RegExp(`[“”„‟‘’‚‛«»‹›](?:[^“”„‟‘’‚‛«»‹›"\\r\\n]|[’'](?=[A-Za-z]))*[“”„‟‘’‚‛«»‹›"]|"[^"“”„‟\\\\\\r\\n]*[”“]${MISMATCHED_CLOSE}`),
  label: "a string in curly quotes",
});

export const Duration = createToken({ name: "Duration", pattern: /[0-9]+(?:ms|s|m|h|d)(?![A-Za-z0-9_])/, label: "a duration like `5m`" });
/** Digits followed by letters that are not a duration unit (`5w`, `10mins`): reported as PC104. */
export const MalformedDuration = createToken({ name: "MalformedDuration", pattern: /[0-9]+[A-Za-z_][A-Za-z0-9_]*/, label: "a malformed duration" });
export const Integer = createToken({ name: "Integer", pattern: /[0-9]+/, label: "a number" });

export const LBrace = createToken({ name: "LBrace", pattern: "{", label: "`{`" });
export const RBrace = createToken({ name: "RBrace", pattern: "}", label: "`}`" });
export const LParen = createToken({ name: "LParen", pattern: "(", label: "`(`" });
export const RParen = createToken({ name: "RParen", pattern: ")", label: "`)`" });
export const LBracket = createToken({ name: "LBracket", pattern: "[", label: "`[`" });
export const RBracket = createToken({ name: "RBracket", pattern: "]", label: "`]`" });
export const Comma = createToken({ name: "Comma", pattern: ",", label: "`,`" });
export const Colon = createToken({ name: "Colon", pattern: ":", label: "`:`" });
export const Dot = createToken({ name: "Dot", pattern: ".", label: "`.`" });
export const Question = createToken({ name: "Question", pattern: "?", label: "`?`" });
export const Star = createToken({ name: "Star", pattern: "*", label: "`*`" });
export const At = createToken({ name: "At", pattern: "@", label: "`@`" });
export const EqEq = createToken({ name: "EqEq", pattern: "==", label: "`==`" });
export const NotEq = createToken({ name: "NotEq", pattern: "!=", label: "`!=`" });
export const LessEq = createToken({ name: "LessEq", pattern: "<=", label: "`<=`" });
export const GreaterEq = createToken({ name: "GreaterEq", pattern: ">=", label: "`>=`" });
export const Less = createToken({ name: "Less", pattern: "<", label: "`<`" });
export const Greater = createToken({ name: "Greater", pattern: ">", label: "`>`" });
/** `=` alone is a common slip for `==`; lexing it lets the parser say so. */
export const SingleEq = createToken({ name: "SingleEq", pattern: "=", label: "`=`" });

export const Kw = {
  enum: keyword("enum"),
  type: keyword("type"),
  agent: keyword("agent"),
  user: keyword("user"),
  context: keyword("context"),
  tool: keyword("tool"),
  intent: keyword("intent"),
  policy: keyword("policy"),
  allow: keyword("allow"),
  ask: keyword("ask"),
  deny: keyword("deny"),
  when: keyword("when"),
  unless: keyword("unless"),
  reason: keyword("reason"),
  grant: keyword("grant"),
  for: keyword("for"),
  revoke: keyword("revoke"),
  risk: keyword("risk"),
  returns: keyword("returns"),
  args: keyword("args"),
  tools: keyword("tools"),
  max_risk: keyword("max_risk"),
  true: keyword("true"),
  false: keyword("false"),
  and: keyword("and"),
  or: keyword("or"),
  not: keyword("not"),
  containsAny: keyword("containsAny"),
  containsAll: keyword("containsAll"),
  contains: keyword("contains"),
  in: keyword("in"),
  like: keyword("like"),
  has: keyword("has"),
  any: keyword("any"),
  all: keyword("all"),
  within: keyword("within"),
} as const;

/** Keywords that may still be used as names after `.` or in declarations (`intent.tools`, `tool.risk`). */
export const KEYWORDS: readonly TokenType[] = keywordTokens;

const KEYWORD_WORDS = new Set<string>(Object.keys(Kw));

/** Whether a name is spelled like a keyword (`deny`, `all`). */
export function isKeyword(word: string): boolean {
  return KEYWORD_WORDS.has(word);
}

/** Keywords that may start a tool name (see `toolNameStart` in grammar.ts). */
export const NAMESPACE_KEYWORDS: readonly TokenType[] = keywordTokens.filter((k) => NAMESPACE_WORDS.has(k.name.slice(3)));

export const allTokens: TokenType[] = [
  AnyName,
  ToolNameStart,
  RootName,
  WhiteSpace,
  DocComment,
  LineComment,
  BlockComment,
  HashComment,
  UnterminatedBlockComment,
  // Before `StringLiteral`: a `"` that a curly quote or a `'` closes, with no `"` after it on its line.
  SingleQuotedString,
  BacktickQuotedString,
  CurlyQuotedString,
  StringLiteral,
  UnterminatedString,
  Duration,
  MalformedDuration,
  Integer,
  LBrace,
  RBrace,
  LParen,
  RParen,
  LBracket,
  RBracket,
  Comma,
  Colon,
  Dot,
  Question,
  Star,
  At,
  EqEq,
  NotEq,
  LessEq,
  GreaterEq,
  Less,
  Greater,
  SingleEq,
  // Longest first: the lexer takes the first pattern that matches, so `tools` must be tried before `tool`.
  ...[...keywordTokens].sort((a, b) => String(b.PATTERN).length - String(a.PATTERN).length),
  Identifier,
];

export const policyLexer = new Lexer(allTokens, { positionTracking: "full", ensureOptimizations: false, skipValidations: true });
