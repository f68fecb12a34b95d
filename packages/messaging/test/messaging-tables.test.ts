import { createDatabase, migrateSchema } from '@citydeals/db';
import { createQuickTestDatabase, type TestDatabase } from '@citydeals/testkit';
import { type Kysely, sql } from 'kysely';
import t from 'tap';
import { type MessagingTables, messagingMigrations } from '../src/index.ts';

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
  database = await createQuickTestDatabase('cd_test');
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
