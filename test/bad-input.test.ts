// Hostile and broken requests against the embedded API server over raw HTTPS: every one must be
// answered with a 4xx `Status` whose `code` is the HTTP status, never a 500 or a dropped
// connection, and the server must keep serving. Ends with a seeded fuzz loop; set FUZZ_SEED to
// replay a failure and FUZZ_ROUNDS to run longer.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, afterEach, before, describe, it } from 'node:test';
import { parseAllDocuments, stringify } from 'yaml';
import type { Embedded } from '../apiserver/embedded.ts';
import { validateObject } from '../crds/validate.ts';
import { startTestServer } from './helpers/embedded.ts';

const SANDBOXES = '/apis/simops.dev/v1alpha1/namespaces/default/sandboxes';
const CONFIGMAPS = '/api/v1/namespaces/default/configmaps';
const MiB = 1024 * 1024;

interface Reply {
  code: number;
  text: string;
  json?: Record<string, unknown>;
  headers: import('node:http').IncomingHttpHeaders;
}

/** What the tests read from an answered object, list or discovery document. */
interface Answer {
  metadata: {
    labels?: Record<string, string>;
    deletionTimestamp?: string;
    [field: string]: unknown;
  };
  spec: { flows?: string[]; runtime?: string };
  status?: { phase?: string };
  items: { metadata: { name: string } }[];
  groups: unknown[];
  resources: { name: string; kind: string; namespaced: boolean }[];
}

interface CallOptions {
  body?: string | Buffer;
  contentType?: string;
  /** The bearer token; null sends no Authorization header. Default: the server's token. */
  token?: string | null;
  headers?: Record<string, string>;
  /** Send the body with chunked transfer encoding instead of a Content-Length. */
  chunked?: boolean;
}

const sandbox = (name: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'simops.dev/v1alpha1',
  kind: 'Sandbox',
  metadata: { name, labels: { app: 'fuzz' } },
  spec: { simulatorRef: { name: 'booking' }, source: { config: true }, runtime: 'process', flows: ['a'] },
  ...extra,
});
const configMap = (name: string) => ({
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name },
  data: { key: 'value' },
});
const json = (v: unknown) => JSON.stringify(v);

