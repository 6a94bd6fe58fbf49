/**
 * JSON.parse's message with its "at position N" (an offset into the text parsed, which starts at
 * `start` in `text`) given as the place in `text` a person can go to: "at column C" in a
 * one-line text (a recording's line), "at line L, column C" in a longer one (whose first line is
 * `firstLine`: a file's lines joined from there).
 */
export function jsonErrorPlace(message: string, text: string, start = 0, firstLine = 1): string {
  const oneLine = !text.trimEnd().includes("\n");
  return message.replace(/at position (\d+)(?: \(line \d+ column \d+\))?/, (_, position: string) => {
    const offset = start + Number(position);
    const before = text.slice(0, offset);
    const column = offset - (before.lastIndexOf("\n") + 1) + 1;
    return oneLine ? `at column ${column}` : `at line ${firstLine - 1 + before.split("\n").length}, column ${column}`;
  });
}
