import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { eventually, testServers } from '@citydeals/testkit';
import t from 'tap';
import { OutboxRelay } from '../src/index.ts';
import {
  countUnpublished,
  quietLogger,
  readStream,
  SCHEMA,
  setupMessaging,
  startCountingConsumer,
} from './fixture.ts';

t.test(
  'kill -9 of a publishing process during a burst of 1 000 writes loses and doubles nothing',
  async (t) => {
    const m = await setupMessaging();
    t.teardown(() => m.close());

    const writer = spawn(
      process.execPath,
      [
        '--import',
        'tsx',
        fileURLToPath(new URL('./fixtures/burst-writer.ts', import.meta.url)),
        m.database.url,
        testServers.natsUrl,
        m.ns.prefix,
        '1000',
      ],
      { stdio: ['ignore', 'pipe', 'inherit'] },
    );
    const reported: string[] = [];
    let buffered = '';
    writer.stdout.on('data', (chunk: Buffer) => {
      buffered += chunk.toString();
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) if (line.startsWith('committed ')) reported.push(line.slice(10));
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      writer.on('exit', (_code, signal) => resolve(signal)),
    );

    // Kill it mid-burst, while it is committing and its relay is publishing.
    await eventually(() => reported.length >= 300, 60_000, 5);
    writer.kill('SIGKILL');
    t.equal(await exited, 'SIGKILL', 'the writer was killed, not finished');
    const publishedBeforeKill = (await readStream(m)).length;

    // Postgres is the truth: what committed is what must arrive, whatever the writer managed to report.
    const committed = (await m.db.selectFrom('item').select('event_id').execute()).map((r) => r.event_id);
    t.ok(
      committed.length >= reported.length && committed.length < 1000,
      `${committed.length} committed before the kill`,
    );
    t.ok(
      reported.every((id) => committed.includes(id)),
      'every reported commit is in the database',
    );
    const unpublishedAtKill = await countUnpublished(m);
    t.comment(
      `at the kill: ${committed.length} committed, ${publishedBeforeKill} in the stream, ${unpublishedAtKill} unpublished`,
    );

    // Restart: a fresh relay and a consumer.
    const relay = new OutboxRelay({
      pool: m.pool,
      schema: SCHEMA,
      nc: m.nc,
      namespace: m.ns,
      logger: quietLogger,
    });
    relay.start();
    t.teardown(() => relay.stop());
    const { runner, received: receivedRows } = await startCountingConsumer(m);
    t.teardown(() => runner.stop());

    const received = await eventually(async () => {
      const rows = await receivedRows();
      return rows.length >= committed.length ? rows : undefined;
    }, 60_000);
    t.ok(received, 'every committed write reached the consumer');
    t.same(
      new Set(received!.map((r) => r.event_id)),
      new Set(committed),
      'exactly the committed writes, nothing else',
    );
    t.equal(received!.filter((r) => r.times !== 1).length, 0, 'each applied once');
    const stream = await readStream(m);
    t.equal(new Set(stream.map((e) => e.id)).size, stream.length, 'no event twice in the stream');
    t.ok(await eventually(async () => (await countUnpublished(m)) === 0), 'every row marked published');
  },
);
