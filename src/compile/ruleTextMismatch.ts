import { analyze } from "../check/analyze.js";
import type { Diagnostic } from "../diagnostics/Diagnostic.js";
import { printable } from "../diagnostics/printable.js";
import { describeText, describeThrown } from "../runtime/helpers.js";
import type { CompiledPolicy, RuleInfo } from "../runtime/policy.js";
import { encodeString } from "../syntax/literals.js";
import type { RuntimeSchema } from "../runtime/schema.js";
import { analyzeSessionUse } from "./analyzeSessionUse.js";
import { buildRuntimeSchema } from "./buildRuntimeSchema.js";
import { emitRulesCode, lowerRules } from "./compileProgram.js";
import { schemaDeclarations } from "./schemaDeclarations.js";

/** The path of the schema written back as declarations, in messages of its mistakes. */
const SCHEMA_PATH = "<the bundle's schema>";

/** The most characters of a compiled value (IR, a list of tools) a message shows whole; of a longer one, it shows where the two sides differ. */
const SHOWN_VALUE = 200;
/** Characters shown of a long value before the place where it differs from the other side. */
const SHOWN_BEFORE = 40;

/**
 * The fields of a rule derived from its text, compared in this order: the text first (a
 * condition not as this policyc prints it says so before what it compiles to), then what runs.
 * `effect` is written into the rule's text as it stands, so it is compared only as a guard.
 */
const DERIVED_FIELDS = ["effect", "targets", "condition", "clauses", "ir", "tools", "reason", "grants", "revoke"] as const satisfies readonly (keyof RuleInfo)[];

/**
 * What differs between a bundle's rules' readable text and what it runs, or undefined: each rule
 * is written back as policy text from its own fields (effect, `targets`, `condition`, `reason`,
 * `grants`, `revoke`), parsed, checked against the bundle's own schema (written back as
 * declarations, `schemaDeclarations`) and lowered with the compiler's own passes, and what that
 * derives must be the rule: exactly its `condition` and `clauses` as this policyc prints them
 * and its `tools`, and its `ir` or an IR this policyc emits the same code from
 * (ruleRunningOtherwise). Eval explanations, `--rule-changes` and a reviewer read the text
 * while the code runs the IR (which the code check compared with the code): a text that says
 * `amount > 1000` over IR that tests something else would mislead the person who audits it.
 * Never throws for what the bundle holds; runs none of its code.
 */
export function ruleTextMismatch(policy: Pick<CompiledPolicy, "schema" | "rules">): string | undefined {
  const sources = [{ path: SCHEMA_PATH, text: schemaDeclarations(policy.schema) }, ...policy.rules.map((rule, index) => ({ path: rulePath(index), text: `policy rule${index} {\n${ruleText(rule)}\n}\n` }))];
  let derived: RuleInfo[];
  try {
    const analysis = analyze(sources);
    if (!analysis.ok || analysis.program === undefined) return checkMistake(policy.rules, analysis.diagnostics);
    const program = analysis.program;
    // Each rule's text must be one rule, alone in its policy block, and the schema's text
    // declarations only: text holding more (`when a allow t`, `when a } tool z {}`) adds to them.
    if (program.files[0]!.declarations.some((declaration) => declaration.kind === "PolicyDecl")) return "schema (`schema`) declares rules when written back as declarations";
    for (const [index, rule] of policy.rules.entries()) {
      const declarations = program.files[index + 1]!.declarations;
      const only = declarations.length === 1 ? declarations[0]! : undefined;
      if (only?.kind !== "PolicyDecl" || only.name.name !== `rule${index}` || only.rules.length !== 1) return `${ruleName(rule, index)}: its text is not one rule (${describeText(ruleText(rule))})`;
    }
    // The schema the rules were checked against must be the bundle's: a name in it that is no
    // name (`x } tool y {`) declares something else.
    if (JSON.stringify(buildRuntimeSchema(program.schema)) !== JSON.stringify(policy.schema)) return "schema (`schema`) is not what it declares when written back as declarations";
    derived = lowerRules(program);
  } catch (error) {
    // Text no policyc wrote may break what the front end assumes of text it checked.
    return `rules' text cannot be compiled again (${describeThrown(error)})`;
  }
  const runsOtherwise = ruleRunningOtherwise(policy, derived);
  for (const [index, rule] of policy.rules.entries()) {
    const mistake = fieldMismatch(rule, derived[index]!, runsOtherwise === index);
    if (mistake !== undefined) return `${ruleName(rule, index)}: ${mistake}`;
  }
  return undefined;
}

