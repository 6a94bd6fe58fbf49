import { closestName } from "../runtime/closestName.js";

export { closestName, withinOneEdit } from "../runtime/closestName.js";

/** "did you mean `x`?" help text, or undefined when nothing is close. */
export function didYouMean(name: string, known: Iterable<string>): string | undefined {
  const match = closestName(name, known);
  return match === undefined ? undefined : suggestion(match);
}

/** The help that suggests `match`: "did you mean `x`?". */
export function suggestion(match: string): string {
  return `did you mean \`${match}\`?`;
}

/** "a, b and c" (or "a, b or c"), for lists of names in messages. */
export function listed(items: readonly string[], conjunction: "and" | "or" = "and"): string {
  return items.length <= 1 ? (items[0] ?? "") : `${items.slice(0, -1).join(", ")} ${conjunction} ${items[items.length - 1]}`;
}
