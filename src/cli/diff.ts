import type { Command } from "commander";
import { ExcludeGlobs } from "../source/exclude.js";
import { EXIT, type ExitCode } from "./exitCodes.js";
import type { Io } from "./io.js";
import { bundlePathOf, loadPolicy } from "./loadEngine.js";
import { loadWarningPrinter, reportLoadNote, reportSidesNotLoaded, sidesNotLoadedJson, type SideNotLoaded } from "./report.js";
import { addExclude, addMaxErrors, excludedJson, parseMaxErrors, type ExcludeOption } from "./options.js";
import { expandRecordings } from "../testing/expandRecordings.js";
import { DEFAULT_EXAMPLES_PER_CAUSE, diffRecordings, type DecisionChange } from "../testing/diff.js";
import type { Decision } from "../runtime/decision.js";
import { grantsOf, grantsText } from "../testing/grants.js";
import { printable } from "../diagnostics/printable.js";
import { counted } from "../diagnostics/render.js";
import { isSessionPlaceholder } from "../testing/shortRequest.js";
import { shownErrors } from "../testing/reporters/shared.js";
import { shownText } from "../testing/shortRequest.js";
import { jobsHelp, parseReplayFlags, recordingsOf, REPLAY_HELP, reportMissingRecordings, withEngineFlags, type ReplayFlags } from "./replayOptions.js";
import { INPUT_CODES } from "../testing/inputCodes.js";
import { recordingName } from "../testing/recordingSource.js";

/** Changes listed per cause in the text report (all are counted). */
const LISTED_PER_CAUSE = 20;

export interface DiffOptions extends ReplayFlags, ExcludeOption {
  replay?: string[];
  json?: boolean;
  exitCode?: boolean;
  publicKey?: string;
  ruleChanges?: boolean;
  allowEmpty?: boolean;
  maxErrors?: string;
}

/**
 * `policyc diff OLD NEW --replay FILE…`: every decision the change flips or whose grants or
 * session revocation it changes (with --rule-changes, whose rules or reasons), grouped by the
 * rule that caused it.
 */
