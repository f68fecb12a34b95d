// What a hostile or careless client meets on every service: NUL bytes, secret links in logs, security
// headers, slow and idle connections. The kit's HTTP server alone; the services get it from createService.
import { createHash, createHmac, randomBytes, randomUUID } from 'node:crypto';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import type { InjectOptions } from 'fastify';
import t from 'tap';
import { z } from 'zod';
import {
  CATALOG_STYLE,
  createHttpServer,
  createLogger,
  type HttpServerOptions,
  isSecretSegment,
  redactUrl,
} from '../src/index.ts';

function server(options: Partial<HttpServerOptions> = {}) {
  return createHttpServer({
    logger: createLogger({ service: 'x', level: 'silent' }),
    title: 'x',
    description: 'x',
    ...options,
  });
}

/** Secret segments shaped as the services make them: a manage token and an unsubscribe token. */
const manageToken = () => randomBytes(24).toString('base64url');
const unsubscribeToken = () => {
  const id = randomUUID();
  return `${id}.${createHmac('sha256', 'secret').update(`unsubscribe:${id}`).digest('base64url')}`;
};

t.test('a NUL byte anywhere in the input is a 400 problem naming the field', async (t) => {
  const http = await server();
  http.post(
    '/notes/:title',
    {
      schema: {
        params: z.object({ title: z.string() }),
        querystring: z.object({ q: z.string().optional() }),
        body: z.object({ name: z.string(), tags: z.array(z.string()).optional() }),
      },
    },
    async () => ({ ok: true }),
  );
  http.register(async (scope) => {
    scope.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) =>
      done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );
    scope.post('/form', async () => ({ ok: true }));
  });
  t.teardown(() => http.close());

  const cases: [string, InjectOptions, string][] = [
    ['path', { method: 'POST', url: '/notes/a%00b', payload: { name: 'x' } }, 'params.title'],
    ['query', { method: 'POST', url: '/notes/a?q=%00', payload: { name: 'x' } }, 'querystring.q'],
    ['JSON body', { method: 'POST', url: '/notes/a', payload: { name: 'a\u0000' } }, 'body.name'],
    [
      'nested JSON body',
      { method: 'POST', url: '/notes/a', payload: { name: 'x', tags: ['ok', '\u0000'] } },
      'body.tags.1',
    ],
    [
      'form',
      {
        method: 'POST',
        url: '/form',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'name=x&city=Ut%00recht',
      },
      'body.city',
    ],
  ];
  for (const [where, request, field] of cases) {
    const res = await http.inject(request);
    t.equal(res.statusCode, 400, `${where}: 400`);
    t.match(res.headers['content-type'], /^application\/problem\+json/);
    t.same(
      res.json().errors,
      [{ field, message: 'must not contain a NUL byte' }],
      `${where}: names ${field}`,
    );
  }
  const clean = await http.inject({ method: 'POST', url: '/notes/a?q=b', payload: { name: 'x' } });
  t.equal(clean.statusCode, 200, 'the same requests without the NUL pass');
});

