import { defaultDenyReason, Engine, unknownToolReasonStart } from "../runtime/engine.js";
import { explain } from "../runtime/explain.js";
import type { Decision } from "../runtime/decision.js";
import type { CompiledPolicy } from "../runtime/policy.js";
import { RepeatedLines, repeatedLineNote } from "./repeatedLines.js";
import { clauseSummary, FAILED_CLOSED, undeclaredFieldsLine, verdictOf } from "./explanationText.js";
import { describeReadError, readRecording, readRecordingBatches, wholeDocumentError, type ApprovalExpectation, type Expectation, type RevokeOutcome } from "./readRecording.js";
import { attemptOfLine, observeMalformed, shareFilter, type Share } from "./sessionOfLine.js";
import { mergeShareErrors, runShares, threadsFor } from "./parallel.js";
import { LineEdits, rewriteRecording } from "./rewriteRecording.js";
import { recordingName, recordingPath, recordingSource } from "./recordingSource.js";
import { printable } from "../diagnostics/printable.js";
import { isSessionPlaceholder, revocationRequest, SHOWN_ITEMS, SHOWN_TEXT_CHARS, sessionLabel, shortRequest, shownText, toolLabel } from "./shortRequest.js";
import { NameIndex } from "../runtime/closestName.js";
import { decideRecorded, engineOptions, PassedOverLines, replayEngine, replayRecorded, revokeRecorded, type ApprovalOutcome as RecordedApproval, type RecordedEngineOptions } from "./decideRecorded.js";
import { grantingRulesOf, grantsOnApprovalOf, sameGrants } from "./grants.js";
import { ValueMap } from "../runtime/longText.js";
import { DEFAULT_SESSION_IDLE_MS } from "../runtime/session.js";
import { INPUT_CODES, type InputCode } from "./inputCodes.js";
import { refusalDetail } from "../runtime/refusal.js";

/**
 * How to replay, and the engine options of the enforcement point that recorded the traffic
 * (RecordedEngineOptions: set what it used, or its decisions replay differently).
 */
export interface ReplayOptions extends RecordedEngineOptions {
  /** Replay only this session's lines (sessions are independent, so the others need not run). */
  readonly session?: string;
  /** Count as test cases only lines whose tool or expected/actual rule ids contain this text. */
  readonly grep?: string;
  /** Stop at the first failure. */
  readonly bail?: boolean;
  /**
   * Write the actual decision and rules into the lines that need them (failed cases, and lines
   * that expect nothing yet; its reason, grants, grants on approval and revocation where such a
   * line has them; into an approval line that failed, its actual `approved` alone; into a
   * revocation line that failed or records no `outcome`, its actual `outcome` alone),
   * among those selected by `session` and `grep`; every other byte of
   * the recording stays as it was, and a recording that needs no change is not touched.
   */
  readonly update?: boolean;
  /**
   * List every case in `cases` (for reporters that list passes too): a passed case as a small
   * `CaseListing`, a failed one as its `CaseResult`. Otherwise only failures are kept.
   */
  readonly listCases?: boolean;
  /** Show the arguments' names only in each case's request, never their values (`--hide-values`). */
  readonly hideValues?: boolean;
  /** How many failures per file get a clause-level explanation (a second, partial pass). */
  readonly explainLimit?: number;
  /**
   * Replay a large recording on this many threads, each taking a share of the sessions
   * (sessions are independent, so the decisions are the same). Default: one per core (up to 8), for
   * files of at least PARALLEL_MIN_BYTES (parallel.ts) and runs without `update` or `bail`.
   * Always one with `maxSessions`, which counts the live sessions of every share.
   */
  readonly workers?: number;
  /** Internal: replay only the sessions of this share (set in each worker). */
  readonly partition?: Share;
  /** The folder relative recording paths are read from (the CLI's working folder); reports keep the paths as given. */
  readonly cwd?: string;
  /** Internal: the absolute path the file's bytes are read from, when not the file itself (`recordingSource`). */
  readonly source?: string;
}

/** One line with an expectation, and how it went: an attempt's decision, an approval's outcome, or a revocation's. */
export type CaseResult = DecisionCase | ApprovalCase | RevocationCase;

interface CaseCommon {
  readonly file: string;
  readonly line: number;
  readonly session: string;
  /** The line's tool, or what a logged refusal or a revocation line that named none had instead (`toolLabel`: `(no tool)`, `(tool: null)`). */
  readonly tool: string;
  /**
   * The request in short (`shortRequest`): text, not the arguments themselves, which a worker
   * thread could not send back when nested thousands deep (an undeclared field in a log line).
   */
  readonly request: string;
  readonly ok: boolean;
  /** What differed: the fields of the expectation ("decision", "rules", "reason", "grants", "grantsOnApproval", "revoked"; "approved"; "outcome"). */
  readonly mismatches: readonly string[];
  /** The deciding rules' clauses, for failures: filled by the explanation pass. */
  explanation?: string;
}

/** An attempt's line: the decision it expected, and the one the replay made. */
export interface DecisionCase extends CaseCommon {
  readonly event?: undefined;
  readonly expect: Expectation;
  readonly actual: Decision;
  /**
   * Why production refused the line, as its log recorded it (`reasons`, or `reason`), when it
   * expects a refusal by no rule and names no reason to compare: reports show it under
   * `expected` (the first SHOWN_ITEMS, each up to LOGGED_REASON_CHARS).
   */
  readonly logged?: readonly string[];
}

/** How much of a logged reason a failure keeps (`DecisionCase.logged`): a sentence, not a log's megabyte. */
const LOGGED_REASON_CHARS = 500;

/**
 * The reasons a line's log recorded for a refusal by no rule, when the line names no reason to
 * compare (`DecisionCase.logged`); undefined for any other line.
 */
function loggedReasons(request: Readonly<Record<string, unknown>>, expect: Expectation): readonly string[] | undefined {
  if (expect.decision !== "deny" || expect.rules?.length !== 0 || expect.reason !== undefined) return undefined;
  const logged = request["reasons"];
  if (!Array.isArray(logged)) return undefined;
  const reasons = logged.slice(0, SHOWN_ITEMS).filter((r): r is string => typeof r === "string").map((r) => shownText(r, LOGGED_REASON_CHARS));
  return reasons.length > 0 ? reasons : undefined;
}

/** An approval line (`"event": "approval"`): what `Engine.approved` returned in production, and in the replay. */
export interface ApprovalCase extends CaseCommon {
  readonly event: "approval";
  readonly expect: ApprovalExpectation;
  readonly actual: ApprovalOutcome;
}

/** What `Engine.approved` returned in a replay, and when it refused, why (`Engine.approvalRefusal`). */
export interface ApprovalOutcome {
  readonly approved: boolean;
  readonly reason?: string;
}

/** A revocation line (`"event": "revocation"`) that records `outcome`: what `Engine.revoke` returned in production, and in the replay. */
export interface RevocationCase extends CaseCommon {
  readonly event: "revocation";
  readonly expect: { readonly outcome: RevokeOutcome };
  readonly actual: RevocationOutcome;
}

/** What `Engine.revoke` returned in a replay (its `outcome`), and when it refused, why (its `refusal`). */
export interface RevocationOutcome {
  readonly outcome: RevokeOutcome;
  readonly refusal?: string;
}

