import { hasErrors, type Diagnostic } from "../diagnostics/Diagnostic.js";
import type { SourceFile } from "../source/SourceFile.js";
import { parse } from "../syntax/parse.js";
import { formatSource } from "./format.js";

export interface FormattedFile {
  readonly path: string;
  readonly original: string;
  readonly formatted: string;
  readonly changed: boolean;
}

/** Formats each file; files that do not parse, or whose doc comments the layout would move to another item (PC110), are left alone and reported. */
export function formatSources(files: readonly SourceFile[]): { formatted: FormattedFile[]; diagnostics: Diagnostic[] } {
  const formatted: FormattedFile[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const parsed = parse(file);
    if (hasErrors(parsed.diagnostics)) {
      diagnostics.push(...parsed.diagnostics.filter((d) => d.severity === "error"));
      continue;
    }
    const output = formatSource(parsed.ast, file.text, [...parsed.comments, ...parsed.docComments]);
    if (hasErrors(output.diagnostics)) {
      diagnostics.push(...output.diagnostics);
      continue;
    }
    formatted.push({ path: file.path, original: file.text, formatted: output.text, changed: output.text !== file.text });
  }
  return { formatted, diagnostics };
}
