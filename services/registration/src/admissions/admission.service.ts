import { attendeeRegistered } from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import { HttpProblem, problems } from '@citydeals/service-kit';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import { dealExists } from '../deals/deal.repository.ts';
import { hashManageToken, manageUrl, newManageToken } from '../manage-links/manage-token.ts';
import { lockMeeting } from '../meetings/meeting.repository.ts';
import { findLiveRegistrationByEmail, findRegistration } from '../registrations/registration.repository.ts';
import type { AdminRegistration } from '../registrations/registration.schemas.ts';
import { emailKey, getAdminRegistration } from '../registrations/registration.service.ts';
import { attendeeSnapshot } from '../seats/seat.events.ts';
import { countAdmittedSeat } from '../seats/seat.service.ts';
import { decideAdmission } from './admission.rules.ts';
import type { AdmitInput } from './admission.schemas.ts';

const isLiveEmailViolation = (err: unknown) =>
  (err as { code?: string; constraint?: string } | null)?.code === '23505' &&
  (err as { constraint?: string }).constraint === 'registration_one_live_per_email';

function alreadyRegistered(registrationId: string) {
  return new HttpProblem(
    409,
    'already-registered',
    'Already registered',
    'this address already has a live registration for this meeting',
    { registrationId, errors: [{ field: 'body.email', message: 'already registered for this meeting' }] },
  );
}

/**
 * The office registers someone itself (a speaker, a guest, someone who phoned): confirmed at once, also above
 * capacity when asked, regardless of the registration window; they get the usual confirmation mail with their
 * own manage link.
 */
export async function admitAttendee(
  ctx: ServiceContext,
  meetingId: string,
  input: AdmitInput,
): Promise<AdminRegistration> {
  if (input.dealId && !(await dealExists(ctx.db, input.dealId))) {
    throw problems.validation([{ field: 'body.dealId', message: 'is not a known deal' }]);
  }
  const key = emailKey(input.email);
  const id = ctx.newId();
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const meeting = await lockMeeting(trx, meetingId);
      if (!meeting) throw problems.notFound(`meeting ${meetingId}`);
      const live = await findLiveRegistrationByEmail(trx, meetingId, key);
      if (live) throw alreadyRegistered(live.id);
      const decision = decideAdmission({
        status: meeting.status,
        capacity: meeting.capacity,
        seatsTaken: meeting.seats_taken,
        waitlistLength: meeting.waitlist_length,
        overCapacity: input.overCapacity,
      });
      if (!decision.ok) {
        throw new HttpProblem(409, 'no-seat', 'No seat', decision.reason, {
          errors: [{ field: 'body.overCapacity', message: decision.reason }],
        });
      }
      const now = ctx.clock.now();
      const token = newManageToken();
      await trx
        .insertInto('registration')
        .values({
          id,
          meeting_id: meetingId,
          version: 1,
          status: 'confirmed',
          name: input.name,
          email: input.email.trim(),
          email_key: key,
          organisation: input.organisation,
          role: input.role,
          deal_id: input.dealId,
          dietary_needs: input.dietaryNeeds || null,
          accessibility_needs: input.accessibilityNeeds || null,
          consent_photo: false,
          consent_attendee_list: false,
          language: input.language ?? meeting.language,
          token_hash: hashManageToken(token),
          created_at: now,
          updated_at: now,
          confirmed_at: now,
        })
        .execute();
      await countAdmittedSeat(trx, meetingId);
      const row = (await findRegistration(trx, id))!;
      await enqueueEvent(trx, attendeeRegistered, {
        id: ctx.newId(),
        time: now,
        source: EVENT_SOURCE,
        subject: id,
        data: {
          ...attendeeSnapshot(row, manageUrl(ctx.publicBaseUrl, token)),
          status: 'confirmed',
          position: null,
        },
      });
    });
  } catch (err) {
    if (isLiveEmailViolation(err)) {
      const live = await findLiveRegistrationByEmail(ctx.db, meetingId, key);
      if (live) throw alreadyRegistered(live.id);
    }
    throw err;
  }
  return getAdminRegistration(ctx, id);
}
