import { defineEvent } from '@citydeals/contracts';
import { sql } from 'kysely';
import t from 'tap';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import {
  deleteEventsAbout,
  enqueueEvent,
  outboxWritten,
  statementEvent,
  statementEventWithCount,
  statementListEvent,
  writeWithEvents,
  writeWithListEvent,
} from '../src/index.ts';
import { itemRecorded, type Messaging, recordItem, setupMessaging } from './fixture.ts';

let m: Messaging;
t.before(async () => {
  m = await setupMessaging();
});
t.teardown(() => m.close());

const itemQueued = defineEvent({
  subject: 'registration.item.queued',
  version: 1,
  description: 'A test item was queued at a place only the writing statement knows.',
  data: z.object({ itemId: z.string(), version: z.number().int().positive(), place: z.int().positive() }),
  example: { itemId: 'a', version: 1, place: 1 },
});

const input = (itemId: string, n = 1) => ({
  id: uuidv7(),
  time: new Date(),
  source: '/test',
  subject: itemId,
  data: { itemId, version: 1, n },
});

async function stored(eventId: string) {
  const { rows } = await sql<{ subject: string; payload: string }>`
    select subject, payload::text as payload from outbox where event_id = ${eventId}`.execute(m.db);
  return rows[0];
}

/** Counts `outboxWritten` signals while `body` runs, as the relay's wake-up hears them. */
async function signalsDuring(body: (signals: () => number) => Promise<unknown>): Promise<number> {
  let signals = 0;
  const unsubscribe = m.onCommit(outboxWritten, () => {
    signals += 1;
  });
  try {
    await body(() => signals);
  } catch {
    // The caller checks what was written and signalled.
  } finally {
    unsubscribe();
  }
  return signals;
}

t.test('enqueueEvent wakes the relay after the commit, and not for a rollback', async (t) => {
  let inside = -1;
  const committed = await signalsDuring((signals) =>
    m.db.transaction().execute(async (trx) => {
      await recordItem(trx, 1);
      inside = signals();
    }),
  );
  t.equal(inside, 0, 'nothing before the commit');
  t.equal(committed, 1, 'one signal after it');

  const rolledBack = await signalsDuring(() =>
    m.db.transaction().execute(async (trx) => {
      await recordItem(trx, 2);
      throw new Error('rolled back');
    }),
  );
  t.equal(rolledBack, 0, 'a rolled back event wakes nobody');
});

t.test('an event that breaks its contract is refused before anything is stored', async (t) => {
  const bad = { ...input('bad'), data: { itemId: 'bad', version: 0, n: 1 } };
  await t.rejects(
    m.db.transaction().execute((trx) => enqueueEvent(trx, itemRecorded, bad)),
    'enqueueEvent refuses it',
  );
  t.throws(() => statementEvent('k', itemRecorded, bad), 'so does a statement event');
  t.throws(
    () =>
      statementEventWithCount('k', itemQueued, { ...bad, data: { itemId: 'bad', version: 1, place: 0 } }, [
        'data',
        'place',
      ]),
    'and one with a count, checked with the count it is given',
  );
  t.equal(await stored(bad.id), undefined);
});

t.test('a statement writes the events of the keys it selects, with their counts, in order', async (t) => {
  const [a, b, c] = ['a', 'b', 'c'].map((k) => `item-${k}-${uuidv7()}`);
  const events = [
    statementEvent(`${a}`, itemRecorded, input(a!)),
    statementEventWithCount(
      `${b}`,
      itemQueued,
      { ...input(b!), data: { itemId: b!, version: 1, place: 1 } },
      ['data', 'place'],
    ),
    statementEvent(`${c}`, itemRecorded, input(c!)),
  ];
  let inside = -1;
  const signals = await signalsDuring((signalled) =>
    writeWithEvents(m.db, events, (insertEvents) => {
      inside = signalled();
      return sql<{ key: string }>`with chosen as (
          select * from (values (${a}::text, null::int), (${b}::text, 42)) as v(key, count)
        ), announced as (${insertEvents(sql`select key, count from chosen`)})
        select key from chosen`;
    }),
  );
  t.equal(inside, 0);
  t.equal(signals, 1, 'the relay is woken once the statement has committed');

  const first = await stored(events[0]!.eventId);
  const second = await stored(events[1]!.eventId);
  t.same(JSON.parse(first!.payload).data, { itemId: a, version: 1, n: 1 });
  const queued = itemQueued.schema.parse(JSON.parse(second!.payload));
  t.equal(
    queued.data.place,
    42,
    'the count is the one the statement decided, and the event meets its contract',
  );
  t.equal(await stored(events[2]!.eventId), undefined, 'a key the statement does not select is not written');
  const { rows } = await sql<{ event_id: string }>`select event_id from outbox
    where event_id in (${events[0]!.eventId}, ${events[1]!.eventId}) order by id`.execute(m.db);
  t.same(
    rows.map((r) => r.event_id),
    [events[0]!.eventId, events[1]!.eventId],
    'written in the order given',
  );
});

