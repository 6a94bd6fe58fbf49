import { realpathSync } from "node:fs";
import { isAbsolute, relative, resolve, sep } from "node:path";
import type { RuleInfo } from "../../runtime/policy.js";
import { MAX_ERRORS_PER_FILE, MAX_FAILURES_PER_FILE, MAX_NOTES_PER_FILE, type CaseResult, type LeftOut, type ReplayError, type ReplayReport } from "../replay.js";
import { grantsText } from "../grants.js";
import { shownList, shownText } from "../shortRequest.js";
import type { Expectation } from "../readRecording.js";
import type { Grant } from "../../runtime/decision.js";
import { lookAlikeDifference, printable } from "../../diagnostics/printable.js";
import { displayWidth } from "../../source/displayWidth.js";
import { recordingName, STANDARD_INPUT } from "../recordingSource.js";
import { counted, diagnosticPlace, renderInputError, type DiagnosticJson, type Palette } from "../../diagnostics/render.js";

/**
 * The closing line every text reporter ends with, alone on its line: its numbers written without
 * separators (every other count has them), for the scripts that read it (`(\d+) passed, (\d+) failed`).
 */
export function summaryLine(report: ReplayReport): string {
  return `${report.passed} passed, ${report.failed} failed`;
}

/**
 * Coverage: rules with how many passing test cases each decided (`lines`: selected lines whose
 * expected decision matched; a rule that matched but lost to a stricter effect decided none) and
 * how many selected lines without an expectation, or rewritten by --update this run
 * (`unassertedLines`, never counted as covered), the ones no case
 * covers (`uncovered`), of those the ones that decided only lines without expectations
 * (`unassertedOnly`), and the percentage. A set of no rules has `noRules` and 0%: a figure of
 * nothing is no evidence, and a gate that reads `percent` fails rather than pass.
 * `controls`: by each control id the rules name in `@controls` (in the order first named), its
 * rules and those of them no case covers, for an auditor who reads coverage control by control.
 * `selection`: --session or --grep chose the lines counted, so a rule that decided none of them
 * may have decided others (said "decided no selected line", not "never decided a line").
 */
export interface CoverageSummary {
  readonly rules: readonly { id: string; location: string; lines: number; unassertedLines: number }[];
  readonly uncovered: readonly string[];
  readonly unassertedOnly: readonly string[];
  readonly percent: number;
  readonly noRules: boolean;
  readonly controls: readonly ControlCoverage[];
  readonly selection: boolean;
}

/** A control's rules (each once, though a rule name it twice: PC522) and those of them no test case covers. */
export interface ControlCoverage {
  readonly id: string;
  readonly rules: readonly string[];
  readonly uncovered: readonly string[];
}

export function coverageSummary(report: ReplayReport, rules: readonly RuleInfo[], selection = false): CoverageSummary {
  const entries = rules.map((r) => ({ id: r.id, location: r.location, lines: report.coverage.get(r.id) ?? 0, unassertedLines: report.unasserted.get(r.id) ?? 0 }));
  const uncovered = entries.filter((e) => e.lines === 0);
  const percent = entries.length === 0 ? 0 : Math.floor(((entries.length - uncovered.length) / entries.length) * 1000) / 10;
  return { rules: entries, uncovered: uncovered.map((e) => e.id), unassertedOnly: uncovered.filter((e) => e.unassertedLines > 0).map((e) => e.id), percent, noRules: entries.length === 0, controls: byControl(rules, new Set(uncovered.map((e) => e.id))), selection };
}

function byControl(rules: readonly RuleInfo[], uncovered: ReadonlySet<string>): ControlCoverage[] {
  const controls = new Map<string, { id: string; rules: string[]; uncovered: string[] }>();
  for (const rule of rules) {
    for (const id of new Set(rule.controls)) {
      let control = controls.get(id);
      if (control === undefined) controls.set(id, (control = { id, rules: [], uncovered: [] }));
      control.rules.push(rule.id);
      if (uncovered.has(rule.id)) control.uncovered.push(rule.id);
    }
  }
  return [...controls.values()];
}

/** The widest the coverage table's id column is padded to. */
const COVERAGE_ID_COLUMN = 40;

