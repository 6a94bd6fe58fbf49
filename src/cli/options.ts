import type { Command } from "commander";
import { DEFAULT_MAX_DIAGNOSTICS } from "./report.js";
import { EXIT } from "./exitCodes.js";
import { printable } from "../diagnostics/printable.js";

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

/** The verbs' `--exclude GLOB` values: policy files left out of the set (loadSources.ts, isExcluded). */
export interface ExcludeOption {
  exclude?: string[];
}

/**
 * Adds `--exclude GLOB`, which may be repeated, to a verb that reads policy paths. In a monorepo
 * a folder holds drafts and other teams' experiments beside the policies meant for the set.
 */
export function addExclude(command: Command): Command {
  return command.option("--exclude <glob>", "leave out the policy files this glob matches: by their path relative to the working folder, their name (a glob without /), or a folder on their path (** crosses folders); may be repeated", gatherValues);
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
