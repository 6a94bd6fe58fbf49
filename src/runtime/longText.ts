import { hash } from "node:crypto";

/**
 * The longest string V8 hashes by its characters (its `String::kMaxHashCalcLength`). A longer
 * one is hashed by its length alone, so every string of one such length lands in the same bucket
 * of a `Map` or `Set`, and each lookup compares it with all of them: 2,000 strings of 16,384
 * characters, differing only at the end, made one `args.s.size()` take 3 s and one `args.s
 * containsAny args.t` 16 s, within every budget. Shorter strings are left to V8: it hashes them
 * with a seed of its own and keeps the hash in the string, which costs less than any digest
 * (a test checks that this cut still holds).
 */
export const LONGEST_HASHED_TEXT = 16_383;

/** Whether a value is a string that V8 would hash by its length alone (see LONGEST_HASHED_TEXT). */
export function isLongText(value: unknown): value is string {
  return typeof value === "string" && value.length > LONGEST_HASHED_TEXT;
}

/**
 * A long string's key: its SHA-256. A well-formed string is hashed as UTF-8, which encodes one
 * to one; a lone surrogate, which UTF-8 would turn into U+FFFD (making two strings one), is
 * hashed as its JSON text, which escapes it, and its key marked with `!` (which base64 never
 * writes) so that it cannot equal a well-formed string's.
 */
export function longTextKey(text: string): string {
  // The last REMEMBERED_TEXTS strings hashed are remembered, the latest used first: the long
  // operands looked up once per element of a quantifier (`any(r in args.to: args.subject in
  // args.blocked or args.body in args.blocked)`) are hashed once, not once per element (two
  // remembered let three operands taking turns hash on every element: 10 s for a 0.5 MB
  // request), and so is a call site's input that it keeps answering for when the next comes
  // (helpers.ts calledAt). The same string is `===` at once. Another of the same length is told
  // apart by a few of its characters when it can be; when it cannot (strings that differ only
  // between those), `===` reads it up to where they differ, and that reading, like every hash,
  // is charged to the decision's budget (MAX_LONG_TEXT_WORK): past it the decision fails closed.
  for (let slot = 0; slot < rememberedTexts.length; slot++) {
    const remembered = rememberedTexts[slot]!;
    // (`===` last: for two strings of one length it reads them up to where they differ, unless
    // they are one string, as a request's operand read again is.)
    if (remembered.length !== text.length || differsAtProbes(remembered, text)) continue;
    if (remembered !== text) {
      charge(text.length);
      continue;
    }
    const key = rememberedKeys[slot]!;
    if (slot > 0) {
      rememberedTexts.splice(slot, 1);
      rememberedKeys.splice(slot, 1);
      rememberedTexts.unshift(text);
      rememberedKeys.unshift(key);
    }
    return key;
  }
  charge(text.length);
  const key = (text as string & { isWellFormed(): boolean }).isWellFormed() ? hash("sha256", text, "base64") : `!${hash("sha256", JSON.stringify(text), "base64")}`;
  rememberedTexts.unshift(text);
  rememberedKeys.unshift(key);
  if (rememberedTexts.length > REMEMBERED_TEXTS) {
    rememberedTexts.pop();
    rememberedKeys.pop();
  }
  return key;
}

/**
 * Whether two strings of one length differ in their last 16 characters or at four places
 * before (first, a quarter, half, three quarters): a cheap "not the same" for strings that
 * differ where ids and numbers do, at their ends.
 */
function differsAtProbes(a: string, b: string): boolean {
  const last = a.length - 1;
  for (let at = last; at > last - 16; at--) if (a.charCodeAt(at) !== b.charCodeAt(at)) return true;
  for (const at of [0, last >> 2, last >> 1, last - (last >> 2)]) if (a.charCodeAt(at) !== b.charCodeAt(at)) return true;
  return false;
}

/** Long strings `longTextKey` remembers, the one used last first. */
const REMEMBERED_TEXTS = 16;
const rememberedTexts: string[] = [];
const rememberedKeys: string[] = [];

