import { createEvent, registrationConsumerFacts, streams } from '@citydeals/contracts';
import { eventually } from '@citydeals/testkit';
import { sql } from 'kysely';
import t, { type Test } from 'tap';
import { v7 as uuidv7 } from 'uuid';
import {
  ConsumerRunner,
  defineConsumer,
  type EventHandler,
  listDeadLetters,
  on,
  PermanentEventError,
  retryDeadLetter,
} from '../src/index.ts';
import {
  itemRecorded,
  lookupTestType,
  type Messaging,
  quietLogger,
  setupMessaging,
  type TestDB,
} from './fixture.ts';

let m: Messaging;
t.before(async () => {
  m = await setupMessaging();
});
t.teardown(() => m.close());

let consumerCount = 0;
/** A runner on its own durable consumer; every test reads the whole stream afresh. */
async function startRunner(
  t: Test,
  handler: EventHandler<TestDB, any>,
  options: { concurrency?: number; filterSubject?: string; service?: 'registration' } = {},
) {
  const name = `test-consumer-${++consumerCount}`;
  const runner = new ConsumerRunner<TestDB>({
    db: m.db,
    js: m.js,
    jsm: m.jsm,
    namespace: m.ns,
    logger: quietLogger,
    definition: defineConsumer<TestDB>({
      name,
      stream: streams.registration,
      filterSubject: options.filterSubject ?? `registration.item.${name}`,
      handlers: [on(itemRecorded, handler)],
    }),
    concurrency: options.concurrency ?? 4,
    ...(options.service ? { service: options.service } : {}),
    retry: { initialDelayMs: 100, maxDelayMs: 400, maxDeliveries: 4 },
    lookupType: lookupTestType,
  });
  await runner.start();
  t.teardown(() => runner.stop());
  return { runner, subject: `registration.item.${name}` };
}

const applyEffect: EventHandler<TestDB, any> = async (trx, event) => {
  await trx
    .insertInto('effect')
    .values({ event_id: event.id, n: event.data.n })
    .onConflict((oc) => oc.column('event_id').doUpdateSet({ applied: sql`effect.applied + 1` }))
    .execute();
};

function newEvent(n: number, itemId = `item-${n}`) {
  return createEvent(itemRecorded, {
    id: uuidv7(),
    time: new Date(),
    source: '/test',
    subject: itemId,
    data: { itemId, version: 1, n },
  });
}

async function publish(subject: string, payload: string, msgID: string) {
  return m.js.publish(m.ns.subject(subject), payload, { msgID });
}

async function effectOf(id: string) {
  return m.db.selectFrom('effect').selectAll().where('event_id', '=', id).executeTakeFirst();
}

t.test('the same event delivered twice, and again after the duplicate window, has one effect', async (t) => {
  const { runner, subject } = await startRunner(t, applyEffect);
  const event = newEvent(1);
  const payload = JSON.stringify(event);
  await publish(subject, payload, event.id);
  const dup = await publish(subject, payload, event.id);
  t.equal(dup.duplicate, true, 'JetStream drops the copy inside its window');
  // A copy with another message id is what arrives after the window (or from a replay tool).
  await publish(subject, payload, `${event.id}-late`);
  await publish(subject, payload, `${event.id}-later`);
  await eventually(() => runner.stats.handled + runner.stats.duplicates === 3);
  t.equal(runner.stats.handled, 1);
  t.equal(runner.stats.duplicates, 2, 'the inbox recognised both late copies');
  t.equal((await effectOf(event.id))?.applied, 1, 'the effect happened once');
});

t.test('a poison event is dead-lettered and the events behind it keep flowing', async (t) => {
  const { runner, subject } = await startRunner(t, applyEffect, { concurrency: 1 });
  const good1 = newEvent(10);
  const good2 = newEvent(11);
  const invalid = { ...newEvent(12), data: { itemId: 'x', version: 0, n: 'twelve' } };
  const unknownVersion = { ...newEvent(13), type: 'nl.citydeals.registration.item.recorded.v9' };
  await publish(subject, JSON.stringify(good1), good1.id);
  await publish(subject, JSON.stringify(invalid), invalid.id);
  await publish(subject, '{not json', uuidv7());
  await publish(subject, JSON.stringify(unknownVersion), unknownVersion.id);
  await publish(subject, JSON.stringify(good2), good2.id);

  await eventually(async () => (await effectOf(good2.id)) !== undefined);
  t.ok(await effectOf(good1.id));
  t.ok(await effectOf(good2.id), 'the event behind three poison events was handled');
  const dead = await listDeadLetters(m.db, { consumer: runner.name, limit: 10 });
  t.equal(dead.length, 3);
  t.match(dead[0], { event_id: invalid.id, event_type: itemRecorded.type, error: /contract/ });
  t.match(dead[1], { event_id: null, error: /not JSON/ });
  t.match(dead[2], { event_id: unknownVersion.id, error: /unknown event type or version/ });
  t.equal(runner.stats.deadLettered, 3);
  // term() took them out of the stream's redelivery: they are not dead-lettered twice.
  await new Promise((r) => setTimeout(r, 500));
  t.equal((await listDeadLetters(m.db, { consumer: runner.name, limit: 10 })).length, 3);
});

