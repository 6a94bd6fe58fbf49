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
 * Runs passes until the implementation is warm: at least `minPasses` passes and `minMs`, and
 * then until its best pass time has not improved by more than 2% for `quietMs`, capped at
 * `maxMs`. Returns the mean ns of the recent passes and the passes run.
 *
 * Why passes and not only time: V8 tiers a function up after a number of its calls (and
 * the bytecode they ran), not after a time, and a large policy set's per-tool functions each
 * get a share of the mix (1,000 rules: 125 tools, the rarest called a few times a pass). So
 * the slower side of a comparison needs longer to get there: measured with
 * %GetOptimizationStatus on a busy 2-core host, policyc's 125 per-tool functions were all
 * optimized after about 1,000 passes (14 s), the hand-written function's after about 1,200
 * passes (6 s), where an 8 s cap, or a best pass that stops improving for a second on a busy
 * machine, had ended policyc's warm-up with some of them still interpreted. An enforcement
 * point runs warm for hours: both sides are measured after the same number of passes, unless
 * `maxMs` of passes (warm-up and top-up together, see nsPerDecision) cut one short.
 */
function warmUp(impl, requests, { minMs, quietMs, maxMs, minPasses }) {
  let total = 0;
  let best = Number.POSITIVE_INFINITY;
  let improvedAt = 0;
  let passes = 0;
  const recent = [];
  while (total < maxMs * 1e6) {
    impl.reset();
    const ns = pass(impl.decide, requests);
    total += ns;
    passes++;
    recent.push(ns);
    if (recent.length > 20) recent.shift();
    if (ns < best * 0.98) {
      best = ns;
      improvedAt = total;
    }
    if (passes >= minPasses && total >= minMs * 1e6 && total - improvedAt >= quietMs * 1e6 && recent.length >= 5) break;
  }
  return { ns: recent.reduce((a, b) => a + b, 0) / recent.length, passes, totalNs: total };
}

/**
 * ns per decision for each implementation over the same request mix. Every pass starts from
 * empty sessions (`reset`, untimed), so each pass sees the same decisions. Each is warmed up
 * until its speed settles (see `warmUp`), then topped up to as many warm-up passes as the one
 * that took the most (the same warm-up on every side); then they are interleaved round by
 * round, so drift in machine load hits them alike; the result is the median over rounds.
 * The top-up counts against the same `maxWarmupMs` of passes as the warm-up (each side's own),
 * so a child's warm-up stays bounded (bench/run.js gives it 300 s): `warmupPasses` says how many
 * passes each side had, `warmupCut` whether the cap stopped it short of `minPasses` or of the
 * others' count (then the comparison is not after the same warm-up, and the bench says so).
 * @param {{ name: string, decide: (r: unknown) => { rules: readonly string[] }, reset: () => void }[]} impls
 */
export function nsPerDecision(impls, requests, { warmupMs = 600, quietMs = 1000, maxWarmupMs = 60_000, minPasses = 1500, rounds = 7, roundMs = 120 } = {}) {
  const warmed = impls.map((impl) => warmUp(impl, requests, { minMs: warmupMs, quietMs, maxMs: maxWarmupMs, minPasses }));
  const most = Math.max(...warmed.map((w) => w.passes));
  impls.forEach((impl, k) => {
    const w = warmed[k];
    while (w.passes < most && w.totalNs < maxWarmupMs * 1e6) {
      impl.reset();
      w.totalNs += pass(impl.decide, requests);
      w.passes++;
    }
  });
  const cut = warmed.some((w) => w.passes < minPasses || w.passes < most);
  const passNs = warmed.map((w) => w.ns);
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
  return samples.map((s, k) => ({ ns: median(s), cpuNs: median(cpuSamples[k]), samples: s, warmupPasses: warmed[k].passes, warmupCut: cut }));
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
