import { ownEntry } from "../diagnostics/ownEntry.js";
import type * as A from "../ast/nodes.js";
import { diagnostic, type Diagnostic } from "../diagnostics/Diagnostic.js";
import { didYouMean } from "../diagnostics/suggest.js";
import { globMatch } from "../runtime/glob.js";
import type { Span } from "../source/Span.js";
import { RISK_LEVELS, STRING, ERROR, type RiskLevel, type Type } from "./types.js";

/** One attribute of a record, an entity or a tool's arguments. */
export interface FieldInfo {
  readonly name: string;
  readonly type: Type;
  readonly optional: boolean;
  readonly span: Span;
  readonly docs: readonly string[];
}

export interface RecordShape {
  readonly name: string;
  readonly fields: ReadonlyMap<string, FieldInfo>;
}

export interface EnumInfo {
  readonly name: string;
  readonly members: readonly string[];
  readonly decl: A.EnumDecl;
}

export interface ToolInfo {
  readonly name: string;
  readonly risk: RiskLevel;
  readonly returns: readonly string[];
  /** Empty when the tool declares no `args`. */
  readonly args: RecordShape;
  readonly decl: A.ToolDecl;
}

export interface IntentInfo {
  readonly name: string;
  readonly tools: readonly string[];
  readonly maxRisk: RiskLevel;
  readonly decl: A.IntentDecl;
}

/** Everything the declarations say about a request: the model the checker types rules against. */
export interface Schema {
  readonly enums: ReadonlyMap<string, EnumInfo>;
  readonly records: ReadonlyMap<string, RecordShape>;
  readonly entities: ReadonlyMap<A.EntityName, RecordShape>;
  readonly tools: ReadonlyMap<string, ToolInfo>;
  readonly intents: ReadonlyMap<string, IntentInfo>;
  /** The enum whose members `returns`, `context.labels` and `session.labels` use, if any. */
  readonly labelEnum?: string;
}

/** Other languages' names for the built-in types, which are too far from them for a did-you-mean. */
const TYPE_SYNONYMS: Readonly<Record<string, string>> = {
  integer: "did you mean `int`?",
  number: "did you mean `int`? numbers are whole",
  long: "did you mean `int`?",
  float: "numbers are whole: use `int` (or a `duration` for a length of time)",
  double: "numbers are whole: use `int` (or a `duration` for a length of time)",
  decimal: "numbers are whole: use `int`",
  str: "did you mean `string`?",
  text: "did you mean `string`?",
  datetime: "did you mean `time`?",
  timestamp: "did you mean `time`?",
  date: "did you mean `time`?",
  instant: "did you mean `time`?",
  timedelta: "did you mean `duration`?",
};

/** Type names the language defines; declarations may not reuse them. */
export const BUILTIN_TYPES: ReadonlySet<string> = new Set(["bool", "int", "string", "duration", "time", "Risk", "set", "list"]);

/** Which tools a pattern matches: `*`, `kb.*`, or an exact name. */
export function toolsMatching(pattern: string, tools: Iterable<string>): string[] {
  if (!pattern.includes("*")) {
    for (const name of tools) if (name === pattern) return [name];
    return [];
  }
  const matched: string[] = [];
  for (const name of tools) if (globMatch(pattern, name)) matched.push(name);
  return matched;
}

/**
 * Builds the schema from every declaration in the set. Problems in declarations (duplicates,
 * unknown types, risk levels or labels) are returned as diagnostics; the schema still gets
 * whatever could be understood so rules can be checked too.
 */