t.test(
  'with its service named, each dead letter is announced with its row, without its error or payload',
  async (t) => {
    const { runner, subject } = await startRunner(
      t,
      async (trx, event) => {
        if (event.data.n === 21) throw new Error('handler broke on secret@example.org');
        await applyEffect(trx, event, { deliveryCount: 1, streamSequence: undefined });
      },
      { concurrency: 1, service: 'registration' },
    );
    const failing = newEvent(21);
    const fact = createEvent(registrationConsumerFacts.deadLettered, {
      id: uuidv7(),
      time: new Date(),
      source: '/registration',
      subject: 'some-consumer',
      data: registrationConsumerFacts.deadLettered.example,
    });
    await publish(subject, '{"poison": "secret@example.org"}', uuidv7());
    await publish(subject, JSON.stringify(failing), failing.id);
    // An announcement this consumer cannot handle: dead-lettered, but not announced again.
    await publish(subject, JSON.stringify(fact), fact.id);
    await eventually(() => runner.stats.deadLettered === 3, 20_000);
    const dead = await listDeadLetters(m.db, { consumer: runner.name, limit: 10 });
    const { rows } = await sql<{ payload: { subject: string; data: Record<string, unknown> } }>`
    select payload from svc.outbox where subject = ${registrationConsumerFacts.deadLettered.subject}
      and payload->'data'->>'consumer' = ${runner.name} order by id`.execute(m.db);
    t.same(
      rows.map((r) => r.payload.data.deadLetterId),
      dead.filter((d) => d.event_type !== fact.type).map((d) => d.id),
      'one announcement per dead letter, naming its row; none for the dead-lettered announcement',
    );
    t.match(rows[0]?.payload.data, { reason: 'poison', eventId: null, eventType: null, deliveries: 1 });
    t.match(rows[1]?.payload.data, {
      reason: 'handler_failed',
      eventId: failing.id,
      eventType: itemRecorded.type,
    });
    t.equal(rows[0]?.payload.subject, runner.name, 'about the consumer');
    t.notMatch(JSON.stringify(rows), /secret@example\.org/, 'neither payload nor error text is announced');
  },
);

t.test('a transient handler failure is retried with a delay and then succeeds', async (t) => {
  const attempts: number[] = [];
  const { runner, subject } = await startRunner(t, async (trx, event, meta) => {
    attempts.push(Date.now());
    if (meta.deliveryCount < 3) throw new Error('database hiccup');
    await applyEffect(trx, event, meta);
  });
  const event = newEvent(20);
  await publish(subject, JSON.stringify(event), event.id);
  await eventually(async () => (await effectOf(event.id)) !== undefined);
  t.equal(attempts.length, 3, 'handled on the third delivery');
  t.equal(runner.stats.retried, 2);
  t.ok(attempts[1]! - attempts[0]! >= 90, `first retry waited ${attempts[1]! - attempts[0]!} ms`);
  t.ok(attempts[2]! - attempts[1]! >= 190, `second retry waited longer: ${attempts[2]! - attempts[1]!} ms`);
  t.equal((await effectOf(event.id))?.applied, 1);
  t.equal((await listDeadLetters(m.db, { consumer: runner.name, limit: 10 })).length, 0);
});

t.test('a failing handler rolls back its effects together with the inbox row', async (t) => {
  const { runner, subject } = await startRunner(t, async (trx, event, meta) => {
    await applyEffect(trx, event, meta);
    if (meta.deliveryCount === 1) throw new Error('fails after writing');
  });
  const event = newEvent(25);
  await publish(subject, JSON.stringify(event), event.id);
  await eventually(async () => (await effectOf(event.id)) !== undefined);
  t.equal((await effectOf(event.id))?.applied, 1, 'the first, failed attempt left no effect behind');
  t.equal(runner.stats.handled, 1);
});

