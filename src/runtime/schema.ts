import { headOf, tailOf } from "./cutText.js";
import { RISK_RANK, type RiskLevel } from "./ir.js";
import { quotedVisibly } from "./hiddenText.js";

/** A type as the bundle spells it. */
export type TypeJson =
  | "bool"
  | "int"
  | "string"
  | "duration"
  | "time"
  | "Risk"
  | { readonly set: TypeJson }
  | { readonly list: TypeJson }
  | { readonly enum: string }
  | { readonly record: string };

export interface FieldJson {
  readonly type: TypeJson;
  readonly optional: boolean;
}

export type FieldsJson = Readonly<Record<string, FieldJson>>;

/** The declarations, as the runtime needs them to validate requests. */
export interface RuntimeSchema {
  readonly entities: { readonly agent?: FieldsJson; readonly user?: FieldsJson; readonly context?: FieldsJson };
  readonly records: Readonly<Record<string, FieldsJson>>;
  readonly enums: Readonly<Record<string, readonly string[]>>;
  readonly tools: Readonly<Record<string, { readonly risk: RiskLevel; readonly returns: readonly string[]; readonly args: FieldsJson }>>;
  readonly intents: Readonly<Record<string, { readonly tools: readonly string[]; readonly maxRisk: RiskLevel; readonly matches: readonly string[] }>>;
}

/** Says what is wrong with `value` at `path` (a request field), or undefined; `depth` is how many lists and records it is nested in. */
export type Validator = (value: unknown, path: string, depth?: number) => string | undefined;

/**
 * How deep lists and records may nest in a request (a recursive record type lets them nest
 * without end). Deeper requests are refused as invalid: comparing or walking such a value would
 * run out of stack at a depth that depends on where it happens, so the same request could be
 * allowed on one call and refused on the next, and an explanation disagree with the decision.
 */
export const MAX_NESTING = 512;

function tooDeep(path: string): string {
  return `${shortPath(path)} is nested more than ${MAX_NESTING} lists and records deep`;
}

function shortPath(path: string): string {
  return path.length > 120 ? `${headOf(path, 60)}…${tailOf(path, 40)}` : path;
}

/** Members of an enum a reason lists at most (a request's value that is not one of them). */
const LISTED_MEMBERS = 20;

/**
 * How many values validating one request may visit: each list adds its members, each record
 * (beyond the request's agent, context, user and args themselves) adds one. Counted along every
 * path, so an object an in-process caller shares between fields counts once for each: without
 * the bound, a recursive record whose two children are one object, 40 levels deep (80 objects),
 * would take 2^40 steps to validate. Past it the request is refused as invalid. The generated
 * code of a bundle counts the same way (compile/emitValidation.ts), and so do the comparisons
 * of request values (helpers.ts, MAX_WALKED_VALUES).
 */
export const MAX_VALIDATED_VALUES = 1_000_000;

/**
 * Values validated in the current request (see MAX_VALIDATED_VALUES). Validation is
 * synchronous, so one counter serves every engine; `startValidation` resets it per request.
 */
let validatedValues = 0;

/**
 * How many values each field of the request's agent, context, user and args held, in the order
 * validated: `[path, count, path, count, …]`. Kept so that the reason for a request past the
 * budget names where its values are, not the field, possibly a tiny one, where the count ran out.
 * Reused from request to request; its paths are strings the validators build anyway.
 */
const countsByField: (string | number)[] = [];

/** Starts the count of MAX_VALIDATED_VALUES for one request's interpreted validation. */
export function startValidation(): void {
  validatedValues = 0;
  countsByField.length = 0;
}

/** Marks a validator's answer that the count ran out below it: the field at depth 0 words it (tooManyValues). */
const OVER_VALUES = "\u0000over";

/**
 * The reason for a request past MAX_VALIDATED_VALUES: the request's fields holding the most
 * values, largest first; `stoppedAt`, the field the count ran out in, counted only up to there.
 */
function tooManyValues(stoppedAt: string, countedThere: number): string {
  const fields: { path: string; count: number; stopped: boolean }[] = [];
  for (let i = 0; i < countsByField.length; i += 2) {
    const count = countsByField[i + 1] as number;
    if (count > 0) fields.push({ path: countsByField[i] as string, count, stopped: false });
  }
  fields.push({ path: stoppedAt, count: countedThere, stopped: true });
  fields.sort((a, b) => b.count - a.count);
  const shown = fields.slice(0, 4).map(({ path, count, stopped }) => `${shortPath(path)}: ${count.toLocaleString("en-US")}${stopped ? " when the count stopped" : ""}`);
  const more = fields.length > shown.length ? `, and ${fields.length - shown.length} more fields` : "";
  return `the request holds more than ${MAX_VALIDATED_VALUES.toLocaleString("en-US")} values to validate (${shown.join(", ")}${more}; list members and records, counted along every path: an object shared by several fields counts once for each)`;
}

