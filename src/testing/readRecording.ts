import { createReadStream } from "node:fs";
import { createInterface } from "node:readline";
import { Ajv } from "ajv";
import { recordingLineSchema } from "./recordingSchema.js";
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
  | { readonly ok: false; readonly line: number; readonly text: string; readonly error: string };

let validateLine: ReturnType<Ajv["compile"]> | undefined;

function describeAjvError(error: NonNullable<ReturnType<Ajv["compile"]>["errors"]>[number]): string {
  const field = error.instancePath ? `\`${error.instancePath.slice(1).replace(/\//g, ".")}\`` : "the line";
  if (error.keyword === "required") return `the line has no \`${(error.params as { missingProperty: string }).missingProperty}\``;
  if (error.keyword === "enum") return `${field} must be one of ${(error.params as { allowedValues: unknown[] }).allowedValues.map((v) => JSON.stringify(v)).join(", ")}`;
  return `${field} ${error.message ?? "is invalid"}`;
}

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
  validateLine ??= new Ajv({ allErrors: false, strict: false }).compile(recordingLineSchema);
  if (!validateLine(value)) return { ok: false, line, text, error: describeAjvError(validateLine.errors![0]!) };
  const request = value as Record<string, unknown>;
  if (request["decision"] === undefined) return { ok: true, line, text, request };
  const expect: { decision: Effect; rules?: string[]; reason?: string } = { decision: request["decision"] as Effect };
  if (request["rules"] !== undefined) expect.rules = request["rules"] as string[];
  if (request["reason"] !== undefined) expect.reason = request["reason"] as string;
  return { ok: true, line, text, request, expect };
}

/** Streams a recording line by line: memory stays bounded however large the file is. Blank lines are skipped. */
export async function* readRecording(path: string): AsyncGenerator<RecordingLine> {
  const lines = createInterface({ input: createReadStream(path, { encoding: "utf8", highWaterMark: 1 << 20 }), crlfDelay: Number.POSITIVE_INFINITY });
  let number = 0;
  for await (const line of lines) {
    number++;
    // Editors on Windows may start the file with a byte order mark; it is not part of the JSON.
    const text = number === 1 && line.charCodeAt(0) === 0xfeff ? line.slice(1) : line;
    if (text.trim() === "") continue;
    yield parseRecordingLine(text, number);
  }
}
