import type * as A from "../../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../../diagnostics/Diagnostic.js";
import type { Span } from "../../source/Span.js";
import { withinOneEdit } from "../../diagnostics/suggest.js";
import { suppressionProblem } from "../suppressions.js";

/**
 * Control characters (C0, DEL, C1, and the line and paragraph separators): refused in rule and
 * control ids, which go, as they are, into decisions, decision logs, test reports and CI logs,
 * where a line break could start a line of its own (a forged `::error` annotation).
 */
const CONTROL_CHARACTER = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;
const ID_CARRIED = "ids are printed in decisions, logs and CI reports, one per line: write it on one line of visible characters";

/** The annotations the language gives a meaning; every other key is free metadata. */
const KNOWN_ANNOTATIONS = ["name", "controls", "suppress"] as const;

/** What a lookalike of each known annotation silently fails to do. */
const LOST_MEANING: Readonly<Record<(typeof KNOWN_ANNOTATIONS)[number], (name: string) => string>> = {
  name: (name) => `does not set the rule's id, which is \`${name}\``,
  controls: () => "its ids are not counted among the rule's controls",
  suppress: () => "hides no warning",
};

/**
 * Keys other languages give a rule's id (Cedar's `@id`), lower-cased: here they are metadata, and
 * the rule keeps its default id, which tests and coverage then name, unless it has a `@name`.
 * `@title` and `@description` describe a rule rather than name it, and stay metadata.
 */
const ID_KEYS: ReadonlySet<string> = new Set(["id", "rule", "ruleid", "rule_id"]);

/** Clauses people write as annotations by mistake, with how the clause is really written. */
const CLAUSES: Readonly<Record<string, string>> = {
  reason: 'write the clause after the targets, as in `deny email.send reason "…"`',
  grant: 'write the clause after the targets, as in `allow kb.search grant "kb:read" for 5m`',
  revoke: "write `revoke` as the last clause of a `deny` rule",
  when: "write the condition after the targets, as in `deny email.send when …`",
  unless: "write the clause after the targets (and after `when`), as in `deny email.send unless …`",
};

/**
 * `@name` takes exactly one non-empty string; `@controls` one or more non-empty strings;
 * `@suppress` one or more codes of warnings (what it hides is applied after every check, in
 * suppressions.ts); other annotations take strings. An unknown key is metadata, but one a single edit away from a known
 * annotation (`@Name`, `@nmae`), another language's id key on a rule without `@name` (`@id`), or
 * a clause keyword itself (`@reason`), is almost always a mistake that silently drops the rule's
 * id, controls or reason: warn (PC504).
 * Returns the rule's explicit name, if it has a valid one.
 */
