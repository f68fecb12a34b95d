import { type CloudEvent, createEvent, dealPhaseChanged, dealUpdated } from '@citydeals/contracts';
import { newEventId, systemClock } from '@citydeals/service-kit';
import { adminHeaders, eventually } from '@citydeals/testkit';
import { sql, type Transaction } from 'kysely';
import t, { type Test } from 'tap';
import { loadServiceConfig } from '../src/config.ts';
import type { Database } from '../src/db/database.ts';
import { claimStatement } from '../src/webhooks/delivery.repository.ts';
import { queueWebhookMessages, queueWebhookMessagesForEvents } from '../src/webhooks/delivery.service.ts';
import { deliveryChannel } from '../src/webhooks/delivery.signal.ts';
import { webhookIdFor } from '../src/webhooks/payload.rules.ts';
import { deliveryWorkersOf } from '../src/webhooks/webhook.context.ts';
import { startNotification } from './harness.ts';
import { endpointCreator } from './webhooks.endpoints.ts';
import { startReceiver } from './webhooks.receiver.ts';

const receiver = await startReceiver();
// No delivery worker of its own: the queueing tests look at messages nobody sends, and the worker tests
// start the workers they need.
const ctx = await startNotification({
  WEBHOOK_CONCURRENCY: '0',
  WEBHOOK_ALLOWED_CIDRS: '127.0.0.0/8',
  WEBHOOK_ALLOWED_PORTS: '*',
  WEBHOOK_POLL_INTERVAL: '50ms',
  WEBHOOK_ATTEMPT_TIMEOUT: '10s',
});
t.teardown(async () => {
  await ctx.close();
  await receiver.close();
});
const { http, runtime } = ctx.service;
/** The service's wake-up of delivery workers: the consumers' commits wake the test's workers too. */
const { deliveries } = ctx.service.ctx;
const db = runtime.db;
const configWith = (extra: Record<string, string>) => loadServiceConfig({ ...ctx.env, ...extra });

const newEndpoint = endpointCreator(http);
const createEndpoint = async (body: Record<string, unknown>) => (await newEndpoint(body)).id;

function phaseChanged(dealId: string, version: number, id = newEventId()) {
  return createEvent(dealPhaseChanged, {
    id,
    time: new Date(),
    source: '/deal-tracking',
    subject: dealId,
    data: { ...dealPhaseChanged.example, dealId, version },
  });
}

function updated(dealId: string, version: number) {
  return createEvent(dealUpdated, {
    id: newEventId(),
    time: new Date(),
    source: '/deal-tracking',
    subject: dealId,
    data: { ...dealUpdated.example, dealId, version },
  });
}

/** An event about no deal version (no `version` in its data): never skipped as "already given". */
function versionless(dealId: string): CloudEvent {
  const event = phaseChanged(dealId, 1);
  return { ...event, data: { ...event.data, version: undefined } } as CloudEvent;
}

/** Queues, committed, one phase change each of `count` new deals. */
async function queueDealsPhaseChanged(count: number) {
  const run = Array.from({ length: count }, () => ({
    event: phaseChanged(newEventId(), 1),
    eventSubject: dealPhaseChanged.subject,
  }));
  await db.transaction().execute((trx) =>
    queueWebhookMessagesForEvents(trx, run, {
      clock: systemClock,
      newId: newEventId,
      signal: { queued: () => false },
    }),
  );
}

type Run = { event: CloudEvent; eventSubject: string }[];

const counting = () => {
  const drawn: string[] = [];
  return {
    drawn,
    newId: () => {
      const id = newEventId();
      drawn.push(id);
      return id;
    },
  };
};

