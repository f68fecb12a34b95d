import { createEvent, dealPhaseChanged } from '@citydeals/contracts';
import { newEventId, systemClock } from '@citydeals/service-kit';
import { eventually } from '@citydeals/testkit';
import { sql, type Transaction } from 'kysely';
import t from 'tap';
import { loadServiceConfig } from '../src/config.ts';
import type { Database } from '../src/db/database.ts';
import { DirectDeliveries } from '../src/webhooks/delivery.handoff.ts';
import type { ClaimedMessage } from '../src/webhooks/delivery.repository.ts';
import { queueWebhookMessagesForEvents } from '../src/webhooks/delivery.service.ts';
import { deliveryChannel, deliverySignal } from '../src/webhooks/delivery.signal.ts';
import { webhookPayload } from '../src/webhooks/payload.rules.ts';
import { deliveryWorkersOf } from '../src/webhooks/webhook.context.ts';
import { startNotification } from './harness.ts';
import { endpointCreator } from './webhooks.endpoints.ts';
import { startReceiver, verifyStandardWebhook } from './webhooks.receiver.ts';

const receiver = await startReceiver();
// No delivery worker of its own: each test attaches the hand-off target it needs.
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
const db = runtime.db;
const newEndpoint = endpointCreator(http);

function phaseChanged(dealId: string, version: number) {
  return createEvent(dealPhaseChanged, {
    id: newEventId(),
    time: new Date(),
    source: '/deal-tracking',
    subject: dealId,
    data: { ...dealPhaseChanged.example, dealId, version },
  });
}

type Event = ReturnType<typeof phaseChanged>;

/** A hand-off whose target only records what it is given (a process that dies before sending it). */
function recordingHandOff(freeSlots: () => number, leaseMs = 60_000) {
  const direct = new DirectDeliveries();
  const handed: { message: ClaimedMessage; leaseToken: string }[] = [];
  const detach = direct.attach({
    freeSlots,
    leaseMs,
    deliverLeased: (messages, leaseToken) => {
      for (const message of messages) handed.push({ message, leaseToken });
    },
  });
  return { direct, handed, detach };
}

function queue(trx: Transaction<Database>, events: Event[], direct: DirectDeliveries) {
  return queueWebhookMessagesForEvents(
    trx,
    events.map((event) => ({ event, eventSubject: dealPhaseChanged.subject })),
    { clock: systemClock, newId: newEventId, signal: { queued: () => false }, direct },
  );
}

const messagesOf = (events: Event[]) =>
  db
    .selectFrom('webhook_message')
    .selectAll()
    .where(
      'event_id',
      'in',
      events.map((e) => e.id),
    )
    .execute();

t.test(
  'messages are leased as they are queued and handed over only once their transaction commits',
  async (t) => {
    const endpoint = await newEndpoint({ url: receiver.url('/handed'), eventTypes: ['*'] });
    t.teardown(() => db.deleteFrom('webhook_endpoint').where('id', '=', endpoint.id).execute());
    const { direct, handed, detach } = recordingHandOff(() => 2);
    t.teardown(detach);
    const events = [1, 2, 3].map(() => phaseChanged(newEventId(), 1));

    let handedBeforeCommit = -1;
    await db.transaction().execute(async (trx) => {
      await queue(trx, events, direct);
      handedBeforeCommit = handed.length;
    });
    t.equal(handedBeforeCommit, 0, 'nothing is handed over before the commit');
    t.equal(handed.length, 2, 'as many as the worker had room for');

    const rows = await messagesOf(events);
    const leased = rows.filter((m) => m.lease_token !== null);
    t.same(
      leased.map((m) => m.id).sort(),
      handed.map((h) => h.message.id).sort(),
      'the handed-over messages are the leased rows',
    );
    t.ok(
      leased.every((m) => m.attempts === 1 && m.lease_token === handed[0]!.leaseToken && m.lease_until),
      'leased to the token handed over, their first attempt counted',
    );
    const queued = rows.filter((m) => m.lease_token === null);
    t.same(
      queued.map((m) => [m.status, m.attempts, m.lease_until]),
      [['pending', 0, null]],
      'the one without room is queued for the claim',
    );
    for (const { message } of handed) {
      const event = events.find((e) => e.id === message.event_id)!;
      t.same(
        {
          url: message.url,
          payload: message.payload,
          dealId: message.deal_id,
          version: message.version,
          webhookId: message.webhook_id,
        },
        {
          url: receiver.url('/handed'),
          payload: webhookPayload(event),
          dealId: event.data.dealId,
          version: rows.find((m) => m.id === message.id)!.version,
          webhookId: rows.find((m) => m.id === message.id)!.webhook_id,
        },
        'what the worker needs to sign and send it, as a claim returns it',
      );
    }

    const rolledBack = [phaseChanged(newEventId(), 1)];
    await t.rejects(
      db.transaction().execute(async (trx) => {
        await queue(trx, rolledBack, direct);
        throw new Error('rolled back');
      }),
    );
    t.equal(handed.length, 2, 'a rolled back transaction hands nothing over');
    t.same(await messagesOf(rolledBack), [], 'and leaves no message');
  },
);

