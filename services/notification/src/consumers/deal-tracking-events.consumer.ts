import { dealTrackingEvents, streams } from '@citydeals/contracts';
import { defineConsumer, on } from '@citydeals/messaging';
import { newEventId, systemClock } from '@citydeals/service-kit';
import type { Database } from '../db/database.ts';
import { queueWebhookMessages } from '../webhooks/delivery.service.ts';
import { deliverySignal } from '../webhooks/delivery.signal.ts';

/**
 * Every deal-tracking event becomes one webhook message per subscribed endpoint, recorded in the inbox
 * transaction; the delivery worker sends them. (NATS durable names cannot contain dots, hence the dashes.)
 */
export const dealTrackingEventsConsumer = defineConsumer<Database>({
  name: 'notification-deal-tracking-events',
  stream: streams.deal_tracking,
  filterSubject: 'deal_tracking.>',
  // Safe to batch: the handler is one insert per event and locks no row another event needs. The delivery
  // signal's NOTIFY throttle counts handler calls, not transactions; a wake-up that comes before the batch
  // commits only costs latency (the workers poll).
  batch: { maxEvents: 64, maxWaitMs: 5 },
  handlers: Object.values(dealTrackingEvents).map((definition) =>
    on<Database, typeof definition>(definition, async (trx, event) => {
      await queueWebhookMessages(trx, event, definition.subject, {
        clock: systemClock,
        newId: newEventId,
        signal: deliverySignal,
      });
    }),
  ),
});
