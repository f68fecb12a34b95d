/**
 * (4) The services reach Postgres and NATS through TCP proxies; under a load of registrations and deal
 * changes with a webhook endpoint subscribed both proxies blackhole every connection for 5 s (bytes held,
 * connections open, as a dead network path), then reset every connection and carry bytes again. The
 * services are not restarted. Operations whose answer was lost are resolved from the database; every
 * committed one has exactly one effect.
 */
import t from 'tap';
import { loadThroughOutage, sleep } from '../src/outage.ts';
import { System } from '../src/system.ts';

const system = await System.start({ proxied: true });
t.teardown(() => system.close());

t.test('Postgres and NATS blackholed for 5 s, then reset: nothing lost, nothing doubled', async (t) => {
  let failedBefore = 0;
  const figures = await loadThroughOutage(t, system, async (load) => {
    const { postgres, nats } = system.proxies!;
    failedBefore = load.failed;
    await Promise.all([postgres.blackhole(), nats.blackhole()]);
    t.comment(`blackholed after ${load.done} operations`);
    await sleep(5_000);
    await Promise.all([postgres.resetAll(), nats.resetAll()]);
    await Promise.all([postgres.heal(), nats.heal()]);
    t.comment(`connections reset and network healed after ${load.done} operations`);
  });
  t.ok(
    figures.failedDuringOutage > failedBefore,
    `the cut really failed requests (${figures.failedDuringOutage} without a definite answer)`,
  );
});
