// The webhook receiver: `POST /hook/<namespace>/<name>` from a git host reconciles that GitSource
// now instead of at its next interval. Like Flux's generic-hmac Receiver, it only triggers: what is
// applied still comes from fetching git, never from the request body.
//
// The shared secret is the key `webhookToken` of the Secret named by the GitSource's
// `spec.secretRef` (the same Secret as its git credentials); `lookupToken` reads it. The sender
// signs the raw body: `X-Signature-256: sha256=<hex HMAC-SHA256(body, token)>` (GitHub's
// `X-Hub-Signature-256` is accepted too). A missing or bad signature and an unknown GitSource get
// the same 401, so the endpoint does not tell which GitSources exist.
import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

export const WEBHOOK_PREFIX = '/hook/';
export const MAX_WEBHOOK_BODY = 1024 * 1024;

export interface WebhookLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
}

export interface WebhookOptions {
  /** The GitSource's webhook token, or undefined when there is no such GitSource or no token. */
  lookupToken: (namespace: string, name: string) => Promise<string | undefined>;
  /** Called for a correctly signed request: enqueue a reconcile of that GitSource. */
  trigger: (namespace: string, name: string) => void;
  log?: WebhookLog;
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

class BodyTooLarge extends Error {}

const readBody = (req: IncomingMessage, limit: number): Promise<Buffer> =>
  new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length'] ?? 0);
    if (declared > limit) {
      reject(new BodyTooLarge());
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        req.removeAllListeners('data');
        req.resume(); // drain what is left so the 413 can be written
        reject(new BodyTooLarge());
      } else chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });

const reply = (
  res: ServerResponse,
  status: number,
  message: string,
  headers: Record<string, string> = {},
) => {
  const body = `${JSON.stringify({ message })}\n`;
  res.writeHead(status, {
    'Content-Type': 'application/json',
    'Content-Length': Buffer.byteLength(body),
    ...headers,
  });
  res.end(body);
};

const signatureOf = (req: IncomingMessage): Buffer | undefined => {
  const header = req.headers['x-signature-256'] ?? req.headers['x-hub-signature-256'];
  const value = Array.isArray(header) ? header[0] : header;
  const match = /^sha256=([0-9a-fA-F]{64})$/.exec(value?.trim() ?? '');
  return match?.[1] ? Buffer.from(match[1], 'hex') : undefined;
};

/** Parses `/hook/<namespace>/<name>`; undefined for any other shape. */
const target = (pathname: string): { namespace: string; name: string } | undefined => {
  const parts = pathname.slice(WEBHOOK_PREFIX.length).split('/');
  if (parts.length !== 2) return undefined;
  const [namespace, name] = parts.map((p) => {
    try {
      return decodeURIComponent(p);
    } catch {
      return '';
    }
  });
  if (!namespace || !name || !DNS_LABEL.test(namespace) || !DNS_SUBDOMAIN.test(name) || name.length > 253) {
    return undefined;
  }
  return { namespace, name };
};

export const createWebhookHandler = (opts: WebhookOptions) => {
  // Unknown GitSources are checked against a random key: the same work, the same 401.
  const decoy = randomBytes(32).toString('hex');
  return async (req: IncomingMessage, res: ServerResponse): Promise<boolean> => {
    const pathname = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (!pathname.startsWith(WEBHOOK_PREFIX)) return false;
    if (req.method !== 'POST') {
      req.resume();
      reply(res, 405, 'only POST is accepted', { Allow: 'POST' });
      return true;
    }
    let body: Buffer;
    try {
      body = await readBody(req, MAX_WEBHOOK_BODY);
    } catch (err) {
      if (err instanceof BodyTooLarge)
        reply(res, 413, `the body is larger than ${MAX_WEBHOOK_BODY} bytes`, { Connection: 'close' });
      else reply(res, 400, 'the body could not be read');
      return true;
    }
    const source = target(pathname);
    const token = source
      ? await opts.lookupToken(source.namespace, source.name).catch(() => undefined)
      : undefined;
    const expected = createHmac('sha256', token ?? decoy)
      .update(body)
      .digest();
    const given = signatureOf(req);
    const good = given !== undefined && timingSafeEqual(given, expected) && token !== undefined;
    if (!source || !good) {
      opts.log?.warn({ path: pathname, signed: given !== undefined }, 'webhook rejected');
      reply(res, 401, 'unauthorized');
      return true;
    }
    opts.log?.info({ namespace: source.namespace, name: source.name }, 'webhook received: reconciling');
    opts.trigger(source.namespace, source.name);
    reply(res, 202, 'reconcile requested');
    return true;
  };
};
