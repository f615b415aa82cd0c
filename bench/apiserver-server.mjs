// The server child of bench/apiserver.ts: the embedded API server from the built JavaScript in dist/
// (`npm run build`), as `simops up` runs it, in plain JavaScript so that this process does not load
// Node's TypeScript type stripper. The orchestrator forks it with the flags and environment of
// bin/node-flags.js and drives it over IPC:
//   -> { type: 'probe' }           <- { type: 'probing' }       start the commit probe, GC and loop-delay monitors
//   -> { type: 'probe-stop', from } <- { type: 'probe-stats', stats, gc, loopDelay }
//   -> { type: 'memory' }          <- { type: 'memory', ... }   after two full GCs
//   -> { type: 'exit' }                                         stop the server and exit 0
// and sends { type: 'ready', url, caPem, token, timings } once listening.
// Usage (by the orchestrator only): node bench/apiserver-server.mjs <data dir>
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay, PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { DIST_MISSING_OR_STALE, distIsFresh, stampOf, summarize, wallNow } from './apiserver-shared.mjs';

/**
 * @typedef {object} ServerTimings
 * @property {number} entryMs ms from process start to the server module loaded (Node start-up, imports).
 * @property {number} [recoverMs] ms the store's recovery took, as the store logs it.
 * @property {number} startEmbeddedMs ms startEmbedded took: credentials, store open, API server start.
 * @property {number} listeningAtMs ms from process start to the server listening.
 */

/** @param {unknown} msg */
const send = (msg) => /** @type {NonNullable<typeof process.send>} */ (process.send)(msg);

const quietLogger = {
  info: () => {},
  warn: () => {},
  /** @type {(o: object, m?: string) => void} */
  error: (o, m) => console.error(m, o),
};

/**
 * startEmbedded from dist/apiserver/embedded.js, if dist is as new as the sources (bin/entry.js
 * decides, as for `simops up`); else exits with a message.
 * @returns {Promise<typeof import('../apiserver/embedded.ts').startEmbedded>}
 */
const loadStartEmbedded = async () => {
  if (!distIsFresh()) {
    console.error(`bench/apiserver-server.mjs: ${DIST_MISSING_OR_STALE}`);
    process.exit(1);
  }
  return (await import(new URL('../dist/apiserver/embedded.js', import.meta.url).href)).startEmbedded;
};

/**
 * @param {typeof import('../apiserver/embedded.ts').startEmbedded} startEmbedded
 * @param {string} dataDir
 * @param {number} entryMs
 */
const runServer = async (startEmbedded, dataDir, entryMs) => {
  /** @type {number | undefined} */
  let recoverMs;
  const logger = {
    ...quietLogger,
    /** @type {(o: object, msg?: string) => void} */
    info: (o, msg) => {
      if (msg === 'store: recovered') recoverMs = /** @type {{ ms: number }} */ (o).ms;
    },
  };
  const started = performance.now();
  const embedded = await startEmbedded({ dataDir, port: 0, logger });
  const listeningAtMs = performance.now();
  /** @type {ServerTimings} */
  const timings = { entryMs, recoverMs, startEmbeddedMs: listeningAtMs - started, listeningAtMs };
  // The commit probe: now - stamp when the store commits a patch, in the server process itself.
  const store = embedded.server.service.store;
  /** @type {number[]} */
  const stamps = [];
  /** @type {number[]} */
  const latencies = [];
  let stopProbe = () => {};
  // And what stalls the server's event loop meanwhile: GC pauses and event-loop delay.
  /** @type {{ minor: number[]; major: number[] }} */
  const gcPauses = { minor: [], major: [] };
  const gcObserver = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      const kind = /** @type {{ detail?: { kind?: number } }} */ (e).detail?.kind;
      (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR ? gcPauses.minor : gcPauses.major).push(e.duration);
    }
  });
  const loopDelay = monitorEventLoopDelay({ resolution: 1 });
  /** @param {number[]} all */
  const pauses = (all) => ({
    count: all.length,
    totalMs: all.reduce((x, y) => x + y, 0),
    maxMs: Math.max(0, ...all),
  });
  process.on('message', async (/** @type {{ type: string; from?: number }} */ m) => {
    if (m.type === 'probe') {
      gcObserver.observe({ entryTypes: ['gc'] });
      loopDelay.enable();
      stopProbe = store.watch('/simops.dev/sandboxes/', store.revision, (e) => {
        const sent = stampOf(e.object);
        if (sent === undefined) return;
        stamps.push(sent);
        latencies.push(wallNow() - sent);
      });
      send({ type: 'probing' });
    } else if (m.type === 'probe-stop') {
      stopProbe();
      gcObserver.disconnect();
      loopDelay.disable();
      send({
        type: 'probe-stats',
        stats: summarize(stamps, latencies, m.from ?? 0),
        gc: { minor: pauses(gcPauses.minor), major: pauses(gcPauses.major) },
        loopDelay: {
          p50Ms: loopDelay.percentile(50) / 1e6,
          p99Ms: loopDelay.percentile(99) / 1e6,
          maxMs: loopDelay.max / 1e6,
        },
      });
    } else if (m.type === 'memory') {
      globalThis.gc?.();
      globalThis.gc?.();
      const status = readFileSync('/proc/self/status', 'utf8');
      /** @param {string} field */
      const kb = (field) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1]) * 1024;
      send({
        type: 'memory',
        gcExposed: typeof globalThis.gc === 'function',
        ...process.memoryUsage(),
        vmRss: kb('VmRSS'),
        vmHwm: kb('VmHWM'),
        rssAnon: kb('RssAnon'),
        rssFile: kb('RssFile'),
      });
    } else if (m.type === 'exit') {
      await embedded.stop();
      process.exit(0);
    }
  });
  send({ type: 'ready', url: embedded.server.url, caPem: embedded.caPem, token: embedded.token, timings });
};

// A child never outlives the orchestrator, whatever way it ends.
process.on('disconnect', () => process.exit(1));
const dataDir = process.argv[2];
if (!dataDir || !process.send) {
  console.error(
    'usage: forked by bench/apiserver.ts as `apiserver-server.mjs <data dir>` (with an IPC channel)',
  );
  process.exit(2);
}
const startEmbedded = await loadStartEmbedded();
await runServer(startEmbedded, dataDir, performance.now());
