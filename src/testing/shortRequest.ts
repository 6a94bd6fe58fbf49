import { printable } from "../diagnostics/printable.js";
import { jsonPreview } from "../runtime/evidence.js";
import { MAX_SESSION_ID_LENGTH } from "../runtime/session.js";

/** How much of an argument's JSON the short request shows. */
const SHOWN_CHARS = 40;

/** The request in short: the tool and its first few arguments (after `approval of` for an approval line's). */
export function shortRequest(result: { readonly tool: string; readonly args: unknown; readonly event?: "approval" }): string {
  const args = result.args && typeof result.args === "object" ? Object.entries(result.args as Record<string, unknown>) : [];
  const shown = args.slice(0, 3).map(([k, v]) => `${printable(k)}=${printable(shortJson(v))}`);
  return `${result.event === "approval" ? "approval of " : ""}${printable(result.tool)}${shown.length ? " " + shown.join(" ") : ""}${args.length > 3 ? " …" : ""}`;
}

/**
 * A line's `session` as reports show it and group lines by: its id; for a logged refusal whose
 * request had no readable one (the engine refused it for that, outside any session), what it had
 * instead: `(no session)`, `(session: 12)`, `(session: "")`, `(session: "xxx…" of 2,000
 * characters)` (longer than a session id can be: not echoed whole, nor kept whole as the key that
 * groups lines, in which such long strings collide, longText.ts). An id in parentheses itself is
 * shown quoted (`(session: "(no session)")`), so that no real session is grouped with those lines.
 */
export function sessionLabel(session: unknown): string {
  if (typeof session === "string" && session.length > MAX_SESSION_ID_LENGTH) return `(session: ${shortJson(session)} of ${session.length.toLocaleString("en-US")} characters)`;
  if (typeof session === "string" && session !== "" && !/^\(.*\)$/s.test(session)) return session;
  return session === undefined ? "(no session)" : `(session: ${shortJson(session)})`;
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

/** A value as JSON, cut at SHOWN_CHARS characters. */
function shortJson(value: unknown): string {
  const text = jsonPreview(value, SHOWN_CHARS);
  return text.length > SHOWN_CHARS ? text.slice(0, SHOWN_CHARS - 3) + "…" : text;
}
