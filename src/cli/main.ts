import { existsSync, fstatSync, writeSync } from "node:fs";
import { resolve } from "node:path";
import { isatty } from "node:tty";
import { readLimited } from "../source/readLimited.js";
import { describeFsError } from "../source/loadSources.js";
import { MAX_REQUEST_BYTES } from "./inputLimits.js";
import { Command, CommanderError } from "commander";
import { registerCheck } from "./check.js";
import { registerFmt } from "./fmt.js";
import { registerBuild } from "./build.js";
import { registerEval } from "./eval.js";
import { registerTest } from "./test.js";
import { registerDiff } from "./diff.js";
import { registerVerify } from "./verify.js";
import { EXIT, type ExitCode } from "./exitCodes.js";
import { decideColor, paletteFor, type Io } from "./io.js";
import { VERSION } from "../version.js";
import { describeThrown } from "../runtime/helpers.js";
import { emptyValueMessage, isBlank, maxErrorsMistake, refuseRepeatedValues } from "./options.js";
import { excludeGlobMistake } from "../source/exclude.js";
import { closestName } from "../diagnostics/suggest.js";
import { policyAmongRecordings } from "./replayOptions.js";

const EXIT_CODE_HELP = `
Exit codes:
  0  success (warnings allowed unless check --fail-on-warnings; every test passed)
  1  policy errors, a warning under check --fail-on-warnings, a file to format
     (fmt --check), failed tests, nothing to compare (test, diff), a change
     (diff --exit-code), or a bundle refused by verify
  2  bad usage, unreadable input, or output that cannot be written

Colour is used only on a terminal, never with --no-color, NO_COLOR, FORCE_COLOR=0
or (unless FORCE_COLOR is set) TERM=dumb; any other FORCE_COLOR forces it.`;

/** Builds the command tree; verbs report their exit code through `finish`. */
export function buildProgram(io: Io, finish: (code: ExitCode | Promise<ExitCode>) => void): Command {
  const program = new Command("policyc")
    .description("policy-as-code for AI agents' tool calls: check, format, build, evaluate and test policies")
    .version(VERSION, "-V, --version")
    .option("--no-color", "never colour output")
    .addHelpText("after", EXIT_CODE_HELP)
    .showSuggestionAfterError(true)
    .exitOverride()
    .configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: (text, write) => write(asOwnMessage(text, "policyc")) });
  registerCheck(program, io, finish);
  registerFmt(program, io, finish);
  registerBuild(program, io, finish);
  registerEval(program, io, finish);
  registerTest(program, io, finish);
  registerDiff(program, io, finish);
  registerVerify(program, io, finish);
  for (const command of program.commands) {
    command.exitOverride().configureOutput({ writeOut: (s) => io.out(s), writeErr: (s) => io.err(s), outputError: (text, write) => write(asOwnMessage(withFileNamedLikeOption(withOwnerOfOption(withOptionInOtherCase(withPolicyAfterReplay(text, command, io.cwd), command), command, program), io.cwd), `policyc ${command.name()}`)) });
    refuseRepeatedValues(command, command.name());
  }
  // An empty value is nearly always an unset variable (`--public-key "$KEY"`), and a verb taking
  // it for "not given" would quietly drop what was asked for (a signature check, a filter), so
  // every option refuses it. Lists (`--replay`) check their own entries and say which.
  program.hook("preAction", (_program, command) => {
    const blank = command.options.find((option) => option.required && !option.variadic && isBlank(command.getOptionValue(option.attributeName())));
    if (blank) command.error(`policyc ${command.name()}: ${emptyValueMessage(blank.long ?? blank.flags)}`, { exitCode: EXIT.usage, code: "policyc.emptyValue" });
    const maxErrors = maxErrorsMistake(command.getOptionValue("maxErrors"));
    if (maxErrors !== undefined) command.error(`policyc ${command.name()}: ${maxErrors}`, { exitCode: EXIT.usage, code: "policyc.invalidValue" });
    const exclude = ((command.getOptionValue("exclude") ?? []) as string[]).map(excludeGlobMistake).find((mistake) => mistake !== undefined);
    if (exclude !== undefined) command.error(`policyc ${command.name()}: ${exclude}`, { exitCode: EXIT.usage, code: "policyc.invalidValue" });
  });
  return program;
}

/**
 * Commander's message (`error: unknown option '--jsn'`) as policyc's own are written: after the
 * verb that says it (`policyc check: unknown option \`--jsn\``), so a script's log that runs
 * several verbs shows which one refused what.
 */
function asOwnMessage(text: string, speaker: string): string {
  return text.startsWith("error: ") ? `${speaker}: ${inHouseStyle(text.slice("error: ".length))}` : text;
}

