import { Project, StructureKind, Writers, type CodeBlockWriter, type OptionalKind, type PropertySignatureStructure, type TypeAliasDeclarationStructure, type WriterFunction } from "ts-morph";
import type * as A from "../ast/nodes.js";
import type { FieldsJson, RuntimeSchema, TypeJson } from "../runtime/schema.js";
import { MAX_SESSION_ID_LENGTH } from "../runtime/session.js";
import { generatedHeader } from "./generatedHeader.js";
import { TypeNames } from "./typeScriptNames.js";

/** A declaration's `///` text and its fields' (or members'), by name. */
export interface Documented {
  readonly docs: string;
  readonly parts: ReadonlyMap<string, string>;
}

/** The policy set's doc comments on what the module declares (the bundle's schema has none). */
export interface PolicyDocs {
  readonly enums: ReadonlyMap<string, Documented>;
  readonly records: ReadonlyMap<string, Documented>;
  readonly entities: ReadonlyMap<A.EntityName, Documented>;
  readonly tools: ReadonlyMap<string, Documented>;
  readonly intents: ReadonlyMap<string, string>;
}

/** Collects the doc comments of the declarations in a checked set (where each is declared once). */
export function policyDocs(files: readonly A.PolicyFile[]): PolicyDocs {
  const docs = { enums: new Map<string, Documented>(), records: new Map<string, Documented>(), entities: new Map<A.EntityName, Documented>(), tools: new Map<string, Documented>(), intents: new Map<string, string>() };
  const text = (lines: readonly string[]): string => lines.join("\n");
  const of = (decl: { readonly docs: readonly string[] }, parts: readonly { readonly name: A.Identifier; readonly docs: readonly string[] }[]): Documented => ({
    docs: text(decl.docs),
    parts: new Map(parts.map((part) => [part.name.name, text(part.docs)])),
  });
  for (const decl of files.flatMap((file) => file.declarations)) {
    if (decl.kind === "EnumDecl") docs.enums.set(decl.name.name, of(decl, decl.members));
    else if (decl.kind === "TypeDecl") docs.records.set(decl.name.name, of(decl, decl.fields));
    else if (decl.kind === "EntityDecl") docs.entities.set(decl.entity, of(decl, decl.fields));
    else if (decl.kind === "ToolDecl") docs.tools.set(decl.name.text, of(decl, decl.args ?? []));
    else if (decl.kind === "IntentDecl") docs.intents.set(decl.name.text, text(decl.docs));
  }
  return docs;
}

const NO_DOCS: Documented = { docs: "", parts: new Map() };

/**
 * What an optional field may hold for "absent" besides leaving it out: the engine takes `null`
 * and `undefined` as absent (language.md section 5.8), and `undefined` spelled out lets a
 * project under `exactOptionalPropertyTypes` pass its own optional values on (`cc: input.cc`).
 */
const ABSENT = " | null | undefined";

/** An object without fields (see `objectType` in `emitTypeScript`). */
const NO_FIELDS = "{ readonly [key: string]: never }";

/** The type of the values a set or list holds, through nested ones (`list<list<int>>` holds ints); any other type itself. */
function elementsOf(type: TypeJson): TypeJson {
  return typeof type !== "string" && ("set" in type || "list" in type) ? elementsOf("set" in type ? type.set : type.list) : type;
}

/**
 * What a request carries for an int, a duration or a time (docs/language.md, section 3.1), by
 * the field's type, or that of the elements of its sets and lists, however nested (the engine
 * checks them all alike): TypeScript's `number` says nothing of the fractions and unsafe
 * integers the engine denies, nor of the unit of a duration.
 */