describe('bad input over raw HTTPS', () => {
  let env: Embedded;

  before(async () => {
    env = await startTestServer();
  });
  after(async () => {
    await env?.stop();
  });

  const call = (method: string, path: string, opts: CallOptions = {}): Promise<Reply> =>
    new Promise((resolve, reject) => {
      const headers: Record<string, string> = { ...opts.headers };
      const token = opts.token === undefined ? env.token : opts.token;
      if (token !== null) headers.authorization = `Bearer ${token}`;
      if (opts.contentType !== undefined) headers['content-type'] = opts.contentType;
      else if (opts.body !== undefined) headers['content-type'] = 'application/json';
      if (opts.body !== undefined && !opts.chunked)
        headers['content-length'] = String(Buffer.byteLength(opts.body));
      const req = request(
        { host: '127.0.0.1', port: env.server.port, method, path, ca: env.caPem, headers, agent: false },
        (res) => {
          const code = res.statusCode ?? 0;
          // A watch streams until it times out: its headers are all we need.
          const watching = /[?&]watch=(true|1)\b|\/watch\//.test(path);
          if (code >= 200 && code < 300 && watching) {
            res.destroy();
            resolve({ code, text: '', headers: res.headers });
            return;
          }
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('error', reject);
          res.on('end', () => {
            const text = Buffer.concat(chunks).toString('utf8');
            let parsed: Record<string, unknown> | undefined;
            try {
              parsed = JSON.parse(text);
            } catch {}
            resolve({ code, text, json: parsed, headers: res.headers });
          });
        },
      );
      req.on('error', reject);
      if (opts.body === undefined) req.end();
      else if (opts.chunked) {
        const body = Buffer.from(opts.body);
        for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024));
        req.end();
      } else req.end(opts.body);
    });

  /** The request must be answered with `code` and a Status body carrying the same code. */
  const expectStatus = async (code: number | number[], method: string, path: string, opts?: CallOptions) => {
    const r = await call(method, path, opts);
    const codes = Array.isArray(code) ? code : [code];
    const what = `${method} ${path.slice(0, 120)} -> ${r.code} ${r.text.slice(0, 300)}`;
    assert.ok(codes.includes(r.code), `expected ${codes.join(' or ')}: ${what}`);
    assert.equal(r.json?.kind, 'Status', what);
    assert.equal(r.json?.apiVersion, 'v1', what);
    assert.equal(r.json?.status, 'Failure', what);
    assert.equal(r.json?.code, r.code, what);
    assert.equal(typeof r.json?.message, 'string', what);
    assert.equal(typeof r.json?.reason, 'string', what);
    return r.json as {
      reason: string;
      message: string;
      details?: { causes?: { field?: string; reason?: string }[] };
    };
  };
  const expectOk = async (method: string, path: string, opts?: CallOptions, code = 200) => {
    const r = await call(method, path, opts);
    assert.equal(r.code, code, `${method} ${path} -> ${r.code} ${r.text.slice(0, 300)}`);
    return r.json as unknown as Answer;
  };
  const exists = async (path: string) => (await call('GET', path)).code === 200;

  afterEach(async () => {
    // Whatever a test sent, the server keeps serving.
    await expectOk('GET', '/api/v1/namespaces');
    await expectOk('GET', '/apis/simops.dev/v1alpha1/sandboxes');
  });

  it('refuses malformed JSON bodies with 400', async () => {
    for (const body of [
      '{"apiVersion":',
      '{"metadata":{"name":"a"}}}',
      "{'single':'quotes'}",
      '{"a":1,}',
      'undefined',
      '\u0000\u0001\u0002',
      Buffer.from([0xff, 0xfe, 0x00, 0x7b]),
    ]) {
      await expectStatus(400, 'POST', SANDBOXES, { body });
      await expectStatus(400, 'PUT', `${SANDBOXES}/a`, { body });
      await expectStatus(400, 'PATCH', `${SANDBOXES}/a`, {
        body,
        contentType: 'application/merge-patch+json',
      });
      await expectStatus(400, 'POST', CONFIGMAPS, { body });
    }
    // Valid JSON that is not an object.
    for (const body of ['null', '[]', '123', '"text"', 'true', `${'['.repeat(50_000)}${']'.repeat(50_000)}`])
      await expectStatus(400, 'POST', SANDBOXES, { body });
    await expectStatus(400, 'POST', SANDBOXES, { body: '' });
    await expectStatus(400, 'POST', SANDBOXES, { body: '   \n' });
  });

  it('refuses malformed YAML bodies with 400', async () => {
    const yaml = 'application/yaml';
    for (const body of [
      'metadata: [unclosed',
      'metadata:\n  name: a\n name: b\n',
      'a: *undefinedAlias',
      'key: value\nkey: again\n',
      '- just\n- a\n- list\n',
      '"unterminated',
    ]) {
      await expectStatus(400, 'POST', SANDBOXES, { body, contentType: yaml });
      await expectStatus(400, 'POST', CONFIGMAPS, { body, contentType: yaml });
    }
    // A billion-laughs alias bomb must be refused, not expanded.
    const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x","x"]'];
    for (let i = 1; i < 9; i++) {
      const prev = String.fromCharCode(96 + i);
      const cur = String.fromCharCode(97 + i);
      bomb.push(`${cur}: &${cur} [${Array(10).fill(`*${prev}`).join(',')}]`);
    }
    await expectStatus(400, 'POST', CONFIGMAPS, { body: bomb.join('\n'), contentType: yaml });
    // Positive control: well-formed YAML is accepted.
    await expectOk(
      'POST',
      SANDBOXES,
      { body: stringify(sandbox('from-yaml')), contentType: 'application/yaml' },
      201,
    );
  });

  it('refuses bodies over 3 MiB with 413, with or without a Content-Length', async () => {
    const big = Buffer.alloc(3 * MiB + 1, 'a');
    await expectStatus(413, 'POST', SANDBOXES, { body: big });
    await expectStatus(413, 'POST', SANDBOXES, { body: big, chunked: true });
    const huge = json({ ...configMap('huge'), data: { blob: 'x'.repeat(4 * MiB) } });
    await expectStatus(413, 'POST', CONFIGMAPS, { body: huge, chunked: true });
    await expectStatus(413, 'PUT', `${CONFIGMAPS}/huge`, { body: huge });
    assert.equal(await exists(`${CONFIGMAPS}/huge`), false);
    // Just under the limit is fine.
    const fits = json({ ...configMap('fits'), data: { blob: 'x'.repeat(3 * MiB - 200) } });
    await expectOk('POST', CONFIGMAPS, { body: fits, chunked: true }, 201);
  });

  it('answers 404 for unknown resources, groups, versions and subresources', async () => {
    for (const path of [
      '/apis/simops.dev/v1alpha1/namespaces/default/widgets',
      '/apis/simops.dev/v1alpha1/widgets',
      '/apis/simops.dev/v9/namespaces/default/sandboxes',
      '/apis/nope.example.com/v1/namespaces/default/things',
      '/apis/nope.example.com',
      '/api/v1/namespaces/default/widgets',
      '/api/v2/namespaces/default/configmaps',
      `${SANDBOXES}/a/scale`,
      `${SANDBOXES}/a/status/extra`,
      `${CONFIGMAPS}/a/status`,
      '/apis/simops.dev/v1alpha1/sandboxes/a',
      '/api/v1/configmaps/a',
      '/api/v1/namespaces/default/namespaces',
      '/openapi/v3/apis/nope/v1',
      '/nothing/here',
      `${SANDBOXES}/does-not-exist`,
      `${SANDBOXES}/does-not-exist/status`,
    ])
      await expectStatus(404, 'GET', path);
    await expectStatus(404, 'DELETE', `${SANDBOXES}/does-not-exist`);
    await expectStatus(404, 'POST', '/apis/simops.dev/v1alpha1/namespaces/default/widgets', {
      body: json({ metadata: { name: 'w' } }),
    });
    await expectStatus(404, 'POST', '/apis/simops.dev/v1alpha1/namespaces/no-such-namespace/sandboxes', {
      body: json(sandbox('x')),
    });
  });

  it('refuses invalid names with 422 naming metadata.name', async () => {
    const bad = [
      'UPPER',
      'under_score',
      '..',
      '.',
      '-leading',
      'trailing-',
      'a'.repeat(254),
      'sp ace',
      'a/b',
      '',
    ];
    for (const name of bad) {
      const status = await expectStatus(422, 'POST', SANDBOXES, { body: json(sandbox(name)) });
      assert.deepEqual(
        status.details?.causes?.map((c) => c.field),
        ['metadata.name'],
        name,
      );
      await expectStatus(422, 'POST', CONFIGMAPS, { body: json(configMap(name)) });
    }
    // Namespaces are DNS labels: at most 63 characters, no dots.
    for (const name of ['a'.repeat(64), 'has.dot', 'UPPER'])
      await expectStatus(422, 'POST', '/api/v1/namespaces', { body: json({ metadata: { name } }) });
    await expectStatus(422, 'POST', SANDBOXES, {
      body: json({ ...sandbox(''), metadata: { generateName: 'BAD_' } }),
    });
    await expectStatus(422, 'POST', SANDBOXES, { body: json({ ...sandbox(''), metadata: { name: 42 } }) });
    // Server-side apply must not create what POST would refuse.
    await expectStatus([400, 404, 422], 'PATCH', `${SANDBOXES}/UPPER?fieldManager=t`, {
      body: json(sandbox('UPPER')),
      contentType: 'application/apply-patch+yaml',
    });
    const list = await expectOk('GET', SANDBOXES);
    assert.ok(!list.items.some((o: { metadata: { name: string } }) => o.metadata.name === 'UPPER'));
  });

  it('is not fooled by path tricks', async () => {
    await expectOk(
      'POST',
      '/api/v1/namespaces/default/secrets',
      {
        body: json({ metadata: { name: 'token' }, stringData: { t: 'secret' } }),
      },
      201,
    );
    await expectOk('POST', SANDBOXES, { body: json(sandbox('real')) }, 201);
    for (const path of [
      `${SANDBOXES}/../../secrets`,
      `${SANDBOXES}/../../secrets/token`,
      `${SANDBOXES}/%2e%2e/%2e%2e/secrets/token`,
      `${SANDBOXES}/..%2F..%2Fsecrets%2Ftoken`,
      `${SANDBOXES}/real%2F..%2F..%2Fsecrets%2Ftoken`,
      `${SANDBOXES}/real%2Fstatus`,
      `${SANDBOXES}/a%2Fb`,
      `${SANDBOXES}/%2F`,
      `${SANDBOXES}/%00`,
      `${SANDBOXES}/%`,
      `${SANDBOXES}/%zz`,
      '/apis/simops.dev/v1alpha1/namespaces/default%2Fsecrets/sandboxes/real',
      '/apis/simops.dev/v1alpha1/namespaces/%2e%2e/sandboxes/real',
      '/apis/simops.dev/v1alpha1/namespaces/default//sandboxes/real',
      '/apis/simops.dev/v1alpha1/namespaces/default/sandboxes//real',
      '/apis/simops.dev/v1alpha1/namespaces//default/sandboxes/real',
      '/apis//simops.dev/v1alpha1/namespaces/default/sandboxes/real',
      '//apis/simops.dev/v1alpha1/namespaces/default/sandboxes/real',
      '//evil.example.com/api/v1/namespaces/default/secrets/token',
      '//%/api/v1/namespaces/default/secrets/token',
      '//[/api/v1/namespaces',
      '/api/v1/namespaces/default/secrets/token//',
      '/apis/simops.dev/v1alpha1/namespaces/default/sandboxes/real/status/../../../secrets/token',
      '/api/v1/namespaces/default/configmaps/%2e%2e%2fsecrets%2ftoken',
    ]) {
      const status = await expectStatus([400, 404], 'GET', path);
      assert.doesNotMatch(JSON.stringify(status), /c2VjcmV0/, `${path} leaked the secret`);
    }
    for (const method of ['PUT', 'PATCH', 'DELETE']) {
      await expectStatus([400, 404, 405, 415], method, `${SANDBOXES}/real%2F..%2Freal`, {
        body: json(sandbox('real')),
        contentType: method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
      });
      await expectStatus([400, 404], method, '/apis/simops.dev/v1alpha1/namespaces/default//sandboxes/real', {
        body: json(sandbox('real')),
        contentType: method === 'PATCH' ? 'application/merge-patch+json' : 'application/json',
      });
    }
    // Dot segments are not resolved: this DELETE once became a deletecollection of every sandbox.
    for (const suffix of ['/..', '/%2e%2e', '/.%2E', '/.', '/%2e', '/../real', '/status/..'])
      await expectStatus(404, 'DELETE', `${SANDBOXES}/real${suffix}`);
    await expectStatus(404, 'GET', '/apis\\simops.dev\\v1alpha1\\namespaces\\default\\sandboxes\\real');
    await expectStatus(404, 'DELETE', '/api/v1/namespaces/default/secrets\\..\\secrets');
    assert.ok(await exists(`${SANDBOXES}/real`));
    assert.ok(await exists('/api/v1/namespaces/default/secrets/token'));
    // Namespaces are cluster-scoped: a namespaced path to them must not act on the namespace it
    // is nested in (this DELETE once deleted keep-me, not other).
    for (const name of ['keep-me', 'other'])
      await expectOk('POST', '/api/v1/namespaces', { body: json({ metadata: { name } }) }, 201);
    await expectStatus(404, 'DELETE', '/api/v1/namespaces/keep-me/namespaces/other');
    await expectStatus(404, 'DELETE', '/api/v1/namespaces/keep-me/namespaces/keep-me');
    await expectStatus(404, 'GET', '/api/v1/namespaces/keep-me/namespaces');
    await expectStatus(404, 'PUT', '/api/v1/namespaces/keep-me/namespaces/other', {
      body: json({ metadata: { name: 'other', labels: { hijacked: 'yes' } } }),
    });
    for (const name of ['keep-me', 'other']) {
      const ns = await expectOk('GET', `/api/v1/namespaces/${name}`);
      assert.equal(ns.metadata.deletionTimestamp, undefined, name);
      assert.equal(ns.metadata.labels?.hijacked, undefined, name);
    }
  });

  it('answers 401 without the right bearer token, on every path but the public ones', async () => {
    const paths = [
      SANDBOXES,
      `${SANDBOXES}/x`,
      '/api',
      '/apis',
      '/api/v1',
      '/openapi/v3',
      `${SANDBOXES}?watch=true`,
    ];
    for (const path of paths) {
      await expectStatus(401, 'GET', path, { token: null });
      await expectStatus(401, 'GET', path, { token: 'wrong' });
      await expectStatus(401, 'GET', path, { token: `${env.token}x` });
      await expectStatus(401, 'GET', path, { token: env.token.slice(0, -1) });
      await expectStatus(401, 'GET', path, { token: '' });
      await expectStatus(401, 'GET', path, { token: null, headers: { authorization: `Basic ${env.token}` } });
      await expectStatus(401, 'GET', path, { token: null, headers: { authorization: env.token } });
    }
    await expectStatus(401, 'POST', SANDBOXES, { token: 'wrong', body: json(sandbox('sneaky')) });
    await expectStatus(401, 'DELETE', `${SANDBOXES}/real`, { token: null });
    assert.equal(await exists(`${SANDBOXES}/sneaky`), false);
    for (const path of ['/healthz', '/readyz', '/livez', '/version'])
      assert.equal((await call('GET', path, { token: null })).code, 200, path);
  });

  it('refuses a body of the wrong apiVersion or kind with 400', async () => {
    await expectOk('POST', SANDBOXES, { body: json(sandbox('typed')) }, 201);
    for (const body of [
      { ...sandbox('w'), apiVersion: 'v1' },
      { ...sandbox('w'), apiVersion: 'simops.dev/v1beta1' },
      { ...sandbox('w'), kind: 'Machine' },
      { ...sandbox('w'), kind: 'ConfigMap', apiVersion: 'v1' },
      { ...sandbox('w'), apiVersion: 5 },
      { ...sandbox('w'), kind: ['Sandbox'] },
      { ...sandbox('w'), kind: null },
    ]) {
      await expectStatus(400, 'POST', SANDBOXES, { body: json(body) });
      await expectStatus(400, 'PUT', `${SANDBOXES}/typed`, {
        body: json({ ...body, metadata: { name: 'typed' } }),
      });
    }
    await expectStatus(400, 'POST', CONFIGMAPS, { body: json({ ...configMap('w'), kind: 'Secret' }) });
    await expectStatus(400, 'POST', CONFIGMAPS, { body: json({ ...configMap('w'), apiVersion: 'apps/v1' }) });
    // Name and namespace in the body must agree with the URL.
    await expectStatus(400, 'PUT', `${SANDBOXES}/typed`, { body: json(sandbox('other')) });
    await expectStatus(400, 'POST', SANDBOXES, {
      body: json({ ...sandbox('w'), metadata: { name: 'w', namespace: 'kube-system' } }),
    });
    assert.equal(await exists(`${SANDBOXES}/w`), false);
  });

  it('answers 415 for unsupported media types, strategic merge patch on a custom resource included', async () => {
    await expectOk('POST', SANDBOXES, { body: json(sandbox('media')) }, 201);
    await expectOk('POST', CONFIGMAPS, { body: json(configMap('media')) }, 201);
    const patch = json({ metadata: { labels: { x: 'y' } } });
    for (const contentType of [
      'application/strategic-merge-patch+json',
      'text/plain',
      'application/xml',
      'application/json',
      'application/x-www-form-urlencoded',
      'application/vnd.kubernetes.protobuf',
      '',
    ])
      await expectStatus(415, 'PATCH', `${SANDBOXES}/media`, { body: patch, contentType });
    for (const contentType of [
      'text/plain',
      'application/octet-stream',
      'application/vnd.kubernetes.protobuf',
    ]) {
      await expectStatus(415, 'POST', SANDBOXES, { body: json(sandbox('media2')), contentType });
      await expectStatus(415, 'PATCH', `${CONFIGMAPS}/media`, { body: patch, contentType });
    }
    // Positive control: core kinds take strategic merge patches.
    const cm = await expectOk('PATCH', `${CONFIGMAPS}/media`, {
      body: patch,
      contentType: 'application/strategic-merge-patch+json',
    });
    assert.equal(cm.metadata.labels?.x, 'y');
    const sb = await expectOk('GET', `${SANDBOXES}/media`);
    assert.equal(sb.metadata.labels?.x, undefined);
  });

  it('refuses invalid label and field selectors with 400, on list, watch and deletecollection', async () => {
    await expectOk('POST', SANDBOXES, { body: json(sandbox('selected')) }, 201);
    const labels = ['a in (b', '!!a', 'a==b==c', 'a b', '=x', 'a in b', '(', 'a!', `${'x'.repeat(20)}=/`];
    const fields = ['spec.runtime=process', 'garbage', 'metadata.uid=1', '=x', 'metadata.name'];
    const queries = [
      ...labels.map((s) => `labelSelector=${encodeURIComponent(s)}`),
      ...fields.map((s) => `fieldSelector=${encodeURIComponent(s)}`),
    ];
    for (const q of queries) {
      await expectStatus(400, 'GET', `${SANDBOXES}?${q}`);
      await expectStatus(400, 'GET', `${SANDBOXES}?watch=true&${q}`);
      await expectStatus(400, 'GET', `/apis/simops.dev/v1alpha1/sandboxes?${q}`);
      await expectStatus(400, 'DELETE', `${SANDBOXES}?${q}`);
    }
    assert.ok(await exists(`${SANDBOXES}/selected`), 'a refused deletecollection must delete nothing');
  });

  it('refuses a bad dryRun value and changes nothing', async () => {
    await expectOk('POST', SANDBOXES, { body: json(sandbox('dry')) }, 201);
    const path = `${SANDBOXES}/dry`;
    for (const dryRun of ['true', 'all', 'Yes', '', 'All,All']) {
      const q = `dryRun=${encodeURIComponent(dryRun)}`;
      await expectStatus(400, 'POST', `${SANDBOXES}?${q}`, { body: json(sandbox('dry-new')) });
      await expectStatus(400, 'PATCH', `${path}?${q}`, {
        body: json({ spec: { flows: ['changed'] } }),
        contentType: 'application/merge-patch+json',
      });
      await expectStatus(400, 'DELETE', `${path}?${q}`);
      await expectStatus(400, 'DELETE', `${SANDBOXES}?${q}`);
    }
    // DeleteOptions in the body: dryRun is a list; anything else must not turn into a real delete.
    for (const body of [{ dryRun: 'All' }, { dryRun: ['Maybe'] }, { dryRun: [1] }, { dryRun: {} }])
      await expectStatus(400, 'DELETE', path, { body: json(body) });
    for (const body of ['null', '[1]', '"All"', '7']) await expectStatus(400, 'DELETE', path, { body });
    await expectStatus([400, 422], 'DELETE', path, { body: json({ propagationPolicy: 'Sideways' }) });
    await expectStatus([400, 422], 'DELETE', `${path}?propagationPolicy=foreground`);
    await expectStatus(400, 'POST', `${SANDBOXES}?fieldValidation=Loose`, { body: json(sandbox('dry-new')) });
    const still = await expectOk('GET', path);
    assert.deepEqual(still.spec.flows, ['a']);
    assert.equal(still.metadata.deletionTimestamp, undefined);
    assert.equal(await exists(`${SANDBOXES}/dry-new`), false);
    // Positive control: a real dry run answers as if done and changes nothing.
    await expectOk('DELETE', path, { body: json({ dryRun: ['All'] }) });
    await expectOk('DELETE', `${path}?dryRun=All`);
    assert.ok(await exists(path));
  });

  it('refuses other malformed requests with a 4xx Status', async () => {
    await expectOk('POST', SANDBOXES, { body: json(sandbox('misc')) }, 201);
    // A watch from a resourceVersion that is not a number.
    for (const rv of ['abc', '-1', '1.5', '0x10'])
      await expectStatus(400, 'GET', `${SANDBOXES}?watch=true&resourceVersion=${rv}`);
    // Methods a resource does not support.
    for (const method of ['OPTIONS', 'TRACE', 'PROPFIND']) await expectStatus(405, method, SANDBOXES);
    await expectStatus(405, 'POST', `${SANDBOXES}/misc`, { body: json(sandbox('misc')) });
    await expectStatus(405, 'PUT', SANDBOXES, { body: json(sandbox('misc')) });
    // Nesting deep enough to exhaust a recursive validator is refused up front.
    for (const depth of [5_000, 50_000]) {
      const deep = `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`;
      const deepList = `${'['.repeat(depth)}${']'.repeat(depth)}`;
      await expectStatus(400, 'POST', SANDBOXES, {
        body: json(sandbox('deep')).replace('"flows":["a"]', `"flows":${deepList}`),
      });
      await expectStatus(400, 'POST', SANDBOXES, { body: json(sandbox('deep')).replace('"a"]', `${deep}]`) });
      await expectStatus(400, 'POST', CONFIGMAPS, { body: `{"metadata":{"name":"deep"},"data":${deep}}` });
      await expectStatus(400, 'PATCH', `${SANDBOXES}/misc`, {
        body: `{"spec":{"x":${deep}}}`,
        contentType: 'application/merge-patch+json',
      });
      await expectStatus(400, 'PATCH', `${SANDBOXES}/misc/status`, {
        body: `{"status":${deep}}`,
        contentType: 'application/merge-patch+json',
      });
      await expectStatus(400, 'PATCH', `${SANDBOXES}/misc`, {
        body: `[{"op":"add","path":"/spec/x","value":${deep}}]`,
        contentType: 'application/json-patch+json',
      });
      await expectStatus(400, 'PUT', `${SANDBOXES}/misc`, {
        body: `{"metadata":{"name":"misc"},"spec":${deep}}`,
      });
      await expectStatus(400, 'DELETE', `${SANDBOXES}/misc`, { body: `{"preconditions":${deep}}` });
    }
    // JSON patches that are not lists of operations.
    for (const body of ['{}', '[null]', '[{"op":"explode","path":"/spec"}]', '[{"op":"add"}]'])
      await expectStatus([400, 422], 'PATCH', `${SANDBOXES}/misc`, {
        body,
        contentType: 'application/json-patch+json',
      });
    // A merge patch that nulls or mistypes what must be an object.
    const before = await expectOk('GET', `${SANDBOXES}/misc`);
    for (const body of [
      '{"spec":null}',
      '{"metadata":{"labels":7}}',
      '{"spec":{"flows":{}}}',
      'null',
      '[]',
      '7',
    ])
      await expectStatus([400, 422], 'PATCH', `${SANDBOXES}/misc`, {
        body,
        contentType: 'application/merge-patch+json',
      });
    // Dropping metadata as a whole clears what a client may clear, never the object's identity.
    const dropped = await call('PATCH', `${SANDBOXES}/misc`, {
      body: '{"metadata":null}',
      contentType: 'application/merge-patch+json',
    });
    assert.ok([200, 400, 422].includes(dropped.code), dropped.text);
    const after = await expectOk('GET', `${SANDBOXES}/misc`);
    for (const field of ['name', 'namespace', 'uid', 'creationTimestamp', 'generation'])
      assert.equal(after.metadata[field], before.metadata[field], field);
    // null where a rule-checked object goes (the rule checks once threw on it).
    for (const body of [
      sandbox('nulls', { spec: { simulatorRef: { name: 'b' }, source: null } }),
      { apiVersion: 'simops.dev/v1alpha1', kind: 'Machine', metadata: { name: 'nulls' }, spec: null },
      {
        apiVersion: 'simops.dev/v1alpha1',
        kind: 'GitSource',
        metadata: { name: 'nulls' },
        spec: { ref: null },
      },
    ]) {
      const plural = { Sandbox: 'sandboxes', Machine: 'machines', GitSource: 'gitsources' }[body.kind]!;
      const status = await expectStatus(
        422,
        'POST',
        `/apis/simops.dev/v1alpha1/namespaces/default/${plural}`,
        {
          body: json(body),
        },
      );
      assert.ok(status.details?.causes?.length, JSON.stringify(status));
    }
    // Finalizers that are not a list of strings, on every kind of update.
    for (const finalizers of ['"string"', '7', '{}', 'true', '[1]'])
      for (const [method, path, contentType, body] of [
        [
          'PATCH',
          `${SANDBOXES}/misc`,
          'application/merge-patch+json',
          `{"metadata":{"finalizers":${finalizers}}}`,
        ],
        [
          'PATCH',
          `${SANDBOXES}/misc?fieldManager=f`,
          'application/apply-patch+yaml',
          `{"metadata":{"finalizers":${finalizers}}}`,
        ],
        [
          'PATCH',
          `${CONFIGMAPS}/misc`,
          'application/strategic-merge-patch+json',
          `{"metadata":{"finalizers":${finalizers}}}`,
        ],
        [
          'PUT',
          `${CONFIGMAPS}/misc`,
          'application/json',
          `{"metadata":{"name":"misc","finalizers":${finalizers}}}`,
        ],
      ] as const) {
        if (!(await exists(`${CONFIGMAPS}/misc`)))
          await expectOk('POST', CONFIGMAPS, { body: json(configMap('misc')) }, 201);
        await expectStatus(422, method, path, { body, contentType });
      }
    // Unknown fields are warned about in a header, whatever characters their names have.
    const odd = json({ ...configMap('odd'), 'é\u00ff\u007f\u0000\n😀"\\': 1 });
    for (const [method, path] of [
      ['POST', CONFIGMAPS],
      ['PUT', `${CONFIGMAPS}/odd`],
    ]) {
      const r = await call(method!, path!, { body: odd });
      assert.ok(r.code === 200 || r.code === 201, `${method} -> ${r.code} ${r.text}`);
      assert.match(String(r.headers.warning), /^299 - "unknown field /);
    }
    await expectStatus(400, 'PUT', `${CONFIGMAPS}/odd?fieldValidation=Strict`, { body: odd });
    // Server-side apply without a field manager from a client with no User-Agent.
    await expectStatus([400, 422], 'PATCH', `${SANDBOXES}/misc?fieldManager=`, {
      body: json(sandbox('misc')),
      contentType: 'application/apply-patch+yaml',
    });
    const misc = await expectOk('GET', `${SANDBOXES}/misc`);
    assert.deepEqual(misc.spec.flows, ['a']);
  });

  it('survives a seeded fuzz loop without a 500, answering every error with a Status', async () => {
    const seed = Number(process.env.FUZZ_SEED ?? 424242);
    const rounds = Number(process.env.FUZZ_ROUNDS ?? 300);
    const rand = mulberry32(seed);
    const int = (n: number) => Math.floor(rand() * n);
    const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;

    // One valid object per resource: the demo repository's manifests and a few core objects.
    const examples = new Map<string, Record<string, unknown>>();
    for (const doc of [sandbox('x'), configMap('x'), ...exampleManifests()])
      if (!examples.has(String(doc.kind))) examples.set(String(doc.kind), doc);
    const core = [
      { apiVersion: 'v1', kind: 'Secret', metadata: { name: 'x' }, data: { a: 'YQ==' }, type: 'Opaque' },
      { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'x' } },
      {
        apiVersion: 'coordination.k8s.io/v1',
        kind: 'Lease',
        metadata: { name: 'x' },
        spec: { holderIdentity: 'me' },
      },
      {
        apiVersion: 'v1',
        kind: 'Event',
        metadata: { name: 'x' },
        involvedObject: { kind: 'Sandbox', name: 'fuzz-target', namespace: 'default' },
        reason: 'Fuzzed',
        message: 'fuzz',
        type: 'Normal',
      },
    ];
    for (const doc of core) examples.set(doc.kind, doc);
    const discovery = await expectOk('GET', '/apis', { headers: { accept: 'application/json' } });
    assert.ok(discovery.groups.length > 0);
    const resources: {
      base: string;
      plural: string;
      namespaced: boolean;
      example: Record<string, unknown>;
    }[] = [];
    for (const gv of ['/api/v1', '/apis/simops.dev/v1alpha1', '/apis/coordination.k8s.io/v1']) {
      const list = await expectOk('GET', gv);
      for (const r of list.resources as { name: string; kind: string; namespaced: boolean }[]) {
        const example = examples.get(r.kind);
        if (!r.name.includes('/') && example)
          resources.push({ base: gv, plural: r.name, namespaced: r.namespaced, example });
      }
    }
    assert.ok(resources.length >= 8, `found ${resources.map((r) => r.plural).join(', ')}`);
    const named = (doc: Record<string, unknown>, name: string) => {
      const { namespace: _, ...meta } = (doc.metadata ?? {}) as Record<string, unknown>;
      return { ...doc, metadata: { ...meta, name, labels: { app: 'fuzz' } } };
    };
    for (const r of resources) {
      const path = r.namespaced ? `${r.base}/namespaces/default/${r.plural}` : `${r.base}/${r.plural}`;
      await expectOk('POST', path, { body: json(named(r.example, 'fuzz-target')) }, 201);
    }

    const weirdNames = ['UPPER', '..', '%2F', 'a%2Fb', '%2e%2e', '%00', '%', 'x'.repeat(300), ''];
    const namespaces = ['kube-system', 'nope', 'UPPER', '%2F'];
    const queryPieces = [
      'watch=true&timeoutSeconds=1',
      'watch=1&resourceVersion=0',
      'watch=true&resourceVersion=abc',
      'watch=true&resourceVersion=99999999999999999999999',
      'resourceVersion=1',
      'labelSelector=app%3Dfuzz',
      'labelSelector=a%20in%20(b',
      'fieldSelector=metadata.name%3Dfuzz-target',
      'fieldSelector=spec.x%3D1',
      'dryRun=All',
      'dryRun=Nope',
      'fieldManager=fuzzer',
      'fieldValidation=Strict',
      'fieldValidation=Nope',
      'force=true',
      'propagationPolicy=Foreground',
      'propagationPolicy=Orphan',
      'propagationPolicy=Bogus',
      'limit=1',
      'includeObject=Object',
      'includeObject=None',
      'includeObject=Bogus',
      'timeoutSeconds=-5',
      '%zz=%zz',
    ];
    const rawPieces = [
      'api',
      'apis',
      'v1',
      'simops.dev',
      'v1alpha1',
      'namespaces',
      'default',
      'watch',
      'status',
      '.',
      '..',
      '',
    ];
    const target = (method: string) => {
      const r = pick(resources);
      if (rand() < 0.05) {
        // Random sequences of real path pieces.
        const pieces = [...rawPieces, ...resources.map((x) => x.plural), 'fuzz-target', ...weirdNames];
        return { r, path: `/${Array.from({ length: 1 + int(8) }, () => pick(pieces)).join('/')}` };
      }
      let path = r.base;
      if (rand() < 0.03) path += '/watch';
      if (r.namespaced ? rand() < 0.95 : rand() < 0.05)
        path += `/namespaces/${rand() < 0.9 ? 'default' : pick(namespaces)}`;
      path += `/${r.plural}`;
      // (Not a deletecollection of namespaces: that would leave little to fuzz.)
      const collection =
        rand() < (method === 'POST' ? 0.85 : method === 'GET' || method === 'DELETE' ? 0.3 : 0.05) &&
        !(method === 'DELETE' && r.plural === 'namespaces');
      const name = rand() < 0.9 ? pick(['fuzz-target', 'fuzz-target', 'fuzz-new']) : pick(weirdNames);
      if (!collection) {
        path += `/${name}`;
        if (rand() < 0.2) path += `/${rand() < 0.8 ? 'status' : pick(['scale', 'finalize', '..'])}`;
      }
      if (rand() < 0.02) path = path.replace('/', '//');
      if (rand() < 0.02) path += '/';
      if (rand() < 0.4) path += `?${Array.from({ length: 1 + int(3) }, () => pick(queryPieces)).join('&')}`;
      return { r, path, name };
    };

    const hugeNumbers = [
      '1e308',
      '-1e308',
      '1e999',
      '9007199254740993',
      '-0',
      '0.1',
      '123456789012345678901234567890',
    ];
    const deep = (depth: number) =>
      rand() < 0.5
        ? `${'['.repeat(depth)}${']'.repeat(depth)}`
        : `${'{"a":'.repeat(depth)}null${'}'.repeat(depth)}`;
    const garble = (text: string) => {
      const chars = [...text];
      const flips = 1 + int(5);
      for (let i = 0; i < flips; i++)
        chars[int(chars.length)] = pick([
          '{',
          '}',
          '[',
          ']',
          '"',
          ':',
          ',',
          '\\',
          '\u0000',
          'é',
          'x',
          ' ',
          '\n',
        ]);
      return chars.join('');
    };
    /** A copy with one value somewhere replaced: null where an object goes, or a wrong type. */
    const mistype = (v: unknown): unknown => {
      if (!v || typeof v !== 'object') return pick([null, 'string', 7, [], {}, true]);
      const copy = structuredClone(v) as Record<string, unknown>;
      const keys = Object.keys(copy);
      if (!keys.length) return null;
      const k = pick(keys);
      copy[k] = rand() < 0.4 ? pick([null, 'string', 7, [], {}, true, -1, 1e308]) : mistype(copy[k]);
      return copy;
    };
    const patchBodies = [
      { metadata: { labels: { fuzz: 'yes' }, annotations: { a: 'b' } } },
      { metadata: { finalizers: ['simops.dev/fuzz'] } },
      {
        metadata: {
          finalizers: null,
          ownerReferences: [{ apiVersion: 'v1', kind: 'ConfigMap', name: 'x', uid: 'u' }],
        },
      },
      { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } },
      [{ op: 'add', path: '/metadata/labels/x', value: 'y' }],
      [{ op: 'remove', path: '/spec' }],
      [{ op: 'test', path: '/metadata/name', value: 'nope' }],
      { propagationPolicy: 'Orphan', preconditions: { uid: 'nope' } },
      { dryRun: ['All'] },
    ];
    /** Replaces one match of `re`, picked at random, with `by`. */
    const replaceOne = (text: string, re: RegExp, by: string) => {
      const matches = [...text.matchAll(new RegExp(re, 'g'))];
      if (!matches.length) return text;
      const m = pick(matches);
      return text.slice(0, m.index) + by + text.slice(m.index + m[0].length);
    };
    const VALUE = /"[^"]*"(?=[,}\]])|\{\}|\[\]|\btrue\b|\bfalse\b|-?\d+(?:\.\d+)?/;
    const body = (doc: unknown): string | Buffer | undefined => {
      const valid = rand() < 0.7 ? doc : pick(patchBodies);
      const dice = rand();
      if (dice < 0.35) return json(valid);
      if (dice < 0.45) return stringify(valid);
      if (dice < 0.5) return pick([undefined, 'null', '[]', '""', '{}']);
      if (dice < 0.55) return Buffer.from(Array.from({ length: int(300) }, () => int(256)));
      const text = json(valid);
      if (dice < 0.62) return text.slice(0, int(text.length));
      if (dice < 0.69) return garble(rand() < 0.7 ? text : stringify(valid));
      if (dice < 0.78) return replaceOne(text, VALUE, deep(1 + int(5_000)));
      if (dice < 0.86) return replaceOne(text, VALUE, pick(hugeNumbers));
      const wrong = mistype(valid);
      return rand() < 0.8 ? json(wrong) : stringify(wrong);
    };
    const contentTypes = [
      'application/json',
      'application/json; charset=utf-8',
      'application/yaml',
      'application/merge-patch+json',
      'application/json-patch+json',
      'application/strategic-merge-patch+json',
      'application/apply-patch+yaml',
      'text/plain',
      '',
    ];

    const accepts = [
      'application/json',
      'application/json;as=Table;v=v1;g=meta.k8s.io,application/json',
      'application/json;as=Table;v=v1beta1;g=meta.k8s.io',
      'application/json;as=Table;v=v9;g=meta.k8s.io',
      'application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList',
      'application/vnd.kubernetes.protobuf',
      'application/yaml',
      'text/html',
      '*/*',
      ';;;as=Table',
    ];
    const codes = new Map<number, number>();
    for (let i = 0; i < rounds; i++) {
      const method = pick([
        'GET',
        'GET',
        'POST',
        'POST',
        'PUT',
        'PUT',
        'PATCH',
        'PATCH',
        'PATCH',
        'DELETE',
        'OPTIONS',
        'HEAD',
      ]);
      const { r, path, name } = target(method);
      const doc = named(r.example, name && !name.includes('%') ? name : 'fuzz-new');
      const b = method === 'GET' || method === 'HEAD' ? (rand() < 0.9 ? undefined : body(doc)) : body(doc);
      const contentType =
        method === 'PATCH' && rand() < 0.7
          ? pick(contentTypes.slice(3, 7))
          : rand() < 0.8
            ? pick(contentTypes.slice(0, 3))
            : pick(contentTypes);
      const accept = rand() < 0.3 ? pick(accepts) : undefined;
      const replay = `FUZZ_SEED=${seed} request #${i}: ${method} ${path.slice(0, 150)} [${contentType}] [accept ${accept}] ${String(b).slice(0, 200)}`;
      let reply: Reply;
      try {
        reply = await call(method, path, {
          body: b,
          contentType: b === undefined ? undefined : contentType,
          headers: accept === undefined ? {} : { accept },
        });
      } catch (err) {
        assert.fail(`${replay}\n-> connection error: ${String(err)}`);
      }
      codes.set(reply.code, (codes.get(reply.code) ?? 0) + 1);
      if (process.env.FUZZ_VERBOSE)
        console.log(`#${i} ${method} ${path.slice(0, 100)} -> ${reply.code} ${reply.text.slice(0, 120)}`);
      const what = `${replay}\n-> ${reply.code} ${reply.text.slice(0, 300)}`;
      assert.ok(reply.code >= 200 && reply.code < 500, what);
      if (reply.code >= 400 && method !== 'HEAD') {
        assert.equal(reply.json?.kind, 'Status', what);
        assert.equal(reply.json?.code, reply.code, what);
      }
    }
    // The loop must reach the handlers, not only the router's 404.
    const reached = [...codes].filter(([c]) => c !== 404).reduce((n, [, k]) => n + k, 0);
    assert.ok(reached > rounds / 2, `FUZZ_SEED=${seed}: answers by status ${JSON.stringify([...codes])}`);
    // And it still serves ordinary requests.
    await expectOk('GET', '/apis', { headers: { accept: 'application/json' } });
    await expectOk('GET', '/apis/simops.dev/v1alpha1/sandboxes');
    await expectOk('POST', '/api/v1/namespaces', { body: json({ metadata: { name: 'after-fuzz' } }) }, 201);
    const after = '/apis/simops.dev/v1alpha1/namespaces/after-fuzz/sandboxes';
    await expectOk('POST', after, { body: json(sandbox('still-works')) }, 201);
    assert.equal((await expectOk('GET', `${after}/still-works`)).spec.runtime, 'process');
  });
});

/** Every valid object in the demo repository (overlays and templates hold partial ones). */
function exampleManifests(): Record<string, unknown>[] {
  const root = new URL('../examples/', import.meta.url).pathname;
  const docs: Record<string, unknown>[] = [];
  for (const file of readdirSync(root, { recursive: true, encoding: 'utf8' })) {
    if (!/\.ya?ml$/.test(file)) continue;
    for (const doc of parseAllDocuments(readFileSync(join(root, file), 'utf8'))) {
      const o = doc.toJS();
      if (o && typeof o === 'object' && !validateObject(o, 'reject').errors.length) docs.push(o);
    }
  }
  return docs;
}

/** A small seeded PRNG, so a failing fuzz run can be replayed. */
function mulberry32(seed: number) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
