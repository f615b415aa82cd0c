// Benchmarks the embedded API server over HTTPS, with the server in its own child process
// (bench/apiserver-server.mjs, which runs the built JavaScript in dist/ as `simops up` does):
//   1. status patches per second from one autocannon client, and a bare Node https server as the peer;
//   2. watch delivery latency under that load, from a watcher in another child process;
//   3. the server's RSS with 10,000 Sandboxes stored;
//   4. recovery of those 10,000 objects after a SIGKILL (WAL replay), spawn to a full list.
// Usage: npm run bench:apiserver   (npm run build, then node bench/apiserver.ts)
// BENCH_CPU_PROF=<dir> also writes a CPU profile of each server child into <dir>; BENCH_NODE_FLAGS="<flags>"
// adds node flags to the server child's (what-if runs).
import { type ChildProcess, fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { Agent, createServer, request } from 'node:https';
import { createRequire } from 'node:module';
import { cpus } from 'node:os';
import { loadOrCreateCredentials } from '../apiserver/security/credentials.ts';
import { SERVER_ENV, SERVER_NODE_FLAGS } from '../bin/node-flags.js';
import { tempDir } from '../test/helpers/tmp.ts';
import type { ServerTimings } from './apiserver-server.mjs';
import {
  builtAt,
  DIST_CHECKED_ENV,
  DIST_MISSING_OR_STALE,
  distIsFresh,
  type LatencyStats,
  percentile,
  stampOf,
  summarize,
  wallNow,
} from './apiserver-shared.mjs';
import { cpuTimes, type Message, mib, nextMessage, pass, round } from './shared.ts';

const SELF = new URL(import.meta.url).pathname;
/** The server child: plain JavaScript running dist/ (no type stripping, as `simops up` runs). */
const SERVER_MODULE = new URL('./apiserver-server.mjs', import.meta.url).pathname;
const GROUP_PATH = '/apis/simops.dev/v1alpha1/namespaces/default/sandboxes';
const PATCH_OBJECTS = 100;
/** In-flight requests of the load client: one per keep-alive connection (BENCH_CONNECTIONS overrides). */
const CONNECTIONS = Number(process.env.BENCH_CONNECTIONS ?? 8);
const LOAD_SECONDS = 10;
/** Watch events whose patch was stamped in the first second (TLS handshakes, JIT warm-up) are not counted. */
const WARMUP_MS = 1000;
const RSS_OBJECTS = 10_000;
const RESTARTS = 3;
const TARGETS = { patchesPerSecond: 2000, watchP99Ms: 10, rssMiB: 150, recoveryMs: 2000 };

/** This process's wall clock minus the system-wide monotonic clock: equal in two processes whose clocks agree. */
const wallMinusMonotonic = () => wallNow() - Number(process.hrtime.bigint()) / 1e6;

const send = (msg: unknown) => process.send!(msg);

// ---------------------------------------------------------------------------------------------
// Child: the peer, a bare Node https server with the same ECDSA P-256 key and certificate.
const runPeer = async (dataDir: string) => {
  const { keyPem, certPem } = await loadOrCreateCredentials(dataDir, { hosts: ['127.0.0.1'] });
  const body = JSON.stringify({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Success' });
  const server = createServer({ key: keyPem, cert: certPem }, (req, res) => {
    req.resume();
    req.on('end', () => {
      res.writeHead(200, { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
    });
  });
  server.keepAliveTimeout = 30_000;
  server.listen(0, '127.0.0.1', () => {
    const address = server.address() as { port: number };
    send({ type: 'ready', url: `https://127.0.0.1:${address.port}` });
  });
};

// Child: the watcher. Records now - the wall-clock stamp each MODIFIED event's patch carried.
const runWatcher = () => {
  const stamps: number[] = [];
  const latencies: number[] = [];
  let stop = () => {};
  process.on('message', (m: { type: string; url: string; caPem: string; token: string; rv: string }) => {
    if (m.type === 'start') {
      const url = new URL(`${GROUP_PATH}?watch=true&resourceVersion=${m.rv}`, m.url);
      const req = request(url, {
        ca: m.caPem,
        headers: { authorization: `Bearer ${m.token}`, accept: 'application/json' },
      });
      req.on('response', (res) => {
        if (res.statusCode !== 200) throw new Error(`watch: HTTP ${res.statusCode}`);
        res.setEncoding('utf8');
        let buffer = '';
        res.on('data', (chunk: string) => {
          const arrived = wallNow();
          buffer += chunk;
          let nl = buffer.indexOf('\n');
          while (nl >= 0) {
            const event = JSON.parse(buffer.slice(0, nl)) as { type: string; object: object };
            buffer = buffer.slice(nl + 1);
            nl = buffer.indexOf('\n');
            const sent = stampOf(event.object);
            if (event.type !== 'MODIFIED' || sent === undefined) continue;
            stamps.push(sent);
            latencies.push(arrived - sent);
          }
        });
        send({ type: 'watching' });
      });
      req.on('error', (err) => {
        if (!(err as NodeJS.ErrnoException).code?.startsWith('ECONNRESET')) console.error('watch:', err);
      });
      req.end();
      stop = () => req.destroy();
    } else if (m.type === 'stop') {
      stop();
      const { from, offset } = m as unknown as { from: number; offset: number };
      const stats = { ...summarize(stamps, latencies, from), clockOffsetMs: wallMinusMonotonic() - offset };
      process.send!({ type: 'stats', stats }, () => process.exit(0));
    }
  });
};

// ---------------------------------------------------------------------------------------------
// The orchestrator: spawns the children, generates the load, prints and judges the figures.

const nextMessageOf = <T>(child: ChildProcess, type: string, timeoutMs = 60_000): Promise<T> =>
  nextMessage<T>(child, type, timeoutMs);

/** The peer and the watcher: this file, in a role. */
const spawnChild = (role: string, args: string[]) =>
  fork(SELF, [role, ...args], {
    execArgv: [],
    env: { ...SERVER_ENV, ...process.env },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

const serverExecArgv = (): string[] => {
  const dir = process.env.BENCH_CPU_PROF;
  // The server runs with the V8 flags `simops up` starts with (bin/node-flags.js).
  return [
    ...SERVER_NODE_FLAGS,
    '--expose-gc',
    ...(process.env.BENCH_NODE_FLAGS?.split(' ').filter(Boolean) ?? []),
    ...(dir ? ['--cpu-prof', `--cpu-prof-dir=${dir}`] : []),
  ];
};

/** The build of dist/ main() found fresh; every server child of the run runs it. */
let distChecked: string | undefined;

/** The server child, started as `simops up` starts it (bin/simops.js): dist/, with bin/node-flags.js. */
const spawnServer = (dataDir: string) =>
  fork(SERVER_MODULE, [dataDir], {
    execArgv: serverExecArgv(),
    env: { ...SERVER_ENV, ...process.env, ...(distChecked ? { [DIST_CHECKED_ENV]: distChecked } : {}) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });

const killAndWait = (child: ChildProcess, signal: NodeJS.Signals = 'SIGKILL') =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once('exit', () => resolve());
    child.kill(signal);
  });

interface ServerReady extends Message {
  url: string;
  caPem: string;
  token: string;
  timings: ServerTimings;
}

const startServer = async (dataDir: string) => {
  const spawnedAt = performance.now();
  const child = spawnServer(dataDir);
  const ready = await nextMessageOf<ServerReady>(child, 'ready');
  return { child, ready, spawnedAt, readyAt: performance.now() };
};

/** Stops a server child cleanly (so a CPU profile gets written). */
const stopServer = async (child: ChildProcess) => {
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.send({ type: 'exit' });
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
};

/** A small keep-alive HTTPS client for the set-up requests. */
const client = (ready: ServerReady, maxSockets = 16) => {
  const agent = new Agent({ keepAlive: true, maxSockets, ca: ready.caPem });
  const call = (method: string, path: string, body?: unknown) =>
    new Promise<{ status: number; text: string }>((resolve, reject) => {
      const payload = body === undefined ? undefined : JSON.stringify(body);
      const req = request(new URL(path, ready.url), {
        method,
        agent,
        headers: {
          authorization: `Bearer ${ready.token}`,
          'user-agent': 'simops-bench/1',
          ...(payload ? { 'content-type': 'application/json' } : {}),
        },
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString() }));
        res.on('error', reject);
      });
      req.on('error', reject);
      req.end(payload);
    });
  return { call, close: () => agent.destroy() };
};

const FLOWS = ['login', 'smoke', 'search-availability', 'book-room', 'cancel-booking', 'checkout', 'refund'];

/** A Sandbox as a GitOps repository holds it: about 1.5 KB once stored with the server's metadata. */
const sandbox = (i: number) => ({
  apiVersion: 'simops.dev/v1alpha1',
  kind: 'Sandbox',
  metadata: {
    name: `sbx-${String(i).padStart(5, '0')}`,
    namespace: 'default',
    labels: {
      'app.kubernetes.io/name': 'booking',
      'app.kubernetes.io/part-of': 'lab-automation',
      'app.kubernetes.io/managed-by': 'simops',
      'simops.dev/team': `team-${i % 20}`,
      'simops.dev/tier': i % 3 ? 'dev' : 'staging',
    },
    annotations: {
      'simops.dev/source': `git@github.com:example-org/lab-environments.git#main:sandboxes/team-${i % 20}/sbx-${i}.yaml`,
      'simops.dev/commit': (i * 2654435761).toString(16).padStart(40, 'a').slice(0, 40),
      'simops.dev/owner': `engineer-${i % 97}@example.com`,
    },
  },
  spec: {
    simulatorRef: { name: 'booking' },
    dataset: i % 2 ? 'base' : 'large-catalog',
    source: i % 4 ? { config: true } : { tag: 'prod-latest' },
    runtime: 'process',
    timeoutSeconds: 3600,
    heartbeatIntervalSeconds: 30,
    flows: FLOWS.slice(0, 3 + (i % 5)),
    operatingMode: 'Running',
  },
});

/** Creates sandboxes [from, to) with `concurrency` requests in flight; returns creates per second. */
const createSandboxes = async (
  api: ReturnType<typeof client>,
  from: number,
  to: number,
  concurrency = 16,
) => {
  let next = from;
  const started = performance.now();
  const worker = async () => {
    while (next < to) {
      const i = next++;
      const res = await api.call('POST', GROUP_PATH, sandbox(i));
      if (res.status !== 201) throw new Error(`create sbx ${i}: HTTP ${res.status} ${res.text}`);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  return (to - from) / ((performance.now() - started) / 1000);
};

// autocannon 9 ships no types: the part of its API this benchmark uses.
interface AutocannonRequest {
  method?: string;
  path?: string;
  headers?: Record<string, string>;
  body?: string;
  setupRequest?: (req: AutocannonRequest, context: object) => AutocannonRequest;
}
interface AutocannonResult {
  duration: number;
  '2xx': number;
  non2xx: number;
  errors: number;
  timeouts: number;
  latency: { p50: number; p99: number };
}
type Autocannon = (opts: {
  url: string;
  connections: number;
  pipelining: number;
  duration: number;
  method: string;
  headers: Record<string, string>;
  requests: AutocannonRequest[];
}) => Promise<AutocannonResult>;

/** PATCHes the status of the sandboxes round-robin, each body stamped with the wall clock. */
const patchLoad = async (url: string, token: string, names: string[]) => {
  const autocannon = createRequire(import.meta.url)('autocannon') as Autocannon;
  let n = 0;
  const before = cpuTimes();
  const result = await autocannon({
    url,
    connections: CONNECTIONS,
    pipelining: 1,
    duration: LOAD_SECONDS,
    method: 'PATCH',
    headers: {
      authorization: `Bearer ${token}`,
      'content-type': 'application/merge-patch+json',
      'user-agent': 'simops-bench/1',
    },
    requests: [
      {
        setupRequest: (req) => ({
          ...req,
          path: `${GROUP_PATH}/${names[n++ % names.length]}/status`,
          body: `{"status":{"lastHandledReconcileAt":"bench ${wallNow().toFixed(3)}"}}`,
        }),
      },
    ],
  });
  const after = cpuTimes();
  const failed = result.non2xx + result.errors + result.timeouts;
  const total = after.total - before.total;
  return {
    idlePct: (100 * (after.idle - before.idle)) / total,
    stealPct: (100 * (after.steal - before.steal)) / total,
    perSecond: result['2xx'] / result.duration,
    ok: result['2xx'],
    failed,
    latencyP50: result.latency.p50,
    latencyP99: result.latency.p99,
  };
};

type Memory = Record<'rss' | 'heapTotal' | 'heapUsed' | 'vmRss' | 'vmHwm' | 'rssAnon' | 'rssFile', number>;

/** The server child's memory after two full GCs. */
const memoryOf = async (child: ChildProcess): Promise<Memory> => {
  const reply = nextMessageOf<Message & Memory & { gcExposed: boolean }>(child, 'memory');
  child.send({ type: 'memory' });
  const m = await reply;
  if (!m.gcExposed) throw new Error('the server child runs without --expose-gc');
  return m;
};

const main = async () => {
  const benchStarted = performance.now();
  if (!distIsFresh()) {
    console.error(`bench/apiserver.ts: ${DIST_MISSING_OR_STALE}`);
    process.exit(1);
  }
  distChecked = builtAt();
  const node = process.version;
  const cpu = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? cpus()[0]?.model;
  console.log(`apiserver bench: ${new Date().toISOString()}, nproc ${cpus().length}, ${cpu}, Node ${node}`);
  console.log(
    `load: autocannon, ${CONNECTIONS} connections x 1 in flight (pipelining 1), ${LOAD_SECONDS} s, TLS (ECDSA P-256)`,
  );

  // 1 + 2: status patches from one client, a watcher in another process.
  const dirA = tempDir('simops-bench-api-');
  const a = await startServer(dirA);
  const apiA = client(a.ready);
  await createSandboxes(apiA, 0, PATCH_OBJECTS);
  const names = Array.from({ length: PATCH_OBJECTS }, (_, i) => sandbox(i).metadata.name);
  const listed = await apiA.call('GET', GROUP_PATH);
  const rv = (JSON.parse(listed.text) as { metadata: { resourceVersion: string } }).metadata.resourceVersion;
  const watcher = spawnChild('watch', []);
  watcher.send({ type: 'start', url: a.ready.url, caPem: a.ready.caPem, token: a.ready.token, rv });
  await nextMessageOf(watcher, 'watching');
  a.child.send({ type: 'probe' });
  await nextMessageOf(a.child, 'probing');
  const loadStart = wallNow();
  const patches = await patchLoad(a.ready.url, a.ready.token, names);
  await new Promise((r) => setTimeout(r, 500));
  const from = loadStart + WARMUP_MS;
  const stats = nextMessageOf<{ type: string; stats: LatencyStats & { clockOffsetMs: number } }>(
    watcher,
    'stats',
  );
  watcher.send({ type: 'stop', from, offset: wallMinusMonotonic() });
  const watch = (await stats).stats;
  const probeStats = nextMessageOf<{
    type: string;
    stats: LatencyStats;
    gc: Record<'minor' | 'major', { count: number; totalMs: number; maxMs: number }>;
    loopDelay: { p50Ms: number; p99Ms: number; maxMs: number };
  }>(a.child, 'probe-stats');
  a.child.send({ type: 'probe-stop', from });
  const { stats: commit, gc, loopDelay } = await probeStats;
  // Every committed patch must reach the watcher; the last few in flight commit without a counted reply.
  const complete = watch.events === commit.events && commit.events - patches.ok <= CONNECTIONS;
  apiA.close();
  await stopServer(a.child);

  // The peer, measured with the same load right after.
  const peer = spawnChild('peer', [dirA]);
  const peerReady = await nextMessageOf<{ type: string; url: string }>(peer, 'ready');
  const peerLoad = await patchLoad(peerReady.url, a.ready.token, names);
  await killAndWait(peer, 'SIGTERM');

  console.log(
    `1. status patches: ${Math.round(patches.perSecond)}/s (${patches.ok} ok, ${patches.failed} failed; ` +
      `latency p50 ${patches.latencyP50} ms, p99 ${patches.latencyP99} ms; CPU idle ${round(patches.idlePct)}%, steal ${round(patches.stealPct)}%); ` +
      `peer (bare https.createServer): ${Math.round(peerLoad.perSecond)}/s (${peerLoad.failed} failed; ` +
      `CPU idle ${round(peerLoad.idlePct)}%, steal ${round(peerLoad.stealPct)}%); ratio ${round(patches.perSecond / peerLoad.perSecond, 2)}`,
  );
  console.log(
    `2. watch delivery: p50 ${round(watch.p50, 2)} ms, p90 ${round(watch.p90, 2)} ms, p99 ${round(watch.p99, 2)} ms, ` +
      `max ${round(watch.max, 1)} ms, mean ${round(watch.mean, 2)} ms over ${watch.counted} events after ` +
      `${WARMUP_MS} ms warm-up (max incl. warm-up ${round(watch.maxAll, 1)} ms); ` +
      `${watch.events} MODIFIED events for ${commit.events} commits and ${patches.ok} replies; ` +
      `clock offset watcher vs load ${round(watch.clockOffsetMs * 1000, 0)} µs`,
  );
  console.log(
    `   of which stamp -> commit in the server (client send, server queue, handling): p50 ${round(commit.p50, 2)} ms, ` +
      `p90 ${round(commit.p90, 2)} ms, p99 ${round(commit.p99, 2)} ms, max ${round(commit.max, 1)} ms`,
  );
  console.log(
    `   server during the load: GC pauses ${gc.minor.count} minor (${Math.round(gc.minor.totalMs)} ms in all, ` +
      `max ${round(gc.minor.maxMs, 1)} ms) and ${gc.major.count} major/incremental (${Math.round(gc.major.totalMs)} ms, ` +
      `max ${round(gc.major.maxMs, 1)} ms); event-loop delay p50 ${round(loopDelay.p50Ms, 2)} ms, ` +
      `p99 ${round(loopDelay.p99Ms, 2)} ms, max ${round(loopDelay.maxMs, 1)} ms`,
  );

  // 3: RSS with 10,000 objects; 4: recovery after SIGKILL.
  const dirB = tempDir('simops-bench-api-rss-');
  const b = await startServer(dirB);
  const empty = await memoryOf(b.child);
  const apiB = client(b.ready);
  const createsPerSecond = await createSandboxes(apiB, 0, RSS_OBJECTS);
  const one = await apiB.call('GET', `${GROUP_PATH}/${sandbox(1).metadata.name}`);
  const objectBytes = Buffer.byteLength(one.text);
  apiB.close();
  const memory = await memoryOf(b.child);
  console.log(
    `3. RSS with ${RSS_OBJECTS} Sandboxes (${objectBytes} B each as JSON, created at ${Math.round(createsPerSecond)}/s): ` +
      `${round(mib(memory.vmRss))} MiB after GC (anon ${round(mib(memory.rssAnon))}, file ${round(mib(memory.rssFile))}; ` +
      `V8 heap ${round(mib(memory.heapUsed))} used of ${round(mib(memory.heapTotal))} MiB; peak ${round(mib(memory.vmHwm))} MiB); ` +
      `the same server empty: ${round(mib(empty.vmRss))} MiB (heap used ${round(mib(empty.heapUsed))} MiB)`,
  );
  await killAndWait(b.child, 'SIGKILL');

  const recoveries: { totalMs: number; readyMs: number; listMs: number; t: ServerTimings; rss: number }[] =
    [];
  for (let run = 0; run < RESTARTS; run++) {
    const r = await startServer(dirB);
    const api = client(r.ready, 1);
    const res = await api.call('GET', GROUP_PATH);
    const items = res.status === 200 ? (JSON.parse(res.text) as { items: unknown[] }).items.length : 0;
    const listedAt = performance.now();
    api.close();
    if (items !== RSS_OBJECTS) throw new Error(`after restart: HTTP ${res.status}, ${items} items`);
    const mem = await memoryOf(r.child);
    recoveries.push({
      totalMs: listedAt - r.spawnedAt,
      readyMs: r.readyAt - r.spawnedAt,
      listMs: listedAt - r.readyAt,
      t: r.ready.timings,
      rss: mem.vmRss,
    });
    if (run < RESTARTS - 1) await killAndWait(r.child, 'SIGKILL');
    else await stopServer(r.child);
  }
  const sortedTotals = recoveries.map((r) => r.totalMs).sort((x, y) => x - y);
  const recovery = recoveries.find((r) => r.totalMs === percentile(sortedTotals, 0.5))!;
  console.log(
    `4. recovery of ${RSS_OBJECTS} objects after SIGKILL (WAL replay): spawn to full list ` +
      `${recoveries.map((r) => Math.round(r.totalMs)).join(' / ')} ms (median ${Math.round(recovery.totalMs)}); median run: ` +
      `Node start + imports ${Math.round(recovery.t.entryMs)} ms, startEmbedded ${Math.round(recovery.t.startEmbeddedMs)} ms ` +
      `(of which store recovery ${recovery.t.recoverMs} ms), listening at ${Math.round(recovery.t.listeningAtMs)} ms ` +
      `after process start, ready via IPC ${Math.round(recovery.readyMs)} ms after spawn, ` +
      `GET list ${Math.round(recovery.listMs)} ms; RSS after recovery ${round(mib(recovery.rss))} MiB`,
  );

  const rows: [string, string, string, boolean][] = [
    [
      'status patches/s (1 client, TLS)',
      `${Math.round(patches.perSecond)} (peer ${Math.round(peerLoad.perSecond)}, ratio ${round(patches.perSecond / peerLoad.perSecond, 2)})`,
      `>= ${TARGETS.patchesPerSecond}`,
      patches.perSecond >= TARGETS.patchesPerSecond && patches.failed === 0,
    ],
    [
      'watch delivery p50 / p99 (ms)',
      `${round(watch.p50, 2)} / ${round(watch.p99, 2)}`,
      `p99 <= ${TARGETS.watchP99Ms}`,
      watch.p99 <= TARGETS.watchP99Ms && complete,
    ],
    [
      `RSS with ${RSS_OBJECTS} objects (MiB)`,
      `${round(mib(memory.vmRss))}`,
      `<= ${TARGETS.rssMiB}`,
      mib(memory.vmRss) <= TARGETS.rssMiB,
    ],
    [
      `recovery of ${RSS_OBJECTS} objects (ms)`,
      `${Math.round(recovery.totalMs)} (store ${recovery.t.recoverMs})`,
      `<= ${TARGETS.recoveryMs}`,
      recovery.totalMs <= TARGETS.recoveryMs,
    ],
  ];
  const widths = [0, 1, 2].map((c) => Math.max(...rows.map((r) => (r[c] as string).length), 6));
  console.log();
  console.log(['figure', 'measured', 'target', 'result'].map((h, c) => h.padEnd(widths[c] ?? 6)).join('  '));
  for (const [name, value, target, ok] of rows) {
    console.log(
      [name.padEnd(widths[0]!), value.padEnd(widths[1]!), target.padEnd(widths[2]!), pass(ok)].join('  '),
    );
  }
  console.log(`(bench took ${Math.round((performance.now() - benchStarted) / 1000)} s)`);
};

const [role, arg] = process.argv.slice(2);
// A child never outlives the orchestrator, whatever way it ends.
if (role) process.on('disconnect', () => process.exit(1));
if (role === 'peer') await runPeer(arg!);
else if (role === 'watch') runWatcher();
else await main();
