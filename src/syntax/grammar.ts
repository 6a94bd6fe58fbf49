import type { IParserErrorMessageProvider, TokenType, IToken } from "chevrotain";
import { CstParser } from "./chevrotain.js";
import * as T from "./tokens.js";

const Kw = T.Kw;

/** Words for grammar rules, used to say what was being parsed when a token did not fit. */
const RULE_WORDS: Record<string, string> = {
  file: "a declaration (`enum`, `type`, `agent`, `user`, `context`, `tool`, `intent` or `policy`)",
  declaration: "a declaration (`enum`, `type`, `agent`, `user`, `context`, `tool`, `intent` or `policy`)",
  target: "a tool name or pattern",
  toolPattern: "a tool name or pattern",
  targets: "a tool name or pattern",
  qualifiedName: "a dotted name",
  typeRef: "a type",
  field: "an attribute",
  expression: "an expression",

  andExpression: "an expression",
  notExpression: "an expression",
  comparison: "an expression",
  postfix: "an expression",
  primary: "an expression",
  rule: "a rule (`allow`, `ask` or `deny`)",
  annotation: "an annotation",
  // Rules whose alternatives are dozens of keywords usable as names: list none of them.
  anyName: "a name",
  toolNameStart: "a tool name",
  rootName: "a name",
  literal: "a value (`true`, `false`, a number, a duration or a string)",
};

/** A token as messages name it: "`}`", "the end of the file". */
export function describeToken(token: IToken): string {
  if (token.tokenType.name === "EOF") return "the end of the file";
  const image = token.image.length > 30 ? token.image.slice(0, 30) + "…" : token.image;
  return `\`${image.replace(/\n/g, " ")}\``;
}

function labelOf(type: TokenType): string {
  if (type.name === "EOF") return "the end of the rule or file";
  return type.LABEL ?? type.name;
}

/** Rules are parsed one at a time, so "expected the end" inside a rule means a stray token. */
const AFTER_RULE = "a rule clause (`when`, `unless`, `reason`, `grant`, `revoke`), a new rule or `}`";

/**
 * Rules where a lone `=` is a comparison written with one `=`: inside a condition, or just after
 * one (the rule then expects a clause). In a declaration (`risk = "low"`), a clause (`for = 5m`)
 * or where a rule starts (`@name = "x"`), it is not, and saying "comparison is written `==`"
 * would send the writer the wrong way.
 */
const CONDITION_RULES = new Set(["rule", "expression", "andExpression", "notExpression", "comparison", "postfix", "callArguments", "primary", "quantifier"]);
const EQUALS_REMARK = " (comparison is written `==`)";

/** Friendly wording of what a path of tokens expects, e.g. "a tool name or pattern". */
function expectedWords(paths: TokenType[][], ruleName: string): string {
  const firsts = [...new Set(paths.map((p) => (p[0] ? labelOf(p[0]) : "")).filter(Boolean))];
  if (ruleName in RULE_WORDS && firsts.length > 3) return RULE_WORDS[ruleName]!;
  if (firsts.length === 0) return RULE_WORDS[ruleName] ?? "something else";
  if (firsts.length === 1) return firsts[0]!;
  return firsts.slice(0, -1).join(", ") + " or " + firsts[firsts.length - 1];
}

