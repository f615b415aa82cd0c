// The command endpoints of Ready simulated machines, served on the controller's HTTP port:
//   POST /machines/<namespace>/<name>/commands   {"operation": "...", "args": {...}}
//   GET  /machines/<namespace>/<name>/trace      the command trace (JSON lines)
// Every command is appended to the trace artifact before it is answered, so a protocol dry-run
// leaves the same trace a real run would.
import { appendFile, mkdir, readFile } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import type { ExtraHandler } from '../../controller/runtime/health-server.ts';
import { timestamp } from '../../controller/runtime/status.ts';
import { NAME_PATTERN } from '../../crds/common.ts';
import { answer, type DeviceConfig, parseCommand } from './device.ts';

const MAX_BODY = 1024 * 1024;
const NAME = new RegExp(NAME_PATTERN);
const ROUTE = /^\/machines\/([^/]+)\/([^/]+)\/(commands|trace)$/;

export const commandsPath = (namespace: string, name: string) =>
  `/machines/${encodeURIComponent(namespace)}/${encodeURIComponent(name)}/commands`;

/** Where a machine's command trace is kept: `<artifactDir>/machines/<namespace>/<name>/commands.jsonl`. */
export const tracePath = (artifactDir: string, namespace: string, name: string) =>
  join(artifactDir, 'machines', namespace, name, 'commands.jsonl');

export interface TraceLine {
  seq: number;
  time: string;
  machine: string;
  category: string;
  backend: string;
  backendFqn: string;
  operation: string;
  args: Record<string, unknown>;
  ok: boolean;
  result?: unknown;
  error?: string;
}

interface Device {
  config: DeviceConfig;
  /** Calls so far per operation (sequences of canned responses); made on the first call, as most
   * of thousands of machines are never called. */
  calls?: Map<string, number>;
  /** The last sequence number in the trace; read from the file on first use. */
  seq?: number;
  /** Commands of one machine run one at a time, so the trace order is the answer order. */
  chain?: Promise<unknown>;
}

export interface Devices {
  /** Serves (or updates) the endpoint of a Ready simulated machine. */
  register(config: DeviceConfig): void;
  remove(machine: string): void;
  clear(): void;
  has(machine: string): boolean;
  handler: ExtraHandler;
}

const sendJson = (
  res: ServerResponse,
  status: number,
  body: unknown,
  headers: Record<string, string> = {},
) => {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(text),
    ...headers,
  });
  res.end(text);
};

class BodyTooLarge extends Error {}

const readBody = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new BodyTooLarge();
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString('utf8');
};

const lastSeq = async (file: string): Promise<number> => {
  try {
    const text = await readFile(file, 'utf8');
    return text.split('\n').filter((l) => l.trim()).length;
  } catch {
    return 0;
  }
};

export const createDevices = (artifactDir: string): Devices => {
  const devices = new Map<string, Device>();

  const run = async (device: Device, namespace: string, name: string, body: unknown) => {
    const cmd = parseCommand(body);
    if (typeof cmd === 'string') return { status: 400, body: { error: cmd } };
    const { config } = device;
    const callIndex = device.calls?.get(cmd.operation) ?? 0;
    const a = answer(config, cmd, callIndex);
    if (typeof a === 'string') return { status: 400, body: { error: a } };
    const file = tracePath(artifactDir, namespace, name);
    device.seq ??= await lastSeq(file);
    const line: TraceLine = {
      seq: device.seq + 1,
      time: timestamp(),
      machine: config.machine,
      category: config.category,
      backend: config.backend.name,
      backendFqn: config.backend.fqn,
      operation: cmd.operation,
      args: cmd.args,
      ok: a.ok,
      ...(a.ok ? { result: a.result } : { error: a.error }),
    };
    await mkdir(join(file, '..'), { recursive: true });
    await appendFile(file, `${JSON.stringify(line)}\n`);
    device.seq = line.seq;
    device.calls ??= new Map();
    device.calls.set(cmd.operation, callIndex + 1);
    return {
      status: 200,
      body: {
        machine: config.machine,
        backend: config.backend.name,
        operation: cmd.operation,
        seq: line.seq,
        ok: a.ok,
        ...(a.ok ? { result: a.result } : { error: a.error }),
        output: a.output,
      },
    };
  };

  const handler: ExtraHandler = async (req, res) => {
    const url = new URL(req.url ?? '/', 'http://localhost');
    const m = ROUTE.exec(url.pathname);
    if (!m) return false;
    let namespace: string;
    let name: string;
    try {
      namespace = decodeURIComponent(m[1]!);
      name = decodeURIComponent(m[2]!);
    } catch {
      sendJson(res, 404, { error: 'not found' });
      return true;
    }
    const key = `${namespace}/${name}`;
    if (!NAME.test(namespace) || !NAME.test(name)) {
      sendJson(res, 404, { error: `no machine ${key}` });
      return true;
    }
    const device = devices.get(key);

    if (m[3] === 'trace') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendJson(res, 405, { error: 'method not allowed' }, { Allow: 'GET, HEAD' });
        return true;
      }
      let text = '';
      try {
        text = await readFile(tracePath(artifactDir, namespace, name), 'utf8');
      } catch {
        if (!device) {
          sendJson(res, 404, { error: `no trace for machine ${key}` });
          return true;
        }
      }
      res.writeHead(200, {
        'Content-Type': 'application/x-ndjson',
        'Content-Length': Buffer.byteLength(text),
      });
      res.end(req.method === 'HEAD' ? undefined : text);
      return true;
    }

    if (req.method !== 'POST') {
      sendJson(res, 405, { error: 'method not allowed' }, { Allow: 'POST' });
      return true;
    }
    if (!device) {
      sendJson(res, 404, { error: `no Ready simulated machine ${key} on this controller` });
      return true;
    }
    let body: unknown;
    try {
      body = JSON.parse(await readBody(req));
    } catch (err) {
      if (err instanceof BodyTooLarge) sendJson(res, 413, { error: 'the body is larger than 1 MiB' });
      else sendJson(res, 400, { error: `the body is not JSON: ${(err as Error).message}` });
      return true;
    }
    const result = (device.chain ?? Promise.resolve()).then(() => run(device, namespace, name, body));
    device.chain = result.catch(() => {});
    const { status, body: out } = await result;
    sendJson(res, status, out);
    return true;
  };

  return {
    register(config) {
      const existing = devices.get(config.machine);
      if (existing) {
        const same = JSON.stringify(existing.config.responses) === JSON.stringify(config.responses);
        existing.config = config;
        if (!same) existing.calls = undefined;
        return;
      }
      devices.set(config.machine, { config });
    },
    remove: (machine) => {
      devices.delete(machine);
    },
    clear: () => devices.clear(),
    has: (machine) => devices.has(machine),
    handler,
  };
};
