import { createTestDatabase, type TestDatabase } from '@citydeals/testkit';
import { sql } from 'kysely';
import t from 'tap';
import { createDatabase, prepared } from '../src/index.ts';

let database: TestDatabase;
t.before(async () => {
  database = await createTestDatabase('cd_test');
});
t.teardown(() => database.drop());

t.test('a marked statement is prepared once per connection and answers like any other', async (t) => {
  // One connection, so every query sees the same session's prepared statements.
  const { db, destroy } = createDatabase<any>({
    connectionString: database.url,
    schema: 'public',
    maxConnections: 1,
  });
  t.teardown(destroy);
  const preparedNames = async () =>
    (await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(db)).rows.map(
      (r) => r.name,
    );

  t.same(await preparedNames(), [], 'nothing prepared yet');
  for (const n of [1, 2, 3]) {
    const { rows } = await sql<{
      doubled: number;
    }>`${prepared('double')} select ${n}::int * 2 as doubled`.execute(db);
    t.same(rows, [{ doubled: n * 2 }], `parameter ${n} bound`);
  }
  const names = await preparedNames();
  t.equal(names.length, 1, 'one prepared statement for three calls');
  t.match(names[0], /^double-[0-9a-f]{12}$/, 'named after the mark and the text');

  await sql`${prepared('double')} select ${4}::int * 3 as tripled`.execute(db);
  t.equal((await preparedNames()).length, 2, 'another text under the same mark gets its own statement');

  await sql`select ${5}::int as plain`.execute(db);
  t.equal((await preparedNames()).length, 2, 'an unmarked statement is not prepared');
});

t.test('a mark must be a plain name', async (t) => {
  t.throws(() => prepared('no spaces'), /a-z, 0-9 and -/);
  t.throws(() => prepared('x*/ drop'), /a-z, 0-9 and -/);
});
