import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/check/analyze.js";
import { compileProgram } from "../../src/compile/compileProgram.js";
import { Engine } from "../../src/runtime/engine.js";
import { explain } from "../../src/runtime/explain.js";
import type { DiagnosticJson } from "../../src/diagnostics/render.js";
import { cli, type CliResult } from "../helpers.js";

/**
 * Mistakes the checker once let through (audit a3, session 15): each is now refused by
 * `policyc check` with a code and a span, and never reaches the compiler as an internal error.
 */

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-soundness-"));
});
afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** Declarations shared by the cases: records with optional fields, a tool reading them. */
const DECLS = `enum Zone { internal, external }
type Destination { host: string, zone: Zone }
type Rec { name: string, destination?: Destination }
tool t.x { risk high args { recs: list<Rec>, s: string, l: list<string>, n: int } }
tool kb.search { risk low args { query: string } }
`;

function write(name: string, text: string): string {
  writeFileSync(join(dir, name), text);
  return name;
}

/** `policyc check --json` of the declarations and `rules` in one policy. */
async function check(rules: string): Promise<{ result: CliResult; diagnostics: DiagnosticJson[] }> {
  const file = write(`case${Math.random().toString(36).slice(2)}.policy`, `${DECLS}policy p {\n${rules}\n}\n`);
  const result = await cli(["check", "--json", file], { cwd: dir });
  return { result, diagnostics: (JSON.parse(result.stdout) as { diagnostics: DiagnosticJson[] }).diagnostics };
}

const errorsOf = (diagnostics: readonly DiagnosticJson[]): string[] => diagnostics.filter((d) => d.severity === "error").map((d) => d.code);

/** The audit's request: one record with a destination, one without. */
const REQUEST = { session: "s1", tool: "t.x", args: { recs: [{ name: "a", destination: { host: "h", zone: "internal" } }, { name: "b" }], s: "x", l: [], n: 1 } };

describe("a quantifier that reuses a variable's name does not inherit its guards (F1)", () => {
  const SHADOWED = "any(x in args.recs: x has destination and all(x in args.recs: x.destination.zone == internal))";

  it("the inner unguarded read is PC303, in an ask and in a deny … revoke", async () => {
    for (const rule of [`  allow t.x\n  ask t.x when ${SHADOWED}`, `  allow t.x\n  deny t.x when ${SHADOWED} revoke`]) {
      const { result, diagnostics } = await check(rule);
      expect(result.code, result.stdout).toBe(1);
      const pc303 = diagnostics.find((d) => d.code === "PC303")!;
      expect(pc303.message).toBe("`destination` is optional and may be absent: guard it with `x has destination`");
      // The inner `x.destination`, not the outer guard.
      expect(pc303.line).toBe(8);
      expect(pc303.column).toBe(rule.split("\n")[1]!.indexOf("x.destination.zone") + 1);
    }
  });

  it("so does the `not (x has f) or …` form of the guard", async () => {
    const { diagnostics } = await check("  deny t.x when any(x in args.recs: not (x has destination) or any(x in args.recs: x.destination.zone == internal))");
    expect(errorsOf(diagnostics)).toEqual(["PC303"]);
  });

  it("a guard on a root is dropped where a variable hides that root; other guards still hold", async () => {
    expect(errorsOf((await check("  deny t.x when any(r in args.recs: r has destination and any(x in args.recs: r.destination.zone == internal))")).diagnostics)).toEqual([]);
    expect(errorsOf((await check("  deny t.x when any(r in args.recs: r has destination and any(y in args.recs: y.destination.zone == internal))")).diagnostics)).toEqual(["PC303"]);
  });

  it("past the checker, the engine fails closed where its explanation says the rule failed", () => {
    // The compiled code once read `x.destination.zone` of the record without one as absent, and
    // allowed the call that its own explanation said a deny … revoke matched (failing closed).
    for (const [effect, decision, revoked] of [["ask", "ask", false], ["deny", "deny", true]] as const) {
      const text = `${DECLS}policy p {\n  allow t.x\n  ${effect} t.x when ${SHADOWED}${effect === "deny" ? " revoke" : ""}\n}\n`;
      const analysis = analyze([{ path: "p.policy", text }]);
      expect(analysis.ok).toBe(false);
      const policy = compileProgram(analysis.program!);
      const decided = new Engine(policy).decide(REQUEST);
      const explained = explain(new Engine(policy), REQUEST);
      expect(explained.rules.map((r) => [r.id, r.matched])).toEqual([["p/1", true], ["p/2", "error"]]);
      expect({ decision: decided.decision, rules: decided.rules, revoked: decided.revoked }).toEqual({ decision, rules: ["p/2"], revoked });
      expect(decided.errors).toEqual(["p/2: evaluation failed: Cannot read properties of undefined (reading 'zone')"]);
    }
  });
});
