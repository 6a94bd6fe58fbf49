import { closestName } from "../runtime/closestName.js";

export { closestName, withinOneEdit } from "../runtime/closestName.js";

/** "did you mean `x`?" help text, or undefined when nothing is close. */
export function didYouMean(name: string, known: Iterable<string>): string | undefined {
  const match = closestName(name, known);
  return match === undefined ? undefined : `did you mean \`${match}\`?`;
}
