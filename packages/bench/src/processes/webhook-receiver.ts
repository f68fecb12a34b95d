// The webhook receiver of the webhook row, in its own process so the service and the raw undici loop both
// POST across a process boundary. It reads each body, answers 204 and counts requests and distinct
// `webhook-id` headers (what a receiver dedupes on); GET /_count reports them with the last arrival
// (Date.now()), POST /_reset starts over. argv: port; prints "ready".
import http from 'node:http';

const [port] = process.argv.slice(2).map(Number);
let requests = 0;
let ids = new Set<string>();
let last = 0;

const server = http.createServer((req, res) => {
  if (req.url === '/_count') {
    res
      .writeHead(200, { 'content-type': 'application/json' })
      .end(JSON.stringify({ requests, distinct: ids.size, last }));
    return;
  }
  if (req.url === '/_reset') {
    requests = 0;
    ids = new Set();
    last = 0;
    res.writeHead(204).end();
    return;
  }
  req.resume();
  req.on('end', () => {
    requests += 1;
    const id = req.headers['webhook-id'];
    if (typeof id === 'string') ids.add(id);
    last = Date.now();
    res.writeHead(204).end();
  });
});
server.keepAliveTimeout = 60_000;
await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
process.stdout.write('ready\n');
process.on('SIGTERM', () => {
  server.close(() => process.exit(0));
  server.closeAllConnections();
});
