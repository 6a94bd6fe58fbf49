import { BIDI_CONTROL_CLASS, withoutInlineLogCommand } from "../diagnostics/printable.js";
import { displayWidth } from "./displayWidth.js";
import type { Span } from "./Span.js";

const MAX_FRAME_WIDTH = 160;
/** Control characters (but tab and line feed; with the C1 controls, such as U+009B, a terminal's CSI) and bidirectional controls. */
const HIDDEN_IN_FRAMES = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${BIDI_CONTROL_CLASS}]`, "g");

/**
 * A code frame: the line of the span's start with its number, and a caret line under the span.
 * Long lines are windowed around the span so a minified 10 MB line never floods a terminal.
 */
export function codeFrame(span: Span): string[] {
  const file = span.file;
  const start = file.position(span.start);
  const endOffset = Math.max(span.end, span.start + 1);
  const end = file.position(endOffset);
  let text = file.lineText(start.line).replace(/\t/g, " ");
  let caretStart = start.column - 1;
  let caretLength = end.line === start.line ? Math.max(1, end.column - start.column) : Math.max(1, text.length - caretStart);
  let prefix = "";
  if (text.length > MAX_FRAME_WIDTH) {
    const windowStart = Math.max(0, caretStart - 40);
    text = text.slice(windowStart, windowStart + MAX_FRAME_WIDTH);
    prefix = windowStart > 0 ? "…" : "";
    caretStart = caretStart - windowStart + prefix.length;
    text = prefix + text;
  }
  caretLength = Math.max(1, Math.min(caretLength, text.length - caretStart));
  // Replace control characters so a binary-ish line cannot corrupt the terminal, and
  // bidirectional controls so the terminal cannot reorder the line the frame is about (each is
  // one UTF-16 unit, as is `�`: the caret stays in place).
  text = text.replace(HIDDEN_IN_FRAMES, "�");
  // Offsets count UTF-16 units; the terminal draws a CJK character or an emoji two columns wide
  // and a combining accent in none: pad and underline by what is drawn.
  // `##[` anywhere in a CI log line is a GitHub Actions command: shown as printable shows it,
  // and measured so, so the caret stays under the span.
  const padding = displayWidth(withoutInlineLogCommand(text.slice(0, caretStart)));
  const underline = Math.max(1, displayWidth(withoutInlineLogCommand(text.slice(caretStart, caretStart + caretLength))));
  const gutter = String(start.line);
  const pad = " ".repeat(gutter.length);
  return [`${pad} |`, `${gutter} | ${withoutInlineLogCommand(text)}`, `${pad} | ${" ".repeat(padding)}${"^".repeat(underline)}`];
}
