import type { EvalContext } from "./engine.js";
import * as rt from "./helpers.js";
import { countSettledAt, FUNCTION_AT, isTextTest, RISK_RANK, type IrExpr } from "./ir.js";
import { parseTime, type RuntimeSchema, type TypeJson } from "./schema.js";
import { shapeOfType } from "./declaredShape.js";
import { inIpRanges, ipRanges, type IpRanges } from "./ipRange.js";
import { calledAloneOf, clauseEvidence, decidingSide, memberAsSpelled, sessionReadsOf, testOf, type ClauseSessionRead, type Evidence, type Provenance, type TestOperator, type Why } from "./evidence.js";

/** What one clause evaluated to, for explanations. */
export interface ClauseTrace {
  readonly text: string;
  readonly value: unknown;
  /** For a clause that is an `any`/`all`: the element that decided it (the first match of `any`, the first failure of `all`). */
  readonly witness?: unknown;
  /** What decided the value, outer first (see Evidence); absent when nothing did (an `any` that found nothing, a clause that failed). */
  readonly evidence?: readonly Evidence[];
  readonly error?: string;
  /**
   * The session values the clause reads (for `unless X`, X's), each once, as its IR says them:
   * what `policyc eval` finds their lines by, whatever the clause's spelling. Absent when it
   * reads none. Only explanations carry it: `Engine.decide` never builds a trace.
   */
  readonly sessionReads?: readonly ClauseSessionRead[];
  /** A clause that is a `session.called(…)` alone, or its negation: whether it is negated (its value then says whether the call found one). */
  readonly calledAlone?: { readonly negated: boolean };
  /**
   * The session values the clause reads that no evidence operand shows (a bare
   * `session.called(…)`), with the lines that explain them: set by `policyc eval` from its
   * history (testing/sessionHistory.ts), never by the engine.
   */
  readonly provenance?: readonly (Provenance & { readonly of: string })[];
}

/** A value with why it is what it is. */
interface Traced {
  readonly value: unknown;
  readonly why: Why | undefined;
}

type Quantifier = Extract<IrExpr, { op: "quantifier" }>;
type Comparison = Extract<IrExpr, { op: "compare" }>;
/** A membership or text test (testOf): `size` and `lower` are methods too, but no tests. */
type Test = Extract<IrExpr, { op: "in" | "contains" | "containsAny" | "containsAll" | "like" | "method" | "ipInRange" }>;

interface Intents {
  get(name: string): { tools: ReadonlySet<string>; maxRisk: number } | undefined;
}

/**
 * Evaluates IR directly: the reference semantics the JavaScript emitter must agree with
 * (a differential test compares them), and the explainer's engine. Slow on purpose: clear.
 * @internal
 */
export class Interpreter {
  constructor(
    private readonly intents: Intents,
    private readonly c: EvalContext,
    /** Index of a `session.called` tool list in the policy's session use. */
    private readonly calledIndex: (tools: readonly string[]) => number,
    /** The mask over declared tools' ordinals that `session.count` windows are read with. */
    private readonly toolMask: (tools: readonly string[]) => Uint8Array,
    private readonly schema: RuntimeSchema,
    /**
     * Whether the policy's code settles a count compared with a number from the attempts held
     * after a reload raised its limit (ir.countSettledAt; code built before that fails closed
     * there instead), so the explanation says what the decision did.
     */
    private readonly settlesCounts = true,
    /**
     * Whether the policy's code notes an ip.inRange error as a term's failure, which its
     * three-valued `and`, `or`, `unless` and quantifiers settle (code built before that throws
     * out of the rule instead, which then fails closed as a whole), so the explanation says
     * what the decision did.
     */
    private readonly settlesIpRangeFaults = true,
  ) {}

  private shape(type: TypeJson | undefined): rt.ValueShape | null {
    return type === undefined ? null : shapeOfType(this.schema, type);
  }

  /** Which term settled the last three-valued evaluation, or -1. */
  private settledAt = -1;

