import { personErased, streams } from '@citydeals/contracts';
import { defineConsumer, on } from '@citydeals/messaging';
import type { ServiceContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { eraseContact } from '../privacy/contact-erasure.service.ts';

/** One erasure request reaches every store: the person is removed as a deal contact too. */
export function personErasedConsumer(ctx: ServiceContext, digestKey: Buffer | undefined) {
  return defineConsumer<Database>({
    name: 'deal-tracking-person-erasures',
    stream: streams.registration,
    filterSubject: personErased.subject,
    handlers: [
      on(personErased, async (trx, event) => {
        await eraseContact(trx, { ...ctx, db: trx }, event.data.emailDigest, digestKey);
      }),
    ],
  });
}
