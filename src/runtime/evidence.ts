import { headOf } from "./cutText.js";
import { maskedHead } from "./hiddenText.js";
import { childrenOf, RISK_RANK, type IrExpr, type RiskLevel } from "./ir.js";

/**
 * Why an expression evaluated as it did, as the interpreter saw it (Interpreter.traced): the
 * raw material of a clause's evidence. `not` passes its operand's on; other nodes have none.
 */
export type Why =
  /** A quantifier's deciding element (any: the first that held; all: the first that did not), and why its body was what it was. */
  | { readonly kind: "element"; readonly index: number; readonly element: unknown; readonly body: Why | undefined }
  /** The term that settled an `and` (the first false) or an `or` (the first true). */
  | { readonly kind: "settled"; readonly index: number; readonly term: Why | undefined }
  /** An `and` that held or an `or` that did not: every term took part. */
  | { readonly kind: "every"; readonly terms: readonly (Why | undefined)[] }
  /** A comparison's operands, as compared (ranks, milliseconds); `atLeast`: which sides are counts known only as a lower bound (Interpreter.count). */
  | { readonly kind: "compared"; readonly left: unknown; readonly right: unknown; readonly value: boolean; readonly atLeast?: readonly [boolean, boolean] }
  /** A membership or text test's operands as written, left then right (see testOf), and the member that decided it (see Interpreter.decidingMember). */
  | { readonly kind: "tested"; readonly left: unknown; readonly right: unknown; readonly value: boolean; readonly member?: { readonly index: number; readonly value: unknown }; readonly found?: number };

/** The operators that test membership (`in`, `contains` on a collection, `containsAny`, `containsAll`) or text (`contains` on a string, `like`, `startsWith`, `endsWith`, `ip.inRange`). */
export type TestOperator = "in" | "contains" | "containsAny" | "containsAll" | "like" | "startsWith" | "endsWith" | "inRange";

/** A membership or text test's operands as written, left to right (`x in S`: x, S; `s.startsWith(p)`: s, p; `ip.inRange(s, R)`: s, R); null for any other node. */
export function testOf(expr: IrExpr): { readonly operator: TestOperator; readonly left: IrExpr; readonly right: IrExpr } | null {
  switch (expr.op) {
    case "in":
      return { operator: "in", left: expr.element, right: expr.collection };
    case "contains":
      return { operator: "contains", left: expr.collection, right: expr.element };
    case "containsAny":
    case "containsAll":
      return { operator: expr.op, left: expr.left, right: expr.right };
    case "like":
      return { operator: "like", left: expr.subject, right: expr.pattern };
    case "method":
      return (expr.name === "startsWith" || expr.name === "endsWith") && expr.args.length === 1 ? { operator: expr.name, left: expr.object, right: expr.args[0]! } : null;
    case "ipInRange":
      // The ranges as the policy wrote them: one string, or a list of them.
      return { operator: "inRange", left: expr.subject, right: expr.ranges.length === 1 ? { op: "const", value: expr.ranges[0]! } : { op: "list", items: expr.ranges.map((range) => ({ op: "const", value: range })) } };
    default:
      return null;
  }
}

/**
 * Which side's member decides a test, when one does: the first member of the left side that the
 * right side also has (`containsAny` that held), or the first member of the right side that the
 * left side lacks (`containsAll` that did not); null when no single member decides it.
 */
export function decidingSide(operator: TestOperator, value: boolean): "left" | "right" | null {
  if (operator === "containsAny" && value) return "left";
  if (operator === "containsAll" && !value) return "right";
  return null;
}

/**
 * A session value an expression reads, as the IR says it (never as the clause spells it): what
 * `policyc eval` finds the lines behind it by (testing/sessionHistory.ts). `called` and `count`
 * give the declared tools their pattern resolved to (`count`: null for every tool) and the window
 * in milliseconds (`called`: null for none); `count`'s `pattern`, the pattern as written, also
 * counts attempts at undeclared tools whose names match (null when it has none, or its bundle
 * predates it: such attempts are then not counted).
 */
export type SessionRead =
  | { readonly kind: "labels" | "tools" | "last" | "denials" | "repeats" | "calls" | "age" }
  | { readonly kind: "called"; readonly tools: readonly string[]; readonly withinMs: number | null }
  | { readonly kind: "count"; readonly tools: readonly string[] | null; readonly pattern: string | null; readonly withinMs: number };