/** Parser messages in words a person understands; the label of a token, never its class. */
export const friendlyMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, previous, ruleName }) {
    let what = labelOf(expected);
    if (expected.name === "EOF") what = ruleName === "file" ? RULE_WORDS["file"]! : AFTER_RULE;
    if ((expected === T.Identifier || expected === T.ToolNameStart) && (ruleName === "targets" || ruleName === "toolPattern")) what = "a tool name";
    if (expected === T.Identifier && ruleName === "qualifiedName") what = "a name";
    if (actual.tokenType === T.SingleEq) return `expected ${what}, found \`=\`${CONDITION_RULES.has(ruleName) ? EQUALS_REMARK : ""}`;
    if (expected.name === "EOF") return `expected ${what}, found ${describeToken(actual)}`;
    const after = previous && previous.tokenType.name !== "EOF" ? ` after ${describeToken(previous)}` : "";
    return `expected ${what}${after}, found ${describeToken(actual)}`;
  },
  buildNotAllInputParsedMessage({ firstRedundant, ruleName }) {
    // Rules are parsed one at a time (see parse.ts), so leftovers of a rule end up here too.
    if (ruleName === "rule") return `expected a rule clause (\`when\`, \`unless\`, \`reason\`, \`grant\`, \`revoke\`), a new rule or \`}\`, found ${describeToken(firstRedundant)}`;
    return `expected a declaration (\`enum\`, \`type\`, \`agent\`, \`user\`, \`context\`, \`tool\`, \`intent\` or \`policy\`), found ${describeToken(firstRedundant)}`;
  },
  buildNoViableAltMessage({ expectedPathsPerAlt, actual, previous, ruleName }) {
    const paths = expectedPathsPerAlt.flat();
    const found = actual[0]!;
    // Where a rule starts, the alternatives are its effects: a `=` there is not in a condition.
    if (found.tokenType === T.SingleEq && CONDITION_RULES.has(ruleName) && ruleName !== "rule") return `expected an operator, found \`=\`${EQUALS_REMARK}`;
    let what = expectedWords(paths, ruleName);
    if (ruleName === "targets" || ruleName === "toolPattern") what = "a tool name or pattern";
    const after = previous && previous.tokenType.name !== "EOF" ? ` after ${describeToken(previous)}` : "";
    return `expected ${what}${after}, found ${describeToken(found)}`;
  },
  buildEarlyExitMessage({ expectedIterationPaths, actual, previous, ruleName }) {
    const found = actual[0]!;
    let what = expectedWords(expectedIterationPaths, ruleName);
    if (ruleName === "targets") what = "a tool name or pattern";
    const after = previous && previous.tokenType.name !== "EOF" ? ` after ${describeToken(previous)}` : "";
    return `expected ${what}${after}, found ${describeToken(found)}`;
  },
};

/**
 * The grammar of the policy language, and nothing else: it builds a CST, and a separate
 * visitor (astBuilder.ts) turns that into the AST. The normative EBNF is grammar/policy.ebnf.
 */
export class PolicyGrammar extends CstParser {
  /** `recoveryEnabled`: false stops at the first error, which is all a caller looking for it needs. */
  constructor(recoveryEnabled = true) {
    super(T.allTokens, { recoveryEnabled, maxLookahead: 3, nodeLocationTracking: "onlyOffset", errorMessageProvider: friendlyMessages });
    this.performSelfAnalysis();
  }

  public file = this.RULE("file", () => {
    this.MANY(() => this.SUBRULE(this.declaration));
  });

  public declaration = this.RULE("declaration", () => {
    this.OR([
      { ALT: () => this.SUBRULE(this.enumDecl) },
      { ALT: () => this.SUBRULE(this.typeDecl) },
      { ALT: () => this.SUBRULE(this.entityDecl) },
      { ALT: () => this.SUBRULE(this.toolDecl) },
      { ALT: () => this.SUBRULE(this.intentDecl) },
      { ALT: () => this.SUBRULE(this.policyDecl) },
    ]);
  });

  // Names are token categories (T.AnyName: any name, including words that are keywords
  // elsewhere such as `tools` or `risk`), consumed directly: one CST node less per name keeps
  // a 10,000-rule set's CST small enough to check in well under a second.

