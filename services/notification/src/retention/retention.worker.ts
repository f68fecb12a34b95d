import { RetentionJob } from '@citydeals/messaging';
import { ConfigError, type ServiceRuntime, type ServiceWorker, systemClock } from '@citydeals/service-kit';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import { notificationPruneTasks } from './retention.repository.ts';
import {
  type NotificationRetention,
  notificationCutoffs,
  notificationRetentionProblems,
} from './retention.rules.ts';

export function notificationRetention(config: Config): NotificationRetention {
  return {
    mailBodyMs: config.RETENTION_MAIL_BODY_MS,
    webhookMs: config.RETENTION_WEBHOOK_MS,
    streamMaxAgeMs: config.NATS_STREAM_MAX_AGE_MS,
  };
}

/**
 * Reduces old mails to their log line and deletes old webhook deliveries, in small batches, on one replica
 * at a time (its own lock, next to the messaging tables' job that the runtime runs).
 */
export function retentionWorker(
  runtime: ServiceRuntime<Database>,
  config: Config,
): ServiceWorker & {
  job: RetentionJob;
} {
  const policy = notificationRetention(config);
  const problems = notificationRetentionProblems(policy);
  if (problems.length) throw new ConfigError(problems);
  const job = new RetentionJob({
    pool: runtime.pool,
    lockKey: `retention:${runtime.schema}:notification`,
    tasks: (now) => notificationPruneTasks(notificationCutoffs(policy, now)),
    clock: systemClock,
    logger: runtime.logger.child({ feature: 'retention' }),
    intervalMs: config.RETENTION_INTERVAL_MS,
    batchSize: config.RETENTION_BATCH_SIZE,
  });
  return { name: 'retention', job, start: () => job.start(), stop: () => job.stop() };
}
