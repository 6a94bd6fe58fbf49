import { hasErrors, sortDiagnostics, type Diagnostic } from "../diagnostics/Diagnostic.js";
import { SourceFile } from "../source/SourceFile.js";
import { parse, type ParseResult } from "../syntax/parse.js";
import { checkProgram } from "./check.js";
import type { CheckedProgram } from "./program.js";

/** The front end's result for a policy set: parses, the checked program (if it parsed), diagnostics. */
export interface Analysis {
  readonly parses: readonly ParseResult[];
  /** Present when every file parsed; may still carry type errors (see `diagnostics`). */
  readonly program?: CheckedProgram;
  readonly diagnostics: readonly Diagnostic[];
  readonly ok: boolean;
}

/**
 * Parses and checks a set of sources. Type checking runs only when every file parsed, so
 * one missing brace does not drown its real message in follow-on type errors.
 */
export function analyze(sources: readonly (SourceFile | { path: string; text: string })[]): Analysis {
  const files = sources.map((s) => (s instanceof SourceFile ? s : new SourceFile(s.path, s.text)));
  const parses = files.map((f) => parse(f));
  const diagnostics: Diagnostic[] = parses.flatMap((p) => p.diagnostics);
  if (hasErrors(diagnostics)) return { parses, diagnostics: sortDiagnostics(diagnostics), ok: false };
  const { program, diagnostics: checkDiagnostics } = checkProgram(parses.map((p) => p.ast));
  diagnostics.push(...checkDiagnostics);
  return { parses, program, diagnostics: sortDiagnostics(diagnostics), ok: !hasErrors(diagnostics) };
}
