import { counted } from "../diagnostics/render.js";
import type { Command } from "commander";
import { EXIT, type ExitCode } from "./exitCodes.js";
import type { Io } from "./io.js";
import { loadPolicy } from "./loadEngine.js";
import { renderInputError } from "../diagnostics/render.js";
import { loadWarningPrinter, notLoadedJson, reportLoadNote, reportNotLoaded } from "./report.js";
import { addExclude, addMaxErrors, excludedJson, gatherValues, parseMaxErrors, type ExcludeOption } from "./options.js";
import { expandRecordings } from "../testing/expandRecordings.js";
import { emptyReport, errorCount, hasInputError, replayRecordings, type ReplayReport } from "../testing/replay.js";
import { ciPaths, type CoverageSummary, coverageSummary, type ReporterInput, type RunCheck, type RunVerdict } from "../testing/reporters/shared.js";
import { prettyReport } from "../testing/reporters/pretty.js";
import { jsonReport } from "../testing/reporters/json.js";
import { junitReport } from "../testing/reporters/junit.js";
import { tapReport } from "../testing/reporters/tap.js";
import { githubReport } from "../testing/reporters/github.js";
import { printable } from "../diagnostics/printable.js";
import { REPORTERS, reportOverwritingInput, reportTargets, writeReports, type Reporter } from "./reportTargets.js";
import { namesStandardInput } from "./standardInputFiles.js";
import { INPUT_CODES } from "../testing/inputCodes.js";
import { jobsHelp, parseReplayFlags, policyAmongRecordings, recordingsOf, refuseUpdateOfStream, REPLAY_HELP, reportMissingRecordings, withEngineFlags, type ReplayFlags } from "./replayOptions.js";

export interface TestOptions extends ReplayFlags, ExcludeOption {
  replay?: string[];
  reporter?: string[];
  json?: boolean;
  coverage?: boolean;
  minCoverage?: string;
  session?: string;
  grep?: string;
  bail?: boolean;
  update?: boolean;
  allowEmpty?: boolean;
  hideValues?: boolean;
  bundle?: string;
  publicKey?: string;
  maxErrors?: string;
}

/** The reporters that list every case, passed ones too (the others list failures only). */
const LISTING_REPORTERS = { json: jsonReport, junit: junitReport, tap: tapReport } as const;
const REPORT_WRITERS: Readonly<Record<Exclude<(typeof REPORTERS)[number], "pretty">, (input: ReporterInput, write: (text: string) => void) => void>> = { ...LISTING_REPORTERS, github: githubReport };

