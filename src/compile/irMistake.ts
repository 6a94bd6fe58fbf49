import { FUNCTION_AT, type IrExpr } from "../runtime/ir.js";
import { memberStep } from "../runtime/valuePath.js";
import { describeKind } from "../runtime/schema.js";
import { quotedVisibly } from "../runtime/hiddenText.js";
import type { RuntimeSchema } from "../runtime/schema.js";
import { typeNameMistake } from "../bundle/typeNames.js";

/**
 * What one field of an IR node may hold: a closed set of words, a string, a boolean, a whole
 * number of milliseconds, strings, a declared type, a node, nodes. `optional`: the field may be
 * left out; `nullable`: it may be null.
 */
type FieldRule = { readonly is: "words"; readonly words: readonly string[] } | { readonly is: "string" | "boolean" | "true" | "ms" | "strings" | "type" | "node" | "nodes" | "const" };
type Field = FieldRule & { readonly optional?: true; readonly nullable?: true };

const node: Field = { is: "node" };
const nodes: Field = { is: "nodes" };
const string: Field = { is: "string" };
const strings: Field = { is: "strings" };
const boolean: Field = { is: "boolean" };
const words = (list: readonly string[], more: Partial<Field> = {}): Field => ({ is: "words", words: list, ...more }) as Field;
const optional = (field: Field): Field => ({ ...field, optional: true });
const shape = optional({ is: "type" });

/**
 * Every field of every IR operation the emitter reads, and what it may hold (runtime/ir.ts):
 * closed sets for operators and kinds, whole non-negative numbers for durations, strings only
 * where a name or pattern belongs. A node with a field not listed, or a value outside its rule,
 * is no IR this policyc compiles. Checked in full before a bundle's rules are compiled again
 * (verifyBundleCode): the emitter writes operators and numbers into code, and a bundle is input.
 */
const IR_FIELDS: { readonly [Op in IrExpr["op"]]: Readonly<Record<Exclude<keyof Extract<IrExpr, { op: Op }>, "op">, Field>> } = {
  const: { value: { is: "const" } },
  list: { items: nodes },
  root: { root: words(["agent", "user", "context", "args"]) },
  tool: {},
  toolRisk: {},
  intent: {},
  intentTools: {},
  intentMaxRisk: {},
  now: {},
  local: { name: string, unit: optional(words(["risk", "time", "duration"])) },
  get: { object: node, name: string, convert: words(["none", "risk", "time"]), each: optional({ is: "true" }), unit: optional(words(["duration"])) },
  has: { object: node, name: string },
  not: { operand: node },
  and: { terms: nodes },
  or: { terms: nodes },
  compare: { operator: words(["==", "!=", "<", "<=", ">", ">="]), left: node, right: node, deep: boolean, set: optional(boolean), shape },
  enumRank: { members: strings, value: node },
  in: { element: node, collection: node, deep: optional(boolean), shape },
  contains: { collection: node, element: node, string: boolean, deep: optional(boolean), shape },
  containsAny: { left: node, right: node, shape },
  containsAll: { left: node, right: node, shape },
  like: { subject: node, pattern: node },
  quantifier: { kind: words(["any", "all"]), variable: string, collection: node, body: node },
  session: { member: words(["calls", "denials", "labels", "tools", "repeats", "age", "last"]) },
  count: { tools: { is: "strings", nullable: true }, withinMs: { is: "ms" }, pattern: optional(string) },
  called: { tools: strings, withinMs: { is: "ms", nullable: true } },
  method: { name: words(["size", "startsWith", "endsWith", "lower"]), object: node, args: nodes, members: shape },
  call: { name: words(Object.keys(FUNCTION_AT)), arg: node },
  ipInRange: { subject: node, ranges: strings },
};

/** The simple types a declared type names (bundleSchema.ts `typeJson`). */
const SIMPLE_TYPES: ReadonlySet<string> = new Set(["bool", "int", "string", "duration", "time", "Risk"]);

/**
 * The first thing in `rules`' conditions (their `ir`) that no IR of this policyc holds, as
 * `` `rules[2].ir.left.operator` is "=== 1 || …", not one of ==, !=, … ``; undefined when every
 * node has only the fields of its operation, each holding what that field may (IR_FIELDS).
 * Walked without recursion: a bundle's nesting is its author's choice.
 */
export function irMistake(rules: readonly { readonly ir: unknown }[], schema: Pick<RuntimeSchema, "records" | "enums">): string | undefined {
  const pending: { value: unknown; path: string; type?: true }[] = rules.map((rule, index) => ({ value: rule.ir, path: `rules[${index}].ir` })).filter((item) => item.value !== null);
  while (pending.length > 0) {
    const { value, path, type } = pending.pop()!;
    const mistake = type ? typeMistake(value, path, pending, schema) : nodeMistake(value, path, pending);
    if (mistake !== undefined) return mistake;
  }
  return undefined;
}

