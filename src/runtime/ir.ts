import type { TypeJson } from "./schema.js";

/**
 * The decision IR: conditions after checking, with every name resolved. It is part of the
 * bundle (so `eval --bundle` can explain decisions) and the input of the JavaScript emitter.
 * Plain JSON: no spans, no classes.
 */
export type RiskLevel = "low" | "medium" | "high" | "critical";
export const RISK_RANK: Readonly<Record<RiskLevel, number>> = { low: 0, medium: 1, high: 2, critical: 3 };

/**
 * How an attribute value is turned into what conditions compare: risks to ranks, times to ms.
 * On a `get` with `each`, the value is a collection (`set<Risk>`, `list<list<time>>`) and every
 * member is turned, at any depth, so `tool.risk in context.blocked` and `b > now` over it
 * compare ranks and instants as the scalar forms do.
 */
export type ValueConversion = "none" | "risk" | "time";

export type IrExpr =
  /** A constant: bool, number (ints, durations in ms, risk ranks), string (enum members, names). */
  | { readonly op: "const"; readonly value: boolean | number | string }
  | { readonly op: "list"; readonly items: readonly IrExpr[] }
  | { readonly op: "root"; readonly root: "agent" | "user" | "context" | "args" }
  | { readonly op: "tool" }
  | { readonly op: "toolRisk" }
  | { readonly op: "intent" }
  | { readonly op: "intentTools" }
  | { readonly op: "intentMaxRisk" }
  | { readonly op: "now" }
  /**
   * `unit`: the variable holds risk ranks or times in ms (a member of a converted collection), or
   * durations in ms, for explanations.
   */
  | { readonly op: "local"; readonly name: string; readonly unit?: "risk" | "time" | "duration" }
  /** `unit`: the value (or its members) is durations in ms: explanations show them as durations (`2m`), the decision ignores it. */
  | { readonly op: "get"; readonly object: IrExpr; readonly name: string; readonly convert: ValueConversion; readonly each?: true; readonly unit?: "duration" }
  | { readonly op: "has"; readonly object: IrExpr; readonly name: string }
  | { readonly op: "not"; readonly operand: IrExpr }
  | { readonly op: "and" | "or"; readonly terms: readonly IrExpr[] }
  /**
   * `deep` compares collections and records structurally; `scalar` with `===`. `shape` (with
   * `deep`): the compared values' declared type, which says how: records by their declared
   * fields only, sets ignoring order and repeats. (`set`: how bundles without `shape` said a
   * side is a `set<T>`.)
   */
  | { readonly op: "compare"; readonly operator: "==" | "!=" | "<" | "<=" | ">" | ">="; readonly left: IrExpr; readonly right: IrExpr; readonly deep: boolean; readonly set?: boolean; readonly shape?: TypeJson }
  /** Orders members of an enum by declaration. */
  | { readonly op: "enumRank"; readonly members: readonly string[]; readonly value: IrExpr }
  /** `deep`: the elements are records or collections, compared by `shape`, their declared type. */
  | { readonly op: "in"; readonly element: IrExpr; readonly collection: IrExpr; readonly deep?: boolean; readonly shape?: TypeJson }
  /** `S contains x`: membership in a collection, substring of a string, or a tool in intent.tools. */
  | { readonly op: "contains"; readonly collection: IrExpr; readonly element: IrExpr; readonly string: boolean; readonly deep?: boolean; readonly shape?: TypeJson }
  /** `shape`: the elements' declared type, when they are records or collections. */
  | { readonly op: "containsAny" | "containsAll"; readonly left: IrExpr; readonly right: IrExpr; readonly shape?: TypeJson }
  | { readonly op: "like"; readonly subject: IrExpr; readonly pattern: IrExpr }
  | { readonly op: "quantifier"; readonly kind: "any" | "all"; readonly variable: string; readonly collection: IrExpr; readonly body: IrExpr }
  | { readonly op: "session"; readonly member: "calls" | "denials" | "labels" | "tools" | "repeats" | "age" | "last" }
  /**
   * Attempts within the window, this one included; `tools` limits them to a pattern's declared
   * tools, and `pattern` (the pattern as written) adds its attempts at undeclared tools whose
   * names match (bundles built before it was kept lack it: undeclared tools are not counted).
   */
  | { readonly op: "count"; readonly tools: readonly string[] | null; readonly withinMs: number; readonly pattern?: string }
  /** An allowed call of one of `tools` happened before (within the window, if any). */
  | { readonly op: "called"; readonly tools: readonly string[]; readonly withinMs: number | null }
  /** `members` (on `size` of a declared set): the set's element type; the size counts distinct members. */
  | { readonly op: "method"; readonly name: "size" | "startsWith" | "endsWith" | "lower"; readonly object: IrExpr; readonly args: readonly IrExpr[]; readonly members?: TypeJson }
  /** `url.host(s)`, `email.domain(s)`, `path.normalize(s)`: text in the form the function gives it (helpers.ts). */
  | { readonly op: "call"; readonly name: FunctionName; readonly arg: IrExpr }
  /** `ip.inRange(s, R)`: whether `subject` is an IP address in one of `ranges`, CIDRs as written (ipRange.ts). */
  | { readonly op: "ipInRange"; readonly subject: IrExpr; readonly ranges: readonly string[] };

