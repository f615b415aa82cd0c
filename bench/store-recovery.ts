// Measures the file store: write cost, list cost, compaction and recovery of 10,000 ~1.5 KB objects.
// Usage: node bench/store-recovery.ts [dir]   (a new dir to keep the files in; default a temp dir)
// Recovery is timed in a fresh process, as after a restart.
import { execFileSync } from 'node:child_process';
import { statSync } from 'node:fs';
import { join } from 'node:path';
import { openFileStore } from '../apiserver/store/file-store.ts';
import type { Store } from '../apiserver/store/types.ts';
import type { KubeObject } from '../apiserver/types.ts';
import { tempDir } from '../test/helpers/tmp.ts';

const OBJECTS = 10_000;
const UPDATES = 30_000;
const self = new URL(import.meta.url).pathname;
const quiet = { info: () => {}, warn: console.warn, error: console.error };

const keyOf = (i: number) => `/simops.dev/sandboxes/team-${i % 20}/sandbox-${i}`;

/** A Sandbox of about 1.5 KB as JSON, with the metadata a real server adds. */
const sandbox = (i: number, generation: number): KubeObject => ({
  apiVersion: 'simops.dev/v1alpha1',
  kind: 'Sandbox',
  metadata: {
    name: `sandbox-${i}`,
    namespace: `team-${i % 20}`,
    uid: `6f1c2b3a-0000-4000-8000-${String(i).padStart(12, '0')}`,
    generation: 1,
    creationTimestamp: '2025-01-01T00:00:00Z',
    labels: { app: 'booking', team: `team-${i % 20}`, tier: 'dev' },
    annotations: {
      'simops.dev/source': `git@example.com:org/envs.git#sandboxes/sandbox-${i}.yaml`,
      'simops.dev/revision': '9f4c2d1e8b7a6f5e4d3c2b1a0f9e8d7c6b5a4f3e',
    },
    managedFields: [
      {
        manager: 'simops',
        operation: 'Apply',
        apiVersion: 'simops.dev/v1alpha1',
        time: '2025-01-01T00:00:00Z',
        fieldsType: 'FieldsV1',
        fieldsV1: { 'f:spec': { 'f:runtime': {}, 'f:simulatorRef': {}, 'f:machines': {} } },
      },
    ],
  },
  spec: {
    runtime: 'process',
    simulatorRef: { name: 'booking-sim' },
    machines: Array.from({ length: 4 }, (_, m) => ({
      name: `m${m}`,
      image: `registry.example.com/sim:${m}`,
    })),
    env: Object.fromEntries(Array.from({ length: 16 }, (_, e) => [`VAR_${e}`, `value-${e}-${i}`])),
  },
  status: {
    phase: 'Ready',
    observedGeneration: generation,
    conditions: [
      {
        type: 'Ready',
        status: 'True',
        reason: 'AllMachinesRunning',
        message: `all machines are running (${generation})`,
        lastTransitionTime: '2025-01-01T00:00:00Z',
      },
    ],
  },
});

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;

/**
 * Runs `write(prepare(i))` n times; returns writes per second (with the preparation) and the
 * median and p99 latency in µs and the maximum in ms of the store call alone.
 */
const timeWrites = <T>(n: number, prepare: (i: number) => T, write: (input: T) => void) => {
  const latencies: number[] = [];
  const started = performance.now();
  for (let i = 0; i < n; i++) {
    const input = prepare(i);
    const t = performance.now();
    write(input);
    latencies.push((performance.now() - t) * 1000);
  }
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  return {
    perSecond: Math.round(n / seconds),
    p50us: Math.round(percentile(latencies, 0.5)),
    p99us: Math.round(percentile(latencies, 0.99)),
    maxMs: Math.round(latencies.at(-1)! / 100) / 10,
  };
};

/** Opens the store in a fresh process and returns how long the open (the recovery) took. */
const recoverInChild = (dir: string) => {
  const started = performance.now();
  const out = execFileSync(process.execPath, [self, 'recover', dir], { encoding: 'utf8' });
  const { openMs, objects } = JSON.parse(out) as { openMs: number; objects: number };
  return { openMs, processMs: Math.round(performance.now() - started), objects };
};

const size = (dir: string, file: string) => `${(statSync(join(dir, file)).size / 1048576).toFixed(1)} MiB`;

const bench = (dir: string) => {
  const objectBytes = JSON.stringify(sandbox(1, 1)).length;
  console.log(`store bench: ${OBJECTS} objects of ${objectBytes} bytes as JSON, in ${dir}`);

  let store: Store = openFileStore({ dir, logger: quiet });
  console.log(
    'create',
    timeWrites(
      OBJECTS,
      (i) => sandbox(i, 1),
      (object) => store.create(keyOf(Number(object.metadata.name!.slice(8))), object),
    ),
  );
  console.log(
    'status update',
    timeWrites(
      UPDATES,
      (n) => {
        const key = keyOf(n % OBJECTS);
        const current = store.get(key)!;
        return {
          key,
          object: { ...current, status: sandbox(n % OBJECTS, n).status },
          rv: current.metadata.resourceVersion,
        };
      },
      ({ key, object, rv }) => store.update(key, object, Number(rv)),
    ),
  );
  let t = performance.now();
  const listed = store.list('/simops.dev/sandboxes/').items.length;
  const listAllMs = performance.now() - t;
  t = performance.now();
  const inNamespace = store.list('/simops.dev/sandboxes/team-3/').items.length;
  const listNamespaceMs = performance.now() - t;
  console.log('list', {
    all: `${listed} items in ${listAllMs.toFixed(2)} ms`,
    namespace: `${inNamespace} items in ${listNamespaceMs.toFixed(2)} ms`,
  });
  store.close();

  console.log(
    `recover from the WAL alone (${OBJECTS + UPDATES} records, ${size(dir, 'wal.jsonl')})`,
    recoverInChild(dir),
  );

  let compactMs: unknown;
  const logger = {
    ...quiet,
    info: (fields: Record<string, unknown>, message: string) => {
      if (message === 'store: compacted') compactMs = fields.ms;
    },
  };
  store = openFileStore({ dir, logger, compactBytes: 1 });
  store.close();
  console.log(`compaction (snapshot ${size(dir, 'snapshot.jsonl')})`, { ms: compactMs });
  console.log('recover from the snapshot alone', recoverInChild(dir));

  // The worst case with the default settings: a snapshot plus a WAL just short of 64 MiB.
  store = openFileStore({ dir, logger: quiet });
  for (let n = 0; statSync(join(dir, 'wal.jsonl')).size < 63 * 1048576; n++) {
    const key = keyOf(n % OBJECTS);
    store.update(key, { ...store.get(key)!, status: sandbox(n % OBJECTS, n).status });
  }
  store.close();
  console.log(`recover from the snapshot + a ${size(dir, 'wal.jsonl')} WAL`, recoverInChild(dir));
};

if (process.argv[2] === 'recover') {
  const started = performance.now();
  const store = openFileStore({ dir: process.argv[3]!, logger: quiet });
  const openMs = Math.round(performance.now() - started);
  console.log(JSON.stringify({ openMs, objects: store.list('/').items.length }));
  store.close();
} else {
  bench(process.argv[2] ?? tempDir('simops-bench-store-'));
}
