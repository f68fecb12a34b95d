import { createTestDatabase, type TestDatabase } from '@citydeals/testkit';
import type { Kysely } from 'kysely';
import t from 'tap';
import { createDatabase, messagingMigrations, migrateSchema } from '../src/index.ts';

let database: TestDatabase;
t.before(async () => {
  database = await createTestDatabase('cd_test_migr');
});
t.teardown(() => database.drop());

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

t.test('replicas starting together on a new database all migrate it, once', async (t) => {
  for (let round = 0; round < 5; round += 1) {
    const schema = `svc_replicas_${round}`;
    const replicas = Array.from({ length: 6 }, () =>
      createDatabase({ connectionString: database.url, schema, maxConnections: 2 }),
    );
    try {
      const results = await Promise.allSettled(
        replicas.map(({ db }) =>
          migrateSchema(db, schema, { ...messagingMigrations(schema), ...itemMigration }),
        ),
      );
      const failures = results.flatMap((r) =>
        r.status === 'rejected' ? [String(r.reason?.cause ?? r.reason)] : [],
      );
      t.same(failures, [], `round ${round}: every replica started`);
      const applied = results.flatMap((r) => (r.status === 'fulfilled' ? r.value : []));
      t.equal(
        applied.filter((name) => name === '0001_item').length,
        1,
        `round ${round}: each migration ran once`,
      );
    } finally {
      await Promise.all(replicas.map((replica) => replica.destroy()));
    }
  }
});
