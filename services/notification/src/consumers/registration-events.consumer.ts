import { registrationEvents as e, streams } from '@citydeals/contracts';
import { defineConsumer, on } from '@citydeals/messaging';
import {
  type AttendeeChange,
  attendeeChanged,
  attendeeErased,
  attendeesChanged,
  confirmationRequested,
  meetingCancelled,
  meetingChanged,
  meetingRescheduled,
  meetingUpdated,
} from '../attendees/attendee-events.service.ts';
import type { Database } from '../db/database.ts';
import type { EmailContext } from '../email/email.context.ts';
import { messageRequested, messagesRequested } from '../messages/message.service.ts';
import { sessionPlaceGranted } from '../sessions/session-place.service.ts';

/**
 * Registration events feed the meeting and recipient read models, the reminder schedule and the mails.
 * Batched: a burst of registrations costs one transaction per batch instead of one per event, and a run of
 * attendee events of one kind a few statements in all (attendeesChanged). What can fail a
 * batch — `MeetingNotKnownYet` while meeting and attendee events race, a deadlock with a reschedule (attendee
 * handlers share-lock their meeting row) — rolls it back and the runner replays its events one by one, with
 * their own retries; that costs time in those rare cases, never an effect.
 */
export function registrationEventsConsumer(ctx: EmailContext) {
  return defineConsumer<Database>({
    name: 'notification-registration-events',
    stream: streams.registration,
    filterSubject: 'registration.>',
    batch: { maxEvents: 32, maxWaitMs: 5 },
    // The mails a batch queued go out as soon as it commits, not at the next trailing wake-up.
    afterCommit: () => ctx.mail.flush(),
    handlers: [
      on(e.meetingScheduled, (trx, event) => meetingChanged(trx, ctx, event.data)),
      on(e.meetingUpdated, (trx, event) => meetingUpdated(trx, ctx, event)),
      on(e.meetingRescheduled, (trx, event) => meetingRescheduled(trx, ctx, event)),
      on(e.meetingCancelled, (trx, event) => meetingCancelled(trx, ctx, event)),
      attendeeStep(ctx, e.attendeeRegistered, 'registered'),
      attendeeStep(ctx, e.attendeeWaitlisted, 'waitlisted'),
      attendeeStep(ctx, e.attendeePromoted, 'promoted'),
      attendeeStep(ctx, e.attendeeCancelled, 'cancelled'),
      on(e.attendeeCheckedIn, (trx, event) => attendeeChanged(trx, ctx, 'checked_in', event)),
      on(e.attendeeCheckInUndone, (trx, event) => attendeeChanged(trx, ctx, 'check_in_undone', event)),
      on(e.attendeeDetailsChanged, (trx, event) => attendeeChanged(trx, ctx, 'details_changed', event)),
      on(e.attendeeSubstituted, (trx, event) => attendeeChanged(trx, ctx, 'substituted', event)),
      // No mail; they keep the read model's version and status current.
      on(e.attendeeMarkedNoShow, (trx, event) => attendeeChanged(trx, ctx, 'marked_no_show', event)),
      on(e.attendeeNeedsChanged, (trx, event) => attendeeChanged(trx, ctx, 'needs_changed', event)),
      on(e.attendeeErased, (trx, event) => attendeeErased(trx, ctx, event)),
      on(e.attendeeLinkReissued, (trx, event) => attendeeChanged(trx, ctx, 'link_reissued', event)),
      on(e.attendeeConfirmationRequested, (trx, event) => confirmationRequested(trx, ctx, event)),
      on(e.attendeeSurveyRequested, (trx, event) => attendeeChanged(trx, ctx, 'survey_requested', event)),
      on(e.attendeeSeatOffered, (trx, event) => attendeeChanged(trx, ctx, 'seat_offered', event)),
      on(e.attendeeSessionPlaceGranted, (trx, event) => sessionPlaceGranted(trx, ctx, event)),
      on(
        e.attendeeMessageRequested,
        (trx, event) => messageRequested(trx, ctx, event),
        (trx, events) => messagesRequested(trx, ctx, events),
      ),
    ],
  });
}

/** One kind of step in a registration's life, with its set-based handler for runs of them. */
function attendeeStep(
  ctx: EmailContext,
  definition:
    | typeof e.attendeeRegistered
    | typeof e.attendeeWaitlisted
    | typeof e.attendeePromoted
    | typeof e.attendeeCancelled,
  change: AttendeeChange,
) {
  return on<Database, typeof definition>(
    definition,
    (trx, event) => attendeeChanged(trx, ctx, change, event),
    (trx, events) => attendeesChanged(trx, ctx, change, events),
  );
}
