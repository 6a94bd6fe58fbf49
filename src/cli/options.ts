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
