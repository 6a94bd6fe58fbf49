/**
 * Globs where only `*` is special (any run of characters, including none). No regular
 * expressions are built from policy text, so `.`, `[`, `(`, `|`, `+`, `?` match themselves.
 */

/** A glob split at its stars, ready to match many strings. */
export interface CompiledGlob {
  readonly prefix: string;
  readonly middle: readonly string[];
  readonly suffix: string;
  /** True when the glob has no `*`: then it matches only `prefix` exactly. */
  readonly exact: boolean;
  /** How many `*` it has (helpers.likeAt picks a plain string test by it, as the compiler does for a pattern in the policy). */
  readonly stars: number;
  /** The pattern's length: matching may look for each part in turn, so a charge for reading (helpers.matchCompiledGlobAt) counts it too. */
  readonly length: number;
}

export function compileGlob(pattern: string): CompiledGlob {
  const parts = pattern.split("*");
  if (parts.length === 1) return { prefix: pattern, middle: [], suffix: "", exact: true, stars: 0, length: pattern.length };
  return { prefix: parts[0]!, middle: parts.slice(1, -1).filter((p) => p.length > 0), suffix: parts[parts.length - 1]!, exact: false, stars: parts.length - 1, length: pattern.length };
}

/**
 * Matches greedily from the left: the prefix and suffix are anchored and each middle part
 * is found at its first occurrence after the previous one. Leftmost-first is always a
 * correct choice for `*`-only globs, so there is no backtracking.
 */
export function matchCompiledGlob(glob: CompiledGlob, text: string): boolean {
  if (typeof text !== "string") return false;
  if (glob.exact) return text === glob.prefix;
  if (text.length < glob.prefix.length + glob.suffix.length) return false;
  if (!text.startsWith(glob.prefix) || !text.endsWith(glob.suffix)) return false;
  let position = glob.prefix.length;
  const limit = text.length - glob.suffix.length;
  for (const part of glob.middle) {
    const found = text.indexOf(part, position);
    if (found < 0 || found + part.length > limit) return false;
    position = found + part.length;
  }
  return true;
}

const compiled = new Map<string, CompiledGlob>();

/** Match of `text` against `pattern`; compiled patterns are cached (policies reuse a few patterns many times). */
export function globMatch(pattern: string, text: string): boolean {
  let glob = compiled.get(pattern);
  if (glob === undefined) {
    if (compiled.size >= 10_000) compiled.clear();
    glob = compileGlob(pattern);
    compiled.set(pattern, glob);
  }
  return matchCompiledGlob(glob, text);
}
