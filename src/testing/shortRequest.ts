import { printable } from "../diagnostics/printable.js";
import { jsonPreview } from "../runtime/evidence.js";
import { MAX_SESSION_ID_LENGTH } from "../runtime/session.js";
import { longTextKey } from "../runtime/longText.js";
import { HIDDEN_VALUE } from "./explanationText.js";


/** How much of an argument's JSON, or of its name, the short request shows. */
const SHOWN_CHARS = 40;

/**
 * How much of a string a recording line supplied (a tool name, a rule id it expects, a grant's
 * scope) reports show, as the engine's `describeText` quotes request text: a line's 50 MB tool
 * name must not become 50 MB of every report it is named in.
 */
export const SHOWN_TEXT_CHARS = 80;

/**
 * `text` as a report shows it: past `max` characters, its first `kept` (`max - 1` unless given)
 * and an ellipsis, never cut inside a surrogate pair. Only for showing: what groups lines, and
 * what `--grep` searches, is the text itself.
 */
export function shownText(text: string, max = SHOWN_TEXT_CHARS, kept = max - 1): string {
  if (text.length <= max) return text;
  return `${text.slice(0, /[\ud800-\udbff]/.test(text[kept - 1]!) ? kept - 1 : kept)}…`;
}

/** Lists at most this many of a line's own items (the rules it expects, its grants); the rest are counted. */
export const SHOWN_ITEMS = 20;

/**
 * `a, b, c`, or of a long list the first SHOWN_ITEMS and `… and 999,980 more`: a line that
 * expects a million rules is named in a line of a report, not in a million.
 */
export function shownList(items: readonly string[], show: (item: string) => string = shownText): string {
  const listed = items.slice(0, SHOWN_ITEMS).map((item) => show(item));
  if (items.length > SHOWN_ITEMS) listed.push(`… and ${(items.length - SHOWN_ITEMS).toLocaleString("en-US")} more`);
  return listed.join(", ");
}

/**
 * The request in short: the tool and its first few arguments (after `approval of` for an
 * approval line's). With `hideValues` (`policyc test --hide-values`) the arguments' names only,
 * each value as `…`: a production log's arguments hold tokens and personal data, and reports
 * land in CI logs and artifacts.
 */
export function shortRequest(result: { readonly tool: string; readonly args: unknown; readonly event?: "approval" }, hideValues = false): string {
  const args = result.args && typeof result.args === "object" ? Object.entries(result.args as Record<string, unknown>) : [];
  const shown = args.slice(0, 3).map(([k, v]) => `${printable(shownText(k, SHOWN_CHARS))}=${hideValues ? HIDDEN_VALUE : printable(shortJson(v))}`);
  return `${result.event === "approval" ? "approval of " : ""}${printable(shownText(result.tool))}${shown.length ? " " + shown.join(" ") : ""}${args.length > 3 ? " …" : ""}`;
}

/** A revocation line's case as reports name it: `revocation of session s1` (the session as `sessionLabel` gives it). */
export function revocationRequest(session: string): string {
  return `revocation of session ${printable(shownText(session))}`;
}

/**
 * A line's `session` as reports show it and group lines by: its id; for a logged refusal whose
 * request had no readable one (the engine refused it for that, outside any session), what it had
 * instead: `(no session)`, `(session: 12)`, `(session: "")`, `(session: "xxx…" of 2,000
 * characters, SHA-256 …)` (longer than a session id can be: not echoed whole, nor kept whole as
 * the key that groups lines, in which such long strings collide, longText.ts; its digest keeps
 * two such ids apart, as the label groups lines and names a JUnit case's class). An id in parentheses itself is
 * shown quoted (`(session: "(no session)")`), so that no real session is grouped with those lines.
 */
export function sessionLabel(session: unknown): string {
  if (typeof session === "string" && session.length > MAX_SESSION_ID_LENGTH) return `(session: ${shortJson(session)} of ${session.length.toLocaleString("en-US")} characters, SHA-256 ${longTextKey(session)})`;
  if (typeof session === "string" && session !== "" && !/^\(.*\)$/s.test(session)) return session;
  return session === undefined ? "(no session)" : `(session: ${shortJson(session)})`;
}

/** Whether a `sessionLabel` stands for something that is no session id (`(no session)`, `(session: 12)`, a long id in short), not an id itself. */
export function isSessionPlaceholder(label: string): boolean {
  return label === "(no session)" || label.startsWith("(session: ");
}

/**
 * A line's `tool` as reports show it and `--grep` finds it: its name; for a logged refusal
 * whose request named none (the engine refused it for that), what it had instead, in
 * parentheses, which no tool name has: `(no tool)`, `(tool: null)`, `(tool: "")`.
 */
export function toolLabel(tool: unknown): string {
  if (typeof tool === "string" && tool !== "") return tool;
  return tool === undefined ? "(no tool)" : `(tool: ${shortJson(tool)})`;
}

/** A value as JSON, cut at SHOWN_CHARS characters (never inside a surrogate pair: `shownText`). */
function shortJson(value: unknown): string {
  return shownText(jsonPreview(value, SHOWN_CHARS), SHOWN_CHARS, SHOWN_CHARS - 3);
}
