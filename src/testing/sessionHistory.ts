import { printable } from "../diagnostics/printable.js";
import { counted } from "../diagnostics/render.js";
import type { Decision } from "../runtime/decision.js";
import type { Engine, RevocationSummary, RevokeResult, SessionSummary } from "../runtime/engine.js";
import { sameSessionRead, type ComparedOperand, type Evidence, type Provenance, type SessionRead } from "../runtime/evidence.js";
import type { Explanation } from "../runtime/explain.js";
import { globMatch } from "../runtime/glob.js";
import type { ClauseTrace } from "../runtime/interpret.js";
import { MAX_PENDING_ASKS, UNDECLARED_LABEL_CHARS, UNDECLARED_TOOL_CHARS } from "../runtime/session.js";
import { parseTime } from "../runtime/schema.js";
import { isSessionId } from "./readRecording.js";
import { parseDuration } from "../syntax/literals.js";
import { sessionLabel, shownText } from "./shortRequest.js";

/**
 * What `policyc eval` shows of the history before the request it explains: each earlier line of
 * that request's session with what it changed in the session's state (labels added, a
 * revocation, an approval), and, for the session values the deciding clauses read, the lines
 * that explain them (`session.labels` is ["pii"]: pii from crm.lookup at line 1). Learnt from
 * `Engine.session` before and after each line, and from each line's decision, in the CLI's
 * replay: nothing is added to `Engine.decide`.
 */

/** One earlier line of the session, as `eval --json`'s `history` gives it. */
export interface HistoryEntry {
  /** The input line number (blank lines counted, as `head -n` counts). */
  readonly line: number;
  /** The line's `time` as written; null when it has none. */
  readonly time: string | null;
  /** The call's tool; null for a revocation line (and a line without one). */
  readonly tool: string | null;
  /** The replay's decision; null for an approval or revocation line. */
  readonly decision: Decision["decision"] | null;
  readonly rules: readonly string[];
  /** The labels `session.labels` holds after the line and did not before (taint of an allowed or approved call). */
  readonly labelsAdded: readonly string[];
  /** The revocation this line made (a rule's, or an operator's on a revocation line); absent when it made none. */
  readonly revoked?: { readonly by: "rules" | "operator"; readonly rules: readonly string[]; readonly reasons: readonly string[] };
  /** An approval or revocation line (`"event"`); absent for an attempt. */
  readonly event?: "approval" | "revocation";
  /** Whether the engine took the approval the line records (an approval line, or an ask line that says `"approved": true`). */
  readonly approved?: boolean;
  /** A revocation line: what `Engine.revoke` returned. */
  readonly outcome?: RevokeResult["outcome"];
  /** The first line of a new run of the session (the earlier state expired, or its revocation was forgotten); absent otherwise. */
  readonly startsRun?: true;
  /** A decision no rule made: its reason (the session expired, was revoked by an operator); a revocation line: its `reason`. */
  readonly reason?: string;
  /** The bounds of the session's state this line hit first (`Engine.session`'s fields it set; `asksNotKept` each time it grew); absent when none. */
  readonly limitsHit?: readonly LimitHit[];
}

/** What the engine could not keep of a session (SessionSummary's fields that say so). */
export type LimitHit = "labelsDropped" | "asksNotKept" | "windowOverflowed" | "undeclaredToolsUnnamed";

/** Each bound's words in the text history: what was not kept, and what fails closed for it. */
const LIMIT_WORDS: Readonly<Record<LimitHit, string>> = {
  labelsDropped: `a label found no room: the session keeps ${UNDECLARED_LABEL_CHARS.toLocaleString("en-US")} characters of labels, and its session.labels tests fail closed from here`,
  asksNotKept: `the ask was not kept: the session already has ${MAX_PENDING_ASKS} calls awaiting approval, and none past them can be approved`,
  windowOverflowed: "the session.count window overflowed (maxWindowEntries): counts reaching back past the attempts it let go fail closed",
  undeclaredToolsUnnamed: `the undeclared tool's name found no room: the session keeps ${UNDECLARED_TOOL_CHARS.toLocaleString("en-US")} characters of them, and counts of a pattern reaching back to this attempt fail closed`,
};
const ASKED_LABELS_DROPPED = `a label the ask carried found no room: the session keeps ${UNDECLARED_LABEL_CHARS.toLocaleString("en-US")} characters of labels, and once the call is approved its session.labels tests fail closed`;

