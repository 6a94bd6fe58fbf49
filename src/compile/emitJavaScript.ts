import { NO_INTENT_FAULT, NO_USER_FAULT } from "../runtime/helpers.js";
import { childrenOf, hasQuantifier, mayFail, RISK_RANK, type IrExpr } from "../runtime/ir.js";
import type { RuleInfo } from "../runtime/policy.js";
import type { RuntimeSchema, TypeJson } from "../runtime/schema.js";
import type { SessionUse } from "../runtime/session.js";
import type { DispatchPlan, ToolRules } from "./indexRulesByTool.js";
import { ValidationEmitter } from "./emitValidation.js";

/**
 * Pass 5: emits the decision code: one small function per rule (its condition, failing closed)
 * and one per tool that calls its rules deny-first and stops at the first effect that matched.
 * V8 optimizes small functions and stops optimizing huge ones, so nothing here grows with the
 * rule count except the number of functions. Every string from a policy enters the code
 * through JSON.stringify; identifiers are generated, never taken from policy text.
 */
export function emitJavaScript(rules: readonly RuleInfo[], plan: DispatchPlan, schema: RuntimeSchema, session: SessionUse): string {
  const emitter = new JsEmitter(session, schema);
  const ruleFunctions = rules.map((rule, index) => {
    const { result: condition, temporaries } = emitter.inFunction(() => (rule.ir === null ? null : emitter.expr(rule.ir)));
    return emitter.rule(rule, index, condition, temporaries);
  });
  // Per tool, two dispatchers over the same rules, deny first, stopping at the first effect that
  // matched. `t<N>` inlines every condition in one function with one try/catch: the hot path.
  // Conditions are pure reads, so when anything throws it is simply run again rule by rule
  // through `s<N>`, whose per-rule functions isolate the failure and fail closed.
  const masks = plan.tools.map(maskRules);
  const toolFunctions = plan.tools.map((entry, index) => {
    const groups = [entry.deny, entry.ask, entry.allow];
    // A tool with few rules reports the matched ones as bits of one small integer (bit p: the
    // p-th rule of the tool, deny first): no array per decision, and the engine finds the
    // shared decision with one lookup. A tool with more rules reports rule indices in an array.
    const masked = masks[index] !== null;
    const none = masked ? "0" : "null";
    const hit = (ruleIndex: number, position: number): string => (masked ? `m |= ${2 ** position};` : `(m ??= []).push(${ruleIndex});`);
    const stop = `if (m !== ${none}) return m;`;
    const fast = [`function t${index}(c) {`, "  try {", `    ${ROOT_LOCALS}`, `    let m = ${none};`];
    const safe = [`function s${index}(c) {`, `  let m = ${none};`];
    let position = 0;
    const { temporaries } = emitter.inFunction(() => groups.forEach((group, g) => {
      for (const ruleIndex of group) {
        const rule = rules[ruleIndex]!;
        const push = hit(ruleIndex, position++);
        // In a tool's own dispatcher the tool is known: `tool`, `tool.risk` and `tool in
        // intent.tools` become constants and one set lookup.
        const condition = rule.ir === null ? null : emitter.forTool(entry.tool, () => emitter.expr(rule.ir!));
        if (condition === null) fast.push(`    ${push}`);
        else {
          // Each rule has its own budget of quantifier visits (rt.visiting): what one rule
          // spends never makes another fail, so the order of the rules never matters.
          if (hasQuantifier(rule.ir!)) fast.push("    c.visits = 0;");
          // Only a condition that reads the user, the intent's tools/risk or a count, or calls a
          // function that refuses ambiguous input, can fail.
          if (!mayFail(rule.ir!)) fast.push(`    if ((${condition}) === true) ${push}`);
          else fast.push(`    if ((${condition}) === true ? c.fault === undefined || faulted(c, ${JSON.stringify(rule.id + ": ")}, ${rule.effect !== "allow"}) : c.fault !== undefined && faulted(c, ${JSON.stringify(rule.id + ": ")}, ${rule.effect !== "allow"})) ${push}`);
        }
        safe.push(`  if (r${ruleIndex}(c)) ${push}`);
      }
      if (g < 2 && group.length > 0) {
        fast.push(`    ${stop}`);
        safe.push(`  ${stop}`);
      }
    }));
    if (temporaries.length > 0) fast.splice(3, 0, `    let ${temporaries.join(", ")};`);
    fast.push("    return m;", "  } catch (e) {", "    c.fault = undefined;", "    c.errors = undefined;", `    return s${index}(c);`, "  }", "}");
    safe.push("  return m;", "}");
    return `${fast.join("\n")}\n${safe.join("\n")}`;
  });
  const validation = new ValidationEmitter(schema);
  const checks = plan.tools.map((entry, index) => validation.requestCheck(`q${index}`, entry.tool));
  const sameArgs = session.repeats ? plan.tools.map((entry) => validation.sameArgsFunction(entry.tool)) : [];
  const intents = Object.entries(schema.intents)
    .map(([name, intent]) => `  [${JSON.stringify(name)}, { tools: new Set(${JSON.stringify(intent.matches)}), maxRisk: rt.RISK_RANK[${JSON.stringify(intent.maxRisk)}] }]`)
    .join(",\n");
  return [
    "// Generated by policyc. Do not edit: rebuild the bundle from its sources.",
    `const INTENTS = new Map([\n${intents}\n]);`,
    "// A missing intent or user is a fault, not an exception: throwing costs more than a decision.",
    "// The read notes the fault and yields a stand-in; the rule then fails closed (see r<N> below).",
    `const NO_INTENT_FAULT = ${JSON.stringify(NO_INTENT_FAULT)};`,
    `const NO_USER_FAULT = ${JSON.stringify(NO_USER_FAULT)};`,
    "const NO_INTENT = Object.freeze({ tools: new Set(), maxRisk: -1 });",
    "const NO_USER = Object.freeze({});",
    "function intentOf(c) {",
    '  if (typeof c.intent !== "string") { c.fault ??= NO_INTENT_FAULT; return NO_INTENT; }',
    "  return INTENTS.get(c.intent);",
    "}",
    "// Records a fault noted while evaluating a rule; returns whether the rule then matches.",
    "function faulted(c, prefix, matches) {",
    "  (c.errors ??= []).push(prefix + c.fault);",
    "  c.fault = undefined;",
    "  return matches;",
    "}",
    "function userOf(c) {",
    '  if (c.user === undefined || c.user === null) { c.fault ??= NO_USER_FAULT; return NO_USER; }',
    "  return c.user;",
    "}",
    "// A count the session's window cannot give in full (SessionState.windowFault) is a fault: the rule fails closed.",
    "function countIn(c, since, tools, pattern) {",
    "  const fault = c.s.windowFault(since, tools, pattern);",
    "  if (fault !== undefined) c.fault ??= fault;",
    "  return c.s.countSince(since, tools, pattern);",
    "}",
    "// So is a `session.called(…, within D)` the session's kept times cannot answer (SessionState.calledFault).",
    "function calledIn(c, index, since) {",
    "  const fault = c.s.calledFault(index, since, c.now);",
    "  if (fault !== undefined) c.fault ??= fault;",
    "  return c.s.calledSince(index, since, c.now);",
    "}",
    ...emitter.constants,
    ...validation.functions,
    ...checks,
    ...ruleFunctions,
    ...toolFunctions,
    `return new Map([\n${plan.tools.map((entry, index) => `  [${JSON.stringify(entry.tool)}, { decide: t${index}, fits: q${index}${session.repeats ? `, sameArgs: ${sameArgs[index]}` : ""}${masks[index] ? `, maskRules: ${JSON.stringify(masks[index])}` : ""}${grantingAllows(entry, rules)} }]`).join(",\n")}\n]);`,
    "",
  ].join("\n");
}

