import { ownEntry } from "../diagnostics/ownEntry.js";
import type * as A from "../ast/nodes.js";
import type { Span } from "../source/Span.js";
import { advisedDiagnostic, diagnostic, type Diagnostic, type LazyAdvice, type LazyHelp, type RelatedLocation } from "../diagnostics/Diagnostic.js";
import { closestName, didYouMean, listed, suggestion } from "../diagnostics/suggest.js";
import { printExpr } from "../ast/printExpr.js";
import type { Code } from "../diagnostics/codes.js";
import { checkPatternMatchesTools, labelType, type FieldInfo, type RecordShape, type Schema } from "./schema.js";
import { LiteralComparisonChecks, unparenthesized } from "./literalComparisons.js";
import { comparisonHelp } from "./comparisonHelp.js";
import { readCidr } from "../runtime/ipRange.js";
import { FUNCTIONS, SESSION_CALLS, SESSION_VALUES, type Resolution } from "./resolution.js";
import type { FunctionName } from "../runtime/ir.js";

/** How each built-in namespace is used, for the error when one is written as a value. */
const NAMESPACE_USE: Readonly<Record<string, string>> = {
  session: "use one of its members, as in `session.calls` or `session.labels`",
  url: "call its function, as in `url.host(args.url)`",
  email: "call its function, as in `email.domain(r)`",
  path: "call its function, as in `path.normalize(args.path)`",
  ip: 'call its function, as in `ip.inRange(url.host(args.url), "10.0.0.0/8")`',
  Risk: "name a risk level, as in `Risk.high` or `high`",
};
import {
  BOOL,
  DURATION,
  EMPTY,
  ERROR,
  INT,
  INTENT,
  RISK,
  RISK_LEVELS,
  STRING,
  TIME,
  TOOL,
  TOOLSET,
  compatible,
  comparedType,
  isCollection,
  isStringLike,
  typeToString,
  type RiskLevel,
  type Type,
} from "./types.js";

/** What is in scope while checking one condition. */
export interface Scope {
  readonly locals: ReadonlyMap<string, Type>;
  /** Paths proven present by a `has` earlier in the same `and` chain, e.g. `context.destination`. */
  readonly guards: ReadonlySet<string>;
  /**
   * Paths tested with `has` in an earlier term of an `or` (`context has zone or context.zone ==
   * …`): no guard there, since the later term is read when that test was false, but the reason
   * a PC303 beside it gives.
   */
  readonly testedUnderOr?: ReadonlySet<string>;
}

/**
 * The rule a condition belongs to: the tools it targets (for typing `args.x`), its effect and
 * the clause being checked, which say whether a test's holding tightens the decision (see
 * `ExpressionChecker.truthTightens`): a warning's rewrite may widen what a test matches only
 * where that makes the rule stricter (PC511), and in an `ask`, where an evaluation error makes
 * the rule match and sends the call to a person, no help writes `email.domain` (PC512).
 */
export interface RuleContext {
  readonly tools: readonly string[];
  readonly effect: "allow" | "ask" | "deny";
  readonly clause: "when" | "unless";
}

const ROOTS = ["agent", "user", "context", "args", "tool", "intent", "session", "now", "url", "email", "path", "ip"];

/** The dotted spelling of a chain of names (`support.reply`, `crm.*`), or undefined. */
export function dottedText(expr: A.Expr): string | undefined {
  if (expr.kind === "NameRef") return expr.name;
  if (expr.kind === "Wildcard") return "*";
  if (expr.kind === "Member") {
    const base = dottedText(expr.object);
    return base === undefined ? undefined : `${base}.${expr.property.name}`;
  }
  return undefined;
}

/** A stable key for a path, used for `has` guards: `context.destination`, `r.cc`. */
export function pathKey(expr: A.Expr): string | undefined {
  if (expr.kind === "Paren") return pathKey(expr.expression);
  if (expr.kind === "NameRef") return expr.name;
  if (expr.kind === "Member") {
    const base = pathKey(expr.object);
    return base === undefined ? undefined : `${base}.${expr.property.name}`;
  }
  return undefined;
}

/**
 * The guards that still hold inside a quantifier binding `variable`: a guard on an outer
 * `variable` (or on a root the variable hides) says nothing about each element it now names,
 * so `x has d and all(x in xs: x.d.zone == …)` must guard the inner `x.d` again.
 */
function guardsOutside(guards: ReadonlySet<string>, variable: string): ReadonlySet<string> {
  const kept = [...guards].filter((guard) => guard !== variable && !guard.startsWith(`${variable}.`));
  return kept.length === guards.size ? guards : new Set(kept);
}

export { chainTermsOf as chainTerms } from "../ast/chains.js";
import { chainTermsOf as chainTerms } from "../ast/chains.js";

/**
 * Types conditions against the schema. Results are recorded per node (`types`,
 * `resolutions`) for the compiler; problems become diagnostics and the node gets the
 * `error` type so one mistake does not cascade into many.
 */
export class ExpressionChecker {
  readonly types = new Map<A.Expr, Type>();
  readonly resolutions = new Map<A.Expr, Resolution>();
  /** Enum names referenced from conditions (for the unused-declaration warning). */
  readonly usedEnums = new Set<string>();

  /** Strings in comparisons that can never match (PC506–PC508). */
  private readonly literalComparisons: LiteralComparisonChecks;
  /**
   * For a bare name that nothing resolves, the bare names written with it (the rest of its list
   * literal, the other side of its comparison): they tell which enum is meant when several have it.
   */
  private readonly namesBeside = new Map<A.Expr, readonly string[]>();
  /** Bare names compared with labels in a set whose labels are strings (see noteComparedWithLabels). */
  private readonly comparedWithLabels = new Set<A.Expr>();
  /** Comparisons and method calls that are the operand of a `not`: PC512's help writes the test they negate. */
  private readonly negatedComparisons = new Set<A.Expr>();
  /**
   * The tests of the condition being checked (comparisons, method calls) whose truth decides
   * it in one direction: 1 where their holding makes the condition hold, -1 where it makes it
   * fail (under an odd number of `not`s). Absent: a test inside another comparison
   * (`(x == "a*") == false`) or a quantifier's collection, whose direction is not read.
   */
  private testPolarity = new Map<A.Expr, 1 | -1>();

  constructor(
    private readonly schema: Schema,
    private readonly diagnostics: Diagnostic[],
  ) {
    this.literalComparisons = new LiteralComparisonChecks(schema, this.resolutions, diagnostics);
  }

  /** The quantifiers whose bodies are being checked, outermost first. */
  private readonly binders: A.Quantifier[] = [];

  /**
   * A quantifier variable named like something already in scope hides it in the body: an outer
   * variable, a built-in root (`url`, `session`…), an enum, or a bare name (a risk level, an
   * enum member, a one-part tool or intent name). The meaning is well defined, but a
   * reader (and often the writer) takes the name for the other thing: warn (PC505).
   */
  private checkBinding(expr: A.Quantifier, scope: Scope): void {
    const variable = expr.variable;
    if (scope.locals.has(variable.name)) {
      const outer = this.binderOf(variable.name);
      const where = outer ? `the enclosing \`${outer.quantifier}\` (line ${lineOf(outer.variable)})` : "an enclosing quantifier";
      this.diagnostics.push(diagnostic("PC505", `inside this \`${expr.quantifier}\`, \`${variable.name}\` hides the \`${variable.name}\` of ${where}`, variable.span, "give one of the two variables another name", outer ? [{ span: outer.variable.span, message: `the \`${variable.name}\` it hides` }] : undefined));
      return;
    }
    // The first part of a tool or intent name (`file` of `file.read`) is a natural variable
    // name and is hidden only in the rare body that also names that tool: no warning then,
    // only the help on the error such a body gets (hidingHelp). So is `path` over a list of
    // paths, which hides only `path.normalize`.
    const hidden = variable.name === "path" ? undefined : this.nameHiddenBy(variable.name, false);
    if (hidden === undefined) return;
    this.diagnostics.push(diagnostic("PC505", `inside this \`${expr.quantifier}\`, the variable \`${variable.name}\` hides ${hidden.text}`, variable.span, `give the variable another name: inside the body, \`${variable.name}\` means each element of the collection`, hidden.declared));
  }

  /** The innermost quantifier being checked that binds `name`. */
  private binderOf(name: string): A.Quantifier | undefined {
    for (let i = this.binders.length - 1; i >= 0; i--) if (this.binders[i]!.variable.name === name) return this.binders[i];
    return undefined;
  }

