// The embedded Kubernetes-compatible API server: TLS, bearer-token authentication, discovery,
// OpenAPI, and the resource verbs kubectl and client-node use.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import {
  AGGREGATED_CONTENT_TYPE,
  aggregatedDiscovery,
  apiGroup,
  apiGroupList,
  apiResourceList,
  apiVersions,
  wantsAggregated,
} from './discovery.ts';
import { ApiError, badRequest, internalError, invalid } from './errors.ts';
import { startEventExpiry } from './event-ttl.ts';
import { startGarbageCollector } from './garbage-collector.ts';
import { parseBody, readBody } from './http/body.ts';
import { parseResourcePath, type ResourceRequest } from './http/request-info.ts';
import {
  type DeleteOptions,
  type FieldValidation,
  ObjectService,
  type WriteOptions,
  type WriteResult,
} from './object-service.ts';
import { buildOpenApi } from './openapi.ts';
import { findResource, type ResourceInfo } from './resources.ts';
import { tokenMatches } from './security/credentials.ts';
import type { Store } from './store/types.ts';
import { type IncludeObject, tableVersion, toTable } from './table.ts';
import type { KubeObject } from './types.ts';
import { serveWatch } from './watch.ts';

export const SERVER_VERSION = {
  major: '1',
  minor: '32',
  gitVersion: 'v1.32.4',
  gitCommit: 'simops',
  gitTreeState: 'clean',
  buildDate: '2026-01-01T00:00:00Z',
  goVersion: 'node',
  compiler: 'simops',
  platform: `${process.platform}/${process.arch}`,
};

export interface Logger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface ApiServerOptions {
  store: Store;
  tls: { keyPem: string; certPem: string };
  token: string;
  /** Default 127.0.0.1: loopback only unless asked. */
  host?: string;
  /** Default 0: any free port. */
  port?: number;
  logger?: Logger;
  bookmarkIntervalMs?: number;
  /** How long an Event is kept after its last occurrence (default 1 h, as kube-apiserver). */
  eventTtlMs?: number;
}

export interface ApiServer {
  url: string;
  port: number;
  service: ObjectService;
  close(): Promise<void>;
}

const PUBLIC_PATHS = new Set(['/healthz', '/livez', '/readyz', '/version']);
const DEFAULT_NAMESPACES = ['default', 'kube-system', 'kube-public'];
const DEFAULT_WATCH_TIMEOUT_S = 1800;

const sendJson = (
  res: ServerResponse,
  code: number,
  body: unknown,
  contentType = 'application/json',
  warnings: string[] = [],
) => {
  const text = typeof body === 'string' ? body : JSON.stringify(body);
  const headers: Record<string, string | string[]> = {
    'Content-Type': contentType,
    'Content-Length': String(Buffer.byteLength(text)),
  };
  // A header takes printable ASCII only (unknown field names come from the client): escape the rest.
  const quote = (w: string) =>
    JSON.stringify(w).replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  if (warnings.length) headers.Warning = warnings.map((w) => `299 - ${quote(w)}`);
  res.writeHead(code, headers);
  res.end(text);
};

const LIST_CHUNK = 200;

/** Resolves when the response can take more, or is gone. */
const drained = (res: ServerResponse) =>
  new Promise<void>((resolve) => {
    const done = () => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });

/**
 * A list written in chunks: a list of 10,000 objects is ~15 MB of JSON, and building it as one
 * string and buffer costs that much memory again (which the allocator then keeps).
 */
const sendList = async (
  res: ServerResponse,
  head: Record<string, unknown>,
  field: string,
  items: readonly unknown[],
) => {
  res.writeHead(200, { 'Content-Type': 'application/json' });
  res.write(`${JSON.stringify(head).slice(0, -1)},${JSON.stringify(field)}:[`);
  for (let i = 0; i < items.length && !res.destroyed; i += LIST_CHUNK) {
    const chunk = items.slice(i, i + LIST_CHUNK).map((item) => JSON.stringify(item));
    if (!res.write((i ? ',' : '') + chunk.join(','))) await drained(res);
  }
  res.end(']}');
};

const sendError = (res: ServerResponse, err: ApiError) => {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  sendJson(res, err.code, err.toStatus());
};

const fieldManagerOf = (req: IncomingMessage, query: URLSearchParams): string =>
  query.get('fieldManager') ?? (req.headers['user-agent'] ?? 'unknown').split('/')[0]!.slice(0, 128);

