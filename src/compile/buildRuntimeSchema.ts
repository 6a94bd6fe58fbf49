import type { Schema, RecordShape } from "../check/schema.js";
import type { Type } from "../check/types.js";
import type { FieldsJson, RuntimeSchema, TypeJson } from "../runtime/schema.js";
import { toolsMatching } from "../check/schema.js";

function typeJson(type: Type): TypeJson {
  switch (type.kind) {
    case "bool":
    case "int":
    case "string":
    case "duration":
    case "time":
      return type.kind;
    case "risk":
      return "Risk";
    case "set":
      return { set: typeJson(type.element) };
    case "list":
      return { list: typeJson(type.element) };
    case "enum":
      return { enum: type.name };
    case "record":
      return { record: type.name };
    default:
      throw new Error(`type ${type.kind} cannot be declared`);
  }
}

function fieldsJson(shape: RecordShape | undefined): FieldsJson {
  const out: Record<string, { type: TypeJson; optional: boolean }> = {};
  for (const [name, field] of shape?.fields ?? []) out[name] = { type: typeJson(field.type), optional: field.optional };
  return out;
}

/** The schema as the runtime validates requests with it; plain JSON, in declaration order. */
export function buildRuntimeSchema(schema: Schema): RuntimeSchema {
  const entities: { agent?: FieldsJson; user?: FieldsJson; context?: FieldsJson } = {};
  for (const entity of ["agent", "user", "context"] as const) if (schema.entities.has(entity)) entities[entity] = fieldsJson(schema.entities.get(entity));
  const records: Record<string, FieldsJson> = {};
  for (const [name, shape] of schema.records) records[name] = fieldsJson(shape);
  const enums: Record<string, readonly string[]> = {};
  for (const [name, info] of schema.enums) enums[name] = info.members;
  const tools: Record<string, RuntimeSchema["tools"][string]> = {};
  for (const [name, tool] of schema.tools) tools[name] = { risk: tool.risk, returns: tool.returns, args: fieldsJson(tool.args) };
  const intents: Record<string, RuntimeSchema["intents"][string]> = {};
  const toolNames = [...schema.tools.keys()];
  for (const [name, intent] of schema.intents) {
    const matches = toolNames.filter((t) => intent.tools.some((p) => toolsMatching(p, [t]).length > 0));
    intents[name] = { tools: intent.tools, maxRisk: intent.maxRisk, matches };
  }
  return { entities, records, enums, tools, intents };
}
