import { describe, expect, it } from "vitest";
import { emitJavaScript } from "../../src/compile/emitJavaScript.js";
import { indexRulesByTool } from "../../src/compile/indexRulesByTool.js";
import { irMistake } from "../../src/compile/irMistake.js";
import type { CompiledPolicy, RuleInfo } from "../../src/runtime/policy.js";
import { compileFixture } from "../helpers.js";
import { IR_KINDS_TEXT } from "../runtime/fixtures.js";

/**
 * The emitter writes no word or number of the IR as it finds it (review r1 H1, part b): each
 * operator and kind is looked up in a fixed table, each number checked, so IR that got past every
 * check (or a caller of emitJavaScript that never ran one) is refused, never written into code.
 */
const TEXT = IR_KINDS_TEXT;
const INJECTED = "globalThis.policycEmitted = 1";

function emit(policy: CompiledPolicy, rules: readonly RuleInfo[]): string {
  return emitJavaScript(rules, indexRulesByTool(rules, Object.keys(policy.schema.tools)), policy.schema, policy.session);
}

/** The policy's rules with rule `index`'s IR changed by `edit` (a deep copy). */
function withIr(policy: CompiledPolicy, index: number, edit: (ir: any) => void): RuleInfo[] {
  const rules = structuredClone(policy.rules) as RuleInfo[];
  edit(rules[index]!.ir);
  return rules;
}

describe("the emitter's tables", () => {
  const policy = compileFixture(TEXT);

  it("emits the compiler's own IR as compileSources did", () => {
    expect(emit(policy, policy.rules)).toBe(policy.code);
  });

  const forgeries: [string, number, (ir: any) => void, RegExp][] = [
    ["a comparison operator", 0, (ir) => (ir.operator = `=== 1 || ${INJECTED} ||`), /^unknown comparison operator /],
    ["a count's window", 1, (ir) => (ir.left.withinMs = `0 + (${INJECTED})`), /^a window that is not a whole number of milliseconds reached the emitter$/],
    ["a count's window that is no whole number", 1, (ir) => (ir.left.withinMs = 1.5), /^a window that is not a whole number/],
    ["a called window", 2, (ir) => (ir.terms[0].withinMs = `0 + (${INJECTED})`), /^a window that is not a whole number/],
    ["a function name", 2, (ir) => (ir.terms[1].left.name = `x(${INJECTED})`), /^unknown function /],
    ["a function name from Object.prototype", 2, (ir) => (ir.terms[1].left.name = "constructor"), /^unknown function /],
    ["a quantifier kind", 3, (ir) => (ir.kind = `some(() => ${INJECTED}) || [].some`), /^unknown quantifier /],
    ["a root", 0, (ir) => (ir.left.object.root = "toString"), /^unknown root /],
    ["a conversion", 0, (ir) => (ir.left.convert = `x(${INJECTED})`), /^unknown conversion /],
  ];
  for (const [what, index, edit, refusal] of forgeries) {
    it(`refuses ${what} outside its table or range, and writes none of it`, () => {
      expect(() => emit(policy, withIr(policy, index, edit))).toThrow(refusal);
    });
  }
});

describe("irMistake: the strict check of a bundle's IR before anything is emitted from it", () => {
  const policy = compileFixture(TEXT);
  const mistakeOf = (index: number, edit: (ir: any) => void) => irMistake(withIr(policy, index, edit), policy.schema);

  it("passes the compiler's own IR, and rules without a condition", () => {
    expect(irMistake(policy.rules, policy.schema)).toBeUndefined();
    expect(irMistake([{ ir: null }], policy.schema)).toBeUndefined();
  });

  it("names the first field outside its closed set, range or kind, with its path", () => {
    expect(mistakeOf(0, (ir) => (ir.operator = "=== 1 || x() ||"))).toBe('`rules[0].ir.operator` is "=== 1 || x() ||", not one of ==, !=, <, <=, >, >=');
    expect(mistakeOf(1, (ir) => (ir.left.withinMs = -5))).toBe("`rules[1].ir.left.withinMs` is -5, not a whole number of milliseconds (0 or more)");
    expect(mistakeOf(1, (ir) => (ir.left.withinMs = "600000"))).toBe('`rules[1].ir.left.withinMs` is "600000", not a whole number of milliseconds (0 or more)');
    expect(mistakeOf(0, (ir) => (ir.left.name = 5))).toBe("`rules[0].ir.left.name` is a number, not a string");
    expect(mistakeOf(0, (ir) => (ir.left.object.extra = "x"))).toBe('`rules[0].ir.left.object` (root) has "extra", which no `root` of this policyc has');
    expect(mistakeOf(0, (ir) => delete ir.deep)).toBe("`rules[0].ir` (compare) lacks `deep`");
    expect(mistakeOf(3, (ir) => (ir.body.op = "eval"))).toBe('`rules[3].ir.body.op` is "eval", not an operation of this policyc');
    expect(mistakeOf(0, (ir) => (ir.shape = { set: "bigint" }))).toBe('`rules[0].ir.shape.set` is "bigint", not a type of this policyc');
    expect(mistakeOf(2, (ir) => (ir.terms[0].tools = ["t", 1]))).toBe("`rules[2].ir.terms[0].tools` is an array, not a list of strings");
  });

  it("refuses a declared type naming a record or enum the schema lacks, an inherited name too (review r2 finding 5)", () => {
    for (const name of ["__proto__", "constructor", "toString", "Nowhere"]) {
      expect(mistakeOf(0, (ir) => (ir.shape = { record: name }))).toBe(`\`rules[0].ir.shape.record\` is ${JSON.stringify(name)}, which is no record the bundle's schema declares`);
      expect(mistakeOf(0, (ir) => (ir.shape = { set: { list: { enum: name } } }))).toBe(`\`rules[0].ir.shape.set.list.enum\` is ${JSON.stringify(name)}, which is no enum the bundle's schema declares`);
    }
  });

  it("walks deep nesting without recursion", () => {
    let ir: unknown = { op: "const", value: true };
    for (let i = 0; i < 100_000; i++) ir = { op: "not", operand: ir };
    expect(irMistake([{ ir }], policy.schema)).toBeUndefined();
  });
});
