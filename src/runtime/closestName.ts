/**
 * Names close to a mistyped one, for did-you-mean advice: the checker's diagnostics and the
 * engine's reasons (an unknown tool or intent in a request) both use it. Depends on nothing.
 */

/** Edit distance where swapping two neighbours counts as one edit (`tema` → `team`). */
function editDistance(a: string, b: string, limit: number): number {
  if (Math.abs(a.length - b.length) > limit) return limit + 1;
  let beforePrevious: number[] = [];
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    let rowMin = i;
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      let value = Math.min(previous[j]! + 1, current[j - 1]! + 1, previous[j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) value = Math.min(value, beforePrevious[j - 2]! + 1);
      current.push(value);
      rowMin = Math.min(rowMin, value);
    }
    if (rowMin > limit) return limit + 1;
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
