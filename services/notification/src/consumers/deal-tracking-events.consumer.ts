import { dealTrackingEvents, streams } from '@citydeals/contracts';
import { defineConsumer, on } from '@citydeals/messaging';
import { newEventId, systemClock } from '@citydeals/service-kit';
import type { QueueSignal } from '@citydeals/work-queue';
import type { Database } from '../db/database.ts';
import { recordDealNews } from '../deal-news/deal-news.repository.ts';
import type { DirectDeliveries } from '../webhooks/delivery.handoff.ts';
import { queueWebhookMessages, queueWebhookMessagesForEvents } from '../webhooks/delivery.service.ts';

/**
 * Every deal-tracking event becomes one webhook message per subscribed endpoint, recorded in the inbox
 * transaction; the delivery worker sends them, those handed to it through `direct` as soon as the
 * transaction commits. Phase changes, results and lessons also go into the deal news that the last reminder
 * before a meeting carries (deal-news/). (NATS durable names cannot contain dots, hence the dashes.)
 */
export function dealTrackingEventsConsumer(signal: QueueSignal, direct?: DirectDeliveries) {
  const deps = { clock: systemClock, newId: newEventId, signal, direct };
  return defineConsumer<Database>({
    name: 'notification-deal-tracking-events',
    stream: streams.deal_tracking,
    filterSubject: 'deal_tracking.>',
    // Safe to batch: the handlers insert messages (one statement per event, or per run of events of one
    // type) and lock no row another event needs. The delivery signal's NOTIFY throttle counts handler calls,
    // not transactions; a wake-up that comes before the batch commits only costs latency (the workers poll).
    batch: { maxEvents: 64, maxWaitMs: 5 },
    afterCommit: () => signal.flush(),
    handlers: Object.values(dealTrackingEvents).map((definition) =>
      on<Database, typeof definition>(
        definition,
        async (trx, event) => {
          await queueWebhookMessages(trx, event, definition.subject, deps);
          await recordDealNews(trx, [event]);
        },
        // A run of consecutive events of this type in a batch: one statement for all of them.
        async (trx, events) => {
          await queueWebhookMessagesForEvents(
            trx,
            events.map((event) => ({ event, eventSubject: definition.subject })),
            deps,
          );
          await recordDealNews(trx, events);
        },
      ),
    ),
  });
}
