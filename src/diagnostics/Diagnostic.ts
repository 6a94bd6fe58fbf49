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
  /**
   * Other places in the sources the problem is about (the first declaration of a name declared
   * twice, the deny that overrides an allow), each with what it is there: a reader, an editor or
   * a code-scanning alert goes to them without reading a `file:line` out of the help. Absent
   * when there are none.
   */
  readonly related?: readonly RelatedLocation[];
}

/** A second place a diagnostic points at: where, and what it is there ("first declared here"). */
export interface RelatedLocation {
  readonly span: Span;
  /** Lowercase, short, user input in backticks: "first declared here". */
  readonly message: string;
}

/**
 * Help worked out when it is first read, not when the diagnostic is made: did-you-mean advice
 * compares a name with every known one, and a check of thousands of typos shows only the first
 * 50 (`--json`, which lists them all, reads them all).
 */
export type LazyHelp = () => string | undefined;

/** Help and the places it names (a did-you-mean's declaration), worked out together when either is first read (see LazyHelp). */
export type LazyAdvice = () => { readonly help?: string | undefined; readonly related?: readonly RelatedLocation[] | undefined };

/** Builds a diagnostic with the severity the catalogue gives its code. */
export function diagnostic(code: Code, message: string, span?: Span, help?: string | LazyHelp, related?: readonly RelatedLocation[]): Diagnostic {
  const d: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } = { code, severity: CODES[code].severity, message };
  if (span) d.span = span;
  if (typeof help === "function") adviceWhenRead(d, () => ({ help: help() }), false);
  else if (help) d.help = help;
  if (related !== undefined && related.length > 0) d.related = related;
  return d;
}

/** A diagnostic whose help and related places come from one piece of advice worked out when first read. */
export function advisedDiagnostic(code: Code, message: string, span: Span, advice: LazyAdvice): Diagnostic {
  const d: { -readonly [K in keyof Diagnostic]: Diagnostic[K] } = { code, severity: CODES[code].severity, message, span };
  adviceWhenRead(d, advice, true);
  return d;
}

/**
 * Makes `d.help` (and, with `withRelated`, `d.related`) what `advice()` gives, worked out at the
 * first read of either and kept in the getters' closure: the properties are never redefined or
 * deleted, so a diagnostic a caller froze still reads (help that gives nothing, or no place,
 * reads as undefined).
 */
function adviceWhenRead(d: { help?: string; related?: readonly RelatedLocation[] }, advice: LazyAdvice, withRelated: boolean): void {
  let value: ReturnType<LazyAdvice> | undefined;
  const read = (): ReturnType<LazyAdvice> => (value ??= advice());
  Object.defineProperty(d, "help", { enumerable: true, configurable: true, get: (): string | undefined => read().help || undefined });
  if (!withRelated) return;
  Object.defineProperty(d, "related", {
    enumerable: true,
    configurable: true,
    get: (): readonly RelatedLocation[] | undefined => {
      const related = read().related;
      return related !== undefined && related.length > 0 ? related : undefined;
    },
  });
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
