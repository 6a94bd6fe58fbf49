import { Project, Writers, type CodeBlockWriter, type OptionalKind, type PropertySignatureStructure, type WriterFunction } from "ts-morph";
import type * as A from "../ast/nodes.js";
import type { FieldsJson, RuntimeSchema, TypeJson } from "../runtime/schema.js";
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
 * What a request carries for an int, a duration or a time (docs/language.md, section 3.1), by
 * the field's type: TypeScript's `number` says nothing of the fractions and unsafe integers
 * the engine denies, nor of the unit of a duration.
 */
function unitNote(type: TypeJson): string | undefined {
  const element = typeof type !== "string" && ("set" in type || "list" in type) ? ("set" in type ? type.set : type.list) : undefined;
  if (type === "int") return "An int: a whole number from -(2^53 - 1) to 2^53 - 1 (`Number.isSafeInteger`).";
  if (element === "int") return "Ints: whole numbers from -(2^53 - 1) to 2^53 - 1 (`Number.isSafeInteger`).";
  if (type === "duration") return "A duration: a whole number of milliseconds from 0 to 2^53 - 1 (`7200000` is two hours).";
  if (type === "time") return "A time: an RFC 3339 string (`2026-01-01T09:00:00Z`).";
  if (element === "duration") return "Durations: whole numbers of milliseconds from 0 to 2^53 - 1 (`7200000` is two hours).";
  if (element === "time") return "Times: RFC 3339 strings (`2026-01-01T09:00:00Z`).";
  return undefined;
}

/**
 * One JSDoc text from paragraphs (the empty ones left out); none when all are empty. A star
 * followed by a slash in a doc comment would end the JSDoc early, so a backslash goes between.
 */
function jsDoc(...paragraphs: (string | undefined)[]): string[] {
  const text = paragraphs.filter((p): p is string => p !== undefined && p.trim() !== "").join("\n\n");
  return text === "" ? [] : [text.replaceAll("*/", "*\\/")];
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
 * signature) takes as well as the library's `Attributes`.
 *
 * `null` is accepted where the engine takes it for absent: an optional field (of a record, an
 * entity or `args`), `user`, `intent`, and `args` when the tool requires no argument. The policy's `///` comments become JSDoc, with a note of what
 * `int`, `duration` and `time` fields take.
 */
export function emitTypeScript(schema: RuntimeSchema, options: { bundleFile?: string; docs?: PolicyDocs } = {}): string {
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
    return declared.get(type.record) ?? "Record<string, unknown>";
  };
  const wrap = (text: string): string => (/[ |]/.test(text) ? `(${text})` : text);
  const properties = (fields: FieldsJson, docs: Documented): OptionalKind<PropertySignatureStructure>[] =>
    Object.entries(fields).map(([name, field]) => ({
      name: JSON.stringify(name),
      type: field.optional ? `${typeText(field.type)} | null` : typeText(field.type),
      hasQuestionToken: field.optional,
      isReadonly: true,
      docs: jsDoc(docs.parts.get(name), unitNote(field.type)),
    }));
  // `{}` would accept any value but null and undefined (a string, a number, an array), all of
  // which the engine refuses: with no field declared, only an object without fields fits.
  const objectType = (fields: FieldsJson, docs: Documented): WriterFunction | string =>
    Object.keys(fields).length === 0 ? "Record<string, never>" : Writers.objectType({ properties: properties(fields, docs) });
  // A blank line before each object type and the declarations after them, as interfaces had.
  const apart = (writer: CodeBlockWriter): void => void writer.blankLineIfLastNot();
  const union = (values: readonly string[]): string => (values.length === 0 ? "never" : values.map((v) => JSON.stringify(v)).join(" | "));

  file.addStatements([generatedHeader(options.bundleFile)]);
  file.addTypeAlias({ name: "Risk", isExported: true, type: union(["low", "medium", "high", "critical"]), docs: ["Risk levels, lowest first."] });
  for (const [name, members] of Object.entries(schema.enums)) {
    const docs = docsOf(options.docs?.enums, name);
    file.addTypeAlias({ name: declared.get(name)!, isExported: true, type: union(members), docs: jsDoc(docs.docs, memberList(members, docs.parts)) });
  }
  for (const [name, fields] of Object.entries(schema.records)) {
    const docs = docsOf(options.docs?.records, name);
    file.addTypeAlias({ leadingTrivia: apart, name: declared.get(name)!, isExported: true, type: objectType(fields, docs), docs: jsDoc(docs.docs) });
  }

  const entityNames: Record<string, string> = {};
  for (const entity of ["agent", "user", "context"] as const) {
    const fields = schema.entities[entity];
    if (!fields) continue;
    const docs = docsOf(options.docs?.entities, entity);
    entityNames[entity] = `${entity[0]!.toUpperCase()}${entity.slice(1)}Attributes`;
    file.addTypeAlias({ leadingTrivia: apart, name: entityNames[entity]!, isExported: true, type: objectType(fields, docs), docs: jsDoc(`The request's \`${entity}\` attributes.`, docs.docs) });
  }
  const intents = Object.keys(schema.intents);
  file.addTypeAlias({ leadingTrivia: apart, name: "IntentName", isExported: true, type: union(intents), docs: jsDoc("The declared intents.", memberList(intents, options.docs?.intents ?? new Map())) });

  const base: OptionalKind<PropertySignatureStructure>[] = [
    { name: "time", type: "string", hasQuestionToken: true, isReadonly: true, docs: ["RFC 3339 time of the attempt."] },
    { name: "session", type: "string", isReadonly: true },
    { name: "intent", type: "IntentName | null", hasQuestionToken: true, isReadonly: true },
  ];
  if (entityNames["agent"]) base.push({ name: "agent", type: entityNames["agent"], isReadonly: true });
  if (entityNames["user"]) base.push({ name: "user", type: `${entityNames["user"]} | null`, hasQuestionToken: true, isReadonly: true });
  if (entityNames["context"]) base.push({ name: "context", type: entityNames["context"], isReadonly: true });
  file.addTypeAlias({ leadingTrivia: apart, name: "RequestBase", isExported: true, type: Writers.objectType({ properties: base }), docs: ["Fields every request carries."] });

  const members: string[] = [];
  for (const [tool, info] of Object.entries(schema.tools)) {
    const name = names.claim(`${tool.split(/[^A-Za-z0-9]+/).filter(Boolean).map((p) => p[0]!.toUpperCase() + p.slice(1)).join("")}Request`);
    members.push(name);
    const required = Object.values(info.args).some((f) => !f.optional);
    const docs = docsOf(options.docs?.tools, tool);
    const args = objectType(info.args, docs);
    file.addTypeAlias({
      leadingTrivia: apart,
      name,
      isExported: true,
      docs: jsDoc(docs.docs, `A call of \`${tool}\` (risk ${info.risk}${info.returns.length ? `, returns ${info.returns.join(", ")}` : ""}).`),
      type: Writers.intersectionType(
        "RequestBase",
        Writers.objectType({
          properties: [
            { name: "tool", type: JSON.stringify(tool), isReadonly: true },
            { name: "args", type: required ? args : Writers.unionType(args, "null"), hasQuestionToken: !required, isReadonly: true },
          ],
        }),
      ),
    });
  }
  file.addTypeAlias({ leadingTrivia: apart, name: "Request", isExported: true, type: members.length ? members.join(" | ") : "never", docs: ["Every request the policy set accepts, discriminated by `tool`."] });
  file.addTypeAlias({ name: "ToolName", isExported: true, type: union(Object.keys(schema.tools)) });
  file.formatText({ indentSize: 2 });
  return file.getFullText();
}
