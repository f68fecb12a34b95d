import { createPool } from '@citydeals/db';
import { createQuickTestDatabase, eventually } from '@citydeals/testkit';
import { type Generated, Kysely, PostgresDialect, sql } from 'kysely';
import pino from 'pino';
import t from 'tap';
import {
  type DueRowsTable,
  type LeasedQueue,
  leaseDueRows,
  nextDueAt,
  QueueChannel,
  QueueSignal,
  QueueWorker,
  renewLeases,
} from '../src/index.ts';

interface JobRow {
  id: string;
  status: string;
  attempts: number;
  next_attempt_at: Date;
  leased_until: Date | null;
  worked_by: string | null;
}

interface TestDB {
  job: {
    id: string;
    status: Generated<string>;
    attempts: Generated<number>;
    next_attempt_at: Generated<Date>;
    leased_until: Date | null;
    worked_by: string | null;
  };
  work_log: { job_id: string; worker: string; attempts: number };
}

const schema = 'wq';
const jobs: DueRowsTable = {
  table: 'job',
  readyWhen: { column: 'status', equals: 'queued' },
  dueColumn: 'next_attempt_at',
  leasedUntilColumn: 'leased_until',
  attemptsColumn: 'attempts',
  statementName: 'lease-test-jobs',
};
const logger = pino({ level: 'silent' });

const database = await createQuickTestDatabase('cd_work_queue');
const pool = createPool({ connectionString: database.url, schema, maxConnections: 12 });
const db = new Kysely<TestDB>({ dialect: new PostgresDialect({ pool }) });
await sql`create schema ${sql.id(schema)}`.execute(db);
await sql`create table job (
  id uuid primary key, status text not null default 'queued', attempts int not null default 0,
  next_attempt_at timestamptz not null default now(), leased_until timestamptz, worked_by text)`.execute(db);
await sql`create index job_due on job (status, next_attempt_at)`.execute(db);
await sql`create table work_log (job_id uuid not null, worker text not null, attempts int not null)`.execute(
  db,
);
t.teardown(async () => {
  await db.destroy();
  await database.drop();
});

t.beforeEach(async () => {
  await sql`truncate job, work_log`.execute(db);
});

async function queueJobs(count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => crypto.randomUUID());
  // Due by the clock the leases read (milliseconds), not by the database's now(): a row stamped a few
  // microseconds after the lease's millisecond would not be due yet for a worker that polls once an hour.
  const now = new Date();
  await db
    .insertInto('job')
    .values(ids.map((id) => ({ id, next_attempt_at: now })))
    .execute();
  return ids;
}

/**
 * A queue of test jobs: working one logs who worked it, settling it marks it done, fenced by the attempts
 * its lease counted. `hold` keeps the work of every job waiting until it resolves.
 */
function jobQueue(
  worker: string,
  options: { leaseMs?: number; hold?: () => Promise<void>; perItem?: boolean } = {},
): LeasedQueue<JobRow> & { settled: number } {
  const queue = {
    settled: 0,
    lease: (limit: number) => {
      const now = new Date();
      return leaseDueRows<JobRow, TestDB>(db, jobs, {
        now,
        limit,
        leaseUntil: new Date(now.getTime() + (options.leaseMs ?? 60_000)),
      });
    },
    work(items: readonly JobRow[]) {
      const one = async (job: JobRow) => {
        await db.insertInto('work_log').values({ job_id: job.id, worker, attempts: job.attempts }).execute();
        await options.hold?.();
        const settled = await db
          .updateTable('job')
          .set({ status: 'done', leased_until: null, worked_by: worker })
          .where('id', '=', job.id)
          .where('attempts', '=', job.attempts)
          .where('status', '=', 'queued')
          .executeTakeFirst();
        queue.settled += Number(settled.numUpdatedRows);
      };
      return options.perItem ? items.map(one) : Promise.all(items.map(one));
    },
  };
  return queue;
}

const statuses = async () =>
  (await db.selectFrom('job').select(['id', 'status', 'attempts', 'worked_by']).orderBy('id').execute()).map(
    (r) => ({ ...r }),
  );

t.test('two workers on one queue never take the same row', async (t) => {
  const ids = await queueJobs(400);
  const workers = ['a', 'b'].map(
    (name) =>
      new QueueWorker({
        name,
        queue: jobQueue(name, { perItem: name === 'b' }),
        capacity: 24,
        batchSize: 8,
        pollMs: 20,
        logger,
      }),
  );
  for (const worker of workers) worker.start();
  await eventually(async () => (await statuses()).every((r) => r.status === 'done'), 60_000);
  await Promise.all(workers.map((w) => w.stop()));

  const log = await db.selectFrom('work_log').selectAll().execute();
  t.equal(log.length, ids.length, 'each job worked once: no lease handed a row to both');
  t.equal(new Set(log.map((l) => l.job_id)).size, ids.length);
  t.ok(
    (await statuses()).every((r) => r.status === 'done' && r.attempts === 1),
    'each done at its first attempt',
  );
  t.equal(workers[0]!.stats.leased + workers[1]!.stats.leased, ids.length, 'leased once in all');
});

