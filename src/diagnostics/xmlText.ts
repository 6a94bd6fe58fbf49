import { escapeCharacter } from "./printable.js";

/**
 * Text content: a character XML 1.0 cannot hold, even as a reference (the controls but tab, LF
 * and CR, lone surrogates, U+FFFE and U+FFFF), is shown as its escape (`\u0001`), as the other
 * reporters show it, never dropped unseen; so are DEL and the C1 controls (U+0080 to U+009F: U+009B
 * is a terminal's one-character CSI, `\u009b31m` recolours as ESC `[31m` does), which XML holds
 * but a terminal that shows the file would act on. `&`, `<`, `>` and `"` are escaped.
 */
export function xmlText(text: string): string {
  return escapeForXml(text.replace(/[\u007f-\u009f]/g, escapeCharacter));
}

/** `text` with what XML 1.0 cannot hold shown as escapes, and `&`, `<`, `>` and `"` escaped. */
function escapeForXml(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[^\u0009\u000a\u000d\u0020-\ud7ff\ue000-\ufffd\u{10000}-\u{10ffff}]/gu, escapeCharacter).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/**
 * An attribute value (the `file` attribute is the real path): as text, but with tabs and line
 * ends as references, which attribute normalisation would turn into spaces, and DEL and U+0080
 * to U+009F as references too, which read back as the characters, so none reaches a terminal
 * that shows the file raw.
 */
export function xmlAttribute(text: string): string {
  // eslint-disable-next-line no-control-regex
  return escapeForXml(text).replace(/[\t\n\r\u007f-\u009f]/g, (character) => `&#${character.charCodeAt(0)};`);
}
