import { counted, diagnosticText, type DiagnosticJson } from "./render.js";
import { printable } from "./printable.js";
import { diagnosticAnnotation, workflowData, workflowProperty } from "./workflowCommands.js";
import { xmlAttribute, xmlText } from "./xmlText.js";
import { tapDescription, yamlString } from "../testing/reporters/tap.js";

/** What `check`'s and `fmt`'s CI reports are made of: their diagnostics, and how CI names a file. */
export interface DiagnosticsReportInput {
  /** The verb, as test suites and titles name it: `policyc check`. */
  readonly verb: string;
  /** The files read, as messages name them: each is a test case of the JUnit report. */
  readonly files: readonly string[];
  /** Every diagnostic, as `--json` lists them, sorted by file and position. */
  readonly diagnostics: readonly DiagnosticJson[];
  /**
   * Of each diagnostic, the index in `files` of the file it is of, when the verb tells it by what
   * was read rather than by name (fmt: standard input and a file named `standard input` are two
   * cases); undefined (or absent) to tell it by its `file`.
   */
  readonly diagnosticFiles?: readonly (number | undefined)[];
  /** Whether a warning fails the run (`--fail-on-warnings`): then it is a failure too. */
  readonly warningsFail: boolean;
  /** How CI names a file (`ciPaths`: relative to the repository root when it is known). */
  readonly ciPath: (file: string) => string;
  /** Whether a file is one CI can point at (not standard input); `index`, its index in `files` when it is a test case of one. */
  readonly isRepositoryFile: (file: string, index?: number) => boolean;
}

/**
 * The GitHub Actions report: `annotations` the verb makes of its own (`fmt --check`'s files), then
 * a workflow command per diagnostic, so the pull request shows each at its line, then `summary`
 * (what the pretty report ends with) for the log. Every diagnostic is annotated: GitHub shows the
 * first 10 errors and 10 warnings of a step, the log all of them.
 */
export function githubDiagnosticsReport(input: DiagnosticsReportInput, report: { annotations?: readonly string[]; summary: string }, write: (text: string) => void): void {
  const lines = input.diagnostics.map((d) => diagnosticAnnotation(d, { file: input.ciPath, isRepositoryFile: input.isRepositoryFile }));
  write([...(report.annotations ?? []), ...lines, printable(report.summary)].join("\n") + "\n");
}

/**
 * `fmt --check`'s annotation of a file that is not in canonical form, at the first line that
 * changes: `::error file=F,line=L,title=policyc fmt::…`. Standard input, no file in the
 * repository, is named in the message instead.
 */
export function unformattedAnnotation(input: DiagnosticsReportInput, file: UnformattedFile): string {
  const { message } = unformattedFailure(input, file);
  if (file.fromStandardInput) return `::error title=${workflowProperty(`${input.verb}`)}::${workflowData(message)}`;
  return `::error file=${workflowProperty(input.ciPath(file.path))},line=${file.line},title=${workflowProperty(input.verb)}::${workflowData(message)}`;
}

/** A file `fmt --check` found not in canonical form: its path, the first line that changes, and whether it is standard input. */
export interface UnformattedFile {
  readonly path: string;
  readonly line: number;
  readonly fromStandardInput: boolean;
}

/** `fmt --check`'s failure of a file not in canonical form, as its annotation, JUnit failure and TAP point say it. */
export function unformattedFailure(input: DiagnosticsReportInput, file: UnformattedFile): FileFailure {
  const message = file.fromStandardInput ? `standard input is not formatted: it first differs from the canonical layout at line ${file.line}; \`policyc fmt -\` prints it formatted` : `\`${file.path}\` is not formatted: it first differs from the canonical layout at line ${file.line}; run \`policyc fmt --write\``;
  return { line: file.line, message, type: input.verb };
}

/** A file of the report that is not as it should be for a reason of the verb's own, no diagnostic (`fmt --check`: not in canonical form). */
export interface FileFailure {
  /** The line it is at (the first line that changes). */
  readonly line: number;
  /** What is wrong, in words: a JUnit failure's `message`, the TAP point's. */
  readonly message: string;
  /** Its `type` in JUnit: the verb (`policyc fmt`). */
  readonly type: string;
}

/** What a file's test case fails with: a diagnostic, or the verb's own failure of the file. */
interface CaseFailure {
  readonly type: string;
  readonly message: string;
  /** As the pretty report says it: `file:line:col: error[PC202]: …` and its help. */
  readonly text: string;
  readonly line: number | null;
  /** What it is, for a count of several: `2 errors (first: …)`. */
  readonly noun: "error" | "warning" | "failure";
}

/** A test case of the JUnit and TAP reports: a file (or a path that could not be read, or null for diagnostics of no file), what fails it and the other warnings. */
interface FileCase {
  readonly file: string | null;
  /** Its index: in `files` for a file read. */
  readonly index: number;
  readonly failures: readonly CaseFailure[];
  readonly other: readonly DiagnosticJson[];
}

/**
 * The test cases of the JUnit and TAP reports: one per file read (and per path that could not be,
 * and one for diagnostics of no file), in file order, the files read first; a case fails with the
 * verb's own failure of the file (`fileFailures`, by its index in `files`) and its errors (and warnings, when they fail the
 * run); the other warnings are its output.
 */