function nodeMistake(value: unknown, path: string, pending: { value: unknown; path: string; type?: true }[]): string | undefined {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return `\`${path}\` is ${describeKind(value)}, not a condition (an object with an \`op\`)`;
  const op: unknown = (value as { op?: unknown }).op;
  if (typeof op !== "string" || !Object.hasOwn(IR_FIELDS, op)) return `\`${path}.op\` is ${shownValue(op)}, not an operation of this policyc`;
  const fields = IR_FIELDS[op as IrExpr["op"]] as Readonly<Record<string, Field>>;
  for (const name of Object.keys(value)) {
    if (name !== "op" && !Object.hasOwn(fields, name)) return `\`${path}\` (${op}) has ${shownValue(name)}, which no \`${op}\` of this policyc has`;
  }
  for (const [name, field] of Object.entries(fields)) {
    const at = `${path}${memberStep(name, false)}`;
    const present = Object.hasOwn(value, name);
    const held: unknown = present ? (value as Record<string, unknown>)[name] : undefined;
    if (!present) {
      if (field.optional) continue;
      return `\`${path}\` (${op}) lacks \`${name}\``;
    }
    if (held === null && field.nullable) continue;
    const mistake = fieldMistake(held, field, at, pending);
    if (mistake !== undefined) return mistake;
  }
  return undefined;
}

function fieldMistake(held: unknown, field: Field, at: string, pending: { value: unknown; path: string; type?: true }[]): string | undefined {
  switch (field.is) {
    case "words":
      return typeof held === "string" && field.words.includes(held) ? undefined : `\`${at}\` is ${shownValue(held)}, not one of ${field.words.join(", ")}`;
    case "string":
      return typeof held === "string" ? undefined : `\`${at}\` is ${describeKind(held)}, not a string`;
    case "boolean":
      return typeof held === "boolean" ? undefined : `\`${at}\` is ${shownValue(held)}, not true or false`;
    case "true":
      return held === true ? undefined : `\`${at}\` is ${shownValue(held)}, not true`;
    case "ms":
      return typeof held === "number" && Number.isSafeInteger(held) && held >= 0 ? undefined : `\`${at}\` is ${shownValue(held)}, not a whole number of milliseconds (0 or more)`;
    case "const":
      return typeof held === "boolean" || typeof held === "string" || (typeof held === "number" && Number.isFinite(held)) ? undefined : `\`${at}\` is ${shownValue(held)}, not a constant (true, false, a number or a string)`;
    case "strings":
      return Array.isArray(held) && Array.from(held as unknown[]).every((item) => typeof item === "string") ? undefined : `\`${at}\` is ${describeKind(held)}, not a list of strings`;
    case "node":
      pending.push({ value: held, path: at });
      return undefined;
    case "nodes":
      if (!Array.isArray(held)) return `\`${at}\` is ${describeKind(held)}, not a list of conditions`;
      Array.from(held as unknown[]).forEach((item, index) => pending.push({ value: item, path: `${at}[${index}]` }));
      return undefined;
    case "type":
      pending.push({ value: held, path: at, type: true });
      return undefined;
  }
}

/** A declared type as the bundle's schema writes one: a simple type's name, or `{set|list: T}`, `{enum|record: name}` naming one `schema` declares. */
function typeMistake(value: unknown, path: string, pending: { value: unknown; path: string; type?: true }[], schema: Pick<RuntimeSchema, "records" | "enums">): string | undefined {
  if (typeof value === "string") return SIMPLE_TYPES.has(value) ? undefined : `\`${path}\` is ${shownValue(value)}, not a type of this policyc`;
  const keys = value !== null && typeof value === "object" && !Array.isArray(value) ? Object.keys(value) : [];
  const [key] = keys;
  if (keys.length !== 1 || !["set", "list", "enum", "record"].includes(key!)) return `\`${path}\` is ${describeKind(value)}, not a declared type`;
  const inner: unknown = (value as Record<string, unknown>)[key!];
  if (key === "set" || key === "list") {
    pending.push({ value: inner, path: `${path}.${key}`, type: true });
    return undefined;
  }
  if (typeof inner !== "string") return `\`${path}.${key}\` is ${describeKind(inner)}, not a name`;
  return typeNameMistake(value, path, schema);
}

/** A value of the bundle's as a message shows it: short, quoted, on one line. */
function shownValue(value: unknown): string {
  if (typeof value === "string") {
    return quotedVisibly(value.length > 60 ? `${value.slice(0, 60)}…` : value);
  }
  return typeof value === "number" || typeof value === "boolean" || value === null ? String(value) : describeKind(value);
}
