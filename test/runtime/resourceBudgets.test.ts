import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { compile, compileSources } from "../../src/compile/compile.js";
import { Engine } from "../../src/runtime/engine.js";
import { explain } from "../../src/runtime/explain.js";
import { cli } from "../helpers.js";

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

const TEXT_BUDGET = "the text tests in its quantifiers would read more than 100,000,000 characters";

describe("the characters text tests inside quantifiers read are budgeted per rule", () => {
  const DLP = "tool http.post { risk low args { body: string, words: list<string> } }\npolicy p {\n  deny http.post when any(w in args.words: args.body contains w)\n  allow http.post\n}\n";

  it("a megabyte body searched for 2,000 words fails closed, quickly, instead of taking seconds per thousand words", () => {
    const engine = engineFor(DLP);
    // Adversarial text: each search reads the whole body. Before the budget this took about 15 s.
    const request = { session: "s", tool: "http.post", args: { body: "a".repeat(1_000_000), words: Array.from({ length: 2_000 }, () => "aaaaab") } };
    const started = performance.now();
    const decision = engine.decide(request);
    expect(performance.now() - started).toBeLessThan(10_000);
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
    const started = performance.now();
    const result = await cli(["eval", "dlp.policy", "--request", "request.json"], { cwd: dir });
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("deny http.post (session s)");
    expect(result.stdout).toContain(TEXT_BUDGET);
  });
});

const LABEL_CAP = "session.labels: the session's calls carried more labels that are no member of the label enum than it keeps (4096 characters)";

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
    const { policy, diagnostics } = compileSources([{ path: "p.policy", text: STRINGS }]);
    expect(diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    const old = { ...policy!, code: policy!.code.replace(/rt\.hasSessionLabel\(c, /g, "c.s.labels.has(").replace(/rt\.sessionLabels\(c\)/g, "c.s.labels") };
    expect(old.code).not.toMatch(/sessionLabels|hasSessionLabel/);
    const engine = new Engine(old);
    for (let i = 0; i < 10; i++) engine.decide(search("s", made(`l${i}`, 100)));
    expect(kept(engine, "s")).toBe(1_001);
    expect(engine.sessions.get("s")!.labelsDropped).toBe(false);
  });

  it("a reload carries the mark over with the session: its tests still fail closed", () => {
    const before = engineFor(NO_ENUM);
    before.decide(search("s", made("a", 200)));
    const after = engineFor(NO_ENUM.replace("allow crm.export", "allow crm.export when true"), { sessionsFrom: before });
    const denied = after.decide({ session: "s", tool: "crm.export", args: { id: "1" }, context: { labels: [] } });
    expect(denied).toMatchObject({ decision: "deny", rules: ["p/2"] });
    expect(denied.errors.join(" ")).toContain(LABEL_CAP);
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
    const started = performance.now();
    for (let i = 0; i < 4_000; i++) expect(engine.decide(exec(made(`a${i}`, 100))).decision).toBe("ask");
    expect(performance.now() - started).toBeLessThan(30_000);
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
