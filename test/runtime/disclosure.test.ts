import { describe, expect, it } from "vitest";
import { compile } from "../../src/index.js";
import { withoutUrlCredentials } from "../../src/runtime/hiddenText.js";

// What an agent behind the gateway is told when the engine refuses before any rule runs: what
// happened and what it can do, never the values the gateway set, the policy's internals or the
// engine's settings; the detail goes to `errors`, for the audit log (audit s20 a2, H1, M2, M3).
const sources = (text: string) => [{ path: "p.policy", text }];

describe("refusal reasons tell the agent what happened, the detail is in errors", () => {
  const T0 = Date.parse("2026-01-01T00:00:00Z");
  const withTools = (returns: string, extra: string) => `
enum Label { public, internal, customer_pii_from_crm }
agent { id: string }
context { labels: set<Label> }
tool a.read { risk low ${returns} args { p: string } }
tool b.send { risk low args { p: string } }
policy x {
  allow a.read
  allow b.send
  deny b.send when session.labels contains internal
  ${extra}
}`;
  const call = (session: string, tool: string) => ({ session, agent: { id: "a" }, context: { labels: [] }, tool, args: { p: "x" } });

  it("a session a reload ended: no label, tool or session.called pattern of the new policy", () => {
    const clock = () => T0;
    const old = compile(sources(withTools("", "")), { clock });
    old.decide(call("s1", "a.read"));
    old.decide(call("s2", "a.read"));
    const reloaded = compile(sources(withTools("returns customer_pii_from_crm", '@name("pii-egress") deny b.send when session.labels contains customer_pii_from_crm')), { clock, sessionsFrom: old });
    const ended = reloaded.decide(call("s1", "b.send"));
    expect(ended).toMatchObject({ decision: "deny", rules: [], reasons: ["the session has ended: the policy was reloaded; start a new session"] });
    expect(ended.errors[0]).toContain("a.read now returns customer_pii_from_crm");
    // The operator still gets the detail.
    expect(JSON.stringify(reloaded.stats().reload)).toContain("customer_pii_from_crm");
    const other = compile(sources(withTools("", "")), { clock });
    other.decide(call("s3", "a.read"));
    const patterned = compile(sources(withTools("", '@name("read-then-send") deny b.send when session.called(a.read, within 1h)')), { clock, sessionsFrom: other });
    const patternEnded = patterned.decide(call("s3", "b.send"));
    expect(patternEnded.reasons).toEqual(["the session has ended: the policy was reloaded; start a new session"]);
    expect(patternEnded.errors[0]).toContain("a session.called pattern now matches a.read");
  });

  it("a full engine and an idle session: no settings, no count of other sessions, no operator advice", () => {
    let now = T0;
    const engine = compile(sources(withTools("", "")), { maxSessions: 2, clock: () => now });
    engine.decide(call("other-1", "a.read"));
    engine.decide(call("other-2", "a.read"));
    const full = engine.decide(call("attacker", "a.read"));
    expect(full.reasons).toEqual(["the enforcement point is at capacity: try again later"]);
    expect(full.errors[0]).toMatch(/^session "attacker" cannot start: the engine already holds 2 live sessions \(maxSessions\).*raise maxSessions/);
    now += 2 * 3_600_000;
    const idle = engine.decide(call("other-2", "a.read"));
    expect(idle.reasons).toEqual(["the session has expired: start a new session"]);
    expect(idle.errors[0]).toContain("sessionIdleMs (1 hour)");
  });

  it("fields the gateway set: the field and its type, never the value nor the enum's members", () => {
    const engine = compile(
      sources(`
enum Label { public, internal, pii, secret }
agent { id: string }
user { id: string }
context { labels: set<Label>, tenant: string }
tool kb.search { risk low args { q: string, n: int } }
intent support.reply { tools kb.search max_risk low }
intent ma.due_diligence { tools kb.search max_risk low }
policy p { allow kb.search }`),
    );
    const request = (over: object) => ({ session: "s1", agent: { id: "a" }, user: { id: "u" }, context: { labels: [], tenant: "t" }, tool: "kb.search", args: { q: "x", n: 1 }, ...over });
    const label = engine.decide(request({ context: { labels: ["restricted-deal-falcon"], tenant: "t" } }));
    expect(label.reasons).toEqual(["request.context.labels[0] must be a member of Label"]);
    expect(label.errors).toEqual(['request.context.labels[0] must be a member of Label (public, internal, pii, secret), not the string "restricted-deal-falcon"']);
    const user = engine.decide(request({ session: "s2", user: { id: 4711 } }));
    expect(user.reasons).toEqual(["request.user.id must be a string"]);
    expect(user.errors).toEqual(["request.user.id must be a string, not the number 4711"]);
    expect(engine.decide(request({ session: "s3", time: "yesterday" })).reasons).toEqual(["request.time must be an RFC 3339 time"]);
    expect(engine.decide(request({ session: "s4", intent: "m&a" })).reasons).toEqual(["request.intent must be the name of a declared intent"]);
    engine.decide(request({ session: "s5", intent: "ma.due_diligence" }));
    const switched = engine.decide(request({ session: "s5", intent: "support.reply" }));
    expect(switched.reasons).toEqual(["the session cannot change its intent: start a new session for another task"]);
    expect(switched.errors[0]).toContain("declared the intent ma.due_diligence");
    // The agent's own arguments are its own data: their reason still quotes them.
    expect(engine.decide(request({ session: "s6", args: { q: "x", n: "three" } })).reasons).toEqual(['request.args.n must be an int, not the string "three"']);
  });
});

