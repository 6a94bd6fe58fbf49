import { invisibleCharacterName } from "./printable.js";

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
  return `${oneLine ? `at column ${column}` : `at line ${firstLine - 1 + before.split("\n").length}, column ${column}`}: ${what}`;
}

interface Mistake {
  offset: number;
  what: string;
}

/** A mistake found while reading: thrown inside the reader only, and caught by firstJsonMistake. */
class Stop {
  constructor(readonly mistake: Mistake) {}
}

/**
 * The first character of `text` where it stops being JSON (RFC 8259, as JSON.parse reads it),
 * and what is wrong there. Text that is JSON (never the case for the callers) gives its end.
 */
function firstJsonMistake(text: string, textIs: "line" | "text"): Mistake {
  let at = 0;
  const fail = (what: string, offset = at): never => {
    throw new Stop({ offset, what });
  };
  const unexpected = (context = ""): never => (at >= text.length ? fail(`the ${textIs} ends before its JSON value does`) : fail(`unexpected ${describeCharacter(text, at)}${context}`));
  const skipSpace = (): void => {
    while (at < text.length && " \t\n\r".includes(text[at]!)) at++;
  };
  const expect = (character: string): void => {
    if (text[at] !== character) unexpected();
    at++;
  };
  const digits = (): void => {
    if (!/[0-9]/.test(text[at] ?? "")) unexpected();
    while (/[0-9]/.test(text[at] ?? "")) at++;
  };
  const string = (): void => {
    expect('"');
    for (;;) {
      if (at >= text.length) fail(`the ${textIs} ends inside a string`);
      const character = text[at]!;
      if (character === '"') {
        at++;
        return;
      }
      if (character < " ") fail(`${describeCharacter(text, at)} inside a string: write it as an escape`);
      if (character === "\\") {
        const escape = text[at + 1] ?? "";
        if ('"\\/bfnrt'.includes(escape) && escape !== "") at += 2;
        else if (escape === "u" && /^[0-9a-fA-F]{4}$/.test(text.slice(at + 2, at + 6))) at += 6;
        else fail(escape === "" ? `the ${textIs} ends inside a string` : `invalid escape \`\\${escape === "u" ? "u" : escape}\` in a string`);
        continue;
      }
      at++;
    }
  };
  const value = (): void => {
    skipSpace();
    const character = text[at];
    if (character === "{") {
      at++;
      skipSpace();
      if (text[at] === "}") {
        at++;
        return;
      }
      for (;;) {
        skipSpace();
        if (text[at] !== '"') unexpected(" where a property name in double quotes belongs");
        string();
        skipSpace();
        if (text[at] !== ":") unexpected(" where `:` belongs");
        at++;
        value();
        skipSpace();
        if (text[at] === ",") at++;
        else if (text[at] === "}") {
          at++;
          return;
        } else unexpected(" where `,` or `}` belongs");
      }
    }
    if (character === "[") {
      at++;
      skipSpace();
      if (text[at] === "]") {
        at++;
        return;
      }
      for (;;) {
        value();
        skipSpace();
        if (text[at] === ",") at++;
        else if (text[at] === "]") {
          at++;
          return;
        } else unexpected(" where `,` or `]` belongs");
      }
    }
    if (character === '"') return string();
    for (const word of ["true", "false", "null"]) {
      if (!text.startsWith(word, at)) continue;
      at += word.length;
      return;
    }
    if (character === "-" || /[0-9]/.test(character ?? "")) {
      if (text[at] === "-") at++;
      if (text[at] === "0") at++;
      else digits();
      if (text[at] === ".") {
        at++;
        digits();
      }
      if (text[at] === "e" || text[at] === "E") {
        at++;
        if (text[at] === "+" || text[at] === "-") at++;
        digits();
      }
      return;
    }
    unexpected(character === "'" ? " (JSON strings take double quotes)" : "");
  };
  try {
    value();
    skipSpace();
    if (at < text.length) unexpected(" after the JSON value");
    return { offset: text.length, what: "unexpected end" };
  } catch (error) {
    if (error instanceof Stop) return error.mistake;
    throw error;
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
