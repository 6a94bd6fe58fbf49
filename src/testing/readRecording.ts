import { isAscii, isUtf8 } from "node:buffer";
import { createReadStream } from "node:fs";
import type { ErrorObject, ValidateFunction } from "ajv";
// Precompiled from recordingLineSchemaAsValidated (see recordingSchema.ts) by scripts/generate-validators.js.
import { validate as validateLineCode } from "./recordingLineValidator.generated.js";
import type { Effect, Grant } from "../runtime/decision.js";
import { brokenLinkText, describeFsError, notUtf8NameText } from "../source/loadSources.js";
import { APPEND_AS_UTF8, appendedUtf16Start, binaryRefusal, gzipRefusal, looksLikeGzip, looksLikeUtf16, nulByteAt, utf16Refusal } from "../source/textEncoding.js";
import { withinOneEdit } from "../diagnostics/suggest.js";
import { jsonMistake } from "../diagnostics/jsonMistake.js";
import { ATTEMPT_FIELDS, recordingLineSchema, REQUEST_FIELD_TYPES } from "./recordingSchema.js";
import { describeValue, parseTime, timeMistakeOf } from "../runtime/schema.js";
import { MAX_SESSION_ID_LENGTH } from "../runtime/session.js";
import { SeveralLineValues, TRAILING_COMMA_HINT } from "./severalLineValues.js";
import { ValueSet } from "../runtime/longText.js";
import { STANDARD_INPUT } from "./recordingSource.js";
import { shownText } from "./shortRequest.js";
import { INPUT_CODES, type InputCode } from "./inputCodes.js";

/** What a recording line says should happen. */
export interface Expectation {
  readonly decision: Effect;
  readonly rules?: readonly string[];
  readonly reason?: string;
  /** The credentials the decision grants, compared as a set of scope and lifetime pairs. */
  readonly grants?: readonly Grant[];
  /** The credentials a person's approval mints (an ask's `grantsOnApproval`; none for an allow or a deny), compared as `grants` is. */
  readonly grantsOnApproval?: readonly Grant[];
  /** Whether the session is revoked after the decision. */
  readonly revoked?: boolean;
}

/**
 * What an approval line (`"event": "approval"`) says `Engine.approved` returned when the
 * person's approval came: true when the call went ahead.
 */
export interface ApprovalExpectation {
  readonly approved: boolean;
}

/** What `Engine.revoke` returns as its `outcome`, which a revocation line may record. */
export const REVOKE_OUTCOMES = ["revoked", "already-revoked", "refused"] as const;
export type RevokeOutcome = (typeof REVOKE_OUTCOMES)[number];

/**
 * What a revocation line (`"event": "revocation"`) says `Engine.revoke` returned when the
 * operator revoked the session: its `outcome`, when the log recorded it (without it the line is
 * told to the engine and compared with nothing).
 */
export interface RevocationExpectation {
  readonly outcome?: RevokeOutcome;
}

/**
 * A line another thread decides (a parallel replay's share of the sessions), passed over
 * unparsed: only what moves the engine's clock (`Engine.observe`), its session, tool and time as
 * a scan of the raw text reads them.
 */
export interface PassedOverLine {
  readonly ok: "elsewhere";
  readonly line: number;
  readonly attempt: Record<string, unknown>;
}

/**
 * One line of a recording: a request to replay (an attempt to decide, with `approval` a
 * person's approval to tell the engine of, or with `revocation` an operator's revocation of a
 * session), or why it cannot be one. An error about a JSON
 * value written over several lines is one entry, at its first line, with its last as `endLine`.
 */
export type RecordingLine =
  | { readonly ok: true; readonly line: number; readonly text: string; readonly request: Record<string, unknown>; readonly expect?: Expectation; readonly approval?: undefined; readonly revocation?: undefined }
  | { readonly ok: true; readonly line: number; readonly text: string; readonly request: Record<string, unknown>; readonly expect?: undefined; readonly approval: ApprovalExpectation; readonly revocation?: undefined }
  | { readonly ok: true; readonly line: number; readonly text: string; readonly request: Record<string, unknown>; readonly expect?: undefined; readonly approval?: undefined; readonly revocation: RevocationExpectation }
  | { readonly ok: false; readonly line: number; readonly text: string; readonly error: string; readonly code: InputCode; readonly endLine?: number };

const validateLine = validateLineCode as unknown as ValidateFunction;

/**
 * What is wrong with a line the schema refuses, and where the fix is plain, what to write
 * instead: the lower-case effect for `"Allow"`, a quoted session id, an RFC 3339 time for an
 * epoch number.
 */
function describeAjvError(error: ErrorObject, line: Record<string, unknown>): string {
  const message = describeSchemaError(error, line);
  // A deny without `rules`, refused for a request field (its type, an empty or missing `tool`):
  // a decision log's refusal replays when it says, as the engine answered, that no rule decided it.
  const field = error.keyword === "required" ? (error.params as { missingProperty: string }).missingProperty : error.instancePath.slice(1);
  const requestField = ["type", "minLength", "required"].includes(error.keyword) && Object.hasOwn(REQUEST_FIELD_TYPES, field);
  return requestField && line["decision"] === "deny" && line["rules"] === undefined ? `${message} (a line that records the engine refusing such a request replays with \`"rules": []\` beside its \`"decision": "deny"\`)` : message;
}

