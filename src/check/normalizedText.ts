import { domainToASCII } from "node:url";
import { lexicalPath, refusedInPath, unmappedHost } from "../runtime/helpers.js";

/**
 * `lower()`, `url.host(…)`, `email.domain(…)` and `path.normalize(…)` return text in a fixed form
 * (language.md 5.10; runtime/helpers.ts): lower case; a host alone, without scheme, user, port or
 * path; a domain of letters, digits, `.`, `-` and `_`; an absolute path with no empty, `.` or `..`
 * segment and no trailing `/`. Text outside that form compared with them can never
 * match, so a rule meant to catch `https://evil.com` catches nothing: PC507. Each check here
 * holds for every value the runtime can return; forms it might return, however odd, are never
 * reported. Neither returns a leading or trailing dot or an empty label: one trailing dot is
 * taken off, and a host or domain with an empty label (`evil.com..`, `.evil.com`) is an
 * evaluation error.
 */
export type NormalizingCall = "lower" | "url.host" | "email.domain" | "path.normalize";

/** How the text is compared: as the whole value (`==`, `in`), its start, its end, or anywhere in it. */
export type TextPlace = "whole" | "start" | "end" | "inside";

export interface ImpossibleText {
  /** Why the text cannot occur, as the start of a sentence: "`url.host` returns the host in lower case". */
  readonly why: string;
  /** What to do, before the corrected text: "write the text in lower case". */
  readonly fix: string;
  /** The text as the call could return it, when there is such a spelling. */
  readonly meant?: string;
}

/** Why `text`, compared at `place` with what `call` returns, can never match; undefined when it can. */
export function impossibleText(call: NormalizingCall, text: string, place: TextPlace): ImpossibleText | undefined {
  const problem = problemOf(call, text, place);
  if (problem === undefined) return undefined;
  const meant = normalize(call, text, place);
  // A correction is offered only when it can itself match and says something.
  const useful = meant !== "" && meant !== text && (call === "lower" || problemOf(call, meant, place) === undefined);
  return useful ? { ...problem, meant } : problem;
}

/**
 * What `like PATTERN` compares: the text before the first `*` starts the value, the text after
 * the last one ends it, and the pieces between occur inside it; without `*`, the whole value.
 */
export function impossiblePattern(call: NormalizingCall, pattern: string): ImpossibleText | undefined {
  const pieces = pattern.split("*");
  if (pieces.length === 1) return impossibleText(call, pattern, "whole");
  const places: [string, TextPlace][] = pieces.map((piece, i) => [piece, i === 0 ? "start" : i === pieces.length - 1 ? "end" : "inside"]);
  for (const [piece, place] of places) {
    if (piece === "") continue;
    const problem = impossibleText(call, piece, place);
    if (problem === undefined) continue;
    // The correction is the whole pattern's, so the help can be pasted as it is; a `*` is read
    // as text, so `"https://*.evil.com/*"` loses its scheme and path: `"*.evil.com"`.
    const meant = normalize(call, pattern, "whole");
    const reason = { why: problem.why, fix: problem.fix };
    return meant !== pattern && canMatch(call, meant) ? { ...reason, meant } : reason;
  }
  return undefined;
}

/** Whether a corrected pattern is worth offering: it says something and can match. */
function canMatch(call: NormalizingCall, pattern: string): boolean {
  return pattern.replace(/\*/g, "") !== "" && impossiblePattern(call, pattern) === undefined;
}

function problemOf(call: NormalizingCall, text: string, place: TextPlace): Omit<ImpossibleText, "meant"> | undefined {
  switch (call) {
    case "lower":
      return lowerProblem(text);
    case "url.host":
      return hostProblem(text, place);
    case "email.domain":
      return domainProblem(text, place);
    case "path.normalize":
      return pathProblem(text, place);
  }
}

function lowerProblem(text: string): Omit<ImpossibleText, "meant"> | undefined {
  if (text === text.toLowerCase()) return undefined;
  return { why: "`lower()` leaves no upper-case letters", fix: "write the text in lower case" };
}