function unitNote(type: TypeJson): string | undefined {
  const inner = elementsOf(type);
  const element = inner === type ? undefined : inner;
  if (type === "int") return "An int: a whole number from -(2^53 - 1) to 2^53 - 1 (`Number.isSafeInteger`).";
  if (element === "int") return "Ints: whole numbers from -(2^53 - 1) to 2^53 - 1 (`Number.isSafeInteger`).";
  if (type === "duration") return "A duration: a whole number of milliseconds from 0 to 2^53 - 1 (`7200000` is two hours).";
  if (type === "time") return "A time: an RFC 3339 string (`2026-01-01T09:00:00Z`).";
  if (element === "duration") return "Durations: whole numbers of milliseconds from 0 to 2^53 - 1 (`7200000` is two hours).";
  if (element === "time") return "Times: RFC 3339 strings (`2026-01-01T09:00:00Z`).";
  return undefined;
}

/**
 * The members TypeScript gives every object type (its `Object` interface, lib.es5.d.ts): an
 * optional field of one of these names is taken as present, with the member's type, in any
 * value that leaves it out, which is then refused. No type can say "absent, or a number" for
 * such a name, so the field's JSDoc (and `build`, in a note) say how to leave it out. The
 * other names `Object.prototype` has (`__proto__`, `__defineGetter__`…) TypeScript does not declare.
 */
const OBJECT_MEMBERS: ReadonlySet<string> = new Set(["constructor", "toString", "toLocaleString", "valueOf", "hasOwnProperty", "isPrototypeOf", "propertyIsEnumerable"]);

/** Why a field of this name needs care in TypeScript, if it does (see OBJECT_MEMBERS; `__proto__`). */
function inheritedNameNote(name: string, optional: boolean): string | undefined {
  if (optional && OBJECT_MEMBERS.has(name)) {
    return `Every TypeScript object has a \`${name}\` (from \`Object\`), so a value that leaves this field out does not compile: write \`"${name}": null\` (or \`undefined\`) instead, which the engine takes as absent.`;
  }
  if (name === "__proto__") {
    return 'In an object literal, write this key computed, `["__proto__"]: …`: `__proto__: …` or `"__proto__": …` sets the object\'s prototype instead, and the engine finds the field missing. Parsed JSON holds it as a field.';
  }
  return undefined;
}

/**
 * The optional fields whose values TypeScript cannot leave out (see OBJECT_MEMBERS), as
 * `build --target ts` names them in a note: `context.toString`, `args.constructor of email.send`,
 * `Package.valueOf`.
 */
export function fieldsNamedLikeObjectMembers(schema: RuntimeSchema): string[] {
  const named = (fields: FieldsJson | undefined, where: (name: string) => string): string[] =>
    Object.entries(fields ?? {})
      .filter(([name, field]) => field.optional && OBJECT_MEMBERS.has(name))
      .map(([name]) => where(name));
  return [
    ...(["agent", "user", "context"] as const).flatMap((entity) => named(schema.entities[entity], (name) => `${entity}.${name}`)),
    ...Object.entries(schema.records).flatMap(([record, fields]) => named(fields, (name) => `${record}.${name}`)),
    ...Object.entries(schema.tools).flatMap(([tool, { args }]) => named(args, (name) => `args.${name} of ${tool}`)),
  ];
}

/**
 * One JSDoc text from paragraphs (the empty ones left out); none when all are empty. A star
 * followed by a slash in a doc comment would end the JSDoc early, so a backslash goes between.
 * An `@` that starts a word (after a space or a line break, even in backquotes) starts a JSDoc
 * tag: prose such as "ask @security" would cut the description short there, and "@deprecated"
 * would mark the type deprecated. A backslash before it keeps it text (Markdown shows `@`).
 */
function jsDoc(...paragraphs: (string | undefined)[]): string[] {
  const text = paragraphs.filter((p): p is string => p !== undefined && p.trim() !== "").join("\n\n");
  return text === "" ? [] : [text.replaceAll("*/", "*\\/").replace(/(^|\s)@/g, "$1\\@")];
}