/** The messages `queue` leaves in a transaction that is rolled back afterwards, as comparable rows. */
async function messagesLeftBy(run: Run, queue: (trx: Transaction<Database>, run: Run) => Promise<unknown>) {
  const rollback = new Error('rollback');
  let rows: { id: string; webhook_id: string; key: string }[] = [];
  await db
    .transaction()
    .execute(async (trx) => {
      await queue(trx, run);
      const found = await trx
        .selectFrom('webhook_message')
        .selectAll()
        .where(
          'event_id',
          'in',
          run.map((r) => r.event.id),
        )
        .execute();
      rows = found.map((m) => ({
        id: m.id,
        webhook_id: m.webhook_id,
        key: JSON.stringify([
          m.endpoint_id,
          m.event_id,
          m.event_type,
          m.deal_id,
          m.deal_version,
          m.payload,
          m.status,
          m.attempts,
        ]),
      }));
      throw rollback;
    })
    .catch((err) => {
      if (err !== rollback) throw err;
    });
  return rows;
}

t.test('a run of events queued at once gets exactly the messages one by one would', async (t) => {
  await db.deleteFrom('webhook_endpoint').execute();
  const [d1, d2, d3, d4, d5] = [newEventId(), newEventId(), newEventId(), newEventId(), newEventId()];
  const all = await createEndpoint({ url: receiver.url('/all'), eventTypes: ['*'] });
  // `all` was given d2 v1 before the run (committed).
  await db.transaction().execute((trx) =>
    queueWebhookMessages(trx, phaseChanged(d2, 1), dealPhaseChanged.subject, {
      clock: systemClock,
      newId: newEventId,
      signal: { queued: () => false },
    }),
  );
  const phasesOfTwo = await createEndpoint({
    url: receiver.url('/two'),
    eventTypes: [dealPhaseChanged.subject],
    dealIds: [d1, d2],
  });
  const updates = await createEndpoint({ url: receiver.url('/updates'), eventTypes: [dealUpdated.subject] });
  const of3and4 = await createEndpoint({ url: receiver.url('/d3'), eventTypes: ['*'], dealIds: [d3, d4] });
  const disabled = await createEndpoint({ url: receiver.url('/off'), eventTypes: ['*'] });
  await http.inject({
    method: 'POST',
    url: `/webhooks/endpoints/${disabled}/disable`,
    headers: adminHeaders,
  });

  const e1 = phaseChanged(d1, 1);
  const phase = (event: CloudEvent) => ({ event, eventSubject: dealPhaseChanged.subject });
  const run: Run = [
    phase(e1),
    phase(phaseChanged(d2, 1)), // `all` has it already; `phasesOfTwo` not
    phase(phaseChanged(d1, 1)), // d1 v1 again under a fresh id, in the same run: nobody gets it twice
    phase(phaseChanged(d1, 2)),
    { event: updated(d1, 2), eventSubject: dealUpdated.subject }, // same version, other type: `updates` only
    phase(phaseChanged(d3, 1)),
    phase(phaseChanged(d3, 1)), // again: skipped
    phase(phaseChanged(d4, 5)),
    phase(phaseChanged(d4, 4)), // an older version arriving late is still sent
    phase(versionless(d5)),
    phase(versionless(d5)), // no version: both sent
    phase(phaseChanged(d1, 1)), // a third copy, later in the run
  ];
  const deps = (newId: () => string) => ({ clock: systemClock, newId, signal: { queued: () => false } });

  const oneByOne = await messagesLeftBy(run, async (trx, events) => {
    for (const { event, eventSubject } of events)
      await queueWebhookMessages(trx, event, eventSubject, deps(newEventId));
  });
  const ids = counting();
  const atOnce = await messagesLeftBy(run, (trx, events) =>
    queueWebhookMessagesForEvents(trx, events, deps(ids.newId)),
  );

  t.same(atOnce.map((m) => m.key).sort(), oneByOne.map((m) => m.key).sort(), 'the same messages');
  const expected: [number, string][] = [
    [0, all],
    [0, phasesOfTwo],
    [1, phasesOfTwo],
    [3, all],
    [3, phasesOfTwo],
    [4, updates],
    [5, all],
    [5, of3and4],
    [7, all],
    [7, of3and4],
    [8, all],
    [8, of3and4],
    [9, all],
    [10, all],
  ];
  t.same(
    atOnce.map((m) => JSON.parse(m.key).slice(0, 2).join(' ')).sort(),
    expected.map(([i, endpoint]) => `${endpoint} ${run[i]!.event.id}`).sort(),
    'subscribed by type, deal filter, disabled left out, each deal version once per endpoint',
  );
  t.ok(
    atOnce.every((m) => m.webhook_id === webhookIdFor(m.id) && ids.drawn.includes(m.id)),
    'ids drawn in the app, webhook-ids derived from them',
  );
  t.equal(new Set(atOnce.map((m) => m.id)).size, atOnce.length, 'distinct ids');
  // One id per event was drawn first; more subscribers than events made it run again with enough.
  t.ok(ids.drawn.length > run.length, `a second round drew more ids (${ids.drawn.length})`);
});

