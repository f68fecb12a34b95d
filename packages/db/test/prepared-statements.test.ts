import { createQuickTestDatabase, type TestDatabase } from '@citydeals/testkit';
import { sql } from 'kysely';
import t, { type Test } from 'tap';
import { createDatabase, prepared } from '../src/index.ts';

let database: TestDatabase;
t.before(async () => {
  database = await createQuickTestDatabase('cd_test');
});
t.teardown(() => database.drop());

/** One connection, so every query sees the same session's prepared statements. */
function oneConnection(t: Test) {
  const { db, destroy } = createDatabase<any>({
    connectionString: database.url,
    schema: 'public',
    maxConnections: 1,
  });
  t.teardown(destroy);
  return db;
}

t.test('a marked statement is prepared once per connection and answers like any other', async (t) => {
  const db = oneConnection(t);
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

t.test('a mark at the end of a built statement prepares it too', async (t) => {
  const db = oneConnection(t);
  const built = (n: number) =>
    db
      .selectNoFrom((eb) => eb.val(n).as('n'))
      .modifyEnd(prepared('built'))
      .execute();
  t.same(await built(7), [{ n: 7 }], 'answers with its parameter');
  t.same(await built(8), [{ n: 8 }], 'and with the next one');
  const { rows } = await sql<{
    name: string;
    statement: string;
  }>`select name, statement from pg_prepared_statements`.execute(db);
  t.equal(rows.length, 1, 'one prepared statement for both calls');
  t.match(rows[0]!.name, /^built-[0-9a-f]{12}$/, 'named after the mark');
  t.match(rows[0]!.statement, /\/\*prepared:built\*\/$/, 'the mark ends the text');
});

t.test('a mark must be a plain name', async (t) => {
  t.throws(() => prepared('no spaces'), /a-z, 0-9 and -/);
  t.throws(() => prepared('x*/ drop'), /a-z, 0-9 and -/);
});