/** The outcomes `--update` writes into revocation lines: shared (and frozen), as LineEdits keeps them. */
const REVOCATION_OUTCOMES: Readonly<Record<RevokeOutcome, RevocationOutcome>> = { revoked: Object.freeze({ outcome: "revoked" }), "already-revoked": Object.freeze({ outcome: "already-revoked" }), refused: Object.freeze({ outcome: "refused" }) };

/**
 * A passed case as reporters list it: what they print and no more (not its arguments or
 * decision), so a run that lists every case of a large recording stays small.
 */
export interface CaseListing {
  readonly file: string;
  readonly line: number;
  readonly session: string;
  /** As `CaseResult` has it (`toolLabel`). */
  readonly tool: string;
  /** An approval line's case (see `ApprovalCase`), or a revocation line's (`RevocationCase`). */
  readonly event?: "approval" | "revocation";
  /** The request in short (`shortRequest`). */
  readonly request: string;
  readonly ok: true;
}

/** A case in `ReplayReport.cases`: listed in short when it passed, in full when it failed. */
export type ListedCase = CaseListing | CaseResult;

/** A line that could not be a test case, or a file that could not be read. */
export interface ReplayError {
  readonly file: string;
  readonly line: number | null;
  /** The last line, for an error about several (a JSON object written over several lines). */
  readonly endLine?: number;
  readonly message: string;
  /** `input`: malformed (exit 2). `mismatch`: well-formed but not of this policy set, e.g. an unknown tool (exit 1). */
  readonly kind: "input" | "mismatch";
  /** Its stable code (PC600–PC604, INPUT_CODES; docs/diagnostics.md), set where the error is found. */
  readonly code: InputCode;
}

/**
 * Something a person should know that is not a failure: a case that passed only because its
 * request was refused before any rule ran, a line that expects nothing and was refused (its call
 * did not happen, which later lines of its session may count on), or a recording that tests
 * nothing (`line` null).
 */
export interface ReplayNote {
  readonly file: string;
  readonly line: number | null;
  readonly message: string;
}

/** Notes kept per file; past it they are counted (`notesLeftOut`), so a large log of refusals cannot fill the report. */
export const MAX_NOTES_PER_FILE = 20;

/**
 * Failed cases kept in full per file (in `failures`, and in `cases` when listed); past it they
 * are counted (`LeftOut`), so a recording that fails on every line cannot fill memory.
 */
export const MAX_FAILURES_PER_FILE = 100;

/** Errors about a file's lines kept per file; past it they are counted (`LeftOut`), so a file of garbage cannot fill memory. */
export const MAX_ERRORS_PER_FILE = 100;

/** The errors about a file's lines past MAX_ERRORS_PER_FILE, counted only (by `policyc test` and `policyc diff`). */
export interface ErrorsLeftOut {
  errors: number;
  /** Of `errors`, the malformed lines (`kind: "input"`, which make the run exit 2). */
  inputErrors: number;
}

/** What a file's replay counted but did not keep: failures past MAX_FAILURES_PER_FILE, errors past MAX_ERRORS_PER_FILE. */
export interface LeftOut extends ErrorsLeftOut {
  failures: number;
}

export interface ReplayReport {
  readonly files: readonly string[];
  passed: number;
  failed: number;
  /** Lines replayed (with or without expectations). */
  lines: number;
  /** Files replayed (all of `files`, unless a `bail` stopped the run early). */
  filesReplayed: number;
  /** With `listCases`: every case, in order (of the failed ones, those kept in `failures`). */
  readonly cases: ListedCase[];
  /** Failed cases, at most MAX_FAILURES_PER_FILE per file, in line order (`failed` counts them all). */
  readonly failures: CaseResult[];
  /** Errors, at most MAX_ERRORS_PER_FILE about lines per file, in line order (`errorCount` counts them all). */
  readonly errors: ReplayError[];
  /** By file: the failures and errors past the limits, counted only. */
  readonly leftOut: Map<string, LeftOut>;
  /** Notes on lines (see `ReplayNote`), at most MAX_NOTES_PER_FILE per file, in line order. */
  readonly notes: ReplayNote[];
  /** Notes past the limit, counted only. */
  notesLeftOut: number;
  /**
   * Test cases each rule decided (appeared in the decision's `rules`): selected lines (`session`,
   * `grep`) with an expected decision, passed or failed. Only these count as covered: a line that
   * expects nothing asserts nothing about the rule that decided it.
   */
  readonly coverage: Map<string, number>;
  /** Selected lines without an expected decision each rule decided: shown apart, never counted as covered. */
  readonly unasserted: Map<string, number>;
  readonly ruleIds: readonly string[];
  bailed: boolean;
  /** With `update`: the recordings that were rewritten, and those that needed it but could not be (their errors say why). */
  readonly updated: string[];
  readonly notUpdated: string[];
  /** Of `updated`: the recordings a writer appended to that did not get all it wrote (replaced meanwhile, or a line unfinished; a note says so). */
  readonly appendedDuringUpdate: string[];
}

function sameSet(a: readonly string[], b: readonly string[]): boolean {
  if (a.length !== b.length) return false;
  // Recordings usually list the rules in the order the engine reports them.
  let same = 0;
  while (same < a.length && a[same] === b[same]) same++;
  if (same === a.length) return true;
  // Rule lists are short: compare without building a set.
  if (a.length <= 8) {
    for (const x of a) if (!b.includes(x)) return false;
    for (const y of b) if (!a.includes(y)) return false;
    return true;
  }
  const set = new Set(a);
  return b.every((x) => set.has(x));
}

/** Compares a decision with what the line expected; returns what differs. */
const NO_MISMATCHES: readonly string[] = Object.freeze([]);

export function compareDecision(expect: Expectation, actual: Decision): readonly string[] {
  const sameRules = expect.rules === undefined || sameSet(expect.rules, actual.rules);
  const sameReason = expect.reason === undefined || actual.reasons.includes(expect.reason) || actual.reasons.join("; ") === expect.reason;
  const grantsAsExpected = expect.grants === undefined || sameGrants(expect.grants, actual.grants);
  const approvalGrantsAsExpected = expect.grantsOnApproval === undefined || sameGrants(expect.grantsOnApproval, grantsOnApprovalOf(actual));
  const revokedAsExpected = expect.revoked === undefined || expect.revoked === actual.revoked;
  // Most lines pass: answer them without allocating.
  if (expect.decision === actual.decision && sameRules && sameReason && grantsAsExpected && approvalGrantsAsExpected && revokedAsExpected) return NO_MISMATCHES;
  const mismatches: string[] = [];
  if (expect.decision !== actual.decision) mismatches.push("decision");
  if (!sameRules) mismatches.push("rules");
  if (!sameReason) mismatches.push("reason");
  if (!grantsAsExpected) mismatches.push("grants");
  if (!approvalGrantsAsExpected) mismatches.push("grantsOnApproval");
  if (!revokedAsExpected) mismatches.push("revoked");
  return mismatches;
}

/** An approval's outcome as `--update` writes it: shared (and frozen), like most decisions. */
const APPROVED: ApprovalOutcome = Object.freeze({ approved: true });
const REFUSED: ApprovalOutcome = Object.freeze({ approved: false });