  /**
   * The name outside any quantifier that a variable called `name` would hide, described, with
   * where it is declared: an enum, its member, a tool or an intent (a built-in or a risk level is
   * declared nowhere in the sources: no place).
   */
  private nameHiddenBy(name: string, withToolNames = true): { readonly text: string; readonly declared?: RelatedLocation[] } | undefined {
    const at = (text: string, span: Span, what: string): { text: string; declared: RelatedLocation[] } => ({ text, declared: [{ span, message: `${what}, declared here` }] });
    if (ROOTS.includes(name) || name === "Risk") return { text: `the built-in \`${name}\`` };
    const enumInfo = this.schema.enums.get(name);
    if (enumInfo) return at(`the enum \`${name}\``, enumInfo.decl.name.span, `the enum \`${name}\``);
    if ((RISK_LEVELS as readonly string[]).includes(name)) return { text: `the risk level \`${name}\`` };
    const owners = [...this.schema.enums.values()].filter((e) => e.members.includes(name));
    if (owners.length > 0) {
      const text = `the member \`${name}\` of ${listed(owners.map((e) => `\`${e.name}\``))}`;
      // (Each owner's member: a name in several enums is declared in each.)
      return { text, declared: owners.flatMap((e) => e.decl.members.filter((m) => m.name.name === name).slice(0, 1).map((m) => ({ span: m.span, message: `the member \`${name}\` of \`${e.name}\`, declared here` }))) };
    }
    const hides = (full: string): boolean => full === name || (withToolNames && full.split(".")[0] === name);
    const tool = [...this.schema.tools.values()].find((info) => hides(info.name));
    if (tool) return at(`the tool name \`${tool.name}\``, tool.decl.name.span, `the tool \`${tool.name}\``);
    const intent = [...this.schema.intents.values()].find((info) => hides(info.name));
    if (intent) return at(`the intent name \`${intent.name}\``, intent.decl.name.span, `the intent \`${intent.name}\``);
    return undefined;
  }

  /** For an error on `x.…` where `x` is a quantifier variable hiding a built-in: say so, pointing at the variable. */
  private hidingHelp(expr: A.Expr, scope: Scope): { readonly help: string; readonly related: RelatedLocation[] } | undefined {
    const base = firstName(expr);
    if (base.kind !== "NameRef" || !scope.locals.has(base.name)) return undefined;
    const hidden = this.nameHiddenBy(base.name);
    if (hidden === undefined) return undefined;
    const binder = this.binderOf(base.name);
    const where = binder ? ` of the \`${binder.quantifier}\` at line ${lineOf(binder.variable)}` : "";
    const help = `\`${base.name}\` here is the quantifier variable${where}, which hides ${hidden.text}: rename the variable`;
    return { help, related: binder ? [{ span: binder.variable.span, message: `the quantifier variable \`${base.name}\`` }] : [] };
  }

  /**
   * Whether a test's holding makes the rule's decision stricter; undefined when that cannot be
   * told: its direction is not read (see `testPolarity`), or the rule is an `ask`, which is
   * stricter than an allow of the same call and looser than the default deny of a tool no rule
   * allows, so a test that makes it apply more often is neither.
   */
  private truthTightens(test: A.Expr, rule: RuleContext): boolean | undefined {
    const polarity = this.testPolarity.get(test);
    if (polarity === undefined || rule.effect === "ask") return undefined;
    // A deny's `when` holding makes it apply, an allow's `unless` keeps it from applying: both tighten.
    const conditionTightens = (rule.effect === "deny") === (rule.clause === "when");
    return conditionTightens === (polarity === 1);
  }

  private report(code: Code, message: string, span: A.Expr["span"], help?: string | LazyHelp, related?: readonly RelatedLocation[]): Type {
    this.diagnostics.push(diagnostic(code, message, span, help, related));
    return ERROR;
  }

  /** Reports a mistake whose help (a did-you-mean) names another place, both worked out when first read. */
  private reportAdvised(code: Code, message: string, span: A.Expr["span"], advice: LazyAdvice): Type {
    this.diagnostics.push(advisedDiagnostic(code, message, span, advice));
    return ERROR;
  }

  private record(expr: A.Expr, type: Type, resolution?: Resolution): Type {
    this.types.set(expr, type);
    if (resolution) this.resolutions.set(expr, resolution);
    return type;
  }

  /** Checks a condition and requires a bool. */
  checkCondition(expr: A.Expr, scope: Scope, rule: RuleContext): void {
    this.testPolarity = polaritiesOf(expr);
    const type = this.infer(expr, scope, rule);
    if (type.kind !== "bool" && type.kind !== "error") this.report("PC305", `a condition must be a bool, but this is ${describeType(type)}`, expr.span);
  }

  /** Guards that hold after `expr` evaluated to true (a `has`, an `and` of them, or the negation of what guards when false). */
  guardsFrom(expr: A.Expr): string[] {
    if (expr.kind === "Paren") return this.guardsFrom(expr.expression);
    // `not E` is true when E is false: `not (not (x has f))` guards as `x has f` does, and
    // `not (not (x has f) or …)` too (De Morgan), as the reader of the rule takes them.
    if (expr.kind === "Not") return this.guardsFromFalse(expr.operand);
    if (expr.kind === "Has") {
      const base = pathKey(expr.object);
      return base === undefined ? [] : [`${base}.${expr.attribute.name}`];
    }
    if (expr.kind === "Binary" && expr.operator === "and") return chainTerms(expr, "and").flatMap((t) => this.guardsFrom(t));
    return [];
  }

  /** Guards that hold after `expr` evaluated to false: `not (x has f)` is false when `x has f`. */
  private guardsFromFalse(expr: A.Expr): string[] {
    if (expr.kind === "Paren") return this.guardsFromFalse(expr.expression);
    if (expr.kind === "Not") return this.guardsFrom(expr.operand);
    if (expr.kind === "Binary" && expr.operator === "or") return chainTerms(expr, "or").flatMap((t) => this.guardsFromFalse(t));
    return [];
  }

  private withGuards(scope: Scope, guards: readonly string[]): Scope {
    if (guards.length === 0) return scope;
    return { ...scope, guards: new Set([...scope.guards, ...guards]) };
  }

  /**
   * The type of a value. A namespace (`session`, `url`, `email`, `Risk`, an enum's name) is
   * not one: it only qualifies a member (`session.calls`, `Label.pii`) or a function.
   */
  infer(expr: A.Expr, scope: Scope, rule: RuleContext, expected?: Type): Type {
    const type = this.inferValueOrNamespace(expr, scope, rule, expected);
    if (type.kind !== "namespace") return type;
    // Compared with a string (`args.branch == url`), the name may be text whose quotes were forgotten.
    const quoted = expr.kind === "NameRef" && expected?.kind === "string" ? `if the text was meant, strings are written in quotes: ${JSON.stringify(expr.name)}` : undefined;
    return this.record(expr, this.report("PC206", `\`${type.name}\` is not a value: ${ownEntry(NAMESPACE_USE, type.name) ?? `it is an enum; name one of its members, as in \`${type.name}.${this.schema.enums.get(type.name)?.members[0] ?? "member"}\``}`, expr.span, quoted));
  }

  private inferValueOrNamespace(expr: A.Expr, scope: Scope, rule: RuleContext, expected?: Type): Type {
    switch (expr.kind) {
      case "BoolLiteral":
        return this.record(expr, BOOL);
      case "IntLiteral":
        return this.record(expr, INT);
      case "StringLiteral":
        return this.record(expr, STRING);
      case "DurationLiteral":
        return this.record(expr, DURATION);
      case "ErrorExpr":
        return this.record(expr, ERROR);
      case "Paren":
        return this.record(expr, this.infer(expr.expression, scope, rule, expected));
      case "Wildcard":
        return this.record(expr, this.report("PC300", "`*` is only a tool pattern, as in `session.count(*, within 1m)`", expr.span));
      case "ListLiteral":
        return this.record(expr, this.inferList(expr, scope, rule, expected));
      case "Not": {
        const negated = unparenthesized(expr.operand);
        if (negated.kind === "Binary" || negated.kind === "Call") this.negatedComparisons.add(negated);
        const operand = this.infer(expr.operand, scope, rule);
        if (operand.kind !== "bool" && operand.kind !== "error") this.report("PC300", `\`not\` needs a bool, but this is ${describeType(operand)}`, expr.operand.span);
        return this.record(expr, BOOL);
      }
      case "Binary":
        return this.record(expr, this.inferBinary(expr, scope, rule));
      case "Has":
        return this.record(expr, this.inferHas(expr, scope, rule));
      case "Quantifier": {
        const collection = this.infer(expr.collection, scope, rule);
        let element: Type = ERROR;
        if (isCollection(collection)) element = collection.element;
        else if (collection.kind !== "error") this.report("PC300", `\`${expr.quantifier}\` needs a set or list, but this is ${describeType(collection)}`, expr.collection.span);
        // `any(x in []: …)`: nothing tells what `x` is, so nothing in the body could be checked;
        // and the collection is always empty, so the quantifier is a constant.
        if (element.kind === "empty") element = this.report("PC300", `\`${expr.quantifier}\` over an empty list: \`${expr.variable.name}\` has no type, and the \`${expr.quantifier}\` is always ${expr.quantifier === "all"}`, expr.collection.span, "quantify over a list of the request (`args.…`, `context.…`), or write the constant you mean");
        this.checkBinding(expr, scope);
        const locals = new Map(scope.locals);
        locals.set(expr.variable.name, element);
        this.binders.push(expr);
        let body: Type;
        try {
          body = this.infer(expr.body, { locals, guards: guardsOutside(scope.guards, expr.variable.name) }, rule);
        } finally {
          this.binders.pop();
        }
        if (body.kind !== "bool" && body.kind !== "error") this.report("PC300", `the body of \`${expr.quantifier}\` must be a bool, but this is ${describeType(body)}`, expr.body.span);
        return this.record(expr, BOOL);
      }
      case "NameRef":
      case "Member":
        return this.inferPath(expr, scope, rule, expected);
      case "Call":
        return this.record(expr, this.inferCall(expr, scope, rule));
    }
  }

  private inferList(expr: A.ListLiteral, scope: Scope, rule: RuleContext, expected?: Type): Type {
    // Compared with something that failed (and was reported), its bare names are not guessed at either.
    const expectedElement = expected?.kind === "error" ? ERROR : expected && isCollection(expected) ? expected.element : undefined;
    let element: Type | undefined = expectedElement;
    /** Strings where the other side wants enum members or risk levels: one mistake (the quotes), reported once. */
    const quoted: A.StringLiteral[] = [];
    /** Elements of another type than the other side's, which they are compared with: one mistake, reported once. */
    const strangers: { item: A.Expr; type: Type }[] = [];
    if (expectedElement === undefined) {
      const names = this.bareNamesIn(expr, scope);
      this.noteNamesBeside(names, names);
    }
    const collectionKinds = new Set<"set" | "list">();
    for (const item of expr.elements) {
      const type = this.infer(item, scope, rule, element);
      if (isCollection(type)) collectionKinds.add(type.kind);
      if (element === undefined || element.kind === "error") element = type;
      // `args.pairs containsAny [args.pair]`, a set among lists: the literal holds sets, so the
      // lists are compared with it as sets, as `args.pair in args.pairs` compares them.
      else if (compatible(element, type)) element = comparedType(element, type);
      else {
        if (item.kind === "StringLiteral" && element === expectedElement && memberKindOf(element)) quoted.push(item);
        else if (element === expectedElement) strangers.push({ item, type });
        else this.report("PC300", `list elements must have one type: expected ${describeType(element)}, found ${describeType(type)}`, item.span);
      }
    }
    if (strangers.length > 0 && expectedElement !== undefined) this.reportStrangers(strangers, expectedElement);
    // `[["cp", "a", "b"], args.extra]`: a list and a set among the items. Compared as one type,
    // either the list would be compared ignoring its order, or the set in an order it does not
    // have: each must be compared as it is, in a test of its own.
    if (collectionKinds.size > 1) this.report("PC300", "this list holds both sets and lists, which compare differently (a set ignoring order and repeats, a list in order)", expr.span, "write a test for each, joined with `or`, as in `x == [\"a\", \"b\"] or x == args.tags`");
    if (quoted.length > 0 && element) {
      const shown = quoted.map((q) => `\`"${q.value}"\``);
      const strings = shown.length === 1 ? `${shown[0]} is a string` : `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]} are strings`;
      const span = { ...quoted[0]!.span, end: quoted[quoted.length - 1]!.span.end };
      this.report("PC300", `this list must hold ${membersOf(memberKindOf(element)!)}, but ${strings}`, span, this.quotedMemberAdvice(element, quoted.map((q) => q.value)));
    }
    // `[]` with nothing to say what it holds: an element of no type yet, which any other fits.
    return { kind: expected?.kind === "set" ? "set" : "list", element: element ?? EMPTY };
  }

  /**
   * `tool.risk in [1, 2]`, `agent.attested in ["yes"]`: elements that cannot be compared with
   * the other side. One error for the list, as the comparison's own (PC302 for a `Risk`, with
   * its help), not one per element about the list's types, which are the same.
   */
  private reportStrangers(strangers: readonly { item: A.Expr; type: Type }[], expected: Type): void {
    const span = { ...strangers[0]!.item.span, end: strangers[strangers.length - 1]!.item.span.end };
    const found = describeType(strangers[0]!.type);
    if (expected.kind === "risk") {
      this.report("PC302", `\`Risk\` can only be compared with a \`Risk\`, not ${found}`, span, "compare with a risk level: `low`, `medium`, `high`, `critical`");
      return;
    }
    const which = strangers.length === 1 ? `\`${printExpr(strangers[0]!.item)}\` is ${found}` : `${listed(strangers.map(({ item }) => `\`${printExpr(item)}\``))} are not`;
    const help = expected.kind === "bool" ? "compare a bool with `true` or `false`, or use it directly as a condition" : undefined;
    this.report("PC300", `this list's elements are compared with ${describeType(expected)}, but ${which}`, span, help);
  }

  /** `context.env == "prod"`: help when the quotes turned an enum member or a risk level into a string. */
  private quotedMemberHelp(left: A.Expr, leftType: Type, right: A.Expr, rightType: Type): string | undefined {
    const leftString = stringValueOf(right);
    const rightString = stringValueOf(left);
    if (leftString !== undefined) return this.quotedMemberAdvice(leftType, [leftString]);
    if (rightString !== undefined) return this.quotedMemberAdvice(rightType, [rightString]);
    return undefined;
  }

  /** What to write instead of the strings `values` where `type` (or its element) is an enum or `Risk`. */
  private quotedMemberAdvice(type: Type, values: readonly string[]): string | undefined {
    const memberType = memberKindOf(isCollection(type) ? type.element : type);
    if (memberType === undefined || values.length === 0) return undefined;
    const typeName = memberType.kind === "risk" ? "Risk" : memberType.name;
    const members: readonly string[] = memberType.kind === "risk" ? RISK_LEVELS : (this.schema.enums.get(memberType.name)?.members ?? []);
    const stranger = values.find((v) => !members.includes(v));
    if (stranger === undefined) {
      if (values.length === 1) return `write \`${values[0]}\` (or \`${typeName}.${values[0]}\`) without quotes`;
      return `write them without quotes: ${values.map((v) => `\`${v}\``).join(", ")}`;
    }
    const shown = members.slice(0, 5).map((m) => `\`${m}\``).join(", ") + (members.length > 5 ? ", …" : "");
    const close = didYouMean(stranger, members);
    return `${membersOf(memberType)} are written without quotes, and \`${stranger}\` is not one: ${close ?? `they are ${shown}`}`;
  }

  /** True for a name chain that is not a path (`external`, `support.reply`, `crm.*`): resolved by what it is compared with. */
  private isBareName(expr: A.Expr, scope: Scope): boolean {
    let base: A.Expr = expr;
    let firstProperty: string | undefined;
    while (base.kind === "Member") {
      firstProperty = base.property.name;
      base = base.object;
    }
    if (base.kind === "Wildcard") return true;
    if (base.kind !== "NameRef") return false;
    // Outside a call, `email.send` or `url.fetch` can only be a tool name: `url`, `email`, `path`
    // and `ip` hold nothing but the functions `url.host`, `email.domain`, `path.normalize` and
    // `ip.inRange`, and tools often share their namespace.
    if ((base.name === "url" || base.name === "email" || base.name === "path" || base.name === "ip") && firstProperty !== undefined && !scope.locals.has(base.name)) {
      return !(FUNCTIONS[base.name] as readonly string[]).includes(firstProperty);
    }
    return !ROOTS.includes(base.name) && !scope.locals.has(base.name) && !this.schema.enums.has(base.name) && base.name !== "Risk";
  }

  /** A bare name, or a list literal holding one: typed only once the other side is known. */
  /** A literal (`"eve@evil.example"`, `5m`) or a bare name: what a list written as values holds. */
  private isLiteralOrBareName(expr: A.Expr, scope: Scope): boolean {
    const item = unparenthesized(expr);
    return item.kind === "StringLiteral" || item.kind === "IntLiteral" || item.kind === "BoolLiteral" || item.kind === "DurationLiteral" || this.isBareName(item, scope);
  }

  private needsContext(expr: A.Expr, scope: Scope): boolean {
    return this.bareNamesIn(expr, scope).length > 0;
  }

  /** The expression if it is a bare name, or the bare names among a list literal's elements. */
  private bareNamesIn(expr: A.Expr, scope: Scope): A.Expr[] {
    if (expr.kind === "ListLiteral") return expr.elements.filter((e) => this.isBareName(e, scope));
    return this.isBareName(expr, scope) ? [expr] : [];
  }

  /**
   * Notes the bare names of `side` when `other` is the labels (`session.labels contains pii`)
   * of a set with no label enum, where they are strings: PC206 then says where the label enum
   * comes from, since an enum that holds the name (`enum Labels`) was likely meant to be it.
   */
  private noteComparedWithLabels(side: A.Expr, other: A.Expr, scope: Scope): void {
    if (this.schema.labelEnum !== undefined) return;
    if (this.isLabels(other) || this.isLabelOfQuantifier(other)) for (const name of this.bareNamesIn(side, scope)) this.comparedWithLabels.add(name);
  }

  /** Whether `expr` is `session.labels` or `context.labels`. */
  private isLabels(expr: A.Expr): boolean {
    const inner = unparenthesized(expr);
    const resolution = this.resolutions.get(inner);
    const owner = inner.kind === "Member" ? this.resolutions.get(unparenthesized(inner.object)) : undefined;
    return (resolution?.kind === "sessionValue" && resolution.member === "labels") || (resolution?.kind === "field" && resolution.name === "labels" && owner?.kind === "entity" && owner.entity === "context");
  }

  /** Whether `expr` is the variable of an enclosing quantifier over the labels (`any(l in session.labels: l == pii)`). */
  private isLabelOfQuantifier(expr: A.Expr): boolean {
    const resolution = this.resolutions.get(unparenthesized(expr));
    if (resolution?.kind !== "local") return false;
    const binder = [...this.binders].reverse().find((quantifier) => quantifier.variable.name === resolution.name);
    return binder !== undefined && this.isLabels(binder.collection);
  }

  /** Notes, for each of `names`, the other names written with it (see namesBeside). */
  private noteNamesBeside(names: readonly A.Expr[], others: readonly A.Expr[]): void {
    for (const name of names) {
      const beside = others.filter((o) => o !== name).map((o) => dottedText(o) ?? "");
      this.namesBeside.set(name, [...(this.namesBeside.get(name) ?? []), ...beside]);
    }
  }

  private inferBinary(expr: A.Binary, scope: Scope, rule: RuleContext): Type {
    const { operator } = expr;
    if (operator === "and" || operator === "or") {
      let current = scope;
      for (const term of chainTerms(expr, operator)) {
        const type = this.infer(term, current, rule);
        if (type.kind !== "bool" && type.kind !== "error") this.report("PC300", `\`${operator}\` needs bool operands, but this is ${describeType(type)}`, term.span);
        current = this.withGuards(current, operator === "and" ? this.guardsFrom(term) : this.guardsFromFalse(term));
        if (operator === "or") current = { ...current, testedUnderOr: new Set([...(current.testedUnderOr ?? []), ...this.guardsFrom(term)]) };
      }
      // Record intermediate nodes of the chain so every Binary has a type.
      let node: A.Expr = expr;
      while (node.kind === "Binary" && node.operator === operator) {
        this.types.set(node, BOOL);
        node = node.left;
      }
      return BOOL;
    }

    // Type the side that is not a bare name first; it tells what the bare name means. A list
    // literal of bare names (`[internal, partner] contains agent.zone`) waits for the other side too.
    const leftBare = this.needsContext(expr.left, scope);
    const rightBare = this.needsContext(expr.right, scope);
    // `internal == external`: neither side resolves the other, but together they may say which enum is meant.
    if (leftBare && rightBare) this.noteNamesBeside(this.bareNamesIn(expr.left, scope), this.bareNamesIn(expr.right, scope));
    let left: Type;
    let right: Type;
    if (leftBare && !rightBare) {
      right = this.infer(expr.right, scope, rule);
      this.noteComparedWithLabels(expr.left, expr.right, scope);
      const expectedLeft = operator === "in" ? elementOf(right) : operator === "contains" ? { kind: "list" as const, element: right } : right;
      left = this.infer(expr.left, scope, rule, expectedLeft);
    } else {
      left = this.infer(expr.left, scope, rule);
      if (isContainment(operator) && left.kind !== "error" && !canContain(left, operator)) return this.containmentOfOneValue(expr, left, scope, rule);
      // `args.to in ["eve@evil.example"]`: a whole list, where `in` takes one value. One error,
      // about the operator, rather than one per element of the list.
      // (A list of paths, `context.blackout in [context.frozen]`, may well hold collections: typed as written.)
      const rightList = unparenthesized(expr.right);
      if (operator === "in" && isCollection(left) && rightList.kind === "ListLiteral" && rightList.elements.every((item) => unparenthesized(item).kind !== "ListLiteral") && rightList.elements.some((item) => this.isLiteralOrBareName(item, scope))) {
        const list = this.infer(expr.right, scope, rule, left);
        if (list.kind !== "error" && isCollection(list) && compatible(left.element, list.element)) {
          this.report("PC300", `\`in\` asks whether one value is among the list's, but this is ${describeType(left)}`, expr.left.span, "to ask whether any of its items is in the list, write `containsAny` for `in`; whether all of them are, `containsAll`");
        }
        return BOOL;
      }
      this.noteComparedWithLabels(expr.right, expr.left, scope);
      right = this.infer(expr.right, scope, rule, this.expectedRight(expr, left));
    }
    if (left.kind === "error" || right.kind === "error") return BOOL;
    // A list whose every element failed was reported element by element; its type says nothing.
    if (hasFailedElements(expr.left, left) || hasFailedElements(expr.right, right)) return BOOL;

    const quotedMember = this.quotedMemberHelp(expr.left, left, expr.right, right);
    // `session.age > 3600`: a bare number has no unit, so it is never a duration. The other way
    // round (`session.count(within 1m) > 1m`), the duration is what was written in the wrong place.
    const unitless = this.durationIntHelp(expr, left, right);
    const mismatch = (what: string): Type => {
      this.report("PC300", what, expr.span, quotedMember ?? unitless ?? comparisonHelp(expr, left, right, rule.effect !== "ask") ?? (left.kind === "bool" || right.kind === "bool" ? "compare a bool with `true` or `false`, or use it directly as a condition" : undefined));
      return BOOL;
    };
    const riskMismatch = (): Type => {
      const other = left.kind === "risk" ? right : left;
      this.report("PC302", `\`Risk\` can only be compared with a \`Risk\`, not ${describeType(other)}`, expr.span, quotedMember ?? "compare with a risk level: `low`, `medium`, `high`, `critical`");
      return BOOL;
    };

    const negated = this.negatedComparisons.has(expr);
    // In an `ask`, an evaluation error makes the rule match and sends the call to a person:
    // stricter than an allow, looser than a default deny, so `email.domain`'s is never offered.
    this.literalComparisons.checkBinary(expr, left, right, negated, this.truthTightens(expr, rule), rule.effect !== "ask");
    switch (operator) {
      case "==":
      case "!=":
        if ((left.kind === "risk") !== (right.kind === "risk")) return riskMismatch();
        if (!compatible(left, right)) return mismatch(`type mismatch: \`${operator}\` compares ${describeType(left)} with ${describeType(right)}`);
        return BOOL;
      case "<":
      case "<=":
      case ">":
      case ">=":
        if ((left.kind === "risk") !== (right.kind === "risk")) return riskMismatch();
        if (left.kind !== right.kind || !["int", "duration", "time", "risk", "enum"].includes(left.kind) || (left.kind === "enum" && !compatible(left, right))) {
          return mismatch(`\`${operator}\` compares numbers, durations, times, risks or members of one enum, not ${describeType(left)} and ${describeType(right)}`);
        }
        return BOOL;
      case "in":
        if (right.kind === "toolset") {
          if (left.kind !== "tool" && left.kind !== "string") return mismatch(`only a tool name can be \`in\` ${describeType(right)}`);
          return BOOL;
        }
        if (!isCollection(right)) return mismatch(`\`in\` needs a set or list on the right, but this is ${describeType(right)}`);
        if (!compatible(left, right.element)) return mismatch(`${describeType(left)} cannot be in ${describeType(right)}`);
        return BOOL;
      case "contains":
        if (isStringLike(left) && isStringLike(right)) return BOOL;
        if (left.kind === "toolset") {
          if (right.kind !== "tool" && right.kind !== "string") return mismatch(`${describeType(left)} can only contain a tool name`);
          return BOOL;
        }
        if (!isCollection(left)) return mismatch(`\`contains\` needs a set, a list or a string on the left, but this is ${describeType(left)}`);
        if (!compatible(left.element, right)) {
          // `context.labels contains [pii, secret]`: several elements, where `contains` takes one.
          if (isCollection(right) && compatible(left.element, right.element)) {
            this.report("PC300", "`contains` looks for one element, not a list of them", expr.right.span, "to test several, use `containsAny` (any of them) or `containsAll` (all of them)");
            return BOOL;
          }
          return mismatch(`${describeType(left)} cannot contain ${describeType(right)}`);
        }
        return BOOL;
      case "containsAny":
      case "containsAll":
        if (!isCollection(left) || !isCollection(right)) return mismatch(`\`${operator}\` needs a set or list on both sides, not ${describeType(left)} and ${describeType(right)}`);
        if (!compatible(left.element, right.element)) return mismatch(`${describeType(left)} and ${describeType(right)} hold different types`);
        return BOOL;
      case "like":
        if (!isStringLike(left)) {
          this.report("PC301", `\`like\` matches strings, but this is ${describeType(left)}`, expr.left.span, comparisonHelp(expr, left, right, rule.effect !== "ask"));
          return BOOL;
        }
        if (right.kind !== "string") return mismatch(`the pattern of \`like\` must be a string, but this is ${describeType(right)}`);
        return BOOL;
    }
  }

  /** For a duration compared with an int: which of the two was written in the wrong form. */
  private durationIntHelp(expr: A.Binary, left: Type, right: Type): string | undefined {
    const [intSide, durationSide] = left.kind === "int" && right.kind === "duration" ? [expr.left, expr.right] : left.kind === "duration" && right.kind === "int" ? [expr.right, expr.left] : [undefined, undefined];
    if (intSide === undefined || durationSide === undefined) return undefined;
    if (unparenthesized(intSide).kind === "IntLiteral") return "write a duration with its unit, such as `1h` or `30s`";
    if (unparenthesized(durationSide).kind === "DurationLiteral") return `\`${printExpr(intSide)}\` is a number: compare it with a number, without a unit`;
    return undefined;
  }

  /**
   * What the right side of a comparison is typed against, given the left side's type. A bare name
   * on the right is resolved by it (`tool in [kb.search]` holds tools, `zone == external` an enum
   * member); when the left side failed, nothing is guessed, so its one mistake gives one error.
   */
  private expectedRight(expr: A.Binary, left: Type): Type | undefined {
    const listOnRight = unparenthesized(expr.right).kind === "ListLiteral";
    if (left.kind === "error") return listOnRight ? { kind: "list", element: ERROR } : ERROR;
    if (expr.operator === "in") return { kind: "set", element: left };
    if (expr.operator !== "contains") return left;
    // `context.labels contains [pii, secret]`: the list's names are labels (the mistake is the
    // operator, which the check below names), not unknown names. A collection of collections
    // (`context.ceilings contains [high, critical]`) contains such a list: its element is expected.
    if (listOnRight && isCollection(left) && !isCollection(left.element)) return left;
    return elementOf(left);
  }

  /**
   * `context.cluster contains prod`: the left side holds one value, so nothing can be in it. Said
   * first, with the operator that fits; the right side is typed as the left side's value (or a
   * list of them), which is what the writer meant, so a bare member name resolves instead of
   * being reported as an unknown name.
   */
  private containmentOfOneValue(expr: A.Binary, left: Type, scope: Scope, rule: RuleContext): Type {
    const operator = expr.operator as ContainmentOperator;
    if (left.kind === "toolset") {
      // `intent.tools containsAny [kb.search]`: patterns, not a list of names; its right side names tools.
      this.infer(expr.right, scope, rule, { kind: "list", element: TOOL });
      this.report("PC300", `\`${operator}\` needs a set or a list on the left, but this is ${describeType(left)}`, expr.span, "ask about one tool at a time: `intent.tools contains kb.search`, or `tool in intent.tools` for the tool being called");
      return BOOL;
    }
    this.infer(expr.right, scope, rule, operator === "contains" ? left : { kind: "list", element: left });
    const needs = operator === "contains" ? "a set, a list or a string" : "a set or a list";
    const help = operator === "contains" ? "to compare one value, use `==`" : `to test one value against several, use \`in\`: \`${printExpr(expr.left)} in ${printExpr(expr.right)}\``;
    this.report("PC300", `\`${operator}\` needs ${needs} on the left, but this is ${describeType(left)}`, expr.span, help);
    return BOOL;
  }

  private inferHas(expr: A.Has, scope: Scope, rule: RuleContext): Type {
    const object = this.infer(expr.object, scope, rule);
    if (object.kind === "error") return BOOL;
    const shape = this.shapeOf(object, rule);
    if (!shape) return this.report("PC306", `\`has\` needs something with attributes, but this is ${describeType(object)}`, expr.object.span), BOOL;
    // A `has` on a required attribute is always true: harmless, so it is allowed.
    this.fieldOf(shape, expr.attribute, object, rule);
    return BOOL;
  }

  /** The attributes of a record-like type, or undefined when the type has none. */
  private shapeOf(type: Type, rule: RuleContext): RecordShape | undefined {
    if (type.kind === "record") return this.schema.records.get(type.name) ?? this.schema.entities.get(type.name as "agent");
    if (type.kind === "args") return this.argsShape(rule);
    return undefined;
  }

  /**
   * The arguments a rule can read: those present in every targeted tool with one type.
   * Others are kept aside so a read of them gets a precise PC304.
   */
  private argsShapes = new Map<string, RecordShape>();
  private argsShape(rule: RuleContext): RecordShape {
    const key = rule.tools.join(",");
    const cached = this.argsShapes.get(key);
    if (cached) return cached;
    const fields = new Map<string, FieldInfo>();
    const [first, ...rest] = rule.tools.map((t) => this.schema.tools.get(t)!.args);
    if (first) {
      for (const [name, field] of first.fields) {
        if (rest.every((other) => { const f = other.fields.get(name); return f !== undefined && sameType(f.type, field.type) && f.optional === field.optional; })) fields.set(name, field);
      }
    }
    const shape: RecordShape = { name: "args", fields };
    this.argsShapes.set(key, shape);
    return shape;
  }

  /** Looks an attribute up; reports PC202/PC304 when it is not there. */
  private fieldOf(shape: RecordShape, name: A.Identifier, owner: Type, rule: RuleContext): FieldInfo | undefined {
    const field = shape.fields.get(name.name);
    if (field) return field;
    if (owner.kind === "args") {
      const having = rule.tools.filter((t) => this.schema.tools.get(t)!.args.fields.has(name.name));
      if (having.length > 0) {
        const missing = rule.tools.filter((t) => !having.includes(t));
        const detail = missing.length > 0 ? `\`${missing.slice(0, 3).join("`, `")}\`${missing.length > 3 ? ` and ${missing.length - 3} more` : ""} ${missing.length === 1 ? "has" : "have"} no argument \`${name.name}\`` : `its type differs between the targeted tools`;
        this.report("PC304", `\`args.${name.name}\` is not an argument of every tool this rule targets: ${detail}`, name.span, "target only the tools that take it, or write separate rules");
        return undefined;
      }
      // Each argument name once, declared where the first tool that takes it declares it.
      const allArgs = new Map<string, FieldInfo>();
      for (const tool of rule.tools) for (const [arg, field] of this.schema.tools.get(tool)!.args.fields) if (!allArgs.has(arg)) allArgs.set(arg, field);
      this.reportAdvised("PC202", `unknown argument \`${name.name}\``, name.span, () => fieldSuggested(name.name, allArgs) ?? { help: rule.tools.length === 1 ? `\`${rule.tools[0]}\` takes ${[...allArgs.keys()].map((a) => `\`${a}\``).join(", ") || "no arguments"}` : undefined });
      return undefined;
    }
    const ownerName = owner.kind === "record" ? owner.name : shape.name;
    this.reportAdvised("PC202", `unknown attribute \`${name.name}\` of \`${ownerName}\``, name.span, () => fieldSuggested(name.name, shape.fields) ?? {});
    return undefined;
  }

  private inferPath(expr: A.NameRef | A.Member, scope: Scope, rule: RuleContext, expected?: Type): Type {
    if (this.isBareName(expr, scope)) return this.record(expr, this.resolveBareName(expr, scope, expected));
    if (expr.kind === "NameRef") return this.inferRoot(expr, scope, rule);
    const object = this.inferValueOrNamespace(expr.object, scope, rule);
    const property = expr.property;
    if (object.kind === "error") return this.record(expr, ERROR);
    if (property.name === "*") return this.record(expr, this.report("PC300", "`.*` is only a tool pattern, as in `session.called(crm.*)`", property.span));
    switch (object.kind) {
      case "record":
      case "args": {
        const shape = this.shapeOf(object, rule);
        const field = shape && this.fieldOf(shape, property, object, rule);
        if (!field) return this.record(expr, ERROR);
        if (field.optional) {
          const key = pathKey(expr);
          if (key === undefined || !scope.guards.has(key)) {
            const base = pathKey(expr.object) ?? "…";
            if (key !== undefined && scope.testedUnderOr?.has(key)) {
              // The guard is written, but an `or` reads this term only when it was false (audit s20 a1 L3).
              this.report("PC303", `\`${property.name}\` is optional and may be absent: the guard \`${base} has ${property.name}\` is under \`or\`, so it does not cover this read`, expr.span, `an \`or\` reads this when the guard is false: write \`${base} has ${property.name} and ${key}…\`, or \`not (${base} has ${property.name}) or ${key}…\` to include its absence`);
            } else this.report("PC303", `\`${property.name}\` is optional and may be absent: guard it with \`${base} has ${property.name}\``, expr.span, `write \`${base} has ${property.name} and ${key ?? "…"}…\``);
          }
        }
        return this.record(expr, field.type, { kind: "field", name: property.name, optional: field.optional });
      }
      case "tool":
        if (property.name === "risk") return this.record(expr, RISK, { kind: "toolRisk" });
        return this.record(expr, this.report("PC202", `unknown attribute \`${property.name}\` of \`tool\``, property.span, didYouMean(property.name, ["risk"]) ?? "`tool` has `risk`; compare `tool` itself with a tool name"));
      case "intent":
        if (property.name === "tools") return this.record(expr, TOOLSET, { kind: "intentTools" });
        if (property.name === "max_risk") return this.record(expr, RISK, { kind: "intentMaxRisk" });
        return this.record(expr, this.report("PC202", `unknown attribute \`${property.name}\` of \`intent\``, property.span, didYouMean(property.name, ["tools", "max_risk"]) ?? "`intent` has `tools` and `max_risk`"));
      case "namespace":
        return this.record(expr, this.namespaceMember(expr, object.name));
      default: {
        const hiding = this.hidingHelp(expr.object, scope);
        return this.record(expr, this.report("PC202", `${describeType(object)} has no attribute \`${property.name}\``, property.span, hiding?.help ?? methodWithoutParentheses(expr, object), hiding?.related));
      }
    }
  }

  private namespaceMember(expr: A.Member, namespace: string): Type {
    const property = expr.property;
    if (namespace === "session") {
      const member = property.name as (typeof SESSION_VALUES)[number];
      if ((SESSION_VALUES as readonly string[]).includes(member)) {
        this.resolutions.set(expr, { kind: "sessionValue", member });
        return sessionValueType(member, this.schema);
      }
      if ((SESSION_CALLS as readonly string[]).includes(member)) {
        return this.report("PC210", `\`session.${member}\` needs arguments`, expr.span, property.name === "count" ? "write `session.count(within 1m)`" : "write `session.called(crm.lookup)`");
      }
      return this.report("PC209", `unknown session member \`${property.name}\``, property.span, didYouMean(property.name, [...SESSION_VALUES, ...SESSION_CALLS]));
    }
    if (namespace === "Risk") {
      if ((RISK_LEVELS as readonly string[]).includes(property.name)) {
        this.resolutions.set(expr, { kind: "riskLevel", level: property.name as RiskLevel });
        return RISK;
      }
      // The code of an unknown risk level wherever it is written, a declaration's or a condition's (audit a1 F6).
      return this.report("PC212", `unknown risk level \`${property.name}\``, property.span, didYouMean(property.name, RISK_LEVELS) ?? "risk levels are `low`, `medium`, `high`, `critical`");
    }
    const enumInfo = this.schema.enums.get(namespace);
    if (enumInfo) {
      this.usedEnums.add(namespace);
      if (enumInfo.members.includes(property.name)) {
        this.resolutions.set(expr, { kind: "enumMember", enumName: namespace, member: property.name });
        return { kind: "enum", name: namespace };
      }
      return this.report("PC205", `\`${property.name}\` is not a member of \`${namespace}\``, property.span, () => didYouMean(property.name, enumInfo.members));
    }
    return this.report("PC211", `\`${namespace}.${property.name}\` is a function: call it, as in \`${namespace}.${property.name}(…)\``, expr.span);
  }

  private inferRoot(expr: A.NameRef, scope: Scope, rule: RuleContext): Type {
    const local = scope.locals.get(expr.name);
    if (local) return this.record(expr, local, { kind: "local", name: expr.name });
    switch (expr.name) {
      case "agent":
      case "user":
      case "context": {
        if (!this.schema.entities.has(expr.name)) return this.record(expr, this.report("PC206", `\`${expr.name}\` has no attributes: the set declares no \`${expr.name} { … }\` block`, expr.span));
        return this.record(expr, { kind: "record", name: expr.name }, { kind: "entity", entity: expr.name });
      }
      case "args":
        if (rule.tools.length === 0) return this.record(expr, ERROR);
        return this.record(expr, { kind: "args" }, { kind: "args" });
      case "tool":
        return this.record(expr, TOOL, { kind: "toolName" });
      case "intent":
        return this.record(expr, INTENT, { kind: "intentName" });
      case "now":
        return this.record(expr, TIME, { kind: "now" });
      case "session":
      case "url":
      case "email":
      case "path":
      case "ip":
      case "Risk":
        return this.record(expr, { kind: "namespace", name: expr.name }, { kind: "namespace" });
    }
    if (this.schema.enums.has(expr.name)) return this.record(expr, { kind: "namespace", name: expr.name }, { kind: "namespace" });
    return this.record(expr, ERROR);
  }

  /** A bare name resolved by what it is compared with: an enum member, risk level, tool or intent name. */
  private resolveBareName(expr: A.Expr, scope: Scope, expected?: Type): Type {
    const text = dottedText(expr) ?? "";
    const element = expected && isCollection(expected) ? expected.element : expected;
    // The other side already failed and was reported; guessing here would only add noise.
    if (element?.kind === "error") return ERROR;
    if (element?.kind === "enum") {
      const info = this.schema.enums.get(element.name)!;
      this.usedEnums.add(element.name);
      if (info.members.includes(text)) {
        this.resolutions.set(expr, { kind: "enumMember", enumName: element.name, member: text });
        return element;
      }
      return this.report("PC205", `\`${text}\` is not a member of \`${element.name}\``, expr.span, () => didYouMean(text, info.members) ?? `members: ${info.members.map((m) => `\`${m}\``).join(", ")}`);
    }
    if (element?.kind === "risk") {
      if ((RISK_LEVELS as readonly string[]).includes(text)) {
        this.resolutions.set(expr, { kind: "riskLevel", level: text as RiskLevel });
        return RISK;
      }
      return this.report("PC212", `unknown risk level \`${text}\``, expr.span, didYouMean(text, RISK_LEVELS) ?? "risk levels are `low`, `medium`, `high`, `critical`");
    }
    if (element?.kind === "tool" || element?.kind === "toolset") {
      if (this.schema.tools.has(text)) {
        this.resolutions.set(expr, { kind: "toolConstant", name: text });
        return TOOL;
      }
      return this.report("PC203", `unknown tool \`${text}\``, expr.span, () => didYouMean(text, this.schema.tools.keys()));
    }
    if (element?.kind === "intent") {
      if (this.schema.intents.has(text)) {
        this.resolutions.set(expr, { kind: "intentConstant", name: text });
        return INTENT;
      }
      return this.report("PC204", `unknown intent \`${text}\``, expr.span, () => didYouMean(text, this.schema.intents.keys()));
    }
    // Nothing to resolve against: say what the name could have been.
    const candidates = [...ROOTS, ...scope.locals.keys(), ...this.schema.enums.keys()];
    if (this.schema.tools.has(text)) return this.report("PC206", `\`${text}\` is a tool name: compare it with \`tool\`, as in \`tool == ${text}\``, expr.span);
    if (this.schema.intents.has(text)) return this.report("PC206", `\`${text}\` is an intent name: compare it with \`intent\`, as in \`intent == ${text}\``, expr.span);
    const root = text.split(".")[0]!;
    // `low > medium`: two risk levels and nothing to say what they are.
    if (element === undefined && (RISK_LEVELS as readonly string[]).includes(text) && ![...this.schema.enums.values()].some((e) => e.members.includes(text))) return this.report("PC206", `unknown name \`${text}\``, expr.span, `with nothing that is a \`Risk\` beside it, a risk level is written \`Risk.${text}\``);
    const quoted = element?.kind === "string" ? `strings are written in quotes: ${JSON.stringify(text)}` : undefined;
    const memberHelp = this.enumMemberHelp(text, this.namesBeside.get(expr) ?? []);
    // An enum member compared with a string (`agent.team == internal`) is text whose quotes were
    // forgotten; compared with labels that are strings, it is a label of an enum that is not the label enum.
    const labelHelp = memberHelp !== undefined && this.comparedWithLabels.has(expr) ? this.notLabelEnumHelp(text) : undefined;
    // A bare name where a string is expected is text whose quotes were forgotten (`args.branch ==
    // main`) more often than a typo of a root or an enum: only a local (a quantifier's variable)
    // is still suggested before the quotes, not `email` for `main` (audit s20 a1 M2).
    const nameCandidates = quoted !== undefined && expr.kind === "NameRef" ? scope.locals.keys() : candidates;
    const help = labelHelp ?? (memberHelp !== undefined ? (quoted ?? memberHelp) : undefined) ?? this.unknownRootHelp(root, text) ?? didYouMean(root, nameCandidates) ?? quoted;
    return this.report("PC206", `unknown name \`${root}\``, expr.kind === "Member" ? firstName(expr).span : expr.span, help);
  }

  /**
   * For a bare enum member nothing resolves: the enum to name it with. When several enums have
   * it, the one that also has every other member written beside it is the one meant (`[internal,
   * external]`: only `Zone` has `external`); without such a one, all of them are named.
   */
  private enumMemberHelp(text: string, beside: readonly string[]): string | undefined {
    const enums = [...this.schema.enums.values()];
    const owners = enums.filter((e) => e.members.includes(text)).map((e) => e.name);
    if (owners.length === 0) return undefined;
    const advice = (names: readonly string[]): string => `write ${listed(names.map((n) => `\`${n}.${text}\``), "or")}${names.length > 1 ? "," : ""} or compare it with ${article(names[0]!)} ${listed(names.map((n) => `\`${n}\``), "or")} attribute`;
    if (owners.length === 1) return `\`${text}\` is a member of \`${owners[0]}\`: ${advice(owners)}`;
    const members = [...new Set(beside.filter((name) => name !== text && enums.some((e) => e.members.includes(name))))];
    const meant = members.length === 0 ? [] : owners.filter((owner) => members.every((name) => this.schema.enums.get(owner)!.members.includes(name)));
    const ownedBy = `\`${text}\` is a member of ${listed(owners.map((n) => `\`${n}\``))}`;
    if (meant.length === 1) return `${ownedBy}, and only \`${meant[0]}\` also has ${listed(members.map((m) => `\`${m}\``))}: ${advice(meant)}`;
    return `${ownedBy}: ${advice(owners)}`;
  }

  /**
   * For `session.labels contains pii` with `pii` a member of `enum Labels`, in a set with no label
   * enum (language.md 3.7): labels are then unchecked strings, and quoting the name would leave a
   * misspelt `returns pi` unnoticed, so the help says how to make the enum the label enum first.
   */
  private notLabelEnumHelp(text: string): string {
    const owners = [...this.schema.enums.values()].filter((e) => e.members.includes(text)).map((e) => e.name);
    const first = owners[0]!;
    // With `context.labels` declared, its element type decides: a `Label` enum beside it would not.
    const declared = this.schema.entities.get("context")?.fields.has("labels") === true;
    const make = declared ? `declare \`context.labels\` as \`set<${first}>\`` : `rename \`${first}\` to \`Label\`, or declare \`context.labels\` as \`set<${first}>\``;
    return `\`${text}\` is a member of ${listed(owners.map((n) => `\`${n}\``), "and")}, but labels are strings here: the label enum is the enum named \`Label\` or the element type of \`context.labels\`, and this set has neither; ${make}, to have labels checked (or write the string ${JSON.stringify(text)})`;
  }

  /**
   * Help for a name that is no root, when what was meant is clear: an attribute written without
   * its entity (`team`, `labels`: `agent.team`, `context.labels` or `session.labels`), or a
   * `null` the language does not have.
   */
  private unknownRootHelp(root: string, text: string): string | undefined {
    if (/^(null|nil|none|undefined)$/i.test(root)) return "there is no `null`: test whether an optional attribute is present with `has`, as in `context has destination`";
    // Rego's `input.tool`, a request object: here the request's parts are roots of their own.
    if (/^(input|request|req)$/i.test(root)) {
      const rest = text.slice(root.length + 1);
      return ROOTS.includes(rest.split(".")[0]!) ? `the request's parts are names of their own: write \`${rest}\`` : "the request's parts are names of their own: `tool`, `args`, `agent`, `user`, `context`, `intent`, `session`, `now`";
    }
    if (/^ctx$/i.test(root)) return "did you mean `context`?";
    if (/^(true|false)$/i.test(root)) return `did you mean \`${root.toLowerCase()}\`? keywords are lower case`;
    const owners = [...(REQUEST_ATTRIBUTES.get(root) ?? []), ...[...this.schema.entities].filter(([, shape]) => shape.fields.has(root)).map(([entity]) => `${entity}.${root}`)];
    if ((SESSION_VALUES as readonly string[]).includes(root)) owners.push(`session.${root}`);
    if (owners.length === 0) return undefined;
    return `did you mean ${owners.map((o) => `\`${o}\``).join(" or ")}?`;
  }

  private inferCall(expr: A.Call, scope: Scope, rule: RuleContext): Type {
    const callee = expr.callee;
    const method = callee.property.name;
    // session.count / session.called / url.host / email.domain / path.normalize / ip.inRange
    const calleeObject = callee.object;
    if (calleeObject.kind === "NameRef" && !scope.locals.has(calleeObject.name)) {
      if (calleeObject.name === "session") return this.sessionCall(expr, method, scope, rule);
      if (calleeObject.name === "ip") return this.ipCall(expr, method, scope, rule);
      if (calleeObject.name === "url" || calleeObject.name === "email" || calleeObject.name === "path") {
        const allowed = FUNCTIONS[calleeObject.name] as readonly string[];
        if (!allowed.includes(method)) return this.report("PC211", `unknown function \`${calleeObject.name}.${method}\``, callee.property.span, didYouMean(method, allowed) ?? `\`${calleeObject.name}\` has \`${calleeObject.name}.${allowed[0]}(s)\``);
        this.noWithin(expr);
        if (!this.arity(expr, 1, 1)) return ERROR;
        const argument = this.infer(expr.args[0]!, scope, rule);
        if (!isStringLike(argument)) this.report("PC300", `\`${calleeObject.name}.${method}\` takes a string, but this is ${describeType(argument)}`, expr.args[0]!.span);
        else this.nameForText(`${calleeObject.name}.${method}` as FunctionName, argument, expr.args[0]!);
        this.resolutions.set(expr, { kind: "function", name: `${calleeObject.name}.${method}` as FunctionName });
        return STRING;
      }
    }
    const object = this.infer(calleeObject, scope, rule);
    this.noWithin(expr);
    if (object.kind === "error") {
      for (const a of expr.args) this.infer(a, scope, rule);
      return ERROR;
    }
    // Only strings have a length: a tool or intent name is compared, not measured (language.md 5.10).
    if (method === "size" && (isCollection(object) || object.kind === "string")) {
      if (!this.arity(expr, 0, 0)) return ERROR;
      this.resolutions.set(expr, { kind: "method", name: "size" });
      return INT;
    }
    if (isStringLike(object) && (method === "startsWith" || method === "endsWith")) {
      if (!this.arity(expr, 1, 1)) return ERROR;
      const argument = this.infer(expr.args[0]!, scope, rule);
      if (!isStringLike(argument)) this.report("PC300", `\`${method}\` takes a string, but this is ${describeType(argument)}`, expr.args[0]!.span);
      else this.literalComparisons.checkAffix(method, calleeObject, object, expr.args[0]!, this.negatedComparisons.has(expr), this.truthTightens(expr, rule));
      this.resolutions.set(expr, { kind: "method", name: method });
      return BOOL;
    }
    if (isStringLike(object) && method === "lower") {
      if (!this.arity(expr, 0, 0)) return ERROR;
      this.resolutions.set(expr, { kind: "method", name: "lower" });
      return STRING;
    }
    const methods = isCollection(object) ? ["size"] : object.kind === "string" ? ["startsWith", "endsWith", "lower", "size"] : isStringLike(object) ? ["startsWith", "endsWith", "lower"] : [];
    const hiding = this.hidingHelp(calleeObject, scope);
    const help = hiding?.help ?? operatorWrittenAsMethod(expr) ?? didYouMean(method, methods) ?? (methods.length > 0 ? `${describeType(object)} has ${methods.map((m) => `\`${m}()\``).join(", ")}` : undefined);
    // `now.hour()`: the time of day, weekday and time zone are the enforcement point's to send.
    const timeHelp = object.kind === "time" ? "a `time` has no hour, weekday or time zone: have the enforcement point send a time-of-day window in `context`, as a flag (`business_hours: bool`) or as its bounds (`opens: time`) to compare `now` with (language reference, section 3.1)" : undefined;
    // (The related place goes with the help that names it: the variable hiding a built-in.)
    return this.report("PC211", `${describeType(object)} has no method \`${method}\``, callee.property.span, help ?? timeHelp, hiding?.related);
  }

  /**
   * `ip.inRange(s, "10.0.0.0/8")`, or with a list of ranges. The ranges are written in the policy,
   * so a range that is not one (`"10.0.0/8"`, `"10.0.0.1/8"`) is found here (PC307), not in traffic.
   */
  private ipCall(expr: A.Call, method: string, scope: Scope, rule: RuleContext): Type {
    const allowed = FUNCTIONS.ip as readonly string[];
    if (!allowed.includes(method)) return this.report("PC211", `unknown function \`ip.${method}\``, expr.callee.property.span, didYouMean(method, allowed) ?? '`ip` has `ip.inRange(s, "10.0.0.0/8")`');
    this.noWithin(expr);
    if (!this.arity(expr, 2, 2)) return ERROR;
    const [subject, rangesWritten] = expr.args as [A.Expr, A.Expr];
    const subjectType = this.infer(subject, scope, rule);
    if (!isStringLike(subjectType)) this.report("PC300", `\`ip.inRange\` tests a string (an address, as \`url.host(args.url)\` returns it), but this is ${describeType(subjectType)}`, subject.span);
    else this.nameForText("ip.inRange", subjectType, subject);
    this.infer(rangesWritten, scope, rule);
    const ranges = this.ipRangesWritten(unparenthesized(rangesWritten));
    if (ranges !== undefined) this.resolutions.set(expr, { kind: "ipInRange", ranges });
    return BOOL;
  }

  /**
   * `session.called(args.s)`, `session.called(tool)`: a value of the request (or a quantifier's
   * variable) where the pattern goes. Patterns are written in the policy, so the session keeps
   * the calls of each one: said as such rather than as an unknown tool, and, for the tool being
   * called, with the test that asks it. A declared tool of that name (`tool user.lookup`) is
   * the tool, as a dotted name in a pattern always is.
   */
  private requestValueAsPattern(argument: A.Expr, pattern: string, method: string, scope: Scope, rule: RuleContext): Type | undefined {
    const base = firstName(argument);
    if (base.kind !== "NameRef" || pattern.includes("*") || this.schema.tools.has(pattern)) return undefined;
    const local = scope.locals.has(base.name);
    if (!local && !REQUEST_ROOTS.has(base.name)) return undefined;
    const what = local ? `\`${pattern}\` is ${base.name === pattern ? "the variable" : "read from the variable"} of a quantifier, a value of the request` : pattern === "tool" ? "`tool` is the name of the tool being called, a value of the request" : `\`${pattern}\` is a value of the ${base.name === "session" ? "session" : "request"}`;
    const [target] = rule.tools;
    const help =
      pattern === "tool" && method === "called"
        ? "to ask whether the tool being called was allowed before in the session, write `session.tools contains tool`"
        : `write the tool's name${rule.tools.length === 1 ? `, as in \`session.${method}(${target}${method === "count" ? ", within 1m" : ""})\`` : ", a pattern like `kb.*`, or a string holding a glob"}`;
    return this.report("PC300", `the pattern of \`session.${method}\` is written in the policy (a tool name, a pattern like \`kb.*\`, or a string), but ${what}`, argument.span, help);
  }

  /**
   * `path.normalize(tool)`: a tool or intent name is string-like, but never a path, a URL, an
   * address or an IP, so the call would fail on every request (or, for `ip.inRange`, never hold).
   * PC300, naming what the function reads.
   */
  private nameForText(fn: keyof typeof TEXT_READ_BY, argument: Type, written: A.Expr): void {
    if (argument.kind !== "tool" && argument.kind !== "intent") return;
    const what = TEXT_READ_BY[fn];
    const name = argument.kind === "tool" ? "a tool name" : "an intent name";
    this.report("PC300", `\`${fn}\` reads ${what.text} from a string, but \`${printExpr(written)}\` is ${name}, which is never one`, written.span, `pass the request's string that holds ${what.text}, as in \`${fn}(${what.example})\``);
  }

  /** The ranges of an `ip.inRange`, each a CIDR in a string literal; undefined (and reported) when one is not. */
  private ipRangesWritten(expr: A.Expr): string[] | undefined {
    if (expr.kind === "ListLiteral" && expr.elements.length === 0) {
      this.report("PC307", "`ip.inRange` with no ranges is never true", expr.span, 'write the ranges, as in `["10.0.0.0/8", "fc00::/7"]`');
      return undefined;
    }
    const literals = expr.kind === "StringLiteral" ? [expr] : expr.kind === "ListLiteral" && expr.elements.every((e) => e.kind === "StringLiteral") ? (expr.elements as A.StringLiteral[]) : undefined;
    if (literals === undefined) {
      this.report("PC307", "`ip.inRange` takes its ranges written in the policy: a string such as \"10.0.0.0/8\", or a list of them", expr.span, 'write the range, as in `ip.inRange(url.host(args.url), "10.0.0.0/8")`, or several: `["10.0.0.0/8", "fc00::/7"]`');
      return undefined;
    }
    let valid = true;
    for (const literal of literals) {
      const reading = readCidr(literal.value);
      if ("range" in reading) continue;
      valid = false;
      this.report("PC307", `${JSON.stringify(literal.value)} is not an IP range: ${reading.problem}`, literal.span, reading.fix ?? 'write an IPv4 or IPv6 address, `/` and the prefix length, as in "10.0.0.0/8" or "fc00::/7"');
    }
    return valid ? literals.map((literal) => literal.value) : undefined;
  }

  private noWithin(expr: A.Call): void {
    if (expr.within) this.report("PC210", "`within` is only for `session.count` and `session.called`", expr.within.span);
  }

  private arity(expr: A.Call, min: number, max: number): boolean {
    const n = expr.args.length;
    if (n >= min && n <= max) return true;
    const name = dottedText(expr.callee) ?? expr.callee.property.name;
    const wanted = min === max ? `${min} argument${min === 1 ? "" : "s"}` : `${min} to ${max} arguments`;
    this.report("PC210", `\`${name}\` takes ${wanted}, but ${n} ${n === 1 ? "was" : "were"} given`, expr.span);
    return false;
  }

  /**
   * `session.count(1m)`, `session.called(crm.lookup, 10m)`: a window written as an argument, the
   * `within` before it forgotten (the README's rate limit invites it). Said as such, with the call
   * as it should be, rather than as a duration where a tool pattern goes.
   */
  private windowWithoutWithin(expr: A.Call, method: string): Type | undefined {
    const window = expr.args.find((a): a is A.DurationLiteral => a.kind === "DurationLiteral");
    const others = expr.args.filter((a) => a !== window);
    if (window === undefined || others.length > 1) return undefined;
    const needsPattern = method === "called" && others.length === 0;
    const pattern = others[0] ? `${printExpr(others[0])}, ` : needsPattern ? "crm.lookup, " : "";
    const needs = needsPattern ? "a tool name or pattern, and `within` before its window" : "`within` before its window";
    return this.report("PC210", `\`session.${method}\` needs ${needs}`, window.span, `write \`session.${method}(${pattern}within ${window.text})\``);
  }

  private sessionCall(expr: A.Call, method: string, scope: Scope, rule: RuleContext): Type {
    if (!(SESSION_CALLS as readonly string[]).includes(method)) {
      if ((SESSION_VALUES as readonly string[]).includes(method)) return this.report("PC210", `\`session.${method}\` is a value, not a function: write \`session.${method}\``, expr.span);
      return this.report("PC209", `unknown session member \`${method}\``, expr.callee.property.span, didYouMean(method, [...SESSION_VALUES, ...SESSION_CALLS]));
    }
    const missingWithin = expr.within ? undefined : this.windowWithoutWithin(expr, method);
    if (missingWithin) return missingWithin;
    let withinMs: number | undefined;
    if (expr.within) {
      const type = this.infer(expr.within, { locals: new Map(), guards: new Set() }, rule);
      if (expr.within.kind !== "DurationLiteral") {
        if (type.kind !== "error") this.report("PC300", `\`within\` takes a duration written in the policy, like \`1m\``, expr.within.span);
      } else if (expr.within.milliseconds <= 0) this.report("PC104", "`within` needs a duration longer than zero", expr.within.span);
      else withinMs = expr.within.milliseconds;
    }
    if (expr.args.length > 1) {
      const given = expr.args.length + (expr.within ? 1 : 0);
      this.report("PC210", `\`session.${method}\` takes one tool pattern${method === "count" ? " and `within D`" : " and an optional `within D`"}, but ${given} arguments were given`, expr.span);
      return ERROR;
    }
    let pattern: string | undefined;
    if (expr.args.length === 1) {
      const argument = expr.args[0]!;
      pattern = argument.kind === "StringLiteral" ? argument.value : dottedText(argument);
      if (pattern === undefined) {
        this.report("PC300", "expected a tool name or pattern, like `crm.lookup`, `payments.*` or `*`", argument.span);
        return ERROR;
      }
      // An empty string is no tool's name and no glob matches it to one: the call would
      // silently count nothing (or never be true), which for a rate limit means no limit.
      if (pattern === "") return this.report("PC208", "the empty pattern `\"\"` matches no tool", argument.span, "name a tool or a pattern, like `crm.lookup`, `payments.*` or `*`");
      const requestValue = argument.kind === "StringLiteral" ? undefined : this.requestValueAsPattern(argument, pattern, method, scope, rule);
      if (requestValue !== undefined) return requestValue;
      const diagnosticsBefore = this.diagnostics.length;
      checkPatternMatchesTools({ kind: "ToolPattern", text: pattern, span: argument.span }, this.schema.tools.keys(), this.diagnostics);
      if (this.diagnostics.length > diagnosticsBefore) return ERROR;
    }
    if (method === "count") {
      if (!expr.within) return this.report("PC210", "`session.count` needs a window: write `session.count(within 1m)`", expr.span);
      if (withinMs === undefined) return ERROR;
      this.resolutions.set(expr, pattern === undefined ? { kind: "sessionCount", withinMs } : { kind: "sessionCount", pattern, withinMs });
      return INT;
    }
    if (pattern === undefined) return this.report("PC210", "`session.called` needs a tool name or pattern: write `session.called(crm.lookup)`", expr.span);
    if (expr.within && withinMs === undefined) return ERROR;
    this.resolutions.set(expr, withinMs === undefined ? { kind: "sessionCalled", pattern } : { kind: "sessionCalled", pattern, withinMs });
    return BOOL;
  }
}

