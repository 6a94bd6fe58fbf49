/**
 * Child process (run with --expose-gc): heap bytes per session for policyc's engine and for
 * the hand-written function. Creates SESSIONS sessions with CALLS calls each (requests made
 * on the fly from a few templates, so the bench itself retains nothing per session), then
 * compares heapUsed after full GCs. Prints one JSON object.
 *
 *   node --expose-gc bench/memory-child.js RULES SESSIONS CALLS
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compile } from "../dist/index.js";
import { generatePolicySet, generateRequests, policySources } from "./generate.js";
import { loadHandwritten } from "./handwritten.js";

if (typeof globalThis.gc !== "function") {
  console.error("run with --expose-gc");
  process.exit(2);
}
const [rules, sessions, calls] = process.argv.slice(2).map(Number);
const model = generatePolicySet({ rules });
// Templates: sessions of the ordinary kind whose first CALLS requests are all allowed.
const mix = generateRequests(model, { sessions: 64, calls: 32 });
const bySession = new Map();
for (const r of mix) (bySession.get(r.session) ?? bySession.set(r.session, []).get(r.session)).push(r);
const probe = compile(policySources(model));
const templates = [];
for (const list of bySession.values()) {
  const first = list.slice(0, calls);
  if (first.length === calls && first.every((r) => probe.decide(r).decision === "allow")) templates.push(first);
}
// Every template starts at the same instant, so no session goes idle (and is swept) while the others are created.
const base = Date.parse(templates[0][0].time);
for (const template of templates) {
  const shift = Date.parse(template[0].time) - base;
  for (const request of template) request.time = new Date(Date.parse(request.time) - shift).toISOString();
}
if (templates.length === 0) throw new Error("no all-allowed template session");

function heap() {
  for (let i = 0; i < 4; i++) globalThis.gc();
  return process.memoryUsage().heapUsed;
}

function measure(decide, count) {
  const before = heap();
  let allowed = 0;
  for (let i = 0; i < sessions; i++) {
    const template = templates[i % templates.length];
    const id = `m${i}`;
    for (let c = 0; c < calls; c++) {
      const t = template[c];
      if (decide({ time: t.time, session: id, agent: t.agent, user: t.user, intent: t.intent, tool: t.tool, args: t.args, context: t.context }).decision === "allow") allowed++;
    }
  }
  const after = heap();
  if (count() !== sessions) throw new Error(`expected ${sessions} sessions, the store has ${count()}`);
  return { bytesPerSession: (after - before) / sessions, allowed };
}

const engine = compile(policySources(model));
const policyc = measure((r) => engine.decide(r), () => engine.sessions.size);
engine.sessions.clear();

const dir = mkdtempSync(join(tmpdir(), "policyc-bench-mem-"));
let handwritten;
try {
  const hw = await loadHandwritten(model, dir);
  handwritten = measure(hw.decide, () => hw.size);
  hw.reset();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.stdout.write(JSON.stringify({ rules, sessions, calls, policyc, handwritten, templates: templates.length }));
