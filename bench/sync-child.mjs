// The child of bench/sync.ts: `simops up` without the CLI — the embedded API server and SimOps'
// controllers (startEmbedded + runController) in one process, from the built JavaScript in dist/
// when it is fresh, else from the TypeScript sources (bin/entry.js decides, as for `simops up`). Plain
// JavaScript, so that with dist/ this process loads no type stripper. The orchestrator forks it with
// the flags and environment of bin/node-flags.js and drives it over IPC:
//   -> { type: 'mark' }                 <- { type: 'marked' }   reset the counters below
//   -> { type: 'report' }               <- { type: 'report', ... } what happened since the mark
//   -> { type: 'settle', kind, count, timeoutMs } <- { type: 'settle', count, at } once `count` writes
//      of `kind` (e.g. 'machines MODIFIED status') were committed since the mark, or at the timeout
//   -> { type: 'gc' }                   <- { type: 'gc', memory } after two full GCs
//   -> { type: 'exit' }                                         stop both and exit 0
// and sends { type: 'ready', url, caPem, token, build } once both run.
// Instrumented from outside the product code only: the controller's KubeClient methods wrapped on
// the instance, a store watch, and the git fetch histogram.
// Usage (by the orchestrator only): node bench/sync-child.mjs <data dir>
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { getHeapSpaceStatistics, writeHeapSnapshot } from 'node:v8';
import { KubeConfig } from '@kubernetes/client-node';
import { entryModule } from '../bin/entry.js';

const root = fileURLToPath(new URL('..', import.meta.url));
const dist = entryModule(root) === join(root, 'dist', 'controller', 'cli', 'main.js');
/** @param {string} path relative to the repository root, without extension */
const load = (path) => import(new URL(`../${dist ? `dist/${path}.js` : `${path}.ts`}`, import.meta.url).href);
const [{ startEmbedded }, { runController }, { gitFetchDuration }] = await Promise.all([
  load('apiserver/embedded'),
  load('controller/run'),
  load('controller/runtime/metrics'),
]);

/** Wall clock with sub-millisecond resolution; comparable across processes of one machine. */
const wallNow = () => performance.timeOrigin + performance.now();
/** @param {unknown} msg */
const send = (msg) => /** @type {NonNullable<typeof process.send>} */ (process.send)(msg);

const memory = () => {
  const status = readFileSync('/proc/self/status', 'utf8');
  /** @param {string} field */
  const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
  const m = process.memoryUsage();
  return {
    vmRss: kb('VmRSS'),
    vmHwm: kb('VmHWM'),
    rssAnon: kb('RssAnon'),
    rssFile: kb('RssFile'),
    heapUsed: m.heapUsed,
    heapTotal: m.heapTotal,
    external: m.external,
  };
};

/** The 12 mappings with the most resident memory (/proc/self/smaps): where RSS outside the V8 heap is. */
const largestMappings = () => {
  /** @type {{ name: string; size: number; rss: number }[]} */
  const maps = [];
  /** @type {{ name: string; size: number; rss: number } | undefined} */
  let cur;
  for (const line of readFileSync('/proc/self/smaps', 'utf8').split('\n')) {
    const head = /^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/.exec(line);
    if (head) {
      cur = {
        name: head[3] || '[anon]',
        size: (parseInt(head[2], 16) - parseInt(head[1], 16)) / 1024,
        rss: 0,
      };
      maps.push(cur);
    } else if (cur && line.startsWith('Rss:')) cur.rss = Number(/(\d+)/.exec(line)?.[1]);
  }
  /** @type {Map<string, { n: number; rss: number }>} anonymous mappings by size */
  const anon = new Map();
  for (const m of maps) {
    if (m.name !== '[anon]') continue;
    const bucket =
      m.size === 256
        ? '=256 KiB (V8 pages)'
        : m.size < 256
          ? '<256 KiB'
          : m.size <= 1024
            ? '<=1 MiB'
            : m.size <= 65536
              ? '<=64 MiB'
              : '>64 MiB';
    const a = anon.get(bucket) ?? { n: 0, rss: 0 };
    a.n++;
    a.rss += m.rss;
    anon.set(bucket, a);
  }
  const buckets = [...anon].map(
    ([b, a]) => `  anonymous mappings ${b}: ${a.n}, ${(a.rss / 1024).toFixed(1)} MiB resident`,
  );
  return [
    ...buckets,
    ...maps
      .sort((a, b) => b.rss - a.rss)
      .slice(0, 12)
      .map(
        (m) =>
          `  ${(m.rss / 1024).toFixed(1).padStart(7)} MiB resident of ${(m.size / 1024).toFixed(1).padStart(7)} MiB  ${m.name}`,
      ),
  ].join('\n');
};