/** Roots whose paths are values of the request or the session, never tool names written in the policy. */
const REQUEST_ROOTS: ReadonlySet<string> = new Set(["args", "context", "agent", "user", "tool", "intent", "session", "now"]);

/** What each text function reads from its string, and an argument that may hold it. */
const TEXT_READ_BY = {
  "url.host": { text: "a URL", example: "args.url" },
  "email.domain": { text: "an email address", example: "args.to" },
  "path.normalize": { text: "a path", example: "args.path" },
  "ip.inRange": { text: "an IP address", example: 'url.host(args.url), "10.0.0.0/8"' },
} as const;

/** Operators other languages write as methods: `args.url.contains("evil")`, `context.has(destination)`. */
const OPERATORS_WRITTEN_AS_METHODS: ReadonlySet<string> = new Set(["contains", "containsAny", "containsAll", "like", "has"]);

/** The help for an operator called as a method, with the comparison as it is written. */
function operatorWrittenAsMethod(expr: A.Call): string | undefined {
  const method = expr.callee.property.name;
  if (!OPERATORS_WRITTEN_AS_METHODS.has(method) || expr.args.length !== 1) return undefined;
  return `\`${method}\` is an operator: write \`${printExpr(expr.callee.object)} ${method} ${printExpr(expr.args[0]!)}\``;
}

