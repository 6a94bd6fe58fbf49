import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ROOT, bin, cli, resigned, type CliResult } from "../helpers.js";
import { generateKeyPairSync } from "node:crypto";
import { expectGolden, runText } from "../goldens/golden.js";
import { forgeBundle, writeKeys } from "./signing.js";
import type { Bundle } from "../../src/bundle/Bundle.js";
import { contentHash } from "../../src/bundle/hash.js";

/**
 * old → new: `kb-for-support` becomes `kb-for-everyone` (sales' searches flip deny→allow), the new
 * `mail-stays-inside` denies mail outside acme.com (allow→deny) and `fetch-elsewhere-asks` turns a
 * default deny into ask. Paths are relative to ROOT, the working folder of `cli` and `bin`.
 */
const OLD = "test/fixtures/replay/diff/old.policy";
const NEW = "test/fixtures/replay/diff/new.policy";
const CALLS = "test/fixtures/replay/diff/calls.jsonl";

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-diff-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

function expectNoStackTrace(result: CliResult): void {
  for (const text of [result.stdout, result.stderr]) {
    expect(text).not.toMatch(/^\s+at /m);
    expect(text).not.toMatch(/^\w*Error:/m);
    expect(text).not.toContain("internal error");
  }
}

interface JsonDiff {
  lines: number;
  changed: number;
  directions: Record<string, number>;
  byCause: Record<string, { count: number; directions: Record<string, number>; carried: number; truncated: boolean; changes: { file: string; line: number; session: string; tool: string; direction: string; via?: { rule: string; file?: string; line?: number }; before: { decision: string; rules: string[] }; after: { decision: string; rules: string[] } }[] }>;
  errors: unknown[];
}

async function diffJson(oldPath: string, newPath: string): Promise<JsonDiff> {
  const result = await cli(["diff", oldPath, newPath, "--replay", CALLS, "--json"]);
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as JsonDiff;
}

/** What a diff says, without where the rules are (a bundle and its sources agree on everything else). */
function summary(report: JsonDiff): unknown {
  return {
    lines: report.lines,
    changed: report.changed,
    directions: report.directions,
    byCause: Object.fromEntries(Object.entries(report.byCause).map(([cause, group]) => [cause, group.changes.map((c) => [c.line, c.direction, c.before.rules, c.after.rules])])),
  };
}

describe("policyc diff: causes", () => {
  const old = readFileSync(join(ROOT, OLD), "utf8");

  it("a rule both versions have, defined differently, is the cause of the changes it takes part in (~id)", async () => {
    const tightened = join(dir, "tightened.policy");
    writeFileSync(tightened, old.replace('allow email.send\n    when agent.team == "support"', 'ask email.send\n    when agent.team == "support"'));
    const report = await diffJson(OLD, tightened);
    expect(Object.keys(report.byCause)).toEqual(["~mail-for-support"]);
    expect(report.byCause["~mail-for-support"]!.directions).toEqual({ "allow→ask": report.changed });
  });

  it("a default deny with an allow rule's evaluation error is that rule's change, not an invalid request", async () => {
    const needsUser = join(dir, "needs-user.policy");
    writeFileSync(needsUser, `user { roles: set<string> }\n${old.replace('allow email.send\n    when agent.team == "support"', 'allow email.send\n    when agent.team == "support" and "admin" in user.roles')}`);
    const report = await diffJson(OLD, needsUser);
    expect(Object.keys(report.byCause)).toEqual(["~mail-for-support"]);
  });

  it("a loosened deny is the cause of its deny→allow even when the allow that now decides was edited too", async () => {
    const policy = (most: number, minutes: number): string => `tool mail.send { risk high args { to: list<string> } }\npolicy p {\n  @name("block-bulk")\n  deny mail.send when args.to.size() > ${most}\n  @name("send")\n  allow mail.send grant "mail:send" for ${minutes}m\n}\n`;
    const [before, after, calls] = [join(dir, "bulk-old.policy"), join(dir, "bulk-new.policy"), join(dir, "bulk.jsonl")];
    writeFileSync(before, policy(1, 10));
    writeFileSync(after, policy(5, 5));
    const line = (to: string[]): string => JSON.stringify({ time: "2026-11-30T09:00:00Z", session: "s", tool: "mail.send", args: { to } });
    writeFileSync(calls, `${line(["a@x.com", "b@y.com", "c@z.com"])}\n${line(["a@x.com"])}\n`);
    const result = await cli(["diff", before, after, "--replay", calls, "--json"]);
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout) as JsonDiff;
    expect(Object.fromEntries(Object.entries(report.byCause).map(([cause, group]) => [cause, group.directions]))).toEqual({ "~block-bulk": { "deny→allow": 1 }, "~send": { "allow→allow (grants)": 1 } });
    // The other way round the change is stricter: the deny that now decides is its cause.
    const reverse = JSON.parse((await cli(["diff", after, before, "--replay", calls, "--json"])).stdout) as JsonDiff;
    expect(Object.fromEntries(Object.entries(reverse.byCause).map(([cause, group]) => [cause, group.directions]))).toEqual({ "~block-bulk": { "allow→deny": 1 }, "~send": { "allow→allow (grants)": 1 } });
  });

  it("a refusal in NEW is listed with its detail, which the author needs, not the agent's short reason (review r2 L1)", async () => {
    const labelled = (members: string): string => `enum Label { ${members} }\ncontext { labels: set<Label> }\ntool http.fetch { risk low args { url: string } }\npolicy p { allow http.fetch }\n`;
    const [before, after, calls] = [join(dir, "label-old.policy"), join(dir, "label-new.policy"), join(dir, "label.jsonl")];
    writeFileSync(before, labelled("public, internal, pii"));
    writeFileSync(after, labelled("public, internal"));
    writeFileSync(calls, '{"session":"s1","context":{"labels":["pii"]},"tool":"http.fetch","args":{"url":"https://x.example/"}}\n');
    for (const jobs of [[], ["--jobs", "2"]]) {
      const result = await cli(["diff", before, after, "--replay", calls, ...jobs]);
      expect(result.stdout).toContain('allow→deny  http.fetch (session s1)  request.context.labels[0] must be a member of Label (public, internal), not the string "pii"');
    }
  });

  it("a request the new version's schema refuses is its own cause, not a rule that no longer decides", async () => {
    const stricter = join(dir, "stricter-schema.policy");
    writeFileSync(stricter, old.replace("args { query: string }", "args { query: string, limit: int }"));
    const report = await diffJson(OLD, stricter);
    expect(Object.keys(report.byCause)).toEqual(["invalid request in NEW"]);
    expect(report.byCause["invalid request in NEW"]!.changes[0]!.after.rules).toEqual([]);
  });
});

