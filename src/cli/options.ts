import { InvalidArgumentError, type Command } from "commander";
import { DEFAULT_MAX_DIAGNOSTICS } from "./report.js";

export function addMaxErrors(command: Command): Command {
  return command.option("--max-errors <n>", `show at most N diagnostics (default ${DEFAULT_MAX_DIAGNOSTICS})`, (value: string) => {
    if (!/^[0-9]+$/.test(value) || Number(value) < 1) throw new InvalidArgumentError("expected a whole number of at least 1");
    return value;
  });
}

export function parseMaxErrors(value: string | undefined): number {
  return value === undefined ? DEFAULT_MAX_DIAGNOSTICS : Number(value);
}

/** Whether an option's value is empty or only spaces (what an unset shell variable gives). */
export function isBlank(value: unknown): boolean {
  return typeof value === "string" && value.trim() === "";
}

/** The message for an option given an empty value, e.g. `--public-key ""`. */
export function emptyValueMessage(flag: string): string {
  return `${flag} was given an empty value (an unset variable?)`;
}
