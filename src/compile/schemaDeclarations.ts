import type { FieldsJson, RuntimeSchema, TypeJson } from "../runtime/schema.js";

/**
 * A bundle's schema written back as policy declarations (`enum`, `type`, `agent`, `user`,
 * `context`, `tool`, `intent`), in the bundle's order: what `buildRuntimeSchema` would turn into
 * this schema again. Checking a bundle's rule text against its own schema needs the schema as the
 * checker sees it (the label enum, record shapes, tool risks), and the checker builds that from
 * declarations only. Every default is written out (`risk`, `max_risk`). The names are the
 * bundle's, written as they are: a name that is no name (`a } tool x {`) makes text that does not
 * parse, or declares something else, which whoever reads the result back must compare with the
 * bundle's schema.
 */
export function schemaDeclarations(schema: RuntimeSchema): string {
  const lines: string[] = [];
  for (const [name, members] of Object.entries(schema.enums)) lines.push(`enum ${name} { ${members.join(", ")} }`);
  for (const [name, fields] of Object.entries(schema.records)) lines.push(`type ${name} ${fieldsText(fields)}`);
  for (const entity of ["agent", "user", "context"] as const) {
    const fields = schema.entities[entity];
    if (fields !== undefined) lines.push(`${entity} ${fieldsText(fields)}`);
  }
  for (const [name, tool] of Object.entries(schema.tools)) {
    const items = [`risk ${tool.risk}`];
    if (tool.returns.length > 0) items.push(`returns ${tool.returns.join(", ")}`);
    if (Object.keys(tool.args).length > 0) items.push(`args ${fieldsText(tool.args)}`);
    lines.push(`tool ${name} { ${items.join(" ")} }`);
  }
  for (const [name, intent] of Object.entries(schema.intents)) {
    const items = intent.tools.length > 0 ? [`tools ${intent.tools.join(", ")}`] : [];
    items.push(`max_risk ${intent.maxRisk}`);
    lines.push(`intent ${name} { ${items.join(" ")} }`);
  }
  return lines.join("\n") + "\n";
}

function fieldsText(fields: FieldsJson): string {
  const written = Object.entries(fields).map(([name, field]) => `${name}${field.optional ? "?" : ""}: ${typeText(field.type)}`);
  return written.length === 0 ? "{}" : `{ ${written.join(", ")} }`;
}

/** A type as a declaration spells it: `set<Label>`, `Risk`. */
function typeText(type: TypeJson): string {
  if (typeof type === "string") return type;
  if ("set" in type) return `set<${typeText(type.set)}>`;
  if ("list" in type) return `list<${typeText(type.list)}>`;
  return "enum" in type ? type.enum : type.record;
}
