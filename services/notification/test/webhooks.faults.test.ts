import { type ChildProcess, spawn } from 'node:child_process';
import type dns from 'node:dns';
import { createServer } from 'node:net';
import { createEvent, dealPhaseChanged, streams, webhookDeliveriesRecorded } from '@citydeals/contracts';
import { createDatabase } from '@citydeals/db';
import { connectNats, ensureStream, namespace, publishEvent } from '@citydeals/messaging';
import { newEventId } from '@citydeals/service-kit';
import {
  adminHeaders,
  createQuickTestDatabase,
  deleteNamespaceStreams,
  eventually,
  testServers,
  testServiceEnv,
  uniqueName,
} from '@citydeals/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type Kysely, sql } from 'kysely';
import t from 'tap';
import { loadServiceConfig } from '../src/config.ts';
import type { Database } from '../src/db/database.ts';
import { claimDueMessages, claimStatement } from '../src/webhooks/delivery.repository.ts';
import { settleDeliveredBatch } from '../src/webhooks/delivery.service.ts';
import type { ResolveAll } from '../src/webhooks/ssrf.guard.ts';
import { deliveryWorkersOf } from '../src/webhooks/webhook.context.ts';
import { startNotification } from './harness.ts';
import { endpointCreator } from './webhooks.endpoints.ts';
import { startReceiver } from './webhooks.receiver.ts';

const receiver = await startReceiver();
// No allow-list and no delivery worker of its own: the tests below start the workers they need.
const ctx = await startNotification({
  WEBHOOK_CONCURRENCY: '0',
  // Receivers listen on free ports, not 80 or 443.
  WEBHOOK_ALLOWED_PORTS: '*',
  WEBHOOK_POLL_INTERVAL: '50ms',
  WEBHOOK_ATTEMPT_TIMEOUT: '2s',
  WEBHOOK_RETRY_SCHEDULE: '200ms,200ms,200ms',
  WEBHOOK_RETRY_JITTER: '0',
});
t.teardown(async () => {
  await ctx.close();
  await receiver.close();
});
const { http, runtime } = ctx.service;
/** The service's wake-up of delivery workers: the consumers' commits wake the test's workers too. */
const { deliveries } = ctx.service.ctx;

/** A DNS server in a function: `rebind.test` answers 127.0.0.1, the address of the test receiver. */
const rebindingDns: ResolveAll = (hostname, _options, callback) => {
  if (hostname === 'rebind.test')
    return callback(null, [{ address: '127.0.0.1', family: 4 }] as dns.LookupAddress[]);
  const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), { code: 'ENOTFOUND' });
  callback(err, []);
};

function phaseChanged(dealId: string, version: number) {
  return createEvent(dealPhaseChanged, {
    id: newEventId(),
    time: new Date(),
    source: '/deal-tracking',
    subject: dealId,
    data: { ...dealPhaseChanged.example, dealId, version },
  });
}

const newEndpoint = endpointCreator(http);
const createEndpoint = (url: string) => newEndpoint({ url, eventTypes: ['*'] });

const configWith = (extra: Record<string, string>) => loadServiceConfig({ ...ctx.env, ...extra });

t.test(
  'SSRF: every refused address form is refused at creation, naming body.url, nothing written',
  async (t) => {
    const refused = [
      'http://10.0.0.1/',
      'http://172.16.5.4/',
      'http://192.168.1.1/',
      'http://169.254.169.254/latest/meta-data/',
      'http://169.254.1.1/',
      'http://224.0.0.1/',
      'http://0.0.0.0/',
      'http://100.100.100.200/',
      'http://127.0.0.1/',
      'http://2130706433/',
      'http://017700000001/',
      'http://0177.0.0.1/',
      'http://0x7f000001/',
      'http://0x7f.0.0.1/',
      'http://127.1/',
      'http://3232235777/',
      'http://[::1]/',
      'http://[::]/',
      'http://[fe80::1]/',
      'http://[fc00::1]/',
      'http://[fd00:ec2::254]/',
      'http://[ff02::1]/',
      'http://[::ffff:127.0.0.1]/',
      'http://[::ffff:169.254.169.254]/',
      'http://[::ffff:a9fe:a9fe]/',
      'http://[::127.0.0.1]/',
      'http://[64:ff9b::a9fe:a9fe]/',
      'http://[2002:a9fe:a9fe::1]/',
      'http://localhost:8080/',
      'http://api.localhost/',
      'http://metadata.google.internal/',
      'http://intranet/',
      'file:///etc/passwd',
      'gopher://example.org/',
      'http://user:pw@example.org/',
    ];
    for (const url of refused) {
      const res = await http.inject({
        method: 'POST',
        url: '/webhooks/endpoints',
        headers: adminHeaders,
        payload: { url, eventTypes: ['*'] },
      });
      t.equal(res.statusCode, 400, url);
      t.ok(
        res.json().errors?.some((e: { field: string }) => e.field === 'body.url'),
        `${url}: ${res.json().detail}`,
      );
    }
    const rows = await runtime.db.selectFrom('webhook_endpoint').select('id').execute();
    t.equal(rows.length, 0, 'nothing written');
  },
);