describe("a URL's user information is never quoted (audit s20 a2 L1, review r2 H1, M1)", () => {
  const engine = compile(
    sources(`agent { id: string }
tool http.fetch { risk low args { url: string } }
policy n {
  @name("no-metadata") deny http.fetch when url.host(args.url) == "169.254.169.254"
  allow http.fetch
}`),
  );
  const fetch = (url: string, session = "s1") => ({ session, agent: { id: "a" }, tool: "http.fetch", args: { url } });

  it("errors show all of it as ***, also past the cut to 80 characters", () => {
    const decision = engine.decide(fetch("https://deploy:Pr0d-DB-passw0rd@db.internal.example/"));
    expect(decision.errors[0]).toContain('"https://***@db.internal.example/"');
    const long = engine.decide(fetch(`https://deploy:${"p".repeat(100)}@db.internal.example/`));
    expect(long.errors.join(" ")).not.toContain("ppp");
    // The `@` far past what is shown: the authority is masked to the cut, no start of it shows.
    const far = engine.decide(fetch(`https://deploy:SECRET${"p".repeat(1000)}@db.internal.example/`));
    expect(far.errors[0]).toContain('"https://***"');
    expect(far.errors.join(" ")).not.toMatch(/deploy|SECRET/);
  });

  it("whatever form the user information takes: a token as user, @ in the name, backslashes, one slash, whitespace", () => {
    const urls = [
      "https://ghp_SECRETTOKEN1234567890abcdefABCDEF@github.com/org/repo.git",
      "https://ops@corp:SECRETPW@db.internal.example/",
      "https://deploy:SEC@RET@PW@db.internal.example/",
      "https:\\\\deploy:SECRETPW@db.internal.example\\",
      "https:/deploy:SECRETPW@db.internal.example/",
      "https://deploy:SECRET PW@db.internal.example/",
      "https://deploy:SECRET\tPW@db.internal.example/",
      "https:deploy:SECRETPW@db.internal.example/",
      `https://${"u".repeat(70)}:SECRETPW@db.internal.example/`,
    ];
    for (const [index, url] of urls.entries()) {
      const decision = engine.decide(fetch(url, `m${index}`));
      // Masking is in messages only: the decision is the one the URL itself gets.
      expect(decision).toMatchObject({ decision: "deny", rules: ["no-metadata"] });
      expect(decision.errors.join(" "), url).not.toMatch(/SECRET|ghp_|deploy|ops/);
      expect(decision.errors.join(" "), url).toContain("***@");
    }
    // Text that is not a URL's user information is left as it is.
    const ssh = engine.decide(fetch("git@github.com:org/repo.git", "m-ssh"));
    expect(JSON.stringify(ssh)).not.toContain("***");
  });

  it("explanations show it as *** too", async () => {
    const { explain } = await import("../../src/index.js");
    const text = JSON.stringify(explain(engine, fetch("https://deploy:Pr0d-DB-passw0rd@db.internal.example/")));
    expect(text).not.toMatch(/Pr0d|deploy/);
    expect(text).toContain("https://***@");
  });

  // Masking runs on the decision path over text the agent chooses: it must cost what the text's
  // length does. It once scanned to `://` and back from every start: 8 s for 80 KB, about a
  // minute for the first text here, hours for the megabytes; linear, each takes milliseconds, so
  // a limit of seconds per decision cannot flake either way.
  it("costs time linear in the text: megabytes of URL-like text are decided at once", () => {
    const n = 1_000_000;
    const adversarial = ["a".repeat(n / 10) + "://" + "b".repeat(n / 10) + " ", "a".repeat(n) + "://" + "b".repeat(n) + " ", "http:".repeat(n / 5) + "@", "a:/".repeat(n / 3), "https://x@".repeat(n / 10)];
    const timed = (run: () => unknown): number => {
      const started = performance.now();
      run();
      return performance.now() - started;
    };
    for (const [index, text] of adversarial.entries()) {
      expect(timed(() => engine.decide(fetch(text, `big${index}`)))).toBeLessThan(5000);
      expect(timed(() => engine.decide({ session: `tool${index}`, agent: { id: "a" }, tool: text, args: {} }))).toBeLessThan(5000);
      expect(timed(() => engine.decide({ session: `time${index}`, agent: { id: "a" }, tool: "http.fetch", time: text, args: { url: "x" } }))).toBeLessThan(5000);
      // The whole-text pass (quotedVisibly's, for short texts) is linear too.
      expect(timed(() => withoutUrlCredentials(text))).toBeLessThan(5000);
    }
  }, 120_000);
});
