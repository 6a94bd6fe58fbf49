/** Small timing helpers: hrtime in ns, medians, and an interleaved per-decision benchmark. */

export function now() {
  return process.hrtime.bigint();
}

export function elapsedMs(start) {
  return Number(process.hrtime.bigint() - start) / 1e6;
}

export function median(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
}

/** Median wall time in ms of `runs` calls of `fn` (after `warmup` untimed calls). */
export function timeMs(fn, { runs = 3, warmup = 1 } = {}) {
  let result;
  for (let i = 0; i < warmup; i++) result = fn();
  const times = [];
  for (let i = 0; i < runs; i++) {
    const start = now();
    result = fn();
    times.push(elapsedMs(start));
  }
  return { ms: median(times), times, result };
}

/** One pass of the request mix through `decide`; returns ns. The sink keeps results alive. */
function pass(decide, requests) {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < requests.length; i++) sink += decide(requests[i]).rules.length;
  const ns = Number(process.hrtime.bigint() - start);
  if (sink < 0) throw new Error("unreachable");
  return ns;
}

/**
 * Runs passes until the implementation is warm: at least `minMs`, and then until its best
 * pass time has not improved by more than 2% for `quietMs` (V8 tiers a large policy set's
 * per-tool functions up one by one, which takes seconds at 1,000 rules, and an enforcement
 * point runs warm for hours), capped at `maxMs`. Returns the mean ns of the recent passes.
 */
function warmUp(impl, requests, { minMs, quietMs, maxMs }) {
  let total = 0;
  let best = Number.POSITIVE_INFINITY;
  let improvedAt = 0;
  const recent = [];
  while (total < maxMs * 1e6) {
    impl.reset();
    const ns = pass(impl.decide, requests);
    total += ns;
    recent.push(ns);
    if (recent.length > 20) recent.shift();
    if (ns < best * 0.98) {
      best = ns;
      improvedAt = total;
    }
    if (total >= minMs * 1e6 && total - improvedAt >= quietMs * 1e6 && recent.length >= 5) break;
  }
  return recent.reduce((a, b) => a + b, 0) / recent.length;
}

/**
 * ns per decision for each implementation over the same request mix. Every pass starts from
 * empty sessions (`reset`, untimed), so each pass sees the same decisions. Each is warmed up
 * until its speed settles (see `warmUp`); then they are interleaved round by round, so drift
 * in machine load hits them alike; the result is the median over rounds.
 * @param {{ name: string, decide: (r: unknown) => { rules: readonly string[] }, reset: () => void }[]} impls
 */
export function nsPerDecision(impls, requests, { warmupMs = 600, quietMs = 1000, maxWarmupMs = 8000, rounds = 7, roundMs = 120 } = {}) {
  const passNs = impls.map((impl) => warmUp(impl, requests, { minMs: warmupMs, quietMs, maxMs: maxWarmupMs }));
  const perRound = passNs.map((ns) => Math.max(1, Math.round((roundMs * 1e6) / ns)));
  const samples = impls.map(() => []);
  const cpuSamples = impls.map(() => []);
  for (let round = 0; round < rounds; round++) {
    impls.forEach((impl, k) => {
      let total = 0;
      let cpu = 0;
      for (let p = 0; p < perRound[k]; p++) {
        impl.reset();
        const before = process.cpuUsage();
        total += pass(impl.decide, requests);
        const used = process.cpuUsage(before);
        cpu += (used.user + used.system) * 1000;
      }
      samples[k].push(total / (perRound[k] * requests.length));
      cpuSamples[k].push(cpu / (perRound[k] * requests.length));
    });
  }
  // `cpuNs`: the same from CPU time, which leaves out time the process waited for a core
  // (it includes GC helper threads, so it can exceed the wall figure on an idle machine).
  return samples.map((s, k) => ({ ns: median(s), cpuNs: median(cpuSamples[k]), samples: s }));
}

/**
 * How much of a stretch of wall time this process actually ran (CPU time / wall time). Near
 * 100% for a single-threaded benchmark on an idle machine; well below when other processes
 * took the cores, and then every figure of that stretch is inflated.
 */
export function cpuShare() {
  const wall = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  return () => {
    const used = process.cpuUsage(cpu);
    return (used.user + used.system) / (Number(process.hrtime.bigint() - wall) / 1000);
  };
}