const writeOptions = (
  req: IncomingMessage,
  query: URLSearchParams,
  body?: Record<string, unknown>,
): WriteOptions => {
  const inBody = body?.dryRun ?? [];
  if (!Array.isArray(inBody)) throw badRequest(`dryRun must be a list, not ${JSON.stringify(inBody)}`);
  const dryRun = query.getAll('dryRun').concat(inBody);
  for (const d of dryRun)
    if (d !== 'All')
      throw badRequest(`unsupported dry run value: ${JSON.stringify(d)}; the only value is All`);
  const fv = query.get('fieldValidation') ?? 'Warn';
  if (!['Strict', 'Warn', 'Ignore'].includes(fv))
    throw badRequest(`invalid fieldValidation: ${JSON.stringify(fv)}: Strict, Warn or Ignore`);
  return {
    dryRun: dryRun.length > 0,
    fieldManager: fieldManagerOf(req, query),
    fieldValidation: fv as FieldValidation,
    force: query.get('force') === 'true',
  };
};

export const startApiServer = async (opts: ApiServerOptions): Promise<ApiServer> => {
  const service = new ObjectService(opts.store);
  const openapi = buildOpenApi();
  const log = opts.logger;
  const closers = new Set<() => void>();
  const namespaces = findResource('', 'v1', 'namespaces')!;
  for (const name of DEFAULT_NAMESPACES) {
    if (!opts.store.get(`/core/namespaces//${name}`)) {
      service.create(
        namespaces,
        '',
        { metadata: { name } },
        { dryRun: false, fieldManager: 'simops', fieldValidation: 'Strict' },
      );
    }
  }
  const gc = startGarbageCollector(service, log);
  const eventExpiry = startEventExpiry(service, { ttlMs: opts.eventTtlMs, log });

  const handleResource = async (
    req: IncomingMessage,
    res: ServerResponse,
    info: ResourceRequest,
    query: URLSearchParams,
  ) => {
    const r = findResource(info.group, info.version, info.resource);
    const missing = () => new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    if (!r) throw missing();
    if (!r.namespaced && info.namespace !== undefined) throw missing();
    if (r.namespaced && info.name !== undefined && info.namespace === undefined) throw missing();
    if (
      info.subresource !== undefined &&
      (info.subresource !== 'status' || !r.hasStatus || info.name === undefined)
    )
      throw missing();
    const ns = info.namespace ?? '';
    const method = req.method ?? 'GET';
    const accept = req.headers.accept;
    const table = tableVersion(accept);
    const include = (query.get('includeObject') ?? 'Metadata') as IncludeObject;
    const selectors = {
      labelSelector: query.get('labelSelector'),
      fieldSelector: query.get('fieldSelector'),
    };

    const reply = (result: WriteResult) =>
      sendJson(res, result.code, result.object, 'application/json', result.warnings);
    const one = (o: KubeObject) =>
      table
        ? sendJson(
            res,
            200,
            toTable(r, [o], { version: table, include, resourceVersion: o.metadata.resourceVersion ?? '' }),
          )
        : sendJson(res, 200, o);

    if (method === 'GET' && info.name !== undefined) return one(service.get(r, ns, info.name));
    if (method === 'GET' && (info.watchPath || query.get('watch') === 'true' || query.get('watch') === '1')) {
      return serveWatch(
        service,
        req,
        res,
        {
          resource: r,
          namespace: info.namespace,
          selectors,
          resourceVersion: query.get('resourceVersion') ?? undefined,
          table,
          include,
          bookmarks: query.get('allowWatchBookmarks') === 'true',
          timeoutSeconds:
            Number(query.get('timeoutSeconds') ?? DEFAULT_WATCH_TIMEOUT_S) || DEFAULT_WATCH_TIMEOUT_S,
          bookmarkIntervalMs: opts.bookmarkIntervalMs ?? 10_000,
        },
        (stop) => {
          closers.add(stop);
          return () => closers.delete(stop);
        },
      );
    }
    if (method === 'GET') {
      const { items, revision } = service.list(r, info.namespace, selectors);
      const resourceVersion = String(revision);
      if (table) {
        const { rows, ...head } = toTable(r, items, { version: table, include, resourceVersion });
        return sendList(res, head, 'rows', rows);
      }
      return sendList(
        res,
        { kind: `${r.kind}List`, apiVersion: r.apiVersion, metadata: { resourceVersion } },
        'items',
        items,
      );
    }

    if (!['POST', 'PUT', 'PATCH', 'DELETE'].includes(method))
      throw new ApiError(405, 'MethodNotAllowed', `${method} is not supported`);
    const contentType = (req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    const raw = await readBody(req);
    if (method === 'DELETE') {
      const body = (raw.length ? parseBody(raw, contentType || 'application/json') : {}) as Record<
        string,
        unknown
      >;
      if (!body || typeof body !== 'object' || Array.isArray(body))
        throw badRequest('DeleteOptions must be a JSON or YAML object');
      const options: DeleteOptions = {
        propagationPolicy: (query.get('propagationPolicy') ??
          body.propagationPolicy) as DeleteOptions['propagationPolicy'],
        preconditions: body.preconditions as DeleteOptions['preconditions'],
      };
      const policy = options.propagationPolicy;
      if (policy != null && !['Foreground', 'Background', 'Orphan'].includes(policy))
        throw invalid('DeleteOptions', 'meta.k8s.io', '', [
          {
            path: ['propagationPolicy'],
            field: 'propagationPolicy',
            reason: 'FieldValueNotSupported',
            message: `Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan"`,
          },
        ]);
      if (
        options.preconditions != null &&
        (typeof options.preconditions !== 'object' || Array.isArray(options.preconditions))
      )
        throw badRequest('preconditions must be an object');
      const { dryRun } = writeOptions(req, query, body);
      if (info.name === undefined) {
        const items = service.deleteCollection(r, info.namespace, selectors, options, { dryRun });
        return sendJson(res, 200, { kind: `${r.kind}List`, apiVersion: r.apiVersion, metadata: {}, items });
      }
      return reply(service.delete(r, ns, info.name, options, { dryRun }));
    }
    const body = parseBody(raw, contentType);
    const wo = writeOptions(req, query);
    if (method === 'POST' && info.name === undefined) {
      if (r.namespaced && info.namespace === undefined)
        throw new ApiError(405, 'MethodNotAllowed', 'create needs a namespace');
      return reply(service.create(r, ns, body, wo));
    }
    if (info.name === undefined)
      throw new ApiError(405, 'MethodNotAllowed', `${method} is not supported on a collection`);
    if (method === 'PUT') return reply(service.update(r, ns, info.name, body, wo, info.subresource));
    if (method === 'PATCH')
      return reply(service.patch(r, ns, info.name, contentType, body, wo, info.subresource));
    throw new ApiError(405, 'MethodNotAllowed', `${method} is not supported`);
  };

  const handle = async (req: IncomingMessage, res: ServerResponse) => {
    let url: URL;
    try {
      url = new URL(req.url ?? '/', 'https://localhost');
    } catch {
      throw badRequest('the request URL could not be parsed'); // e.g. '//%/api': '%' read as a host
    }
    // Only canonical paths: new URL() resolves `..` and `%2e%2e` (DELETE .../sandboxes/a/.. would
    // delete the collection), reads `\` as `/` and `//x/api/...` as a host; `/a//b` is not `/a/b`.
    if (url.pathname !== (req.url ?? '/').split('?')[0] || url.pathname.includes('//'))
      throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    const path = url.pathname.replace(/\/+$/, '') || '/';
    if (PUBLIC_PATHS.has(path)) {
      if (path === '/version') return sendJson(res, 200, SERVER_VERSION);
      return sendJson(res, 200, 'ok', 'text/plain');
    }
    if (!tokenMatches(req.headers.authorization, opts.token)) {
      throw new ApiError(401, 'Unauthorized', 'Unauthorized');
    }
    const accept = req.headers.accept;
    if (path === '/api' || path === '/apis') {
      if (wantsAggregated(accept))
        return sendJson(res, 200, aggregatedDiscovery(path === '/api'), AGGREGATED_CONTENT_TYPE);
      return sendJson(res, 200, path === '/api' ? apiVersions(req.headers.host ?? '') : apiGroupList());
    }
    if (path === '/openapi/v3') return sendJson(res, 200, openapi.index);
    if (path.startsWith('/openapi/v3/')) {
      const doc = openapi.documents.get(path.slice('/openapi/v3/'.length));
      if (doc) return sendJson(res, 200, doc.body);
    }
    const parts = path.split('/').filter(Boolean);
    if (parts[0] === 'apis' && parts.length === 2) {
      const g = apiGroup(parts[1]!);
      if (g) return sendJson(res, 200, g);
    }
    if ((parts[0] === 'api' && parts.length === 2) || (parts[0] === 'apis' && parts.length === 3)) {
      const list =
        parts[0] === 'api' ? apiResourceList('', parts[1]!) : apiResourceList(parts[1]!, parts[2]!);
      if (list) return sendJson(res, 200, list);
    }
    const info = parseResourcePath(path);
    if (!info) throw new ApiError(404, 'NotFound', 'the server could not find the requested resource');
    return handleResource(req, res, info, url.searchParams);
  };

  const server: Server = createServer({ key: opts.tls.keyPem, cert: opts.tls.certPem }, (req, res) => {
    handle(req, res).catch((err: unknown) => {
      if (err instanceof ApiError) return sendError(res, err);
      log?.error({ err, method: req.method, url: req.url }, 'request failed');
      sendError(res, internalError(err));
    });
  });
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port ?? 0, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host ?? '127.0.0.1';
  const url = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  log?.info({ url }, 'API server listening');
  return {
    url,
    port,
    service,
    close: async () => {
      gc.stop();
      eventExpiry.stop();
      for (const stop of [...closers]) stop();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
};

export type { ResourceInfo };
