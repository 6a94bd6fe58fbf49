import { describe, expect, it } from "vitest";
import { explain } from "../../src/runtime/explain.js";
import type { Engine } from "../../src/runtime/engine.js";
import { engineWith, request, sourcesWith, viaBundle } from "./fixtures.js";

/**
 * An error stays inside the smallest `and` / `or` / `any` / `all` that can settle without it
 * (docs/language.md, section 7 step 5): the order of the terms never changes a decision.
 * Checked through the generated code (`decide`, from sources and from a bundle) and the IR
 * interpreter (`explain`).
 */
const NO_USER = { user: undefined };

function engines(rules: string): Engine[] {
  return [engineWith(rules), viaBundle(sourcesWith(rules))];
}

/** The decision's effect and rules, after checking `explain` says the same rules matched. */
function outcome(engine: Engine, input: Record<string, unknown>): { decision: string; rules: readonly string[]; errors: number; revoked: boolean } {
  const traced = explain(engine, input).rules;
  const decision = engine.decide(input);
  for (const id of decision.rules) expect(traced.find((r) => r.id === id)?.matched, id).not.toBe(false);
  return { decision: decision.decision, rules: decision.rules, errors: decision.errors.length, revoked: decision.revoked };
}

describe("and / or / any / all with a term that fails", () => {
  it.each([
    ['"admin" in user.roles or agent.attested', "allow"],
    ['agent.attested or "admin" in user.roles', "allow"],
  ])("allow * when %s: a true term settles an or, written first or last", (condition, expected) => {
    for (const engine of engines(`  @name("r") allow * when ${condition}`)) {
      expect(outcome(engine, request(NO_USER))).toEqual({ decision: expected, rules: ["r"], errors: 0, revoked: false });
    }
  });

  it.each(['not agent.attested and "admin" in user.roles', '"admin" in user.roles and not agent.attested'])("deny * when %s: a false term settles an and, written first or last", (condition) => {
    for (const engine of engines(`  @name("r") deny * when ${condition}\n  @name("ok") allow *`)) {
      expect(outcome(engine, request(NO_USER))).toEqual({ decision: "allow", rules: ["ok"], errors: 0, revoked: false });
    }
  });

  it("when nothing settles it, the failure makes the rule an error: deny matches (and revokes, as a matched deny … revoke does), allow does not", () => {
    for (const engine of engines('  @name("d") deny * when "banned" in user.roles or not agent.attested revoke\n  @name("a") allow * when "admin" in user.roles or not agent.attested\n  @name("ok") allow *')) {
      expect(outcome(engine, request(NO_USER))).toMatchObject({ decision: "deny", rules: ["d"], errors: 1, revoked: true });
    }
  });

  it("a looping session without a user is revoked, whichever way round the rule is written", () => {
    for (const condition of ['user.roles contains "banned" or session.repeats >= 2', 'session.repeats >= 2 or user.roles contains "banned"']) {
      for (const engine of engines(`  @name("loop") deny * when ${condition} revoke\n  allow *`)) {
        const results = [0, 1, 2, 3].map((i) => outcome(engine, request({ ...NO_USER, time: `2026-11-29T10:00:0${i}Z` })));
        // Without a user the rule is an error from the first call, which fails closed: matched, so
        // revoked; the later denials keep the error the revoking rule matched through.
        expect(results.map((r) => [r.decision, r.errors, r.revoked])).toEqual([["deny", 1, true], ["deny", 1, true], ["deny", 1, true], ["deny", 1, true]]);
        expect(results[1]!.rules).toEqual(["loop"]);
        // With one, the repeats settle it on the third call.
        const withUser = [0, 1, 2, 3].map((i) => outcome(engine, request({ session: "u", time: `2026-11-29T10:00:0${i}Z` })));
        expect(withUser.map((r) => [r.decision, r.revoked])).toEqual([["allow", false], ["allow", false], ["deny", true], ["deny", true]]);
      }
    }
  });

  it("any / all over elements: an element that settles it does, even after one that failed", () => {
    const rules = [
      '  @name("any-host") allow http.get when any(u in [args.url, "https://ok.example/"]: url.host(u) == "ok.example")',
      '  @name("all-host") deny http.get when all(u in [args.url, "https://ok.example/"]: url.host(u) == "evil.example") reason "all evil"',
    ].join("\n");
    for (const engine of engines(rules)) {
      // url.host fails on the ambiguous URL; the second element settles `any` (true) and `all` (false).
      expect(outcome(engine, request({ tool: "http.get", args: { url: "https://a\\@evil.example/" } }))).toEqual({ decision: "allow", rules: ["any-host"], errors: 0, revoked: false });
    }
  });

  it("not keeps an error an error, and a rule's clauses settle three-valued too (when A and B unless C)", () => {
    for (const engine of engines('  @name("d") deny * when not ("admin" in user.roles)\n  @name("u") ask * when "x" in user.roles unless agent.attested\n  allow *')) {
      // d: not(error) is an error, so the deny matches; u: `unless agent.attested` (true) settles it as not matching.
      expect(outcome(engine, request(NO_USER))).toMatchObject({ decision: "deny", rules: ["d"], errors: 1 });
      expect(explain(engine, request({ ...NO_USER, session: "t" })).rules.find((r) => r.id === "u")?.matched).toBe(false);
    }
  });
});
