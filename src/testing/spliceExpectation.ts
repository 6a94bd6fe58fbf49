import { reviewableJson } from "../diagnostics/printable.js";
import { BACKSLASH, CLOSE_BRACE, CLOSE_BRACKET, COLON, COMMA, isJsonWhitespace, OPEN_BRACE, OPEN_BRACKET, QUOTE } from "../diagnostics/jsonCharacters.js";
import type { Decision } from "../runtime/decision.js";
import { grantsOnApprovalOf } from "./grants.js";
import { ValueSet } from "../runtime/longText.js";

/** Where one member of a JSON object sits in its text: the decoded key and the value's range. */
export interface MemberRange {
  readonly key: string;
  /** The key's opening quote. */
  readonly keyFrom: number;
  /** The value's first character. */
  readonly start: number;
  /** Just past the value's last character. */
  readonly end: number;
}


/**
 * Just past the string that starts (with its quote) at `from`; -1 when it does not end. Short
 * strings (most of a recording line's) are walked character by character; past a few dozen
 * characters the walk jumps from quote to quote (`indexOf`), a quote ending the string unless an
 * odd number of backslashes stands before it (each run of them counted once: linear).
 */
export function stringEnd(text: string, from: number): number {
  const walked = Math.min(text.length, from + 32);
  let at = from + 1;
  for (; at < walked; at++) {
    const code = text.charCodeAt(at);
    if (code === BACKSLASH) at++;
    else if (code === QUOTE) return at + 1;
  }
  // (A backslash at the end of the walk escaped the character after it: `at` is past both.)
  for (;;) {
    const quote = text.indexOf('"', at);
    if (quote < 0) return -1;
    let backslashes = 0;
    for (let before = quote - 1; before > from && text.charCodeAt(before) === BACKSLASH; before--) backslashes++;
    if (backslashes % 2 === 0) return quote + 1;
    at = quote + 1;
  }
}

/**
 * Just past the value that starts at `from`: a string, an object or array (nested ones counted,
 * without recursion, so a deeply nested value is no danger), or a primitive (`true`, `-1.5e3`),
 * which ends where the next delimiter or whitespace is. -1 when the text ends first.
 */
export function valueEnd(text: string, from: number): number {
  const first = text.charCodeAt(from);
  if (first === QUOTE) return stringEnd(text, from);
  if (first === OPEN_BRACE || first === OPEN_BRACKET) {
    let depth = 0;
    for (let at = from; at < text.length; at++) {
      const code = text.charCodeAt(at);
      if (code === QUOTE) {
        at = stringEnd(text, at) - 1;
        if (at < 0) return -1;
      } else if (code === OPEN_BRACE || code === OPEN_BRACKET) depth++;
      else if (code === CLOSE_BRACE || code === CLOSE_BRACKET) {
        depth--;
        if (depth === 0) return at + 1;
      }
    }
    return -1;
  }
  // A bare value (a number, `true`, `null`, or a mistake) ends at what ends a value; a bracket or
  // a quote in it (`a{}`) ends it too, and the member then ends in neither `,` nor `}`: the scan is
  // not sure of the line, as JSON.parse would not take it.
  let at = from;
  while (at < text.length && !endsBareValue(text.charCodeAt(at))) at++;
  return at === from ? -1 : at;
}

/** Whether a character ends a bare value: `,` `}` `]` `{` `[` `"` or JSON whitespace. */
function endsBareValue(code: number): boolean {
  return code === COMMA || code === CLOSE_BRACE || code === CLOSE_BRACKET || code === OPEN_BRACE || code === OPEN_BRACKET || code === QUOTE || isJsonWhitespace(code);
}

/**
 * Walks the top-level members of the JSON object that `text` holds (after any whitespace and a
 * byte order mark), in the order written, giving `visit` where each key is written (from its
 * opening quote to just past its closing one) and where its value is; returns the position of
 * the closing brace, or undefined when the text is not an object as JSON writes one or `visit`
 * returned false (it cannot be sure of the line). Keeps nothing: a replay thread walks every line.
 */
export function walkTopLevelMembers(text: string, visit: (keyFrom: number, keyEnd: number, start: number, end: number) => boolean): number | undefined {
  let at = afterWhitespace(text, text.charCodeAt(0) === 0xfeff ? 1 : 0);
  if (text.charCodeAt(at) !== OPEN_BRACE) return undefined;
  at = afterWhitespace(text, at + 1);
  if (text.charCodeAt(at) === CLOSE_BRACE) return at;
  for (;;) {
    at = afterWhitespace(text, at);
    if (text.charCodeAt(at) !== QUOTE) return undefined;
    const keyEnd = stringEnd(text, at);
    if (keyEnd < 0) return undefined;
    const keyFrom = at;
    at = afterWhitespace(text, keyEnd);
    if (text.charCodeAt(at) !== COLON) return undefined;
    const start = afterWhitespace(text, at + 1);
    const end = valueEnd(text, start);
    if (end < 0 || !visit(keyFrom, keyEnd, start, end)) return undefined;
    at = afterWhitespace(text, end);
    if (text.charCodeAt(at) === CLOSE_BRACE) return at;
    if (text.charCodeAt(at) !== COMMA) return undefined;
    at++;
  }
}

