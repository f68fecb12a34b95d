import { createTestDatabase } from '@citydeals/testkit';
import { Logger, makeWorkerUtils } from 'graphile-worker';
import { repoRoot, spawnTs } from '../processes.ts';
import { waitUntil } from '../services.ts';
import type { SmtpSink } from '../sinks.ts';
import type { RenderedMail } from './reminder-mail.ts';

export interface GraphileWorkerPeerOptions {
  mails: RenderedMail[];
  sink: SmtpSink;
  /** Jobs the worker runs at once. */
  concurrency: number;
  /** Pooled SMTP connections of the worker's nodemailer transport. */
  smtpConnections: number;
}

/**
 * The peer a team would otherwise pick for the reminders row: one graphile-worker job per mail, keyed by its
 * Message-ID (so a re-planned reminder replaces its job rather than adding a second one), all added in one
 * `addJobs` call to a worker already running in its own process (processes/graphile-worker.ts), on a
 * throwaway database of its own. The clock starts when that call has committed, as the system's starts when
 * its due reminders have; the caller reads the sink. Resolves once the sink holds as many mails as were
 * enqueued and every job has completed (graphile-worker deletes completed jobs).
 */
export async function runGraphileWorkerPeer(
  options: GraphileWorkerPeerOptions,
): Promise<{ started: number }> {
  const { mails, sink } = options;
  const database = await createTestDatabase('cd_bench_gw');
  let worker: Awaited<ReturnType<typeof spawnTs>> | undefined;
  let utils: Awaited<ReturnType<typeof makeWorkerUtils>> | undefined;
  try {
    worker = await spawnTs(
      `${repoRoot}packages/bench/src/processes/graphile-worker.ts`,
      [database.url, String(sink.port), String(options.concurrency), String(options.smtpConnections)],
      {},
      (out) => out.includes('ready'),
    );
    utils = await makeWorkerUtils({ connectionString: database.url, logger: new Logger(() => () => {}) });
    await utils.addJobs(
      mails.map((m) => ({ identifier: 'send_reminder', payload: m, jobKey: `reminder:${m.message_id}` })),
    );
    const started = Date.now();
    const running = worker;
    await waitUntil(
      async () => (await sink.count()) >= mails.length,
      420_000,
      async () =>
        `graphile-worker: SMTP server accepted ${await sink.count()} of ${mails.length} mails\n${running.output().slice(-2000)}`,
      50,
    );
    const left = async () =>
      utils!.withPgClient(async (c) => {
        const { rows } = await c.query<{ n: number }>('select count(*)::int as n from graphile_worker.jobs');
        return rows[0]!.n;
      });
    await waitUntil(
      async () => (await left()) === 0,
      60_000,
      async () => `graphile-worker: ${await left()} jobs not completed`,
      50,
    );
    return { started };
  } finally {
    await utils?.release();
    await worker?.stop();
    await database.drop();
  }
}
