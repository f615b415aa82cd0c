// The loopback target of bench/chaos.ts: a bare Node HTTP server answering a small JSON body, in a
// process of its own. Prints its URL on stdout.
import { createServer } from 'node:http';

const body = JSON.stringify({ ok: true, slot: 'morning', free: true });
const server = createServer((req, res) => {
  req.resume();
  res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
});
server.keepAliveTimeout = 60_000;
server.listen(0, '127.0.0.1', () => console.log(`http://127.0.0.1:${server.address().port}`));
