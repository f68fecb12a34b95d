import { dealTrackingEvents, streams } from '@citydeals/contracts';
import { defineConsumer, on } from '@citydeals/messaging';
import { newEventId, systemClock } from '@citydeals/service-kit';
import type { Database } from '../db/database.ts';
import { queueWebhookMessages } from '../webhooks/delivery.service.ts';

/**
 * Every deal-tracking event becomes one webhook message per subscribed endpoint, recorded in the inbox
 * transaction; the delivery worker sends them. (NATS durable names cannot contain dots, hence the dashes.)
 */
export const dealTrackingEventsConsumer = defineConsumer<Database>({
  name: 'notification-deal-tracking-events',
  stream: streams.deal_tracking,
  filterSubject: 'deal_tracking.>',
  handlers: Object.values(dealTrackingEvents).map((definition) =>
    on<Database, typeof definition>(definition, async (trx, event) => {
      await queueWebhookMessages(trx, event, definition.subject, { clock: systemClock, newId: newEventId });
    }),
  ),
});
