import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { compileSources } from "../../src/compile/compile.js";
import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import { loadBundle } from "../../src/bundle/loadBundle.js";
import { Engine } from "../../src/runtime/engine.js";
import { explain } from "../../src/runtime/explain.js";

/**
 * Typed differential fuzzing: random well-typed conditions over declarations that use every
 * type of the language (bool, int, string, duration, time, Risk, enums, records with optional
 * and nested fields, sets and lists of each, nested lists), decided by the compiled code, by
 * the interpreter (`explain`), by an engine loaded from a bundle, and by a small reference
 * evaluator written here from language.md alone. The random-expression fuzzers before this
 * one never produced a `set<Risk>` or a `list<time>`, so a bug that made every comparison with
 * their members false went unseen while the compiled code and the interpreter agreed.
 *
 * The reference covers the pure part of the language (the session is always fresh: each
 * request has its own session id) and answers true, false or "error" for the condition; a
 * request that the engine refuses as invalid is a bug of the request generator.
 */


// ── Types ───────────────────────────────────────────────────────────────────────────────────

type Ty =
  | { kind: "bool" | "int" | "string" | "duration" | "time" | "risk" | "tool" }
  | { kind: "enum"; name: string }
  | { kind: "record"; name: string }
  | { kind: "set" | "list"; of: Ty };

interface Field {
  name: string;
  type: Ty;
  optional: boolean;
}

const BOOL: Ty = { kind: "bool" };
const INT: Ty = { kind: "int" };
const STRING: Ty = { kind: "string" };
const DURATION: Ty = { kind: "duration" };
const TIME: Ty = { kind: "time" };
const RISK: Ty = { kind: "risk" };
const TOOL: Ty = { kind: "tool" };
const ZONE: Ty = { kind: "enum", name: "Zone" };
const LABEL: Ty = { kind: "enum", name: "Label" };
const WINDOW: Ty = { kind: "record", name: "Window" };
const HOP: Ty = { kind: "record", name: "Hop" };
const set = (of: Ty): Ty => ({ kind: "set", of });
const list = (of: Ty): Ty => ({ kind: "list", of });

function fields(text: string, types: Record<string, Ty>): Field[] {
  return text.split(",").map((f) => {
    const [raw, typeName] = f.split(":").map((s) => s.trim()) as [string, string];
    return { name: raw.replace("?", ""), optional: raw.endsWith("?"), type: types[typeName]! };
  });
}
const T: Record<string, Ty> = {
  bool: BOOL, int: INT, string: STRING, duration: DURATION, time: TIME, Risk: RISK, Zone: ZONE, Window: WINDOW, Hop: HOP,
  "set<time>": set(TIME), "list<string>": list(STRING), "list<Hop>": list(HOP), "set<string>": set(STRING), "set<Label>": set(LABEL),
  "set<Risk>": set(RISK), "list<list<Risk>>": list(list(RISK)), "list<time>": list(TIME), "list<list<time>>": list(list(TIME)),
  "set<Zone>": set(ZONE), "list<Window>": list(WINDOW), "list<int>": list(INT), "set<duration>": set(DURATION), "list<bool>": list(BOOL), "set<Hop>": set(HOP),
};
/** The declared attributes, as written in the declarations and as the generators read them. */
const RECORD_TEXT: Record<string, string> = {
  Window: "start: time, days: set<time>, level?: Risk",
  Hop: "host: string, zone: Zone, at: time, risk: Risk, window: Window, note?: string, back?: Window",
};
const ENTITY_TEXT: Record<string, string> = {
  agent: "id: string, clearance: Risk, zone: Zone, attested: bool, level: int, since: time, tags: list<string>, hops: list<Hop>",
  user: "id: string, roles: set<string>, email?: string",
  context:
    "labels: set<Label>, blocked: set<Risk>, ceilings: list<list<Risk>>, blackout: list<time>, grid: list<list<time>>, frozen: set<time>, zones: set<Zone>, window: Window, windows: list<Window>, counts: list<int>, waits: set<duration>, flags: list<bool>, budget?: duration, deadline?: time, home?: Hop",
  args: "at: time, also: list<time>, hop: Hop, hops: set<Hop>, url: string, to: list<string>, level?: Risk, zone?: Zone",
};
const ENUMS: Record<string, string[]> = { Label: ["public", "internal", "pii", "secret"], Zone: ["internal", "partner", "external"] };
const RECORDS = Object.fromEntries(Object.entries(RECORD_TEXT).map(([name, text]) => [name, fields(text, T)]));
const ENTITIES = Object.fromEntries(Object.entries(ENTITY_TEXT).map(([name, text]) => [name, fields(text, T)]));

