// Benchmarks the ChaosScenario load generator against one loopback target (bench/chaos-target.mjs,
// a bare Node HTTP server in its own process):
//   1. requests per second of our agents (the real runner: schedule, ticks, journeys, HDR stats)
//      versus autocannon's, at the same number of connections / concurrent agents, no think time;
//   2. tick drift (how late each tick of the simulated clock fires) with 1,000 concurrent agents,
//      each waiting 100 ms between steps (and, for the record, with no think time at all), next to
//      the drift of the same tick loop in an idle process at the same time (bench/chaos-idle-clock.mjs):
//      the machine's own noise floor.
// Usage: npm run bench:chaos   (node bench/chaos.ts); BENCH_CONCURRENCY and BENCH_SECONDS override.
import { spawn } from 'node:child_process';
import { createRequire } from 'node:module';
import { cpus, loadavg } from 'node:os';
import { createInterface } from 'node:readline';
import type { ChaosScenarioSpec } from '../crds/chaos-scenario.ts';
import { resolveScenario } from '../reconcilers/chaos-scenario/resolve.ts';
import { type RunReport, runScenario } from '../reconcilers/chaos-scenario/runner.ts';
import { quantile } from '../reconcilers/chaos-scenario/stats.ts';

const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 64);
const SECONDS = Number(process.env.BENCH_SECONDS ?? 10);
const DRIFT_AGENTS = 1000;
const DRIFT_SECONDS = 20;
const TARGETS = { rpsRatio: 0.8, driftP99Ms: 5 };

interface AutocannonResult {
  duration: number;
  requests: { total: number; average: number };
  '2xx': number;
  non2xx: number;
  errors: number;
  latency: { p50: number; p99: number };
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  pipelining: number;
  duration: number;
}) => Promise<AutocannonResult>;

const startTarget = async () => {
  const child = spawn(process.execPath, [new URL('./chaos-target.mjs', import.meta.url).pathname], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve) => {
    createInterface({ input: child.stdout! }).once('line', resolve);
  });
  return { url, stop: () => child.kill() };
};

/** A scenario whose agents walk long journeys of GET / so that `agents` are always busy. */
const run = async (
  url: string,
  o: { agents: number; seconds: number; thinkMs: number; tickMs: number; on?: 'worker' | 'thread' },
) => {
  const spec = {
    target: { url, allowExternal: false },
    seed: 1,
    state: 'Active',
    // One sim minute per real second; arrivals far faster than agents finish, so the cap holds.
    duration: { realSeconds: o.seconds, simHours: o.seconds / 60 },
    policies: { customerSpawnRate: o.agents * 20, maxConcurrentAgents: o.agents, tickMs: o.tickMs },
    journeys: [
      {
        name: 'browse',
        agent: 'customer',
        weight: 1,
        steps: Array.from({ length: 500 }, (_, i) => ({
          name: `s${i}`,
          method: 'GET',
          path: '/',
          expectStatus: [200],
          thinkTimeMs: o.thinkMs,
        })),
      },
    ],
    invariants: [{ name: 'api_error_rate', metric: 'error_rate', op: '<', threshold: 0.01 }],
  } as unknown as ChaosScenarioSpec;
  const r = resolveScenario(spec);
  if (!r.ok) throw new Error(JSON.stringify(r.errors));
  return runScenario(
    { scenario: r.scenario, runId: 'bench', scenarioName: 'bench/chaos', target: { url } },
    { signal: new AbortController().signal, agents: o.on ?? 'worker' },
  );
};

/** Tick drift over the ticks that had (nearly) every agent running. */
const steadyDrift = (r: RunReport, agents: number) => {
  const steady = r.timeline.filter((row) => row.agents >= agents * 0.95);
  const drifts = steady.map((row) => row.driftMs);
  return {
    ticks: steady.length,
    p50: quantile(drifts, 0.5),
    p99: quantile(drifts, 0.99),
    max: drifts.length ? Math.max(...drifts) : 0,
    rps: steady.length
      ? steady.reduce((a, row) => a + row.requests, 0) / ((steady.length * r.tickMs) / 1000)
      : 0,
  };
};

const round = (n: number, d = 1) => Math.round(n * 10 ** d) / 10 ** d;