/** A session value a clause reads (see ClauseTrace.sessionReads), with its text in the clause for people (null when it cannot be told). */
export interface ClauseSessionRead {
  readonly read: SessionRead;
  readonly text: string | null;
}

/**
 * The session value `expr` itself reads (through an enum's rank: `session.last == email.send`), or
 * undefined. Frozen, its tools a frozen copy: an explanation hands it out, and the IR's own arrays
 * (a loaded bundle's are not frozen) must not change with what a caller does to it.
 */
export function sessionReadOf(expr: IrExpr): SessionRead | undefined {
  switch (expr.op) {
    case "session":
      return Object.freeze({ kind: expr.member });
    case "called":
      return Object.freeze({ kind: "called" as const, tools: Object.freeze([...expr.tools]), withinMs: expr.withinMs });
    case "count":
      return Object.freeze({ kind: "count" as const, tools: expr.tools === null ? null : Object.freeze([...expr.tools]), pattern: expr.pattern ?? null, withinMs: expr.withinMs });
    case "enumRank":
      return sessionReadOf(expr.value);
    default:
      return undefined;
  }
}

/** Whether two reads are of the same session value (the same kind, tools, pattern and window). */
export function sameSessionRead(a: SessionRead, b: SessionRead): boolean {
  if (a.kind !== b.kind) return false;
  if (a.kind === "called" && b.kind === "called") return a.withinMs === b.withinMs && sameNames(a.tools, b.tools);
  if (a.kind === "count" && b.kind === "count") return a.withinMs === b.withinMs && a.pattern === b.pattern && (a.tools === null ? b.tools === null : b.tools !== null && sameNames(a.tools, b.tools));
  return true;
}

function sameNames(a: readonly string[], b: readonly string[]): boolean {
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

/**
 * What sessionReadsOf found per clause IR node, with the text it was given: a rule's IR and text
 * are fixed for its engine, and the walk covers the whole clause (a list of 100,000 hosts too),
 * so an engine explained again walks it once.
 */
const readsOfClause = new WeakMap<IrExpr, { readonly text: string | null; readonly reads: readonly ClauseSessionRead[] }>();

/**
 * The session values clause `expr` reads, each once, in the order written; `text` is the clause
 * as written, from which only the texts of `session.called(…)` and `session.count(…)` are cut,
 * for people: what each reads is the IR's, never the text's. Frozen (it is shared by every
 * explanation of the clause).
 */
export function sessionReadsOf(expr: IrExpr, text: string | null): readonly ClauseSessionRead[] {
  const known = readsOfClause.get(expr);
  if (known !== undefined && known.text === text) return known.reads;
  const reads = Object.freeze(walkedReads(expr, text).map((found) => Object.freeze(found)));
  readsOfClause.set(expr, { text, reads });
  return reads;
}

function walkedReads(expr: IrExpr, text: string | null): ClauseSessionRead[] {
  const reads: SessionRead[] = [];
  // Walked without recursion (a bundle is input), children in the order they are written.
  const pending: IrExpr[] = [expr];
  while (pending.length > 0) {
    const node = pending.pop()!;
    const read = node.op === "enumRank" ? undefined : sessionReadOf(node);
    if (read !== undefined) reads.push(read);
    else {
      // One at a time: a list of 150,000 hosts is no call's arguments.
      const children = childrenOf(node);
      for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!);
    }
  }
  if (reads.length === 0) return [];
  const calls = reads.filter((read) => read.kind === "called" || read.kind === "count");
  const written = calls.length === 0 ? [] : callTexts(text);
  // The calls' texts in the order written, when there are as many as the IR has calls (else none is told).
  const callText = new Map(written.length === calls.length ? calls.map((read, i) => [read, written[i]!] as const) : []);
  const found: ClauseSessionRead[] = [];
  for (const read of reads) {
    if (found.some((known) => sameSessionRead(known.read, read))) continue;
    found.push({ read, text: read.kind === "called" || read.kind === "count" ? (callText.get(read) ?? null) : `session.${read.kind}` });
  }
  return found;
}