function fileCases(input: DiagnosticsReportInput, fileFailures: ReadonlyMap<number, FileFailure>): FileCase[] {
  const fails = (d: DiagnosticJson): boolean => d.severity === "error" || input.warningsFail;
  // A case per file read, told apart by index (two may share a name); a path that could not be
  // read (PC001) has no file but is one case, as are diagnostics of no file.
  const cases = input.files.map((file) => ({ file: file as string | null, diagnostics: [] as DiagnosticJson[] }));
  const byName = new Map<string | null, (typeof cases)[number]>();
  for (const fileCase of cases) if (!byName.has(fileCase.file)) byName.set(fileCase.file, fileCase);
  input.diagnostics.forEach((d, index) => {
    const known = input.diagnosticFiles?.[index];
    const fileCase = known === undefined ? byName.get(d.file) : cases[known];
    if (fileCase !== undefined) fileCase.diagnostics.push(d);
    else {
      const added = { file: d.file, diagnostics: [d] };
      cases.push(added);
      byName.set(d.file, added);
    }
  });
  return cases.map(({ file, diagnostics }, index) => {
    const own = fileFailures.get(index);
    const failures: CaseFailure[] = [
      ...(own === undefined ? [] : [{ type: own.type, message: own.message, text: printable(`${file}:${own.line}: ${own.message}`), line: own.line, noun: "failure" as const }]),
      ...diagnostics.filter(fails).map((d) => ({ type: d.code, message: d.message, text: diagnosticText(d), line: d.line, noun: d.severity === "error" ? ("error" as const) : ("warning" as const) })),
    ];
    return { file, index, failures, other: diagnostics.filter((d) => !fails(d)) };
  });
}

/** What a case fails with, in one line: the failure's message, or `2 errors (first: …)` of several. */
function failureMessage(failures: readonly CaseFailure[]): string {
  const [first] = failures;
  if (failures.length === 1) return first!.message;
  const noun = failures.every((f) => f.noun === first!.noun) ? first!.noun : "diagnostic";
  return `${counted(failures.length, noun)} (first: ${first!.message})`;
}

/**
 * The JUnit report: one test case per file read (and per path that could not be, and one for
 * diagnostics of no file), failing with the verb's own failure of the file (`fileFailures`: fmt's
 * file not in canonical form) and its errors (and warnings, when they fail the run), in one
 * `<failure>` whose text lists each (`file:line:col: error[PC202]: …`), as CI test views show one
 * failure a case; the other warnings are the case's output.
 */
export function junitDiagnosticsReport(input: DiagnosticsReportInput, write: (text: string) => void, fileFailures: ReadonlyMap<number, FileFailure> = new Map()): void {
  const cases: string[] = [];
  let failed = 0;
  const all = fileCases(input, fileFailures);
  for (const { file, index, failures, other } of all) {
    const name = xmlAttribute(printable(file ?? input.verb));
    const at = file !== null && input.isRepositoryFile(file, index) ? ` file="${xmlAttribute(input.ciPath(file))}"${failures[0]?.line != null ? ` line="${failures[0].line}"` : ""}` : "";
    const open = `    <testcase classname="${xmlAttribute(input.verb)}" name="${name}"${at}`;
    if (failures.length === 0 && other.length === 0) {
      cases.push(`${open}/>\n`);
      continue;
    }
    let body = "";
    if (failures.length > 0) {
      failed++;
      body += `      <failure message="${xmlAttribute(printable(failureMessage(failures)))}" type="${xmlAttribute(failures[0]!.type)}">${xmlText(failures.map((f) => f.text).join("\n"))}</failure>\n`;
    }
    if (other.length > 0) body += `      <system-out>${xmlText(other.map(diagnosticText).join("\n"))}</system-out>\n`;
    cases.push(`${open}>\n${body}    </testcase>\n`);
  }
  const counts = `tests="${all.length}" failures="${failed}" errors="0"`;
  write(`<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="${xmlAttribute(input.verb)}" ${counts}>\n  <testsuite name="${xmlAttribute(input.verb)}" ${counts}>\n${cases.join("")}  </testsuite>\n</testsuites>\n`);
}

/**
 * The TAP report (version 13), as `policyc test --reporter tap` writes one: a test point per case
 * of the JUnit report (`ok 1 - a.policy`), `not ok` with a YAML block (`message`, `type`, and
 * `failures`, the text of each) for a case that fails; the other warnings as comments after their
 * point, and `summary` (the line the pretty report ends with) as the last comment.
 */
export function tapDiagnosticsReport(input: DiagnosticsReportInput, summary: string, write: (text: string) => void, fileFailures: ReadonlyMap<number, FileFailure> = new Map()): void {
  const all = fileCases(input, fileFailures);
  const points = all.map(({ file, failures, other }, index) => {
    const title = tapDescription(file ?? input.verb);
    const point = failures.length === 0 ? `ok ${index + 1} - ${title}\n` : `not ok ${index + 1} - ${title}\n  ---\n  message: ${yamlString(printable(failureMessage(failures)))}\n  type: ${yamlString(failures[0]!.type)}\n  failures: ${yamlString(failures.map((f) => f.text).join("\n"))}\n  ...\n`;
    // Comments, which TAP consumers show and never count: a line each, so a line break in a message cannot start a forged point.
    const comments = other.flatMap((d) => diagnosticText(d).split("\n")).map((line) => `# ${tapDescription(line)}\n`);
    return point + comments.join("");
  });
  write(`TAP version 13\n1..${all.length}\n${points.join("")}# ${tapDescription(summary)}\n`);
}
