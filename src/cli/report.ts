import { type Diagnostic } from "../diagnostics/Diagnostic.js";
import { counted, diagnosticToJson, renderDiagnostic, renderInputError, summarize, type DiagnosticJson } from "../diagnostics/render.js";
import { onStandardError, type Io } from "./io.js";
import type { InputError, LoadedPolicy } from "./loadEngine.js";
import { namedForWhatItIs } from "./wrongSlot.js";
import { printable } from "../diagnostics/printable.js";

/** Shown at most; the rest are counted in one closing line, so a broken file stays readable. */
export const DEFAULT_MAX_DIAGNOSTICS = 50;

/**
 * Prints diagnostics, human or JSON, capped; shared by every verb that reports them. The JSON
 * document's `ok` is false on errors, and on warnings too when they fail the run (`warningsFail`).
 */
export function reportDiagnostics(io: Io, found: readonly Diagnostic[], options: { json: boolean; max?: number; extra?: Record<string, unknown>; warningsFail?: boolean }): void {
  const diagnostics = namedForWhatItIs(found, io.cwd);
  const max = options.max ?? DEFAULT_MAX_DIAGNOSTICS;
  const shown = shownUnderCap(diagnostics, max);
  if (options.json) {
    const errors = diagnostics.filter((d) => d.severity === "error").length;
    const warnings = diagnostics.length - errors;
    io.out(JSON.stringify({ ...options.extra, ok: errors === 0 && !(options.warningsFail && warnings > 0), errors, warnings, diagnostics: diagnostics.map(diagnosticToJson) }, null, 2) + "\n");
    return;
  }
  for (const d of shown) io.out(renderDiagnostic(d, io.palette) + "\n\n");
  const shownSet = new Set(shown);
  const hidden = diagnostics.filter((d) => !shownSet.has(d));
  if (hidden.length > 0) io.out(`${io.palette.warning(`warning[PC503]`)}: ${hiddenNote(hidden)}\n\n`);
  if (diagnostics.length > 0) io.out(summarize(diagnostics) + "\n");
}

/** The diagnostics as `--json` lists them (and the CI reports read them), each named for what its file is, as every report names them. */
export function diagnosticsJson(io: Io, found: readonly Diagnostic[]): DiagnosticJson[] {
  return namedForWhatItIs(found, io.cwd).map(diagnosticToJson);
}

/**
 * At most `max` diagnostics, errors first, so a run that fails never shows only warnings (audit
 * a1 F1); warnings fill the slots errors leave. The ones kept stay in file and position order.
 */
function shownUnderCap(diagnostics: readonly Diagnostic[], max: number): Diagnostic[] {
  if (diagnostics.length <= max) return [...diagnostics];
  const errors = diagnostics.filter((d) => d.severity === "error").slice(0, max);
  const warnings = diagnostics.filter((d) => d.severity !== "error").slice(0, max - errors.length);
  const kept = new Set([...errors, ...warnings]);
  return diagnostics.filter((d) => kept.has(d));
}

/** The PC503 line: how many were not shown, and how many of those are errors and warnings. */
function hiddenNote(hidden: readonly Diagnostic[]): string {
  return `${counted(hidden.length, "more diagnostic")} not shown (${summarize(hidden)}); use --max-errors N to see more`;
}

/** A policy set that did not load, and why. */
export type NotLoaded = Extract<LoadedPolicy, { ok: false }>;

/**
 * A function for loadPolicy's `warn`: prints a bundle's warning (PC708, PC709) on standard error, as
 * `check` prints a warning's first line, at once: before any of the bundle's code runs.
 */
export function loadWarningPrinter(io: Io): (warning: InputError) => void {
  return (warning) => io.err(`${renderInputError(warning.place, warning.code, warning.message, io.errPalette, "warning")}\n`);
}

/**
 * What a verb notes of a policy set that loaded (a bundle's signature left unchecked), on
 * standard error, so standard output keeps the decision, report or JSON document it promises.
 */
export function reportLoadNote(verb: string, loaded: Extract<LoadedPolicy, { ok: true }>, io: Io): void {
  if (loaded.note !== undefined) io.err(`policyc ${verb}: note: ${loaded.note}\n`);
}

/**
 * Why the policy set did not load, for people: the message, and the diagnostics as `check`
 * prints them, on standard error, in every verb that loads policies to do something else with
 * them (standard output holds its decision, report or JSON document).
 */
