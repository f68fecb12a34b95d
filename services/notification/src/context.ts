import type {
  Clock,
  FeatureOptions,
  ServiceContext as KitServiceContext,
  ServicePlugin,
} from '@citydeals/service-kit';
import type { QueueSignal } from '@citydeals/work-queue';
import type { Config } from './config.ts';
import type { Database } from './db/database.ts';
import type { EmailContext } from './email/email.context.ts';
import type { DirectDeliveries } from './webhooks/delivery.handoff.ts';
import type { EndpointDeps } from './webhooks/endpoint.service.ts';

/**
 * The service's one context: what its routes, consumers, workers and functions need from outside, injected
 * so tests can fix the clock and ids. `clock` is the real time; the email feature's part carries the clock of
 * reminder schedules, which configuration may shift (demos).
 */
export interface ServiceContext extends KitServiceContext<Database> {
  /** Sender identity, unsubscribe links, the schedule clock and the signal that mails were queued. */
  readonly email: EmailContext;
  /** Tells the webhook delivery workers that messages were queued (see `deliverySignal`). */
  readonly deliveries: QueueSignal;
  /** The webhook endpoints' secret cipher, allow-list and rotation grace. */
  readonly webhooks: EndpointDeps;
  /** The hand-off of webhook messages from this instance's consumer to its delivery worker. */
  readonly directDeliveries: DirectDeliveries;
  /** The clock of the once-per-window rule of operational alerts (tests move it). */
  readonly alertClock: Clock;
}

/** The routes of a feature: a fastify plugin given the context and the config. */
export type Routes = ServicePlugin<FeatureOptions<ServiceContext, Config>>;
