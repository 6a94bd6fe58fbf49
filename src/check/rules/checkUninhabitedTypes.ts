import type * as A from "../../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import type { FieldInfo, RecordShape, Schema } from "../schema.js";
import type { Type } from "../types.js";

/**
 * Types no request can give a value of (PC215): an enum without members, and a record that
 * needs another of itself through required attributes (`type N { next: N }`), which no finite
 * request holds. A request must carry every required attribute, so one that needs such a value
 * is always denied. Reported at the declaration that causes it: a record that only has no
 * value because it holds such a type is not reported too.
 */
export function checkUninhabitedTypes(schema: Schema, files: readonly A.PolicyFile[], typeUses: ReadonlySet<string>, diagnostics: Diagnostic[]): void {
  const roots = requiredRoots(schema);

  // An unused empty enum is already PC502; one in use is a type no value has.
  for (const info of schema.enums.values()) {
    if (info.members.length > 0 || !typeUses.has(info.name)) continue;
    const use = firstRequiredUse(info.name, roots, schema);
    const consequence = use ? `${use}; ` : "";
    diagnostics.push(diagnostic("PC215", `enum \`${info.name}\` has no members, so no value has this type`, info.decl.name.span, `${consequence}declare its members, as in \`enum ${info.name} { a, b }\``));
  }

  const declSpans = new Map<string, A.TypeDecl>();
  for (const file of files) for (const decl of file.declarations) if (decl.kind === "TypeDecl" && !declSpans.has(decl.name.name)) declSpans.set(decl.name.name, decl);

  const reported = new Set<string>();
  const reachable = recordsRequestsCanHold(schema);
  const knots = knotsOfRequiredRecords(schema);
  for (const [name] of schema.records) {
    // A record no entity or tool argument can hold is unused (PC502), however it is declared.
    if (reported.has(name) || !reachable.has(name)) continue;
    const knot = knots.get(name);
    if (!knot) continue;
    const cycle = requiredCycle(name, knot, schema);
    if (!cycle) continue;
    // One report per knot of records that need each other (A needs B, B needs A): the
    // others have no value for the same reason. Should a second cycle remain in the knot once
    // this one is cut, the next check reports it.
    for (const other of knot) reported.add(other);
    const decl = declSpans.get(name);
    if (!decl) continue;
    const path = cycle.length === 1 ? `its required \`${cycle[0]!.field}\` is ${article(name)} \`${name}\` again` : `its required attributes lead back to it: ${stepsText(cycle)} → \`${name}\``;
    const use = firstRequiredUse(name, roots, schema);
    const first = cycle[0]!;
    const fix = `make ${cycle.length === 1 ? `\`${first.field}\`` : "one of these attributes"} optional (\`${first.field}?: ${first.target}\`) or a list (\`${first.field}: list<${first.target}>\`)`;
    diagnostics.push(diagnostic("PC215", `record type \`${name}\` has no possible value: ${path}, without end`, decl.name.span, use ? `${use}; ${fix}` : fix));
  }
}

interface Step {
  readonly record: string;
  readonly field: string;
  /** The record type the field holds. */
  readonly target: string;
}

/** The record types `record`'s required attributes hold (not through a list or a set), in order. */
function requiredSteps(record: string, schema: Schema): Step[] {
  const steps: Step[] = [];
  for (const field of schema.records.get(record)?.fields.values() ?? []) {
    if (field.optional || field.type.kind !== "record") continue;
    steps.push({ record, field: field.name, target: field.type.name });
  }
  return steps;
}

/**
 * The records on a cycle of required record-typed attributes, each to its knot: the records
 * that need each other (a strongly connected component of more than one record, or one that
 * needs itself). Found once for the schema by Tarjan's algorithm, iteratively, so a chain of
 * thousands of records checks in linear time without a stack frame per record (searching
 * from each record was cubic: 68 s for a chain of 3,000).
 */
function knotsOfRequiredRecords(schema: Schema): Map<string, ReadonlySet<string>> {
  const knots = new Map<string, ReadonlySet<string>>();
  const order = new Map<string, number>();
  const lowest = new Map<string, number>();
  const onStack = new Set<string>();
  const stack: string[] = [];
  for (const [root] of schema.records) {
    if (order.has(root)) continue;
    const frames: { record: string; steps: Step[]; next: number }[] = [];
    const enter = (record: string): void => {
      order.set(record, order.size);
      lowest.set(record, order.get(record)!);
      stack.push(record);
      onStack.add(record);
      frames.push({ record, steps: requiredSteps(record, schema), next: 0 });
    };
    enter(root);
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      if (frame.next < frame.steps.length) {
        const target = frame.steps[frame.next++]!.target;
        if (!schema.records.has(target)) continue;
        if (!order.has(target)) enter(target);
        else if (onStack.has(target)) lowest.set(frame.record, Math.min(lowest.get(frame.record)!, order.get(target)!));
        continue;
      }
      frames.pop();
      const parent = frames[frames.length - 1];
      if (parent) lowest.set(parent.record, Math.min(lowest.get(parent.record)!, lowest.get(frame.record)!));
      if (lowest.get(frame.record) !== order.get(frame.record)) continue;
      const knot = new Set<string>();
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        knot.add(member);
      } while (member !== frame.record);
      if (knot.size > 1 || frame.steps.some((step) => step.target === frame.record)) for (const record of knot) knots.set(record, knot);
    }
  }
  return knots;
}

