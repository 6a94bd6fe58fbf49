import type { Bundle } from "../bundle/Bundle.js";
import { BUNDLE_CODES } from "../bundle/errorCodes.js";
import { BundleError, verifySnapshot, type LoadOptions } from "../bundle/loadBundle.js";
import { describeText, describeThrown } from "../runtime/helpers.js";
import { VERSION } from "../version.js";
import { analyzeSessionUse } from "./analyzeSessionUse.js";
import { emitRulesCode } from "./compileProgram.js";
import { irMistake } from "./irMistake.js";
import { ruleTextMismatch } from "./ruleTextMismatch.js";

/**
 * Checks a bundle as `verifyBundle` does (format, schema, content hash, signature with
 * `publicKey`, pin with `contentHash`), then that its code is what this policyc emits from the
 * bundle's own rules, schema and session, and its session use what its rules read. A content
 * hash is only a checksum: code edited by hand and rehashed passes it, runs as the bundle loads,
 * and may decide otherwise than its rules (which explanations show) say. Throws `BundleError`:
 * PC701 for rules whose conditions (IR) hold what no policyc writes (an operator, a window, a
 * kind outside its closed set: checked before anything is emitted from them), PC707 for code
 * this policyc would not emit, PC708 when another policyc built the bundle (its code may be that
 * one's honest output), PC709 for rules whose readable text (`condition`, `clauses`, `targets`,
 * `reason`, `grants`, `revoke`) compiles to other than they run. Runs none of the bundle's code.
 */
export function verifyBundleCode(value: unknown, options: LoadOptions = {}): Bundle {
  // The snapshot verifyBundle checked, never `value` again: a getter could show the hash check
  // one code and this comparison another. Marked checked only once its code is compared too:
  // `new Engine` would otherwise run the code this refuses.
  const signatureChecked = options.publicKey !== undefined;
  const { value: bundle } = verifySnapshot(value, options, (snapshot) => checkBundleCode(snapshot, signatureChecked));
  return bundle;
}

/**
 * The second half of `verifyBundleCode`, for a bundle `verifyBundle` returned: throws PC707 or
 * PC708 when its code (or session use) is not what this policyc emits from its contents, PC709
 * when its rules' text is not what they run (checked last: it is compared with the IR, which is
 * compared with the code first).
 * `signatureChecked`: whether its signature was checked, so that its `manifest.compiler` is its
 * signer's word (PC701 then says that this policyc does not know what it holds).
 */
export function checkBundleCode(bundle: Bundle, signatureChecked = false): void {
  // The IR first, strictly: the emitter writes its operators and numbers into code, so rules
  // holding `"operator": "=== 1 || globalThis.x() ||"` would re-emit the very code they came with.
  const mistake = irMistake(bundle.rules, bundle.schema);
  if (mistake !== undefined) {
    const compiler = bundle.manifest.compiler;
    // Signed by someone checked and built by another policyc, it may hold what that one writes
    // and this one does not know: "no policyc writes that" would be a claim about every version.
    if (signatureChecked && compiler !== `policyc ${VERSION}`) throw new BundleError(`this policyc (${VERSION}) does not know what the bundle's rules hold: ${mistake}; it was built by ${describeText(compiler)}, so its code is not compared with its rules, and it does not run: rebuild the bundle with this policyc`, BUNDLE_CODES.invalidBundle);
    throw new BundleError(`not a valid policyc bundle: ${mistake}: no policyc writes that, so its code is not compared with it, and it does not run; rebuild the bundle from its sources`, BUNDLE_CODES.invalidBundle);
  }
  const difference = codeDifference(bundle);
  const compiler = bundle.manifest.compiler;
  if (difference === undefined) {
    const text = ruleTextMismatch(bundle);
    if (text === undefined) return;
    // Another policyc may print or lower a condition otherwise: the text may be its honest output.
    const builtElsewhere = !builtByThisPolicyc(bundle) ? `, and it was built by ${describeText(compiler)}, not this policyc (${VERSION}), which may print or compile rules otherwise` : "";
    throw new BundleError(`the bundle's ${text}${builtElsewhere}: its text (which explanations, diffs and reviewers show) is not what its code runs; refusing it: rebuild it from its sources, and require a signature (--public-key) for bundles you did not build`, BUNDLE_CODES.ruleTextDiffers);
  }
  if (compiler !== `policyc ${VERSION}`) {
    throw new BundleError(`the bundle's ${difference}, and it was built by ${describeText(compiler)}, not this policyc (${VERSION}): whether that policyc emits this code cannot be told here: rebuild the bundle from its sources with this policyc, and verify that`, BUNDLE_CODES.codeOfOtherCompiler);
  }
  throw new BundleError(`the bundle's ${difference}: it was changed after it was built (its hash recomputed, which anyone can do) and its code may decide otherwise than its rules say; refusing it: rebuild it from its sources, and require a signature (--public-key) for bundles you did not build`, BUNDLE_CODES.codeDiffers);
}

/** Whether the bundle's manifest names this policyc as its builder (else its code and text may be another one's honest output). */
export function builtByThisPolicyc(bundle: Bundle): boolean {
  return bundle.manifest.compiler === `policyc ${VERSION}`;
}

/**
 * What differs between the bundle and what this policyc emits from its own contents, or
 * undefined: the session use its rules read, then the code.
 */
function codeDifference(bundle: Bundle): string | undefined {
  let session: unknown;
  let code: string;
  try {
    session = analyzeSessionUse(bundle.rules.map((rule) => rule.ir));
    code = emitRulesCode(bundle.rules, bundle.schema, bundle.session);
  } catch (error) {
    // Rules the compiler cannot emit code from are no rules it wrote.
    return `rules cannot be compiled again (${describeThrown(error)})`;
  }
  if (JSON.stringify(session) !== JSON.stringify(bundle.session)) return "session use (`session`) is not what its rules read";
  if (code !== bundle.code) return `code is not what this policyc emits from its rules, schema and session (${firstDifference(bundle.code, code)})`;
  return undefined;
}

/** Where two codes first differ, as `line N`, for a reviewer to look (the text itself is the bundle's, not shown). */
function firstDifference(found: string, emitted: string): string {
  const a = found.split("\n");
  const b = emitted.split("\n");
  const line = a.findIndex((text, i) => text !== b[i]);
  return `first at line ${(line === -1 ? a.length : line) + 1} of ${a.length}; ${b.length} emitted`;
}
