import fc from "fast-check";
import { analyze } from "../src/check/analyze.js";
import type { Diagnostic } from "../src/diagnostics/Diagnostic.js";
import { printable } from "../src/diagnostics/printable.js";

/**
 * The declarations of the language contract (a copy of the shared conformance
 * `errors/decls.policy`), so the checker tests run without the shared folder.
 */
export const DECLS = `/// Data classification labels, lowest to highest.
enum Label { public, internal, pii, secret }
enum Zone  { internal, partner, external }

type Destination { host: string, zone: Zone }

agent {
  id: string            // SPIFFE ID, e.g. spiffe://acme.com/agents/support-bot
  team: string
  zone: Zone
  attested: bool
}

user {
  id: string
  roles: set<string>
}

context {
  destination?: Destination     // optional: \`?\`
  labels: set<Label>            // labels of the data in this call
  env: string
}

tool crm.lookup {
  risk low
  returns pii                   // data this tool hands back to the agent
  args { customer_id: string }
}

tool email.send {
  risk high
  args { to: list<string>, subject: string, body: string }
}

tool http.get {
  risk medium
  args { url: string }
}

tool kb.search {
  risk low
  args { query: string }
}

intent support.reply {
  tools crm.lookup, email.send, kb.*
  max_risk high
}

intent research {
  tools http.get, kb.*
  max_risk medium
}
`;

/** The rules of the language contract (section 3); they check clean against `DECLS`. */
export const CONTRACT_POLICY = `policy support {
  @name("lookup-for-tickets")
  allow crm.lookup
    when agent.team == "support" and intent == support.reply
    grant "crm:read" for 5m

  allow email.send, kb.search
    when agent.team == "support"

  /// Customer data never leaves acme.com by email.
  @name("pii-stays-inside")
  @controls("OWASP-ASI03", "MAESTRO-L3")
  deny email.send
    when session.labels contains pii
     and any(r in args.to: not (r like "*@acme.com"))
    reason "customer data may not be emailed outside acme.com"

  ask http.get
    when context has destination and context.destination.zone == external
    reason "external fetches need a human's approval"

  @name("rate")
  deny *
    when session.count(within 1m) > 30
    reason "more than 30 calls a minute"
    revoke

  @name("loop")
  deny *
    when session.repeats >= 4
    reason "the same call five times in a row"
    revoke

  @name("off-intent")
  deny *
    when not (tool in intent.tools)
    reason "this tool does not serve the declared intent"

  @name("risk-escalation")
  deny *
    when tool.risk > intent.max_risk
    reason "riskier than the declared intent allows"
    revoke
}
`;

/** One diagnostic in a shape that is easy to compare: code, file, 1-based line and column, message, help. */
export interface Found {
  code: string;
  file: string;
  line: number;
  column: number;
  message: string;
  help: string | undefined;
}

export function describeDiagnostic(d: Diagnostic): Found {
  const position = d.span ? d.span.file.position(d.span.start) : { line: 0, column: 0 };
  return { code: d.code, file: d.span?.file.path ?? d.path ?? "", line: position.line, column: position.column, message: d.message, help: d.help };
}

/** Checks `text` (as `t.policy`) together with the contract's declarations. */
export function checkWithDecls(text: string): Found[] {
  return analyze([
    { path: "decls.policy", text: DECLS },
    { path: "t.policy", text },
  ]).diagnostics.map(describeDiagnostic);
}

/** Checks `text` alone. */
export function checkAlone(text: string): Found[] {
  return analyze([{ path: "t.policy", text }]).diagnostics.map(describeDiagnostic);
}

/** A policy block holding the given rules, one a line: rule N is on line N + 1 of the text. */
export function policyOf(...rules: string[]): string {
  return `policy p {\n${rules.map((r) => `  ${r}\n`).join("")}}\n`;
}

/** `[code, line]` pairs of the diagnostics found in `t.policy`, for compact assertions. */
export function codesAndLines(found: readonly Found[]): [string, number][] {
  return found.filter((f) => f.file === "t.policy").map((f) => [f.code, f.line]);
}

// ── Random valid policy text (for the formatter's property test and the fuzzer) ─────────────

/** Names that are never keywords, so they fit everywhere a name does. */
const NAMES = ["a", "b", "team", "zone", "roles", "x1", "foo_bar", "Label", "Zone", "crm", "kb", "lookup", "send", "v"];
/** Keywords the grammar accepts as names after `.` and in fields (`intent.tools`, `tool.risk`). */
const KEYWORD_NAMES = ["tools", "risk", "max_risk", "type", "args", "returns"];

