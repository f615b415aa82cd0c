// The booking demo that the examples simulate: a login page, a dashboard, a bookings API and
// business metrics. Plain Node, no dependencies, so a sandbox can run it anywhere.
import { createHmac, timingSafeEqual } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';

const port = Number(process.env.PORT ?? 8080);
// Bookings are kept in DATA_DIR (default data/, in the sandbox's working directory) when the app
// stops, so a snapshot of the directory holds them and a sandbox restored from it has them again.
const dataFile = join(process.env.DATA_DIR ?? 'data', 'bookings.json');
const bookings = existsSync(dataFile) ? JSON.parse(readFileSync(dataFile, 'utf8')) : [];
const persist = () => {
  mkdirSync(dirname(dataFile), { recursive: true });
  writeFileSync(dataFile, JSON.stringify(bookings));
};
for (const signal of ['SIGTERM', 'SIGINT'])
  process.on(signal, () => {
    persist();
    process.exit(0);
  });
const funnel = { started: 0, confirmed: 0 };

const page = (title, body) =>
  `<!doctype html><html><head><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;

const readBody = (req) =>
  new Promise((resolve) => {
    let data = '';
    req.on('data', (c) => {
      data += c;
    });
    req.on('end', () => resolve(data));
  });

const send = (res, status, type, body) => {
  res.writeHead(status, { 'content-type': type });
  res.end(body);
};

// --- What ChaosScenarios exercise: search with a cache, booking changes, a vendor inbox, business
// metrics over the last second, and a chaos hook that turns the seed's application events on and
// off (CACHE_INVALIDATION_STORM, PAUSE_MV_REFRESH, RLS_MISCONFIG). With CHAOS_HOOK_SECRET set, the
// hook accepts only deliveries signed with it (X-SimOps-Signature-256: sha256=<HMAC-SHA256>).
const hookSecret = process.env.CHAOS_HOOK_SECRET ?? '';
// The seed's "within 2 sim hours" in real time: a minute, 2 sim hours at the pace of the scaled examples.
const vendorSlaMs = Number(process.env.VENDOR_SLA_MS ?? 60_000);
const appStartedAt = Date.now(); // bookings restored from a snapshot are not this run's vendor SLA
const json = (res, status, value) => send(res, status, 'application/json', JSON.stringify(value));
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));
const chaos = new Map(); // event type -> parameters, while active
const slots = ['morning', 'afternoon', 'evening'];
const cache = new Map(); // slot -> search result
const responses = new Set(); // booking ids vendors answered
let mvRefreshedAt = Date.now();
let invalidationDebt = 0;
// The last 50 lookups (hit, invalidated, when): rates over the last second, or over these 50 when
// the last second saw fewer than 10.
const lookups = [];
const lookup = (hit, invalidated) => {
  lookups.push({ at: Date.now(), hit, invalidated });
  if (lookups.length > 50) lookups.shift();
};
const cacheRates = () => {
  const recent = lookups.filter((l) => Date.now() - l.at <= 1000);
  const sample = recent.length >= 10 ? recent : lookups;
  if (!sample.length) return { hitRate: 1, invalidationRate: 0 };
  return {
    hitRate: sample.filter((l) => l.hit).length / sample.length,
    invalidationRate: sample.filter((l) => l.invalidated).length / sample.length,
  };
};
setInterval(() => {
  if (!chaos.has('PAUSE_MV_REFRESH')) mvRefreshedAt = Date.now();
}, 250).unref();

const query = (slot) => ({
  slot,
  free: bookings.filter((x) => x.slot === slot && x.status !== 'cancelled').length < 1000,
});
for (const slot of slots) cache.set(slot, query(slot)); // warmed at start

const search = async (slot) => {
  const storm = chaos.get('CACHE_INVALIDATION_STORM');
  let invalidated = false;
  if (storm && cache.has(slot)) {
    invalidationDebt += Number(storm.invalidationRate ?? 0.5);
    if (invalidationDebt >= 1) {
      invalidationDebt -= 1;
      cache.delete(slot);
      invalidated = true;
    }
  }
  if (cache.has(slot)) {
    lookup(true, false);
    return cache.get(slot);
  }
  lookup(false, invalidated);
  await sleep(5); // the query the cache saves
  const result = query(slot);
  cache.set(slot, result);
  return result;
};

const metrics = () => {
  const rates = cacheRates();
  const now = Date.now();
  let inSla = 0;
  let answered = 0;
  let overdue = 0;
  for (const b of bookings) {
    if (!(b.createdAt >= appStartedAt)) continue;
    if (b.respondedAt !== undefined) {
      answered++;
      if (b.respondedAt - b.createdAt <= vendorSlaMs) inSla++;
    } else if (now - b.createdAt > vendorSlaMs) overdue++;
  }
  const ids = bookings.map((b) => b.id);
  return {
    booking_funnel_success: funnel.started ? funnel.confirmed / funnel.started : 1,
    bookings: bookings.length,
    cache_hit_rate: rates.hitRate,
    cache_invalidation_rate: rates.invalidationRate,
    vendor_sla_response: answered + overdue ? inSla / (answered + overdue) : 1,
    double_bookings: ids.length - new Set(ids).size,
    orphaned_references: [...responses].filter((id) => !bookings.some((b) => b.id === id)).length,
    mv_staleness_s: (now - mvRefreshedAt) / 1000,
    chaos_events_active: chaos.size,
  };
};

const verified = (raw, signature) => {
  if (!hookSecret) return true;
  const want = Buffer.from(`sha256=${createHmac('sha256', hookSecret).update(raw).digest('hex')}`);
  const got = Buffer.from(String(signature ?? ''));
  return got.length === want.length && timingSafeEqual(got, want);
};

const bookingRoute = /^\/api\/bookings\/(\d+)(\/confirm)?$/;
const chaosRoutes = async (req, res, url) => {
  if (req.method === 'POST' && url.pathname === '/api/chaos') {
    const raw = await readBody(req);
    if (!verified(raw, req.headers['x-simops-signature-256']))
      return json(res, 401, { error: 'bad signature' });
    let event;
    try {
      event = JSON.parse(raw);
    } catch {
      return json(res, 400, { error: 'invalid JSON' });
    }
    const known = ['CACHE_INVALIDATION_STORM', 'PAUSE_MV_REFRESH', 'RLS_MISCONFIG'].includes(event.type);
    if (known && event.phase === 'start') chaos.set(event.type, event.parameters ?? {});
    if (known && event.phase === 'end') chaos.delete(event.type);
    console.log(`chaos hook: ${event.type} ${event.phase}${known ? '' : ' (not an event this app knows)'}`);
    return json(res, 200, { applied: known, active: [...chaos.keys()] });
  }
  if (url.pathname.startsWith('/api/bookings') && chaos.has('RLS_MISCONFIG')) {
    if (req.method === 'POST' && url.pathname === '/api/bookings') funnel.started++;
    const type = chaos.get('RLS_MISCONFIG').misconfigType ?? 'policy';
    return json(res, 500, { error: `permission denied for table bookings (row-level security: ${type})` });
  }
  if (req.method === 'GET' && url.pathname === '/api/search') {
    const slot = url.searchParams.get('slot') ?? 'morning';
    return json(res, 200, await search(slots.includes(slot) ? slot : 'morning'));
  }
  const m = bookingRoute.exec(url.pathname);
  if (m) {
    const booking = bookings.find((b) => b.id === Number(m[1]));
    if (!booking) return json(res, 404, { error: 'no such booking' });
    if (req.method === 'POST' && m[2]) {
      if (booking.status === 'cancelled') return json(res, 409, { error: 'cancelled' });
      booking.status = 'confirmed';
      return json(res, 200, booking);
    }
    if (req.method === 'PATCH' && !m[2]) {
      let body = {};
      try {
        body = JSON.parse((await readBody(req)) || '{}');
      } catch {
        return json(res, 400, { error: 'invalid JSON' });
      }
      booking.slot = String(body.slot ?? booking.slot);
      cache.delete(booking.slot);
      return json(res, 200, booking);
    }
    if (req.method === 'DELETE' && !m[2]) {
      booking.status = 'cancelled';
      return json(res, 200, booking);
    }
  }
  if (req.method === 'GET' && url.pathname === '/api/vendor/requests') {
    const ids = bookings
      .filter((b) => b.respondedAt === undefined)
      .slice(0, 20)
      .map((b) => b.id);
    return json(res, 200, { ids });
  }
  if (req.method === 'POST' && url.pathname === '/api/vendor/respond') {
    let body = {};
    try {
      body = JSON.parse((await readBody(req)) || '{}');
    } catch {
      return json(res, 400, { error: 'invalid JSON' });
    }
    const now = Date.now();
    let answered = 0;
    for (const id of Array.isArray(body.ids) ? body.ids : []) {
      const booking = bookings.find((b) => b.id === id);
      responses.add(id);
      if (booking && booking.respondedAt === undefined) {
        booking.respondedAt = now;
        answered++;
      }
    }
    return json(res, 200, { answered });
  }
  if (req.method === 'GET' && url.pathname === '/metrics') {
    const lines = Object.entries(metrics()).map(([k, v]) => `${k} ${v}`);
    return send(res, 200, 'text/plain; version=0.0.4', `${lines.join('\n')}\n`);
  }
  return false;
};

createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
  if ((await chaosRoutes(req, res, url)) !== false) return;
  if (req.method === 'GET' && url.pathname === '/healthz') return send(res, 200, 'text/plain', 'ok');
  if (req.method === 'GET' && url.pathname === '/') {
    return send(res, 200, 'text/html', page('Booking demo', '<a href="/login">Log in</a>'));
  }
  if (req.method === 'GET' && url.pathname === '/login') {
    const form =
      '<form method="post" action="/login"><input id="email" name="email"><input id="password" name="password" type="password"><button type="submit">Log in</button></form>';
    return send(res, 200, 'text/html', page('Log in', form));
  }
  if (req.method === 'POST' && url.pathname === '/login') {
    const form = new URLSearchParams(await readBody(req));
    if (form.get('email') && form.get('password') === 'password123') {
      res.writeHead(303, { location: '/dashboard' });
      return res.end();
    }
    return send(res, 401, 'text/html', page('Log in', '<p class="error">Invalid credentials</p>'));
  }
  if (req.method === 'GET' && url.pathname === '/dashboard') {
    return send(
      res,
      200,
      'text/html',
      page('Dashboard', `<div id="dashboard">${bookings.length} bookings</div>`),
    );
  }
  if (url.pathname === '/api/bookings') {
    if (req.method === 'GET') return send(res, 200, 'application/json', JSON.stringify(bookings.slice(-100)));
    if (req.method === 'POST') {
      funnel.started++;
      let body = {};
      try {
        body = JSON.parse((await readBody(req)) || '{}');
      } catch {
        return send(res, 400, 'application/json', '{"error":"invalid JSON"}');
      }
      const booking = {
        id: bookings.length + 1,
        slot: String(body.slot ?? 'any'),
        status: 'booked',
        createdAt: Date.now(),
      };
      bookings.push(booking);
      funnel.confirmed++;
      return send(res, 201, 'application/json', JSON.stringify(booking));
    }
  }
  if (req.method === 'GET' && url.pathname === '/metrics.json') {
    return send(res, 200, 'application/json', JSON.stringify(metrics()));
  }
  return send(res, 404, 'text/plain', 'not found');
}).listen(port, '127.0.0.1', () => console.log(`booking demo on http://127.0.0.1:${port}`));
