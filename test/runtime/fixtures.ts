import { createBundle, serializeBundle } from "../../src/bundle/writeBundle.js";
import { loadBundle } from "../../src/bundle/loadBundle.js";
import { compile, compileSources } from "../../src/compile/compile.js";
import type { EngineOptions, Engine } from "../../src/runtime/engine.js";
import type { CompiledPolicy } from "../../src/runtime/policy.js";

/**
 * Shared inputs for the compiler, runtime and bundle tests: the declarations of the language
 * contract (a copy of the shared conformance `errors/decls.policy`, so these tests run without
 * the shared folder), the contract's rules, and request builders.
 */
// One copy of the contract's declarations and rules serves every test (test/fixtures.ts).
export { DECLS, CONTRACT_POLICY as SUPPORT_RULES } from "../fixtures.js";
import { DECLS, CONTRACT_POLICY as SUPPORT_RULES } from "../fixtures.js";

export const SUPPORT_SOURCES = [
  { path: "decls.policy", text: DECLS },
  { path: "support.policy", text: SUPPORT_RULES },
] as const;

/** Sources: the contract's declarations (plus `extraDecls`) and `rules` inside `policy p { … }` in t.policy. */
export function sourcesWith(rules: string, extraDecls = ""): { path: string; text: string }[] {
  return [
    { path: "decls.policy", text: DECLS + extraDecls },
    { path: "t.policy", text: `policy p {\n${rules}\n}\n` },
  ];
}

/** An engine for `rules` (inside `policy p`, so unnamed rules are `p/1`, `p/2`, …) over the contract's declarations. */
export function engineWith(rules: string, options?: EngineOptions, extraDecls = ""): Engine {
  return compile(sourcesWith(rules, extraDecls), options);
}

/** The compiled policy (no engine) for `rules`; throws with the diagnostics when it does not compile. */
export function policyWith(rules: string, extraDecls = ""): CompiledPolicy {
  const { policy, diagnostics } = compileSources(sourcesWith(rules, extraDecls));
  if (!policy) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return policy;
}

/** The same sources through a bundle: create, serialize, parse, load. */
export function viaBundle(sources: readonly { path: string; text: string }[], options?: EngineOptions): Engine {
  const { policy, diagnostics } = compileSources(sources);
  if (!policy) throw new Error(diagnostics.map((d) => d.message).join("\n"));
  return loadBundle(JSON.parse(serializeBundle(createBundle(policy, sources))), options);
}

export const T0 = Date.parse("2026-11-29T10:00:00.000Z");

/** The time `at` gave last (see `stampedClock`). */
let lastStamped = T0;

/** RFC 3339 time `ms` milliseconds after T0. */
export function at(ms: number): string {
  lastStamped = T0 + ms;
  return new Date(lastStamped).toISOString();
}

/**
 * An engine clock (EngineOptions.clock) reading the time of the request built last (by `at`),
 * as when an enforcement point stamps each request's `time` with the clock the engine reads.
 * Tests of session lifetimes pass it: only the engine's clock at arrival expires and forgets a
 * session (language.md §7), so with the default wall clock, far from the tests' times, the sweep
 * would keep every session.
 */
export const stampedClock = (): number => lastStamped;

export const AGENT = { id: "spiffe://acme.com/agents/support-bot", team: "support", zone: "internal", attested: true };
export const USER = { id: "u-7", roles: ["operator"] };

/** A valid `kb.search` request for the support intent at T0 in session `s`; override any field. */
export function request(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return {
    // (Not `at(0)` when a time is given: `stampedClock` reads the time given.)
    time: Object.hasOwn(overrides, "time") ? overrides["time"] : at(0),
    session: "s",
    agent: AGENT,
    user: USER,
    intent: "support.reply",
    tool: "kb.search",
    args: { query: "q" },
    context: { labels: [], env: "prod" },
    ...overrides,
  };
}

/** Valid args for each tool of the contract's declarations. */
export const ARGS: Record<string, Record<string, unknown>> = {
  "crm.lookup": { customer_id: "42" },
  "email.send": { to: ["bob@acme.com"], subject: "s", body: "b" },
  "http.get": { url: "https://example.org/" },
  "kb.search": { query: "q" },
};

/** A valid request for `tool` (with its default args) at `ms` after T0. */
export function call(tool: string, ms: number, overrides: Record<string, unknown> = {}): Record<string, unknown> {
  return request({ tool, args: ARGS[tool], time: at(ms), ...overrides });
}

/** `text like pattern` by the obvious exponential matcher (`*` any run, every other character itself): the definition, as the reference for small inputs. */
export function likeReference(pattern: string, text: string): boolean {
  if (pattern === "") return text === "";
  if (pattern[0] === "*") {
    for (let i = 0; i <= text.length; i++) if (likeReference(pattern.slice(1), text.slice(i))) return true;
    return false;
  }
  return text[0] === pattern[0] && likeReference(pattern.slice(1), text.slice(1));
}

/**
 * A policy with a rule of each kind of IR the emitter writes operators, names or numbers of into
 * code (a comparison, a count and a `called` with a window, a function call, a quantifier, a
 * root, a tool's risk), for tests that forge them (review r1 H1).
 */
export const IR_KINDS_TEXT = `tool t { risk high args { s: string, u: string } }
policy p {
  @name("a") allow t when args.s == "ok"
  @name("b") deny t when session.count(t, within 10m) > 5
  @name("c") deny t when session.called(t, within 1h) and url.host(args.u) == "evil.example"
  @name("d") deny t when any(x in ["a"]: x == args.s)
  @name("e") deny t when args.s == "risky" and tool.risk > medium
}
`;
