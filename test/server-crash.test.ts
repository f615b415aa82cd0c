// Kill -9 the API server while a client writes: every acknowledged write must survive, and
// resourceVersions must keep increasing after the restart.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { it } from 'node:test';
import { apiClient, type RawResponse } from './helpers/https-client.ts';
import { tempDir } from './helpers/tmp.ts';

const entry = new URL('./helpers/server-process.ts', import.meta.url).pathname;
const CM = '/api/v1/namespaces/default/configmaps';

const startServer = (dataDir: string, port: number): Promise<{ child: ChildProcess; url: string }> =>
  new Promise((resolve, reject) => {
    // A small compaction threshold so compactions happen during the run too.
    const child = spawn(process.execPath, [entry, dataDir, String(port), String(256 * 1024)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout!.setEncoding('utf8').on('data', (s: string) => {
      out += s;
      const m = out.match(/READY (\S+)/);
      if (m) resolve({ child, url: m[1]! });
    });
    child.on('exit', (code) => reject(new Error(`server exited with ${code} before it was ready: ${out}`)));
  });

it('keeps every acknowledged write across SIGKILL of the server, with increasing resourceVersions', async () => {
  const dataDir = tempDir('simops-crash-');
  let { child, url } = await startServer(dataDir, 0);
  const port = Number(new URL(url).port);
  const ca = readFileSync(join(dataDir, 'pki', 'ca.crt'), 'utf8');
  const token = readFileSync(join(dataDir, 'token'), 'utf8').trim();
  /** name → highest acknowledged sequence number (and its resourceVersion); deleted when a delete was acknowledged. */
  const acked = new Map<string, { seq: number; rv: number; maybeDeleted?: boolean } | 'deleted'>();
  let maxRv = 0;
  let seq = 0;
  const seed = Date.now() % 100_000;
  let rand = seed;
  const random = () => {
    rand = (rand * 1103515245 + 12345) % 2 ** 31;
    return rand / 2 ** 31;
  };

  try {
    for (let round = 0; round < 4; round++) {
      const client = apiClient(url, ca, token);
      const killAfter = 500 + Math.floor(random() * 2000);
      let acks = 0;
      let killed = false;
      const writer = async (w: number) => {
        while (!killed) {
          const name = `cm-${w}-${Math.floor(random() * 40)}`;
          const mySeq = ++seq;
          const state = acked.get(name);
          let deleting = false;
          try {
            let res: RawResponse;
            if (state === undefined || state === 'deleted') {
              res = await client.send('POST', CM, {
                apiVersion: 'v1',
                kind: 'ConfigMap',
                metadata: { name },
                data: { seq: String(mySeq) },
              });
              if (res.status === 409)
                res = await client.send(
                  'PATCH',
                  `${CM}/${name}`,
                  { data: { seq: String(mySeq) } },
                  { 'Content-Type': 'application/merge-patch+json' },
                );
            } else if (random() < 0.1) {
              deleting = true;
              res = await client.send('DELETE', `${CM}/${name}`);
              if (res.status === 200) {
                acked.set(name, 'deleted');
                acks++;
                continue;
              }
            } else {
              res = await client.send(
                'PATCH',
                `${CM}/${name}`,
                { data: { seq: String(mySeq) } },
                { 'Content-Type': 'application/merge-patch+json' },
              );
            }
            if (res.status === 200 || res.status === 201) {
              const rv = Number(
                res.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion,
              );
              assert.ok(rv > 0);
              const prev = acked.get(name);
              if (prev === undefined || prev === 'deleted' || prev.seq < mySeq)
                acked.set(name, { seq: mySeq, rv });
              maxRv = Math.max(maxRv, rv);
              acks++;
            }
          } catch {
            // Connection reset by the kill: not acknowledged, but it may have landed.
            const prev = acked.get(name);
            if (deleting && prev && prev !== 'deleted') acked.set(name, { ...prev, maybeDeleted: true });
          }
          if (!killed && acks >= killAfter) {
            killed = true;
            child.kill('SIGKILL');
          }
        }
      };
      await Promise.all([0, 1, 2, 3].map(writer));
      client.close();
      await new Promise((r) =>
        child.exitCode !== null || child.signalCode !== null ? r(null) : child.once('exit', r),
      );

      ({ child, url } = await startServer(dataDir, port));
      const check = apiClient(url, ca, token);
      const list = (await check.send('GET', CM)).json<{
        items: { metadata: { name: string }; data?: { seq: string } }[];
      }>();
      const live = new Map(
        list.items.filter((i) => i.data).map((i) => [i.metadata.name, Number(i.data!.seq)]),
      );
      for (const [name, state] of acked) {
        if (state === 'deleted') continue; // a later unacknowledged create may have landed
        const stored = live.get(name);
        if (stored === undefined && state.maybeDeleted) continue;
        assert.ok(stored !== undefined, `round ${round} (seed ${seed}): acknowledged ${name} is missing`);
        assert.ok(
          stored >= state.seq,
          `round ${round} (seed ${seed}): ${name} went back from ${state.seq} to ${stored}`,
        );
      }
      const probe = await check.send('POST', CM, {
        apiVersion: 'v1',
        kind: 'ConfigMap',
        metadata: { name: `probe-${round}` },
      });
      assert.equal(probe.status, 201);
      const rv = Number(probe.json<{ metadata: { resourceVersion: string } }>().metadata.resourceVersion);
      assert.ok(rv > maxRv, `round ${round}: resourceVersion ${rv} after restart is not above ${maxRv}`);
      maxRv = rv;
      // The restarted server's truth is the baseline of the next round.
      for (const [name, s] of live) acked.set(name, { seq: s, rv: 0 });
      for (const name of acked.keys()) if (!live.has(name)) acked.set(name, 'deleted');
      check.close();
    }
  } finally {
    child.kill('SIGKILL');
  }
});