t.test('a fan-out larger than the ids drawn: every subscriber of every event, once', async (t) => {
  await db.deleteFrom('webhook_endpoint').execute();
  const endpoints: string[] = [];
  for (let i = 0; i < 7; i++)
    endpoints.push(await createEndpoint({ url: receiver.url(`/fan${i}`), eventTypes: ['*'] }));
  const deal = newEventId();
  const run: Run = [
    phaseChanged(deal, 1),
    phaseChanged(deal, 2),
    phaseChanged(deal, 2),
    versionless(deal),
  ].map((event) => ({ event, eventSubject: dealPhaseChanged.subject }));
  const rows = await messagesLeftBy(run, (trx, events) =>
    queueWebhookMessagesForEvents(trx, events, {
      clock: systemClock,
      newId: newEventId,
      signal: { queued: () => false },
    }),
  );
  const byEvent = (i: number) =>
    rows
      .map((m) => JSON.parse(m.key) as string[])
      .filter((k) => k[1] === run[i]!.event.id)
      .map((k) => k[0])
      .sort();
  t.same(byEvent(0), [...endpoints].sort());
  t.same(byEvent(1), [...endpoints].sort());
  t.same(byEvent(2), [], 'the second copy of v2 queues nothing');
  t.same(byEvent(3), [...endpoints].sort());
});

t.test('a run that asks for a wake-up notifies the delivery workers on commit', async (t) => {
  await db.deleteFrom('webhook_endpoint').execute();
  await createEndpoint({ url: receiver.url('/notified'), eventTypes: ['*'] });
  const listener = await runtime.pool.connect();
  t.teardown(() => listener.release());
  let heard = 0;
  listener.on('notification', () => {
    heard += 1;
  });
  await listener.query(`listen "${deliveryChannel.in(runtime.schema)}"`);
  const run = [phaseChanged(newEventId(), 1), phaseChanged(newEventId(), 1)].map((event) => ({
    event,
    eventSubject: dealPhaseChanged.subject,
  }));
  const queued = await db.transaction().execute((trx) =>
    queueWebhookMessagesForEvents(trx, run, {
      clock: systemClock,
      newId: newEventId,
      signal: { queued: () => true },
    }),
  );
  t.equal(queued, 2);
  t.ok(await eventually(() => heard > 0, 5_000), 'heard');
});

t.test('a claim leases messages in place: no new row version, no index entries', async (t) => {
  await db.deleteFrom('webhook_endpoint').execute();
  await createEndpoint({ url: receiver.url('/in-place'), eventTypes: ['*'] });
  await queueDealsPhaseChanged(40);
  // Counted inside the claiming transaction, which is then rolled back, so the messages stay pending.
  const rollback = new Error('rollback');
  let claimed = 0;
  let inPlace = 0;
  await runtime.indexPlannedDb
    .transaction()
    .execute(async (trx) => {
      const { rows } = await claimStatement({
        limit: 30,
        leaseToken: newEventId(),
        leaseMs: 60_000,
        orderWaitMs: 0,
      }).execute(trx);
      claimed = rows.length;
      const { rows: stats } = await sql<{ hot: number }>`
        select pg_stat_get_xact_tuples_hot_updated('webhook_message'::regclass)::int as hot`.execute(trx);
      inPlace = stats[0]!.hot;
      throw rollback;
    })
    .catch((err) => {
      if (err !== rollback) throw err;
    });
  t.equal(claimed, 30, 'thirty claimed');
  // Packed full, the pages had room for a few of them at most.
  t.equal(inPlace, claimed, 'each updated in place (HOT)');
});