/** A report with nothing counted yet: every rule at zero coverage (and of a run that could not start, nothing at all). */
export function emptyReport(rules: readonly { readonly id: string }[], files: readonly string[], ruleIds: readonly string[]): ReplayReport {
  return { files, passed: 0, failed: 0, lines: 0, filesReplayed: 0, cases: [], failures: [], errors: [], leftOut: new Map(), notes: [], notesLeftOut: 0, coverage: new Map(rules.map((r) => [r.id, 0])), unasserted: new Map(rules.map((r) => [r.id, 0])), ruleIds, bailed: false, updated: [], notUpdated: [], appendedDuringUpdate: [] };
}

/** The left-out counts of `file` in `report`, made when it has none yet. */
function leftOutOf(report: ReplayReport, file: string): LeftOut {
  let counts = report.leftOut.get(file);
  if (counts === undefined) report.leftOut.set(file, (counts = { failures: 0, errors: 0, inputErrors: 0 }));
  return counts;
}

/** Counts an error past MAX_ERRORS_PER_FILE instead of keeping it. */
function countLeftOut(counts: ErrorsLeftOut, error: ReplayError): void {
  counts.errors++;
  if (error.kind === "input") counts.inputErrors++;
}

/**
 * What keeps the errors about one file's lines (or one share's of them), found in line order:
 * the first MAX_ERRORS_PER_FILE go `into` the report, the rest are only counted in `counts()`
 * (called only then), so a file of garbage cannot fill memory.
 */
export function lineErrorKeeper(into: ReplayError[], counts: () => ErrorsLeftOut): (error: ReplayError) => void {
  let kept = 0;
  return (error) => {
    if (kept++ < MAX_ERRORS_PER_FILE) into.push(error);
    else countLeftOut(counts(), error);
  };
}

/**
 * Keeps the errors of a file's shares as one thread would have: merged in line order
 * (`mergeShareErrors`), the file's own errors (`line` null) all, of those about its lines the
 * first MAX_ERRORS_PER_FILE; the rest counted in `counts`.
 */
export function keepShareErrors(errors: readonly ReplayError[], into: ReplayError[], counts: ErrorsLeftOut): void {
  let lineErrors = 0;
  for (const error of mergeShareErrors(errors)) {
    if (error.line === null || lineErrors++ < MAX_ERRORS_PER_FILE) into.push(error);
    else countLeftOut(counts, error);
  }
}

/** The failures and errors of every file left out of `report`, in all. */
export function leftOutTotal(report: ReplayReport): LeftOut {
  const total = { failures: 0, errors: 0, inputErrors: 0 };
  for (const counts of report.leftOut.values()) {
    total.failures += counts.failures;
    total.errors += counts.errors;
    total.inputErrors += counts.inputErrors;
  }
  return total;
}

/** How many errors the replay found, those left out included. */
export function errorCount(report: ReplayReport): number {
  return report.errors.length + leftOutTotal(report).errors;
}

/** Whether any error, kept or left out, is malformed input (exit 2). */
export function hasInputError(report: ReplayReport): boolean {
  return leftOutTotal(report).inputErrors > 0 || report.errors.some((e) => e.kind === "input");
}

/**
 * Credits the rules of a decision with `count` lines in `counts` (`coverage` or `unasserted`):
 * those that decided it, and for an ask the allow rules that gave its grants on approval (an
 * allow beside an unconditional ask decides no line, yet its grants are what each approved call
 * gets: it is covered).
 */
function credit(counts: Map<string, number>, decision: Decision, count: number): void {
  for (const id of decision.rules) counts.set(id, counts.get(id)! + count);
  for (const id of grantingRulesOf(decision)) counts.set(id, counts.get(id)! + count);
}

/**
 * The policy's tools, and the index that names the one a made-up tool is close to: the engine's
 * (NameIndex), so a replay's advice is the enforcement point's and as cheap.
 */
export interface DeclaredTools {
  readonly names: ReadonlySet<string>;
  readonly index: NameIndex;
}

function declaredTools(policy: CompiledPolicy): DeclaredTools {
  const names = Object.keys(policy.schema.tools);
  return { names: new Set(names), index: new NameIndex(names) };
}

/**
 * Replays recordings through the same engine and session state enforcement points use:
 * lines in file order, a fresh engine per file, each session with its own state.
 */
export async function replayRecordings(policy: CompiledPolicy, files: readonly string[], options: ReplayOptions = {}): Promise<ReplayReport> {
  const report = emptyReport(policy.rules, files, policy.rules.map((r) => r.id));
  const toolNames = declaredTools(policy);
  // The recordings replayed, in order (one read from standard input cannot be read again), and
  // the failing sessions of each: where a later one's failing sessions began (see noteSessionsBegunEarlier).
  const replayed: RecordingReplayed[] = [];
  for (const file of files) {
    report.filesReplayed++;
    const failuresBefore = report.failures.length;
    const source = await recordingSource(file, options.cwd);
    try {
      if (source.error !== undefined) {
        report.errors.push({ file, line: null, message: source.error, kind: "input", code: INPUT_CODES.unreadableFile });
        continue;
      }
      let fileOptions: ReplayOptions = source.copied ? { ...options, source: source.path } : options;
      if (source.copied && options.update) {
        // Rewriting the copy would change nothing the user has: say so, and replay without it.
        report.notUpdated.push(file);
        report.errors.push({ file, line: null, message: "cannot update it: it is standard input, a pipe or a device, not a file that can be rewritten", kind: "input", code: INPUT_CODES.notUpdatable });
        fileOptions = { ...fileOptions, update: false };
      }
      await replayOneFile(policy, file, fileOptions, report, toolNames, source.path);
      const failing = new Map<string, number>();
      for (const failure of report.failures.slice(failuresBefore)) if (!failing.has(failure.session) && !isSessionPlaceholder(failure.session)) failing.set(failure.session, failure.line);
      const recording: RecordingReplayed = { file, path: source.copied ? null : source.path, failing, firstTimes: undefined };
      // A copy of standard input is gone at the end of the run: its sessions' first times are read now.
      if (source.copied && failing.size > 0 && replayed.length > 0) recording.firstTimes = (await sessionTimes(source.path, new Map([...failing.keys()].map((session) => [session, "first"])))).first;
      replayed.push(recording);
    } finally {
      source.release();
    }
    if (report.bailed) break;
  }
  await noteSessionsBegunEarlier(report, replayed, options.sessionIdleMs ?? DEFAULT_SESSION_IDLE_MS);
  return report;
}

/** A recording of the run as noteSessionsBegunEarlier needs it: `path` null when it cannot be read again. */
interface RecordingReplayed {
  readonly file: string;
  readonly path: string | null;
  /** Its failing sessions, each with the line of its first failure (failures kept, so at most a few hundred). */
  readonly failing: ReadonlyMap<string, number>;
  firstTimes: ReadonlyMap<string, number> | undefined;
}

/**
 * One read of a recording, each line's session and time scanned without parsing the line: for
 * the sessions in `wanted`, the first or the last dated time in it (or both).
 */
