import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Engine, type EngineOptions } from "../../src/runtime/engine.js";
import { partitionOf } from "../../src/testing/sessionOfLine.js";
import { bin, cli, compileFixture } from "../helpers.js";

// A decision log replays as a test only with the engine options of the enforcement point that
// wrote it: each log below is written by an engine with one option set, as a gateway writes
// its log (its own clock stamps `time`), and replays green with the matching flag, red without.

const POLICY = `tool kb.search { risk low args { query: string } }
tool shell.exec { risk high args { cmd: string } }
policy p {
  @name("rate") deny kb.search when session.count(within 1h) > 100 reason "too many searches"
  @name("no-rm") deny shell.exec when args.cmd like "rm *" reason "destructive command" revoke
  @name("kb") allow kb.search
}
`;
/** The same set, with searches asked about: what `diff` compares the log with. */
const ASKING = POLICY.replace('@name("kb") allow kb.search', '@name("kb") ask kb.search reason "check"');

let dir: string;
let policyPath: string;
let askingPath: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-replay-options-"));
  policyPath = join(dir, "p.policy");
  askingPath = join(dir, "asking.policy");
  writeFileSync(policyPath, POLICY);
  writeFileSync(askingPath, ASKING);
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const search = (session: string): Record<string, unknown> => ({ session, tool: "kb.search", args: { query: "q" } });
const remove = (session: string): Record<string, unknown> => ({ session, tool: "shell.exec", args: { cmd: "rm -rf /" } });

/**
 * The decision log a gateway with `options` writes for `steps` (a request, or a number of ms
 * its clock moves on): each request stamped with the gateway's clock (a day long past, so no
 * wall clock caps the replay's), then the decision's `decision`, `rules` and `reasons`.
 */
function gatewayLog(name: string, options: EngineOptions, steps: readonly (Record<string, unknown> | number)[]): { path: string; lines: Record<string, unknown>[] } {
  let now = Date.UTC(2025, 0, 6, 9, 0);
  const engine = new Engine(compileFixture(POLICY), { ...options, clock: () => now });
  const lines: Record<string, unknown>[] = [];
  for (const step of steps) {
    if (typeof step === "number") {
      now += step;
      continue;
    }
    const request = { time: new Date(now).toISOString(), ...step };
    const decision = engine.decide(request);
    lines.push({ ...request, decision: decision.decision, rules: decision.rules, reasons: decision.reasons });
  }
  const path = join(dir, `${name}.jsonl`);
  writeFileSync(path, lines.map((line) => JSON.stringify(line)).join("\n") + "\n");
  return { path, lines };
}

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

/**
 * Each option as a gateway sets it, the flag that replays it (after `base`, the gateway's other
 * options), and a log whose last line it decides otherwise.
 */
const CASES = [
  {
    option: "maxSessions",
    base: [],
    flags: ["--max-sessions", "2"],
    // A third session is refused while two are live; the first goes on.
    log: () => gatewayLog("max-sessions", { maxSessions: 2 }, [search("a"), search("b"), search("a"), search("c")]),
  },
  {
    option: "expiredSessionMs",
    base: ["--session-idle", "1m"],
    flags: ["--expired-session", "2m"],
    // Expired after 90 s without an attempt; forgotten 2 minutes (and the idle time) after its last one: a new session.
    log: () => gatewayLog("expired-session", { sessionIdleMs: MINUTE, expiredSessionMs: 2 * MINUTE }, [search("a"), 1.5 * MINUTE, search("a"), 3.5 * MINUTE, search("a")]),
  },
  {
    option: "revokedSessionMs",
    base: [],
    flags: ["--revoked-session", "1m"],
    // Revoked, then forgotten once a day has passed (the expired sessions' default): a new session two days later.
    log: () => gatewayLog("revoked-session", { revokedSessionMs: MINUTE }, [remove("a"), search("a"), 2 * DAY, search("a")]),
  },
  {
    option: "maxWindowEntries",
    base: [],
    flags: ["--max-window-entries", "3"],
    // The window keeps 3 attempts: past them, a count reaching back before the oldest fails closed.
    log: () => gatewayLog("max-window-entries", { maxWindowEntries: 3 }, [search("a"), 1000, search("a"), 1000, search("a"), 1000, search("a"), 1000, search("a")]),
  },
] as const;

