import type { IToken } from "chevrotain";
import { tokenMatcher } from "./chevrotain.js";
import { diagnostic, type Diagnostic } from "../diagnostics/Diagnostic.js";
import type { SourceFile } from "../source/SourceFile.js";
import * as T from "./tokens.js";

/**
 * `@name(kb_read)`, `@severity(high)`: an annotation argument written as a name where a string
 * goes. Annotations take strings (PC109), and the grammar has only literals there, so the
 * parser would say "expected `)`", which does not say what is wanted. Each such name (dotted
 * ones too: `kb.read`) is reported as PC109 and replaced by the string it means, so parsing goes
 * on as if it were quoted and the one mistake gives one error.
 */
export function quoteBareAnnotationArguments(tokens: readonly IToken[], file: SourceFile, diagnostics: Diagnostic[]): IToken[] {
  const out: IToken[] = [];
  for (let i = 0; i < tokens.length; i++) {
    out.push(tokens[i]!);
    if (tokens[i]!.tokenType !== T.At || !isName(tokens[i + 1]) || tokens[i + 2]?.tokenType !== T.LParen) continue;
    const key = tokens[i + 1]!.image;
    out.push(tokens[i + 1]!, tokens[i + 2]!);
    // The arguments, up to the `)`; anything unexpected (a missing `)`) is left to the parser.
    let next = i + 3;
    while (next < tokens.length && tokens[next]!.tokenType !== T.RParen) {
      const end = nameChainEnd(tokens, next, file);
      if (end > next && isArgumentEnd(tokens[end])) {
        const only = tokens[next - 1]!.tokenType === T.LParen && tokens[end]!.tokenType === T.RParen;
        out.push(quotedName(tokens[next]!, tokens[end - 1]!, key, only, file, diagnostics));
        next = end;
      } else if (tokens[next]!.tokenType === T.Comma || isLiteral(tokens[next]!)) out.push(tokens[next++]!);
      else break;
    }
    i = next - 1;
  }
  return out;
}

const EFFECTS = [T.Kw.allow, T.Kw.ask, T.Kw.deny];

/**
 * `@` alone before a rule (`@\n  allow kb.search`): the grammar reads `@allow` as an annotation
 * named `allow` and then reports the rule's target as what is wrong, on the wrong line, with help
 * that writes invalid code (audit a1 F3). An `@` followed by an effect keyword that is followed
 * by a target (a name or `*`, not another effect, not `(`) is reported as PC109 at the `@` and
 * left out, so the rule after it parses as written.
 */
export function dropStrayAts(tokens: readonly IToken[], file: SourceFile, diagnostics: Diagnostic[]): IToken[] {
  return tokens.filter((token, i) => {
    const effect = tokens[i + 1];
    const target = tokens[i + 2];
    if (token.tokenType !== T.At || effect === undefined || !EFFECTS.includes(effect.tokenType)) return true;
    if (target === undefined || (target.tokenType !== T.Star && (!isName(target) || EFFECTS.includes(target.tokenType)))) return true;
    diagnostics.push(diagnostic("PC109", '`@` must be followed by an annotation name, as in `@name("…")`', { file, start: token.startOffset, end: token.endOffset! + 1 }, `remove the \`@\` before \`${effect.image}\`: a rule starts with its effect`));
    return false;
  });
}

/**
 * PC109 for the name from `first` to `last`, and the string token it stands for. `only`: it is the
 * annotation's only argument, so the help can show the annotation whole.
 */
function quotedName(first: IToken, last: IToken, key: string, only: boolean, file: SourceFile, diagnostics: Diagnostic[]): IToken {
  const text = file.text.slice(first.startOffset, last.endOffset! + 1);
  const quoted = JSON.stringify(text);
  // The hyphens of `kb-read` were each an unexpected character (PC100): this error says it all.
  for (let d = diagnostics.length - 1; d >= 0; d--) {
    const start = diagnostics[d]!.span?.start ?? -1;
    if (diagnostics[d]!.code === "PC100" && start > first.startOffset && start < last.endOffset!) diagnostics.splice(d, 1);
  }
  diagnostics.push(diagnostic("PC109", `\`@${key}\` takes strings, not names`, { file, start: first.startOffset, end: last.endOffset! + 1 }, only ? `write \`@${key}(${quoted})\`` : `write it in quotes: ${quoted}`));
  return { ...first, image: quoted, endOffset: last.endOffset, endLine: last.endLine, endColumn: last.endColumn, tokenType: T.StringLiteral, tokenTypeIdx: T.StringLiteral.tokenTypeIdx! };
}

/** A name, or a keyword used as one, but not `true`/`false`, which are literals. */
function isName(token: IToken | undefined): boolean {
  return token !== undefined && tokenMatcher(token, T.AnyName) && token.tokenType !== T.Kw.true && token.tokenType !== T.Kw.false;
}

function isLiteral(token: IToken): boolean {
  return [T.StringLiteral, T.Integer, T.Duration, T.Kw.true, T.Kw.false].includes(token.tokenType);
}

function isArgumentEnd(token: IToken | undefined): boolean {
  return token !== undefined && (token.tokenType === T.RParen || token.tokenType === T.Comma);
}

/**
 * The index just past `name(.name)*` starting at `start`, or `start` when no name starts there.
 * Names joined by hyphens count as one (`OWASP-ASI03`, `kb-read`): the `-` is no token, but an
 * id written that way is still one argument.
 */
function nameChainEnd(tokens: readonly IToken[], start: number, file: SourceFile): number {
  if (!isName(tokens[start])) return start;
  let end = start + 1;
  for (;;) {
    if (tokens[end]?.tokenType === T.Dot && isName(tokens[end + 1])) end += 2;
    else if (isName(tokens[end]) && /^-+$/.test(file.text.slice(tokens[end - 1]!.endOffset! + 1, tokens[end]!.startOffset))) end += 1;
    else return end;
  }
}
