import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { SortedKeys } from './sorted-keys.ts';

describe('SortedKeys', () => {
  it('lists keys by prefix in order, through inserts and removals', () => {
    const keys = new SortedKeys(['/g/r/b/1', '/g/r/a/2']);
    keys.insert('/g/r/ab/1');
    keys.insert('/g/r/a/1');
    keys.insert('/g/r/a/1');
    keys.insert('/g/s/a/1');
    assert.equal(keys.size, 5);
    assert.deepEqual(keys.withPrefix('/g/r/a/'), ['/g/r/a/1', '/g/r/a/2']);
    assert.deepEqual(keys.withPrefix('/g/r/'), ['/g/r/a/1', '/g/r/a/2', '/g/r/ab/1', '/g/r/b/1']);
    assert.deepEqual(keys.withPrefix('/g/q/'), []);
    keys.remove('/g/r/a/1');
    keys.remove('/g/r/zz');
    assert.deepEqual(keys.withPrefix('/g/r/a/'), ['/g/r/a/2']);
    assert.equal(keys.withPrefix('').length, 4);
  });

  it('matches a plain sort of random keys', () => {
    const keys = new SortedKeys();
    const all = new Set<string>();
    for (let i = 0; i < 2_000; i++) {
      const key = `/g/r/ns-${Math.floor(Math.random() * 20)}/obj-${Math.floor(Math.random() * 500)}`;
      if (all.has(key) && Math.random() < 0.5) {
        keys.remove(key);
        all.delete(key);
      } else {
        keys.insert(key);
        all.add(key);
      }
    }
    assert.deepEqual(keys.withPrefix('/'), [...all].sort());
    assert.deepEqual(
      keys.withPrefix('/g/r/ns-1/'),
      [...all].filter((k) => k.startsWith('/g/r/ns-1/')).sort(),
    );
  });
});