/** Two tools with the same arguments (rules on `t.*` read them) and different risks; two intents with different `max_risk`. */
const DECLS = [
  ...Object.entries(ENUMS).map(([name, members]) => `enum ${name} { ${members.join(", ")} }`),
  ...Object.entries(RECORD_TEXT).map(([name, text]) => `type ${name} { ${text} }`),
  ...["agent", "user", "context"].map((entity) => `${entity} { ${ENTITY_TEXT[entity]} }`),
  `tool t.high { risk high args { ${ENTITY_TEXT.args} } }`,
  `tool t.low { risk low args { ${ENTITY_TEXT.args} } }`,
  "intent ops { tools t.* max_risk high }",
  "intent triage { tools t.low }",
].join("\n");
const RISKS = ["low", "medium", "high", "critical"];
const TOOLS = ["t.high", "t.low"];

const keyOf = (ty: Ty): string => (ty.kind === "set" || ty.kind === "list" ? `${ty.kind}<${keyOf(ty.of)}>` : ty.kind === "enum" || ty.kind === "record" ? ty.name : ty.kind);
const isCollection = (ty: Ty): ty is { kind: "set" | "list"; of: Ty } => ty.kind === "set" || ty.kind === "list";
const ORDERED = new Set(["int", "duration", "time", "risk", "enum"]);

// ── Reference semantics (language.md sections 5 and 7) ──────────────────────────────────────

/** An evaluation error (section 7, step 5): it fails closed, so a deny rule matches on it. */
const ERR = Symbol("error");
type V = unknown;
/** Values as the reference holds them: times as instants (ms), risks and enum members as ranks, records as objects of their declared fields (absent or null: undefined). */
type Env = { vars: Map<string, V>; now: number; tool: string; intent: string | undefined; user: V; agent: V; context: V; args: V };

function equal(ty: Ty, a: V, b: V): boolean {
  if (ty.kind === "set") {
    const arrA = a as V[];
    const arrB = b as V[];
    return arrA.every((x) => arrB.some((y) => equal(ty.of, x, y))) && arrB.every((y) => arrA.some((x) => equal(ty.of, x, y)));
  }
  if (ty.kind === "list") {
    const arrA = a as V[];
    const arrB = b as V[];
    return arrA.length === arrB.length && arrA.every((x, i) => equal(ty.of, x, arrB[i]));
  }
  if (ty.kind === "record") {
    return RECORDS[ty.name]!.every((f) => {
      const x = (a as Record<string, V>)[f.name];
      const y = (b as Record<string, V>)[f.name];
      return x === undefined || y === undefined ? x === y : equal(f.type, x, y);
    });
  }
  return a === b;
}

const member = (ty: Ty, x: V, collection: V[]): boolean => collection.some((y) => equal(ty, x, y));
const and3 = (a: V, b: () => V): V => (a === false ? false : ((bv) => (bv === false ? false : a === ERR || bv === ERR ? ERR : true))(b()));
const or3 = (a: V, b: () => V): V => (a === true ? true : ((bv) => (bv === true ? true : a === ERR || bv === ERR ? ERR : false))(b()));

/** `url.host` and `email.domain` of every string the generator can produce (section 5.10, worked out by hand). */
const TEXT_FUNCTIONS: Record<string, { host: V; domain: V }> = {
  "": { host: "", domain: "" },
  a: { host: "", domain: "" },
  A: { host: "", domain: "" },
  "https://acme.com/x": { host: "acme.com", domain: "" },
  "https://Evil.Example:443/p": { host: "evil.example", domain: "" },
  "https://evil.example:443/p": { host: "evil.example", domain: "" },
  "bob@acme.com": { host: "", domain: "acme.com" },
  "Eve@Evil.Example.": { host: "", domain: "evil.example" },
  "eve@evil.example.": { host: "", domain: "evil.example" },
  "x@y@z": { host: "", domain: ERR },
  "https://a..b/": { host: ERR, domain: "" },
  "acme.com": { host: "", domain: "" },
  "evil.example": { host: "", domain: "" },
  // Tool names, through `tool.lower()` and `session.last.lower()`.
  "t.high": { host: "", domain: "" },
  "t.low": { host: "", domain: "" },
};
const STRINGS = Object.keys(TEXT_FUNCTIONS);
const PATTERNS = ["*", "a*", "*acme.com", "https://*", "*@*", "*.example*", "A", ""];
const glob = (pattern: string): RegExp => new RegExp(`^${pattern.split("*").map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "s");

// ── Expressions: text and reference evaluation, generated together ─────────────────────────

interface Expr {
  text: string;
  type: Ty;
  ev: (env: Env) => V;
}

type G = fc.GeneratorValue;
// Unbiased: fast-check leans towards small numbers, which would make the first of every list the usual pick.
const uniform = (max: number): fc.Arbitrary<number> => fc.noBias(fc.nat({ max }));
const pick = <X>(g: G, items: readonly X[]): X => items[g(uniform, items.length - 1)]!;
const chance = (g: G, p: number): boolean => g(uniform, 999) < p * 1000;
/** Applies `f` to the values of `parts`, or gives an error when any of them is one. */
const strict =
  (parts: Expr[], f: (...values: V[]) => V) =>
  (env: Env): V => {
    const values = parts.map((p) => p.ev(env));
    return values.includes(ERR) ? ERR : f(...values);
  };

const ROOTS: Expr[] = ["agent", "user", "context", "args"].map((root) => ({
  text: root,
  type: { kind: "record", name: `#${root}` },
  ev: (env: Env) => (env[root as "agent"] === undefined ? ERR : env[root as "agent"]),
}));
const fieldsOf = (ty: Ty): Field[] => (ty.kind === "record" ? (ENTITIES[ty.name.slice(1)] ?? RECORDS[ty.name]!) : []);

