import { publicMeetingEvents, streams } from '@citydeals/contracts';
import { defineConsumer, on } from '@citydeals/messaging';
import { newEventId, systemClock } from '@citydeals/service-kit';
import type { QueueSignal } from '@citydeals/work-queue';
import type { Database } from '../db/database.ts';
import { queueWebhookMessages } from '../webhooks/delivery.service.ts';

/**
 * Registration's public meeting events (no personal data by contract) become one webhook message per
 * subscribed endpoint, as deal events do (see deal-tracking-events.consumer.ts). A durable of its own, on
 * those subjects only: the attendee events on the same stream, personal data and all, never reach the
 * webhook fan-out, and a backlog of mails does not hold up the website's seat levels.
 */
export function publicMeetingEventsConsumer(signal: QueueSignal) {
  const deps = { clock: systemClock, newId: newEventId, signal };
  return defineConsumer<Database>({
    name: 'notification-public-meeting-events',
    stream: streams.registration,
    filterSubject: 'registration.public_meeting.>',
    batch: { maxEvents: 64, maxWaitMs: 5 },
    afterCommit: () => signal.flush(),
    handlers: Object.values(publicMeetingEvents).map((definition) =>
      on<Database, typeof definition>(definition, async (trx, event) => {
        await queueWebhookMessages(trx, event, definition.subject, deps);
      }),
    ),
  });
}
