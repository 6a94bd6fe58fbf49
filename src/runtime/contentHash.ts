import { createHash } from "node:crypto";
import { memberStep } from "./valuePath.js";

/** What the content hash of a bundle covers (see `contentBytes`): its fields but the hash and the signature. */
export interface BundleContent {
  readonly format: string;
  readonly manifest: { readonly compiler: string; readonly sources: readonly { readonly path: string; readonly sha256: string }[] };
  readonly schema: unknown;
  readonly session: unknown;
  readonly rules: unknown;
  readonly code: string;
}

/**
 * The bytes the content hash covers: the bundle without its hash and signature, its top-level
 * fields in a fixed order and nested objects in the order they hold (the compiler's, which is
 * deterministic), so the same sources always give the same hash. They are written from the parsed
 * value, not the file: the hash binds what the bundle parses to, which is what runs, not its
 * spelling. Other spellings of the same value (`60000.0` or `6E4` for `60000`, `\u0072` for
 * `r`, other whitespace, a duplicate key JSON.parse drops) are the same bundle; a value JSON
 * cannot write back (`InexactNumberError`) is refused. A tool that rewrites a bundle
 * with its keys reordered changes the hash: the bundle is then refused, never misread (the order
 * carries meaning: the generated code numbers the declared tools in the schema's order).
 * (In the runtime, not in bundle/: the engine digests what it is given to run by the same bytes.)
 */
export function contentBytes(bundle: BundleContent): string {
  const { manifest } = bundle;
  const content = { format: bundle.format, manifest: { compiler: manifest.compiler, sources: manifest.sources }, schema: bundle.schema, session: bundle.session, rules: bundle.rules, code: bundle.code };
  try {
    return JSON.stringify(content, exactNumber);
  } catch (error) {
    // The replacer knows the number's key alone; where it is, found again (only on this refusal).
    if (error instanceof InexactNumber) throw new InexactNumberError(pathToInexactNumber(content), error.value);
    throw error;
  }
}

/**
 * A number in a bundle that JSON reads as a value it cannot write back: `1e400` parses as
 * Infinity, which JSON writes as `null`, and `-0` as -0, written `0`. Hashing such a value would
 * give the hash of other content (the `null` or `0` the compiler wrote), so a signed bundle could
 * be edited without its key; it cannot be hashed, and a bundle holding it is refused.
 */
export class InexactNumberError extends Error {
  /** `path`: where the number is in the bundle, as `rules[2].ir.left.tools`, its names quoted and escaped as needed (they are the bundle's, whoever edited it). */
  constructor(readonly path: string, readonly value: number) {
    super(`its \`${path}\` holds ${Object.is(value, -0) ? "-0, which JSON writes back as 0" : `${value > 0 ? "a number too large for JSON (read as Infinity)" : value < 0 ? "a number too small for JSON (read as -Infinity)" : "NaN"}, which JSON writes back as null`}, so no hash covers it as written`);
    this.name = "InexactNumberError";
  }
}

/** What `exactNumber` throws, for `contentBytes` to say where the number is. */
class InexactNumber {
  constructor(readonly value: number) {}
}

function isInexact(value: unknown): value is number {
  return typeof value === "number" && (!Number.isFinite(value) || Object.is(value, -0));
}

/** `JSON.stringify`'s replacer for `contentBytes`: every number as it is, or an `InexactNumber`. */
function exactNumber(_key: string, value: unknown): unknown {
  if (isInexact(value)) throw new InexactNumber(value);
  return value;
}

/**
 * Where the first number `exactNumber` refuses is in `content`, in the order JSON.stringify
 * visits it: names that are identifiers after a dot, other names quoted and escaped (a terminal
 * control in a key an attacker wrote is shown, never acted on), indexes in brackets. Iterative:
 * JSON.parse takes nesting deeper than the call stack.
 */
function pathToInexactNumber(content: object): string {
  const pending: { value: unknown; path: string }[] = [{ value: content, path: "" }];
  while (pending.length > 0) {
    const { value, path } = pending.pop()!;
    if (isInexact(value)) return path;
    if (value === null || typeof value !== "object") continue;
    const children = Array.isArray(value) ? value.map((item, index) => ({ value: item, path: `${path}[${index}]` })) : Object.entries(value).map(([name, item]) => ({ value: item, path: `${path}${memberStep(name, path === "")}` }));
    for (let i = children.length - 1; i >= 0; i--) pending.push(children[i]!);
  }
  return "(somewhere)";
}

/** `sha256:` and the hex SHA-256 of `contentBytes`: what a bundle's manifest holds as its `contentHash`. */
export function contentHash(bundle: BundleContent): string {
  return `sha256:${createHash("sha256").update(contentBytes(bundle), "utf8").digest("hex")}`;
}