interface Optional {
  parent: Expr;
  field: Field;
}

/** Every path readable from `scope` (through required record fields) and the optional attributes a `has` guard would open. */
function readable(scope: readonly Expr[]): { paths: Expr[]; optionals: Optional[] } {
  const paths: Expr[] = [];
  const optionals: Optional[] = [];
  const seen = new Set(scope.map((e) => e.text));
  const visit = (e: Expr, depth: number): void => {
    paths.push(e);
    if (depth > 4) return;
    for (const field of fieldsOf(e.type)) {
      const text = `${e.text}.${field.name}`;
      if (field.optional && !seen.has(text)) {
        optionals.push({ parent: e, field });
        continue;
      }
      if (field.optional) continue; // guarded: in scope already
      visit({ text, type: field.type, ev: strict([e], (r) => (r as Record<string, V>)[field.name]) }, depth + 1);
    }
  };
  for (const e of scope) visit(e, 0);
  return { paths: paths.filter((p) => !(p.type.kind === "record" && p.type.name.startsWith("#"))), optionals };
}

/** Values that are no request attribute: the tool's and intent's, the request time, and the session's (always fresh: nothing happened in it before). */
const BUILT_INS: Expr[] = [
  { text: "now", type: TIME, ev: (env) => env.now },
  { text: "tool", type: TOOL, ev: (env) => env.tool },
  { text: "tool.risk", type: RISK, ev: (env) => (env.tool === "t.high" ? 2 : 0) },
  { text: "intent.max_risk", type: RISK, ev: (env) => (env.intent === undefined ? ERR : env.intent === "ops" ? 2 : 3) },
  ...["session.calls", "session.denials", "session.repeats"].map((text): Expr => ({ text, type: INT, ev: () => 0 })),
  { text: "session.age", type: DURATION, ev: () => 0 },
  { text: "session.labels", type: set(LABEL), ev: () => [] },
  { text: "session.last", type: TOOL, ev: () => "" },
];

class Generator {
  private variables = 0;
  constructor(private readonly g: G) {}

  private paths(scope: readonly Expr[], ty: Ty): Expr[] {
    return readable(scope).paths.filter((p) => keyOf(p.type) === keyOf(ty));
  }

  /** A literal of `ty` (bare or qualified names for risks and members), or undefined when the type has none. */
  private literal(ty: Ty): Expr | undefined {
    const { g } = this;
    const constant = (text: string, value: V): Expr => ({ text, type: ty, ev: () => value });
    switch (ty.kind) {
      case "bool": {
        const b = chance(g, 0.5);
        return constant(String(b), b);
      }
      case "int": {
        const n = g(fc.integer, { min: 0, max: 3 });
        return constant(String(n), n);
      }
      case "string": {
        const s = pick(g, STRINGS);
        return constant(JSON.stringify(s), s);
      }
      case "duration": {
        const [text, ms] = pick(g, [["0s", 0], ["1s", 1000], ["1000ms", 1000], ["1m", 60_000], ["1h", 3_600_000]] as const);
        return constant(text, ms);
      }
      case "risk": {
        const rank = g(fc.integer, { min: 0, max: 3 });
        return constant(`${chance(g, 0.5) ? "Risk." : ""}${RISKS[rank]}`, rank);
      }
      case "enum": {
        const members = ENUMS[ty.name]!;
        const rank = g(fc.integer, { min: 0, max: members.length - 1 });
        return constant(`${chance(g, 0.5) ? `${ty.name}.` : ""}${members[rank]}`, rank);
      }
      case "tool": {
        const name = pick(g, TOOLS);
        return constant(name, name);
      }
      default:
        return undefined;
    }
  }

