// The fault proxy the runner puts in front of the target while fault events are active, with
// toxiproxy's vocabulary (each fault affects the `toxicity` fraction of requests, default all):
//   LATENCY {latencyMs, jitterMs}   delay before the request goes upstream (± jitter, uniform)
//   ERRORS {rate, status}           answer `status` (default 503) instead of the target, at `rate`
//   RESET_PEER {timeoutMs}          reset the connection (TCP RST) after timeoutMs (default 0)
//   BANDWIDTH {rateKBps}            the answer's bytes trickle at rateKBps
//   TIMEOUT {timeoutMs}             hold the request without an answer; close after timeoutMs (0: never)
// HTTP in, HTTP out, on loopback. Its decisions come from a seeded generator; which requests they
// hit depends on arrival order, their rates do not.
import {
  Agent,
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { AddressInfo, Socket } from 'node:net';
import { Rng } from './rng.ts';

export interface ActiveFault {
  /** A key for counting, e.g. `LATENCY@30`. */
  key: string;
  type: string;
  parameters: Record<string, unknown>;
}

export interface InjectedCounts {
  requests: number;
  latency: number;
  errors: number;
  resets: number;
  throttled: number;
  timeouts: number;
}

const HOP_BY_HOP = new Set([
  'connection',
  'keep-alive',
  'proxy-connection',
  'transfer-encoding',
  'upgrade',
  'te',
  'trailer',
]);

const n = (v: unknown, fallback: number): number =>
  typeof v === 'number' && Number.isFinite(v) ? v : fallback;

const emptyCounts = (): InjectedCounts => ({
  requests: 0,
  latency: 0,
  errors: 0,
  resets: 0,
  throttled: 0,
  timeouts: 0,
});

export class FaultProxy {
  private server: Server | undefined;
  private readonly upstream: URL;
  private readonly agent: Agent;
  private readonly rng: Rng;
  private faults: ActiveFault[] = [];
  private readonly sockets = new Set<Socket>();
  private readonly timers = new Set<NodeJS.Timeout>();
  /** Per fault key, what it did. */
  readonly counts = new Map<string, InjectedCounts>();
  url = '';

  constructor(upstream: string, seed: number) {
    this.upstream = new URL(upstream);
    this.agent = new Agent({ keepAlive: true, maxSockets: 1024 });
    this.rng = new Rng(seed, 7);
  }

  async listen(): Promise<string> {
    const server = createServer((req, res) => this.handle(req, res));
    server.keepAliveTimeout = 30_000;
    server.on('connection', (s) => {
      this.sockets.add(s);
      s.on('close', () => this.sockets.delete(s));
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    this.server = server;
    this.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${this.upstream.pathname.replace(/\/$/, '')}`;
    return this.url;
  }

  /** The faults in effect from now on. */
  set(faults: ActiveFault[]) {
    this.faults = faults;
    for (const f of faults) if (!this.counts.has(f.key)) this.counts.set(f.key, emptyCounts());
  }

  private count(f: ActiveFault, what: keyof InjectedCounts) {
    const c = this.counts.get(f.key);
    if (c) c[what]++;
  }

  private hits(f: ActiveFault, probability = n(f.parameters.toxicity, 1)): boolean {
    return this.rng.nextDouble() < probability;
  }

  private later(ms: number, fn: () => void) {
    const t = setTimeout(() => {
      this.timers.delete(t);
      fn();
    }, ms);
    this.timers.add(t);
  }

  private handle(req: IncomingMessage, res: ServerResponse) {
    const faults = this.faults;
    for (const f of faults) this.count(f, 'requests');
    let delay = 0;
    let bandwidth: number | undefined;
    for (const f of faults) {
      const p = f.parameters;
      switch (f.type) {
        case 'RESET_PEER':
          if (this.hits(f)) {
            this.count(f, 'resets');
            req.resume();
            this.later(n(p.timeoutMs, 0), () => req.socket.resetAndDestroy());
            return;
          }
          break;
        case 'TIMEOUT':
          if (this.hits(f)) {
            this.count(f, 'timeouts');
            req.resume();
            const ms = n(p.timeoutMs, 0);
            if (ms > 0) this.later(ms, () => req.socket.destroy());
            return;
          }
          break;
        case 'LATENCY':
          if (this.hits(f)) {
            this.count(f, 'latency');
            const jitter = n(p.jitterMs, 0);
            delay += Math.max(0, n(p.latencyMs, 0) + (this.rng.nextDouble() * 2 - 1) * jitter);
          }
          break;
        case 'BANDWIDTH':
          if (this.hits(f)) {
            this.count(f, 'throttled');
            bandwidth = Math.min(bandwidth ?? Number.POSITIVE_INFINITY, n(p.rateKBps, 1) * 1024);
          }
          break;
      }
    }
    const error = faults.find((f) => f.type === 'ERRORS' && this.hits(f, n(f.parameters.rate, 0)));
    if (error) this.count(error, 'errors');
    const go = () => {
      if (res.destroyed) return;
      if (error) {
        req.resume();
        const status = n(error.parameters.status, 503);
        const body = JSON.stringify({ error: 'injected by simops chaos', fault: error.key });
        res.writeHead(status, {
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(body),
        });
        res.end(body);
        return;
      }
      this.forward(req, res, bandwidth);
    };
    if (delay > 0) this.later(delay, go);
    else go();
  }

  private forward(req: IncomingMessage, res: ServerResponse, bytesPerSecond: number | undefined) {
    const headers: Record<string, string | string[]> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined && !HOP_BY_HOP.has(k)) headers[k] = v;
    headers.host = this.upstream.host;
    const request = this.upstream.protocol === 'https:' ? (httpsRequest as typeof httpRequest) : httpRequest;
    const up = request(
      {
        protocol: this.upstream.protocol,
        hostname: this.upstream.hostname,
        port: this.upstream.port,
        method: req.method,
        path: req.url,
        headers,
        agent: this.upstream.protocol === 'https:' ? undefined : this.agent,
      },
      (upRes) => {
        const out: Record<string, string | string[]> = {};
        for (const [k, v] of Object.entries(upRes.headers))
          if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
        res.writeHead(upRes.statusCode ?? 502, out);
        if (bytesPerSecond === undefined) {
          upRes.pipe(res);
          return;
        }
        this.trickle(upRes, res, bytesPerSecond);
      },
    );
    up.on('error', () => {
      if (!res.headersSent) {
        res.writeHead(502, { 'content-type': 'text/plain' });
        res.end('bad gateway');
      } else res.destroy();
    });
    res.on('close', () => {
      if (!res.writableFinished) up.destroy();
    });
    req.pipe(up);
  }

  /** Writes the answer at most `bytesPerSecond`, in 100 ms slices. */
  private trickle(upRes: IncomingMessage, res: ServerResponse, bytesPerSecond: number) {
    const chunks: Buffer[] = [];
    upRes.on('data', (c: Buffer) => chunks.push(c));
    upRes.on('end', () => {
      const all = Buffer.concat(chunks);
      const slice = Math.max(1, Math.floor(bytesPerSecond / 10));
      let offset = 0;
      const step = () => {
        if (res.destroyed) return;
        const part = all.subarray(offset, offset + slice);
        offset += part.length;
        if (offset >= all.length) {
          this.later(Math.round((part.length / bytesPerSecond) * 1000), () => res.end(part));
          return;
        }
        res.write(part);
        this.later(100, step);
      };
      step();
    });
  }

  async close() {
    this.faults = [];
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    for (const s of this.sockets) s.destroy();
    this.agent.destroy();
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
  }
}