async function sessionTimes(path: string, wanted: ReadonlyMap<string, "first" | "last" | "both">): Promise<{ first: Map<string, number>; last: Map<string, number> }> {
  const first = new Map<string, number>();
  const last = new Map<string, number>();
  try {
    for await (const batch of readRecordingBatches(path, attemptOfLine)) {
      for (const entry of batch) {
        let session: string;
        let timeText: unknown;
        if (entry.ok === "elsewhere") {
          session = entry.attempt["session"] as string;
          timeText = entry.attempt["time"];
        } else if (entry.ok) {
          session = sessionLabel(entry.request["session"]);
          timeText = entry.request["time"];
        } else continue;
        const which = wanted.get(session);
        const time = typeof timeText === "string" ? Date.parse(timeText) : NaN;
        if (which === undefined || Number.isNaN(time)) continue;
        if (which !== "last" && !first.has(session)) first.set(session, time);
        if (which !== "first") last.set(session, time);
      }
    }
  } catch {
    // A recording that cannot be read again has its error reported already.
  }
  return { first, last };
}

/** Sessions named in a rotated-log note before the rest are counted. */
const SHOWN_CONTINUED_SESSIONS = 3;

/**
 * Notes, once per recording, its failing sessions whose first line there comes less than
 * `idleMs` after their last line in an earlier recording of the run (a log rotated in the
 * middle of a session): each recording replays from fresh sessions, so what the session did
 * there (counts, labels, a revocation) is not carried, and a failure may come of that alone.
 * (Recordings that are independent suites with the same session ids, at the same or unrelated
 * times, are not continuations.) After the run, each recording is read again at most once, and
 * only when it or a later one failed; the note counts against the recording's notes.
 */
async function noteSessionsBegunEarlier(report: ReplayReport, replayed: readonly RecordingReplayed[], idleMs: number): Promise<void> {
  let lastFailing = replayed.length - 1;
  while (lastFailing > 0 && replayed[lastFailing]!.failing.size === 0) lastFailing--;
  if (lastFailing <= 0) return;
  // For each recording, the sessions failing in it (their first time) and in later ones (their last).
  const lastTimes: (ReadonlyMap<string, number> | undefined)[] = [];
  const laterFailing = new Set<string>();
  for (let i = lastFailing; i >= 0; i--) {
    const recording = replayed[i]!;
    const wanted = new Map<string, "first" | "last" | "both">([...laterFailing].map((session) => [session, "last"]));
    if (i > 0 && recording.firstTimes === undefined) for (const session of recording.failing.keys()) wanted.set(session, wanted.has(session) ? "both" : "first");
    if (recording.path !== null && wanted.size > 0) {
      const { first, last } = await sessionTimes(recording.path, wanted);
      if (i > 0 && recording.firstTimes === undefined) recording.firstTimes = first;
      lastTimes[i] = last;
    }
    for (const session of recording.failing.keys()) laterFailing.add(session);
  }
  for (let j = 1; j <= lastFailing; j++) {
    const recording = replayed[j]!;
    const found: { session: string; line: number; from: string; time: number }[] = [];
    for (const [session, line] of recording.failing) {
      const start = recording.firstTimes?.get(session);
      if (start === undefined) continue;
      for (let i = j - 1; i >= 0; i--) {
        const time = lastTimes[i]?.get(session);
        if (time === undefined) continue;
        if (time < start && start - time <= idleMs) found.push({ session, line, from: replayed[i]!.file, time });
        break;
      }
    }
    if (found.length > 0) addNote(report, { file: recording.file, line: Math.min(...found.map((f) => f.line)), message: continuedMessage(found) });
  }
  // A recording's first note may have gone after later recordings' notes: the notes in the run's order again (a stable sort).
  const order = new Map<string, number>();
  report.files.forEach((file, i) => order.set(file, order.get(file) ?? i));
  report.notes.sort((a, b) => (order.get(a.file) ?? 0) - (order.get(b.file) ?? 0));
}

/** The rotated-log note for the sessions `found` (the first few named, the rest counted). */
function continuedMessage(found: readonly { session: string; from: string; time: number }[]): string {
  const advice = "each recording replays from fresh sessions, so what it did there (counts, labels, a revocation) is not carried here; for a log rotated in the middle of sessions, join the files (cat … | policyc test … --replay -)";
  if (found.length === 1) {
    const { session, from, time } = found[0]!;
    return `session ${session} has lines in ${recordingName(from)} (its last line there at ${new Date(time).toISOString()}) too: ${advice}`;
  }
  const named = found.slice(0, SHOWN_CONTINUED_SESSIONS).map(({ session, from, time }) => `${session} (its last line in ${recordingName(from)} at ${new Date(time).toISOString()})`);
  const more = found.length - named.length;
  return `sessions ${named.join(", ")}${more > 0 ? ` and ${more} more` : ""} have lines in earlier recordings too: ${advice.replace("what it did", "what each did")}`;
}

/** Adds a note to its file's notes in line order, or counts it when the file has MAX_NOTES_PER_FILE already. */
function addNote(report: ReplayReport, note: ReplayNote): void {
  const first = report.notes.findIndex((n) => n.file === note.file);
  let end = first < 0 ? report.notes.length : first;
  while (end < report.notes.length && report.notes[end]!.file === note.file) end++;
  const count = first < 0 ? 0 : end - first;
  if (count >= MAX_NOTES_PER_FILE) {
    report.notesLeftOut++;
    return;
  }
  let at = first < 0 ? end : first;
  while (at < end && (report.notes[at]!.line ?? 0) <= (note.line ?? 0)) at++;
  report.notes.splice(at, 0, note);
}

/** Replays one file into `report` (on several threads when it is large) and explains its first failures. */
async function replayOneFile(policy: CompiledPolicy, file: string, options: ReplayOptions, report: ReplayReport, toolNames: DeclaredTools, path: string): Promise<void> {
  const failuresBefore = report.failures.length;
  const before = { cases: report.passed + report.failed, lines: report.lines, errors: report.errors.length };
  const workers = threadsFor(path, { workers: options.workers, oneThread: options.partition !== undefined || options.update || options.bail || options.maxSessions !== undefined });
  if (workers > 1) await replayInWorkers(policy, file, options, report, workers);
  else await replayFile(policy, file, options, report, toolNames);
  // A pretty-printed requests.json given as a recording: one error for it, not one per line.
  // (Under --session, the other sessions' lines are not counted: no line replayed says nothing.)
  const whole = report.lines === before.lines && options.session === undefined ? wholeDocumentError(report.errors.slice(before.errors)) : undefined;
  if (whole !== undefined) {
    report.errors.splice(before.errors, report.errors.length - before.errors, { file, line: null, message: whole, kind: "input", code: INPUT_CODES.notJson });
    // Past the first MAX_ERRORS_PER_FILE, the rest of such a document is more of it: the one error says it all.
    report.leftOut.delete(file);
  }
  // A recording that tests nothing beside others that do would pass unseen (the run fails for
  // want of cases only when no recording has any). Not said when a selection or --update
  // explains it, or when the file's errors already say what is wrong with it.
  if (report.passed + report.failed === before.cases && report.errors.length === before.errors && options.session === undefined && options.grep === undefined && !options.update && !report.bailed) {
    report.notes.push({ file, line: null, message: report.lines === before.lines ? "the recording has no lines: it tests nothing" : 'no line of the recording expects a decision: it builds session state but tests nothing (add `"decision"` to the lines to check, or record what happens now with --update)' });
  }
  const fileFailures = report.failures.slice(failuresBefore);
  if (fileFailures.length > 0) await explainFailures(policy, file, fileFailures.slice(0, options.explainLimit ?? 20), options);
}

