import { createTestDatabase, type TestDatabase } from '@citydeals/testkit';
import { type Kysely, sql } from 'kysely';
import t from 'tap';
import {
  createDatabase,
  type MessagingTables,
  messagingMigrations,
  migrateSchema,
  signalAfterCommit,
} from '../src/index.ts';

interface TestDB extends MessagingTables {
  item: { id: number };
}

const SCHEMA = 'svc';
const itemMigration = {
  '0001_item': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('item')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .execute();
    },
  },
};

let database: TestDatabase;
t.before(async () => {
  database = await createTestDatabase('cd_test');
});
t.teardown(() => database.drop());

async function hasNotifyTrigger(db: Kysely<any>, schema: string): Promise<boolean> {
  const { rows } = await sql<{ n: number }>`
    select count(*)::int as n from pg_trigger tg join pg_class c on c.oid = tg.tgrelid
    join pg_namespace s on s.oid = c.relnamespace
    where s.nspname = ${schema} and c.relname = 'outbox' and tg.tgname = 'outbox_notify'`.execute(db);
  return rows[0]!.n > 0;
}

t.test(
  'a schema migrated before the NOTIFY trigger was dropped loses it, after its own migrations',
  async (t) => {
    const schema = 'existing';
    const d = createDatabase<TestDB>({ connectionString: database.url, schema });
    t.teardown(() => d.destroy());
    const first = messagingMigrations(schema)['0000_00_outbox_inbox_dead_letter']!;
    // What a deployed service's schema holds: the first shared migration and one of its own.
    t.same(
      await migrateSchema(d.db, schema, { '0000_00_outbox_inbox_dead_letter': first, ...itemMigration }),
      ['0000_00_outbox_inbox_dead_letter', '0001_item'],
    );
    t.ok(await hasNotifyTrigger(d.db, schema), 'the old schema has the trigger');

    const applied = await migrateSchema(d.db, schema, { ...messagingMigrations(schema), ...itemMigration });
    t.same(
      applied,
      ['0000_02_outbox_without_notify', '0000_03_retention_indexes', '0000_20_outbox_trace_context'],
      'the new shared migrations run although they sort earlier',
    );
    t.notOk(await hasNotifyTrigger(d.db, schema), 'the trigger is gone');
    const fn = await sql<{ n: number }>`select count(*)::int as n from pg_proc p
    join pg_namespace s on s.oid = p.pronamespace where s.nspname = ${schema} and p.proname = 'notify_outbox'`.execute(
      d.db,
    );
    t.equal(fn.rows[0]!.n, 0, 'and so is its function');
    t.same(await migrateSchema(d.db, schema, { ...messagingMigrations(schema), ...itemMigration }), []);
  },
);

t.test('a new schema never keeps the trigger', async (t) => {
  const d = createDatabase<TestDB>({ connectionString: database.url, schema: SCHEMA });
  t.teardown(() => d.destroy());
  await migrateSchema(d.db, SCHEMA, { ...messagingMigrations(SCHEMA), ...itemMigration });
  t.notOk(await hasNotifyTrigger(d.db, SCHEMA));
});

t.test(
  'a signal raised in a transaction reaches its listeners after the commit, and only then',
  async (t) => {
    const d = createDatabase<TestDB>({ connectionString: database.url, schema: SCHEMA });
    t.teardown(() => d.destroy());
    let signals = 0;
    let others = 0;
    const unsubscribe = d.onCommit('written', () => {
      signals += 1;
    });
    t.teardown(
      d.onCommit('other', () => {
        others += 1;
      }),
    );

    let insideTransaction = -1;
    await d.db.transaction().execute(async (trx) => {
      await trx.insertInto('item').values({ id: 1 }).execute();
      await signalAfterCommit(trx, 'written');
      await signalAfterCommit(trx, 'written');
      insideTransaction = signals;
    });
    t.equal(insideTransaction, 0, 'not signalled before the commit');
    t.equal(signals, 1, 'signalled once after the commit, however often it was raised');
    t.equal(others, 0, 'listeners of another signal hear nothing');

    await d.db.transaction().execute(async (trx) => {
      await trx.insertInto('item').values({ id: 2 }).execute();
    });
    t.equal(signals, 1, 'a transaction that raised nothing is not signalled');

    await t.rejects(
      d.db.transaction().execute(async (trx) => {
        await signalAfterCommit(trx, 'written');
        throw new Error('rolled back');
      }),
    );
    t.equal(signals, 1, 'a rolled back transaction is not signalled');

    await d.db.transaction().execute(async (trx) => {
      await trx.insertInto('item').values({ id: 3 }).execute();
    });
    t.equal(signals, 1, 'the connection forgets the rolled back signal once its transaction ended');

    await d.indexPlannedDb.transaction().execute((trx) => signalAfterCommit(trx, 'written'));
    t.equal(signals, 2, 'commits through the index-planned pool are signalled to the same listeners');

    await signalAfterCommit(d.db, 'written');
    t.equal(signals, 3, 'outside a transaction, the signal goes at once');

    unsubscribe();
    await d.db.transaction().execute((trx) => signalAfterCommit(trx, 'written'));
    t.equal(signals, 3, 'an unsubscribed listener hears nothing');
  },
);