  public qualifiedName = this.RULE("qualifiedName", () => {
    this.CONSUME(T.AnyName);
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.CONSUME2(T.AnyName);
    });
  });

  public enumDecl = this.RULE("enumDecl", () => {
    this.CONSUME(Kw.enum);
    this.CONSUME(T.Identifier);
    this.CONSUME(T.LBrace);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.AnyName) });
    this.CONSUME(T.RBrace);
  });

  public typeDecl = this.RULE("typeDecl", () => {
    this.CONSUME(Kw.type);
    this.CONSUME(T.Identifier);
    this.SUBRULE(this.fieldBlock);
  });

  public entityDecl = this.RULE("entityDecl", () => {
    this.OR([{ ALT: () => this.CONSUME(Kw.agent) }, { ALT: () => this.CONSUME(Kw.user) }, { ALT: () => this.CONSUME(Kw.context) }]);
    this.SUBRULE(this.fieldBlock);
  });

  /** `{ a: T, b?: U }` with commas or line breaks between fields. */
  public fieldBlock = this.RULE("fieldBlock", () => {
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.SUBRULE(this.field);
      this.OPTION(() => this.CONSUME(T.Comma));
    });
    this.CONSUME(T.RBrace);
  });

  public field = this.RULE("field", () => {
    this.CONSUME(T.AnyName);
    this.OPTION(() => this.CONSUME(T.Question));
    this.CONSUME(T.Colon);
    this.SUBRULE(this.typeRef);
  });

  public typeRef = this.RULE("typeRef", () => {
    this.CONSUME(T.Identifier);
    this.OPTION(() => {
      this.CONSUME(T.Less);
      this.SUBRULE(this.typeRef);
      this.CONSUME(T.Greater);
    });
  });

  public toolDecl = this.RULE("toolDecl", () => {
    this.CONSUME(Kw.tool);
    this.SUBRULE(this.qualifiedName);
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(Kw.risk);
            this.CONSUME(T.Identifier);
          },
        },
        {
          ALT: () => {
            this.CONSUME(Kw.returns);
            this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME(T.AnyName) });
          },
        },
        {
          ALT: () => {
            this.CONSUME(Kw.args);
            this.SUBRULE(this.fieldBlock);
          },
        },
      ]);
    });
    this.CONSUME(T.RBrace);
  });

  public intentDecl = this.RULE("intentDecl", () => {
    this.CONSUME(Kw.intent);
    this.SUBRULE(this.qualifiedName);
    this.CONSUME(T.LBrace);
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(Kw.tools);
            this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.toolPattern) });
          },
        },
        {
          ALT: () => {
            this.CONSUME(Kw.max_risk);
            this.CONSUME(T.Identifier);
          },
        },
      ]);
    });
    this.CONSUME(T.RBrace);
  });

  /** `*`, `crm.lookup`, `kb.*`. */
  public toolPattern = this.RULE("toolPattern", () => {
    this.OR([
      { ALT: () => this.CONSUME(T.Star) },
      {
        ALT: () => {
          this.CONSUME(T.ToolNameStart);
          this.MANY(() => {
            this.CONSUME(T.Dot);
            this.OR2([{ ALT: () => this.CONSUME(T.AnyName) }, { ALT: () => this.CONSUME2(T.Star) }]);
          });
        },
      },
    ]);
  });

  // The first segment of a tool name (T.ToolNameStart) is a name or a keyword that reads
  // naturally as a namespace (`agent.delegate`, `context.search`), never a clause word, so
  // `allow when …` reports a missing tool name instead of taking `when` for one.

  public policyDecl = this.RULE("policyDecl", () => {
    this.CONSUME(Kw.policy);
    this.CONSUME(T.AnyName);
    this.CONSUME(T.LBrace);
    this.MANY(() => this.SUBRULE(this.rule));
    this.CONSUME(T.RBrace);
  });

  public annotation = this.RULE("annotation", () => {
    this.CONSUME(T.At);
    this.CONSUME(T.AnyName);
    this.OPTION(() => {
      this.CONSUME(T.LParen);
      this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.literal) });
      this.CONSUME(T.RParen);
    });
  });

  /** Clauses are parsed in any order so a misplaced one gets a precise message (PC107). */
  public rule = this.RULE("rule", () => {
    this.MANY(() => this.SUBRULE(this.annotation));
    this.OR([{ ALT: () => this.CONSUME(Kw.allow) }, { ALT: () => this.CONSUME(Kw.ask) }, { ALT: () => this.CONSUME(Kw.deny) }]);
    this.SUBRULE(this.targets);
    this.MANY2(() => this.SUBRULE(this.ruleClause));
  });

  public targets = this.RULE("targets", () => {
    this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE(this.toolPattern) });
  });

  public ruleClause = this.RULE("ruleClause", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Kw.when);
          this.SUBRULE(this.expression);
        },
      },
      {
        ALT: () => {
          this.CONSUME(Kw.unless);
          this.SUBRULE2(this.expression);
        },
      },
      {
        ALT: () => {
          this.CONSUME(Kw.reason);
          this.CONSUME(T.StringLiteral);
        },
      },
      {
        ALT: () => {
          this.CONSUME(Kw.grant);
          this.AT_LEAST_ONE_SEP({ SEP: T.Comma, DEF: () => this.CONSUME2(T.StringLiteral) });
          this.CONSUME(Kw.for);
          this.CONSUME(T.Duration);
        },
      },
      { ALT: () => this.CONSUME(Kw.revoke) },
    ]);
  });

  /** The loosest level: `a or b`. */
  public expression = this.RULE("expression", () => {
    this.SUBRULE(this.andExpression);
    this.MANY(() => {
      this.CONSUME(Kw.or);
      this.SUBRULE2(this.andExpression);
    });
  });

  public andExpression = this.RULE("andExpression", () => {
    this.SUBRULE(this.notExpression);
    this.MANY(() => {
      this.CONSUME(Kw.and);
      this.SUBRULE2(this.notExpression);
    });
  });

  public notExpression = this.RULE("notExpression", () => {
    this.OR([
      {
        ALT: () => {
          this.CONSUME(Kw.not);
          this.SUBRULE(this.notExpression);
        },
      },
      { ALT: () => this.SUBRULE(this.comparison) },
    ]);
  });

  /** Comparisons do not chain: `a < b < c` is a syntax error, as a reader would want. */
  public comparison = this.RULE("comparison", () => {
    this.SUBRULE(this.postfix);
    this.OPTION(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(Kw.has);
            this.CONSUME(T.AnyName);
          },
        },
        {
          ALT: () => {
            this.OR2([
              { ALT: () => this.CONSUME(T.EqEq) },
              { ALT: () => this.CONSUME(T.NotEq) },
              { ALT: () => this.CONSUME(T.LessEq) },
              { ALT: () => this.CONSUME(T.GreaterEq) },
              { ALT: () => this.CONSUME(T.Less) },
              { ALT: () => this.CONSUME(T.Greater) },
              { ALT: () => this.CONSUME(Kw.in) },
              { ALT: () => this.CONSUME(Kw.containsAny) },
              { ALT: () => this.CONSUME(Kw.containsAll) },
              { ALT: () => this.CONSUME(Kw.contains) },
              { ALT: () => this.CONSUME(Kw.like) },
            ]);
            this.SUBRULE2(this.postfix);
          },
        },
      ]);
    });
  });

  /** `.field`, `.method(args)` and `.*` (a pattern segment, only meaningful as a call argument). */
  public postfix = this.RULE("postfix", () => {
    this.SUBRULE(this.primary);
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.OR([
        {
          ALT: () => {
            this.CONSUME(T.AnyName);
            this.OPTION(() => this.SUBRULE(this.callArguments));
          },
        },
        { ALT: () => this.CONSUME(T.Star) },
      ]);
    });
  });

  public callArguments = this.RULE("callArguments", () => {
    this.CONSUME(T.LParen);
    this.MANY_SEP({
      SEP: T.Comma,
      DEF: () => {
        this.OR([
          {
            ALT: () => {
              this.CONSUME(Kw.within);
              this.SUBRULE(this.expression);
            },
          },
          { ALT: () => this.SUBRULE2(this.expression) },
        ]);
      },
    });
    this.CONSUME(T.RParen);
  });

  public primary = this.RULE("primary", () => {
    this.OR([
      { ALT: () => this.CONSUME(Kw.true) },
      { ALT: () => this.CONSUME(Kw.false) },
      { ALT: () => this.CONSUME(T.Integer) },
      { ALT: () => this.CONSUME(T.Duration) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          this.SUBRULE(this.expression);
          this.CONSUME(T.RParen);
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.LBracket);
          this.MANY_SEP({ SEP: T.Comma, DEF: () => this.SUBRULE2(this.expression) });
          this.CONSUME(T.RBracket);
        },
      },
      { ALT: () => this.SUBRULE(this.quantifier) },
      { ALT: () => this.CONSUME(T.Star) },
      // Names that may start a path: identifiers and the path roots that are also keywords.
      { ALT: () => this.CONSUME(T.RootName) },
    ]);
  });

  public quantifier = this.RULE("quantifier", () => {
    this.OR([{ ALT: () => this.CONSUME(Kw.any) }, { ALT: () => this.CONSUME(Kw.all) }]);
    this.CONSUME(T.LParen);
    this.CONSUME(T.Identifier);
    this.CONSUME(Kw.in);
    this.SUBRULE(this.expression);
    this.CONSUME(T.Colon);
    this.SUBRULE2(this.expression);
    this.CONSUME(T.RParen);
  });

  public literal = this.RULE("literal", () => {
    this.OR([
      { ALT: () => this.CONSUME(Kw.true) },
      { ALT: () => this.CONSUME(Kw.false) },
      { ALT: () => this.CONSUME(T.Integer) },
      { ALT: () => this.CONSUME(T.Duration) },
      { ALT: () => this.CONSUME(T.StringLiteral) },
    ]);
  });
}

/** One shared instance of each: building a chevrotain parser is costly, reusing it is cheap. */
let shared: PolicyGrammar | undefined;
let sharedWithoutRecovery: PolicyGrammar | undefined;
export function grammarInstance(): PolicyGrammar {
  shared ??= new PolicyGrammar();
  return shared;
}

/** A parser that stops at the first syntax error (see `PolicyGrammar`'s constructor). */
export function firstErrorGrammar(): PolicyGrammar {
  sharedWithoutRecovery ??= new PolicyGrammar(false);
  return sharedWithoutRecovery;
}
