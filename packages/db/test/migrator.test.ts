import { createQuickTestDatabase, type TestDatabase } from '@citydeals/testkit';
import { type Kysely, sql } from 'kysely';
import t from 'tap';
import { createDatabase, migrateSchema } from '../src/index.ts';

/** Two migrations of the kind services have: a table, then an index on it named by schema. */
const sampleMigrations = (schema: string) => ({
  '0000_00_item': {
    async up(db: Kysely<any>) {
      await db.schema
        .createTable('item')
        .addColumn('id', 'integer', (c) => c.primaryKey())
        .addColumn('n', 'integer')
        .execute();
    },
  },
  '0000_01_item_n': {
    async up(db: Kysely<any>) {
      await sql`create index item_n_idx on ${sql.id(schema, 'item')} (n)`.execute(db);
    },
  },
});

let database: TestDatabase;
t.before(async () => {
  database = await createQuickTestDatabase('cd_test_migr');
});
t.teardown(() => database.drop());

t.test('replicas starting together on a new database all migrate it, once', async (t) => {
  for (let round = 0; round < 5; round += 1) {
    const schema = `svc_replicas_${round}`;
    const replicas = Array.from({ length: 6 }, () =>
      createDatabase({ connectionString: database.url, schema, maxConnections: 2 }),
    );
    try {
      const results = await Promise.allSettled(
        replicas.map(({ db }) => migrateSchema(db, schema, sampleMigrations(schema))),
      );
      const failures = results.flatMap((r) =>
        r.status === 'rejected' ? [String(r.reason?.cause ?? r.reason)] : [],
      );
      t.same(failures, [], `round ${round}: every replica started`);
      const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      t.equal(
        applied.filter((name) => name === '0000_00_item').length,
        1,
        `round ${round}: each migration ran once`,
      );
    } finally {
      await Promise.all(replicas.map((replica) => replica.destroy()));
    }
  }
});
