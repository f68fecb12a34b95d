import {
  type Clock,
  createService,
  newEventId,
  type ServiceDefinition,
  systemClock,
} from '@citydeals/service-kit';
import { app, features } from './app.ts';
import type { Config } from './config.ts';
import type { ServiceContext } from './context.ts';
import type { Database } from './db/database.ts';
import { migrations } from './db/migrations.ts';
import { emailContextFor } from './email/email.module.ts';
import { registerDeliveryMetrics } from './operations/delivery.metrics.ts';
import { DirectDeliveries } from './webhooks/delivery.handoff.ts';
import { deliverySignal } from './webhooks/delivery.signal.ts';
import { endpointDepsOf } from './webhooks/webhook.context.ts';

export const definition: ServiceDefinition<Database, Config, ServiceContext> = {
  service: 'notification',
  migrations,
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
  context: ({ runtime, config, clock }) => ({
    db: runtime.db,
    clock,
    newId: newEventId,
    email: emailContextFor(config, clock),
    deliveries: deliverySignal(),
    webhooks: endpointDepsOf(runtime, config),
    directDeliveries: new DirectDeliveries(),
    alertClock: systemClock,
  }),
  features,
  app,
  async started({ runtime }) {
    registerDeliveryMetrics(runtime.metrics.registry, runtime.db);
  },
};

/**
 * `clock` replaces the system clock of reminder schedules and mail expiry, `alertClock` that of the
 * once-per-window rule of alerts (tests).
 */
export function startService(config: Config, options: { clock?: Clock; alertClock?: Clock } = {}) {
  const { alertClock, ...rest } = options;
  if (!alertClock) return createService(definition, config, rest);
  return createService(
    { ...definition, context: (parts) => ({ ...definition.context(parts), alertClock }) },
    config,
    rest,
  );
}