/**
 * The index of a rule whose text compiles to other code than its `ir`, or undefined when none
 * does. What runs is the code, which the code check found to be what this policyc emits from
 * the stored IR: an IR another policyc wrote in its own format (0.6.0's has no duration `unit`,
 * which only explanations read) is honest if its text's IR emits the same code. So the rules
 * whose IR differs from their text's are given their text's IR, all at once, and the code and
 * session use this policyc emits must be the same as for the stored rules. When they are not,
 * the rule named is found by halving: the one whose text's IR, given with those of the rules
 * before it (which changed nothing), changes the code. Only bundles whose IR this policyc would
 * not write pay the emitting (a forged one about log2 of its differing rules' times more).
 */
function ruleRunningOtherwise(policy: Pick<CompiledPolicy, "schema" | "rules">, derived: readonly RuleInfo[]): number | undefined {
  const differing = policy.rules.flatMap((rule, index) => (JSON.stringify(rule.ir) === JSON.stringify(derived[index]!.ir) ? [] : [index]));
  if (differing.length === 0) return undefined;
  let stored: string;
  try {
    stored = emittedCode(policy.schema, policy.rules);
  } catch {
    // Not reached after the code check, which emitted these rules: failing closed all the same.
    return differing[0];
  }
  const sameCodeWithTextsIr = (count: number): boolean => {
    const given = new Set(differing.slice(0, count));
    try {
      return emittedCode(policy.schema, policy.rules.map((rule, index) => (given.has(index) ? { ...rule, ir: derived[index]!.ir } : rule))) === stored;
    } catch {
      // IR lowered from text no policyc wrote may be what the emitter cannot take: not the same code.
      return false;
    }
  };
  if (sameCodeWithTextsIr(differing.length)) return undefined;
  let same = 0;
  let changed = differing.length;
  while (changed - same > 1) {
    const middle = Math.floor((same + changed) / 2);
    if (sameCodeWithTextsIr(middle)) same = middle;
    else changed = middle;
  }
  return differing[changed - 1];
}

/** The code this policyc emits for `rules`, after the session use they read (which it emits from). */
function emittedCode(schema: RuntimeSchema, rules: readonly RuleInfo[]): string {
  const session = analyzeSessionUse(rules.map((rule) => rule.ir));
  return `${JSON.stringify(session)}\n${emitRulesCode(rules, schema, session)}`;
}

function rulePath(index: number): string {
  return `<rules[${index}]>`;
}

/** `rule "id" (rules[3])`: the id as the bundle has it, and where in the bundle. */
function ruleName(rule: RuleInfo, index: number): string {
  return `rule ${describeText(rule.id)} (\`rules[${index}]\`)`;
}

/**
 * The rule as policy text, from the fields a person reads: what `policyc build` compiled it from,
 * but for annotations and doc comments (metadata that decides nothing). `grants` share one
 * lifetime in the language: the first one's is written, and the derived grants are compared.
 */
function ruleText(rule: RuleInfo): string {
  const parts: string[] = [rule.effect, rule.targets.join(", ")];
  if (rule.condition !== null) parts.push(rule.condition);
  if (rule.reason !== null) parts.push(`reason ${encodeString(rule.reason)}`);
  if (rule.grants.length > 0) parts.push(`grant ${rule.grants.map((grant) => encodeString(grant.scope)).join(", ")} for ${rule.grants[0]!.ttlSeconds}s`);
  if (rule.revoke) parts.push("revoke");
  return parts.join(" ");
}

