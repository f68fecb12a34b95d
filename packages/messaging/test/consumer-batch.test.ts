import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { createEvent, streams } from '@citydeals/contracts';
import { eventually, testServers } from '@citydeals/testkit';
import { sql } from 'kysely';
import t, { type Test } from 'tap';
import { v7 as uuidv7 } from 'uuid';
import {
  type BatchOptions,
  ConsumerRunner,
  defineConsumer,
  type EventHandler,
  listDeadLetters,
  type ManyEventsHandler,
  on,
  PermanentEventError,
} from '../src/index.ts';
import {
  countingConsumer,
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
  // Which transaction applied each event: events sharing a txid were applied in one batch.
  await sql`create table svc.applied_in (event_id uuid primary key, txid bigint not null)`.execute(m.db);
});
t.teardown(() => m.close());

let consumerCount = 0;
function nextSubject() {
  return `registration.item.batch-${++consumerCount}`;
}

/** A batch runner on its own durable consumer over `subject`. */
async function startBatchRunner(
  t: Test,
  subject: string,
  handler: EventHandler<TestDB, any>,
  batch: BatchOptions | 'one by one' = { maxEvents: 16, maxWaitMs: 5 },
  handleMany?: ManyEventsHandler<TestDB, any>,
  afterCommit?: () => void,
) {
  const runner = new ConsumerRunner<TestDB>({
    db: m.db,
    js: m.js,
    jsm: m.jsm,
    namespace: m.ns,
    logger: quietLogger,
    definition: defineConsumer<TestDB>({
      name: subject.replaceAll('.', '-'),
      stream: streams.registration,
      filterSubject: subject,
      ...(batch === 'one by one' ? {} : { batch }),
      handlers: [on(itemRecorded, handler, handleMany)],
      ...(afterCommit ? { afterCommit } : {}),
    }),
    retry: { initialDelayMs: 100, maxDelayMs: 400, maxDeliveries: 4 },
    lookupType: lookupTestType,
  });
  await runner.start();
  t.teardown(() => runner.stop());
  return runner;
}

