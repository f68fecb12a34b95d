import { defineEvent, streams } from '@citydeals/contracts';
import { createDatabase, migrateSchema } from '@citydeals/db';
import { createQuickTestDatabase, createTestDatabase, testServers, uniqueName } from '@citydeals/testkit';
import { jetstream, jetstreamManager } from '@nats-io/jetstream';
import { type Generated, sql, type Transaction } from 'kysely';
import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';
import { z } from 'zod';
import {
  ConsumerRunner,
  type ConsumerRunnerOptions,
  connectNats,
  defineConsumer,
  enqueueEvent,
  ensureStream,
  type MessagingTables,
  messagingMigrations,
  namespace,
  on,
} from '../src/index.ts';

export const itemRecorded = defineEvent({
  subject: 'registration.item.recorded',
  version: 1,
  description: 'A test item was recorded.',
  data: z.object({ itemId: z.string(), version: z.number().int().positive(), n: z.number().int() }),
  example: { itemId: 'a', version: 1, n: 1 },
});
export const lookupTestType = (type: string) => (type === itemRecorded.type ? itemRecorded : undefined);

export interface TestDB extends MessagingTables {
  item: { id: Generated<number>; event_id: string; n: number };
  effect: { event_id: string; n: number; applied: Generated<number> };
}

export const SCHEMA = 'svc';

export const testMigrations = {
  ...messagingMigrations(SCHEMA),
  '0001_items': {
    async up(db: any) {
      await db.schema
        .createTable('item')
        .addColumn('id', 'bigint', (c: any) => c.primaryKey().generatedAlwaysAsIdentity())
        .addColumn('event_id', 'uuid', (c: any) => c.notNull())
        .addColumn('n', 'integer', (c: any) => c.notNull())
        .execute();
      // `applied` counts effects: a second application of one event shows as applied = 2.
      await db.schema
        .createTable('effect')
        .addColumn('event_id', 'uuid', (c: any) => c.primaryKey())
        .addColumn('n', 'integer', (c: any) => c.notNull())
        .addColumn('applied', 'integer', (c: any) => c.notNull().defaultTo(1))
        .execute();
    },
  },
};

export const quietLogger = pino({ level: process.env.TEST_LOG_LEVEL ?? 'silent' });

/** A database, schema, namespace and stream of its own, all removed by `close()`. */
export async function setupMessaging(servers: { postgresAdminUrl?: string; natsUrl?: string } = {}) {
  const natsUrl = servers.natsUrl ?? testServers.natsUrl;
  // A Postgres of the test's own is there to be crashed: its commits must be durable.
  const database = servers.postgresAdminUrl
    ? await createTestDatabase('cd_test', servers.postgresAdminUrl)
    : await createQuickTestDatabase();
  const { db, pool, onCommit } = createDatabase<TestDB>({
    connectionString: database.url,
    schema: SCHEMA,
  });
  await migrateSchema(db, SCHEMA, testMigrations);
  const ns = namespace(uniqueName('t'));
  const nc = await connectNats({ url: natsUrl, name: 'messaging-test' });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const streamName = ns.streamName(streams.registration);
  await ensureStream(jsm, { name: streamName, subjects: ns.streamSubjects(streams.registration) });
  return {
    database,
    db,
    pool,
    onCommit,
    ns,
    nc,
    js,
    jsm,
    streamName,
    natsUrl,
    async close() {
      await jsm.streams.delete(streamName).catch(() => {});
      await nc.drain().catch(() => {});
      await db.destroy();
      await database.drop();
    },
  };
}
export type Messaging = Awaited<ReturnType<typeof setupMessaging>>;

/** One state change and its event in one transaction, the way services write. */
export async function recordItem(trx: Transaction<TestDB>, n: number, itemId = `item-${n}`) {
  const id = uuidv7();
  await trx.insertInto('item').values({ event_id: id, n }).execute();
  return enqueueEvent(trx, itemRecorded, {
    id,
    time: new Date(),
    source: '/test',
    subject: itemId,
    data: { itemId, version: 1, n },
  });
}

/** Everything in the stream, in stream order. */
export async function readStream(m: Messaging): Promise<{ seq: number; id: string; n: number }[]> {
  const info = await m.jsm.streams.info(m.streamName);
  const out: { seq: number; id: string; n: number }[] = [];
  for (let seq = info.state.first_seq; seq <= info.state.last_seq && info.state.messages > 0; seq++) {
    const msg = await m.jsm.streams.getMessage(m.streamName, { seq });
    if (!msg) continue;
    const event = msg.json<{ id: string; data: { n: number } }>();
    out.push({ seq, id: event.id, n: event.data.n });
  }
  return out;
}

export async function countUnpublished(m: Messaging): Promise<number> {
  const r = await sql<{
    c: number;
  }>`select count(*)::int as c from svc.outbox where published_at is null`.execute(m.db);
  return r.rows[0]!.c;
}

/**
 * A consumer that counts how often each event was applied in `svc.received` (`times` > 1 would be a doubled
 * effect), for the crash and fault tests; with `batch`, in the runner's batch mode.
 */
export function countingConsumer(
  options: { name?: string; filterSubject?: string; batch?: { maxEvents: number; maxWaitMs: number } } = {},
) {
  return defineConsumer<TestDB>({
    name: options.name ?? 'counting-consumer',
    stream: streams.registration,
    ...(options.filterSubject ? { filterSubject: options.filterSubject } : {}),
    ...(options.batch ? { batch: options.batch } : {}),
    handlers: [
      on(itemRecorded, async (trx, event) => {
        await sql`insert into svc.received (event_id) values (${event.id})
                  on conflict (event_id) do update set times = received.times + 1`.execute(trx);
      }),
    ],
  });
}

/** Starts `countingConsumer()` on a fresh `svc.received`; `received()` reads the counts. */
export async function startCountingConsumer(
  m: Messaging,
  options: Partial<Pick<ConsumerRunnerOptions<TestDB>, 'retry' | 'ackWaitMs'>> = {},
) {
  await sql`create table svc.received (event_id uuid primary key, times int not null default 1)`.execute(
    m.db,
  );
  const runner = new ConsumerRunner<TestDB>({
    db: m.db,
    js: m.js,
    jsm: m.jsm,
    namespace: m.ns,
    logger: quietLogger,
    lookupType: lookupTestType,
    ...options,
    definition: countingConsumer(),
  });
  await runner.start();
  const received = async () =>
    (await sql<{ event_id: string; times: number }>`select event_id, times from svc.received`.execute(m.db))
      .rows;
  return { runner, received };
}
