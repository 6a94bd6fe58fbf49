import { DRAWN_BLANK_CLASS, escapeCharacter, HIDDEN_CHARACTER_SOURCE } from "../runtime/hiddenText.js";

/**
 * Text that came from a request or a policy (a tool name, a session id, an argument's value, a
 * string of a condition), made safe to print on a terminal or in a line-based report: control
 * characters, which could move the cursor, recolour or retitle the terminal, or break a TAP line;
 * bidirectional controls, which make a terminal show the text in another order than it is; and
 * characters a reader cannot see or cannot tell from an ordinary space (a no-break space, a
 * zero-width space: see hiddenCharactersIn) are shown as escapes (`\u001b`, `\u202e`, `\u00a0`),
 * so the reader sees what was sent, and `"rm\u00a0-rf"` does not read as `"rm -rf"`. And `##[`,
 * which the GitHub Actions runner reads as a command anywhere in a log line (`##[error]…`, its
 * older syntax), is shown as `#\u0023[`, the escape of its second `#`: a file name, rule id or
 * reason such as `y##[error]p.policy` cannot forge an annotation in a CI log. Nor can text that
 * starts with `::` (a workflow command, when a report puts the text first on its line, as the
 * coverage table does a rule id): its first colon is shown as `\u003a`.
 */
export function printable(text: string): string {
  return withoutLogCommand(escapeHidden(text));
}

/**
 * Text of several lines for people (an explanation), each line as printable shows it and the
 * line breaks kept: what the text reports show line by line, in one string.
 */
export function printableLines(text: string): string {
  return text.split("\n").map(printable).join("\n");
}

/**
 * `text` with every `##[` (a GitHub Actions command anywhere in a log line) written `#\u0023[`,
 * and a `::` that starts any of its lines (after any spaces, which the runner trims) written
 * `\u003a:`, as printable shows it.
 */
export function withoutLogCommand(text: string): string {
  return withoutInlineLogCommand(text).replace(/^([^\S\n]*)::/gm, "$1\\u003a:");
}

