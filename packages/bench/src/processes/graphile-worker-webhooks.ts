// The graphile-worker peer of the webhook row, in its own process like the notification service it stands
// beside: graphile-worker 0.17 with a `deliver_webhook` task, i.e. what a Node + Postgres team would write
// instead of the service's consumer, delivery worker and settlement. Each job is one delivery: it signs the
// body (Standard Webhooks, a fresh timestamp per attempt, the job's webhook-id on every attempt), POSTs it with
// undici (as many connections as jobs in flight), records the attempt in a `webhook_attempt` table of the same
// database and, on anything but a 2xx, throws so that graphile-worker retries the job with its backoff.
// Worker settings are the library's defaults apart from concurrency and the pool size its docs recommend for it
// (max(10, concurrency + 2)). argv: connectionString concurrency; prints "ready" once the worker is listening.
import { Logger, run } from 'graphile-worker';
import { Agent, request } from 'undici';
import type { WebhookJob } from '../peers/graphile-worker-webhooks.peer.ts';
import { standardWebhookHeaders } from '../peers/standard-webhooks.ts';

const [connectionString, concurrency] = process.argv.slice(2);
if (!connectionString || !concurrency) {
  throw new Error('usage: graphile-worker-webhooks.ts connectionString concurrency');
}

const agent = new Agent({ connections: Number(concurrency) });

const logger = new Logger(() => (level, message) => {
  if (level === 'error' || level === 'warning')
    process.stderr.write(`graphile-worker ${level}: ${message}\n`);
});

const runner = await run({
  connectionString,
  concurrency: Number(concurrency),
  maxPoolSize: Math.max(10, Number(concurrency) + 2),
  noHandleSignals: true,
  logger,
  taskList: {
    deliver_webhook: async (payload, helpers) => {
      const job = payload as WebhookJob;
      const startedAt = new Date();
      const started = performance.now();
      let status: number | null = null;
      let error: string | null = null;
      let body: string | null = null;
      try {
        const res = await request(job.url, {
          method: 'POST',
          dispatcher: agent,
          headers: {
            'content-type': 'application/cloudevents+json; charset=utf-8',
            ...standardWebhookHeaders(job.webhookId, startedAt, job.payload, job.secret),
          },
          body: job.payload,
          headersTimeout: 15_000,
          bodyTimeout: 15_000,
        });
        status = res.statusCode;
        body = (await res.body.text()).slice(0, 1024);
      } catch (err) {
        error = (err as Error).message;
      }
      const ok = status !== null && status >= 200 && status < 300;
      await helpers.query(
        `insert into webhook_attempt (message_id, attempt, started_at, duration_ms, status_code, error,
           response_body, outcome)
         values ($1, $2, $3, $4, $5, $6, $7, $8)`,
        [
          job.messageId,
          helpers.job.attempts,
          startedAt,
          Math.round(performance.now() - started),
          status,
          error ?? (ok ? null : `HTTP ${status}`),
          body,
          ok ? 'delivered' : 'failed',
        ],
      );
      if (!ok) throw new Error(error ?? `HTTP ${status}`);
    },
  },
});
process.stdout.write('ready\n');

process.on('SIGTERM', () => {
  void runner.stop().finally(() => {
    void agent.close();
    process.exit(0);
  });
});
