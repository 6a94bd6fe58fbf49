import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { describe, expect, it } from "vitest";
import type { Bundle } from "../../src/bundle/Bundle.js";
import { BUNDLE_CODES } from "../../src/bundle/errorCodes.js";
import { contentHash } from "../../src/bundle/hash.js";
import { BundleError } from "../../src/bundle/loadBundle.js";
import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import { analyze } from "../../src/check/analyze.js";
import { buildRuntimeSchema } from "../../src/compile/buildRuntimeSchema.js";
import { compileSources, type SourceInput } from "../../src/compile/compile.js";
import { schemaDeclarations } from "../../src/compile/schemaDeclarations.js";
import { verifyBundleCode } from "../../src/index.js";
import type { RuntimeSchema } from "../../src/runtime/schema.js";
import { CONFORMANCE, HAS_CONFORMANCE, ROOT, SCENARIOS } from "../helpers.js";
import { SUPPORT_SOURCES } from "../runtime/fixtures.js";

/**
 * `verifyBundleCode` compares each rule's readable text (`condition`, `clauses`, `targets`,
 * `reason`, `grants`, `revoke`) with what it runs (`ir`, `tools`): a bundle whose text says one
 * thing while its IR, and so its code, does another is refused with PC709, naming the rule and
 * the field. The bundles here are forged as anyone can: a field edited, the hash recomputed.
 */

const TEXT = `tool t { risk high args { s: string, n: int } }
tool u { risk low }
policy p {
  @name("a") allow t when args.s == "ok" and args.n > 3 unless args.n > 10
  @name("b") deny t when args.s == "no" reason "no is no" revoke
  @name("c") allow u grant "u:read" for 5m
}
`;
const SOURCES = [{ path: "p.policy", text: TEXT }];

/** Rules reading durations, whose IR marks them (`unit`) since after 0.6.0: explanations show them as durations. */
const DURATION_TEXT = `tool t { risk high args { timeout: duration, wait: duration } }
policy p {
  @name("base") allow t
  @name("slow") deny t when args.timeout > 90s
  @name("quick") deny t when args.wait < 1m
}
`;

function built(sources: readonly SourceInput[] = SOURCES): Bundle {
  const { policy, diagnostics } = compileSources(sources);
  if (policy === undefined) throw new Error(`the fixture does not compile: ${diagnostics.map((d) => `${d.code} ${d.message}`).join("; ")}`);
  return JSON.parse(serializeBundle(createBundle(policy, sources))) as Bundle;
}

/** `bundle` with `edit` applied to its rules (and manifest) and its hash recomputed, as anyone can. */
function forged(edit: (rules: any[], bundle: any) => void, bundle: Bundle = built()): Bundle {
  const copy = structuredClone(bundle) as any;
  edit(copy.rules, copy);
  copy.manifest.contentHash = contentHash(copy);
  return copy as Bundle;
}

/** The code and message `verifyBundleCode` refuses `bundle` with. */
function refusal(bundle: Bundle): { code: string; message: string } {
  try {
    verifyBundleCode(bundle);
  } catch (error) {
    if (!(error instanceof BundleError)) throw error;
    return { code: error.code, message: error.message };
  }
  throw new Error("the bundle passed");
}

const TAIL = ": its text (which explanations, diffs and reviewers show) is not what its code runs; refusing it: rebuild it from its sources, and require a signature (--public-key) for bundles you did not build";

/** The `.policy` files under `folder`, in name order, as `policyc build` would read them. */
function policyFiles(folder: string): { path: string; text: string }[] {
  return readdirSync(folder)
    .sort()
    .flatMap((name) => {
      const path = join(folder, name);
      if (statSync(path).isDirectory()) return policyFiles(path);
      return name.endsWith(".policy") ? [{ path, text: readFileSync(path, "utf8") }] : [];
    });
}

/** bench/generate.js's policy set of `rules` rules (plain JavaScript, without types). */
async function generatedSources(rules: number, seed = 1): Promise<{ path: string; text: string }[]> {
  const generate = (await import(pathToFileURL(join(ROOT, "bench/generate.js")).href)) as { generatePolicySet(options: { rules: number; seed?: number }): unknown; policySources(model: unknown): { path: string; text: string }[] };
  return generate.policySources(generate.generatePolicySet({ rules, seed }));
}

