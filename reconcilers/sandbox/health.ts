// Listener health checks: a TCP connect, or an HTTP GET of the listener's path answered with a
// 2xx or 3xx (as E2B polls a ready command, and Kubernetes a readiness probe).
import { request } from 'node:http';
import { connect } from 'node:net';

export interface ListenerTarget {
  name: string;
  host: string;
  port: number;
  protocol: 'http' | 'tcp';
  path?: string;
}

export type CheckResult = { ok: true } | { ok: false; error: string };

export const describeTarget = (t: ListenerTarget) =>
  t.protocol === 'http' ? `http://${t.host}:${t.port}${t.path ?? '/'}` : `tcp://${t.host}:${t.port}`;

const tcp = (t: ListenerTarget, timeoutMs: number) =>
  new Promise<CheckResult>((resolve) => {
    const socket = connect({ host: t.host, port: t.port });
    const done = (r: CheckResult) => {
      socket.destroy();
      resolve(r);
    };
    socket.setTimeout(timeoutMs, () => done({ ok: false, error: `no answer within ${timeoutMs} ms` }));
    socket.once('connect', () => done({ ok: true }));
    socket.once('error', (err: NodeJS.ErrnoException) => done({ ok: false, error: err.code ?? err.message }));
  });

const http = (t: ListenerTarget, timeoutMs: number) =>
  new Promise<CheckResult>((resolve) => {
    const req = request(
      { host: t.host, port: t.port, path: t.path ?? '/', method: 'GET', timeout: timeoutMs, agent: false },
      (res) => {
        res.resume();
        const code = res.statusCode ?? 0;
        resolve(code >= 200 && code < 400 ? { ok: true } : { ok: false, error: `HTTP ${code}` });
      },
    );
    req.once('timeout', () => {
      req.destroy();
      resolve({ ok: false, error: `no answer within ${timeoutMs} ms` });
    });
    req.once('error', (err: NodeJS.ErrnoException) => resolve({ ok: false, error: err.code ?? err.message }));
    req.end();
  });

export const checkListener = (t: ListenerTarget, timeoutMs = 1000): Promise<CheckResult> =>
  t.protocol === 'http' ? http(t, timeoutMs) : tcp(t, timeoutMs);

/**
 * Polls every listener until all answer. Rejects with a message naming the listener that did not
 * answer in time, or when `stillAlive` says the services died meanwhile.
 */
export const waitForListeners = async (
  targets: readonly ListenerTarget[],
  opts: {
    timeoutMs: number;
    intervalMs?: number;
    signal?: AbortSignal;
    stillAlive?: () => string | undefined;
  },
): Promise<void> => {
  const deadline = Date.now() + opts.timeoutMs;
  const pending = new Map(targets.map((t) => [t.name, t]));
  const last = new Map<string, string>();
  for (;;) {
    opts.signal?.throwIfAborted();
    const dead = opts.stillAlive?.();
    if (dead) throw new Error(dead);
    await Promise.all(
      [...pending.values()].map(async (t) => {
        const r = await checkListener(t, Math.min(1000, Math.max(50, deadline - Date.now())));
        if (r.ok) pending.delete(t.name);
        else last.set(t.name, r.error);
      }),
    );
    if (pending.size === 0) return;
    if (Date.now() >= deadline) {
      const t = [...pending.values()][0]!;
      throw new Error(
        `listener ${t.name} (${describeTarget(t)}) did not answer within ${Math.round(opts.timeoutMs / 1000)} s: ${last.get(t.name) ?? 'no answer'}`,
      );
    }
    await new Promise((r) => setTimeout(r, opts.intervalMs ?? 25));
  }
};
