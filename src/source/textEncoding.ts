import { isUtf8 } from "node:buffer";

/**
 * Whether bytes start as UTF-16 text does: a UTF-16 byte order mark, or ASCII characters each
 * beside a zero byte (what Windows PowerShell 5.1's `>` and `Out-File` write). Read as UTF-8,
 * such a file is "binary" (its zero bytes) or gives an error on every line, and none says why.
 */
export function looksLikeUtf16(bytes: Uint8Array): boolean {
  if (bytes.length < 2) return false;
  const [a, b] = [bytes[0]!, bytes[1]!];
  if ((a === 0xff && b === 0xfe) || (a === 0xfe && b === 0xff)) return true;
  // Without a byte order mark: the first characters (up to four), little- or big-endian.
  const pairs = Math.min(4, bytes.length >> 1);
  const asciiBesideZero = (text: number, zero: number): boolean => {
    for (let i = 0; i < pairs; i++) if (bytes[2 * i + zero] !== 0 || !isAsciiText(bytes[2 * i + text]!)) return false;
    return true;
  };
  return asciiBesideZero(0, 1) || asciiBesideZero(1, 0);
}

/**
 * Whether bytes start as gzip's do (`1f 8b`: a log rotated to `app.jsonl.gz`, or a renamed one).
 * No JSON text starts with a control character, so such bytes are compressed, not text; read as
 * UTF-8 they would be "binary" or "not valid UTF-8", and neither says why.
 */
export function looksLikeGzip(bytes: Uint8Array): boolean {
  return bytes.length >= 2 && bytes[0] === 0x1f && bytes[1] === 0x8b;
}

/**
 * Why gzip-compressed bytes (see `looksLikeGzip`) are refused, and how to decompress them into
 * `command` (`policyc test … --replay -`): `file` is their path as the user gave it, undefined
 * for standard input, which has to be decompressed before it is piped. The file is given to
 * `zcat` through `<`, which takes any name (`zcat -x.gz` reads an option); `gunzip` is offered
 * only for a name ending in `.gz`, the only one it decompresses in place.
 */
export function gzipRefusal(expected: string, file: string | undefined, command: string): string {
  const said = `it is gzip-compressed (it starts with the bytes 1f 8b), not ${expected}`;
  if (file === undefined) return `${said}: decompress it before piping it: \`zcat < FILE.gz | ${command}\``;
  const piped = `decompress it into standard input: \`zcat < ${shellWord(file)} | ${command}\``;
  return `${said}: ${/\.gz$/i.test(file) ? `\`gunzip\` it, or ${piped}` : piped}`;
}

/** `text` as one word for a POSIX shell: as it is when nothing in it is special, else in single quotes. */
function shellWord(text: string): string {
  return /^[\w./@%+=:,-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * Where UTF-16 text appended to UTF-8 text begins in `bytes`, whose first NUL byte is at `nul`
 * (what Windows PowerShell 5.1's `>>` appends to a UTF-8 file): at the start of that NUL's line,
 * or, when the UTF-8 text had no final line end (Notepad saves none, and `>>` adds none), inside
 * that line: just before the NUL (little-endian, PowerShell's), at it (big-endian), or at a byte
 * order mark before it. Undefined when no such place starts UTF-16 text (see `looksLikeUtf16`)
 * after bytes that are UTF-8: binary data, most likely. `toEndOfFile`: whether `bytes` hold the
 * file's end (a policy read whole), not a stretch of a recording read in chunks.
 */
export function appendedUtf16Start(bytes: Uint8Array, nul: number, toEndOfFile: boolean): number | undefined {
  const lineStart = bytes.lastIndexOf(10, nul) + 1;
  const starts = [lineStart, nul - 1, nul, nul - 3, nul - 2].filter((start) => start >= lineStart && looksLikeUtf16(bytes.subarray(start)) && isUtf8(bytes.subarray(0, start)));
  // Big-endian text also reads as little-endian from the byte before it (`}` then `\0/…`): when
  // `bytes` run to the end of the file, UTF-16 to the end is an even number of bytes.
  return (toEndOfFile ? starts.find((start) => (bytes.length - start) % 2 === 0) : undefined) ?? starts[0];
}

/** A printable ASCII character, a tab or a line end. */
function isAsciiText(byte: number): boolean {
  return (byte >= 0x20 && byte < 0x7f) || byte === 0x09 || byte === 0x0a || byte === 0x0d;
}

/** How to save a UTF-16 file (see `looksLikeUtf16`) as the UTF-8 that policyc reads. */
export const SAVE_AS_UTF8 = "save it as UTF-8 (PowerShell: `Out-File -Encoding utf8`, or `Set-Content -Encoding utf8`)";

/** Why UTF-16 text is refused, and how to save it; `expected` says what the file should be ("a recording is UTF-8 JSON Lines"). */
export function utf16Refusal(expected: string): string {
  return `it is UTF-16 text, and ${expected}: ${SAVE_AS_UTF8}`;
}

/**
 * Why a file that looks binary is refused (a NUL byte before any text, which JSON text never
 * holds: a string escapes it). `evidence` says what gave it away ("it contains a NUL byte at
 * offset 0"); `expected` what the file should be ("JSON Lines: a recording is UTF-8 text, …").
 */
export function binaryRefusal(evidence: string, expected: string): string {
  return `it looks like a binary file (${evidence}), not ${expected}`;
}

/** The evidence of `binaryRefusal` for a NUL byte at `offset`. */
export function nulByteAt(offset: number): string {
  return `it contains a NUL byte at offset ${offset}`;
}

/**
 * How to add text to a UTF-8 file, for a file whose end is UTF-16 (`looksLikeUtf16` from a
 * line's start on): what Windows PowerShell 5.1's `>>` and `Out-File -Append` append, in UTF-16,
 * whatever the file holds.
 */
export const APPEND_AS_UTF8 = "remove the UTF-16 lines and append them again as UTF-8 (PowerShell: `Add-Content -Encoding utf8`, or `Out-File -Append -Encoding utf8`)";

/** Text without the UTF-8 byte order mark it may start with (Notepad and PowerShell 5.1 write one). */
export function withoutByteOrderMark(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}
