import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectGolden, runText } from "../goldens/golden.js";
import { cli, type CliResult } from "../helpers.js";
import { call, DECLS, SUPPORT_RULES } from "../runtime/fixtures.js";

/**
 * `policyc eval` as an incident responder uses it (audit s22 f2 #2, #3): which fields of the
 * request no rule saw, and the history's lines named by file and line.
 */
let dir: string;

const LOOKUP = call("crm.lookup", 0, { session: "s1" });
const MAIL: Record<string, unknown> = { ...call("email.send", 1000, { session: "s1" }), args: { to: ["bob@acme.com"], subject: "Refund", body: "Hi", bcc: ["eve@evil.example"] } };
const SENDS_SECRETS = {
  ...MAIL,
  agent: { ...(MAIL["agent"] as object), token: "tok-SECRET-1" },
  context: { ...(MAIL["context"] as object), trace_id: "trace-SECRET-2" },
};

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-eval-forensics-"));
  writeFileSync(join(dir, "decls.policy"), DECLS);
  writeFileSync(join(dir, "support.policy"), SUPPORT_RULES);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function evaluate(args: string[], stdin?: string): Promise<CliResult> {
  return cli(["eval", "decls.policy", "support.policy", ...args], { cwd: dir, ...(stdin === undefined ? {} : { stdin }) });
}

function write(name: string, lines: readonly string[]): void {
  writeFileSync(join(dir, name), lines.join("\n") + "\n");
}

const json = (value: unknown): string => JSON.stringify(value);

describe("eval names the undeclared fields the rules ignored (audit s22 f2 #2)", () => {
  it("in the text explanation and in --json, by path and never by value, and the decision is the same as without them", async () => {
    const text = await evaluate(["-r", "-"], json(SENDS_SECRETS));
    expect(text.code).toBe(0);
    expectGolden("eval-undeclared-fields", runText(text));
    expect(text.stdout).toContain("  ignored, as the policies do not declare them (no rule saw them): agent.token, context.trace_id, args.bcc\n");
    expect(text.stdout + text.stderr).not.toMatch(/SECRET|evil\.example/);
    const asJson = await evaluate(["-r", "-", "--json"], json(SENDS_SECRETS));
    const output = JSON.parse(asJson.stdout) as Record<string, unknown>;
    expect(output["undeclaredFields"]).toEqual(["agent.token", "context.trace_id", "args.bcc"]);
    expect(asJson.stdout).not.toMatch(/SECRET|evil\.example/);
    const plain = JSON.parse((await evaluate(["-r", "-", "--json"], json({ ...MAIL, args: { to: ["bob@acme.com"], subject: "Refund", body: "Hi" } }))).stdout) as Record<string, unknown>;
    expect(plain["undeclaredFields"]).toEqual([]);
    const { undeclaredFields: _a, ...decided } = output;
    const { undeclaredFields: _b, ...decidedPlain } = plain;
    expect(decided).toEqual(decidedPlain);
  });

  it("says nothing of them when there are none", async () => {
    const result = await evaluate(["-r", "-"], json(LOOKUP));
    expect(result.stdout).not.toContain("ignored, as the policies do not declare them");
  });

  it("a long list is cut after twenty, with a count", async () => {
    const args: Record<string, unknown> = { to: ["bob@acme.com"], subject: "s", body: "b" };
    for (let i = 0; i < 25; i++) args[`x${i}`] = i;
    const result = await evaluate(["-r", "-"], json({ ...MAIL, args }));
    expect(result.stdout).toContain("args.x19 … and 5 more\n");
  });

  it("test's explanation of a failing line names them too", async () => {
    write("failing.jsonl", [json({ ...SENDS_SECRETS, decision: "deny" })]);
    const result = await cli(["test", "decls.policy", "support.policy", "--replay", "failing.jsonl"], { cwd: dir });
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("because ignored, as the policies do not declare them (no rule saw them): agent.token, context.trace_id, args.bcc\n");
    const asJson = JSON.parse((await cli(["test", "decls.policy", "support.policy", "--replay", "failing.jsonl", "--json"], { cwd: dir })).stdout) as { failures: { explanation: string }[] };
    expect(asJson.failures[0]?.explanation).toContain("ignored, as the policies do not declare them (no rule saw them): agent.token, context.trace_id, args.bcc");
  });
});

describe("eval's history, named by file and line (audit s22 f2 #3)", () => {
  it("a torn line of the history exits 2, naming FILE:LINE and the code, in text and --json", async () => {
    write("torn.jsonl", [json(LOOKUP), "", json(LOOKUP).slice(0, 40), json(MAIL)]);
    const result = await evaluate(["-r", "torn.jsonl"]);
    expect(result).toMatchObject({ code: 2, stdout: "" });
    expect(result.stderr).toBe("torn.jsonl:3: error[PC601]: not JSON at column 41: the line ends inside a string\n");
    const asJson = await evaluate(["-r", "torn.jsonl", "--json"]);
    expect(asJson.code).toBe(2);
    expect(JSON.parse(asJson.stdout)).toEqual({ ok: false, code: "PC601", file: "torn.jsonl", line: 3, reason: "torn.jsonl:3: not JSON at column 41: the line ends inside a string" });
    const piped = await evaluate(["-r", "-"], [json(LOOKUP), "{oops"].join("\n"));
    expect(piped.stderr).toBe("standard input:2: error[PC601]: not JSON at column 2: unexpected `oops` where a property name in double quotes belongs\n");
  });

  it("notes name the history's lines by FILE:LINE (blank lines counted), and say when the history holds no line of the session (golden)", async () => {
    // A log whose lines record other decisions than this policy's (line 4 and the last), with a blank line, and the last of another session.
    write("log.jsonl", [
      json({ ...LOOKUP, decision: "allow", rules: ["lookup-for-tickets"] }),
      "",
      "",
      json({ ...call("crm.lookup", 500, { session: "s1" }), decision: "deny", rules: ["rate"] }),
      json({ ...call("crm.lookup", 900, { session: "s9" }), decision: "deny", rules: ["loop"] }),
    ]);
    const result = await evaluate(["-r", "log.jsonl"]);
    expect(result.code).toBe(0);
    expectGolden("eval-history-lines", `${runText(result)}--- stderr ---\n${result.stderr}`);
    // log.jsonl may be a slice of a longer log: the hint names no line number of a log it has not seen.
    expect(result.stderr).toContain("if it is line N of a log FILE that holds earlier lines of the session, give FILE up to that line: head -n N FILE | policyc eval … -r -\n");
    expect(result.stderr).toContain("policyc eval: note: log.jsonl:4: the log says deny [rate]");
    expect(result.stderr).toContain("policyc eval: note: log.jsonl:5 (the last): the log says deny [loop]");
    expect(result.stderr).not.toContain("request ");
    // The history was given: the note does not say there was none, nor to give the log up to the line.
    expect(result.stderr).toContain("the 2 lines before it hold no line of session s9");
    expect(result.stderr).not.toContain("no history");
  });
});