/** Replays one file into `report` on this thread (all of it, or one share of its sessions). */
export async function replayFile(policy: CompiledPolicy, file: string, options: ReplayOptions, report: ReplayReport, toolNames: DeclaredTools): Promise<void> {
  const share = options.partition;
  const filter = share === undefined ? undefined : shareFilter(share);
  const engine = replayEngine(policy, options);
  const path = recordingPath(file, options);
  // --update: the lines whose expectation must change, by line number (written after the replay).
  const edits = options.update ? new LineEdits() : undefined;
  let unreadable = false;
  // Shared decisions counted by identity, apart for the lines that are test cases and those that expect nothing.
  const decisionCounts = { coverage: new Map<Decision, number>(), unasserted: new Map<Decision, number>() };
  // A log of an agent trying made-up tools names the same few again and again: look each up once.
  // (A ValueMap: a log's made-up names may be long, and long ones would collide in a Map, longText.ts.)
  const closest = new ValueMap<string | undefined>();
  const closestTool = (tool: string): string | undefined => {
    if (!closest.has(tool) && closest.size < 10_000) closest.set(tool, toolNames.index.closest(tool));
    return closest.has(tool) ? closest.get(tool) : toolNames.index.closest(tool);
  };
  // The sessions a decision revoked, in the replay and in the log: a later line's refusal for a
  // revocation the replay remembers and production had forgotten (or the other way round) comes
  // of how long each remembers revoked sessions (`revokedSessionMs`), see dependsOnEngineOptions.
  const revokedInReplay = new Set<unknown>();
  const revokedInLog = new Set<unknown>();
  // An older-form approval (`"approved": true` on an ask line) the engine refused on the line being replayed.
  let refusedApproval: string | undefined;
  const hearApproval = (approval: RecordedApproval): void => {
    if (approval.recorded && !approval.accepted) refusedApproval = approval.refusal ?? "";
  };
  let notes = 0;
  const note = (line: number, message: string): void => {
    if (notes++ < MAX_NOTES_PER_FILE) report.notes.push({ file, line, message });
    else report.notesLeftOut++;
  };
  // Past the limits, failures and errors are counted, not kept (`LeftOut`).
  let failuresKept = 0;
  const leftOut = (): LeftOut => leftOutOf(report, file);
  /** Keeps an error about a line, or counts it past MAX_ERRORS_PER_FILE. */
  const lineProblem = lineErrorKeeper(report.errors, leftOut);
  /** Counts and keeps a failed case (or only counts it, past MAX_FAILURES_PER_FILE); true when the run is to stop there (--bail). */
  const fail = (result: CaseResult): boolean => {
    report.failed++;
    if (failuresKept++ < MAX_FAILURES_PER_FILE) {
      report.failures.push(result);
      if (options.listCases) report.cases.push(result);
    } else leftOut().failures++;
    if (options.bail) report.bailed = true;
    return report.bailed;
  };
  const repeated = new RepeatedLines();
  // The lines of sessions this pass does not decide (another thread's, another session's).
  const passedOver = new PassedOverLines();
  try {
    lines: for await (const batch of readRecordingBatches(path, filter?.elsewhere)) for (const entry of batch) {
      // Said by the thread that decides the line (a repeat is of the same session: the same thread).
      const repeats = repeated.of(entry);
      if (repeats !== undefined && entry.ok === true && !filter?.belongsElsewhere(entry) && (options.session === undefined || entry.request["session"] === options.session)) note(entry.line, repeatedLineNote(entry.line, repeats));
      // Another thread decides it (or --session leaves it out, below): the engine's clock still
      // moves as in a replay of the whole log, so its sweeps, and with them the decisions, are the same.
      if (entry.ok === "elsewhere") {
        passedOver.tell(entry.attempt, engine);
        continue;
      }
      if (!entry.ok) observeMalformed(entry.text, engine);
      if (filter?.belongsElsewhere(entry)) {
        if (entry.ok) passedOver.tell(entry.request, engine);
        continue;
      }
      if (!entry.ok) {
        lineProblem(lineError(file, entry));
        continue;
      }
      const request = entry.request;
      // An id, but on a logged refusal, which may have none (`sessionLabel`).
      const session = sessionLabel(request["session"]);
      if (options.session !== undefined && request["session"] !== options.session) {
        passOver(request, engine, options, passedOver);
        continue;
      }
      report.lines++;
      // A name, but on a logged refusal, which may have none (`toolLabel`).
      const tool = toolLabel(request["tool"]);
      if (entry.approval !== undefined) {
        // A person's approval arriving here: told to the engine, and compared with what it
        // returned in production. It decides no rule, so it credits none.
        if (!toolNames.names.has(tool)) {
          lineProblem({ file, line: entry.line, message: `${unknownTool(tool, closestTool(tool))}, so no ask of it can await approval`, kind: "mismatch", code: INPUT_CODES.unknownTool });
          continue;
        }
        const approved = engine.approved(request);
        const askedAt = approved ? engine.approvalRecordedAtAsk() : undefined;
        if (askedAt !== undefined) {
          note(entry.line, `this approval is dated at or before the ask it answers (${new Date(askedAt).toISOString()}): the replay counts the call from the ask's time, where production counted it from when the approval came, so a later session.called(…, within D) can replay otherwise; write the time the approval came in the line`);
        }
        if (options.grep !== undefined && !tool.includes(options.grep)) continue;
        if (approved === entry.approval.approved) {
          report.passed++;
          if (options.listCases) report.cases.push({ file, line: entry.line, session, tool, event: "approval", request: shortRequest({ tool, args: request["args"], event: "approval" }, options.hideValues), ok: true });
          continue;
        }
        edits?.add(entry.line, approved ? APPROVED : REFUSED);
        // Refused, it changed nothing: asked again, the engine says why.
        const actual: ApprovalOutcome = approved ? APPROVED : { approved, reason: engine.approvalRefusal(request) ?? "" };
        // Production refused what the replay approved (its session had expired there, say), or the other way round.
        if (approved || SESSION_STATE_REFUSAL.test(actual.reason ?? "")) note(entry.line, ENGINE_OPTIONS_HINT);
        if (fail({ file, line: entry.line, session, tool, request: shortRequest({ tool, args: request["args"], event: "approval" }, options.hideValues), event: "approval", expect: entry.approval, actual, ok: false, mismatches: ["approved"] })) break lines;
        continue;
      }
      if (entry.revocation !== undefined) {
        // An operator's revocation here: told to the engine, so the session's later lines are
        // denied as in production, and compared with what `Engine.revoke` returned there (when
        // the line says). It decides no rule, so it credits none.
        const result = revokeRecorded(engine, request);
        const expected = entry.revocation.outcome;
        if (result.revoked) revokedInReplay.add(request["session"]);
        if (expected !== undefined && expected !== "refused") revokedInLog.add(request["session"]);
        // --grep: it has no tool or rule; its reason (an incident's id, say) selects it.
        if (options.grep !== undefined && !(request["reason"] as string).includes(options.grep)) continue;
        const shown = revocationRequest(session);
        if (expected === result.outcome) {
          report.passed++;
          if (options.listCases) report.cases.push({ file, line: entry.line, session, tool, event: "revocation", request: shown, ok: true });
          continue;
        }
        // --update records the outcome on a line that has none yet, and on one that differs.
        edits?.add(entry.line, REVOCATION_OUTCOMES[result.outcome]);
        if (expected === undefined) continue;
        const actual: RevocationOutcome = result.refusal === null ? REVOCATION_OUTCOMES[result.outcome] : { outcome: result.outcome, refusal: result.refusal };
        // Refused in one and not the other: the room for sessions (maxSessions) may be why. (Never
        // the want of a time: an undated one reads the clock an undated attempt reads.)
        if (expected === "refused" || result.outcome === "refused") note(entry.line, ENGINE_OPTIONS_HINT);
        if (fail({ file, line: entry.line, session, tool, request: shown, event: "revocation", expect: { outcome: expected }, actual, ok: false, mismatches: ["outcome"] })) break lines;
        continue;
      }
      refusedApproval = undefined;
      const actual = decideRecorded(engine, request, hearApproval);
      const revocation = { carried: revokedInReplay.has(request["session"]), logged: revokedInLog.has(request["session"]) };
      if (actual.revoked) revokedInReplay.add(request["session"]);
      if (entry.expect?.revoked === true) revokedInLog.add(request["session"]);
      const expect = entry.expect;
      // (A line without a tool name is no unknown tool: the engine refused it, as it was logged.)
      if (!toolNames.names.has(tool) && tool === request["tool"] && !unknownToolIsCase(request, tool, expect, closestTool)) {
        lineProblem({ file, line: entry.line, message: `${unknownTool(tool, closestTool(tool))}; a decision log's line that expects its denial, with \`"decision"\` and \`"rules"\`, is a test case only when its tool is not close to a declared one, which would be a likely typo, or when its reason says \`${printable(unknownToolReasonStart(tool))}\``, kind: "mismatch", code: INPUT_CODES.unknownTool });
        // Not a case of this policy set: --update writes no expectation into it.
        continue;
      }
      if (options.grep !== undefined && !matchesGrep(options.grep, tool, expect, actual)) continue;
      // Credited only past the selection and the unknown-tool check, once the case's outcome is
      // known: coverage says which rules a passing test asserts. A line that expects nothing, or
      // whose expectation --update rewrites this run, counts apart (`unasserted`: no one has
      // asserted what it now says); a failed case's deciding rule is not the one it expects, so it
      // counts nowhere; a line left out or not of this policy set not at all.
      const creditLine = (which: "coverage" | "unasserted"): void => {
        if (actual.rules.length === 0) return;
        // Most decisions are shared objects (one per combination of rules): count those by
        // identity and credit their rules once at the end, instead of per rule per line.
        // (Decisions built for one line, with errors or in a revoked session, are not frozen:
        // those are credited at once, so the map stays as small as the set of shared ones.)
        if (Object.isFrozen(actual)) decisionCounts[which].set(actual, (decisionCounts[which].get(actual) ?? 0) + 1);
        else credit(report[which], actual, 1);
      };
      /** A failed case: under --update its line is rewritten, so its rules count as not yet asserted. */
      const creditFailed = (): void => {
        if (edits !== undefined) creditLine("unasserted");
      };
      if (!expect) {
        creditLine("unasserted");
        if (refusedBeforeRules(actual, tool)) note(entry.line, `expects nothing, and was refused before any rule ran (${refusalDetail(actual)}): its call did not happen in session ${JSON.stringify(session)}, which later lines may count on`);
        // --update records what happened on a line that expected nothing yet.
        edits?.add(entry.line, actual);
        continue;
      }
      const mismatches = compareDecision(expect, actual);
      if (refusedApproval !== undefined) {
        // The line's `"approved": true` says the call went ahead, and the engine refused it: failed
        // as an approval line that production accepted is, or noted beside a failed decision.
        const refusal: ApprovalOutcome = { approved: false, reason: refusedApproval };
        if (SESSION_STATE_REFUSAL.test(refusedApproval)) note(entry.line, ENGINE_OPTIONS_HINT);
        if (mismatches.length === 0) {
          edits?.add(entry.line, REFUSED);
          creditFailed();
          if (fail({ file, line: entry.line, session, tool, request: shortRequest({ tool, args: request["args"], event: "approval" }, options.hideValues), event: "approval", expect: { approved: true }, actual: refusal, ok: false, mismatches: ["approved"] })) break lines;
          continue;
        }
        note(entry.line, `its \`"approved": true\` (a person approved the call and it went ahead) was refused by the engine: ${refusedApproval}; later lines of session ${JSON.stringify(session)} do not see the call's data`);
      }
      if (mismatches.length === 0) {
        report.passed++;
        creditLine("coverage");
        if (expect.rules === undefined && expect.reason === undefined && refusedBeforeRules(actual, tool)) {
          note(entry.line, `passed, but only because the request was refused before any rule ran (${refusalDetail(actual)}), so no rule decided it: if the line pins a rule's deny, fix the request; if it pins the refusal, add \`"rules": []\``);
        }
        if (options.listCases) report.cases.push({ file, line: entry.line, session, tool, request: shortRequest({ tool, args: request["args"] }, options.hideValues), ok: true });
        continue;
      }
      edits?.add(entry.line, actual);
      creditFailed();
      const logged = loggedReasons(request, expect);
      if (dependsOnEngineOptions(expect, logged, actual, tool, revocation)) note(entry.line, ENGINE_OPTIONS_HINT);
      if (fail({ file, line: entry.line, session, tool, request: shortRequest({ tool, args: request["args"] }, options.hideValues), expect, actual, ok: false, mismatches, ...(logged !== undefined ? { logged } : {}) })) break lines;
    }
  } catch (error) {
    unreadable = true;
    report.errors.push({ file, line: null, message: describeReadError(error, file, "test"), kind: "input", code: INPUT_CODES.unreadableFile });
  } finally {
    for (const which of ["coverage", "unasserted"] as const) for (const [decision, count] of decisionCounts[which]) credit(report[which], decision, count);
  }
  // A recording read only in part is not written back; one that needs no change is not touched.
  if (edits !== undefined && edits.size > 0 && !unreadable) {
    const outcome = await rewriteRecording(path, edits);
    if (outcome.rewritten) {
      report.updated.push(file);
      if (outcome.appendedAfter > 0) {
        report.appendedDuringUpdate.push(file);
        addNote(report, { file, line: null, message: `${outcome.appendedAfter.toLocaleString("en-US")} bytes appended to it while --update replaced it are not in the recording: a writer that keeps the file open (a live logger) wrote them to the replaced file, or had not finished their line when it was replaced (an appended line is kept whole or not at all); stop the logger before --update, or update a copy` });
      }
    } else {
      report.notUpdated.push(file);
      report.errors.push({ file, line: null, message: outcome.error, kind: "input", code: INPUT_CODES.notUpdatable });
    }
  }
}

