/**
 * Names in the module `emitTypeScript` writes. A declared enum or record keeps its name unless
 * TypeScript cannot take it as an exported type alias used in type positions, or it is one of
 * the module's own names; then `_` is appended (again until the name is free). The module's own
 * names are fixed, so `import type { Request } from "./policy.js"` means the same in every
 * build; the tools' request types come last and yield to everything else.
 */

/**
 * What TypeScript refuses as such a name, in a module (strict mode): the reserved words, the
 * words reserved in strict mode and at the top of a module (`await`), the predefined type names
 * a type alias cannot take (TS2457), and the words that mean something else where a type is
 * expected (`keyof T`, `readonly T[]`, `infer T`, `unique symbol`, `intrinsic`, `as`). Checked
 * against every keyword of the TypeScript in use by test/compile/typescript.test.ts.
 */
const RESERVED = [
  // Reserved words.
  ...["break", "case", "catch", "class", "const", "continue", "debugger", "default", "delete", "do", "else", "enum", "export", "extends", "false", "finally", "for", "function"],
  ...["if", "import", "in", "instanceof", "new", "null", "return", "super", "switch", "this", "throw", "true", "try", "typeof", "var", "void", "while", "with"],
  // Reserved in strict mode, and at the top level of a module.
  ...["implements", "interface", "let", "package", "private", "protected", "public", "static", "yield", "await"],
  // Predefined type names.
  ...["any", "bigint", "boolean", "never", "number", "object", "string", "symbol", "undefined", "unknown"],
  // Type operators and other words with a meaning of their own where a type is expected.
  ...["as", "infer", "intrinsic", "keyof", "readonly", "unique"],
];

/** The module's own exported names (documented in docs/cli.md), whether or not this module declares each. */
export const MODULE_NAMES = ["Risk", "AgentAttributes", "UserAttributes", "ContextAttributes", "IntentName", "RequestBase", "Request", "ToolName"] as const;

/** Hands out the module's type names: each one once, never a reserved word or a module name. */
export class TypeNames {
  private readonly taken = new Set<string>([...RESERVED, ...MODULE_NAMES]);

  /**
   * Names for declared types, in order: every name that is free keeps it, before any that is not
   * is renamed, so renaming one never renames another that needed none (`Request` and
   * `Request_` declared: `Request_` stays, `Request` becomes `Request__`).
   */
  declared(names: readonly string[]): Map<string, string> {
    const free = new Set(names.filter((name) => !this.taken.has(name)));
    for (const name of free) this.taken.add(name);
    return new Map(names.map((name) => [name, free.has(name) ? name : this.claim(name)]));
  }

  /** `wanted`, or `wanted` with as many `_` appended as make it free. */
  claim(wanted: string): string {
    let name = wanted;
    while (this.taken.has(name)) name += "_";
    this.taken.add(name);
    return name;
  }
}
