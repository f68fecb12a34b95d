import { registrationConsumerFacts } from '@citydeals/contracts';
import { sql } from 'kysely';
import t from 'tap';
import { ConsumerLagWatch } from '../src/index.ts';
import { type Messaging, quietLogger, setupMessaging } from './fixture.ts';

let m: Messaging;
t.before(async () => {
  m = await setupMessaging();
});
t.teardown(() => m.close());

const reported = async () =>
  (
    await sql<{ payload: { subject: string; data: Record<string, unknown> } }>`
      select payload from svc.outbox where subject = ${registrationConsumerFacts.fellBehind.subject}
      order by id`.execute(m.db)
  ).rows.map((r) => r.payload);

t.test('the leader announces a durable that stays behind, through the outbox, at every check', async (t) => {
  const backlogs = new Map([
    ['slow', 5000],
    ['fine', 3],
  ]);
  let leader = false;
  let minute = 0;
  const watch = new ConsumerLagWatch({
    service: 'registration',
    db: m.db,
    consumers: () => [...backlogs.keys()].map((name) => ({ name, backlog: async () => backlogs.get(name)! })),
    isLeader: () => leader,
    policy: { threshold: 1000, afterMs: 10 * 60_000 },
    intervalMs: 60_000,
    clock: { now: () => new Date(Date.UTC(2026, 10, 23, 10, minute)) },
    logger: quietLogger,
  });
  t.same(await watch.runOnce(), [], 'a standby replica reports nothing');
  leader = true;
  for (minute = 0; minute < 10; minute++) t.same(await watch.runOnce(), [], `minute ${minute}: not yet`);
  t.same(await watch.runOnce(), ['slow'], 'ten minutes behind: reported');
  minute = 11;
  t.same(await watch.runOnce(), ['slow'], 'and again at the next check');
  backlogs.set('slow', 10);
  minute = 12;
  t.same(await watch.runOnce(), [], 'caught up');
  const events = await reported();
  t.equal(events.length, 2);
  t.match(events[0], {
    subject: 'slow',
    data: { consumer: 'slow', backlog: 5000, threshold: 1000, behindSince: '2026-11-23T10:00:00.000Z' },
  });
});