/**
 * The kind of a value given where a key or options were expected, never its content ("a
 * Buffer", "a string", "a PrivateKeyObject"): the value may be a key, and messages get logged.
 */
export function describeKind(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return "an array";
  if (typeof value === "object") {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: unknown } } | null)?.constructor?.name;
    return typeof name === "string" && name !== "" && name !== "Object" ? withArticle(name) : "an object";
  }
  return withArticle(typeof value);
}

function withArticle(noun: string): string {
  return `${/^[aeiou]/i.test(noun) ? "an" : "a"} ${noun}`;
}

/** A request value for a reason: its kind, and short strings and numbers as they are. */
export function describeValue(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "a list";
  if (typeof value === "object") return "an object";
  if (typeof value === "function") return "a function";
  if (typeof value === "string") return value.length > 40 ? "a string" : `the string ${quotedVisibly(value)}`;
  if (typeof value === "bigint") return `the bigint ${value}n`;
  return `${typeof value === "number" ? "the number" : "the value"} ${String(value)}`;
}

function typeName(type: TypeJson): string {
  if (typeof type === "string") return type;
  if ("set" in type) return `set<${typeName(type.set)}>`;
  if ("list" in type) return `list<${typeName(type.list)}>`;
  if ("enum" in type) return type.enum;
  return type.record;
}

/** The RFC 3339 forms `parseTime` reads (its calendar checks aside): the shipped recording schema's `time` pattern of a revocation line is this. */
export const RFC3339 = /^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|[+-](\d{2}):(\d{2}))$/;
const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

/** Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil). */
function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yearOfEra = y - era * 400;
  const dayOfYear = Math.floor((153 * (month + (month > 2 ? -3 : 9)) + 2) / 5) + day - 1;
  const dayOfEra = yearOfEra * 365 + Math.floor(yearOfEra / 4) - Math.floor(yearOfEra / 100) + dayOfYear;
  return era * 146097 + dayOfEra - 719468;
}

/**
 * The last date `parseUtcTime` read (as YYYYMMDD) and its day number: requests arrive in time
 * order, so most share the date of the one before, and the calendar is worked out once a day.
 */
let lastDate = -1;
let lastDays = 0;

/** The day number of a date (`daysFromCivil`), or NaN when the month has no such day. */
function daysOf(year: number, month: number, day: number): number {
  const date = year * 10_000 + month * 100 + day;
  if (date === lastDate) return lastDays;
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0)) return Number.NaN;
  lastDays = daysFromCivil(year, month, day);
  lastDate = date;
  return lastDays;
}

/**
 * Parses `YYYY-MM-DDTHH:MM:SS[.f|.ff|.fff]Z`, the form enforcement points and logs use, with
 * integer arithmetic only (`Date.parse` alone costs more than a whole decision); NaN when the
 * text is not that form, and then the caller falls back to the general RFC 3339 parser.
 */
