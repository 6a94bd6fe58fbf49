import { spawnSync } from "node:child_process";
import { createPrivateKey, createPublicKey, generateKeyPairSync } from "node:crypto";
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import type { Bundle } from "../../src/bundle/Bundle.js";
import { contentHash } from "../../src/bundle/hash.js";
import { loadBundle, parsePublicKey } from "../../src/bundle/loadBundle.js";
import { explain } from "../../src/runtime/explain.js";
import { clauseLines } from "../../src/testing/explanationText.js";
import { compile, compileSources } from "../../src/compile/compile.js";
import { bin, BIN, cli, resigned, ROOT, type CliResult } from "../helpers.js";
import { call, DECLS, SUPPORT_RULES } from "../runtime/fixtures.js";

/** `policyc eval`: one decision, explained; goldens with exit codes, run in a temporary folder. */
let dir: string;
const SOURCES = [
  { path: "decls.policy", text: DECLS },
  { path: "support.policy", text: SUPPORT_RULES },
];
const engine = compile(SOURCES);
/** `support.policy:L:C` of a rule, as the explanation shows it. */
const at = (id: string): string => engine.rule(id)!.location;

const LOOKUP = call("crm.lookup", 0, { session: "s1" });
const LEAK = call("email.send", 1000, { session: "s1", args: { to: ["bob@acme.com", "eve@evil.example"], subject: "Refund", body: "Hi" } });
const NO_INTENT = call("kb.search", 0, { session: "s8", intent: undefined });

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-eval-"));
  for (const source of SOURCES) write(source.path, source.text);
  write("lookup.json", JSON.stringify(LOOKUP, null, 2));
  write("history.jsonl", [LOOKUP, LEAK].map((r) => JSON.stringify(r)).join("\n") + "\n");
  write("no-intent.json", JSON.stringify(NO_INTENT));
  write("tests.policy", TESTS_POLICY);
  write("warehouse.policy", WAREHOUSE_POLICY);
  write("big-read.json", JSON.stringify(BIG_READ));
  write("broken.json", "{bad\n");
  write("pretty-broken.json", '{\n  "session": "s",\n  "tool": "kb.search",\n  "args": {"query": "x",}\n}\n');
  write("broken.jsonl", `${JSON.stringify(LOOKUP)}\nnot json\n`);
  write("string.json", '"kb.search"\n');
  write("bad.policy", "tool a.b { args { x: strin } }\n");
  const { policy } = compileSources(SOURCES);
  write("bundle.json", serializeBundle(createBundle(policy!, SOURCES)));
  const tampered = JSON.parse(serializeBundle(createBundle(policy!, SOURCES))) as { rules: { reason: string | null }[] };
  tampered.rules[2]!.reason = "anything goes";
  write("tampered.json", JSON.stringify(tampered));
  write("not-a-bundle.json", '{"format": "something else"}');
  const badCode = JSON.parse(serializeBundle(createBundle(policy!, SOURCES))) as Bundle;
  (badCode as { code: string }).code = "this is not JavaScript";
  (badCode.manifest as { contentHash: string }).contentHash = contentHash(badCode);
  write("bad-code.json", JSON.stringify(badCode));
  const { privateKey, publicKey } = generateKeyPairSync("ed25519");
  write("signed.json", serializeBundle(createBundle(policy!, SOURCES, { privateKey })));
  write("public.pem", publicKey.export({ type: "spki", format: "pem" }) as string);
  write("private.pem", privateKey.export({ type: "pkcs8", format: "pem" }) as string);
  write("other.pem", generateKeyPairSync("ed25519").publicKey.export({ type: "spki", format: "pem" }) as string);
  writeFileSync(join(dir, "public.der"), publicKey.export({ type: "spki", format: "der" }));
  write("empty.pem", "");
  write("rsa.pem", generateKeyPairSync("rsa", { modulusLength: 1024 }).publicKey.export({ type: "spki", format: "pem" }) as string);
  // A signed bundle changed and re-hashed: only its signature gives it away.
  const forged = JSON.parse(serializeBundle(createBundle(policy!, SOURCES, { privateKey }))) as Bundle & { rules: { reason: string | null }[] };
  forged.rules[2]!.reason = "anything goes";
  (forged.manifest as { contentHash: string }).contentHash = contentHash(forged);
  write("forged.json", JSON.stringify(forged));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function write(name: string, text: string): void {
  writeFileSync(join(dir, name), text);
}

function read(name: string): string {
  return readFileSync(join(dir, name), "utf8");
}

function evaluate(args: string[], stdin?: string): Promise<CliResult> {
  return cli(["eval", ...args], { cwd: dir, ...(stdin === undefined ? {} : { stdin }) });
}

function expectNoStackTrace(result: CliResult): void {
  for (const text of [result.stdout, result.stderr]) {
    expect(text).not.toMatch(/^\s+at /m);
    expect(text).not.toMatch(/^\w*Error:/m);
    expect(text).not.toContain("internal error");
  }
}

/** A rule for each membership and text operator, true or false by the request, under not and unless, in a quantifier. */
const TESTS_POLICY = [
  "enum Label { public, internal, pii, secret }",
  "type Msg { to: list<string> }",
  "agent { id: string, team: string }",
  "tool crm.lookup { risk low returns pii args { id: string } }",
  "tool mail.send { risk high args { to: list<string>, roles: list<string>, body: string, url: string, msgs: list<Msg> } }",
  "policy m {",
  '  @name("lookup") allow crm.lookup',
  '  @name("labels") deny mail.send when session.labels contains pii',
  '  @name("blocked") deny mail.send when args.to containsAny ["eve@evil.example", "mallory@evil.example"]',
  '  @name("oncall") allow mail.send when args.roles containsAll ["admin", "oncall"]',
  '  @name("listed") ask mail.send when args.url in ["https://docs.acme.com/x", "https://wiki.acme.com/"]',
  '  @name("secrets") deny mail.send when args.body contains "password"',
  '  @name("evil") deny mail.send when args.url like "https://*.evil.com/*"',
  '  @name("spiffe") allow mail.send when agent.id.startsWith("spiffe://acme.com/") unless args.body.endsWith("!")',
  '  @name("nested") deny mail.send when any(m in args.msgs: m.to containsAny ["eve@evil.example"])',
  '  @name("boss") ask mail.send when not (args.to contains "boss@acme.com") and all(r in args.to: r like "*@acme.com")',
  '  @name("host") deny mail.send when url.host(args.url).endsWith(".evil.com")',
  "}",
  "",
].join("\n");

/** Reads are allowed with a short credential; big ones need a person's approval, which gives the same credential. */
const WAREHOUSE_POLICY = [
  "user { id: string }",
  "tool sql.query { args { row_limit: int } }",
  "policy w {",
  '  @name("read") allow sql.query grant "warehouse:read" for 15m',
  '  @name("analyst") allow sql.query when user.id.startsWith("an-") grant "warehouse:read", "warehouse:export" for 5m',
  '  @name("big") ask sql.query when args.row_limit > 5000 reason "large pulls need approval"',
  "}",
  "",
].join("\n");
const BIG_READ = { session: "s1", time: "2026-01-01T10:00:00Z", tool: "sql.query", args: { row_limit: 6000 } };

const LOOKUP_GOLDEN = [
  "allow crm.lookup (session s1)",
  `  by lookup-for-tickets (allow, ${at("lookup-for-tickets")})`,
  '    `agent.team == "support"` was true',
  "    `intent == support.reply` was true",
  "  grant crm:read for 300s",
  "  also considered:",
  "    rate (deny) did not match: `session.count(within 1m) > 30` was false (1 > 30)",
  "    loop (deny) did not match: `session.repeats >= 4` was false (0 >= 4)",
  '    off-intent (deny) did not match: `not (tool in intent.tools)` was false (tool is "crm.lookup", intent.tools is ["crm.lookup","email.send","kb.search"])',
  '    risk-escalation (deny) did not match: `tool.risk > intent.max_risk` was false ("low" > "high")',
  "",
].join("\n");