/** What the timeline keeps of a line beyond its `HistoryEntry`, for provenance. */
interface Step {
  readonly entry: HistoryEntry;
  /** The line's time in milliseconds; NaN when it has none that reads as a date. */
  readonly at: number;
  /** Which run of the session the line belongs to: a session that expired and started again has a new one. */
  readonly run: number;
  /** A call that went ahead (allowed, or approved): what `session.called` and `session.tools` see. */
  readonly wentAhead: boolean;
  /** The first line of a new run: why the session started over, in words. */
  readonly startsOver: string | undefined;
  /** Whether the session's own labels first found no room here (else a `labelsDropped` hit is an ask's). */
  readonly ownLabelsDropped: boolean;
}

/**
 * Where a label `session.labels` gained came from: the line's `context.labels`, its tool's `returns`, or both; for an
 * approval line, `ask`: the line of the asked call whose `context.labels` held it (the engine keeps them until the approval).
 */
interface LabelSource {
  readonly step: Step;
  readonly inContext: boolean;
  readonly returned: boolean;
  readonly ask?: number;
}

/** An attempt answered `ask` in the current run, not yet approved: its tool, arguments (as JSON) and `context.labels`. */
interface PendingAsk {
  readonly line: number;
  readonly tool: string;
  readonly args: string | undefined;
  readonly labels: readonly unknown[];
}

/** The lines of the session the history shows at most (the latest), then how many were left out. */
export const SHOWN_HISTORY_LINES = 20;
/** The asks awaiting approval the timeline keeps (the engine keeps 256 calls, each asked any number of times). */
const PENDING_ASKS_KEPT = 1_024;
/** The labels or lines one provenance names at most. */
const SHOWN_SOURCES = 10;
/** `--json`: the history entries given at most (the latest), and the line numbers one provenance's `lines` gives (the first): a 200,000-line session is no 40 MB document. */
export const JSON_HISTORY_ENTRIES = 1_000;
export const JSON_PROVENANCE_LINES = 20;

/**
 * The earlier lines of one session, recorded as the replay goes (`step` around each line), and
 * the lines of other sessions counted. `session`: the session of the request explained.
 */
export class SessionTimeline {
  private readonly steps: Step[] = [];
  private otherLines = 0;
  /** Lines whose `session` is no id the engine takes (none, empty, too long, not a string): they belong to no session. */
  private sessionlessLines = 0;
  private run = 0;
  private firstSeen: string | null | undefined = undefined;
  /** Per label (and per tool allowed) in the current run: the step that first brought it. */
  private readonly labelFrom = new Map<string, LabelSource>();
  private readonly toolFrom = new Map<string, Step>();
  /** The asks of the current run not yet approved, oldest first: an approval adds the labels they carried. */
  private readonly pendingAsks: PendingAsk[] = [];
  /** The session after its latest line: its state as the request explained finds it (deciding that request changes the engine's). */
  private latest: SessionSummary | undefined;
  /** The session id tracked: the explained request's, when the engine takes it as one (else none is, and there is no history). */
  private readonly tracked: string | undefined;
  /** Why the request explained starts the session over (its decision saw none of the earlier lines' state); undefined when it does not. */
  private lastStartsOver: { readonly line: number; readonly words: string } | undefined;

  /** `returnsOf`: the labels a tool's declaration says it returns. */
  constructor(
    private readonly engine: Engine,
    private readonly session: unknown,
    private readonly returnsOf: (tool: string) => readonly string[],
  ) {
    // As `Engine.session` takes ids (it throws on others): the engine refuses any other, and keeps no session for it.
    this.tracked = isSessionId(session) ? session : undefined;
  }

