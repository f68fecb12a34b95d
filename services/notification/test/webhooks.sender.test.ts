import net from 'node:net';
import t from 'tap';
import { createSender, RESPONSE_BODY_LIMIT } from '../src/webhooks/delivery.sender.ts';
import type { ResolveAll } from '../src/webhooks/ssrf.guard.ts';
import { type AllowList, parsePortRanges } from '../src/webhooks/ssrf.rules.ts';
import { startReceiver } from './webhooks.receiver.ts';

// The sender alone (undici), against a real HTTP receiver on loopback: what the delivery worker relies on.
const receiver = await startReceiver();
t.teardown(() => receiver.close());

/** A DNS server in a function: `*.rebind.test` answers 127.0.0.1, the receiver's address. */
const rebindingDns: ResolveAll = (hostname, _options, callback) => {
  if (hostname.endsWith('rebind.test')) callback(null, [{ address: '127.0.0.1', family: 4 }]);
  else callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' }), []);
};

const publicOnly: AllowList = { hosts: [], cidrs: [], ports: parsePortRanges('*') };
const loopbackAllowed: AllowList = { hosts: [], cidrs: ['127.0.0.0/8'], ports: parsePortRanges('*') };

function senderFor(allow: AllowList, timeoutMs = 5_000) {
  const sender = createSender({ allow, timeoutMs, resolveAll: rebindingDns, maxSockets: 4 });
  t.teardown(() => sender.close());
  return sender.send;
}

const request = (url: string) => ({ url, headers: { 'webhook-id': 'msg_test' }, body: '{"a":1}' });

t.test('a private address is refused before any connection, as a literal or through DNS', async (t) => {
  const send = senderFor(publicOnly);
  const literal = await send(request(receiver.url('/private-literal')));
  t.equal(literal.status, null);
  t.match(literal.error, /^refused: http:\/\/127\.0\.0\.1:\d+\/private-literal .*loopback/);

  const resolved = await send(request(`http://evil.rebind.test:${receiver.port}/private-dns`));
  t.equal(resolved.status, null);
  t.match(
    resolved.error,
    /^refused: refused to connect to evil\.rebind\.test: 127\.0\.0\.1 is not public \(loopback\)/,
  );

  t.equal(receiver.at('/private-literal').length + receiver.at('/private-dns').length, 0, 'nothing sent');
});

t.test('an allowed address is sent to, with the body and headers given', async (t) => {
  const send = senderFor(loopbackAllowed);
  receiver.on('/allowed', () => ({ status: 204 }));
  const result = await send(request(`http://ok.rebind.test:${receiver.port}/allowed?x=1`));
  t.same(
    { status: result.status, error: result.error, body: result.body },
    { status: 204, error: null, body: '' },
  );
  const [got] = receiver.at('/allowed');
  t.equal(got?.body, '{"a":1}');
  t.equal(got?.headers['webhook-id'], 'msg_test');
  t.equal(got?.headers['content-type'], 'application/cloudevents+json; charset=utf-8');
  t.equal(got?.headers['content-length'], '7');
});

t.test('a redirect is not followed; Retry-After and the start of the body are kept', async (t) => {
  const send = senderFor(loopbackAllowed);
  receiver.on('/moved', () => ({ status: 307, headers: { location: receiver.url('/elsewhere') } }));
  const moved = await send(request(receiver.url('/moved')));
  t.equal(moved.status, 307);
  t.equal(receiver.at('/elsewhere').length, 0, 'the redirect was not followed');

  const page = 'x'.repeat(RESPONSE_BODY_LIMIT * 3);
  receiver.on('/busy', () => ({ status: 503, headers: { 'Retry-After': '120' }, body: page }));
  const busy = await send(request(receiver.url('/busy')));
  t.same(
    { status: busy.status, retryAfter: busy.retryAfter, body: busy.body },
    { status: 503, retryAfter: '120', body: page.slice(0, RESPONSE_BODY_LIMIT) },
  );

  // The connection stays usable after a body longer than what is kept.
  receiver.on('/after', () => ({ status: 200, body: 'ok' }));
  const after = await send(request(receiver.url('/after')));
  t.same([after.status, after.body], [200, 'ok']);
});

t.test('an attempt is bounded by the timeout, and a connection refused is an error', async (t) => {
  const send = senderFor(loopbackAllowed, 200);
  receiver.on('/slow', () => ({ status: 200, delayMs: 2_000 }));
  const slow = await send(request(receiver.url('/slow')));
  t.same([slow.status, slow.error], [null, 'timed out after 200 ms']);
  t.ok(slow.durationMs >= 150 && slow.durationMs < 2_000, `${slow.durationMs} ms`);

  // A port nobody listens on: take a free one and close it.
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  const refused = await send(request(`http://127.0.0.1:${port}/nobody`));
  t.equal(refused.status, null);
  t.match(refused.error, /ECONNREFUSED/);
});
