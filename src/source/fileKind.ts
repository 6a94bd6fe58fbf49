import { closeSync, openSync, readSync } from "node:fs";
import { hasExtension } from "./fileNames.js";

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
  const start = text.replace(/^\uFEFF/, "").trimStart();
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
