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
 * How deep a set must be able to nest before an exhausted stack is blamed on it. The passes walk
 * far deeper than this (the tests check chains of 8,000 terms and of 5,000 records), so a stack
 * exhausted by a set that cannot nest this deep is a compiler bug, to be reported as one.
 */
export const PLAUSIBLY_TOO_DEEP_LEVELS = 1_000;

/**
 * Whether a set could nest deeply enough to exhaust a pass's stack, by bounds that need no walk
 * (which could itself run out): an expression or type is no deeper than its text is long over
 * the two characters its shortest level takes (`.x`), and a chain of records each holding the
 * next is no longer than the records declared. Given `rule`, a pass over that rule alone: its
 * text, and the records its values may hold.
 */
export function isPlausiblyTooDeep(files: readonly A.PolicyFile[], rule?: A.Rule): boolean {
  const longest = rule ?? longestRuleOrDeclaration(files);
  const records = files.reduce((count, file) => count + file.declarations.filter((d) => d.kind === "TypeDecl").length, 0);
  return (longest !== undefined && longest.span.end - longest.span.start > 2 * PLAUSIBLY_TOO_DEEP_LEVELS) || records > PLAUSIBLY_TOO_DEEP_LEVELS;
}

/**
 * The PC106 for a stack exhausted by a pass over the whole set, which cannot say where: it is
 * put on the longest rule or declaration, the likeliest to be the one too large to walk. Only
 * for a set that `isPlausiblyTooDeep`: on any other, the error is a bug and its callers rethrow.
 */
export function exhaustedStackDiagnostic(files: readonly A.PolicyFile[], doing: "check" | "compile"): Diagnostic {
  const span = longestRuleOrDeclaration(files)?.span ?? files[0]?.span;
  return diagnostic("PC106", `this policy set is nested too deeply to ${doing}`, span && { ...span, end: span.start }, "split long chains (of `and`/`or` terms, of calls, or of records each holding the next) into shorter ones");
}

function longestRuleOrDeclaration(files: readonly A.PolicyFile[]): A.Declaration | A.Rule | undefined {
  const candidates = files.flatMap((file) => file.declarations.flatMap((d): readonly (A.Declaration | A.Rule)[] => (d.kind === "PolicyDecl" ? d.rules : [d])));
  return candidates.reduce<A.Declaration | A.Rule | undefined>((best, next) => (best === undefined || next.span.end - next.span.start > best.span.end - best.span.start ? next : best), undefined);
}
