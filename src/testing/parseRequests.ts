import { isUtf8 } from "node:buffer";
import { jsonMistake } from "../diagnostics/jsonMistake.js";
import { binaryRefusal, gzipRefusal, looksLikeGzip, nulByteAt, looksLikeUtf16, utf16Refusal, withoutByteOrderMark } from "../source/textEncoding.js";
import { eventLineError, lineText } from "./readRecording.js";
import { repeatedKey } from "./repeatedKey.js";
import { shownText } from "./shortRequest.js";
import { printable } from "../diagnostics/printable.js";
import { INPUT_CODES, type InputCode } from "./inputCodes.js";

/**
 * The requests read, each with the file's line it starts on (`lines`, 1-based, blank lines
 * counted: what an editor and `head -n` count), or why there are none: `error` says it in
 * words, `code` is its stable code (PC600 the file, PC601 not JSON, PC602 not a request:
 * INPUT_CODES), and `line` the line at fault when one is (said as FILE:LINE).
 */
export type ParsedRequests =
  | { readonly requests: unknown[]; readonly lines: number[]; readonly error?: undefined; readonly code?: undefined; readonly line?: undefined }
  | { readonly requests: []; readonly lines: []; readonly error: string; readonly code: InputCode; readonly line?: number };

function refused(code: InputCode, error: string, line?: number): ParsedRequests {
  return { requests: [], lines: [], code, error, ...(line === undefined ? {} : { line }) };
}

/**
 * Reads requests from a file's bytes (see `parseRequests`), which must be UTF-8 as a recording's
 * are: text in another encoding is refused, never decided with its bytes replaced by U+FFFD
 * (`"café"` in Windows-1252 would be compared as `"caf\ufffd"`, and `test` refuses that line).
 * `file`: the request's path as the user gave it, undefined for standard input (for the advice
 * on a gzip-compressed request).
 */
export function parseRequestBytes(bytes: Buffer, file?: string): ParsedRequests {
  if (looksLikeGzip(bytes)) return refused(INPUT_CODES.unreadableFile, gzipRefusal("JSON", file, "policyc eval … --request -"));
  if (looksLikeUtf16(bytes)) return refused(INPUT_CODES.unreadableFile, utf16Refusal("a request is UTF-8 JSON"));
  // A NUL byte in the first line, before any request: a binary file, refused as a recording that
  // starts so is (PC600), not read as JSON with a "control character" at column 1.
  const nul = bytes.indexOf(0);
  const firstLineEnd = bytes.indexOf(10);
  if (nul >= 0 && (firstLineEnd < 0 || nul < firstLineEnd)) return refused(INPUT_CODES.unreadableFile, binaryRefusal(nulByteAt(nul), "JSON: a request is UTF-8 JSON"));
  if (!isUtf8(bytes)) {
    // (A line feed byte is never part of a UTF-8 character: each line is valid or not alone.)
    let line = 1;
    for (let from = 0, end = bytes.indexOf(10); end >= 0 && isUtf8(bytes.subarray(from, end)); from = end + 1, end = bytes.indexOf(10, from)) line++;
    return refused(INPUT_CODES.notJson, "not valid UTF-8 (saved in another encoding, such as Windows-1252?): save the request as UTF-8", line);
  }
  return parseRequests(bytes.toString("utf8"));
}

/**
 * Reads requests: one JSON object, or JSON Lines (earlier lines set up the session, approval and
 * revocation lines among them: `"event": "approval"`, `"event": "revocation"`). The last is the
 * request to decide, so it cannot be either; such a line is checked as a recording's is
 * (`eventLineError`).
 */
