import type { IToken } from "chevrotain";
import type { SourceFile } from "../source/SourceFile.js";
import type { Span } from "../source/Span.js";

/** The span of a token; of the end of the file for the parser's end-of-input token, which has no offsets. */
export function tokenSpan(file: SourceFile, token: IToken): Span {
  if (!Number.isFinite(token.startOffset)) return { file, start: file.text.length, end: file.text.length };
  return { file, start: token.startOffset, end: (token.endOffset ?? token.startOffset) + 1 };
}