  /**
   * Before line `line` (`request`) is replayed: returns what to call after it, with its decision
   * (none for an approval or revocation line), whether the engine took the approval it records,
   * and what `Engine.revoke` returned for a revocation line.
   */
  step(request: unknown, line: number): (decision: Decision | undefined, approved: boolean | undefined, revocation: RevokeResult | undefined) => void {
    const fields = (typeof request === "object" && request !== null ? request : {}) as Record<string, unknown>;
    if (this.tracked === undefined) return () => undefined;
    if (fields["session"] !== this.tracked) {
      if (isSessionId(fields["session"])) this.otherLines++;
      else this.sessionlessLines++;
      return () => undefined;
    }
    const session = this.tracked;
    return (decision, approved, revocation) => {
      // Only this session's lines change its state: its snapshot after the line before is its state before this one
      // (but for the clock, whose expiry shows as a new run below): one snapshot a line, none for other sessions' lines.
      let before = this.latest;
      const after = this.engine.session(session);
      const event = fields["event"] === "approval" || fields["event"] === "revocation" ? fields["event"] : undefined;
      const startsOver = this.startsOver(after, event === undefined);
      this.latest = after;
      if (startsOver !== null) {
        // A new run of the session (its first attempt, or the first after it expired or its revocation was forgotten): its state starts empty.
        before = undefined;
        this.run++;
        this.firstSeen = after!.firstSeen;
        this.labelFrom.clear();
        this.toolFrom.clear();
        this.pendingAsks.length = 0;
      }
      const reason = event === "revocation" ? (typeof fields["reason"] === "string" ? fields["reason"] : undefined) : decision !== undefined && decision.rules.length === 0 ? decision.reasons[0] : undefined;
      const entry: HistoryEntry = {
        line,
        time: typeof fields["time"] === "string" ? fields["time"] : null,
        tool: event !== "revocation" && typeof fields["tool"] === "string" ? fields["tool"] : null,
        decision: decision?.decision ?? null,
        rules: decision?.rules ?? [],
        labelsAdded: added(before, after),
        ...revokedBy(before, after, revocation),
        ...(event !== undefined ? { event } : {}),
        ...(approved !== undefined ? { approved } : {}),
        ...(revocation !== undefined ? { outcome: revocation.outcome } : {}),
        ...(startsOver !== null && startsOver !== undefined ? { startsRun: true as const } : {}),
        ...(reason !== undefined ? { reason } : {}),
        ...limitsHit(before, after),
      };
      const step: Step = {
        entry,
        // An approval dated at or before the ask it answers: the engine records the call at the ask's time (calledAt), never earlier.
        at: (approved === true ? this.engine.approvalRecordedAtAsk() : undefined) ?? parseTime(fields["time"]),
        run: this.run,
        wentAhead: entry.tool !== null && (decision?.decision === "allow" || approved === true),
        startsOver: startsOver ?? undefined,
        ownLabelsDropped: ownLabelsDroppedAt(before, after),
      };
      this.steps.push(step);
      const context = (fields["context"] as { labels?: unknown } | null | undefined)?.labels;
      const returns = entry.tool !== null ? this.returnsOf(entry.tool) : [];
      const asks = event === "approval" && approved === true ? this.takeAsks(entry.tool, fields["args"]) : [];
      for (const label of entry.labelsAdded) {
        const ask = asks.find((pending) => pending.labels.includes(label))?.line;
        this.labelFrom.set(label, { step, inContext: Array.isArray(context) && context.includes(label), returned: returns.includes(label), ...(ask !== undefined ? { ask } : {}) });
      }
      // (An ask line approved as it came released its labels itself. Past PENDING_ASKS_KEPT asks, a label they carried gets no line.)
      if (event === undefined && decision?.decision === "ask" && approved !== true && entry.tool !== null && this.pendingAsks.length < PENDING_ASKS_KEPT) this.pendingAsks.push({ line, tool: entry.tool, args: argsText(fields["args"]), labels: Array.isArray(context) ? context : [] });
      if (step.wentAhead && !this.toolFrom.has(entry.tool!)) this.toolFrom.set(entry.tool!, step);
    };
  }

  /**
   * The pending asks an approval of `tool` with `args` took (the engine releases their labels to the session then):
   * those of the same call. Arguments compared as written (the engine compares the declared ones): an ask of the same
   * call written otherwise is not found, and its labels get no line rather than a wrong one.
   */
  private takeAsks(tool: string | null, args: unknown): PendingAsk[] {
    const written = argsText(args);
    const taken = this.pendingAsks.filter((ask) => ask.tool === tool && written !== undefined && ask.args === written);
    for (const ask of taken) this.pendingAsks.splice(this.pendingAsks.indexOf(ask), 1);
    return taken;
  }

