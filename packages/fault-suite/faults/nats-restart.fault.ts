/**
 * (2) The test's own nats-server is killed (kill -9) under a load of registrations and deal changes with a
 * webhook endpoint subscribed, and started again on the same port and store. The services are not
 * restarted. Afterwards every committed registration has exactly one confirmation mail and every committed
 * deal change exactly one webhook delivery.
 */
import { eventually } from '@citydeals/testkit';
import t from 'tap';
import { loadThroughOutage, sleep } from '../src/outage.ts';
import { System } from '../src/system.ts';

const system = await System.start({ nats: 'own' });
t.teardown(() => system.close());

t.test('nats-server kill -9 and restart under load: nothing lost, nothing doubled', async (t) => {
  let committedWhileDown = 0;
  let waitingInOutbox = 0;
  await loadThroughOutage(t, system, async (load) => {
    await system.ownNats!.stop('SIGKILL');
    const before = load.committed;
    t.comment(`nats-server killed after ${load.done} operations`);
    // The outbox keeps what is committed meanwhile; the relay cannot publish it.
    waitingInOutbox =
      (await eventually(async () => {
        const n = await system.count('registration.outbox', 'published_at is null');
        return n > 0 ? n : undefined;
      }, 10_000)) ?? 0;
    await sleep(3_000);
    committedWhileDown = load.committed - before;
    await system.ownNats!.start();
    t.comment(`nats-server restarted after ${load.done} operations`);
  });
  t.ok(waitingInOutbox > 0, `events waited in the outbox while the broker was down (${waitingInOutbox})`);
  t.ok(committedWhileDown > 0, `writes kept committing while the broker was down (${committedWhileDown})`);
});
