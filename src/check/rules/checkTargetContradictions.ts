import type * as A from "../../ast/nodes.js";
import { chainTermsOf } from "../../ast/chains.js";
import { printExpr } from "../../ast/printExpr.js";
import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import { listed } from "../../diagnostics/suggest.js";
import { globMatch } from "../../runtime/glob.js";
import { compareScalars } from "../../runtime/helpers.js";
import { unparenthesized } from "../literalComparisons.js";
import type { CheckedRule } from "../program.js";
import type { Resolution } from "../resolution.js";
import type { Schema, ToolInfo } from "../schema.js";
import { RISK_LEVELS } from "../types.js";

/** How many targeted tools the help names before "and N more". */
const SHOWN_TOOLS = 3;
/** A longer term is called "this term" in the message; the code frame shows it. */
const QUOTED_TERM_LENGTH = 60;

/**
 * A `when` with a top-level `and` term that no tool the rule targets can satisfy, though some
 * declared tool can (PC509): `deny sql.query when tool == export.s3 and …`, or `deny chart.render
 * when tool.risk >= high` with `chart.render` declared `risk low`. A rule runs only for the tools
 * it targets, and a false `and` term settles the condition even when another term fails, so
 * the rule never matches: typically a rule copied with its targets changed and not its
 * condition, or the other way round. A term no declared tool satisfies is left alone: a string
 * naming no tool is PC506's, and `tool.risk >= critical` in a set without critical tools is a
 * guard for tools yet to come.
 */
export function checkTargetContradictions(checked: CheckedRule, schema: Schema, resolutions: ReadonlyMap<A.Expr, Resolution>, diagnostics: Diagnostic[]): void {
  const { rule, tools } = checked;
  if ((!rule.when && !rule.unless) || tools.length === 0) return;
  const targeted = tools.map((name) => schema.tools.get(name)!);
  const declared = [...schema.tools.values()];
  /** Reports `term` when it is `blocking` (false for a `when` term, true for the `unless`) for every targeted tool and not for some declared one. */
  const contradicts = (term: A.Expr, blocking: boolean, clause: string): boolean => {
    const reads = new Set<"name" | "risk">();
    const holdsFor = (tool: ToolInfo): boolean | undefined => new CalledToolTerm(tool, resolutions, reads).value(term);
    if (targeted.some((tool) => holdsFor(tool) !== blocking) || !declared.some((tool) => holdsFor(tool) === !blocking)) return false;
    const which = targeted.length === 1 ? "the tool this rule targets" : `any of the ${targeted.length} tools this rule targets`;
    const shown = targeted.slice(0, SHOWN_TOOLS).map((tool) => `\`${tool.name}\`${reads.has("risk") ? ` (risk ${tool.risk})` : ""}`);
    if (targeted.length > SHOWN_TOOLS) shown.push(`${targeted.length - SHOWN_TOOLS} more`);
    const printed = `${clause}${printExpr(term)}`;
    const named = printed.length <= QUOTED_TERM_LENGTH ? `\`${printed}\`` : "this term";
    diagnostics.push(diagnostic("PC509", `${named} is ${blocking ? "always" : "never"} true for ${which}, so the rule never matches`, term.span, `it targets ${targeted.length === 1 ? "only " : ""}${listed(shown)}: change the targets or the condition`));
    return true;
  };
  // The first such term says why the rule never matches; more would say it again.
  for (const term of rule.when ? chainTermsOf(unparenthesized(rule.when), "and") : []) if (contradicts(term, false, "")) return;
  // `deny kb.search unless tool == kb.search`: an `unless` true for every target is a `when not` false for each.
  if (rule.unless) contradicts(rule.unless, true, "unless ");
}

/**
 * What a rule's conditions say about a call of `tool` from the tool alone: "never" when a
 * top-level `and` term of `when` is false for it, or its whole `unless` true; "chosen" when a
 * term that reads the tool is true for it (`ask * when tool == http.get` picks `http.get` out);
 * undefined when the tool settles nothing.
 */
export function calledToolVerdict(rule: A.Rule, tool: ToolInfo, resolutions: ReadonlyMap<A.Expr, Resolution>): "never" | "chosen" | undefined {
  if (rule.unless && new CalledToolTerm(tool, resolutions, new Set()).value(rule.unless) === true) return "never";
  let chosen = false;
  for (const term of rule.when ? chainTermsOf(unparenthesized(rule.when), "and") : []) {
    const picked = new Set<"name" | "risk">();
    const value = new CalledToolTerm(tool, resolutions, new Set(), picked).value(term);
    if (value === false) return "never";
    // Only a test that picks tools in chooses one: `tool != kb.search` or `not (tool in [...])`
    // is true for every tool but a few, which is leaving those out, not choosing the rest. (A
    // risk test picks a class in, however it is written.)
    if (value === true && picked.size > 0) chosen = true;
  }
  return chosen ? "chosen" : undefined;
}

/**
 * The value of a whole condition for a call of `tool` when the tool alone decides every part of
 * it (its name, its risk, literals), undefined when any part reads something else (the agent,
 * the arguments, the session...), even a part an `or` would not need: PC521 takes such a
 * condition as saying nothing about who calls. `tool` may be one not declared (yet).
 */
export function toolOnlyValue(expr: A.Expr, tool: CalledTool, resolutions: ReadonlyMap<A.Expr, Resolution>): boolean | undefined {
  const term = new CalledToolTerm(tool, resolutions, new Set());
  const value = term.value(expr);
  return term.undecided ? undefined : value;
}

/** What of a called tool a condition can read. */
type CalledTool = Pick<ToolInfo, "name" | "risk">;