t.test(
  'only a message that the claim would take now is handed over: versions of a deal in order',
  async (t) => {
    const endpoint = await newEndpoint({ url: receiver.url('/ordered'), eventTypes: ['*'] });
    t.teardown(() => db.deleteFrom('webhook_endpoint').where('id', '=', endpoint.id).execute());
    const { direct, handed, detach } = recordingHandOff(() => 100);
    t.teardown(detach);
    const [d, e] = [newEventId(), newEventId()];
    const first = [phaseChanged(d, 2), phaseChanged(d, 1), phaseChanged(e, 1)];
    await db.transaction().execute((trx) => queue(trx, first, direct));
    const version = (m: ClaimedMessage) => `${m.deal_id === d ? 'd' : 'e'}${m.deal_version}`;
    t.same(
      handed.map((h) => version(h.message)).sort(),
      ['d1', 'e1'],
      'of two versions of a deal in one batch, the lower one only',
    );

    const later = [phaseChanged(d, 3)];
    await db.transaction().execute((trx) => queue(trx, later, direct));
    t.equal(handed.length, 2, 'not while an earlier version of the deal is pending for the endpoint');
    const rows = await messagesOf([...first, ...later]);
    t.same(
      rows
        .filter((m) => m.lease_token === null)
        .map((m) => m.deal_version)
        .sort(),
      [2, 3],
      'those are queued for the claim, which keeps the order',
    );
  },
);

t.test(
  'a handed-over message that was never sent (the process died) is sent once its lease runs out, with the same webhook-id',
  async (t) => {
    const endpoint = await newEndpoint({ url: receiver.url('/orphan'), eventTypes: ['*'] });
    t.teardown(() => db.deleteFrom('webhook_endpoint').where('id', '=', endpoint.id).execute());
    const { direct, handed, detach } = recordingHandOff(() => 10, 300);
    t.teardown(detach);
    const events = [phaseChanged(newEventId(), 1)];
    await db.transaction().execute((trx) => queue(trx, events, direct));
    t.equal(handed.length, 1);
    t.equal(receiver.at('/orphan').length, 0, 'the dead process sent nothing');

    const [worker] = deliveryWorkersOf(
      runtime,
      loadServiceConfig({ ...ctx.env, WEBHOOK_CONCURRENCY: '2', WEBHOOK_POLL_INTERVAL: '50ms' }),
      deliverySignal(),
    );
    worker!.start();
    t.teardown(() => worker!.stop());
    await eventually(async () => (await messagesOf(events))[0]?.status === 'delivered', 15_000);
    const received = receiver.at('/orphan');
    t.equal(received.length, 1, 'sent once');
    t.equal(
      received[0]!.headers['webhook-id'],
      handed[0]!.message.webhook_id,
      'with the webhook-id handed over',
    );
    t.ok(verifyStandardWebhook(endpoint.secret, received[0]!.headers, received[0]!.body), 'signed');
    t.equal((await messagesOf(events))[0]!.attempts, 2, 'the lost attempt counted as one');
  },
);

t.test(
  'a worker with the hand-off sends what is handed over and records it as a claimed message',
  async (t) => {
    const endpoint = await newEndpoint({ url: receiver.url('/direct'), eventTypes: ['*'] });
    t.teardown(() => db.deleteFrom('webhook_endpoint').where('id', '=', endpoint.id).execute());
    const direct = new DirectDeliveries();
    const [worker] = deliveryWorkersOf(
      runtime,
      // A poll far beyond the test, so that only the hand-off can bring the messages to it.
      loadServiceConfig({ ...ctx.env, WEBHOOK_CONCURRENCY: '4', WEBHOOK_POLL_INTERVAL: '1h' }),
      deliverySignal(),
      undefined,
      direct,
    );
    worker!.start();
    t.teardown(() => worker!.stop());
    const events = Array.from({ length: 12 }, () => phaseChanged(newEventId(), 1));
    await db.transaction().execute((trx) => queue(trx, events, direct));
    await eventually(
      async () => (await messagesOf(events)).every((m) => m.status === 'delivered' && m.lease_token === null),
      15_000,
    );
    t.equal(worker!.stats.handedOver, 12, 'every message handed over');
    const received = receiver.at('/direct');
    t.equal(new Set(received.map((r) => r.headers['webhook-id'])).size, 12, 'each sent once');
    t.ok(
      received.every((r) => verifyStandardWebhook(endpoint.secret, r.headers, r.body)),
      'signed per Standard Webhooks',
    );
    const rows = await messagesOf(events);
    const attempts = await db
      .selectFrom('webhook_attempt')
      .select(['message_id', 'attempt', 'outcome'])
      .where(
        'message_id',
        'in',
        rows.map((m) => m.id),
      )
      .execute();
    t.same(
      attempts.map((a) => [a.attempt, a.outcome]),
      rows.map(() => [1, 'delivered']),
      'one attempt logged per message',
    );
    const { rows: announced } = await sql<{ id: string }>`select d ->> 'deliveryId' as id
      from outbox, json_array_elements(payload -> 'data' -> 'deliveries') d
      where subject = 'notification.webhook_deliveries.recorded'
        and d ->> 'deliveryId' = any(${rows.map((m) => m.id)}::text[])`.execute(db);
    t.same(
      announced.map((a) => a.id).sort(),
      rows.map((m) => m.id).sort(),
      'each message listed once by a delivered event',
    );
  },
);