/** The functions of one string (language.md 5.10); `ip.inRange` has an operation of its own. */
export type FunctionName = "url.host" | "email.domain" | "path.normalize";

/** The runtime support (helpers.ts) that answers each function through a call site. */
export const FUNCTION_AT = { "url.host": "urlHostAt", "email.domain": "emailDomainAt", "path.normalize": "pathNormalizeAt" } as const satisfies Record<FunctionName, string>;

/** Every IR operation this runtime knows (the compiler checks it names each, and no other). */
const IR_OPS: ReadonlySet<string> = new Set(Object.keys({ const: true, list: true, root: true, tool: true, toolRisk: true, intent: true, intentTools: true, intentMaxRisk: true, now: true, local: true, get: true, has: true, not: true, and: true, or: true, compare: true, enumRank: true, in: true, contains: true, containsAny: true, containsAll: true, like: true, quantifier: true, session: true, count: true, called: true, method: true, call: true, ipInRange: true } satisfies Record<IrExpr["op"], true>));

/**
 * The operations in `conditions` this runtime does not know (a newer compiler's), each once.
 * What the engine reads of a condition (the windows `session.count` needs, explanations) walks
 * only the operations it knows: past an unknown one it would find no count and keep no window,
 * and the rate limit under it would never trip. Walked without recursion: a bundle is input.
 */
export function unknownIrOps(conditions: readonly unknown[]): string[] {
  const unknown = new Set<string>();
  const pending: unknown[] = [...conditions];
  while (pending.length > 0) {
    const node = pending.pop();
    const op: unknown = node !== null && typeof node === "object" ? (node as { op?: unknown }).op : undefined;
    if (typeof op !== "string" || !IR_OPS.has(op)) {
      unknown.add(typeof op === "string" ? op : String(op));
      continue;
    }
    for (const child of childrenOf(node as IrExpr)) pending.push(child);
  }
  return [...unknown];
}

/**
 * A `session.count` compared with a number, and the count (this attempt included) from which
 * the comparison's answer no longer changes however many more attempts there were: `> 10`
 * holds, and `== 10` or `< 10` fails, for every count of 11 or more. A count the session's
 * window can give only in part (the attempts a reload let go: SessionState.windowFault) is at
 * least what the window still holds, so when that much already settles the comparison, its
 * answer is certain. Undefined for any other comparison: no partial count settles it.
 */
export function countSettledAt(e: IrExpr): { readonly count: Extract<IrExpr, { op: "count" }>; readonly settledAt: number } | undefined {
  if (e.op !== "compare" || e.deep) return undefined;
  const countLeft = e.left.op === "count";
  const count = countLeft ? e.left : e.right;
  const other = countLeft ? e.right : e.left;
  if (count.op !== "count" || other.op !== "const" || typeof other.value !== "number" || !Number.isFinite(other.value)) return undefined;
  // As `count OP n`: `n < count` is `count > n`, and so on (== and != read alike either way).
  const operator = countLeft ? e.operator : FLIPPED[e.operator];
  const n = other.value;
  // `>= n` holds and `< n` fails from n on; the others settle past n.
  return { count, settledAt: operator === ">=" || operator === "<" ? Math.max(0, Math.ceil(n)) : Math.max(0, Math.floor(n) + 1) };
}

