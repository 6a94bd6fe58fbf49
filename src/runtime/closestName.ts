/**
 * Names close to a mistyped one, for did-you-mean advice: the checker's diagnostics and the
 * engine's reasons (an unknown tool or intent in a request) both use it. Depends on nothing.
 */

/**
 * Edit distance where swapping two neighbours counts as one edit (`tema` → `team`), or `limit + 1`
 * when it is more than `limit`. Only cells within `limit` of the diagonal are computed (any other
 * is past the limit), so a comparison costs in proportion to the length times the limit.
 */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const over = limit + 1;
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, j) => Math.min(j, over));
  for (let i = 1; i <= a.length; i++) {
    const current = new Array<number>(b.length + 1).fill(over);
    current[0] = Math.min(i, over);
    let rowMin = current[0];
    const last = Math.min(b.length, i + limit);
    for (let j = Math.max(1, i - limit); j <= last; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, beforePrevious[j - 2]! + 1);
      current[j] = Math.min(value, over);
      rowMin = Math.min(rowMin, current[j]!);
    }
    if (rowMin > limit) return over;
    beforePrevious = previous;
    previous = current;
  }
  return previous[b.length]!;
}

/** Whether `a` becomes `b` by one insertion, deletion, substitution or swap of neighbours (`nmae`). */
export function withinOneEdit(a: string, b: string): boolean {
  return editDistance(a, b, 1) <= 1;
}

/** The known name closest to `name`, if it is close enough to be a likely typo. */
export function closestName(name: string, known: Iterable<string>): string | undefined {
  const limit = Math.max(1, Math.min(3, Math.ceil(name.length / 3)));
  let best: string | undefined;
  let bestDistance = limit + 1;
  const lowered = name.toLowerCase();
  for (const candidate of known) {
    // Most candidates differ in length by more than the limit: no distance to compute.
    if (Math.abs(candidate.length - name.length) > limit) continue;
    const distance = editDistance(lowered, candidate.toLowerCase(), limit);
    if (distance < bestDistance || (distance === bestDistance && best !== undefined && candidate < best)) {
      best = candidate;
      bestDistance = distance;
    }
  }
  return bestDistance <= limit ? best : undefined;
}

/** Up to this many names, NameIndex compares a name with each (closestName); past it, it looks up its index. */
const SCANNED_NAMES = 256;
/** Names one lookup in the index compares at most (a bucket holds names one edit apart, so few do). */
const MAX_COMPARED = 256;

/**
 * Declared names (tools, intents) for the did-you-mean of a name a request brings: the agent
 * chooses that name, so a lookup must not cost in proportion to the names declared (3 ms per
 * call at 1,000 intents when every call scanned them all). Up to SCANNED_NAMES names a lookup is
 * closestName; past that it suggests only names one edit away, found through an index of each
 * name and the names one deletion makes of it (`team` → `eam`, `tam`, `tem`, `tea`): two names
 * one insertion, deletion, substitution or swap apart share an entry. The index is built at the
 * first lookup, so an engine that never sees an unknown name never pays for it.
 */
export class NameIndex {
  private readonly names: readonly string[];
  private readonly longest: number;
  private lowered: readonly string[] | undefined;
  private neighbours: Map<string, number[]> | undefined;

  constructor(names: Iterable<string>) {
    this.names = [...names];
    this.longest = this.names.reduce((longest, name) => Math.max(longest, name.length), 0);
  }

  /** The declared name closest to `name`, if it is close enough to be a likely typo. */
  closest(name: string): string | undefined {
    // No declared name is within three edits of a name more than three characters longer.
    if (name.length > this.longest + 3) return undefined;
    if (this.names.length <= SCANNED_NAMES) return closestName(name, this.names);
    const lowered = (this.lowered ??= this.names.map((known) => known.toLowerCase()));
    const neighbours = (this.neighbours ??= indexOfNeighbours(lowered));
    const wanted = name.toLowerCase();
    const compared = new Set<number>();
    let best: string | undefined;
    let bestDistance = 2;
    for (const key of [wanted, ...oneDeletionFrom(wanted)]) {
      for (const index of neighbours.get(key) ?? []) {
        if (compared.has(index)) continue;
        if (compared.size >= MAX_COMPARED) return best;
        compared.add(index);
        const candidate = this.names[index]!;
        const distance = editDistance(wanted, lowered[index]!, 1);
        if (distance < bestDistance || (distance === bestDistance && best !== undefined && candidate < best)) {
          best = candidate;
          bestDistance = distance;
        }
      }
    }
    return best;
  }
}

/** The names one deletion makes of `name`, each once. */
function oneDeletionFrom(name: string): Set<string> {
  const out = new Set<string>();
  for (let i = 0; i < name.length; i++) out.add(name.slice(0, i) + name.slice(i + 1));
  return out;
}

/** Each name and each name one deletion makes of it, to the indices of the names it came from. */
function indexOfNeighbours(names: readonly string[]): Map<string, number[]> {
  const index = new Map<string, number[]>();
  names.forEach((name, i) => {
    for (const key of [name, ...oneDeletionFrom(name)]) {
      const entry = index.get(key);
      if (entry === undefined) index.set(key, [i]);
      else if (entry[entry.length - 1] !== i) entry.push(i);
    }
  });
  return index;
}