export function buildSchema(files: readonly A.PolicyFile[]): { schema: Schema; diagnostics: Diagnostic[]; typeUses: Set<string> } {
  const diagnostics: Diagnostic[] = [];
  const enums = new Map<string, EnumInfo>();
  const recordDecls = new Map<string, A.TypeDecl>();
  const entityDecls = new Map<A.EntityName, A.EntityDecl>();
  const toolDecls = new Map<string, A.ToolDecl>();
  const intentDecls = new Map<string, A.IntentDecl>();
  const policyNames = new Map<string, A.PolicyDecl>();
  /** Enum and record names used by any declaration (for the unused-declaration warning). */
  const typeUses = new Set<string>();

  const duplicate = (what: string, name: string, span: Span, first: Span, advice = "", owner?: string): void => {
    const { line, column } = first.file.position(first.start);
    // On the line of the repeat (`enum E { a, a }`), the line alone would not say which is first.
    const sameLine = first.file === span.file && span.file.position(span.start).line === line;
    const where = `${first.file.path}:${line}${sameLine ? `:${column}` : ""}`;
    diagnostics.push(diagnostic("PC200", `${what} \`${name}\`${owner === undefined ? "" : ` of \`${owner}\``} is declared more than once`, span, `the first declaration is at ${where}${advice}`, [{ span: first, message: "first declared here" }]));
  };

  for (const file of files) {
    for (const decl of file.declarations) {
      switch (decl.kind) {
        case "EnumDecl": {
          const name = decl.name.name;
          const previous = enums.get(name) ?? recordDecls.get(name);
          if (previous) duplicate("type", name, decl.name.span, "decl" in previous ? previous.decl.name.span : previous.name.span);
          else if (BUILTIN_TYPES.has(name)) diagnostics.push(diagnostic("PC200", `\`${name}\` is a built-in type and cannot be redeclared`, decl.name.span));
          else {
            const members = new Map<string, Span>();
            for (const member of decl.members) {
              const first = members.get(member.name.name);
              if (first) duplicate("enum member", member.name.name, member.span, first, "", name);
              else members.set(member.name.name, member.span);
            }
            enums.set(name, { name, members: [...members.keys()], decl });
          }
          break;
        }
        case "TypeDecl": {
          const name = decl.name.name;
          const previous = enums.get(name)?.decl ?? recordDecls.get(name);
          if (previous) duplicate("type", name, decl.name.span, previous.name.span);
          else if (BUILTIN_TYPES.has(name)) diagnostics.push(diagnostic("PC200", `\`${name}\` is a built-in type and cannot be redeclared`, decl.name.span));
          else recordDecls.set(name, decl);
          break;
        }
        case "EntityDecl": {
          const previous = entityDecls.get(decl.entity);
          if (previous) duplicate("block", decl.entity, decl.keywordSpan, previous.keywordSpan);
          else entityDecls.set(decl.entity, decl);
          break;
        }
        case "ToolDecl": {
          const previous = toolDecls.get(decl.name.text);
          if (previous) duplicate("tool", decl.name.text, decl.name.span, previous.name.span);
          else toolDecls.set(decl.name.text, decl);
          break;
        }
        case "IntentDecl": {
          const previous = intentDecls.get(decl.name.text);
          if (previous) duplicate("intent", decl.name.text, decl.name.span, previous.name.span);
          else intentDecls.set(decl.name.text, decl);
          break;
        }
        case "PolicyDecl": {
          const previous = policyNames.get(decl.name.name);
          // Splitting a set into files changes nothing, so people split one policy across two.
          if (previous) duplicate("policy", decl.name.name, decl.name.span, previous.name.span, "; a policy is one block: give this one a name of its own, or move its rules into the first");
          else policyNames.set(decl.name.name, decl);
          break;
        }
      }
    }
  }

  /** A declared type close to `name` first (`Date` for `date`), then another language's name for a built-in one. */
  const typeNameHelp = (name: string): string | undefined =>
    didYouMean(name, [...enums.keys(), ...recordDecls.keys()]) ?? ownEntry(TYPE_SYNONYMS, name.toLowerCase()) ?? didYouMean(name, BUILTIN_TYPES);
  /** The types there are, when no one is close to what was written (`map`). */
  const typesList = (): string => {
    const declared = [...enums.keys(), ...recordDecls.keys()];
    return `the types are ${[...BUILTIN_TYPES].filter((t) => t !== "set" && t !== "list").map((t) => `\`${t}\``).join(", ")}, \`set<T>\` and \`list<T>\`${declared.length === 0 ? "" : `, and the declared ${declared.slice(0, 10).map((t) => `\`${t}\``).join(", ")}${declared.length > 10 ? "…" : ""}`}`;
  };

  const resolveType = (ref: A.TypeRef): Type => {
    const name = ref.name.name;
    if (name === "set" || name === "list") {
      if (!ref.argument) {
        diagnostics.push(diagnostic("PC214", `\`${name}\` needs an element type`, ref.span, `write \`${name}<string>\``));
        return ERROR;
      }
      return { kind: name, element: resolveType(ref.argument) };
    }
    const type = namedType(name);
    if (type === undefined) {
      if (name === "") return ERROR;
      // `Set<string>`, `array<string>`: one mistake, the name; that it has a type argument is not
      // a second one (PC214), though the argument is still checked and counts as a use.
      if (ref.argument) resolveType(ref.argument);
      const listLike = ref.argument && /^(array|vec|vector|seq|sequence|slice)$/i.test(name) ? `write \`list<${typeText(ref.argument)}>\`` : undefined;
      diagnostics.push(diagnostic("PC201", `unknown type \`${name}\``, ref.name.span, () => typeNameHelp(name) ?? listLike ?? typesList()));
      return ERROR;
    }
    if (ref.argument) diagnostics.push(diagnostic("PC214", `\`${name}\` takes no type argument`, ref.argument.span));
    return type;
  };

  /** The type a declared or built-in name (other than `set` and `list`) stands for, or undefined. */
  const namedType = (name: string): Type | undefined => {
    switch (name) {
      case "bool":
      case "int":
      case "string":
      case "duration":
      case "time":
        return { kind: name };
      case "Risk":
        return { kind: "risk" };
    }
    if (enums.has(name)) {
      typeUses.add(name);
      return { kind: "enum", name };
    }
    if (recordDecls.has(name)) {
      typeUses.add(name);
      return { kind: "record", name };
    }
    return undefined;
  };

  const shape = (name: string, fields: readonly A.Field[]): RecordShape => {
    const map = new Map<string, FieldInfo>();
    for (const field of fields) {
      const first = map.get(field.name.name);
      if (first) {
        duplicate("attribute", field.name.name, field.name.span, first.span, "", name);
        continue;
      }
      map.set(field.name.name, { name: field.name.name, type: resolveType(field.type), optional: field.optional, span: field.span, docs: field.docs });
    }
    return { name, fields: map };
  };

  const records = new Map<string, RecordShape>();
  for (const [name, decl] of recordDecls) records.set(name, shape(name, decl.fields));
  const entities = new Map<A.EntityName, RecordShape>();
  for (const [name, decl] of entityDecls) entities.set(name, shape(name, decl.fields));

  // The label enum: the element type of `context.labels`, else an enum named `Label`.
  const labelsField = entities.get("context")?.fields.get("labels");
  let labelEnum: string | undefined;
  if (labelsField && (labelsField.type.kind === "set" || labelsField.type.kind === "list") && labelsField.type.element.kind === "enum") labelEnum = labelsField.type.element.name;
  else if (enums.has("Label")) labelEnum = "Label";
  if (labelEnum) typeUses.add(labelEnum);

  const riskLevel = (identifier: A.Identifier | undefined, fallback: RiskLevel): RiskLevel => {
    if (!identifier || identifier.name === "") return fallback;
    if ((RISK_LEVELS as readonly string[]).includes(identifier.name)) return identifier.name as RiskLevel;
    diagnostics.push(diagnostic("PC212", `unknown risk level \`${identifier.name}\``, identifier.span, didYouMean(identifier.name, RISK_LEVELS) ?? "risk levels are `low`, `medium`, `high`, `critical`"));
    return fallback;
  };

  const tools = new Map<string, ToolInfo>();
  for (const [name, decl] of toolDecls) {
    const returns: string[] = [];
    for (const label of decl.returns) {
      const members = labelEnum ? enums.get(labelEnum)!.members : undefined;
      if (members && !members.includes(label.name)) {
        diagnostics.push(diagnostic("PC213", `unknown label \`${label.name}\` in \`returns\``, label.span, () => didYouMean(label.name, members) ?? `labels are the members of \`${labelEnum}\``));
      } else returns.push(label.name);
    }
    tools.set(name, { name, risk: riskLevel(decl.risk, "medium"), returns, args: shape(`${name} args`, decl.args ?? []), decl });
  }

  const intents = new Map<string, IntentInfo>();
  for (const [name, decl] of intentDecls) {
    for (const pattern of decl.tools) checkPatternMatchesTools(pattern, tools.keys(), diagnostics);
    intents.set(name, { name, tools: decl.tools.map((p) => p.text), maxRisk: riskLevel(decl.maxRisk, "critical"), decl });
  }

  const schema: Schema = labelEnum ? { enums, records, entities, tools, intents, labelEnum } : { enums, records, entities, tools, intents };
  return { schema, diagnostics, typeUses };
}

