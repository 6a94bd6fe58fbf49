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
