import type { Decision, Effect } from "./decision.js";
import type { Engine } from "./engine.js";
import type { Revocation } from "./session.js";
import { RISK_RANK } from "./ir.js";
import { Interpreter, type ClauseTrace } from "./interpret.js";
import { describeThrown, forgetDecision, newDecision } from "./helpers.js";
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
    const prepared = engine.prepare(request, false);
    if (!prepared.ready) {
      const tool = typeof (request as { tool?: unknown })?.tool === "string" ? (request as { tool: string }).tool : null;
      return { tool, note: noteFor(prepared.decision, prepared.revocation), rules: [] };
    }
    const intents = new Map(Object.entries(engine.policy.schema.intents).map(([name, i]) => [name, { tools: new Set(i.matches), maxRisk: RISK_RANK[i.maxRisk] }]));
    const calledKeys = engine.policy.session.called.map((tools) => JSON.stringify(tools));
    const toolNames = Object.keys(engine.policy.schema.tools);
    const interpreter = new Interpreter(intents, prepared, (tools) => calledKeys.indexOf(JSON.stringify(tools)), (tools) => Uint8Array.from(toolNames, (name) => (tools.includes(name) ? 1 : 0)), engine.policy.schema, settlesCounts(engine.policy.code));
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
    const by = revocation.rules.map((rule, at) => `${rule} (${revocation.locations[at]})`).join(", ");
    return `the session was revoked${when} by ${by} on ${revocation.tool}: every later attempt is denied`;
  }
  if (decision.revoked) return `the session was revoked by ${decision.rules[0]}: every later attempt is denied`;
  // An explanation is for the audit log: the refusal's detail (its `errors`), not the agent's short reason.
  return `the request was denied before any rule ran: ${refusalDetail(decision)}`;
}

/**
 * Whether generated code passes `countIn` what settles a count after a reload raised its limit
 * (its fifth parameter, `settledBy`): a bundle built before 0.9.0 does not, and its decisions
 * fail closed where newer code settles the count, so its explanations must not settle it either.
 */
function settlesCounts(code: string): boolean {
  return code.includes("function countIn(c, since, tools, pattern, settledBy)");
}