/**
 * `context.labels` when the `context` block does not declare `labels` but the engine reads it
 * (language.md section 3.7, cases 2 and 3): the labels a request sends join `session.labels` as
 * taint for later calls, but only when the policy reads `session.labels` (the bundle's
 * `session.labels`); otherwise the engine keeps no labels and the field would promise taint
 * that is thrown away. A type without the field would have tool authors delete the labels to
 * make their code compile, and the deny that their taint would trigger never fire. Strings,
 * as the engine takes any; the label enum (`Label`), when there is one, is joined with
 * `string & {}` rather than `string`, which would absorb it: editors then still suggest its members.
 */
function sentLabels(schema: RuntimeSchema, declared: ReadonlyMap<string, string>, readsSessionLabels: boolean): OptionalKind<PropertySignatureStructure> | undefined {
  if (!readsSessionLabels) return undefined;
  if (schema.entities.context !== undefined && Object.hasOwn(schema.entities.context, "labels")) return undefined;
  const labelEnum = schema.enums["Label"] !== undefined ? declared.get("Label") : undefined;
  // The advice is policy text, to be followed as written: with no `Label` enum (case 3), a
  // `labels: set<Label>` alone would name an unknown type; with no `context` block, there is none to add it to.
  const hasContextBlock = schema.entities.context !== undefined;
  const inContext = `\`labels: set<Label>\` in ${hasContextBlock ? "the" : "a"} \`context\` block`;
  const toCheck = labelEnum === undefined ? `declare the labels as an enum, \`enum Label { … }\`, and ${inContext} (language.md, section 3.7); rules then name labels as members: \`pii\`, not \`"pii"\`` : `declare ${inContext} (language.md, section 3.7)`;
  return {
    name: JSON.stringify("labels"),
    type: `readonly ${labelEnum === undefined ? "string" : `(${labelEnum} | (string & {}))`}[]${ABSENT}`,
    hasQuestionToken: true,
    isReadonly: true,
    docs: jsDoc(
      `The labels of the data in this call. ${hasContextBlock ? "The `context` block does not declare `labels`" : "The set has no `context` block"}, but the policy reads \`session.labels\`, and the engine takes the labels sent here into it for later calls (taint): send them.`,
      `They are not checked${labelEnum === undefined ? "" : ` against \`${labelEnum}\``}: a label spelled otherwise matches no rule. To have requests checked, ${toCheck}.`,
    ),
  };
}

/** The documented members of an enum or the intents, as a list for the union's JSDoc. */
function memberList(members: readonly string[], docs: ReadonlyMap<string, string>): string | undefined {
  const lines = members.filter((m) => (docs.get(m) ?? "") !== "").map((m) => `- \`${m}\`: ${docs.get(m)!.replaceAll("\n", "\n  ")}`);
  return lines.length > 0 ? lines.join("\n") : undefined;
}

/**
 * Emits a TypeScript module for tool authors: a `Request` union discriminated by `tool`, each
 * member with that tool's typed `args`, so a wrong request is a compile error. Built with
 * ts-morph so the output is always well-formed TypeScript; names as typeScriptNames.ts says.
 *
 * Object types are type aliases of object literal types, which a record type (an index
 * signature) takes as well as the library's `Attributes`. The module names no global type (no
 * `Record`, `Array`, `Readonly`): a declared enum or record may take any of those names, and
 * would shadow it. Lists are `readonly T[]`, which the compiler resolves without a name.
 *
 * `null` and `undefined` are accepted where the engine takes them for absent: an optional field
 * (of a record, an entity or `args`), `user`, `intent`, and `args` when the tool requires no
 * argument; `undefined` for `time` too. The policy's `///` comments become JSDoc, with a note of what
 * `int`, `duration` and `time` fields take.
 *
 * `readsSessionLabels` (the bundle's `session.labels`): whether the policy reads
 * `session.labels`, which the `context.labels` of requests feed (see `sentLabels`).
 */