  /**
   * The language's `and` (`settles` false) and `or` (true) over terms that may fail: the first
   * term that evaluates to `settles` decides; else the first failure is thrown; else `!settles`.
   * So the order of the terms never changes the result (the generated code does the same with
   * per-function temporaries: JsEmitter.threeValued).
   */
  private threeValued(terms: readonly (() => unknown)[], settles: boolean): boolean {
    let failure: { error: unknown } | undefined;
    for (let i = 0; i < terms.length; i++) {
      let value: boolean;
      try {
        value = terms[i]!() === true;
      } catch (error) {
        if (error instanceof WholeRuleFailure) throw error;
        failure ??= { error };
        continue;
      }
      if (value === settles) {
        this.settledAt = i;
        return settles;
      }
    }
    this.settledAt = -1;
    if (failure !== undefined) throw failure.error;
    return !settles;
  }

  evaluate(e: IrExpr, locals: ReadonlyMap<string, unknown> = new Map()): unknown {
    const c = this.c;
    switch (e.op) {
      case "const":
        return e.value;
      case "list":
        return e.items.map((i) => this.evaluate(i, locals));
      case "root":
        if (e.root === "user" && (c.user === undefined || c.user === null)) rt.fail(rt.NO_USER_FAULT);
        return c[e.root];
      case "tool":
        return c.tool;
      case "toolRisk":
        return c.toolRisk;
      case "intent":
        if (typeof c.intent !== "string") rt.fail(rt.NO_INTENT_FAULT);
        return c.intent;
      case "intentTools":
        return this.intent().tools;
      case "intentMaxRisk":
        return this.intent().maxRisk;
      case "now":
        return c.now;
      case "local":
        return locals.get(e.name);
      case "get": {
        const object = this.evaluate(e.object, locals) as Record<string, unknown> | null | undefined;
        if (object === undefined || object === null) rt.fail(rt.absentReadFault(e.name));
        const value = object[e.name];
        if (e.convert !== "none" && e.each) return rt.membersAsCompared(value, e.convert);
        if (e.convert === "risk") return RISK_RANK[value as keyof typeof RISK_RANK];
        if (e.convert === "time") return parseTime(value);
        return value;
      }
      case "has":
        return rt.present(this.evaluate(e.object, locals), e.name);
      case "not":
        return !this.evaluate(e.operand, locals);
      case "and":
        return this.threeValued(e.terms.map((term) => () => this.evaluate(term, locals)), false);
      case "or":
        return this.threeValued(e.terms.map((term) => () => this.evaluate(term, locals)), true);
      case "compare": {
        const { left, right } = this.operandsCompared(e, locals);
        return this.compare(e, left, right);
      }
      case "enumRank": {
        // Not a member (an undeclared label): no rank, as the generated code's Map lookup gives.
        const rank = e.members.indexOf(this.evaluate(e.value, locals) as string);
        return rank < 0 ? undefined : rank;
      }
      case "in":
      case "contains":
      case "containsAny":
      case "containsAll":
      case "like":
      case "ipInRange":
        return this.test(e, ...this.operandsOfTest(testOf(e)!, locals), locals.size > 0);
      case "quantifier":
        return this.quantify(e, locals, (inner) => this.evaluate(e.body, inner)).value;
      case "session":
        switch (e.member) {
          case "repeats":
            return c.repeats;
          case "age":
            return Math.max(0, c.now - c.s.firstSeen);
          case "labels":
            return this.labelled((note) => rt.sessionLabels(note));
          case "tools":
            return c.s.tools ?? new Set();
          default:
            return c.s[e.member];
        }
      case "count":
        return this.count(e);
      case "called": {
        const index = this.calledIndex(e.tools);
        if (e.withinMs === null) return c.s.calledSince(index, Number.NEGATIVE_INFINITY);
        const fault = rt.calledFault(c.s, index, c.now - e.withinMs, c.now, e.tools);
        if (fault !== undefined) rt.fail(fault);
        return c.s.calledSince(index, c.now - e.withinMs, c.now);
      }
      case "method": {
        const object = this.evaluate(e.object, locals);
        switch (e.name) {
          case "size":
            return e.members !== undefined ? rt.distinctCount(object, this.shape(e.members)) : rt.size(object);
          // The same helpers as the generated code: a missing value (no intent) is no string, not an error.
          case "lower":
            return this.atSite(e, (site, note) => rt.lowerAt(site, note, object));
          case "startsWith":
          case "endsWith":
            return this.test(e, object, this.evaluate(e.args[0]!, locals), locals.size > 0);
        }
        return undefined;
      }
      case "call": {
        const value = this.evaluate(e.arg, locals) as string;
        return this.atSite(e, (site, note) => rt[FUNCTION_AT[e.name]](site, note, value));
      }
    }
  }

