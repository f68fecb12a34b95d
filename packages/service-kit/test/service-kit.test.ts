import { connect } from 'node:net';
import { streams } from '@citydeals/contracts';
import { defineConsumer } from '@citydeals/messaging';
import {
  adminHeaders,
  createQuickTestDatabase,
  deleteNamespaceStreams,
  testServiceEnv,
  uniqueName,
} from '@citydeals/testkit';
import t from 'tap';
import { z } from 'zod';
import {
  type BaseConfig,
  baseConfigSchema,
  type Clock,
  ConfigError,
  createHttpServer,
  createLogger,
  createService,
  type FeatureOptions,
  HttpProblem,
  loadConfig,
  newEventId,
  redactUrl,
  type ServiceContext,
  type ServicePlugin,
  type ServiceRuntime,
  type ServiceTables,
  shutdown,
} from '../src/index.ts';

t.test('config is parsed once, frozen, and every bad variable is named', async (t) => {
  const schema = baseConfigSchema({ port: 3001, schema: 'registration' });
  const config = loadConfig(schema, { DATABASE_URL: 'postgres://x@localhost/db' });
  t.equal(config.PORT, 3001);
  t.equal(config.DATABASE_SCHEMA, 'registration');
  t.equal(config.CONSUMER_MAX_DELIVERIES, 12, 'retries before dead-lettering');
  t.equal(config.RATE_LIMIT_PER_MINUTE, 600);
  t.ok(Object.isFrozen(config));
  const error = t.throws(() => loadConfig(schema, { PORT: 'eighty', LOG_LEVEL: 'loud' })) as ConfigError;
  t.type(error, ConfigError);
  t.match(error.message, /DATABASE_URL: is required but not set/);
  t.match(error.message, /PORT: /);
  t.match(error.message, /LOG_LEVEL: /);
});

t.test(
  'TRUST_PROXY: off by default; hops or proxy addresses name the client from X-Forwarded-For',
  async (t) => {
    const schema = baseConfigSchema({ port: 3001, schema: 'registration' });
    const parse = (value?: string) =>
      loadConfig(schema, { DATABASE_URL: 'postgres://x@localhost/db', TRUST_PROXY: value }).TRUST_PROXY;
    t.equal(parse(), false);
    t.equal(parse('true'), true);
    t.equal(parse('2'), 2);
    t.same(parse('127.0.0.1, 10.0.0.0/8,::1'), ['127.0.0.1', '10.0.0.0/8', '::1']);
    const error = t.throws(() => parse('proxy.example.org,10.0.0.0/40')) as ConfigError;
    t.match(error.message, /TRUST_PROXY: .*not: proxy\.example\.org, 10\.0\.0\.0\/40/);
    const clientOf = async (trustProxy: boolean | number | string[]) => {
      const http = await createHttpServer({
        logger: createLogger({ service: 't', level: 'silent' }),
        title: 't',
        description: 't',
        trustProxy,
      });
      http.get('/ip', async (request) => ({ ip: request.ip }));
      const res = await http.inject({ url: '/ip', headers: { 'x-forwarded-for': '203.0.113.7' } });
      await http.close();
      return res.json().ip;
    };
    t.equal(await clientOf(false), '127.0.0.1', 'untrusted: the peer is the client');
    t.equal(await clientOf(['127.0.0.1']), '203.0.113.7', 'behind a trusted proxy: the forwarded client');
    t.equal(await clientOf(1), '203.0.113.7', 'one trusted hop');
  },
);

t.test('request logs mask secret tokens in URLs but keep ids and slugs', async (t) => {
  t.equal(
    redactUrl('/aanmelding/beheren/q3Vx9Lk2TzR8bWfN0cYhPaQ3Vx9Lk2Tz'),
    '/aanmelding/beheren/[redacted]',
  );
  t.equal(redactUrl('/unsubscribe/3f9a0c1d2e3f4a5b6c7d8e9f0a1b2c3d/x'), '/unsubscribe/[redacted]/x');
  t.equal(
    redactUrl('/meetings/01936b2a-4f00-7c3e-9a1b-2d4e6f708192'),
    '/meetings/01936b2a-4f00-7c3e-9a1b-2d4e6f708192',
  );
  t.equal(redactUrl('/meetings/cop-city-deals-voorjaar-2027'), '/meetings/cop-city-deals-voorjaar-2027');
  t.equal(redactUrl('/admin/meetings?status=published'), '/admin/meetings?[redacted]');
});

