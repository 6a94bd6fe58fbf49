import { readLimited } from "../source/readLimited.js";
import { MAX_REQUEST_BYTES } from "./inputLimits.js";
import { parseReplayFlags, withEngineFlags, type ReplayFlags } from "./replayOptions.js";
import { resolve } from "node:path";
import type { Command } from "commander";
import { explain, type Explanation } from "../runtime/explain.js";
import type { ComparedOperand, Evidence } from "../runtime/evidence.js";
import type { Decision } from "../runtime/decision.js";
import { recordedDecisionOf, recordedDifference } from "../testing/recordedDecisions.js";
import { ENGINE_OPTIONS_HINT, SESSION_STATE_REFUSAL } from "../testing/replay.js";
import { describeFsError } from "../source/loadSources.js";
import { replayEngine, replayRecorded } from "../testing/decideRecorded.js";
import { parseRequestBytes } from "../testing/parseRequests.js";
import { renderExplanation } from "../testing/explanationText.js";
import { sessionLabel, shownText } from "../testing/shortRequest.js";
import { EXIT, type ExitCode } from "./exitCodes.js";
import type { Io } from "./io.js";
import { loadPolicy } from "./loadEngine.js";
import { loadWarningPrinter, notLoadedJson, reportLoadNote, reportNotLoaded } from "./report.js";
import { addExclude, addMaxErrors, excludedJson, parseMaxErrors, type ExcludeOption } from "./options.js";
import { printable } from "../diagnostics/printable.js";
import { wrongSlotOfText } from "./wrongSlot.js";
import { renderInputError } from "../diagnostics/render.js";
import { INPUT_CODES, type InputCode } from "../testing/inputCodes.js";
import { SessionTimeline } from "../testing/sessionHistory.js";
import type { RevokeResult } from "../runtime/engine.js";

/** `eval` replays a JSON Lines history on one engine: the engine options of `test`, no `--jobs`. */
export interface EvalOptions extends Omit<ReplayFlags, "jobs">, ExcludeOption {
  bundle?: string;
  request?: string;
  publicKey?: string;
  json?: boolean;
  maxErrors?: string;
}

/**
 * `policyc eval`: one decision, explained. With several requests (JSON Lines), the earlier ones
 * are decided first in order, so session rules see the history; the last one is explained.
 */
