import type { SourceFile } from "./SourceFile.js";

/** A half-open range of offsets [start, end) in one source file. Every AST node has one. */
export interface Span {
  readonly file: SourceFile;
  readonly start: number;
  readonly end: number;
}

/** The span that covers both `a` and `b` (same file). */
export function joinSpans(a: Span, b: Span): Span {
  return { file: a.file, start: Math.min(a.start, b.start), end: Math.max(a.end, b.end) };
}

/** A human-readable `path:line:col` for a span's start. */
export function formatLocation(span: Span): string {
  const { line, column } = span.file.position(span.start);
  return `${span.file.path}:${line}:${column}`;
}