/** What other languages call `size()`. */
const LENGTH_NAMES: ReadonlySet<string> = new Set(["length", "len", "count"]);

/** Did-you-mean help naming the closest of `fields` to `name`, with where it is declared; undefined when none is close. */
function fieldSuggested(name: string, fields: ReadonlyMap<string, FieldInfo>): ReturnType<LazyAdvice> | undefined {
  const match = closestName(name, fields.keys());
  const field = match === undefined ? undefined : fields.get(match);
  if (field === undefined) return undefined;
  return { help: suggestion(field.name), related: [{ span: field.span, message: `\`${field.name}\`, declared here` }] };
}

/** `args.to.size > 20`: a method written as an attribute, which the value has with `()`. */
function methodWithoutParentheses(expr: A.Member, object: Type): string | undefined {
  const method = expr.property.name;
  // `args.to.length`, `args.to.count`: other languages' names for `size()`.
  if (LENGTH_NAMES.has(method) && (isCollection(object) || object.kind === "string")) return `write \`${printExpr(expr.object)}.size()\` for the number of ${object.kind === "string" ? "characters" : "elements"}`;
  const has = method === "size" ? isCollection(object) || object.kind === "string" : isStringLike(object) && ["lower", "startsWith", "endsWith"].includes(method);
  if (!has) return undefined;
  return `\`${method}\` is a method: write \`${printExpr(expr)}(${method === "size" || method === "lower" ? "" : "…"})\``;
}