t.test('a host name resolving to 127.0.0.1 is refused at delivery unless allow-listed', async (t) => {
  receiver.on('/rebind', () => ({ status: 200 }));
  // Accepted at creation: the real DNS does not know the name (yet).
  const endpoint = await createEndpoint(`http://rebind.test:${receiver.port}/rebind`);
  const event = phaseChanged(newEventId(), 2);
  const strict = deliveryWorkersOf(
    runtime,
    configWith({ WEBHOOK_CONCURRENCY: '2' }),
    deliveries,
    rebindingDns,
  );
  for (const w of strict) w.start();
  await publishEvent(runtime.js, runtime.ns, dealPhaseChanged, event);
  const attempt = await eventually(() =>
    runtime.db
      .selectFrom('webhook_attempt')
      .innerJoin('webhook_message', 'webhook_message.id', 'webhook_attempt.message_id')
      .select(['webhook_attempt.error', 'webhook_attempt.status_code'])
      .where('webhook_message.endpoint_id', '=', endpoint.id)
      .executeTakeFirst(),
  );
  await Promise.all(strict.map((w) => w.stop()));
  t.match(attempt?.error, /refused.*rebind\.test.*127\.0\.0\.1 is not public \(loopback\)/);
  t.equal(attempt?.status_code, null);
  t.equal(receiver.at('/rebind').length, 0, 'nothing reached the receiver');

  const allowed = deliveryWorkersOf(
    runtime,
    configWith({ WEBHOOK_CONCURRENCY: '2', WEBHOOK_ALLOWED_HOSTS: 'rebind.test' }),
    deliveries,
    rebindingDns,
  );
  for (const w of allowed) w.start();
  t.teardown(() => Promise.all(allowed.map((w) => w.stop())));
  await eventually(() => receiver.at('/rebind').length === 1);
  t.equal(JSON.parse(receiver.at('/rebind')[0]!.body).id, event.id, 'allow-listed: delivered');
  await Promise.all(allowed.map((w) => w.stop()));
  await http.inject({ method: 'DELETE', url: `/webhooks/endpoints/${endpoint.id}`, headers: adminHeaders });
});

t.test('two delivery workers never send the same attempt twice', async (t) => {
  receiver.on('/shared', () => ({ status: 200, delayMs: 5 + Math.floor(Math.random() * 10) }));
  const endpoint = await createEndpoint(`http://rebind.test:${receiver.port}/shared`);
  const config = configWith({ WEBHOOK_CONCURRENCY: '8', WEBHOOK_ALLOWED_HOSTS: 'rebind.test' });
  // Each worker with a pool of its own, as two replicas would have.
  const second = createDatabase<Database>({ connectionString: ctx.database.url, schema: runtime.schema });
  const workers = [
    ...deliveryWorkersOf(runtime, config, deliveries, rebindingDns),
    ...deliveryWorkersOf({ ...runtime, db: second.db, pool: second.pool }, config, deliveries, rebindingDns),
  ];
  for (const w of workers) w.start();
  t.teardown(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await second.destroy();
  });
  const count = 200;
  await Promise.all(
    Array.from({ length: count }, (_, i) =>
      publishEvent(runtime.js, runtime.ns, dealPhaseChanged, phaseChanged(newEventId(), i + 2)),
    ),
  );
  const delivered = async () =>
    (
      await runtime.db
        .selectFrom('webhook_message')
        .select('id')
        .where('endpoint_id', '=', endpoint.id)
        .where('status', '=', 'delivered')
        .execute()
    ).length;
  await eventually(async () => (await delivered()) === count, 30_000);
  const ids = receiver.at('/shared').map((r) => r.headers['webhook-id']);
  t.equal(ids.length, count, 'one request per message');
  t.equal(new Set(ids).size, count, 'no webhook-id twice');
  t.ok(workers[0]!.stats.delivered > 0 && workers[1]!.stats.delivered > 0, 'both workers took a share');
  t.equal(workers[0]!.stats.delivered + workers[1]!.stats.delivered, count);
  const { rows } = await runtime.pool.query(
    `select count(*)::int as n, count(distinct (message_id, attempt))::int as distinct_attempts
     from notification.webhook_attempt a join notification.webhook_message m on m.id = a.message_id
     where m.endpoint_id = $1`,
    [endpoint.id],
  );
  t.same(rows[0], { n: count, distinct_attempts: count }, 'one attempt each, logged once');
});

