import type * as A from "../../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";

/** `grant` only on `allow`, `revoke` only on `deny`, and grants that name a scope and live a while. */
export function checkRuleClauses(rule: A.Rule, diagnostics: Diagnostic[]): void {
  if (rule.grant && rule.effect !== "allow") {
    diagnostics.push(diagnostic("PC400", `\`grant\` is only allowed on \`allow\` rules, not on \`${rule.effect}\``, rule.grant.span, "credentials are granted only when a call is allowed"));
  }
  // An enforcement point mints one credential per scope: an empty scope is a credential for
  // nothing in particular, which a downstream check may read as "no restriction".
  for (const scope of rule.grant?.scopes ?? []) {
    if (scope.value.trim() === "") {
      diagnostics.push(diagnostic("PC403", scope.value === "" ? "a grant scope must not be empty" : "a grant scope must not be blank", scope.span, 'name what the credential is for, as in `grant "kb:read" for 5m`'));
    }
  }
  if (rule.grant && rule.grant.ttl.milliseconds < 1000) {
    diagnostics.push(diagnostic("PC402", `a grant must live at least one second, not \`${rule.grant.ttl.text}\``, rule.grant.ttl.span, "write `1s` or more, as in `for 1s`"));
  }
  if (rule.revoke && rule.effect !== "deny") {
    diagnostics.push(diagnostic("PC401", `\`revoke\` is only allowed on \`deny\` rules, not on \`${rule.effect}\``, rule.revoke.span, "only a denial can revoke the session"));
  }
}
