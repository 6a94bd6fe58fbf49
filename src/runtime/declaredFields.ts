import type { FieldsJson, RuntimeSchema, TypeJson } from "./schema.js";
import { MAX_NESTING, MAX_VALIDATED_VALUES } from "./schema.js";
import { memberStep } from "./valuePath.js";

/**
 * A tool's arguments as the policy saw them: `args` holds the declared ones only, `undeclared`
 * the paths of those left out (`bcc`, `to[0].note`: names, never values, which may be secret).
 */
export interface DeclaredArguments {
  readonly args: Record<string, unknown>;
  readonly undeclared: readonly string[];
}

/**
 * The copy of `value` (of the declared `fields`) that holds only what the schema declares, and
 * the paths of what it left out, or undefined when the value is too big or too deep to walk
 * (past MAX_VALIDATED_VALUES values or MAX_NESTING levels: the engine refuses such a request
 * as invalid, so an enforcement point never has one that was allowed).
 *
 * "Declared", nested: a record's declared fields, walked by their types; every list or set a
 * fresh array of its members, each walked by its type (a record's as its record); anything else
 * (a string, an int…) as it is. So the copy shares no object or array with `value`: a caller
 * that decides on the copy and hands the tool that same copy knows the tool gets what was
 * decided. A value not of its declared shape (an array where a record is declared) is kept as
 * it is: the engine refuses such a request, so only requests nobody allowed hold one.
 */
export function declaredOnly(schema: RuntimeSchema, fields: FieldsJson, value: Record<string, unknown>, path: string): { readonly value: Record<string, unknown>; readonly undeclared: string[] } | undefined {
  const undeclared: string[] = [];
  const walk = { schema, undeclared, visited: 0 };
  const copied = copyRecord(walk, fields, value, path, 0);
  return copied === TOO_BIG ? undefined : { value: copied, undeclared };
}

const TOO_BIG = Symbol("too big");

interface Walk {
  readonly schema: RuntimeSchema;
  readonly undeclared: string[];
  visited: number;
}

// Recursion is bounded by MAX_NESTING (the stack holds 512 frames of these with room to spare),
// and the work by MAX_VALIDATED_VALUES, counted as the engine's validation counts it (schema.ts
// forFields and forType, compile/emitValidation.ts): each list's members, and each record below
// the top one (an object shared between fields counts once per path). Counted any other way, a
// request the engine allows could have no copy, or one it refuses a copy.
function copyRecord(walk: Walk, fields: FieldsJson, value: Record<string, unknown>, path: string, depth: number): Record<string, unknown> | typeof TOO_BIG {
  if (depth > MAX_NESTING || (depth > 0 && ++walk.visited > MAX_VALIDATED_VALUES)) return TOO_BIG;
  const entries: [string, unknown][] = [];
  for (const name of Object.keys(value)) {
    const step = `${path}${memberStep(name, path === "")}`;
    if (!Object.hasOwn(fields, name)) {
      walk.undeclared.push(step);
      continue;
    }
    const copied = copyValue(walk, fields[name]!.type, value[name], step, depth + 1);
    if (copied === TOO_BIG) return TOO_BIG;
    entries.push([name, copied]);
  }
  // fromEntries defines own properties: a declared name never reaches a prototype's setter.
  return Object.fromEntries(entries);
}

function copyValue(walk: Walk, type: TypeJson, value: unknown, path: string, depth: number): unknown {
  if (typeof type === "string" || "enum" in type) return value;
  if ("record" in type) {
    const fields = Object.hasOwn(walk.schema.records, type.record) ? walk.schema.records[type.record]! : undefined;
    if (fields === undefined || typeof value !== "object" || value === null || Array.isArray(value)) return value;
    return copyRecord(walk, fields, value as Record<string, unknown>, path, depth);
  }
  const element = "set" in type ? type.set : type.list;
  if (!Array.isArray(value)) return value;
  if (depth > MAX_NESTING || (walk.visited += value.length) > MAX_VALIDATED_VALUES) return TOO_BIG;
  // A fresh array even of strings: the caller's own array, handed to the tool, could change
  // after the decision (audit s22 g2 #3).
  const copy: unknown[] = [];
  for (const [index, item] of value.entries()) {
    const copied = copyValue(walk, element, item, `${path}[${index}]`, depth + 1);
    if (copied === TOO_BIG) return TOO_BIG;
    copy.push(copied);
  }
  return copy;
}

/**
 * The paths of the undeclared fields a request's `agent`, `user`, `context` and `args` carry
 * (`args.bcc`, `context.trace_id`, `agent.home.note`), which no rule saw: for people, so names
 * only. A field the schema does not declare at all (a `user` when the set declares none) is one
 * path; a tool the schema does not declare has no declared arguments to tell from the others,
 * and so does a field that is not an object: neither is listed (the engine refuses both).
 * Walks what it can: a request too big or deep to walk lists what was found before it stopped.
 */
export function undeclaredFieldsOf(schema: RuntimeSchema, request: unknown): string[] {
  if (typeof request !== "object" || request === null || Array.isArray(request)) return [];
  const fields = request as Record<string, unknown>;
  const found: string[] = [];
  const tool = typeof fields["tool"] === "string" && Object.hasOwn(schema.tools, fields["tool"]) ? schema.tools[fields["tool"]]! : undefined;
  const declared: [string, FieldsJson | undefined][] = [["agent", schema.entities.agent], ["user", schema.entities.user], ["context", schema.entities.context], ["args", tool?.args]];
  for (const [name, declaration] of declared) {
    const value = Object.hasOwn(fields, name) ? fields[name] : undefined;
    if (typeof value !== "object" || value === null || Array.isArray(value)) continue;
    if (declaration === undefined) {
      // No tool to read `args` by is no extra field: the request is refused for its tool.
      if (name !== "args") found.push(name);
      continue;
    }
    // The walk pushes into `found` itself: a spread of its list (`found.push(...list)`) throws a
    // RangeError past about 125,000 names, and the request would list none.
    copyRecord({ schema, undeclared: found, visited: 0 }, declaration, value as Record<string, unknown>, name, 0);
  }
  return found;
}
