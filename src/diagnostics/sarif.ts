import { resolve, sep } from "node:path";
import { pathToFileURL } from "node:url";
import { pathsUnder } from "../testing/reporters/shared.js";
import type { DiagnosticsReportInput } from "./ciReports.js";
import { CODES, type Code } from "./codes.js";
import { diagnosticPlace, type DiagnosticJson, type RelatedLocationJson } from "./render.js";

/** What the SARIF report is made of: `check`'s CI report input, and what only SARIF says. */
export interface SarifReportInput extends DiagnosticsReportInput {
  /** policyc's version: the driver's. */
  readonly version: string;
  /** The warnings `@suppress` hid: results too, each with an in-source suppression, so code scanning closes their alerts rather than losing track of them. */
  readonly suppressed: readonly DiagnosticJson[];
  /** False when a path given could not be read (exit 2): the run checked less than it was asked to. */
  readonly executionSuccessful: boolean;
  /** The working folder, which relative paths are taken from. */
  readonly cwd: string;
  /** The repository root, `%SRCROOT%` (`repositoryRoot`: `GITHUB_WORKSPACE`, else the working folder). */
  readonly root: string;
}

/** The report's input, and how a file is named relative to `%SRCROOT%` (undefined: outside it). */
interface Located extends SarifReportInput {
  readonly repositoryPath: (file: string) => string | undefined;
}

/** The SARIF 2.1.0 schema a log names, as GitHub code scanning and the SARIF tools read it. */
const SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json";

/**
 * The SARIF 2.1.0 report (`check --reporter sarif`), for GitHub code scanning (upload-sarif): one
 * run whose driver is policyc, listing the rules (codes) that occur; a result per diagnostic at
 * its place, relative to `%SRCROOT%` (the repository root, as the other CI reports name files),
 * its related places as `relatedLocations`, and the warnings `@suppress` hid as suppressed
 * results. Code scanning takes a result only at a place in a file of the repository, so a
 * diagnostic of no place (a path that cannot be read, PC001; no policy files under one, PC004) or
 * of a file that is none (`/dev/fd/63`) is a tool execution notification instead: the tool
 * status page shows it, and `executionSuccessful` is false when a path could not be read.
 * Columns are UTF-16 code units, as policyc counts them and as SARIF counts them by default.
 */
export function sarifDiagnosticsReport(report: SarifReportInput, write: (text: string) => void): void {
  const input: Located = { ...report, repositoryPath: pathsUnder(report.cwd, report.root) };
  const located = (d: DiagnosticJson): boolean => d.file !== null && d.line !== null && input.isRepositoryFile(d.file);
  const results = [...input.diagnostics.filter(located).map((d) => ({ d, suppressed: false })), ...input.suppressed.filter(located).map((d) => ({ d, suppressed: true }))];
  const notified = [...input.diagnostics, ...input.suppressed].filter((d) => !located(d));
  const codes = (list: readonly DiagnosticJson[]): Code[] => [...new Set(list.map((d) => d.code as Code))].sort();
  const ruleCodes = codes(results.map(({ d }) => d));
  const notificationCodes = codes(notified);
  const driver = {
    name: "policyc",
    version: input.version,
    semanticVersion: input.version,
    rules: ruleCodes.map(descriptor),
    ...(notificationCodes.length > 0 ? { notifications: notificationCodes.map(descriptor) } : {}),
  };
  const invocation = {
    executionSuccessful: input.executionSuccessful,
    ...(notified.length > 0 ? { toolExecutionNotifications: notified.map((d) => notification(d, input, notificationCodes)) } : {}),
  };
  const run = {
    tool: { driver },
    // Where `%SRCROOT%` is, for a reader of the log away from the runner (absolute: a folder's URI ends in `/`).
    originalUriBaseIds: { "%SRCROOT%": { uri: pathToFileURL(input.root.endsWith(sep) ? input.root : input.root + sep).href } },
    invocations: [invocation],
    columnKind: "utf16CodeUnits",
    results: results.map(({ d, suppressed }) => result(d, input, ruleCodes, suppressed)),
  };
  write(JSON.stringify({ $schema: SARIF_SCHEMA, version: "2.1.0", runs: [run] }, null, 2) + "\n");
}

/** A code as a SARIF reporting descriptor: its id, a name made of its catalogue title, the title, and its level. */
function descriptor(code: Code): object {
  const { title, severity } = CODES[code];
  return { id: code, name: ruleName(title), shortDescription: { text: title }, defaultConfiguration: { level: severity } };
}