export async function diffVerb(io: Io, oldPath: string, newPath: string, options: DiffOptions): Promise<ExitCode> {
  const recordings = recordingsOf("diff", options.replay, io);
  if (recordings === undefined) return EXIT.usage;
  const replay = parseReplayFlags("diff", options, io);
  if (replay === undefined) return EXIT.usage;
  // The key checks whichever sides are bundles (sources have no signature); when neither is,
  // it would check nothing, and a check that silently does nothing is refused.
  const isBundle = [oldPath, newPath].map((path) => bundlePathOf([path]) !== undefined);
  if (options.publicKey !== undefined && !isBundle.includes(true)) {
    io.err("policyc diff: --public-key checks a bundle's signature, and neither side is a bundle: give OLD or NEW as a built bundle (.json)\n");
    return EXIT.usage;
  }
  // --exclude leaves out files of the sides given as sources (a bundle's were chosen when it was
  // built); compiled once for both, and a glob is used when it leaves out something on either.
  const exclude = options.exclude === undefined || options.exclude.length === 0 ? undefined : new ExcludeGlobs(options.exclude, io.cwd);
  if (exclude !== undefined && !isBundle.includes(false)) {
    io.err("policyc diff: --exclude leaves out policy files, and neither side is sources: give OLD or NEW as policy paths, or rebuild the bundles with --exclude\n");
    return EXIT.usage;
  }
  const sides = [oldPath, newPath].map((path, side) => loadPolicy([path], io.cwd, { verb: "diff", warn: loadWarningPrinter(io), exclude: isBundle[side] ? undefined : exclude, ...(isBundle[side] && options.publicKey !== undefined ? { publicKey: options.publicKey } : {}) }));
  // Both sides are loaded and every one that fails is reported: in CI, OLD is the main branch,
  // and stopping at it would hide a broken NEW (the pull request's own errors) behind it.
  const notLoaded: SideNotLoaded[] = sides.flatMap((side, index) => (side.ok ? [] : [{ side: index === 0 ? "old" : "new", path: index === 0 ? oldPath : newPath, failed: side }] as const));
  if (notLoaded.length > 0) {
    reportSidesNotLoaded("diff", notLoaded, io, parseMaxErrors(options.maxErrors));
    if (options.json) io.out(JSON.stringify(sidesNotLoadedJson(notLoaded), null, 2) + "\n");
    // Bad usage (a path that is no policy) before policy errors, as one side alone would say.
    return Math.max(...notLoaded.map((side) => side.failed.code)) as ExitCode;
  }
  const unmatched = exclude?.unmatched();
  if (unmatched !== undefined) {
    io.err(`policyc diff: ${unmatched}\n`);
    return EXIT.usage;
  }
  const [before, after] = sides as [Extract<(typeof sides)[0], { ok: true }>, Extract<(typeof sides)[0], { ok: true }>];
  for (const side of [before, after]) reportLoadNote("diff", side, io);
  // The two policy sets compared, for a report kept as evidence of what changed between which.
  // Only --json names them, and computing them costs a bundle's worth of work a side given as sources.
  const policies = options.json ? { old: before.identity(), new: after.identity() } : {};
  // What --exclude left out of either side given as sources, each entry with its side (as a diagnostic of a side that did not load has).
  const excluded = [...excludedJson(before.excluded).map((entry) => ({ side: "old", ...entry })), ...excludedJson(after.excluded).map((entry) => ({ side: "new", ...entry }))];
  const { files, missing } = expandRecordings(recordings, io.cwd);
  if (missing.length > 0) {
    const message = reportMissingRecordings(missing, io);
    // As for a side that did not load: a reader of --json still gets a document.
    if (options.json) io.out(JSON.stringify({ ok: false, reason: message, code: INPUT_CODES.unreadableFile, policies, excluded }, null, 2) + "\n");
    return EXIT.usage;
  }
  const report = await diffRecordings(before.policy, after.policy, files, { cwd: io.cwd, maxExamplesPerCause: options.json ? DEFAULT_EXAMPLES_PER_CAUSE : LISTED_PER_CAUSE, ruleChanges: options.ruleChanges ?? false, ...replay });
  const changed = [...report.directions.values()].reduce((sum, n) => sum + n, 0);
  const causes = [...report.byCause].sort((a, b) => b[1].count - a[1].count || (a[0] < b[0] ? -1 : 1));
  // As `test` fails for want of cases: a gate that compared no decision has not passed.
  const inputErrors = report.errorsLeftOut.inputErrors > 0 || report.errors.some((e) => e.kind === "input");
  const empty = report.lines === 0 && !inputErrors && !(options.allowEmpty ?? false) ? "no decisions to compare: no recording has a request line (use --allow-empty to accept)" : undefined;
  if (options.json) {
    io.out(
      JSON.stringify(
        {
          // `ok` as the exit code has it, so `jq -e .ok` gates as the exit code does.
          ok: !inputErrors && empty === undefined && !(options.exitCode && changed > 0),
          ...(empty !== undefined ? { reason: empty } : {}),
          policies,
          excluded,
          lines: report.lines,
          changed,
          directions: Object.fromEntries(report.directions),
          byCause: Object.fromEntries(
            causes.map(([cause, group]) => [
              cause,
              {
                count: group.count,
                directions: Object.fromEntries(group.directions),
                // Of them, the changes an unchanged rule made because an earlier change of the session changed its state.
                carried: group.carried,
                changes: group.changes.map((c) => ({ file: recordingName(c.file), line: c.line, session: c.session, tool: c.tool, direction: c.direction, ...(c.via !== undefined ? { via: { rule: c.via.rule, ...(c.via.line !== undefined ? { file: recordingName(c.file), line: c.via.line } : {}) } } : {}), before: c.before, after: c.after })),
                // Only the first changes are listed; `count` has them all.
                truncated: group.count > group.changes.length,
              },
            ]),
          ),
          errors: report.errors.map((e) => ({ ...e, file: recordingName(e.file) })),
          // Past the first 100 of a recording, errors are counted only (as `test --reporter json` has it).
          errorsLeftOut: report.errorsLeftOut.errors,
          notes: report.notes.map((n) => ({ ...n, file: recordingName(n.file) })),
        },
        null,
        2,
      ) + "\n",
    );
  } else {
    for (const line of shownErrors(report.errors, report.errorsLeftOut.errors, parseMaxErrors(options.maxErrors), io.palette).lines) io.out(`${line}\n`);
    for (const n of report.notes) io.out(`${io.palette.warning("note")}: ${printable(recordingName(n.file))}${n.line !== null ? `:${n.line}` : ""}: ${printable(n.message)}\n`);
    for (const [cause, group] of causes) {
      const carried = group.carried > 0 ? ` (${group.carried.toLocaleString("en-US")} via session state)` : "";
      io.out(`${io.palette.bold(printable(cause))}  ${counted(group.count, "change")}: ${[...group.directions].map(([d, n]) => `${d} ${n.toLocaleString("en-US")}`).join(", ")}${carried}\n`);
      for (const c of group.changes) io.out(`  ${printable(recordingName(c.file))}:${c.line}  ${c.direction}  ${printable(shownText(c.tool))} ${printable(whereFrom(c))}  ${printable(whatChanged(c))}\n`);
      if (group.count > group.changes.length) io.out(`  … and ${(group.count - group.changes.length).toLocaleString("en-US")} more (not listed)\n`);
    }
    const directions = [...report.directions].map(([d, n]) => `${d} ${n.toLocaleString("en-US")}`).join(", ");
    io.out(`${changed.toLocaleString("en-US")} of ${report.lines.toLocaleString("en-US")} decisions change${directions ? `: ${directions}` : ""}\n`);
  }
  if (inputErrors) return EXIT.usage;
  if (empty !== undefined) {
    io.err(`policyc diff: ${empty}\n`);
    return EXIT.failure;
  }
  return options.exitCode && changed > 0 ? EXIT.failure : EXIT.ok;
}