t.test(
  'a dead worker’s rows are leased again once its lease runs out, and its late result is fenced off',
  async (t) => {
    const [id] = await queueJobs(1);
    let release: () => void = () => {};
    const stuck = new Promise<void>((resolve) => {
      release = resolve;
    });
    // A hangs after taking the job, as a worker that died or lost its connection would.
    const a = new QueueWorker({
      name: 'a',
      queue: jobQueue('a', { hold: () => stuck }),
      capacity: 1,
      pollMs: 60_000,
      logger,
    });
    const aRound = a.runOnce();
    await eventually(async () => (await db.selectFrom('work_log').selectAll().execute()).length === 1);

    const bQueue = jobQueue('b');
    const b = new QueueWorker({ name: 'b', queue: bQueue, capacity: 1, pollMs: 60_000, logger });
    t.equal(await b.runOnce(), 0, 'nothing to lease while A holds the job');
    // A's lease runs out: its end (the row's due time) passes, moved rather than waited for, so that a slow
    // machine cannot make the lease run out before B's first look.
    await db
      .updateTable('job')
      .set({ next_attempt_at: new Date(Date.now() - 1_000), leased_until: new Date(Date.now() - 1_000) })
      .where('id', '=', id!)
      .execute();
    t.equal(await b.runOnce(), 1, 'B leases the job once A’s lease has run out');
    t.same(
      await statuses(),
      [{ id, status: 'done', attempts: 2, worked_by: 'b' }],
      'done by B, at attempt 2',
    );

    release();
    t.equal(await aRound, 1);
    t.same(
      (await statuses())[0],
      { id, status: 'done', attempts: 2, worked_by: 'b' },
      'A’s result, late, changed nothing',
    );
    t.equal(bQueue.settled, 1);
  },
);

t.test(
  'a slow worker renews its lease: its rows are not leased again while it works, and its result counts',
  async (t) => {
    const [id] = await queueJobs(1);
    let release: () => void = () => {};
    const slow = new Promise<void>((resolve) => {
      release = resolve;
    });
    // A is alive, only slow: its work waits, and it renews the lease of what it holds meanwhile.
    const aQueue = jobQueue('a', { hold: () => slow });
    const a = new QueueWorker({
      name: 'a',
      queue: {
        ...aQueue,
        renew: async (items) => {
          await renewLeases(db, jobs, items, new Date(Date.now() + 60_000));
        },
      },
      capacity: 1,
      pollMs: 60_000,
      renewMs: 20,
      logger,
    });
    const aRound = a.runOnce();
    await eventually(async () => (await db.selectFrom('work_log').selectAll().execute()).length === 1);
    // The lease A took runs out (its end moved, not waited for): only a renewal makes the row A's again.
    const past = new Date(Date.now() - 1_000);
    await db
      .updateTable('job')
      .set({ next_attempt_at: past, leased_until: past })
      .where('id', '=', id!)
      .execute();
    t.ok(
      await eventually(async () => {
        const row = await db
          .selectFrom('job')
          .select('leased_until')
          .where('id', '=', id!)
          .executeTakeFirst();
        return row?.leased_until != null && row.leased_until.getTime() > Date.now();
      }),
      'A renews its lease while it works',
    );
    const b = new QueueWorker({ name: 'b', queue: jobQueue('b'), capacity: 1, pollMs: 60_000, logger });
    t.equal(await b.runOnce(), 0, 'B takes nothing from a worker that is slow but alive');

    release();
    t.equal(await aRound, 1);
    t.same(await statuses(), [{ id, status: 'done', attempts: 1, worked_by: 'a' }], 'done by A, once');
    t.same(
      (await db.selectFrom('work_log').select('worker').execute()).map((r) => r.worker),
      ['a'],
      'worked once',
    );
  },
);

t.test('with nothing due, a worker sleeps until the next row falls due, not until its poll', async (t) => {
  const [id] = await queueJobs(1);
  // Due in a second; nothing will wake the worker, and its poll is far longer than this test.
  await db
    .updateTable('job')
    .set({ next_attempt_at: new Date(Date.now() + 1_000) })
    .where('id', '=', id!)
    .execute();
  const worker = new QueueWorker({
    name: 'w',
    queue: {
      ...jobQueue('w'),
      nextDueInMs: async () => {
        const now = new Date();
        const at = await nextDueAt(db, jobs, now);
        return at && at.getTime() - now.getTime();
      },
    },
    capacity: 10,
    pollMs: 3_600_000,
    logger,
  });
  worker.start();
  t.teardown(() => worker.stop());
  t.ok(
    await eventually(async () => (await statuses())[0]?.status === 'done', 30_000),
    'the job is done when it falls due',
  );
});

