/**
 * `like` has one wildcard, `*`; every other character matches itself (runtime/glob.ts). A pattern
 * written the SQL way (`"%@acme.com"`) or as a regular expression (`".*\\.onion.*"`) is accepted
 * and never matches what it was meant to, so a `deny` written that way fails open. This module
 * recognises such patterns, for the warning PC508.
 *
 * `.`, `_` and `$` are common in literal text (`"*.acme.com"`, `"*_test"`, `"kb.*"`, a share
 * `"*\\c$"`), so only constructs whose intent is clear count (docs/diagnostics.md, PC508):
 *
 * - alone: a `%` that does not start a percent-encoded byte (`%2F`: two hex digits, one of them a
 *   decimal digit), in a pattern with no glob `*` (`"*%n*"` looks for a format string, `"*%c0%af*"`
 *   for an encoded slash); a local part of `_` only
 *   (`"_@acme.com"`); `\.`; a leading `^` followed by a letter, `\`, `(`, `[` or `.`, in a
 *   pattern whose every `*` is part of a `.*` or `.+` (the caret of a version range, `"^1.2"`,
 *   `"^*"`, is text); a character class (`[a-z]`, `[^@]`, `[Ss]`); a
 *   leading `.*@` or `.+@`;
 * - two together: `.*` (not after a name or a `*`, unless the pattern starts with `.*`), `.+` and a
 *   trailing `$` — one of them is a glob (`"kb.*"` is every tool of `kb`; `"api.*.acme.*"` has
 *   none), two are a regular expression (`".*onion.*"`, `"http://.*$"`).
 */

export interface ForeignLikeSyntax {
  /** Where the constructs come from, as the message says it: "SQL" or "a regular expression". */
  readonly dialect: "SQL" | "a regular expression";
  /** The constructs found, as they appear in the pattern's value, in order: `%`, `.*`, `\.`. */
  readonly constructs: readonly string[];
  /** The pattern written with `*`, when it has one such spelling (a character class has none). */
  readonly meant?: string;
  /** Whether the pattern has a character class, which `like` cannot express. */
  readonly hasClass: boolean;
}

/**
 * `%` that is not percent-encoding: `%2F`, `%40` and `%C3%A9` are literal text in a URL. An
 * encoded byte counts only with a decimal digit in it, so the `%ad` of `"%admin%"` and the `%de`
 * of `"%delete"` are SQL's (bytes of letters only, `"*%c0%af*"`, come with a glob `*`, beside
 * which no `%` counts).
 */
const SQL_PERCENT = /%(?![0-9][0-9A-Fa-f]|[A-Fa-f][0-9])/g;
/** An address whose whole local part is SQL's one-character wildcard. */
const SQL_UNDERSCORE_LOCAL_PART = /^_+@/;
/** A regular-expression class: a bracketed set with a range, a negation, an escape, or one letter in both cases. */
const CHARACTER_CLASS = /\[(\^?)([^\]]*)\]/g;

function isClassBody(negated: string, body: string): boolean {
  if (negated !== "" && body !== "") return true;
  if (/[a-z]-[a-z]|[A-Z]-[A-Z]|[0-9]-[0-9]/.test(body) || /\\[dwsDWS]/.test(body)) return true;
  return body.length === 2 && body[0] !== body[1] && body[0]!.toLowerCase() === body[1]!.toLowerCase() && /[a-z]/i.test(body[0]!);
}

/** Whether the pattern has a `*` of its own, not one of a `.*` or `.+`. */
function hasGlobStar(pattern: string): boolean {
  return pattern.replace(/\.[*+]/g, "").includes("*");
}

/**
 * A leading `^` is a regular expression's anchor when a name or an expression follows it and the
 * pattern has no glob `*` (one that is not part of `.*` or `.+`): the caret of a version range
 * (`"^1.2"`, `"^*"`) is text.
 */