/** `policyc test PATH… --replay FILE…`: replay recordings, compare decisions, report. */
export async function testVerb(io: Io, paths: string[], options: TestOptions): Promise<ExitCode> {
  const asked = reportTargets(options.reporter ?? [], options.json ?? false, io.cwd);
  if ("error" in asked) {
    io.err(`policyc test: ${asked.error}\n`);
    return EXIT.usage;
  }
  const targets = asked.targets;
  let minCoverage: number | undefined;
  if (options.minCoverage !== undefined) {
    minCoverage = Number(options.minCoverage);
    if (!/^[0-9]+(\.[0-9]+)?$/.test(options.minCoverage) || minCoverage > 100) {
      io.err(`policyc test: --min-coverage takes a percentage from 0 to 100, not \`${options.minCoverage}\`\n`);
      return EXIT.usage;
    }
  }
  const replay = parseReplayFlags("test", options, io);
  if (replay === undefined) return EXIT.usage;
  const recordings = recordingsOf("test", options.replay, io);
  if (recordings === undefined) return EXIT.usage;
  if (paths.length === 0 && !options.bundle) {
    io.err(policyAmongRecordings("test", options.replay ?? [], { cwd: io.cwd, noPolicyPaths: true }) ?? "policyc test: give policy paths or --bundle FILE\n");
    return EXIT.usage;
  }
  const loaded = loadPolicy(paths, io.cwd, { verb: "test", warn: loadWarningPrinter(io), exclude: options.exclude, ...(options.bundle !== undefined ? { bundle: options.bundle } : {}), ...(options.publicKey !== undefined ? { publicKey: options.publicKey } : {}) });
  const ciPath = ciPaths(io.cwd, io.env["GITHUB_WORKSPACE"]);
  const { files, missing } = expandRecordings(recordings, io.cwd);
  const readsStandardInput = files.some((file) => namesStandardInput(file, io.cwd));
  const overwritten = reportOverwritingInput(targets, [...files, ...paths, ...[options.bundle, options.publicKey].filter((file) => file !== undefined)], io.cwd, { readsStandardInput });
  if (overwritten !== undefined) {
    io.err(`policyc test: ${overwritten}\n`);
    return EXIT.usage;
  }
  // A run that cannot start still gets the reports CI reads. The pretty report on standard output
  // has said it all on stderr; one in a file says why the run did not start, so an earlier run's
  // log is not left there to be read as this one's.
  const notStarted = async (verdict: RunVerdict, code: ExitCode, judged?: Pick<ReporterInput, "policy" | "excluded">): Promise<ExitCode> => {
    const reports = targets.filter((target) => target.reporter !== "pretty" || typeof target.to !== "string");
    const written = await writeReports("test", reports, io, (reporter, out) => (reporter === "pretty" ? out(`the run did not start: ${verdict.reason ?? "see the errors above"}\n`) : REPORT_WRITERS[reporter]({ report: emptyReport([], [], []), rules: [], verdict, ciPath, ...judged }, out)));
    return written ? code : EXIT.usage;
  };
  if (!loaded.ok) {
    reportNotLoaded("test", loaded, io, parseMaxErrors(options.maxErrors));
    const { reason, code, diagnostics } = notLoadedJson(loaded);
    const runCheck = loaded.inputError !== undefined ? { name: "policy set", code: loaded.inputError.code, message: renderInputError(loaded.inputError.place, loaded.inputError.code, loaded.inputError.message) } : { name: "policy set", message: loaded.message ?? "" };
    return notStarted({ ok: false, reason, ...(code !== undefined ? { inputCode: code } : {}), diagnostics, ...(loaded.message ? { runChecks: [runCheck] } : {}) }, loaded.code);
  }
  reportLoadNote("test", loaded, io);
  // Named only by the reports that list cases (json, junit, tap), and computed only for them: for sources it costs a bundle's worth of work.
  const identity = targets.some((target) => target.reporter in LISTING_REPORTERS) ? loaded.identity() : undefined;
  const judgedPolicy = { ...(identity === undefined ? {} : { policy: identity }), excluded: excludedJson(loaded.excluded) };
  if (missing.length > 0) {
    const message = reportMissingRecordings(missing, io);
    return notStarted({ ok: false, reason: message, inputCode: INPUT_CODES.unreadableFile, runChecks: [{ name: "recordings", code: INPUT_CODES.unreadableFile, message }] }, EXIT.usage, judgedPolicy);
  }
  if (options.update && refuseUpdateOfStream(files, io.cwd, io) !== undefined) return EXIT.usage;
  const report = await replayRecordings(loaded.policy, files, {
    ...(options.session !== undefined ? { session: options.session } : {}),
    ...(options.grep !== undefined ? { grep: options.grep } : {}),
    bail: options.bail ?? false,
    update: options.update ?? false,
    listCases: targets.some((target) => target.reporter in LISTING_REPORTERS),
    hideValues: options.hideValues ?? false,
    ...replay,
    cwd: io.cwd,
  });
  const wantCoverage = options.coverage || minCoverage !== undefined;
  const coverage = wantCoverage ? coverageSummary(report, loaded.policy.rules, options.session !== undefined || options.grep !== undefined) : undefined;
  const verdict = judge(report, coverage, { minCoverage, allowEmpty: options.allowEmpty ?? false, update: options.update ?? false, ...(options.session !== undefined ? { session: options.session } : {}), ...(options.grep !== undefined ? { grep: options.grep } : {}) });
  const input: ReporterInput = { report, rules: loaded.policy.rules, ...judgedPolicy, ...(coverage ? { coverage } : {}), verdict, ciPath, maxErrors: parseMaxErrors(options.maxErrors) };
  // Reporters write in pieces, straight to stdout or to their files.
  const written = await writeReports("test", targets, io, (reporter, out, palette) => (reporter === "pretty" ? prettyReport(input, palette, out) : REPORT_WRITERS[reporter](input, out)));
  if (options.update) {
    io.err(updateSummary(report));
    const ci = ciVariable(io.env);
    if (ci !== undefined) io.err(`policyc test: --update rewrote ${report.updated.length} recording${report.updated.length === 1 ? "" : "s"} in a CI job (${ci} is set): the rewritten files are not committed, and the run passes whatever the decisions; run --update locally and review the diff\n`);
  }
  for (const runCheck of verdict.runChecks ?? []) io.err(`policyc test: ${runCheck.message}\n`);
  // A report CI was to read that is missing fails the run, as an output that cannot be written fails `build`.
  return written ? verdict.code : EXIT.usage;
}