t.test(
  'a wake-up beats the poll interval: a NOTIFY from another connection, or a commit in this process',
  async (t) => {
    const channel = new QueueChannel('_jobs_queued');
    const signal = new QueueSignal({ channel, throttleMs: 20 });
    const worker = new QueueWorker({
      name: 'w',
      queue: jobQueue('w'),
      capacity: 10,
      // Far longer than this test may take: only a wake-up gets the job done.
      pollMs: 3_600_000,
      wakeUp: signal,
      logger,
    });
    worker.start();
    const unlisten = signal.listen(pool, { schema, retryMs: 100, logger });
    t.teardown(unlisten);
    // The first lease at start, and the look the signal takes once its LISTEN is up.
    await eventually(() => worker.stats.leases >= 2);

    // Another replica's transaction, or a producer without the signal: it queues a job and NOTIFYs on the
    // queue's channel, which reaches this process only through LISTEN.
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('job').values({ id: crypto.randomUUID() }).execute();
      await channel.notify(trx);
    });
    t.ok(await eventually(async () => (await statuses()).every((r) => r.status === 'done'), 30_000));

    // This process's own commit, announced in process without any NOTIFY.
    await queueJobs(1);
    signal.committed();
    t.ok(await eventually(async () => (await statuses()).every((r) => r.status === 'done'), 30_000));
    t.equal((await statuses()).length, 2);
    await worker.stop();
  },
);

t.test('stop() leases nothing more and returns once the rows in hand are settled', async (t) => {
  await queueJobs(5);
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const worker = new QueueWorker({
    name: 'w',
    queue: jobQueue('w', { hold: () => gate, perItem: true }),
    capacity: 10,
    pollMs: 10,
    logger,
  });
  worker.start();
  await eventually(async () => (await db.selectFrom('work_log').selectAll().execute()).length === 5);
  let stopped = false;
  const stopping = worker.stop().then(() => {
    stopped = true;
  });
  const later = await queueJobs(3);
  worker.wake();
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.notOk(stopped, 'stop() waits for the rows in hand');
  release();
  await stopping;
  const rows = await statuses();
  t.equal(rows.filter((r) => r.status === 'done').length, 5, 'the five in hand were settled');
  t.same(
    rows.filter((r) => later.includes(r.id)).map((r) => [r.status, r.attempts]),
    [
      ['queued', 0],
      ['queued', 0],
      ['queued', 0],
    ],
    'nothing leased after stop()',
  );
});

t.test('a full batch is followed at once by the next lease; capacity bounds what is in hand', async (t) => {
  await queueJobs(30);
  let inWork = 0;
  let mostInWork = 0;
  let release: () => void = () => {};
  let gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const queue = jobQueue('w', {
    perItem: true,
    hold: async () => {
      inWork += 1;
      mostInWork = Math.max(mostInWork, inWork);
      await gate;
      inWork -= 1;
    },
  });
  const worker = new QueueWorker({ name: 'w', queue, capacity: 12, batchSize: 4, pollMs: 3_600_000, logger });
  worker.start();
  t.ok(await eventually(() => inWork === 12), 'three full batches leased without waiting for the poll');
  t.equal(worker.stats.leases, 3, 'no lease while every slot is taken');
  const open = () => {
    release();
    gate = new Promise<void>((resolve) => {
      release = resolve;
    });
  };
  open();
  await eventually(async () => {
    open();
    return (await statuses()).every((r) => r.status === 'done');
  }, 30_000);
  release();
  await worker.stop();
  t.ok(mostInWork <= 12, `never more than the capacity in hand (${mostInWork})`);
  t.equal(queue.settled, 30);
});

t.test('while paused nothing is leased; when the pause ends the worker leases at once', async (t) => {
  let resume: () => void = () => {};
  let pause: Promise<void> | undefined = new Promise<void>((resolve) => {
    resume = resolve;
  });
  const worker = new QueueWorker({
    name: 'w',
    queue: jobQueue('w'),
    capacity: 10,
    pollMs: 3_600_000,
    logger,
    paused: () => pause,
  });
  await queueJobs(3);
  worker.start();
  worker.wake();
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(worker.stats.leases, 0, 'nothing leased during the pause, wake-ups or not');
  pause = undefined;
  resume();
  t.ok(
    await eventually(async () => (await statuses()).every((r) => r.status === 'done'), 30_000),
    'all three worked after the pause, long before the poll',
  );
  await worker.stop();
});

t.test('with batches bounded, a wake-up does not lease more while the batches in hand are out', async (t) => {
  let release: () => void = () => {};
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const worker = new QueueWorker({
    name: 'w',
    queue: jobQueue('w', { hold: () => gate }),
    capacity: 12,
    batchSize: 4,
    batches: 1,
    pollMs: 3_600_000,
    logger,
  });
  await queueJobs(2);
  worker.start();
  await eventually(async () => (await db.selectFrom('work_log').selectAll().execute()).length === 2);
  await queueJobs(2);
  worker.wake();
  await new Promise((resolve) => setTimeout(resolve, 100));
  t.equal(worker.stats.leases, 1, 'one batch of two in hand, slots free, and still no second lease');
  release();
  t.ok(
    await eventually(async () => (await statuses()).every((r) => r.status === 'done'), 30_000),
    'the next two leased once the first batch was settled',
  );
  await worker.stop();
});
