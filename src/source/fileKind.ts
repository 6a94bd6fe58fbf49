import { closeSync, openSync, readFileSync, readSync } from "node:fs";
import { hasExtension } from "./fileNames.js";
import { looksLikeUtf16, withoutByteOrderMark } from "./textEncoding.js";

/**
 * What a file holds, as far as its first bytes and its name tell: what policyc reads and writes
 * (a bundle, a recording, policy text), or something else. A file given where another kind goes
 * (a recording as the policy path, a bundle as the request, a policy as `--bundle`) is then named
 * for what it is, with where it goes, not reported by the slot's own reader as malformed.
 */
export type FileKind = "bundle" | "recording" | "policy" | "unknown";

/**
 * A bundle's start: its `format` as the first key, as policyc writes it (`createBundle`). Only
 * there: a request may carry a bundle in its arguments (an agent deploying policies), and that
 * is a request.
 */
const BUNDLE_START = /^\{\s*"format"\s*:\s*"policyc-bundle\//;
/**
 * Policy text after its leading comments: a declaration, a keyword and then a name, `{` or `*`
 * (`tool crm.lookup {`, `context {`, `deny *`). Never JSON, which starts otherwise; a bare word
 * followed by anything else (`user: bob`, YAML) is not policy text either, but something unknown.
 */
const DECLARATION_START = /^(?:enum|type|agent|user|context|tool|intent|policy)[ \t\r\n]+[A-Za-z_{*"]/;
/** Leading white space and comments (`// …` lines, `/* … *\/` blocks). */
const LEADING_COMMENTS = /^(?:\s+|\/\/[^\n]*(?:\n|$)|\/\*[\s\S]*?\*\/)*/;

/** The kind of a file from its start (`text`, a kilobyte is enough) and its name. */
export function kindOfText(text: string, path: string): FileKind {
  const start = withoutByteOrderMark(text).trimStart();
  if (BUNDLE_START.test(start)) return "bundle";
  // One JSON object a line: a recording's name, or a line closed and another opened (which one JSON document never has).
  if (start.startsWith("{") && (hasExtension(path, ".jsonl", ".ndjson") || /\}[ \t]*\r?\n[ \t\r\n]*\{/.test(start))) return "recording";
  // Named .policy, unless it is JSON (then the slot's reader says what is wrong with it).
  if ((hasExtension(path, ".policy") && !/^[{[]/.test(start)) || DECLARATION_START.test(start.replace(LEADING_COMMENTS, ""))) return "policy";
  return "unknown";
}

/** How a message names a kind: "a policyc bundle", "a recording (JSON Lines)", "a policy file". */
export function kindName(kind: Exclude<FileKind, "unknown">): string {
  return { bundle: "a policyc bundle", recording: "a recording (JSON Lines)", policy: "a policy file" }[kind];
}

/** The first bytes of a file (a kilobyte by default), as text. Throws what opening or reading it throws. */
export function startOfFile(path: string, bytes = 1024): string {
  const fd = openSync(path, "r");
  try {
    const buffer = Buffer.alloc(bytes);
    return buffer.toString("utf8", 0, readSync(fd, buffer, 0, buffer.length, null));
  } finally {
    closeSync(fd);
  }
}

/** The kind of the file at `path` (`shown`: its name as given), or undefined when it cannot be read. */
export function kindOfFile(path: string, shown = path): FileKind | undefined {
  try {
    return kindOfText(startOfFile(path), shown);
  } catch {
    return undefined;
  }
}

/**
 * Bytes as text: UTF-8, or UTF-16 when they look like it (see `looksLikeUtf16`: what Windows
 * PowerShell 5.1's `>` writes), without a byte order mark.
 */
export function decodeText(bytes: Buffer): string {
  if (!looksLikeUtf16(bytes)) return withoutByteOrderMark(bytes.toString("utf8"));
  const bigEndian = (bytes[0] === 0xfe && bytes[1] === 0xff) || (bytes[0] !== 0xff && bytes[0] === 0);
  const even = bytes.subarray(0, bytes.length & ~1);
  return withoutByteOrderMark((bigEndian ? Buffer.from(even).swap16() : even).toString("utf16le"));
}

/**
 * What `build -o` finds at the bundle file it would replace: a bundle (as policyc writes it, in
 * UTF-8 or UTF-16, or any JSON object whose `format` is a policyc bundle's, such as a copy with
 * its keys sorted by `jq -S`), nothing but white space, or something else (its kind, and
 * whether it is UTF-16). The start tells most; a file up to `wholeBytes` is read whole when it
 * does not (its white space, or a `format` after other keys).
 */
export function replaceableKind(path: string, size: number, wholeBytes = 64 * 1024 * 1024): { kind: FileKind | "blank"; utf16: boolean } {
  const fd = openSync(path, "r");
  let head: Buffer;
  try {
    const buffer = Buffer.alloc(4096);
    head = buffer.subarray(0, readSync(fd, buffer, 0, buffer.length, null));
  } finally {
    closeSync(fd);
  }
  const utf16 = looksLikeUtf16(head);
  const start = decodeText(head);
  const kind = kindOfText(start.slice(0, 1024), path);
  // Neither white space nor a JSON object (`{` after any white space): the start is enough.
  if (kind === "bundle" || (start.trim() !== "" && !start.trimStart().startsWith("{"))) return { kind, utf16 };
  const whole = head.length === size;
  if (!whole && size > wholeBytes) return { kind, utf16 };
  const text = whole ? start : decodeText(readFileSync(path));
  if (text.trim() === "") return { kind: "blank", utf16 };
  try {
    const value = JSON.parse(text) as unknown;
    const format = value !== null && typeof value === "object" ? (value as { format?: unknown }).format : undefined;
    return { kind: typeof format === "string" && format.startsWith("policyc-bundle/") ? "bundle" : kind, utf16 };
  } catch {
    return { kind, utf16 };
  }
}