export function evalVerb(io: Io, paths: string[], options: EvalOptions): ExitCode {
  if (!options.request) {
    io.err("policyc eval: give the request with --request FILE (or --request - for standard input)\n");
    return EXIT.usage;
  }
  if (paths.length === 0 && !options.bundle) {
    io.err("policyc eval: give policy paths or --bundle FILE\n");
    return EXIT.usage;
  }
  const replay = parseReplayFlags("eval", options, io);
  if (replay === undefined) return EXIT.usage;
  // A request that cannot be read or is not valid is input, not usage: with --json, standard
  // output still holds the one document it promises (as for policies that do not load).
  // Said as check says a diagnostic: the request file (or standard input), then the code.
  const requestPlace = options.request === "-" ? "standard input" : options.request;
  // `--json`'s `reason` is one line that names its place itself (`file`: … or FILE:LINE: …), for
  // a reader of the JSON alone; `code`, `file` and `line` give the same apart.
  // A line at fault is said as FILE:LINE, as test says a recording's (and --json gives both).
  const unreadable = (code: InputCode, message: string, reason = message, line?: number): ExitCode => {
    io.err(`${renderInputError(line === undefined ? requestPlace : `${requestPlace}:${line}`, code, message, io.errPalette)}\n`);
    if (options.json) io.out(JSON.stringify({ ok: false, reason, code, ...(line === undefined ? {} : { file: requestPlace, line }) }, null, 2) + "\n");
    return EXIT.usage;
  };
  // Read before the request is: a working folder that was removed is said as every verb says it,
  // not as a reason the request cannot be read.
  const cwd = io.cwd;
  let bytes: Buffer;
  try {
    // Relative to the verb's working folder (like the policy paths), not the process's.
    bytes = options.request === "-" ? io.readStdin() : readLimited(resolve(cwd, options.request), MAX_REQUEST_BYTES);
  } catch (error) {
    return unreadable(INPUT_CODES.unreadableFile, `cannot read ${options.request === "-" ? "the request on standard input" : `request \`${options.request}\``}: ${describeFsError(error)}`);
  }
  // A bundle is one JSON object, and would be decided on as a request; a policy file is not JSON.
  const misplaced = wrongSlotOfText(options.request === "-" ? "standard input" : options.request, bytes.subarray(0, 1024).toString("utf8"), "request", "--request");
  if (misplaced !== undefined) return unreadable(INPUT_CODES.notARequest, misplaced);
  const { requests, lines, error, code, line } = parseRequestBytes(bytes, options.request === "-" ? undefined : options.request);
  if (error !== undefined) return unreadable(code, error, line === undefined ? `${options.request === "-" ? "standard input" : `\`${options.request}\``}: ${error}` : `${requestPlace}:${line}: ${error}`, line);
  // Given means given: an empty --public-key is refused by loadPolicy, never taken for "no key".
  const loaded = loadPolicy(paths, cwd, { verb: "eval", warn: loadWarningPrinter(io), recordings: "--request", exclude: options.exclude, ...(options.bundle !== undefined ? { bundle: options.bundle } : {}), ...(options.publicKey !== undefined ? { publicKey: options.publicKey } : {}) });
  if (!loaded.ok) {
    reportNotLoaded("eval", loaded, io, parseMaxErrors(options.maxErrors));
    if (options.json) io.out(JSON.stringify(notLoadedJson(loaded), null, 2) + "\n");
    return loaded.code;
  }
  reportLoadNote("eval", loaded, io);
  const engine = replayEngine(loaded.policy, replay);
  const note = (text: string): void => io.err(`policyc eval: note: ${printable(text)}\n`);
  // The sessions the history names, and those the replay revoked: what the notes on the last request need.
  const sessionsGiven = new Set<unknown>();
  const revokedInReplay = new Set<unknown>();
  // Earlier lines set up the session as they went in production (approvals and operators'
  // revocations included). An approval the engine does not take as the history says is noted,
  // as is a revocation whose outcome differs from the one recorded, and so is a decision other
  // than the one a log line recorded: the explanation below depends on them (a call denied
  // although a person approved the one before, a history that diverged from production).
  // At most MAX_HISTORY_NOTES of them, then a count: a big log against an edited policy differs on every line.
  // Each request by where it is: FILE:LINE (blank lines counted, as `head -n` counts), or, alone, "the request".
  const placeOf = (index: number): string => (requests.length === 1 ? "the request" : `${requestPlace}:${lines[index]}`);
  let historyNotes = 0;
  const historyNote = (text: string): void => {
    if (historyNotes++ < MAX_HISTORY_NOTES) note(text);
  };
  const last = requests[requests.length - 1];
  // What each earlier line of the explained request's session changed, shown before its decision.
  const tools = loaded.policy.schema.tools;
  const timeline = new SessionTimeline(engine, (last as { session?: unknown } | null)?.session, (tool) => (Object.hasOwn(tools, tool) ? tools[tool]!.returns : []));
  requests.slice(0, -1).forEach((request, index) => {
    const session = (request as { session?: unknown } | null)?.session;
    const stepped = timeline.step(request, lines[index]!);
    let approved: boolean | undefined;
    let revocation: RevokeResult | undefined;
    const decision = replayRecorded(
      engine,
      request,
      (approval) => {
        approved = approval.accepted;
        if (approval.accepted === approval.recorded) return;
        const said = approval.recorded ? `the history says it went ahead ("approved": true), but the engine refused it: ${approval.refusal ?? "no reason given"}` : `the history says it was refused ("approved": false), but the engine accepted it`;
        historyNote(`${placeOf(index)}, an approval: ${said}`);
      },
      (result) => {
        revocation = result;
        if (result.revoked) revokedInReplay.add(session);
        const recorded = (request as { outcome?: unknown }).outcome;
        if (recorded === undefined || recorded === result.outcome) return;
        historyNote(`${placeOf(index)}, a revocation: the history says engine.revoke returned "${recorded as string}", the engine returned "${result.outcome}"${result.refusal !== null ? `: ${result.refusal}` : ""}`);
      },
    );
    stepped(decision, approved, revocation);
    sessionsGiven.add(session);
    if (decision === undefined) return;
    if (decision.revoked) revokedInReplay.add(session);
    const recorded = recordedDecisionOf(request);
    const differs = recorded === undefined ? undefined : recordedDifference(recorded, decision);
    if (differs !== undefined) historyNote(`${placeOf(index)}: ${differs}`);
  });
  if (historyNotes > MAX_HISTORY_NOTES) note(`and ${(historyNotes - MAX_HISTORY_NOTES).toLocaleString("en-US")} more history lines differ from the log or the engine took their approval or revocation otherwise (the first ${MAX_HISTORY_NOTES} are noted)`);
  const explained = explain(engine, last);
  const decision = engine.decide(last);
  timeline.decided(lines[lines.length - 1]!);
  // The lines that explain the session values the deciding clauses read (the timeline keeps the state before `last`).
  const explanation = timeline.withProvenance(explained, decision.rules, last);
  notesOnLast(last, decision, { place: placeOf(requests.length - 1), earlier: requests.length - 1, line: lines[lines.length - 1]! }, { sessionsGiven, revokedInReplay }, note);
  // Names only (values may be secret): what no rule saw, which may be why the decision surprises.
  const undeclared = engine.undeclaredFields(last);
  // `policy`: the policy set that decided, for a decision kept as evidence; `excluded`: what --exclude left out of it.
  // `history`: the session's earlier lines, only when the input had earlier lines (a single request's document is as it was).
  const history = timeline.hasHistory ? timeline.json() : {};
  if (options.json) io.out(JSON.stringify({ ...decision, explanation: explanationForPeople(explanation), undeclaredFields: undeclared, policy: loaded.identity(), excluded: excludedJson(loaded.excluded), ...history }, null, 2) + "\n");
  else {
    if (timeline.hasHistory) io.out(timeline.render() + "\n");
    // The request's own tool and session, shown as reports show them: a long one in short (a 20 KB id is no header).
    const label = typeof (last as { session?: unknown })?.session === "string" ? sessionLabel((last as { session: string }).session) : undefined;
    const session = label === undefined ? "" : label.startsWith("(") ? ` ${printable(label)}` : ` (session ${printable(label)})`;
    io.out(renderExplanation(decision, explanation, io.palette, explanation.tool ? `${printable(shownText(explanation.tool))}${session}` : undefined, undeclared) + "\n");
  }
  return EXIT.ok;
}

/** Notes on the history's lines (before the request explained) printed before the rest are counted. */
const MAX_HISTORY_NOTES = 20;

/**
 * The notes on the request explained, when it is a log line: a decision other than the one it
 * records, with what may explain it (the engine options, a session whose history was not given).
 */
function notesOnLast(last: unknown, decision: Decision, at: { readonly place: string; readonly earlier: number; readonly line: number }, history: { readonly sessionsGiven: ReadonlySet<unknown>; readonly revokedInReplay: ReadonlySet<unknown> }, note: (text: string) => void): void {
  const recorded = recordedDecisionOf(last);
  const differs = recorded === undefined ? undefined : recordedDifference(recorded, decision);
  if (differs !== undefined) note(`${at.place}${at.earlier > 0 ? " (the last)" : ""}: ${differs}`);
  const session = (last as { session?: unknown } | null)?.session;
  // A revocation this replay remembers and production had forgotten (revokedSessionMs), or a session expired or full here.
  const carried = decision.revoked && history.revokedInReplay.has(session) && recorded?.revoked !== true;
  if (differs !== undefined && (carried || (decision.rules.length === 0 && SESSION_STATE_REFUSAL.test(decision.reasons[0] ?? "")))) note(ENGINE_OPTIONS_HINT);
  // A log line explained as its session's first call: said when that may be why it differs (a
  // line that agrees with the log may well be its session's first: no false alarm on `head -n N`).
  if (differs !== undefined && typeof session === "string" && !history.sessionsGiven.has(session)) {
    // With a history given, "no history" would be wrong, and so would the advice to give one:
    // the lines given hold none of the session's (the log may, before them, or not at all).
    if (at.earlier === 0) note(`no history for session ${shownText(session)}: its state starts empty here (no earlier calls, labels or revocation); to explain it as line N of a log FILE, give FILE up to that line: head -n N FILE | policyc eval … -r -`);
    else note(`the ${at.earlier === 1 ? "line before it holds" : `${at.earlier.toLocaleString("en-US")} lines before it hold`} no line of session ${shownText(session)}: its state starts empty here (no earlier calls, labels or revocation); if it is line N of a log FILE that holds earlier lines of the session, give FILE up to that line: head -n N FILE | policyc eval … -r -`);
  }
}

/**
 * The explanation as `--json` writes it: its text for people (a note, a clause's error, each
 * `shown` value) as the text explanation shows it, a hidden or bidirectional character as an
 * escape; its values (rule ids, reasons, `whole`, `witness`) exact, and the clauses' `text`
 * already spelled as the policy writes strings.
 */
function explanationForPeople(explanation: Explanation): Explanation {
  // (What the IR says a value reads of the session, `session` and `sessionReads`, served the provenance: it stays out of the document.)
  const operand = ({ session: _session, ...side }: ComparedOperand): ComparedOperand => ({ ...side, shown: printable(side.shown), ...(side.provenance !== undefined ? { provenance: { ...side.provenance, text: printable(side.provenance.text) } } : {}) });
  const evidence = (piece: Evidence): Evidence => {
    if (piece.kind === "element") return { ...piece, shown: printable(piece.shown) };
    if (piece.kind === "term") return piece;
    if (piece.kind === "membership") return { ...piece, left: operand(piece.left), right: operand(piece.right), ...(piece.member ? { member: { ...piece.member, shown: printable(piece.member.shown) } } : {}) };
    return { ...piece, left: operand(piece.left), right: operand(piece.right) };
  };
  return {
    ...explanation,
    note: explanation.note === null ? null : printable(explanation.note),
    rules: explanation.rules.map((rule) => ({
      ...rule,
      clauses: rule.clauses.map(({ sessionReads: _reads, calledAlone: _alone, ...clause }) => ({
        ...clause,
        ...(clause.error !== undefined ? { error: printable(clause.error) } : {}),
        ...(clause.evidence ? { evidence: clause.evidence.map(evidence) } : {}),
        ...(clause.provenance ? { provenance: clause.provenance.map((found) => ({ ...found, text: printable(found.text) })) } : {}),
      })),
    })),
  };
}

/**
 * What a request looks like, for `eval --help` (audit s20 a1 L6): a first-week user pieced it
 * together from validation errors. docs/cli.md shows the same example.
 */
const REQUEST_EXAMPLE_HELP = `
A request is one JSON object, as the enforcement point sends it (language.md section 7);
\`agent\`, \`user\` and \`context\` as the policies declare them, \`args\` as the tool does,
\`time\` (RFC 3339) the engine's clock when absent:
  {"session": "s1", "time": "2026-12-01T10:00:00Z", "tool": "kb.search", "intent": "support.reply",
   "agent": {"id": "bot", "team": "support", "attested": true}, "user": {"id": "u1"},
   "context": {"labels": []}, "args": {"query": "refunds"}}
  echo '{"session": "s1", "tool": "kb.search", …}' | policyc eval policies/ -r -
With JSON Lines, the decision is preceded by the history of the last request's session (its
last 20 earlier lines, with the labels each added and any revocation or approval), and the
session values the deciding clauses read name the lines behind them; --json adds \`history\`
(the last 1,000 lines) and \`provenance\` next to those values (docs/cli.md).`;

export function registerEval(program: Command, io: Io, finish: (code: ExitCode) => void): void {
  const command = program
    .command("eval")
    .description("decide one request against policies or a bundle, and explain the decision")
    .argument("[paths...]", "policy files or folders (or give --bundle)")
    .option("--bundle <file>", "decide with a built bundle instead of sources")
    .option("--public-key <file>", "require the bundle to be signed by this Ed25519 public key (PEM, DER or JSON Web Key)")
    .option("-r, --request <file>", "the request as JSON (or JSON Lines: earlier lines set up the session); - reads standard input")
    .option("--json", "print the decision object with its explanation as JSON")
    .addHelpText("after", REQUEST_EXAMPLE_HELP);
  withEngineFlags(addMaxErrors(addExclude(command))).action((paths: string[], options: EvalOptions) => finish(evalVerb(io, paths, options)));
}