t.test('request logs never hold a secret path segment', async (t) => {
  t.test('the shape rule', async (t) => {
    for (const secret of [
      manageToken(),
      unsubscribeToken(),
      createHash('sha256').update('x').digest('hex'),
      'q3Vx9Lk2TzR8bWfN0cYhPaQ3Vx9Lk2Tz',
    ]) {
      t.ok(isSecretSegment(secret), `${secret.slice(0, 12)}… is secret`);
    }
    for (const name of [
      '01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
      'cop-city-deals-voorjaar-2027',
      'calendar.ics',
      'openapi.json',
      'swagger-ui-bundle.js',
      'dead-letters',
      '42',
      'aanmelding',
      'beheren',
    ]) {
      t.notOk(isSecretSegment(name), `${name} is kept`);
    }
    const token = unsubscribeToken();
    t.equal(redactUrl(`/unsubscribe/${token}`), '/unsubscribe/[redacted]');
    t.equal(
      redactUrl(`/aanmelding/beheren/${manageToken()}/wensen?lang=en`),
      '/aanmelding/beheren/[redacted]/wensen?[redacted]',
    );
  });

  t.test('captured from a running server', async (t) => {
    let output = '';
    const destination = new Writable({
      write(chunk, _encoding, done) {
        output += chunk.toString();
        done();
      },
    });
    const http = await server({ logger: createLogger({ service: 'x', level: 'info', destination }) });
    http.get('/unsubscribe/:token', async () => ({ ok: true }));
    http.post('/aanmelding/beheren/:token/afmelden', async () => {
      throw new Error('a bug, logged with its request');
    });
    t.teardown(() => http.close());
    const unsubscribe = unsubscribeToken();
    const manage = manageToken();
    t.equal((await http.inject(`/unsubscribe/${unsubscribe}`)).statusCode, 200);
    t.equal(
      (await http.inject({ method: 'POST', url: `/aanmelding/beheren/${manage}/afmelden` })).statusCode,
      500,
    );
    t.equal((await http.inject(`/nowhere/${manage}`)).statusCode, 404);
    t.ok(output.length > 0, 'the requests were logged');
    for (const secret of [unsubscribe, unsubscribe.split('.')[1]!, manage]) {
      t.notOk(output.includes(secret), `the log does not hold ${secret.slice(0, 10)}…`);
    }
    t.match(output, /"url":"\/unsubscribe\/\[redacted\]"/, 'the URL is logged masked');
    t.match(output, /"route":"\/unsubscribe\/:token"/, 'with the route it hit');
  });

  t.test('a change is logged with who made it; a read or an anonymous call is not', async (t) => {
    let output = '';
    const destination = new Writable({
      write(chunk, _encoding, done) {
        output += chunk.toString();
        done();
      },
    });
    const http = await server({ logger: createLogger({ service: 'x', level: 'info', destination }) });
    const asBea = async (request: { actor?: string }) => {
      request.actor = 'staff:Bea Beheerder <bea@example.org>';
    };
    http.post('/webhooks/:id/rotate-secret', { onRequest: asBea }, async () => ({ ok: true }));
    http.get('/webhooks/:id', { onRequest: asBea }, async () => ({ ok: true }));
    http.post('/public', async () => ({ ok: true }));
    t.teardown(() => http.close());
    await http.inject({ method: 'POST', url: '/webhooks/7/rotate-secret' });
    await http.inject('/webhooks/7');
    await http.inject({ method: 'POST', url: '/public' });
    const changes = output
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line))
      .filter((line) => line.msg === 'change by an authenticated caller');
    t.match(changes, [
      {
        actor: 'staff:Bea Beheerder <bea@example.org>',
        route: '/webhooks/:id/rotate-secret',
        statusCode: 200,
      },
    ]);
    t.equal(changes.length, 1, 'reads and anonymous calls are not changes by anyone');
  });
});

t.test(
  'security headers: CSP by hash, no framing, nosniff; personal answers no-store, no-referrer',
  async (t) => {
    const style = 'body{color:#000}';
    const http = await server({ contentSecurity: { inlineStyles: [style, CATALOG_STYLE] } });
    const page = `<!doctype html><html><head><style>${style}</style></head><body>hi</body></html>`;
    http.get('/page', async (_r, reply) => reply.type('text/html; charset=utf-8').send(page));
    http.get('/manage/:token', async (_r, reply) => reply.type('text/html; charset=utf-8').send(page));
    http.post('/page', async (_r, reply) => reply.type('text/html; charset=utf-8').send(page));
    http.get('/json', async () => ({ ok: true }));
    t.teardown(() => http.close());

    const html = await http.inject('/page');
    const csp = String(html.headers['content-security-policy']);
    const hash = createHash('sha256').update(style).digest('base64');
    t.match(csp, `'sha256-${hash}'`, 'the inline style is allowed by its hash');
    t.match(csp, /style-src 'self' /);
    t.notMatch(csp, /unsafe-inline|unsafe-eval/, 'nothing inline beyond the declared blocks');
    t.match(csp, /default-src 'none'/);
    t.match(csp, /frame-ancestors 'none'/);
    t.match(csp, /base-uri 'none'/);
    t.equal(html.headers['x-content-type-options'], 'nosniff');
    t.equal(html.headers['x-frame-options'], 'DENY');
    t.equal(html.headers['referrer-policy'], 'same-origin', 'ordinary pages: a referrer to this origin only');
    t.notOk(html.headers['cache-control'], 'an ordinary page may be cached');

    for (const [what, res] of [
      ['a page behind a secret link', await http.inject(`/manage/${manageToken()}`)],
      ['the answer to a form post', await http.inject({ method: 'POST', url: '/page' })],
    ] as const) {
      t.equal(res.headers['cache-control'], 'no-store', `${what}: no-store`);
      t.equal(res.headers['referrer-policy'], 'no-referrer', `${what}: no-referrer`);
      t.ok(res.headers['content-security-policy'], `${what}: CSP too`);
    }
    const json = await http.inject('/json');
    t.equal(json.headers['x-content-type-options'], 'nosniff', 'JSON answers: nosniff');
    t.notOk(json.headers['content-security-policy'], 'no page policy on data');
  },
);

