import { createReadStream } from "node:fs";
import type { ErrorObject, ValidateFunction } from "ajv";
// Precompiled from recordingLineSchemaAsValidated (see recordingSchema.ts) by scripts/generate-validators.js.
import { validate as validateLineCode } from "./recordingLineValidator.generated.js";
import type { Effect } from "../runtime/decision.js";

/** What a recording line says should happen. */
export interface Expectation {
  readonly decision: Effect;
  readonly rules?: readonly string[];
  readonly reason?: string;
}

/** One line of a recording: a request to replay, or why it cannot be one. */
export type RecordingLine =
  | { readonly ok: true; readonly line: number; readonly text: string; readonly request: Record<string, unknown>; readonly expect?: Expectation }
  | { readonly ok: false; readonly line: number; readonly text: string; readonly error: string; /** Its text was not kept (too long to hold). */ readonly dropped?: true };

const validateLine = validateLineCode as unknown as ValidateFunction;

function describeAjvError(error: ErrorObject): string {
  const field = error.instancePath ? `\`${error.instancePath.slice(1).replace(/\//g, ".")}\`` : "the line";
  if (error.keyword === "required") return `the line has no \`${(error.params as { missingProperty: string }).missingProperty}\``;
  if (error.keyword === "enum") return `${field} must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
  return `${field} ${error.message ?? "is invalid"}`;
}

/** The first item a list of strings (`rules`, which the validator leaves to this) has twice: without allocating for short lists, with a set for long ones. */
function repeatedItem(items: readonly string[] | undefined): string | undefined {
  if (items === undefined) return undefined;
  if (items.length > 16) {
    const seen = new Set<string>();
    for (const item of items) {
      if (seen.has(item)) return item;
      seen.add(item);
    }
    return undefined;
  }
  for (let i = 1; i < items.length; i++) for (let j = 0; j < i; j++) if (items[i] === items[j]) return items[i];
  return undefined;
}

/**
 * Lines longer than this are reported and skipped, not held: a recording line is a request of a
 * few kilobytes, and a runaway one must not take the replay's memory.
 */
export const MAX_LINE_CHARS = 64 * 1024 * 1024;

/** Parses and validates one line of JSON Lines text. */
export function parseRecordingLine(text: string, line: number): RecordingLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { ok: false, line, text, error: `not JSON: ${(error as Error).message}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    return { ok: false, line, text, error: `a recording line must be a JSON object, not ${Array.isArray(value) ? "an array" : value === null ? "null" : typeof value}` };
  }
  if (!validateLine(value)) return { ok: false, line, text, error: describeAjvError(validateLine.errors![0]!) };
  const request = value as Record<string, unknown>;
  const repeated = repeatedItem(request["rules"] as string[] | undefined);
  if (repeated !== undefined) return { ok: false, line, text, error: `\`rules\` lists ${JSON.stringify(repeated)} twice (it is a set)` };
  if (request["decision"] === undefined) return { ok: true, line, text, request };
  const expect: { decision: Effect; rules?: string[]; reason?: string } = { decision: request["decision"] as Effect };
  if (request["rules"] !== undefined) expect.rules = request["rules"] as string[];
  if (request["reason"] !== undefined) expect.reason = request["reason"] as string;
  return { ok: true, line, text, request, expect };
}

/**
 * Streams a recording in batches of parsed lines, one batch per chunk read (about a megabyte):
 * memory stays bounded however large the file is, and the per-line cost is a split and a parse,
 * not an await. Blank lines are skipped; a byte order mark at the start is dropped.
 */
export async function* readRecordingBatches(path: string, keep?: (line: string) => boolean, maxLineChars = MAX_LINE_CHARS): AsyncGenerator<RecordingLine[]> {
  let number = 0;
  let rest = "";
  // Inside a line too long to hold: its text is dropped up to its end, and it is reported.
  let skipping = false;
  for await (const chunk of createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 })) {
    let text = rest + (chunk as string);
    const batch: RecordingLine[] = [];
    if (skipping) {
      const end = text.indexOf("\n");
      if (end < 0) {
        rest = "";
        continue;
      }
      skipping = false;
      text = text.slice(end + 1);
    }
    let start = 0;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      number++;
      const line = lineText(text, start, end, number);
      // `keep` lets a replay worker skip, unparsed, the lines of other workers' sessions.
      if (!isBlank(line) && (keep === undefined || keep(line))) batch.push(parseRecordingLine(line, number));
      start = end + 1;
    }
    rest = text.slice(start);
    if (rest.length > maxLineChars) {
      number++;
      batch.push({ ok: false, line: number, text: "", error: `the line is longer than ${maxLineChars >= 1_048_576 ? `${maxLineChars / 1_048_576} M` : maxLineChars} characters: not read`, dropped: true });
      rest = "";
      skipping = true;
    }
    if (batch.length > 0) yield batch;
  }
  if (rest !== "" && !skipping) {
    number++;
    const line = lineText(rest, 0, rest.length, number);
    if (!isBlank(line) && (keep === undefined || keep(line))) yield [parseRecordingLine(line, number)];
  }
}

/** Whether a line is empty or only whitespace (a JSON line starts with `{`: one look usually settles it). */
function isBlank(line: string): boolean {
  return line.charCodeAt(0) !== 123 /* { */ && line.trim() === "";
}

function lineText(text: string, start: number, end: number, number: number): string {
  if (end > start && text.charCodeAt(end - 1) === 13) end--; // CRLF
  if (number === 1 && text.charCodeAt(start) === 0xfeff) start++; // byte order mark
  return text.slice(start, end);
}

/** Streams a recording line by line (see `readRecordingBatches`). */
export async function* readRecording(path: string): AsyncGenerator<RecordingLine> {
  for await (const batch of readRecordingBatches(path)) yield* batch;
}
