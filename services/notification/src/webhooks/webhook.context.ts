import { randomBytes } from 'node:crypto';
import { newEventId, type ServiceRuntime, systemClock } from '@citydeals/service-kit';
import type { QueueSignal } from '@citydeals/work-queue';
import type { Config } from '../config.ts';
import type { Database } from '../db/database.ts';
import type { DirectDeliveries } from './delivery.handoff.ts';
import { createSender } from './delivery.sender.ts';
import { WebhookDeliveryWorker } from './delivery.worker.ts';
import type { EndpointDeps } from './endpoint.service.ts';
import { createSecretCipher } from './secret.cipher.ts';
import type { ResolveAll } from './ssrf.guard.ts';
import type { AllowList } from './ssrf.rules.ts';

export function allowListOf(config: Config): AllowList {
  return {
    hosts: config.WEBHOOK_ALLOWED_HOSTS,
    cidrs: config.WEBHOOK_ALLOWED_CIDRS,
    ports: config.WEBHOOK_ALLOWED_PORTS,
  };
}

/** What the endpoint routes need, built from the service's runtime and config. */
export function endpointDepsOf(runtime: ServiceRuntime<Database>, config: Config): EndpointDeps {
  return {
    db: runtime.db,
    clock: systemClock,
    newId: newEventId,
    randomBytes,
    cipher: createSecretCipher(config.WEBHOOK_SECRET_KEY),
    allow: allowListOf(config),
    rotationGraceMs: config.WEBHOOK_ROTATION_GRACE,
  };
}

/**
 * The delivery worker of this replica, or none when WEBHOOK_CONCURRENCY is 0 (an API-only replica), woken
 * by `wakeUp` (the context's `deliveries`). `resolveAll` replaces DNS, for tests that play a rebinding DNS
 * server; `direct` is the hand-off from this service instance's consumer (the context's).
 */
export function deliveryWorkersOf(
  runtime: ServiceRuntime<Database>,
  config: Config,
  wakeUp: QueueSignal,
  resolveAll?: ResolveAll,
  direct?: DirectDeliveries,
): WebhookDeliveryWorker[] {
  const cipher = createSecretCipher(config.WEBHOOK_SECRET_KEY);
  if (!cipher.encrypts) {
    runtime.logger.warn('WEBHOOK_SECRET_KEY is not set: webhook signing secrets are stored unencrypted');
  }
  if (config.WEBHOOK_CONCURRENCY === 0) return [];
  const sender = createSender({
    allow: allowListOf(config),
    timeoutMs: config.WEBHOOK_ATTEMPT_TIMEOUT,
    maxSockets: config.WEBHOOK_CONCURRENCY,
    ...(resolveAll ? { resolveAll } : {}),
  });
  return [
    new WebhookDeliveryWorker({
      db: runtime.indexPlannedDb,
      wakeUp,
      listen: () =>
        wakeUp.listen(runtime.pool, {
          schema: runtime.schema,
          retryMs: config.WEBHOOK_POLL_INTERVAL,
          logger: runtime.logger,
        }),
      logger: runtime.logger,
      send: sender.send,
      closeSender: sender.close,
      cipher,
      policy: {
        retry: { delaysMs: config.WEBHOOK_RETRY_SCHEDULE, jitter: config.WEBHOOK_RETRY_JITTER },
        disableAfterMs: config.WEBHOOK_DISABLE_AFTER,
      },
      concurrency: config.WEBHOOK_CONCURRENCY,
      pollIntervalMs: config.WEBHOOK_POLL_INTERVAL,
      attemptTimeoutMs: config.WEBHOOK_ATTEMPT_TIMEOUT,
      orderWaitMs: config.WEBHOOK_ORDER_WAIT_LIMIT,
      clock: systemClock,
      newId: newEventId,
      random: Math.random,
      direct,
    }),
  ];
}
