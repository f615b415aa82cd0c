import assert from 'node:assert/strict';
import { createHmac } from 'node:crypto';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, it } from 'node:test';
import { createWebhookHandler } from './webhook.ts';

const TOKEN = 'hook-token-123';
const sign = (body: string | Buffer, token = TOKEN) =>
  `sha256=${createHmac('sha256', token).update(body).digest('hex')}`;

describe('webhook receiver', () => {
  let server: Server;
  let base: string;
  const triggered: string[] = [];

  before(async () => {
    const handler = createWebhookHandler({
      lookupToken: async (namespace, name) => (namespace === 'default' && name === 'lab' ? TOKEN : undefined),
      trigger: (namespace, name) => triggered.push(`${namespace}/${name}`),
    });
    server = createServer(async (req, res) => {
      if (!(await handler(req, res))) res.writeHead(404).end('not mine');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const post = (path: string, body: string | Buffer, headers: Record<string, string> = {}, method = 'POST') =>
    new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request(`${base}${path}`, { method, headers }, (res) => {
        let text = '';
        res.on('data', (c) => {
          text += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      req.end(body);
    });

  it('accepts a correctly signed request with 202 and triggers the GitSource', async () => {
    const body = '{"ref":"refs/heads/main"}';
    assert.equal((await post('/hook/default/lab', body, { 'X-Signature-256': sign(body) })).status, 202);
    assert.equal((await post('/hook/default/lab', body, { 'X-Hub-Signature-256': sign(body) })).status, 202);
    assert.deepEqual(triggered.splice(0), ['default/lab', 'default/lab']);
  });

  it('answers a bad or missing signature and an unknown GitSource with the same 401', async () => {
    const body = '{"ref":"refs/heads/main"}';
    const answers = [
      await post('/hook/default/lab', body),
      await post('/hook/default/lab', body, { 'X-Signature-256': sign(body, 'wrong') }),
      await post('/hook/default/lab', body, { 'X-Signature-256': sign(`${body} `) }),
      await post('/hook/default/lab', body, { 'X-Signature-256': 'sha256=00' }),
      await post('/hook/default/nope', body, { 'X-Signature-256': sign(body) }),
      await post('/hook/other/lab', body, { 'X-Signature-256': sign(body) }),
      await post('/hook/default/lab/extra', body, { 'X-Signature-256': sign(body) }),
    ];
    assert.deepEqual(
      answers.map((a) => a.status),
      [401, 401, 401, 401, 401, 401, 401],
    );
    assert.equal(new Set(answers.map((a) => a.body)).size, 1, 'one answer for all');
    assert.deepEqual(triggered, []);
  });

  it('refuses a body over 1 MiB with 413', async () => {
    const big = Buffer.alloc(1024 * 1024 + 1, 'a');
    assert.equal((await post('/hook/default/lab', big, { 'X-Signature-256': sign(big) })).status, 413);
    const chunked = { 'X-Signature-256': sign(big), 'Transfer-Encoding': 'chunked' };
    assert.equal((await post('/hook/default/lab', big, chunked)).status, 413, 'no Content-Length to trust');
    assert.deepEqual(triggered, []);
  });

  it('leaves other paths to other handlers and answers other methods with 405', async () => {
    assert.equal((await post('/healthz', '')).status, 404);
    assert.equal((await post('/hook/default/lab', '', {}, 'GET')).status, 405);
  });
});