t.test(
  'a worker that dies holding leases: sent again after the lease, same webhook-ids, settled once',
  async (t) => {
    receiver.on('/lease', () => ({ status: 200 }));
    // Alone, so the dead worker's claim below takes exactly this endpoint's messages.
    await runtime.db.deleteFrom('webhook_endpoint').execute();
    const endpoint = await createEndpoint(`http://rebind.test:${receiver.port}/lease`);
    const count = 20;
    await Promise.all(
      Array.from({ length: count }, (_, i) =>
        publishEvent(runtime.js, runtime.ns, dealPhaseChanged, phaseChanged(newEventId(), i + 2)),
      ),
    );
    const messages = () =>
      runtime.db
        .selectFrom('webhook_message')
        .selectAll()
        .where('endpoint_id', '=', endpoint.id)
        .orderBy('id')
        .execute();
    await eventually(async () => (await messages()).length === count, 30_000);

    // The dead worker: leases every message, gets five of them accepted by the receiver, and dies before
    // recording anything.
    const deadLease = newEventId();
    const claimed = await claimDueMessages(runtime.indexPlannedDb, {
      limit: 100,
      leaseToken: deadLease,
      leaseMs: 1_000,
      orderWaitMs: 3_600_000,
    });
    t.equal(claimed.length, count, 'the dead worker held every message');
    t.ok(claimed.every((m) => m.endpoint_id === endpoint.id));
    for (const m of claimed.slice(0, 5)) {
      const res = await fetch(receiver.url('/lease'), {
        method: 'POST',
        headers: { 'webhook-id': m.webhook_id, 'content-type': 'application/json' },
        body: m.payload,
      });
      t.equal(res.status, 200);
    }

    const config = configWith({ WEBHOOK_CONCURRENCY: '4', WEBHOOK_ALLOWED_HOSTS: 'rebind.test' });
    const workers = deliveryWorkersOf(runtime, config, deliveries, rebindingDns);
    for (const w of workers) w.start();
    t.teardown(() => Promise.all(workers.map((w) => w.stop())));
    await eventually(async () => (await messages()).every((m) => m.status === 'delivered'), 30_000);

    const rows = await messages();
    t.ok(
      rows.every((m) => m.attempts === 2),
      'each message leased twice: by the dead worker, then after its lease ran out',
    );
    const ids = receiver.at('/lease').map((r) => r.headers['webhook-id']);
    t.equal(ids.length, count + 5, 'the five sent before the crash are sent again');
    t.same(
      [...new Set(ids)].sort(),
      rows.map((m) => m.webhook_id).sort(),
      'every resend carries the webhook-id of its message',
    );

    // The dead worker comes back to life and records its five successes under its expired lease.
    const startedAt = new Date();
    await settleDeliveredBatch(
      runtime.db,
      claimed.slice(0, 5).map((message) => ({
        message,
        leaseToken: deadLease,
        startedAt,
        webhookTimestamp: Math.floor(startedAt.getTime() / 1000),
        result: { status: 200, retryAfter: null, body: '', error: null, durationMs: 1 },
      })),
      { clock: { now: () => new Date() }, newId: newEventId },
    );
    const after = await messages();
    t.same(
      after.map((m) => [m.status, m.version, m.lease_token]),
      rows.map((m) => [m.status, m.version, m.lease_token]),
      'a settlement under a lost lease changes no message',
    );
    const { rows: events } = await runtime.pool.query<{ webhook_id: string }>(
      `select d->>'webhookId' as webhook_id
     from notification.outbox, json_array_elements(payload->'data'->'deliveries') d
     where payload->>'type' = $1 and d->>'endpointId' = $2`,
      [webhookDeliveriesRecorded.type, endpoint.id],
    );
    t.equal(events.length, count, 'each message announced as delivered once, the late settlement not at all');
    t.equal(new Set(events.map((e) => e.webhook_id)).size, count);
    const { rows: attempts } = await runtime.pool.query<{ n: number }>(
      `select count(*)::int as n from notification.webhook_attempt a
     join notification.webhook_message m on m.id = a.message_id where m.endpoint_id = $1`,
      [endpoint.id],
    );
    t.equal(attempts[0]!.n, count + 5, 'the late attempts are still logged');
  },
);