  /** An expression of type `ty`; `listLiteral` allows `[…]` (kept off where a set and a list literal would read differently). */
  value(ty: Ty, scope: readonly Expr[], depth: number, listLiteral = true): Expr {
    const { g } = this;
    const options: (() => Expr | undefined)[] = [];
    const paths = this.paths(scope, ty);
    if (paths.length > 0) options.push(() => pick(g, paths), () => pick(g, paths));
    options.push(() => this.literal(ty));
    const builtIns = BUILT_INS.filter((b) => keyOf(b.type) === keyOf(ty));
    if (builtIns.length > 0) options.push(() => pick(g, builtIns));
    if (ty.kind === "int" && depth > 0) {
      options.push(() => {
        const sized = pick(g, [STRING, ...this.collectionTypes(scope)]);
        // A list literal has no declared kind here: `[a, a].size()` is not asked as a set's.
        const of = this.value(sized, scope, depth - 1, sized.kind === "list");
        return { text: `${of.text}.size()`, type: INT, ev: strict([of], (v) => (typeof v === "string" ? v.length : sized.kind === "set" ? distinct(sized.of, v as V[]).length : (v as V[]).length)) };
      });
    }
    if (ty.kind === "string" && depth > 0) {
      options.push(() => {
        const of = this.value(chance(g, 0.8) ? STRING : TOOL, scope, depth - 1);
        return { text: `${of.text}.lower()`, type: STRING, ev: strict([of], (s) => (s as string).toLowerCase()) };
      });
      options.push(() => {
        const of = this.value(STRING, scope, depth - 1);
        const fn = pick(g, ["host", "domain"] as const);
        return { text: `${fn === "host" ? "url.host" : "email.domain"}(${of.text})`, type: STRING, ev: strict([of], (s) => textFunction(s as string)[fn]) };
      });
    }
    if (isCollection(ty) && listLiteral && ty.of.kind !== "record") {
      options.push(() => {
        const items = Array.from({ length: g(fc.integer, { min: 1, max: 3 }) }, () => this.value(ty.of, scope, Math.max(0, depth - 1)));
        return { text: `[${items.map((i) => i.text).join(", ")}]`, type: ty, ev: strict(items, (...values) => values) };
      });
    }
    for (;;) {
      const made = pick(g, options)();
      if (made !== undefined) return made;
    }
  }

  /** The collection types readable in `scope`. */
  private collectionTypes(scope: readonly Expr[]): Ty[] {
    return readable(scope).paths.map((p) => p.type).filter(isCollection);
  }

  /** A type that some expression can have here: a readable path's, or a type with literals. */
  private someType(scope: readonly Expr[]): Ty {
    const { g } = this;
    return chance(g, 0.6) ? pick(g, readable(scope).paths).type : pick(g, [BOOL, INT, STRING, DURATION, TIME, RISK, ZONE, LABEL, TOOL, set(RISK), list(TIME), set(LABEL)]);
  }