/** The same tick loop in an idle process, for `seconds`: the machine's noise floor. */
const idleClock = (seconds: number) =>
  new Promise<{ p50: number; p99: number; max: number }>((resolve) => {
    const child = spawn(
      process.execPath,
      [new URL('./chaos-idle-clock.mjs', import.meta.url).pathname, String(seconds)],
      {
        stdio: ['ignore', 'pipe', 'inherit'],
      },
    );
    createInterface({ input: child.stdout! }).once('line', (line) => resolve(JSON.parse(line)));
  });

const target = await startTarget();
try {
  console.log(
    `chaos bench: target ${target.url} (bare node:http server, own process); ${cpus().length} CPUs, Node ${process.version}`,
  );
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  // Warm-up of the target's JIT, not counted.
  await autocannon({ url: target.url, connections: CONCURRENCY, pipelining: 1, duration: 2 });

  // Interleaved (autocannon, ours on a worker, ours on this thread, autocannon), so that a change
  // of the machine's load during the benchmark weighs on both sides.
  const cannon = async () => {
    const r = await autocannon({
      url: target.url,
      connections: CONCURRENCY,
      pipelining: 1,
      duration: SECONDS,
    });
    return { rps: r.requests.total / r.duration, r };
  };
  const a1 = await cannon();
  const worker = await run(target.url, {
    agents: CONCURRENCY,
    seconds: SECONDS,
    thinkMs: 0,
    tickMs: 100,
    on: 'worker',
  });
  const thread = await run(target.url, {
    agents: CONCURRENCY,
    seconds: SECONDS,
    thinkMs: 0,
    tickMs: 100,
    on: 'thread',
  });
  const a2 = await cannon();
  const theirsRps = (a1.rps + a2.rps) / 2;
  console.log(
    `\n1. throughput at ${CONCURRENCY} concurrent agents / connections, ${SECONDS} s each, no think time`,
  );
  for (const [name, r] of [
    ['agents on a worker thread (default)', worker],
    ['agents on the clock thread', thread],
  ] as const) {
    const rps = r.totals.requests / r.realSeconds;
    const ratio = rps / theirsRps;
    console.log(
      `   simops, ${name}: ${round(rps, 0)} req/s (${r.totals.requests} requests, ${r.totals.errors} errors, p50 ${r.totals.p50Ms} ms, p99 ${r.totals.p99Ms} ms, tick drift p99 ${r.tickDriftP99Ms} ms): ratio ${round(ratio, 2)} (target >= ${TARGETS.rpsRatio}): ${ratio >= TARGETS.rpsRatio ? 'met' : 'MISSED'}`,
    );
  }
  for (const [i, a] of [a1, a2].entries())
    console.log(
      `   autocannon, run ${i + 1}: ${round(a.rps, 0)} req/s (${a.r.requests.total} requests, ${a.r.non2xx + a.r.errors} errors, p50 ${a.r.latency.p50} ms, p99 ${a.r.latency.p99} ms)`,
    );

  console.log(`\n2. tick drift with ${DRIFT_AGENTS} concurrent agents, ${DRIFT_SECONDS} s, ticks of 100 ms`);
  for (const thinkMs of [100, 0]) {
    const idle = idleClock(DRIFT_SECONDS);
    const r = await run(target.url, { agents: DRIFT_AGENTS, seconds: DRIFT_SECONDS, thinkMs, tickMs: 100 });
    const floor = await idle;
    const d = steadyDrift(r, DRIFT_AGENTS);
    const verdict = d.p99 <= TARGETS.driftP99Ms ? 'met' : 'MISSED';
    console.log(
      `   think ${thinkMs} ms: ${d.ticks} ticks at >= ${DRIFT_AGENTS * 0.95} agents, ${round(d.rps, 0)} req/s; drift p50 ${round(d.p50, 2)} ms, p99 ${round(d.p99, 2)} ms, max ${round(d.max, 2)} ms (whole run p99 ${r.tickDriftP99Ms} ms)${thinkMs === 100 ? ` (target p99 <= ${TARGETS.driftP99Ms} ms): ${verdict}` : ''}`,
    );
    console.log(
      `      idle process, same time: drift p50 ${round(floor.p50, 2)} ms, p99 ${round(floor.p99, 2)} ms, max ${round(floor.max, 2)} ms; load average ${loadavg()
        .map((x) => round(x, 2))
        .join(' ')}`,
    );
  }
} finally {
  target.stop();
}
