import { quotedVisibly } from "./hiddenText.js";

/**
 * One member's step in the path of a place inside a JSON value, for messages: `.name` (no dot
 * first), or `["…"]` for a name that is no identifier, quoted with its hidden characters escaped
 * and cut short (the names are the input's, whoever wrote them: a terminal control in a key is
 * shown, never acted on). An element's step is `[index]`.
 */
export function memberStep(name: string, first: boolean): string {
  if (IDENTIFIER.test(name)) return `${first ? "" : "."}${name}`;
  return `[${quotedVisibly(name.length > MAX_NAME ? `${name.slice(0, MAX_NAME - 3)}...` : name)}]`;
}

const MAX_NAME = 40;
const IDENTIFIER = new RegExp(`^[A-Za-z_$][A-Za-z0-9_$]{0,${MAX_NAME - 1}}$`);
