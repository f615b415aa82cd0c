// The agents' plain-HTTP client: HTTP/1.1 written and parsed by hand over keep-alive sockets, one
// connection per agent at most. Node's http client costs several times more CPU per request, and
// with a thousand agents that CPU is what delays the clock's ticks; autocannon is fast for the same
// reason. Answers are read by Content-Length, chunked encoding or connection close.
import { connect, type Socket } from 'node:net';
import type { LoadClientLike, Reply, SendOptions } from './load-client.ts';
import type { Outcome } from './stats.ts';

const CRLF2 = Buffer.from('\r\n\r\n');
/** Idle connections older than this are not reused: servers close idle keep-alive sockets after ~5 s. */
const MAX_IDLE_MS = 4000;

interface Pending {
  started: number;
  opts: SendOptions;
  method: string;
  resolve: (r: Reply | undefined) => void;
}

class Connection {
  readonly socket: Socket;
  idleSince = 0;
  pending: Pending | undefined;
  private buf: Buffer | undefined;
  private status = 0;
  private headerEnd = -1;
  private contentLength = -1;
  private chunked = false;
  private close = false;
  private json = false;
  private received = 0;
  private readonly onDone: (c: Connection, reusable: boolean) => void;

  constructor(
    host: string,
    port: number,
    timeoutMs: number,
    onDone: (c: Connection, reusable: boolean) => void,
  ) {
    this.onDone = onDone;
    this.socket = connect({ host, port, noDelay: true });
    this.socket.setTimeout(timeoutMs);
    this.socket.on('data', (chunk: Buffer) => this.data(chunk));
    this.socket.on('timeout', () => this.fail('timeout'));
    this.socket.on('error', (err: NodeJS.ErrnoException) =>
      this.fail(err.code === 'ECONNRESET' || err.code === 'EPIPE' ? 'reset' : 'error'),
    );
    this.socket.on('close', () => this.closed());
  }

  start(p: Pending, head: string, body: string | undefined) {
    this.pending = p;
    this.buf = undefined;
    this.status = 0;
    this.headerEnd = -1;
    this.contentLength = -1;
    this.chunked = false;
    this.close = false;
    this.json = false;
    this.received = 0;
    this.socket.write(body === undefined ? head : head + body);
  }

  private finish(outcome: Outcome, body?: Buffer) {
    const p = this.pending;
    if (!p) return;
    this.pending = undefined;
    let parsed: unknown;
    if (body && this.json && p.opts.wantBody) {
      try {
        parsed = JSON.parse(body.toString('utf8'));
      } catch {
        parsed = undefined;
      }
    }
    const reusable = outcome !== 'reset' && outcome !== 'timeout' && !this.close;
    p.resolve({
      status: this.status,
      outcome,
      latencyUs: (performance.now() - p.started) * 1000,
      ...(parsed !== undefined ? { body: parsed } : {}),
    });
    this.onDone(this, reusable);
  }

  private fail(outcome: Outcome) {
    this.socket.destroy();
    if (this.pending) this.finish(this.status ? 'reset' : outcome);
  }

  private closed() {
    if (!this.pending) return this.onDone(this, false);
    // A body read to the close of the connection ends here; anything else was cut short.
    if (this.headerEnd >= 0 && this.contentLength < 0 && !this.chunked) return this.complete();
    this.finish('reset');
  }

  private complete() {
    const body = this.buf && this.headerEnd >= 0 ? this.buf.subarray(this.headerEnd) : undefined;
    this.finish(this.ok() ? 'ok' : 'error', this.chunked && body ? dechunk(body) : body);
  }

  private ok(): boolean {
    const expect = this.pending?.opts.expect;
    return expect?.length ? expect.includes(this.status) : this.status >= 200 && this.status < 400;
  }

  private data(chunk: Buffer) {
    if (!this.pending) return;
    this.buf = this.buf ? Buffer.concat([this.buf, chunk]) : chunk;
    if (this.headerEnd < 0) {
      const end = this.buf.indexOf(CRLF2);
      if (end < 0) return;
      this.headerEnd = end + 4;
      this.parseHead(this.buf.toString('latin1', 0, end));
      if (
        this.pending.method === 'HEAD' ||
        this.status === 204 ||
        this.status === 304 ||
        (this.status >= 100 && this.status < 200)
      ) {
        this.contentLength = 0;
      }
    }
    this.received = this.buf.length - this.headerEnd;
    if (this.contentLength >= 0) {
      if (this.received >= this.contentLength) this.complete();
    } else if (this.chunked) {
      if (chunkedComplete(this.buf, this.headerEnd)) this.complete();
    }
  }

