import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile, type Decision, type Request } from "../src/index.js";
import { expectGolden } from "./goldens/golden.js";
import { bin, cli, ROOT } from "./helpers.js";

// samples/gateway embeds the runtime in a tool gateway and writes a decision log: the proof that
// an enforcement point's log replays as a test (language.md §6) is that this one does, line for line.

const FINANCE = join("samples", "finance-agent");

let work: string;
let log: string;
let run: SpawnSyncReturns<string>;

beforeAll(() => {
  work = mkdtempSync(join(tmpdir(), "policyc-gateway-test-"));
  log = join(work, "decisions.jsonl");
  run = spawnSync(process.execPath, [join(ROOT, "samples", "gateway", "gateway.mjs"), "--log", log], { cwd: ROOT, encoding: "utf8" });
});

afterAll(() => rmSync(work, { recursive: true, force: true }));

/** The log's lines as objects. */
function logLines(): Record<string, unknown>[] {
  return readFileSync(log, "utf8")
    .split("\n")
    .filter((line) => line !== "")
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

describe("samples/gateway", () => {
  it("runs three agent sessions through guard() and prints what happened to each call", () => {
    expect(run.stderr).toBe("");
    expect(run.status).toBe(0);
    // Times, fake tokens and the log's place change from run to run.
    const transcript = run.stdout
      .replaceAll(/until \d\d:\d\d:\d\dZ \(fake token FAKE-[0-9a-f]{8}\)/g, "until HH:MM:SSZ (fake token FAKE-…)")
      .replaceAll(log, "LOG");
    expectGolden("gateway-transcript", transcript);
  });

  it("writes a decision log that `policyc test` replays with every line a passing case", () => {
    const lines = logLines();
    expect(lines).toHaveLength(18);
    // Each with the time the gateway stamped on the request before deciding it (or on the approval when it came).
    expect(lines.filter((l) => typeof l["time"] !== "string")).toEqual([]);
    const replay = bin(["test", FINANCE, "--replay", log]);
    expect(replay.stderr).toBe("");
    expect(replay.code, replay.stdout).toBe(0);
    expect(replay.stdout).toBe(`18 lines replayed from 1 file\n18 passed, 0 failed\n`);
  });

  it("logs each decision's grants and revocation, which the replay compares: a log changed to grant more or not to revoke fails", () => {
    const lines = logLines();
    const ledgerRead = lines.findIndex((l) => (l["grants"] as { scope: string }[] | undefined)?.some((g) => g.scope === "ledger:read"));
    const revoking = lines.findIndex((l) => l["session"] === "fa-reconcile" && l["tool"] === "payments.send");
    expect(lines[ledgerRead]).toMatchObject({ decision: "allow", grants: [{ scope: "ledger:read", ttlSeconds: 900 }], revoked: false });
    expect(lines[revoking]).toMatchObject({ decision: "deny", grants: [], revoked: true });
    const changed = lines.map((line, i) => (i === ledgerRead ? { ...line, grants: [{ scope: "ledger:*", ttlSeconds: 86400 }] } : i === revoking ? { ...line, revoked: false } : line));
    const tampered = join(work, "tampered.jsonl");
    writeFileSync(tampered, changed.map((line) => JSON.stringify(line)).join("\n") + "\n");
    const replay = bin(["test", FINANCE, "--replay", tampered]);
    expect(replay.code, replay.stdout).toBe(1);
    expect(replay.stdout).toMatch(new RegExp(`✗ line ${ledgerRead + 1}: invoices\\.list .* \\(the grants differ\\)\n {8}expected allow \\[finance-read\\]; grants ledger:\\* for 1d; session not revoked\n {8}actual {3}allow \\[finance-read\\]; grants ledger:read for 15m; session not revoked\n`));
    expect(replay.stdout).toMatch(new RegExp(`✗ line ${revoking + 1}: payments\\.send .* \\(the revocation differs\\)\n {8}expected deny \\[off-intent, risk-escalation\\]; grants none; session not revoked\n`));
    expect(replay.stdout).toContain("        actual   deny [off-intent, risk-escalation]; grants none; session revoked\n");
    // Every other line of the log still passes.
    expect(replay.stdout).toContain(`${lines.length - 2} passed, 2 failed`);
  });

  it("logs an ask's grants on approval, which the replay compares: a log changed to mint more on approval fails", () => {
    const lines = logLines();
    const asks = lines.filter((l) => l["decision"] === "ask");
    // Only the asks carry them: what the approval of each would mint (the large payments get payments:write for 5m).
    expect(asks.map((l) => [l["tool"], l["grantsOnApproval"]])).toEqual([
      ["payee.create", []],
      ["payments.send", [{ scope: "payments:write", ttlSeconds: 300 }]],
      ["payments.send", [{ scope: "payments:write", ttlSeconds: 300 }]],
    ]);
    expect(lines.filter((l) => l["decision"] !== "ask" && "grantsOnApproval" in l)).toEqual([]);
    const largePayment = lines.findIndex((l) => l["decision"] === "ask" && l["tool"] === "payments.send");
    const changed = lines.map((line, i) => (i === largePayment ? { ...line, grantsOnApproval: [{ scope: "payments:*", ttlSeconds: 86400 }] } : line));
    const tampered = join(work, "tampered-on-approval.jsonl");
    writeFileSync(tampered, changed.map((line) => JSON.stringify(line)).join("\n") + "\n");
    const replay = bin(["test", FINANCE, "--replay", tampered]);
    expect(replay.code, replay.stdout).toBe(1);
    expect(replay.stdout).toMatch(new RegExp(`✗ line ${largePayment + 1}: payments\\.send .* \\(the grants on approval differ\\)\n {8}expected ask \\[payment-large-asks\\]; grants none; grants on approval payments:\\* for 1d; session not revoked\n`));
    expect(replay.stdout).toContain("        actual   ask [payment-large-asks]; grants none; grants on approval payments:write for 5m; session not revoked\n");
    expect(replay.stdout).toContain(`${lines.length - 1} passed, 1 failed`);
  });

  it("logs the deny of an invalid request, of an unknown tool and in a revoked session so that each replays as a passing case", async () => {
    const lines = logLines();
    const at = (find: (line: Record<string, unknown>) => boolean): number => lines.findIndex(find) + 1;
    const invalid = at((l) => (l["reasons"] as string[])[0]!.startsWith("request.args.amount_cents must be an int"));
    const unknown = at((l) => l["tool"] === "bank.transfer");
    const revoking = at((l) => l["session"] === "fa-reconcile" && l["tool"] === "payments.send");
    const afterRevoked = at((l) => l["session"] === "fa-reconcile" && l["tool"] === "invoices.get" && typeof l["args"] === "object");
    expect([invalid, unknown, revoking, afterRevoked].every((line) => line > 0)).toBe(true);
    expect(lines[invalid - 1]).toMatchObject({ decision: "deny", rules: [] });
    expect(lines[unknown - 1]).toMatchObject({ decision: "deny", rules: [], reasons: ['unknown tool "bank.transfer": the policy set declares no such tool'] });
    expect(lines[revoking - 1]).toMatchObject({ decision: "deny", rules: ["off-intent", "risk-escalation"] });
    expect(lines[afterRevoked - 1]).toMatchObject({ decision: "deny", rules: ["risk-escalation"] });
    // Arguments that are not an object are logged as sent, with the engine's refusal.
    const notAnObject = at((l) => l["tool"] === "invoices.get" && typeof l["args"] === "string");
    expect(lines[notAnObject - 1]).toMatchObject({ args: "INV-NW-20817", decision: "deny", rules: [], reasons: ['request.args must be an object (invoices.get args), not the string "INV-NW-20817"'] });

    const replay = await cli(["test", FINANCE, "--replay", log, "--json"]);
    expect(replay.code, replay.stdout).toBe(0);
    const report = JSON.parse(replay.stdout) as { errors: unknown[]; notes: unknown[]; cases: { line: number; ok: boolean }[] };
    expect(report.errors).toEqual([]);
    expect(report.notes).toEqual([]);
    for (const line of [invalid, unknown, revoking, afterRevoked, notAnObject]) expect(report.cases.find((c) => c.line === line), `line ${line}`).toMatchObject({ ok: true });
  });

  it("logs an ask when decided, decides the session's next calls meanwhile, and logs the approval as an approval line when it comes", () => {
    const onboarding = logLines().filter((l) => l["session"] === "fa-onboard");
    expect(onboarding.map((l) => [l["tool"], l["event"] ?? l["decision"], l["approved"]])).toEqual([
      ["email.send", "allow", undefined],
      ["payee.create", "ask", undefined],
      // Sent beside the asked call and decided while the AP lead reviewed it: no bank details in the session yet.
      ["email.send", "allow", undefined],
      ["payee.create", "approval", true],
      // The approved call's bank details (`pii`) joined the session at the approval line.
      ["email.send", "deny", undefined],
      ["email.send", "allow", undefined],
    ]);
    const [ask, meanwhile, approval] = onboarding.slice(1, 4) as [Record<string, unknown>, Record<string, unknown>, Record<string, unknown>];
    // The approval line is the asked request, stamped when the approval came, without a decision.
    const { time: askedAt, decision: _d, rules: _r, grants: _g, grantsOnApproval: _o, grantingRules: _gr, revoked: _v, reasons: _reasons, locations: _locations, errors: _errors, ...asked } = ask;
    const { time: approvedAt, event: _e, approved: _a, ...approvedRequest } = approval;
    expect(approvedRequest).toEqual(asked);
    expect(approval).not.toHaveProperty("decision");
    expect((approvedAt as string) > (meanwhile["time"] as string) && (meanwhile["time"] as string) >= (askedAt as string)).toBe(true);
    // The retried payment was decided while the controller decided: a repeat. The controller
    // declined, so the engine was told nothing and the log has no approval line for it. The
    // next large payment the controller approved: an approval line.
    const payRun = logLines().filter((l) => l["session"] === "fa-pay-run");
    expect(payRun.map((l) => [l["tool"], l["event"] ?? l["decision"], l["rules"]])).toEqual([
      ["invoices.list", "allow", ["finance-read"]],
      ["payments.send", "allow", ["payment-by-clerk"]],
      ["payments.send", "ask", ["payment-large-asks"]],
      ["payments.send", "deny", ["duplicate-payment"]],
      ["payments.send", "deny", []],
      ["payments.send", "ask", ["payment-large-asks"]],
      ["payments.send", "approval", undefined],
    ]);
  });

  it("with the approval on the ask's line instead, the call decided meanwhile would not replay", () => {
    const lines = logLines();
    const approvalAt = lines.findIndex((l) => l["event"] === "approval" && l["tool"] === "payee.create");
    const askAt = lines.findIndex((l) => l["tool"] === "payee.create" && l["decision"] === "ask");
    const moved = lines.filter((_, i) => i !== approvalAt).map((l, i) => (i === askAt ? { ...l, approved: true } : l));
    const file = join(work, "approval-at-the-ask.jsonl");
    writeFileSync(file, moved.map((l) => JSON.stringify(l)).join("\n") + "\n");
    const replay = bin(["test", FINANCE, "--replay", file, "--json"]);
    expect(replay.code).toBe(1);
    const meanwhile = lines.findIndex((l, i) => i > askAt && l["session"] === "fa-onboard") + 1;
    expect((JSON.parse(replay.stdout) as { failures: { line: number }[] }).failures.map((f) => f.line)).toEqual([meanwhile]);
  });
});

describe("an approval that comes after later calls of its session", () => {
  // On the ask's line (`"approved": true`, which replay approves right after deciding the line)
  // neither place for that line replays such a session as it was decided; an approval line at
  // its own place, when the approval came, does.
  const sources = readdirSync(join(ROOT, FINANCE))
    .filter((file) => file.endsWith(".policy"))
    .map((file) => ({ path: file, text: readFileSync(join(ROOT, FINANCE, file), "utf8") }));
  const who = { agent: { id: "spiffe://acme.com/agents/ap-bot", team: "finance-ops" }, user: { id: "clerk.maria", roles: ["ap-clerk"] } };
  const at = (second: number): string => `2025-03-14T10:00:${String(second).padStart(2, "0")}Z`;

  /** An attempt's log line, with the older form's `approved` when given. */
  function line(request: Request, decision: Decision, approved?: boolean): string {
    return JSON.stringify({ ...request, decision: decision.decision, rules: decision.rules, reasons: decision.reasons, ...(approved === undefined ? {} : { approved }) });
  }

  /** An approval line, as README's "Decision logs" says to write one. */
  function approvalLine(approval: Request, approved: boolean): string {
    return JSON.stringify({ event: "approval", ...approval, approved });
  }

  async function replay(lines: string[]): Promise<{ code: number; failedLines: number[] }> {
    const folder = mkdtempSync(join(tmpdir(), "policyc-late-approval-"));
    try {
      writeFileSync(join(folder, "log.jsonl"), `${lines.join("\n")}\n`);
      const result = await cli(["test", FINANCE, "--replay", join(folder, "log.jsonl"), "--json"]);
      const report = JSON.parse(result.stdout) as { failures: { line: number }[] };
      return { code: result.code, failedLines: report.failures.map((f) => f.line) };
    } finally {
      rmSync(folder, { recursive: true, force: true });
    }
  }

  /**
   * Production: an ask, a call of the same session while the person decides, the approval (the
   * asked request stamped when it came), then a call after it.
   */
  function production(ask: Request, meanwhile: Request, after: Request): { asked: Decision; between: Decision; approval: Request; later: Decision } {
    const engine = compile(sources);
    const asked = engine.decide(ask);
    const between = engine.decide(meanwhile);
    expect(asked.decision).toBe("ask");
    const approval = { ...ask, time: at(20) };
    expect(engine.approved(approval)).toBe(true);
    return { asked, between, approval, later: engine.decide(after) };
  }

  it("on the ask's line, the calls between see the approved call's data too early; an approval line replays exactly", async () => {
    const base = { ...who, session: "onboard", intent: "finance.vendor_onboarding" };
    const ask: Request = { ...base, time: at(0), tool: "payee.create", args: { name: "Globex Corporation", iban: "DE89370400440532013000", country: "DE" }, context: { labels: ["pii"] } };
    const email: Request = { ...base, time: at(10), tool: "email.send", args: { to: ["billing@globex.example"], subject: "Set-up", body: "Hello" }, context: { labels: [] } };
    const again: Request = { ...email, time: at(30) };
    const { asked, between, approval, later } = production(ask, email, again);
    // Before the approval the session held no bank details: the email went out; after it, not.
    expect([between.decision, later.decision]).toEqual(["allow", "deny"]);
    expect(await replay([line(ask, asked, true), line(email, between), line(again, later)])).toEqual({ code: 1, failedLines: [2] });
    expect(await replay([line(ask, asked), line(email, between), approvalLine(approval, true), line(again, later)])).toEqual({ code: 0, failedLines: [] });
  });

  it("on the ask's line placed at the approval, the ask is counted after the calls between; an approval line replays exactly", async () => {
    const base = { ...who, session: "pay-run", intent: "finance.pay_invoices" };
    const payment = { payee_id: "V-2210", invoice_id: "INV-CL-7731", amount_cents: 312000, currency: "USD", rail: "ach" };
    const context = { labels: ["financial"], payee: { id: "V-2210", verified: true, known_for: 129600000000, country: "US" } };
    const ask: Request = { ...base, time: at(0), tool: "payments.send", args: payment, context };
    // The agent retries the payment while the controller decides.
    const retry: Request = { ...ask, time: at(10) };
    const status: Request = { ...base, time: at(30), tool: "ledger.payment_status", args: { payment_id: "PAY-0002" }, context: { labels: ["financial"] } };
    const { asked, between, approval, later } = production(ask, retry, status);
    expect(between.rules).toEqual(["duplicate-payment"]);
    expect(await replay([line(retry, between), line(ask, asked, true), line(status, later)])).toEqual({ code: 1, failedLines: [1, 2] });
    expect(await replay([line(ask, asked), line(retry, between), approvalLine(approval, true), line(status, later)])).toEqual({ code: 0, failedLines: [] });
  });
});

describe("guard() for an ask", () => {
  // An ask a person approves: they are shown its errors as well as its reasons, and the call
  // goes ahead with the credentials the ask carries for approval (grantsOnApproval).
  const engine = compile([
    {
      path: "mail.policy",
      text: [
        "tool email.send { args { to: list<string> } }",
        "policy mail {",
        '  @name("mail") allow email.send grant "mail:send" for 5m',
        '  @name("partner-mail") ask email.send when any(r in args.to: email.domain(r) == "partner.example") reason "mail to our partner needs a person\'s approval"',
        "}",
      ].join("\n"),
    },
  ]);

  async function approveOne(to: string[]): Promise<{ shown: unknown[]; credentials: { scope: string; expiresAt: string }[][]; printed: string[] }> {
    // By its URL: the sample is plain JavaScript, with no types to check it against.
    const { createGateway } = (await import(pathToFileURL(join(ROOT, "samples", "gateway", "gateway.mjs")).href)) as { createGateway: (options: Record<string, unknown>) => { open: (id: string, who: Record<string, unknown>) => void; guard: (call: Record<string, unknown>) => Promise<unknown> } };
    const shown: unknown[] = [];
    const credentials: { scope: string; expiresAt: string }[][] = [];
    const printed: string[] = [];
    const gateway = createGateway({
      engine,
      logFile: join(work, "ask-log.jsonl"),
      person: async (_request: unknown, what: unknown) => (shown.push(what), { who: "the reviewer", approved: true }),
      tools: { call: async (_tool: string, _args: unknown, given: { scope: string; expiresAt: string }[]) => (credentials.push(given), "sent (fake)") },
      resolveContext: () => ({}),
      print: (line: string) => printed.push(line),
    });
    gateway.open("s", {});
    await gateway.guard({ session: "s", tool: "email.send", args: { to } });
    return { shown, credentials, printed };
  }

  it("mints the ask's grantsOnApproval once the person approves, and passes them to the tool", async () => {
    const { shown, credentials, printed } = await approveOne(["bob@partner.example"]);
    expect(shown).toEqual([{ reasons: ["mail to our partner needs a person's approval"], errors: [] }]);
    expect(credentials.map((given) => given.map((c) => c.scope))).toEqual([["mail:send"]]);
    expect(printed[0]).toMatch(/→ ask \(partner-mail\): waiting for a person$/);
    expect(printed[1]).toMatch(/→ the reviewer approved \(logged as an approval line\); mail:send credential until \d\d:\d\d:\d\dZ \(fake token FAKE-[0-9a-f]{8}\); sent \(fake\)$/);
  });

  it("shows the person the errors of an ask rule that matched because its condition failed, not only its reason", async () => {
    // Two addresses in one string: email.domain refuses it, so the partner ask matches (fails closed).
    const { shown, printed } = await approveOne(["eve@evil.example, bob@partner.example"]);
    const errors = ['partner-mail: email.domain: "eve@evil.example, bob@partner.example" is not a single plain e-mail address'];
    expect(shown).toEqual([{ reasons: ["mail to our partner needs a person's approval"], errors }]);
    expect(printed[0]).toMatch(/→ ask \(partner-mail\): waiting for a person; shown the errors too: partner-mail: email\.domain: /);
  });
});

describe("guard() passes the tool only the declared arguments", () => {
  // An undeclared argument is ignored by every rule (docs/language.md section 7, step 2): a `bcc` would get past the
  // rule on `to` if the tool were given it (audit s22 f2 #1).
  const engine = compile([
    {
      path: "mail.policy",
      text: [
        "type Part { name: string }",
        "tool email.send { args { to: list<string>, parts?: list<Part> } }",
        "policy mail {",
        '  @name("inside") allow email.send when all(r in args.to: email.domain(r) == "acme.com")',
        '  @name("partner") ask email.send when any(r in args.to: email.domain(r) == "partner.example") reason "partner mail"',
        "}",
      ].join("\n"),
    },
  ]);

  async function send(args: Record<string, unknown>, engineUsed: unknown = engine): Promise<{ given: unknown[]; printed: string[]; logged: Record<string, unknown>[] }> {
    const { createGateway } = (await import(pathToFileURL(join(ROOT, "samples", "gateway", "gateway.mjs")).href)) as { createGateway: (options: Record<string, unknown>) => { open: (id: string, who: Record<string, unknown>) => void; guard: (call: Record<string, unknown>) => Promise<unknown> } };
    const given: unknown[] = [];
    const printed: string[] = [];
    const logFile = join(work, `declared-${Math.random().toString(36).slice(2)}.jsonl`);
    writeFileSync(logFile, "");
    const gateway = createGateway({
      engine: engineUsed,
      logFile,
      person: async () => ({ who: "the reviewer", approved: true }),
      tools: { call: async (_tool: string, toolArgs: unknown) => (given.push(toolArgs), "sent (fake)") },
      resolveContext: () => ({}),
      print: (line: string) => printed.push(line),
    });
    gateway.open("s", {});
    await gateway.guard({ session: "s", tool: "email.send", args });
    const logged = readFileSync(logFile, "utf8").split("\n").filter((l) => l !== "").map((l) => JSON.parse(l) as Record<string, unknown>);
    return { given, printed, logged };
  }

  it("after an allow, leaves out an undeclared `bcc` (and undeclared fields of declared records), and says so in the transcript and the log", async () => {
    const { given, printed, logged } = await send({ to: ["ann@acme.com"], bcc: ["eve@evil.example"], parts: [{ name: "a", url: "https://evil.example/x" }] });
    expect(given).toEqual([{ to: ["ann@acme.com"], parts: [{ name: "a" }] }]);
    expect(printed[0]).toMatch(/→ allow \(inside\); left out the undeclared arguments bcc, parts\[0\]\.url; sent \(fake\)$/);
    // The request as decided is logged (a replay decides it again); what the tool was not given is named, not quoted.
    expect(logged[0]).toMatchObject({ decision: "allow", undeclaredArgs: ["bcc", "parts[0].url"] });
    expect(JSON.stringify(logged[0]?.["undeclaredArgs"])).not.toContain("evil");
  });

  it("after an approved ask, too", async () => {
    const { given, printed } = await send({ to: ["bob@partner.example"], bcc: ["eve@evil.example"] });
    expect(given).toEqual([{ to: ["bob@partner.example"] }]);
    expect(printed[1]).toMatch(/approved \(logged as an approval line\); left out the undeclared arguments bcc; sent \(fake\)$/);
  });

  it("says nothing when every argument is declared", async () => {
    const { given, printed, logged } = await send({ to: ["ann@acme.com"] });
    expect(given).toEqual([{ to: ["ann@acme.com"] }]);
    expect(printed[0]).not.toContain("left out");
    expect(logged[0]).not.toHaveProperty("undeclaredArgs");
  });

  it("decides on its copy of the arguments and gives the tool that same copy: a getter that changes after its first read changes nothing (audit s22 g2 #3)", async () => {
    let reads = 0;
    const to = ["ann@acme.com"];
    const args = Object.defineProperty({}, "to", { enumerable: true, get: () => (++reads === 1 ? to : ["eve@evil.example"]) });
    const { given, printed, logged } = await send(args);
    expect(given).toEqual([{ to: ["ann@acme.com"] }]);
    expect(printed[0]).toMatch(/→ allow \(inside\); sent \(fake\)$/);
    // The request logged (and replayed) is the one decided: the copy.
    expect(logged[0]).toMatchObject({ decision: "allow", args: { to: ["ann@acme.com"] } });
    // No array of the caller's reaches the tool: changing it afterwards changes nothing given.
    expect((given[0] as { to: string[] }).to).not.toBe(to);
  });

  it("refuses, without calling the tool, a call it could not copy even if the engine would allow it (audit s22 g2 #4)", async () => {
    // An engine whose copy fails (as a copy of arguments too big to walk, or whose getter throws, does).
    const failing = Object.assign(Object.create(engine) as object, { declaredArguments: () => undefined });
    const { given, printed, logged } = await send({ to: ["ann@acme.com"] }, failing);
    expect(given).toEqual([]);
    expect(printed).toEqual([expect.stringMatching(/→ refused by the gateway: its arguments could not be copied for the tool$/)]);
    expect(logged[0]).toMatchObject({ decision: "allow" });
  });

  it("names at most 20 undeclared arguments, and says how many more, in the transcript and the log (audit s22 g2 #5)", async () => {
    const args: Record<string, unknown> = { to: ["ann@acme.com"] };
    for (let i = 0; i < 25; i++) args[`x${i}`] = i;
    const { given, printed, logged } = await send(args);
    expect(given).toEqual([{ to: ["ann@acme.com"] }]);
    const twenty = Array.from({ length: 20 }, (_, i) => `x${i}`);
    expect(printed[0]).toMatch(new RegExp(`; left out the undeclared arguments ${twenty.join(", ")} and 5 more; sent \\(fake\\)$`));
    expect(logged[0]).toMatchObject({ undeclaredArgs: [...twenty, "and 5 more"], undeclaredArgsCount: 25 });
  });
});