function parseUtcTime(text: string): number {
  const n = text.length;
  if (n < 20 || n > 24 || n === 21 || text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return Number.NaN;
  const t = text.charCodeAt(10);
  const z = text.charCodeAt(n - 1);
  if ((t !== 84 && t !== 116) || (z !== 90 && z !== 122)) return Number.NaN;
  // The digits, each 0–9 when it is one (`>>> 0` makes any other character large).
  const y1 = (text.charCodeAt(0) - 48) >>> 0, y2 = (text.charCodeAt(1) - 48) >>> 0, y3 = (text.charCodeAt(2) - 48) >>> 0, y4 = (text.charCodeAt(3) - 48) >>> 0;
  const mo1 = (text.charCodeAt(5) - 48) >>> 0, mo2 = (text.charCodeAt(6) - 48) >>> 0, d1 = (text.charCodeAt(8) - 48) >>> 0, d2 = (text.charCodeAt(9) - 48) >>> 0;
  const h1 = (text.charCodeAt(11) - 48) >>> 0, h2 = (text.charCodeAt(12) - 48) >>> 0, mi1 = (text.charCodeAt(14) - 48) >>> 0, mi2 = (text.charCodeAt(15) - 48) >>> 0;
  const s1 = (text.charCodeAt(17) - 48) >>> 0, s2 = (text.charCodeAt(18) - 48) >>> 0;
  if (Math.max(y1, y2, y3, y4, mo1, mo2, d1, d2, h1, h2, mi1, mi2, s1, s2) > 9) return Number.NaN;
  const year = y1 * 1000 + y2 * 100 + y3 * 10 + y4;
  const month = mo1 * 10 + mo2;
  const day = d1 * 10 + d2;
  const hour = h1 * 10 + h2;
  const minute = mi1 * 10 + mi2;
  const second = s1 * 10 + s2;
  // Years 0–99 are left to the general path.
  if (year < 100 || month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return Number.NaN;
  let millis = 0;
  if (n > 20) {
    if (text.charCodeAt(19) !== 46) return Number.NaN;
    for (let i = 20; i < n - 1; i++) {
      const digit = text.charCodeAt(i) - 48;
      if (digit >>> 0 > 9) return Number.NaN;
      millis = millis * 10 + digit;
    }
    millis *= n === 22 ? 100 : n === 23 ? 10 : 1;
  }
  return daysOf(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + second * 1000 + millis;
}

/** Parses an RFC 3339 time to epoch milliseconds, or NaN. */
export function parseTime(value: unknown): number {
  if (typeof value !== "string") return Number.NaN;
  const fast = parseUtcTime(value);
  if (!Number.isNaN(fast)) return fast;
  // Other forms (offsets, long fractions, a space for the `T`, years 0–99): the calendar is
  // checked here, so `2024-02-30` or `24:00` is refused rather than rolled over into the next month or day.
  const match = RFC3339.exec(value);
  if (!match) return Number.NaN;
  const [year, month, day, hour, minute, second] = match.slice(1, 7).map(Number) as [number, number, number, number, number, number];
  const leap = month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (month < 1 || month > 12 || day < 1 || day > DAYS_IN_MONTH[month - 1]! + (leap ? 1 : 0) || hour > 23 || minute > 59 || second > 60) return Number.NaN;
  const offsetHours = match[9] === undefined ? 0 : Number(match[9]);
  const offsetMinutes = match[10] === undefined ? 0 : Number(match[10]);
  if (offsetHours > 23 || offsetMinutes > 59) return Number.NaN;
  // Computed from the fields, never by Date.parse: for `0040-06-15 12:00:00Z` (a space for the
  // `T`) V8 falls back to its legacy parser, whose two-digit-year rules read year 40 as 2040.
  // Digits past the millisecond are cut off, as the fast path does.
  const millis = match[7] === undefined ? 0 : Number(`${match[7].slice(1)}00`.slice(0, 3));
  // `+02:00` is two hours ahead of UTC, so the instant is two hours earlier than the fields say.
  const offset = (match[8]!.startsWith("-") ? -1 : 1) * (offsetHours * 3_600_000 + offsetMinutes * 60_000);
  const instant = daysFromCivil(year, month, day) * 86_400_000 + hour * 3_600_000 + minute * 60_000 + Math.min(second, 59) * 1000 + millis - offset;
  if (second === 60) {
    // A leap second, which RFC 3339 allows at the end of a UTC day (`23:59:60Z`): read as the
    // next day's first instant, as POSIX time does. Anywhere else a second of 60 is no time.
    return (Math.floor(instant / 1000) + 1) % 86_400 !== 0 ? Number.NaN : instant + 1000;
  }
  return instant;
}

/**
 * Epoch units told apart by magnitude: a time of these years is below 10^11 in seconds (up to
 * the year 5138), and 1,000 times more in each finer unit.
 */
const EPOCH_UNITS = [
  { name: "seconds", below: 1e11, millis: 1000 },
  { name: "milliseconds", below: 1e14, millis: 1 },
  { name: "microseconds", below: 1e17, millis: 1e-3 },
  { name: "nanoseconds", below: 1e20, millis: 1e-6 },
] as const;

/**
 * The times an epoch number is taken to be one in (2000 to 2100, in epoch milliseconds): a
 * smaller number (`30`, `0.5`) is more likely a count or a duration than a time in 1970, and
 * showing it as one would mislead.
 */
const PLAUSIBLE_EPOCH_MILLIS = { from: Date.UTC(2000, 0, 1), below: Date.UTC(2100, 0, 1) };

/**
 * What a time parseTime refuses is, when it is a common mistake, to add to the refusal in
 * parentheses: a time with no UTC offset (what Python's `isoformat()` writes of a naive
 * datetime), or an epoch number of a plausible time with the time it would be. Only a
 * suggestion: neither is read as a time, since the sender's zone or unit is a guess. (A naive
 * `datetime.now()` is local time, so the advice is the offset of the sender's clock, not "Z".)
 */
export function timeMistakeOf(value: unknown): string | undefined {
  // An epoch number written in a string ("1764410401") is as much one.
  const epoch = typeof value === "number" ? value : typeof value === "string" && /^\d{1,20}(\.\d{1,9})?$/.test(value) ? Number(value) : undefined;
  if (epoch === undefined) return typeof value === "string" && !Number.isNaN(parseTime(`${value}Z`)) ? 'it has no UTC offset: add the offset of the clock it came from, "Z" or "+00:00" for UTC; Python\'s isoformat() of a naive datetime writes none' : undefined;
  const unit = epoch > 0 ? EPOCH_UNITS.find((u) => epoch < u.below) : undefined;
  if (unit === undefined) return undefined;
  const millis = Math.round(epoch * unit.millis);
  if (!(millis >= PLAUSIBLE_EPOCH_MILLIS.from && millis < PLAUSIBLE_EPOCH_MILLIS.below)) return undefined;
  return `read as epoch ${unit.name}, it would be "${new Date(millis).toISOString().replace(".000Z", "Z")}"`;
}

/** ` (what the mistake is)` for a time parseTime refuses (see timeMistakeOf), or nothing. */
export function timeMistakeNote(value: unknown): string {
  const mistake = timeMistakeOf(value);
  return mistake === undefined ? "" : ` (${mistake})`;
}

/**
 * The members of a collection of risks or times (at any depth: a list of lists) as conditions
 * compare them: risks as ranks, times as epoch milliseconds, as a scalar attribute is read. A
 * value that is no list (an absent optional attribute) stays as it is, so reading it fails or
 * answers as it did before the conversion.
 */
export function convertMembers(value: unknown, unit: "risk" | "time"): unknown {
  if (!Array.isArray(value)) return value;
  return value.map((member) => (Array.isArray(member) ? convertMembers(member, unit) : unit === "time" ? parseTime(member) : typeof member === "string" && Object.hasOwn(RISK_RANK, member) ? RISK_RANK[member as RiskLevel] : undefined));
}

/**
 * Builds validators from the schema once, at load time, so validating a request is a few
 * closure calls. Own properties only: `__proto__`, `constructor` and the like in a request are
 * data, never reached through the prototype.
 */
/**
 * Said of a number past the safe integer range: it is shown as JSON read it, which may not be
 * the digits the request sent (`9007199254740993` reads as 9007199254740992).
 */
const UNSAFE_READING = " as read (numbers this large are not exact in JSON)";

export class ValidatorFactory {
  private readonly recordValidators = new Map<string, Validator>();

  /**
   * `quotesValues` false for the fields the enforcement point sets (`agent`, `user`, `context`):
   * their reasons go to the agent, which sent none of those values, so they name the field and
   * the type it must have, never the value given nor an enum's members (the detail, with both,
   * goes to the decision's `errors` from validators that quote them).
   */
  constructor(
    private readonly schema: RuntimeSchema,
    private readonly quotesValues = true,
  ) {}

  /** `, not the string "x"` after what a value must be, or nothing when values are not quoted. */
  private not(value: unknown): string {
    return this.quotesValues ? `, not ${describeValue(value)}` : "";
  }

  forType(type: TypeJson): Validator {
    if (typeof type === "string") {
      const expected = type;
      switch (type) {
        case "bool":
          return (v, p) => (typeof v === "boolean" ? undefined : `${p} must be a bool${this.not(v)}`);
        case "int":
          return (v, p) => (typeof v === "number" && Number.isSafeInteger(v) ? undefined : Number.isInteger(v) ? `${p} is ${this.quotesValues ? `${describeValue(v)}${UNSAFE_READING}, ` : ""}beyond the safe integer range of an int (±${Number.MAX_SAFE_INTEGER})` : `${p} must be an int${this.not(v)}`);
        case "string":
          return (v, p) => (typeof v === "string" ? undefined : `${p} must be a string${this.not(v)}`);
        case "duration":
          return (v, p) =>
            typeof v === "number" && Number.isSafeInteger(v) && v >= 0
              ? undefined
              : typeof v === "number" && Number.isInteger(v) && v > 0
                ? `${p} is ${this.quotesValues ? `${describeValue(v)}${UNSAFE_READING}, ` : ""}beyond the safe range of a duration in milliseconds (at most ${Number.MAX_SAFE_INTEGER})`
                : `${p} must be a duration: a whole number of milliseconds, at least 0${this.not(v)}`;
        case "time":
          return (v, p) => (Number.isNaN(parseTime(v)) ? `${p} must be an RFC 3339 time${this.quotesValues ? `${this.not(v)}${timeMistakeNote(v)}` : ""}` : undefined);
        case "Risk":
          return (v, p) => (typeof v === "string" && Object.hasOwn(RISK_RANK, v) ? undefined : `${p} must be a risk level (low, medium, high, critical)${this.not(v)}`);
        default:
          return (_v, p) => `${p} has an unknown type ${expected}`;
      }
    }
    if ("set" in type || "list" in type) {
      const element = this.forType("set" in type ? type.set : type.list);
      const name = typeName(type);
      return (v, p, d = 1) => {
        if (d > MAX_NESTING) return tooDeep(p);
        if (!Array.isArray(v)) return `${p} must be a ${name}${this.not(v)}`;
        if ((validatedValues += v.length) > MAX_VALIDATED_VALUES) return OVER_VALUES;
        for (let i = 0; i < v.length; i++) {
          const error = element(v[i], `${p}[${i}]`, d + 1);
          if (error) return error;
        }
        return undefined;
      };
    }
    if ("enum" in type) {
      const declared = this.schema.enums[type.enum] ?? [];
      const members = new Set(declared);
      const name = type.enum;
      // Listed once, and at most LISTED_MEMBERS of them: a request's wrong value must not cost
      // (or answer) a listing of a 10,000-member enum.
      const more = declared.length - LISTED_MEMBERS;
      const listing = more > 0 ? `${declared.slice(0, LISTED_MEMBERS).join(", ")} and ${more.toLocaleString("en-US")} more` : declared.join(", ");
      return (v, p) => (typeof v === "string" && members.has(v) ? undefined : `${p} must be a member of ${name}${this.quotesValues ? ` (${listing})${this.not(v)}` : ""}`);
    }
    return this.forRecord(type.record);
  }

  private forRecord(name: string): Validator {
    const cached = this.recordValidators.get(name);
    if (cached) return cached;
    // Recursive types: the map entry forwards to the validator built below. It is built from a
    // work list, not by recursion: a chain of thousands of records, each holding the next, would
    // otherwise nest a call per record and exhaust the stack while the engine loads.
    let built: Validator | undefined;
    this.recordValidators.set(name, (v, p, d) => built!(v, p, d));
    this.pendingRecords.push({ name, define: (validator) => (built = validator) });
    this.buildPendingRecords();
    return built ?? this.recordValidators.get(name)!;
  }

  /** Records named (see `forRecord`) whose validators are not built yet. */
  private readonly pendingRecords: { name: string; define: (validator: Validator) => void }[] = [];
  private buildingRecords = false;
  private buildPendingRecords(): void {
    if (this.buildingRecords) return;
    this.buildingRecords = true;
    try {
      for (let next = this.pendingRecords.shift(); next !== undefined; next = this.pendingRecords.shift()) next.define(this.forFields(this.schema.records[next.name] ?? {}, next.name));
    } finally {
      this.buildingRecords = false;
    }
  }

  forFields(fields: FieldsJson, name: string): Validator {
    const checks = Object.entries(fields).map(([field, info]) => ({ field, optional: info.optional, validate: this.forType(info.type) }));
    // `d`: 0 for a request's agent, context, user or args; 1 and more for a record in them.
    return (v, p, d = 0) => {
      if (d > MAX_NESTING) return tooDeep(p);
      if (d > 0 && ++validatedValues > MAX_VALIDATED_VALUES) return OVER_VALUES;
      if (v === null || typeof v !== "object" || Array.isArray(v)) return `${p} must be an object (${name})${this.not(v)}`;
      const object = v as Record<string, unknown>;
      for (const check of checks) {
        const present = Object.hasOwn(object, check.field) && object[check.field] !== undefined && object[check.field] !== null;
        if (!present) {
          if (check.optional) continue;
          return `${p}.${check.field} is missing`;
        }
        if (d > 0) {
          const error = check.validate(object[check.field], `${p}.${check.field}`, d + 1);
          if (error) return error;
          continue;
        }
        // A field of the request's agent, context, user or args: its count is noted for the
        // reason of a request past the budget (tooManyValues), which names where the values are.
        const path = `${p}.${check.field}`;
        const before = validatedValues;
        const error = check.validate(object[check.field], path, 1);
        if (error) return error === OVER_VALUES ? tooManyValues(path, validatedValues - before) : error;
        countsByField.push(path, validatedValues - before);
      }
      return undefined;
    };
  }
}

