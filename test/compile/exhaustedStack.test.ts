import { describe, expect, it, vi } from "vitest";
import { compile, PolicyError } from "../../src/index.js";

// The safety net under the compiler's passes: a policy shaped in a way no nesting limit foresaw
// may still exhaust a recursive pass's stack. Stood in for here by a pass that always does.
vi.mock("../../src/compile/compileProgram.js", async (original) => ({
  ...(await original<typeof import("../../src/compile/compileProgram.js")>()),
  compileProgram: () => {
    throw new RangeError("Maximum call stack size exceeded");
  },
}));

describe("a stack exhausted while compiling (s19 audit a3, findings 1-3)", () => {
  it("is a PC106 at the longest rule, thrown as a PolicyError, not a RangeError", () => {
    const text = 'tool t {}\npolicy p {\n  deny t\n  deny t when "a" == "b" or "c" == "d"\n}\n';
    let thrown: unknown;
    try {
      compile([{ path: "p.policy", text }]);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(PolicyError);
    const [diagnostic] = (thrown as PolicyError).diagnostics.filter((d) => d.severity === "error");
    expect(diagnostic).toMatchObject({ code: "PC106", message: "this policy set is nested too deeply to compile" });
    expect(diagnostic!.span!.start).toBe(text.indexOf('deny t when'));
  });
});