/** A value computed from the called tool alone: a tool name (or a string), or a risk's rank. */
type ToolValue = { readonly kind: "name"; readonly value: string } | { readonly kind: "risk"; readonly value: number };

/**
 * The value of a condition term for one called tool, when only the tool decides it; undefined
 * when it reads anything else. `and`/`or` are three-valued as at run time (a false term settles
 * an `and` whatever the others do). `reads` collects what of the tool was read.
 */
class CalledToolTerm {
  /** Whether the test being read is negated (under an odd number of `not`s, or a `!=`). */
  private negated = false;
  /** Whether some part read so far was not decided by the tool alone (an `or` may still have settled). */
  undecided = false;

  constructor(
    private readonly tool: CalledTool,
    private readonly resolutions: ReadonlyMap<A.Expr, Resolution>,
    private readonly reads: Set<"name" | "risk">,
    /** What of the tool was read by a test that picks tools in (a name by `==`, `in` or `like`; any risk test), not out. */
    private readonly picked?: Set<"name" | "risk">,
  ) {}

  value(expr: A.Expr): boolean | undefined {
    const value = this.valueOf(expr);
    if (value === undefined) this.undecided = true;
    return value;
  }

  private valueOf(expr: A.Expr): boolean | undefined {
    switch (expr.kind) {
      case "BoolLiteral":
        return expr.value;
      case "Paren":
        return this.value(expr.expression);
      case "Not": {
        this.negated = !this.negated;
        const operand = this.value(expr.operand);
        this.negated = !this.negated;
        return operand === undefined ? undefined : !operand;
      }
      case "Binary":
        return this.binary(expr);
      case "Call":
        return this.affix(expr);
      default:
        return undefined;
    }
  }

  /** `tool.startsWith("kb.")`, `tool.endsWith(".read")`: picks tools in, as `like` does. */
  private affix(expr: A.Call): boolean | undefined {
    const method = expr.callee.property.name;
    const [argument] = expr.args;
    if ((method !== "startsWith" && method !== "endsWith") || expr.args.length !== 1 || unparenthesized(argument!).kind !== "StringLiteral") return undefined;
    const subject = this.operand(expr.callee.object);
    const affix = this.operand(argument!);
    if (subject?.kind !== "name" || affix?.kind !== "name") return undefined;
    return method === "startsWith" ? subject.value.startsWith(affix.value) : subject.value.endsWith(affix.value);
  }

  private binary(expr: A.Binary): boolean | undefined {
    const { operator } = expr;
    if (operator === "and" || operator === "or") {
      const values = chainTermsOf(expr, operator).map((term) => this.value(term));
      const settles = operator === "or";
      if (values.includes(settles)) return settles;
      return values.every((v) => v !== undefined) ? !settles : undefined;
    }
    // `!=` leaves a tool out as `not … ==` does; every other test picks tools in.
    if (operator !== "!=") return this.comparison(expr);
    this.negated = !this.negated;
    const value = this.comparison(expr);
    this.negated = !this.negated;
    return value;
  }

  private comparison(expr: A.Binary): boolean | undefined {
    const { operator } = expr;
    const list = (side: A.Expr): ToolValue[] | undefined => {
      const literal = unparenthesized(side);
      if (literal.kind !== "ListLiteral") return undefined;
      const items = literal.elements.map((element) => this.operand(element));
      return items.every((item) => item !== undefined) ? (items as ToolValue[]) : undefined;
    };
    if (operator === "in" || (operator === "contains" && unparenthesized(expr.left).kind === "ListLiteral")) {
      const [one, many] = operator === "in" ? [this.operand(expr.left), list(expr.right)] : [this.operand(expr.right), list(expr.left)];
      return one === undefined || many === undefined ? undefined : many.some((item) => same(one, item));
    }
    const left = this.operand(expr.left);
    const right = this.operand(expr.right);
    if (left === undefined || right === undefined || left.kind !== right.kind) return undefined;
    switch (operator) {
      case "==":
      case "!=":
        return compareScalars(operator, left.value, right.value);
      case "<":
      case "<=":
      case ">":
      case ">=":
        return left.kind === "risk" ? compareScalars(operator, left.value, right.value) : undefined;
      case "like":
        return left.kind === "name" && unparenthesized(expr.right).kind === "StringLiteral" ? globMatch(right.value as string, left.value) : undefined;
      case "contains":
        return left.kind === "name" ? left.value.includes(right.value as string) : undefined;
      default:
        return undefined;
    }
  }

  private operand(expr: A.Expr): ToolValue | undefined {
    const inner = unparenthesized(expr);
    if (inner.kind === "StringLiteral") return { kind: "name", value: inner.value };
    const resolution = this.resolutions.get(inner);
    switch (resolution?.kind) {
      case "toolName":
        this.reads.add("name");
        if (!this.negated) this.picked?.add("name");
        return { kind: "name", value: this.tool.name };
      case "toolConstant":
        return { kind: "name", value: resolution.name };
      case "toolRisk":
        this.reads.add("risk");
        // A risk test picks a class of tools in, negated or not: `tool.risk != low` is
        // `tool.risk >= medium`.
        this.picked?.add("risk");
        return { kind: "risk", value: RISK_LEVELS.indexOf(this.tool.risk) };
      case "riskLevel":
        return { kind: "risk", value: RISK_LEVELS.indexOf(resolution.level) };
      default:
        return undefined;
    }
  }
}

function same(a: ToolValue, b: ToolValue): boolean {
  return a.kind === b.kind && a.value === b.value;
}