/** The texts of the `session.called(…)` and `session.count(…)` calls in a clause's text, in order: outside strings, each to its closing parenthesis. */
function callTexts(text: string | null): string[] {
  if (text === null) return [];
  const found: string[] = [];
  for (let i = 0; i < text.length; i++) {
    if (text[i] === '"') {
      i = endOfString(text, i);
      if (i < 0) return [];
      continue;
    }
    const name = text.startsWith("session.called(", i) ? "session.called" : text.startsWith("session.count(", i) ? "session.count" : undefined;
    // (At the start of a name: not the end of another's, `x.session.count(`.)
    if (name === undefined || (i > 0 && /[\w.]/.test(text[i - 1]!))) continue;
    const close = closingOf(text, i + name.length);
    if (close < 0) return [];
    found.push(text.slice(i, close + 1));
    i = close;
  }
  return found;
}

/** For a clause that is a `session.called(…)` alone, or its negation (`not`, any number of them): whether it is negated; else undefined. */
export function calledAloneOf(expr: IrExpr): { readonly negated: boolean } | undefined {
  let negated = false;
  let node = expr;
  while (node.op === "not") {
    negated = !negated;
    node = node.operand;
  }
  return node.op === "called" ? { negated } : undefined;
}

/** One operand of a comparison or a membership or text test, for people. */
export interface ComparedOperand {
  /** Its path in the request (`args.msgs[1].size`) when it reads one, else the operand as written; null when neither is known. */
  readonly text: string | null;
  /** Its value as short JSON (see showValue): risks and enum members by name, times as RFC 3339. */
  readonly shown: string;
  /** Written in the policy (a literal), not read from the request. */
  readonly constant: boolean;
  /**
   * A `session.count` whose window let go of attempts inside it (it keeps as many as the
   * policy's numbers need to settle its comparisons): the count is at least `shown`.
   */
  readonly atLeast?: true;
  /**
   * The whole value as JSON, when `shown` is cut and the whole is at most WHOLE_LENGTH characters
   * (for `--json` readers: a longer one is read from the request at `text`).
   */
  readonly whole?: string;
  /** The session value the operand reads, as the IR says it (for `policyc eval`'s provenance); absent for any other operand. */
  readonly session?: SessionRead;
  /**
   * For a session value (`session.labels`, `session.count(…)`, …): the lines of the history that
   * explain it, as `policyc eval` finds them (testing/sessionHistory.ts). Never set by the engine.
   */
  readonly provenance?: Provenance;
}

/**
 * Where a session value came from in the history `policyc eval` replayed: in words
 * (`pii returned by crm.lookup at line 1`) and the input line numbers it names.
 */
export interface Provenance {
  readonly text: string;
  /** The first 20 of them (`--json` stays small for a long session); `linesOmitted` counts the rest. */
  readonly lines: readonly number[];
  readonly linesOmitted?: number;
}

/**
 * A piece of a clause's evidence: what decided its value. In the order found, outer first, and
 * only along what decided it: the deciding element of each quantifier, the settling term of each
 * `and`/`or`, and the operands of the comparisons and membership and text tests on the way.
 */
export type Evidence =
  | {
      readonly kind: "element";
      readonly quantifier: "any" | "all";
      /** Where the element is: `args.msgs[1].atts[1]`; null when the collection is neither a request path nor known as written. */
      readonly path: string | null;
      /** Its position in the collection as walked (a set in its stored order). */
      readonly index: number;
      readonly shown: string;
    }
  | {
      readonly kind: "term";
      readonly operator: "and" | "or";
      /** The term's position in the chain, from 0. */
      readonly index: number;
      /** The term as written; null when the clause's text does not show it. */
      readonly text: string | null;
    }
  | {
      readonly kind: "comparison";
      /** The comparison as written (without parentheses around it); null when the clause's text does not show it. */
      readonly text: string | null;
      readonly operator: "==" | "!=" | "<" | "<=" | ">" | ">=";
      readonly value: boolean;
      readonly left: ComparedOperand;
      readonly right: ComparedOperand;
    }
  | {
      readonly kind: "membership";
      /** The test as written (without parentheses around it); null when the clause's text does not show it. */
      readonly text: string | null;
      /** `contains` of a collection (of a string it is a `text` test). */
      readonly operator: "in" | "contains" | "containsAny" | "containsAll";
      readonly value: boolean;
      /** As written: the element of `x in S`, the collection of `S contains x`. */
      readonly left: ComparedOperand;
      readonly right: ComparedOperand;
      /**
       * The member that decided it: of `containsAny` that held, the first member of the left side
       * the right side also has; of `containsAll` that did not, the first member of the right side
       * the left side lacks. Absent otherwise.
       */
      readonly member?: {
        /** Where it is: `args.to[2]`; null when its side is written in the policy (a list literal) or not known. */
        readonly path: string | null;
        /** Its position in its side as walked (a set in its stored order). */
        readonly index: number;
        readonly shown: string;
      };
      /**
       * Of `in` and `contains` whose collection is shown cut (where the cut may hide the answer):
       * how many members the collection has, and the position of the element among them (null:
       * it is not one of them).
       */
      readonly lookedUp?: { readonly members: number; readonly index: number | null };
    }
  | {
      readonly kind: "text";
      /** The test as written (without parentheses around it); null when the clause's text does not show it. */
      readonly text: string | null;
      /** `contains` of a string (of a collection it is a `membership` test); `inRange`: `ip.inRange`. */
      readonly operator: "contains" | "like" | "startsWith" | "endsWith" | "inRange";
      readonly value: boolean;
      /** The text tested (`s` of `s like p`, `s.startsWith(p)`, `s contains t`, `ip.inRange(s, R)`). */
      readonly left: ComparedOperand;
      /** The pattern, prefix, suffix or part looked for, or the IP ranges. */
      readonly right: ComparedOperand;
    };

