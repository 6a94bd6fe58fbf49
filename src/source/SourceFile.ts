/**
 * A source text with a precomputed line table, so offsets map to line:column in O(log n). A line
 * ends at a line feed, a carriage return, or both (`\r\n`), as editors count lines and as the
 * lexer does: a file saved with classic Mac line endings is not one long line.
 */
export class SourceFile {
  readonly lineStarts: readonly number[];

  constructor(
    readonly path: string,
    readonly text: string,
    /**
     * Whether the bytes the text was read from started with a UTF-8 byte order mark (Notepad and
     * PowerShell 5.1 write one), which the decoder leaves out of `text`: `fmt` writes it back.
     */
    readonly byteOrderMark = false,
  ) {
    const starts = [0];
    for (let i = 0; i < text.length; i++) {
      const code = text.charCodeAt(i);
      if (code === 10 || (code === 13 && text.charCodeAt(i + 1) !== 10)) starts.push(i + 1);
    }
    this.lineStarts = starts;
  }

  /** 1-based line and column (in UTF-16 units, which is what editors count) of an offset. */
  position(offset: number): { line: number; column: number } {
    const clamped = Math.max(0, Math.min(offset, this.text.length));
    let lo = 0;
    let hi = this.lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.lineStarts[mid]! <= clamped) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: clamped - this.lineStarts[lo]! + 1 };
  }

  /** The text of a 1-based line, without its line break. */
  lineText(line: number): string {
    const start = this.lineStarts[line - 1] ?? this.text.length;
    const next = this.lineStarts[line];
    const end = next === undefined ? this.text.length : next - 1;
    return this.text.slice(start, end).replace(/\r$/, "");
  }
}
