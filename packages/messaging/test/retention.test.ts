import { streams } from '@citydeals/contracts';
import { createDatabase, INDEX_PLANNED_SETTINGS, migrateSchema } from '@citydeals/db';
import { createQuickTestDatabase, testServers, uniqueName } from '@citydeals/testkit';
import { DiscardPolicy, jetstreamManager } from '@nats-io/jetstream';
import { nanos } from '@nats-io/transport-node';
import pino from 'pino';
import t from 'tap';
import {
  connectNats,
  ensureStream,
  messagingCutoffs,
  messagingMigrations,
  messagingPruneTasks,
  messagingRetentionDefaults,
  messagingRetentionProblems,
  namespace,
  RetentionJob,
  streamLimits,
} from '../src/index.ts';

const HOUR = 3600_000;
const DAY = 24 * HOUR;

t.test('retention rules: cut-offs from the clock, and the guarantees between periods', async (t) => {
  const now = new Date('2027-01-10T12:00:00Z');
  t.same(messagingCutoffs({ ...messagingRetentionDefaults }, now), {
    outboxPublished: new Date('2027-01-10T11:00:00Z'),
    inbox: new Date('2027-01-02T12:00:00Z'),
    deadLetterResolved: new Date('2026-12-11T12:00:00Z'),
  });
  t.same(messagingRetentionProblems(messagingRetentionDefaults), [], 'the defaults keep every guarantee');
  t.match(
    messagingRetentionProblems({ ...messagingRetentionDefaults, inboxMs: 6 * DAY, streamMaxAgeMs: 7 * DAY }),
    [/^RETENTION_INBOX_MS: .*NATS_STREAM_MAX_AGE_MS/],
    'an inbox shorter than the stream could apply a replayed event twice',
  );
  t.match(messagingRetentionProblems({ ...messagingRetentionDefaults, outboxPublishedMs: 5 * 60_000 }), [
    /^RETENTION_OUTBOX_PUBLISHED_MS: .*duplicate window/,
  ]);
  t.match(
    messagingRetentionProblems({ ...messagingRetentionDefaults, streamMaxAgeMs: 60_000, inboxMs: HOUR }),
    [/^NATS_STREAM_MAX_AGE_MS: .*duplicate window/],
    'JetStream refuses a stream that forgets messages before its duplicate window ends: said at start, by name',
  );
});

t.test(
  'streams are bounded by age and size, and refuse new messages rather than drop unread ones',
  async (t) => {
    const nc = await connectNats({ url: testServers.natsUrl, name: 'retention-test' });
    const jsm = await jetstreamManager(nc);
    const ns = namespace(uniqueName('ret'));
    const name = ns.streamName(streams.registration);
    t.teardown(async () => {
      await jsm.streams.delete(name).catch(() => {});
      await nc.close();
    });
    // As an older version created it: 30 days, no size cap, dropping the oldest when full.
    await ensureStream(jsm, {
      name,
      subjects: ns.streamSubjects(streams.registration),
      max_age: nanos(30 * DAY),
    });
    await ensureStream(jsm, {
      name,
      subjects: ns.streamSubjects(streams.registration),
      ...streamLimits({ maxAgeMs: 7 * DAY, maxBytes: 64 * 1024 * 1024 }),
    });
    const { config } = await jsm.streams.info(name);
    t.equal(config.max_age, nanos(7 * DAY));
    t.equal(config.max_bytes, 64 * 1024 * 1024);
    t.equal(config.discard, DiscardPolicy.New);
  },
);

const schema = 'svc';
const database = await createQuickTestDatabase();
const { db, pool, destroy } = createDatabase({ connectionString: database.url, schema });
await migrateSchema(db, schema, messagingMigrations(schema));
t.teardown(async () => {
  await destroy();
  await database.drop();
});

const now = new Date();
const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();
const policy = { ...messagingRetentionDefaults };
const logger = pino({ level: 'silent' });
const lockKey = uniqueName('retention');
const job = (batchSize = 200) =>
  new RetentionJob({
    pool,
    lockKey,
    tasks: (at) => messagingPruneTasks(schema, policy, at),
    clock: { now: () => now },
    logger,
    intervalMs: 60_000,
    batchSize,
  });

/** Old rows to prune and rows each rule keeps, in every messaging table. */
async function seed() {
  await pool.query(`truncate ${schema}.outbox, ${schema}.inbox, ${schema}.dead_letter`);
  await pool.query(
    `insert into ${schema}.outbox (event_id, subject, payload, created_at, published_at)
     select gen_random_uuid(), 'old', '{}', $1, case when g % 100 = 0 then null else $1::timestamptz end
     from generate_series(1, 3000) g`,
    [ago(2 * HOUR)],
  );
  await pool.query(
    `insert into ${schema}.outbox (event_id, subject, payload, created_at, published_at)
     select gen_random_uuid(), 'recent', '{}', $1, $1 from generate_series(1, 100)`,
    [ago(10 * 60_000)],
  );
  await pool.query(
    `insert into ${schema}.inbox (consumer, event_id, event_type, processed_at)
     select 'c' || (g % 3), gen_random_uuid(), 'x', case when g <= 3000 then $1::timestamptz else $2::timestamptz end
     from generate_series(1, 3100) g`,
    [ago(9 * DAY), ago(7 * DAY)],
  );
  await pool.query(
    `insert into ${schema}.dead_letter (consumer, subject, payload, error, deliveries, created_at, resolved_at)
     select 'c', 's', '{}', 'e', 1, $1, case when g <= 10 then $1::timestamptz when g <= 15 then $2::timestamptz end
     from generate_series(1, 2000) g`,
    [ago(60 * DAY), ago(DAY)],
  );
  await pool.query(`analyze ${schema}.outbox, ${schema}.inbox, ${schema}.dead_letter`);
}

