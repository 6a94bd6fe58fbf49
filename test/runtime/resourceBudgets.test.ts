import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile, compileSources } from "../../src/compile/compile.js";
import { Engine } from "../../src/runtime/engine.js";
import type { Bundle } from "../../src/bundle/Bundle.js";
import type { Decision } from "../../src/runtime/decision.js";
import { explain } from "../../src/runtime/explain.js";
import { cli, cpuMilliseconds, handEdited } from "../helpers.js";

/**
 * Work and memory an agent's requests can make a decision cost, bounded (the resource audit of
 * session 14): the characters text tests inside quantifiers read, the labels a session keeps,
 * and the labels of a call asked again and again.
 */

function engineFor(text: string, options: ConstructorParameters<typeof Engine>[1] = {}): Engine {
  return compile([{ path: "p.policy", text }], options);
}

/** What explain says of each rule, by id: the interpreter's verdict, to check against the decision. */
function verdicts(engine: Engine, request: unknown): Record<string, boolean | "error"> {
  return Object.fromEntries(explain(engine, request).rules.map((rule) => [rule.id, rule.matched]));
}

const TEXT_BUDGET = "the text tests in this rule's quantifiers would read more than 100,000,000 characters";

describe("the characters text tests inside quantifiers read are budgeted per rule", () => {
  const DLP = "tool http.post { risk low args { body: string, words: list<string> } }\npolicy p {\n  deny http.post when any(w in args.words: args.body contains w)\n  allow http.post\n}\n";

  it("a megabyte body searched for 2,000 words fails closed, quickly, instead of taking seconds per thousand words", () => {
    const engine = engineFor(DLP);
    // Adversarial text: each search reads the whole body. Before the budget this took about 15 s.
    const request = { session: "s", tool: "http.post", args: { body: "a".repeat(1_000_000), words: Array.from({ length: 2_000 }, () => "aaaaab") } };
    const started = cpuMilliseconds();
    const decision = engine.decide(request);
    expect(cpuMilliseconds() - started).toBeLessThan(10_000);
    expect(decision).toMatchObject({ decision: "deny", rules: ["p/1"] });
    expect(decision.errors.join(" ")).toContain(TEXT_BUDGET);
    expect(verdicts(engine, { ...request, session: "t" })).toEqual({ "p/1": "error", "p/2": true });
    // Within the budget (50 searches of a megabyte) the rule decides as written.
    expect(engine.decide({ ...request, session: "u", args: { ...request.args, words: request.args.words.slice(0, 50) } })).toMatchObject({ decision: "allow", errors: [] });
    expect(engine.decide({ ...request, session: "v", args: { body: "a".repeat(1_000_000), words: ["b", "aaa"] } })).toMatchObject({ decision: "deny", errors: [] });
  });

  it("every text test charges it: like with a run-time or written pattern, startsWith, endsWith; an allow past it does not match", () => {
    const body = "x".repeat(1_000_000);
    const words = Array.from({ length: 150 }, (_, i) => `y${i}`);
    for (const test of ["args.body like w", 'args.body like "*y*"', 'args.body like "x*y*x"', "args.body.startsWith(w)", "args.body.endsWith(w)", 'args.body like "*y"']) {
      const engine = engineFor(`tool t { risk low args { body: string, words: list<string> } }\npolicy p {\n  allow t when all(w in args.words: not (${test}))\n}\n`);
      // Prefixes and suffixes as long as the body: each comparison reads it.
      const request = { session: "s", tool: "t", args: { body, words: test.includes("With") ? words.map((w) => `${w}${body}`.slice(0, body.length)) : test.endsWith(" w") ? words.map((w) => `*${w}*`) : words } };
      const decision = engine.decide(request);
      if (test.includes('"*y"')) {
        // A suffix written in the policy reads one character per element: far within the budget.
        expect(decision, test).toMatchObject({ decision: "allow", errors: [] });
        continue;
      }
      expect(decision, test).toMatchObject({ decision: "deny", rules: [] });
      expect(decision.errors.join(" "), test).toContain(TEXT_BUDGET);
      expect(verdicts(engine, { ...request, session: "t" }), test).toEqual({ "p/1": "error" });
    }
  });

  it("a spent budget is a fault like any other: a term that settles the rule does, in either order, and explain agrees", () => {
    const args = { body: "x".repeat(1_000_000), words: Array.from({ length: 150 }, (_, i) => `y${i}`) };
    for (const condition of ["any(w in args.words: args.body contains w) and args.flag", "args.flag and any(w in args.words: args.body contains w)", "any(w in args.words: args.flag and args.body contains w)"]) {
      const engine = engineFor(`tool t { risk low args { body: string, words: list<string>, flag: bool } }\npolicy p {\n  deny t when ${condition} revoke\n  allow t\n}\n`);
      const request = { session: "s", tool: "t", args: { ...args, flag: false } };
      expect(verdicts(engine, request), condition).toEqual({ "p/1": false, "p/2": true });
      expect(engine.decide(request), condition).toMatchObject({ decision: "allow", revoked: false, errors: [] });
      const flagged = { ...request, session: "f", args: { ...args, flag: true } };
      expect(verdicts(engine, flagged), condition).toEqual({ "p/1": "error", "p/2": true });
      const decision = engine.decide(flagged);
      expect(decision, condition).toMatchObject({ decision: "deny", rules: ["p/1"], revoked: true });
      expect(decision.errors.join(" "), condition).toContain(TEXT_BUDGET);
    }
  });

  it("what language.md §5.9 says reaches the budget does, with ordinary text: a 1 MiB body against 96 words, a 100 KiB one against 977, 666,667 characters against 150 keywords written in the policy", () => {
    const engine = engineFor(DLP);
    const text = (length: number): string => "lorem ipsum ".repeat(Math.ceil(length / 12)).slice(0, length);
    const words = (n: number): string[] => Array.from({ length: n }, (_, i) => `word${i}`);
    for (const [length, within] of [[1_048_576, 95], [102_400, 976]] as const) {
      expect(engine.decide({ session: `a${length}`, tool: "http.post", args: { body: text(length), words: words(within) } })).toMatchObject({ decision: "allow", errors: [] });
      const denied = engine.decide({ session: `b${length}`, tool: "http.post", args: { body: text(length), words: words(within + 1) } });
      expect(denied).toMatchObject({ decision: "deny", rules: ["p/1"] });
      expect(denied.errors.join(" ")).toContain(TEXT_BUDGET);
    }
    const keywords = engineFor(`tool email.send { risk low args { body: string } }\npolicy p {\n  deny email.send when any(w in ${JSON.stringify(words(150))}: args.body contains w)\n  allow email.send\n}\n`);
    expect(keywords.decide({ session: "k", tool: "email.send", args: { body: text(666_666) } })).toMatchObject({ decision: "allow", errors: [] });
    expect(keywords.decide({ session: "l", tool: "email.send", args: { body: text(666_667) } })).toMatchObject({ decision: "deny", rules: ["p/1"] });
  });

  it("a glob match charges the pattern's length with the subject's (a pattern of many `*` parts searches once per part): run-time or written, decide and explain agree", () => {
    const pattern = `${"*a".repeat(50_000)}*b*`;
    const body = "a".repeat(10_000);
    const words = Array.from({ length: 1_000 }, (_, i) => `w${i}`);
    // 1,000 matches of 10,000 characters stay within the budget; with the pattern's 100,003 they do not.
    for (const [test, args] of [["args.body like args.p", { body, p: pattern, words }], [`args.body like ${JSON.stringify(pattern)}`, { body, p: "", words }]] as const) {
      const engine = engineFor(`tool t { risk low args { body: string, p: string, words: list<string> } }\npolicy p {\n  deny t when any(w in args.words: ${test})\n  allow t\n}\n`);
      const request = { session: "s", tool: "t", args };
      const decision = engine.decide(request);
      expect(decision, test.slice(0, 40)).toMatchObject({ decision: "deny", rules: ["p/1"] });
      expect(decision.errors.join(" ")).toContain(TEXT_BUDGET);
      expect(verdicts(engine, { ...request, session: "t" })).toEqual({ "p/1": "error", "p/2": true });
      // A tenth of the words: within it, and the rule decides as written.
      expect(engine.decide({ ...request, session: "u", args: { ...args, words: words.slice(0, 100) } })).toMatchObject({ decision: "allow", errors: [] });
    }
  });

  it("a glob match's charge is exact, and the same in the generated code and the interpreter: 100 matches of a 999,995-character body by `x*y*x` reach the budget, one more character passes it", () => {
    for (const test of ['args.body like "x*y*x"', "args.body like w"]) {
      const engine = engineFor(`tool t { risk low args { body: string, words: list<string> } }\npolicy p {\n  deny t when any(w in args.words: ${test})\n  allow t\n}\n`);
      const words = Array.from({ length: 100 }, () => "x*y*x");
      const within = { session: "s", tool: "t", args: { body: "x".repeat(999_995), words } };
      expect(engine.decide(within), test).toMatchObject({ decision: "allow", errors: [] });
      expect(verdicts(engine, { ...within, session: "s2" }), test).toEqual({ "p/1": false, "p/2": true });
      const past = { session: "t", tool: "t", args: { body: "x".repeat(999_996), words } };
      expect(engine.decide(past), test).toMatchObject({ decision: "deny", rules: ["p/1"] });
      expect(verdicts(engine, { ...past, session: "t2" }), test).toEqual({ "p/1": "error", "p/2": true });
    }
  });

  it("each rule has its own budget: two rules reading 60 million characters each both decide", () => {
    const engine = engineFor("tool t { risk low args { body: string, words: list<string> } }\npolicy p {\n  deny t when any(w in args.words: args.body contains w)\n  deny t when any(w in args.words: args.body.endsWith(w) and args.body contains w)\n  allow t\n}\n");
    const request = { session: "s", tool: "t", args: { body: "x".repeat(1_000_000), words: Array.from({ length: 60 }, (_, i) => `y${i}`) } };
    expect(engine.decide(request)).toMatchObject({ decision: "allow", errors: [] });
  });

  const dir = mkdtempSync(join(tmpdir(), "policyc-budgets-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it("policyc eval explains the rule that ran over the budget (the audit's DLP request)", async () => {
    writeFileSync(join(dir, "dlp.policy"), DLP);
    writeFileSync(join(dir, "request.json"), JSON.stringify({ session: "s", tool: "http.post", args: { body: "a".repeat(1_000_000), words: Array.from({ length: 1_000 }, () => "aaaaab") } }));
    const started = cpuMilliseconds();
    const result = await cli(["eval", "dlp.policy", "--request", "request.json"], { cwd: dir });
    expect(cpuMilliseconds() - started).toBeLessThan(20_000);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("deny http.post (session s)");
    expect(result.stdout).toContain(TEXT_BUDGET);
  });
});

const LABEL_CAP = "session.labels: the session's calls carried more than 4,096 characters of labels that are neither members of the label enum nor returned by a tool, so later ones were not kept";

/** The line code built since labels are bounded declares (the engine caps labels only for such code). */
const LABELS_BOUNDED = /\n\/\/ session\.labels is read through rt\.sessionLabels and rt\.hasSessionLabel[^\n]*/;

/** `text` built as a bundle of before the cap was: its code reads `session.labels` directly, and does not say it fails closed. */
function builtBeforeTheCap(text: string): Bundle {
  const { policy, diagnostics } = compileSources([{ path: "p.policy", text }]);
  expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
  expect(policy!.code).toMatch(LABELS_BOUNDED);
  const code = policy!.code.replace(LABELS_BOUNDED, "").replace(/rt\.hasSessionLabel\(c, /g, "c.s.labels.has(").replace(/rt\.sessionLabels\(c\)/g, "c.s.labels");
  return handEdited({ ...policy!, code });
}

/** `n` labels of 32 characters, none a member of any enum. */
const made = (prefix: string, n: number): string[] => Array.from({ length: n }, (_, i) => `${prefix}-${i}`.padEnd(32, "_"));

describe("a session keeps a bounded number of labels that are no member of the label enum", () => {
  // Case 2 of the label enum (language.md §3.7): `enum Label`, and labels sent as strings.
  const STRINGS = `enum Label { public, internal, pii }
context { labels: set<string> }
tool kb.search { risk low returns internal args { query: string } }
tool http.get { risk medium args { url: string } }
tool files.read { risk low args { path: string } }
policy p {
  allow kb.search
  deny http.get when session.labels contains pii
  allow http.get
  allow files.read when session.labels.size() < 100000
}
`;
  // Case 3: no label enum, labels are strings.
  const NO_ENUM = `context { labels: set<string> }
tool kb.search { risk low returns internal args { query: string } }
tool crm.export { risk medium args { id: string } }
policy p {
  allow kb.search
  deny crm.export when session.labels contains "customer-data"
  allow crm.export
}
`;
  const search = (session: string, labels: string[]): unknown => ({ session, tool: "kb.search", args: { query: "q" }, context: { labels } });
  const kept = (engine: Engine, session: string): number => engine.sessions.get(session)!.labels!.size;

  it("1,000 calls of 1,000 new labels each keep about 4 KB of them, not 32 MB", () => {
    const engine = engineFor(STRINGS, { maxSessions: 10 });
    for (let i = 0; i < 1_000; i++) expect(engine.decide(search("s", made(`l${i}`, 1_000))).decision).toBe("allow");
    // 4,096 characters at 33 each (one more than the length), and `internal` (kb.search returns it).
    expect(kept(engine, "s")).toBe(125);
  });

  it("past the cap, a test a label not kept could change fails closed, with the cap in the reason; tests of enum labels stay exact", () => {
    const engine = engineFor(STRINGS);
    expect(engine.decide(search("s", made("a", 200))).decision).toBe("allow");
    const get = { session: "s", tool: "http.get", args: { url: "https://example.org" }, context: { labels: [] } };
    // `pii` is a member of the label enum: always kept, so its absence is known.
    expect(engine.decide(get)).toMatchObject({ decision: "allow", errors: [] });
    expect(verdicts(engine, get)).toEqual({ "p/2": false, "p/3": true });
    // Read whole (its size), the labels are an error: the allow does not match.
    const read = { session: "s", tool: "files.read", args: { path: "/x" }, context: { labels: [] } };
    expect(verdicts(engine, read)).toEqual({ "p/4": "error" });
    const refused = engine.decide(read);
    expect(refused).toMatchObject({ decision: "deny", rules: [] });
    expect(refused.errors.join(" ")).toContain(LABEL_CAP);
    // A label the session holds is there, whatever was dropped; and enum labels are still kept.
    expect(engine.decide(search("s", ["pii"])).decision).toBe("allow");
    expect(engine.decide(get)).toMatchObject({ decision: "deny", rules: ["p/2"], errors: [] });
    // Below the cap nothing changes.
    expect(engine.decide(search("t", made("b", 10))).decision).toBe("allow");
    expect(engine.decide({ ...read, session: "t" })).toMatchObject({ decision: "allow", errors: [] });
  });

  it("past the cap, a quantifier over session.labels, its size and `label in session.labels` fail closed in the generated code: the label that found no room cannot be sent out", () => {
    // The mutation audit's repro: a label fills the room, `secret:vault` and `pii` find none.
    const SECRETS = `context { labels: set<string> }
tool t.read { risk low args { path: string } }
tool t.send { risk high args { to: string } }
policy p {
  allow t.read
  allow t.send
  @name("no-send-after-secret") deny t.send when any(l in session.labels: l like "secret*")
  @name("no-send-after-pii") deny t.send when "pii" in session.labels
  @name("no-send-after-any") deny t.send when session.labels.size() > 0
}
`;
    const engine = engineFor(SECRETS);
    const read = (labels: string[]): unknown => ({ session: "s", tool: "t.read", args: { path: "a" }, context: { labels } });
    const send = { session: "s", tool: "t.send", args: { to: "evil@example.com" }, context: { labels: [] } };
    expect(engine.decide(read(["f".repeat(4_094)])).decision).toBe("allow");
    expect(engine.decide(read(["secret:vault", "pii"])).decision).toBe("allow");
    expect(engine.sessions.get("s")!.labels!.has("secret:vault")).toBe(false);
    const denied = engine.decide(send);
    expect(denied).toMatchObject({ decision: "deny", rules: ["no-send-after-secret", "no-send-after-pii", "no-send-after-any"] });
    expect(denied.errors).toEqual(["no-send-after-secret", "no-send-after-pii", "no-send-after-any"].map((id) => expect.stringContaining(`${id}: ${LABEL_CAP}`)));
    // The interpreter (explain) agrees with the generated code.
    expect(verdicts(engine, send)).toEqual({ "p/2": true, "no-send-after-secret": "error", "no-send-after-pii": "error", "no-send-after-any": "error" });
    // Below the cap the same rules answer exactly, with no error.
    const t = (request: unknown): unknown => ({ ...(request as object), session: "t" });
    expect(engine.decide(t(read([]))).decision).toBe("allow");
    expect(engine.decide(t(send))).toMatchObject({ decision: "allow", errors: [] });
    expect(engine.decide(t(read(["secret:vault"]))).decision).toBe("allow");
    expect(engine.decide(t(send))).toMatchObject({ decision: "deny", rules: ["no-send-after-secret", "no-send-after-any"], errors: [] });
  });

  it("without a label enum, a string label not kept could be the one tested: the deny matches, naming the cap; the tools' returns are kept", () => {
    const engine = engineFor(`${NO_ENUM.slice(0, NO_ENUM.lastIndexOf("}"))}  deny crm.export when session.labels contains "internal" and session.calls > 5
}
`);
    expect(engine.decide(search("s", made("c", 200))).decision).toBe("allow");
    expect(engine.sessions.get("s")!.labelsDropped).toBe(true);
    const exported = { session: "s", tool: "crm.export", args: { id: "1" }, context: { labels: [] } };
    expect(verdicts(engine, exported)).toEqual({ "p/2": "error", "p/3": true, "p/4": false });
    const denied = engine.decide(exported);
    expect(denied).toMatchObject({ decision: "deny", rules: ["p/2"] });
    expect(denied.errors.join(" ")).toContain(LABEL_CAP);
    // `internal` is kb.search's `returns`: always kept, so a test of it has no error.
    expect(denied.errors).toHaveLength(1);
  });

  it("labels typed by the enum are always kept", () => {
    const typed = engineFor(STRINGS.replace("context { labels: set<string> }", "context { labels: set<Label> }"));
    for (let i = 0; i < 500; i++) expect(typed.decide(search("s", ["public", "internal"])).decision).toBe("allow");
    expect(typed.sessions.get("s")!.labelsDropped).toBe(false);
    expect(typed.sessions.get("s")!.labelChars).toBe(0);
  });

  it("a bundle built before the cap (its code reads session.labels directly) keeps every label, as before", () => {
    const old = builtBeforeTheCap(STRINGS);
    expect(old.code).not.toMatch(/sessionLabels|hasSessionLabel/);
    const engine = new Engine(old);
    for (let i = 0; i < 10; i++) engine.decide(search("s", made(`l${i}`, 100)));
    expect(kept(engine, "s")).toBe(1_001);
    expect(engine.sessions.get("s")!.labelsDropped).toBe(false);
  });

  it("an older bundle is told by a line of its own, which no policy string can make up: a string holding the old text or the line's words caps nothing", () => {
    // Policy strings are written into the code through JSON, which holds no raw newline.
    const line = "// session.labels is read through rt.sessionLabels and rt.hasSessionLabel, which fail closed on a label the session did not keep.";
    const tricky = `${NO_ENUM.slice(0, NO_ENUM.lastIndexOf("}"))}  deny crm.export when args.id == "rt.sessionLabels( rt.hasSessionLabel("
  deny crm.export when args.id == ${JSON.stringify(`\n${line}\n`)}
}
`;
    const old = builtBeforeTheCap(tricky);
    expect(old.code).toContain("rt.sessionLabels( rt.hasSessionLabel(");
    expect(old.code).toContain(line);
    const engine = new Engine(old);
    expect(engine.sessions.labelLimits.maxChars).toBe(Number.POSITIVE_INFINITY);
    engine.decide(search("s", [...made("a", 200), "customer-data"]));
    expect(engine.sessions.get("s")!.labelsDropped).toBe(false);
    // The old code reads the labels whole: the deny it cannot fail closed on still matches.
    expect(engine.decide({ session: "s", tool: "crm.export", args: { id: "1" }, context: { labels: [] } })).toMatchObject({ decision: "deny", rules: ["p/2"], errors: [] });
    // Built now, the same policy says so, and its sessions are capped.
    expect(compile([{ path: "p.policy", text: tricky }]).sessions.labelLimits.maxChars).toBe(4_096);
    // A policy that does not read session.labels keeps none: its code has no such line.
    expect(compileSources([{ path: "p.policy", text: "tool t { risk low }\npolicy p {\n  allow t\n}\n" }]).policy!.code).not.toMatch(LABELS_BOUNDED);
  });

  it("a reload carries the mark over with the session: its tests still fail closed", () => {
    const before = engineFor(NO_ENUM);
    before.decide(search("s", made("a", 200)));
    const after = engineFor(NO_ENUM.replace("allow crm.export", "allow crm.export when true"), { sessionsFrom: before });
    const denied = after.decide({ session: "s", tool: "crm.export", args: { id: "1" }, context: { labels: [] } });
    expect(denied).toMatchObject({ decision: "deny", rules: ["p/2"] });
    expect(denied.errors.join(" ")).toContain(LABEL_CAP);
  });

  // The review's repro (r4, findings 1 and 2): "secret" is dropped, then a reload always keeps it.
  const exported = (session: string): unknown => ({ session, tool: "crm.export", args: { id: "1" }, context: { labels: [] } });
  const SECRET = NO_ENUM.replace('"customer-data"', '"secret"').replace(" returns internal", "");
  const ENUM_ADDED = SECRET.replace("context {", "enum Label { public, internal, secret }\ncontext {").replace('contains "secret"', "contains secret");
  const RETURNS_ADDED = SECRET.replace("tool crm.export {", "tool vault.read { risk high returns secret args { id: string } }\ntool crm.export {");
  const NEWLY_KEPT = "the policy was reloaded and reads sessions differently: it always keeps labels the old policy did not";

  it("a reload whose policy now always keeps a label (the label enum gained it, or a tool returns it) ends a session that dropped labels: it could have dropped that one", () => {
    for (const [edit, text] of [["enum", ENUM_ADDED], ["returns", RETURNS_ADDED]] as const) {
      const before = engineFor(SECRET);
      expect(before.decide(search("s", [...made("a", 200), "secret"])).decision, edit).toBe("allow");
      // A session below the cap is carried over as it was.
      expect(before.decide(search("t", made("b", 10))).decision, edit).toBe("allow");
      expect(before.decide(exported("s")), edit).toMatchObject({ decision: "deny", rules: ["p/2"] });
      const after = engineFor(text, { sessionsFrom: before });
      expect(after.sessions.labelLimits.alwaysKept.has("secret"), edit).toBe(true);
      // Taken over, its test would answer false (the label is always kept, and not held): an allow.
      const ended = after.decide(exported("s"));
      expect(ended, edit).toMatchObject({ decision: "deny", rules: [] });
      expect(ended.errors[0], edit).toContain(NEWLY_KEPT);
      expect(ended.errors[0], edit).toContain("secret");
      expect(after.decide(exported("t")), edit).toMatchObject({ decision: "allow", errors: [] });
    }
  });

  it("so does one with an ask awaiting approval whose labels did not all fit, which would mark it once approved", () => {
    const asking = (text: string): string => text.replace("allow kb.search", "ask kb.search");
    const before = engineFor(asking(SECRET));
    expect(before.decide(search("s", [...made("a", 200), "secret"])).decision).toBe("ask");
    expect(before.sessions.get("s")!.labelsDropped).toBe(false);
    const after = engineFor(asking(RETURNS_ADDED), { sessionsFrom: before });
    expect(after.approved(search("s", []))).toBe(false);
    expect(after.decide(exported("s")).errors[0]).toContain(NEWLY_KEPT);
  });

  it("a reload whose policy always keeps fewer labels, or the same, takes the session over with its mark", () => {
    const before = engineFor(RETURNS_ADDED);
    before.decide(search("s", made("a", 200)));
    const after = engineFor(SECRET, { sessionsFrom: before });
    const denied = after.decide(exported("s"));
    expect(denied).toMatchObject({ decision: "deny", rules: ["p/2"] });
    expect(denied.errors.join(" ")).toContain(LABEL_CAP);
  });

  it("rolling back to a bundle built before the cap ends a session that dropped labels: its code could not fail closed on them", () => {
    // The review's repro (r4, finding 2): the old code reads the labels whole and would allow.
    const before = engineFor(SECRET);
    before.decide(search("s", [...made("a", 200), "secret"]));
    before.decide(search("t", made("b", 10)));
    expect(before.decide(exported("s"))).toMatchObject({ decision: "deny", rules: ["p/2"] });
    const rolledBack = new Engine(builtBeforeTheCap(SECRET), { sessionsFrom: before });
    const ended = rolledBack.decide(exported("s"));
    expect(ended).toMatchObject({ decision: "deny", rules: [] });
    expect(ended.errors[0]).toContain("the policy was reloaded and reads sessions differently: its bundle was built before labels were bounded and reads session.labels without failing closed on labels the session did not keep, and the session did not keep some (rebuild the bundle)");
    expect(explain(rolledBack, exported("s")).rules).toEqual([]);
    // One that kept all its labels goes on, on the old code.
    expect(rolledBack.decide(exported("t"))).toMatchObject({ decision: "allow", errors: [] });
  });
});

describe("the labels of a call asked again and again", () => {
  const ASK = `context { labels: set<string> }
tool shell.exec { risk high args { cmd: string } }
tool kb.search { risk low args { query: string } }
policy p {
  ask shell.exec
  deny kb.search when session.labels contains "secret"
  allow kb.search
}
`;
  const exec = (labels: string[]): unknown => ({ session: "s", tool: "shell.exec", args: { cmd: "same" }, context: { labels } });

  it("4,000 asks of one call with 100 new labels each take well under the 228 s they took, and keep a bounded set", () => {
    const engine = engineFor(ASK);
    const started = cpuMilliseconds();
    for (let i = 0; i < 4_000; i++) expect(engine.decide(exec(made(`a${i}`, 100))).decision).toBe("ask");
    expect(cpuMilliseconds() - started).toBeLessThan(30_000);
    const pending = [...engine.sessions.get("s")!.asked!.values()];
    expect(pending).toHaveLength(1);
    expect(pending[0]!.count).toBe(4_000);
    expect(pending[0]!.labels!.size).toBe(124);
    expect(pending[0]!.labelsDropped).toBe(true);
  });

  it("approved, an ask whose labels did not all fit marks the session: a test of a string label fails closed", () => {
    const engine = engineFor(ASK);
    const search = { session: "s", tool: "kb.search", args: { query: "q" }, context: { labels: [] } };
    expect(engine.decide(exec(made("a", 200))).decision).toBe("ask");
    // Not approved yet: nothing joined the session.
    expect(engine.decide(search)).toMatchObject({ decision: "allow", errors: [] });
    expect(engine.approved(exec([]))).toBe(true);
    const denied = engine.decide(search);
    expect(denied).toMatchObject({ decision: "deny", rules: ["p/2"] });
    expect(denied.errors.join(" ")).toContain(LABEL_CAP);
  });

  it("approved, an ask whose labels fit brings them all, and gives back their room", () => {
    const engine = engineFor(ASK);
    expect(engine.decide(exec(["secret", ...made("a", 50)])).decision).toBe("ask");
    expect(engine.approved(exec([]))).toBe(true);
    const state = engine.sessions.get("s")!;
    expect(state.labels!.size).toBe(51);
    expect(state.labelChars).toBe(50 * 33 + 7);
    expect(engine.decide({ session: "s", tool: "kb.search", args: { query: "q" }, context: { labels: [] } })).toMatchObject({ decision: "deny", rules: ["p/2"], errors: [] });
  });
});

describe("an approval gives back the room its ask's labels were charged, not what a reloaded policy would charge (review r6)", () => {
  it("after a reload that stops always keeping the labels, approvals do not let the session's labels outgrow the cap", () => {
    const members = Array.from({ length: 100 }, (_, i) => `classification_label_number_${i}`);
    const base = `context { labels: set<string> }\ntool kb.search { risk low args { query: string } }\ntool crm.export { risk medium args { id: string } }\ntool other.tool { risk medium }\npolicy p {\n  ask kb.search\n  deny other.tool when session.labels.size() > 100000\n  allow crm.export\n}\n`;
    const before = compile([{ path: "p.policy", text: base.replace("context {", `enum Label { ${members.join(", ")} }\ncontext {`) }]);
    const asks = 40;
    for (let k = 0; k < asks; k++) before.decide({ session: "s", tool: "kb.search", args: { query: `q${k}` }, context: { labels: members } });
    // The enum's labels were always kept: the asks were charged nothing for them.
    expect(before.sessions.get("s")!.labelChars).toBe(0);
    const after = compile([{ path: "p.policy", text: base }], { sessionsFrom: before });
    const fresh = (k: number): string[] => Array.from({ length: 60 }, (_, i) => `f${k}-${i}`.padEnd(20, "x"));
    for (let k = 0; k < asks; k++) {
      expect(after.approved({ session: "s", tool: "kb.search", args: { query: `q${k}` }, context: { labels: [] } })).toBe(true);
      after.decide({ session: "s", tool: "crm.export", args: { id: "1" }, context: { labels: fresh(k) } });
    }
    const state = after.sessions.get("s")!;
    expect(state.labelChars).toBeLessThanOrEqual(4_096);
    // What the session holds of labels outside any enum is what it was charged: within the cap.
    const held = [...state.labels!].filter((label) => !members.includes(label)).reduce((chars, label) => chars + label.length + 1, 0);
    expect(held).toBeLessThanOrEqual(4_096);
  });
});

describe("a call asked twice and approved once (review r7)", () => {
  it("charges its labels once: they join the session and no label is dropped", () => {
    const engine = compile([{ path: "p.policy", text: `context { labels: set<string> }\ntool shell.exec { risk high args { cmd: string } }\ntool kb.search { risk low args { query: string } }\npolicy p {\n  ask shell.exec\n  deny kb.search when session.labels contains "secret"\n  allow kb.search\n}\n` }]);
    const exec = (labels: string[]): Record<string, unknown> => ({ session: "s", tool: "shell.exec", args: { cmd: "same" }, context: { labels } });
    // 75 labels of 33 characters each: 2,475 of the 4,096 a session keeps.
    const labels = Array.from({ length: 75 }, (_, i) => `a-${i}`.padEnd(32, "_"));
    expect([engine.decide(exec(labels)).decision, engine.decide(exec(labels)).decision]).toEqual(["ask", "ask"]);
    expect(engine.approved(exec([]))).toBe(true);
    const state = engine.sessions.get("s")!;
    expect(state.labels!.size).toBe(75);
    expect(state.labelsDropped).toBe(false);
    expect(state.labelChars).toBe(2_475);
    expect(engine.decide({ session: "s", tool: "kb.search", args: { query: "q" }, context: { labels: [] } })).toMatchObject({ decision: "allow", errors: [] });
    // The second approval brings nothing new, and charges nothing more.
    expect(engine.approved(exec([]))).toBe(true);
    expect(state.labelChars).toBe(2_475);
  });
});

describe("a name the agent sends that the policy set does not declare costs about what a declared one costs (audit s16 F1)", () => {
  // 10,000 intents, 1,000 tools and an enum of 10,000 members: before, every call with a made-up
  // intent compared it with each declared intent (29 ms a call here), and an enum's wrong value
  // listed every member.
  const intents = Array.from({ length: 10_000 }, (_, i) => `intent purpose.p${i} { tools t.n0 }\n`).join("");
  const tools = Array.from({ length: 1_000 }, (_, i) => `tool t.n${i} { risk low args { region: Region } }\n`).join("");
  const regions = Array.from({ length: 10_000 }, (_, i) => `r${i}`).join(", ");
  const engine = engineFor(`enum Region { ${regions} }\n${tools}${intents}policy p {\n  allow t.n0\n}\n`);
  const call = (session: string, intent: string, tool = "t.n0", region = "r1"): ReturnType<Engine["decide"]> => engine.decide({ session, tool, intent, args: { region } });

  it("an unknown intent: distinct made-up intents take CPU time independent of the 10,000 declared, with the did-you-mean kept", () => {
    expect(call("a", "purpose.p5000")).toMatchObject({ decision: "allow" });
    expect(call("b", "purpose.q5000").errors).toEqual(['unknown intent "purpose.q5000": the policy set declares no such intent (did you mean "purpose.p5000"?)']);
    expect(call("c", "purpose.p500x").errors[0]).toContain('(did you mean "purpose.p500"?)');
    expect(call("d", "purpose.zzzz").errors).toEqual(['unknown intent "purpose.zzzz": the policy set declares no such intent']);
    const started = cpuMilliseconds();
    for (let i = 0; i < 2_000; i++) expect(call(`s${i}`, `purpose.q${i}`).decision).toBe("deny");
    for (let i = 0; i < 200; i++) expect(call(`l${i}`, `purpose.${"q".repeat(150)}${i}`).decision).toBe("deny");
    // About 60 s of CPU before (2,000 full scans); a few tens of milliseconds now.
    expect(cpuMilliseconds() - started).toBeLessThan(3_000);
  });

  it("an unknown tool: distinct made-up tools take CPU time independent of the 1,000 declared, with the did-you-mean kept", () => {
    expect(call("a", "purpose.p1", "t.n5x").reasons).toEqual(['unknown tool "t.n5x": the policy set declares no such tool (did you mean "t.n5"?)']);
    const started = cpuMilliseconds();
    for (let i = 0; i < 5_000; i++) expect(call(`u${i}`, "purpose.p1", `t.m${i}`).decision).toBe("deny");
    expect(cpuMilliseconds() - started).toBeLessThan(3_000);
  });

  it("a value not in a 10,000-member enum: the reason lists 20 members and counts the rest", () => {
    const [reason] = call("e", "purpose.p1", "t.n0", "nowhere").reasons;
    expect(reason).toBe(`request.args.region must be a member of Region (${Array.from({ length: 20 }, (_, i) => `r${i}`).join(", ")} and 9,980 more), not the string "nowhere"`);
    const started = cpuMilliseconds();
    for (let i = 0; i < 2_000; i++) expect(call(`v${i}`, "purpose.p1", "t.n0", `x${i}`).decision).toBe("deny");
    expect(cpuMilliseconds() - started).toBeLessThan(3_000);
  });
});

describe("a sweep's work is the sessions it frees and forgets, not every revocation remembered", () => {
  const T0 = Date.parse("2026-11-29T00:00:00Z");
  /** An engine whose clock reads what `at` last dated (the sweeps go by the engine's clock), and a call of `session` dated `ms` after T0. */
  const clocked = (text: string, options: ConstructorParameters<typeof Engine>[1]): ((session: string, ms: number, q?: string) => Decision) => {
    let now = T0;
    const engine = engineFor(text, { ...options, clock: () => now });
    return (session, ms, q = "y") => {
      now = T0 + ms;
      return engine.decide({ session, tool: "t", args: { q }, time: new Date(now).toISOString() });
    };
  };

  it("40,000 revoked sessions, remembered for ever (the default), and a sweep after each: linear time, and every one still revoked", () => {
    const call = clocked('tool t { risk low args { q: string } }\npolicy p {\n  deny t when args.q == "x" revoke\n  allow t\n}\n', { sessionIdleMs: 60_000 });
    const started = cpuMilliseconds();
    // Each request 16 s after the last: past a quarter of the idle time, so every one sweeps.
    for (let i = 0; i < 40_000; i++) expect(call(`r${i}`, i * 16_000, "x").revoked).toBe(true);
    // Walking every remembered revocation at each sweep took about 40,000² / 2 steps.
    expect(cpuMilliseconds() - started).toBeLessThan(5_000);
    for (const i of [0, 1, 20_000, 39_999]) expect(call(`r${i}`, 40_000 * 16_000)).toMatchObject({ decision: "deny", revoked: true });
  });

  it("a clock giving times too large for a millisecond to count (nanoseconds by mistake) forgets records at the same sweep, not one later", () => {
    let now = 1.7e18;
    const engine = engineFor("tool t { risk low args { q: string } }\npolicy p {\n  allow t\n}\n", { sessionIdleMs: 1000, expiredSessionMs: 3000, clock: () => now });
    const call = (): Decision => engine.decide({ session: "b", tool: "t", args: { q: "y" } });
    expect(call().decision).toBe("allow");
    now += 3000; // idle past twice the idle time, and its record past expiredSessionMs: freed and forgotten by this sweep
    expect(call()).toMatchObject({ decision: "allow", reasons: ["t is allowed by p/1"] });
  });

  it("an expired session is forgotten at the first sweep an hour (expiredSessionMs) after its last attempt, an attempt on it since counting, not sooner", () => {
    for (const [sweepAt, then] of [[4_500_000, "has expired"], [4_700_000, "allow"]] as const) {
      const call = clocked("tool t { risk low args { q: string } }\npolicy p {\n  allow t\n}\n", { sessionIdleMs: 60_000, expiredSessionMs: 3_600_000 });
      expect(call("a", 0).decision).toBe("allow");
      expect(call("c1", 200_000).decision).toBe("allow"); // a sweep: a is freed, kept as expired
      expect(call("a", 1_000_000).reasons[0]).toMatch(/has expired/); // an attempt: remembered from here
      expect(call("c2", sweepAt).decision).toBe("allow"); // a sweep
      const decision = call("a", sweepAt + 1);
      if (then === "allow") expect(decision.decision, `swept at ${sweepAt}`).toBe("allow"); // forgotten: it starts afresh
      else expect(decision.reasons[0], `swept at ${sweepAt}`).toMatch(/has expired/);
    }
  });
});

describe("the tool of a session's latest attempt (audit s20 a4 F3; review r3 R1, R2)", () => {
  const policy = (repeats: boolean): string => `tool t { risk low args { q: string } }
policy p {
  allow t
${repeats ? "  deny t when session.repeats >= 2\n" : ""}}
`;
  const attempt = (tool: string, q = "x"): unknown => ({ session: "s", tool, args: { q } });
  const lastPolicy = (rules: string): string => `tool shell.exec { risk high args { cmd: string } }
tool kb.read { risk low args { q: string } }
policy p {
  @name("run") allow shell.exec
  @name("read") allow kb.read
${rules}}
`;
  const exec = (session = "s"): unknown => ({ session, tool: "shell.exec", args: { cmd: "ls" } });
  const read = (session = "s"): unknown => ({ session, tool: "kb.read", args: { q: "x" } });

  it("an undeclared tool's name is kept up to 1,024 characters; past that only that it was not kept, whatever the policy reads", () => {
    for (const repeats of [false, true]) {
      const engine = engineFor(policy(repeats));
      expect(engine.decide(attempt("x".repeat(1024))).decision).toBe("deny");
      expect(engine.sessions.get("s")!.lastTool, `repeats ${repeats}`).toBe("x".repeat(1024));
      expect(engine.decide(attempt("x".repeat(1_000_000))).decision).toBe("deny");
      expect(engine.sessions.get("s")!.lastTool, `repeats ${repeats}`).toBeUndefined();
    }
  });

  it("an attempt at an undeclared tool does not wipe session.last: a deny testing it still denies", () => {
    const engine = engineFor(lastPolicy('  @name("nobackdoor") deny shell.exec when session.last == "backdoor"\n  @name("noadmin") deny shell.exec when session.last.startsWith("admin.")\n'));
    engine.decide({ session: "s", tool: "backdoor", args: {} });
    expect(engine.decide(exec()).rules).toEqual(["nobackdoor"]);
    engine.decide({ session: "t", tool: "admin.reset", args: {} });
    expect(engine.decide(exec("t")).rules).toEqual(["noadmin"]);
  });

  it("after an undeclared tool's name too long to keep, session.last is an evaluation error until the next attempt: a deny matches, an allow does not", () => {
    const engine = engineFor(lastPolicy('  @name("nobackdoor") deny shell.exec when session.last == "backdoor"\n  @name("first") allow kb.read when session.last == ""\n'));
    engine.decide({ session: "s", tool: "x".repeat(1025), args: {} });
    const denied = engine.decide(exec());
    expect(denied.rules).toEqual(["nobackdoor"]);
    expect(denied.errors![0]).toMatch(/^nobackdoor: session\.last: the previous attempt was at an undeclared tool whose name is longer than the 1,024 characters/);
    // The next attempt's tool is known again.
    expect(engine.decide(exec()).decision).toBe("allow");
    // The interpreter (explain) agrees.
    const first = engineFor(lastPolicy('  @name("first") allow shell.exec when session.last == ""\n').replace('@name("run") allow shell.exec', '@name("run") ask shell.exec'));
    first.decide({ session: "s", tool: "y".repeat(2000), args: {} });
    expect(verdicts(first, exec())["first"]).toBe("error");
    expect(first.decide(exec()).decision).toBe("ask");
    // A term that fails is an error only when nothing else settles it: decide and explain agree.
    const either = engineFor(lastPolicy('  @name("either") allow kb.read when args.q == "x" or session.last == "nope"\n').replace('  @name("read") allow kb.read\n', ""));
    either.decide({ session: "s", tool: "z".repeat(2000), args: {} });
    expect(verdicts(either, read())["either"]).toBe(true);
    expect(either.decide(read()).decision).toBe("allow");
  });

  it("session.last carries over a reload whatever the policies before read (B without it, then A; A, B, A)", () => {
    const reads = lastPolicy('  @name("noexecafterread") deny shell.exec when session.last == kb.read\n');
    const ignores = lastPolicy("");
    let engine = engineFor(ignores);
    engine.decide(read());
    engine = engineFor(reads, { sessionsFrom: engine });
    expect(engine.decide(exec()).rules).toEqual(["noexecafterread"]);
    engine = engineFor(reads);
    engine.decide(read("t"));
    engine = engineFor(ignores, { sessionsFrom: engine });
    expect(engine.decide(exec("t")).decision).toBe("allow");
    engine = engineFor(reads, { sessionsFrom: engine });
    expect(engine.decide(exec("t")).rules).toEqual(["run"]);
  });

  it("session.repeats still counts runs of a declared call, and an undeclared tool's attempt ends a run", () => {
    const engine = engineFor(policy(true));
    const decisions = (tools: string[]): string[] => tools.map((tool) => engine.decide(attempt(tool)).decision);
    // The third identical call in a row repeats twice; an undeclared tool between starts a new run.
    expect(decisions(["t", "t", "t", "nope", "t", "t", "nope", "x".repeat(5000), "t", "t", "t"])).toEqual(["allow", "allow", "deny", "deny", "allow", "allow", "deny", "deny", "allow", "allow", "deny"]);
  });
});
