import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import { listedStatuses } from './attendee-list.rules.ts';

/** The attendees of a meeting who appear on its list (see appearsOnList), by name. */
export function listListedAttendees(db: Kysely<Database>, meetingId: string) {
  return db
    .selectFrom('registration as r')
    .leftJoin('deals as d', 'd.id', 'r.deal_id')
    .select(['r.id', 'r.name', 'r.organisation', 'r.deal_id', 'd.name as deal_name'])
    .where('r.meeting_id', '=', meetingId)
    .where('r.status', 'in', listedStatuses)
    .where('r.consent_attendee_list', '=', true)
    .where('r.erased_at', 'is', null)
    .orderBy('r.name')
    .orderBy('r.seq')
    .execute();
}