const name = fc.constantFrom(...NAMES);
const memberName = fc.oneof({ weight: 4, arbitrary: name }, { weight: 1, arbitrary: fc.constantFrom(...KEYWORD_NAMES) });
const dotted = fc.tuple(name, fc.array(name, { minLength: 1, maxLength: 2 })).map(([first, rest]) => [first, ...rest].join("."));
const pattern = fc.oneof(fc.constant("*"), dotted, name.map((n) => `${n}.*`));
/** Tool and intent names may start with a keyword that reads as a namespace (`agent.delegate`). */
const keywordLedName = fc.tuple(fc.constantFrom("agent", "user", "context", "tool", "intent", "policy", "type", "enum", "args", "risk"), memberName).map(([k, n]) => `${k}.${n}`);
const toolName = fc.oneof({ weight: 3, arbitrary: dotted }, { weight: 1, arbitrary: keywordLedName });
const targetPattern = fc.oneof({ weight: 3, arbitrary: pattern }, { weight: 1, arbitrary: keywordLedName }, { weight: 1, arbitrary: fc.constantFrom("agent.*", "context.*") });
const durationText = fc.tuple(fc.integer({ min: 0, max: 100_000 }), fc.constantFrom("ms", "s", "m", "h", "d")).map(([n, u]) => `${n}${u}`);
// A raw bidirectional control in a string is an error (PC112), and a raw invisible or space-like
// character a warning (PC510): such characters are written as escapes, which give the same string.
const stringText = fc
  .oneof(fc.string({ maxLength: 12 }), fc.string({ unit: "binary", maxLength: 6 }), fc.constantFrom("*@acme.com", 'a"b', "back\\slash", "tab\tnew\nline"))
  .map((s) => printable(JSON.stringify(s)));
const literal = fc.oneof(fc.constantFrom("true", "false"), fc.nat({ max: 1_000_000 }).map(String), durationText, stringText);
const root = fc.constantFrom("agent", "user", "context", "args", "tool", "intent", "session", "now", "r", "external", "Zone");
const path = fc.tuple(root, fc.array(memberName, { maxLength: 3 })).map(([r, members]) => [r, ...members].join("."));

/** Spacing between clauses or chain terms: one space, or a line break with indentation. */
const gap = fc.constantFrom(" ", " ", "\n    ", "\n     ", " // note\n    ", "\n    /* inline */ ");

/** Every recursive choice shares one depth budget, so expressions stay a few lines long. */
const DEPTH = { depthSize: "small", maxDepth: 5, depthIdentifier: "policy-expression" } as const;

/** Expressions from the grammar of language.md section 4, depth-limited. */
const { expr } = fc.letrec<{ expr: string; and: string; not: string; comparison: string; postfix: string; primary: string }>((tie) => ({
  expr: fc.oneof(DEPTH, tie("and"), fc.tuple(tie("and"), fc.array(fc.tuple(gap, tie("and")), { minLength: 1, maxLength: 3 })).map(([first, rest]) => first + rest.map(([g, t]) => `${g}or ${t}`).join(""))),
  and: fc.oneof(DEPTH, tie("not"), fc.tuple(tie("not"), fc.array(fc.tuple(gap, tie("not")), { minLength: 1, maxLength: 3 })).map(([first, rest]) => first + rest.map(([g, t]) => `${g}and ${t}`).join(""))),
  not: fc.oneof(DEPTH, tie("comparison"), tie("not").map((e) => `not ${e}`)),
  comparison: fc.oneof(
    { depthSize: "small" },
    tie("postfix"),
    fc.tuple(tie("postfix"), fc.constantFrom("==", "!=", "<", "<=", ">", ">=", "in", "contains", "containsAny", "containsAll", "like"), tie("postfix")).map(([l, op, r]) => `${l} ${op} ${r}`),
    fc.tuple(tie("postfix"), memberName).map(([l, f]) => `${l} has ${f}`),
  ),
  postfix: fc.oneof(
    { depthSize: "small" },
    tie("primary"),
    path,
    fc.tuple(path, fc.constantFrom("size", "lower", "startsWith", "endsWith"), fc.array(tie("expr"), { maxLength: 2 })).map(([p, m, args]) => `${p}.${m}(${args.join(", ")})`),
    fc.tuple(fc.constantFrom("url.host", "email.domain"), path).map(([f, p]) => `${f}(${p})`),
    fc.tuple(fc.option(pattern, { nil: undefined }), durationText).map(([p, d]) => `session.count(${p === undefined ? "" : `${p}, `}within ${d})`),
    fc.tuple(pattern, fc.option(durationText, { nil: undefined })).map(([p, d]) => `session.called(${p}${d === undefined ? "" : `, within ${d}`})`),
  ),
  primary: fc.oneof(
    { depthSize: "small" },
    literal,
    tie("expr").map((e) => `(${e})`),
    fc.array(tie("expr"), { maxLength: 3 }).map((items) => `[${items.join(", ")}]`),
    fc.tuple(fc.constantFrom("any", "all"), name, path, tie("expr")).map(([q, v, l, body]) => `${q}(${v} in ${l}: ${body})`),
  ),
}));

export const policyExpression = expr;