  /**
   * A membership or text test (see testOf) of its operands' values, as written: left, right.
   * Inside a quantifier (`inQuantifier`) a text test charges what it reads to the rule's budget
   * through the helpers the generated code calls there (helpers.includesTextAt…).
   */
  private test(e: Test, left: unknown, right: unknown, inQuantifier: boolean): boolean {
    if (inQuantifier && isTextTest(e)) return this.scanning((note) => this.textTest(note, e, left, right));
    switch (e.op) {
      case "in":
        return isSessionLabels(e.collection) ? this.labelled((note) => rt.hasSessionLabel(note, left)) : rt.has(right, left, this.shape(e.shape));
      case "contains":
        if (isSessionLabels(e.collection)) return this.labelled((note) => rt.hasSessionLabel(note, right));
        return e.string ? rt.includesText(left, right) : rt.has(left, right, this.shape(e.shape));
      case "containsAny":
        return rt.containsAny(left, right, this.shape(e.shape));
      case "containsAll":
        return rt.containsAll(left, right, this.shape(e.shape));
      case "like":
        return rt.like(left as string, right as string);
      case "method":
        return e.name === "startsWith" ? rt.startsWith(left, right) : rt.endsWith(left, right);
      case "ipInRange":
        if (this.settlesIpRangeFaults) return inIpRanges(this.rangesOf(e), left);
        try {
          return inIpRanges(this.rangesOf(e), left);
        } catch (error) {
          throw error instanceof rt.EvaluationError ? new WholeRuleFailure(error.message) : error;
        }
    }
  }

  /** A read of `session.labels` through the helpers the generated code calls: a fault it notes (a label not kept) is thrown, as an evaluation error. */
  private labelled<T>(read: (note: rt.LabelNote) => T): T {
    const note: rt.LabelNote = { fault: undefined, s: this.c.s };
    const value = read(note);
    if (note.fault !== undefined) rt.fail(note.fault);
    return value;
  }

  /** A text test inside a quantifier, charged to the rule's budget in `note` (see `test`). */
  private textTest(note: rt.ScanNote, e: Test, left: unknown, right: unknown): boolean {
    if (e.op === "contains") return rt.includesTextAt(note, left, right);
    if (e.op === "like") return rt.likeAt(note, left, right);
    return e.op === "method" && e.name === "startsWith" ? rt.startsWithAt(note, left, right) : rt.endsWithAt(note, left, right);
  }

  /** Runs a charged text test against the rule's budget (`c.scanned`); the budget spent is an evaluation error, thrown. */
  private scanning(test: (note: rt.ScanNote) => boolean): boolean {
    const note: rt.ScanNote = { fault: undefined, scanned: this.c.scanned };
    const value = test(note);
    this.c.scanned = note.scanned;
    if (note.fault !== undefined) rt.fail(note.fault);
    return value;
  }

  /** Each `ip.inRange`'s ranges, read once per explanation (the generated code reads them as it loads). */
  private readonly ranges = new Map<IrExpr, IpRanges>();

  private rangesOf(e: Extract<IrExpr, { op: "ipInRange" }>): IpRanges {
    let ranges = this.ranges.get(e);
    if (ranges === undefined) this.ranges.set(e, (ranges = ipRanges(e.ranges)));
    return ranges;
  }

