import { domainToASCII } from "node:url";
import { compileGlob, matchCompiledGlob, type CompiledGlob } from "./glob.js";
import { budgetLongText, forgetLastLongText, isLongText, LongTextBudgetError, ValueMap, ValueSet } from "./longText.js";
import type { ValueShape } from "./declaredShape.js";
import { LABELS_NOT_KEPT, LAST_NOT_KEPT, type SessionState } from "./session.js";
import { convertMembers, MAX_VALIDATED_VALUES, parseTime } from "./schema.js";
import { maskedHead, quotedVisibly, visibly } from "./hiddenText.js";
import { headOf } from "./cutText.js";
import { EvaluationError, fail } from "./evaluationError.js";

export { EvaluationError, fail } from "./evaluationError.js";

/** The evaluation errors of a request that lacks an optional part: the enforcement point's doing, not the agent's. */
export const NO_INTENT_FAULT = "the request names no intent";
export const NO_USER_FAULT = "the request has no user";

/**
 * A field read through an absent value (an optional record the request left out, or the missing
 * user's): an evaluation error, noted as a fault by the generated code and thrown by the
 * interpreter, with the same message. The checker demands a `has` guard first, so a policy
 * that checks clean reaches this only below a fault already noted (no user), which is reported.
 */
export function absentReadFault(field: string): string {
  return `cannot read ${JSON.stringify(field)}: the value it belongs to is absent`;
}


/** What follows a URL's `scheme://`, up to the first `/`, `?` or `#`: its user information, host and port. */
const AUTHORITY = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i;

/** Characters a text shows nothing for (Unicode's default-ignorable code points: a soft hyphen, a variation selector, U+2064). */
const INVISIBLE = /\p{Default_Ignorable_Code_Point}/u;

/** Characters that URL and mail parsers read differently: whitespace and controls (some strip them, some stop at them). */
const SPACE_OR_CONTROL = /[\u0000-\u0020\u007f-\u00a0\u1680\u2000-\u200b\u2028\u2029\u202f\u205f\u3000\ufeff]/;

/** Whether a host name has an empty label (`a..b`, `.a`, `a..`), one trailing dot aside; an IPv6 address (`[::1]`) or no host has none. */
function emptyLabel(host: string): boolean {
  if (host === "" || host.startsWith("[")) return false;
  return (host.endsWith(".") ? host.slice(0, -1) : host).split(".").includes("");
}

/** A domain as DNS reads it: lowercased, without the trailing dot of a fully qualified name. */
function domainOf(host: string): string {
  const lower = host.toLowerCase();
  return lower.endsWith(".") ? lower.slice(0, -1) : lower;
}

/**
 * The host of a URL string, lowercased, without a trailing dot; "" when it is not an absolute
 * URL. A URL that parsers disagree on is an evaluation error (so a deny rule matches and an
 * allow rule does not): a backslash (WHATWG reads `https://github.com\@evil.example` as
 * github.com, curl and Python as evil.example), whitespace or control characters, an `@`
 * anywhere before the first `/` after the scheme (user information, or an `@` after a `?` or `#`
 * that git and ssh read as one: `ssh://git.acme.com#@evil.example` goes to evil.example), or a
 * host with a character no host name has (`https://evil.example;.acme.com`, which WHATWG keeps
 * whole and clients built on Node's legacy `url.parse` cut at the `;`).
 */
export function urlHost(value: string, note?: FaultNote): string {
  if (typeof value !== "string") return "";
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return "";
  }
  if (value.includes("\\") || SPACE_OR_CONTROL.test(value)) faultOrFail(note, `url.host: ${describeText(value)} is ambiguous (a backslash, whitespace or a control character): URL parsers disagree on its host`);
  // WHATWG drops an invisible character in a host (`api.acme\u2064.com` is api.acme.com), and
  // Python's http.client keeps it and goes to another name: refused, as a zero-width space is.
  else if (INVISIBLE.test(AUTHORITY.exec(value)?.[1] ?? "")) faultOrFail(note, `url.host: ${describeText(value)} has an invisible character in its host, which URL parsers drop or keep: they disagree on its host`);
  else if (url.username !== "" || url.password !== "" || /^[a-z][a-z0-9+.-]*:\/\/[^/]*@/i.test(value)) faultOrFail(note, `url.host: ${describeText(value)} has user information before its host (an \`@\` before the first \`/\` after the scheme, which git and ssh read as one even after a \`?\` or \`#\`), which URL parsers read differently`);
  else {
    const host = SPECIAL_SCHEMES.has(url.protocol) ? url.hostname : opaqueHostAsDomain(url.hostname, value, note);
    if (host === undefined) return "";
    // `evil.com..` or `.evil.com`: no resolver agrees on such a name, and one trailing dot taken
    // off would leave `evil.com.`, which a rule on `evil.com` does not match.
    if (emptyLabel(host)) faultOrFail(note, `url.host: ${describeText(value)} has an empty label in its host (two dots together, a leading dot, or more than one trailing dot)`);
    else if (!isPlainHost(host)) faultOrFail(note, `url.host: ${describeText(value)} has a host with a character no host name has (only letters, digits, \`-\`, \`_\` and dots): clients cut such a host short, each in its own place`);
    else return unmappedHost(domainOf(host));
  }
  return "";
}

/**
 * An IPv4-mapped IPv6 address as WHATWG writes it (`[::ffff:a9fe:a9fe]`) as the IPv4 address a
 * client connects to (`169.254.169.254`), so a rule on the IPv4 address holds for both; any
 * other host as it is.
 */
export function unmappedHost(host: string): string {
  const mapped = /^\[::ffff:([0-9a-f]{1,4}):([0-9a-f]{1,4})\]$/.exec(host);
  if (mapped === null) return host;
  const high = Number.parseInt(mapped[1]!, 16);
  const low = Number.parseInt(mapped[2]!, 16);
  return `${high >> 8}.${high & 255}.${low >> 8}.${low & 255}`;
}

/** A host name as resolvers read it, in its ASCII form: letters, digits, `-`, `_` and dots (`url.host` and `email.domain` alike). */
const HOST_NAME = /^[a-z0-9._-]*$/i;

/** A host name (HOST_NAME), or an IPv6 address in brackets; or no host. */
function isPlainHost(host: string): boolean {
  return HOST_NAME.test(host) || /^\[[0-9a-f:.]+\]$/i.test(host);
}

/** The schemes whose host WHATWG URL maps to its ASCII form (IDNA) and reads as IPv4 when it is one. */
const SPECIAL_SCHEMES: ReadonlySet<string> = new Set(["http:", "https:", "ws:", "wss:", "ftp:", "file:"]);

/**
 * The host of a URL of another scheme (`ssh:`, `git+https:`, `redis:`) as a special scheme's
 * host reads: WHATWG keeps such a host opaque (`git+https://bücher.de` is `b%c3%bccher.de`,
 * `ssh://0x7f.1` stays `0x7f.1`), while the clients behind those schemes (git, curl, ssh,
 * `inet_aton`) map it and connect to `xn--bcher-kva.de` and 127.0.0.1. So it is percent-decoded
 * and mapped as a special host is; a host that decodes to what no plain host name holds (`/`,
 * `@`, `:`, `%`, a backslash, whitespace: and `urlHost` refuses the rest, such as `;`) or that
 * has no ASCII form is an evaluation error.
 * Undefined after such an error.
 */