/**
 * Characters of long strings a decision may hash or compare in full (`longTextKey`): about
 * half a second of work at worst, past which the rule being evaluated fails closed (LongTextBudgetError,
 * an evaluation error), as past the budgets of helpers.ts. Only inside a decision (`budgeted`):
 * reports and recordings key long strings too, without it.
 */
export const MAX_LONG_TEXT_WORK = 100_000_000;
let charged = 0;
let budgeted = false;

/** Thrown past MAX_LONG_TEXT_WORK: an evaluation error (helpers.ts `message`), so the rule fails closed. */
export class LongTextBudgetError extends Error {}

function charge(characters: number): void {
  if (!budgeted) return;
  charged += characters;
  if (charged > MAX_LONG_TEXT_WORK) throw new LongTextBudgetError(`the request is too large to evaluate: telling apart its strings of more than ${LONGEST_HASHED_TEXT.toLocaleString("en-US")} characters would read more than ${MAX_LONG_TEXT_WORK.toLocaleString("en-US")} characters (a budget per decision): bound the size of the strings at the enforcement point`);
}

/** Starts a decision's budget of long-string work (helpers.ts newDecision). */
export function budgetLongText(): void {
  charged = 0;
  budgeted = true;
}

/**
 * Lets go of the long strings hashed (a request's: not to be kept past its decision, nor
 * until the next), and ends the decision's budget. Costs nothing when none was.
 */
export function forgetLastLongText(): void {
  budgeted = false;
  if (rememberedTexts.length === 0) return;
  rememberedTexts.length = 0;
  rememberedKeys.length = 0;
}

/**
 * A `Set` for request data, equal members one as `Set` has them (SameValueZero), where long
 * strings cannot collide (LONGEST_HASHED_TEXT): kept by their key (`longTextKey`), in a set of
 * their own, so that no key can pass for a short string member.
 */
export class ValueSet {
  private readonly values = new Set<unknown>();
  private readonly longTexts = new Set<string>();

  get size(): number {
    return this.values.size + this.longTexts.size;
  }

  add(value: unknown): void {
    if (isLongText(value)) this.longTexts.add(longTextKey(value));
    else this.values.add(value);
  }

  has(value: unknown): boolean {
    return isLongText(value) ? this.longTexts.has(longTextKey(value)) : this.values.has(value);
  }

  /** Whether every member of this one is in `other`. */
  isSubsetOf(other: ValueSet): boolean {
    return this.size <= other.size && everyIn(this.values, other.values) && everyIn(this.longTexts, other.longTexts);
  }

  /** Whether the two share a member (walking the smaller). */
  intersects(other: ValueSet): boolean {
    if (this.size > other.size) return other.intersects(this);
    return someIn(this.values, other.values) || someIn(this.longTexts, other.longTexts);
  }

  /** Whether both hold the same members. */
  sameAs(other: ValueSet): boolean {
    return this.values.size === other.values.size && this.longTexts.size === other.longTexts.size && this.isSubsetOf(other);
  }
}

/**
 * A `Map` keyed by request data, keys equal as `Map` has them (SameValueZero), where long strings
 * cannot collide: kept by their key, in a map of their own (see ValueSet).
 */
export class ValueMap<V> {
  private readonly values = new Map<unknown, V>();
  private readonly longTexts = new Map<string, V>();

  get size(): number {
    return this.values.size + this.longTexts.size;
  }

  get(key: unknown): V | undefined {
    return isLongText(key) ? this.longTexts.get(longTextKey(key)) : this.values.get(key);
  }

  has(key: unknown): boolean {
    return isLongText(key) ? this.longTexts.has(longTextKey(key)) : this.values.has(key);
  }

  set(key: unknown, value: V): void {
    if (isLongText(key)) this.longTexts.set(longTextKey(key), value);
    else this.values.set(key, value);
  }

  clear(): void {
    this.values.clear();
    this.longTexts.clear();
  }
}

function everyIn<T>(members: ReadonlySet<T>, other: ReadonlySet<T>): boolean {
  for (const x of members) if (!other.has(x)) return false;
  return true;
}

function someIn<T>(members: ReadonlySet<T>, other: ReadonlySet<T>): boolean {
  for (const x of members) if (other.has(x)) return true;
  return false;
}
