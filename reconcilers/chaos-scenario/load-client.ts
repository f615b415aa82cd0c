// The agents' HTTP client: keep-alive connections to the target (at most one per agent), a timeout
// per request, outcomes classified as the stats count them, and an abort that destroys every
// request in flight at once (the kill switch). Plain HTTP goes through raw-http.ts; this client,
// on Node's http module, serves https targets.
import {
  type ClientRequest,
  Agent as HttpAgent,
  request as httpRequest,
  type IncomingMessage,
} from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { Outcome } from './stats.ts';

export interface Reply {
  status: number;
  outcome: Outcome;
  latencyUs: number;
  /** The parsed JSON answer, when asked for and the answer is JSON. */
  body?: unknown;
}

export interface SendOptions {
  /** Statuses that count as success (default 2xx and 3xx). */
  expect?: readonly number[];
  wantBody?: boolean;
}

export interface LoadClientLike {
  readonly inFlight: number;
  send(
    method: string,
    path: string,
    body: string | undefined,
    opts?: SendOptions,
  ): Promise<Reply | undefined>;
  abortAll(): void;
  close(): void;
}

class TimeoutError extends Error {
  readonly code = 'ETIMEDOUT';
}

const classifyError = (err: NodeJS.ErrnoException): Outcome =>
  err instanceof TimeoutError || err.code === 'ETIMEDOUT'
    ? 'timeout'
    : err.code === 'ECONNRESET' || err.code === 'EPIPE' || err.message === 'socket hang up'
      ? 'reset'
      : 'error';

export class LoadClient implements LoadClientLike {
  private readonly agent: HttpAgent;
  private readonly inflight = new Set<ClientRequest>();
  private readonly base: URL;
  private readonly timeoutMs: number;
  private readonly request: typeof httpRequest;
  private closed = false;

  constructor(base: string, opts: { maxSockets: number; timeoutMs: number }) {
    this.base = new URL(base);
    this.timeoutMs = opts.timeoutMs;
    const https = this.base.protocol === 'https:';
    const agentOpts = { keepAlive: true, maxSockets: opts.maxSockets, scheduling: 'lifo' as const };
    this.agent = https ? new HttpsAgent(agentOpts) : new HttpAgent(agentOpts);
    this.request = https ? (httpsRequest as typeof httpRequest) : httpRequest;
  }

  get inFlight(): number {
    return this.inflight.size;
  }

  /** Resolves with the reply, or undefined when the client was aborted meanwhile (not counted). */
  send(
    method: string,
    path: string,
    body: string | undefined,
    opts: SendOptions = {},
  ): Promise<Reply | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    const started = performance.now();
    const latencyUs = () => (performance.now() - started) * 1000;
    return new Promise((resolve) => {
      const headers: Record<string, string | number> = { 'user-agent': 'simops-chaos' };
      if (body !== undefined) {
        headers['content-type'] = 'application/json';
        headers['content-length'] = Buffer.byteLength(body);
      }
      const basePath = this.base.pathname === '/' ? '' : this.base.pathname.replace(/\/$/, '');
      const req = this.request({
        agent: this.agent,
        protocol: this.base.protocol,
        hostname: this.base.hostname,
        port: this.base.port,
        method,
        path: basePath + path,
        headers,
      });
      this.inflight.add(req);
      let settled = false;
      const done = (reply: Reply | undefined) => {
        if (settled) return;
        settled = true;
        this.inflight.delete(req);
        resolve(this.closed ? undefined : reply);
      };
      req.setTimeout(this.timeoutMs, () => req.destroy(new TimeoutError('request timed out')));
      req.on('error', (err: NodeJS.ErrnoException) =>
        done({ status: 0, outcome: classifyError(err), latencyUs: latencyUs() }),
      );
      req.on('response', (res: IncomingMessage) => {
        const status = res.statusCode ?? 0;
        const ok = opts.expect?.length ? opts.expect.includes(status) : status >= 200 && status < 400;
        const isJson = opts.wantBody && /json/.test(String(res.headers['content-type'] ?? ''));
        const chunks: Buffer[] = [];
        if (isJson) res.on('data', (c: Buffer) => chunks.push(c));
        else res.resume();
        res.on('error', (err: NodeJS.ErrnoException) =>
          done({ status, outcome: classifyError(err), latencyUs: latencyUs() }),
        );
        res.on('aborted', () => done({ status, outcome: 'reset', latencyUs: latencyUs() }));
        res.on('end', () => {
          let parsed: unknown;
          if (isJson) {
            try {
              parsed = JSON.parse(Buffer.concat(chunks).toString('utf8'));
            } catch {
              parsed = undefined;
            }
          }
          done({ status, outcome: ok ? 'ok' : 'error', latencyUs: latencyUs(), body: parsed });
        });
      });
      req.end(body);
    });
  }

  /** The kill switch: no new request is sent, and every request in flight is destroyed now. */
  abortAll() {
    this.closed = true;
    for (const req of this.inflight) req.destroy();
    this.inflight.clear();
    this.agent.destroy();
  }

  close() {
    this.abortAll();
  }
}