/**
 * Commander's wording as policyc's messages are written (audit a1 L3): names in backticks, not
 * quotes (`unknown option \`--jsn\``), lower case, no full stop, and a did-you-mean on the line
 * it answers (`: did you mean \`--json\`?`) rather than on a line of its own in brackets.
 */
function inHouseStyle(text: string): string {
  const [first = "", ...rest] = text.split("\n");
  const meant = rest.findIndex((line) => /^\(Did you mean .*\?\)$/.test(line));
  const suggestion = meant < 0 ? "" : `: ${didYouMeanText(rest.splice(meant, 1)[0]!.slice("(Did you mean ".length, -"?)".length))}`;
  const said = first
    .replace(/^(unknown option|unknown command|missing required argument) '([^']*)'$/, "$1 `$2`")
    .replace(/^option '([^']*)' argument missing$/, "option `$1` needs a value")
    .replace(/^too many arguments(?: for '([^']*)')?\. Expected (\d+) arguments? but got (\d+)\.$/, (_, verb: string | undefined, expected: string, got: string) => `too many arguments${verb === undefined ? "" : ` for \`${verb}\``}: it takes ${expected}, not ${got}`);
  return [said + suggestion, ...rest].join("\n");
}

/**
 * "did you mean `check`?", the one form every did-you-mean of the command line takes. Commander
 * names several equally close ones as "one of --jobs, --json": "did you mean `--jobs` or `--json`?".
 */
function didYouMeanText(suggestion: string): string {
  const names = (/^one of (.*)$/.exec(suggestion)?.[1]?.split(", ") ?? [suggestion]).map((name) => `\`${name}\``);
  return `did you mean ${names.length === 1 ? names[0] : `${names.slice(0, -1).join(", ")} or ${names.at(-1)}`}?`;
}

/**
 * Commander's "unknown option" for a flag another verb has (`check --write`, `eval --replay`,
 * `diff --session`), with the verbs it belongs to: the user has the right flag and the wrong
 * verb, so commander's "Did you mean" (for `--session`, `--version`) is dropped. A flag no other
 * verb has keeps it.
 */
function withOwnerOfOption(text: string, command: Command, program: Command): string {
  const flag = /^error: unknown option '([^'=]+)(?:=[^']*)?'\n?(?:\(Did you mean [^\n]*\)\n?)?$/.exec(text)?.[1];
  if (flag === undefined) return text;
  // The verb's own flag given a value (`check --json=1`): it takes none, and is not another verb's.
  if (command.options.some((option) => option.long === flag && !option.required && !option.optional)) return `${text.split("\n")[0]}\n(\`${flag}\` takes no value: give \`${flag}\` alone)\n`;
  const owners = program.commands.filter((other) => other !== command && other.options.some((option) => option.long === flag || option.short === flag));
  if (owners.length === 0) return text;
  // Commander's first line as it is (`--fail-on-warnings=1`), without its suggestion.
  return `${text.split("\n")[0]}\n(\`${flag}\` is an option of ${owners.map((owner) => `\`policyc ${owner.name()}\``).join(" and ")}, not of \`policyc ${command.name()}\`)\n`;
}

/**
 * Commander's "unknown option" for an argument that is a file's name (`-x.policy`, a recording
 * named `--old.jsonl`): every argument that starts with `-` is read as an option, so the file
 * has to be given another way, which the message says.
 */
function withFileNamedLikeOption(text: string, cwd: string): string {
  const argument = /^error: unknown option '([^']+)'/.exec(text)?.[1];
  if (argument === undefined || !existsSync(resolve(cwd, argument))) return text;
  // Added to what commander said (a did-you-mean, the verb a flag belongs to). Not "after `--`":
  // past `--` an argument is a policy path, never a recording of `--replay`.
  return `${text.replace(/\n?$/, "\n")}(\`${argument}\` is a file here: give it as \`./${argument}\`)\n`;
}

/**
 * Commander's "unknown option" with a did-you-mean it leaves out: its suggester compares letter
 * case, so `--JSON` or `--Max-Errors` (a caps lock, a habit from another tool) get none.
 */