describe("policyc eval", () => {
  it("explains one decision from sources (golden, exit 0)", async () => {
    expect(await evaluate(["decls.policy", "support.policy", "--request", "lookup.json"])).toEqual({ code: 0, stdout: LOOKUP_GOLDEN, stderr: "" });
  });

  it("an `or` of tests of one value names that value once, not once per term (audit a2)", async () => {
    const result = await cli(["eval", "samples/coding-agent", "--request", "samples/coding-agent/requests/force-push-main.jsonl"]);
    expect(result.code).toBe(0);
    const line = result.stdout.split("\n").find((text) => text.includes("push-plain-branch (deny) did not match"));
    expect(line).toMatch(/was false \(args\.branch is "main"\)$/);
  });

  it("the same from a bundle, and from standard input", async () => {
    expect(await evaluate(["--bundle", "bundle.json", "--request", "lookup.json"])).toEqual({ code: 0, stdout: LOOKUP_GOLDEN, stderr: "" });
    expect(await evaluate(["--bundle", "bundle.json", "--request", "-"], JSON.stringify(LOOKUP))).toEqual({ code: 0, stdout: LOOKUP_GOLDEN, stderr: "" });
    expect(await evaluate(["bundle.json", "--request", "lookup.json"])).toMatchObject({ code: 0, stdout: LOOKUP_GOLDEN });
  });

  it("JSON Lines: earlier lines set up the session; the last is explained clause by clause (golden)", async () => {
    const result = await evaluate(["decls.policy", "support.policy", "--request", "history.jsonl"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toBe(
      [
        // The session's earlier lines, and the one that brought the label the deny reads.
        "history of session s1: 1 earlier line",
        "  line 1, 2026-11-29T10:00:00.000Z: allow crm.lookup by lookup-for-tickets; adds label pii",
        "deny email.send (session s1)",
        `  by pii-stays-inside (deny, ${at("pii-stays-inside")})`,
        "    reason: customer data may not be emailed outside acme.com",
        '    `session.labels contains pii` was true (session.labels is ["pii"]: pii returned by crm.lookup at line 1)',
        '    `any(r in args.to: not (r like "*@acme.com"))` was true for args.to[1] = "eve@evil.example"',
        "  also considered:",
        '    support/2 (allow) matched: `agent.team == "support"` was true',
        "    rate (deny) did not match: `session.count(within 1m) > 30` was false (2 > 30)",
        "    loop (deny) did not match: `session.repeats >= 4` was false (0 >= 4)",
        '    off-intent (deny) did not match: `not (tool in intent.tools)` was false (tool is "email.send", intent.tools is ["crm.lookup","email.send","kb.search"])',
        '    risk-escalation (deny) did not match: `tool.risk > intent.max_risk` was false ("high" > "high")',
        "",
      ].join("\n"),
    );
    // Without the history, the session has no pii and the call is allowed.
    const alone = await evaluate(["decls.policy", "support.policy", "--request", "-"], JSON.stringify(LEAK));
    expect(alone.stdout).toMatch(/^allow email\.send/);
    expect(alone.stdout).toContain("pii-stays-inside (deny) did not match: `session.labels contains pii` was false (session.labels is [])");
  });

  it("shows failed clauses and errors", async () => {
    const result = await evaluate(["decls.policy", "support.policy", "--request", "no-intent.json"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^deny kb\.search \(session s8\)\n {2}by off-intent \(deny, /);
    expect(result.stdout).toContain("    `not (tool in intent.tools)` failed: the request names no intent\n");
    expect(result.stdout).toContain("  error: off-intent: the request names no intent\n");
    expect(result.stdout).toContain("    matched because its condition could not be evaluated (fails closed):\n    `not (tool in intent.tools)` failed");
    expect(result.stdout).toContain("the session is revoked"); // risk-escalation matched by failing closed, and revokes
  });

  it("an `unless X` clause shows X's own value, in the text and in --json (the rule matches only when it is false)", async () => {
    write("unless.policy", 'policy u {\n  @name("not-in-prod") allow crm.lookup when agent.team == "support" unless context.env == "prod"\n}\n');
    const result = await evaluate(["decls.policy", "unless.policy", "--request", "lookup.json"]);
    expect(result.stdout).toContain('    not-in-prod (allow) did not match: `agent.team == "support"` was true; unless `context.env == "prod"` was true\n');
    const json = JSON.parse((await evaluate(["decls.policy", "unless.policy", "--request", "lookup.json", "--json"])).stdout) as { explanation: { rules: { id: string; matched: unknown; clauses: unknown[] }[] } };
    expect(json.explanation.rules[0]).toMatchObject({
      id: "not-in-prod",
      matched: false,
      clauses: [
        { text: 'agent.team == "support"', value: true },
        { text: 'unless context.env == "prod"', value: true },
      ],
    });
  });

  it("an ip.inRange of a value that is no bare host fails its term only: a false term, a true `unless` or a later element still settles the rule, and the decision agrees with its explanation (audit s20 a5 #1)", async () => {
    write("ranges-decls.policy", "tool t.a { risk medium args { s: string, to: list<string>, n: int } }\n");
    write("ranges-and.policy", 'policy p {\n  @name("ok") allow t.a\n  @name("d") deny t.a when ip.inRange(args.s, "10.0.0.0/8") and args.n > 100\n}\n');
    write("ranges-unless.policy", 'policy p {\n  @name("ok") allow t.a\n  @name("d") deny t.a when ip.inRange(args.s, "10.0.0.0/8") unless args.n == 0\n}\n');
    write("ranges-any.policy", 'policy p {\n  @name("ok") allow t.a when any(r in args.to: ip.inRange(r, "10.0.0.0/8"))\n}\n');
    write("ranges-url.json", JSON.stringify({ session: "s1", tool: "t.a", args: { s: "http://10.0.0.1/", to: [], n: 0 } }));
    write("ranges-list.json", JSON.stringify({ session: "s1", tool: "t.a", args: { s: "", to: ["a@acme.com", "10.0.0.1"], n: 0 } }));
    const and = await evaluate(["ranges-decls.policy", "ranges-and.policy", "--request", "ranges-url.json"]);
    expect(and.stdout).toMatch(/^allow t\.a \(session s1\)\n {2}by ok \(allow, /);
    expect(and.stdout).toContain('    d (deny) did not match: `ip.inRange(args.s, "10.0.0.0/8")` failed: ip.inRange: "http://10.0.0.1/" is a URL, not a host: take its host with url.host(…); `args.n > 100` was false (0 > 100)\n');
    expect(and.stdout).not.toContain("error:");
    const unless = await evaluate(["ranges-decls.policy", "ranges-unless.policy", "--request", "ranges-url.json"]);
    expect(unless.stdout).toMatch(/^allow t\.a \(session s1\)\n {2}by ok \(allow, /);
    const any = await evaluate(["ranges-decls.policy", "ranges-any.policy", "--request", "ranges-list.json", "--json"]);
    expect(JSON.parse(any.stdout)).toMatchObject({ decision: "allow", rules: ["ok"], errors: [], explanation: { rules: [{ id: "ok", matched: true }] } });
  });

  it("a bundle built before ip.inRange noted its errors (its code calls rt.inIpRanges without the decision context) still fails the rule closed on one, and its explanation fails the whole rule too, as its decision did (review r5 #1)", async () => {
    // Built by policyc at b4423d5 from ip-ranges.policy beside it: its code throws out of the rule on an ip.inRange error.
    const old = join(ROOT, "test/fixtures/bundles/ip-ranges-old-calls.json");
    expect(readFileSync(old, "utf8")).toContain('rt.inIpRanges(K0, cArgs[\\"s\\"]) &&');
    write("old-url.json", JSON.stringify({ session: "s1", tool: "t.a", args: { s: "http://10.0.0.1/", u: "", to: [], n: 0 } }));
    write("old-list.json", JSON.stringify({ session: "s1", tool: "t.b", args: { s: "", u: "", to: ["a@acme.com", "10.0.0.1"], n: 0 } }));
    // Another policyc's bundle runs only signed, its signature checked (PC708 is then a warning).
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    write("old-signed.json", JSON.stringify(resigned(JSON.parse(readFileSync(old, "utf8")) as Bundle, privateKey)));
    write("old.pem", publicKey.export({ type: "spki", format: "pem" }) as string);
    expect((await evaluate(["--bundle", old, "--request", "old-url.json"])).stderr).toMatch(/error\[PC708\]: .*Refusing to run it unsigned/);
    const signed = ["--bundle", "old-signed.json", "--public-key", "old.pem"];
    const and = await evaluate([...signed, "--request", "old-url.json"]);
    expect(and.stderr).toMatch(/^old-signed\.json: warning\[PC708\]: /);
    expect(and.stdout).toMatch(/^deny t\.a \(session s1\)\n {2}by d \(deny, ip-ranges\.policy:5:14\)\n {4}matched because its condition could not be evaluated \(fails closed\):\n {4}`ip\.inRange\(args\.s, "10\.0\.0\.0\/8"\)` failed: ip\.inRange: "http:\/\/10\.0\.0\.1\/" is a URL, not a host: take its host with url\.host\(…\)\n {2}error: d: /);
    // The later clause was never evaluated by the decision, so the explanation does not show it.
    expect(and.stdout).not.toContain("args.n > 100");
    const any = JSON.parse((await evaluate([...signed, "--request", "old-list.json", "--json"])).stdout) as { decision: string; errors: string[]; explanation: { rules: { id: string; matched: unknown }[] } };
    expect(any.decision).toBe("deny");
    expect(any.errors).toEqual(['q: ip.inRange: "a@acme.com" is not a bare host (it has a path, user information, a query or a fragment): take the host with url.host(…)']);
    expect(any.explanation.rules).toMatchObject([{ id: "q", matched: "error" }]);
    // Built again, the same policy settles both as the language says.
    const rebuilt = await bin(["build", join(ROOT, "test/fixtures/bundles/ip-ranges.policy"), "-o", join(dir, "ip-ranges-new.json")]);
    expect(rebuilt.code).toBe(0);
    expect((await evaluate(["--bundle", "ip-ranges-new.json", "--request", "old-url.json"])).stdout).toMatch(/^allow t\.a \(session s1\)\n {2}by ok /);
    expect(JSON.parse((await evaluate(["--bundle", "ip-ranges-new.json", "--request", "old-list.json", "--json"])).stdout)).toMatchObject({ decision: "allow", rules: ["q"], errors: [] });
  });

  it("shows a session.count whose window let go of attempts inside it as a lower bound, in the text and in --json, and an exact one as it is (audit s20 a5 #2)", async () => {
    // The window keeps what `>= 1` needs: from the fourth call in a minute it holds fewer than were made.
    write("count-decls.policy", "tool t.a { risk medium args { n: int } }\n");
    write("count.policy", 'policy p {\n  @name("a") allow t.a when session.count(within 1m) >= 1\n}\n');
    write("count-100.policy", 'policy p {\n  @name("a") allow t.a when session.count(within 1m) >= 1\n  @name("b") deny t.a when session.count(within 1m) > 100\n}\n');
    const calls = [0, 1, 2, 3, 4].map((i) => JSON.stringify({ time: `2026-01-01T00:00:0${i}Z`, session: "s1", tool: "t.a", args: { n: 0 } }));
    const countLine = async (policy: string, history: string[]): Promise<string | undefined> => (await evaluate(["count-decls.policy", policy, "--request", "-"], history.join("\n"))).stdout.split("\n").find((line) => line.includes("session.count"));
    expect(await countLine("count.policy", calls.slice(0, 3))).toBe("    `session.count(within 1m) >= 1` was true (3 >= 1; session.count(within 1m): lines 1 and 2, and this one)");
    expect(await countLine("count.policy", calls)).toBe("    `session.count(within 1m) >= 1` was true (at least 3 >= 1)");
    // A window that keeps them all (another rule compares with 100) counts them all.
    expect(await countLine("count-100.policy", calls)).toBe("    `session.count(within 1m) >= 1` was true (5 >= 1; session.count(within 1m): 4 attempts from line 1 to line 4, and this one)");
    const json = JSON.parse((await evaluate(["count-decls.policy", "count.policy", "--request", "-", "--json"], calls.join("\n"))).stdout) as { decision: string; explanation: { rules: { clauses: { evidence: { left: unknown }[] }[] }[] } };
    expect(json.decision).toBe("allow");
    expect(json.explanation.rules[0]!.clauses[0]!.evidence[0]!.left).toEqual({ text: "session.count(within 1m)", shown: "3", constant: false, atLeast: true });
  });

  it("shows a revocation", async () => {
    const history = [0, 1, 2, 3, 4].map((i) => JSON.stringify(call("kb.search", i * 1000, { session: "loop" }))).join("\n");
    const result = await evaluate(["decls.policy", "support.policy", "--request", "-"], history);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("  by loop (deny, ");
    expect(result.stdout).toContain("    `session.repeats >= 4` was true (4 >= 4; session.repeats: the same call at lines 1, 2, 3 and 4)\n");
    expect(result.stdout).toContain("  the session is revoked\n");
  });

  it("on a session revoked earlier, shows the revoking rule's reason under the note, as --json has it; a rule without one adds no line (audit s20 a5 #3)", async () => {
    write("revoke-decls.policy", "tool t.a { risk medium args { n: int } }\ntool t.b { risk high args { n: int } }\n");
    write("revoke.policy", 'policy p {\n  @name("rv") deny t.b when args.n == 9 reason "nine" revoke\n  @name("quiet") deny t.b when args.n == 8 revoke\n  allow t.*\n}\n');
    const history = (n: number): string => [JSON.stringify({ time: "2026-01-01T00:00:00Z", session: "s1", tool: "t.b", args: { n } }), JSON.stringify({ time: "2026-01-01T00:00:01Z", session: "s1", tool: "t.a", args: { n: 0 } })].join("\n");
    const revoked = await evaluate(["revoke-decls.policy", "revoke.policy", "--request", "-"], history(9));
    expect(revoked.stdout).toBe(`history of session s1: 1 earlier line\n  line 1, 2026-01-01T00:00:00Z: deny t.b by rv; revokes the session (rv): nine\ndeny t.a (session s1)\n  the session was revoked at 2026-01-01T00:00:00.000Z by rv (revoke.policy:2:15) on t.b: every later attempt is denied\n    reason: nine\n`);
    const json = JSON.parse((await evaluate(["revoke-decls.policy", "revoke.policy", "--request", "-", "--json"], history(9))).stdout) as { reasons: string[]; explanation: { revokedFor?: string[] } };
    expect(json.reasons).toEqual(["nine"]);
    expect(json.explanation.revokedFor).toEqual(["nine"]);
    const quiet = await evaluate(["revoke-decls.policy", "revoke.policy", "--request", "-"], history(8));
    expect(quiet.stdout).toBe(`history of session s1: 1 earlier line\n  line 1, 2026-01-01T00:00:00Z: deny t.b by quiet; revokes the session (quiet): t.b is denied by quiet\ndeny t.a (session s1)\n  the session was revoked at 2026-01-01T00:00:00.000Z by quiet (revoke.policy:3:18) on t.b: every later attempt is denied\n`);
  });

  it("explains a request denied before any rule ran", async () => {
    const result = await evaluate(["decls.policy", "support.policy", "--request", "string.json"]);
    expect(result).toEqual({ code: 0, stdout: "deny\n  the request was denied before any rule ran: the request must be a JSON object\n", stderr: "" });
    const missing = await evaluate(["decls.policy", "support.policy", "--request", "-"], '{"session":"x","tool":"kb.search"}');
    expect(missing.stdout).toBe("deny kb.search (session x)\n  the request was denied before any rule ran: request.agent is missing\n");
  });

  it("--json prints {decision, rules, reasons, grants, revoked, errors, explanation}", async () => {
    const result = await evaluate(["decls.policy", "support.policy", "--request", "history.jsonl", "--json"]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe("");
    const output = JSON.parse(result.stdout) as Record<string, unknown>;
    expect(Object.keys(output)).toEqual(expect.arrayContaining(["decision", "rules", "reasons", "grants", "revoked", "errors", "explanation"]));
    expect(output).toMatchObject({
      decision: "deny",
      rules: ["pii-stays-inside"],
      reasons: ["customer data may not be emailed outside acme.com"],
      grants: [],
      revoked: false,
      errors: [],
      explanation: { tool: "email.send", note: null },
    });
    const explanation = output["explanation"] as { rules: { id: string; effect: string; matched: unknown; location: string; clauses: { text: string; value: unknown; witness?: unknown }[] }[] };
    const leak = explanation.rules.find((r) => r.id === "pii-stays-inside")!;
    expect(leak).toMatchObject({ effect: "deny", matched: true, location: at("pii-stays-inside") });
    expect(leak.clauses).toEqual([
      {
        text: "session.labels contains pii",
        value: true,
        evidence: [{ kind: "membership", text: "session.labels contains pii", operator: "contains", value: true, left: { text: "session.labels", shown: '["pii"]', constant: false, provenance: { text: "pii returned by crm.lookup at line 1", lines: [1] } }, right: { text: "pii", shown: '"pii"', constant: true } }],
      },
      {
        text: 'any(r in args.to: not (r like "*@acme.com"))',
        value: true,
        witness: "eve@evil.example",
        evidence: [
          { kind: "element", quantifier: "any", path: "args.to[1]", index: 1, shown: '"eve@evil.example"' },
          { kind: "text", text: 'r like "*@acme.com"', operator: "like", value: false, left: { text: "args.to[1]", shown: '"eve@evil.example"', constant: false }, right: { text: '"*@acme.com"', shown: '"*@acme.com"', constant: true } },
        ],
      },
    ]);
    expect(explanation.rules.map((r) => r.id)).toEqual(["support/2", "pii-stays-inside", "rate", "loop", "off-intent", "risk-escalation"]);
  });

  it("notes an approval in the history that the engine refuses although the history says it went ahead, with the reason (exit 0)", async () => {
    write("pay.policy", 'tool payments.send { risk critical args { payee_id: string, amount_cents: int } }\npolicy p {\n  allow payments.send\n  @name("large-asks") ask payments.send when args.amount_cents > 100000\n}\n');
    const line = (fields: Record<string, unknown>): string => JSON.stringify({ session: "s", tool: "payments.send", ...fields });
    write("h.jsonl", [
      line({ time: "2026-11-30T07:00:00Z", args: { payee_id: "ACME", amount_cents: 150000 } }),
      line({ event: "approval", time: "2026-11-30T07:00:05Z", args: { payee_id: "EVIL", amount_cents: 150000 }, approved: true }),
      line({ event: "approval", time: "2026-11-30T07:00:06Z", args: { payee_id: "ACME", amount_cents: 150000 }, approved: true }),
      line({ time: "2026-11-30T07:00:10Z", args: { payee_id: "ACME", amount_cents: 100 } }),
    ].join("\n") + "\n");
    const result = await evaluate(["pay.policy", "--request", "h.jsonl"]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^history of session s: 3 earlier lines\n {2}line 1, 2026-11-30T07:00:00Z: ask payments\.send by large-asks\n {2}line 2, 2026-11-30T07:00:05Z: approval of payments\.send: refused by the engine\n {2}line 3, 2026-11-30T07:00:06Z: approval of payments\.send: taken\nallow payments\.send/);
    expect(result.stderr).toBe('policyc eval: note: h.jsonl:2, an approval: the history says it went ahead ("approved": true), but the engine refused it: session "s" has no ask awaiting approval for this payments.send call: only a call answered ask can be approved, with the same declared arguments, and the ask of payments.send awaiting approval is for other arguments\n');
  });

  it("an ask shows the grants a person's approval gives, and the errors of the allow rules that failed, in text and --json (golden)", async () => {
    expect(await evaluate(["warehouse.policy", "--request", "big-read.json"])).toEqual({
      code: 0,
      stdout: [
        "ask sql.query (session s1)",
        "  by big (ask, warehouse.policy:6:16)",
        "    reason: large pulls need approval",
        "    `args.row_limit > 5000` was true (6000 > 5000)",
        "  on approval, grant warehouse:read for 900s",
        "  (the grants of read)",
        "  error: analyst: the request has no user",
        "  also considered:",
        "    read (allow) matched: no condition: it always matches",
        '    analyst (allow) could not be evaluated: `user.id.startsWith("an-")` failed: the request has no user',
        "",
      ].join("\n"),
      stderr: "",
    });
    const json = await evaluate(["warehouse.policy", "--request", "-", "--json"], JSON.stringify({ ...BIG_READ, user: { id: "an-1" } }));
    expect(json.code).toBe(0);
    const { explanation, undeclaredFields, policy, excluded, ...decision } = JSON.parse(json.stdout) as { explanation: { rules: { id: string; matched: unknown }[] }; undeclaredFields: string[]; policy: unknown; excluded: unknown };
    expect([policy, excluded]).toEqual([expect.objectContaining({ from: "sources" }), []]);
    expect(undeclaredFields).toEqual([]);
    expect(decision).toEqual({
      decision: "ask",
      rules: ["big"],
      reasons: ["large pulls need approval"],
      locations: ["warehouse.policy:6:16"],
      grants: [],
      grantsOnApproval: [
        { scope: "warehouse:read", ttlSeconds: 300 },
        { scope: "warehouse:export", ttlSeconds: 300 },
      ],
      grantingRules: ["read", "analyst"],
      revoked: false,
      errors: [],
    });
    expect(Object.keys(decision)).toEqual(["decision", "rules", "reasons", "locations", "grants", "grantsOnApproval", "grantingRules", "revoked", "errors"]);
    expect(explanation.rules.map((r) => [r.id, r.matched])).toEqual([
      ["read", true],
      ["analyst", true],
      ["big", true],
    ]);
    // A small read is allowed with the credential at once, and its decision has no grantsOnApproval.
    const small = JSON.parse((await evaluate(["warehouse.policy", "--request", "-", "--json"], JSON.stringify({ ...BIG_READ, args: { row_limit: 10 } }))).stdout) as Record<string, unknown>;
    expect(small).toMatchObject({ decision: "allow", grants: [{ scope: "warehouse:read", ttlSeconds: 900 }] });
    expect(small).not.toHaveProperty("grantsOnApproval");
  });

  it("a signed bundle with --public-key (exit 0); unsigned or signed by another key (exit 2)", async () => {
    expect(await evaluate(["--bundle", "signed.json", "--public-key", "public.pem", "--request", "lookup.json"])).toMatchObject({ code: 0, stdout: LOOKUP_GOLDEN });
    const unsigned = await evaluate(["--bundle", "bundle.json", "--public-key", "public.pem", "--request", "lookup.json"]);
    expect(unsigned).toEqual({ code: 2, stdout: "", stderr: "bundle.json: error[PC703]: the bundle is not signed, but a public key was given: refusing to load it\n" });
    const wrong = await evaluate(["--bundle", "signed.json", "--public-key", "other.pem", "--request", "lookup.json"]);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/signature/);
    const noKey = await evaluate(["--bundle", "signed.json", "--public-key", "missing.pem", "--request", "lookup.json"]);
    expect(noKey.code).toBe(2);
    expect(noKey.stderr).toContain("cannot read public key `missing.pem`");
  });

  it("a signed bundle edited to 1e400 for a null, or -0 for a 0, is refused with --public-key (exit 2): a value JSON cannot write back is not hashed (audit s19 F1)", async () => {
    const sources = [{ path: "count.policy", text: ["tool shell.exec {", "  risk high", "  args { cmd: string }", "}", "policy base {", '  deny shell.exec when session.count(within 1m) > 0 reason "too many"', "  allow shell.exec", "}", ""].join("\n") }];
    const signed = serializeBundle(createBundle(compileSources(sources).policy!, sources, { privateKey: createPrivateKey(read("private.pem")) }));
    write("count-infinite.json", signed.replace('"tools": null,', '"tools": 1e400,'));
    write("count-negative-zero.json", signed.replace(/"value": 0\n/, '"value": -0\n'));
    write("count-request.json", JSON.stringify({ session: "s1", tool: "shell.exec", args: { cmd: "ls" } }));
    const changed = "the compiler writes no such number, so it was changed after it was built: ship the bundle file byte for byte";
    const cases: [string, string][] = [
      ["count-infinite.json", `its \`rules[0].ir.left.tools\` holds a number too large for JSON (read as Infinity), which JSON writes back as null, so no hash covers it as written; ${changed}`],
      ["count-negative-zero.json", `its \`rules[0].ir.right.value\` holds -0, which JSON writes back as 0, so no hash covers it as written; ${changed}`],
    ];
    for (const [bundle, why] of cases) {
      expect(read(bundle)).not.toBe(signed);
      expect(await evaluate(["--bundle", bundle, "--public-key", "public.pem", "--request", "count-request.json"])).toEqual({ code: 2, stdout: "", stderr: `${bundle}: error[PC702]: the bundle's content does not match its hash: ${why}\n` });
    }
  });

  it("without --public-key, a signed bundle is explained with one note on standard error that its signature was not checked; an unsigned one with none (audit s19 F3)", async () => {
    const unchecked = (path: string): string => `policyc eval: note: \`${path}\` is signed, but its signature was not checked: give --public-key KEY.pem to check it\n`;
    expect(await evaluate(["--bundle", "signed.json", "--request", "lookup.json"])).toEqual({ code: 0, stdout: LOOKUP_GOLDEN, stderr: unchecked("signed.json") });
    expect(await evaluate(["signed.json", "--request", "lookup.json"])).toEqual({ code: 0, stdout: LOOKUP_GOLDEN, stderr: unchecked("signed.json") });
    const json = await evaluate(["--bundle", "forged.json", "--request", "lookup.json", "--json"]);
    expect(json.stderr).toBe(unchecked("forged.json"));
    expect(JSON.parse(json.stdout)).toMatchObject({ decision: "allow" });
    expect(await evaluate(["--bundle", "bundle.json", "--request", "lookup.json"])).toEqual({ code: 0, stdout: LOOKUP_GOLDEN, stderr: "" });
  });

  it("an empty or blank --public-key is bad usage (exit 2), never a skipped signature check", async () => {
    // The forged bundle runs without a key: the check is what --public-key is for.
    expect((await evaluate(["--bundle", "forged.json", "--request", "lookup.json"])).code).toBe(0);
    for (const key of ["", " ", "\t"]) {
      for (const args of [["--bundle", "forged.json", "--public-key", key], ["--bundle", "signed.json", "--public-key", key], [`--public-key=${key}`, "--bundle", "forged.json"], ["forged.json", "--public-key", key]]) {
        const result = await evaluate([...args, "--request", "lookup.json"]);
        expect(result, JSON.stringify(args)).toEqual({ code: 2, stdout: "", stderr: "policyc eval: --public-key was given an empty value (an unset variable?)\n" });
      }
    }
    const forged = await evaluate(["--bundle", "forged.json", "--public-key", "public.pem", "--request", "lookup.json"]);
    expect(forged).toEqual({ code: 2, stdout: "", stderr: "forged.json: error[PC703]: the bundle's signature does not match the given public key: refusing to load it\n" });
  });

  it("reads the key file as PEM or DER; an empty, unreadable or non-Ed25519 key file exits 2 naming the file", async () => {
    expect(await evaluate(["--bundle", "signed.json", "--public-key", "public.der", "--request", "lookup.json"])).toMatchObject({ code: 0, stdout: LOOKUP_GOLDEN });
    expect(await evaluate(["--bundle", "forged.json", "--public-key", "public.der", "--request", "lookup.json"])).toMatchObject({ code: 2, stdout: "" });
    const cases: [string, string][] = [
      // An empty file is PC700, as an empty bundle file is (review F4).
      ["empty.pem", "empty.pem: error[PC700]: the public key file is empty\n"],
      ["rsa.pem", "rsa.pem: error[PC704]: the public key is an RSA key, not Ed25519: bundles are signed with Ed25519\n"],
      [".", ".: error[PC700]: cannot read public key `.`: it is a folder\n"],
    ];
    for (const [key, stderr] of cases) expect(await evaluate(["--bundle", "signed.json", "--public-key", key, "--request", "lookup.json"])).toEqual({ code: 2, stdout: "", stderr });
    const garbage = await evaluate(["--bundle", "signed.json", "--public-key", "broken.json", "--request", "lookup.json"]);
    expect(garbage.code).toBe(2);
    expect(garbage.stderr).toBe("broken.json: error[PC704]: `broken.json` holds no JSON Web Key (expected an Ed25519 public key: a PEM, DER or JSON Web Key file)\n");
    expectNoStackTrace(garbage);
  });

  it("a key file that holds no key is said in a file's terms, without OpenSSL's codes or the library's advice; a bundle given as the key is named as one", async () => {
    write("text.pem", "hello\n");
    write("okp.jwk.json", '{"kty":"OKP"}\n');
    write("array.json", "[1, 2]\n");
    write("ssh.pub", "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIBcZXt9UePZyvWKnNYpM6mJu0ZP6IRo9C6vXXd7A1w2J someone@laptop\n");
    const cases: [string, string][] = [
      ["text.pem", "`text.pem` holds no Ed25519 public key (expected a PEM, DER or JSON Web Key file)"],
      ["okp.jwk.json", '`okp.jwk.json` holds a JSON Web Key that is not an Ed25519 public key (expected `"kty": "OKP"`, `"crv": "Ed25519"` and `"x"`)'],
      ["array.json", "`array.json` holds no JSON Web Key (expected an Ed25519 public key: a PEM, DER or JSON Web Key file)"],
      ["signed.json", "`signed.json` is a policyc bundle, not a key (expected an Ed25519 public key: a PEM, DER or JSON Web Key file)"],
      // No space before the colon (review r4 #6).
      ["ssh.pub", "`ssh.pub`: it is an OpenSSH public key (ssh-keygen's `.pub` format): give the Ed25519 public key as PEM (`-----BEGIN PUBLIC KEY-----`), DER or a JSON Web Key: `openssl pkey -in signing.pem -pubout -out public.pem` writes it from the key `policyc build --sign` takes"],
    ];
    for (const [key, message] of cases) {
      const result = await evaluate(["--bundle", "signed.json", "--public-key", key, "--request", "lookup.json"]);
      expect(result).toEqual({ code: 2, stdout: "", stderr: `${key}: error[PC704]: ${message.startsWith(`\`${key}\`: `) ? message.slice(key.length + 4) : message}\n` });
      expect(result.stderr).not.toMatch(/error:0|KeyObject|JSON\.parse|createPublicKey|must be of type/);
    }
    // The library keeps its own terms: its callers hand it values, not files.
    expect(() => parsePublicKey(Buffer.from("hello\n"))).toThrow(/the public key cannot be read as a public key \(PEM, DER, JWK or a KeyObject\)/);
  });

  it("--public-key reads a JSON Web Key Set of one key; refuses one of several, and names an EC key made with its parameters as an EC key", async () => {
    const jwk = createPublicKey(readFileSync(join(dir, "public.pem"))).export({ format: "jwk" });
    const other = createPublicKey(readFileSync(join(dir, "other.pem"))).export({ format: "jwk" });
    write("one.jwks", JSON.stringify({ keys: [{ ...jwk, kid: "2026-11" }] }));
    write("two.jwks", JSON.stringify({ keys: [other, jwk] }));
    expect(await evaluate(["--bundle", "signed.json", "--public-key", "one.jwks", "--request", "lookup.json"])).toMatchObject({ code: 0, stdout: LOOKUP_GOLDEN });
    expect(await evaluate(["--bundle", "signed.json", "--public-key", "two.jwks", "--request", "lookup.json"])).toEqual({ code: 2, stdout: "", stderr: "two.jwks: error[PC704]: it is a JSON Web Key Set of 2 keys, and one key is read: give the one key whose private key signs the bundles you load\n" });
    // As `openssl ecparam -genkey` writes it: its parameters, then its key.
    const ec = generateKeyPairSync("ec", { namedCurve: "P-256" }).privateKey.export({ type: "sec1", format: "pem" }) as string;
    write("ec.pem", `-----BEGIN EC PARAMETERS-----\nBggqhkjOPQMBBw==\n-----END EC PARAMETERS-----\n${ec}`);
    expect(await evaluate(["--bundle", "signed.json", "--public-key", "ec.pem", "--request", "lookup.json"])).toEqual({ code: 2, stdout: "", stderr: "ec.pem: error[PC704]: the public key is an EC key, not Ed25519: bundles are signed with Ed25519\n" });
  });

  it("--public-key takes a private key, PEM or a JSON Web Key with its `d`, for its public half, as docs/cli.md says (and the library does)", async () => {
    write("private.jwk", JSON.stringify(createPrivateKey(read("private.pem")).export({ format: "jwk" })));
    for (const key of ["private.pem", "private.jwk"]) {
      expect(await evaluate(["--bundle", "signed.json", "--public-key", key, "--request", "lookup.json"])).toMatchObject({ code: 0, stdout: LOOKUP_GOLDEN });
      expect(await evaluate(["--bundle", "forged.json", "--public-key", key, "--request", "lookup.json"])).toMatchObject({ code: 2, stdout: "" });
    }
  });

  it("an empty --bundle is bad usage, not a fall-back to the policy paths beside it", async () => {
    for (const args of [["decls.policy", "support.policy", "--bundle", ""], ["--bundle", " "]]) {
      expect(await evaluate([...args, "--request", "lookup.json"])).toEqual({ code: 2, stdout: "", stderr: "policyc eval: --bundle was given an empty value (an unset variable?)\n" });
    }
  });

  it("refuses what it would silently ignore: paths beside --bundle, --public-key without a bundle (exit 2)", async () => {
    expect(await evaluate(["decls.policy", "--bundle", "bundle.json", "--request", "lookup.json"])).toEqual({ code: 2, stdout: "", stderr: "policyc eval: give policy paths or --bundle, not both (got `decls.policy` and --bundle `bundle.json`)\n" });
    const unsignedSources = await evaluate([...SOURCES.map((s) => s.path), "--public-key", "public.pem", "--request", "lookup.json"]);
    expect(unsignedSources).toEqual({ code: 2, stdout: "", stderr: "policyc eval: --public-key checks a bundle's signature, and policy sources have none: give the bundle with --bundle FILE\n" });
  });

  it("a .json path beside other paths is bad usage (exit 2) that says only a single .json path is a bundle, not a syntax error at its {", async () => {
    const two = await evaluate(["bundle.json", "signed.json", "--request", "lookup.json"]);
    expect(two).toEqual({ code: 2, stdout: "", stderr: "policyc eval: `bundle.json`, `signed.json` look like bundles, but only a single `.json` path is read as a bundle (or --bundle FILE): give one bundle, or only policy files and folders\n" });
    const mixed = await evaluate(["decls.policy", "bundle.json", "--request", "lookup.json"]);
    expect(mixed).toEqual({ code: 2, stdout: "", stderr: "policyc eval: `bundle.json` looks like a bundle, but only a single `.json` path is read as a bundle (or --bundle FILE): give one bundle, or only policy files and folders\n" });
  });

  it("a bundle whose code does not load (edited and re-hashed) exits 2 with a message, not an internal error: its code is not what this policyc emits", async () => {
    const result = await evaluate(["--bundle", "bad-code.json", "--request", "lookup.json"]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^bad-code\.json: error\[PC707\]: the bundle's code is not what this policyc emits from its rules, schema and session \(first at line 1 of 1; \d+ emitted\)/);
    expectNoStackTrace(result);
  });

  it("shows a session id and tool name with terminal control characters escaped", async () => {
    const result = await evaluate(["decls.policy", "support.policy", "--request", "-"], JSON.stringify({ ...LOOKUP, session: "s\u001b[2J", tool: "crm.lookup\u0007" }));
    expect(result.stdout.split("\n")[0]).toBe("deny crm.lookup\\u0007 (session s\\u001b[2J)");
    // eslint-disable-next-line no-control-regex
    expect(result.stdout).not.toMatch(/[\u0007\u001b]/);
  });

  it("says what decided each clause: the element of a quantifier under `not`, in an `or`, nested (with its path), and the values compared (golden)", async () => {
    write(
      "evidence.policy",
      [
        "type Att { name: string, tags: list<string> }",
        "type Msg { atts: list<Att> }",
        "agent { id: string, team: string }",
        "tool mail.send { risk high args { to: list<string>, subject: string, msgs: list<Msg> } }",
        "policy m {",
        '  @name("outside") deny mail.send when not all(r in args.to: r like "*@acme.com")',
        '  @name("either") deny mail.send when args.subject == "x" or any(r in args.to: r like "*evil*")',
        '  @name("secret") deny mail.send when any(m in args.msgs: any(a in m.atts: a.tags contains "secret"))',
        '  @name("support") allow mail.send when agent.team == "support" and session.count(within 1m) < 30',
        "}",
        "",
      ].join("\n"),
    );
    const request = { session: "s", agent: { id: "a", team: "sales" }, tool: "mail.send", args: { to: ["a@acme.com", "eve@evil.example"], subject: "q", msgs: [{ atts: [] }, { atts: [{ name: "a.txt", tags: [] }, { name: "keys.pem", tags: ["secret"] }] }] } };
    const result = await evaluate(["evidence.policy", "--request", "-"], JSON.stringify(request));
    expect(result.stdout).toBe(
      [
        "deny mail.send (session s)",
        "  by outside (deny, evidence.policy:6:20)",
        '    `not all(r in args.to: r like "*@acme.com")` was true for args.to[1] = "eve@evil.example"',
        "  by either (deny, evidence.policy:7:19)",
        '    `args.subject == "x" or any(r in args.to: r like "*evil*")` was true by `any(r in args.to: r like "*evil*")` for args.to[1] = "eve@evil.example"',
        "  by secret (deny, evidence.policy:8:19)",
        '    `any(m in args.msgs: any(a in m.atts: a.tags contains "secret"))` was true for args.msgs[1].atts[1] = {"name":"keys.pem","tags":["secret"]}',
        "  also considered:",
        '    support (allow) did not match: `agent.team == "support"` was false (agent.team is "sales")',
        "",
      ].join("\n"),
    );
    const json = JSON.parse((await evaluate(["evidence.policy", "--request", "-", "--json"], JSON.stringify(request))).stdout) as { explanation: { rules: { id: string; clauses: unknown[] }[] } };
    expect(json.explanation.rules.find((r) => r.id === "either")!.clauses).toEqual([
      {
        text: 'args.subject == "x" or any(r in args.to: r like "*evil*")',
        value: true,
        evidence: [
          { kind: "term", operator: "or", index: 1, text: 'any(r in args.to: r like "*evil*")' },
          { kind: "element", quantifier: "any", path: "args.to[1]", index: 1, shown: '"eve@evil.example"' },
          { kind: "text", text: 'r like "*evil*"', operator: "like", value: true, left: { text: "args.to[1]", shown: '"eve@evil.example"', constant: false }, right: { text: '"*evil*"', shown: '"*evil*"', constant: true } },
        ],
      },
    ]);
    expect(json.explanation.rules.find((r) => r.id === "support")!.clauses).toEqual([
      {
        text: 'agent.team == "support"',
        value: false,
        evidence: [{ kind: "comparison", text: 'agent.team == "support"', operator: "==", value: false, left: { text: "agent.team", shown: '"sales"', constant: false }, right: { text: '"support"', shown: '"support"', constant: true } }],
      },
    ]);
  });

  it("a comparison does not repeat a value the line already shows: a quantifier's element, or a part of it shown whole", async () => {
    write(
      "repeat.policy",
      [
        "type Att { name: string, size: int }",
        "tool mail.send { risk high args { to: list<string>, size: int, subject: string, atts: list<Att> } }",
        "policy p {",
        '  @name("only-x") deny mail.send when all(r in args.to: r == "x@acme.com")',
        '  @name("other") deny mail.send when any(r in args.to: r != "x@acme.com" and args.size > 3)',
        '  @name("named") deny mail.send when any(a in args.atts: a.name == "keys.pem")',
        '  @name("pair") deny mail.send when any(a in args.atts: a.name != args.subject)',
        "}",
        "",
      ].join("\n"),
    );
    const request = { session: "s", tool: "mail.send", args: { to: ["x@acme.com", "y@acme.com"], size: 5, subject: "q", atts: [{ name: "a.txt", size: 1 }] } };
    const result = await evaluate(["repeat.policy", "--request", "-"], JSON.stringify(request));
    expect(result.stdout).toBe(
      [
        "deny mail.send (session s)",
        "  by other (deny, repeat.policy:5:18)",
        '    `any(r in args.to: r != "x@acme.com" and args.size > 3)` was true for args.to[1] = "y@acme.com" (5 > 3)',
        "  by pair (deny, repeat.policy:7:17)",
        '    `any(a in args.atts: a.name != args.subject)` was true for args.atts[0] = {"name":"a.txt","size":1} (args.subject is "q")',
        "  also considered:",
        '    only-x (deny) did not match: `all(r in args.to: r == "x@acme.com")` was false for args.to[1] = "y@acme.com"',
        '    named (deny) did not match: `any(a in args.atts: a.name == "keys.pem")` was false',
        "",
      ].join("\n"),
    );
  });

  it("says which values a membership or text test looked at, and the member that decided a containsAny or containsAll: true and false, under not and unless, in a quantifier (golden)", async () => {
    const agent = { id: "spiffe://acme.com/bot", team: "sales" };
    const lookup = { session: "s", agent, tool: "crm.lookup", args: { id: "1" } };
    const leak = { session: "s", agent, tool: "mail.send", args: { to: ["a@acme.com", "eve@evil.example"], roles: ["admin", "oncall"], body: "the password!", url: "https://x.evil.com/a", msgs: [{ to: ["a@acme.com"] }, { to: ["b@acme.com", "eve@evil.example"] }] } };
    const held = await evaluate(["tests.policy", "--request", "-"], [lookup, leak].map((r) => JSON.stringify(r)).join("\n"));
    expect(held).toEqual({
      code: 0,
      stdout: [
        "history of session s: 1 earlier line",
        "  line 1: allow crm.lookup by lookup; adds label pii",
        "deny mail.send (session s)",
        "  by labels (deny, tests.policy:8:19)",
        '    `session.labels contains pii` was true (session.labels is ["pii"]: pii returned by crm.lookup at line 1)',
        "  by blocked (deny, tests.policy:9:20)",
        '    `args.to containsAny ["eve@evil.example", "mallory@evil.example"]` was true for args.to[1] = "eve@evil.example"',
        "  by secrets (deny, tests.policy:12:20)",
        '    `args.body contains "password"` was true (args.body is "the password!")',
        "  by evil (deny, tests.policy:13:17)",
        '    `args.url like "https://*.evil.com/*"` was true (args.url is "https://x.evil.com/a")',
        "  by nested (deny, tests.policy:15:19)",
        '    `any(m in args.msgs: m.to containsAny ["eve@evil.example"])` was true for args.msgs[1].to[1] = "eve@evil.example"',
        "  by host (deny, tests.policy:17:17)",
        '    `url.host(args.url).endsWith(".evil.com")` was true (url.host(args.url) is "x.evil.com")',
        "  also considered:",
        '    oncall (allow) matched: `args.roles containsAll ["admin", "oncall"]` was true (args.roles is ["admin","oncall"])',
        '    listed (ask) did not match: `args.url in ["https://docs.acme.com/x", "https://wiki.acme.com/"]` was false (args.url is "https://x.evil.com/a")',
        '    spiffe (allow) did not match: `agent.id.startsWith("spiffe://acme.com/")` was true (agent.id is "spiffe://acme.com/bot"); unless `args.body.endsWith("!")` was true (args.body is "the password!")',
        '    boss (ask) did not match: `not (args.to contains "boss@acme.com")` was true (args.to is ["a@acme.com","eve@evil.example"]); `all(r in args.to: r like "*@acme.com")` was false for args.to[1] = "eve@evil.example"',
        "",
      ].join("\n"),
      stderr: "",
    });
    const clean = { session: "t", agent: { id: "spiffe://evil/x", team: "sales" }, tool: "mail.send", args: { to: ["a@acme.com", "b@acme.com"], roles: ["admin", "dev"], body: "hi", url: "https://docs.acme.com/x", msgs: [{ to: ["a@acme.com"] }] } };
    const failed = await evaluate(["tests.policy", "--request", "-"], JSON.stringify(clean));
    expect(failed).toEqual({
      code: 0,
      stdout: [
        "ask mail.send (session t)",
        "  by listed (ask, tests.policy:11:19)",
        '    `args.url in ["https://docs.acme.com/x", "https://wiki.acme.com/"]` was true (args.url is "https://docs.acme.com/x")',
        "  by boss (ask, tests.policy:16:17)",
        '    `not (args.to contains "boss@acme.com")` was true (args.to is ["a@acme.com","b@acme.com"])',
        '    `all(r in args.to: r like "*@acme.com")` was true',
        "  also considered:",
        "    labels (deny) did not match: `session.labels contains pii` was false (session.labels is [])",
        '    blocked (deny) did not match: `args.to containsAny ["eve@evil.example", "mallory@evil.example"]` was false (args.to is ["a@acme.com","b@acme.com"])',
        '    oncall (allow) did not match: `args.roles containsAll ["admin", "oncall"]` was false for "oncall" (args.roles is ["admin","dev"])',
        '    secrets (deny) did not match: `args.body contains "password"` was false (args.body is "hi")',
        '    evil (deny) did not match: `args.url like "https://*.evil.com/*"` was false (args.url is "https://docs.acme.com/x")',
        '    spiffe (allow) did not match: `agent.id.startsWith("spiffe://acme.com/")` was false (agent.id is "spiffe://evil/x")',
        '    nested (deny) did not match: `any(m in args.msgs: m.to containsAny ["eve@evil.example"])` was false',
        '    host (deny) did not match: `url.host(args.url).endsWith(".evil.com")` was false (url.host(args.url) is "docs.acme.com")',
        "",
      ].join("\n"),
      stderr: "",
    });
    // The same evidence in --json: the member by its path, as the text names it.
    const json = JSON.parse((await evaluate(["tests.policy", "--request", "-", "--json"], [lookup, leak].map((r) => JSON.stringify(r)).join("\n"))).stdout) as { explanation: { rules: { id: string; clauses: unknown[] }[] } };
    expect(json.explanation.rules.find((r) => r.id === "blocked")!.clauses).toEqual([
      {
        text: 'args.to containsAny ["eve@evil.example", "mallory@evil.example"]',
        value: true,
        evidence: [
          {
            kind: "membership",
            text: 'args.to containsAny ["eve@evil.example", "mallory@evil.example"]',
            operator: "containsAny",
            value: true,
            left: { text: "args.to", shown: '["a@acme.com","eve@evil.example"]', constant: false },
            right: { text: '["eve@evil.example", "mallory@evil.example"]', shown: '["eve@evil.example","mallory@evil.example"]', constant: true },
            member: { path: "args.to[1]", index: 1, shown: '"eve@evil.example"' },
          },
        ],
      },
    ]);
    expect(json.explanation.rules.find((r) => r.id === "spiffe")!.clauses[1]).toEqual({
      text: 'unless args.body.endsWith("!")',
      value: true,
      evidence: [{ kind: "text", text: 'args.body.endsWith("!")', operator: "endsWith", value: true, left: { text: "args.body", shown: '"the password!"', constant: false }, right: { text: '"!"', shown: '"!"', constant: true } }],
    });
  });

  it("refuses a bundle whose clause text does not fit its IR (PC709, exit 2); an explanation of one (an enforcement point's, which compares no text) shows a test's values without their texts, and a value too long cut", async () => {
    const { policy } = compileSources([{ path: "tests.policy", text: TESTS_POLICY }]);
    const edited = JSON.parse(serializeBundle(createBundle(policy!, [{ path: "tests.policy", text: TESTS_POLICY }]))) as Bundle;
    (edited.rules.find((r) => r.id === "host") as { clauses: readonly string[] }).clauses = ["(unbalanced"];
    (edited.manifest as { contentHash: string }).contentHash = contentHash(edited);
    write("edited.json", JSON.stringify(edited));
    const request = { session: "t", agent: { id: "a", team: "sales" }, tool: "mail.send", args: { to: [], roles: [], body: "", url: `https://docs.acme.com/${"x".repeat(10_000)}`, msgs: [] } };
    const result = await evaluate(["--bundle", "edited.json", "--request", "-"], JSON.stringify(request));
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toMatch(/^edited\.json: error\[PC709\]: the bundle's rule "host" \(`rules\[\d+\]`\): its `clauses` are not its condition's clauses \(`\["\(unbalanced"\]`; /);
    // The runtime alone (loadBundle) takes it: its explanations cope with text that does not fit.
    const explanation = explain(loadBundle(edited), request);
    const lines = (id: string): string[] => clauseLines(explanation.rules.find((rule) => rule.id === id)!);
    // A computed operand without its text: both values, with the operator.
    expect(lines("host")).toEqual(['`(unbalanced` was false ("docs.acme.com".endsWith(".evil.com"))']);
    // A long value cut as showValue cuts it.
    expect(lines("evil")).toEqual([`\`args.url like "https://*.evil.com/*"\` was false (args.url is "https://docs.acme.com/${"x".repeat(34)}…)`]);
  });

  it("says in words that a deny or ask rule matched because its condition could not be evaluated", async () => {
    write("closed.policy", 'user { id: string, roles: set<string> }\ntool mail.send { risk high args { to: list<string> } }\npolicy c {\n  @name("contractors") ask mail.send unless "employee" in user.roles\n  @name("mail") allow mail.send\n}\n');
    const result = await evaluate(["closed.policy", "--request", "-"], JSON.stringify({ session: "s", tool: "mail.send", args: { to: [] } }));
    expect(result.stdout).toContain(
      [
        "  by contractors (ask, closed.policy:4:24)",
        "    matched because its condition could not be evaluated (fails closed):",
        '    unless `"employee" in user.roles` failed: the request has no user',
        "",
      ].join("\n"),
    );
  });

  it("escapes control, DEL, line-separator and bidirectional characters from the request in evidence, notes and errors", async () => {
    write("controls.policy", 'tool mail.send { risk high args { to: list<string> } }\ntool http.get { risk medium args { url: string } }\npolicy c {\n  @name("ext") deny mail.send when any(r in args.to: not (r like "*@acme.com"))\n  @name("host") ask http.get when url.host(args.url) != "acme.com"\n}\n');
    const nasty = "\u009b2J\u007f\u2028\u202e";
    const outputs = await Promise.all(
      [
        { session: "s", tool: "mail.send", args: { to: [`a${nasty}@x`] } },
        { session: "s", tool: `nope${nasty}`, args: {} },
        { session: "s", tool: "http.get", args: { url: `https://acme.com/${nasty}` } },
      ].map(async (request) => (await evaluate(["controls.policy", "--request", "-"], JSON.stringify(request))).stdout),
    );
    expect(outputs[0]).toContain('for args.to[0] = "a\\u009b2J\\u007f\\u2028\\u202e@x"');
    expect(outputs[1]).toContain('unknown tool "nope\\u009b2J\\u007f\\u2028\\u202e"');
    expect(outputs[2]).toContain('  error: host: url.host: "https://acme.com/\\u009b2J\\u007f\\u2028\\u202e" is ambiguous');
    for (const output of outputs) expect(output).not.toMatch(/[\u007f-\u009f\u2028\u2029\u202a-\u202e]/);
  });

  it("shows a no-break or zero-width space of the policy's strings and of the request as an escape, so the explanation does not contradict itself (golden)", async () => {
    write("nbsp.policy", 'tool shell.exec {\n  args { cmd: string }\n}\npolicy p {\n  allow shell.exec\n  deny shell.exec when args.cmd.startsWith("rm\u00a0-rf")\n}\n');
    const result = await evaluate(["nbsp.policy", "--request", "-"], JSON.stringify({ session: "s1", tool: "shell.exec", args: { cmd: "rm -rf /" } }));
    expect(result).toEqual({
      code: 0,
      stdout: [
        "allow shell.exec (session s1)",
        "  by p/1 (allow, nbsp.policy:5:3)",
        "    no condition: it always matches",
        "  also considered:",
        '    p/2 (deny) did not match: `args.cmd.startsWith("rm\\u00a0-rf")` was false (args.cmd is "rm -rf /")',
        "",
      ].join("\n"),
      stderr: "",
    });
    const request = await evaluate(["nbsp.policy", "--request", "-"], JSON.stringify({ session: "s\u200b1", tool: "shell.exec", args: { cmd: "rm\u00a0-rf /" } }));
    expect(request.stdout.split("\n").slice(0, 3)).toEqual(["deny shell.exec (session s\\u200b1)", "  by p/2 (deny, nbsp.policy:6:3)", '    `args.cmd.startsWith("rm\\u00a0-rf")` was true (args.cmd is "rm\\u00a0-rf /")']);
    for (const output of [result.stdout, request.stdout]) expect(output).not.toMatch(/[\u00a0\u200b]/);
  });

  it("shows ordinary non-ASCII text of the policy and the request as it is: accents, CJK, emoji joined by zero-width joiners, Persian", async () => {
    const texts = ["café", "cafe\u0301", "サポート", "👩\u200d💻", "👨\u200d👩\u200d👧", "می\u200cخواهم"];
    write("text.policy", `tool chat.post {\n  args { text: string }\n}\npolicy p {\n  allow chat.post\n  deny chat.post when args.text in [${texts.map((t) => JSON.stringify(t)).join(", ")}]\n}\n`);
    const result = await evaluate(["text.policy", "--request", "-"], JSON.stringify({ session: "s1", tool: "chat.post", args: { text: "👩\u200d💻 café" } }));
    expect(result.stdout).toBe(
      [
        "allow chat.post (session s1)",
        "  by p/1 (allow, text.policy:5:3)",
        "    no condition: it always matches",
        "  also considered:",
        `    p/2 (deny) did not match: \`args.text in [${texts.map((t) => JSON.stringify(t)).join(", ")}]\` was false (args.text is "👩\u200d💻 café")`,
        "",
      ].join("\n"),
    );
  });

  it.skipIf(!existsSync("/dev/zero"))("an endless request (/dev/zero) is refused at 64 MB, not read until memory runs out (exit 2)", async () => {
    expect(await evaluate(["decls.policy", "support.policy", "--request", "/dev/zero"])).toEqual({ code: 2, stdout: "", stderr: "/dev/zero: error[PC600]: cannot read request `/dev/zero`: it is larger than 64 MB\n" });
  });

  it.skipIf(!existsSync("/usr/bin/time"))("a bundle file over 512 MB is refused from its size, before any of it is read (exit 2) (audit s19 F9)", () => {
    // Sparse: as large as it says, without the disk space.
    const big = join(dir, "big-bundle.json");
    writeFileSync(big, "");
    truncateSync(big, 600 * 1_048_576);
    try {
      const run = spawnSync("/usr/bin/time", ["-f", "maxrss=%M", process.execPath, BIN, "eval", "--bundle", big, "--request", join(dir, "lookup.json")], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      expect(run.status).toBe(2);
      expect(run.stderr).toContain(`${big}: error[PC700]: cannot read bundle \`${big}\`: it is larger than 512 MB\n`);
      // Read up to the limit, it took 512 MB of memory and seconds; refused from its size, what Node starts with.
      expect(Number(/maxrss=(\d+)/.exec(run.stderr)?.[1]) / 1024).toBeLessThan(256);
    } finally {
      rmSync(big, { force: true });
    }
  });

  it("standard input that is a large file already read partway is read from where it stands, not refused for its whole size (review s19 #4)", () => {
    // A script reads a header from its standard input, then hands it on: what is left is a small
    // request, though the file is over the 64 MB limit. Sparse: the header takes no disk space.
    const shared = join(dir, "offset-request.jsonl");
    const header = 65 * 1_048_576;
    writeFileSync(shared, "");
    truncateSync(shared, header);
    writeFileSync(shared, readFileSync(join(dir, "lookup.json")), { flag: "a" });
    const fd = openSync(shared, "r");
    try {
      // Reading moves the offset the child's standard input shares (Node has no lseek).
      const chunk = Buffer.alloc(1_048_576);
      for (let read = 0; read < header; ) read += readSync(fd, chunk, 0, Math.min(chunk.length, header - read), null);
      const run = spawnSync(process.execPath, [BIN, "eval", "decls.policy", "support.policy", "--request", "-"], { cwd: dir, stdio: [fd, "pipe", "pipe"], encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      expect({ code: run.status, stderr: run.stderr }).toEqual({ code: 0, stderr: "" });
      expect(run.stdout).toMatch(/^allow /);
    } finally {
      closeSync(fd);
      rmSync(shared, { force: true });
    }
  });

  it("standard input that cannot be read as a request is named `standard input`, never `-` (audit a4 #8)", () => {
    const sample = join(ROOT, "samples", "customer-support");
    for (const [from, reason] of [[tmpdir(), "it is a folder"], ...(existsSync("/dev/zero") ? [["/dev/zero", "it is larger than 64 MB"]] : [])] as const) {
      const run = spawnSync("sh", ["-c", `exec "$NODE" "$BIN_PATH" eval "$SAMPLE" --request - < "$FROM"`], { encoding: "utf8", env: { ...process.env, NO_COLOR: "1", NODE: process.execPath, BIN_PATH: BIN, SAMPLE: sample, FROM: from } });
      expect({ code: run.status, stderr: run.stderr }).toEqual({ code: 2, stderr: `standard input: error[PC600]: cannot read the request on standard input: ${reason}\n` });
    }
  });

  it("a list literal holding a set compares its lists as sets, whichever operand is written first (audit V, F5)", async () => {
    const forms = ["args.pair in args.pairs", "args.pairs contains args.pair", "args.pairs containsAny [args.pair]", "[args.pair] containsAny args.pairs", "args.pairs containsAll [args.pair]", "[args.pair] containsAll args.pairs", "args.pairs == [args.pair]", "[args.pair] == args.pairs", "any(p in args.pairs: p == args.pair)"];
    write("pairs.policy", `tool t.x { risk low args { pairs: list<list<string>>, pair: set<string> } }\npolicy m {\n${forms.map((form, i) => `  @name("f${i}") deny t.x when ${form}\n`).join("")}  allow t.x\n}\n`);
    const request = (pair: string[]): string => JSON.stringify({ session: "s", tool: "t.x", args: { pairs: [["a", "b"]], pair } });
    const same = await evaluate(["pairs.policy", "--request", "-", "--json"], request(["b", "a"]));
    expect(same.code).toBe(0);
    expect(JSON.parse(same.stdout)).toMatchObject({ decision: "deny", rules: forms.map((_, i) => `f${i}`) });
    const other = await evaluate(["pairs.policy", "--request", "-", "--json"], request(["b", "c"]));
    expect(JSON.parse(other.stdout)).toMatchObject({ decision: "allow", rules: ["m/10"] });
  });

  it("a request that is not JSON is said in one line with its place and what is there, never with V8's piece of the input (audit a1 F4)", async () => {
    const cases: [string, string][] = [
      ['{"session":"s",\n "tool": kb.search}', "not JSON at line 2, column 10: unexpected `kb`"],
      ["not json", "not JSON at column 1: unexpected `not`"],
      ["{'session': 's'}", "not JSON at column 2: unexpected `'` where a property name in double quotes belongs"],
      ['{"session": "s", "tool": `kb`}', "not JSON at column 26: unexpected backtick"],
      ['{"session": "s"} x', "not JSON at column 18: unexpected `x` after the JSON value"],
      ['{"session": "s\\q"}', "not JSON at column 15: invalid escape `\\q` in a string"],
      ['{"session": "s\u0007"}', "not JSON at column 15: U+0007 (a control character) inside a string: write it as an escape"],
      ['{"session": ', "not JSON at column 13: the line ends before its JSON value does"],
    ];
    for (const [text, said] of cases) {
      write("not-json.json", text);
      expect(await evaluate(["decls.policy", "support.policy", "--request", "not-json.json"]), text).toEqual({ code: 2, stdout: "", stderr: `not-json.json: error[PC601]: ${said}\n` });
    }
  });

  it("a request nested 100,000 deep is said as any other that is not JSON, not as an internal error (audit r1 F1)", async () => {
    write("deep.json", "[".repeat(100_000));
    expect(await evaluate(["decls.policy", "support.policy", "--request", "deep.json"])).toEqual({ code: 2, stdout: "", stderr: "deep.json: error[PC601]: not JSON at column 100001: the line ends before its JSON value does\n" });
    write("deep-closed.json", `${"[".repeat(100_000)}x${"]".repeat(100_000)}`);
    expect((await evaluate(["decls.policy", "support.policy", "--request", "deep-closed.json"])).stderr).toBe("deep-closed.json: error[PC601]: not JSON at column 100001: unexpected `x`\n");
  });

  it("a tampered bundle exits 2 with a message naming the hash", async () => {
    const result = await evaluate(["--bundle", "tampered.json", "--request", "lookup.json"]);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(/^tampered\.json: error\[PC702\]: the bundle's content does not match its hash \(manifest says sha256:[0-9a-f]{64}, content is sha256:[0-9a-f]{64}\): it was changed after it was built, or rewritten with its keys in another order \(as `jq -S` or a database's JSON column does\), which the hash covers: ship the bundle file byte for byte\n$/);
    expectNoStackTrace(result);
    const invalid = await evaluate(["--bundle", "not-a-bundle.json", "--request", "lookup.json"]);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toContain("not a valid policyc bundle");
  });

  it("a bundle file holding a JSON string, a number or a list is not a bundle (exit 2), without the library's advice to parse its text (audit s19 F7)", async () => {
    expect(await evaluate(["--bundle", "string.json", "--request", "lookup.json"])).toEqual({ code: 2, stdout: "", stderr: "string.json: error[PC701]: not a valid policyc bundle: the bundle must be an object, and the file holds a JSON string\n" });
    write("number-bundle.json", "42\n");
    expect(await evaluate(["--bundle", "number-bundle.json", "--request", "lookup.json"])).toEqual({ code: 2, stdout: "", stderr: "number-bundle.json: error[PC701]: not a valid policyc bundle: the bundle must be an object\n" });
  });

  it.each([
    [["decls.policy", "support.policy", "--request", "broken.json"], /^broken\.json: error\[PC(601|700)\]: not JSON at column 2: .*$/m],
    [["decls.policy", "support.policy", "--request", "pretty-broken.json"], /^pretty-broken\.json: error\[PC(601|700)\]: not JSON at line 4, column 25: .*$/m],
    [["decls.policy", "support.policy", "--request", "broken.jsonl"], /^broken\.jsonl:2: error\[PC601\]: not JSON/],
    [["decls.policy", "support.policy", "--request", "missing.json"], /cannot read request `missing\.json`/],
    [["decls.policy", "support.policy", "--request", "-"], /standard input: error\[PC602\]: the request is empty/],
    [["decls.policy", "support.policy"], /--request FILE/],
    [["--request", "lookup.json"], /policy paths or --bundle/],
    [["--bundle", "missing-bundle.json", "--request", "lookup.json"], /cannot read bundle `missing-bundle\.json`/],
    [["--bundle", "broken.json", "--request", "lookup.json"], /^broken\.json: error\[PC(601|700)\]: not JSON at column 2: .*$/m],
    [["--bundle", "pretty-broken.json", "--request", "lookup.json"], /^pretty-broken\.json: error\[PC(601|700)\]: not JSON at line 4, column 25: .*$/m],
  ])("bad usage or unreadable input exits 2: %j", async (args, message) => {
    const result = await evaluate(args, "");
    expect(result.code).toBe(2);
    expect(result.stdout).toBe("");
    expect(result.stderr).toMatch(message);
    expectNoStackTrace(result);
  });

  it("policy errors exit 1 with diagnostics", async () => {
    const result = await evaluate(["bad.policy", "--request", "lookup.json"]);
    expect(result.code).toBe(1);
    // On standard error, as test and diff print them: standard output holds the decision (review a4 F3).
    expect(result.stdout).toBe("");
    expect(result.stderr).toContain("bad.policy:1:22: error[PC201]: unknown type `strin`");
    const json = await evaluate(["bad.policy", "--request", "lookup.json", "--json"]);
    expect(json.code).toBe(1);
    // With --json, stdout holds only JSON: the diagnostics as `check --json` lists them (people's form on stderr).
    expect(JSON.parse(json.stdout)).toEqual({ ok: false, reason: "the policy set did not load: 1 error, 0 warnings", errors: 1, warnings: 0, diagnostics: [expect.objectContaining({ code: "PC201", file: "bad.policy", line: 1, column: 22, message: "unknown type `strin`" })] });
    expect(json.stderr).toContain("error[PC201]");
  });

  it("the built binary agrees (golden, NO_COLOR, stdin, no stack traces)", () => {
    const ok = bin(["eval", "decls.policy", "support.policy", "--request", "-"], { cwd: dir, stdin: readFileSync(join(dir, "history.jsonl"), "utf8") });
    expect(ok.code).toBe(0);
    expect(ok.stderr).toBe("");
    expect(ok.stdout).toContain('`any(r in args.to: not (r like "*@acme.com"))` was true for args.to[1] = "eve@evil.example"');
    expect(ok.stdout).not.toMatch(/\u001b\[/);
    const tampered = bin(["eval", "--bundle", "tampered.json", "--request", "lookup.json"], { cwd: dir });
    expect(tampered.code).toBe(2);
    expect(tampered.stderr).toContain("does not match its hash");
    expectNoStackTrace(tampered);
    // `--public-key "$KEY"` with KEY unset, as a CI script would run it.
    const unsetKey = bin(["eval", "--bundle", "forged.json", "--public-key", "", "--request", "lookup.json"], { cwd: dir });
    expect(unsetKey).toEqual({ code: 2, stdout: "", stderr: "policyc eval: --public-key was given an empty value (an unset variable?)\n" });
  });
});

describe("policy text in eval's output", () => {
  it("a grant scope with a line break or an escape is shown escaped, on an allow and on an ask's grants on approval", async () => {
    write("scopes.policy", 'tool kb.search {}\npolicy p {\n  allow kb.search grant "kb\\n::error::x\\u001b[31m" for 5m\n  ask kb.search when false or true\n}\n');
    write("scopes-allow.policy", 'tool kb.search {}\npolicy p {\n  allow kb.search grant "kb\\n::error::x\\u001b[31m" for 5m\n}\n');
    const request = JSON.stringify({ session: "s", tool: "kb.search", args: {} });
    for (const policy of ["scopes.policy", "scopes-allow.policy"]) {
      const result = await evaluate([policy, "--request", "-"], request);
      expect(result.code, result.stderr).toBe(0);
      expect(result.stdout).toContain("grant kb\\u000a::error::x\\u001b[31m for 300s");
      for (const line of result.stdout.split("\n")) expect(line.startsWith("::")).toBe(false);
      expect(result.stdout).not.toContain("\u001b");
    }
  });
});

describe("requests and bundles as Windows tools save them", () => {
  const SAVE_AS_UTF8 = "save it as UTF-8 (PowerShell: `Out-File -Encoding utf8`, or `Set-Content -Encoding utf8`)";
  const utf16 = (text: string): Buffer => Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from(text, "utf16le")]);

  it("a JSON Lines history with a byte order mark, at its start or where files joined with cat meet, is read as test --replay reads it", async () => {
    const expected = await evaluate(["decls.policy", "support.policy", "--request", "history.jsonl"]);
    expect(expected.code).toBe(0);
    write("bom-history.jsonl", "\ufeff" + read("history.jsonl"));
    write("joined-history.jsonl", JSON.stringify(LOOKUP) + "\r\n\ufeff" + JSON.stringify(LEAK) + "\r\n");
    for (const file of ["bom-history.jsonl", "joined-history.jsonl"]) expect(await evaluate(["decls.policy", "support.policy", "--request", file])).toEqual(expected);
  });

  it("a JSON mistake in a request with a byte order mark is placed at the column an editor shows, not one further (the mark is no column)", async () => {
    const broken = '{"session":"日本\u{1d518}","tool":"crm.lookup", "args":{} "x":1}';
    write("broken-bom.json", "\ufeff" + broken);
    write("broken-no-bom.json", broken);
    const withMark = await evaluate(["decls.policy", "support.policy", "--request", "broken-bom.json"]);
    const withoutMark = await evaluate(["decls.policy", "support.policy", "--request", "broken-no-bom.json"]);
    expect(withMark.code).toBe(2);
    expect(withMark.stderr).toContain("column 50");
    expect(withMark.stderr.replace("broken-bom", "broken-no-bom")).toBe(withoutMark.stderr);
    write("broken-bom.jsonl", '\ufeff{"session":"s", "tool":"crm.lookup", "args":{} "x":1}\n' + JSON.stringify(LOOKUP) + "\n");
    expect((await evaluate(["decls.policy", "support.policy", "--request", "broken-bom.jsonl"])).stderr).toContain("line 1, column 48");
  });

  it("a request that is not UTF-8 exits 2 naming its line, from a file or standard input, never decided on replaced characters", async () => {
    const latin1 = Buffer.from(JSON.stringify(LOOKUP) + "\n" + JSON.stringify({ ...LEAK, args: { to: ["eve@evil.example"], subject: "Caf\u00e9", body: "Hi" } }) + "\n", "latin1");
    writeFileSync(join(dir, "latin1.jsonl"), latin1);
    const message = "not valid UTF-8 (saved in another encoding, such as Windows-1252?): save the request as UTF-8\n";
    const fromFile = await evaluate(["decls.policy", "support.policy", "--request", "latin1.jsonl"]);
    expect(fromFile).toEqual({ code: 2, stdout: "", stderr: `latin1.jsonl:2: error[PC601]: ${message}` });
    const fromStdin = await cli(["eval", "decls.policy", "support.policy", "--request", "-"], { cwd: dir, stdin: latin1 });
    expect(fromStdin).toEqual({ code: 2, stdout: "", stderr: `standard input:2: error[PC601]: ${message}` });
  });

  it("a refused bundle or request is named with its control characters escaped, as a diagnostic's path is: no line of its own, no colour (review F7)", async () => {
    write("e\u001b[31mvil.json", "[1]\n");
    write("new\n::error::line.json", "");
    const bundle = await evaluate(["--bundle", "e\u001b[31mvil.json", "--request", "lookup.json"]);
    expect(bundle.code).toBe(2);
    expect(bundle.stderr).toMatch(/^e\\u001b\[31mvil\.json: error\[PC70\d\]: /);
    const request = await evaluate(["decls.policy", "support.policy", "--request", "new\n::error::line.json"]);
    expect(request.code).toBe(2);
    expect(request.stderr).toMatch(/^new\\u000a::error::line\.json: error\[PC602\]: /);
    expect(request.stderr).not.toMatch(/^::error/m);
  });

  it("a binary request file is PC600, worded as a binary recording is (a NUL byte before any request), not PC601", async () => {
    writeFileSync(join(dir, "binary.json"), Buffer.from([0, 1, 2, 3, ...Buffer.from("binary"), 0, 0]));
    expect(await evaluate(["decls.policy", "support.policy", "--request", "binary.json"])).toEqual({ code: 2, stdout: "", stderr: "binary.json: error[PC600]: it looks like a binary file (it contains a NUL byte at offset 0), not JSON: a request is UTF-8 JSON\n" });
  });

  it("a UTF-16 request or bundle exits 2 saying to save it as UTF-8; a bundle with a byte order mark is read", async () => {
    writeFileSync(join(dir, "utf16.json"), utf16(JSON.stringify(LOOKUP)));
    writeFileSync(join(dir, "utf16-no-bom.json"), Buffer.from(JSON.stringify(LOOKUP), "utf16le"));
    for (const file of ["utf16.json", "utf16-no-bom.json"]) {
      const result = await evaluate(["decls.policy", "support.policy", "--request", file]);
      expect(result).toEqual({ code: 2, stdout: "", stderr: `${file}: error[PC600]: it is UTF-16 text, and a request is UTF-8 JSON: ${SAVE_AS_UTF8}\n` });
    }
    writeFileSync(join(dir, "utf16-bundle.json"), utf16(read("bundle.json")));
    const bundle = await evaluate(["--bundle", "utf16-bundle.json", "--request", "lookup.json"]);
    expect(bundle).toEqual({ code: 2, stdout: "", stderr: `utf16-bundle.json: error[PC700]: it is UTF-16 text, and a bundle is UTF-8 JSON: ${SAVE_AS_UTF8}\n` });
    // Named as Windows tools name files: still a bundle, not policy source.
    write("B.JSON", read("bundle.json"));
    expect(await evaluate(["B.JSON", "--request", "lookup.json"])).toEqual({ code: 0, stdout: LOOKUP_GOLDEN, stderr: "" });
    write("bom-bundle.json", "\ufeff" + read("bundle.json"));
    expect(await evaluate(["--bundle", "bom-bundle.json", "--request", "lookup.json"])).toEqual({ code: 0, stdout: LOOKUP_GOLDEN, stderr: "" });
  });
});

describe("policyc eval: a rule with a list of a hundred and fifty thousand hosts written out", () => {
  it("decides (the IR walks take no stack per element), and shows the clause cut to one line", async () => {
    const hosts = Array.from({ length: 150_000 }, (_, i) => `h${i}.example`);
    writeFileSync(join(dir, "blocklist.policy"), `tool http.get { args { host: string } }\npolicy p {\n  allow http.get\n  deny http.get when args.host in ${JSON.stringify(hosts)}\n}\n`);
    writeFileSync(join(dir, "blocked.json"), JSON.stringify({ session: "s", tool: "http.get", args: { host: "h149999.example" } }));
    const result = await cli(["eval", join(dir, "blocklist.policy"), "--request", join(dir, "blocked.json")]);
    expect(result.code).toBe(0);
    expect(result.stdout.split("\n")[0]).toBe("deny http.get (session s)");
    const clause = result.stdout.split("\n").find((line) => line.includes("`args.host in ["))!;
    expect(clause.length).toBeLessThan(500);
    expect(clause).toContain('…` was true (args.host is "h149999.example")');
  });

  // A build and a check of a 150,000-host policy in child processes: past the default 60 s
  // (71-77 s) on a 2-core machine shared with other suites, so a timeout of its own.
  it("builds policy.ts and checks a @suppress on that rule: the walks of --target ts and of suppressions take no stack per element either (review rx)", async () => {
    const hosts = Array.from({ length: 150_000 }, (_, i) => `h${i}.example`);
    writeFileSync(join(dir, "blocklist-ts.policy"), `tool http.get { args { host: string } }\npolicy p {\n  allow http.get\n  deny http.get when args.host in ${JSON.stringify(hosts)}\n}\n`);
    writeFileSync(join(dir, "suppressed.policy"), `tool http.get { args { host: string } }\npolicy p {\n  allow http.get\n  @suppress("PC510")\n  deny http.get when args.host in ${JSON.stringify(hosts)}\n}\n`);
    const built = await cli(["build", join(dir, "blocklist-ts.policy"), "--target", "ts", "-o", join(dir, "ts-out") + "/"]);
    expect([built.code, built.stderr]).toEqual([0, ""]);
    const checked = await cli(["check", join(dir, "suppressed.policy")]);
    expect(checked.code).toBe(0);
    expect(checked.stdout + checked.stderr).toContain("warning[PC514]");
  }, 240_000);
});

describe("policyc eval: a request that names one key twice in an object (audit s19 a4 #2)", () => {
  it("is refused (exit 2), saying which key and where: JSON readers differ on which one counts", async () => {
    writeFileSync(join(dir, "twice.policy"), "tool kb.search { risk low args { q: string } }\ntool db.drop { risk critical args { table: string } }\npolicy p { allow kb.search }\n");
    writeFileSync(join(dir, "twice.json"), '{"session":"s","tool":"db.drop","tool":"kb.search","args":{"q":"x","table":"users"}}\n');
    writeFileSync(join(dir, "twice.jsonl"), '{"session":"s","tool":"kb.search","args":{"q":"a"}}\n{"session":"s","tool":"kb.search","args":{"q":"a","q":"b"}}\n');
    const whole = await cli(["eval", join(dir, "twice.policy"), "--request", join(dir, "twice.json")]);
    expect([whole.code, whole.stdout]).toEqual([2, ""]);
    expect(whole.stderr).toContain(': the request names the key "tool" twice: JSON readers differ on which one counts (JSON.parse takes the last; other readers may take the first, or refuse it), so which request is meant is unclear: keep one\n');
    const history = await cli(["eval", join(dir, "twice.policy"), "--request", join(dir, "twice.jsonl")]);
    expect(history.code).toBe(2);
    expect(history.stderr).toContain('twice.jsonl:2: error[PC601]: `args` names the key "q" twice: ');
  });

  it("shows the key and where it is short and escaped: a log command, a bidi control, megabytes, a path 100,000 levels deep (review r7)", async () => {
    const key = `##[error]\u202e${"k".repeat(1_000_000)}`;
    writeFileSync(join(dir, "twice-long.json"), JSON.stringify({ session: "s", tool: "kb.search", args: { q: "x" } }).replace('"args"', `${JSON.stringify(key)}:1,${JSON.stringify(key)}:2,"args"`));
    writeFileSync(join(dir, "twice-deep.json"), `{"session":"s","tool":"kb.search","args":${'{"a":'.repeat(100_000)}{"k":1,"k":2}${"}".repeat(100_000)}}`);
    const long = await cli(["eval", join(dir, "twice.policy"), "--request", join(dir, "twice-long.json")]);
    expect(long.code).toBe(2);
    expect(long.stderr.length).toBeLessThan(1_000);
    expect(long.stderr).not.toContain("##[error]");
    expect(long.stderr).not.toContain("\u202e");
    expect(long.stderr).toContain("\\u202e");
    const deep = await cli(["eval", join(dir, "twice.policy"), "--request", join(dir, "twice-deep.json")]);
    expect(deep.code).toBe(2);
    expect(deep.stderr.length).toBeLessThan(1_000);
    expect(deep.stderr).toContain(": `….a.a.a");
    expect(deep.stderr).toContain('.a.a` names the key "k" twice');
  });
});

describe("policyc eval: a request's own long tool name or session id in the header (review r3)", () => {
  it("shows them in short, as test's reports do, and never whole", async () => {
    const dir = mkdtempSync(join(tmpdir(), "policyc-eval-long-"));
    try {
      writeFileSync(join(dir, "p.policy"), "tool kb.search { risk low args { query: string } }\npolicy p { allow kb.search }\n");
      writeFileSync(join(dir, "long-session.json"), JSON.stringify({ session: "s".repeat(20_000), tool: "kb.search", args: { query: "q" } }));
      writeFileSync(join(dir, "long-tool.json"), JSON.stringify({ session: "ok", tool: "x".repeat(20_000), args: { query: "q" } }));
      const session = await cli(["eval", "p.policy", "--request", "long-session.json"], { cwd: dir });
      expect(session.code).toBe(0);
      expect(session.stdout.split("\n")[0]).toMatch(/^deny kb\.search \(session: "s{36}… of 20,000 characters, SHA-256 [A-Za-z0-9+/=]{44}\)$/);
      expect(session.stdout.length).toBeLessThan(1_000);
      const tool = await cli(["eval", "p.policy", "--request", "long-tool.json"], { cwd: dir });
      expect(tool.stdout.split("\n")[0]).toMatch(/^deny x{79}… \(session ok\)$/);
      expect(tool.stdout.length).toBeLessThan(1_000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("eval --help", () => {
  // A first-week user pieced the request together from validation errors (audit s20 a1 L6).
  it("shows a minimal request, one that the customer-support sample decides", async () => {
    const help = await cli(["eval", "--help"]);
    expect(help.code).toBe(0);
    const example = /\n {2}(\{"session".*?\}\})\n/s.exec(help.stdout)?.[1];
    expect(example).toBeDefined();
    const decided = await cli(["eval", "samples/customer-support", "-r", "-", "--json"], { stdin: example! });
    expect(decided.code, decided.stderr).toBe(0);
    expect(JSON.parse(decided.stdout)).toMatchObject({ decision: "allow" });
    expect(readFileSync(join(ROOT, "docs", "cli.md"), "utf8")).toContain(example!.replace(/\n {3}/g, "\n "));
  });
});