/** Every 100 ms since the mark: [wall clock, VmRSS bytes, CPU ms of this process since the mark]. */
/** @type {[number, number, number][]} */
let samples = [];
const sampler = setInterval(() => {
  const status = readFileSync('/proc/self/status', 'utf8');
  const rss = Number(/^VmRSS:\s+(\d+) kB/m.exec(status)?.[1]) * 1024;
  const cpu = process.cpuUsage(cpuAtMark);
  samples.push([wallNow(), rss, (cpu.user + cpu.system) / 1000]);
}, 100);
sampler.unref();

/** Seconds and count of the successful fetches so far (runController's onFetch histogram). */
const fetchSeconds = async () => {
  /** @type {{ metricName?: string; labels: Record<string, string>; value: number }[]} */
  const values = (await gitFetchDuration.get()).values;
  /** @param {string} suffix */
  const pick = (suffix) =>
    values
      .filter((v) => v.metricName?.endsWith(suffix) && v.labels.result === 'success')
      .reduce((a, v) => a + v.value, 0);
  return { sum: pick('_sum'), count: pick('_count') };
};

/**
 * How a committed write reads: resource, type, and for a change what part changed.
 * @param {{ type: string; key: string; object: any; previous?: any }} e a store event
 */
const writeKind = (e) => {
  const resource = e.key.split('/')[2] ?? '?';
  if (e.type !== 'MODIFIED') return `${resource} ${e.type}`;
  if (e.previous?.metadata.generation !== e.object.metadata.generation) return `${resource} MODIFIED spec`;
  if (JSON.stringify(e.previous?.status) !== JSON.stringify(e.object.status))
    return `${resource} MODIFIED status`;
  return `${resource} MODIFIED metadata`;
};

let cpuAtMark = process.cpuUsage();
const dataDir = /** @type {string} */ (process.argv[2]);
/** @type {{ at: number; result: string }[]} */
const synced = [];
/** @type {any} */
const log = {
  /** @type {(o: any, msg?: string) => void} */
  info: (o, msg) => {
    if (msg === 'synced') synced.push({ at: wallNow(), result: String(o.result) });
  },
  /** @type {(o: object, msg?: string) => void} */
  warn: (o, msg) => console.error('warn:', msg, JSON.stringify(o)),
  /** @type {(o: object, msg?: string) => void} */
  error: (o, msg) => console.error('error:', msg, JSON.stringify(o)),
  debug: () => {},
  child: () => log,
};
const embedded = await startEmbedded({
  dataDir,
  port: 0,
  logger: { info: () => {}, warn: log.warn, error: log.error },
});
const kc = new KubeConfig();
kc.loadFromFile(embedded.kubeconfigPath);
const running = await runController({
  kubeConfig: kc,
  log,
  cacheDir: join(dataDir, 'git'),
  artifactDir: join(dataDir, 'artifacts'),
  health: { host: '127.0.0.1', port: 0 },
});

/** @typedef {{ count: number; failed: number; first: number; last: number; sumMs: number }} OpStats */
/** @type {Map<string, OpStats>} requests the controllers made through the manager's KubeClient */
let ops = new Map();
/** @type {Map<string, { count: number; first: number; last: number }>} writes the store committed */
let writes = new Map();
/** @type {{ op: string; start: number; end: number }[]} every GitSource request and LIST, in order */
let timeline = [];
let lastWrite = 0;

/** @type {(op: string, start: number, end: number, failed: boolean) => void} */
const record = (op, start, end, failed) => {
  const s = ops.get(op) ?? { count: 0, failed: 0, first: start, last: end, sumMs: 0 };
  s.count++;
  if (failed) s.failed++;
  s.last = Math.max(s.last, end);
  s.sumMs += end - start;
  ops.set(op, s);
  if (/GitSource|^LIST|Namespace/.test(op)) timeline.push({ op, start, end });
};

