import {
  type Clock,
  createService,
  newEventId,
  type ServiceDefinition,
  systemClock,
} from '@citydeals/service-kit';
import { app } from './app.ts';
import type { Config } from './config.ts';
import { dealTrackingEventsConsumer } from './consumers/deal-tracking-events.consumer.ts';
import { operationalAlertConsumers } from './consumers/operational-alerts.consumer.ts';
import { publicMeetingEventsConsumer } from './consumers/public-meeting-events.consumer.ts';
import { registrationEventsConsumer } from './consumers/registration-events.consumer.ts';
import type { Database } from './db/database.ts';
import { migrations } from './db/migrations.ts';
import { emailContextFor, emailWorkers } from './email/email.module.ts';
import { retentionWorker } from './retention/retention.worker.ts';
import { deliveryWorkersOf } from './webhooks/webhook.context.ts';

export const definition: ServiceDefinition<Database, Config> = {
  service: 'notification',
  migrations,
  consumers: [dealTrackingEventsConsumer, publicMeetingEventsConsumer],
  workers: ({ runtime, config }) => [...deliveryWorkersOf(runtime, config), retentionWorker(runtime, config)],
  http: {
    title: 'Notification service',
    description: 'City Deals Community of Practice — Notification service.',
    tags: [
      {
        name: 'webhooks',
        description: 'Signed webhooks that sync deal changes and public meeting changes to other systems',
      },
      { name: 'emails', description: 'Delivery log of attendee mails and one-click unsubscribe' },
    ],
  },
  app,
};

/**
 * `clock` replaces the system clock of reminder schedules and mail expiry, `alertClock` that of the
 * once-per-window rule of alerts (tests).
 */
export function startService(config: Config, options: { clock?: Clock; alertClock?: Clock } = {}) {
  // The email feature's consumer and workers need the config, which the static definition does not have.
  const email = emailContextFor(config, options.clock);
  const alerts = operationalAlertConsumers({
    clock: options.alertClock ?? systemClock,
    wallClock: systemClock,
    newId: newEventId,
    settings: config,
    messageIdDomain: config.MAIL_MESSAGE_ID_DOMAIN,
  });
  return createService(
    {
      ...definition,
      consumers: [...(definition.consumers ?? []), registrationEventsConsumer(email), ...alerts],
      workers: (context) => [...(definition.workers?.(context) ?? []), ...emailWorkers(context, email)],
    },
    config,
  );
}
