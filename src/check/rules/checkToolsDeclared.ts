import type * as A from "../../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import type { Code } from "../../diagnostics/codes.js";

/** Errors about a rule's targets, which a set without tools gives for every rule. */
const TARGET_CODES: ReadonlySet<Code> = new Set<Code>(["PC203", "PC208", "PC304", "PC506"]);
/** Errors about names, which a set that declares nothing but policies gives for every name. */
const NAME_CODES: ReadonlySet<Code> = new Set<Code>(["PC202", "PC204", "PC205", "PC206"]);

const HELP = "pass the files with the declarations too, as in `policyc check schema.policy rules.policy`, or the folder that holds them";

/**
 * A set with rules but no `tool` declarations is almost always a rules file checked without the
 * file that declares its schema (`policyc check rules.policy`, the docs split sets that way):
 * then every target is unknown, and, when nothing else is declared either, every attribute,
 * intent and label too, one error each. One PC216 says what happened, and `withoutFollowOns`
 * leaves out the errors it explains. Returns undefined when the set declares a tool or has no rule.
 */
export function checkToolsDeclared(files: readonly A.PolicyFile[]): { diagnostic: Diagnostic; withoutFollowOns: (diagnostics: readonly Diagnostic[]) => Diagnostic[] } | undefined {
  const declarations = files.flatMap((file) => file.declarations);
  if (declarations.some((d) => d.kind === "ToolDecl")) return undefined;
  const firstTarget = declarations.flatMap((d) => (d.kind === "PolicyDecl" ? d.rules : [])).find((rule) => rule.targets.length > 0)?.targets[0];
  if (!firstTarget) return undefined;
  const onlyPolicies = declarations.every((d) => d.kind === "PolicyDecl");
  // Intents list tools: a set with none has none either, and every intent a rule names is unknown.
  const noIntents = !declarations.some((d) => d.kind === "IntentDecl");
  const what = onlyPolicies ? "declares nothing but policies: every tool, attribute, intent and label the rules name is unknown" : "declares no tools: every rule's target is unknown";
  return {
    diagnostic: diagnostic("PC216", `the set ${what}`, firstTarget.span, HELP),
    withoutFollowOns: (diagnostics) => diagnostics.filter((d) => !TARGET_CODES.has(d.code) && !(onlyPolicies && NAME_CODES.has(d.code)) && !(noIntents && d.code === "PC204")),
  };
}
