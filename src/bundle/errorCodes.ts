/**
 * The codes of `BundleError` (`error.code`, as Node's errors have one): why a bundle or key was
 * refused. Stable, as `policyc check`'s codes are (docs/diagnostics.md documents each; a test
 * checks both ways), so a deploy script can tell a tampered bundle from an unreadable one.
 */
export const BUNDLE_CODES = {
  /** A bundle or key file cannot be read: missing, too large, not JSON. */
  unreadableFile: "PC700",
  /** Not a valid policyc bundle: it fails the bundle schema. */
  invalidBundle: "PC701",
  /** The bundle's content does not match its hash: it was edited after it was built. */
  contentChanged: "PC702",
  /** Unsigned while a public key was given, or the signature does not match the key. */
  signature: "PC703",
  /** A public or private key that cannot be used: not a key, not Ed25519, several keys. */
  unusableKey: "PC704",
  /** Built by a policyc this runtime cannot run: another format, support it lacks, code it refuses. */
  otherCompiler: "PC705",
  /** The pinned content hash (`contentHash`) is malformed, or names another bundle. */
  pinnedHash: "PC706",
  /** Its code is not what this policyc emits from the bundle's own rules, schema and session (`verifyBundleCode`, `policyc verify`). */
  codeDiffers: "PC707",
  /** Its code is not what this policyc emits from its contents, and another policyc built it: whether that one emits it is not known here. */
  codeOfOtherCompiler: "PC708",
  /** A rule's readable text (`condition`, `clauses`, `targets`, …) is not what it runs: compiled again, it makes another `ir` or other `tools` (`verifyBundleCode`, `policyc verify`). */
  ruleTextDiffers: "PC709",
} as const;

export type BundleCode = (typeof BUNDLE_CODES)[keyof typeof BUNDLE_CODES];