const noteBody = z.object({ title: z.string().min(3).max(20), attendees: z.number().int().positive() });
type Ctx = ServiceContext<ServiceTables>;
const context = ({ runtime, clock }: { runtime: ServiceRuntime<ServiceTables>; clock: Clock }): Ctx => ({
  db: runtime.db,
  clock,
  newId: newEventId,
});
const app: ServicePlugin<FeatureOptions<Ctx, BaseConfig>> = async (typed) => {
  typed.post(
    '/notes',
    { schema: { body: noteBody, response: { 201: noteBody } } },
    async (request, reply) => {
      if (request.body.title === 'taken') throw new HttpProblem(409, 'conflict', 'Conflict', 'title taken');
      return reply.status(201).send(request.body);
    },
  );
  typed.get('/boom', async () => {
    throw new Error('bug');
  });
};

t.test('a start that fails half-way undoes what it started and rejects instead of hanging', async (t) => {
  const database = await createQuickTestDatabase();
  const prefix = uniqueName('t');
  t.teardown(() => database.drop());
  const config = loadConfig(
    baseConfigSchema({ port: 0, schema: 'kit_fail' }),
    testServiceEnv(database, prefix),
  );
  const impossible = defineConsumer<ServiceTables>({
    name: 'impossible-filter',
    stream: streams.deal_tracking,
    // Not a subject of the DEAL_TRACKING stream: the server refuses the consumer after the relay started.
    filterSubject: 'registration.meeting.scheduled',
    handlers: [],
  });
  await t.rejects(
    createService<ServiceTables, BaseConfig, Ctx>(
      {
        service: 'registration',
        migrations: {},
        context,
        features: [{ name: 'impossible', consumers: () => [impossible] }],
        http: { title: 'x', description: 'x' },
        app,
      },
      config,
    ),
  );
  const { connectNats } = await import('@citydeals/messaging');
  const { jetstreamManager } = await import('@nats-io/jetstream');
  const nc = await connectNats({ url: config.NATS_URL, name: 'cleanup' });
  await deleteNamespaceStreams(await jetstreamManager(nc), prefix);
  await nc.close();
});

/** The kit's HTTP server alone, silent, with these options. */
function bareHttpServer(options: { rateLimitPerMinute?: number; bodyLimit?: number }) {
  return createHttpServer({
    logger: createLogger({ service: 'x', level: 'silent' }),
    title: 'x',
    description: 'x',
    ...options,
  });
}

t.test('too many requests from one address get a 429 problem; health stays reachable', async (t) => {
  const http = await bareHttpServer({ rateLimitPerMinute: 3 });
  http.get('/ping', async () => ({ ok: true }));
  http.get('/health/live', async () => ({ status: 'ok' }));
  t.teardown(() => http.close());
  const codes = [];
  for (let i = 0; i < 4; i++) codes.push((await http.inject('/ping')).statusCode);
  t.same(codes, [200, 200, 200, 429], 'the fourth request in a minute is refused');
  const refused = await http.inject('/ping');
  t.equal(refused.statusCode, 429);
  t.match(refused.headers['content-type'], /^application\/problem\+json/);
  t.match(refused.json(), { status: 429, title: 'Too many requests' });
  t.ok(Number(refused.headers['retry-after']) > 0, 'Retry-After tells when to come back');
  t.equal((await http.inject('/health/live')).statusCode, 200, 'probes are not limited');
});