  /**
   * Whether snapshot `after` (of a line of the session, or of the request explained once
   * decided) begins a new run: null when not; undefined for its first run; else why the earlier
   * run's state is gone (docs/language.md section 8: a session's state expires, a revoked
   * session's record is forgotten).
   */
  private startsOver(after: SessionSummary | undefined, attempt: boolean): string | undefined | null {
    if (after === undefined || after.firstSeen === null) return null;
    if (this.firstSeen === undefined) return undefined;
    // The same run: the same start, and its attempts counted on from the line before (an attempt adds one, an approval
    // or revocation line none). A replay's new run can start at the very time the forgotten one did (its lines dated
    // alike, the clock moved on by another session's): firstSeen alone would not tell them apart.
    const previous = this.latest?.calls;
    if (after.firstSeen === this.firstSeen && previous !== null && previous !== undefined && after.calls === previous + (attempt ? 1 : 0)) return null;
    return this.latest?.revoked != null ? "the earlier revocation was forgotten" : "the earlier state expired";
  }

  /**
   * After the request explained (line `line`) is decided: whether it started the session over,
   * so that no line before it explains the state its rules saw (none is then named).
   */
  decided(line: number): void {
    if (this.tracked === undefined || this.steps.length === 0) return;
    const after = this.engine.session(this.tracked);
    // (Deciding the request explained was an attempt.)
    const startsOver = this.startsOver(after, true);
    if (startsOver === null) return;
    this.lastStartsOver = { line, words: startsOver ?? "the earlier lines left it no state" };
  }

  /** Whether the input had lines before the request explained (none when its session id is one the engine refuses). */
  get hasHistory(): boolean {
    return this.steps.length + this.otherLines + this.sessionlessLines > 0;
  }

  /** The session's earlier lines, for `--json`: the latest JSON_HISTORY_ENTRIES, and how many more there were. */
  json(): { history: HistoryEntry[]; historyOmitted?: number } {
    const shown = this.steps.slice(-JSON_HISTORY_ENTRIES).map((step) => step.entry);
    return { history: shown, ...(this.steps.length > shown.length ? { historyOmitted: this.steps.length - shown.length } : {}) };
  }

  /** The history in words, for people: the session's latest SHOWN_HISTORY_LINES lines, one each. */
  render(): string {
    const label = sessionLabel(this.session);
    const name = label.startsWith("(") ? label : `session ${label}`;
    const tallies = [...(this.otherLines > 0 ? [`${counted(this.otherLines, "line")} of other sessions`] : []), ...(this.sessionlessLines > 0 ? [`${counted(this.sessionlessLines, "line")} without a session`] : [])];
    const others = tallies.length === 0 ? "" : ` (and ${tallies.join(", ")})`;
    const restart = this.lastStartsOver === undefined ? [] : [`  session starts over at line ${this.lastStartsOver.line} (the request explained): ${this.lastStartsOver.words}`];
    if (this.steps.length === 0) return `history: no earlier line of ${printable(name)}${others}`;
    const shown = this.steps.slice(-SHOWN_HISTORY_LINES);
    const left = this.steps.length - shown.length;
    const lines = [`history of ${printable(name)}: ${counted(this.steps.length, "earlier line")}${left > 0 ? `, the last ${shown.length} shown` : ""}${others}`];
    if (left > 0) lines.push(`  … ${counted(left, "earlier line")} of the session not shown${hiddenLimits(this.steps.slice(0, left))}`);
    for (const step of shown) {
      if (step.startsOver !== undefined) lines.push(`  session starts over at line ${step.entry.line}: ${step.startsOver}`);
      lines.push(`  ${printable(stepText(step))}`);
    }
    return [...lines, ...restart].join("\n");
  }

