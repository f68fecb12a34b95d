import { personErased, streams } from '@citydeals/contracts';
import { defineConsumer, on } from '@citydeals/messaging';
import { newEventId, systemClock } from '@citydeals/service-kit';
import type { Database } from '../db/database.ts';
import { eraseContact } from '../privacy/contact-erasure.service.ts';

/** One erasure request reaches every store: the person is removed as a deal contact too. */
export function personErasedConsumer(digestKey: Buffer | undefined) {
  return defineConsumer<Database>({
    name: 'deal-tracking-person-erasures',
    stream: streams.registration,
    filterSubject: personErased.subject,
    handlers: [
      on(personErased, async (trx, event) => {
        await eraseContact(
          trx,
          { db: trx, clock: systemClock, newId: newEventId },
          event.data.emailDigest,
          digestKey,
        );
      }),
    ],
  });
}