describe("policyc diff: the rule that caused a change", () => {
  /** Writes `files` (name → text) to the temporary folder; the paths, in the same order. */
  const write = (files: Record<string, string>): string[] =>
    Object.entries(files).map(([name, text]) => {
      const path = join(dir, name);
      writeFileSync(path, text);
      return path;
    });
  const web = (grant: string, askReason: string): string => `tool http.get {\n  args { url: string }\n}\npolicy p {\n  @name("web")\n  allow http.get\n    grant ${grant}\n\n  @name("external")\n  ask http.get\n    when args.url like "https://ext*"\n    reason ${JSON.stringify(askReason)}\n}\n`;
  const causes = (report: JsonDiff): Record<string, Record<string, number>> => Object.fromEntries(Object.entries(report.byCause).map(([cause, group]) => [cause, group.directions]));
  const json = async (args: string[]): Promise<JsonDiff> => {
    const result = await cli([...args, "--json"]);
    expect(result.code).toBe(0);
    return JSON.parse(result.stdout) as JsonDiff;
  };

  it("other grants on approval are the allow rule's that gives them, not the ask rule's whose reason changed too", async () => {
    const [before, after, calls] = write({
      "g-old.policy": web('"web:read" for 5m', "external fetch needs approval"),
      "g-new.policy": web('"web:*" for 1d', "ext"),
      "g.jsonl": ['{"session":"s1","tool":"http.get","args":{"url":"https://wiki"}}', '{"session":"s1","tool":"http.get","args":{"url":"https://ext.example"}}', '{"session":"s2","tool":"http.get","args":{"url":"https://ext.example"},"approved":true}', ""].join("\n"),
    });
    const report = await json(["diff", before!, after!, "--replay", calls!]);
    expect(causes(report)).toEqual({ "~web": { "allow→allow (grants)": 1, "ask→ask (grants)": 2 } });
  });

  it("other grants of an allow are the rule's that grants, not another allow's that matches too", async () => {
    const policy = (anyUrl: string, grant: string): string => `tool http.get {\n  args { url: string }\n}\npolicy p {\n  @name("web-any")\n  allow http.get\n    when ${anyUrl}\n\n  @name("web-grant")\n  allow http.get\n    grant ${grant}\n}\n`;
    const [before, after, calls] = write({
      "h-old.policy": policy('args.url like "https://*"', '"web:read" for 5m'),
      "h-new.policy": policy('args.url like "https://*" or args.url like "http://*"', '"web:*" for 1d'),
      "h.jsonl": '{"session":"s1","tool":"http.get","args":{"url":"https://wiki"}}\n',
    });
    const result = await cli(["diff", before!, after!, "--replay", calls!]);
    expect(result).toEqual({ code: 0, stdout: `~web-grant  1 change: allow→allow (grants) 1\n  ${calls}:1  allow→allow (grants)  http.get (session s1)  grants web:read for 5m → web:* for 1d\n1 of 1 decisions change: allow→allow (grants) 1\n`, stderr: "" });
    // A granting rule that no longer matches is not the cause when one that still does grants otherwise.
    const [leaving, regranted] = write({ "h-leaving.policy": policy('args.url like "https://*"\n    grant "web:read" for 1h', '"web:read" for 5m'), "h-regranted.policy": policy('args.url like "http://*"\n    grant "web:read" for 1h', '"web:read" for 10m') });
    expect(causes(await json(["diff", leaving!, regranted!, "--replay", calls!]))).toEqual({ "~web-grant": { "allow→allow (grants)": 1 } });
  });

  it("a session now revoked is the revoking rule's change, shown with its reason, not another deny's whose reason changed", async () => {
    const policy = (rmReason: string, revoke: boolean): string => `tool shell.exec {\n  args { cmd: string }\n}\npolicy p {\n  @name("no-rm")\n  deny shell.exec\n    when args.cmd like "rm *"\n    reason ${JSON.stringify(rmReason)}\n\n  @name("no-root")\n  deny shell.exec\n    when args.cmd like "* /"\n    reason "nothing at the root"${revoke ? "\n    revoke" : ""}\n}\n`;
    const [before, after, calls] = write({
      "r-old.policy": policy("no deleting", false),
      "r-new.policy": policy("no deleting files", true),
      "r.jsonl": '{"session":"s1","tool":"shell.exec","args":{"cmd":"rm -rf /"}}\n{"session":"s1","tool":"shell.exec","args":{"cmd":"ls"}}\n',
    });
    const result = await cli(["diff", before!, after!, "--replay", calls!]);
    expect(result.stdout).toBe(
      [
        "~no-root  2 changes: deny→deny (revoke) 2",
        `  ${calls}:1  deny→deny (revoke)  shell.exec (session s1)  the session is now revoked: nothing at the root`,
        `  ${calls}:2  deny→deny (revoke)  shell.exec (session s1)  the session is now revoked: nothing at the root`,
        "2 of 2 decisions change: deny→deny (revoke) 2",
        "",
      ].join("\n"),
    );
    // The other way, the session is no longer revoked: the reason is the one of the rule that revoked it.
    expect((await cli(["diff", after!, before!, "--replay", calls!])).stdout).toContain(`~no-root  2 changes: deny→deny (revoke) 2\n  ${calls}:1  deny→deny (revoke)  shell.exec (session s1)  the session is no longer revoked: nothing at the root\n`);
  });

  it("a rule whose targets match a tool added or removed is not redefined: its targets as written are the same", async () => {
    const policy = (deletes: boolean): string => `tool fs.read {\n  args { path: string }\n}\n${deletes ? "tool fs.delete {\n  args { path: string }\n}\n" : ""}policy p {\n  @name("read")\n  allow fs.read\n\n  @name("loop")\n  deny *\n    when session.repeats >= 2\n    reason "stuck in a loop"\n    revoke\n}\n`;
    const del = '{"session":"s1","tool":"fs.delete","args":{"path":"/x"}}\n';
    const [before, after, calls] = write({ "t-old.policy": policy(true), "t-new.policy": policy(false), "t.jsonl": `${del}${del}${del}{"session":"s1","tool":"fs.read","args":{"path":"/x"}}\n` });
    const report = await json(["diff", before!, after!, "--replay", calls!]);
    // Line 3 is invalid in NEW, so NEW's session is not revoked, and line 4 is allowed: that follows from line 3, not from `loop`.
    expect(causes(report)).toEqual({ "invalid request in NEW": { "deny→allow": 1, "deny→deny (revoke)": 1 } });
    expect(report.byCause["invalid request in NEW"]!.carried).toBe(1);
    expect(report.byCause["invalid request in NEW"]!.changes.map((c) => [c.line, c.via])).toEqual([
      [4, { rule: "-loop", file: calls, line: 3 }],
      [3, undefined],
    ]);
    // Adding the tool back redefines nothing either.
    expect(Object.keys((await json(["diff", after!, before!, "--replay", calls!])).byCause)).toEqual(["invalid request in OLD"]);
  });

  it("a request refused as invalid on one side, whose session the other side revoked earlier, changes by that revocation: not `invalid request in OLD`", async () => {
    // A naive Python isoformat() time at line 3: both versions' schemas refuse it, but NEW denies it for the session revoked before.
    const searches = (...times: string[]): string => times.map((time, index) => `{"time":"${time}","session":"s1","tool":"kb.search","args":{"query":"${index === 0 ? "x" : "y"}"}}\n`).join("");
    const calls = searches("2026-11-29T10:00:01Z", "2026-11-29T10:00:02Z", "2026-11-29T10:00:03.123456");
    const policy = (rule: string): string => `tool kb.search {\n  args { query: string }\n}\npolicy p {\n  @name("search")\n  allow kb.search\n${rule}}\n`;
    const strikes = '\n  @name("strikes")\n  deny *\n    when session.denials >= 1\n    reason "denied once already"\n    revoke\n';
    // The revoking rule is the one edited (the audit's case: a tighter rate): every later deny of the session is its change.
    const rate = (most: number): string => `\n  @name("rate")\n  deny *\n    when session.count(within 1m) > ${most}\n    reason "too many calls"\n    revoke\n`;
    const [strict, lenient, rec] = write({ "iv-strict.policy": policy(rate(1)), "iv-lenient.policy": policy(rate(30)), "iv.jsonl": calls });
    expect(causes(await json(["diff", lenient!, strict!, "--replay", rec!]))).toEqual({ "~rate": { "allow→deny": 1, "deny→deny (revoke)": 1 } });
    expect(causes(await json(["diff", strict!, lenient!, "--replay", rec!]))).toEqual({ "~rate": { "deny→allow": 1, "deny→deny (revoke)": 1 } });
    // An unchanged revoking rule, which an earlier change of the session made revoke: carried from that line.
    const [before, after] = write({ "iv-old.policy": policy(strikes), "iv-new.policy": policy(`\n  @name("no-x")\n  deny kb.search\n    when args.query == "x"\n${strikes}`) });
    const result = await cli(["diff", before!, after!, "--replay", rec!]);
    expect(result.stdout).toBe(
      [
        "+no-x  3 changes: allow→deny 2, deny→deny (revoke) 1 (2 via session state)",
        `  ${rec}:1  allow→deny  kb.search (session s1)  kb.search is denied by no-x`,
        `  ${rec}:2  allow→deny  kb.search (via session s1, from ${rec}:1; strikes is unchanged)  denied once already; revokes the session`,
        `  ${rec}:3  deny→deny (revoke)  kb.search (via session s1, from ${rec}:2; strikes is unchanged)  the session is now revoked: denied once already`,
        "3 of 3 decisions change: allow→deny 2, deny→deny (revoke) 1",
        "",
      ].join("\n"),
    );
    expect(causes(await json(["diff", after!, before!, "--replay", rec!]))).toEqual({ "-no-x": { "deny→allow": 2, "deny→deny (revoke)": 1 } });
  });

  it("positional ids: an unnamed rule inserted is `+ID`, and the rules it renumbers are the same rules", async () => {
    const policy = (inserted: string): string => `tool kb.search {\n  args { query: string }\n}\ntool email.send {\n  args { to: string }\n}\npolicy support {\n  deny email.send\n    when args.to like "*@evil.example"\n${inserted}\n  allow kb.search, email.send\n\n  ask kb.search\n    when args.query == "secret"\n}\n`;
    const [before, after, calls] = write({
      "p-old.policy": policy(""),
      "p-new.policy": policy('\n  deny kb.search\n    when args.query == "c"\n    reason "no c"\n'),
      "p.jsonl": ['{"session":"s1","tool":"kb.search","args":{"query":"c"}}', '{"session":"s1","tool":"kb.search","args":{"query":"d"}}', '{"session":"s1","tool":"kb.search","args":{"query":"secret"}}', '{"session":"s1","tool":"email.send","args":{"to":"a@evil.example"}}', ""].join("\n"),
    });
    // support/2 is the allow in OLD; in NEW it is the inserted deny, and the allow is support/3.
    const report = await json(["diff", before!, after!, "--replay", calls!]);
    expect(causes(report)).toEqual({ "+support/2": { "allow→deny": 1 } });
    // Lines the renumbered rules decide, with the reasons that name their ids, are no rule change.
    const rules = await json(["diff", before!, after!, "--replay", calls!, "--rule-changes"]);
    expect(causes(rules)).toEqual({ "+support/2": { "allow→deny": 1 } });
    expect((await json(["diff", after!, before!, "--replay", calls!, "--rule-changes"])).byCause).toMatchObject({ "-support/2": { directions: { "deny→allow": 1 } } });
    // A positional rule edited where it stands is still that rule, redefined.
    const [edited] = write({ "p-edited.policy": policy("").replace('ask kb.search\n    when args.query == "secret"', 'ask kb.search\n    when args.query == "d"') });
    expect(causes(await json(["diff", before!, edited!, "--replay", calls!]))).toEqual({ "~support/3": { "allow→ask": 1, "ask→allow": 1 } });
  });

  it("positional ids: a rule inserted or removed above a rule edited leaves the edit one change (`~ID` by its NEW id), and the inserted rule `+ID`", async () => {
    const policy = (rules: string): string => `tool kb.search {\n  args { q: string }\n}\ntool fs.read {\n  args { path: string }\n}\npolicy p {\n  allow fs.read\n${rules}}\n`;
    const etc = '\n  deny fs.read\n    when args.path == "/etc"\n    reason "no etc"\n';
    const search = (q: string): string => `\n  allow kb.search\n    when args.q != "${q}"\n`;
    const [before, after, calls] = write({
      "pe-old.policy": policy(search("a")),
      "pe-new.policy": policy(etc + search("b")),
      "pe.jsonl": ['{"session":"s1","tool":"fs.read","args":{"path":"/etc"}}', '{"session":"s2","tool":"kb.search","args":{"q":"a"}}', '{"session":"s3","tool":"kb.search","args":{"q":"b"}}', ""].join("\n"),
    });
    // p/2 is the search in OLD and the inserted deny in NEW, where the edited search is p/3.
    expect(causes(await json(["diff", before!, after!, "--replay", calls!]))).toEqual({ "~p/3": { "allow→deny": 1, "deny→allow": 1 }, "+p/2": { "allow→deny": 1 } });
    // Removed above the edit: the edited search is still one change.
    expect(causes(await json(["diff", after!, before!, "--replay", calls!]))).toEqual({ "~p/2": { "allow→deny": 1, "deny→allow": 1 }, "-p/2": { "deny→allow": 1 } });
    // A rule edited in its effect where it stands, nothing inserted: still that rule.
    const [asks] = write({ "pe-ask.policy": policy(search("a").replace("allow", "ask")) });
    expect(causes(await json(["diff", before!, asks!, "--replay", calls!]))).toEqual({ "~p/2": { "allow→ask": 1 } });
  });

  it("a change the session's state carries from an earlier change is that change's cause, marked, not an unchanged rule's", async () => {
    const [before, after, calls] = ["old.policy", "new.policy", "rec.jsonl"].map((name) => `test/fixtures/replay/diff-carried/${name}`);
    const text = await cli(["diff", before!, after!, "--replay", calls!]);
    expect(text).toEqual({
      code: 0,
      stdout: [
        "~lookup  2 changes: allow→deny 1, deny→allow 1 (1 via session state)",
        `  ${calls}:1  allow→deny  crm.lookup (session s1)  no rule allows crm.lookup`,
        `  ${calls}:2  deny→allow  email.send (via session s1, from ${calls}:1; no-pii-out is unchanged)  email.send is allowed by send`,
        "2 of 2 decisions change: allow→deny 1, deny→allow 1",
        "",
      ].join("\n"),
      stderr: "",
    });
    const report = await json(["diff", before!, after!, "--replay", calls!]);
    expect(report.byCause["~lookup"]!.carried).toBe(1);
    expect(report.byCause["~lookup"]!.changes.map((c) => [c.line, c.via])).toEqual([
      [1, undefined],
      [2, { rule: "-no-pii-out", file: calls, line: 1 }],
    ]);
    // Each session carries its own: the same email in another session is no change.
    const [twoSessions] = write({ "carried.jsonl": `${readFileSync(join(ROOT, calls!), "utf8")}{"session":"s2","tool":"email.send","args":{"to":"eve@evil.example"}}\n` });
    expect((await json(["diff", before!, after!, "--replay", twoSessions!])).changed).toBe(2);
  });

  it("a carried change is the latest earlier change of the session that altered what the unchanged rule reads", async () => {
    const fixture = readFileSync(join(ROOT, "test/fixtures/replay/diff-carried/old.policy"), "utf8");
    // OLD: the fixture with `search`; NEW tightens both `search` and `lookup`.
    const withSearch = (search: string, lookup: string): string =>
      fixture.replace("tool crm.lookup", "tool kb.search {\n  args { q: string }\n}\ntool crm.lookup").replace('  @name("lookup")\n  allow crm.lookup\n', `  @name("search")\n  allow kb.search${search}\n\n  @name("lookup")\n  allow crm.lookup${lookup}\n`);
    const search = '{"session":"s1","tool":"kb.search","args":{"q":"secret"}}';
    const lookup = '{"session":"s1","tool":"crm.lookup","args":{"id":"7"}}';
    const send = '{"session":"s1","tool":"email.send","args":{"to":"eve@evil.example"}}';
    const [before, after, searchFirst, lookupFirst] = write({
      "two-old.policy": withSearch("", ""),
      "two-new.policy": withSearch('\n    when args.q != "secret"', '\n    when args.id != "7"'),
      "two-a.jsonl": [search, lookup, send, ""].join("\n"),
      "two-b.jsonl": [lookup, search, send, ""].join("\n"),
    });
    // Denying the lookup kept `pii` out of the session: the mail is the lookup's change, not the search's (the session's first).
    const a = await json(["diff", before!, after!, "--replay", searchFirst!]);
    expect(causes(a)).toEqual({ "~lookup": { "allow→deny": 1, "deny→allow": 1 }, "~search": { "allow→deny": 1 } });
    expect(a.byCause["~lookup"]!.changes.map((c) => [c.line, c.via])).toEqual([
      [2, undefined],
      [3, { rule: "-no-pii-out", file: searchFirst, line: 2 }],
    ]);
    // Nor the search's when it is the latest: a search denied adds no label to the session.
    const b = await json(["diff", before!, after!, "--replay", lookupFirst!]);
    expect(b.byCause["~lookup"]!.changes.map((c) => [c.line, c.via])).toEqual([
      [1, undefined],
      [3, { rule: "-no-pii-out", file: lookupFirst, line: 1 }],
    ]);
    expect(b.byCause["~search"]!.carried).toBe(0);
  });

  it("an unchanged rule that reads no session state is not carried by the session's earlier change", async () => {
    const policy = (tools: string, lookup: string): string =>
      `tool kb.search {\n  args { q: string }\n}\ntool crm.lookup {\n  args { id: string }\n}\nintent work {\n  tools ${tools}\n  max_risk medium\n}\npolicy p {\n  @name("search")\n  allow kb.search\n\n  @name("lookup")\n  allow crm.lookup${lookup}\n\n  @name("off-intent")\n  deny *\n    when not (tool in intent.tools)\n    reason "off intent"\n}\n`;
    const search = (session: string): string => `{"session":"${session}","intent":"work","tool":"kb.search","args":{"q":"x"}}`;
    const [before, after, calls] = write({
      "ni-old.policy": policy("crm.lookup, kb.search", ""),
      "ni-new.policy": policy("crm.lookup", '\n    when args.id != "7"'),
      "ni.jsonl": ['{"session":"s1","intent":"work","tool":"crm.lookup","args":{"id":"7"}}', search("s1"), search("s2"), ""].join("\n"),
    });
    // The same search in s1, after the lookup's change, and in s2 is the same change: the intent's.
    const report = await json(["diff", before!, after!, "--replay", calls!]);
    expect(causes(report)).toEqual({ "+off-intent (unchanged rule)": { "allow→deny": 2 }, "~lookup": { "allow→deny": 1 } });
    expect(report.byCause["~lookup"]!.carried).toBe(0);
    expect(report.byCause["+off-intent (unchanged rule)"]!.changes.map((c) => [c.line, c.via])).toEqual([
      [2, undefined],
      [3, undefined],
    ]);
  });

  it("a session the engines forget during its own line's decision (back days later, no other line between) starts afresh: nothing of before is carried, on one thread or two", async () => {
    const policy = (tools: string, lookup: string): string =>
      `tool crm.lookup {\n  args { id: string }\n}\ntool kb.search {\n  args { q: string }\n}\nintent work {\n  tools ${tools}\n  max_risk high\n}\npolicy p {\n  @name("lookup")\n  allow crm.lookup${lookup}\n\n  @name("search")\n  allow kb.search\n\n  @name("off-intent")\n  deny *\n    when not (tool in intent.tools) and session.denials == 0\n    reason "off intent"\n}\n`;
    const search = (time: string, session: string): string => `{"time":"${time}","session":"${session}","intent":"work","tool":"kb.search","args":{"q":"x"}}`;
    const [before, after, calls] = write({
      "st-old.policy": policy("crm.lookup, kb.search", ""),
      "st-new.policy": policy("crm.lookup", '\n    when args.id != "7"'),
      // s1 comes back two days after its lookup: the sweep that forgets it runs inside that line's decision.
      "st.jsonl": ['{"time":"2026-01-01T00:00:00Z","session":"s1","intent":"work","tool":"crm.lookup","args":{"id":"7"}}', search("2026-01-03T00:00:00Z", "s1"), search("2026-01-03T00:00:00Z", "s2"), ""].join("\n"),
    });
    // The built binary: from sources a diff stays on one thread whatever --jobs says.
    for (const jobs of ["1", "2"]) {
      const result = bin(["diff", before!, after!, "--replay", calls!, "--jobs", jobs]);
      // s1's search at line 2 and s2's at line 3 are the same fresh session's request: the same change.
      expect(result, `--jobs ${jobs}`).toEqual({
        code: 0,
        stdout: [
          "+off-intent (unchanged rule)  2 changes: allow→deny 2",
          `  ${calls}:2  allow→deny  kb.search (session s1)  off intent`,
          `  ${calls}:3  allow→deny  kb.search (session s2)  off intent`,
          "~lookup  1 change: allow→deny 1",
          `  ${calls}:1  allow→deny  crm.lookup (session s1)  no rule allows crm.lookup`,
          "3 of 3 decisions change: allow→deny 3",
          "",
        ].join("\n"),
        stderr: "",
      });
    }
  });

  it("a tool declared otherwise in what the deciding rules do not read (arguments reordered, an argument added, its risk) leaves a carried change to the session", async () => {
    const [before, after, calls] = ["old.policy", "new.policy", "rec.jsonl"].map((name) => `test/fixtures/replay/diff-carried/${name}`);
    const fixture = readFileSync(join(ROOT, after!), "utf8");
    const [reordered, added] = write({
      "decl-reordered.policy": fixture.replace("args { to: string }", "args { subject?: string, to: string }"),
      "decl-added.policy": fixture.replace("args { to: string }", "args { to: string, cc?: string }"),
    });
    const [beforeWithSubject] = write({ "decl-old.policy": readFileSync(join(ROOT, before!), "utf8").replace("args { to: string }", "args { to: string, subject?: string }") });
    for (const [from, to] of [[beforeWithSubject!, reordered!], [before!, added!]] as const) {
      const report = await json(["diff", from, to, "--replay", calls!]);
      expect(causes(report)).toEqual({ "~lookup": { "allow→deny": 1, "deny→allow": 1 } });
      expect(report.byCause["~lookup"]!.changes[1]!.via).toEqual({ rule: "-no-pii-out", file: calls, line: 1 });
    }
    // Nor does another risk, which no deciding rule reads (`tool.risk`); the test above has one that does.
    const [risky] = write({ "decl-risk.policy": fixture.replace("tool email.send {", "tool email.send {\n  risk high") });
    expect(Object.keys((await json(["diff", before!, risky!, "--replay", calls!])).byCause)).toEqual(["~lookup"]);
  });

  it("an unchanged rule that decides differently because its tool is declared differently is the declaration's change (`~tool NAME`)", async () => {
    const policy = (risk: string): string => `tool http.get {\n  risk ${risk}\n  args { url: string }\n}\npolicy p {\n  @name("web")\n  allow http.get\n\n  @name("no-risky")\n  deny *\n    when tool.risk == high\n}\n`;
    const [before, after, calls] = write({ "k-old.policy": policy("medium"), "k-new.policy": policy("high"), "k.jsonl": '{"session":"s1","tool":"http.get","args":{"url":"https://wiki"}}\n' });
    const report = await json(["diff", before!, after!, "--replay", calls!]);
    expect(causes(report)).toEqual({ "~tool http.get": { "allow→deny": 1 } });
    expect(report.byCause["~tool http.get"]!.changes[0]!.via).toEqual({ rule: "+no-risky" });
    expect((await cli(["diff", before!, after!, "--replay", calls!])).stdout).toContain(`  ${calls}:1  allow→deny  http.get (session s1; no-risky is unchanged)  http.get is denied by no-risky\n`);
  });

  it("an unchanged rule reading `session.repeats` that decides differently because its tool declares another argument is the declaration's change", async () => {
    const policy = (args: string): string => `tool kb.search {\n  risk low\n  args { ${args} }\n}\npolicy p {\n  @name("search")\n  allow kb.search\n\n  @name("no-loops")\n  deny kb.search\n    when session.repeats >= 1\n    reason "loop"\n}\n`;
    const [before, after, calls] = write({ "rp-old.policy": policy("q: string"), "rp-new.policy": policy("q: string, page?: int"), "rp.jsonl": '{"session":"s1","tool":"kb.search","args":{"q":"x","page":1}}\n{"session":"s1","tool":"kb.search","args":{"q":"x","page":2}}\n' });
    // OLD ignores the undeclared page, so the second search repeats the first; NEW compares it.
    const report = await json(["diff", before!, after!, "--replay", calls!]);
    expect(causes(report)).toEqual({ "~tool kb.search": { "deny→allow": 1 } });
    expect(report.byCause["~tool kb.search"]!.changes[0]!.via).toEqual({ rule: "-no-loops" });
  });

  it("an unchanged rule reading `session.labels` that decides differently because another tool of the session returns other labels is that tool's declaration's change", async () => {
    const policy = (returns: string): string => `enum Label { public, pii }\ntool kb.search {\n${returns}  args { q: string }\n}\ntool email.send {\n  args { to: string }\n}\npolicy p {\n  @name("search")\n  allow kb.search\n\n  @name("send")\n  allow email.send\n\n  @name("no-pii-out")\n  deny email.send\n    when session.labels contains pii\n}\n`;
    const send = (session: string): string => `{"session":"${session}","tool":"email.send","args":{"to":"e"}}`;
    const [before, after, calls] = write({ "rt-old.policy": policy(""), "rt-new.policy": policy("  returns pii\n"), "rt.jsonl": ['{"session":"s1","tool":"kb.search","args":{"q":"x"}}', send("s1"), send("s2"), ""].join("\n") });
    const report = await json(["diff", before!, after!, "--replay", calls!]);
    // s2 searched nothing: its mail is no change.
    expect(causes(report)).toEqual({ "~tool kb.search": { "allow→deny": 1 } });
    expect(report.byCause["~tool kb.search"]!.changes.map((c) => [c.line, c.via])).toEqual([[2, { rule: "+no-pii-out" }]]);
    expect(causes(await json(["diff", after!, before!, "--replay", calls!]))).toEqual({ "~tool kb.search": { "deny→allow": 1 } });
  });

  /** A loop guard that revokes (or, with `revoke` removed, only denies) a session's third identical call. */
  const loopGuard = (revoke: boolean): string => `tool kb.search {\n  args { query: string }\n}\ntool http.get {\n  args { url: string }\n}\npolicy p {\n  allow kb.search, http.get\n\n  @name("loop")\n  deny *\n    when session.repeats >= 2\n    reason "loop"\n${revoke ? "    revoke\n" : ""}}\n`;
  const calls = (...lines: [time: string, session: string, tool: string][]): string => lines.map(([time, session, tool]) => `{"time":"2026-01-0${time}Z","session":"${session}","tool":"${tool}","args":{${tool === "kb.search" ? '"query":"x"' : '"url":"u"'}}}\n`).join("");

  it("a session the engine refuses as expired in NEW only, because NEW no longer revoked it, is the revocation's change carried, not an unchanged rule's", async () => {
    // OLD forgets v1 an hour after revoking it (--revoked-session 1h); NEW still holds it, live, and at 12:00 it has expired.
    const [before, after, rec] = write({ "x-old.policy": loopGuard(true), "x-new.policy": loopGuard(false), "x.jsonl": calls(["1T10:00:00", "v1", "http.get"], ["1T10:00:01", "v1", "http.get"], ["1T10:00:02", "v1", "http.get"], ["1T10:30:00", "v1", "kb.search"], ["1T12:00:00", "v1", "kb.search"]) });
    const report = await json(["diff", before!, after!, "--replay", rec!, "--revoked-session", "1h"]);
    expect(causes(report)).toEqual({ "~loop": { "allow→deny": 1, "deny→allow": 1, "deny→deny (revoke)": 1 } });
    expect(report.byCause["~loop"]!.carried).toBe(1);
    // Carried from the line where the revocation changed (3), not the later line that only follows from it (4).
    expect(report.byCause["~loop"]!.changes.find((c) => c.line === 5)!.via).toEqual({ rule: "-p/1", file: rec, line: 3 });
  });

  it("a new session the engine refuses for --max-sessions in NEW only is `engine state in NEW`, not an invalid request: the schemas are the same", async () => {
    // OLD revoked v1, which leaves room for v2; NEW keeps v1 live, and with one session at most v2 cannot start.
    const [before, after, rec] = write({ "m-old.policy": loopGuard(true), "m-new.policy": loopGuard(false), "m.jsonl": calls(["1T10:00:00", "v1", "http.get"], ["1T10:00:01", "v1", "http.get"], ["1T10:00:02", "v1", "http.get"], ["4T12:00:00", "v1", "kb.search"], ["4T12:00:01", "v2", "kb.search"]) });
    const report = await json(["diff", before!, after!, "--replay", rec!, "--max-sessions", "1"]);
    expect(causes(report)).toEqual({ "~loop": { "deny→allow": 1, "deny→deny (revoke)": 1 }, "engine state in NEW": { "allow→deny": 1 } });
    expect(causes(await json(["diff", after!, before!, "--replay", rec!, "--max-sessions", "1"]))).toEqual({ "~loop": { "allow→deny": 1, "deny→deny (revoke)": 1 }, "engine state in OLD": { "deny→allow": 1 } });
  });

  it("a session one engine refuses as expired is not blamed on an earlier change of it that only altered its denials: `engine state in OLD` (review r4 R1)", async () => {
    // `~loop` keeps v5 live in NEW, so NEW refuses v4 (full) and frees the idle v2 at line 8; line 9 starts v2 afresh in NEW, while OLD
    // still holds it and refuses it as expired. `+bad` denied v2's search at line 5: expiry goes by attempt times, which both count alike.
    const policy = (loopRevokes: boolean, bad: boolean): string => `agent { team: string }\ntool kb.search { risk low args { query: string } }\ntool http.get { risk medium args { url: string } }\npolicy p {\n  allow kb.search, http.get\n    when agent.team == "support"\n\n  @name("loop")\n  deny *\n    when session.repeats >= 2\n    reason "loop"\n${loopRevokes ? "    revoke\n" : ""}}\n${bad ? 'policy q {\n  @name("bad")\n  deny kb.search when args.query == "bad" reason "bad query"\n}\n' : ""}`;
    const line = ([time, session, tool, bad]: [string, string, string, boolean?]): string => `{"time":"2026-01-01T${time}Z","session":"${session}","agent":{"team":"support"},"tool":"${tool}","args":{${tool === "kb.search" ? `"query":"${bad === true ? "bad" : "q"}"` : '"url":"u"'}}}\n`;
    const recording = ([
      ["16:50:56.172", "v5", "http.get"],
      ["16:53:37.768", "v5", "http.get"],
      ["17:02:07.026", "v5", "http.get"],
      ["17:05:22.822", "v0", "kb.search"],
      ["17:08:59.455", "v2", "kb.search", true],
      ["17:12:40.159", "v4", "http.get"],
      ["17:14:03.627", "v5", "kb.search"],
      ["17:44:02.957", "v4", "http.get"],
      ["17:46:19.681", "v2", "http.get"],
    ] as [string, string, string, boolean?][]).map(line).join("");
    const [before, after, rec] = write({ "e-old.policy": policy(true, false), "e-new.policy": policy(false, true), "e.jsonl": recording });
    const report = await json(["diff", before!, after!, "--replay", rec!, "--max-sessions", "3", "--revoked-session", "10m", "--session-idle", "20m", "--expired-session", "30m"]);
    expect(report.byCause["+bad"]!.directions).toEqual({ "allow→deny": 1 });
    expect(report.byCause["engine state in OLD"]!.changes.map((c) => [c.line, c.direction, c.via])).toEqual([[9, "deny→allow", undefined]]);
  });

  it("an unchanged rule that decides differently for another reason (an intent declared otherwise) is marked `(unchanged rule)`", async () => {
    const policy = (tools: string): string => `tool kb.search {\n  args { query: string }\n}\ntool http.get {\n  args { url: string }\n}\nintent research {\n  tools ${tools}\n  max_risk medium\n}\npolicy p {\n  allow kb.search\n\n  @name("off-intent")\n  deny *\n    when not (tool in intent.tools)\n}\n`;
    const [before, after, calls] = write({ "i-old.policy": policy("http.get"), "i-new.policy": policy("http.get, kb.search"), "i.jsonl": '{"session":"s1","intent":"research","tool":"kb.search","args":{"query":"q"}}\n' });
    const report = await json(["diff", before!, after!, "--replay", calls!]);
    expect(causes(report)).toEqual({ "-off-intent (unchanged rule)": { "deny→allow": 1 } });
    expect(report.byCause["-off-intent (unchanged rule)"]!.changes[0]!.via).toBeUndefined();
  });
});