/** Not in any host `url.host` returns: a URL's other parts, white space and controls. */
const NOT_IN_HOST = /[/?#@\\\s\u0000-\u001f\u007f]/;

function hostProblem(text: string, place: TextPlace): Omit<ImpossibleText, "meant"> | undefined {
  if (text.includes("://") || /[/?#]/.test(text)) return { why: "`url.host` returns the host alone, with no scheme, path, query or fragment", fix: "write the host alone" };
  if (text.includes("@")) return { why: "`url.host` returns the host alone, without the user information before an `@`", fix: "write the host alone" };
  if (NOT_IN_HOST.test(text)) return { why: "`url.host` returns no white space, backslashes or control characters", fix: "write the host alone" };
  // An IPv4-mapped address written bare (`::ffff:127.0.0.1`) is returned as its IPv4 address.
  const mapped = place === "whole" && isBareIpv6(text) ? canonicalAddress(`[${text}]`) : undefined;
  if (mapped !== undefined && !mapped.startsWith("[")) return { why: `\`url.host\` returns an IP address in one form only, and this one as \`${mapped}\``, fix: "write it in that form" };
  // A `:` is only in an IPv6 address, which is bracketed: `[::1]`.
  if (place !== "inside" && isBareIpv6(text)) return { why: "`url.host` returns an IPv6 address in the brackets a URL writes it in (`[::1]`)", fix: "write it in brackets" };
  if (text.includes(":") && !colonCanBeInHost(text, place)) return { why: "`url.host` returns the host without its port", fix: "leave out the port" };
  if (text !== text.toLowerCase()) return { why: "`url.host` returns the host in lower case", fix: "write the text in lower case" };
  if (/[^\u0000-\u007f]/.test(text)) return { why: "`url.host` returns the host in its ASCII form (`bücher.de` is `xn--bcher-kva.de`)", fix: "write it in its ASCII form" };
  if (!text.includes("[") && !text.includes("]") && extraDots(text, place)) return { why: "`url.host` returns a host with no leading or trailing dot and no empty label", fix: "leave out the extra dots" };
  const address = place === "whole" ? canonicalAddress(text) : undefined;
  if (address !== undefined && address !== text) return { why: `\`url.host\` returns an IP address in one form only, and this one as \`${address}\``, fix: "write it in that form" };
  return undefined;
}

/**
 * An IP address written whole (`"0177.0.0.1"`, `"2130706433"`, `"127.1"`, `"[0:0:0:0:0:0:0:1]"`,
 * `"[::ffff:169.254.169.254]"`) in the one form `url.host` returns it: dotted decimal, IPv6 in
 * brackets in its shortest form, an IPv4-mapped IPv6 address as its IPv4 address. Undefined for
 * text that is no address (a name), which `url.host` returns as it is.
 */
function canonicalAddress(text: string): string | undefined {
  if (!/^(?:[0-9a-fx.]*[0-9][0-9a-fx.]*|\[[0-9a-f:.]+\])$/i.test(text)) return undefined;
  try {
    return unmappedHost(new URL(`http://${text}/`).hostname);
  } catch {
    return undefined;
  }
}

/** Whether `text`, compared at `place` with a host or domain, has a dot none can have there: leading, trailing, or two together. */
function extraDots(text: string, place: TextPlace): boolean {
  const leadingDot = (place === "whole" || place === "start") && text.startsWith(".");
  const trailingDot = (place === "whole" || place === "end") && text.endsWith(".");
  return leadingDot || trailingDot || text.includes("..");
}

/** An IPv6 address written without brackets (`::1`, `2001:db8::1`): two colons or more, among hex digits and dots. */
function isBareIpv6(text: string): boolean {
  return /^[0-9a-f:.]+$/i.test(text) && /:.*:/.test(text);
}

/**
 * A bare IPv6 address, bracketed as far as `place` shows it; a whole one in the form `url.host`
 * returns (`0:0::1` is `[::1]`), or as it is when it is no address (`a:b:c`).
 */
function bracketed(address: string, place: TextPlace): string {
  if (place === "start") return `[${address}`;
  if (place === "end") return `${address}]`;
  if (place === "inside") return address;
  try {
    return new URL(`http://[${address}]/`).hostname;
  } catch {
    return address;
  }
}

function colonCanBeInHost(text: string, place: TextPlace): boolean {
  switch (place) {
    case "whole":
      return text.startsWith("[") && text.endsWith("]");
    case "start":
      return text.startsWith("[");
    case "end":
      return text.endsWith("]");
    case "inside":
      return true;
  }
}

function domainProblem(text: string, place: TextPlace): Omit<ImpossibleText, "meant"> | undefined {
  if (text.includes("@")) return { why: "`email.domain` returns the part after the `@`", fix: "write the domain alone" };
  if (text !== text.toLowerCase()) return { why: "`email.domain` returns the domain in lower case", fix: "write the text in lower case" };
  if (/[^\u0000-\u007f]/.test(text)) return { why: "`email.domain` returns the domain in its ASCII form (`bücher.de` is `xn--bcher-kva.de`)", fix: "write it in its ASCII form" };
  if (/[^a-z0-9._-]/.test(text)) return { why: "`email.domain` returns only letters, digits, `.`, `-` and `_`", fix: "write the domain alone" };
  if (extraDots(text, place)) return { why: "`email.domain` returns a domain with no leading or trailing dot and no empty label", fix: "leave out the extra dots" };
  return undefined;
}

/**
 * Not in any path `path.normalize` returns: a segment that is empty (`//`, a trailing `/`), `.` or
 * `..`; a name ending in a dot or white space, and what `refusedInPath` lists (which it refuses);
 * and at the start (or whole), anything but `/` first (`""` included: a relative path is an error
 * too). Where the text's end is open (`startsWith`, `contains`), a `/` or `/.` there may go on
 * into a name (`/.env`); where its start is open, the text's first name may be the end of one.
 */
function pathProblem(text: string, place: TextPlace): Omit<ImpossibleText, "meant"> | undefined {
  const starts = place === "whole" || place === "start";
  const ends = place === "whole" || place === "end";
  if ((starts && text !== "" && !text.startsWith("/")) || (place === "whole" && text === "")) return { why: "`path.normalize` returns an absolute path, starting with `/` (a relative path is an evaluation error)", fix: "write the path from the root" };
  if (refusedInPath(text) !== undefined) return { why: "`path.normalize` returns no control character, backslash, percent-encoded separator, invisible character or compatibility form of `.` or `/` (a path with one is an evaluation error)", fix: "write the path with `/` alone" };
  // Segments as far as the text shows them: a name's end is known unless the text's end is open.
  const segments = text.split("/");
  const whole = segments.map((_, i) => (i > 0 || starts) && (i < segments.length - 1 || ends));
  const nameEnds = segments.map((_, i) => i < segments.length - 1 || ends);
  const inner = segments.map((_, i) => i > 0 && i < segments.length - 1);
  const bad = segments.some((segment, i) => (whole[i] && (segment === "." || segment === "..")) || (nameEnds[i] && /[.\s]$/.test(segment)) || (inner[i] && segment === ""));
  if (bad || (ends && text.length > 1 && text.endsWith("/"))) return { why: "`path.normalize` returns a path with no empty, `.` or `..` segment, no name ending in a dot or white space, and no trailing `/`", fix: "write the path as it returns it" };
  return undefined;
}

/** `text` in the form `call` returns, as far as it can be: the correction the help offers. */
function normalize(call: NormalizingCall, text: string, place: TextPlace): string {
  if (call === "lower") return text.toLowerCase();
  if (call === "path.normalize") return normalizedPathText(text, place);
  let value = text;
  if (call === "url.host") {
    value = value.replace(/^[a-z][a-z0-9+.-]*:\/\//i, "");
    value = value.split(/[/?#]/)[0]!;
    value = value.slice(value.lastIndexOf("@") + 1);
    if (isBareIpv6(value)) value = bracketed(value, place);
    if (!value.startsWith("[")) value = value.replace(/:[0-9]*$/, "");
  } else {
    value = value.slice(value.lastIndexOf("@") + 1);
  }
  value = value.toLowerCase();
  if (/[^\u0000-\u007f]/.test(value)) value = domainToASCII(value) || value;
  if (call === "url.host" && place === "whole") value = canonicalAddress(value) ?? value;
  if (call === "email.domain" || !value.startsWith("[")) {
    if (place === "whole" || place === "end") value = value.replace(/\.+$/, "");
    if (place === "whole" || place === "start") value = value.replace(/^\.+/, "");
    // Only a whole value is corrected: `contains ".."` looks for what cannot be there, and `"."` is not what was meant.
    if (place === "whole") value = value.replace(/\.{2,}/g, ".");
  }
  return value;
}

/**
 * A path as `path.normalize` writes it, as far as `place` shows it (an open end keeps its `/`);
 * "" when there is none worth offering: text it refuses, or a piece that says nothing (`/`).
 */
function normalizedPathText(text: string, place: TextPlace): string {
  if (refusedInPath(text) !== undefined) return "";
  const starts = place === "start" || place === "whole";
  if (starts && !text.startsWith("/")) return "";
  if (place === "whole") return lexicalPath(text) ?? "";
  const kept: string[] = [];
  for (const segment of text.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") {
      if (kept.length === 0 && !starts) return "";
      kept.pop();
    } else kept.push(segment);
  }
  const joined = kept.join("/");
  if (joined === "") return "";
  return `${starts || text.startsWith("/") ? "/" : ""}${joined}${place !== "end" && text.endsWith("/") ? "/" : ""}`;
}