/**
 * `(session s1)`; for a change an unchanged rule makes, what it follows from:
 * `(via session s1, from calls.jsonl:1; no-pii-out is unchanged)`.
 */
function whereFrom(change: DecisionChange): string {
  const session = isSessionPlaceholder(change.session) ? change.session.slice(1, -1) : `session ${change.session}`;
  if (change.via === undefined) return `(${session})`;
  const unchanged = `${change.via.rule.slice(1)} is unchanged`;
  return change.via.line === undefined ? `(${session}; ${unchanged})` : `(via ${session}, from ${recordingName(change.file)}:${change.via.line}; ${unchanged})`;
}

/** The text after a listed change: the new reason, or for a change of the same effect what changed. */
function whatChanged(change: DecisionChange): string {
  const { before, after } = change;
  // An engine's refusal: its detail, which the author needs (the agent is told the short reason).
  const reason = change.refusal ?? after.reasons[0] ?? "";
  switch (change.changed) {
    case "effect":
      // A change of effect that also revokes (or no longer revokes) changes every later attempt of the session too.
      return `${reason}${change.revokes === "new" ? "; revokes the session" : change.revokes === "old" ? "; no longer revokes the session" : ""}`;
    case "grants": {
      return `grants${after.decision === "ask" ? " on approval" : ""} ${grantsText(grantsOf(before))} → ${grantsText(grantsOf(after))}`;
    }
    case "revoke": {
      // The reason of the rule that revokes (in the version that revokes), not of another rule that denies too.
      const revoking = after.revoked ? after : before;
      const index = change.revokingRule === undefined ? -1 : revoking.rules.indexOf(change.revokingRule);
      return `the session is ${after.revoked ? "now" : "no longer"} revoked: ${index >= 0 ? revoking.reasons[index] : reason}`;
    }
    case "rules": {
      const rules = (d: Decision): string => d.rules.join(", ") || "no rule";
      return `decided by ${rules(before)} → ${rules(after)}: ${reason}`;
    }
    case "reason":
    case "reason order":
      return `reason ${JSON.stringify(before.reasons.join("; "))} → ${JSON.stringify(after.reasons.join("; "))}`;
  }
}

// Rotated daily, a week of logs splits every session that spans midnight: replayed file by
// file, its later lines would start from nothing, and a threshold change would go unseen.
const ROTATED_LOGS_HELP = `
Each recording starts from fresh engines: sessions are not carried from one
file to the next. Join a log rotated over several files first, so that the
sessions that span them replay whole:
  cat last-week/*.jsonl | policyc diff OLD NEW --replay -`;

export function registerDiff(program: Command, io: Io, finish: (code: Promise<ExitCode>) => void): void {
  const command = program
    .command("diff")
    .description("replay recordings through two policy versions and report every decision that changes: its effect, grants or session revocation")
    .argument("<old>", "the current policy (a path or a bundle .json)")
    .argument("<new>", "the changed policy (a path or a bundle .json)")
    .option("--replay <files...>", REPLAY_HELP)
    .option("--json", "print a JSON document instead")
    .option("--exit-code", "exit 1 when any change is reported")
    .option("--allow-empty", "pass when the recordings hold no request line (nothing is compared)")
    .option("--rule-changes", "also report decisions of the same effect, grants and revocation that other rules decide, or with other reasons or the same in another order")
    .option("--public-key <file>", "require each side that is a bundle to be signed by this Ed25519 public key (PEM, DER or JSON Web Key)")
    .option("--jobs <n>", jobsHelp(["--max-sessions"]))
    .addHelpText("after", ROTATED_LOGS_HELP);
  withEngineFlags(addMaxErrors(addExclude(command), "diagnostics, and at most N recording errors")).action((oldPath: string, newPath: string, options: DiffOptions) => finish(diffVerb(io, oldPath, newPath, options)));
}