describe("policyc test, diff and eval replay a log with the engine options the gateway that wrote it used", () => {
  it.each(CASES)("$option: the log replays green with $flags, red without", async ({ base, flags, log }) => {
    const { path, lines } = log();
    const green = await cli(["test", policyPath, "--replay", path, ...base, ...flags]);
    expect(green.code, green.stdout + green.stderr).toBe(0);
    expect(green.stdout).toContain(`${lines.length} passed, 0 failed`);
    const red = await cli(["test", policyPath, "--replay", path, ...base]);
    expect(red.code).toBe(1);
    expect(red.stdout).toContain(`✗ line ${lines.length}:`);
  });

  it.each(CASES)("$option: eval decides the history's last line as the gateway did with $flags, otherwise not", async ({ base, flags, log }) => {
    const { path, lines } = log();
    const last = lines.at(-1)!;
    const decide = async (...extra: string[]): Promise<{ decision: string; rules: string[] }> => {
      const result = await cli(["eval", policyPath, "--request", path, "--json", ...base, ...extra]);
      expect(result.code, result.stderr).toBe(0);
      const { decision, rules } = JSON.parse(result.stdout) as { decision: string; rules: string[] };
      return { decision, rules };
    };
    expect(await decide(...flags)).toEqual({ decision: last["decision"], rules: last["rules"] });
    expect(await decide()).not.toEqual({ decision: last["decision"], rules: last["rules"] });
  });

  it.each(CASES)("$option: diff counts only the decisions a gateway with $flags made differently", async ({ base, flags, log }) => {
    // Asking about searches changes every search the gateway allowed, not those its option refused.
    const { path, lines } = log();
    const allowed = lines.filter((l) => l["decision"] === "allow").length;
    const changes = async (...extra: string[]): Promise<number> => {
      const result = await cli(["diff", policyPath, askingPath, "--replay", path, "--json", ...base, ...extra]);
      expect(result.code, result.stderr).toBe(0);
      return (JSON.parse(result.stdout) as { changed: number }).changed;
    };
    expect(await changes(...flags)).toBe(allowed);
    expect(await changes()).not.toBe(allowed);
  });
});

describe("--revoked-session forever", () => {
  it("is the default, said as the help says it (review a4 F8): the log replays as without the flag, in test, diff and eval", async () => {
    const { path } = CASES.find((c) => c.option === "revokedSessionMs")!.log();
    for (const verb of [["test", policyPath, "--replay", path], ["diff", policyPath, askingPath, "--replay", path, "--json"], ["eval", policyPath, "--request", path, "--json"]]) {
      const without = await cli(verb);
      expect(await cli([...verb, "--revoked-session", "forever"]), verb[0]).toEqual(without);
    }
    const help = await cli(["test", "--help"]);
    expect(help.stdout.replace(/\s+/g, " ")).toContain("(a duration, or forever: the default)");
  });
});