  /** A test's operands' values, left then right, each evaluated in the order the node always had: `x in S` reads S first. */
  private operandsOfTest(test: NonNullable<ReturnType<typeof testOf>>, locals: ReadonlyMap<string, unknown>): [unknown, unknown] {
    // `session.labels` as a membership test's collection is not read whole: the test asks it for
    // one label (`test`), which is exact for some even past the session's room for labels.
    if (test.operator === "in") {
      const collection = isSessionLabels(test.right) ? this.keptLabels() : this.evaluate(test.right, locals);
      return [this.evaluate(test.left, locals), collection];
    }
    const left = test.operator === "contains" && isSessionLabels(test.left) ? this.keptLabels() : this.evaluate(test.left, locals);
    return [left, this.evaluate(test.right, locals)];
  }

  /**
   * The member that decided a `containsAny` that held or a `containsAll` that did not (see
   * decidingSide), for explanations: searched through the same membership as the generated code
   * uses inside quantifiers (an index of a long list, once per decision), so it costs what the
   * test did. Absent when the search does not find one the test's value says is there.
   */
  private decidingMember(operator: TestOperator, shape: TypeJson | undefined, value: boolean, left: unknown, right: unknown): { member?: { index: number; value: unknown } } {
    const side = decidingSide(operator, value);
    if (side === null) return {};
    const [walked, other] = side === "left" ? [left, right] : [right, left];
    const note: rt.FaultNote = { fault: undefined };
    const members = rt.items(walked);
    const memberShape = this.shape(shape);
    // containsAny: a member the other side has; containsAll: one it lacks.
    const index = members.findIndex((member) => rt.hasAt(note, other, member, memberShape) === (side === "left"));
    return index < 0 || note.fault !== undefined ? {} : { member: { index, value: members[index] } };
  }

  /**
   * Where an `in` / `contains` that held found its element among the collection's members, for
   * explanations: by the test's own membership (a set equal whatever its order, a time by its
   * instant), so an explanation never calls "none of the members" what the test found. Absent
   * for a test that did not hold (no member is the element) and for a text `contains`.
   */
  private foundAt(e: Test, shape: TypeJson | undefined, value: boolean, left: unknown, right: unknown): { found?: number } {
    if (!value || (e.op !== "in" && e.op !== "contains") || (e.op === "contains" && e.string)) return {};
    const [element, collection] = e.op === "in" ? [left, right] : [right, left];
    const memberShape = this.shape(shape);
    try {
      const index = rt.items(collection).findIndex((member) => rt.has([member], element, memberShape));
      return index < 0 ? {} : { found: index };
    } catch {
      return {};
    }
  }

  /** The labels the session kept (for a membership test and its evidence). */
  private keptLabels(): ReadonlySet<string> {
    return this.c.s.labels ?? new Set();
  }

  /**
   * A comparison's operands, left then right; a count compared with a number as the generated
   * code counts it (ir.countSettledAt). `atLeast`: per side, whether it is a count the window
   * could give only in part (see `count`).
   */
  private operandsCompared(e: Comparison, locals: ReadonlyMap<string, unknown>): { left: unknown; right: unknown; atLeast: readonly [boolean, boolean] } {
    const settled = this.settlesCounts ? countSettledAt(e) : undefined;
    const side = (operand: IrExpr) => {
      this.countAtLeast = false;
      return settled?.count === operand ? this.count(settled.count, settled.settledAt) : this.evaluate(operand, locals);
    };
    const left = side(e.left);
    const leftAtLeast = this.countAtLeast && e.left.op === "count";
    const right = side(e.right);
    return { left, right, atLeast: [leftAtLeast, this.countAtLeast && e.right.op === "count"] };
  }

  /**
   * Whether the last `session.count` evaluated is a lower bound: its window let go of attempts
   * dated inside it (it keeps only as many as the policy's numbers need, so the comparison is
   * still settled), and more happened than it counted.
   */
  private countAtLeast = false;