function opaqueHostAsDomain(host: string, value: string, note: FaultNote | undefined): string | undefined {
  if (host === "" || host.startsWith("[")) return host;
  let decoded: string;
  try {
    decoded = decodeURIComponent(host);
  } catch {
    decoded = "%";
  }
  const ascii = /[/?#@:%[\]\\]/.test(decoded) || SPACE_OR_CONTROL.test(decoded) ? "" : domainToASCII(decoded);
  if (ascii !== "") return ascii;
  faultOrFail(note, `url.host: ${describeText(value)} has a host that is not a plain host name (decoded, it holds a character no host name has, or it has no ASCII form)`);
  return undefined;
}

/**
 * The domain of an e-mail address, lowercased, without a trailing dot; "" when there is no `@`
 * or nothing after it. A string that is not one plain address is an evaluation error: a mailer
 * splits `eve@evil.example, bob@acme.com` into two recipients, and must not be checked as
 * acme.com; so are angle brackets, quotes, more than one `@`, whitespace and control characters.
 * The domain is given in its ASCII form, as `url.host` gives a URL's (`bücher.de` is
 * `xn--bcher-kva.de`), after the mapping mail systems apply: full-width letters, the ideographic
 * full stop and invisible characters (`ｅｖｉｌ。com`, a soft hyphen) do not make `evil.com`
 * another domain. A domain with no ASCII form is an evaluation error.
 */
export function emailDomain(value: string, note?: FaultNote): string {
  if (typeof value !== "string") return "";
  const at = value.lastIndexOf("@");
  if (at < 0 || at === value.length - 1) return "";
  if (value.indexOf("@") !== at || /[,;<>()[\]"\\:]/.test(value) || SPACE_OR_CONTROL.test(value)) {
    faultOrFail(note, `email.domain: ${describeText(value)} is not a single plain e-mail address`);
    return "";
  }
  const raw = value.slice(at + 1);
  // domainToASCII reads a URL host: it would cut `acme.com/evil.com` at the `/`, decode `%61`,
  // and turn `0x7f.1` into `127.0.0.1`. None of those is one plain domain.
  const ascii = /[/?#%]/.test(raw) ? "" : domainToASCII(raw);
  const renumbered = /^[0-9.]+$/.test(ascii) && ascii !== raw.toLowerCase().replace(/\.$/, "");
  // Mapped, a full-width comma is a comma (`evil.com，acme.com`): only a plain host name is a
  // domain, with no empty label (`evil.com..`, `.evil.com`) but for one trailing dot.
  if (ascii === "" || renumbered || emptyLabel(ascii) || !HOST_NAME.test(ascii)) {
    faultOrFail(note, `email.domain: ${describeText(value)} has no valid domain`);
    return "";
  }
  return domainOf(ascii);
}

/**
 * A file path as the kernel resolves it when no link is involved and every folder before a `..`
 * exists (language.md 5.10): absolute, with empty and `.` segments dropped and each `..` taking
 * off the segment before it, without a trailing `/`. A path that programs would read
 * differently, or that the policy cannot place, is an evaluation error (a deny rule matches and
 * an allow rule does not): one that does not start with `/` (a relative path, `~`, `C:`, "": it
 * depends on a working folder or a shell the policy does not see); a `..` above the root (the
 * kernel stays at `/`, but the path was not written for it); a name that ends in a dot or white
 * space, `.` and `..` aside (Windows trims them, and so do tools that trim their arguments:
 * `.git.` and `.. ` are `.git` and `..` there); and the characters `refusedInPath` lists.
 */
export function pathNormalize(value: string, note?: FaultNote): string {
  if (typeof value !== "string") return "";
  const problem = !value.startsWith("/") ? "is not an absolute path (it does not start with `/`): what it names depends on a working folder the policy does not see" : (refusedInPath(value) ?? (TRIMMED_NAME.test(value) ? "has a name ending in a dot or white space, which Windows and tools that trim their arguments take off (`.git.` is `.git` there, `.. ` is `..`)" : undefined));
  const normalized = problem === undefined ? lexicalPath(value) : undefined;
  if (normalized === undefined) faultOrFail(note, `path.normalize: ${describeText(value)} ${problem ?? "has a `..` above the root"}`);
  return normalized ?? "";
}

/** An absolute path with empty and `.` segments dropped and each `..` resolved; undefined for a `..` above the root. */
export function lexicalPath(path: string): string | undefined {
  const kept: string[] = [];
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment !== "..") kept.push(segment);
    else if (kept.pop() === undefined) return undefined;
  }
  return `/${kept.join("/")}`;
}

/** A `%` and two hex digits that decode to `.`, `/`, `\`, `%`, white space or a control character. */
const PERCENT_ENCODED_REFUSED = /%(?:2e|2f|5c|25|20|7f|[01][0-9a-f])/i;
/** A name ending in a dot or white space that is not `.` or `..` (`.git.`, `...`, `.. `, `a\u00a0`). */
const TRIMMED_NAME = /(?:^|\/)(?!\.{1,2}(?:\/|$))[^/]*[.\s](?=\/|$)/;

/**
 * Why any part of a path holds what `path.normalize` refuses, wherever it stands; undefined when
 * it holds nothing of the kind: a control character (C programs end a path at a NUL, URL parsers
 * drop a tab or a line break); a backslash (a separator on Windows, where `..\` climbs); a
 * percent-encoded `.`, `/`, `\`, `%`, ASCII space or control character (a tool that takes the path
 * from a URL decodes `%2e%2e` to `..`); an invisible character (a zero-width joiner: `.g\u200cit`
 * is `.git` to some file systems); a lone surrogate (stored as U+FFFD); a character Unicode's
 * compatibility mapping (NFKC, which some tools apply) makes a `.`, `/` or `\` (`．．／`, `․`).
 */
export function refusedInPath(text: string): string | undefined {
  if (/[\u0000-\u001f\u007f-\u009f]/.test(text)) return "has a control character (C programs end a path at a NUL, URL parsers drop a tab or a line break)";
  if (text.includes("\\")) return "has a backslash, a separator on Windows (where `..\\` climbs out of a folder)";
  if (PERCENT_ENCODED_REFUSED.test(text)) return "has a percent-encoded `.`, `/`, `\\`, `%`, ASCII space or control character, which a tool that takes the path from a URL decodes (`%2e%2e` is `..`)";
  if (INVISIBLE.test(text)) return "has an invisible character, which some file systems drop (`.g\\u200cit` is `.git` on macOS)";
  if (/\p{Cs}/u.test(text)) return "has a lone surrogate (text that is not valid Unicode), which file systems store as U+FFFD";
  for (const [character] of text.matchAll(/[^\u0000-\u007f]/gu)) {
    if (/[./\\]/.test(character.normalize("NFKC"))) return `has ${describeText(character)}, which Unicode's compatibility mapping (NFKC, which some tools apply) reads as \`.\`, \`/\` or \`\\\``;
  }
  return undefined;
}

/**
 * Text from a request quoted for a reason or an error: in JSON quotes, cut to `length` (80) characters, so
 * a 1 MB tool name, session id or time does not make every decision log line a megabyte. What
 * JSON leaves as it is but a terminal acts on or a reader cannot see (C1 controls, the
 * bidirectional controls, zero-width and other invisible characters, spaces other than the
 * ordinary one: quotedVisibly) is escaped too: these reasons reach logs and the person approving an ask.
 */
export function describeText(value: string, length = 80): string {
  // Credentials hidden before the cut, which could otherwise leave a password's start without its `@`.
  const shown = maskedHead(value, length);
  return quotedVisibly(shown.length > length ? `${headOf(shown, length - 3)}...` : shown);
}

const globCache = new Map<string, CompiledGlob>();
/** `like` with a pattern known only at run time; patterns written in the policy are compiled ahead. */
export function like(subject: string, pattern: string): boolean {
  return matchCompiledGlob(globFor(pattern), subject);
}

/**
 * The compiled glob of a run-time pattern. Short patterns are kept across decisions. A long one
 * comes from a request (`args.s like args.p`), the agent's to choose: a thousand kept megabyte
 * patterns would be a gigabyte held between decisions, so long ones are kept for the decision
 * only, each compiled once however many elements of a quantifier it is matched against.
 */
function globFor(pattern: string): CompiledGlob {
  let glob = globCache.get(pattern);
  if (glob !== undefined) return glob;
  if (pattern.length > MAX_CACHED_PATTERN) {
    if (longGlobsEpoch !== decisionEpoch) {
      longGlobs.clear();
      longGlobsEpoch = decisionEpoch;
    }
    glob = longGlobs.get(pattern);
    if (glob === undefined) longGlobs.set(pattern, (glob = compileGlob(pattern)));
    return glob;
  }
  glob = compileGlob(pattern);
  if (globCache.size > 1000) globCache.clear();
  globCache.set(pattern, glob);
  return glob;
}
// (A ValueMap: patterns of 16,384 characters and more would collide in a Map, longText.ts.)
const longGlobs = new ValueMap<CompiledGlob>();
let longGlobsEpoch = -1;
const MAX_CACHED_PATTERN = 256;

/**
 * Values one comparison, search or key of request values may walk, counted as validation counts
 * them (each list its members, each record one; schema.ts MAX_VALIDATED_VALUES): room for both
 * sides of a comparison, each validated (with its own record), so a validated request's
 * declared values always fit. It bounds the walks of values no validation counted: an
 * invalid request's `args` compared with the previous call's for `session.repeats`, undeclared
 * fields compared by bundles of older compilers. Counted along every path, as validation does:
 * an object an in-process caller shares between fields would otherwise be walked once per path,
 * 2^40 times for 40 levels of two children that are one object. Each walk from outside (the
 * exported functions below) has its own count, so what one comparison spends never makes
 * another fail; past it the walk fails (EvaluationError) and its caller fails closed.
 */
export const MAX_WALKED_VALUES = 2 * MAX_VALIDATED_VALUES + 2;

export const TOO_MANY_VALUES_TO_COMPARE = `the values compared hold more than ${MAX_WALKED_VALUES.toLocaleString("en-US")} values (list members and records, counted along every path: an object shared by several fields counts once for each)`;

/** Values the current walk has visited (MAX_WALKED_VALUES); each exported entry point starts it at 0. */
let walked = 0;

/** Counts `count` values against the walk's budget, failing past it. */
function walk(count: number): void {
  if ((walked += count) > MAX_WALKED_VALUES) fail(TOO_MANY_VALUES_TO_COMPARE);
}

/** Structural equality for values of the same declared type (sets compare as sets). */
export function equal(a: unknown, b: unknown, asSet = false): boolean {
  walked = 0;
  return equalWalk(a, b, asSet);
}

function equalWalk(a: unknown, b: unknown, asSet = false): boolean {
  if (a === b) return true;
  if (a instanceof Set || b instanceof Set || asSet) return sameMembers(toArray(a), toArray(b), (member) => canonicalText("", member));
  if (Array.isArray(a)) {
    if (!Array.isArray(b) || a.length !== b.length) return false;
    walk(a.length);
    for (let i = 0; i < a.length; i++) if (!equalWalk(a[i], b[i])) return false;
    return true;
  }
  if (a && b && typeof a === "object" && typeof b === "object" && !Array.isArray(b)) {
    walk(1);
    return sameRecords(a as Record<string, unknown>, b as Record<string, unknown>);
  }
  return false;
}

/**
 * Whether two records have the same own keys with equal values: for values whose declared type
 * is unknown (bundles compiled before comparisons carried one). Walked without building key lists.
 */
function sameRecords(left: Record<string, unknown>, right: Record<string, unknown>): boolean {
  let count = 0;
  for (const key in left) {
    if (!Object.hasOwn(left, key)) continue;
    count++;
    if (!Object.hasOwn(right, key) || !equalWalk(left[key], right[key])) return false;
  }
  for (const key in right) if (Object.hasOwn(right, key)) count--;
  return count === 0;
}

/** A declared field's value: absent, undefined and null are the same (all "not present", as `has` says). */
function fieldOf(record: Record<string, unknown>, name: string): unknown {
  return Object.hasOwn(record, name) ? (record[name] ?? undefined) : undefined;
}

/** Whether two records agree on every declared field (undeclared ones are ignored). */
function sameDeclaredFields(left: Record<string, unknown>, right: Record<string, unknown>, fields: readonly (readonly [string, ValueShape | null])[]): boolean {
  for (const [name, shape] of fields) if (!equalShapedWalk(fieldOf(left, name), fieldOf(right, name), shape)) return false;
  return true;
}

export type { ValueShape };

/** Equality of two values of one declared type (`shape`: see ValueShape). */
export function equalShaped(a: unknown, b: unknown, shape: ValueShape | null): boolean {
  walked = 0;
  return equalShapedWalk(a, b, shape);
}

function equalShapedWalk(a: unknown, b: unknown, shape: ValueShape | null): boolean {
  if (shape === null) return equalWalk(a, b);
  if (a === b) return true;
  if ("time" in shape) return instantOf(a) === instantOf(b);
  if ("set" in shape) {
    if (!Array.isArray(a) || !Array.isArray(b)) return equalWalk(a, b);
    return listIndex(a, shape.set).sameAs(listIndex(b, shape.set));
  }
  if ("list" in shape) {
    if (!Array.isArray(a) || !Array.isArray(b)) return equalWalk(a, b);
    if (a.length !== b.length) return false;
    walk(a.length);
    for (let i = 0; i < a.length; i++) if (!equalShapedWalk(a[i], b[i], shape.list)) return false;
    return true;
  }
  if (!isRecord(a) || !isRecord(b)) return equalWalk(a, b);
  walk(1);
  return sameDeclaredFields(a, b, shape.fields);
}

/**
 * A time as the instant it names (epoch ms), so two spellings of one instant are one value; a
 * time a condition already read is that number. Anything else (no time) stays as it is.
 */
function instantOf(value: unknown): unknown {
  if (typeof value !== "string") return value;
  const instant = parseTime(value);
  return Number.isNaN(instant) ? value : instant;
}

export function isRecord(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

/**
 * The members of a collection, indexed for lookups in constant time: scalars as they are,
 * records and collections by a canonical key (`keyOf`), in a set of their own so that a string
 * member can never pass for a record's key. Request data decides the sizes: comparing or
 * searching two 40,000-item lists item by item stalled `decide` for seconds.
 */
class MemberIndex {
  // ValueSets: a list of long strings (or of records holding them) must not collide (longText.ts).
  private readonly scalars = new ValueSet();
  private readonly keys = new ValueSet();

  /** `instants`: the members are times, indexed by the instant each names (instantOf). */
  constructor(
    items: readonly unknown[],
    private readonly keyOf: (member: unknown) => string,
    private readonly instants = false,
  ) {
    walk(items.length);
    for (const item of items) {
      if (isScalar(item)) this.scalars.add(instants ? instantOf(item) : item);
      else this.keys.add(keyOf(item));
    }
  }

  get size(): number {
    return this.scalars.size + this.keys.size;
  }

  has(member: unknown): boolean {
    return isScalar(member) ? this.scalars.has(this.instants ? instantOf(member) : member) : this.keys.has(this.keyOf(member));
  }

  /** Whether every member of this one is in `other`. */
  isSubsetOf(other: MemberIndex): boolean {
    return this.size <= other.size && this.scalars.isSubsetOf(other.scalars) && this.keys.isSubsetOf(other.keys);
  }

  /** Whether the two share a member (walking the smaller). */
  intersects(other: MemberIndex): boolean {
    if (this.size > other.size) return other.intersects(this);
    return this.scalars.intersects(other.scalars) || this.keys.intersects(other.keys);
  }

  /** Whether both hold the same members (ignoring order and repeats). */
  sameAs(other: MemberIndex): boolean {
    return this.scalars.sameAs(other.scalars) && this.keys.sameAs(other.keys);
  }
}

/**
 * Which decision is running: indexes of request lists are reused within one, never across
 * (an embedder may change a list between calls). Engine.decide and explain start a new one.
 */
let decisionEpoch = 0;

export function newDecision(): void {
  decisionEpoch++;
  forgetDecision();
  budgetLongText();
}

/**
 * Lets go of what a decision remembered of its request (answers of call sites, run-time `like`
 * patterns, long strings hashed): at its end (Engine.decide, explain), not at the next use of the
 * same call site or pattern, which may never come, so no request's megabytes outlive its decision.
 * Costs nothing when nothing was remembered.
 */
export function forgetDecision(): void {
  if (sitesWithMemory.length > 0) {
    for (const site of sitesWithMemory) site.seen = undefined;
    sitesWithMemory.length = 0;
  }
  if (longGlobs.size > 0) longGlobs.clear();
  forgetLastLongText();
}

const convertedLists = new WeakMap<readonly unknown[], { epoch: number; unit: "risk" | "time"; converted: unknown }>();

/**
 * A request's collection of risks or times as conditions compare it (convertMembers), converted
 * once per decision for a long one: read inside a quantifier (`any(x in context.a: x in
 * context.b)`), a 3,000-member list converted again for every element made one decision take
 * seconds; the same converted list also keeps its index (listIndex) for the decision.
 */
export function membersAsCompared(value: unknown, unit: "risk" | "time"): unknown {
  if (!Array.isArray(value) || value.length <= 16) return convertMembers(value, unit);
  const cached = convertedLists.get(value);
  if (cached !== undefined && cached.epoch === decisionEpoch && cached.unit === unit) return cached.converted;
  const converted = convertMembers(value, unit);
  convertedLists.set(value, { epoch: decisionEpoch, unit, converted });
  return converted;
}

const listIndexes = new WeakMap<readonly unknown[], { epoch: number; shape: ValueShape | null; index?: MemberIndex; failure?: string }>();

/**
 * The index of a request's list with members of this shape, built once per decision for a long
 * one, wherever it is needed: membership, set equality, `containsAny`/`containsAll` and `size()`
 * inside a quantifier, or a record holding a 20,000-member set compared with each of 20,000
 * others, must not index the same list again and again. A list whose members are too deep to
 * index fails once per decision, then the failure is given again without walking it.
 */
function listIndex(list: readonly unknown[], shape: ValueShape | null): MemberIndex {
  const constantIndexes = constantListIndexes.get(list);
  if (constantIndexes !== undefined) return constantListIndex(list, constantIndexes, shape);
  const cached = listIndexes.get(list);
  if (cached !== undefined && cached.epoch === decisionEpoch && cached.shape === shape) {
    if (cached.failure !== undefined) fail(cached.failure);
    return cached.index!;
  }
  try {
    const index = new MemberIndex(list, keyFor(shape), isTime(shape));
    // A short list is indexed again when asked (cheaper than keeping it); a failure is kept whatever the length.
    if (list.length > 16) listIndexes.set(list, { epoch: decisionEpoch, shape, index });
    return index;
  } catch (error) {
    listIndexes.set(list, { epoch: decisionEpoch, shape, failure: message(error) });
    throw error;
  }
}

/**
 * The indexes of the policy's own list literals (`args.to containsAny ["a", "b", …]`), by
 * the shape their members are compared as: made once, when first used, and kept across
 * decisions, as the `Set` of an `in` against a literal is. Indexed afresh at every decision, a
 * literal of 10,000 domains cost a millisecond per decision, whatever the request held
 * (audit s19 a3 #4). Only lists `constantList` made are kept: their members never change.
 */
const constantListIndexes = new WeakMap<readonly unknown[], Map<ValueShape | null, MemberIndex>>();

/**
 * A list literal of the policy, hoisted by the generated code (emitJavaScript), whose index
 * `listIndex` keeps across decisions. Its members must be scalars and none a long string
 * (isLongText): indexing those walks no member and hashes no text, so what indexing the list
 * again would charge to the walk's budget is its length alone (see `constantListIndex`), and
 * nothing to the decision's budget of long-text work. A list of anything else is indexed as a
 * request's list is (the generated code does not hoist such lists; this is the runtime's own check).
 */
export function constantList(members: unknown[]): readonly unknown[] {
  const list = Object.freeze(members);
  if (members.every((member) => isScalar(member) && !isLongText(member))) constantListIndexes.set(list, new Map());
  return list;
}

/**
 * The kept index of a `constantList` for `shape`, made on its first use. The walk is charged
 * first what making it charges (one value per member), so that a comparison fails past
 * MAX_WALKED_VALUES exactly where it did with the literal indexed afresh at each use.
 */
function constantListIndex(list: readonly unknown[], indexes: Map<ValueShape | null, MemberIndex>, shape: ValueShape | null): MemberIndex {
  walk(list.length);
  let index = indexes.get(shape);
  if (index === undefined) {
    // Made outside the current walk, which has just been charged for it.
    const outer = walked;
    walked = 0;
    try {
      index = new MemberIndex(list, keyFor(shape), isTime(shape));
    } finally {
      walked = outer;
    }
    indexes.set(shape, index);
  }
  return index;
}

/** Whether two collections hold the same members, ignoring order and repeats, in linear time. */
function sameMembers(left: readonly unknown[], right: readonly unknown[], keyOf: (member: unknown) => string): boolean {
  return new MemberIndex(left, keyOf).sameAs(new MemberIndex(right, keyOf));
}

/**
 * A canonical text for a value of the declared shape: declared record fields in name order
 * (absent and null left out), members of sets sorted and unique, lists in order. Two values
 * have the same key exactly when `equalShaped` holds.
 */
function shapedKey(value: unknown, shape: ValueShape | null): string {
  if (shape === null) return plainKey(value) ?? canonicalText("", value);
  if ("time" in shape) return canonicalText("", instantOf(value));
  if ("set" in shape || "list" in shape) {
    // A session's set (`session.labels` in a list literal) is a JavaScript Set, a request's an array.
    if (value instanceof Set) value = [...value];
    if (!Array.isArray(value)) return canonicalText("", value);
    walk(value.length);
    if ("list" in shape) return `[${value.map((v) => shapedKey(v, shape.list)).join(",")}]`;
    return `<${sortedDistinct(value.map((v) => shapedKey(v, shape.set))).join(",")}>`;
  }
  if (!isRecord(value)) return canonicalText("", value);
  walk(1);
  // Joined as it goes (no list of parts to join): an ask's arguments are keyed on every ask.
  let text = "{";
  const fields = shape.fields;
  const quoted = quotedNamesOf(fields);
  for (let i = 0; i < fields.length; i++) {
    const member = fieldOf(value, fields[i]![0]);
    if (member !== undefined) text += (text.length > 1 ? "," : "") + quoted[i] + shapedKey(member, fields[i]![1]);
  }
  return `${text}}`;
}

/**
 * canonicalText("", value) for a scalar or a list of strings, most of what an ask's arguments
 * hold, made without the general walk's stack and markers (keying asks took as long as the rest
 * of an ask's decision); undefined for any other value. The same text, and the same count of
 * walked values (`walk`).
 */
function plainKey(value: unknown): string | undefined {
  if (typeof value === "string" || typeof value === "number" || typeof value === "boolean") return `""|${JSON.stringify(value)}`;
  if (!Array.isArray(value)) return undefined;
  const parts = new Array<string>(value.length);
  for (let i = 0; i < value.length; i++) {
    const member: unknown = value[i];
    if (typeof member !== "string") return undefined;
    parts[i] = JSON.stringify(member);
  }
  walk(value.length);
  return `""|[${parts.join(",")}]`;
}

/** Each declared field's name as shapedKey writes it (`"name":`), made once per shape. */
const quotedNames = new WeakMap<readonly (readonly [string, ValueShape | null])[], readonly string[]>();
function quotedNamesOf(fields: readonly (readonly [string, ValueShape | null])[]): readonly string[] {
  let quoted = quotedNames.get(fields);
  if (quoted === undefined) quotedNames.set(fields, (quoted = fields.map(([name]) => `${JSON.stringify(name)}:`)));
  return quoted;
}

/**
 * A canonical text for a value of the declared shape, equal for two values exactly when
 * `sameArguments` holds (see `shapedKey`). Nested too deeply to walk by its shape, it falls
 * back to the whole value's text (`canonicalKey`): stricter (undeclared fields then count), and
 * the same for the same value, so two keys of one call still agree.
 */
export function declaredKey(value: unknown, shape: ValueShape | null): string {
  try {
    walked = 0;
    return shapedKey(value, shape);
  } catch {
    return `#whole${canonicalKey("", value)}`;
  }
}

/**
 * Texts sorted, each once: repeats found next to each other once sorted, not by a `Set`, in
 * which long texts of one length collide (longText.ts).
 */
export function sortedDistinct(texts: string[]): string[] {
  texts.sort();
  return texts.filter((text, i) => i === 0 || text !== texts[i - 1]);
}

function isScalar(value: unknown): boolean {
  return value === null || (typeof value !== "object" && typeof value !== "function");
}

function toArray(value: unknown): unknown[] {
  if (value instanceof Set) return [...value];
  return Array.isArray(value) ? value : [];
}

/** Membership in a request list (array) or a session set. */
export function has(collection: unknown, element: unknown, shape: ValueShape | null = null, note?: FaultNote): boolean {
  if (collection instanceof Set) return collection.has(element);
  return Array.isArray(collection) && noting(note, () => scan(collection, element, shape));
}

/**
 * Runs a comparison that walks request values, which a value nested thousands of levels deep
 * can make overflow the stack. From the generated code (`note` given) the failure is noted as a
 * fault, like any other, so `and` / `or` keep it inside the term; the interpreter gets it thrown.
 */
function noting(note: FaultNote | undefined, compare: () => boolean): boolean {
  walked = 0;
  if (note === undefined) return compare();
  try {
    return compare();
  } catch (error) {
    note.fault ??= message(error);
    return false;
  }
}

/** `equalShaped` for the generated code: a failure to compare is noted in `note` (see `noting`). */
export function equalDeclared(a: unknown, b: unknown, shape: ValueShape | null, note: FaultNote): boolean {
  return noting(note, () => equalShapedWalk(a, b, shape));
}

/**
 * One comparison site of the generated code inside a quantifier, where it may run once per
 * element: its last operands and answer in this decision. Without it `any(x in args.us:
 * args.s == args.s2)` compares two long sets that never change once per element, quadratic in
 * the request's size (the sides' indexes themselves are kept per decision by `listIndex`).
 * The decision is known by its number, not its context: a site, shared by every engine running
 * the same code, must not keep a session's state alive (it keeps only its last operands).
 */
export interface CompareSite {
  epoch: number;
  a: unknown;
  b: unknown;
  answer: boolean;
  /** The fault the comparison of `a` and `b` noted (values too deep to compare), if any: noted again. */
  fault: string | undefined;
}

export function compareSite(): CompareSite {
  return { epoch: -1, a: undefined, b: undefined, answer: false, fault: undefined };
}

/**
 * The answer at `site` for operands `a` and `b` in this decision: remembered (with the fault it
 * noted, noted again) when they are the ones compared last, else computed by `compare` and
 * remembered. A comparison that fails is remembered too: values too deep to compare must not be
 * walked again for every element of a quantifier.
 */
function answerAt(site: CompareSite, decision: FaultNote, a: unknown, b: unknown, compare: () => boolean): boolean {
  if (site.epoch !== decisionEpoch || site.a !== a || site.b !== b) {
    let answer = false;
    let fault: string | undefined;
    try {
      walked = 0;
      answer = compare();
    } catch (error) {
      fault = message(error);
    }
    site.epoch = decisionEpoch;
    site.a = a;
    site.b = b;
    site.answer = answer;
    site.fault = fault;
  }
  if (site.fault !== undefined) decision.fault ??= site.fault;
  return site.answer;
}

/** `equalDeclared` at a site inside a quantifier. */
export function equalDeclaredAt(site: CompareSite, decision: FaultNote, a: unknown, b: unknown, shape: ValueShape | null): boolean {
  return answerAt(site, decision, a, b, () => equalShapedWalk(a, b, shape));
}

/** `containsAny` / `containsAll` at a site inside a quantifier. */
export function containsAt(site: CompareSite, decision: FaultNote, all: boolean, left: unknown, right: unknown, shape: ValueShape | null): boolean {
  return answerAt(site, decision, left, right, () => (all ? containsAll(left, right, shape) : containsAny(left, right, shape)));
}

function scan(list: readonly unknown[], element: unknown, shape: ValueShape | null): boolean {
  if (isScalar(element) && !isTime(shape)) return list.includes(element);
  return list.some((x) => equalShapedWalk(x, element, shape));
}

function isTime(shape: ValueShape | null): boolean {
  return shape !== null && "time" in shape;
}

/** How members of a collection of this element shape are keyed for a MemberIndex. */
function keyFor(shape: ValueShape | null): (member: unknown) => string {
  return shape === null ? (member) => canonicalText("", member) : (member) => shapedKey(member, shape);
}

/**
 * `has` from the generated code inside a quantifier, where a test may run once per element: a
 * long list is searched through its index, built once per decision (`listIndex`). Without it
 * `any(r in args.to: r in args.cc)` is quadratic in the request's size, and a megabyte of
 * addresses stalls `decide` for seconds. A failure to compare is noted in `note`.
 */
export function hasAt(note: FaultNote, collection: unknown, element: unknown, shape: ValueShape | null): boolean {
  if (collection instanceof Set) return collection.has(element);
  if (!Array.isArray(collection)) return false;
  return noting(note, () => (collection.length > 16 ? listIndex(collection, shape).has(element) : scan(collection, element, shape)));
}

/**
 * Whether the two collections share a member. Both sides are indexed (a long list once per
 * decision) and compared member by member of the smaller: a short list against a long one that
 * stays the same costs the short one's length.
 */
export function containsAny(left: unknown, right: unknown, shape: ValueShape | null = null, note?: FaultNote): boolean {
  return noting(note, () => indexOf(left, shape).intersects(indexOf(right, shape)));
}

/** Whether every member of `right` is in `left` (indexed as for `containsAny`). */
export function containsAll(left: unknown, right: unknown, shape: ValueShape | null = null, note?: FaultNote): boolean {
  return noting(note, () => indexOf(right, shape).isSubsetOf(indexOf(left, shape)));
}

/** The index of any collection: a request's list (kept per decision when long), a session's Set, or nothing. */
function indexOf(collection: unknown, shape: ValueShape | null): MemberIndex {
  return Array.isArray(collection) ? listIndex(collection, shape) : new MemberIndex(toArray(collection), keyFor(shape), isTime(shape));
}

/** `S.size()` of a declared set: its distinct members (a request sends a set as a list, maybe with repeats). */
export function distinctCount(value: unknown, shape: ValueShape | null): number {
  walked = 0;
  if (value instanceof Set) return value.size;
  if (!Array.isArray(value)) return 0;
  return value.length <= 1 ? value.length : listIndex(value, shape).size;
}

/**
 * `distinctCount` from the generated code: a long set is counted through its index, built once
 * per decision (a size inside a quantifier would otherwise count the whole set once per
 * element), and a set too deep to count is a fault noted in `note`.
 */
export function distinctCountAt(note: FaultNote, value: unknown, shape: ValueShape | null): number {
  try {
    return distinctCount(value, shape);
  } catch (error) {
    note.fault ??= message(error);
    return 0;
  }
}

export function size(value: unknown): number {
  if (value instanceof Set) return value.size;
  if (Array.isArray(value) || typeof value === "string") return value.length;
  return 0;
}

export function items(value: unknown): unknown[] {
  return toArray(value);
}

/** Literal text to emit while walking; a class so request data can never look like one. */
class Emit {
  constructor(readonly text: string) {}
}

/** Marks the end of an object or array on the walk, so it leaves the set of open ones. */
class Leave {
  constructor(readonly value: object) {}
}

/**
 * A canonical key for "same tool, same arguments": JSON with sorted object keys, built without
 * recursion so a 10,000-deep argument cannot exhaust the stack. Library callers can pass
 * objects that contain themselves; a cycle is written as a marker JSON cannot produce instead
 * of being walked forever (which ran the process out of memory).
 */
export function canonicalKey(tool: string, args: unknown): string {
  walked = 0;
  return canonicalText(tool, args);
}

/** `canonicalKey` within a walk: its values count against the walk's (MAX_WALKED_VALUES). */
function canonicalText(tool: string, args: unknown): string {
  // A scalar (a declared field's value, most often): its text, without the walk below.
  if (args === null || (typeof args !== "object" && typeof args !== "function")) return `${JSON.stringify(tool)}|${typeof args === "bigint" ? `${args}n` : (JSON.stringify(args) ?? "null")}`;
  const out: string[] = [JSON.stringify(tool), "|"];
  const stack: unknown[] = [args];
  const open = new Set<object>();
  while (stack.length > 0) {
    const value = stack.pop();
    if (value instanceof Emit) out.push(value.text);
    else if (value instanceof Leave) open.delete(value.value);
    else if (value !== null && typeof value === "object" && open.has(value)) out.push("#cycle");
    // A JavaScript Set (a session's labels or tools) is a set: its members sorted, as `equal` compares them.
    else if (value instanceof Set) out.push(`<${sortedDistinct([...value].map((member) => canonicalText("", member))).join(",")}>`);
    else if (Array.isArray(value)) {
      walk(value.length);
      out.push("[");
      open.add(value);
      stack.push(new Leave(value), new Emit("]"));
      for (let i = value.length - 1; i >= 0; i--) {
        stack.push(value[i]);
        if (i > 0) stack.push(new Emit(","));
      }
    } else if (value !== null && typeof value === "object") {
      walk(1);
      out.push("{");
      open.add(value);
      stack.push(new Leave(value), new Emit("}"));
      const keys = Object.keys(value).sort();
      for (let i = keys.length - 1; i >= 0; i--) {
        stack.push((value as Record<string, unknown>)[keys[i]!]);
        stack.push(new Emit(`${i > 0 ? "," : ""}${JSON.stringify(keys[i])}:`));
      }
    } else if (typeof value === "bigint") out.push(`${value}n`); // JSON.stringify throws on these
    else out.push(JSON.stringify(value) ?? "null"); // undefined, functions, symbols
  }
  return out.join("");
}

/** `x has f`: the attribute is an own property and not null. */
export function present(object: unknown, name: string): boolean {
  return object !== null && typeof object === "object" && Object.hasOwn(object, name) && (object as Record<string, unknown>)[name] != null;
}

/** The message of an error raised while evaluating a condition. */
export function message(error: unknown): string {
  try {
    // Bounded too: bundle code can throw an EvaluationError of its own making (rt.fail).
    if (error instanceof EvaluationError || error instanceof LongTextBudgetError) return boundedText(error.message);
    if (error instanceof RangeError) return "the input is nested too deeply to evaluate";
  } catch {
    // A proxy can throw from its prototype lookup: described below.
  }
  return `evaluation failed: ${describeThrown(error)}`;
}

/** Where the generated code notes a failure (its evaluation context): helpers note instead of throwing. */
export interface FaultNote {
  fault: string | undefined;
}

/** A failure: noted in `note` (the generated code, which goes on), or thrown (the interpreter). */
export function faultOrFail(note: FaultNote | undefined, text: string): void {
  if (note === undefined) fail(text);
  note.fault ??= text;
}

/**
 * What a thrown value says, for a decision's reasons. Never throws itself: request data can
 * throw anything (an object without toString, an Error whose message getter throws, a proxy).
 */
export function describeThrown(error: unknown): string {
  try {
    if (error instanceof Error) {
      const text: unknown = error.message;
      return boundedText(typeof text === "string" && text !== "" ? text : error.name);
    }
    return boundedText(typeof error === "string" ? error : String(error));
  } catch {
    return "a value that cannot be described";
  }
}

/** The most characters of a thrown value's text kept in a decision's errors or a message. */
export const MAX_THROWN_TEXT = 1000;

/**
 * Text a thrown value carries, as a decision's `errors` and the logs built from them hold it:
 * whatever threw it (a bundle's code, a request's proxy, runtime support) chose it, so it is cut
 * to MAX_THROWN_TEXT characters (a megabyte message would be copied into every decision and log
 * line) and its control and hidden characters are escaped (an escape sequence or a newline would
 * act on the terminal, or write log lines of its own).
 */
export function boundedText(text: string): string {
  const cut = text.length > MAX_THROWN_TEXT ? `${headOf(text, MAX_THROWN_TEXT)}… (${(text.length - MAX_THROWN_TEXT).toLocaleString("en-US")} more characters)` : text;
  return visibly(cut);
}

/**
 * Whether a call repeats the previous one's arguments, for `session.repeats`: by the args'
 * declared shape (undeclared arguments ignored, sets as sets), walked structurally, which costs
 * far less than serializing every call. Arguments nested too deeply to walk (thousands of levels
 * of a recursive record), or holding more values than a walk may visit (MAX_WALKED_VALUES: an
 * invalid call's, which no validation bounded), count as the same: the comparison cannot tell
 * them apart, and a loop guard must not be escaped by nesting deeper or sending more.
 */
export function sameArguments(previous: unknown, current: unknown, shape: ValueShape | null = null): boolean {
  try {
    walked = 0;
    return equalShapedWalk(previous, current, shape);
  } catch {
    return true;
  }
}

/**
 * Why a `session.called(…, within D)` cannot be answered for an attempt at `now`, or undefined
 * (`SessionState.calledFault`). The generated code asks through the runtime, not the session's
 * own method: a runtime without this (policyc 0.3.0 and before, and early builds of 0.4.0,
 * which let a call dated after the attempt lift a `deny` gated on it) refuses the bundle when
 * loading it, rather than running it with that hole.
 */
export function calledFault(state: SessionState, index: number, since: number, now: number, tools?: readonly string[]): string | undefined {
  return state.calledFault(index, since, now, tools);
}

// String operations for generated code: a value that is not a string (a read below a missing
// user's stand-in) gives false or "" instead of throwing, so faults stay cheap.
export function startsWith(text: unknown, prefix: unknown): boolean {
  return typeof text === "string" && typeof prefix === "string" && text.startsWith(prefix);
}
export function endsWith(text: unknown, suffix: unknown): boolean {
  return typeof text === "string" && typeof suffix === "string" && text.endsWith(suffix);
}
export function lower(text: unknown): string {
  return typeof text === "string" ? text.toLowerCase() : "";
}
export function includesText(text: unknown, part: unknown): boolean {
  return typeof text === "string" && typeof part === "string" && text.includes(part);
}

/**
 * Characters the text tests inside the quantifiers of one rule may read in one decision. The
 * budget of visits (MAX_QUANTIFIER_VISITS) counts elements, not the work each does: `any(w in
 * args.words: args.body contains w)` searches the whole body once per word, and a megabyte body
 * with a thousand words took seconds (adversarial text makes a search cost several nanoseconds a
 * character). Past it the test is an evaluation error (failing closed), as past the visits; each
 * rule has its own, as it has its own visits.
 */
export const MAX_SCANNED_CHARACTERS = 100_000_000;

export const OVER_TEXT_BUDGET = `the request is too large to evaluate: the text tests in this rule's quantifiers would read more than ${MAX_SCANNED_CHARACTERS.toLocaleString("en-US")} characters (a budget per rule and decision): bound the size of the text or of the list at the enforcement point`;

/** Where a text test inside a quantifier charges what it reads: the rule's evaluation context (the generated code's `c`). */
export interface ScanNote extends FaultNote {
  scanned: number;
}

/**
 * Charges `characters` to the rule's budget (MAX_SCANNED_CHARACTERS); whether the test may read
 * them. Past the budget a fault is noted and the test reads nothing (it answers false, as a
 * visit past the budget walks nothing): the work a decision does stays bounded, errors and all.
 */
function scanning(note: ScanNote, characters: number): boolean {
  note.scanned += characters;
  if (note.scanned <= MAX_SCANNED_CHARACTERS) return true;
  note.fault ??= OVER_TEXT_BUDGET;
  return false;
}

// The text tests inside a quantifier, where one may run once per element: each charges what it
// may read (the text searched, or the prefix or suffix compared) to the rule's budget. The
// interpreter calls these too, so it charges what the generated code charges, in the same order.
export function includesTextAt(note: ScanNote, text: unknown, part: unknown): boolean {
  return typeof text === "string" && typeof part === "string" && scanning(note, text.length) && text.includes(part);
}
export function startsWithAt(note: ScanNote, text: unknown, prefix: unknown): boolean {
  return typeof text === "string" && typeof prefix === "string" && scanning(note, Math.min(text.length, prefix.length)) && text.startsWith(prefix);
}
export function endsWithAt(note: ScanNote, text: unknown, suffix: unknown): boolean {
  return typeof text === "string" && typeof suffix === "string" && scanning(note, Math.min(text.length, suffix.length)) && text.endsWith(suffix);
}
// A glob match reads the subject once, and looks for each part of the pattern in turn: a pattern
// of a million `*a` parts makes a million searches, so its length is charged with the subject's.
export function matchCompiledGlobAt(note: ScanNote, glob: CompiledGlob, text: unknown): boolean {
  return typeof text === "string" && scanning(note, text.length + glob.length) && matchCompiledGlob(glob, text);
}

/**
 * `subject like pattern` inside a quantifier: as a pattern written in the policy is compiled
 * (JsEmitter.constantLike; keep the two in step), so that a run-time pattern, the interpreter
 * and the generated code charge the same: no star is a comparison (nothing charged), one star
 * at an end a prefix or suffix test, stars at both ends around text without one a search, and
 * any other pattern a glob match, which reads the subject once and the pattern's parts.
 */
export function likeAt(note: ScanNote, subject: unknown, pattern: unknown): boolean {
  if (typeof pattern !== "string") return false;
  // Compiled once per pattern (globFor), so a long pattern matched once per element of an outer
  // quantifier is not split again for each.
  const glob = globFor(pattern);
  if (glob.exact) return subject === pattern;
  if (glob.stars === 1 && glob.prefix === "") return endsWithAt(note, subject, glob.suffix);
  if (glob.stars === 1 && glob.suffix === "") return startsWithAt(note, subject, glob.prefix);
  if (glob.stars === 2 && glob.prefix === "" && glob.suffix === "" && pattern.length > 2) return includesTextAt(note, subject, glob.middle[0]);
  return matchCompiledGlobAt(note, glob, subject);
}

/** What the generated code reads `session.labels` and `session.last` through: its evaluation context, with the session. */
export interface LabelNote extends FaultNote {
  readonly s: SessionState;
}

const NO_LABELS: ReadonlySet<string> = new Set();

/**
 * `session.labels`, read whole (its size, a quantifier over it, `containsAny`, `==`…): once the
 * session found no room for a label (session.UNDECLARED_LABEL_CHARS), any such read could depend
 * on the label not kept, so it notes the fault (the rule fails closed) and gives what was kept.
 */
export function sessionLabels(note: LabelNote): ReadonlySet<string> {
  const state = note.s;
  if (state.labelsDropped) note.fault ??= LABELS_NOT_KEPT;
  return state.labels ?? NO_LABELS;
}

/**
 * `session.last`: after an attempt at an undeclared tool whose name was too long to keep
 * (SessionState.lastTool), it notes the fault (the rule fails closed, a term of `or`/`and` only
 * when nothing else settles it, as the interpreter does) and gives "". The code of bundles
 * built before reads `c.s.last`, which throws the same fault: the whole rule fails closed.
 */
export function sessionLast(note: LabelNote): string {
  const tool = note.s.lastTool;
  if (tool !== undefined) return tool;
  note.fault ??= LAST_NOT_KEPT;
  return "";
}

/**
 * `session.labels contains label` (or `label in session.labels`): exact for a label the session
 * holds, and for one it always keeps (of the label enum, or a tool's `returns`), even after it
 * found no room for others; otherwise, then, a fault (SessionState.labelFault).
 */
export function hasSessionLabel(note: LabelNote, label: unknown): boolean {
  const state = note.s;
  if (state.labels?.has(label as string) === true) return true;
  const fault = state.labelFault(label);
  if (fault !== undefined) note.fault ??= fault;
  return false;
}

/** `==`, `!=`, `<`, `<=`, `>`, `>=` on scalars (numbers, strings, bools): the one definition the
 * interpreter and the checker's constant folding share. */
export function compareScalars(operator: "==" | "!=" | "<" | "<=" | ">" | ">=", left: unknown, right: unknown): boolean {
  switch (operator) {
    case "==":
      return left === right;
    case "!=":
      return left !== right;
    case "<":
      return (left as number) < (right as number);
    case "<=":
      return (left as number) <= (right as number);
    case ">":
      return (left as number) > (right as number);
    case ">=":
      return (left as number) >= (right as number);
  }
}

/**
 * Elements the quantifiers of one rule may visit in one decision. Past it the rule fails (closed:
 * a deny matches, an allow does not): `any(x in L: any(y in L: …))` over a list of 30,000 would
 * otherwise take seconds, and a request's size is the agent's to choose. Each rule has its own
 * budget, so what one spends never makes another fail (the order of rules never matters).
 */
export const MAX_QUANTIFIER_VISITS = 1_000_000;

export const OVER_BUDGET = `the request is too large to evaluate: this rule's quantifiers would visit more than ${MAX_QUANTIFIER_VISITS.toLocaleString("en-US")} elements (a budget per rule and decision): bound the size of the lists at the enforcement point`;

/** Counts a quantifier's elements against the rule's budget; whether that is now spent (`MAX_QUANTIFIER_VISITS`). */
export function overBudget(c: { visits: number }, collection: unknown): boolean {
  c.visits += Array.isArray(collection) ? collection.length : collection instanceof Set ? collection.size : 0;
  return c.visits > MAX_QUANTIFIER_VISITS;
}

/**
 * The collection a quantifier of the generated code walks: as it is, or, past the rule's budget,
 * nothing, with a fault noted. A fault like any other (not an exception), so the rule is an error
 * only when its other terms do not settle it, whatever their order (language.md §7.5).
 */
export function visiting<T>(c: { visits: number; fault: string | undefined }, collection: T): T | readonly never[] {
  if (!overBudget(c, collection)) return collection;
  c.fault ??= OVER_BUDGET;
  return NOTHING;
}
const NOTHING: readonly never[] = Object.freeze([]);

/**
 * One call of `lower()`, `url.host`, `email.domain` or `path.normalize` inside a quantifier, where it may run once
 * per element: its answers in this decision, by input (and the fault each noted). Without it
 * `any(x in args.l: x.lower() == args.s.lower())` lowers the same long string once per element,
 * and a call on the inner variable of nested quantifiers
 * (`any(d in ctx.blocked: any(r in args.to: email.domain(r) == d))`) works out the same
 * domains once per outer element: a million IDNA conversions for two lists of a thousand.
 */
export interface CallSite {
  epoch: number;
  input: unknown;
  output: string;
  fault: string | undefined;
  /** Answers for other inputs, from the second distinct input of a decision on. */
  seen: ValueMap<{ readonly output: string; readonly fault: string | undefined }> | undefined;
}

/** The call sites that remember answers of the current decision (forgotten by `newDecision`). */
const sitesWithMemory: CallSite[] = [];

/** Inputs a call site remembers per decision, at most (each answer is a string the request already holds, or shorter). */
const CALL_SITE_MEMORY = 100_000;

export function callSite(): CallSite {
  return { epoch: -1, input: undefined, output: "", fault: undefined, seen: undefined };
}

function calledAt<T>(site: CallSite, note: FaultNote, input: T, call: (input: T, note: FaultNote) => string): string {
  if (site.epoch !== decisionEpoch) {
    site.epoch = decisionEpoch;
    site.seen = undefined;
    answerCall(site, input, call);
  } else if (site.input !== input) {
    // The answer for the input it replaces is kept too: loops come back to it.
    if (site.seen === undefined) {
      // (A ValueMap: inputs of 16,384 characters and more would collide in a Map, longText.ts.)
      site.seen = new ValueMap();
      sitesWithMemory.push(site);
    }
    const seen = site.seen;
    if (seen.size < CALL_SITE_MEMORY) seen.set(site.input, { output: site.output, fault: site.fault });
    const known = seen.get(input);
    if (known === undefined) answerCall(site, input, call);
    else {
      site.input = input;
      site.output = known.output;
      site.fault = known.fault;
    }
  }
  if (site.fault !== undefined) note.fault ??= site.fault;
  return site.output;
}

function answerCall<T>(site: CallSite, input: T, call: (input: T, note: FaultNote) => string): void {
  const own: FaultNote = { fault: undefined };
  site.output = call(input, own);
  site.fault = own.fault;
  site.input = input;
}

export function lowerAt(site: CallSite, note: FaultNote, text: unknown): string {
  return calledAt(site, note, text, lower);
}

export function urlHostAt(site: CallSite, note: FaultNote, value: string): string {
  return calledAt(site, note, value, urlHost);
}

export function emailDomainAt(site: CallSite, note: FaultNote, value: string): string {
  return calledAt(site, note, value, emailDomain);
}

export function pathNormalizeAt(site: CallSite, note: FaultNote, value: string): string {
  return calledAt(site, note, value, pathNormalize);
}