/** Longest value shown in an explanation, in characters: a 1 MB argument stays one short line. */
const SHOWN_LENGTH = 60;

/** A value as a person reads it in an explanation: short JSON, sets as lists. */
export function showValue(value: unknown): string {
  const plain = value instanceof Set ? [...value] : value;
  const text = plain === undefined ? "undefined" : jsonPreview(plain, SHOWN_LENGTH);
  return text.length > SHOWN_LENGTH ? headOfJson(text, SHOWN_LENGTH - 3) + CUT : text;
}

/**
 * The first `length` units of JSON text, fewer when the cut would fall inside an escape
 * (`\"`, `\u00e9`) — shown, half an escape reads as a backslash the value does not hold — or
 * between the halves of a character beyond U+FFFF (`headOf`).
 */
function headOfJson(json: string, length: number): string {
  const head = headOf(json, length);
  // Only an escape started in the last six units (`\uXXXX` is the longest) can be cut short.
  for (let at = head.length - 1; at >= Math.max(0, head.length - 6); at--) {
    if (head.charCodeAt(at) !== BACKSLASH) continue;
    let run = 1;
    while (at - run >= 0 && head.charCodeAt(at - run) === BACKSLASH) run++;
    // An even run is whole escaped backslashes; an odd one's last backslash starts an escape.
    if (run % 2 === 0) return head;
    const escapeLength = head.charCodeAt(at + 1) === LETTER_U ? 6 : 2;
    return at + escapeLength > head.length ? head.slice(0, at) : head;
  }
  return head;
}

const BACKSLASH = 0x5c;
const LETTER_U = 0x75;

/**
 * The start of `value`'s JSON text: all of it when it is at most `limit` characters, else at
 * least `limit + 1` of them. It walks only as far as it writes, so an argument of a megabyte, or
 * nested ten thousand deep (which JSON.stringify cannot write within the stack, and a worker
 * thread's larger stack can: the same line would read differently on each), costs no more than
 * a short one. (`value` holds plain JSON values: a request's, or what a condition computed from one.)
 */
export function jsonPreview(value: unknown, limit: number, durationsQuoted = false): string {
  let text = "";
  // Returns whether to go on: false once more than `limit` characters are written.
  const write = (part: string): boolean => {
    text += part;
    return text.length <= limit;
  };
  const walk = (v: unknown): boolean => {
    if (v instanceof Unquoted) return write(durationsQuoted ? JSON.stringify(v.text) : v.text);
    if (typeof v === "string") return write(JSON.stringify(headOf(maskedHead(v, limit + 1), limit + 1)));
    if (v === null || typeof v !== "object") return write(JSON.stringify(v) ?? "null");
    if (Array.isArray(v)) {
      if (!write("[")) return false;
      for (let i = 0; i < v.length; i++) if ((i > 0 && !write(",")) || !walk(v[i])) return false;
      return write("]");
    }
    if (!write("{")) return false;
    let first = true;
    for (const [key, member] of Object.entries(v)) {
      if (member === undefined) continue;
      if ((!first && !write(",")) || !write(`${JSON.stringify(headOf(key, limit + 1))}:`) || !walk(member)) return false;
      first = false;
    }
    return write("}");
  };
  walk(value);
  return text;
}