const FLIPPED = { "==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<=" } as const;

/** Whether an expression has an `any` or `all` (whose visits count against the rule's budget). */
export function hasQuantifier(e: IrExpr): boolean {
  return e.op === "quantifier" || childrenOf(e).some(hasQuantifier);
}

/**
 * Whether evaluating an expression may note a fault: it reads the user or the intent's tools or
 * risk (which a request may lack), counts past the window, asks `session.called` within a
 * window the kept times cannot answer, calls a function that refuses ambiguous input (or
 * `ip.inRange`, which refuses a value that is no bare host), compares
 * values that may be nested too deeply, or has a quantifier (which may spend its rule's budget
 * of visits, helpers.visiting). Inside a quantifier (`inQuantifier`), a text test may fail too:
 * it may spend the rule's budget of characters (helpers.MAX_SCANNED_CHARACTERS). A read of
 * `session.labels` may fail once the session found no room for a label (helpers.sessionLabels),
 * and one of `session.last` after an undeclared tool's name too long to keep (helpers.sessionLast).
 * A field read whose object `mayBeAbsent` (by default: any object but a root) may find no value
 * there (helpers.absentReadFault); the emitter, which knows the `has` guards, says which may.
 */
export function mayFail(e: IrExpr, inQuantifier = false, mayBeAbsent: (object: IrExpr) => boolean = (object) => object.op !== "root"): boolean {
  if (inQuantifier && isTextTest(e)) return true;
  // Past the session's room for labels, a read of them may fail (helpers.sessionLabels).
  if (e.op === "session" && e.member === "labels") return true;
  // After an attempt at an undeclared tool whose name was too long to keep, so does session.last.
  if (e.op === "session" && e.member === "last") return true;
  // A read below a root may find no value there (the missing user's, an optional record): a fault.
  if (e.op === "get" && mayBeAbsent(e.object)) return true;
  if ((e.op === "root" && e.root === "user") || e.op === "intent" || e.op === "intentTools" || e.op === "intentMaxRisk" || e.op === "count" || e.op === "call" || e.op === "ipInRange" || e.op === "quantifier" || (e.op === "called" && e.withinMs !== null)) return true;
  if (((e.op === "compare" || e.op === "in" || e.op === "contains") && e.deep === true) || e.op === "containsAny" || e.op === "containsAll" || (e.op === "method" && e.members !== undefined)) return true;
  return childrenOf(e).some((child) => mayFail(child, inQuantifier, mayBeAbsent));
}

/**
 * A test that reads text (`contains` of a string, `like`, `startsWith`, `endsWith`): inside a
 * quantifier it charges what it reads to the rule's budget (helpers.MAX_SCANNED_CHARACTERS).
 */
export function isTextTest(e: IrExpr): boolean {
  return (e.op === "contains" && e.string === true) || e.op === "like" || (e.op === "method" && (e.name === "startsWith" || e.name === "endsWith"));
}

/** Whether a text test (isTextTest) sits inside a quantifier of the expression: its rule needs a budget of characters. */
export function scansText(e: IrExpr, inQuantifier = false): boolean {
  if (inQuantifier && isTextTest(e)) return true;
  return e.op === "quantifier" ? scansText(e.collection, inQuantifier) || scansText(e.body, true) : childrenOf(e).some((child) => scansText(child, inQuantifier));
}

/** The direct sub-expressions of an IR node. */
export function childrenOf(expr: IrExpr): IrExpr[] {
  switch (expr.op) {
    case "list":
      return [...expr.items];
    case "get":
    case "has":
      return [expr.object];
    case "not":
      return [expr.operand];
    case "and":
    case "or":
      return [...expr.terms];
    case "compare":
    case "containsAny":
    case "containsAll":
      return [expr.left, expr.right];
    case "enumRank":
      return [expr.value];
    case "in":
      return [expr.element, expr.collection];
    case "contains":
      return [expr.collection, expr.element];
    case "like":
      return [expr.subject, expr.pattern];
    case "quantifier":
      return [expr.collection, expr.body];
    case "method":
      return [expr.object, ...expr.args];
    case "call":
      return [expr.arg];
    case "ipInRange":
      return [expr.subject];
    default:
      return [];
  }
}
