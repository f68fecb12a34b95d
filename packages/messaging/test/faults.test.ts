import { eventually, startOwnNats, startOwnPostgres, startTcpProxy, testServers } from '@citydeals/testkit';
import t, { type Test } from 'tap';
import { OutboxRelay, outboxWritten } from '../src/index.ts';
import {
  countUnpublished,
  type Messaging,
  quietLogger,
  recordItem,
  SCHEMA,
  setupMessaging,
  startCountingConsumer,
} from './fixture.ts';

/**
 * The relay and a consumer run while a writer commits items; `fault` breaks something mid-way. Afterwards
 * every committed item (Postgres is the truth) must have been applied exactly once by the consumer.
 */
async function runThroughFault(t: Test, m: Messaging, fault: () => Promise<void>, total = 600) {
  const relay = new OutboxRelay({
    pool: m.pool,
    schema: SCHEMA,
    nc: m.nc,
    namespace: m.ns,
    logger: quietLogger,
    publishTimeoutMs: 1_000,
    pollIntervalMs: 200,
  });
  t.teardown(m.onCommit(outboxWritten, () => relay.wake()));
  relay.start();
  t.teardown(() => relay.stop());
  const { runner, received: receivedRows } = await startCountingConsumer(m, {
    retry: { initialDelayMs: 100, maxDelayMs: 1_000, maxDeliveries: 1_000 },
    ackWaitMs: 3_000,
  });
  t.teardown(() => runner.stop());

  let attempts = 0;
  let failedWrites = 0;
  const writer = (async () => {
    while (attempts < total) {
      attempts += 1;
      try {
        await m.db.transaction().execute((trx) => recordItem(trx, attempts));
      } catch {
        // An outage: the write may or may not have committed; Postgres says afterwards which did.
        failedWrites += 1;
        await new Promise((r) => setTimeout(r, 50));
      }
      if (attempts % 10 === 0) await new Promise((r) => setTimeout(r, 5));
    }
  })();
  await eventually(() => attempts >= total / 3, 60_000, 5);
  await fault();
  await writer;

  const committed = new Set(
    (await m.db.selectFrom('item').select('event_id').execute()).map((r) => r.event_id),
  );
  const received = await eventually(
    async () => {
      const rows = await receivedRows();
      return rows.length >= committed.size ? rows : undefined;
    },
    90_000,
    100,
  );
  t.ok(
    received,
    `all ${committed.size} committed items arrived (${failedWrites} writes failed during the fault)`,
  );
  t.same(new Set(received?.map((r) => r.event_id)), committed, 'exactly the committed items');
  t.equal(received?.filter((r) => r.times !== 1).length, 0, 'each applied once');
  // Marks trail the publishes (they ride with the relay's next fetch), so drained comes just after arrival.
  t.ok(await eventually(async () => (await countUnpublished(m)) === 0), 'the outbox is drained');
  return { committed: committed.size, failedWrites, relay, runner };
}

t.test('nats-server killed and restarted under load: nothing lost, nothing doubled', async (t) => {
  const nats = await startOwnNats();
  t.teardown(() => nats.close());
  const m = await setupMessaging({ natsUrl: nats.url });
  t.teardown(() => m.close());
  const statuses: string[] = [];
  void (async () => {
    for await (const status of m.nc.status()) statuses.push(status.type);
  })();
  await runThroughFault(t, m, async () => {
    await nats.stop('SIGKILL');
    await new Promise((r) => setTimeout(r, 1_500));
    await nats.start();
  });
  t.ok(
    statuses.includes('disconnect') && statuses.includes('reconnect'),
    'the connection really went down and came back',
  );
});

t.test(
  'Postgres crashed (pg_ctl stop -m immediate) and restarted under load: nothing lost, nothing doubled',
  async (t) => {
    const postgres = await startOwnPostgres();
    t.teardown(() => postgres.close());
    const m = await setupMessaging({ postgresAdminUrl: postgres.url });
    t.teardown(() => m.close());
    const { failedWrites } = await runThroughFault(t, m, async () => {
      postgres.stop('immediate');
      await new Promise((r) => setTimeout(r, 1_000));
      postgres.start();
    });
    t.ok(failedWrites > 0, 'the crash really interrupted the writer');
  },
);

t.test(
  'NATS and Postgres connections blackholed for 5 s, then reset: nothing lost, nothing doubled',
  async (t) => {
    const pgTarget = new URL(testServers.postgresAdminUrl);
    const natsTarget = new URL(testServers.natsUrl);
    const pgProxy = await startTcpProxy({ host: pgTarget.hostname, port: Number(pgTarget.port || 5432) });
    const natsProxy = await startTcpProxy({
      host: natsTarget.hostname,
      port: Number(natsTarget.port || 4222),
    });
    t.teardown(async () => {
      await pgProxy.close();
      await natsProxy.close();
    });
    const proxiedPg = new URL(testServers.postgresAdminUrl);
    proxiedPg.port = String(pgProxy.port);
    const m = await setupMessaging({
      postgresAdminUrl: proxiedPg.toString(),
      natsUrl: `nats://127.0.0.1:${natsProxy.port}`,
    });
    t.teardown(() => m.close());
    const { failedWrites } = await runThroughFault(t, m, async () => {
      pgProxy.blackhole();
      natsProxy.blackhole();
      await new Promise((r) => setTimeout(r, 5_000));
      pgProxy.resetAll();
      natsProxy.resetAll();
      pgProxy.heal();
      natsProxy.heal();
    });
    t.ok(failedWrites > 0, 'the cut really broke writes in flight');
  },
);