t.test('an event fans out to more subscribers than one queueing statement takes ids for', async (t) => {
  await runtime.db.deleteFrom('webhook_endpoint').execute();
  const endpoints = [];
  for (let i = 0; i < 11; i++)
    endpoints.push(await createEndpoint(`http://rebind.test:${receiver.port}/fan${i}`));
  const messagesOf = (eventId: string) =>
    runtime.db
      .selectFrom('webhook_message')
      .select(['endpoint_id', 'webhook_id'])
      .where('event_id', '=', eventId)
      .execute();
  const deal = newEventId();
  const event = phaseChanged(deal, 3);
  await publishEvent(runtime.js, runtime.ns, dealPhaseChanged, event);
  await eventually(async () => (await messagesOf(event.id)).length === endpoints.length, 30_000);
  const rows = await messagesOf(event.id);
  t.same(
    rows.map((r) => r.endpoint_id).sort(),
    endpoints.map((e) => e.id).sort(),
    'one message for every subscribed endpoint',
  );
  t.equal(new Set(rows.map((r) => r.webhook_id)).size, endpoints.length, 'each with its own webhook-id');

  // The same version again under a fresh event id (a replay): no endpoint gets it twice.
  const replay = { ...event, id: newEventId() };
  await publishEvent(runtime.js, runtime.ns, dealPhaseChanged, replay);
  await eventually(
    async () =>
      (await runtime.pool.query('select 1 from notification.inbox where event_id = $1', [replay.id]))
        .rowCount === 1,
    30_000,
  );
  t.equal((await messagesOf(replay.id)).length, 0, 'the replay queued nothing');
  await runtime.db.deleteFrom('webhook_endpoint').execute();
});

