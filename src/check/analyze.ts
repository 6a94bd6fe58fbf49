import { hasErrors, sortDiagnostics, type Diagnostic } from "../diagnostics/Diagnostic.js";
import { exhaustedStackDiagnostic, isPlausiblyTooDeep, isStackExhausted } from "../diagnostics/stackExhausted.js";
import type { SourceFile } from "../source/SourceFile.js";
import { sourceFilesOf } from "../source/sourceInputs.js";
import { parse, type ParseResult } from "../syntax/parse.js";
import { isKeyword } from "../syntax/tokens.js";
import { checkProgram } from "./check.js";
import { applySuppressions } from "./suppressions.js";
import type { CheckedProgram } from "./program.js";

/** The front end's result for a policy set: parses, the checked program (if it parsed), diagnostics. */
export interface Analysis {
  readonly parses: readonly ParseResult[];
  /** Present when every file parsed; may still carry type errors (see `diagnostics`). */
  readonly program?: CheckedProgram;
  readonly diagnostics: readonly Diagnostic[];
  /** Warnings a rule's `@suppress` hid (not in `diagnostics`), so a report can count them. */
  readonly suppressed: readonly Diagnostic[];
  readonly ok: boolean;
}

/**
 * Parses and checks a set of sources. Type checking runs only when every file parsed, so
 * one missing brace does not drown its real message in follow-on type errors. Mistakes in the
 * sources are diagnostics; sources that are not an array of `{ path, text }` are a `TypeError`.
 */
export function analyze(sources: readonly (SourceFile | { path: string; text: string })[]): Analysis {
  const files = sourceFilesOf(sources);
  const parses = withSetEnums(files, files.map((f) => parse(f)));
  const diagnostics: Diagnostic[] = parses.flatMap((p) => p.diagnostics);
  if (hasErrors(diagnostics)) return { parses, diagnostics: sortDiagnostics(diagnostics), suppressed: [], ok: false };
  const asts = parses.map((p) => p.ast);
  let checked: ReturnType<typeof checkProgram>;
  try {
    checked = checkProgram(asts);
  } catch (error) {
    // The per-rule passes turn an exhausted stack into their rule's PC106; this is the net
    // under the passes over the whole set (the schema, types, unused declarations). On a set too
    // shallow to exhaust a stack, the error is a bug and is rethrown, to be reported as one.
    if (!isStackExhausted(error) || !isPlausiblyTooDeep(asts)) throw error;
    return { parses, diagnostics: [exhaustedStackDiagnostic(asts, "check")], suppressed: [], ok: false };
  }
  const { program, diagnostics: checkDiagnostics } = checked;
  diagnostics.push(...checkDiagnostics);
  const { diagnostics: shown, suppressed } = applySuppressions(
    program.rules.map((checked) => checked.rule),
    diagnostics,
  );
  return { parses, program, diagnostics: sortDiagnostics(shown), suppressed: sortDiagnostics(suppressed), ok: !hasErrors(shown) };
}

/**
 * A file's syntax error that is a keyword-named enum member written bare (`agent.kind == deny`)
 * gets a help naming the enum, which may be declared in another file of the set: when the set
 * declares such a member, the files with syntax errors are parsed again knowing every enum.
 */
function withSetEnums(files: readonly SourceFile[], parses: ParseResult[]): ParseResult[] {
  if (files.length < 2 || !parses.some((p) => p.diagnostics.some((d) => d.code === "PC103"))) return parses;
  const enumsByMember = new Map<string, string[]>();
  for (const declaration of parses.flatMap((p) => p.ast.declarations)) {
    if (declaration.kind !== "EnumDecl") continue;
    for (const member of declaration.members) {
      if (!isKeyword(member.name.name)) continue;
      const enums = enumsByMember.get(member.name.name) ?? [];
      enumsByMember.set(member.name.name, [...enums, declaration.name.name]);
    }
  }
  if (enumsByMember.size === 0) return parses;
  const enumsWithMember = (member: string): readonly string[] => enumsByMember.get(member) ?? [];
  return parses.map((p, i) => (p.diagnostics.some((d) => d.code === "PC103") ? parse(files[i]!, files[i]!.path, { enumsWithMember }) : p));
}