/** What the coverage table says of a rule that decided no line, and of one that decided only lines without expectations. */
export const NEVER_DECIDED = "never decided a line";
export const UNASSERTED_ONLY = "decided only lines without expectations";
export const NO_SELECTED_LINE = "decided no selected line";

/** What a rule that decided no counted line did: under --session or --grep, it may have decided lines the selection left out. */
export function noLineText(coverage: CoverageSummary): string {
  return coverage.selection ? NO_SELECTED_LINE : NEVER_DECIDED;
}

/**
 * The coverage table as text lines, a rule a line (`mark` shows what a rule no case covers did),
 * then the total.
 */
export function coverageLines(coverage: CoverageSummary, mark: (text: string) => string = (text) => text): string[] {
  if (coverage.noRules) return [coverageTotal(coverage)];
  // Rule ids are any text a policy names them: shown with control characters escaped.
  const ids = coverage.rules.map((r) => printable(r.id));
  // Padded to the longest id up to a cap: one very long id overflows its own row only, instead
  // of widening every row past a narrow terminal.
  // Measured by what the terminal draws (a CJK id is twice as wide as it is long, a combining accent takes no column), so the counts line up.
  const pad = paddedColumn(ids, 4);
  const note = (rule: CoverageSummary["rules"][number]): string => (rule.lines > 0 ? "" : mark(rule.unassertedLines > 0 ? `${UNASSERTED_ONLY} (${rule.unassertedLines.toLocaleString("en-US")})` : noLineText(coverage)));
  const rows = coverage.rules.map((rule, i) => `${pad(i)}  ${String(rule.lines).padStart(6)}  ${note(rule)}`.trimEnd());
  return [...rows, coverageTotal(coverage), ...controlLines(coverage)];
}

/** Each of `ids` padded to the widest up to COVERAGE_ID_COLUMN (at least `least`), by what the terminal draws. */
function paddedColumn(ids: readonly string[], least: number): (i: number) => string {
  const widths = ids.map(displayWidth);
  const width = Math.min(Math.max(...widths, least), COVERAGE_ID_COLUMN);
  return (i) => `${ids[i]!}${" ".repeat(Math.max(0, width - widths[i]!))}`;
}

/**
 * `by control`, then a row per control (`ASI03  1 of 2 rules covered; not covered: b`, naming at
 * most NAMED_UNCOVERED rules) and how many rules name none; nothing when no rule names a control.
 */
function controlLines(coverage: CoverageSummary): string[] {
  if (coverage.controls.length === 0) return [];
  const ids = coverage.controls.map((c) => printable(c.id));
  const pad = paddedColumn(ids, 1);
  const rows = coverage.controls.map((control, i) => {
    const covered = control.rules.length - control.uncovered.length;
    return `  ${pad(i)}  ${covered.toLocaleString("en-US")} of ${counted(control.rules.length, "rule")} covered${namedList("not covered", control.uncovered, "controls")}`;
  });
  const inControls = new Set(coverage.controls.flatMap((c) => c.rules));
  const none = coverage.rules.length - inControls.size;
  return ["by control", ...rows, ...(none > 0 ? [`  ${counted(none, "rule")} ${none === 1 ? "names" : "name"} no control`] : [])];
}

/** `; LABEL: a, b`, naming at most NAMED_UNCOVERED of `ids` and counting the rest (`--json` lists them in `coverage.FIELD`); empty for none. */
function namedList(label: string, ids: readonly string[], field: string): string {
  if (ids.length === 0) return "";
  const more = ids.length - NAMED_UNCOVERED;
  const rest = more > 0 ? ` and ${more.toLocaleString("en-US")} more (the table marks each; \`--json\` lists them in \`coverage.${field}\`)` : "";
  return `; ${label}: ${(more > 0 ? ids.slice(0, NAMED_UNCOVERED) : ids).map(printable).join(", ")}${rest}`;
}

/** Rules no case covers named at most in the coverage total, per kind (the table marks each). */
const NAMED_UNCOVERED = 10;

/**
 * `75% of 8 rules covered; never decided a line: a, b; decided only lines without expectations: c`,
 * naming at most NAMED_UNCOVERED rules of each kind: with 10,000 rules the list was one line of
 * 75,000 characters, and the table above it marks each rule anyway. Of no rules, `no rules`.
 */
