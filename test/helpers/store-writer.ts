// A child process for test/store-crash.test.ts: writes to a store as fast as it can until killed,
// printing each write only after the store acknowledged it.
// Usage: node store-writer.ts <dir> <compactBytes> <tag>
// Prints one line per acknowledged write: `<rv> <c|u|d> <key> <token>` (token `-` for a delete).
import { writeSync } from 'node:fs';
import { openFileStore } from '../../apiserver/store/file-store.ts';

export const WRITER_PREFIX = '/simops.dev/sandboxes/';
const KEYS = 150;
/** Stops on its own after this many writes, should the test fail to kill it. */
const MAX_WRITES = 500_000;

/** Synchronous, so an acknowledgement is on the pipe before the next write starts. */
const print = (line: string): void => {
  const buf = Buffer.from(line);
  let offset = 0;
  while (offset < buf.length) {
    try {
      offset += writeSync(1, buf, offset);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') throw err;
    }
  }
};

const main = (dir: string, compactBytes: number, tag: string): void => {
  const store = openFileStore({ dir, compactBytes });
  const revisions = new Map<string, number>();
  for (const object of store.list(WRITER_PREFIX).items) {
    const { namespace, name } = object.metadata;
    revisions.set(`${WRITER_PREFIX}${namespace}/${name}`, Number(object.metadata.resourceVersion));
  }
  const pad = 'p'.repeat(400 + Math.floor(Math.random() * 800));
  for (let i = 0; i < MAX_WRITES; i++) {
    const n = Math.floor(Math.random() * KEYS);
    const namespace = `ns-${n % 4}`;
    const name = `obj-${n}`;
    const key = `${WRITER_PREFIX}${namespace}/${name}`;
    const token = `${tag}.${i}`;
    const object = {
      apiVersion: 'simops.dev/v1alpha1',
      kind: 'Sandbox',
      metadata: { name, namespace },
      spec: { token, pad },
      status: { phase: i % 2 === 0 ? 'Ready' : 'Pending' },
    };
    const current = revisions.get(key);
    if (current === undefined) {
      const rv = Number(store.create(key, object).metadata.resourceVersion);
      revisions.set(key, rv);
      print(`${rv} c ${key} ${token}\n`);
    } else if (Math.random() < 0.8) {
      const rv = Number(store.update(key, object, current).metadata.resourceVersion);
      revisions.set(key, rv);
      print(`${rv} u ${key} ${token}\n`);
    } else {
      const rv = Number(store.delete(key, current).metadata.resourceVersion);
      revisions.delete(key);
      print(`${rv} d ${key} -\n`);
    }
  }
  store.close();
};

if (import.meta.main) {
  const [dir, compactBytes, tag] = process.argv.slice(2);
  if (!dir || !compactBytes || !tag) {
    console.error('usage: store-writer.ts <dir> <compactBytes> <tag>');
    process.exit(2);
  }
  main(dir, Number(compactBytes), tag);
}
