// A plain-HTTP front for the embedded API server that holds chosen requests back, for tests that
// need one slow API call (an informer's first list) while the rest (lease renewals) stays fast.
import { createServer, type IncomingMessage } from 'node:http';
import { request } from 'node:https';
import type { AddressInfo } from 'node:net';

export interface DelayProxy {
  /** `http://127.0.0.1:<port>`. */
  url: string;
  close(): Promise<void>;
}

export const startDelayProxy = async (
  target: string,
  caPem: string,
  delayMs: (req: IncomingMessage) => number,
): Promise<DelayProxy> => {
  const host = new URL(target).host;
  const server = createServer((req, res) => {
    const forward = () => {
      const upstream = request(
        new URL(req.url ?? '/', target),
        { method: req.method, headers: { ...req.headers, host }, ca: caPem },
        (answer) => {
          res.writeHead(answer.statusCode ?? 502, answer.headers);
          res.flushHeaders(); // a watch answers with headers long before its first event
          answer.pipe(res);
        },
      );
      upstream.on('error', () => res.destroy());
      req.pipe(upstream);
    };
    const ms = delayMs(req);
    if (ms > 0) setTimeout(forward, ms);
    else forward();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