  condition(scope: readonly Expr[], depth: number): Expr {
    const { g } = this;
    const sub = (): Expr => this.condition(scope, depth - 1);
    if (depth <= 0) return this.value(BOOL, scope, 0);
    const form = pick(g, ["atom", "not", "and", "or", "compare", "compare", "order", "order", "in", "in", "contains", "containsSome", "like", "text", "has", "quantifier", "quantifier", "guard", "guard", "guard", "intentTools", "about", "about", "about"]);
    switch (form) {
      case "not": {
        const e = sub();
        return { text: `not (${e.text})`, type: BOOL, ev: (env) => ((v) => (v === ERR ? ERR : !v))(e.ev(env)) };
      }
      case "and":
      case "or": {
        const [a, b] = [sub(), sub()];
        const join = form === "and" ? and3 : or3;
        return { text: `(${a.text} ${form} ${b.text})`, type: BOOL, ev: (env) => join(a.ev(env), () => b.ev(env)) };
      }
      case "compare": {
        const ty = this.someType(scope);
        const a = this.value(ty, scope, depth - 1, false);
        const b = this.value(ty, scope, depth - 1);
        const op = pick(g, ["==", "!="]);
        return { text: `${a.text} ${op} ${b.text}`, type: BOOL, ev: strict([a, b], (x, y) => equal(ty, x, y) === (op === "==")) };
      }
      case "order": {
        const ty = pick(g, [INT, DURATION, TIME, TIME, RISK, RISK, ZONE, LABEL]);
        const a = this.value(ty, scope, depth - 1);
        const b = this.value(ty, scope, depth - 1);
        const op = pick(g, ["<", "<=", ">", ">="]);
        const compare: Record<string, (x: number, y: number) => boolean> = { "<": (x, y) => x < y, "<=": (x, y) => x <= y, ">": (x, y) => x > y, ">=": (x, y) => x >= y };
        return { text: `${a.text} ${op} ${b.text}`, type: BOOL, ev: strict([a, b], (x, y) => compare[op]!(x as number, y as number)) };
      }
      case "in":
      case "contains": {
        const ty = this.collection(scope);
        const s = this.value(ty, scope, depth - 1);
        const x = this.value(ty.of, scope, depth - 1);
        const text = form === "in" ? `${x.text} in ${s.text}` : `${s.text} contains ${x.text}`;
        return { text, type: BOOL, ev: strict([x, s], (xv, sv) => member(ty.of, xv, sv as V[])) };
      }
      case "containsSome": {
        const ty = this.collection(scope);
        const a = this.value(ty, scope, depth - 1);
        const b = this.value(ty, scope, depth - 1);
        const op = pick(g, ["containsAny", "containsAll"]);
        const ev = strict([a, b], (av, bv) => (op === "containsAny" ? (bv as V[]).some((y) => member(ty.of, y, av as V[])) : (bv as V[]).every((y) => member(ty.of, y, av as V[]))));
        return { text: `${a.text} ${op} ${b.text}`, type: BOOL, ev };
      }
      case "like": {
        const s = this.value(chance(g, 0.8) ? STRING : TOOL, scope, depth - 1);
        const pattern = pick(g, PATTERNS);
        return { text: `${s.text} like ${JSON.stringify(pattern)}`, type: BOOL, ev: strict([s], (v) => glob(pattern).test(v as string)) };
      }
      case "text": {
        const s = this.value(chance(g, 0.8) ? STRING : TOOL, scope, depth - 1);
        const t = this.value(STRING, scope, depth - 1);
        const op = pick(g, ["startsWith", "endsWith", "contains"] as const);
        const text = op === "contains" ? `${s.text} contains ${t.text}` : `${s.text}.${op}(${t.text})`;
        return { text, type: BOOL, ev: strict([s, t], (sv, tv) => (op === "contains" ? (sv as string).includes(tv as string) : (sv as string)[op](tv as string))) };
      }
      case "has": {
        const records = [...ROOTS, ...readable(scope).paths.filter((p) => p.type.kind === "record")];
        if (records.length === 0) return sub();
        const r = pick(g, records);
        const field = pick(g, fieldsOf(r.type));
        return { text: `${r.text} has ${field.name}`, type: BOOL, ev: strict([r], (rv) => (rv as Record<string, V>)[field.name] !== undefined) };
      }
      case "quantifier": {
        const ty = this.collection(scope);
        const over = this.value(ty, scope, depth - 1);
        const name = `v${++this.variables}`;
        const variable: Expr = { text: name, type: ty.of, ev: (env) => env.vars.get(name) };
        const body = this.condition([...scope, variable], depth - 1);
        return this.quantified(pick(g, ["any", "all"] as const), name, over, body);
      }
      case "guard": {
        const { optionals } = readable(scope);
        if (optionals.length === 0) return sub();
        const { parent, field } = pick(g, optionals);
        const opened: Expr = { text: `${parent.text}.${field.name}`, type: field.type, ev: strict([parent], (r) => (r as Record<string, V>)[field.name]) };
        const body = this.about(opened, [...scope, opened], depth - 1);
        const ev = (env: Env): V => and3(strict([parent], (r) => (r as Record<string, V>)[field.name] !== undefined)(env), () => body.ev(env));
        return { text: `(${parent.text} has ${field.name} and ${body.text})`, type: BOOL, ev };
      }
      case "about": {
        return this.about(chance(g, 0.7) ? pick(g, readable(scope).paths) : pick(g, BUILT_INS), scope, depth - 1);
      }
      case "intentTools": {
        if (chance(g, 0.5)) return { text: "tool in intent.tools", type: BOOL, ev: (env) => (env.intent === undefined ? ERR : env.intent === "ops" || env.tool === "t.low") };
        const name = pick(g, TOOLS);
        return chance(g, 0.5) ? { text: `tool == ${name}`, type: BOOL, ev: (env) => env.tool === name } : { text: `tool in [${name}, session.last]`, type: BOOL, ev: (env) => env.tool === name };
      }
      default:
        return this.value(BOOL, scope, depth - 1);
    }
  }

