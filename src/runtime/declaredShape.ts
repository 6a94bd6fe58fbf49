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
  if (!cache.types.has(key)) {
    const unfilled: UnfilledRecord[] = [];
    cache.types.set(key, build(schema, type, cache.records, unfilled));
    fillAll(schema, unfilled, cache.records);
  }
  return cache.types.get(key)!;
}

/** The shape of a tool's `args`: a record of its declared arguments. */
export function shapeOfFields(schema: RuntimeSchema, fields: FieldsJson): ValueShape {
  const shape: RecordShape = { fields: [] };
  fillAll(schema, [{ shape, fields }], cacheFor(schema).records);
  return shape;
}

/** A record's shape, registered (so recursive types end) but whose fields are still to be filled in. */
type UnfilledRecord = { readonly shape: RecordShape; readonly fields: FieldsJson };

function build(schema: RuntimeSchema, type: TypeJson, records: Map<string, RecordShape>, unfilled: UnfilledRecord[]): ValueShape | null {
  if (type === "time") return TIME_SHAPE;
  if (typeof type === "string" || "enum" in type) return null;
  if ("set" in type) return { set: build(schema, type.set, records, unfilled) };
  if ("list" in type) {
    const element = build(schema, type.list, records, unfilled);
    return element === null ? null : { list: element };
  }
  // A record, possibly recursive: registered now, its fields filled in by `fillAll`.
  const known = records.get(type.record);
  if (known !== undefined) return known;
  const shape: RecordShape = { fields: [] };
  records.set(type.record, shape);
  unfilled.push({ shape, fields: Object.hasOwn(schema.records, type.record) ? schema.records[type.record]! : {} });
  return shape;
}

/**
 * Fills in the fields of records, and of the records they name, from a work list rather than by
 * recursion: a chain of thousands of records, each holding the next, must not exhaust the stack.
 */
function fillAll(schema: RuntimeSchema, unfilled: UnfilledRecord[], records: Map<string, RecordShape>): void {
  for (let next = unfilled.pop(); next !== undefined; next = unfilled.pop()) {
    for (const name of Object.keys(next.fields).sort()) next.shape.fields.push([name, build(schema, next.fields[name]!.type, records, unfilled)]);
  }
}
