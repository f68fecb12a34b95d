import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { OutboxRelay, outboxWritten } from '../src/index.ts';
import {
  countUnpublished,
  type Messaging,
  quietLogger,
  readStream,
  recordItem,
  SCHEMA,
  setupMessaging,
} from './fixture.ts';

let m: Messaging;
t.before(async () => {
  m = await setupMessaging();
});
t.teardown(() => m.close());

/** A relay woken by this process's commits, as the service kit wires it, unless `wake` is false. */
function relay(options: Partial<ConstructorParameters<typeof OutboxRelay>[0]> = {}, wake = true) {
  const r = new OutboxRelay({
    pool: m.pool,
    schema: SCHEMA,
    nc: m.nc,
    namespace: m.ns,
    logger: quietLogger,
    pollIntervalMs: 10_000,
    standbyRetryMs: 100,
    ...options,
  });
  if (wake) {
    const unsubscribe = m.onCommit(outboxWritten, () => r.wake());
    const stop = r.stop.bind(r);
    r.stop = async () => {
      unsubscribe();
      await stop();
    };
  }
  r.start();
  return r;
}

t.test('a row whose transaction started first but commits last is still published', async (t) => {
  const r = relay();
  t.teardown(() => r.stop());
  const before = (await readStream(m)).length;

  // The early transaction takes the lower id and holds it open while a later one commits.
  let releaseEarly!: () => void;
  const held = new Promise<void>((resolve) => {
    releaseEarly = resolve;
  });
  let earlyId = '';
  const early = m.db.transaction().execute(async (trx) => {
    earlyId = (await recordItem(trx, 1)).id;
    await held;
  });
  await eventually(() => earlyId !== '');
  const late = await m.db.transaction().execute((trx) => recordItem(trx, 2));

  const afterLate = await eventually(async () => (await readStream(m)).length === before + 1);
  t.ok(afterLate, 'the later commit is published while the earlier transaction is still open');
  const [earlyRow] = (
    await m.db.selectFrom('outbox').select(['id', 'event_id']).where('event_id', '=', late.id).execute()
  ).map((r) => r);
  t.ok(earlyRow, 'late row is in the outbox');

  releaseEarly();
  await early;
  const all = await eventually(async () => {
    const s = await readStream(m);
    return s.length === before + 2 ? s : undefined;
  });
  t.ok(all, 'the early row, committed last, is published too');
  const ids = all!.slice(before).map((e) => e.id);
  t.same(ids, [late.id, earlyId], 'published in commit order, the lower id after the higher one');
  t.ok(await eventually(async () => (await countUnpublished(m)) === 0), 'both marked published');
});

t.test('with two replicas one leads, order is kept and nothing is doubled', async (t) => {
  const a = relay();
  const b = relay();
  t.teardown(async () => {
    await a.stop();
    await b.stop();
  });
  await eventually(() => a.stats.leader || b.stats.leader);
  const before = (await readStream(m)).length;
  const written: string[] = [];
  for (let n = 0; n < 200; n++) {
    written.push((await m.db.transaction().execute((trx) => recordItem(trx, 1000 + n))).id);
  }
  const stream = await eventually(async () => {
    const s = await readStream(m);
    return s.length >= before + 200 ? s : undefined;
  });
  t.ok(stream, 'all 200 events reached the stream');
  t.same(
    stream!.slice(before).map((e) => e.id),
    written,
    'stream order equals commit order and no event appears twice',
  );
  t.equal(Number(a.stats.leader) + Number(b.stats.leader), 1, 'exactly one leader');
  t.equal(a.stats.published + b.stats.published, 200);

  // The leader goes away: the standby takes over and publishes what comes next.
  const [leader, standby] = a.stats.leader ? [a, b] : [b, a];
  await leader.stop();
  const next = await m.db.transaction().execute((trx) => recordItem(trx, 5000));
  const tail = await eventually(async () => (await readStream(m)).at(-1)?.id === next.id);
  t.ok(tail, 'the standby published after the leader stopped');
  t.ok(standby.stats.leader, 'the standby became leader');
});

t.test('a re-publish after a crash between publish and mark is a duplicate to JetStream', async (t) => {
  const before = (await readStream(m)).length;
  const event = await m.db.transaction().execute((trx) => recordItem(trx, 7));
  // What a relay that died after publishing left behind: the message is in the stream, the row unmarked.
  const first = await m.js.publish(m.ns.subject('registration.item.recorded'), JSON.stringify(event), {
    msgID: event.id,
  });
  t.equal(first.duplicate, false);
  t.equal(await countUnpublished(m), 1);

  const r = relay();
  t.teardown(() => r.stop());
  t.ok(await eventually(async () => (await countUnpublished(m)) === 0), 'the restarted relay marks the row');
  const stream = await readStream(m);
  t.equal(stream.length, before + 1, 'the stream holds the event once');
  t.equal(stream.filter((e) => e.id === event.id).length, 1);
});

t.test("a commit in the relay's own process wakes it; its poll is never needed", async (t) => {
  // The poll would first come after ten minutes, far beyond `eventually`'s wait.
  const r = relay({ pollIntervalMs: 600_000 });
  t.teardown(() => r.stop());
  await eventually(() => r.stats.leader);
  await eventually(async () => (await countUnpublished(m)) === 0);
  const event = await m.db.transaction().execute((trx) => recordItem(trx, 9));
  const seen = await eventually(async () => (await readStream(m)).some((e) => e.id === event.id), 30_000, 20);
  t.ok(seen, 'published after the wake, without a poll');
});