const CUT = "…";

/** Whether showValue cut a value short (no whole JSON value ends with `…`). */
export function isCut(shown: string): boolean {
  return shown.endsWith(CUT);
}

/**
 * The evidence for a clause that evaluated without error: `expr` is the clause's IR (for `unless
 * X`, X's), `why` what the interpreter saw, `text` the clause as written (canonical, as the
 * compiler prints it), from which the texts of its terms and comparisons are cut.
 */
export function clauseEvidence(expr: IrExpr, why: Why | undefined, text: string | null): Evidence[] {
  const found: Evidence[] = [];
  try {
    collect(expr, why, text, new Map(), false, found);
  } catch {
    // Never thrown at the clause: what was found up to a value that cannot be shown is kept.
  }
  return found;
}

/**
 * Walks the IR beside what the interpreter saw. `paths`: the request path of each quantifier
 * variable in scope. `inEvery`: under an `and`/`or` that every term took part in, where a nested
 * settling term would read as if it had settled the whole clause, so it is left out.
 */
function collect(expr: IrExpr, why: Why | undefined, text: string | null, paths: ReadonlyMap<string, string>, inEvery: boolean, found: Evidence[]): void {
  if (why === undefined) return;
  switch (expr.op) {
    case "not":
      collect(expr.operand, why, operandOfNot(text), paths, inEvery, found);
      return;
    case "and":
    case "or": {
      const texts = termsOf(text, expr.op, expr.terms.length);
      if (why.kind === "settled") {
        if (!inEvery) found.push({ kind: "term", operator: expr.op, index: why.index, text: texts?.[why.index] ?? null });
        collect(expr.terms[why.index]!, why.term, texts?.[why.index] ?? null, paths, inEvery, found);
      } else if (why.kind === "every") {
        why.terms.forEach((term, i) => collect(expr.terms[i]!, term, texts?.[i] ?? null, paths, true, found));
      }
      return;
    }
    case "quantifier": {
      if (why.kind !== "element") return;
      const parts = partsOfQuantifier(text, expr.kind, expr.variable);
      const collection = pathOf(expr.collection, paths) ?? parts?.collection ?? null;
      const path = collection === null ? null : `${indexable(collection)}[${why.index}]`;
      found.push({ kind: "element", quantifier: expr.kind, path, index: why.index, shown: showValue(memberAsSpelled(expr.collection, why.element)) });
      const inner = path === null ? paths : new Map(paths).set(expr.variable, path);
      collect(expr.body, why.body, parts?.body ?? null, inner, inEvery, found);
      return;
    }
    case "compare": {
      if (why.kind !== "compared") return;
      const sides = splitTopLevel(unwrapped(text), ` ${expr.operator} `);
      const [leftText, rightText] = sides?.length === 2 ? sides : [null, null];
      found.push({
        kind: "comparison",
        text: unwrapped(text),
        operator: expr.operator,
        value: why.value,
        left: lowerBound(operand(expr.left, why.left, leftText, expr.right, paths), why.atLeast?.[0]),
        right: lowerBound(operand(expr.right, why.right, rightText, expr.left, paths), why.atLeast?.[1]),
      });
      return;
    }
    default: {
      const test = testOf(expr);
      if (test === null || why.kind !== "tested") return;
      const piece = testEvidence(expr, test, why, text, paths);
      if (piece !== null) found.push(piece);
      return;
    }
  }
}

/**
 * A membership or text test's evidence, or null when it cannot be shown: the explanation then
 * goes without it rather than fail (a bundle's text and a library caller's request are data).
 */