const applyEffect: EventHandler<TestDB, any> = async (trx, event) => {
  await trx
    .insertInto('effect')
    .values({ event_id: event.id, n: event.data.n })
    .onConflict((oc) => oc.column('event_id').doUpdateSet({ applied: sql`effect.applied + 1` }))
    .execute();
  await sql`insert into svc.applied_in (event_id, txid) values (${event.id}, txid_current())
            on conflict (event_id) do update set txid = excluded.txid`.execute(trx);
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

async function effects(ids: string[]) {
  return m.db
    .selectFrom('effect')
    .select(['event_id', 'applied'])
    .where('event_id', 'in', ids)
    .execute()
    .then((rows) => new Map(rows.map((r) => [r.event_id, r.applied])));
}

async function transactionsOf(ids: string[]) {
  const { rows } = await sql<{ n: number }>`select count(distinct txid)::int as n from svc.applied_in
    where event_id = any(${ids}::uuid[])`.execute(m.db);
  return rows[0]!.n;
}

t.test('a batch of events applies each once, several events per transaction', async (t) => {
  const subject = nextSubject();
  const events = Array.from({ length: 50 }, (_, i) => newEvent(i));
  // All in the stream before the runner starts, so batches fill.
  for (const e of events) await publish(subject, JSON.stringify(e), e.id);
  const runner = await startBatchRunner(t, subject, applyEffect);
  await eventually(() => runner.stats.handled === 50);
  const applied = await effects(events.map((e) => e.id));
  t.equal(applied.size, 50, 'every event has its effect');
  t.ok(
    [...applied.values()].every((n) => n === 1),
    'each applied once',
  );
  const transactions = await transactionsOf(events.map((e) => e.id));
  t.ok(transactions < 50 && transactions >= 4, `50 events in ${transactions} transactions (at most 16 each)`);
  t.equal(runner.stats.duplicates, 0);
  const inbox = await m.db
    .selectFrom('inbox')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('consumer', '=', runner.name)
    .executeTakeFirstOrThrow();
  t.equal(Number(inbox.n), 50, 'one inbox row per event');
});

t.test(
  'runs of one event type go to handleMany in stream order; a failing run falls back to one by one',
  async (t) => {
    const subject = nextSubject();
    const events = Array.from({ length: 40 }, (_, i) => newEvent(i, `item-${i % 5}`));
    const copy = events[3]!;
    for (const e of events) await publish(subject, JSON.stringify(e), e.id);
    // A copy under another message id: the inbox must keep it away from handleMany.
    await publish(subject, JSON.stringify(copy), `${copy.id}-copy`);
    const poisoned = events[30]!.id;
    const runs: number[][] = [];
    let singles = 0;
    const runner = await startBatchRunner(
      t,
      subject,
      async (trx, event) => {
        singles += 1;
        await applyEffect(trx, event, { deliveryCount: 1, streamSequence: undefined });
      },
      { maxEvents: 16, maxWaitMs: 20, inFlight: 1 },
      async (trx, many) => {
        runs.push(many.map((e) => e.data.n));
        if (many.some((e) => e.id === poisoned)) throw new Error('this run fails as a whole');
        for (const e of many) await applyEffect(trx, e, { deliveryCount: 1, streamSequence: undefined });
      },
    );
    await eventually(() => runner.stats.handled === 40);
    const applied = await effects(events.map((e) => e.id));
    t.equal(applied.size, 40, 'every event has its effect');
    t.ok(
      [...applied.values()].every((n) => n === 1),
      'each applied once, the copy not at all',
    );
    t.ok(runs.length >= 3, `handleMany took runs (${runs.map((r) => r.length).join(', ')})`);
    t.ok(
      runs.every((run) => run.every((n, i) => i === 0 || n > run[i - 1]!)),
      'each run in stream order',
    );
    const failedRun = runs.find((run) => run.includes(30))!;
    t.ok(failedRun, 'the run holding the failing event reached handleMany');
    t.ok(singles >= failedRun.length, `its events were applied one by one after the rollback (${singles})`);
    t.equal(runner.stats.duplicates, 1, 'the copy recognised by the inbox');
  },
);

t.test(
  'an event that finds no batch running goes at once; events arriving while one runs go together next',
  async (t) => {
    const subject = nextSubject();
    let release: () => void = () => {};
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const first = newEvent(90);
    let firstRunning = false;
    const handler: EventHandler<TestDB, any> = async (trx, event, meta) => {
      await applyEffect(trx, event, meta);
      if (event.id === first.id) {
        firstRunning = true;
        await gate;
      }
    };
    // A long maxWaitMs: an event that waited for company would show.
    const runner = await startBatchRunner(t, subject, handler, { maxEvents: 16, maxWaitMs: 3_000 });
    const lone = newEvent(89);
    const started = Date.now();
    await publish(subject, JSON.stringify(lone), lone.id);
    await eventually(() => runner.stats.handled === 1);
    t.ok(Date.now() - started < 2_000, `a lone event applied in ${Date.now() - started} ms, not after 3 s`);

    await publish(subject, JSON.stringify(first), first.id);
    await eventually(() => firstRunning);
    // The first one's batch is held open: these arrive one by one while it runs.
    const later = Array.from({ length: 5 }, (_, i) => newEvent(91 + i));
    for (const e of later) {
      await publish(subject, JSON.stringify(e), e.id);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    release();
    await eventually(() => runner.stats.handled === 7);
    t.equal(await transactionsOf(later.map((e) => e.id)), 1, 'the five that waited went in one batch');
    t.equal(await transactionsOf([first.id, later[0]!.id]), 2, 'not in the running one');
  },
);

t.test('copies inside one batch and across batches have one effect', async (t) => {
  const subject = nextSubject();
  const event = newEvent(60);
  const other = newEvent(61);
  const payload = JSON.stringify(event);
  await publish(subject, payload, event.id);
  // Copies with other message ids pass JetStream's dedupe, as after its window or from a replay tool.
  await publish(subject, payload, `${event.id}-copy`);
  await publish(subject, JSON.stringify(other), other.id);
  await publish(subject, payload, `${event.id}-copy2`);
  const runner = await startBatchRunner(t, subject, applyEffect);
  await eventually(() => runner.stats.handled + runner.stats.duplicates === 4);
  t.equal(runner.stats.handled, 2);
  t.equal(runner.stats.duplicates, 2, 'both copies in the batch recognised');
  t.equal(await transactionsOf([event.id, other.id]), 1, 'they were one batch');

  await publish(subject, payload, `${event.id}-late`);
  await eventually(() => runner.stats.duplicates === 3);
  t.equal(runner.stats.handled, 2, 'the copy in a later batch was not applied');
  t.same(
    Object.fromEntries(await effects([event.id, other.id])),
    { [event.id]: 1, [other.id]: 1 },
    'one effect each',
  );
});

t.test(
  'a failing event rolls its batch back, the others are applied once, and it is retried or dead-lettered as before',
  async (t) => {
    const subject = nextSubject();
    const transient = newEvent(70);
    const hopeless = newEvent(71);
    const permanent = newEvent(72);
    const good = Array.from({ length: 10 }, (_, i) => newEvent(80 + i));
    const invalid = { ...newEvent(73), data: { itemId: 'x', version: 0, n: 'seventy-three' } };
    const attempts = new Map<string, number>();
    const handler: EventHandler<TestDB, any> = async (trx, event, meta) => {
      attempts.set(event.id, (attempts.get(event.id) ?? 0) + 1);
      // Writes first, so a rollback that failed to undo the others would show as applied = 2.
      await applyEffect(trx, event, meta);
      if (event.id === transient.id && meta.deliveryCount < 3) throw new Error('database hiccup');
      if (event.id === hopeless.id) throw new Error('template missing');
      if (event.id === permanent.id) throw new PermanentEventError('meeting does not exist');
    };
    const ordered = [good[0]!, transient, good[1]!, hopeless, invalid, permanent, ...good.slice(2)];
    for (const e of ordered) await publish(subject, JSON.stringify(e), e.id);
    await publish(subject, '{not json', uuidv7());
    const runner = await startBatchRunner(t, subject, handler, { maxEvents: 32, maxWaitMs: 5 });

    await eventually(
      async () => (await listDeadLetters(m.db, { consumer: runner.name, limit: 10 })).length === 4,
    );
    await eventually(() => runner.stats.handled === 11);
    const applied = await effects([...good, transient, hopeless, permanent].map((e) => e.id));
    t.ok(
      good.every((e) => applied.get(e.id) === 1),
      'every good event applied exactly once after the fallback',
    );
    t.equal(applied.get(transient.id), 1, 'the transient failure applied once, on its third delivery');
    t.equal(applied.has(hopeless.id), false, 'the hopeless event left no effect');
    t.equal(applied.has(permanent.id), false, 'the permanent failure left no effect');
    t.ok(
      (attempts.get(good[0]!.id) ?? 0) >= 2,
      'the good events ran in the failed batch first, then again alone',
    );
    const dead = await listDeadLetters(m.db, { consumer: runner.name, limit: 10 });
    t.equal(dead.find((d) => d.event_id === hopeless.id)?.deliveries, 4, 'given up after four deliveries');
    t.equal(dead.find((d) => d.event_id === permanent.id)?.deliveries, 1, 'a permanent error is not retried');
    t.match(
      dead.find((d) => d.event_id === invalid.id),
      { error: /contract/ },
    );
    t.ok(
      dead.some((d) => d.event_id === null && /not JSON/.test(d.error)),
      'the non-JSON payload too',
    );
    t.equal(runner.stats.retried, 2 + 3, 'transient retried twice, hopeless three times');
    t.equal(runner.stats.deadLettered, 4);
    t.equal(runner.stats.duplicates, 0, 'nothing counted twice');
  },
);

t.test('events about one entity are applied in stream order across concurrent batches', async (t) => {
  const subject = nextSubject();
  const orderByEntity = new Map<string, number[]>();
  const events = Array.from({ length: 80 }, (_, n) => newEvent(n, `entity-${n % 5}`));
  for (const e of events) await publish(subject, JSON.stringify(e), e.id);
  const runner = await startBatchRunner(
    t,
    subject,
    async (trx, event, meta) => {
      await applyEffect(trx, event, meta);
      await new Promise((r) => setTimeout(r, 2));
      orderByEntity.set(event.subject, [...(orderByEntity.get(event.subject) ?? []), event.data.n]);
    },
    { maxEvents: 6, maxWaitMs: 5, inFlight: 3 },
  );
  await eventually(() => runner.stats.handled === 80);
  t.ok((await transactionsOf(events.map((e) => e.id))) >= 14, 'in many batches');
  t.equal(orderByEntity.size, 5);
  for (const [entity, ns] of orderByEntity) {
    t.same(
      ns,
      [...ns].sort((a, b) => a - b),
      `${entity} applied in stream order`,
    );
  }
});

t.test('a crash between commit and ack redelivers the batch and the inbox skips it', async (t) => {
  await sql`create table svc.received (event_id uuid primary key, times int not null default 1)`.execute(
    m.db,
  );
  const subject = 'registration.item.crash';
  const consumer = countingConsumer({
    name: 'batch-counting-consumer',
    filterSubject: subject,
    batch: { maxEvents: 10, maxWaitMs: 5 },
  });
  const events = Array.from({ length: 60 }, (_, i) => newEvent(1000 + i));
  for (const e of events) await publish(subject, JSON.stringify(e), e.id);

  const child = spawn(
    process.execPath,
    [
      '--import',
      'tsx',
      fileURLToPath(new URL('./fixtures/batch-consumer-killed-after-commit.ts', import.meta.url)),
      m.database.url,
      testServers.natsUrl,
      m.ns.prefix,
      subject,
      '3',
    ],
    { stdio: ['ignore', 'pipe', 'inherit'] },
  );
  let output = '';
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
  });
  const signal = await new Promise<NodeJS.Signals | null>((resolve) =>
    child.on('exit', (_c, s) => resolve(s)),
  );
  t.equal(signal, 'SIGKILL', 'the consumer killed itself after its third commit');
  t.match(output, /killing/);
  const before = (await sql<{ n: number }>`select count(*)::int as n from svc.received`.execute(m.db))
    .rows[0]!.n;
  t.ok(before > 0 && before < 60, `${before} events committed before the kill`);

  const runner = new ConsumerRunner<TestDB>({
    db: m.db,
    js: m.js,
    jsm: m.jsm,
    namespace: m.ns,
    logger: quietLogger,
    lookupType: lookupTestType,
    ackWaitMs: 1_000,
    definition: consumer,
  });
  await runner.start();
  t.teardown(() => runner.stop());
  const received = await eventually(async () => {
    const { rows } = await sql<{ event_id: string; times: number }>`
      select event_id, times from svc.received`.execute(m.db);
    // The killed batch was committed but never acked: it must come back and be skipped.
    return rows.length >= 60 && runner.stats.duplicates > 0 ? rows : undefined;
  }, 30_000);
  t.same(new Set(received!.map((r) => r.event_id)), new Set(events.map((e) => e.id)), 'every event applied');
  t.equal(received!.filter((r) => r.times !== 1).length, 0, 'none applied twice');
  t.ok(
    runner.stats.duplicates > 0,
    `the unacked committed events came back: ${runner.stats.duplicates} skipped`,
  );
  t.ok(runner.stats.redeliveries > 0, 'as redeliveries');
  t.equal(runner.stats.handled, 60 - before, 'the rest applied by the new runner');
});

