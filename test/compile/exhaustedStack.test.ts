import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { compile, PolicyError } from "../../src/index.js";
import { cli } from "../helpers.js";

// The safety net under the compiler's passes: a policy shaped in a way no nesting limit foresaw
// may still exhaust a recursive pass's stack. Stood in for here by a pass that always does, as
// a compiler bug that recurses without end would, whatever the policy.
vi.mock("../../src/compile/compileProgram.js", async (original) => ({
  ...(await original<typeof import("../../src/compile/compileProgram.js")>()),
  compileProgram: () => {
    throw new RangeError("Maximum call stack size exceeded");
  },
}));

let dir: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "policyc-stack-"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A rule of 1,500 `or` terms: over 2,000 characters, so it could nest past the 1,000 levels the passes are known to walk. */
const DEEP = `tool t { args { n: int } }\npolicy p {\n  deny t\n  deny t when ${Array.from({ length: 1_500 }, (_, i) => `args.n == ${i}`).join(" or ")}\n}\n`;
/** The same rule cut to 10 terms: no pass could exhaust a stack on it. */
const SHALLOW = `tool t { args { n: int } }\npolicy p {\n  deny t\n  deny t when ${Array.from({ length: 10 }, (_, i) => `args.n == ${i}`).join(" or ")}\n}\n`;
/** 1,001 records (though none holds another): a chain of records could be that long. */
const MANY_RECORDS = `${Array.from({ length: 1_001 }, (_, i) => `type R${i} { x: int }`).join("\n")}\ntool t { args { r: R0 } }\npolicy p { deny t }\n`;

describe("a stack exhausted while compiling (s19 audit a3, findings 1-3)", () => {
  it("of a set deep enough to exhaust it: a PC106 at the longest rule, thrown as a PolicyError, not a RangeError", () => {
    let thrown: unknown;
    try {
      compile([{ path: "p.policy", text: DEEP }]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PolicyError);
    const [diagnostic] = (thrown as PolicyError).diagnostics.filter((d) => d.severity === "error");
    expect(diagnostic).toMatchObject({ code: "PC106", message: "this policy set is nested too deeply to compile" });
    expect(diagnostic!.span!.start).toBe(DEEP.indexOf("deny t when"));
  });

  it("of a set of more than 1,000 records: a PC106 too", () => {
    expect(() => compile([{ path: "p.policy", text: MANY_RECORDS }])).toThrow(PolicyError);
  });

  // Review r4 LOW 3: a compiler bug that recurses without end was reported as a PC106 on a
  // four-line policy, telling its user to split chains they do not have.
  it("of a set too shallow to exhaust it: a bug, which stays a RangeError from the library and from the CLI's build", async () => {
    expect(() => compile([{ path: "p.policy", text: SHALLOW }])).toThrow(RangeError);
    writeFileSync(join(dir, "shallow.policy"), SHALLOW);
    // `cli` runs the verbs in this process: the error reaches the top, whose handler in bin says
    // "internal error … please report this".
    await expect(cli(["build", "shallow.policy", "-o", "shallow.json"], { cwd: dir })).rejects.toThrow(RangeError);
  });
});
