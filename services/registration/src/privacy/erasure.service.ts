import { attendeeErased, personErased } from '@citydeals/contracts';
import { deleteEventsAbout, enqueueEvent } from '@citydeals/messaging';
import { emailDigest } from '@citydeals/service-kit';
import { eraseConfirmationRequestsOf } from '../address-confirmation/address-confirmation.service.ts';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import { lockMeeting } from '../meetings/meeting.repository.ts';
import { eraseAnswersOf } from '../questions/question.repository.ts';
import {
  findExpiredRegistrations,
  findRegistrationsByEmailKey,
  lockRegistration,
} from '../registrations/registration.repository.ts';
import { emailKey } from '../registrations/registration.service.ts';
import { changeSeat, promoteFromWaitlist } from '../seats/seat.service.ts';
import { eraseSurveyOf } from '../survey/survey.repository.ts';

/**
 * Anonymises one registration: personal data and the manage token go, status and role stay for the counts.
 * A live seat or waitlist place of a meeting still to come is given up (promoting the next in line) without
 * a cancellation event: that event would carry the very address being erased.
 */
async function eraseRegistration(
  ctx: ServiceContext,
  registrationId: string,
  meetingId: string,
): Promise<boolean> {
  return ctx.db.transaction().execute(async (trx) => {
    const meeting = (await lockMeeting(trx, meetingId))!;
    const row = await lockRegistration(trx, registrationId);
    if (!row || row.erased_at) return false;
    const now = ctx.clock.now();
    const givesUp = (row.status === 'confirmed' || row.status === 'waitlisted') && now < meeting.ends_at;
    await changeSeat(trx, row, {
      version: row.version + 1,
      name: null,
      email: null,
      email_key: null,
      organisation: null,
      dietary_needs: null,
      accessibility_needs: null,
      token_hash: null,
      erased_at: now,
      updated_at: now,
      ...(givesUp
        ? { status: 'cancelled' as const, cancelled_at: now, cancelled_by: 'system' as const }
        : {}),
    });
    // Answers the person gave their name with go with them; anonymous ones cannot be told apart.
    await eraseSurveyOf(trx, row.id);
    await eraseAnswersOf(trx, row.id);
    // Outbox copies hold the name and address too. Unpublished ones go as well: a person who asked to be
    // forgotten needs no confirmation, and consumers treat the erasure of someone unknown as a tombstone.
    await deleteEventsAbout(trx, row.id);
    await enqueueEvent(trx, attendeeErased, {
      id: ctx.newId(),
      time: now,
      source: EVENT_SOURCE,
      subject: row.id,
      data: { registrationId: row.id, meetingId: row.meeting_id, version: row.version + 1 },
    });
    // A waiting registration gives up the seat its open offer held, if it had one.
    if (givesUp) await promoteFromWaitlist(trx, ctx, meeting);
    return true;
  });
}

/**
 * Erases every registration of an address, each in its own short transaction, then announces the person's
 * erasure (by the keyed digest of the address, never the address) so that the other services erase what
 * they hold about them, registrations or not. A request that fails half-way is repeated by the caller:
 * what was erased stays erased, and the announcement comes once everything is.
 */
export async function eraseByEmail(
  ctx: ServiceContext,
  email: string,
  digestKey: Buffer | undefined,
): Promise<string[]> {
  const found = await findRegistrationsByEmailKey(ctx.db, emailKey(email));
  const erased: string[] = [];
  for (const r of found) {
    if (await eraseRegistration(ctx, r.id, r.meeting_id)) erased.push(r.id);
  }
  // Requests still waiting for the address to be confirmed hold the address too.
  await eraseConfirmationRequestsOf(ctx, emailKey(email));
  const erasureId = ctx.newId();
  await ctx.db.transaction().execute((trx) =>
    enqueueEvent(trx, personErased, {
      id: ctx.newId(),
      time: ctx.clock.now(),
      source: EVENT_SOURCE,
      subject: erasureId,
      data: { erasureId, version: 1, emailDigest: emailDigest(email, digestKey), registrationIds: erased },
    }),
  );
  return erased;
}

/** Retention: anonymises registrations of meetings that ended more than `months` months ago. */
export async function eraseExpired(ctx: ServiceContext, months: number): Promise<number> {
  if (months <= 0) return 0;
  const cutoff = ctx.clock.now();
  cutoff.setUTCMonth(cutoff.getUTCMonth() - months);
  let total = 0;
  for (;;) {
    const batch = await findExpiredRegistrations(ctx.db, cutoff, 200);
    if (batch.length === 0) return total;
    for (const r of batch) if (await eraseRegistration(ctx, r.id, r.meeting_id)) total += 1;
  }
}
