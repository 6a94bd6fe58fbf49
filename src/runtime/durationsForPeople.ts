/** Durations in decision reasons and refusals, in the units people read. */
const UNITS_FOR_PEOPLE = [["day", 86_400_000], ["hour", 3_600_000], ["minute", 60_000], ["second", 1000]] as const;

/** A measured duration for people, rounded: "15 minutes", "2.5 hours", "3 seconds", "250 ms". */
export function roughly(ms: number): string {
  const [unit, size] = UNITS_FOR_PEOPLE.find(([, size]) => ms >= size) ?? ["ms", 1];
  const value = size === 1 ? Math.round(ms) : Math.round((ms / size) * 10) / 10;
  return size === 1 ? `${value} ms` : `${value} ${unit}${value === 1 ? "" : "s"}`;
}

/** A duration for people, exactly: "1 hour", "90 seconds", "250 ms". */
export function describeMs(ms: number): string {
  const [unit, size] = UNITS_FOR_PEOPLE.find(([, size]) => ms >= size && ms % size === 0) ?? ["ms", 1];
  return size === 1 ? `${ms} ms` : `${ms / size} ${unit}${ms === size ? "" : "s"}`;
}

/**
 * A measured duration above `limit` for people, rounded so that it still reads as more than the
 * limit ("61 minutes" past a limit of one hour, where `roughly` says "1 hour"), and "just over"
 * the limit when no rounding does (a fraction of a millisecond more, from a clock that gives
 * fractions: "just over 1 hour", never "3600000 ms").
 */
export function roughlyAbove(ms: number, limit: number): string {
  for (const [unit, size] of UNITS_FOR_PEOPLE) {
    const value = Math.round((ms / size) * 10) / 10;
    if (ms >= size && value > limit / size) return `${value} ${unit}${value === 1 ? "" : "s"}`;
  }
  const whole = Math.round(ms);
  return ms < 1000 && whole > limit ? `${whole} ms` : `just over ${describeMs(limit)}`;
}
