import { spawnSync, type SpawnSyncReturns } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
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
    expect(lines).toHaveLength(13);
    // Each with the time the gateway stamped on the request before deciding it.
    expect(lines.filter((l) => typeof l["time"] !== "string")).toEqual([]);
    const replay = bin(["test", FINANCE, "--replay", log]);
    expect(replay.stderr).toBe("");
    expect(replay.code, replay.stdout).toBe(0);
    expect(replay.stdout).toBe(`13 lines replayed from 1 file\n13 passed, 0 failed\n`);
  });

  it("logs the deny of an invalid request, of an unknown tool and in a revoked session so that each replays as a passing case", async () => {
    const lines = logLines();
    const at = (find: (line: Record<string, unknown>) => boolean): number => lines.findIndex(find) + 1;
    const invalid = at((l) => (l["reasons"] as string[])[0]!.startsWith("request.args.amount_cents must be an int"));
    const unknown = at((l) => l["tool"] === "bank.transfer");
    const revoking = at((l) => l["session"] === "fa-reconcile" && l["tool"] === "payments.send");
    const afterRevoked = at((l) => l["session"] === "fa-reconcile" && l["tool"] === "invoices.get");
    expect([invalid, unknown, revoking, afterRevoked].every((line) => line > 0)).toBe(true);
    expect(lines[invalid - 1]).toMatchObject({ decision: "deny", rules: [] });
    expect(lines[unknown - 1]).toMatchObject({ decision: "deny", rules: [], reasons: ['unknown tool "bank.transfer": the policy set declares no such tool'] });
    expect(lines[revoking - 1]).toMatchObject({ decision: "deny", rules: ["off-intent", "risk-escalation"] });
    expect(lines[afterRevoked - 1]).toMatchObject({ decision: "deny", rules: ["risk-escalation"] });
    // The argument that is not an object was turned away by the gateway: no line, so no malformed one.
    expect(lines.filter((l) => l["tool"] === "invoices.get" && typeof l["args"] !== "object")).toEqual([]);

    const replay = await cli(["test", FINANCE, "--replay", log, "--json"]);
    expect(replay.code, replay.stdout).toBe(0);
    const report = JSON.parse(replay.stdout) as { errors: unknown[]; notes: unknown[]; cases: { line: number; ok: boolean }[] };
    expect(report.errors).toEqual([]);
    expect(report.notes).toEqual([]);
    for (const line of [invalid, unknown, revoking, afterRevoked]) expect(report.cases.find((c) => c.line === line), `line ${line}`).toMatchObject({ ok: true });
  });

  it("writes an ask's line once answered, with whether the call went ahead, and holds the session's next call until then", () => {
    const onboarding = logLines().filter((l) => l["session"] === "fa-onboard");
    expect(onboarding.map((l) => [l["tool"], l["decision"], l["approved"]])).toEqual([
      ["email.send", "allow", undefined],
      ["payee.create", "ask", true],
      // The approved call's bank details (`pii`) joined the session: without the approval on
      // its line, the replay would allow this email and the log would not replay.
      ["email.send", "deny", undefined],
      ["email.send", "allow", undefined],
    ]);
    // The payment sent again while the controller decided was held until the answer: its line
    // comes after the ask's, where its replay finds the repeat it was denied for.
    const payRun = logLines().filter((l) => l["session"] === "fa-pay-run");
    expect(payRun.map((l) => [l["tool"], l["decision"], l["rules"], l["approved"]])).toEqual([
      ["invoices.list", "allow", ["finance-read"], undefined],
      ["payments.send", "allow", ["payment-small"], undefined],
      ["payments.send", "ask", ["payment-large-asks"], false],
      ["payments.send", "deny", ["duplicate-payment"], undefined],
      ["payments.send", "deny", [], undefined],
    ]);
    // Written once answered: after lines of other sessions decided meanwhile, dated later.
    const lines = logLines();
    const ask = lines.findIndex((l) => l["tool"] === "payee.create");
    expect(lines.slice(0, ask).some((l) => l["session"] !== "fa-onboard" && (l["time"] as string) > (lines[ask]!["time"] as string))).toBe(true);
  });
});

describe("an approval that comes after later calls of its session", () => {
  // What the README's "Decision logs" says a log cannot hold: replay approves right after the ask
  // line, so neither place for that line replays such a session as it was decided.
  const sources = readdirSync(join(ROOT, FINANCE))
    .filter((file) => file.endsWith(".policy"))
    .map((file) => ({ path: file, text: readFileSync(join(ROOT, FINANCE, file), "utf8") }));
  const who = { agent: { id: "spiffe://acme.com/agents/ap-bot", team: "finance-ops" }, user: { id: "clerk.maria", roles: ["ap-clerk"] } };
  const at = (second: number): string => `2025-03-14T10:00:${String(second).padStart(2, "0")}Z`;

  /** A log line as the README says to write one. */
  function line(request: Request, decision: Decision, approved?: boolean): string {
    return JSON.stringify({ ...request, decision: decision.decision, rules: decision.rules, reasons: decision.reasons, ...(approved === undefined ? {} : { approved }) });
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

  /** Production: an ask, a call of the same session while the person decides, then the approval. */
  function production(ask: Request, meanwhile: Request): { asked: Decision; between: Decision } {
    const engine = compile(sources);
    const asked = engine.decide(ask);
    const between = engine.decide(meanwhile);
    expect(asked.decision).toBe("ask");
    expect(engine.approved(ask)).toBe(true);
    return { asked, between };
  }

  it("written at the ask, the calls between see the approved call's data too early", async () => {
    const base = { ...who, session: "onboard", intent: "finance.vendor_onboarding" };
    const ask: Request = { ...base, time: at(0), tool: "payee.create", args: { name: "Globex Corporation", iban: "DE89370400440532013000", country: "DE" }, context: { labels: ["pii"] } };
    const email: Request = { ...base, time: at(10), tool: "email.send", args: { to: ["billing@globex.example"], subject: "Set-up", body: "Hello" }, context: { labels: [] } };
    const { asked, between } = production(ask, email);
    // Before the approval the session held no bank details: the email went out.
    expect(between.decision).toBe("allow");
    expect(await replay([line(ask, asked, true), line(email, between)])).toEqual({ code: 1, failedLines: [2] });
    expect(await replay([line(email, between), line(ask, asked, true)])).toEqual({ code: 0, failedLines: [] });
  });

  it("written at the approval, the ask is counted after the calls between", async () => {
    const base = { ...who, session: "pay-run", intent: "finance.pay_invoices" };
    const payment = { payee_id: "V-2210", invoice_id: "INV-CL-7731", amount_cents: 312000, currency: "USD", rail: "ach" };
    const context = { labels: ["financial"], payee: { id: "V-2210", verified: true, known_for: 129600000000, country: "US" } };
    const ask: Request = { ...base, time: at(0), tool: "payments.send", args: payment, context };
    // The agent retries the payment while the controller decides.
    const retry: Request = { ...ask, time: at(10) };
    const { asked, between } = production(ask, retry);
    expect(between.rules).toEqual(["duplicate-payment"]);
    expect(await replay([line(retry, between), line(ask, asked, true)])).toEqual({ code: 1, failedLines: [1, 2] });
    expect(await replay([line(ask, asked, true), line(retry, between)])).toEqual({ code: 0, failedLines: [] });
  });
});
