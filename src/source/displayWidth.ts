/**
 * How many terminal columns text takes, so a code frame's caret lines up under the text it
 * points at: a CJK character or an emoji takes two columns, a combining accent or a zero-width
 * character none, though each is one or two UTF-16 units (which is what columns count).
 *
 * Measured per grapheme (what a terminal draws as one character: `é` and its accents, an emoji
 * with its modifiers and joiners), by the East Asian Width of its first code point, as
 * terminals do. Small and local: the frame needs only this, not a dependency.
 */
const graphemes = new Intl.Segmenter(undefined, { granularity: "grapheme" });

/** Marks, format characters (zero-width space and joiners, the BOM) and controls: drawn on or between others. */
const ZERO_WIDTH = /^[\p{Mn}\p{Me}\p{Cf}\p{Cc}]/u;
/** Emoji drawn as pictures, and any emoji followed by the variation selector that asks for a picture. */
const WIDE_EMOJI = /^\p{Emoji_Presentation}|^\p{Extended_Pictographic}\uFE0F/u;

/** Code point ranges of East Asian Wide and Fullwidth characters (Unicode 15, UAX #11), sorted. */
const WIDE_RANGES: readonly (readonly [number, number])[] = [
  [0x1100, 0x115f], // Hangul Jamo initial consonants
  [0x231a, 0x231b],
  [0x2329, 0x232a],
  [0x2e80, 0x303e], // CJK radicals, Kangxi, ideographic description, CJK symbols and punctuation
  [0x3041, 0x33ff], // Hiragana, Katakana, Bopomofo, Hangul compatibility Jamo, Kanbun, CJK strokes, enclosed and compatibility
  [0x3400, 0x4dbf], // CJK extension A
  [0x4e00, 0x9fff], // CJK unified ideographs
  [0xa000, 0xa4cf], // Yi
  [0xa960, 0xa97f], // Hangul Jamo extended A
  [0xac00, 0xd7a3], // Hangul syllables
  [0xf900, 0xfaff], // CJK compatibility ideographs
  [0xfe10, 0xfe19], // vertical forms
  [0xfe30, 0xfe6f], // CJK compatibility forms, small form variants
  [0xff00, 0xff60], // fullwidth forms
  [0xffe0, 0xffe6],
  [0x16fe0, 0x16fe4],
  [0x17000, 0x18cff], // Tangut
  [0x1b000, 0x1b2ff], // Kana supplement and extensions, Nushu
  [0x1f200, 0x1f2ff], // enclosed ideographic supplement
  [0x20000, 0x2fffd], // CJK extensions B to F
  [0x30000, 0x3fffd], // CJK extension G and on
];

function isWide(codePoint: number): boolean {
  let lo = 0;
  let hi = WIDE_RANGES.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const [start, end] = WIDE_RANGES[mid]!;
    if (codePoint < start) hi = mid - 1;
    else if (codePoint > end) lo = mid + 1;
    else return true;
  }
  return false;
}

/** How many terminal columns one grapheme (a segment of `graphemesOf`) takes. */
export function graphemeWidth(grapheme: string): number {
  if (ZERO_WIDTH.test(grapheme)) return 0;
  if (WIDE_EMOJI.test(grapheme) || isWide(grapheme.codePointAt(0)!)) return 2;
  return 1;
}

/** The graphemes of `text`, as a terminal draws them, in order. */
export function* graphemesOf(text: string): Generator<string> {
  for (const { segment } of graphemes.segment(text)) yield segment;
}

/** The number of terminal columns `text` takes on one line. */
export function displayWidth(text: string): number {
  // Plain ASCII, nearly every line of a policy, is one column a character.
  if (/^[\x20-\x7e]*$/.test(text)) return text.length;
  let width = 0;
  for (const grapheme of graphemesOf(text)) width += graphemeWidth(grapheme);
  return width;
}
