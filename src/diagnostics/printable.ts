/**
 * Text that came from a request (a tool name, a session id, an argument's key), made safe to
 * print on a terminal or in a line-based report: control characters, which could move the
 * cursor, recolour or retitle the terminal, or break a TAP line, are shown as escapes
 * (`\u001b`), so the reader sees what was sent.
 */
export function printable(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}
