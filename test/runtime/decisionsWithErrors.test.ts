import { describe, expect, it } from "vitest";
import { compile } from "../../src/compile/compile.js";
import type { Engine } from "../../src/runtime/engine.js";

/**
 * A decision with errors is built afresh for each attempt (its errors are its own), where other
 * decisions are shared per combination of rules: these pin what the fresh one says, which the
 * engine works out with kept reasons and without lists made per rule.
 */
function engineFor(text: string): Engine {
  return compile([{ path: "p.policy", text }]);
}

const SCHEMA = `user { id: string }
tool a.one { risk low args { } }
tool b.two { risk low args { } }
`;

describe("decisions with errors", () => {
  it("give a rule that writes no reason the reason of the tool asked, whichever tool came first", () => {
    const engine = engineFor(`${SCHEMA}policy p {
  @name("both") ask a.one, b.two when user.id != "boss"
  allow a.one, b.two
}
`);
    for (const [i, tool] of ["a.one", "b.two", "b.two", "a.one"].entries()) {
      // Without a user the rule fails closed: an ask that tells why, afresh each time.
      expect(engine.decide({ session: `s${i}`, tool, args: {} })).toMatchObject({ decision: "ask", rules: ["both"], reasons: [`${tool} needs a human's approval (both)`], errors: ["both: the request has no user"] });
    }
  });

  it("tell a rule's own errors from those of a rule whose id starts with its id: only a revoking rule that matched cleanly revokes", () => {
    const engine = engineFor(`${SCHEMA}policy p {
  @name("cut") deny a.one revoke
  @name("cut-user") deny a.one when user.id != "boss" revoke
}
`);
    const first = engine.decide({ session: "s", tool: "a.one", args: {} });
    expect(first).toMatchObject({ decision: "deny", rules: ["cut", "cut-user"], revoked: true, errors: ["cut-user: the request has no user"] });
    // The revocation names the rule that matched cleanly ("cut"), not the one matched through its error.
    expect(engine.decide({ session: "s", tool: "b.two", args: {} })).toMatchObject({ decision: "deny", rules: ["cut"], revoked: true });
  });
});
