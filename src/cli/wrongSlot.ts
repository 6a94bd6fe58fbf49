import { statSync } from "node:fs";
import type { Diagnostic } from "../diagnostics/Diagnostic.js";
import { dirname, resolve } from "node:path";
import { printable } from "../diagnostics/printable.js";
import { kindName, kindOfFile, kindOfText, type FileKind } from "../source/fileKind.js";
import { isPolicyFileName, STANDARD_INPUT_NAME } from "../source/loadSources.js";

/** What a command line slot takes: policy paths, a bundle (`--bundle`), a request (`--request`), a key (`--public-key`, `--sign`). */
export type Slot = "policy" | "bundle" | "request" | "key";

/** Where a verb takes recordings: `--replay` (test, diff), or `--request` (eval: a history). */
export type RecordingOption = "--replay" | "--request";

const SLOT_TAKES: Readonly<Record<Slot, string>> = { policy: "a policy file", bundle: "a bundle", request: "a request", key: "a key" };

/**
 * Why a file of `kind` (told by its start and name) does not go in `slot`, and where it goes
 * (for a key, the caller says what key it takes); undefined when it may be what the slot takes
 * (the slot's reader then reports any fault).
 */
export function wrongSlotMessage(shown: string, kind: FileKind | undefined, slot: Slot, recordings: RecordingOption): string | undefined {
  if (kind === undefined || kind === "unknown" || (kind === "bundle" && slot === "bundle") || (kind === "policy" && slot === "policy")) return undefined;
  // A recording is a request history to eval: there it is the request, not a misplaced file.
  if (kind === "recording" && slot === "request") return undefined;
  const advice = {
    bundle: "give it with --bundle FILE",
    recording: `give it with ${recordings}${recordings === "--replay" && slot === "policy" ? ", after the policy paths" : ""}`,
    policy: `give policy files and folders as paths${slot === "bundle" ? ", without --bundle" : ""}`,
  }[kind];
  return `\`${printable(shown)}\` is ${kindName(kind)}, not ${SLOT_TAKES[slot]}${slot === "key" ? "" : `: ${advice}`}`;
}

/** `wrongSlotMessage` for the start of a file already read (`text`). */
export function wrongSlotOfText(shown: string, text: string, slot: Slot, recordings: RecordingOption): string | undefined {
  return wrongSlotMessage(shown, kindOfText(text.slice(0, 1024), shown), slot, recordings);
}

/**
 * The first of `paths` (policy paths, relative to `cwd`) that is a file of another kind (a
 * recording, a bundle not named `.json`), said with where it goes; files named `.policy` and
 * folders are the policy reader's.
 */
export function misplacedPolicyPath(paths: readonly string[], cwd: string, recordings: RecordingOption): string | undefined {
  for (const path of paths) {
    if (isPolicyFileName(path)) continue;
    const absolute = resolve(cwd, path);
    try {
      if (!statSync(absolute).isFile()) continue;
    } catch {
      continue; // the policy reader says why it cannot be read
    }
    const message = wrongSlotMessage(path, kindOfFile(absolute, path), "policy", recordings);
    if (message !== undefined) return message;
  }
  return undefined;
}

/**
 * A file of another kind given as policy text (`policyc check bundle.json`, a recording given
 * before --replay) fails at its first `{`: that error's help says what the file is and where it
 * goes; so does the first error of a file not named `.policy` that is no policy text (a README). For every verb that prints diagnostics (report.ts), not the parser's: it names verbs and flags.
 */
export function namedForWhatItIs(diagnostics: readonly Diagnostic[], cwd: string): readonly Diagnostic[] {
  return diagnostics.map((d) => {
    const file = d.span?.file;
    // A lexical or syntax error (`#` of a Markdown heading is PC100) at the file's first character.
    if (!/^PC10[0-3]$/.test(d.code) || file === undefined || d.span!.start !== file.text.search(/[^\s\uFEFF]/)) return d;
    const kind = kindOfText(file.text.slice(0, 1024), file.path);
    if (kind !== "unknown" && d.code !== "PC103") return d;
    if (kind === "bundle") return { ...d, help: `\`${printable(file.path)}\` is a policyc bundle, not policy text: \`policyc test\` and \`policyc eval\` read a bundle with --bundle` };
    if (kind === "recording") return { ...d, help: `\`${printable(file.path)}\` is a recording (JSON Lines), not policy text: \`policyc test\` and \`policyc diff\` read recordings with --replay, after the policy paths` };
    // A folder search reads only `.policy` files, so a file of another name that fails at its
    // start was named on the command line: most often by a shell's glob (`rules/*`) that took
    // in the README beside the policies. A help the error has (`did you mean \`tool\`?` for
    // `toll` in a file meant as policy text) stays first: it may be the one that fixes it. A pipe
    // (`<(…)`, shown as `/dev/fd/63`) or a file under /dev or /proc has no folder to name.
    if (kind === "unknown" && !isPolicyFileName(file.path) && file.path !== STANDARD_INPUT_NAME && isRegularFileOutsideSystem(resolve(cwd, file.path))) {
      const folder = printable(dirname(file.path));
      const named = `\`${printable(file.path)}\` is not a \`.policy\` file, but a file named on the command line is read as policy text whatever its name (a shell's \`${folder === "." ? "*" : `${folder}/*`}\` names every file): name the folder, \`${folder}\`, to read only its \`.policy\` files`;
      return { ...d, help: d.help === undefined ? named : `${d.help} — and ${named}` };
    }
    return d;
  });
}

/** A regular file (not a pipe, a device or a folder) not under /dev or /proc. */
function isRegularFileOutsideSystem(absolute: string): boolean {
  if (/^\/(dev|proc)\//.test(absolute)) return false;
  try {
    return statSync(absolute).isFile();
  } catch {
    return false;
  }
}