export function coverageTotal(coverage: CoverageSummary): string {
  if (coverage.noRules) return "no rules: the policy set has none to cover";
  const unassertedOnly = new Set(coverage.unassertedOnly);
  const never = coverage.uncovered.filter((id) => !unassertedOnly.has(id));
  return `${coverage.percent}% of ${coverage.rules.length.toLocaleString("en-US")} rules covered${namedList(noLineText(coverage), never, "uncovered")}${namedList(UNASSERTED_ONLY, coverage.unassertedOnly, "unassertedOnly")}`;
}

/**
 * How much of a line's expected reason reports show: a reason is a sentence, often longer than a
 * name (`SHOWN_TEXT_CHARS`), and compared with the actual reasons shown beside it.
 */
export const SHOWN_REASON_CHARS = 500;

/**
 * What the line expected (its own rules, reason and grants shown in short, `shownList`): a decision (with its rules and reason, then its grants, those on
 * approval and the session's revocation: `allow [read]; grants db:read for 15m; session not
 * revoked`), of an approval line `approved` or `refused`, of a revocation line the outcome of
 * `Engine.revoke` it recorded (`revoked`, `already-revoked`, `refused`).
 */
export function expectedText(result: CaseResult): string {
  if (result.event === "approval") return approvalText(result.expect.approved);
  if (result.event === "revocation") return result.expect.outcome;
  const { expect } = result;
  return `${expect.decision}${expect.rules ? ` [${shownList(expect.rules)}]` : ""}${expect.reason ? ` ("${shownText(expect.reason, SHOWN_REASON_CHARS)}")` : ""}${outcomeText(expect, expect)}`;
}

/** `logged: REASON` lines (each ending in a newline) for a line production refused before any rule ran (`DecisionCase.logged`). */
export function loggedLines(result: CaseResult): string {
  return result.event === undefined && result.logged !== undefined ? result.logged.map((reason) => `logged: ${printable(reason)}\n`).join("") : "";
}

/**
 * `; grants db:read for 15m; grants on approval none; session revoked`: the grants, grants on
 * approval and revocation of `side` (the expectation itself, or the actual decision, which has
 * grants on approval only when it is an ask), each only when the expectation names it.
 */
function outcomeText(expect: Expectation, side: { readonly grants?: readonly Grant[]; readonly grantsOnApproval?: readonly Grant[]; readonly revoked?: boolean }): string {
  const grants = expect.grants !== undefined ? `; grants ${grantsText(side.grants ?? [])}` : "";
  const onApproval = expect.grantsOnApproval !== undefined ? `; grants on approval ${grantsText(side.grantsOnApproval ?? [])}` : "";
  return `${grants}${onApproval}${expect.revoked !== undefined ? `; session ${side.revoked ? "revoked" : "not revoked"}` : ""}`;
}

/**
 * What the engine decided, in the terms the line's expectation used (its reasons too when the
 * line expects a reason); of an approval line, whether `Engine.approved` accepted it, and when
 * it refused, why (`refused: session "s" has no ask awaiting approval for payments.send …`); of
 * a revocation line, what `Engine.revoke` returned, and when it refused, why.
 */
export function actualText(result: CaseResult): string {
  if (result.event === "approval") return `${approvalText(result.actual.approved)}${result.actual.reason ? `: ${result.actual.reason}` : ""}`;
  if (result.event === "revocation") return `${result.actual.outcome}${result.actual.refusal ? `: ${result.actual.refusal}` : ""}`;
  return `${result.actual.decision} [${result.actual.rules.join(", ")}]${result.expect.reason !== undefined ? ` ("${result.actual.reasons.join("; ")}")` : ""}${outcomeText(result.expect, result.actual)}`;
}

function approvalText(approved: boolean): string {
  return approved ? "approved" : "refused";
}

/** The actual decision's reasons (none for an approval or revocation line: `actualText` says why it was refused). */
export function actualReasons(result: CaseResult): readonly string[] {
  return result.event !== undefined ? [] : result.actual.reasons;
}

