import { printable } from "../diagnostics/printable.js";

/** How much of an argument's JSON the short request shows. */
const SHOWN_CHARS = 40;

/** The request in short: the tool and its first few arguments (after `approval of` for an approval line's). */
export function shortRequest(result: { readonly tool: string; readonly args: unknown; readonly event?: "approval" }): string {
  const args = result.args && typeof result.args === "object" ? Object.entries(result.args as Record<string, unknown>) : [];
  const shown = args.slice(0, 3).map(([k, v]) => `${printable(k)}=${printable(shortJson(v))}`);
  return `${result.event === "approval" ? "approval of " : ""}${printable(result.tool)}${shown.length ? " " + shown.join(" ") : ""}${args.length > 3 ? " …" : ""}`;
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

/**
 * The start of `value`'s JSON text: all of it when it is at most `limit` characters, else at
 * least `limit + 1` of them. It walks only as far as it writes, so an argument of a megabyte, or
 * nested ten thousand deep (which JSON.stringify cannot write within the stack, and a worker
 * thread's larger stack can: the same line would read differently on each), costs no more than
 * a short one. (`value` comes from JSON.parse: plain JSON values only.)
 */
function jsonPreview(value: unknown, limit: number): string {
  let text = "";
  // Returns whether to go on: false once more than `limit` characters are written.
  const write = (part: string): boolean => {
    text += part;
    return text.length <= limit;
  };
  const walk = (v: unknown): boolean => {
    if (typeof v === "string") return write(JSON.stringify(v.length > limit ? v.slice(0, limit + 1) : v));
    if (v === null || typeof v !== "object") return write(JSON.stringify(v) ?? "null");
    if (Array.isArray(v)) {
      if (!write("[")) return false;
      for (let i = 0; i < v.length; i++) if ((i > 0 && !write(",")) || !walk(v[i])) return false;
      return write("]");
    }
    if (!write("{")) return false;
    let first = true;
    for (const [key, member] of Object.entries(v)) {
      if (member === undefined) continue;
      if ((!first && !write(",")) || !write(`${JSON.stringify(key.length > limit ? key.slice(0, limit + 1) : key)}:`) || !walk(member)) return false;
      first = false;
    }
    return write("}");
  };
  walk(value);
  return text;
}
