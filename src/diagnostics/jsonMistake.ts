import { invisibleCharacterName } from "./printable.js";
import * as json from "./jsonCharacters.js";

// Module constants, not imported bindings read at each use: the reader compares every character of
// a line that can be 60 MB with them, and a transformed import (a test runner's) reads a namespace
// object at each use, five times slower.
const { BACKSLASH, COMMA, DIGIT_0, DIGIT_9, isJsonWhitespace, MINUS, OPEN_BRACE, OPEN_BRACKET, QUOTE, SPACE } = json;

/**
 * Where `text`, which JSON.parse refused, stops being JSON and what is wrong there, for a person:
 * "at line 2, column 10: unexpected `kb`" (or "at column C" in a one-line text, such as a recording's line; lines
 * counted from `firstLine`, for lines of a file joined from there). Found by reading `text`
 * again, because V8 gives a position for some mistakes only, and for the others quotes a piece of
 * the input (with its line breaks and mixed quotes) that must not reach the user (audit a1 F4).
 * Columns count UTF-16 code units, as diagnostics' do.
 */
export function jsonMistake(text: string, firstLine = 1): string {
  const oneLine = !text.trimEnd().includes("\n");
  const { offset, what } = firstJsonMistake(text, oneLine ? "line" : "text");
  const before = text.slice(0, offset);
  const column = offset - (before.lastIndexOf("\n") + 1) + 1;
  const place = oneLine ? `at column ${column}` : `at line ${firstLine - 1 + lineBreaks(before) + 1}, column ${column}`;
  return what === undefined ? place : `${place}: ${what}`;
}

interface Mistake {
  offset: number;
  /** Undefined when the reader itself failed: the place alone is said. */
  what?: string;
}

/** A mistake found while reading: thrown inside the reader only, and caught by firstJsonMistake. */
class Stop {
  constructor(readonly mistake: Mistake) {}
}

/** `]` and `}` come two code points after `[` and `{`. */
const CLOSE_AFTER_OPEN = 2;

/** Character codes, not a regex or `includes` per character: a bad line can be 60 MB (audit r1 F3). */
function isDigit(code: number): boolean {
  return code >= DIGIT_0 && code <= DIGIT_9;
}

function isHexDigit(code: number): boolean {
  return isDigit(code) || (code >= 0x41 && code <= 0x46) || (code >= 0x61 && code <= 0x66);
}

function lineBreaks(text: string): number {
  let count = 0;
  for (let at = text.indexOf("\n"); at >= 0; at = text.indexOf("\n", at + 1)) count++;
  return count;
}

/**
 * The first character of `text` where it stops being JSON (RFC 8259, as JSON.parse reads it),
 * and what is wrong there. Text that is JSON (never the case for the callers) gives its end.
 * Arrays and objects are read with a stack of the open ones, not by recursion, because JSON.parse
 * refuses `[[[…` of any depth and a recursive reader ran out of stack at about 5,600 levels
 * (audit r1 F1). Whatever else goes wrong in the reader gives the place it had reached, with
 * nothing said of it: a message about a request or recording line must never become a crash.
 */