/** `unknown attribute` → `UnknownAttribute`; `` `grant` on a rule that is not `allow` `` → `GrantOnARuleThatIsNotAllow`: SARIF's name is an identifier. */
function ruleName(title: string): string {
  return (title.match(/[A-Za-z0-9]+/g) ?? []).map((word) => word[0]!.toUpperCase() + word.slice(1)).join("");
}

/**
 * The message a reader sees: the diagnostic's, its help on a line of its own, and a `note:` line
 * per related place as an embedded link to it (`note: [first declared here](1)`), which is how
 * code scanning shows a related location. SARIF 2.1.0 §3.11.6: in a plain text message `[` and
 * `]` outside a link's text are literal and need no escape (a viewer shows `\[` there with its
 * backslash), so the message and help keep theirs (`any(v in ["a"]: …)`); only a link's text
 * escapes `\`, `[` and `]`, so a note's text (a rule id `x\]`) is escaped.
 */
function messageText(d: DiagnosticJson, related: readonly RelatedLocationJson[] = []): string {
  return [plainText(d.message), ...(d.help !== undefined ? [`help: ${plainText(d.help)}`] : []), ...related.map((r, index) => `note: [${r.message.replace(/[\\[\]]/g, (c) => `\\${c}`)}](${index + 1})`)].join("\n");
}

/**
 * Text of the message outside any link, kept as written but for what would read as a link of
 * its own (`"x[y](1)"` would link `y` to related location 1, or a `](https://…)` to a web page):
 * a link needs an unescaped `]` right before `(`, so the `]` of each `](` is escaped, and the
 * backslashes just before it doubled so none of them reads as escaping a backslash instead.
 * Only text holding `](` changes, and it then shows a backslash.
 */
function plainText(text: string): string {
  return text.replace(/(\\*)\](?=\()/g, (_, slashes: string) => `${slashes}${slashes}\\]`);
}

function result(d: DiagnosticJson, input: Located, codes: readonly Code[], suppressed: boolean): object {
  // A related place in a file outside the repository (standard input) has nowhere to point.
  const related = (d.related ?? []).filter((r) => input.isRepositoryFile(r.file));
  return {
    ruleId: d.code,
    ruleIndex: codes.indexOf(d.code as Code),
    level: d.severity === "error" ? "error" : "warning",
    message: { text: messageText(d, related) },
    locations: [{ physicalLocation: physicalLocation(d.file!, d.line!, d.column!, d.end ?? { line: d.line!, column: d.column! }, input) }],
    ...(related.length > 0 ? { relatedLocations: related.map((r, index) => relatedLocation(r, index, input)) } : {}),
    ...(suppressed ? { suppressions: [{ kind: "inSource", justification: "hidden by `@suppress` on its rule" }] } : {}),
  };
}

function relatedLocation(r: RelatedLocationJson, index: number, input: Located): object {
  return { id: index + 1, physicalLocation: physicalLocation(r.file, r.line, r.column, r.end, input), message: { text: plainText(r.message) } };
}

function physicalLocation(file: string, line: number, column: number, end: { line: number; column: number }, input: Located): object {
  return { artifactLocation: artifactLocation(file, input), region: { startLine: line, startColumn: column, endLine: end.line, endColumn: end.column } };
}

/**
 * A file as SARIF names it: a URI reference relative to `%SRCROOT%`, with `/` and each segment
 * percent-encoded (`a,b%.policy` is `a%2Cb%25.policy`); a file outside it (`../other`, an
 * absolute path elsewhere) as the `file:` URI of its absolute path, with no `uriBaseId`, since a
 * relative reference with `..` would name a file of the repository to code scanning.
 */
function artifactLocation(file: string, input: Located): object {
  const path = input.repositoryPath(file);
  if (path === undefined) return { uri: pathToFileURL(resolve(input.cwd, file)).href };
  return { uri: path.split("/").map(encodeURIComponent).join("/"), uriBaseId: "%SRCROOT%" };
}

/** A diagnostic code scanning cannot place, as a notification: its place in the text, and its path as its location when that names a file (not standard input or a device), as a result's is named. */
function notification(d: DiagnosticJson, input: Located, codes: readonly Code[]): object {
  const place = diagnosticPlace(d);
  const named = d.file !== null && input.isRepositoryFile(d.file);
  return {
    level: d.severity === "error" ? "error" : "warning",
    message: { text: `${place !== undefined ? `${place}: ` : ""}${messageText(d)}` },
    descriptor: { id: d.code, index: codes.indexOf(d.code as Code) },
    ...(named ? { locations: [{ physicalLocation: { artifactLocation: artifactLocation(d.file!, input) } }] } : {}),
  };
}