/**
 * A path of required record-typed attributes from `start` back to itself, if there is one: the
 * first a depth-first search in declaration order finds. Any such path stays within `start`'s
 * knot, so the search does not leave it; it keeps its path on a stack of steps, not in copies.
 */
function requiredCycle(start: string, knot: ReadonlySet<string>, schema: Schema): Step[] | undefined {
  const visited = new Set<string>();
  const frames: { steps: Step[]; next: number }[] = [{ steps: requiredSteps(start, schema), next: 0 }];
  const path: Step[] = [];
  while (frames.length > 0) {
    const frame = frames[frames.length - 1]!;
    if (frame.next >= frame.steps.length) {
      frames.pop();
      path.pop();
      continue;
    }
    const step = frame.steps[frame.next++]!;
    if (step.target === start) return [...path, step];
    if (visited.has(step.target) || !knot.has(step.target)) continue;
    visited.add(step.target);
    path.push(step);
    frames.push({ steps: requiredSteps(step.target, schema), next: 0 });
  }
  return undefined;
}

/** The records an entity or a tool's arguments can hold, through any attributes and collections. */
export function recordsRequestsCanHold(schema: Schema): Set<string> {
  const reached = new Set<string>();
  // A worklist, not recursion: a chain of 10,000 records is 10,000 levels deep.
  const pending: (RecordShape | undefined)[] = [...schema.entities.values(), ...[...schema.tools.values()].map((info) => info.args)];
  while (pending.length > 0) {
    for (const field of pending.pop()?.fields.values() ?? []) {
      let type = field.type;
      while (type.kind === "set" || type.kind === "list") type = type.element;
      if (type.kind !== "record" || reached.has(type.name)) continue;
      reached.add(type.name);
      pending.push(schema.records.get(type.name));
    }
  }
  return reached;
}

/** What every request (the entities) or every call of a tool (its arguments) must carry. */
function requiredRoots(schema: Schema): { label: (path: string) => string; prefix: string; shape: RecordShape }[] {
  const roots: { label: (path: string) => string; prefix: string; shape: RecordShape }[] = [];
  // A request may leave `user` out (section 7 of the language reference); `agent` and `context` it must carry.
  for (const [entity, shape] of schema.entities) roots.push({ prefix: entity, shape, label: (path) => `\`${path}\` needs one, so every request${entity === "user" ? " that names a user" : ""} is denied` });
  for (const [tool, info] of schema.tools) roots.push({ prefix: "args", shape: info.args, label: (path) => `\`${path}\` of \`${tool}\` needs one, so every call of \`${tool}\` is denied` });
  return roots;
}

/** Where a request must hold a value of the type `name` (through required, non-collection attributes), described. */
function firstRequiredUse(name: string, roots: ReturnType<typeof requiredRoots>, schema: Schema): string | undefined {
  for (const root of roots) {
    const visited = new Set<string>();
    // Depth first in declaration order, on a stack of its own (a chain of records can be
    // thousands deep): the first path found is the one described.
    const frames: { fields: FieldInfo[]; next: number; path: string }[] = [{ fields: [...root.shape.fields.values()], next: 0, path: root.prefix }];
    while (frames.length > 0) {
      const frame = frames[frames.length - 1]!;
      if (frame.next >= frame.fields.length) {
        frames.pop();
        continue;
      }
      const field = frame.fields[frame.next++]!;
      if (field.optional) continue;
      const fieldPath = `${frame.path}.${field.name}`;
      if (holds(field.type, name)) return root.label(fieldPath);
      if (field.type.kind !== "record" || visited.has(field.type.name)) continue;
      visited.add(field.type.name);
      const inner = schema.records.get(field.type.name);
      if (inner) frames.push({ fields: [...inner.fields.values()], next: 0, path: fieldPath });
    }
  }
  return undefined;
}

function holds(type: Type, name: string): boolean {
  return (type.kind === "enum" || type.kind === "record") && type.name === name;
}

/** `\`A.b\` → \`B.a\``, of a long cycle (a generated schema's ring of thousands) its first 10 steps and its last. */
function stepsText(cycle: readonly Step[]): string {
  const shown = (steps: readonly Step[]): string => steps.map((s) => `\`${s.record}.${s.field}\``).join(" → ");
  if (cycle.length <= 12) return shown(cycle);
  return `${shown(cycle.slice(0, 10))} → … (${(cycle.length - 11).toLocaleString("en-US")} more) → ${shown(cycle.slice(-1))}`;
}

function article(name: string): string {
  return /^[aeiou]/i.test(name) ? "an" : "a";
}