describe("policyc diff: changes that keep the effect", () => {
  const old = readFileSync(join(ROOT, OLD), "utf8");
  const mailRule = 'allow email.send\n    when agent.team == "support"';
  /** OLD with `mail-for-support` (which allows support's three mails: lines 2, 3 and 6) granting `grant`. */
  const granting = (name: string, grant: string): string => {
    const path = join(dir, `${name}.policy`);
    writeFileSync(path, old.replace(mailRule, grant === "" ? mailRule : `${mailRule}\n    ${grant}`));
    return path;
  };
  const base = (): string => granting("grant-base", 'grant "mail:send" for 5m');
  const run = (before: string, after: string, ...flags: string[]): Promise<CliResult> => cli(["diff", before, after, "--replay", CALLS, ...flags]);

  it("a widened grant (scope and lifetime) is a change of the rule that grants it, in text and JSON, and fails --exit-code", async () => {
    const widened = granting("grant-widened", 'grant "mail:*" for 24h');
    const text = await run(base(), widened, "--exit-code");
    expect(text.code).toBe(1);
    expect(text.stdout).toBe(
      [
        "~mail-for-support  3 changes: allow→allow (grants) 3",
        "  test/fixtures/replay/diff/calls.jsonl:2  allow→allow (grants)  email.send (session s1)  grants mail:send for 5m → mail:* for 1d",
        "  test/fixtures/replay/diff/calls.jsonl:3  allow→allow (grants)  email.send (session s1)  grants mail:send for 5m → mail:* for 1d",
        "  test/fixtures/replay/diff/calls.jsonl:6  allow→allow (grants)  email.send (session s3)  grants mail:send for 5m → mail:* for 1d",
        "3 of 8 decisions change: allow→allow (grants) 3",
        "",
      ].join("\n"),
    );
    const report = await diffJson(base(), widened);
    expect([report.changed, report.directions]).toEqual([3, { "allow→allow (grants)": 3 }]);
    const change = report.byCause["~mail-for-support"]!.changes[0]!;
    expect(change.direction).toBe("allow→allow (grants)");
    expect([change.before, change.after]).toMatchObject([{ decision: "allow", grants: [{ scope: "mail:send", ttlSeconds: 300 }] }, { decision: "allow", grants: [{ scope: "mail:*", ttlSeconds: 86_400 }] }]);
  });

  it("a longer lifetime alone, a grant removed and a grant added are changes too", async () => {
    const longer = await run(base(), granting("grant-longer", 'grant "mail:send" for 1h'), "--exit-code");
    expect(longer.code).toBe(1);
    expect(longer.stdout).toContain("  test/fixtures/replay/diff/calls.jsonl:2  allow→allow (grants)  email.send (session s1)  grants mail:send for 5m → mail:send for 1h\n");
    const removed = await run(base(), granting("grant-removed", ""), "--exit-code");
    expect(removed.code).toBe(1);
    expect(removed.stdout).toContain("allow→allow (grants)  email.send (session s1)  grants mail:send for 5m → none\n");
    expect(removed.stdout.trimEnd().split("\n").at(-1)).toBe("3 of 8 decisions change: allow→allow (grants) 3");
    const added = await run(OLD, base());
    expect(added.stdout).toContain("allow→allow (grants)  email.send (session s1)  grants none → mail:send for 5m\n");
  });

  it("a change in what an ask grants on approval is a change of grants, caused by the allow rule that grants", async () => {
    // Mail outside acme.com (lines 2 and 6) needs a person's approval, which gives mail-for-support's grant.
    const asking = (name: string, grant: string, more = ""): string => {
      const path = join(dir, `${name}.policy`);
      const rules = `${mailRule}\n    ${grant}\n\n  @name("outside-asks")\n  ask email.send\n    when any(r in args.to: not (r like "*@acme.com"))${more}`;
      writeFileSync(path, old.replace(mailRule, rules));
      return path;
    };
    const before = asking("ask-base", 'grant "mail:send" for 5m');
    const widened = await run(before, asking("ask-widened", 'grant "mail:*" for 24h'), "--exit-code");
    expect(widened.code).toBe(1);
    expect(widened.stdout).toBe(
      [
        "~mail-for-support  3 changes: allow→allow (grants) 1, ask→ask (grants) 2",
        "  test/fixtures/replay/diff/calls.jsonl:2  ask→ask (grants)  email.send (session s1)  grants on approval mail:send for 5m → mail:* for 1d",
        "  test/fixtures/replay/diff/calls.jsonl:3  allow→allow (grants)  email.send (session s1)  grants mail:send for 5m → mail:* for 1d",
        "  test/fixtures/replay/diff/calls.jsonl:6  ask→ask (grants)  email.send (session s3)  grants on approval mail:send for 5m → mail:* for 1d",
        "3 of 8 decisions change: allow→allow (grants) 1, ask→ask (grants) 2",
        "",
      ].join("\n"),
    );
    const report = JSON.parse((await run(before, asking("ask-widened", 'grant "mail:*" for 24h'), "--json")).stdout) as JsonDiff;
    expect(report.byCause["~mail-for-support"]!.changes[0]).toMatchObject({ direction: "ask→ask (grants)", before: { decision: "ask", grants: [], grantsOnApproval: [{ scope: "mail:send", ttlSeconds: 300 }] }, after: { decision: "ask", grants: [], grantsOnApproval: [{ scope: "mail:*", ttlSeconds: 86_400 }] } });
    // A new allow rule that grants: the asks it gives more on approval are its change too.
    const audited = await run(before, asking("ask-audited", 'grant "mail:send" for 5m', '\n\n  @name("mail-audit")\n  allow email.send\n    grant "mail:audit" for 1m'));
    expect(audited.stdout).toContain("  test/fixtures/replay/diff/calls.jsonl:2  ask→ask (grants)  email.send (session s1)  grants on approval mail:send for 5m → mail:send for 5m, mail:audit for 1m\n");
    expect(audited.stdout.split("\n")[0]).toBe("+mail-audit  3 changes: allow→allow (grants) 1, ask→ask (grants) 2");
    // The other way: the asks' grants on approval changed by the allow rule that no longer gives them.
    const unaudited = await run(asking("ask-audited", 'grant "mail:send" for 5m', '\n\n  @name("mail-audit")\n  allow email.send\n    grant "mail:audit" for 1m'), before);
    expect(unaudited.stdout.split("\n")[0]).toBe("-mail-audit  3 changes: allow→allow (grants) 1, ask→ask (grants) 2");
    // The same grants on approval: no change.
    expect(await run(before, asking("ask-same", 'grant "mail:send" for 5m'), "--exit-code")).toEqual({ code: 0, stdout: "0 of 8 decisions change\n", stderr: "" });
    // A bundle built before asks carried grants on approval (its code evaluates no granting
    // allow for an ask): the change is named as the bundle's, not as the policy's.
    const bundle = join(dir, "ask-base.json");
    expect((await bin(["build", before, "-o", bundle])).code).toBe(0);
    const built = JSON.parse(readFileSync(bundle, "utf8")) as Bundle;
    expect(built.code).toContain(", onApproval: [");
    (built as { code: string }).code = built.code.replace(/, onApproval: \[(\[\d+, r\d+\](, )?)+\]/g, "");
    // As such a policyc names itself: this one refuses code it would not emit (PC707), and runs
    // another's only signed, its signature checked, with a warning (PC708).
    (built.manifest as { compiler: string }).compiler = "policyc 0.8.0";
    (built.manifest as { contentHash: string }).contentHash = contentHash(built);
    const { privateKey, publicKey } = generateKeyPairSync("ed25519");
    writeFileSync(bundle, JSON.stringify(resigned(built, privateKey)));
    const key = join(dir, "ask-base.pem");
    writeFileSync(key, publicKey.export({ type: "spki", format: "pem" }) as string);
    expect((await run(bundle, before)).stderr).toContain("ask-base.json: error[PC708]: ");
    const earlier = await run(bundle, before, "--public-key", key);
    expect(earlier.stderr).toContain("ask-base.json: warning[PC708]: ");
    expect(earlier.stdout.split("\n")[0]).toBe("OLD is a bundle built by a policyc whose asks give no grants on approval: rebuild it  2 changes: ask→ask (grants) 2");
  });

  it("grants are compared as a set: the same scopes in another order, or an unchanged policy, change nothing", async () => {
    const twoScopes = granting("grant-two", 'grant "mail:send", "mail:read" for 5m');
    const swapped = granting("grant-swapped", 'grant "mail:read", "mail:send" for 5m');
    for (const [before, after] of [[twoScopes, swapped], [base(), base()], [OLD, OLD]]) {
      const result = await run(before!, after!, "--exit-code");
      expect(result, `${before} ${after}`).toEqual({ code: 0, stdout: "0 of 8 decisions change\n", stderr: "" });
    }
  });

  it("a deny that now revokes the session is a change of the revoking rule", async () => {
    const revoking = join(dir, "revoking.policy");
    writeFileSync(revoking, `${old.trimEnd().replace(/\}$/, "")}\n  @name("no-fetch-elsewhere")\n  deny http.get\n    when url.host(args.url) != "docs.acme.com"\n    reason "fetches stay on the docs"\n    revoke\n}\n`);
    const result = await run(OLD, revoking, "--exit-code");
    expect(result.code).toBe(1);
    expect(result.stdout).toBe(
      [
        "+no-fetch-elsewhere  1 change: deny→deny (revoke) 1",
        "  test/fixtures/replay/diff/calls.jsonl:8  deny→deny (revoke)  http.get (session s3)  the session is now revoked: fetches stay on the docs",
        "1 of 8 decisions change: deny→deny (revoke) 1",
        "",
      ].join("\n"),
    );
    expect((await run(revoking, OLD)).stdout).toContain("-no-fetch-elsewhere  1 change: deny→deny (revoke) 1\n");
  });

  it("other deciding rules or other reasons are reported only with --rule-changes (and then fail --exit-code)", async () => {
    const renamed = join(dir, "renamed.policy");
    writeFileSync(renamed, old.replace('@name("mail-for-support")', '@name("support-mail")'));
    expect(await run(OLD, renamed, "--exit-code")).toEqual({ code: 0, stdout: "0 of 8 decisions change\n", stderr: "" });
    const rules = await run(OLD, renamed, "--exit-code", "--rule-changes");
    expect(rules.code).toBe(1);
    expect(rules.stdout).toContain("-mail-for-support  3 changes: allow→allow (rules) 3\n");
    expect(rules.stdout).toContain("  test/fixtures/replay/diff/calls.jsonl:2  allow→allow (rules)  email.send (session s1)  decided by mail-for-support → support-mail: email.send is allowed by support-mail\n");
    const reworded = join(dir, "reworded.policy");
    writeFileSync(reworded, readFileSync(join(ROOT, NEW), "utf8").replace('reason "mail stays inside acme.com"', 'reason "mail goes to acme.com only"'));
    expect((await run(NEW, reworded)).stdout).toBe("0 of 8 decisions change\n");
    const reason = await run(NEW, reworded, "--rule-changes", "--json");
    const report = JSON.parse(reason.stdout) as JsonDiff;
    expect([report.changed, report.directions, Object.keys(report.byCause)]).toEqual([2, { "deny→deny (reason)": 2 }, ["~mail-stays-inside"]]);
    expect((await run(NEW, reworded, "--rule-changes")).stdout).toContain('deny→deny (reason)  email.send (session s1)  reason "mail stays inside acme.com" → "mail goes to acme.com only"\n');
    // An effect that changes is named by its effect, whatever else changes with it.
    const golden = JSON.parse((await run(OLD, NEW, "--rule-changes", "--json")).stdout) as JsonDiff;
    expect(golden.directions).toEqual({ "allow→allow (rules)": 1, "allow→deny": 2, "deny→allow": 2, "deny→ask": 1 });
  });

  /** Two deny rules in two files, `first` named so that it sorts before or after `b.policy`, with the reasons given (none when null). */
  const twoDenies = (folder: string, first: string, reasons: [external: string | null, support: string | null]): string => {
    const path = join(dir, folder);
    const reason = (text: string | null): string => (text === null ? "" : ` reason "${text}"`);
    mkdirSync(path, { recursive: true });
    writeFileSync(join(path, "schema.policy"), "agent { team: string }\ntool email.send { risk high args { to: list<string> } }\n");
    writeFileSync(join(path, first), `policy a {\n  @name("no-ext")\n  deny email.send when any(r in args.to: email.domain(r) != "acme.com")${reason(reasons[0])}\n}\n`);
    writeFileSync(join(path, "b.policy"), `policy b {\n  @name("not-support")\n  deny email.send when agent.team != "support"${reason(reasons[1])}\n}\n`);
    return path;
  };
  const bothDeny = '{"session":"s","agent":{"team":"sales"},"tool":"email.send","args":{"to":["x@ext.com"]}}\n';
  const ruleChanges = async (before: string, after: string, calls: string): Promise<JsonDiff> => JSON.parse((await cli(["diff", before, after, "--replay", calls, "--rule-changes", "--json"])).stdout) as JsonDiff;

  it("reordered rules without a written reason are `reason order` too: the reasons that name them join into another text (review r4 R3)", async () => {
    const before = twoDenies("reasonless-before", "a.policy", [null, null]);
    const after = twoDenies("reasonless-after", "z.policy", [null, null]);
    const calls = join(dir, "reasonless.jsonl");
    writeFileSync(calls, bothDeny);
    const report = await ruleChanges(before, after, calls);
    expect(Object.keys(report.byCause)).toEqual(["(rule order)"]);
    expect(report.directions).toEqual({ "deny→deny (reason order)": 1 });
  });

  it("two rules that swap their reasons, in place, are a change of each one's reason, not `(rule order)` (review r4 R4)", async () => {
    const before = twoDenies("swap-before", "a.policy", ["external recipient", "only support may email"]);
    const after = twoDenies("swap-after", "a.policy", ["only support may email", "external recipient"]);
    const calls = join(dir, "swap.jsonl");
    writeFileSync(calls, bothDeny);
    const report = await ruleChanges(before, after, calls);
    expect(Object.keys(report.byCause)).not.toContain("(rule order)");
    expect(report.directions).toEqual({ "deny→deny (reason)": 1 });
  });

  it("the same reasons in another order (a policy file renamed) are `reason order` with --rule-changes: the joined reason `test` compares changes with them", async () => {
    const schema = 'agent { team: string }\ntool email.send { risk high args { to: list<string> } }\n';
    const external = 'policy a {\n  @name("no-ext")\n  deny email.send when any(r in args.to: email.domain(r) != "acme.com") reason "external recipient"\n}\n';
    const support = 'policy b {\n  @name("not-support")\n  deny email.send when agent.team != "support" reason "only support may email"\n}\n';
    const before = join(dir, "order-before");
    const after = join(dir, "order-after");
    for (const [folder, first] of [[before, "a.policy"], [after, "z.policy"]] as const) {
      mkdirSync(folder, { recursive: true });
      writeFileSync(join(folder, "schema.policy"), schema);
      writeFileSync(join(folder, first), external);
      writeFileSync(join(folder, "b.policy"), support);
    }
    const line = '{"session":"s","agent":{"team":"sales"},"tool":"email.send","args":{"to":["x@ext.com"]}';
    const calls = join(dir, "order.jsonl");
    writeFileSync(calls, `${line}}\n`);
    // What `test` sees: the recorded joined reason passes with the files as they were, and fails once one is renamed.
    const recorded = join(dir, "order-expected.jsonl");
    writeFileSync(recorded, `${line},"decision":"deny","reason":"external recipient; only support may email"}\n`);
    expect((await cli(["test", before, "--replay", recorded])).code).toBe(0);
    expect((await cli(["test", after, "--replay", recorded])).code).toBe(1);
    // The effect is the same: only --rule-changes reports it, under no rule (none changed).
    expect(await cli(["diff", before, after, "--replay", calls, "--exit-code"])).toEqual({ code: 0, stdout: "0 of 1 decisions change\n", stderr: "" });
    expect(await cli(["diff", before, after, "--replay", calls, "--exit-code", "--rule-changes"])).toEqual({
      code: 1,
      stdout: [
        "(rule order)  1 change: deny→deny (reason order) 1",
        `  ${calls}:1  deny→deny (reason order)  email.send (session s)  reason "external recipient; only support may email" → "only support may email; external recipient"`,
        "1 of 1 decisions change: deny→deny (reason order) 1",
        "",
      ].join("\n"),
      stderr: "",
    });
  });
});

