import { attendeeSeatOffered } from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import type { Transaction } from 'kysely';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import type { Database } from '../db/database.ts';
import { hashManageToken, manageUrlWithoutToken, newManageToken } from '../manage-links/manage-token.ts';
import type { MeetingRow } from '../meetings/meeting.repository.ts';
import { attendeeSnapshot } from '../seats/seat.events.ts';
import { type RegistrationRow, updateRegistrationRow, waitlistPositionOf } from '../seats/seat.repository.ts';
import { insertOffer } from './offer.repository.ts';
import { offerWindowMs } from './offer.rules.ts';

/** The page behind the offer mail's link (pages/offer-page.routes.ts). */
export const OFFER_PATH = '/aanmelding/plek';

/**
 * Holds a seat for each of `waiting` (the next in line, chosen by `promoteFromWaitlist` under the meeting
 * lock) and announces each offer with its single-use accept link; only the link's hash is kept. Kept apart
 * from offer.service.ts because the seats module calls it, and the answers to offers call the seats module.
 */
export async function makeOffers(
  trx: Transaction<Database>,
  ctx: ServiceContext,
  meeting: Pick<MeetingRow, 'id' | 'starts_at' | 'offer_hours'>,
  waiting: readonly RegistrationRow[],
): Promise<void> {
  const now = ctx.clock.now();
  const expiresAt = new Date(
    now.getTime() + offerWindowMs({ offerHours: meeting.offer_hours, startsAt: meeting.starts_at, now }),
  );
  for (const registration of waiting) {
    const token = newManageToken();
    const offerId = ctx.newId();
    await insertOffer(trx, {
      id: offerId,
      meeting_id: meeting.id,
      registration_id: registration.id,
      token_hash: hashManageToken(token),
      status: 'open',
      offered_at: now,
      expires_at: expiresAt,
    });
    // The event is a step of the registration, so the registration moves to a new version with it.
    const row = await updateRegistrationRow(trx, registration.id, {
      version: registration.version + 1,
      updated_at: now,
    });
    await enqueueEvent(trx, attendeeSeatOffered, {
      id: ctx.newId(),
      time: now,
      source: EVENT_SOURCE,
      subject: row.id,
      data: {
        ...attendeeSnapshot(row, manageUrlWithoutToken(ctx.publicBaseUrl)),
        status: 'waitlisted',
        position: await waitlistPositionOf(trx, meeting.id, row.seq),
        offerId,
        acceptUrl: `${ctx.publicBaseUrl}${OFFER_PATH}/${token}`,
        expiresAt: expiresAt.toISOString(),
      },
    });
  }
}