/** Opens a raw connection, runs `drive` on it, and resolves with what came back once the server closes it. */
function rawConnection(port: number, drive: (write: (text: string) => boolean) => () => void, capMs = 8_000) {
  return new Promise<{ answer: string; closedAfterMs: number | null }>((resolve) => {
    const started = Date.now();
    const socket = connect(port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => {
      answer += chunk.toString();
    });
    socket.on('error', () => {});
    const stop = drive((text) => !socket.destroyed && socket.write(text));
    const cap = setTimeout(() => {
      stop();
      socket.destroy();
      resolve({ answer, closedAfterMs: null });
    }, capMs);
    socket.on('close', () => {
      clearTimeout(cap);
      stop();
      resolve({ answer, closedAfterMs: Date.now() - started });
    });
  });
}

t.test('slow and idle clients are cut off (real sockets)', async (t) => {
  const http = await server({
    bodyLimit: 1024,
    timeouts: { requestMs: 1_000, idleMs: 3_000, keepAliveMs: 500 },
  });
  http.post('/things', async () => ({ ok: true }));
  http.get('/ping', async () => ({ ok: true }));
  await http.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => http.close());
  const { port } = http.server.address() as { port: number };
  const trickle = (write: (text: string) => boolean, everyMs: number) => {
    const timer = setInterval(() => write('x'), everyMs);
    return () => clearInterval(timer);
  };

  const slowBody = await rawConnection(port, (write) => {
    write(
      'POST /things HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100\r\n\r\n',
    );
    return trickle(write, 300);
  });
  t.not(slowBody.closedAfterMs, null, 'a body trickled a byte at a time is cut off');
  t.match(slowBody.answer, /^HTTP\/1\.1 408/, 'with 408 Request Timeout');

  const silent = await rawConnection(port, () => () => {});
  t.not(silent.closedAfterMs, null, 'a connection that never sends a request is closed');

  const idleAfterRequest = await rawConnection(port, (write) => {
    write('GET /ping HTTP/1.1\r\nhost: x\r\n\r\n');
    return () => {};
  });
  t.match(idleAfterRequest.answer, /^HTTP\/1\.1 200/);
  t.not(idleAfterRequest.closedAfterMs, null, 'an idle keep-alive connection is closed');

  // The drain has its own bound, shorter than the request timeout: a server with a long one shows it.
  const patient = await server({ bodyLimit: 1024, timeouts: { requestMs: 60_000, drainMs: 500 } });
  patient.post('/things', async () => ({ ok: true }));
  await patient.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => patient.close());
  const tooLarge = await rawConnection((patient.server.address() as { port: number }).port, (write) => {
    write(
      'POST /things HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: 100000\r\n\r\n',
    );
    write('x'.repeat(2_000));
    return trickle(write, 200);
  });
  t.match(tooLarge.answer, /^HTTP\/1\.1 413/, 'a body over the limit is answered 413');
  t.not(tooLarge.closedAfterMs, null, 'and the drain of the rest, trickled, is bounded');
});