t.test('a body over the limit is answered 413 and read to its end, so the client is not reset', async (t) => {
  const http = await bareHttpServer({ bodyLimit: 1024 });
  http.post('/things', async () => ({ ok: true }));
  http.get('/ping', async () => ({ ok: true }));
  await http.listen({ port: 0, host: '127.0.0.1' });
  t.teardown(() => http.close());
  const { port } = http.server.address() as { port: number };

  /** Sends the headers and half the body, waits for the answer, then sends the rest and asks again. */
  const exchange = (length: number) =>
    new Promise<{ answers: string; error: string | undefined; closedEarly: boolean }>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      let answers = '';
      let error: string | undefined;
      let closedEarly = false;
      socket.on('error', (err: NodeJS.ErrnoException) => {
        error = err.code ?? err.message;
      });
      socket.on('end', () => {
        closedEarly = true;
      });
      socket.on('data', (chunk) => {
        const first = answers === '';
        answers += chunk.toString();
        if (!first) return;
        // The 413 came while half the body is still unsent, as with a client uploading a large file.
        socket.write('x'.repeat(length / 2), () => {
          socket.write('GET /ping HTTP/1.1\r\nhost: x\r\n\r\n');
          setTimeout(() => {
            socket.destroy();
            resolve({ answers, error, closedEarly });
          }, 300);
        });
      });
      socket.write(
        `POST /things HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\ncontent-length: ${length}\r\n\r\n`,
      );
      socket.write('x'.repeat(length / 2));
    });

  const drained = await exchange(1_100_000);
  t.match(drained.answers, /^HTTP\/1\.1 413/, 'the answer is 413');
  t.notMatch(drained.answers, /connection: close/i, 'the connection stays open');
  t.equal(drained.error, undefined, 'sending the rest of the body is not refused');
  t.match(drained.answers, /HTTP\/1\.1 200[\s\S]*"ok":true/, 'and the next request on it is answered');

  const refused = await exchange(20 * 1024 * 1024);
  t.match(refused.answers, /^HTTP\/1\.1 413[\s\S]*connection: close/i, 'beyond 16 MiB: 413, then closed');
  t.ok(refused.closedEarly || refused.error !== undefined, 'and the rest of that body is not read');
});

