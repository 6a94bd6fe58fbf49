import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { compile, PolicyError } from "../../src/index.js";
import { cli, type CliResult } from "../helpers.js";

/**
 * Pathological but small policy files (the s19 robustness audit, findings 1, 2, 3 and 6): long
 * `and`/`or` chains, long call chains, long chains of records and deeply nested list types. Each
 * either works or gets a positioned diagnostic with exit code 1; none is an internal error.
 */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-deep-"));
  writeFileSync(join(dir, "request.json"), JSON.stringify({ session: "s", agent: { id: "a" }, tool: "t", args: { s: "x", n: -1, r: {} } }));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const HEAD = "agent { id: string }\ntool t { risk low args { s: string, n: int } }\n";

function run(name: string, text: string, command: string[]): Promise<CliResult> {
  writeFileSync(join(dir, name), text);
  return cli([...command.slice(0, 1), name, ...command.slice(1)], { cwd: dir });
}

function expectNoCrash(result: CliResult): void {
  expect(result.stdout + result.stderr).not.toContain("internal error");
  expect(result.stdout + result.stderr).not.toMatch(/^\s+at /m);
}

/** A condition of `terms` comparisons joined by `operator`. */
const chained = (terms: number, operator: "and" | "or"): string => `${HEAD}policy p { allow t when ${Array.from({ length: terms }, (_, i) => `args.n != ${i}`).join(` ${operator} `)} }\n`;

describe("a long `and`/`or` chain (finding 1: 6,000 terms crashed every command)", () => {
  it("8,000 `and` terms check, build and decide", async () => {
    const text = chained(8_000, "and");
    expect(await run("and.policy", text, ["check"])).toMatchObject({ code: 0, stdout: "ok: 1 file, 1 rule\n" });
    const built = await run("and.policy", text, ["build", "-o", "and.json"]);
    expectNoCrash(built);
    expect(built.code).toBe(0);
    expect(compile([{ path: "and.policy", text }]).decide({ session: "s", agent: { id: "a" }, tool: "t", args: { s: "x", n: -1 } }).decision).toBe("allow");
  });

  it("10,000 `or` terms check, and evaluate", async () => {
    const text = chained(10_000, "or");
    expect(await run("or.policy", text, ["check"])).toMatchObject({ code: 0 });
    const decided = await run("or.policy", text, ["eval", "-r", "request.json", "--json"]);
    expectNoCrash(decided);
    expect(JSON.parse(decided.stdout)).toMatchObject({ decision: "allow", errors: [] });
  });
});

describe("a long call chain (finding 2: 4,000 calls crashed check and fmt after PC106)", () => {
  const calls = (n: number): string => `${HEAD}policy p { allow t when args.s${".lower()".repeat(n)} == "a" }\n`;
  for (const command of [["check"], ["build", "-o", "chain.json"], ["eval", "-r", "request.json"], ["fmt"]]) {
    it(`5,000 calls: PC106 at the chain from \`policyc ${command[0]}\`, exit 1`, async () => {
      const result = await run("chain.policy", calls(5_000), command);
      expectNoCrash(result);
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).toContain("chain.policy:3:25: error[PC106]: expression nested more than 100 levels deep");
    });
  }

  it("100 calls still format", async () => {
    expect(await run("chain100.policy", calls(100), ["fmt"])).toMatchObject({ code: 0 });
  });

  it("from the library: a PolicyError, not a RangeError", () => {
    expect(() => compile([{ path: "chain.policy", text: calls(5_000) }])).toThrow(PolicyError);
  });
});

describe("a long chain of records, each holding the next (finding 3: check said ok for 2,000, build crashed)", () => {
  const records = (n: number): string =>
    `${Array.from({ length: n }, (_, i) => `type R${i} { x?: R${i + 1} }`).join("\n")}\ntype R${n} { y: int }\nagent { id: string }\ntool t { risk low args { r: R0 } }\npolicy p { allow t when args.r has x }\n`;

  it("5,000 records check, build and decide", async () => {
    const text = records(5_000);
    expect(await run("records.policy", text, ["check"])).toMatchObject({ code: 0 });
    const built = await run("records.policy", text, ["build", "-o", "records.json"]);
    expectNoCrash(built);
    expect(built.code).toBe(0);
    const decided = await run("records.policy", text, ["eval", "-r", "request.json", "--json"]);
    expect(JSON.parse(decided.stdout)).toMatchObject({ decision: "deny", errors: [] });
    const engine = compile([{ path: "records.policy", text }]);
    expect(engine.decide({ session: "s", agent: { id: "a" }, tool: "t", args: { r: { x: { x: {} } } } }).decision).toBe("allow");
  });
});

describe("a deeply nested list type (finding 6: PC106 at 1:1 from the parser's overflow)", () => {
  const nested = (levels: number): string => `agent { id: string }\ntool t { risk low args { r: ${"list<".repeat(levels)}int${">".repeat(levels)} } }\npolicy p { allow t }\n`;

  it("513 levels: PC106 at the 513th `<`, with help, from check and fmt; exit 1", async () => {
    for (const command of [["check"], ["fmt"]]) {
      const result = await run("list.policy", nested(513), command);
      expectNoCrash(result);
      expect(result.code).toBe(1);
      expect(result.stdout + result.stderr).toContain(`list.policy:2:${29 + 5 * 512 + 4}: error[PC106]: type nested more than 512 levels deep`);
      expect(result.stdout + result.stderr).toContain("help: no request may nest lists and records more than 512 levels deep");
    }
    expect(() => compile([{ path: "list.policy", text: nested(2_000) }])).toThrow(PolicyError);
  });

  it("a chain of 600 comparisons is not a deep type: it gets the parser's \"comparisons do not chain\" (review r4 LOW 2)", async () => {
    const comparisons = `agent { id: string }\ntool t { risk low args { l: list<int> } }\npolicy p { allow t when any(x in args.l: ${Array.from({ length: 600 }, () => "x").join(" < ")}) }\n`;
    const result = await run("comparisons.policy", comparisons, ["check"]);
    expectNoCrash(result);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).not.toContain("PC106");
    expect(result.stdout + result.stderr).toContain("comparisons.policy:3:48: error[PC103]");
    expect(result.stdout + result.stderr).toContain("help: comparisons do not chain: write `a < b and b < c`");
  });

  it("513 levels of sets and lists mixed: PC106 too", async () => {
    const mixed = `agent { id: string }\ntool t { risk low args { r: ${"set<list<".repeat(257)}int${">>".repeat(257)} } }\npolicy p { allow t }\n`;
    const result = await run("mixed.policy", mixed, ["check"]);
    expect(result.code).toBe(1);
    expect(result.stdout + result.stderr).toContain("error[PC106]: type nested more than 512 levels deep");
  });

  it("512 levels, as deep as a request may nest, check and build", async () => {
    expect(await run("list512.policy", nested(512), ["check"])).toMatchObject({ code: 0 });
    expect(await run("list512.policy", nested(512), ["build", "-o", "list.json"])).toMatchObject({ code: 0 });
  });
});
