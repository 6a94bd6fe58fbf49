import type { RuntimeSchema } from "../runtime/schema.js";
import { quotedVisibly } from "../runtime/hiddenText.js";
import { memberStep } from "../runtime/valuePath.js";

/**
 * When `type` (a declared type of a bundle's, at `path`, already of the bundle schema's shape)
 * names, as `{record: N}` or `{enum: N}`, at any depth of sets and lists, a record or enum
 * `schema` does not declare, what is wrong, as `` `PATH.record` is "Repo", which is no record
 * the bundle's schema declares ``; else undefined. Own names only (`Object.hasOwn`): the
 * runtime and the emitter look names up in `schema.records` and `schema.enums`, where
 * `__proto__`, `constructor` or `toString` would find what every object inherits.
 */
export function typeNameMistake(type: unknown, path: string, schema: Pick<RuntimeSchema, "records" | "enums">): string | undefined {
  let at = path;
  for (let inner: unknown = type; inner !== null && typeof inner === "object"; ) {
    const held = inner as Record<string, unknown>;
    if (Object.hasOwn(held, "set") || Object.hasOwn(held, "list")) {
      const key = Object.hasOwn(held, "set") ? "set" : "list";
      at = `${at}.${key}`;
      inner = held[key];
      continue;
    }
    for (const [key, declared, what] of [["record", schema.records, "record"], ["enum", schema.enums, "enum"]] as const) {
      if (!Object.hasOwn(held, key)) continue;
      const name = held[key];
      if (typeof name === "string" && !Object.hasOwn(declared, name)) return `\`${at}.${key}\` is ${quotedVisibly(name.length > 60 ? `${name.slice(0, 60)}…` : name)}, which is no ${what} the bundle's schema declares`;
    }
    return undefined;
  }
  return undefined;
}

/**
 * The first declared type in a bundle's schema (its entities', records' and tools' arguments'
 * fields) that names a record or enum the schema does not declare (typeNameMistake), or undefined.
 * For a schema the bundle schema's check passed.
 */
export function schemaTypeNameMistake(schema: RuntimeSchema): string | undefined {
  const groups: [string, Readonly<Record<string, { readonly type: unknown }>> | undefined][] = [
    ...Object.entries(schema.entities).map(([name, fields]): [string, typeof fields] => [`schema.entities${memberStep(name, false)}`, fields]),
    ...Object.entries(schema.records).map(([name, fields]): [string, typeof fields] => [`schema.records${memberStep(name, false)}`, fields]),
    ...Object.entries(schema.tools).map(([name, tool]): [string, typeof tool.args] => [`schema.tools${memberStep(name, false)}.args`, tool.args]),
  ];
  for (const [path, fields] of groups) {
    for (const [name, field] of Object.entries(fields ?? {})) {
      const mistake = typeNameMistake(field.type, `${path}${memberStep(name, false)}.type`, schema);
      if (mistake !== undefined) return mistake;
    }
  }
  return undefined;
}
