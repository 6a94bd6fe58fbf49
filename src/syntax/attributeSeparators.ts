import type { Declaration, Field } from "../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../diagnostics/Diagnostic.js";
import type { SourceFile } from "../source/SourceFile.js";

/**
 * PC103 for two attributes on one line with no `,` between them (`type T { a: string b: int }`):
 * language.md section 3.3 separates attributes by commas or line breaks, and the grammar's
 * optional comma alone would take them (audit s20 a1 L7). `fmt` never prints attributes so.
 */
export function attributesWithoutSeparator(file: SourceFile, declarations: readonly Declaration[]): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const declaration of declarations) {
    const blocks: (readonly Field[] | undefined)[] = declaration.kind === "TypeDecl" || declaration.kind === "EntityDecl" ? [declaration.fields] : declaration.kind === "ToolDecl" ? [declaration.args] : [];
    for (const fields of blocks) {
      for (let i = 1; i < (fields?.length ?? 0); i++) {
        const [before, field] = [fields![i - 1]!, fields![i]!];
        if (/[,\r\n]/.test(file.text.slice(before.span.end, field.span.start))) continue;
        const written = (f: Field) => file.text.slice(f.span.start, f.span.end);
        found.push(
          diagnostic("PC103", `expected \`,\` or a line break after \`${written(before)}\`, found \`${field.name.name}\``, field.name.span, `separate attributes with \`,\` or put each on a line of its own: \`${written(before)}, ${written(field)}\``),
        );
      }
    }
  }
  return found;
}
