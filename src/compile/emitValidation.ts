import { MAX_NESTING, MAX_VALIDATED_VALUES, type FieldsJson, type RuntimeSchema, type TypeJson } from "../runtime/schema.js";

/**
 * Emits straight-line request checks: per tool, one function that says whether a request fits
 * the declared schema (agent, context, user when present, intent, that tool's args). It only
 * answers yes or no; on a no the engine asks the schema's interpreted validator for the message
 * naming the field, so the message code is written once and the hot path stays a chain of
 * `typeof` tests.
 */
export class ValidationEmitter {
  readonly functions: string[] = [];
  private readonly byType = new Map<string, string>();

  constructor(private readonly schema: RuntimeSchema) {}

  /**
   * A JS expression that is true when `value` has the type; `depth` (a JS expression) is how many
   * lists and records `value` is nested in, for the MAX_NESTING bound of lists and records.
   */
  check(type: TypeJson, value: string, depth: string): string {
    if (typeof type === "string") {
      switch (type) {
        case "bool":
          return `typeof ${value} === "boolean"`;
        case "int":
          return `Number.isSafeInteger(${value})`;
        case "string":
          return `typeof ${value} === "string"`;
        case "duration":
          // Whole milliseconds, as exact as an int: a fraction or a count past 2^53 would be
          // compared (`==`, `session.repeats`) as the enforcement point may not have rounded it.
          return `(Number.isSafeInteger(${value}) && ${value} >= 0)`;
        case "time":
          return `!Number.isNaN(rt.parseTime(${value}))`;
        case "Risk":
          return `(typeof ${value} === "string" && Object.hasOwn(rt.RISK_RANK, ${value}))`;
      }
    }
    return `${this.functionFor(type)}(${value}, ${depth})`;
  }

  /** A named function for a composite type, emitted once per distinct type. */
  private functionFor(type: TypeJson): string {
    const key = JSON.stringify(type);
    const existing = this.byType.get(key);
    if (existing) return existing;
    const name = `y${this.byType.size}`;
    this.byType.set(key, name);
    if (typeof type === "string") throw new Error("scalar types are checked inline");
    if ("set" in type || "list" in type) {
      const element = "set" in type ? type.set : type.list;
      // Each list adds its members to the request's count (`valuesSeen`, MAX_VALIDATED_VALUES).
      this.functions.push(`function ${name}(v, d) {\n  if (d > ${MAX_NESTING} || !Array.isArray(v) || (valuesSeen += v.length) > ${MAX_VALIDATED_VALUES}) return false;\n  for (let i = 0; i < v.length; i++) if (!(${this.check(element, "v[i]", "d + 1")})) return false;\n  return true;\n}`);
    } else if ("enum" in type) {
      this.functions.push(`const ${name}_members = new Set(${JSON.stringify(this.schema.enums[type.enum] ?? [])});\nfunction ${name}(v) { return typeof v === "string" && ${name}_members.has(v); }`);
    } else {
      // Records may be recursive: the function is named before its body refers to it. Bodies
      // are written from a work list, not by recursion: a chain of thousands of records, each
      // holding the next (`type R0 { x?: R1 }` …), would otherwise nest one call per record
      // and exhaust the stack (finding 3 of the s19 robustness audit).
      this.pendingRecords.push({ name, record: type.record });
      this.writePendingRecords();
    }
    return name;
  }

  /**
   * Records named (see `functionFor`) whose functions are not written yet. They are written first
   * in, first out: in the order the checks reach them (the entities, then each tool's args, each
   * record's fields in the order they are declared), so the code is the same for the same
   * sources, however the files are named or the types ordered among the declarations.
   */
  private readonly pendingRecords: { name: string; record: string }[] = [];
  private writingRecords = false;
  private writePendingRecords(): void {
    if (this.writingRecords) return;
    this.writingRecords = true;
    try {
      for (let next = this.pendingRecords.shift(); next !== undefined; next = this.pendingRecords.shift()) {
        this.functions.push(`function ${next.name}(v, d) { return d <= ${MAX_NESTING} && ++valuesSeen <= ${MAX_VALIDATED_VALUES} && ${this.fields(this.schema.records[next.record] ?? {}, "v", "d + 1")}; }`);
      }
    } finally {
      this.writingRecords = false;
    }
  }