/** Rules a tool may have and still report matches as bits: bits 0–29 keep the mask a small integer. */
const MAX_MASKED_RULES = 30;

/** The tool's rules in bit order (deny, ask, allow), when it reports matches as a mask; else null. */
function maskRules(entry: ToolRules): number[] | null {
  const ordered = [...entry.deny, ...entry.ask, ...entry.allow];
  return ordered.length <= MAX_MASKED_RULES ? ordered : null;
}

/**
 * `, onApproval: [[index, r<index>], …]`: the tool's allow rules that grant, with their rule
 * functions, when the tool can also be answered `ask`. The engine runs them only for an ask
 * (the tool's dispatcher stops at the ask rules), for the grants a person's approval gives.
 */
function grantingAllows(entry: ToolRules, rules: readonly RuleInfo[]): string {
  if (entry.ask.length === 0) return "";
  const granting = entry.allow.filter((index) => rules[index]!.grants.length > 0);
  return granting.length === 0 ? "" : `, onApproval: [${granting.map((index) => `[${index}, r${index}]`).join(", ")}]`;
}

class JsEmitter {
  readonly constants: string[] = [];
  /** How many variables three-valued `and` / `or` have named so far (see `threeValued`). */
  private temporaryCount = 0;
  /** The variables the function being emitted needs declared. */
  private functionTemporaries: string[] = [];