/** What `--update` did, counting only the recordings actually rewritten. */
export function updateSummary(report: ReplayReport): string {
  const { updated, notUpdated, files } = report;
  if (updated.length === 0 && notUpdated.length === 0) return "no recording needed a change\n";
  const recordings = (n: number): string => `${n} recording${n === 1 ? "" : "s"}`;
  const done = updated.length === files.length ? `updated ${recordings(updated.length)}` : `updated ${updated.length} of ${recordings(files.length)}`;
  const failed = notUpdated.length > 0 ? `; ${recordings(notUpdated.length)} could not be written (the errors say why)` : "";
  const lost = report.appendedDuringUpdate.length > 0 ? `; lines appended to ${report.appendedDuringUpdate.length === 1 && updated.length === 1 ? "it" : recordings(report.appendedDuringUpdate.length)} while ${updated.length === 1 ? "it was" : "they were"} replaced went to the replaced file and are lost (the notes say which)` : "";
  return `${done} with the actual decisions${updated.length > 0 ? "; review the diff" : ""}${failed}${lost}\n`;
}

/**
 * The variable that says this is a CI job (`CI`, which most CI systems set, or GitHub's
 * `GITHUB_ACTIONS`), or undefined. `--update` there is nearly always a local command copied into
 * a job: it turns the job green for good, so it is warned about (the exit code stays as documented).
 */
function ciVariable(env: Io["env"]): string | undefined {
  return ["CI", "GITHUB_ACTIONS"].find((name) => {
    const value = env[name];
    return value !== undefined && value !== "" && value !== "0" && value.toLowerCase() !== "false";
  });
}

/**
 * The exit code of a run, and why it failed: 2 for malformed input, 1 for failures, unknown
 * tools, no test cases or too little coverage, else 0. With `--update` failures do not count:
 * the recordings now hold the actual decisions, and the diff is for a person to review.
 */
export function judge(report: ReplayReport, coverage: CoverageSummary | undefined, options: JudgeOptions): RunVerdict & { code: ExitCode } {
  const verdict = judgeCases(report, options);
  // Checked on its own: a run whose cases fail says too that its coverage is too low.
  const short = coverageShortfall(coverage, options.minCoverage);
  if (short === undefined) return verdict;
  if (verdict.ok) return { code: EXIT.failure, ok: false, reason: short.message, runChecks: [short] };
  return { ...verdict, reason: `${verdict.reason}; ${short.message}`, runChecks: [...(verdict.runChecks ?? []), short] };
}

interface JudgeOptions {
  minCoverage: number | undefined;
  allowEmpty: boolean;
  update: boolean;
  session?: string;
  grep?: string;
}

