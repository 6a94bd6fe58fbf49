/** The exit codes every verb uses (documented in the README and `--help`). */
export const EXIT = {
  /** Success: no errors (warnings allowed), every test passed. */
  ok: 0,
  /** Policy errors, failed tests, or (with `diff --exit-code`) a changed decision. */
  failure: 1,
  /** Bad usage or unreadable input. */
  usage: 2,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];
