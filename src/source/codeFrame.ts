import { BIDI_CONTROL_CLASS, withoutInlineLogCommand } from "../diagnostics/printable.js";
import { displayWidth, graphemesOf, graphemeWidth } from "./displayWidth.js";
import type { Span } from "./Span.js";

/** Terminal columns of a line's text a frame shows at most (its `…` marks aside). */
const MAX_FRAME_WIDTH = 160;
/** How far before the span a windowed line starts, in UTF-16 units. */
const WINDOW_LEAD = 40;
/** Control characters (but tab and line feed; with the C1 controls, such as U+009B, a terminal's CSI) and bidirectional controls. */
const HIDDEN_IN_FRAMES = new RegExp(`[\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f${BIDI_CONTROL_CLASS}]`, "g");
/** A combining mark, drawn on the character before it. */
const MARK = /^\p{M}/u;

/**
 * A code frame: the line of the span's start with its number, and a caret line under the span.
 * Long lines are windowed around the span so a minified 10 MB line never floods a terminal.
 * `marker` draws the underline: `^` for the diagnostic's own place, `-` for a related one (as
 * rustc draws a secondary label), so the eye finds the place the diagnostic is about first.
 * `gutterWidth` widens the line-number gutter, so frames of one diagnostic (line 9 and line 10)
 * line up.
 */
export function codeFrame(span: Span, marker: "^" | "-" = "^", gutterWidth = 0): string[] {
  const file = span.file;
  const start = file.position(span.start);
  const endOffset = Math.max(span.end, span.start + 1);
  const end = file.position(endOffset);
  const line = file.lineText(start.line);
  const spanStart = baseOf(line, start.column - 1);
  const spanEnd = Math.max(spanStart + 1, end.line === start.line ? end.column - 1 : line.length);
  const window = frameWindow(line, spanStart);
  const prefix = window.start > 0 ? "…" : "";
  const suffix = window.end < line.length ? "…" : "";
  const caretStart = spanStart - window.start;
  const caretEnd = Math.min(spanEnd, window.end) - window.start;
  // A tab is drawn as a space, but under the caret as `�`, as the other control characters are:
  // the character a message names (PC105) is seen where the caret points.
  const shown = line.slice(window.start, window.end);
  let text = `${prefix}${shown.slice(0, caretStart).replace(/\t/g, " ")}${shown.slice(caretStart, caretEnd).replace(/\t/g, "�")}${shown.slice(caretEnd).replace(/\t/g, " ")}${suffix}`;
  // Replace control characters so a binary-ish line cannot corrupt the terminal, and
  // bidirectional controls so the terminal cannot reorder the line the frame is about (each is
  // one UTF-16 unit, as is `�`: the caret stays in place).
  text = text.replace(HIDDEN_IN_FRAMES, "�");
  // Offsets count UTF-16 units; the terminal draws a CJK character or an emoji two columns wide
  // and a combining accent in none: pad and underline by what is drawn.
  // `##[` anywhere in a CI log line is a GitHub Actions command: shown as printable shows it,
  // and measured so, so the caret stays under the span.
  const from = prefix.length + caretStart;
  const padding = displayWidth(withoutInlineLogCommand(text.slice(0, from)));
  const underline = Math.max(1, displayWidth(withoutInlineLogCommand(text.slice(from, prefix.length + caretEnd))));
  const gutter = String(start.line).padStart(gutterWidth);
  const pad = " ".repeat(gutter.length);
  return [`${pad} |`, `${gutter} | ${withoutInlineLogCommand(text)}`, `${pad} | ${" ".repeat(padding)}${marker.repeat(underline)}`];
}

/**
 * Where the character drawn at `offset` of `line` starts: a combining mark (the accent of a
 * decomposed `é`) and the second half of a surrogate pair are drawn as part of the character
 * before them, so a caret for them goes under that one.
 */
function baseOf(line: string, offset: number): number {
  let at = Math.min(offset, line.length);
  if (at > 0 && isLowSurrogateAt(line, at)) at--;
  while (at > 0 && MARK.test(line.slice(at, at + 2))) {
    at--;
    if (at > 0 && isLowSurrogateAt(line, at)) at--;
  }
  return at;
}

function isLowSurrogateAt(text: string, offset: number): boolean {
  const unit = text.charCodeAt(offset);
  const before = text.charCodeAt(offset - 1);
  return unit >= 0xdc00 && unit <= 0xdfff && before >= 0xd800 && before <= 0xdbff;
}

/**
 * The part of `line` a frame shows, in UTF-16 offsets: all of it when it fits in
 * MAX_FRAME_WIDTH terminal columns, else from WINDOW_LEAD units before `spanStart` (moved back
 * to the start of the character drawn there) for as many whole characters as fit in that many
 * columns.
 */
function frameWindow(line: string, spanStart: number): { start: number; end: number } {
  // (A line of at most MAX_FRAME_WIDTH units is at most 2 columns a unit: measured only then.)
  if (line.length <= MAX_FRAME_WIDTH && displayWidth(line) <= MAX_FRAME_WIDTH) return { start: 0, end: line.length };
  const start = graphemeStartAt(line, Math.max(0, spanStart - WINDOW_LEAD));
  let end = start;
  let width = 0;
  // Each column a grapheme takes is at least one unit, but zero-width ones: a bounded look.
  for (const grapheme of graphemesOf(line.slice(start, start + MAX_FRAME_WIDTH * 4))) {
    width += graphemeWidth(grapheme);
    if (width > MAX_FRAME_WIDTH) break;
    end += grapheme.length;
  }
  return { start, end };
}

/** How many UTF-16 units before `offset` graphemeStartAt looks for where a character starts: more than any character drawn as one holds in practice. */
const GRAPHEME_LOOK_BACK = 64;

/**
 * Where the character drawn at `offset` of `line` starts (its grapheme: a letter and its
 * combining accents, an emoji ZWJ sequence, a surrogate pair), so a window never starts with an
 * accent drawn on its `…` or half of a picture.
 */
function graphemeStartAt(line: string, offset: number): number {
  let at = Math.max(0, offset - GRAPHEME_LOOK_BACK);
  for (const grapheme of graphemesOf(line.slice(at, offset + GRAPHEME_LOOK_BACK))) {
    if (at + grapheme.length > offset) return at;
    at += grapheme.length;
  }
  return baseOf(line, offset);
}
