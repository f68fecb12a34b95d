import { type AttendeeSnapshot, attendeeRegistered, attendeeWaitlisted } from '@citydeals/contracts';
import { type StatementEvent, statementEvent, statementEventWithCount } from '@citydeals/messaging';
import { EVENT_SOURCE, type ServiceContext } from '../context.ts';
import type { NewRegistration, RegistrationRow } from './seat.repository.ts';
import type { SeatDecision } from './seat.rules.ts';

/**
 * What every attendee event says about the registration. Only for registrations that still hold personal
 * data; erased ones announce nothing but their erasure.
 */
export function attendeeSnapshot(row: RegistrationRow, link: string): AttendeeSnapshot {
  if (row.name === null || row.email === null) throw new Error(`registration ${row.id} is erased`);
  return {
    registrationId: row.id,
    meetingId: row.meeting_id,
    version: row.version,
    status: row.status,
    name: row.name,
    email: row.email,
    language: row.language,
    position: null,
    dealId: row.deal_id,
    manageUrl: link,
  };
}

/**
 * The events of a new registration for `takeSeats` to write the one it decides (one event id: only one is
 * written), each validated against its contract: both, or only the one of the `expected` decision, for a
 * statement that then writes the registration only if it decides so (see `SeatRequest.expected`). The
 * waitlist position is decided by that statement under the meeting's row lock, so the waitlisted event is
 * validated with position 1 and the statement puts the position it decides in its place; a position is at
 * least 1, the first in line.
 */
export function seatEvents(
  ctx: Pick<ServiceContext, 'newId'>,
  meetingId: string,
  row: NewRegistration,
  link: string,
  expected?: SeatDecision['status'],
): StatementEvent[] {
  const event = { id: ctx.newId(), time: row.created_at, source: EVENT_SOURCE, subject: row.id };
  const data = {
    registrationId: row.id,
    meetingId,
    version: 1,
    name: row.name!,
    email: row.email!,
    language: row.language,
    dealId: row.deal_id,
    manageUrl: link,
  };
  const events: StatementEvent[] = [];
  if (expected !== 'waitlisted') {
    events.push(
      statementEvent(`${row.id}:confirmed`, attendeeRegistered, {
        ...event,
        data: { ...data, status: 'confirmed', position: null },
      }),
    );
  }
  if (expected !== 'confirmed') {
    events.push(
      statementEventWithCount(
        `${row.id}:waitlisted`,
        attendeeWaitlisted,
        { ...event, data: { ...data, status: 'waitlisted', position: 1 } },
        ['data', 'position'],
      ),
    );
  }
  return events;
}
