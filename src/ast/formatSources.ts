import { hasErrors, type Diagnostic } from "../diagnostics/Diagnostic.js";
import type { SourceFile } from "../source/SourceFile.js";
import { parse, type ParseResult } from "../syntax/parse.js";
import { nestingDiagnostic } from "./nesting.js";
import { formatSource, type FormatResult } from "./format.js";

export interface FormattedFile {
  readonly path: string;
  /** The file's text as read, its byte order mark included. */
  readonly original: string;
  readonly formatted: string;
  readonly changed: boolean;
}

/**
 * The canonical layout of a policy file, as `policyc fmt` writes it: the library's formatter.
 * A file that does not parse is returned unchanged with its syntax errors (its AST holds
 * placeholders where the parser recovered, and leaves out the text it skipped), as is one whose
 * doc comments the layout would move to another item (PC110). Every comment is kept, `///`
 * included. Line ends are kept (see below), and so is a UTF-8 byte order mark: one the text
 * starts with, or one the source file was read with (`SourceFile.byteOrderMark`).
 */
export function format(source: SourceFile | string, path?: string): FormatResult {
  const parsed = parse(source, path);
  const text = parsed.file.text;
  if (hasErrors(parsed.diagnostics)) return { text, diagnostics: parsed.diagnostics.filter((d) => d.severity === "error") };
  // A condition `policyc check` refuses as too deep (a chain of thousands of calls) is left
  // alone too: the printer walks expressions by recursion.
  const tooDeep = parsed.ast.declarations.flatMap((d) => (d.kind === "PolicyDecl" ? d.rules : [])).flatMap((rule) => nestingDiagnostic(rule) ?? []);
  if (tooDeep.length > 0) return { text, diagnostics: tooDeep };
  const result = formatLineEnds(parsed);
  // The layout starts at the first token: the mark (white space to the lexer) goes back in front.
  const byteOrderMark = parsed.file.byteOrderMark || text.startsWith(BYTE_ORDER_MARK);
  return byteOrderMark && !hasErrors(result.diagnostics) ? { ...result, text: BYTE_ORDER_MARK + result.text } : result;
}

const BYTE_ORDER_MARK = "\ufeff";

/** The canonical layout of a parsed file without syntax errors, written with the line ends it uses. */
function formatLineEnds(parsed: ParseResult): FormatResult {
  const text = parsed.file.text;
  if (!text.includes("\r")) return formatSource(parsed.ast, text, [...parsed.comments, ...parsed.docComments]);
  // Laid out with line feeds (a carriage return inside a block comment would stay one), then
  // written with the line ends the file uses: a file checked out with CRLF (Git for Windows)
  // is formatted when only its line ends differ from the layout. A lone CR ends a line as it
  // does for the parser, and is written as a line feed.
  const unix = parse(text.replace(/\r\n?/g, "\n"), parsed.file.path);
  const result = formatSource(unix.ast, unix.file.text, [...unix.comments, ...unix.docComments]);
  if (hasErrors(result.diagnostics)) return { text, diagnostics: result.diagnostics };
  return /^[^\r\n]*\r\n/.test(text) ? { ...result, text: result.text.replace(/\n/g, "\r\n") } : result;
}

/** Formats each file; files that do not parse, or whose doc comments the layout would move to another item (PC110), are left alone and reported. */
export function formatSources(files: readonly SourceFile[]): { formatted: FormattedFile[]; diagnostics: Diagnostic[] } {
  const formatted: FormattedFile[] = [];
  const diagnostics: Diagnostic[] = [];
  for (const file of files) {
    const output = format(file);
    if (hasErrors(output.diagnostics)) {
      diagnostics.push(...output.diagnostics);
      continue;
    }
    const original = file.byteOrderMark ? BYTE_ORDER_MARK + file.text : file.text;
    formatted.push({ path: file.path, original, formatted: output.text, changed: output.text !== original });
  }
  return { formatted, diagnostics };
}

/**
 * The first line (1-based) of `file`'s text that its canonical form changes, so a report can
 * point at it (`fmt --check --reporter github`): a line that differs, or where one of the two
 * ends first (a missing final newline is the last line's), never past the file's last line.
 */
export function firstChangedLine(file: FormattedFile): number {
  // Each line with its line end: a line that only gains or loses its newline differs too.
  const was = file.original.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  const now = file.formatted.match(/[^\n]*\n|[^\n]+$/g) ?? [];
  let index = 0;
  while (index < was.length && index < now.length && was[index] === now[index]) index++;
  return Math.min(index + 1, Math.max(was.length, 1));
}