t.test('an event that keeps failing is dead-lettered; retried after a fix it has one effect', async (t) => {
  let broken = true;
  const { runner, subject } = await startRunner(t, async (trx, event, meta) => {
    if (broken) throw new Error('template missing');
    await applyEffect(trx, event, meta);
  });
  const permanent = newEvent(30);
  const exhausted = newEvent(31);
  const runners = new Map([[runner.name, runner]]);
  // A permanent error is dead-lettered at once; a transient one after maxDeliveries (4).
  await publish(subject, JSON.stringify(permanent), permanent.id);
  await publish(subject, JSON.stringify(exhausted), exhausted.id);
  await eventually(
    async () => (await listDeadLetters(m.db, { consumer: runner.name, limit: 10 })).length === 2,
  );
  const dead = await listDeadLetters(m.db, { consumer: runner.name, limit: 10 });
  t.same(dead.map((d) => d.event_id).sort(), [permanent.id, exhausted.id].sort());
  t.equal(dead.find((d) => d.event_id === exhausted.id)?.deliveries, 4, 'given up after four deliveries');

  const stillBroken = await retryDeadLetter(m.db, runners, dead[0]!.id);
  t.equal(stillBroken.status, 'still-failing', 'retry before the fix reports the error');

  broken = false;
  for (const d of dead)
    t.match(await retryDeadLetter(m.db, runners, d.id), { status: 'resolved', outcome: 'handled' });
  t.equal((await effectOf(permanent.id))?.applied, 1);
  t.equal((await effectOf(exhausted.id))?.applied, 1);
  t.same(await retryDeadLetter(m.db, runners, dead[0]!.id), { status: 'already-resolved' });
  t.equal((await listDeadLetters(m.db, { consumer: runner.name, limit: 10 })).length, 0);
});

t.test('PermanentEventError skips the retries', async (t) => {
  let calls = 0;
  const { runner, subject } = await startRunner(t, async () => {
    calls += 1;
    throw new PermanentEventError('meeting does not exist');
  });
  const event = newEvent(35);
  await publish(subject, JSON.stringify(event), event.id);
  await eventually(() => runner.stats.deadLettered === 1);
  t.equal(calls, 1);
  t.equal(runner.stats.retried, 0);
});

t.test(
  'concurrency is bounded and events about one entity are handled one at a time, in order',
  async (t) => {
    let running = 0;
    let maxRunning = 0;
    const orderByEntity = new Map<string, number[]>();
    const { runner, subject } = await startRunner(
      t,
      async (trx, event, meta) => {
        running += 1;
        maxRunning = Math.max(maxRunning, running);
        await new Promise((r) => setTimeout(r, 20));
        orderByEntity.set(event.subject, [...(orderByEntity.get(event.subject) ?? []), event.data.n]);
        running -= 1;
        await applyEffect(trx, event, meta);
      },
      { concurrency: 3 },
    );
    for (let n = 0; n < 40; n++) {
      const event = newEvent(100 + n, `entity-${n % 5}`);
      await publish(subject, JSON.stringify(event), event.id);
    }
    await eventually(() => runner.stats.handled === 40);
    t.ok(maxRunning <= 3, `at most 3 at once (saw ${maxRunning})`);
    t.ok(maxRunning > 1, 'more than one at once');
    for (const [entity, ns] of orderByEntity) {
      t.same(
        ns,
        [...ns].sort((a, b) => a - b),
        `${entity} handled in stream order`,
      );
    }
  },
);

t.test('stop() lets the events in hand finish and be acknowledged', async (t) => {
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const { runner, subject } = await startRunner(t, async (trx, event, meta) => {
    await gate;
    await applyEffect(trx, event, meta);
  });
  const event = newEvent(200);
  await publish(subject, JSON.stringify(event), event.id);
  await eventually(async () => {
    const info = await m.jsm.consumers.info(m.streamName, m.ns.durable(runner.name));
    return info.num_ack_pending === 1;
  });
  const stopping = runner.stop();
  release();
  await stopping;
  t.equal((await effectOf(event.id))?.applied, 1, 'the event in hand was applied before stop returned');
  const info = await eventually(async () => {
    const i = await m.jsm.consumers.info(m.streamName, m.ns.durable(runner.name));
    return i.num_ack_pending === 0 ? i : undefined;
  }, 5_000);
  t.ok(info, 'and acknowledged');
});
