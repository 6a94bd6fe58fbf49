import { jsonMistake } from "../diagnostics/jsonMistake.js";
import type { PassedOverLine, RecordingLine } from "./readRecording.js";
import { stringEnd } from "./spliceExpectation.js";
import { CLOSE_BRACE, CLOSE_BRACKET, OPEN_BRACE, OPEN_BRACKET, QUOTE } from "../diagnostics/jsonCharacters.js";
import { INPUT_CODES } from "./inputCodes.js";

/**
 * A JSON object or array written over more lines than this, or more characters (about bytes), is
 * not held whole: it is still reported as one error at its first line, without saying whether its
 * lines parse when joined. A request is a few kilobytes, pretty-printed a few dozen lines.
 */
export const MAX_VALUE_LINES = 1000;
export const MAX_VALUE_CHARACTERS = 1024 * 1024;

/** Said of JSON with a comma before `}` or `]`, a mistake it often has when written by hand. */
export const TRAILING_COMMA_HINT = "(a comma before `}` or `]` is not JSON: remove it)";

/** A line that ends with a comma, and a closing bracket next: never within a string, which cannot hold a line break. */
const TRAILING_COMMA_ON_A_LINE = /,[ \t]*\n[ \t\n]*[}\]]/;

/** How a line's brackets nest, from one scan that passes over strings. */
interface LineShape {
  /** How much deeper the line leaves the nesting than it found it. */
  readonly net: number;
  /** The lowest the nesting falls to at a closing bracket, relative to the line's start; Infinity when it closes none. */
  readonly lowest: number;
  /** Whether a string is still open where the line ends: JSON never breaks a string over lines. */
  readonly openString: boolean;
  /** Whether the line is one whole object on its own: `{` first, its nesting back to none only at its last character. */
  readonly wholeObject: boolean;
  /** Its leading spaces and tabs. */
  readonly indent: number;
}

function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09;
}

function lineShape(text: string): LineShape {
  let start = 0;
  while (start < text.length && isSpace(text.charCodeAt(start))) start++;
  let last = text.length - 1;
  while (last >= start && isSpace(text.charCodeAt(last))) last--;
  let depth = 0;
  let lowest = Infinity;
  let openString = false;
  let firstClose = -1;
  for (let at = start; at <= last; at++) {
    const code = text.charCodeAt(at);
    if (code === QUOTE) {
      const end = stringEnd(text, at);
      if (end < 0) {
        openString = true;
        break;
      }
      at = end - 1;
    } else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++;
    else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
      depth--;
      if (depth < lowest) lowest = depth;
      if (depth === 0 && firstClose < 0) firstClose = at;
    }
  }
  return { net: depth, lowest, openString, wholeObject: text.charCodeAt(start) === OPEN_BRACE && firstClose === last && !openString, indent: start };
}

/** A line held while the value it may be part of is open: its text, number and shape. */
interface HeldLine {
  readonly text: string;
  readonly number: number;
  readonly shape: LineShape;
}

/** A JSON object or array whose first line has been read and whose last has not. */
interface OpenValue {
  readonly first: number;
  readonly kind: "object" | "array";
  readonly indent: number;
  /** The error its first line gets on its own, should the lines after it turn out not to continue it. */
  readonly alone: RecordingLine;
  /** How deep the nesting is after the last line read. */
  depth: number;
  last: number;
  /** Its lines so far, while they are few enough to hold (undefined past MAX_VALUE_LINES or MAX_VALUE_CHARACTERS). */
  lines: HeldLine[] | undefined;
  characters: number;
}

type Entry = RecordingLine | PassedOverLine;

/**
 * Turns the lines of a JSON object (or array) written over several lines, as a pretty-printed
 * request pasted among one-line ones is, into one error at its first line that names the range,
 * instead of one error per line. A value opens at a line that is not JSON on its own, starts with
 * `{` or `[` and leaves a bracket open (outside any string); it ends at the line that closes it.
 * A line that opens one may instead be a request cut short (a truncated log): a line that cannot
 * continue the value — one with a string left open, or a whole object on its own no more indented
 * than the value's first line, as the next good request is — shows it was not one, and the first
 * line is then reported alone and the lines after it read again. So are the lines of a value the
 * file ends inside. Lines are held only up to a bound: past it the value is reported as one
 * error all the same, when it ends, without reading again.
 *
 * Every thread of a parallel replay reads every line through this before it passes any over, so
 * the values are the same on every thread (the error's text is empty: its session is no one's,
 * and the first thread reports it).
 */
