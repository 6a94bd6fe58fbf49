/**
 * The codes of the input errors of `policyc test`, `policyc diff` and `policyc eval`: a recording
 * or request file, or one of its lines, that cannot be replayed. Stable, as `policyc check`'s
 * codes are (docs/diagnostics.md documents each; a test checks both ways), so a CI filter or a
 * script may branch on them.
 */
export const INPUT_CODES = {
  /** The file cannot be read as a whole: missing, a folder, too large, compressed, binary, UTF-16. */
  unreadableFile: "PC600",
  /** A line (or eval's request) is not JSON: a syntax error, not UTF-8, NUL bytes, too long, a repeated key. */
  notJson: "PC601",
  /** A line (or eval's request) is JSON, but not a recording line or a request. */
  notARequest: "PC602",
  /** A recorded request names a tool the policy set does not declare (exit 1, not 2). */
  unknownTool: "PC603",
  /** `--update` cannot rewrite the recording. */
  notUpdatable: "PC604",
} as const;

export type InputCode = (typeof INPUT_CODES)[keyof typeof INPUT_CODES];