/** `text` with every `##[` written `#\u0023[`: for text that never starts a line (a code frame's, after its gutter). */
export function withoutInlineLogCommand(text: string): string {
  return text.replace(/##\[/g, "#\\u0023[");
}

/**
 * The hidden characters of `text` as escapes, as printable shows them, but `##[` as it is: for
 * text that is read back (the policy-language spelling of a string), not only shown.
 */
export function escapeHidden(text: string): string {
  return text.replace(HIDDEN, (character, offset: number) => (isPartOfVisibleText(text, offset, character) ? character : escapeCharacter(character)));
}

/**
 * `value` as JSON for a file people review in a diff (what `test --update` writes into a
 * recording): the same value as JSON.stringify's, with the characters printable escapes (a
 * bidirectional control, which reorders the diff's line; U+2028, which an editor offers to
 * "fix"; a zero-width space) written as `\uXXXX` escapes.
 */
export function reviewableJson(value: unknown): string {
  return escapeHidden(JSON.stringify(value));
}

// The classes of hidden characters are the runtime's, whose reasons escape the same ones.
export { BIDI_CONTROL_CLASS, DRAWN_BLANK_CLASS, escapeCharacter } from "../runtime/hiddenText.js";

/**
 * Characters that print as nothing or as an ordinary space, or that a terminal acts on: the
 * runtime's (HIDDEN_CHARACTER_SOURCE, which its reasons escape). A variation selector drawn as
 * part of its base (`❤️`) is told apart by isPartOfVisibleText, as are the other few drawn where they stand.
 */
const HIDDEN = new RegExp(HIDDEN_CHARACTER_SOURCE, "gu");

/**
 * Scripts that write a zero-width joiner or non-joiner inside a word to choose how its letters
 * join (Persian `می‌خواهم`, a Devanagari half form): there, one is part of the text as it is
 * drawn, not something hidden in it.
 */
const JOINING_SCRIPT_LETTER = /[\p{scx=Arabic}\p{scx=Syriac}\p{scx=Nko}\p{scx=Mongolian}\p{scx=Devanagari}\p{scx=Bengali}\p{scx=Gurmukhi}\p{scx=Gujarati}\p{scx=Oriya}\p{scx=Tamil}\p{scx=Telugu}\p{scx=Kannada}\p{scx=Malayalam}\p{scx=Sinhala}\p{scx=Khmer}\p{scx=Myanmar}]$/u;
const LETTER_OR_MARK = /^[\p{L}\p{M}]/u;
/** What an emoji ZWJ sequence holds before a joiner (`👩🏽‍💻`, `❤️‍🔥`) and after it. */
const EMOJI_BEFORE_JOINER = /[\p{Extended_Pictographic}\p{Emoji_Modifier}\ufe0f]$/u;
const EMOJI_AFTER_JOINER = /^\p{Extended_Pictographic}/u;
/**
 * What a variation selector is drawn with. Unicode defines the sequences a selector draws in
 * (StandardizedVariants.txt, emoji-variation-sequences.txt and the ideographic variation
 * database): the text or emoji style of an emoji (U+FE0E, U+FE0F after `❤`, or after the `#`,
 * `*` or digit a keycap is drawn on, `1️⃣`, with or without the keycap), a glyph variant of a CJK ideograph (any selector: U+FE00… and the ideographic
 * U+E0100…), a Mongolian letter's form (U+180B…), and VS1–VS16 (U+FE00–U+FE0F) after letters
 * and symbols of many scripts (Myanmar `က︀`, Phags-pa, Manichaean, mathematical `≩︀`, Egyptian
 * hieroglyphs…) and after the digit `0` (`0︀`, its slashed form). Rather than a table of those
 * hundreds of bases, which grows with each Unicode version, VS1–VS16 counts as drawn after any
 * letter, digit, symbol or punctuation that is not ASCII and not itself drawn blank: of ASCII,
 * only `0` (U+FE00) and a keycap's `#`, `*` or digit have a sequence, so a selector after an
 * ASCII letter (after the `m` of `"rm\ufe0f -rf"`) changes nothing that is drawn: it hides, as
 * does one at a string's start, after a space, a control, a mark or another selector.
 */
const EMOJI_STYLE_SELECTOR = /^[\ufe0e\ufe0f]/u;
const EMOJI_BEFORE_SELECTOR = /[\p{Extended_Pictographic}\p{Emoji_Presentation}]$/u;
const KEYCAP_BEFORE_SELECTOR = /[#*0-9]$/u;
const IDEOGRAPH_BEFORE_SELECTOR = /\p{Ideographic}$/u;
/** A Mongolian letter (not a free variation selector, also of the Mongolian script: a second one after a first draws nothing). */
const MONGOLIAN_LETTER_BEFORE_SELECTOR = /\p{L}(?<=\p{scx=Mongolian})$/u;
const MONGOLIAN_SELECTOR = /^[\u180b-\u180d\u180f]/u;
const SELECTOR_1_TO_16 = /^[\ufe00-\ufe0f]/u;
const NON_ASCII_BASE_BEFORE_SELECTOR = new RegExp(`(?![\\p{ASCII}${DRAWN_BLANK_CLASS}])[\\p{L}\\p{N}\\p{S}\\p{P}]$`, "u");
const VARIATION_SELECTOR = /^\p{Variation_Selector}$/u;

/** A subdivision flag (🏴 and tag letters to a cancel tag: Scotland's), from its black flag to where a tag stands. */
const FLAG_BEFORE_TAG = /\u{1f3f4}[\u{e0020}-\u{e007e}]*$/u;
const FLAG_FROM_TAG = /^[\u{e0020}-\u{e007e}]*\u{e007f}/u;

/**
 * Whether the hidden character at `offset` of `text` belongs to what is drawn: a zero-width
 * joiner between emoji (`👨‍👩‍👧` is one picture), a joiner or non-joiner inside a word of a script
 * that uses them, or the tags of a subdivision flag. Anywhere else it hides in the text.
 */
function isPartOfVisibleText(text: string, offset: number, character: string): boolean {
  const before = text.slice(Math.max(0, offset - 16), offset);
  const after = text.slice(offset + character.length, offset + character.length + 16);
  if (character === "\u200d" && EMOJI_BEFORE_JOINER.test(before) && EMOJI_AFTER_JOINER.test(after)) return true;
  if ((character === "\u200c" || character === "\u200d") && JOINING_SCRIPT_LETTER.test(before) && LETTER_OR_MARK.test(after)) return true;
  if (VARIATION_SELECTOR.test(character)) return isDrawnSelector(before, character);
  const tag = character.codePointAt(0)!;
  if (tag >= 0xe0020 && tag <= 0xe007f) return FLAG_BEFORE_TAG.test(text.slice(Math.max(0, offset - 32), offset)) && FLAG_FROM_TAG.test(text.slice(offset, offset + 32));
  return false;
}

/** Whether the variation selector `selector`, after `before`, chooses how the character before it is drawn (see EMOJI_STYLE_SELECTOR). */
function isDrawnSelector(before: string, selector: string): boolean {
  if (IDEOGRAPH_BEFORE_SELECTOR.test(before)) return true;
  if (MONGOLIAN_SELECTOR.test(selector)) return MONGOLIAN_LETTER_BEFORE_SELECTOR.test(before);
  if (EMOJI_STYLE_SELECTOR.test(selector) && (EMOJI_BEFORE_SELECTOR.test(before) || KEYCAP_BEFORE_SELECTOR.test(before))) return true;
  if (!SELECTOR_1_TO_16.test(selector)) return false;
  return NON_ASCII_BASE_BEFORE_SELECTOR.test(before) || (selector === "\ufe00" && before.endsWith("0"));
}

/**
 * The characters of `text` a reader cannot see or cannot tell from an ordinary space, with their
 * offsets: what printable escapes, but the control characters a policy string cannot hold raw
 * (U+0000–U+001F, PC105) and the bidirectional controls (PC112), which are errors of their own.
 */
export function hiddenCharactersIn(text: string): { offset: number; character: string }[] {
  return [...text.matchAll(HIDDEN)].filter((match) => isHiddenKind(match[0]) && !isPartOfVisibleText(text, match.index, match[0])).map((match) => ({ offset: match.index, character: match[0] }));
}

/**
 * `text` as a reader sees it: without the characters that are not drawn where they stand (those
 * hiddenCharactersIn reports, and the controls; a joiner between emoji, a selector drawn with its
 * base and a flag's tags are part of what is drawn and stay), with each space separator (a
 * no-break space, U+3000…) read as an ordinary space, and in Unicode's composed form (NFC), so a
 * decomposed `e` and accent reads as `é`. Two texts equal so look alike, whatever their bytes.
 */
export function lookAlikeForm(text: string): string {
  return asSeen(text, { spacesAsSpace: true, withoutHidden: true, composed: true });
}

/**
 * How two texts that differ but look alike (lookAlikeForm) differ, for a message, each named by
 * its label: `space characters`, `characters that are not drawn`, `Unicode normalization:
 * expected is NFC, actual NFD`, or several; undefined when they are equal or do not look alike.
 * A way counts when the texts still differ with every other way of looking alike applied.
 */
export function lookAlikeDifference(first: string, second: string, [firstLabel, secondLabel]: readonly [string, string]): string | undefined {
  if (first === second || lookAlikeForm(first) !== lookAlikeForm(second)) return undefined;
  const differBut = (way: Partial<SeenAs>): boolean => {
    const seenAs = { spacesAsSpace: true, withoutHidden: true, composed: true, ...way };
    return asSeen(first, seenAs) !== asSeen(second, seenAs);
  };
  const ways = [differBut({ spacesAsSpace: false }) ? "space characters" : undefined, differBut({ withoutHidden: false }) ? "characters that are not drawn" : undefined].filter((way) => way !== undefined);
  if (!differBut({ composed: false })) return ways.length === 0 ? "characters that are not drawn" : ways.join(" and ");
  const forms = `Unicode normalization: ${firstLabel} is ${normalizationForm(first)}, ${secondLabel} ${normalizationForm(second)}`;
  return ways.length === 0 ? forms : `${ways.join(" and ")} and in ${forms}`;
}

/** Which ways of looking alike asSeen applies. */
interface SeenAs {
  spacesAsSpace: boolean;
  withoutHidden: boolean;
  composed: boolean;
}

const SPACE_SEPARATOR = /^\p{Zs}$/u;

/** `text` with each space separator written as a space, the characters hidden where they stand removed, and composed (NFC): each as `seenAs` says. */
function asSeen(text: string, seenAs: SeenAs): string {
  const seen = text.replace(HIDDEN, (character, offset: number) => {
    if (SPACE_SEPARATOR.test(character)) return seenAs.spacesAsSpace ? " " : character;
    return seenAs.withoutHidden && !isPartOfVisibleText(text, offset, character) ? "" : character;
  });
  return seenAs.composed ? seen.normalize("NFC") : seen;
}

/** `NFC` (composed: `é` one character), `NFD` (decomposed: `e` and a combining accent), or `mixed`. */
function normalizationForm(text: string): string {
  if (text === text.normalize("NFC")) return "NFC";
  return text === text.normalize("NFD") ? "NFD" : "mixed";
}

/**
 * Whether `text` holds a character of a kind hiddenCharactersIn reports, wherever it stands:
 * also a joiner or tag that is part of what is drawn here (`👩‍💻`), since next to a neighbour
 * written as an escape (`"\ud83d\udc69‍💻"` with the joiner raw) the same character is reported.
 */
export function holdsHiddenKind(text: string): boolean {
  return [...text.matchAll(HIDDEN)].some((match) => isHiddenKind(match[0]));
}

/** Of the characters HIDDEN matches, those neither a control character a string cannot hold raw (PC105) nor a bidirectional control (PC112). */
function isHiddenKind(character: string): boolean {
  return character >= "\u0020" && !BIDI_CONTROLS.has(character);
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
  ["\u115f", "hangul choseong filler"],
  ["\u1160", "hangul jungseong filler"],
  ["\u2800", "braille pattern blank"],
  ["\u3164", "hangul filler"],
  ["\uffa0", "halfwidth hangul filler"],
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
  const codePointValue = character.codePointAt(0)!;
  if (codePointValue >= 0xe0000 && codePointValue <= 0xe007f) return `${codePoint(character)} (a tag character)`;
  if (VARIATION_SELECTOR.test(character)) return `${codePoint(character)} (a variation selector)`;
  if (/\p{Cf}/u.test(character)) return `${codePoint(character)} (a format character)`;
  if (/\p{Z}/u.test(character)) return `${codePoint(character)} (a space character)`;
  if (/\p{M}/u.test(character)) return `${codePoint(character)} (a combining mark)`;
  if (/\p{Noncharacter_Code_Point}/u.test(character)) return `${codePoint(character)} (a noncharacter)`;
  if (/\p{Co}/u.test(character)) return `${codePoint(character)} (a private-use character)`;
  if (/\p{Default_Ignorable_Code_Point}/u.test(character)) return `${codePoint(character)} (a character drawn as nothing)`;
  return undefined;
}
