import { attendeeErased, personalSubjectsOf, streams } from '@citydeals/contracts';
import { defineConsumer, eraseSubjects, on, type StreamAccess } from '@citydeals/messaging';
import type { Database } from '../db/database.ts';

/**
 * Erases an erased registration's events with personal data (name, address, manage link, needs) from this
 * service's own stream, where they would otherwise stay for its whole retention (see eraseSubjects). It runs on the erasure
 * event as it comes back from the stream: the relay publishes in outbox order, so by then every earlier
 * event of the registration is in the stream to be erased, and none can follow (the erasure deleted the
 * unpublished ones). The erasure event itself carries no personal data and stays, for the consumers that
 * have not read it yet.
 */
export function erasurePurgeConsumer(access: StreamAccess) {
  return defineConsumer<Database>({
    name: 'registration-erasure-purge',
    stream: streams.registration,
    filterSubject: attendeeErased.subject,
    handlers: [
      on(attendeeErased, async (_trx, event) => {
        await eraseSubjects(
          access,
          streams.registration,
          personalSubjectsOf('registration.attendee', event.data.registrationId),
        );
      }),
    ],
  });
}