export function reportNotLoaded(verb: string, failed: NotLoaded, io: Io, max?: number): void {
  if (failed.inputError !== undefined) io.err(`${renderInputError(failed.inputError.place, failed.inputError.code, failed.inputError.message, io.errPalette)}\n`);
  else if (failed.message) io.err(`policyc ${verb}: ${failed.message}\n`);
  if (failed.diagnostics.length > 0) reportDiagnostics(onStandardError(io), failed.diagnostics, { json: false, ...(max === undefined ? {} : { max }) });
}

/**
 * Why the policy set did not load, for a reader of `--json` (or a CI report): `ok: false`, the
 * reason in words, and the diagnostics as `check --json` lists them, so standard output still
 * holds the document it promises.
 */
export function notLoadedJson(failed: NotLoaded): { ok: false; reason: string; code?: string; errors: number; warnings: number; diagnostics: DiagnosticJson[] } {
  const errors = failed.diagnostics.filter((d) => d.severity === "error").length;
  const reason = failed.message ?? `the policy set did not load: ${summarize(failed.diagnostics)}`;
  return { ok: false, reason, ...(failed.inputError !== undefined ? { code: failed.inputError.code } : {}), errors, warnings: failed.diagnostics.length - errors, diagnostics: failed.diagnostics.map(diagnosticToJson) };
}

/** One side of a comparison (`policyc diff OLD NEW`) that did not load: its role and the path given. */
export interface SideNotLoaded {
  readonly side: "old" | "new";
  readonly path: string;
  readonly failed: NotLoaded;
}

/**
 * The one reason every side failed for, when it is no side's own (the public key cannot be
 * read): said once, not once per side.
 */
function sharedFailure(sides: readonly SideNotLoaded[]): string | undefined {
  const [first] = sides;
  const shared = sides.length > 1 && sides.every((side) => side.failed.diagnostics.length === 0 && side.failed.message !== undefined && side.failed.message === first!.failed.message);
  return shared ? first!.failed.message : undefined;
}

/** `OLD (policies/main)`: which side, and its path unless the reason names it already (a bundle refused, a path that is no policy). */
function sideName(side: SideNotLoaded): string {
  return side.failed.message === undefined ? `${side.side.toUpperCase()} (${side.path})` : side.side.toUpperCase();
}

/**
 * Every side that did not load, each under its role, so that a broken NEW is not hidden behind a
 * broken OLD (and a reader knows which of the two to fix): its reason, then its diagnostics.
 */
export function reportSidesNotLoaded(verb: string, sides: readonly SideNotLoaded[], io: Io, max?: number): void {
  const shared = sharedFailure(sides);
  if (shared !== undefined) {
    const coded = sides[0]!.failed.inputError;
    io.err(coded === undefined ? `policyc ${verb}: ${shared}\n` : `${renderInputError(coded.place, coded.code, coded.message, io.errPalette)}\n`);
    return;
  }
  for (const side of sides) {
    // A bundle or key refused with a code is said as every verb says it, `FILE: error[CODE]: …`, with its role.
    const coded = side.failed.inputError;
    if (coded !== undefined) io.err(`${renderInputError(coded.place, coded.code, `${side.side.toUpperCase()}: ${coded.message}`, io.errPalette)}\n`);
    else io.err(`policyc ${verb}: ${printable(sideName(side))}: ${notLoadedJson(side.failed).reason}
`);
    if (side.failed.diagnostics.length > 0) reportDiagnostics(onStandardError(io), side.failed.diagnostics, { json: false, ...(max === undefined ? {} : { max }) });
  }
}

/**
 * For `--json`: as notLoadedJson, of every side that did not load: `sides` lists them
 * (`"old"`, `"new"`), the reason names each, and each diagnostic says its `side`.
 */
export function sidesNotLoadedJson(sides: readonly SideNotLoaded[]): { ok: false; reason: string; code?: string; sides: ("old" | "new")[]; errors: number; warnings: number; diagnostics: (DiagnosticJson & { side: "old" | "new" })[] } {
  const each = sides.map((side) => ({ side, json: notLoadedJson(side.failed) }));
  // The code of the refusal, when every side that failed was refused with the same one.
  const codes = new Set(each.map(({ json }) => json.code));
  const [code] = codes;
  return {
    ok: false,
    reason: sharedFailure(sides) ?? each.map(({ side, json }) => `${sideName(side)}: ${json.reason}`).join("; "),
    ...(codes.size === 1 && code !== undefined ? { code } : {}),
    sides: sides.map((side) => side.side),
    errors: each.reduce((sum, { json }) => sum + json.errors, 0),
    warnings: each.reduce((sum, { json }) => sum + json.warnings, 0),
    diagnostics: each.flatMap(({ side, json }) => json.diagnostics.map((diagnostic) => ({ side: side.side, ...diagnostic }))),
  };
}