function testEvidence(expr: IrExpr, test: NonNullable<ReturnType<typeof testOf>>, why: Why & { kind: "tested" }, written: string | null, paths: ReadonlyMap<string, string>): Evidence | null {
  try {
    const text = unwrapped(written);
    const [leftText, rightText] = sidesOfTest(text, test.operator) ?? [null, null];
    const left = operand(test.left, why.left, leftText, test.right, paths);
    const right = operand(test.right, why.right, rightText, test.left, paths);
    const { operator } = test;
    const value = why.value;
    if (operator === "like" || operator === "startsWith" || operator === "endsWith" || operator === "inRange") return { kind: "text", text, operator, value, left, right };
    if (expr.op === "contains" && expr.string) return { kind: "text", text, operator: "contains", value, left, right };
    const side = decidingSide(operator, value);
    if (operator === "in" || operator === "contains") {
      const [collection, shownCollection] = operator === "in" ? [why.right, right] : [why.left, left];
      // (A list written in the policy is not shown: the clause text has it.)
      const lookedUp = isCut(shownCollection.shown) && !shownCollection.constant ? lookUp(value, why.found, collection) : undefined;
      return lookedUp === undefined ? { kind: "membership", text, operator, value, left, right } : { kind: "membership", text, operator, value, left, right, lookedUp };
    }
    if (side === null || why.member === undefined) return { kind: "membership", text, operator, value, left, right };
    const [sideExpr, sideOperand, otherExpr] = side === "left" ? [test.left, left, test.right] : [test.right, right, test.left];
    const { index, value: member } = why.member;
    const item = sideExpr.op === "list" ? sideExpr.items[index] : undefined;
    const path = sideOperand.constant || sideOperand.text === null ? null : `${indexable(sideOperand.text)}[${index}]`;
    return { kind: "membership", text, operator, value, left, right, member: { path, index, shown: showValue(readable(item ?? sideExpr, member, otherExpr)) } };
  } catch {
    return null;
  }
}

/** A collection's text, ready for `[i]`: a path or a list literal as it is, anything else in parentheses. */
function indexable(collection: string): string {
  return /^[\w.[\]]+$/.test(collection) || (collection.startsWith("[") && closingOf(collection, 0) === collection.length - 1) ? collection : `(${collection})`;
}

/** Longest whole value an operand keeps beside its cut `shown` (ComparedOperand.whole): a list of a few hundred names, not a megabyte argument. */
const WHOLE_LENGTH = 10_000;

function operand(expr: IrExpr, value: unknown, written: string | null, other: IrExpr, paths: ReadonlyMap<string, string>): ComparedOperand {
  const spelledValue = readable(expr, value, other);
  const shown = showValue(spelledValue);
  const text = pathOf(expr, paths) ?? written;
  const read = sessionReadOf(expr);
  const session = read === undefined ? {} : { session: read };
  if (!isCut(shown) || spelledValue === undefined) return { text, shown, constant: isConstant(expr), ...session };
  // Valid JSON: a duration is the string its explanation shows (`"2m"`), as a time is its RFC 3339 string.
  const whole = jsonPreview(spelledValue instanceof Set ? [...spelledValue] : spelledValue, WHOLE_LENGTH, true);
  return whole.length > WHOLE_LENGTH ? { text, shown, constant: isConstant(expr), ...session } : { text, shown, constant: isConstant(expr), whole, ...session };
}

/** The operand marked as a lower bound (ComparedOperand.atLeast) when `atLeast`. */
function lowerBound(side: ComparedOperand, atLeast: boolean | undefined): ComparedOperand {
  return atLeast === true ? { ...side, atLeast: true } : side;
}

/**
 * Where the element of a membership test shown cut is among the members of `collection`, as
 * the test itself found it (`found`, see Interpreter.foundAt): none when the test did not hold;
 * undefined when `collection` is no list or set, or the test held and no index is known.
 */
function lookUp(value: boolean, found: number | undefined, collection: unknown): { members: number; index: number | null } | undefined {
  const members = collection instanceof Set ? collection.size : Array.isArray(collection) ? collection.length : undefined;
  if (members === undefined || (value && found === undefined)) return undefined;
  return { members, index: value ? found! : null };
}

/**
 * A compared value as the policy and the request spell it: the interpreter compares risks and
 * enum members by rank and times as milliseconds; a constant takes its unit from the other side.
 */
function readable(expr: IrExpr, value: unknown, other: IrExpr): unknown {
  // A list written in the policy (`tool.risk in [high, critical]`): each item as the other side spells it.
  if (expr.op === "list" && Array.isArray(value)) return value.map((item, i) => (expr.items[i] === undefined ? item : readable(expr.items[i]!, item, other)));
  if (expr.op === "enumRank") return typeof value === "number" ? (expr.members[value] ?? value) : value;
  return spelled(value, unitOf(expr) ?? (expr.op === "const" ? unitOf(other) : undefined));
}

