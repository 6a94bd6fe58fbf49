/**
 * The JSON Schema of a bundle (draft-07). `loadBundle` validates with it before anything runs;
 * the package also ships it as schemas/bundle.schema.json (a test keeps the two equal).
 */
export const BUNDLE_FORMAT = "policyc-bundle/1";

/** A content hash as a bundle's manifest holds it (and `LoadOptions.contentHash` takes it): `sha256:` and 64 lowercase hex digits. */
export const CONTENT_HASH_PATTERN = "^sha256:[0-9a-f]{64}$";

const typeJson = {
  anyOf: [
    { enum: ["bool", "int", "string", "duration", "time", "Risk"] },
    { type: "object", required: ["set"], additionalProperties: false, properties: { set: { $ref: "#/definitions/type" } } },
    { type: "object", required: ["list"], additionalProperties: false, properties: { list: { $ref: "#/definitions/type" } } },
    { type: "object", required: ["enum"], additionalProperties: false, properties: { enum: { type: "string" } } },
    { type: "object", required: ["record"], additionalProperties: false, properties: { record: { type: "string" } } },
  ],
};

const fields = {
  type: "object",
  additionalProperties: { type: "object", required: ["type", "optional"], additionalProperties: false, properties: { type: { $ref: "#/definitions/type" }, optional: { type: "boolean" } } },
};

const risk = { enum: ["low", "medium", "high", "critical"] };

export const bundleJsonSchema = {
  $schema: "http://json-schema.org/draft-07/schema#",
  $id: "https://policyc.dev/schemas/bundle.schema.json",
  title: "policyc bundle",
  description: "A compiled policy set for enforcement points: schema, rules and generated decision code.",
  type: "object",
  required: ["format", "manifest", "schema", "session", "rules", "code"],
  additionalProperties: false,
  definitions: { type: typeJson, fields },
  properties: {
    format: { const: BUNDLE_FORMAT },
    manifest: {
      type: "object",
      required: ["compiler", "contentHash", "sources"],
      additionalProperties: false,
      properties: {
        compiler: { type: "string" },
        contentHash: { type: "string", pattern: CONTENT_HASH_PATTERN },
        sources: {
          type: "array",
          items: { type: "object", required: ["path", "sha256"], additionalProperties: false, properties: { path: { type: "string" }, sha256: { type: "string", pattern: "^[0-9a-f]{64}$" } } },
        },
      },
    },
    schema: {
      type: "object",
      required: ["entities", "records", "enums", "tools", "intents"],
      additionalProperties: false,
      properties: {
        entities: { type: "object", additionalProperties: false, properties: { agent: { $ref: "#/definitions/fields" }, user: { $ref: "#/definitions/fields" }, context: { $ref: "#/definitions/fields" } } },
        records: { type: "object", additionalProperties: { $ref: "#/definitions/fields" } },
        enums: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
        tools: {
          type: "object",
          additionalProperties: {
            type: "object",
            required: ["risk", "returns", "args"],
            additionalProperties: false,
            properties: { risk, returns: { type: "array", items: { type: "string" } }, args: { $ref: "#/definitions/fields" } },
          },
        },
        intents: {
          type: "object",
          additionalProperties: {
            type: "object",
            required: ["tools", "maxRisk", "matches"],
            additionalProperties: false,
            properties: { tools: { type: "array", items: { type: "string" } }, maxRisk: risk, matches: { type: "array", items: { type: "string" } } },
          },
        },
      },
    },
    session: {
      type: "object",
      required: ["labels", "tools", "repeats", "windowMs", "windowTools", "called"],
      additionalProperties: false,
      properties: {
        labels: { type: "boolean" },
        tools: { type: "boolean" },
        repeats: { type: "boolean" },
        windowMs: { type: "integer", minimum: 0 },
        windowTools: { type: "boolean" },
        called: { type: "array", items: { type: "array", items: { type: "string" } } },
      },
    },
    rules: {
      type: "array",
      items: {
        type: "object",
        required: ["id", "policy", "effect", "targets", "tools", "reason", "grants", "revoke", "controls", "annotations", "docs", "location", "condition", "clauses", "ir"],
        additionalProperties: false,
        properties: {
          id: { type: "string", minLength: 1 },
          policy: { type: "string" },
          effect: { enum: ["allow", "ask", "deny"] },
          targets: { type: "array", items: { type: "string" } },
          tools: { type: "array", items: { type: "string" } },
          reason: { type: ["string", "null"] },
          grants: {
            type: "array",
            items: { type: "object", required: ["scope", "ttlSeconds"], additionalProperties: false, properties: { scope: { type: "string" }, ttlSeconds: { type: "integer", minimum: 1 } } },
          },
          revoke: { type: "boolean" },
          controls: { type: "array", items: { type: "string" } },
          annotations: { type: "object", additionalProperties: { type: "array", items: { type: "string" } } },
          docs: { type: ["string", "null"] },
          location: { type: "string" },
          condition: { type: ["string", "null"] },
          clauses: { type: "array", items: { type: "string" } },
          ir: { anyOf: [{ type: "null" }, { type: "object", required: ["op"], properties: { op: { type: "string" } } }] },
        },
      },
    },
    code: { type: "string" },
    signature: {
      type: "object",
      required: ["algorithm", "value"],
      additionalProperties: false,
      // An Ed25519 signature is 64 bytes: 86 base64 digits and "==". Held to it, since Buffer.from(…, "base64")
      // skips what is not base64, and the field would take any text around a valid signature (audit s19 F6).
      // The 86th digit carries the last 2 bits and 4 padding bits, which must be 0 (A, Q, g or w): with
      // any digit there the same signature had 16 spellings, all verifying (review s19 #2).
      properties: { algorithm: { const: "ed25519" }, value: { type: "string", contentEncoding: "base64", pattern: "^[A-Za-z0-9+/]{85}[AQgw]==$" } },
    },
  },
} as const;