  /** A `session.count`, this attempt included; `settledAt`: see ir.countSettledAt and SessionState.windowFault. */
  private count(e: Extract<IrExpr, { op: "count" }>, settledAt?: number): number {
    const c = this.c;
    const mask = e.tools === null ? null : this.toolMask(e.tools);
    const self = e.tools === null || e.tools.includes(c.tool) ? 1 : 0;
    const since = c.now - e.withinMs;
    const fault = c.s.windowFault(since, mask, e.pattern, settledAt === undefined ? undefined : settledAt - self);
    if (fault !== undefined) rt.fail(fault);
    this.countAtLeast = c.s.countMayBeMore(since);
    return c.s.countSince(since, mask, e.pattern) + self;
  }

  private compare(e: Comparison, left: unknown, right: unknown): boolean {
    if (e.deep && (e.operator === "==" || e.operator === "!=")) return (e.shape !== undefined ? rt.equalShaped(left, right, this.shape(e.shape)) : rt.equal(left, right, e.set === true)) === (e.operator === "==");
    return rt.compareScalars(e.operator, left as number, right as number);
  }

  /**
   * `any`/`all`: the body for each element in turn, three-valued, within the rule's budget of
   * visits. `decidedBy`: the element that settled it (any: a match; all: a failure), or -1.
   */
  private quantify(e: Quantifier, locals: ReadonlyMap<string, unknown>, body: (inner: ReadonlyMap<string, unknown>) => unknown): { value: boolean; decidedBy: number; element: unknown } {
    const collection = this.evaluate(e.collection, locals);
    if (rt.overBudget(this.c, collection)) rt.fail(rt.OVER_BUDGET);
    const items = rt.items(collection);
    const inner = new Map(locals);
    const settles = e.kind === "any";
    const value = this.threeValued(
      items.map((item) => () => {
        inner.set(e.variable, item);
        return body(inner);
      }),
      settles,
    );
    const decidedBy = value === settles ? this.settledAt : -1;
    return { value, decidedBy, element: decidedBy >= 0 ? items[decidedBy] : undefined };
  }

  /**
   * `evaluate`, also saying why the value is what it is, for explanations: the structural nodes
   * (`not`, `and`, `or`, `any`, `all`, comparisons) are walked here with the same helpers as
   * `evaluate` (so the same semantics), everything else is `evaluate`d.
   */
  traced(e: IrExpr, locals: ReadonlyMap<string, unknown> = new Map()): Traced {
    switch (e.op) {
      case "not": {
        const operand = this.traced(e.operand, locals);
        return { value: !operand.value, why: operand.why };
      }
      case "and":
      case "or": {
        const whys: (Why | undefined)[] = [];
        const terms = e.terms.map((term, i) => () => {
          const traced = this.traced(term, locals);
          whys[i] = traced.why;
          return traced.value;
        });
        const value = this.threeValued(terms, e.op === "or");
        const settledAt = this.settledAt;
        return { value, why: settledAt >= 0 ? { kind: "settled", index: settledAt, term: whys[settledAt] } : { kind: "every", terms: whys } };
      }
      case "quantifier": {
        // The element that settles a quantifier is the last one walked: keep only its why.
        let lastWhy: Why | undefined;
        const { value, decidedBy, element } = this.quantify(e, locals, (inner) => {
          const traced = this.traced(e.body, inner);
          lastWhy = traced.why;
          return traced.value;
        });
        return { value, why: decidedBy >= 0 ? { kind: "element", index: decidedBy, element, body: lastWhy } : undefined };
      }
      case "compare": {
        const { left, right, atLeast } = this.operandsCompared(e, locals);
        const value = this.compare(e, left, right);
        return { value, why: { kind: "compared", left, right, value, ...(atLeast[0] || atLeast[1] ? { atLeast } : {}) } };
      }
      default: {
        const test = testOf(e);
        if (test === null) return { value: this.evaluate(e, locals), why: undefined };
        const [left, right] = this.operandsOfTest(test, locals);
        const value = this.test(e as Test, left, right, locals.size > 0);
        const shape = "shape" in e ? e.shape : undefined;
        return { value, why: { kind: "tested", left, right, value, ...this.decidingMember(test.operator, shape, value, left, right), ...this.foundAt(e as Test, shape, value, left, right) } };
      }
    }
  }

