import { activeDealPhases } from '@citydeals/contracts';
import type { Kysely } from 'kysely';
import type { Database, RegistrationStatusColumn } from '../db/database.ts';

/** Active deals with no registration in one of `statuses` for the meeting, by name. */
export function dealsWithoutRegistration(
  db: Kysely<Database>,
  meetingId: string,
  statuses: readonly RegistrationStatusColumn[],
) {
  return db
    .selectFrom('deals as d')
    .select(['d.id', 'd.name', 'd.kind', 'd.phase'])
    .where('d.phase', 'in', [...activeDealPhases])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('registration as r')
            .select('r.id')
            .whereRef('r.deal_id', '=', 'd.id')
            .where('r.meeting_id', '=', meetingId)
            .where('r.status', 'in', [...statuses]),
        ),
      ),
    )
    .orderBy('d.name')
    .execute();
}