  /** A condition that reads `e`, whatever its type. */
  about(e: Expr, scope: readonly Expr[], depth: number): Expr {
    const { g } = this;
    const ty = e.type;
    const compare = (ops: readonly string[], ev: (op: string, x: V, y: V) => boolean): Expr => {
      const other = this.value(ty, scope, Math.max(0, depth - 1));
      const op = pick(g, ops);
      return { text: `${e.text} ${op} ${other.text}`, type: BOOL, ev: strict([e, other], (x, y) => ev(op, x, y)) };
    };
    const equality = (): Expr => compare(["==", "!="], (op, x, y) => equal(ty, x, y) === (op === "=="));
    const ORDER: Record<string, (x: number, y: number) => boolean> = { "<": (x, y) => x < y, "<=": (x, y) => x <= y, ">": (x, y) => x > y, ">=": (x, y) => x >= y };
    if (ORDERED.has(ty.kind) && chance(g, 0.7)) return compare(["<", "<=", ">", ">="], (op, x, y) => ORDER[op]!(x as number, y as number));
    if (ty.kind === "bool" && chance(g, 0.5)) return e;
    if (ty.kind === "tool" && chance(g, 0.5)) {
      const name = pick(g, TOOLS);
      return { text: `${e.text} == ${name}`, type: BOOL, ev: strict([e], (v) => v === name) };
    }
    if ((ty.kind === "string" || ty.kind === "tool") && chance(g, 0.5)) {
      const pattern = pick(g, PATTERNS);
      return { text: `${e.text} like ${JSON.stringify(pattern)}`, type: BOOL, ev: strict([e], (v) => glob(pattern).test(v as string)) };
    }
    if (ty.kind === "record") {
      const field = pick(g, fieldsOf(ty));
      if (field.optional) return { text: `${e.text} has ${field.name}`, type: BOOL, ev: strict([e], (r) => (r as Record<string, V>)[field.name] !== undefined) };
      return chance(g, 0.2) ? equality() : this.about({ text: `${e.text}.${field.name}`, type: field.type, ev: strict([e], (r) => (r as Record<string, V>)[field.name]) }, scope, depth);
    }
    if (isCollection(ty)) {
      const shape = pick(g, ["quantifier", "quantifier", "member", "size", "equality"]);
      if (shape === "member") {
        const x = this.value(ty.of, scope, Math.max(0, depth - 1));
        return { text: `${x.text} in ${e.text}`, type: BOOL, ev: strict([x, e], (xv, sv) => member(ty.of, xv, sv as V[])) };
      }
      if (shape === "size") return this.about({ text: `${e.text}.size()`, type: INT, ev: strict([e], (v) => (ty.kind === "set" ? distinct(ty.of, v as V[]).length : (v as V[]).length)) }, scope, depth);
      if (shape === "equality" || depth <= 0) return equality();
      const name = `v${++this.variables}`;
      const variable: Expr = { text: name, type: ty.of, ev: (env) => env.vars.get(name) };
      const body = this.about(variable, [...scope, variable], depth - 1);
      return this.quantified(pick(g, ["any", "all"] as const), name, e, body);
    }
    return equality();
  }

  private quantified(q: "any" | "all", name: string, over: Expr, body: Expr): Expr {
    const ev = (env: Env): V => {
      const items = over.ev(env);
      if (items === ERR) return ERR;
      const results = (items as V[]).map((item) => body.ev({ ...env, vars: new Map(env.vars).set(name, item) }));
      const settles = q === "any";
      return results.includes(settles) ? settles : results.includes(ERR) ? ERR : !settles;
    };
    return { text: `${q}(${name} in ${over.text}: ${body.text})`, type: BOOL, ev };
  }

  private collection(scope: readonly Expr[]): { kind: "set" | "list"; of: Ty } {
    const types = this.collectionTypes(scope);
    return pick(this.g, [...types, ...types, set(RISK), list(TIME), set(ZONE), list(INT)]) as { kind: "set" | "list"; of: Ty };
  }
}

function distinct(ty: Ty, items: V[]): V[] {
  return items.filter((x, i) => !items.slice(0, i).some((y) => equal(ty, x, y)));
}

function textFunction(s: string): { host: V; domain: V } {
  const known = TEXT_FUNCTIONS[s];
  if (known === undefined) throw new Error(`the generator made ${JSON.stringify(s)}, which the reference's table lacks`);
  return known;
}

// ── Requests that fit the declarations, with the reference's view of them ───────────────────

const T0 = Date.parse("2026-11-29T10:00:00Z");
const INSTANTS = [T0 - 3_600_000, T0, T0 + 3_600_000];

