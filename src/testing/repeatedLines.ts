import type { PassedOverLine, RecordingLine } from "./readRecording.js";

/**
 * Tells the lines of a recording that repeat the line before them byte for byte, as a log
 * shipper that retries a write leaves them. Such a line replays as another attempt (it counts
 * in `session.count`, `session.repeats` and what follows), which production may never have
 * made: `test` and `diff` say so, and decide as before. Fed every line in order (blank lines
 * are none); a line another thread decides has no text here and is of another session, so it
 * ends a run. A run of the same line names its first: lines 5 and 6 both repeat line 4.
 */
export class RepeatedLines {
  private previous: { readonly line: number; readonly text: string } | undefined;

  /** The line `entry` repeats (the first of the run), or undefined. */
  of(entry: RecordingLine | PassedOverLine): number | undefined {
    const text = entry.ok === "elsewhere" || entry.text === "" ? undefined : entry.text;
    const previous = this.previous;
    if (text !== undefined && previous !== undefined && previous.text === text) return previous.line;
    this.previous = text === undefined ? undefined : { line: entry.line, text };
    return undefined;
  }
}

/** What `test` and `diff` note on a line that repeats line `of` (a ReplayNote's message). */
export function repeatedLineNote(line: number, of: number): string {
  return `repeats line ${of} byte for byte (a log shipper's retry writes a line twice?): replayed as another attempt, which session.count, session.repeats and the lines after it count; if the call was made once, delete line ${line}`;
}