describe("policyc diff", () => {
  it("groups the changed decisions by cause rule, with counts per direction (golden)", () => {
    const result = bin(["diff", OLD, NEW, "--replay", CALLS]);
    expectGolden("diff-pretty", runText(result));
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^\+kb-for-everyone {2}2 changes: deny→allow 2$/m);
    expect(result.stdout).toMatch(/^\+mail-stays-inside {2}2 changes: allow→deny 2$/m);
    expect(result.stdout).toMatch(/^\+fetch-elsewhere-asks {2}1 change: deny→ask 1$/m);
    expect(result.stdout.trimEnd().split("\n").at(-1)).toBe("5 of 8 decisions change: allow→deny 2, deny→allow 2, deny→ask 1");
  });

  it("the reverse change names the rules that no longer decide", async () => {
    const result = await cli(["diff", NEW, OLD, "--replay", CALLS]);
    expect(result.stdout).toMatch(/^-mail-stays-inside {2}2 changes: deny→allow 2$/m);
    expect(result.stdout).toMatch(/^-kb-for-everyone {2}2 changes: allow→deny 2$/m);
    expect(result.stdout).toMatch(/^-fetch-elsewhere-asks {2}1 change: ask→deny 1$/m);
  });

  it("--json", async () => {
    const report = await diffJson(OLD, NEW);
    expect(report.lines).toBe(8);
    expect(report.changed).toBe(5);
    expect(report.directions).toEqual({ "allow→deny": 2, "deny→allow": 2, "deny→ask": 1 });
    expect(Object.keys(report.byCause).sort()).toEqual(["+fetch-elsewhere-asks", "+kb-for-everyone", "+mail-stays-inside"]);
    expect(report.byCause["+mail-stays-inside"]).toMatchObject({ count: 2, directions: { "allow→deny": 2 }, truncated: false });
    const mail = report.byCause["+mail-stays-inside"]!.changes;
    expect(mail.map((c) => [c.file, c.line, c.session, c.tool, c.direction])).toEqual([
      [CALLS, 2, "s1", "email.send", "allow→deny"],
      [CALLS, 6, "s3", "email.send", "allow→deny"],
    ]);
    expect(mail[0]!.before).toMatchObject({ decision: "allow", rules: ["mail-for-support"] });
    expect(mail[0]!.after).toMatchObject({ decision: "deny", rules: ["mail-stays-inside"] });
    expect(report.errors).toEqual([]);
  });

  it("--exit-code exits 1 on changes and 0 without", async () => {
    expect((await cli(["diff", OLD, NEW, "--replay", CALLS, "--exit-code"])).code).toBe(1);
    const same = await cli(["diff", OLD, OLD, "--replay", CALLS, "--exit-code"]);
    expect(same.code).toBe(0);
    expect(same.stdout).toBe("0 of 8 decisions change\n");
    expect(bin(["diff", OLD, NEW, "--replay", CALLS, "--exit-code"]).code).toBe(1);
  });

  it("recordings with no request line (empty, blank, empty stdin, approvals only) compare nothing: a note per recording, exit 1 unless --allow-empty", async () => {
    const empty = join(dir, "empty.jsonl");
    writeFileSync(empty, "");
    const blank = join(dir, "blank.jsonl");
    writeFileSync(blank, "\n\n");
    const approvals = join(dir, "approvals-only.jsonl");
    writeFileSync(approvals, '{"event":"approval","time":"2026-01-05T09:05:00Z","session":"s1","tool":"email.send","args":{"to":["bob@acme.com"]},"approved":true}\n');
    const refusal = "policyc diff: no decisions to compare: no recording has a request line (use --allow-empty to accept)\n";
    for (const recording of [empty, blank, approvals]) {
      for (const gate of [[], ["--exit-code"]]) {
        const result = await cli(["diff", OLD, NEW, "--replay", recording, ...gate]);
        expect(result).toEqual({ code: 1, stdout: `note: ${recording}: the recording has no request lines: it compares nothing\n0 of 0 decisions change\n`, stderr: refusal });
      }
    }
    const piped = bin(["diff", OLD, NEW, "--replay", "-", "--exit-code"], { stdin: "" });
    expect(piped).toMatchObject({ code: 1, stderr: refusal });
    expect(piped.stdout).toContain("the recording has no request lines");
    const json = await cli(["diff", OLD, NEW, "--replay", empty, "--json", "--exit-code"]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ ok: false, reason: refusal.slice("policyc diff: ".length, -1), lines: 0, changed: 0, notes: [{ file: empty, line: null, message: "the recording has no request lines: it compares nothing" }] });
    const allowed = await cli(["diff", OLD, NEW, "--replay", empty, "--exit-code", "--allow-empty"]);
    expect(allowed).toMatchObject({ code: 0, stderr: "" });
    expect(allowed.stdout).toContain("note: ");
    // `ok` is there on every run, as the exit code has it (`jq -e .ok` gates as the exit code does).
    expect(JSON.parse((await cli(["diff", OLD, NEW, "--replay", empty, "--json", "--allow-empty"])).stdout)).toMatchObject({ ok: true });
    expect(JSON.parse((await cli(["diff", OLD, NEW, "--replay", CALLS, "--json"])).stdout)).toMatchObject({ ok: true });
    expect(JSON.parse((await cli(["diff", OLD, NEW, "--replay", CALLS, "--json", "--exit-code"])).stdout)).toMatchObject({ ok: false });
    // Beside a recording that has decisions, the empty one is noted and the run judged on the rest.
    const mixed = await cli(["diff", OLD, OLD, "--replay", CALLS, empty, "--exit-code"]);
    expect(mixed).toEqual({ code: 0, stdout: `note: ${empty}: the recording has no request lines: it compares nothing\n0 of 8 decisions change\n`, stderr: "" });
    expect((await cli(["diff", OLD, NEW, "--replay", CALLS, empty, "--exit-code"])).code).toBe(1);
  });

  it("a bundle built with `policyc build` works as either side", async () => {
    const oldBundle = join(dir, "old.json");
    const newBundle = join(dir, "new.json");
    expect((await cli(["build", OLD, "-o", oldBundle])).code).toBe(0);
    expect((await cli(["build", NEW, "-o", newBundle])).code).toBe(0);
    const expected = summary(await diffJson(OLD, NEW));
    expect(summary(await diffJson(oldBundle, NEW))).toEqual(expected);
    expect(summary(await diffJson(OLD, newBundle))).toEqual(expected);
    expect(summary(await diffJson(oldBundle, newBundle))).toEqual(expected);
  });

  describe("--public-key", () => {
    const at = (name: string): string => join(dir, "signed", name);
    beforeAll(async () => {
      mkdirSync(at(""), { recursive: true });
      writeKeys(at(""));
      expect((await cli(["build", OLD, "-o", at("old.json"), "--sign", at("key.pem")])).code).toBe(0);
      expect((await cli(["build", NEW, "-o", at("new.json"), "--sign", at("key.pem")])).code).toBe(0);
      expect((await cli(["build", NEW, "-o", at("unsigned.json")])).code).toBe(0);
      forgeBundle(at("new.json"), at("forged.json"));
    });
    afterEach(() => {
      delete globalThis.forgedRan;
    });
    const diff = (...args: string[]): Promise<CliResult> => cli(["diff", ...args, "--replay", CALLS, "--json"]);

    it("checks every side that is a bundle; sources beside a bundle are compiled as they are", async () => {
      const expected = summary(await diffJson(OLD, NEW));
      for (const [before, after] of [[at("old.json"), at("new.json")], [at("old.json"), NEW], [OLD, at("new.json")]]) {
        const result = await diff(before!, after!, "--public-key", at("public.pem"));
        expect(result.code, `${before} ${after}`).toBe(0);
        expect(summary(JSON.parse(result.stdout) as JsonDiff)).toEqual(expected);
      }
    });

    it("without --public-key, each signed side gets one note on standard error that its signature was not checked; the JSON on standard output is kept (audit s19 F3)", async () => {
      const unchecked = (path: string): string => `policyc diff: note: \`${path}\` is signed, but its signature was not checked: give --public-key KEY.pem to check it\n`;
      const checked = await diff(at("old.json"), at("new.json"), "--public-key", at("public.pem"));
      // The same document, but that it says the signatures were not checked.
      const signedOnly = await diff(at("old.json"), at("new.json"));
      expect(signedOnly).toEqual({ code: checked.code, stdout: checked.stdout.replace(/"signatureChecked": true/g, '"signatureChecked": false'), stderr: unchecked(at("old.json")) + unchecked(at("new.json")) });
      expect(signedOnly.stdout).not.toBe(checked.stdout);
      expect(await diff(OLD, at("unsigned.json"))).toMatchObject({ code: checked.code, stderr: "" });
      expect(await diff(OLD, at("new.json"))).toMatchObject({ code: checked.code, stderr: unchecked(at("new.json")) });
    });

    it("a forged, unsigned or otherwise signed side exits 2 before its code runs", async () => {
      // Without a key, a forgery with a good hash is refused too: its code is not what this policyc emits from its rules.
      const unkeyed = await diff(at("old.json"), at("forged.json"));
      expect(unkeyed.code).toBe(2);
      expect(unkeyed.stderr).toContain(`${at("forged.json")}: error[PC707]: NEW: the bundle's code is not what this policyc emits`);
      expect(globalThis.forgedRan).toBeUndefined();
      // Each side that did not load is said as every verb says a refused bundle, `FILE: error[CODE]: ROLE: …`: both, when neither is signed by the key.
      const refused = (side: "OLD" | "NEW", path: string, why: string): string => `${path}: error[PC703]: ${side}: ${why}: refusing to load it\n`;
      const mismatch = "the bundle's signature does not match the given public key";
      const cases: [string[], string][] = [
        [[at("old.json"), at("forged.json"), "--public-key", at("public.pem")], refused("NEW", at("forged.json"), mismatch)],
        [[OLD, at("forged.json"), "--public-key", at("public.pem")], refused("NEW", at("forged.json"), mismatch)],
        [[at("forged.json"), at("new.json"), "--public-key", at("public.pem")], refused("OLD", at("forged.json"), mismatch)],
        [[OLD, at("unsigned.json"), "--public-key", at("public.pem")], refused("NEW", at("unsigned.json"), "the bundle is not signed, but a public key was given")],
        [[at("old.json"), at("new.json"), "--public-key", at("other.pem")], refused("OLD", at("old.json"), mismatch) + refused("NEW", at("new.json"), mismatch)],
        [[at("old.json"), at("forged.json"), "--public-key", ""], "policyc diff: --public-key was given an empty value (an unset variable?)\n"],
        [[at("old.json"), at("forged.json"), "--public-key", " "], "policyc diff: --public-key was given an empty value (an unset variable?)\n"],
        [[at("old.json"), at("forged.json"), "--public-key", at("missing.pem")], `${at("missing.pem")}: error[PC700]: cannot read public key \`${at("missing.pem")}\`: no such file or folder\n`],
        [[OLD, NEW, "--public-key", at("public.pem")], "policyc diff: --public-key checks a bundle's signature, and neither side is a bundle: give OLD or NEW as a built bundle (.json)\n"],
      ];
      for (const [args, stderr] of cases) {
        const result = await diff(...args);
        expect({ code: result.code, stderr: result.stderr }, args.join(" ")).toEqual({ code: 2, stderr });
        // A side that did not load is said in the --json document too; a mistake in the options, before any side is loaded, writes none.
        const loading = !stderr.includes("empty value") && !stderr.includes("neither side");
        // --json: each side under its role in the reason (its path named), the code when every refusal has the same one; a key that cannot be read fails both sides alike: said once.
        const coded = [...stderr.matchAll(/^(.*?): error\[(PC7\d\d)\]: (?:(OLD|NEW): )?(.*)$/gm)];
        const sides = coded.length === 0 ? [] : coded[0]![3] === undefined ? ["old", "new"] : coded.map((m) => m[3]!.toLowerCase());
        const reason = coded.length === 0 ? stderr.slice("policyc diff: ".length, -1) : coded[0]![3] === undefined ? (coded[0]![4]!.includes(`\`${coded[0]![1]}\``) ? coded[0]![4]! : `\`${coded[0]![1]}\`: ${coded[0]![4]}`) : coded.map((m) => `${m[3]}: \`${m[1]}\`: ${m[4]}`).join("; ");
        expect(result.stdout === "" ? undefined : JSON.parse(result.stdout), args.join(" ")).toEqual(loading ? { ok: false, reason, ...(coded.length === 0 ? {} : { code: coded[0]![2] }), sides, errors: 0, warnings: 0, diagnostics: [] } : undefined);
        expect(globalThis.forgedRan).toBeUndefined();
      }
    });

    it("the built binary agrees", () => {
      expect(bin(["diff", at("old.json"), at("new.json"), "--replay", CALLS, "--public-key", at("public.pem")]).code).toBe(0);
      const forged = bin(["diff", at("old.json"), at("forged.json"), "--replay", CALLS, "--public-key", at("public.pem")]);
      expect(forged).toMatchObject({ code: 2, stdout: "" });
      expect(forged.stderr).toContain("signature does not match");
      expectNoStackTrace(forged);
    });
  });

  it("counts every change, also past the ones it lists", async () => {
    const line = '{"session":"s","agent":{"team":"sales"},"tool":"kb.search","args":{"query":"q"}}\n';
    writeFileSync(join(dir, "many.jsonl"), line.repeat(10_050));
    writeFileSync(join(dir, "many-again.jsonl"), line.repeat(10_050));
    // Run from the temporary folder: the recording is found relative to the working folder.
    const [oldPath, newPath] = [join(ROOT, OLD), join(ROOT, NEW)];
    // Two files: the second one's changes are counted too.
    const result = await cli(["diff", oldPath, newPath, "--replay", "many.jsonl", "many-again.jsonl", "--json"], { cwd: dir });
    const report = JSON.parse(result.stdout) as JsonDiff;
    expect(report.changed).toBe(20_100);
    expect(report.directions).toEqual({ "deny→allow": 20_100 });
    const group = report.byCause["+kb-for-everyone"]!;
    expect([group.count, group.directions, group.changes.length, group.truncated]).toEqual([20_100, { "deny→allow": 20_100 }, 1_000, true]);
    const pretty = await cli(["diff", oldPath, newPath, "--replay", "many.jsonl", "many-again.jsonl"], { cwd: dir });
    // The files are one line copied 10,050 times: each says so for its first 20 repeats, then counts them.
    const notes = pretty.stdout.split("\n").filter((l) => l.startsWith("note: "));
    expect(notes).toHaveLength(42);
    expect(notes).toContain("note: many-again.jsonl: … and 10,029 more lines that repeat the line before them byte for byte");
    const out = pretty.stdout.trimEnd().split("\n").filter((l) => !l.startsWith("note: "));
    expect(out[0]).toBe("+kb-for-everyone  20,100 changes: deny→allow 20,100");
    expect(out.filter((l) => l.startsWith("  many"))).toHaveLength(20);
    expect(out).toContain("  … and 20,080 more (not listed)");
    expect(out.at(-1)).toBe("20,100 of 20,100 decisions change: deny→allow 20,100");
  });

  it("the examples of a cause list the first change of each direction, changes of effect first: a flip is never hidden behind lines that only revoke", async () => {
    const policy = (revoke: boolean): string => `tool kb.search {\n  args { query: string }\n}\npolicy p {\n  @name("search")\n  allow kb.search\n\n  @name("no-x")\n  deny kb.search\n    when args.query == "x"${revoke ? "\n    revoke" : ""}\n}\n`;
    const [before, after, calls] = [join(dir, "x-old.policy"), join(dir, "x-new.policy"), join(dir, "x.jsonl")];
    writeFileSync(before, policy(false));
    writeFileSync(after, policy(true));
    const search = (session: string, query: string): string => `${JSON.stringify({ session, tool: "kb.search", args: { query } })}\n`;
    // 30 sessions revoked (deny→deny), then in one of them a search that is now refused (allow→deny).
    writeFileSync(calls, `${Array.from({ length: 30 }, (_, i) => search(`s${i}`, "x")).join("")}${search("s29", "y")}${search("s30", "y")}`);
    const text = (await cli(["diff", before, after, "--replay", calls])).stdout.split("\n");
    expect(text[0]).toBe("~no-x  31 changes: allow→deny 1, deny→deny (revoke) 30");
    expect(text[1]).toBe(`  ${calls}:31  allow→deny  kb.search (session s29)  kb.search is denied by no-x`);
    expect(text.slice(2, 21).map((line) => line.split("  ")[2])).toEqual(Array(19).fill("deny→deny (revoke)"));
    expect(text[21]).toBe("  … and 11 more (not listed)");
    const report = JSON.parse((await cli(["diff", before, after, "--replay", calls, "--json"])).stdout) as JsonDiff;
    expect(report.byCause["~no-x"]!.changes.map((c) => c.line)).toEqual([31, ...Array.from({ length: 30 }, (_, i) => i + 1)]);
  });

  it("file names and quoted lines in the text report show control characters as escapes", async () => {
    const name = join(dir, "evil\u001b[2J\n::warning::x.jsonl");
    writeFileSync(name, '{"session":"s","agent":{"team":"sales"},"tool":"kb.search","args":{"query":"q"}}\nx\u001b[31m\n');
    const result = await cli(["diff", OLD, NEW, "--replay", name]);
    expect(result.code).toBe(2);
    // eslint-disable-next-line no-control-regex
    expect(result.stdout).not.toMatch(/\u001b/);
    expect(result.stdout.split("\n").filter((l) => l.startsWith("::warning"))).toEqual([]);
    expect(result.stdout).toContain("evil\\u001b[2J\\u000a::warning::x.jsonl:1  deny→allow");
  });

  it("a side with policy errors exits 1; with --json stdout is still one document: ok false and the diagnostics as `check --json` lists them", async () => {
    const broken = join(dir, "broken.policy");
    writeFileSync(broken, readFileSync(join(ROOT, NEW), "utf8").replace("agent.team", "agent.tema"));
    const check = JSON.parse((await cli(["check", broken, "--json"])).stdout) as { errors: number; warnings: number; diagnostics: unknown[] };
    expect(check.errors).toBeGreaterThan(0);
    const result = await cli(["diff", OLD, broken, "--replay", CALLS, "--json"]);
    expect(result.code).toBe(1);
    // The warning is the PC512 its `not (r like "*@acme.com")` gets.
    expect(check.warnings).toBe(1);
    expect(JSON.parse(result.stdout)).toEqual({ ok: false, reason: `NEW (${broken}): the policy set did not load: ${check.errors} error${check.errors === 1 ? "" : "s"}, 1 warning`, sides: ["new"], errors: check.errors, warnings: 1, diagnostics: check.diagnostics.map((d) => ({ side: "new", ...(d as object) })) });
    expect(result.stderr).toContain(`policyc diff: NEW (${broken}): the policy set did not load`);
    expect(result.stderr).toContain("error[PC202]");
    // Without --json, stdout is the text report's, and holds nothing: the diagnostics are on stderr, as before.
    expect(await cli(["diff", OLD, broken, "--replay", CALLS])).toEqual({ code: 1, stdout: "", stderr: result.stderr });
  });

  it("when both sides fail to load, each is reported under its role (OLD, NEW), in text and in --json: a broken NEW is not hidden behind a broken OLD", async () => {
    const badOld = join(dir, "bad-old.policy");
    const badNew = join(dir, "bad-new.policy");
    writeFileSync(badOld, readFileSync(join(ROOT, OLD), "utf8").replace("agent.team", "agent.tema"));
    writeFileSync(badNew, readFileSync(join(ROOT, NEW), "utf8").replace("agent.team", "agent.teem"));
    const text = await cli(["diff", badOld, badNew, "--replay", CALLS]);
    expect(text.code).toBe(1);
    expect(text.stdout).toBe("");
    const oldAt = text.stderr.indexOf(`policyc diff: OLD (${badOld}): the policy set did not load`);
    const newAt = text.stderr.indexOf(`policyc diff: NEW (${badNew}): the policy set did not load`);
    expect(oldAt).toBeGreaterThanOrEqual(0);
    expect(newAt).toBeGreaterThan(oldAt);
    expect(text.stderr.slice(oldAt, newAt)).toContain("`tema`");
    expect(text.stderr.slice(newAt)).toContain("`teem`");
    const result = await cli(["diff", badOld, badNew, "--replay", CALLS, "--json"]);
    expect(result.code).toBe(1);
    const report = JSON.parse(result.stdout) as { ok: boolean; reason: string; sides: string[]; diagnostics: { side: string; file: string; severity: string }[] };
    expect(report.ok).toBe(false);
    expect(report.sides).toEqual(["old", "new"]);
    expect(report.reason).toMatch(/^OLD \(.*\): the policy set did not load: .*; NEW \(.*\): the policy set did not load: /);
    expect(report.diagnostics.filter((d) => d.severity === "error").map((d) => [d.side, d.file])).toEqual([["old", badOld], ["new", badNew]]);
    // A path that is no policy on one side is bad usage (exit 2), whatever the other side's errors.
    expect((await cli(["diff", join(dir, "no-such.policy"), badNew, "--replay", CALLS])).code).toBe(2);
  });

  it("usage mistakes say what is wrong: an option of `test`, policy paths after --replay (exit 2)", async () => {
    // `--session` is one edit from `--version`: the verb that has it is the better hint.
    expect(await cli(["diff", OLD, NEW, "--replay", CALLS, "--session", "s1"])).toEqual({ code: 2, stdout: "", stderr: "policyc diff: unknown option `--session`\n(`--session` is an option of `policyc test`, not of `policyc diff`)\n" });
    // A near miss of diff's own option keeps commander's suggestion.
    expect(await cli(["diff", OLD, NEW, "--replay", CALLS, "--jsn"])).toEqual({ code: 2, stdout: "", stderr: "policyc diff: unknown option `--jsn`: did you mean `--json`?\n" });
    // --replay takes every argument after it: OLD and NEW given after it are recordings, as `test` explains.
    const after = `policyc diff: \`${OLD}\` is a policy file, but --replay takes every argument after it as a recording: put policy paths before --replay\n`;
    expect(await cli(["diff", "--replay", CALLS, OLD, NEW])).toEqual({ code: 2, stdout: "", stderr: after });
    expect(await cli(["diff", "--replay", CALLS, OLD])).toEqual({ code: 2, stdout: "", stderr: after });
    expect(await cli(["diff", OLD, "--replay", CALLS])).toEqual({ code: 2, stdout: "", stderr: "policyc diff: missing required argument `new`\n" });
  });

  it("--help says that each recording starts from fresh engines, and how to join rotated logs", async () => {
    const help = await cli(["diff", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("Each recording starts from fresh engines: sessions are not carried from one\nfile to the next.");
    expect(help.stdout).toContain("  cat last-week/*.jsonl | policyc diff OLD NEW --replay -\n");
  });

  it("bad input: exit 2 with a message, never a stack trace", async () => {
    const noReplay = await cli(["diff", OLD, NEW]);
    expect(noReplay.code).toBe(2);
    expect(noReplay.stderr).toContain("--replay");
    const badJobs = await cli(["diff", OLD, NEW, "--replay", CALLS, "--jobs", "0"]);
    expect(badJobs).toMatchObject({ code: 2, stderr: "policyc diff: --jobs takes a number of threads from 1 to 64, not `0`\n" });
    const missing = await cli(["diff", OLD, NEW, "--replay", join(dir, "nope.jsonl")]);
    // Said before anything is replayed, as a folder or glob that holds none is: no "0 of 0 decisions change" (review a4 F4).
    expect(missing).toMatchObject({ code: 2, stdout: "", stderr: `${join(dir, "nope.jsonl")}: error[PC600]: no such file or folder\n` });
    const missingJson = await cli(["diff", OLD, NEW, "--replay", join(dir, "nope.jsonl"), "--json"]);
    expect(missingJson.code).toBe(2);
    expect(JSON.parse(missingJson.stdout)).toEqual({ ok: false, reason: `recordings not found or not readable: \`${join(dir, "nope.jsonl")}\` (no such file or folder)`, code: "PC600", policies: { old: expect.objectContaining({ from: "sources" }), new: expect.objectContaining({ from: "sources" }) }, excluded: [] });
    // A recording with bytes that are not UTF-8 names its line.
    const latin = join(dir, "latin1.jsonl");
    writeFileSync(latin, Buffer.from('{"session":"s\xff","tool":"kb.search","args":{"query":"q"}}\n', "latin1"));
    const notUtf8 = await cli(["diff", OLD, NEW, "--replay", latin]);
    expect(notUtf8.code).toBe(2);
    expect(notUtf8.stdout).toContain("latin1.jsonl:1: error[PC601]: the line is not valid UTF-8");
    mkdirSync(join(dir, "no-recordings"), { recursive: true });
    const noRecordings = await cli(["diff", OLD, NEW, "--replay", join(dir, "no-recordings"), "--json"]);
    expect(noRecordings.code).toBe(2);
    expect(JSON.parse(noRecordings.stdout)).toEqual({ ok: false, reason: `recordings not found or not readable: \`${join(dir, "no-recordings")}\` (a folder without .jsonl or .ndjson files)`, code: "PC600", policies: JSON.parse(missingJson.stdout).policies, excluded: [] });
    const noPolicy = await cli(["diff", join(dir, "nope.policy"), NEW, "--replay", CALLS]);
    expect(noPolicy.code).toBe(2);
    const badBundle = join(dir, "bad.json");
    writeFileSync(badBundle, "{not json");
    const bundle = await cli(["diff", badBundle, NEW, "--replay", CALLS]);
    expect(bundle.code).toBe(2);
    expect(bundle.stderr).toContain("bad.json: error[PC700]: OLD: not JSON at ");
    const badLine = join(dir, "bad.jsonl");
    writeFileSync(badLine, '{"session":"s","agent":{"team":"x"},"tool":"kb.search","args":{"query":"q"}}\n[]\n');
    const line = await cli(["diff", OLD, NEW, "--replay", badLine]);
    expect(line.code).toBe(2);
    expect(line.stdout).toMatch(/bad\.jsonl:2: error\[PC602\]: a recording line must be a JSON object/);
    for (const result of [noReplay, missing, noPolicy, bundle, line]) expectNoStackTrace(result);
  });
});
