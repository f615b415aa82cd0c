// The controller's own HTTP endpoint: Prometheus metrics, liveness and readiness probes, and
// further handlers (such as the GitSource webhook receiver) tried in order. Loopback by default.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { registry } from './metrics.ts';

/** Handles the request and returns true, or returns false to let the next handler try. */
export type ExtraHandler = (req: IncomingMessage, res: ServerResponse) => Promise<boolean>;

export interface HealthServerOptions {
  host?: string;
  /** 0 picks a free port. */
  port: number;
  ready: () => boolean;
  /** Why the process is not ready, for the 503 body (e.g. "waiting for leadership"). */
  notReadyReason?: () => string;
  extraHandlers?: ExtraHandler[];
}

export interface HealthServer {
  url: string;
  port: number;
  close(): Promise<void>;
}

const send = (
  res: ServerResponse,
  status: number,
  body: string,
  contentType = 'text/plain; charset=utf-8',
) => {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body) });
  res.end(res.req.method === 'HEAD' ? undefined : body);
};

const isRead = (req: IncomingMessage) => req.method === 'GET' || req.method === 'HEAD';

export const startHealthServer = async (opts: HealthServerOptions): Promise<HealthServer> => {
  const host = opts.host ?? '127.0.0.1';
  const extraHandlers = opts.extraHandlers ?? [];

  const builtIn: Record<string, (res: ServerResponse) => Promise<void> | void> = {
    '/metrics': async (res) => send(res, 200, await registry.metrics(), registry.contentType),
    '/healthz': (res) => send(res, 200, 'ok\n'),
    '/readyz': (res) => {
      if (opts.ready()) send(res, 200, 'ok\n');
      else send(res, 503, `not ready: ${opts.notReadyReason?.() ?? 'starting'}\n`);
    },
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    const probe = builtIn[path];
    if (probe && isRead(req)) return probe(res);
    for (const handler of extraHandlers) if (await handler(req, res)) return;
    if (probe) {
      res.setHeader('Allow', 'GET, HEAD');
      return send(res, 405, 'method not allowed\n');
    }
    send(res, 404, 'not found\n');
  };

  const server = createServer((req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (!res.headersSent)
        send(res, 500, `internal error: ${err instanceof Error ? err.message : String(err)}\n`);
      else res.destroy();
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        // Keep-alive connections (Prometheus scrapers) would otherwise hold close() open.
        server.closeAllConnections();
      }),
  };
};