/**
 * `expected and actual look alike but differ in Unicode normalization: expected is NFC, actual
 * NFD`: for a failure whose two texts, as shown, cannot be told apart by eye (a rule id typed
 * on macOS and on Windows; a character not drawn is shown as an escape, so it is seen); undefined
 * for any other.
 */
export function lookAlikeNote(result: CaseResult): string | undefined {
  const how = lookAlikeDifference(printable(expectedText(result)), printable(actualText(result)), ["expected", "actual"]);
  return how === undefined ? undefined : `expected and actual look alike but differ in ${how}`;
}

/** The fields of an expectation that a reader names otherwise (`the revocation differs`). */
const MISMATCH_WORDS: Readonly<Record<string, string>> = { revoked: "revocation", grantsOnApproval: "grants on approval" };

/**
 * ` (the reason differs)` when the decision is as expected and only its rules, reason, grants,
 * grants on approval or revocation are not: the part a reader would otherwise hunt for.
 */
export function differsText(result: CaseResult): string {
  if (result.event !== undefined || result.mismatches.includes("decision") || result.mismatches.length === 0) return "";
  const parts = result.mismatches.map((field) => MISMATCH_WORDS[field] ?? field);
  const listed = parts.length > 2 ? `${parts.slice(0, -1).join(", ")} and ${parts.at(-1)}` : parts.join(" and ");
  const plural = parts.length > 1 || parts[0] === "rules" || parts[0] === "grants" || parts[0] === "grants on approval";
  return ` (the ${listed} ${plural ? "differ" : "differs"})`;
}

/** The notes (`ReplayNote`) as `file:line: message` lines, and how many were left out. */
export function noteLines(report: ReplayReport): string[] {
  const lines = report.notes.map((n) => `${recordingName(n.file)}${n.line !== null ? `:${n.line}` : ""}: ${n.message}`);
  const leftOut = notesLeftOutText(report);
  if (leftOut !== undefined) lines.push(leftOut);
  return lines;
}

/** `… and 12 more notes (…)`, when some were left out. */
export function notesLeftOutText(report: ReplayReport): string | undefined {
  return report.notesLeftOut > 0 ? `… and ${report.notesLeftOut.toLocaleString("en-US")} more notes (at most ${MAX_NOTES_PER_FILE} are listed per recording)` : undefined;
}

/** `… and 12 more failed cases (at most 100 are listed per recording)`, when some were left out (`LeftOut`). */
export function failuresLeftOutText(failures: number): string | undefined {
  return failures > 0 ? `… and ${counted(failures, "more failed case")} (at most ${MAX_FAILURES_PER_FILE} are listed per recording)` : undefined;
}

/** `… and 12 more errors (at most 100 are listed per recording)`, when some were left out (`LeftOut`). */
export function errorsLeftOutText(errors: number): string | undefined {
  return errors > 0 ? `… and ${counted(errors, "more error")} (at most ${MAX_ERRORS_PER_FILE} are listed per recording)` : undefined;
}

/** What a file's replay counted past the limits, a line each (failures, then errors); none when it kept all. */
export function leftOutLines(counts: LeftOut | undefined): string[] {
  return [failuresLeftOutText(counts?.failures ?? 0), errorsLeftOutText(counts?.errors ?? 0)].filter((line) => line !== undefined);
}

/**
 * Whether a recording is a file CI can point at: not standard input or another device (a
 * GitHub annotation with \`file=/dev/fd/0\` attaches to nothing).
 */
export function isRepositoryFile(file: string): boolean {
  return file !== STANDARD_INPUT && !file.startsWith("/dev/") && !file.startsWith("/proc/");
}

/**
 * How reports name a file where CI reads it (the `file=` of a GitHub annotation, JUnit's `file`
 * attribute): GitHub resolves a relative `file` against the repository root, `GITHUB_WORKSPACE`,
 * not against the step's working folder, and JUnit readers (GitLab, test-reporter actions) read
 * it from the root too. So a file inside `workspace` is named relative to it, with `/`; any other
 * file, or every file when no workspace is known, as given (an absolute path stays absolute).
 * Relative paths (recordings as given, rule locations of a build) are taken from `cwd`.
 */