export class SeveralLineValues {
  private open: OpenValue | undefined;
  /** Lines to take (again), the next one last. */
  private readonly pending: HeldLine[] = [];

  /** `single` reads a line on its own: passes it over, or parses it. */
  constructor(private readonly single: (text: string, number: number) => Entry) {}

  /** Takes the next line of the file (blank ones too), adding to `batch` what it can say of the lines so far. */
  take(text: string, number: number, batch: Entry[]): void {
    // Most lines, read while no value is open: no shape, nothing held.
    if (this.open === undefined) return this.start(text, number, undefined, batch);
    this.pending.push({ text, number, shape: lineShape(text) });
    this.drain(batch);
  }

  /** Ends any value still open: at the end of the file, or before a line that cannot be part of one (too long, not UTF-8). */
  settle(batch: Entry[]): void {
    while (this.open !== undefined) {
      this.end(batch);
      this.drain(batch);
    }
  }

  private drain(batch: Entry[]): void {
    for (let line = this.pending.pop(); line !== undefined; line = this.pending.pop()) {
      const open = this.open;
      if (open === undefined) this.start(line.text, line.number, line.shape, batch);
      else if (line.shape.openString || (line.shape.wholeObject && line.shape.indent <= open.indent)) {
        this.pending.push(line);
        this.end(batch);
      } else this.continue(open, line, batch);
    }
  }

  private start(text: string, number: number, shape: LineShape | undefined, batch: Entry[]): void {
    if (isBlank(text)) return;
    const entry = this.single(text, number);
    if (entry.ok === false) {
      shape ??= lineShape(text);
      const first = text.charCodeAt(shape.indent);
      if ((first === OPEN_BRACE || first === OPEN_BRACKET) && !shape.openString && shape.net > 0 && shape.lowest >= 1) {
        this.open = { first: number, kind: first === OPEN_BRACE ? "object" : "array", indent: shape.indent, alone: entry, depth: shape.net, last: number, lines: [{ text, number, shape }], characters: text.length };
        return;
      }
    }
    batch.push(entry);
  }

  private continue(open: OpenValue, line: HeldLine, batch: Entry[]): void {
    open.last = line.number;
    if (open.lines !== undefined) {
      open.lines.push(line);
      open.characters += line.text.length;
      if (open.lines.length > MAX_VALUE_LINES || open.characters > MAX_VALUE_CHARACTERS) open.lines = undefined;
    }
    if (open.depth + line.shape.lowest <= 0) {
      this.open = undefined;
      batch.push(this.error(open, true));
    } else open.depth += line.shape.net;
  }

  /**
   * Ends the open value at a line that cannot continue it (or at the end of the file). Held
   * whole, it was no value: its first line is reported alone, and the lines after it are taken
   * again. Past the bound, it is reported as the value it looked like.
   */
  private end(batch: Entry[]): void {
    const open = this.open!;
    this.open = undefined;
    if (open.lines === undefined) {
      batch.push(this.error(open, false));
      return;
    }
    batch.push(open.alone);
    for (let i = open.lines.length - 1; i >= 1; i--) this.pending.push(open.lines[i]!);
  }

  private error(open: OpenValue, closed: boolean): RecordingLine {
    const what = `one JSON ${open.kind} written over several lines`;
    const fix = open.kind === "object" ? "put it on one line (`jq -c` writes it so)" : "put each request in it on a line of its own (`jq -c '.[]'` writes them so)";
    let joined = "";
    if (open.lines === undefined) joined = ` (more than ${MAX_VALUE_LINES} lines or ${MAX_VALUE_CHARACTERS / 1_048_576} MB: not read as one)`;
    else if (closed) {
      const text = open.lines.map((line) => line.text).join("\n");
      try {
        JSON.parse(text);
        joined = `; joined, the lines parse as a JSON ${open.kind}`;
      } catch {
        joined = `; joined, the lines are not JSON either ${jsonMistake(text, open.first)}${TRAILING_COMMA_ON_A_LINE.test(text) ? ` ${TRAILING_COMMA_HINT}` : ""}`;
      }
    }
    const error = `lines ${open.first}–${open.last} ${closed ? `are ${what}` : `start ${what} that does not end`}: ${fix}${joined}`;
    // Each of its lines alone is not JSON, which JSON Lines asks of every line.
    return { ok: false, line: open.first, endLine: open.last, text: "", error, code: INPUT_CODES.notJson };
  }
}

/** Whether a line is empty or only whitespace (a JSON line starts with `{`: one look usually settles it). */
function isBlank(line: string): boolean {
  return line.charCodeAt(0) !== 123 /* { */ && line.trim() === "";
}
