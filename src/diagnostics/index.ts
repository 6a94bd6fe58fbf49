export { CODES, type Code, type CodeInfo, type Severity } from "./codes.js";
export { type Diagnostic, diagnostic, pathDiagnostic, hasErrors, sortDiagnostics } from "./Diagnostic.js";
export { closestName, didYouMean } from "./suggest.js";
export { type Palette, plainPalette, renderDiagnostic, diagnosticLocation, summarize, diagnosticToJson, type DiagnosticJson } from "./render.js";
