// Live mode's check: does the device's endpoint accept a TCP connection within the timeout?
import { connect } from 'node:net';
import type { Connection } from './resolve.ts';

export type Reachability = { reachable: true; ms: number } | { reachable: false; error: string };

export type ProbeFn = (target: Connection, timeoutMs: number, signal?: AbortSignal) => Promise<Reachability>;

export const probeTcp: ProbeFn = (target, timeoutMs, signal) =>
  new Promise((resolve) => {
    const started = performance.now();
    const socket = connect({ host: target.host, port: target.port });
    let settled = false;
    const finish = (r: Reachability) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      resolve(r);
    };
    const onAbort = () => finish({ reachable: false, error: 'check aborted' });
    const timer = setTimeout(
      () => finish({ reachable: false, error: `no answer within ${timeoutMs} ms` }),
      timeoutMs,
    );
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => finish({ reachable: true, ms: Math.round(performance.now() - started) }));
    socket.once('error', (err: Error) => finish({ reachable: false, error: err.message }));
  });
