import type { Decision, Effect } from "./decision.js";
import { defaultReason, Engine } from "./engine.js";
import { isOperatorRevocation, type Revocation } from "./session.js";
import { RISK_RANK } from "./ir.js";
import { Interpreter, type ClauseTrace } from "./interpret.js";
import { describeThrown, forgetDecision, newDecision } from "./helpers.js";
import { describeKind } from "./schema.js";
import { refusalDetail } from "./refusal.js";

/** How one rule fared for a request. */
export interface RuleTrace {
  readonly id: string;
  readonly effect: Effect;
  readonly location: string;
  readonly reason: string | null;
  /** `error` when evaluating it failed (then a deny/ask rule counts as matched, an allow rule not). */
  readonly matched: boolean | "error";
  /** Clause by clause, up to the first that was not true. */
  readonly clauses: readonly ClauseTrace[];
}

export interface Explanation {
  readonly tool: string | null;
  /** Why no rule ran, when none did (invalid request, revoked session). */
  readonly note: string | null;
  /**
   * For a session revoked earlier: the reasons written on the rules that revoked it (`reason
   * "…"`), which the note, naming the rules, does not say. Absent when none has one.
   */
  readonly revokedFor?: readonly string[];
  /** Every rule that targets the tool, in source order. */
  readonly rules: readonly RuleTrace[];
}

/**
 * Explains what `decide` would answer for a request, rule by rule and clause by clause,
 * without touching session state. Not the hot path: it interprets the bundle's IR.
 */
export function explain(engine: Engine, request: unknown): Explanation {
  newDecision();
  try {
    // Plain JavaScript can pass anything: say what was wrong, not which method it lacked.
    if (!(engine instanceof Engine)) return { tool: null, note: `explain needs an Engine (from new Engine, compile or loadBundle) as its first argument, not ${describeKind(engine)}`, rules: [] };
    const prepared = engine.prepare(request, false);
    if (!prepared.ready) {
      const tool = typeof (request as { tool?: unknown })?.tool === "string" ? (request as { tool: string }).tool : null;
      const revokedFor = writtenReasons(prepared.revocation);
      return { tool, note: noteFor(prepared.decision, prepared.revocation), ...(revokedFor.length > 0 ? { revokedFor } : {}), rules: [] };
    }
    const intents = new Map(Object.entries(engine.policy.schema.intents).map(([name, i]) => [name, { tools: new Set(i.matches), maxRisk: RISK_RANK[i.maxRisk] }]));
    const calledKeys = engine.policy.session.called.map((tools) => JSON.stringify(tools));
    const toolNames = Object.keys(engine.policy.schema.tools);
    const interpreter = new Interpreter(intents, prepared, (tools) => calledKeys.indexOf(JSON.stringify(tools)), (tools) => Uint8Array.from(toolNames, (name) => (tools.includes(name) ? 1 : 0)), engine.policy.schema, settlesCounts(engine.policy.code), settlesIpRangeFaults(engine.policy.code));
    const rules = engine.rulesFor(prepared.tool).map((index): RuleTrace => {
      const rule = engine.rules[index]!;
      if (rule.ir === null) return { id: rule.id, effect: rule.effect, location: rule.location, reason: rule.reason, matched: true, clauses: [] };
      const { matched, clauses } = interpreter.traceClauses(rule.ir, rule.clauses);
      return { id: rule.id, effect: rule.effect, location: rule.location, reason: rule.reason, matched, clauses };
    });
    return { tool: prepared.tool, note: null, rules };
  } catch (error) {
    return { tool: null, note: `could not explain: ${describeThrown(error)}`, rules: [] };
  } finally {
    forgetDecision();
  }
}

/**
 * Why no rule ran. For a revoked session: when, by which rule (and where it is written) and on
 * which tool, so a later attempt's explanation reads apart from the revoking one's.
 */
function noteFor(decision: Decision, revocation: Revocation | undefined): string {
  if (decision.revoked && revocation !== undefined) {
    const when = Number.isFinite(revocation.at) ? ` at ${new Date(revocation.at).toISOString()}` : "";
    // (An operator's revocation names no rule: its reason, in the decision, says it and why.)
    if (isOperatorRevocation(revocation)) return `the session was revoked${when} by an operator (Engine.revoke): every later attempt is denied`;
    const by = revocation.rules.map((rule, at) => `${rule} (${revocation.locations[at]})`).join(", ");
    return `the session was revoked${when} by ${by} on ${revocation.tool}: every later attempt is denied`;
  }
  if (decision.revoked) return `the session was revoked by ${decision.rules[0]}: every later attempt is denied`;
  // An explanation is for the audit log: the refusal's detail (its `errors`), not the agent's short reason.
  return `the request was denied before any rule ran: ${refusalDetail(decision)}`;
}

/** The reasons of a revocation that its rules wrote (a rule without one has its default reason, which says only what the note says). */
function writtenReasons(revocation: Revocation | undefined): string[] {
  if (revocation === undefined) return [];
  return revocation.reasons.filter((reason, at) => reason !== defaultReason("deny", revocation.rules[at]!, revocation.tool));
}

/**
 * Whether generated code passes `countIn` what settles a count after a reload raised its limit
 * (its fifth parameter, `settledBy`): a bundle built before 0.9.0 does not, and its decisions
 * fail closed where newer code settles the count, so its explanations must not settle it either.
 */
function settlesCounts(code: string): boolean {
  return code.includes("function countIn(c, since, tools, pattern, settledBy)");
}

const IP_RANGE_CALL = "rt.inIpRanges(";

/**
 * Whether generated code passes `inIpRanges` the decision context to note an error on (its
 * last argument, `c`): a bundle built before ip.inRange noted its errors there (audit s20 a5
 * #1) does not, so an ip.inRange error throws out of its rule, which fails closed as a whole
 * where newer code settles the term, and its explanations must fail the rule too. Each call's
 * closing parenthesis is found by depth, outside the string literals (JSON) its subject may
 * hold: a subject such as `url.host(…)` passes `c` itself.
 */
function settlesIpRangeFaults(code: string): boolean {
  for (let at = code.indexOf(IP_RANGE_CALL); at >= 0; at = code.indexOf(IP_RANGE_CALL, at + 1)) {
    const end = closingParenthesis(code, at + IP_RANGE_CALL.length);
    if (end < 0 || !code.startsWith(", c", end - 3)) return false;
  }
  return true;
}

/** The index of the `)` that closes the parenthesis opened just before `from`, or -1. */
function closingParenthesis(code: string, from: number): number {
  let depth = 1;
  for (let i = from; i < code.length; i++) {
    const char = code[i];
    if (char === '"') {
      // Past a JSON string: a backslash escapes the character after it.
      for (i++; i < code.length && code[i] !== '"'; i++) if (code[i] === "\\") i++;
    } else if (char === "(") depth++;
    else if (char === ")" && --depth === 0) return i;
  }
  return -1;
}
