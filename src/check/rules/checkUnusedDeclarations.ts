import type * as A from "../../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import { BUILTIN_TYPES } from "../schema.js";

/**
 * Enums and record types nothing refers to are dead weight or a typo elsewhere (PC502).
 * Tools and intents are not reported: requests name them, not the policy.
 */
export function checkUnusedDeclarations(files: readonly A.PolicyFile[], used: ReadonlySet<string>, diagnostics: Diagnostic[]): void {
  const seen = new Set<string>();
  for (const file of files) {
    for (const decl of file.declarations) {
      if (decl.kind !== "EnumDecl" && decl.kind !== "TypeDecl") continue;
      // A second declaration of a name is already PC200, as is a redeclared built-in (`enum Risk`):
      // saying it is unused too would be noise. The first is reported when nothing uses the name.
      const repeated = seen.has(decl.name.name);
      seen.add(decl.name.name);
      if (!repeated && decl.name.name !== "" && !BUILTIN_TYPES.has(decl.name.name) && !used.has(decl.name.name)) {
        diagnostics.push(diagnostic("PC502", `\`${decl.name.name}\` is declared but never used`, decl.name.span, "remove it, or use it as the type of an attribute"));
      }
    }
  }
}