  /** A JS expression that is true when `object` is an object with these fields (nested in `depth` - 1 lists and records). */
  fields(fields: FieldsJson, object: string, depth = "1"): string {
    const parts = [`${object} !== null`, `typeof ${object} === "object"`, `!Array.isArray(${object})`];
    for (const [name, field] of Object.entries(fields)) {
      const read = `${object}[${JSON.stringify(name)}]`;
      // Own properties only, but `Object.hasOwn` is needed just for names an object inherits
      // (`constructor`, `__proto__`…): for any other name a read finds nothing but the own value.
      const inherited = name in Object.prototype;
      const present = inherited ? `(Object.hasOwn(${object}, ${JSON.stringify(name)}) && ${read} != null)` : `(${read} != null)`;
      // Every type check rejects null and undefined, so a required field needs no presence test
      // of its own (but for an inherited name, whose read would find the prototype's value).
      if (field.optional) parts.push(`(!${present} || ${this.check(field.type, read, depth)})`);
      else parts.push(inherited ? `${present} && ${this.check(field.type, read, depth)}` : this.check(field.type, read, depth));
    }
    return parts.join(" && ");
  }

  /**
   * The per-tool request check, as a function named `name`: the checks every tool shares (one
   * function for all tools) and the tool's args (one function per distinct args declaration,
   * so tools declared alike share their code).
   */
  requestCheck(name: string, tool: string): string {
    const args = this.schema.tools[tool]!.args;
    const required = Object.values(args).some((f) => !f.optional);
    return `function ${name}(r) {\n  valuesSeen = 0;\n  return ${this.commonCheck()}(r) && (r.args == null ? ${!required} : ${this.argsFunction(args)}(r.args));\n}`;
  }

  private common: string | undefined;
  /** The checks of agent, context, user and intent, which do not depend on the tool. */
  private commonCheck(): string {
    if (this.common) return this.common;
    const { entities, intents } = this.schema;
    const parts: string[] = [];
    if (entities.agent) parts.push(`(${this.entity("agent", entities.agent)})(r.agent)`);
    if (entities.context) parts.push(`(${this.entity("context", entities.context)})(r.context)`);
    if (entities.user) parts.push(`(r.user == null || ${this.entity("user", entities.user)}(r.user))`);
    parts.push(Object.keys(intents).length > 0 ? `(r.intent == null || (typeof r.intent === "string" && INTENTS.has(r.intent)))` : "r.intent == null");
    this.common = "requestFits";
    // Values the request's checks have visited (MAX_VALIDATED_VALUES): each request check
    // (q<N>) starts it at 0. The checks are synchronous, so one counter serves every call.
    this.functions.push("let valuesSeen = 0;");
    this.functions.push(`function requestFits(r) {\n  return ${parts.join("\n    && ")};\n}`);
    return this.common;
  }

  private readonly sameByArgs = new Map<string, string>();
  /**
   * A function saying whether a validated call's args equal the previous call's, for
   * `session.repeats`. It first compares the required scalar arguments, which the validated
   * call is known to have: one differing (the usual case) settles it without walking both
   * objects; when all agree, the comparison by the args' declared shape (which the engine
   * passes: undeclared arguments ignored, sets as sets) decides.
   */
  sameArgsFunction(tool: string): string {
    const args = this.schema.tools[tool]!.args;
    const key = JSON.stringify(args);
    const existing = this.sameByArgs.get(key);
    if (existing) return existing;
    const name = `sameArgs${this.sameByArgs.size}`;
    this.sameByArgs.set(key, name);
    // (Not times: two spellings of one instant are the same argument, which the shape compares.)
    const scalars = Object.entries(args).filter(([, field]) => !field.optional && field.type !== "time" && (typeof field.type === "string" || "enum" in field.type));
    const quick = scalars.map(([field]) => `p[${JSON.stringify(field)}] === a[${JSON.stringify(field)}]`);
    this.functions.push(`function ${name}(p, a, shape) { return p !== null && typeof p === "object"${quick.map((q) => ` && ${q}`).join("")} && rt.sameArguments(p, a, shape); }`);
    return name;
  }

  private entityNames = new Map<string, string>();
  private entity(entity: string, fields: FieldsJson): string {
    let name = this.entityNames.get(entity);
    if (!name) {
      name = `${entity}Fits`;
      this.entityNames.set(entity, name);
      this.functions.push(`function ${name}(v) { return ${this.fields(fields, "v")}; }`);
    }
    return name;
  }

  private readonly argsByDeclaration = new Map<string, string>();
  private argsFunction(args: FieldsJson): string {
    const key = JSON.stringify(args);
    const existing = this.argsByDeclaration.get(key);
    if (existing) return existing;
    const name = `argsFit${this.argsByDeclaration.size}`;
    this.argsByDeclaration.set(key, name);
    this.functions.push(`function ${name}(v) { return ${this.fields(args, "v")}; }`);
    return name;
  }
}
