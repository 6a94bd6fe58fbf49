/**
 * `--session-idle D` of `test`, `diff` and `eval`: the engine's sessionIdleMs, written as a
 * policy duration (`90m`, `8h`, `2d`), so a replay expires sessions when the enforcement point
 * that recorded the traffic did. Undefined when not given, null when invalid.
 */
export function parseSessionIdle(value: string | undefined): number | undefined | null {
  if (value === undefined) return undefined;
  const match = /^([0-9]+)(ms|s|m|h|d)$/.exec(value);
  if (!match) return null;
  const ms = Number(match[1]) * UNIT_MS[match[2]!]!;
  return Number.isSafeInteger(ms) && ms > 0 ? ms : null;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export const SESSION_IDLE_HELP = "expire a session after this long without an attempt, as the enforcement point does (a duration: 90m, 8h; default 1h)";

export function sessionIdleError(verb: string, value: string): string {
  return `policyc ${verb}: --session-idle takes a duration such as 90m, 8h or 2d (more than zero), not \`${value}\`\n`;
}