/** A list written out whose every element failed to check (each was reported). */
function hasFailedElements(expr: A.Expr, type: Type): boolean {
  const list = unparenthesized(expr);
  return list.kind === "ListLiteral" && list.elements.length > 0 && isCollection(type) && type.element.kind === "error";
}

function lineOf(node: { readonly span: A.Expr["span"] }): number {
  return node.span.file.position(node.span.start).line;
}

function firstName(expr: A.Expr): A.Expr {
  let base = expr;
  while (base.kind === "Member") base = base.object;
  return base;
}

/** The attributes of `tool` and `intent` a bare word may mean (`when risk >= high`: `tool.risk`). */
const REQUEST_ATTRIBUTES: ReadonlyMap<string, readonly string[]> = new Map([
  ["risk", ["tool.risk"]],
  ["max_risk", ["intent.max_risk"]],
  ["tools", ["intent.tools"]],
]);

/** An enum or `Risk` type (whose values are written as bare names), or undefined. */
function memberKindOf(type: Type): (Type & { kind: "enum" }) | (Type & { kind: "risk" }) | undefined {
  return type.kind === "enum" || type.kind === "risk" ? type : undefined;
}

/** The values of an enum or `Risk`, in words: "`Env` members", "risk levels". */
function membersOf(type: NonNullable<ReturnType<typeof memberKindOf>>): string {
  return type.kind === "risk" ? "risk levels" : `\`${type.name}\` members`;
}

