/**
 * (3) The test's own Postgres crashes (`pg_ctl stop -m immediate`: no checkpoint, every connection cut)
 * under a load of registrations and deal changes with a webhook endpoint subscribed, and is started again
 * (crash recovery). The services are not restarted. Operations whose answer was lost are resolved from the
 * database; every committed one has exactly one effect.
 */
import t from 'tap';
import { loadThroughOutage, sleep } from '../src/outage.ts';
import { System } from '../src/system.ts';

const system = await System.start({ postgres: 'own' });
t.teardown(() => system.close());

t.test(
  'Postgres crash (pg_ctl stop -m immediate) and restart under load: nothing lost, nothing doubled',
  async (t) => {
    let failedBefore = 0;
    const figures = await loadThroughOutage(t, system, async (load) => {
      failedBefore = load.failed;
      system.ownPostgres!.stop('immediate');
      t.comment(`Postgres crashed after ${load.done} operations`);
      await sleep(2_000);
      system.ownPostgres!.start();
      t.comment(`Postgres started again after ${load.done} operations`);
    });
    t.ok(
      figures.failedDuringOutage > failedBefore,
      `the crash really failed requests (${figures.failedDuringOutage} without a definite answer)`,
    );
  },
);
