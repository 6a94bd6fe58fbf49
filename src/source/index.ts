export { SourceFile } from "./SourceFile.js";
export { type Span, joinSpans, formatLocation } from "./Span.js";
export { codeFrame } from "./codeFrame.js";
export { loadSources, decodeSource, expandPolicyPaths, displayPath, describeFsError, MAX_FILE_BYTES, type LoadedSources } from "./loadSources.js";