const typeRef = fc.oneof(fc.constantFrom("bool", "int", "string", "duration", "time", "Risk", "Zone"), fc.tuple(fc.constantFrom("set", "list"), fc.constantFrom("string", "Label", "int")).map(([c, t]) => `${c}<${t}>`));
const field = fc.tuple(memberName, fc.boolean(), typeRef).map(([n, optional, t]) => `${n}${optional ? "?" : ""}: ${t}`);
const fields = fc.array(field, { maxLength: 4 });
const fieldBlock = fc.tuple(fields, fc.boolean()).map(([fs, multiline]) => (fs.length === 0 ? "{}" : multiline ? `{\n${fs.map((f) => `  ${f}\n`).join("")}}` : `{ ${fs.join(", ")} }`));
const lineComment = fc.string({ maxLength: 20 }).map((s) => `// ${s.replace(/[\r\n]/g, " ")}`);
const docComment = fc.string({ maxLength: 20 }).map((s) => `/// ${s.replace(/[\r\n]/g, " ")}`);
const maybeTrailing = fc.option(lineComment, { nil: undefined, freq: 3 }).map((c) => (c === undefined ? "" : ` ${c}`));
const maybeDocs = fc.array(docComment, { maxLength: 2 }).map((docs) => docs.map((d) => `${d}\n`).join(""));

const declaration = fc.oneof(
  fc.tuple(name, fc.uniqueArray(memberName, { minLength: 1, maxLength: 4 })).map(([n, members]) => `enum ${n} { ${members.join(", ")} }`),
  fc.tuple(name, fieldBlock).map(([n, block]) => `type ${n} ${block}`),
  fc.tuple(fc.constantFrom("agent", "user", "context"), fieldBlock).map(([entity, block]) => `${entity} ${block}`),
  fc
    .tuple(toolName, fc.option(fc.constantFrom("low", "medium", "high", "critical"), { nil: undefined }), fc.array(name, { maxLength: 2 }), fc.option(fields, { nil: undefined }), maybeTrailing)
    .map(([n, risk, returns, args, comment]) => {
      const items = [risk === undefined ? "" : `  risk ${risk}${comment}\n`, returns.length > 0 ? `  returns ${returns.join(", ")}\n` : "", args === undefined ? "" : `  args { ${args.join(", ")} }\n`];
      return `tool ${n} {\n${items.join("")}}`;
    }),
  fc.tuple(toolName, fc.array(targetPattern, { minLength: 1, maxLength: 3 }), fc.option(fc.constantFrom("low", "high"), { nil: undefined })).map(([n, tools, risk]) => `intent ${n} {\n  tools ${tools.join(", ")}\n${risk === undefined ? "" : `  max_risk ${risk}\n`}}`),
);

const annotation = fc.oneof(
  stringText.map((s) => `@name(${s})`),
  fc.array(stringText, { minLength: 1, maxLength: 2 }).map((ids) => `@controls(${ids.join(", ")})`),
  fc.tuple(name, fc.option(stringText, { nil: undefined })).map(([key, value]) => (value === undefined ? `@${key}` : `@${key}(${value})`)),
);

const rule = fc
  .tuple(
    maybeDocs,
    fc.array(annotation, { maxLength: 2 }),
    fc.constantFrom("allow", "ask", "deny"),
    fc.array(targetPattern, { minLength: 1, maxLength: 3 }),
    fc.option(expr, { nil: undefined }),
    fc.option(expr, { nil: undefined }),
    fc.option(stringText, { nil: undefined }),
    fc.option(fc.tuple(fc.array(stringText, { minLength: 1, maxLength: 2 }), durationText), { nil: undefined }),
    fc.boolean(),
    gap,
    maybeTrailing,
  )
  .map(([docs, annotations, effect, targets, when, unless, reason, grant, revoke, separator, comment]) => {
    const clauses = [
      when === undefined ? "" : `${separator}when ${when}`,
      unless === undefined ? "" : `${separator}unless ${unless}`,
      reason === undefined ? "" : `${separator}reason ${reason}`,
      grant === undefined ? "" : `${separator}grant ${grant[0].join(", ")} for ${grant[1]}`,
      revoke ? `${separator}revoke` : "",
    ];
    const indentedDocs = docs.replace(/^/gm, "  ").replace(/ {2}$/, "");
    return `${indentedDocs}${annotations.map((a) => `  ${a}\n`).join("")}  ${effect} ${targets.join(", ")}${clauses.join("")}${comment}\n`;
  });

const policy = fc.tuple(fc.oneof({ weight: 4, arbitrary: name }, { weight: 1, arbitrary: fc.constantFrom("context", "user", "agent", "tool") }), fc.array(rule, { maxLength: 4 }), fc.option(lineComment, { nil: undefined })).map(([n, rules, comment]) => `policy ${n} {\n${comment === undefined ? "" : `  ${comment}\n`}${rules.join("\n")}}`);

/**
 * Random policy text that parses without errors (it need not type-check): declarations and
 * policies in any order, with plain and doc comments and varied layout.
 */
export const policyText = fc
  .array(fc.tuple(maybeDocs, fc.oneof({ weight: 2, arbitrary: declaration }, { weight: 3, arbitrary: policy }), fc.constantFrom("\n", "\n\n", "\n\n\n")), { minLength: 1, maxLength: 5 })
  .map((items) => items.map(([docs, item, after]) => `${docs}${item}${after}`).join(""));