function firstJsonMistake(text: string, textIs: "line" | "text"): Mistake {
  let at = 0;
  const fail = (what: string, offset = at): never => {
    throw new Stop({ offset, what });
  };
  const unexpected = (context = ""): never => (at >= text.length ? fail(`the ${textIs} ends before its JSON value does`) : fail(`unexpected ${describeCharacter(text, at)}${context}`));
  const skipSpace = (): void => {
    while (at < text.length && isJsonWhitespace(text.charCodeAt(at))) at++;
  };
  const digits = (): void => {
    if (!isDigit(text.charCodeAt(at))) unexpected();
    while (isDigit(text.charCodeAt(at))) at++;
  };
  const string = (): void => {
    if (text[at] !== '"') unexpected();
    at++;
    for (;;) {
      if (at >= text.length) fail(`the ${textIs} ends inside a string`);
      const code = text.charCodeAt(at);
      if (code === QUOTE) {
        at++;
        return;
      }
      if (code < SPACE) fail(`${describeCharacter(text, at)} inside a string: write it as an escape`);
      if (code === BACKSLASH) {
        const escape = text[at + 1] ?? "";
        if (escape !== "" && '"\\/bfnrt'.includes(escape)) at += 2;
        else if (escape === "u" && isHexDigit(text.charCodeAt(at + 2)) && isHexDigit(text.charCodeAt(at + 3)) && isHexDigit(text.charCodeAt(at + 4)) && isHexDigit(text.charCodeAt(at + 5))) at += 6;
        else fail(escape === "" ? `the ${textIs} ends inside a string` : `invalid escape \`\\${escape}\` in a string`);
        continue;
      }
      at++;
    }
  };
  /** A value that is not an array or object, at `at` (after space). */
  const scalar = (): void => {
    const code = text.charCodeAt(at);
    if (code === QUOTE) return string();
    const word = code === 0x74 ? "true" : code === 0x66 ? "false" : code === 0x6e ? "null" : undefined;
    if (word !== undefined && text.startsWith(word, at)) {
      at += word.length;
      return;
    }
    if (code === MINUS || isDigit(code)) {
      if (code === MINUS) at++;
      if (text.charCodeAt(at) === DIGIT_0) at++;
      else digits();
      if (text.charCodeAt(at) === 0x2e) {
        at++;
        digits();
      }
      const exponent = text.charCodeAt(at);
      if (exponent === 0x65 || exponent === 0x45) {
        at++;
        const sign = text.charCodeAt(at);
        if (sign === 0x2b || sign === MINUS) at++;
        digits();
      }
      return;
    }
    unexpected(text[at] === "'" ? " (JSON strings take double quotes)" : "");
  };
  /** `"name":` of an object's member, up to where its value starts. */
  const propertyName = (): void => {
    skipSpace();
    if (text[at] !== '"') unexpected(" where a property name in double quotes belongs");
    string();
    skipSpace();
    if (text[at] !== ":") unexpected(" where `:` belongs");
    at++;
  };
  try {
    // The character codes of the `[` and `{` open around `at`, innermost last.
    const open: number[] = [];
    let valueNext = true;
    for (;;) {
      if (valueNext) {
        skipSpace();
        const code = text.charCodeAt(at);
        if (code === OPEN_BRACKET || code === OPEN_BRACE) {
          at++;
          skipSpace();
          if (text.charCodeAt(at) === code + CLOSE_AFTER_OPEN) at++;
          else {
            open.push(code);
            if (code === OPEN_BRACE) propertyName();
            continue;
          }
        } else scalar();
        valueNext = false;
      }
      // After a value: the end of the text, or a separator or the close of the innermost container.
      skipSpace();
      if (open.length === 0) break;
      const innermost = open[open.length - 1]!;
      const code = text.charCodeAt(at);
      if (code === COMMA) {
        at++;
        if (innermost === OPEN_BRACE) propertyName();
        valueNext = true;
      } else if (code === innermost + CLOSE_AFTER_OPEN) {
        at++;
        open.pop();
      } else unexpected(` where \`,\` or \`${String.fromCharCode(innermost + CLOSE_AFTER_OPEN)}\` belongs`);
    }
    if (at < text.length) unexpected(" after the JSON value");
    return { offset: text.length, what: "unexpected end" };
  } catch (error) {
    if (error instanceof Stop) return error.mistake;
    return { offset: Math.min(at, text.length) };
  }
}

/**
 * The character at `offset` for a message: `:`, a backtick, or the code point of one that cannot
 * be seen; a letter as the word it starts (`kb`, `garbage`, `nul`), which is what a person wrote.
 */
function describeCharacter(text: string, offset: number): string {
  const word = /^[A-Za-z_$][\w$]*/.exec(text.slice(offset, offset + 40))?.[0];
  if (word !== undefined) return `\`${word}\``;
  const character = String.fromCodePoint(text.codePointAt(offset)!);
  if (character === "`") return "backtick";
  return invisibleCharacterName(character) ?? `\`${character}\``;
}
