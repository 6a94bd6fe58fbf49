/**
 * Names close to a mistyped one, for did-you-mean advice: the checker's diagnostics and the
 * engine's reasons (an unknown tool or intent in a request) both use it. Depends on nothing.
 */

/**
 * Edit distance where swapping two neighbours counts as one edit (`tema` → `team`), or `limit + 1`
 * when it is more than `limit`. Only the cells within `limit` of the diagonal are computed (any
 * other is past the limit), kept in three rows of `2 × limit + 1` cells reused from row to row,
 * so a comparison costs in proportion to the length times the limit and allocates nothing when
 * the limit is at most 3 (as every caller's is). Lengths and characters are UTF-16 code units.
 */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  const over = limit + 1;
  const width = 2 * limit + 1;
  // Cell (i, j) of the full table is at k = j - i + limit in row i.
  const rows = width <= SCRATCH_WIDTH ? SCRATCH_ROWS : [new Int32Array(width), new Int32Array(width), new Int32Array(width)];
  let beforePrevious = rows[0]!;
  let previous = rows[1]!;
  let current = rows[2]!;
  for (let k = 0; k < width; k++) {
    const j = k - limit;
    previous[k] = j >= 0 && j <= b.length ? Math.min(j, over) : over;
  }
  for (let i = 1; i <= a.length; i++) {
    let rowMin = over;
    for (let k = 0; k < width; k++) {
      const j = i + k - limit;
      if (j < 0 || j > b.length) {
        current[k] = over;
        continue;
      }
      if (j === 0) {
        current[k] = Math.min(i, over);
        rowMin = Math.min(rowMin, current[k]!);
        continue;
      }
      const above = k + 1 < width ? previous[k + 1]! : over;
      const left = k > 0 ? current[k - 1]! : over;
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(above + 1, left + 1, previous[k]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, beforePrevious[k]! + 1);
      current[k] = Math.min(value, over);
      rowMin = Math.min(rowMin, current[k]!);
    }
    if (rowMin > limit) return over;
    const spare = beforePrevious;
    beforePrevious = previous;
    previous = current;
    current = spare;
  }
  return previous[b.length - a.length + limit]!;
}

/** Rows for editDistance up to a limit of 3, reused by every comparison (one runs at a time). */
const SCRATCH_WIDTH = 7;
const SCRATCH_ROWS = [new Int32Array(SCRATCH_WIDTH), new Int32Array(SCRATCH_WIDTH), new Int32Array(SCRATCH_WIDTH)] as const;

/** Whether `a` becomes `b` by one insertion, deletion, substitution or swap of neighbours (`nmae`). */
export function withinOneEdit(a: string, b: string): boolean {
  return editDistance(a, b, 1) <= 1;
}

/**
 * The known name closest to `name`, if it is close enough to be a likely typo: within one edit
 * per three characters of `name` (at least one), and at most `maxEdits` (3 unless given).
 */
export function closestName(name: string, known: Iterable<string>, maxEdits = 3): string | undefined {
  const limit = Math.max(1, Math.min(maxEdits, Math.ceil(name.length / 3)));
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

/** Up to this many names, NameIndex compares a name with each (closestName); past it, with a few. */
const SCANNED_NAMES = 256;
/** Past SCANNED_NAMES, the declared names on each side of a name's place in each order of a length that a lookup compares. */
const NEAREST_IN_ORDER = 16;

/** The declared names of one length, in two orders: by their text, and by their text read backwards. */
interface NamesOfLength {
  /** Indices of the names, ordered by the lowered name. */
  readonly forwards: readonly number[];
  /** Indices of the names, ordered by the lowered name reversed. */
  readonly backwards: readonly number[];
}

/**
 * Declared names (tools, intents) for the did-you-mean of a name a request brings: the agent
 * chooses that name, so a lookup must cost no more than a bounded number of comparisons however
 * many names are declared or however long they are (3 ms per call at 1,000 intents when every
 * call scanned them all). Up to SCANNED_NAMES names a lookup is closestName. Past that it suggests
 * only a name one edit away (case-insensitive), and compares at most 3 × 2 × 2 × NEAREST_IN_ORDER
 * names: of each length within one of the name's, those next to where the name would be sorted,
 * forwards and backwards. A name one edit from another shares its start or its end with it (the
 * edit is in one half), so it is sorted near it in one of the two orders, unless many names share
 * that start or end (then there may be no advice). The orders are made once, when the index is:
 * memory in proportion to the declared names' text, and nothing built on a request's path.
 */
export class NameIndex {
  private readonly names: readonly string[];
  private readonly longest: number;
  private readonly lowered: readonly string[] = [];
  private readonly reversed: readonly string[] = [];
  private readonly byLength = new Map<number, NamesOfLength>();

  constructor(names: Iterable<string>) {
    this.names = [...names];
    this.longest = this.names.reduce((longest, name) => Math.max(longest, name.length), 0);
    if (this.names.length <= SCANNED_NAMES) return;
    const lowered = (this.lowered = this.names.map((name) => name.toLowerCase()));
    const reversed = (this.reversed = lowered.map(reverse));
    const groups = new Map<number, number[]>();
    lowered.forEach((name, i) => {
      const group = groups.get(name.length);
      if (group === undefined) groups.set(name.length, [i]);
      else group.push(i);
    });
    for (const [length, group] of groups) {
      const forwards = [...group].sort((x, y) => compareText(lowered[x]!, lowered[y]!));
      const backwards = group.sort((x, y) => compareText(reversed[x]!, reversed[y]!));
      this.byLength.set(length, { forwards, backwards });
    }
  }

  /** The declared name closest to `name`, if it is close enough to be a likely typo. */
  closest(name: string): string | undefined {
    // No declared name is within three edits of a name more than three characters longer.
    if (name.length > this.longest + 3) return undefined;
    if (this.names.length <= SCANNED_NAMES) return closestName(name, this.names);
    const wanted = name.toLowerCase();
    const wantedBackwards = reverse(wanted);
    let best: string | undefined;
    let bestDistance = 2;
    const consider = (index: number): void => {
      const candidate = this.names[index]!;
      // Once a name is found, one sorting after it can only win by being the name itself in other case.
      if (best !== undefined && !(candidate < best)) {
        if (bestDistance === 1 && this.lowered[index] === wanted) {
          best = candidate;
          bestDistance = 0;
        }
        return;
      }
      const distance = editDistance(wanted, this.lowered[index]!, 1);
      if (distance < bestDistance || (distance === bestDistance && best !== undefined && candidate < best)) {
        best = candidate;
        bestDistance = distance;
      }
    };
    for (const length of [wanted.length - 1, wanted.length, wanted.length + 1]) {
      const group = this.byLength.get(length);
      if (group === undefined) continue;
      nearestInOrder(group.forwards, this.lowered, wanted, consider);
      nearestInOrder(group.backwards, this.reversed, wantedBackwards, consider);
    }
    return best;
  }
}

/** Calls `consider` with the NEAREST_IN_ORDER indices on each side of where `key` sorts in `order` (of `keys`). */
function nearestInOrder(order: readonly number[], keys: readonly string[], key: string, consider: (index: number) => void): void {
  let low = 0;
  let high = order.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (compareText(keys[order[middle]!]!, key) < 0) low = middle + 1;
    else high = middle;
  }
  const last = Math.min(order.length, low + NEAREST_IN_ORDER);
  for (let at = Math.max(0, low - NEAREST_IN_ORDER); at < last; at++) consider(order[at]!);
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** `name` read backwards, by UTF-16 code units (the order only has to be consistent). */
function reverse(name: string): string {
  return name.split("").reverse().join("");
}
