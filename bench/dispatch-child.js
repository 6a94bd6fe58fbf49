/**
 * Dispatch flatness: policy sets of 10, 100 and 1,000 rules where every tool has the same ten
 * rules' worth of work, so the only thing that grows is the set. The time per decision should
 * not grow with it: policyc finds a tool's rules in constant time.
 *
 *   node bench/dispatch-child.js RULES   → prints { rules, ns }
 */
import { compile } from "../dist/index.js";
import { nsPerDecision } from "./timing.js";

const rules = Number(process.argv[2]);
const RULES_PER_TOOL = 10;
const tools = rules / RULES_PER_TOOL;
const lines = ["agent { team: string }"];
for (let t = 0; t < tools; t++) lines.push(`tool svc${t}.op { args { n: int, q: string } }`);
lines.push("policy p {");
for (let t = 0; t < tools; t++) {
  for (let r = 0; r < RULES_PER_TOOL; r++) {
    const effect = r === 0 ? "deny" : r === 1 ? "ask" : "allow";
    lines.push(`  ${effect} svc${t}.op when args.n == ${r} and agent.team == "t${r}" and args.q like "*x${r}*"`);
  }
}
lines.push("}");
const engine = compile([{ path: "dispatch.policy", text: lines.join("\n") }]);
// The same requests at every size: calls of the first tool, each evaluating all its ten rules.
const requests = Array.from({ length: 256 }, (_, i) => ({ time: `2026-11-29T10:${String(Math.floor(i / 60) % 60).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}Z`, session: `s${i % 16}`, tool: "svc0.op", agent: { team: `t${i % 12}` }, args: { n: i % 12, q: `a x${i % 10} b` } }));
const [result] = nsPerDecision([{ name: "policyc", decide: (r) => engine.decide(r), reset: () => engine.sessions.clear() }], requests, { warmupMs: 400, rounds: 5, roundMs: 100 });
console.log(JSON.stringify({ rules, ns: result.ns }));