function describeSchemaError(error: ErrorObject, line: Record<string, unknown>): string {
  if (/^\/(grants|grantsOnApproval)\//.test(error.instancePath)) return describeGrantError(error, line);
  const path = error.instancePath.slice(1).split("/");
  const field = error.instancePath ? `\`${path.join(".")}\`` : "the line";
  const value = path.length === 1 ? line[path[0]!] : undefined;
  if (error.keyword === "required") return misspelledEventKey(line) ?? `the line has no \`${(error.params as { missingProperty: string }).missingProperty}\``;
  if (error.keyword === "dependencies") {
    const { property } = error.params as { property: string };
    // `decison` beside `rules`: the misspelling is the mistake to name.
    const misspelled = misspelledExpectation(line);
    if (misspelled !== undefined) return misspelled;
    return `the line has \`${property}\` but no \`decision\`, so nothing on it would be checked: add the expected \`"decision"\` ("allow", "ask" or "deny")`;
  }
  if (error.keyword === "enum") {
    const allowed = (error.params as { allowedValues: unknown[] }).allowedValues;
    const meant = typeof value === "string" ? allowed.find((v) => typeof v === "string" && v === value.trim().toLowerCase()) : undefined;
    return `${field} must be one of ${allowed.map((v) => JSON.stringify(v)).join(", ")}${meant !== undefined ? `: did you mean ${JSON.stringify(meant)}?` : ""}`;
  }
  if (error.keyword === "type" && error.instancePath === "/time") {
    const mistake = timeMistakeOf(value);
    if (mistake !== undefined) return `\`time\` must be an RFC 3339 time in a string, not a number (${mistake})`;
    return `\`time\` must be an RFC 3339 time in a string, such as "2026-11-30T09:15:00Z"${typeof value === "number" ? " (a number is not read as a time)" : ""}`;
  }
  if (error.keyword === "type" && (typeof value === "number" || typeof value === "boolean") && (error.params as { type?: unknown }).type === "string") {
    return `${field} must be a string: write it in quotes, ${JSON.stringify(String(value))}`;
  }
  if (error.keyword === "type" && path.length === 1) {
    const types = ([] as unknown[]).concat((error.params as { type?: unknown }).type).map((type) => TYPE_WORDS[String(type)] ?? String(type));
    return `${field} must be ${types.join(" or ")}, not ${describeValue(value)}`;
  }
  return `${field} ${error.message ?? "is invalid"}`;
}

/**
 * What is wrong with one of the expected `grants` or `grantsOnApproval` (the list itself is a
 * plain field), at `grants[0]` as a reader counts it, with the shape a grant has: its value is
 * mostly a credential pasted from somewhere else, in another shape.
 */
function describeGrantError(error: ErrorObject, line: Record<string, unknown>): string {
  const [, list, index, member] = error.instancePath.split("/") as [string, string, string, string | undefined];
  const grant = (line[list] as unknown[])[Number(index)];
  const value = member === undefined ? grant : (grant as Record<string, unknown>)[member];
  const at = `\`${list}[${index}]${member === undefined ? "" : `.${member}`}\``;
  const params = error.params as { missingProperty?: string; additionalProperty?: string; type?: string; limit?: number };
  const problem =
    error.keyword === "required" ? `${at} has no \`${params.missingProperty}\``
    : error.keyword === "additionalProperties" ? `${at} has \`${shownText(String(params.additionalProperty))}\`, which a grant does not`
    : error.keyword === "minimum" ? `${at} must be at least ${params.limit}, not ${describeValue(value)}`
    : error.keyword === "type" ? `${at} must be ${TYPE_WORDS[String(params.type)] ?? String(params.type)}, not ${describeValue(value)}`
    : `${at} ${error.message ?? "is invalid"}`;
  return `${problem} (a grant is written as the decision lists it: {"scope": "crm:read", "ttlSeconds": 300})`;
}

/** JSON Schema's type names, as a person says them. */
const TYPE_WORDS: Readonly<Record<string, string>> = { object: "an object", string: "a string", null: "null", array: "a list", boolean: "true or false", number: "a number", integer: "a whole number" };

/** The first item a list of strings (`rules`, which the validator leaves to this) has twice: without allocating for short lists, with a set for long ones. */
function repeatedItem(items: readonly string[] | undefined): string | undefined {
  if (items === undefined) return undefined;
  if (items.length > 16) {
    // (A ValueSet: long items would collide in a Set, longText.ts.)
    const seen = new ValueSet();
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
export const MAX_LINE_BYTES = 64 * 1024 * 1024;

/** The fields a line may have: the recording's own, and the rest of a decision an enforcement point logs with it. */
const KNOWN_FIELDS: ReadonlySet<string> = new Set([...Object.keys(recordingLineSchema.properties), "reasons", "grantingRules", "errors", "locations"]);
/** What a line may expect of its decision: every field of it compared (an approval line has none of them). */
const EXPECTATION_FIELDS = ["decision", "rules", "reason", "grants", "grantsOnApproval", "revoked"] as const;

/**
 * Why a key one edit away from an expectation's field (`decison`, `rule`, `grant`, `revoke`,
 * `grantOnApproval`, in any case), on a line without that field, is refused: the expectation it
 * was meant to be would silently not be checked, and a green run would be false comfort. So is one away from `event` (`Event`) on a
 * line that could be an approval (one that lacks `decision`, `rules` or `reason`): an approval
 * line read as an attempt would be decided, counted, and with `"approved": true` approved at
 * once. Undefined when there is none.
 */
function misspelledExpectation(request: Record<string, unknown>): string | undefined {
  const couldBeApproval = request["event"] === undefined && (request["decision"] === undefined || request["rules"] === undefined || request["reason"] === undefined);
  for (const key of Object.keys(request)) {
    if (KNOWN_FIELDS.has(key)) continue;
    const lower = key.toLowerCase();
    if (couldBeApproval && withinOneEdit(lower, "event")) return `\`${key}\` looks like a misspelled \`event\`, which would replay a person's approval as an attempt: spell it \`event\` (\`"event": "approval"\` marks an approval line; a field of your own must not be one letter away from it)`;
    const meant = EXPECTATION_FIELDS.find((field) => request[field] === undefined && withinOneEdit(lower, field.toLowerCase()));
    if (meant !== undefined) return `\`${key}\` looks like a misspelled \`${meant}\`, which would leave this line's expectation unchecked: spell it \`${meant}\` (a field of your own must not be one letter away from \`decision\`, \`rules\`, \`reason\`, \`grants\`, \`grantsOnApproval\` or \`revoked\`)`;
  }
  return undefined;
}

/**
 * Why a line that lacks a field an attempt needs (a revocation line has no `tool`) is refused
 * when a key one edit away from `event` holds the name of an event (`"Event": "revocation"`):
 * the misspelling, not the missing field, is the mistake to name. Undefined otherwise.
 */
function misspelledEventKey(line: Record<string, unknown>): string | undefined {
  if (line["event"] !== undefined) return undefined;
  const key = Object.keys(line).find((name) => name !== "event" && withinOneEdit(name.toLowerCase(), "event") && (EVENTS as readonly unknown[]).includes(line[name]));
  return key === undefined ? undefined : `\`${shownText(key)}\` looks like a misspelled \`event\`: spell it \`event\` (\`"event": ${JSON.stringify(line[key])}\` marks ${line[key] === "approval" ? "an approval" : "a revocation"} line; a field of your own must not be one letter away from it)`;
}

/** The marker of an approval line: `"event": "approval"`. */
export function isApprovalLine(line: Record<string, unknown>): boolean {
  return line["event"] === "approval";
}

/** The marker of a revocation line: `"event": "revocation"`. */
export function isRevocationLine(line: Record<string, unknown>): boolean {
  return line["event"] === "revocation";
}

/** The values `event` takes: each marks a line that is no attempt. */
const EVENTS = ["approval", "revocation"] as const;

/**
 * What is wrong with a line's `event` (absent on an attempt, "approval" on an approval line,
 * "revocation" on a revocation line), and with an approval or revocation line (see
 * `approvalError`, `revocationError`). Undefined for a well-formed approval or revocation line,
 * and for any line without `event`.
 */
export function eventLineError(line: Record<string, unknown>): string | undefined {
  const event = line["event"];
  if (event === undefined) return undefined;
  if (event === "approval") return approvalError(line);
  if (event === "revocation") return revocationError(line);
  const meant = typeof event === "string" ? EVENTS.find((name) => withinOneEdit(event.trim().toLowerCase(), name)) : undefined;
  return `\`event\` must be "approval" or "revocation"${meant !== undefined ? `: did you mean "${meant}"?` : ""} (it marks a person's approval or an operator's revocation; an attempt has no \`event\`, and a field of your own needs another name)`;
}

/** `\`decision\` and \`rules\``, `\`a\`, \`b\`, \`c\``: fields a line names, as a message lists them. */
function fieldList(fields: readonly string[]): string {
  return fields.map((field) => `\`${field}\``).join(fields.length === 2 ? " and " : ", ");
}

/**
 * What is wrong with an approval line that its shape alone shows: an expected decision (an
 * approval decides nothing: it is a person's answer to an earlier attempt), or no `approved`
 * (what `Engine.approved` returned, which is what the replay compares). The rest of it is
 * checked as an attempt's request is, by the schema.
 */
function approvalError(line: Record<string, unknown>): string | undefined {
  const decided = EXPECTATION_FIELDS.filter((field) => line[field] !== undefined);
  if (decided.length > 0) {
    return `an approval line (\`"event": "approval"\`) cannot have ${fieldList(decided)}: an approval decides nothing, it tells the engine that a person approved a call it answered ask for; say what \`engine.approved\` returned with \`"approved"\` (the attempt itself, with its decision, is a line of its own, without \`event\`)`;
  }
  if (line["approved"] === undefined) return `an approval line (\`"event": "approval"\`) needs \`"approved"\`: what \`engine.approved(request)\` returned when the approval came (true when the call went ahead), which the replay compares`;
  return undefined;
}

/**
 * The fields a revocation line cannot have: the expectations of a decision but `reason` (on a
 * revocation line the operator's reason) and an approval's `approved`. Each would go unchecked:
 * a revocation decides nothing and approves nothing.
 */
const NOT_ON_A_REVOCATION = ["decision", "rules", "grants", "grantsOnApproval", "revoked", "approved"] as const;

/**
 * What is wrong with a revocation line (`"event": "revocation"`, an operator's
 * `engine.revoke(session, reason)`), checked here whole (it has no tool, so the attempt's schema
 * does not fit it): `session`, a session id as `engine.revoke` takes one; `reason`, a string;
 * `time`, when given, an RFC 3339 time; `outcome`, when given, what `engine.revoke` returned; no
 * attempt's field (`ATTEMPT_FIELDS`), no field of a decision's expectation, nor `approved`, nor a
 * key one edit away from `outcome`.
 * Other fields (a log's own: who revoked, a ticket) are ignored, as on an approval line.
 */
function revocationError(line: Record<string, unknown>): string | undefined {
  const marked = 'a revocation line (`"event": "revocation"`)';
  // First: a line with an attempt's fields is an attempt whose request carried an `event` (and a
  // `reason`) of its own, which an agent controls; read as a revocation, its agent would revoke
  // its own session where production decided the attempt.
  const attempted = ATTEMPT_FIELDS.filter((field) => line[field] !== undefined);
  if (attempted.length > 0) {
    return `${marked} names no tool: is this an attempt with an \`event\` field of its own? As a revocation it cannot have ${fieldList(attempted)} (an operator's \`engine.revoke(session, reason)\` names only the session and the reason); log an attempt's own request fields, one by one, never \`event\` from what an agent sent`;
  }
  const expected = NOT_ON_A_REVOCATION.filter((field) => line[field] !== undefined);
  if (expected.length > 0) {
    return `${marked} cannot have ${fieldList(expected)}: a revocation decides nothing, it tells the engine that an operator revoked the session (\`engine.revoke(session, reason)\`); say what that returned with \`"outcome"\`, and let the session's later lines expect their denial`;
  }
  const session = line["session"];
  if (session === undefined) return `${marked} needs \`"session"\`: the session id passed to \`engine.revoke(session, reason)\``;
  if (!isSessionId(session)) return `\`session\` must be a session id (a non-empty string of at most ${MAX_SESSION_ID_LENGTH.toLocaleString("en-US")} characters), not ${typeof session === "string" ? (session === "" ? "an empty string" : `one of ${session.length.toLocaleString("en-US")}`) : describeValue(session)}`;
  const reason = line["reason"];
  if (reason === undefined) return `${marked} needs \`"reason"\`: the reason passed to \`engine.revoke(session, reason)\`, which the session's later denials quote`;
  if (typeof reason !== "string") return `\`reason\` must be a string, not ${describeValue(reason)}`;
  const time = line["time"];
  if (time !== undefined) {
    if (typeof time !== "string") {
      const mistake = timeMistakeOf(time);
      return `\`time\` must be an RFC 3339 time in a string, not ${mistake !== undefined ? `a number (${mistake})` : describeValue(time)}`;
    }
    if (Number.isNaN(parseTime(time))) return `\`time\` must be an RFC 3339 time, such as "2026-11-30T09:15:00Z", not ${JSON.stringify(shownText(time))}`;
  }
  const outcome = line["outcome"];
  if (outcome !== undefined && !(REVOKE_OUTCOMES as readonly unknown[]).includes(outcome)) {
    const meant = typeof outcome === "string" ? REVOKE_OUTCOMES.find((name) => name === outcome.trim().toLowerCase()) : undefined;
    return `\`outcome\` must be one of ${REVOKE_OUTCOMES.map((name) => JSON.stringify(name)).join(", ")}${meant !== undefined ? `: did you mean "${meant}"?` : ""}`;
  }
  if (outcome === undefined) {
    const misspelled = Object.keys(line).find((key) => key !== "outcome" && withinOneEdit(key.toLowerCase(), "outcome"));
    if (misspelled !== undefined) return `\`${shownText(misspelled)}\` looks like a misspelled \`outcome\`, which would leave what \`engine.revoke\` returned unchecked: spell it \`outcome\` (a field of your own must not be one letter away from it)`;
  }
  return undefined;
}

/**
 * Said of a line that looks like a piece of a JSON document written over several lines but is
 * not within one that opens and closes (`SeveralLineValues` reports one that does as one error).
 */
const SEVERAL_LINES_HINT = "(part of an object written over several lines? A recording holds each request on one line: `jq -c . requests.json` writes them so)";

/**
 * When every error of a recording that replayed no line is about a JSON document written over
 * several lines (one such document, or a line that looks like a piece of one), and the first
 * line opens that document: one error for the file, instead of one for a pretty-printed
 * `requests.json` that names its lines.
 */
export function wholeDocumentError(errors: readonly { readonly line: number | null; readonly endLine?: number; readonly message: string }[]): string | undefined {
  if (errors[0]?.line !== 1 || (errors.length < 2 && errors[0].endLine === undefined)) return undefined;
  if (!errors.every((e) => e.line !== null && (e.endLine !== undefined || e.message.endsWith(SEVERAL_LINES_HINT)))) return undefined;
  return "it is one JSON document written over several lines, not JSON Lines: a recording holds each request on a line of its own (`jq -c '.[]' requests.json` writes an array of requests so, `jq -c . requests.json` a single one)";
}

/**
 * What a line that is not JSON most likely is, when its shape says so: a comment, a piece of a
 * JSON object written over several lines, a trailing comma. Empty when it says nothing.
 */
function notJsonHint(text: string): string {
  const trimmed = text.trim();
  if (trimmed.startsWith("//") || trimmed.startsWith("#")) return " (JSON Lines has no comments: remove the line)";
  if (/^[{[]$|^[}\]],?$|^"[^"]*"\s*:/.test(trimmed)) return ` ${SEVERAL_LINES_HINT}`;
  if (/,\s*[}\]]/.test(trimmed)) return ` ${TRAILING_COMMA_HINT}`;
  return "";
}

/**
 * Whether a line is as a decision log writes a request the engine refused before any rule ran
 * (`deny` with `rules: []`). An enforcement point logs what its agents sent, so such a line may
 * have request fields of any type (`"args": "x"`, `"time": 1764491700`, `"tool": null`, no
 * `tool` at all, a `session` that is missing, empty, a number or null): it replays as it was
 * logged, the engine refusing it again and the case comparing that, rather than failing the
 * replay as malformed. (Without a readable session id the engine refuses it outside any session,
 * as it did in production.) A line written by hand with such a mistake and another expectation is
 * still refused, with the hint.
 */
function loggedRefusal(line: Record<string, unknown>): boolean {
  return line["decision"] === "deny" && Array.isArray(line["rules"]) && line["rules"].length === 0;
}

/** What the schema refuses in a line besides its request fields, or undefined. */
function errorBesideRequestFields(line: Record<string, unknown>): ErrorObject | undefined {
  const rest: Record<string, unknown> = { ...line };
  for (const field of Object.keys(REQUEST_FIELD_TYPES)) delete rest[field];
  // (Names stand in for `session` and `tool`, which the validator requires of every other line.)
  rest["session"] = "session";
  rest["tool"] = "tool";
  return validateLine(rest) ? undefined : validateLine.errors![0]!;
}

/** A revocation line's expectation when it records no `outcome` (shared: most logs write none). */
const NO_OUTCOME: RevocationExpectation = Object.freeze({});

/** Parses and validates one line of JSON Lines text. */
export function parseRecordingLine(text: string, line: number): RecordingLine {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    return { ok: false, line, text, code: INPUT_CODES.notJson, error: `not JSON ${jsonMistake(text)}${notJsonHint(text)}` };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    const arrayOfRequests = Array.isArray(value) && value.length > 0 && value.every((item) => item !== null && typeof item === "object" && !Array.isArray(item));
    return { ok: false, line, text, code: INPUT_CODES.notARequest, error: `a recording line must be a JSON object, not ${Array.isArray(value) ? "an array" : value === null ? "null" : typeof value}${arrayOfRequests ? ` (a list of requests? A recording holds each request on a line of its own: \`jq -c '.[]' requests.json\` writes them so)` : ""}` };
  }
  const eventError = eventLineError(value as Record<string, unknown>);
  if (eventError !== undefined) return { ok: false, line, text, code: INPUT_CODES.notARequest, error: eventError };
  // A revocation line is checked whole by eventLineError: it names no tool, as the schema's attempt does.
  if (isRevocationLine(value as Record<string, unknown>)) {
    const request = value as Record<string, unknown>;
    const outcome = request["outcome"] as RevokeOutcome | undefined;
    return { ok: true, line, text, request, revocation: outcome === undefined ? NO_OUTCOME : { outcome } };
  }
  if (!validateLine(value)) {
    const fields = value as Record<string, unknown>;
    // A logged refusal's request fields may have any type: what else it has must still fit.
    const error = loggedRefusal(fields) ? errorBesideRequestFields(fields) : validateLine.errors![0]!;
    if (error !== undefined) return { ok: false, line, text, code: INPUT_CODES.notARequest, error: describeAjvError(error, fields) };
  }
  const request = value as Record<string, unknown>;
  // (Its `approved` is a boolean, the schema saw to that; it has no expectation to misspell.)
  if (isApprovalLine(request)) return { ok: true, line, text, request, approval: { approved: request["approved"] as boolean } };
  const repeated = repeatedItem(request["rules"] as string[] | undefined);
  if (repeated !== undefined) return { ok: false, line, text, code: INPUT_CODES.notARequest, error: `\`rules\` lists ${JSON.stringify(shownText(repeated))} twice (it is a set)` };
  // Only a line that lacks part of an expectation can hold it under a misspelled key.
  if (request["decision"] === undefined || request["rules"] === undefined || request["reason"] === undefined || request["grants"] === undefined || request["grantsOnApproval"] === undefined || request["revoked"] === undefined) {
    const misspelled = misspelledExpectation(request);
    if (misspelled !== undefined) return { ok: false, line, text, code: INPUT_CODES.notARequest, error: misspelled };
  }
  // (The schema refuses the rest of an expectation without `decision`: see describeAjvError.)
  if (request["decision"] === undefined) return { ok: true, line, text, request };
  const expect: { decision: Effect; rules?: string[]; reason?: string; grants?: Grant[]; grantsOnApproval?: Grant[]; revoked?: boolean } = { decision: request["decision"] as Effect };
  if (request["rules"] !== undefined) expect.rules = request["rules"] as string[];
  if (request["reason"] !== undefined) expect.reason = request["reason"] as string;
  // (A log that writes `"grants": null` for a decision without grants expects nothing of them.)
  if (request["grants"] !== undefined && request["grants"] !== null) expect.grants = request["grants"] as Grant[];
  if (request["grantsOnApproval"] !== undefined && request["grantsOnApproval"] !== null) expect.grantsOnApproval = request["grantsOnApproval"] as Grant[];
  if (request["revoked"] !== undefined) expect.revoked = request["revoked"] as boolean;
  return { ok: true, line, text, request, expect };
}

/**
 * Streams a recording in batches of parsed lines, one batch per chunk read (about a megabyte):
 * memory stays bounded however large the file is, and the per-line cost is a split and a parse,
 * not an await. Blank lines are skipped; a byte order mark starting a line is dropped. Each chunk
 * is cut after its last newline and decoded strictly as UTF-8 (a newline byte never falls
 * inside a character), so a line with bytes that are not UTF-8 is reported, never read as
 * replacement characters (two different session ids must not become one). A JSON object
 * written over several lines, in one chunk or across several, is one error (`SeveralLineValues`).
 */
export function readRecordingBatches(path: string, elsewhere?: undefined, limits?: ReadLimits): AsyncGenerator<RecordingLine[]>;
/**
 * With `elsewhere`, a line it answers for (with the attempt's outline) is passed over unparsed,
 * as a `PassedOverLine`: a replay thread's way to skip other threads' sessions.
 */
export function readRecordingBatches(path: string, elsewhere: ((line: string) => Record<string, unknown> | undefined) | undefined, limits?: ReadLimits): AsyncGenerator<(RecordingLine | PassedOverLine)[]>;
export async function* readRecordingBatches(path: string, elsewhere?: (line: string) => Record<string, unknown> | undefined, limits: ReadLimits = {}): AsyncGenerator<(RecordingLine | PassedOverLine)[]> {
  const maxLineBytes = limits.maxLineBytes ?? MAX_LINE_BYTES;
  let number = 0;
  // The start of a line whose end has not been read yet.
  const pending = new UnfinishedLine();
  // Inside a line too long to hold: its bytes are dropped up to its end, and it is reported.
  let skipping = false;
  // `elsewhere` lets a replay thread pass over, unparsed, the lines of other threads' sessions
  // (after the lines of a value written over several lines have been told apart, the same on every thread).
  const values = new SeveralLineValues((line, at) => {
    const attempt = elsewhere?.(line);
    return attempt === undefined ? parseRecordingLine(line, at) : { ok: "elsewhere", line: at, attempt };
  });
  const linesOf = (bytes: Buffer, batch: (RecordingLine | PassedOverLine)[]): void => {
    const decoded = decodeLines(bytes);
    let start = 0;
    const text = decoded.text;
    for (let end = text.indexOf("\n"); end >= 0; end = text.indexOf("\n", start)) {
      number++;
      const line = lineText(text, start, end);
      start = end + 1;
      if (decoded.invalid?.has(number)) {
        values.settle(batch);
        batch.push({ ok: false, line: number, text: line, code: INPUT_CODES.notJson, error: NOT_UTF8 });
        continue;
      }
      values.take(line, number, batch);
    }
  };
  /**
   * Decodes whole lines; on bytes that are not UTF-8, line by line, noting the bad ones.
   * (`isUtf8` checks a megabyte in well under a millisecond, and `toString` keeps ASCII text in
   * V8's compact strings, which JSON.parse reads fastest. Most recordings are ASCII throughout:
   * read as Latin-1, which for ASCII bytes is the same text, a chunk decodes about seven times
   * faster than through the UTF-8 decoder.)
   */
  const decodeLines = (bytes: Buffer): { text: string; invalid?: Set<number> } => {
    if (isAscii(bytes)) return { text: bytes.toString("latin1") };
    if (isUtf8(bytes)) return { text: bytes.toString("utf8") };
    const invalid = new Set<number>();
    const parts: string[] = [];
    let from = 0;
    for (let index = 0; from < bytes.length; index++) {
      let to = bytes.indexOf(10, from);
      to = to < 0 ? bytes.length : to + 1;
      const piece = bytes.subarray(from, to);
      if (!isUtf8(piece)) invalid.add(number + index + 1);
      parts.push(piece.toString("utf8"));
      from = to;
    }
    return { text: parts.join(""), invalid };
  };
  const binary = new BinaryRun();
  let first = true;
  let offset = 0;
  const pieceBytes = limits.pieceBytes ?? PIECE_BYTES;
  for await (const read of createReadStream(path, { highWaterMark: limits.chunkBytes ?? 1 << 20 })) for (const chunk of piecesOf(read as Buffer, pieceBytes)) {
    let bytes = chunk as Buffer;
    if (first && looksLikeUtf16(bytes)) throw new RecordingEncodingError();
    if (first && looksLikeGzip(bytes)) throw new CompressedRecordingError();
    first = false;
    const chunkOffset = offset;
    offset += bytes.length;
    const batch: (RecordingLine | PassedOverLine)[] = [];
    if (skipping) {
      const end = bytes.indexOf(10);
      if (end < 0) continue;
      skipping = false;
      bytes = bytes.subarray(end + 1);
    }
    // JSON text never holds a NUL byte (a string escapes it). A file that starts with one is
    // binary: one error for the file. After good lines it is most likely the zeros a crash
    // leaves at the end of a log being appended to: the lines before it replay, and the line
    // that holds it is the one error; nothing after it is read.
    const nul = bytes.indexOf(0);
    if (nul >= 0) {
      const lineStart = bytes.lastIndexOf(10, nul) + 1;
      if (lineStart > 0) linesOf(pending.take(bytes.subarray(0, lineStart)), batch);
      values.settle(batch);
      const passed = binary.pass(batch);
      if (!binary.stopped) {
        const fromLineStart = lineStart > 0 || pending.length === 0;
        const held = pending.length;
        const line = fromLineStart ? bytes.subarray(lineStart) : pending.take(bytes);
        // UTF-16 from the line's start, or within it after a last UTF-8 line without a line end.
        const utf16 = appendedUtf16Start(line, fromLineStart ? nul - lineStart : held + nul, false);
        // (A file's only line saved without a line end, as Notepad saves it, and UTF-16 appended
        // to it, as PowerShell 5.1's `>>` appends: named as such, not as a binary file.)
        if (!binary.readText && !(utf16 !== undefined && utf16 > 0)) throw new BinaryRecordingError(chunkOffset + (chunk as Buffer).length - bytes.length + nul);
        passed.push(...binary.flush(), { ok: false, line: number + 1, text: "", code: INPUT_CODES.notJson, error: utf16 === undefined ? NUL_LINE : utf16 === 0 ? UTF16_LINE : UTF16_WITHIN_LINE });
      }
      if (passed.length > 0) yield passed;
      return;
    }
    const lastNewline = bytes.lastIndexOf(10);
    if (lastNewline < 0) pending.add(bytes);
    else {
      linesOf(pending.take(bytes.subarray(0, lastNewline + 1)), batch);
      pending.add(bytes.subarray(lastNewline + 1));
    }
    if (pending.length > maxLineBytes) {
      values.settle(batch);
      number++;
      batch.push({ ok: false, line: number, text: "", code: INPUT_CODES.notJson, error: `the line is longer than ${maxLineBytes >= 1_048_576 ? `${maxLineBytes / 1_048_576} MB` : `${maxLineBytes} bytes`}: not read` });
      pending.take();
      skipping = true;
    }
    const passed = binary.pass(batch);
    if (passed.length > 0) yield passed;
    if (binary.stopped) return;
  }
  const batch: (RecordingLine | PassedOverLine)[] = [];
  if (pending.length > 0 && !skipping) linesOf(pending.take(Buffer.from("\n")), batch);
  values.settle(batch);
  const passed = binary.pass(batch);
  if (!binary.stopped) passed.push(...binary.flush());
  if (passed.length > 0) yield passed;
}

/**
 * The bytes of a line whose end has not been read yet, kept as the pieces they came in (each
 * copied, so a read is not held for a few bytes of it) and joined once, when the line ends:
 * joining them at every piece copied a long line over and over (a 65 MB line took 46 s).
 */
class UnfinishedLine {
  private parts: Buffer[] = [];
  /** How many bytes are held. */
  length = 0;

  add(bytes: Buffer): void {
    if (bytes.length === 0) return;
    this.parts.push(Buffer.from(bytes));
    this.length += bytes.length;
  }

  /** The bytes held, followed by `rest` (the line's end), as one buffer; nothing is held after. */
  take(rest: Buffer = Buffer.alloc(0)): Buffer {
    const joined = this.parts.length === 0 ? rest : Buffer.concat(rest.length === 0 ? this.parts : [...this.parts, rest]);
    this.parts = [];
    this.length = 0;
    return joined;
  }
}

/** Said of a line with bytes that are not UTF-8. */
const NOT_UTF8 = "the line is not valid UTF-8";
/** Said of the line that holds a NUL byte, after good lines: the end of what is read. */
const NUL_LINE = "the line holds NUL bytes, which JSON text never does (binary data; a crash can leave zeros at the end of a log): the rest of the file is not read";

/**
 * Said of the line that holds a NUL byte when it and what follows look like UTF-16 text: what
 * Windows PowerShell 5.1's `>>` appends to a UTF-8 log. Not binary data, and said so.
 */
const UTF16_LINE = `the file is UTF-16 text from this line on (what Windows PowerShell 5.1's \`>>\` appends to a UTF-8 file), and a recording is UTF-8 JSON Lines: the rest of the file is not read; ${APPEND_AS_UTF8}`;

/** UTF16_LINE for UTF-16 text that starts within the line: appended to a last line without a line end (Notepad saves none, and `>>` adds none). */
const UTF16_WITHIN_LINE = `the line has no line end after its UTF-8 text, and UTF-16 text follows it (what Windows PowerShell 5.1's \`>>\` appends to a UTF-8 file), and a recording is UTF-8 JSON Lines: the line and the rest of the file are not read; ${APPEND_AS_UTF8}, each line after a line end`;

/**
 * Lines in a row that are not UTF-8 or not JSON, half of them at least not UTF-8, that make the
 * rest of a recording binary data (random bytes need not hold a NUL byte): reported once, and
 * nothing after them read, instead of one error for each of thousands of "lines".
 */
export const BINARY_RUN_LINES = 10;

/**
 * Watches the entries a recording gives for a run of unreadable lines (see `BINARY_RUN_LINES`),
 * holding the last few back: when the run is long enough they are one error (or, when no line
 * before them was good, the file is binary) and the reading stops; otherwise they pass on, in order.
 */
class BinaryRun {
  private held: RecordingLine[] = [];
  /** Whether a line that is JSON text (good, or an error of another kind) has been given. */
  readText = false;
  /** Whether the run was reported, and nothing more is to be read. */
  stopped = false;

  /** The entries of `batch` that may be given on now, in order. Throws when the file is binary from its start. */
  pass(batch: readonly (RecordingLine | PassedOverLine)[]): (RecordingLine | PassedOverLine)[] {
    const out: (RecordingLine | PassedOverLine)[] = [];
    for (const entry of batch) {
      if (entry.ok === false && entry.endLine === undefined && (entry.error === NOT_UTF8 || entry.error.startsWith("not JSON"))) {
        this.held.push(entry);
        const undecodable = this.held.filter((held) => held.ok === false && held.error === NOT_UTF8).length;
        if (this.held.length < BINARY_RUN_LINES) continue;
        if (2 * undecodable >= this.held.length) {
          if (!this.readText) throw new BinaryRecordingError(undefined, this.held[0]!.line);
          out.push({ ok: false, line: this.held[0]!.line, text: "", code: INPUT_CODES.notJson, error: `this line and the ${BINARY_RUN_LINES - 1} after it are not UTF-8 JSON (binary data?): the rest of the file is not read` });
          this.held = [];
          this.stopped = true;
          return out;
        }
        out.push(this.held.shift()!);
        continue;
      }
      this.readText = true;
      out.push(...this.flush(), entry);
    }
    return out;
  }

  /** The lines held back, given on. */
  flush(): RecordingLine[] {
    const held = this.held;
    this.held = [];
    return held;
  }
}

/** How a recording is read: the longest line held (MAX_LINE_BYTES), the size of a read (about a megabyte), and of a piece (PIECE_BYTES). */
export interface ReadLimits {
  readonly maxLineBytes?: number;
  readonly chunkBytes?: number;
  readonly pieceBytes?: number;
}

/**
 * The most bytes of a read that are decoded, parsed and given on as one batch. Reads stay large
 * (few system calls), but a batch's parsed lines are all alive until the replay has decided
 * them: a megabyte's (about 2,000 requests) outlived the young generation's collections, which
 * copied them and then promoted them to the old generation, and collecting garbage took a fifth
 * of a replay. Batches of 64 KB die young: a warm replay of the bench recording ran about 30%
 * faster.
 */
const PIECE_BYTES = 64 * 1024;

/**
 * A read cut into pieces of at most `size` bytes, each after its last line end when it has one
 * (so a line rarely spans two pieces; one that does is joined as across reads). A read that holds
 * a NUL byte stays whole: what follows the NUL tells binary data from appended UTF-16 text, and a
 * piece would show less of it than the read does.
 */
function* piecesOf(read: Buffer, size: number): Generator<Buffer> {
  if (read.length <= size || read.indexOf(0) >= 0) {
    yield read;
    return;
  }
  let from = 0;
  while (read.length - from > size) {
    const lineEnd = read.lastIndexOf(10, from + size - 1);
    const to = lineEnd >= from ? lineEnd + 1 : from + size;
    yield read.subarray(from, to);
    from = to;
  }
  if (from < read.length) yield read.subarray(from);
}

/** A recording that is UTF-16 text (see `looksLikeUtf16`): reported once, for the whole file. */
class RecordingEncodingError extends Error {
  constructor() {
    super(utf16Refusal("a recording is UTF-8 JSON Lines"));
  }
}

/**
 * A recording that is binary before any good line (a NUL byte, or a run of lines that are not
 * UTF-8): not JSON Lines; reported once, for the whole file.
 */
class BinaryRecordingError extends Error {
  constructor(offset: number | undefined, line?: number) {
    super(binaryRefusal(offset === undefined ? `line ${line} and the ${BINARY_RUN_LINES - 1} after it are not UTF-8 JSON` : nulByteAt(offset), "JSON Lines: a recording is UTF-8 text, one JSON object a line"));
  }
}

/**
 * A gzip-compressed recording (`app.jsonl.gz`, see `looksLikeGzip`): reported once, with how to
 * replay it, which `describeReadError` says for the recording as the user named it.
 */
class CompressedRecordingError extends Error {
  constructor() {
    super("it is gzip-compressed");
  }
}

/**
 * The line of JSON Lines `text` from `start` to `end` (its line feed) as a recording is read:
 * without the carriage return of a CRLF end, nor a byte order mark at its start.
 */
export function lineText(text: string, start: number, end: number): string {
  if (end > start && text.charCodeAt(end - 1) === 13) end--; // CRLF
  // A byte order mark: at the start of the file, or of a line where files joined with `cat` meet.
  if (text.charCodeAt(start) === 0xfeff) start++;
  return text.slice(start, end);
}

/**
 * Why the recording `file` (as the user named it, or `STANDARD_INPUT`) could not be read, for a
 * person: no such file, a folder, a line too long to hold, … `verb` replays it (`test`, `diff`).
 */
export function describeReadError(error: unknown, file: string, verb: "test" | "diff"): string {
  if (error instanceof CompressedRecordingError) return gzipRefusal("JSON Lines", file === STANDARD_INPUT ? undefined : file, `policyc ${verb} … --replay -`);
  if (error instanceof RecordingEncodingError || error instanceof BinaryRecordingError) return error.message;
  const code = (error as { code?: string }).code;
  if (code === "ENOENT") return brokenLinkText(error) ?? notUtf8NameText(error) ?? "no such file or folder";
  if (code === "EISDIR") return "it is a folder";
  // A single line longer than a string can be (about 512 MB) cannot be read as text.
  if (error instanceof RangeError || code === "ERR_STRING_TOO_LONG") return "cannot read it: a line is too long to hold in memory";
  return `cannot read it: ${describeFsError(error)}`;
}

/** Streams a recording line by line (see `readRecordingBatches`). */
export async function* readRecording(path: string): AsyncGenerator<RecordingLine> {
  for await (const batch of readRecordingBatches(path)) yield* batch;
}

/** A session id as the engine takes one: a non-empty string of at most MAX_SESSION_ID_LENGTH characters (`Engine.session` throws on any other; a request with another is refused). */
export function isSessionId(session: unknown): session is string {
  return typeof session === "string" && session !== "" && session.length <= MAX_SESSION_ID_LENGTH;
}