t.test('a stream of commits goes out in a few rounds; a commit after a quiet spell at once', async (t) => {
  /** Rounds the relay needs for 20 commits made one after another, 10 ms apart. */
  async function roundsFor20Commits(roundIntervalMs: number) {
    const r = relay({ pollIntervalMs: 600_000, roundIntervalMs });
    t.teardown(() => r.stop());
    await eventually(() => r.stats.leader);
    await eventually(async () => (await countUnpublished(m)) === 0);
    // Quiet for longer than the interval: the next commit must not wait for it.
    await new Promise((resolve) => setTimeout(resolve, roundIntervalMs + 50));
    const publishedBefore = r.stats.published;
    await m.db.transaction().execute((trx) => recordItem(trx, 11));
    const committedAt = performance.now();
    await eventually(() => r.stats.published > publishedBefore, 30_000, 1);
    const loneMs = performance.now() - committedAt;
    const before = r.stats.rounds;
    const ids: string[] = [];
    for (let n = 0; n < 20; n++) {
      ids.push((await m.db.transaction().execute((trx) => recordItem(trx, 100 + n))).id);
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
    await eventually(async () => {
      const published = new Set((await readStream(m)).map((e) => e.id));
      return ids.every((id) => published.has(id));
    });
    const rounds = r.stats.rounds - before;
    await r.stop();
    return { loneMs, rounds };
  }
  const spaced = await roundsFor20Commits(300);
  const eager = await roundsFor20Commits(0);
  t.ok(
    spaced.loneMs < 150,
    `the lone commit went out in ${Math.round(spaced.loneMs)} ms, not after the interval`,
  );
  // 20 commits over ≈ 250–300 ms at one round per 300 ms at most; woken by every commit otherwise.
  t.ok(spaced.rounds <= 3, `${spaced.rounds} rounds with a 300 ms interval`);
  t.ok(eager.rounds >= 10, `${eager.rounds} rounds without one`);
});

t.test('commits of another process (nobody wakes the relay) are found by the poll', async (t) => {
  const r = relay({ pollIntervalMs: 50 }, false);
  t.teardown(() => r.stop());
  await eventually(() => r.stats.leader);
  await eventually(async () => (await countUnpublished(m)) === 0);
  const event = await m.db.transaction().execute((trx) => recordItem(trx, 10));
  const seen = await eventually(async () => (await readStream(m)).some((e) => e.id === event.id));
  t.ok(seen, 'published by the poll');
  t.ok(await eventually(async () => (await countUnpublished(m)) === 0), 'and marked');
});

t.test(
  'without a wake and with a long poll, nothing is published: the wake above is what worked',
  async (t) => {
    const r = relay({ pollIntervalMs: 600_000 }, false);
    t.teardown(() => r.stop());
    await eventually(() => r.stats.leader);
    await eventually(async () => (await countUnpublished(m)) === 0);
    const published = r.stats.published;
    await m.db.transaction().execute((trx) => recordItem(trx, 11));
    // Let a spurious wake-up (if there were one) run its course before looking.
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    t.equal(r.stats.published, published, 'the relay slept through the commit');
    t.equal(await countUnpublished(m), 1, 'the row waits for the poll');
    r.wake();
    t.ok(await eventually(async () => (await countUnpublished(m)) === 0), 'a wake publishes it');
  },
);

t.test(
  'under steady commits each fetch marks what was published before it; nothing is published twice',
  async (t) => {
    // The relay's statements, as its connection sends them.
    const statements: string[] = [];
    const preparedFetches: string[] = [];
    const countingPool = {
      async connect() {
        const client = await m.pool.connect();
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as { query: unknown }).query = (text: unknown, ...rest: unknown[]) => {
          // The fetch goes as a named (prepared) statement: a config object carrying its text.
          const sent = typeof text === 'string' ? text : (text as { text?: unknown } | null)?.text;
          if (typeof sent === 'string') statements.push(sent);
          const name = (text as { name?: unknown } | null)?.name;
          if (typeof name === 'string') preparedFetches.push(name);
          return query(text, ...rest);
        };
        return client;
      },
    } as unknown as typeof m.pool;
    const r = relay({ pool: countingPool, pollIntervalMs: 600_000 });
    t.teardown(() => r.stop());
    await eventually(() => r.stats.leader);
    await eventually(async () => (await countUnpublished(m)) === 0);
    const published = r.stats.published;
    statements.length = 0;
    preparedFetches.length = 0;
    const ids: string[] = [];
    for (let i = 0; i < 40; i += 1) {
      ids.push((await m.db.transaction().execute((trx) => recordItem(trx, 100 + i))).id);
      await new Promise((resolve) => setTimeout(resolve, 3));
    }
    t.ok(await eventually(async () => (await countUnpublished(m)) === 0), 'every row marked in the end');
    t.equal(r.stats.published - published, 40, 'each row published once');
    const stream = await readStream(m);
    t.ok(
      ids.every((id) => stream.filter((e) => e.id === id).length === 1),
      'each event once in the stream',
    );
    const fetchesWithMarks = statements.filter((s) => s.includes('with marked as')).length;
    const markAlone = statements.filter((s) => s.trimStart().startsWith('update')).length;
    t.ok(fetchesWithMarks >= 2, `${fetchesWithMarks} fetches`);
    t.equal(preparedFetches.length, fetchesWithMarks, 'each fetch runs as a prepared statement');
    t.ok(
      // At least half ride along; how many depends on scheduling, which a loaded machine stretches.
      markAlone <= Math.max(2, fetchesWithMarks / 2),
      `marks mostly ride with the next fetch: ${markAlone} marked on their own, ${fetchesWithMarks} fetches`,
    );
  },
);
