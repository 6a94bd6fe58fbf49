import { analyze } from "../check/analyze.js";
import type { CheckedProgram } from "../check/program.js";
import type { Diagnostic } from "../diagnostics/Diagnostic.js";
import { exhaustedStackDiagnostic, isPlausiblyTooDeep, isStackExhausted } from "../diagnostics/stackExhausted.js";
import { renderDiagnostic } from "../diagnostics/render.js";
import { checkEngineOptionNames, Engine, readOptions, type EngineOptions } from "../runtime/engine.js";
import type { CompiledPolicy } from "../runtime/policy.js";
import type { SourceFile } from "../source/SourceFile.js";
import { compileProgram } from "./compileProgram.js";

/** Thrown by `compile` when the sources have errors; carries every diagnostic. */
export class PolicyError extends Error {
  constructor(readonly diagnostics: readonly Diagnostic[]) {
    const errors = diagnostics.filter((d) => d.severity === "error");
    super(`${errors.length} error${errors.length === 1 ? "" : "s"} in the policy set:\n${errors.slice(0, 10).map((d) => renderDiagnostic(d)).join("\n")}`);
    this.name = "PolicyError";
  }
}

export type SourceInput = SourceFile | { readonly path: string; readonly text: string };

/**
 * Parses, checks and compiles sources; returns the compiled policy (with the checked program it
 * came from, whose declarations keep their doc comments) or the diagnostics. Mistakes in the
 * sources are diagnostics, never thrown; sources of the wrong kind are a `TypeError`.
 */
export function compileSources(sources: readonly SourceInput[]): { policy?: CompiledPolicy; program?: CheckedProgram; diagnostics: readonly Diagnostic[] } {
  const analysis = analyze(sources);
  if (!analysis.ok || !analysis.program) return { diagnostics: analysis.diagnostics };
  try {
    return { policy: compileProgram(analysis.program), program: analysis.program, diagnostics: analysis.diagnostics };
  } catch (error) {
    // A set the checker took must not crash the build: a stack exhausted while compiling is a
    // PC106 (so `compile` throws a PolicyError and the CLI exits 1), never an internal error —
    // unless the set is too shallow for that to be the cause: then it is a bug, reported as one.
    if (!isStackExhausted(error) || !isPlausiblyTooDeep(analysis.program.files)) throw error;
    return { diagnostics: [...analysis.diagnostics, exhaustedStackDiagnostic(analysis.program.files, "compile")] };
  }
}

/**
 * Compiles policy sources to a ready engine. For libraries embedding policyc: throws a
 * `PolicyError` listing the diagnostics when the sources have errors.
 */
export function compile(sources: readonly SourceInput[], options?: EngineOptions): Engine {
  const { policy, diagnostics } = compileSources(sources);
  if (!policy) throw new PolicyError(diagnostics);
  if (options === undefined) return new Engine(policy);
  // Read once here, as loadBundle does, so that a getter that throws is named as compile's, not
  // as `new Engine`'s, which the caller never called (it reads the plain copy again).
  checkEngineOptionNames(options);
  return new Engine(policy, readOptions(options, "compile"));
}