function isRegexAnchor(pattern: string): boolean {
  return /^\^[A-Za-z\\([.]/.test(pattern) && !hasGlobStar(pattern);
}

/** The constructs of another pattern syntax in `pattern`, or undefined when it reads as a glob. */
export function foreignLikeSyntax(pattern: string): ForeignLikeSyntax | undefined {
  const sql: string[] = [];
  // Beside a glob `*` a `%` is text: its author knows the wildcard (`"*%n*"` looks for a format string).
  if (pattern.search(SQL_PERCENT) >= 0 && !hasGlobStar(pattern)) sql.push("%");
  if (SQL_UNDERSCORE_LOCAL_PART.test(pattern)) sql.push("_");

  const strong: string[] = [];
  if (isRegexAnchor(pattern)) strong.push("^");
  if (/^\.[*+]@/.test(pattern)) strong.push(pattern.slice(0, 2));
  if (pattern.includes("\\.")) strong.push("\\.");
  const classes = [...pattern.matchAll(CHARACTER_CLASS)].filter((m) => isClassBody(m[1]!, m[2]!)).map((m) => m[0]);
  strong.push(...classes);

  // A `.*` after a name is a glob's "a dot, then anything" (`"kb.*"`, `"api.*.acme.*"`), as it is
  // after a `*` (`"*.*"`). It counts at the start, after other characters (`"http://.*"`), and
  // anywhere in a pattern that starts with one (`".*onion.*"`); `.+` counts anywhere.
  const supporting: string[] = [];
  const leading = /^\.[*+]/.test(pattern);
  for (const match of pattern.matchAll(/\.[*+]/g)) {
    const before = match.index === 0 ? "" : pattern[match.index - 1]!;
    if (match[0] === ".+" || match.index === 0 || leading || !/[A-Za-z0-9_*-]/.test(before)) supporting.push(match[0]);
  }
  if (pattern.length > 1 && pattern.endsWith("$") && !pattern.endsWith("\\$")) supporting.push("$");

  const regex = strong.length > 0 || supporting.length >= 2 ? unique([...strong, ...supporting], pattern) : [];
  if (regex.length === 0 && sql.length === 0) return undefined;
  const hasClass = classes.length > 0;
  if (regex.length > 0) {
    const meant = hasClass ? undefined : globOfRegex(pattern);
    return { dialect: "a regular expression", constructs: unique([...regex, ...sql], pattern), hasClass, ...(meant === undefined ? {} : { meant }) };
  }
  return { dialect: "SQL", constructs: sql, hasClass: false, meant: collapseStars(pattern.replace(SQL_PERCENT, "*").replace(SQL_UNDERSCORE_LOCAL_PART, "*@")) };
}

/**
 * The glob a simple regular expression means: `.*` and `.+` become `*`, an escaped character
 * itself, and an end without its anchor (`^`, `$`) a `*`, since a regular expression matches
 * anywhere in the text and a glob the whole text. Undefined when what is left still has regular
 * expression syntax (`https?`, `(a|b)`), which no glob expresses.
 */
function globOfRegex(pattern: string): string | undefined {
  let body = pattern;
  const anchoredStart = body.startsWith("^");
  if (anchoredStart) body = body.slice(1);
  const anchoredEnd = body.endsWith("$") && !body.endsWith("\\$");
  if (anchoredEnd) body = body.slice(0, -1);
  body = body.replace(/\.[*+]/g, "*").replace(SQL_PERCENT, "*");
  let unescaped = "";
  for (let i = 0; i < body.length; i++) {
    const character = body[i]!;
    if (character === "\\" && i + 1 < body.length) unescaped += body[++i];
    else if ("?+|(){}[]^$".includes(character)) return undefined;
    else unescaped += character;
  }
  if (!anchoredStart) unescaped = "*" + unescaped;
  if (!anchoredEnd) unescaped += "*";
  return collapseStars(unescaped);
}

function collapseStars(glob: string): string {
  return glob.replace(/\*{2,}/g, "*");
}

/** Each construct once, in the order the pattern has them. */
function unique(items: readonly string[], pattern: string): string[] {
  return [...new Set(items)].sort((a, b) => pattern.indexOf(a) - pattern.indexOf(b));
}