t.test('kill -9 during a burst loses no delivery', async (t) => {
  const database = await createQuickTestDatabase();
  const prefix = uniqueName('t');
  const port = await freePort();
  const env = {
    ...process.env,
    ...testServiceEnv(database, prefix),
    PORT: String(port),
    WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
    WEBHOOK_ALLOWED_PORTS: '*',
    WEBHOOK_CONCURRENCY: '4',
    WEBHOOK_POLL_INTERVAL: '50ms',
    WEBHOOK_ATTEMPT_TIMEOUT: '1s',
    WEBHOOK_RETRY_SCHEDULE: '200ms,200ms,200ms,200ms,200ms',
  };
  const nc = await connectNats({ url: testServers.natsUrl, name: 'kill-test' });
  const js = jetstream(nc);
  const ns = namespace(prefix);
  let child: ChildProcess | undefined;
  t.teardown(async () => {
    child?.kill('SIGKILL');
    await deleteNamespaceStreams(await jetstreamManager(nc), prefix);
    await nc.close();
    await database.drop();
  });
  const start = async () => {
    const proc = spawn(process.execPath, ['--import', 'tsx', 'services/notification/src/server.ts'], {
      env,
      stdio: 'ignore',
    });
    await eventually(
      () =>
        fetch(`http://127.0.0.1:${port}/health/ready`)
          .then((r) => r.ok)
          .catch(() => false),
      30_000,
    );
    return proc;
  };
  const t0 = Date.now();
  child = await start();
  t.comment(`started in ${Date.now() - t0} ms`);
  receiver.on('/burst', () => ({ status: 200, delayMs: 20 }));
  const created = await fetch(`http://127.0.0.1:${port}/webhooks/endpoints`, {
    method: 'POST',
    headers: { ...adminHeaders, 'content-type': 'application/json' },
    body: JSON.stringify({ url: receiver.url('/burst'), eventTypes: ['*'] }),
  });
  t.equal(created.status, 201);
  await ensureStream(await jetstreamManager(nc), {
    name: ns.streamName(streams.deal_tracking),
    subjects: ns.streamSubjects(streams.deal_tracking),
  });
  const count = 300;
  const events = Array.from({ length: count }, (_, i) => phaseChanged(newEventId(), i + 2));
  await Promise.all(events.map((e) => publishEvent(js, ns, dealPhaseChanged, e)));

  const db = createDatabase<Database>({ connectionString: database.url, schema: 'notification' });
  t.teardown(() => db.destroy());
  const messages = () => db.db.selectFrom('webhook_message').select(['status']).execute();
  // Killed once every event is a message and some, not all, have been sent.
  await eventually(
    async () => (await messages()).length === count && receiver.at('/burst').length >= 60,
    30_000,
  );
  const exited = new Promise((resolve) => child!.once('exit', resolve));
  child.kill('SIGKILL');
  await exited;
  const beforeRestart = receiver.at('/burst').length;
  t.ok(beforeRestart < count, `killed mid-burst (${beforeRestart} of ${count} received)`);

  const t1 = Date.now();
  child = await start();
  t.comment(`restarted in ${Date.now() - t1} ms`);
  await eventually(
    async () => (await messages()).filter((m) => m.status === 'delivered').length === count,
    60_000,
  );
  t.comment(`all delivered ${Date.now() - t1} ms after the restart began`);
  const receivedIds = new Set(receiver.at('/burst').map((r) => JSON.parse(r.body).id as string));
  t.equal(receivedIds.size, count, 'every event reached the receiver');
  t.ok(events.every((e) => receivedIds.has(e.id)));
  t.comment(`duplicates after the kill (leased, sent again): ${receiver.at('/burst').length - count}`);
  const exitedCleanly = new Promise((resolve) => child!.once('exit', resolve));
  child.kill('SIGTERM');
  t.equal(await exitedCleanly, 0, 'SIGTERM stops it cleanly');
  child = undefined;
});

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

t.test(
  'a claim walks the due index in order and stops at its limit, even on a table with no statistics yet',
  async (t) => {
    const endpoint = await createEndpoint('http://rebind.test/plan');
    const options = { limit: 16, leaseToken: newEventId(), leaseMs: 30_000, orderWaitMs: 3_600_000 };
    // A fresh copy of the table, never analysed, holding a burst: it shadows the real one for the
    // transaction (temporary tables come first in the search path), as the real one is after a deploy.
    const planOn = (db: Kysely<Database>) =>
      db.transaction().execute(async (trx) => {
        await sql`create temp table webhook_message (like notification.webhook_message including all) on commit drop`.execute(
          trx,
        );
        await sql`
          insert into webhook_message (id, endpoint_id, webhook_id, event_id, event_type, deal_id, deal_version,
            payload, next_attempt_at, created_at)
          select gen_random_uuid(), ${endpoint.id}::uuid, 'msg_plan_' || g, gen_random_uuid(),
            'deal_tracking.deal.phase_changed', gen_random_uuid(), 2, repeat('x', 600), now(), now()
          from generate_series(1, 4000) g`.execute(trx);
        const { rows } = await sql<{
          'QUERY PLAN': unknown;
        }>`explain (format json) ${claimStatement(options)}`.execute(trx);
        return JSON.stringify(rows[0]!['QUERY PLAN']);
      });
    const plans = { unguarded: await planOn(runtime.db), guarded: await planOn(runtime.indexPlannedDb) };
    t.match(
      plans.unguarded,
      /"Node Type":"(Sort|Bitmap Heap Scan)"/,
      'on the general pool, Postgres plans to read and sort every due row',
    );
    t.notMatch(
      plans.guarded,
      /"Node Type":"(Sort|Bitmap Heap Scan)"/,
      'on the index-planned pool: no sort, no bitmap scan',
    );
    t.match(
      plans.guarded,
      /"Node Type":"Index Scan"[^}]*"Index Name":"webhook_message_next_attempt_at_id_idx"/,
      'the due index (next_attempt_at, id), walked in order',
    );
  },
);
