import { describe, expect, it } from "vitest";
import { analyze } from "../../src/check/analyze.js";
import { CODES, type Code } from "../../src/diagnostics/codes.js";
import { DECLS } from "../fixtures.js";

/**
 * One small policy per diagnostic code of the front end (PC1xx–PC5xx), checked with the
 * contract's declarations: each must give exactly its code, at the line marked `<-`.
 * A new code in codes.ts without an example here fails the coverage test below.
 */
const EXAMPLES: Partial<Record<Code, string>> = {
  PC100: "policy p {\n  allow kb.search when agent.attested; // <-\n}",
  PC101: 'policy p {\n  deny * when agent.team == "sales // <-\n}',
  PC102: "enum E { a }\n/* never closed // <-\n",
  PC103: 'policy p {\n  allow when agent.team == "support" // <-\n}',
  PC104: 'policy p {\n  allow kb.search grant "kb:read" for 5w // <-\n}',
  PC105: 'policy p {\n  deny * when agent.team == "C:\\dir" // <-\n}',
  PC106: `policy p {\n  deny * when ${"(".repeat(300)}true${")".repeat(300)} // <-\n}`,
  PC107: 'policy p {\n  deny * reason "x" when true // <-\n}',
  PC108: "policy p {\n  deny * when session.calls > 99999999999999999999 // <-\n}",
  PC109: "policy p {\n  @name(42) // <-\n  deny kb.search when agent.attested\n}",
  PC111: 'policy p {\n  allow kb.search @name("kb-read") // <-\n  deny email.send when agent.attested\n}',
  PC112: 'policy p {\n  deny * when agent.team == "support\u202e" // <-\n}',
  PC200: "enum Zone { a } // <-",
  PC201: "type T { zone: Zonee } // <-\ntool t.t { args { t: T } }",
  PC202: 'policy p {\n  allow kb.search when agent.tema == "support" // <-\n}',
  PC203: "policy p {\n  allow email.sned // <-\n}",
  PC204: "policy p {\n  allow kb.search when intent == suport.reply // <-\n}",
  PC205: "policy p {\n  allow kb.search when agent.zone == externall // <-\n}",
  PC206: 'policy p {\n  allow kb.search when agnt.team == "x" // <-\n}',
  PC207: 'policy p {\n  @name("same")\n  allow kb.search when agent.attested\n  @name("same") // <-\n  deny kb.search when agent.attested\n}',
  PC208: "policy p {\n  allow crmm.* // <-\n}",
  PC209: "policy p {\n  deny * when session.cals > 3 // <-\n}",
  PC210: "policy p {\n  deny * when session.count() > 3 // <-\n}",
  PC211: 'policy p {\n  allow kb.search when args.query.upper() == "X" // <-\n}',
  PC212: "tool t.t { risk severe } // <-",
  PC213: "tool t.t { returns pi } // <-",
  PC214: "tool t.t { args { a: set } } // <-",
  PC215: "type Node { next: Node } // <-\ntool t.t { args { head: Node } }",
  PC300: 'policy p {\n  allow kb.search when agent.attested == "yes" // <-\n}',
  PC301: 'policy p {\n  deny * when agent.attested like "*" // <-\n}',
  PC302: "policy p {\n  deny * when tool.risk > 3 // <-\n}",
  PC303: "policy p {\n  ask http.get when context.destination.zone == external // <-\n}",
  PC304: 'policy p {\n  allow email.send, kb.search when args.query == "x" // <-\n}',
  PC305: "policy p {\n  deny * when agent.team // <-\n}",
  PC306: "policy p {\n  deny * when agent.team has x // <-\n}",
  PC307: 'policy p {\n  deny http.get when ip.inRange(url.host(args.url), "169.254.0.0") // <-\n}',
  PC400: 'policy p {\n  deny kb.search grant "kb:read" for 5m // <-\n}',
  PC401: "policy p {\n  allow kb.search revoke // <-\n}",
  PC402: 'policy p {\n  allow kb.search grant "kb:read" for 0s // <-\n}',
  PC403: 'policy p {\n  allow kb.search grant "" for 5m // <-\n}',
  PC500: "policy p {\n  allow kb.search when 1 == 2 // <-\n}",
  PC501: "policy p {\n  allow kb.search // <-\n  deny kb.*\n}",
  PC502: "enum Unused { a, b } // <-",
  PC504: 'policy p {\n  @Name("kb-read") // <-\n  deny kb.search when agent.attested\n}',
  PC505: 'policy p {\n  deny * when any(url in user.roles: url == "x") // <-\n}',
  PC506: 'policy p {\n  deny * when tool == "kb.serch" // <-\n}',
  PC507: 'policy p {\n  deny kb.search when args.query.lower() contains "DROP" // <-\n}',
  PC508: 'policy p {\n  deny kb.search when args.query like "%secret%" // <-\n}',
  PC509: "policy p {\n  deny email.send when tool == kb.search // <-\n}",
  PC510: 'policy p {\n  deny kb.search when args.query.startsWith("rm\u00a0-rf") // <-\n}',
  PC511: 'policy p {\n  deny email.send when args.to contains "*@evil.com" // <-\n}',
  PC512: 'policy p {\n  deny email.send when any(r in args.to: not (r like "*@acme.com")) // <-\n}',
  PC513: "policy p {\n  allow kb.search\n  ask * when session.denials >= 5 // <-\n}",
  PC514: 'policy p {\n  @suppress("PC511") // <-\n  allow kb.search\n}',
  PC516: 'policy p {\n  allow http.get when args.url.startsWith("https://api.acme.com") // <-\n}',
  PC517: 'policy p {\n  allow http.get when args.url.startsWith("/workspace/") // <-\n}',
  PC521: "policy p {\n  allow kb.search\n  allow http.* // <-\n}",
  PC518: 'policy p {\n  @name("caf\u00e9")\n  allow kb.search when agent.attested\n  @name("cafe\\u0301") // <-\n  deny kb.search when agent.attested\n}',
};

