import type * as A from "../../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";

/**
 * `@name` takes exactly one non-empty string; `@controls` one or more non-empty strings; other
 * annotations take strings.
 * Returns the rule's explicit name, if it has a valid one.
 */
export function checkAnnotations(rule: A.Rule, diagnostics: Diagnostic[]): string | undefined {
  let name: string | undefined;
  const seen = new Set<string>();
  for (const annotation of rule.annotations) {
    const key = annotation.name.name;
    if (seen.has(key) && key !== "controls") diagnostics.push(diagnostic("PC109", `\`@${key}\` is given twice on this rule`, annotation.span));
    seen.add(key);
    const nonString = annotation.args.find((a) => a.kind !== "StringLiteral");
    if (nonString) {
      diagnostics.push(diagnostic("PC109", `\`@${key}\` takes strings, as in \`@${key}("…")\``, nonString.span));
      continue;
    }
    if (key === "name") {
      const value = annotation.args[0];
      if (annotation.args.length !== 1 || value?.kind !== "StringLiteral" || value.value.trim() === "") {
        diagnostics.push(diagnostic("PC109", "`@name` takes exactly one non-empty string", annotation.span, 'write `@name("pii-stays-inside")`'));
      } else name = value.value;
    } else if (key === "controls") {
      if (annotation.args.length === 0) diagnostics.push(diagnostic("PC109", "`@controls` needs at least one control id", annotation.span, 'write `@controls("OWASP-ASI03")`'));
      // A control id names a framework control; an empty one maps the rule to nothing.
      for (const id of annotation.args) {
        if (id.kind === "StringLiteral" && id.value.trim() === "") diagnostics.push(diagnostic("PC109", "a control id must not be empty", id.span, 'write `@controls("OWASP-ASI03")`'));
      }
    }
  }
  return name;
}