/** A recording line's error as a report lists it: malformed input, at its line (and its last, when it is about several). */
export function lineError(file: string, entry: { readonly line: number; readonly endLine?: number; readonly error: string; readonly code: InputCode }): ReplayError {
  return entry.endLine === undefined ? { file, line: entry.line, message: entry.error, kind: "input", code: entry.code } : { file, line: entry.line, endLine: entry.endLine, message: entry.error, kind: "input", code: entry.code };
}

/**
 * `unknown tool \`x\` (did you mean \`y\`?): the policy set declares no such tool`: a line's tool
 * the set does not declare (a long one cut, `shownText`, with its length: the line's own text).
 */
function unknownTool(tool: string, meant: string | undefined): string {
  const length = tool.length > SHOWN_TEXT_CHARS ? ` of ${tool.length.toLocaleString("en-US")} characters` : "";
  return `unknown tool \`${printable(shownText(tool))}\`${length}${meant !== undefined ? ` (did you mean \`${printable(meant)}\`?)` : ""}: the policy set declares no such tool`;
}

/**
 * Whether a line naming an undeclared tool is a test case: it expects a denial with its rules
 * (as a decision log writes every line: an agent calling a tool that does not exist is refused,
 * by no rule, or by the rule that revoked its session), and either says it was refused as an
 * unknown tool (`unknown tool "shell.exec": …` as its `reason`, or among the `reasons` the log
 * kept) or names no tool close to a declared one (NameIndex, as the engine says). Any other is an error: a recording
 * of another policy set, or a hand-written line with a typo (`file.delete`), whose expected deny
 * would pass whatever the policy does to the real tool.
 */
function unknownToolIsCase(request: Record<string, unknown>, tool: string, expect: Expectation | undefined, closestTool: (tool: string) => string | undefined): boolean {
  if (expect?.decision !== "deny" || expect.rules === undefined) return false;
  const marker = unknownToolReasonStart(tool);
  const logged = request["reasons"];
  if (expect.reason?.startsWith(marker) || (Array.isArray(logged) && logged.some((r) => typeof r === "string" && r.startsWith(marker)))) return true;
  return closestTool(tool) === undefined;
}

/**
 * The refusals, before any rule ran, that come of the engine's options rather than of the request
 * or the rules: a session that expired (`sessionIdleMs`), is remembered as expired for so long
 * (`expiredSessionMs`), or cannot start for want of room (`maxSessions`). (A session remembered as
 * revoked (`revokedSessionMs`) is denied with its revoking rule: dependsOnEngineOptions.)
 */
// (`the session has expired:` since 0.11.0; a log of 0.10.0 has `session "s1" has expired:` and `session "s1" cannot start:`.)
export const SESSION_STATE_REFUSAL = /^(?:(?:the )?session (?:.* )?(?:has expired|cannot start):|the enforcement point is at capacity:)/;

/** Said of a failing line whose difference can come of the engine options the replay ran with. */
export const ENGINE_OPTIONS_HINT = "its outcome can depend on the engine options the replay runs with (how long sessions live, how many are kept): if the enforcement point set sessionIdleMs, expiredSessionMs, revokedSessionMs or maxSessions, replay with the same values (--session-idle, --expired-session, --revoked-session, --max-sessions)";

/**
 * Whether a failing decision may differ for the engine options alone: the replay refused it
 * for its session's expiry or room, or production refused it before any rule ran (as for an
 * expired session) where the replay let the rules decide — unless its logged reason says it was
 * refused for something else (an invalid request, against a schema changed since; `logged`, the
 * reasons a decision log kept, count as its reason). Or both the replay and the log revoked the
 * session on an earlier line (`revocation`: `carried`, `logged`) and one of them still held the
 * revocation when the other had forgotten it (`revokedSessionMs`): a revoked session's later
 * attempt is denied with the revoking rule, so its `rules` are not empty.
 */
function dependsOnEngineOptions(expect: Expectation, logged: readonly string[] | undefined, actual: Decision, tool: string, revocation: { readonly carried: boolean; readonly logged: boolean }): boolean {
  if (actual.decision === "deny" && actual.rules.length === 0 && SESSION_STATE_REFUSAL.test(actual.reasons[0] ?? "")) return true;
  // (Only where both revoked the session earlier: else an earlier line failed, and says why.)
  if (revocation.carried && revocation.logged && actual.revoked !== (expect.revoked === true)) return true;
  if (expect.reason !== undefined) return SESSION_STATE_REFUSAL.test(expect.reason);
  // (The reasons a decision log kept (`DecisionCase.logged`) say so as well: a request time
  // skewed from the enforcement point's clock, say, is no matter of these options.)
  if (logged !== undefined) return logged.some((reason) => SESSION_STATE_REFUSAL.test(reason));
  return expect.decision === "deny" && expect.rules?.length === 0 && !refusedBeforeRules(actual, tool) && actual.reasons[0] !== defaultDenyReason(tool);
}

/**
 * Whether a deny came before any rule ran: an invalid request, a session that expired or cannot
 * start, an intent the session did not declare. Not a default deny, which the rules gave by
 * allowing nothing (`defaultDenyReason`, with or without an allow rule's error).
 */
function refusedBeforeRules(actual: Decision, tool: string): boolean {
  return actual.decision === "deny" && actual.rules.length === 0 && actual.reasons[0] !== defaultDenyReason(tool);
}

function matchesGrep(text: string, tool: string, expect: Expectation | undefined, actual: Decision): boolean {
  if (tool.includes(text)) return true;
  // An ask's granting allow rules too: coverage credits them for the line, so --grep finds it by them.
  return [...(expect?.rules ?? []), ...actual.rules, ...grantingRulesOf(actual)].some((id) => id.includes(text));
}

/**
 * A second pass over one file, only for the sessions that failed, stopping at each failing
 * line to explain it with the session state it had. Failures are rare, so this costs nothing
 * on a green run and keeps the main pass free of snapshotting.
 */
async function explainFailures(policy: CompiledPolicy, file: string, failures: CaseResult[], options: ReplayOptions): Promise<void> {
  // An approval's or a revocation's failure says why already (`ApprovalOutcome.reason`, `RevocationOutcome.refusal`): only decisions are explained.
  const wanted = new Map(failures.flatMap((f) => (f.event !== undefined ? [] : [[f.line, f] as const])));
  if (wanted.size === 0) return;
  const sessions = new Set([...wanted.values()].map((f) => f.session));
  const lastLine = Math.max(...wanted.keys());
  const engine = replayEngine(policy, options);
  // The line whose decision revoked each session: a later failure's explanation names it.
  const revokedOn = new Map<unknown, number>();
  const passedOver = new PassedOverLines();
  for await (const entry of readRecording(recordingPath(file, options))) {
    if (entry.line > lastLine) break;
    if (!entry.ok) {
      observeMalformed(entry.text, engine);
      continue;
    }
    const session = sessionLabel(entry.request["session"]);
    if (!sessions.has(session) || (options.session !== undefined && entry.request["session"] !== options.session)) {
      passOver(entry.request, engine, options, passedOver);
      continue;
    }
    const failure = wanted.get(entry.line);
    if (failure) {
      const explanation = explain(engine, entry.request);
      const deciding = new Set(failure.actual.rules);
      // Besides the rules that decided: the rules the line expected (what its author will look
      // at), or, when no rule decided, every rule considered.
      const expected = new Set(failure.expect.rules?.filter((id) => !deciding.has(id)));
      const others = explanation.rules.filter((t) => !deciding.has(t.id) && (expected.has(t.id) || deciding.size === 0));
      const considered = new Set(explanation.rules.map((t) => t.id));
      const lines = [
        ...explanation.rules.filter((t) => deciding.has(t.id)).map((t) => `${t.id}${t.matched === "error" ? ` ${FAILED_CLOSED}` : ""}: ${clauseSummary(t, options.hideValues)}`),
        ...others.map((t) => `${expected.has(t.id) ? "the expected rule " : ""}${t.id} (${t.effect}) ${verdictOf(t)}: ${clauseSummary(t, options.hideValues)}`),
        ...notRulesOf(explanation.tool ?? failure.tool, [...expected].filter((id) => !considered.has(id))),
      ];
      const revokedLine = failure.actual.revoked ? revokedOn.get(entry.request["session"]) : undefined;
      const explained = explanation.note === null ? lines.join("\n") : revokedLine === undefined ? explanation.note : `${explanation.note} (the revoking attempt is line ${revokedLine})`;
      // What no rule saw may be why the line's author expected otherwise (a `bcc` beside the `to`).
      const ignored = undeclaredFieldsLine(engine.undeclaredFields(entry.request));
      failure.explanation = ignored === undefined ? explained : `${explained}\n${ignored}`;
    }
    if (replayRecorded(engine, entry.request)?.revoked && !revokedOn.has(entry.request["session"])) revokedOn.set(entry.request["session"], entry.line);
  }
}

/**
 * `the expected rule X is not one of the rules for T`, a line per such rule the line expects; of
 * a line that expects more than SHOWN_ITEMS of them (its `rules` are the recording's, any number
 * of any length), the first and a count: a line of a million made-up ids is explained in 21 lines.
 */
function notRulesOf(tool: string, ids: readonly string[]): string[] {
  const lines = ids.slice(0, SHOWN_ITEMS).map((id) => `the expected rule ${shownText(id)} is not one of the rules for ${shownText(tool)}`);
  if (ids.length > SHOWN_ITEMS) lines.push(`… and ${(ids.length - SHOWN_ITEMS).toLocaleString("en-US")} more expected rules that are not rules for ${shownText(tool)}`);
  return lines;
}

/**
 * Passes over a line of a session this pass does not report on (`--session`, or the pass that
 * explains failures): the engine's clock moves as in a replay of the whole log, and it is told
 * of a revocation of a session not started yet (`PassedOverLines`).
 * Under `maxSessions` the line is replayed, unreported: whether a new session finds room depends
 * on every session live at that time.
 */
function passOver(request: Readonly<Record<string, unknown>>, engine: Engine, options: RecordedEngineOptions, passedOver: PassedOverLines): void {
  if (options.maxSessions !== undefined) replayRecorded(engine, request);
  else passedOver.tell(request, engine);
}

/** Replays one share of a file's sessions into a report of its own (on this thread or in a worker). */
export async function replayShare(policy: CompiledPolicy, file: string, options: ReplayOptions): Promise<WorkerReport> {
  const report = emptyReport(policy.rules, [file], []);
  await replayFile(policy, file, options, report, declaredTools(policy));
  const leftOut = report.leftOut.get(file) ?? { failures: 0, errors: 0, inputErrors: 0 };
  return { passed: report.passed, failed: report.failed, lines: report.lines, cases: report.cases, failures: report.failures, errors: report.errors, leftOut, notes: report.notes, notesLeftOut: report.notesLeftOut, coverage: [...report.coverage], unasserted: [...report.unasserted] };
}

/** What a worker sends back: its share's report, with the coverage maps as entries. */
export interface WorkerReport {
  readonly passed: number;
  readonly failed: number;
  readonly lines: number;
  readonly cases: ListedCase[];
  readonly failures: CaseResult[];
  readonly errors: ReplayError[];
  /** The share's failures and errors past the limits (each share keeps its first). */
  readonly leftOut: LeftOut;
  readonly notes: ReplayNote[];
  readonly notesLeftOut: number;
  readonly coverage: [string, number][];
  readonly unasserted: [string, number][];
}

/**
 * Replays one file on `count` threads, each taking the sessions of its share (this thread the
 * first share, pooled workers the others), and merges the results in line order.
 */
async function replayInWorkers(policy: CompiledPolicy, file: string, options: ReplayOptions, report: ReplayReport, count: number): Promise<void> {
  // Only the options a share needs (and no caller's extra fields, which may not be cloneable).
  const shared: ReplayOptions = { session: options.session, grep: options.grep, listCases: options.listCases, hideValues: options.hideValues, explainLimit: options.explainLimit, cwd: options.cwd, ...engineOptions(options), source: options.source };
  const shares = await runShares<WorkerReport>(
    count,
    (partition) => replayShare(policy, file, { ...shared, partition }),
    (partition) => ({ kind: "replay", policy, file, options: { ...shared, partition } }),
  );
  const byLine = (a: { line: number | null }, b: { line: number | null }): number => (a.line ?? 0) - (b.line ?? 0);
  // Appended one by one: a share of a large recording can list more cases than a call takes arguments.
  const gather = <T>(lists: readonly (readonly T[])[]): T[] => {
    const all: T[] = [];
    for (const list of lists) for (const item of list) all.push(item);
    return all;
  };
  const counts = leftOutOf(report, file);
  for (const share of shares) {
    report.notesLeftOut += share.notesLeftOut;
    report.passed += share.passed;
    report.failed += share.failed;
    report.lines += share.lines;
    counts.failures += share.leftOut.failures;
    counts.errors += share.leftOut.errors;
    counts.inputErrors += share.leftOut.inputErrors;
    for (const [id, n] of share.coverage) report.coverage.set(id, (report.coverage.get(id) ?? 0) + n);
    for (const [id, n] of share.unasserted) report.unasserted.set(id, (report.unasserted.get(id) ?? 0) + n);
  }
  // Each share kept its first notes, failures and errors: keep the file's first in line order, and count the rest.
  const notes = gather(shares.map((share) => share.notes)).sort(byLine);
  for (const note of notes.slice(0, MAX_NOTES_PER_FILE)) report.notes.push(note);
  report.notesLeftOut += Math.max(0, notes.length - MAX_NOTES_PER_FILE);
  const failures = gather(shares.map((share) => share.failures)).sort(byLine);
  const keptFailures = failures.slice(0, MAX_FAILURES_PER_FILE);
  for (const failure of keptFailures) report.failures.push(failure);
  counts.failures += failures.length - keptFailures.length;
  keepShareErrors(gather(shares.map((share) => share.errors)), report.errors, counts);
  if (options.listCases) {
    // A failed case is listed when it is kept in full: those a share kept past the file's first are counted instead.
    const kept = new Set(keptFailures.map((failure) => failure.line));
    const cases = gather(shares.map((share) => share.cases)).sort(byLine);
    for (const listed of cases) if (listed.ok || kept.has(listed.line)) report.cases.push(listed);
  }
  if (counts.failures === 0 && counts.errors === 0) report.leftOut.delete(file);
}