describe("--max-sessions counts the live sessions of the whole log", () => {
  // Six sessions, two live at most: the first two start, the others are refused.
  const sessions = ["s0", "s1", "s2", "s3", "s4", "s5"];
  const log = (): { path: string; lines: Record<string, unknown>[] } => gatewayLog("six-sessions", { maxSessions: 2 }, sessions.map(search));

  it("replays the same on any number of threads: the built binary replays on one (a thread with a share of the sessions would admit more)", () => {
    const { path, lines } = log();
    expect(lines.filter((l) => l["decision"] === "deny")).toHaveLength(4);
    // The premise: each of 2 or 3 shares lacks a session live in production, so a share replayed alone would start one of its refused ones.
    for (const count of [2, 3]) {
      const admitsMore = (share: number): boolean => sessions.slice(0, 2).filter((s) => partitionOf(s, count) === share).length < 2 && sessions.slice(2).some((s) => partitionOf(s, count) === share);
      expect(Array.from({ length: count }, (_, share) => share).some(admitsMore), `${count} shares`).toBe(true);
    }
    for (const jobs of ["1", "2", "3"]) {
      const result = bin(["test", policyPath, "--replay", path, "--jobs", jobs, "--max-sessions", "2"]);
      expect(result.code, `--jobs ${jobs}: ${result.stdout}${result.stderr}`).toBe(0);
      expect(result.stdout).toContain("6 passed, 0 failed");
      const diff = bin(["diff", policyPath, askingPath, "--replay", path, "--jobs", jobs, "--max-sessions", "2", "--json"]);
      expect((JSON.parse(diff.stdout) as { changed: number }).changed, `diff --jobs ${jobs}`).toBe(2);
    }
  });

  it("--session replays the other sessions too (unreported), so a session refused in production is refused again", async () => {
    const { path } = log();
    const result = await cli(["test", policyPath, "--replay", path, "--session", "s4", "--max-sessions", "2"]);
    expect(result.code, result.stdout).toBe(0);
    expect(result.stdout).toContain("1 passed, 0 failed");
  });

  it("a failure is explained with every session replayed before it", async () => {
    // Line 4 (s3, refused) now expects an allow: the explanation says the session could not start.
    const { path, lines } = log();
    const edited = join(dir, "six-sessions-failing.jsonl");
    writeFileSync(edited, lines.map((l, i) => JSON.stringify(i === 3 ? { ...l, decision: "allow", rules: ["kb"] } : l)).join("\n") + "\n");
    const result = await cli(["test", policyPath, "--replay", edited, "--max-sessions", "2"]);
    expect(result.code).toBe(1);
    expect(result.stdout).toContain("1 failed");
    // (Not the explanation of s3 started afresh: the pass that explains replays s0 to s2 first.)
    expect(result.stdout).toContain('because the request was denied before any rule ran: session "s3" cannot start: the engine already holds 2 live sessions (maxSessions)');
  });
});

describe("the engine options' flags refuse values that are not one (exit 2, saying what they take)", () => {
  const recording = (): string => gatewayLog("plain", {}, [search("a")]).path;
  const counts = ["--max-sessions", "--max-window-entries"].flatMap((flag) => [
    ...["0", "-1", "1.5", "x", "1e3"].map((value) => [flag, value, "takes a whole number of at least 1"] as const),
    // Too large to hold exactly: told the bound it passed.
    [flag, "99999999999999999999", `takes a whole number of at least 1 and at most ${Number.MAX_SAFE_INTEGER}`] as const,
  ]);
  const durations = ["--expired-session", "--revoked-session", "--session-idle"].flatMap((flag) => [
    ...["0s", "5x", "1.5h", "h", "-1m", "90", ...(flag === "--revoked-session" ? ["Forever", "never"] : ["forever"])].map((value) => [flag, value, `takes a duration such as 90m, 8h or 2d (more than zero)${flag === "--revoked-session" ? ", or forever" : ""}`] as const),
    // A duration, but longer than the engine's 100 years (review r3 R4), or too long to hold in milliseconds exactly: told the bound it passed.
    ...["36526d", "876625h", "1000000000d", "104249992d", "99999999999999999999ms"].map((value) => [flag, value, "takes a duration of at most 36525d (100 years)"] as const),
  ]);

  it.each([...counts, ...durations])("%s %j", async (flag, value, takes) => {
    for (const verb of [["test", policyPath], ["diff", policyPath, policyPath], ["eval", policyPath]]) {
      const input = verb[0] === "eval" ? ["--request", recording()] : ["--replay", recording()];
      const result = await cli([...verb, `${flag}=${value}`, ...input]);
      expect(result.code, `${verb[0]}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toBe(`policyc ${verb[0]}: ${flag} ${takes}, not \`${value}\`\n`);
    }
  });
});
