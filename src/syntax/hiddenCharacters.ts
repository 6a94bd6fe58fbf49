import type { IToken } from "chevrotain";
import { diagnostic, type Diagnostic } from "../diagnostics/Diagnostic.js";
import { listed } from "../diagnostics/suggest.js";
import { BIDI_CONTROL_CLASS, BIDI_CONTROLS, codePoint, DRAWN_BLANK_CLASS, escapeCharacter, hiddenCharactersIn, invisibleCharacterName, printable } from "../diagnostics/printable.js";
import type { SourceFile } from "../source/SourceFile.js";
import * as T from "./tokens.js";

/**
 * Characters a reviewer cannot see. Policy source is read by people before it is trusted, so
 * what the checker reads must be what they see:
 *
 * - a bidirectional control (U+202E…) in a string or a comment makes an editor or a code review
 *   show the text around it in another order than the checker reads it ("Trojan Source",
 *   CVE-2021-42574): an error, PC112, as rustc makes it by default;
 * - an invisible or space-like character where no token can start (a no-break space pasted from
 *   a web page, a zero-width space) is PC100, named by its code point: shown as itself it would
 *   be a blank between backticks;
 * - inside a string, such a character is allowed (a deliberate one is written as an escape,
 *   `\u00a0`, which reads back as the same string), but one typed raw is PC510, a warning: a
 *   `deny … when args.cmd.startsWith("rm -rf")` whose space was pasted as U+00A0 looks right in
 *   every editor and review, and never matches.
 */

const BIDI_CONTROL = new RegExp(`[${BIDI_CONTROL_CLASS}]`, "g");
const DRAWN_BLANK = new RegExp(`[${DRAWN_BLANK_CLASS}]`);

/** Whether `text` holds a bidirectional control. */
export function hasBidiControl(text: string): boolean {
  return text.search(BIDI_CONTROL) >= 0;
}

/** What a token that can hold any character is, in a message. */
function holderOf(token: IToken): string {
  switch (token.tokenType) {
    case T.StringLiteral:
    case T.UnterminatedString:
    case T.SingleQuotedString:
    case T.BacktickQuotedString:
    case T.CurlyQuotedString:
      return "string";
    case T.DocComment:
      return "doc comment";
    default:
      return "comment";
  }
}

/**
 * PC112 for each string and comment that holds a bidirectional control, at the first one, naming
 * each; and for each run of them outside any token (where the lexer found no token: `runs`).
 */
export function bidiControlDiagnostics(file: SourceFile, holders: readonly IToken[], runs: readonly { offset: number; length: number }[]): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const token of holders) {
    if (!hasBidiControl(token.image)) continue;
    const controls = [...new Set(token.image.match(BIDI_CONTROL))];
    const first = token.startOffset + token.image.search(BIDI_CONTROL);
    const holder = holderOf(token);
    const which = controls.length === 1 ? `${describe(controls[0]!)}, a bidirectional control character that` : `the bidirectional control characters ${listed(controls.map(describe))}, which`;
    const escape = `\\u${controls[0]!.charCodeAt(0).toString(16).padStart(4, "0")}`;
    const help = holder === "string" ? `remove ${controls.length === 1 ? "it" : "them"}; to put one in a string on purpose, write it as an escape, such as \`${escape}\`` : `remove ${controls.length === 1 ? "it" : "them"}`;
    found.push(diagnostic("PC112", `this ${holder} holds ${which} can make the code display in another order than it is read`, { file, start: first, end: first + 1 }, help));
  }
  for (const run of runs) {
    const text = file.text.slice(run.offset, run.offset + run.length);
    const at = text.search(BIDI_CONTROL);
    if (at < 0) continue;
    const start = run.offset + at;
    found.push(diagnostic("PC112", `unexpected ${describe(file.text[start]!)}, a bidirectional control character that can make the code display in another order than it is read`, { file, start, end: start + 1 }, "remove it"));
  }
  return found;
}

/** How many characters PC510 names; a run of tag characters (hidden text) can hold dozens. */
const MAX_NAMED = 3;
/** Longest string PC510's help shows written with escapes; a longer one gets the escape alone. */
const SHOWN_STRING_LENGTH = 60;

/**
 * PC510 for each string that holds a character a reader cannot see or cannot tell from an
 * ordinary space (hiddenCharactersIn), at the first one, naming each, with the string written
 * with escapes as what to write when it is meant.
 */
export function hiddenInStringDiagnostics(file: SourceFile, strings: readonly IToken[]): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const token of strings) {
    const hidden = hiddenCharactersIn(token.image);
    if (hidden.length === 0) continue;
    const characters = [...new Set(hidden.map((h) => h.character))];
    const named = characters.slice(0, MAX_NAMED).map((c) => invisibleCharacterName(c)!);
    const others = characters.length - named.length;
    const names = listed(others > 0 ? [...named, `${others} other${others === 1 ? "" : "s"}`] : named);
    const one = characters.length === 1;
    const spaces = characters.filter((c) => /\p{Zs}/u.test(c)).length;
    const [looks, instead] =
      spaces === characters.length
        ? [one ? "which looks like an ordinary space but is not one" : "which look like ordinary spaces but are not", "type an ordinary space instead"]
        : spaces === 0
          ? ["which cannot be seen", `delete ${one ? "it" : "them"}`]
          : ["which cannot be seen or told from an ordinary space", "type an ordinary space or delete them"];
    const escaped = printable(token.image);
    const meant = escaped.length <= SHOWN_STRING_LENGTH ? `write the string as \`${escaped}\`` : `write ${one ? "it" : "each"} as an escape, such as \`${escapeCharacter(characters[0]!)}\``;
    const start = token.startOffset + hidden[0]!.offset;
    found.push(diagnostic("PC510", `this string holds ${names}, ${looks}`, { file, start, end: start + hidden[0]!.character.length }, `${instead}; if you mean ${one ? "it" : "them"}, ${meant}`));
  }
  return found;
}

function describe(control: string): string {
  return `${codePoint(control)} (${BIDI_CONTROLS.get(control)})`;
}

/**
 * The message and help of PC100 for a run of characters no token starts with, when its first
 * character cannot be seen: named by its code point, with what to write instead. Undefined for a
 * visible character, which the message shows as itself.
 */
export function invisibleCharacterMessage(run: string): { message: string; help?: string } | undefined {
  const first = String.fromCodePoint(run.codePointAt(0)!);
  const name = invisibleCharacterName(first);
  if (name === undefined) return undefined;
  const message = `unexpected character ${name}`;
  if (first === "\u2028" || first === "\u2029") return { message, help: "use an ordinary line break" };
  if (/\p{Zs}/u.test(first)) return { message, help: "use an ordinary space" };
  if (/\p{Cf}|\p{Cc}/u.test(first) || DRAWN_BLANK.test(first)) return { message, help: "delete it: it cannot be seen, and probably came in with pasted text" };
  return { message };
}