/** PC203 for an exact tool name nobody declared, PC208 for a pattern that matches none. */
export function checkPatternMatchesTools(pattern: A.ToolPattern, tools: Iterable<string>, diagnostics: Diagnostic[]): string[] {
  const known = [...tools];
  const matched = toolsMatching(pattern.text, known);
  if (matched.length === 0 && pattern.text !== "") {
    if (pattern.text.includes("*")) diagnostics.push(diagnostic("PC208", `the pattern \`${pattern.text}\` matches no declared tool`, pattern.span, () => didYouMean(pattern.text, patternsLike(pattern.text, known))));
    else diagnostics.push(diagnostic("PC203", `unknown tool \`${pattern.text}\``, pattern.span, () => didYouMean(pattern.text, known)));
  }
  return matched;
}

/**
 * Patterns of the shape of `pattern` that match declared tools, for a did-you-mean (`kb.*` for
 * `kc.*`): each tool's name cut to the pattern's number of dots, with the pattern's `*` parts.
 */
function patternsLike(pattern: string, tools: readonly string[]): string[] {
  const parts = pattern.split(".");
  const like = new Set<string>();
  for (const tool of tools) {
    const names = tool.split(".");
    if (names.length < parts.length) continue;
    like.add(parts.map((part, i) => (part.includes("*") ? part : names[i])).join("."));
  }
  return [...like];
}

/** A type as written: `string`, `set<Zone>`. */
function typeText(ref: A.TypeRef): string {
  return ref.argument ? `${ref.name.name}<${typeText(ref.argument)}>` : ref.name.name;
}

/** The string type of labels when no label enum is declared. */
export function labelType(schema: Schema): Type {
  return schema.labelEnum ? { kind: "enum", name: schema.labelEnum } : STRING;
}
