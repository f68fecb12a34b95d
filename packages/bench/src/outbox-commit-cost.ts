/**
 * What the outbox costs a writing service, and how fast the relay follows it:
 *
 * 1. commits/s of writers that insert a business row and an outbox row per transaction, into a schema with
 *    the old NOTIFY trigger on the outbox and into one without it, alternating rounds in one run;
 * 2. commit → published latency (p50/p99) at a steady write rate, for each way the relay learns of a
 *    commit: the in-process wake of the writer's own process, and the poll alone (the leader is another
 *    replica);
 * 3. the poll query's cost on an idle outbox with 100 000 published rows.
 *
 * `node --import tsx packages/bench/src/outbox-commit-cost.ts` (BENCH_SECONDS sets the length of a round).
 */
import { dealPhaseChanged, streams } from '@citydeals/contracts';
import { createDatabase, migrateSchema } from '@citydeals/db';
import {
  connectNats,
  enqueueEvent,
  ensureStream,
  type MessagingTables,
  messagingMigrations,
  namespace,
  OutboxRelay,
  outboxWritten,
} from '@citydeals/messaging';
import { createTestDatabase, eventually, testServers, uniqueName } from '@citydeals/testkit';
import { jetstreamManager } from '@nats-io/jetstream';
import { type Generated, type Kysely, sql } from 'kysely';
import pino from 'pino';
import { v7 as uuidv7 } from 'uuid';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 5);
const WRITERS = 8;
const ROUNDS = 3;
const RATE = 100; // commits/s in the latency runs: steady, well below saturation

interface BenchDB extends MessagingTables {
  item: { id: Generated<number>; n: number };
}

const database = await createTestDatabase('cd_bench');
const nc = await connectNats({ url: testServers.natsUrl, name: 'bench-outbox-cost' });
const jsm = await jetstreamManager(nc);
const ns = namespace(uniqueName('bcost'));
const stream = streams.deal_tracking;
await ensureStream(jsm, { name: ns.streamName(stream), subjects: ns.streamSubjects(stream) });
const logger = pino({ level: 'silent' });

const newEvent = () => ({
  id: uuidv7(),
  time: new Date(),
  source: '/deal-tracking',
  subject: dealPhaseChanged.example.dealId,
  data: dealPhaseChanged.example,
});

async function setUpSchema(schema: string, notify: boolean) {
  const d = createDatabase<BenchDB>({ connectionString: database.url, schema, maxConnections: WRITERS + 2 });
  await migrateSchema(d.db, schema, {
    ...messagingMigrations(schema),
    '0001_item': {
      async up(db: Kysely<any>) {
        await db.schema
          .createTable('item')
          .addColumn('id', 'bigint', (c) => c.primaryKey().generatedAlwaysAsIdentity())
          .addColumn('n', 'integer', (c) => c.notNull())
          .execute();
      },
    },
  });
  const s = (name: string) => sql.id(schema, name);
  await sql`drop trigger if exists outbox_notify on ${s('outbox')}`.execute(d.db);
  if (notify) {
    // The trigger as the first messaging migration created it.
    await sql`
      create or replace function ${s('notify_outbox')}() returns trigger language plpgsql as $$
      begin
        perform pg_notify(${sql.lit(`${schema}_outbox`)}, '');
        return null;
      end $$`.execute(d.db);
    await sql`create trigger outbox_notify after insert on ${s('outbox')}
              for each statement execute function ${s('notify_outbox')}()`.execute(d.db);
  }
  return d;
}

async function writeOne(db: Kysely<BenchDB>, n: number) {
  return db.transaction().execute(async (trx) => {
    await trx.insertInto('item').values({ n }).execute();
    return (await enqueueEvent(trx, dealPhaseChanged, newEvent())).id;
  });
}

async function commitsPerSecond(db: Kysely<BenchDB>): Promise<number> {
  let commits = 0;
  const until = performance.now() + SECONDS * 1000;
  await Promise.all(
    Array.from({ length: WRITERS }, async () => {
      while (performance.now() < until) {
        await writeOne(db, commits);
        commits += 1;
      }
    }),
  );
  return commits / SECONDS;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
};
const r1 = (x: number) => Math.round(x * 10) / 10;

const withNotify = await setUpSchema('with_notify', true);
const withoutNotify = await setUpSchema('without_notify', false);

