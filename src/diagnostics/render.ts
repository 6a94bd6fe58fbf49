import { codeFrame } from "../source/codeFrame.js";
import { pathForLineStart } from "../source/fileNames.js";
import type { Span } from "../source/Span.js";
import type { Diagnostic } from "./Diagnostic.js";
import { printable } from "./printable.js";

/** Colour functions; the CLI decides once whether they colour or pass text through. */
export interface Palette {
  readonly error: (s: string) => string;
  readonly warning: (s: string) => string;
  readonly dim: (s: string) => string;
  readonly bold: (s: string) => string;
  readonly accent: (s: string) => string;
  readonly ok: (s: string) => string;
}

const identity = (s: string): string => s;
/** A palette that leaves text plain (pipes, files, NO_COLOR). */
export const plainPalette: Palette = { error: identity, warning: identity, dim: identity, bold: identity, accent: identity, ok: identity };

/** `file:line:col` of a diagnostic, or its path when it has no span. */
export function diagnosticLocation(d: Diagnostic): string {
  return d.span ? spanLocation(d.span) : pathForLineStart(d.path ?? "");
}

/** `file:line:col` of a span's start. */
function spanLocation(span: Span): string {
  const { line, column } = span.file.position(span.start);
  return `${pathForLineStart(span.file.path)}:${line}:${column}`;
}

/** A code frame with its gutter (` |` and the line numbers) dimmed. */
function dimmedFrame(span: Span, palette: Palette, marker: "^" | "-", gutterWidth: number): string[] {
  return codeFrame(span, marker, gutterWidth).map((l) => palette.dim(l.slice(0, l.indexOf("|") + 1)) + l.slice(l.indexOf("|") + 1));
}

/**
 * The human form:
 *   path:3:19: error[PC202]: unknown attribute `tema` of `agent`
 *     |
 *   3 |   allow kb.search when agent.tema == "support"
 *     |                              ^^^^
 *     = help: did you mean `team`?
 *
 * and after it, for each related place, a frame of its own in rustc's way (underlined with `-`):
 *   note: first declared here
 *    --> path:1:6
 *     |
 *   1 | tool a {}
 *     |      -
 */
export function renderDiagnostic(d: Diagnostic, palette: Palette = plainPalette): string {
  // The path is a file name anyone contributing to the repository chose: escaped as the message is.
  const location = printable(diagnosticLocation(d));
  const label = d.severity === "error" ? palette.error(`error[${d.code}]`) : palette.warning(`warning[${d.code}]`);
  // Messages and helps quote policy text (a rule id, a string literal): shown with their control
  // characters as escapes, so none can start a line of its own (a CI workflow command) or
  // recolour the terminal.
  const lines = [`${location ? palette.bold(location) + ": " : ""}${label}: ${printable(d.message)}`];
  // One gutter for every frame of the diagnostic, as wide as its longest line number, so they line up.
  const width = Math.max(0, ...[d.span, ...(d.related ?? []).map((r) => r.span)].map((span) => (span ? String(span.file.position(span.start).line).length : 0)));
  if (d.span) lines.push(...dimmedFrame(d.span, palette, "^", width));
  if (d.help) lines.push(`${" ".repeat(width)} = ${palette.accent("help")}: ${printable(d.help)}`);
  for (const related of d.related ?? []) {
    lines.push(`${palette.accent("note")}: ${printable(related.message)}`, `${" ".repeat(width)}${palette.dim("-->")} ${printable(spanLocation(related.span))}`, ...dimmedFrame(related.span, palette, "-", width));
  }
  return lines.join("\n");
}

/**
 * An input error outside `policyc check` (a recording, a request, a bundle, a key) as check
 * prints a diagnostic's first line: `place: error[CODE]: message` (`bad.jsonl:1`, `b.json`).
 * The place is made printable here, as renderDiagnostic's location is (a path with a newline or
 * an escape in it cannot start a line of its own, such as a CI workflow command, or recolour the
 * terminal; a place already printable is left as it is); the message is printed as given, made
 * printable by the callers that quote user text in it.
 */
export function renderInputError(place: string, code: string, message: string, palette: Palette = plainPalette, severity: "error" | "warning" = "error"): string {
  const location = printable(place);
  return `${location ? palette.bold(location) + ": " : ""}${palette[severity](`${severity}[${code}]`)}: ${message}`;
}

/** "1 rule", "3 rules": a count with its noun (nouns that take an "s"). */
export function counted(n: number, noun: string): string {
  return `${n.toLocaleString("en-US")} ${noun}${n === 1 ? "" : "s"}`;
}

/** A count line such as "2 errors, 1 warning". */
export function summarize(diagnostics: readonly Diagnostic[]): string {
  const errors = diagnostics.filter((d) => d.severity === "error").length;
  return `${counted(errors, "error")}, ${counted(diagnostics.length - errors, "warning")}`;
}

/** The JSON form of a diagnostic: what `--json` prints and editors read. */
export interface DiagnosticJson {
  code: string;
  severity: string;
  message: string;
  file: string | null;
  line: number | null;
  column: number | null;
  end: { line: number; column: number } | null;
  help?: string;
  /** The other places the diagnostic points at (the first declaration of a repeated name); absent when there are none. */
  related?: RelatedLocationJson[];
}

/** A related place as `--json` lists it: where it starts and ends, and what it is. */
export interface RelatedLocationJson {
  file: string;
  line: number;
  column: number;
  end: { line: number; column: number };
  message: string;
}

export function diagnosticToJson(d: Diagnostic): DiagnosticJson {
  const json: DiagnosticJson = { code: d.code, severity: d.severity, message: d.message, file: d.span?.file.path ?? d.path ?? null, line: null, column: null, end: null };
  if (d.span) Object.assign(json, spanJson(d.span));
  if (d.help) json.help = d.help;
  if (d.related !== undefined && d.related.length > 0) json.related = d.related.map(({ span, message }) => ({ ...spanJson(span), message }));
  return json;
}

/** A span as the JSON reports give places: its file, where it starts, and where it ends. */
function spanJson(span: Span): { file: string; line: number; column: number; end: { line: number; column: number } } {
  const { line, column } = span.file.position(span.start);
  return { file: span.file.path, line, column, end: span.file.position(span.end) };
}

/** Where a diagnostic is: `p.policy:3:35`, a path alone (an unreadable one), or nothing. */
export function diagnosticPlace(d: DiagnosticJson): string | undefined {
  if (d.file === null) return undefined;
  return d.line === null ? d.file : `${d.file}:${d.line}:${d.column}`;
}

/**
 * A diagnostic of a JSON report as the first line of its human form, and its help on a line of
 * its own, every part printable (`p.policy:3:30: error[PC202]: unknown attribute … \nhelp: …`),
 * then a line per related place (`note: first declared here: p.policy:1:6`): the text a JUnit
 * failure and a TAP point's YAML hold.
 */
export function diagnosticText(d: DiagnosticJson): string {
  const where = diagnosticPlace(d);
  return `${printable(`${where !== undefined ? `${where}: ` : ""}${d.severity === "error" ? "error" : "warning"}[${d.code}]: ${d.message}`)}${d.help !== undefined ? `\nhelp: ${printable(d.help)}` : ""}${relatedNotes(d).map((note) => `\n${printable(note)}`).join("")}`;
}

/** A line per related place of a diagnostic, as the text reports say it: `note: first declared here: a.policy:1:6`. */
export function relatedNotes(d: DiagnosticJson): string[] {
  return (d.related ?? []).map((r) => `note: ${r.message}: ${r.file}:${r.line}:${r.column}`);
}