/** The first position from `from` on that is not JSON whitespace. */
function afterWhitespace(text: string, from: number): number {
  let at = from;
  while (at < text.length && isJsonWhitespace(text.charCodeAt(at))) at++;
  return at;
}

/**
 * The top-level members of the JSON object that `text` holds (`walkTopLevelMembers`), with the
 * position of its closing brace; undefined when the text is not an object as JSON writes one.
 * Keys are compared decoded (`"dec\u0069sion"` is `decision`), as JSON.parse reads them.
 */
export function topLevelMembers(text: string): { readonly members: readonly MemberRange[]; readonly close: number } | undefined {
  const members: MemberRange[] = [];
  const close = walkTopLevelMembers(text, (keyFrom, keyEnd, start, end) => {
    const raw = text.slice(keyFrom + 1, keyEnd - 1);
    let key: string;
    try {
      key = raw.includes("\\") ? (JSON.parse(text.slice(keyFrom, keyEnd)) as string) : raw;
    } catch {
      return false;
    }
    members.push({ key, keyFrom, start, end });
    return true;
  });
  return close === undefined ? undefined : { members, close };
}

/** What a replay found for a line, as `--update` writes it: an attempt's decision, what `Engine.approved` returned for an approval line, or `Engine.revoke`'s outcome for a revocation line. */
export type LineOutcome = Decision | { readonly approved: boolean } | { readonly outcome: string };

/**
 * A recording line's text with its expectation set to `actual`, everything else kept as it was
 * written (spacing, key order, escapes, numbers JSON.parse would not keep exactly): the values of
 * `decision` and `rules` (and of `reason`, `grants`, `grantsOnApproval` and `revoked`, when the
 * line has them) are replaced where they stand,
 * every occurrence when a key is repeated; `decision` and `rules` when missing are added at the
 * end of the object. An approval line's outcome sets its `approved` alone, a revocation line's
 * its `outcome` alone (added when missing): neither has a decision.
 * An older-form `"approved"` on a line whose decision becomes other than `ask` is removed: it
 * records a person's approval of an ask, and left on a line that now records a deny, a later
 * policy that asks again would replay an approval of a call the line says was refused.
 * undefined when the text is not a JSON object.
 */
export function spliceExpectation(text: string, actual: LineOutcome): string | undefined {
  const scanned = topLevelMembers(text);
  if (scanned === undefined) return undefined;
  // Written so a reviewer of the diff sees every character (reviewableJson): the values are JSON.stringify's.
  const values: Record<string, string> =
    "approved" in actual ? { approved: JSON.stringify(actual.approved) }
    : "outcome" in actual ? { outcome: JSON.stringify(actual.outcome) }
    : { decision: JSON.stringify(actual.decision), rules: reviewableJson(actual.rules), reason: reviewableJson(actual.reasons.join("; ")), grants: reviewableJson(actual.grants), grantsOnApproval: reviewableJson(grantsOnApprovalOf(actual)), revoked: JSON.stringify(actual.revoked) };
  // (A ValueSet: a line's keys are the recording's, and long ones would collide in a Set, longText.ts.)
  const present = new ValueSet();
  for (const member of scanned.members) present.add(member.key);
  const pieces: string[] = [];
  let copied = 0;
  // Where the last member kept ends (undefined while none is): a removed member goes with the
  // separator before it, back to there, or, when none was kept yet, with the one after it.
  let keptEnd: number | undefined;
  const dropsApproval = "decision" in actual && actual.decision !== "ask";
  const members = scanned.members;
  for (const [index, member] of members.entries()) {
    if (dropsApproval && member.key === "approved") {
      const next = members[index + 1];
      pieces.push(text.slice(copied, keptEnd ?? member.keyFrom));
      copied = keptEnd !== undefined || next === undefined ? member.end : next.keyFrom;
      continue;
    }
    keptEnd = member.end;
    const value = Object.hasOwn(values, member.key) ? values[member.key] : undefined;
    if (value === undefined) continue;
    pieces.push(text.slice(copied, member.start), value);
    copied = member.end;
  }
  // Added right after the last value kept (before any spacing that precedes the closing brace),
  // or where the members removed ended, or, with none, before the closing brace.
  const insertAt = Math.max(copied, keptEnd ?? members.at(-1)?.end ?? scanned.close);
  const added = ("decision" in actual ? ["decision", "rules"] : Object.keys(values)).filter((key) => !present.has(key)).map((key) => `${JSON.stringify(key)}:${values[key]}`);
  if (added.length > 0) {
    pieces.push(text.slice(copied, insertAt), (keptEnd !== undefined ? "," : "") + added.join(","));
    copied = insertAt;
  }
  pieces.push(text.slice(copied));
  return pieces.join("");
}