  /**
   * `explanation` with the lines that explain the session values its deciding rules' clauses
   * read (`rules`: the decision's): on the operand that shows each value, or, when none does
   * (a bare `session.called(…)`), on the clause. `last`: the request explained.
   */
  withProvenance(explanation: Explanation, rules: readonly string[], last: unknown): Explanation {
    // A request that started the session over saw none of the earlier lines' state: they explain nothing of it.
    if (this.steps.length === 0 || this.lastStartsOver !== undefined) return explanation;
    const fields = (typeof last === "object" && last !== null ? last : {}) as Record<string, unknown>;
    const current = { tool: typeof fields["tool"] === "string" ? fields["tool"] : null, at: parseTime(fields["time"]) };
    const deciding = new Set(rules);
    const operand = (side: ComparedOperand): ComparedOperand => {
      const provenance = side.session === undefined ? undefined : this.provenanceOf(side.session, side.atLeast === true ? undefined : side.shown, current);
      return provenance === undefined ? side : { ...side, provenance };
    };
    const evidence = (piece: Evidence): Evidence => (piece.kind === "comparison" || piece.kind === "membership" || piece.kind === "text" ? { ...piece, left: operand(piece.left), right: operand(piece.right) } : piece);
    const clause = (trace: ClauseTrace): ClauseTrace => {
      const pieces = trace.evidence?.map(evidence);
      const shownByOperands = (pieces ?? []).flatMap((piece) => (piece.kind === "comparison" || piece.kind === "membership" || piece.kind === "text" ? [piece.left.session, piece.right.session] : [])).filter((read) => read !== undefined);
      // Only the values that need no number to check against (the operands' values check counts), as the IR says the clause reads them.
      const unshown = (trace.sessionReads ?? []).filter(({ read }) => FACTS_WITHOUT_NUMBER.has(read.kind) && !shownByOperands.some((shown) => sameSessionRead(shown, read)));
      // A clause that failed (no truth value) read nothing the engine can vouch for: no line is named for it.
      const failed = trace.error !== undefined || typeof trace.value !== "boolean";
      const provenance = failed ? [] : unshown.flatMap(({ read, text }) => {
        // A clause that is the call alone (or its negation) says what it returned: lines of calls are named only when it found some.
        if (read.kind === "called" && trace.calledAlone !== undefined && typeof trace.value === "boolean" && trace.value === trace.calledAlone.negated) return [];
        const found = this.provenanceOf(read, undefined, current);
        return found === undefined ? [] : [{ of: text ?? `session.${read.kind}(…)`, ...found }];
      });
      return { ...trace, ...(pieces !== undefined ? { evidence: pieces } : {}), ...(provenance.length > 0 ? { provenance } : {}) };
    };
    return { ...explanation, rules: explanation.rules.map((rule) => (deciding.has(rule.id) ? { ...rule, clauses: rule.clauses.map(clause) } : rule)) };
  }

  /**
   * The lines that explain session value `read` (what the IR says the clause reads), shown as
   * `shown` (undefined: not known as a number, so counts are not explained); undefined when none
   * do, or when what the timeline counts is not what the engine counted.
   */
  private provenanceOf(read: SessionRead, shown: string | undefined, current: { readonly tool: string | null; readonly at: number }): Provenance | undefined {
    const found = this.uncappedProvenanceOf(read, shown, current);
    if (found === undefined || found.lines.length <= JSON_PROVENANCE_LINES) return found;
    return { ...found, lines: found.lines.slice(0, JSON_PROVENANCE_LINES), linesOmitted: found.lines.length - JSON_PROVENANCE_LINES };
  }

  private uncappedProvenanceOf(read: SessionRead, shown: string | undefined, current: { readonly tool: string | null; readonly at: number }): Provenance | undefined {
    const steps = this.steps.filter((step) => step.run === this.run);
    const attempts = steps.filter((step) => step.entry.decision !== null);
    const summary = this.latest;
    const number = shown === undefined ? Number.NaN : Number(shown);
    switch (read.kind) {
      case "labels":
        // Only for the value the rule saw: a shown list that is not the one the timeline holds gets no lines.
        return agrees(shown, summary?.labelNames) ? sources(summary?.labelNames ?? [], this.labelFrom, labelSourceText) : undefined;
      case "tools":
        return agrees(shown, summary?.tools) ? sources(summary?.tools ?? [], new Map([...this.toolFrom].map(([tool, step]) => [tool, { step }])), (tool, { step }) => `${tool} at line ${step.entry.line}`) : undefined;
      case "last": {
        const previous = attempts[attempts.length - 1];
        if (previous === undefined || (shown !== undefined && shown !== JSON.stringify(previous.entry.tool))) return undefined;
        return { text: `the attempt at line ${previous.entry.line}`, lines: [previous.entry.line] };
      }
      case "denials": {
        const denied = attempts.filter((step) => step.entry.decision === "deny");
        if (denied.length === 0 || denied.length !== number) return undefined;
        return { text: `denied at ${lineList(denied)}`, lines: denied.map((step) => step.entry.line) };
      }
      case "repeats": {
        const repeated = number > 0 ? attempts.slice(-number) : [];
        if (repeated.length === 0 || repeated.length !== number || repeated.some((step) => step.entry.tool !== current.tool)) return undefined;
        return { text: `the same call at ${lineList(repeated)}`, lines: repeated.map((step) => step.entry.line) };
      }
      case "calls":
        // Its attempts so far, this one excluded (language.md 5.11).
        return attempts.length > 0 && attempts.length === number ? { text: attemptsText(attempts, false), lines: attempts.map((step) => step.entry.line) } : undefined;
      case "age":
        return this.ageProvenance(steps, shown, current);
      case "called":
      case "count":
        return this.callsProvenance(read, steps, attempts, number, current);
    }
  }