export function checkAnnotations(rule: A.Rule, defaultId: string, diagnostics: Diagnostic[]): string | undefined {
  let name: string | undefined;
  // Each key given, at its first annotation (a repeat's diagnostic points there too).
  const seen = new Map<string, Span>();
  // The rule's control ids so far, across its `@controls` (the lists add up), each where it is first named.
  const controlIds = new Map<string, Span>();
  const lookalikes: { annotation: A.Annotation; meant: string }[] = [];
  for (const annotation of rule.annotations) {
    const key = annotation.name.name;
    const earlier = seen.get(key);
    if (earlier !== undefined && key !== "controls" && key !== "suppress") diagnostics.push(diagnostic("PC109", `\`@${key}\` is given twice on this rule`, annotation.span, undefined, [{ span: earlier, message: "first given here" }]));
    if (earlier === undefined) seen.set(key, annotation.span);
    const meant = lookalikeOf(key);
    if (meant !== undefined) lookalikes.push({ annotation, meant });
    const nonString = annotation.args.find((a) => a.kind !== "StringLiteral");
    // `@name` is said one way whatever is wrong with its argument (a number, none, two, an empty string).
    if (nonString && key !== "name") {
      diagnostics.push(diagnostic("PC109", `\`@${key}\` takes strings, as in \`@${key}("…")\``, nonString.span));
      continue;
    }
    if (key === "name") {
      const value = annotation.args[0];
      if (annotation.args.length !== 1 || value?.kind !== "StringLiteral" || value.value.trim() === "") {
        diagnostics.push(diagnostic("PC109", "`@name` takes exactly one non-empty string", nonString?.span ?? annotation.span, `write the rule's id in quotes, as in \`@name(${JSON.stringify(idLike(rule))})\``));
      } else if (CONTROL_CHARACTER.test(value.value)) {
        diagnostics.push(diagnostic("PC109", "a rule id cannot hold a control character (a line break, a tab, an escape)", value.span, ID_CARRIED));
      } else name = value.value;
    } else if (key === "controls") {
      if (annotation.args.length === 0) diagnostics.push(diagnostic("PC109", "`@controls` needs at least one control id", annotation.span, 'write `@controls("OWASP-ASI03")`'));
      // A control id names a framework control; an empty one maps the rule to nothing.
      for (const id of annotation.args) {
        if (id.kind === "StringLiteral" && id.value.trim() === "") diagnostics.push(diagnostic("PC109", "a control id must not be empty", id.span, 'write `@controls("OWASP-ASI03")`'));
        else if (id.kind === "StringLiteral" && CONTROL_CHARACTER.test(id.value)) diagnostics.push(diagnostic("PC109", "a control id cannot hold a control character (a line break, a tab, an escape)", id.span, ID_CARRIED));
        // A repeat maps the rule to nothing more, and is most often a copy where another control was meant.
        else if (id.kind === "StringLiteral" && controlIds.has(id.value)) diagnostics.push(diagnostic("PC522", `\`@controls\` names ${JSON.stringify(id.value)} twice on this rule`, id.span, "remove the repeat, or write the control that was meant: a control a rule implements is listed once", [{ span: controlIds.get(id.value)!, message: "first named here" }]));
        if (id.kind === "StringLiteral" && !controlIds.has(id.value)) controlIds.set(id.value, id.span);
      }
    } else if (key === "suppress") {
      if (annotation.args.length === 0) diagnostics.push(diagnostic("PC109", "`@suppress` needs at least one warning code", annotation.span, 'write `@suppress("PC511")`, with the code of the warning this rule is known to get'));
      for (const code of annotation.args) {
        const problem = code.kind === "StringLiteral" ? suppressionProblem(code.value) : undefined;
        if (problem !== undefined) diagnostics.push(diagnostic("PC109", problem.message, code.span, problem.help));
      }
    }
  }
  for (const { annotation, meant } of lookalikes) {
    const key = annotation.name.name;
    // With a `@name` as well, an `@id` is deliberate metadata (a ticket's or another system's id).
    if (ID_KEYS.has(key.toLowerCase()) && seen.has("name")) continue;
    // `@Name`, the key with its `@`, without the arguments.
    const span = { file: annotation.span.file, start: annotation.span.start, end: annotation.name.span.end };
    if (meant === "name" || meant === "controls" || meant === "suppress") {
      const value = annotation.args[0]?.kind === "StringLiteral" ? annotation.args[0].value : "kb-read";
      const because = key.toLowerCase() === meant ? " annotation keys are case-sensitive" : ID_KEYS.has(key.toLowerCase()) ? ` a rule's id is given with \`@name(${JSON.stringify(value)})\`` : "";
      const help = `did you mean \`@${meant}\`?${because}`;
      const effect = LOST_MEANING[meant](name ?? defaultId);
      diagnostics.push(diagnostic("PC504", `\`@${key}\` is not \`@${meant}\`: it is kept as metadata and ${effect}`, span, help));
    } else {
      const help = key === meant ? CLAUSES[meant]! : `did you mean the \`${meant}\` clause? ${CLAUSES[meant]!}`;
      diagnostics.push(diagnostic("PC504", `\`@${key}\` is kept as metadata: it is not the rule's \`${meant}\` clause`, span, help));
    }
  }
  return name;
}

/** The known annotation or clause `key` is probably a mistyping of, if any. */
function lookalikeOf(key: string): string | undefined {
  if ((KNOWN_ANNOTATIONS as readonly string[]).includes(key)) return undefined;
  const lower = key.toLowerCase();
  // One edit only: looser matching would flag real metadata keys (`@note` is two from `@name`).
  for (const candidate of KNOWN_ANNOTATIONS) if (withinOneEdit(lower, candidate)) return candidate;
  if (ID_KEYS.has(lower)) return "name";
  // A clause word itself is a mistake too (`@reason("…")` gives the rule no reason), but words
  // near one are ordinary metadata keys: `@revoked("2024-01-10")`, `@grants("…")`, `@then`.
  for (const candidate of Object.keys(CLAUSES)) if (lower === candidate) return candidate;
  return undefined;
}

/** An id made of what the rule does (`allow-kb-search`), for the example of `@name`'s help: about this rule, not another. */
function idLike(rule: A.Rule): string {
  const target = rule.targets[0]?.text.replace(/\*/g, "all").replace(/[^A-Za-z0-9]+/g, "-").replace(/^-|-$/g, "");
  return target ? `${rule.effect}-${target}` : `${rule.effect}-rule`;
}
