import { describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";
import { replayEngine, replayRecorded } from "../../src/testing/decideRecorded.js";
import { compileFixture } from "../helpers.js";

/**
 * `Engine.approved` approves the call a person was asked about, found again by its tool and
 * declared arguments (language.md §7 step 8): never a call of the same tool that was denied or
 * never asked about, which an agent retrying "the approved call" or a mixed-up queue could send.
 */
const POLICY = `
enum Label { public, secret }
user { id: string, roles: set<string> }
context { labels: set<Label> }
tool payments.send { risk critical args { payee_id: string, amount_cents: int, tags?: set<string> } }
tool http.post { risk medium args { url: string } }
policy p {
  @name("payment-by-clerk") allow payments.send when user.roles contains "ap-clerk" grant "payments:write" for 5m
  @name("payment-large-asks") ask payments.send when args.amount_cents > 100000 reason "over $1,000 needs approval"
  @name("payment-hard-cap") deny payments.send when args.amount_cents > 2500000 reason "over $25,000 never by the agent"
  @name("blocked-payee") deny payments.send when args.payee_id == "EVIL" reason "blocked payee"
  allow http.post
  @name("no-egress-after-secret") deny http.post when session.labels contains secret reason "secret read"
}
`;

const engineOf = () => compile([{ path: "approve.policy", text: POLICY }]);

let second = 0;
function payment(args: Record<string, unknown>, labels: string[] = []): Record<string, unknown> {
  second++;
  return { session: "s1", user: { id: "clerk", roles: ["ap-clerk"] }, tool: "payments.send", time: `2026-11-30T07:00:${String(second % 60).padStart(2, "0")}Z`, args, context: { labels } };
}
const post = () => ({ session: "s1", user: { id: "clerk", roles: ["ap-clerk"] }, tool: "http.post", time: "2026-11-30T07:01:00Z", args: { url: "https://x.example" }, context: { labels: [] } });

const ACME = { payee_id: "ACME-SUPPLIES", amount_cents: 150000 };

describe("Engine.approved approves only the asked call", () => {
  it("refuses a denied call of the tool with an ask awaiting approval, saying why; the asked call is still approvable, and its labels and grants apply", () => {
    const engine = engineOf();
    const asked = payment(ACME, ["secret"]);
    const ask = engine.decide(asked);
    expect(ask).toMatchObject({ decision: "ask", grantsOnApproval: [{ scope: "payments:write", ttlSeconds: 300 }] });
    const evil = payment({ payee_id: "EVIL", amount_cents: 9900000 });
    expect(engine.decide(evil)).toMatchObject({ decision: "deny", rules: ["payment-hard-cap", "blocked-payee"] });
    expect(engine.approvalRefusal(evil)).toBe('session "s1" has no ask awaiting approval for this payments.send call: only a call answered ask can be approved, with the same declared arguments, and the ask of payments.send awaiting approval is for other arguments');
    expect(engine.approved(evil)).toBe(false);
    // The wrong approval changed nothing: the session is untainted, and the asked call awaits.
    expect(engine.decide(post())).toMatchObject({ decision: "allow" });
    expect(engine.approvalRefusal(asked)).toBeUndefined();
    // Approved as the gateway does (the asked request, stamped when the approval came), without its labels even.
    expect(engine.approved({ ...asked, time: "2026-11-30T07:02:00Z", context: { labels: [] } })).toBe(true);
    expect(engine.decide(post())).toMatchObject({ decision: "deny", rules: ["no-egress-after-secret"] });
    expect(engine.approved(asked)).toBe(false); // once
  });

  it("refuses a call never asked about (other arguments of the tool, a call that was allowed), changing nothing", () => {
    const engine = engineOf();
    expect(engine.decide(payment(ACME)).decision).toBe("ask");
    const small = payment({ payee_id: "ACME-SUPPLIES", amount_cents: 500 });
    expect(engine.decide(small).decision).toBe("allow");
    const neverDecided = payment({ payee_id: "ACME-SUPPLIES", amount_cents: 150001 });
    for (const other of [small, neverDecided]) {
      expect(engine.approvalRefusal(other)).toContain("has no ask awaiting approval for this payments.send call");
      expect(engine.approved(other)).toBe(false);
    }
    expect(engine.approvalRefusal({ ...post(), time: "2026-11-30T07:00:30Z" })).toBe('session "s1" has no ask awaiting approval for http.post (no call to it was answered ask, or each was approved already)');
    expect(engine.approved(payment(ACME))).toBe(true);
  });

  it("finds the asked call by its declared arguments as session.repeats compares them: sets ignore order and repeats, undeclared arguments do not count", () => {
    const engine = engineOf();
    expect(engine.decide(payment({ ...ACME, tags: ["q4", "ops"] })).decision).toBe("ask");
    expect(engine.approvalRefusal(payment({ ...ACME, tags: ["q4"] }))).toContain("for other arguments");
    expect(engine.approved(payment({ amount_cents: 150000, tags: ["ops", "q4", "ops"], payee_id: "ACME-SUPPLIES", memo: "undeclared" }))).toBe(true);
  });

  it("keeps two different asks of one tool apart: each is approvable, once", () => {
    const engine = engineOf();
    const first = payment(ACME);
    const other = payment({ payee_id: "GLOBEX", amount_cents: 200000 });
    expect([engine.decide(first).decision, engine.decide(other).decision]).toEqual(["ask", "ask"]);
    expect(engine.approvalRefusal(payment({ payee_id: "EVIL", amount_cents: 200000 }))).toContain("the 2 asks of payments.send awaiting approval are for other arguments");
    expect(engine.approved(other)).toBe(true);
    expect(engine.approved(other)).toBe(false);
    expect(engine.approved(first)).toBe(true);
    expect(engine.approved(first)).toBe(false);
  });

  it("finds asked calls of short and of long arguments alike (a short call is its own key, a long one its hash)", () => {
    const engine = engineOf();
    const short = payment({ payee_id: "A", amount_cents: 150001 });
    const long = payment({ payee_id: "L".repeat(5000), amount_cents: 150001 });
    const longOther = payment({ payee_id: `${"L".repeat(4999)}M`, amount_cents: 150001 });
    expect([engine.decide(short).decision, engine.decide(long).decision]).toEqual(["ask", "ask"]);
    expect(engine.approved(longOther)).toBe(false);
    expect(engine.approved(payment({ payee_id: "B", amount_cents: 150001 }))).toBe(false);
    expect(engine.approved(long)).toBe(true);
    expect(engine.approved(short)).toBe(true);
    expect([engine.approved(long), engine.approved(short)]).toEqual([false, false]);
  });

  it("counts the same call asked twice: approvable twice, each approval bringing the data any of the asks carried", () => {
    const engine = engineOf();
    expect(engine.decide(payment(ACME)).decision).toBe("ask");
    expect(engine.decide(payment(ACME, ["secret"])).decision).toBe("ask");
    expect(engine.approved(payment(ACME))).toBe(true);
    expect(engine.decide(post())).toMatchObject({ decision: "deny", rules: ["no-egress-after-secret"] });
    expect(engine.approved(payment(ACME))).toBe(true);
    expect(engine.approved(payment(ACME))).toBe(false);
  });

  it("keeps an asked call's labels once each, and none the session holds already: a request repeating a label 1,000 times costs one entry", () => {
    const engine = engineOf();
    const pending = (): unknown[] => [...(engine as unknown as { sessions: { get(id: string): { asked?: Map<string, { labels?: Set<string> }> } } }).sessions.get("s1")!.asked!.values()].map((ask) => [...(ask.labels ?? [])]);
    expect(engine.decide(payment(ACME, Array.from({ length: 1000 }, (_, i) => (i % 2 === 0 ? "secret" : "public")))).decision).toBe("ask");
    expect(pending()).toEqual([["secret", "public"]]);
    // The session holds public now (an allowed call brought it): a later ask keeps only secret.
    expect(engine.decide(payment({ payee_id: "OTHER", amount_cents: 100 }, ["public"])).decision).toBe("allow");
    expect(engine.decide(payment({ ...ACME, payee_id: "B" }, ["public", "public", "secret", "secret"])).decision).toBe("ask");
    expect(pending()).toEqual([["secret", "public"], ["secret"]]);
    // Approved, the asked call's data still joins the session.
    expect(engine.approved(payment(ACME))).toBe(true);
    expect(engine.decide(post())).toMatchObject({ decision: "deny", rules: ["no-egress-after-secret"] });
  });

  it("keeps at most 256 calls awaiting approval per session: later ones cannot be approved (and say why), earlier ones can", () => {
    const engine = engineOf();
    const decisions = Array.from({ length: 300 }, (_, i) => engine.decide(payment({ payee_id: `P${i}`, amount_cents: 150000 })));
    expect(decisions.every((d) => d.decision === "ask")).toBe(true);
    // Those kept say nothing more; those past the limit say, when asked, that no one can approve them.
    expect(decisions[255]!.errors).toEqual([]);
    expect(decisions[256]!.errors).toEqual(["this ask cannot be approved: the session already has 256 calls awaiting approval, the most the engine keeps; ask again once earlier asks of the session are approved"]);
    expect(decisions[256]!.rules).toEqual(decisions[255]!.rules);
    expect(engine.approved(payment({ payee_id: "P0", amount_cents: 150000 }))).toBe(true);
    expect(engine.approved(payment({ payee_id: "P255", amount_cents: 150000 }))).toBe(true);
    const late = payment({ payee_id: "P299", amount_cents: 150000 });
    expect(engine.approvalRefusal(late)).toContain("more asks awaiting approval than the engine keeps (256 calls), and those past them cannot be approved (ask again once earlier asks of the session are approved)");
    expect(engine.approved(late)).toBe(false);
  });
});

/**
 * When the approved call went ahead (language.md §7 step 8): an approval dated after its ask says
 * when; one dated at or before it (the asked request passed back unstamped, a stale time) is
 * recorded at the ask's time plus the wait the engine's clock measured since the ask, else at the ask's time:
 * never before the ask (a `session.called(…, within D)` deny would close early), and never at
 * another attempt's time (an allow's window would open longer, or a call be dated ahead).
 */
describe("Engine.approved records the approved call when the approval came", () => {
  const WITHIN = `
agent { team: string }
tool crm.lookup { risk high args { id: string } }
tool http.get { risk medium args { url: string } }
tool tests.run { risk low args { suite: string } }
tool deploy.run { risk high args { env: string } }
policy main {
  @name("crm-ask") ask crm.lookup reason "crm needs approval"
  @name("web") allow http.get
  @name("no-web-after-crm") deny http.get when session.called(crm.lookup, within 10m) reason "no web within 10m of a CRM read"
  @name("tests-ask") ask tests.run when args.suite == "full" reason "the full suite needs approval"
  @name("tests") allow tests.run
  @name("deploy-after-tests") allow deploy.run when session.called(tests.run, within 5m)
}
`;
  const T0 = Date.parse("2026-01-05T09:00:00Z");
  const at = (minutes: number) => new Date(T0 + minutes * 60_000).toISOString();
  const lookup = (minutes: number) => ({ time: at(minutes), session: "s", agent: { team: "x" }, tool: "crm.lookup", args: { id: "42" } });
  const fetch = (minutes: number) => ({ time: at(minutes), session: "s", agent: { team: "x" }, tool: "http.get", args: { url: "https://a.example" } });
  const tests = (minutes: number, suite: string) => ({ time: at(minutes), session: "s", agent: { team: "x" }, tool: "tests.run", args: { suite } });
  const deploy = (minutes: number) => ({ time: at(minutes), session: "s", agent: { team: "x" }, tool: "deploy.run", args: { env: "dev" } });
  /** An engine whose clock reads `wall.minutes` after T0. */
  const engineAt = (wall: { minutes: number }) => compile([{ path: "within.policy", text: WITHIN }], { clock: () => T0 + wall.minutes * 60_000 });

  it("an approval passing the asked request back as it was (dated at the ask) counts the call from the engine's clock as it came", () => {
    const wall = { minutes: 0 };
    const engine = engineAt(wall);
    expect(engine.decide(lookup(0)).decision).toBe("ask");
    wall.minutes = 5;
    expect(engine.decide(fetch(5)).decision).toBe("allow");
    wall.minutes = 15;
    expect(engine.approved(lookup(0))).toBe(true);
    expect(engine.decide(fetch(16))).toMatchObject({ decision: "deny", rules: ["no-web-after-crm"], errors: [] });
    expect(engine.decide(fetch(24))).toMatchObject({ decision: "deny", rules: ["no-web-after-crm"], errors: [] });
    expect(engine.decide(fetch(26))).toMatchObject({ decision: "allow", errors: [] });
  });

  it("an engine clock running ahead of the requests' times (or behind) dates the unstamped approval by the wait it measured since the ask, not at its own reading (review r5b)", () => {
    for (const skew of [120, -120]) {
      const wall = { minutes: skew };
      const engine = engineAt(wall);
      expect(engine.decide(tests(0, "full")).decision).toBe("ask");
      // The approval comes 3 minutes later by the engine's clock, passing the asked request back as it was.
      wall.minutes = skew + 3;
      expect(engine.approved(tests(0, "full"))).toBe(true);
      // Recorded at 09:03 on the requests' clock: the deploy at 09:06 is within 5 minutes of it, and no error says the times are out of order.
      expect(engine.decide(deploy(6)), `skew ${skew}`).toMatchObject({ decision: "allow", rules: ["deploy-after-tests"], errors: [] });
      expect(engine.decide(deploy(9)), `skew ${skew}`).toMatchObject({ decision: "deny", rules: [], errors: [] });
    }
  });

  it("an approval dated before its ask, while the engine's clock is no later than the ask, counts the call from the ask", () => {
    const wall = { minutes: -30 };
    const engine = engineAt(wall);
    expect(engine.decide(lookup(0)).decision).toBe("ask");
    expect(engine.approved(lookup(-20))).toBe(true);
    expect(engine.decide(fetch(1))).toMatchObject({ decision: "deny", rules: ["no-web-after-crm"], errors: [] });
    expect(engine.decide(fetch(11))).toMatchObject({ decision: "allow", errors: [] });
  });

  it("an approval dated when it came counts the call from then, not from a later attempt: an allow's window is not widened", () => {
    const engine = engineAt({ minutes: 0 });
    expect(engine.decide(tests(0, "full")).decision).toBe("ask");
    expect(engine.decide(fetch(9)).decision).toBe("allow");
    expect(engine.approved(tests(2, "full"))).toBe(true);
    // Approved at 09:02, so `within 5m` ended at 09:07, whatever the session did at 09:09.
    expect(engine.decide(deploy(10))).toMatchObject({ decision: "deny", rules: [] });
  });

  it("an attempt dated ahead (another host's clock) does not date the approved call ahead", () => {
    const engine = engineAt({ minutes: 0 });
    expect(engine.decide(lookup(0)).decision).toBe("ask");
    expect(engine.decide(tests(30, "unit")).decision).toBe("allow");
    expect(engine.approved(lookup(1))).toBe(true);
    // 19 minutes after the approval: the window is over, and no call is dated after this attempt.
    expect(engine.decide(fetch(20))).toMatchObject({ decision: "allow", rules: ["web"], errors: [] });
  });

  it("a replay, reading no clock for a dated line, records an approval line dated before its ask at the ask's time", () => {
    const engine = replayEngine(compileFixture(WITHIN), {});
    expect(replayRecorded(engine, lookup(0))?.decision).toBe("ask");
    expect(replayRecorded(engine, fetch(5))?.decision).toBe("allow");
    expect(replayRecorded(engine, { ...lookup(-10), event: "approval", approved: true })).toBeUndefined();
    expect(replayRecorded(engine, fetch(9))).toMatchObject({ decision: "deny", rules: ["no-web-after-crm"], errors: [] });
    expect(replayRecorded(engine, fetch(11))).toMatchObject({ decision: "allow", errors: [] });
  });
});