t.test('a batch setting that could never apply anything is refused', async (t) => {
  const base = { name: 'bad-batch', stream: streams.registration, handlers: [] };
  t.throws(() => defineConsumer({ ...base, batch: { maxEvents: 0, maxWaitMs: 5 } }), /maxEvents/);
  t.throws(() => defineConsumer({ ...base, batch: { maxEvents: 8, maxWaitMs: 5, inFlight: 0 } }), /inFlight/);
  t.doesNotThrow(() => defineConsumer({ ...base, batch: { maxEvents: 8, maxWaitMs: 0 } }));
});

t.test('afterCommit runs after each commit that applied events, batched or one by one', async (t) => {
  for (const batch of [{ maxEvents: 8, maxWaitMs: 5 }, 'one by one'] as const) {
    const subject = nextSubject();
    const events = Array.from({ length: 20 }, (_, i) => newEvent(i));
    const ids = events.map((e) => e.id);
    // What another connection sees at each call, beside the events counted as handled before it: the
    // commit the call follows (at least one more event) must already be visible.
    const seen: Promise<{ visible: number; handledBefore: number }>[] = [];
    const runner = await startBatchRunner(t, subject, applyEffect, batch, undefined, () => {
      const handledBefore = runner.stats.handled;
      seen.push(effects(ids).then((applied) => ({ visible: applied.size, handledBefore })));
    });
    for (const e of events) await publish(subject, JSON.stringify(e), e.id);
    await eventually(() => runner.stats.handled === 20);
    const calls = seen.length;
    const observed = await Promise.all(seen);
    t.ok(
      calls >= 1 && calls <= 20,
      `${batch === 'one by one' ? batch : 'batched'}: ${calls} calls for 20 events`,
    );
    t.equal(observed.at(-1)?.visible, 20, 'every effect visible by the last call');
    t.ok(
      observed.every(({ visible, handledBefore }) => visible >= handledBefore + 1),
      'each call sees its own commit and every earlier one',
    );
    // The same events again under new message ids: the inbox stops them, nothing is applied, no call.
    for (const e of events.slice(0, 5)) await publish(subject, JSON.stringify(e), `again-${e.id}`);
    await eventually(() => runner.stats.duplicates === 5);
    t.equal(seen.length, calls, 'no call for commits that applied nothing');
  }
});
