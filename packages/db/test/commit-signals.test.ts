import { createQuickTestDatabase, type TestDatabase } from '@citydeals/testkit';
import type { Kysely } from 'kysely';
import t from 'tap';
import { createDatabase, migrateSchema, runAfterCommit, signalAfterCommit } from '../src/index.ts';

interface TestDB {
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

t.test(
  'a signal raised in a transaction reaches its listeners after the commit, and only then',
  async (t) => {
    const d = createDatabase<TestDB>({ connectionString: database.url, schema: SCHEMA });
    t.teardown(() => d.destroy());
    await migrateSchema(d.db, SCHEMA, itemMigration);
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

t.test('a callback registered in a transaction runs after its commit, never after a rollback', async (t) => {
  const d = createDatabase<TestDB>({ connectionString: database.url, schema: SCHEMA });
  t.teardown(() => d.destroy());
  await migrateSchema(d.db, SCHEMA, itemMigration);
  const ran: string[] = [];
  let seenInside = -1;
  await d.db.transaction().execute(async (trx) => {
    await trx.insertInto('item').values({ id: 10 }).execute();
    await runAfterCommit(trx, () => ran.push('first'));
    await runAfterCommit(trx, () => ran.push('second'));
    seenInside = ran.length;
  });
  t.equal(seenInside, 0, 'not run before the commit');
  t.same(ran, ['first', 'second'], 'run after the commit, in the order registered');

  await t.rejects(
    d.db.transaction().execute(async (trx) => {
      await runAfterCommit(trx, () => ran.push('rolled back'));
      throw new Error('rolled back');
    }),
  );
  await d.db.transaction().execute((trx) => trx.insertInto('item').values({ id: 11 }).execute());
  t.same(ran, ['first', 'second'], 'a rolled back transaction runs nothing, then or at the next commit');

  await d.db.transaction().execute(async (trx) => {
    await runAfterCommit(trx, () => {
      throw new Error('a failing callback');
    });
    await runAfterCommit(trx, () => ran.push('after a failing one'));
  });
  t.same(ran.at(-1), 'after a failing one', 'a failing callback neither fails the commit nor stops the rest');

  await runAfterCommit(d.db, () => ran.push('outside'));
  t.same(ran.at(-1), 'outside', 'outside a transaction it runs at once');
});