export function ciPaths(cwd: string, workspace: string | undefined): (file: string) => string {
  if (workspace === undefined || workspace.trim() === "") return (file) => file;
  const under = pathsUnder(cwd, workspace);
  return (file) => under(file) ?? file;
}

/** The repository root, as SARIF's `%SRCROOT%` names it: `GITHUB_WORKSPACE` (from `cwd`) when it is set, else the working folder. */
export function repositoryRoot(cwd: string, workspace: string | undefined): string {
  return workspace === undefined || workspace.trim() === "" ? cwd : resolve(cwd, workspace);
}

/**
 * A file's path relative to the folder `root`, with `/`, or undefined for a file not under it
 * (the folder itself included). Relative paths and `root` are taken from `cwd`.
 */
export function pathsUnder(cwd: string, root: string): (file: string) => string | undefined {
  const given = resolve(cwd, root);
  // The runner may name the workspace through a link the working folder does not go through.
  let real = given;
  try {
    real = realpathSync(given);
  } catch {
    // A workspace that does not exist holds no file: every path stays as given.
  }
  return (file) => {
    const absolute = resolve(cwd, file);
    for (const folder of new Set([given, real])) {
      const path = relative(folder, absolute);
      if (path !== "" && path !== ".." && !path.startsWith(`..${sep}`) && !isAbsolute(path)) return path.split(sep).join("/");
    }
    return undefined;
  };
}

/** A failure of the run as a whole: its name (a JUnit test case's, a TAP point's) and why. */
export interface RunCheck {
  readonly name: string;
  /** The stable code of the input error that stopped the run (a bundle or key refused: PC7xx, a recording: PC600), when it has one. */
  readonly code?: string;
  readonly message: string;
}

/** Whether the run passed, and if not why. */
export interface RunVerdict {
  readonly ok: boolean;
  /** Why the run failed, in words. */
  readonly reason?: string;
  /** The stable code of the input error that kept the run from starting (a bundle, key or recording refused), as `--json` of diff and eval give it: the JSON report's `"code"`. (Not `code`, which `judge` gives the exit code.) */
  readonly inputCode?: string;
  /**
   * Failures of the run as a whole that no case or error shows (too little coverage, no test
   * cases): every reporter shows each as a failure of its own, where CI looks. Coverage below
   * `--min-coverage` is among them also when cases failed or lines did not fit, so that a fix of
   * those is not followed by a second surprise.
   */
  readonly runChecks?: readonly RunCheck[];
  /**
   * The diagnostics of a policy set that did not load, as `check --json` lists them: nothing was
   * replayed, and every reporter shows each error as a failure of its own, at its place.
   */
  readonly diagnostics?: readonly DiagnosticJson[];
}

/** The errors among the verdict's diagnostics: each is a failure in every reporter (warnings only in JSON and GitHub's). */
export function diagnosticErrors(verdict: RunVerdict | undefined): readonly DiagnosticJson[] {
  return verdict?.diagnostics?.filter((d) => d.severity === "error") ?? [];
}

/** A diagnostic as a test's title: `p.policy:3:35 PC201 unknown field \`agent.tema\``. */
export function diagnosticTitle(d: DiagnosticJson): string {
  const place = diagnosticPlace(d);
  return `${place !== undefined ? `${place} ` : ""}${d.code} ${d.message}`;
}

/**
 * Which policy set a run judged, as its machine-readable reports name it, so a report kept as
 * evidence says what it is evidence of: the content hash (`sha256:…`, what `policyc build` prints
 * and a bundle's `manifest.contentHash` holds), the policyc that judged, and whether the set came
 * from sources or a bundle (its path, whether it is signed and whether the signature was checked).
 */
export type PolicyIdentity =
  | { readonly contentHash: string; readonly policyc: string; readonly from: "sources" }
  | { readonly contentHash: string; readonly policyc: string; readonly from: "bundle"; readonly bundle: string; readonly signed: boolean; readonly signatureChecked: boolean };

/** The policy set as a line of text (TAP's comment): `sha256:… from bundle \`b.json\` (signed, signature checked), policyc 0.13.0`. */
export function policyIdentityText(policy: PolicyIdentity): string {
  const from = policy.from === "sources" ? "sources" : `bundle \`${printable(policy.bundle)}\` (${policy.signed ? `signed, signature ${policy.signatureChecked ? "checked" : "not checked"}` : "unsigned"})`;
  return `${policy.contentHash} from ${from}, policyc ${policy.policyc}`;
}

