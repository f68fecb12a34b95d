import { type Actor, attendeeDetailsChanged, attendeeSubstituted } from '@citydeals/contracts';
import { enqueueEvent } from '@citydeals/messaging';
import { HttpProblem, problems } from '@citydeals/service-kit';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import { dealExists } from '../deals/deal.repository.ts';
import {
  hashManageToken,
  manageUrl,
  manageUrlWithoutToken,
  newManageToken,
} from '../manage-links/manage-token.ts';
import { lockMeeting } from '../meetings/meeting.repository.ts';
import {
  findLiveRegistrationByEmail,
  findRegistration,
  lockRegistration,
  updateRegistration,
} from '../registrations/registration.repository.ts';
import type { AdminRegistration } from '../registrations/registration.schemas.ts';
import { emailKey, getAdminRegistration } from '../registrations/registration.service.ts';
import { attendeeSnapshot } from '../seats/seat.events.ts';
import { planAttendeeChange } from './attendee-change.rules.ts';
import type { AttendeeChangeBody } from './attendee-change.schemas.ts';

const isLiveEmailViolation = (err: unknown) =>
  (err as { code?: string; constraint?: string } | null)?.code === '23505' &&
  (err as { constraint?: string }).constraint === 'registration_one_live_per_email';

const addressTaken = () =>
  new HttpProblem(
    409,
    'already-registered',
    'Already registered',
    'this address already has a live registration for this meeting',
    {
      errors: [{ field: 'body.email', message: 'already registered for this meeting' }],
    },
  );

/**
 * The office corrects a registration's details, or hands its place to someone else. The seat (or waitlist
 * place) stays where it is, so no counter moves; the change and its event are one transaction.
 */
export async function changeAttendee(
  ctx: ServiceContext,
  registrationId: string,
  input: AttendeeChangeBody,
  by: Actor,
): Promise<AdminRegistration> {
  if (input.dealId && !(await dealExists(ctx.db, input.dealId))) {
    throw problems.validation([{ field: 'body.dealId', message: 'is not a known deal' }]);
  }
  try {
    await ctx.db.transaction().execute(async (trx) => {
      const peek = await findRegistration(trx, registrationId);
      if (!peek) throw problems.notFound(`registration ${registrationId}`);
      await lockMeeting(trx, peek.meeting_id);
      const row = (await lockRegistration(trx, registrationId))!;
      const plan = planAttendeeChange(
        {
          name: row.name ?? '',
          email: row.email ?? '',
          organisation: row.organisation,
          role: row.role,
          dealId: row.deal_id,
          status: row.status,
          erased: row.erased_at !== null,
        },
        input,
      );
      if (plan.kind === 'refused') {
        if (plan.status === 400)
          throw problems.validation([{ field: `body.${plan.field}`, message: plan.reason }]);
        throw new HttpProblem(409, 'invalid-status', 'Not possible in this status', plan.reason);
      }
      if (plan.kind === 'none') return;
      const key = emailKey(plan.next.email);
      if (key !== row.email_key) {
        const live = await findLiveRegistrationByEmail(trx, row.meeting_id, key);
        if (live && live.id !== row.id) throw addressTaken();
      }
      const now = ctx.clock.now();
      const details = {
        name: plan.next.name,
        email: plan.next.email.trim(),
        email_key: key,
        organisation: plan.next.organisation,
        role: plan.next.role,
        deal_id: plan.next.dealId,
        version: row.version + 1,
        updated_at: now,
      };
      if (plan.kind === 'details') {
        const updated = await updateRegistration(trx, row.id, details);
        await enqueueEvent(trx, attendeeDetailsChanged, {
          id: ctx.newId(),
          time: now,
          source: EVENT_SOURCE,
          subject: row.id,
          data: {
            ...attendeeSnapshot(updated, manageUrlWithoutToken(ctx.publicBaseUrl)),
            status: updated.status as 'confirmed' | 'waitlisted' | 'checked_in' | 'no_show',
            changedFields: plan.changedFields,
            changedBy: by,
          },
        });
        return;
      }
      // Someone else: their own link (the previous person's stops working), none of the previous needs.
      const token = newManageToken();
      const updated = await updateRegistration(trx, row.id, {
        ...details,
        token_hash: hashManageToken(token),
        dietary_needs: null,
        accessibility_needs: null,
        consent_photo: false,
        consent_attendee_list: false,
      });
      await enqueueEvent(trx, attendeeSubstituted, {
        id: ctx.newId(),
        time: now,
        source: EVENT_SOURCE,
        subject: row.id,
        data: {
          ...attendeeSnapshot(updated, manageUrl(ctx.publicBaseUrl, token)),
          status: 'confirmed',
          position: null,
          changedBy: by,
        },
      });
    });
  } catch (err) {
    if (isLiveEmailViolation(err)) throw addressTaken();
    throw err;
  }
  return getAdminRegistration(ctx, registrationId);
}
