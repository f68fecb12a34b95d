import { DummyDriver, Kysely, PostgresAdapter, PostgresIntrospector, PostgresQueryCompiler } from 'kysely';
import t from 'tap';
import { shouldNotify, trailingWakeAt } from '../src/queue-signal.rules.ts';
import { QueueChannel, QueueSignal } from '../src/queue-signal.ts';

t.test('one NOTIFY per interval, a trailing wake-up for the transactions in between', async (t) => {
  t.ok(shouldNotify(undefined, 1_000, 25), 'the first transaction notifies');
  t.notOk(shouldNotify(1_000, 1_024, 25), 'within the interval: no NOTIFY');
  t.ok(shouldNotify(1_000, 1_025, 25), 'once the interval has passed');
  t.ok(shouldNotify(1_000, 900, 25), 'a clock that stepped back does not silence notifications');
  t.equal(trailingWakeAt(undefined, 25), undefined, 'nothing skipped: no trailing wake-up');
  t.equal(trailingWakeAt(1_010, 25), 1_035);

  let now = 5_000;
  const signal = new QueueSignal({ channel: new QueueChannel('_test'), throttleMs: 25, now: () => now });
  const woken = new Promise<number>((resolve) => signal.subscribe(() => resolve(now)));
  const decisions = [signal.queued(), signal.queued()];
  now += 10;
  decisions.push(signal.queued());
  now += 15;
  decisions.push(signal.queued());
  t.same(decisions, [true, false, false, true], 'one transaction per interval carries the NOTIFY');
  now = 5_100;
  // The wake-up timer does not hold the process open (unref), so the test does while it waits.
  const keepAlive = setTimeout(() => {}, 5_000);
  t.equal(await woken, 5_100, 'the skipped transactions wake this process’s workers');
  clearTimeout(keepAlive);
});

t.test('commits seen in this process wake at once; a flush only after something was queued', async (t) => {
  let clock = 1000;
  const signal = new QueueSignal({ channel: new QueueChannel('_test'), throttleMs: 20, now: () => clock });
  let wakes = 0;
  const unsubscribe = signal.subscribe(() => {
    wakes += 1;
  });
  t.ok(signal.queued(), 'the first transaction notifies');
  clock = 1005;
  t.notOk(signal.queued(), 'the next one within the interval does not');
  t.equal(wakes, 0, 'not woken before that transaction can have committed');
  clock = 1030;
  const keepAlive = setTimeout(() => {}, 5_000);
  await new Promise((r) => setTimeout(r, 60));
  clearTimeout(keepAlive);
  t.equal(wakes, 1, 'woken once after the interval');
  signal.committed();
  t.equal(wakes, 2, 'a commit seen by this process wakes at once');
  signal.flush();
  t.equal(wakes, 3, 'a flush after queueing transactions committed wakes at once');
  signal.flush();
  t.equal(wakes, 3, 'a flush with nothing queued since the last one wakes nobody');
  clock = 1100;
  signal.queued();
  signal.flush();
  t.equal(wakes, 4, 'the next queueing transaction is flushed again');
  unsubscribe();
  signal.committed();
  t.equal(wakes, 4, 'an unsubscribed worker is not woken');
});

t.test('the NOTIFY names the channel of the schema it runs in', async (t) => {
  const signal = new QueueSignal({ channel: new QueueChannel('.webhook_delivery'), throttleMs: 20 });
  const { sql, parameters } = compile(signal.notifyExpression());
  t.equal(sql, `pg_notify(current_schema() || $1, '')`);
  t.same(parameters, ['.webhook_delivery']);
});

/** Compiles without a database, as Postgres would get it. */
const dummyDb = new Kysely<unknown>({
  dialect: {
    createAdapter: () => new PostgresAdapter(),
    createDriver: () => new DummyDriver(),
    createIntrospector: (db) => new PostgresIntrospector(db),
    createQueryCompiler: () => new PostgresQueryCompiler(),
  },
});

function compile(expression: ReturnType<QueueSignal['notifyExpression']>) {
  return expression.compile(dummyDb);
}