/** One instant in one of several RFC 3339 spellings: `Z`, `.000Z`, `+01:00`, `-05:30`. */
function spell(g: G, ms: number): string {
  const offset = pick(g, [0, 0, 60, -330]);
  const local = new Date(ms + offset * 60_000).toISOString();
  if (offset === 0) return chance(g, 0.5) ? local : local.replace(".000Z", "Z");
  const sign = offset > 0 ? "+" : "-";
  const abs = Math.abs(offset);
  return `${local.slice(0, 19)}${chance(g, 0.5) ? ".000" : ""}${sign}${String(Math.floor(abs / 60)).padStart(2, "0")}:${String(abs % 60).padStart(2, "0")}`;
}

/** A request value of `ty` (as sent) and the reference's reading of it. */
function valueOf(g: G, ty: Ty, depth = 0): { raw: unknown; ref: V } {
  switch (ty.kind) {
    case "bool": {
      const b = chance(g, 0.5);
      return { raw: b, ref: b };
    }
    case "int": {
      const n = g(fc.integer, { min: 0, max: 3 });
      return { raw: n, ref: n };
    }
    case "string": {
      const s = pick(g, STRINGS);
      return { raw: s, ref: s };
    }
    case "duration": {
      const ms = pick(g, [0, 1000, 60_000, 3_600_000]);
      return { raw: ms, ref: ms };
    }
    case "time": {
      const ms = pick(g, INSTANTS);
      return { raw: spell(g, ms), ref: ms };
    }
    case "risk": {
      const rank = g(fc.integer, { min: 0, max: 3 });
      return { raw: RISKS[rank], ref: rank };
    }
    case "enum": {
      const members = ENUMS[ty.name]!;
      const rank = g(fc.integer, { min: 0, max: members.length - 1 });
      return { raw: members[rank], ref: rank };
    }
    case "tool":
      throw new Error("no request attribute is a tool name");
    case "record":
      return recordOf(g, fieldsOf(ty), depth);
    case "set":
    case "list": {
      const items = Array.from({ length: depth > 2 ? 0 : g(fc.integer, { min: 0, max: 3 }) }, () => valueOf(g, ty.of, depth + 1));
      const raw = items.map((i) => i.raw);
      if (ty.kind === "set" && items.length > 0) {
        // A set may come with repeats (spelled differently) and in any order.
        if (chance(g, 0.4)) raw.push(respell(g, ty.of, items[0]!));
        for (let i = raw.length - 1; i > 0; i--) {
          const j = g(fc.integer, { min: 0, max: i });
          [raw[i], raw[j]] = [raw[j], raw[i]];
        }
      }
      return { raw, ref: items.map((i) => i.ref) };
    }
  }
}

/** Another spelling of a value already made (times in another offset), for repeated set members. */
function respell(g: G, ty: Ty, value: { raw: unknown; ref: V }): unknown {
  return ty.kind === "time" ? spell(g, value.ref as number) : value.raw;
}

function recordOf(g: G, declared: Field[], depth: number): { raw: Record<string, unknown>; ref: Record<string, V> } {
  const raw: Record<string, unknown> = {};
  const ref: Record<string, V> = {};
  for (const field of declared) {
    if (field.optional && chance(g, 0.4)) {
      if (chance(g, 0.3)) raw[field.name] = null;
      continue;
    }
    const made = valueOf(g, field.type, depth + 1);
    raw[field.name] = made.raw;
    ref[field.name] = made.ref;
  }
  if (chance(g, 0.2)) raw.undeclared = "ignored";
  return { raw, ref };
}

function requestOf(g: G, session: string): { request: Record<string, unknown>; env: Env } {
  const now = pick(g, INSTANTS);
  const tool = pick(g, TOOLS);
  const intent = pick(g, ["ops", "triage", undefined]);
  const [agent, user, context, args] = ["agent", "user", "context", "args"].map((e) => recordOf(g, ENTITIES[e]!, 0)) as [ReturnType<typeof recordOf>, ReturnType<typeof recordOf>, ReturnType<typeof recordOf>, ReturnType<typeof recordOf>];
  const withUser = chance(g, 0.85);
  const request: Record<string, unknown> = { session, time: spell(g, now), tool, agent: agent.raw, context: context.raw, args: args.raw };
  if (withUser) request.user = user.raw;
  if (intent !== undefined) request.intent = intent;
  return { request, env: { vars: new Map(), now, tool, intent, agent: agent.ref, user: withUser ? user.ref : undefined, context: context.ref, args: args.ref } };
}

// ── The property ────────────────────────────────────────────────────────────────────────────