describe("schemaDeclarations", () => {
  it("writes a schema back as declarations that build the same schema again, defaults, keywords and label enum included", () => {
    // Written back as they were written, but for the defaults, which are written out.
    const written = `enum Label { public, deny, all }
enum Kind { one, two }
type Node { type: string, next?: Node, kinds: list<set<Kind>> }
agent {}
user { id: string }
context { labels: set<Label>, node?: Node }
tool deny.all { risk low returns deny, all args { policy: Risk, when?: duration } }
`;
    const text = `${written}tool t {}\nintent i {}\nintent j { tools t max_risk medium }
policy p { allow t when user.id == "x" and context has node and any(k in context.node.kinds: k contains two) }
`;
    const schema = built([{ path: "s.policy", text }]).schema;
    expect(schemaDeclarations(schema)).toBe(`${written}tool t { risk medium }\nintent i { max_risk critical }\nintent j { tools t max_risk medium }\n`);
    expect(roundTrip(schema)).toEqual(schema);
  });

  it("round-trips the schema of every sample, of the conformance support set and of a generated 1,000-rule set", async () => {
    const sets = [...SCENARIOS.map((name) => policyFiles(join(ROOT, "samples", name))), [...SUPPORT_SOURCES], await generatedSources(1000)];
    if (HAS_CONFORMANCE) sets.push(policyFiles(join(CONFORMANCE, "support")));
    for (const sources of sets) {
      const schema = built(sources).schema;
      expect(roundTrip(schema)).toEqual(schema);
    }
  });
});

