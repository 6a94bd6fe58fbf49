import { type Diagnostic } from "../diagnostics/Diagnostic.js";
import { CODES } from "../diagnostics/codes.js";
import { diagnosticToJson, renderDiagnostic, summarize, type DiagnosticJson } from "../diagnostics/render.js";
import { onStandardError, type Io } from "./io.js";
import type { LoadedPolicy } from "./loadEngine.js";
import { namedForWhatItIs } from "./wrongSlot.js";

/** Shown at most; the rest are counted in one closing line, so a broken file stays readable. */
export const DEFAULT_MAX_DIAGNOSTICS = 50;

/**
 * Prints diagnostics, human or JSON, capped; shared by every verb that reports them. The JSON
 * document's `ok` is false on errors, and on warnings too when they fail the run (`warningsFail`).
 */
export function reportDiagnostics(io: Io, found: readonly Diagnostic[], options: { json: boolean; max?: number; extra?: Record<string, unknown>; warningsFail?: boolean }): void {
  const diagnostics = namedForWhatItIs(found);
  const max = options.max ?? DEFAULT_MAX_DIAGNOSTICS;
  const shown = diagnostics.slice(0, max);
  const hidden = diagnostics.length - shown.length;
  if (options.json) {
    const errors = diagnostics.filter((d) => d.severity === "error").length;
    const warnings = diagnostics.length - errors;
    io.out(JSON.stringify({ ...options.extra, ok: errors === 0 && !(options.warningsFail && warnings > 0), errors, warnings, diagnostics: diagnostics.map(diagnosticToJson) }, null, 2) + "\n");
    return;
  }
  for (const d of shown) io.out(renderDiagnostic(d, io.palette) + "\n\n");
  if (hidden > 0) io.out(`${io.palette.warning(`warning[PC503]`)}: ${CODES.PC503.title}: ${hidden} more not shown (use --max-errors to see more)\n\n`);
  if (diagnostics.length > 0) io.out(summarize(diagnostics) + "\n");
}

/** A policy set that did not load, and why. */
export type NotLoaded = Extract<LoadedPolicy, { ok: false }>;

/**
 * Why the policy set did not load, for people: the message, and the diagnostics as `check`
 * prints them, on standard error, in every verb that loads policies to do something else with
 * them (standard output holds its decision, report or JSON document).
 */
export function reportNotLoaded(verb: string, failed: NotLoaded, io: Io, max?: number): void {
  if (failed.message) io.err(`policyc ${verb}: ${failed.message}\n`);
  if (failed.diagnostics.length > 0) reportDiagnostics(onStandardError(io), failed.diagnostics, { json: false, ...(max === undefined ? {} : { max }) });
}

/**
 * Why the policy set did not load, for a reader of `--json` (or a CI report): `ok: false`, the
 * reason in words, and the diagnostics as `check --json` lists them, so standard output still
 * holds the document it promises.
 */
export function notLoadedJson(failed: NotLoaded): { ok: false; reason: string; errors: number; warnings: number; diagnostics: DiagnosticJson[] } {
  const errors = failed.diagnostics.filter((d) => d.severity === "error").length;
  const reason = failed.message ?? `the policy set did not load: ${summarize(failed.diagnostics)}`;
  return { ok: false, reason, errors, warnings: failed.diagnostics.length - errors, diagnostics: failed.diagnostics.map(diagnosticToJson) };
}
