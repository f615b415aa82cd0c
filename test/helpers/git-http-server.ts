// A smart-HTTP git server on loopback for tests: git's own git-http-backend run as CGI behind
// HTTP basic authentication, so clones and fetches go through the real protocol and real 401s.
import { spawn } from 'node:child_process';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

const BACKEND = '/usr/lib/git-core/git-http-backend';

export interface GitHttpServerOptions {
  /** Directory holding the repositories; `<url>/<name>` serves `<root>/<name>`. */
  root: string;
  username?: string;
  password?: string;
}

export interface GitHttpServer {
  /** `http://127.0.0.1:<port>`, without a trailing slash. */
  url: string;
  /** Requests seen, for tests that count round trips. */
  requests: { method: string; path: string; status: number }[];
  close(): Promise<void>;
}

const authorized = (req: IncomingMessage, username?: string, password?: string): string | undefined => {
  if (username === undefined) return '';
  const header = req.headers.authorization ?? '';
  const match = /^Basic (.+)$/i.exec(header);
  if (!match?.[1]) return undefined;
  const decoded = Buffer.from(match[1], 'base64').toString('utf8');
  const sep = decoded.indexOf(':');
  const [user, pass] = [decoded.slice(0, sep), decoded.slice(sep + 1)];
  return sep >= 0 && user === username && pass === password ? user : undefined;
};

/** Splits CGI output into its header block and body; CGI allows bare LF line ends. */
const splitCgi = (out: Buffer): { headers: [string, string][]; body: Buffer } | undefined => {
  for (const sep of ['\r\n\r\n', '\n\n']) {
    const at = out.indexOf(sep);
    if (at < 0) continue;
    const head = out.subarray(0, at).toString('latin1');
    const headers = head
      .split(/\r?\n/)
      .filter(Boolean)
      .map((line): [string, string] => {
        const colon = line.indexOf(':');
        return [line.slice(0, colon).trim(), line.slice(colon + 1).trim()];
      });
    return { headers, body: out.subarray(at + sep.length) };
  }
  return undefined;
};

const runBackend = (root: string, user: string, req: IncomingMessage, res: ServerResponse): Promise<number> =>
  new Promise((resolve) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      GIT_PROJECT_ROOT: root,
      GIT_HTTP_EXPORT_ALL: '1',
      GIT_CONFIG_NOSYSTEM: '1',
      GIT_CONFIG_GLOBAL: '/dev/null',
      PATH_INFO: decodeURIComponent(url.pathname),
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method ?? 'GET',
      CONTENT_TYPE: req.headers['content-type'] ?? '',
      REMOTE_USER: user,
      REMOTE_ADDR: req.socket.remoteAddress ?? '127.0.0.1',
      // Protocol v2 and gzip-encoded requests are announced in headers the backend reads as env.
      HTTP_GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      HTTP_CONTENT_ENCODING: String(req.headers['content-encoding'] ?? ''),
    };
    if (req.headers['content-length']) env.CONTENT_LENGTH = req.headers['content-length'];
    const child = spawn(BACKEND, [], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    child.stdout.on('data', (chunk: Buffer) => out.push(chunk));
    child.stderr.resume();
    child.stdin.on('error', () => {}); // the backend may exit before reading a body it rejects
    req.pipe(child.stdin);
    child.on('close', () => {
      const parsed = splitCgi(Buffer.concat(out));
      if (!parsed) {
        res.writeHead(500).end('bad CGI response');
        resolve(500);
        return;
      }
      let status = 200;
      for (const [name, value] of parsed.headers) {
        if (name.toLowerCase() === 'status') status = Number.parseInt(value, 10);
        else res.setHeader(name, value);
      }
      res.writeHead(status).end(parsed.body);
      resolve(status);
    });
  });

export const startGitHttpServer = async (opts: GitHttpServerOptions): Promise<GitHttpServer> => {
  const requests: GitHttpServer['requests'] = [];
  const server = createServer((req, res) => {
    const record = (status: number) =>
      requests.push({ method: req.method ?? '', path: req.url ?? '', status });
    const user = authorized(req, opts.username, opts.password);
    if (user === undefined) {
      req.resume();
      res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="git"' }).end('unauthorized');
      record(401);
      return;
    }
    void runBackend(opts.root, user, req, res).then(record);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