async function counts() {
  const { rows } = await pool.query<Record<string, number>>(`select
    (select count(*)::int from ${schema}.outbox where subject = 'old' and published_at is not null) as old_published,
    (select count(*)::int from ${schema}.outbox where published_at is null) as unpublished,
    (select count(*)::int from ${schema}.outbox where subject = 'recent') as recent_published,
    (select count(*)::int from ${schema}.inbox where processed_at < now() - interval '8 days') as old_inbox,
    (select count(*)::int from ${schema}.inbox where processed_at > now() - interval '8 days') as recent_inbox,
    (select count(*)::int from ${schema}.dead_letter where resolved_at < now() - interval '30 days') as old_resolved,
    (select count(*)::int from ${schema}.dead_letter where resolved_at > now() - interval '30 days') as recent_resolved,
    (select count(*)::int from ${schema}.dead_letter where resolved_at is null) as open`);
  return rows[0]!;
}

t.test('a round deletes what is older than its cut-off and keeps the rest', async (t) => {
  await seed();
  t.same(await counts(), {
    old_published: 2970,
    unpublished: 30,
    recent_published: 100,
    old_inbox: 3000,
    recent_inbox: 100,
    old_resolved: 10,
    recent_resolved: 5,
    open: 1985,
  });
  const round = await job().runOnce();
  t.same(round, { ran: true, changed: { outbox: 2970, inbox: 3000, dead_letter: 10 } });
  t.same(await counts(), {
    old_published: 0,
    unpublished: 30,
    recent_published: 100,
    old_inbox: 0,
    recent_inbox: 100,
    old_resolved: 0,
    recent_resolved: 5,
    open: 1985,
  });
});

t.test('every pruning statement finds its rows by index', async (t) => {
  await seed();
  const client = await pool.connect();
  try {
    for (const [key, value] of Object.entries(INDEX_PLANNED_SETTINGS))
      await client.query(`set ${key} = ${value}`);
    for (const task of messagingPruneTasks(schema, policy, now)) {
      const { rows } = await client.query(`explain (format json) ${task.sql}`, [task.cutoff, 200]);
      const plan = JSON.stringify(rows[0]['QUERY PLAN']);
      t.notMatch(plan, /"Seq Scan"/, `${task.name}: no sequential scan`);
      t.match(plan, /"Index (Only )?Scan"/, `${task.name}: an index scan`);
    }
  } finally {
    client.release(true);
  }
});

t.test('pruning skips rows others hold, and inserts go on while it runs', async (t) => {
  await seed();
  const holder = await pool.connect();
  const writer = await pool.connect();
  try {
    await holder.query('begin');
    const { rows } = await holder.query(
      `select event_id from ${schema}.inbox where processed_at < now() - interval '8 days' limit 1 for update`,
    );
    const held = rows[0].event_id;
    const pruning = job(100).runOnce();
    let inserted = 0;
    for (let i = 0; i < 50; i++) {
      await writer.query(
        `insert into ${schema}.inbox (consumer, event_id, event_type) values ('w', gen_random_uuid(), 'x')`,
      );
      inserted += 1;
    }
    const outcome = await Promise.race([
      pruning,
      new Promise<'waiting'>((resolve) => setTimeout(() => resolve('waiting'), 10_000)),
    ]);
    t.not(outcome, 'waiting', 'the round finished while a row it wanted stayed locked');
    t.equal(inserted, 50, 'the concurrent inserts completed');
    const left = await pool.query(
      `select event_id from ${schema}.inbox where processed_at < now() - interval '8 days'`,
    );
    t.same(
      left.rows.map((r) => r.event_id),
      [held],
      'only the held row is left for the next round',
    );
    await holder.query('rollback');
    t.same((await job().runOnce()).changed.inbox, 1, 'the next round takes it');
  } finally {
    await holder.query('rollback').catch(() => {});
    holder.release();
    writer.release();
  }
});

t.test('one replica prunes at a time', async (t) => {
  await seed();
  const other = await pool.connect();
  try {
    // Another replica in the middle of its round holds the lock.
    await other.query('select pg_advisory_lock(hashtext($1))', [lockKey]);
    t.same(await job().runOnce(), { ran: false, changed: {} }, 'this replica skips its round');
    t.equal((await counts()).old_inbox, 3000, 'and deletes nothing');
    await other.query('select pg_advisory_unlock(hashtext($1))', [lockKey]);
    const [a, b] = await Promise.all([job(50).runOnce(), job(50).runOnce()]);
    const pruned = (r: typeof a) => Object.values(r.changed).reduce((x, y) => x + y, 0);
    t.equal(pruned(a) + pruned(b), 2970 + 3000 + 10, 'together they pruned each row once');
  } finally {
    other.release();
  }
});