function withOptionInOtherCase(text: string, command: Command): string {
  const flag = /^error: unknown option '(--[^'=]+)(?:=[^']*)?'\n?$/.exec(text)?.[1];
  if (flag === undefined) return text;
  // With the global options (`--no-color`, `--version`), which every verb takes as commander's own suggester knows.
  const known = [...command.options, ...(command.parent?.options ?? [])].flatMap((option) => (option.long === undefined ? [] : [option.long]));
  const match = closestName(flag, [...known, "--help"]);
  return match === undefined || match === flag ? text : `${text.replace(/\n?$/, "\n")}(Did you mean ${match}?)\n`;
}

/**
 * Commander's "missing required argument" when `--replay` took the policy paths given after it
 * (`diff --replay r.jsonl old.policy new.policy`): what `test` says of it, which is the mistake.
 */
function withPolicyAfterReplay(text: string, command: Command, cwd: string): string {
  if (!text.startsWith("error: missing required argument")) return text;
  const replay: unknown = command.getOptionValue("replay");
  return (Array.isArray(replay) && policyAmongRecordings(command.name(), replay.filter((value): value is string => typeof value === "string"), { cwd, noPolicyPaths: true })) || text;
}

/** Runs the CLI with the process's streams and sets the exit code. The only place that ends the process. */
export function run(argv: readonly string[]): void {
  // A closed pipe (`policyc check … | head`) is the reader's choice, not an error: stop quietly.
  // Any other failure to write (a full disk under `> report.xml`) leaves the output cut short:
  // exit 2 with one line, not a stack trace and 1, which CI would read as a failed test.
  const cannotWrite = (stream: NodeJS.WriteStream, error: NodeJS.ErrnoException): never => {
    if (error.code === "EPIPE") process.exit(process.exitCode ?? 0);
    if (stream === process.stdout) {
      try {
        process.stderr.write(`policyc: cannot write to standard output: ${describeFsError(error)} (what was written is cut short)\n`);
      } catch {
        // Nowhere left to say it: the exit code says it.
      }
    }
    process.exit(EXIT.usage);
  };
  for (const stream of [process.stdout, process.stderr]) stream.on("error", (error: NodeJS.ErrnoException) => cannotWrite(stream, error));
  // Standard output redirected to a file (`build -o - > bundle.json`) is written by Node with
  // one write call per piece, and what a disk with a little room left does not take is dropped
  // without an error: written here to the last byte, the next write fails (no space left) and
  // is reported as above. So is a device that is not a terminal (`> /dev/full`): through Node's
  // stream its error would come after the verb had reported success (`built`). Terminals and
  // pipes keep Node's stream (a pipe may not block).
  const out = standardOutputIsFileOrDevice()
    ? (text: string) => {
        try {
          writeWhole(1, text);
        } catch (error) {
          cannotWrite(process.stdout, error as NodeJS.ErrnoException);
        }
      }
    : (text: string) => process.stdout.write(text);
  const noColor = argv.includes("--no-color");
  let workingFolder: string | undefined;
  const io: Io = {
    out,
    err: (s) => process.stderr.write(s),
    palette: paletteFor(decideColor(process.env, Boolean(process.stdout.isTTY), noColor)),
    errPalette: paletteFor(decideColor(process.env, Boolean(process.stderr.isTTY), noColor)),
    // Asked when a verb first needs it, not at start: in a folder that was removed meanwhile (a
    // CI checkout cleaned under the step), `--version` and `--help` still answer (a usage error, which names paths as given, says the folder is gone).
    get cwd() {
      return (workingFolder ??= currentWorkingFolder());
    },
    readStdin: () => readLimited(0, MAX_REQUEST_BYTES),
    env: process.env,
  };
  runWith(io, argv).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      if (error instanceof WorkingFolderGone) {
        io.err(`policyc: ${error.message}\n`);
        process.exitCode = EXIT.usage;
        return;
      }
      // A bug, not a user mistake: say so plainly, without a stack trace unless asked.
      io.err(`policyc: internal error: ${describeThrown(error)}\n`);
      if (process.env["POLICYC_DEBUG"]) io.err(`${error instanceof Error ? error.stack : ""}\n`);
      io.err("please report this with the input that caused it\n");
      process.exitCode = EXIT.usage;
    },
  );
}

/** The process's working folder is gone: every relative path, and the paths shown, depend on it. */
class WorkingFolderGone extends Error {}

function currentWorkingFolder(): string {
  try {
    return process.cwd();
  } catch (error) {
    // Not `$PWD`: it names the folder that was removed, or another one made since under its name.
    throw new WorkingFolderGone(
      (error as { code?: string }).code === "ENOENT" ? "the working folder no longer exists (it was removed): cd to an existing folder and run it again" : `cannot tell the working folder: ${describeFsError(error)}`,
    );
  }
}

function standardOutputIsFileOrDevice(): boolean {
  try {
    const stats = fstatSync(1);
    return stats.isFile() || (stats.isCharacterDevice() && !isatty(1));
  } catch {
    return false;
  }
}

