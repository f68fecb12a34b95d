import { consumerFacts, emailFailed, type ServiceName, streams, webhookFailed } from '@citydeals/contracts';
import { type ConsumerDefinition, defineConsumer, on } from '@citydeals/messaging';
import * as alerts from '../alerts/alert.service.ts';
import type { Database } from '../db/database.ts';

/**
 * The consumers that turn operational facts into alerts (docs/alerts.md): notification's own mail and
 * webhook failures, and what every service reports about its consumers (dead letters, lag), each on its
 * publisher's stream. One durable per subject filter: NATS 2.9 has no multi-filter consumers, and a filter
 * on `notification.>` would pass every sent mail and delivered webhook through here.
 */
export function operationalAlertConsumers(deps: alerts.AlertDeps): ConsumerDefinition<Database>[] {
  const consumerFactsOf = (service: ServiceName, name: string) => {
    const facts = consumerFacts[service];
    return defineConsumer<Database>({
      name,
      stream: streams[service],
      filterSubject: `${service}.consumer.>`,
      handlers: [
        on<Database, typeof facts.deadLettered>(facts.deadLettered, async (trx, event) => {
          await alerts.consumerDeadLettered(trx, deps, service, event);
        }),
        on<Database, typeof facts.fellBehind>(facts.fellBehind, async (trx, event) => {
          await alerts.consumerFellBehind(trx, deps, service, event);
        }),
      ],
    });
  };
  return [
    defineConsumer<Database>({
      name: 'notification-alerts-mail',
      stream: streams.notification,
      filterSubject: emailFailed.subject,
      handlers: [
        on<Database, typeof emailFailed>(emailFailed, async (trx, event) => {
          await alerts.emailFailed(trx, deps, event);
        }),
      ],
    }),
    defineConsumer<Database>({
      name: 'notification-alerts-webhooks',
      stream: streams.notification,
      filterSubject: webhookFailed.subject,
      handlers: [
        on<Database, typeof webhookFailed>(webhookFailed, async (trx, event) => {
          await alerts.webhookFailed(trx, deps, event);
        }),
      ],
    }),
    consumerFactsOf('notification', 'notification-alerts-notification'),
    consumerFactsOf('registration', 'notification-alerts-registration'),
    consumerFactsOf('deal_tracking', 'notification-alerts-deal-tracking'),
  ];
}
