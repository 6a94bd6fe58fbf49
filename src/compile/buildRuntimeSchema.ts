import type { Schema, RecordShape } from "../check/schema.js";
import type { Type } from "../check/types.js";
import type { FieldsJson, RuntimeSchema, TypeJson } from "../runtime/schema.js";
import { toolsMatching } from "../check/schema.js";

/**
 * A type as the bundle spells it, for the IR: what a structured comparison compares. Tool and
 * intent names are strings there; null for what has no declared spelling (a tool set, an error).
 */
export function comparedTypeJson(type: Type): TypeJson | null {
  switch (type.kind) {
    case "tool":
    case "intent":
      return "string";
    case "set":
    case "list": {
      const element = comparedTypeJson(type.element);
      return element === null ? null : type.kind === "set" ? { set: element } : { list: element };
    }
    case "toolset":
    case "args":
    case "namespace":
    case "empty":
    case "error":
      return null;
    default:
      return typeJson(type);
  }
}

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

/**
 * Sets an own property. Declared names are user input: a plain assignment of `__proto__` would
 * replace the prototype instead, and the declaration would vanish from the schema (and the
 * bundle), skipping its validation or making a declared tool or intent unknown.
 */
function define<T>(object: Record<string, T>, key: string, value: T): void {
  Object.defineProperty(object, key, { value, enumerable: true, writable: true, configurable: true });
}

function fieldsJson(shape: RecordShape | undefined): FieldsJson {
  const out: Record<string, { type: TypeJson; optional: boolean }> = {};
  for (const [name, field] of shape?.fields ?? []) define(out, name, { type: typeJson(field.type), optional: field.optional });
  return out;
}

/** The schema as the runtime validates requests with it; plain JSON, in declaration order. */
export function buildRuntimeSchema(schema: Schema): RuntimeSchema {
  const entities: { agent?: FieldsJson; user?: FieldsJson; context?: FieldsJson } = {};
  for (const entity of ["agent", "user", "context"] as const) if (schema.entities.has(entity)) entities[entity] = fieldsJson(schema.entities.get(entity));
  const records: Record<string, FieldsJson> = {};
  for (const [name, shape] of schema.records) define(records, name, fieldsJson(shape));
  const enums: Record<string, readonly string[]> = {};
  for (const [name, info] of schema.enums) define(enums, name, info.members);
  const tools: Record<string, RuntimeSchema["tools"][string]> = {};
  for (const [name, tool] of schema.tools) define(tools, name, { risk: tool.risk, returns: tool.returns, args: fieldsJson(tool.args) });
  const intents: Record<string, RuntimeSchema["intents"][string]> = {};
  const toolNames = [...schema.tools.keys()];
  for (const [name, intent] of schema.intents) {
    const matches = toolNames.filter((t) => intent.tools.some((p) => toolsMatching(p, [t]).length > 0));
    define(intents, name, { tools: intent.tools, maxRisk: intent.maxRisk, matches });
  }
  return { entities, records, enums, tools, intents };
}