t.test('a service built on the kit', async (t) => {
  const database = await createQuickTestDatabase();
  const prefix = uniqueName('t');
  const config = loadConfig(
    baseConfigSchema({ port: 0, schema: 'kit_test' }),
    testServiceEnv(database, prefix),
  );
  const service = await createService<ServiceTables, BaseConfig, Ctx>(
    {
      service: 'registration',
      migrations: {},
      context,
      features: [],
      http: { title: 'Kit test', description: 'test' },
      app,
    },
    config,
  );
  const { http, runtime } = service;
  t.teardown(async () => {
    await shutdown(service).catch(() => {});
    const { connectNats } = await import('@citydeals/messaging');
    const { jetstreamManager } = await import('@nats-io/jetstream');
    const nc = await connectNats({ url: config.NATS_URL, name: 'cleanup' });
    await deleteNamespaceStreams(await jetstreamManager(nc), prefix);
    await nc.close();
    await database.drop();
  });

  t.test('health and readiness', async (t) => {
    t.same((await http.inject('/health/live')).json(), { status: 'ok' });
    const ready = await http.inject('/health/ready');
    t.equal(ready.statusCode, 200);
    t.same(ready.json().checks, { postgres: 'ok', nats: 'ok' });
  });

  t.test('the schema was migrated inside its own schema, with the messaging tables', async (t) => {
    const { rows } = await runtime.pool.query<{ table_name: string }>(
      "select table_name from information_schema.tables where table_schema = 'kit_test' order by 1",
    );
    t.same(
      rows.map((r) => r.table_name),
      [
        'api_key',
        'api_key_pepper',
        'dead_letter',
        'inbox',
        'kysely_migration',
        'kysely_migration_lock',
        'outbox',
      ],
    );
    t.ok(await runtime.jsm.streams.info(`${prefix}_REGISTRATION`), 'its stream exists in its namespace');
  });

  t.test('bad input is a 400 problem naming the field, never a 500', async (t) => {
    const res = await http.inject({ method: 'POST', url: '/notes', payload: { title: 'x', attendees: -1 } });
    t.equal(res.statusCode, 400);
    t.match(res.headers['content-type'], /^application\/problem\+json/);
    const body = res.json();
    t.equal(body.status, 400);
    t.same(body.errors.map((e: { field: string }) => e.field).sort(), ['body.attendees', 'body.title']);
    t.match(body.detail, /body\.title/);

    const notJson = await http.inject({
      method: 'POST',
      url: '/notes',
      headers: { 'content-type': 'application/json' },
      payload: '{"title": ',
    });
    t.equal(notJson.statusCode, 400);
    t.match(notJson.headers['content-type'], /problem\+json/);

    const huge = await http.inject({
      method: 'POST',
      url: '/notes',
      payload: { title: 'x'.repeat(300_000), attendees: 1 },
    });
    t.equal(huge.statusCode, 413);
    t.match(huge.headers['content-type'], /problem\+json/);

    const conflict = await http.inject({
      method: 'POST',
      url: '/notes',
      payload: { title: 'taken', attendees: 2 },
    });
    t.equal(conflict.statusCode, 409);
    t.equal(conflict.json().detail, 'title taken');

    const ok = await http.inject({
      method: 'POST',
      url: '/notes',
      payload: { title: 'ok note', attendees: 2 },
    });
    t.equal(ok.statusCode, 201);
  });

  t.test('unknown routes and real bugs are problems too; a bug does not leak its message', async (t) => {
    const missing = await http.inject('/nope');
    t.equal(missing.statusCode, 404);
    t.match(missing.headers['content-type'], /problem\+json/);
    const boom = await http.inject('/boom');
    t.equal(boom.statusCode, 500);
    t.notMatch(boom.body, /bug/);
  });

  t.test('OpenAPI document and docs page', async (t) => {
    const doc = (await http.inject('/openapi.json')).json();
    t.equal(doc.openapi, '3.1.0');
    t.ok(doc.paths['/notes'].post.requestBody, 'the request body schema is documented');
    t.ok(doc.paths['/admin/dead-letters'].get.security, 'admin routes declare their security');
    const asyncapi = (await http.inject('/asyncapi.json')).json();
    t.equal(asyncapi.asyncapi, '3.0.0');
    t.ok(Object.keys(asyncapi.channels).length >= 23, 'every event has a channel');
    const catalogue = await http.inject('/events');
    t.match(catalogue.body, /registration\.attendee\.registered/);
    t.match(catalogue.body, /deal_tracking\.deal\.phase_changed/);
    const docs = await http.inject('/docs/');
    t.equal(docs.statusCode, 200);
    t.match(docs.headers['content-type'], /text\/html/);
  });

  t.test('admin routes need a key with the admin scope', async (t) => {
    t.equal((await http.inject('/admin/dead-letters')).statusCode, 401);
    const wrong = await http.inject({
      url: '/admin/dead-letters',
      headers: { authorization: 'Bearer cdk_wrong' },
    });
    t.equal(wrong.statusCode, 401);
    t.match(wrong.headers['content-type'], /problem\+json/);
    const ok = await http.inject({ url: '/admin/dead-letters', headers: adminHeaders });
    t.equal(ok.statusCode, 200);
    t.same(ok.json(), { items: [] });
    const { rows } = await runtime.pool.query('select key_hash from kit_test.api_key');
    t.notMatch(JSON.stringify(rows), /test-admin-key/, 'only the hash is stored');
  });

  t.test('metrics include outbox lag and consumer counters', async (t) => {
    const res = await http.inject('/metrics');
    t.equal(res.statusCode, 200);
    t.match(res.body, /outbox_unpublished_events\{service="registration"\} 0/);
    t.match(res.body, /outbox_lag_seconds/);
    t.match(res.body, /http_request_duration_seconds_bucket/);
  });

  t.test('shutting down: readiness goes red and new requests get 503', async (t) => {
    service.markShuttingDown();
    t.equal((await http.inject('/health/ready')).statusCode, 503);
    const res = await http.inject({
      method: 'POST',
      url: '/notes',
      payload: { title: 'late one', attendees: 1 },
    });
    t.equal(res.statusCode, 503);
    t.match(res.headers['content-type'], /problem\+json/);
  });
});
