import { createTestDatabase } from '@citydeals/testkit';
import { Logger, makeWorkerUtils } from 'graphile-worker';
import { databaseCpuSeconds, databaseCpuSpent, repoRoot, spawnTs } from '../processes.ts';
import { waitUntil } from '../services.ts';
import type { WebhookReceiver } from '../sinks.ts';
import { PEER_SECRET } from './standard-webhooks.ts';

/** One delivery as a graphile-worker job: everything the task needs to sign, send and record it. */
export interface WebhookJob {
  messageId: string;
  webhookId: string;
  url: string;
  secret: string;
  payload: string;
}

export interface WebhookPeerResult {
  started: number;
  /** CPU seconds (user + system) the worker process used from the first job added to the last completed. */
  cpuSeconds: number;
  /** The same for the Postgres backends of the peer's database (the worker's pool and the adding of jobs). */
  databaseCpuSeconds: number;
  attemptsRecorded: number;
}

/**
 * The peer a team would otherwise pick for the webhook row: one graphile-worker job per delivery, on a
 * throwaway database of its own, run by a worker already started in its own process
 * (processes/graphile-worker-webhooks.ts) that signs, POSTs to the same receiver and records each attempt.
 * Jobs are added in chunks of 500, as the system's events are published, and the clock starts before the
 * first chunk, as the system's starts before the first publish; the caller reads the receiver. Resolves once
 * the receiver saw every webhook-id and every job has completed (graphile-worker deletes completed jobs).
 */
export async function runGraphileWorkerWebhookPeer(options: {
  bodies: { messageId: string; payload: string }[];
  receiver: WebhookReceiver;
  concurrency: number;
}): Promise<WebhookPeerResult> {
  const { bodies, receiver } = options;
  const database = await createTestDatabase('cd_bench_gwh');
  let worker: Awaited<ReturnType<typeof spawnTs>> | undefined;
  let utils: Awaited<ReturnType<typeof makeWorkerUtils>> | undefined;
  try {
    utils = await makeWorkerUtils({ connectionString: database.url, logger: new Logger(() => () => {}) });
    await utils.withPgClient((c) =>
      c.query(`create table webhook_attempt (
        id bigint generated always as identity primary key,
        message_id uuid not null,
        attempt int not null,
        started_at timestamptz not null,
        duration_ms int not null,
        status_code int,
        error text,
        response_body text,
        outcome text not null)`),
    );
    worker = await spawnTs(
      `${repoRoot}packages/bench/src/processes/graphile-worker-webhooks.ts`,
      [database.url, String(options.concurrency)],
      {},
      (out) => out.includes('ready'),
    );
    const cpuBefore = worker.cpuSeconds();
    const dbCpuBefore = await databaseCpuSeconds(database.name);
    const jobs = bodies.map(
      (b): WebhookJob => ({
        messageId: b.messageId,
        webhookId: `msg_${b.messageId.replaceAll('-', '')}`,
        url: receiver.url,
        secret: PEER_SECRET,
        payload: b.payload,
      }),
    );
    const started = Date.now();
    for (let i = 0; i < jobs.length; i += 500) {
      await utils.addJobs(
        jobs.slice(i, i + 500).map((payload) => ({ identifier: 'deliver_webhook', payload })),
      );
    }
    const running = worker;
    await waitUntil(
      async () => (await receiver.count()).distinct >= jobs.length,
      420_000,
      async () =>
        `graphile-worker: the receiver got ${JSON.stringify(await receiver.count())} of ${jobs.length}\n${running.output().slice(-2000)}`,
      50,
    );
    const count = (query: string) =>
      utils!.withPgClient(async (c) => (await c.query<{ n: number }>(query)).rows[0]!.n);
    await waitUntil(
      async () => (await count('select count(*)::int as n from graphile_worker.jobs')) === 0,
      60_000,
      async () =>
        `graphile-worker: ${await count('select count(*)::int as n from graphile_worker.jobs')} jobs left`,
      50,
    );
    const cpuSeconds = worker.cpuSeconds() - cpuBefore;
    const dbCpuSeconds = databaseCpuSpent(dbCpuBefore, await databaseCpuSeconds(database.name));
    const attemptsRecorded = await count(
      `select count(*)::int as n from webhook_attempt where outcome = 'delivered'`,
    );
    return { started, cpuSeconds, databaseCpuSeconds: dbCpuSeconds, attemptsRecorded };
  } finally {
    await utils?.release();
    await worker?.stop();
    await database.drop();
  }
}