export interface ReporterInput {
  readonly report: ReplayReport;
  readonly rules: readonly RuleInfo[];
  /** How a `file=` attribute names a recording or policy file for CI (see `ciPaths`); as given when absent. */
  readonly ciPath?: (file: string) => string;
  readonly coverage?: CoverageSummary;
  /** The run's verdict, when known. */
  readonly verdict?: RunVerdict;
  /** The policy set judged; absent when it did not load. */
  readonly policy?: PolicyIdentity;
  /** What --exclude left out of it, as `check --json` lists it; absent when it did not load. */
  readonly excluded?: readonly { readonly path: string; readonly glob: string }[];
  /** How many recording errors the text reporter shows (`--max-errors`); all it kept when absent. Machine reporters list every one kept. */
  readonly maxErrors?: number;
}

/**
 * What kind of problem an error is, as a test's title: a line that is not a request, a request
 * the policy set does not know (an unknown tool), or a recording that cannot be read or written.
 */
export function errorTitle(error: ReplayError): string {
  if (error.kind === "mismatch") return "request the policy set does not know";
  return error.line === null ? "recording error" : "malformed line";
}

/** An error's message with its code in front, as the text report shows it after the place (JUnit, TAP): `error[PC601]: not JSON …`. */
export function codedMessage(error: ReplayError): string {
  return `error[${error.code}]: ${error.message}`;
}

/** Where an error is: `file:line`, or the file alone when it is about the whole recording. */
export function errorPlace(error: ReplayError): string {
  return error.line === null ? recordingName(error.file) : `${recordingName(error.file)}:${error.line}`;
}

/**
 * The errors as the text reports of `policyc test` and `policyc diff` list them, a line each:
 * every error about a whole recording and the first `maxErrors` line errors of those kept (all
 * when absent), then how many more were found (`leftOut` of them not kept, past
 * MAX_ERRORS_PER_FILE) and which limit to lift to see them.
 */
export function shownErrors(errors: readonly ReplayError[], leftOut: number, maxErrors: number | undefined, palette: Palette): { lines: string[]; shown: number } {
  // An error about a whole recording (one that cannot be read, or is one JSON document) is always
  // shown: behind another recording's malformed lines it would go unnamed. Line errors up to the cap.
  let lineErrorsLeft = maxErrors ?? Number.POSITIVE_INFINITY;
  const shown = errors.filter((error) => error.line === null || lineErrorsLeft-- > 0);
  const lines = shown.map((error) => renderInputError(printable(errorPlace(error)), error.code, printable(error.message), palette));
  const found = errors.length + leftOut;
  if (found > shown.length) {
    // Some were kept but not shown (--max-errors), some not even kept (past MAX_ERRORS_PER_FILE): say which limit to lift.
    const why = [...(errors.length > shown.length ? ["use --max-errors to see more"] : []), ...(leftOut > 0 ? [`at most ${MAX_ERRORS_PER_FILE} are listed per recording`] : [])];
    lines.push(`… and ${counted(found - shown.length, "more error")} not shown (${why.join("; ")})`);
  }
  return { lines, shown: shown.length };
}

/** Said by every reporter when --bail stopped the run. */
export const BAILED = "stopped at the first failure (--bail): later lines and recordings were not replayed";

/** Where a reporter writes its text, piece by piece, so no report is ever held as one string. */
export type Write = (text: string) => void;

/**
 * Gathers small pieces into writes of about `size` characters: a report of a million cases is
 * written in a few hundred writes, and never held whole (V8 cannot hold a string past ~512 MB).
 * Call `flush` at the end.
 */
export function chunkedWriter(write: Write, size = 1 << 16): { write: Write; flush: () => void } {
  let pieces: string[] = [];
  let length = 0;
  const flush = (): void => {
    if (length > 0) write(pieces.join(""));
    pieces = [];
    length = 0;
  };
  return {
    write: (text) => {
      pieces.push(text);
      length += text.length;
      if (length >= size) flush();
    },
    flush,
  };
}