  private parseHead(head: string) {
    const lines = head.split('\r\n');
    this.status = Number(lines[0]!.slice(9, 12));
    for (let i = 1; i < lines.length; i++) {
      const line = lines[i]!;
      const colon = line.indexOf(':');
      if (colon < 0) continue;
      const name = line.slice(0, colon).trim().toLowerCase();
      const value = line.slice(colon + 1).trim();
      if (name === 'content-length') this.contentLength = Number(value);
      else if (name === 'transfer-encoding') this.chunked = value.toLowerCase().includes('chunked');
      else if (name === 'connection') this.close = value.toLowerCase() === 'close';
      else if (name === 'content-type') this.json = value.includes('json');
    }
    if (this.chunked) this.contentLength = -1;
    if (lines[0]!.startsWith('HTTP/1.0') && !/keep-alive/i.test(head)) this.close = true;
  }
}

/** Whether a chunked body starting at `from` has its last chunk. */
const chunkedComplete = (buf: Buffer, from: number): boolean => {
  let i = from;
  for (;;) {
    const eol = buf.indexOf('\r\n', i);
    if (eol < 0) return false;
    const size = Number.parseInt(buf.toString('latin1', i, eol), 16);
    if (Number.isNaN(size)) return true;
    if (size === 0) return buf.indexOf(CRLF2, eol - 2 >= from ? eol - 2 : eol) >= 0 || buf.length >= eol + 4;
    i = eol + 2 + size + 2;
    if (i > buf.length) return false;
  }
};

const dechunk = (body: Buffer): Buffer => {
  const parts: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = body.indexOf('\r\n', i);
    if (eol < 0) break;
    const size = Number.parseInt(body.toString('latin1', i, eol), 16);
    if (!size) break;
    parts.push(body.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
  return Buffer.concat(parts);
};

export class RawHttpClient implements LoadClientLike {
  private readonly host: string;
  private readonly port: number;
  private readonly hostHeader: string;
  private readonly basePath: string;
  private readonly timeoutMs: number;
  private readonly idle: Connection[] = [];
  private readonly all = new Set<Connection>();
  private closed = false;

  constructor(base: string, opts: { timeoutMs: number }) {
    const u = new URL(base);
    this.host = u.hostname.replace(/^\[|\]$/g, '');
    this.port = Number(u.port || 80);
    this.hostHeader = u.host;
    this.basePath = u.pathname === '/' ? '' : u.pathname.replace(/\/$/, '');
    this.timeoutMs = opts.timeoutMs;
  }

  get inFlight(): number {
    return this.all.size - this.idle.length;
  }

  private readonly done = (c: Connection, reusable: boolean) => {
    if (reusable && !this.closed) {
      c.idleSince = performance.now();
      this.idle.push(c);
      return;
    }
    c.socket.destroy();
    this.all.delete(c);
    const i = this.idle.indexOf(c);
    if (i >= 0) this.idle.splice(i, 1);
  };

  private connection(): Connection {
    const now = performance.now();
    for (;;) {
      const c = this.idle.pop();
      if (!c) break;
      if (now - c.idleSince < MAX_IDLE_MS && !c.socket.destroyed) return c;
      c.socket.destroy();
      this.all.delete(c);
    }
    const c = new Connection(this.host, this.port, this.timeoutMs, this.done);
    this.all.add(c);
    return c;
  }

  send(
    method: string,
    path: string,
    body: string | undefined,
    opts: SendOptions = {},
  ): Promise<Reply | undefined> {
    if (this.closed) return Promise.resolve(undefined);
    return new Promise((resolve) => {
      let head = `${method} ${this.basePath}${path} HTTP/1.1\r\nHost: ${this.hostHeader}\r\nUser-Agent: simops-chaos\r\n`;
      if (body !== undefined)
        head += `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n`;
      head += '\r\n';
      this.connection().start(
        { started: performance.now(), opts, method, resolve: (r) => resolve(this.closed ? undefined : r) },
        head,
        body,
      );
    });
  }

  /**
   * The kill switch: every connection reset now (TCP RST, so that a request the target has not read
   * yet is dropped rather than served); requests in flight resolve as not counted.
   */
  abortAll() {
    this.closed = true;
    for (const c of this.all) {
      const p = c.pending;
      c.pending = undefined;
      if (c.socket.readyState === 'open') c.socket.resetAndDestroy();
      else c.socket.destroy();
      p?.resolve(undefined);
    }
    this.all.clear();
    this.idle.length = 0;
  }

  close() {
    this.abortAll();
  }
}