  /**
   * `url.host`, `email.domain` and `lower()` through a call site of their own, as the generated
   * code calls them: each distinct input is worked out once per explanation, and a fault the
   * answer noted is thrown here, as an evaluation error.
   */
  private readonly sites = new Map<IrExpr, rt.CallSite>();

  private atSite(call: IrExpr, compute: (site: rt.CallSite, note: rt.FaultNote) => string): string {
    let site = this.sites.get(call);
    if (site === undefined) this.sites.set(call, (site = rt.callSite()));
    const note: rt.FaultNote = { fault: undefined };
    const value = compute(site, note);
    if (note.fault !== undefined) rt.fail(note.fault);
    return value;
  }

  private intent(): { tools: ReadonlySet<string>; maxRisk: number } {
    if (typeof this.c.intent !== "string") rt.fail(rt.NO_INTENT_FAULT);
    return this.intents.get(this.c.intent)!;
  }

  /** Evaluates a rule's condition clause by clause (its top-level `and` terms). */
  traceClauses(e: IrExpr, texts: readonly string[]): { matched: boolean | "error"; clauses: ClauseTrace[] } {
    // Each rule has its own budgets of quantifier visits and characters, as in the generated code.
    this.c.visits = 0;
    this.c.scanned = 0;
    const terms = e.op === "and" && texts.length === e.terms.length ? e.terms : [e];
    const clauses: ClauseTrace[] = [];
    // Three-valued, as the rule's `and` is: a clause that does not hold settles it, even after
    // one that failed; a failure makes it an error only when nothing else settles it.
    let matched: boolean | "error" = true;
    let stopped = false;
    terms.forEach((term, i) => {
      const text = texts.length === terms.length ? texts[i]! : texts.join(" and ");
      if (matched === false || stopped) return;
      // An `unless X` clause is the term `not X`: its trace shows X's own value, as written.
      const unless = term.op === "not" && text.startsWith("unless ");
      const shown = unless ? term.operand : term;
      const written = unless ? text.slice("unless ".length) : text;
      // What the clause reads of the session, from its IR (the clause's text only names the calls, for people).
      const reads = sessionReadsOf(shown, written);
      const alone = calledAloneOf(shown);
      const session = { ...(reads.length > 0 ? { sessionReads: reads } : {}), ...(alone !== undefined ? { calledAlone: alone } : {}) };
      let traced: Traced;
      try {
        traced = this.traced(shown);
      } catch (error) {
        clauses.push({ text, value: undefined, error: rt.message(error), ...session });
        matched = "error";
        // The generated code left the rule there: no later clause was evaluated.
        if (error instanceof WholeRuleFailure) stopped = true;
        return;
      }
      const { value, why } = traced;
      // Outside the try: evidence that cannot be shown is left out, never taken for a failed clause.
      const evidence = clauseEvidence(shown, why, written);
      const witness = shown.op === "quantifier" && why?.kind === "element" ? { witness: memberAsSpelled(shown.collection, why.element) } : {};
      clauses.push({ text, value, ...witness, ...(evidence.length > 0 ? { evidence } : {}), ...session });
      if (unless ? value !== false : value !== true) matched = false;
    });
    return { matched, clauses };
  }

}

/**
 * An evaluation error that fails its whole rule, as a throw out of the generated code of a bundle
 * built before ip.inRange noted its errors (see Interpreter.settlesIpRangeFaults): no `and`, `or`
 * or quantifier settles it, and no later clause is evaluated.
 */
class WholeRuleFailure extends rt.EvaluationError {}

/** `session.labels`: a membership test of it asks the session for one label (helpers.hasSessionLabel). */
function isSessionLabels(e: IrExpr): boolean {
  return e.op === "session" && e.member === "labels";
}
