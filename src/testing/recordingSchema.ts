import { RFC3339 } from "../runtime/schema.js";

/**
 * The JSON Schema of one recording line (JSON Lines, docs/cli.md, `policyc test`): a request,
 * optionally with the expected `decision`, `rules` (compared as a set), `reason`, `grants` and
 * `grantsOnApproval` (each compared as a set of scope and lifetime pairs) and `revoked`; or, marked
 * `"event": "approval"`, a person's approval of an asked call arriving later, with what
 * `Engine.approved` returned (`approved`) and no decision; or, marked `"event": "revocation"`,
 * an operator's revocation of a session (`Engine.revoke`: its `session` and `reason`, and
 * optionally `time` and what it returned, `outcome`), which names no tool. Shipped as
 * schemas/recording.schema.json; every replayed line is validated with it.
 */
/** The types of a request's fields (docs/language.md, section 7), as every line but a logged refusal has them (and `session` and `tool`, which it may lack, the others must have). */
export const REQUEST_FIELD_TYPES = {
  session: { type: "string", minLength: 1 },
  tool: { type: "string", minLength: 1 },
  time: { type: "string" },
  agent: { type: "object" },
  user: { type: ["object", "null"] },
  intent: { type: ["string", "null"] },
  args: { type: "object" },
  context: { type: "object" },
} as const;

/**
 * A line as a decision log writes a request the engine refused before any rule ran: `deny` with
 * `rules: []`. Its request fields may be of any type (the engine refused it for one), so the
 * log of an enforcement point replays whatever its agents sent (see `loggedRefusal`).
 */
/**
 * A list of expected credentials as a decision lists them (`grants`, `grantsOnApproval`); a
 * grant's other fields, such as the expiry a log writes beside a minted credential, are allowed
 * and not compared, and `null` is taken as absent.
 */
const GRANT_LIST = { type: ["array", "null"], items: { type: "object", required: ["scope", "ttlSeconds"], properties: { scope: { type: "string" }, ttlSeconds: { type: "integer", minimum: 1 } } } } as const;

const LOGGED_REFUSAL = { required: ["decision", "rules"], properties: { decision: { const: "deny" }, rules: { maxItems: 0 } } } as const;

/** `rules`, `reason`, `grants`, `grantsOnApproval` and `revoked` complete an expected `decision`: without it nothing would be compared. (Not on a revocation line, whose `reason` is the operator's.) */
const EXPECTATION_DEPENDENCIES = { rules: ["decision"], reason: ["decision"], grants: ["decision"], grantsOnApproval: ["decision"], revoked: ["decision"] } as const;

/**
 * An attempt's request fields but `session` and `time`, which a revocation line has too: on a
 * line marked `"event": "revocation"` they show an attempt whose request carried an `event` of
 * its own (an agent controls its top-level fields), which is refused, never read as an
 * operator's revocation (`revocationError` in readRecording.ts).
 */
export const ATTEMPT_FIELDS = ["tool", "args", "agent", "user", "intent", "context"] as const;

/**
 * The shape of a time the replay reads (RFC3339 in src/runtime/schema.ts, the forms `parseTime`
 * takes): a revocation line with another `time` is malformed. (Its calendar, `2026-02-30`, the
 * replay checks too; a pattern cannot.)
 */
const RFC3339_TIME = { type: "string", pattern: RFC3339.source } as const;

/** The values of `Engine.revoke`'s `outcome`, as a revocation line records it (REVOKE_OUTCOMES in readRecording.ts). */
const REVOKE_OUTCOME = { enum: ["revoked", "already-revoked", "refused"] } as const;

/**
 * A revocation line (`"event": "revocation"`): the `session` and `reason` passed to
 * `Engine.revoke` (required), `time` when it was called and `outcome`, what it returned (both
 * optional); no attempt's field (`ATTEMPT_FIELDS`: it names no tool) and nothing a decision or
 * an approval would be compared by.
 */
const REVOCATION_LINE = {
  required: ["session", "reason"],
  properties: { session: { type: "string", minLength: 1, maxLength: 1024 }, reason: { type: "string" }, time: RFC3339_TIME, outcome: REVOKE_OUTCOME },
  not: { anyOf: [...ATTEMPT_FIELDS, "decision", "rules", "grants", "grantsOnApproval", "revoked", "approved"].map((field) => ({ required: [field] })) },
} as const;

/** The lines that are not revocations: attempts, approvals, logged refusals. */
const NOT_A_REVOCATION = {
  dependencies: EXPECTATION_DEPENDENCIES,
  allOf: [
    // An approval decides nothing: it says only what `Engine.approved` returned.
    { if: { required: ["event"] }, then: { required: ["approved"], not: { anyOf: [{ required: ["decision"] }, { required: ["rules"] }, { required: ["reason"] }, { required: ["grants"] }, { required: ["grantsOnApproval"] }, { required: ["revoked"] }] } } },
    // A decision log's line for a request the engine refused as invalid (`"args": "x"`) says so:
    // a deny that no rule decided. It replays as it was logged; any other line has these types.
    { if: LOGGED_REFUSAL, else: { required: ["session", "tool"], properties: REQUEST_FIELD_TYPES } },
  ],
} as const;