t.test('the worker claims several messages at a time under load', async (t) => {
  await db.deleteFrom('webhook_endpoint').execute();
  receiver.on('/busy', () => ({ status: 200, delayMs: Math.floor(Math.random() * 15) }));
  const endpoint = await createEndpoint({ url: receiver.url('/busy'), eventTypes: ['*'] });
  const count = 200;
  await queueDealsPhaseChanged(count);
  const worker = startEightSlotWorker(t);
  const delivered = async () =>
    (
      await db
        .selectFrom('webhook_message')
        .select('id')
        .where('endpoint_id', '=', endpoint)
        .where('status', '=', 'delivered')
        .execute()
    ).length;
  t.ok(await eventually(async () => (await delivered()) === count, 30_000), 'all delivered');
  t.equal(receiver.at('/busy').length, count, 'each sent once');
  const { claims, emptyClaims, attempts } = worker.stats;
  const perClaim = attempts / (claims - emptyClaims);
  // Claiming whenever a slot freed took fewer than two a time here; waiting for half of the 8 slots takes
  // four or more, but for the last claims. Once all 200 are taken, each freed slot still looks once and
  // finds nothing: those claims take no message and are not batching.
  t.ok(
    perClaim >= 3.5,
    `${claims - emptyClaims} claims took ${attempts} attempts (and ${emptyClaims} found nothing due)`,
  );
});

t.test('slots held by a slow endpoint do not hold other messages back for long', async (t) => {
  await db.deleteFrom('webhook_endpoint').execute();
  receiver.on('/slow', () => ({ status: 200, delayMs: 4_000 }));
  receiver.on('/fast', () => ({ status: 200 }));
  const slow = await createEndpoint({ url: receiver.url('/slow'), eventTypes: [dealUpdated.subject] });
  const fast = await createEndpoint({ url: receiver.url('/fast'), eventTypes: [dealPhaseChanged.subject] });
  const deps = { clock: systemClock, newId: newEventId, signal: { queued: () => false } };
  // Five of the eight slots go to the slow endpoint: fewer than half stay free.
  await db.transaction().execute((trx) =>
    queueWebhookMessagesForEvents(
      trx,
      Array.from({ length: 5 }, () => ({
        event: updated(newEventId(), 1),
        eventSubject: dealUpdated.subject,
      })),
      deps,
    ),
  );
  startEightSlotWorker(t);
  const leased = async () =>
    (await db.selectFrom('webhook_message').select('id').where('lease_token', 'is not', null).execute())
      .length;
  t.ok(await eventually(async () => (await leased()) === 5, 5_000), 'the slow ones are being sent');
  const queuedAt = Date.now();
  await db
    .transaction()
    .execute((trx) =>
      queueWebhookMessagesForEvents(
        trx,
        [{ event: phaseChanged(newEventId(), 1), eventSubject: dealPhaseChanged.subject }],
        deps,
      ),
    );
  const sent = await eventually(() => receiver.at('/fast')[0], 10_000);
  t.ok(sent, 'the fast endpoint got its message');
  t.ok(sent!.at - queuedAt < 2_000, `within ${sent!.at - queuedAt} ms, while the slow ones still ran`);
  t.equal(receiver.at('/slow').length, 0, 'the slow endpoint had not answered yet');
  await eventually(async () => {
    const rows = await db
      .selectFrom('webhook_message')
      .select('status')
      .where('endpoint_id', 'in', [slow, fast])
      .execute();
    return rows.length === 6 && rows.every((r) => r.status === 'delivered');
  }, 15_000);
});

/** A delivery worker with 8 slots and a 500 ms poll, stopped when the test ends. */
function startEightSlotWorker(t: Test) {
  const [worker] = deliveryWorkersOf(
    runtime,
    configWith({ WEBHOOK_CONCURRENCY: '8', WEBHOOK_POLL_INTERVAL: '500ms' }),
    deliveries,
  );
  worker!.start();
  t.teardown(() => worker!.stop());
  return worker!;
}