/** A member of `collection` as the request spells it (a risk level, not its rank), for a quantifier's witness. */
export function memberAsSpelled(collection: IrExpr, member: unknown): unknown {
  return spelled(member, unitOf(collection));
}

/** A rank as its risk level, milliseconds as an RFC 3339 time or as a duration (`2m`); the members of a collection of them each so. */
function spelled(value: unknown, unit: Unit | undefined): unknown {
  if (unit === undefined) return value;
  if (Array.isArray(value)) return value.map((member) => spelled(member, unit));
  if (unit === "risk" && typeof value === "number") return (Object.keys(RISK_RANK) as RiskLevel[]).find((level) => RISK_RANK[level] === value) ?? value;
  if (unit === "time" && typeof value === "number" && Number.isFinite(value)) return new Date(value).toISOString();
  if (unit === "duration" && Number.isSafeInteger(value) && (value as number) >= 0) return new Unquoted(durationText(value as number));
  return value;
}

type Unit = "risk" | "time" | "duration";

/** Whether an expression's value is risk ranks, times in ms or durations in ms (itself or, for a converted collection, its members). */
function unitOf(expr: IrExpr): Unit | undefined {
  if (expr.op === "toolRisk" || expr.op === "intentMaxRisk" || (expr.op === "get" && expr.convert === "risk")) return "risk";
  if (expr.op === "now" || (expr.op === "get" && expr.convert === "time")) return "time";
  if ((expr.op === "get" && expr.unit === "duration") || (expr.op === "session" && expr.member === "age")) return "duration";
  if (expr.op === "local") return expr.unit;
  return undefined;
}

/** The units of durations as the language writes them, largest first (language.md §2.3). */
const DURATION_UNITS = [["d", 86_400_000], ["h", 3_600_000], ["m", 60_000], ["s", 1000]] as const;

/** A duration as a policy writes it: in the largest unit that measures it exactly (`2m`, `730d`, `90s`, `1500ms`). */
function durationText(ms: number): string {
  const [unit, size] = DURATION_UNITS.find(([, size]) => ms > 0 && ms % size === 0) ?? ["ms", 1];
  return `${ms / size}${unit}`;
}

/** A value shown as its text, without JSON's quotes: a duration as the policy writes it (`2m`, not `"2m"`). */
class Unquoted {
  constructor(readonly text: string) {}
}

function isConstant(expr: IrExpr): boolean {
  if (expr.op === "const") return true;
  if (expr.op === "list") return expr.items.every(isConstant);
  return expr.op === "enumRank" && isConstant(expr.value);
}

/** Where in the request (or session, or tool) an expression reads: `args.to`, `args.msgs[1].atts`; null for anything computed. */
function pathOf(expr: IrExpr, paths: ReadonlyMap<string, string>): string | null {
  switch (expr.op) {
    case "root":
      return expr.root;
    case "get": {
      const object = pathOf(expr.object, paths);
      return object === null ? null : `${object}.${expr.name}`;
    }
    case "local":
      return paths.get(expr.name) ?? null;
    case "tool":
      return "tool";
    case "toolRisk":
      return "tool.risk";
    case "intent":
      return "intent";
    case "intentTools":
      return "intent.tools";
    case "intentMaxRisk":
      return "intent.max_risk";
    case "session":
      return `session.${expr.member}`;
    case "enumRank":
      return pathOf(expr.value, paths);
    default:
      return null;
  }
}

// ── The texts of a clause's parts ──────────────────────────────────────────────────────────
// A clause's text is printed from its syntax tree (printExpr): canonical spacing, parentheses
// where the source had them, strings as JSON. The IR has the same shape but for parentheses, so
// each part's text is cut from its parent's at the top level. Any surprise gives null (a bundle's
// text is data): the evidence then goes without that text.

/** `text` without parentheses around the whole of it. */
function unwrapped(text: string | null): string | null {
  let current = text;
  while (current !== null && current.startsWith("(") && closingOf(current, 0) === current.length - 1) current = current.slice(1, -1);
  return current;
}

function operandOfNot(text: string | null): string | null {
  const inner = unwrapped(text);
  return inner?.startsWith("not ") ? inner.slice("not ".length) : null;
}

