import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine } from "../../src/runtime/engine.js";
import type { Request } from "../../src/runtime/decision.js";
import type { CompiledPolicy } from "../../src/runtime/policy.js";
import { compileFixture } from "../helpers.js";
import { diffRecordings } from "../../src/testing/diff.js";
import { compareDecision, replayRecordings, type ListedCase } from "../../src/testing/replay.js";

// A line may expect the decision's `grants` and `grantsOnApproval` (each as a set of scope and
// lifetime pairs) and `revoked`: the credentials an allow hands out, those an approved ask
// mints, and the revocations, which a security engineer pins. A decision log that writes the
// whole decision replays as it is.

const POLICY = `enum Label { pii }

tool sql.query {
  risk medium
  returns pii
  args { row_limit: int }
}

tool export.s3 {
  risk high
  args { bucket: string }
}

tool payments.send {
  risk high
  args { amount_cents: int }
}

policy p {
  @name("read")
  allow sql.query
    when args.row_limit <= 1000
    grant "warehouse:read", "warehouse:meta" for 15m

  @name("export")
  allow export.s3
    grant "s3:write" for 1m

  @name("no-export-after-pii")
  deny export.s3
    when session.labels contains pii
    reason "query results with customer data stay in the warehouse"
    revoke

  @name("pay")
  allow payments.send
    grant "payments:write", "payments:read" for 5m

  @name("pay-large-asks")
  ask payments.send
    when args.amount_cents > 100000
}
`;

const QUERY = { tool: "sql.query", args: { row_limit: 10 } };
const EXPORT = { tool: "export.s3", args: { bucket: "b" } };
const READ = [
  { scope: "warehouse:read", ttlSeconds: 900 },
  { scope: "warehouse:meta", ttlSeconds: 900 },
];

const LARGE_PAYMENT = { tool: "payments.send", args: { amount_cents: 500000 } };
const SMALL_PAYMENT = { tool: "payments.send", args: { amount_cents: 2000 } };
const PAY = [
  { scope: "payments:write", ttlSeconds: 300 },
  { scope: "payments:read", ttlSeconds: 300 },
];