/** The verdict on the cases and lines alone (errors, failures, no test cases), before coverage. */
function judgeCases(report: ReplayReport, options: JudgeOptions): RunVerdict & { code: ExitCode } {
  const errorsFound = errorCount(report);
  const errors = counted(errorsFound, "error");
  if (hasInputError(report)) return { code: EXIT.usage, ok: false, reason: `${errors} in the recordings (malformed or unreadable input)` };
  if (errorsFound > 0) return { code: EXIT.failure, ok: false, reason: `${errors}: lines that do not fit the policy set` };
  if (report.failed > 0 && !options.update) return { code: EXIT.failure, ok: false, reason: `${counted(report.failed, "case")} failed` };
  // A --session or --grep that selects nothing is a typo, not an empty recording (--allow-empty would not be the fix).
  if (options.session !== undefined && report.lines === 0) {
    const message = `no line of the recordings has session \`${printable(options.session)}\``;
    return { code: EXIT.failure, ok: false, reason: message, runChecks: [{ name: "no test cases", message }] };
  }
  if (options.grep !== undefined && report.passed + report.failed === 0 && !options.update) {
    const message = `no case matches --grep \`${printable(options.grep)}\`: no line with an expected decision has a tool or rule id containing it`;
    return { code: EXIT.failure, ok: false, reason: message, runChecks: [{ name: "no test cases", message }] };
  }
  if (report.passed + report.failed === 0 && !options.allowEmpty && !options.update) {
    const message = "no test cases: no replayed line has an expected `decision` (use --allow-empty to accept, or --update to record them)";
    return { code: EXIT.failure, ok: false, reason: message, runChecks: [{ name: "no test cases", message }] };
  }
  return { code: EXIT.ok, ok: true };
}

/**
 * The coverage gate's failure, when fewer rules than `--min-coverage` asks decided a test case,
 * or the set has no rules: a gate asked for is never passed by a set with nothing to cover (a
 * policy folder emptied by mistake, or the wrong one), whatever the percentage asked, 0 included.
 */
function coverageShortfall(coverage: CoverageSummary | undefined, minCoverage: number | undefined): RunCheck | undefined {
  if (minCoverage === undefined || coverage === undefined) return undefined;
  if (coverage.noRules) return { name: "coverage", message: `the policy set has no rules, so --min-coverage ${minCoverage}% has nothing to measure` };
  // Against the exact share, not the percentage shown (rounded down to a tenth): 2 of 3 rules,
  // 66.67%, meets `--min-coverage 66.66`. In whole numbers, so 29 of 100 rules meets 29.
  if ((coverage.rules.length - coverage.uncovered.length) * 100 >= minCoverage * coverage.rules.length) return undefined;
  return { name: "coverage", message: `rule coverage ${coverage.percent}% is below --min-coverage ${minCoverage}%` };
}

export function registerTest(program: Command, io: Io, finish: (code: Promise<ExitCode>) => void): void {
  const command = program
    .command("test")
    .description("replay recorded requests (JSON Lines) against policies and compare decisions")
    .argument("[paths...]", "policy files or folders (or give --bundle)")
    .option("--replay <files...>", REPLAY_HELP)
    .option("--bundle <file>", "test a built bundle instead of sources")
    .option("--public-key <file>", "require the bundle to be signed by this Ed25519 public key (PEM, DER or JSON Web Key)")
    .option("--reporter <name[=file]>", `report format: ${REPORTERS.join(", ")} (default: pretty); NAME=FILE writes that report to FILE instead of standard output, and the option may be repeated (--reporter junit=report.xml keeps the pretty report on standard output)`, gatherValues)
    .option("--json", "same as --reporter json")
    .option("--coverage", "list every rule with how many passing test cases (selected lines whose expected decision matched) it decided; a rule that decided only lines without expectations is not covered, and is marked so")
    .option("--min-coverage <percent>", "fail when less than this percentage (0 to 100) of the rules is covered, or the policy set has no rules")
    .option("--session <id>", "replay only this session")
    .option("--grep <text>", "count only cases whose tool or rule ids (or, of a revocation line, reason) contain this text")
    .option("--bail", "stop at the first failure")
    .option("--update", "write the actual decision and rules (and reason, grants, grantsOnApproval, revoked where a line has them) into the lines that failed or expect nothing yet (and approved into the approval lines that failed, outcome into the revocation lines that failed or have none)")
    .option("--allow-empty", "pass when no line has an expectation")
    .option("--hide-values", "show the arguments' names only, each value as …, in every report, and a failing line's explanation without the values it read (a decision log's arguments can hold tokens and personal data; reasons and errors are shown as the engine gave them)")
    .option("--jobs <n>", jobsHelp(["--update", "--bail", "--max-sessions"]));
  withEngineFlags(addMaxErrors(addExclude(command), "diagnostics, and with the pretty reporter at most N recording errors")).action((paths: string[], options: TestOptions) => finish(testVerb(io, paths, options)));
}