t.test('sending goes on while a recording waits: the answers gather and are recorded together', async (t) => {
  const endpoint = await newEndpoint({ url: receiver.url('/gather'), eventTypes: ['*'] });
  t.teardown(() => db.deleteFrom('webhook_endpoint').where('id', '=', endpoint.id).execute());
  const direct = new DirectDeliveries();
  const [worker] = deliveryWorkersOf(
    runtime,
    loadServiceConfig({ ...ctx.env, WEBHOOK_CONCURRENCY: '2', WEBHOOK_POLL_INTERVAL: '1h' }),
    deliverySignal(),
    undefined,
    direct,
  );
  worker!.start();
  t.teardown(() => worker!.stop());

  // A slow commit, made deterministic: the attempt log is locked against inserts, so the first
  // settling statement waits.
  const blocker = await runtime.pool.connect();
  let released = false;
  const release = async () => {
    if (released) return;
    released = true;
    await blocker.query('commit');
    blocker.release();
  };
  t.teardown(release);
  await blocker.query('begin');
  await blocker.query(`lock table "${runtime.schema}".webhook_attempt in share mode`);

  const events = Array.from({ length: 24 }, () => phaseChanged(newEventId(), 1));
  await db.transaction().execute((trx) => queue(trx, events, direct));
  // Two slots; each sends on while the answered wait to be recorded, up to eight per slot.
  await eventually(() => receiver.at('/gather').length >= 16, 15_000);
  t.ok(
    (await messagesOf(events)).every((m) => m.status === 'pending'),
    'none recorded while the recording waits',
  );

  await release();
  await eventually(
    async () => (await messagesOf(events)).every((m) => m.status === 'delivered' && m.lease_token === null),
    15_000,
  );
  const rows = await messagesOf(events);
  t.equal(new Set(receiver.at('/gather').map((r) => r.headers['webhook-id'])).size, 24, 'each sent once');
  t.equal(receiver.at('/gather').length, 24, 'and only once');
  const settlements = new Set(rows.map((m) => m.delivered_at?.getTime())).size;
  t.ok(settlements <= 8, `24 messages recorded by ${settlements} settling statements`);
  const attempts = await db
    .selectFrom('webhook_attempt')
    .select(['attempt', 'outcome'])
    .where(
      'message_id',
      'in',
      rows.map((m) => m.id),
    )
    .execute();
  t.same(
    attempts.map((a) => [a.attempt, a.outcome]),
    rows.map(() => [1, 'delivered']),
    'one attempt logged per message',
  );
});

t.test(
  'a batch wholly handed over wakes no worker; a message left for the claim wakes them and notifies',
  async (t) => {
    const endpoint = await newEndpoint({ url: receiver.url('/woken'), eventTypes: ['*'] });
    t.teardown(() => db.deleteFrom('webhook_endpoint').where('id', '=', endpoint.id).execute());
    let room = 100;
    const { direct, handed, detach } = recordingHandOff(() => room);
    t.teardown(detach);
    const listener = await runtime.pool.connect();
    t.teardown(() => listener.release());
    let heard = 0;
    listener.on('notification', () => {
      heard += 1;
    });
    await listener.query(`listen "${deliveryChannel.in(runtime.schema)}"`);
    let signalled = 0;
    const queueSignalled = (events: Event[]) =>
      db.transaction().execute((trx) =>
        queueWebhookMessagesForEvents(
          trx,
          events.map((event) => ({ event, eventSubject: dealPhaseChanged.subject })),
          {
            clock: systemClock,
            newId: newEventId,
            signal: {
              queued: () => {
                signalled += 1;
                return true;
              },
            },
            direct,
          },
        ),
      );
    // A NOTIFY is delivered on commit; a round trip on the listening connection lets it arrive.
    const settle = () => listener.query('select 1');

    await queueSignalled([1, 2, 3].map(() => phaseChanged(newEventId(), 1)));
    await settle();
    t.same([handed.length, signalled, heard], [3, 0, 0], 'all handed over: no wake-up, no NOTIFY');

    const deal = newEventId();
    await queueSignalled([phaseChanged(deal, 2), phaseChanged(deal, 1)]);
    await eventually(() => heard > 0, 5_000);
    t.same([handed.length, signalled, heard], [4, 1, 1], 'one held back for its order: woken and notified');

    room = 1;
    await queueSignalled([1, 2, 3].map(() => phaseChanged(newEventId(), 1)));
    await eventually(() => heard > 1, 5_000);
    t.same([handed.length, signalled, heard], [5, 2, 2], 'no room for all: woken and notified');
  },
);
