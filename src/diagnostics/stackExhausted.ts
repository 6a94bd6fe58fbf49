import type * as A from "../ast/nodes.js";
import { diagnostic, type Diagnostic } from "./Diagnostic.js";

/**
 * Whether `error` is V8's "Maximum call stack size exceeded": a policy shaped in a way no
 * nesting limit foresaw (thousands of terms, calls or records in a chain) that a recursive pass
 * could not walk. Other `RangeError`s (an invalid array length…) are bugs, and stay crashes.
 */
export function isStackExhausted(error: unknown): error is RangeError {
  return error instanceof RangeError && /call stack/i.test(error.message);
}

/**
 * The PC106 for a stack exhausted by a pass over the whole set, which cannot say where: it is
 * put on the longest rule or declaration, the likeliest to be the one too large to walk.
 */
export function exhaustedStackDiagnostic(files: readonly A.PolicyFile[], doing: "check" | "compile"): Diagnostic {
  const candidates = files.flatMap((file) => file.declarations.flatMap((d): readonly (A.Declaration | A.Rule)[] => (d.kind === "PolicyDecl" ? d.rules : [d])));
  const longest = candidates.reduce<A.Declaration | A.Rule | undefined>((best, next) => (best === undefined || next.span.end - next.span.start > best.span.end - best.span.start ? next : best), undefined);
  const span = longest?.span ?? files[0]?.span;
  return diagnostic("PC106", `this policy set is nested too deeply to ${doing}`, span && { ...span, end: span.start }, "split long chains (of `and`/`or` terms, of calls, or of records each holding the next) into shorter ones");
}