// 1. Commit throughput, no relay running: only the writers' own cost.
const rates: Record<string, number[]> = { with: [], without: [] };
for (let round = 0; round < ROUNDS; round++) {
  rates.with!.push(await commitsPerSecond(withNotify.db));
  rates.without!.push(await commitsPerSecond(withoutNotify.db));
}
process.stdout.write(
  `commits/s, ${WRITERS} writers, business row + outbox row (${ROUNDS} alternating rounds of ${SECONDS} s):\n` +
    `  with NOTIFY trigger    ${rates.with!.map(Math.round).join(' / ')}  median ${Math.round(median(rates.with!))}\n` +
    `  without trigger        ${rates.without!.map(Math.round).join(' / ')}  median ${Math.round(median(rates.without!))}\n` +
    `  trigger costs ${r1((1 - median(rates.with!) / median(rates.without!)) * 100)} % of commit throughput\n`,
);

// 2. Commit → published latency at a steady rate.
const received = new Map<string, number>();
const sub = nc.subscribe(ns.subject('>'));
(async () => {
  for await (const m of sub) {
    const id = m.headers?.get('Nats-Msg-Id');
    if (id) received.set(id, performance.now());
  }
})();

async function latency(
  label: string,
  d: {
    db: Kysely<BenchDB>;
    pool: import('pg').Pool;
    schema: string;
    onCommit(signal: string, listener: () => void): () => void;
  },
  inProcessWake: boolean,
) {
  await sql`update ${sql.id(d.schema, 'outbox')} set published_at = now() where published_at is null`.execute(
    d.db,
  );
  // Default poll interval, as a service runs it.
  const relay = new OutboxRelay({ pool: d.pool, schema: d.schema, nc, namespace: ns, logger });
  // What the service kit wires up: the writer's own process wakes its relay after the commit.
  const unsubscribe = inProcessWake ? d.onCommit(outboxWritten, () => relay.wake()) : () => {};
  relay.start();
  await eventually(() => relay.stats.leader, 10_000, 10);
  const committed = new Map<string, number>();
  const count = RATE * SECONDS;
  const started = performance.now();
  for (let i = 0; i < count; i++) {
    const due = started + (i * 1000) / RATE;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const id = await writeOne(d.db, i);
    committed.set(id, performance.now());
  }
  await eventually(() => [...committed.keys()].every((id) => received.has(id)), 30_000, 20);
  await relay.stop();
  unsubscribe();
  const ms = [...committed].map(([id, at]) => received.get(id)! - at);
  process.stdout.write(
    `  ${label.padEnd(44)} p50 ${r1(pct(ms, 50))} ms  p99 ${r1(pct(ms, 99))} ms  max ${r1(Math.max(...ms))} ms\n`,
  );
}

process.stdout.write(`commit → published latency, ${RATE} commits/s for ${SECONDS} s, no trigger:\n`);
await latency('in-process wake after commit', withoutNotify, true);
await latency('poll only (leader in another replica)', withoutNotify, false);

// 3. The poll query on an idle outbox that holds a day of published rows.
await sql`insert into without_notify.outbox (event_id, subject, payload, published_at)
          select gen_random_uuid(), 'x', '{}'::json, now() from generate_series(1, 100000)`.execute(
  withoutNotify.db,
);
await sql`analyze without_notify.outbox`.execute(withoutNotify.db);
const explain = async () =>
  (
    await sql<{ 'QUERY PLAN': string }>`explain analyze
      select id, event_id, subject, payload::text as payload from without_notify.outbox
      where published_at is null and id > 0 order by id limit 500`.execute(withoutNotify.db)
  ).rows
    .map((r) => `    ${r['QUERY PLAN']}`)
    .join('\n');
// The first look after a burst steps over the index entries of rows just marked published (until vacuum
// or this scan marks them dead); later looks do not.
process.stdout.write(
  `poll query on an idle outbox of 100 000 published rows:\n  first:\n${await explain()}\n`,
);
const polls = 2_000;
const t0 = performance.now();
for (let i = 0; i < polls; i++) {
  await withoutNotify.pool.query(
    'select id, event_id, subject, payload::text as payload from without_notify.outbox where published_at is null and id > $1 order by id limit $2',
    [0, 500],
  );
}
process.stdout.write(
  `  round trip from Node: ${r1(((performance.now() - t0) * 1000) / polls)} µs per poll\n  then:\n${await explain()}\n`,
);

sub.unsubscribe();
await jsm.streams.delete(ns.streamName(stream)).catch(() => {});
await nc.close();
await withNotify.destroy();
await withoutNotify.destroy();
await database.drop();