export function emitTypeScript(schema: RuntimeSchema, options: { bundleFile?: string; docs?: PolicyDocs; readsSessionLabels?: boolean } = {}): string {
  const project = new Project({ useInMemoryFileSystem: true });
  const file = project.createSourceFile("policy.ts", "", { overwrite: true });
  const names = new TypeNames();
  const declared = names.declared([...Object.keys(schema.enums), ...Object.keys(schema.records)]);
  const docsOf = (map: ReadonlyMap<string, Documented> | undefined, name: string): Documented => map?.get(name) ?? NO_DOCS;

  const typeText = (type: TypeJson): string => {
    if (typeof type === "string") {
      switch (type) {
        case "bool":
          return "boolean";
        case "int":
        case "duration":
          return "number";
        case "string":
        case "time":
          return "string";
        case "Risk":
          return "Risk";
      }
    }
    if ("set" in type) return `readonly ${wrap(typeText(type.set))}[]`;
    if ("list" in type) return `readonly ${wrap(typeText(type.list))}[]`;
    if ("enum" in type) return declared.get(type.enum) ?? "string";
    return declared.get(type.record) ?? "{ readonly [key: string]: unknown }";
  };
  const wrap = (text: string): string => (/[ |]/.test(text) ? `(${text})` : text);
  const properties = (fields: FieldsJson, docs: Documented): OptionalKind<PropertySignatureStructure>[] =>
    Object.entries(fields).map(([name, field]) => ({
      name: JSON.stringify(name),
      type: field.optional ? `${typeText(field.type)}${ABSENT}` : typeText(field.type),
      hasQuestionToken: field.optional,
      isReadonly: true,
      docs: jsDoc(docs.parts.get(name), unitNote(field.type), inheritedNameNote(name, field.optional)),
    }));
  // `{}` would accept any value but null and undefined (a string, a number, an array), all of
  // which the engine refuses: with no field declared, only an object without fields fits. Written
  // as an index signature, not as the library's `Record<string, never>`: a declared enum or
  // record named `Record` would shadow that, and the module would not compile.
  const objectType = (fields: FieldsJson, docs: Documented): WriterFunction | string =>
    Object.keys(fields).length === 0 ? NO_FIELDS : Writers.objectType({ properties: properties(fields, docs) });
  // A blank line before each object type and the declarations after them, as interfaces had.
  const apart = (writer: CodeBlockWriter): void => void writer.blankLineIfLastNot();
  const union = (values: readonly string[]): string => (values.length === 0 ? "never" : values.map((v) => JSON.stringify(v)).join(" | "));

  // Collected and inserted at once: ts-morph re-parses the whole file on each insertion, which
  // made a module of many tools quadratic to build (1,000 tools took seconds of CPU).
  const statements: (string | TypeAliasDeclarationStructure)[] = [generatedHeader(options.bundleFile)];
  const addTypeAlias = (alias: Omit<TypeAliasDeclarationStructure, "kind">): void => void statements.push({ kind: StructureKind.TypeAlias, ...alias });
  addTypeAlias({ name: "Risk", isExported: true, type: union(["low", "medium", "high", "critical"]), docs: ["Risk levels, lowest first."] });
  for (const [name, members] of Object.entries(schema.enums)) {
    const docs = docsOf(options.docs?.enums, name);
    addTypeAlias({ name: declared.get(name)!, isExported: true, type: union(members), docs: jsDoc(docs.docs, memberList(members, docs.parts)) });
  }
  for (const [name, fields] of Object.entries(schema.records)) {
    const docs = docsOf(options.docs?.records, name);
    addTypeAlias({ leadingTrivia: apart, name: declared.get(name)!, isExported: true, type: objectType(fields, docs), docs: jsDoc(docs.docs) });
  }

  const labels = sentLabels(schema, declared, options.readsSessionLabels ?? false);
  const entityNames: Record<string, string> = {};
  for (const entity of ["agent", "user", "context"] as const) {
    const fields = schema.entities[entity];
    const extra = entity === "context" ? labels : undefined;
    if (!fields && !extra) continue;
    const docs = docsOf(options.docs?.entities, entity);
    entityNames[entity] = `${entity[0]!.toUpperCase()}${entity.slice(1)}Attributes`;
    const type = extra ? Writers.objectType({ properties: [...properties(fields ?? {}, docs), extra] }) : objectType(fields!, docs);
    const undeclared = fields ? undefined : "The set declares no `context` block: this types only the labels the engine reads from it.";
    addTypeAlias({ leadingTrivia: apart, name: entityNames[entity]!, isExported: true, type, docs: jsDoc(`The request's \`${entity}\` attributes.`, docs.docs, undeclared) });
  }
  const intents = Object.keys(schema.intents);
  addTypeAlias({ leadingTrivia: apart, name: "IntentName", isExported: true, type: union(intents), docs: jsDoc("The declared intents.", memberList(intents, options.docs?.intents ?? new Map())) });

  const base: OptionalKind<PropertySignatureStructure>[] = [
    { name: "time", type: "string | undefined", hasQuestionToken: true, isReadonly: true, docs: ["RFC 3339 time of the attempt."] },
    // As for an int, what `string` cannot say: the engine denies "" and longer ids as invalid requests.
    {
      name: "session",
      type: "string",
      isReadonly: true,
      docs: [`The session id, issued by the enforcement point (never chosen by the agent): a non-empty string of at most ${MAX_SESSION_ID_LENGTH.toLocaleString("en-US")} characters (JavaScript's \`length\`).`],
    },
    { name: "intent", type: `IntentName${ABSENT}`, hasQuestionToken: true, isReadonly: true },
  ];
  if (entityNames["agent"]) base.push({ name: "agent", type: entityNames["agent"], isReadonly: true });
  if (entityNames["user"]) base.push({ name: "user", type: `${entityNames["user"]}${ABSENT}`, hasQuestionToken: true, isReadonly: true });
  // Required when declared, as the engine requires it; else there only for its labels.
  if (schema.entities.context) base.push({ name: "context", type: entityNames["context"]!, isReadonly: true });
  else if (entityNames["context"]) base.push({ name: "context", type: `${entityNames["context"]} | undefined`, hasQuestionToken: true, isReadonly: true });
  addTypeAlias({ leadingTrivia: apart, name: "RequestBase", isExported: true, type: Writers.objectType({ properties: base }), docs: ["Fields every request carries."] });

  // Named in the order of the tools' names, not of their declarations: of two tools whose names
  // give one type name (`email.send` and `Email.Send`), the one whose name sorts first (by
  // code unit: capitals first) gets it, whichever file declares it and whatever that file is called.
  const requestNames = new Map(
    Object.keys(schema.tools)
      .sort()
      .map((tool) => [tool, names.claim(`${tool.split(/[^A-Za-z0-9]+/).filter(Boolean).map((p) => p[0]!.toUpperCase() + p.slice(1)).join("")}Request`)]),
  );
  const members: string[] = [];
  for (const [tool, info] of Object.entries(schema.tools)) {
    const name = requestNames.get(tool)!;
    members.push(name);
    const required = Object.values(info.args).some((f) => !f.optional);
    const docs = docsOf(options.docs?.tools, tool);
    const args = objectType(info.args, docs);
    addTypeAlias({
      leadingTrivia: apart,
      name,
      isExported: true,
      docs: jsDoc(docs.docs, `A call of \`${tool}\` (risk ${info.risk}${info.returns.length ? `, returns ${info.returns.join(", ")}` : ""}).`),
      type: Writers.intersectionType(
        "RequestBase",
        Writers.objectType({
          properties: [
            { name: "tool", type: JSON.stringify(tool), isReadonly: true },
            { name: "args", type: required ? args : Writers.unionType(args, "null", "undefined"), hasQuestionToken: !required, isReadonly: true },
          ],
        }),
      ),
    });
  }
  addTypeAlias({ leadingTrivia: apart, name: "Request", isExported: true, type: members.length ? members.join(" | ") : "never", docs: ["Every request the policy set accepts, discriminated by `tool`."] });
  addTypeAlias({ name: "ToolName", isExported: true, type: union(Object.keys(schema.tools)) });
  file.addStatements(statements);
  file.formatText({ indentSize: 2 });
  return file.getFullText();
}