/** The first error of the text written back, named by the rule (or the schema) it is in. */
function checkMistake(rules: readonly RuleInfo[], diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error");
  const inSchema = errors.find((d) => d.span?.file.path === SCHEMA_PATH);
  if (inSchema !== undefined || errors.length === 0) return `schema (\`schema\`) does not check when written back as declarations${inSchema === undefined ? "" : ` (error[${inSchema.code}]: ${describeThrown(inSchema.message)})`}`;
  const indexOf = (d: Diagnostic): number => {
    const match = /^<rules\[(\d+)\]>$/.exec(d.span?.file.path ?? "");
    return match === null ? Number.POSITIVE_INFINITY : Number(match[1]);
  };
  const first = errors.reduce((a, b) => (indexOf(b) < indexOf(a) ? b : a));
  const index = indexOf(first);
  if (!Number.isFinite(index)) return `rules' text does not check (error[${first.code}]: ${describeThrown(first.message)})`;
  return `${ruleName(rules[index]!, index)}: its text does not check against the bundle's schema: ${describeText(ruleText(rules[index]!))} is error[${first.code}]: ${describeThrown(first.message)}`;
}

/**
 * Which field of `rule` differs from what its text derives (`again`), said shortly, or undefined.
 * `runsOtherwise`: whether its text compiles to other code than its `ir` (ruleRunningOtherwise);
 * else an `ir` that differs is the same code written in another format.
 */
function fieldMismatch(rule: RuleInfo, again: RuleInfo, runsOtherwise: boolean): string | undefined {
  for (const field of DERIVED_FIELDS) {
    if (field === "ir" && !runsOtherwise) continue;
    const stored = JSON.stringify(rule[field]);
    const derived = JSON.stringify(again[field]);
    if (stored === derived) continue;
    const [storedShown, derivedShown] = shownPair(stored, derived);
    switch (field) {
      case "condition":
        return `its \`condition\` is not as this policyc writes the condition it holds (${describeText(String(rule.condition))}; written ${describeText(String(again.condition))})`;
      case "clauses":
        return `its \`clauses\` are not its condition's clauses (${storedShown}; its condition ${describeText(String(rule.condition))} has ${derivedShown})`;
      case "ir":
        return rule.condition === null ? `it has no \`condition\`, while its \`ir\`, which its code runs, is ${storedShown}` : `its \`condition\` ${describeText(rule.condition)} compiles to ${derivedShown}, while its \`ir\`, which its code runs, is ${storedShown}`;
      case "tools":
        return `its \`targets\` ${shownHead(JSON.stringify(rule.targets))} resolve to the tools ${derivedShown}, while its \`tools\`, which its code dispatches on, are ${storedShown}`;
      default:
        return `its \`${field}\` is ${storedShown}, while its text makes it ${derivedShown}`;
    }
  }
  return undefined;
}

/**
 * Two compiled values (JSON) in a message: whole when short; else each from a little before the
 * first character where they differ, so that the difference shows (the bundle holds them whole).
 */
function shownPair(a: string, b: string): [string, string] {
  if (a.length <= SHOWN_VALUE && b.length <= SHOWN_VALUE) return [`\`${printable(a)}\``, `\`${printable(b)}\``];
  let at = 0;
  while (at < a.length && a[at] === b[at]) at++;
  const from = Math.max(0, at - SHOWN_BEFORE);
  const cut = (json: string): string => `\`${from > 0 ? "…" : ""}${printable(json.slice(from, from + SHOWN_VALUE))}${from + SHOWN_VALUE < json.length ? "…" : ""}\` (${json.length} characters)`;
  return [cut(a), cut(b)];
}

/** A value (JSON) in a message: whole when short, else its head. */
function shownHead(json: string): string {
  return json.length <= SHOWN_VALUE ? `\`${printable(json)}\`` : `\`${printable(json.slice(0, SHOWN_VALUE))}…\` (${json.length} characters)`;
}
