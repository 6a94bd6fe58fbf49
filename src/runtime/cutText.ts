/**
 * The first `length` UTF-16 units of `text`, one fewer when the cut would fall between the two
 * halves of a character beyond U+FFFF (an emoji): a shown value never ends in half a character,
 * which a terminal draws as `�` and JSON writes as `\ud83d`, neither of them in the input.
 */
export function headOf(text: string, length: number): string {
  if (text.length <= length) return text;
  return text.slice(0, isHighSurrogate(text.charCodeAt(length - 1)) ? length - 1 : length);
}

/** The last `length` UTF-16 units of `text`, one fewer when the cut would split a surrogate pair (see headOf). */
export function tailOf(text: string, length: number): string {
  if (text.length <= length) return text;
  const from = text.length - length;
  return text.slice(isHighSurrogate(text.charCodeAt(from - 1)) ? from + 1 : from);
}

function isHighSurrogate(unit: number): boolean {
  return unit >= 0xd800 && unit <= 0xdbff;
}