/** Text every run together must have produced: each operator, method, function and session member, and a read of each collection attribute. */
const FEATURES = [
  ...[" == ", " != ", " < ", " <= ", " > ", " >= ", " in ", " contains ", " containsAny ", " containsAll ", " like ", " has ", "not (", " and ", " or ", "any(", "all("],
  ...[".size()", ".startsWith(", ".endsWith(", ".lower()", "url.host(", "email.domain(", "tool in intent.tools", "tool.risk", "intent.max_risk", "now", "session."],
  ...["Risk.", "Zone.", "Label.", "[", "== t.", "true"],
  ...Object.entries(ENTITIES).flatMap(([entity, declared]) => declared.map((f) => `${entity}.${f.name}`)),
  ...Object.values(RECORDS).flatMap((declared) => declared.map((f) => `.${f.name}`)),
];

/** Matched, not matched, or failed (and so matched, as a deny rule); anything else names what was wrong. */
type Outcome = boolean | "error" | string;
const outcome = (v: V): Outcome => (v === ERR ? "error" : (v as boolean));

/** The deny rule's outcome as `decide` reports it: an error is listed in `errors` (and matches). */
function decided(engine: Engine, request: unknown): Outcome {
  const decision = engine.decide(request);
  if (decision.errors.some((e) => e.startsWith("p/1: "))) return decision.decision === "deny" ? "error" : `failed, but decided ${decision.decision}`;
  return decision.decision === "deny" && decision.rules.includes("p/1");
}

const SEED = Number(process.env.TYPED_FUZZ_SEED ?? 20261130);
const stats = { checked: 0, refused: [] as string[], outcomes: { true: 0, false: 0, error: 0 } as Record<string, number>, texts: [] as string[] };

function engines(text: string): { engines: Engine[]; refused: string | undefined } {
  const sources = [{ path: "typed.policy", text }];
  const { policy, diagnostics } = compileSources(sources);
  if (!policy) return { engines: [], refused: diagnostics.map((d) => `${d.code} ${d.message}`).join("\n") };
  const bundled = loadBundle(JSON.parse(serializeBundle(createBundle(policy, sources))));
  return { engines: [new Engine(policy), bundled], refused: undefined };
}

describe("typed fuzz: compiled code, interpreter, bundle and a reference agree on conditions over every type", () => {
  it("random well-typed conditions on random requests (times in several spellings, sets with repeats in any order)", () => {
    let sessions = 0;
    fc.assert(
      fc.property(fc.gen(), (g) => {
        const condition = new Generator(g).condition(ROOTS, g(fc.integer, { min: 2, max: 4 }));
        const text = `${DECLS}\npolicy p {\n  deny t.* when ${condition.text}\n  allow *\n}\n`;
        const { engines: [compiled, bundled], refused } = engines(text);
        if (refused !== undefined) {
          stats.refused.push(`${condition.text}\n  ${refused}`);
          return;
        }
        stats.checked++;
        stats.texts.push(condition.text);
        for (let i = 0; i < 4; i++) {
          const { request, env } = requestOf(g, `s${++sessions}`);
          const where = `condition: ${condition.text}\nrequest: ${JSON.stringify(request)}`;
          const interpreted = (engine: Engine): Outcome => {
            const explanation = explain(engine, request);
            // A refused request is a bug of `requestOf`, not of the engine.
            expect(explanation.note, where).toBeNull();
            return explanation.rules.find((r) => r.id === "p/1")!.matched;
          };
          const expected = outcome(condition.ev(env));
          stats.outcomes[String(expected)]!++;
          const answers = { interpreted: interpreted(compiled!), compiled: decided(compiled!, request), bundleInterpreted: interpreted(bundled!), bundleCompiled: decided(bundled!, request) };
          expect(answers, where).toEqual({ interpreted: expected, compiled: expected, bundleInterpreted: expected, bundleCompiled: expected });
        }
      }),
      // Each run compiles a policy, so shrinking a failure is slow: stop it in time to report what it has.
      { numRuns: 400, seed: SEED, interruptAfterTimeLimit: 40_000, markInterruptAsFailure: true },
    );
    // Most generated conditions must check, the outcomes must not all be the same, and every
    // operator and every kind of collection must have been reached.
    expect(stats.refused.length, stats.refused.join("\n")).toBeLessThan(stats.checked / 10);
    expect(Math.min(stats.outcomes.true!, stats.outcomes.false!, stats.outcomes.error!), JSON.stringify(stats.outcomes)).toBeGreaterThan(20);
    const missing = FEATURES.filter((feature) => !stats.texts.some((text) => text.includes(feature)));
    expect(missing).toEqual([]);
  });
});
