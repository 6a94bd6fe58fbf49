import { Chalk } from "chalk";
import { plainPalette, type Palette } from "../diagnostics/render.js";

/** Where a verb writes, and how: injected so tests can run verbs without a process. */
export interface Io {
  readonly out: (text: string) => void;
  readonly err: (text: string) => void;
  /** How `out` is coloured: standard output's colour. */
  readonly palette: Palette;
  /** How what goes to `err` is coloured: standard error's, decided by its own terminal (`2> log` stays plain). */
  readonly errPalette: Palette;
  readonly cwd: string;
  /** Standard input, read whole, as bytes (for `--request -` and `fmt -`: they are checked to be UTF-8). */
  readonly readStdin: () => Buffer;
  /** The environment variables a verb reads (`GITHUB_WORKSPACE`, `CI`): the process's, or a test's. */
  readonly env: Readonly<Record<string, string | undefined>>;
}

/**
 * Colour is decided once for each stream: `--no-color` or `NO_COLOR` turn it off; `FORCE_COLOR`
 * of `0` or `false` turns it off, any other value on; `TERM=dumb` (a terminal that cannot show
 * it: an editor's output pane, Emacs' shell) turns it off; otherwise it follows whether that
 * stream is a terminal (`isTty`). `FORCE_COLOR=0` and `false` mean what they mean to Node and
 * chalk; other values do not quite (Node turns colour off for one it does not know, `no`), so
 * the rule is said in cli.md rather than borrowed. chalk alone does not read `NO_COLOR`.
 */
export function decideColor(env: NodeJS.ProcessEnv, isTty: boolean, noColorFlag: boolean): boolean {
  if (noColorFlag) return false;
  if (env["NO_COLOR"] !== undefined && env["NO_COLOR"] !== "") return false;
  const force = env["FORCE_COLOR"];
  if (force !== undefined) return force !== "0" && force.toLowerCase() !== "false";
  if (env["TERM"] === "dumb") return false;
  return isTty;
}

export function paletteFor(color: boolean): Palette {
  if (!color) return plainPalette;
  const chalk = new Chalk({ level: 1 });
  return { error: (s) => chalk.red.bold(s), warning: (s) => chalk.yellow.bold(s), dim: (s) => chalk.dim(s), bold: (s) => chalk.bold(s), accent: (s) => chalk.cyan(s), ok: (s) => chalk.green(s) };
}

/**
 * `io` writing its output to standard error, coloured as standard error is: for what a verb
 * reports there because standard output holds a document (formatted text, JSON, a bundle).
 */
export function onStandardError(io: Io): Io {
  return { ...io, out: io.err, palette: io.errPalette };
}
