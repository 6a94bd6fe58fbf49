/**
 * Whether a path ends in one of `extensions` (each written with its dot, in lower case), in any
 * letter case: Windows and macOS tools keep the case a name was typed in (`Deny.Policy`,
 * `ATTACKS.JSONL`, `B.JSON`), and a file a folder search passed over for its case would be
 * silently missing from the run.
 */
export function hasExtension(path: string, ...extensions: readonly string[]): boolean {
  const lower = path.toLowerCase();
  return extensions.some((extension) => lower.endsWith(extension));
}

/**
 * A path as reports print it, with `./` before one that starts (after any white space) with
 * `::`: GitHub Actions reads a log line that starts so, its leading white space trimmed, as a
 * workflow command, so a file named `::error::all tests passed.jsonl` or `::stop-commands::x`
 * printed at the start of a line would forge an annotation or silence the real ones. `./::…`
 * names the same file. Any other path is returned as it is.
 */
export function pathForLineStart(path: string): string {
  return /^\s*::/.test(path) ? `./${path}` : path;
}