  /**
   * Emits the body of one generated function: `emit`'s result and the variables it needs
   * declared there. Locals of each call, never shared: a getter in a request that calls
   * `decide` again (on any engine of this code) must not overwrite the outer call's state.
   */
  inFunction<T>(emit: () => T): { result: T; temporaries: string[] } {
    const outer = this.functionTemporaries;
    this.functionTemporaries = [];
    try {
      const result = emit();
      return { result, temporaries: this.functionTemporaries };
    } finally {
      this.functionTemporaries = outer;
    }
  }

  private temporary(prefix: string): string {
    const name = `${prefix}${this.temporaryCount++}`;
    this.functionTemporaries.push(name);
    return name;
  }
  /** Index of each `session.called` pattern's tool list in `SessionUse.called`. */
  private readonly calledIndex: Map<string, number>;

  /** Quantifier variables in scope: policy name → generated identifier. */
  private readonly locals = new Map<string, string>();
  private localCount = 0;
  /** The tool whose dispatcher is being emitted, when conditions may be specialized to it. */
  private tool: string | undefined;

  constructor(
    session: SessionUse,
    private readonly schema: RuntimeSchema,
  ) {
    this.calledIndex = new Map(session.called.map((tools, index) => [JSON.stringify(tools), index]));
  }

  forTool<T>(tool: string, emit: () => T): T {
    this.tool = tool;
    try {
      return emit();
    } finally {
      this.tool = undefined;
    }
  }

  private readonly constantIds = new Map<string, string>();

  /**
   * Hoists a constant (a compiled glob, a set of tools) to the module, once per distinct value;
   * `perSite`: one for each place that asks (a membership test's memory of its last list).
   */
  private constant(code: string, perSite = false): string {
    let id = perSite ? undefined : this.constantIds.get(code);
    if (!id) {
      id = `K${this.constants.length}`;
      if (!perSite) this.constantIds.set(code, id);
      this.constants.push(`const ${id} = ${code};`);
    }
    return id;
  }

  rule(rule: RuleInfo, index: number, condition: string | null, temporaries: readonly string[] = []): string {
    const onError = rule.effect === "allow" ? "false" : "true";
    if (condition === null) return `function r${index}(c) { return true; }`;
    // Fail closed: a fault noted during the condition (or an exception) makes a deny/ask rule
    // match and an allow rule not, and is reported. Reads that short-circuiting skipped never fault.
    return [
      `function r${index}(c) {`,
      "  try {",
      ...(rule.ir !== null && hasQuantifier(rule.ir) ? ["    c.visits = 0;"] : []),
      `    ${ROOT_LOCALS}`,
      ...(temporaries.length > 0 ? [`    let ${temporaries.join(", ")};`] : []),
      `    const value = ${condition} === true;`,
      "    if (c.fault === undefined) return value;",
      "  } catch (e) {",
      "    c.fault ??= rt.message(e);",
      "  }",
      `  return faulted(c, ${JSON.stringify(rule.id + ": ")}, ${onError});`,
      "}",
    ].join("\n");
  }

