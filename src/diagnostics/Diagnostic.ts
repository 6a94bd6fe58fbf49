import type { Span } from "../source/Span.js";
import { CODES, type Code, type Severity } from "./codes.js";

/** One problem found in the user's input. Returned, never thrown. */
export interface Diagnostic {
  readonly code: Code;
  readonly severity: Severity;
  /** One line, lowercase, user input in backticks. */
  readonly message: string;
  /** Where; absent only for problems with no file (e.g. a missing path given on the command line). */
  readonly span?: Span;
  /** A path shown when there is no span (e.g. an unreadable path). */
  readonly path?: string;
  /** Advice on a separate line, e.g. "did you mean `support.reply`?". */
  readonly help?: string;
}

/** Builds a diagnostic with the severity the catalogue gives its code. */
export function diagnostic(code: Code, message: string, span?: Span, help?: string): Diagnostic {
  const d: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } = { code, severity: CODES[code].severity, message };
  if (span) d.span = span;
  if (help) d.help = help;
  return d;
}

/** A diagnostic about a path rather than a place in a file. */
export function pathDiagnostic(code: Code, message: string, path: string, help?: string): Diagnostic {
  return { ...diagnostic(code, message, undefined, help), path };
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/** Sorts by file, then position, then code, so output is deterministic. */
export function sortDiagnostics(diagnostics: readonly Diagnostic[]): Diagnostic[] {
  return [...diagnostics].sort((a, b) => {
    const pa = a.span?.file.path ?? a.path ?? "";
    const pb = b.span?.file.path ?? b.path ?? "";
    if (pa !== pb) return pa < pb ? -1 : 1;
    const sa = a.span?.start ?? -1;
    const sb = b.span?.start ?? -1;
    if (sa !== sb) return sa - sb;
    return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
  });
}