/** The value of a string literal, through parentheses. */
function stringValueOf(expr: A.Expr): string | undefined {
  if (expr.kind === "Paren") return stringValueOf(expr.expression);
  return expr.kind === "StringLiteral" ? expr.value : undefined;
}

type ContainmentOperator = "contains" | "containsAny" | "containsAll";

function isContainment(operator: A.BinaryOperator): operator is ContainmentOperator {
  return operator === "contains" || operator === "containsAny" || operator === "containsAll";
}

/** Whether `type` can be the left side of `operator` at all (the right side is checked later). */
function canContain(type: Type, operator: ContainmentOperator): boolean {
  if (isCollection(type)) return true;
  return operator === "contains" && (isStringLike(type) || type.kind === "toolset");
}

function elementOf(type: Type): Type | undefined {
  if (isCollection(type)) return type.element;
  if (type.kind === "toolset") return TOOL;
  return undefined;
}

function sameType(a: Type, b: Type): boolean {
  if (a.kind !== b.kind) return false;
  if (isCollection(a) && isCollection(b)) return sameType(a.element, b.element);
  if ((a.kind === "enum" || a.kind === "record") && (b.kind === "enum" || b.kind === "record")) return a.name === b.name;
  return true;
}

/** "a" or "an" before a name, by how it is usually said (`an \`Env\``, `a \`User\``, `an \`int\``). */
function article(name: string): "a" | "an" {
  if (/^[aeio]/i.test(name)) return "an";
  // `u` sounds like "you" before one consonant and a vowel (`User`, `Unit`), not otherwise (`Upper`, `unknown`).
  if (/^u/i.test(name)) return /^u[b-df-hj-np-tv-z][aeiouy]/i.test(name) ? "a" : "an";
  return "a";
}

