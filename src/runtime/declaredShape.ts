import type { FieldsJson, RuntimeSchema, TypeJson } from "./schema.js";

/**
 * How values of a declared type compare, as the language defines it: records by their declared
 * fields only (undeclared extra fields are ignored, as everywhere else: a request cannot change
 * an equality, a membership or `session.repeats` by adding one), sets ignoring order and repeats,
 * lists in order, times by the instant they name (`…T09:00:00Z` is `…T10:00:00+01:00`). null: any
 * other scalar (or a list of them), compared as it is.
 */
export type ValueShape =
  | { readonly time: true }
  | { readonly set: ValueShape | null }
  | { readonly list: ValueShape }
  /** The declared fields, sorted by name (canonical keys list them in this order). */
  | { readonly fields: readonly (readonly [string, ValueShape | null])[] };

const TIME_SHAPE: ValueShape = { time: true };

type RecordShape = { fields: (readonly [string, ValueShape | null])[] };

/** Shapes per schema, by type text: the generated code asks for each once, when it loads. */
const shapesBySchema = new WeakMap<RuntimeSchema, { readonly records: Map<string, RecordShape>; readonly types: Map<string, ValueShape | null> }>();

function cacheFor(schema: RuntimeSchema): { readonly records: Map<string, RecordShape>; readonly types: Map<string, ValueShape | null> } {
  let cache = shapesBySchema.get(schema);
  if (cache === undefined) {
    cache = { records: new Map(), types: new Map() };
    shapesBySchema.set(schema, cache);
  }
  return cache;
}

/** The shape of values of `type` (a type as the bundle spells it). */
export function shapeOfType(schema: RuntimeSchema, type: TypeJson): ValueShape | null {
  const cache = cacheFor(schema);
  const key = JSON.stringify(type);
  if (!cache.types.has(key)) cache.types.set(key, build(schema, type, cache.records));
  return cache.types.get(key)!;
}

/** The shape of a tool's `args`: a record of its declared arguments. */
export function shapeOfFields(schema: RuntimeSchema, fields: FieldsJson): ValueShape {
  const shape: RecordShape = { fields: [] };
  fill(schema, shape, fields, cacheFor(schema).records);
  return shape;
}

function build(schema: RuntimeSchema, type: TypeJson, records: Map<string, RecordShape>): ValueShape | null {
  if (type === "time") return TIME_SHAPE;
  if (typeof type === "string" || "enum" in type) return null;
  if ("set" in type) return { set: build(schema, type.set, records) };
  if ("list" in type) {
    const element = build(schema, type.list, records);
    return element === null ? null : { list: element };
  }
  // A record, possibly recursive: registered before its fields are filled in.
  const known = records.get(type.record);
  if (known !== undefined) return known;
  const shape: RecordShape = { fields: [] };
  records.set(type.record, shape);
  fill(schema, shape, Object.hasOwn(schema.records, type.record) ? schema.records[type.record]! : {}, records);
  return shape;
}

function fill(schema: RuntimeSchema, into: RecordShape, fields: FieldsJson, records: Map<string, RecordShape>): void {
  for (const name of Object.keys(fields).sort()) into.fields.push([name, build(schema, fields[name]!.type, records)]);
}