// Every call the controllers make through the manager's client (the informers use their own).
/** @type {Record<string, (...args: any[]) => Promise<unknown>>} */
const client = running.manager.client;
/** @type {(method: string, name: (...args: any[]) => string) => void} */
const wrap = (method, name) => {
  const original = /** @type {(...args: any[]) => Promise<unknown>} */ (client[method]).bind(client);
  client[method] = async (...args) => {
    const start = wallNow();
    let failed = false;
    try {
      return await original(...args);
    } catch (err) {
      failed = true;
      throw err;
    } finally {
      record(name(...args), start, wallNow(), failed);
    }
  };
};
wrap('get', (k) => `GET ${k.kind}`);
wrap('list', (k) => `LIST ${k.kind}`);
wrap('apply', (o, opts) => `APPLY${opts?.dryRun ? ' dry-run' : ''} ${o.kind}`);
wrap('patchStatus', (k) => `PATCH status ${k.kind}`);
wrap('mergePatch', (k) => `PATCH ${k.kind}`);
wrap('delete', (k) => `DELETE ${k.kind}`);
wrap('createEvent', () => 'POST Event');
wrap('patchEvent', () => 'PATCH Event');

// Every committed write, as the store commits it.
const store = embedded.server.service.store;
store.watch('/', store.revision, (/** @type {any} */ e) => {
  const at = wallNow();
  lastWrite = at;
  const k = writeKind(e);
  const s = writes.get(k) ?? { count: 0, first: at, last: at };
  s.count++;
  s.last = at;
  writes.set(k, s);
});

let fetchAtMark = await fetchSeconds();
process.on(
  'message',
  async (/** @type {{ type: string; kind?: string; count?: number; timeoutMs?: number }} */ m) => {
    if (m.type === 'mark') {
      ops = new Map();
      writes = new Map();
      timeline = [];
      synced.length = 0;
      samples = [];
      fetchAtMark = await fetchSeconds();
      cpuAtMark = process.cpuUsage();
      send({ type: 'marked' });
    } else if (m.type === 'report') {
      const f = await fetchSeconds();
      const cpu = process.cpuUsage(cpuAtMark);
      send({
        type: 'report',
        ops: Object.fromEntries(ops),
        writes: Object.fromEntries(writes),
        timeline,
        fetchSumMs: (f.sum - fetchAtMark.sum) * 1000,
        fetchCount: f.count - fetchAtMark.count,
        synced,
        memory: memory(),
        cpuMs: (cpu.user + cpu.system) / 1000,
        lastWrite,
        samples,
        sockets: process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length,
      });
    } else if (m.type === 'settle') {
      // Once the store committed `count` writes of `kind` since the mark (e.g. every Machine's first
      // status), or at the timeout.
      const end = Date.now() + (m.timeoutMs ?? 60_000);
      const poll = () => {
        const n = writes.get(m.kind ?? '')?.count ?? 0;
        if (n >= (m.count ?? 0) || Date.now() > end) send({ type: 'settle', count: n, at: wallNow() });
        else setTimeout(poll, 100);
      };
      poll();
    } else if (m.type === 'gc') {
      globalThis.gc?.();
      globalThis.gc?.();
      if (process.env.BENCH_SMAPS) {
        console.error(`largest resident mappings after GC:\n${largestMappings()}`);
        const spaces = getHeapSpaceStatistics()
          .map((s) => `${s.space_name} ${(s.physical_space_size / 1048576).toFixed(1)}`)
          .join(', ');
        console.error(`V8 spaces, MiB resident: ${spaces}`);
      }
      const dir = process.env.BENCH_HEAP_SNAPSHOT;
      if (dir)
        console.error(`heap snapshot: ${writeHeapSnapshot(join(dir, `sync-${process.pid}.heapsnapshot`))}`);
      send({ type: 'gc', memory: memory() });
    } else if (m.type === 'exit') {
      await running.stop();
      await embedded.stop();
      process.exit(0);
    }
  },
);
// A child never outlives the orchestrator, whatever way it ends.
process.on('disconnect', () => process.exit(1));
send({
  type: 'ready',
  url: embedded.server.url,
  caPem: embedded.caPem,
  token: embedded.token,
  build: dist ? 'dist/ (built JavaScript)' : 'TypeScript sources (dist/ missing or stale)',
  execArgv: process.execArgv,
});
