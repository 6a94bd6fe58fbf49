/**
 * The entry of a fixed table (help texts, unit sizes) for a word the user wrote, or undefined.
 * Only the table's own keys count: `map["constructor"]` or `"__proto__" in map` would otherwise
 * find what every object inherits, and give a help text that is a function or an object.
 */
export function ownEntry<T>(map: Readonly<Record<string, T>>, key: string): T | undefined {
  return Object.hasOwn(map, key) ? map[key] : undefined;
}