  /**
   * `session.age`: the run's first attempt, at whose date the session started (a replay's clock
   * reads each line's date), when the age shown is the time from it to the request explained.
   */
  private ageProvenance(steps: readonly Step[], shown: string | undefined, current: { readonly at: number }): Provenance | undefined {
    const start = this.firstSeen === undefined || this.firstSeen === null ? Number.NaN : Date.parse(this.firstSeen);
    const first = steps.find((step) => step.entry.decision !== null && step.at === start);
    const age = shown === undefined ? undefined : parseDuration(shown);
    if (first === undefined || Number.isNaN(current.at) || age === undefined || age !== Math.max(0, current.at - start)) return undefined;
    return { text: `first attempt at line ${first.entry.line}${first.entry.time !== null ? `, ${shownText(first.entry.time)}` : ""}`, lines: [first.entry.line] };
  }

  /**
   * `session.called(…)`: the calls of its tools that went ahead in its window; `session.count(…)`:
   * the attempts it counted (checked against `number`, the count shown), with this one.
   */
  private callsProvenance(read: SessionRead & { kind: "called" | "count" }, steps: readonly Step[], attempts: readonly Step[], number: number, current: { readonly tool: string | null; readonly at: number }): Provenance | undefined {
    const within = read.withinMs ?? undefined;
    // In the window: at most `within` before this attempt (after it too, for a count: the stricter reading).
    const inWindow = (step: Step): boolean => within === undefined || (current.at - step.at <= within && (read.kind === "count" || step.at <= current.at));
    if (within !== undefined && (Number.isNaN(current.at) || steps.some((step) => Number.isNaN(step.at)))) return undefined;
    if (read.kind === "called") {
      // The engine keeps the allowed calls of the pattern's declared tools (an undeclared tool is never allowed).
      const calls = steps.filter((step) => step.wentAhead && read.tools.includes(step.entry.tool!) && inWindow(step));
      const latest = calls[calls.length - 1];
      if (latest === undefined) return undefined;
      const how = latest.entry.decision === "allow" ? "allowed" : "approved";
      return { text: `${latest.entry.tool!} ${how} at line ${latest.entry.line}${calls.length > 1 ? ` (the latest of ${calls.length})` : ""}`, lines: calls.map((step) => step.entry.line) };
    }
    // As the engine counts: every tool, or the pattern's declared tools and the undeclared ones its pattern matches; this attempt among its declared tools.
    const counted = (tool: string | null): boolean => read.tools === null || (tool !== null && (read.tools.includes(tool) || (read.pattern !== null && globMatch(read.pattern, tool))));
    const inWindowAttempts = attempts.filter((step) => counted(step.entry.tool) && inWindow(step));
    const thisOne = current.tool !== null && (read.tools === null || read.tools.includes(current.tool));
    if (inWindowAttempts.length === 0 || inWindowAttempts.length + (thisOne ? 1 : 0) !== number) return undefined;
    return { text: attemptsText(inWindowAttempts, thisOne), lines: inWindowAttempts.map((step) => step.entry.line) };
  }
}

/** The session values whose lines a clause can be explained by without a number to check them against. */
const FACTS_WITHOUT_NUMBER: ReadonlySet<SessionRead["kind"]> = new Set(["labels", "tools", "last", "called"]);

/** Whether the list the explanation shows (`shown`, JSON; undefined: not shown) holds the names the timeline's snapshot does. */
function agrees(shown: string | undefined, names: readonly string[] | null | undefined): boolean {
  if (shown === undefined) return true;
  try {
    const list: unknown = JSON.parse(shown);
    const held = [...(names ?? [])].sort();
    return Array.isArray(list) && list.length === held.length && [...(list as unknown[])].map(String).sort().every((name, i) => name === held[i]);
  } catch {
    // Shown in short (a long list): not checked, so not explained.
    return false;
  }
}