function describeType(type: Type): string {
  switch (type.kind) {
    case "record":
      return `${article(type.name)} \`${type.name}\` record`;
    case "namespace":
      return `\`${type.name}\``;
    case "int":
      return "an `int`";
    case "enum":
      return `${article(type.name)} \`${type.name}\` member`;
    case "risk":
      return "a `Risk`";
    case "args":
      return "`args`";
    case "toolset":
      // Plural, and only ever `intent.tools`: "a `tool patterns`" read badly.
      return "`intent.tools` (the intent's tool patterns)";
    case "set":
    case "list":
      if (type.element.kind === "empty") return `an empty ${type.kind} (\`[]\`)`;
      // `[[]]`: the checker's type of `[]` has no name a policy could write.
      if (holdsOnlyEmptyLists(type.element)) return `a ${type.kind} that holds only empty lists`;
      return `a \`${typeToString(type)}\``;
    default: {
      const name = typeToString(type);
      return `${article(name)} \`${name}\``;
    }
  }
}

/** Whether `type` is `[]`'s, or a collection of such (at any depth): `[[]]`'s elements. */
function holdsOnlyEmptyLists(type: Type): boolean {
  return (type.kind === "set" || type.kind === "list") && (type.element.kind === "empty" || holdsOnlyEmptyLists(type.element));
}

