import { type Actor, attendeeCheckInUndone } from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import { HttpProblem, problems } from '@citydeals/service-kit';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import { manageUrlWithoutToken } from '../manage-links/manage-token.ts';
import { lockMeeting } from '../meetings/meeting.repository.ts';
import { findRegistration, lockRegistration } from '../registrations/registration.repository.ts';
import type { AdminRegistration } from '../registrations/registration.schemas.ts';
import { getAdminRegistration } from '../registrations/registration.service.ts';
import { attendeeSnapshot } from '../seats/seat.events.ts';
import { changeSeat } from '../seats/seat.service.ts';
import { undoCheckInTransition } from './check-in.rules.ts';

/** Takes a check-in back: confirmed again, seat kept, announced with who did it. */
export async function undoCheckIn(
  ctx: ServiceContext,
  registrationId: string,
  by: Actor,
): Promise<AdminRegistration> {
  await ctx.db.transaction().execute(async (trx) => {
    const peek = await findRegistration(trx, registrationId);
    if (!peek) throw problems.notFound(`registration ${registrationId}`);
    // The lock order used everywhere: the meeting, then the registration.
    await lockMeeting(trx, peek.meeting_id);
    const registration = (await lockRegistration(trx, registrationId))!;
    const transition = registration.erased_at
      ? { ok: false as const, reason: 'an erased registration has no check-in to undo' }
      : undoCheckInTransition(registration.status);
    if (!transition.ok)
      throw new HttpProblem(409, 'invalid-status', 'Not possible in this status', transition.reason);
    if (!transition.changed) return;
    const now = ctx.clock.now();
    const row = await changeSeat(trx, registration, {
      status: 'confirmed',
      version: registration.version + 1,
      checked_in_at: null,
      updated_at: now,
    });
    await enqueueEvent(trx, attendeeCheckInUndone, {
      id: ctx.newId(),
      time: now,
      source: EVENT_SOURCE,
      subject: row.id,
      data: {
        ...attendeeSnapshot(row, manageUrlWithoutToken(ctx.publicBaseUrl)),
        status: 'confirmed',
        position: null,
        previousCheckedInAt: registration.checked_in_at!.toISOString(),
        undoneAt: now.toISOString(),
        undoneBy: by,
      },
    });
  });
  return getAdminRegistration(ctx, registrationId);
}
