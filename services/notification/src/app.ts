import { type Feature, featureRoutes, systemClock } from '@citydeals/service-kit';
import type { Config } from './config.ts';
import { dealTrackingEventsConsumer } from './consumers/deal-tracking-events.consumer.ts';
import { operationalAlertConsumers } from './consumers/operational-alerts.consumer.ts';
import { publicMeetingEventsConsumer } from './consumers/public-meeting-events.consumer.ts';
import { registrationEventsConsumer } from './consumers/registration-events.consumer.ts';
import type { ServiceContext } from './context.ts';
import type { Database } from './db/database.ts';
import { emailWorkers } from './email/email.module.ts';
import { emailRoutes } from './email/email.routes.ts';
import { reminderMailsOf } from './email/reminder.mails.ts';
import { mailTextRoutes } from './mail-texts/mail-text.routes.ts';
import { messageRoutes } from './messages/message.routes.ts';
import { ReminderDispatcher } from './reminders/reminder.dispatcher.ts';
import { retentionWorker } from './retention/retention.worker.ts';
import { deliveryRoutes } from './webhooks/delivery.routes.ts';
import { endpointRoutes } from './webhooks/endpoint.routes.ts';
import { deliveryWorkersOf } from './webhooks/webhook.context.ts';

/** The service, feature by feature: each brings its routes, consumers and workers. */
export const features: readonly Feature<Database, ServiceContext, Config>[] = [
  {
    name: 'webhook endpoints',
    routes: endpointRoutes,
    consumers: ({ ctx }) => [
      dealTrackingEventsConsumer(ctx.deliveries, ctx.directDeliveries),
      publicMeetingEventsConsumer(ctx.deliveries),
    ],
  },
  {
    name: 'webhook deliveries',
    routes: deliveryRoutes,
    workers: ({ runtime, config, ctx }) =>
      deliveryWorkersOf(runtime, config, ctx.deliveries, undefined, ctx.directDeliveries),
  },
  {
    name: 'email',
    routes: emailRoutes,
    consumers: ({ ctx }) => [registrationEventsConsumer(ctx.email)],
    workers: ({ runtime, config, ctx }) => emailWorkers({ runtime, config }, ctx.email),
  },
  {
    name: 'reminders',
    // Reminders hand their mails to the email feature's queue; the two meet here, neither imports the other.
    workers: ({ runtime, config, ctx }) => [
      new ReminderDispatcher(
        runtime.indexPlannedDb,
        { clock: ctx.email.clock, mails: reminderMailsOf(ctx.email) },
        { batchSize: config.MAIL_BATCH_SIZE * 4, pollMs: config.REMINDER_POLL_MS },
        runtime.logger.child({ feature: 'reminders' }),
      ),
    ],
  },
  { name: 'messages', routes: messageRoutes },
  { name: 'mail texts', routes: mailTextRoutes },
  { name: 'retention', workers: ({ runtime, config }) => [retentionWorker(runtime, config)] },
  {
    name: 'operational alerts',
    consumers: ({ ctx, config }) =>
      operationalAlertConsumers({
        clock: ctx.alertClock,
        wallClock: systemClock,
        newId: ctx.newId,
        settings: config,
        messageIdDomain: config.MAIL_MESSAGE_ID_DOMAIN,
      }),
  },
];

/** The service's HTTP API as a fastify plugin: every feature's routes, given the context and config. */
export const app = featureRoutes(features);