/**
 * `pii returned by crm.lookup at line 1`, `pii in context.labels at line 1 (kb.search)`, or both; an approved ask's:
 * `pii in context.labels at line 1 (the ask of http.get, approved at line 2)`. Undefined when the line is an approval
 * and neither its ask nor its own context.labels is known to have held the label: no vaguer line is named.
 */
function labelSourceText(label: string, { step, inContext, returned, ask }: LabelSource): string | undefined {
  const tool = step.entry.tool === null ? "?" : shownText(step.entry.tool);
  const at = `at line ${step.entry.line}`;
  if (ask !== undefined) return `${label} in context.labels at line ${ask} (the ask of ${tool}, approved ${at}${inContext ? ", whose context.labels held it too" : ""}${returned ? `; ${tool} returns it too` : ""})`;
  if (step.entry.event === "approval" && !inContext && !returned) return undefined;
  if (returned && inContext) return `${label} returned by ${tool} and in context.labels ${at}`;
  if (returned) return `${label} returned by ${tool} ${at}`;
  if (inContext) return `${label} in context.labels ${at} (${tool})`;
  return `${label} from ${tool} ${at}`;
}

/** Each of `names` with the step that brought it (those with none left out), at most SHOWN_SOURCES, then a count. */
function sources<T extends { readonly step: Step; readonly ask?: number }>(names: readonly string[], from: ReadonlyMap<string, T>, say: (name: string, source: T) => string | undefined): Provenance | undefined {
  const found = names.flatMap((name) => {
    const source = from.get(name);
    const text = source === undefined ? undefined : say(shownText(name), source);
    return source === undefined || text === undefined ? [] : [{ name, step: source.step, source, text }];
  });
  if (found.length === 0) return undefined;
  // In the order the lines came (then by name): the session's story, read from the top.
  found.sort((a, b) => a.step.entry.line - b.step.entry.line || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const shown = found.slice(0, SHOWN_SOURCES).map(({ text }) => text);
  const more = found.length > SHOWN_SOURCES ? `, and ${found.length - SHOWN_SOURCES} more` : "";
  return { text: `${shown.join(", ")}${more}`, lines: [...new Set(found.flatMap(({ step, source }) => (source.ask !== undefined ? [source.ask, step.entry.line] : [step.entry.line])))].sort((a, b) => a - b) };
}

/** Attempts counted: `lines 2 and 5`, `30 attempts from line 1 to line 30`; `thisOne`: `, and this one` after them. */
function attemptsText(attempts: readonly Step[], thisOne: boolean): string {
  const first = attempts[0]!.entry.line;
  const last = attempts[attempts.length - 1]!.entry.line;
  const earlier = attempts.length >= 3 ? `${attempts.length} attempts from line ${first} to line ${last}` : lineList(attempts);
  return `${earlier}${thisOne ? `${attempts.length >= 2 ? "," : ""} and this one` : ""}`;
}

/** `line 3`, `lines 2 and 5`, `lines 1, 2 and 4`; past SHOWN_SOURCES, the first and the last with the count. */
function lineList(steps: readonly Step[]): string {
  const lines = steps.map((step) => step.entry.line);
  if (lines.length === 1) return `line ${lines[0]!}`;
  if (lines.length > SHOWN_SOURCES) return `${lines.length} lines from line ${lines[0]!} to line ${lines[lines.length - 1]!}`;
  return `lines ${lines.slice(0, -1).join(", ")} and ${lines[lines.length - 1]!}`;
}

/** The labels `after` holds that `before` did not, in the same run of the session. */
function added(before: SessionSummary | undefined, after: SessionSummary | undefined): string[] {
  const had = new Set(before !== undefined && before.firstSeen === after?.firstSeen ? (before.labelNames ?? []) : []);
  return (after?.labelNames ?? []).filter((label) => !had.has(label));
}

/** The bounds line's snapshot `after` shows hit that `before` (the line before's, none for a new run) did not. */
function limitsHit(before: SessionSummary | undefined, after: SessionSummary | undefined): { limitsHit?: LimitHit[] } {
  if (after === undefined) return {};
  const hit: LimitHit[] = [];
  // The session's own labels and an ask's apart: its own finding no room after an ask's had is news too.
  if (ownLabelsDroppedAt(before, after) || (after.labelsDropped === true && before?.labelsDropped !== true)) hit.push("labelsDropped");
  for (const flag of ["windowOverflowed", "undeclaredToolsUnnamed"] as const) if (after[flag] === true && before?.[flag] !== true) hit.push(flag);
  if ((after.asksNotKept ?? 0) > (before?.asksNotKept ?? 0)) hit.push("asksNotKept");
  return hit.length > 0 ? { limitsHit: hit } : {};
}

/**
 * The bounds the lines the text leaves out hit, for the row that counts them: ` (windowOverflowed
 * at line 201, asksNotKept at line 257 and 3 later lines)`, by the first line of each; empty when none.
 */
function hiddenLimits(steps: readonly Step[]): string {
  const first = new Map<LimitHit, { line: number; more: number }>();
  for (const step of steps) {
    for (const limit of step.entry.limitsHit ?? []) {
      const seen = first.get(limit);
      if (seen === undefined) first.set(limit, { line: step.entry.line, more: 0 });
      else seen.more++;
    }
  }
  if (first.size === 0) return "";
  return ` (${[...first].map(([limit, { line, more }]) => `${limit} at line ${line}${more > 0 ? ` and ${counted(more, "later line")}` : ""}`).join(", ")})`;
}

/** Whether the session's own labels (not an ask's awaiting approval) first found no room at the line `after` is the snapshot of. */
function ownLabelsDroppedAt(before: SessionSummary | undefined, after: SessionSummary | undefined): boolean {
  return after?.ownLabelsDropped === true && before?.ownLabelsDropped !== true;
}

/** The revocation a line made: a revocation line's that took, or the one a decision made. */
function revokedBy(before: SessionSummary | undefined, after: SessionSummary | undefined, revocation: RevokeResult | undefined): { revoked?: HistoryEntry["revoked"] } {
  const made: RevocationSummary | null | undefined = revocation !== undefined ? (revocation.outcome === "revoked" ? revocation.revocation : null) : before?.revoked == null ? after?.revoked : null;
  if (made === null || made === undefined) return {};
  return { revoked: { by: made.by, rules: made.rules, reasons: made.reasons } };
}

/** One step in words: `line 1, 2026-11-29T10:00:00Z: allow crm.lookup by lookup-for-tickets; adds label pii`. */
function stepText(step: Step): string {
  const { entry } = step;
  const tool = entry.tool === null ? "(no tool)" : shownText(entry.tool);
  const parts: string[] = [];
  const reason = entry.reason;
  if (entry.event === "approval") parts.push(`approval of ${tool}: ${entry.approved === true ? "taken" : "refused by the engine"}`);
  else if (entry.event === "revocation") parts.push(`revocation by an operator${reason !== undefined ? ` (${JSON.stringify(shownText(reason))})` : ""}: ${entry.outcome ?? "not made"}`);
  else parts.push(`${entry.decision ?? "?"} ${tool}${entry.rules.length > 0 ? ` by ${entry.rules.join(", ")}` : reason !== undefined ? `: ${shownText(reason)}` : ""}${entry.approved === undefined ? "" : entry.approved ? ", approved" : ", approval refused by the engine"}`);
  if (entry.labelsAdded.length > 0) parts.push(`adds ${entry.labelsAdded.length === 1 ? "label" : "labels"} ${entry.labelsAdded.slice(0, SHOWN_SOURCES).map((label) => shownText(label)).join(", ")}${entry.labelsAdded.length > SHOWN_SOURCES ? ` and ${entry.labelsAdded.length - SHOWN_SOURCES} more` : ""}`);
  // (A revocation line's outcome says whether it revoked the session.)
  if (entry.revoked !== undefined && entry.event === undefined) {
    const why = entry.revoked.reasons[0];
    parts.push(`revokes the session${entry.revoked.by === "rules" ? ` (${entry.revoked.rules.join(", ")})` : ""}${why !== undefined ? `: ${shownText(why)}` : ""}`);
  }
  // An ask not approved yet keeps its labels apart: only its approval would mark the session's own.
  for (const limit of entry.limitsHit ?? []) parts.push(`${limit === "labelsDropped" && !step.ownLabelsDropped ? ASKED_LABELS_DROPPED : LIMIT_WORDS[limit]} (${limit})`);
  return `line ${entry.line}${entry.time !== null ? `, ${shownText(entry.time)}` : ""}: ${parts.join("; ")}`;
}

/** A call's `args` as JSON, to tell an approval's call from other asks of its tool; undefined when it cannot be written. */
function argsText(args: unknown): string | undefined {
  try {
    return JSON.stringify(args);
  } catch {
    return undefined;
  }
}
