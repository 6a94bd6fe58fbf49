/**
 * Text that came from a request (a tool name, a session id, an argument's key), made safe to
 * print on a terminal or in a line-based report: control characters, which could move the
 * cursor, recolour or retitle the terminal, or break a TAP line, and bidirectional controls,
 * which make a terminal show the text in another order than it is, are shown as escapes
 * (`\u001b`, `\u202e`), so the reader sees what was sent.
 */
export function printable(text: string): string {
  return text.replace(UNPRINTABLE, escapeCharacter);
}

/** The bidirectional controls (see BIDI_CONTROLS), as the inside of a regular expression's `[…]`. */
export const BIDI_CONTROL_CLASS = "\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069";

const UNPRINTABLE = new RegExp(`[\\u0000-\\u001f\\u007f-\\u009f\\u2028\\u2029${BIDI_CONTROL_CLASS}]`, "g");
const BIDI_CONTROL = new RegExp(`[${BIDI_CONTROL_CLASS}]`, "g");

/** `\u202e`: a character (of the Basic Multilingual Plane) as an escape. */
function escapeCharacter(character: string): string {
  return `\\u${character.charCodeAt(0).toString(16).padStart(4, "0")}`;
}

/** `text` with its bidirectional controls written as escapes (`\u202e`), which JSON and policy strings read back as the same text. */
export function escapeBidiControls(text: string): string {
  return text.replace(BIDI_CONTROL, escapeCharacter);
}

/**
 * Bidirectional controls: characters that reorder how the text around them is displayed, so a
 * reviewer can read `"support" // only contractors` in an editor while the checker reads one
 * string (the "Trojan Source" attack). Their Unicode names, lower case.
 */
export const BIDI_CONTROLS: ReadonlyMap<string, string> = new Map([
  ["\u061c", "arabic letter mark"],
  ["\u200e", "left-to-right mark"],
  ["\u200f", "right-to-left mark"],
  ["\u202a", "left-to-right embedding"],
  ["\u202b", "right-to-left embedding"],
  ["\u202c", "pop directional formatting"],
  ["\u202d", "left-to-right override"],
  ["\u202e", "right-to-left override"],
  ["\u2066", "left-to-right isolate"],
  ["\u2067", "right-to-left isolate"],
  ["\u2068", "first strong isolate"],
  ["\u2069", "pop directional isolate"],
]);

/** Characters that print as nothing or as an ordinary space, by their Unicode names, lower case. */
const INVISIBLE_NAMES: ReadonlyMap<string, string> = new Map([
  ["\u00a0", "no-break space"],
  ["\u00ad", "soft hyphen"],
  ["\u034f", "combining grapheme joiner"],
  ["\u180e", "mongolian vowel separator"],
  ["\u2000", "en quad"],
  ["\u2001", "em quad"],
  ["\u2002", "en space"],
  ["\u2003", "em space"],
  ["\u2004", "three-per-em space"],
  ["\u2005", "four-per-em space"],
  ["\u2006", "six-per-em space"],
  ["\u2007", "figure space"],
  ["\u2008", "punctuation space"],
  ["\u2009", "thin space"],
  ["\u200a", "hair space"],
  ["\u200b", "zero-width space"],
  ["\u200c", "zero-width non-joiner"],
  ["\u200d", "zero-width joiner"],
  ["\u2028", "line separator"],
  ["\u2029", "paragraph separator"],
  ["\u202f", "narrow no-break space"],
  ["\u205f", "medium mathematical space"],
  ["\u2060", "word joiner"],
  ["\u3000", "ideographic space"],
  ["\u3164", "hangul filler"],
  ["\ufeff", "zero-width no-break space"],
]);

/** `U+00A0`: a character's code point as Unicode writes it. */
export function codePoint(character: string): string {
  return `U+${character.codePointAt(0)!.toString(16).toUpperCase().padStart(4, "0")}`;
}

/**
 * A character a reader cannot see, or cannot tell from an ordinary space, named by its code point
 * (`U+00A0 (no-break space)`, `U+0007 (a control character)`); undefined for a visible one, which
 * is best shown as itself.
 */
export function invisibleCharacterName(character: string): string | undefined {
  const name = BIDI_CONTROLS.get(character) ?? INVISIBLE_NAMES.get(character);
  if (name !== undefined) return `${codePoint(character)} (${name})`;
  if (/\p{Cc}/u.test(character)) return `${codePoint(character)} (a control character)`;
  if (/\p{Cf}/u.test(character)) return `${codePoint(character)} (a format character)`;
  if (/\p{Z}/u.test(character)) return `${codePoint(character)} (a space character)`;
  if (/\p{M}/u.test(character)) return `${codePoint(character)} (a combining mark)`;
  return undefined;
}