function sessionValueType(member: (typeof SESSION_VALUES)[number], schema: Schema): Type {
  switch (member) {
    case "calls":
    case "denials":
    case "repeats":
      return INT;
    case "labels":
      return { kind: "set", element: labelType(schema) };
    case "tools":
      return { kind: "set", element: TOOL };
    case "age":
      return DURATION;
    case "last":
      return TOOL;
  }
}

export { describeType, sameType };

/**
 * The direction of each test of a condition (see `ExpressionChecker.testPolarity`): through
 * `not`, `and`, `or`, parentheses and quantifier bodies; not into the operands of a comparison.
 * Walked without recursion: a condition may be a chain of thousands of `or`s.
 */
function polaritiesOf(condition: A.Expr): Map<A.Expr, 1 | -1> {
  const polarities = new Map<A.Expr, 1 | -1>();
  const pending: [A.Expr, 1 | -1][] = [[condition, 1]];
  while (pending.length > 0) {
    const [expr, polarity] = pending.pop()!;
    if (expr.kind === "Paren") pending.push([expr.expression, polarity]);
    else if (expr.kind === "Not") pending.push([expr.operand, polarity === 1 ? -1 : 1]);
    else if (expr.kind === "Quantifier") pending.push([expr.body, polarity]);
    else if (expr.kind === "Binary" && (expr.operator === "and" || expr.operator === "or")) pending.push([expr.left, polarity], [expr.right, polarity]);
    else polarities.set(expr, polarity);
  }
  return polarities;
}
