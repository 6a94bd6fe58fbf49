export { SourceFile } from "./SourceFile.js";
export { type Span, joinSpans, formatLocation } from "./Span.js";
export { codeFrame } from "./codeFrame.js";
