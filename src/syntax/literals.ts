import { ownEntry } from "../diagnostics/ownEntry.js";
import { escapeHidden } from "../diagnostics/printable.js";

/** Milliseconds per duration unit. */
export const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Splits `90s` into its number and unit; undefined when the unit is not one of ms, s, m, h, d. */
export function parseDuration(text: string): number | undefined {
  const match = /^([0-9]+)(ms|s|m|h|d)$/.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]) * DURATION_UNITS[match[2]!]!;
  return Number.isSafeInteger(value) ? value : undefined;
}

/** A duration in the largest unit that holds it whole: 5400000 → `90m`. */
export function durationText(milliseconds: number): string {
  const units = Object.entries(DURATION_UNITS).sort((a, b) => b[1] - a[1]);
  const [unit, size] = units.find(([, size]) => milliseconds % size === 0) ?? ["ms", 1];
  return `${milliseconds / size}${unit}`;
}

/** Unit spellings people write for the ones the language has (`1min`, `2hrs`, `5w`), in milliseconds. */
const UNIT_SPELLINGS: Readonly<Record<string, number>> = {
  msec: 1, msecs: 1, millis: 1, millisecond: 1, milliseconds: 1,
  sec: 1000, secs: 1000, second: 1000, seconds: 1000,
  min: 60_000, mins: 60_000, minute: 60_000, minutes: 60_000,
  hr: 3_600_000, hrs: 3_600_000, hour: 3_600_000, hours: 3_600_000,
  day: 86_400_000, days: 86_400_000,
  w: 604_800_000, wk: 604_800_000, wks: 604_800_000, week: 604_800_000, weeks: 604_800_000,
};

/** The language's unit for a size in milliseconds. */
const UNIT_SIZES: Readonly<Record<number, string>> = Object.fromEntries(Object.entries(DURATION_UNITS).map(([unit, size]) => [size, unit]));

/**
 * What to write for a malformed duration (`1h30m`, `1min`, `2H`, `5w`), or for a number lexed as
 * one (`1_000`, `1e3`), or undefined when nothing close is meant. `1min` is a misspelled unit: "did you mean"; `1h30m` and `5w` need
 * arithmetic: "write".
 */
export function durationSuggestion(text: string): string | undefined {
  const parts = [...text.matchAll(/([0-9]+)(ms|s|m|h|d)/g)];
  if (parts.length > 1 && parts.map((p) => p[0]).join("") === text) {
    const total = parts.reduce((sum, p) => sum + Number(p[1]) * DURATION_UNITS[p[2]!]!, 0);
    return Number.isSafeInteger(total) ? `write \`${durationText(total)}\`` : undefined;
  }
  // A number written as in other languages, lexed as digits and letters like a duration.
  if (/^[0-9]+(_[0-9]+)+$/.test(text)) return `numbers have no digit separators: write \`${text.replace(/_/g, "")}\``;
  const exponent = /^([0-9]+)[eE]([0-9]+)$/.exec(text);
  if (exponent) {
    const value = Number(exponent[1]) * 10 ** Number(exponent[2]);
    return Number.isSafeInteger(value) ? `numbers are written in full: \`${value}\`` : "numbers are written in full, without an exponent";
  }
  const match = /^([0-9]+)([A-Za-z]+)$/.exec(text);
  if (!match) return undefined;
  const [, digits, unit] = match;
  const lower = unit!.toLowerCase();
  if (Object.hasOwn(DURATION_UNITS, lower)) return `did you mean \`${digits}${lower}\`? units are lower case`;
  const size = ownEntry(UNIT_SPELLINGS, lower);
  if (size === undefined) return undefined;
  if (size in UNIT_SIZES) return `did you mean \`${digits}${UNIT_SIZES[size]}\`?`;
  const total = Number(digits) * size;
  return Number.isSafeInteger(total) ? `write \`${durationText(total)}\`` : undefined;
}


/** Decodes a string token with JSON escapes; undefined when an escape is invalid. */
export function decodeString(raw: string): string | undefined {
  // Most strings have no escapes and no control characters: skip JSON.parse for them.
  if (raw.length >= 2 && raw.indexOf("\\") < 0 && !/[\u0000-\u001f]/.test(raw)) return raw.slice(1, -1);
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === "string" ? value : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The policy-language spelling of a string: JSON, which is also how it is read back, with its
 * bidirectional controls as escapes, since written raw they are an error (PC112), and the
 * characters that cannot be seen or told from an ordinary space, since written raw they are a
 * warning (PC510): `fmt` keeps a `"rm\u00a0-rf"` written on purpose as it is, and shows a pasted
 * one. Both are what escapeHidden escapes (JSON escapes the other control characters itself).
 */
export function encodeString(value: string): string {
  return escapeHidden(JSON.stringify(value));
}
