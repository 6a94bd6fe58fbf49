import { CLOSE_BRACE, CLOSE_BRACKET, COMMA, OPEN_BRACE, OPEN_BRACKET, QUOTE } from "../diagnostics/jsonCharacters.js";
import { memberStep } from "../runtime/valuePath.js";
import { stringEnd } from "./spliceExpectation.js";

/**
 * The first key that one object of a JSON text names twice, with the path of that object
 * (`agent`, `args.to[2]`, "" for the top level), or undefined. `JSON.parse` keeps the last of
 * such keys without a word, while a gateway's JSON reader may keep the first: the request
 * decided would not be the one that gateway saw. Only for text `JSON.parse` read already (the
 * scan trusts its shape); iterative, so a deeply nested value takes no stack.
 */
export function repeatedKey(text: string): { readonly key: string; readonly path: string } | undefined {
  // One frame per open object or array: an object's keys so far, an array's next index.
  const frames: { keys?: Set<string>; index: number; name: string }[] = [];
  let expectingKey = false;
  let pendingName = "";
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const end = stringEnd(text, i) - 1;
      const frame = frames.at(-1);
      if (expectingKey && frame?.keys !== undefined) {
        const key = JSON.parse(text.slice(i, end + 1)) as string;
        if (frame.keys.has(key)) return { key, path: pathOf(frames) };
        frame.keys.add(key);
        pendingName = key;
        expectingKey = false;
      }
      i = end;
    } else if (c === OPEN_BRACE || c === OPEN_BRACKET) {
      const parent = frames.at(-1);
      const name = parent === undefined ? "" : parent.keys !== undefined ? pendingName : String(parent.index);
      frames.push(c === OPEN_BRACE ? { keys: new Set(), index: 0, name } : { index: 0, name });
      expectingKey = c === OPEN_BRACE;
    } else if (c === CLOSE_BRACE || c === CLOSE_BRACKET) {
      frames.pop();
      expectingKey = false;
    } else if (c === COMMA) {
      const frame = frames.at(-1);
      if (frame?.keys !== undefined) expectingKey = true;
      else if (frame !== undefined) frame.index++;
    }
  }
  return undefined;
}

/** The path of the innermost object, as a person reads it (`agent`, `args.to[2]`). */
function pathOf(frames: readonly { keys?: Set<string>; name: string }[]): string {
  let path = "";
  for (let depth = 1; depth < frames.length; depth++) {
    const { name } = frames[depth]!;
    path += frames[depth - 1]!.keys === undefined ? `[${name}]` : memberStep(name, path === "");
  }
  return path;
}