export const recordingLineSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://policyc.dev/schemas/recording.schema.json",
  title: "policyc recording line",
  description: "One request an enforcement point decided, with the decision expected for it; or a person's approval of a call it answered `ask` for (`event`: \"approval\"); or an operator's revocation of a session (`event`: \"revocation\").",
  type: "object",
  properties: {
    event: { enum: ["approval", "revocation"], description: "Absent on an attempt. \"approval\": not an attempt but a person's approval arriving here, after the lines before it; the request is what was passed to `Engine.approved` (the asked call's fields, `time` when the approval came). \"revocation\": not an attempt but an operator's `Engine.revoke(session, reason)` here, after the lines before it: the session's later lines are denied as revoked; it has `session`, `reason`, optionally `time` and `outcome`, and none of an attempt's fields (`tool`, `args`, `agent`, `user`, `intent`, `context`: a line with one is an attempt that carried an `event` of its own, which the replay refuses)" },
    time: { description: "RFC 3339 time of the attempt (of an approval line: when the approval came; of a revocation line, optional: when `Engine.revoke` was called, which the replay's clock moves to; without it the revocation comes at the time of the lines before it, dated by the replay's clock as an undated attempt is)" },
    session: { description: "The session id: a non-empty string (one longer than 1,024 characters is refused, as the engine refuses it), required but on a logged refusal (`\"decision\": \"deny\"` with `\"rules\": []`), which replays whatever the agent sent, outside any session when it is no such string; of a revocation line, the session revoked" },
    agent: {},
    user: {},
    intent: {},
    tool: { description: "The tool called: a non-empty string, required but on a logged refusal (`\"decision\": \"deny\"` with `\"rules\": []`), which replays whatever the agent sent" },
    args: {},
    context: {},
    decision: { enum: ["allow", "ask", "deny"] },
    rules: { type: "array", items: { type: "string" }, uniqueItems: true },
    reason: { type: "string", description: "The expected decision's reason (one of `Decision.reasons`, or all of them joined with \"; \"); of a revocation line (required), the reason passed to `Engine.revoke`, which the session's later denials quote" },
    grants: { ...GRANT_LIST, description: "The credentials the decision grants, as `Decision.grants` lists them, compared in any order by scope and lifetime (a grant's other fields, such as a logged credential's expiry, are not compared; null is taken as absent)" },
    grantsOnApproval: { ...GRANT_LIST, description: "The credentials a person's approval of the call mints, as an ask's `Decision.grantsOnApproval` lists them (an allow or a deny has none), compared as `grants` is: in any order by scope and lifetime (null is taken as absent)" },
    revoked: { type: "boolean", description: "Whether the session is revoked after the decision (by it or an earlier one), as `Decision.revoked` says" },
    approved: { type: "boolean", description: "On an approval line (required): what `Engine.approved` returned when the approval came (true: the call went ahead, its tool and data joined the session). On a line the engine answered `ask` (the older form): a person approved the call right after it and it went ahead" },
    outcome: { description: "On a revocation line (optional): what `Engine.revoke` returned as its `outcome` (\"revoked\", \"already-revoked\" or \"refused\"), which the replay compares; without it the line is told to the engine and tests nothing, and the replay also refuses a key one letter away from `outcome` (`outcom`, `Outcome`), a misspelling that would leave it unchecked, which this schema does not say. On any other line, a field of the log's own" },
  },
  // A revocation line has fields of its own (no tool, the operator's `reason`); every other line is an attempt's, an approval's or a logged refusal's.
  if: { required: ["event"], properties: { event: { const: "revocation" } } },
  then: REVOCATION_LINE,
  else: NOT_A_REVOCATION,
} as const;

/**
 * The line schema as the replay validates it: everything of the shipped schema but
 * `uniqueItems` on `rules`, which the replay checks itself (`repeatedItem` in
 * readRecording.ts), what an approval line must and must not have, which it checks first
 * (`eventLineError`), to say so in words (Ajv would say "must NOT be valid"), revocation lines,
 * which it checks whole by hand (`eventLineError`) and never validates with this, and the
 * leeway of a logged refusal (any request field of any type, `session` and `tool` absent too), which it
 * allows only where the strict check refuses a line (`loggedRefusal` in readRecording.ts): most
 * lines pass the strict check at once.
 * Ajv's `uniqueItems` check builds a keyed object per line, which cost more than a quarter of a
 * replay's validation time per line (measured); the shipped schema still says all this, and
 * the replay enforces exactly that.
 */
export const recordingLineSchemaAsValidated = (() => {
  const { uniqueItems: _unique, ...rules } = recordingLineSchema.properties.rules;
  const { if: _if, then: _then, else: _else, ...rest } = recordingLineSchema;
  return { ...rest, required: ["session", "tool"], dependencies: EXPECTATION_DEPENDENCIES, properties: { ...recordingLineSchema.properties, ...REQUEST_FIELD_TYPES, rules } };
})();
