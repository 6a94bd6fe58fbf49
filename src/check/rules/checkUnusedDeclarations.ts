import type * as A from "../../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import { BUILTIN_TYPES } from "../schema.js";

/**
 * Enums and record types nothing refers to are dead weight or a typo elsewhere (PC502).
 * Tools and intents are not reported: requests name them, not the policy.
 */
export function checkUnusedDeclarations(files: readonly A.PolicyFile[], used: ReadonlySet<string>, diagnostics: Diagnostic[]): void {
  for (const file of files) {
    for (const decl of file.declarations) {
      // A redeclared built-in (`enum Risk`) is already PC200; saying it is unused too would be noise.
      if ((decl.kind === "EnumDecl" || decl.kind === "TypeDecl") && decl.name.name !== "" && !BUILTIN_TYPES.has(decl.name.name) && !used.has(decl.name.name)) {
        diagnostics.push(diagnostic("PC502", `\`${decl.name.name}\` is declared but never used`, decl.name.span, "remove it, or use it as the type of an attribute"));
      }
    }
  }
}