export function parseRequests(fileText: string): ParsedRequests {
  // A byte order mark (Notepad, PowerShell 5.1) is not a column: an error's place is counted
  // as an editor counts it, after the mark.
  const text = withoutByteOrderMark(fileText);
  const trimmed = text.trim();
  if (trimmed === "") return refused(INPUT_CODES.notARequest, "the request is empty");
  let whole: unknown;
  try {
    whole = JSON.parse(trimmed);
  } catch (error) {
    return parseLines(text, error as Error);
  }
  const repeated = repeatedKeyMistake(trimmed);
  if (repeated !== undefined) return refused(INPUT_CODES.notJson, repeated);
  if (isObject(whole) && whole["event"] !== undefined) {
    const error = eventOf(whole) !== undefined ? `it is ${eventOf(whole)}, not a request to decide: give the request to decide, after the lines that set up its session (JSON Lines)` : eventLineError(whole)!;
    return refused(INPUT_CODES.notARequest, error);
  }
  // One document: the line it starts on (after any blank lines), for notes on it.
  return { requests: [whole], lines: [text.slice(0, text.length - text.trimStart().length).split("\n").length] };
}

/**
 * JSON Lines, each line a request (or an approval), the last the one to decide; its lines are
 * read as a recording's, so a byte order mark starting one (files joined with `cat`) is skipped.
 */
function parseLines(text: string, whole: Error): ParsedRequests {
  const requests: unknown[] = [];
  const lines = text.split("\n").map((line) => lineText(line, 0, line.length));
  // A first line that is no JSON value alone: one document (pretty-printed, say) with a
  // mistake, reported where it is in the file, not as "line 1 is not JSON".
  const first = lines.find((line) => line.trim() !== "")!;
  if (!parsesAsJson(first)) return refused(INPUT_CODES.notJson, `not JSON ${jsonMistake(text)}`);
  const numbers: number[] = [];
  for (let i = 0; i < lines.length; i++) {
    if (lines[i]!.trim() === "") continue;
    let request: unknown;
    try {
      request = JSON.parse(lines[i]!);
    } catch (error) {
      return refused(INPUT_CODES.notJson, `not JSON ${jsonMistake(lines[i]!)}`, i + 1);
    }
    const repeated = repeatedKeyMistake(lines[i]!);
    if (repeated !== undefined) return refused(INPUT_CODES.notJson, repeated, i + 1);
    const problem = isObject(request) ? eventLineError(request) : undefined;
    if (problem !== undefined) return refused(INPUT_CODES.notARequest, problem, i + 1);
    requests.push(request);
    numbers.push(i + 1);
  }
  const final = requests.at(-1);
  const finalEvent = isObject(final) ? eventOf(final) : undefined;
  if (finalEvent !== undefined) return refused(INPUT_CODES.notARequest, `it is ${finalEvent}, and the last line is the request to decide and explain: end with it`, numbers.at(-1));
  return { requests, lines: numbers };
}

/**
 * Why a request that names one key twice in an object is refused, or undefined: `JSON.parse`
 * keeps the last, a gateway's JSON reader may keep the first (`"tool": "db.drop", "tool":
 * "kb.search"`), so the request explained might not be the one that gateway decided.
 */
function repeatedKeyMistake(text: string): string | undefined {
  const repeated = repeatedKey(text);
  if (repeated === undefined) return undefined;
  // The request's own text, shown short and escaped as the rest of its text is (a key of
  // megabytes, a path 100,000 levels deep, a log command or a bidi control in a name).
  const path = repeated.path.length > MAX_SHOWN_PATH ? `…${repeated.path.slice(-MAX_SHOWN_PATH)}` : repeated.path;
  const where = path === "" ? "the request" : `\`${printable(path)}\``;
  return `${where} names the key ${printable(JSON.stringify(shownText(repeated.key)))} twice: JSON readers differ on which one counts (JSON.parse takes the last; other readers may take the first, or refuse it), so which request is meant is unclear: keep one`;
}

/** How much of the end of a repeated key's path a message shows. */
const MAX_SHOWN_PATH = 120;

/** `an approval (…)` or `a revocation (…)`: what a line marked with `event` is, named; undefined for a line that is none (an attempt, or an `event` of no such name). */
function eventOf(line: Record<string, unknown>): string | undefined {
  if (line["event"] === "approval") return 'an approval (`"event": "approval"`)';
  if (line["event"] === "revocation") return 'a revocation (`"event": "revocation"`)';
  return undefined;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

function parsesAsJson(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}
