/**
 * The catalogue of every diagnostic policyc reports. Codes are stable: once published a code
 * keeps its meaning, so CI filters and editor integrations can rely on it. The docs'
 * catalogue (docs/diagnostics.md) is checked against this table by a test.
 */
export type Severity = "error" | "warning";

export interface CodeInfo {
  readonly severity: Severity;
  /** What the code means, in a few words. */
  readonly title: string;
  /**
   * A short input that triggers it, for a tool that lists the catalogue (an editor's hover, a
   * CI report). docs/diagnostics.md shows its own, longer example of each code, with the output.
   */
  readonly example: string;
}

export const CODES = {
  // Input: files and bytes (PC0xx)
  PC001: { severity: "error", title: "path cannot be read", example: "policyc check missing.policy" },
  PC002: { severity: "error", title: "file is not valid UTF-8", example: "a file saved as Latin-1 with `é` in a string" },
  PC003: { severity: "error", title: "file looks binary (contains NUL bytes)", example: "policyc check image.policy (a PNG image renamed)" },
  PC004: { severity: "error", title: "no .policy files under a path", example: "policyc check empty-folder/" },
  PC005: { severity: "error", title: "file is too large", example: "a 4.5 MB generated .policy file" },
  PC006: { severity: "error", title: "file is empty", example: "an empty `rules.policy` (a set needs at least one declaration)" },
  PC007: { severity: "warning", title: "file named like a policy file is not read", example: "policyc check rules/   # rules/deny.policy.txt, saved by Notepad" },

  // Lexical and syntax errors (PC1xx)
  PC100: { severity: "error", title: "unexpected character", example: "allow kb.search when agent.team == `support`" },
  PC101: { severity: "error", title: "unterminated string", example: 'deny * when agent.team == "sales' },
  PC102: { severity: "error", title: "unterminated block comment", example: "/* never closed" },
  PC103: { severity: "error", title: "syntax error", example: "allow when agent.team == \"support\"" },
  PC104: { severity: "error", title: "malformed duration", example: "grant \"kb:read\" for 5w" },
  PC105: { severity: "error", title: "invalid escape in string", example: '"C:\\dir"' },
  PC106: { severity: "error", title: "expression nested too deeply", example: "((((((…5,000 levels…))))))" },
  PC107: { severity: "error", title: "rule clause repeated or out of order", example: 'deny * reason "x" when true' },
  PC108: { severity: "error", title: "number out of range", example: "session.calls > 99999999999999999999" },
  PC109: { severity: "error", title: "malformed annotation", example: "@name(42)" },
  PC110: { severity: "error", title: "doc comment `fmt` cannot place", example: "policy p /// documents nothing here\n{\n  allow kb.search\n}" },
  PC111: { severity: "error", title: "annotation on the line of the rule before it", example: 'allow kb.search @name("kb-read")\ndeny email.send' },
  PC112: { severity: "error", title: "bidirectional control character", example: 'deny * when agent.team == "support\u202e"   // a raw U+202E, not the escape' },

  // Declarations and names (PC2xx)
  PC200: { severity: "error", title: "duplicate declaration", example: "enum Zone { a }\nenum Zone { b }" },
  PC201: { severity: "error", title: "unknown type", example: "agent { zone: Zonee }" },
  PC202: { severity: "error", title: "unknown attribute", example: 'allow kb.search when agent.tema == "support"' },
  PC203: { severity: "error", title: "unknown tool", example: "allow email.sned" },
  PC204: { severity: "error", title: "unknown intent", example: "allow kb.search when intent == suport.reply" },
  PC205: { severity: "error", title: "unknown enum member", example: "allow kb.search when agent.zone == externall" },
  PC206: { severity: "error", title: "unknown name", example: "allow kb.search when agnt.team == \"x\"" },
  PC207: { severity: "error", title: "duplicate rule id", example: '@name("same") allow a\n@name("same") deny a' },
  PC208: { severity: "error", title: "pattern matches no declared tool", example: "allow crm.*   // no tool starts with crm." },
  PC209: { severity: "error", title: "unknown session member", example: "deny * when session.cals > 3" },
  PC210: { severity: "error", title: "wrong number of arguments", example: "deny * when session.count() > 3" },
  PC211: { severity: "error", title: "unknown function or method", example: 'allow kb.search when args.query.upper() == "X"' },
  PC212: { severity: "error", title: "unknown risk level", example: "tool t { risk severe }" },
  PC213: { severity: "error", title: "unknown label", example: "tool t { returns pi }" },
  PC214: { severity: "error", title: "declaration misused", example: "type Destination { host: set }" },
  PC215: { severity: "error", title: "type has no possible value", example: "type Node { next: Node }\ncontext { head: Node }" },
  PC216: { severity: "error", title: "set declares no tools", example: "policyc check rules.policy   # schema.policy left out" },

  // Types (PC3xx)
  PC300: { severity: "error", title: "type mismatch", example: 'allow kb.search when agent.attested == "yes"' },
  PC301: { severity: "error", title: "`like` on a non-string", example: 'deny * when agent.attested like "*"' },
  PC302: { severity: "error", title: "`Risk` compared with something else", example: "deny * when tool.risk > 3" },
  PC303: { severity: "error", title: "optional attribute used without a `has` guard", example: "ask http.get when context.destination.zone == external" },
  PC304: { severity: "error", title: "argument not in every targeted tool with one type", example: 'allow email.send, kb.search when args.query == "x"' },
  PC305: { severity: "error", title: "condition is not a bool", example: "deny * when agent.team" },
  PC306: { severity: "error", title: "`has` on something without attributes", example: "deny * when agent.team has x" },
  PC307: { severity: "error", title: "`ip.inRange` range is not a CIDR", example: 'deny http.get when ip.inRange(url.host(args.url), "169.254.0.0")' },

  // Rules (PC4xx)
  PC400: { severity: "error", title: "`grant` on a rule that is not `allow`", example: 'deny kb.search grant "kb:read" for 5m' },
  PC401: { severity: "error", title: "`revoke` on a rule that is not `deny`", example: "allow kb.search revoke" },
  PC402: { severity: "error", title: "invalid grant lifetime", example: 'allow kb.search grant "kb:read" for 0s' },
  PC403: { severity: "error", title: "empty grant scope", example: 'allow kb.search grant "" for 5m' },

  // Warnings (PC5xx)
  PC500: { severity: "warning", title: "condition is always false", example: 'allow kb.search when 1 == 2' },
  PC501: { severity: "warning", title: "allow always overridden by an unconditional deny or ask", example: "allow kb.search\ndeny kb.*" },
  PC502: { severity: "warning", title: "unused declaration", example: "enum Unused { a, b }" },
  PC503: { severity: "warning", title: "more diagnostics than shown", example: "a file with 500 syntax errors" },
  PC504: { severity: "warning", title: "annotation looks like a mistyped keyword", example: '@Name("kb-read") allow kb.search' },
  PC505: { severity: "warning", title: "quantifier variable hides a name", example: 'deny * when any(url in user.roles: url == "x")' },
  PC506: { severity: "warning", title: "string names no declared tool or intent", example: 'deny * when tool == "sql.dll"' },
  PC507: { severity: "warning", title: "normalized value compared with text it never holds", example: 'deny sql.query when args.sql.lower() contains "DROP TABLE"' },
  PC508: { severity: "warning", title: "`like` pattern written as SQL or a regular expression", example: 'deny email.send when any(r in args.to: r like "%@rival.com")' },
  PC509: { severity: "warning", title: "condition contradicts the rule's targets", example: "deny sql.query when tool == export.s3" },
  PC510: { severity: "warning", title: "invisible or space-like character in a string", example: 'deny shell.exec when args.cmd.startsWith("rm\u00a0-rf")   // a raw U+00A0, not the escape' },
  PC511: { severity: "warning", title: "glob `*` in a string compared literally", example: 'deny email.send when args.to contains "*@evil.com"' },
  PC512: { severity: "warning", title: "address's domain tested on its text", example: 'deny email.send when any(r in args.to: not (r like "*@acme.com"))' },
  PC513: { severity: "warning", title: "`ask` turns a default deny into a request for approval", example: "ask * when session.denials >= 5" },
  PC514: { severity: "warning", title: "`@suppress` hides no warning", example: '@suppress("PC511")\nallow kb.search' },
  PC515: { severity: "warning", title: "`session.labels` read, but `context.labels` is not declared", example: "enum Label { pii }\ncontext { env: string }\ndeny email.send when session.labels contains pii" },
  PC516: { severity: "warning", title: "URL's host tested on its text", example: 'allow http.get when args.url.startsWith("https://api.acme.com")' },
  PC517: { severity: "warning", title: "file path tested on its text", example: 'allow fs.read when args.path.startsWith("/workspace/")' },
  PC518: { severity: "warning", title: "rule ids look alike", example: '@name("caf\u00e9") allow a\n@name("cafe\u0301") deny a' },
  PC519: { severity: "warning", title: "label tested in `session.labels` that no tool returns", example: 'tool crm.lookup { returns pii }\ndeny email.send when session.labels contains "PII"' },
  PC520: { severity: "warning", title: "shell command allowed by how it starts", example: 'allow shell.exec when args.cmd like "npm *"' },
  PC521: { severity: "warning", title: "`allow` of every tool or a whole namespace with no condition", example: "allow payments.*" },
  PC522: { severity: "warning", title: "control id given twice on a rule", example: '@controls("OWASP-ASI03", "OWASP-ASI03")\nallow kb.search' },
} as const satisfies Record<string, CodeInfo>;

export type Code = keyof typeof CODES;
