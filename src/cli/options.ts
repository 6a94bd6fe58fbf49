import type { Command } from "commander";
import { DEFAULT_MAX_DIAGNOSTICS } from "./report.js";
import { EXIT } from "./exitCodes.js";
import { printable } from "../diagnostics/printable.js";
import type { Diagnostic } from "../diagnostics/Diagnostic.js";
import type { Excluded, LoadedSources } from "../source/loadSources.js";
import type { Io } from "./io.js";
import type { ExitCode } from "./exitCodes.js";

/** Adds `--max-errors N`; `what` names what it limits, for a verb that shows more than diagnostics. */
export function addMaxErrors(command: Command, what = "diagnostics"): Command {
  // Checked after parsing (`maxErrorsMistake`), as every other number is: an empty value first
  // gets the message every option gives one, and a bad one says `policyc VERB:` as the rest do.
  return command.option("--max-errors <n>", `show at most N ${what} (default ${DEFAULT_MAX_DIAGNOSTICS})`);
}

/** Why a `--max-errors` value is not a whole number of at least 1, or undefined when it is (or was not given). */
export function maxErrorsMistake(value: unknown): string | undefined {
  if (typeof value !== "string" || (/^[0-9]+$/.test(value) && Number(value) >= 1)) return undefined;
  return `--max-errors takes a whole number of at least 1, not \`${printable(value)}\``;
}

export function parseMaxErrors(value: string | undefined): number {
  return value === undefined ? DEFAULT_MAX_DIAGNOSTICS : Number(value);
}

/** The verbs' `--exclude GLOB` values: policy files left out of the set (source/exclude.ts says how they match). */
export interface ExcludeOption {
  exclude?: string[];
}

/** Files named on the command line an --exclude glob left out, listed at most. */
const MAX_NAMED_EXCLUDED = 10;

/**
 * The note naming the files given on the command line that --exclude left out, or undefined: a
 * file named and silently not read would be believed checked or shipped.
 */
export function excludedNamedNote(excluded: readonly Excluded[]): string | undefined {
  const named = excluded.filter((entry) => entry.named);
  if (named.length === 0) return undefined;
  if (named.length === 1) return `\`${printable(named[0]!.path)}\` is named but excluded (--exclude \`${printable(named[0]!.glob)}\`): it is not read`;
  const listed = named.slice(0, MAX_NAMED_EXCLUDED).map((entry) => `\`${printable(entry.path)}\``);
  const more = named.length > MAX_NAMED_EXCLUDED ? ` and ${named.length - MAX_NAMED_EXCLUDED} more` : "";
  return `${listed.join(", ")}${more} are named but excluded (--exclude): they are not read`;
}

/**
 * What --exclude left out, as the JSON reports of `check`, `build`, `fmt`, `test`, `eval` and `diff` list it
 * (`"excluded": [{ "path", "glob" }]`, empty when nothing was): a CI log then shows what was not
 * checked or shipped, and by which glob.
 */
export function excludedJson(excluded: readonly Excluded[]): { path: string; glob: string }[] {
  return excluded.map(({ path, glob }) => ({ path, glob }));
}

/**
 * The verb's word on what --exclude did, on standard error: the usage error of a glob that left
 * nothing out (its exit code returned), or the note of files named but excluded.
 */
export function reportExcluded(verb: string, loaded: LoadedSources, io: Io): ExitCode | undefined {
  if (loaded.usage !== undefined) {
    io.err(`policyc ${verb}: ${loaded.usage}\n`);
    return EXIT.usage;
  }
  const note = excludedNamedNote(loaded.excluded);
  if (note !== undefined) io.err(`policyc ${verb}: note: ${note}\n`);
  return undefined;
}

/**
 * PC216 (no tool declared) says to pass the files with the declarations: when --exclude left
 * files out, those may be them, and passing them again would not help.
 */
export function withExcludedDeclarationsHelp(diagnostics: readonly Diagnostic[], excluded: readonly Excluded[]): Diagnostic[] {
  if (excluded.length === 0) return [...diagnostics];
  const listed = excluded.slice(0, 3).map((entry) => `\`${printable(entry.path)}\``).join(", ") + (excluded.length > 3 ? ` and ${excluded.length - 3} more` : "");
  const help = `--exclude left out ${listed}: if the declarations are there, narrow the glob`;
  return diagnostics.map((d) => (d.code === "PC216" ? { ...d, help } : d));
}

/**
 * Adds `--exclude GLOB`, which may be repeated, to a verb that reads policy paths. In a monorepo
 * a folder holds drafts and other teams' experiments beside the policies meant for the set.
 */
export function addExclude(command: Command): Command {
  return command.option("--exclude <glob>", "leave out the policy files and folders this glob matches, in any letter case: by their path relative to the working folder or to the path given, or their name (a glob without /); a folder matched is left out whole (** crosses folders); a glob that matches nothing is an error; may be repeated", gatherValues);
}

/** Whether an option's value (or one of the values it gathered) is empty or only spaces (what an unset shell variable gives). */
export function isBlank(value: unknown): boolean {
  if (Array.isArray(value)) return value.some(isBlank);
  return typeof value === "string" && value.trim() === "";
}

/** The message for an option given an empty value, e.g. `--public-key ""`. */
export function emptyValueMessage(flag: string): string {
  return `${flag} was given an empty value (an unset variable?)`;
}

/**
 * Commander's argument parser for an option that may be given several times, each time with one
 * value (`--reporter junit=report.xml --reporter tap=report.tap`): gathers them in order.
 * `refuseRepeatedValues` leaves such an option alone.
 */
export function gatherValues(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

/**
 * Makes each option of `command` that takes one value refuse a second, different one
 * (`--bundle a.json --bundle b.json`): commander keeps the last, and a user who gave both would
 * believe the run tested, evaluated or wrote what it did not. The same value twice is harmless;
 * lists (`--replay`) gather every value. Commander announces each occurrence of an option as an
 * `option:NAME` event, with the value as given (a default comes from no flag, and is not one).
 */
export function refuseRepeatedValues(command: Command, verb: string): void {
  for (const option of command.options) {
    if (option.variadic || option.negate || !(option.required || option.optional) || option.parseArg === gatherValues) continue;
    let given: string | undefined;
    command.on(`option:${option.name()}`, (value: string | undefined) => {
      if (value === undefined) return;
      if (given !== undefined && given !== value) {
        const flag = option.short !== undefined && option.long !== undefined ? `${option.short} (${option.long})` : (option.long ?? option.flags);
        command.error(`policyc ${verb}: ${flag} given twice (\`${printable(given)}\`, \`${printable(value)}\`): give one`, { exitCode: EXIT.usage, code: "policyc.repeatedOption" });
      }
      given = value;
    });
  }
}
