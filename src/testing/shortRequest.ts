import { printable } from "../diagnostics/printable.js";

/** The request in short: the tool and its first few arguments (after `approval of` for an approval line's). */
export function shortRequest(result: { readonly tool: string; readonly args: unknown; readonly event?: "approval" }): string {
  const args = result.args && typeof result.args === "object" ? Object.entries(result.args as Record<string, unknown>) : [];
  const shown = args.slice(0, 3).map(([k, v]) => {
    let text: string;
    try {
      text = JSON.stringify(v) ?? String(v);
    } catch {
      text = "(too deeply nested to show)";
    }
    if (text.length > 40) text = text.slice(0, 37) + "…";
    return `${printable(k)}=${printable(text)}`;
  });
  return `${result.event === "approval" ? "approval of " : ""}${printable(result.tool)}${shown.length ? " " + shown.join(" ") : ""}${args.length > 3 ? " …" : ""}`;
}
