import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { analyze } from "../../src/check/analyze.js";
import { cli, cpuMilliseconds } from "../helpers.js";

/**
 * The checker's cost on generated schemas of thousands of names (the scale audit of session
 * 16), guarded by CPU time rather than wall-clock time, which other jobs on the machine stretch.
 */

const TOOL = "tool kb.search { risk low args { q: string } }\n";

/** `type T0 { c: T1 } … type T(n-1) { leaf: int }`, each record requiring the next; `closed` makes the last require T0. */
function chain(records: number, closed = false): string {
  const types = Array.from({ length: records }, (_, i) => `type T${i} { ${i + 1 < records ? `c: T${i + 1}` : closed ? "c: T0" : "leaf: int"} }`);
  return `${types.join("\n")}\ncontext { t?: T0 }\n${TOOL}policy p { deny kb.search when context has t reason "x" }\n`;
}

describe("a chain of records each requiring the next (audit s16 F2)", () => {
  it("3,000 records check in linear time (68 s before, when each record searched the chain again)", () => {
    const started = cpuMilliseconds();
    expect(analyze([{ path: "t.policy", text: chain(3_000) }]).diagnostics).toEqual([]);
    expect(cpuMilliseconds() - started).toBeLessThan(6_000);
  });

  it("closed into a ring of 3,000, it is one PC215 at T0 that names the whole ring, found as quickly", () => {
    const started = cpuMilliseconds();
    const found = analyze([{ path: "t.policy", text: chain(3_000, true) }]).diagnostics;
    expect(cpuMilliseconds() - started).toBeLessThan(6_000);
    expect(found.map((d) => d.code)).toEqual(["PC215"]);
    expect(found[0]!.message).toBe(`record type \`T0\` has no possible value: its required attributes lead back to it: ${Array.from({ length: 10 }, (_, i) => `\`T${i}.c\``).join(" → ")} → … (2,989 more) → \`T2999.c\` → \`T0\`, without end`);
  });

  it("a chain and a ring of 10,000 records check without running out of stack", () => {
    expect(analyze([{ path: "t.policy", text: chain(10_000) }]).diagnostics).toEqual([]);
    expect(analyze([{ path: "t.policy", text: chain(10_000, true) }]).diagnostics.map((d) => d.code)).toEqual(["PC215"]);
  });

  it("a knot and a separate self-needing record are each reported once, where the declarations come first", () => {
    const text = `type A { b: B, n?: int }\ntype B { a: A }\ntype C { c: C }\ntype D { a: A }\ntool t { risk low args { a: A, c: C, d: D } }\npolicy p { allow t }\n`;
    const found = analyze([{ path: "t.policy", text }]).diagnostics.filter((d) => d.code === "PC215");
    expect(found.map((d) => d.message)).toEqual([
      "record type `A` has no possible value: its required attributes lead back to it: `A.b` → `B.a` → `A`, without end",
      "record type `C` has no possible value: its required `c` is a `C` again, without end",
    ]);
  });
});

describe("did-you-mean advice is worked out for the diagnostics shown (audit s16 F3)", () => {
  const dir = mkdtempSync(join(tmpdir(), "policyc-scale-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // 10,000 context attributes and 1,000 misspellings of them, each a different name.
  const attributes = Array.from({ length: 10_000 }, (_, i) => `attr_${i}: int`).join(", ");
  const rules = Array.from({ length: 1_000 }, (_, i) => `  deny kb.search when context.atr_${i} > 1 reason "x"`).join("\n");
  writeFileSync(join(dir, "typos.policy"), `context { ${attributes} }\n${TOOL}policy p {\n${rules}\n}\n`);

  it("policyc check shows 50 errors with their advice, in CPU time that does not grow with the errors not shown (8 s before)", async () => {
    const started = cpuMilliseconds();
    const result = await cli(["check", "typos.policy"], { cwd: dir });
    expect(cpuMilliseconds() - started).toBeLessThan(5_000);
    expect(result.code).toBe(1);
    expect(result.stdout.match(/help: did you mean `attr_\d+`\?/g)).toHaveLength(50);
    expect(result.stdout).toContain("help: did you mean `attr_49`?");
    expect(result.stdout).toContain("950 more diagnostics not shown (950 errors, 0 warnings)");
  });

  it("a diagnostic from analyze() that a caller freezes still reads its help, or its absence (review r5 R3)", () => {
    const text = `context { region: string }\n${TOOL}policy p {\n  deny kb.search when context.regoin == "x" reason "x"\n  deny kb.search when context.zzzzzzzz == "x" reason "x"\n}\n`;
    const [near, far] = analyze([{ path: "f.policy", text }]).diagnostics.filter((d) => d.code === "PC202");
    Object.freeze(near);
    Object.freeze(far);
    expect(near!.help).toBe("did you mean `region`?");
    expect(near!.help).toBe("did you mean `region`?");
    expect(far!.help).toBeUndefined();
    expect(JSON.parse(JSON.stringify(far))).not.toHaveProperty("help");
  });

  it("--json, which lists them all, still gives each its advice", async () => {
    const few = Array.from({ length: 300 }, (_, i) => `attr_${i}: int`).join(", ");
    writeFileSync(join(dir, "few.policy"), `context { ${few} }\n${TOOL}policy p {\n${rules.split("\n").slice(0, 80).join("\n")}\n}\n`);
    const result = await cli(["check", "few.policy", "--json"], { cwd: dir });
    const diagnostics = (JSON.parse(result.stdout) as { diagnostics: { help?: string }[] }).diagnostics;
    expect(diagnostics).toHaveLength(80);
    expect(diagnostics.map((d) => d.help)).toEqual(Array.from({ length: 80 }, (_, i) => `did you mean \`attr_${i}\`?`));
  });
});