  /**
   * Membership by what the collection is at run time: the session's and an intent's sets,
   * or a request's list (`?.`: a missing user's list is no list, not an exception). Records and
   * collections compare by their declared `shape`. Inside a quantifier a test may run once per
   * element: it remembers its list for the decision, and a second search of it uses an index.
   */
  private membership(collection: IrExpr, element: IrExpr, deep: boolean, shape: TypeJson | undefined): string {
    if (collection.op === "intentTools") {
      if (this.tool !== undefined && element.op === "tool") {
        // The intents that serve this tool, known at compile time: one lookup of the request's intent.
        const intents = Object.entries(this.schema.intents).filter(([, i]) => i.matches.includes(this.tool!)).map(([name]) => name);
        const set = this.constant(`new Set(${JSON.stringify(intents)})`);
        return `(typeof c.intent === "string" ? ${set}.has(c.intent) : (c.fault ??= NO_INTENT_FAULT, false))`;
      }
      return `intentOf(c).tools.has(${this.expr(element)})`;
    }
    if (isSessionSet(collection)) return `${this.expr(collection)}.has(${this.expr(element)})`;
    const shapeCode = deep && shape !== undefined ? this.shape(shape) : "null";
    if (this.locals.size > 0) return `rt.hasAt(c, ${this.expr(collection)}, ${this.expr(element)}, ${shapeCode})`;
    if (deep || collection.op === "local") return `rt.has(${this.expr(collection)}, ${this.expr(element)}, ${shapeCode}, c)`;
    return `(${this.expr(collection)})?.includes(${this.expr(element)})`;
  }

  /**
   * `and` / `or` (and `all` / `any`, `or` true) whose terms can fail, three-valued: a term
   * that settles the result (false for `and`, true for `or`) does so whatever failed before it;
   * only when none settles it does a failure (kept in `p`) make the whole one, in `c.fault`.
   * Inline code over variables of the generated function: closures per evaluation cost more than the
   * decision. `chain` joins the terms, each wrapped by `term`, with JavaScript's && or ||, so
   * evaluation stops at the term that settles it; `before` runs first (a quantifier's collection).
   */
  private threeValued(isOr: boolean, chain: (term: (code: string) => string) => string, before?: string): string {
    const [outer, pending, result] = [this.temporary("o"), this.temporary("p"), this.temporary("v")];
    const note = `(${pending} ??= c.fault, c.fault = undefined`;
    // A term's value for the chain: whether evaluation goes on (`and`) or stops (`or`).
    const term = isOr
      ? (code: string): string => `((${code}) === true ? (c.fault === undefined || ${note}, false)) : (c.fault !== undefined && ${note}), false))`
      : (code: string): string => `((${code}) === true ? (c.fault === undefined || ${note}, true)) : (c.fault !== undefined && ${note}, true)))`;
    const settled = isOr ? result : `!${result}`;
    return `(${before === undefined ? "" : `${before}, `}${outer} = c.fault, c.fault = undefined, ${pending} = undefined, ${result} = ${chain(term)}, c.fault = ${settled} ? ${outer} : ${outer} ?? ${pending}, ${result})`;
  }

  /** The runtime shape of a declared type (how its values compare), made once when the code loads. */
  private shape(type: TypeJson): string {
    return this.constant(`rt.shapeOfType(schema, ${JSON.stringify(type)})`);
  }