/** The texts of a test's two operands, as written: `x` and `S` of `x in S`, `s` and `p` of `s.startsWith(p)`. */
function sidesOfTest(text: string | null, operator: TestOperator): [string, string] | null {
  if (operator === "startsWith" || operator === "endsWith") return partsOfMethod(text, operator);
  if (operator === "inRange") return argumentsOfCall(text, "ip.inRange");
  const sides = splitTopLevel(unwrapped(text), ` ${operator} `);
  return sides?.length === 2 ? [sides[0]!, sides[1]!] : null;
}

/** The object and the one argument of a method call's text (`agent.id` and `"spiffe://"` of `agent.id.startsWith("spiffe://")`). */
function partsOfMethod(text: string | null, name: string): [string, string] | null {
  const inner = unwrapped(text);
  const call = `.${name}(`;
  // The call is the last `.name(` outside strings and brackets, whose parenthesis closes the text.
  const at = topLevelIndexes(inner, call)?.at(-1);
  if (inner === null || at === undefined || closingOf(inner, at + call.length - 1) !== inner.length - 1) return null;
  return [inner.slice(0, at), inner.slice(at + call.length, -1)];
}

/** The two arguments of a function call's text (`url.host(args.url)` and `"10.0.0.0/8"` of `ip.inRange(url.host(args.url), "10.0.0.0/8")`). */
function argumentsOfCall(text: string | null, name: string): [string, string] | null {
  const inner = unwrapped(text);
  if (inner === null || !inner.startsWith(`${name}(`) || closingOf(inner, name.length) !== inner.length - 1) return null;
  const parts = splitTopLevel(inner.slice(name.length + 1, -1), ", ");
  return parts?.length === 2 ? [parts[0]!, parts[1]!] : null;
}

function termsOf(text: string | null, operator: "and" | "or", count: number): string[] | null {
  const terms = splitTopLevel(unwrapped(text), ` ${operator} `);
  return terms?.length === count ? terms : null;
}

function partsOfQuantifier(text: string | null, kind: "any" | "all", variable: string): { collection: string; body: string } | null {
  const inner = unwrapped(text);
  const head = `${kind}(${variable} in `;
  if (inner === null || !inner.startsWith(head) || closingOf(inner, kind.length) !== inner.length - 1) return null;
  const parts = splitTopLevel(inner.slice(head.length, -1), ": ");
  if (parts === null || parts.length < 2) return null;
  return { collection: parts[0]!, body: parts.slice(1).join(": ") };
}

/** `text` cut at every `separator` outside strings and brackets; null for no text or unbalanced text. */
function splitTopLevel(text: string | null, separator: string): string[] | null {
  const indexes = topLevelIndexes(text, separator);
  if (text === null || indexes === null) return null;
  return [0, ...indexes.map((i) => i + separator.length)].map((start, n) => text.slice(start, indexes[n] ?? text.length));
}

/**
 * Where `separator` starts outside strings and brackets, not overlapping; null for no text or
 * unbalanced text. A separator that opens a bracket (`.startsWith(`) counts it as opened.
 */
function topLevelIndexes(text: string | null, separator: string): number[] | null {
  if (text === null) return null;
  const indexes: number[] = [];
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const character = text[i]!;
    if (character === '"') {
      i = endOfString(text, i);
      if (i < 0) return null;
    } else if (depth === 0 && text.startsWith(separator, i)) {
      indexes.push(i);
      i += separator.length - 1;
      if (separator.endsWith("(")) depth++;
    } else if (character === "(" || character === "[") depth++;
    else if (character === ")" || character === "]") {
      if (--depth < 0) return null;
    }
  }
  return depth === 0 ? indexes : null;
}

/** The index of the bracket that closes the one at `open`, or -1. */
function closingOf(text: string, open: number): number {
  let depth = 0;
  for (let i = open; i < text.length; i++) {
    const character = text[i]!;
    if (character === '"') {
      i = endOfString(text, i);
      if (i < 0) return -1;
    } else if (character === "(" || character === "[") depth++;
    else if ((character === ")" || character === "]") && --depth === 0) return i;
  }
  return -1;
}

/** The index of the quote that ends the JSON string starting at `quote`, or -1. */
function endOfString(text: string, quote: number): number {
  for (let i = quote + 1; i < text.length; i++) {
    if (text[i] === "\\") i++;
    else if (text[i] === '"') return i;
  }
  return -1;
}
