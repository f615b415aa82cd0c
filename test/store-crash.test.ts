// Kills a process writing to the store with SIGKILL at random moments, compactions included, and
// checks that every write it acknowledged survives and that revisions keep increasing.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { describe, it } from 'node:test';
import { openFileStore } from '../apiserver/store/file-store.ts';
import { recordingLogger } from '../apiserver/store/test-support.ts';
import type { Store } from '../apiserver/store/types.ts';
import { WRITER_PREFIX } from './helpers/store-writer.ts';
import { tempDir } from './helpers/tmp.ts';

const writer = new URL('./helpers/store-writer.ts', import.meta.url).pathname;
/** STORE_CRASH_ROUNDS=200 makes a soak test of it. */
const ROUNDS = Number(process.env.STORE_CRASH_ROUNDS ?? 6);
/** Small, so the writer compacts every few hundred writes and kills land mid-compaction too. */
const COMPACT_BYTES = 128 * 1024;
/** Where the test itself writes once per round, apart from the writer's objects. */
const PROBE_PREFIX = '/core/configmaps/probe/';

interface Ack {
  rv: number;
  op: 'c' | 'u' | 'd';
  key: string;
  token: string;
}

/** What a key holds: its revision and the writer's token, or absent. */
type State = Map<string, { rv: number; token: string }>;

interface Round {
  acks: Ack[];
  writesPerSecond: number;
  stderr: string;
  signal: NodeJS.Signals | null;
}

const parseAck = (line: string): Ack => {
  const [rv, op, key, token] = line.split(' ');
  assert.ok((op === 'c' || op === 'u' || op === 'd') && key && token, `bad ack line: ${line}`);
  return { rv: Number(rv), op, key, token };
};

/** Runs the writer until it has printed `killAfter` acks (plus a random moment), then SIGKILLs it. */
const runWriter = (dir: string, tag: string, killAfter: number): Promise<Round> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [writer, dir, String(COMPACT_BYTES), tag], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    const acks: Ack[] = [];
    let rest = '';
    let stderr = '';
    let firstAckAt = 0;
    let killedAt = 0;
    let killing = false;
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      stderr += chunk;
    });
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => {
      const lines = (rest + chunk).split('\n');
      // A line without its newline is not an acknowledgement yet.
      rest = lines.pop()!;
      for (const line of lines) acks.push(parseAck(line));
      if (!firstAckAt && acks.length > 0) firstAckAt = performance.now();
      if (acks.length >= killAfter && !killing) {
        killing = true;
        setTimeout(() => {
          killedAt = performance.now();
          child.kill('SIGKILL');
        }, Math.random() * 20);
      }
    });
    child.on('error', reject);
    // 'close' comes after the pipes are drained: every ack the writer printed is in `acks`.
    child.on('close', (_code, signal) => {
      const seconds = (killedAt - firstAckAt) / 1000;
      resolve({ acks, writesPerSecond: Math.round(acks.length / seconds), stderr, signal });
    });
  });

/** Checks the writer's objects in the reopened store against the acknowledged state; returns them. */
const verify = (store: Store, expected: State, lastAcked: number): State => {
  const actual: State = new Map();
  for (const object of store.list(WRITER_PREFIX).items) {
    const { namespace, name, resourceVersion } = object.metadata;
    const spec = object.spec as { token: string };
    actual.set(`${WRITER_PREFIX}${namespace}/${name}`, { rv: Number(resourceVersion), token: spec.token });
  }
  // The write in flight at the kill may have reached the WAL without being acknowledged: at most one.
  const unacknowledged = store.revision - lastAcked;
  assert.ok(
    unacknowledged === 0 || unacknowledged === 1,
    `revision ${store.revision}, last ack ${lastAcked}`,
  );
  const differing = [...new Set([...expected.keys(), ...actual.keys()])].filter(
    (key) => JSON.stringify(expected.get(key)) !== JSON.stringify(actual.get(key)),
  );
  assert.equal(
    differing.length,
    unacknowledged,
    `keys not in their acknowledged state: ${differing.join(', ')}`,
  );
  for (const key of differing) {
    const state = actual.get(key);
    if (state) assert.equal(state.rv, store.revision, `${key} differs but is not the unacknowledged write`);
  }
  return actual;
};

/** The watch history rebuilt from the WAL is consecutive up to the current revision. */
const verifyHistory = (store: Store): void => {
  const revisions: number[] = [];
  store.watch('/', store.oldestWatchableRevision, (event) => revisions.push(event.rv))();
  const from = store.oldestWatchableRevision + 1;
  assert.deepEqual(
    revisions,
    Array.from({ length: store.revision - from + 1 }, (_, i) => from + i),
  );
};

describe('store crash safety', () => {
  it('keeps every acknowledged write through repeated SIGKILLs of the writer', {
    timeout: 60_000,
  }, async (t) => {
    const dir = tempDir('simops-store-crash-');
    let state: State = new Map();
    let lastAcked = 0;
    for (let round = 1; round <= ROUNDS; round++) {
      const killAfter = 300 + Math.floor(Math.random() * 4000);
      const result = await runWriter(dir, `r${round}`, killAfter);
      assert.equal(result.signal, 'SIGKILL', `the writer ended on its own: ${result.stderr}`);
      assert.ok(result.acks.length >= killAfter);
      for (const ack of result.acks) {
        assert.ok(ack.rv > lastAcked, `ack ${ack.rv} after ${lastAcked}: revisions must increase`);
        lastAcked = ack.rv;
        if (ack.op === 'd') state.delete(ack.key);
        else state.set(ack.key, { rv: ack.rv, token: ack.token });
      }

      const logger = recordingLogger();
      const store = openFileStore({ dir, compactBytes: COMPACT_BYTES, logger });
      try {
        state = verify(store, state, lastAcked);
        verifyHistory(store);
        assert.equal(
          store.list(PROBE_PREFIX).items.length,
          round - 1,
          'the probes of earlier rounds survive',
        );
        const probe = store.create(`${PROBE_PREFIX}round-${round}`, {
          apiVersion: 'v1',
          kind: 'ConfigMap',
          metadata: { name: `round-${round}`, namespace: 'probe' },
        });
        assert.ok(Number(probe.metadata.resourceVersion) > lastAcked, 'a new write gets a newer revision');
        lastAcked = store.revision;
      } finally {
        store.close();
      }
      const recovered = logger.entries.find((e) => e.message === 'store: recovered')?.fields ?? {};
      const { revision, snapshotRevision, walRecords, coveredBySnapshot, tornBytes, leftovers } = recovered;
      t.diagnostic(
        `round ${round}: ${result.acks.length} acknowledged writes at ${result.writesPerSecond}/s; recovered ` +
          JSON.stringify({ revision, snapshotRevision, walRecords, coveredBySnapshot, tornBytes, leftovers }),
      );
    }
  });
});
