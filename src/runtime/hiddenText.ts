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
  const quoted = JSON.stringify(withoutUrlCredentials(text));
  // Printable ASCII holds no hidden character (the ordinary space is not one): most text is
  // that, and is spared the Unicode-property scan on the refusal path.
  return PRINTABLE_ASCII.test(quoted) ? quoted : quoted.replace(HIDDEN_CHARACTER, escapeCharacter);
}

const PRINTABLE_ASCII = /^[\x20-\x7e]*$/;

/** `text` with every hidden character (HIDDEN_CHARACTER_SOURCE) written as an escape, unquoted: for text that is not a value (an error's message). */
export function visibly(text: string): string {
  return PRINTABLE_ASCII.test(text) ? text : text.replace(HIDDEN_CHARACTER, escapeCharacter);
}

/**
 * `text` with the user information of every URL shown as `***` (`https://***@db.example/`):
 * errors and explanations quote request values, and reach the audit log, whoever approves an
 * ask and CI output, none of which should hold a credential (audit s20 a2 L1). All of it, not
 * only a password: a token is as often the user name (`https://ghp_…@github.com/`), and where
 * the name ends is not clear once it holds `@`, `:` or spaces. It is what URL parsers read as
 * user information: after `scheme:` and any run of `/` or `\` (none for http, https, ws, wss
 * and ftp), up to the last `@` before the first `/`, `\`, `?` or `#`, spaces included.
 *
 * `cut`: `text` is the head of a longer value, so a URL whose authority runs to its end may have
 * its `@` past it: all of that authority is shown as `***` (no start of a password shows).
 * Masking is for messages only; nothing decides on it. Linear in `text`'s length: each
 * authority is scanned once, whatever the number of URL starts inside it (the agent chooses
 * the text, and this runs on the decision path).
 */
export function withoutUrlCredentials(text: string, cut = false): string {
  if (!text.includes(":") || (!cut && !text.includes("@"))) return text;
  let shown = "";
  let from = 0;
  // The authority scanned last: where it ends (the first `/`, `\`, `?` or `#`, or the end of
  // `text`), and its last `@`.
  let authorityEnd = -1;
  let lastAt = -1;
  for (const start of text.matchAll(URL_START)) {
    const begins = start.index + start[0].length;
    if (start.index < from) continue;
    if (begins > authorityEnd) {
      authorityEnd = begins;
      lastAt = -1;
      for (; authorityEnd < text.length; authorityEnd++) {
        const code = text.charCodeAt(authorityEnd);
        if (code === SLASH || code === BACKSLASH || code === QUESTION_MARK || code === HASH) break;
        if (code === AT_SIGN) lastAt = authorityEnd;
      }
    }
    const unfinished = cut && authorityEnd === text.length;
    if (unfinished && begins < text.length) {
      shown += `${text.slice(from, begins)}***`;
      from = text.length;
      break;
    }
    if (lastAt > begins) {
      shown += `${text.slice(from, begins)}***`;
      from = lastAt;
    }
  }
  return from === 0 ? text : shown + text.slice(from);
}

/**
 * Where a URL starts: a scheme (at most 32 characters, not inside a longer run of scheme
 * characters, which keeps the search linear), `:` and the slashes or backslashes after it.
 */
const URL_START = /(?<![a-z0-9+.-])(?:(?:https?|wss?|ftp):[/\\]*|[a-z][a-z0-9+.-]{0,31}:[/\\]+)/gi;

const SLASH = 0x2f;
const BACKSLASH = 0x5c;
const QUESTION_MARK = 0x3f;
const HASH = 0x23;
const AT_SIGN = 0x40;

/** How far past what is shown of a value its credentials are looked for before the cut. */
export const CREDENTIAL_MARGIN = 200;

/**
 * The first `length` characters of `value` that a message may show, with URL credentials
 * masked (withoutUrlCredentials): masked within a head `CREDENTIAL_MARGIN` longer, not the whole
 * value (a megabyte costs what 280 characters do), and one that runs past that head shown as
 * `***`. The result may be longer than `length` (a short user name becomes `***`): the caller cuts.
 */
export function maskedHead(value: string, length: number): string {
  return value.length > length + CREDENTIAL_MARGIN ? withoutUrlCredentials(value.slice(0, length + CREDENTIAL_MARGIN), true) : withoutUrlCredentials(value);
}