/**
 * Writes all of `text` to `fd`, however many writes that takes. A write that takes nothing
 * without an error would loop for ever: it is reported as an input/output error.
 */
export function writeWhole(fd: number, text: string): void {
  const bytes = Buffer.from(text, "utf8");
  let offset = 0;
  while (offset < bytes.length) {
    const written = writeSync(fd, bytes, offset, bytes.length - offset);
    if (written <= 0) throw Object.assign(new Error("nothing was written"), { code: "EIO" });
    offset += written;
  }
}

/** The command line without the global `--no-color` (before a `--`, after which every word is a path). */
function withoutGlobalNoColor(argv: readonly string[]): string[] {
  const end = argv.indexOf("--");
  const options = end === -1 ? argv : argv.slice(0, end);
  return [...options.filter((word) => word !== "--no-color"), ...(end === -1 ? [] : argv.slice(end))];
}

/** How far a one-dash word may be from a long option's name to be refused as it ("a letter or two"). */
const ONE_DASH_EDITS = 2;

/**
 * Refuses, as commander's unknown option, a long option written with one dash (`build -output
 * x.policy`, `eval -request r.json`, `check -json`) and one a letter or two away (`-ouptut`):
 * one edit for a word of up to three letters, two for a longer one (ONE_DASH_EDITS), no more,
 * so `-osigned` stays `-o signed` (three edits from `sign`), as docs/cli.md says.
 * Commander reads `-output` as the short `-o` with the value `utput`, so `build` would write a
 * bundle named `utput` and succeed (audit s20 a1 M1). A short option with its value attached
 * stays as it was unless the word reads as a long option's name: `-oout.json` is `-o out.json`,
 * `-ojson` is refused (write `-o json`). A word that is the value of the option before it
 * (`--grep -json`) is left alone, as is everything after `--`.
 */
function refuseLongOptionWithOneDash(program: Command, words: readonly string[]): void {
  const verb = program.commands.find((command) => command.name() === words[0]);
  if (verb === undefined) return;
  const options = [...verb.options, ...program.options];
  const longNames = [...options.flatMap((option) => (option.long === undefined ? [] : [option.long.slice("--".length)])), "help"];
  let takesNext = false;
  for (const word of words.slice(1)) {
    if (word === "--") return;
    const isValue = takesNext;
    takesNext = options.some((option) => option.required && !option.variadic && (word === option.long || word === option.short));
    if (isValue) continue;
    const name = /^-([A-Za-z](?:[A-Za-z-]*[A-Za-z])?)(?:=.*)?$/.exec(word)?.[1];
    if (name === undefined || name.length < 2) continue;
    const meant = longNames.includes(name) ? name : closestName(name, longNames, ONE_DASH_EDITS);
    if (meant === undefined) continue;
    // In commander's words, so the message goes the way of every unknown option's (a file of that name, the verb's prefix).
    verb.error(`error: unknown option '${word}'\n(Did you mean --${meant}?)`, { exitCode: EXIT.usage, code: "commander.unknownOption" });
  }
}

/** Runs one command line against an `Io`; resolves to the exit code. Used by `run` and by tests. */
export async function runWith(io: Io, argv: readonly string[]): Promise<ExitCode> {
  let result: ExitCode | Promise<ExitCode> = EXIT.ok;
  const program = buildProgram(io, (code) => {
    result = code;
  });
  // `--no-color` is accepted anywhere on the line, so it must not change what these two checks see.
  const words = withoutGlobalNoColor(argv);
  if (words.length === 0) {
    // The same help as `--help` (with the exit codes), on standard error: nothing was asked.
    program.outputHelp({ error: true });
    return EXIT.usage;
  }
  // `policyc help nosuch` would print the general help and succeed: a typo should not pass.
  if (words[0] === "help" && words[1] !== undefined && !program.commands.some((c) => c.name() === words[1])) {
    const names = program.commands.map((c) => c.name());
    // As `policyc chek` is answered: a mistyped verb gets its likely name.
    const match = closestName(words[1], names);
    io.err(`policyc: no command \`${words[1]}\` to show help for${match === undefined ? "" : `: ${didYouMeanText(match)}`} (the commands: ${names.join(", ")})\n`);
    return EXIT.usage;
  }
  try {
    refuseLongOptionWithOneDash(program, words);
    await program.parseAsync([...argv], { from: "user" });
  } catch (error) {
    if (error instanceof CommanderError) {
      if (error.code === "commander.helpDisplayed" || error.code === "commander.version" || error.code === "commander.help") return EXIT.ok;
      return EXIT.usage;
    }
    throw error;
  }
  return await result;
}
