/**
 * `*` is a wildcard only in `like` (runtime/glob.ts); everywhere else text is compared as it is.
 * This module recognises strings whose `*` was meant as a wildcard where it is not one (PC511),
 * and the `like` pattern of an address's domain, which tests the address's text rather than its
 * domain (PC512).
 */

/**
 * Whether a `*` in `text`, compared whole (`==`, `in`, an element of a list), reads as a
 * wildcard: a run of stars next to some other character that is not white space or a bracket
 * (`"*@evil.com"`, `"mail.*"`). A star standing alone, as a word of its own, is text: `"*"`,
 * the shell's `"rm -rf *"`, SQL's `"SELECT * FROM t"` and `"COUNT(*)"`.
 */
export function hasWildcardStar(text: string): boolean {
  return /[^\s*()]\*|\*[^\s*()]/.test(text);
}

/**
 * For text looked for anywhere in a string (`contains`): the text between the stars when it
 * both starts and ends with one star and has something between (`"*password*"` is `password`),
 * the way a `like` pattern finds text anywhere; undefined otherwise (`"rm -rf *"` is text, and
 * so is Markdown's bold `"**CONFIDENTIAL**"`).
 */
export function textBetweenStars(text: string): string | undefined {
  const inner = /^\*(?!\*)(.*?)(?<!\*)\*$/s.exec(text)?.[1];
  return inner === undefined || inner === "" ? undefined : inner;
}

/**
 * The domain of a `like` pattern that is a star, an `@` and a domain (`"*@acme.com"`):
 * undefined for any other pattern (`"*@*.acme.com"`, `"bob@acme.com"`, `"*@"`).
 */
export function addressPatternDomain(pattern: string): string | undefined {
  return /^\*@([^*@\s,;<>"]+)$/.exec(pattern)?.[1];
}

/**
 * The parent domain of a `like` pattern that is a star, an `@`, a star and a dot, and a domain
 * (`"*@*.acme.com"`, an address at any subdomain of acme.com): undefined for any other pattern.
 * Text of several addresses ending with one at a subdomain matches it too (PC512).
 */
export function addressPatternParent(pattern: string): string | undefined {
  return /^\*@\*\.([^*@\s,;<>"]+)$/.exec(pattern)?.[1];
}