/** Codes about the set as a whole, shown by a file checked alone, without the contract's declarations. */
const ALONE: Partial<Record<Code, string>> = {
  PC216: "policy p {\n  allow kb.search // <-\n}",
  PC515: "enum Label { pii } // <-\ncontext { env: string }\ntool email.send {}\npolicy p {\n  allow email.send\n  deny email.send when session.labels contains pii\n}",
  PC520: 'tool shell.exec { args { cmd: string } }\npolicy p {\n  allow shell.exec when args.cmd like "npm *" // <-\n}',
  PC522: 'tool kb.search {}\npolicy p {\n  @controls("OWASP-ASI03", "OWASP-ASI03") // <-\n  allow kb.search\n}',
  PC519: 'tool crm.lookup { returns pii }\ntool email.send {}\npolicy p {\n  allow crm.lookup, email.send\n  deny email.send when session.labels contains "PII" // <-\n}',
};

/** Codes that `analyze` never reports: they come from the command line or from `fmt`. */
const REPORTED_ELSEWHERE: readonly Code[] = [
  "PC110", // a doc comment `fmt` cannot place: test/cli/fmt.test.ts
  "PC503", // the "more diagnostics not shown" line: test/cli/check.test.ts
];

function markedLine(text: string): number {
  return text.split("\n").findIndex((l) => l.includes("// <-")) + 1;
}

describe("every front-end code", () => {
  it("has an example here", () => {
    const frontEnd = (Object.keys(CODES) as Code[]).filter((c) => /^PC[1-5]\d\d$/.test(c) && !REPORTED_ELSEWHERE.includes(c));
    expect(frontEnd.filter((c) => !(c in EXAMPLES) && !(c in ALONE))).toEqual([]);
  });

  it.each([...Object.entries(EXAMPLES), ...Object.entries(ALONE)])("%s", (code, text) => {
    const result = analyze([...(code in ALONE ? [] : [{ path: "decls.policy", text: DECLS }]), { path: "t.policy", text: text! }]);
    const found = result.diagnostics.map((d) => ({ code: d.code, file: d.span?.file.path, line: d.span ? d.span.file.position(d.span.start).line : 0, severity: d.severity }));
    expect(found, JSON.stringify(result.diagnostics.map((d) => d.message))).toEqual([{ code, file: "t.policy", line: markedLine(text!), severity: CODES[code as Code].severity }]);
    expect(result.ok).toBe(CODES[code as Code].severity !== "error");
  });
});
