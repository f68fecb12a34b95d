import { createQuickTestDatabase, eventually, startTcpProxy, withAdmin } from '@citydeals/testkit';
import t from 'tap';
import { createPool } from '../src/index.ts';

t.test(
  'a connection lost while its session settings are applied fails the checkout, not the process',
  async (t) => {
    const database = await createQuickTestDatabase();
    t.teardown(() => database.drop());
    const target = new URL(database.url);
    const proxy = await startTcpProxy({ host: target.hostname, port: Number(target.port || 5432) });
    t.teardown(() => proxy.close());
    const proxied = new URL(database.url);
    proxied.port = String(proxy.port);
    const applicationName = `settings-cut-${process.pid}`;
    // The settings statement is made slow, so that the connection can be cut while it runs, as a database
    // crash can cut it: with no error message from the server, between connecting and the pool taking the client.
    const pool = createPool({
      connectionString: proxied.toString(),
      schema: 'public',
      applicationName,
      settings: { statement_timeout: '0; select pg_sleep(3)' },
    });
    t.teardown(() => pool.end());
    const checkout = pool.connect().then(
      (client) => {
        client.release();
        return 'connected';
      },
      (err: Error) => err.message,
    );
    const sleeping = await eventually(async () => {
      const { rowCount } = await withAdmin((c) =>
        c.query(`select 1 from pg_stat_activity where application_name = $1 and query like '%pg_sleep%'`, [
          applicationName,
        ]),
      );
      return (rowCount ?? 0) > 0;
    });
    t.ok(sleeping, 'the settings are being applied');
    proxy.resetAll();
    t.match(await checkout, /terminated|ECONNRESET|closed/, 'the checkout fails');
    // Unheard, the lost connection's 'error' would have been an uncaught exception, which tap reports.
    await new Promise((resolve) => setTimeout(resolve, 200));
  },
);
