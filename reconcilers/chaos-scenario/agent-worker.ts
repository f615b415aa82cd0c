// The agents on a worker thread. The clock's thread sends the arrivals of each tick; this thread
// walks the journeys and sends back, every 20 ms, each request's latency and outcome and the agent
// counts. A `stop` message is the kill switch: requests in flight are reset, sleeping agents end,
// and `stopped` comes back.
import { isMainThread, parentPort, Worker, workerData } from 'node:worker_threads';
import { type AgentCounts, type AgentOptions, type AgentPool, localAgents } from './agents.ts';
import type { Arrival } from './schedule.ts';
import type { Outcome } from './stats.ts';

const OUTCOMES: Outcome[] = ['ok', 'error', 'reset', 'timeout'];
const FLUSH_MS = 20;

type ToWorker = { type: 'spawn'; arrivals: Arrival[] } | { type: 'stop' };
type FromWorker =
  | { type: 'ready' }
  | { type: 'results'; latencies: Float64Array; outcomes: Uint8Array; n: number; counts: AgentCounts }
  | { type: 'stopped'; counts: AgentCounts };

/** The agents on a worker thread, seen from the clock's thread. */
export const workerAgents = async (
  opts: AgentOptions,
  record: (latencyUs: number, outcome: Outcome) => void,
): Promise<AgentPool> => {
  const file = new URL(
    import.meta.url.endsWith('.ts') ? './agent-worker.ts' : './agent-worker.js',
    import.meta.url,
  );
  const worker = new Worker(file, { workerData: opts });
  const counts: AgentCounts = { active: 0, spawned: 0, throttled: 0, completed: 0 };
  let stopping = false;
  let stopped: () => void = () => {};
  const gone = new Promise<void>((resolve) => {
    stopped = resolve;
  });
  worker.on('error', () => stopped());
  worker.on('exit', () => stopped());
  await new Promise<void>((resolve, reject) => {
    worker.once('error', reject);
    worker.on('message', (m: FromWorker) => {
      if (m.type === 'ready') return resolve();
      Object.assign(counts, m.counts);
      if (m.type === 'stopped') return stopped();
      for (let i = 0; i < m.n; i++) record(m.latencies[i]!, OUTCOMES[m.outcomes[i]!]!);
    });
  });
  const abort = () => {
    if (stopping) return;
    stopping = true;
    worker.postMessage({ type: 'stop' } satisfies ToWorker);
  };
  return {
    counts,
    spawn(arrivals) {
      if (!stopping && arrivals.length)
        worker.postMessage({ type: 'spawn', arrivals: [...arrivals] } satisfies ToWorker);
    },
    abort,
    async close() {
      abort();
      await Promise.race([gone, new Promise((r) => setTimeout(r, 1000))]);
      await worker.terminate();
    },
  };
};

if (!isMainThread && parentPort) {
  const port = parentPort;
  let latencies = new Float64Array(4096);
  let outcomes = new Uint8Array(4096);
  let n = 0;
  const pool = localAgents(workerData as AgentOptions, (latencyUs, outcome) => {
    if (n === latencies.length) {
      const l = new Float64Array(n * 2);
      l.set(latencies);
      latencies = l;
      const o = new Uint8Array(n * 2);
      o.set(outcomes);
      outcomes = o;
    }
    latencies[n] = latencyUs;
    outcomes[n] = OUTCOMES.indexOf(outcome);
    n++;
  });
  const flush = () => {
    const l = latencies.slice(0, n);
    const o = outcomes.slice(0, n);
    const message: FromWorker = { type: 'results', latencies: l, outcomes: o, n, counts: { ...pool.counts } };
    n = 0;
    port.postMessage(message, [l.buffer as ArrayBuffer, o.buffer as ArrayBuffer]);
  };
  const timer = setInterval(flush, FLUSH_MS);
  port.on('message', (m: ToWorker) => {
    if (m.type === 'spawn') pool.spawn(m.arrivals);
    else {
      pool.abort();
      clearInterval(timer);
      flush();
      port.postMessage({ type: 'stopped', counts: { ...pool.counts } } satisfies FromWorker);
      port.close();
    }
  });
  port.postMessage({ type: 'ready' } satisfies FromWorker);
}
