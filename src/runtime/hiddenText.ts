/**
 * Characters a reader cannot see or cannot tell from an ordinary space, for the text of reasons
 * (which reach logs and the person approving an ask) and of the CLI's reports (printable, which
 * builds on these and also keeps the few such characters that are drawn where they stand).
 * Here, in the runtime, which imports nothing from the compiler or the CLI.
 */

/** The bidirectional controls, as the inside of a regular expression's `[…]`. */
export const BIDI_CONTROL_CLASS = "\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069";

/** Letters and marks drawn as nothing (the Hangul fillers, the combining grapheme joiner, the blank Braille pattern), as the inside of a `[…]`. */
export const DRAWN_BLANK_CLASS = "\\u034f\\u115f\\u1160\\u2800\\u3164\\uffa0";

/**
 * The source of a regular expression (flags `gu`) for one character that prints as nothing or
 * as an ordinary space, or that a terminal acts on: control and format characters, space
 * separators but the ordinary space, the letters and marks that are drawn blank, the other
 * characters Unicode says to draw as nothing when not supported (Default_Ignorable_Code_Point:
 * the variation selectors, the tags, U+2065…), noncharacters (U+FFFE, U+FFFF, U+10FFFF…) and
 * private-use characters (U+E000…, drawn as whatever a font puts there, if anything). Not the
 * format characters that are drawn, as signs spanning the digits after them (U+0600…, the
 * prepended concatenation marks of Arabic, Syriac and Kaithi).
 */
export const HIDDEN_CHARACTER_SOURCE = `(?![ \\u0600-\\u0605\\u06dd\\u070f\\u0890\\u0891\\u08e2\\u{110bd}\\u{110cd}])[\\p{Cc}\\p{Cf}\\p{Z}\\p{Default_Ignorable_Code_Point}\\p{Noncharacter_Code_Point}\\p{Co}${DRAWN_BLANK_CLASS}]`;

const HIDDEN_CHARACTER = new RegExp(HIDDEN_CHARACTER_SOURCE, "gu");

/** `\u202e`: a character as JSON and policy strings escape it (one beyond the Basic Multilingual Plane as its two halves: `\udb40\udc41`). */
export function escapeCharacter(character: string): string {
  let escaped = "";
  for (let i = 0; i < character.length; i++) escaped += `\\u${character.charCodeAt(i).toString(16).padStart(4, "0")}`;
  return escaped;
}

/**
 * `text` as a JSON string with every hidden character (HIDDEN_CHARACTER_SOURCE) written as an
 * escape: `"p\u200bii"` reads as what was sent, not as `"pii"`, and a right-to-left override
 * cannot reorder the log line the reason is written into. (A joiner inside an emoji is escaped
 * too: a reason is for finding out what was sent, not for drawing it.)
 */
export function quotedVisibly(text: string): string {
  const quoted = JSON.stringify(withoutUrlPasswords(text));
  // Printable ASCII holds no hidden character (the ordinary space is not one): most text is
  // that, and is spared the Unicode-property scan on the refusal path.
  return PRINTABLE_ASCII.test(quoted) ? quoted : quoted.replace(HIDDEN_CHARACTER, escapeCharacter);
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/**
 * `text` with the password of every URL's user information shown as `***`
 * (`https://deploy:***@db.example/`): errors and explanations quote request values, and reach
 * the audit log, whoever approves an ask and CI output, none of which should hold a credential
 * (audit s20 a2 L1). The user name stays: it says which account the URL would use.
 */
export function withoutUrlPasswords(text: string): string {
  return text.includes("://") ? text.replace(URL_PASSWORD, "$1:***@") : text;
}

/** A scheme, `//`, a user name and `:`, then the password up to the last `@` before the path. */
const URL_PASSWORD = /([a-z][a-z0-9+.-]*:\/\/[^/?#@:\s]*):[^/?#\s]*@/gi;
