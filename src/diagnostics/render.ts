import { codeFrame } from "../source/codeFrame.js";
import { pathForLineStart } from "../source/fileNames.js";
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
  if (!d.span) return pathForLineStart(d.path ?? "");
  const { line, column } = d.span.file.position(d.span.start);
  return `${pathForLineStart(d.span.file.path)}:${line}:${column}`;
}

/**
 * The human form:
 *   path:3:19: error[PC202]: unknown attribute `tema` of `agent`
 *     |
 *   3 |   allow kb.search when agent.tema == "support"
 *     |                              ^^^^
 *     = help: did you mean `team`?
 */
export function renderDiagnostic(d: Diagnostic, palette: Palette = plainPalette): string {
  // The path is a file name anyone contributing to the repository chose: escaped as the message is.
  const location = printable(diagnosticLocation(d));
  const label = d.severity === "error" ? palette.error(`error[${d.code}]`) : palette.warning(`warning[${d.code}]`);
  // Messages and helps quote policy text (a rule id, a string literal): shown with their control
  // characters as escapes, so none can start a line of its own (a CI workflow command) or
  // recolour the terminal.
  const lines = [`${location ? palette.bold(location) + ": " : ""}${label}: ${printable(d.message)}`];
  if (d.span) lines.push(...codeFrame(d.span).map((l) => palette.dim(l.slice(0, l.indexOf("|") + 1)) + l.slice(l.indexOf("|") + 1)));
  if (d.help) {
    const gutter = d.span ? " ".repeat(String(d.span.file.position(d.span.start).line).length) : "";
    lines.push(`${gutter} = ${palette.accent("help")}: ${printable(d.help)}`);
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
}

export function diagnosticToJson(d: Diagnostic): DiagnosticJson {
  const json: DiagnosticJson = { code: d.code, severity: d.severity, message: d.message, file: d.span?.file.path ?? d.path ?? null, line: null, column: null, end: null };
  if (d.span) {
    const start = d.span.file.position(d.span.start);
    json.line = start.line;
    json.column = start.column;
    json.end = d.span.file.position(d.span.end);
  }
  if (d.help) json.help = d.help;
  return json;
}

/** Where a diagnostic is: `p.policy:3:35`, a path alone (an unreadable one), or nothing. */
export function diagnosticPlace(d: DiagnosticJson): string | undefined {
  if (d.file === null) return undefined;
  return d.line === null ? d.file : `${d.file}:${d.line}:${d.column}`;
}

/**
 * A diagnostic of a JSON report as the first line of its human form, and its help on a line of
 * its own, every part printable (`p.policy:3:30: error[PC202]: unknown attribute … \nhelp: …`):
 * the text a JUnit failure holds.
 */
export function diagnosticText(d: DiagnosticJson): string {
  const where = diagnosticPlace(d);
  return `${printable(`${where !== undefined ? `${where}: ` : ""}${d.severity === "error" ? "error" : "warning"}[${d.code}]: ${d.message}`)}${d.help !== undefined ? `\nhelp: ${printable(d.help)}` : ""}`;
}
