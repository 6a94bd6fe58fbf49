import { describeKind } from "../runtime/schema.js";
import { SourceFile } from "./SourceFile.js";

/**
 * The sources a library call was given, as source files. JavaScript callers have no compiler
 * to catch a wrong argument (one source not in an array, a Buffer for a text, a text left
 * undefined): it is a `TypeError` that names the argument and the kind of value given (never
 * its content), thrown at once, rather than an internal error from inside the parser.
 */
export function sourceFilesOf(sources: unknown): SourceFile[] {
  if (!Array.isArray(sources)) {
    const single = typeof sources === "object" && sources !== null && "text" in sources;
    throw new TypeError(`the sources must be an array of { path, text } objects, not ${describeKind(sources)}${single ? " (put one source in an array: [{ path, text }])" : ""}`);
  }
  return sources.map((source: unknown, index) => {
    if (source instanceof SourceFile) return source;
    if (typeof source !== "object" || source === null) throw new TypeError(`sources[${index}] must be a { path, text } object, not ${describeKind(source)}`);
    const { path, text } = source as { readonly path?: unknown; readonly text?: unknown };
    if (typeof path !== "string") throw new TypeError(`sources[${index}].path must be a string (the file's name in messages), not ${describeKind(path)}`);
    if (typeof text !== "string") throw new TypeError(`sources[${index}].text (${path}) must be a string, the policy text, not ${describeKind(text)}${ArrayBuffer.isView(text) ? ': read the file as text, readFileSync(path, "utf8")' : ""}`);
    return new SourceFile(path, text);
  });
}

/** `parse`'s and `format`'s arguments: a text and its path, or a source file (see `sourceFilesOf`). */
export function sourceFileOf(source: unknown, path: unknown): SourceFile {
  if (source instanceof SourceFile) return source;
  if (typeof path !== "string") throw new TypeError(`the path must be a string (the file's name in messages), not ${describeKind(path)}`);
  if (typeof source !== "string") throw new TypeError(`the policy text must be a string (or a SourceFile), not ${describeKind(source)}${ArrayBuffer.isView(source) ? ': read the file as text, readFileSync(path, "utf8")' : ""}`);
  return new SourceFile(path, source);
}