/** The schema the checker builds from `schemaDeclarations(schema)`, as a bundle carries it; fails on an error. */
function roundTrip(schema: RuntimeSchema): RuntimeSchema {
  const analysis = analyze([{ path: "schema.policy", text: schemaDeclarations(schema) }]);
  expect(analysis.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  return JSON.parse(JSON.stringify(buildRuntimeSchema(analysis.program!.schema))) as RuntimeSchema;
}

describe("verifyBundleCode: rule text against what the rule runs (PC709)", () => {
  it("passes bundles this policyc built: the fixture, every sample, the conformance support set", () => {
    expect(verifyBundleCode(built()).rules.length).toBe(3);
    for (const name of SCENARIOS) expect(() => verifyBundleCode(built(policyFiles(join(ROOT, "samples", name))))).not.toThrow();
    expect(() => verifyBundleCode(built([...SUPPORT_SOURCES]))).not.toThrow();
    if (HAS_CONFORMANCE) expect(() => verifyBundleCode(built(policyFiles(join(CONFORMANCE, "support"))))).not.toThrow();
  });

  it("passes generated 1,000-rule bundles", async () => {
    for (const seed of [1, 2]) {
      const bundle = built(await generatedSources(1000, seed));
      expect(bundle.rules.length).toBe(1000);
      expect(() => verifyBundleCode(bundle)).not.toThrow();
    }
  }, 120_000);

  it("refuses a forged condition over honest IR, saying what the text compiles to and what the bundle runs", () => {
    const bundle = forged((rules) => {
      rules[0].condition = 'when args.s == "ok" and args.n > 1000 unless args.n > 10';
      rules[0].clauses = ['args.s == "ok"', "args.n > 1000", "unless args.n > 10"];
    });
    const { code, message } = refusal(bundle);
    expect(code).toBe(BUNDLE_CODES.ruleTextDiffers);
    expect(message).toBe(
      'the bundle\'s rule "a" (`rules[0]`): its `condition` "when args.s == \\"ok\\" and args.n > 1000 unless args.n > 10" compiles to `…":"none"},"right":{"op":"const","value":1000},"deep":false},{"op":"not","operand":{"op":"compare","operator":">","left":{"op":"get","object":{"op":"root","root":"args"},"name":"n","convert":"none"},"r…` (542 characters), while its `ir`, which its code runs, is `…":"none"},"right":{"op":"const","value":3},"deep":false},{"op":"not","operand":{"op":"compare","operator":">","left":{"op":"get","object":{"op":"root","root":"args"},"name":"n","convert":"none"},"righ…` (539 characters)' + TAIL,
    );
  });

  it("refuses a condition text on a rule whose IR is null, and a null condition over IR", () => {
    expect(refusal(forged((rules) => ((rules[2].condition = "when false"), (rules[2].clauses = ["false"]))))).toEqual({ code: "PC709", message: 'the bundle\'s rule "c" (`rules[2]`): its `condition` "when false" compiles to `{"op":"const","value":false}`, while its `ir`, which its code runs, is `null`' + TAIL });
    expect(refusal(forged((rules) => ((rules[1].condition = null), (rules[1].clauses = [])))).message).toBe('the bundle\'s rule "b" (`rules[1]`): it has no `condition`, while its `ir`, which its code runs, is `{"op":"compare","operator":"==","left":{"op":"get","object":{"op":"root","root":"args"},"name":"s","convert":"none"},"right":{"op":"const","value":"no"},"deep":false}`' + TAIL);
  });

  it("refuses forged clauses (what explanations show, clause by clause)", () => {
    const bundle = forged((rules) => (rules[0].clauses = ['args.s == "ok"', "args.n > 3", "args.n > 10"]));
    expect(refusal(bundle)).toEqual({ code: "PC709", message: 'the bundle\'s rule "a" (`rules[0]`): its `clauses` are not its condition\'s clauses (`["args.s == \\"ok\\"","args.n > 3","args.n > 10"]`; its condition "when args.s == \\"ok\\" and args.n > 3 unless args.n > 10" has `["args.s == \\"ok\\"","args.n > 3","unless args.n > 10"]`)' + TAIL });
  });

  it("refuses a condition not written as this policyc writes it, though it means the same", () => {
    const bundle = forged((rules) => (rules[1].condition = 'when args.s=="no"'));
    expect(refusal(bundle).message).toMatch(/^the bundle's rule "b" \(`rules\[1\]`\): its `condition` is not as this policyc writes the condition it holds \("when args\.s==\\"no\\""; written "when args\.s == \\"no\\""\)/);
    // Parentheses are kept as written, so they make other clauses, which explanations show.
    expect(refusal(forged((rules) => (rules[1].condition = 'when (args.s == "no")'))).message).toMatch(/^the bundle's rule "b" \(`rules\[1\]`\): its `clauses` are not its condition's clauses \(`\["args\.s == \\"no\\""\]`; its condition "when \(args\.s == \\"no\\"\)" has `\["\(args\.s == \\"no\\"\)"\]`\)/);
  });

  it("refuses targets that do not resolve to the tools its code dispatches on (and tools its code does not dispatch on, PC707)", () => {
    expect(refusal(forged((rules) => (rules[2].targets = ["*"])))).toEqual({ code: "PC709", message: 'the bundle\'s rule "c" (`rules[2]`): its `targets` `["*"]` resolve to the tools `["t","u"]`, while its `tools`, which its code dispatches on, are `["u"]`' + TAIL });
    // Targets that type the condition otherwise are text that does not check.
    expect(refusal(forged((rules) => (rules[0].targets = ["*"]))).message).toMatch(/^the bundle's rule "a" \(`rules\[0\]`\): its text does not check against the bundle's schema: "allow \* when .*" is error\[PC304\]: `args\.s` is not an argument of every tool this rule targets/);
    expect(refusal(forged((rules) => (rules[2].targets = ["t"]))).message).toMatch(/^the bundle's rule "c" \(`rules\[2\]`\): its `targets` `\["t"\]` resolve to the tools `\["t"\]`, while its `tools`, which its code dispatches on, are `\["u"\]`/);
    expect(refusal(forged((rules) => (rules[2].tools = ["t"]))).code).toBe(BUNDLE_CODES.codeDiffers);
  });

  it("refuses a rule whose text is fine but is another rule's", () => {
    const bundle = forged((rules) => {
      rules[1].condition = rules[0].condition;
      rules[1].clauses = rules[0].clauses;
    });
    const { code, message } = refusal(bundle);
    expect(code).toBe("PC709");
    expect(message).toMatch(/^the bundle's rule "b" \(`rules\[1\]`\): its `condition` "when args\.s == \\"ok\\" and args\.n > 3 unless args\.n > 10" compiles to `\{"op":"and",.*, while its `ir`, which its code runs, is `\{"op":"compare","operator":"==",.*"value":"no"/);
  });

  it("refuses text that does not parse or does not type-check, naming the rule, the text and the checker's error", () => {
    expect(refusal(forged((rules) => (rules[0].condition = "when args.s ==")))).toEqual({ code: "PC709", message: expect.stringMatching(/^the bundle's rule "a" \(`rules\[0\]`\): its text does not check against the bundle's schema: "allow t when args\.s ==" is error\[PC1\d\d\]: .+: its text \(which/) });
    expect(refusal(forged((rules) => (rules[0].condition = "when args.s == 1"))).message).toMatch(/^the bundle's rule "a" \(`rules\[0\]`\): its text does not check against the bundle's schema: "allow t when args\.s == 1" is error\[PC3\d\d\]: /);
    expect(refusal(forged((rules) => (rules[0].condition = "when args.nowhere"))).message).toMatch(/is error\[PC\d+\]: .*nowhere/);
    expect(refusal(forged((rules) => (rules[0].targets = ["nowhere"]))).message).toMatch(/^the bundle's rule "a" \(`rules\[0\]`\): its text does not check against the bundle's schema: "allow nowhere when .*" is error\[PC203\]: unknown tool `nowhere`/);
  });

  it("refuses grants and revocations no rule can have (a deny granting, an allow revoking): the engine acts on them as they stand", () => {
    expect(refusal(forged((rules) => (rules[0].revoke = true))).message).toMatch(/^the bundle's rule "a" \(`rules\[0\]`\): its text does not check against the bundle's schema: "allow t when .* revoke" is error\[PC401\]: /);
    expect(refusal(forged((rules) => (rules[1].grants = [{ scope: "t:all", ttlSeconds: 60 }]))).message).toMatch(/^the bundle's rule "b" \(`rules\[1\]`\): .* is error\[PC400\]: /);
    expect(refusal(forged((rules) => (rules[2].grants = [{ scope: "u:read", ttlSeconds: 300 }, { scope: "u:write", ttlSeconds: 60 }]))).message).toBe('the bundle\'s rule "c" (`rules[2]`): its `grants` is `[{"scope":"u:read","ttlSeconds":300},{"scope":"u:write","ttlSeconds":60}]`, while its text makes it `[{"scope":"u:read","ttlSeconds":300},{"scope":"u:write","ttlSeconds":300}]`' + TAIL);
    // A reason is shown and used as it stands: any text is one a rule can give.
    expect(() => verifyBundleCode(forged((rules) => (rules[1].reason = "another reason \u202e")))).not.toThrow();
  });

  it("refuses text that holds more than one rule, or declarations", () => {
    expect(refusal(forged((rules) => (rules[0].condition = 'when args.s == "ok" allow u')))).toEqual({ code: "PC709", message: expect.stringMatching(/^the bundle's rule "a" \(`rules\[0\]`\): its text is not one rule \("allow t when args\.s == \\"ok\\" allow u"\)/) });
    expect(refusal(forged((rules) => (rules[0].condition = 'when args.s == "ok" } tool z { risk low } policy q { allow z')))).toEqual({ code: "PC709", message: expect.stringMatching(/^the bundle's rule "a" \(`rules\[0\]`\): its text is not one rule \("allow t when args\.s == \\"ok\\" } tool z \{ risk low \} policy q \{ allow z"\)/) });
    // A schema whose names are no names declares something else.
    expect(refusal(forged((_rules, bundle) => (bundle.schema.enums = { "E { a } tool z { risk low } enum F": ["b"] })))).toEqual({ code: "PC709", message: "the bundle's schema (`schema`) is not what it declares when written back as declarations" + TAIL });
  });

  it("passes an older policyc's IR format (0.6.0: no duration `unit`) whose honest text compiles to the same code, and still refuses a text whose code differs", () => {
    const sources = [{ path: "d.policy", text: DURATION_TEXT }];
    const current = built(sources);
    expect(JSON.stringify(current.rules[1]!.ir)).toContain('"unit":"duration"');
    // What 0.6.0 wrote: the same code (the decision ignores `unit`), IR without it.
    const old060 = (compiler: string, edit: (rules: any[]) => void = () => {}): Bundle =>
      forged((rules, bundle) => {
        for (const rule of rules) rule.ir = JSON.parse(JSON.stringify(rule.ir).replaceAll(',"unit":"duration"', ""));
        bundle.manifest.compiler = compiler;
        edit(rules);
      }, current);
    for (const compiler of [current.manifest.compiler, "policyc 0.6.0"]) {
      expect(JSON.stringify(old060(compiler).rules)).not.toContain('"unit"');
      expect(() => verifyBundleCode(old060(compiler))).not.toThrow();
      // Its text forged (90s → 95s) while its IR, and so its code, still tests 90s.
      const forgedText = old060(compiler, (rules) => {
        rules[1].condition = "when args.timeout > 95s";
        rules[1].clauses = ["args.timeout > 95s"];
      });
      expect(refusal(forgedText)).toEqual({ code: "PC709", message: expect.stringMatching(/^the bundle's rule "slow" \(`rules\[1\]`\): its `condition` "when args\.timeout > 95s" compiles to `.*"value":95000.*`, while its `ir`, which its code runs, is `.*"value":90000.*`/) });
      // Named the rule whose text was forged, not one only written in the older format before it.
      const forgedLater = old060(compiler, (rules) => {
        rules[2].condition = "when args.wait < 2m";
        rules[2].clauses = ["args.wait < 2m"];
      });
      expect(refusal(forgedLater)).toEqual({ code: "PC709", message: expect.stringMatching(/^the bundle's rule "quick" \(`rules\[2\]`\): its `condition` "when args\.wait < 2m" compiles to /) });
    }
  });

  it("says when another policyc built the bundle, which may print or compile rules otherwise", () => {
    const bundle = forged((rules, b) => {
      rules[0].clauses = ["args.n > 3"];
      b.manifest.compiler = "policyc 0.12.0";
    });
    expect(refusal(bundle).message).toMatch(/^the bundle's rule "a" \(`rules\[0\]`\): its `clauses` are not .*, and it was built by "policyc 0\.12\.0", not this policyc \([^)]+\), which may print or compile rules otherwise: its text/);
  });
});