t.test('inside a transaction, a statement with events wakes the relay after the commit', async (t) => {
  const key = `item-${uuidv7()}`;
  const event = statementEvent(key, itemRecorded, input(key));
  let afterStatement = -1;
  const signals = await signalsDuring((signalled) =>
    m.db.transaction().execute(async (trx) => {
      await writeWithEvents(
        trx,
        [event],
        (
          insertEvents,
        ) => sql`with announced as (${insertEvents(sql`select ${key}::text as key, null::int as count`)})
          select 1`,
      );
      afterStatement = signalled();
    }),
  );
  t.equal(afterStatement, 0, 'not when the statement returns');
  t.equal(signals, 1, 'but once the transaction commits');
  t.ok(await stored(event.eventId));
});

t.test('a count the statement gives that is not a whole number fails the statement', async (t) => {
  const key = `item-${uuidv7()}`;
  const event = statementEventWithCount(
    key,
    itemQueued,
    { ...input(key), data: { itemId: key, version: 1, place: 1 } },
    ['data', 'place'],
  );
  await t.rejects(
    writeWithEvents(
      m.db,
      [event],
      (
        insertEvents,
      ) => sql`with announced as (${insertEvents(sql`select ${key}::text as key, 'x'::text as count`)})
        select 1`,
    ),
  );
  t.equal(await stored(event.eventId), undefined);
  t.throws(
    () => statementEventWithCount(key, itemRecorded, input(key), ['data', 'itemId']),
    /holds no number/,
    'only a number can be left to the statement',
  );
});

const itemsShipped = defineEvent({
  subject: 'registration.items.shipped',
  version: 1,
  description: 'Test items were shipped together; which of them only the writing statement knows.',
  data: z.object({
    items: z.array(z.object({ itemId: z.string(), weight: z.int().positive() })).min(1),
    note: z.string(),
  }),
  example: { items: [{ itemId: 'a', weight: 1 }], note: 'n' },
});

const shipment = (ids: readonly string[], weight = 1) => ({
  id: uuidv7(),
  time: new Date(),
  source: '/test',
  subject: 'shipment',
  data: { items: ids.map((itemId) => ({ itemId, weight })), note: 'a "quoted", [bracketed] note' },
});

const ship = (event: ReturnType<typeof statementListEvent>, keys: readonly string[]) =>
  writeWithListEvent(
    m.db,
    event,
    (insertEvent) => sql<{ key: string }>`with chosen as (
        select unnest(${keys}::text[]) as key
      ), announced as (${insertEvent(sql`select key from chosen`)})
      select key from chosen`,
  );

t.test('a list event lists the items whose keys the statement selects, in the order given', async (t) => {
  const ids = ['a', 'b', 'c', 'd'].map((k) => `item-${k}-${uuidv7()}`);
  const event = statementListEvent(itemsShipped, shipment(ids), ['data', 'items'], ids);
  let inside = -1;
  const signals = await signalsDuring((signalled) => {
    inside = signalled();
    return ship(event, [ids[3]!, ids[0]!, ids[2]!]);
  });
  t.equal(inside, 0);
  t.equal(signals, 1, 'the relay is woken once the statement has committed');
  const row = await stored(event.eventId);
  const written = itemsShipped.schema.parse(JSON.parse(row!.payload));
  t.same(
    written.data.items.map((i) => i.itemId),
    [ids[0], ids[2], ids[3]],
    'only the items selected, in the list order, and the event meets its contract',
  );
  t.equal(written.data.note, 'a "quoted", [bracketed] note', 'the rest of the event as it was validated');
  t.equal(row!.subject, itemsShipped.subject);

  const none = statementListEvent(itemsShipped, shipment(ids), ['data', 'items'], ids);
  await ship(none, []);
  t.equal(await stored(none.eventId), undefined, 'nothing selected: no event, as an empty list is invalid');
});

t.test('a list event is validated with every item, and needs a key for each', async (t) => {
  const ids = [`item-${uuidv7()}`, `item-${uuidv7()}`];
  t.throws(
    () => statementListEvent(itemsShipped, shipment(ids, 0), ['data', 'items'], ids),
    'an item that breaks the contract is refused before any statement',
  );
  t.throws(
    () => statementListEvent(itemsShipped, shipment(ids), ['data', 'items'], ids.slice(1)),
    /no list of 1 items/,
    'a key per item',
  );
  t.throws(
    () => statementListEvent(itemsShipped, shipment(ids), ['data', 'note'], ids),
    /no list/,
    'only a list can be left to the statement',
  );
});

t.test('deleteEventsAbout removes every copy of the events about one subject', async (t) => {
  const [gone, kept] = [`item-${uuidv7()}`, `item-${uuidv7()}`];
  const events = await m.db
    .transaction()
    .execute(async (trx) => [
      await enqueueEvent(trx, itemRecorded, input(gone!, 1)),
      await enqueueEvent(trx, itemRecorded, input(gone!, 2)),
      await enqueueEvent(trx, itemRecorded, input(kept!, 3)),
    ]);
  await sql`update outbox set published_at = now() where event_id = ${events[0]!.id}`.execute(m.db);
  await m.db.transaction().execute((trx) => deleteEventsAbout(trx, gone!));
  t.equal(await stored(events[0]!.id), undefined, 'published');
  t.equal(await stored(events[1]!.id), undefined, 'and unpublished');
  t.ok(await stored(events[2]!.id), 'other subjects stay');
});
