/** Milliseconds per duration unit. */
export const DURATION_UNITS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** Splits `90s` into its number and unit; undefined when the unit is not one of ms, s, m, h, d. */
export function parseDuration(text: string): number | undefined {
  const match = /^([0-9]+)(ms|s|m|h|d)$/.exec(text);
  if (!match) return undefined;
  const value = Number(match[1]) * DURATION_UNITS[match[2]!]!;
  return Number.isSafeInteger(value) ? value : undefined;
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

/** The policy-language spelling of a string: JSON, which is also how it is read back. */
export function encodeString(value: string): string {
  return JSON.stringify(value);
}
