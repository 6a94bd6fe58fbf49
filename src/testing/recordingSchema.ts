/**
 * The JSON Schema of one recording line (JSON Lines, section 6 of the contract): a request,
 * optionally with the expected `decision`, `rules` (compared as a set) and `reason`. Shipped
 * as schemas/recording.schema.json; every replayed line is validated with it.
 */
export const recordingLineSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://policyc.dev/schemas/recording.schema.json",
  title: "policyc recording line",
  description: "One request an enforcement point decided, with the decision expected for it.",
  type: "object",
  required: ["session", "tool"],
  properties: {
    time: { type: "string", description: "RFC 3339 time of the attempt" },
    session: { type: "string", minLength: 1 },
    agent: { type: "object" },
    user: { type: ["object", "null"] },
    intent: { type: ["string", "null"] },
    tool: { type: "string", minLength: 1 },
    args: { type: "object" },
    context: { type: "object" },
    decision: { enum: ["allow", "ask", "deny"] },
    rules: { type: "array", items: { type: "string" }, uniqueItems: true },
    reason: { type: "string" },
    approved: { type: "boolean", description: "On a line the engine answered `ask`: a person approved the call and it went ahead, so its tool and data join the session" },
  },
  // `rules` and `reason` complete an expected `decision`: without it nothing would be compared.
  dependencies: { rules: ["decision"], reason: ["decision"] },
} as const;

/**
 * The line schema as the replay validates it: everything of the shipped schema but
 * `uniqueItems` on `rules`, which the replay checks itself (`repeatedItem` in
 * readRecording.ts). Ajv's check builds a keyed object per line, which cost more than a quarter
 * of a replay's validation time per line (measured); the shipped schema still says the rules
 * are unique, and the replay enforces exactly that.
 */
export const recordingLineSchemaAsValidated = (() => {
  const { uniqueItems: _unique, ...rules } = recordingLineSchema.properties.rules;
  return { ...recordingLineSchema, properties: { ...recordingLineSchema.properties, rules } };
})();
