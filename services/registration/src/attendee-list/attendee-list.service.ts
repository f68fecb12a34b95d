import { HttpProblem, problems } from '@citydeals/service-kit';
import type { ServiceContext } from '../context.ts';
import { hashManageToken } from '../manage-links/manage-token.ts';
import { findRegistrationByTokenHash } from '../registrations/registration.repository.ts';
import { listListedAttendees } from './attendee-list.repository.ts';
import { mayViewList } from './attendee-list.rules.ts';

export interface ListedAttendee {
  name: string;
  organisation: string | null;
  deal: { id: string; name: string } | null;
  /** The viewer's own entry. */
  you: boolean;
}

/**
 * The "who else is coming" list of the meeting of the registration behind a manage link: only an attendee
 * of that meeting sees it, and only people who consented appear on it.
 */
export async function attendeeListFor(
  ctx: ServiceContext,
  token: string,
): Promise<{ meetingId: string; attendees: ListedAttendee[] }> {
  const own = await findRegistrationByTokenHash(ctx.db, hashManageToken(token));
  // One answer for unknown and erased links, so a guess learns nothing.
  if (!own) throw problems.notFound('a registration with this link');
  if (!mayViewList(own.status)) {
    throw new HttpProblem(
      403,
      'attendee-list-closed',
      'Attendee list not open to you',
      'the attendee list is open to the attendees of the meeting; this registration was cancelled',
    );
  }
  const rows = await listListedAttendees(ctx.db, own.meeting_id);
  return {
    meetingId: own.meeting_id,
    attendees: rows.map((r) => ({
      name: r.name ?? '',
      organisation: r.organisation,
      deal: r.deal_id && r.deal_name ? { id: r.deal_id, name: r.deal_name } : null,
      you: r.id === own.id,
    })),
  };
}
