// Measures SimulationRun throughput through the job queues: the controller's BullMQ runner (in this
// process, as `simops controller` runs it with REDIS_URL) queues runs on one redis-server, and 1, 2
// and 4 `simops worker` processes (the real CLI) run them. Each run is the same work a SimulationRun
// becomes (validate, evaluate 50,000 bins, write six series, run.json, manifest.json), ~0.2 s of one
// core. Prints runs per second per worker count and the speedup over one worker; on 2 cores,
// 2 workers should give >= 1.6x one. The API server and status writes are not part of it.
// Usage: node bench/workers.ts [runs per count]   (default 60; a warm-up of 2 runs per worker first)
import { readFileSync, writeFileSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { bullmqJobs } from '../controller/jobs/bullmq-runner.ts';
import { silentLog } from '../controller/runtime/logger.ts';
import type { SimulationJobInput, SimulationJobResult } from '../reconcilers/simulation-run/job.ts';
import { startRedis } from '../test/helpers/redis-server.ts';
import { tempDir } from '../test/helpers/tmp.ts';
import { startWorkerProcess, type WorkerProcess } from '../test/helpers/worker-process.ts';

const RUNS = Number(process.argv[2] ?? 60);
const COUNTS = [1, 2, 4];
const TARGET = 1.6;

const template = {
  metadata: { id: 'bench-load', version: '1' },
  window: { start: '2025-01-01T00:00:00Z', timezone: 'UTC' },
  grid: { bins: 50_000, binSize: 1, binUnit: 'minutes' },
  traffic: { arrivals: [{ nodeId: 'Svc', pattern: { kind: 'poisson', ratePerBin: 8 } }] },
  nodes: [
    { id: 'cap', kind: 'const', values: 7 },
    { id: 'smooth', kind: 'expr', expr: `CONV(cap, [${Array(800).fill(0.00125).join(',')}])` },
  ],
  topology: { nodes: [{ id: 'Svc', kind: 'serviceWithBuffer', semantics: { capacity: 'smooth' } }] },
};

const input = (name: string, seed: number): SimulationJobInput => ({
  namespace: 'bench',
  name,
  spec: {
    templateId: 'bench-load',
    template: { inline: template },
    rng: { kind: 'pcg32', seed },
    mode: 'simulation',
    deterministicRunId: true,
    overwriteExisting: false,
    dryRun: false,
  },
});

/** CPU seconds of a process, from /proc. */
const cpuSeconds = (pid: number) => {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ');
  return (Number(fields[11]) + Number(fields[12])) / 100;
};

const redis = await startRedis();
const admin = new Redis(redis.url);
// The workers resolve inline templates only: they never call this API server.
const kubeconfig = join(tempDir('simops-bench-'), 'kubeconfig');
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
clusters: [{ name: none, cluster: { server: "https://127.0.0.1:1" } }]
users: [{ name: none, user: { token: none } }]
contexts: [{ name: none, context: { cluster: none, user: none } }]
current-context: none
`,
);

console.log(
  `workers bench: ${new Date().toISOString()}, ${availableParallelism()} cores, ${cpus()[0]?.model.trim()}, Node ${process.version}`,
);
console.log(
  `${RUNS} runs per worker count (after 2 warm-up runs per worker); each run 50,000 bins, CONV over 800 bins, 6 series`,
);

interface Row {
  workers: number;
  seconds: number;
  perSecond: number;
  meanRunMs: number;
  workerCpu: number;
  benchCpu: number;
  created: number;
}
const rows: Row[] = [];
let seed = 0;

for (const count of COUNTS) {
  await admin.flushall();
  const artifactDir = tempDir('simops-bench-artifacts-');
  const workers: WorkerProcess[] = await Promise.all(
    Array.from({ length: count }, () =>
      startWorkerProcess({
        kubeconfig,
        redisUrl: redis.url,
        artifactDir,
        cacheDir: tempDir('simops-bench-git-'),
      }),
    ),
  );
  for (const w of workers) {
    while ((await fetch(`${w.healthUrl}/readyz`)).status !== 200) await new Promise((r) => setTimeout(r, 20));
  }
  const runner = bullmqJobs<SimulationJobInput, SimulationJobResult>({
    connection: { url: redis.url },
    queue: 'simulation-run',
    log: silentLog,
  });
  const runAll = async (names: string[]) => {
    const pending = new Set(names.map((name) => `bench/${name}`));
    const done = new Promise<void>((resolve) => {
      runner.onUpdate((id) => {
        if (pending.has(id) && runner.get(id)?.done) {
          pending.delete(id);
          if (!pending.size) resolve();
        }
      });
    });
    for (const name of names) runner.submit(`bench/${name}`, 1, input(name, seed++));
    await done;
    return names.map((name) => runner.get(`bench/${name}`)!);
  };

  await runAll(Array.from({ length: 2 * count }, (_, i) => `warmup-${count}-${i}`));
  const cpu0 = workers.map((w) => cpuSeconds(w.pid));
  const bench0 = process.cpuUsage();
  const started = performance.now();
  const states = await runAll(Array.from({ length: RUNS }, (_, i) => `run-${count}-${i}`));
  const seconds = (performance.now() - started) / 1000;
  const workerCpu = workers.reduce((s, w, i) => s + cpuSeconds(w.pid) - cpu0[i]!, 0);
  const benchUsage = process.cpuUsage(bench0);
  const failed = states.filter((s) => s.result?.kind !== 'report' || s.result.report.outcome !== 'succeeded');
  if (failed.length) throw new Error(`${failed.length} runs did not succeed: ${JSON.stringify(failed[0])}`);
  const meanRunMs =
    states.reduce((s, st) => s + (st.result?.kind === 'report' ? st.result.report.durationMs : 0), 0) / RUNS;
  let created = 0;
  for (const w of workers) created += await w.counter('simops_run_created_total');
  rows.push({
    workers: count,
    seconds,
    perSecond: RUNS / seconds,
    meanRunMs,
    workerCpu,
    benchCpu: (benchUsage.user + benchUsage.system) / 1e6,
    created,
  });
  const r = rows.at(-1)!;
  console.log(
    `${count} worker(s): ${RUNS} runs in ${seconds.toFixed(2)} s = ${r.perSecond.toFixed(2)} runs/s; mean run ${meanRunMs.toFixed(0)} ms; CPU: workers ${workerCpu.toFixed(1)} s, runner ${r.benchCpu.toFixed(1)} s; runs created ${created} (incl. ${2 * count} warm-up)`,
  );
  await runner.stop();
  await Promise.all(workers.map((w) => w.stop()));
}

const one = rows[0]!.perSecond;
console.log('workers  runs/s  speedup');
for (const r of rows)
  console.log(
    `${String(r.workers).padEnd(8)} ${r.perSecond.toFixed(2).padStart(6)}  ${(r.perSecond / one).toFixed(2)}x`,
  );
const two = rows.find((r) => r.workers === 2)!.perSecond / one;
console.log(
  `target: 2 workers >= ${TARGET}x one (on 2 cores): ${two.toFixed(2)}x ${two >= TARGET ? 'PASS' : 'FAIL'}${availableParallelism() === 2 ? '' : ` (this machine has ${availableParallelism()} cores)`}`,
);
admin.disconnect();
await redis.stop();
process.exit(0);