  /** `like` with a pattern written in the policy: the common shapes become plain string tests. */
  private constantLike(pattern: string, subject: string): string {
    const stars = pattern.split("*").length - 1;
    if (stars === 0) return `(${subject} === ${JSON.stringify(pattern)})`;
    if (stars === 1 && pattern.startsWith("*")) return `rt.endsWith(${subject}, ${JSON.stringify(pattern.slice(1))})`;
    if (stars === 1 && pattern.endsWith("*")) return `rt.startsWith(${subject}, ${JSON.stringify(pattern.slice(0, -1))})`;
    if (stars === 2 && pattern.startsWith("*") && pattern.endsWith("*") && pattern.length > 2) return `rt.includesText(${subject}, ${JSON.stringify(pattern.slice(1, -1))})`;
    const glob = this.constant(`rt.compileGlob(${JSON.stringify(pattern)})`);
    return `rt.matchCompiledGlob(${glob}, ${subject})`;
  }

  expr(e: IrExpr): string {
    switch (e.op) {
      case "const":
        return JSON.stringify(e.value);
      case "list":
        return `[${e.items.map((i) => this.expr(i)).join(", ")}]`;
      case "root":
        // Read once per dispatcher or rule function into a local (see ROOT_LOCALS).
        return e.root === "user" ? "userOf(c)" : ROOT_LOCAL[e.root];
      case "tool":
        return this.tool === undefined ? "c.tool" : JSON.stringify(this.tool);
      case "toolRisk":
        return this.tool === undefined ? "c.toolRisk" : String(RISK_RANK[this.schema.tools[this.tool]!.risk]);
      case "intent":
        // No intent (neither the request nor its session named one) is a fault, as `intent.tools` is:
        // `allow … when intent != research` must not allow a session that never says what it does.
        return `(typeof c.intent === "string" ? c.intent : (c.fault ??= NO_INTENT_FAULT, ""))`;
      case "intentTools":
        return "intentOf(c).tools";
      case "intentMaxRisk":
        return "intentOf(c).maxRisk";
      case "now":
        return "c.now";
      case "local": {
        const id = this.locals.get(e.name);
        if (id === undefined) throw new Error(`unbound variable ${e.name} reached the emitter`);
        return id;
      }
      case "get": {
        // Roots are validated objects; below them `?.` makes reads under a stand-in (a missing
        // user) or an absent optional record yield undefined instead of throwing.
        const read = e.object.op === "root" ? `${this.expr(e.object)}[${JSON.stringify(e.name)}]` : `${this.expr(e.object)}?.[${JSON.stringify(e.name)}]`;
        if (e.convert !== "none" && e.each) return `rt.membersAsCompared(${read}, ${JSON.stringify(e.convert)})`;
        if (e.convert === "risk") return `rt.RISK_RANK[${read}]`;
        if (e.convert === "time") return `rt.parseTime(${read})`;
        return read;
      }
      case "has":
        // Inherited names (`constructor`…) need the own-property test; others a null check.
        if (e.name in Object.prototype) return `rt.present(${this.expr(e.object)}, ${JSON.stringify(e.name)})`;
        return `((${this.expr(e.object)})?.[${JSON.stringify(e.name)}] != null)`;
      case "not":
        return `!(${this.expr(e.operand)})`;
      case "and":
      case "or":
        // A term that can fail, followed by others: evaluated three-valued (threeValued), so
        // that a later term that settles the result (true for `or`, false for `and`) does, as
        // it would written first. Otherwise JavaScript's short circuit already gives that.
        // (A term that cannot fail leaves no fault to note: it needs no wrapping.)
        if (e.terms.slice(0, -1).some(mayFail)) return this.threeValued(e.op === "or", (term) => e.terms.map((t) => (mayFail(t) ? term(this.expr(t)) : `(${this.expr(t)}) === true`)).join(e.op === "and" ? " && " : " || "));
        return `(${e.terms.map((t) => this.expr(t)).join(e.op === "and" ? " && " : " || ")})`;
      case "compare": {
        const left = this.expr(e.left);
        const right = this.expr(e.right);
        if (e.deep) {
          // Inside a quantifier a site remembers its last operands and answer (rt.CompareSite).
          const equal =
            e.shape === undefined
              ? `rt.equal(${left}, ${right}${e.set ? ", true" : ""})`
              : this.locals.size > 0
                ? `rt.equalDeclaredAt(${this.constant("rt.compareSite()", true)}, c, ${left}, ${right}, ${this.shape(e.shape)})`
                : `rt.equalDeclared(${left}, ${right}, ${this.shape(e.shape)}, c)`;
          return e.operator === "==" ? equal : `!${equal}`;
        }
        const operator = e.operator === "==" ? "===" : e.operator === "!=" ? "!==" : e.operator;
        return `(${left} ${operator} ${right})`;
      }
      case "enumRank": {
        const ranks = this.constant(`new Map(${JSON.stringify(e.members.map((m, i) => [m, i]))})`);
        return `${ranks}.get(${this.expr(e.value)})`;
      }
      case "in":
        if (e.collection.op === "list" && e.collection.items.every((i) => i.op === "const")) {
          const set = this.constant(`new Set(${JSON.stringify(e.collection.items.map((i) => (i as { value: unknown }).value))})`);
          return `${set}.has(${this.expr(e.element)})`;
        }
        return this.membership(e.collection, e.element, e.deep === true, e.shape);
      case "contains":
        if (e.string) return `rt.includesText(${this.expr(e.collection)}, ${this.expr(e.element)})`;
        return this.membership(e.collection, e.element, e.deep === true, e.shape);
      case "containsAny":
      case "containsAll":
        if (this.locals.size > 0) return `rt.containsAt(${this.constant("rt.compareSite()", true)}, c, ${e.op === "containsAll"}, ${this.expr(e.left)}, ${this.expr(e.right)}, ${e.shape !== undefined ? this.shape(e.shape) : "null"})`;
        return `rt.${e.op}(${this.expr(e.left)}, ${this.expr(e.right)}${e.shape !== undefined ? `, ${this.shape(e.shape)}, c` : ""})`;
      case "like":
        if (e.pattern.op === "const" && typeof e.pattern.value === "string") return this.constantLike(e.pattern.value, this.expr(e.subject));
        return `rt.like(${this.expr(e.subject)}, ${this.expr(e.pattern)})`;
      case "quantifier": {
        const method = e.kind === "any" ? "some" : "every";
        // A quantifier variable may hold a session set (`any(s in [session.labels]: …)`): a Set, not an array.
        // Its elements count against the rule's budget (rt.visiting).
        const collection = `rt.visiting(c, ${this.expr(e.collection)})`;
        const items = isSessionSet(e.collection) || e.collection.op === "local" ? `rt.items(${collection})` : `(${collection})?`;
        // Variables get generated names (`$0`, `$1`…): no identifier of the policy enters the code.
        const id = `$${this.localCount++}`;
        const outer = this.locals.get(e.variable);
        this.locals.set(e.variable, id);
        const body = this.expr(e.body);
        if (outer === undefined) this.locals.delete(e.variable);
        else this.locals.set(e.variable, outer);
        // A body that can fail: three-valued over the elements, as `and` and `or` are.
        if (mayFail(e.body)) {
          // The collection is read first, outside: a failure reading it is not one of an element's.
          const list = this.temporary("l");
          const listItems = isSessionSet(e.collection) || e.collection.op === "local" ? `rt.items(${list})` : `(${list})?`;
          return this.threeValued(e.kind === "any", (term) => `${listItems}.${method}((${id}) => ${term(body)}) === true`, `${list} = ${collection}`);
        }
        return `${items}.${method}((${id}) => ${body} === true)`;
      }
      case "session":
        switch (e.member) {
          case "repeats":
            return "c.repeats";
          case "age":
            // An attempt dated before the first one seen is the earliest: age 0, never negative.
            return "Math.max(0, c.now - c.s.firstSeen)";
          // Each name spelled out: nothing from a bundle's IR becomes code unchecked.
          case "calls":
            return "c.s.calls";
          case "denials":
            return "c.s.denials";
          case "labels":
            return "c.s.labels";
          case "tools":
            return "c.s.tools";
          case "last":
            return "c.s.last";
        }
        throw new Error(`unknown session member ${JSON.stringify((e as { member: unknown }).member)} reached the emitter`);
      case "count": {
        if (e.tools === null) return `(countIn(c, c.now - ${e.withinMs}, null) + 1)`;
        // A mask over the declared tools' ordinals (the session stores windowed tools as ordinals).
        const mask = Object.keys(this.schema.tools).map((name) => (e.tools!.includes(name) ? 1 : 0));
        const tools = this.constant(`new Uint8Array(${JSON.stringify(mask)})`);
        const self = this.tool === undefined ? `(${JSON.stringify(e.tools)}.includes(c.tool) ? 1 : 0)` : e.tools.includes(this.tool) ? "1" : "0";
        // The pattern as written counts the attempts at undeclared tools whose names match it.
        return `(countIn(c, c.now - ${e.withinMs}, ${tools}${e.pattern === undefined ? "" : `, ${JSON.stringify(e.pattern)}`}) + ${self})`;
      }
      case "called": {
        const index = this.calledIndex.get(JSON.stringify(e.tools));
        if (index === undefined) throw new Error("session.called pattern missing from the session-use analysis");
        // Without a window any allowed call so far counts; with one, a call dated in it (never after this attempt).
        return e.withinMs === null ? `c.s.calledSince(${index}, -Infinity)` : `calledIn(c, ${index}, c.now - ${e.withinMs})`;
      }
      case "method": {
        const object = this.expr(e.object);
        switch (e.name) {
          case "size":
            // Request lists and strings have `length`; only session sets have `size`; a request's
            // set is a list that may repeat members, counted once each.
            if (isSessionSet(e.object)) return `${object}.size`;
            if (e.members !== undefined) return `rt.distinctCountAt(c, ${object}, ${this.shape(e.members)})`;
            return e.object.op === "local" ? `rt.size(${object})` : `((${object})?.length ?? 0)`;
          case "lower":
            // Inside a quantifier a site remembers its last input and output (rt.CallSite).
            return this.locals.size > 0 ? `rt.lowerAt(${this.constant("rt.callSite()", true)}, c, ${object})` : `rt.lower(${object})`;
          case "startsWith":
            return `rt.startsWith(${object}, ${this.expr(e.args[0]!)})`;
          case "endsWith":
            return `rt.endsWith(${object}, ${this.expr(e.args[0]!)})`;
        }
        throw new Error(`unknown method ${JSON.stringify((e as { name: unknown }).name)} reached the emitter`);
      }
      case "call":
        // `c`: an ambiguous URL or address is noted as a fault there (the rule fails closed).
        if (this.locals.size > 0) return `rt.${e.name === "url.host" ? "urlHostAt" : "emailDomainAt"}(${this.constant("rt.callSite()", true)}, c, ${this.expr(e.arg)})`;
        return e.name === "url.host" ? `rt.urlHost(${this.expr(e.arg)}, c)` : `rt.emailDomain(${this.expr(e.arg)}, c)`;
    }
  }
}

/** `session.labels` and `session.tools` are sets at run time; request collections are lists. */
function isSessionSet(e: IrExpr): boolean {
  return e.op === "session" && (e.member === "labels" || e.member === "tools");
}

/** The request roots, read once into locals at the top of each function that evaluates conditions. */
const ROOT_LOCAL = { agent: "cAgent", context: "cContext", args: "cArgs" } as const;
const ROOT_LOCALS = "const cAgent = c.agent, cContext = c.context, cArgs = c.args;";
