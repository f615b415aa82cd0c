// The booking demo that the examples simulate: a login page, a dashboard, a bookings API and
// business metrics. Plain Node, no dependencies, so a sandbox can run it anywhere.
import { createServer } from 'node:http';

const port = Number(process.env.PORT ?? 8080);
const bookings = [];
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

createServer(async (req, res) => {
  const url = new URL(req.url ?? '/', 'http://localhost');
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
    if (req.method === 'GET') return send(res, 200, 'application/json', JSON.stringify(bookings));
    if (req.method === 'POST') {
      funnel.started++;
      let body = {};
      try {
        body = JSON.parse((await readBody(req)) || '{}');
      } catch {
        return send(res, 400, 'application/json', '{"error":"invalid JSON"}');
      }
      const booking = { id: bookings.length + 1, slot: String(body.slot ?? 'any') };
      bookings.push(booking);
      funnel.confirmed++;
      return send(res, 201, 'application/json', JSON.stringify(booking));
    }
  }
  if (req.method === 'GET' && url.pathname === '/metrics.json') {
    const success = funnel.started ? funnel.confirmed / funnel.started : 1;
    return send(
      res,
      200,
      'application/json',
      JSON.stringify({ booking_funnel_success: success, bookings: bookings.length }),
    );
  }
  return send(res, 404, 'text/plain', 'not found');
}).listen(port, '127.0.0.1', () => console.log(`booking demo on http://127.0.0.1:${port}`));