let policy: CompiledPolicy;
let dir: string;
beforeAll(() => {
  policy = compileFixture(POLICY);
  dir = mkdtempSync(join(tmpdir(), "policyc-grants-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
/** Writes a recording (one JSON object a line) and returns its path. */
function recording(lines: readonly object[]): string {
  const path = join(dir, `r${++counter}.jsonl`);
  writeFileSync(path, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
  return path;
}

function mismatchesOf(c: ListedCase): readonly string[] {
  return c.ok ? [] : c.mismatches;
}

describe("replayRecordings: expected grants and revoked", () => {
  it("compares grants as a set of scope and lifetime pairs, in any order, and revoked exactly", async () => {
    const file = recording([
      { session: "a", ...QUERY, decision: "allow", grants: [...READ].reverse() },
      { session: "b", ...QUERY, decision: "allow", grants: READ, revoked: false },
      { session: "c", ...QUERY, decision: "allow", grants: [{ scope: "warehouse:*", ttlSeconds: 86400 }], revoked: true },
      { session: "d", ...QUERY, decision: "allow", grants: [READ[0]] },
      { session: "e", ...QUERY, decision: "allow", grants: [{ ...READ[0], ttlSeconds: 901 }, READ[1]] },
      { session: "f", ...QUERY, decision: "allow", grants: [] },
      // A grant listed twice is the same credential.
      { session: "g", ...QUERY, decision: "allow", grants: [READ[0], READ[1], READ[0]] },
      { session: "h", ...QUERY, decision: "deny", revoked: false },
      // No grants or revoked: compared as before, whatever the decision grants.
      { session: "i", ...QUERY, decision: "allow", rules: ["read"] },
    ]);
    const report = await replayRecordings(policy, [file], { listCases: true });
    expect(report.errors).toEqual([]);
    expect(report.cases.map((c) => [c.line, mismatchesOf(c)])).toEqual([
      [1, []],
      [2, []],
      [3, ["grants", "revoked"]],
      [4, ["grants"]],
      [5, ["grants"]],
      [6, ["grants"]],
      [7, []],
      [8, ["decision"]],
      [9, []],
    ]);
  });

  it("a log's other fields of a grant (a minted credential's expiry) are not compared, and \"grants\": null expects nothing", async () => {
    const file = recording([
      { session: "a", ...QUERY, decision: "allow", grants: READ.map((g) => ({ ...g, expiresAt: "2026-01-05T09:15:00Z", token: "redacted" })) },
      { session: "b", ...QUERY, decision: "allow", grants: null },
      { session: "c", ...QUERY, decision: "allow", grants: [{ scope: "warehouse:read", ttlSeconds: 60, expiresAt: "x" }] },
    ]);
    const report = await replayRecordings(policy, [file], { listCases: true });
    expect(report.errors).toEqual([]);
    expect(report.cases.map((c) => [c.line, mismatchesOf(c)])).toEqual([
      [1, []],
      [2, []],
      [3, ["grants"]],
    ]);
  });

  it("compares revoked with the session's state after the decision: the revoking deny, and every line after it", async () => {
    const file = recording([
      { session: "s", ...QUERY, decision: "allow", revoked: false },
      { session: "s", ...EXPORT, decision: "deny", rules: ["no-export-after-pii"], grants: [], revoked: true },
      { session: "s", ...QUERY, decision: "deny", revoked: true },
      { session: "s", ...QUERY, decision: "deny", revoked: false },
      { session: "t", ...EXPORT, decision: "allow", grants: [{ scope: "s3:write", ttlSeconds: 60 }], revoked: false },
    ]);
    const report = await replayRecordings(policy, [file], { listCases: true });
    expect(report.cases.map((c) => [c.line, mismatchesOf(c)])).toEqual([
      [1, []],
      [2, []],
      [3, []],
      [4, ["revoked"]],
      [5, []],
    ]);
  });

  it("replays a decision log that writes the whole decision with every line passing; changed, it fails where it was changed", async () => {
    const engine = new Engine(policy);
    const requests: Request[] = [
      { time: "2026-01-05T09:00:00Z", session: "s", ...EXPORT },
      { time: "2026-01-05T09:00:01Z", session: "s", ...QUERY },
      { time: "2026-01-05T09:00:02Z", session: "s", ...EXPORT },
      { time: "2026-01-05T09:00:03Z", session: "s", ...QUERY },
      { time: "2026-01-05T09:00:04Z", session: "u", ...QUERY, args: { row_limit: 5000 } },
      { time: "2026-01-05T09:00:05Z", session: "u", tool: "shell.exec", args: {} },
    ];
    const log = requests.map((request) => ({ ...request, ...engine.decide(request) }));
    expect(log.map((line) => [line.decision, line.grants.length, line.revoked])).toEqual([
      ["allow", 1, false],
      ["allow", 2, false],
      ["deny", 0, true],
      ["deny", 0, true],
      ["deny", 0, false],
      ["deny", 0, false],
    ]);
    const passing = await replayRecordings(policy, [recording(log)], { listCases: true });
    expect(passing.errors).toEqual([]);
    expect([passing.passed, passing.failed]).toEqual([6, 0]);

    const changed = log.map((line, i) => (i === 1 ? { ...line, grants: [{ scope: "warehouse:*", ttlSeconds: 86400 }] } : i === 2 ? { ...line, revoked: false } : line));
    const failing = await replayRecordings(policy, [recording(changed)], { listCases: true });
    expect(failing.failures.map((f) => [f.line, f.mismatches])).toEqual([
      [2, ["grants"]],
      [3, ["revoked"]],
    ]);
  });

  it("`update` writes the actual grants and revoked into the failed lines that have them, and into no line that does not", async () => {
    const file = recording([
      { session: "s", ...QUERY, decision: "allow", grants: [{ scope: "warehouse:*", ttlSeconds: 86400 }], revoked: true },
      { session: "s", ...EXPORT, decision: "allow", rules: ["export"] },
      { session: "s", ...QUERY, decision: "deny" },
      { session: "t", ...QUERY },
    ]);
    const report = await replayRecordings(policy, [file], { update: true });
    expect(report.updated).toEqual([file]);
    expect(readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      { session: "s", ...QUERY, decision: "allow", grants: READ, revoked: false, rules: ["read"] },
      // Failed (the query tainted the session, and the export revoked it), updated without gaining grants or revoked.
      { session: "s", ...EXPORT, decision: "deny", rules: ["no-export-after-pii"] },
      { session: "s", ...QUERY, decision: "deny" },
      { session: "t", ...QUERY, decision: "allow", rules: ["read"] },
    ]);
    const again = await replayRecordings(policy, [file]);
    expect([again.passed, again.failed, again.errors]).toEqual([4, 0, []]);
  });

  it("`diffRecordings` is unaffected: a line's expected grants and revoked are not the decisions it compares", async () => {
    const file = recording([
      { session: "s", ...QUERY, decision: "allow", grants: [{ scope: "warehouse:*", ttlSeconds: 86400 }], revoked: true },
      { session: "s", ...EXPORT, decision: "deny", rules: [], grants: [], revoked: false },
    ]);
    const report = await diffRecordings(policy, policy, [file]);
    expect(report.errors).toEqual([]);
    expect([report.lines, report.directions.size, report.byCause.size]).toEqual([2, 0, 0]);
  });
});

describe("replayRecordings: expected grants on approval", () => {
  it("compares an ask's grantsOnApproval as grants are compared: a set of scope and lifetime pairs, other fields not compared, null expecting nothing", async () => {
    const file = recording([
      { session: "a", ...LARGE_PAYMENT, decision: "ask", rules: ["pay-large-asks"], grantsOnApproval: [...PAY].reverse() },
      { session: "b", ...LARGE_PAYMENT, decision: "ask", grantsOnApproval: [PAY[0], PAY[1], PAY[0]], grants: [], revoked: false },
      { session: "c", ...LARGE_PAYMENT, decision: "ask", grantsOnApproval: [{ scope: "payments:*", ttlSeconds: 86400 }] },
      { session: "d", ...LARGE_PAYMENT, decision: "ask", grantsOnApproval: [PAY[0]] },
      { session: "e", ...LARGE_PAYMENT, decision: "ask", grantsOnApproval: [] },
      { session: "f", ...LARGE_PAYMENT, decision: "ask", grantsOnApproval: PAY.map((g) => ({ ...g, expiresAt: "2026-01-05T09:05:00Z" })) },
      { session: "g", ...LARGE_PAYMENT, decision: "ask", grantsOnApproval: null },
      // The ask grants nothing before the approval: expecting its grants on approval as `grants` fails.
      { session: "h", ...LARGE_PAYMENT, decision: "ask", grants: PAY },
      // No grantsOnApproval: compared as before, whatever the approval would mint.
      { session: "i", ...LARGE_PAYMENT, decision: "ask", rules: ["pay-large-asks"] },
    ]);
    const report = await replayRecordings(policy, [file], { listCases: true });
    expect(report.errors).toEqual([]);
    expect(report.cases.map((c) => [c.line, mismatchesOf(c)])).toEqual([
      [1, []],
      [2, []],
      [3, ["grantsOnApproval"]],
      [4, ["grantsOnApproval"]],
      [5, ["grantsOnApproval"]],
      [6, []],
      [7, []],
      [8, ["grants"]],
      [9, []],
    ]);
  });

  it("an allow or a deny has no grants on approval: a line expecting none passes, one expecting some fails", async () => {
    const file = recording([
      { session: "a", ...SMALL_PAYMENT, decision: "allow", grants: PAY, grantsOnApproval: [] },
      { session: "b", ...SMALL_PAYMENT, decision: "allow", grantsOnApproval: PAY },
      { session: "c", ...QUERY, args: { row_limit: 5000 }, decision: "deny", grantsOnApproval: [] },
      { session: "d", ...QUERY, args: { row_limit: 5000 }, decision: "deny", grantsOnApproval: [{ scope: "warehouse:read", ttlSeconds: 900 }] },
      // Expecting an ask that mints on approval, where the engine allows: both differ.
      { session: "e", ...SMALL_PAYMENT, decision: "ask", grantsOnApproval: PAY },
      { session: "f", ...SMALL_PAYMENT, decision: "ask", grantsOnApproval: [] },
    ]);
    const report = await replayRecordings(policy, [file], { listCases: true });
    expect(report.errors).toEqual([]);
    expect(report.cases.map((c) => [c.line, mismatchesOf(c)])).toEqual([
      [1, []],
      [2, ["grantsOnApproval"]],
      [3, []],
      [4, ["grantsOnApproval"]],
      [5, ["decision", "grantsOnApproval"]],
      [6, ["decision"]],
    ]);
  });

  it("replays a decision log that writes the whole decision, grantsOnApproval and grantingRules included; changed to mint more on approval, it fails there", async () => {
    const engine = new Engine(policy);
    const requests: Request[] = [
      { time: "2026-01-05T09:00:00Z", session: "s", ...SMALL_PAYMENT },
      { time: "2026-01-05T09:00:01Z", session: "s", ...LARGE_PAYMENT },
      { time: "2026-01-05T09:00:02Z", session: "s", ...QUERY },
    ];
    const log = requests.map((request) => ({ ...request, ...engine.decide(request) }));
    expect(log[1]).toMatchObject({ decision: "ask", grants: [], grantsOnApproval: PAY, grantingRules: ["pay"] });
    const passing = await replayRecordings(policy, [recording(log)], { listCases: true });
    expect(passing.errors).toEqual([]);
    expect([passing.passed, passing.failed]).toEqual([3, 0]);

    const changed = log.map((line, i) => (i === 1 ? { ...line, grantsOnApproval: [{ scope: "payments:*", ttlSeconds: 86400 }] } : line));
    const failing = await replayRecordings(policy, [recording(changed)], { listCases: true });
    expect(failing.failures.map((f) => [f.line, f.mismatches])).toEqual([[2, ["grantsOnApproval"]]]);
  });

  it("`update` writes the actual grants on approval into the failed lines that have them (none for an allow), and into no line that does not", async () => {
    const file = recording([
      { session: "a", ...LARGE_PAYMENT, decision: "ask", grantsOnApproval: [{ scope: "payments:*", ttlSeconds: 86400 }] },
      { session: "b", ...SMALL_PAYMENT, decision: "ask", rules: ["pay-large-asks"], grantsOnApproval: PAY },
      { session: "c", ...LARGE_PAYMENT, decision: "allow", rules: ["pay"] },
      { session: "d", ...LARGE_PAYMENT },
    ]);
    const report = await replayRecordings(policy, [file], { update: true });
    expect(report.updated).toEqual([file]);
    expect(readFileSync(file, "utf8").split("\n").filter(Boolean).map((line) => JSON.parse(line) as Record<string, unknown>)).toEqual([
      { session: "a", ...LARGE_PAYMENT, decision: "ask", grantsOnApproval: PAY, rules: ["pay-large-asks"] },
      { session: "b", ...SMALL_PAYMENT, decision: "allow", rules: ["pay"], grantsOnApproval: [] },
      { session: "c", ...LARGE_PAYMENT, decision: "ask", rules: ["pay-large-asks"] },
      { session: "d", ...LARGE_PAYMENT, decision: "ask", rules: ["pay-large-asks"] },
    ]);
    const again = await replayRecordings(policy, [file]);
    expect([again.passed, again.failed, again.errors]).toEqual([4, 0, []]);
  });
});

describe("compareDecision: grants and revoked", () => {
  const decision = { decision: "allow" as const, rules: ["a"], reasons: ["ra"], locations: [], grants: READ, revoked: false, errors: [] };
  it("compares grants as a set of scope and lifetime pairs and revoked exactly, only when the line has them", () => {
    expect(compareDecision({ decision: "allow" }, decision)).toEqual([]);
    expect(compareDecision({ decision: "allow", grants: [READ[1]!, READ[0]!] }, decision)).toEqual([]);
    expect(compareDecision({ decision: "allow", grants: [READ[1]!] }, decision)).toEqual(["grants"]);
    expect(compareDecision({ decision: "allow", grants: [{ scope: "warehouse:read", ttlSeconds: 900 }, { scope: "warehouse:meta", ttlSeconds: 60 }] }, decision)).toEqual(["grants"]);
    expect(compareDecision({ decision: "allow", revoked: false }, decision)).toEqual([]);
    expect(compareDecision({ decision: "allow", revoked: true }, decision)).toEqual(["revoked"]);
    expect(compareDecision({ decision: "deny", rules: ["b"], reason: "rb", grants: [], revoked: true }, decision)).toEqual(["decision", "rules", "reason", "grants", "revoked"]);
  });

  it("compares grantsOnApproval with an ask's, and with none for an allow or a deny", () => {
    const ask = { ...decision, decision: "ask" as const, grants: [], grantsOnApproval: PAY, grantingRules: ["pay"] };
    expect(compareDecision({ decision: "ask", grantsOnApproval: [PAY[1]!, PAY[0]!] }, ask)).toEqual([]);
    expect(compareDecision({ decision: "ask", grantsOnApproval: [] }, ask)).toEqual(["grantsOnApproval"]);
    expect(compareDecision({ decision: "allow", grantsOnApproval: [] }, decision)).toEqual([]);
    expect(compareDecision({ decision: "allow", grantsOnApproval: READ }, decision)).toEqual(["grantsOnApproval"]);
    expect(compareDecision({ decision: "allow", grants: READ, grantsOnApproval: [], revoked: true }, ask)).toEqual(["decision", "grants", "grantsOnApproval", "revoked"]);
  });
});
